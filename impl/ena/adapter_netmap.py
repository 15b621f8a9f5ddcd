"""Entering and leaving netmap mode on an ENA adapter: ena_netmap_reg (``strategy=
"classic"``), the 2015 RFC's way with the interface up (``strategy="rfc"``,
:mod:`impl.ena.nm_rfc`; its RX side leaves by waiting for traffic, ``rx_exit="wait"``, or
by resetting the RX queues that still hold netmap buffers, ``rx_exit="reset"``), and what
``ena_up`` and ``ena_down`` do to rings in netmap mode.

ena_netmap_reg(onoff): clear ENA_FLAG_TRIGGER_RESET (as shipped), ``ena_down`` (which
resets the device with ``reset_reason`` only if that flag is set), switch the mode of the
rings the registration binds -- every queue pair (NR_REG_ALL_NIC) or some
(NR_REG_ONE_NIC: ``reg(True, rings=[q])``; a later registration adds its rings, a close
takes its rings out) -- and the native flags, ``ena_up``.  If ``ena_up`` fails:
``reset_reason = DRIVER_INVALID_STATE``, native flags off, ``ena_destroy_device`` (a
device reset) and ``ena_restore_device`` (which brings the interface up again, in mbuf
mode).

With some rings in netmap mode the others stay the stack's: ``ena_up`` fills them with
mbufs, their interrupts run ENA's own cleanup, the empty-RX-ring check refills them.  The
stack's packets meet netmap_transmit first (``EnaDriver.netmap_tx``): those whose TX
kring ``flowid % num_tx_rings`` is in netmap mode go to the host RX ring, the others to
ena_mq_start, which as shipped picks its own queue and may put them on a queue in netmap
mode (:mod:`model.ena_netmap_txq`, ENA-NM-TXQ-APART).

``ena_up`` with rings in netmap mode: ena_setup_tx_resources / ena_setup_rx_resources
call netmap_reset on each (TX: ``hwcur = rhead``, ``hwtail = rhead - 1``; RX: ``hwcur =
rhead``), and the RX fill posts netmap buffers (:func:`impl.ena.nm_rx.initial_fill`).

``ena_down`` with rings in netmap mode: ena_free_rx_bufs gives every posted buffer back
through ena_netmap_free_rx_slot (slot ``nr_hwcur - 1``, walking back, ids in index
order, ``flags = NS_BUF_CHANGED``); ena_free_tx_resources zeroes ``socket_buf_idx`` of
every packet still in flight, so **as shipped those buffers are lost**: their slots were
zeroed at send and nothing gives them back (netmap_reset then hands the slots to the
user with ``buf_idx`` 0).  Hardened: they go back to their slots, in send order, after
``nr_hwtail``, as a completion would return them.

As shipped vs hardened (:mod:`model.ena_netmap`, ENA-NM-RESET-KEPT): the flag cleared
first drops a pending reset -- ``ena_down`` skips the device reset and the reset task,
finding the flag clear, does nothing, while ``reset_reason`` stays recorded.  Hardened,
the flag is left alone: ``ena_down`` resets the device with the pending reason and the
reset task still runs.

Upstream:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L274
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L172
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2612
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L761
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from impl.ena import nm_rfc, nm_rx
from impl.ena.driver import EnaDriver, Policy
from impl.ena.nm_port import EnaNetmap
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.rss_cmds import indirect_table_set
from impl.ena_defs.regs import ResetReason
from impl.netmap.layout import NS_BUF_CHANGED
from impl.netmap.reinit import netmap_reset
from model.netmap_ring import HARDENED

STRATEGIES = ("classic", "rfc")
RX_EXITS = ("wait", "reset")

if TYPE_CHECKING:
    from impl.ena.adapter import EnaAdapter


class AdapterNetmap:
    """netmap native mode on one :class:`impl.ena.adapter.EnaAdapter` (``adapter.netmap``).

    ``reg(True)`` also stands for the user's registration: the netmap memory and krings
    are created then, sized by the adapter's requested ring sizes as ena_netmap_attach
    sizes them (an ``ena_up`` that then backs its rings off after ENOMEM no longer
    matches them and fails with ENOMEM, :meth:`sizes_refused`: the C carries on with the
    mismatch, unchecked); ``reg(False)`` ends it and returns the memory -- with the RFC,
    once the device has given its netmap buffers back (``leaving`` until then: with
    ``rx_exit="reset"`` only as long as netmap TX packets are in flight).  ``port`` is
    the sync interface while registered.  The classic strategy takes ``rings``: the queue
    pairs a registration binds or a close releases (None: all)."""

    def __init__(self, adapter: EnaAdapter, policy: str = HARDENED, buf_size: int = 2048,
                 extra_bufs: int = 0, strategy: str = "classic",
                 rx_exit: str = "wait") -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy {strategy!r}: choose one of {STRATEGIES}")
        if rx_exit not in RX_EXITS:
            raise ValueError(f"rx_exit {rx_exit!r}: choose one of {RX_EXITS}")
        self.adapter = adapter
        self.strategy = strategy
        """How ``reg`` enters and leaves: ``classic`` (ena_netmap_reg: down and up) or
        ``rfc`` (the interface stays up, :mod:`impl.ena.nm_rfc`)."""
        self.rx_exit = rx_exit
        """How the RFC's close takes the RX netmap buffers back from the device: ``wait``
        for traffic to land in them, or ``reset`` the RX queues holding them
        (:func:`impl.ena.nm_rfc.reset_rx_ring`).  The classic strategy ignores it."""
        self.leaving = False
        """The RFC's exit is under way: the device still holds netmap buffers."""
        self.policy = policy
        self.buf_size = buf_size
        self.extra_bufs = extra_bufs
        self.rings: EnaNetmapRings | None = None
        self.port: EnaNetmap | None = None
        self.native = False
        """nm_set_native_flags: some ring is in netmap mode (``if_transmit`` is
        netmap_transmit)."""
        self.on = np.zeros(adapter.num_io_queues, dtype=bool)
        """Per queue pair: its krings are in netmap mode (``nr_mode == NKR_NETMAP_ON``)."""
        self.up_error = 0
        """What the last ``ena_up`` of a switch returned: when it failed, ena_netmap_reg
        returns ``ena_restore_device``'s result instead (0 once the interface is back in
        mbuf mode), so netmap believes the switch succeeded."""
        self.on_irq: Callable[[np.ndarray], None] | None = None
        """netmap_rx_irq / netmap_tx_irq: called with the queue pairs in netmap mode an
        interrupt woke (the control device wakes the handles asleep on them)."""
        adapter.netmap = self

    @property
    def hardened(self) -> bool:
        return self.adapter.cfg.policy is Policy.HARDENED

    def _create(self) -> None:
        """The registration's netmap memory, krings and sync interface."""
        ad = self.adapter
        ad_cfg = ad.driver_config(ad.requested_tx_ring_size, ad.requested_rx_ring_size)
        self.rings = EnaNetmapRings(ad.bus, ad.num_io_queues, ad.requested_tx_ring_size,
                                    ad_cfg.max_tx_sgl_size, self.hardened, self.buf_size,
                                    self.extra_bufs)
        self.port = EnaNetmap(self.rings, self.policy)
        self.port.link = lambda: ad.flags.link_up
        self.port.now_ns = lambda: ad.clock.now_ns

    def _release(self) -> None:
        if self.rings is not None:
            self.rings.release()
        self.rings = self.port = None
        self.leaving = False

    def reg(self, onoff: bool, rings: object = None) -> int:
        """Enter (``onoff``) or leave netmap mode by the strategy: 0 or an errno.
        ``rings``: the queue pairs switching (an id, ids, or None: all); ValueError for a
        queue that does not exist, or for some rings with the RFC, which switches all."""
        pairs = self._pairs(rings)
        if self.strategy == "rfc":
            if not pairs.all():
                raise ValueError("the RFC strategy switches every queue pair: rings=None")
            return self._reg_rfc(bool(onoff))
        return self._reg_classic(bool(onoff), pairs)

    def _pairs(self, rings: object) -> np.ndarray:
        """``rings`` as a mask over the adapter's queue pairs."""
        nq = self.adapter.num_io_queues
        mask = np.zeros(nq, dtype=bool)
        if rings is None:
            mask[:] = True
            return mask
        ids = np.atleast_1d(np.asarray(rings))
        if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(f"rings must be queue ids, got {rings!r}")
        if ids.size and (ids.min() < 0 or ids.max() >= nq):
            raise ValueError(f"queue id out of range 0..{nq - 1}: {rings!r}")
        mask[ids] = True
        return mask

    def _set_native(self, on: np.ndarray) -> None:
        """The rings' modes; the native flags follow (on while any ring is)."""
        self.on = on
        self.native = bool(on.any())

    def _reg_rfc(self, onoff: bool) -> int:
        """The RFC (:mod:`impl.ena.nm_rfc`).  EBUSY while the previous registration is
        still leaving; EINVAL if the stack's RX buffers are larger than a netmap buffer;
        ENOMEM if the running rings were backed off below the requested size.
        With the interface down, entering marks the rings and brings it up (its fill
        then posts netmap buffers), and leaving has nothing to wait for."""
        ad = self.adapter
        if self.leaving:
            return errno.EBUSY
        if onoff == self.native:
            return 0
        if onoff:
            rc = nm_rfc.refusal(self.buf_size, ad.cfg.rx_buf_size)
            if rc:
                return rc
            self._create()
            assert self.rings is not None
            self._set_native(np.ones(ad.num_io_queues, dtype=bool))
            if ad.driver is None:
                return self._up_or_restore()
            rc = self.sizes_refused(ad.driver)
            if rc:
                self._set_native(np.zeros(ad.num_io_queues, dtype=bool))
                self._release()
                return rc
            self.rings.bind(ad.driver)
            nm_rfc.enter(self.rings)
            return 0
        self._set_native(np.zeros(ad.num_io_queues, dtype=bool))
        self.port = None
        if ad.driver is None or self.rings is None or self.rings._drv is None:
            self._release()
            return 0
        nm_rfc.leave(self.rings)
        self.leaving = True
        self.drain(np.arange(ad.num_io_queues))
        if self.leaving and self.rx_exit == "reset":
            self._reset_rx()
        return 0

    def _reset_rx(self) -> None:
        """The reset exit (:mod:`impl.ena.nm_rfc`): every RX queue whose ids still hold
        netmap buffers destroyed and created again, one after the other (admin commands
        are sequential), the RSS indirection table set again if a queue came back with
        another device index.  A failed command triggers the reset -- the reason
        ``check_for_admin_com_state`` would give a stopped admin queue, else
        DRIVER_INVALID_STATE -- and stops here: the reset task's ``ena_down`` frees what
        is left (:meth:`down_free`).  The registration ends now if no netmap TX packet is
        in flight, else with the last TX completion (:meth:`drain`)."""
        rings, ad = self.rings, self.adapter
        assert rings is not None
        drv = rings.drv
        for q in nm_rfc.rx_holding(rings).tolist():  # admin commands, one queue at a time
            if not drv.datapath_up:
                return
            sq = int(drv.sq_idx[q, 1])
            rc, got = nm_rfc.reset_rx_ring(rings, q)
            ad.to_stack(got)
            if rc == 0 and int(drv.sq_idx[q, 1]) != sq:
                rc = self._rss_again(drv)
            if rc:
                ad.reset.trigger(ad.admin_stopped_reason() or ResetReason.DRIVER_INVALID_STATE)
                return
        if drv.datapath_up and not drv.xmit_held and nm_rfc.rx_drained(rings):
            self._release()

    def _rss_again(self, drv: EnaDriver) -> int:
        """``ena_rss_configure``'s table: SET again with the RX SQs' device indices of
        now (0 if RSS is off or the device does not support the feature)."""
        ad = self.adapter
        com, rss = ad.com, ad.rss
        if not ad.rss_active or rss is None or rss.table is None or com is None \
                or com.aq is None:
            return 0
        rc = indirect_table_set(com.aq, com.com, rss.table, drv.sq_idx[:, 1])
        return 0 if rc == errno.EOPNOTSUPP else rc

    def drain(self, qs: np.ndarray) -> None:
        """An IO interrupt while leaving (:func:`impl.ena.nm_rfc.drain`), its packets up
        the stack; once no netmap packet is in flight the stack's transmit restarts, and
        once the device holds no netmap buffer the memory goes."""
        rings = self.rings
        assert rings is not None and self.leaving
        self.adapter.to_stack(nm_rfc.drain(rings, qs))
        if self.adapter.reset.triggered:
            return
        if rings.drv.xmit_held and nm_rfc.tx_drained(rings):
            nm_rfc.restart_tx(rings)
        if not rings.drv.xmit_held and nm_rfc.rx_drained(rings):
            self._release()

    def _reg_classic(self, onoff: bool, pairs: np.ndarray) -> int:
        """ena_netmap_reg: 0, or the error of ``ena_up`` (after destroy/restore)."""
        ad = self.adapter
        if self.rings is None:  # no registration: no ring in netmap mode, of today's count
            self.on = np.zeros(ad.num_io_queues, dtype=bool)
            if onoff:
                self._create()
        if not self.hardened:
            ad.reset.clear_flag()
        ad.down()
        self._set_native(self.on | pairs if onoff else self.on & ~pairs)
        return self._up_or_restore()

    def _up_or_restore(self) -> int:
        """``ena_up``; on failure ``DRIVER_INVALID_STATE``, native flags off,
        destroy/restore.  The registration ends unless the rings are native."""
        ad = self.adapter
        rc = self.up_error = ad.up()
        if rc != 0:
            ad.reset.reason = ResetReason.DRIVER_INVALID_STATE
            self._set_native(np.zeros(self.on.size, dtype=bool))
            ad.destroy_device(graceful=False)
            ad.flags.dev_up_before_reset = True
            rc = ad.restore_device()
        if not self.native:
            self._release()
        return rc

    # -- hooks of ena_up / ena_down
    def sizes_refused(self, drv: EnaDriver) -> int:
        """ENOMEM when ``ena_up`` backed its rings off (host memory ran out) below the
        netmap rings of the registration, which netmap sized at NIOCREGIF from the
        requested sizes; 0 otherwise.  The C carries on with a kring larger than the
        ENA ring it indexes (a mismatch nothing checks); ringspec fails ``ena_up`` so
        ena_netmap_reg's failure path brings the interface back in mbuf mode."""
        rings = self.rings
        if not self.native or rings is None:
            return 0
        cfg = drv.cfg
        same = (cfg.num_queues, cfg.tx_ring_size, cfg.rx_ring_size) == (
            rings.tx.count, rings.num_slots, rings.num_slots)
        return 0 if same else errno.ENOMEM

    def up_fill(self, drv: EnaDriver) -> bool:
        """``ena_up``'s setup and fill for rings in netmap mode; False: not in netmap
        mode (the mbuf fill runs)."""
        if not self.native or self.rings is None:
            return False
        rings, on = self.rings, self.on
        qs = np.flatnonzero(on)
        rings.bind(drv)
        netmap_reset(rings.tx, qs)
        netmap_reset(rings.rx, qs)

        def fill(all_qs: np.ndarray) -> None:
            nm_rx.initial_fill(rings, all_qs[on[all_qs]])
            mbuf = all_qs[~on[all_qs]]
            drv.rx.refill(mbuf, np.full(mbuf.size, drv.cfg.rx_ring_size - 1))

        drv.up(fill=fill)
        if self.strategy == "rfc":
            drv.xmit_held = True
        else:
            drv.netmap_tx = on.copy()
        if self.port is not None:
            self.port.bound = on.copy()
        return True

    def down_free(self) -> None:
        """``ena_down``'s frees for rings in netmap mode (see the module docstring)."""
        rings = self.rings
        if self.leaving and rings is not None:
            nm_rfc.abandon(rings)
            self._release()
            return
        if not self.native or rings is None or rings._drv is None:
            return
        self._free_rx(rings)
        self._free_tx(rings)
        rings.bind(None)

    @staticmethod
    def _free_rx(rings: EnaNetmapRings) -> None:
        """ena_netmap_free_rx_slot for every posted id, in id order."""
        kr, n = rings.rx, rings.num_slots
        q, rid = np.nonzero(rings.rx_buf)
        k = np.arange(q.size) - np.searchsorted(q, q)
        slot = (kr.hwcur[q] - 1 - k) % n
        kr.slot_buf_idx[q, slot] = rings.rx_buf[q, rid]
        kr.slot_flags[q, slot] = NS_BUF_CHANGED
        kr.hwcur[:] = (kr.hwcur - np.bincount(q, minlength=kr.count)) % n
        rings.rx_buf[:] = 0

    def _free_tx(self, rings: EnaNetmapRings) -> None:
        """ena_free_tx_resources: as shipped the in-flight packets' buffers are dropped;
        hardened they go back to the slots after ``nr_hwtail`` in send order."""
        if not self.hardened:
            return
        tx, kr, n = rings.drv.tx, rings.tx, rings.num_slots
        mask = tx.cfg.depth - 1
        nq = kr.count
        used = ((tx.next_to_use - tx.next_to_clean) & mask).astype(np.int64)
        q = np.repeat(np.arange(nq), used)
        j = np.arange(q.size) - np.repeat(np.cumsum(used) - used, used)
        rid = tx.free_ids[q, (tx.next_to_clean[q] + j) & mask]
        socks = rings.tx_sockets[q, rid]
        tot = np.bincount(q, weights=socks, minlength=nq).astype(np.int64)
        before = np.cumsum(socks) - socks - (np.cumsum(tot) - tot)[q]
        s_of = np.repeat(np.arange(q.size), socks)
        s_k = np.arange(int(socks.sum())) - np.repeat(np.cumsum(socks) - socks, socks)
        sq = q[s_of]
        slot = (kr.hwtail[sq] + 1 + before[s_of] + s_k) % n
        kr.slot_buf_idx[sq, slot] = rings.tx_socket_buf[sq, rid[s_of], s_k]
        kr.slot_flags[sq, slot] = NS_BUF_CHANGED
        kr.hwtail[:] = (kr.hwtail + tot) % n
