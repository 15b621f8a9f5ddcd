"""Which adapter a netmap request gets, and when an interface's ring configuration is
taken: the rules of netmap's control path around NIOCREGIF and NIOCGINFO, each one
decision of the C, written over :mod:`model.core`'s terms so that they serve both the
implementation (concrete values) and the proofs: :mod:`model.netmap_adapter_select` makes
them one interface's state machine and proves what they keep across requests.

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

from model.core import And, Eq, If, Not, Or, Term

NETMAP_API, NETMAP_MIN_API, NETMAP_MAX_API = 14, 14, 15
ADMODE_BEST, ADMODE_NATIVE, ADMODE_GENERIC = 0, 1, 2
ADMODE_NAMES = {ADMODE_BEST: "best", ADMODE_NATIVE: "native", ADMODE_GENERIC: "generic"}
NATIVE, GENERIC = "native", "generic"


def api_accepted(version: int) -> bool:
    """NIOCCTRL accepts ``nr_version`` in ``[NETMAP_MIN_API, NETMAP_MAX_API]``."""
    return NETMAP_MIN_API <= version <= NETMAP_MAX_API


#: Adapter kinds as the state machine of :mod:`model.netmap_adapter_select` codes them,
#: and the lookup's refusal (EOPNOTSUPP).
NO_NA, NATIVE_NA, GENERIC_NA, REFUSED = 0, 1, 2, 3
_KIND_CODE = {None: NO_NA, NATIVE: NATIVE_NA, GENERIC: GENERIC_NA}
_CODE_KIND: dict[int, str | int] = {NATIVE_NA: NATIVE, GENERIC_NA: GENERIC,
                                    REFUSED: errno.EOPNOTSUPP}


def admode_in_effect(admode: Term) -> Term:
    """``dev.netmap.admode`` as netmap_get_hw_na uses it: an invalid value is BEST (and
    the sysctl is reset to it)."""
    return If(And(admode >= ADMODE_BEST, admode <= ADMODE_GENERIC), admode, ADMODE_BEST)


def hw_adapter_code(mode: Term, native_support: Term, attached: Term, in_use: Term) -> Term:
    """netmap_get_hw_na's choice, coded: ``attached`` (a kind code) when there is one and
    it is in use or ``mode`` (already in effect) is not GENERIC; REFUSED for NATIVE
    without native support; otherwise GENERIC_NA (a generic adapter is created)."""
    keep = And(Not(Eq(attached, NO_NA)), Or(in_use, Not(Eq(mode, ADMODE_GENERIC))))
    refuse = And(Not(native_support), Eq(mode, ADMODE_NATIVE))
    return If(keep, attached, If(refuse, REFUSED, GENERIC_NA))


def hw_adapter(admode: int, native_support: bool, attached: str | None,
               in_use: bool) -> str | int:
    """The adapter netmap_get_hw_na returns for an interface: ``attached`` (the kind of
    adapter the interface has now, None if none), ``"generic"`` (a generic adapter is
    created), or EOPNOTSUPP.  ``in_use``: the attached adapter has open file descriptors
    or a switch owns it."""
    code = hw_adapter_code(admode_in_effect(admode), native_support, _KIND_CODE[attached],
                           in_use)
    return _CODE_KIND[int(code)]


class RingConfig(NamedTuple):
    """``num_tx_rings``, ``num_tx_desc``, ``num_rx_rings``, ``num_rx_desc``."""

    tx_rings: int
    tx_slots: int
    rx_rings: int
    rx_slots: int


def updated_config(current: Term, reported: Term,
                   active_fds: Term) -> tuple[Term, Term]:
    """(the adapter's configuration after netmap_update_config, whether the change was
    refused because file descriptors are active)."""
    idle = Eq(active_fds, 0)
    return If(idle, reported, current), And(Not(Eq(current, reported)), Not(idle))
