"""The findings page: what the as-shipped and legacy code admit, with replayable traces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model import netmap_legacy, sources
from model.netmap_ring import PROLOGUES, TX, NetmapRing, tx_regions
from proofs.obligations import Obligation
from ringspec.docgen import common, md, ownership
from ringspec.docgen.evidence import (
    Evidence,
    Row,
    machine_by_name,
    machine_symbol,
    run_snippet,
    state_import,
    state_literal,
)


@dataclass(frozen=True)
class Finding:
    title: str
    ref: tuple[str, ...]  # model.sources symbols the finding is about
    summary: str
    explain: str
    hardened: str
    match: Callable[[Obligation], bool]
    replay: tuple[str, ...]  # obligation ids whose counterexample is replayed in full


def _step(transitions: tuple[str, ...], inv: Callable[[str], bool]) -> Callable:
    return lambda ob: (ob.kind == "step" and ob.transition in transitions
                       and inv(ob.invariant))


def _any(*preds: Callable[[Obligation], bool]) -> Callable[[Obligation], bool]:
    return lambda ob: any(p(ob) for p in preds)


FINDINGS = (
    Finding(
        "Cur is not range-checked when the interval wraps",
        ("nm_txsync_prologue", "nm_rxsync_prologue"),
        "when the accepted interval wraps past slot N-1, the as-shipped prologues accept "
        "any `cur >= N` and the kring keeps it as `rcur`.",
        "When `rtail < rhead` (TX) or `hwtail < hwcur` (RX) and head lies in the upper part, "
        "the only test on cur is \"not strictly between tail and head\", which every value "
        "`>= N` passes. The sync is accepted, and `rcur` (and `ring->cur`) hold an index "
        "that is not a slot.",
        "Both prologues also require `head < N` and `cur < N`; the intervals are unchanged.",
        _any(lambda ob: ob.kind == "prologue-sound-accept" and ob.transition == "as_shipped",
             _step(("txsync_as_shipped", "rxsync_as_shipped"), lambda i: i.endswith("-RANGE"))),
        ("netmap_tx/prologue-sound-accept/as_shipped",
         "netmap_tx/step/txsync_as_shipped/NM-TX-RANGE"),
    ),
    Finding(
        "A rejected sync adopts the user's in-range indices",
        ("netmap_ring_reinit",),
        "`netmap_ring_reinit` copies the user's head/cur/tail into the kring and rolls back "
        "only if one is >= N, so an illegal but in-range head is accepted by the next sync.",
        "After a failed prologue the shipped code calls `netmap_ring_reinit`, which first "
        "copies `ring->head`, `cur` and `tail` into `rhead`, `rcur` and `rtail` and resets "
        "them to `hwcur`/`hwtail` only when an index is out of range. A head inside the "
        "in-flight zone plus a scribbled tail thus become the kernel's view, and the next "
        "sync is validated against them.",
        "Reinit never reads the user's indices: it rewrites `ring->head`, `cur` and `tail` "
        "from the kernel's own `rhead`, `rcur` and `rtail`.",
        _any(lambda ob: ob.id == "netmap_tx/prologue-sound-reject/as_shipped",
             _step(("ring_reinit_as_shipped",), lambda i: True),
             _step(("txsync_as_shipped",), lambda i: not i.endswith("-RANGE"))),
        ("netmap_tx/prologue-sound-reject/as_shipped",
         "netmap_tx/step/txsync_as_shipped/NM-TX-ONE-SLOT-EMPTY"),
    ),
    Finding(
        "A refused sync has already changed the kring",
        ("nm_txsync_prologue", "nm_rxsync_prologue", "netmap_ioctl (NIOCTXSYNC)"),
        "with a wrapped interval a head >= N passes every NM_FAIL_ON: the prologue stores it "
        "in `rhead` and restores `ring->tail` before the caller's `ret >= N` test refuses "
        "the sync.",
        "The prologues return head when no NM_FAIL_ON fires and N otherwise, and the callers "
        "refuse the sync when the value is >= N. When `rtail < rhead` (TX) or "
        "`hwtail < hwcur` (RX), a head >= N is never \"strictly between tail and head\", so "
        "the TX prologue stores `rhead = head`, `rcur = cur` and restores `ring->tail` "
        "before returning a head its caller refuses; the RX prologue stores head and cur "
        "before any check and restores `ring->tail` the same way. `netmap_ring_reinit`, "
        "called next, sees head > N-1 and resets the ring, so the user never sees it; code "
        "that reads the kring in between does.",
        "The prologues store nothing they refuse: reinit finds `rhead`, `rcur` and "
        "`ring->tail` as the user and the last sync left them.",
        lambda ob: (ob.kind.startswith("prologue-reject-keeps")
                    and ob.transition == "as_shipped"),
        ("netmap_tx/prologue-reject-keeps-kring/as_shipped",),
    ),
    Finding(
        "RX stores before validating and calls the driver anyway",
        ("nm_rxsync_prologue", "netmap_ioctl (NIOCRXSYNC)"),
        "`nm_rxsync_prologue` writes `rhead`/`rcur` before checking them and the RX sync "
        "runs the driver even after a failed prologue, so a bad in-range head reaches "
        "the driver's refill.",
        "The RX prologue stores the user's head and cur into the kring first, and the "
        "ioctl and poll paths call the driver's rxsync whatever the prologue said. With "
        "reinit adopting in-range values (the finding above), the driver refills "
        "`[hwcur, rhead)` for a "
        "head the kernel never accepted. Drivers guard only against `rhead > N-1`.",
        "The RX prologue validates before storing; the driver still runs after a failed "
        "prologue, but on the kernel's own `rhead`, which the hardened reinit never changes.",
        _any(lambda ob: ob.id == "netmap_rx/prologue-sound-reject/as_shipped",
             _step(("rxsync_as_shipped",), lambda i: not i.endswith("-RANGE"))),
        ("netmap_rx/step/rxsync_as_shipped/NM-RX-PARTITION",),
    ),
    Finding(
        "Legacy drivers checked only cur > N-1",
        ("netmap_ring_reinit (2013)", "ixgbe_netmap_txsync (2013)",
         "ixgbe_netmap_rxsync (2013)"),
        netmap_legacy.LEGACY_FINDING.split("): ", 1)[-1],
        "Before NETMAP_API 10 there was no prologue: the drivers' txsync/rxsync reinit "
        "the ring on `cur > N-1` and otherwise trusted `cur`, `avail` and `reserved`. A "
        "cur behind hwcur makes txsync send `[hwcur, cur)` the long way round the ring, "
        "slots the user never filled and the empty slot included. The arithmetic is "
        "`uint32_t`, so the user then reads a wrapped `avail` such as 2^32 - 5; and on "
        "RX a `reserved` larger than cur + N whose sum with `avail` wraps below N "
        "survives the driver's check, so the release loop never reaches its end and "
        "rxsync does not return (`legacy_rx/total/rxsync`).",
        "The modern prologues validate head and cur against the kernel's window; with the "
        "hardened policy every modern sync keeps every invariant for any user input.",
        lambda ob: ob.machine.startswith("legacy") and ob.kind in ("step", "total"),
        ("legacy_tx/step/txsync/LEG-TX-ONE-SLOT-EMPTY",
         "legacy_rx/step/rxsync/LEG-RX-ONE-SLOT-EMPTY"),
    ),
)


def upstream(f: Finding) -> str:
    """The C the finding is about, as pinned links."""
    return ", ".join(sources.link(name) for name in f.ref)


# ---------------------------------------------------------------------------- replays


def replay_code(row: Row) -> str:
    """A snippet that replays the counterexample of ``row`` on the concrete model."""
    ob = row.obligation
    machine = machine_by_name(ob.machine)
    sym = machine_symbol(machine)
    pre = state_literal(machine, row.counterexample["pre"])
    head = [f"from model import {sym}", state_import(machine)]
    if ob.kind == "step":
        args = row.counterexample.get("args", {})
        call = ", ".join(["pre", *[f"{k}={v}" for k, v in args.items()]])
        lines = [
            f"pre = {pre}",
            f'print("kernel invariants violated before:", {sym}.violated(pre, user_view=False))',
            f'step = {sym}.transitions["{ob.transition}"]({call})',
            'print("guard:", step.guard)',
            'print("post:", step.post)',
            f'print("violated after:", {sym}.violated(step.post))',
        ]
        other = ob.transition.replace("as_shipped", "hardened")
        if other != ob.transition and other in machine.transitions:
            lines += [
                f'hardened = {sym}.transitions["{other}"]({call})',
                'print("hardened post:", hardened.post)',
                f'print("hardened violates:", {sym}.violated(hardened.post))',
            ]
        return "\n".join([*head, "", *lines]) + "\n"
    prologue = PROLOGUES[machine.name].__name__
    head[1] = ("from model.netmap_ring import AS_SHIPPED, HARDENED, NetmapRing, "
               f"caller_accepts, {prologue}"
               + (", netmap_ring_reinit" if ob.kind != "prologue-sound-accept" else ""))
    lines = [f"pre = {pre}", "for policy in (AS_SHIPPED, HARDENED):",
             f"    ret, after = {prologue}(policy, pre)",
             "    accepted = caller_accepts((ret, after))  # the callers' ret < N"]
    if ob.kind == "prologue-sound-accept":
        lines += [
            '    print(policy, "accepted:", accepted)',
            "    if accepted:",
            '        print("  after the prologue:", after)',
            f'        print("  kernel invariants violated:", {sym}.violated(after, '
            "user_view=False))",
        ]
    elif ob.kind.startswith("prologue-reject-keeps"):
        lines += [
            '    print(policy, "returned:", ret, "accepted:", accepted)',
            '    print("  after the prologue:", after)',
            '    print("  after reinit:", netmap_ring_reinit(policy, after))',
        ]
    else:
        lines += [
            "    repaired = netmap_ring_reinit(policy, after)",
            '    print(policy, "accepted:", accepted)',
            '    print("  after reinit:", repaired)',
            f'    print("  violated:", {sym}.violated(repaired))',
        ]
    return "\n".join([*head, "", *lines]) + "\n"


def replay(row: Row) -> str:
    code = replay_code(row)
    return "\n\n".join([
        md.code(code, "python"),
        "Output (computed when these pages were generated):",
        md.code(run_snippet(code)),
    ])


# ---------------------------------------------------------------------------- §7.2 example

EXAMPLE_72 = NetmapRing(
    n=8, head=5, cur=5, tail=1, hwcur=5, hwtail=1, rhead=5, rcur=5, rtail=1, nic=2, busy=3
)

EXAMPLE_72_CODE = f"""from model import TX
from model.netmap_ring import AS_SHIPPED, HARDENED, NetmapRing, caller_accepts, nm_txsync_prologue

