"""What each area page has beyond its machine: the one piece of per-area code, a worked
example (a legal history from the initial ring, run on the model when the page is made).

Everything else an area page shows is read off the machine (:mod:`machine_page`), so a new
area (ENA queues, the netmap system) needs an entry here and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model import (
    ADAPTERS,
    FORWARD,
    HOST_FWD,
    HOST_RX,
    HOST_TX,
    KR_BUSY,
    LEGACY_FWD,
    LEGACY_HOST_RX,
    LEGACY_HOST_TX,
    LEGACY_RX,
    LEGACY_SW_TO_NIC,
    LEGACY_TX,
    PENDINTR,
    REGIF,
    RING_LIFE,
    RX,
    SWITCH_RX_CLASSIC,
    SWITCH_RX_RFC,
    SWITCH_TX_CLASSIC,
    SWITCH_TX_RFC,
    TX,
    WAKE,
)
from model.netmap_adapter_select import adapters_init
from model.netmap_forward import forward_init
from model.netmap_host import host_rx_init, host_tx_init
from model.netmap_host_fwd import host_fwd_init
from model.netmap_kr_busy import kr_busy_init
from model.netmap_legacy_fwd import legacy_fwd_init
from model.netmap_legacy_host import legacy_host_rx_init, legacy_host_tx_init
from model.netmap_legacy_sw_to_nic import sw_to_nic_init
from model.netmap_pendintr import pendintr_init
from model.netmap_regif import init as regif_init
from model.netmap_ring import (
    AS_SHIPPED,
    POLICIES,
    PROLOGUES,
    caller_accepts,
    netmap_ring_reinit,
)
from model.netmap_ring_lifetime import ring_life_init
from model.netmap_state import rx_regions, tx_regions
from model.netmap_switch import init as switch_init
from model.netmap_switch_tx import init as switch_tx_init
from model.netmap_wakeup import wake_init
from ringspec.docgen import common, md, switch_pictures
from ringspec.docgen.scenario import Action, Scenario

#: A named subterm: (name, function of a state giving the term), see :class:`Area`.
Named = tuple[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class Area:
    """``regions``: the model's region-size function of the area's states (the pictures
    and the region table use it), or None; ``example``: a legal history, or None;
    ``named``: subterms the formulas and pseudocode print by name, each computed by the
    model's own function (a name may stand for several terms, e.g. the verdict of either
    policy's prologue), and ``named_doc`` what they are; ``picture``: how to draw the
    example's states (``picture(name, rows, machine)``) when they are not ring states."""

    regions: Callable[[Any], dict[str, Any]] | None = None
    example: Scenario | None = None
    example_title: str = ""
    named: tuple[Named, ...] = ()
    named_doc: str = ""
    picture: Callable[[str, Any, Any], Any] | None = None


def _if_condition(term: Any) -> Any:
    """The condition of an ``If`` term (symbolic states only; concrete ones have none)."""
    return term.arg(0) if hasattr(term, "arg") else term


def _prologue_names(machine_name: str) -> tuple[Named, ...]:
    """``passes``: no NM_FAIL_ON fired (the prologue returns head, else N); ``accepted``:
    the callers' ``ret < N``; ``errors``: as-shipped reinit's test, on the kring the
    as-shipped prologue left.  Each policy's terms share the name."""
    prologue = PROLOGUES[machine_name]
    return (
        *(("passes", lambda s, p=p: _if_condition(prologue(p, s)[0])) for p in POLICIES),
        *(("accepted", lambda s, p=p: caller_accepts(prologue(p, s))) for p in POLICIES),
        ("errors", lambda s: _if_condition(
            netmap_ring_reinit(AS_SHIPPED, prologue(AS_SHIPPED, s)[1]).head)),
    )


_NETMAP_NAMED_DOC = (
    "`passes` says no `NM_FAIL_ON` test of the sync prologue fired (it then returns head, "
    "else N), `accepted` is the callers' test on that return value, `ret < N` (each of the "
    "step's policy), and `errors` is as-shipped `netmap_ring_reinit`'s test for an index "
    "above N-1."
)


