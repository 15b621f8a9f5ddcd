"""The software TX queue in front of each ring: FreeBSD's ``buf_ring`` used through drbr.

``ena_mq_start`` picks a queue and ``drbr_enqueue``s the mbuf; ``ena_start_xmit`` then
``drbr_peek``s, and either ``drbr_advance``s (sent, or dropped on a hard error) or
``drbr_putback``s (retry later). ``ena_mq_start`` in ena_datapath.c:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L139

A ``buf_ring`` of ``size`` slots (a power of two, ``ENA_DEFAULT_BUF_RING_SIZE`` = 4096)
holds at most ``size - 1`` packets: the producer refuses when its next index would meet
the consumer, frees the mbuf and counts ``br_drops``.

Here every queue's ring is a row of arrays (one row per queue, one column per slot) that
hold what the driver later needs of the mbuf: its id, DMA address and length, the segment
lengths of its chain (after ``m_collapse`` when ``ena_check_and_collapse_mbuf`` would
collapse it; see :mod:`impl.ena.txmap`) and the TX offload request.
"""

from __future__ import annotations

import numpy as np

from impl.ena.ragged import group_layout


class BufRings:
    """One drbr per queue; ``prod`` / ``cons`` are free-running counters."""

    def __init__(self, nqueues: int, size: int, max_segs: int) -> None:
        if size < 1 or size & (size - 1):
            raise ValueError(f"buf_ring size must be a power of two, got {size}")
        self.nqueues = nqueues
        self.size = size
        self.max_segs = max_segs
        shape = (nqueues, size)
        self.prod = np.zeros(nqueues, dtype=np.int64)
        self.cons = np.zeros(nqueues, dtype=np.int64)
        self.pkt_id = np.full(shape, -1, dtype=np.int64)
        self.addr = np.zeros(shape, dtype=np.int64)
        self.length = np.zeros(shape, dtype=np.int64)
        self.nsegs = np.zeros(shape, dtype=np.int64)
        """Segments in the chain as enqueued (``ena_mbuf_count``)."""
        self.seg_len = np.zeros((*shape, max_segs), dtype=np.int32)
        """Segment lengths after the collapse the driver will do (first ``used_segs``)."""
        self.used_segs = np.zeros(shape, dtype=np.int64)
        self.csum_flags = np.zeros(shape, dtype=np.int64)
        self.tso_segsz = np.zeros(shape, dtype=np.int64)

    @property
    def count(self) -> np.ndarray:
        """Packets queued per queue."""
        return self.prod - self.cons

    @property
    def space(self) -> np.ndarray:
        return self.size - 1 - self.count

    def enqueue(self, queue: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
        """``drbr_enqueue`` each packet (in order) onto ``queue[i]``. ``fields`` holds one
        array per record field (``seg_len`` as rows of at most ``max_segs``, the columns
        left out being zero). Returns the boolean mask of accepted packets; the others
        found their ring full."""
        lay = group_layout(queue, self.nqueues)
        accepted_sorted = lay.rank < self.space[lay.queue]
        sel = lay.order[accepted_sorted]
        q = lay.queue[accepted_sorted]
        slot = (self.prod[q] + lay.rank[accepted_sorted]) & (self.size - 1)
        flat = q * self.size + slot  # one row index into every (queue, slot) array
        for name, values in fields.items():  # the record's fields, not the packets
            rows = getattr(self, name).reshape((-1, *getattr(self, name).shape[2:]),
                                               copy=False)
            if values.ndim == 2 and values.shape[1] < rows.shape[1]:
                # a narrower seg_len: the columns it leaves out are zero
                rows[flat, :values.shape[1]] = values[sel]
                rows[flat, values.shape[1]:] = 0
            else:
                rows[flat] = values[sel]
        self.prod += np.minimum(lay.count, self.space)
        accepted = np.zeros(lay.order.size, dtype=bool)
        accepted[sel] = True
        return accepted

    def window(self, queues: np.ndarray, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                     np.ndarray]:
        """The first ``min(count, limit)`` queued packets of each queue in ``queues``
        (``drbr_peek`` order): flat ``(queue, rank, slot)``."""
        n = np.minimum(self.count[queues], limit)
        q = np.repeat(queues, n)
        rank = np.arange(q.size, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        slot = (self.cons[q] + rank) & (self.size - 1)
        return q, rank, slot

    def advance(self, queues: np.ndarray, n: np.ndarray) -> None:
        """``drbr_advance`` ``n[i]`` packets of ``queues[i]`` (their slots are cleared)."""
        q = np.repeat(queues, n)
        rank = np.arange(q.size, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        self.pkt_id.reshape(-1, copy=False)[q * self.size
                                            + ((self.cons[q] + rank) & (self.size - 1))] = -1
        self.cons[queues] += n

    def queued_ids(self) -> np.ndarray:
        """Ids of every queued packet (any order)."""
        return self.pkt_id[self.pkt_id >= 0]
