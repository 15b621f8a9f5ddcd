"""Runs of the ENA management plane behind the reference tables of the admin-queue and AENQ
pages: every value those tables show is measured here, on the implementation (a simulated
device and the FreeBSD driver's ``EnaAdapter`` on one bus), when the pages are generated.

* :func:`lifecycle`: the admin commands the device executes while the driver attaches,
  comes up, serves the RSS sysctls and a statistics read, is reset and goes down -- each
  with the C function that sent it (read off the call stack: the innermost driver
  function whose docstring opens with the C name it implements) and the device's answer;
* :func:`status_outcomes`: the driver's reaction when one command is answered with each
  completion status (``ena_com_comp_status_to_errno``, then the caller's handling);
* :func:`polling_run` and :func:`lost_interrupt_run`: the polling back-off
  (``ena_delay_exponential_backoff_us``) and a lost admin interrupt, timed on the
  simulated clock;
* :func:`aenq_events`: one event of each kind the device can post, and what the driver's
  handler (the ``aenq_handlers`` table) changed.

Every function is deterministic and cached: the pages and the tests read the same runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import FrameType
from typing import Any

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock
from impl.device.admin_cmds import BODY, StatsType
from impl.device.aenq import AenqGroup
from impl.device.features import FeatureId
from impl.device.mgmt_faults import MgmtFaults
from impl.ena import admin_cmds, com_reset
from impl.ena.adapter import AdapterConfig, EnaAdapter
from impl.ena.adapter_sysctl import AdapterSysctlHost
from impl.ena.admin_queue import AdminQueue
from impl.ena.aenq import Aenq, AenqEvents, install_handlers
from impl.ena.com_reset import ResetTimeouts
from impl.ena.mmio import MmioRead
from impl.ena.reset import ResetState
from impl.ena.sysctl import Sysctl
from impl.ena_defs.admin import CreateCqCmd, CreateSqCmd, DestroyCqCmd
from impl.ena_defs.constants import (
    AdminOpcode,
    AdminStatus,
    HashFunction,
    PlacementPolicy,
    SqDirection,
)
from impl.ena_defs.mgmt_layouts import (
    AQ_COMMON_DTYPE,
    AQ_ENTRY_DTYPE,
    DEVICE_ATTR_DTYPE,
    ENTRY_SIZE,
    FEATURE_DTYPES,
    GET_FEAT_CMD_DTYPE,
    GET_STATS_CMD_DTYPE,
    HASH_FUNCTION_DTYPE,
    MTU_DTYPE,
)
from impl.ena_defs.regs import ResetReason

US = 1000
"""Nanoseconds per microsecond."""
STEP_NS = 1_000_000
"""Simulated time between two AENQ events of :func:`aenq_events`."""
_C_NAME = re.compile(r"\s*``(\w+)``")
_GENERIC = (admin_cmds.get_feature.__code__, admin_cmds.set_feature.__code__)
"""Helpers every feature command passes through: the sender is their caller."""
_WAITING = ("impl.ena.admin_queue", "impl.ena.poll")
"""The admin queue and its waits on the clock, under every sender."""


# -- set-ups
@dataclass
class Rig:
    """A device and the driver's adapter on one bus (nothing attached yet)."""

    bus: Bus
    clock: SimClock
    dev: EnaDevice
    adapter: EnaAdapter


def rig() -> Rig:
    bus = Bus(mem_size=1 << 25, nvec=3)
    clock = SimClock()
    dev = EnaDevice(bus, DeviceConfig(), clock=clock)
    return Rig(bus, clock, dev, EnaAdapter(bus, clock, AdapterConfig(ncpus=2)))


def admin_queue(faults: MgmtFaults, polling: bool) -> tuple[SimClock, EnaDevice, AdminQueue]:
    """ena_com's admin queue alone on a freshly reset device with ``faults``."""
    bus = Bus(mem_size=1 << 20, nvec=2)
    clock = SimClock()
    dev = EnaDevice(bus, DeviceConfig(), clock=clock, mgmt_faults=faults)
    mmio = MmioRead(bus, clock)
    mmio.set_read_mode_from_pci()
    timeouts = ResetTimeouts()
    com_reset.dev_reset(mmio, ResetReason.NORMAL, False, timeouts)
    aq = AdminQueue(mmio, timeouts)
    aq.init()
    aq.set_polling_mode(polling)
    return clock, dev, aq


