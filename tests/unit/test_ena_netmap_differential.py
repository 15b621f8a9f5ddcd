"""The vectorized netmap TX and RX paths of ENA against their slot-at-a-time port.

Twin rigs (the same device seed, the same user actions): one runs
:func:`impl.ena.nm_tx.tx_frames` and ``tx_cleanup``, the other the C loops one slot at a
time (:mod:`impl.ena.nm_reference`).  Random NS_MOREFRAG chains of random lengths (zero,
oversized and bad buffers included), host mode and LLQ with its burst limit, meta caching
on and off, a tight SGL limit, both driver policies, the device completing some or all in
random order; after every sync both sides hold the same kring, slots, queue state,
counters, reset request, and the device put the same bytes on the wire.  RX likewise:
frames looped back over one to three buffers, the user releasing slots at random, the
device repeating req_ids, scattering too widely, setting FIRST or MBZ bits.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire
from impl.ena import nm_reference, nm_rx, nm_tx
from impl.ena.driver import DriverConfig, EnaDriver, Policy
from impl.ena.nm_port import EnaNetmap
from impl.netmap.layout import NS_MOREFRAG
from ringspec.bench.ena_rig import Sink


def twin(llq: bool, policy: Policy, meta_off: bool, sgl: int, seed: int, burst_bytes: int = 512
         ) -> tuple[EnaDevice, EnaNetmap, Sink]:
    burst = burst_bytes if llq else 0
    bus = Bus(mem_size=1 << 23)
    dev = EnaDevice(bus, DeviceConfig(llq_entry_size=128, max_tx_burst_bytes=burst, seed=seed),
                    tx_window=4)
    bus.regs.attach(dev)
    bus.llq.attach(dev)
    sink = Sink()
    dev.link = sink
    drv = EnaDriver(bus, dev, DriverConfig(num_queues=1, tx_ring_size=16, rx_ring_size=16,
                                           llq=llq, max_tx_burst_bytes=burst, policy=policy,
                                           disable_meta_caching=meta_off,
                                           max_tx_sgl_size=sgl))
    nm = EnaNetmap.on_driver(drv)
    nm.up()
    return dev, nm, sink


FRAG = st.integers(0, 300) | st.sampled_from([1, 96, 97, 2048, 2049])
CHAIN = st.lists(FRAG, min_size=1, max_size=4)
STEP = st.tuples(st.lists(CHAIN, max_size=5), st.sampled_from([0, 1, 2, None]),
                 st.booleans())


def publish(nm: EnaNetmap, chains: list[list[int]], bad_buf: bool, rng_byte: int) -> None:
    """The user writes chains at head as far as the ring has room, then publishes."""
    kr, mem = nm.tx, nm.rings.mem
    n = kr.num_slots
    room = (int(kr.ring_tail[0]) - int(kr.ring_head[0])) % n
    i = int(kr.ring_head[0])
    for chain in chains:
        if len(chain) > room:
            break
        for k, ln in enumerate(chain):
            b = int(kr.slot_buf_idx[0, i])
            if 2 <= b < mem.nbufs:
                mem.bufs[b, :min(ln, mem.buf_size)] = (rng_byte + k) & 0xFF
            kr.slot_len[0, i] = ln
            kr.slot_flags[0, i] = NS_MOREFRAG if k < len(chain) - 1 else 0
            if bad_buf and k == 0:
                kr.slot_buf_idx[0, i] = mem.nbufs + 3
            i = (i + 1) % n
        room -= len(chain)
    kr.ring_head[0] = kr.ring_cur[0] = kr.rhead[0] = i  # what the prologue accepts


def state(dev: EnaDevice, nm: EnaNetmap, sink: Sink) -> dict[str, object]:
    tx, kr, rings = nm.drv.tx, nm.tx, nm.rings
    out: dict[str, object] = {
        "kring": (int(kr.hwcur[0]), int(kr.hwtail[0])),
        "slots": (kr.slot_buf_idx[0].tolist(), kr.slot_len[0].tolist(),
                  kr.slot_flags[0].tolist()),
        "sockets": (rings.tx_sockets.tolist(), rings.tx_socket_buf.tolist()),
        "reset": (nm.drv.reset.triggered, int(nm.drv.reset.reason)),
        "wire": sink.drain()[1].tobytes(),
        "device": dev.stats.as_dict(),
    }
    for name in ("tail", "phase", "next_to_use", "next_to_clean", "next_to_comp", "free_ids",
                 "acum_pkts", "burst_left", "inflight", "cq_head", "cq_phase", "bounce",
                 "bounce_ntu"):
        out[name] = getattr(tx, name).tolist()
    out["tx_descs"] = np.where(rings.tx_sockets > 0, tx.tx_descs, 0).tolist()
    out["stats"] = {k: v.tolist() for k, v in tx.stats.as_dict().items()}
    return out


@settings(max_examples=120)
@given(llq=st.booleans(), policy=st.sampled_from(list(Policy)), meta_off=st.booleans(),
       sgl=st.sampled_from([2, 19]), seed=st.integers(0, 99),
       steps=st.lists(STEP, min_size=1, max_size=6))
def test_the_vectorized_netmap_tx_path_is_the_c_loop(llq: bool, policy: Policy,
                                                     meta_off: bool, sgl: int, seed: int,
                                                     steps: list) -> None:
    a, b = twin(llq, policy, meta_off, sgl, seed), twin(llq, policy, meta_off, sgl, seed)
    for i, (chains, complete, bad_buf) in enumerate(steps):
        for dev, nm, _ in (a, b):
            publish(nm, chains, bad_buf, 17 * i)
            dev.complete_tx(max_per_queue=complete)
        rc_a = nm_tx.tx_frames(a[1].rings, np.array([0])).rc.tolist()
        nm_tx.tx_cleanup(a[1].rings, np.array([0]), a[1].drv.cfg.cdesc_mbz)
        a[1].drv.reset.trigger_first(np.zeros(1, dtype=np.int64))
        rc_b, _ = nm_reference.tx_frames(b[1].rings, 0)
        nm_reference.tx_cleanup(b[1].rings, 0, b[1].drv.cfg.cdesc_mbz)
        assert rc_a == [rc_b], i
        sa, sb = state(*a), state(*b)
        for key in sa:
            assert sa[key] == sb[key], (i, key)


def test_a_full_ring_after_a_burst_doorbell_rings_once_more() -> None:
    """LLQ with a burst of two entries and 2-entry packets: every packet after the first
    rings the doorbell before it; the 8th finds the SQ full after ringing. As
    ena_netmap_tx_frames rings at the end whenever it sent anything, that is one more
    doorbell (same tail) than ena_start_xmit's ``acum_pkts != 0`` would ring."""
    a = twin(True, Policy.HARDENED, True, 19, 0, burst_bytes=256)
    b = twin(True, Policy.HARDENED, True, 19, 0, burst_bytes=256)
    for _, nm, _ in (a, b):
        publish(nm, [[200, 200]] * 7 + [[200]], False, 5)
    assert nm_tx.tx_frames(a[1].rings, np.array([0])).why.tolist() == [nm_tx.RING_FULL]
    nm_reference.tx_frames(b[1].rings, 0)
    sa, sb = state(*a), state(*b)
    assert sa == sb
    assert sa["stats"]["doorbells"] == [8]  # 6 before packets 2-7, 1 before the 8th, 1 at the end


