"""``/dev/netmap`` over ENA adapters: handles, NIOCREGIF, NIOCTXSYNC / NIOCRXSYNC, poll
and close on an interface whose native netmap adapter is the ENA driver, with the
adapter entering and leaving netmap mode by either strategy of
:class:`impl.ena.adapter_netmap.AdapterNetmap` (``classic``: ena_netmap_reg, down and up;
``rfc``: the interface stays up).

What comes from netmap's core, shared with the soft NIC (:class:`impl.netmap.system.NetmapSystem`,
:class:`impl.netmap.control.PortControl`): the API version check, adapter selection, the
bindings (NR_REG_* modes, NR_EXCLUSIVE, NR_*_RINGS_ONLY, NR_NO_TX_POLL), the users of
each kring, the errno of every refusal, and poll's loop over the bound rings
(:func:`impl.netmap.poll_rings.netmap_poll_rings`) with the selinfo waits.  What comes
from the driver: the ring modes, the memory, the syncs (:class:`EnaSync`) and the
interrupts that wake sleeping handles (ena_cleanup in netmap mode calls netmap_rx_irq,
which notifies the RX and TX krings of its queue pair).

netmap_do_regif puts the krings the registration binds in netmap mode through the
driver's ``nm_register``, and netmap_do_unregif takes out those nobody uses any more:

* ``classic``: a queue pair enters when a handle first binds one of its krings and
  leaves when the last handle using it closes (``reg(onoff, rings=...)``); ENA switches
  queue pairs, so a registration of one direction (NR_TX_RINGS_ONLY /
  NR_RX_RINGS_ONLY) puts both krings of its pairs in netmap mode, where ena_netmap_reg
  walks TX and RX krings apart.  Every switch is an ``ena_down`` / ``ena_up`` of the
  whole interface, which netmap_reset's every ring in netmap mode -- the other handles'
  rings included.
* ``rfc``: the first registration puts every queue pair in netmap mode and the last
  close leaves (:mod:`impl.ena.nm_rfc`); a registration while the previous one is still
  leaving (the device still holds netmap buffers) is refused with EBUSY.

Refusals the driver adds to netmap's: EBUSY while the RFC's exit is under way, EINVAL
when the stack's RX buffers are larger than a netmap buffer (the RFC cannot copy them),
ENOMEM when the IO rings were backed off below the netmap rings.  A refused NIOCREGIF
leaves the handle unregistered.

When ``ena_up`` fails in a classic switch, ena_netmap_reg destroys the device and
restores it in mbuf mode, and returns what ``ena_restore_device`` returned: as shipped
that is 0, so NIOCREGIF succeeds with no ring in netmap mode.  The handles then get EIO
from their syncs and POLLERR from poll, as a stopped ring gives (ringspec's stand-in for
netmap syncing krings whose driver runs in mbuf mode).  Hardened (the driver's policy),
NIOCREGIF returns ``ena_up``'s error and the handle stays unregistered.

ringspec's ENA adapter has no host rings (NR_REG_SW, NR_REG_NIC_SW, NR_REG_ONE_SW are
EINVAL) and no generic adapter (``admode`` GENERIC on an ENA interface is EOPNOTSUPP):
netmap would bind its host krings and emulate an adapter over the stack.  The ring
configuration is read from the adapter (queue count, requested ring sizes) whenever
netmap_update_config asks, as a driver's ``nm_config`` would.

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2929
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L274
"""

from __future__ import annotations

import dataclasses
import errno
from dataclasses import dataclass, field

import numpy as np

from impl.ena.adapter import EnaAdapter
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.nm_rings import EnaNetmapRings
from impl.netmap.control import NR_NO_TX_POLL, RX, TX, Binding, PortControl
from impl.netmap.driver import RxRead
from impl.netmap.kring import Krings
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT, PollOutcome
from impl.netmap.poll_rings import netmap_poll_rings
from impl.netmap.sync import RxsyncResult, TxsyncResult, kr_tryget
from impl.netmap.system import Adapter, NetmapSystem, PortInfo
from model.netmap_admode import GENERIC, NETMAP_API, RingConfig
from model.netmap_ring import HARDENED


