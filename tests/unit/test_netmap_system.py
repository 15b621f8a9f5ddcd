"""The netmap control device over several interfaces (:mod:`impl.netmap.system`):
NIOCGINFO / PORT_INFO_GET, NIOCREGIF's adapter selection by ``dev.netmap.admode``
(checked against :func:`model.netmap_admode.hw_adapter` in every case), generic adapters
living exactly as long as their users, the ring configuration adopted only while no
handle is active, and each refusal's errno with nothing changed."""

from __future__ import annotations

import errno
import itertools

import pytest

from impl.netmap.control import NR_EXCLUSIVE, NR_REG_ALL_NIC, NR_REG_ONE_NIC
from impl.netmap.system import NetmapSystem, memsize
from model.netmap_admode import (
    ADMODE_BEST,
    ADMODE_GENERIC,
    ADMODE_NATIVE,
    GENERIC,
    NETMAP_API,
    RingConfig,
    hw_adapter,
)

CFG = RingConfig(4, 512, 4, 512)


def system(native: bool = True) -> NetmapSystem:
    s = NetmapSystem()
    s.attach("em0", native, CFG)
    return s


@pytest.mark.parametrize("version", [0, 13, 16, 2**32 - 1])
def test_an_api_mismatch_is_einval(version: int) -> None:
    s = system()
    assert s.port_info("em0", version) == (errno.EINVAL, None)
    rc, info = s.port_info("em0", version, legacy=True)
    assert rc == errno.EINVAL and info is not None and info.nr_version == NETMAP_API
    h = s.open()
    assert s.register(h, "em0", NR_REG_ALL_NIC, version=version) == errno.EINVAL
    assert s.handles[h] is None and s.adapters["em0"].active_fds == 0


@pytest.mark.parametrize("version", [14, 15])
def test_port_info_reports_the_configuration(version: int) -> None:
    rc, info = system().port_info("em0", version)
    assert rc == 0 and info is not None
    assert (info.nr_tx_rings, info.nr_tx_slots, info.nr_rx_rings, info.nr_rx_slots) == CFG
    assert info.nr_memsize == memsize(CFG) > 4 * 2 * 512 * 2048
    assert (info.nr_host_tx_rings, info.nr_host_rx_rings) == (1, 1)


def test_unknown_interface_is_enxio() -> None:
    s = system()
    h = s.open()
    assert s.port_info("em9") == (errno.ENXIO, None)
    assert s.register(h, "em9", NR_REG_ALL_NIC) == errno.ENXIO
    assert s.handles[h] is None and "em9" not in s.adapters


@pytest.mark.parametrize(("admode", "native", "in_use"), list(itertools.product(
    [-1, ADMODE_BEST, ADMODE_NATIVE, ADMODE_GENERIC, 3], [True, False], [True, False])))
def test_the_adapter_chosen_is_the_models(admode: int, native: bool, in_use: bool) -> None:
    """netmap_get_hw_na's table: every admode (two of them invalid), with and without
    native support, with the attached adapter in use by a handle or not."""
    s = system(native)
    if in_use:  # a first user, under the default admode, holds the adapter
        assert s.register(s.open(), "em0", NR_REG_ONE_NIC, ringid=0) == 0
    attached = s.adapters["em0"].kind if "em0" in s.adapters else None
    s.admode = admode
    want = hw_adapter(admode, native, attached, in_use)
    h = s.open()
    rc = s.register(h, "em0", NR_REG_ONE_NIC, ringid=1)
    if isinstance(want, int):
        assert rc == want and s.handles[h] is None
    else:
        assert rc == 0 and s.adapters["em0"].kind == want
    assert s.admode in (ADMODE_BEST, ADMODE_NATIVE, ADMODE_GENERIC)  # reset when invalid


