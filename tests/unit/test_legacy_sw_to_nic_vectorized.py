"""The vectorized 2013 netmap_sw_to_nic (:func:`impl.netmap.legacy_sw_to_nic.sw_to_nic`,
no loop over rings or slots) against the ring-at-a-time loop it replaced, kept as an
oracle in ``tests/support/legacy_sw_to_nic_loop.py``: both run on two copies of one
adapter, from random states -- up to 12 TX rings (so the as-shipped walk reaches the host
TX ring, NIC RX rings, the host RX kring itself and krings past the array), indices that
wrap, full and empty rings, user-written ``cur`` / ``avail`` / ``reserved``, wild
``nr_hwcur`` / ``nr_hwavail`` on the host RX kring and on the destinations, runs at and
past ``MAX_RUN``, and walks sending more than N packets so one host slot meets several
rings -- and must agree on every field of the result (or the exception and its message)
and on every byte of the shared memory (headers, slots), the 2013 headers, ``nr_hwavail``
and every kring field.  Then one hand-made state per quirk, so the comparison is not
vacuous."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from support.legacy_sw_to_nic_loop import sw_to_nic_loop

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.kring import KRING_FIELDS
from impl.netmap.legacy import LegacyPort
from impl.netmap.legacy_host import LegacyHostPort
from impl.netmap.legacy_sw_to_nic import MAX_RUN, SwToNicResult, kring_at, sw_to_nic
from impl.netmap.prologue import AS_SHIPPED, HARDENED

TWO32 = 2**32
Fields = tuple[int, int, int, int]  # ring->cur, ring->avail, nr_hwcur, nr_hwavail


@dataclasses.dataclass(frozen=True)
class Spec:
    """An adapter's rings as the walk finds them, and the slots' contents."""

    n: int
    t: int
    r: int
    policy: str
    host: tuple[int, int, int, int, int]  # cur, avail, reserved, hwcur, hwavail
    rings: tuple[Fields, ...]  # krings 0 .. t + r (NIC TX, host TX, NIC RX)
    seed: int  # shuffles buf_idx over every slot, draws len and flags


def u32s(n: int) -> st.SearchStrategy[int]:
    """A u32 a user or a wild kring may leave: a slot, just past the ring, or wrapped."""
    return st.one_of(st.integers(0, n - 1), st.integers(n, 3 * n),
                     st.integers(TWO32 - 3 * n, TWO32 - 1))


def avails(n: int) -> st.SearchStrategy[int]:
    """A ring's avail: empty, some, full (N-1), several rings' worth, about MAX_RUN, any."""
    return st.one_of(st.just(0), st.integers(1, n - 1), st.just(n - 1),
                     st.integers(n, 5 * n), st.sampled_from([MAX_RUN - 1, MAX_RUN, MAX_RUN + 1]),
                     st.integers(TWO32 - 2, TWO32 - 1))


def slots(n: int) -> st.SearchStrategy[int]:
    return st.integers(0, n - 1)


def some(k: int) -> st.SearchStrategy[int]:
    """0 .. k, k (full) more often."""
    return st.just(k) | st.integers(0, k)


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    n = draw(st.sampled_from([2, 3, 4, 8]))
    t = draw(st.integers(1, 12))
    r = draw(st.integers(1, 4))
    policy = draw(st.sampled_from([AS_SHIPPED, HARDENED]))
    hwcur, hwavail = draw(slots(n)), draw(some(n - 1))
    behind = draw(st.just(hwavail) | st.integers(0, hwavail))  # read, the rest unread
    cur, reserved = (hwcur + behind) % n, draw(st.just(0) | st.integers(0, behind))
    avail = hwavail - behind
    how = draw(st.integers(0, 9))
    if how == 6:  # the user wrote its fields
        cur, avail, reserved = draw(u32s(n)), draw(avails(n)), draw(u32s(n))
    elif how in (7, 8):  # a wrapped nr_hwavail: as shipped, more than N packets to send
        hwavail = draw(st.integers(TWO32 - 3 * n, TWO32 - 1))
    elif how == 9:  # 2013 netmap_rxsync_from_host left the kring wild
        hwcur, hwavail = draw(u32s(n)), draw(u32s(n))
    rings = []
    for _ in range(t + r + 1):
        hc, ha = draw(slots(n)), draw(some(n - 1))  # ha free slots from hc
        pend = draw(st.just(0) | st.integers(0, ha))  # of which the user filled pend
        c, a = (hc + pend) % n, ha - pend
        how = draw(st.integers(0, 9))
        if how in (6, 7):  # the user wrote avail
            a = draw(avails(n))
        elif how == 8:  # the user wrote cur and avail
            c, a = draw(u32s(n)), draw(avails(n))
        elif how == 9:  # a wild kring
            hc, ha = draw(u32s(n)), draw(u32s(n))
        rings.append((c, a, hc, ha))
    seed = draw(st.integers(0, 2**32 - 1))
    return Spec(n, t, r, policy, (cur, avail, reserved, hwcur, hwavail), tuple(rings), seed)


def build(spec: Spec) -> tuple[LegacyPort, LegacyHostPort]:
    ad = NetmapAdapter(spec.t, spec.r, spec.n, buf_size=64)
    port, host = LegacyPort(ad), LegacyHostPort(ad, spec.policy)
    rng = np.random.default_rng(spec.seed)
    mem = ad.mem
    mem.slot_buf_idx[:] = rng.permutation(mem.slot_buf_idx.ravel()).reshape(
        mem.slot_buf_idx.shape)
    mem.slot_len[:] = rng.integers(0, 1 << 16, mem.slot_len.shape)
    mem.slot_flags[:] = rng.integers(0, 1 << 16, mem.slot_flags.shape)
    cur, avail, reserved, hwcur, hwavail = spec.host
    hdr = host.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = cur, avail, reserved
    host.host.rx.hwcur[0], host.hwavail["rx"][0] = hwcur, hwavail
    for j, (c, a, hc, ha) in enumerate(spec.rings):
        ring = kring_at(port, host, j)
        assert ring is not None and ring.name != "host_rx"
        ring.header["cur"][0], ring.header["avail"][0] = c, a
        ring.kr.hwcur[ring.q], ring.hwavail[0] = hc, ha
    return port, host


Walk = Callable[[LegacyPort, LegacyHostPort, str], SwToNicResult]


def outcome(fn: Walk, port: LegacyPort, host: LegacyHostPort,
            policy: str) -> SwToNicResult | tuple[str, str]:
    """The walk's result, or the exception it raised and its message."""
    try:
        return fn(port, host, policy)
    except OverflowError as e:
        return ("OverflowError", str(e))


