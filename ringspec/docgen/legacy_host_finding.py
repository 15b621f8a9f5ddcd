"""The findings page's section on the 2013 host rings (model.netmap_legacy_host): the
story, two worked examples run on the model, and the refuted obligations."""

from __future__ import annotations

from model import LEGACY_FWD, LEGACY_HOST_RX, LEGACY_HOST_TX, sources
from model.netmap_legacy_host import grab_end, grab_ends, legacy_host_rx_init, legacy_host_tx_init
from proofs.obligations import Obligation
from ringspec.docgen.evidence import Row
from ringspec.docgen.scenario import Action, Scenario, run
from ringspec.docgen.scenario import table as scenario_table

TITLE = "The 2013 host rings trust the user's reserved"
SUMMARY = ("on netmap of 2013, a nonzero reserved on the host TX ring sends unpublished "
           "slots up the stack, skips published ones or never returns; a crafted "
           "reserved and avail on the host RX ring put nr_hwcur past the ring.")

TX_EXAMPLE = Scenario("finding-legacy-host-tx", LEGACY_HOST_TX, legacy_host_tx_init(8), (
    Action("the user fills 3 slots and publishes them (cur = 3)", "host_tx_fill", {"k": 3}),
    Action("it marks the last 2 as held: reserved = 2, as netmap.h describes the field",
           "host_tx_write", {"c": 3, "r": 2}),
    Action("NIOCTXSYNC: netmap_grab_packets walks from hwcur to cur + reserved = 5",
           "txsync_to_host_as_shipped"),
))

#: reserved = 2^32 - 3 and avail = 5: their u32 sum is 2, below N, so reserved is kept
RX_EXAMPLE = Scenario("finding-legacy-host-rx", LEGACY_HOST_RX, legacy_host_rx_init(8), (
    Action("the stack sends a packet; netmap_transmit copies it into the ring",
           "transmit_2013", {"fits": 1}),
    Action("a second packet", "transmit_2013", {"fits": 1}),
    Action("a third packet", "transmit_2013", {"fits": 1}),
    Action("the user writes avail = 5 and reserved = 2^32 - 3 (cur stays 0)",
           "host_rx_write", {"c": 0, "a": 5, "r": 2**32 - 3}),
    Action("NIOCRXSYNC: the release point cur + N - reserved wraps to 11",
           "rxsync_from_host_as_shipped"),
    Action("the stack sends a packet: nr_hwavail >= N - 1, dropped", "transmit_2013",
           {"fits": 1}),
))


#: every C line the story cites
CODE = ("netmap_grab_packets (2013)", "netmap_grab_packets (2013, k += n)",
        "netmap_txsync_to_host (2013)", "netmap_rxsync_from_host (2013)",
        "netmap_rxsync_from_host (2013, nr_hwavail -= n)", "netmap_transmit (2013, ring full)",
        "netmap_sw_to_nic (2013, slot[nr_hwcur])", "netmap_poll (2013, NR_FORWARD)")


def matches(ob: Obligation) -> bool:
    return (ob.machine in (LEGACY_HOST_TX.name, LEGACY_HOST_RX.name, LEGACY_FWD.name)
            and ob.kind != "mutant")


