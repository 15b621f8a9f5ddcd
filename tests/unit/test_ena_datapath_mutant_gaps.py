"""Behaviour of the ENA datapath modules (impl/ena: txclean, rxq, ...) that mutation testing
(mutmut 3.8.1, ``HYPOTHESIS_PROFILE=mutmut``) showed the other ENA tests leave unchecked,
after tests/unit/test_ena_driver_mutant_gaps.py.

TX cleanup: a cleanup call that finds nothing new runs the resume check
(``ENA_TX_RESUME_THRESH``) on its own queue only, never waking another stopped queue; a
completion hands back its packet's descriptors, not one entry per packet.
"""

from __future__ import annotations

import numpy as np
from support.ena_harness import batch, complete, world

from impl.ena.txclean import tx_cleanup

# ---------------------------------------------------------------------------- TX cleanup


def test_tx_cleanup_with_nothing_new_resumes_only_its_own_queue() -> None:
    # ena_tx_cleanup (ena_datapath.c) ends with the resume test on its own tx_ring: a
    # call on queue 1 whose CQ head holds no completion (TRY_AGAIN at once) may wake
    # queue 1, never queue 0, even though queue 0 is stopped with room to resume.
    w = world(num_queues=2, tx_ring_size=64)
    tx = w.drv.tx
    tx.running[0] = False
    assert bool(tx.enough(tx.free(np.array([0])), 21)[0])
    r = tx_cleanup(tx, np.array([1]), True, False)
    assert r.completed.size == 0 and r.reasons.tolist() == [0]
    assert tx.running.tolist() == [False, True]
    assert tx.stats.queue_wakeup.tolist() == [0, 0]
    # the same call on queue 0 is the one that resumes it, and counts the wake-up
    tx_cleanup(tx, np.array([0]), True, False)
    assert tx.running.tolist() == [True, True]
    assert tx.stats.queue_wakeup.tolist() == [1, 0]


def test_tx_cleanup_acks_every_descriptor_of_each_completed_packet() -> None:
    # ena_tx_cleanup (ena_datapath.c) sums tx_info->tx_descs over the packets it completes
    # and passes the total to ena_com_comp_ack, which advances the SQ's next_to_comp by
    # it: a 4-descriptor packet and a 1-descriptor one give back 5 entries, so the whole
    # ring is free again (free entries are q_depth - 1 at the start).
    w = world(tx_ring_size=64)
    tx = w.drv.tx
    r = w.drv.transmit(batch(w, [1000, 300], [4, 1]))
    assert r.xmit.sent.tolist() == [0, 1] and tx.tx_descs[0, :2].tolist() == [4, 1]
    assert int(tx.tail[0]) == 5 and int(tx.next_to_comp[0]) == 0
    complete(w, [0, 1])
    c = tx_cleanup(tx, np.array([0]), True, False)
    assert c.completed.tolist() == [0, 1]
    assert int(tx.next_to_comp[0]) == 5
    assert int(tx.free(np.array([0]))[0]) == 63
