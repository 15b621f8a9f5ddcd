"""NKR_PENDINTR: whether a frame the NIC wrote is read by the next poll() that
could read it, when rxsync reads the NIC only after an interrupt.

``netmap_common_irq`` sets ``NKR_PENDINTR`` on an RX
kring before it notifies.  A native driver's rxsync reads the NIC only when
``netmap_no_pendintr`` is set (the default, sysctl ``dev.netmap.no_pendintr=1``), when the
caller passes NAF_FORCE_READ (NIOCRXSYNC does; poll() does not), or when ``NKR_PENDINTR``
is set, and clears the flag *after* its read loop (ixgbe_netmap_rxsync; every native
driver at the pinned commit does the same).  With ``no_pendintr = 0`` a frame that lands
after the read loop looked at its descriptor, and whose interrupt fires before the clear,
loses its interrupt: the flag is cleared, nothing else will set it, and every later
poll() skips the NIC until another frame arrives (``INTR-NOT-STRANDED``, refuted as
shipped).  The default setting hides it, since the driver then reads the NIC on every
sync.  The hardened step clears the flag before it reads the NIC, so a frame that arrives
during the sync either is read or sets the flag again.  The frames that land during a
sync, after its read loop, are the step's parameter ``late`` (their interrupt fires
inside the sync; the kring lock does not keep netmap_rx_irq out).  Upstream:

* ``netmap_common_irq``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4472);
* ``ixgbe_netmap_rxsync``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/ixgbe_netmap.h#L360);
* poll()'s rxsync without NAF_FORCE_READ and the ioctl's with it, in netmap_poll and
  netmap_ioctl
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3226).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Machine, Or, Param, Step, Term, Var


@dataclass(frozen=True)
class RxIntr:
    """One RX kring's interrupt flag, the frames the NIC wrote and the driver has not read,
    and the interrupt still to come for them."""

    n: Term
    no_pendintr: Term
    unread: Term
    irq_due: Term
    pendintr: Term
    arrived: Term
    read: Term

    def __repr__(self) -> str:
        return (f"RxIntr(no_pendintr={self.no_pendintr}, unread={self.unread}, "
                f"irq_due={self.irq_due}, pendintr={self.pendintr}, "
                f"arrived={self.arrived}, read={self.read})")

    def replace(self, **changes: Term) -> RxIntr:
        return dataclasses.replace(self, **changes)


PENDINTR_VARS = (
    Var("n", "constant", "size", "Slots in the ring (the rules here do not depend on it)."),
    Var("no_pendintr", "kernel", "count", "The sysctl dev.netmap.no_pendintr (default 1): "
        "the driver reads the NIC on every rxsync."),
    Var("unread", "device", "count", "Frames the NIC has written to the ring that no rxsync "
        "has read yet."),
    Var("irq_due", "device", "count", "1 while the NIC still owes the RX interrupt for "
        "frames it wrote (interrupt moderation delays it)."),
    Var("pendintr", "kernel", "count", "NKR_PENDINTR in kring->nr_kflags."),
    Var("arrived", "ghost", "count", "Frames the NIC has written, ever."),
    Var("read", "ghost", "count", "Frames an rxsync has read from the NIC, ever."),
)

SYNC_PARAMS = (
    Param("force", "bit", "NAF_FORCE_READ: 1 for NIOCRXSYNC, 0 for poll()"),
    Param("late", "count", "frames that land after the read loop passed their slot, while "
          "the sync runs; their interrupt fires inside the sync"),
)


def pendintr_init(n: Term) -> RxIntr:
    """An empty ring, the sysctl at its default (1)."""
    return RxIntr(n=n, no_pendintr=1, unread=0, irq_due=0, pendintr=0, arrived=0, read=0)


def set_no_pendintr(s: RxIntr, v: Term) -> Step:
    """``sysctl dev.netmap.no_pendintr=v`` (root, at any time)."""
    return Step(True, s.replace(no_pendintr=v))


def frame_arrives(s: RxIntr) -> Step:
    """The NIC writes a frame into the ring; its interrupt is due."""
    return Step(True, s.replace(unread=s.unread + 1, arrived=s.arrived + 1, irq_due=1))


def interrupt(s: RxIntr) -> Step:
    """netmap_rx_irq / netmap_common_irq: NKR_PENDINTR set, then nm_notify."""
    return Step(Eq(s.irq_due, 1), s.replace(pendintr=1, irq_due=0))


def reads_nic(s: RxIntr, force: Term) -> Term:
    """The driver's test: ``netmap_no_pendintr || force_update`` with ``force_update =
    (flags & NAF_FORCE_READ) || (nr_kflags & NKR_PENDINTR)``."""
    return Or(Eq(s.no_pendintr, 1), Eq(force, 1), Eq(s.pendintr, 1))


def _late(s: RxIntr, late: Term) -> RxIntr:
    """``late`` frames land during the sync and their interrupt fires there."""
    return s.replace(unread=s.unread + late, arrived=s.arrived + late,
                     pendintr=If(late > 0, 1, s.pendintr),
                     irq_due=If(late > 0, 0, s.irq_due))


def _pick(cond: Term, a: RxIntr, b: RxIntr) -> RxIntr:
    """``a`` where ``cond`` holds, else ``b``, field by field."""
    if isinstance(cond, bool):
        return a if cond else b
    return RxIntr(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                     for f in dataclasses.fields(RxIntr)})


def rxsync_as_shipped(s: RxIntr, force: Term, late: Term) -> Step:
    """ixgbe_netmap_rxsync: read every frame the NIC wrote, let ``late`` frames land and
    raise their interrupt, then clear NKR_PENDINTR (after the read, as every driver does)."""
    reads = reads_nic(s, force)
    took = s.replace(read=s.read + s.unread, unread=0)
    after = _late(took, late).replace(pendintr=0)
    return Step(True, _pick(reads, after, _late(s, late)))


def rxsync_hardened(s: RxIntr, force: Term, late: Term) -> Step:
    """Clear NKR_PENDINTR first, then read the NIC: a frame that lands after the read loop
    passed its slot sets the flag again."""
    reads = reads_nic(s, force)
    took = s.replace(pendintr=0, read=s.read + s.unread, unread=0)
    return Step(True, _pick(reads, _late(took, late), _late(s, late)))


def _bit(x: Term) -> Term:
    return And(x >= 0, x <= 1)


def pendintr_shape(s: RxIntr) -> Term:
    return And(s.unread >= 0, s.read >= 0, _bit(s.irq_due), _bit(s.pendintr),
               _bit(s.no_pendintr))


def frames_counted(s: RxIntr) -> Term:
    return Eq(s.arrived, s.read + s.unread)


def flagged(s: RxIntr) -> Term:
    return Or(Eq(s.unread, 0), Eq(s.pendintr, 1), Eq(s.irq_due, 1))


def not_stranded(s: RxIntr) -> Term:
    return Or(flagged(s), Eq(s.no_pendintr, 1))


PENDINTR = Machine(
    name="netmap_pendintr",
    title="NKR_PENDINTR: RX interrupts and poll()",
    state_type=RxIntr,
    vars=PENDINTR_VARS,
    init=pendintr_init,
    doc="An empty RX ring, no interrupt pending, the sysctl at its default.",
)

PENDINTR.transition(actor="user", params=(Param("v", "bit", "the new value"),))(
    set_no_pendintr)
PENDINTR.transition(actor="device")(frame_arrives)
PENDINTR.transition(actor="device")(interrupt)
PENDINTR.transition(actor="kernel", params=SYNC_PARAMS,
                    breaks=("INTR-FLAGGED", "INTR-NOT-STRANDED"))(rxsync_as_shipped)
PENDINTR.transition(actor="kernel", params=SYNC_PARAMS)(rxsync_hardened)

for _id, _sentence, _fn in (
    ("INTR-SHAPE", "Counts are >= 0 and flags are 0 or 1.", pendintr_shape),
    ("INTR-COUNT", "Every frame the NIC wrote has been read by an rxsync or is still in the "
     "ring: arrived = read + unread.", frames_counted),
    ("INTR-FLAGGED", "A frame the NIC wrote and no rxsync read has NKR_PENDINTR set or its "
     "interrupt still to come, whatever the sysctl says.", flagged),
    ("INTR-NOT-STRANDED", "A frame the NIC wrote is read by the next rxsync from poll(): "
     "the driver reads the NIC on every sync (no_pendintr = 1), or NKR_PENDINTR is set, or "
     "the frame's interrupt is still to come.", not_stranded),
):
    PENDINTR.invariant(_id, _sentence)(_fn)
