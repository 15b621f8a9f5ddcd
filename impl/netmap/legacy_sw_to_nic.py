"""The 2013 ``netmap_sw_to_nic`` over real rings: transparent mode swaps the host RX ring's
packets into the NIC's TX rings, on a :class:`impl.netmap.legacy.LegacyPort` (the
hardware rings) and a :class:`impl.netmap.legacy_host.LegacyHostPort` (the host rings) of
one adapter.  The spec is :mod:`model.netmap_legacy_sw_to_nic`, whose docstring reads
the C; ``tests/unit/test_legacy_sw_to_nic.py`` compares the two, and
``tests/unit/test_legacy_sw_to_nic_vectorized.py`` compares :func:`sw_to_nic` with the
ring-at-a-time loop it replaced (kept in ``tests/support/legacy_sw_to_nic_loop.py``).

As shipped (netmap.c of 95b478cf,
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L802):
``howmany = nr_hwavail``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L817);
iteration ``i < num_tx_rings`` works on kring ``tx_rings[2i]`` (the for's ``k1++`` and
the body's,
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L845),
in the one array netmap_krings_create lays out
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L431):
NIC TX rings ``0 .. T-1``, the host TX ring at ``T``, NIC RX rings at ``T+1 .. T+R``, the
host RX ring at ``T+R+1``, nothing after (:func:`kring_at`).  On each, while ``howmany >
0`` and the user's ``ring->avail > 0``, slot ``nr_hwcur`` of the host RX ring
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L825)
and slot ``ring->cur`` of that ring exchange ``buf_idx``; ``len`` is copied to the
destination, both get ``flags = NS_BUF_CHANGED``; ``nr_hwcur`` and ``cur`` advance with
nm_next (u32), ``nr_hwavail``, ``howmany`` and the user's ``avail`` drop by one.  After
each ring the host RX ring's user ``cur`` is set to ``nr_hwcur``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L844).

Vectorized, with no loop over rings or slots: the ring of iteration ``i`` can take ``cap``
swaps (its user's ``avail``; hardened also at most what its kring counts free), so with
``P`` the exclusive cumsum of ``cap`` the walk reaches ring ``i`` having sent ``min(howmany,
P[i])`` packets and swaps ``min(howmany, P[i] + cap[i]) - min(howmany, P[i])`` there, from
host RX slot ``nr_hwcur + min(howmany, P[i])``.  Every ring before the first one where the
walk stops (below) is done at once: the swaps by fancy indexing on the shared memory's slot
rows, whichever kring array (NIC TX, host TX, NIC RX) a ring belongs to
(:func:`swap_runs`), the model's per-swap ghosts over all swaps (:func:`judge`).  Both
indices advance together, so pair ``j`` and pair ``j + N`` of a ring are the same slots; a
pair swapped an even number of times keeps its buffers; a host slot met by several rings
(more than N packets sent) passes the buffers along its odd partners in walk order; and the
destination's ``len`` is the source's, which the C never changes.

Where the C indexes outside an array -- ``nr_hwcur`` or the destination's ``cur`` not a
slot, or ``k1`` past the kring array -- it reads and writes foreign kernel memory; here
the walk stops before that access and the result names it (``oob``), as the grab reports
``hung``.  A walk that reaches the host RX kring itself (``2i = T+R+1``, possible when
``T >= R + 3``) swaps slots of one ring with each other; that is not emulated either: it
stops and says ``own_ring``.  A ring that would take more than :data:`MAX_RUN` swaps
raises OverflowError.  In each case the rings before it are done, as the C did them.

Hardened (:data:`model.netmap_legacy_sw_to_nic.HARDENED_POLICY`): only the slots the user
released, ``[nr_hwcur, cur - reserved)``, after today's nm_rxsync_prologue checks;
each NIC TX ring once, in order, and into it at most the slots its kring counts free
(``nr_hwavail - dist(nr_hwcur, cur)``) and its user's avail; the host RX ring's ``cur`` is
left alone.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.netmap.kring import Krings
from impl.netmap.layout import NS_BUF_CHANGED
from impl.netmap.legacy import LegacyPort, u32
from impl.netmap.legacy_host import LegacyHostPort
from impl.netmap.mem import NetmapMemory
from impl.netmap.prologue import AS_SHIPPED, check_policy
from impl.netmap.ranges import flat_ranges, ring_dist


class Ring(NamedTuple):
    """One kring of the 2013 array as the walk sees it: its slots (``kr``, ring ``q``),
    the user's header row and the kring's ``nr_hwavail``."""

    name: str
    kr: Krings
    q: int
    header: np.ndarray
    hwavail: np.ndarray


class SwToNicResult(NamedTuple):
    sent: int
    """Packets swapped out of the host RX ring."""
    per_kring: dict[int, int]
    """Swaps into each kring index the walk visited (0 .. T-1 are the NIC TX rings)."""
    unreleased: int
    """Packets sent that the user had not released (from cur - reserved on)."""
    stale: int
    """Packets sent from slots the stack never filled (nr_hwavail past N-1)."""
    overfill: int
    """NIC TX slots filled that their kring does not count free."""
    misrouted: int
    """Packets put into a kring that is not a NIC TX ring."""
    skipped: int
    """NIC TX rings the walk jumped over while it had packets left."""
    oob: tuple[str, int, int] | None
    """The first access outside an array, where the walk stopped: ("src", kring,
    nr_hwcur), ("dst", kring, cur) or ("kring", kring, 0)."""
    own_ring: bool
    """The walk reached the host RX kring itself and stopped there."""


def kring_at(port: LegacyPort, host: LegacyHostPort, j: int) -> Ring | None:
    """Kring ``j`` of the 2013 array ``tx_rings[]``: NIC TX, host TX, NIC RX, host RX, or
    None past the end."""
    t, r = port.ad.tx.count, port.ad.rx.count
    if j < t:
        return Ring("tx", port.ad.tx, j, port.header["tx"][j:j + 1], port.hwavail["tx"][j:j + 1])
    if j == t:
        return Ring("host_tx", host.host.tx, 0, host.header["tx"], host.hwavail["tx"])
    if j <= t + r:
        q = j - t - 1
        return Ring("rx", port.ad.rx, q, port.header["rx"][q:q + 1], port.hwavail["rx"][q:q + 1])
    if j == t + r + 1:
        return Ring("host_rx", host.host.rx, 0, host.header["rx"], host.hwavail["rx"])
    return None


def released_2013(host: LegacyHostPort) -> int:
    """The slots the user gave back, ``dist(nr_hwcur, cur) - reserved``, if nr_hwcur and
    cur are slots, cur lies within the kernel's packets and reserved behind it; else 0
    (:func:`model.netmap_legacy_sw_to_nic.released`)."""
    hdr, n = host.header["rx"], host.n
    cur, res = int(hdr["cur"][0]), int(hdr["reserved"][0])
    hwcur, hwavail = int(host.host.rx.hwcur[0]), int(host.hwavail["rx"][0])
    if hwcur >= n or cur >= n:
        return 0
    behind = int(ring_dist(hwcur, cur, n))
    return behind - res if behind <= hwavail and res <= behind else 0


#: What a kring of the 2013 array is, in the array's order (:func:`kring_at`).
TX, HOST_TX, RX, HOST_RX = 0, 1, 2, 3


class KringTable(NamedTuple):
    """Every kring of the 2013 array, index ``j = 0 .. T+R+1`` as in :func:`kring_at`, as
    flat int64 columns: its kind, the row of shared memory its slots are, the user's
    ``cur`` and ``avail`` and the kring's ``nr_hwcur`` and ``nr_hwavail``."""

    kind: np.ndarray
    row: np.ndarray
    cur: np.ndarray
    avail: np.ndarray
    hwcur: np.ndarray
    hwavail: np.ndarray


