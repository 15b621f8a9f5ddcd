"""The ENA sysctl interface (impl/ena/sysctl.py): every knob's boundaries and errnos.

Each refusal is checked for its exact errno, for leaving the adapter byte-for-byte
unchanged (``snapshot``) and for not calling the host's update operation; each acceptance
for the value it stores or the host call it makes."""

from __future__ import annotations

from errno import EINVAL, EIO, ENODEV, ENOENT, ENOMEM, ENOTSUP, EPERM, ERANGE, ETIMEDOUT

import numpy as np
import pytest
from support.sysctl_fake import FakeSysctlHost, default_table, failing

from impl.ena.sysctl import DRIVER_VERSION, DriverTunables, Sysctl, SysctlError
from impl.ena.sysctl_host import ENA_ADMIN_CRC32, SysctlHost

DEV = "dev.ena.0."
UPDATES = ("update_io_queue_nb", "update_queue_size", "update_buf_ring_size",
           "update_irq_affinity", "set_rss_key", "set_rss_indir_table")


@pytest.fixture
def host() -> FakeSysctlHost:
    return FakeSysctlHost()


@pytest.fixture
def sc(host: FakeSysctlHost) -> Sysctl:
    return Sysctl(host)


def op_calls(host: FakeSysctlHost, *names: str) -> list[tuple[object, ...]]:
    wanted = names or UPDATES
    return [args for name, args in host.calls if name in wanted]


def refused(sc: Sysctl, host: FakeSysctlHost, name: str, value: str, err: int) -> None:
    """Writing ``value`` gives ``err``, changes nothing and calls no update."""
    before = host.snapshot()
    tunables = DriverTunables(**vars(sc.tunables))
    assert sc.write(name, value) == err
    assert host.snapshot() == before
    assert sc.tunables == tunables
    assert op_calls(host) == []


def accepted(sc: Sysctl, name: str, value: str) -> None:
    assert sc.write(name, value) == 0


def test_fake_implements_the_protocol(host: FakeSysctlHost) -> None:
    h: SysctlHost = host
    assert h.snapshot() == FakeSysctlHost().snapshot()
    h.num_io_queues = 3
    assert h.snapshot() != FakeSysctlHost().snapshot()


# -- names, read-only nodes


def test_driver_globals_read(sc: Sysctl) -> None:
    assert sc.read("hw.ena.driver_version") == DRIVER_VERSION == "2.8.3"
    assert sc.read("hw.ena.log_level") == "2"
    assert sc.read("hw.ena.enable_9k_mbufs") == "0"
    assert sc.read("hw.ena.force_large_llq_header") == "2"
    assert sc.read(DEV + "rss.indir_table_size") == "128"


@pytest.mark.parametrize("name", ["hw.ena.driver_version", "hw.ena.enable_9k_mbufs",
                                  "hw.ena.force_large_llq_header",
                                  DEV + "rss.indir_table_size"])
@pytest.mark.parametrize("value", ["1", "0", "2.8.4", "", "junk"])
def test_read_only_nodes_refuse_writes(sc: Sysctl, host: FakeSysctlHost, name: str,
                                       value: str) -> None:
    before = sc.read(name)
    refused(sc, host, name, value, EPERM)
    assert sc.read(name) == before
    assert not sc.writable(name)


@pytest.mark.parametrize("name", ["hw.ena.nope", "dev.ena.1.rx_queue_size", DEV + "rss",
                                  DEV + "irq_affinity", "hw.ena", " " + DEV + "rx_queue_size",
                                  "dev.ena.0.tx_queue_size", ""])
def test_unknown_names(sc: Sysctl, host: FakeSysctlHost, name: str) -> None:
    refused(sc, host, name, "512", ENOENT)
    with pytest.raises(SysctlError) as e:
        sc.read(name)
    assert e.value.errno == ENOENT


