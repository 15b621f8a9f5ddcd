"""netmap on ENA: behaviour the other netmap-on-ENA tests left unpinned, found by mutation
testing (mutmut) of impl/ena/nm_rings.py, nm_tx.py, nm_rx.py and nm_rfc.py.

Each test states what a driver author relies on -- where a netmap buffer's DMA address
comes from (PNMB), how many buffers the registration owns, what a sync leaves in the
slots, the ids and the queue counters, which errno and reset a bad input gets, what the
RFC's exit gives back and when -- on a scenario where a plausible slip in the
implementation changes the outcome: syncs over several rings at once, a device that
repeats or invents req_ids or sets MBZ bits, a user that leaves a bad ``buf_idx`` in a
slot.  The rigs are small (short rings, a few frames; the adapter's queues shrunk through
the device's advertised depth) so the file runs in seconds.

One of them found a bug: ``nm_rx.rx_frames`` counted packets per ring with a per-packet
mask over per-descriptor rows, so any RX packet of more than one descriptor crashed it
(fixed; the test now checks the chain against the C loop's result).
"""

from __future__ import annotations

import errno
from dataclasses import replace

import numpy as np
import pytest
from support.ena_adapter_rig import AdapterRig, adapter_rig
from support.ena_netmap_rig import netmap_rig, put_frames, room, take_packets

from impl.bus import Bus
from impl.device import Faults
from impl.device.features import Limits
from impl.ena import nm_reference, nm_rfc, nm_tx
from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena.nm_port import EnaNetmap
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.rxq import RxResult
from impl.ena_defs.layouts import RxCdesc, TxCdesc
from impl.ena_defs.regs import ResetReason
from impl.netmap.layout import NS_BUF_CHANGED, NS_MOREFRAG
from ringspec.ena_netmap_run import every_buffer_once, round_trip

SHIPPED, HARDENED = Policy.SHIPPED, Policy.HARDENED
PAGE = 4096


def small_adapter(policy: Policy, depth: int = 16,
                  strategy: str = "rfc") -> tuple[AdapterRig, AdapterNetmap, list[bytes]]:
    """An adapter whose device offers ``depth``-entry queues (2 queue pairs, RSS over
    both), netmap attached with ``strategy``, and the list of what the stack receives."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy), attach=False)
    rig.dev.features.limits = Limits(max_queue_depth=depth)
    assert rig.adapter.attach() == 0 and rig.adapter.up() == 0
    rig.dev.events.start()
    stack: list[bytes] = []

    def received(r: RxResult) -> None:
        ends = r.offsets + r.lengths
        stack.extend(r.payload[a:b].tobytes() for a, b in zip(r.offsets, ends, strict=True))
    rig.adapter.on_stack_rx = received
    return rig, AdapterNetmap(rig.adapter, strategy=strategy), stack


# RSS (the adapter's default key) sends these to RX ring 0 and ring 1
TO_RING0 = bytes([2, 1]) * 40
TO_RING1 = bytes([0, 1]) * 40


# ---------------------------------------------------------------- the netmap memory


def test_pnmb_maps_only_indices_outside_the_pool_to_buffer_zero() -> None:
    """``PNMB`` as netmap's lookup does it: every index inside the pool (the reserved
    buffer 1 included) has its own address, ``buf_size`` apart; 0, a negative index and
    anything from ``nbufs`` on get buffer 0's."""
    bus = Bus(mem_size=1 << 20)
    rings = EnaNetmapRings(bus, 1, 8, 19, hardened=False)
    nb, bs = rings.mem.nbufs, rings.buf_size
    pool = rings.base + rings.mem.pool_offset
    inside = np.arange(nb)
    assert rings.buf_addr(inside).tolist() == (pool + inside * bs).tolist()
    outside = np.array([-1, nb, nb + 1, nb + 1000])
    assert rings.buf_addr(outside).tolist() == [pool] * outside.size


