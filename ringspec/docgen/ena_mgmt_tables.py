"""The reference tables of the ENA management plane: the admin command set, completion
status to errno, the polling back-off and a lost interrupt (on the admin-queue page), the
AENQ event groups (on the AENQ page), and the links to them from the management page.

Names and values come from the code (``impl/ena_defs``, ``impl/ena/admin_queue.py``,
``impl/ena/poll.py``, ``impl/device``); behaviour -- who sends what, what the device
answers, what an errno leads to, how long a wait lasts, what a handler changes -- from the
runs of :mod:`ringspec.docgen.ena_mgmt_runs`, made when the page is generated.
"""

from __future__ import annotations

import errno
from itertools import accumulate

import numpy as np

from impl.device.admin_cmds import StatsType
from impl.device.aenq import UPDATE_HINTS, AenqGroup
from impl.device.features import FeatureId
from impl.ena import poll
from impl.ena.admin_queue import STATUS_TO_ERRNO, TRY_AGAIN, status_to_errno
from impl.ena.watchdog import SBT_1S
from impl.ena_defs.constants import HW_HINTS_NO_TIMEOUT, MIN_RING_SIZE, AdminOpcode, AdminStatus
from impl.ena_defs.mgmt_layouts import FEAT_RESP_BODY_OFF, FEATURE_DTYPES, RESPONSE_DTYPES
from model import sources
from ringspec.docgen import ena_mgmt_runs as runs
from ringspec.docgen import md

ADMIN_PAGE = "ena_admin.md"
AENQ_PAGE = "ena_aenq.md"
COMMANDS = "Admin commands"
STATUSES = "Completion status and errno"
POLLING = "Polling and back-off"
EVENTS = "Event groups"

_HEX = ("_features", "_groups", "_offset", "capabilities", "_supported", "_enabled",
        "accel_mode", "_func")
"""Response fields shown in hex (by the end of their name): masks, register offsets."""
_ERRNO_NAMES = {errno.EOPNOTSUPP: "EOPNOTSUPP"}
"""The name ena_com uses where ``errno.errorcode`` knows another (ENOTSUP on Linux)."""


def c(name: str) -> str:
    """A C function as a link when :mod:`model.sources` pins it, else as code."""
    return sources.link(name) if name in sources.SYMBOLS else md.tick(name)


def errname(rc: int) -> str:
    """An ena_com return code: 0, an errno name, or TRY_AGAIN (-1)."""
    if rc == TRY_AGAIN:
        return f"TRY_AGAIN ({TRY_AGAIN})"
    return _ERRNO_NAMES.get(rc) or errno.errorcode[rc] if rc else "0"


# -- the command table
def selector_text(opcode: int, selector: int | None) -> str:
    if selector is None:
        return ""
    if opcode == AdminOpcode.GET_STATS:
        types = {v: k for k, v in vars(StatsType).items() if k.isupper()}
        return f"type {types[selector]} = {selector}"
    return f"{FeatureId(selector).name} = {selector}"


def _scalar(name: str, value: int) -> str:
    masks = name.endswith(_HEX) or name == "tx" or value >= 1 << 31
    return f"{value:#x}" if masks and value else str(value)


def _fields(rec: np.ndarray, prefix: str = "") -> list[str]:
    """``name value`` for each field of one record, a ``_low``/``_high`` pair as one 64-bit
    value, reserved fields and the ACQ common descriptor left out."""
    names = rec.dtype.names or ()
    out = []
    for name in names:
        if "reserved" in name or name == "acq_common_desc" or \
                (name.endswith("_high") and f"{name[:-5]}_low" in names):
            continue
        v = rec[name]
        if v.dtype.names:
            out += _fields(v, prefix)
        elif name.endswith("_low") and f"{name[:-4]}_high" in names:
            both = int(v[0]) | int(rec[f"{name[:-4]}_high"][0]) << 32
            out.append(f"{prefix}{name[:-4]} {both}")
        elif v.ndim > 1 and v.dtype == np.uint8:
            out.append(f"{prefix}{name} " + ":".join(f"{b:02x}" for b in v[0]))
        elif v.ndim > 1:
            out.append(f"{prefix}{name} [" + ", ".join(_scalar(name, int(x)) for x in v[0])
                       + "]")
        else:
            out.append(f"{prefix}{name} {_scalar(name, int(v[0]))}")
    return out


