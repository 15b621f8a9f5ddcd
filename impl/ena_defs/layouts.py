"""Byte layouts of the ENA IO descriptors, as numpy structured dtypes.

Each dtype has exactly the members, offsets and size of the C struct in
``ena-com/ena_defs/ena_eth_io_defs.h`` (little-endian, as the device reads them), and each
flag is a :class:`~impl.ena_defs.bitfield.Field` named after its ``SHIFT``/``MASK`` macro:

* ``struct ena_eth_io_tx_desc`` (16 B)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L52
* ``struct ena_eth_io_tx_meta_desc`` (16 B)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L128
* ``struct ena_eth_io_tx_cdesc`` (8 B)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L176
* ``struct ena_eth_io_rx_desc`` (16 B)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L194
* ``struct ena_eth_io_rx_cdesc_base`` (16 B)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L228
* ``struct ena_eth_io_intr_reg`` (the CQ unmask register)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L291

An LLQ entry (128 or 256 B) is what ena_com's bounce buffer holds and copies to the LLQ
BAR: ``descs_num_before_header`` = 2 descriptors (bytes 0..31), then the pushed packet
header (up to ``ENA_LLQ_HEADER`` = 96 or ``ENA_LLQ_LARGE_HEADER`` = 224 bytes); entries
after a packet's first carry only descriptors (8 or 16 per entry):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L43
"""

from __future__ import annotations

import numpy as np

from impl.ena_defs.bitfield import Field


def _struct(members: list[tuple[str, str]]) -> np.dtype:
    """Packed little-endian struct; the members' natural alignment already leaves no holes
    in every ENA IO descriptor (the unit test checks this against the C layout rules)."""
    return np.dtype(members, align=False)


TX_DESC_DTYPE = _struct([
    ("len_ctrl", "<u4"), ("meta_ctrl", "<u4"), ("buff_addr_lo", "<u4"),
    ("buff_addr_hi_hdr_sz", "<u4"),
])
TX_META_DESC_DTYPE = _struct([
    ("len_ctrl", "<u4"), ("word1", "<u4"), ("word2", "<u4"), ("reserved", "<u4"),
])
TX_CDESC_DTYPE = _struct([
    ("req_id", "<u2"), ("status", "u1"), ("flags", "u1"), ("sub_qid", "<u2"),
    ("sq_head_idx", "<u2"),
])
RX_DESC_DTYPE = _struct([
    ("length", "<u2"), ("reserved2", "u1"), ("ctrl", "u1"), ("req_id", "<u2"),
    ("reserved6", "<u2"), ("buff_addr_lo", "<u4"), ("buff_addr_hi", "<u2"),
    ("reserved16_w3", "<u2"),
])
RX_CDESC_DTYPE = _struct([
    ("status", "<u4"), ("length", "<u2"), ("req_id", "<u2"), ("hash", "<u4"),
    ("sub_qid", "<u2"), ("offset", "u1"), ("reserved", "u1"),
])
INTR_REG_DTYPE = _struct([("intr_control", "<u4")])

DESC_SIZE = 16
"""Every TX/RX submission descriptor is 16 bytes (``sizeof(struct ena_eth_io_tx_desc)``)."""
LLQ_DESCS_BEFORE_HEADER = 2
"""``ENA_ADMIN_LLQ_NUM_DESCS_BEFORE_HEADER_2``: the FreeBSD driver's choice."""
LLQ_DESC_CHUNK = LLQ_DESCS_BEFORE_HEADER * DESC_SIZE
"""``ENA_LLQ_ENTRY_DESC_CHUNK_SIZE`` = 32: where the pushed header starts in an entry."""
LLQ_ENTRY_SIZES = (128, 256)
LLQ_HEADER = 128 - LLQ_DESC_CHUNK
"""``ENA_LLQ_HEADER`` = 96."""
LLQ_LARGE_HEADER = 256 - LLQ_DESC_CHUNK
"""``ENA_LLQ_LARGE_HEADER`` = 224."""


