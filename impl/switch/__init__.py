"""NIC rings that enter and leave netmap mode: the classic protocol and the 2015 RFC.

:class:`SwitchRxRings` and :class:`SwitchTxRings` implement the models
:mod:`model.netmap_switch` and :mod:`model.netmap_switch_tx` on real descriptors
(struct-of-arrays over rings, vectorized).
"""

from impl.switch.pools import BufferLeakError, MbufPool, NetmapPool
from impl.switch.rings import STRATEGIES
from impl.switch.rx import SwitchRxRings
from impl.switch.tx import SwitchTxRings

__all__ = [
    "STRATEGIES", "BufferLeakError", "MbufPool", "NetmapPool", "SwitchRxRings", "SwitchTxRings",
]
