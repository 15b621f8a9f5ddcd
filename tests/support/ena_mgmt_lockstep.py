"""Lockstep of the adapter's watchdog and reset flow with the model's keep-alive machine
(:mod:`model.ena_keepalive`).

:class:`LockstepAdapter` is the adapter with each management event also applied, as the
model's transition, to a model state: a keep-alive processed (``aenq_keep_alive`` at the
time it happened), a hint (``update_hints``), every ``ena_trigger_reset`` outside the timer
(``trigger_reset``: a bad completion, the device's request by AENQ, a sysctl),
a timer tick (``timer_service`` at the deadline, with what the adapter saw: an unprocessed
keep-alive in the AENQ, the admin queue stopped, a TX queue over the threshold -- then
``missing_tx_commit_as_shipped`` -- and, with a reset requested, ``version_read`` when the
tick's version read is done, whether the device answered), and the reset task
(``reset_task`` with the restore's outcome). Between events time passes with the clock;
the model's clock is the adapter's (``sbintime_t`` of the simulated nanoseconds). Every
transition's guard must hold, and :func:`abstract` of the adapter must equal the model
state at any time.

The admin queue and the AENQ are also in lockstep with their models
(:mod:`support.ena_queues_lockstep`): :attr:`LockstepAdapter.queues`, checked by
:class:`LockstepMachine` after every rule too.  And every ena_destroy_device and
ena_restore_device leaves the buffers where the buffer model's transitions put them
(:mod:`model.ena_reset_buffers`, :mod:`support.ena_buffers_lockstep`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis.stateful import RuleBasedStateMachine, invariant

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock, Wire
from impl.ena.adapter import AdapterConfig, EnaAdapter
from impl.ena.watchdog import ns_to_sbt
from impl.packets import PacketBatch
from model import ena_keepalive as K  # noqa: N812 -- the model's machine, as in the docs
from support import ena_buffers_lockstep as buffers
from support.ena_queues_lockstep import QueuesLockstep

T = K.KEEPALIVE.transitions


class GuardFailedError(AssertionError):
    """The adapter did something the model does not allow in that state."""


def sbt(ns: int) -> int:
    return int(ns_to_sbt(ns))


def abstract(a: EnaAdapter, restarted: int) -> K.KeepAlive:
    """The adapter read as the model's state (``in_check`` and ``probing`` are 0 between
    events: the lockstep applies a tick's steps together once the callout returns)."""
    due = a.timer_due_ns
    return K.KeepAlive(
        now=sbt(a.clock.now_ns), timestamp=sbt(a.events.keep_alive_timestamp_ns),
        timeout=a.keep_alive_timeout, wd_active=int(a.wd_active),
        running=int(a.flags.device_running), armed=int(due is not None),
        deadline=sbt(due) if due is not None else 0, in_check=0, probing=0,
        trigger=int(a.reset.triggered), reason=int(a.reset.reason),
        queued=int(a.reset_queued), restarted=restarted)


