"""The interrupt side of the soft NIC's netmap rings: the RX/TX interrupt handlers and the
selinfo wake-ups of the handles blocked in poll(), as model/netmap_pendintr.py and
model/netmap_wakeup.py state them.

* :func:`netmap_rx_irq` / :func:`netmap_tx_irq`: netmap_common_irq
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4472):
  nothing for a ring not in netmap mode (NM_IRQ_PASS: the driver's own handler runs);
  on RX, ``NKR_PENDINTR`` is set; then the ring is notified.
* :class:`SelWaits`: each kring's selinfo and the adapter's global one per direction;
  ``si_users`` counts the handles bound to more than one ring of a direction
  (netmap_set_ringid / netmap_unset_ringid,
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2001),
  which sleep on the global selinfo (``priv->np_si[t]``); netmap_notify
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3978)
  wakes the ring's selinfo and, while ``si_users[t] > 0``, the global one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from impl.netmap.kring import Krings
from model.netmap_wakeup import sleeps_on_global

if TYPE_CHECKING:
    from impl.netmap.control import Binding

#: The two directions, as :mod:`impl.netmap.control` numbers them (TX 0, RX 1).
DIRECTIONS = (0, 1)

#: netmap_common_irq's answers.
NM_IRQ_PASS, NM_IRQ_COMPLETED = 0, 1


def netmap_rx_irq(kr: Krings, q: int, in_netmap: bool = True) -> int:
    """The RX interrupt of ring ``q``: NKR_PENDINTR set (the caller then notifies:
    :meth:`SelWaits.notify`)."""
    if kr.is_tx:
        raise ValueError("netmap_rx_irq takes the RX krings")
    kr.check_rings(q)
    if not in_netmap:
        return NM_IRQ_PASS
    kr.pendintr[q] = True
    return NM_IRQ_COMPLETED


def netmap_tx_irq(kr: Krings, q: int, in_netmap: bool = True) -> int:
    """The TX interrupt of ring ``q``: no flag, only the notify."""
    if not kr.is_tx:
        raise ValueError("netmap_tx_irq takes the TX krings")
    kr.check_rings(q)
    return NM_IRQ_COMPLETED if in_netmap else NM_IRQ_PASS


def si_user(b: Binding, t: int) -> bool:
    """nm_si_user: the handle is bound to more than one ring of direction ``t``."""
    return sleeps_on_global(b.last[t] - b.first[t])


@dataclass
class SelWaits:
    """The selinfos of one adapter and the handles recorded on them."""

    si_users: list[int] = field(default_factory=lambda: [0, 0])
    ring_waiters: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    """(direction, ring) -> handles asleep on that kring's selinfo."""
    global_waiters: list[set[int]] = field(default_factory=lambda: [set(), set()])
    """Per direction, the handles asleep on ``na->si[t]``."""

    def set_ringid(self, b: Binding) -> None:
        """netmap_set_ringid's count of the handles that sleep on the global selinfo."""
        for t in DIRECTIONS:
            self.si_users[t] += si_user(b, t)

    def unset_ringid(self, handle: int, b: Binding) -> None:
        """netmap_unset_ringid's uncount; a handle that goes is no longer asleep."""
        for t in DIRECTIONS:
            self.si_users[t] -= si_user(b, t)
            self.global_waiters[t].discard(handle)
        for waiters in self.ring_waiters.values():
            waiters.discard(handle)

    def selrecord(self, handle: int, b: Binding, t: int) -> None:
        """poll() blocks: the handle sleeps on ``np_si[t]``, the global selinfo if it is
        bound to several rings of ``t``, else its one ring's."""
        if b.last[t] <= b.first[t]:
            raise ValueError(f"handle {handle} is bound to no ring of direction {t}")
        if si_user(b, t):
            self.global_waiters[t].add(handle)
        else:
            self.ring_waiters.setdefault((t, b.first[t]), set()).add(handle)

    def notify(self, t: int, ring: int) -> set[int]:
        """netmap_notify on ring ``ring`` of direction ``t``: the handles it wakes."""
        woken = self.ring_waiters.pop((t, ring), set())
        if self.si_users[t] > 0:
            woken |= self.global_waiters[t]
            self.global_waiters[t] = set()
        return woken

    def asleep(self, t: int) -> set[int]:
        """Every handle asleep on a selinfo of direction ``t``."""
        rings = [w for (d, _), w in self.ring_waiters.items() if d == t]
        return set().union(self.global_waiters[t], *rings)
