"""The error-reporting page: what a user sees when a sync rejects the ring (the ioctl returns
0, poll sets POLLERR, one rate-limited log line), why a bad cur fails every later sync as
shipped (a replay on the model), and poll on a cur that is not a slot."""

from __future__ import annotations

from impl.netmap import NetmapAdapter
from model import sources
from model.core import Machine
from model.netmap_ring import (
    AS_SHIPPED,
    HARDENED,
    PROLOGUES,
    RX,
    TX,
    NetmapRing,
    caller_accepts,
)
from ringspec.docgen import common, md, pictures, runs
from ringspec.docgen.questions import QUESTIONS, one_thread_per_ring, poll_says, trace

#: NM_FAIL_ON's fields, in the order the line prints them: (label, C expression, owner).
FAIL_FIELDS = (
    ("h", "head (read from ring->head)", "user"),
    ("c", "cur (read from ring->cur)", "user"),
    ("t", "ring->tail", "user-visible field (the kernel's to write)"),
    ("rh", "kring->rhead", "kernel (RX: already overwritten with h)"),
    ("rc", "kring->rcur", "kernel (RX: already overwritten with c)"),
    ("rt", "kring->rtail", "kernel"),
    ("hc", "kring->nr_hwcur", "kernel"),
    ("ht", "kring->nr_hwtail", "kernel"),
)


def fail_line(machine: Machine, s: NetmapRing, name: str = "em0 TX0") -> str:
    """The values NM_FAIL_ON prints for a sync of state ``s`` (the condition text left
    out): RX's prologue stores head and cur into the kring before it checks them."""
    rh, rc = (s.head, s.cur) if machine is RX else (s.rhead, s.rcur)
    values = (s.head, s.cur, s.tail, rh, rc, s.rtail, s.hwcur, s.hwtail)
    fields = " ".join(f"{label} {v}" for (label, _, _), v in zip(FAIL_FIELDS, values,
                                                                  strict=True))
    return f"{name}: fail '...' {fields}"


def _accepted(machine: Machine, policy: str, s: NetmapRing) -> str:
    return "yes" if caller_accepts(PROLOGUES[machine.name](policy, s)) else "**no**"


def _stuck_start() -> NetmapRing:
    """A TX ring whose user window wraps ([3 .. 1]) with a legal head, before the user
    writes a cur that lies outside the window but inside the ring."""
    steps = [("user_advance", {"dh": 3, "dc": 0}), ("txsync_hardened", {"sent": 3}),
             ("device_complete", {"k": 2}), ("txsync_hardened", {"sent": 0})]
    return runs.run(TX, TX.init(8), steps)[-1][1]


def _stuck_section() -> list[str]:
    start = _stuck_start()
    bad_cur = (start.rtail + 1) % start.n  # between rtail and rhead: not in the window
    head = (start.rhead + 2) % start.n  # two slots published: a legal head
    scribble = ("user_scribble", {"head": head, "cur": bad_cur, "tail": start.tail})
    cols = ["head", "cur", "tail", "rhead", "rcur", "rtail", "hwcur"]
    out = [
        f"Worked example (computed): a TX ring of {start.n} slots, user window [rhead .. "
        f"rtail] = [{start.rhead} .. {start.rtail}]. The user fills two slots and "
        f"publishes them (head = {head}, legal) but writes cur = {bad_cur}, a slot outside "
        "the window, then syncs three times without looking at the result:",
    ]
    for policy in (AS_SHIPPED, HARDENED):
        sync = (f"txsync_{policy}", {"sent": start.n})
        out += [f"**{policy}**:", trace(TX, start, [scribble, sync, sync, sync], cols)]
        if policy == AS_SHIPPED:
            rows = runs.run(TX, start, [scribble, sync, sync], legal=False)
            out.append(pictures.figure("errors-stuck-cur", rows, "tx",
                                       marks=pictures.ALL_MARKS).markdown)
            out.append("The log line each rejected sync prints (values from the model "
                       "state, format from " + sources.link("NM_FAIL_ON") + "):")
            out.append(md.code(fail_line(TX, rows[1][1])))
    out.append(
        "As shipped, `netmap_ring_reinit` copies the user's head, cur and tail into the "
        "kring and resets them only when one is >= N. Here all three are slots, so the "
        "kring adopts the bad cur and the ring is left exactly as the user wrote it; the "
        "next prologue compares the same cur with the same window and fails again, and "
        "so does every sync after it, each returning 0 and sending nothing (the two "
        "published slots stay `pending`, hwcur does not move), until the application "
        "rewrites cur. Hardened, reinit puts the kernel's rhead/rcur/rtail back into the "
        "ring: the publication is undone (head is back where the kernel last saw it), the "
        "next sync is accepted, and the application, seeing head move back, can refill."
    )
    return out


