"""The adapter's buffers read as states of :mod:`model.ena_reset_buffers`, one per queue
pair, and the check that every ena_destroy_device and ena_restore_device of the
implementation moves them as the model's transitions compute.

Read from the implementation (:func:`counts`): per queue pair the mbufs in the drbr, the
TX ids in flight with a stack packet, the RX ids posted; with netmap registered, whether
the pair's krings are in native mode, the netmap TX buffers in flight (``tx_sockets``),
the posted netmap RX buffers (``rx_buf``), the kring slots that hold a buffer and the
RX slots the user holds (``[rhead, nr_hwtail)``); the flags DEVICE_RUNNING, DEV_UP and
DEV_UP_BEFORE_RESET.  The pool is what the queue pair does not hold (``TOTAL_MAX`` minus
its rings); the TX side of it is the adapter's packet ledger, which the stateful machines
balance after every rule.  Without netmap registered every kring slot counts as holding
its buffer and nothing of netmap's is with the device.

:func:`check_destroy`: the states before, stepped through ``destroy_begin``, ena_down's
frees (``down_free_as_shipped`` or ``down_free_hardened``, by the adapter's policy, if the
interface was up) and ``destroy_end``, must equal the adapter read after.
:func:`check_restore`: the states before (the task destroyed, the ring sizes the restore
ended with: ena_up's ENOMEM back-off is not the ledger's concern) stepped through
``restore_device_as_shipped`` or ``restore_device_hardened``, by the adapter's policy --
``ok`` and ``up_ok`` as the restore came out, ``fill`` the buffers
ena_refill_all_rx_bufs asks for: ``ring_size - 1``, and hardened in netmap mode
``ring_size - 1`` minus the RX slots the user holds (:func:`impl.ena.nm_rx.initial_fill`;
the simulated pool never runs dry) -- must equal the adapter read after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from impl.ena.adapter import EnaAdapter
from impl.ena.driver import Policy
from model import ena_reset_buffers as B  # noqa: N812 -- the model's machine, as in the docs

T = B.BUFFERS.transitions


class LedgerMismatchError(AssertionError):
    """The implementation's buffers are not where the model's transition puts them."""


@dataclass(frozen=True)
class Counts:
    """What one queue pair holds, and the adapter's flags, at one moment; the netmap
    slot counts are None without netmap registered (every slot then holds its buffer)."""

    queued: int
    tx_mbuf: int
    rx_mbuf: int
    running: int
    up: int
    up_before: int
    nm: int = 0
    nm_tx: int = 0
    nm_rx: int = 0
    nm_tx_slots: int | None = None
    nm_rx_slots: int | None = None
    nm_rx_user: int = 0


def counts(a: EnaAdapter, q: int) -> Counts:
    """Queue pair ``q`` of the adapter as it is now (nothing on the rings without a
    datapath)."""
    drv = a.driver
    f = a.flags
    flags = (int(f.device_running), int(f.dev_up), int(f.dev_up_before_reset))
    nm, rings = a.netmap, a.netmap.rings if a.netmap is not None else None
    if rings is not None and q >= rings.tx.count:
        rings = None
    mbufs = (0, 0, 0)
    if drv is not None and q < drv.cfg.num_queues:
        tx = drv.tx
        posted = drv.rx.posted[q]  # a posted id with a netmap buffer has no mbuf
        if rings is not None:
            posted = posted & (rings.rx_buf[q] == 0)
        mbufs = (int(tx.drbr.count[q]), int((tx.inflight[q] & (tx.pkt_id[q] >= 0)).sum()),
                 int(posted.sum()))
    if nm is None or rings is None:
        return Counts(*mbufs, *flags)
    on = int(nm.native and q < nm.on.size and bool(nm.on[q]))
    kr = rings.rx
    user = (int(kr.hwtail[q]) - int(kr.rhead[q])) % rings.num_slots if on else 0
    return Counts(*mbufs, *flags, nm=on, nm_tx=int(rings.tx_sockets[q].sum()),
                  nm_rx=int((rings.rx_buf[q] != 0).sum()),
                  nm_tx_slots=int((rings.tx.slot_buf_idx[q] != 0).sum()),
                  nm_rx_slots=int((kr.slot_buf_idx[q] != 0).sum()), nm_rx_user=user)


def state(c: Counts, tx_size: int, rx_size: int, task: int) -> B.Buffers:
    """The model's state of one queue pair."""
    total = B.TOTAL_MAX
    return B.Buffers(
        tx_size=tx_size, rx_size=rx_size, total=total,
        pool=total - c.queued - c.tx_mbuf - c.rx_mbuf, queued=c.queued, tx_mbuf=c.tx_mbuf,
        rx_mbuf=c.rx_mbuf, nm=c.nm, nm_tx=c.nm_tx,
        nm_tx_slots=tx_size if c.nm_tx_slots is None else c.nm_tx_slots, nm_rx=c.nm_rx,
        nm_rx_slots=rx_size if c.nm_rx_slots is None else c.nm_rx_slots,
        nm_rx_user=c.nm_rx_user,
        running=c.running, up=c.up, freeing=0, task=task, up_before=c.up_before, reg=0)


