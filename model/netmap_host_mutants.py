"""Broken variants of the host rings and of forwarding down, each refuted against the
invariant it names.

Each is a mistake a port of netmap_transmit / netmap_rxsync_from_host /
netmap_txsync_to_host could plausibly make: an admission test that forgets the queue or
is one off, a drop reported as success, an import that keeps a second gap, a sync that
skips finalize, a host txsync that forgets to move hwcur.
"""

from __future__ import annotations

from model.core import And, Eq, If, Not, Step, Term, in_range, ring_add, ring_dist, ring_prev
from model.netmap_forward import (
    FORWARD,
    Forward,
    forward_down,
    forward_down_backpressure,
    forward_init,
    sw_to_nic_room,
    sw_to_nic_room_hardened,
    tx_prologue_accepts,
)
from model.netmap_forward import rxsync_from_host as forward_rxsync
from model.netmap_host import (
    HOST_RX,
    HOST_TX,
    HostRx,
    HostTx,
    _transmit,
    finish_rxsync,
    host_rx_busy,
    import_queue,
    rxsync_from_host,
    txsync_to_host,
)
from model.netmap_host_fwd import HOST_FWD, HostFwd, host_fwd_init
from model.netmap_host_fwd import _sync as _fwd_sync
from model.netmap_host_fwd import rxsync_hardened as rxsync_fwd_hardened


@HOST_RX.mutant("transmit-ignores-queue", "HOST-RX-FITS", replaces="netmap_transmit")
def transmit_ignores_queue(s: HostRx, fits: object) -> Step:
    """The drop test looks at the ring only: packets already queued are not counted, so
    more are accepted than the ring can take."""
    return _transmit(s, fits, host_rx_busy(s) >= s.n - 1)


@HOST_RX.mutant("transmit-fills-gap", "HOST-RX-FITS", replaces="netmap_transmit")
def transmit_fills_gap(s: HostRx, fits: object) -> Step:
    """``>`` for ``>=``: the last packet accepted would need the slot kept empty."""
    return _transmit(s, fits, host_rx_busy(s) + s.qlen > s.n - 1)


@HOST_RX.mutant("transmit-drop-reports-success", "HOST-RX-COUNTED",
                replaces="netmap_transmit")
def transmit_drop_reports_success(s: HostRx, fits: object) -> Step:
    """A full ring frees the mbuf but returns 0: the stack believes the packet queued."""
    step = _transmit(s, fits, False)
    full = host_rx_busy(s) + s.qlen >= s.n - 1
    return Step(True, step.post.replace(qlen=If(full, s.qlen, step.post.qlen)))


@HOST_RX.mutant("import-keeps-two-gaps", "HOST-RX-DRAINED", replaces="rxsync_from_host")
def import_keeps_two_gaps(s: HostRx) -> Step:
    """The import stops two slots before hwcur: with a queue that exactly fills the ring,
    one packet stays behind until the next rxsync."""
    room = ring_dist(s.hwtail, ring_prev(ring_prev(s.hwcur, s.n), s.n), s.n)
    return Step(True, finish_rxsync(s, import_queue(s, room)))


@HOST_RX.mutant("rxsync-skips-finalize", "HOST-RX-VIEW", replaces="rxsync_from_host")
def rxsync_skips_finalize(s: HostRx) -> Step:
    """ring->tail is not updated after the import: the user never sees the packets."""
    step = rxsync_from_host(s)
    return Step(True, step.post.replace(tail=s.tail))


@HOST_RX.mutant("init-with-queue", "HOST-RX-SHAPE", replaces="init")
def init_with_queue(n: object) -> HostRx:
    """A fresh ring whose hwtail is one past the end."""
    return HostRx(n=n, head=0, tail=0, hwcur=0, hwtail=n, qlen=0, synced=1, accepted=0,
                  dropped=0, imported=0)


@HOST_TX.mutant("txsync-keeps-hwcur", "HOST-TX-ONCE", replaces="txsync_to_host")
def txsync_keeps_hwcur(s: HostTx) -> Step:
    """The packets go up but hwcur stays: the next txsync sends them again."""
    step = txsync_to_host(s)
    return Step(True, step.post.replace(hwcur=s.hwcur, hwtail=s.hwtail, tail=s.tail,
                                        pending_bad=s.pending_bad))


@HOST_TX.mutant("txsync-hwtail-at-head", "HOST-TX-NOTHING-HELD", replaces="txsync_to_host")
def txsync_hwtail_at_head(s: HostTx) -> Step:
    """``nr_hwtail = head`` instead of ``head - 1``: no gap is kept."""
    step = txsync_to_host(s)
    return Step(True, step.post.replace(hwtail=s.head, tail=s.head))


@HOST_TX.mutant("user-send-past-tail", "HOST-TX-ONCE", replaces="user_send")
def user_send_past_tail(s: HostTx, k: object, bad: object) -> Step:
    """A user (or a helper library) that releases one slot more than it owns: with a full
    ring head comes back to hwcur, and the N released packets look like none."""
    return Step(And(k <= ring_dist(s.head, s.tail, s.n) + 1, bad <= k),
                s.replace(head=ring_add(s.head, k, s.n), pending_bad=s.pending_bad + bad,
                          released=s.released + k))


@HOST_TX.mutant("init-gap-at-zero", "HOST-TX-SHAPE", replaces="init")
def init_gap_at_zero(n: object) -> HostTx:
    """hwtail starts at N (one past the last slot)."""
    return HostTx(n=n, head=0, tail=n - 1, hwcur=0, hwtail=n, pending_bad=0, released=0,
                  sent_up=0, bad_len=0)



