"""Broken variants of NIOCREGIF / close, each refuted against the invariant it names.

Two are history rather than typos: before per-ring modes (December 2015) the driver's
``nm_register`` ran on the first NIOCREGIF and the last close only
(``register-first-only``, ``unregister-last-only``); with several handles binding
different rings that leaves a ring out of (or stuck in) netmap mode.
"""

from __future__ import annotations

from model.core import Eq, If, Or, Step
from model.netmap_regif import (
    OFF,
    ON,
    REGIF,
    KringUse,
    regif_other,
    regif_this,
    register_off,
    register_on,
    select,
    unregif_this,
)


@REGIF.mutant("register-first-only", "REG-MODE", replaces="regif_this")
def register_first_only(s: KringUse) -> Step:
    """nm_register(na, 1) only for the first handle: a later handle binding a ring nobody
    used yet leaves it in normal mode."""
    busy = Eq(s.exclusive, 1)
    got = s.replace(krings=1, users=s.users + 1, pending=ON)
    done = select(Eq(s.active_fds, 0), register_on(got), got)
    done = done.replace(active_fds=s.active_fds + 1)
    return Step(True, select(busy, s.replace(ebusy=s.ebusy + 1), done))


@REGIF.mutant("unregister-last-only", "REG-MODE", replaces="unregif_this")
def unregister_last_only(s: KringUse) -> Step:
    """nm_register(na, 0) only with the last handle: a ring whose last user leaves while
    other handles stay open is stuck in netmap mode."""
    put = s.replace(active_fds=s.active_fds - 1, users=s.users - 1,
                    pending=If(Eq(s.users, 1), OFF, s.pending),
                    exclusive=If(Eq(s.users, 1), 0, s.exclusive))
    out = select(Eq(put.active_fds, 0), register_off(put), put)
    return Step(s.users > 0, out.replace(krings=If(Eq(put.active_fds, 0), 0, out.krings)))


@REGIF.mutant("exclusive-ignores-users", "REG-EXCLUSIVE", replaces="regif_this_exclusive")
def exclusive_ignores_users(s: KringUse) -> Step:
    """NR_EXCLUSIVE granted on a ring that is already in use."""
    step = regif_this(s)
    return Step(step.guard, select(Eq(s.exclusive, 1), step.post,
                                   step.post.replace(exclusive=1)))


@REGIF.mutant("krings-deleted-every-close", "REG-KRINGS", replaces="unregif_this")
def krings_deleted_every_close(s: KringUse) -> Step:
    """Every close deletes the krings, not only the last one."""
    step = unregif_this(s)
    return Step(step.guard, step.post.replace(krings=0))


@REGIF.mutant("put-keeps-pending", "REG-PENDING", replaces="unregif_this")
def put_keeps_pending(s: KringUse) -> Step:
    """netmap_krings_put forgets to clear nr_pending_mode when the last user goes."""
    step = unregif_this(s)
    return Step(step.guard, step.post.replace(pending=s.pending))


@REGIF.mutant("native-cleared-every-switch", "REG-NATIVE", replaces="unregif_this")
def native_cleared_every_switch(s: KringUse) -> Step:
    """nm_clear_native_flags without its early return: a ring switching off while other
    handles stay open takes the whole interface out of netmap."""
    step = unregif_this(s)
    put_users = s.users - 1
    switching = Or(Eq(s.active_fds - 1, 0), Eq(put_users, 0))
    return Step(step.guard, select(switching, step.post.replace(native=0), step.post))


@REGIF.mutant("other-not-counted", "REG-FDS", replaces="regif_other")
def other_not_counted(s: KringUse) -> Step:
    """A handle binding other rings is not counted in active_fds."""
    step = regif_other(s)
    return Step(step.guard, step.post.replace(active_fds=s.active_fds))


@REGIF.mutant("close-unguarded", "REG-SHAPE", replaces="unregif_this")
def close_unguarded(s: KringUse) -> Step:
    """A close accounted against this ring although no handle binds it."""
    step = unregif_this(s)
    return Step(True, step.post)
