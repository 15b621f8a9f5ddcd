"""Byte layouts of the management-plane structures shared by driver and device, as numpy
structured dtypes with the members, offsets and sizes of the C structs in
``ena-com/ena_defs/ena_admin_defs.h`` (little-endian).

* ``struct ena_admin_ena_mmio_req_read_less_resp`` (8 B), the readless read response
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L1291
* the admin SQ/CQ entries and every command, response and feature descriptor the
  simulator implements (64-byte entries), the indirect control buffers, and the AENQ entry
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L196
* the flag fields (``ENA_ADMIN_*_SHIFT``/``_MASK``)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L1321
"""

from __future__ import annotations

import numpy as np

from impl.ena_defs.bitfield import Field
from impl.ena_defs.constants import AdminOpcode

READLESS_RESP_DTYPE = np.dtype([("req_id", "<u2"), ("reg_off", "<u2"), ("reg_val", "<u4")])
READLESS_POISON = 0xDEAD
"""ena_com poisons ``req_id`` with ``seq_num + 0xDEAD`` before each request."""


# -- admin queue entries (struct ena_admin_aq_entry / ena_admin_acq_entry, 64 B each)
#   https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L196

ENTRY_SIZE = 64
"""Every admin SQ, admin CQ and AENQ entry is 64 bytes."""


def _struct(members: list[tuple], size: int | None = None) -> np.dtype:
    """A packed little-endian struct, padded to ``size`` bytes if given (the members'
    natural alignment already leaves no holes; the unit test checks every offset)."""
    dt = np.dtype(members, align=False)
    if size is not None and dt.itemsize != size:
        names = list(dt.names or ())
        dt = np.dtype({"names": names, "formats": [dt.fields[n][0] for n in names],
                       "offsets": [dt.fields[n][1] for n in names], "itemsize": size})
    return dt


MEM_ADDR_DTYPE = _struct([("mem_addr_low", "<u4"), ("mem_addr_high", "<u2"),
                          ("reserved16", "<u2")])
"""``struct ena_common_mem_addr`` (ena_common_defs.h): a 48-bit DMA address."""
CTRL_BUFF_DTYPE = _struct([("length", "<u4"), ("address", MEM_ADDR_DTYPE)])
"""``struct ena_admin_ctrl_buff_info``: an indirect control buffer."""
AQ_COMMON_DTYPE = _struct([("command_id", "<u2"), ("opcode", "u1"), ("flags", "u1")])
ACQ_COMMON_DTYPE = _struct([("command", "<u2"), ("status", "u1"), ("flags", "u1"),
                            ("extended_status", "<u2"), ("sq_head_indx", "<u2")])
AQ_ENTRY_DTYPE = _struct([("aq_common_descriptor", AQ_COMMON_DTYPE),
                          ("inline_data_w1", "<u4", (3,)),
                          ("inline_data_w4", "<u4", (12,))])
ACQ_ENTRY_DTYPE = _struct([("acq_common_descriptor", ACQ_COMMON_DTYPE),
                           ("response_specific_data", "<u4", (14,))])

CREATE_SQ_CMD_DTYPE = _struct([
    ("aq_common_descriptor", AQ_COMMON_DTYPE), ("sq_identity", "u1"),
    ("reserved8_w1", "u1"), ("sq_caps_2", "u1"), ("sq_caps_3", "u1"), ("cq_idx", "<u2"),
    ("sq_depth", "<u2"), ("sq_ba", MEM_ADDR_DTYPE), ("sq_head_writeback", MEM_ADDR_DTYPE),
    ("reserved0_w7", "<u4"), ("reserved0_w8", "<u4")], ENTRY_SIZE)
CREATE_SQ_RESP_DTYPE = _struct([
    ("acq_common_desc", ACQ_COMMON_DTYPE), ("sq_idx", "<u2"), ("reserved", "<u2"),
    ("sq_doorbell_offset", "<u4"), ("llq_descriptors_offset", "<u4"),
    ("llq_headers_offset", "<u4")], ENTRY_SIZE)
DESTROY_SQ_CMD_DTYPE = _struct([
    ("aq_common_descriptor", AQ_COMMON_DTYPE), ("sq_idx", "<u2"), ("sq_identity", "u1"),
    ("reserved1", "u1")], ENTRY_SIZE)
"""``struct ena_admin_aq_destroy_sq_cmd``: the common descriptor, then ``ena_admin_sq``."""
CREATE_CQ_CMD_DTYPE = _struct([
    ("aq_common_descriptor", AQ_COMMON_DTYPE), ("cq_caps_1", "u1"), ("cq_caps_2", "u1"),
    ("cq_depth", "<u2"), ("msix_vector", "<u4"), ("cq_ba", MEM_ADDR_DTYPE)], ENTRY_SIZE)
