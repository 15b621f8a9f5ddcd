"""The host-stack rings of the 2013 API (cur / avail / reserved): ``netmap_txsync_to_host``
with ``netmap_grab_packets``, and ``netmap_transmit`` with ``netmap_rxsync_from_host``,
in the C's ``uint32_t`` arithmetic.

Upstream, netmap.c at commit 95b478cf (2013-12-02):

* ``netmap_grab_packets``
  (https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L746):
  its comment says it copies the slots from ``nr_hwcur`` to ``cur - reserved``; the code
  computes the end as ``k = cur; if (reserved > 0) { if (k < reserved) k += N;
  k += reserved; }``, i.e. ``cur + reserved`` (plus N when cur < reserved), and then
  walks ``for (n = nr_hwcur; n != k; n = nm_next(n))``.  A slot whose ``len`` is below
  14 or above the buffer is logged and skipped; ``m_devget`` failing (no mbufs) ends the
  walk.
* ``netmap_txsync_to_host``
  (https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L859):
  ``cur > N-1`` -> netmap_ring_reinit; else grab with ``force = 1`` (every slot, not
  only NS_FORWARD ones), then ``nr_hwcur = cur`` and ``nr_hwavail = avail = N-1``: the
  kernel never keeps a host TX slot.
* ``netmap_transmit``
  (https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L2019):
  the 2013 version has no queue: a packet longer than a buffer, or one that finds
  ``nr_hwavail >= N-1``, is dropped; otherwise it is copied straight into the slot
  ``nm_kr_rxpos = nr_hwcur + nr_hwavail`` (one subtraction of N) and ``nr_hwavail++``.
* ``netmap_rxsync_from_host``
  (https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L907):
  ``cur >= N`` -> reinit; reserved is zeroed if ``reserved + avail >= N`` (u32); the
  release point is ``k = cur >= reserved ? cur - reserved : cur + N - reserved`` (u32);
  if ``k != hwcur``: ``n = k >= hwcur ? k - hwcur : k + N - hwcur``, ``nr_hwavail -=
  n``, ``nr_hwcur = k`` -- no loop and no check that k is a slot or that n <= hwavail;
  finally ``avail = nr_hwavail - reserved``.

**Findings** (as shipped vs hardened, both transitions of the machines below):

* *Host TX, grab end.*  With ``reserved > 0`` on the host TX ring (netmap.h documents
  ``reserved`` as a field the user sets), the walk ends at ``cur + reserved``, not
  ``cur - reserved``.  The stack receives up to ``reserved`` slots the user has not
  published (``stray``), or -- when hwcur lies in ``(cur, cur + reserved]`` -- fewer than
  published, and the rest are skipped for good because ``nr_hwcur = cur`` (``lost``).
  If ``cur + reserved >= N`` the end is not a slot and the walk never meets it: the
  ioctl copies every slot with a valid length into fresh mbufs until ``m_devget`` fails,
  then floods the stack with them, or, with no valid length anywhere, spins forever in
  the kernel (``may_hang``).  Even the comment's intent (``cur - reserved``) would lose
  the held slots, since hwcur then jumps to cur (mutant ``grab-to-cur-minus-reserved``);
  the hardened step ignores ``reserved`` on TX, as today's netmap does with rhead.
* *Host RX, release point.*  ``netmap_rxsync_from_host`` trusts ``cur``, ``avail`` and
  ``reserved``: a user-written ``reserved`` larger than cur + N whose u32 sum with
  ``avail`` wraps below N passes the check and gives a release point ``k >= N``, which
  becomes ``nr_hwcur``; a release point past what the kernel holds makes
  ``nr_hwavail`` wrap to ~2^32.  The kernel's own indices leave the ring: the host ring
  drops every packet the stack sends (``nr_hwavail >= N-1``), and
  ``netmap_sw_to_nic`` (transparent mode) indexes ``slot[nr_hwcur]`` past the ring.
  Hardened: cur must lie between hwcur and hwcur + hwavail and the release point between
  hwcur and cur, else reinit (cur = hwcur, avail = hwavail, reserved = 0) -- today's
  nm_rxsync_prologue rule.

Ghosts: ``stray`` and ``lost`` (host TX) count slots sent up that the user had not
published and published slots never sent; ``accepted`` / ``dropped`` / ``released``
(host RX) count netmap_transmit's results and the slots the user gave back.  What the
walk does slot by slot (skipping bad lengths, clearing NS_FORWARD) is the
implementation's, ``impl/netmap/legacy_host.py``, which runs in lockstep with these
machines (tests/stateful/test_legacy_host_rings.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import (
    U32_MAX,
    And,
    Eq,
    If,
    Machine,
    Or,
    Param,
    Step,
    Term,
    Var,
    in_range,
    ring_add,
    ring_dist,
    u32,
)
from model.netmap_host import FITS
from model.netmap_legacy import USER_READ_PARAMS, rx_release_point, user_read


@dataclass(frozen=True)
class LegacyHostTx:
    """The 2013 host TX ring and kring, with the ghost counts of what went up."""

    n: Term
    cur: Term
    avail: Term
    reserved: Term
    hwcur: Term
    hwavail: Term
    stray: Term
    lost: Term

    def __repr__(self) -> str:
        return (f"LegacyHostTx(n={self.n}, user=(cur={self.cur}, avail={self.avail}, "
                f"reserved={self.reserved}), kring=(hwcur={self.hwcur}, "
                f"hwavail={self.hwavail}), stray={self.stray}, lost={self.lost})")

    def replace(self, **changes: Term) -> LegacyHostTx:
        return dataclasses.replace(self, **changes)


LEGACY_HOST_TX_VARS = (
    Var("n", "constant", "size", "num_slots (uint32_t)."),
    Var("cur", "user", "u32", "ring->cur: the first slot not yet published."),
    Var("avail", "user", "u32", "ring->avail: free slots from cur."),
    Var("reserved", "user", "u32", "ring->reserved: a user field netmap_grab_packets reads."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: the first slot not yet sent up."),
    Var("hwavail", "kernel", "u32", "kring->nr_hwavail: N-1 after every sync."),
    Var("stray", "ghost", "count", "Slots sent up that the user had not published."),
    Var("lost", "ghost", "count", "Published slots passed over without being sent up."),
)


def legacy_host_tx_init(n: Term) -> LegacyHostTx:
    """netmap_krings_create of 2013: a TX kring starts with nr_hwavail = N-1."""
    return LegacyHostTx(n=n, cur=0, avail=n - 1, reserved=0, hwcur=0, hwavail=n - 1,
                        stray=0, lost=0)


def host_tx_fill(s: LegacyHostTx, k: Term) -> Step:
    """The user fills k free slots and publishes them: cur += k, avail -= k."""
    return Step(And(k >= 0, k <= s.avail),
                s.replace(cur=ring_add(s.cur, k, s.n), avail=u32(s.avail - k)))


def host_tx_write(s: LegacyHostTx, c: Term, r: Term) -> Step:
    """The user writes any 32-bit values into ring->cur and ring->reserved."""
    return Step(True, s.replace(cur=c, reserved=r))


def grab_end(cur: Term, reserved: Term, n: Term) -> Term:
    """Where the 2013 netmap_grab_packets stops: ``cur + reserved``, plus N when
    ``cur < reserved`` (u32; meant as ``cur - reserved``)."""
    return If(reserved > 0, u32(If(cur < reserved, cur + n, cur) + reserved), cur)


def grab_ends(s: LegacyHostTx) -> Term:
    """The walk from hwcur meets its end only if the end is a slot."""
    return grab_end(s.cur, s.reserved, s.n) < s.n


def _send_up(s: LegacyHostTx, end: Term) -> LegacyHostTx:
    """Send [hwcur, end) up, then ``nr_hwcur = cur``, ``nr_hwavail = avail = N-1``."""
    published = ring_dist(s.hwcur, s.cur, s.n)
    grabbed = ring_dist(s.hwcur, end, s.n)
    return s.replace(
        hwcur=s.cur, hwavail=s.n - 1, avail=s.n - 1,
        stray=s.stray + If(grabbed > published, grabbed - published, 0),
        lost=s.lost + If(published > grabbed, published - grabbed, 0),
    )


def _tx_reinit(s: LegacyHostTx) -> LegacyHostTx:
    """netmap_ring_reinit on ``cur > N-1``: cur = hwcur, avail = hwavail."""
    return s.replace(cur=s.hwcur, avail=s.hwavail)


def txsync_to_host_as_shipped(s: LegacyHostTx) -> Step:
    """netmap_txsync_to_host of 2013: ``cur > N-1`` -> reinit; else grab [hwcur,
    grab_end) and hwcur = cur.  It returns only if the grab end is a slot."""
    bad = s.cur >= s.n
    return Step(Or(bad, grab_ends(s)),
                If_tx(bad, _tx_reinit(s), _send_up(s, grab_end(s.cur, s.reserved, s.n))))


def txsync_to_host_hardened(s: LegacyHostTx) -> Step:
    """As shipped, but the walk ends at cur: ``reserved`` means nothing on TX."""
    bad = s.cur >= s.n
    return Step(True, If_tx(bad, _tx_reinit(s), _send_up(s, s.cur)))


def If_tx(cond: Term, a: LegacyHostTx, b: LegacyHostTx) -> LegacyHostTx:
    """Field-wise If over two host TX states."""
    return LegacyHostTx(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                           for f in dataclasses.fields(LegacyHostTx)})


def legacy_host_tx_kernel(s: LegacyHostTx) -> Term:
    return And(in_range(s.hwcur, s.n), Eq(s.hwavail, s.n - 1), s.stray >= 0, s.lost >= 0)


def legacy_host_tx_no_stray(s: LegacyHostTx) -> Term:
    return Eq(s.stray, 0)


def legacy_host_tx_no_loss(s: LegacyHostTx) -> Term:
    return Eq(s.lost, 0)


def legacy_host_tx_view(s: LegacyHostTx) -> Term:
    return And(in_range(s.cur, s.n), s.avail >= 0,
               Eq(ring_dist(s.hwcur, s.cur, s.n) + s.avail, s.n - 1))


LEGACY_HOST_TX = Machine(
    name="legacy_host_tx",
    title="legacy host TX ring (netmap_txsync_to_host, 2013)",
    state_type=LegacyHostTx,
    vars=LEGACY_HOST_TX_VARS,
    init=legacy_host_tx_init,
    doc="A fresh host TX ring: cur = hwcur = 0, avail = hwavail = N-1.",
    max_n=U32_MAX,
)

LEGACY_HOST_TX.transition(actor="user", params=(
    Param("k", "count", "Slots the user fills and publishes."),))(host_tx_fill)
LEGACY_HOST_TX.transition(actor="adversary", view="breaks", params=(
    Param("c", "u32", "The value written into ring->cur."),
    Param("r", "u32", "The value written into ring->reserved."),
))(host_tx_write)
LEGACY_HOST_TX.transition(
    actor="kernel", view="restores", may_hang=True,
    breaks=("LEG-HOST-TX-NO-STRAY", "LEG-HOST-TX-NO-LOSS"),
)(txsync_to_host_as_shipped)
LEGACY_HOST_TX.transition(actor="kernel", view="restores")(txsync_to_host_hardened)

for _id, _sentence, _fn, _scope in (
    ("LEG-HOST-TX-KERNEL", "hwcur is a slot and hwavail is N-1: the kernel keeps no "
     "host TX slot between syscalls.", legacy_host_tx_kernel, "kernel"),
    ("LEG-HOST-TX-NO-STRAY", "The stack only receives slots the user has published "
     "(between hwcur and cur).", legacy_host_tx_no_stray, "kernel"),
    ("LEG-HOST-TX-NO-LOSS", "Every published slot is passed to the stack (sent, or "
     "skipped for its length): none is jumped over.", legacy_host_tx_no_loss, "kernel"),
    ("LEG-HOST-TX-VIEW", "cur is a slot and the published slots plus avail make N-1.",
     legacy_host_tx_view, "user"),
):
    LEGACY_HOST_TX.invariant(_id, _sentence, _scope)(_fn)


# ---------------------------------------------------------------------------- host RX


@dataclass(frozen=True)
class LegacyHostRx:
    """The 2013 host RX ring and kring, with ghost counts of the stack's packets."""

    n: Term
    cur: Term
    avail: Term
    reserved: Term
    hwcur: Term
    hwavail: Term
    accepted: Term
    dropped: Term
    released: Term

    def __repr__(self) -> str:
        return (f"LegacyHostRx(n={self.n}, user=(cur={self.cur}, avail={self.avail}, "
                f"reserved={self.reserved}), kring=(hwcur={self.hwcur}, "
                f"hwavail={self.hwavail}), accepted={self.accepted}, "
                f"dropped={self.dropped}, released={self.released})")

    def replace(self, **changes: Term) -> LegacyHostRx:
        return dataclasses.replace(self, **changes)


