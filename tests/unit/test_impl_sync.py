"""impl.netmap syncs, reinit, reset and the soft NIC, checked against model/netmap_ring.py."""

from __future__ import annotations

import random

import numpy as np
import pytest

from impl.netmap import (
    AS_SHIPPED,
    HARDENED,
    NS_BUF_CHANGED,
    NS_PORT_SHIFT,
    NS_REPORT,
    NetmapAdapter,
)
from model.core import U32_MAX, ring_dist, ring_prev
from model.netmap_ring import RX, TX, NetmapRing, user_indices_in_range, user_space

POLICIES = (AS_SHIPPED, HARDENED)


def read_frames(a: NetmapAdapter, q: int, k: int | None = None) -> list[bytes]:
    """Split ``user_read``'s concatenated bytes into one bytes object per frame."""
    lengths, data = a.user_read(q, k)
    ends = np.cumsum(lengths)
    return [data[e - ln : e].tobytes() for e, ln in zip(ends, lengths, strict=True)]


def frames_for(k: int, width: int, tag: int) -> np.ndarray:
    """k distinguishable frames: byte j of frame i is (tag * 31 + i * 7 + j) mod 256."""
    i = np.arange(k)[:, None]
    j = np.arange(width)[None, :]
    return ((tag * 31 + i * 7 + j) % 256).astype(np.uint8)


# ------------------------------------------------------------------------------ TX


def test_tx_round_trip() -> None:
    a = NetmapAdapter(1, 0, num_slots=8, buf_size=64)
    fr = frames_for(3, 40, tag=1)
    lens = np.array([40, 17, 1])
    a.user_fill(0, fr, lens)
    bufs = a.slots("tx", 0)["buf_idx"][:3].astype(np.int64)
    a.user_advance("tx", 0, 3)
    res = a.txsync(0)
    assert res.accepted.tolist() == [True] and res.sent.tolist() == [3]
    assert a.abstract("tx", 0) == NetmapRing(8, 3, 3, 7, 3, 7, 3, 3, 7, 0, 3)
    assert a.device_buffers("tx", 0).tolist() == bufs.tolist()
    assert len(a.wire) == 0
    a.device_complete(0, 2)
    assert a.abstract("tx", 0).tail == 7  # nothing reclaimed until the next sync
    a.txsync(0)
    assert a.user_indices("tx", 0) == (3, 3, 1)  # tail advanced over 2 completions
    assert a.abstract("tx", 0) == NetmapRing(8, 3, 3, 1, 3, 1, 3, 3, 1, 2, 1)
    assert a.wire.rings().tolist() == [0, 0]
    assert a.wire.lengths().tolist() == [40, 17]
    assert a.wire.bufs().tolist() == bufs[:2].tolist()
    assert a.wire.frame(0) == fr[0, :40].tobytes()
    assert a.wire.frame(1) == fr[1, :17].tobytes()
    a.device_complete(0, 1)
    assert a.wire.frame(2) == fr[2, :1].tobytes()
    with pytest.raises(ValueError, match="only 0 owned"):
        a.device_complete(0, 1)


def test_tx_sent_cap_and_link_down() -> None:
    a = NetmapAdapter(1, 0, num_slots=8, buf_size=64)
    a.user_advance("tx", 0, 5)
    assert a.txsync(0, sent=0).sent.tolist() == [0]
    s = a.abstract("tx", 0)
    assert (s.hwcur, s.rhead, s.busy) == (0, 5, 0)  # link down: hwcur lags rhead
    assert a.txsync(0, sent=2).sent.tolist() == [2]
    assert a.txsync(0).sent.tolist() == [3]
    assert a.abstract("tx", 0).busy == 5
    with pytest.raises(ValueError):
        a.txsync(0, sent=-1)


