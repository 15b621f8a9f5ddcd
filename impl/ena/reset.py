"""The reset trigger: the first reason wins (``ena_trigger_reset`` in ena.h).

``ena_trigger_reset`` records the reason only if ``ENA_FLAG_TRIGGER_RESET`` is not yet set,
then sets the flag; the reset itself runs later from the timer's reset task:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L655

Until the management plane exists, a triggered reset stops the datapath: every entry point
returns without touching the queues (what ``ena_down`` clearing ``IFF_DRV_RUNNING`` would
do), and the reason stays recorded for the tests.
"""

from __future__ import annotations

import numpy as np

from impl.ena_defs.regs import ResetReason


class ResetState:
    """``adapter->reset_reason`` and ``ENA_FLAG_TRIGGER_RESET``."""

    def __init__(self) -> None:
        self.triggered = False
        self.reason = ResetReason.NORMAL
        self.triggers = 0
        """How many times ``ena_trigger_reset`` was called (later calls are ignored)."""

    def trigger(self, reason: ResetReason | int) -> None:
        self.triggers += 1
        if not self.triggered:
            self.reason = ResetReason(int(reason))
            self.triggered = True

    def assign(self, reason: ResetReason | int) -> None:
        """The missing-TX-completion path of ``check_missing_comp_in_tx_queue``: the flag
        set and ``reset_reason`` assigned directly, overwriting any recorded reason."""
        self.triggers += 1
        self.reason = ResetReason(int(reason))
        self.triggered = True

    def clear(self) -> None:
        """``ena_destroy_device``'s end: ``reset_reason = NORMAL``, the flag cleared."""
        self.triggered = False
        self.reason = ResetReason.NORMAL

    def clear_flag(self) -> None:
        """``ENA_FLAG_CLEAR_ATOMIC(ENA_FLAG_TRIGGER_RESET)`` alone (ena_netmap_reg as
        shipped): the request is dropped, ``reset_reason`` stays recorded."""
        self.triggered = False

    def trigger_first(self, reasons: np.ndarray) -> None:
        """Trigger with every non-zero entry of ``reasons``, in array order (so the first
        non-zero one wins)."""
        hits = np.flatnonzero(np.asarray(reasons) != 0)
        if hits.size:
            self.trigger(int(np.asarray(reasons)[hits[0]]))
            self.triggers += int(hits.size) - 1