def kring_table(port: LegacyPort, host: LegacyHostPort) -> KringTable:
    """The 2013 kring array of ``port``'s adapter as a :class:`KringTable` (a copy)."""
    t, r = port.ad.tx.count, port.ad.rx.count
    krs = (port.ad.tx, host.host.tx, port.ad.rx, host.host.rx)
    hdrs = (port.header["tx"], host.header["tx"], port.header["rx"], host.header["rx"])
    avails = (port.hwavail["tx"], host.hwavail["tx"], port.hwavail["rx"], host.hwavail["rx"])
    col = np.concatenate
    return KringTable(
        np.repeat(np.array([TX, HOST_TX, RX, HOST_RX], dtype=np.int64), [t, 1, r, 1]),
        col([kr.base + np.arange(kr.count, dtype=np.int64) for kr in krs]),
        col([h["cur"] for h in hdrs]).astype(np.int64),
        col([h["avail"] for h in hdrs]).astype(np.int64),
        col([kr.hwcur for kr in krs]).astype(np.int64),
        col(avails).astype(np.int64))


def tx_free(cur: np.ndarray, hwcur: np.ndarray, hwavail: np.ndarray, n: int) -> np.ndarray:
    """Slots from the user's cur that each kring counts free: ``nr_hwavail -
    dist(nr_hwcur, cur)`` on a sane kring, else 0
    (:func:`model.netmap_legacy_sw_to_nic.tx_free`)."""
    sane = (cur < n) & (hwcur < n) & (hwavail <= n - 1)
    return np.where(sane, np.maximum(0, hwavail - ring_dist(hwcur, cur, n)), 0)


