"""Which adapter an interface has across requests, and when it takes the driver's ring
configuration: :mod:`model.netmap_admode`'s decisions as one interface's state machine.

The state is what netmap keeps per interface: the adapter attached now (``NA(ifp)``:
none, native, or a generic adapter created on demand), whether a native adapter is set
aside while a generic one stands in its place, the file descriptors active on the
adapter (``active_fds``), whether a VALE switch owns it, the configuration it has and the
one the driver reports (each an opaque value: only equality matters), and
``dev.netmap.admode``.  Requests: NIOCGINFO (the adapter looked up, its configuration
updated, the lookup's reference dropped), NIOCREGIF, close, a switch attaching and
detaching the interface, a write of the admode sysctl and the driver changing its rings.

The adapter lookup is netmap_get_hw_na
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1478):
an invalid admode is reset to BEST; an attached adapter is returned when it is in use or
the admode is not GENERIC; else NATIVE without native support is EOPNOTSUPP; else a
generic adapter is created (generic_netmap_attach), a native one set aside.  The C's own
comment there is the invariant ADM-GENERIC-IN-USE: a generic adapter exists only while it
is in use, so the lookup never puts a generic adapter over another.  The last reference
to a generic adapter destroys it and brings the native one back.  netmap_update_config
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L762)
adopts the driver's configuration only while no descriptor is active.

Ghosts: ``opened_kind`` and ``opened_cfg``, the adapter and configuration the interface
had when it last went from unused to used, so that "an adapter in use is never replaced
and never reconfigured" can be stated.  A consequence worth knowing, not a bug: with a
generic adapter in use, a request under admode NATIVE joins it rather than failing --
the admode decides only which adapter is created, not which one is shared
(ADM-GENERIC-ASKED says what it does decide).

Implemented by :class:`impl.netmap.system.NetmapSystem`; ``tests/unit/test_adapter_select.py``
runs it in lockstep with this machine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Implies, Machine, Not, Or, Param, Step, Term, Var
from model.netmap_admode import (
    ADMODE_BEST,
    ADMODE_GENERIC,
    ADMODE_NATIVE,
    GENERIC_NA,
    NATIVE_NA,
    NO_NA,
    REFUSED,
    admode_in_effect,
    hw_adapter_code,
    updated_config,
)

__all__ = ["ADAPTERS", "Adapters", "adapters_init"]


@dataclass(frozen=True)
class Adapters:
    """One interface's adapter state (see the module docstring)."""

    n: Term
    native: Term
    admode: Term
    attached: Term
    saved: Term
    fds: Term
    owned: Term
    cfg: Term
    saved_cfg: Term
    reported: Term
    opened_kind: Term
    opened_cfg: Term
    created_mode: Term

    def __repr__(self) -> str:
        return (f"Adapters(native={self.native}, admode={self.admode}, "
                f"attached={self.attached}, saved={self.saved}, fds={self.fds}, "
                f"owned={self.owned}, cfg={self.cfg}, saved_cfg={self.saved_cfg}, "
                f"reported={self.reported}, "
                f"opened=({self.opened_kind}, {self.opened_cfg}), "
                f"created_mode={self.created_mode})")

    def replace(self, **changes: Term) -> Adapters:
        return dataclasses.replace(self, **changes)


ADAPTERS_VARS = (
    Var("n", "constant", "size", "Unused (the rules do not depend on a ring size)."),
    Var("native", "constant", "count", "1: the driver has native netmap support "
        "(NM_IS_NATIVE)."),
    Var("admode", "user", "u32", "dev.netmap.admode as last written (0 best, 1 native, "
        "2 generic; any other value is reset to 0 by the next lookup)."),
    Var("attached", "kernel", "count", "NA(ifp): 0 none, 1 the native adapter, 2 a generic "
        "adapter."),
    Var("saved", "kernel", "count", "1: the native adapter is set aside while a generic one "
        "is attached."),
    Var("fds", "kernel", "count", "active_fds of the attached adapter."),
    Var("owned", "kernel", "count", "1: a VALE switch owns the interface "
        "(NETMAP_OWNED_BY_KERN)."),
    Var("cfg", "kernel", "count", "The attached adapter's ring configuration (only "
        "equality matters)."),
    Var("saved_cfg", "kernel", "count", "The set-aside native adapter's configuration."),
    Var("reported", "device", "count", "What the driver's nm_config reports now."),
    Var("opened_kind", "ghost", "count", "The adapter attached when the interface last "
        "went from unused to used."),
    Var("opened_cfg", "ghost", "count", "Its configuration then."),
    Var("created_mode", "ghost", "count", "The admode in effect when the attached generic "
        "adapter was created."),
)


