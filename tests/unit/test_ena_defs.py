"""impl/ena_defs against the C: every member's offset and size (computed by ctypes from
the C declarations, member by member, as the C compiler lays them out), every flag mask
(transcribed from the ``SHIFT``/``MASK`` macros of ena_eth_io_defs.h), register offsets,
and the req_id split."""

from __future__ import annotations

import ctypes as ct

import numpy as np
import pytest

from impl import ena_defs as d
from impl.ena_defs import regs

# The C structs of ena_eth_io_defs.h, member by member (name, C type).
C_STRUCTS = {
    "tx_desc": [("len_ctrl", ct.c_uint32), ("meta_ctrl", ct.c_uint32),
                ("buff_addr_lo", ct.c_uint32), ("buff_addr_hi_hdr_sz", ct.c_uint32)],
    "tx_meta_desc": [("len_ctrl", ct.c_uint32), ("word1", ct.c_uint32), ("word2", ct.c_uint32),
                     ("reserved", ct.c_uint32)],
    "tx_cdesc": [("req_id", ct.c_uint16), ("status", ct.c_uint8), ("flags", ct.c_uint8),
                 ("sub_qid", ct.c_uint16), ("sq_head_idx", ct.c_uint16)],
    "rx_desc": [("length", ct.c_uint16), ("reserved2", ct.c_uint8), ("ctrl", ct.c_uint8),
                ("req_id", ct.c_uint16), ("reserved6", ct.c_uint16),
                ("buff_addr_lo", ct.c_uint32), ("buff_addr_hi", ct.c_uint16),
                ("reserved16_w3", ct.c_uint16)],
    "rx_cdesc_base": [("status", ct.c_uint32), ("length", ct.c_uint16), ("req_id", ct.c_uint16),
                      ("hash", ct.c_uint32), ("sub_qid", ct.c_uint16), ("offset", ct.c_uint8),
                      ("reserved", ct.c_uint8)],
    "intr_reg": [("intr_control", ct.c_uint32)],
}
DTYPES = {
    "tx_desc": d.TX_DESC_DTYPE, "tx_meta_desc": d.TX_META_DESC_DTYPE,
    "tx_cdesc": d.TX_CDESC_DTYPE, "rx_desc": d.RX_DESC_DTYPE,
    "rx_cdesc_base": d.RX_CDESC_DTYPE, "intr_reg": d.INTR_REG_DTYPE,
}
SIZES = {"tx_desc": 16, "tx_meta_desc": 16, "tx_cdesc": 8, "rx_desc": 16, "rx_cdesc_base": 16,
         "intr_reg": 4}


@pytest.mark.parametrize("name", sorted(C_STRUCTS))
def test_every_member_has_the_c_offset_and_size(name: str) -> None:
    cstruct = type(name, (ct.LittleEndianStructure,), {"_fields_": C_STRUCTS[name]})
    dtype = DTYPES[name]
    assert list(dtype.names) == [m for m, _ in C_STRUCTS[name]]
    for member, ctype in C_STRUCTS[name]:
        offset, size = getattr(cstruct, member).offset, ct.sizeof(ctype)
        assert dtype.fields[member][1] == offset, (name, member)
        assert dtype.fields[member][0].itemsize == size, (name, member)
        assert dtype.fields[member][0].byteorder in ("<", "|", "=")
    assert dtype.itemsize == ct.sizeof(cstruct) == SIZES[name]


@pytest.mark.parametrize("entry,header", [(128, 96), (256, 224)])
def test_llq_entry_is_two_descriptors_then_the_header(entry: int, header: int) -> None:
    dt = d.llq_entry_dtype(entry)
    assert dt.itemsize == entry
    assert dt.fields["descs"][1] == 0 and dt.fields["descs"][0].itemsize == 32
    assert dt.fields["header"][1] == 32 and dt.fields["header"][0].itemsize == header
    assert {128: d.LLQ_HEADER, 256: d.LLQ_LARGE_HEADER}[entry] == header
    assert d.llq_descs_per_entry(entry) == entry // 16
    with pytest.raises(ValueError):
        d.llq_entry_dtype(192)


def bit(n: int) -> int:
    return 1 << n


def genmask(h: int, lo: int) -> int:
    return ((1 << (h - lo + 1)) - 1) << lo


