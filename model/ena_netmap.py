"""netmap on ENA: ena_netmap_txsync and ena_netmap_rxsync abstracted to the kring pointers
(``nr_hwcur``, ``nr_hwtail``, ``rhead``), the free-id lists and the ids in flight, proved to
refine netmap's own TX and RX ring machines; and the mode switch (ena_netmap_reg) against
a pending reset.

One ring of N = 4 slots: netmap's ``nkr_num_slots`` is the ENA ring size (ena_netmap_attach
sets ``num_tx_desc`` / ``num_rx_desc`` from the requested ring sizes), and the free-id lists,
the ids in flight and the timestamps are vectors of 4 u16 values.  The depth is fixed
rather than symbolic because the other ENA id models (symbolic depth, solver arrays, a
ghost permutation instantiated per step) take tens of seconds, and this module has a
budget of about two seconds of solver time: with a fixed depth every obligation is
quantifier-free bit-vector arithmetic, exact (no instantiation), and a refutation is a
real state.  Four slots leave room for completions out of send order and for a user who
holds slots while others are in flight (both findings already show at N = 2), and each
rule below reads the same for every power-of-two ring.  One netmap slot per packet and
one descriptor per slot: the NS_MOREFRAG chains, the LLQ header copy and the DMA maps do
not move any pointer or id this model follows.  A completion and its cleanup are one
step (the CQ and its phase are :mod:`model.ena_queue`'s).  The ``req_id`` bookkeeping
follows :mod:`model.ena_reqid`: the same permutation property as its ENA-REQID-COUNT,
-IDS and -POSITIONS, stated directly over the four positions, without its ghost
permutation.

Upstream, TX: ena_netmap_txsync
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L326)
runs ena_netmap_tx_frames (from ``nr_hwcur`` to ``rhead``;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L350),
each packet by ena_netmap_tx_frame (``req_id = free_tx_ids[next_to_use]``, next_to_use
advanced with ENA_TX_RING_IDX_NEXT(nt, ring_size), and no ``tx_info->timestamp``;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L390),
then ena_netmap_tx_cleanup (completions in CQ order, ``nr_hwtail`` advanced one slot per
returned buffer;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L800)
and ena_netmap_tx_clean_one, which writes ``free_tx_ids[nt] = req_id`` and advances
``nt = ENA_TX_RING_IDX_NEXT(nt, ctx->lim)`` with ``lim = nkr_num_slots - 1``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L833).
The macro masks with its second argument minus one
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L154),
so the mask is ``ring_size - 2``: with a power-of-two ring next_to_clean never leaves 0.
The mbuf path stamps ``tx_info->timestamp`` in ena_xmit_mbuf and clears it in ena_tx_cleanup
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L975,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L245);
check_missing_comp_in_tx_queue only looks at entries with a timestamp
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3247),
the check whose outcome is :mod:`model.ena_keepalive`'s ``tx_missing``.

RX: ena_netmap_rxsync
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L872)
runs ena_netmap_rx_frames (``nr_hwtail`` advanced one slot per descriptor;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L900)
where ena_netmap_rx_frame and ena_netmap_rx_load_desc hand ``rx_info->netmap_buf_idx`` to
the slot and write ``free_rx_ids[nt] = req_id`` with no test that the id was posted
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L927,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L1004),
then ena_netmap_rx_cleanup: ``refill = rhead - nr_hwcur``, minus one only if ``nr_hwcur
!= nr_hwtail``, plus ``nkr_num_slots`` if negative
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L1040),
each buffer posted by ena_netmap_alloc_rx_slot, which takes the buffer of slot
``nr_hwcur`` and advances ``nr_hwcur``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L107).
So ENA's ``nr_hwcur`` is the next slot it will post, one behind netmap's "next slot to give
back" (netmap's gap slot ``hwcur - 1`` is ENA's ``nr_hwcur``).

Mode switch: ena_netmap_reg clears ENA_FLAG_TRIGGER_RESET, then ena_down
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L274),
which resets the device with ``reset_reason`` only if that flag is set
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2612);
ena_reset_task does nothing unless the flag is set
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3784).

The refinement: :func:`tx_image` and :func:`rx_image` map an ENA state to a
:class:`model.netmap_state.NetmapRing`; ENA-NM-TX-RING / ENA-NM-RX-RING say the image
satisfies every invariant of :data:`model.netmap_ring.TX` / ``RX`` (the soft NIC's), and
ENA-NM-TX-REFINES / ENA-NM-RX-REFINES that every ENA step's image is a step of netmap's
machine (user publish/release through the hardened prologue, the NIC completing or
filling one slot, the driver sync) or a stutter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model import netmap_ring
from model.core import And, Eq, Implies, Not, Or, Param, Step, Term, Var, ring_dist
from model.ena_bits import add16, ite, sub16, ule, ult
from model.ena_keepalive import reset_requested
from model.ena_machine import EnaMachine, choose, replace
from model.ena_reqid import NORMAL, record_reason
from model.netmap_state import NetmapRing
from model.netmap_sync import (
    HARDENED,
    caller_accepts,
    nm_sync_finalize,
    nm_txsync_prologue,
    rx_driver_sync,
    tx_driver_sync,
)

__all__ = [
    "DEPTH",
    "DRIVER_INVALID_STATE",
    "NETMAP_REG",
    "NETMAP_RX",
    "NETMAP_TX",
    "NORMAL",
    "NetmapReg",
    "NetmapRx",
    "NetmapTx",
    "rx_image",
    "tx_image",
]

#: The ring size: nkr_num_slots = ring_size = 4.
DEPTH = 4
MASK = DEPTH - 1
#: ENA_REGS_RESET_DRIVER_INVALID_STATE
DRIVER_INVALID_STATE = 8
REASON_LAST = 20


# ---------------------------------------------------------------------------- vectors


def at(vec: tuple[Term, ...], i: Term) -> Term:
    """vec[i] for a slot or id i < DEPTH (a symbolic i selects by comparison; an index
    past the vector reads 0)."""
    if isinstance(i, int):
        return vec[i] if 0 <= i < len(vec) else 0
    out: Term = 0
    for j in reversed(range(len(vec))):
        out = ite(Eq(i, j), vec[j], out)
    return out


def put(vec: tuple[Term, ...], i: Term, v: Term) -> tuple[Term, ...]:
    """vec with vec[i] = v (an index past the vector changes nothing)."""
    return tuple(ite(Eq(i, j), v, x) for j, x in enumerate(vec))


def pick(cond: Term, a: NetmapTx | NetmapRx, b: NetmapTx | NetmapRx) -> NetmapTx | NetmapRx:
    """The state ``a`` where ``cond`` holds and ``b`` where it does not, field by field
    and entry by entry."""
    def one(x: Term, y: Term) -> Term:
        if isinstance(x, tuple):
            return tuple(ite(cond, p, q) for p, q in zip(x, y, strict=True))
        return ite(cond, x, y)

    return type(a)(**{f.name: one(getattr(a, f.name), getattr(b, f.name))
                      for f in dataclasses.fields(a)})


def nxt(i: Term) -> Term:
    """ENA_TX_RING_IDX_NEXT(i, ring_size) and nm_next: ``(i + 1) & (N - 1)``."""
    return add16(i, 1) & MASK


def dist(a: Term, b: Term) -> Term:
    """Slots from a forward to b: ``(b - a) & (N - 1)``."""
    return sub16(b, a) & MASK


# ---------------------------------------------------------------------------- state

_ID_VARS = (
    Var("hwcur", "driver", "u16", "kring->nr_hwcur (a slot, < N)."),
    Var("hwtail", "driver", "u16", "kring->nr_hwtail (a slot, < N)."),
    Var("rhead", "user", "u16", "kring->rhead: the head the last sync prologue accepted."),
    Var("ids", "driver", "vec", "free_tx_ids / free_rx_ids: position -> id."),
    Var("next_to_use", "driver", "u16", "ring->next_to_use: position of the next id to "
        "allocate."),
    Var("next_to_clean", "driver", "u16", "ring->next_to_clean: position where the next "
        "released id is written."),
    Var("in_flight", "driver", "vec", "id -> 1 while the id's buffer is with the device "
        "(TX: nm_info.sockets_used != 0; RX: rx_info->netmap_buf_idx != 0)."),
    Var("used", "ghost", "u16", "Ghost: ids in flight (the device's share)."),
)


@dataclass(frozen=True)
class NetmapTx:
    """An ENA TX ring in netmap mode: the kring pointers, the req_id bookkeeping and
    ``tx_info->timestamp``."""

    hwcur: Term
    hwtail: Term
    rhead: Term
    ids: tuple[Term, ...]
    next_to_use: Term
    next_to_clean: Term
    in_flight: tuple[Term, ...]
    used: Term
    stamp: tuple[Term, ...]

    def replace(self, **changes: Term) -> NetmapTx:
        return replace(self, **changes)


@dataclass(frozen=True)
class NetmapRx:
    """An ENA RX ring in netmap mode: the kring pointers, the req_id bookkeeping, and the
    buffers left to post of the refill under way."""

    hwcur: Term
    hwtail: Term
    rhead: Term
    ids: tuple[Term, ...]
    next_to_use: Term
    next_to_clean: Term
    in_flight: tuple[Term, ...]
    used: Term
    refill: Term

    def replace(self, **changes: Term) -> NetmapRx:
        return replace(self, **changes)


IDENTITY = tuple(range(DEPTH))
NONE = (0,) * DEPTH


def tx_init(k: Term = 0) -> NetmapTx:
    """ena_setup_tx_resources in netmap mode: netmap_reset gives hwcur = rhead = 0 and
    hwtail = N - 1; free_tx_ids is the identity, nothing in flight, no timestamps.  (The
    argument is the depth the other ENA machines take; this one is fixed.)"""
    del k
    return NetmapTx(hwcur=0, hwtail=MASK, rhead=0, ids=IDENTITY, next_to_use=0,
                    next_to_clean=0, in_flight=NONE, used=0, stamp=NONE)


def rx_init(k: Term = 0) -> NetmapRx:
    """ena_setup_rx_resources, then the initial refill of N - 1 buffers: netmap_reset gives
    hwcur = hwtail = rhead = 0, and ena_netmap_alloc_rx_slot (which ignores rhead until the
    ring is initialized) posts ids 0..N-2 from slots 0..N-2, so nr_hwcur = N - 1."""
    del k
    return NetmapRx(hwcur=MASK, hwtail=0, rhead=0, ids=IDENTITY, next_to_use=MASK,
                    next_to_clean=0, in_flight=(1,) * MASK + (0,), used=MASK, refill=0)


def _machine(name: str, title: str, state_type: type, vars_: tuple[Var, ...], init,
             driver: tuple[str, ...]) -> EnaMachine:
    return EnaMachine(name=name, title=title, state_type=state_type, vars=vars_, init=init,
                      doc=init.__doc__ or "", driver_fields=driver, min_log2=2, max_log2=2,
                      vec_len=DEPTH)


_DRIVER = ("hwcur", "hwtail", "rhead", "ids", "next_to_use", "next_to_clean", "in_flight")
NETMAP_TX = _machine(
    "ena_netmap_txsync", "ENA netmap TX (ena_netmap_txsync)", NetmapTx,
    (*_ID_VARS, Var("stamp", "driver", "vec", "id -> 1 while tx_info->timestamp is set "
                    "(what the missing-TX-completion watchdog scans).")),
    tx_init, (*_DRIVER, "stamp"))
NETMAP_RX = _machine("ena_netmap_rxsync", "ENA netmap RX (ena_netmap_rxsync)", NetmapRx,
                     (*_ID_VARS, Var("refill", "driver", "u16", "Buffers ena_refill_rx_bufs "
                                     "still has to post of the count ena_netmap_rx_cleanup "
                                     "gave it (0 between syncs).")),
                     rx_init, (*_DRIVER, "refill"))


# ---------------------------------------------------------------------------- images


def tx_image(s: NetmapTx) -> NetmapRing:
    """The netmap TX kring an ENA TX ring stands for: hwcur, hwtail and rhead as they are
    (the user's head and cur at rhead, tail = rtail = hwtail after nm_sync_finalize); the
    slots in flight are the ``used`` ones before hwcur, and completions are reclaimed in
    the step that takes them, so the NIC pointer is the slot after hwtail.

    The values stay u16 bit-vectors: netmap's ring functions (:mod:`model.core`) use
    ``+``, ``-`` and signed comparisons on values within a few rings of 0, which 16-bit
    two's complement represents exactly on a ring of 4 (the argument of
    :func:`model.ena_abstraction.to_int`, with a narrower width)."""
    return NetmapRing(n=DEPTH, head=s.rhead, cur=s.rhead, tail=s.hwtail, hwcur=s.hwcur,
                      hwtail=s.hwtail, rhead=s.rhead, rcur=s.rhead, rtail=s.hwtail,
                      nic=nxt(s.hwtail), busy=s.used)


def rx_image(s: NetmapRx) -> NetmapRing:
    """The netmap RX kring an ENA RX ring stands for: netmap's hwcur (next slot to give
    back) is ENA's ``nr_hwcur + 1``, so netmap's gap slot ``hwcur - 1`` is the slot ENA
    posts next; the NIC fills from hwtail (completions are taken in the step that reads
    them) and owns the ``used`` posted buffers.  u16 values, as in :func:`tx_image`."""
    return NetmapRing(n=DEPTH, head=s.rhead, cur=s.rhead, tail=s.hwtail, hwcur=nxt(s.hwcur),
                      hwtail=s.hwtail, rhead=s.rhead, rcur=s.rhead, rtail=s.hwtail,
                      nic=s.hwtail, busy=s.used)


def same_ring(a: NetmapRing, b: NetmapRing) -> Term:
    return And(*[Eq(getattr(a, f.name), getattr(b, f.name))
                 for f in dataclasses.fields(NetmapRing)])


# ---------------------------------------------------------------------------- shared moves


def alloc(s: NetmapTx | NetmapRx) -> tuple[Term, NetmapTx | NetmapRx]:
    """``req_id = free_ids[next_to_use]`` goes to the device and next_to_use advances
    (ena_netmap_tx_frame; ena_refill_rx_bufs).  Returns (req_id, state)."""
    req_id = at(s.ids, s.next_to_use)
    return req_id, s.replace(in_flight=put(s.in_flight, req_id, 1),
                             next_to_use=nxt(s.next_to_use), used=add16(s.used, 1))


def release(s: NetmapTx | NetmapRx, req_id: Term, next_clean: Term) -> NetmapTx | NetmapRx:
    """``free_ids[next_to_clean] = req_id``, the id leaves the device, next_to_clean
    becomes ``next_clean`` (ena_netmap_tx_clean_one; ena_netmap_rx_load_desc)."""
    return s.replace(ids=put(s.ids, s.next_to_clean, req_id),
                     in_flight=put(s.in_flight, req_id, 0), next_to_clean=next_clean,
                     used=sub16(s.used, 1))


def _publish(s: NetmapTx | NetmapRx, dh: Term) -> Step:
    """The user hands dh more slots to the kernel and the sync prologue accepts the new
    head: rhead moves forward within [rhead .. hwtail]."""
    return Step(ule(dh, dist(s.rhead, s.hwtail)), s.replace(rhead=add16(s.rhead, dh) & MASK))


_DH = (Param("dh", "u16", "slots the user hands to the kernel"),)
_REQ = (Param("req_id", "u16", "the completion's req_id"),)


def ids_ok(s: NetmapTx | NetmapRx) -> Term:
    """free_ids and the ids in flight are a permutation of 0..N-1: next_to_use and
    next_to_clean are positions, next_to_use = next_to_clean + used (mod N), exactly
    ``used`` ids are in flight, and the N - used positions of the free window
    [next_to_use, next_to_use + N - used) hold distinct ids that are not in flight."""
    window = [ult(dist(s.next_to_use, p), DEPTH - s.used) for p in range(DEPTH)]
    total: Term = 0
    for x in range(DEPTH):
        total = add16(total, s.in_flight[x])
    free = [Implies(window[p], And(ult(s.ids[p], DEPTH), Eq(at(s.in_flight, s.ids[p]), 0)))
            for p in range(DEPTH)]
    distinct = [Implies(And(window[p], window[q]), Not(Eq(s.ids[p], s.ids[q])))
                for p in range(DEPTH) for q in range(p + 1, DEPTH)]
    return And(ult(s.next_to_use, DEPTH), ult(s.next_to_clean, DEPTH), ule(s.used, DEPTH),
               Eq(s.next_to_use, add16(s.next_to_clean, s.used) & MASK),
               *[ule(s.in_flight[x], 1) for x in range(DEPTH)], Eq(total, s.used),
               *free, *distinct)


# ---------------------------------------------------------------------------- TX


@NETMAP_TX.transition(actor="user", params=_DH)
def user_publish(s: NetmapTx, dh: Term) -> Step:
    """The user fills dh slots and publishes them (head += dh); nm_txsync_prologue
    accepts it (rhead = head)."""
    return _publish(s, dh)


def tx_frame(s: NetmapTx, stamps: bool) -> Step:
    """ena_netmap_tx_frame on the slot at hwcur (while hwcur != rhead):
    ``req_id = free_tx_ids[next_to_use]`` goes in flight, next_to_use and hwcur advance;
    hardened, ``tx_info->timestamp`` is stamped as ena_xmit_mbuf does."""
    req_id, post = alloc(s)
    post = post.replace(hwcur=nxt(s.hwcur))
    if stamps:
        post = post.replace(stamp=put(s.stamp, req_id, 1))
    return Step(And(Not(Eq(s.hwcur, s.rhead)), ult(s.used, DEPTH)), post)


@NETMAP_TX.transition(actor="driver", breaks=("ENA-NM-TX-WATCHED",))
def tx_frame_as_shipped(s: NetmapTx) -> Step:
    """One packet through ena_netmap_tx_frame as shipped: no timestamp."""
    return tx_frame(s, stamps=False)


@NETMAP_TX.transition(actor="driver")
def tx_frame_hardened(s: NetmapTx) -> Step:
    """The same, stamping ``tx_info->timestamp``."""
    return tx_frame(s, stamps=True)


def tx_clean(s: NetmapTx, req_id: Term, hardened: bool) -> Step:
    """ena_netmap_tx_cleanup takes one valid completion (req_id < N and in flight) and
    ena_netmap_tx_clean_one returns its buffer to the slot after hwtail:
    ``free_tx_ids[nt] = req_id``, nt advances, hwtail advances.  As shipped nt advances
    with ``ENA_TX_RING_IDX_NEXT(nt, lim)``, i.e. ``(nt + 1) & (N - 2)``; hardened with
    ``(nt + 1) & (N - 1)``.  Both clear the id's timestamp (the hardened half of
    ENA-NM-TX-WATCHED; as shipped there is none to clear)."""
    wrong = add16(s.next_to_clean, 1) & (DEPTH - 2)
    post = release(s, req_id, nxt(s.next_to_clean) if hardened else wrong)
    post = post.replace(hwtail=nxt(s.hwtail), stamp=put(s.stamp, req_id, 0))
    return Step(And(ult(req_id, DEPTH), Eq(at(s.in_flight, req_id), 1)), post)


@NETMAP_TX.transition(actor="driver", params=_REQ, breaks=("ENA-NM-TX-IDS",))
def tx_clean_as_shipped(s: NetmapTx, req_id: Term) -> Step:
    """One completion through ena_netmap_tx_clean_one as shipped (mask ring_size - 2)."""
    return tx_clean(s, req_id, hardened=False)


@NETMAP_TX.transition(actor="driver", params=_REQ)
def tx_clean_hardened(s: NetmapTx, req_id: Term) -> Step:
    """The same with ``ENA_TX_RING_IDX_NEXT(nt, ring_size)``."""
    return tx_clean(s, req_id, hardened=True)


NETMAP_TX.invariant(
    "ENA-NM-TX-IDS",
    "free_tx_ids and the ids in flight are a permutation of 0..N-1, and next_to_use is "
    "next_to_clean plus the ids in flight (mod N): the property ENA-REQID-COUNT, -IDS and "
    "-POSITIONS state for the mbuf path.",
)(ids_ok)


@NETMAP_TX.invariant(
    "ENA-NM-TX-WATCHED",
    "An id has a tx_info timestamp exactly while it is in flight, so the "
    "missing-TX-completion watchdog sees every netmap packet the device still holds.",
)
def tx_watched(s: NetmapTx) -> Term:
    return And(*[Eq(s.stamp[x], s.in_flight[x]) for x in range(DEPTH)])


@NETMAP_TX.invariant(
    "ENA-NM-TX-RING",
    "The netmap TX kring the ENA ring stands for satisfies every invariant of netmap's TX "
    "ring (NM-TX-RANGE, -USER-VIEW, -ORDER, -ONE-SLOT-EMPTY, -PARTITION, -BUSY-REGS), with "
    "the ids in flight as the NIC's slots.",
)
def tx_ring_ok(s: NetmapTx) -> Term:
    img = tx_image(s)
    return And(*[inv(img) for inv in netmap_ring.TX.invariants.values()])


def tx_netmap_steps(v: NetmapRing, w: NetmapRing) -> Term:
    """w is v after one step of netmap's TX machine, or equal to it: the user publishing
    slots through the hardened prologue, the driver sending one slot, or the NIC completing
    one slot and the driver reclaiming it (each followed by nm_sync_finalize)."""
    dh = ring_dist(v.rhead, w.rhead, v.n)
    advanced = netmap_ring.TX.transitions["user_advance"](v, dh=dh, dc=0)
    ret, published = nm_txsync_prologue(HARDENED, advanced.post)
    done = netmap_ring.TX.transitions["device_complete"](v, k=1)
    return Or(
        same_ring(v, w),
        And(advanced.guard, caller_accepts((ret, published)), same_ring(published, w)),
        same_ring(nm_sync_finalize(tx_driver_sync(v, 1)), w),
        And(done.guard, same_ring(nm_sync_finalize(tx_driver_sync(done.post, 0)), w)),
    )


@NETMAP_TX.contract(
    "ENA-NM-TX-REFINES",
    "Every ENA netmap TX step is a step of netmap's TX ring machine on the image (publish, "
    "send one slot, complete and reclaim one slot) or leaves the image unchanged.",
    transitions=("user_publish", "tx_frame_as_shipped", "tx_frame_hardened",
                 "tx_clean_as_shipped", "tx_clean_hardened"),
)
def tx_refines(s: NetmapTx, args: dict[str, Term], step: Step) -> Term:
    """guard => tx_netmap_steps(tx_image(pre), tx_image(post))."""
    return Or(Not(step.guard), tx_netmap_steps(tx_image(s), tx_image(step.post)))


# ---------------------------------------------------------------------------- RX


@NETMAP_RX.transition(actor="user", params=_DH)
def user_release(s: NetmapRx, dh: Term) -> Step:
    """The user releases dh received slots (head += dh); the prologue accepts it."""
    return _publish(s, dh)


def rx_frame(s: NetmapRx, req_id: Term, hardened: bool) -> Step:
    """ena_netmap_rx_frame on a one-descriptor packet whose req_id passed ena_com_rx_pkt's
    range check, while the NIC holds a buffer: ena_netmap_rx_load_desc gives
    ``rx_info->netmap_buf_idx`` to the slot at hwtail, writes ``free_rx_ids[nt] =
    req_id`` and advances nt and hwtail.  As shipped it does so whether or not the id was
    posted; hardened, an id not in flight is refused (the INV_RX_REQ_ID reset of the mbuf
    path) and nothing moves."""
    delivered = release(s, req_id, nxt(s.next_to_clean)).replace(hwtail=nxt(s.hwtail))
    guard = And(ult(req_id, DEPTH), ult(0, s.used))
    if not hardened:
        return Step(guard, delivered)
    return Step(guard, pick(Eq(at(s.in_flight, req_id), 1), delivered, s))


@NETMAP_RX.transition(actor="driver", params=_REQ, breaks=("ENA-NM-RX-IDS",))
def rx_frame_as_shipped(s: NetmapRx, req_id: Term) -> Step:
    """One RX completion through ena_netmap_rx_load_desc as shipped (no duplicate test)."""
    return rx_frame(s, req_id, hardened=False)


@NETMAP_RX.transition(actor="driver", params=_REQ)
def rx_frame_hardened(s: NetmapRx, req_id: Term) -> Step:
    """The same, refusing an id whose ``netmap_buf_idx`` is 0 (not posted)."""
    return rx_frame(s, req_id, hardened=True)


def refill_count(s: NetmapRx) -> Term:
    """ena_netmap_rx_cleanup's count: ``rhead - nr_hwcur``, minus one if ``nr_hwcur !=
    nr_hwtail``, plus ``nkr_num_slots`` if negative."""
    return sub16(dist(s.hwcur, s.rhead), ite(Eq(s.hwcur, s.hwtail), 0, 1)) & MASK


def rx_cleanup(s: NetmapRx, hardened: bool) -> Step:
    """ena_netmap_rx_cleanup computes the refill count once and hands it to
    ena_refill_rx_bufs: as shipped :func:`refill_count`; hardened the slots the user
    released, ``rhead - hwcur - 1`` (mod N), also when the NIC holds no buffer
    (nr_hwcur == nr_hwtail)."""
    count = dist(nxt(s.hwcur), s.rhead) if hardened else refill_count(s)
    return Step(Eq(s.refill, 0), s.replace(refill=count))


@NETMAP_RX.transition(actor="driver")
def rx_cleanup_as_shipped(s: NetmapRx) -> Step:
    """The refill count as shipped."""
    return rx_cleanup(s, hardened=False)


@NETMAP_RX.transition(actor="driver")
def rx_cleanup_hardened(s: NetmapRx) -> Step:
    """The refill count of the released slots."""
    return rx_cleanup(s, hardened=True)


def alloc_refused(s: NetmapRx, hardened: bool) -> Term:
    """ena_netmap_alloc_rx_slot's "no free slots" (ENOMEM) on an initialized ring: as
    shipped at slot ``rhead``; hardened at the gap slot ``rhead - 1``."""
    return Eq(nxt(s.hwcur) if hardened else s.hwcur, s.rhead)


def rx_refill(s: NetmapRx, hardened: bool) -> Step:
    """One buffer of the refill under way: ena_netmap_alloc_rx_slot takes the buffer of
    slot hwcur for ``free_rx_ids[next_to_use]`` and advances hwcur (the count is not
    looked at again).  The SQ holds at most N - 1 descriptors."""
    _, post = alloc(s)
    guard = And(ult(0, s.refill), Not(alloc_refused(s, hardened)), ult(s.used, MASK))
    return Step(guard, post.replace(hwcur=nxt(s.hwcur), refill=sub16(s.refill, 1)))


@NETMAP_RX.transition(actor="driver", breaks=("ENA-NM-RX-RING",))
def rx_refill_as_shipped(s: NetmapRx) -> Step:
    """One buffer of ena_netmap_rx_cleanup's refill as shipped."""
    return rx_refill(s, hardened=False)


