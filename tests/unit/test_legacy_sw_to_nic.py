"""The 2013 netmap_sw_to_nic as implemented (:func:`impl.netmap.legacy_sw_to_nic.sw_to_nic`
on a real :class:`LegacyPort` and :class:`LegacyHostPort` of one adapter) against
:mod:`model.netmap_legacy_sw_to_nic`, both policies, over generated rings: the model's
walk is run one iteration at a time (each ring's fields passed in as the walk reaches it
and written back as it leaves), every count and field the two keep must agree, and every
slot's ``buf_idx``, ``len`` and ``flags`` must equal what the C's loop body, run one slot
pair at a time at the indices the model swaps, leaves on a second adapter.  Then the swap
by buffer identity, and the findings replayed on the rings; the expected values are
traced by hand through netmap.c of 95b478cf, netmap_sw_to_nic at L802 to L846.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.layout import NS_BUF_CHANGED
from impl.netmap.legacy import LegacyPort
from impl.netmap.legacy_host import LegacyHostPort
from impl.netmap.legacy_sw_to_nic import SwToNicResult, kring_at, sw_to_nic
from impl.netmap.prologue import AS_SHIPPED, HARDENED
from model import LEGACY_SW_TO_NIC
from model.netmap_legacy_sw_to_nic import (
    AS_SHIPPED_POLICY,
    HARDENED_POLICY,
    SwToNic,
    sw_to_nic_init,
    walk_step,
)

TWO32 = 2**32
Fields = tuple[int, int, int, int]  # ring->cur, ring->avail, nr_hwcur, nr_hwavail


@dataclasses.dataclass(frozen=True)
class Case:
    """An adapter's rings as the walk finds them."""

    n: int
    t: int
    r: int
    host: tuple[int, int, int, int, int]  # cur, avail, reserved, hwcur, hwavail
    rings: tuple[Fields, ...]  # kring 0 .. t + r (NIC TX, host TX, NIC RX)


def small_u32(n: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, n + 2), st.integers(TWO32 - 4, TWO32 - 1))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.sampled_from([4, 8]))
    t = draw(st.integers(1, 5))
    r = draw(st.integers(1, 3))
    hwcur, hwavail = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
    behind = draw(st.integers(0, hwavail))
    cur, reserved = (hwcur + behind) % n, draw(st.integers(0, behind))
    avail = hwavail - behind
    wild = draw(st.integers(0, 3))
    if wild == 1:  # the user wrote its fields
        cur, avail, reserved = draw(small_u32(n)), draw(small_u32(n)), draw(small_u32(n))
    elif wild == 2:  # 2013 netmap_rxsync_from_host left the kring wild
        hwcur = draw(st.one_of(st.integers(n, 3 * n), st.integers(0, n - 1)))
        hwavail = draw(st.one_of(st.integers(0, n - 1), st.integers(TWO32 - 2 * n, TWO32 - 1)))
    wrapped = hwavail > n - 1
    rings = []
    for _ in range(t + r + 1):
        hc, ha = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        pend = draw(st.integers(0, ha))
        c, a = (hc + pend) % n, ha - pend
        if draw(st.booleans()):  # the user wrote cur / avail
            c = draw(st.integers(0, n + 1))
            a = draw(st.integers(0, 3 * n)) if wrapped else draw(small_u32(n))
        rings.append((c, a, hc, ha))
    return Case(n, t, r, (cur, avail, reserved, hwcur, hwavail), tuple(rings))


def build(case: Case, policy: str) -> tuple[LegacyPort, LegacyHostPort]:
    ad = NetmapAdapter(case.t, case.r, case.n)
    port, host = LegacyPort(ad), LegacyHostPort(ad, policy)
    cur, avail, reserved, hwcur, hwavail = case.host
    hdr = host.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = cur, avail, reserved
    host.host.rx.hwcur[0], host.hwavail["rx"][0] = hwcur, hwavail
    for j, (c, a, hc, ha) in enumerate(case.rings):
        ring = kring_at(port, host, j)
        assert ring is not None and ring.name != "host_rx"
        ring.header["cur"][0], ring.header["avail"][0] = c, a
        ring.kr.hwcur[ring.q], ring.hwavail[0] = hc, ha
    return port, host


