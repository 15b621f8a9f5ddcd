"""Hypothesis: random admin command sequences (good and bad SETs, GETs, CQ create and
destroy, unknown opcodes, switches between polling and interrupt mode) against a tiny
model of the device's state. Nothing is lost: every command completes once, with the
status the model predicts, and the queue's counters, command ids and phases stay in
step with the device's."""

from __future__ import annotations

import errno

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from support.ena_mgmt_rig import admin_rig

from impl.device import DeviceConfig
from impl.device.features import FeatureId
from impl.device.queues import TX_CQ_WORDS
from impl.ena import admin_cmds as ac
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.admin import CreateCqCmd, DestroyCqCmd

OPS = st.one_of(
    st.tuples(st.just("set_mtu"), st.integers(0, 10_000)),
    st.tuples(st.just("get_mtu"), st.just(0)),
    st.tuples(st.just("create_cq"), st.sampled_from([8, 16, 24])),
    st.tuples(st.just("destroy_cq"), st.integers(0, 4)),
    st.tuples(st.just("bad_opcode"), st.integers(12, 255)),
    st.tuples(st.just("polling"), st.booleans()),
)


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(OPS, min_size=1, max_size=80),
       latency_us=st.integers(1, 400))
def test_random_admin_sequences_lose_nothing(ops: list[tuple[str, int]],
                                             latency_us: int) -> None:
    rig = admin_rig(DeviceConfig(admin_latency_ns=latency_us * 1000, max_queues=4),
                    learn=False)
    aq, dev = rig.aq, rig.dev
    mtu, cqs, rings = 1500, set(), {}
    sent = 0
    for op, arg in ops:
        if op == "polling":
            aq.set_polling_mode(bool(arg))
            continue
        sent += 1
        if op == "set_mtu":
            rec = np.zeros(1, m.MTU_DTYPE)
            rec["mtu"] = arg
            ok = 0 < arg <= 9216
            assert ac.set_feature(aq, rig.feat, FeatureId.MTU, rec) == (0 if ok else errno.EINVAL)
            mtu = arg if ok else mtu
        elif op == "get_mtu":
            rc, rec = ac.get_feature(aq, rig.feat, FeatureId.MTU, m.MTU_DTYPE)
            assert rc == 0 and rec is not None and int(rec["mtu"][0]) == mtu
        elif op == "create_cq":
            ba = rig.bus.mem.alloc(arg * 4 * TX_CQ_WORDS)
            rc, resp = ac.create_io_cq(aq, rig.feat, CreateCqCmd(arg, ba, 1, TX_CQ_WORDS))
            if arg & (arg - 1):
                assert rc == errno.EINVAL
            elif len(cqs) == 4:
                assert rc == errno.ENOMEM
            else:
                assert rc == 0 and resp is not None and resp.cq_idx == min(set(range(4)) - cqs)
                cqs.add(resp.cq_idx)
                rings[resp.cq_idx] = ba
            if rc:
                rig.bus.mem.free(ba)
        elif op == "destroy_cq":
            rc = ac.destroy_io_cq(aq, DestroyCqCmd(arg))
            assert rc == (0 if arg in cqs else errno.EINVAL)
            if arg in cqs:
                cqs.discard(arg)
                rig.bus.mem.free(rings.pop(arg))
        else:
            cmd = np.zeros(1, m.AQ_ENTRY_DTYPE)
            cmd["aq_common_descriptor"]["opcode"] = arg
            assert aq.execute(cmd)[0] == errno.EINVAL  # BAD_OPCODE
        assert aq.running_state and aq.outstanding_cmds == 0
        assert not any(c.occupied for c in aq.comp_ctx)
    n = sent
    assert aq.stats.completed_cmd == aq.stats.submitted_cmd == n == dev.mgmt_stats.admin_cmds
    assert aq.sq_tail == aq.cq_head == dev.admin.cq_tail == dev.admin.sq_head == n
    assert aq.curr_cmd_id == n % 32 and aq.cq_phase == aq.sq_phase == (n // 32 & 1) ^ 1
    assert set(np.flatnonzero(dev.queues.cq_used)) == cqs
    assert dev.features.state.mtu == mtu
