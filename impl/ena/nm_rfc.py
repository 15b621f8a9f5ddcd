"""The 2015 RFC's way into and out of netmap mode, on ENA: the interface stays up.

The protocol is :mod:`model.netmap_switch` (RX) and :mod:`model.netmap_switch_tx` (TX);
this is it on ENA's IO queues, beside the classic ``ena_netmap_reg``
(:mod:`impl.ena.adapter_netmap`), which takes the interface down and up.

**Entering** (:func:`enter`): no ``ena_down``; the netmap memory is created and bound to the
running queues, then

* TX: every packet the stack still has with the device (an id holding an mbuf) keeps its
  descriptors; the slot it will hand to the user when it completes has its netmap buffer
  parked under the id (``nm_info`` with one socket), so the user starts with ``N - 1 - k``
  free slots and ena_netmap_tx_cleanup gives one slot back per stack packet completed,
  freeing the mbuf (:func:`impl.ena.nm_tx.tx_cleanup`);
* RX: every id posted with the stack's buffer stays posted; the netmap buffer of the slot
  ena_netmap_alloc_rx_slot would have given it is parked under the id
  (``netmap_buf_idx``) while the device still writes into the mbuf.  rx_frames copies
  such a packet into the parked buffer (``nm_rx._copy_out_of_mbufs``) and the refill
  posts netmap buffers from then on: after one pass round the ring no copy is left;
* the stack's software queue (drbr) stays queued and its transmit is held
  (``EnaDriver.xmit_held``: in netmap mode ``if_transmit`` is netmap's).

**Leaving** (:func:`leave`, then :func:`drain` from the interrupt path): the slots'
buffers and the buffers parked under mbufs go back to the allocator at once; the device
still holds netmap buffers (TX packets in flight, RX ids posted).  While leaving, an IO
interrupt runs ENA's mbuf RX cleanup -- a packet that landed in a netmap buffer is read
out of it into the stack (the copy) and the buffer freed, the refill posts mbufs -- and
ena_netmap_tx_cleanup for TX, each completion's netmap buffers freed.  Once no netmap TX
packet is in flight (:func:`tx_drained`), ``free_tx_ids`` is initialised as
``ena_setup_tx_resources`` does (the queue is empty) and the stack's transmit resumes
(:func:`restart_tx`); once no RX id holds a netmap buffer (:func:`rx_drained`) the memory
can go.  What is left on RX comes back one of two ways (the RFC's open question;
``AdapterNetmap(..., rx_exit=...)``):

* ``"wait"``: for traffic to land in those buffers.  On an idle link it never ends.
* ``"reset"`` (:func:`reset_rx_ring`, right after the close's first :func:`drain`): each RX
  queue whose ids still hold netmap buffers is destroyed and created again through the admin
  queue -- DESTROY_SQ then DESTROY_CQ (``ena_com_destroy_io_queue``), the rings zeroed,
  CREATE_CQ then CREATE_SQ (``ena_com_create_io_queue``), the driver's RX state set up as
  ``ena_setup_rx_resources`` and ``ena_com_create_io_queue`` leave it, and ``ring_size - 1``
  mbufs posted as ``ena_refill_all_rx_bufs`` does.  Once DESTROY_SQ has completed the device
  has forgotten the queue and every buffer posted on it; once DESTROY_CQ has too, nothing
  writes the completion ring any more, so the completions the device wrote before are read
  from it (the mbuf RX cleanup, as many calls as a whole ring needs, without its refill:
  packets copied up the stack, nothing posted on the dead queue) and every netmap buffer of
  the queue goes back to the allocator at once.  Four admin commands per queue (a fifth, the
  RSS table, if the queue came back under another device index), one queue after the other,
  all inside the close: the RX side is done when ``reg(False)`` returns, whatever the
  traffic, in at most one admin completion timeout per command.  The link never goes down
  (no ``ena_down``, no device reset) and the TX queue of the pair is not touched. The
  driver's state of the fresh queue is set only once CREATE_SQ has completed: the timer
  service runs while the driver waits for an admin command, and its empty-RX-ring check must
  not find the queue empty before the device has it.

  Only the RX SQ/CQ pair is reset.  On ENA a queue pair (``struct ena_que``) is two ena_com
  IO queues, TX (qid ``2q``) and RX (qid ``2q + 1``), each an SQ with its own CQ, created
  and destroyed separately; they share only the MSI-X vector, which ``ena_cleanup`` unmasks
  through the TX CQ.  So the RX reset needs no TX drain first, and TX netmap packets in
  flight are neither lost nor waited for by it: they complete on the TX CQ, :func:`drain`
  frees their buffers, and the registration ends after the last one (the stack's transmit
  stays held until then, as with ``"wait"``).  TX needs no reset: its netmap buffers come
  back with the device's completions, not with traffic; a device that never completes them
  is the missing-completion watchdog's case (a device reset, :func:`abandon`).

  While an RX queue is gone, frames the RSS table steers to it find no queue: the device
  drops them and counts them (``rx_no_queue``, part of the ``rx_drops`` that
  ENA_ADMIN_GET_STATS reports) -- dropped for a documented reason, not lost.  In the
  simulation the device receives only when :meth:`impl.device.EnaDevice.rx` runs, so a
  frame is dropped this way only if that happens between DESTROY_SQ and CREATE_SQ (and
  one arriving between CREATE_SQ and the refill would find no buffer: ``rx_no_buffer``,
  counted as well).
  The simulated device gives a created queue the lowest free index, so the queue comes
  back under its old one; a device that gives another gets the RSS indirection table set
  again with it (``AdapterNetmap._reset_rx``).

  A command that fails (an error status, or no completion within the admin timeout: the
  admin queue stops; a completion whose interrupt is lost is still taken by the next
  admin interrupt, e.g. a keep-alive's, and only slows the exit down) ends the reset at
  once with ``ena_trigger_reset`` -- ADMIN_TO or MISSING_ADMIN_INTERRUPT if
  the admin queue stopped, as ``check_for_admin_com_state`` would find at the next timer
  tick, else DRIVER_INVALID_STATE (what ``ena_netmap_reg`` records when ``ena_up``
  fails) -- which stops the datapath; the reset task's ``ena_down`` then frees every
  netmap buffer still recorded (:func:`abandon`).  Buffers are given back as soon as the
  SQ is known destroyed, so none is freed twice and none leaks on either path.  This is
  ringspec's design: ENA destroys and creates IO queues only all at once, in
  ``ena_down`` / ``ena_up``.

A bad ``buf_idx`` the user left in a slot is skipped when the buffers go back (netmap's
``netmap_free_buf`` logs and skips it too); the memory is released whole at the end.

Upstream: ``ena_down`` (where the driver destroys IO queues, every one, through
``ena_destroy_all_io_queues`` and ``ena_com_destroy_io_queue``), ``ena_com_create_io_queue``,
``ena_setup_rx_resources``, ``ena_up`` (``ena_refill_all_rx_bufs`` of ``ring_size - 1``
buffers per queue through ``ena_refill_rx_bufs``), ``check_for_admin_com_state``,
``ena_trigger_reset``, the RX queue's ena_com qid (``ENA_IO_RXQ_IDX``; TX is the one
before) and ``ena_cleanup`` (which unmasks through the TX CQ):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2612
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2259
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2198
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L873
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2254
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1112
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3183
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L655
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L159
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L70
"""