@dataclasses.dataclass
class ModelRun:
    state: SwToNic
    rings: dict[int, Fields]
    per_kring: dict[int, int]
    stopped: str  # "", "oob" or "own"


def run_model(case: Case, policy: str,
              on_swap: Callable[[int, int, int], None] | None = None) -> ModelRun:
    """The model's walk, one transition at a time, until it ends or is about to touch
    memory outside an array (or the host RX kring itself), where the implementation
    stops.  ``on_swap(k1, nr_hwcur, cur)`` is told each swap the model makes."""
    p = AS_SHIPPED_POLICY if policy == AS_SHIPPED else HARDENED_POLICY
    cur, avail, reserved, hwcur, hwavail = case.host
    s = sw_to_nic_init(case.n).replace(t=case.t, r=case.r, cur=cur, avail=avail,
                                       reserved=reserved, hwcur=hwcur, hwavail=hwavail)
    rings = dict(enumerate(case.rings))
    per: dict[int, int] = {}
    own = case.t + case.r + 1
    rings[own] = (cur, avail, hwcur, hwavail)  # the host RX kring, as a destination
    for steps in range(10_000):
        if steps and s.active == 0:
            return ModelRun(s, rings, per, "")
        if s.active:
            rings[s.k1] = (s.dcur, s.davail, s.dhwcur, s.dhwavail)
        nxt = s.k1 + p.step if s.active else 0
        after = walk_step(s, *rings.get(nxt, (0, 0, 0, 0)), p)
        swapped = after.howmany < s.howmany and s.active
        if swapped and s.k1 == own:
            return ModelRun(s, rings, per, "own")
        if after.oob > s.oob:  # a swap stops before it, a move (k1 past the array) after
            return ModelRun(s if swapped else after, rings, per, "oob")
        if swapped:
            per[s.k1] = per.get(s.k1, 0) + 1
            if on_swap is not None:
                on_swap(s.k1, s.hwcur, s.dcur)
        s = after
    raise AssertionError("the walk did not end")


def literal_swap(port: LegacyPort, host: LegacyHostPort) -> Callable[[int, int, int], None]:
    """The C's loop body, one slot pair at a time, on ``port``'s and ``host``'s slots:
    the reference the vectorized swap must equal."""
    def swap(k1: int, hwcur: int, cur: int) -> None:
        ring = kring_at(port, host, k1)
        assert ring is not None
        src, dst = (host.host.rx, 0, hwcur), (ring.kr, ring.q, cur)
        tmp = int(src[0].slot_buf_idx[0, hwcur])
        src[0].slot_buf_idx[0, hwcur] = dst[0].slot_buf_idx[dst[1], cur]
        src[0].slot_flags[0, hwcur] = NS_BUF_CHANGED
        dst[0].slot_buf_idx[dst[1], cur] = tmp
        dst[0].slot_len[dst[1], cur] = src[0].slot_len[0, hwcur]
        dst[0].slot_flags[dst[1], cur] = NS_BUF_CHANGED
    return swap


