"""Every counterexample the proofs report is minimal, by the solver's own re-check.

For every refuted obligation (findings and mutants), on the same query:

* the reported values are a model (the counterexample is genuine);
* no model has a smaller ring size N;
* at that N, no model has one unknown of smaller magnitude with every other unknown as
  reported (so no single value can be shrunk; a value at the bottom of its domain
  cannot be shrunk because the domain is part of the query).

And the minimum does not depend on the solver: cvc5 finds the same N and the same sum of
magnitudes as z3.
"""

from __future__ import annotations

import pytest

from proofs.obligations import netmap_obligations
from proofs.solve import discharge, open_session, unknowns

REFUTED = [o for o in netmap_obligations() if o.expect == "refuted"]
RESULTS = {o.id: discharge(o) for o in REFUTED}


def reported(session, cex: dict) -> tuple[object, int | None, list[tuple[object, int]]]:
    """(size term, its value, [(other unknown, its value)]) of a counterexample."""
    size, rest = unknowns(session.api, session.query)
    names = {str(t) for t in [size, *rest] if t is not None}
    value: dict[str, int] = {}
    for group, terms in session.query.watch.items():
        for k, t in terms.items():
            if not isinstance(t, int) and session.api.is_const(t) and str(t) in names:
                value.setdefault(str(t), cex[group][k])
    return size, (value[str(size)] if size is not None else None), [
        (t, value[str(t)]) for t in rest]


def test_every_refuted_obligation_has_a_counterexample() -> None:
    assert len(REFUTED) > 40
    assert all(r.result == "refuted" and r.counterexample for r in RESULTS.values())


@pytest.mark.parametrize("ob", REFUTED, ids=lambda o: o.id)
def test_counterexample_cannot_be_shrunk(ob) -> None:
    session = open_session(ob)
    api = session.api
    size, n, rest = reported(session, RESULTS[ob.id].counterexample)
    fixed = [t == v for t, v in rest] + ([size == n] if size is not None else [])
    assert session.sat(*fixed), "the reported values are not a model of the query"
    if size is not None:
        assert not session.sat(size < n), f"a smaller ring than N={n} also refutes it"
    for i, (t, v) in enumerate(rest):
        others = [u == w for j, (u, w) in enumerate(rest) if j != i]
        smaller = api.If(t >= 0, t, -t) < abs(v)
        at_n = [size == n] if size is not None else []
        assert not session.sat(*at_n, *others, smaller), f"{t} = {v} can shrink"


def test_cvc5_finds_the_same_minimum() -> None:
    for ob in REFUTED:
        session = open_session(ob)
        cvc5 = discharge(ob, "cvc5")
        assert cvc5.result == "refuted", ob.id
        measures = []
        for cex in (RESULTS[ob.id].counterexample, cvc5.counterexample):
            _, n, rest = reported(session, cex)
            measures.append((n, sum(abs(v) for _, v in rest)))
        assert measures[0] == measures[1], (ob.id, measures)