CREATE_CQ_RESP_DTYPE = _struct([
    ("acq_common_desc", ACQ_COMMON_DTYPE), ("cq_idx", "<u2"), ("cq_actual_depth", "<u2"),
    ("numa_node_register_offset", "<u4"), ("cq_head_db_register_offset", "<u4"),
    ("cq_interrupt_unmask_register_offset", "<u4")], ENTRY_SIZE)
DESTROY_CQ_CMD_DTYPE = _struct([
    ("aq_common_descriptor", AQ_COMMON_DTYPE), ("cq_idx", "<u2"), ("reserved1", "<u2")],
    ENTRY_SIZE)
GET_STATS_CMD_DTYPE = _struct([
    ("aq_common_descriptor", AQ_COMMON_DTYPE), ("control_buffer", CTRL_BUFF_DTYPE),
    ("type", "u1"), ("scope", "u1"), ("reserved3", "<u2"), ("queue_idx", "<u2"),
    ("device_id", "<u2"), ("requested_metrics", "<u8")], ENTRY_SIZE)
BASIC_STATS_DTYPE = _struct([(f"{n}_{half}", "<u4") for n in (
    "tx_bytes", "tx_pkts", "rx_bytes", "rx_pkts", "rx_drops", "tx_drops", "rx_overruns")
    for half in ("low", "high")])
"""``struct ena_admin_basic_stats``: seven 64-bit counters as low/high halves."""
GET_STATS_RESP_DTYPE = _struct([("acq_common_desc", ACQ_COMMON_DTYPE),
                                ("basic_stats", BASIC_STATS_DTYPE)], ENTRY_SIZE)

FEAT_COMMON_DTYPE = _struct([("flags", "u1"), ("feature_id", "u1"),
                             ("feature_version", "u1"), ("reserved8", "u1")])
"""``struct ena_admin_get_set_feature_common_desc``."""
GET_FEAT_CMD_DTYPE = _struct([
    ("aq_common_descriptor", AQ_COMMON_DTYPE), ("control_buffer", CTRL_BUFF_DTYPE),
    ("feat_common", FEAT_COMMON_DTYPE), ("raw", "<u4", (11,))])
SET_FEAT_CMD_DTYPE = GET_FEAT_CMD_DTYPE
"""``struct ena_admin_set_feat_cmd`` has the same layout; ``raw`` is its union ``u``."""
FEAT_CMD_BODY_OFF = 20
"""Offset of ``u`` (the feature's descriptor) in a SET_FEATURE command."""
FEAT_RESP_BODY_OFF = 8
"""Offset of ``u`` in a GET_FEATURE response (after the ACQ common descriptor)."""
FEAT_CMD_BODY_SIZE = 44
FEAT_RESP_BODY_SIZE = 56

# -- feature descriptors (the union members of get_feat_resp / set_feat_cmd)
DEVICE_ATTR_DTYPE = _struct([
    ("impl_id", "<u4"), ("device_version", "<u4"), ("supported_features", "<u4"),
    ("capabilities", "<u4"), ("phys_addr_width", "<u4"), ("virt_addr_width", "<u4"),
    ("mac_addr", "u1", (6,)), ("reserved7", "u1", (2,)), ("max_mtu", "<u4")])
LLQ_DTYPE = _struct([
    ("max_llq_num", "<u4"), ("max_llq_depth", "<u4"),
    ("header_location_ctrl_supported", "<u2"), ("header_location_ctrl_enabled", "<u2"),
    ("entry_size_ctrl_supported", "<u2"), ("entry_size_ctrl_enabled", "<u2"),
    ("desc_num_before_header_supported", "<u2"), ("desc_num_before_header_enabled", "<u2"),
    ("descriptors_stride_ctrl_supported", "<u2"), ("descriptors_stride_ctrl_enabled", "<u2"),
    ("feature_version", "u1"), ("entry_size_recommended", "u1"),
    ("max_wide_llq_depth", "<u2"), ("accel_mode", "<u4", (2,))])