def check_agree(case: Case, policy: str) -> tuple[SwToNicResult, ModelRun]:
    port, host = build(case, policy)
    ref_port, ref_host = build(case, policy)
    for kr in (port.ad.tx, port.ad.rx, host.host.tx, host.host.rx):  # lengths to copy
        kr.slot_len[:] = np.arange(kr.slot_len.size).reshape(kr.slot_len.shape) % 50 + 14
    ref_port.ad.mem.slot_len[:] = port.ad.mem.slot_len
    got = sw_to_nic(port, host, policy)
    want = run_model(case, policy, literal_swap(ref_port, ref_host))
    mem, ref = port.ad.mem, ref_port.ad.mem
    assert np.array_equal(mem.slot_buf_idx, ref.slot_buf_idx)
    assert np.array_equal(mem.slot_len, ref.slot_len)
    assert np.array_equal(mem.slot_flags, ref.slot_flags)
    assert np.unique(mem.slot_buf_idx).size == mem.slot_buf_idx.size  # a permutation
    s = want.state
    assert (got.oob is not None, got.own_ring) == (want.stopped == "oob",
                                                   want.stopped == "own")
    assert got.per_kring == want.per_kring
    assert got.sent == sum(want.per_kring.values())
    assert (got.unreleased, got.stale, got.overfill, got.misrouted, got.skipped) == (
        s.unreleased, s.stale, s.overfill, s.misrouted, s.skipped)
    hdr = host.header["rx"]
    assert (int(hdr["cur"][0]), int(host.host.rx.hwcur[0]), int(host.hwavail["rx"][0])) == (
        s.cur, s.hwcur, s.hwavail)
    for j in range(case.t + case.r + 1):
        ring = kring_at(port, host, j)
        assert ring is not None
        assert (int(ring.header["cur"][0]), int(ring.header["avail"][0])) == want.rings[j][:2]
    return got, want


@settings(max_examples=400, deadline=None)
@given(case=cases(), policy=st.sampled_from([AS_SHIPPED, HARDENED]))
def test_the_walk_does_what_the_model_says(case: Case, policy: str) -> None:
    got, want = check_agree(case, policy)
    if policy == HARDENED:
        assert want.stopped == "" and LEGACY_SW_TO_NIC.violated(
            want.state, user_view=False) == []
        assert got.oob is None and not got.own_ring


def buffers(port: LegacyPort) -> np.ndarray:
    """Every slot's buffer index, all rings of the adapter (hardware and host)."""
    return port.ad.mem.slot_buf_idx.astype(np.int64).ravel()


def frames_in(host: LegacyHostPort, tags: list[int]) -> None:
    out = np.zeros((len(tags), 60), dtype=np.uint8)
    out[:, 0] = tags
    assert (host.netmap_transmit(out) == 0).all()
    host.rxsync_from_host()  # the user sees them: avail = nr_hwavail


def test_hardened_swap_is_a_permutation_of_the_buffers() -> None:
    """Three packets from the stack; the user reads all three and holds the last one
    (cur = 3, reserved = 1): the walk sends slots 0 and 1 into TX ring 0 (whose kring has
    7 free slots) and leaves the held one; every buffer index is still in exactly one
    slot, the two TX slots hold the stack's buffers and the host slots the TX ring's."""
    port, host = build(Case(8, 2, 2, (0, 0, 0, 0, 0), ((0, 7, 0, 7),) * 5), HARDENED)
    frames_in(host, [11, 12, 13])
    host.user_read(3, 1)
    before = buffers(port)
    hslots = host.host.rx.slot_buf_idx[0].copy()
    tslots = port.ad.tx.slot_buf_idx[0].copy()
    got = sw_to_nic(port, host, HARDENED)
    assert (got.sent, got.per_kring, got.unreleased) == (2, {0: 2}, 0)
    after = buffers(port)
    assert np.array_equal(np.sort(before), np.sort(after))
    assert np.unique(after).size == after.size
    assert list(port.ad.tx.slot_buf_idx[0, :2]) == list(hslots[:2])
    assert list(host.host.rx.slot_buf_idx[0, :2]) == list(tslots[:2])
    assert host.host.rx.slot_buf_idx[0, 2] == hslots[2]  # the held packet stays
    assert list(port.ad.tx.slot_flags[0, :2]) == [NS_BUF_CHANGED] * 2
    data = port.ad.mem.bufs[port.ad.tx.slot_buf_idx[0, :2].astype(np.int64), 0]
    assert list(data) == [11, 12] and list(port.ad.tx.slot_len[0, :2]) == [60, 60]
    assert (int(host.host.rx.hwcur[0]), int(host.hwavail["rx"][0])) == (2, 1)
    assert int(host.header["rx"]["cur"][0]) == 3  # the user's cur is left alone