def answer(sent: runs.Sent) -> str:
    """The status and what the completion carried, decoded with the response layout."""
    status = AdminStatus(sent.status).name
    if sent.opcode == AdminOpcode.GET_FEATURE and sent.selector in FEATURE_DTYPES:
        dtype = FEATURE_DTYPES[sent.selector]
        rec = sent.entry[FEAT_RESP_BODY_OFF:FEAT_RESP_BODY_OFF + dtype.itemsize].view(dtype)
    elif sent.opcode in RESPONSE_DTYPES:
        rec = sent.entry.view(RESPONSE_DTYPES[sent.opcode])
    else:
        return status
    return f"{status}: " + ", ".join(_fields(rec))


def command_rows() -> list[list[str]]:
    """One row per (opcode, feature or type, sender), in the order first sent."""
    groups: dict[tuple[int, int | None, str], list[runs.Sent]] = {}
    for s in runs.lifecycle():
        groups.setdefault((s.opcode, s.selector, s.sender), []).append(s)
    rows = []
    for (op, sel, who), sent in groups.items():
        steps = list(dict.fromkeys(s.step for s in sent))
        rows.append([md.tick(AdminOpcode(op).name), str(int(op)), selector_text(op, sel),
                     c(who), ", ".join(steps), answer(sent[0])])
    return rows


def commands_section() -> list[str]:
    return [
        f"## {COMMANDS}",
        "Every admin command the driver sends (this implementation of the FreeBSD driver; "
        "the few more the C sends are listed below the table), with the opcode and feature "
        "id a device must decode, the ena_com or driver function that builds it, and when "
        "it goes out. The admin queue carries the whole control plane: attach, every "
        "`ena_up`, the RSS sysctls and a device reset all wait on it, so a device that "
        "answers one of these slowly or wrongly stalls or breaks exactly that step. The "
        "rows were recorded when this page was generated, from one driver life on the "
        "simulated device (attach, `ena_up`, the rss.key and rss.indir_table sysctls, a "
        "basic statistics read, a device-requested reset, `ena_down`); *device answers* "
        "is the status and the decoded completion of the first such command (the "
        "counters count no traffic here). A feature the device did not advertise is "
        "refused with "
        "EOPNOTSUPP before anything is sent "
        f"({c('ena_com_check_supported_feature_id')}).",
        md.table(["command", "opcode", "feature / type", "sent by", "when", "device answers"],
                 command_rows(), "lrllll"),
        "No DESTROY goes out in a reset: "
        f"{c('ena_destroy_device')} stops the admin queue before `ena_down`, so each "
        "destroy is refused with ENODEV before it is sent, and the device reset drops the "
        "queues. The C sends a few commands this implementation does not: "
        f"{c('ena_com_fill_hash_function')} reads RSS_HASH_FUNCTION before setting it, "
        f"{c('ena_rss_init_default')} and {c('ena_rss_configure')} read and set "
        "RSS_HASH_INPUT (`ena_com_set_default_hash_ctrl`, `ena_com_set_hash_ctrl`; here "
        "the device keeps its default hash inputs), and its only GET_STATS are the "
        "metrics task's ENI, ENA_SRD and CUSTOMER_METRICS, sent only to a device with "
        "those capabilities (the simulated one has none; the BASIC read above is "
        "ena_com's, with no FreeBSD caller). A device should answer UNSUPPORTED_OPCODE to what "
        "it does not implement: that is the one refusal the driver tolerates, see below.",
    ]


