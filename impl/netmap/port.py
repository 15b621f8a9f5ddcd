"""``/dev/netmap`` with real rings: each adapter of a :class:`NetmapSystem` owns the rings
and memory of a :class:`impl.netmap.adapter.NetmapAdapter`, created with its first
registration and freed with its last close, and a handle syncs, polls and sleeps on exactly
the rings it is bound to.

Lifetimes, as netmap keeps them:

* The krings and the memory exist while some handle is registered
  (``netmap_krings_create`` / ``netmap_mem_finalize`` in the first ``netmap_do_regif``,
  ``netmap_krings_delete`` / ``netmap_mem_deref`` in the last ``netmap_do_unregif``): a new
  registration after that starts from fresh krings.
* A ring and its buffers exist while its kring has users (``netmap_mem2_rings_create`` /
  ``netmap_mem2_rings_delete``; ``netmap_mem_ring_needed`` / ``_todelete``): the ring is
  created with one new buffer per slot and the kring's ``rhead`` / ``rcur`` / ``rtail`` in
  its header, then the driver's ``nm_register`` puts it in netmap mode (``netmap_reset``
  on a hardware ring); when its last user goes, ``nm_register`` takes the NIC ring back and
  every buffer in its slots goes back to the pool.  A slot index that is not a buffer of
  the pool, or a buffer already freed (a user who scribbled ``buf_idx``), is skipped, as
  ``netmap_free_buf`` logs "Cannot free buf" / a double free and skips it
  (:attr:`Rings.skipped`); a buffer whose index a user overwrote is out of reach until
  the memory goes (:meth:`Rings.unowned`); and an index naming a buffer another ring
  still holds is freed under that ring -- netmap's allocator bitmap cannot tell.
* A ring created again while the krings live on (another handle holds other rings) gets
  new buffers, each slot's ``len`` the buffer size (``netmap_new_bufs``), but its kring
  keeps the indices the last user left: nothing resets them between
  ``netmap_do_unregif`` and the next ``netmap_do_regif``, and ``netmap_reset`` keeps an
  RX ring's ``hwtail``.  As shipped, RX slots ``[rhead, hwtail)`` the previous handle had
  received but not released show up to the next handle as received frames -- full-size,
  with whatever bytes those buffers last held.  Hardened (``policy``), a ring's kring is
  given ``netmap_krings_create``'s indices when its ring is created, so the new handle
  starts from an empty RX ring (every slot but one posted) and an empty TX ring.

Handles (netmap_ioctl, netmap_poll):

* NIOCTXSYNC / NIOCRXSYNC sync the handle's rings ``[np_qfirst, np_qlast)`` of the
  direction, the host krings with their own syncs; ENXIO before NIOCREGIF, EIO when a
  bound ring is stopped (the others are synced), else 0 -- a refused prologue is not an
  error.  The ioctl path forces TX reclaim (NAF_FORCE_RECLAIM).  A handle bound to every
  hardware TX ring may forward down from the host RX ring (NAF_CAN_FORWARD_DOWN).
* poll() returns POLLERR before NIOCREGIF, else runs :func:`netmap_poll_rings` over the
  bound rings with ``np_txpoll`` off for NR_NO_TX_POLL; when nothing is ready the handle
  sleeps on the selinfos of the directions it asked for, and an interrupt
  (:meth:`NetmapPorts.deliver`, :meth:`NetmapPorts.complete`, :meth:`stack_transmit`)
  wakes the handles asleep on that ring.

ringspec's adapters have one ring size for both directions; an interface reporting
different TX and RX slot counts is refused when rings are created (ValueError).

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3179
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_mem2.c#L1975
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

import numpy as np

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.bufpool import NetmapNoMemError
from impl.netmap.control import NR_NO_TX_POLL, RX, TX, Binding
from impl.netmap.driver import driver_ring_init
from impl.netmap.intr import netmap_rx_irq, netmap_tx_irq
from impl.netmap.kring import KRING_FIELDS, Krings
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT, PollOutcome
from impl.netmap.poll_rings import netmap_poll_rings
from impl.netmap.system import HOST_RINGS, Adapter, NetmapSystem
from model.netmap_admode import NETMAP_API
from model.netmap_ring import HARDENED


@dataclass
class Rings:
    """An adapter's rings while it has them: the :class:`NetmapAdapter` (memory, krings,
    soft NIC) and which rings exist now (``live[t][i]``: kring ``i`` of direction ``t``,
    host krings after the hardware ones, has its ring and buffers)."""

    nic: NetmapAdapter
    live: list[np.ndarray]
    skipped: int = 0
    """Slot indices ``netmap_free_buf`` refused when a ring was deleted: not a buffer of
    the pool, or one already freed (only a user who scribbled ``buf_idx`` makes them)."""

    def krings(self, t: int, hw: int) -> tuple[Krings, Krings, int]:
        """(hardware krings, host krings, hardware count) of direction ``t``."""
        host = self.nic.host_rings()
        return (self.nic.tx, host.tx, hw) if t == TX else (self.nic.rx, host.rx, hw)

    def __repr__(self) -> str:
        return (f"Rings(live=(tx={self.live[TX].astype(int).tolist()}, "
                f"rx={self.live[RX].astype(int).tolist()}), nfree={self.nic.mem.pool.nfree}, "
                f"skipped={self.skipped})")

    def held(self) -> np.ndarray:
        """The ``buf_idx`` of every slot of every ring that exists (scribbles included)."""
        out = []
        for t in (TX, RX):
            kr, host, hw = self.krings(t, self.live[t].size - HOST_RINGS)
            out += [kr.slot_buf_idx[np.flatnonzero(self.live[t][:hw])].ravel(),
                    host.slot_buf_idx[np.flatnonzero(self.live[t][hw:])].ravel()]
        return np.concatenate(out).astype(np.int64)

    def unowned(self) -> np.ndarray:
        """The buffers that are neither free nor in a slot of a ring that exists: empty
        unless a user overwrote a slot's ``buf_idx``, which takes its buffer out of reach
        until the memory goes."""
        mem = self.nic.mem
        held = np.zeros(mem.nbufs, bool)
        held[:2] = True
        held[mem.pool.is_free] = True
        idx = self.held()
        held[idx[idx < mem.nbufs]] = True
        return np.flatnonzero(~held)


def _fresh_krings(kr: Krings, q: np.ndarray) -> None:
    """The indices ``netmap_krings_create`` gives a kring: ``hwcur = rhead = rcur = 0``,
    ``hwtail = rtail`` = N - 1 (TX) or 0 (RX)."""
    for name in KRING_FIELDS:
        getattr(kr, name)[q] = 0
    if kr.is_tx:
        kr.hwtail[q] = kr.rtail[q] = kr.num_slots - 1
    kr.pendintr[q] = False


@dataclass
class NetmapPorts(NetmapSystem):
    """:class:`NetmapSystem` whose adapters own real rings (see the module docstring)."""

    policy: str = HARDENED
    buf_size: int = 2048
    seed: int = 0
    fwd: bool = False
    """``dev.netmap.fwd``: transparent mode on every ring."""
    rings: dict[int, Rings] = field(default_factory=dict)
    """``id(adapter)`` -> its rings, while it has them."""
    memory_freed: int = 0
    """Memories freed with their adapter's last registration."""

    # ------------------------------------------------------------------ lifetimes

    def register(self, handle: int, name: str, mode: int, ringid: int = 0, flags: int = 0,
                 version: int = NETMAP_API) -> int:
        """NIOCREGIF, then the rings its krings now need (ENOMEM, undone, if the memory
        has too few free buffers for them)."""
        rc = super().register(handle, name, mode, ringid, flags, version)
        if rc:
            return rc
        try:
            self._follow(self.adapters[name])
        except NetmapNoMemError:
            self.close(handle)
            self.handles[handle] = None
            return errno.ENOMEM
        return 0

    def close(self, handle: int) -> int:
        """close(): unregister, then delete the rings nobody uses (and the memory with the
        last registration)."""
        name = self.handles.get(handle)
        na = None if name is None else self.adapters[name]
        rc = super().close(handle)
        if na is not None:
            self._follow(na)
        return rc

    def rings_of(self, name: str) -> Rings | None:
        """The rings of the interface's adapter now, or None (no registration)."""
        na = self.adapters.get(name)
        return None if na is None else self.rings.get(id(na))

    def _follow(self, na: Adapter) -> None:
        """Create and delete rings (and the memory) to match the krings' users; raises
        NetmapNoMemError, changing nothing, if the free buffers cannot fill the rings to
        create."""
        ctl = na.control
        r = self.rings.get(id(na))
        if r is None:
            if not ctl.krings:
                return
            r = self._new_rings(na)
        for t in (TX, RX):
            self._delete(r, t, np.flatnonzero(r.live[t] & ~(ctl.users[t] > 0)))
        create = [np.flatnonzero((ctl.users[t] > 0) & ~r.live[t]) for t in (TX, RX)]
        want = (create[TX].size + create[RX].size) * r.nic.num_slots
        if want > r.nic.mem.pool.nfree:
            raise NetmapNoMemError(want, r.nic.mem.pool.nfree)
        for t in (TX, RX):
            self._create(r, t, create[t])
        if not ctl.krings:
            del self.rings[id(na)]
            self.memory_freed += 1

    def _new_rings(self, na: Adapter) -> Rings:
        cfg = na.config
        if cfg.tx_slots != cfg.rx_slots:
            raise ValueError(f"ringspec's adapters have one ring size for both directions: "
                             f"{cfg}")
        nic = NetmapAdapter(cfg.tx_rings, cfg.rx_rings, cfg.tx_slots, self.buf_size,
                            self.policy, self.seed, host_rings=(HOST_RINGS, HOST_RINGS))
        live = [np.ones(cfg.tx_rings + HOST_RINGS, bool), np.ones(cfg.rx_rings + HOST_RINGS,
                                                                   bool)]
        r = self.rings[id(na)] = Rings(nic, live)
        return r

    @staticmethod
    def _split(r: Rings, t: int, ids: np.ndarray) -> list[tuple[Krings, np.ndarray, bool]]:
        kr, host, hw = r.krings(t, r.nic.tx.count if t == TX else r.nic.rx.count)
        return [(kr, ids[ids < hw], True), (host, ids[ids >= hw] - hw, False)]

    def _delete(self, r: Rings, t: int, ids: np.ndarray) -> None:
        """netmap_mem2_rings_delete for the krings ``ids`` nobody uses any more (the driver
        has taken their NIC rings back)."""
        mem = r.nic.mem
        for kr, q, hw in self._split(r, t, ids):
            if not q.size:
                continue
            if hw:
                r.nic.device(kr.kind).restart(q, np.zeros(q.size, np.int64))
            idx = kr.slot_buf_idx[q].ravel().astype(np.int64)
            ok = (idx >= 2) & (idx < mem.nbufs)
            ok[ok] = mem.pool.is_free[idx[ok]] == 0
            first = np.zeros(idx.size, bool)
            first[np.unique(idx, return_index=True)[1]] = True
            ok &= first
            mem.free(idx[ok])
            kr.slot_buf_idx[q] = 0
            r.skipped += int((~ok & (idx >= 2)).sum())
        r.live[t][ids] = False

    def _create(self, r: Rings, t: int, ids: np.ndarray) -> None:
        """netmap_mem2_rings_create for the krings ``ids`` that gained a user, then
        nm_register: netmap_reset of the hardware rings."""
        mem = r.nic.mem
        for kr, q, hw in self._split(r, t, ids):
            if not q.size:
                continue
            if self.policy == HARDENED:
                _fresh_krings(kr, q)
            kr.slot_buf_idx[q] = mem.alloc(q.size * mem.num_slots).reshape(q.size, -1)
            kr.slot_len[q] = mem.buf_size
            kr.slot_flags[q] = 0
            kr.ring_head[q] = kr.rhead[q]
            kr.ring_cur[q] = kr.rcur[q]
            kr.ring_tail[q] = kr.rtail[q]
            if hw:
                driver_ring_init(kr, r.nic.device(kr.kind), q)
        r.live[t][ids] = True

    # ------------------------------------------------------------------ handle operations

    def _lookup(self, handle: int) -> tuple[Adapter, Rings, Binding] | int:
        """The handle's adapter, rings and binding, or EBADF (not open) / ENXIO (not
        registered: ``np_nifp == NULL``)."""
        if handle not in self.handles:
            return errno.EBADF
        name = self.handles[handle]
        if name is None:
            return errno.ENXIO
        na = self.adapters[name]
        b = na.control.handles[self._bound[handle]]
        assert b is not None
        return na, self.rings[id(na)], b

    def _rings(self, r: Rings, b: Binding, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The handle's (hardware, host) rings of direction ``t``."""
        hw = r.nic.tx.count if t == TX else r.nic.rx.count
        ids = np.arange(b.first[t], b.last[t])
        return ids[ids < hw], ids[ids >= hw] - hw

    def txsync(self, handle: int) -> int:
        """NIOCTXSYNC: 0, or ENXIO / EBADF / EIO (see the module docstring)."""
        return self._ioctl_sync(handle, TX)

    def rxsync(self, handle: int) -> int:
        """NIOCRXSYNC: 0, or ENXIO / EBADF / EIO (see the module docstring)."""
        return self._ioctl_sync(handle, RX)

    def _ioctl_sync(self, handle: int, t: int) -> int:
        got = self._lookup(handle)
        if isinstance(got, int):
            return got
        _, r, b = got
        hw, host = self._rings(r, b, t)
        if t == TX:
            rc = r.nic.txsync(hw).errno if hw.size else 0
            return self._host_sync(r, TX, host) or rc
        rc = r.nic.rxsync(hw, fwd_all=self.fwd).errno if hw.size else 0
        return self._host_sync(r, RX, host, self._forwards_down(r, b)) or rc

    def _forwards_down(self, r: Rings, b: Binding) -> bool:
        """NAF_CAN_FORWARD_DOWN: the handle is bound to every hardware TX ring."""
        return b.first[TX] == 0 and b.last[TX] >= r.nic.tx.count

    def _host_sync(self, r: Rings, t: int, host: np.ndarray, down: bool = False) -> int:
        if not host.size:
            return 0
        h = r.nic.host_rings()
        kr = h.tx if t == TX else h.rx
        stopped = kr.stopped[host]
        run = host[~stopped]
        if run.size:
            if t == TX:
                h.txsync(self.policy, run)
            else:
                h.rxsync(self.policy, r.nic.tx if down else None, self.fwd, run)
        return errno.EIO if stopped.any() else 0

    def poll(self, handle: int, events: int) -> PollOutcome:
        """poll(2): POLLERR before NIOCREGIF; else netmap_poll over the bound rings, the
        handle put to sleep on the directions it asked for when nothing is ready."""
        got = self._lookup(handle)
        if isinstance(got, int):
            return PollOutcome(POLLERR)
        na, r, b = got
        (htx, stx), (hrx, srx) = self._rings(r, b, TX), self._rings(r, b, RX)
        out = netmap_poll_rings(
            self.policy, (r.nic.tx, r.nic.txdev, htx), (r.nic.rx, r.nic.rxdev, hrx), events,
            txpoll=not b.flags & NR_NO_TX_POLL, no_pendintr=r.nic.no_pendintr,
            host=r.nic.host_rings() if stx.size or srx.size else None,
            host_rings=(bool(stx.size), bool(srx.size)),
            can_forward_down=self._forwards_down(r, b), fwd_all=self.fwd)
        if out.blocks:
            for t, bit in ((TX, POLLOUT), (RX, POLLIN)):
                if events & bit:
                    na.control.waits.selrecord(self._bound[handle], b, t)
        return out

    # ------------------------------------------------------------------ interrupts

    def _wake(self, na: Adapter, t: int, ring: int) -> set[int]:
        return self.system_handles(na.control.waits.notify(t, ring))

    def _live_rings(self, name: str) -> tuple[Adapter, Rings]:
        na = self.adapters[name]
        r = self.rings.get(id(na))
        if r is None:
            raise ValueError(f"{name}: not in netmap mode (no handle registered)")
        return na, r

    def deliver(self, name: str, q: int, k: int) -> set[int]:
        """The NIC receives ``k`` frames on RX ring ``q`` (in netmap mode) and interrupts;
        returns the handles woken."""
        na, r = self._live_rings(name)
        if not r.live[RX][q]:
            raise ValueError(f"{name}: RX ring {q} is not in netmap mode")
        r.nic.device_deliver(q, k)
        netmap_rx_irq(r.nic.rx, q)
        return self._wake(na, RX, q)

    def complete(self, name: str, q: int, k: int) -> set[int]:
        """The NIC completes ``k`` transmissions on TX ring ``q`` and interrupts; returns the
        handles woken."""
        na, r = self._live_rings(name)
        if not r.live[TX][q]:
            raise ValueError(f"{name}: TX ring {q} is not in netmap mode")
        r.nic.device_complete(q, k)
        netmap_tx_irq(r.nic.tx, q)
        return self._wake(na, TX, q)

    def stack_transmit(self, name: str, frames: np.ndarray) -> tuple[np.ndarray | None,
                                                                      set[int]]:
        """The host stack sends ``frames`` on the interface: with the host RX kring in
        netmap mode, netmap_transmit queues them for it (per packet 0 or ENOBUFS) and
        notifies its sleepers; otherwise netmap does not see them (None) -- they go to the
        driver."""
        na, r = self._live_rings(name)
        hq = r.nic.rx.count
        if not na.control.mode[RX][hq]:
            return None, set()
        got = r.nic.netmap_transmit(frames)
        return got, (self._wake(na, RX, hq) if (got == 0).any() else set())

