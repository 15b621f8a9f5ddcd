"""One RX queue of an ENA adapter under the 2015 RFC's netmap switch
(:class:`impl.ena.adapter_netmap.AdapterNetmap` with ``strategy="rfc"``,
:mod:`impl.ena.nm_rfc`) read as a :class:`model.netmap_switch.SwitchRx` state, and the
model's transitions stepped beside it.

**What is read** (:func:`abstract`), per RX queue ``q`` of ring size ``N``:

* ``n``: the queue's depth, which is the netmap ring's slot count (``ena_netmap_attach``
  sizes them alike).
* ``mode``: NETMAP while the registration binds the queue pair (``native`` and ``on[q]``);
  LEAVING while the RFC's exit is under way (``leaving``) *and* some id of this queue is
  still posted with a netmap buffer (``rx_buf[q] != 0``); STACK otherwise.  ENA's
  ``leaving`` covers the whole registration (every RX queue, and TX); the model's ring
  leaves when its own NIC holds no netmap buffer, so a queue drained before the others
  reads STACK (the model's ``leave_done``).
* ``link``: ENA_FLAG_LINK_UP.
* the descriptors: the window ``[next_to_comp, tail)`` of the queue's SQ in host memory --
  filled up to the device's SQ head (``ready_*``), empty after it (``posted_*``) --
  each an mbuf or a netmap buffer by the address the device was given (inside the netmap
  arena or not).  It is cross-checked against the driver: the window's req_ids are
  exactly the ids the driver has posted (``rx_info`` holding a buffer), an mbuf
  descriptor carries its id's own buffer, a netmap one the buffer recorded under the id,
  and the completions the device wrote past the driver's CQ head name the filled ids in
  order.  Frames are kept to one descriptor each (the test's frames fit one buffer); a
  frame scattered over several descriptors has no counterpart in the model, which counts
  one descriptor per packet.
* ``user`` / ``user_m``: the netmap slots ``[rhead, nr_hwtail)`` the user holds, with a
  real netmap buffer / without one (index 0 or past the pool).
* ``gap_m``: what the driver's next post into the empty descriptor carries: an mbuf
  outside netmap mode (ENA's stack refill), a netmap buffer in netmap mode (ENA's netmap
  refill takes the buffer of slot ``nr_hwcur``; see the departure below).
* ``pool``: ``N`` minus the netmap buffers this RX queue holds (ids' ``netmap_buf_idx`` --
  posted, or parked under a posted mbuf -- and real buffers in its kring slots); ``N``
  with no registration.  ENA's netmap memory is one allocator for every ring (TX too, and
  the two spare buffers), so "the ring's buffers in the allocator" is this count; that
  every buffer of the memory is in exactly one place is checked separately
  (:func:`every_netmap_buffer_once`).
* the ghosts (:class:`Ghosts`), which the implementation does not keep across a
  registration and the harness counts from what the implementation reports: ``offered``
  (frames the test handed the device for this queue), ``nobuf`` (the device's
  ``rx_no_buffer`` for them), ``to_stack`` (packets ``if_input`` received from this
  queue), ``to_user`` (packets rxsync reported handed to the user), ``since`` (the same,
  since the last successful NIOCREGIF), ``copies`` (the ring's ``copies`` counter as last
  read in netmap mode: ENA's counter also counts the copies out of netmap buffers while
  leaving, which the model's ghost does not).  ``flushed`` and ``linkdown`` are 0: the
  RFC flushes nothing and the test never takes the link down.

**Where ENA departs from the model, documented rather than bent:**

* *The empty descriptor holds no buffer on ENA* (:func:`ena_regif`).  The model's NIC
  keeps a buffer on every descriptor, the empty one included, so right after the switch
  the empty slot holds a stack mbuf (``gap_m = 1``) and the first release hands it to the
  NIC as it is.  ENA's descriptors are written afresh by every refill from a free req_id,
  and :func:`impl.ena.nm_rfc.enter` parks netmap buffers only under ids that are posted:
  the empty slot keeps its netmap buffer in the kring and the first rxsync refill posts
  it.  So on ENA ``gap_m`` is 0 from NIOCREGIF on -- one stack mbuf fewer, so one copy
  fewer, than the model allows.  No transition of the model reaches that state from
  ``regif_rfc``; the expected state after NIOCREGIF is ``regif_rfc``'s with ``gap_m = 0``,
  and the model's invariants are checked on it like on every other.
* *ENA refills lazily* in stack mode: ``ena_rx_cleanup`` refills only once more than
  ``min(ring / 8, 256)`` entries are free, while the model's stack harvest refills every
  descriptor at once.  The test runs rings of 2 and 4 descriptors, where that threshold
  is 0 and the two agree; at 8 and more ENA's harvested-but-not-reposted ids have no model
  count (they are neither posted, filled nor the user's).
* *Copies*: the model's ``copies`` are netmap mode's only; ENA's counter goes on counting
  while leaving (see the ghosts above).
* *Drops for a missing queue*: a frame that reaches the device between the reset exit's
  DESTROY_SQ and CREATE_SQ of its queue is dropped as ``rx_no_queue``, a reason the model
  lacks; the harness checks that none of its frames meets a destroyed queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impl.device import EnaDevice
from impl.ena.adapter import EnaAdapter
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.nm_rings import EnaNetmapRings
from model import SWITCH_RX_RFC
from model import netmap_switch as sw

T = SWITCH_RX_RFC.transitions
MANY = 1 << 16
"""A harvest count larger than any ring: the driver takes every filled descriptor."""


class SwitchLockstepError(AssertionError):
    """The implementation's RX queue is not where the model's transitions put it."""


@dataclass
class Ghosts:
    """Per RX queue, the model's ghost counts as the harness saw the implementation
    report them (see the module docstring)."""

    offered: int = 0
    nobuf: int = 0
    to_stack: int = 0
    to_user: int = 0
    since: int = 0
    copies: int = 0


@dataclass(frozen=True)
class Descriptors:
    """The descriptors of one RX queue the device holds, split as the model counts
    them."""

    posted_m: int
    posted_n: int
    ready_m: int
    ready_n: int


def _window(dev: EnaDevice, a: EnaAdapter, an: AdapterNetmap, q: int) -> Descriptors:
    """The queue's SQ window ``[next_to_comp, tail)`` read from host memory, split at
    the device's SQ head, and cross-checked against the driver's posted ids, the
    addresses it recorded, and the completions past its CQ head."""
    drv = a.driver
    assert drv is not None
    rx = drv.rx
    depth, mask = rx.cfg.depth, rx.cfg.depth - 1
    sq, cq = int(drv.sq_idx[q, 1]), int(drv.cq_idx[q, 1])
    posted_ids = np.flatnonzero(rx.posted[q])
    if sq < 0:
        if posted_ids.size:
            raise SwitchLockstepError(f"queue {q}: ids {posted_ids} posted on no SQ")
        return Descriptors(0, 0, 0, 0)
    qt = dev.queues
    start = int(rx.next_to_comp[q])
    filled = (int(qt.sq_head[sq]) - start) & 0xFFFF
    total = (int(qt.sq_tail[sq]) - start) & 0xFFFF
    if filled > total or total > depth - 1:
        raise SwitchLockstepError(f"queue {q}: SQ window of {total} descriptors, {filled} "
                                  f"filled, on a depth-{depth} ring")
    assert rx.sq is not None and rx.cq is not None
    desc = rx.sq[q, (start + np.arange(total)) & mask]
    rid = desc["req_id"].astype(np.int64)
    addr = desc["buff_addr_lo"].astype(np.int64) | (desc["buff_addr_hi"].astype(np.int64) << 32)
    if not np.array_equal(np.sort(rid), posted_ids):
        raise SwitchLockstepError(f"queue {q}: the device holds ids {np.sort(rid).tolist()}, "
                                  f"the driver has posted {posted_ids.tolist()}")
    rings = an.rings
    nm = np.zeros(total, dtype=bool)
    want = rx.buf_addr[q, rid]
    if rings is not None and rings._drv is not None:
        nm = (addr >= rings.base) & (addr < rings.base + rings.size)
        want = np.where(nm, rings.buf_addr(rings.rx_buf[q, rid]), want)
    if not np.array_equal(addr, want):
        raise SwitchLockstepError(f"queue {q}: descriptors of ids {rid.tolist()} carry "
                                  f"{addr.tolist()}, the driver recorded {want.tolist()}")
    pending = (int(qt.cq_tail[cq]) - int(rx.cq_head[q])) & 0xFFFF
    comp = rx.cq[q, (int(rx.cq_head[q]) + np.arange(pending)) & mask]
    if pending != filled or not np.array_equal(comp["req_id"].astype(np.int64), rid[:filled]):
        raise SwitchLockstepError(f"queue {q}: {filled} descriptors filled, completions "
                                  f"{comp['req_id'].tolist()} pending")
    f = np.arange(total) < filled
    return Descriptors(posted_m=int((~nm & ~f).sum()), posted_n=int((nm & ~f).sum()),
                       ready_m=int((~nm & f).sum()), ready_n=int((nm & f).sum()))


def mode(an: AdapterNetmap, q: int) -> int:
    """The ring's mode as the module docstring maps it."""
    rings = an.rings
    if an.native and rings is not None and bool(an.on[q]):
        return sw.NETMAP
    if an.leaving and rings is not None and bool((rings.rx_buf[q] != 0).any()):
        return sw.LEAVING
    return sw.STACK


