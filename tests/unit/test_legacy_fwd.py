"""The 2013 poll's transparent-mode walk as implemented
(:func:`impl.netmap.legacy_host.poll_forward_up` on a real legacy RX ring) against
:mod:`model.netmap_legacy_fwd`, both policies, over generated rings: consistent ones and
ones whose cur and reserved a user wrote (any u32)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.host import FrameQueue
from impl.netmap.legacy import LegacyPort
from impl.netmap.legacy_host import poll_forward_up
from impl.netmap.prologue import AS_SHIPPED, HARDENED
from model import LEGACY_FWD
from model.netmap_legacy import LegacyRing
from model.netmap_legacy_fwd import LegacyFwd

U32 = st.one_of(st.integers(0, 20), st.integers(2**32 - 20, 2**32 - 1))


@st.composite
def rings(draw: st.DrawFn) -> LegacyFwd:
    n = draw(st.sampled_from([4, 8, 16]))
    hwcur = draw(st.integers(0, n - 1))
    hwavail = draw(st.integers(0, n - 1))
    behind = draw(st.integers(0, hwavail))
    cur, reserved = (hwcur + behind) % n, draw(st.integers(0, behind))
    if draw(st.booleans()):  # the user wrote them
        cur, reserved = draw(st.one_of(st.integers(0, n - 1), U32)), draw(U32)
    return LegacyFwd(n, cur, hwavail - behind, reserved, hwcur, hwavail, 0, 0)


@settings(max_examples=300, deadline=None)
@given(s=rings(), policy=st.sampled_from([AS_SHIPPED, HARDENED]), force=st.booleans())
def test_the_walk_reads_what_the_model_says(s: LegacyFwd, policy: str, force: bool) -> None:
    ad = NetmapAdapter(1, 1, s.n)
    port = LegacyPort(ad)
    port.load("rx", 0, LegacyRing(n=s.n, cur=s.cur, avail=s.avail, reserved=s.reserved,
                                  hwcur=s.hwcur, hwavail=s.hwavail,
                                  nic=(s.hwcur + s.hwavail) % s.n, busy=s.n - 1 - s.hwavail))
    step = LEGACY_FWD.transitions[f"poll_forward_{policy.replace('-', '_')}"](s)
    got = poll_forward_up(port, 0, force, FrameQueue(), policy)
    assert got.hung == (not step.guard)
    if step.guard:
        assert (got.unreleased, got.nic_owned) == (step.post.unreleased, step.post.nic_read)
    assert port.abstract("rx", 0).cur == s.cur  # the walk moves no index
