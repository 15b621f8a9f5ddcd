"""The driver author's page: what a native netmap driver's txsync/rxsync must do to the
kring, where hwtail and the NIC's tail register come from, the ``head > lim`` guard,
netmap_reset, lazy TX reclaim, and every ring invariant as a checklist (from the model's
registry)."""

from __future__ import annotations

from model import PENDINTR, WAKE, sources
from model.core import Machine
from model.netmap_ring import (
    AS_SHIPPED,
    RX,
    TX,
    caller_accepts,
    netmap_ring_reinit,
    nm_rxsync_prologue,
    rx_driver_sync,
    tx_driver_sync,
)
from ringspec.docgen import common, md, ownership, pictures, runs

TDT = sources.link("ixgbe_netmap_txsync (TDT)", "TDT")
REFILL = sources.link("ixgbe_netmap_rxsync (refill)", "the loop")
GUARD = sources.link("ixgbe_netmap_rxsync (head > lim)",
                     "if (head > lim) return netmap_ring_reinit(kring)")


def _tx_walk() -> list[str]:
    steps = [("user_advance", {"dh": 6, "dc": 0}), ("txsync_hardened", {"sent": 2}),
             ("device_complete", {"k": 2})]
    before = runs.run(TX, TX.init(8), steps)[-1][1]
    sent = 3
    after = tx_driver_sync(before, sent)
    rows = [("before the driver's txsync (rhead = 6)", before),
            (f"after tx_driver_sync(sent={sent}): hwcur walked {sent} slots, "
             "hwtail = nic - 1", after)]
    return [
        "## txsync: walk hwcur -> rhead, then reclaim",
        f"The driver's txsync ({sources.link('ixgbe_netmap_txsync')} is the reference) "
        "does two things:",
        "1. **Send**: walk the slots from `kring->nr_hwcur` to `kring->rhead` (excluded), "
        "program one NIC descriptor per slot at the NIC index "
        f"{sources.link('netmap_idx_k2n')}(slot), set hwcur to where the walk stopped, and "
        f"write the NIC's tail register from it ({TDT} = k2n(hwcur)). A driver may stop "
        "early (no descriptors, link down); hwcur then lags rhead and the next sync continues.",
        "2. **Reclaim**: read the NIC's head (TDH, or the descriptors' done bits), and set "
        f"{sources.link('ixgbe_netmap_txsync (TDH)', 'hwtail = nm_prev(n2k(TDH))')}: "
        "every slot the NIC finished except the one before its head, which stays the gap.",
        "The walk trusts rhead: it ends only when it reaches it. Everything between hwcur "
        "and rhead must be slots the user published; that is what the prologue checks, "
        "and what the as-shipped reinit can break ([finding](findings.md)). In the model:",
        ownership.quote_doc(tx_driver_sync),
        pictures.figure("driver-tx-walk", rows, "tx", marks=pictures.ALL_MARKS).markdown,
    ]


def _rx_walk() -> list[str]:
    steps = [("device_deliver", {"k": 5}), ("rxsync_hardened", {"refill": 0}),
             ("user_advance", {"dh": 3, "dc": 0}), ("device_deliver", {"k": 1}),
             ("rxsync_hardened", {"refill": 0})]
    before = runs.run(RX, RX.init(8), steps)[-1][1]
    after = rx_driver_sync(before, 8)
    rows = [("before the driver's rxsync", before),
            ("after rx_driver_sync(refill=8): hwtail = nic, hwcur = rhead", after)]
    return [
        "## rxsync: report, then refill up to one slot short",
        f"The driver's rxsync ({sources.link('ixgbe_netmap_rxsync')}):",
        "1. **Report**: scan the NIC's descriptors from the first unreported one for done "
        "bits, fill in each slot's len, and advance `nr_hwtail` past them (in the model, "
        "hwtail = nic).",
        f"2. **Refill**: walk [hwcur, rhead) ({REFILL}), "
        "re-post each buffer to the NIC, set hwcur = rhead, and write the NIC's tail "
        f"register **one slot short** ({sources.link('ixgbe_netmap_rxsync (RDT)', 'RDT')} "
        "= k2n(hwcur) - 1): slot hwcur-1 is the gap, never given to the NIC, so the NIC can "
        "never fill a slot the user still holds.",
        ownership.quote_doc(rx_driver_sync),
        pictures.figure("driver-rx-walk", rows, "rx", marks=pictures.ALL_MARKS).markdown,
    ]


