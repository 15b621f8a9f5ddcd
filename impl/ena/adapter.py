"""The ENA adapter's management plane: attach, up/down, the one-second timer service and
the reset flow, around the datapath of :class:`~impl.ena.driver.EnaDriver`.

* attach (``ena_attach``): timer defaults (keep-alive 6 s, missing TX 5 s / 4 queues /
  threshold 128), ``ena_device_init``, queue count and sizes, MSI-X and admin interrupt
  mode, AENQ enabled, DEVICE_RUNNING, timer armed;
* ``up`` (``ena_up``): IO queues created through the admin queue with the size back-off
  (ENOMEM halves the larger ring, both if equal, never below 256), the initial RX fill,
  DEV_UP; ``down`` (``ena_down``): device reset first if a reset is triggered, queues
  destroyed, buffers freed;
* the timer service (``ena_timer_service``): keep-alive, admin state, missing
  completions, empty RX rings; with TRIGGER_RESET set it re-arms only if the device is
  unresponsive (``validate_version`` times out), else it queues the reset task and does
  **not** re-arm (the restore does);
* the reset task (``ena_reset_task``): count the reason, ``ena_destroy_device``
  (non-graceful), ``ena_restore_device`` (device init again, MAC and MTU checked, MSI-X,
  rings, ``ena_up`` if it was up, DEVICE_RUNNING, keep-alive timestamp refreshed so the
  watchdog does not fire at once, timer re-armed); a failed restore leaves the adapter
  dead with the timer off.

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L304
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3821
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2254
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2164
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2612
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3535
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3159
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3183
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3436
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3784
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3594
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3672

Time: the simulation is single-threaded, so the timer and the reset task do not run as
clock callbacks (they wait on the clock themselves); :meth:`EnaAdapter.advance` moves the
clock and runs each timer tick, and the reset task it queues, at its due time.
"""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from impl.bus import Bus
from impl.device.clock import SimClock
from impl.ena import com_reset
from impl.ena.admin_cmds import get_dev_basic_stats, set_feature
from impl.ena.admin_port import AdminQueuePort
from impl.ena.aenq import AenqEvents, install_handlers
from impl.ena.device_init import ComDev, device_init
from impl.ena.driver import DriverConfig, EnaDriver, Policy, QueueSetupError
from impl.ena.reset import ResetState
from impl.ena.rss_cmds import DriverRss, default_table, fill_hash_function, indirect_table_set
from impl.ena.rxq import RxResult
from impl.ena.sizing import QueueSizes, calc_io_queue_size, calc_max_io_queue_num
from impl.ena.watchdog import (
    SBT_1MS,
    SBT_1S,
    QueueWatch,
    empty_rx_rings,
    ns_to_sbt,
    scan_missing_completions,
)
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.constants import (
    ADMIN_MSIX_VEC,
    DEFAULT_BUF_RING_SIZE,
    DEFAULT_KEEP_ALIVE_TO_S,
    DEFAULT_TX_CMP_THRESHOLD,
    DEFAULT_TX_CMP_TO_S,
    DEFAULT_TX_MONITORED_QUEUES,
    HASH_KEY_SIZE,
    HW_HINTS_NO_TIMEOUT,
    MIN_RING_SIZE,
    PCI_DEVICE_IDS,
    PCI_VENDOR_ID,
    HashFunction,
)
from impl.ena_defs.regs import ResetReason

if TYPE_CHECKING:
    from impl.ena.adapter_netmap import AdapterNetmap

TIMER_PERIOD_NS = 1_000_000_000
MTU_FEATURE = 14


@dataclass(frozen=True)
class AdapterConfig:
    """What the host and the tunables give the driver at attach."""

    ncpus: int = 4
    """``mp_ncpus``."""
    want_llq: bool = True
    """Use LLQ if the device offers it (``hw.ena.force_large_llq_header`` aside)."""
    large_llq: bool = False
    """Ask for 256-byte LLQ entries (224-byte push header)."""
    mtu: int = 1500
    rx_buf_size: int = 2048
    policy: Policy = Policy.SHIPPED
    rss_seed: int = 0
    """Seeds the RSS key ``ena_rss_key_fill`` draws (``arc4random_buf`` in the C)."""


