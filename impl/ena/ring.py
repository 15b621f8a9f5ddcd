"""ena_com's queue counters: free-running ``u16`` tail / head / next_to_comp, phase bits.

Every SQ and CQ counter is a ``u16`` that only ever increments; the slot is
``counter & (depth - 1)`` (depths are powers of two), and the phase bit flips each time the
counter crosses a multiple of ``depth`` (``ena_com_cq_inc_head``,
``ena_com_sq_update_reqular_queue_tail``):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L223

Space in an SQ keeps one entry empty (``ena_com_free_q_entries``):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L105
and ``ena_com_sq_have_enough_space`` asks ``free >= n`` of a host-memory SQ but
``free > n / descs_per_entry + 2`` of an LLQ SQ (whose tail counts LLQ entries):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L117

All functions take numpy arrays (one element per queue, or any shape) and return arrays;
the counters are kept as ``int64`` holding values in ``[0, 65536)``.
"""

from __future__ import annotations

import numpy as np

U16 = 1 << 16


def u16(x: np.ndarray | int) -> np.ndarray:
    """Wrap to the ``u16`` range, as C's implicit conversion does."""
    return np.asarray(x, dtype=np.int64) & (U16 - 1)


def used_entries(tail: np.ndarray, next_to_comp: np.ndarray) -> np.ndarray:
    """``(u16)(tail - next_to_comp)``: entries handed to the device and not completed."""
    return u16(np.asarray(tail, dtype=np.int64) - np.asarray(next_to_comp, dtype=np.int64))


def free_entries(tail: np.ndarray, next_to_comp: np.ndarray, depth: int) -> np.ndarray:
    """``ena_com_free_q_entries``: ``depth - 1 - (u16)(tail - next_to_comp)``."""
    return depth - 1 - used_entries(tail, next_to_comp)


def have_enough_space(free: np.ndarray, required: np.ndarray | int, llq: bool,
                      descs_per_entry: int) -> np.ndarray:
    """``ena_com_sq_have_enough_space`` given the free entries: host ``free >= n``; LLQ
    ``free > n // descs_per_entry + 2`` (one line for the header, one for rounding down)."""
    free = np.asarray(free, dtype=np.int64)
    required = np.asarray(required, dtype=np.int64)
    if llq:
        return free > required // descs_per_entry + 2
    return free >= required


def advance(counter: np.ndarray, phase: np.ndarray, n: np.ndarray | int,
            depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Counter and phase after ``n`` increments: the phase flips once per multiple of
    ``depth`` crossed (``n`` may exceed ``depth``)."""
    counter = np.asarray(counter, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    masked = counter & (depth - 1)
    crossings = (masked + n) // depth
    return u16(counter + n), np.asarray(phase, dtype=np.int64) ^ (crossings & 1)


def phases_at(counter: np.ndarray, phase: np.ndarray, k: np.ndarray, depth: int) -> np.ndarray:
    """The phase of the entry ``k`` places after ``counter`` (the phase the producer writes,
    or the consumer expects, there): ``phase`` flipped once per wrap between them."""
    counter = np.asarray(counter, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    crossings = ((counter & (depth - 1)) + k) // depth
    return np.asarray(phase, dtype=np.int64) ^ (crossings & 1)


def slots(counter: np.ndarray, k: np.ndarray, depth: int) -> np.ndarray:
    """Ring slot of the entry ``k`` places after ``counter``."""
    return (np.asarray(counter, dtype=np.int64) + np.asarray(k, dtype=np.int64)) & (depth - 1)


def check_depth(depth: int) -> int:
    """Depths must be powers of two that a ``u16`` counter wraps evenly (2 .. 32768)."""
    if not (2 <= depth <= U16 // 2) or depth & (depth - 1):
        raise ValueError(f"queue depth must be a power of two in [2, 32768], got {depth}")
    return int(depth)
