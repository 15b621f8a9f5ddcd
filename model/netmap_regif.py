"""Who puts a ring into netmap mode: NIOCREGIF, close, and the per-ring modes since 2015.

One kring of an adapter, seen by the file descriptors (handles) open on the adapter:
``users`` handles bind this ring, ``others`` bind only other rings.  The rules, from
netmap.c at the pinned commit:

* ``netmap_krings_get``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2062):
  a bind fails with EBUSY if the ring is held exclusively (NR_EXCLUSIVE) or if it asks for
  exclusive use of a ring already in use; otherwise ``users++`` and ``nr_pending_mode = ON``.
  ``netmap_krings_put``: ``users--``, and the last user sets ``nr_pending_mode = OFF``.
* ``netmap_do_regif``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2570):
  the first handle creates the krings; the driver's ``nm_register(na, 1)`` runs when
  ``active_fds == 0`` or one of the handle's rings is switching mode
  (``nm_kring_pending``); it commits ``nr_mode = ON`` on the rings pending on (through
  ``netmap_reset`` or ``netmap_krings_mode_commit``) and calls ``nm_set_native_flags``,
  which only the first handle gets past
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4541);
  then ``active_fds++``.
* ``netmap_do_unregif``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1042):
  ``active_fds--``, ``netmap_krings_put``, ``nm_register(na, 0)`` when the last handle
  goes or one of its rings is switching (it commits ``nr_mode = OFF`` on the rings pending
  off; ``nm_clear_native_flags`` only acts for the last handle), and the krings are deleted
  with the last handle.

Before December 2015 an adapter was all-or-nothing: ``nm_register`` ran on the first
NIOCREGIF and the last close only.  Per-ring modes (``nr_mode`` / ``nr_pending_mode``,
Cloudflare's "partial kernel bypass") made a ring's mode follow its own users; the mutants
``register-first-only`` and ``unregister-last-only`` are that older rule, and the proofs
show what it breaks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Machine, Or, Step, Term, Var

OFF, ON = 0, 1


@dataclass(frozen=True)
class KringUse:
    """One kring's bookkeeping and the adapter's, across handles."""

    n: Term
    users: Term
    others: Term
    active_fds: Term
    pending: Term
    mode: Term
    exclusive: Term
    native: Term
    krings: Term
    ebusy: Term

    def __repr__(self) -> str:
        return (f"KringUse(users={self.users}, others={self.others}, "
                f"active_fds={self.active_fds}, pending={self.pending}, mode={self.mode}, "
                f"exclusive={self.exclusive}, native={self.native}, krings={self.krings}, "
                f"ebusy={self.ebusy})")

    def replace(self, **changes: Term) -> KringUse:
        return dataclasses.replace(self, **changes)


REGIF_VARS = (
    Var("n", "constant", "size", "Slots in the ring (the rules here do not depend on it)."),
    Var("users", "kernel", "count", "kring->users: handles bound to this ring."),
    Var("others", "ghost", "count", "Handles open on the adapter that do not bind this ring."),
    Var("active_fds", "kernel", "count", "na->active_fds: handles registered on the adapter."),
    Var("pending", "kernel", "count", "kring->nr_pending_mode: 1 (NKR_NETMAP_ON) or 0."),
    Var("mode", "kernel", "count", "kring->nr_mode: 1 while the ring runs in netmap mode."),
    Var("exclusive", "kernel", "count", "NKR_EXCLUSIVE in kring->nr_kflags."),
    Var("native", "kernel", "count", "NAF_NETMAP_ON: the interface is intercepted by netmap "
        "(nm_set_native_flags / nm_clear_native_flags)."),
    Var("krings", "kernel", "count", "1 while the adapter's krings (and rings) exist."),
    Var("ebusy", "ghost", "count", "Binds refused with EBUSY."),
)


def init(n: Term) -> KringUse:
    """No handle open: no krings, the ring in normal mode."""
    return KringUse(n=n, users=0, others=0, active_fds=0, pending=OFF, mode=OFF,
                    exclusive=0, native=0, krings=0, ebusy=0)


def select(cond: Term, a: KringUse, b: KringUse) -> KringUse:
    if isinstance(cond, bool):
        return a if cond else b
    return KringUse(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                       for f in dataclasses.fields(KringUse)})


def register_on(s: KringUse) -> KringUse:
    """nm_register(na, 1): rings pending on enter netmap mode; the first handle sets the
    native flags (``active_fds`` is not yet incremented)."""
    return s.replace(mode=If(Eq(s.pending, ON), ON, s.mode),
                     native=If(Eq(s.active_fds, 0), 1, s.native))


def register_off(s: KringUse) -> KringUse:
    """nm_register(na, 0): rings pending off leave netmap mode; the native flags go with
    the last handle (``active_fds`` is already decremented)."""
    return s.replace(mode=If(Eq(s.pending, OFF), OFF, s.mode),
                     native=If(Eq(s.active_fds, 0), 0, s.native))


def _bind(s: KringUse, exclusive: bool) -> Step:
    """NIOCREGIF binding this ring (with NR_EXCLUSIVE or not)."""
    busy = Or(Eq(s.exclusive, 1), s.users > 0) if exclusive else Eq(s.exclusive, 1)
    got = s.replace(krings=1, users=s.users + 1, pending=ON,
                    exclusive=1 if exclusive else s.exclusive)
    switching = got.pending != got.mode
    registered = select(Or(Eq(s.active_fds, 0), switching), register_on(got), got)
    done = registered.replace(active_fds=s.active_fds + 1)
    return Step(True, select(busy, s.replace(ebusy=s.ebusy + 1), done))


def regif_this(s: KringUse) -> Step:
    """NIOCREGIF of a handle that binds this ring (and maybe others); EBUSY, with nothing
    changed, if the ring is held exclusively."""
    return _bind(s, exclusive=False)


def regif_this_exclusive(s: KringUse) -> Step:
    """NIOCREGIF with NR_EXCLUSIVE binding this ring; EBUSY if the ring is in use."""
    return _bind(s, exclusive=True)


def regif_other(s: KringUse) -> Step:
    """NIOCREGIF of a handle that binds only other rings of the adapter."""
    got = s.replace(krings=1, others=s.others + 1)
    registered = select(Eq(s.active_fds, 0), register_on(got), got)
    return Step(True, registered.replace(active_fds=s.active_fds + 1))


def unregif_this(s: KringUse) -> Step:
    """The close of a handle that binds this ring."""
    put = s.replace(active_fds=s.active_fds - 1, users=s.users - 1,
                    pending=If(Eq(s.users, 1), OFF, s.pending),
                    exclusive=If(Eq(s.users, 1), 0, s.exclusive))
    switching = put.pending != put.mode
    out = select(Or(Eq(put.active_fds, 0), switching), register_off(put), put)
    return Step(s.users > 0, out.replace(krings=If(Eq(put.active_fds, 0), 0, out.krings)))


def unregif_other(s: KringUse) -> Step:
    """The close of a handle that binds only other rings."""
    put = s.replace(active_fds=s.active_fds - 1, others=s.others - 1)
    out = select(Eq(put.active_fds, 0), register_off(put), put)
    return Step(s.others > 0, out.replace(krings=If(Eq(put.active_fds, 0), 0, out.krings)))


# ---------------------------------------------------------------------------- invariants


def _bit(x: Term) -> Term:
    return And(x >= 0, x <= 1)


def shape(s: KringUse) -> Term:
    return And(s.users >= 0, s.others >= 0, s.ebusy >= 0,
               *[_bit(x) for x in (s.pending, s.mode, s.exclusive, s.native, s.krings)])


def fds(s: KringUse) -> Term:
    return Eq(s.active_fds, s.users + s.others)


def pending_follows_users(s: KringUse) -> Term:
    return Eq(s.pending, If(s.users > 0, ON, OFF))


def mode_follows_users(s: KringUse) -> Term:
    return Eq(s.mode, s.pending)


def native_while_open(s: KringUse) -> Term:
    return Eq(s.native, If(s.active_fds > 0, 1, 0))


def krings_while_open(s: KringUse) -> Term:
    return Eq(s.krings, If(s.active_fds > 0, 1, 0))


def ring_exists(s: KringUse) -> Term:
    """The kring's netmap_ring and its buffers exist exactly while it has users:
    ``netmap_mem_ring_needed`` (users > 0, or NKR_NEEDRING, which only pipes and monitors
    set) creates them in ``netmap_mem2_rings_create`` and ``netmap_mem_ring_todelete``
    deletes them, buffers freed, when the last user goes
    (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_mem2.c#L1975).
    The memory holding every ring of the adapter goes with the krings
    (:func:`krings_while_open`)."""
    return s.users > 0


def exclusive_alone(s: KringUse) -> Term:
    return If(Eq(s.exclusive, 1), Eq(s.users, 1), True)


REGIF = Machine(
    name="netmap_regif",
    title="NIOCREGIF, close and per-ring modes",
    state_type=KringUse,
    vars=REGIF_VARS,
    init=init,
    doc="No handle open on the adapter: no krings, the ring in normal mode, native flags "
    "clear.",
)

for _fn in (regif_this, regif_this_exclusive, regif_other, unregif_this, unregif_other):
    REGIF.transition(actor="user")(_fn)

for _id, _sentence, _fn in (
    ("REG-SHAPE", "Counts are >= 0 and flags are 0 or 1.", shape),
    ("REG-FDS", "active_fds counts every registered handle once: those binding this ring "
     "and the others.", fds),
    ("REG-PENDING", "The ring's pending mode is ON exactly while some handle binds it.",
     pending_follows_users),
    ("REG-MODE", "Between calls, the ring runs in netmap mode exactly while some handle "
     "binds it: every switch is committed.", mode_follows_users),
    ("REG-NATIVE", "The interface is intercepted by netmap exactly while a handle is "
     "registered on the adapter.", native_while_open),
    ("REG-KRINGS", "The krings exist exactly while a handle is registered: created by the "
     "first, freed with the last, never earlier.", krings_while_open),
    ("REG-EXCLUSIVE", "A ring held exclusively has exactly one user.", exclusive_alone),
):
    REGIF.invariant(_id, _sentence)(_fn)

MACHINES = (REGIF,)
