"""A corrupted kring: the prologues' kernel sanity test (the NM_FAIL_ON checks of the
kring indices at the top of nm_txsync_prologue,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1721
and of nm_rxsync_prologue,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1785)
rejects a sync when a kernel index is >= N, even though the user's head and cur are fine.
The oracle is the model's prologue and sync on the same state."""

from __future__ import annotations

import pytest

from impl.netmap import AS_SHIPPED, HARDENED, NetmapAdapter
from model.core import U32_MAX
from model.netmap_ring import RX, TX, caller_accepts, nm_rxsync_prologue, nm_txsync_prologue

N = 8
# The kring indices each prologue checks (netmap.c's NM_FAIL_ON kernel sanity block).
CHECKED = {"tx": ("hwcur", "rhead", "rtail", "hwtail"), "rx": ("hwcur", "hwtail")}
CASES = [(kind, field) for kind, fields in CHECKED.items() for field in fields]


def ring_with_traffic(policy: str, traffic: bool) -> NetmapAdapter:
    """A fresh ring, or with traffic (TX: 3 slots in flight, 1 completed; RX: 3
    received, 1 released); the user then publishes / releases one more slot, a legal
    request.  (On a fresh TX ring head <= rtail numerically, so a head/cur test against
    a corrupted rhead = N can pass and only the sanity test rejects.)"""
    a = NetmapAdapter(1, 1, N, buf_size=32, policy=policy)
    if not traffic:
        a.user_advance("tx", 0, 1)
        return a
    a.user_advance("tx", 0, 3)
    a.txsync(0)
    a.device_complete(0, 1)
    a.txsync(0)
    a.device_deliver(0, 3)
    a.rxsync(0)
    a.user_advance("rx", 0, 1)
    a.rxsync(0)
    a.user_advance("tx", 0, 1)
    a.user_advance("rx", 0, 1)
    return a


@pytest.mark.parametrize("policy", (AS_SHIPPED, HARDENED))
@pytest.mark.parametrize(("kind", "field"), CASES, ids=[f"{k}-{f}" for k, f in CASES])
@pytest.mark.parametrize("bad", (N, N + 3, U32_MAX))
@pytest.mark.parametrize("traffic", (False, True), ids=("fresh", "traffic"))
def test_prologue_rejects_a_corrupted_kring(policy: str, kind: str, field: str,
                                            bad: int, traffic: bool) -> None:
    machine, prologue = (TX, nm_txsync_prologue) if kind == "tx" else (RX, nm_rxsync_prologue)
    a = ring_with_traffic(policy, traffic)
    good = a.abstract(kind, 0)
    assert not machine.violated(good)
    assert caller_accepts(prologue(policy, good)), "the user's request alone is acceptable"
    getattr(a.krings(kind), field)[0] = bad
    corrupted = a.abstract(kind, 0)
    assert not caller_accepts(prologue(policy, corrupted))
    sync = a.txsync if kind == "tx" else a.rxsync
    result = sync(0)
    assert result.accepted.tolist() == [False]
    if kind == "tx":  # a rejected TX sync is a reinit only: nothing reaches the NIC
        assert result.sent.tolist() == [0] and result.bad_slot.tolist() == [-1]
    if (kind, field) != ("rx", "hwcur"):
        # RX still runs the driver after a rejection; from a kring whose hwcur is not a
        # slot index the refill count is outside what the model defines (the model's
        # ring distance assumes indices < N), so only the verdict is compared there.
        post = machine.transitions[f"{kind}sync_{policy}"](
            corrupted, **{"sent" if kind == "tx" else "refill": N}).post
        assert a.abstract(kind, 0) == post
