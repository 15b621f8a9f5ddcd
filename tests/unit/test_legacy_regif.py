"""The original NIOCREGIF (struct nmreq with ``nr_ringid``), as today's netmap runs it:
netmap_ioctl_legacy refuses an ``nr_version`` below 14, then nmreq_register_from_legacy
turns the ring id bits into a NETMAP_REQ_REGISTER mode, ring and flags, and the request
binds exactly the rings the modern request binds."""

from __future__ import annotations

import errno

import pytest

from impl.netmap.control import (
    NETMAP_DO_RX_POLL,
    NETMAP_HW_RING,
    NETMAP_NO_TX_POLL,
    NETMAP_SW_RING,
    NR_DO_RX_POLL,
    NR_EXCLUSIVE,
    NR_NO_TX_POLL,
    NR_REG_ALL_NIC,
    NR_REG_NIC_SW,
    NR_REG_ONE_NIC,
    NR_REG_PIPE_MASTER,
    NR_REG_SW,
    Binding,
    register_from_legacy,
)
from impl.netmap.system import NetmapSystem
from model.netmap_admode import RingConfig


def system() -> NetmapSystem:
    s = NetmapSystem()
    s.attach("em0", True, RingConfig(4, 512, 4, 512))
    return s


def bound(s: NetmapSystem, handle: int) -> Binding:
    control = s.adapters["em0"].control
    b = control.handles[s._bound[handle]]
    assert isinstance(b, Binding)
    return b


@pytest.mark.parametrize(("ringid", "flags", "want"), [
    (0, 0, (NR_REG_ALL_NIC, 0, 0)),
    (NETMAP_HW_RING | 2, 0, (NR_REG_ONE_NIC, 2, 0)),
    (NETMAP_SW_RING, 0, (NR_REG_SW, 0, 0)),
    (NETMAP_SW_RING | NETMAP_HW_RING | 1, 0, (NR_REG_SW, 1, 0)),  # SW is tested first
    (NETMAP_HW_RING | NETMAP_NO_TX_POLL | 3, 0, (NR_REG_ONE_NIC, 3, NR_NO_TX_POLL)),
    (NETMAP_DO_RX_POLL, 0, (NR_REG_ALL_NIC, 0, NR_DO_RX_POLL)),
    # a mode in nr_flags wins over the ring id bits; the other flags pass through
    (NETMAP_HW_RING | 1, NR_REG_NIC_SW | NR_EXCLUSIVE, (NR_REG_NIC_SW, 1, NR_EXCLUSIVE)),
])
def test_the_ring_id_bits_become_a_mode(ringid: int, flags: int,
                                        want: tuple[int, int, int]) -> None:
    assert register_from_legacy(ringid, flags) == want


@pytest.mark.parametrize("ringid", [0, NETMAP_HW_RING | 3, NETMAP_SW_RING,
                                    NETMAP_HW_RING | NETMAP_NO_TX_POLL | 1])
def test_a_legacy_request_binds_what_the_modern_one_binds(ringid: int) -> None:
    old, new = system(), system()
    h_old, h_new = old.open(), new.open()
    assert old.register_legacy(h_old, "em0", ringid) == 0
    assert new.register(h_new, "em0", *register_from_legacy(ringid, 0)) == 0
    assert bound(old, h_old) == bound(new, h_new)
    assert bound(old, h_old).flags & NR_NO_TX_POLL == (
        NR_NO_TX_POLL if ringid & NETMAP_NO_TX_POLL else 0)


@pytest.mark.parametrize(("version", "rc"), [(0, errno.EINVAL), (13, errno.EINVAL),
                                             (14, 0), (15, 0), (99, 0)])
def test_versions_below_14_are_refused_and_none_above(version: int, rc: int) -> None:
    """netmap_ioctl_legacy checks only the lower bound, then runs the request at the
    kernel's own version: a newer number is accepted."""
    s = system()
    h = s.open()
    assert s.register_legacy(h, "em0", 0, version=version) == rc
    assert (s.handles[h] is None) == (rc != 0)


def test_a_bad_ring_and_a_pipe_are_refused_before_anything_changes() -> None:
    s = system()
    h = s.open()
    assert s.register_legacy(h, "em0", NETMAP_HW_RING | 4) == errno.EINVAL  # 4 rings
    assert s.handles[h] is None and s.adapters["em0"].active_fds == 0
    with pytest.raises(ValueError, match="pipes"):
        s.register_legacy(h, "em0", 0, NR_REG_PIPE_MASTER)
    assert s.handles[h] is None
