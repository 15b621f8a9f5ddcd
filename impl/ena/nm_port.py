"""netmap on an ENA driver: NIOCTXSYNC / NIOCRXSYNC through netmap's prologue, reinit and
finalize around ena_netmap_txsync / ena_netmap_rxsync, the ``ena_up`` of netmap mode, and
the reading of a ring as a :mod:`model.ena_netmap` state.

netmap_ioctl runs the driver's sync only when the prologue accepts (TX) or always (RX,
after netmap_ring_reinit), and calls nm_sync_finalize only when the sync returns 0: an
EINVAL from the TX frame loop or an error from the RX loop leaves ``ring->tail`` where it
was; the ioctl itself returns 0.

One refusal comes from ENA's convention rather than the user: ENA's RX ``nr_hwcur`` is the
next slot it posts, netmap's hwcur minus one, so when every posted buffer has been filled
(``nr_hwcur == nr_hwtail``) nm_rxsync_prologue's ``head in [nr_hwcur, nr_hwtail]`` is a
single slot, and any head but ``nr_hwtail`` -- the user releasing part of what it holds,
or nothing -- is refused and netmap_ring_reinit runs (and logs) on every such sync.

ena_netmap_txsync does nothing (and returns 0) unless ENA_FLAG_DEV_UP and
ENA_FLAG_LINK_UP are set; ena_netmap_rxsync first re-initialises the ring if ``rhead >
lim`` (reachable when the as-shipped RX prologue stored an out-of-range head), then
needs IFF_DRV_RUNNING and the link.

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3216
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L326
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L872
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from impl.ena import nm_rx, nm_tx
from impl.ena.driver import EnaDriver
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena_defs.layouts import IntrReg
from impl.netmap.prologue import (
    caller_accepts,
    check_policy,
    nm_rxsync_prologue,
    nm_sync_finalize,
    nm_txsync_prologue,
)
from impl.netmap.reinit import netmap_reset, netmap_ring_reinit
from model.ena_netmap import NetmapRx, NetmapTx
from model.netmap_ring import HARDENED


class EnaTxsync(NamedTuple):
    rings: np.ndarray
    accepted: np.ndarray
    """Per ring: the prologue accepted the user's head and cur."""
    rc: np.ndarray
    """Per ring: what ena_netmap_txsync returned (0: nm_sync_finalize ran)."""
    frames: nm_tx.TxFramesResult | None
    cleanup: nm_tx.TxCleanupResult | None


class EnaRxsync(NamedTuple):
    rings: np.ndarray
    accepted: np.ndarray
    rc: np.ndarray
    frames: nm_rx.RxFramesResult | None
    refill: nm_rx.RefillResult | None


