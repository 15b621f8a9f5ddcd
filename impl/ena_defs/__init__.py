"""The ENA hardware contract shared by the driver (impl/ena) and the device (impl/device):
descriptor byte layouts and bit fields, register offsets, constants, and the IO-queue
admin commands. Nothing here has behaviour; both sides import it."""

from impl.ena_defs import admin, constants, regs
from impl.ena_defs.bitfield import Field
from impl.ena_defs.constants import (
    AdminStatus,
    AqCaps,
    CompletionPolicy,
    FlowHashFields,
    FlowHashProto,
    HashFunction,
    L3Proto,
    L4Proto,
    PlacementPolicy,
    SqDirection,
)
from impl.ena_defs.layouts import (
    DESC_SIZE,
    INTR_REG_DTYPE,
    LLQ_DESC_CHUNK,
    LLQ_DESCS_BEFORE_HEADER,
    LLQ_ENTRY_128_DTYPE,
    LLQ_ENTRY_256_DTYPE,
    LLQ_HEADER,
    LLQ_LARGE_HEADER,
    REQ_ID_LO_BITS,
    RX_CDESC_DTYPE,
    RX_DESC_DTYPE,
    TX_CDESC_DTYPE,
    TX_DESC_DTYPE,
    TX_META_DESC_DTYPE,
    IntrReg,
    RxCdesc,
    RxDesc,
    TxCdesc,
    TxDesc,
    TxMetaDesc,
    join_req_id,
    llq_descs_per_entry,
    llq_entry_dtype,
    split_req_id,
)
from impl.ena_defs.regs import ResetReason

__all__ = [
    "DESC_SIZE", "INTR_REG_DTYPE", "LLQ_DESCS_BEFORE_HEADER", "LLQ_DESC_CHUNK",
    "LLQ_ENTRY_128_DTYPE", "LLQ_ENTRY_256_DTYPE", "LLQ_HEADER", "LLQ_LARGE_HEADER",
    "REQ_ID_LO_BITS", "RX_CDESC_DTYPE", "RX_DESC_DTYPE", "TX_CDESC_DTYPE", "TX_DESC_DTYPE",
    "TX_META_DESC_DTYPE", "AdminStatus", "AqCaps", "CompletionPolicy", "Field",
    "FlowHashFields", "FlowHashProto", "HashFunction", "IntrReg", "L3Proto", "L4Proto",
    "PlacementPolicy", "ResetReason", "RxCdesc", "RxDesc", "SqDirection", "TxCdesc", "TxDesc",
    "TxMetaDesc", "admin", "constants", "join_req_id", "llq_descs_per_entry",
    "llq_entry_dtype", "regs", "split_req_id",
]
