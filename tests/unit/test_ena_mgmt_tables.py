"""The reference tables of the ENA admin-queue and AENQ pages agree with the code they come
from and with runs made here by other means: every opcode with its value, every feature
id the driver sends, each status's errno as the mapping function gives it, the polling
sleeps as the clock measures them, a lost interrupt as the admin queue handles it, and
every AENQ group with the handler the C names for it."""

from __future__ import annotations

import errno
import re

import numpy as np
import pytest
from support.ena_adapter_rig import adapter_rig
from support.ena_mgmt_rig import admin_rig

from impl.device.aenq import AenqGroup
from impl.device.features import FeatureId
from impl.device.mgmt_faults import MgmtFaults
from impl.ena import admin_cmds as ac
from impl.ena.admin_queue import TRY_AGAIN, status_to_errno
from impl.ena.device_init import FREEBSD_AENQ_GROUPS
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.constants import AdminOpcode, AdminStatus
from ringspec.docgen import ena_mgmt_page, ena_mgmt_tables, ena_pages, md, pictures

US = 1000
CELL = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def admin() -> str:
    return "\n\n".join(ena_mgmt_tables.admin_sections())


@pytest.fixture(scope="module")
def aenq() -> str:
    return "\n\n".join(ena_mgmt_tables.aenq_sections())


def section(text: str, heading: str) -> str:
    """From ``heading`` (any level) to the next heading of that level or higher."""
    level = re.match(r"#+", heading)
    assert level is not None
    start = text.index(f"{heading}\n")
    nxt = re.search(rf"\n#{{1,{len(level.group())}}} ", text[start + len(heading):])
    return text[start:start + len(heading) + nxt.start()] if nxt else text[start:]