def test_as_shipped_takes_the_held_and_unread_packets_and_moves_cur_back() -> None:
    """Same rings, the user has read 2 of 3 packets and holds 1 (cur = 2, reserved = 1,
    avail = 1): ``howmany = nr_hwavail = 3`` sends all three, the held and the unread one
    included, and ``ring->cur = nr_hwcur`` puts cur at 3 with avail still 1: the user's
    next read is slot 3, which the stack never filled.  The buffers are still a
    permutation -- what breaks is whose they are: the user's held slot 1 now holds a TX
    ring's old buffer."""
    port, host = build(Case(8, 1, 1, (0, 0, 0, 0, 0), ((0, 7, 0, 7),) * 3), AS_SHIPPED)
    frames_in(host, [11, 12, 13])
    host.user_read(2, 1)
    before = buffers(port)
    tslots = port.ad.tx.slot_buf_idx[0].copy()
    got = sw_to_nic(port, host, AS_SHIPPED)
    assert (got.sent, got.unreleased) == (3, 2)
    after = buffers(port)
    assert np.array_equal(np.sort(before), np.sort(after))
    assert host.host.rx.slot_buf_idx[0, 1] == tslots[1]
    hdr = host.header["rx"]
    assert (int(hdr["cur"][0]), int(hdr["avail"][0]), int(hdr["reserved"][0])) == (3, 1, 1)
    assert int(host.hwavail["rx"][0]) == 0


def test_as_shipped_skips_tx_ring_1_and_fills_the_host_tx_ring() -> None:
    """Two TX rings, TX ring 0 with room for 1: the C's second k1++ makes iteration 1
    work on tx_rings[2], the host TX kring (avail 7): the two other packets go there and
    the next host txsync sends them back up the stack; TX ring 1 is never looked at."""
    rings = ((0, 1, 0, 1), (0, 7, 0, 7), (0, 7, 0, 7), (0, 0, 0, 0), (0, 0, 0, 0))
    port, host = build(Case(8, 2, 2, (0, 0, 0, 0, 0), rings), AS_SHIPPED)
    frames_in(host, [11, 12, 13])
    host.user_read(3, 0)
    got = sw_to_nic(port, host, AS_SHIPPED)
    assert (got.per_kring, got.misrouted, got.skipped) == ({0: 1, 2: 2}, 2, 1)
    assert int(port.header["tx"]["cur"][1]) == 0  # TX ring 1 untouched
    assert int(host.header["tx"]["cur"][0]) == 2  # published on the host TX ring
    up = host.txsync_to_host()
    assert up.sent == 2 and [f[0] for f in host.stack.frames()] == [12, 13]
    hard_port, hard = build(Case(8, 2, 2, (0, 0, 0, 0, 0), rings), HARDENED)
    frames_in(hard, [11, 12, 13])
    hard.user_read(3, 0)
    assert sw_to_nic(hard_port, hard, HARDENED).per_kring == {0: 1, 1: 2}


def test_as_shipped_indexes_slot_nr_hwcur_past_the_ring() -> None:
    """The findings page's host RX example: three packets, the user writes avail = 5 and
    reserved = 2^32 - 3, NIOCRXSYNC (2013) stores nr_hwcur = 11 on the 8-slot ring and
    nr_hwavail = 2^32 - 8.  netmap_sw_to_nic then takes ``howmany = nr_hwavail`` and its
    first swap reads and writes ``slot[11]`` of the host RX ring, past its end (the TX
    slot's buffer index goes into foreign memory, a foreign value into the TX slot): the
    implementation stops there and reports it; nothing has moved.  Hardened, the walk
    refuses the wild kring and sends nothing."""
    for policy in (AS_SHIPPED, HARDENED):
        port, host = build(Case(8, 1, 1, (0, 0, 0, 0, 0), ((0, 7, 0, 7),) * 3), AS_SHIPPED)
        frames_in(host, [11, 12, 13])
        host.header["rx"]["avail"][0], host.header["rx"]["reserved"][0] = 5, TWO32 - 3
        host.rxsync_from_host()
        assert (int(host.host.rx.hwcur[0]), int(host.hwavail["rx"][0])) == (11, TWO32 - 8)
        before = buffers(port).copy()
        got = sw_to_nic(port, host, policy)
        assert np.array_equal(buffers(port), before)
        if policy == AS_SHIPPED:
            assert (got.oob, got.sent) == (("src", 0, 11), 0)
        else:
            assert (got.oob, got.sent) == (None, 0)