def test_tx_scribbled_inflight_slot_does_not_change_wire() -> None:
    a = NetmapAdapter(1, 0, num_slots=4, buf_size=16, extra_bufs=1)
    a.user_fill(0, frames_for(1, 16, tag=5))
    buf0 = int(a.slots("tx", 0)["buf_idx"][0])
    a.user_advance("tx", 0, 1)
    a.txsync(0)
    other = int(a.mem.alloc(1)[0])
    a.buffer(other)[:] = 0xEE
    a.slots("tx", 0)["buf_idx"][0] = other  # the user swaps the in-flight slot's buffer
    a.slots("tx", 0)["len"][0] = 3
    a.device_complete(0, 1)
    assert a.wire.bufs().tolist() == [buf0]
    assert a.wire.frame(0) == frames_for(1, 16, tag=5)[0].tobytes()


def test_tx_driver_stops_at_first_bad_slot() -> None:
    a = NetmapAdapter(2, 0, num_slots=8, buf_size=32)
    a.user_advance("tx", 0, 6)
    a.user_advance("tx", 1, 6)
    a.slots("tx", 0)["buf_idx"][3] = 1  # reserved buffer
    a.slots("tx", 1)["len"][2] = 33  # longer than a buffer
    port = 3 << NS_PORT_SHIFT  # a VALE destination port, in the high byte
    a.slots("tx", 0)["flags"][:] = NS_BUF_CHANGED | NS_REPORT | port
    res = a.txsync([0, 1])
    assert res.accepted.tolist() == [True, True]
    assert res.sent.tolist() == [3, 2]
    assert res.bad_slot.tolist() == [3, 2] and res.stopped.all()
    assert a.abstract("tx", 0).hwcur == 3 and a.abstract("tx", 1).hwcur == 2
    # The driver clears NS_BUF_CHANGED on the slots it handed over, and only that flag.
    assert a.slots("tx", 0)["flags"].tolist() == [NS_REPORT | port] * 3 + [
        NS_BUF_CHANGED | NS_REPORT | port
    ] * 5
    # The model agrees once told how many slots the driver managed to send.
    for q, sent in ((0, 3), (1, 2)):
        s = TX.init(8).replace(head=6, cur=6)
        assert TX.transitions["txsync_hardened"](s, sent=sent).post == a.abstract("tx", q)


def test_as_shipped_adopts_illegal_head_reference_7_2() -> None:
    """The reinit-adopts finding: n=8, hwcur=5, hwtail=1; the user writes head=3, tail=2."""
    out = {}
    for policy in POLICIES:
        a = NetmapAdapter(1, 0, num_slots=8, buf_size=32, policy=policy)
        a.user_advance("tx", 0, 5)
        a.txsync(0)
        a.device_complete(0, 2)
        a.txsync(0)
        s = a.abstract("tx", 0)
        assert (s.hwcur, s.hwtail, s.rhead, s.rtail, s.nic, s.busy) == (5, 1, 5, 1, 2, 3)
        a.set_user_indices("tx", 0, head=3, cur=3, tail=2)
        r1 = a.txsync(0)
        assert r1.accepted.tolist() == [False]
        after1 = a.abstract("tx", 0)
        r2 = a.txsync(0)
        out[policy] = (after1, r2, a.abstract("tx", 0), a.device("tx").available(np.array([0])))
    after1, r2, after2, avail = out[AS_SHIPPED]
    assert (after1.rhead, after1.rcur, after1.rtail) == (3, 3, 2)  # adopted by the kring
    assert after1.hwcur == 5 and (after1.head, after1.tail) == (3, 2)
    assert r2.accepted.tolist() == [True] and r2.sent.tolist() == [6]  # slots 5,6,7,0,1,2
    assert after2.hwcur == 3 and after2.busy == 9 > after2.n - 1
    assert avail.tolist() == [1]  # the NIC's registers lost track of 8 descriptors
    assert TX.violated(after2, user_view=False)
    after1, r2, after2, _ = out[HARDENED]
    assert (after1.head, after1.cur, after1.tail) == (5, 5, 1)  # rewritten from the kring
    assert (after1.rhead, after1.rtail) == (5, 1)
    assert r2.accepted.tolist() == [True] and r2.sent.tolist() == [0]
    assert not TX.violated(after2)


