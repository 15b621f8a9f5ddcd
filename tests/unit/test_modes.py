"""``ringspec modes``: the report's shape, and what each strategy must and must not do on
the scenario (small rings, so leaving by waiting takes several ticks)."""

from __future__ import annotations

import json

import pytest

from ringspec import cli, modes

SMALL = modes.Scenario(queues=3, ring_size=16, rate=5, ticks=40, enter_at=5, exit_at=25,
                       autoneg_ticks=4)
KEYS = {"strategy", "exit", "frames", "link_down_ticks", "dropped", "lost", "duplicated",
        "copies", "leaked_buffers", "leave_ticks"}


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    return {f"{r['strategy']}/{r['exit']}": r for r in modes.report(SMALL)["strategies"]}


def test_every_strategy_accounts_for_every_frame_and_buffer(rows) -> None:
    assert set(rows) == {"classic/down-swap-up", "rfc/wait", "rfc/reset"}
    for r in rows.values():
        assert set(r) == KEYS
        assert (r["lost"], r["duplicated"], r["leaked_buffers"]) == (0, 0, 0), r
        assert r["frames"] >= SMALL.queues * SMALL.rate * SMALL.ticks


def test_classic_drops_while_the_link_is_down_and_never_copies(rows) -> None:
    r = rows["classic/down-swap-up"]
    assert r["link_down_ticks"] == 2 * SMALL.autoneg_ticks
    # every frame that reaches an RX ring while the link is down is dropped (TX adds
    # the stack's packets a full queue refuses)
    assert r["dropped"] >= r["link_down_ticks"] * SMALL.queues * SMALL.rate
    assert r["copies"] == 0


def test_rfc_keeps_the_link_and_pays_in_copies(rows) -> None:
    enter_round = SMALL.queues * SMALL.ring_size  # N mbufs per ring, the empty slot's too
    wait, reset = rows["rfc/wait"], rows["rfc/reset"]
    for r in (wait, reset):
        assert (r["link_down_ticks"], r["dropped"]) == (0, 0)
    assert reset["copies"] == enter_round and reset["leave_ticks"] <= 1
    assert wait["copies"] == enter_round + SMALL.queues * (SMALL.ring_size - 1)
    assert wait["leave_ticks"] == -(-(SMALL.ring_size - 1) // SMALL.rate)


def test_cli_prints_json_and_refuses_a_bad_scenario(capsys) -> None:
    assert cli.main(["modes", "--json", "--queues", "1", "--ring-size", "8", "--ticks", "20",
                     "--enter-at", "2", "--exit-at", "10"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenario"]["ring_size"] == 8 and len(doc["strategies"]) == 3
    with pytest.raises(SystemExit):
        cli.main(["modes", "--enter-at", "50", "--exit-at", "10"])