class EnaSync:
    """netmap's sync on the rings of an ENA adapter in netmap mode
    (:class:`impl.netmap.sync.NativeSync`): nm_kr_tryget, then
    :meth:`impl.ena.nm_port.EnaNetmap.txsync` / ``rxsync`` (prologue, reinit,
    ena_netmap_txsync / ena_netmap_rxsync, finalize). Every ring it is given is in netmap
    mode: the rings of a registration exist only while the pairs its handles bind are
    (EnaNetmap refuses any other with ValueError). ``sent``, ``reclaim``, ``refill`` and
    ``read`` are ignored: ENA hands the NIC every packet, reclaims on every txsync and reads
    the completion queue on every rxsync. Reported per ring: TX ``sent`` the slots
    ``nr_hwcur`` moved over and ``bad_slot`` the slot where the frame loop stopped with
    EINVAL; RX ``reported`` the slots ``nr_hwtail`` moved over, ``refilled`` those
    ``nr_hwcur`` moved over (ENA's ``nr_hwcur`` is the next slot it posts), ``bad_slot`` -1
    (a refill that stops at a slot without a real buffer returns EFAULT, which netmap
    drops)."""

    def __init__(self, an: AdapterNetmap) -> None:
        self.an = an

    def _split(self, policy: str, kr: Krings,
               rings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(skipped, busy, the rings that run); ``rings`` ascending, as a binding's and
        poll's subsets of it are; ``policy`` the adapter's own (netmap's prologue runs in
        :class:`impl.ena.nm_port.EnaNetmap` with it)."""
        if policy != self.an.policy:
            raise ValueError(f"netmap policy {policy!r}: the adapter's rings run "
                             f"{self.an.policy!r}")
        if rings.size > 1 and (np.diff(rings) < 0).any():
            raise ValueError(f"ring ids must be ascending, got {rings.tolist()}")
        skipped, busy = kr_tryget(kr, rings)
        return skipped, busy, rings[~skipped]

    def txsync(self, policy: str, kr: Krings, rings: np.ndarray, sent: object,
               reclaim: str) -> TxsyncResult:
        rings = kr.check_rings(rings)
        skipped, busy, live = self._split(policy, kr, rings)
        acc = np.zeros(rings.size, bool)
        moved = np.zeros(rings.size, np.int64)
        bad = np.full(rings.size, -1, np.int64)
        if live.size:
            port = self.an.port
            assert port is not None
            before = kr.hwcur[live].astype(np.int64)
            got = port.txsync(live)
            at = ~skipped
            acc[at] = got.accepted
            moved[at] = (kr.hwcur[live] - before) % kr.num_slots
            bad[at] = np.where(got.rc == errno.EINVAL, kr.hwcur[live], -1)
        return TxsyncResult(rings.copy(), acc, moved, bad, skipped, busy)

    def rxsync(self, policy: str, kr: Krings, rings: np.ndarray, refill: object,
               read: RxRead) -> RxsyncResult:
        rings = kr.check_rings(rings)
        skipped, busy, live = self._split(policy, kr, rings)
        acc = np.zeros(rings.size, bool)
        reported = np.zeros(rings.size, np.int64)
        refilled = np.zeros(rings.size, np.int64)
        if live.size:
            port = self.an.port
            assert port is not None
            tail, cur = kr.hwtail[live].astype(np.int64), kr.hwcur[live].astype(np.int64)
            got = port.rxsync(live)
            at = ~skipped
            acc[at] = got.accepted
            reported[at] = (kr.hwtail[live] - tail) % kr.num_slots
            refilled[at] = (kr.hwcur[live] - cur) % kr.num_slots
        return RxsyncResult(rings.copy(), acc, reported, refilled,
                            np.full(rings.size, -1, np.int64), skipped, busy)


@dataclass
class EnaPorts(NetmapSystem):
    """:class:`NetmapSystem` whose interfaces are ENA adapters (see the module
    docstring).  ``woken``: the handles the interrupts woke since the caller last
    cleared it."""

    policy: str = HARDENED
    nics: dict[str, AdapterNetmap] = field(default_factory=dict)
    woken: set[int] = field(default_factory=set)

    # ------------------------------------------------------------------ interfaces

    def attach_ena(self, name: str, adapter: EnaAdapter, *, strategy: str = "classic",
                   rx_exit: str = "wait", buf_size: int = 2048,
                   extra_bufs: int = 0) -> AdapterNetmap:
        """ena_netmap_attach: the interface ``name`` is the ENA ``adapter`` (attached and
        with its queues sized), native, entering netmap mode by ``strategy``."""
        an = AdapterNetmap(adapter, self.policy, buf_size, extra_bufs, strategy, rx_exit)
        self.attach(name, True, self._reported(adapter))
        self.nics[name] = an
        an.on_irq = lambda qs: self._irq(name, qs)
        return an

    @staticmethod
    def _reported(ad: EnaAdapter) -> RingConfig:
        nq = ad.num_io_queues
        return RingConfig(nq, ad.requested_tx_ring_size, nq, ad.requested_rx_ring_size)

    def _new_adapter(self, kind: str, cfg: RingConfig) -> Adapter:  # type: ignore[override]
        return Adapter(kind, cfg, PortControl(cfg.tx_rings, cfg.rx_rings, host_rings=0,
                                              ring_size=max(cfg.tx_slots, cfg.rx_slots)))

    def _get_na(self, name: str) -> Adapter | int:
        """netmap_get_na, the configuration read from the adapter first; EOPNOTSUPP for
        a generic adapter over ENA (see the module docstring)."""
        an = self.nics.get(name)
        if an is not None:
            self.ifaces[name].reported = self._reported(an.adapter)
        got = super()._get_na(name)
        if an is not None and isinstance(got, Adapter) and got.kind == GENERIC:
            self._unget(name)
            return errno.EOPNOTSUPP
        return got

    def port_info(self, name: str, version: int = NETMAP_API,
                  legacy: bool = False) -> tuple[int, PortInfo | None]:
        """NETMAP_REQ_PORT_INFO_GET: as netmap's, with the ENA rings' memory size and no
        host rings."""
        rc, info = super().port_info(name, version, legacy)
        an = self.nics.get(name)
        if rc or info is None or an is None:
            return rc, info
        size = EnaNetmapRings.memsize(info.nr_tx_rings, info.nr_tx_slots, an.buf_size,
                                      an.extra_bufs)
        return rc, dataclasses.replace(info, nr_memsize=size, nr_host_tx_rings=0,
                                       nr_host_rx_rings=0)

    # ------------------------------------------------------------------ lifetimes

    def register(self, handle: int, name: str, mode: int, ringid: int = 0, flags: int = 0,
                 version: int = NETMAP_API) -> int:
        """NIOCREGIF, then ``nm_register`` for the queue pairs it brings into netmap
        mode; a refusal of the driver undoes the registration."""
        rc = super().register(handle, name, mode, ringid, flags, version)
        an = self.nics.get(name)
        if rc or an is None:
            return rc
        want = self.bound_pairs(name)
        if an.strategy == "rfc":
            rc = an.reg(True) if not an.native else 0
        elif (want & ~an.on).any():
            rc = an.reg(True, rings=np.flatnonzero(want & ~an.on))
            if rc == 0 and not an.on[want].all() and an.hardened:
                rc = an.up_error
        if rc:
            super().close(handle)
            self.handles[handle] = None
        return rc

    def close(self, handle: int) -> int:
        """close(): unregister, then ``nm_register`` takes the queue pairs nobody uses
        out of netmap mode (the RFC: all of them with the last registration)."""
        name = self.handles.get(handle)
        rc = super().close(handle)
        if name is None or name not in self.nics or not self.nics[name].native:
            return rc
        an, want = self.nics[name], self.bound_pairs(name)
        if an.strategy == "rfc":
            if not want.any():
                an.reg(False)
        elif (an.on & ~want).any():
            an.reg(False, rings=np.flatnonzero(an.on & ~want))
        return rc

    def bound_pairs(self, name: str) -> np.ndarray:
        """The queue pairs of the interface some handle binds a kring of."""
        ctl = self.adapters[name].control
        return (ctl.users[TX] > 0) | (ctl.users[RX] > 0)

    # ------------------------------------------------------------------ handle operations

    def _lookup(self, handle: int) -> tuple[Adapter, AdapterNetmap, Binding] | int:
        if handle not in self.handles:
            return errno.EBADF
        name = self.handles[handle]
        if name is None:
            return errno.ENXIO
        na = self.adapters[name]
        b = na.control.handles[self._bound[handle]]
        assert b is not None
        return na, self.nics[name], b

    @staticmethod
    def _ids(b: Binding, t: int) -> np.ndarray:
        return np.arange(b.first[t], b.last[t])

    def txsync(self, handle: int) -> int:
        """NIOCTXSYNC: 0, or EBADF / ENXIO / EIO (a bound ring not in netmap mode)."""
        return self._ioctl_sync(handle, TX)

    def rxsync(self, handle: int) -> int:
        """NIOCRXSYNC: 0, or EBADF / ENXIO / EIO (a bound ring not in netmap mode)."""
        return self._ioctl_sync(handle, RX)

    def _ioctl_sync(self, handle: int, t: int) -> int:
        got = self._lookup(handle)
        if isinstance(got, int):
            return got
        _, an, b = got
        ids = self._ids(b, t)
        if not ids.size:
            return 0
        if an.rings is None:
            return errno.EIO
        sync = EnaSync(an)
        if t == TX:
            return sync.txsync(self.policy, an.rings.tx, ids, None, "").errno
        return sync.rxsync(self.policy, an.rings.rx, ids, None, RxRead(True, False)).errno

    def poll(self, handle: int, events: int) -> PollOutcome:
        """poll(2): POLLERR before NIOCREGIF or when the rings are gone; else netmap_poll
        over the bound rings, the handle put to sleep on the directions it asked for when
        nothing is ready."""
        got = self._lookup(handle)
        if isinstance(got, int) or got[1].rings is None:
            return PollOutcome(POLLERR)
        na, an, b = got
        rings, sync = an.rings, EnaSync(an)
        assert rings is not None
        out = netmap_poll_rings(self.policy, (rings.tx, sync, self._ids(b, TX)),
                                (rings.rx, sync, self._ids(b, RX)), events,
                                txpoll=not b.flags & NR_NO_TX_POLL)
        if out.blocks:
            for t, bit in ((TX, POLLOUT), (RX, POLLIN)):
                if events & bit and b.last[t] > b.first[t]:
                    na.control.waits.selrecord(self._bound[handle], b, t)
        return out

    # ------------------------------------------------------------------ interrupts

    def _irq(self, name: str, qs: np.ndarray) -> None:
        """netmap_rx_irq / netmap_tx_irq on the queue pairs ``qs`` (ena_cleanup in netmap
        mode): every handle asleep on those krings (or on the global selinfo) wakes."""
        waits = self.adapters[name].control.waits
        got = set().union(*(waits.notify(t, q) for t in (TX, RX) for q in qs.tolist()))
        self.woken |= self.system_handles(got)
