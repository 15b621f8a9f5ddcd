"""netmap on ENA, run on the simulated device: frames written into TX slots come back in
RX slots byte for byte (NS_MOREFRAG chains both ways, host mode and LLQ with the header
pushed from one slot or copied across several), every netmap buffer is in exactly one
place after every step, and each finding of model/ena_netmap.py shows on the
implementation as shipped and not hardened."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_netmap_rig import netmap_rig, put_frames, random_frames, room, take_packets

from impl.device import Faults
from impl.ena import nm_rx, nm_tx
from impl.ena.driver import Policy
from impl.ena.watchdog import QueueWatch, scan_missing_completions
from impl.ena_defs.regs import ResetReason
from impl.netmap.layout import NS_BUF_CHANGED, NS_MOREFRAG
from model import ena_netmap
from ringspec.ena_netmap_run import every_buffer_once, frames_unread, round_trip

SHIPPED, HARDENED = Policy.SHIPPED, Policy.HARDENED


@pytest.mark.parametrize("llq", [False, True])
def test_frames_come_back_in_order_byte_for_byte(llq: bool) -> None:
    dev, nm = netmap_rig(llq=llq, ring=32, window=4)
    rng = np.random.default_rng(5)
    sent: list[bytes] = []
    back: list[bytes] = []
    for _ in range(40):
        frames = []
        while True:
            f = random_frames(rng, 1)[0]
            if len(f) > room(nm) - sum(map(len, frames)) or len(frames) == 4:
                break
            frames.append(f)
        put_frames(nm, frames)
        r = nm.txsync()
        assert r.rc.tolist() == [0]
        sent += [b"".join(f) for f in frames]
        back += round_trip(dev, nm)
        assert every_buffer_once(nm)
    for _ in range(4):
        back += round_trip(dev, nm)
    assert not nm.drv.reset.triggered
    assert back == sent and len(sent) > 60
    st = nm.drv.tx.stats
    if llq:  # some first fragments were shorter than the 96-byte push header
        assert int(st.llq_buffer_copy.sum()) > 0
    assert int(st.cnt.sum()) == len(sent)


def test_a_chain_longer_than_the_sgl_limit_is_einval_and_freezes_the_tail() -> None:
    dev, nm = netmap_rig(max_tx_sgl_size=2)
    put_frames(nm, [[b"a" * 60], [b"b" * 30, b"c" * 30, b"d" * 30]])
    r = nm.txsync()
    assert r.rc.tolist() == [errno.EINVAL] and r.frames is not None
    assert r.frames.sent.tolist() == [1] and r.frames.why.tolist() == [nm_tx.TOO_MANY_SLOTS]
    kr = nm.tx
    assert int(kr.hwcur[0]) == 1 and int(kr.slot_buf_idx[0, 1]) != 0  # the chain stays
    dev.step()
    nm.txsync()  # the first packet completes, hwtail moves, but finalize never runs
    assert int(kr.hwtail[0]) == 0 and int(kr.ring_tail[0]) == 15
    assert every_buffer_once(nm)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_a_full_ring_rolls_the_chain_back(policy: Policy) -> None:
    """ena_com_prepare_tx finds no room: the chain's slots get their buffers back and the
    loop stops with 0.  As shipped the rollback writes flags = NS_BUF_CHANGED, so the
    chain's NS_MOREFRAG is gone and the next sync sends its slots as separate frames."""
    dev, nm = netmap_rig(ring=16, policy=policy)
    nm.drv.tx.cfg = nm.drv.tx.cfg.__class__(**{**nm.drv.tx.cfg.__dict__,
                                               "disable_meta_caching": True})
    chain = [b"x" * 40, b"y" * 40]
    put_frames(nm, [chain] * 6)  # 3 descriptors each with the meta one: the 6th has no room
    r = nm.txsync()
    assert r.rc.tolist() == [0] and r.frames is not None
    assert r.frames.sent.tolist() == [5] and r.frames.why.tolist() == [nm_tx.RING_FULL]
    kr = nm.tx
    assert int(kr.slot_buf_idx[0, 10]) != 0 and int(kr.slot_buf_idx[0, 11]) != 0
    first_flags = int(kr.slot_flags[0, 10])
    if policy is SHIPPED:
        assert first_flags == NS_BUF_CHANGED
    else:
        assert first_flags == NS_MOREFRAG | NS_BUF_CHANGED
    back: list[bytes] = []
    for _ in range(4):
        back += round_trip(dev, nm)
    tail = back[5:]
    if policy is SHIPPED:
        assert tail == [b"x" * 40 + b"\0" * 20, b"y" * 40 + b"\0" * 20] or len(tail) == 2
    else:
        assert tail == [b"x" * 40 + b"y" * 40]
    assert every_buffer_once(nm)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_the_clean_index_mask(policy: Policy) -> None:
    """ENA-NM-TX-IDS on an 8-slot ring kept full, the device completing one packet at a
    time in order: as shipped next_to_clean never leaves 0 and every completion
    overwrites free_tx_ids[0], so position 0 hands out the id completed last; a few
    rounds later a packet takes an id that an earlier packet still holds, that packet's
    nm_info is overwritten and its slot buffer drops out of the ring."""
    # the model's invariant, on the model's 4-slot ring: broken by the first completion
    ids_ok = ena_netmap.NETMAP_TX.invariants["ENA-NM-TX-IDS"]
    dev, nm = netmap_rig(ring=4, policy=policy)
    put_frames(nm, [[b"a" * 60]])
    nm.txsync()
    assert ids_ok(nm.tx_state(0)) is True
    dev.complete_tx()
    nm.txsync()
    assert ids_ok(nm.tx_state(0)) is (policy is HARDENED)
    # what it costs, on an 8-slot ring
    dev, nm = netmap_rig(ring=8, policy=policy)
    lost_at = None
    for step in range(30):
        put_frames(nm, [[bytes([step]) * 60]] * room(nm))
        nm.txsync()
        if lost_at is None and not every_buffer_once(nm):
            lost_at = step
        dev.complete_tx(max_per_queue=1)
        nm.txsync()
    if policy is SHIPPED:
        assert lost_at is not None
        assert nm.drv.tx.free_ids[0].tolist()[1:] == [1, 2, 3, 4, 5, 6, 7]
    else:
        assert lost_at is None