@NETMAP_RX.transition(actor="driver")
def rx_refill_hardened(s: NetmapRx) -> Step:
    """One buffer of the refill, stopping at the gap."""
    return rx_refill(s, hardened=True)


def rx_refill_stop(s: NetmapRx, hardened: bool) -> Step:
    """ena_refill_rx_bufs stops early: the allocation refused the slot (ENOMEM) or the
    SQ is full; the rest of the count is dropped."""
    full = Not(ult(s.used, MASK))
    return Step(And(ult(0, s.refill), Or(alloc_refused(s, hardened), full)),
                s.replace(refill=0))


@NETMAP_RX.transition(actor="driver")
def rx_refill_stop_as_shipped(s: NetmapRx) -> Step:
    """The refill as shipped stops short."""
    return rx_refill_stop(s, hardened=False)


@NETMAP_RX.transition(actor="driver")
def rx_refill_stop_hardened(s: NetmapRx) -> Step:
    """The hardened refill stops short."""
    return rx_refill_stop(s, hardened=True)


NETMAP_RX.invariant(
    "ENA-NM-RX-IDS",
    "free_rx_ids and the posted ids are a permutation of 0..N-1, and next_to_use is "
    "next_to_clean plus the posted ids (mod N): the property ENA-REQID-COUNT, -IDS and "
    "-POSITIONS state for the mbuf path.",
)(ids_ok)


