"""Behaviour of the ENA driver's management plane (impl/ena: sysctl_parse, sysctl, watchdog,
reset, com_reset, aenq) that mutation testing (mutmut 3.8.1) showed the other management
tests leave unchecked.

sysctl: which nodes are writable; ``strtol`` as the C library's (no conversion is 0 with
the end at the start, ``0x`` only before a hex digit, ``:`` and ``X`` are no digits or
signs); a string value with a NUL never reaching its handler; only C whitespace dropped
from the end of a name; a hash-function GET failing without an errno is ``EIO``; an
81-character key refused before the handler parses it; every handler message naming its
node (and ``io_queues_nb`` the vector limit); the ``rss.indir_table`` string of entries that
do not fit a C ``int``.  Watchdog: the TX and RX CQ slot of the head after a wrap, the
strict timeouts (exactly the timeout is not late), ``missing_tx_comp`` and
``empty_rx_ring`` adding up, an RX MISS_INTERRUPT is a trigger (not a direct assignment),
``ns_to_sbt`` truncating to integer sbintime.  Reset: the first reason wins, the direct
assignment overwrites, every call counts.  com_reset: both version registers must read,
the reset-state poll's backoff from exp 0 and its strict deadline.  AENQ: the unprocessed
entries over the ring's wrap and with a full ring, a non-hints notification, the ring
freed once.
"""

from __future__ import annotations

from errno import EINVAL, EIO, ENOENT, ETIMEDOUT
from types import SimpleNamespace

import numpy as np
import pytest
from support.ena_harness import complete, rx_write, world
from support.ena_mgmt_rig import admin_rig
from support.sysctl_fake import FakeSysctlHost

from impl.device import SimClock
from impl.device.aenq import AenqGroup
from impl.device.features import FeatureId
from impl.ena import admin_cmds as ac
from impl.ena import com_reset
from impl.ena.aenq import Aenq, AenqEvents, install_handlers
from impl.ena.poll import US
from impl.ena.reset import ResetState
from impl.ena.sysctl import Sysctl, SysctlError
from impl.ena.sysctl_parse import c_strtol, format_indir
from impl.ena.watchdog import (
    QueueWatch,
    empty_rx_rings,
    ns_to_sbt,
    scan_missing_completions,
)
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs import regs
from impl.ena_defs.regs import MIN_CTRL_VER, MMIO_READ_TIMEOUT, DevSts, ResetReason
from impl.packets import PacketBatch

DEV = "dev.ena.0."
SECOND = 1_000_000_000


# ---------------------------------------------------------------------------- sysctl


def test_every_run_time_knob_is_writable_and_nothing_else_is() -> None:
    sc = Sysctl(FakeSysctlHost())
    read_only = {"hw.ena.driver_version", "hw.ena.enable_9k_mbufs",
                 "hw.ena.force_large_llq_header", DEV + "rss.indir_table_size"}
    for name in sc.names():
        assert sc.writable(name) is (name not in read_only), name
    assert len(sc.names()) - len(read_only) == 14
    for name in ("hw.ena.nope", DEV + "rss", "", "dev.ena.1.rx_queue_size"):
        assert sc.writable(name) is False


def test_format_indir_prints_each_uint32_entry_with_percent_d_cut_to_8_chars() -> None:
    # ena_rss_copy_indir_buf: snprintf(" %d:%d", i, table[i]) bounded to 8 bytes a record;
    # 2^31 and above print negative ("%d" of a uint32_t) and are cut.
    table = np.zeros(128, dtype=np.uint32)
    table[:4] = [0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE]
    text = format_indir(table)
    assert text.startswith("0:214748 1:-2147 2:-1 3:-2 4:0 ")
    assert text.endswith(" 127:0")


