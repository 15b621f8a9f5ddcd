"""The adapter's buffers read as states of :mod:`model.ena_reset_buffers`, one per queue
pair, and the check that every ena_destroy_device and ena_restore_device of the
implementation moves them as the model's transitions compute.

Read from the implementation (:func:`counts`): per queue pair the mbufs in the drbr, the
TX ids in flight with a stack packet, the RX ids posted; the flags DEVICE_RUNNING, DEV_UP
and DEV_UP_BEFORE_RESET.  The pool is what the queue pair does not hold (``TOTAL_MAX``
minus its rings); the TX side of it is the adapter's packet ledger, which
:class:`support.ena_mgmt_lockstep.LockstepMachine` balances after every rule.  The
management tests run without netmap: every kring slot holds its buffer, nothing of
netmap's is with the device.

:func:`check_destroy`: the states before, stepped through ``destroy_begin``, ena_down's
frees (``down_free_as_shipped`` or ``down_free_hardened``, by the adapter's policy, if the
interface was up) and ``destroy_end``, must equal the adapter read after.
:func:`check_restore`: the states before (the task destroyed, the ring sizes the restore
ended with: ena_up's ENOMEM back-off is not the ledger's concern) stepped through
``restore_device`` -- ``ok`` and ``up_ok`` as the restore came out, ``fill`` the
``ring_size - 1`` buffers ena_refill_all_rx_bufs asks for (the simulated pool never runs
dry) -- must equal the adapter read after.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from impl.ena.adapter import EnaAdapter
from impl.ena.driver import Policy
from model import ena_reset_buffers as B  # noqa: N812 -- the model's machine, as in the docs

T = B.BUFFERS.transitions


class LedgerMismatchError(AssertionError):
    """The implementation's buffers are not where the model's transition puts them."""


@dataclass(frozen=True)
class Counts:
    """What one queue pair holds, and the adapter's flags, at one moment."""

    queued: int
    tx_mbuf: int
    rx_mbuf: int
    running: int
    up: int
    up_before: int


def counts(a: EnaAdapter, q: int) -> Counts:
    """Queue pair ``q`` of the adapter as it is now (nothing on the rings without a
    datapath)."""
    drv = a.driver
    f = a.flags
    flags = (int(f.device_running), int(f.dev_up), int(f.dev_up_before_reset))
    if drv is None or q >= drv.cfg.num_queues:
        return Counts(0, 0, 0, *flags)
    tx = drv.tx
    return Counts(int(tx.drbr.count[q]), int((tx.inflight[q] & (tx.pkt_id[q] >= 0)).sum()),
                  int(drv.rx.posted[q].sum()), *flags)


def state(c: Counts, tx_size: int, rx_size: int, task: int) -> B.Buffers:
    """The model's state of one queue pair."""
    total = B.TOTAL_MAX
    return B.Buffers(
        tx_size=tx_size, rx_size=rx_size, total=total,
        pool=total - c.queued - c.tx_mbuf - c.rx_mbuf, queued=c.queued, tx_mbuf=c.tx_mbuf,
        rx_mbuf=c.rx_mbuf, nm=0, nm_tx=0, nm_tx_slots=tx_size, nm_rx=0, nm_rx_slots=rx_size,
        running=c.running, up=c.up, freeing=0, task=task, up_before=c.up_before, reg=0)


def snapshot(a: EnaAdapter) -> list[Counts]:
    """Every queue pair of the adapter, now."""
    return [counts(a, q) for q in range(a.num_io_queues)]


def _step(name: str, s: B.Buffers, **args: int) -> B.Buffers:
    step = T[name].fn(s, **args)
    if step.guard is not True:
        raise LedgerMismatchError(f"{name}{args} is not enabled in {s}")
    return step.post


def _compare(what: str, q: int, want: B.Buffers, got: B.Buffers) -> None:
    if got != want:
        diff = {f.name: (getattr(got, f.name), getattr(want, f.name)) for f in fields(want)
                if getattr(got, f.name) != getattr(want, f.name)}
        raise LedgerMismatchError(f"{what}, queue pair {q}: (implementation, model) {diff}")


def check_destroy(a: EnaAdapter, before: list[Counts]) -> None:
    """After ena_destroy_device on a running adapter whose queue pairs were ``before``."""
    free = ("down_free_hardened" if a.cfg.policy is Policy.HARDENED
            else "down_free_as_shipped")
    for q, c in enumerate(before):
        m = _step("destroy_begin", state(c, a.tx_ring_size, a.rx_ring_size, B.IDLE))
        if m.freeing:
            m = _step(free, m)
        m = _step("destroy_end", m)
        got = state(counts(a, q), a.tx_ring_size, a.rx_ring_size, B.RESTORING)
        _compare("ena_destroy_device", q, m, got)


def check_restore(a: EnaAdapter, before: list[Counts], rc: int) -> None:
    """After ena_restore_device returned ``rc``, the queue pairs ``before`` it."""
    ok = int(rc == 0)
    for q in range(a.num_io_queues):
        c = before[q] if q < len(before) else Counts(0, 0, 0, *_flags(before))
        pre = state(c, a.tx_ring_size, a.rx_ring_size, B.RESTORING)
        m = _step("restore_device", pre, ok=ok, up_ok=ok, fill=a.rx_ring_size - 1)
        got = state(counts(a, q), a.tx_ring_size, a.rx_ring_size, B.IDLE)
        _compare("ena_restore_device", q, m, got)


def _flags(before: list[Counts]) -> tuple[int, int, int]:
    c = before[0]
    return c.running, c.up, c.up_before