def test_the_buffer_pool_is_page_aligned_in_host_memory() -> None:
    """The netmap arena is page aligned wherever the bus allocator stands, so every
    2048-byte buffer lies within one 4 KiB page (no DMA crosses a page)."""
    bus = Bus(mem_size=1 << 20)
    bus.mem.alloc(100)  # the next free byte is no longer page aligned
    rings = EnaNetmapRings(bus, 1, 8, 19, hardened=True)
    assert rings.base % PAGE == 0
    addr = rings.buf_addr(np.arange(2, rings.mem.nbufs))
    assert (addr // PAGE == (addr + rings.buf_size - 1) // PAGE).all()


@pytest.mark.parametrize("extra", [0, 3])
def test_extra_buffers_are_on_the_free_list_and_nothing_else_is(extra: int) -> None:
    """The registration owns one buffer per slot plus the ``extra_bufs`` asked for
    (netmap's ``nr_extra_bufs``): after ``ena_up`` the slots, the posted RX ids and the
    free list hold each of them once, and the free list holds exactly the extras."""
    _, nm = netmap_rig(ring=8, nq=2, extra_bufs=extra)
    mem = nm.rings.mem
    assert mem.nbufs == 2 + 2 * 2 * 8 + extra
    assert mem.pool.free_indices().size == extra
    assert every_buffer_once(nm)


def test_rings_not_bound_to_io_queues() -> None:
    """Between the registration and ``ena_up`` (or after ``ena_down``) the rings have no
    IO queues: asking for them is an error, and a sync is netmap's prologue and finalize
    only -- no driver work, rc 0."""
    bus = Bus(mem_size=1 << 20)
    rings = EnaNetmapRings(bus, 1, 8, 19, hardened=True)
    with pytest.raises(RuntimeError, match="not bound"):
        _ = rings.drv
    port = EnaNetmap(rings)
    t = port.txsync()
    r = port.rxsync()
    assert t.rc.tolist() == [0] and t.frames is None and t.cleanup is None
    assert r.rc.tolist() == [0] and r.frames is None and r.refill is None


@pytest.mark.parametrize("past", [0, 5])
def test_as_shipped_a_bad_tx_buf_idx_sends_buffer_zero(past: int) -> None:
    """As shipped a TX slot whose ``buf_idx`` is not in the pool goes out from buffer 0
    (PNMB's fallback): the frame on the wire is buffer 0's bytes."""
    dev, nm = netmap_rig(ring=8, policy=SHIPPED)
    mem = nm.rings.mem
    mem.bufs[0, :64] = np.arange(64, dtype=np.uint8) + 100
    put_frames(nm, [[b"u" * 60]])
    nm.tx.slot_buf_idx[0, 0] = mem.nbufs + past
    r = nm.txsync()
    assert r.rc.tolist() == [0]
    back = round_trip(dev, nm) + round_trip(dev, nm)
    assert back == [(np.arange(60, dtype=np.uint8) + 100).tobytes()]
    assert take_packets(nm) == []


# ------------------------------------------------------------------------------ TX


def test_one_txsync_over_two_rings_reclaims_each_rings_own_completions() -> None:
    """NIOCTXSYNC on every ring at once: each ring's completions are taken up to its own
    first stale entry -- ring 0 gets its 2 slots back, ring 1 its 3."""
    dev, nm = netmap_rig(ring=8, nq=2)
    put_frames(nm, [[b"a" * 60]] * 2, q=0)
    put_frames(nm, [[b"b" * 60]] * 3, q=1)
    nm.txsync()
    dev.step()
    r = nm.txsync()
    assert r.cleanup is not None
    assert r.cleanup.completed.tolist() == [2, 3] and r.cleanup.returned.tolist() == [2, 3]
    assert nm.tx.hwtail.tolist() == [1, 2] and [room(nm, q) for q in (0, 1)] == [7, 7]
    assert every_buffer_once(nm)


def test_chains_rolled_back_on_two_rings_in_one_sync_keep_their_flags() -> None:
    """Hardened, the rollback of a chain that found the SQ full keeps each slot's flags
    and adds NS_BUF_CHANGED -- on every ring that rolled one back in the same sync."""
    _, nm = netmap_rig(ring=16, nq=2, policy=HARDENED)
    nm.drv.tx.cfg = replace(nm.drv.tx.cfg, disable_meta_caching=True)
    for q in (0, 1):  # 3 descriptors per 2-slot frame: the 6th finds no room
        put_frames(nm, [[b"x" * 40, b"y" * 40]] * 6, q=q)
    r = nm.txsync()
    assert r.frames is not None and r.frames.why.tolist() == [nm_tx.RING_FULL] * 2
    assert nm.tx.slot_flags[:, 10:12].tolist() == [[NS_MOREFRAG | NS_BUF_CHANGED,
                                                     NS_BUF_CHANGED]] * 2
    assert (nm.tx.slot_buf_idx[:, 10:12] != 0).all()


def two_packets_completed():  # type: ignore[no-untyped-def]
    """An 8-slot rig after two packets were sent and the device wrote their completions
    (not yet cleaned): ``(device, port, TX queues)``; the tests then edit the CQ."""
    dev, nm = netmap_rig(ring=8)
    put_frames(nm, [[b"a" * 60]] * 2)
    nm.txsync()
    dev.step()
    assert nm.drv.tx.cq is not None
    return dev, nm, nm.drv.tx


def test_a_tx_completion_naming_req_id_depth_is_inv_tx_req_id() -> None:
    """``req_id >= depth`` -- ``depth`` itself included -- is INV_TX_REQ_ID: the cleanup
    stops before it, counts it in ``bad_req_id`` and returns only the packets before."""
    _, nm, tx = two_packets_completed()
    tx.cq[0, int(tx.cq_head[0]) + 1]["req_id"] = 8
    r = nm.txsync()
    assert r.cleanup is not None and r.cleanup.completed.tolist() == [1]
    assert r.cleanup.reasons.tolist() == [ResetReason.INV_TX_REQ_ID]
    assert nm.drv.reset.reason == ResetReason.INV_TX_REQ_ID
    assert tx.stats.bad_req_id.tolist() == [1] and int(nm.tx.hwtail[0]) == 0
    r = nm.txsync()  # the bad completion is still at the head: met, and counted, again
    assert r.cleanup is not None and r.cleanup.completed.tolist() == [0]
    assert tx.stats.bad_req_id.tolist() == [2] and int(nm.tx.hwtail[0]) == 0


def test_a_tx_req_id_repeated_in_one_cleanup_returns_its_slots_once() -> None:
    """A device repeating a req_id within one batch of completions (there is no "already
    completed" test on this path): the first completion gives the packet's slots back,
    the repeat finds them already returned and gives nothing -- the slots after
    ``nr_hwtail`` get each buffer once, in completion order, and the packet whose own
    completion was replaced stays with the device."""
    dev, nm = netmap_rig(ring=8)
    kr = nm.tx
    put_frames(nm, [[b"a" * 60], [b"b" * 30, b"c" * 30], [b"d" * 60], [b"e" * 60],
                    [b"f" * 60]])
    a, b, c, d, e, f = kr.slot_buf_idx[0, :6].tolist()
    nm.txsync()
    dev.step()
    tx = nm.drv.tx
    assert tx.cq is not None
    assert tx.cq[0, :5]["req_id"].tolist() == [0, 1, 2, 3, 4]
    tx.cq[0, 2]["req_id"] = 1  # the third completion repeats id 1 instead of naming 2
    r = nm.txsync()
    assert r.cleanup is not None
    assert r.cleanup.completed.tolist() == [5] and r.cleanup.returned.tolist() == [5]
    assert kr.slot_buf_idx[0, :5].tolist() == [a, b, c, e, f]
    assert (kr.slot_flags[0, :5] == NS_BUF_CHANGED).all()
    assert int(nm.rings.tx_sockets[0, 2]) == 1 and int(nm.rings.tx_socket_buf[0, 2, 0]) == d
    assert every_buffer_once(nm) and not nm.drv.reset.triggered


def test_as_shipped_netmap_cleanup_from_an_odd_next_to_clean_is_the_c_loop() -> None:
    """The RFC's switch keeps the mbuf path's ``next_to_clean``, which may be odd (here
    3); from there the as-shipped ENA_TX_RING_IDX_NEXT (mask ``N - 2``) writes the first
    completion at ``nt`` and every later one at ``(nt + 1) & (N - 2)``, and a sync that
    takes no completion leaves ``nt`` alone.  With the device completing out of order,
    ``free_tx_ids``, ``next_to_clean`` and the returned slots are those of the C loop
    (impl/ena/nm_reference.py) run from the same state."""
    def switched() -> AdapterNetmap:
        rig, an, _ = small_adapter(SHIPPED)
        ad = rig.adapter
        assert ad.driver is not None
        ad.driver.transmit(rig.frames(3, seed=8), curcpu=0)
        rig.dev.step()
        ad.handle_interrupts()
        assert ad.driver.tx.next_to_clean.tolist() == [3, 0] and ad.driver.in_flight() == 0
        assert an.reg(True) == 0 and an.port is not None
        put_frames(an.port, [[bytes([k]) * 60] for k in range(3)], q=0)
        an.port.txsync()  # sends; nothing to clean yet
        assert ad.driver.tx.next_to_clean.tolist() == [3, 0]
        rig.dev.step()
        tx = ad.driver.tx
        assert tx.cq is not None
        h = int(tx.cq_head[0])
        first, second = tx.cq[0, h]["req_id"], tx.cq[0, h + 1]["req_id"]
        tx.cq[0, h]["req_id"], tx.cq[0, h + 1]["req_id"] = second, first  # out of order
        return an
    a, b = switched(), switched()
    assert a.rings is not None and b.rings is not None
    nm_tx.tx_cleanup(a.rings, np.array([0]), True)
    nm_reference.tx_cleanup(b.rings, 0, True)
    ta, tb = a.rings.drv.tx, b.rings.drv.tx
    assert ta.free_ids.tolist() == tb.free_ids.tolist()
    assert ta.next_to_clean.tolist() == tb.next_to_clean.tolist() == [4, 0]
    assert ta.next_to_comp.tolist() == tb.next_to_comp.tolist()
    assert a.rings.tx.hwtail.tolist() == b.rings.tx.hwtail.tolist()
    assert a.rings.tx.slot_buf_idx.tolist() == b.rings.tx.slot_buf_idx.tolist()


def test_junk_in_a_tx_completion_entry_not_yet_written_is_ignored() -> None:
    """The phase bit is looked at first (ena_com_tx_comp_req_id_get): an entry the
    device has not written this lap ends the cleanup quietly whatever else it holds --
    MBZ bits or an impossible req_id are no reason for a reset."""
    _, nm, tx = two_packets_completed()
    junk = tx.cq[0, int(tx.cq_head[0]) + 2]  # past the two completions: old phase
    junk["flags"] |= np.uint8(TxCdesc.MBZ6.put(3))
    junk["req_id"] = 0xFFFF
    r = nm.txsync()
    assert r.cleanup is not None and r.cleanup.completed.tolist() == [2]
    assert r.cleanup.reasons.tolist() == [0] and not nm.drv.reset.triggered
    assert tx.stats.bad_req_id.tolist() == [0] and room(nm) == 7


@pytest.mark.parametrize("cap", [True, False])
def test_mbz_bits_in_a_tx_completion(cap: bool) -> None:
    """With CDESC_MBZ a completion whose MBZ bits are set is TX_DESCRIPTOR_MALFORMED: the
    cleanup stops there and the packet's slot stays with the device.  Without the
    capability the bits are not looked at and the completion is taken."""
    dev, nm = netmap_rig(ring=8)
    nm.drv.cfg = replace(nm.drv.cfg, cdesc_mbz=cap)
    put_frames(nm, [[b"a" * 60]])
    nm.txsync()
    dev.step()
    tx = nm.drv.tx
    assert tx.cq is not None
    tx.cq[0, int(tx.cq_head[0])]["flags"] |= np.uint8(TxCdesc.MBZ6.put(1))
    r = nm.txsync()
    assert r.cleanup is not None
    if cap:
        assert r.cleanup.completed.tolist() == [0]
        assert nm.drv.reset.reason == ResetReason.TX_DESCRIPTOR_MALFORMED
        assert int(nm.tx.hwtail[0]) == 7 and room(nm) == 6  # the packet's slot is not back
        assert tx.stats.bad_req_id.tolist() == [0]
    else:
        assert r.cleanup.completed.tolist() == [1] and not nm.drv.reset.triggered
        assert room(nm) == 7 and int(nm.rings.tx_sockets.sum()) == 0


# ------------------------------------------------------------------------------ RX


def test_rxsync_on_one_ring_leaves_the_other_rings_packets_and_counters() -> None:
    """NIOCRXSYNC on ring 1 takes ring 1's completions only: ring 0's CQ head, packets
    and ``rx_stats.cnt`` wait for ring 0's own sync, which then hands them over."""
    rig, an, _ = small_adapter(HARDENED, strategy="classic")
    assert an.reg(True) == 0 and an.port is not None
    nm = an.port
    put_frames(nm, [[TO_RING0]] * 3 + [[TO_RING1]] * 2, q=0)
    nm.txsync()
    rig.dev.step()
    rig.adapter.handle_interrupts()
    r = nm.rxsync(1)
    assert r.frames is not None and r.frames.packets.tolist() == [2]
    assert take_packets(nm, 1) == [TO_RING1] * 2
    st = nm.drv.rx.stats
    assert st.cnt.tolist() == [0, 2] and int(nm.rx.hwtail[0]) == 0
    r = nm.rxsync(0)
    assert r.frames is not None and r.frames.packets.tolist() == [3]
    assert take_packets(nm, 0) == [TO_RING0] * 3
    assert st.cnt.tolist() == [3, 2] and st.bytes.tolist() == [3 * 80, 2 * 80]


def stale_completion(nm: EnaNetmap, rid: int, q: int = 0) -> None:
    """The device names ``rid`` in the next RX completion of ring ``q`` (an id it was
    not given back: ENA-NM-RX-IDS's stale id)."""
    rx = nm.drv.rx
    assert rx.cq is not None
    rx.cq[q, int(rx.cq_head[q])]["req_id"] = rid


def test_a_stale_rx_req_id_as_shipped_hands_buffer_zero_and_copies_nothing() -> None:
    """As shipped a completion naming an id whose buffer the user already holds gives
    the user buffer 0 (ENA-NM-RX-IDS); nothing is copied anywhere -- not into buffer
    0, not counted as an RFC copy -- and the first packet's buffer stays the user's."""
    dev, nm = netmap_rig(ring=8, policy=SHIPPED)
    mem = nm.rings.mem
    put_frames(nm, [[b"p" * 60]])
    nm.txsync()
    dev.step()
    nm.rxsync()
    first = int(nm.rx.slot_buf_idx[0, 0])
    assert first != 0 and int(nm.rings.rx_buf[0, 0]) == 0  # id 0 delivered, not refilled
    put_frames(nm, [[b"q" * 60]])
    nm.txsync()
    dev.step()
    stale_completion(nm, 0)
    zero = mem.bufs[0].copy()
    r = nm.rxsync()
    assert r.rc.tolist() == [0] and int(nm.rx.slot_buf_idx[0, 1]) == 0
    assert nm.rings.copies.tolist() == [0] and np.array_equal(mem.bufs[0], zero)
    assert mem.bufs[first, :60].tobytes() == b"p" * 60


def test_hardened_each_stale_rx_req_id_is_eio_and_counted() -> None:
    """Hardened, a completion naming an id with no buffer posted stops the loop with
    EIO and INV_RX_REQ_ID, and ``rx_stats.bad_req_id`` counts every such completion."""
    dev, nm = netmap_rig(ring=8, policy=HARDENED)
    put_frames(nm, [[b"p" * 60]])
    nm.txsync()
    dev.step()
    nm.rxsync()
    for k in (1, 2):
        put_frames(nm, [[bytes([k]) * 60]])
        nm.txsync()
        dev.step()
        stale_completion(nm, 0)
        r = nm.rxsync()
        assert r.rc.tolist() == [errno.EIO] and r.frames is not None
        assert r.frames.reasons.tolist() == [ResetReason.INV_RX_REQ_ID]
        assert r.frames.packets.tolist() == [0]
        assert int(nm.drv.rx.stats.bad_req_id[0]) == k
    assert nm.drv.reset.reason == ResetReason.INV_RX_REQ_ID


def test_one_rxsync_takes_more_packets_than_the_mbuf_paths_budget() -> None:
    """ena_netmap_rx_frames has no budget (ENA_MAX_FRAMES is larger than any ring): 300
    packets waiting on a 512-slot ring all reach the user in one sync, where the mbuf
    path would stop at 256 descriptors."""
    dev, nm = netmap_rig(ring=512)
    sent = [bytes([k % 256, k // 256]) * 30 for k in range(300)]
    for i in range(0, 300, 100):
        put_frames(nm, [[f] for f in sent[i:i + 100]])
        nm.txsync()
        dev.step()
        nm.txsync()
    r = nm.rxsync()
    assert r.frames is not None and r.frames.packets.tolist() == [300]
    assert r.frames.slots.tolist() == [300]
    assert take_packets(nm) == sent


def test_a_frame_larger_than_a_buffer_arrives_as_a_morefrag_chain() -> None:
    """A 3000-byte frame fills two 2048-byte RX buffers: two slots, the first with
    NS_MOREFRAG, read back as one frame (what impl/ena/nm_reference.py's C loop does)."""
    dev, nm = netmap_rig(ring=8)
    frame = bytes(range(256)) * 11 + bytes(184)
    put_frames(nm, [[frame[:1500], frame[1500:]]])
    nm.txsync()
    dev.step()
    nm.txsync()
    r = nm.rxsync()
    assert r.frames is not None and r.frames.packets.tolist() == [1]
    assert r.frames.slots.tolist() == [2]
    kr = nm.rx
    assert kr.slot_len[0, :2].tolist() == [2048, 3000 - 2048]
    assert kr.slot_flags[0, :2].tolist() == [NS_MOREFRAG | NS_BUF_CHANGED, NS_BUF_CHANGED]
    assert take_packets(nm) == [frame]


def test_ena_up_posts_all_but_one_buffer_per_ring() -> None:
    """ena_refill_all_rx_bufs in netmap mode posts ``ring_size - 1`` buffers: every RX id
    but one holds a netmap buffer, ENA's ``nr_hwcur`` is the last slot, and that slot
    (netmap's gap) keeps its buffer."""
    _, nm = netmap_rig(ring=8, nq=2)
    rings, kr = nm.rings, nm.rx
    assert (rings.rx_buf != 0).sum(axis=1).tolist() == [7, 7]
    assert nm.drv.rx.posted.sum(axis=1).tolist() == [7, 7]
    assert kr.hwcur.tolist() == [7, 7] and (kr.slot_buf_idx[:, 7] != 0).all()
    assert (kr.slot_buf_idx[:, :7] == 0).all()


def test_as_shipped_a_repeated_rx_id_is_posted_again_with_its_buffer() -> None:
    """ENA-NM-RX-IDS puts a repeated id twice into ``free_rx_ids``; the next refill meets
    it twice: the first time it takes a slot's buffer, the second time it is posted again
    with that same buffer (``netmap_buf_idx`` already set) -- on each ring of the batch:
    no slot's buffer is taken for it twice and none is lost."""
    rig, an, _ = small_adapter(SHIPPED, strategy="classic")
    rig.dev.faults = Faults(rx_req_id_dup=1.0)
    assert an.reg(True) == 0 and an.port is not None
    nm = an.port
    put_frames(nm, [[TO_RING0]] * 3 + [[TO_RING1]] * 3, q=0)
    nm.txsync()
    rig.dev.step()
    rig.adapter.handle_interrupts()
    nm.rxsync()
    rx = nm.drv.rx
    assert rx.free_ids[:, :3].tolist() == [[0, 0, 1], [0, 0, 1]]  # id 0 went back twice
    assert [len(take_packets(nm, q)) for q in (0, 1)] == [3, 3]
    r = nm.rxsync()  # the user released its three slots on each ring: ids 15, 0, 0
    assert r.refill is not None and r.refill.posted.tolist() == [3, 3]
    assert nm.rx.hwcur.tolist() == [1, 1]  # two slots taken per ring (15 and 0)
    assert every_buffer_once(nm)


@pytest.mark.parametrize("bad", ["zero", "past_pool"])
def test_the_refill_stops_at_a_released_slot_without_a_real_buffer(bad: str) -> None:
    """ena_netmap_alloc_rx_slot: a released slot whose ``buf_idx`` is 0 or past the pool
    ends the refill with EFAULT there, on every ring of the batch; the slots before it
    (the old gap slot 15, then slot 0) are posted, the bad index never reaches the
    device, and a partial refill is counted each time."""
    rig, an, _ = small_adapter(HARDENED, strategy="classic")
    assert an.reg(True) == 0 and an.port is not None
    nm = an.port
    kr = nm.rx
    put_frames(nm, [[TO_RING0]] * 3 + [[TO_RING1]] * 3, q=0)
    nm.txsync()
    rig.dev.step()
    rig.adapter.handle_interrupts()
    nm.rxsync()
    assert [len(take_packets(nm, q)) for q in (0, 1)] == [3, 3]
    idx = 0 if bad == "zero" else nm.rings.mem.nbufs
    kr.slot_buf_idx[:, 1] = idx  # the user leaves a bad index in the 2nd released slot
    posted_before = nm.drv.rx.posted.sum(axis=1)
    for k in (1, 2):
        r = nm.rxsync()
        assert r.refill is not None and r.refill.rc.tolist() == [errno.EFAULT] * 2
        assert r.refill.posted.tolist() == ([2, 2] if k == 1 else [0, 0])
        assert nm.drv.rx.stats.refil_partial.tolist() == [k, k]
    assert (nm.drv.rx.posted.sum(axis=1) - posted_before).tolist() == [2, 2]
    assert kr.slot_buf_idx[:, 1].tolist() == [idx, idx]  # still the user's to fix
    addr = nm.drv.rx.dma_addr[nm.drv.rx.posted]
    assert not np.isin(addr, nm.rings.buf_addr(np.array([0]))).any()


# ------------------------------------------------------------------- the RFC's switch


def test_give_back_frees_each_allocated_buffer_once_and_counts_the_rest() -> None:
    """nm_rfc.give_back, as netmap_free_buf: real, allocated buffers go to the free list
    (once, even if named twice); 0, the reserved 1, indices past the pool and buffers
    already free are skipped and counted."""
    bus = Bus(mem_size=1 << 20)
    rings = EnaNetmapRings(bus, 1, 8, 19, hardened=True)
    pool, nb = rings.mem.pool, rings.mem.nbufs
    assert pool.nfree == 0
    assert nm_rfc.give_back(rings, np.array([5, 6, 6])) == 0
    assert sorted(pool.free_indices().tolist()) == [5, 6]
    skipped = nm_rfc.give_back(rings, np.array([0, 1, 5, 7, nb, nb + 3]))
    assert skipped == 5  # 0, 1, 5 (already free), nb, nb + 3
    assert sorted(pool.free_indices().tolist()) == [5, 6, 7]


def test_the_rfc_counts_copies_on_the_ring_that_made_them() -> None:
    """A frame received into a stack buffer posted before the switch is copied into the
    netmap buffer parked under its id: ``copies`` counts it on its RX ring only."""
    rig, an, _ = small_adapter(HARDENED)
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    put_frames(an.port, [[TO_RING0]], q=0)
    an.port.txsync()
    rig.dev.step()
    rig.adapter.handle_interrupts()
    an.port.rxsync()
    assert take_packets(an.port, 0) == [TO_RING0] and take_packets(an.port, 1) == []
    assert an.rings.copies.tolist() == [1, 0]


def test_while_leaving_every_buffer_is_in_one_place_and_copies_add_up() -> None:
    """Leaving with netmap buffers posted all round the RX rings and netmap packets in
    flight: at every interrupt each buffer is with the device or on the free list (TX
    completions give theirs back), each frame landing in a netmap buffer is copied up
    the stack and counted once, and an interrupt on one queue cleans that queue only;
    then the stack's own traffic drains the RX rings, the memory goes, and the stack
    sends ring after ring of packets with no reset."""
    rig, an, stack = small_adapter(HARDENED)
    ad = rig.adapter
    batch = rig.frames(12, seed=6)
    mixed = rig.frames(8, seed=7)
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    port, rings = an.port, an.rings
    for i in range(6):  # two passes round the 16-slot RX rings: netmap buffers posted
        put_frames(port, [[bytes([i, k]) * 30] for k in range(6)], q=0)
        port.txsync()
        rig.dev.step()
        ad.handle_interrupts()
        port.txsync()
        port.rxsync()
        take_packets(port, 0)
        take_packets(port, 1)
    before = rings.copies.copy()
    frames = [bytes([99, k]) * 30 for k in range(5)]
    put_frames(port, [[f] for f in frames], q=0)
    port.txsync()
    assert an.reg(False) == 0 and an.leaving
    nbufs = rings.mem.nbufs
    assert rings.buffers_held().tolist() == list(range(2, nbufs))
    rig.dev.step()
    ad.handle_interrupts()
    assert sorted(stack) == sorted(frames)
    assert int((rings.copies - before).sum()) == len(frames)
    assert rings.buffers_held().tolist() == list(range(2, nbufs))
    assert an.leaving and not ad.driver.xmit_held  # TX drained; RX buffers still posted
    # an interrupt on queue 0 cleans queue 0 only: queue 1 waits for its own
    ad.driver.transmit(mixed)
    rig.dev.step()
    rig.bus.msix.take()
    on0 = sum(r.lengths.size for r in nm_rfc.drain(rings, np.array([0])))
    on1 = sum(r.lengths.size for r in nm_rfc.drain(rings, np.array([1])))
    assert on0 > 0 and on1 > 0 and on0 + on1 == len(mixed)
    rounds = 0
    while an.leaving and rounds < 6:
        rig.traffic(batch, 1)
        rounds += 1
        if an.leaving:
            assert rings.buffers_held().tolist() == list(range(2, nbufs))
    assert not an.leaving and an.rings is None and rig.blocks() == blocks
    rig.traffic(batch, 8)  # several times round the 16-entry TX rings
    ledger = ad.packets()
    assert ledger.dropped == 0 and ad.driver.in_flight() == 0
    assert ledger.completed + ad.driver.queued() == (rounds + 8) * len(batch) + len(mixed)
    assert not ad.reset.triggered and not ad.stats.resets


@pytest.mark.parametrize("malformed", [False, True])
def test_one_interrupt_while_leaving_cleans_up_to_the_budget_rounds(malformed: bool) -> None:
    """ena_cleanup while leaving runs RX rounds of 256 descriptors until the queues are
    empty (at most ENA_CLEAN_BUDGET rounds): 300 frames on one ring all go up the stack
    on one interrupt.  A malformed completion on the other ring triggers the reset in
    the first round, and the cleanup stops there: the rest waits for the reset."""
    rig, an, stack = small_adapter(HARDENED, depth=1024)
    ad = rig.adapter
    assert an.reg(True) == 0 and an.port is not None
    put_frames(an.port, [[TO_RING0]] * 300 + [[TO_RING1]], q=0)
    an.port.txsync()
    assert an.reg(False) == 0 and an.leaving
    rig.dev.step()
    if malformed:
        rx = ad.driver.rx
        assert rx.cq is not None
        rx.cq[1, int(rx.cq_head[1])]["status"] |= np.uint32(RxCdesc.MBZ17.put(1))
    ad.handle_interrupts()
    if malformed:
        assert ad.reset.reason == ResetReason.RX_DESCRIPTOR_MALFORMED
        assert 0 < len(stack) < 300
    else:
        assert sorted(stack) == [TO_RING1] + [TO_RING0] * 300
        assert not an.leaving and an.rings is None


@pytest.mark.parametrize("side", ["rx", "tx"])
def test_while_leaving_malformed_completions_trigger_the_reset(side: str) -> None:
    """The exit's cleanup validates completions as ENA does with CDESC_MBZ: MBZ bits in
    an RX completion -> RX_DESCRIPTOR_MALFORMED, in a TX one -> TX_DESCRIPTOR_MALFORMED."""
    rig, an, _ = small_adapter(HARDENED)
    ad = rig.adapter
    assert an.reg(True) == 0 and an.port is not None
    put_frames(an.port, [[TO_RING0]], q=0)
    an.port.txsync()
    assert an.reg(False) == 0 and an.leaving
    if side == "rx":
        rig.dev.faults = Faults(cdesc_mbz=1.0)
    rig.dev.step()
    if side == "tx":
        tx = ad.driver.tx
        assert tx.cq is not None
        head = int(tx.cq_head[0])
        tx.cq[0, head]["flags"] |= np.uint8(TxCdesc.MBZ6.put(1))
    ad.handle_interrupts()
    want = (ResetReason.RX_DESCRIPTOR_MALFORMED if side == "rx"
            else ResetReason.TX_DESCRIPTOR_MALFORMED)
    assert ad.reset.triggered and ad.reset.reason == want


def test_as_shipped_after_the_rfc_switch_the_refill_still_stops_at_rhead() -> None:
    """The RFC's switch marks the RX rings initialized, as ena_up's fill does: the
    as-shipped refill keeps its ``nr_hwcur == rhead`` stop.  On an 8-slot ring the user
    ends up holding five unread frames with ``nr_hwcur == rhead != nr_hwtail``: the refill
    stops with ENOMEM instead of posting the buffers of the user's own slots."""
    rig, an, _ = small_adapter(SHIPPED, depth=8)
    assert an.reg(True) == 0 and an.port is not None
    nm = an.port
    kr = nm.rx
    # per round: frames sent (all to RX ring 0), then slots the user releases
    for k, rel in [(0, 0), (2, 3), (0, 2), (3, 3), (3, 0), (2, 3), (1, 0)]:
        nm.txsync()
        put_frames(nm, [[TO_RING0]] * k, q=0)
        nm.txsync()
        rig.dev.step()
        rig.adapter.handle_interrupts()
        nm.txsync()
        n_held = (int(kr.ring_tail[0]) - int(kr.ring_head[0])) % 8
        kr.ring_head[0] = kr.ring_cur[0] = (int(kr.ring_head[0]) + min(rel, n_held)) % 8
        r = nm.rxsync(0)
    assert r.refill is not None and r.refill.rc.tolist() == [errno.ENOMEM]
    assert r.refill.posted.tolist() == [0]
    assert int(kr.hwcur[0]) == int(kr.rhead[0]) != int(kr.hwtail[0])
    assert take_packets(nm, 0) == [TO_RING0] * 5