def snapshot(port: LegacyPort, host: LegacyHostPort) -> dict[str, bytes]:
    """Every byte the walk could write: the shared memory, the 2013 headers and
    ``nr_hwavail`` of every kring, every kring field."""
    out = {"arena": port.ad.mem.arena.tobytes()}
    for who, p in (("port", port), ("host", host)):
        for kind in ("tx", "rx"):
            out[f"{who}.{kind}.header"] = p.header[kind].tobytes()
            out[f"{who}.{kind}.hwavail"] = p.hwavail[kind].tobytes()
    for name, kr in (("tx", port.ad.tx), ("rx", port.ad.rx), ("htx", host.host.tx),
                     ("hrx", host.host.rx)):
        for f in KRING_FIELDS:
            out[f"{name}.{f}"] = getattr(kr, f).tobytes()
    return out


def differ(spec: Spec) -> SwToNicResult | tuple[str, str]:
    """Run both on copies of ``spec``; assert they agree; return the outcome."""
    port, host = build(spec)
    ref_port, ref_host = build(spec)
    assert snapshot(port, host) == snapshot(ref_port, ref_host)
    got = outcome(sw_to_nic, port, host, spec.policy)
    want = outcome(sw_to_nic_loop, ref_port, ref_host, spec.policy)
    assert got == want
    if isinstance(got, SwToNicResult) and isinstance(want, SwToNicResult):
        assert list(got.per_kring.items()) == list(want.per_kring.items())  # walk order
    a, b = snapshot(port, host), snapshot(ref_port, ref_host)
    assert [k for k in a if a[k] != b[k]] == []
    return got