# The MASK macros of ena_eth_io_defs.h, transcribed.
C_MASKS = {
    d.TxDesc.LENGTH: genmask(15, 0), d.TxDesc.REQ_ID_HI: genmask(21, 16),
    d.TxDesc.META_DESC: bit(23), d.TxDesc.PHASE: bit(24), d.TxDesc.FIRST: bit(26),
    d.TxDesc.LAST: bit(27), d.TxDesc.COMP_REQ: bit(28), d.TxDesc.L3_PROTO_IDX: genmask(3, 0),
    d.TxDesc.DF: bit(4), d.TxDesc.TSO_EN: bit(7), d.TxDesc.L4_PROTO_IDX: genmask(12, 8),
    d.TxDesc.L3_CSUM_EN: bit(13), d.TxDesc.L4_CSUM_EN: bit(14),
    d.TxDesc.ETHERNET_FCS_DIS: bit(15), d.TxDesc.L4_CSUM_PARTIAL: bit(17),
    d.TxDesc.REQ_ID_LO: genmask(31, 22), d.TxDesc.ADDR_HI: genmask(15, 0),
    d.TxDesc.HEADER_LENGTH: genmask(31, 24),
    d.TxMetaDesc.REQ_ID_LO: genmask(9, 0), d.TxMetaDesc.EXT_VALID: bit(14),
    d.TxMetaDesc.MSS_HI: genmask(19, 16), d.TxMetaDesc.ETH_META_TYPE: bit(20),
    d.TxMetaDesc.META_STORE: bit(21), d.TxMetaDesc.META_DESC: bit(23),
    d.TxMetaDesc.PHASE: bit(24), d.TxMetaDesc.FIRST: bit(26), d.TxMetaDesc.LAST: bit(27),
    d.TxMetaDesc.COMP_REQ: bit(28), d.TxMetaDesc.REQ_ID_HI: genmask(5, 0),
    d.TxMetaDesc.L3_HDR_LEN: genmask(7, 0), d.TxMetaDesc.L3_HDR_OFF: genmask(15, 8),
    d.TxMetaDesc.L4_HDR_LEN_IN_WORDS: genmask(21, 16), d.TxMetaDesc.MSS_LO: genmask(31, 22),
    d.TxCdesc.PHASE: bit(0), d.TxCdesc.MBZ6: genmask(7, 6),
    d.RxDesc.PHASE: bit(0), d.RxDesc.FIRST: bit(2), d.RxDesc.LAST: bit(3),
    d.RxDesc.COMP_REQ: bit(4),
    d.RxCdesc.L3_PROTO_IDX: genmask(4, 0), d.RxCdesc.SRC_VLAN_CNT: genmask(6, 5),
    d.RxCdesc.MBZ7: bit(7), d.RxCdesc.L4_PROTO_IDX: genmask(12, 8),
    d.RxCdesc.L3_CSUM_ERR: bit(13), d.RxCdesc.L4_CSUM_ERR: bit(14),
    d.RxCdesc.IPV4_FRAG: bit(15), d.RxCdesc.L4_CSUM_CHECKED: bit(16),
    d.RxCdesc.MBZ17: bit(17), d.RxCdesc.PHASE: bit(24), d.RxCdesc.L3_CSUM2: bit(25),
    d.RxCdesc.FIRST: bit(26), d.RxCdesc.LAST: bit(27), d.RxCdesc.BUFFER: bit(30),
    d.IntrReg.RX_INTR_DELAY: genmask(14, 0), d.IntrReg.TX_INTR_DELAY: genmask(29, 15),
    d.IntrReg.INTR_UNMASK: bit(30), d.IntrReg.NO_MODERATION_UPDATE: bit(31),
}


def test_every_flag_has_the_c_mask() -> None:
    for field, mask in C_MASKS.items():
        assert field.mask == mask, field


def test_flag_words_exist_in_their_dtype() -> None:
    for cls in (d.TxDesc, d.TxMetaDesc, d.TxCdesc, d.RxDesc, d.RxCdesc, d.IntrReg):
        for value in vars(cls).values():
            if isinstance(value, d.Field):
                member = cls.dtype.fields[value.word][0]
                assert value.shift + value.width <= 8 * member.itemsize


def test_mbz_masks_are_the_reserved_bits() -> None:
    assert bit(22) | bit(25) | genmask(31, 29) == d.TxDesc.LEN_CTRL_MBZ
    assert genmask(13, 10) | bit(22) | bit(25) | genmask(31, 29) == d.TxMetaDesc.LEN_CTRL_MBZ
    assert bit(7) | bit(17) == d.RxCdesc.MBZ


