"""NIC rings that enter and leave netmap mode: the classic protocol and the 2015 RFC.

:class:`SwitchRxRings` implements the model :mod:`model.netmap_switch` on real
descriptors (struct-of-arrays over rings, vectorized).
"""

from impl.switch.pools import BufferLeakError, MbufPool, NetmapPool
from impl.switch.rx import STRATEGIES, SwitchRxRings

__all__ = ["STRATEGIES", "BufferLeakError", "MbufPool", "NetmapPool", "SwitchRxRings"]