def rows(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``text``, cells stripped."""
    lines: list[str] = []
    for ln in text.splitlines():
        if ln.startswith("|"):
            lines.append(ln)
        elif lines:
            break
    assert len(lines) > 2, "no table"
    return [[c.strip() for c in CELL.split(ln)[1:-1]] for ln in lines[2:]]


def untick(cell: str) -> str:
    return cell.strip("`")


def expected_errno_name(rc: int) -> str:
    if rc == TRY_AGAIN:
        return "TRY_AGAIN (-1)"
    if rc == errno.EOPNOTSUPP:
        return "EOPNOTSUPP"
    return errno.errorcode[rc] if rc else "0"


# -- the command table
def test_every_opcode_appears_with_its_value(admin: str) -> None:
    table = rows(section(admin, f"## {ena_mgmt_tables.COMMANDS}"))
    seen = {untick(r[0]): r[1] for r in table}
    assert seen == {op.name: str(int(op)) for op in AdminOpcode}


def test_feature_ids_are_the_enums_and_cover_what_the_driver_sends(admin: str) -> None:
    table = rows(section(admin, f"## {ena_mgmt_tables.COMMANDS}"))
    listed = set()
    for r in table:
        op = AdminOpcode[untick(r[0])]
        if op in (AdminOpcode.GET_FEATURE, AdminOpcode.SET_FEATURE):
            name, value = r[2].split(" = ")
            assert FeatureId[name] == int(value), r
            listed.add((op, int(value)))
    # recorded on the driver's side of another adapter life: attach, up, RSS, down
    rig = adapter_rig(events=False)
    rig.adapter.down()
    sent = {(AdminOpcode[op], fid) for op, fid in rig.commands
            if op in ("GET_FEATURE", "SET_FEATURE")}
    assert sent and sent <= listed


def test_commands_name_their_sender_and_step(admin: str) -> None:
    table = rows(section(admin, f"## {ena_mgmt_tables.COMMANDS}"))
    first = table[0]
    assert untick(first[0]) == "SET_FEATURE" and first[2] == "HOST_ATTR_CONFIG = 28"
    by_op = {untick(r[0]): r for r in table}
    assert "ena_com_create_io_cq" in by_op["CREATE_CQ"][3]
    assert by_op["CREATE_CQ"][4].startswith("ena_up")
    assert by_op["DESTROY_SQ"][4] == by_op["DESTROY_CQ"][4] == "ena_down"
    assert all(r[5].startswith("SUCCESS") for r in table)
    assert "max_mtu 9216" in next(r[5] for r in table if r[2] == "DEVICE_ATTRIBUTES = 1")


# -- status -> errno
def test_each_status_row_is_what_the_mapping_function_returns(admin: str) -> None:
    table = rows(section(admin, f"## {ena_mgmt_tables.STATUSES}"))
    values = [int(r[1]) for r in table]
    assert values[:len(AdminStatus)] == [int(s) for s in AdminStatus]
    assert values[-1] not in set(AdminStatus)  # the switch's default
    for r in table:
        assert untick(r[2]) == expected_errno_name(status_to_errno(int(r[1]))), r


def test_only_eopnotsupp_is_tolerated_and_enomem_backs_off_the_rings(admin: str) -> None:
    table = {untick(r[0]): r[4:] for r in rows(section(admin, f"## {ena_mgmt_tables.STATUSES}"))}
    hints, rss, create_cq = zip(*(v for k, v in table.items() if k != "SUCCESS"), strict=True)
    assert table["UNSUPPORTED_OPCODE"][:2] == ["tolerated", "tolerated"]
    assert table["UNSUPPORTED_OPCODE"][2] == "ena_up fails: EOPNOTSUPP"
    assert table["RESOURCE_ALLOCATION_FAILURE"][2] == "retried: rings 512/512"
    assert sum(c == "tolerated" for c in hints + rss + create_cq) == 2
    assert [c for c in hints if c != "tolerated"] == ["attach fails: ENXIO"] * (len(hints) - 1)
    assert "ena_up fails: TRY_AGAIN (-1)" in create_cq and "ena_up fails: EINVAL" in rss


def test_the_device_sends_every_status_and_the_table_says_when(admin: str) -> None:
    table = {untick(r[0]): r[3] for r in rows(section(admin, f"## {ena_mgmt_tables.STATUSES}"))}
    assert all(table[s.name] != "never" for s in AdminStatus)
    assert table[_status_name_other(table)] == "never"
    assert "an opcode it does not know" in table["BAD_OPCODE"]
    assert "SET MTU above its max_mtu" in table["ILLEGAL_PARAMETER"]
    rig = admin_rig(polling=True)  # the same refusal, sent here by hand
    rec = np.zeros(1, m.MTU_DTYPE)
    rec["mtu"] = rig.dev.features.limits.max_mtu + 1
    assert ac.set_feature(rig.aq, rig.feat, FeatureId.MTU, rec) == errno.EINVAL
    cmd = np.zeros(1, m.AQ_ENTRY_DTYPE)
    cmd["aq_common_descriptor"]["opcode"] = max(AdminOpcode) + 1
    assert rig.aq.execute(cmd)[0] == status_to_errno(AdminStatus.BAD_OPCODE)


def _status_name_other(table: dict[str, str]) -> str:
    (other,) = [k for k in table if k not in AdminStatus.__members__]
    return other


# -- polling
def test_backoff_rows_are_the_sleeps_the_clock_measures(admin: str) -> None:
    rig = admin_rig(faults=MgmtFaults(admin_comp_lost=1.0), polling=True, learn=False)
    sleeps: list[int] = []
    advance = rig.clock.advance

    def measured(ns: int) -> int:
        sleeps.append(ns // US)
        return advance(ns)
    rig.clock.advance = measured  # type: ignore[method-assign]
    start = rig.clock.now_ns
    rc, _ = ac.get_feature(rig.aq, rig.feat, ac.DEVICE_ATTRIBUTES, m.DEVICE_ATTR_DTYPE)
    waited = (rig.clock.now_ns - start) // US
    assert rc == errno.ETIMEDOUT
    table = rows(section(admin, f"## {ena_mgmt_tables.POLLING}"))
    listed: list[int] = []
    for poll, at, then in table[:-1]:
        if " to " in poll:
            lo, hi = map(int, poll.split(" to "))
            listed += [int(then.split()[0])] * (hi - lo + 1)
        else:
            assert int(at) == sum(listed), poll
            listed.append(int(then))
    assert listed == sleeps
    assert int(table[-1][0]) == len(sleeps) + 1 and int(table[-1][1]) == waited
    assert "ETIMEDOUT" in table[-1][2]


def test_lost_interrupt_rows_are_what_the_admin_queue_does(admin: str) -> None:
    table = rows(section(admin, "### A lost interrupt"))
    for row, auto in zip(table, (False, True), strict=True):
        rig = admin_rig(faults=MgmtFaults(admin_intr_lost=1.0), learn=False)
        rig.aq.auto_polling = auto
        start = rig.clock.now_ns
        rc = ac.get_dev_basic_stats(rig.aq)[0]
        waited = (rig.clock.now_ns - start) // US
        assert row[1] == f"{waited} us" and waited == rig.timeouts.completion_timeout_us
        assert row[2] == expected_errno_name(rc) and row[3] == "yes"
        assert row[4].startswith("polling" if auto else "interrupts")
    assert table[0][6] == "reset: MISSING_ADMIN_INTERRUPT (18)" and table[1][6] == "nothing"


# -- AENQ
def test_every_aenq_group_appears_with_the_handler_the_c_names(aenq: str) -> None:
    c_handlers = {AenqGroup.LINK_CHANGE: "ena_update_on_link_change",
                  AenqGroup.NOTIFICATION: "ena_notification",
                  AenqGroup.KEEP_ALIVE: "ena_keep_alive_wd",
                  AenqGroup.CONF_NOTIFICATIONS: "ena_conf_notification",
                  AenqGroup.DEVICE_REQUEST_RESET: "ena_admin_device_request_reset"}
    table = rows(section(aenq, f"## {ena_mgmt_tables.EVENTS}"))
    assert {untick(r[0]) for r in table} == {g.name for g in AenqGroup}
    for r in table:
        group = AenqGroup[untick(r[0])]
        assert r[1] == str(int(group))
        on = bool(FREEBSD_AENQ_GROUPS >> group & 1)
        assert r[2] == ("yes" if on else "no"), r
        if on:
            assert c_handlers.get(group, "unimplemented_aenq_handler") in r[5], r
        else:
            assert r[5] == "" and "not posted" in r[6], r


def test_aenq_rows_show_what_each_handler_changed(aenq: str) -> None:
    table = rows(section(aenq, f"## {ena_mgmt_tables.EVENTS}"))
    keep_alive = next(r for r in table if r[0] == "`KEEP_ALIVE`")
    assert all(s in keep_alive[6] for s in ("`rx_drops` 0 -> 5", "`tx_drops` 0 -> 7",
                                            "`keep_alive_timestamp_ns`"))
    reset = next(r for r in table if r[0] == "`DEVICE_REQUEST_RESET`")
    assert "DEVICE_REQUEST" in reset[6]
    hints = next(r for r in table if r[4].startswith("UPDATE_HINTS"))
    assert "`keep_alive_timeout` 6 s -> 9 s" in hints[6]
    assert "(disabled)" in hints[6]
    link = [r[6] for r in table if r[0] == "`LINK_CHANGE`"]
    assert link == ["`ENA_FLAG_LINK_UP` True -> False", "`ENA_FLAG_LINK_UP` False -> True"]


# -- where the sections go
def test_the_pages_carry_the_sections_and_the_links_resolve(
        admin: str, aenq: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import model

    machines = {mach.name: mach for mach in model.ENA_MACHINES}
    heads = {ena_mgmt_tables.ADMIN_PAGE: admin, ena_mgmt_tables.AENQ_PAGE: aenq}
    for page, text in heads.items():
        assert ena_pages.reference_sections(machines[page[:-3]])[0] == text.split("\n\n")[0]
    links = re.findall(r"\]\(([\w.]+)#([\w-]+)\)", "\n".join(ena_mgmt_tables.mgmt_section()))
    assert len(links) == 4
    for page, anchor in links:
        slugs = {md.slug(h) for h in re.findall(r"^#+ (.+)$", heads[page], re.M)}
        assert anchor in slugs, (page, anchor)
    monkeypatch.setattr(ena_mgmt_page, "fault_section", list)  # the fault runs are slow
    with pictures.collecting():
        mgmt = ena_mgmt_page.render()
    assert "\n## Admin commands and events\n" in mgmt
    assert all(f"({p}#{a})" in mgmt for p, a in links)
