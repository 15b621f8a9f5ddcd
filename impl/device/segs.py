"""Small vectorized helpers over flat arrays cut into consecutive segments."""

from __future__ import annotations

import numpy as np


def group_rank(keys: np.ndarray) -> np.ndarray:
    """Rank of each element among equal keys (keys sorted)."""
    n = keys.size
    if n == 0:
        return np.zeros(0, np.int64)
    new = np.concatenate([[True], keys[1:] != keys[:-1]])
    starts = np.flatnonzero(new)
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def clean_prefix(bad: np.ndarray, n: np.ndarray) -> np.ndarray:
    """For a flat array cut into segments of ``n[j]`` elements: True where no element of
    the segment up to and including this one is ``bad``."""
    if bad.size == 0:
        return np.zeros(0, bool)
    seen = np.cumsum(bad)
    start = np.minimum(np.cumsum(n) - n, bad.size - 1)
    before = np.repeat(seen[start] - bad[start], n)
    return seen - before == 0
