"""NIOCREGIF on :class:`impl.netmap.control.PortControl`: which rings a request binds, and
whether it is granted.

The stateful test (tests/stateful/test_port_control.py) takes the impl's own binding to
decide which rings a handle holds and only checks the errno of refusals, so mutation testing
(mutmut over impl/netmap) found the binding and the success path unchecked.  The binding is
``netmap_interp_ringid``'s
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1899),
which the model does not cover, so those expectations are written out from the C; whether a
bind is refused, and what it does to each ring, is the model's
(:mod:`model.netmap_regif`)."""

from __future__ import annotations

import errno
import re

import pytest

from impl.netmap import control as c
from impl.netmap.control import RX, TX, Binding, PortControl
from model import netmap_regif as rg


def bind(tx: tuple[int, int], rx: tuple[int, int], flags: int = 0) -> Binding:
    """The binding ``[tx[0], tx[1])`` of TX rings and ``[rx[0], rx[1])`` of RX rings."""
    return Binding((tx[0], rx[0]), (tx[1], rx[1]), flags)


def test_modes_bind_the_rings_netmap_interp_ringid_names() -> None:
    """ALL_NIC / NULL: every hardware ring; SW: the host rings (after the hardware ones);
    NIC_SW: both; ONE_NIC / ONE_SW: ring ``ringid``, or ring 0 of a direction with fewer
    rings (netmap_interp_ringid's "if not enough rings, use the first one")."""
    p = PortControl(3, 2, host_rings=2)
    assert p.binding(c.NR_REG_ALL_NIC) == bind((0, 3), (0, 2))
    assert p.binding(c.NR_REG_NULL, 1) == bind((0, 3), (0, 2))
    assert p.binding(c.NR_REG_SW) == bind((3, 5), (2, 4))
    assert p.binding(c.NR_REG_NIC_SW) == bind((0, 5), (0, 4))
    assert p.binding(c.NR_REG_ONE_NIC) == bind((0, 1), (0, 1))
    assert p.binding(c.NR_REG_ONE_NIC, 1) == bind((1, 2), (1, 2))
    assert p.binding(c.NR_REG_ONE_NIC, 2) == bind((2, 3), (0, 1))
    assert PortControl(2, 3).binding(c.NR_REG_ONE_NIC, 2) == bind((0, 1), (2, 3))
    assert p.binding(c.NR_REG_ONE_SW, 0) == bind((3, 4), (2, 3))
    assert p.binding(c.NR_REG_ONE_SW, 1) == bind((4, 5), (3, 4))


def test_a_direction_excluded_by_its_flag_binds_nothing() -> None:
    """NR_TX_RINGS_ONLY leaves the RX interval empty ([0, 0)) and NR_RX_RINGS_ONLY the TX
    one; both leave nothing; the flags are kept in the binding."""
    p = PortControl(3, 2, host_rings=1)
    tx_only, rx_only = c.NR_TX_RINGS_ONLY, c.NR_RX_RINGS_ONLY
    assert p.binding(c.NR_REG_ALL_NIC, 0, tx_only) == bind((0, 3), (0, 0), tx_only)
    assert p.binding(c.NR_REG_ALL_NIC, 0, rx_only) == bind((0, 0), (0, 2), rx_only)
    assert p.binding(c.NR_REG_SW, 0, rx_only) == bind((0, 0), (2, 3), rx_only)
    both = tx_only | rx_only
    assert p.binding(c.NR_REG_ONE_NIC, 1, both) == bind((0, 0), (0, 0), both)
    assert p.binding(c.NR_REG_ALL_NIC, 0, c.NR_EXCLUSIVE).exclusive


@pytest.mark.parametrize(
    "hw,host,mode,ringid",
    [
        ((3, 2), 1, c.NR_REG_ONE_NIC, 3),  # past the rings of both directions
        ((2, 3), 1, c.NR_REG_ONE_NIC, 3),
        ((3, 2), 2, c.NR_REG_ONE_SW, 2),  # past the host rings
        ((3, 2), 0, c.NR_REG_ONE_SW, 0),  # no host rings
        ((3, 2), 0, c.NR_REG_SW, 0),
        ((3, 2), 0, c.NR_REG_NIC_SW, 0),
        ((3, 2), 1, 0, 0),  # not a mode
        ((3, 2), 1, 5, 0),
        ((3, 2), 1, 9, 0),
    ],
)
def test_requests_netmap_interp_ringid_refuses_are_einval(
    hw: tuple[int, int], host: int, mode: int, ringid: int
) -> None:
    """netmap_interp_ringid returns EINVAL for a ring id past every ring of the kind asked
    for, for host rings on an adapter without them, and for an unknown mode."""
    p = PortControl(*hw, host_rings=host)
    assert p.binding(mode, ringid) == errno.EINVAL
    h = p.open()
    before = repr(p)
    assert p.regif(h, mode, ringid) == errno.EINVAL
    assert repr(p) == before


