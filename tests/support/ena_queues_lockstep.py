"""Lockstep of the driver's admin queue and AENQ, and the device's halves of them, with the
models :mod:`model.ena_admin` and :mod:`model.ena_aenq`.

:func:`abstract_admin` and :func:`abstract_aenq` read the implementation as the models'
states. :class:`QueuesLockstep` applies each event of the two queues, as it happens, to a
model state -- the model's transition function is the oracle, its guard must hold:

* admin queue (``impl.ena.admin_queue.AdminQueue``, ``impl.device.admin_queue``):
  ``AdminQueue.init`` succeeding starts the model (``admin_init``) the first time and
  re-creates it (``admin_reinit``: no command may be outstanding) after; every
  ``submit`` is ``submit_as_shipped`` (any refusal stops the queue); every ACQ entry
  ``ena_com_handle_admin_completion`` takes is ``acq_process`` with the entry's command
  field; the device writing an ACQ entry is ``device_complete``; a waiter releasing its
  context is ``wait_returns`` (it ended with the command's status), ``wait_times_out``
  (ETIMEDOUT, the command still SUBMITTED) or ``wait_misses_interrupt`` (ETIMEDOUT with
  the command COMPLETED by the waiter's own ACQ pass); ``ena_destroy_device`` not graceful
  is ``admin_stop`` then, at ``ena_com_abort_admin_commands``, ``abort_all``;
* AENQ (``impl.ena.aenq.Aenq``, ``impl.device.aenq.DeviceAenq``): the first
  ``ena_com_admin_aenq_enable`` starts the model (``aenq_init``), each later one (the
  restore) is ``aenq_reinit``; the device posting an event is ``device_post``; each write
  of ENA_FLAG_DEVICE_RUNNING is ``set_running``; each management interrupt is
  ``intr_enter``, then ``aenq_process`` (group, time) for each event the handler took, then
  ``intr_leave``.

The driver's classes are swapped for watching subclasses in :mod:`impl.ena.device_init` (the
one place that creates them); a queue whose bus has no lockstep registered behaves as the
base class. A device reset makes the device forget both rings until the driver programs
them again, so the device's counters are compared only while it holds the ring the driver
made (the model keeps counting the entries of that ring).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

import impl.ena.device_init as device_init_module
from impl.bus import Bus
from impl.device import EnaDevice
from impl.device.aenq import DeviceAenq
from impl.ena.adapter import EnaAdapter, Flags
from impl.ena.admin_queue import AdminQueue, CmdStatus, CompCtx
from impl.ena.aenq import Aenq
from impl.ena.watchdog import ns_to_sbt
from model import ena_admin as A  # noqa: N812 -- the model's machines, as in the docs
from model import ena_aenq as Q  # noqa: N812

ADMIN_T = A.ADMIN.transitions
AENQ_T = Q.AENQ.transitions
U16 = 0xFFFF


class QueueGuardError(AssertionError):
    """The implementation did something the admin or AENQ model does not allow."""


def _mask(ctxs: list[CompCtx], pick: Any) -> int:
    return sum(1 << i for i, c in enumerate(ctxs) if pick(c))


def abstract_admin(aq: AdminQueue, dev_tail: int) -> A.EnaAdmin:
    """The driver's admin queue read as :class:`model.ena_admin.EnaAdmin`, with the device's
    count of ACQ entries written ``dev_tail`` (the ghosts are 0: not observable)."""
    ctx = aq.comp_ctx
    return A.EnaAdmin(
        sq_tail=aq.sq_tail & U16, sq_phase=aq.sq_phase, cq_head=aq.cq_head & U16,
        cq_phase=aq.cq_phase, dev_tail=dev_tail & U16, curr_cmd_id=aq.curr_cmd_id,
        outstanding=aq.outstanding_cmds & U16, running=int(aq.running_state),
        occupied=_mask(ctx, lambda c: c.occupied),
        completed=_mask(ctx, lambda c: c.status == CmdStatus.COMPLETED),
        aborted=_mask(ctx, lambda c: c.status == CmdStatus.ABORTED), cause=0, stray=0)


def stamp(ns: int) -> int:
    """A time as the AENQ model's u16 ``now``: the low 16 bits of its ``sbintime_t``."""
    return int(ns_to_sbt(ns)) & U16


def abstract_aenq(aenq: Aenq, db: int, dev_tail: int, running: bool,
                  timestamp_ns: int) -> Q.EnaAenq:
    """The driver's AENQ read as :class:`model.ena_aenq.EnaAenq` between interrupts, with
    the device's AENQ_HEAD_DB value ``db`` and its count of events written ``dev_tail``
    (``db_writes`` is a ghost: 0)."""
    return Q.EnaAenq(head=aenq.head & U16, phase=aenq.phase, db=db & U16,
                     dev_tail=dev_tail & U16, running=int(running), in_handler=0,
                     processed=0, timestamp=stamp(timestamp_ns), db_writes=0)


_LOCKSTEPS: weakref.WeakKeyDictionary[Bus, QueuesLockstep] = weakref.WeakKeyDictionary()


