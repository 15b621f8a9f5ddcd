"""ENA constants the driver and the device share (``ena.h``, ``ena_com.h``,
``ena_eth_com.h``, and the enums of ``ena_admin_defs.h`` / ``ena_eth_io_defs.h``).

``ena.h`` (v2.8.3):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L104
"""

from __future__ import annotations

from enum import IntEnum

# -- ring sizes and datapath budgets (ena.h)
DEFAULT_RING_SIZE = 1024
MIN_RING_SIZE = 256
DEFAULT_BUF_RING_SIZE = 4096
PKT_MAX_BUFS = 19
BUS_DMA_SEGS = 32
TX_RESUME_THRESH = PKT_MAX_BUFS + 2
DB_THRESHOLD = 64
TX_COMMIT = 32
TX_BUDGET = 128
RX_DESC_BUDGET = 256
CLEAN_BUDGET = 8
RX_REFILL_THRESH_DIVIDER = 8
RX_REFILL_THRESH_PACKET = 256
RX_IRQ_INTERVAL = 20
TX_IRQ_INTERVAL = 50
RX_RSS_TABLE_LOG_SIZE = 7
RX_RSS_TABLE_SIZE = 1 << RX_RSS_TABLE_LOG_SIZE
HASH_KEY_SIZE = 40
MAX_FRAME_LEN = 10000
MIN_FRAME_LEN = 60
MIN_MTU = 128
TSO_MAXSIZE = 65536
MAX_NO_INTERRUPT_ITERATIONS = 3
EMPTY_RX_REFILL = 2
DEFAULT_KEEP_ALIVE_TO_S = 6
DEFAULT_TX_CMP_TO_S = 5
DEFAULT_TX_MONITORED_QUEUES = 4
DEFAULT_TX_CMP_THRESHOLD = 128
ADMIN_POLL_DELAY_US = 100

# -- ena_com.h / ena_com.c
MAX_NUM_IO_QUEUES = 128
TOTAL_NUM_QUEUES = 2 * MAX_NUM_IO_QUEUES
MAX_PHYS_ADDR_SIZE_BITS = 48
REG_READ_TIMEOUT = 200000
ADMIN_QUEUE_DEPTH = 32
ASYNC_QUEUE_DEPTH = 16
ADMIN_CMD_TIMEOUT_US = 3_000_000
COM_BOUNCE_BUFFER_CNTRL_CNT = 4
HW_HINTS_NO_TIMEOUT = 0xFFFF
CDESC_RING_SIZE_ALIGNMENT = 4096
ADMIN_MSIX_VEC = 1
"""MSI-X vector 0 is management (admin + AENQ); IO pair ``q`` uses vector ``q + 1``."""

# -- PCI identity
PCI_VENDOR_ID = 0x1D0F
PCI_DEV_ID_ENA_PF = 0x0EC2
PCI_DEV_ID_ENA_PF_RSERV0 = 0x1EC2
PCI_DEV_ID_ENA_VF = 0xEC20
PCI_DEV_ID_ENA_VF_RSERV0 = 0xEC21
PCI_DEVICE_IDS = (PCI_DEV_ID_ENA_PF, PCI_DEV_ID_ENA_PF_RSERV0, PCI_DEV_ID_ENA_VF,
                  PCI_DEV_ID_ENA_VF_RSERV0)
"""The ids the driver attaches to (``PCI_DEV_ID_ENA_*`` in ena.h)."""
MMIO_DISABLE_REG_READ = 1
"""``ENA_MMIO_DISABLE_REG_READ``: PCI revision-id bit 0 set = readless reads off."""


def io_txq_idx(q: int) -> int:
    """``ENA_IO_TXQ_IDX``: the ENA qid of TX queue ``q``."""
    return 2 * q


def io_rxq_idx(q: int) -> int:
    """``ENA_IO_RXQ_IDX``: the ENA qid of RX queue ``q``."""
    return 2 * q + 1


def io_irq_idx(q: int) -> int:
    """``ENA_IO_IRQ_IDX``: the MSI-X vector of IO queue pair ``q``."""
    return ADMIN_MSIX_VEC + q


class L3Proto(IntEnum):
    """``enum ena_eth_io_l3_proto_index``."""

    UNKNOWN = 0
    IPV4 = 8
    IPV6 = 11
    FCOE = 21
    ROCE = 22


class L4Proto(IntEnum):
    """``enum ena_eth_io_l4_proto_index``."""

    UNKNOWN = 0
    TCP = 12
    UDP = 13
    ROUTEABLE_ROCE = 23


class AqCaps(IntEnum):
    """``enum ena_admin_aq_caps_id``: bit numbers of the device's capabilities word."""

    ENI_STATS = 0
    ENA_SRD_INFO = 1
    CUSTOMER_METRICS = 2
    EXTENDED_RESET_REASONS = 3
    CDESC_MBZ = 4


class PlacementPolicy(IntEnum):
    """``enum ena_admin_placement_policy_type``."""

    HOST = 1
    DEV = 3
    """Low Latency Queue: descriptors and headers in device memory (the LLQ BAR)."""


class CompletionPolicy(IntEnum):
    """``enum ena_admin_completion_policy_type`` (ena_com always asks for DESC)."""

    DESC = 0
    DESC_ON_DEMAND = 1
    HEAD_ON_DEMAND = 2
    HEAD = 3


class SqDirection(IntEnum):
    """``enum ena_admin_sq_direction``."""

    TX = 1
    RX = 2


class AdminStatus(IntEnum):
    """``enum ena_admin_aq_completion_status``."""

    SUCCESS = 0
    RESOURCE_ALLOCATION_FAILURE = 1
    BAD_OPCODE = 2
    UNSUPPORTED_OPCODE = 3
    MALFORMED_REQUEST = 4
    ILLEGAL_PARAMETER = 5
    UNKNOWN_ERROR = 6
    RESOURCE_BUSY = 7


class AdminOpcode(IntEnum):
    """``enum ena_admin_aq_opcode``."""

    CREATE_SQ = 1
    DESTROY_SQ = 2
    CREATE_CQ = 3
    DESTROY_CQ = 4
    GET_FEATURE = 8
    SET_FEATURE = 9
    GET_STATS = 11


class HashFunction(IntEnum):
    """``enum ena_admin_hash_functions``; the device takes ``1 << func`` as a bitmask."""

    TOEPLITZ = 1
    CRC32 = 2


class FlowHashProto(IntEnum):
    """``enum ena_admin_flow_hash_proto``: the index of a protocol's hash-input entry."""

    TCP4 = 0
    UDP4 = 1
    TCP6 = 2
    UDP6 = 3
    IP4 = 4
    IP6 = 5
    IP4_FRAG = 6
    NOT_IP = 7
    TCP6_EX = 8
    IP6_EX = 9


RSS_PROTO_NUM = 16


class FlowHashFields(IntEnum):
    """``enum ena_admin_flow_hash_fields``: bits of a protocol's hash-input mask."""

    L2_DA = 1 << 0
    L2_SA = 1 << 1
    L3_DA = 1 << 2
    L3_SA = 1 << 3
    L4_DP = 1 << 4
    L4_SP = 1 << 5
