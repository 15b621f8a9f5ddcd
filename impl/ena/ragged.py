"""Array helpers for work that is sequential per queue in C but independent across queues.

The driver processes a batch of packets (or completions) of many queues in one call. Each
helper takes flat arrays grouped by queue (all elements of queue 0, then queue 1, ...) and
answers what a per-queue C loop would compute, with numpy over whole index ranges:

* :func:`group_layout` - stable order by queue, each element's rank in its queue;
* :func:`first_occurrence` - was this (queue, value) pair seen earlier in the loop?
* :func:`greedy_breaks` - where a greedy "close the group when it would overflow" loop
  starts new groups (the doorbell points of ``ena_start_xmit``), by pointer doubling in
  ``O(log n)`` numpy steps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Layout(NamedTuple):
    """Elements ordered by queue: ``order`` sorts the input stably by queue; ``queue``,
    ``rank`` (position within the queue) are in that sorted order; ``start[q]`` and
    ``count[q]`` locate queue ``q``'s elements in it."""

    order: np.ndarray
    queue: np.ndarray
    rank: np.ndarray
    start: np.ndarray
    count: np.ndarray


def group_layout(queue: np.ndarray, nqueues: int) -> Layout:
    """Stable grouping of ``queue`` (values in ``[0, nqueues)``)."""
    queue = np.asarray(queue, dtype=np.int64)
    order = np.argsort(queue, kind="stable")
    sq = queue[order]
    count = np.bincount(sq, minlength=nqueues).astype(np.int64)
    start = np.cumsum(count) - count
    rank = np.arange(sq.size, dtype=np.int64) - start[sq]
    return Layout(order, sq, rank, start, count)


def first_occurrence(group: np.ndarray, value: np.ndarray, nvalues: int) -> np.ndarray:
    """True where ``(group[i], value[i])`` does not occur at any earlier ``i`` (values in
    ``[0, nvalues)``): a second completion of the same req_id in one cleanup pass finds
    its buffer already released."""
    key = np.asarray(group, dtype=np.int64) * nvalues + np.asarray(value, dtype=np.int64)
    if key.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    head = np.ones(sk.size, dtype=bool)
    head[1:] = sk[1:] != sk[:-1]
    out = np.empty(sk.size, dtype=bool)
    out[order] = head
    return out


def greedy_breaks(start: np.ndarray, count: np.ndarray, cost: np.ndarray,
                  first_break: np.ndarray, max_items: int, max_cost: int) -> np.ndarray:
    """Positions (flat indices) where a greedy loop starts a new group.

    Queue ``q`` owns elements ``start[q] .. start[q] + count[q] - 1``; its first new group
    starts at ``first_break[q]`` (a flat index, or ``>= start + count`` for none). From a
    group starting at ``s``, the group holds at most ``max_items`` elements and at most
    ``max_cost`` total ``cost`` (``max_cost <= 0``: no cost limit); the next group starts
    at the first element that would exceed either. Every ``cost`` must be
    ``<= max_cost`` when there is a limit. Returns a boolean mask over the elements."""
    n = int(cost.size)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    start = np.asarray(start, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    end = start + count
    qid = np.repeat(np.arange(start.size), count)
    first = np.asarray(first_break, dtype=np.int64)
    if max_cost <= 0 and max_items >= 1 and (first >= start).all():
        # no cost limit: every group but the last holds max_items elements, so the
        # breaks are first[q], first[q] + max_items, ... inside the queue
        rel = np.arange(n, dtype=np.int64) - first[qid]
        return (rel >= 0) & (rel % max_items == 0)
    qend = end[qid]
    idx = np.arange(n, dtype=np.int64)
    nxt = np.minimum(idx + max_items, qend)
    if max_cost > 0:
        prefix = np.concatenate(([0], np.cumsum(cost, dtype=np.int64)))
        # first j > s with prefix[j + 1] - prefix[s] > max_cost  <=>  j = that index - 1
        over = np.searchsorted(prefix, prefix[:-1] + max_cost, side="right") - 1
        nxt = np.minimum(nxt, over)
    nxt = np.where(nxt >= qend, n, nxt)  # sentinel: no further break in this queue
    live = first < end
    if not live.any():
        return mask
    # Orbit of first[q] under nxt, all steps t = 0 .. count[q]-1 at once, by doubling.
    seeds = first[live]
    steps = count[live]
    t_seed = np.repeat(np.arange(seeds.size), steps)
    t = np.arange(t_seed.size, dtype=np.int64) - np.repeat(np.cumsum(steps) - steps, steps)
    pos = seeds[t_seed]
    jump = np.append(nxt, n)  # jump[n] = n keeps the sentinel fixed
    k = 0
    while (1 << k) <= int(steps.max()):
        bit = (t >> k) & 1 == 1
        pos = np.where(bit, jump[pos], pos)
        jump = jump[jump]
        k += 1
    mask[pos[pos < n]] = True
    return mask