@pytest.mark.parametrize(("text", "pos", "base", "want"), [
    (b"0x1f", 0, 0, (31, 4)), (b"0X1F", 0, 16, (31, 4)), (b"  -017", 0, 0, (-15, 6)),
    (b"0xg", 0, 0, (0, 1)),        # no hex digit after 0x: only the "0" is consumed
    (b"a:", 0, 16, (10, 1)),       # ':' follows '9' in ASCII but is no digit
    (b"X17", 0, 10, (0, 0)), (b"+", 0, 10, (0, 0)), (b"zz", 0, 10, (0, 0)),
    (b"1: 2", 2, 10, (2, 4)), (b"1:", 2, 10, (0, 2)),
])
def test_c_strtol_is_the_c_library_s(text: bytes, pos: int, base: int,
                                     want: tuple[int, int]) -> None:
    # strtol(buf + pos, &end, base): no conversion leaves end at the start and returns 0.
    assert c_strtol(text, pos, base) == want


def test_letters_and_colons_are_not_digits_of_a_sysctl_value() -> None:
    host = FakeSysctlHost()
    sc = Sysctl(host)
    before = host.snapshot()
    assert sc.write(DEV + "missing_tx_threshold", "X17") == EINVAL
    assert sc.write(DEV + "rss.key", "0:" + "00" * 39) == EINVAL
    assert sc.write(DEV + "rss.indir_table", "X0:1") == EINVAL
    assert host.snapshot() == before


@pytest.mark.parametrize("node", ["rss.key", "rss.indir_table"])
def test_a_string_value_with_a_nul_never_reaches_the_handler(node: str) -> None:
    # No shell can pass an argument holding a NUL: sysctl(8) refuses it (EINVAL) before
    # any system call, so the handler neither queries the device, logs, nor re-reads.
    host = FakeSysctlHost()
    sc = Sysctl(host)
    value = ("00" * 39 + "0\0") if node == "rss.key" else "0:1\0"
    assert sc.write(DEV + node, value) == EINVAL
    assert host.calls == [] and sc.log == []


@pytest.mark.parametrize("tail", ["\xa0", "\x1c", "\u2028", "X", "XX"])
def test_only_c_whitespace_is_dropped_from_the_end_of_a_name(tail: str) -> None:
    # sysctl(8) drops trailing isspace() characters in the C locale, nothing else: a name
    # ending in a no-break space, a separator control or a letter is no node (ENOENT).
    host = FakeSysctlHost()
    sc = Sysctl(host, unit=3)
    assert sc.unit == 3
    name = "dev.ena.3.rx_queue_size"
    assert sc.write(name + " \t\v\f\r\n", "512") == 0
    assert sc.write(name + tail, "256") == ENOENT
    assert host.requested_rx_ring_size == 512
    with pytest.raises(SysctlError) as e:
        sc.read(name + tail)
    assert e.value.errno == ENOENT


class _GetFailsWithoutErrno(FakeSysctlHost):
    def rss_hash_function(self) -> int:
        raise OSError("GET RSS_HASH_FUNCTION failed")


def test_a_failed_hash_function_get_without_an_errno_is_eio() -> None:
    # ena_com_get_hash_function failing must refuse rss.key whatever the failure carries.
    host = _GetFailsWithoutErrno()
    sc = Sysctl(host)
    before = host.snapshot()
    assert sc.write(DEV + "rss.key", "00" * 40) == EIO
    with pytest.raises(SysctlError) as e:
        sc.read(DEV + "rss.key")
    assert e.value.errno == EIO
    assert host.snapshot() == before and host.calls == []