@NETMAP_RX.invariant(
    "ENA-NM-RX-RING",
    "The netmap RX kring the ENA ring stands for satisfies every invariant of netmap's RX "
    "ring (NM-RX-RANGE, -USER-VIEW, -ORDER, -ONE-SLOT-EMPTY, -PARTITION, -BUSY-REGS): the "
    "posted buffers are the slots [hwtail, nr_hwcur), slot nr_hwcur is the gap, and no "
    "slot the user holds is posted.",
)
def rx_ring_ok(s: NetmapRx) -> Term:
    img = rx_image(s)
    return And(ult(s.hwcur, DEPTH), *[inv(img) for inv in netmap_ring.RX.invariants.values()])


def rx_netmap_steps(v: NetmapRing, w: NetmapRing) -> Term:
    """w is v after one step of netmap's RX machine, or equal to it: the user releasing
    slots, the NIC filling one buffer and the driver reporting it, or the driver giving
    one released slot back (each followed by nm_sync_finalize)."""
    dh = ring_dist(v.rhead, w.rhead, v.n)
    advanced = netmap_ring.RX.transitions["user_advance"](v, dh=dh, dc=0)
    released = advanced.post.replace(rhead=advanced.post.head, rcur=advanced.post.cur)
    filled_one = netmap_ring.RX.transitions["device_deliver"](v, k=1)
    return Or(
        same_ring(v, w),
        And(advanced.guard, same_ring(released, w)),
        And(filled_one.guard,
            same_ring(nm_sync_finalize(rx_driver_sync(filled_one.post, 0)), w)),
        And(ring_dist(v.hwcur, v.rhead, v.n) >= 1,
            same_ring(nm_sync_finalize(rx_driver_sync(v, 1)), w)),
    )