"""``struct ena_admin_feature_llq_desc``; ``accel_mode`` word 0 is
``{supported_flags u16, max_tx_burst_size u16}`` on GET, ``{enabled_flags, reserved}`` on
SET."""
LLQ_ENTRY_SIZE_BITS = {128: 1, 192: 2, 256: 4}
"""``enum ena_admin_llq_ring_entry_size``: the entry size in bytes -> its control bit."""
LLQ_INLINE_HEADER = 1
"""``ENA_ADMIN_INLINE_HEADER``."""
LLQ_MULTIPLE_DESCS_PER_ENTRY = 2
"""``ENA_ADMIN_MULTIPLE_DESCS_PER_ENTRY``."""
LLQ_DESCS_BEFORE_HEADER_2 = 2
"""``ENA_ADMIN_LLQ_NUM_DESCS_BEFORE_HEADER_2``."""
MAX_QUEUES_EXT_DTYPE = _struct([
    ("version", "u1"), ("reserved1", "u1", (3,)),
    ("max_tx_sq_num", "<u4"), ("max_tx_cq_num", "<u4"), ("max_rx_sq_num", "<u4"),
    ("max_rx_cq_num", "<u4"), ("max_tx_sq_depth", "<u4"), ("max_tx_cq_depth", "<u4"),
    ("max_rx_sq_depth", "<u4"), ("max_rx_cq_depth", "<u4"), ("max_tx_header_size", "<u4"),
    ("max_per_packet_tx_descs", "<u2"), ("max_per_packet_rx_descs", "<u2")])
"""``struct ena_admin_queue_ext_feature_desc`` (version, then the ext fields)."""
MAX_QUEUES_DTYPE = _struct([
    ("max_sq_num", "<u4"), ("max_sq_depth", "<u4"), ("max_cq_num", "<u4"),
    ("max_cq_depth", "<u4"), ("max_legacy_llq_num", "<u4"), ("max_legacy_llq_depth", "<u4"),
    ("max_header_size", "<u4"), ("max_packet_tx_descs", "<u2"),
    ("max_packet_rx_descs", "<u2")])
MTU_DTYPE = _struct([("mtu", "<u4")])
HOST_ATTR_DTYPE = _struct([("os_info_ba", MEM_ADDR_DTYPE), ("debug_ba", MEM_ADDR_DTYPE),
                           ("debug_area_size", "<u4")])
AENQ_FEAT_DTYPE = _struct([("supported_groups", "<u4"), ("enabled_groups", "<u4")])
OFFLOAD_DTYPE = _struct([("tx", "<u4"), ("rx_supported", "<u4"), ("rx_enabled", "<u4")])
HASH_FUNCTION_DTYPE = _struct([("supported_func", "<u4"), ("selected_func", "<u4"),
                               ("init_val", "<u4")])
HASH_INPUT_DTYPE = _struct([("supported_input_sort", "<u2"), ("enabled_input_sort", "<u2")])
IND_TABLE_DTYPE = _struct([
    ("min_size", "<u2"), ("max_size", "<u2"), ("size", "<u2"), ("flags", "u1"),
    ("reserved", "u1"), ("inline_index", "<u4"), ("inline_entry_cq_idx", "<u2"),
    ("inline_entry_reserved", "<u2")])
"""``struct ena_admin_feature_rss_ind_table`` (``inline_entry`` flattened)."""
HW_HINTS_DTYPE = _struct([
    ("mmio_read_timeout", "<u2"), ("driver_watchdog_timeout", "<u2"),
    ("missing_tx_completion_timeout", "<u2"),
    ("missed_tx_completion_count_threshold_to_reset", "<u2"),
    ("admin_completion_tx_timeout", "<u2"), ("netdev_wd_timeout", "<u2"),
    ("max_tx_sgl_size", "<u2"), ("max_rx_sgl_size", "<u2"), ("reserved", "<u2", (8,))])
LINK_DTYPE = _struct([("speed", "<u4"), ("supported", "<u4"), ("flags", "<u4")])
INTR_MODER_DTYPE = _struct([("intr_delay_resolution", "<u2"), ("reserved", "<u2")])

# -- indirect control buffers
HASH_CONTROL_DTYPE = _struct([("key_parts", "<u4"), ("reserved", "<u4"),
                              ("key", "<u4", (10,))])
"""``struct ena_admin_feature_rss_flow_hash_control``: the RSS key (10 words)."""
PROTO_INPUT_DTYPE = _struct([("fields", "<u2"), ("reserved2", "<u2")])
HASH_CTRL_DTYPE = _struct([("supported_fields", PROTO_INPUT_DTYPE, (16,)),
                           ("selected_fields", PROTO_INPUT_DTYPE, (16,)),
                           ("reserved2", PROTO_INPUT_DTYPE, (16,)),
                           ("reserved3", PROTO_INPUT_DTYPE, (16,))])
"""``struct ena_admin_feature_rss_hash_control`` (256 B): hash input fields per protocol."""
IND_TABLE_ENTRY_DTYPE = _struct([("cq_idx", "<u2"), ("reserved", "<u2")])