# every branch of every handler that logs, as (node, value, host changes before the write)
HANDLER_WRITES = [
    ("io_queues_nb", "0", {}), ("io_queues_nb", "9", {}), ("io_queues_nb", "8", {}),
    ("io_queues_nb", "4", {}),
    ("rx_queue_size", "128", {}), ("rx_queue_size", "768", {}),
    ("rx_queue_size", "1024", {}), ("rx_queue_size", "512", {}),
    ("buf_ring_size", "3", {}), ("buf_ring_size", "4096", {}), ("buf_ring_size", "256", {}),
    ("stats_sample_interval", "3601", {}), ("stats_sample_interval", "0", {}),
    ("stats_sample_interval", "5", {}),
    ("irq_affinity.base_cpu", "-1", {}), ("irq_affinity.base_cpu", "17", {}),
    ("irq_affinity.base_cpu", "2", {"irq_cpu_base": 2}), ("irq_affinity.base_cpu", "3", {}),
    ("irq_affinity.cpu_stride", "-1", {}), ("irq_affinity.cpu_stride", "17", {}),
    ("irq_affinity.cpu_stride", "2", {"irq_cpu_stride": 2}),
    ("irq_affinity.cpu_stride", "1", {}),
    ("rss.key", "zz" * 40, {}), ("rss.key", "00" * 40, {"fail": {"set_rss_key": 5}}),
    ("rss.key", "00" * 40, {"hash_function": 2}),
    ("rss.key", "00" * 40, {"hash_function_errno": 5}),
    ("rss.indir_table", "0:99", {}),
]


def test_every_handler_message_names_its_node() -> None:
    # The log is how an operator learns why a write was refused or what it changed: each
    # message, at every level, starts with the node it is about.
    for node, value, changes in HANDLER_WRITES:
        host = FakeSysctlHost()
        for k, v in changes.items():
            setattr(host, k, v)
        sc = Sysctl(host)
        sc.write("hw.ena.log_level", "2")
        sc.write(DEV + node, value)
        assert sc.log, (node, value)
        for _level, message in sc.log:
            assert isinstance(message, str) and message.startswith(node + ": "), message


def test_io_queues_nb_refusal_names_the_vector_limit() -> None:
    # 9 MSI-X vectors: one is the admin queue's, so at most 8 IO queues.
    sc = Sysctl(FakeSysctlHost(msix_vecs=9))
    assert sc.write(DEV + "io_queues_nb", "9") == EINVAL
    assert sc.log == [("ERR", "io_queues_nb: 9 exceeds 8")]


def test_an_81_character_key_is_refused_before_the_handler_parses_it() -> None:
    # sysctl_handle_string refuses a string that does not fit ENA_HASH_KEY_MSG_SIZE (81
    # bytes with the NUL): EINVAL, and the handler never gets to its "not 80 hex digits"
    # message or the SET.
    host = FakeSysctlHost()
    sc = Sysctl(host)
    before = host.snapshot()
    for text in ("0" * 81, "0" * 82):
        assert sc.write(DEV + "rss.key", text) == EINVAL
    assert sc.log == [] and host.snapshot() == before
    assert [c for c, _ in host.calls] == ["rss_hash_function"] * 2
    assert sc.write(DEV + "rss.key", "0" * 79) == EINVAL
    assert sc.log == [("ERR", "rss.key: not 80 hex digits")]


# ---------------------------------------------------------------------------- watchdog


def _send(w, n: int) -> None:  # type: ignore[no-untyped-def]
    ln = np.full(n, 100)
    base = w.bus.mem.alloc(int(ln.sum()), 64)
    w.drv.transmit(PacketBatch.from_arrays(w.bus.mem.data, base + np.cumsum(ln) - ln, ln))