@NETMAP_RX.contract(
    "ENA-NM-RX-REFINES",
    "Every ENA netmap RX step is a step of netmap's RX ring machine on the image (release, "
    "fill and report one slot, give one released slot back) or leaves the image "
    "unchanged.",
    transitions=("user_release", "rx_frame_as_shipped", "rx_frame_hardened",
                 "rx_cleanup_as_shipped", "rx_cleanup_hardened", "rx_refill_as_shipped",
                 "rx_refill_hardened", "rx_refill_stop_as_shipped",
                 "rx_refill_stop_hardened"),
    breaks=("rx_refill_as_shipped",),
)
def rx_refines(s: NetmapRx, args: dict[str, Term], step: Step) -> Term:
    """guard => rx_netmap_steps(rx_image(pre), rx_image(post))."""
    return Or(Not(step.guard), rx_netmap_steps(rx_image(s), rx_image(step.post)))


# ---------------------------------------------------------------------------- mode switch


@dataclass(frozen=True)
class NetmapReg:
    """The adapter's reset request (as in :class:`model.ena_keepalive.KeepAlive`), the
    netmap mode, and a ghost count of device resets."""

    netmap: Term
    trigger: Term
    reason: Term
    queued: Term
    resets: Term

    def replace(self, **changes: Term) -> NetmapReg:
        return replace(self, **changes)