def test_shipped_netmap_tx_is_invisible_to_the_missing_completion_watchdog() -> None:
    """ENA-NM-TX-WATCHED: with every completion lost, the hardened driver's watchdog
    counts the stuck packets; as shipped nothing is stamped and it counts none."""
    counted = {}
    for policy in (SHIPPED, HARDENED):
        dev, nm = netmap_rig(policy=policy, faults=Faults(tx_comp_lost=1.0), loop=False)
        put_frames(nm, [[b"z" * 60]] * 5)
        nm.txsync()
        dev.step()
        nm.txsync()
        assert int((nm.rings.tx_sockets[0] > 0).sum()) == 5  # still with the device
        watch = QueueWatch.new(1)
        watch.first_interrupt[:] = True
        ten_s = 10 * 10**9
        scan_missing_completions(nm.drv.tx, nm.drv.rx, watch, 0, 4, ten_s,
                                 5 << 32, 128, np.zeros(1, dtype=bool))
        counted[policy] = int(watch.missing_tx_comp[0])
    assert counted == {SHIPPED: 0, HARDENED: 5}


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_a_repeated_rx_req_id(policy: Policy) -> None:
    """ENA-NM-RX-IDS: as shipped a completion naming an id already consumed hands the
    user buffer 0 and puts the id into free_rx_ids twice, while the buffer the device
    really filled stays with an id nobody will complete; hardened it is INV_RX_REQ_ID."""
    ids_ok = ena_netmap.NETMAP_RX.invariants["ENA-NM-RX-IDS"]
    dev, nm = netmap_rig(ring=4, policy=policy, faults=Faults(rx_req_id_dup=1.0))
    put_frames(nm, [[b"p" * 60], [b"q" * 60]])
    nm.txsync()
    dev.step()
    assert dev.stats.rx_req_id_dup == 1  # the second completion names id 0 again
    r = nm.rxsync()
    kr = nm.rx
    if policy is SHIPPED:
        assert r.rc.tolist() == [0] and not nm.drv.reset.triggered
        assert int(kr.hwtail[0]) == 2 and int(kr.slot_buf_idx[0, 1]) == 0
        assert nm.drv.rx.free_ids[0].tolist()[:2] == [0, 0]
        assert int(nm.rings.rx_buf[0, 1]) != 0  # filled by the device, never handed over
        assert ids_ok(nm.rx_state(0)) is False
    else:
        assert r.rc.tolist() == [errno.EIO]
        assert nm.drv.reset.reason == ResetReason.INV_RX_REQ_ID
        assert int(kr.hwtail[0]) == 1  # the first packet only
        assert ids_ok(nm.rx_state(0)) is True
    assert every_buffer_once(nm)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_refilling_the_gap_slot_stalls_rx(policy: Policy) -> None:
    """ENA-NM-RX-RING: on a 4-slot ring the initial fill posts slots 0-2; three frames
    fill them and nr_hwcur == nr_hwtail == 3, so the as-shipped refill count is
    ``rhead - nr_hwcur`` = 1 and slot 3 -- netmap's gap -- goes to the device.  The next
    frame lands there, nr_hwtail wraps onto head: the user's ring looks empty although it
    holds four frames, and nothing is ever posted again.  Hardened, slot 3 stays with the
    kernel and traffic resumes once the user releases slots."""
    ring_ok = ena_netmap.NETMAP_RX.invariants["ENA-NM-RX-RING"]
    dev, nm = netmap_rig(ring=4, policy=policy)
    frames_unread(dev, nm, 3)
    kr = nm.rx
    assert int(kr.ring_tail[0]) == 3  # three frames for the user, not released yet
    assert (ring_ok(nm.rx_state(0)) is True) is (policy is HARDENED)
    got: list[bytes] = []
    for _ in range(4):
        nm.txsync()
        put_frames(nm, [[b"L" * 60]])
        nm.txsync()
        dev.step()
        nm.rxsync()
        got += take_packets(nm)
    if policy is SHIPPED:
        assert got == [] and int(kr.ring_head[0]) == int(kr.ring_tail[0])
        assert dev.stats.rx_no_buffer > 0
    else:
        assert len(got) >= 4  # the first three, then fresh frames once slots came back
        assert ring_ok(nm.rx_state(0)) is True
    if policy is SHIPPED:  # and it stays stuck: nothing posted, and nothing ever will be
        assert int(nm.rings.rx_buf[0].astype(bool).sum()) == 0
        assert int(nm_rx.refill_count(nm.rings, np.array([0]))[0]) % 4 == 0


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_slots_the_c_mishandles_are_refused(policy: Policy) -> None:
    """A zero-length slot is EINVAL under both policies (the C spins or leaks on it); a
    chain still open at rhead waits for the next sync; a bad buf_idx is EINVAL hardened
    and, as shipped, sends buffer 0 as PNMB would."""
    _, nm = netmap_rig(policy=policy)
    kr = nm.tx
    put_frames(nm, [[b"a" * 60], [b""]])
    r = nm.txsync()
    assert r.rc.tolist() == [errno.EINVAL] and r.frames is not None
    assert r.frames.sent.tolist() == [1] and int(kr.hwcur[0]) == 1
    kr.slot_len[0, 1] = 60  # the user fixes the slot: the chain goes
    kr.slot_flags[0, 1] = NS_MOREFRAG  # ... but now it is an open chain
    r = nm.txsync()
    assert r.rc.tolist() == [0] and r.frames.why.tolist() == [nm_tx.OPEN_CHAIN]
    assert int(kr.hwcur[0]) == 1
    put_frames(nm, [[b"b" * 60]])  # closes the chain at slot 2
    r = nm.txsync()
    assert r.frames.sent.tolist() == [1] and int(kr.hwcur[0]) == 3
    put_frames(nm, [[b"c" * 60]])
    kr.slot_buf_idx[0, 3] = nm.rings.mem.nbufs + 5  # a buffer that does not exist
    r = nm.txsync()
    if policy is HARDENED:
        assert r.rc.tolist() == [errno.EINVAL] and int(kr.hwcur[0]) == 3
    else:
        assert r.rc.tolist() == [0] and int(kr.hwcur[0]) == 4  # sent from buffer 0


def test_the_netmap_on_ena_page_reports_each_finding_where_it_shows() -> None:
    """The traces the docs render: every finding breaks the driver as shipped and not
    hardened, except netmap's prologue against ENA's nr_hwcur, which the as-shipped gap
    refill hides and the hardened driver meets."""
    from ringspec.ena_netmap_run import run_traces

    seen = {t.title: (shipped.broken, hardened.broken) for t, shipped, hardened in run_traces()}
    prologue = "netmap's RX prologue refuses a full ENA ring"
    assert seen.pop(prologue) == (False, True)
    assert len(seen) == 7 and set(seen.values()) == {(True, False)}


def test_ringspec_ena_netmap_prints_each_trace_as_json(capsys: pytest.CaptureFixture) -> None:
    import json

    from ringspec.cli import main

    assert main(["ena-netmap", "--json", "--only", "rolled-back"]) == 0
    rows = json.loads(capsys.readouterr().out)["traces"]
    assert [r["title"] for r in rows] == ["A rolled-back chain loses NS_MOREFRAG"]
    assert rows[0]["as_shipped"]["broken"] and not rows[0]["hardened"]["broken"]
