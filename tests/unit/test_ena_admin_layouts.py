"""The admin/AENQ byte layouts against the C structs of ena_admin_defs.h: every member's
offset and the struct size, computed by ctypes from the C declarations (natural
alignment, as the C compiler lays them out), and the flag masks against the C macros."""

from __future__ import annotations

import ctypes as ct

import numpy as np
import pytest

from impl.ena_defs import mgmt_layouts as m

u8, u16, u32, u64 = ct.c_uint8, ct.c_uint16, ct.c_uint32, ct.c_uint64


def S(*fields: tuple) -> type[ct.Structure]:
    return type("S", (ct.Structure,), {"_fields_": list(fields)})


MemAddr = S(("mem_addr_low", u32), ("mem_addr_high", u16), ("reserved16", u16))
CtrlBuff = S(("length", u32), ("address", MemAddr))
AqCommon = S(("command_id", u16), ("opcode", u8), ("flags", u8))
AcqCommon = S(("command", u16), ("status", u8), ("flags", u8), ("extended_status", u16),
              ("sq_head_indx", u16))
FeatCommon = S(("flags", u8), ("feature_id", u8), ("feature_version", u8),
               ("reserved8", u8))
AenqCommon = S(("group", u16), ("syndrome", u16), ("flags", u8), ("reserved1", u8 * 3),
               ("timestamp_low", u32), ("timestamp_high", u32))
ProtoInput = S(("fields", u16), ("reserved2", u16))