LEGACY_HOST_RX_VARS = (
    Var("n", "constant", "size", "num_slots (uint32_t)."),
    Var("cur", "user", "u32", "ring->cur: the first unread packet."),
    Var("avail", "user", "u32", "ring->avail: unread packets from cur."),
    Var("reserved", "user", "u32", "ring->reserved: slots before cur the user still holds."),
    Var("hwcur", "kernel", "u32", "kring->nr_hwcur: the first slot the user holds."),
    Var("hwavail", "kernel", "u32", "kring->nr_hwavail: packets from hwcur."),
    Var("accepted", "ghost", "count", "Packets netmap_transmit copied into the ring."),
    Var("dropped", "ghost", "count", "Packets netmap_transmit dropped (too long or full)."),
    Var("released", "ghost", "count", "Slots rxsync took back from the user."),
)


def legacy_host_rx_init(n: Term) -> LegacyHostRx:
    """An empty host RX ring: cur = hwcur = 0, avail = hwavail = 0."""
    return LegacyHostRx(n=n, cur=0, avail=0, reserved=0, hwcur=0, hwavail=0, accepted=0,
                        dropped=0, released=0)


def transmit_2013(s: LegacyHostRx, fits: Term) -> Step:
    """netmap_transmit of 2013: dropped if too long or ``nr_hwavail >= N-1``; else copied
    into slot hwcur + hwavail and ``nr_hwavail++``."""
    drop = Or(Eq(fits, 0), s.hwavail >= s.n - 1)
    return Step(True, s.replace(
        hwavail=If(drop, s.hwavail, s.hwavail + 1),
        accepted=If(drop, s.accepted, s.accepted + 1),
        dropped=If(drop, s.dropped + 1, s.dropped),
    ))