def reg_init(k: Term = 0) -> NetmapReg:
    """An attached adapter, netmap off, no reset requested.  (The argument is the ring
    depth the other ENA machines take; this machine has no ring.)"""
    del k
    return NetmapReg(netmap=0, trigger=0, reason=NORMAL, queued=0, resets=0)


NETMAP_REG = EnaMachine(
    name="ena_netmap_reg",
    title="ENA netmap mode switch and a pending reset",
    state_type=NetmapReg,
    vars=(
        Var("netmap", "driver", "bit", "Native netmap mode is on (nm_set_native_flags)."),
        Var("trigger", "driver", "bit", "ENA_FLAG_TRIGGER_RESET: a reset is requested."),
        Var("reason", "driver", "u16", "adapter->reset_reason (0 = NORMAL)."),
        Var("queued", "driver", "bit", "The reset task is queued on reset_tq."),
        Var("resets", "ghost", "u16", "Ghost: device resets issued (ena_com_dev_reset)."),
    ),
    init=reg_init,
    doc=reg_init.__doc__ or "",
    driver_fields=("netmap", "trigger", "reason", "queued"),
    min_log2=1,
    max_log2=1,
)


@NETMAP_REG.transition(actor="driver",
                       params=(Param("reason", "u16", "the reset reason requested"),))