C = {
    "AQ_ENTRY": (S(("aq_common_descriptor", AqCommon), ("inline_data_w1", u32 * 3),
                   ("inline_data_w4", u32 * 12)), 64),
    "ACQ_ENTRY": (S(("acq_common_descriptor", AcqCommon),
                    ("response_specific_data", u32 * 14)), 64),
    "CREATE_SQ_CMD": (S(("aq_common_descriptor", AqCommon), ("sq_identity", u8),
                        ("reserved8_w1", u8), ("sq_caps_2", u8), ("sq_caps_3", u8),
                        ("cq_idx", u16), ("sq_depth", u16), ("sq_ba", MemAddr),
                        ("sq_head_writeback", MemAddr), ("reserved0_w7", u32),
                        ("reserved0_w8", u32)), 36),
    "CREATE_SQ_RESP": (S(("acq_common_desc", AcqCommon), ("sq_idx", u16), ("reserved", u16),
                         ("sq_doorbell_offset", u32), ("llq_descriptors_offset", u32),
                         ("llq_headers_offset", u32)), 24),
    "DESTROY_SQ_CMD": (S(("aq_common_descriptor", AqCommon), ("sq_idx", u16),
                         ("sq_identity", u8), ("reserved1", u8)), 8),
    "CREATE_CQ_CMD": (S(("aq_common_descriptor", AqCommon), ("cq_caps_1", u8),
                        ("cq_caps_2", u8), ("cq_depth", u16), ("msix_vector", u32),
                        ("cq_ba", MemAddr)), 20),
    "CREATE_CQ_RESP": (S(("acq_common_desc", AcqCommon), ("cq_idx", u16),
                         ("cq_actual_depth", u16), ("numa_node_register_offset", u32),
                         ("cq_head_db_register_offset", u32),
                         ("cq_interrupt_unmask_register_offset", u32)), 24),
    "DESTROY_CQ_CMD": (S(("aq_common_descriptor", AqCommon), ("cq_idx", u16),
                         ("reserved1", u16)), 8),
    "GET_STATS_CMD": (S(("aq_common_descriptor", AqCommon), ("control_buffer", CtrlBuff),
                        ("type", u8), ("scope", u8), ("reserved3", u16), ("queue_idx", u16),
                        ("device_id", u16), ("requested_metrics", u64)), 32),
    "GET_STATS_RESP": (S(("acq_common_desc", AcqCommon), ("basic_stats", S(*[
        (f"{n}_{h}", u32) for n in ("tx_bytes", "tx_pkts", "rx_bytes", "rx_pkts", "rx_drops",
                                    "tx_drops", "rx_overruns") for h in ("low", "high")]))),
                       64),
    "GET_FEAT_CMD": (S(("aq_common_descriptor", AqCommon), ("control_buffer", CtrlBuff),
                       ("feat_common", FeatCommon), ("raw", u32 * 11)), 64),
    "DEVICE_ATTR": (S(("impl_id", u32), ("device_version", u32), ("supported_features", u32),
                      ("capabilities", u32), ("phys_addr_width", u32),
                      ("virt_addr_width", u32), ("mac_addr", u8 * 6), ("reserved7", u8 * 2),
                      ("max_mtu", u32)), 36),
    "LLQ": (S(("max_llq_num", u32), ("max_llq_depth", u32),
              ("header_location_ctrl_supported", u16), ("header_location_ctrl_enabled", u16),
              ("entry_size_ctrl_supported", u16), ("entry_size_ctrl_enabled", u16),
              ("desc_num_before_header_supported", u16),
              ("desc_num_before_header_enabled", u16),
              ("descriptors_stride_ctrl_supported", u16),
              ("descriptors_stride_ctrl_enabled", u16), ("feature_version", u8),
              ("entry_size_recommended", u8), ("max_wide_llq_depth", u16),
              ("accel_mode", u32 * 2)), 36),
    "MAX_QUEUES_EXT": (S(("version", u8), ("reserved1", u8 * 3), ("max_tx_sq_num", u32),
                         ("max_tx_cq_num", u32), ("max_rx_sq_num", u32),
                         ("max_rx_cq_num", u32), ("max_tx_sq_depth", u32),
                         ("max_tx_cq_depth", u32), ("max_rx_sq_depth", u32),
                         ("max_rx_cq_depth", u32), ("max_tx_header_size", u32),
                         ("max_per_packet_tx_descs", u16),
                         ("max_per_packet_rx_descs", u16)), 44),
    "MAX_QUEUES": (S(("max_sq_num", u32), ("max_sq_depth", u32), ("max_cq_num", u32),
                     ("max_cq_depth", u32), ("max_legacy_llq_num", u32),
                     ("max_legacy_llq_depth", u32), ("max_header_size", u32),
                     ("max_packet_tx_descs", u16), ("max_packet_rx_descs", u16)), 32),
    "HOST_ATTR": (S(("os_info_ba", MemAddr), ("debug_ba", MemAddr),
                    ("debug_area_size", u32)), 20),
    "AENQ_FEAT": (S(("supported_groups", u32), ("enabled_groups", u32)), 8),
    "OFFLOAD": (S(("tx", u32), ("rx_supported", u32), ("rx_enabled", u32)), 12),
    "HASH_FUNCTION": (S(("supported_func", u32), ("selected_func", u32),
                        ("init_val", u32)), 12),
    "HASH_INPUT": (S(("supported_input_sort", u16), ("enabled_input_sort", u16)), 4),
    "IND_TABLE": (S(("min_size", u16), ("max_size", u16), ("size", u16), ("flags", u8),
                    ("reserved", u8), ("inline_index", u32), ("inline_entry_cq_idx", u16),
                    ("inline_entry_reserved", u16)), 16),
    "HW_HINTS": (S(("mmio_read_timeout", u16), ("driver_watchdog_timeout", u16),
                   ("missing_tx_completion_timeout", u16),
                   ("missed_tx_completion_count_threshold_to_reset", u16),
                   ("admin_completion_tx_timeout", u16), ("netdev_wd_timeout", u16),
                   ("max_tx_sgl_size", u16), ("max_rx_sgl_size", u16),
                   ("reserved", u16 * 8)), 32),
    "HASH_CONTROL": (S(("key_parts", u32), ("reserved", u32), ("key", u32 * 10)), 48),
    "HASH_CTRL": (S(("supported_fields", ProtoInput * 16), ("selected_fields", ProtoInput * 16),
                    ("reserved2", ProtoInput * 16), ("reserved3", ProtoInput * 16)), 256),
    "AENQ_ENTRY": (S(("aenq_common_desc", AenqCommon), ("inline_data_w4", u32 * 12)), 64),
    "KEEP_ALIVE": (S(("aenq_common_desc", AenqCommon), ("rx_drops_low", u32),
                     ("rx_drops_high", u32), ("tx_drops_low", u32), ("tx_drops_high", u32),
                     ("rx_overruns_low", u32), ("rx_overruns_high", u32)), 40),
    "LINK_CHANGE": (S(("aenq_common_desc", AenqCommon), ("flags", u32)), 20),
}