def test_missing_tx_verdict_reads_the_cq_slot_of_the_head_after_a_wrap() -> None:
    # check_cdesc_in_tx_cq looks at the CQ entry at head & (depth - 1): with 69 completions
    # taken on a 64-entry ring the head is slot 5 and the expected phase 0.  Ten packets
    # then stay in flight past the timeout (threshold 5): MISS_TX_CMPL if slot 5 holds no
    # new completion, MISS_INTERRUPT (the cleanup never ran) if the device wrote one there.
    for written, want in ((False, ResetReason.MISS_TX_CMPL),
                          (True, ResetReason.MISS_INTERRUPT)):
        w = world(tx_ring_size=64)
        tx = w.drv.tx
        for n in (40, 29):
            _send(w, n)
            complete(w, np.flatnonzero(tx.inflight[0]).tolist())
            w.drv.cleanup()
        assert int(tx.cq_head[0]) == 69 and int(tx.cq_phase[0]) == 0
        _send(w, 10)
        stuck = np.flatnonzero(tx.inflight[0])
        assert stuck.size == 10
        if written:
            complete(w, [int(stuck[0])])
        watch = QueueWatch.new(1)
        watch.first_interrupt[:] = True
        now = int(tx.sent_ns[0].max()) + 10 * SECOND
        r = scan_missing_completions(tx, w.drv.rx, watch, 0, 1, now, 5 << 32, 5,
                                     np.zeros(1, bool))
        assert (r.reason, r.direct, r.next_qid) == (want, True, None)
        assert int(watch.missing_tx_comp[0]) == 10


def test_a_tx_id_is_missing_only_strictly_past_the_timeout_and_counts_add_up() -> None:
    # check_missing_comp_in_tx_queue: time_offset > missing_tx_timeout counts an id as
    # missing (once: print_once) and > 2 x timeout on a queue without an interrupt is
    # MISS_INTERRUPT; exactly the timeout is neither.  missing_tx_comp adds up over scans.
    w = world(tx_ring_size=64)
    tx = w.drv.tx
    _send(w, 3)
    t = int(tx.sent_ns[0, tx.inflight[0]].max())
    timeout = 5 << 32

    def scan(now_ns: int, watch: QueueWatch) -> int:
        r = scan_missing_completions(tx, w.drv.rx, watch, 0, 1, now_ns, timeout, 10,
                                     np.zeros(1, bool))
        return int(r.reason)

    watch = QueueWatch.new(1)
    watch.first_interrupt[:] = True
    assert scan(t + 5 * SECOND, watch) == 0 and int(watch.missing_tx_comp[0]) == 0
    assert scan(t + 5 * SECOND + 1, watch) == 0 and int(watch.missing_tx_comp[0]) == 3
    _send(w, 2)  # sent at the same simulated time
    assert (tx.sent_ns[0, tx.inflight[0]] == t).all()
    assert scan(t + 6 * SECOND, watch) == 0 and int(watch.missing_tx_comp[0]) == 5
    no_irq = QueueWatch.new(1)
    assert scan(t + 10 * SECOND, no_irq) == 0
    assert scan(t + 10 * SECOND + 1, no_irq) == ResetReason.MISS_INTERRUPT

def test_ns_to_sbt_is_integer_sbintime_truncated_like_the_kernel_s() -> None:
    # sbintime_t is 32.32 fixed point in an int64: 1 ns is 4 units (4.29 truncated), and
    # the conversion neither rounds nor leaves integers, nor overflows within 2^31 s.
    got = ns_to_sbt(np.array([0, 1, 5 * SECOND + 1, 999_999_999, (1 << 31) * SECOND - 1]))
    assert got.dtype == np.int64
    assert got.tolist() == [0, 4, (5 << 32) + 4, (1 << 32) - 5, (1 << 63) - 5]
    # so with a raw timeout of 5 s + 4 units, 5 s + 1 ns is not yet late
    w = world(tx_ring_size=64)
    _send(w, 1)
    r = scan_missing_completions(w.drv.tx, w.drv.rx, QueueWatch.new(1), 0, 1,
                                 5 * SECOND + 1, (5 << 32) + 4, 0, np.zeros(1, bool))
    assert r.reason == 0