# ------------------------------------------------------------------------------ RX


def test_rx_round_trip() -> None:
    a = NetmapAdapter(0, 1, num_slots=8, buf_size=64)
    assert a.abstract("rx", 0) == RX.init(8)
    posted = a.device_buffers("rx", 0)
    assert posted.tolist() == a.slots("rx", 0)["buf_idx"][:7].astype(np.int64).tolist()
    fr = frames_for(3, 50, tag=2)
    lens = np.array([50, 9, 0])
    a.slots("rx", 0)["flags"][:] = NS_BUF_CHANGED  # stale flags: reporting clears them
    a.device_deliver(0, 3, fr, lens)
    assert a.user_indices("rx", 0) == (0, 0, 0)  # nothing reported before the sync
    res = a.rxsync(0)
    assert res.accepted.tolist() == [True] and res.reported.tolist() == [3]
    assert res.refilled.tolist() == [0]
    assert a.user_indices("rx", 0) == (0, 0, 3)
    assert read_frames(a, 0) == [fr[0, :50].tobytes(), fr[1, :9].tobytes(), b""]
    assert a.slots("rx", 0)["len"][:3].tolist() == [50, 9, 0]
    assert a.slots("rx", 0)["flags"].tolist() == [0, 0, 0] + [NS_BUF_CHANGED] * 5
    a.user_advance("rx", 0, 2, 1)
    res = a.rxsync(0)
    assert res.refilled.tolist() == [2]
    assert a.abstract("rx", 0) == NetmapRing(8, 2, 3, 3, 2, 3, 2, 3, 3, 3, 6)
    # the NIC may now use slots 3..6 plus the old gap slot 7 and slot 0
    dev = a.device_buffers("rx", 0).tolist()
    slot_bufs = a.slots("rx", 0)["buf_idx"].astype(np.int64)
    assert dev == slot_bufs[[3, 4, 5, 6, 7, 0]].tolist()
    with pytest.raises(ValueError, match="only 6 owned"):
        a.device_deliver(0, 7)
    fr2 = frames_for(6, 64, tag=4)
    lens2 = np.array([64, 1, 30, 2, 63, 5])
    a.device_deliver(0, 6, fr2, lens2)  # into slots 3..7, 0: the report wraps
    a.rxsync(0)
    assert a.user_indices("rx", 0) == (2, 3, 1)
    assert read_frames(a, 0) == [fr[2, :0].tobytes()] + [
        fr2[j, : lens2[j]].tobytes() for j in range(6)
    ]


def test_rx_deliver_rejects_oversize_frames() -> None:
    a = NetmapAdapter(0, 1, num_slots=4, buf_size=16)
    with pytest.raises(ValueError):
        a.device_deliver(0, 1, np.zeros((1, 17), np.uint8))
    with pytest.raises(ValueError):
        a.device_deliver(0, 2, np.zeros((1, 8), np.uint8))
    assert a.abstract("rx", 0) == RX.init(4)


def test_rx_as_shipped_stores_before_validating() -> None:
    """RX stores before validating: a rejected in-range head is in the kring when the
    driver runs (as shipped)."""
    for policy in POLICIES:
        a = NetmapAdapter(0, 1, num_slots=8, buf_size=32, policy=policy)
        a.device_deliver(0, 4)
        a.rxsync(0)
        a.set_user_indices("rx", 0, head=6, cur=6)  # beyond hwtail=4: illegal
        res = a.rxsync(0)
        s = a.abstract("rx", 0)
        assert res.accepted.tolist() == [False]
        if policy == AS_SHIPPED:
            # the kring adopted head=6, and the driver refilled [0, 6) incl. unread 4, 5
            assert (s.rhead, s.hwcur, res.refilled[0]) == (6, 6, 6)
            assert s.busy == 3 + 6
        else:
            assert (s.head, s.rhead, s.hwcur, res.refilled[0]) == (0, 0, 0, 0)
            assert not RX.violated(s)


# ------------------------------------------------------------------------------ reinit / reset


