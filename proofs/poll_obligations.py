"""Obligations for netmap_poll (model/netmap_poll.py): every claim about one poll call, on
each direction's ring, under both policies, and a refuted mutant per claim.

A claim's query: a ring state satisfying the invariants its premise names, any poll call
(the event wanted or not, NETMAP_NO_TX_POLL or not, FreeBSD's lock-free pass or Linux, any
number of slots the driver manages in each pass); the goal is the claim on what poll
returns and leaves.  Kinds: ``poll`` (expected proved, or refuted where the claim lists
the policy as a finding) and ``mutant``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from model import netmap_poll, netmap_poll_rings, netmap_ring
from model.core import If, Machine, state_fields
from model.netmap_poll import CLAIMS, POLLS, Claim, PollCall, RxPollParts, TxPollParts
from model.netmap_poll_host import HOST_RING
from model.netmap_poll_mutants import MUTANTS
from model.netmap_poll_rings import (
    HOST_RING_COUNTS,
    RING_COUNTS,
    RingsCall,
    RingsClaim,
    RingsParts,
)
from model.netmap_sync import HARDENED, POLICIES
from proofs.obligations import Obligation, Query, _named_invariants
from proofs.symbolic import SolverAPI, fresh_state

MACHINES: dict[str, Machine] = {"TX": netmap_ring.TX, "RX": netmap_ring.RX}

#: The name the poll obligations are reported under (the rings are netmap_tx's and
#: netmap_rx's states; poll is not one of their transitions).
NAME = "netmap_poll"


def _claim_query(api: SolverAPI, direction: str, claim: Claim, policy: str,
                 parts: TxPollParts | RxPollParts | None = None) -> Query:
    machine = MACHINES[direction]
    pre = fresh_state(api, machine, "pre")
    n = pre.state.n
    flags = {name: api.Int(f"call.{name}")
             for name in ("want", "txpoll", "lock_free", "stopped")}
    counts = {name: api.Int(f"call.{name}") for name in ("first", "second")}
    constraints = [c for x in flags.values() for c in (x >= 0, x <= 1)]
    constraints += [c for x in counts.values() for c in (x >= 0, x <= n)]
    call = PollCall(**{k: v == 1 for k, v in flags.items()}, **counts)
    result = POLLS[direction](policy, pre.state, call, parts)
    outcome = {"ready": If(result.ready, 1, 0), "err": If(result.err, 1, 0),
               "sleeps": If(result.sleeps, 1, 0)}
    return Query(
        [*pre.constraints, *constraints], claim.holds(pre.state, call, result), "valid",
        {"pre": pre.variables, "call": {**flags, **counts}, "post": state_fields(result.post),
         "returns": outcome},
        _named_invariants(machine, pre.state, user_view=claim.premise == "user"),
    )


def _rings_query(api: SolverAPI, claim: RingsClaim, policy: str, count: int,
                 parts: RingsParts | None = None, host: bool = False) -> Query:
    """``count`` rings of one adapter (one size, each satisfying every invariant, the
    user's view included; with ``host`` the last is the host kring, in its shape) and any
    call on them; the goal is the claim."""
    machine = MACHINES[claim.direction]
    first = fresh_state(api, machine, "ring0")
    n = first.state.n
    pres = [first] + [fresh_state(api, machine, f"ring{i}", n) for i in range(1, count)]
    flags = {name: api.Int(f"call.{name}") for name in ("want", "txpoll", "lock_free")}
    per = {f"{name}{i}": api.Int(f"call.{name}{i}") for i in range(count)
           for name in ("first", "second", "stopped")}
    constraints = [c for x in flags.values() for c in (x >= 0, x <= 1)]
    constraints += [c for k, x in per.items()
                    for c in (x >= 0, x <= (1 if k.startswith("stopped") else n))]
    call = RingsCall(**{k: v == 1 for k, v in flags.items()},
                     first=tuple(per[f"first{i}"] for i in range(count)),
                     second=tuple(per[f"second{i}"] for i in range(count)),
                     stopped=tuple(per[f"stopped{i}"] == 1 for i in range(count)),
                     host=host)
    rings = [p.state for p in pres]
    if host:
        constraints.append(HOST_RING[claim.direction](rings[-1]))
    result = netmap_poll_rings.POLLS[claim.direction](policy, rings, call, parts)
    watch = {f"pre{i}": p.variables for i, p in enumerate(pres)}
    watch |= {f"post{i}": state_fields(q) for i, q in enumerate(result.posts)}
    watch["call"] = {**flags, **per}
    watch["returns"] = {"ready": If(result.ready, 1, 0), "err": If(result.err, 1, 0),
                        "sleeps": If(result.sleeps, 1, 0)}
    named = {f"ring{i}.{k}": v for i, p in enumerate(pres)
             for k, v in _named_invariants(machine, p.state, user_view=True).items()}
    return Query([*[c for p in pres for c in p.constraints], *constraints],
                 claim.holds(rings, call, result), "valid", watch, named)


def _rings_vacuity_query(api: SolverAPI, direction: str, count: int, policy: str,
                         host: bool = False) -> Query:
    """Over ``count`` rings poll can put the caller to sleep and can report the event
    after a sync (not only from the lock-free pass)."""
    claim = RingsClaim("", direction, "", lambda rings, call, r: True)
    q = _rings_query(api, claim, policy, count, host=host)
    ready = q.watch["returns"]["ready"] == 1
    return Query([*q.premises, *q.named.values()], ready, "sat", q.watch)


def ring_sets() -> Iterator[tuple[int, bool]]:
    """(number of rings, last one the host kring?) the claims are proved for."""
    yield from ((count, False) for count in RING_COUNTS)
    yield from ((count, True) for count in HOST_RING_COUNTS)


def rings_obligations() -> Iterator[Obligation]:
    """The several-ring claims for 2 and 3 NIC rings and for the host kring alone and
    after a NIC ring, under each policy, anti-vacuity, and each mutant (hardened, 2
    rings)."""
    name = f"{NAME}_rings"
    for direction in ("TX", "RX"):
        for count, host in ring_sets():
            for policy in POLICIES:
                yield Obligation(
                    f"{name}/{direction.lower()}/vacuity-poll/{rings_label(count, host)}"
                    f"/{policy}", "vacuity-poll", "proved",
                    partial(_rings_vacuity_query, direction=direction, count=count,
                            policy=policy, host=host),
                    NAME, transition=f"poll_{direction.lower()}_rings_{policy}")
    for claim in netmap_poll_rings.CLAIMS:
        for count, host in ring_sets():
            for policy in POLICIES:
                finding = claim.fails_under(policy, count, host)
                yield Obligation(
                    rings_claim_obligation_id(claim.id, count, policy, host), "poll",
                    "refuted" if finding else "proved",
                    partial(_rings_query, claim=claim, policy=policy, count=count,
                            host=host),
                    NAME, invariant=claim.id,
                    transition=f"poll_{claim.direction.lower()}_rings_{policy}",
                    note="as-shipped finding" if finding else "")
    by_id = {c.id: c for c in netmap_poll_rings.CLAIMS}
    for mutant in netmap_poll_rings.MUTANTS:
        claim = by_id[mutant.claim]
        yield Obligation(
            rings_mutant_obligation_id(mutant.id), "mutant", "refuted",
            partial(_rings_query, claim=claim, policy=HARDENED, count=2,
                    parts=mutant.parts, host=mutant.host),
            NAME, invariant=mutant.claim,
            transition=f"poll_{claim.direction.lower()}_rings_{HARDENED}", note=mutant.doc)


def _vacuity_query(api: SolverAPI, direction: str, outcome: str, policy: str) -> Query:
    """Some well-behaved state and call make poll return ``outcome`` (``ready`` or
    ``sleeps``): the claims conditioned on it are not vacuous."""
    q = _claim_query(api, direction, _NO_CLAIM, policy)
    return Query([*q.premises, *q.named.values()], q.watch["returns"][outcome] == 1, "sat",
                 q.watch)


_NO_CLAIM = Claim("", "", "user", lambda s, call, r: True)


def poll_obligations() -> Iterator[Obligation]:
    """Anti-vacuity (poll can report the event and can put the caller to sleep), each
    claim on each ring under each policy, then each mutant (hardened policy)."""
    for direction, claims in CLAIMS.items():
        d = direction.lower()
        for policy in POLICIES:
            for outcome in ("ready", "sleeps"):
                yield Obligation(
                    f"{NAME}/{d}/vacuity-poll/{outcome}/{policy}", "vacuity-poll", "proved",
                    partial(_vacuity_query, direction=direction, outcome=outcome,
                            policy=policy),
                    NAME, transition=f"poll_{d}_{policy}",
                )
        for claim in claims:
            for policy in POLICIES:
                finding = policy in claim.findings
                yield Obligation(
                    claim_obligation_id(claim.id, policy), "poll",
                    "refuted" if finding else "proved",
                    partial(_claim_query, direction=direction, claim=claim, policy=policy),
                    NAME, invariant=claim.id, transition=f"poll_{d}_{policy}",
                    note="as-shipped finding" if finding else "",
                )
    claims_by_id = {c.id: c for cs in CLAIMS.values() for c in cs}
    for mutant in MUTANTS:
        yield Obligation(
            mutant_obligation_id(mutant.id), "mutant", "refuted",
            partial(_claim_query, direction=mutant.direction,
                    claim=claims_by_id[mutant.claim], policy=HARDENED, parts=mutant.parts),
            NAME, invariant=mutant.claim,
            transition=f"poll_{mutant.direction.lower()}_{HARDENED}", note=mutant.doc,
        )
    yield from rings_obligations()


def claim_obligation_id(claim_id: str, policy: str) -> str:
    """``netmap_poll/tx/NM-POLL-TX-LIVE/as_shipped``."""
    direction = claim_id.split("-")[2].lower()
    return f"{NAME}/{direction}/{claim_id}/{policy}"


def rings_label(count: int, host: bool) -> str:
    """``2`` (NIC rings), ``1+host`` (a NIC ring and the host kring), ``0+host``."""
    return f"{count - 1}+host" if host else str(count)


def rings_claim_obligation_id(claim_id: str, count: int, policy: str,
                              host: bool = False) -> str:
    """``netmap_poll_rings/NM-POLL-RINGS-TX-LIVE/2/as_shipped``,
    ``netmap_poll_rings/NM-POLL-RINGS-TX-LIVE/1+host/as_shipped``."""
    return f"{NAME}_rings/{claim_id}/{rings_label(count, host)}/{policy}"


def rings_mutant_obligation_id(mutant_id: str) -> str:
    return f"{NAME}_rings/mutant/{mutant_id}"


def mutant_obligation_id(mutant_id: str) -> str:
    return f"{NAME}/mutant/{mutant_id}"


def claim_ids() -> list[str]:
    """Every poll claim (one ring and several): each needs a killed mutant."""
    return ([c.id for cs in netmap_poll.CLAIMS.values() for c in cs]
            + [c.id for c in netmap_poll_rings.CLAIMS])