def test_rx_interrupt_check_reads_the_cq_slot_of_the_head_after_a_wrap() -> None:
    # check_for_rx_interrupt_queue: no interrupt yet and the RX CQ not empty at
    # head & (depth - 1), for the third time -> MISS_INTERRUPT.  69 packets taken on a
    # 64-entry ring put the head at slot 5 (expected phase 0); slot 4 holds the last lap's.
    for written, want in ((False, 0), (True, ResetReason.MISS_INTERRUPT)):
        w = world(rx_ring_size=64)
        for n in (40, 29):
            rx_write(w, 0, [[64]] * n)
            w.drv.cleanup()
        rx = w.drv.rx
        assert int(rx.cq_head[0]) == 69 and int(rx.cq_phase[0]) == 0
        if written:
            rx_write(w, 0, [[64]])
        watch = QueueWatch.new(1)
        watch.no_interrupt_event_cnt[:] = 2
        r = scan_missing_completions(w.drv.tx, rx, watch, 0, 1, 0, 5 << 32, 5,
                                     np.zeros(1, bool))
        assert r.reason == want
        # ena_trigger_reset (the first reason wins), not the direct assignment
        assert r.direct is False and r.next_qid == (None if written else 0)
        assert int(watch.no_interrupt_event_cnt[0]) == 2 + written


def test_every_refill_the_empty_rx_ring_check_starts_is_counted() -> None:
    # check_for_empty_rx_ring: nothing posted for two ticks runs the cleanup task and
    # counts empty_rx_ring (counter_u64_add); a ring that stays empty fires every second
    # tick and the counter keeps adding.
    rx = SimpleNamespace(cfg=SimpleNamespace(depth=8), free=lambda: np.array([7, 3]))
    watch = QueueWatch.new(2)
    fired = [empty_rx_rings(rx, watch).tolist() for _ in range(5)]  # type: ignore[arg-type]
    assert fired == [[], [0], [], [0], []]
    assert watch.empty_rx_ring.tolist() == [2, 0]


# ---------------------------------------------------------------------------- reset trigger


def test_the_first_reset_reason_wins_and_every_call_is_counted() -> None:
    # ena_trigger_reset: the reason is recorded only while ENA_FLAG_TRIGGER_RESET is clear;
    # every call counts.  check_missing_comp_in_tx_queue assigns reset_reason directly,
    # overwriting.  ena_destroy_device clears both; ena_netmap_reg (as shipped) only the flag.
    r = ResetState()
    assert (r.triggered, r.reason, r.triggers) == (False, ResetReason.NORMAL, 0)
    r.trigger(ResetReason.INV_TX_REQ_ID)
    r.trigger(ResetReason.MISS_INTERRUPT)
    assert (r.triggered, r.reason, r.triggers) == (True, ResetReason.INV_TX_REQ_ID, 2)
    r.assign(ResetReason.MISS_TX_CMPL)
    assert (r.triggered, r.reason, r.triggers) == (True, ResetReason.MISS_TX_CMPL, 3)
    r.clear_flag()
    assert r.triggered is False and r.reason == ResetReason.MISS_TX_CMPL
    r.trigger(ResetReason.KEEP_ALIVE_TO)
    assert (r.triggered, r.reason, r.triggers) == (True, ResetReason.KEEP_ALIVE_TO, 4)
    r.clear()
    assert (r.triggered, r.reason) == (False, ResetReason.NORMAL)
    r.assign(ResetReason.MISS_INTERRUPT)
    assert (r.triggered, r.reason, r.triggers) == (True, ResetReason.MISS_INTERRUPT, 5)
    both = np.array([0, ResetReason.INV_RX_REQ_ID, 0, ResetReason.TOO_MANY_RX_DESCS])
    r.trigger_first(both)
    assert (r.reason, r.triggers) == (ResetReason.MISS_INTERRUPT, 7)


def test_the_first_queue_s_reason_wins_a_vectorized_trigger() -> None:
    # A cleanup pass over several queues calls ena_trigger_reset queue by queue: the
    # lowest queue with a verdict sets the reason, each verdict counts, zeros are none.
    r = ResetState()
    r.trigger_first(np.zeros(4, dtype=np.int64))
    assert (r.triggered, r.reason, r.triggers) == (False, ResetReason.NORMAL, 0)
    r.trigger_first(np.array([0, ResetReason.INV_RX_REQ_ID, 0, ResetReason.TOO_MANY_RX_DESCS]))
    assert (r.triggered, r.reason, r.triggers) == (True, ResetReason.INV_RX_REQ_ID, 2)