def _poll_section() -> list[str]:
    base = NetmapRing(n=8, head=5, cur=5, tail=2, hwcur=5, hwtail=2, rhead=5, rcur=5,
                      rtail=2, nic=4, busy=1)
    s = base.replace(cur=base.n + 1)
    rows = []
    for policy in (AS_SHIPPED, HARDENED):
        t = s
        for i in (1, 2, 3):
            said, t = poll_says(t, policy)
            rows.append([policy, i, t.cur, t.rcur, t.rtail, said])
    return [
        "## Poll on a cur that is not a slot",
        "Computed by the model's netmap_poll ([poll() on a ring](poll.md)): its sync, "
        "then the readiness test "
        f"({sources.link('netmap_poll (TX found)', 'rcur != rtail')}).",
        "When the user window wraps, the as-shipped TX prologue never range-checks cur "
        "([finding](findings.md)): a cur >= N is accepted and stored as `rcur`. poll then "
        "reports the ring ready because rcur can never equal rtail (always a slot), on "
        "every call: poll never blocks and the application spins. FreeBSD's lock-free "
        f"pre-check ({sources.link('netmap_poll (lock-free TX test)', 'cur != tail')}) "
        "gives the same answer. Worked example: the ring below, the user writes "
        f"cur = {s.cur}, then calls poll for POLLOUT three times (each poll runs one "
        "txsync, with nothing to send; Linux's poll, which has no lock-free pass):",
        pictures.figure("errors-poll-cur", [("the user writes cur = "
                                             f"{s.cur}", s)], "tx").markdown,
        md.table(["policy", "poll", "cur", "rcur", "rtail", "poll returns"], rows),
        "Hardened, the prologue rejects the cur and reinit puts back the kernel's rcur: "
        "the first poll returns POLLERR (with POLLOUT, since this ring has free slots), "
        "and from then on poll reports room only when there is some, and blocks on a "
        "full ring.",
    ]


