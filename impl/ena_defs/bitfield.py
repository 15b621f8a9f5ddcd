"""A bit field of a little-endian descriptor word, read and written over whole arrays.

The ENA headers describe every flag as ``SHIFT`` / ``MASK`` macros over a ``uint32_t`` (or
``uint8_t``) member, e.g. ``ENA_ETH_IO_TX_DESC_PHASE_SHIFT 24`` / ``_MASK BIT(24)``. A
:class:`Field` is that pair plus the member's name, so driver and device extract or build
the bits of a batch of descriptors with one numpy expression (no loop over descriptors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Field:
    """Bits ``shift .. shift+width-1`` of the member ``word`` of a structured dtype."""

    word: str
    shift: int
    width: int

    @property
    def mask(self) -> int:
        """The C ``_MASK`` macro: the field's bits in place."""
        return ((1 << self.width) - 1) << self.shift

    @property
    def max(self) -> int:
        """Largest value the field holds."""
        return (1 << self.width) - 1

    def get(self, words: np.ndarray | int) -> np.ndarray:
        """The field's value in each word (unsigned, shifted down)."""
        w = np.asarray(words).astype(np.uint64)
        return ((w >> np.uint64(self.shift)) & np.uint64(self.max)).astype(np.int64)

    def put(self, value: np.ndarray | int) -> np.ndarray:
        """``value`` placed at the field's bits (masked to its width), as uint64 bits to OR
        into a word; callers cast to the member's dtype."""
        v = np.asarray(value).astype(np.uint64)
        return (v & np.uint64(self.max)) << np.uint64(self.shift)

    def is_set(self, words: np.ndarray | int) -> np.ndarray:
        """True where any bit of the field is set (for flags and MBZ groups)."""
        return (np.asarray(words).astype(np.uint64) & np.uint64(self.mask)) != 0