def host_rx_read(s: LegacyHostRx, k: Term, keep: Term) -> Step:
    """The user reads k packets (cur += k, avail -= k) and keeps ``keep`` slots before
    the new cur (reserved = keep): the legacy RX ring's rule,
    :func:`model.netmap_legacy.user_read`."""
    return user_read(s, k, keep)  # type: ignore[arg-type]


def host_rx_write(s: LegacyHostRx, c: Term, a: Term, r: Term) -> Step:
    """The user writes any 32-bit values into ring->cur, ring->avail and ring->reserved."""
    return Step(True, s.replace(cur=c, avail=a, reserved=r))


def _rx_reinit(s: LegacyHostRx) -> LegacyHostRx:
    """netmap_ring_reinit: cur = hwcur, avail = hwavail."""
    return s.replace(cur=s.hwcur, avail=s.hwavail)


def release_count(k: Term, hwcur: Term, n: Term) -> Term:
    """``k >= hwcur ? k - hwcur : k + N - hwcur`` in u32: the slots released, for any
    k (a k past the ring counts its full distance)."""
    return If(k >= hwcur, k - hwcur, u32(k + n - hwcur))


def _release(s: LegacyHostRx, resvd: Term, k: Term) -> LegacyHostRx:
    """``nr_hwavail -= n; nr_hwcur = k`` (when k != hwcur), ``avail = hwavail - resvd``."""
    moved = release_count(k, s.hwcur, s.n)
    hwavail = u32(s.hwavail - moved)
    return s.replace(reserved=resvd, hwcur=k, hwavail=hwavail, avail=u32(hwavail - resvd),
                     released=s.released + moved)


