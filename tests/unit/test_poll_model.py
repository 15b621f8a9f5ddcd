"""netmap_poll in the model (model/netmap_poll.py), on concrete rings.

The proofs check every claim symbolically; here the same claims are evaluated on every
consistent ring of 2 and 3 slots and every poll call (event wanted or not, NETMAP_NO_TX_POLL or
not, FreeBSD or Linux, any number of slots the driver manages in each pass), and on
adversarial rewrites of head/cur/tail for the kernel-premise claims.  Each claim holds
everywhere except where it names the policy as a finding; there a violating ring must
exist, and the page's worked example must be one.
"""

from __future__ import annotations

import errno
import itertools

import pytest
from support.states import consistent_states

from impl.netmap import NetmapAdapter
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from model.core import U32_MAX
from model.netmap_poll import CLAIMS, POLLS, PollCall, poll_tx
from model.netmap_poll_mutants import MUTANTS
from model.netmap_ring import RX, TX, NetmapRing
from model.netmap_sync import AS_SHIPPED, HARDENED, POLICIES
from proofs.poll_obligations import claim_obligation_id, poll_obligations
from proofs.solve import discharge

MACHINES = {"TX": TX, "RX": RX}
SIZES = (2, 3)


def _calls(n: int) -> list[PollCall]:
    return [PollCall(bool(w), bool(t), bool(f), a, b, bool(stop))
            for w, t, f, stop in itertools.product((0, 1), repeat=4)
            for a, b in ((0, 0), (n, n), (1, 0), (0, 1))]


def _adversary_calls(n: int) -> list[PollCall]:
    """Calls that run the syncs (the lock-free pass off, the event wanted)."""
    return [PollCall(True, bool(t), False, a, a) for t in (0, 1) for a in (0, n)]


def _scribbled(s: NetmapRing) -> list[NetmapRing]:
    n = s.n
    values = (0, n - 1, n, U32_MAX)
    return [s.replace(head=h, cur=c, tail=t)
            for h, c, t in itertools.product(values, repeat=3)]


def _violations(direction: str, claim_id: str, policy: str, parts=None) -> list[tuple]:
    machine = MACHINES[direction]
    claim = next(c for c in CLAIMS[direction] if c.id == claim_id)
    out = []
    for n in SIZES:
        for s in consistent_states(machine, n):
            user = claim.premise == "user"
            for start in [s] if user else _scribbled(s):
                for call in _calls(n) if user else _adversary_calls(n):
                    result = POLLS[direction](policy, start, call, parts)
                    if not claim.holds(start, call, result):
                        out.append((start, call, result))
                        if len(out) >= 3:
                            return out
    return out


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("claim", [(d, c.id, c.findings) for d, cs in CLAIMS.items()
                                   for c in cs if c.premise == "user"],
                         ids=lambda x: x[1])
def test_user_claims_on_every_small_ring(claim: tuple, policy: str) -> None:
    direction, claim_id, findings = claim
    bad = _violations(direction, claim_id, policy)
    if policy in findings:
        assert bad, f"{claim_id} is a finding under {policy}, yet no small ring breaks it"
    else:
        assert not bad, f"{claim_id} fails under {policy}: {bad[0]}"


@pytest.mark.parametrize("direction", ["TX", "RX"])
def test_kernel_claim_survives_scribbles_only_when_hardened(direction: str) -> None:
    claim_id = f"NM-POLL-{direction}-KEEPS-KERNEL"
    assert not _violations(direction, claim_id, HARDENED)
    assert _violations(direction, claim_id, AS_SHIPPED)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_every_mutant_breaks_its_claim_on_a_small_ring(mutant) -> None:
    assert _violations(mutant.direction, mutant.claim, HARDENED, mutant.parts)


def _run(s: NetmapRing, steps: list[tuple[str, dict[str, int]]]) -> NetmapRing:
    for name, args in steps:
        step = TX.transitions[name](s, **args)
        assert step.guard is True and TX.violated(step.post) == []
        s = step.post
    return s


def _cur_at_tail_after_completions() -> NetmapRing:
    """An 8-slot TX ring: 5 slots sent and completed but not reclaimed, the user holding
    2 free slots and asking for more room with cur = tail."""
    return _run(TX.init(8), [("user_advance", {"dh": 5, "dc": 0}),
                            ("txsync_hardened", {"sent": 5}),
                            ("device_complete", {"k": 5}),
                            ("user_advance", {"dh": 0, "dc": 2})])


def test_pollout_with_cur_at_tail_sleeps_as_shipped_and_wakes_hardened() -> None:
    s = _cur_at_tail_after_completions()
    assert (s.head, s.cur, s.tail, s.hwtail, s.nic, s.busy) == (5, 7, 7, 7, 5, 0)
    call = PollCall(want=True, txpoll=True, lock_free=True, first=8, second=8)
    shipped = poll_tx(AS_SHIPPED, s, call)
    assert shipped.sleeps and not shipped.ready and not shipped.err
    assert shipped.post.tail == 7 and shipped.post.nic == 5  # 5 completed slots unreclaimed
    hardened = poll_tx(HARDENED, s, call)
    assert hardened.ready and not hardened.sleeps
    assert hardened.post.tail == 4 and hardened.post.cur == 7


