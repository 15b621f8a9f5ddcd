"""NIOCREGIF and close on one adapter: bindings, per-ring modes and lifetimes, with errno.

The model is :mod:`model.netmap_regif` (one kring seen by the handles); this is the whole
adapter: every TX and RX ring, hardware and host, as arrays, and the handles (open
``/dev/netmap`` file descriptors) with their bindings.  A handle's binding is computed as
``netmap_interp_ringid`` does
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1899):
``NR_REG_ALL_NIC`` / ``NR_REG_NULL`` all hardware rings, ``NR_REG_SW`` the host rings,
``NR_REG_NIC_SW`` both, ``NR_REG_ONE_NIC`` / ``NR_REG_ONE_SW`` one ring (the first when the
direction has fewer), each direction dropped by ``NR_TX_RINGS_ONLY`` / ``NR_RX_RINGS_ONLY``.
Registration and close follow ``netmap_do_regif`` / ``netmap_do_unregif`` and
``netmap_krings_get`` / ``put`` (the model's docstring has the rules).  Every refused call
returns the errno netmap returns and changes nothing.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

import numpy as np

from impl.netmap.intr import SelWaits
from model.netmap_regif import KringUse

NETMAP_API, NETMAP_MIN_API, NETMAP_MAX_API = 14, 14, 15
NR_REG_ALL_NIC, NR_REG_SW, NR_REG_NIC_SW, NR_REG_ONE_NIC = 1, 2, 3, 4
NR_REG_NULL, NR_REG_ONE_SW = 7, 8
NR_EXCLUSIVE, NR_RX_RINGS_ONLY, NR_TX_RINGS_ONLY = 0x800, 0x2000, 0x4000
NR_DO_RX_POLL, NR_NO_TX_POLL = 0x10000, 0x20000
TX, RX = 0, 1

# the original control API (struct nmreq, sys/net/netmap_legacy.h)
NR_REG_MASK = 0xF
NR_REG_PIPE_MASTER, NR_REG_PIPE_SLAVE = 5, 6
NETMAP_RING_MASK, NETMAP_NO_TX_POLL = 0x0FFF, 0x1000
NETMAP_SW_RING, NETMAP_HW_RING, NETMAP_DO_RX_POLL = 0x2000, 0x4000, 0x8000
NETMAP_MIN_LEGACY_API = 14
"""netmap_ioctl_legacy refuses an ``nr_version`` below 14 (EINVAL) and, converting the
request, checks no upper bound."""


def register_from_legacy(nr_ringid: int, nr_flags: int) -> tuple[int, int, int]:
    """``nmreq_register_from_legacy``: an old NIOCREGIF's ``(nr_ringid, nr_flags)`` as
    the ``(mode, ringid, flags)`` of a NETMAP_REQ_REGISTER.  With no mode in ``nr_flags``
    (NR_REG_DEFAULT, the original API) the ring id bits choose it: NETMAP_SW_RING the host
    rings, NETMAP_HW_RING one hardware ring pair, neither all of them; the ring number is
    the low 12 bits either way, and NETMAP_NO_TX_POLL / NETMAP_DO_RX_POLL become
    NR_NO_TX_POLL / NR_DO_RX_POLL.  ValueError for the pipe modes (ringspec has no
    pipes; netmap renames the request to a pipe port):
    https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_legacy.c#L62
    """
    mode = nr_flags & NR_REG_MASK
    if mode in (NR_REG_PIPE_MASTER, NR_REG_PIPE_SLAVE):
        raise ValueError("netmap pipes are not modelled (NR_REG_PIPE_MASTER/SLAVE)")
    if mode == 0:
        mode = (NR_REG_SW if nr_ringid & NETMAP_SW_RING else
                NR_REG_ONE_NIC if nr_ringid & NETMAP_HW_RING else NR_REG_ALL_NIC)
    flags = nr_flags & ~NR_REG_MASK
    flags |= NR_NO_TX_POLL if nr_ringid & NETMAP_NO_TX_POLL else 0
    flags |= NR_DO_RX_POLL if nr_ringid & NETMAP_DO_RX_POLL else 0
    return mode, nr_ringid & NETMAP_RING_MASK, flags


@dataclass(frozen=True)
class Binding:
    """The rings ``[first[t], last[t])`` of each direction a handle is bound to (host
    rings follow the hardware ones), and its flags."""

    first: tuple[int, int]
    last: tuple[int, int]
    flags: int

    @property
    def exclusive(self) -> bool:
        return bool(self.flags & NR_EXCLUSIVE)


class PortControl:
    """One adapter's krings bookkeeping and the handles open on it."""

    def __init__(self, tx_rings: int, rx_rings: int, *, host_rings: int = 1,
                 ring_size: int = 512) -> None:
        if min(tx_rings, rx_rings) < 1 or host_rings < 0:
            raise ValueError("need at least one TX and one RX ring, host_rings >= 0")
        self.hw = (tx_rings, rx_rings)
        self.host = host_rings
        self.ring_size = ring_size
        total = [h + host_rings for h in self.hw]
        self.users = [np.zeros(t, dtype=np.int64) for t in total]
        self.pending = [np.zeros(t, dtype=bool) for t in total]
        self.mode = [np.zeros(t, dtype=bool) for t in total]
        self.exclusive = [np.zeros(t, dtype=bool) for t in total]
        self.active_fds = 0
        self.native = False
        self.krings = False
        self.handles: dict[int, Binding | None] = {}
        self._next_handle = 3
        self.waits = SelWaits()
        """The selinfos and the handles asleep on them (poll())."""

    def __repr__(self) -> str:
        bound = {h: b for h, b in self.handles.items() if b is not None}
        return (f"PortControl(hw={self.hw}, host={self.host}, active_fds={self.active_fds}, "
                f"native={self.native}, krings={self.krings}, "
                f"users=(tx={self.users[TX].tolist()}, rx={self.users[RX].tolist()}), "
                f"mode=(tx={self.mode[TX].astype(int).tolist()}, "
                f"rx={self.mode[RX].astype(int).tolist()}), bound={bound})")

    # ------------------------------------------------------------------ handles

    def open(self) -> int:
        """open("/dev/netmap"): a handle with no binding yet."""
        h = self._next_handle
        self._next_handle += 1
        self.handles[h] = None
        return h

    def binding(self, mode: int, ringid: int = 0, flags: int = 0) -> Binding | int:
        """The rings a NIOCREGIF request selects, or EINVAL."""
        first, last = [0, 0], [0, 0]
        for t in (TX, RX):
            if flags & (NR_TX_RINGS_ONLY if t == RX else NR_RX_RINGS_ONLY):
                continue
            hw = self.hw[t]
            if mode in (NR_REG_ALL_NIC, NR_REG_NULL):
                first[t], last[t] = 0, hw
            elif mode in (NR_REG_SW, NR_REG_NIC_SW):
                if not self.host:
                    return errno.EINVAL
                first[t], last[t] = (hw if mode == NR_REG_SW else 0), hw + self.host
            elif mode == NR_REG_ONE_NIC:
                if ringid >= self.hw[TX] and ringid >= self.hw[RX]:
                    return errno.EINVAL
                j = ringid if ringid < hw else 0
                first[t], last[t] = j, j + 1
            elif mode == NR_REG_ONE_SW:
                if not self.host or ringid >= self.host:
                    return errno.EINVAL
                first[t], last[t] = hw + ringid, hw + ringid + 1
            else:
                return errno.EINVAL
        return Binding((first[TX], first[RX]), (last[TX], last[RX]), flags)

    def regif(self, handle: int, mode: int, ringid: int = 0, flags: int = 0,
              version: int = NETMAP_API) -> int:
        """NIOCCTRL / NETMAP_REQ_REGISTER; returns 0 or the errno, state unchanged on
        error: EINVAL for an API version out of [NETMAP_MIN_API, NETMAP_MAX_API] or a bad
        mode / ring id, EBADF for a handle that is not open, EBUSY for a handle already
        registered or a ring held exclusively (or in use, for NR_EXCLUSIVE)."""
        if not NETMAP_MIN_API <= version <= NETMAP_MAX_API:
            return errno.EINVAL
        if handle not in self.handles:
            return errno.EBADF
        if self.handles[handle] is not None:
            return errno.EBUSY
        b = self.binding(mode, ringid, flags)
        if isinstance(b, int):
            return b
        sel = self._selected(b)
        busy = any((self.exclusive[t][s].any() or (b.exclusive and self.users[t][s].any()))
                   for t, s in sel)
        if busy:
            return errno.EBUSY
        self.krings = True
        for t, s in sel:
            self.users[t][s] += 1
            self.pending[t][s] = True
            self.exclusive[t][s] |= b.exclusive
        if self.active_fds == 0 or self._switching(sel):
            self._register(on=True)
        self.active_fds += 1
        self.handles[handle] = b
        self.waits.set_ringid(b)
        return 0

    def close(self, handle: int) -> int:
        """close(): unregister (if registered) and forget the handle; EBADF if not open."""
        if handle not in self.handles:
            return errno.EBADF
        b = self.handles.pop(handle)
        if b is None:
            return 0
        self.waits.unset_ringid(handle, b)
        sel = self._selected(b)
        self.active_fds -= 1
        for t, s in sel:
            self.users[t][s] -= 1
            if b.exclusive:
                self.exclusive[t][s] = False
            self.pending[t][s] &= self.users[t][s] > 0
        if self.active_fds == 0 or self._switching(sel):
            self._register(on=False)
        if self.active_fds == 0:
            self.krings = False
        return 0

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _selected(b: Binding) -> list[tuple[int, slice]]:
        return [(t, slice(b.first[t], b.last[t])) for t in (TX, RX)]

    def _switching(self, sel: list[tuple[int, slice]]) -> bool:
        """nm_kring_pending(priv): one of the handle's rings has pending != mode."""
        return any((self.pending[t][s] != self.mode[t][s]).any() for t, s in sel)

    def _register(self, on: bool) -> None:
        """The driver's nm_register(na, on): commit the rings pending on (off), and set
        (clear) the native flags for the first (last) handle."""
        for t in (TX, RX):
            if on:
                self.mode[t] |= self.pending[t]
            else:
                self.mode[t] &= self.pending[t]
        if self.active_fds == 0:
            self.native = on

    # ------------------------------------------------------------------ the model's view

    def abstract(self, t: int, ring: int, ebusy: int = 0) -> KringUse:
        """Ring ``ring`` of direction ``t`` as the model sees it."""
        users = int(self.users[t][ring])
        return KringUse(
            n=self.ring_size, users=users, others=self.active_fds - users,
            active_fds=self.active_fds, pending=int(self.pending[t][ring]),
            mode=int(self.mode[t][ring]), exclusive=int(self.exclusive[t][ring]),
            native=int(self.native), krings=int(self.krings), ebusy=ebusy,
        )