def _guard_count(n: int = 4) -> tuple[int, int]:
    """(states checked, states where rhead > N-1 after the as-shipped RX prologue and
    reinit): every reachable RX state of ``n`` slots, every head and cur the user may write
    in 0 .. n+1 (values >= n included)."""
    checked = bad = 0
    for s in runs.reachable(RX, n):
        for head in range(n + 2):
            for cur in range(n + 2):
                t = s.replace(head=head, cur=cur)
                ret, stored = nm_rxsync_prologue(AS_SHIPPED, t)
                ok = caller_accepts((ret, stored))
                after = stored if ok else netmap_ring_reinit(AS_SHIPPED, stored)
                checked += 1
                bad += after.rhead > n - 1
    return checked, bad


def _guard() -> list[str]:
    checked, bad = _guard_count()
    return [
        "## The `head > lim` guard",
        f"ixgbe's rxsync starts with {GUARD}, "
        "and ENA's rxsync carries the same test. The reason: the as-shipped RX prologue "
        "stores the user's head into `kring->rhead` *before* it validates it, and "
        "netmap_ioctl calls the driver's rxsync even after a failed prologue. On that path "
        "the guard does not fire today: an accepted head is < N, and reinit resets any "
        "index >= N to hwcur (and adopts only in-range ones). Computed on the model: "
        f"{checked} prologue runs (every reachable RX state of 4 slots, every head and cur "
        f"in 0 .. 5): rhead > N-1 after the prologue and reinit in {bad} of them. Keep the "
        "guard anyway: it is one comparison, and the driver's walk to rhead would run off "
        "the ring without it if a caller ever skipped the prologue.",
    ]


def _reset() -> list[str]:
    rows = ownership.reset_rows(TX, ownership.TX_RESET)
    fig = pictures.figure("ownership-tx-reset", rows, "tx", marks=pictures.ALL_MARKS)
    return [
        "## netmap_reset: what it returns and what it commits",
        f"A driver that reinitialises a NIC ring calls {sources.link('netmap_reset')}"
        "(na, tx, ring, new_cur) and programs the NIC from the slot array it returns:",
        f"- **NULL, nothing changed**: the adapter is not in native netmap mode "
        f"({sources.link('nm_native_on')} is false), or the ring index is out of range. "
        "Reinitialise the ring the normal (non-netmap) way.",
        "- **NULL, ring leaving netmap mode**: the ring's pending mode is off (its last "
        "user unbound it); netmap_reset only sets `nr_mode = NKR_NETMAP_OFF` "
        f"({sources.link('netmap_reset (nr_mode off)', 'here')}) and the driver must "
        "reinitialise the ring the normal way.",
        "- **the slots**: it committed hwcur = rhead, hwtail (TX: nm_prev(rhead); RX: "
        "unchanged) and `nkr_hwofs` (TX: rhead; RX: hwtail), so that the NIC's slot 0 is "
        "netmap slot hwofs; set `nr_mode = NKR_NETMAP_ON` and woke the ring's waiters "
        f"({sources.link('netmap_reset (commit)', 'here')}). `new_cur` is ignored. From "
        f"now on translate with {sources.link('netmap_idx_k2n')} / "
        f"{sources.link('netmap_idx_n2k')}. On TX post no descriptors (everything pending "
        "counts as sent); on RX post buffers for the slots the kernel owns, never for "
        "[rhead, hwtail), which the user still holds.",
        "On TX every pending and in-flight slot counts as sent and is returned to the "
        "user at the next sync (the picture and the diagrams are on the "
        "[ownership page](ownership.md#netmap_reset-on-tx)):",
        fig.markdown,
        ownership.quote_transition(TX, "netmap_reset"),
        ownership.quote_transition(RX, "netmap_reset"),
    ]


