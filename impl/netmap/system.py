"""The netmap control device over a set of interfaces: ``/dev/netmap`` handles,
NIOCGINFO / NETMAP_REQ_PORT_INFO_GET, NIOCREGIF with adapter selection (``admode``),
generic adapters created on demand and destroyed with their last user, the ring
configuration taken from the driver only while no handle is active, and the errno of each
refusal.  The rules are :mod:`model.netmap_admode`; the per-adapter bindings and kring
lifetimes are :class:`impl.netmap.control.PortControl` (:mod:`model.netmap_regif`).

Errors, as netmap_ioctl and netmap_get_na give them (every refusal changes nothing):
EINVAL for an API version out of range (the 2013 NIOCGINFO also reports the kernel's),
ENXIO for a name no interface has, EOPNOTSUPP for ``admode`` NATIVE on an interface
without native support, EBUSY for an interface a switch owns (``NETMAP_OWNED_BY_KERN``)
or a handle already registered, EBADF for a handle that is not open, and PortControl's
own (bad mode or ring id, a ring held exclusively).

ringspec gives every adapter its own memory sized for its rings (``nr_memsize``: the
rings, host rings included, and one buffer per slot plus one ring's worth of extra
buffers), where netmap shares one global allocator of module-parameter size.

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2929
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1567
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2796
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

from impl.netmap.control import NETMAP_MIN_LEGACY_API, PortControl, register_from_legacy
from impl.netmap.mem import NetmapMemory
from model.netmap_admode import (
    ADMODE_BEST,
    GENERIC,
    NATIVE,
    NETMAP_API,
    RingConfig,
    admode_in_effect,
    api_accepted,
    hw_adapter,
    updated_config,
)

BUF_SIZE = 2048
HOST_RINGS = 1


@dataclass
class Ifnet:
    """An interface as the driver describes it: native netmap support, the ring
    configuration its ``nm_config`` reports now, and whether a switch owns it."""

    name: str
    native: bool
    reported: RingConfig
    owned_by_switch: bool = False


@dataclass
class Adapter:
    """``NA(ifp)``: its kind, the configuration it uses, its handles' bookkeeping."""

    kind: str
    config: RingConfig
    control: PortControl
    config_warnings: int = 0
    """"configuration changed while active" log lines."""

    @property
    def active_fds(self) -> int:
        return self.control.active_fds


@dataclass(frozen=True)
class PortInfo:
    """The fields NETMAP_REQ_PORT_INFO_GET / NIOCGINFO fill in."""

    nr_version: int
    nr_memsize: int
    nr_tx_rings: int
    nr_rx_rings: int
    nr_tx_slots: int
    nr_rx_slots: int
    nr_host_tx_rings: int
    nr_host_rx_rings: int


def memsize(cfg: RingConfig) -> int:
    """The bytes of an adapter's memory for configuration ``cfg`` (see the module
    docstring)."""
    slots = max(cfg.tx_slots, cfg.rx_slots)
    rings = cfg.tx_rings + cfg.rx_rings + 2 * HOST_RINGS
    return NetmapMemory.arena_size(rings, slots, BUF_SIZE, 2 + rings * slots + slots)


