"""Deliberately broken ENA netmap steps (:mod:`model.ena_netmap`,
:mod:`model.ena_netmap_txq`): one per invariant and
contract, each refuted by ``ringspec prove`` (a real state: the machines have a fixed ring
of 4 slots, so every query is exact).
"""

from __future__ import annotations

from model.core import And, Eq, Step, Term
from model.ena_bits import ite, ult
from model.ena_machine import choose
from model.ena_netmap import (
    DEPTH,
    DRIVER_INVALID_STATE,
    NETMAP_REG,
    NETMAP_RX,
    NETMAP_TX,
    NORMAL,
    NetmapReg,
    NetmapRx,
    NetmapTx,
    at,
    dist,
    netmap_reg,
    nxt,
    put,
    release,
    rx_frame,
    rx_refill,
    tx_clean,
    tx_frame,
)
from model.ena_netmap_txq import NETMAP_TXQ, NetmapTxq, stack_transmit

# ---------------------------------------------------------------------------- TX


@NETMAP_TX.mutant("nm-tx-frame-takes-next-to-clean", "ENA-NM-TX-IDS",
                  replaces="tx_frame_hardened")
def tx_frame_takes_next_to_clean(s: NetmapTx) -> Step:
    """The frame takes ``free_tx_ids[next_to_clean]`` instead of ``[next_to_use]``."""
    step = tx_frame(s, stamps=True)
    req_id = at(s.ids, s.next_to_clean)
    return Step(step.guard, step.post.replace(
        in_flight=put(s.in_flight, req_id, 1), stamp=put(s.stamp, req_id, 1)))


@NETMAP_TX.mutant("nm-tx-clean-keeps-timestamp", "ENA-NM-TX-WATCHED",
                  replaces="tx_clean_hardened")
def tx_clean_keeps_timestamp(s: NetmapTx, req_id: Term) -> Step:
    """The clean leaves ``tx_info->timestamp`` set: the watchdog counts a returned id."""
    step = tx_clean(s, req_id, hardened=True)
    return Step(step.guard, step.post.replace(stamp=s.stamp))


@NETMAP_TX.mutant("nm-tx-frame-past-rhead", "ENA-NM-TX-RING", replaces="tx_frame_hardened")
def tx_frame_past_rhead(s: NetmapTx) -> Step:
    """ena_netmap_tx_frames loops on ``nm_i != hwtail`` instead of ``!= rhead``: it sends
    slots the user has not published."""
    return Step(ult(s.used, DEPTH), tx_frame(s, stamps=True).post)


@NETMAP_TX.mutant("nm-tx-clean-reclaims-two", "ENA-NM-TX-REFINES",
                  replaces="tx_clean_hardened")
def tx_clean_reclaims_two(s: NetmapTx, req_id: Term) -> Step:
    """nr_hwtail advances two slots for one returned buffer."""
    step = tx_clean(s, req_id, hardened=True)
    return Step(step.guard, step.post.replace(hwtail=nxt(step.post.hwtail)))


# ---------------------------------------------------------------------------- RX


@NETMAP_RX.mutant("nm-rx-frame-keeps-next-to-clean", "ENA-NM-RX-IDS",
                  replaces="rx_frame_hardened")
def rx_frame_keeps_next_to_clean(s: NetmapRx, req_id: Term) -> Step:
    """ena_netmap_rx_frames never stores the advanced next_to_clean."""
    step = rx_frame(s, req_id, hardened=True)
    return Step(step.guard, step.post.replace(next_to_clean=s.next_to_clean))


@NETMAP_RX.mutant("nm-rx-refill-to-rhead", "ENA-NM-RX-RING", replaces="rx_refill_hardened")
def rx_refill_to_rhead(s: NetmapRx) -> Step:
    """The refill posts every slot up to rhead (no slot kept back, whatever the count)."""
    step = rx_refill(s, hardened=True)
    return Step(And(ult(0, dist(s.hwcur, s.rhead)), ult(s.used, DEPTH)), step.post)


@NETMAP_RX.mutant("nm-rx-frame-hwtail-stays", "ENA-NM-RX-REFINES",
                  replaces="rx_frame_hardened")
def rx_frame_hwtail_stays(s: NetmapRx, req_id: Term) -> Step:
    """The descriptor is taken but nr_hwtail does not move: a buffer vanishes."""
    guard = And(ult(req_id, DEPTH), ult(0, s.used), Eq(at(s.in_flight, req_id), 1))
    return Step(guard, release(s, req_id, nxt(s.next_to_clean)))


# ---------------------------------------------------------------------------- mode switch


@NETMAP_REG.mutant("nm-reg-failure-keeps-reason", "ENA-NM-RESET-PENDING",
                   replaces="netmap_reg_hardened")
def reg_failure_keeps_reason(s: NetmapReg, onoff: Term, up_ok: Term) -> Step:
    """The ena_up failure path sets DRIVER_INVALID_STATE after ena_destroy_device."""
    step = netmap_reg(s, onoff, up_ok, clears=False)
    reason = ite(Eq(up_ok, 0), DRIVER_INVALID_STATE, step.post.reason)
    return Step(step.guard, step.post.replace(reason=reason))


@NETMAP_REG.mutant("nm-reg-forgets-request", "ENA-NM-RESET-KEPT",
                   replaces="netmap_reg_hardened")
def reg_forgets_request(s: NetmapReg, onoff: Term, up_ok: Term) -> Step:
    """The switch clears the flag *and* the reason, without a device reset: consistent,
    and the reset is lost."""
    return netmap_reg(s.replace(trigger=0, reason=NORMAL, queued=0), onoff, up_ok,
                      clears=False)


@NETMAP_TXQ.mutant("nm-txq-unhashed-on-curcpu", "ENA-NM-TXQ-APART",
                   replaces="stack_transmit_hardened")
def txq_unhashed_on_curcpu(s: NetmapTxq, txq: Term, hashed: Term, cpuq: Term, rss: Term,
                           rssq: Term) -> Step:
    """The hardened choice for hashed packets only: a packet without a hash type still
    goes to ``curcpu``'s queue."""
    step = stack_transmit(s, txq, 1, cpuq, 0, rssq, hardened=True)
    unhashed = stack_transmit(s, txq, hashed, cpuq, 0, rssq, hardened=False)
    return Step(step.guard, choose(Eq(hashed, 1), step.post, unhashed.post))


@NETMAP_TXQ.mutant("nm-txq-reg-unmasked", "ENA-NM-TXQ-SHAPE", replaces="register")
def txq_reg_unmasked(s: NetmapTxq, onoff: Term, rings: Term) -> Step:
    """ena_netmap_reg switching the bits it is given, queues that do not exist included."""
    return Step(True, s.replace(on=ite(Eq(onoff, 1), s.on | rings, s.on & ~rings)))
