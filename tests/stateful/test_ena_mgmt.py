"""The ENA adapter's management plane and the device, judged by the keep-alive model
after every step.

Rules: traffic, time passing (with the device's keep-alives and the one-second timer),
keep-alives switched off and on, a device-requested reset, hints, a datapath fault for
one step, a reset requested by the driver, and sysctl writes -- valid ones that take the
interface down and up (queue sizes and count, buf_ring size, the RSS key and table) and
malformed ones, which must change nothing (driver, device, allocated memory).
After every rule the adapter, read as the model's state
(:mod:`support.ena_mgmt_lockstep`), equals the model stepped through the same events
(every guard holding), so a reset happens exactly when the model's watchdog says, with
the reason the model records (first wins, except the missing-completion path), and a
restore never triggers another; every TX packet the driver took is completed, dropped,
queued, in flight or freed by a reset; and after a graceful detach every block of host
memory the adapter allocated is back.

The admin queue and the AENQ, read as the states of their models (:mod:`model.ena_admin`,
:mod:`model.ena_aenq`), equal those models stepped through the same events after every
rule too (:mod:`support.ena_queues_lockstep`).

The timer is a callout on the simulated clock, so it ticks on time while the driver waits
for the device: an admin command whose completion the device loses (a statistics read; its
wait times out, ``running_state`` goes false and the next tick resets with ADMIN_TO) or
writes late (the same, and the late entry is ignored) and
sysctl writes while a reset is requested (ena_down resets the device and ena_up's admin
commands time out, a second failure requests an OS_TRIGGER reset) and a device that stops
answering register reads (a tick that finds a reset requested waits for its version read
to time out, skips the reset as "FW unresponsive" and re-arms a second after that; a
reset that does run fails to restore) are exercised, each tick checked against the model
at its deadline and its version read when it ends.
"""

from __future__ import annotations

import errno
from dataclasses import replace

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule
from support.ena_adapter_rig import SECOND
from support.ena_mgmt_lockstep import (
    LockstepMachine,
    detach_gives_everything_back,
    lockstep_world,
)

from impl.device import Faults
from impl.device.admin_queue import LATE_MARGIN_NS
from impl.device.mgmt_faults import MgmtFaults
from impl.ena.adapter_sysctl import AdapterSysctlHost
from impl.ena.sysctl import Sysctl
from impl.ena_defs.regs import ResetReason

SYSCTL_WRITES = [("rx_queue_size", "512"), ("rx_queue_size", "1024"), ("io_queues_nb", "1"),
                 ("io_queues_nb", "2"), ("buf_ring_size", "256"), ("rss.indir_table", "0:1 3:0"),
                 ("rss.key", bytes(range(40)).hex()), ("rx_queue_size", "300"),
                 ("io_queues_nb", "0"), ("rss.indir_table", "7:9")]
DATAPATH = ["tx_req_id_oob", "tx_req_id_stale", "cdesc_mbz", "rx_req_id_invalid",
            "tx_comp_lost"]