@settings(max_examples=1500, deadline=None)
@given(spec=specs())
def test_vectorized_walk_equals_the_ring_at_a_time_loop(spec: Spec) -> None:
    differ(spec)


def spec(n: int, t: int, r: int, host: tuple[int, int, int, int, int],
         rings: list[Fields], policy: str = AS_SHIPPED, seed: int = 1) -> Spec:
    return Spec(n, t, r, policy, host, tuple(rings), seed)


def test_each_quirk_is_met_and_agrees() -> None:
    """One state per behaviour the loop has, each checked against the oracle."""
    free = (0, 3, 0, 3)  # cur 0, avail 3 on a kring with 3 free slots
    # T = R = 2: TX ring 1 jumped over, the host TX kring filled (misrouted)
    got = differ(spec(4, 2, 2, (0, 0, 0, 0, 3), [(0, 1, 0, 1)] + [free] * 4))
    assert isinstance(got, SwToNicResult)
    assert (got.per_kring, got.skipped, got.misrouted) == ({0: 1, 2: 2}, 1, 2)
    # T = 4, R = 1: kring 2i = 6 = T+R+1 is the host RX kring itself
    got = differ(spec(4, 4, 1, (0, 3, 0, 0, 3), [(0, 0, 0, 0)] * 6))
    assert isinstance(got, SwToNicResult)
    assert (got.own_ring, got.sent, got.skipped, got.oob) == (True, 0, 2, None)
    # T = 5, R = 1: past the array at 2i = 8 (kring 0, 2, 4 take one each)
    got = differ(spec(4, 5, 1, (0, 0, 0, 0, TWO32 - 1), [(0, 1, 0, 1), (0, 0, 0, 0)] * 3
                      + [(0, 0, 0, 0)], seed=3))
    assert isinstance(got, SwToNicResult)
    assert (got.per_kring, got.skipped, got.oob) == ({0: 1, 2: 1, 4: 1}, 2, ("kring", 8, 0))
    # the source slot past the ring
    got = differ(spec(4, 1, 1, (0, 0, 0, 9, 3), [free] * 3))
    assert isinstance(got, SwToNicResult) and got.oob == ("src", 0, 9)
    # the destination's cur past the ring, after ring 0 was filled
    got = differ(spec(4, 2, 2, (0, 0, 0, 0, 3), [(0, 1, 0, 1), free, (7, 3, 0, 3), free,
                                                 free]))
    assert isinstance(got, SwToNicResult) and got.oob == ("dst", 2, 7) and got.sent == 1
    # a run over MAX_RUN, after ring 0 was filled and the host cur moved
    got = differ(spec(4, 2, 2, (0, 0, 0, 0, TWO32 - 1), [(0, 5, 0, 3), free,
                                                         (0, MAX_RUN + 1, 0, 3), free, free]))
    assert got == ("OverflowError", f"the 2013 walk would swap {MAX_RUN + 1} times on "
                   "kring 2")
    # more than N packets: host slots meet TX ring 0, the host TX ring and NIC RX ring 0
    got = differ(spec(4, 3, 2, (0, 0, 0, 1, TWO32 - 2), [(3, 5, 0, 3), free, (1, 6, 0, 3),
                                                         free, (2, 7, 0, 3), free]))
    assert isinstance(got, SwToNicResult)
    assert (got.per_kring, got.stale, got.overfill, got.misrouted) == ({0: 5, 2: 6, 4: 7},
                                                                       18, 3, 7)
    # hardened: each NIC TX ring once, at most what its kring counts free
    got = differ(spec(4, 3, 1, (3, 0, 0, 0, 3), [(0, 3, 0, 1), (1, 9, 0, 3), free, free,
                                                 free], policy=HARDENED))
    assert isinstance(got, SwToNicResult) and got.per_kring == {0: 1, 1: 2}
    # nothing to send; an empty TX ring
    got = differ(spec(4, 2, 1, (0, 0, 0, 0, 0), [free] * 4))
    assert isinstance(got, SwToNicResult) and got.sent == 0
    got = differ(spec(4, 1, 1, (0, 0, 0, 0, 3), [(0, 0, 0, 0)] * 3))
    assert isinstance(got, SwToNicResult) and got.sent == 0
