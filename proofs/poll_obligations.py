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

from model import netmap_poll, netmap_ring
from model.core import If, Machine, state_fields
from model.netmap_poll import CLAIMS, POLLS, Claim, PollCall, RxPollParts, TxPollParts
from model.netmap_poll_mutants import MUTANTS
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


def claim_obligation_id(claim_id: str, policy: str) -> str:
    """``netmap_poll/tx/NM-POLL-TX-LIVE/as_shipped``."""
    direction = claim_id.split("-")[2].lower()
    return f"{NAME}/{direction}/{claim_id}/{policy}"


def mutant_obligation_id(mutant_id: str) -> str:
    return f"{NAME}/mutant/{mutant_id}"


def claim_ids() -> list[str]:
    """Every poll claim: each needs a killed mutant."""
    return [c.id for cs in netmap_poll.CLAIMS.values() for c in cs]