# ---------------------------------------------------------------------------- com_reset


class _Regs:
    """The register BAR as ena_com reads it: DEV_STS from ``dev_sts(now)``, the rest from
    ``values``; ``reads`` records (time, offset) of every read."""

    def __init__(self, values: dict[int, int], dev_sts=None) -> None:  # type: ignore[no-untyped-def]
        self.clock = SimClock()
        self.values = values
        self.dev_sts = dev_sts
        self.reads: list[tuple[int, int]] = []

    def read32(self, offset: int) -> int:
        self.reads.append((self.clock.now_ns, offset))
        if offset == regs.DEV_STS_OFF and self.dev_sts is not None:
            return int(self.dev_sts(self.clock.now_ns))
        return self.values[offset]


@pytest.mark.parametrize(("version", "ctrl", "want"), [
    (MMIO_READ_TIMEOUT, MIN_CTRL_VER, ETIMEDOUT), (0x10, MMIO_READ_TIMEOUT, ETIMEDOUT),
    (0x10, 0, -1), (0x10, MIN_CTRL_VER, 0),
])
def test_both_version_registers_must_read(version: int, ctrl: int, want: int) -> None:
    # ena_com_validate_version: a readless timeout on VERSION or on CONTROLLER_VERSION is
    # ENA_COM_TIMER_EXPIRED; a controller older than 0.0.1 is -1.
    mmio = _Regs({regs.VERSION_OFF: version, regs.CONTROLLER_VERSION_OFF: ctrl})
    assert com_reset.validate_version(mmio) == want  # type: ignore[arg-type]