class LockstepAdapter(EnaAdapter):
    """An adapter whose management events also step the model."""

    queues: QueuesLockstep
    """The admin-queue and AENQ lockstep (installed before the attach)."""

    def start_model(self) -> None:
        """After attach: the model's ``keepalive_init`` at the adapter's time."""
        now = sbt(self.clock.now_ns)
        stamp = sbt(self.events.keep_alive_timestamp_ns)  # taken in attach, after device init
        assert self.timer_due_ns is not None
        self.model = K.keepalive_init().replace(
            now=now, timestamp=stamp, restarted=stamp, wd_active=int(self.wd_active),
            deadline=sbt(self.timer_due_ns))
        self.steps: list[str] = []
        self._in_timer = False
        trigger = self.reset.trigger

        def observed(reason: int) -> None:
            """Every ena_trigger_reset outside the timer (whose own are part of its
            transition): a bad completion, an AENQ request, a sysctl's double failure."""
            trigger(reason)
            if hasattr(self, "model") and not self._in_timer and self.flags.device_running:
                self._event("trigger_reset", reason=int(reason))
        self.reset.trigger = observed  # type: ignore[method-assign]
        self._deferred: list[tuple[int, str, dict[str, int]]] = []
        self.queues.timestamped()

    def stop_model(self) -> None:
        """The lockstep ends (a detach follows, which the model does not cover)."""
        del self.model
        self.queues.stop()

    # -- the model side
    def sync_clock(self) -> K.KeepAlive:
        """The model with time passed up to the adapter's clock (``clock_advance``: never
        past an armed deadline)."""
        self._to_now()
        return self.model

    def _to_now(self) -> None:
        self._to(sbt(self.clock.now_ns))

    def _to(self, now: int) -> None:
        m = self.model
        if m.armed and now >= m.deadline:
            raise GuardFailedError(f"time {now} passed the armed deadline {m.deadline} "
                                   f"(after {self.steps[-4:]})")
        self.model = m.replace(now=max(m.now, now))

    def _event(self, name: str, **args: int) -> None:
        """An event of the management plane at the adapter's time; one that happens while
        the timer service runs (an AENQ interrupt while the timer waits for a register
        read) comes after the tick's checks, so the model takes it after the tick."""
        if self._in_timer:
            self._deferred.append((self.clock.now_ns, name, args))
            return
        self._to_now()
        self._apply(name, **args)

    def _apply(self, name: str, **args: Any) -> None:
        step = T[name].fn(self.model, **args)
        if step.guard is not True:
            raise GuardFailedError(f"{name}{args} not enabled in {self.model}")
        self.model = step.post
        self.steps.append(name)

    # -- the adapter's events
    def _enable_msix_and_admin_interrupts(self) -> None:
        super()._enable_msix_and_admin_interrupts()
        assert self.com is not None and self.com.aenq is not None
        handlers = self.com.aenq.handlers
        keep_alive, notify = handlers[4], handlers[3]

        def on_keep_alive(e: np.ndarray) -> None:
            keep_alive(e)
            if hasattr(self, "model") and self.flags.device_running:
                self._event("aenq_keep_alive")

        def on_notify(e: np.ndarray) -> None:
            before = self.keep_alive_timeout
            notify(e)
            if hasattr(self, "model") and self.flags.device_running:
                hint = 0 if self.keep_alive_timeout == before else (
                    0xFFFF if self.keep_alive_timeout == 0xFFFF
                    else self.keep_alive_timeout // K.SBT_1MS)
                self._event("update_hints", hint=hint)

        handlers[4], handlers[3] = on_keep_alive, on_notify
        isr, aenq = self.com.aq.extra_isr, self.com.aenq
        assert isr is not None
        self.com.aq.extra_isr = lambda: self.queues.interrupt(aenq, isr)

    def trigger(self, reason: int) -> None:
        """``ena_trigger_reset`` from a test."""
        self.reset.trigger(reason)

    def timer_service(self) -> None:
        if not hasattr(self, "model"):
            super().timer_service()
            return
        m = self.model
        now = sbt(self.clock.now_ns)
        if not m.armed or now != m.deadline:
            raise GuardFailedError(f"timer ran at {now}, model deadline {m.deadline}")
        com = self.com
        in_aenq = int(com is not None and com.aenq is not None and com.aenq.has_keep_alive())
        admin_down = int(com is not None and com.aq is not None and not com.aq.running_state)
        direct_before = self.stats.missing_tx_direct
        skips_before = self.stats.unresponsive_skips
        self._in_timer = True
        try:
            super().timer_service()
        finally:
            self._in_timer = False
        direct = self.stats.missing_tx_direct > direct_before
        self._apply("timer_service", in_aenq=in_aenq, admin_down=admin_down,
                    tx_missing=int(direct))
        if direct:
            self._apply("missing_tx_commit_as_shipped",
                        in_cq=int(self.reset.reason == K.MISS_INTERRUPT))
        deferred, self._deferred = self._deferred, []
        for at, name, args in deferred:  # each at the time it happened, during the read
            self._to(sbt(at))
            self._apply(name, **args)
        if self.model.probing:
            self._to_now()  # the version read took this long
            self._apply("version_read",
                        unresponsive=int(self.stats.unresponsive_skips > skips_before))

    def destroy_device(self, graceful: bool) -> None:
        """``ena_destroy_device``: not graceful, it first stops the admin queue
        (``ena_com_set_admin_running_state(false)``, the admin model's ``admin_stop``).
        On a running adapter the buffers must then be where the buffer model's destroy
        puts them (:func:`support.ena_buffers_lockstep.check_destroy`)."""
        if not graceful and self.flags.device_running:
            self.queues.stopping()
        before = buffers.snapshot(self) if self.flags.device_running else None
        super().destroy_device(graceful)
        if before is not None:
            buffers.check_destroy(self, before)

    def restore_device(self) -> int:
        """``ena_restore_device``, the buffers then where the buffer model's restore puts
        them (:func:`support.ena_buffers_lockstep.check_restore`)."""
        before = buffers.snapshot(self)
        rc = super().restore_device()
        buffers.check_restore(self, before, rc)
        return rc

    def reset_task(self) -> None:
        super().reset_task()
        self.queues.timestamped()
        if not hasattr(self, "model"):
            return
        self._to_now()  # the destroy and restore took simulated time (timer disarmed)
        self._apply("reset_task", ok=int(self.flags.device_running))


@dataclass
class LockstepWorld:
    """A device on a loopback wire and a :class:`LockstepAdapter` attached and up, with
    the model started and the device's events running; ``pool`` is 16 frames of 60..2999
    bytes in host memory and ``baseline`` the host-memory blocks before the attach."""

    bus: Bus
    clock: SimClock
    dev: EnaDevice
    pool: PacketBatch
    baseline: int
    a: LockstepAdapter


def lockstep_world(llq: bool, seed: int) -> LockstepWorld:
    bus = Bus(mem_size=1 << 25, nvec=3)
    clock = SimClock()
    dev = EnaDevice(bus, DeviceConfig(max_tx_burst_bytes=2048, seed=seed), clock=clock)
    Wire(SimClock()).loopback(dev)
    lengths = np.random.default_rng(seed).integers(60, 3000, 16)
    base = bus.mem.alloc(int(lengths.sum()), 64)
    pool = PacketBatch.from_arrays(bus.mem.data, base + np.cumsum(lengths) - lengths, lengths)
    baseline = len(bus.mem._blocks)
    a = LockstepAdapter(bus, clock, AdapterConfig(ncpus=2, want_llq=llq))
    a.queues = QueuesLockstep(a, dev)
    a.queues.install()
    assert a.attach() == 0 and a.up() == 0
    a.start_model()
    dev.events.start()
    return LockstepWorld(bus, clock, dev, pool, baseline, a)


def detach_gives_everything_back(a: LockstepAdapter, bus: Bus, baseline: int) -> None:
    """The end of a run: the model stopped, a graceful detach, and every block of host
    memory allocated since ``baseline`` back."""
    a.stop_model()
    a.destroy_device(graceful=True)
    assert len(bus.mem._blocks) == baseline, "the adapter gave back everything"


class LockstepMachine(RuleBasedStateMachine):
    """A stateful machine over a :class:`LockstepAdapter` (``self.a``, set by its
    ``initialize`` rule): after every rule the adapter read as the model's state equals
    the model, and every TX packet is in one column of the ledger."""

    a: LockstepAdapter

    @invariant()
    def the_adapter_is_the_model(self) -> None:
        if not hasattr(self, "a"):
            return
        model = self.a.sync_clock()
        if not model.armed:  # a stopped timer's deadline means nothing (the model keeps it)
            model = model.replace(deadline=0)
        assert abstract(self.a, model.restarted) == model

    @invariant()
    def the_queues_are_their_models(self) -> None:
        """The admin queue and the AENQ, read as the models' states, equal the models."""
        if hasattr(self, "a"):
            self.a.queues.check()

    @invariant()
    def every_packet_is_accounted_for(self) -> None:
        if not hasattr(self, "a"):
            return
        led = self.a.packets()
        assert led.accepted == led.completed + led.dropped + led.freed_at_down