# -- what was sent, by whom
def command_key(raw: np.ndarray) -> tuple[int, int | None]:
    """(opcode, feature id for GET/SET_FEATURE, statistics type for GET_STATS, else None)."""
    op = int(raw.view(AQ_COMMON_DTYPE)["opcode"][0])
    if op in (AdminOpcode.GET_FEATURE, AdminOpcode.SET_FEATURE):
        return op, int(raw.view(GET_FEAT_CMD_DTYPE)["feat_common"]["feature_id"][0])
    if op == AdminOpcode.GET_STATS:
        return op, int(raw.view(GET_STATS_CMD_DTYPE)["type"][0])
    return op, None


def c_name(fn: object) -> str:
    """The C function a driver function implements: the ````name```` its docstring opens
    with ('' if it does not)."""
    m = _C_NAME.match(getattr(fn, "__doc__", None) or "")
    return m.group(1) if m else ""


def _function(frame: FrameType) -> object:
    """The function (or method) a frame runs, found by its qualified name (None for a
    closure)."""
    obj: object = sys.modules.get(frame.f_globals.get("__name__", ""))
    for part in frame.f_code.co_qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def sender() -> str:
    """The innermost driver function on the stack that names its C function, skipping the
    admin queue, its waits and the generic feature helpers."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("impl.ena.") and module not in _WAITING \
                and frame.f_code not in _GENERIC:
            name = c_name(_function(frame))
            if name:
                return name
        frame = frame.f_back
    return ""


@dataclass(frozen=True)
class Sent:
    """One admin command the device executed."""

    opcode: int
    selector: int | None
    sender: str
    step: str
    status: int
    entry: np.ndarray
    """The 64-byte ACQ entry the device wrote (common descriptor zeroed)."""


def record(dev: EnaDevice, step: Callable[[], str]) -> list[Sent]:
    """Every command ``dev`` executes from now on, labelled with ``step()``."""
    sent: list[Sent] = []
    execute = dev.admin.execute

    def recording(raw: np.ndarray) -> tuple[int, np.ndarray]:
        status, body = execute(raw)
        op, sel = command_key(raw)
        entry = np.zeros(ENTRY_SIZE, np.uint8)
        entry[ENTRY_SIZE - body.size:] = body
        sent.append(Sent(op, sel, sender(), step(), int(status), entry))
        return status, body
    dev.admin.execute = recording
    return sent


def _lifecycle_steps(r: Rig) -> tuple[tuple[str, Callable[[], object]], ...]:
    a = r.adapter
    ctl = Sysctl(AdapterSysctlHost(a))

    def reset() -> None:
        r.dev.aenq.request_reset()
        a.reset_task()
    return (
        ("attach", a.attach),
        ("ena_up", a.up),
        ("sysctl rss.key read", lambda: ctl.read("dev.ena.0.rss.key")),
        ("sysctl rss.key write", lambda: ctl.write("dev.ena.0.rss.key", "5a" * 40)),
        ("sysctl rss.indir_table write", lambda: ctl.write("dev.ena.0.rss.indir_table",
                                                           "0:1")),
        ("sysctl rss.indir_table write, bad record",
         lambda: ctl.write("dev.ena.0.rss.indir_table", "0:99")),
        ("basic statistics read (no FreeBSD caller)", a.get_basic_stats),
        ("device-requested reset", reset),
        ("ena_down", a.down),
    )


@cache
def lifecycle() -> tuple[Sent, ...]:
    """The commands of one driver life, in the order the device executed them."""
    r = rig()
    current = [""]
    sent = record(r.dev, lambda: current[0])
    for label, run in _lifecycle_steps(r):
        current[0] = label
        run()
    return tuple(sent)


# -- completion statuses
@dataclass(frozen=True)
class Probe:
    """One command answered with a chosen status, in a step of the driver's life."""

    opcode: int
    selector: int | None
    step: str
    """``attach`` or ``ena_up``."""

    @property
    def label(self) -> str:
        what = AdminOpcode(self.opcode).name
        if self.selector is not None:
            what += f" {FeatureId(self.selector).name}"
        return f"{what} in {self.step}"