def test_reinit_sanitises_every_slot() -> None:
    a = NetmapAdapter(1, 1, num_slots=6, buf_size=32)
    for kind in ("tx", "rx"):
        sl = a.slots(kind, 0)
        good = sl["buf_idx"].astype(np.int64).copy()
        sl["buf_idx"][[0, 1, 2]] = [0, 1, a.mem.nbufs]
        sl["len"][:] = [5, 5, 5, 33, 32, 7]
        a.ring_reinit(kind, 0)
        assert sl["buf_idx"].astype(np.int64).tolist() == [0, 0, 0, *good[3:].tolist()]
        assert sl["len"].tolist() == [0, 0, 0, 0, 32, 7]


@pytest.mark.parametrize("policy", POLICIES)
def test_reinit_on_its_own_matches_model(policy: str) -> None:
    a = NetmapAdapter(1, 1, num_slots=8, buf_size=32, policy=policy)
    for kind, machine in (("tx", TX), ("rx", RX)):
        for head, cur, tail in ((3, 4, 5), (9, 1, 1), (1, U32_MAX, 2)):
            a.set_user_indices(kind, 0, head=head, cur=cur, tail=tail)
            before = a.abstract(kind, 0)
            reset = a.ring_reinit(kind, 0)
            expect = machine.transitions[f"ring_reinit_{policy}"](before).post
            assert a.abstract(kind, 0) == expect
            assert reset.tolist() == [policy == HARDENED or max(head, cur, tail) >= 8]


def test_tx_netmap_reset() -> None:
    a = NetmapAdapter(1, 0, num_slots=8, buf_size=32)
    a.user_fill(0, frames_for(6, 32, tag=3))
    a.user_advance("tx", 0, 4)
    a.txsync(0, sent=2)
    before = a.abstract("tx", 0)
    a.netmap_reset("tx", 0)
    assert a.abstract("tx", 0) == TX.transitions["netmap_reset"](before).post
    assert int(a.tx.nkr_hwofs[0]) == 4
    assert a.abstract("tx", 0).busy == 0 and a.device_buffers("tx", 0).size == 0
    a.user_advance("tx", 0, 2)
    a.txsync(0)
    assert a.txdev.tail[0] == 2  # NIC indices restart at 0 for kring slot 4
    a.device_complete(0, 2)
    assert a.wire.bufs().tolist() == a.slots("tx", 0)["buf_idx"][[4, 5]].tolist()
    assert a.wire.frame(1) == frames_for(6, 32, tag=3)[5].tobytes()


def test_rx_netmap_reset() -> None:
    a = NetmapAdapter(0, 1, num_slots=8, buf_size=32)
    a.device_deliver(0, 3)
    a.rxsync(0)
    a.user_advance("rx", 0, 1)  # released, but no sync: rhead stays 0
    a.device_deliver(0, 2)  # filled but never reported: dropped by the reset
    before = a.abstract("rx", 0)
    a.netmap_reset("rx", 0)
    after = a.abstract("rx", 0)
    assert after == RX.transitions["netmap_reset"](before).post
    assert (after.hwcur, after.hwtail, after.nic, after.busy) == (0, 3, 3, 4)
    assert int(a.rx.nkr_hwofs[0]) == 3
    slot_bufs = a.slots("rx", 0)["buf_idx"].astype(np.int64)
    assert a.device_buffers("rx", 0).tolist() == slot_bufs[[3, 4, 5, 6]].tolist()
    fr = frames_for(4, 20, tag=9)
    a.device_deliver(0, 4, fr)
    a.user_advance("rx", 0, 0)
    res = a.rxsync(0)
    assert res.reported.tolist() == [4]
    assert a.user_indices("rx", 0) == (1, 1, 7)
    assert read_frames(a, 0)[2:] == [fr[j].tobytes() for j in range(4)]
    # The slots the user held across the reset were never posted under the new NIC
    # numbering: once released, the refill must post *their* buffers (whatever the
    # descriptors held before), flag or no NS_BUF_CHANGED.
    a.user_advance("rx", 0, 6)
    assert a.rxsync(0).refilled.tolist() == [6]
    s = a.abstract("rx", 0)
    assert not RX.violated(s) and s.busy == 7  # every slot but the gap
    assert a.device_buffers("rx", 0).tolist() == slot_bufs[(s.nic + np.arange(7)) % 8].tolist()


