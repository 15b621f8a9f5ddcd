"""How many IO queues an adapter gets and how deep they are, from what the device
advertised at attach (``ena_calc_max_io_queue_num`` and ``ena_calc_io_queue_size``).

* queue count: min(CPUs, 128, RX queues = min(rx_sq_num, rx_cq_num), TX SQs (the LLQ
  count with LLQ), TX CQs, MSI-X vectors - 1)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2645
* ring sizes: maxima from the CQ/SQ (or LLQ) depths, halved for large LLQ entries when
  the device gives no wide depth, rounded down to a power of two; the default 1024
  clamped to [256, max] and rounded down; ``max_{tx,rx}_sgl_size = min(19, per-packet
  descriptors)``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2848
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impl.ena.admin_cmds import MAX_QUEUES_EXT, ComFeatures, DevFeatures
from impl.ena_defs.constants import (
    DEFAULT_RING_SIZE,
    MAX_NUM_IO_QUEUES,
    MIN_RING_SIZE,
    PKT_MAX_BUFS,
)


@dataclass(frozen=True)
class QueueSizes:
    """``struct ena_calc_queue_size_ctx`` after ``ena_calc_io_queue_size``."""

    tx_queue_size: int
    rx_queue_size: int
    max_tx_queue_size: int
    max_rx_queue_size: int
    max_tx_sgl_size: int
    max_rx_sgl_size: int


def _field(rec: np.ndarray | None, name: str) -> int:
    return 0 if rec is None else int(rec[name][0])


def round_down_pow2(x: int) -> int:
    """``1 << (flsl(x) - 1)`` (x >= 1)."""
    return 1 << (int(x).bit_length() - 1)


def calc_max_io_queue_num(com: ComFeatures, feats: DevFeatures, llq: bool, ncpus: int,
                          msix_count: int) -> int:
    """``ena_calc_max_io_queue_num``."""
    q = feats.max_queue_ext
    if com.supports(MAX_QUEUES_EXT):
        rx_num = min(_field(q, "max_rx_sq_num"), _field(q, "max_rx_cq_num"))
        tx_sq, tx_cq = _field(q, "max_tx_sq_num"), _field(q, "max_tx_cq_num")
    else:
        tx_sq, tx_cq = _field(q, "max_sq_num"), _field(q, "max_cq_num")
        rx_num = min(tx_sq, tx_cq)
    if llq:
        tx_sq = _field(feats.llq, "max_llq_num")
    return min(ncpus, MAX_NUM_IO_QUEUES, rx_num, tx_sq, tx_cq, msix_count - 1)


def calc_io_queue_size(com: ComFeatures, feats: DevFeatures, llq: bool,
                       large_llq: bool) -> QueueSizes | None:
    """``ena_calc_io_queue_size``; None where the C's ``flsl(0) - 1`` would shift by -1
    (a device advertising a zero depth -- the C does not guard it; attach fails here)."""
    q = feats.max_queue_ext
    if com.supports(MAX_QUEUES_EXT):
        max_rx = min(_field(q, "max_rx_cq_depth"), _field(q, "max_rx_sq_depth"))
        max_tx = _field(q, "max_tx_cq_depth")
        sq_depth = _field(q, "max_tx_sq_depth")
        tx_sgl, rx_sgl = _field(q, "max_per_packet_tx_descs"), _field(q, "max_per_packet_rx_descs")
    else:
        max_rx = min(_field(q, "max_cq_depth"), _field(q, "max_sq_depth"))
        max_tx = _field(q, "max_cq_depth")
        sq_depth = _field(q, "max_sq_depth")
        tx_sgl, rx_sgl = _field(q, "max_packet_tx_descs"), _field(q, "max_packet_rx_descs")
    max_tx = min(max_tx, _field(feats.llq, "max_llq_depth") if llq else sq_depth)
    if large_llq and llq:
        wide = _field(feats.llq, "max_wide_llq_depth")
        if wide != max_tx:
            max_tx = max_tx // 2 if wide == 0 else wide
    if max_tx < 1 or max_rx < 1:
        return None
    max_tx, max_rx = round_down_pow2(max_tx), round_down_pow2(max_rx)
    tx = round_down_pow2(min(max(DEFAULT_RING_SIZE, MIN_RING_SIZE), max_tx))
    rx = round_down_pow2(min(max(DEFAULT_RING_SIZE, MIN_RING_SIZE), max_rx))
    return QueueSizes(tx, rx, max_tx, max_rx, min(PKT_MAX_BUFS, tx_sgl), min(PKT_MAX_BUFS, rx_sgl))
