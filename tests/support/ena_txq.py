"""Where a stack packet goes with netmap on some ENA queues, by the model
(:mod:`model.ena_netmap_txq`) and as the implementation reports it."""

from __future__ import annotations

import numpy as np

from model.ena_netmap_txq import NETMAP_TXQ, NetmapTxq

PLACES = ("to_host", "sent", "mixed")


def model_place(hardened: bool, nq: int, on: np.ndarray, flowid: int, hashed: int,
                cpu: int) -> str:
    """The ghost count the model's stack_transmit step increments: ``to_host`` (netmap's
    host ring), ``sent`` (a queue in mbuf mode) or ``mixed`` (a queue in netmap mode)."""
    pre = NetmapTxq(nq=nq, on=sum(1 << int(q) for q in np.flatnonzero(on)), to_host=0,
                    sent=0, mixed=0)
    name = "stack_transmit_" + ("hardened" if hardened else "as_shipped")
    step = NETMAP_TXQ.transitions[name](pre, txq=flowid % nq, hashed=hashed, cpuq=cpu % nq,
                                        rss=0, rssq=0)
    assert step.guard is True
    counted = [f for f in PLACES if getattr(step.post, f) == 1]
    assert len(counted) == 1, counted
    return counted[0]


def impl_place(queue: int, on: np.ndarray) -> str:
    """The same for the queue ``EnaDriver.enqueue`` reported (-1: netmap_transmit took
    the packet for the host ring)."""
    return "to_host" if queue < 0 else "mixed" if on[queue] else "sent"