# ------------------------------------------------------------------------------ batching


def _state_arrays(a: NetmapAdapter) -> list[np.ndarray]:
    out = [a.mem.arena.copy(), a.wire.data(), a.wire.rings()]
    for kr, dev in ((a.tx, a.txdev), (a.rx, a.rxdev)):
        out += [kr.hwcur, kr.hwtail, kr.rhead, kr.rcur, kr.rtail, kr.nkr_hwofs]
        out += [dev.head, dev.tail, dev.owned, dev.desc.view(np.uint8)]
    return [np.array(x, copy=True) for x in out]


def _apply(a: NetmapAdapter, op: str, kind: str, rings: list[int], counts: list[int],
           fr: np.ndarray, lens: np.ndarray) -> None:
    if op == "tx":
        a.txsync(rings, counts)
    elif op == "rx":
        a.rxsync(rings, counts)
    elif op == "complete":
        a.device_complete(rings, counts)
    elif op == "deliver":
        a.device_deliver(rings, counts, fr, lens)
    else:
        a.ring_reinit(kind, rings)


@pytest.mark.parametrize("policy", POLICIES)
def test_batch_equals_one_by_one(policy: str) -> None:
    nq, n = 4, 7
    batch = NetmapAdapter(nq, nq, n, buf_size=32, policy=policy, seed=3)
    single = NetmapAdapter(nq, nq, n, buf_size=32, policy=policy, seed=3)
    rng = random.Random(7)
    for _ in range(150):
        op = rng.choice(["user", "scribble", "tx", "rx", "complete", "deliver", "reinit"])
        q = rng.randrange(nq)
        kind = rng.choice(["tx", "rx"])
        rings = sorted(rng.sample(range(nq), rng.randrange(1, nq + 1)))
        counts = [rng.randrange(n + 1) for _ in rings]
        for a in (batch, single):
            if op == "user":
                s = a.abstract(kind, q)
                if user_indices_in_range(s) and user_space(s) > 0:
                    a.user_advance(kind, q, user_space(s), 0)
            elif op == "scribble":
                a.set_user_indices(kind, q, head=(q * 3) % n, cur=(q * 5) % (n + 2), tail=q % n)
        if op in ("tx", "rx", "complete", "deliver", "reinit"):
            if op == "complete":
                counts = batch.txdev.available(np.array(rings)).tolist()
            if op == "deliver":
                counts = batch.rxdev.available(np.array(rings)).tolist()
            # explicit frames: the generator's draws depend on how calls are batched
            fr = frames_for(sum(counts), 24, tag=len(rings))
            lens = np.arange(sum(counts)) % 25
            _apply(batch, op, kind, rings, counts, fr, lens)
            first = np.cumsum([0, *counts])
            for j, (r, c) in enumerate(zip(rings, counts, strict=True)):
                part = slice(first[j], first[j + 1])
                _apply(single, op, kind, [r], [c], fr[part], lens[part])
        for x, y in zip(_state_arrays(batch), _state_arrays(single), strict=True):
            assert np.array_equal(x, y)


def test_batch_argument_errors() -> None:
    a = NetmapAdapter(2, 2, 4, buf_size=16)
    with pytest.raises(ValueError):
        a.txsync([0, 0])
    with pytest.raises(ValueError):
        a.rxsync([2])
    with pytest.raises(ValueError):
        a.txsync([0, 1], sent=[1, 2, 3])
    with pytest.raises(ValueError):
        a.netmap_reset("xx", 0)
    with pytest.raises(ValueError):
        NetmapAdapter(1, 1, 4, policy="yolo")


# ------------------------------------------------------------------------------ differential


