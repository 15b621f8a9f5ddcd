"""Exhaustive sets of concrete model states for small rings, used by the agreement test
and as boundary seeds.

``consistent_states(machine, n)`` enumerates *every* state of ``machine`` with ring size
``n`` that satisfies all its invariants: every placement of hwcur and every split of the
N-1 usable slots into the regions of model.netmap_ring, every rcur inside the user's
region, and every user view the user-view invariant allows.  Legacy states are the images
of the legacy-expressible modern ones under ``from_modern``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from model import netmap_legacy
from model import netmap_switch as switch
from model import netmap_switch_tx as switch_tx
from model.core import Machine
from model.netmap_adapter_select import Adapters
from model.netmap_forward import Forward
from model.netmap_host import HostRx, HostTx
from model.netmap_host_fwd import HostFwd
from model.netmap_kr_busy import KrBusy
from model.netmap_legacy_fwd import LegacyFwd
from model.netmap_legacy_host import LegacyHostRx, LegacyHostTx
from model.netmap_legacy_sw_to_nic import SwToNic
from model.netmap_pendintr import RxIntr
from model.netmap_regif import KringUse
from model.netmap_ring import RX, TX, NetmapRing
from model.netmap_ring_lifetime import RingLife
from model.netmap_switch import LEAVING, NETMAP, STACK, SwitchRx
from model.netmap_switch_tx import SwitchTx
from model.netmap_wakeup import WakeState


def compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every tuple of ``parts`` non-negative ints summing to ``total``."""
    for cuts in itertools.combinations(range(total + parts - 1), parts - 1):
        bounds = (-1, *cuts, total + parts - 1)
        yield tuple(bounds[i + 1] - bounds[i] - 1 for i in range(parts))


def _user_views(n: int, rhead: int, rtail: int, user: int) -> Iterator[tuple[int, int]]:
    for dh in range(user + 1):
        for dc in range(user - dh + 1):
            yield (rhead + dh) % n, (rhead + dh + dc) % n


def _tx_states(n: int) -> Iterator[NetmapRing]:
    for hwcur in range(n):
        for pending, user, unshown, completed, in_flight in compositions(n - 1, 5):
            rhead = (hwcur + pending) % n
            rtail = (rhead + user) % n
            hwtail = (rtail + unshown) % n
            nic = (hwtail + 1 + completed) % n
            for rc in range(user + 1):
                for head, cur in _user_views(n, rhead, rtail, user):
                    yield NetmapRing(n, head, cur, rtail, hwcur, hwtail, rhead,
                                     (rhead + rc) % n, rtail, nic, in_flight)


def _rx_states(n: int) -> Iterator[NetmapRing]:
    for hwcur in range(n):
        for pending, user, ready, free in compositions(n - 1, 4):
            rhead = (hwcur + pending) % n
            rtail = (rhead + user) % n
            nic = (rtail + ready) % n
            for rc in range(user + 1):
                for head, cur in _user_views(n, rhead, rtail, user):
                    yield NetmapRing(n, head, cur, rtail, hwcur, rtail, rhead,
                                     (rhead + rc) % n, rtail, nic, free)


#: Ghost delivery counters (to_user, to_stack, flushed, nobuf, linkdown) tried for the
#: switch machines: none, one of each kind, some of all.
_SWITCH_GHOSTS = ((0, 0, 0, 0, 0), (1, 0, 1, 0, 0), (0, 2, 0, 1, 1))


def _switch_states(machine: Machine, n: int) -> Iterator[SwitchRx]:
    """Every mode, link state and split of the N-1 descriptors, a few ghost histories; the
    pool and the offered count follow from the buffer and packet invariants, and whatever
    still breaks an invariant is dropped."""
    for mode, link in itertools.product((STACK, NETMAP, LEAVING), (0, 1)):
        for pm, pn, rm, rn, user in compositions(n - 1, 5):
            for gap_m, since, copies in itertools.product((0, 1), (0, n - 1, n), (0, 1)):
                for to_user, to_stack, flushed, nobuf, linkdown in _SWITCH_GHOSTS:
                    s = SwitchRx(n, mode, link, 0, pm, pn, rm, rn, user, 0, gap_m, since,
                                 copies, 0, to_user, to_stack, flushed, nobuf, linkdown)
                    s = s.replace(pool=n - switch.netmap_held(s),
                                  offered=switch.ready(s) + switch.delivered(s)
                                  + switch.dropped(s))
                    if machine.holds(s):
                        yield s


def _switch_tx_states(machine: Machine, n: int) -> Iterator[SwitchTx]:
    """As for RX: every mode, link and split of the descriptors (free ones included), a
    few ghost histories; derived ghosts follow from the invariants."""
    for mode, link in itertools.product((STACK, NETMAP, LEAVING), (0, 1)):
        for fm, fn, dm, dn, user, _free in compositions(n - 1, 6):
            for since, flushed, stack_done in itertools.product((0, 1), (0, 1), (0, 2)):
                s = SwitchTx(n, mode, link, 0, fm, fn, dm, dn, user, since, 0, 0, 0,
                             flushed, stack_done)
                from_stack = stack_done + fm + dm
                from_user = fn + dn + flushed + since
                s = s.replace(pool=n - switch_tx.netmap_held(s), from_stack=from_stack,
                              from_user=from_user,
                              on_wire=from_stack + from_user - fm - fn - flushed)
                if machine.holds(s):
                    yield s