def _lazy_reclaim() -> list[str]:
    return [
        "## Lazy TX reclaim",
        f"netmap_ioctl passes {sources.link('NAF_FORCE_RECLAIM')} to txsync "
        f"({sources.link('netmap_ioctl (NIOCTXSYNC)', 'NIOCTXSYNC')}); poll does not "
        f"({sources.link('netmap_poll (txsync flags)', 'netmap_poll')}). A driver may then "
        "skip the expensive reclaim while the ring still has room: ixgbe reclaims only "
        f"when forced or when {sources.link('nm_kr_txempty')} (rhead == hwtail, the ring "
        f"is full) ({sources.link('ixgbe_netmap_txsync (reclaim)', 'the test')}). That is "
        "legal (hwtail may lag the NIC; it never runs ahead), but then a poll-driven "
        "application sees tail move only when the ring fills up. The ring model's own "
        "syncs reclaim every time, as NIOCTXSYNC does; poll's model "
        "(`model/netmap_poll.py`, `tx_reclaims`) has the lazy test, and it is a finding: "
        "a caller that keeps free slots and sets cur = tail sleeps while completed slots "
        "wait ([poll() on a ring](poll.md)). Reclaim when the caller would block "
        "(`nm_kr_wouldblock`, rcur == hwtail) instead. On RX, "
        f"{sources.link('NAF_FORCE_READ')} plays the same role for reporting packets: "
        "see the next section.",
    ]


def _interrupts() -> list[str]:
    return [
        "## Interrupts and NKR_PENDINTR",
        "The driver's interrupt handler calls `netmap_rx_irq` / `netmap_tx_irq`; for a "
        f"ring in netmap mode {sources.link('netmap_common_irq')} sets `NKR_PENDINTR` "
        "(RX) and notifies the ring, which wakes the descriptors asleep on it: the ring's "
        "own selinfo and, while a descriptor bound to several rings is registered, the "
        f"adapter's global one ({sources.link('netmap_notify')}; "
        f"[poll() wake-ups]({WAKE.name}.md)).",
        "With `dev.netmap.no_pendintr=0` your rxsync reads the NIC only when the caller "
        "passed NAF_FORCE_READ (NIOCRXSYNC does, poll() does not) or `NKR_PENDINTR` is "
        "set. **Clear `NKR_PENDINTR` before you read the NIC's descriptors, not after**: "
        "every native driver at the pinned commit clears it after its read loop "
        f"({sources.link('ixgbe_netmap_rxsync (NKR_PENDINTR clear)', 'ixgbe')}), so a "
        "frame that lands behind the loop and interrupts before the clear loses its "
        "interrupt, and poll() leaves it in the ring until the next frame "
        f"({md.link('the finding', 'findings.md', common.PENDINTR_FINDING)}; "
        f"[the model]({PENDINTR.name}.md)). The invariants to keep:",
        _checklist(PENDINTR),
    ]


def _checklist(machine: Machine) -> str:
    page = f"{machine.name}.md"
    lines = []
    for inv in machine.invariants.values():
        broken_by = sorted(t.name for t in machine.transitions.values() if inv.id in t.breaks)
        note = (f" As shipped, {', '.join(md.tick(t) for t in broken_by)} can break it "
                "(see [findings](findings.md))." if broken_by else "")
        who = "holds while the user behaves; every sync restores it" if inv.scope == "user" \
            else "must hold always, whatever the user writes"
        lines.append(f"- [ ] {md.link(md.tick(inv.id), page, inv.id)} ({who}): "
                     f"{inv.sentence}{note}")
    return "\n".join(lines)


def render() -> str:
    body = [
        "What a native netmap driver's `nm_txsync` / `nm_rxsync` and its reset path must "
        "do to keep the ring correct, read against the model. Pointers: `hwcur`, "
        "`hwtail` are the driver's to move; `rhead`, `rcur`, `rtail` are set by the "
        "prologue and finalize around it; `nic` is the NIC's head register (TDH/RDH) "
        "in kring indices. The picture legend and the regions are explained on the "
        "[ownership page](ownership.md).",
        *_tx_walk(),
        *_rx_walk(),
        *_guard(),
        *_reset(),
        *_lazy_reclaim(),
        *_interrupts(),
        "## Checklist: the ring invariants a driver must keep",
        "Generated from the model's invariant registry; the proofs check each one for "
        "every transition and every ring size.",
        "### TX",
        _checklist(TX),
        "### RX",
        _checklist(RX),
    ]
    return md.page("For driver authors", common.nav("driver.md"), body)