# -- status -> errno, and what the driver does with it
def _status_name(status: int) -> str:
    return AdminStatus(status).name if status in STATUS_TO_ERRNO else \
        f"any other ({status} to 255)"


def outcome_text(probe: runs.Probe, status: int) -> str:
    if status == AdminStatus.SUCCESS:
        return "-"
    o = runs.outcome(probe, status)
    if o.rc:
        return f"{probe.step} fails: {errname(o.rc)}"
    if probe.step == "ena_up" and o.rings != o.requested:
        return f"retried: rings {o.rings[0]}/{o.rings[1]}"
    return "tolerated"


def device_sends(status: int) -> str:
    """The commands the simulated device answered with ``status`` (:func:`runs.provoked`)."""
    if status == AdminStatus.SUCCESS:
        return "every command it carries out"
    return "; ".join(label for label, s in runs.provoked() if s == status) or "never"


def status_rows() -> list[list[str]]:
    return [[md.tick(_status_name(s)), str(s), md.tick(errname(status_to_errno(s))),
             device_sends(s), *(outcome_text(p, s) for p in runs.PROBES)]
            for s in runs.statuses()]


def statuses_section() -> list[str]:
    return [
        f"## {STATUSES}",
        "A failed command tells the driver one byte, the completion status; "
        f"{c('ena_com_wait_and_process_admin_cq_polling')} (and its interrupt twin) turn "
        "it into an ena_com code with `ena_com_comp_status_to_errno` "
        "(`STATUS_TO_ERRNO` in `impl/ena/admin_queue.py`), and each caller decides from "
        "that code alone whether to go on. So the status a device picks decides what the "
        "driver does: the last three columns are what happened when the simulated device "
        "answered that one command with that status, once. *The device sends it for* is "
        "what the simulated device answered with that status when each of a set of "
        "commands it should refuse was sent to it. Both were run when this page was "
        "generated.",
        md.table(["status", "value", "errno", "the device sends it for",
                  *(p.label for p in runs.PROBES)], status_rows(), "lrlllll"),
        "Two steps go on whatever the answer: a failed SET HOST_ATTR_CONFIG is only logged "
        "(`ena_config_host_info`) and a refused SET LLQ falls back to host mode "
        f"({c('ena_set_queues_placement_policy')}). Elsewhere EOPNOTSUPP is the only code "
        "a caller lets pass, and only where it asks for it: the optional features of "
        f"{c('ena_com_get_dev_attr_feat')} (HW_HINTS, LLQ) and the RSS commands of "
        f"{c('ena_rss_configure')}. ENOMEM from a queue creation makes "
        f"{c('create_queues_with_size_backoff')} halve the larger ring (both when equal) "
        f"and try again, down to {MIN_RING_SIZE} entries. Any other code fails the step "
        "(an attach that fails returns ENXIO); TRY_AGAIN is not retried.",
    ]


# -- polling
def poll_rows(run: runs.PollRun) -> list[list[str]]:
    """Each poll until the sleep reaches its cap, the capped ones as one row, and the last
    poll, which finds the deadline passed."""
    cap = poll.MAX_ADMIN_POLL_US
    times = [0, *accumulate(run.sleeps_us)]
    first_cap = run.sleeps_us.index(cap) if cap in run.sleeps_us else len(run.sleeps_us)
    rows = [[str(i + 1), str(times[i]), str(run.sleeps_us[i])] for i in range(first_cap + 1)]
    capped = len(run.sleeps_us) - first_cap - 1
    if capped:
        rows.append([f"{first_cap + 2} to {len(run.sleeps_us)}",
                     f"{times[first_cap + 1]} to {times[-2]}", f"{cap} each"])
    rows.append([str(len(times)), str(times[-1]),
                 f"none: past the {run.timeout_us} us timeout, {errname(run.rc)}"])
    return rows


