"""Where each modelled rule comes from: the upstream C, pinned to a commit.

Every citation in model/, impl/ and the generated docs points into luigirizzo/netmap at one
of two commits: :data:`NETMAP_COMMIT` (today's code, NETMAP_API 14) or
:data:`NETMAP_2013_COMMIT` (the cur/avail/reserved API, NETMAP_API 5, the last version
before head/cur/tail).  :data:`SYMBOLS` names the functions and structures the model
follows, with the file and line where each starts at that commit, so docs can link them by
name (:func:`link`) and a test can check that every permalink in a docstring is one of
them.
"""

from __future__ import annotations

from typing import NamedTuple

NETMAP_REPO = "https://github.com/luigirizzo/netmap"
#: luigirizzo/netmap master on 2026-02-10.
NETMAP_COMMIT = "89607e1406c1fa5ac2106bd2ff33417f090c0d60"
#: "merge with HEAD", 2013-12-02: the legacy API just before commit 7b16969f introduced
#: head/cur/tail (NETMAP_API 5 -> 10).
NETMAP_2013_COMMIT = "95b478cfb7cbc07519092615c7c9481e7a5d14a6"


class Symbol(NamedTuple):
    """A C function, macro or structure at a pinned commit."""

    path: str
    line: int
    commit: str = NETMAP_COMMIT

    @property
    def url(self) -> str:
        return f"{NETMAP_REPO}/blob/{self.commit}/{self.path}#L{self.line}"


_C = "sys/dev/netmap/netmap.c"
_KERN = "sys/dev/netmap/netmap_kern.h"
_H = "sys/net/netmap.h"
_USER = "sys/net/netmap_user.h"

#: Name -> where it starts.  Names are the C identifiers; a call site is named after its
#: caller and the ioctl or event it handles.
SYMBOLS: dict[str, Symbol] = {
    "struct netmap_slot": Symbol(_H, 163),
    "struct netmap_ring": Symbol(_H, 285),
    "nm_ring_next": Symbol(_USER, 143),
    "nm_tx_pending": Symbol(_USER, 154),
    "nm_ring_space": Symbol(_USER, 162),
    "nm_ring_empty": Symbol(_H, 358),
    "struct netmap_kring": Symbol(_KERN, 411),
    "nm_next": Symbol(_KERN, 611),
    "nm_prev": Symbol(_KERN, 619),
    "NAF_FORCE_RECLAIM": Symbol(_KERN, 860),
    "nm_kr_rxspace": Symbol(_KERN, 1188),
    "netmap_krings_create": Symbol(_C, 850),
    "netmap_krings_create (initial indices)": Symbol(_C, 922),
    "NM_FAIL_ON": Symbol(_C, 1693),
    "nm_txsync_prologue": Symbol(_C, 1721),
    "nm_rxsync_prologue": Symbol(_C, 1785),
    "netmap_ring_reinit": Symbol(_C, 1847),
    "nm_sync_finalize": Symbol(_C, 2716),
    "netmap_ioctl": Symbol(_C, 2757),
    "netmap_ioctl (NIOCTXSYNC)": Symbol(_C, 3216),
    "netmap_ioctl (NIOCRXSYNC)": Symbol(_C, 3226),
    "netmap_poll": Symbol(_C, 3672),
    "netmap_poll (txsync)": Symbol(_C, 3818),
    "netmap_poll (rxsync)": Symbol(_C, 3871),
    "netmap_reset": Symbol(_C, 4392),
    "binarycomp": Symbol("utils/ctrl-api-test.c", 2022),
    # The driver contract and the size limits the tests check the implementation against.
    "ixgbe_netmap_rxsync (report flags)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 411),
    "ixgbe_netmap_rxsync (NS_BUF_CHANGED)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 451),
    "ixgbe_netmap_rxsync (refill address)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 457),
    "nm_mem (ring pool objmaxsize)": Symbol("sys/dev/netmap/netmap_mem2.c", 551),
    "netmap_config_obj_allocator (size check)": Symbol("sys/dev/netmap/netmap_mem2.c", 1350),
    "netmap_mem_private_new (ring size)": Symbol("sys/dev/netmap/netmap_mem2.c", 1777),
    "struct netmap_ring (2013)": Symbol(_H, 213, NETMAP_2013_COMMIT),
    "netmap_txsync_to_host (2013)": Symbol(_C, 859, NETMAP_2013_COMMIT),
    "netmap_rxsync_from_host (2013)": Symbol(_C, 907, NETMAP_2013_COMMIT),
    "netmap_ring_reinit (2013)": Symbol(_C, 1127, NETMAP_2013_COMMIT),
    "netmap_reset (2013)": Symbol(_C, 2091, NETMAP_2013_COMMIT),
}


def url(name: str) -> str:
    """The permalink of a named symbol."""
    return SYMBOLS[name].url


def link(name: str, text: str | None = None) -> str:
    """A Markdown link to a named symbol, shown as code: ``[`nm_txsync_prologue`](url)``."""
    label = text if text is not None else name.split(" (")[0]
    return f"[`{label}`]({url(name)})"