def abstract(dev: EnaDevice, an: AdapterNetmap, q: int, g: Ghosts) -> sw.SwitchRx:
    """RX queue ``q`` of the adapter ``an`` is attached to, as a model state."""
    a = an.adapter
    drv = a.driver
    assert drv is not None
    n = drv.rx.cfg.depth
    m = mode(an, q)
    d = _window(dev, a, an, q)
    rings = an.rings
    user = user_m = 0
    held = 0
    copies = g.copies
    if rings is not None and rings._drv is not None:
        nbufs = rings.mem.nbufs
        kr = rings.rx
        slots = kr.slot_buf_idx[q].astype(np.int64)
        real = (slots >= 2) & (slots < nbufs)
        held = int((rings.rx_buf[q] != 0).sum() + real.sum())
        if m == sw.NETMAP:
            k = (int(kr.rhead[q]) + np.arange((int(kr.hwtail[q]) - int(kr.rhead[q])) % n)) % n
            user = int(real[k].sum())
            user_m = int(k.size - user)
            copies = int(rings.copies[q])
    return sw.SwitchRx(
        n=n, mode=m, link=int(a.flags.link_up), pool=n - held,
        posted_m=d.posted_m, posted_n=d.posted_n, ready_m=d.ready_m, ready_n=d.ready_n,
        user=user, user_m=user_m, gap_m=int(m != sw.NETMAP), since=g.since, copies=copies,
        offered=g.offered, to_user=g.to_user, to_stack=g.to_stack, flushed=0, nobuf=g.nobuf,
        linkdown=0)