def test_reset_state_polls_back_off_from_the_minimum_delay() -> None:
    # wait_for_reset_state: ena_delay_exponential_backoff_us(exp++, min_poll_delay) with exp
    # starting at 0: sleeps of 100, 200, 400, 800 us between the reads of DEV_STS.
    done_at = 1_400 * US
    mmio = _Regs({}, lambda now: 0 if now >= done_at else DevSts.RESET_IN_PROGRESS.mask)
    assert com_reset.wait_for_reset_state(mmio, 1, 0, 100) == 0  # type: ignore[arg-type]
    assert [t // US for t, _ in mmio.reads] == [0, 100, 300, 700, 1500]


# ---------------------------------------------------------------------------- AENQ


def _aenq_held():  # type: ignore[no-untyped-def]
    """An AENQ whose consumer has taken ``consumed`` events, then stops consuming (the
    management interrupt no longer reaches it), so events wait in the ring."""
    rig = admin_rig()
    aenq = Aenq(rig.r.mmio)
    aenq.init()
    events = AenqEvents()
    install_handlers(aenq, events, ResetState(), lambda: rig.clock.now_ns)
    rig.aq.extra_isr = aenq.intr_handler
    rec = np.zeros(1, m.AENQ_FEAT_DTYPE)
    rec["enabled_groups"] = 0xFF
    assert ac.set_feature(rig.aq, rig.feat, FeatureId.AENQ_CONFIG, rec) == 0
    aenq.enable()  # the link announcement is taken: head 17, slot 1
    return rig, aenq, events


def _groups(entries: np.ndarray) -> list[int]:
    return entries["aenq_common_desc"]["group"].tolist()


def test_pending_aenq_events_run_over_the_ring_s_wrap_in_order() -> None:
    rig, aenq, events = _aenq_held()
    dev = rig.dev.aenq
    for i in range(12):  # taken: head at slot 13, phase 1
        assert dev.keep_alive(i, 0)
    assert aenq.head == 16 + 13 and aenq.phase == 1 and not aenq.has_keep_alive()
    rig.aq.extra_isr = None
    # slots 13, 14, 15 (phase 1), then 0 and 1 (phase 0, the next lap)
    for up in (False, True, False):
        assert dev.link_change(up)
    assert dev.keep_alive(100, 7)
    assert dev.link_change(True)
    p = aenq.pending()
    assert _groups(p) == [AenqGroup.LINK_CHANGE] * 3 + [AenqGroup.KEEP_ALIVE,
                                                          AenqGroup.LINK_CHANGE]
    assert (p["aenq_common_desc"]["flags"] & 1).tolist() == [1, 1, 1, 0, 0]
    assert aenq.has_keep_alive(), "the keep-alive after the wrap waits unprocessed"
    assert events.rx_drops == 11
    assert aenq.intr_handler() == 5
    assert events.rx_drops == 100 and events.link_up
    assert aenq.pending().size == 0 and not aenq.has_keep_alive()


def test_a_full_aenq_ring_is_all_pending() -> None:
    rig, aenq, _ = _aenq_held()
    rig.aq.extra_isr = None
    for i in range(15):
        assert rig.dev.aenq.link_change(bool(i & 1))
    assert not aenq.has_keep_alive()
    assert rig.dev.aenq.keep_alive(1, 2)  # the 16th: the ring is full
    p = aenq.pending()
    assert p.size == 16 and _groups(p)[-1] == AenqGroup.KEEP_ALIVE
    assert aenq.has_keep_alive()


def test_the_aenq_ring_is_freed_once_and_destroy_can_run_again() -> None:
    # ena_com_admin_destroy frees the AENQ ring and forgets it: the teardown after a
    # failed init and the one of the following detach must not free it twice.
    rig, aenq, _ = _aenq_held()
    mem = rig.bus.mem
    before = mem.allocated
    aenq.destroy()
    assert mem.allocated == before - aenq.depth * m.ENTRY_SIZE and aenq.addr == 0
    aenq.destroy()
    assert mem.allocated == before - aenq.depth * m.ENTRY_SIZE
    # an attach that fails before ena_com_admin_init_aenq tears down an AENQ never set up
    never = Aenq(rig.r.mmio)
    never.destroy()
    assert mem.allocated == before - aenq.depth * m.ENTRY_SIZE and never.addr == 0


@pytest.mark.parametrize(("done_us", "want"), [(105_000, 0), (110_000, ETIMEDOUT)])
def test_reset_state_wait_expires_only_strictly_after_its_deadline(done_us: int,
                                                                   want: int) -> None:
    # ENA_TIME_EXPIRE(deadline) is deadline < now: with 5 ms polls the read at exactly the
    # 100 ms deadline still sleeps once more, so a reset done by 105 ms is seen.
    mmio = _Regs({}, lambda now: 0 if now >= done_us * US else DevSts.RESET_IN_PROGRESS.mask)
    assert com_reset.wait_for_reset_state(mmio, 1, 0, 5000) == want  # type: ignore[arg-type]
    assert mmio.reads[-1][0] == 105_000 * US


def test_a_notification_that_is_not_hints_goes_to_the_unimplemented_handler() -> None:
    # ena_notification handles only ENA_ADMIN_UPDATE_HINTS; any other syndrome is logged
    # as an unimplemented event of group NOTIFICATION, and the hints stay as they were.
    rig, _aenq, events = _aenq_held()
    assert rig.dev.aenq.notify_hints({"driver_watchdog_timeout": 7})
    hints = dict(events.hints)
    e = np.zeros(1, m.AENQ_ENTRY_DTYPE)
    e["aenq_common_desc"]["group"] = AenqGroup.NOTIFICATION
    e["aenq_common_desc"]["syndrome"] = 5
    assert rig.dev.aenq.post(e)
    assert events.unimplemented == [AenqGroup.NOTIFICATION] and events.hints == hints