def section(rows: list[Row], refuted: str) -> list[str]:
    """The section: story, the two examples, the evidence (``refuted`` renders it)."""
    tx = run(TX_EXAMPLE)
    rx = run(RX_EXAMPLE)
    sent, after = tx[-1].before, tx[-1].after
    wild = rx[-2].after
    hang = legacy_host_tx_init(8).replace(cur=6, reserved=2)
    return [
        f"## {TITLE}",
        "**Who can trigger it:** on netmap before 2014, a process with the host rings "
        "bound (`NETMAP_SW_RING`) that writes `reserved` -- a field netmap.h told users "
        "to increment for slots they hold -- or, on the host RX ring, crafts `reserved` "
        "and `avail` together. **What goes wrong:** on the host TX ring, "
        f"{sources.link('netmap_grab_packets (2013)', 'netmap_grab_packets')} means to "
        "walk from hwcur to `cur - reserved`, but computes "
        f"{sources.link('netmap_grab_packets (2013, k += n)', 'k += n')}: the end is "
        "`cur + reserved` (plus N when cur < reserved). "
        f"{sources.link('netmap_txsync_to_host (2013)', 'netmap_txsync_to_host')} then "
        "sets hwcur = cur. So the stack receives up to `reserved` slots the user has not "
        "published (below), or, when hwcur lies just past cur, fewer than published, and "
        "the rest are jumped over for good. When `cur + reserved >= N` the end is not a "
        "slot and the walk never meets it: the ioctl copies every slot with a valid "
        "length into new mbufs, round and round, until `m_devget` fails, then floods the "
        f"stack with the copies; with no valid length it never returns (e.g. cur = "
        f"{hang.cur}, reserved = {hang.reserved} on 8 slots: the end is "
        f"{grab_end(hang.cur, hang.reserved, 8)}, "
        f"{'a slot' if grab_ends(hang) else 'not a slot, and the walk never ends'}). "
        "On the host RX ring, "
        f"{sources.link('netmap_rxsync_from_host (2013)', 'netmap_rxsync_from_host')} "
        "checks only `cur >= N` and `reserved + avail >= N` in u32, then "
        f"{sources.link('netmap_rxsync_from_host (2013, nr_hwavail -= n)', 'subtracts')} "
        "the release count and stores the release point as `nr_hwcur`, with no test "
        "that either is sane. **How bad:** TX, a local process can make the kernel spin "
        "or exhaust mbufs, and injects unpublished data into the stack. RX, the host "
        "ring is wedged (every packet the stack sends is dropped as if the ring were "
        f"full: {sources.link('netmap_transmit (2013, ring full)', 'netmap_transmit')}) "
        "until the port is registered again, and with transparent mode "
        f"{sources.link('netmap_sw_to_nic (2013, slot[nr_hwcur])', 'netmap_sw_to_nic')}"
        " indexes `slot[nr_hwcur]` past the ring -- a kernel write out of bounds, from "
        "our reading of the C (the model stops at `nr_hwcur` leaving the ring). Today's "
        "netmap walks to `rhead`, which its prologue has validated; this is historical.",
        "**The C:** " + ", ".join(sources.link(name) for name in CODE) + ".",
        "### Example: host TX, reserved = 2",
        scenario_table(TX_EXAMPLE, tx),
        f"The walk covered slots {sent.hwcur} to {grab_end(sent.cur, sent.reserved, 8) - 1}"
        f": `stray = {after.stray}` slots went up that the user never published.",
        "### Example: host RX, a crafted reserved",
        scenario_table(RX_EXAMPLE, rx),
        f"After the sync `nr_hwcur = {wild.hwcur}` on an 8-slot ring and `nr_hwavail = "
        f"{wild.hwavail}`. `impl.netmap.legacy_host` replays both on real rings "
        "(`tests/unit/test_legacy_host.py`), and its stateful test runs it in lockstep "
        "with the model.",
        "**The same walk on hardware RX rings.** With `NR_FORWARD` on an RX ring (or "
        f"`dev.netmap.fwd = 1`), {sources.link('netmap_poll (2013, NR_FORWARD)', 'poll')} "
        "runs netmap_grab_packets on it *before* the ring's rxsync, so before anything "
        "checks cur. There `reserved` is the normal way to hold buffers: a user that has "
        f"read 2 of 4 packets and holds 1 (cur = 2, reserved = 1) gets slots 0 to "
        f"{grab_end(2, 1, 8) - 1} sent up instead of slot 0 alone; the rxsync then "
        "releases only slot 0, so with `dev.netmap.fwd = 1` the next poll sends slots 1 "
        "and 2 up again. A larger reserved reaches slots the NIC owns, and a cur past "
        "the ring -- which the rxsync would have reset -- makes the walk endless. "
        f"The model: [{LEGACY_FWD.title}]({LEGACY_FWD.name}.md) "
        "(`poll_forward_as_shipped` breaks LEG-FWD-ONLY-RELEASED and LEG-FWD-NOT-THE-NICS "
        "and may not return); `impl.netmap.legacy_host.poll_forward_up` replays these "
        "on real rings and agrees with it on generated states "
        "(`tests/unit/test_legacy_fwd.py`).",
        "**The fix (the model's `_hardened` transitions):** on TX ignore `reserved` "
        "(walk to cur -- the comment's `cur - reserved` would still lose the held slots, "
        "the mutant `grab-to-cur-minus-reserved`); on RX accept the release point only "
        "between hwcur and cur, and cur only within hwcur + hwavail, else reinit with "
        "reserved = 0. Both keep every kernel invariant for any user input. The models: "
        f"[{LEGACY_HOST_TX.title}]({LEGACY_HOST_TX.name}.md), "
        f"[{LEGACY_HOST_RX.title}]({LEGACY_HOST_RX.name}.md).",
        refuted,
    ]