def trigger_reset(s: NetmapReg, reason: Term) -> Step:
    """ena_trigger_reset from any path: the first reason wins."""
    return Step(And(ule(1, reason), ult(reason, REASON_LAST)),
                s.replace(reason=record_reason(s.reason, reason), trigger=1))


@NETMAP_REG.transition(actor="driver")
def timer_queues_reset(s: NetmapReg) -> Step:
    """ena_timer_service sees the flag and queues the reset task."""
    return Step(And(Eq(s.trigger, 1), Eq(s.queued, 0)), s.replace(queued=1))


@NETMAP_REG.transition(actor="driver")
def reset_task(s: NetmapReg) -> Step:
    """ena_reset_task: only if the flag is set, ena_destroy_device (device reset with the
    reason, reason back to NORMAL, flag cleared) and ena_restore_device."""
    fired = Eq(s.trigger, 1)
    return Step(Eq(s.queued, 1), s.replace(
        queued=0, trigger=0, reason=ite(fired, NORMAL, s.reason),
        resets=ite(fired, add16(s.resets, 1), s.resets)))


def netmap_reg(s: NetmapReg, onoff: Term, up_ok: Term, clears: bool) -> Step:
    """ena_netmap_reg: (as shipped) clear ENA_FLAG_TRIGGER_RESET; ena_down, which resets the
    device with reset_reason if the flag is set; switch the mode; ena_up.  If ena_up fails:
    reset_reason = DRIVER_INVALID_STATE, netmap off, ena_destroy_device (device reset,
    reason NORMAL, flag cleared) and ena_restore_device; a reset task still queued then
    finds the flag clear and does nothing, so the model drops it."""
    t = s.replace(trigger=0) if clears else s
    down = t.replace(resets=ite(Eq(t.trigger, 1), add16(t.resets, 1), t.resets), netmap=onoff)
    failed = down.replace(netmap=0, trigger=0, reason=NORMAL, queued=0,
                          resets=add16(down.resets, 1))
    return Step(True, choose(Eq(up_ok, 1), down, failed))


