"""The findings page's section on the 2013 host rings (model.netmap_legacy_host): the
story, two worked examples run on the model, and the refuted obligations."""

from __future__ import annotations

from model import LEGACY_FWD, LEGACY_HOST_RX, LEGACY_HOST_TX, LEGACY_SW_TO_NIC, sources
from model.netmap_legacy_host import grab_end, grab_ends, legacy_host_rx_init, legacy_host_tx_init
from model.netmap_legacy_sw_to_nic import sw_to_nic_init
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

#: the RX example one step further: transparent mode's netmap_sw_to_nic on that kring
_TX0 = {"c": 0, "a": 7, "hc": 0, "ha": 7}
S2N_EXAMPLE = Scenario("finding-legacy-sw-to-nic", LEGACY_SW_TO_NIC, sw_to_nic_init(8), (
    Action("the stack sends a packet", "transmit", {"fits": 1}),
    Action("a second packet", "transmit", {"fits": 1}),
    Action("a third packet", "transmit", {"fits": 1}),
    Action("the user writes avail = 5 and reserved = 2^32 - 3 (cur stays 0)",
           "host_rx_write", {"c": 0, "a": 5, "rs": 2**32 - 3}),
    Action("NIOCRXSYNC (2013): nr_hwcur = 11", "rxsync_from_host"),
    Action("poll in transparent mode: netmap_sw_to_nic takes howmany = nr_hwavail, k1 = "
           "TX ring 0 (7 free slots)", "sw_to_nic_as_shipped", _TX0),
    Action("its first swap: slot[nr_hwcur] = slot[11] of the 8-slot host RX ring",
           "sw_to_nic_as_shipped", _TX0),
))

#: two TX rings, TX ring 0 with one free slot: the walk's second k1++
_TX0_ONE = {"c": 0, "a": 1, "hc": 0, "ha": 1}
_HOST_TX = {"c": 0, "a": 7, "hc": 0, "ha": 7}
SKIP_EXAMPLE = Scenario("finding-legacy-sw-to-nic-skip", LEGACY_SW_TO_NIC, sw_to_nic_init(8), (
    Action("the stack sends a packet", "transmit", {"fits": 1}),
    Action("a second packet", "transmit", {"fits": 1}),
    Action("NIOCRXSYNC: avail = 2", "rxsync_from_host"),
    Action("the user reads both and holds none", "host_rx_read", {"k": 2, "keep": 0}),
    Action("poll: the walk starts on TX ring 0, which has 1 free slot", "sw_to_nic_as_shipped",
           _TX0_ONE),
    Action("slot 0 goes to TX ring 0", "sw_to_nic_as_shipped", _TX0_ONE),
    Action("TX ring 0 is full: ring->cur = nr_hwcur, k1++ twice: tx_rings[2], the host TX "
           "ring", "sw_to_nic_as_shipped", _HOST_TX),
    Action("slot 1 goes to the host TX ring", "sw_to_nic_as_shipped", _HOST_TX),
))


#: every C line the story cites
CODE = ("netmap_grab_packets (2013)", "netmap_grab_packets (2013, k += n)",
        "netmap_txsync_to_host (2013)", "netmap_rxsync_from_host (2013)",
        "netmap_rxsync_from_host (2013, nr_hwavail -= n)", "netmap_transmit (2013, ring full)",
        "netmap_sw_to_nic (2013, slot[nr_hwcur])", "netmap_poll (2013, NR_FORWARD)",
        "netmap_sw_to_nic (2013)", "netmap_sw_to_nic (2013, howmany)",
        "netmap_sw_to_nic (2013, k1++)", "netmap_sw_to_nic (2013, ring->cur)",
        "netmap_krings_create (2013)", "netmap_poll (2013, sw_to_nic)")


def matches(ob: Obligation) -> bool:
    return (ob.machine in (LEGACY_HOST_TX.name, LEGACY_HOST_RX.name, LEGACY_FWD.name,
                           LEGACY_SW_TO_NIC.name)
            and ob.kind != "mutant")


