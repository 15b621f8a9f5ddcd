"""Which adapter a netmap request gets, and when an interface's ring configuration is
taken: the rules of netmap's control path around NIOCREGIF and NIOCGINFO, as plain
functions (no state machine: each is one decision of the C).

* The API version (``NIOCCTRL``, netmap_ioctl:
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2774):
  a request whose ``nr_version`` is outside ``[NETMAP_MIN_API, NETMAP_MAX_API]`` is
  EINVAL.  The 2013 NIOCGINFO also wrote the kernel's ``NETMAP_API`` back into the request
  (https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1345),
  so the user could print what the kernel speaks; today's NIOCCTRL does not.
* The adapter (netmap_get_hw_na and its table:
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1478):
  an adapter already attached to the interface is returned when it is in use (open file
  descriptors, or owned by a switch) or the admode is not GENERIC; otherwise NATIVE admode
  without native support is EOPNOTSUPP and anything else gets a generic (emulated) adapter,
  created on demand.  An ``admode`` out of range is reset to BEST first.
* The configuration (netmap_update_config:
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L762):
  what the driver reports (ring counts and sizes) is adopted while no file descriptor is
  active; while one is, the adapter keeps its configuration and netmap logs "configuration
  changed while active".
"""

from __future__ import annotations

import errno
from typing import NamedTuple

NETMAP_API, NETMAP_MIN_API, NETMAP_MAX_API = 14, 14, 15
ADMODE_BEST, ADMODE_NATIVE, ADMODE_GENERIC = 0, 1, 2
ADMODE_NAMES = {ADMODE_BEST: "best", ADMODE_NATIVE: "native", ADMODE_GENERIC: "generic"}
NATIVE, GENERIC = "native", "generic"


def api_accepted(version: int) -> bool:
    """NIOCCTRL accepts ``nr_version`` in ``[NETMAP_MIN_API, NETMAP_MAX_API]``."""
    return NETMAP_MIN_API <= version <= NETMAP_MAX_API


def admode_in_effect(admode: int) -> int:
    """``dev.netmap.admode`` as netmap_get_hw_na uses it: an invalid value is BEST (and
    the sysctl is reset to it)."""
    return admode if ADMODE_BEST <= admode <= ADMODE_GENERIC else ADMODE_BEST


def hw_adapter(admode: int, native_support: bool, attached: str | None,
               in_use: bool) -> str | int:
    """The adapter netmap_get_hw_na returns for an interface: ``attached`` (the kind of
    adapter the interface has now, None if none), ``"generic"`` (a generic adapter is
    created), or EOPNOTSUPP.  ``in_use``: the attached adapter has open file descriptors
    or a switch owns it."""
    mode = admode_in_effect(admode)
    if attached is not None and (in_use or mode != ADMODE_GENERIC):
        return attached
    if not native_support and mode == ADMODE_NATIVE:
        return errno.EOPNOTSUPP
    return GENERIC


class RingConfig(NamedTuple):
    """``num_tx_rings``, ``num_tx_desc``, ``num_rx_rings``, ``num_rx_desc``."""

    tx_rings: int
    tx_slots: int
    rx_rings: int
    rx_slots: int


def updated_config(current: RingConfig, reported: RingConfig,
                   active_fds: int) -> tuple[RingConfig, bool]:
    """(the adapter's configuration after netmap_update_config, whether the change was
    refused because file descriptors are active)."""
    if current == reported:
        return current, False
    if active_fds == 0:
        return reported, False
    return current, True