_REG = (Param("onoff", "bit", "1: enter netmap mode, 0: leave it"),
        Param("up_ok", "bit", "ena_up succeeds"))


@NETMAP_REG.transition(actor="driver", params=_REG,
                       breaks=("ENA-NM-RESET-PENDING",))
def netmap_reg_as_shipped(s: NetmapReg, onoff: Term, up_ok: Term) -> Step:
    """ena_netmap_reg as shipped: the flag is cleared first."""
    return netmap_reg(s, onoff, up_ok, clears=True)


@NETMAP_REG.transition(actor="driver", params=_REG)
def netmap_reg_hardened(s: NetmapReg, onoff: Term, up_ok: Term) -> Step:
    """ena_netmap_reg leaving the flag alone: ena_down resets the device with the pending
    reason and the reset task still runs."""
    return netmap_reg(s, onoff, up_ok, clears=False)


NETMAP_REG.invariant(
    "ENA-NM-RESET-PENDING",
    "A reset is requested exactly when a reason other than NORMAL is recorded, and the "
    "reset task is queued only for a requested reset (ENA-RESET-PENDING of the keep-alive "
    "model, across netmap mode switches).",
)(reset_requested)


@NETMAP_REG.contract(
    "ENA-NM-RESET-KEPT",
    "A netmap mode switch never drops a requested reset: the device is reset, or the "
    "request is still pending with its reason.",
    transitions=("netmap_reg_as_shipped", "netmap_reg_hardened"),
    breaks=("netmap_reg_as_shipped",),
)
def reset_kept(s: NetmapReg, args: dict[str, Term], step: Step) -> Term:
    """pre.trigger => post.resets != pre.resets or (post.trigger and same reason)."""
    post = step.post
    return Or(Eq(s.trigger, 0), Not(Eq(post.resets, s.resets)),
              And(Eq(post.trigger, 1), Eq(post.reason, s.reason)))