def adapters_init(n: Term = 0) -> Adapters:
    """A driver with native support attached its adapter (netmap_attach), configuration
    0; admode BEST; nobody uses it."""
    return Adapters(n=n, native=1, admode=ADMODE_BEST, attached=NATIVE_NA, saved=0, fds=0,
                    owned=0, cfg=0, saved_cfg=0, reported=0, opened_kind=NATIVE_NA, opened_cfg=0,
                    created_mode=ADMODE_BEST)


def in_use(s: Adapters) -> Term:
    """NETMAP_OWNED_BY_ANY: descriptors are active on the adapter or a switch owns it."""
    return Or(s.fds > 0, Eq(s.owned, 1))


def lookup(s: Adapters) -> tuple[Term, Adapters]:
    """netmap_get_hw_na: (REFUSED or the kind of adapter returned, the state after it).
    The sysctl is reset if invalid; a generic adapter created takes the driver's reported
    configuration and sets the native one (if any) aside."""
    mode = admode_in_effect(s.admode)
    got = hw_adapter_code(mode, Eq(s.native, 1), s.attached, in_use(s))
    create = And(Eq(got, GENERIC_NA), Not(Eq(s.attached, GENERIC_NA)))
    t = s.replace(admode=mode,
                  attached=If(create, GENERIC_NA, s.attached),
                  saved=If(create, If(Eq(s.attached, NATIVE_NA), 1, 0), s.saved),
                  cfg=If(create, s.reported, s.cfg),
                  saved_cfg=If(create, s.cfg, s.saved_cfg),
                  created_mode=If(create, mode, s.created_mode))
    return got, t


def unget(s: Adapters) -> Adapters:
    """The last reference to a generic adapter goes: it is destroyed and a native adapter
    set aside is attached again, with the configuration it had."""
    gone = And(Eq(s.attached, GENERIC_NA), Eq(s.fds, 0), Eq(s.owned, 0))
    return s.replace(attached=If(gone, If(Eq(s.saved, 1), NATIVE_NA, NO_NA), s.attached),
                     saved=If(gone, 0, s.saved), cfg=If(gone, s.saved_cfg, s.cfg))


def update_config(s: Adapters) -> Adapters:
    """netmap_update_config: the reported configuration adopted while no descriptor is
    active."""
    cfg, _refused = updated_config(s.cfg, s.reported, s.fds)
    return s.replace(cfg=cfg)


def _opened(s: Adapters, t: Adapters) -> Adapters:
    """The ghosts: record the adapter and configuration when unused becomes used."""
    starts = And(Not(in_use(s)), in_use(t))
    return t.replace(opened_kind=If(starts, t.attached, s.opened_kind),
                     opened_cfg=If(starts, t.cfg, s.opened_cfg))


ADAPTERS = Machine(
    name="netmap_adapter_select",
    title="Adapter selection and ring configuration of one interface",
    state_type=Adapters,
    vars=ADAPTERS_VARS,
    init=adapters_init,
    doc=adapters_init.__doc__ or "",
)

_ADMODE = Param("value", "u32", "the value written to dev.netmap.admode")
_CONFIG = Param("config", "count", "the configuration the driver reports from now on")


@ADAPTERS.transition(actor="user", params=(_ADMODE,))
def set_admode(s: Adapters, value: Term) -> Step:
    """``sysctl dev.netmap.admode=value``: any value is stored."""
    return Step(True, s.replace(admode=value))


@ADAPTERS.transition(actor="device", params=(_CONFIG,))
def reconfigure(s: Adapters, config: Term) -> Step:
    """The driver's rings change (``ethtool -L``, a sysctl): what nm_config reports."""
    return Step(True, s.replace(reported=config))


@ADAPTERS.transition(actor="user")
def port_info(s: Adapters) -> Step:
    """NIOCGINFO on the interface: the lookup; answered, the configuration updated and the
    lookup's reference dropped (a generic adapter created only for the question goes
    again); EOPNOTSUPP, only the invalid admode reset."""
    got, t = lookup(s)
    return Step(True, _choose(Eq(got, REFUSED), s.replace(admode=t.admode),
                              unget(update_config(t))))


