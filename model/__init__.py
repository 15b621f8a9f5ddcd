"""ringspec's executable specification: every state variable, transition and invariant,
written once over the term vocabulary of :mod:`model.core`.

Importing this package registers every machine and its mutants; :data:`MACHINES` lists
them in the order the proofs and the docs present them.
"""

from model import netmap_host_mutants as _host_mutants  # noqa: F401
from model import netmap_interrupt_mutants as _intr_mutants  # noqa: F401
from model import netmap_legacy_host_mutants as _legacy_host_mutants  # noqa: F401
from model import netmap_regif_mutants as _regif_mutants  # noqa: F401
from model import netmap_ring_mutants as _mutants  # noqa: F401  (registers the mutants)
from model import netmap_switch_mutants as _switch_mutants  # noqa: F401
from model.netmap_adapter_select import ADAPTERS
from model.netmap_forward import FORWARD
from model.netmap_host import HOST_RX, HOST_TX
from model.netmap_host_fwd import HOST_FWD
from model.netmap_kr_busy import KR_BUSY
from model.netmap_legacy import LEGACY_RX, LEGACY_TX
from model.netmap_legacy_fwd import LEGACY_FWD
from model.netmap_legacy_host import LEGACY_HOST_RX, LEGACY_HOST_TX
from model.netmap_legacy_sw_to_nic import SW_TO_NIC as LEGACY_SW_TO_NIC
from model.netmap_pendintr import PENDINTR
from model.netmap_regif import REGIF
from model.netmap_ring import RX, TX
from model.netmap_ring_lifetime import RING_LIFE
from model.netmap_switch import CLASSIC_RX as SWITCH_RX_CLASSIC
from model.netmap_switch import RFC_RX as SWITCH_RX_RFC
from model.netmap_switch_tx import CLASSIC_TX as SWITCH_TX_CLASSIC
from model.netmap_switch_tx import RFC_TX as SWITCH_TX_RFC
from model.netmap_wakeup import WAKE

MACHINES = (
    TX, RX, LEGACY_TX, LEGACY_RX, LEGACY_HOST_TX, LEGACY_HOST_RX, LEGACY_FWD, LEGACY_SW_TO_NIC,
    REGIF, ADAPTERS,
    RING_LIFE,
    KR_BUSY, WAKE, PENDINTR,
    SWITCH_TX_CLASSIC, SWITCH_TX_RFC, SWITCH_RX_CLASSIC, SWITCH_RX_RFC, HOST_RX, HOST_TX,
    FORWARD, HOST_FWD,
)

from model import (  # noqa: E402
    ena_admin,
    ena_aenq,
    ena_keepalive,
    ena_llq,
    ena_netmap,
    ena_netmap_txq,
    ena_queue,
    ena_reqid,
    ena_reset_buffers,
    ena_txq,
)
from model import ena_mutants as _ena_mutants  # noqa: E402,F401  (registers the mutants)
from model import ena_netmap_mutants as _ena_netmap_mutants  # noqa: E402,F401

#: The ENA datapath machines (u16 bit-vector models, :mod:`model.ena_machine`), proved by
#: proofs/ena_obligations.py.
ENA_MACHINES = (
    ena_queue.SQ, ena_queue.CQ, ena_reqid.TX, ena_reqid.RX, ena_txq.TXQ, ena_llq.LLQ,
    ena_llq.HDR, ena_keepalive.KEEPALIVE, ena_admin.ADMIN, ena_aenq.AENQ,
    ena_netmap.NETMAP_TX, ena_netmap.NETMAP_RX, ena_netmap.NETMAP_REG,
    ena_netmap_txq.NETMAP_TXQ, ena_reset_buffers.BUFFERS,
)

#: Every machine ``ringspec prove`` checks: netmap's, then ENA's.
ALL_MACHINES = MACHINES + ENA_MACHINES

__all__ = [
    "ADAPTERS", "ALL_MACHINES", "ENA_MACHINES", "FORWARD", "HOST_FWD", "HOST_RX", "HOST_TX",
    "KR_BUSY",
    "LEGACY_FWD", "LEGACY_HOST_RX",
    "LEGACY_HOST_TX", "LEGACY_RX", "LEGACY_SW_TO_NIC", "LEGACY_TX", "MACHINES",
    "PENDINTR", "REGIF", "RING_LIFE", "RX",
    "SWITCH_RX_CLASSIC", "SWITCH_RX_RFC", "SWITCH_TX_CLASSIC", "SWITCH_TX_RFC", "TX", "WAKE",
]