PROBES = (
    Probe(AdminOpcode.GET_FEATURE, FeatureId.HW_HINTS, "attach"),
    Probe(AdminOpcode.SET_FEATURE, FeatureId.RSS_HASH_FUNCTION, "ena_up"),
    Probe(AdminOpcode.CREATE_CQ, None, "ena_up"),
)


@dataclass(frozen=True)
class Outcome:
    rc: int
    """What ``attach`` (and then ``ena_up``) returned."""
    rings: tuple[int, int]
    """TX and RX ring sizes after ``ena_up`` (0, 0 if it did not come up)."""
    requested: tuple[int, int]


def answer_once(dev: EnaDevice, opcode: int, selector: int | None, status: int) -> None:
    """The device answers the next command ``(opcode, selector)`` with ``status`` (and an
    empty body), without executing it."""
    execute = dev.admin.execute
    pending = [True]

    def answering(raw: np.ndarray) -> tuple[int, np.ndarray]:
        if pending[0] and command_key(raw) == (opcode, selector):
            pending[0] = False
            return status, np.zeros(BODY, np.uint8)
        return execute(raw)
    dev.admin.execute = answering


@cache
def outcome(probe: Probe, status: int) -> Outcome:
    r = rig()
    answer_once(r.dev, probe.opcode, probe.selector, status)
    a = r.adapter
    rc = a.attach()
    if rc == 0 and probe.step == "ena_up":
        rc = a.up()
    rings = (a.tx_ring_size, a.rx_ring_size) if a.flags.dev_up else (0, 0)
    return Outcome(rc, rings, (a.requested_tx_ring_size, a.requested_rx_ring_size))


def statuses() -> list[int]:
    """Every status ena_com names, then the first value it does not."""
    return [*map(int, AdminStatus), max(AdminStatus) + 1]


# -- what makes the device answer each status
ALL_FEATURES = admin_cmds.ComFeatures(supported_features=(1 << 32) - 1)
"""A driver that believes every feature is advertised, so every command reaches the
device."""


def _execute(aq: AdminQueue, dtype: np.dtype, **fields: int) -> None:
    cmd = np.zeros(1, dtype)
    for name, value in fields.items():
        if name == "opcode":
            cmd["aq_common_descriptor"]["opcode"] = value
        else:
            cmd[name] = value
    aq.execute(cmd)


def _cq(aq: AdminQueue, words: int = 2, depth: int = 256) -> int:
    """A CQ with a ring in host memory: its index."""
    ba = aq.bus.mem.alloc(depth * 4 * words, 4096)
    rc, resp = admin_cmds.create_io_cq(aq, ALL_FEATURES, CreateCqCmd(depth, ba, 0, words))
    assert rc == 0 and resp is not None
    return resp.cq_idx


def _unknown_opcode(aq: AdminQueue, _dev: EnaDevice) -> None:
    free = min(set(range(1, 256)) - {int(o) for o in AdminOpcode})
    _execute(aq, AQ_ENTRY_DTYPE, opcode=free)


def _get_unadvertised(aq: AdminQueue, _dev: EnaDevice) -> None:
    advertised = int(admin_cmds.get_feature(aq, ALL_FEATURES, admin_cmds.DEVICE_ATTRIBUTES,
                                            DEVICE_ATTR_DTYPE)[1]["supported_features"][0])
    fid = min(f for f in FEATURE_DTYPES if not advertised >> f & 1)
    admin_cmds.get_feature(aq, ALL_FEATURES, fid, FEATURE_DTYPES[fid])