@ADAPTERS.transition(actor="user")
def register(s: Adapters) -> Step:
    """NIOCREGIF that succeeds: the lookup, the configuration updated if no descriptor is
    active yet, then one more active descriptor.  Refused when the lookup is (EOPNOTSUPP)
    or a switch owns the interface (EBUSY): nothing changes then."""
    got, t = lookup(s)
    u = update_config(t)
    return Step(And(Not(Eq(got, REFUSED)), Eq(s.owned, 0)),
                _opened(s, u.replace(fds=u.fds + 1)))


@ADAPTERS.transition(actor="user")
def refused_register(s: Adapters) -> Step:
    """NIOCREGIF refused: EOPNOTSUPP from the lookup (the invalid admode still reset), or
    EBUSY for an interface a switch owns (the lookup's reference dropped)."""
    got, t = lookup(s)
    return Step(Or(Eq(got, REFUSED), Eq(s.owned, 1)),
                _choose(Eq(got, REFUSED), s.replace(admode=t.admode), unget(t)))


def _choose(cond: Term, a: Adapters, b: Adapters) -> Adapters:
    return Adapters(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                       for f in dataclasses.fields(Adapters)})


@ADAPTERS.transition(actor="user")
def close(s: Adapters) -> Step:
    """close() of a registered descriptor: one fewer active, and the last reference to a
    generic adapter destroys it."""
    return Step(s.fds > 0, unget(s.replace(fds=s.fds - 1)))


@ADAPTERS.transition(actor="user")
def switch_attach(s: Adapters) -> Step:
    """``vale-ctl -a`` on an interface no switch owns: the lookup, then the switch owns the
    adapter; refused with EOPNOTSUPP by the lookup, or EBUSY while descriptors are active
    (the lookup's reference dropped): then only the invalid admode is reset."""
    got, t = lookup(s)
    ok = And(Not(Eq(got, REFUSED)), Eq(s.fds, 0))
    return Step(Eq(s.owned, 0), _choose(ok, _opened(s, t.replace(owned=1)),
                                        s.replace(admode=t.admode)))


@ADAPTERS.transition(actor="user")
def switch_detach(s: Adapters) -> Step:
    """``vale-ctl -d``: the switch lets go (a generic adapter it held is destroyed)."""
    return Step(Eq(s.owned, 1), unget(s.replace(owned=0)))


# ---------------------------------------------------------------------------- invariants


@ADAPTERS.invariant(
    "ADM-SHAPE",
    "Kinds and flags in range; with native support the native adapter is attached or set "
    "aside, without it there is none; a native adapter is set aside only under a generic "
    "one; no descriptor is active without an adapter.",
)
def adm_shape(s: Adapters) -> Term:
    def bit(x: Term) -> Term:
        return Or(Eq(x, 0), Eq(x, 1))
    return And(bit(s.native), bit(s.saved), bit(s.owned), s.fds >= 0,
               s.attached >= NO_NA, s.attached <= GENERIC_NA,
               Implies(Eq(s.saved, 1), Eq(s.attached, GENERIC_NA)),
               Eq(Or(Eq(s.attached, NATIVE_NA), Eq(s.saved, 1)), Eq(s.native, 1)),
               Implies(Eq(s.attached, NO_NA), And(Eq(s.fds, 0), Eq(s.owned, 0))))


@ADAPTERS.invariant(
    "ADM-GENERIC-IN-USE",
    "A generic adapter exists only while it is in use (descriptors active or a switch "
    "owning it): the lookup never puts a generic adapter over another, and the last user "
    "of one gives the interface its native adapter back.",
)
def adm_generic_in_use(s: Adapters) -> Term:
    return Implies(Eq(s.attached, GENERIC_NA), in_use(s))


@ADAPTERS.invariant(
    "ADM-IN-USE-KEPT",
    "While the interface is in use its adapter is the one it had when its use began: no "
    "request, admode or driver change replaces an adapter in use.",
)
def adm_in_use_kept(s: Adapters) -> Term:
    return Implies(in_use(s), Eq(s.attached, s.opened_kind))


@ADAPTERS.invariant(
    "ADM-CONFIG-FROZEN",
    "While descriptors are active the adapter keeps the ring configuration it had when "
    "the first of them registered, whatever the driver reports meanwhile.",
)
def adm_config_frozen(s: Adapters) -> Term:
    return Implies(s.fds > 0, Eq(s.cfg, s.opened_cfg))


