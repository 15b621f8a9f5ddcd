"""Datapath fault knobs and the device's counters.

Each knob is a rate in [0, 1]: the probability that one event (a TX completion, an RX
packet, a doorbell) is corrupted in the named way. Every draw comes from the device's one
generator (seeded by ``DeviceConfig.seed``), so a run is reproducible. What each knob does
and what the ena_com/driver code makes of it:

=====================  =====================================================  ==========
knob                   device behaviour                                        driver sees
=====================  =====================================================  ==========
tx_req_id_oob          TX cdesc req_id >= SQ depth (the packet's own           INV_TX_REQ_ID
                       completion is lost)
tx_req_id_dup          TX cdesc repeats the req_id of the previous completion  INV_TX_REQ_ID
                       on that queue (own completion lost)
tx_req_id_stale        TX cdesc names an id not in flight on the device (own   INV_TX_REQ_ID
                       completion lost)
cdesc_mbz              MBZ bits set: TX cdesc flags 7:6, RX cdesc status 7/17  *_DESCRIPTOR_
                       (the completion is otherwise right)                     MALFORMED if
                                                                               CDESC_MBZ cap
tx_comp_lost           a TX completion is never written                        missing TX
                                                                               completion
rx_first_not_first     FIRST set on the second completion of a multi-buffer    RX_DESCRIPTOR_
                       packet                                                  MALFORMED
rx_too_many_descs      the packet is scattered over ``rx_too_many`` buffers     TOO_MANY_RX_DESCS
rx_req_id_invalid      an RX cdesc req_id >= RX SQ depth                       INV_RX_REQ_ID
rx_req_id_dup          an RX cdesc repeats the req_id of the previous          INV_RX_REQ_ID
                       completion of its queue in the batch (the buffer it     (netmap as
                       filled is never named)                                  shipped: none)
llq_burst_overrun      for this doorbell the device enforces one LLQ entry     missing TX
                       less than it advertised; packets past the limit are     completion
                       dropped
=====================  =====================================================  ==========
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from impl.ena_defs.constants import PKT_MAX_BUFS


@dataclass(frozen=True)
class Faults:
    """Rates of the datapath faults (all 0: a well-behaved device)."""

    tx_req_id_oob: float = 0.0
    tx_req_id_dup: float = 0.0
    tx_req_id_stale: float = 0.0
    cdesc_mbz: float = 0.0
    tx_comp_lost: float = 0.0
    rx_first_not_first: float = 0.0
    rx_too_many_descs: float = 0.0
    rx_req_id_invalid: float = 0.0
    rx_req_id_dup: float = 0.0
    llq_burst_overrun: float = 0.0
    rx_too_many: int = PKT_MAX_BUFS + 1
    """Buffers used by a ``rx_too_many_descs`` packet (one more than the driver accepts)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not 0.0 <= v <= 1.0:
                raise ValueError(f"fault rate {f.name}={v} outside [0, 1]")
        if self.rx_too_many < 2:
            raise ValueError("rx_too_many must be at least 2")

    @staticmethod
    def names() -> list[str]:
        return [f.name for f in fields(Faults) if f.type == "float"]


def draw(rng: np.random.Generator, rate: float, n: int) -> np.ndarray:
    """n Bernoulli draws (no draw at all when the rate is 0, so adding a knob does not
    shift the random stream of runs that leave it off)."""
    if rate <= 0.0 or n == 0:
        return np.zeros(n, dtype=bool)
    return rng.random(n) < rate


@dataclass
class DeviceStats:
    """Counters of what the device did; every dropped or corrupted packet lands in one."""

    tx_pkts: int = 0
    tx_bytes: int = 0
    tx_descs: int = 0
    tx_llq_entries: int = 0
    tx_malformed: int = 0
    tx_dma_error: int = 0
    tx_bad_phase: int = 0
    tx_doorbell_overrun: int = 0
    tx_req_id_reused: int = 0
    tx_completions: int = 0
    tx_req_id_oob: int = 0
    tx_req_id_dup: int = 0
    tx_req_id_stale: int = 0
    tx_comp_lost: int = 0
    tx_cdesc_mbz: int = 0
    llq_burst_overrun: int = 0
    llq_burst_dropped_pkts: int = 0
    rx_pkts: int = 0
    rx_bytes: int = 0
    rx_descs: int = 0
    rx_no_buffer: int = 0
    rx_no_queue: int = 0
    rx_bad_phase: int = 0
    rx_dma_error: int = 0
    rx_first_not_first: int = 0
    rx_too_many_descs: int = 0
    rx_req_id_invalid: int = 0
    rx_req_id_dup: int = 0
    rx_cdesc_mbz: int = 0
    interrupts: int = 0
    unmasks: int = 0

    def add(self, name: str, n: int | np.integer) -> None:
        setattr(self, name, getattr(self, name) + int(n))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