def rxsync_from_host_as_shipped(s: LegacyHostRx) -> Step:
    """netmap_rxsync_from_host of 2013: ``cur >= N`` -> reinit; else the release point
    of :func:`model.netmap_legacy.rx_release_point`, taken as the new hwcur whatever it
    is."""
    bad = s.cur >= s.n
    resvd, k = _release_point(s)
    return Step(True, If_rx(bad, _rx_reinit(s), _release(s, resvd, k)))


def release_point_ok(s: LegacyHostRx) -> Term:
    """The hardened test (today's nm_rxsync_prologue, in 2013 terms): cur is a slot no
    further from hwcur than hwavail, and reserved reaches back no further than hwcur --
    so the release point lies between hwcur and cur."""
    behind = ring_dist(s.hwcur, s.cur, s.n)
    return And(s.cur < s.n, behind <= s.hwavail, s.reserved <= behind)


def rxsync_from_host_hardened(s: LegacyHostRx) -> Step:
    """As shipped, but a release point outside the kernel's packets is refused: reinit
    with reserved = 0 (today's nm_rxsync_prologue rule, in 2013 terms)."""
    resvd, k = _release_point(s)
    refused = _rx_reinit(s).replace(reserved=0)
    return Step(True, If_rx(release_point_ok(s), _release(s, resvd, k), refused))