def snapshot(a: EnaAdapter) -> list[Counts]:
    """Every queue pair of the adapter, now."""
    return [counts(a, q) for q in range(a.num_io_queues)]


def _hardened(a: EnaAdapter) -> bool:
    return a.cfg.policy is Policy.HARDENED


def _step(name: str, s: B.Buffers, **args: int) -> B.Buffers:
    step = T[name].fn(s, **args)
    if step.guard is not True:
        raise LedgerMismatchError(f"{name}{args} is not enabled in {s}")
    return step.post


def _newly_broken(pre: B.Buffers, post: B.Buffers) -> set[str]:
    """The model's invariants ``post`` breaks that ``pre`` kept."""
    return set(B.BUFFERS.violated(post)) - set(B.BUFFERS.violated(pre))


def _compare(what: str, q: int, want: B.Buffers, got: B.Buffers) -> None:
    if got != want:
        diff = {f.name: (getattr(got, f.name), getattr(want, f.name)) for f in fields(want)
                if getattr(got, f.name) != getattr(want, f.name)}
        raise LedgerMismatchError(f"{what}, queue pair {q}: (implementation, model) {diff}")


def check_destroy(a: EnaAdapter, before: list[Counts]) -> set[str]:
    """After ena_destroy_device on a running adapter whose queue pairs were ``before``;
    returns the model's invariants the destroy broke (as shipped, ENA-BUF-NETMAP when
    netmap TX buffers were in flight; ones broken before are not counted again)."""
    free = "down_free_hardened" if _hardened(a) else "down_free_as_shipped"
    broken: set[str] = set()
    for q, c in enumerate(before):
        pre = state(c, a.tx_ring_size, a.rx_ring_size, B.IDLE)
        m = _step("destroy_begin", pre)
        if m.freeing:
            m = _step(free, m)
        m = _step("destroy_end", m)
        got = state(counts(a, q), a.tx_ring_size, a.rx_ring_size, B.RESTORING)
        _compare("ena_destroy_device", q, m, got)
        broken.update(_newly_broken(pre, m))
    return broken


def check_restore(a: EnaAdapter, before: list[Counts], rc: int) -> set[str]:
    """After ena_restore_device returned ``rc``, the queue pairs ``before`` it; returns the
    model's invariants the restore broke (as shipped, ENA-BUF-NM-USER when the user held
    RX slots; hardened, none)."""
    ok = int(rc == 0)
    hardened = _hardened(a)
    restore = "restore_device_hardened" if hardened else "restore_device_as_shipped"
    broken: set[str] = set()
    for q in range(a.num_io_queues):
        c = before[q] if q < len(before) else Counts(0, 0, 0, *_flags(before))
        pre = state(c, a.tx_ring_size, a.rx_ring_size, B.RESTORING)
        fill = a.rx_ring_size - 1 - (c.nm_rx_user if hardened else 0)
        m = _step(restore, pre, ok=ok, up_ok=ok, fill=fill)
        got = state(counts(a, q), a.tx_ring_size, a.rx_ring_size, B.IDLE)
        _compare("ena_restore_device", q, m, got)
        broken.update(_newly_broken(pre, m))
    return broken


def _flags(before: list[Counts]) -> tuple[int, int, int]:
    c = before[0]
    return c.running, c.up, c.up_before


def watch(a: EnaAdapter, checked: Callable[[str], None] | None = None) -> None:
    """Check every ena_destroy_device (of a running adapter) and ena_restore_device that
    ``a`` runs from now on -- the reset task, ena_netmap_reg's failure path -- by wrapping
    the two methods of this one adapter; ``checked`` hears of each check."""
    destroy, restore = a.destroy_device, a.restore_device

    def destroy_device(graceful: bool) -> None:
        before = snapshot(a) if a.flags.device_running else None
        destroy(graceful)
        if before is not None:
            broken = check_destroy(a, before)
            if checked is not None:
                checked("destroy" + "".join(f", {i} broken" for i in sorted(broken)))

    def restore_device() -> int:
        before = snapshot(a)
        rc = restore()
        broken = check_restore(a, before, rc)
        if checked is not None:
            checked(f"restore rc={rc}" + "".join(f", {i} broken" for i in sorted(broken)))
        return rc

    a.destroy_device = destroy_device  # type: ignore[method-assign]
    a.restore_device = restore_device  # type: ignore[method-assign]