def test_fields_roundtrip_over_arrays() -> None:
    rng = np.random.default_rng(0)
    words = rng.integers(0, 1 << 32, 1000, dtype=np.uint64).astype(np.uint32)
    fields = [f for f in C_MASKS if f.word == "len_ctrl" and f in vars(d.TxDesc).values()]
    rebuilt = np.zeros(words.size, dtype=np.uint64)
    for f in fields:
        rebuilt |= f.put(f.get(words))
    covered = sum(f.mask for f in fields)
    assert np.array_equal(rebuilt, words.astype(np.uint64) & covered)
    assert d.TxDesc.PHASE.put(3) == bit(24)  # masked to its width


def test_req_id_split_is_10_plus_6_bits() -> None:
    r = np.arange(1 << 16)
    lo, hi = d.split_req_id(r)
    assert lo.max() == 1023 and hi.max() == 63
    assert np.array_equal(d.join_req_id(lo, hi), r)
    desc = np.zeros(r.size, dtype=d.TX_DESC_DTYPE)
    desc["meta_ctrl"] = d.TxDesc.REQ_ID_LO.put(lo).astype(np.uint32)
    desc["len_ctrl"] = d.TxDesc.REQ_ID_HI.put(hi).astype(np.uint32)
    got = d.join_req_id(d.TxDesc.REQ_ID_LO.get(desc["meta_ctrl"]),
                        d.TxDesc.REQ_ID_HI.get(desc["len_ctrl"]))
    assert np.array_equal(got, r)
    assert int(desc["len_ctrl"][1 << 10]) == bit(16)  # id 1024: lo 0, hi 1


def test_register_offsets_from_ena_regs_defs() -> None:
    expected = {"VERSION": 0x0, "CONTROLLER_VERSION": 0x4, "CAPS": 0x8, "CAPS_EXT": 0xC,
                "AQ_BASE_LO": 0x10, "AQ_BASE_HI": 0x14, "AQ_CAPS": 0x18, "ACQ_BASE_LO": 0x20,
                "ACQ_BASE_HI": 0x24, "ACQ_CAPS": 0x28, "AQ_DB": 0x2C, "ACQ_TAIL": 0x30,
                "AENQ_CAPS": 0x34, "AENQ_BASE_LO": 0x38, "AENQ_BASE_HI": 0x3C,
                "AENQ_HEAD_DB": 0x40, "AENQ_TAIL": 0x44, "INTR_MASK": 0x4C, "DEV_CTL": 0x54,
                "DEV_STS": 0x58, "MMIO_REG_READ": 0x5C, "MMIO_RESP_LO": 0x60,
                "MMIO_RESP_HI": 0x64, "RSS_IND_ENTRY_UPDATE": 0x68, "PHC_DB": 0x100}
    assert expected == regs.REG_OFFSETS
    io = [regs.IO_DOORBELL_BASE, regs.IO_UNMASK_BASE, regs.IO_NUMA_BASE]
    assert min(io) > max(expected.values()) and max(io) < regs.REG_BAR_SIZE
    assert regs.DevCtl.RESET_REASON.mask == 0xF0000000
    assert regs.DevCtl.RESET_REASON_EXT.mask == 0x0F000000
    assert regs.Caps.DMA_ADDR_WIDTH.mask == 0xFF00


def test_constants() -> None:
    c = d.constants
    assert (c.TX_RESUME_THRESH, c.RX_RSS_TABLE_SIZE, c.HASH_KEY_SIZE) == (21, 128, 40)
    assert (c.io_txq_idx(3), c.io_rxq_idx(3), c.io_irq_idx(3)) == (6, 7, 4)
    assert (d.ResetReason.INV_RX_REQ_ID, d.ResetReason.INV_TX_REQ_ID,
            d.ResetReason.TOO_MANY_RX_DESCS, d.ResetReason.RX_DESCRIPTOR_MALFORMED,
            d.ResetReason.TX_DESCRIPTOR_MALFORMED) == (4, 5, 6, 16, 17)
    assert (d.L3Proto.IPV4, d.L3Proto.IPV6, d.L4Proto.TCP, d.L4Proto.UDP) == (8, 11, 12, 13)
    assert (d.PlacementPolicy.HOST, d.PlacementPolicy.DEV) == (1, 3)
    assert d.AqCaps.CDESC_MBZ == 4
