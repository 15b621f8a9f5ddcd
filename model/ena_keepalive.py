"""The ENA keep-alive watchdog and reset flow: the timer service over a simulated clock, the
keep-alive AENQ handler, hardware hints, the reset request (first reason wins) and the reset
task that destroys and restores the device.

Time is FreeBSD's ``sbintime_t`` (32.32 fixed-point seconds, ``SBT_1S = 2^32``), modelled
exactly as a 64-bit value; the clock never runs backwards and stays below 2^62 (34 years of
uptime), so ``now - keep_alive_timestamp`` never wraps.

Upstream: the device sends a KEEP_ALIVE AENQ event every second and ena_keep_alive_wd
stamps ``keep_alive_timestamp = getsbinuptime()``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3132);
ena_timer_service runs every second (re-armed with ENA_TIMER_RESET unless a reset is
requested, then it queues the reset task instead;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3535)
and first calls check_for_missing_keep_alive: skipped when ``wd_active`` is 0 or the
timeout is ENA_HW_HINTS_NO_TIMEOUT (0xFFFF), otherwise a reset (KEEP_ALIVE_TO 1, or
MISSING_ADMIN_INTERRUPT 18 when the AENQ holds an unprocessed keep-alive) when
``now - keep_alive_timestamp > keep_alive_timeout``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3159),
6 s by default (https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L173);
then check_for_admin_com_state (ADMIN_TO 2;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3183)
and check_for_missing_completions, which returns early if a reset is already requested
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3343)
but, once over the threshold, sets the flag and *assigns* the reason directly
(check_missing_comp_in_tx_queue,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3247).
Every other trigger goes through ena_trigger_reset, which records the reason only if no
reset is requested yet
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L655).
ena_update_hints: a ``driver_watchdog_timeout`` hint of 0 keeps the current timeout, 0xFFFF
disables the watchdog, any other value is milliseconds
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3436).
ena_reset_task runs ena_destroy_device (reason back to NORMAL, flag cleared;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3594)
then ena_restore_device, which refreshes ``keep_alive_timestamp`` (the AENQ was not
processed during the reset) and re-arms the timer, or on failure leaves the device down
with the timer not re-armed
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3672).

The missing-completion check runs inside the timer callout without a lock while the
cleanup tasks run on other CPUs, so it is split in two steps: the test that no reset is
requested (``timer_service`` with ``tx_missing``), and the commit that sets the flag and
the reason (``missing_tx_commit_*``); any ena_trigger_reset can come in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model.core import And, Eq, Implies, Not, Or, Param, Step, Term, Var, solver_module
from model.ena_bits import ite, ule, ult
from model.ena_machine import EnaMachine, choose, replace

__all__ = [
    "ADMIN_TO",
    "KEEPALIVE",
    "KEEP_ALIVE_TO",
    "MISSING_ADMIN_INTERRUPT",
    "MISS_INTERRUPT",
    "MISS_TX_CMPL",
    "NO_TIMEOUT",
    "SBT_1MS",
    "SBT_1S",
    "KeepAlive",
    "keepalive_init",
    "ms",
    "run_timer_service",
    "watchdog_due",
]

#: sbintime_t: one second is 2^32, one millisecond SBT_1S / 1000 (truncated, as in C).
SBT_1S = 1 << 32
SBT_1MS = SBT_1S // 1000
#: ENA_DEFAULT_KEEP_ALIVE_TO: 6 s.
DEFAULT_KEEP_ALIVE_TO = 6 * SBT_1S
#: ENA_HW_HINTS_NO_TIMEOUT: the "disabled" timeout (compared raw with the sbintime_t).
NO_TIMEOUT = 0xFFFF
#: The largest timeout a hint can set: 0xFFFE ms.
MAX_HINTED = 0xFFFE * SBT_1MS
#: The model's bound on uptime: the clock stays below 2^62 (sbintime_t is signed 64-bit).
UPTIME_MAX = 1 << 62

# ena_regs_reset_reason_types
NORMAL = 0
KEEP_ALIVE_TO = 1
ADMIN_TO = 2
MISS_TX_CMPL = 3
MISS_INTERRUPT = 14
MISSING_ADMIN_INTERRUPT = 18
REASON_LAST = 20


@dataclass(frozen=True)
class KeepAlive:
    """The adapter's watchdog and reset state (``struct ena_adapter``), the clock, and a
    ghost."""

    now: Term
    timestamp: Term
    timeout: Term
    wd_active: Term
    running: Term
    armed: Term
    deadline: Term
    in_check: Term
    probing: Term
    trigger: Term
    reason: Term
    queued: Term
    restarted: Term

    def replace(self, **changes: Term) -> KeepAlive:
        return replace(self, **changes)


KEEPALIVE_VARS = (
    Var("now", "clock", "sbt", "getsbinuptime(): the simulated clock."),
    Var("timestamp", "driver", "sbt", "adapter->keep_alive_timestamp: when the last "
        "keep-alive arrived (or the device was last started)."),
    Var("timeout", "driver", "sbt", "adapter->keep_alive_timeout: 6 s, a hinted number of "
        "milliseconds, or 0xFFFF (disabled)."),
    Var("wd_active", "driver", "bit", "adapter->wd_active: the KEEP_ALIVE AENQ group is "
        "enabled."),
    Var("running", "driver", "bit", "ENA_FLAG_DEVICE_RUNNING: the AENQ is processed."),
    Var("armed", "driver", "bit", "The timer-service callout is pending."),
    Var("deadline", "driver", "sbt", "When the pending callout fires (one second after it "
        "was armed)."),
    Var("in_check", "driver", "bit", "The callout is inside check_missing_comp_in_tx_queue, "
        "past its test that no reset is requested, before it sets the flag and reason."),
    Var("probing", "driver", "bit", "The callout found a reset requested and waits for "
        "its version read (ena_com_validate_version), which takes time when the device "
        "does not answer."),
    Var("trigger", "driver", "bit", "ENA_FLAG_TRIGGER_RESET: a reset is requested."),
    Var("reason", "driver", "u16", "adapter->reset_reason (0 = NORMAL)."),
    Var("queued", "driver", "bit", "The reset task is queued on reset_tq."),
    Var("restarted", "ghost", "sbt", "Ghost: when the device was last attached or "
        "restored."),
)


def keepalive_init(k: Term = 0) -> KeepAlive:
    """ena_attach: the timeout is the 6 s default, ``keep_alive_timestamp`` is now (taken as
    time 0), the keep-alive group is on, the device runs and the timer is armed for one
    second later.  (The argument is the ring depth the other ENA machines take; this
    machine has no ring.)"""
    del k
    return KeepAlive(now=0, timestamp=0, timeout=DEFAULT_KEEP_ALIVE_TO, wd_active=1,
                     running=1, armed=1, deadline=SBT_1S, in_check=0, probing=0,
                     trigger=0, reason=NORMAL, queued=0, restarted=0)


KEEPALIVE = EnaMachine(
    name="ena_keepalive",
    title="ENA keep-alive watchdog and reset",
    state_type=KeepAlive,
    vars=KEEPALIVE_VARS,
    init=keepalive_init,
    doc=keepalive_init.__doc__ or "",
    driver_fields=("timestamp", "timeout", "wd_active", "running", "trigger", "reason"),
    min_log2=1,
    max_log2=1,
)


# ---------------------------------------------------------------------------- helpers


def ms(x: Term) -> Term:
    """A u16 count of milliseconds as sbintime_t: ``SBT_1MS * x``."""
    if isinstance(x, int):
        return SBT_1MS * x
    return solver_module(x).ZeroExt(48, x) * SBT_1MS


def _bit(cond: Term) -> Term:
    return Eq(cond, 1)


def watchdog_due(s: KeepAlive, at: Term) -> Term:
    """check_for_missing_keep_alive's test at time ``at``: the watchdog is on, not
    disabled by a hint, and more than the timeout has passed since the last keep-alive."""
    return And(_bit(s.wd_active), Not(Eq(s.timeout, NO_TIMEOUT)),
               ult(s.timeout, at - s.timestamp))


def _trigger(s: KeepAlive, cond: Term, reason: Term) -> KeepAlive:
    """ena_trigger_reset under ``cond``: the reason is recorded only if no reset is
    requested yet."""
    fresh = And(cond, Eq(s.trigger, 0))
    return s.replace(reason=ite(fresh, reason, s.reason), trigger=ite(cond, 1, s.trigger))


def _bits(*xs: Term) -> Term:
    total = 0
    for x in xs:
        total = total + x
    return total


# ---------------------------------------------------------------------------- transitions


@KEEPALIVE.transition(actor="clock",
                      params=(Param("dt_ms", "u16", "milliseconds that pass"),))
def clock_advance(s: KeepAlive, dt_ms: Term) -> Step:
    """Time passes: the clock moves ``dt_ms`` milliseconds on; while the timer is armed,
    only to before its deadline (the callout fires then)."""
    now = s.now + ms(dt_ms)
    return Step(And(ule(now, UPTIME_MAX), Implies(_bit(s.armed), ult(now, s.deadline))),
                s.replace(now=now))


@KEEPALIVE.transition(actor="device")
def aenq_keep_alive(s: KeepAlive) -> Step:
    """The device's KEEP_ALIVE event is processed (ena_keep_alive_wd): the timestamp
    becomes now.  The management interrupt processes the AENQ only while the device
    runs."""
    return Step(_bit(s.running), s.replace(timestamp=s.now))


@KEEPALIVE.transition(actor="device",
                      params=(Param("hint", "u16", "driver_watchdog_timeout, in ms"),))
def update_hints(s: KeepAlive, hint: Term) -> Step:
    """An UPDATE_HINTS notification (ena_update_hints): 0 keeps the current timeout,
    0xFFFF disables the watchdog, any other value sets it to that many milliseconds."""
    timeout = ite(Eq(hint, 0), s.timeout, ite(Eq(hint, NO_TIMEOUT), _sbt(s, NO_TIMEOUT),
                                                 ms(hint)))
    return Step(_bit(s.running), s.replace(timeout=timeout))


def _sbt(s: KeepAlive, value: int) -> Term:
    """The sbintime_t constant ``value`` beside the (possibly symbolic) clock."""
    if isinstance(s.now, int):
        return value
    return solver_module(s.now).BitVecVal(value, 64, s.now.ctx)


@KEEPALIVE.transition(actor="driver",
                      params=(Param("reason", "u16", "the reset reason requested"),))
def trigger_reset(s: KeepAlive, reason: Term) -> Step:
    """Any other caller of ena_trigger_reset (a bad TX or RX completion, a device request
    by AENQ, ...): the reason is recorded only if no reset is requested yet."""
    return Step(And(_bit(s.running), ule(1, reason), ult(reason, REASON_LAST)),
                _trigger(s, True, reason))


@KEEPALIVE.transition(actor="driver", params=(
    Param("in_aenq", "bit", "ena_com_aenq_has_keep_alive: a keep-alive waits unprocessed"),
    Param("admin_down", "bit", "the admin queue's running_state is false"),
    Param("tx_missing", "bit", "a TX queue has more missing completions than the threshold"),
))
def timer_service(s: KeepAlive, in_aenq: Term, admin_down: Term, tx_missing: Term) -> Step:
    """The callout fires at its deadline (ena_timer_service): the keep-alive check, the
    admin-queue check, then the missing-completion check, which returns at once if a reset
    is requested and otherwise (``tx_missing``) stops before it sets the flag (see
    ``missing_tx_commit_*``).  At the end, if a reset is requested the callout reads the
    device's version to see whether it answers (``version_read``); otherwise it is re-armed
    one second on.  (The model's clock ends at 2^62: a deadline past it never fires.)"""
    return run_timer_service(s, in_aenq, admin_down, tx_missing, watchdog_due)


def run_timer_service(s: KeepAlive, in_aenq: Term, admin_down: Term, tx_missing: Term,
                      due: Callable[[KeepAlive, Term], Term]) -> Step:
    """ena_timer_service with the keep-alive test ``due`` (mutants replace it)."""
    at = s.deadline
    t = s.replace(now=at)
    t = _trigger(t, due(s, at),
                 ite(_bit(in_aenq), MISSING_ADMIN_INTERRUPT, KEEP_ALIVE_TO))
    t = _trigger(t, _bit(admin_down), ADMIN_TO)
    checking = And(_bit(tx_missing), Eq(t.trigger, 0))
    post = choose(checking, t.replace(armed=0, in_check=1),
                  choose(_bit(t.trigger), t.replace(armed=0, probing=1),
                         t.replace(deadline=at + SBT_1S)))
    return Step(And(_bit(s.armed), ule(at, UPTIME_MAX)), post)


@KEEPALIVE.transition(actor="driver", params=(
    Param("unresponsive", "bit", "ena_com_validate_version timed out: the device does not "
          "answer"),))
def version_read(s: KeepAlive, unresponsive: Term) -> Step:
    """The end of the callout with a reset requested, once its version read is done (the
    clock may have moved on meanwhile, up to the read timeouts): the device answers -> the
    reset task is queued and the timer not re-armed; it does not ("FW unresponsive,
    skipping reset") -> the request stays and the timer is re-armed one second from now."""
    waits = s.replace(probing=0, armed=1, deadline=s.now + SBT_1S)
    return Step(_bit(s.probing),
                choose(_bit(unresponsive), waits, s.replace(probing=0, queued=1)))


def _commit(s: KeepAlive, in_cq: Term, first_wins: bool) -> Step:
    reason = ite(_bit(in_cq), MISS_INTERRUPT, MISS_TX_CMPL)
    t = _trigger(s, True, reason) if first_wins else s.replace(reason=reason, trigger=1)
    return Step(_bit(s.in_check), t.replace(in_check=0, probing=1))


_IN_CQ = Param("in_cq", "bit", "check_cdesc_in_tx_cq found a completion in the CQ (a lost "
               "interrupt, MISS_INTERRUPT) rather than none (MISS_TX_CMPL)")


@KEEPALIVE.transition(actor="driver", params=(_IN_CQ,))
def missing_tx_commit_as_shipped(s: KeepAlive, in_cq: Term) -> Step:
    """check_missing_comp_in_tx_queue as shipped, after its test: it sets
    ENA_FLAG_TRIGGER_RESET and assigns ``reset_reason`` directly, overwriting a reason an
    ena_trigger_reset recorded since the test; then the callout reads the version
    (``version_read``)."""
    return _commit(s, in_cq, first_wins=False)


@KEEPALIVE.transition(actor="driver", params=(_IN_CQ,))
def missing_tx_commit_hardened(s: KeepAlive, in_cq: Term) -> Step:
    """The same through ena_trigger_reset: the first reason wins."""
    return _commit(s, in_cq, first_wins=True)


@KEEPALIVE.transition(actor="driver", params=(Param("ok", "bit", "the restore succeeds"),))
def reset_task(s: KeepAlive, ok: Term) -> Step:
    """ena_reset_task: ena_destroy_device (reason back to NORMAL, flag cleared, device
    stopped), then ena_restore_device: on success the device runs again, the keep-alive
    timestamp is refreshed (no keep-alive was processed during the reset) and the timer is
    re-armed; on failure the device stays down and the timer is not re-armed."""
    down = s.replace(reason=NORMAL, trigger=0, queued=0, running=0)
    up = down.replace(running=1, timestamp=s.now, restarted=s.now, armed=1,
                      deadline=s.now + SBT_1S)
    return Step(_bit(s.queued), choose(_bit(ok), up, down))


# ---------------------------------------------------------------------------- invariants


@KEEPALIVE.invariant(
    "ENA-KA-CLOCK",
    "The keep-alive timestamp is never in the future and the clock stays below 2^62: "
    "keep_alive_timestamp <= now <= 2^62, so now - keep_alive_timestamp never wraps.",
)
def ka_clock(s: KeepAlive) -> Term:
    return And(ule(s.timestamp, s.now), ule(s.now, UPTIME_MAX))


@KEEPALIVE.invariant(
    "ENA-KA-REFRESH",
    "The keep-alive timestamp is never older than the device's last start or restore, so "
    "the watchdog never counts the time a reset took as a missing keep-alive.",
)
def ka_refresh(s: KeepAlive) -> Term:
    return ule(s.restarted, s.timestamp)


@KEEPALIVE.invariant(
    "ENA-KA-TIMEOUT",
    "The keep-alive timeout is 0xFFFF (disabled) or between 1 ms and 65534 ms (6 s by "
    "default): a hint of 0 never makes it 0.",
)
def ka_timeout(s: KeepAlive) -> Term:
    return Or(Eq(s.timeout, NO_TIMEOUT), And(ule(SBT_1MS, s.timeout),
                                              ule(s.timeout, MAX_HINTED)))


@KEEPALIVE.invariant(
    "ENA-KA-ARMED",
    "While the device runs exactly one of these holds, and none when it is down: the timer "
    "is armed for a deadline at most one second ahead, the callout is in its "
    "missing-completion check or waiting for its version read, or the reset task is "
    "queued.",
)
def ka_armed(s: KeepAlive) -> Term:
    return And(
        Eq(_bits(s.armed, s.in_check, s.probing, s.queued), s.running),
        Implies(_bit(s.armed), And(ult(s.now, s.deadline),
                                   ule(s.deadline, s.now + SBT_1S))),
    )


@KEEPALIVE.invariant(
    "ENA-RESET-PENDING",
    "A reset is requested exactly when a reason other than NORMAL is recorded (a valid "
    "reason, below 20), and the version read and the reset task happen only for a "
    "requested reset.",
)
def reset_pending(s: KeepAlive) -> Term:
    return And(reset_requested(s), Implies(_bit(s.probing), _bit(s.trigger)))


def reset_requested(s: Any) -> Term:
    """The flag and the reason agree, and a queued reset task has a reset to do (shared
    with the netmap mode switch's machine, :mod:`model.ena_netmap`)."""
    return And(Eq(Eq(s.trigger, 0), Eq(s.reason, NORMAL)), ult(s.reason, REASON_LAST),
               Implies(_bit(s.queued), _bit(s.trigger)))


# ---------------------------------------------------------------------------- contracts


@KEEPALIVE.contract(
    "ENA-KA-TRIGGER",
    "A timer tick requests a keep-alive reset (KEEP_ALIVE_TO or MISSING_ADMIN_INTERRUPT) "
    "if and only if no reset was requested, the watchdog is on and not disabled, and more "
    "than the timeout has passed since the last keep-alive.",
    ("timer_service",),
)
def ka_trigger(pre: KeepAlive, args: dict[str, Term], step: Step) -> Term:
    """post requests a keep-alive reset <=> watchdog_due(pre, deadline), with none before."""
    post = step.post
    fired = And(Eq(pre.trigger, 0), _bit(post.trigger),
                Or(Eq(post.reason, KEEP_ALIVE_TO), Eq(post.reason, MISSING_ADMIN_INTERRUPT)))
    due = And(Eq(pre.trigger, 0), watchdog_due(pre, pre.deadline))
    return Eq(fired, due)


@KEEPALIVE.contract(
    "ENA-RESET-FIRST-WINS",
    "Once a reset is requested, no trigger changes its reason: the first reason wins.",
    ("trigger_reset", "timer_service", "missing_tx_commit_as_shipped",
     "missing_tx_commit_hardened"),
    breaks=("missing_tx_commit_as_shipped",),
)
def first_wins(pre: KeepAlive, args: dict[str, Term], step: Step) -> Term:
    """pre.trigger => post.reason == pre.reason."""
    return Implies(_bit(pre.trigger), Eq(step.post.reason, pre.reason))
