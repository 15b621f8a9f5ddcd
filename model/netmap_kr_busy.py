"""One sync at a time on a ring, and stopping a ring under its users: ``nm_kr_tryget``,
``nm_kr_put``, ``nm_kr_stop`` and ``nm_kr_start``, interleaved step by step.

Every txsync / rxsync (ioctl or poll) first takes the ring's right to sync with
``nm_kr_tryget``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L1256):
read ``nkr_stopped`` (stopped: return NM_KR_STOPPED), test-and-set ``nr_busy``, read
``nkr_stopped`` again -- "we should not return NM_KR_BUSY if the ring was actually
stopped, so check another time after the barrier provided by the atomic operation" -- and
release the bit if it was set by this call; then NM_KR_BUSY if the bit was already set,
else 0 (the caller syncs and calls ``nm_kr_put``, which clears the bit).  ``nm_kr_stop``
(L1309) sets ``nkr_stopped`` and spins on the same test-and-set until it owns the bit, so
it returns only when the current user has left; ``nm_kr_start`` clears ``nkr_stopped``,
then the bit.  Drivers stop their rings around a reset (netmap_disable_all_rings) and
NIOCREGIF stops them briefly (NM_KR_LOCKED).

Two syncing threads ``a`` and ``b`` and one stopper ``s``, each a program counter; every
transition is one of their atomic steps, so the proofs cover every interleaving.
``a_pc`` / ``b_pc``: 0 outside, 1 past the first ``nkr_stopped`` read, 2 past the
test-and-set (``a_got``: it set the bit), 3 syncing.  ``s_pc``: 0 not stopping, 1
``nkr_stopped`` set and spinning, 2 owning the bit (the ring is stopped), 3
``nkr_stopped`` cleared by nm_kr_start, the bit not yet.  The ghost ``busy_stopped``
counts NM_KR_BUSY answers given while ``nkr_stopped`` was set (the C's second read is
there to make it 0: poll would skip the ring without POLLERR and the ioctl would return 0
without EIO).  Not modelled: ``can_sleep`` retries (a retry is the thread starting
again) and nm_iszombie (the same path as a stop).

The implementation keeps ``nr_busy`` and ``nkr_stopped`` per kring
(``impl.netmap.kring.Krings.busy`` / ``stopped``) and answers as nm_kr_tryget does
(``impl/netmap/sync.py``); Python's steps are atomic, so the interleavings live here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Machine, Not, Or, Step, Term, Var


@dataclass(frozen=True)
class KrBusy:
    """The ring's two words and the three threads' positions."""

    n: Term
    stopped: Term
    busy: Term
    a_pc: Term
    a_got: Term
    b_pc: Term
    b_got: Term
    s_pc: Term
    busy_stopped: Term

    def __repr__(self) -> str:
        return (f"KrBusy(stopped={self.stopped}, busy={self.busy}, a=(pc={self.a_pc}, "
                f"got={self.a_got}), b=(pc={self.b_pc}, got={self.b_got}), s_pc={self.s_pc}, "
                f"busy_stopped={self.busy_stopped})")

    def replace(self, **changes: Term) -> KrBusy:
        return dataclasses.replace(self, **changes)


KR_BUSY_VARS = (
    Var("n", "constant", "size", "Slots in the ring (the rules here do not depend on it)."),
    Var("stopped", "kernel", "count", "kring->nkr_stopped: 1 while a stop is on."),
    Var("busy", "kernel", "count", "kring->nr_busy: the right to sync, 1 while held."),
    Var("a_pc", "ghost", "count", "Thread a: 0 out, 1 first check passed, 2 after the "
        "test-and-set, 3 syncing."),
    Var("a_got", "ghost", "count", "1 if a's test-and-set found the bit clear."),
    Var("b_pc", "ghost", "count", "Thread b, as a."),
    Var("b_got", "ghost", "count", "Thread b, as a."),
    Var("s_pc", "ghost", "count", "The stopper: 0 idle, 1 flag set and spinning, 2 owning "
        "the bit, 3 flag cleared by nm_kr_start."),
    Var("busy_stopped", "ghost", "count", "NM_KR_BUSY answers given while nkr_stopped was "
        "set."),
)


def kr_busy_init(n: Term) -> KrBusy:
    """A running ring nobody syncs."""
    return KrBusy(n=n, stopped=0, busy=0, a_pc=0, a_got=0, b_pc=0, b_got=0, s_pc=0,
                  busy_stopped=0)


def _pc(s: KrBusy, t: str) -> Term:
    return getattr(s, f"{t}_pc")


def _got(s: KrBusy, t: str) -> Term:
    return getattr(s, f"{t}_got")


def _set(s: KrBusy, t: str, pc: Term, got: Term | None = None, **more: Term) -> KrBusy:
    changes = {f"{t}_pc": pc, **more}
    if got is not None:
        changes[f"{t}_got"] = got
    return s.replace(**changes)


def first_check(s: KrBusy, t: str) -> Step:
    """``stopped = kr->nkr_stopped``: stopped -> return NM_KR_STOPPED (the thread is out
    again), else go on."""
    return Step(Eq(_pc(s, t), 0), _set(s, t, If(Eq(s.stopped, 0), 1, 0)))


def test_and_set(s: KrBusy, t: str) -> Step:
    """``busy = NM_ATOMIC_TEST_AND_SET(&kr->nr_busy)``: one atomic step."""
    return Step(Eq(_pc(s, t), 1), _set(s, t, 2, If(Eq(s.busy, 0), 1, 0), busy=1))


def second_check(s: KrBusy, t: str) -> Step:
    """``stopped = kr->nkr_stopped`` again: stopped -> release the bit if this call set
    it and return NM_KR_STOPPED; else NM_KR_BUSY if the bit was set already, else sync."""
    return Step(Eq(_pc(s, t), 2), _answer(s, t, s.stopped != 0))


def _answer(s: KrBusy, t: str, stop: Term) -> KrBusy:
    """The end of nm_kr_tryget once ``stop`` (what the call read last) is known: out with
    the bit released (NM_KR_STOPPED), out (NM_KR_BUSY: the ghost counts it if the ring is
    stopped), or in."""
    got = _got(s, t)
    busy = If(And(stop, Eq(got, 1)), 0, s.busy)
    pc = If(stop, 0, If(Eq(got, 1), 3, 0))
    said_busy = And(Not(stop), Eq(got, 0))
    return _set(s, t, pc, If(Eq(pc, 3), 1, 0), busy=busy,
                busy_stopped=s.busy_stopped + If(And(said_busy, s.stopped != 0), 1, 0))


def put(s: KrBusy, t: str) -> Step:
    """The sync is done: ``nm_kr_put`` clears the bit."""
    return Step(Eq(_pc(s, t), 3), _set(s, t, 0, 0, busy=0))


def stop_flag(s: KrBusy) -> Step:
    """nm_kr_stop, first line: ``kr->nkr_stopped = stopped``."""
    return Step(Eq(s.s_pc, 0), s.replace(stopped=1, s_pc=1))


def stop_owns(s: KrBusy) -> Step:
    """nm_kr_stop's loop: its test-and-set finds the bit clear (while it is set the
    stopper sleeps and tries again: no step)."""
    return Step(And(Eq(s.s_pc, 1), Eq(s.busy, 0)), s.replace(busy=1, s_pc=2))


def start_flag(s: KrBusy) -> Step:
    """nm_kr_start, first line: ``kr->nkr_stopped = 0``."""
    return Step(Eq(s.s_pc, 2), s.replace(stopped=0, s_pc=3))


def start_put(s: KrBusy) -> Step:
    """nm_kr_start, then nm_kr_put: the bit is cleared, the ring runs."""
    return Step(Eq(s.s_pc, 3), s.replace(busy=0, s_pc=0))


def holders(s: KrBusy) -> Term:
    """Who owns the bit: a thread past a successful test-and-set, or the stopper."""
    def one(t: str) -> Term:
        return If(Or(Eq(_pc(s, t), 3), And(Eq(_pc(s, t), 2), Eq(_got(s, t), 1))), 1, 0)
    return one("a") + one("b") + If(Or(Eq(s.s_pc, 2), Eq(s.s_pc, 3)), 1, 0)


def kr_busy_shape(s: KrBusy) -> Term:
    def pcs(t: str) -> Term:
        return And(_pc(s, t) >= 0, _pc(s, t) <= 3, Or(Eq(_got(s, t), 0), Eq(_got(s, t), 1)),
                   If(Eq(_pc(s, t), 3), Eq(_got(s, t), 1), True),
                   If(Or(Eq(_pc(s, t), 0), Eq(_pc(s, t), 1)), Eq(_got(s, t), 0), True))
    return And(pcs("a"), pcs("b"), s.s_pc >= 0, s.s_pc <= 3,
               Or(Eq(s.stopped, 0), Eq(s.stopped, 1)), Or(Eq(s.busy, 0), Eq(s.busy, 1)),
               Eq(s.stopped, If(Or(Eq(s.s_pc, 1), Eq(s.s_pc, 2)), 1, 0)),
               s.busy_stopped >= 0)


def kr_busy_exclusive(s: KrBusy) -> Term:
    return And(holders(s) <= 1, Eq(s.busy, If(Eq(holders(s), 1), 1, 0)))


def kr_busy_means_sync(s: KrBusy) -> Term:
    return Eq(s.busy_stopped, 0)


KR_BUSY = Machine(
    name="netmap_kr_busy",
    title="One sync at a time: nm_kr_tryget, nm_kr_stop and nm_kr_start",
    state_type=KrBusy,
    vars=KR_BUSY_VARS,
    init=kr_busy_init,
    doc="A running ring nobody syncs.",
)

def _thread_step(step: object, who: str) -> object:
    def bound(s: KrBusy) -> Step:
        return step(s, who)  # type: ignore[operator]
    bound.__name__ = f"{who}_{step.__name__}"  # type: ignore[attr-defined]
    bound.__doc__ = f"Thread {who}: {step.__doc__}"
    return bound


for _t in ("a", "b"):
    for _step in (first_check, test_and_set, second_check, put):
        KR_BUSY.transition(actor="thread")(_thread_step(_step, _t))
for _fn in (stop_flag, stop_owns, start_flag, start_put):
    KR_BUSY.transition(actor="driver")(_fn)

KR_BUSY.invariant(
    "KR-SHAPE", "Program counters and flags in range; nkr_stopped is set exactly while a "
    "stop is on (from nm_kr_stop's first line to nm_kr_start's).")(kr_busy_shape)
KR_BUSY.invariant(
    "KR-EXCLUSIVE", "At most one thread owns the right to sync -- a sync in progress or "
    "the stopper -- and nr_busy is set exactly while one does: two syncs never run on a "
    "ring at once, and a stopped ring runs none.")(kr_busy_exclusive)
KR_BUSY.invariant(
    "KR-BUSY-MEANS-SYNC", "NM_KR_BUSY is never the answer while nkr_stopped is set: a "
    "stopped ring is reported stopped.")(kr_busy_means_sync)



@KR_BUSY.mutant("test-then-set", "KR-EXCLUSIVE", replaces="a_test_and_set")
def test_then_set(s: KrBusy) -> Step:
    """Thread a reads nr_busy and sets it in two steps (a plain load and store, not an
    atomic test-and-set): here the store is lost to b's test-and-set in between, which the
    model shows as a's read not setting the bit."""
    return Step(Eq(s.a_pc, 1), _set(s, "a", 2, If(Eq(s.busy, 0), 1, 0)))


@KR_BUSY.mutant("stop-without-waiting", "KR-EXCLUSIVE", replaces="stop_owns")
def stop_without_waiting(s: KrBusy) -> Step:
    """nm_kr_stop returns after setting the flag, without taking the bit: the ring is
    "stopped" while a sync still runs on it."""
    return Step(Eq(s.s_pc, 1), s.replace(busy=1, s_pc=2))


@KR_BUSY.mutant("no-second-check", "KR-BUSY-MEANS-SYNC", replaces="a_second_check")
def no_second_check(s: KrBusy) -> Step:
    """nm_kr_tryget without its second read of nkr_stopped: a call that lost the
    test-and-set to nm_kr_stop answers NM_KR_BUSY."""
    return Step(Eq(s.a_pc, 2), _answer(s, "a", False))


@KR_BUSY.mutant("start-keeps-stopped", "KR-SHAPE", replaces="start_flag")
def start_keeps_stopped(s: KrBusy) -> Step:
    """nm_kr_start without ``kr->nkr_stopped = 0``: the bit is released later, but every
    nm_kr_tryget still answers NM_KR_STOPPED."""
    return Step(Eq(s.s_pc, 2), s.replace(s_pc=3))


MACHINES = (KR_BUSY,)
