"""Mutants of netmap_sw_to_nic's swap (model/netmap_forward_swap.py): each is a slip in
the loop body the buffer invariants must catch.  Each changes what the C does and keeps
the ghosts of the real swap (where the buffers should have gone), so the invariant it
names sees the slots as the slip leaves them.  Each stands in for the hardened iteration,
which keeps every invariant whatever the user wrote: a counterexample is the slip's own
(the as-shipped iteration already breaks SWAP-PERM and SWAP-NIC on a scribbled TX ring).
"""

from __future__ import annotations

from collections.abc import Callable

from model.core import And, Eq, Not, Step, ring_next
from model.netmap_forward_swap import (
    SWAP,
    Swap,
    iterate,
    select,
    store,
    swap_ghosts,
    swap_slots,
    tx_next,
    tx_room_hardened,
)


def hardened(s: Swap, body: Callable[[Swap], Swap] = swap_slots) -> Step:
    """The hardened iteration with ``body`` as the loop body."""
    return Step(And(Not(Eq(s.rxcur, s.rhead)), tx_room_hardened(s)), iterate(s, body))


@SWAP.mutant("swap-copies-into-tx", "SWAP-PERM", "iteration_hardened")
def copies_into_tx(s: Swap) -> Step:
    """The TX slot gets the packet's buffer but the host slot is not given the TX slot's
    buffer: the packet's buffer is in two slots and the TX slot's old buffer is lost."""
    return hardened(s, lambda t: swap_slots(t).replace(rx=t.rx))


@SWAP.mutant("swap-without-tmp", "SWAP-PERM", "iteration_hardened")
def without_tmp(s: Swap) -> Step:
    """The swap without the temporary copy, the TX slot written first: the host slot then
    reads back the value just written, so both slots hold the packet's buffer."""
    def body(t: Swap) -> Swap:
        post = swap_slots(t)
        return post.replace(rx=store(t.rx, t.rxcur, select(post.tx, t.thead)))

    return hardened(s, body)


@SWAP.mutant("swap-forgets-tx", "SWAP-PERM", "iteration_hardened")
def forgets_tx(s: Swap) -> Step:
    """The host slot gets the TX slot's buffer but the TX slot keeps it: the TX slot's
    buffer is in two slots and the packet's buffer is lost."""
    return hardened(s, lambda t: swap_slots(t).replace(tx=t.tx))


@SWAP.mutant("swap-into-next-slot", "SWAP-DELIVERED", "iteration_hardened")
def into_next_slot(s: Swap) -> Step:
    """The packet goes to TX slot ``head + 1`` while head advances by one."""
    def body(t: Swap) -> Swap:
        moved = swap_slots(t.replace(thead=tx_next(t, t.thead)))
        nxt = tx_next(t, t.thead)
        return moved.replace(thead=nxt, tcur=nxt)

    return hardened(s, body)


@SWAP.mutant("swap-len-not-copied", "SWAP-DELIVERED", "iteration_hardened")
def len_not_copied(s: Swap) -> Step:
    """The TX slot's length is not set from the packet: it sends its old length."""
    return hardened(s, lambda t: swap_slots(t).replace(tx_len=t.tx_len))


@SWAP.mutant("swap-src-flags-kept", "SWAP-CHANGED", "iteration_hardened")
def src_flags_kept(s: Swap) -> Step:
    """The host slot's flags are not set to NS_BUF_CHANGED: its new buffer is not
    announced (and it keeps NS_FORWARD)."""
    return hardened(s, lambda t: swap_slots(t).replace(
        rx_flags=t.rx_flags))


@SWAP.mutant("swap-head-not-advanced", "SWAP-TX-VIEW", "iteration_hardened")
def head_not_advanced(s: Swap) -> Step:
    """The TX ring's head and cur are not advanced: the next packet is swapped into the
    same TX slot, taking this one back out."""
    return hardened(s, lambda t: swap_slots(t).replace(
        thead=t.thead, tcur=t.tcur))


@SWAP.mutant("swap-ignores-ns-forward", "SWAP-KEPT", "iteration_hardened")
def ignores_ns_forward(s: Swap) -> Step:
    """Every released slot is swapped, NS_FORWARD or not (the skip lost)."""
    swapped = swap_ghosts(s, swap_slots(s))
    return Step(hardened(s).guard, swapped.replace(rxcur=ring_next(s.rxcur, s.n)))


@SWAP.mutant("swap-runs-past-rhead", "SWAP-SHAPE", "iteration_hardened")
def runs_past_rhead(s: Swap) -> Step:
    """The loop tests ``rxcur != rhead + 1``: it takes one slot the user has not
    released."""
    return Step(And(Not(Eq(s.rxcur, ring_next(s.rhead, s.n))), tx_room_hardened(s)),
                iterate(s))


@SWAP.mutant("swap-hardened-trusts-tail", "SWAP-NIC", "iteration_hardened")
def hardened_trusts_tail(s: Swap) -> Step:
    """The hardened loop checks head and cur against the kring but still runs to the
    ring's ``tail`` instead of ``rtail``."""
    trusting = tx_room_hardened(s.replace(trtail=s.ttail))
    return Step(And(Not(Eq(s.rxcur, s.rhead)), trusting), iterate(s))


MUTANTS = tuple(SWAP.mutants)
