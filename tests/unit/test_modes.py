"""``ringspec modes``: the report's shape, and what each strategy must and must not do on
the scenario (small rings, so leaving by waiting takes several ticks)."""

from __future__ import annotations

import json

import pytest

from ringspec import cli, modes, modes_ena

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
    ena = {(r["strategy"], r["exit"]): r for r in doc["ena"]["strategies"]}
    assert set(ena) == {("classic", "down-swap-up"), ("rfc", "wait"), ("rfc", "reset")}
    assert ena["rfc", "reset"]["lost"] == 0 and ena["rfc", "reset"]["ring_resets"] > 0
    with pytest.raises(SystemExit):
        cli.main(["modes", "--enter-at", "50", "--exit-at", "10"])


ENA_SMALL = modes_ena.EnaScenario(queues=1, ring_size=256, rate=32, ticks=16, enter_at=4,
                                  exit_at=9)


@pytest.fixture(scope="module")
def ena_rows() -> dict[str, dict]:
    return {f"{r['strategy']}/{r['exit']}": r
            for r in modes_ena.report(ENA_SMALL)["strategies"]}


def test_on_ena_every_frame_is_delivered_dropped_freed_or_lost(ena_rows) -> None:
    assert set(ena_rows) == {"classic/down-swap-up", "rfc/wait", "rfc/reset"}
    for r in ena_rows.values():
        assert set(r) == set(modes_ena.COLUMNS)
        assert r["frames"] >= ENA_SMALL.rate * ENA_SMALL.ticks
        assert r["delivered"] + r["dropped"] + r["freed_at_down"] + r["lost"] == r["frames"]
        assert (r["duplicated"], r["leaked_bytes"], r["device_resets"]) == (0, 0, 0), r
        assert r["leaked_buffers"] == 0, r


def test_on_ena_the_rfc_delivers_every_frame_and_waits_to_leave(ena_rows) -> None:
    r = ena_rows["rfc/wait"]
    assert r["delivered"] == r["frames"]
    assert (r["dropped"], r["freed_at_down"], r["lost"]) == (0, 0, 0)
    assert (r["ring_resets"], r["interface_downs"]) == (0, 0)
    # one round of copies each way: the mbufs posted at the switch, then the netmap
    # buffers posted at the close (ENA refills in steps, so fewer than N - 1 each)
    n = ENA_SMALL.ring_size - 1
    assert n < r["copies"] <= 2 * n
    assert r["leave_ticks"] >= (r["copies"] // 2) // ENA_SMALL.rate


def test_on_ena_the_rfc_reset_exit_is_bounded_and_copies_one_round(ena_rows) -> None:
    """Leaving by resetting the RX queues: every frame delivered, none dropped (no frame
    reaches the device while a queue is gone here), no ena_down and no device reset, one
    ring reset per RX queue that held netmap buffers, only the entering round of copies,
    and the registration gone in the close's tick (its TX packets complete then)."""
    r, wait = ena_rows["rfc/reset"], ena_rows["rfc/wait"]
    assert r["delivered"] == r["frames"] == wait["frames"]
    assert (r["dropped"], r["freed_at_down"], r["lost"]) == (0, 0, 0)
    assert (r["interface_downs"], r["device_resets"]) == (0, 0)
    assert r["ring_resets"] == ENA_SMALL.queues
    n = ENA_SMALL.ring_size - 1
    assert 0 < r["copies"] <= n and r["copies"] < wait["copies"]
    assert 1 <= r["leave_ticks"] <= 1 < wait["leave_ticks"]


def test_on_ena_classic_loses_the_packets_in_flight_at_each_switch(ena_rows) -> None:
    r = ena_rows["classic/down-swap-up"]
    # entering: the stack's packets of that tick, freed by ena_down before completing;
    # leaving: the user's packets of that tick, received but not yet read, freed with the
    # RX buffers -- counted nowhere
    assert r["freed_at_down"] == ENA_SMALL.rate and r["lost"] == ENA_SMALL.rate
    assert r["delivered"] == r["frames"] - 2 * ENA_SMALL.rate and r["dropped"] == 0
    assert r["interface_downs"] == 2 and r["ring_resets"] == 0
    assert (r["copies"], r["leave_ticks"], r["duplicated"], r["leaked_bytes"]) == (0, 0, 0, 0)


def test_cli_prints_the_ena_rows(capsys) -> None:
    assert cli.main(["modes"]) == 0
    out = capsys.readouterr().out
    ena = out.split("on ENA")[1].splitlines()
    assert [line.split()[:2] for line in ena[2:]] == [
        ["classic", "down-swap-up"], ["rfc", "wait"], ["rfc", "reset"]]