class EnaNetmap:
    """An ENA driver in native netmap mode on every queue pair.  ``policy`` is netmap's
    own prologue/reinit variant (:mod:`impl.netmap.prologue`); the driver's as-shipped or
    hardened rules come from its :class:`impl.ena.driver.DriverConfig`."""

    def __init__(self, rings: EnaNetmapRings, policy: str = HARDENED) -> None:
        self.policy = check_policy(policy)
        self.rings = rings
        self.link: Callable[[], bool] = lambda: True
        """ENA_FLAG_LINK_UP (the adapter's link state)."""
        self.now_ns: Callable[[], int] = lambda: 0
        """The clock a hardened TX stamps with (``getbinuptime``)."""
        self.bound = np.ones(rings.tx.count, dtype=bool)
        """The queue pairs of the registration (in netmap mode): the syncs of ``None``
        cover these, and naming another ring is an error."""

    @classmethod
    def on_driver(cls, drv: EnaDriver, policy: str = HARDENED, buf_size: int = 2048,
                  extra_bufs: int = 0) -> EnaNetmap:
        """netmap rings sized like ``drv``'s queues, bound to it (not yet up)."""
        return cls(EnaNetmapRings.for_driver(drv, buf_size, extra_bufs), policy)

    @property
    def drv(self) -> EnaDriver:
        return self.rings.drv

    @property
    def tx(self):  # type: ignore[no-untyped-def]
        return self.rings.tx

    @property
    def rx(self):  # type: ignore[no-untyped-def]
        return self.rings.rx

    def up(self) -> nm_rx.RefillResult:
        """``ena_up`` with every ring in netmap mode: ena_setup_{tx,rx}_resources call
        netmap_reset on each ring, then ena_refill_all_rx_bufs posts netmap buffers
        (:func:`impl.ena.nm_rx.initial_fill`), the adapter runs and the IO vectors are
        unmasked."""
        qs = self.tx.check_rings(None)
        netmap_reset(self.tx, qs)
        netmap_reset(self.rx, qs)
        out: list[nm_rx.RefillResult] = []
        self.drv.up(fill=lambda q: out.append(nm_rx.initial_fill(self.rings, q)))
        return out[0]

    def _up(self) -> bool:
        """ENA_FLAG_DEV_UP (IO queues bound and running) and ENA_FLAG_LINK_UP."""
        drv = self.rings._drv
        return drv is not None and drv.running and self.link()

    def _bound(self, rings: object) -> np.ndarray:
        """``rings`` (None: every bound ring) checked against the binding: ValueError
        for a ring in mbuf mode (netmap syncs only the rings a descriptor bound)."""
        r = self.tx.check_rings(rings)
        if rings is None:
            return r[self.bound[r]]
        if not self.bound[r].all():
            raise ValueError(f"ring {r[~self.bound[r]].tolist()} is not in netmap mode: "
                             f"bind it first (AdapterNetmap.reg(True, rings=...))")
        return r

    def txsync(self, rings: object = None) -> EnaTxsync:
        """NIOCTXSYNC on a batch of TX rings (None = all bound)."""
        kr = self.tx
        r = self._bound(rings)
        acc = np.atleast_1d(caller_accepts(kr, nm_txsync_prologue(self.policy, kr, r)))
        netmap_ring_reinit(self.policy, kr, r[~acc])
        ok = r[acc]
        rc = np.zeros(r.size, dtype=np.int64)
        if not self._up() or ok.size == 0:
            nm_sync_finalize(kr, ok)
            return EnaTxsync(r, acc, rc, None, None)
        order = np.argsort(ok)
        ok = ok[order]
        drv = self.drv
        frames = nm_tx.tx_frames(self.rings, ok, self.now_ns())
        clean = nm_tx.tx_cleanup(self.rings, ok, drv.cfg.cdesc_mbz)
        drv.reset.trigger_first(clean.reasons)
        nm_sync_finalize(kr, ok[frames.rc == 0])
        rc[np.flatnonzero(acc)[order]] = frames.rc
        return EnaTxsync(r, acc, rc, frames, clean)

    def rxsync(self, rings: object = None) -> EnaRxsync:
        """NIOCRXSYNC on a batch of RX rings (None = all bound)."""
        kr = self.rx
        r = np.sort(self._bound(rings))
        acc = np.atleast_1d(caller_accepts(kr, nm_rxsync_prologue(self.policy, kr, r)))
        netmap_ring_reinit(self.policy, kr, r[~acc])
        rc = np.zeros(r.size, dtype=np.int64)
        wild = kr.rhead[r] >= kr.num_slots
        rc[wild] = netmap_ring_reinit(self.policy, kr, r[wild]).astype(np.int64)
        live = r[~wild]
        if not self._up() or live.size == 0:
            nm_sync_finalize(kr, r[rc == 0])
            return EnaRxsync(r, acc, rc, None, None)
        frames = nm_rx.rx_frames(self.rings, live, self.drv.cfg.cdesc_mbz)
        rc[~wild] = frames.rc
        clean = nm_rx.rx_cleanup(self.rings, live[frames.rc == 0])
        nm_sync_finalize(kr, r[rc == 0])
        return EnaRxsync(r, acc, rc, frames, clean)

    def interrupts(self) -> np.ndarray:
        """The IO vectors that fired: the queues to wake (:meth:`wake`)."""
        vec = self.drv.bus.msix.take()
        return self.wake(vec[(vec >= 1) & (vec <= self.drv.cfg.num_queues)] - 1)

    def wake(self, qs: np.ndarray) -> np.ndarray:
        """ena_cleanup in netmap mode: ena_rx_cleanup and ena_tx_cleanup hand the queue to
        netmap_rx_irq / netmap_tx_irq (which wake the user, who syncs) and return at once;
        the vector is unmasked again.  Returns the queues woken."""
        qs = np.unique(np.asarray(qs, dtype=np.int64))
        val = IntrReg.INTR_UNMASK.put(1).item()
        self.drv.bus.regs.write32_batch(self.drv.unmask_off[qs], np.full(qs.size, val))
        return qs

    # -- the model's view (model/ena_netmap.py)
    def tx_state(self, q: int) -> NetmapTx:
        """TX ring ``q`` as a :class:`model.ena_netmap.NetmapTx`."""
        tx, kr, nm = self.drv.tx, self.tx, self.rings
        flight = (nm.tx_sockets[q] > 0).astype(np.int64)
        return NetmapTx(hwcur=int(kr.hwcur[q]), hwtail=int(kr.hwtail[q]),
                        rhead=int(kr.rhead[q]), ids=tuple(int(x) for x in tx.free_ids[q]),
                        next_to_use=int(tx.next_to_use[q]),
                        next_to_clean=int(tx.next_to_clean[q]),
                        in_flight=tuple(int(x) for x in flight), used=int(flight.sum()),
                        stamp=tuple(int(x) for x in tx.inflight[q]))

    def rx_state(self, q: int) -> NetmapRx:
        """RX ring ``q`` as a :class:`model.ena_netmap.NetmapRx`."""
        rx, kr, nm = self.drv.rx, self.rx, self.rings
        posted = (nm.rx_buf[q] != 0).astype(np.int64)
        return NetmapRx(hwcur=int(kr.hwcur[q]), hwtail=int(kr.hwtail[q]),
                        rhead=int(kr.rhead[q]), ids=tuple(int(x) for x in rx.free_ids[q]),
                        next_to_use=int(rx.next_to_use[q]),
                        next_to_clean=int(rx.next_to_clean[q]),
                        in_flight=tuple(int(x) for x in posted), used=int(posted.sum()),
                        refill=0)

    def __repr__(self) -> str:
        return (f"EnaNetmap(policy={self.policy!r}, hardened={self.rings.hardened}, "
                f"up={self._up()}, rings={self.rings!r})")