def test_the_adapter_needs_a_ring_each_way() -> None:
    """PortControl refuses an adapter without a TX or an RX ring, or with a negative
    number of host rings, and says so; the default is one host ring each way."""
    message = "need at least one TX and one RX ring, host_rings >= 0"
    for args, host in (((0, 1), 1), ((1, 0), 1), ((1, 1), -1)):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            PortControl(*args, host_rings=host)
    assert PortControl(1, 1).binding(c.NR_REG_SW) == bind((1, 2), (1, 2))


def model_refuses(p: PortControl, b: Binding) -> bool:
    """Whether the model refuses this bind (EBUSY) on one of the rings it binds."""
    step = rg.regif_this_exclusive if b.exclusive else rg.regif_this
    for t in (TX, RX):
        for r in range(b.first[t], b.last[t]):
            s = p.abstract(t, r)
            if step(s).post.ebusy > s.ebusy:
                return True
    return False


def test_regif_grants_what_the_model_grants() -> None:
    """A sequence of NIOCREGIF calls on one adapter: each returns EBUSY exactly when the
    model refuses the bind on one of its rings (a ring held exclusively, or NR_EXCLUSIVE
    on a ring in use), else 0 with the handle bound to the rings of its request."""
    p = PortControl(2, 2, host_rings=1)
    requests = [
        (c.NR_REG_ONE_NIC, 1, 0),
        (c.NR_REG_ALL_NIC, 0, 0),  # shares ring 1: fine without NR_EXCLUSIVE
        (c.NR_REG_ONE_NIC, 0, c.NR_EXCLUSIVE),  # ring 0 is in use
        (c.NR_REG_SW, 0, c.NR_EXCLUSIVE),  # the host rings are free
        (c.NR_REG_NIC_SW, 0, 0),  # the host rings are held exclusively
        (c.NR_REG_ONE_NIC, 1, c.NR_TX_RINGS_ONLY),
        (c.NR_REG_ONE_NIC, 0, c.NR_TX_RINGS_ONLY | c.NR_RX_RINGS_ONLY),
    ]
    granted = []
    for mode, ringid, flags in requests:
        h = p.open()
        want = p.binding(mode, ringid, flags)
        assert isinstance(want, Binding)
        refused = model_refuses(p, want)
        err = p.regif(h, mode, ringid, flags)
        assert err == (errno.EBUSY if refused else 0), (mode, ringid, flags)
        assert p.handles[h] == (None if refused else want)
        granted.append(not refused)
    assert granted == [True, True, False, True, False, True, True]
    h = p.open()
    assert p.regif(h, c.NR_REG_ONE_NIC) == 0  # ringid 0 and no flags by default
    assert p.handles[h] == bind((0, 1), (0, 1))
    assert p.regif(h, c.NR_REG_ONE_NIC) == errno.EBUSY  # a handle binds once
    assert p.regif(p.open(), c.NR_REG_ALL_NIC, version=c.NETMAP_MAX_API + 1) == errno.EINVAL


def test_a_handle_binding_no_ring_still_registers_the_adapter() -> None:
    """NR_TX_RINGS_ONLY | NR_RX_RINGS_ONLY binds no ring, but the first handle still makes
    nm_register(na, 1) set the native flags and the last close clears them: every ring
    steps as the model's regif_other / unregif_other."""
    p = PortControl(1, 1, host_rings=0, ring_size=8)
    rings = [(TX, 0), (RX, 0)]
    h = p.open()
    assert p.regif(h, c.NR_REG_ALL_NIC, 0, c.NR_TX_RINGS_ONLY | c.NR_RX_RINGS_ONLY) == 0
    expected = rg.regif_other(rg.init(8)).post
    assert [p.abstract(*k) for k in rings] == [expected, expected]
    assert p.abstract(TX, 0).native == 1
    assert p.close(h) == 0
    expected = rg.unregif_other(expected).post
    assert [p.abstract(*k) for k in rings] == [expected, expected]
    assert p.abstract(TX, 0).native == 0


def test_a_new_adapter_is_the_model_init() -> None:
    """Before any handle, every ring is the model's init (no refusal counted)."""
    p = PortControl(2, 1, host_rings=1, ring_size=16)
    assert [p.abstract(t, r) for t, r in ((TX, 0), (TX, 2), (RX, 1))] == [rg.init(16)] * 3


def test_the_repr_shows_which_handles_are_bound() -> None:
    """The stateful test compares ``repr`` before and after a refused call to check that
    nothing changed; bound handles (and only they) must show in it."""
    p = PortControl(1, 1, host_rings=0)
    p.open()  # a handle that is never bound
    before = repr(p)
    h = p.open()
    assert repr(p) == before  # an unbound handle is not state the repr tracks
    assert p.regif(h, c.NR_REG_ALL_NIC) == 0
    assert repr(p).endswith(f"bound={{{h}: {p.handles[h]!r}}})")  # not the idle one
