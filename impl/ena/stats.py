"""Per-queue counters, named as the FreeBSD driver names them (``struct ena_stats_tx`` /
``struct ena_stats_rx`` in ena.h), one ``int64`` array element per queue:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L320

``br_drops`` is the software buf_ring's own drop counter (``struct buf_ring.br_drops``):
a packet refused by a full drbr. ``tx_info_oob_reads`` is not a FreeBSD counter: it counts
the as-shipped ``ena_get_tx_req_id`` reading ``tx_buffer_info[req_id]`` after ena_com
rejected the req_id (past the array for an out-of-range one); the hardened policy never
does, so it stays 0 there.
"""

from __future__ import annotations

import numpy as np

TX_STATS = (
    "cnt", "bytes", "prepare_ctx_err", "dma_mapping_err", "doorbells", "missing_tx_comp",
    "bad_req_id", "collapse", "collapse_err", "queue_wakeup", "queue_stop",
    "llq_buffer_copy", "unmask_interrupt_num",
)
"""``struct ena_stats_tx``, in declaration order."""

RX_STATS = (
    "cnt", "bytes", "refil_partial", "csum_bad", "mjum_alloc_fail", "mbuf_alloc_fail",
    "dma_mapping_err", "bad_desc_num", "bad_req_id", "empty_rx_ring", "csum_good",
)
"""``struct ena_stats_rx``, in declaration order."""

TX_EXTRA = ("br_drops", "tx_info_oob_reads")


class Counters:
    """Named ``int64`` counters, one element per queue: ``stats.cnt[q]``."""

    def __init__(self, names: tuple[str, ...], nqueues: int) -> None:
        self.names = names
        self._arrays = {n: np.zeros(nqueues, dtype=np.int64) for n in names}

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["_arrays"][name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, np.ndarray]:
        return {n: a.copy() for n, a in self._arrays.items()}

    def totals(self) -> dict[str, int]:
        return {n: int(a.sum()) for n, a in self._arrays.items()}


def tx_counters(nqueues: int) -> Counters:
    return Counters(TX_STATS + TX_EXTRA, nqueues)


def rx_counters(nqueues: int) -> Counters:
    return Counters(RX_STATS, nqueues)