def rx_twin(policy: Policy, seed: int, knob: str, rate: float) -> tuple[EnaDevice, EnaNetmap]:
    bus = Bus(mem_size=1 << 23)
    dev = EnaDevice(bus, DeviceConfig(seed=seed), tx_window=2,
                    faults=Faults(**{knob: rate}) if knob else None)
    bus.regs.attach(dev)
    Wire(SimClock()).loopback(dev)
    drv = EnaDriver(bus, dev, DriverConfig(num_queues=1, tx_ring_size=16, rx_ring_size=16,
                                           policy=policy, max_rx_sgl_size=3))
    nm = EnaNetmap.on_driver(drv)
    nm.up()
    return dev, nm


def rx_state(nm: EnaNetmap) -> dict[str, object]:
    rx, kr, rings = nm.drv.rx, nm.rx, nm.rings
    out: dict[str, object] = {
        "kring": (int(kr.hwcur[0]), int(kr.hwtail[0])),
        "slots": (kr.slot_buf_idx[0].tolist(), kr.slot_len[0].tolist(),
                  kr.slot_flags[0].tolist()),
        "rx_buf": rings.rx_buf.tolist(),
        "reset": (nm.drv.reset.triggered, int(nm.drv.reset.reason)),
        "sq": None if rx.sq is None else rx.sq.tobytes(),
    }
    for name in ("tail", "phase", "next_to_use", "next_to_clean", "next_to_comp", "free_ids",
                 "posted", "cq_head", "cq_phase", "cur_count", "cur_start"):
        out[name] = getattr(rx, name).tolist()
    out["stats"] = {k: v.tolist() for k, v in rx.stats.as_dict().items()}
    return out