def llq_entry_dtype(entry_size: int) -> np.dtype:
    """The first LLQ entry of a packet: 2 descriptors then ``entry_size - 32`` header bytes."""
    if entry_size not in LLQ_ENTRY_SIZES:
        raise ValueError(f"LLQ entry size must be one of {LLQ_ENTRY_SIZES}, got {entry_size}")
    return np.dtype([("descs", TX_DESC_DTYPE, (LLQ_DESCS_BEFORE_HEADER,)),
                     ("header", "u1", (entry_size - LLQ_DESC_CHUNK,))])


LLQ_ENTRY_128_DTYPE = llq_entry_dtype(128)
LLQ_ENTRY_256_DTYPE = llq_entry_dtype(256)


def llq_descs_per_entry(entry_size: int) -> int:
    """Descriptors in an entry that carries no header: ``entry_size / 16`` (8 or 16)."""
    return entry_size // DESC_SIZE


REQ_ID_LO_BITS = 10
"""A TX req_id is split: bits 9:0 in ``meta_ctrl`` 31:22, bits 15:10 in ``len_ctrl`` 21:16."""


def split_req_id(req_id: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` = the 10 low and 6 high bits of a 16-bit req_id."""
    r = np.asarray(req_id).astype(np.int64)
    return r & ((1 << REQ_ID_LO_BITS) - 1), (r >> REQ_ID_LO_BITS) & 0x3F


def join_req_id(lo: np.ndarray | int, hi: np.ndarray | int) -> np.ndarray:
    """Inverse of :func:`split_req_id`."""
    return (np.asarray(hi).astype(np.int64) << REQ_ID_LO_BITS) | np.asarray(lo).astype(np.int64)


class TxDesc:
    """``struct ena_eth_io_tx_desc`` bit fields (``ENA_ETH_IO_TX_DESC_*``)."""

    dtype = TX_DESC_DTYPE
    LENGTH = Field("len_ctrl", 0, 16)
    REQ_ID_HI = Field("len_ctrl", 16, 6)
    RESERVED22 = Field("len_ctrl", 22, 1)
    META_DESC = Field("len_ctrl", 23, 1)
    PHASE = Field("len_ctrl", 24, 1)
    RESERVED1 = Field("len_ctrl", 25, 1)
    FIRST = Field("len_ctrl", 26, 1)
    LAST = Field("len_ctrl", 27, 1)
    COMP_REQ = Field("len_ctrl", 28, 1)
    RESERVED29 = Field("len_ctrl", 29, 2)
    RESERVED31 = Field("len_ctrl", 31, 1)
    L3_PROTO_IDX = Field("meta_ctrl", 0, 4)
    DF = Field("meta_ctrl", 4, 1)
    TSO_EN = Field("meta_ctrl", 7, 1)
    L4_PROTO_IDX = Field("meta_ctrl", 8, 5)
    L3_CSUM_EN = Field("meta_ctrl", 13, 1)
    L4_CSUM_EN = Field("meta_ctrl", 14, 1)
    ETHERNET_FCS_DIS = Field("meta_ctrl", 15, 1)
    L4_CSUM_PARTIAL = Field("meta_ctrl", 17, 1)
    RESERVED18 = Field("meta_ctrl", 18, 3)
    RESERVED21 = Field("meta_ctrl", 21, 1)
    REQ_ID_LO = Field("meta_ctrl", 22, 10)
    ADDR_HI = Field("buff_addr_hi_hdr_sz", 0, 16)
    HEADER_LENGTH = Field("buff_addr_hi_hdr_sz", 24, 8)
    LEN_CTRL_MBZ = (RESERVED22.mask | RESERVED1.mask | RESERVED29.mask | RESERVED31.mask)
    """``len_ctrl`` bits the C marks MBZ for every descriptor (``meta_desc`` is also MBZ on
    a data descriptor; it is how the device tells the two kinds apart)."""
    META_CTRL_MBZ = RESERVED18.mask | RESERVED21.mask


class TxMetaDesc:
    """``struct ena_eth_io_tx_meta_desc`` bit fields (``ENA_ETH_IO_TX_META_DESC_*``).

    ena_com writes no req_id into a meta descriptor; the fields exist in the layout."""

    dtype = TX_META_DESC_DTYPE
    REQ_ID_LO = Field("len_ctrl", 0, 10)
    EXT_VALID = Field("len_ctrl", 14, 1)
    MSS_HI = Field("len_ctrl", 16, 4)
    ETH_META_TYPE = Field("len_ctrl", 20, 1)
    META_STORE = Field("len_ctrl", 21, 1)
    META_DESC = Field("len_ctrl", 23, 1)
    PHASE = Field("len_ctrl", 24, 1)
    FIRST = Field("len_ctrl", 26, 1)
    LAST = Field("len_ctrl", 27, 1)
    COMP_REQ = Field("len_ctrl", 28, 1)
    REQ_ID_HI = Field("word1", 0, 6)
    L3_HDR_LEN = Field("word2", 0, 8)
    L3_HDR_OFF = Field("word2", 8, 8)
    L4_HDR_LEN_IN_WORDS = Field("word2", 16, 6)
    MSS_LO = Field("word2", 22, 10)
    LEN_CTRL_MBZ = (0b1111 << 10) | (1 << 22) | (1 << 25) | (0b111 << 29)
    """Bits 13:10, 22, 25, 31:29 of ``len_ctrl`` (``reserved10/12/13/22/25/29/31``)."""


class TxCdesc:
    """``struct ena_eth_io_tx_cdesc`` flags (``ENA_ETH_IO_TX_CDESC_*``, member ``flags``)."""

    dtype = TX_CDESC_DTYPE
    PHASE = Field("flags", 0, 1)
    MBZ6 = Field("flags", 6, 2)


class RxDesc:
    """``struct ena_eth_io_rx_desc`` control bits (``ENA_ETH_IO_RX_DESC_*``, member ``ctrl``)."""

    dtype = RX_DESC_DTYPE
    PHASE = Field("ctrl", 0, 1)
    RESERVED1 = Field("ctrl", 1, 1)
    FIRST = Field("ctrl", 2, 1)
    LAST = Field("ctrl", 3, 1)
    COMP_REQ = Field("ctrl", 4, 1)
    RESERVED5_MBO = Field("ctrl", 5, 1)
    RESERVED6 = Field("ctrl", 6, 2)


class RxCdesc:
    """``struct ena_eth_io_rx_cdesc_base`` status bits (``ENA_ETH_IO_RX_CDESC_BASE_*``)."""

    dtype = RX_CDESC_DTYPE
    L3_PROTO_IDX = Field("status", 0, 5)
    SRC_VLAN_CNT = Field("status", 5, 2)
    MBZ7 = Field("status", 7, 1)
    L4_PROTO_IDX = Field("status", 8, 5)
    L3_CSUM_ERR = Field("status", 13, 1)
    L4_CSUM_ERR = Field("status", 14, 1)
    IPV4_FRAG = Field("status", 15, 1)
    L4_CSUM_CHECKED = Field("status", 16, 1)
    MBZ17 = Field("status", 17, 1)
    PHASE = Field("status", 24, 1)
    L3_CSUM2 = Field("status", 25, 1)
    FIRST = Field("status", 26, 1)
    LAST = Field("status", 27, 1)
    BUFFER = Field("status", 30, 1)
    MBZ = MBZ7.mask | MBZ17.mask
    """The bits ena_com_cdesc_rx_pkt_get checks when the device has ``CDESC_MBZ``."""


class IntrReg:
    """``struct ena_eth_io_intr_reg``: what the driver writes to a CQ's unmask register."""

    dtype = INTR_REG_DTYPE
    RX_INTR_DELAY = Field("intr_control", 0, 15)
    TX_INTR_DELAY = Field("intr_control", 15, 15)
    INTR_UNMASK = Field("intr_control", 30, 1)
    NO_MODERATION_UPDATE = Field("intr_control", 31, 1)