def _regif_states(machine: Machine, n: int) -> Iterator[KringUse]:
    """Up to three handles of each kind and each exclusivity; the adapter's flags follow
    from the invariants (every field but the handle counts is determined by them)."""
    for users, others, exclusive, ebusy in itertools.product(range(4), range(4), (0, 1),
                                                               (0, 2)):
        active = users + others
        on = int(users > 0)
        s = KringUse(n, users, others, active, on, on, exclusive, int(active > 0),
                     int(active > 0), ebusy)
        if machine.holds(s):
            yield s


def _wake_states(machine: Machine, n: int) -> Iterator[WakeState]:
    """Up to three handles of each binding kind, any number of them asleep; ``si_users``
    and ``missed`` as the invariants fix them."""
    for multi, single in itertools.product(range(4), range(4)):
        for am, asg in itertools.product(range(multi + 1), range(single + 1)):
            s = WakeState(n, multi, multi, single, am, asg, 0)
            if machine.holds(s):
                yield s


def _pendintr_states(machine: Machine, n: int) -> Iterator[RxIntr]:
    """Both sysctl values, up to three unread frames, every flag, two read counts."""
    for no_pendintr, unread, irq_due, pendintr, read in itertools.product(
            (0, 1), range(4), (0, 1), (0, 1), (0, 2)):
        s = RxIntr(n, no_pendintr, unread, irq_due, pendintr, read + unread, read)
        if machine.holds(s):
            yield s


def _host_rx_states(machine: Machine, n: int) -> Iterator[HostRx]:
    """Every hwcur, ring occupancy, queue length and head; two values of each ghost."""
    for hwcur, busy in itertools.product(range(n), range(n)):
        for qlen, ahead, synced, imported, dropped in itertools.product(
                range(n - busy), range(busy + 1), (0, 1), (0, 3), (0, 2)):
            hwtail = (hwcur + busy) % n
            s = HostRx(n, (hwcur + ahead) % n, hwtail, hwcur, hwtail, qlen, synced,
                       qlen + imported, dropped, imported)
            if machine.holds(s):
                yield s


def _host_tx_states(machine: Machine, n: int) -> Iterator[HostTx]:
    """Every hwcur and number of released slots, with some of them bad."""
    for hwcur, pending in itertools.product(range(n), range(n)):
        for bad, up, skipped in itertools.product(sorted({0, pending}), (0, 2), (0, 1)):
            gap = (hwcur - 1) % n
            s = HostTx(n, (hwcur + pending) % n, gap, hwcur, gap, bad,
                       up + skipped + pending, up, skipped)
            if machine.holds(s):
                yield s


def _legacy_host_tx_states(machine: Machine, n: int) -> Iterator[LegacyHostTx]:
    """Every hwcur and number of published slots, reserved 0 or 1."""
    for hwcur, pending, reserved in itertools.product(range(n), range(n), (0, 1)):
        s = LegacyHostTx(n, (hwcur + pending) % n, n - 1 - pending, reserved, hwcur, n - 1,
                         0, 0)
        if machine.holds(s):
            yield s


def _legacy_host_rx_states(machine: Machine, n: int) -> Iterator[LegacyHostRx]:
    """Every hwcur and packets held by the kernel, every cur behind them with every
    avail and reserved the user may have, and a few released packets."""
    for hwcur, hwavail in itertools.product(range(n), range(n)):
        for behind in range(hwavail + 1):
            for avail, reserved, released in itertools.product(
                    range(hwavail - behind + 1), range(behind + 1), (0, 2)):
                s = LegacyHostRx(n, (hwcur + behind) % n, avail, reserved, hwcur, hwavail,
                                 hwavail + released, 0, released)
                if machine.holds(s):
                    yield s


