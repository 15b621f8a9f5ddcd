"""netmap rings over a software NIC: byte-exact layouts, krings, prologues, reinit,
reset and the driver/device pair, vectorized over rings and slots.

Upstream: netmap's kernel rings,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L411;
the spec is model/netmap_ring.py.
"""

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.bufpool import RESERVED_BUFS, BufferPool, NetmapNoMemError
from impl.netmap.kring import Krings
from impl.netmap.layout import (
    NETMAP_API,
    NETMAP_RING_DTYPE,
    NETMAP_RING_HEADER_SIZE,
    NETMAP_SLOT_DTYPE,
    NR_FORWARD,
    NR_TIMESTAMP,
    NS_BUF_CHANGED,
    NS_FORWARD,
    NS_INDIRECT,
    NS_MOREFRAG,
    NS_NO_LEARN,
    NS_PORT_SHIFT,
    NS_REPORT,
    NS_TXMON,
)
from impl.netmap.mem import NetmapMemory
from impl.netmap.prologue import AS_SHIPPED, HARDENED, POLICIES
from impl.netmap.softdev import SoftRxDevice, SoftTxDevice, WireLog
from impl.netmap.sync import RxsyncResult, TxsyncResult

__all__ = [
    "AS_SHIPPED",
    "HARDENED",
    "NETMAP_API",
    "NETMAP_RING_DTYPE",
    "NETMAP_RING_HEADER_SIZE",
    "NETMAP_SLOT_DTYPE",
    "NR_FORWARD",
    "NR_TIMESTAMP",
    "NS_BUF_CHANGED",
    "NS_FORWARD",
    "NS_INDIRECT",
    "NS_MOREFRAG",
    "NS_NO_LEARN",
    "NS_PORT_SHIFT",
    "NS_REPORT",
    "NS_TXMON",
    "POLICIES",
    "RESERVED_BUFS",
    "BufferPool",
    "Krings",
    "NetmapAdapter",
    "NetmapMemory",
    "NetmapNoMemError",
    "RxsyncResult",
    "SoftRxDevice",
    "SoftTxDevice",
    "TxsyncResult",
    "WireLog",
]