# ---------------------------------------------------------------------------- forwarding


@FORWARD.mutant("init-tail-past-end", "FWD-SHAPE", replaces="init")
def init_tail_past_end(n: object) -> Forward:
    """The TX kring's rtail starts at N instead of N - 1."""
    return forward_init(n).replace(trtail=n)


@FORWARD.mutant("rxsync-skips-to-hwtail", "FWD-HOST-VIEW", replaces="rxsync_from_host")
def rxsync_skips_to_hwtail(s: Forward) -> Step:
    """``nr_hwcur = nr_hwtail`` for ``rhead``: packets the user still holds are taken."""
    step = forward_rxsync(s)
    return Step(True, step.post.replace(hwcur=s.hwtail))


@FORWARD.mutant("swap-into-gap", "FWD-TX-VIEW", replaces="rxsync_from_host")
def swap_into_gap(s: Forward) -> Step:
    """The loop counts the TX ring's kept-empty slot as room."""
    room = If(Eq(s.tcur, s.ttail), 0, ring_dist(s.thead, s.ttail, s.n) + 1)
    return Step(True, forward_down(s, room))


@FORWARD.mutant("forward-unmarked", "FWD-ONCE", replaces="rxsync_from_host")
def forward_unmarked(s: Forward) -> Step:
    """NS_FORWARD ignored: every released slot is forwarded (dev.netmap.fwd semantics
    applied to a ring that did not ask for it)."""
    released = ring_dist(s.hwcur, s.head, s.n)
    room = sw_to_nic_room(s)
    f = If(released <= room, released, room)
    post = forward_down(s.replace(marked=released), room)
    return Step(True, post.replace(
        dropped=s.dropped + If(s.marked > f, s.marked - f, 0)))


@FORWARD.mutant("sync-with-one-prepared", "FWD-USER-SLOTS", replaces="rxsync_after_send")
def sync_with_one_prepared(s: Forward) -> Step:
    """An application that syncs the host ring with one TX slot still prepared."""
    return Step(s.prepared <= 1, forward_down(s, sw_to_nic_room(s)))


@FORWARD.mutant("hardened-releases-unsent", "FWD-NO-DROP", replaces="rxsync_hardened")
def hardened_releases_unsent(s: Forward) -> Step:
    """Back-pressure forgotten: hwcur jumps to head although packets found no room (the
    as-shipped rule)."""
    return Step(Eq(s.prepared, 0), forward_down(s, sw_to_nic_room_hardened(s)))


@FORWARD.mutant("hardened-room-to-user-tail", "FWD-KERNEL-SLOTS", replaces="rxsync_hardened")
def hardened_room_to_user_tail(s: Forward) -> Step:
    """The hardened loop checks head and cur against the kring but still runs up to the
    user's tail: a scribbled tail reaches the slots in flight."""
    room = If(And(tx_prologue_accepts(s), Not(Eq(s.tcur, s.ttail))),
              ring_dist(s.thead, s.ttail, s.n), 0)
    return Step(Eq(s.prepared, 0), forward_down_backpressure(s, room))


@FORWARD.mutant("hardened-head-unchecked", "FWD-IN-RING", replaces="rxsync_hardened")
def hardened_head_unchecked(s: Forward) -> Step:
    """The hardened loop bounds the room by rtail but takes head as the user wrote it."""
    room = If(Eq(s.tcur, s.trtail), 0,
              If(in_range(s.thead, s.n), ring_dist(s.thead, s.trtail, s.n), s.marked))
    return Step(Eq(s.prepared, 0), forward_down_backpressure(s, room))


@FORWARD.mutant("hardened-keeps-forwarded-marked", "FWD-ONCE", replaces="rxsync_hardened")
def hardened_keeps_forwarded_marked(s: Forward) -> Step:
    """Back-pressure that does not clear NS_FORWARD on the slots it forwarded: the next
    rxsync sends them again."""
    post = forward_down_backpressure(s, sw_to_nic_room_hardened(s))
    return Step(Eq(s.prepared, 0), post.replace(marked=If(Eq(post.hwcur, s.hwcur), s.marked,
                                                            post.marked)))


@HOST_FWD.mutant("fwd-up-from-first-host-ring", "FWD-NO-ECHO", replaces="rxsync_hardened")
def fwd_up_from_first_host_ring(s: HostFwd, ring: Term, k: Term, can_down: Term) -> Step:
    """The hardened forward-up test one off (``ring_id <= num_rx_rings``): the first host
    RX kring, when it cannot forward down, sends its packets back up."""
    return _fwd_sync(s, ring, k, can_down, lambda r: r <= s.nrx)


@HOST_FWD.mutant("fwd-down-uncounted", "FWD-COUNTED", replaces="rxsync_hardened")
def fwd_down_uncounted(s: HostFwd, ring: Term, k: Term, can_down: Term) -> Step:
    """The swap into the NIC TX rings loses track of the packets it moved."""
    step = rxsync_fwd_hardened(s, ring, k, can_down)
    return Step(step.guard, step.post.replace(down=s.down))


@HOST_FWD.mutant("fwd-init-without-host-ring", "FWD-SHAPE", replaces="init")
def fwd_init_without_host_ring(n: Term) -> HostFwd:
    """An adapter registered with ``nr_host_rx_rings = 0`` taken literally (netmap keeps
    the default of one instead)."""
    return host_fwd_init(n).replace(nhost=0)
