"""An RX ring deleted with its last user and created again while another handle keeps the
adapter (:mod:`model.netmap_ring_lifetime`), replayed on ``impl.netmap.port.NetmapPorts``
step by step against the model's transitions, under both policies.

``held`` is read off what a reader sees: the slots in ``[hwcur, hwtail)`` whose ``len``
is a frame the NIC delivered (the device writes 60-byte frames here), not the whole
buffer that netmap_new_bufs gives every slot of a new ring."""

from __future__ import annotations

import pytest

from impl.netmap import control as c
from impl.netmap.port import NetmapPorts
from model import RING_LIFE
from model.core import ring_dist
from model.netmap_admode import RingConfig
from model.netmap_ring_lifetime import RingLife
from model.netmap_sync import AS_SHIPPED, HARDENED

N, BUF = 8, 256


def life(s: NetmapPorts) -> RingLife:
    r = s.rings_of("em0")
    kr = r.nic.rx
    hwcur, hwtail = int(kr.hwcur[0]), int(kr.hwtail[0])
    live = int(r.live[c.RX][0])
    shown = [(hwcur + i) % N for i in range(ring_dist(hwcur, hwtail, N))]
    held = sum(int(kr.slot_len[0, i]) < BUF for i in shown) if live else 0
    return RingLife(n=N, live=live, hwcur=hwcur, hwtail=hwtail, held=held)


def step(s: NetmapPorts, before: RingLife, transition: str, **args: int) -> RingLife:
    """After the implementation did ``transition``: the model's step from ``before`` is
    enabled and lands where the implementation is; returns that state."""
    out = RING_LIFE.transitions[transition](before, **args)
    assert out.guard, (transition, before)
    assert life(s) == out.post, (transition, before, life(s), out.post)
    return out.post


@pytest.mark.parametrize("policy", [AS_SHIPPED, HARDENED])
def test_a_ring_created_again_under_live_krings(policy: str) -> None:
    s = NetmapPorts(buf_size=BUF, policy=policy)
    s.attach("em0", True, RingConfig(2, N, 2, N))
    keep, a = s.open(), s.open()
    assert s.register(keep, "em0", c.NR_REG_ONE_NIC, 1) == 0
    assert s.register(a, "em0", c.NR_REG_ONE_NIC, 0) == 0
    m = RING_LIFE.init(N)
    assert life(s) == m
    nic = s.rings_of("em0").nic
    s.deliver("em0", 0, 3)
    assert s.rxsync(a) == 0
    m = step(s, m, "deliver", k=3)
    nic.user_advance("rx", 0, 1)
    assert s.rxsync(a) == 0
    m = step(s, m, "release", k=1)
    assert s.close(a) == 0
    m = step(s, m, "last_user_leaves")
    b = s.open()
    assert s.register(b, "em0", c.NR_REG_ONE_NIC, 0) == 0
    m = step(s, m, "bind_as_shipped" if policy == AS_SHIPPED else "bind_hardened")
    broken = RING_LIFE.violated(m)
    assert broken == (["LIFE-ONLY-RECEIVED"] if policy == AS_SHIPPED else [])
    lengths, _ = nic.user_read(0)
    assert lengths.tolist() == ([BUF, BUF] if policy == AS_SHIPPED else [])
