"""`ringspec prove` fails exactly when it should: an unmet expectation, a surviving
mutant, an invariant with no killed mutant, an ``unknown``, or a solver disagreement."""

from __future__ import annotations

import dataclasses
import json

import pytest

import model
from model.core import Step
from proofs import runner, suite
from proofs.obligations import Obligation, mutant_obligations
from proofs.suite import all_obligations
from ringspec.cli import main as cli_main


@pytest.fixture(scope="module")
def report() -> runner.Report:
    return runner.run()


def test_full_run_meets_every_expectation(report):
    data = report.as_json()
    assert data["summary"]["ok"], data["summary"]
    assert {"obligations", "mutants"} <= data.keys()
    for row in data["obligations"]:
        assert {"id", "kind", "result", "expect", "seconds", "rlimit"} <= row.keys()
        assert row["result"] == row["expect"], row["id"]
    assert all(m["result"] == "killed" for m in data["mutants"])
    killed = {m["invariant"] for m in data["mutants"]}
    assert killed == set(suite.checked_ids())


def test_as_shipped_findings_are_refuted_and_hardened_proved(report):
    by_id = {r.obligation.id: r.result for r in report.results}
    for direction in ("tx", "rx"):
        for kind in ("prologue-sound-accept", "prologue-sound-reject"):
            assert by_id[f"netmap_{direction}/{kind}/as_shipped"] == "refuted"
            assert by_id[f"netmap_{direction}/{kind}/hardened"] == "proved"
        assert by_id[f"netmap_{direction}/prologue-complete/as_shipped"] == "proved"


def test_every_transition_and_invariant_has_a_step_obligation():
    ids = {o.id for o in all_obligations()}
    for m in model.MACHINES:
        for t in m.transitions.values():
            for inv in m.invariants.values():
                if inv.scope == "user" and t.view == "breaks":
                    continue
                assert f"{m.name}/step/{t.name}/{inv.id}" in ids


def test_a_surviving_mutant_fails_the_run():
    machine = model.TX
    real = machine.transitions["device_complete"]
    harmless = dataclasses.replace(
        machine.mutants["tx-device-completes-one-more"],
        id="harmless", fn=lambda s, k: Step(real(s, k=k).guard, real(s, k=k).post),
    )
    fake = dataclasses.replace(machine, mutants={"harmless": harmless})
    obligations = list(mutant_obligations(fake))
    report = runner.run(obligations=obligations)
    assert [m["result"] for m in report.as_json()["mutants"]] == ["survived"]
    assert not report.ok


def test_an_unexpected_refutation_fails_the_run():
    ob = next(o for o in all_obligations()
              if o.id == "netmap_tx/step/txsync_as_shipped/NM-TX-ORDER")
    wrong = dataclasses.replace(ob, expect="proved")
    report = runner.run(obligations=[wrong])
    assert report.results[0].result == "refuted" and report.results[0].counterexample
    assert not report.ok


def test_unknown_is_a_failure():
    ob = next(o for o in all_obligations()
              if o.id == "netmap_rx/step/rxsync_hardened/NM-RX-ORDER")
    report = runner.run(obligations=[ob], rlimit=1)
    assert report.results[0].result == "unknown" and report.unknown
    assert not report.ok


def test_cvc5_agrees_with_z3_on_the_sync_obligations():
    report = runner.run(("z3", "cvc5"), only="sync")
    assert len(report.second) == len(report.results) > 20
    assert not report.disagreements
    assert report.ok


def test_cli_json_and_exit_status(capsys):
    assert cli_main(["prove", "--json", "--only", "netmap_tx/init"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["obligations"]) == len(model.TX.invariants)
    assert cli_main(["prove", "--rlimit", "1", "--only", "netmap_rx/step/rxsync_hardened"]) == 1
    assert "PROVE: FAILED" in capsys.readouterr().out


def test_obligation_ids_are_unique():
    ids = [o.id for o in all_obligations()]
    assert len(ids) == len(set(ids))
    assert all(isinstance(o, Obligation) for o in all_obligations())


def test_reseeded_runs_report_their_spread_and_agree():
    report = runner.run(only="netmap_tx/step/txsync", seeds=3)
    spread = report.as_json()["summary"]["seed_spread"]
    assert spread["seeds"] == 3 and len(spread["total_rlimit"]) == 3
    assert spread["results_agree"] and report.ok
    assert all(len(run) == len(report.results) for run in report.reseeded)