def _irq_row(run: runs.LostIrqRun) -> list[str]:
    mode = "polling" if run.polling_after else "interrupts"
    running = "running" if run.running_after else "`running_state` false"
    nxt = f"{errname(run.next_rc)} " + (f"after {run.next_waited_us} us"
                                        if run.next_waited_us else "at once")
    tick = f"reset: {run.reset_reason.name} ({int(run.reset_reason)})" \
        if run.reset_reason is not None else "nothing"
    return ["on" if run.auto_polling else "off (FreeBSD)", f"{run.waited_us} us",
            errname(run.rc), "yes" if run.missing_interrupt else "no", f"{mode}, {running}",
            nxt, tick]


def polling_section() -> list[str]:
    run = runs.polling_run()
    irq = [runs.lost_interrupt_run(False), runs.lost_interrupt_run(True)]
    return [
        f"## {POLLING}",
        "From `ena_com_admin_init` until MSI-X is set up -- at attach and in every "
        "restore after a reset -- the admin queue polls: ena_com looks at the ACQ, and if "
        f"the completion is not there sleeps ({c('ena_delay_exponential_backoff_us')}), "
        f"starting at max({poll.MIN_ADMIN_POLL_US} us, `ena_min_poll_delay_us` = "
        f"{run.min_poll_delay_us} us) and doubling up to {poll.MAX_ADMIN_POLL_US} us, "
        f"until `completion_timeout` ({run.timeout_us} us on this device). A device author "
        "can read off when a completion is seen: one written between two polls waits for "
        "the next. Measured on the simulated clock when this page was generated, with a "
        "command whose completion never comes:",
        md.table(["poll", "at (us after submit)", "then sleeps (us)"], poll_rows(run),
                 "rrl"),
        f"The command fails with {errname(run.rc)} and the queue stops (`running_state` "
        f"{str(run.running).lower()}). The FreeBSD driver polls only during device init, "
        "so there this fails the attach or the restore; a command that times out later, "
        "in interrupt mode, is left to the next timer tick, which asks for an ADMIN_TO "
        f"reset ({c('check_for_admin_com_state')}).",
        "### A lost interrupt",
        "Once in interrupt mode the waiter sleeps on the command's event for the whole "
        "`completion_timeout`, then processes the ACQ itself "
        f"({c('ena_com_wait_and_process_admin_cq_interrupts')}). Finding the completion "
        "there means the interrupt was lost: `is_missing_admin_interrupt` is set, and "
        "with auto-polling (`ena_com_set_admin_auto_polling_mode`) the queue switches to "
        "polling and the command succeeds. The FreeBSD driver never turns auto-polling on, "
        "so the command fails and the timer resets the device. Run when this page was "
        "generated: a statistics read whose interrupt is lost, then the next command.",
        md.table(["auto-polling", "the waiter sleeps", "returns", "missing interrupt",
                  "then the queue is", "the next command", "the next timer tick"],
                 [_irq_row(r) for r in irq], "lrllll"),
        "The management vector also carries the AENQ, so on a live device the next "
        "keep-alive's interrupt (within a second) runs the admin completion handler and "
        "wakes the waiter long before the timeout.",
    ]


def admin_sections() -> list[str]:
    """The admin-queue page's reference sections."""
    return [*commands_section(), *statuses_section(), *polling_section()]


# -- AENQ
def _seconds(v: object) -> str:
    if v == HW_HINTS_NO_TIMEOUT:
        return f"{HW_HINTS_NO_TIMEOUT:#x} (disabled)"
    return f"{int(v) / SBT_1S:.4g} s"  # type: ignore[call-overload]


def change_text(name: str, before: object, after: object) -> str:
    """One change a handler made, in the unit of the field."""
    if isinstance(before, tuple) and isinstance(after, tuple) and \
            after[:len(before)] == before:
        return f"logged: `{name}` + {list(after[len(before):])}"
    if name in ("keep_alive_timeout", "missing_tx_timeout"):  # sbintime_t
        return f"`{name}` {_seconds(before)} -> {_seconds(after)}"
    if name.endswith("_ns"):
        return f"`{name}` {int(before) / 1e6:g} ms -> {int(after) / 1e6:g} ms (now)"  # type: ignore[call-overload]
    return f"`{name}` {before} -> {after}"