def chains(sizes: list[int], room: int) -> list[list[int]]:
    """Frames of ``sizes`` bytes as NS_MOREFRAG chains of 2048-byte slots (a frame past
    one buffer arrives in several RX descriptors), as many as ``room`` slots hold."""
    out: list[list[int]] = []
    for size in sizes:
        frags = [2048] * (size // 2048) + ([size % 2048] if size % 2048 else [])
        if len(frags) > room:
            break
        out.append(frags)
        room -= len(frags)
    return out


@settings(max_examples=120)
@given(policy=st.sampled_from(list(Policy)), seed=st.integers(0, 99),
       knob=st.sampled_from(["", "rx_req_id_dup", "rx_too_many_descs", "rx_first_not_first",
                             "cdesc_mbz"]),
       rate=st.sampled_from([0.1, 0.5]),
       steps=st.lists(st.tuples(st.lists(st.integers(60, 5000), max_size=4),
                                st.integers(0, 15)), min_size=1, max_size=6))
def test_the_vectorized_netmap_rx_path_is_the_c_loop(policy: Policy, seed: int, knob: str,
                                                     rate: float, steps: list) -> None:
    a, b = rx_twin(policy, seed, knob, rate), rx_twin(policy, seed, knob, rate)
    for i, (sizes, release) in enumerate(steps):
        for dev, nm in (a, b):
            kr = nm.tx
            room = (int(kr.ring_tail[0]) - int(kr.ring_head[0])) % kr.num_slots
            publish(nm, chains(sizes, room), False, 3 * i)
            nm_tx.tx_frames(nm.rings, np.array([0]))
            dev.step()
            nm_tx.tx_cleanup(nm.rings, np.array([0]), nm.drv.cfg.cdesc_mbz)
            rk = nm.rx  # the user releases up to ``release`` of the slots it holds
            held = (int(rk.ring_tail[0]) - int(rk.ring_head[0])) % rk.num_slots
            rk.ring_head[0] = rk.ring_cur[0] = rk.rhead[0] = (
                int(rk.ring_head[0]) + min(release, held)) % rk.num_slots
        if a[1].drv.reset.triggered:
            break
        fa = nm_rx.rx_frames(a[1].rings, np.array([0]), a[1].drv.cfg.cdesc_mbz)
        if fa.rc[0] == 0:
            nm_rx.rx_cleanup(a[1].rings, np.array([0]))
        rc_b, _ = nm_reference.rx_frames(b[1].rings, 0, b[1].drv.cfg.cdesc_mbz)
        if rc_b == 0:
            nm_reference.rx_cleanup(b[1].rings, 0)
        assert fa.rc.tolist() == [rc_b], i
        for nm in (a[1], b[1]):  # the user sees what rxsync's finalize would show
            nm.rx.ring_tail[0] = nm.rx.hwtail[0]
        sa, sb = rx_state(a[1]), rx_state(b[1])
        for key in sa:
            assert sa[key] == sb[key], (i, key)
