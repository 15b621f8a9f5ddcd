"""The netmap-on-ENA rig of :mod:`ringspec.ena_netmap_run`, and random frames for it."""

from __future__ import annotations

import numpy as np

from ringspec.ena_netmap_run import netmap_rig, put_frames, room, take_packets

__all__ = ["netmap_rig", "put_frames", "random_frames", "room", "take_packets"]


def random_frames(rng: np.random.Generator, k: int, max_frags: int = 3,
                  frag_max: int = 700) -> list[list[bytes]]:
    """``k`` frames of 1..max_frags fragments of 1..frag_max random bytes, each at least
    60 bytes long (an Ethernet frame the device will carry)."""
    out = []
    for _ in range(k):
        m = int(rng.integers(1, max_frags + 1))
        lens = rng.integers(1, frag_max + 1, m)
        lens[0] = max(int(lens[0]), 60 - int(lens[1:].sum()), 1)
        out.append([rng.integers(0, 256, int(x), dtype=np.uint8).tobytes() for x in lens])
    return out