def _interesting_u32(rng: random.Random, n: int) -> int:
    return rng.choice(
        [rng.randrange(n), rng.randrange(n), rng.randrange(n), n - 1, n, n + 1, 2 * n,
         U32_MAX, rng.randrange(U32_MAX + 1)]
    )


def run_differential(kind: str, policy: str, seed: int, steps: int, slot_scribbles: bool) -> int:
    """Drive the model and the impl side by side; return the number of checked steps."""
    rng = random.Random(seed)
    n = rng.choice([2, 3, 4, 5, 8])
    nq = 3
    machine = TX if kind == "tx" else RX
    a = NetmapAdapter(nq if kind == "tx" else 0, nq if kind == "rx" else 0, n, buf_size=16,
                      policy=policy, seed=seed)
    model = [machine.init(n) for _ in range(nq)]
    dev = a.device(kind)
    sync_name = ("txsync_" if kind == "tx" else "rxsync_") + policy
    dev_name = "device_complete" if kind == "tx" else "device_deliver"
    scribbled = False
    tainted = policy == AS_SHIPPED  # the hardened run stays clean unless as-shipped reinit ran
    checked = 0
    for _ in range(steps):
        op = rng.choices(
            ["advance", "scribble", "sync", "device", "device_over", "reinit", "reset", "slot"],
            weights=[6, 2, 6, 5, 1, 1, 1, 2 if slot_scribbles else 0],
        )[0]
        q = rng.randrange(nq)
        s = model[q]
        if op == "advance":
            if not user_indices_in_range(s):
                continue
            space = user_space(s)
            dh = rng.randint(0, space)
            dc = rng.randint(0, space - dh)
            step = machine.transitions["user_advance"](s, dh=dh, dc=dc)
            assert step.guard
            a.user_advance(kind, q, dh, dc)
            model[q] = step.post
        elif op == "scribble":
            vals = {f: _interesting_u32(rng, n) for f in ("head", "cur", "tail")}
            if rng.random() < 0.5:  # often keep tail, scribble only head/cur
                vals["tail"] = s.tail
            a.set_user_indices(kind, q, **vals)
            model[q] = machine.transitions["user_scribble"](s, **vals).post
        elif op == "sync":
            rings = sorted(rng.sample(range(nq), rng.randint(1, nq)))
            counts = [rng.randint(0, n) for _ in rings]
            res = a.txsync(rings, counts) if kind == "tx" else a.rxsync(rings, counts)
            done = res.sent if kind == "tx" else res.refilled
            for j, r in enumerate(rings):
                arg = "sent" if kind == "tx" else "refill"
                pre = model[r]
                count = int(done[j]) if scribbled else counts[j]
                step = machine.transitions[sync_name](pre, **{arg: count})
                assert step.guard
                model[r] = step.post
                # the driver's count is exactly how far hwcur moved (0 after a TX reject)
                assert done[j] == ring_dist(pre.hwcur, model[r].hwcur, n)
                if kind == "rx":
                    assert res.reported[j] == ring_dist(pre.hwtail, model[r].hwtail, n)
        elif op in ("device", "device_over"):
            limit = ring_dist(s.nic, s.hwcur if kind == "tx" else ring_prev(s.hwcur, n), n)
            if op == "device_over":
                with pytest.raises(ValueError):
                    if kind == "tx":
                        a.device_complete(q, limit + 1)
                    else:
                        a.device_deliver(q, limit + 1)
            else:
                k = rng.randint(0, limit)
                step = machine.transitions[dev_name](s, k=k)
                assert step.guard
                if kind == "tx":
                    a.device_complete(q, k)
                else:
                    a.device_deliver(q, k)
                model[q] = step.post
        elif op == "reinit":
            pol = policy if rng.random() < 0.8 else rng.choice(POLICIES)
            tainted |= pol == AS_SHIPPED
            a.ring_reinit(kind, q, policy=pol)
            model[q] = machine.transitions[f"ring_reinit_{pol}"](s).post
        elif op == "reset":
            a.netmap_reset(kind, q)
            model[q] = machine.transitions["netmap_reset"](s).post
        elif op == "slot":
            i = rng.randrange(n)
            sl = a.slots(kind, q)
            if rng.random() < 0.5:
                sl["buf_idx"][i] = rng.choice([0, 1, a.mem.nbufs, a.mem.nbufs + 9, 2])
            else:
                sl["len"][i] = rng.choice([a.mem.buf_size + 1, 0xFFFF, 3])
            scribbled = True
        for r in range(nq):
            assert a.abstract(kind, r) == model[r], (op, r)
            if not tainted:
                assert not machine.violated(model[r], user_view=False), (op, model[r])
        assert np.array_equal(dev.available(np.arange(nq)) % n,
                              np.array([m.busy % n for m in model]))
        if not scribbled:
            assert np.array_equal(np.sort(a.buffer_places()), np.arange(2, a.mem.nbufs))
        checked += 1
    return checked