def test_as_shipped_trusts_the_tx_rings_avail() -> None:
    """TX ring 0's kring has 1 free slot but the user wrote avail = 5: the C fills 3 TX
    slots, 2 of them slots the NIC owns (pending from hwcur); hardened fills 1."""
    rings = ((2, 5, 0, 3), (0, 0, 0, 0), (0, 0, 0, 0))
    for policy, want in ((AS_SHIPPED, (3, 2)), (HARDENED, (1, 0))):
        port, host = build(Case(8, 1, 1, (0, 0, 0, 0, 0), rings), policy)
        frames_in(host, [11, 12, 13])
        host.user_read(3, 0)
        got = sw_to_nic(port, host, policy)
        assert (got.sent, got.overfill) == want


def test_every_finding_of_the_model_is_met_by_a_generated_case() -> None:
    """The comparison is not vacuous: cases where the C breaks each kernel invariant."""
    found: set[str] = set()
    examples = [
        Case(8, 2, 2, (3, 0, 0, 0, 3), ((0, 1, 0, 1),) + ((0, 7, 0, 7),) * 4),
        Case(8, 1, 1, (0, 0, 0, 9, 3), ((0, 7, 0, 7),) * 3),
        Case(8, 1, 1, (0, 0, 0, 0, TWO32 - 2), ((0, 9, 0, 7),) * 3),
        Case(8, 5, 1, (0, 0, 0, 0, 7), ((0, 1, 0, 1),) * 7),
        Case(8, 1, 1, (1, 2, 0, 0, 3), ((2, 5, 0, 3),) * 3),
        Case(8, 1, 1, (3, 0, 0, 0, 3), ((9, 5, 0, 3),) * 3),
    ]
    for case in examples:
        want = check_agree(case, AS_SHIPPED)[1]
        s = want.state
        found |= {f.name for f in dataclasses.fields(s)
                  if f.name in ("stale", "unreleased", "overfill", "misrouted", "skipped")
                  and getattr(s, f.name) > 0}
        if want.stopped:
            found.add(want.stopped)
    assert found == {"stale", "unreleased", "overfill", "misrouted", "skipped", "oob"}


def test_the_findings_page_names_every_refuted_obligation_and_the_machine_page_renders(
) -> None:
    """Without generating the docs: this machine's proofs, run in-process, feed the
    findings page's 2013 host-ring section, which must name every refuted obligation that
    is not a mutant, and the machine's own page, which must count all mutants killed."""
    from proofs import runner
    from proofs.suite import all_obligations
    from ringspec.docgen import findings, legacy_host_finding, machine_page
    from ringspec.docgen.evidence import Evidence, Row

    obs = [o for o in all_obligations() if o.machine == LEGACY_SW_TO_NIC.name]
    report = runner.run(obligations=obs, cores=False, minimal_mutants=False)
    rows = [Row(r.obligation, r.result, r.rlimit, r.counterexample or {}) for r in
            report.results]
    assert all(r.ok for r in rows)
    mine = [r for r in rows if legacy_host_finding.matches(r.obligation)]
    text = "\n".join(legacy_host_finding.section(mine, findings._refuted("2013", mine)))
    refuted = [r.id for r in rows if r.result == "refuted" and r.obligation.kind != "mutant"]
    assert len(refuted) == 9
    assert all(f"`{oid}`" in text for oid in refuted)
    assert "slot[11]" in text and "`misrouted = 1`, `skipped = 1`" in text
    page = machine_page.render(LEGACY_SW_TO_NIC, Evidence(rows, {"ok": True}))
    k = len(LEGACY_SW_TO_NIC.mutants)
    assert k == len(LEGACY_SW_TO_NIC.invariants) and f"{k} of {k} mutants killed" in page