@dataclass
class NetmapSystem:
    """The interfaces, their adapters and the open ``/dev/netmap`` handles."""

    admode: int = ADMODE_BEST
    """``dev.netmap.admode``."""
    ifaces: dict[str, Ifnet] = field(default_factory=dict)
    adapters: dict[str, Adapter] = field(default_factory=dict)
    """The adapter attached to each interface now (``NA(ifp)``)."""
    saved_native: dict[str, Adapter] = field(default_factory=dict)
    """A native adapter set aside while a generic one is attached in its place."""
    handles: dict[int, str | None] = field(default_factory=dict)
    _next: int = 3

    # ------------------------------------------------------------------ interfaces

    def attach(self, name: str, native: bool, config: RingConfig) -> None:
        """An interface appears; a native driver attaches its adapter (netmap_attach)."""
        if name in self.ifaces:
            raise ValueError(f"interface {name!r} exists already")
        _check_config(config)
        self.ifaces[name] = Ifnet(name, native, config)
        if native:
            self.adapters[name] = self._new_adapter(NATIVE, config)

    def reconfigure(self, name: str, config: RingConfig) -> None:
        """The driver's ring configuration changes (``ethtool -L``, a sysctl): what its
        ``nm_config`` reports from now on."""
        _check_config(config)
        self.ifaces[name].reported = config

    def attach_to_switch(self, name: str) -> int:
        """A VALE switch takes the interface (``vale-ctl -a``): its adapter becomes
        owned by the kernel; EBUSY if handles have it open, ENXIO if there is no such
        interface."""
        got = self._get_na(name)
        if isinstance(got, int):
            return got
        if got.active_fds > 0:
            self._unget(name)
            return errno.EBUSY
        self.ifaces[name].owned_by_switch = True
        return 0

    def detach_from_switch(self, name: str) -> None:
        """``vale-ctl -d``: the switch lets the interface go."""
        self.ifaces[name].owned_by_switch = False
        self._unget(name)

    @staticmethod
    def _new_adapter(kind: str, cfg: RingConfig) -> Adapter:
        return Adapter(kind, cfg, PortControl(cfg.tx_rings, cfg.rx_rings,
                                              host_rings=HOST_RINGS,
                                              ring_size=max(cfg.tx_slots, cfg.rx_slots)))

    def _update_config(self, name: str) -> Adapter:
        """netmap_update_config on the interface's adapter."""
        na = self.adapters[name]
        cfg, refused = updated_config(na.config, self.ifaces[name].reported, na.active_fds)
        if refused:
            na.config_warnings += 1
        elif cfg != na.config:
            fresh = self._new_adapter(na.kind, cfg)
            na.config, na.control = cfg, fresh.control
        return na

    def _get_na(self, name: str) -> Adapter | int:
        """netmap_get_na for a hardware interface: the adapter, or ENXIO / EOPNOTSUPP."""
        ifp = self.ifaces.get(name)
        if ifp is None:
            return errno.ENXIO
        self.admode = admode_in_effect(self.admode)
        na = self.adapters.get(name)
        in_use = na is not None and (na.active_fds > 0 or ifp.owned_by_switch)
        got = hw_adapter(self.admode, ifp.native, None if na is None else na.kind, in_use)
        if isinstance(got, int):
            return got
        if na is not None and got == na.kind:
            return na
        if na is not None:  # generic in place of an unused native adapter
            self.saved_native[name] = na
        self.adapters[name] = self._new_adapter(GENERIC, ifp.reported)
        return self.adapters[name]

    def _unget(self, name: str) -> None:
        """The last reference to a generic adapter goes: it is destroyed, and a native
        adapter set aside comes back."""
        na = self.adapters.get(name)
        owned = self.ifaces[name].owned_by_switch
        if na is None or na.kind != GENERIC or na.active_fds > 0 or owned:
            return
        del self.adapters[name]
        if name in self.saved_native:
            self.adapters[name] = self.saved_native.pop(name)

    # ------------------------------------------------------------------ requests

    def port_info(self, name: str, version: int = NETMAP_API,
                  legacy: bool = False) -> tuple[int, PortInfo | None]:
        """NETMAP_REQ_PORT_INFO_GET (``legacy``: the 2013 NIOCGINFO): 0 and the info, or
        the errno (with ``legacy``, an API mismatch still reports the kernel's version in
        the info's ``nr_version``; everything else in it is 0)."""
        if not api_accepted(version):
            if legacy:
                return errno.EINVAL, PortInfo(NETMAP_API, 0, 0, 0, 0, 0, 0, 0)
            return errno.EINVAL, None
        got = self._get_na(name)
        if isinstance(got, int):
            return got, None
        na = self._update_config(name)
        cfg = na.config
        info = PortInfo(version, memsize(cfg), cfg.tx_rings, cfg.rx_rings, cfg.tx_slots,
                        cfg.rx_slots, HOST_RINGS, HOST_RINGS)
        self._unget(name)
        return 0, info

    def open(self) -> int:
        """open("/dev/netmap")."""
        h = self._next
        self._next += 1
        self.handles[h] = None
        return h

    def register(self, handle: int, name: str, mode: int, ringid: int = 0, flags: int = 0,
                 version: int = NETMAP_API) -> int:
        """NIOCREGIF (NETMAP_REQ_REGISTER): 0 or the errno."""
        if not api_accepted(version):
            return errno.EINVAL
        if handle not in self.handles:
            return errno.EBADF
        if self.handles[handle] is not None:
            return errno.EBUSY
        got = self._get_na(name)
        if isinstance(got, int):
            return got
        if self.ifaces[name].owned_by_switch:
            self._unget(name)
            return errno.EBUSY
        na = self._update_config(name) if got.active_fds == 0 else got
        h = na.control.open()
        rc = na.control.regif(h, mode, ringid, flags, version)
        if rc:
            na.control.close(h)
            self._unget(name)
            return rc
        self.handles[handle] = name
        self._bound[handle] = h
        return 0

    def register_legacy(self, handle: int, name: str, nr_ringid: int, nr_flags: int = 0,
                        version: int = NETMAP_API) -> int:
        """The original NIOCREGIF (struct nmreq): EINVAL for ``nr_version`` below 14, else
        the request converted (:func:`impl.netmap.control.register_from_legacy`) and run
        as NETMAP_REQ_REGISTER at the kernel's own API version (netmap_ioctl_legacy):
        https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_legacy.c#L361
        """
        if version < NETMAP_MIN_LEGACY_API:
            return errno.EINVAL
        mode, ringid, flags = register_from_legacy(nr_ringid, nr_flags)
        return self.register(handle, name, mode, ringid, flags)

    def close(self, handle: int) -> int:
        """close(): the handle's registration ends (the last one's generic adapter with
        it); EBADF if it is not open."""
        if handle not in self.handles:
            return errno.EBADF
        name = self.handles.pop(handle)
        if name is not None:
            self.adapters[name].control.close(self._bound.pop(handle))
            self._unget(name)
        return 0

    def system_handles(self, bound: set[int]) -> set[int]:
        """The ``/dev/netmap`` handles of the adapters' PortControl handles ``bound``."""
        back = {c: s for s, c in self._bound.items()}
        return {back[c] for c in bound}

    def asleep(self, name: str, t: int) -> set[int]:
        """The handles asleep on direction ``t`` of the interface's adapter."""
        return self.system_handles(self.adapters[name].control.waits.asleep(t))

    def __post_init__(self) -> None:
        self._bound: dict[int, int] = {}
        """System handle -> the adapter's PortControl handle."""


def _check_config(cfg: RingConfig) -> None:
    if min(cfg.tx_rings, cfg.rx_rings) < 1 or min(cfg.tx_slots, cfg.rx_slots) < 2:
        raise ValueError(f"need at least one ring each way and 2 slots per ring: {cfg}")