@dataclass
class Flags:
    """``adapter->flags`` (``ENA_FLAG_*``); TRIGGER_RESET lives in :class:`ResetState`."""

    device_running: bool = False
    dev_up: bool = False
    link_up: bool = False
    msix_enabled: bool = False
    ongoing_reset: bool = False
    dev_up_before_reset: bool = False


@dataclass
class AdapterStats:
    """``struct ena_stats_dev`` (the parts the management plane counts) and the
    per-reason reset counters of ``ena_increment_reset_counter``."""

    admin_q_pause: int = 0
    interface_up: int = 0
    interface_down: int = 0
    wd_expired: int = 0
    resets: Counter[int] = field(default_factory=Counter)
    failed_restores: int = 0
    unresponsive_skips: int = 0
    missing_tx_direct: int = 0
    """Resets requested by the missing-completion threshold, whose reason is assigned
    directly (overwriting any reason recorded since the timer's test)."""

    @property
    def total_resets(self) -> int:
        return sum(self.resets.values())


@dataclass
class PacketLedger:
    """Every TX packet handed to the adapter, over all the datapaths it had (each
    ``ena_up`` builds a new one): completed, dropped by a counted drop, or freed by
    ``ena_down`` while queued or in flight (``ena_free_all_tx_bufs``: lost to the
    sender)."""

    accepted: int = 0
    completed: int = 0
    dropped: int = 0
    freed_at_down: int = 0