from __future__ import annotations

import errno

import numpy as np

from impl.ena import nm_tx
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.rxq import RxResult
from impl.ena_defs.constants import CLEAN_BUDGET, RX_DESC_BUDGET
from impl.ena_defs.layouts import IntrReg
from impl.netmap.prologue import nm_sync_finalize
from impl.netmap.reinit import netmap_reset


def refusal(nm_buf_size: int, rx_buf_size: int) -> int:
    """EINVAL when the stack's RX buffers can hold more than a netmap buffer (the copy of
    a packet received into one could not be made); 0 otherwise."""
    return errno.EINVAL if rx_buf_size > nm_buf_size else 0


def _rank(q: np.ndarray, nq: int) -> np.ndarray:
    """Each element's position among those of its queue (``q`` ascending)."""
    cnt = np.bincount(q, minlength=nq)
    return np.arange(q.size, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)


def enter(nm: EnaNetmapRings) -> None:
    """Every ring into netmap mode around the packets and buffers the stack has with the
    device (the module docstring); ``nm`` is bound to the running queues."""
    drv = nm.drv
    n, nq = nm.num_slots, nm.tx.count
    qs = np.arange(nq)
    nm.frees_stack_mbufs = True
    netmap_reset(nm.tx, qs)
    netmap_reset(nm.rx, qs)
    kt = nm.tx
    q, rid = np.nonzero(drv.tx.pkt_id >= 0)
    kt.hwtail[:] = (kt.hwtail - np.bincount(q, minlength=nq)) % n
    slot = (kt.hwtail[q] + 1 + _rank(q, nq)) % n
    nm.tx_socket_buf[q, rid, 0] = kt.slot_buf_idx[q, slot]
    nm.tx_sockets[q, rid] = 1
    kt.slot_buf_idx[q, slot] = 0
    nm_sync_finalize(kt, qs)
    kr = nm.rx
    q, rid = np.nonzero(drv.rx.posted)
    slot = (kr.hwcur[q] + _rank(q, nq)) % n
    nm.rx_buf[q, rid] = kr.slot_buf_idx[q, slot]
    kr.slot_buf_idx[q, slot] = 0
    kr.hwcur[:] = (kr.hwcur + np.bincount(q, minlength=nq)) % n
    nm.rx_initialized[:] = True
    drv.xmit_held = True