def _set_read_only(aq: AdminQueue, _dev: EnaDevice) -> None:
    fid = admin_cmds.DEVICE_ATTRIBUTES
    admin_cmds.set_feature(aq, ALL_FEATURES, fid, np.zeros(1, FEATURE_DTYPES[fid]))


def _eni_stats(aq: AdminQueue, _dev: EnaDevice) -> None:
    _execute(aq, GET_STATS_CMD_DTYPE, opcode=AdminOpcode.GET_STATS, type=StatsType.ENI)


def _hash_without_key(aq: AdminQueue, _dev: EnaDevice) -> None:
    rec = np.zeros(1, HASH_FUNCTION_DTYPE)
    rec["selected_func"] = 1 << HashFunction.TOEPLITZ
    admin_cmds.set_feature(aq, ALL_FEATURES, FeatureId.RSS_HASH_FUNCTION, rec)


def _mtu_too_big(aq: AdminQueue, _dev: EnaDevice) -> None:
    attr = admin_cmds.get_feature(aq, ALL_FEATURES, admin_cmds.DEVICE_ATTRIBUTES,
                                  DEVICE_ATTR_DTYPE)[1]
    rec = np.zeros(1, MTU_DTYPE)
    rec["mtu"] = int(attr["max_mtu"][0]) + 1
    admin_cmds.set_feature(aq, ALL_FEATURES, FeatureId.MTU, rec)


def _cq_depth_not_pow2(aq: AdminQueue, _dev: EnaDevice) -> None:
    admin_cmds.create_io_cq(aq, ALL_FEATURES, CreateCqCmd(3, aq.bus.mem.alloc(4096), 0, 2))


def _sq_unknown_direction(aq: AdminQueue, _dev: EnaDevice) -> None:
    direction = min(set(range(8)) - {int(d) for d in SqDirection})
    admin_cmds.create_io_sq(aq, ALL_FEATURES, CreateSqCmd(
        direction, PlacementPolicy.HOST, _cq(aq), 256,  # type: ignore[arg-type]
        aq.bus.mem.alloc(4096)))


def _llq_too_deep(aq: AdminQueue, _dev: EnaDevice) -> None:
    llq = admin_cmds.get_feature(aq, ALL_FEATURES, admin_cmds.LLQ, FEATURE_DTYPES[
        admin_cmds.LLQ])[1]
    depth = 2 * int(llq["max_llq_depth"][0])
    admin_cmds.create_io_sq(aq, ALL_FEATURES, CreateSqCmd(
        SqDirection.TX, PlacementPolicy.DEV, _cq(aq), depth))


def _destroy_busy_cq(aq: AdminQueue, _dev: EnaDevice) -> None:
    cq = _cq(aq)
    rc, _ = admin_cmds.create_io_sq(aq, ALL_FEATURES, CreateSqCmd(
        SqDirection.TX, PlacementPolicy.HOST, cq, 256, aq.bus.mem.alloc(4096)))
    assert rc == 0
    admin_cmds.destroy_io_cq(aq, DestroyCqCmd(cq))


def _refused_cq(aq: AdminQueue, dev: EnaDevice) -> None:
    dev.set_mgmt_faults(MgmtFaults(create_cq_refused=1.0))
    admin_cmds.create_io_cq(aq, ALL_FEATURES, CreateCqCmd(256, aq.bus.mem.alloc(4096), 0, 2))


PROVOCATIONS: tuple[tuple[str, Callable[[AdminQueue, EnaDevice], None]], ...] = (
    ("an opcode it does not know", _unknown_opcode),
    ("GET of a feature it does not advertise", _get_unadvertised),
    ("SET of a read-only feature (DEVICE_ATTRIBUTES)", _set_read_only),
    ("GET_STATS ENI without the ENI_STATS capability", _eni_stats),
    ("SET RSS_HASH_FUNCTION without its key buffer", _hash_without_key),
    ("CREATE_SQ with a direction outside the enum", _sq_unknown_direction),
    ("SET MTU above its max_mtu", _mtu_too_big),
    ("CREATE_CQ of a depth that is not a power of two", _cq_depth_not_pow2),
    ("CREATE_SQ (LLQ) deeper than its LLQ memory", _llq_too_deep),
    ("DESTROY_CQ while an SQ completes into it", _destroy_busy_cq),
    ("CREATE_CQ with the `create_cq_refused` fault on", _refused_cq),
)
"""Commands a device should refuse, each sent to a fresh device (what the label says is
what the function sends; the device's status is recorded, not assumed)."""


