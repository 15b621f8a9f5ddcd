"""The ENA sysctl page: every node, what a write of typical and boundary values does on
a running simulated adapter, and how the implementation differs from the C.

The table is computed when the page is generated: each row writes its string through
:class:`impl.ena.sysctl.Sysctl` to a fresh adapter on a fresh device and reports the
errno and the value read back -- the rules themselves live in ``impl/ena/sysctl.py`` and
its docstring (whose "Differences from the C" section is printed here as is).
"""

from __future__ import annotations

import errno
import re

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock
from impl.ena import sysctl as sysctl_mod
from impl.ena.adapter import AdapterConfig, EnaAdapter
from impl.ena.adapter_sysctl import AdapterSysctlHost
from impl.ena.sysctl import Sysctl, SysctlError
from model import sources
from ringspec.docgen import common, md

PAGE = "ena_sysctl.md"
TITLE = dict(common.PAGES)[PAGE]
DEV = "dev.ena.0."
KEY = bytes(range(40)).hex()

PROBES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hw.ena.log_level", ("1", "x")),
    ("hw.ena.driver_version", ("2.9",)),
    ("io_queues_nb", ("1", "0", "3", "2", "abc")),
    ("rx_queue_size", ("512", "255", "384", "8192", "16384", "1024")),
    ("buf_ring_size", ("1024", "0", "1000", "1")),
    ("stats_sample_interval", ("10", "3600", "3601", "65536")),
    ("irq_affinity.base_cpu", ("1", "2", "3", "-1")),
    ("irq_affinity.cpu_stride", ("2", "3", "-1")),
    ("rss.indir_table", ("0:1 5:0", "0:1 ", "0;1", "128:0", "0:2", "-1:0", "")),
    ("rss.key", (KEY, KEY[:-1], KEY[:-2] + "zz")),
    ("keep_alive_timeout", ("0", "-5", "12abc")),
    ("missing_tx_timeout", ("0", "21474836480")),
    ("missing_tx_max_queues", ("8", "-1")),
    ("missing_tx_threshold", ("64", "-1", "4294967296")),
    ("wd_active", ("0",)),
    ("rss.indir_table_size", ("64",)),
)
"""(node, values): a node is under ``dev.ena.0.`` unless it names ``hw.ena``."""


def _full(node: str) -> str:
    return node if node.startswith("hw.") else DEV + node


def _fresh() -> tuple[Sysctl, EnaAdapter, EnaDevice]:
    bus = Bus(mem_size=1 << 24, nvec=3)
    clock = SimClock()
    dev = EnaDevice(bus, DeviceConfig(), clock=clock)
    a = EnaAdapter(bus, clock, AdapterConfig(ncpus=2))
    if a.attach() or a.up():
        raise RuntimeError("the simulated adapter did not come up")
    return Sysctl(AdapterSysctlHost(a, dev)), a, dev


def _shown(text: str) -> str:
    return text if len(text) <= 24 else text[:10] + "…" + text[-6:]


def probe_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    for node, values in PROBES:
        for value in values:
            s, _, _ = _fresh()
            rc = s.write(_full(node), value)
            try:
                after = s.read(_full(node))
            except SysctlError as e:
                after = f"({errno.errorcode[e.errno]})"
            rows.append([md.tick(node), md.tick(_shown(value)) if value else "(empty)",
                         errno.errorcode.get(rc, "0") if rc else "0", md.tick(_shown(after))])
    return rows


def _rule(s: Sysctl, fn: object) -> str:
    """A handler's docstring up to its permalink, in Markdown; a leading "After
    :meth:`check`" is replaced by that check's own rule."""
    doc = " ".join((getattr(fn, "__doc__", None) or "").split())
    text = doc.split(" https://", 1)[0].rstrip(":")
    after = re.match(r"After :meth:`(\w+)`: ", text)
    if after:
        text = f"{_rule(s, getattr(s, after.group(1)))}; then {text[after.end():]}"
    text = re.sub(r":(?:meth|func):`~?(?:[\w.]+\.)?(\w+)`", r"`\1`", text)
    return text.replace("``", "`")


def node_rows() -> list[list[str]]:
    """Every node: its type and what a write checks, from the write handler's docstring
    in ``impl/ena/sysctl.py`` (up to its permalink)."""
    s, _, _ = _fresh()
    rows = []
    for name in s.names():
        node = s._nodes[name]
        handler = node.write_int or node.write_str
        kind = (node.ctype.name if node.ctype is not None
                else "string" if node.write_str is not None else "read-only")
        if handler is None:
            rule = "read-only at run time: a write is EPERM"
        elif not handler.__doc__:
            rule = "no handler (a plain variable): any value of the type is stored as is"
        else:
            rule = _rule(s, handler)
        rows.append([md.tick(name), kind, rule])
    return rows