def test_unit_number_selects_the_adapter() -> None:
    h = FakeSysctlHost()
    sc = Sysctl(h, unit=3)
    assert sc.write("dev.ena.3.rx_queue_size", "512") == 0
    assert h.requested_rx_ring_size == 512
    assert sc.write("dev.ena.0.rx_queue_size", "256") == ENOENT
    assert "dev.ena.3.rss.key" in sc.names()


def test_tunables_are_shared_between_adapters() -> None:
    t = DriverTunables()
    a, b = Sysctl(FakeSysctlHost(), 0, t), Sysctl(FakeSysctlHost(), 1, t)
    assert a.write("hw.ena.log_level", "3") == 0
    assert b.read("hw.ena.log_level") == "3"


# -- sysctl(8) number parsing (on a u32 without a handler)

THRESHOLD = DEV + "missing_tx_threshold"


@pytest.mark.parametrize(("value", "stored"), [
    ("17", 17), ("0x11", 17), ("0X11", 17), ("021", 17), ("+17", 17), (" 17", 17),
    ("\t\n17", 17), ("17 ", 17), ("17,", 17), (",17", 17), ("  17  ", 17), ('"17"', 17),
    ("'17'", 17), ('"17', 17), ("0", 0), ("-0", 0), ("00", 0), ("0x0", 0),
    ("4294967295", 4294967295), ("0xffffffff", 4294967295), ("037777777777", 4294967295),
])
def test_u32_numbers_sysctl8_accepts(sc: Sysctl, host: FakeSysctlHost, value: str,
                                     stored: int) -> None:
    host.missing_tx_threshold = 5
    accepted(sc, THRESHOLD, value)
    assert host.missing_tx_threshold == stored
    assert sc.read(THRESHOLD) == str(stored)


