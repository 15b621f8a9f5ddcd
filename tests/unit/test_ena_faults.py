"""``ringspec faults``: every fault knob of the simulated device ends in the reset reason
the driver is meant to report, recovers (or, where the C gives up, does not), loses no
host memory and accounts for every packet."""

from __future__ import annotations

import json

import pytest

from ringspec import faults
from ringspec.cli import main as cli


@pytest.fixture(scope="module")
def table() -> list[faults.Outcome]:
    return faults.run_all(seed=0, jobs=2)


def test_every_knob_has_a_scenario() -> None:
    from impl.device.faults import Faults
    from impl.device.mgmt_faults import MgmtFaults
    knobs = {f for f in Faults.names()} | set(MgmtFaults.names())
    assert {s.fault for s in faults.SCENARIOS} == knobs


def test_every_fault_ends_as_the_driver_means(table: list[faults.Outcome]) -> None:
    wrong = [(o.fault, o.reset_reason, o.expected_reason, o.recovered)
             for o in table if not o.as_expected]
    assert not wrong


def test_nothing_is_leaked_or_unaccounted(table: list[faults.Outcome]) -> None:
    assert all(o.leaked_buffers == 0 and o.unaccounted == 0 for o in table)


def test_a_reset_with_packets_in_flight_loses_them_and_no_reset_loses_none(
        table: list[faults.Outcome]) -> None:
    by = {o.fault: o for o in table}
    assert by["tx_req_id_oob"].lost_packets > 0 and by["tx_req_id_oob"].resets >= 1
    for quiet in ("link_flap", "admin_intr_lost"):
        assert by[quiet].resets == 0 and by[quiet].lost_packets == 0
        assert by[quiet].ticks_to_recover == 0
    for reads in ("readless_timeout", "readless_bad_offset"):  # the reset waits it out
        window = next(s.window_s for s in faults.SCENARIOS if s.fault == reads)
        o = by[reads]
        assert o.resets == 1 and o.recovered and o.ticks_to_recover is not None
        assert o.ticks_to_recover > window, "no reset while the device does not answer"
    assert by["keep_alive_missing"].ticks_to_recover is not None
    assert by["keep_alive_missing"].ticks_to_recover >= 7, "6 s without keep-alive, then a tick"


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["faults", "--json", "--only", "device_reset_request", "--jobs", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["fault"] for r in doc["faults"]] == ["device_reset_request"]
    assert set(doc["faults"][0]) == {"fault", "reset_reason", "expected_reason", "recovered",
                                     "leaked_buffers", "lost_packets", "ticks_to_recover"}
    assert doc["faults"][0]["reset_reason"] == "DEVICE_REQUEST"
