"""Transparent mode, host to NIC, by buffer identity: which buffer is in which slot while
``netmap_sw_to_nic`` swaps the host RX ring's ``NS_FORWARD`` packets into a TX ring.

:mod:`model.netmap_forward` counts packets (``FWD-ONCE``); this model follows the
buffers.  The state is one pass of the loop of ``netmap_sw_to_nic``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1304)
over the host RX ring and one hardware TX ring: the slot arrays of both rings (``struct
netmap_slot``'s ``buf_idx``, ``len`` and ``flags``,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L163)
as arrays slot -> value, for symbolic ring sizes ``n`` (host RX) and ``tn`` (TX), the
loop cursor ``rxcur`` and the TX ring's ``head``, ``cur`` and ``tail``.  One iteration
of the loop is one transition (:func:`iteration_as_shipped`): while ``rxcur != rhead``
and ``cur != tail`` (``!nm_ring_empty``), if slot ``rxcur`` carries ``NS_FORWARD`` (or
``dev.netmap.fwd`` is set) its buffer index and length go to TX slot ``head``, TX slot
``head``'s buffer index goes back to slot ``rxcur``, both get ``flags =
NS_BUF_CHANGED`` (the source slot keeps its length), and ``head = cur = head + 1``; in
either case ``rxcur`` moves on.  With several TX rings the C runs the same loop into
each ring in turn, carrying ``rxcur`` over: each ring is this model again.

The snapshot fields (``rx0`` ...) hold the slots as the loop found them; ghosts record
where each entry slot's buffer went.  Places number the slots of both rings: host RX
slot ``i`` is place ``i``, TX slot ``j`` is place ``n + j``.

What it shows, for every ring size 2 <= n, tn < 2^32 (nkr_num_slots is a u_int) -- not
bounded: the invariants quantify over slots and places and are instantiated at the terms
a step touches, see proofs/swap_obligations.py (only the search for a counterexample,
for the findings and the mutants, is done at small sizes, where it is exact):

* SWAP-PERM: the slots of the two rings hold the buffers they held when the loop began,
  permuted: ``came_from`` names, for each place, the entry place whose buffer it holds
  now, and ``went_to`` is its inverse.  A bijection between places that carries each
  entry buffer to its place now means the multiset of buffer indices in the two rings
  never changes: no buffer is lost (each entry buffer is somewhere) and none duplicated
  (two places holding one entry place's buffer would both be ``went_to`` of it).  That
  needs no assumption about the entry: if the rings held distinct buffers, they still
  do.  The invariant holds on entry (identity ghosts) and each iteration keeps it, so by
  induction over the iterations it holds after the whole loop, however many packets it
  forwards.
* SWAP-DELIVERED: each packet the loop has passed that was forwardable is in exactly one
  of the TX slots the loop filled (``sent_to``; ``taken_from`` is the inverse), with its
  own buffer and length: the buffer moved, it was not copied; and that TX slot's old
  buffer is now in the packet's host slot.  SWAP-KEPT: every other slot is as the loop
  found it.  SWAP-CHANGED: every slot whose buffer changed carries ``NS_BUF_CHANGED``.
* SWAP-NIC: the TX slots the kernel owns (all but the user's ``[nr_hwcur, rtail)``: in
  flight on the NIC, or the gap; every slot when ``rtail == nr_hwcur``) keep their
  buffers.  As shipped the loop reads ``head``, ``cur`` and ``tail`` from the shared
  ring and checks none of them against the kring (a comment in the C wonders which of
  the two to trust): with a scribbled ``tail`` the swap takes a buffer the NIC is still
  sending from and puts it in the host RX ring (SWAP-NIC refuted as shipped), and with
  a ``head`` that is not a slot index the packet's buffer is written past the slot
  array and whatever lies there comes back as a buffer (SWAP-PERM refuted as shipped).
  These are ``FWD-KERNEL-SLOTS`` and ``FWD-IN-RING`` of :mod:`model.netmap_forward`,
  seen by buffer.  :func:`iteration_hardened` bounds the loop by the kring (``nr_hwcur
  <= head <= cur <= rtail``, up to ``rtail``) and keeps every invariant whatever the
  user wrote.

SWAP-PERM, SWAP-NIC and SWAP-SHAPE are kernel invariants (any user values in the TX
ring's ``head``, ``cur`` and ``tail``); SWAP-TX-VIEW, SWAP-DELIVERED, SWAP-KEPT and
SWAP-CHANGED are stated for a TX ring consistent with its kring when the loop starts
(what the TX prologue checks for a well-behaved user, FWD-TX-VIEW).  On a scribbled ring
with ``head == tail != cur`` the C goes a whole lap round the TX ring (it stops only when
the new ``cur`` comes back to ``tail``); the iteration follows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from model.core import (
    U32_MAX,
    And,
    Eq,
    If,
    Implies,
    Machine,
    Not,
    Or,
    Step,
    Term,
    Var,
    in_cyclic,
    in_range,
    ring_add,
    ring_dist,
    ring_next,
    solver_module,
    u32,
)

#: struct netmap_slot flags (netmap.h).
NS_BUF_CHANGED = 0x0001
NS_FORWARD = 0x0004


# ---------------------------------------------------------------------------- arrays


class Identity:
    """The array ``x -> x`` (the ghosts on entry: every place holds its own buffer).
    Read-only; :func:`select` returns the index itself."""

    def __repr__(self) -> str:
        return "Identity()"


def select(arr: Term, i: Term) -> Term:
    """``arr[i]``: a tuple concretely (an index past it reads 0, as memory outside the
    slot array is modelled), ``Select`` on a solver array."""
    if isinstance(arr, Identity):
        return i
    if isinstance(arr, tuple):
        if not isinstance(i, int):
            raise TypeError("symbolic index into a concrete array")
        return arr[i] if 0 <= i < len(arr) else 0
    return solver_module(arr).Select(arr, i)


def store(arr: Term, i: Term, v: Term) -> Term:
    """``arr`` with ``arr[i] = v``.  Concretely a write past the tuple is an error: the
    implementation has no memory there (the proofs cover those writes symbolically)."""
    if isinstance(arr, Identity):
        raise TypeError("the identity array of the entry state is read-only")
    if isinstance(arr, tuple):
        if not (isinstance(i, int) and 0 <= i < len(arr)):
            raise IndexError(f"write at {i} past a {len(arr)}-slot array")
        return (*arr[:i], v, *arr[i + 1:])
    return solver_module(arr, i, v).Store(arr, i, v)


#: The kinds of index a quantifier ranges over: host RX slots, TX slots, places.
KINDS = ("host", "tx", "place")

_INSTANCES: ContextVar[dict[str, Sequence[Term]] | None] = ContextVar("swap_instances",
                                                                      default=None)


@contextmanager
def instantiated_at(terms: Sequence[Term] | dict[str, Sequence[Term]]) -> Iterator[None]:
    """Within this block a symbolic :func:`every` over ``kind`` is its body at
    ``terms[kind]`` (one list: at those terms whatever the kind)."""
    table = terms if isinstance(terms, dict) else {k: tuple(terms) for k in KINDS}
    token = _INSTANCES.set(table)
    try:
        yield
    finally:
        _INSTANCES.reset(token)


def every(bound: Term, body: Callable[[Term], Term], kind: str) -> Term:
    """For every ``kind`` index x with 0 <= x < bound: body(x).  Concretely each x is
    checked; symbolically the body is taken at the terms of the enclosing
    :func:`instantiated_at` (a premise at finitely many terms is implied by the
    quantified one; a goal at a fresh variable holds for all)."""
    if isinstance(bound, int):
        return And(*[body(x) for x in range(bound)])
    terms = _INSTANCES.get()
    if terms is None:
        raise RuntimeError("every() on a symbolic state needs instantiated_at(...)")
    return And(*[Implies(in_range(t, bound), body(t)) for t in terms[kind]])


# ---------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Swap:
    """The two rings during netmap_sw_to_nic (see the module docstring)."""

    n: Term
    tn: Term
    fwd_all: Term
    hwcur: Term
    rhead: Term
    thwcur: Term
    trtail: Term
    ttail: Term
    thead0: Term
    rx0: Term
    rx_len0: Term
    rx_flags0: Term
    tx0: Term
    tx_len0: Term
    tx_flags0: Term
    rx: Term
    rx_len: Term
    rx_flags: Term
    tx: Term
    tx_len: Term
    tx_flags: Term
    rxcur: Term
    thead: Term
    tcur: Term
    sent: Term
    came_from: Term
    went_to: Term
    sent_to: Term
    taken_from: Term

    def replace(self, **changes: Term) -> Swap:
        return dataclasses.replace(self, **changes)


SWAP_VARS = (
    Var("n", "constant", "size", "Slots in the host RX ring (src_lim + 1)."),
    Var("tn", "constant", "size", "Slots in the TX ring (dst_lim + 1)."),
    Var("fwd_all", "constant", "bit", "dev.netmap.fwd (netmap_fwd): forward every slot."),
    Var("hwcur", "constant", "index", "Host RX kring->nr_hwcur: where rxcur starts."),
    Var("rhead", "constant", "index", "Host RX kring->rhead: the loop stops there."),
    Var("thwcur", "constant", "index", "TX kring->nr_hwcur."),
    Var("trtail", "constant", "index", "TX kring->rtail: the user's slots are [nr_hwcur, "
        "rtail), the rest the kernel's (in flight on the NIC, or the gap)."),
    Var("ttail", "constant", "u32", "TX ring->tail as the user left it (the loop reads "
        "it, never writes it)."),
    Var("thead0", "ghost", "u32", "TX ring->head when the loop began."),
    Var("rx0", "ghost", "array", "Host RX slot -> buf_idx when the loop began."),
    Var("rx_len0", "ghost", "array", "Host RX slot -> len when the loop began."),
    Var("rx_flags0", "ghost", "array", "Host RX slot -> flags when the loop began."),
    Var("tx0", "ghost", "array", "TX slot -> buf_idx when the loop began."),
    Var("tx_len0", "ghost", "array", "TX slot -> len when the loop began."),
    Var("tx_flags0", "ghost", "array", "TX slot -> flags when the loop began."),
    Var("rx", "kernel", "array", "Host RX slot -> buf_idx (rxslot[i].buf_idx)."),
    Var("rx_len", "kernel", "array", "Host RX slot -> len."),
    Var("rx_flags", "kernel", "array", "Host RX slot -> flags."),
    Var("tx", "kernel", "array", "TX slot -> buf_idx (rdst->slot[j].buf_idx)."),
    Var("tx_len", "kernel", "array", "TX slot -> len."),
    Var("tx_flags", "kernel", "array", "TX slot -> flags."),
    Var("rxcur", "kernel", "index", "The loop's host RX cursor."),
    Var("thead", "user", "u32", "TX ring->head (dst_head)."),
    Var("tcur", "user", "u32", "TX ring->cur."),
    Var("sent", "kernel", "count", "The C's sent: packets swapped so far."),
    Var("came_from", "ghost", "array", "Place -> the entry place whose buffer it holds."),
    Var("went_to", "ghost", "array", "Entry place -> the place holding its buffer now."),
    Var("sent_to", "ghost", "array", "Host RX slot -> the TX slot its packet went to."),
    Var("taken_from", "ghost", "array", "TX slot -> the host RX slot its packet came from."),
)

#: Fields no iteration writes: the kring values, the user's tail and the snapshot.
CONSTANT_FIELDS = ("n", "tn", "fwd_all", "hwcur", "rhead", "thwcur", "trtail", "ttail",
                   "thead0", "rx0", "rx_len0", "rx_flags0", "tx0", "tx_len0", "tx_flags0")


def loop_entry(n: Term, tn: Term, fwd_all: Term, hwcur: Term, rhead: Term, thwcur: Term,
               trtail: Term, thead: Term, tcur: Term, ttail: Term, rx: Term, rx_len: Term,
               rx_flags: Term, tx: Term, tx_len: Term, tx_flags: Term) -> Swap:
    """The state as netmap_sw_to_nic finds it: ``rxcur = nr_hwcur``, ``sent = 0``, the
    snapshot equal to the slots, every place holding its own entry buffer."""
    concrete = isinstance(rx, tuple)
    zeros_rx = (0,) * len(rx) if concrete else Identity()
    zeros_tx = (0,) * len(tx) if concrete else Identity()
    ident = tuple(range(len(rx) + len(tx))) if concrete else Identity()
    return Swap(n=n, tn=tn, fwd_all=fwd_all, hwcur=hwcur, rhead=rhead, thwcur=thwcur,
                trtail=trtail, ttail=ttail, thead0=thead, rx0=rx, rx_len0=rx_len,
                rx_flags0=rx_flags, tx0=tx, tx_len0=tx_len, tx_flags0=tx_flags, rx=rx,
                rx_len=rx_len, rx_flags=rx_flags, tx=tx, tx_len=tx_len, tx_flags=tx_flags,
                rxcur=hwcur, thead=thead, tcur=tcur, sent=0, came_from=ident, went_to=ident,
                sent_to=zeros_rx, taken_from=zeros_tx)


def fresh_rings(n: int) -> Swap:
    """Two fresh n-slot rings (host RX slot i holds buffer 2 + i, TX slot j buffer
    2 + n + j), nothing released: the loop has nothing to do."""
    return loop_entry(n, n, 0, 0, 0, 0, n - 1, 0, 0, n - 1, tuple(range(2, 2 + n)),
                      (0,) * n, (0,) * n, tuple(range(2 + n, 2 + 2 * n)), (0,) * n, (0,) * n)


def entry_kring_ok(s: Swap) -> Term:
    """What the loop may assume of the krings on entry: their own indices are slot
    indices (FWD-SHAPE of model.netmap_forward)."""
    return And(in_range(s.hwcur, s.n), in_range(s.rhead, s.n), in_range(s.thwcur, s.tn),
               in_range(s.trtail, s.tn))


def entry_tx_consistent(s: Swap) -> Term:
    """The user's TX ring agrees with its kring: nr_hwcur <= head <= cur <= tail = rtail,
    slot indices (FWD-TX-VIEW of model.netmap_forward; what the TX prologue accepts)."""
    return And(in_range(s.thead, s.tn), in_range(s.tcur, s.tn), Eq(s.ttail, s.trtail),
               in_cyclic(s.thwcur, s.thead, s.trtail, s.tn),
               in_cyclic(s.thead, s.tcur, s.trtail, s.tn))


# ---------------------------------------------------------------------------- the loop


def has_ns_forward(flags: Term) -> Term:
    """``flags & NS_FORWARD`` for a u16 ``flags`` (bit 2), in linear arithmetic."""
    return flags % (2 * NS_FORWARD) >= NS_FORWARD


def forwardable(s: Swap, flags: Term) -> Term:
    """The slot is swapped: it carries NS_FORWARD, or dev.netmap.fwd is set (the C skips
    it otherwise)."""
    return Or(Eq(s.fwd_all, 1), has_ns_forward(flags))


def tx_next(s: Swap, head: Term) -> Term:
    """``nm_next(dst_head, dst_lim)`` on a u32 head (one past the array stays past it)."""
    return If(Eq(head, s.tn - 1), 0, u32(head + 1))


def host_place(s: Swap, i: Term) -> Term:
    return i


def tx_place(s: Swap, j: Term) -> Term:
    return s.n + j


def swap_ghosts(s: Swap, post: Swap) -> Swap:
    """The ghosts of a swap of host slot ``rxcur`` with TX slot ``head``: the two places
    exchange their entry places, and the packet records its TX slot."""
    r, h = s.rxcur, s.thead
    a, b = host_place(s, r), tx_place(s, h)
    fa, fb = select(s.came_from, a), select(s.came_from, b)
    return post.replace(
        came_from=store(store(s.came_from, a, fb), b, fa),
        went_to=store(store(s.went_to, fa, b), fb, a),
        sent_to=store(s.sent_to, r, h), taken_from=store(s.taken_from, h, r))


def swap_slots(s: Swap) -> Swap:
    """The loop body for a forwardable slot, in the C's order: keep a copy of the host
    slot; the host slot takes the TX slot's buffer index and its flags become
    NS_BUF_CHANGED; the TX slot takes the copy's buffer index and length and its flags
    become NS_BUF_CHANGED; the TX ring's head and cur move to the slot after head; one
    more sent."""
    r, h = s.rxcur, s.thead
    src_buf, src_len = select(s.rx, r), select(s.rx_len, r)
    nxt = tx_next(s, h)
    return s.replace(
        rx=store(s.rx, r, select(s.tx, h)), rx_flags=store(s.rx_flags, r, NS_BUF_CHANGED),
        tx=store(s.tx, h, src_buf), tx_len=store(s.tx_len, h, src_len),
        tx_flags=store(s.tx_flags, h, NS_BUF_CHANGED), thead=nxt, tcur=nxt, sent=s.sent + 1)


def choose(cond: Term, a: Swap, b: Swap) -> Swap:
    """``a`` where ``cond`` holds, else ``b``, field by field."""
    if isinstance(cond, bool):
        return a if cond else b
    return Swap(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                   for f in dataclasses.fields(a)})


def iterate(s: Swap, body: Callable[[Swap], Swap] = swap_slots) -> Swap:
    """One pass of the loop body: swap slot ``rxcur`` if forwardable (``body``, with the
    ghosts), then ``rxcur = nm_next(rxcur, src_lim)``."""
    swapped = swap_ghosts(s, body(s))
    after = choose(forwardable(s, select(s.rx_flags, s.rxcur)), swapped, s)
    return after.replace(rxcur=ring_next(s.rxcur, s.n))


def loop_runs(s: Swap) -> Term:
    """The C's loop condition: ``rxcur != head && !nm_ring_empty(rdst)`` (``cur !=
    tail`` of the TX ring, as the user wrote them)."""
    return And(Not(Eq(s.rxcur, s.rhead)), Not(Eq(s.tcur, s.ttail)))


def tx_room_hardened(s: Swap) -> Term:
    """The hardened test: the TX ring passes the prologue check against its kring
    (``nr_hwcur <= head <= cur <= rtail``, slot indices) and ``cur != rtail``."""
    return And(in_range(s.thead, s.tn), in_range(s.tcur, s.tn),
               in_cyclic(s.thwcur, s.thead, s.trtail, s.tn),
               in_cyclic(s.thead, s.tcur, s.trtail, s.tn), Not(Eq(s.tcur, s.trtail)))


def iteration_as_shipped(s: Swap) -> Step:
    """One iteration of netmap_sw_to_nic's loop as shipped (trusting the TX ring's head,
    cur and tail)."""
    return Step(loop_runs(s), iterate(s))


def iteration_hardened(s: Swap) -> Step:
    """One iteration with the TX room taken from the kring."""
    return Step(And(Not(Eq(s.rxcur, s.rhead)), tx_room_hardened(s)), iterate(s))


def run_loop(s: Swap, step: Callable[[Swap], Step] = iteration_as_shipped) -> Swap:
    """The whole loop into this TX ring on a concrete state: iterate while the guard
    holds (at most n passes: rxcur reaches rhead)."""
    for _ in range(s.n):
        nxt = step(s)
        if not nxt.guard:
            return s
        s = nxt.post
    return s


# ---------------------------------------------------------------------------- invariants


def place_buf(s: Swap, p: Term) -> Term:
    """The buffer at place ``p`` now."""
    return If(p < s.n, select(s.rx, p), select(s.tx, p - s.n))


def entry_buf(s: Swap, p: Term) -> Term:
    """The buffer place ``p`` held when the loop began."""
    return If(p < s.n, select(s.rx0, p), select(s.tx0, p - s.n))


def forwarded(s: Swap, i: Term) -> Term:
    """Host RX slot ``i`` was forwardable on entry and the loop has passed it."""
    return And(ring_dist(s.hwcur, i, s.n) < ring_dist(s.hwcur, s.rxcur, s.n),
               forwardable(s, select(s.rx_flags0, i)))


def filled(s: Swap, j: Term) -> Term:
    """TX slot ``j`` is one of the ``sent`` slots from the entry head on."""
    return ring_dist(s.thead0, j, s.tn) < s.sent


def swap_shape(s: Swap) -> Term:
    return And(in_range(s.hwcur, s.n), in_range(s.rhead, s.n), in_range(s.rxcur, s.n),
               in_cyclic(s.hwcur, s.rxcur, s.rhead, s.n), in_range(s.thwcur, s.tn),
               in_range(s.trtail, s.tn), Or(Eq(s.fwd_all, 0), Eq(s.fwd_all, 1)),
               s.sent >= 0, s.sent <= ring_dist(s.hwcur, s.rxcur, s.n))


def swap_perm(s: Swap) -> Term:
    places = s.n + s.tn

    def now(p: Term) -> Term:
        q = select(s.came_from, p)
        return And(in_range(q, places), Eq(select(s.went_to, q), p),
                   Eq(place_buf(s, p), entry_buf(s, q)))

    def then(q: Term) -> Term:
        p = select(s.went_to, q)
        return And(in_range(p, places), Eq(select(s.came_from, p), q))

    return And(every(places, now, "place"), every(places, then, "place"))


def swap_nic(s: Swap) -> Term:
    def kept(j: Term) -> Term:
        users = ring_dist(s.thwcur, j, s.tn) < ring_dist(s.thwcur, s.trtail, s.tn)
        return Implies(Not(users), Eq(select(s.tx, j), select(s.tx0, j)))

    return every(s.tn, kept, "tx")


def swap_tx_view(s: Swap) -> Term:
    return And(Eq(s.ttail, s.trtail), in_range(s.thead0, s.tn), in_range(s.thead, s.tn),
               in_range(s.tcur, s.tn), in_cyclic(s.thwcur, s.thead0, s.trtail, s.tn),
               s.sent <= ring_dist(s.thead0, s.trtail, s.tn),
               Eq(s.thead, ring_add(s.thead0, s.sent, s.tn)),
               in_cyclic(s.thead, s.tcur, s.trtail, s.tn))


def swap_delivered(s: Swap) -> Term:
    def packet(i: Term) -> Term:
        j = select(s.sent_to, i)
        return Implies(forwarded(s, i), And(
            in_range(j, s.tn), filled(s, j), Eq(select(s.taken_from, j), i),
            Eq(select(s.tx, j), select(s.rx0, i)), Eq(select(s.tx_len, j), select(s.rx_len0, i)),
            Eq(select(s.rx, i), select(s.tx0, j))))

    def slot(j: Term) -> Term:
        i = select(s.taken_from, j)
        return Implies(filled(s, j), And(in_range(i, s.n), forwarded(s, i),
                                         Eq(select(s.sent_to, i), j)))

    return And(every(s.n, packet, "host"), every(s.tn, slot, "tx"))


def swap_kept(s: Swap) -> Term:
    def host(i: Term) -> Term:
        return And(Eq(select(s.rx_len, i), select(s.rx_len0, i)), Implies(
            Not(forwarded(s, i)), And(Eq(select(s.rx, i), select(s.rx0, i)),
                                      Eq(select(s.rx_flags, i), select(s.rx_flags0, i)))))

    def tx(j: Term) -> Term:
        return Implies(Not(filled(s, j)), And(
            Eq(select(s.tx, j), select(s.tx0, j)), Eq(select(s.tx_len, j), select(s.tx_len0, j)),
            Eq(select(s.tx_flags, j), select(s.tx_flags0, j))))

    return And(every(s.n, host, "host"), every(s.tn, tx, "tx"))


def swap_changed(s: Swap) -> Term:
    return And(
        every(s.n, lambda i: Implies(forwarded(s, i), Eq(select(s.rx_flags, i), NS_BUF_CHANGED)),
              "host"),
        every(s.tn, lambda j: Implies(filled(s, j), Eq(select(s.tx_flags, j), NS_BUF_CHANGED)),
              "tx"))


# ---------------------------------------------------------------------------- the machine

SWAP = Machine(
    name="netmap_forward_swap",
    title="Transparent mode by buffer: the NS_FORWARD swap",
    state_type=Swap,
    vars=SWAP_VARS,
    init=fresh_rings,
    doc="netmap_sw_to_nic's loop as it starts: rxcur = nr_hwcur, nothing sent, every "
        "place holding its own buffer (loop_entry).",
    max_n=U32_MAX,  # nkr_num_slots is a u_int
)

SWAP.transition(actor="kernel", breaks={"SWAP-PERM", "SWAP-NIC"})(iteration_as_shipped)
SWAP.transition(actor="kernel")(iteration_hardened)

for _id, _sentence, _fn, _scope in (
    ("SWAP-SHAPE", "The kring indices are slot indices, rxcur lies in [nr_hwcur, rhead], "
     "and sent is at most the slots the loop has passed.", swap_shape, "kernel"),
    ("SWAP-PERM", "Every slot of the host RX ring and the TX ring holds the buffer of "
     "exactly one slot as the loop found them, and every such buffer is in exactly one "
     "slot: the loop permutes the two rings' buffers, never losing or duplicating one.",
     swap_perm, "kernel"),
    ("SWAP-NIC", "The TX slots the kernel owns (all but [nr_hwcur, rtail): in flight on "
     "the NIC, or the gap) keep their buffers, whatever the user wrote into the TX ring.",
     swap_nic, "kernel"),
    ("SWAP-TX-VIEW", "The TX ring stays consistent with its kring (nr_hwcur <= head <= cur "
     "<= tail = rtail) and head is the entry head plus sent.", swap_tx_view, "user"),
    ("SWAP-DELIVERED", "Each forwardable packet the loop has passed is in exactly one of "
     "the TX slots it filled, with its own buffer and length (moved, not copied), and "
     "that slot's old buffer is in the packet's host slot; each filled TX slot holds one "
     "such packet.", swap_delivered, "user"),
    ("SWAP-KEPT", "Every slot the loop has not swapped keeps its buffer, length and "
     "flags; a swapped host slot keeps its length.", swap_kept, "user"),
    ("SWAP-CHANGED", "Every slot whose buffer the loop swapped carries NS_BUF_CHANGED.",
     swap_changed, "user"),
):
    SWAP.invariant(_id, _sentence, _scope)(_fn)

__all__ = [
    "CONSTANT_FIELDS",
    "KINDS",
    "NS_BUF_CHANGED",
    "NS_FORWARD",
    "SWAP",
    "Swap",
    "entry_kring_ok",
    "entry_tx_consistent",
    "every",
    "filled",
    "forwardable",
    "forwarded",
    "fresh_rings",
    "instantiated_at",
    "iterate",
    "iteration_as_shipped",
    "iteration_hardened",
    "loop_entry",
    "loop_runs",
    "run_loop",
    "select",
    "store",
    "swap_ghosts",
    "swap_slots",
    "tx_next",
    "tx_room_hardened",
]