@pytest.mark.parametrize("name", sorted(C))
def test_layout_matches_the_c_struct(name: str) -> None:
    cstruct, csize = C[name]
    dt: np.dtype = getattr(m, f"{name}_DTYPE")
    assert ct.sizeof(cstruct) == csize
    # the 64-byte command/response records are the C struct padded to a whole entry
    assert dt.itemsize in (csize, m.ENTRY_SIZE)
    assert list(dt.names or ()) == [f[0] for f in cstruct._fields_]
    for member, ctype in cstruct._fields_:
        assert dt.fields[member][1] == getattr(cstruct, member).offset, member
        assert dt.fields[member][0].itemsize == ct.sizeof(ctype), member


def test_common_descriptors_and_responses_are_whole_entries() -> None:
    for name in ("AQ_ENTRY", "ACQ_ENTRY", "CREATE_SQ_CMD", "CREATE_SQ_RESP", "CREATE_CQ_CMD",
                 "CREATE_CQ_RESP", "DESTROY_SQ_CMD", "DESTROY_CQ_CMD", "GET_STATS_CMD",
                 "GET_STATS_RESP", "GET_FEAT_CMD", "AENQ_ENTRY", "KEEP_ALIVE", "LINK_CHANGE"):
        assert getattr(m, f"{name}_DTYPE").itemsize == 64, name
    # the feature descriptor unions: u starts at 20 in a SET, at 8 in a GET response
    assert m.GET_FEAT_CMD_DTYPE.fields["raw"][1] == m.FEAT_CMD_BODY_OFF == 20
    assert m.FEAT_CMD_BODY_OFF + m.FEAT_CMD_BODY_SIZE == 64
    assert m.FEAT_RESP_BODY_OFF + m.FEAT_RESP_BODY_SIZE == 64
    for dt in m.FEATURE_DTYPES.values():
        assert dt.itemsize <= m.FEAT_CMD_BODY_SIZE


def test_flag_masks_match_the_c_macros() -> None:
    c = {m.AQ_COMMAND_ID: 0xFFF, m.AQ_PHASE: 0x1, m.AQ_CTRL_DATA: 0x2,
         m.AQ_CTRL_DATA_INDIRECT: 0x4, m.ACQ_COMMAND_ID: 0xFFF, m.ACQ_PHASE: 0x1,
         m.SQ_DIRECTION: 0xE0, m.SQ_PLACEMENT_POLICY: 0xF, m.SQ_COMPLETION_POLICY: 0x70,
         m.SQ_PHYSICALLY_CONTIGUOUS: 0x1, m.CQ_INTERRUPT_MODE_ENABLED: 0x20,
         m.CQ_ENTRY_SIZE_WORDS: 0x1F, m.FEAT_SELECT: 0x3, m.IND_TABLE_ONE_ENTRY_UPDATE: 0x1,
         m.AENQ_PHASE: 0x1, m.LINK_STATUS: 0x1, m.HASH_INPUT_L3_SORT: 0x2,
         m.HASH_INPUT_L4_SORT: 0x4}
    for field, mask in c.items():
        assert field.mask == mask, field


def test_mem_addr_split_keeps_48_bits() -> None:
    rec = np.zeros(1, m.CREATE_CQ_CMD_DTYPE)
    m.set_addr(rec, "cq_ba", 0xABCD_1234_5678)
    assert int(rec["cq_ba"]["mem_addr_low"][0]) == 0x1234_5678
    assert int(rec["cq_ba"]["mem_addr_high"][0]) == 0xABCD
    assert m.get_addr(rec, "cq_ba") == 0xABCD_1234_5678
    assert m.as_entry(rec).size == 64
    with pytest.raises(ValueError):
        m.as_entry(np.zeros(1, m.MTU_DTYPE))