@pytest.mark.parametrize("kind", ["tx", "rx"])
@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("seed", range(4))
def test_differential_against_model(kind: str, policy: str, seed: int) -> None:
    assert run_differential(kind, policy, seed, steps=300, slot_scribbles=False) > 150


@pytest.mark.parametrize("kind", ["tx", "rx"])
@pytest.mark.parametrize("policy", POLICIES)
def test_differential_with_slot_scribbles(kind: str, policy: str) -> None:
    assert run_differential(kind, policy, 100, steps=300, slot_scribbles=True) > 150


def test_hardened_keeps_kernel_invariants_under_scribbles() -> None:
    """With the hardened policy, random runs never leave a kernel invariant broken."""
    for kind, machine in (("tx", TX), ("rx", RX)):
        a = NetmapAdapter(1 if kind == "tx" else 0, 1 if kind == "rx" else 0, 5,
                          buf_size=16, policy=HARDENED)
        rng = random.Random(11)
        for _ in range(300):
            s = a.abstract(kind, 0)
            op = rng.randrange(3)
            if op == 0:
                a.set_user_indices(kind, 0, head=_interesting_u32(rng, 5),
                                   cur=_interesting_u32(rng, 5), tail=_interesting_u32(rng, 5))
            elif op == 1:
                if kind == "tx":
                    a.txsync(0, rng.randint(0, 5))
                else:
                    a.rxsync(0, rng.randint(0, 5))
            else:
                lim = a.device(kind).available(np.array([0]))[0]
                if kind == "tx":
                    a.device_complete(0, rng.randint(0, lim))
                else:
                    a.device_deliver(0, rng.randint(0, lim))
            assert not machine.violated(a.abstract(kind, 0), user_view=False), s


def test_load_puts_a_ring_into_a_model_state() -> None:
    a = NetmapAdapter(1, 1, 8, buf_size=32)
    tx = NetmapRing(8, 6, 7, 2, 6, 2, 6, 7, 2, 4, 2)  # in flight [4, 6), user [6, 2)
    rx = NetmapRing(8, 5, 6, 0, 4, 0, 5, 6, 0, 2, 1)  # user [5, 0), ready [0, 2)
    assert not TX.violated(tx) and not RX.violated(rx)
    a.load("tx", 0, tx)
    a.load("rx", 0, rx)
    assert a.abstract("tx", 0) == tx and a.abstract("rx", 0) == rx
    slot_bufs = a.slots("tx", 0)["buf_idx"].astype(np.int64)
    assert a.device_buffers("tx", 0).tolist() == slot_bufs[[4, 5]].tolist()
    a.device_complete(0, 2)
    assert a.wire.bufs().tolist() == slot_bufs[[4, 5]].tolist()
    # and the loaded rings keep running in lockstep with the model
    post = TX.transitions["txsync_hardened"](TX.transitions["device_complete"](
        tx, k=2).post, sent=8).post
    a.txsync(0)
    assert a.abstract("tx", 0) == post
    post = RX.transitions["rxsync_hardened"](rx, refill=8).post
    a.rxsync(0)
    assert a.abstract("rx", 0) == post
    with pytest.raises(ValueError):
        a.load("tx", 0, TX.init(4))