@cache
def provoked() -> tuple[tuple[str, int], ...]:
    """(provocation, the status the device answered its last command with)."""
    out = []
    for label, provoke in PROVOCATIONS:
        _, dev, aq = admin_queue(MgmtFaults(), polling=True)
        sent = record(dev, lambda: "")
        provoke(aq, dev)
        out.append((label, sent[-1].status))
    return tuple(out)


# -- polling and a lost interrupt
@dataclass(frozen=True)
class PollRun:
    """One command whose completion never comes, waited for by polling."""

    sleeps_us: tuple[int, ...]
    """The sleep after each poll that found nothing, in order."""
    waited_us: int
    rc: int
    running: bool
    timeout_us: int
    min_poll_delay_us: int


@cache
def polling_run() -> PollRun:
    clock, _, aq = admin_queue(MgmtFaults(admin_comp_lost=1.0), polling=True)
    polls: list[int] = []
    handle = aq.handle_completion

    def timed() -> int:
        polls.append(clock.now_ns)
        return handle()
    aq.handle_completion = timed  # type: ignore[method-assign]
    start = clock.now_ns
    rc, _ = admin_cmds.get_feature(aq, admin_cmds.ComFeatures(),
                                   admin_cmds.DEVICE_ATTRIBUTES, DEVICE_ATTR_DTYPE)
    sleeps = tuple((b - a) // US for a, b in itertools.pairwise(polls))
    return PollRun(sleeps, (clock.now_ns - start) // US, rc, aq.running_state,
                   aq.timeouts.completion_timeout_us, aq.timeouts.min_poll_delay_us)


@dataclass(frozen=True)
class LostIrqRun:
    """A GET_STATS whose completion is written but whose interrupt is lost."""

    auto_polling: bool
    waited_us: int
    rc: int
    missing_interrupt: bool
    polling_after: bool
    running_after: bool
    next_rc: int
    next_waited_us: int
    reset_reason: ResetReason | None
    """What the next timer tick's ``check_for_admin_com_state`` requests."""


def _timed(clock: SimClock, run: Callable[[], tuple[int, object]]) -> tuple[int, int]:
    start = clock.now_ns
    rc = run()[0]
    return rc, (clock.now_ns - start) // US


@cache
def lost_interrupt_run(auto_polling: bool) -> LostIrqRun:
    r = rig()
    a = r.adapter
    a.attach()
    assert a.com is not None and a.com.aq is not None
    aq = a.com.aq
    aq.auto_polling = auto_polling
    r.dev.set_mgmt_faults(MgmtFaults(admin_intr_lost=1.0))
    rc, waited = _timed(r.clock, a.get_basic_stats)
    missing, polling, running = aq.is_missing_admin_interrupt, aq.polling, aq.running_state
    next_rc, next_waited = _timed(r.clock, a.get_basic_stats)
    return LostIrqRun(auto_polling, waited, rc, missing, polling, running, next_rc,
                      next_waited, a.admin_stopped_reason())


# -- AENQ events
POSTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("link_change", {"up": False}),
    ("link_change", {"up": True}),
    ("keep_alive", {"rx_drops": 5, "tx_drops": 7, "rx_overruns": 1}),
    ("notify_hints", {"hints": {"driver_watchdog_timeout": 9000,
                                "missing_tx_completion_timeout": 0xFFFF,
                                "admin_completion_tx_timeout": 4000}}),
    ("event", {"group": AenqGroup.NOTIFICATION}),
    ("conf_notification", {"bitmap": 0b101}),
    ("event", {"group": AenqGroup.FATAL_ERROR}),
    ("event", {"group": AenqGroup.WARNING}),
    ("event", {"group": AenqGroup.REFRESH_CAPABILITIES}),
    ("request_reset", {}),
)
"""What the device is asked to post (a method of ``DeviceAenq`` and its arguments)."""


