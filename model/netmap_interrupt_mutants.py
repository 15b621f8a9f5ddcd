"""Broken variants of the interrupt side (model/netmap_wakeup.py,
model/netmap_pendintr.py), each refuted against the invariant it names."""

from __future__ import annotations

from model.core import If, Step
from model.netmap_pendintr import (
    PENDINTR,
    RxIntr,
    frame_arrives,
    interrupt,
    rxsync_hardened,
)
from model.netmap_wakeup import WAKE, WakeState, regif_single


@WAKE.mutant("si-users-counts-one-ring", "WAKE-SI-USERS", replaces="regif_single")
def si_users_counts_one_ring(s: WakeState) -> Step:
    """netmap_set_ringid counts a one-ring handle in si_users too."""
    step = regif_single(s)
    return Step(step.guard, step.post.replace(si_users=s.si_users + 1))


@WAKE.mutant("si-users-kept-on-close", "WAKE-SI-USERS", replaces="close_multi")
def si_users_kept_on_close(s: WakeState) -> Step:
    """netmap_unset_ringid forgets to uncount a several-ring handle."""
    return Step(s.multi > s.asleep_multi, s.replace(multi=s.multi - 1))


@WAKE.mutant("global-wake-needs-two", "WAKE-NONE-MISSED", replaces="notify")
def global_wake_needs_two(s: WakeState) -> Step:
    """netmap_notify wakes the global selinfo only when si_users > 1: a lone several-ring
    sleeper is never woken."""
    woken = s.si_users > 1
    return Step(True, s.replace(
        asleep_single=0, asleep_multi=If(woken, 0, s.asleep_multi),
        missed=s.missed + If(woken, 0, s.asleep_multi)))


@WAKE.mutant("sleep-unregistered", "WAKE-SHAPE", replaces="sleep_single")
def sleep_unregistered(s: WakeState) -> Step:
    """poll() records a sleeper on a ring's selinfo without a registered handle."""
    return Step(True, s.replace(asleep_single=s.asleep_single + 1))


@PENDINTR.mutant("irq-forgets-flag", "INTR-FLAGGED", replaces="interrupt")
def irq_forgets_flag(s: RxIntr) -> Step:
    """netmap_common_irq notifies without setting NKR_PENDINTR."""
    step = interrupt(s)
    return Step(step.guard, step.post.replace(pendintr=s.pendintr))


@PENDINTR.mutant("irq-forgets-flag-poll", "INTR-NOT-STRANDED", replaces="interrupt")
def irq_forgets_flag_poll(s: RxIntr) -> Step:
    """The same broken interrupt, seen by a poll() caller with no_pendintr = 0."""
    return irq_forgets_flag(s)


@PENDINTR.mutant("late-frames-uncounted", "INTR-COUNT", replaces="rxsync_hardened")
def late_frames_uncounted(s: RxIntr, force: object, late: object) -> Step:
    """The hardened sync reads the late frames too, without a descriptor to read them
    from."""
    step = rxsync_hardened(s, force, late)
    return Step(step.guard, step.post.replace(unread=0))


@PENDINTR.mutant("arrival-flag-two", "INTR-SHAPE", replaces="frame_arrives")
def arrival_flag_two(s: RxIntr) -> Step:
    """A second frame bumps the interrupt-due flag past 1 (a counter, not a flag)."""
    step = frame_arrives(s)
    return Step(step.guard, step.post.replace(irq_due=s.irq_due + 1))