class EnaAdapter:
    """One ENA adapter: management plane plus (while up) the datapath."""

    def __init__(self, bus: Bus, clock: SimClock, config: AdapterConfig | None = None) -> None:
        self.bus = bus
        self.clock = clock
        self.cfg = config or AdapterConfig()
        self.flags = Flags()
        self.reset = ResetState()
        self.stats = AdapterStats()
        self.ledger = PacketLedger()
        self.events = AenqEvents()
        self.com: ComDev | None = None
        self.driver: EnaDriver | None = None
        self.netmap: AdapterNetmap | None = None
        """Set by :class:`impl.ena.adapter_netmap.AdapterNetmap` (netmap attached)."""
        self.on_stack_rx: Callable[[RxResult], None] | None = None
        """Called with what each RX cleanup round handed to the stack."""
        # timer service state (ena_attach defaults, sbintime_t)
        self.keep_alive_timeout = DEFAULT_KEEP_ALIVE_TO_S * SBT_1S
        self.missing_tx_timeout = DEFAULT_TX_CMP_TO_S * SBT_1S
        self.missing_tx_max_queues = DEFAULT_TX_MONITORED_QUEUES
        self.missing_tx_threshold = DEFAULT_TX_CMP_THRESHOLD
        self.wd_active = False
        self.next_monitored_tx_qid = 0
        self.timer_due_ns: int | None = None
        self._timer_gen = 0
        self.reset_queued = False
        # sizes
        self.mac = b""
        self.max_mtu = 0
        self.sizes: QueueSizes | None = None
        self.requested_tx_ring_size = 0
        self.requested_rx_ring_size = 0
        self.tx_ring_size = 0
        self.rx_ring_size = 0
        self.buf_ring_size = DEFAULT_BUF_RING_SIZE
        self.max_num_io_queues = 0
        self.msix_vecs = 0
        self.num_io_queues = 0
        self.watch = QueueWatch.new(0)
        self.rss_active = True
        self.rss: DriverRss | None = None
        self.metrics_sample_interval = 0
        self.irq_cpu_base = -1
        self.irq_cpu_stride = 0

    def __repr__(self) -> str:
        f = self.flags
        return (f"EnaAdapter(running={f.device_running}, up={f.dev_up}, link={f.link_up}, "
                f"queues={self.num_io_queues}, tx={self.tx_ring_size}, rx={self.rx_ring_size}, "
                f"llq={self.com.llq if self.com else None}, "
                f"trigger={self.reset.triggered}/{self.reset.reason.name}, "
                f"resets={dict(self.stats.resets)})")

    @property
    def max_rx_ring_size(self) -> int:
        return self.sizes.max_rx_queue_size if self.sizes else 0

    # -- attach
    def probe(self) -> int:
        """``ena_probe``: 0 if the PCI vendor and device ids are Amazon's ENA PF or VF
        (with their reserved variants), else ENXIO."""
        pci = self.bus.pci
        ok = pci.vendor_id == PCI_VENDOR_ID and pci.device_id in PCI_DEVICE_IDS
        return 0 if ok else errno.ENXIO

    def attach(self) -> int:
        """``ena_probe`` then ``ena_attach``: 0, or ENXIO (not an ENA, or device init
        failed) / EFAULT (no queues) with nothing left allocated."""
        if self.probe():
            return errno.ENXIO
        rc, com = device_init(self.bus, self.clock, want_llq=self.cfg.want_llq,
                              large_llq=self.cfg.large_llq)
        if rc or com is None:
            return errno.ENXIO
        self.com = com
        self.wd_active = com.wd_active
        self.events.keep_alive_timestamp_ns = self.clock.now_ns
        attr = com.feats.dev_attr
        assert attr is not None
        self.mac = bytes(attr["mac_addr"][0])
        self.max_mtu = int(attr["max_mtu"][0])
        self.max_num_io_queues = calc_max_io_queue_num(com.com, com.feats, com.llq,
                                                       self.cfg.ncpus, self.bus.msix.nvec)
        sizes = calc_io_queue_size(com.com, com.feats, com.llq, self.cfg.large_llq)
        if sizes is None or self.max_num_io_queues <= 0:
            com.teardown()
            self.com = None
            return errno.EFAULT
        self.sizes = sizes
        self.requested_tx_ring_size = sizes.tx_queue_size
        self.requested_rx_ring_size = sizes.rx_queue_size
        self._enable_msix_and_admin_interrupts()
        self.num_io_queues = self.msix_vecs - ADMIN_MSIX_VEC
        self._init_io_rings()
        key = np.random.default_rng(self.cfg.rss_seed).bytes(HASH_KEY_SIZE)
        self.rss = DriverRss(int(HashFunction.TOEPLITZ), key, None)
        self.flags.device_running = True
        self._arm_timer()
        return 0

    def _enable_msix_and_admin_interrupts(self) -> None:
        """``ena_enable_msix_and_set_admin_interrupts``: one vector for management and one
        per queue pair; the admin queue leaves polling mode; the AENQ is enabled and its
        events reach the handlers only while DEVICE_RUNNING."""
        com = self.com
        assert com is not None and com.aq is not None and com.aenq is not None
        self.msix_vecs = min(self.max_num_io_queues + ADMIN_MSIX_VEC, self.bus.msix.nvec)
        self.flags.msix_enabled = True
        install_handlers(com.aenq, self.events, self.reset, lambda: self.clock.now_ns)
        notify = com.aenq.handlers[3]
        link = com.aenq.handlers[0]

        def on_notification(e: np.ndarray) -> None:
            notify(e)
            if self.events.hints:
                self._update_hints(self.events.hints)
                self.events.hints = {}

        def on_link(e: np.ndarray) -> None:
            link(e)
            self.flags.link_up = self.events.link_up

        com.aenq.handlers[3] = on_notification
        com.aenq.handlers[0] = on_link
        aenq = com.aenq
        com.aq.extra_isr = lambda: aenq.intr_handler() if self.flags.device_running else None
        com.aq.set_polling_mode(False)
        com.aenq.enable()
        self.bus.msix.unmask(np.array([0]))

    def reinit_io_rings(self) -> None:
        """``ena_init_io_rings`` for a new queue count (the watch state is per queue)."""
        self._init_io_rings()

    def _init_io_rings(self) -> None:
        """``ena_init_io_rings``: ring sizes back to the requested ones, fresh watch
        state."""
        self.tx_ring_size = self.requested_tx_ring_size
        self.rx_ring_size = self.requested_rx_ring_size
        self.watch = QueueWatch.new(self.num_io_queues)
        self.next_monitored_tx_qid = 0

    def _update_hints(self, hints: dict[str, int]) -> None:
        """``ena_update_hints``: 0 keeps the driver's value, 0xFFFF disables a
        watchdog."""
        com = self.com
        assert com is not None
        if hints.get("admin_completion_tx_timeout"):
            com.timeouts.completion_timeout_us = hints["admin_completion_tx_timeout"] * 1000
        if hints.get("mmio_read_timeout"):
            com.mmio.reg_read_to = hints["mmio_read_timeout"] * 1000
        if hints.get("missed_tx_completion_count_threshold_to_reset"):
            self.missing_tx_threshold = hints["missed_tx_completion_count_threshold_to_reset"]
        for hint, attr in (("missing_tx_completion_timeout", "missing_tx_timeout"),
                           ("driver_watchdog_timeout", "keep_alive_timeout")):
            v = hints.get(hint, 0)
            if v:
                setattr(self, attr, HW_HINTS_NO_TIMEOUT if v == HW_HINTS_NO_TIMEOUT
                        else SBT_1MS * v)

    # -- up / down
    def driver_config(self, tx_size: int, rx_size: int) -> DriverConfig:
        com, sizes = self.com, self.sizes
        assert com is not None and sizes is not None
        llq = com.feats.llq
        burst = int(llq["accel_mode"][0, 0]) >> 16 if llq is not None and com.llq else 0
        q = com.feats.max_queue_ext
        hdr = int(q["max_tx_header_size"][0]) if q is not None and \
            "max_tx_header_size" in (q.dtype.names or ()) else 0
        return DriverConfig(
            num_queues=self.num_io_queues, tx_ring_size=tx_size, rx_ring_size=rx_size,
            buf_ring_size=self.buf_ring_size, llq=com.llq, llq_entry_size=com.llq_entry_size,
            max_tx_burst_bytes=burst, max_tx_sgl_size=sizes.max_tx_sgl_size,
            max_rx_sgl_size=sizes.max_rx_sgl_size, rx_buf_size=self.cfg.rx_buf_size,
            cdesc_mbz=com.com.has_cap(4), dma_addr_bits=com.com.dma_addr_bits,
            device_max_header_size=hdr, policy=self.cfg.policy)

    def up(self) -> int:
        """``ena_up``: 0 (or already up), or the error of the last queue creation."""
        if self.flags.dev_up:
            return 0
        if self.com is None or self.com.aq is None:
            return errno.ENXIO
        tx, rx = self.requested_tx_ring_size, self.requested_rx_ring_size
        port = AdminQueuePort(self.com.aq, self.com.com)
        while True:
            try:
                drv = EnaDriver(self.bus, port, self.driver_config(tx, rx), self.reset)
                break
            except QueueSetupError as e:
                if e.errno != errno.ENOMEM:
                    return e.errno
                new_tx = tx // 2 if rx <= tx else tx
                new_rx = rx // 2 if rx >= tx else rx
                if new_tx < MIN_RING_SIZE or new_rx < MIN_RING_SIZE:
                    return e.errno
                tx, rx = new_tx, new_rx
        self.tx_ring_size, self.rx_ring_size = tx, rx
        drv.tx.now_ns = lambda: self.clock.now_ns
        rc = self._up_complete(drv)
        if rc == 0 and self.netmap is not None:
            rc = self.netmap.sizes_refused(drv)
        if rc:
            drv.destroy_queues()
            return rc
        if self.netmap is None or not self.netmap.up_fill(drv):
            drv.up()
        self.driver = drv
        self.flags.dev_up = True
        self.stats.interface_up += 1
        return 0

    def _up_complete(self, drv: EnaDriver) -> int:
        """``ena_up_complete`` before the RX fill: ``ena_rss_configure`` (the default
        table rebuilt if it was destroyed; the table, then the hash function with the
        driver's key -- the hash inputs stay the device's default) and the MTU."""
        com = self.com
        assert com is not None and com.aq is not None
        if self.rss_active and self.rss is not None:
            if self.rss.table is None:
                self.rss.table = default_table(self.num_io_queues)
            for rc in (indirect_table_set(com.aq, com.com, self.rss.table, drv.sq_idx[:, 1]),
                       fill_hash_function(com.aq, com.com, self.rss.function, self.rss.key)):
                if rc and rc != errno.EOPNOTSUPP:
                    return rc
        return self._change_mtu(self.cfg.mtu)

    def _change_mtu(self, mtu: int) -> int:
        """``ena_change_mtu``: SET MTU (``ena_com_set_dev_mtu``) to the L3 MTU."""
        com = self.com
        assert com is not None and com.aq is not None
        rec = np.zeros(1, m.MTU_DTYPE)
        rec["mtu"] = mtu
        return set_feature(com.aq, com.com, MTU_FEATURE, rec)

    def down(self) -> None:
        """``ena_down``: DEV_UP off, the device reset first if a reset is triggered, IO
        queues destroyed, buffers and rings freed."""
        if not self.flags.dev_up:
            return
        self.flags.dev_up = False
        com = self.com
        if self.reset.triggered and com is not None:
            com_reset.dev_reset(com.mmio, self.reset.reason, com.com.has_cap(3), com.timeouts)
        if self.driver is not None:
            if self.netmap is not None:
                self.netmap.down_free()
            self._close_ledger(self.driver)
            self.driver.destroy_queues()
            self.driver = None
        self.stats.interface_down += 1

    def _close_ledger(self, drv: EnaDriver) -> None:
        a, led = drv.accounting, self.ledger
        led.accepted += a.accepted
        led.completed += a.completed
        led.dropped += sum(a.dropped.values())
        led.freed_at_down += drv.in_flight() + drv.queued()

    def packets(self) -> PacketLedger:
        """The ledger including the running datapath (its queued and in-flight packets
        are neither lost nor done yet: they stay out of every column)."""
        led = replace(self.ledger)
        if self.driver is not None:
            a = self.driver.accounting
            led.accepted += a.accepted - self.driver.in_flight() - self.driver.queued()
            led.completed += a.completed
            led.dropped += sum(a.dropped.values())
        return led

    def get_basic_stats(self) -> tuple[int, dict[str, int]]:
        """``ena_com_get_dev_basic_stats``: an admin command in steady state. The FreeBSD
        driver has no caller of it (its hw stats are the datapath's counters and the
        keep-alive's drop counters); the simulator's tests and docs use it."""
        com = self.com
        if com is None or com.aq is None or not self.flags.device_running:
            return errno.ENODEV, {}
        return get_dev_basic_stats(com.aq)

    # -- interrupts
    def handle_interrupts(self) -> None:
        """The IO vectors that fired: ``ena_cleanup`` on their queue pairs (which also
        sets ``first_interrupt``)."""
        if self.driver is None:
            return
        vec = self.bus.msix.take()
        qs = vec[(vec >= 1) & (vec <= self.num_io_queues)] - 1
        if qs.size and not self.reset.triggered:
            self.watch.first_interrupt[qs] = True
        nm = self.netmap
        if nm is not None and nm.native and nm.port is not None:
            qs = np.unique(qs)
            mine = nm.on[qs]
            if not self.reset.triggered:
                woken = nm.port.wake(qs[mine])
                if nm.on_irq is not None and woken.size:
                    nm.on_irq(woken)
            if not mine.all():  # queues the stack still has: ENA's own cleanup
                self.to_stack(self.driver.cleanup(qs[~mine]).rx)
            return
        if nm is not None and nm.leaving:
            nm.drain(qs)
        else:
            self.to_stack(self.driver.cleanup(qs).rx)

    def to_stack(self, received: list[RxResult]) -> None:
        """``if_input``: what RX cleanup rounds handed to the stack (:attr:`on_stack_rx`)."""
        if self.on_stack_rx is not None:
            for r in received:
                self.on_stack_rx(r)

    # -- timer service
    def _arm_timer(self) -> None:
        """``ENA_TIMER_RESET``: the next tick one second from now, a callout on the
        simulated clock -- so it runs on time also while the driver waits for the device
        (an admin command, a register read), as the C's callout does."""
        self._timer_gen += 1
        gen = self._timer_gen
        due = self.timer_due_ns = self.clock.now_ns + TIMER_PERIOD_NS
        self.clock.call_at(due, lambda: self._timer_fires(gen))

    def _timer_fires(self, gen: int) -> None:
        """The callout: one tick, unless the timer was stopped or re-armed since."""
        if gen != self._timer_gen or self.timer_due_ns is None:
            return
        self.timer_due_ns = None
        self.timer_service()

    def advance(self, ns: int) -> None:
        """Let ``ns`` of simulated time pass: device events and timer ticks each at its
        time, and the reset task once a tick has queued it.  The task runs here, between
        the driver's other work, never inside a wait (in the C it takes the adapter lock,
        which a waiting sysctl handler or reset holds)."""
        end = self.clock.now_ns + int(ns)
        while True:
            if self.reset_queued:
                self.reset_queued = False
                self.reset_task()
            due = self.timer_due_ns
            if due is None or due > end:
                break
            if due > self.clock.now_ns:
                self.clock.advance_to(due)  # the callout fires
            else:  # armed in the past without its callout (a test setting the field)
                self.timer_due_ns = None
                self.timer_service()
        self.clock.advance_to(end)

    def timer_service(self) -> None:
        """``ena_timer_service``: one tick. (Its metrics task -- ENI, SRD and customer
        metrics every ``metrics_sample_interval`` ticks -- is not simulated: the simulated
        device has none of those capabilities, so the task would send nothing.)"""
        self.check_for_missing_keep_alive()
        self.check_for_admin_com_state()
        self.check_for_missing_completions()
        self.check_for_empty_rx_ring()
        if self.reset.triggered:
            com = self.com
            if com is not None and com_reset.validate_version(com.mmio) == errno.ETIMEDOUT:
                self.stats.unresponsive_skips += 1
                self._arm_timer()
                return
            self.reset_queued = True
            return
        self._arm_timer()

    def check_for_missing_keep_alive(self) -> None:
        if not self.wd_active or self.keep_alive_timeout == HW_HINTS_NO_TIMEOUT:
            return
        age = int(ns_to_sbt(self.clock.now_ns)) - int(
            ns_to_sbt(self.events.keep_alive_timestamp_ns))
        if age > self.keep_alive_timeout:
            self.stats.wd_expired += 1
            com = self.com
            lost_irq = com is not None and com.aenq is not None and com.aenq.has_keep_alive()
            self.reset.trigger(ResetReason.MISSING_ADMIN_INTERRUPT if lost_irq
                               else ResetReason.KEEP_ALIVE_TO)

    def check_for_admin_com_state(self) -> None:
        reason = self.admin_stopped_reason()
        if reason is None:
            return
        self.stats.admin_q_pause += 1
        self.reset.trigger(reason)

    def admin_stopped_reason(self) -> ResetReason | None:
        """The reset reason ``check_for_admin_com_state`` gives an admin queue that
        stopped (a command timed out): MISSING_ADMIN_INTERRUPT if its completion came
        without an interrupt, else ADMIN_TO; None while it runs."""
        com = self.com
        if com is None or com.aq is None or com.aq.running_state:
            return None
        return (ResetReason.MISSING_ADMIN_INTERRUPT if com.aq.is_missing_admin_interrupt
                else ResetReason.ADMIN_TO)

    def check_for_missing_completions(self) -> None:
        drv = self.driver
        if not self.flags.dev_up or self.reset.triggered or drv is None or \
                self.missing_tx_timeout == HW_HINTS_NO_TIMEOUT:
            return
        pending = self.bus.msix.waiting(np.arange(1, self.num_io_queues + 1))
        res = scan_missing_completions(
            drv.tx, drv.rx, self.watch, self.next_monitored_tx_qid,
            self.missing_tx_max_queues, self.clock.now_ns, self.missing_tx_timeout,
            self.missing_tx_threshold, pending)
        if res.next_qid is not None:
            self.next_monitored_tx_qid = res.next_qid
        if res.reason and res.direct:
            self.stats.missing_tx_direct += 1
            self.reset.assign(res.reason)
        elif res.reason:
            self.reset.trigger(res.reason)

    def check_for_empty_rx_ring(self) -> None:
        drv = self.driver
        if not self.flags.dev_up or self.reset.triggered or drv is None:
            return
        fire = empty_rx_rings(drv.rx, self.watch)
        if self.netmap is not None and self.netmap.native:
            fire = fire[~self.netmap.on[fire]]  # netmap's cleanup only wakes the user
        if fire.size:
            drv.rx.refill(fire, np.full(fire.size, self.rx_ring_size - 1))

    # -- reset flow
    def reset_task(self) -> None:
        """``ena_reset_task``."""
        if not self.reset.triggered:
            return
        self.stats.resets[int(self.reset.reason)] += 1
        self.destroy_device(graceful=False)
        self.restore_device()

    def destroy_device(self, graceful: bool) -> None:
        """``ena_destroy_device``."""
        if not self.flags.device_running:
            return
        com = self.com
        assert com is not None and com.aq is not None
        self.timer_due_ns = None
        dev_up = self.flags.dev_up
        if dev_up:
            self.flags.dev_up_before_reset = True
        if not graceful:
            com.aq.running_state = False
        if self.flags.dev_up:
            self.down()
        if not (self.reset.triggered and dev_up):
            com_reset.dev_reset(com.mmio, self.reset.reason, com.com.has_cap(3), com.timeouts)
        self.bus.msix.masked[:] = True
        self.bus.msix.handler = None  # ena_free_mgmnt_irq, ena_disable_msix
        self.flags.msix_enabled = False
        com.aq.abort()
        com.teardown()
        self.com = None
        self.reset.clear()  # shared with the datapath: cleared in place
        # ena.c:3649: so no AENQ event is handled until ena_restore_device sets it again
        self.flags.device_running = False

    def restore_device(self) -> int:
        """``ena_restore_device``: 0, or the error that left the adapter dead."""
        self.flags.ongoing_reset = True
        rc, com = device_init(self.bus, self.clock, want_llq=self.cfg.want_llq,
                              large_llq=self.cfg.large_llq)
        if rc or com is None:
            return self._restore_failed(rc or errno.ENXIO, None)
        self.com = com
        if self.wd_active:
            self.wd_active = com.wd_active
        attr = com.feats.dev_attr
        assert attr is not None
        if bytes(attr["mac_addr"][0]) != self.mac or int(attr["max_mtu"][0]) < self.cfg.mtu:
            return self._restore_failed(errno.EINVAL, com)
        self.flags.ongoing_reset = False
        self._enable_msix_and_admin_interrupts()
        self.num_io_queues = min(self.num_io_queues, self.msix_vecs - ADMIN_MSIX_VEC)
        self._init_io_rings()
        if self.flags.dev_up_before_reset:
            rc = self.up()
            if rc:
                self.flags.msix_enabled = False
                return self._restore_failed(rc, com)
        self.flags.device_running = True
        self.events.keep_alive_timestamp_ns = self.clock.now_ns
        self._arm_timer()
        self.flags.dev_up_before_reset = False
        return 0

    def _restore_failed(self, rc: int, com: ComDev | None) -> int:
        """The error path of ``ena_restore_device``: admin queue aborted and destroyed, the
        device reset with DRIVER_INVALID_STATE, DEVICE_RUNNING and ONGOING_RESET cleared,
        and the timer **not** re-armed."""
        if com is not None and com.aq is not None:
            com.aq.abort()
            com_reset.dev_reset(com.mmio, ResetReason.DRIVER_INVALID_STATE,
                                com.com.has_cap(3), com.timeouts)
            com.teardown()
        self.bus.msix.handler = None
        self.com = None
        self.flags.device_running = False
        self.flags.ongoing_reset = False
        self.stats.failed_restores += 1
        return rc

    # -- accounting
    def leaked_bytes(self, baseline: int) -> int:
        """Host memory still allocated beyond ``baseline`` (what a detached adapter
        held before attach)."""
        return self.bus.mem.allocated - baseline