FEATURE_DTYPES: dict[int, np.dtype] = {
    1: DEVICE_ATTR_DTYPE, 2: MAX_QUEUES_DTYPE, 3: HW_HINTS_DTYPE, 4: LLQ_DTYPE,
    7: MAX_QUEUES_EXT_DTYPE, 10: HASH_FUNCTION_DTYPE, 11: OFFLOAD_DTYPE,
    12: IND_TABLE_DTYPE, 14: MTU_DTYPE, 18: HASH_INPUT_DTYPE, 20: INTR_MODER_DTYPE,
    26: AENQ_FEAT_DTYPE, 27: LINK_DTYPE, 28: HOST_ATTR_DTYPE,
}
"""The descriptor of each feature id the simulator implements."""
RESPONSE_DTYPES: dict[int, np.dtype] = {
    AdminOpcode.CREATE_SQ: CREATE_SQ_RESP_DTYPE, AdminOpcode.CREATE_CQ: CREATE_CQ_RESP_DTYPE,
    AdminOpcode.GET_STATS: GET_STATS_RESP_DTYPE,
}
"""The whole ACQ entry of each opcode whose completion carries more than the common
descriptor (a GET_FEATURE's carries its feature's descriptor of :data:`FEATURE_DTYPES` at
:data:`FEAT_RESP_BODY_OFF`; the other completions only the status)."""

# -- AENQ entries (struct ena_admin_aenq_entry, 64 B)
AENQ_COMMON_DTYPE = _struct([("group", "<u2"), ("syndrome", "<u2"), ("flags", "u1"),
                             ("reserved1", "u1", (3,)), ("timestamp_low", "<u4"),
                             ("timestamp_high", "<u4")])
AENQ_ENTRY_DTYPE = _struct([("aenq_common_desc", AENQ_COMMON_DTYPE),
                            ("inline_data_w4", "<u4", (12,))])
KEEP_ALIVE_DTYPE = _struct([("aenq_common_desc", AENQ_COMMON_DTYPE),
                            ("rx_drops_low", "<u4"), ("rx_drops_high", "<u4"),
                            ("tx_drops_low", "<u4"), ("tx_drops_high", "<u4"),
                            ("rx_overruns_low", "<u4"), ("rx_overruns_high", "<u4")],
                           ENTRY_SIZE)
LINK_CHANGE_DTYPE = _struct([("aenq_common_desc", AENQ_COMMON_DTYPE), ("flags", "<u4")],
                            ENTRY_SIZE)

# -- flag fields (ENA_ADMIN_*_MASK)
AQ_COMMAND_ID = Field("command_id", 0, 12)
AQ_PHASE = Field("flags", 0, 1)
AQ_CTRL_DATA = Field("flags", 1, 1)
AQ_CTRL_DATA_INDIRECT = Field("flags", 2, 1)
ACQ_COMMAND_ID = Field("command", 0, 12)
ACQ_PHASE = Field("flags", 0, 1)
SQ_DIRECTION = Field("sq_identity", 5, 3)
SQ_PLACEMENT_POLICY = Field("sq_caps_2", 0, 4)
SQ_COMPLETION_POLICY = Field("sq_caps_2", 4, 3)
SQ_PHYSICALLY_CONTIGUOUS = Field("sq_caps_3", 0, 1)
CQ_INTERRUPT_MODE_ENABLED = Field("cq_caps_1", 5, 1)
CQ_ENTRY_SIZE_WORDS = Field("cq_caps_2", 0, 5)
FEAT_SELECT = Field("flags", 0, 2)
HASH_INPUT_L3_SORT = Field("enabled_input_sort", 1, 1)
HASH_INPUT_L4_SORT = Field("enabled_input_sort", 2, 1)
IND_TABLE_ONE_ENTRY_UPDATE = Field("flags", 0, 1)
AENQ_PHASE = Field("flags", 0, 1)
LINK_STATUS = Field("flags", 0, 1)


def zeroed(dtype: np.dtype) -> np.ndarray:
    """One zeroed record of ``dtype`` (what ``memset(&cmd, 0, sizeof(cmd))`` gives)."""
    return np.zeros(1, dtype)


def as_entry(rec: np.ndarray) -> np.ndarray:
    """The 64 bytes of a command or response record."""
    raw = rec.view(np.uint8)
    if raw.size != ENTRY_SIZE:
        raise ValueError(f"an admin entry is {ENTRY_SIZE} bytes, got {raw.size}")
    return raw


def view_as(raw: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The 64 bytes ``raw`` read as one record of ``dtype`` (a copy)."""
    return np.frombuffer(bytes(raw[:dtype.itemsize]), dtype=dtype).copy()


def set_addr(rec: np.ndarray, member: str, addr: int) -> None:
    """``ena_com_mem_addr_set``: low 32 bits, then bits 47:32."""
    rec[member]["mem_addr_low"] = addr & 0xFFFFFFFF
    rec[member]["mem_addr_high"] = (addr >> 32) & 0xFFFF


def get_addr(rec: np.ndarray, member: str) -> int:
    m = rec[member]
    return int(m["mem_addr_low"][0]) | (int(m["mem_addr_high"][0]) << 32)