@pytest.mark.parametrize("value", [
    "", " ", "\t", '""', "''", ",", " , ", "12abc", "abc", "0x", "0xg", "08", "09", "1.5",
    "1e3", "17\t", "17\n", "1,2", "1 2", "17 17", "-1", "-4294967295", "4294967296",
    "0x100000000", "99999999999999999999999", "- 1", "+", "-", "+-1", "0x-1", "١٧",
    "\uff11\uff17", "17\x00", "\x0017", "\ud800", "1_000", "0b101", "17;",
])
def test_u32_numbers_sysctl8_refuses(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    refused(sc, host, THRESHOLD, value, EINVAL)


@pytest.mark.parametrize(("value", "err"), [
    ("-1", 0), ("-9223372036854775808", 0), ("9223372036854775807", 0),
    ("0x7fffffffffffffff", 0), ("9223372036854775808", EINVAL),
    ("-9223372036854775809", EINVAL), ("0x8000000000000000", EINVAL),
])
def test_quad_range(sc: Sysctl, host: FakeSysctlHost, value: str, err: int) -> None:
    name = DEV + "keep_alive_timeout"
    if err:
        refused(sc, host, name, value, err)
    else:
        accepted(sc, name, value)
        assert host.keep_alive_timeout == int(value, 0)
        assert sc.read(name) == str(int(value, 0))


@pytest.mark.parametrize(("value", "err"), [
    ("2147483647", 0), ("-2147483648", 0), ("2147483648", EINVAL), ("-2147483649", EINVAL),
])
def test_int_range(sc: Sysctl, host: FakeSysctlHost, value: str, err: int) -> None:
    if err:
        refused(sc, host, "hw.ena.log_level", value, err)
    else:
        accepted(sc, "hw.ena.log_level", value)
        assert sc.read("hw.ena.log_level") == value


def test_argument_longer_than_sysctl8_buffer(sc: Sysctl, host: FakeSysctlHost) -> None:
    room = 1024 - len(THRESHOLD) - 1          # name=value must stay below BUFSIZ
    refused(sc, host, THRESHOLD, " " * (room - 2) + "17", EINVAL)
    accepted(sc, THRESHOLD, " " * (room - 3) + "17")
    assert host.missing_tx_threshold == 17


# -- plain variables


def test_plain_variables_need_no_running_device(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.device_running = False
    host.rss_active = False
    for name, value in [("wd_active", "0"), ("keep_alive_timeout", "-1"),
                        ("missing_tx_timeout", "0x100000000"),
                        ("missing_tx_max_queues", "4294967295"),
                        ("missing_tx_threshold", "0")]:
        accepted(sc, DEV + name, value)
    assert (host.wd_active, host.keep_alive_timeout, host.missing_tx_timeout,
            host.missing_tx_max_queues, host.missing_tx_threshold) == (
        False, -1, 1 << 32, 4294967295, 0)
    assert op_calls(host) == []


@pytest.mark.parametrize(("value", "active", "shown"), [
    ("0", False, "0"), ("1", True, "1"), ("5", True, "1"), ("-1", True, "1")])
def test_wd_active(sc: Sysctl, host: FakeSysctlHost, value: str, active: bool,
                   shown: str) -> None:
    host.wd_active = not active
    accepted(sc, DEV + "wd_active", value)
    assert host.wd_active is active
    assert sc.read(DEV + "wd_active") == shown


def test_log_level_is_not_validated(sc: Sysctl) -> None:
    for v in ("3", "0", "-7", "99"):
        accepted(sc, "hw.ena.log_level", v)
        assert sc.read("hw.ena.log_level") == v


# -- io_queues_nb

IOQ = DEV + "io_queues_nb"


@pytest.mark.parametrize("value", ["0", "9", "10", "4294967295"])
def test_io_queues_nb_refused(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    assert host.msix_vecs == 9
    refused(sc, host, IOQ, value, EINVAL)


def test_io_queues_nb_same_as_current(sc: Sysctl, host: FakeSysctlHost) -> None:
    refused(sc, host, IOQ, "8", 0)
    assert any(level == "ERR" for level, _ in sc.log)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_io_queues_nb_applies(sc: Sysctl, host: FakeSysctlHost, n: int) -> None:
    accepted(sc, IOQ, str(n))
    assert op_calls(host, "update_io_queue_nb") == [(n,)]
    assert sc.read(IOQ) == str(n)


def test_io_queues_nb_max_is_msix_minus_admin(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.msix_vecs = 3
    host.num_io_queues = 1
    refused(sc, host, IOQ, "3", EINVAL)
    accepted(sc, IOQ, "2")
    assert host.num_io_queues == 2


def test_io_queues_nb_failure_returns_errno_and_keeps_working(
        sc: Sysctl, host: FakeSysctlHost) -> None:
    host.fail = failing(ENOMEM, "update_io_queue_nb")
    assert sc.write(IOQ, "4") == ENOMEM
    assert host.num_io_queues == 8
    host.fail = {}
    # no lock left held: the next write (on any knob) runs and reaches the host
    assert sc.write(DEV + "rx_queue_size", "2048") == 0
    assert sc.write(IOQ, "4") == 0
    assert op_calls(host, "update_io_queue_nb") == [(4,), (4,)]


# -- rx_queue_size

RXQ = DEV + "rx_queue_size"


@pytest.mark.parametrize("value", ["0", "1", "128", "255", "257", "384", "1000", "8191",
                                   "8193", "16384", "4294967295"])
def test_rx_queue_size_refused(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    assert host.max_rx_ring_size == 8192
    refused(sc, host, RXQ, value, EINVAL)


@pytest.mark.parametrize("value", ["256", "512", "2048", "8192", "0x100"])
def test_rx_queue_size_applies(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    accepted(sc, RXQ, value)
    n = int(value, 0)
    assert op_calls(host, "update_queue_size") == [(1024, n)]
    assert (host.requested_tx_ring_size, host.requested_rx_ring_size) == (1024, n)
    assert sc.read(RXQ) == str(n)


def test_rx_queue_size_max_not_power_of_two(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.max_rx_ring_size = 3000
    refused(sc, host, RXQ, "4096", EINVAL)
    refused(sc, host, RXQ, "3000", EINVAL)
    accepted(sc, RXQ, "2048")


def test_rx_queue_size_same_as_current(sc: Sysctl, host: FakeSysctlHost) -> None:
    refused(sc, host, RXQ, "1024", 0)


def test_rx_queue_size_update_failure(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.fail = failing(ENOMEM, "update_queue_size")
    assert sc.write(RXQ, "512") == ENOMEM
    assert host.requested_rx_ring_size == 1024


# -- buf_ring_size

BRS = DEV + "buf_ring_size"


@pytest.mark.parametrize("value", ["0", "3", "4095", "4097", "6144", "4294967295"])
def test_buf_ring_size_refused(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    refused(sc, host, BRS, value, EINVAL)


@pytest.mark.parametrize("n", [1, 2, 8192, 1 << 31])
def test_buf_ring_size_applies_without_upper_bound(sc: Sysctl, host: FakeSysctlHost,
                                                   n: int) -> None:
    accepted(sc, BRS, str(n))
    assert op_calls(host, "update_buf_ring_size") == [(n,)]
    assert sc.read(BRS) == str(n)


def test_buf_ring_size_same_and_failure(sc: Sysctl, host: FakeSysctlHost) -> None:
    refused(sc, host, BRS, "4096", 0)
    host.fail = failing(EIO, "update_buf_ring_size")
    assert sc.write(BRS, "1024") == EIO
    assert host.buf_ring_size == 4096


# -- stats_sample_interval

SSI = DEV + "stats_sample_interval"


@pytest.mark.parametrize("value", ["3601", "65535", "65536", "-1"])
def test_stats_sample_interval_refused_with_einval(sc: Sysctl, host: FakeSysctlHost,
                                                   value: str) -> None:
    host.stats_sample_interval = 10
    refused(sc, host, SSI, value, EINVAL)       # the C reports 0 here
    assert sc.read(SSI) == "10"


@pytest.mark.parametrize("n", [1, 60, 3600])
def test_stats_sample_interval_applies(sc: Sysctl, host: FakeSysctlHost, n: int) -> None:
    accepted(sc, SSI, str(n))
    assert host.stats_sample_interval == n
    assert host.eni_metrics == (7, 7, 7, 7, 7)


def test_stats_sample_interval_zero_clears_metrics_every_time(
        sc: Sysctl, host: FakeSysctlHost) -> None:
    host.stats_sample_interval = 5
    accepted(sc, SSI, "0")
    assert (host.stats_sample_interval, host.eni_metrics) == (0, (0, 0, 0, 0, 0))
    host.eni_metrics = (1, 2, 3, 4, 5)
    accepted(sc, SSI, "0")                       # no "same as current" test here
    assert host.eni_metrics == (0, 0, 0, 0, 0)


# -- DEVICE_RUNNING


@pytest.mark.parametrize(("knob", "value", "err"), [
    ("io_queues_nb", "4", EINVAL), ("rx_queue_size", "512", EINVAL),
    ("buf_ring_size", "1024", EINVAL), ("stats_sample_interval", "10", EINVAL),
    ("irq_affinity.base_cpu", "2", ENODEV), ("irq_affinity.cpu_stride", "2", ENODEV),
    ("rss.key", "00" * 40, EINVAL), ("rss.indir_table", "0:1", EINVAL),
    ("rss.indir_table", "", EINVAL), ("rss.key", "junk", EINVAL),
])
def test_device_not_running(sc: Sysctl, host: FakeSysctlHost, knob: str, value: str,
                            err: int) -> None:
    host.device_running = False
    refused(sc, host, DEV + knob, value, err)
    with pytest.raises(SysctlError) as e:
        sc.read(DEV + knob)
    assert e.value.errno == err


def test_malformed_number_refused_before_the_device_check(sc: Sysctl,
                                                          host: FakeSysctlHost) -> None:
    host.device_running = False
    refused(sc, host, DEV + "irq_affinity.base_cpu", "2x", EINVAL)   # sysctl(8) refuses


# -- irq_affinity

BASE = DEV + "irq_affinity.base_cpu"
STRIDE = DEV + "irq_affinity.cpu_stride"


@pytest.mark.parametrize("value", ["-1", "-2", "-2147483648", "17", "2147483647",
                                   "2147483648"])
def test_base_cpu_refused(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    assert host.mp_ncpus == 16
    host.irq_cpu_base = 3
    refused(sc, host, BASE, value, EINVAL)


@pytest.mark.parametrize("n", [0, 1, 15, 16])
def test_base_cpu_applies_up_to_mp_ncpus(sc: Sysctl, host: FakeSysctlHost, n: int) -> None:
    host.irq_cpu_stride = 2
    accepted(sc, BASE, str(n))
    assert op_calls(host, "update_irq_affinity") == [(n, 2)]
    assert sc.read(BASE) == str(n)


def test_base_cpu_same_and_failure(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.irq_cpu_base = 4
    refused(sc, host, BASE, "4", 0)
    host.fail = failing(ENOMEM, "update_irq_affinity")
    assert sc.write(BASE, "5") == ENOMEM
    assert host.irq_cpu_base == 4
    assert sc.read(BASE) == "4"


def test_base_cpu_default_reads_unspecified(sc: Sysctl) -> None:
    assert sc.read(BASE) == "-1"


@pytest.mark.parametrize("value", ["-1", "-2147483648", "2147483648"])
def test_cpu_stride_refused(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    refused(sc, host, STRIDE, value, EINVAL)


@pytest.mark.parametrize(("n", "warned"), [(1, False), (16, False), (17, True),
                                           (1000, True)])
def test_cpu_stride_above_ncpus_only_warns(sc: Sysctl, host: FakeSysctlHost, n: int,
                                           warned: bool) -> None:
    host.irq_cpu_base = 2
    accepted(sc, STRIDE, str(n))
    assert op_calls(host, "update_irq_affinity") == [(2, n)]
    assert host.irq_cpu_stride == n
    assert any(level == "WARN" for level, _ in sc.log) is warned


def test_cpu_stride_same_as_current(sc: Sysctl, host: FakeSysctlHost) -> None:
    refused(sc, host, STRIDE, "0", 0)
    host.irq_cpu_stride = 40
    refused(sc, host, STRIDE, "40", 0)            # still only warns, then same: no update
    assert [lvl for lvl, _ in sc.log] == ["INFO", "WARN", "INFO"]


# -- rss.key

KEY = DEV + "rss.key"
HEX = "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"


def test_rss_key_reads_in_normal_order(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.key = bytes(range(40))                  # as ena-com holds it: reversed
    shown = sc.read(KEY)
    assert shown == bytes(range(39, -1, -1)).hex()
    assert len(shown) == 80 and shown == shown.lower()


def test_rss_key_write_read_round_trip(sc: Sysctl, host: FakeSysctlHost) -> None:
    accepted(sc, KEY, HEX)
    assert sc.read(KEY) == HEX
    assert host.key == bytes.fromhex(HEX)[::-1]
    assert op_calls(host, "set_rss_key") == [(bytes.fromhex(HEX)[::-1],)]


def test_rss_key_uppercase_and_quoting(sc: Sysctl, host: FakeSysctlHost) -> None:
    accepted(sc, KEY, HEX.upper())
    assert sc.read(KEY) == HEX
    accepted(sc, KEY, f'  "{HEX[::-1]}"')        # sysctl(8) strips spaces and quotes
    assert sc.read(KEY) == HEX[::-1]


@pytest.mark.parametrize("value", [
    HEX[:79], HEX + "0", HEX[:78], "", HEX + HEX, "zz" + HEX[2:], HEX[:78] + "0g",
    HEX[:40] + "0x" + HEX[42:], HEX[:40] + "- " + HEX[42:], HEX[:40] + "  " + HEX[42:],
    HEX[:40] + "+ " + HEX[42:], HEX[:40] + "\u00e9" + HEX[41:], HEX[:79] + "\x00",
    HEX[:78] + " ", HEX[:40] + "1 " + HEX[42:],
])
def test_rss_key_refused(sc: Sysctl, host: FakeSysctlHost, value: str) -> None:
    refused(sc, host, KEY, value, EINVAL)


@pytest.mark.parametrize(("pair", "byte"), [(" f", 0x0F), ("+f", 0x0F), ("-1", 0xFF),
                                             ("-f", 0xF1), ("\tA", 0x0A), ("-0", 0x00)])
def test_rss_key_pairs_as_shipped(sc: Sysctl, host: FakeSysctlHost, pair: str,
                                  byte: int) -> None:
    accepted(sc, KEY, HEX[:40] + pair + HEX[42:])
    assert bytes.fromhex(sc.read(KEY))[20] == byte
    assert host.key[19] == byte                     # byte 20 of 40, reversed


def test_rss_key_needs_rss_active(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.rss_active = False
    refused(sc, host, KEY, HEX, ENOTSUP)
    refused(sc, host, KEY, "junk", ENOTSUP)
    with pytest.raises(SysctlError) as e:
        sc.read(KEY)
    assert e.value.errno == ENOTSUP


@pytest.mark.parametrize("func", [ENA_ADMIN_CRC32, 0, 3])
def test_rss_key_needs_toeplitz(sc: Sysctl, host: FakeSysctlHost, func: int) -> None:
    host.hash_function = func
    refused(sc, host, KEY, HEX, EINVAL)
    with pytest.raises(SysctlError) as e:
        sc.read(KEY)
    assert e.value.errno == EINVAL


def test_rss_key_hash_function_get_fails(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.hash_function_errno = ETIMEDOUT
    refused(sc, host, KEY, HEX, ETIMEDOUT)
    with pytest.raises(SysctlError) as e:
        sc.read(KEY)
    assert e.value.errno == ETIMEDOUT


def test_rss_key_set_failure(sc: Sysctl, host: FakeSysctlHost) -> None:
    before = sc.read(KEY)
    host.fail = failing(EIO, "set_rss_key")
    assert sc.write(KEY, HEX) == EIO
    assert sc.read(KEY) == before


# -- rss.indir_table

IND = DEV + "rss.indir_table"


def table(host: FakeSysctlHost) -> list[int]:
    assert host.table is not None
    return host.table.tolist()


def test_indir_table_read_format(sc: Sysctl) -> None:
    shown = sc.read(IND)
    assert shown == " ".join(f"{i}:{i % 8}" for i in range(128))
    assert shown.startswith("0:0 1:1 2:2") and shown.endswith("126:6 127:7")


@pytest.mark.parametrize(("text", "changes"), [
    ("0:5", {0: 5}), ("127:7", {127: 7}), ("0:5 5:0", {0: 5, 5: 0}),
    ("0:5   5:0", {0: 5, 5: 0}), ("  0:5\t\n5:0", {0: 5, 5: 0}), ("3:1 3:2 3:4", {3: 4}),
    ("+3:+2", {3: 2}), ("3: 2", {3: 2}), ("007:06", {7: 6}), ('"0:5 1:5"', {0: 5, 1: 5}),
])
def test_indir_table_records(sc: Sysctl, host: FakeSysctlHost, text: str,
                             changes: dict[int, int]) -> None:
    expected = table(host)
    for i, q in changes.items():
        expected[i] = q
    accepted(sc, IND, text)
    assert table(host) == expected
    assert [a[0].tolist() for a in op_calls(host, "set_rss_indir_table")] == [expected]
    assert sc.read(IND).split(" ") == [f"{i}:{q}" for i, q in enumerate(expected)]


def test_indir_table_empty_string_resets_current(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.table = default_table(3)
    host.device_table = default_table(8)
    accepted(sc, IND, "")
    assert [a[0].tolist() for a in op_calls(host, "set_rss_indir_table")] == [
        default_table(3).tolist()]
    assert host.device_table.tolist() == default_table(3).tolist()


def test_indir_table_write_back_what_was_read(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.table = np.array([(5 * i) % 8 for i in range(128)], dtype=np.uint32)
    shown = sc.read(IND)
    accepted(sc, IND, shown)
    assert sc.read(IND) == shown


@pytest.mark.parametrize(("text", "err"), [
    ("0:5 ", EINVAL), ("0:5\t", EINVAL), ("5", EINVAL), ("5 3", EINVAL), ("5 :3", EINVAL),
    ("5:", EINVAL), ("5: ", EINVAL), (":3", EINVAL), ("a:1", EINVAL), ("1:a", EINVAL),
    ("0:1,1:2", EINVAL), ("0:1;1:2", EINVAL), ("0x5:1", EINVAL), ("0:1 junk", EINVAL),
    ("128:0", ERANGE), ("1000:0", ERANGE), ("-1:0", ERANGE), ("0:8", ERANGE),
    ("0:-1", ERANGE), ("0:1 128:0", ERANGE), ("4294967296:0", ERANGE),
    ("0:4294967296", ERANGE), ("-4294967295:0", ERANGE), ("99999999999999999999999:0", ERANGE),
    ("0:1 2:3 4", EINVAL), ("0:1\n", EINVAL),
])
def test_indir_table_errors_reload_and_set_nothing(sc: Sysctl, host: FakeSysctlHost,
                                                   text: str, err: int) -> None:
    host.device_table = default_table(4)          # differs from the driver's table
    assert sc.write(IND, text) == err
    assert op_calls(host, "set_rss_indir_table") == []
    assert op_calls(host, "reload_rss_indir_table") == [()]
    assert table(host) == default_table(4).tolist()


def test_indir_table_error_changes_nothing_when_in_sync(sc: Sysctl,
                                                       host: FakeSysctlHost) -> None:
    before = host.snapshot()
    assert sc.write(IND, "0:5 1:6 200:1") == ERANGE
    assert host.snapshot() == before


def test_indir_table_partial_records_do_not_survive_a_failed_reload(
        sc: Sysctl, host: FakeSysctlHost) -> None:
    host.fail = failing(EIO, "reload_rss_indir_table")
    before = table(host)
    assert sc.write(IND, "0:5 1:6 1:x") == EINVAL
    assert table(host) == before


def test_indir_table_queue_bound_is_num_io_queues(sc: Sysctl, host: FakeSysctlHost) -> None:
    host.num_io_queues = 2
    refused_text = "0:2"
    assert sc.write(IND, refused_text) == ERANGE
    host.calls.clear()
    accepted(sc, IND, "0:1")


def test_indir_table_leading_blanks_are_sysctl8s(sc: Sysctl, host: FakeSysctlHost) -> None:
    accepted(sc, IND, "   ")                     # sysctl(8) strips them: an empty string
    assert len(op_calls(host, "set_rss_indir_table")) == 1
    assert op_calls(host, "reload_rss_indir_table") == []


def test_indir_table_length_limit(sc: Sysctl, host: FakeSysctlHost) -> None:
    # sysctl(8) refuses name=value of BUFSIZ (1024) bytes or more, which is tighter than
    # the handler's own 1024-byte buffer: the longest value that reaches it is 997 bytes.
    room = 1024 - len(IND) - 1 - 1
    assert room == 997
    assert sc.write(IND, "0:1" + " " * (room - 3)) == EINVAL     # parsed: trailing blanks
    assert op_calls(host, "reload_rss_indir_table") == [()]
    host.calls.clear()
    refused(sc, host, IND, "0:1" + " " * (room - 2), EINVAL)
    assert host.calls == []
    records = " ".join(f"{i}:{i % 8}" for i in range(128))
    accepted(sc, IND, records + " 0:3" * ((room - len(records)) // 4))
    assert table(host)[0] == 3


def test_trailing_blanks_in_the_name(sc: Sysctl, host: FakeSysctlHost) -> None:
    accepted(sc, RXQ + " \t", "512")
    assert sc.read(RXQ + " ") == "512"
    assert sc.writable(RXQ + " \t") and not sc.writable(" " + RXQ)


@pytest.mark.parametrize("setup", ["inactive", "no_table"])
def test_indir_table_not_supported(sc: Sysctl, host: FakeSysctlHost, setup: str) -> None:
    if setup == "inactive":
        host.rss_active = False
    else:
        host.table = None
    refused(sc, host, IND, "0:1", ENOTSUP)
    refused(sc, host, IND, "junk", ENOTSUP)
    assert host.calls == []
    with pytest.raises(SysctlError) as e:
        sc.read(IND)
    assert e.value.errno == ENOTSUP


def test_indir_table_set_failure(sc: Sysctl, host: FakeSysctlHost) -> None:
    before = table(host)
    host.fail = failing(EIO, "set_rss_indir_table")
    assert sc.write(IND, "0:3") == EIO
    assert table(host) == before


def test_indir_table_set_is_in_queue_numbers(sc: Sysctl, host: FakeSysctlHost) -> None:
    accepted(sc, IND, "9:7")
    (sent,) = op_calls(host, "set_rss_indir_table")
    assert sent[0][9] == 7                        # not the ENA qid 2 * 7 + 1


# -- reading and writing back


def test_writing_back_what_was_read(sc: Sysctl, host: FakeSysctlHost) -> None:
    """Every writable node takes back the value it prints and changes nothing, except
    ``irq_affinity.base_cpu`` at its default: it prints -1 (unspecified) but refuses it.
    (``stats_sample_interval`` is non-zero here: writing back 0 zeroes the ENI metrics.)"""
    host.stats_sample_interval = 60
    before = host.snapshot()
    results = {name: sc.write(name, sc.read(name)) for name in sc.names()}
    assert results.pop(BASE) == EINVAL
    for name in ("hw.ena.driver_version", "hw.ena.enable_9k_mbufs",
                 "hw.ena.force_large_llq_header", DEV + "rss.indir_table_size"):
        assert results.pop(name) == EPERM
    assert results == dict.fromkeys(results, 0)
    assert host.snapshot() == before
    assert [n for n, _ in host.calls if n.startswith("update")] == []   # all "same"
    assert op_calls(host, "set_rss_key") == [(host.key,)]
    (table_sent,) = op_calls(host, "set_rss_indir_table")
    assert table_sent[0].tolist() == table(host)


def test_log_level_filters_handler_messages(sc: Sysctl, host: FakeSysctlHost) -> None:
    accepted(sc, "hw.ena.log_level", "0")            # ENA_ERR only
    accepted(sc, STRIDE, "40")                       # WARN and INFO: dropped
    host.calls.clear()
    refused(sc, host, RXQ, "300", EINVAL)            # ERR: kept
    host.hash_function = ENA_ADMIN_CRC32
    refused(sc, host, KEY, HEX, EINVAL)              # device_printf: kept at any level
    assert [lvl for lvl, _ in sc.log] == ["ERR", "ERR"]
    accepted(sc, "hw.ena.log_level", "1")
    accepted(sc, STRIDE, "41")
    assert [lvl for lvl, _ in sc.log] == ["ERR", "ERR", "WARN"]