AREAS: dict[str, Area] = {
    TX.name: Area(
        tx_regions,
        Scenario("area-netmap-tx", TX, TX.init(8), (
            Action("the application fills 5 slots and publishes them", "user_advance",
                   {"dh": 5, "dc": 0}),
            Action("NIOCTXSYNC: the driver hands 3 of them to the NIC", "txsync_as_shipped",
                   {"sent": 3}, short="NIOCTXSYNC, 3 sent"),
            Action("the NIC completes 2", "device_complete", {"k": 2}),
            Action("NIOCTXSYNC: the other 2 go out, completions are reclaimed",
                   "txsync_as_shipped", {"sent": 8}, short="NIOCTXSYNC, reclaim"),
            Action("the application fills 1 more and asks to wait 1 slot further",
                   "user_advance", {"dh": 1, "dc": 1}, short="user_advance(1, 1)"),
        )),
        "Example: an 8-slot TX ring from netmap_krings_create",
        _prologue_names(TX.name),
        _NETMAP_NAMED_DOC,
    ),
    RX.name: Area(
        rx_regions,
        Scenario("area-netmap-rx", RX, RX.init(8), (
            Action("the NIC receives 5 packets", "device_deliver", {"k": 5}),
            Action("NIOCRXSYNC: the driver reports them", "rxsync_as_shipped",
                   {"refill": 0}, short="NIOCRXSYNC, report"),
            Action("the application reads 2, releases them, waits for 1 more",
                   "user_advance", {"dh": 2, "dc": 1}, short="user_advance(2, 1)"),
            Action("NIOCRXSYNC: the 2 released slots go back to the NIC",
                   "rxsync_as_shipped", {"refill": 8}, short="NIOCRXSYNC, refill"),
            Action("the NIC receives 1 more", "device_deliver", {"k": 1}),
        )),
        "Example: an 8-slot RX ring from netmap_krings_create",
        _prologue_names(RX.name),
        _NETMAP_NAMED_DOC,
    ),
    LEGACY_TX.name: Area(
        None,
        Scenario("area-legacy-tx", LEGACY_TX, LEGACY_TX.init(8), (
            Action("the application fills 3 slots (cur += 3, avail -= 3)", "user_fill",
                   {"k": 3}, short="user_fill(3)"),
            Action("txsync sends [hwcur, cur)", "txsync"),
            Action("the NIC completes 2", "device_complete", {"k": 2}),
            Action("txsync reclaims them", "txsync"),
        )),
        "Example: an 8-slot legacy TX ring",
    ),
    LEGACY_RX.name: Area(
        None,
        Scenario("area-legacy-rx", LEGACY_RX, LEGACY_RX.init(8), (
            Action("the NIC receives 4 packets", "device_deliver", {"k": 4}),
            Action("rxsync reports them (avail = 4)", "rxsync", short="rxsync"),
            Action("the application reads 3 and keeps 1 (reserved = 1)", "user_read",
                   {"k": 3, "keep": 1}, short="user_read(3, keep=1)"),
            Action("rxsync gives the 2 released slots back", "rxsync", short="rxsync"),
        )),
        "Example: an 8-slot legacy RX ring",
    ),
    LEGACY_HOST_TX.name: Area(
        None,
        Scenario("area-legacy-host-tx", LEGACY_HOST_TX, legacy_host_tx_init(8), (
            Action("the application fills 3 slots for the stack (cur = 3)", "host_tx_fill",
                   {"k": 3}, short="host_tx_fill(3)"),
            Action("NIOCTXSYNC: [hwcur, cur) goes up the stack, hwcur = cur, avail = N-1",
                   "txsync_to_host_as_shipped", short="txsync_to_host"),
            Action("it fills 6 more, round the end of the ring", "host_tx_fill", {"k": 6},
                   short="host_tx_fill(6)"),
            Action("NIOCTXSYNC sends them up", "txsync_to_host_as_shipped",
                   short="txsync_to_host"),
        )),
        "Example: an 8-slot legacy host TX ring (reserved = 0)",
    ),
    LEGACY_HOST_RX.name: Area(
        None,
        Scenario("area-legacy-host-rx", LEGACY_HOST_RX, legacy_host_rx_init(8), (
            Action("the stack sends a packet: copied into slot 0", "transmit_2013",
                   {"fits": 1}),
            Action("a second one, into slot 1", "transmit_2013", {"fits": 1}),
            Action("one longer than a buffer: dropped", "transmit_2013", {"fits": 0}),
            Action("NIOCRXSYNC: avail = 2", "rxsync_from_host_as_shipped",
                   short="rxsync_from_host"),
            Action("the application reads both and keeps 1 (reserved = 1)", "host_rx_read",
                   {"k": 2, "keep": 1}, short="host_rx_read(2, keep=1)"),
            Action("NIOCRXSYNC takes back the released slot", "rxsync_from_host_as_shipped",
                   short="rxsync_from_host"),
        )),
        "Example: an 8-slot legacy host RX ring",
    ),
    LEGACY_FWD.name: Area(
        None,
        Scenario("area-legacy-rx-forward", LEGACY_FWD, legacy_fwd_init(8), (
            Action("the NIC receives 4 packets", "deliver", {"k": 4}),
            Action("the application reads 3 and holds 1 of them (reserved = 1)",
                   "user_read", {"k": 3, "keep": 1}, short="user_read(3, keep=1)"),
            Action("poll, hardened: the walk sends up the 2 released slots",
                   "poll_forward_hardened", short="walk (hardened)"),
            Action("the rxsync gives them back to the NIC", "release"),
        )),
        "Example: transparent mode on an 8-slot legacy RX ring",
    ),
    LEGACY_SW_TO_NIC.name: Area(
        None,
        Scenario("area-legacy-sw-to-nic", LEGACY_SW_TO_NIC, sw_to_nic_init(8), (
            Action("the stack sends 3 packets: copied into host RX slots 0 to 2",
                   "transmit", {"fits": 1}, short="transmit"),
            Action("a second one", "transmit", {"fits": 1}, short="transmit"),
            Action("a third one", "transmit", {"fits": 1}, short="transmit"),
            Action("NIOCRXSYNC: avail = 3", "rxsync_from_host"),
            Action("the application reads all 3 and holds the last (reserved = 1)",
                   "host_rx_read", {"k": 3, "keep": 1}, short="host_rx_read(3, keep=1)"),
            Action("poll, hardened walk: howmany = the 2 released slots; k1 = TX ring 0, "
                   "whose kring has 7 free slots", "sw_to_nic_hardened",
                   {"c": 0, "a": 7, "hc": 0, "ha": 7}, short="walk starts"),
            Action("slot 0's buffer swapped into TX slot 0", "sw_to_nic_hardened",
                   {"c": 0, "a": 7, "hc": 0, "ha": 7}, short="swap"),
            Action("slot 1's buffer swapped into TX slot 1", "sw_to_nic_hardened",
                   {"c": 0, "a": 7, "hc": 0, "ha": 7}, short="swap"),
            Action("nothing left: the walk ends without touching the user's cur",
                   "sw_to_nic_hardened", {"c": 0, "a": 7, "hc": 0, "ha": 7},
                   short="walk ends"),
        )),
        "Example: transparent mode, 8-slot host RX ring, 2 TX rings (hardened walk)",
    ),
    REGIF.name: Area(
        None,
        Scenario("area-regif", REGIF, regif_init(8), (
            Action("process A opens the port bound to this ring: krings created, the "
                   "interface intercepted, the ring switched", "regif_this"),
            Action("process B binds another ring of the same port", "regif_other"),
            Action("process C asks for this ring with NR_EXCLUSIVE: EBUSY",
                   "regif_this_exclusive"),
            Action("A closes: the ring's last user is gone, so nm_register(na, 0) switches "
                   "it back while B keeps the interface in netmap", "unregif_this"),
            Action("B closes: the last handle; native flags cleared, krings deleted",
                   "unregif_other"),
        )),
        "Example: three processes on one port",
    ),
    ADAPTERS.name: Area(
        None,
        Scenario("area-adapters", ADAPTERS, adapters_init(8), (
            Action("process A binds the port: the native adapter, configuration 0",
                   "register"),
            Action("the driver changes its rings (configuration 1)", "reconfigure",
                   {"config": 1}),
            Action("the admin sets dev.netmap.admode=2 (generic)", "set_admode",
                   {"value": 2}),
            Action("process B binds the port: A still uses the native adapter, so B shares "
                   "it, configuration still 0", "register", short="B binds"),
            Action("A closes", "close"),
            Action("B closes: nobody uses the interface", "close", short="B closes"),
            Action("process C binds under generic: a generic adapter is created with "
                   "configuration 1, the native one set aside", "register",
                   short="C binds: generic"),
            Action("C closes: the generic adapter goes, the native one comes back",
                   "close"),
        )),
        "Example: admode and configuration changes while the port is in use",
    ),
    RING_LIFE.name: Area(
        None,
        Scenario("area-ring-lifetime", RING_LIFE, ring_life_init(8), (
            Action("the NIC delivers 3 frames and the reader's rxsync shows them",
                   "deliver", {"k": 3}),
            Action("the reader releases 1", "release", {"k": 1}),
            Action("it closes; another handle keeps the adapter: the ring goes, the "
                   "kring stays", "last_user_leaves"),
            Action("a new reader binds the ring: new buffers, and (hardened) the "
                   "kring's indices of a new kring", "bind_hardened",
                   short="bind (hardened)"),
        )),
        "Example: an 8-slot RX ring closed with 2 unread frames and bound again",
    ),
    KR_BUSY.name: Area(
        None,
        Scenario("area-kr-busy", KR_BUSY, kr_busy_init(8), (
            Action("thread a: nkr_stopped is 0", "a_first_check"),
            Action("thread b: nkr_stopped is 0", "b_first_check"),
            Action("a's test-and-set finds nr_busy clear: a owns the ring", "a_test_and_set"),
            Action("b's test-and-set finds it set", "b_test_and_set"),
            Action("the driver starts a reset: nm_kr_stop sets nkr_stopped", "stop_flag"),
            Action("a reads nkr_stopped again: set, so a releases the bit and returns "
                   "NM_KR_STOPPED (the ioctl: EIO)", "a_second_check",
                   short="a: NM_KR_STOPPED"),
            Action("b reads it too: NM_KR_STOPPED, not NM_KR_BUSY", "b_second_check",
                   short="b: NM_KR_STOPPED"),
            Action("nm_kr_stop's test-and-set now finds the bit clear: the ring is stopped",
                   "stop_owns"),
            Action("nm_kr_start clears nkr_stopped", "start_flag"),
            Action("and the bit: the ring runs again", "start_put"),
        )),
        "Example: two syncs and a stop racing on one ring",
    ),
    SWITCH_RX_CLASSIC.name: Area(
        None,
        Scenario("area-switch-classic", SWITCH_RX_CLASSIC, switch_init(8), (
            Action("normal mode: 3 frames arrive and sit in mbufs", "wire", {"k": 3, "j": 0}),
            Action("NIOCREGIF: down, flush, swap in netmap buffers, restart", "regif_classic"),
            Action("2 frames arrive while autonegotiation runs", "wire", {"k": 2, "j": 0}),
            Action("the link comes back", "link_up"),
            Action("4 frames arrive in netmap buffers", "wire", {"k": 4, "j": 0}),
            Action("rxsync reports them", "harvest", {"k": 8, "j": 0}),
            Action("close: down, flush, swap the mbufs back, restart", "unregif_classic"),
            Action("the link comes back", "link_up"),
        )),
        "Example: an 8-slot RX ring through a classic enter and exit",
        picture=switch_pictures.figure,
    ),
    SWITCH_RX_RFC.name: Area(
        None,
        Scenario("area-switch-rfc", SWITCH_RX_RFC, switch_init(8), (
            Action("normal mode: 3 frames arrive and sit in mbufs", "wire", {"k": 3, "j": 0}),
            Action("NIOCREGIF: the mode changes, nothing else", "regif_rfc"),
            Action("rxsync reports the 3 (each copied out of its mbuf)", "harvest",
                   {"k": 8, "j": 0}),
            Action("the user releases them: netmap buffers are posted", "release", {"k": 3}),
            Action("6 more frames: 5 in mbufs (the old empty slot's too), 1 in a netmap "
                   "buffer", "wire", {"k": 6, "j": 0}),
            Action("rxsync reports the 6: 5 copies, and the round is done", "harvest",
                   {"k": 8, "j": 0}),
            Action("close: the kernel's buffers go back, the NIC keeps its 1 posted",
                   "unregif_rfc"),
            Action("the ring is reset instead of waiting for traffic", "ring_reset_exit"),
        )),
        "Example: an 8-slot RX ring through an RFC enter and exit",
        picture=switch_pictures.figure,
    ),
    SWITCH_TX_CLASSIC.name: Area(
        None,
        Scenario("area-switch-tx-classic", SWITCH_TX_CLASSIC, switch_tx_init(8), (
            Action("normal mode: the stack transmits 4 packets", "stack_xmit", {"k": 4}),
            Action("the NIC sends 2 of them", "complete", {"k": 2, "j": 0}),
            Action("NIOCREGIF: down, every TX buffer freed (2 packets dropped), restart",
                   "regif_classic"),
            Action("the link comes back", "link_up"),
            Action("the user sends 3 packets", "user_send", {"k": 3}),
            Action("the NIC sends them", "complete", {"k": 3, "j": 0}),
            Action("txsync reclaims the slots", "cleanup"),
            Action("close: down, swap back, restart", "unregif_classic"),
            Action("the link comes back", "link_up"),
        )),
        "Example: an 8-slot TX ring through a classic enter and exit",
        picture=switch_pictures.figure,
    ),
    SWITCH_TX_RFC.name: Area(
        None,
        Scenario("area-switch-tx-rfc", SWITCH_TX_RFC, switch_tx_init(8), (
            Action("normal mode: the stack transmits 4 packets", "stack_xmit", {"k": 4}),
            Action("NIOCREGIF: the 3 free slots become the user's; 4 are withheld",
                   "regif_rfc"),
            Action("the user sends 3 packets behind the stack's", "user_send", {"k": 3}),
            Action("the NIC sends 5: the stack's 4 first", "complete", {"k": 5, "j": 0}),
            Action("txsync: the 4 mbufs are freed, 5 slots return to the user", "cleanup"),
            Action("close: the link stays up; 2 netmap packets still in flight",
                   "unregif_rfc"),
            Action("the NIC sends them", "complete", {"k": 2, "j": 2}),
            Action("the stack driver's cleanup returns their buffers", "cleanup"),
            Action("the queue has drained: normal mode", "leave_done"),
        )),
        "Example: an 8-slot TX ring through an RFC enter and exit",
        picture=switch_pictures.figure,
    ),
    HOST_RX.name: Area(
        None,
        Scenario("area-host-rx", HOST_RX, host_rx_init(4), (
            Action("the stack sends a packet: queued", "netmap_transmit", {"fits": 1}),
            Action("and another", "netmap_transmit", {"fits": 1}),
            Action("a third: 2 queued + 0 in the ring is not yet N - 1 = 3", "netmap_transmit",
                   {"fits": 1}),
            Action("a fourth: 3 + 0 >= 3, dropped (ENOBUFS)", "netmap_transmit", {"fits": 1}),
            Action("rxsync copies the 3 queued packets into slots 0..2", "rxsync_from_host"),
            Action("the user reads 2 and releases them", "user_release", {"k": 2}),
            Action("a fifth: the ring still holds 3 until the next rxsync, dropped",
                   "netmap_transmit", {"fits": 1}),
            Action("rxsync gives slots 0 and 1 back to the kernel", "rxsync_from_host"),
            Action("a sixth: 1 in the ring, accepted", "netmap_transmit", {"fits": 1}),
        )),
        "Example: a 4-slot host RX ring",
    ),
    HOST_TX.name: Area(
        None,
        Scenario("area-host-tx", HOST_TX, host_tx_init(4), (
            Action("the user fills 2 slots, one with a 10-byte frame, and releases them",
                   "user_send", {"k": 2, "bad": 1}),
            Action("txsync: one packet goes up the stack, the short one is logged and "
                   "skipped; every slot but the gap is the user's again", "txsync_to_host"),
            Action("the user sends 3, the whole ring", "user_send", {"k": 3, "bad": 0}),
            Action("txsync sends them up", "txsync_to_host"),
        )),
        "Example: a 4-slot host TX ring",
    ),
    FORWARD.name: Area(
        None,
        Scenario("area-forward", FORWARD, forward_init(4), (
            Action("3 packets from the stack reach the host RX ring", "host_import",
                   {"k": 3}),
            Action("the user releases the 3 host packets, 2 marked NS_FORWARD",
                   "user_release_host", {"k": 3, "m": 2}),
            Action("NIOCRXSYNC on the host ring (no TX slot prepared): the 2 marked "
                   "packets are swapped into TX slots 0 and 1", "rxsync_after_send"),
            Action("txsync hands them to the NIC", "tx_push"),
            Action("2 more from the stack", "host_import", {"k": 2}),
            Action("both released with NS_FORWARD", "user_release_host", {"k": 2, "m": 2}),
            Action("hardened NIOCRXSYNC: one TX slot left, one forwarded; hwcur stays "
                   "before the other (as shipped, it would be released unsent)",
                   "rxsync_hardened"),
            Action("the NIC completes the first 2, txsync reclaims them", "tx_reclaim",
                   {"k": 2}),
            Action("hardened NIOCRXSYNC: the waiting packet goes out", "rxsync_hardened"),
        )),
        "Example: forwarding down into a 4-slot TX ring",
    ),
    WAKE.name: Area(
        None,
        Scenario("area-wakeup", WAKE, wake_init(8), (
            Action("process A binds every RX ring (NR_REG_ALL_NIC): np_si is the global "
                   "selinfo, si_users = 1", "regif_multi"),
            Action("process B binds this ring alone (NR_REG_ONE_NIC)", "regif_single"),
            Action("A blocks in poll()", "sleep_multi"),
            Action("B blocks in poll()", "sleep_single"),
            Action("a frame arrives on this ring: netmap_notify wakes B on the ring's "
                   "selinfo and A on the global one", "notify"),
            Action("A closes: si_users = 0, the notify skips the global selinfo",
                   "close_multi"),
        )),
        "Example: one process per ring and one for all rings",
    ),
    HOST_FWD.name: Area(
        None,
        Scenario("area-host-fwd", HOST_FWD, host_fwd_init(8), (
            Action("a descriptor bound to every ring releases 2 NS_FORWARD packets on the "
                   "first host RX ring (ring_id 4): swapped into the NIC TX rings",
                   "rxsync_hardened", {"ring": 4, "k": 2, "can_down": 1}),
            Action("3 NS_FORWARD packets released on hardware RX ring 1 go up the stack",
                   "rxsync_hardened", {"ring": 1, "k": 3, "can_down": 1}),
            Action("hardened: 2 released on the second host RX ring (ring_id 5) are "
                   "released, not sent back up", "rxsync_hardened",
                   {"ring": 5, "k": 2, "can_down": 1}),
        )),
        "Example: where NS_FORWARD packets go, ring by ring (as shipped the second host "
        f"ring sends them back up: a {md.link('finding', 'findings.md', common.HOST_FWD_FINDING)})",
    ),
    PENDINTR.name: Area(
        None,
        Scenario("area-pendintr", PENDINTR, pendintr_init(8), (
            Action("root sets dev.netmap.no_pendintr=0", "set_no_pendintr", {"v": 0}),
            Action("a frame arrives", "frame_arrives"),
            Action("its interrupt: NKR_PENDINTR set, the poll() caller woken", "interrupt"),
            Action("poll()'s rxsync (hardened: the flag cleared first) reads the frame; a "
                   "second one lands behind the read loop and its interrupt sets the flag "
                   "again", "rxsync_hardened", {"force": 0, "late": 1}),
            Action("poll() again: NKR_PENDINTR is set, so the NIC is read",
                   "rxsync_hardened", {"force": 0, "late": 0}),
        )),
        "Example: a frame that lands during the sync (the as-shipped order is a "
        f"{md.link('finding', 'findings.md', common.PENDINTR_FINDING)})",
    ),
}