kring = {state_literal(TX, {k: getattr(EXAMPLE_72, k) for k in EXAMPLE_72.__dataclass_fields__})}
print("violated before:", TX.violated(kring))
syncs = {{AS_SHIPPED: TX.transitions["txsync_as_shipped"],
          HARDENED: TX.transitions["txsync_hardened"]}}
for policy, txsync in syncs.items():
    s = kring.replace(head=3, cur=3, tail=2)  # the user writes head=3, tail=2
    print(policy)
    for sync in (1, 2):
        accepted = caller_accepts(nm_txsync_prologue(policy, s))
        post = txsync(s, sent=s.n).post  # the driver sends everything it may
        handed = [(s.hwcur + i) % s.n for i in range((post.hwcur - s.hwcur) % s.n)]
        print(f"  sync #{{sync}}: accepted={{accepted}}, slots handed to the NIC: {{handed}}")
        print(f"    {{post}}")
        print(f"    violated: {{TX.violated(post)}}")
        s = post
"""


def _example_72() -> list[str]:
    return [
        "### Worked example: the driver walks hwcur -> rhead",
        "A TX ring with N = 8, hwcur = 5, hwtail = 1. The user owns slots 5, 6, 7, 0; slot "
        "1 is the empty slot and the NIC still owns the in-flight slots:",
        ownership.picture(EXAMPLE_72, tx_regions),
        "The user writes head = 3 (inside the in-flight zone) and tail = 2, then calls "
        "txsync twice. Run on the model, both policies:",
        md.code(EXAMPLE_72_CODE, "python"),
        "Output (computed when these pages were generated):",
        md.code(run_snippet(EXAMPLE_72_CODE)),
        "As shipped, sync #1 is rejected but the kring adopts rhead = 3, rtail = 2; sync #2 "
        "is then accepted and the driver walks from hwcur = 5 to rhead = 3, handing the "
        "empty slot and slots the NIC still owns to the NIC again. Hardened, sync #1 "
        "restores the user's view from the kring and sync #2 has nothing to send.",
    ]


# ---------------------------------------------------------------------------- page


def _section(f: Finding, rows: list[Row], ev: Evidence) -> list[str]:
    counterparts = []
    for r in rows:
        other = ev.by_id.get(r.id.replace("as_shipped", "hardened"))
        if other is not None and other.id != r.id and other not in counterparts:
            counterparts.append(other)
    out = [
        f"## {f.title}",
        f"_Upstream: {upstream(f)}._ {f.explain}",
        f"**Hardened policy.** {f.hardened}"
        + (" Its obligations:" if counterparts else ""),
    ]
    if counterparts:
        out.append(common.obligation_table(counterparts))
    out += ["**Refuted obligations** (expected: they are the finding):",
            common.obligation_table(rows)]
    for oid in f.replay:
        row = ev.by_id[oid]
        out += [f"### Replay: `{oid}`", common.counterexample(row.counterexample), replay(row)]
    rest = [r for r in rows if r.id not in f.replay]
    if rest:
        body = "\n\n".join(f"`{r.id}`\n\n{common.counterexample(r.counterexample)}"
                           for r in rest)
        out.append(md.details("Counterexamples of the other refuted obligations", body))
    return out


def render(ev: Evidence) -> str:
    body = [
        "The model follows the shipped C code where it is looser than its documentation, "
        "and the proofs are expected to refute exactly the obligations below: each row is "
        "part of a passing `ringspec prove`. Every counterexample is the solver's model "
        "from the proof run; every trace is a snippet run against the concrete model when "
        "these pages were generated, with its output printed verbatim. Paste a snippet "
        "into `python` at the repository root to replay it.",
    ]
    covered: set[str] = set()
    for f in FINDINGS:
        rows = [r for r in ev.findings if f.match(r.obligation)]
        covered.update(r.id for r in rows)
        body += _section(f, rows, ev)
        if f.ref == ("netmap_ring_reinit",):
            body += _example_72()
    rest = [r for r in ev.findings if r.id not in covered]
    if rest:
        body += ["## Other refuted obligations", common.obligation_table(rest)]
        body += [f"`{r.id}`\n\n{common.counterexample(r.counterexample)}" for r in rest]
    return md.page("Findings", common.nav("findings.md"), body)