def test_the_solver_counterexample_replays_concretely() -> None:
    wanted = claim_obligation_id("NM-POLL-TX-LIVE", AS_SHIPPED)
    ob = next(o for o in poll_obligations() if o.id == wanted)
    cex = discharge(ob).counterexample
    s = NetmapRing(**cex["pre"])
    call = PollCall(**{k: bool(v) if k in ("want", "txpoll", "lock_free", "stopped") else v
                       for k, v in cex["call"].items()})
    assert TX.violated(s) == []
    result = poll_tx(AS_SHIPPED, s, call)
    assert result.sleeps
    assert result.post.nic != (result.post.hwtail + 1) % s.n
    assert poll_tx(HARDENED, s, call).ready


# ---------------------------------------------------------------------------- implementation


def _impl_agrees(policy: str, tx: NetmapRing, rx: NetmapRing, events: int, txpoll: bool,
                 lock_free: bool, passes: tuple[int, int],
                 stopped: tuple[bool, bool] = (False, False)) -> None:
    ad = NetmapAdapter(1, 1, tx.n, policy=policy, extra_bufs=0)
    ad.load("tx", 0, tx)
    ad.load("rx", 0, rx)
    for kind, stop in zip(("tx", "rx"), stopped, strict=True):
        if stop:
            ad.stop_rings(kind, [0])
    got = ad.poll(events, txpoll=txpoll, lock_free=lock_free, sent=passes, refill=passes)
    results = {}
    for direction, start, bit, stop in (("TX", tx, POLLOUT, stopped[0]),
                                        ("RX", rx, POLLIN, stopped[1])):
        call = PollCall(bool(events & bit), txpoll, lock_free, *passes, stop)
        results[direction] = POLLS[direction](policy, start, call)
    assert ad.abstract("tx", 0) == results["TX"].post
    assert ad.abstract("rx", 0) == results["RX"].post
    want = (POLLOUT if results["TX"].ready else 0) | (POLLIN if results["RX"].ready else 0)
    err = results["TX"].err or results["RX"].err
    assert got.revents == want | (POLLERR if err else 0)
    assert got.blocks == (not want and not err)
    assert results["TX"].sleeps or results["RX"].sleeps or not got.blocks


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("n", [2, 3])
def test_implementation_polls_as_the_model_on_every_small_ring(policy: str, n: int) -> None:
    """impl.netmap.poll on every consistent TX ring (paired with RX rings in turn) and every
    call: the same revents, the same waits and the same ring afterwards as the model."""
    rx_states = consistent_states(RX, n)
    for i, tx in enumerate(consistent_states(TX, n)):
        rx = rx_states[i % len(rx_states)]
        for events in (POLLIN, POLLOUT, POLLIN | POLLOUT):
            for txpoll, lock_free in itertools.product((False, True), repeat=2):
                for passes in ((n, n), (0, 1)):
                    _impl_agrees(policy, tx, rx, events, txpoll, lock_free, passes)
                stopped = (bool(i % 2), bool(i % 3 == 0))
                _impl_agrees(policy, tx, rx, events, txpoll, lock_free, (n, n), stopped)


@pytest.mark.parametrize("policy", POLICIES)
def test_implementation_polls_as_the_model_after_scribbles(policy: str) -> None:
    """The same after the user wrote out-of-range head/cur/tail: the prologues refuse,
    reinit runs and POLLERR is reported exactly where the model says."""
    tx, rx = consistent_states(TX, 3)[17], consistent_states(RX, 3)[11]
    for bad_tx, bad_rx in zip(_scribbled(tx)[::7], _scribbled(rx)[::5], strict=False):
        for events in (POLLIN | POLLOUT, POLLOUT):
            _impl_agrees(policy, bad_tx, bad_rx, events, True, False, (3, 3))


def test_poll_example_on_the_implementation() -> None:
    """The page's worked example on real rings: shipped, POLLOUT sleeps with 5 completed
    slots left on the NIC side; hardened, tail moves past cur."""
    for policy, expect in ((AS_SHIPPED, 0), (HARDENED, POLLOUT)):
        ad = NetmapAdapter(1, 1, 8, policy=policy, extra_bufs=0)
        ad.load("tx", 0, _cur_at_tail_after_completions())
        got = ad.poll(POLLOUT)
        assert got.revents == expect
        assert ad.user_indices("tx", 0)[2] == (7 if policy == AS_SHIPPED else 4)


def test_a_stopped_ring_fails_the_ioctl_with_eio_and_is_left_alone() -> None:
    """nm_kr_tryget refuses a stopped ring: NIOCTXSYNC / NIOCRXSYNC skip it and return
    EIO; the other rings of the batch sync as usual."""
    ad = NetmapAdapter(2, 2, 8, extra_bufs=0)
    ad.user_advance("tx", 0, 3)
    ad.user_advance("tx", 1, 2)
    ad.stop_rings("tx", [0])
    before = ad.abstract("tx", 0)
    r = ad.txsync()
    assert r.skipped.tolist() == [True, False] and r.errno == errno.EIO
    assert r.accepted.tolist() == [False, True] and r.sent.tolist() == [0, 2]
    assert ad.abstract("tx", 0) == before
    ad.start_rings("tx")
    r = ad.txsync()
    assert r.errno == 0 and r.sent.tolist() == [3, 0]
    ad.stop_rings("rx")
    r = ad.rxsync()
    assert r.skipped.all() and r.errno == errno.EIO and not r.reported.any()
