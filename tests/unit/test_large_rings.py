"""The largest rings netmap accepts, driven round twice against the model.

netmap sizes a ring object as the 256-byte ``struct netmap_ring`` header plus 16 bytes a
slot
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_mem2.c#L1777)
and refuses objects larger than the ring pool's ``objmaxsize = 32*PAGE_SIZE``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_mem2.c#L551,
checked at
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_mem2.c#L1350):
8176 slots with 4 KiB pages, 131056 with the 64 KiB pages of arm64 / ppc64 kernels, past
the 65535 a 16-bit index can hold.  Every index, register and count of the
implementation must be right at that size: each step is checked against the model, and
every frame's bytes against what was sent or delivered."""

from __future__ import annotations

import numpy as np
import pytest

from impl.netmap import NETMAP_RING_HEADER_SIZE, NetmapAdapter
from impl.netmap.layout import NETMAP_SLOT_SIZE
from model.netmap_ring import RX, TX

RING_POOL_PAGES = 32  # netmap_mem2.c: the ring pool's objmaxsize is 32*PAGE_SIZE


def max_ring_slots(page_size: int) -> int:
    """The most slots a ring object of at most 32 pages can hold."""
    return (RING_POOL_PAGES * page_size - NETMAP_RING_HEADER_SIZE) // NETMAP_SLOT_SIZE


SIZES = {"4k-pages": max_ring_slots(4096), "64k-pages": max_ring_slots(65536)}


def test_the_limits() -> None:
    assert SIZES == {"4k-pages": 8176, "64k-pages": 131056}
    assert SIZES["64k-pages"] > 0xFFFF


def frames(rng: np.random.Generator, k: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, 256, size=(k, width), dtype=np.uint8), rng.integers(1, width + 1, k)


def concat(fr: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return fr[np.arange(fr.shape[1])[None, :] < lengths[:, None]]


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
def test_tx_round_twice(n: int) -> None:
    a = NetmapAdapter(1, 0, n, buf_size=64, extra_bufs=0)
    assert a.mem.headers["num_slots"][0] == n
    rng = np.random.default_rng(n)
    s = TX.init(n)
    sent = []
    for _ in range(2):  # the second round wraps every range past slot n-1
        k = n - 1
        fr, lengths = frames(rng, k, 64)
        a.user_fill(0, fr, lengths)
        a.user_advance("tx", 0, k)
        s = TX.transitions["user_advance"](s, dh=k, dc=0).post
        assert a.txsync(0).sent.tolist() == [k]
        s = TX.transitions["txsync_hardened"](s, sent=k).post
        assert a.abstract("tx", 0) == s
        a.device_complete(0, k)
        s = TX.transitions["device_complete"](s, k=k).post
        assert a.abstract("tx", 0) == s
        a.txsync(0)
        s = TX.transitions["txsync_hardened"](s, sent=0).post
        assert a.abstract("tx", 0) == s and not TX.violated(s)
        sent.append(concat(fr, lengths))
    assert np.array_equal(a.wire.data(), np.concatenate(sent))
    assert len(a.wire) == 2 * (n - 1)


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
def test_rx_round_twice(n: int) -> None:
    a = NetmapAdapter(0, 1, n, buf_size=64, extra_bufs=0)
    rng = np.random.default_rng(n + 1)
    s = RX.init(n)
    for _ in range(2):
        k = n - 1
        fr, lengths = frames(rng, k, 64)
        a.device_deliver(0, k, fr, lengths)
        s = RX.transitions["device_deliver"](s, k=k).post
        assert a.abstract("rx", 0) == s
        assert a.rxsync(0).reported.tolist() == [k]
        s = RX.transitions["rxsync_hardened"](s, refill=n).post
        assert a.abstract("rx", 0) == s
        got_len, got = a.user_read(0)
        assert np.array_equal(got_len, lengths) and np.array_equal(got, concat(fr, lengths))
        a.user_advance("rx", 0, k)
        s = RX.transitions["user_advance"](s, dh=k, dc=0).post
        assert a.rxsync(0).refilled.tolist() == [k]
        s = RX.transitions["rxsync_hardened"](s, refill=n).post
        assert a.abstract("rx", 0) == s and not RX.violated(s)
        posted = a.device_buffers("rx", 0)
        slots = a.slots("rx", 0)["buf_idx"].astype(np.int64)
        assert np.array_equal(posted, slots[(s.nic + np.arange(k)) % n])
