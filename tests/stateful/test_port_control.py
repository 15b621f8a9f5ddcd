"""NIOCREGIF and close on a whole adapter against the one-kring model, ring by ring.

Processes open handles, register them with every NR_REG_* mode (valid and invalid ring
ids, NR_EXCLUSIVE, one direction only, wrong API versions, unknown modes) and close them,
in any order.  After every call, every TX and RX ring (hardware and host) of
:class:`impl.netmap.control.PortControl` equals :mod:`model.netmap_regif` stepped for that
ring: ``regif_this`` / ``regif_this_exclusive`` for the rings the handle binds,
``regif_other`` for the rest, the ``unregif_*`` mirror on close, nothing on an error.  A
refused call must leave the adapter exactly as it was.
"""

from __future__ import annotations

import errno

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from impl.netmap import control as c
from model import REGIF
from model import netmap_regif as rg

MODES = [c.NR_REG_ALL_NIC, c.NR_REG_SW, c.NR_REG_NIC_SW, c.NR_REG_ONE_NIC, c.NR_REG_NULL,
         c.NR_REG_ONE_SW, 0, 5, 9]
FLAGS = [0, c.NR_EXCLUSIVE, c.NR_TX_RINGS_ONLY, c.NR_RX_RINGS_ONLY,
         c.NR_EXCLUSIVE | c.NR_RX_RINGS_ONLY]


class PortControlMachine(RuleBasedStateMachine):
    handles = Bundle("handles")

    @initialize(tx=st.integers(1, 3), rx=st.integers(1, 3), host=st.integers(0, 2))
    def start(self, tx: int, rx: int, host: int) -> None:
        self.port = c.PortControl(tx, rx, host_rings=host, ring_size=8)
        self.rings = [(t, r) for t in (c.TX, c.RX) for r in range(self.port.users[t].size)]
        self.models = {k: rg.init(8) for k in self.rings}

    def _in(self, b: c.Binding, t: int, r: int) -> bool:
        return b.first[t] <= r < b.last[t]

    def _step(self, pick) -> None:
        for k, s in self.models.items():
            step = pick(k, s)
            if step is not None:
                assert step.guard, (k, s)
                self.models[k] = step.post

    @rule(target=handles)
    def open(self) -> int:
        return self.port.open()

    @rule(h=handles, mode=st.sampled_from(MODES), ringid=st.integers(0, 4),
          flags=st.sampled_from(FLAGS),
          version=st.sampled_from([c.NETMAP_API, c.NETMAP_API, c.NETMAP_MAX_API, 13, 16]))
    def regif(self, h: int, mode: int, ringid: int, flags: int, version: int) -> None:
        before = repr(self.port)
        registered = self.port.handles.get(h) is not None
        want = self.port.binding(mode, ringid, flags)
        err = self.port.regif(h, mode, ringid, flags, version)
        # netmap's order: the API version, a handle already bound, then the binding
        if version not in (c.NETMAP_API, c.NETMAP_MAX_API):
            assert err == errno.EINVAL
        elif registered:
            assert err == errno.EBUSY
        elif isinstance(want, int):
            assert err == errno.EINVAL
        event(f"regif -> {errno.errorcode.get(err, 'OK')}")
        if err:
            assert repr(self.port) == before, "a refused NIOCREGIF changed the adapter"
            if err == errno.EBUSY and not registered:
                # the rings that are busy themselves count the refusal (a model ghost)
                bind = rg.regif_this_exclusive if want.exclusive else rg.regif_this
                self._step(lambda k, s: bind(s) if self._in(want, *k)
                           and bind(s).post.ebusy > s.ebusy else None)
            return
        b = self.port.handles[h]
        self._step(lambda k, s: (rg.regif_this_exclusive(s) if b.exclusive else
                                 rg.regif_this(s)) if self._in(b, *k) else rg.regif_other(s))

    @rule(h=consumes(handles))
    def close(self, h: int) -> None:
        b = self.port.handles.get(h)
        assert self.port.close(h) == 0
        assert self.port.close(h) == errno.EBADF  # closing twice: not open any more
        if b is not None:
            self._step(lambda k, s: rg.unregif_this(s) if self._in(b, *k)
                       else rg.unregif_other(s))

    @invariant()
    def matches_the_model(self) -> None:
        for k, expected in self.models.items():
            got = self.port.abstract(*k, ebusy=expected.ebusy)
            assert got == expected, f"ring {k}:\n  impl  {got!r}\n  model {expected!r}"
            assert REGIF.violated(got) == []


TestPortControl = PortControlMachine.TestCase