def _release_point(s: LegacyHostRx) -> tuple[Term, Term]:
    return rx_release_point(s)  # reads n, cur, avail and reserved only


def If_rx(cond: Term, a: LegacyHostRx, b: LegacyHostRx) -> LegacyHostRx:
    """Field-wise If over two host RX states."""
    return LegacyHostRx(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                           for f in dataclasses.fields(LegacyHostRx)})


def legacy_host_rx_range(s: LegacyHostRx) -> Term:
    return And(in_range(s.hwcur, s.n), s.hwavail >= 0, s.hwavail <= s.n - 1,
               s.accepted >= 0, s.dropped >= 0, s.released >= 0)


def legacy_host_rx_counted(s: LegacyHostRx) -> Term:
    return Eq(s.accepted, s.hwavail + s.released)


def legacy_host_rx_view(s: LegacyHostRx) -> Term:
    behind = ring_dist(s.hwcur, s.cur, s.n)
    return And(in_range(s.cur, s.n), s.avail >= 0, s.reserved >= 0,
               s.avail + s.reserved < s.n, s.reserved <= behind,
               behind + s.avail <= s.hwavail)


LEGACY_HOST_RX = Machine(
    name="legacy_host_rx",
    title="legacy host RX ring (netmap_transmit and rxsync_from_host, 2013)",
    state_type=LegacyHostRx,
    vars=LEGACY_HOST_RX_VARS,
    init=legacy_host_rx_init,
    doc="An empty host RX ring: cur = hwcur = 0, avail = hwavail = 0.",
    max_n=U32_MAX,
)

LEGACY_HOST_RX.transition(actor="kernel", params=(FITS,))(transmit_2013)
LEGACY_HOST_RX.transition(actor="user", params=USER_READ_PARAMS)(host_rx_read)
LEGACY_HOST_RX.transition(actor="adversary", view="breaks", params=(
    Param("c", "u32", "The value written into ring->cur."),
    Param("a", "u32", "The value written into ring->avail."),
    Param("r", "u32", "The value written into ring->reserved."),
))(host_rx_write)
LEGACY_HOST_RX.transition(
    actor="kernel", view="restores",
    breaks=("LEG-HOST-RX-RANGE", "LEG-HOST-RX-COUNTED", "LEG-HOST-RX-VIEW"),
)(rxsync_from_host_as_shipped)
LEGACY_HOST_RX.transition(actor="kernel", view="restores")(rxsync_from_host_hardened)

for _id, _sentence, _fn, _scope in (
    ("LEG-HOST-RX-RANGE", "hwcur is a slot and hwavail <= N-1: the kernel's packets are "
     "inside the ring.", legacy_host_rx_range, "kernel"),
    ("LEG-HOST-RX-COUNTED", "Every packet netmap_transmit accepted is still in the ring "
     "or was released by the user: none is lost or counted twice.",
     legacy_host_rx_counted, "kernel"),
    ("LEG-HOST-RX-VIEW", "cur is a slot and the user's window [cur - reserved, cur + "
     "avail) lies inside the kernel's [hwcur, hwcur + hwavail).", legacy_host_rx_view,
     "user"),
):
    LEGACY_HOST_RX.invariant(_id, _sentence, _scope)(_fn)

LEGACY_HOST_FINDING = (
    "The 2013 host rings trust the user's reserved: the host TX walk ends at cur + "
    "reserved (or never), the host RX release point becomes hwcur unchecked."
)

MACHINES = (LEGACY_HOST_TX, LEGACY_HOST_RX)