def _lockstep(bus: Bus) -> QueuesLockstep | None:
    ls = _LOCKSTEPS.get(bus)
    return ls if ls is not None and ls.on else None


class WatchedAdminQueue(AdminQueue):
    """``AdminQueue`` reporting its events to the lockstep of its bus."""

    _finishing = False

    def init(self) -> int:
        rc = super().init()
        ls = _lockstep(self.bus)
        if rc == 0 and ls is not None:
            ls.admin_created()
        return rc

    def submit(self, cmd: np.ndarray, comp: np.ndarray | None) -> tuple[int, CompCtx | None]:
        out = super().submit(cmd, comp)
        ls = _lockstep(self.bus)
        if ls is not None:
            ls.admin_step("submit_as_shipped")
        return out

    def _single_completion(self, cqe: np.ndarray) -> None:
        command = int(cqe["acq_common_descriptor"]["command"][0])
        super()._single_completion(cqe)
        ls = _lockstep(self.bus)
        if ls is not None:
            ls.admin_step("acq_process", command=command)

    def _finish(self, ctx: CompCtx) -> int:
        self._finishing = True
        try:
            return super()._finish(ctx)
        finally:
            self._finishing = False

    def _release(self, ctx: CompCtx) -> None:
        i = next(k for k, c in enumerate(self.comp_ctx) if c is ctx)
        status = ctx.status
        super()._release(ctx)
        ls = _lockstep(self.bus)
        if ls is None:
            return
        if self._finishing:
            ls.admin_step("wait_returns", ctx=i)
        elif status == CmdStatus.SUBMITTED:
            ls.admin_step("wait_times_out", ctx=i)
        else:
            ls.admin_step("wait_misses_interrupt", ctx=i)

    def abort(self) -> None:
        super().abort()
        ls = _lockstep(self.bus)
        if ls is not None:
            ls.admin_step("abort_all")
            ls.check_admin(self)  # the queue is torn down next: compared here


class WatchedAenq(Aenq):
    """``Aenq`` reporting its (re-)enabling to the lockstep of its bus."""

    def enable(self) -> None:
        ls = _lockstep(self.mmio.bus)
        if ls is not None:  # first: the device may post as soon as the doorbell is written
            ls.aenq_enabled()
        super().enable()


