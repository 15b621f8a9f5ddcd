"""ENA LLQ (device placement): how a packet's descriptors fill 128/256-byte LLQ entries,
the TX burst limit between doorbells, and the push-header size limit.

Entries: the first entry of a packet holds ``descs_num_before_header`` = 2 descriptors then
the pushed header; each further entry holds ``descs_per_entry`` = 8 (128 B) or 16 (256 B)
descriptors.  get_sq_desc_llq hands out a descriptor slot and decrements
``descs_left_in_line``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L151);
a full line is written to the device by ena_com_sq_update_llq_tail
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L210)
through ena_com_write_bounce_buffer_to_dev, which spends one entry of the burst or fails
with ENA_COM_NO_SPACE when none is left
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L75);
a partial line is written at the end of the packet by ena_com_close_bounce_buffer
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L172).
Before the packet the driver asks ena_com_is_doorbell_needed, which predicts the entries
as ``1 + ceil((descs - 2) / descs_per_entry)``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L152),
and rings the doorbell first if the burst has fewer left; the doorbell refills the burst
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L183).

Parametric in descs_per_entry (8 or 16), the burst size and the packet's descriptor count
(1..32, ENA_BUS_DMA_SEGS).  The header limit (machine ``ena_tx_header``) is over every u16
value the device can report.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Implies, Not, Or, Param, Step, Term, Var, solver_module
from model.ena_bits import add16, ite, sub16, ule, ult
from model.ena_machine import EnaMachine, choose, replace

__all__ = [
    "BEFORE_HEADER", "HDR", "LLQ", "MAX_PKT_DESCS", "EnaLlq", "EnaTxHeader", "entries_needed",
    "header_init", "llq_init",
]

BEFORE_HEADER = 2  # descs_num_before_header chosen by ena_set_llq_configurations
MAX_PKT_DESCS = 32  # ENA_BUS_DMA_SEGS: no packet has more descriptors


def _shr(x: Term, n: int) -> Term:
    return x >> n if isinstance(x, int) else solver_module(x).LShR(x, n)


def div_dpe(x: Term, dpe: Term) -> Term:
    """x / descs_per_entry for descs_per_entry in {8, 16} (a shift)."""
    return ite(Eq(dpe, 8), _shr(x, 3), _shr(x, 4))


def mod_dpe(x: Term, dpe: Term) -> Term:
    return x & sub16(dpe, 1)


def entries_needed(descs: Term, dpe: Term) -> Term:
    """ena_com_is_doorbell_needed's count: 1 entry, plus ceil((descs - 2) / dpe) if descs >
    2."""
    extra = sub16(descs, BEFORE_HEADER)
    return ite(ult(BEFORE_HEADER, descs), add16(1, div_dpe(add16(extra, sub16(dpe, 1)), dpe)),
               1)


@dataclass(frozen=True)
class EnaLlq:
    """The LLQ writer of one TX SQ: the current line, the packet being written, the burst."""

    depth_log2: Term
    dpe: Term
    max_burst: Term
    burst_left: Term
    planned: Term
    pkt_descs: Term
    line_left: Term
    idx: Term
    flushed: Term
    overrun: Term

    def replace(self, **changes: Term) -> EnaLlq:
        return replace(self, **changes)


LLQ_VARS = (
    Var("depth_log2", "constant", "log2", "log2(q_depth) (the LLQ SQ depth)."),
    Var("dpe", "constant", "u16", "llq_info.descs_per_entry: 8 (128 B entry) or 16 (256 B)."),
    Var("max_burst", "constant", "u16", "llq_info.max_entries_in_tx_burst (> 0: a burst "
        "limit exists)."),
    Var("burst_left", "driver", "u16", "io_sq->entries_in_tx_burst_left."),
    Var("planned", "ghost", "u16", "Ghost: descriptors of the packet being written (0 "
        "between packets)."),
    Var("pkt_descs", "ghost", "u16", "Ghost: descriptors written so far for this packet."),
    Var("line_left", "driver", "u16", "pkt_ctrl.descs_left_in_line."),
    Var("idx", "driver", "u16", "pkt_ctrl.idx: descriptors in the current bounce buffer."),
    Var("flushed", "ghost", "u16", "Ghost: LLQ entries written to the device for this "
        "packet."),
    Var("overrun", "ghost", "bit", "Ghost: 1 once an entry write found no burst left "
        "(ENA_COM_NO_SPACE -> DRIVER_INVALID_STATE reset)."),
)


def llq_init(k: Term, dpe: Term = 8, max_burst: Term = 16) -> EnaLlq:
    """After creation and a doorbell: a full burst, no packet in progress, the first line
    waits for 2 descriptors."""
    return EnaLlq(depth_log2=k, dpe=dpe, max_burst=max_burst, burst_left=max_burst, planned=0,
                  pkt_descs=0, line_left=BEFORE_HEADER, idx=0, flushed=0, overrun=0)


LLQ = EnaMachine(
    name="ena_llq",
    title="ENA LLQ entries and TX burst",
    state_type=EnaLlq,
    vars=LLQ_VARS,
    init=llq_init,
    doc=llq_init.__doc__ or "",
    driver_fields=("depth_log2", "dpe", "max_burst", "burst_left", "line_left", "idx"),
)


def _flush(s: EnaLlq) -> EnaLlq:
    """Write the bounce buffer as one LLQ entry: spend one burst entry, or fail."""
    empty = Eq(s.burst_left, 0)
    return s.replace(
        burst_left=ite(empty, s.burst_left, sub16(s.burst_left, 1)),
        overrun=ite(empty, 1, s.overrun),
        flushed=add16(s.flushed, 1),
    )


@LLQ.transition(actor="driver", params=(Param("descs", "u16", "descriptors of the packet"),))
def llq_begin_packet(s: EnaLlq, descs: Term) -> Step:
    """ena_xmit_mbuf / ena_netmap_tx_frame before ena_com_prepare_tx: ring the doorbell
    first if ena_com_is_doorbell_needed (the packet's entries exceed the burst left)."""
    guard = And(Eq(s.planned, 0), ule(1, descs), ule(descs, MAX_PKT_DESCS))
    need = ult(s.burst_left, entries_needed(descs, s.dpe))
    return Step(guard, s.replace(planned=descs,
                                 burst_left=ite(need, s.max_burst, s.burst_left)))


@LLQ.transition(actor="driver")
def llq_put_desc(s: EnaLlq) -> Step:
    """One descriptor into the bounce buffer (get_sq_desc_llq), then
    ena_com_sq_update_llq_tail: a full line is written to the device and the next line
    holds descs_per_entry descriptors."""
    written = s.replace(pkt_descs=add16(s.pkt_descs, 1), idx=add16(s.idx, 1),
                        line_left=sub16(s.line_left, 1))
    full = Eq(written.line_left, 0)
    flushed = _flush(written).replace(idx=0, line_left=s.dpe)
    return Step(ult(s.pkt_descs, s.planned), choose(full, flushed, written))


@LLQ.transition(actor="driver")
def llq_close(s: EnaLlq) -> Step:
    """ena_com_close_bounce_buffer at the end of the packet: a partial line is written;
    the next packet's first line again waits for 2 descriptors."""
    partial = Not(Eq(s.idx, 0))
    closed = choose(partial, _flush(s), s)
    done = closed.replace(planned=0, pkt_descs=0, flushed=0, idx=0, line_left=BEFORE_HEADER)
    return Step(And(Not(Eq(s.planned, 0)), Eq(s.pkt_descs, s.planned)), done)


@LLQ.transition(actor="driver")
def llq_doorbell(s: EnaLlq) -> Step:
    """ena_com_write_sq_doorbell between packets: the burst is full again."""
    return Step(Eq(s.planned, 0), s.replace(burst_left=s.max_burst))


@LLQ.invariant(
    "ENA-LLQ-CONFIG",
    "descs_per_entry is 8 or 16, the burst can hold the largest packet, burst_left never "
    "exceeds the burst, and a packet has at most 32 descriptors.",
)
def llq_config(s: EnaLlq) -> Term:
    return And(Or(Eq(s.dpe, 8), Eq(s.dpe, 16)),
               ule(entries_needed(MAX_PKT_DESCS, s.dpe), s.max_burst),
               ule(s.burst_left, s.max_burst), ule(s.planned, MAX_PKT_DESCS),
               ule(s.pkt_descs, s.planned), Eq(s.overrun, s.overrun & 1))


@LLQ.invariant(
    "ENA-LLQ-LINE",
    "While a packet is written, the lines follow its descriptor count d: below 2 the first "
    "line is still open; from then on 1 + (d - 2) / dpe entries are written and (d - 2) mod "
    "dpe descriptors wait in the bounce buffer.",
)
def llq_line(s: EnaLlq) -> Term:
    d = s.pkt_descs
    first = ult(d, BEFORE_HEADER)
    rest = sub16(d, BEFORE_HEADER)
    return ite(
        first,
        And(Eq(s.flushed, 0), Eq(s.idx, d), Eq(s.line_left, sub16(BEFORE_HEADER, d))),
        And(Eq(s.flushed, add16(1, div_dpe(rest, s.dpe))), Eq(s.idx, mod_dpe(rest, s.dpe)),
            Eq(s.line_left, sub16(s.dpe, s.idx))),
    )


@LLQ.invariant(
    "ENA-LLQ-BURST",
    "During a packet the burst left covers the entries the packet still writes (the "
    "doorbell check before the packet reserved them all).",
)
def llq_burst(s: EnaLlq) -> Term:
    return Implies(Not(Eq(s.planned, 0)),
                   ule(sub16(entries_needed(s.planned, s.dpe), s.flushed), s.burst_left))


@LLQ.invariant(
    "ENA-LLQ-NO-OVERRUN",
    "No LLQ entry is ever written with the burst exhausted (no ENA_COM_NO_SPACE reset).",
)
def llq_no_overrun(s: EnaLlq) -> Term:
    return Eq(s.overrun, 0)


@LLQ.contract(
    "ENA-LLQ-ENTRIES",
    "The LLQ entries a packet writes (tx_descs, and what comp_ack returns) are exactly the "
    "entries ena_com_is_doorbell_needed predicted for it.",
    transitions=("llq_close",),
)
def llq_entries(s: EnaLlq, args: dict[str, Term], step: Step) -> Term:
    written = add16(s.flushed, ite(Eq(s.idx, 0), 0, 1))
    return Implies(step.guard, Eq(written, entries_needed(s.planned, s.dpe)))


# ============================================================================ header size


@dataclass(frozen=True)
class EnaTxHeader:
    """The push-header limits: ena_dev's (from the device), io_sq's (ena_com) and
    tx_ring's (the driver's copy, a uint8_t)."""

    depth_log2: Term
    dev_max: Term
    sq_max: Term
    ring_max: Term

    def replace(self, **changes: Term) -> EnaTxHeader:
        return replace(self, **changes)


HDR_VARS = (
    Var("depth_log2", "constant", "log2", "log2(q_depth) (unused; every ENA state has it)."),
    Var("dev_max", "device", "u16", "ena_dev->tx_max_header_size (device-reported in host "
        "placement; entry size - 32 in LLQ)."),
    Var("sq_max", "driver", "u16", "io_sq->tx_max_header_size = min(dev, 256): what "
        "ena_com_prepare_tx accepts."),
    Var("ring_max", "driver", "u16", "tx_ring->tx_max_header_size (uint8_t in struct "
        "ena_ring): what the collapse rule and the LLQ push use."),
)


def header_init(k: Term) -> EnaTxHeader:
    """Before the IO rings are set up: nothing negotiated."""
    return EnaTxHeader(depth_log2=k, dev_max=0, sq_max=0, ring_max=0)


HDR = EnaMachine(
    name="ena_tx_header",
    title="ENA TX header-size limit",
    state_type=EnaTxHeader,
    vars=HDR_VARS,
    init=header_init,
    doc=header_init.__doc__ or "",
    driver_fields=("depth_log2", "sq_max", "ring_max"),
)

_SETUP = (Param("dev_max", "u16", "max header size the device reports"),)


def _sq_max(dev_max: Term) -> Term:
    """ena_com_create_io_queue: ``min(ena_dev->tx_max_header_size, 256)`` ("header length is
    limited to 8 bits")."""
    return ite(ule(dev_max, 256), dev_max, 256)


@HDR.transition(actor="driver", params=_SETUP, breaks=("ENA-TX-HDR-LIMIT",))
def header_setup_as_shipped(s: EnaTxHeader, dev_max: Term) -> Step:
    """ena_init_io_rings_basic copies ena_dev->tx_max_header_size into the uint8_t
    tx_ring->tx_max_header_size (a device value >= 256 wraps: 256 -> 0, 300 -> 44), and
    ena_com_create_io_queue sets io_sq's limit to min(dev, 256)."""
    return Step(True, s.replace(dev_max=dev_max, sq_max=_sq_max(dev_max),
                                ring_max=dev_max & 0xFF))


@HDR.transition(actor="driver", params=_SETUP)
def header_setup_hardened(s: EnaTxHeader, dev_max: Term) -> Step:
    """The driver keeps the same limit as ena_com: min(dev, 256) in a u16."""
    return Step(True, s.replace(dev_max=dev_max, sq_max=_sq_max(dev_max),
                                ring_max=_sq_max(dev_max)))


@HDR.invariant(
    "ENA-TX-HDR-LIMIT",
    "The driver's header limit (collapse rule, LLQ push) is the one ena_com_prepare_tx "
    "enforces: tx_ring->tx_max_header_size == io_sq->tx_max_header_size.",
)
def hdr_limit(s: EnaTxHeader) -> Term:
    return Eq(s.ring_max, s.sq_max)