@ADAPTERS.invariant(
    "ADM-GENERIC-ASKED",
    "A generic adapter was created only when the admode asked for one: GENERIC on an "
    "interface with native support, BEST or GENERIC on one without -- never NATIVE.  "
    "(A request under NATIVE may still join a generic adapter already in use.)",
)
def adm_generic_asked(s: Adapters) -> Term:
    return Implies(Eq(s.attached, GENERIC_NA),
                   And(Or(Eq(s.created_mode, ADMODE_GENERIC),
                          And(Eq(s.native, 0), Eq(s.created_mode, ADMODE_BEST))),
                       Not(Eq(s.created_mode, ADMODE_NATIVE))))


# ---------------------------------------------------------------------------- mutants


@ADAPTERS.mutant("unget-forgets-native", "ADM-SHAPE", replaces="close")
def unget_forgets_native(s: Adapters) -> Step:
    """The last close of a generic adapter destroys it without attaching the native
    adapter it had set aside: the interface loses netmap support."""
    t = s.replace(fds=s.fds - 1)
    gone = And(Eq(t.attached, GENERIC_NA), Eq(t.fds, 0), Eq(t.owned, 0))
    return Step(s.fds > 0, t.replace(attached=If(gone, NO_NA, t.attached),
                                     saved=If(gone, 0, t.saved)))


@ADAPTERS.mutant("generic-outlives-users", "ADM-GENERIC-IN-USE", replaces="close")
def generic_outlives_users(s: Adapters) -> Step:
    """close() drops the descriptor but not the reference: a generic adapter stays
    attached with nobody using it, and the next lookup under GENERIC would put another
    over it."""
    return Step(s.fds > 0, s.replace(fds=s.fds - 1))


def _register_with(s: Adapters, got: Term, t: Adapters, update: bool) -> Step:
    u = update_config(t) if update else t.replace(cfg=t.reported)
    return Step(And(Not(Eq(got, REFUSED)), Eq(s.owned, 0)),
                _opened(s, u.replace(fds=u.fds + 1)))


@ADAPTERS.mutant("lookup-ignores-use", "ADM-IN-USE-KEPT", replaces="register")
def lookup_ignores_use(s: Adapters) -> Step:
    """The lookup does not ask whether the attached adapter is in use: under admode
    GENERIC a generic adapter is created over a native one that descriptors still use."""
    mode = admode_in_effect(s.admode)
    got = hw_adapter_code(mode, Eq(s.native, 1), s.attached, False)
    create = And(Eq(got, GENERIC_NA), Not(Eq(s.attached, GENERIC_NA)))
    t = s.replace(admode=mode, attached=If(create, GENERIC_NA, s.attached),
                  saved=If(create, If(Eq(s.attached, NATIVE_NA), 1, s.saved), s.saved),
                  cfg=If(create, s.reported, s.cfg), saved_cfg=If(create, s.cfg, s.saved_cfg),
                  created_mode=If(create, mode, s.created_mode))
    return _register_with(s, got, t, update=True)


@ADAPTERS.mutant("config-always-taken", "ADM-CONFIG-FROZEN", replaces="register")
def config_always_taken(s: Adapters) -> Step:
    """Every NIOCREGIF takes the driver's configuration, descriptors active or not: the
    rings of the handles already bound change size under them."""
    got, t = lookup(s)
    return _register_with(s, got, t, update=False)


@ADAPTERS.mutant("best-means-generic", "ADM-GENERIC-ASKED", replaces="register")
def best_means_generic(s: Adapters) -> Step:
    """The lookup keeps an attached adapter only while it is in use: under BEST an unused
    native adapter is replaced by a generic one."""
    mode = admode_in_effect(s.admode)
    keep = And(Not(Eq(s.attached, NO_NA)), in_use(s))
    refuse = And(Eq(s.native, 0), Eq(mode, ADMODE_NATIVE))
    got = If(keep, s.attached, If(refuse, REFUSED, GENERIC_NA))
    create = And(Eq(got, GENERIC_NA), Not(Eq(s.attached, GENERIC_NA)))
    t = s.replace(admode=mode, attached=If(create, GENERIC_NA, s.attached),
                  saved=If(create, If(Eq(s.attached, NATIVE_NA), 1, 0), s.saved),
                  cfg=If(create, s.reported, s.cfg), saved_cfg=If(create, s.cfg, s.saved_cfg),
                  created_mode=If(create, mode, s.created_mode))
    return _register_with(s, got, t, update=True)


MACHINES = (ADAPTERS,)