class WatchedFlags(Flags):
    """The adapter's flags, reporting each write of ENA_FLAG_DEVICE_RUNNING."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        ls = getattr(self, "lockstep", None)
        if name == "device_running" and ls is not None and ls.on:
            ls.running_written(bool(value))


class WatchedDeviceAenq(DeviceAenq):
    """The device's AENQ producer, reporting each event it writes: when its count moves in
    ``post`` -- before the interrupt that ``post`` raises next, whose handler may take the
    event at once."""

    on_written: Callable[[], None] | None = None
    _posting = False

    @property  # type: ignore[override]
    def tail(self) -> int:
        return int(self.__dict__["tail"])

    @tail.setter
    def tail(self, value: int) -> None:
        old = self.__dict__.get("tail")
        self.__dict__["tail"] = value
        if self._posting and old is not None and value == (old + 1) & U16 \
                and self.on_written is not None:
            self.on_written()

    def post(self, entry: np.ndarray) -> bool:
        self._posting = True
        try:
            return super().post(entry)
        finally:
            self._posting = False


def watch_device_init() -> None:
    """Make :mod:`impl.ena.device_init` create watched queues (idempotent; a queue whose bus
    has no lockstep behaves as the base class)."""
    device_init_module.AdminQueue = WatchedAdminQueue  # type: ignore[misc]
    device_init_module.Aenq = WatchedAenq  # type: ignore[misc]


class QueuesLockstep:
    """The admin and AENQ models stepped by the events of adapter ``a`` and device ``dev``.

    Install it (:meth:`install`) before the adapter attaches; :meth:`check` compares the
    implementation with both models between the driver's actions."""

    def __init__(self, a: EnaAdapter, dev: EnaDevice) -> None:
        self.a = a
        self.dev = dev
        self.on = True
        self.admin: A.EnaAdmin | None = None
        self.aenq: Q.EnaAenq | None = None
        self.admin_dev_live = False
        """The device holds the admin rings the driver last programmed (no reset since)."""
        self.aenq_dev_live = False
        self.steps: list[str] = []

    # -- setup
    def install(self) -> None:
        watch_device_init()
        _LOCKSTEPS[self.a.bus] = self
        flags = WatchedFlags(**vars(self.a.flags))
        object.__setattr__(flags, "lockstep", self)
        self.a.flags = flags
        dev_admin, dev_aenq = self.dev.admin, self.dev.aenq
        complete, admin_reset = dev_admin._complete, dev_admin.reset
        aenq_reset = dev_aenq.reset

        def on_complete(*args: Any) -> None:
            complete(*args)
            if self.on and self.admin_dev_live:
                self.admin_step("device_complete")

        def on_admin_reset() -> None:
            admin_reset()
            self.admin_dev_live = False

        def on_post() -> None:
            if self.on and self.aenq_dev_live:
                self.aenq_step("device_post")

        def on_aenq_reset() -> None:
            aenq_reset()
            self.aenq_dev_live = False

        dev_admin._complete = on_complete  # type: ignore[method-assign]
        dev_admin.reset = on_admin_reset  # type: ignore[method-assign]
        dev_aenq.__class__ = WatchedDeviceAenq
        assert isinstance(dev_aenq, WatchedDeviceAenq)
        dev_aenq.on_written = on_post
        dev_aenq.reset = on_aenq_reset  # type: ignore[method-assign]

    def stop(self) -> None:
        """The lockstep ends (a detach follows, which the models do not cover)."""
        self.on = False

    # -- stepping the models
    def _apply(self, state: Any, machine: dict[str, Any], name: str, args: dict[str, int]) -> Any:
        step = machine[name].fn(state, **args)
        if step.guard is not True:
            raise QueueGuardError(f"{name}{args} not enabled in {state} "
                                  f"(after {self.steps[-6:]})")
        self.steps.append(name)
        return step.post

    def admin_step(self, name: str, **args: int) -> None:
        if self.admin is None:
            raise QueueGuardError(f"admin {name} before the admin queue was created")
        self.admin = self._apply(self.admin, ADMIN_T, name, args)

    def aenq_step(self, name: str, **args: int) -> None:
        if self.aenq is None:
            raise QueueGuardError(f"AENQ {name} before the AENQ was enabled")
        self.aenq = self._apply(self.aenq, AENQ_T, name, args)

    def admin_created(self) -> None:
        """ena_com_admin_init: the first one starts the model, a later one re-creates."""
        if self.admin is None:
            self.admin = A.admin_init()
            self.steps.append("admin_init")
        else:
            self.admin_step("admin_reinit")
        self.admin_dev_live = True

    def aenq_enabled(self) -> None:
        """ena_com_admin_aenq_enable: the first one starts the model (with the flag still
        clear: ena_attach sets DEVICE_RUNNING last), a later one is the restore's."""
        if self.aenq is None:
            self.aenq = Q.aenq_init()
            self.steps.append("aenq_init")
            if not self.a.flags.device_running:
                self.aenq_step("set_running", on=0)
        else:
            self.aenq_step("aenq_reinit")
        self.aenq_dev_live = True

    def running_written(self, on: bool) -> None:
        if self.aenq is not None:
            self.aenq_step("set_running", on=int(on))

    def stopping(self) -> None:
        """ena_destroy_device, not graceful: ena_com_set_admin_running_state(false)."""
        if self.on and self.admin is not None:
            self.admin_step("admin_stop")

    def interrupt(self, aenq: Aenq, isr: Any) -> None:
        """The management interrupt's AENQ part (``isr``, the adapter's), stepped as
        ``intr_enter``, one ``aenq_process`` per event the handler took, ``intr_leave``."""
        head = aenq.head
        isr()
        if not self.on or self.aenq is None:
            return
        took = (aenq.head - head) & U16
        self.aenq_step("intr_enter")
        if not self.aenq.in_handler:
            if took:
                raise QueueGuardError(f"the AENQ handler took {took} events while the "
                                      f"model's DEVICE_RUNNING is clear")
            return
        groups = aenq.entries["aenq_common_desc"]["group"]
        now = stamp(self.a.clock.now_ns)
        for k in range(took):
            self.aenq_step("aenq_process", group=int(groups[(head + k) % aenq.depth]),
                           now=now)
        self.aenq_step("intr_leave")

    def timestamped(self) -> None:
        """ena_attach and ena_restore_device stamp keep_alive_timestamp themselves (the
        keep-alive machine's events, not the AENQ's): the model takes the stamp."""
        if self.on and self.aenq is not None:
            self.aenq = self.aenq.replace(
                timestamp=stamp(self.a.events.keep_alive_timestamp_ns))

    # -- the check
    def check_admin(self, aq: AdminQueue) -> None:
        """The admin queue ``aq``, read as the model's state, equals the model."""
        if not self.on or self.admin is None:
            return
        model = self.admin.replace(cause=0, stray=0)
        dev_tail = self.dev.admin.cq_tail if self.admin_dev_live else model.dev_tail
        got = abstract_admin(aq, dev_tail)
        assert got == model, f"admin queue {got} != model {model} (after {self.steps[-6:]})"

    def check(self) -> None:
        """Between the driver's actions: the implementation, read as each model's state,
        equals the model (the device's counters only while it holds the driver's rings;
        the ghosts are not compared)."""
        if not self.on:
            return
        com = self.a.com
        if com is not None and com.aq is not None and com.aq.cq_addr:
            self.check_admin(com.aq)
        if self.aenq is not None and com is not None and com.aenq is not None \
                and com.aenq.addr:
            model = self.aenq.replace(db_writes=0)
            live = self.aenq_dev_live
            got = abstract_aenq(com.aenq, self.dev.aenq.head if live else model.db,
                                self.dev.aenq.tail if live else model.dev_tail,
                                self.a.flags.device_running,
                                self.a.events.keep_alive_timestamp_ns)
            assert got == model, f"AENQ {got} != model {model}"
