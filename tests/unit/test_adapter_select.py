"""The control device's adapters in lockstep with :mod:`model.netmap_adapter_select`.

Random request sequences on one interface of a :class:`impl.netmap.system.NetmapSystem`
(with or without native support): admode writes (valid and not), driver
reconfigurations, NIOCGINFO, NIOCREGIF, close, a VALE switch attaching and detaching.
After every request the system read as the model's state (:func:`abstract`) equals the
model stepped through the transition the request is, the errno is the one the model's
guard implies, and the model's invariants hold.  The ghosts (when use began, the admode a
generic adapter was created under) are the implementation's history, so they are carried
over from the model's step.
"""

from __future__ import annotations

import errno
from dataclasses import fields

from hypothesis import given
from hypothesis import strategies as st

from impl.netmap.control import NR_REG_ALL_NIC
from impl.netmap.system import NetmapSystem
from model.netmap_adapter_select import ADAPTERS, Adapters
from model.netmap_admode import (
    ADMODE_BEST,
    GENERIC,
    GENERIC_NA,
    NATIVE,
    NATIVE_NA,
    NO_NA,
    RingConfig,
)

CONFIGS = (RingConfig(2, 64, 2, 64), RingConfig(4, 128, 4, 128))
KIND = {None: NO_NA, NATIVE: NATIVE_NA, GENERIC: GENERIC_NA}
T = ADAPTERS.transitions

OPS = st.sampled_from(
    [("admode", v) for v in (0, 1, 2, 3, -1)] + [("reconfigure", 0), ("reconfigure", 1)]
    + [(op, 0) for op in ("info", "register", "register", "close", "vale_a", "vale_d")])


def abstract(sys: NetmapSystem, ghosts: Adapters) -> Adapters:
    """em0 of ``sys`` as the model's state; the ghost fields, and ``saved_cfg`` while no
    native adapter is set aside (the model keeps a stale value there), from ``ghosts``."""
    ifp, na = sys.ifaces["em0"], sys.adapters.get("em0")
    saved = sys.saved_native.get("em0")
    return Adapters(
        n=ghosts.n, native=int(ifp.native), admode=sys.admode,
        attached=KIND[None if na is None else na.kind], saved=int(saved is not None),
        fds=0 if na is None else na.active_fds, owned=int(ifp.owned_by_switch),
        cfg=ghosts.cfg if na is None else CONFIGS.index(na.config),
        saved_cfg=ghosts.saved_cfg if saved is None else CONFIGS.index(saved.config),
        reported=CONFIGS.index(ifp.reported), opened_kind=ghosts.opened_kind,
        opened_cfg=ghosts.opened_cfg, created_mode=ghosts.created_mode)


def _diff(got: Adapters, want: Adapters) -> dict[str, tuple[object, object]]:
    return {f.name: (getattr(got, f.name), getattr(want, f.name)) for f in fields(want)
            if getattr(got, f.name) != getattr(want, f.name)}


@given(native=st.booleans(), ops=st.lists(OPS, max_size=30))
def test_the_system_moves_as_the_model(native: bool, ops: list[tuple[str, int]]) -> None:
    sys = NetmapSystem()
    sys.attach("em0", native, CONFIGS[0])
    na = sys.adapters.get("em0")
    model = Adapters(n=8, native=int(native), admode=ADMODE_BEST,
                     attached=NATIVE_NA if native else NO_NA, saved=0, fds=0, owned=0,
                     cfg=0, saved_cfg=0, reported=0,
                     opened_kind=NATIVE_NA if native else NO_NA, opened_cfg=0,
                     created_mode=ADMODE_BEST)
    assert (na is not None) == native and abstract(sys, model) == model
    handles: list[int] = []
    for op, arg in ops:
        if op == "admode":
            sys.admode = arg
            step = T["set_admode"].fn(model, value=arg)
            rc = 0
        elif op == "reconfigure":
            sys.reconfigure("em0", CONFIGS[arg])
            step = T["reconfigure"].fn(model, config=arg)
            rc = 0
        elif op == "info":
            rc, _ = sys.port_info("em0")
            step = T["port_info"].fn(model)
        elif op == "register":
            h = sys.open()
            rc = sys.register(h, "em0", NR_REG_ALL_NIC)
            ok = T["register"].fn(model)
            step = ok if ok.guard is True else T["refused_register"].fn(model)
            if rc == 0:
                handles.append(h)
                assert ok.guard is True, f"the model refuses a register the system took: {model}"
            else:
                assert ok.guard is False and rc in (errno.EOPNOTSUPP, errno.EBUSY), rc
                assert rc == (errno.EBUSY if model.owned else errno.EOPNOTSUPP)
                sys.close(h)
        elif op == "close":
            if not handles:
                continue
            rc = sys.close(handles.pop(0))
            step = T["close"].fn(model)
        elif op == "vale_a":
            if model.owned:
                continue
            rc = sys.attach_to_switch("em0")
            step = T["switch_attach"].fn(model)
        else:
            if not model.owned:
                continue
            sys.detach_from_switch("em0")
            rc = 0
            step = T["switch_detach"].fn(model)
        assert step.guard is True, (op, model)
        want: Adapters = step.post
        got = abstract(sys, want)
        assert got == want, (op, arg, rc, _diff(got, want))
        assert ADAPTERS.violated(want) == [], (op, want)
        if op in ("info", "vale_a") and rc:
            assert rc in (errno.EOPNOTSUPP, errno.EBUSY)
        model = want