def _forward_states(machine: Machine, n: int) -> Iterator[Forward]:
    """Host RX: every split of the ring into released / held / empty, from hwcur 0 and
    N - 1; TX: every split into pending / free from thwcur 0 and N - 1, cur at head or
    tail, nothing or everything prepared; evenly thinned to at most 6000 states."""
    def splits(total: int) -> Iterator[tuple[int, int]]:
        return ((a, b) for a in range(total + 1) for b in range(total + 1 - a))

    out = []
    for hwcur, (rel, held), thwcur, (pend, free) in itertools.product(
            sorted({0, n - 1}), splits(n - 1), sorted({0, n - 1}), splits(n - 1)):
        for marked, at_tail, prepared, fw in itertools.product(
                sorted({0, rel}), (0, 1), sorted({0, free}), (0, 1)):
            thead = (thwcur + pend) % n
            ttail = (thead + free) % n
            s = Forward(n, hwcur, (hwcur + rel) % n, (hwcur + rel + held) % n, marked,
                        thwcur, thead, ttail if at_tail else thead, ttail, ttail, prepared,
                        fw + marked, fw, 0, 0, 0, 0)
            if machine.holds(s):
                out.append(s)
    yield from out[:: max(1, len(out) // 6000)]


def _host_fwd_states(machine: Machine, n: int) -> Iterator[HostFwd]:
    """One or two hardware and host RX rings; each way a released packet can go taken
    0 or 2 times (never echoed: the invariants forbid it)."""
    for nrx, nhost, up, down, released in itertools.product(
            (1, 2), (1, 2), (0, 2), (0, 2), (0, 2)):
        for from_stack in sorted({0, down, down + released}):
            from_nic = up + down + released - from_stack
            s = HostFwd(n, nrx, nhost, from_nic, from_stack, up, down, 0, released)
            if machine.holds(s):
                yield s


def _adapter_states(machine: Machine, n: int) -> Iterator[Adapters]:
    """One interface's adapters: each kind attached or set aside, 0 to 2 descriptors, a
    switch or not, configurations 0 and 1, the admode in and out of range."""
    for native, attached, fds, owned, cfg, reported, admode, mode in itertools.product(
            (0, 1), (0, 1, 2), (0, 1, 2), (0, 1), (0, 1), (0, 1), (0, 2, 7), (0, 2)):
        s = Adapters(n, native, admode, attached, int(native == 1 and attached == 2), fds,
                     owned, cfg, 1 - cfg, reported, attached, cfg, mode)
        if machine.holds(s):
            yield s


def _sw_to_nic_states(machine: Machine, n: int) -> Iterator[SwToNic]:
    """1 or 3 TX rings: the host RX ring with every hwcur, packets held and cur behind
    them (reserved 0 or all); no walk, or one on kring 0 with every released slot left
    and a free TX ring, or on kring 2 with nothing left and a partly filled one."""
    for t, hwcur, hwavail in itertools.product((1, 3), range(n), range(n)):
        for behind, all_held in itertools.product(range(hwavail + 1), (0, 1)):
            reserved = behind * all_held
            for active, k1, left, dh, dp in ((0, 0, 0, n - 1, 0), (1, 0, 1, n - 1, 0),
                                            (1, 2, 0, 1, 1)):
                s = SwToNic(n, t, 1, (hwcur + behind) % n, hwavail - behind, reserved,
                            hwcur, hwavail, active, hwavail * left, k1 // 2, k1,
                            (dp + 1) % n, dh - dp, 1, dh, 0, 0, 0, 0, 0, 0, 0, 0,
                            (behind - reserved) * left)
                if machine.holds(s):
                    yield s


def consistent_states(machine: Machine, n: int) -> list:
    if machine.state_type is SwToNic:
        return list(_sw_to_nic_states(machine, n))
    if machine.state_type is HostFwd:
        return list(_host_fwd_states(machine, n))
    if machine.state_type is HostRx:
        return list(_host_rx_states(machine, n))
    if machine.state_type is HostTx:
        return list(_host_tx_states(machine, n))
    if machine.state_type is Forward:
        return list(_forward_states(machine, n))
    if machine.state_type is LegacyFwd:
        return [s for s in (LegacyFwd(n, (hwcur + behind) % n, hwavail - behind, reserved, hwcur,
                                      hwavail, 0, 0)
                            for hwcur, hwavail in itertools.product(range(n), range(n))
                            for behind in range(hwavail + 1) for reserved in range(behind + 1))
                if machine.holds(s)]
    if machine.state_type is Adapters:
        return list(_adapter_states(machine, n))
    if machine.state_type is KrBusy:
        return [s for s in (KrBusy(n, stopped, busy, a, ag, b, bg, sp, 0)
                            for stopped, busy, a, ag, b, bg, sp in itertools.product(
                                (0, 1), (0, 1), range(4), (0, 1), range(4), (0, 1), range(4)))
                if machine.holds(s)]
    if machine.state_type is RingLife:
        return [s for s in (RingLife(n, live, hwcur, hwtail, live * ((hwtail - hwcur) % n))
                            for live, hwcur, hwtail in itertools.product(
                                (0, 1), range(n), range(n))) if machine.holds(s)]
    if machine.state_type is LegacyHostTx:
        return list(_legacy_host_tx_states(machine, n))
    if machine.state_type is LegacyHostRx:
        return list(_legacy_host_rx_states(machine, n))
    if machine.state_type is KringUse:
        return list(_regif_states(machine, n))
    if machine.state_type is WakeState:
        return list(_wake_states(machine, n))
    if machine.state_type is RxIntr:
        return list(_pendintr_states(machine, n))
    if machine.state_type is SwitchTx:
        return list(_switch_tx_states(machine, n))
    if machine.state_type is SwitchRx:
        return list(_switch_states(machine, n))
    if machine is TX:
        return list(_tx_states(n))
    if machine is RX:
        return list(_rx_states(n))
    modern = TX if machine.name == "legacy_tx" else RX
    out = []
    for m in consistent_states(modern, n):
        if not netmap_legacy.legacy_expressible(m):
            continue
        if machine.name == "legacy_tx" and m.head != m.cur:
            continue
        out.append(netmap_legacy.from_modern(m))
    return sorted(set(out), key=repr)
