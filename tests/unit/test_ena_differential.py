"""The vectorized driver against the slot-at-a-time port of the C loops.

Two identical worlds get the same traffic and the same completions (written by a scripted
device, faults included); one runs impl/ena's numpy datapath, the other
impl/ena/reference_loops.py, which walks packets, descriptors and completions one at a
time as the C does. After every step both must hold the same state: every counter and
array, the descriptors and frames in host memory, the LLQ BAR, the doorbell and unmask
writes in order, the stats, the reset reason; and report the same sent, dropped,
completed and delivered packets."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from support.ena_harness import Script, World, assert_same

from impl.ena import reference_loops as ref
from impl.ena.driver import DriverConfig, Policy
from impl.ena.txmap import CSUM_IP, CSUM_IP_TCP, CSUM_IP_TSO, CSUM_IP_UDP
from impl.ena_defs.layouts import IntrReg
from impl.packets import PacketBatch

CONFIGS = st.fixed_dictionaries({
    "num_queues": st.integers(1, 3),
    "tx_ring_size": st.sampled_from([32, 64, 256]),
    "rx_ring_size": st.sampled_from([32, 64, 256]),
    "buf_ring_size": st.sampled_from([64, 4096]),
    "llq": st.booleans(),
    "llq_entry_size": st.sampled_from([128, 256]),
    "max_tx_burst_bytes": st.sampled_from([0, 1024, 4096]),
    "disable_meta_caching": st.booleans(),
    "max_tx_sgl_size": st.sampled_from([4, 19]),
    "max_rx_sgl_size": st.sampled_from([3, 19]),
    "rx_buf_size": st.sampled_from([512, 2048]),
    "device_max_header_size": st.sampled_from([0, 128, 300]),
    "policy": st.sampled_from(list(Policy)),
})

OPS = st.lists(st.tuples(st.sampled_from(["send", "tx_complete", "rx", "cleanup", "cleanup"]),
                         st.sampled_from([None] * 12 + ["mbz", "oob", "dup", "first",
                                                        "too_many"]),
                         st.integers(0, 2**32 - 1)), min_size=1, max_size=16)


def frames(w: World, rng: np.random.Generator, n: int, max_sgl: int) -> PacketBatch:
    lengths = rng.integers(1, rng.choice([5000, 12000]), n)
    short = rng.random(n) < 0.3
    lengths[short] = rng.integers(1, 200, int(short.sum()))
    segs = np.minimum(rng.integers(1, max_sgl + 3, n), lengths)
    base = w.bus.mem.alloc(max(int(lengths.sum()), 1), 64)
    payload = rng.integers(0, 256, int(lengths.sum()), dtype=np.uint8)
    w.bus.mem.data[base:base + payload.size] = payload
    offs = base + np.cumsum(lengths) - lengths
    return PacketBatch.from_arrays(w.bus.mem.data, offs, lengths, segs)


@settings(max_examples=100, deadline=None)
@given(CONFIGS, OPS)
def test_vectorized_driver_matches_the_slot_at_a_time_port(cfgd: dict, ops: list) -> None:
    cfg = DriverConfig(**cfgd)
    a, b = World(cfg), World(cfg)
    a.drv.up()
    b.drv.up()
    assert_same(a, b)
    script = Script(cfg.num_queues, cfg.tx_ring_size, cfg.rx_ring_size)
    for op, fault, seed in ops:
        rng = np.random.default_rng(seed)
        if op == "send":
            n = int(rng.integers(0, 3 * cfg.tx_ring_size // 2))
            flow = rng.integers(0, 1000, n)
            htype = rng.integers(0, 2, n)
            csum = rng.choice([0, 0, CSUM_IP | CSUM_IP_TCP, CSUM_IP_UDP, CSUM_IP_TSO], n)
            tso = np.where(csum == CSUM_IP_TSO, rng.integers(1, 9000, n), 0)
            ba = frames(a, np.random.default_rng(seed), n, cfg.max_tx_sgl_size)
            bb = frames(b, np.random.default_rng(seed), n, cfg.max_tx_sgl_size)
            kw = {"flowid": flow, "hashtype": htype, "csum_flags": csum, "tso_segsz": tso}
            ra = a.drv.transmit(ba, **kw)
            ids, _, err = b.drv.enqueue(bb, **kw)
            assert np.array_equal(ids, ra.ids) and np.array_equal(err, ra.error)
            if b.drv.datapath_up:
                sent, dropped = ref.start_xmit(b.drv.tx, b.drv.reset)
                b.drv.accounting.dropped["dma_mapping_err"] += len(dropped)
            else:
                sent, dropped = [], []
            assert ra.xmit.sent.tolist() == sent
            assert ra.xmit.dropped.tolist() == dropped
        elif op == "tx_complete":
            script.tx_complete([a, b], rng, fault if fault in ("mbz", "oob", "dup") else None)
        elif op == "rx":
            script.rx_receive([a, b], rng, 40, fault, cfg.max_rx_sgl_size, cfg.rx_buf_size)
        else:
            qs = np.arange(cfg.num_queues)
            ca = a.drv.cleanup(qs)
            if b.drv.datapath_up:
                done, delivered, unmasked = ref.cleanup(
                    b.drv.tx, b.drv.rx, list(range(cfg.num_queues)), cfg.cdesc_mbz,
                    cfg.policy is Policy.HARDENED, b.drv.reset)
                b.drv.accounting.completed += len(done)
                val = (IntrReg.RX_INTR_DELAY.put(20) | IntrReg.TX_INTR_DELAY.put(50)
                       | IntrReg.INTR_UNMASK.put(1)).item()
                for q in unmasked:
                    b.drv.tx.stats.unmask_interrupt_num[q] += 1
                if unmasked:
                    b.bus.regs.write32_batch(b.drv.unmask_off[unmasked],
                                             np.full(len(unmasked), val))
            else:
                done, delivered, unmasked = [], [], []
            assert ca.completed.tolist() == done
            assert ca.unmasked.tolist() == unmasked
            got = []
            for r in ca.rx:
                for i in range(r.lengths.size):
                    o, ln = int(r.offsets[i]), int(r.lengths[i])
                    got.append((int(r.queue[i]), r.payload[o:o + ln].tobytes(),
                                int(r.flowid[i]), int(r.hashtype[i]), int(r.csum_flags[i]),
                                int(r.l3_proto[i]), int(r.l4_proto[i]), int(r.descs[i])))
            assert sorted(got, key=lambda t: t[0]) == sorted(delivered, key=lambda t: t[0])
        assert_same(a, b)
        assert a.drv.unaccounted() == 0
        assert b.drv.unaccounted() == 0