def section(rows: list[Row], refuted: str) -> list[str]:
    """The section: story, the two examples, the evidence (``refuted`` renders it)."""
    tx = run(TX_EXAMPLE)
    rx = run(RX_EXAMPLE)
    s2n = run(S2N_EXAMPLE)
    skip = run(SKIP_EXAMPLE)
    swap = s2n[-1].after
    shipped_breaks = set(LEGACY_SW_TO_NIC.transitions["sw_to_nic_as_shipped"].breaks)
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
        " indexes `slot[nr_hwcur]` past the ring -- a kernel write out of bounds (below, "
        "and the next section). Today's netmap walks to `rhead`, which its prologue has "
        "validated; this is historical.",
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
        "**One step further: netmap_sw_to_nic.** In transparent mode "
        f"{sources.link('netmap_poll (2013, sw_to_nic)', 'poll')} ends by calling "
        f"{sources.link('netmap_sw_to_nic (2013)', 'netmap_sw_to_nic')} whenever the host "
        "RX kring has `nr_hwavail > 0`. It takes "
        f"{sources.link('netmap_sw_to_nic (2013, howmany)', 'howmany = nr_hwavail')} -- "
        "every packet the kernel holds, the ones the user has not read or still holds "
        "included, where its comment asks for `cur - reserved - nr_hwcur` -- and swaps "
        "slot `nr_hwcur` of the host RX ring with slot `ring->cur` of a TX ring while the "
        "TX ring's user-written `avail` is positive, checking neither index. After the "
        "RX example above, its first swap indexes "
        f"`slot[{s2n[-2].after.hwcur}]` of the 8-slot "
        "ring (the model counts "
        f"`oob = {swap.oob}`, `lost = {swap.lost}`, `dup = {swap.dup}`: the TX slot's "
        "buffer index is written into foreign memory and a foreign value becomes a TX "
        f"buffer), with `howmany = {s2n[-2].after.howmany}`. Its loop over the TX rings "
        f"{sources.link('netmap_sw_to_nic (2013, k1++)', 'increments k1 twice')}: in "
        f"the one kring array {sources.link('netmap_krings_create (2013)', 'laid out')} "
        "as NIC TX rings, host TX ring, NIC RX rings, host RX ring, iteration i works on "
        "kring 2i, so the odd TX rings are never used and with T TX rings and R RX rings "
        "the walk reaches the host TX ring (2i = T, the packets go back up the stack at "
        "the next txsync), NIC RX rings (T < 2i <= T+R: a host packet replaces the first "
        "unread received one, which the user then skips), the host RX kring itself (2i = "
        "T+R+1) and, when T >= R+4, krings past the array. With 2 TX rings and room for "
        "one packet in TX ring 0, the "
        f"second packet goes to the host TX ring (`misrouted = {skip[-1].after.misrouted}`, "
        f"`skipped = {skip[-1].after.skipped}`). After each ring it sets "
        f"{sources.link('netmap_sw_to_nic (2013, ring->cur)', 'the user cur')} to "
        "`nr_hwcur`, moving it back over the slots the user holds or forward past unread "
        "ones. The model: "
        f"[{LEGACY_SW_TO_NIC.title}]({LEGACY_SW_TO_NIC.name}.md) (`sw_to_nic_as_shipped` "
        f"breaks {len(shipped_breaks)} of its {len(LEGACY_SW_TO_NIC.invariants)} invariants,"
        f" all but {', '.join(sorted(set(LEGACY_SW_TO_NIC.invariants) - shipped_breaks))});"
        " `impl.netmap.legacy_sw_to_nic.sw_to_nic` "
        "does the same on real rings, stops and reports the first access outside an "
        "array, and agrees with the model on generated states "
        "(`tests/unit/test_legacy_sw_to_nic.py`). Hardened, the walk sends only the "
        "released slots after the prologue's checks, into the slots each TX kring counts "
        "free, each NIC TX ring once, and leaves the user's cur alone.",
        "### Example: netmap_sw_to_nic after the crafted reserved",
        scenario_table(S2N_EXAMPLE, s2n),
        "### Example: netmap_sw_to_nic with two TX rings",
        scenario_table(SKIP_EXAMPLE, skip),
        "**The fix (the model's `_hardened` transitions):** on TX ignore `reserved` "
        "(walk to cur -- the comment's `cur - reserved` would still lose the held slots, "
        "the mutant `grab-to-cur-minus-reserved`); on RX accept the release point only "
        "between hwcur and cur, and cur only within hwcur + hwavail, else reinit with "
        "reserved = 0. Both keep every kernel invariant for any user input. The models: "
        f"[{LEGACY_HOST_TX.title}]({LEGACY_HOST_TX.name}.md), "
        f"[{LEGACY_HOST_RX.title}]({LEGACY_HOST_RX.name}.md).",
        refuted,
    ]

