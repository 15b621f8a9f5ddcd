"""Queue count and ring sizes (:mod:`impl.ena.sizing`) where mutation testing found no
test: a device without MAX_QUEUES_EXT (the MAX_QUEUES_NUM descriptor), the 128-queue
and TX CQ limits, a wide LLQ depth the device gives, and depths of exactly 1.  The C is
ena_calc_max_io_queue_num and ena_calc_io_queue_size:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2645
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2848
"""

from __future__ import annotations

import numpy as np

from impl.ena.admin_cmds import MAX_QUEUES_EXT, ComFeatures, DevFeatures
from impl.ena.sizing import QueueSizes, calc_io_queue_size, calc_max_io_queue_num
from impl.ena_defs import mgmt_layouts as m

EXT = ComFeatures(supported_features=1 << MAX_QUEUES_EXT)
NO_EXT = ComFeatures(supported_features=0)


def legacy_feats(sq_num: int = 8, cq_num: int = 8, sq_depth: int = 4096,
                 cq_depth: int = 4096, tx_descs: int = 25, rx_descs: int = 7) -> DevFeatures:
    """A device answering MAX_QUEUES_NUM (no MAX_QUEUES_EXT); no LLQ."""
    q = np.zeros(1, m.MAX_QUEUES_DTYPE)
    q["max_sq_num"], q["max_cq_num"] = sq_num, cq_num
    q["max_sq_depth"], q["max_cq_depth"] = sq_depth, cq_depth
    q["max_packet_tx_descs"], q["max_packet_rx_descs"] = tx_descs, rx_descs
    return DevFeatures(max_queue_ext=q, llq=np.zeros(1, m.LLQ_DTYPE))


def ext_feats(num: int = 200, tx_cq_num: int = 200, depth: int = 8192, llq_depth: int = 0,
              wide: int = 0) -> DevFeatures:
    """A device answering MAX_QUEUES_EXT with ``num`` of every queue kind (TX CQs
    ``tx_cq_num``) and ``depth`` everywhere; LLQ with ``llq_depth`` / ``wide``."""
    q = np.zeros(1, m.MAX_QUEUES_EXT_DTYPE)
    q["version"] = 1
    for k in ("max_tx_sq_num", "max_rx_sq_num", "max_rx_cq_num"):
        q[k] = num
    q["max_tx_cq_num"] = tx_cq_num
    for k in ("max_tx_sq_depth", "max_tx_cq_depth", "max_rx_sq_depth", "max_rx_cq_depth"):
        q[k] = depth
    q["max_per_packet_tx_descs"] = q["max_per_packet_rx_descs"] = 25
    llq = np.zeros(1, m.LLQ_DTYPE)
    llq["max_llq_num"], llq["max_llq_depth"], llq["max_wide_llq_depth"] = num, llq_depth, wide
    return DevFeatures(max_queue_ext=q, llq=llq)


def test_queue_count_without_max_queues_ext_is_bounded_by_sq_and_cq_num() -> None:
    """Without MAX_QUEUES_EXT, TX SQs are max_sq_num, TX CQs max_cq_num and RX queues
    the smaller of the two: each of them can be the limit."""
    big = {"ncpus": 64, "msix_count": 65}
    assert calc_max_io_queue_num(NO_EXT, legacy_feats(sq_num=5, cq_num=9), False, **big) == 5
    assert calc_max_io_queue_num(NO_EXT, legacy_feats(sq_num=9, cq_num=6), False, **big) == 6


def test_ring_sizes_without_max_queues_ext_come_from_the_sq_and_cq_depths() -> None:
    """Without MAX_QUEUES_EXT: RX max = min(cq depth, sq depth), TX max = min(cq depth,
    sq depth) without LLQ, each rounded down to 2^k; the SGL sizes from
    max_packet_{tx,rx}_descs, capped at 19."""
    got = calc_io_queue_size(NO_EXT, legacy_feats(sq_depth=700, cq_depth=3000), False,
                             False)
    assert got == QueueSizes(512, 512, 512, 512, 19, 7)
    got = calc_io_queue_size(NO_EXT, legacy_feats(sq_depth=3000, cq_depth=300,
                                                  tx_descs=4, rx_descs=30), False, False)
    assert got == QueueSizes(256, 256, 256, 256, 4, 19)


def test_queue_count_is_at_most_128() -> None:
    """ENA_MAX_NUM_IO_QUEUES caps the count when every other limit is larger."""
    assert calc_max_io_queue_num(EXT, ext_feats(), False, ncpus=256, msix_count=257) == 128


def test_queue_count_is_bounded_by_the_tx_cq_num() -> None:
    assert calc_max_io_queue_num(EXT, ext_feats(tx_cq_num=5), False, ncpus=64,
                                 msix_count=65) == 5


def test_large_llq_entries_take_the_wide_depth_the_device_gives() -> None:
    """With 256-byte LLQ entries and max_wide_llq_depth set (and not the TX max), the TX
    max becomes the wide depth, not half the LLQ depth."""
    got = calc_io_queue_size(EXT, ext_feats(llq_depth=4096, wide=1024), True, True)
    assert got is not None and (got.max_tx_queue_size, got.tx_queue_size) == (1024, 1024)
    halved = calc_io_queue_size(EXT, ext_feats(llq_depth=4096), True, True)
    assert halved is not None and halved.max_tx_queue_size == 2048


def test_a_depth_of_one_is_a_ring_of_one() -> None:
    """clamp_val(1024, 256, max) with max = 1 is 1: a device advertising depth 1 gets
    1-entry rings, not the zero-depth failure."""
    for tx_depth, rx_depth in ((1, 8192), (8192, 1)):
        feats = ext_feats()
        q = feats.max_queue_ext
        assert q is not None
        q["max_tx_sq_depth"] = q["max_tx_cq_depth"] = tx_depth
        q["max_rx_sq_depth"] = q["max_rx_cq_depth"] = rx_depth
        got = calc_io_queue_size(EXT, feats, False, False)
        assert got is not None
        assert (got.tx_queue_size, got.max_tx_queue_size) == (min(tx_depth, 1024), tx_depth)
        assert (got.rx_queue_size, got.max_rx_queue_size) == (min(rx_depth, 1024), rx_depth)


def test_missing_queue_descriptors_read_as_zero_depths() -> None:
    """A features context without the max-queues record reads every field as 0: zero
    depths, so no sizes (attach fails), and zero queues."""
    assert calc_io_queue_size(NO_EXT, DevFeatures(), False, False) is None
    assert calc_max_io_queue_num(NO_EXT, DevFeatures(), False, ncpus=8, msix_count=9) == 0