def give_back(nm: EnaNetmapRings, idx: np.ndarray) -> int:
    """Return buffers to the allocator, skipping what is not a real, allocated buffer
    (or is given twice); returns how many were skipped."""
    idx = np.unique(np.asarray(idx, dtype=np.int64).ravel())
    pool = nm.mem.pool
    real = (idx >= 2) & (idx < pool.nbufs)
    real[real] = ~pool.is_free[idx[real]]
    pool.free(idx[real])
    return int((~real).sum())


def leave(nm: EnaNetmapRings) -> None:
    """The last close: the slots' buffers (the user's, the kernel's free ones) and the
    buffers parked under mbufs go back now; those with the device come back in
    :func:`drain`."""
    slots = nm.mem.slot_buf_idx
    give_back(nm, slots[slots != 0])
    slots[:] = 0
    _sweep_rx(nm)


def _sweep_rx(nm: EnaNetmapRings) -> np.ndarray:
    """Free each RX id's netmap buffer once the device no longer has it (delivered, or
    the id posted with its mbuf); returns how many per queue."""
    rx = nm.drv.rx
    buf = nm.rx_buf
    gone = (buf != 0) & (~rx.posted | (rx.dma_addr != nm.buf_addr(buf)))
    give_back(nm, buf[gone])
    buf[gone] = 0
    return gone.sum(axis=1)


def drain(nm: EnaNetmapRings, qs: np.ndarray) -> list[RxResult]:
    """One IO interrupt on ``qs`` while leaving: ENA's mbuf RX cleanup (up to
    ``ENA_CLEAN_BUDGET`` rounds; a packet in a netmap buffer is copied into the stack) and
    the TX cleanup -- ena_netmap_tx_cleanup while netmap packets are in flight, ENA's own
    once the TX side has drained (:func:`restart_tx`) -- the freed netmap buffers back to
    the allocator, the vectors unmasked.  Returns what the stack received."""
    drv = nm.drv
    qs = np.unique(np.asarray(qs, dtype=np.int64))
    if not drv.datapath_up or qs.size == 0:
        return []
    if not drv.xmit_held:
        out = drv.cleanup(qs).rx
        nm.copies += _sweep_rx(nm)
        return out
    out = _mbuf_rx(nm, qs)
    if drv.reset.triggered:
        return out
    clean = nm_tx.tx_cleanup(nm, qs, drv.cfg.cdesc_mbz)
    drv.reset.trigger_first(clean.reasons)
    kt = nm.tx.slot_buf_idx
    give_back(nm, kt[kt != 0])
    kt[:] = 0
    val = IntrReg.INTR_UNMASK.put(1).item()
    drv.bus.regs.write32_batch(drv.unmask_off[qs], np.full(qs.size, val))
    return out