def step(name: str, s: sw.SwitchRx, **args: int) -> sw.SwitchRx:
    """The model's transition ``name`` from ``s``; it must be enabled (the
    implementation just did it)."""
    st = T[name].fn(s, **args)
    if st.guard is not True:
        raise SwitchLockstepError(f"{name}{args} is not enabled in {s!r}")
    return st.post


def ena_regif(s: sw.SwitchRx) -> sw.SwitchRx:
    """NIOCREGIF the RFC's way on ENA: the model's ``regif_rfc``, then the one departure
    (the module docstring): the empty descriptor holds no stack mbuf, its netmap buffer
    stays in its slot for the first refill to post, so ``gap_m`` is 0."""
    return step("regif_rfc", s).replace(gap_m=0)


def violated(s: sw.SwitchRx) -> list[str]:
    """The RFC machine's invariants ``s`` breaks."""
    return list(SWITCH_RX_RFC.violated(s))


def compare(what: str, q: int, want: sw.SwitchRx, got: sw.SwitchRx) -> None:
    """The implementation read (``got``) must be the model's state (``want``) and keep
    the model's invariants."""
    if got != want:
        diff = {f: (getattr(got, f), getattr(want, f)) for f in sw.SwitchRx.__dataclass_fields__
                if getattr(got, f) != getattr(want, f)}
        raise SwitchLockstepError(f"after {what}, RX queue {q}: (implementation, model) {diff}"
                                  f"\n  impl  {got!r}\n  model {want!r}")
    broken = violated(got)
    if broken:
        raise SwitchLockstepError(f"after {what}, RX queue {q}: invariants {broken} broken "
                                  f"by {got!r}")


def every_netmap_buffer_once(an: AdapterNetmap) -> None:
    """While the registration's memory exists, each real buffer of it is in exactly one
    place: a kring slot, a TX packet in flight, an RX id, or the free list."""
    rings = an.rings
    if rings is None:
        return
    held = rings.buffers_held()
    if not np.array_equal(held, np.arange(2, rings.mem.nbufs)):
        counts = np.bincount(held, minlength=rings.mem.nbufs)
        raise SwitchLockstepError(
            f"netmap buffers twice: {np.flatnonzero(counts > 1).tolist()}, nowhere: "
            f"{np.flatnonzero(counts[2:] == 0).tolist()}")


def all_back(rings: EnaNetmapRings) -> None:
    """When the registration's memory is released (the RFC's exit done): every real
    buffer of it is in the allocator's free list, once -- none left with a slot, an id or
    a TX packet, none lost on the way (the memory goes back whole, so a buffer lost inside
    it would otherwise go unseen)."""
    free = np.sort(rings.mem.pool.free_indices())
    if not np.array_equal(free, np.arange(2, rings.mem.nbufs)):
        missing = np.setdiff1d(np.arange(2, rings.mem.nbufs), free)
        raise SwitchLockstepError(f"the registration ended with buffers {missing.tolist()} "
                                  f"not back in the allocator")