def swap_runs(mem: NetmapMemory, src_row: int, start: np.ndarray, dst_row: np.ndarray,
              dcur: np.ndarray, m: np.ndarray, n: int) -> None:
    """The C's body run ``m[x]`` times for every ring ``x`` of the walk, in walk order,
    all at once: between host RX slots (memory row ``src_row``) from ``start[x]`` and
    slots of row ``dst_row[x]`` from ``dcur[x]`` (slots; the rows distinct, none the
    host RX one).

    Within a run pair ``a`` (host slot ``start + a``, destination slot ``dcur + a``) is
    exchanged ``ceil((m - a) / N)`` times, so it ends swapped iff that is odd; a swap
    pairs a destination slot with one host slot only, whatever the run.  A host slot can
    still meet several runs when the walk sends more than N packets: its odd partners, in
    walk order, form a chain of exchanges -- the first partner gets the host slot's
    buffer, each next one the buffer of the one before, and the host slot the last one's.
    ``len`` goes to every destination slot from its host slot (the walk never writes a
    host slot's ``len``), and every slot touched is flagged ``NS_BUF_CHANGED``."""
    run, a, d_idx = flat_ranges(dcur, np.minimum(m, n), n)
    s_idx = (start[run] + a) % n
    drow = dst_row[run]
    odd = ((m[run] - a + n - 1) // n) % 2 == 1
    buf = mem.slot_buf_idx
    order = np.argsort(s_idx[odd], kind="stable")  # by host slot, walk order kept
    hs, dr, dx = s_idx[odd][order], drow[odd][order], d_idx[odd][order]
    first = np.ones(hs.size, dtype=bool)
    first[1:] = hs[1:] != hs[:-1]
    last = np.ones(hs.size, dtype=bool)
    last[:-1] = first[1:]
    held = buf[dr, dx]
    given = np.roll(held, 1)
    given[first] = buf[src_row, hs[first]]
    buf[dr, dx] = given
    buf[src_row, hs[last]] = held[last]
    mem.slot_len[drow, d_idx] = mem.slot_len[src_row, s_idx]
    mem.slot_flags[src_row, s_idx] = NS_BUF_CHANGED
    mem.slot_flags[drow, d_idx] = NS_BUF_CHANGED


class Ghosts(NamedTuple):
    """The model's per-swap ghosts, summed over the walk."""

    stale: int
    overfill: int


def judge(n: int, hwavail: int, tx: KringTable, m: np.ndarray) -> Ghosts:
    """The model's per-swap ghost tests for every swap of the walk, all at once: the
    walk's swap ``k`` reads a host RX slot with ``nr_hwavail - k`` packets left (stale
    unless ``1 <= left <= N-1``); swap ``a`` on NIC TX ring ``x`` (the rows of ``tx``, the
    walk's rings with ``m[x]`` swaps each, 0 on the other krings) fills slot ``cur + a``
    (overfill unless its sane kring counts it free)."""
    left = u32(hwavail - np.arange(int(m.sum()), dtype=np.int64))
    stale = int((~((left >= 1) & (left <= n - 1))).sum())
    on_tx = np.where(tx.kind == TX, m, 0)
    run, _, dst = flat_ranges(tx.cur, on_tx, n)
    hc, ha = tx.hwcur[run], tx.hwavail[run]
    free = (hc < n) & (ha <= n - 1) & (ring_dist(hc % n, dst, n) < ha)
    return Ghosts(stale, int((~free).sum()))


#: Swaps on one ring the walk does here at most; a longer run (only as shipped, with a
#: wrapped nr_hwavail and a user-written avail: up to 2^32 - 1 iterations with the q_lock
#: held) is refused with OverflowError before anything moves on that ring (the rings
#: before it are done, as the C left them).
MAX_RUN = 1 << 16


def _put(port: LegacyPort, host: LegacyHostPort, field: str, j: np.ndarray,
         values: np.ndarray) -> None:
    """Write ``values`` into the user's ``field`` of krings ``j`` of the 2013 array (NIC
    TX, host TX or NIC RX, never the host RX kring)."""
    t = port.ad.tx.count
    tx, htx, rx = j < t, j == t, j > t
    port.header["tx"][field][j[tx]] = values[tx]
    host.header["tx"][field][j[htx] - t] = values[htx]
    port.header["rx"][field][j[rx] - t - 1] = values[rx]


def sw_to_nic(port: LegacyPort, host: LegacyHostPort,
              policy: str = AS_SHIPPED) -> SwToNicResult:
    """The 2013 netmap_sw_to_nic (as shipped) or the hardened walk on the adapter behind
    ``port`` and ``host``, with the host RX kring's q_lock held (nothing else runs).

    Vectorized over the walk's rings: iteration ``i`` works on kring ``step * i``, which
    can take ``cap`` = its user's ``avail`` (hardened: also at most what its kring counts
    free) swaps; with ``P`` the exclusive cumsum of ``cap``, the walk has sent ``min(howmany,
    P[i])`` packets when it reaches ring ``i`` and swaps ``min(howmany, P[i] + cap[i]) -
    min(howmany, P[i])`` there.  It stops at the first ring it reaches that is past the
    kring array, or that would swap and is the host RX kring, has a source or destination
    index outside its ring, or a run over :data:`MAX_RUN`; the rings before it are done."""
    check_policy(policy)
    if host.mem is not port.ad.mem:
        raise ValueError("port and host must be rings of one adapter")
    shipped = policy == AS_SHIPPED
    n, t = port.n, port.ad.tx.count
    hrx, hhdr = host.host.rx, host.header["rx"]
    hwavail = host.hwavail["rx"]
    hw0, hc0 = int(hwavail[0]), int(hrx.hwcur[0])
    rel = released_2013(host)  # what the user had released when the walk started
    howmany = hw0 if shipped else (rel if hw0 <= n - 1 else 0)
    step = 2 if shipped else 1
    i = np.arange(t, dtype=np.int64)
    j = step * i
    table = kring_table(port, host)
    there = j < table.kind.size
    ring = KringTable(*(col[np.where(there, j, 0)] for col in table))
    room = ring.avail if shipped else np.minimum(
        ring.avail, tx_free(ring.cur, ring.hwcur, ring.hwavail, n))
    cap = np.where(there, room, 0)
    before = np.minimum(howmany, np.cumsum(cap) - cap)  # sent when the walk reaches ring i
    run = np.minimum(howmany, before + cap) - before  # swaps on ring i
    reached = before < howmany  # the for's test: howmany > 0 (and i < t)
    moves = run > 0
    own = moves & (ring.kind == HOST_RX)
    bad_src, bad_dst = moves & (hc0 >= n), moves & (ring.cur >= n)
    stop = (reached & ~there) | own | bad_src | bad_dst | (run > MAX_RUN)
    s = int(np.argmax(stop)) if stop.any() else t  # the ring the walk stops at
    done = reached & (i < s)
    m = np.where(i < s, run, 0)
    sent = int(m.sum())
    g = judge(n, hw0, ring, m)
    took = m > 0
    swap_runs(port.ad.mem, int(hrx.base), hc0 + before[took], ring.row[took],
              ring.cur[took], m[took], n)
    _put(port, host, "cur", j[took], (ring.cur[took] + m[took]) % n)
    _put(port, host, "avail", j[took], u32(ring.avail[took] - m[took]))
    if sent:
        hrx.hwcur[0] = (hc0 + sent) % n
        hwavail[0] = u32(hw0 - sent)
    if shipped and done.any():
        hhdr["cur"][0] = int(hrx.hwcur[0])  # kring->ring->cur = kring->nr_hwcur
    left = howmany - before - m  # howmany after each ring
    skipped = int((done & (left > 0) & (i + 1 < t) & (step > 1) & (j + step - 1 < t)).sum())
    oob: tuple[str, int, int] | None = None
    if s < t and not own[s]:
        if not there[s]:
            oob = ("kring", int(j[s]), 0)
        elif bad_src[s] or bad_dst[s]:
            oob = ("src", int(j[s]), hc0) if bad_src[s] else ("dst", int(j[s]),
                                                               int(ring.cur[s]))
        else:
            raise OverflowError(f"the 2013 walk would swap {int(run[s])}"
                                f" times on kring {int(j[s])}")
    return SwToNicResult(sent, dict(zip(j[took].tolist(), m[took].tolist(), strict=True)),
                         max(0, sent - rel), g.stale, g.overfill,
                         int(m[ring.kind != TX].sum()), skipped, oob, bool(s < t and own[s]))