def test_a_generic_adapter_lives_as_long_as_its_users() -> None:
    s = system(native=True)
    native = s.adapters["em0"]
    s.admode = ADMODE_GENERIC
    a, b = s.open(), s.open()
    assert s.register(a, "em0", NR_REG_ONE_NIC, ringid=0) == 0
    assert s.adapters["em0"].kind == GENERIC and s.saved_native["em0"] is native
    s.admode = ADMODE_BEST  # in use: the generic adapter is what the next user gets
    assert s.register(b, "em0", NR_REG_ONE_NIC, ringid=1) == 0
    assert s.adapters["em0"].kind == GENERIC and s.adapters["em0"].active_fds == 2
    assert s.close(a) == 0 and s.adapters["em0"].kind == GENERIC
    assert s.close(b) == 0 and s.adapters["em0"] is native and not s.saved_native
    s.admode = ADMODE_GENERIC  # an info request alone creates and drops one
    assert s.port_info("em0")[0] == 0 and s.adapters["em0"] is native
    no = system(native=False)
    assert "em0" not in no.adapters
    assert no.port_info("em0")[0] == 0 and "em0" not in no.adapters


def test_the_configuration_changes_only_while_no_handle_is_active() -> None:
    s = system()
    new = RingConfig(2, 1024, 2, 1024)
    s.reconfigure("em0", new)
    assert s.port_info("em0")[1].nr_tx_slots == 1024  # type: ignore[union-attr]
    h = s.open()
    assert s.register(h, "em0", NR_REG_ALL_NIC) == 0
    s.reconfigure("em0", CFG)
    rc, info = s.port_info("em0")
    assert rc == 0 and info is not None and info.nr_tx_rings == 2  # kept while active
    assert s.adapters["em0"].config == new and s.adapters["em0"].config_warnings == 1
    g = s.open()
    assert s.register(g, "em0", NR_REG_ONE_NIC, ringid=3) == errno.EINVAL  # 2 rings now
    assert s.close(h) == 0
    assert s.port_info("em0")[1].nr_tx_rings == 4  # type: ignore[union-attr]
    assert s.register(g, "em0", NR_REG_ONE_NIC, ringid=3) == 0


def test_an_interface_a_switch_owns_is_ebusy() -> None:
    s = system(native=False)
    assert s.attach_to_switch("em0") == 0
    h = s.open()
    assert s.register(h, "em0", NR_REG_ALL_NIC) == errno.EBUSY
    assert s.handles[h] is None and s.adapters["em0"].active_fds == 0
    assert s.port_info("em0")[0] == 0
    s.detach_from_switch("em0")
    assert "em0" not in s.adapters  # the generic adapter the switch held is gone
    assert s.register(h, "em0", NR_REG_ALL_NIC) == 0
    assert s.attach_to_switch("em0") == errno.EBUSY  # a user has it open
    assert s.attach_to_switch("em7") == errno.ENXIO


def test_handle_errors() -> None:
    s = system()
    h = s.open()
    assert s.register(99, "em0", NR_REG_ALL_NIC) == errno.EBADF
    assert s.close(99) == errno.EBADF
    assert s.register(h, "em0", NR_REG_ALL_NIC) == 0
    assert s.register(h, "em0", NR_REG_ALL_NIC) == errno.EBUSY  # already registered
    g = s.open()
    assert s.register(g, "em0", NR_REG_ALL_NIC, flags=NR_EXCLUSIVE) == errno.EBUSY
    assert s.handles[g] is None and s.adapters["em0"].active_fds == 1
    with pytest.raises(ValueError, match="exists"):
        s.attach("em0", True, CFG)
    with pytest.raises(ValueError, match="2 slots"):
        s.reconfigure("em0", RingConfig(1, 1, 1, 1))


@pytest.mark.parametrize(("admode", "native", "want"), [
    (ADMODE_BEST, True, "native"), (ADMODE_BEST, False, GENERIC),
    (ADMODE_NATIVE, True, "native"), (ADMODE_NATIVE, False, errno.EOPNOTSUPP),
    (ADMODE_GENERIC, True, GENERIC), (ADMODE_GENERIC, False, GENERIC),
])
def test_the_table_in_netmap_get_hw_nas_comment(admode: int, native: bool,
                                                want: str | int) -> None:
    """The rows of the table above netmap_get_hw_na (netmap.c at 89607e14, line 1466) for
    ``active_fds == 0``; with ``active_fds > 0`` every row is the adapter attached."""
    attached = "native" if native else None
    assert hw_adapter(admode, native, attached, in_use=False) == want
    assert hw_adapter(admode, native, attached or GENERIC, in_use=True) == (attached or GENERIC)