class EnaManagement(LockstepMachine):
    @initialize(llq=st.booleans(), seed=st.integers(0, 3))
    def attach(self, llq: bool, seed: int) -> None:
        w = lockstep_world(llq, seed)
        self.bus, self.clock, self.dev, self.pool = w.bus, w.clock, w.dev, w.pool
        self.baseline, self.a = w.baseline, w.a
        self.mgmt = MgmtFaults()

    def _step(self, n: int = 1) -> None:
        for i in range(n):
            if self.a.driver is not None and self.a.flags.dev_up:
                self.a.driver.transmit(self.pool, curcpu=i)
            self.dev.step()
            self.a.handle_interrupts()
            self.a.advance(SECOND // 10)

    @rule(steps=st.integers(1, 20))
    def traffic(self, steps: int) -> None:
        self._step(steps)

    @rule(ms=st.integers(1, 9000))
    def time_passes(self, ms: int) -> None:
        self.a.advance(ms * 1_000_000)

    def _faults(self, **knobs: float) -> None:
        self.mgmt = replace(self.mgmt, **knobs)
        self.dev.set_mgmt_faults(self.mgmt)

    @rule(on=st.booleans())
    def keep_alives(self, on: bool) -> None:
        self._faults(keep_alive_missing=0.0 if on else 1.0)

    @rule(on=st.booleans())
    def register_reads(self, on: bool) -> None:
        """The device answers readless register reads, or lets every one time out."""
        self._faults(readless_timeout=0.0 if on else 1.0)

    @precondition(lambda self: self.a.flags.device_running)
    @rule()
    def an_admin_completion_is_lost(self) -> None:
        """A statistics read (``ena_com_get_dev_basic_stats``) whose completion the device
        never writes: the waiter times out, ETIMEDOUT, ``running_state`` false."""
        self._faults(admin_comp_lost=1.0)
        before = self.a.clock.now_ns
        rc, _ = self.a.get_basic_stats()
        self._faults(admin_comp_lost=0.0)
        assert rc in (errno.ETIMEDOUT, errno.ENODEV), rc
        event(f"stats read -> {errno.errorcode.get(rc)} after "
              f"{(self.a.clock.now_ns - before) // SECOND} s")

    @precondition(lambda self: self.a.flags.device_running)
    @rule()
    def an_admin_completion_is_late(self) -> None:
        """A statistics read whose completion the device writes 50 ms past the command
        timeout: the waiter times out (ETIMEDOUT, ``running_state`` false); the entry that
        then comes finds its context released and is ignored -- unless a reset came first
        and the device forgot it (the admin lockstep follows either)."""
        self._faults(admin_comp_late=1.0)
        late = self.dev.mgmt_stats.admin_comp_late
        rc, _ = self.a.get_basic_stats()
        self._faults(admin_comp_late=0.0)
        assert rc in (errno.ETIMEDOUT, errno.ENODEV), rc
        if self.dev.mgmt_stats.admin_comp_late > late:
            assert rc == errno.ETIMEDOUT, "the waiter gave up before the completion came"
        before = len(self.a.queues.steps)
        self.a.advance(2 * LATE_MARGIN_NS)  # the late entry comes (if no reset came first)
        taken = self.a.queues.steps[before:].count("acq_process")
        event(f"late completion -> {errno.errorcode.get(rc)}, ACQ entries taken after: "
              f"{min(taken, 2)}")

    @rule()
    def device_requests_reset(self) -> None:
        self.dev.aenq.request_reset()

    @rule(hint=st.sampled_from([0, 0xFFFF, 1500, 4000, 12000]))
    def hints(self, hint: int) -> None:
        self.dev.aenq.notify_hints({"driver_watchdog_timeout": hint})

    @rule(knob=st.sampled_from(DATAPATH))
    def datapath_fault(self, knob: str) -> None:
        self.dev.faults = Faults(**{knob: 1.0})
        self._step(1)
        self.dev.faults = Faults()

    @precondition(lambda self: self.a.flags.device_running)
    @rule(reason=st.sampled_from([ResetReason.INV_RX_REQ_ID, ResetReason.OS_TRIGGER]))
    def driver_requests_reset(self, reason: ResetReason) -> None:
        self.a.trigger(reason)

    # also while a reset is requested: ena_down then resets the device, the admin queue is
    # gone and ena_up's commands time out, with the timer ticking meanwhile
    @precondition(lambda self: self.a.flags.device_running)
    @rule(write=st.sampled_from(SYSCTL_WRITES) | st.tuples(
        st.sampled_from([n for n, _ in SYSCTL_WRITES]), st.text(max_size=12)))
    def sysctl_write(self, write: tuple[str, str]) -> None:
        name, value = write
        host = AdapterSysctlHost(self.a, self.dev)
        before, downs = host.snapshot(), self.a.stats.interface_down
        com = self.a.com
        answering = com is not None and com.aq is not None and com.aq.running_state
        rc = Sysctl(host).write("dev.ena.0." + name, value)
        event(f"sysctl {name} -> {errno.errorcode.get(rc, 'ok')}")
        if rc and self.a.stats.interface_down == downs and answering:
            # refused before the interface went down: nothing may have changed (a failed
            # down/up leaves the interface down for a reset to restore, and with the admin
            # queue stopped a refused SET leaves the driver's RSS table as the write made
            # it, both as in the C)
            assert host.snapshot() == before, (name, value, rc)
        self._step(1)

    def teardown(self) -> None:
        if not hasattr(self, "a"):
            return
        for reason, n in self.a.stats.resets.items():
            event(f"reset {ResetReason(reason).name} x{min(n, 3)}")
        detach_gives_everything_back(self.a, self.bus, self.baseline)


EnaManagement.TestCase.settings = settings(max_examples=30, stateful_step_count=15)
TestEnaManagement = EnaManagement.TestCase