def _arg(key: str, v: object) -> str:
    """An argument of a ``DeviceAenq`` call as the reader would write it."""
    if isinstance(v, AenqGroup):
        return v.name
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_arg(k, x)}" for k, x in v.items()) + "}"
    if key == "bitmap":
        return f"{v:#b}"
    return f"{v:#x}" if v == HW_HINTS_NO_TIMEOUT else str(v)


def _call(method: str, args: dict[str, object]) -> str:
    return f"`{method}(" + ", ".join(f"{k}={_arg(k, v)}" for k, v in args.items()) + ")`"


def syndrome_text(e: runs.EventRun) -> str:
    if e.group == AenqGroup.NOTIFICATION and e.syndrome == UPDATE_HINTS:
        return f"UPDATE_HINTS = {e.syndrome}"
    return str(e.syndrome)


def event_rows() -> list[list[str]]:
    enabled, supported = runs.enabled_groups()
    rows = []
    for e in runs.aenq_events():
        on = bool(enabled >> e.group & 1)
        what = "; ".join(change_text(*ch) for ch in e.changes) or \
            ("nothing" if e.posted else "not posted: the group is not enabled")
        rows.append([md.tick(AenqGroup(e.group).name), str(e.group),
                     "yes" if on else ("no" if supported >> e.group & 1 else "unsupported"),
                     _call(e.method, e.args), syndrome_text(e) if e.posted else "",
                     c(e.handler) if e.handler else "", what])
    return rows


def aenq_sections() -> list[str]:
    """The AENQ page's reference section."""
    return [
        f"## {EVENTS}",
        "What the device can tell the driver without being asked. Each 64-byte AENQ entry "
        "names a group (and a syndrome within it); "
        f"{c('ena_com_aenq_intr_handler')} calls the group's entry of "
        f"{c('aenq_handlers')}, or the unimplemented handler, which only logs. The driver "
        "enables the groups it lists, masked by those the device supports (SET "
        "AENQ_CONFIG at attach), and the device does not post the others -- so a device "
        "must send keep-alives in the KEEP_ALIVE group, and the driver's watchdog resets "
        "it when they stop. Each row is one event the simulated device posted to an "
        f"attached driver when this page was generated, {runs.STEP_NS // 1_000_000} ms "
        "apart, with everything the handler changed.",
        md.table(["group", "id", "enabled", "the device posts", "syndrome", "handler",
                  "what changed"], event_rows(), "lrlllll"),
        "Hints are in milliseconds: the handler turns them into sbintime_t for the "
        f"watchdogs and microseconds for ena_com ({c('ena_update_hints')}); a hint of 0 "
        f"keeps the driver's value and {HW_HINTS_NO_TIMEOUT:#x} disables a watchdog. A "
        "device-requested reset is only requested here: the next timer tick queues the "
        f"reset task ({c('ena_timer_service')}).",
    ]


def mgmt_section() -> list[str]:
    """The management page's pointer to the tables."""
    return [
        "## Admin commands and events",
        "The reference a device or driver author needs next to the flows above: "
        + md.link("every admin command", ADMIN_PAGE, COMMANDS) + " with its opcode, sender "
        "and the device's answer; " + md.link("each completion status", ADMIN_PAGE, STATUSES)
        + " with the errno it becomes and what the driver then does; "
        + md.link("the polling back-off", ADMIN_PAGE, POLLING) + " and a lost interrupt, "
        "timed; and " + md.link("every AENQ event group", AENQ_PAGE, EVENTS)
        + " with its handler. All of them are run on the implementation when the pages "
        "are generated.",
    ]