@dataclass(frozen=True)
class EventRun:
    method: str
    args: dict[str, Any]
    group: int
    posted: bool
    syndrome: int
    handler: str
    """The C handler that ran ('' if none)."""
    changes: tuple[tuple[str, object, object], ...]
    """(what, before, after) of everything the handler changed."""


def _observe(a: EnaAdapter) -> dict[str, object]:
    """The adapter state an AENQ handler may change: what the handlers record, the
    adapter's flags (``ENA_FLAG_*``), the reset request, the watchdog settings and
    ena_com's timeouts."""
    assert a.com is not None
    flags = {f"ENA_FLAG_{k.upper()}": v for k, v in dataclasses.asdict(a.flags).items()}
    seen: dict[str, object] = {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in dataclasses.asdict(a.events).items()
        if not isinstance(v, dict) and f"ENA_FLAG_{k.upper()}" not in flags}
    seen |= flags
    seen |= {"reset requested": a.reset.triggered, "reset reason": a.reset.reason.name,
             "keep_alive_timeout": a.keep_alive_timeout,
             "missing_tx_timeout": a.missing_tx_timeout,
             "missing_tx_threshold": a.missing_tx_threshold,
             "reg_read_to": a.com.mmio.reg_read_to}
    seen |= dataclasses.asdict(a.com.timeouts)
    return seen


def handler_names(mmio: MmioRead) -> tuple[dict[int, str], str]:
    """The C names of the ``aenq_handlers`` table: per group, and the unimplemented one."""
    table = Aenq(mmio)
    install_handlers(table, AenqEvents(), ResetState(), lambda: 0)
    return ({g: c_name(h) for g, h in table.handlers.items()}, c_name(table.unimplemented))


def _spy(aenq: Aenq, names: dict[int, str], other: str,
         ran: list[tuple[str, int, int]]) -> None:
    """Wrap the driver's handlers to note which ran, with the entry's group and syndrome."""

    def spying(fn: Callable[[np.ndarray], None], name: str) -> Callable[[np.ndarray], None]:
        def run(e: np.ndarray) -> None:
            common = e["aenq_common_desc"]
            ran.append((name, int(common["group"][0]), int(common["syndrome"][0])))
            fn(e)
        return run
    aenq.handlers = {g: spying(h, names.get(g, "")) for g, h in aenq.handlers.items()}
    aenq.unimplemented = spying(aenq.unimplemented, other)


@cache
def aenq_events() -> tuple[EventRun, ...]:
    """Each of :data:`POSTS` on an attached adapter, one millisecond apart."""
    r = rig()
    a = r.adapter
    a.attach()
    assert a.com is not None and a.com.aenq is not None
    a.com.aenq.intr_handler()  # what attach left in the ring (the device's link-up)
    names, other = handler_names(a.com.mmio)
    ran: list[tuple[str, int, int]] = []
    _spy(a.com.aenq, names, other, ran)
    out = []
    for method, args in POSTS:
        r.clock.advance(STEP_NS)
        before, ran[:] = _observe(a), []
        posted = bool(getattr(r.dev.aenq, method)(**args))
        after = _observe(a)
        name, group, syndrome = ran[-1] if ran else ("", int(args.get("group", -1)), 0)
        changes = tuple((k, before[k], after[k]) for k in before if before[k] != after[k])
        out.append(EventRun(method, args, group, posted, syndrome, name, changes))
    return tuple(out)


def enabled_groups() -> tuple[int, int]:
    """(the groups the driver enabled, the groups the device supports) after attach."""
    r = rig()
    r.adapter.attach()
    com = r.adapter.com
    assert com is not None and com.feats.aenq is not None
    return com.aenq_groups, int(com.feats.aenq["supported_groups"][0])