def zero_timeout_resets(seconds: int = 10) -> tuple[int, int]:
    """Resets in ``seconds`` of a healthy adapter after ``keep_alive_timeout=0``: the
    value is raw sbintime_t with no validation, so every tick sees a keep-alive older
    than 0; and a reset does not restore it. Returns (resets, KEEP_ALIVE_TO resets)."""
    s, a, dev = _fresh()
    dev.events.start()
    if s.write(DEV + "keep_alive_timeout", "0"):
        raise RuntimeError("keep_alive_timeout=0 was refused")
    a.advance(seconds * 1_000_000_000)
    return a.stats.total_resets, a.stats.resets[1]


def differences() -> str:
    """The "Differences from the C" section of ``impl/ena/sysctl.py``'s docstring."""
    doc = sysctl_mod.__doc__ or ""
    part = doc.split("Differences from the C\n----------------------\n", 1)[1]
    return md.prose(part)


def _zero_timeout_section() -> list[str]:
    total, keep_alive = zero_timeout_resets()
    return ["## A watchdog timeout of 0 is a reset loop",
            "`keep_alive_timeout` and `missing_tx_timeout` are plain RWTUN quads (raw "
            "`sbintime_t`, 2^32 per second) with no handler, so nothing checks them. "
            "Written as 0 (or negative), the keep-alive check finds every keep-alive too "
            "old, and the value survives the reset it causes: on a healthy simulated "
            f"device, `keep_alive_timeout=0` gave **{total} resets in 10 s** "
            f"({keep_alive} of them KEEP_ALIVE_TO). 0xFFFF (65535, about 15 us as an "
            "sbintime_t) is the value that *disables* the watchdog, the same number the "
            "hints use -- not 0."]


def render() -> str:
    body = [
        "Every `sysctl` node of the FreeBSD ENA driver, as a shell user types it: "
        "`Sysctl(host).write(\"dev.ena.0.rx_queue_size\", \"512\")` is "
        "`sysctl dev.ena.0.rx_queue_size=512`. The handlers are "
        f"{sources.link('ena_sysctl_rx_queue_size')} and its neighbours in ena_sysctl.c; "
        "what they call (down, rebuild, up, revert, reset) is ena.c's "
        f"{sources.link('ena_update_queue_size')} family (`impl/ena/reconfig.py`).",
        "## Every node",
        "What each write handler checks, and the errno of each refusal, as the "
        "implementation's handlers state it (`impl/ena/sysctl.py`, each citing its C "
        "handler). Before any handler, sysctl(8) itself refuses a value it cannot parse "
        "as the node's type (EINVAL), and a name that is not a leaf is ENOENT.",
        md.table(["node", "type", "a write"], node_rows(), "lll"),
        "## What a write does",
        "Each row writes the value to a fresh running adapter (2 queue pairs, rings of "
        "1024, 2 CPUs, device maxima 8192) and reads the node back. A refused write "
        "leaves driver, device and host memory byte for byte as they were -- "
        "`tests/unit/test_ena_sysctl_adapter.py` throws random and malformed strings at "
        "every node to check it.",
        md.table(["node", "written", "errno", "reads back"], probe_rows(), "llll"),
        "## A failed reconfiguration",
        "A knob that needs the interface down and up (`io_queues_nb`, `rx_queue_size`, "
        "`buf_ring_size`, `irq_affinity.*`) can fail in `ena_up`. Then:",
        "- `buf_ring_size` restores the old value and requests an OS_TRIGGER reset at "
        "once; the write returns the error.\n"
        "- The others restore the old value and try `ena_up` again; only if that fails "
        "too is an OS_TRIGGER reset requested. The write returns the **second** "
        "`ena_up`'s code: a change that failed but whose revert came up **reports "
        "success** while the old value stays (as shipped; "
        "`test_a_failed_resize_reverts_and_reports_success_as_shipped`).\n"
        "- With the reset, DEV_UP_BEFORE_RESET is set, so the restore brings the "
        "interface up again.",
        *_zero_timeout_section(),
        "## Differences from the C",
        differences(),
    ]
    return md.page(TITLE, common.nav(PAGE), body)