def _control_rows() -> list[list[str]]:
    """Each control-path refusal, run on :class:`impl.netmap.system.NetmapSystem`."""

    from impl.netmap.control import NR_EXCLUSIVE, NR_REG_ALL_NIC, NR_REG_ONE_NIC
    from impl.netmap.system import NetmapSystem
    from model.netmap_admode import ADMODE_NATIVE, RingConfig

    def fresh() -> NetmapSystem:
        s = NetmapSystem()
        s.attach("em0", True, RingConfig(4, 512, 4, 512))
        s.attach("tap0", False, RingConfig(1, 1024, 1, 1024))
        return s

    rows: list[tuple[str, int]] = []
    s = fresh()
    rc, info = s.port_info("em0", 13, legacy=True)
    rows.append((f"NIOCGINFO with `nr_version = 13` (2013: the kernel writes back "
                 f"`nr_version = {info.nr_version if info else '?'}`)", rc))
    rows.append(("NIOCREGIF with `nr_version = 16`", s.register(s.open(), "em0",
                                                                NR_REG_ALL_NIC, version=16)))
    rows.append(("the original NIOCREGIF (`struct nmreq`, `nr_ringid`) with "
                 "`nr_version = 13` (a 2013 binary)",
                 s.register_legacy(s.open(), "em0", 0, version=13)))
    rows.append(("NIOCREGIF on `em9`, which no interface is called",
                 s.register(s.open(), "em9", NR_REG_ALL_NIC)))
    s.admode = ADMODE_NATIVE
    rows.append(("`dev.netmap.admode=1` (native) and an interface without native support",
                 s.register(s.open(), "tap0", NR_REG_ALL_NIC)))
    s = fresh()
    s.attach_to_switch("tap0")
    rows.append(("NIOCREGIF on an interface a VALE switch has (`vale-ctl -a`)",
                 s.register(s.open(), "tap0", NR_REG_ALL_NIC)))
    h = s.open()
    s.register(h, "em0", NR_REG_ONE_NIC, ringid=0)
    rows.append(("a second NIOCREGIF on the same fd", s.register(h, "em0", NR_REG_ALL_NIC)))
    rows.append(("`NR_EXCLUSIVE` on a ring another fd has bound",
                 s.register(s.open(), "em0", NR_REG_ONE_NIC, 0, NR_EXCLUSIVE)))
    rows.append(("`NR_REG_ONE_NIC` with `ringid = 4` on 4 rings",
                 s.register(s.open(), "em0", NR_REG_ONE_NIC, ringid=4)))
    return [[text, md.tick(errno_name(rc))] for text, rc in rows]


def errno_name(rc: int) -> str:
    """The errno's name as the C spells it (Linux's errorcode calls 95 ENOTSUP)."""
    import errno as errno_mod

    if rc == errno_mod.EOPNOTSUPP:
        return "EOPNOTSUPP"
    return errno_mod.errorcode.get(rc, str(rc))


def _admode_rows() -> list[list[str]]:
    from model.netmap_admode import ADMODE_NAMES, hw_adapter

    out = []
    for mode, name in ADMODE_NAMES.items():
        cells = []
        for native in (True, False):
            got = hw_adapter(mode, native, "native" if native else None, in_use=False)
            cells.append(md.tick(errno_name(got) if isinstance(got, int) else got))
        out.append([md.tick(f"{mode} ({name})"), *cells])
    return out


def _control_section() -> list[str]:
    return [
        "## NIOCREGIF and NIOCGINFO: the errors they do return",
        "Unlike the syncs, the control path fails loudly. Each row below was run on "
        "ringspec's control device (`impl/netmap/system.py`) when this page was generated; "
        "every refusal leaves the fd unbound and the adapter as it was.",
        md.table(["request", "errno"], _control_rows()),
        "Which adapter a NIOCREGIF gets, when no fd has the interface open "
        f"({sources.link('netmap_get_hw_na')}; with an fd open, the adapter attached is "
        "returned whatever the admode). A generic adapter is created for the request and "
        "destroyed with its last fd; a native one it stood in for comes back then. "
        "`nr_tx_rings`, `nr_tx_slots` and friends are taken from the driver only while "
        "no fd is open: a change made meanwhile (ethtool -L) is logged as \"configuration "
        "changed while active\" and waits for the last close.",
        md.table(["dev.netmap.admode", "native driver", "no native support"],
                 _admode_rows()),
    ]


