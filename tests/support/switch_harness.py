"""What the two switch machines (tests/stateful/test_switch_rx.py and test_switch_tx.py)
share: drawing per-ring counts and masks, stepping each ring's model, and the checks of
real objects that hold in both directions (every netmap buffer in one place, every live
mbuf in a descriptor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import invariant

from impl.switch.rings import MBUF, SwitchRings


class SwitchHarness:
    """Mixed into a RuleBasedStateMachine that sets ``self.rings`` and ``self.models``."""

    rings: SwitchRings
    models: list[Any]

    def _counts(self, data: st.DataObject) -> np.ndarray:
        return np.array(data.draw(st.lists(st.integers(0, self.rings.n + 1),
                                           min_size=self.rings.q, max_size=self.rings.q)))

    def _mask(self, data: st.DataObject) -> np.ndarray:
        return np.array(data.draw(st.lists(st.booleans(), min_size=self.rings.q,
                                           max_size=self.rings.q)))

    def _expect(self, step_of: Callable[[int, Any], Any]) -> None:
        """Step each ring's model (``step_of`` gives None for a ring the call did not
        address); a ring whose guard fails must not have moved."""
        for q, pre in enumerate(self.models):
            step = step_of(q, pre)
            self.models[q] = step.post if step is not None and step.guard else pre

    @invariant()
    def every_netmap_buffer_in_one_place(self) -> None:
        ids = np.concatenate([self.rings.held_netmap_buffers(), self.rings.pool.free_ids()])
        assert np.array_equal(np.sort(ids), np.arange(self.rings.q * self.rings.n))

    @invariant()
    def every_live_mbuf_in_a_descriptor(self) -> None:
        in_desc = np.sort(self.rings.desc_buf[self.rings.kind == MBUF])
        assert np.array_equal(in_desc, np.flatnonzero(self.rings.mbufs.live))
