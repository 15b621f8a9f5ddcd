"""ena_com's u16 counters and phase bits (impl/ena/ring.py) against a step-by-step count,
and the ragged helpers (impl/ena/ragged.py) against plain per-queue loops."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.ena import ragged, ring


def step(counter: int, phase: int, n: int, depth: int) -> tuple[int, int]:
    for _ in range(n):
        counter = (counter + 1) & 0xFFFF
        if counter & (depth - 1) == 0:
            phase ^= 1
    return counter, phase


@given(st.integers(1, 12), st.integers(0, 0xFFFF), st.integers(0, 1), st.integers(0, 3000))
def test_advance_matches_increment_by_increment(log_depth: int, counter: int, phase: int,
                                                n: int) -> None:
    depth = 1 << log_depth
    c, p = ring.advance(np.array([counter]), np.array([phase]), n, depth)
    assert (int(c[0]), int(p[0])) == step(counter, phase, n, depth)


@given(st.integers(1, 10), st.integers(0, 0xFFFF), st.integers(0, 1), st.integers(0, 2000))
def test_phase_at_k_is_the_phase_after_k_steps(log_depth: int, counter: int, phase: int,
                                               k: int) -> None:
    depth = 1 << log_depth
    assert int(ring.phases_at(counter, phase, k, depth)) == step(counter, phase, k, depth)[1]


def test_free_entries_across_the_u16_wrap() -> None:
    # tail wrapped past 65535, next_to_comp did not yet: (u16)(tail - ntc) is still right
    assert int(ring.free_entries(3, 65533, 1024)) == 1024 - 1 - 6
    assert int(ring.free_entries(0, 0, 256)) == 255
    assert int(ring.free_entries(255, 0, 256)) == 0


def test_have_enough_space_host_and_llq() -> None:
    assert ring.have_enough_space(5, 5, llq=False, descs_per_entry=8)
    assert not ring.have_enough_space(4, 5, llq=False, descs_per_entry=8)
    # LLQ: free > n // 8 + 2
    assert ring.have_enough_space(5, 21, llq=True, descs_per_entry=8)
    assert not ring.have_enough_space(4, 21, llq=True, descs_per_entry=8)


def test_check_depth_refuses_non_powers_of_two() -> None:
    for bad in (0, 1, 3, 1000, 65536):
        try:
            ring.check_depth(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    assert ring.check_depth(32768) == 32768


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=60))
def test_first_occurrence_matches_a_seen_set(pairs: list[tuple[int, int]]) -> None:
    g = np.array([p[0] for p in pairs], dtype=np.int64)
    v = np.array([p[1] for p in pairs], dtype=np.int64)
    seen: set[tuple[int, int]] = set()
    expect = []
    for p in pairs:
        expect.append(p not in seen)
        seen.add(p)
    assert ragged.first_occurrence(g, v, 6).tolist() == expect


def greedy_loop(costs: list[int], first: int, max_items: int, max_cost: int) -> list[int]:
    """The C shape: a break before i when the group is full or i would overflow it."""
    breaks = []
    items, used = 0, 0
    for i, c in enumerate(costs):
        if i == first or (i > first and (items == max_items
                                         or (max_cost > 0 and used + c > max_cost))):
            breaks.append(i)
            items, used = 0, 0
        items += 1
        used += c
    return breaks


@settings(max_examples=200)
@given(st.lists(st.lists(st.integers(1, 4), max_size=40), min_size=1, max_size=4),
       st.integers(1, 9), st.integers(0, 9), st.data())
def test_greedy_breaks_match_the_sequential_loop(queues: list[list[int]], max_items: int,
                                                 max_cost: int, data: st.DataObject) -> None:
    max_cost = max(max_cost, 4) if max_cost else 0
    count = np.array([len(c) for c in queues], dtype=np.int64)
    start = np.cumsum(count) - count
    firsts = [data.draw(st.integers(0, len(c))) for c in queues]
    costs = np.array([c for q in queues for c in q], dtype=np.int64)
    mask = ragged.greedy_breaks(start, count, costs, start + np.array(firsts), max_items,
                                max_cost)
    for q, c in enumerate(queues):
        got = np.flatnonzero(mask[start[q]:start[q] + len(c)]).tolist()
        assert got == greedy_loop(c, firsts[q], max_items, max_cost)


def test_group_layout_ranks_within_each_queue() -> None:
    lay = ragged.group_layout(np.array([2, 0, 2, 1, 0]), 3)
    assert lay.order.tolist() == [1, 4, 3, 0, 2]
    assert lay.rank.tolist() == [0, 1, 0, 0, 1]
    assert lay.count.tolist() == [2, 1, 2]