def _busy_ring() -> str:
    """The busy-ring bullet, with a sync run on the implementation."""
    ad = NetmapAdapter(2, 1, 8)
    for q in (0, 1):
        ad.user_advance("tx", q, 3)
    ad.tx.busy[1] = True
    r = ad.txsync([0, 1])
    number = QUESTIONS.index(one_thread_per_ring) + 1
    heading = f"{number}. {one_thread_per_ring()[0]}"
    return (
        "- **A ring another thread is syncing is skipped, silently**: "
        f"{sources.link('nm_kr_tryget')} finds `nr_busy` set and returns NM_KR_BUSY "
        "without an error, so NIOCTXSYNC / NIOCRXSYNC return 0 with nothing done on that "
        "ring, and poll passes it without POLLERR. There is no EBUSY for a sync. Run on "
        "`impl.netmap` (3 packets published on TX rings 0 and 1, ring 1 held by another "
        f"thread): NIOCTXSYNC returns {r.errno} and hands {r.sent.tolist()[0]} and "
        f"{r.sent.tolist()[1]} slots to the NIC. Threads that share a ring need their own "
        f"lock ({md.link('one thread per ring', 'user-questions.md', heading)}).")


def render() -> str:
    body = [
        "## What the user sees",
        "- **NIOCTXSYNC / NIOCRXSYNC return 0** when the prologue rejects the ring: "
        f"{sources.link('netmap_ioctl (NIOCTXSYNC)', 'netmap_ioctl')} calls "
        "`netmap_ring_reinit` and carries on with the next ring; the ioctl's error stays 0. "
        "(Only a stopped ring gives EIO, via "
        f"{sources.link('netmap_ioctl (nm_kr_tryget)', 'nm_kr_tryget')}.) On RX the "
        f"driver's rxsync even runs after the reinit "
        f"({sources.link('netmap_ioctl (NIOCRXSYNC)', 'NIOCRXSYNC')}).",
        _busy_ring(),
        f"- **poll sets POLLERR** in revents ({sources.link('netmap_poll (txsync)', 'TX')}, "
        f"{sources.link('netmap_poll (rxsync)', 'RX')}) for the same rejection, and for a "
        "driver sync that fails.",
        f"- **One log line**, rate-limited ({sources.link('nm_prlim')}: at most 5 a "
        f"second), from {sources.link('NM_FAIL_ON')}:",
        md.code("<kring name>: fail '<the failed test>' h <h> c <c> t <t> rh <rh> rc <rc> "
                "rt <rt> hc <hc> ht <ht>"),
        md.table(["field", "value", "whose"], [[md.tick(a), md.tick(b), c]
                                               for a, b, c in FAIL_FIELDS]),
        "So h, c and t are what the application wrote; rh, rc and rt are the window the "
        "kernel last showed (on RX, rh and rc already hold the new h and c, because the RX "
        "prologue stores before it checks); hc and ht are the kernel's own pointers. "
        "Reading the line: the test in quotes names the comparison that failed; compare "
        "h and c with [rh .. rt] on TX, with [hc .. ht] on RX.",
        "A program that checks only the ioctl's return value never sees a rejected sync. "
        "Check the ring instead: after a sync, head, cur and tail must be what you "
        "expect (a rejected sync reinitialises them), or watch for POLLERR.",
        "## A bad cur fails every later sync (as shipped)",
        *_stuck_section(),
        *_poll_section(),
        *_control_section(),
        "## Evidence",
        "The prologue and reinit of both policies are the model's "
        f"(`model.netmap_sync`), following {sources.link('nm_txsync_prologue')}, "
        f"{sources.link('nm_rxsync_prologue')} and {sources.link('netmap_ring_reinit')}; "
        "the findings page proves the adoption for every N "
        "([findings](findings.md)). The control path's rules are "
        "`model.netmap_admode` (API versions, the admode table, the configuration) and "
        "`model.netmap_regif` (bindings and lifetimes); `tests/unit/test_netmap_system.py` "
        "checks the control device's adapter choice against the model's in every case. "
        "Across requests, [adapter selection and ring configuration]"
        "(netmap_adapter_select.md) proves that an adapter in use is never replaced or "
        "reconfigured, that a generic adapter lives only while used and is created only "
        "when the admode asks for one, and `tests/unit/test_adapter_select.py` runs the "
        "control device in lockstep with it.",
    ]
    return md.page("Error reporting", common.nav("errors.md"), body)