def _mbuf_rx(nm: EnaNetmapRings, qs: np.ndarray, rounds: int = CLEAN_BUDGET,
             refill: bool = True) -> list[RxResult]:
    """ENA's mbuf RX cleanup on ``qs``, up to ``rounds`` calls (``ENA_CLEAN_BUDGET`` in
    an interrupt; a reset reason stops it; ``refill=False`` on a destroyed queue), then
    the netmap buffers no id holds any more back to the allocator, each one a packet was
    read out of counted as a copy."""
    drv = nm.drv
    out = []
    live = qs
    for _ in range(rounds):
        rx = drv.rx.cleanup(live, drv.cfg.cdesc_mbz, refill)
        out.append(rx)
        drv.reset.trigger_first(rx.reasons)
        live = live[rx.again]
        if drv.reset.triggered or live.size == 0:
            break
    nm.copies += _sweep_rx(nm)
    return out


def rx_holding(nm: EnaNetmapRings) -> np.ndarray:
    """The RX queues with an id posted with a netmap buffer: those the reset exit
    destroys and creates again."""
    return np.flatnonzero((nm.rx_buf != 0).any(axis=1))


def reset_rx_ring(nm: EnaNetmapRings, q: int) -> tuple[int, list[RxResult]]:
    """The reset exit on RX queue ``q`` (the module docstring): DESTROY_SQ and
    DESTROY_CQ; once the SQ is gone, the completions the device wrote before are read
    (the mbuf RX cleanup, packets copied up the stack) and every netmap buffer posted on
    the queue goes back to the allocator; then the queue set up and created again and
    ``ring_size - 1`` mbufs posted (``ena_refill_all_rx_bufs``).  Returns 0 or the errno
    of the admin command that failed (the caller triggers the reset), and what the
    stack received."""
    drv = nm.drv
    qs = np.array([q], dtype=np.int64)
    rc = drv.destroy_rx_queue(q)
    got: list[RxResult] = []
    if drv.sq_idx[q, 1] < 0:  # the device confirmed: it holds no buffer of the queue
        if drv.datapath_up:  # enough calls for a whole ring of completions; no refill
            got = _mbuf_rx(nm, qs, drv.cfg.rx_ring_size // RX_DESC_BUDGET + 1, False)
        give_back(nm, nm.rx_buf[q][nm.rx_buf[q] != 0])
        nm.rx_buf[q] = 0
    if rc or drv.reset.triggered:
        return rc, got
    rc = drv.create_rx_queue(q)
    if rc:
        return rc, got
    drv.rx.refill(qs, np.array([drv.cfg.rx_ring_size - 1]))
    nm.ring_resets[q] += 1
    return 0, got


def tx_drained(nm: EnaNetmapRings) -> bool:
    """No netmap packet and no packet from before the switch is left with the device."""
    return bool((nm.tx_sockets == 0).all() and (nm.drv.tx.pkt_id < 0).all())


def rx_drained(nm: EnaNetmapRings) -> bool:
    """No RX id is posted with a netmap buffer."""
    return bool((nm.rx_buf == 0).all())


def abandon(nm: EnaNetmapRings) -> None:
    """``ena_down`` while leaving: the queues are destroyed, so every netmap buffer the
    device held is free again."""
    k = np.arange(nm.tx_socket_buf.shape[2])[None, None, :]
    give_back(nm, nm.tx_socket_buf[k < nm.tx_sockets[:, :, None]])
    give_back(nm, nm.rx_buf[nm.rx_buf != 0])
    nm.tx_sockets[:] = 0
    nm.tx_socket_buf[:] = 0
    nm.rx_buf[:] = 0


def restart_tx(nm: EnaNetmapRings) -> None:
    """Once :func:`tx_drained`: ``free_tx_ids`` as ``ena_setup_tx_resources`` sets it
    (every id is free: the queue is empty), the stack's transmit released and run once.
    The RX side may still be waiting: on a looped-back or request-response link it is
    the stack's own traffic that brings the netmap buffers back."""
    drv = nm.drv
    tx = drv.tx
    tx.free_ids[:] = np.arange(tx.cfg.depth)
    tx.next_to_use[:] = 0
    tx.next_to_clean[:] = 0
    drv.xmit_held = False
    drv.start_xmit()
