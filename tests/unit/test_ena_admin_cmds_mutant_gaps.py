"""ena_com's admin commands (:mod:`impl.ena.admin_cmds`) where mutation testing found no
test: the completion fields of CREATE_CQ / CREATE_SQ the simulator leaves at 0 or no test
read (numa_node_register_offset, cq_head_db_register_offset, llq_headers_offset), bits
47:32 of a control buffer's address, the feature_version and control-buffer fields of
a plain GET / SET_FEATURE, the driver's own EOPNOTSUPP for a SET of an unadvertised
feature, the versions ``ena_com_get_dev_attr_feat`` asks for (MAX_QUEUES_EXT 1, HW_HINTS 0,
LLQ 1) and its check of the version the device answers, the MAX_QUEUES_NUM path of a device
without MAX_QUEUES_EXT, and the zeroed HW_HINTS / LLQ descriptors of a device without
them.  Upstream, ena-com/ena_com.c:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c

The commands are seen through :class:`Tap`, which stands between ena_com and the admin
queue: it keeps a copy of each 64-byte command as ena_com built it and can rewrite a
completion, or answer a command itself, where the simulated device has nothing to say.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

import numpy as np
from support.ena_mgmt_rig import AdminRig, admin_rig

from impl.device.features import DEFAULT_SUPPORTED, FeatureId, Limits
from impl.device.queues import TX_CQ_WORDS
from impl.ena import admin_cmds as ac
from impl.ena.admin_queue import AdminQueue
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.admin import CreateCqCmd, CreateSqCmd
from impl.ena_defs.constants import AdminOpcode, PlacementPolicy, SqDirection
from impl.ena_defs.mgmt_layouts import AQ_CTRL_DATA_INDIRECT, FEAT_RESP_BODY_OFF

F = FeatureId
Answer = Callable[[np.ndarray], "tuple[int, np.ndarray] | None"]


class Tap:
    """The admin queue as ena_com calls it (``execute``), with every command kept as
    ena_com built it.  ``answer`` may reply to a command instead of the device (return
    (rc, completion)) or let it through (return None); ``rewrite`` edits a completion
    the device gave."""

    def __init__(self, aq: AdminQueue, answer: Answer | None = None,
                 rewrite: Callable[[np.ndarray, np.ndarray], None] | None = None) -> None:
        self.aq = aq
        self.answer = answer
        self.rewrite = rewrite
        self.sent: list[np.ndarray] = []

    def execute(self, cmd: np.ndarray) -> tuple[int, np.ndarray]:
        self.sent.append(cmd.view(np.uint8).copy())
        if self.answer is not None:
            got = self.answer(cmd)
            if got is not None:
                return got
        rc, comp = self.aq.execute(cmd)
        if self.rewrite is not None and rc == 0:
            self.rewrite(cmd, comp)
        return rc, comp

    def feats(self) -> list[tuple[int, int, int]]:
        """(opcode, feature_id, feature_version) of each GET/SET_FEATURE sent."""
        out = []
        for raw in self.sent:
            c = raw.view(m.GET_FEAT_CMD_DTYPE)[0]
            op = int(c["aq_common_descriptor"]["opcode"])
            if op in (AdminOpcode.GET_FEATURE, AdminOpcode.SET_FEATURE):
                out.append((op, int(c["feat_common"]["feature_id"]),
                            int(c["feat_common"]["feature_version"])))
        return out

    def last(self, dtype: np.dtype) -> np.ndarray:
        return self.sent[-1].view(dtype)[0]


def _as_aq(tap: Tap) -> AdminQueue:
    return tap  # type: ignore[return-value]  # ena_com only calls execute


def _ok_completion(rec: np.ndarray, off: int = FEAT_RESP_BODY_OFF) -> np.ndarray:
    comp = np.zeros(m.ENTRY_SIZE, np.uint8)
    raw = rec.view(np.uint8)
    comp[off:off + raw.size] = raw
    return comp


def _get(cmd: np.ndarray, fid: int) -> bool:
    c = cmd.view(np.uint8).view(m.GET_FEAT_CMD_DTYPE)[0]
    return (int(c["aq_common_descriptor"]["opcode"]) == AdminOpcode.GET_FEATURE
            and int(c["feat_common"]["feature_id"]) == fid)


G, S = int(AdminOpcode.GET_FEATURE), int(AdminOpcode.SET_FEATURE)


# -- IO queue completions
def test_create_cq_returns_every_field_of_the_completion() -> None:
    """``ena_com_create_io_cq`` takes the NUMA register from
    ``cmd_completion.numa_node_register_offset`` (when not 0) next to the unmask register;
    ``struct ena_admin_acq_create_cq_resp_desc`` also carries
    ``cq_head_db_register_offset`` (the Linux ena_com maps the CQ head doorbell from it).
    A device that gives one has it reach the caller."""
    rig = admin_rig()

    def head_db(_cmd: np.ndarray, comp: np.ndarray) -> None:
        comp.view(m.CREATE_CQ_RESP_DTYPE)["cq_head_db_register_offset"] = 0x5A0C

    tap = Tap(rig.aq, rewrite=head_db)
    ba = rig.bus.mem.alloc(64 * 4 * TX_CQ_WORDS)
    rc, c = ac.create_io_cq(_as_aq(tap), rig.feat, CreateCqCmd(64, ba, 1, TX_CQ_WORDS))
    assert rc == 0 and c is not None and c.cq_idx == 0
    assert c.numa_node_register_offset == rig.dev.queues.numa_offset(0) != 0
    assert c.cq_head_db_register_offset == 0x5A0C


def test_create_sq_returns_the_llq_headers_offset() -> None:
    """``struct ena_admin_acq_create_sq_resp_desc`` ends with ``llq_headers_offset``
    (bytes 16..19 of the completion); a device that gives one has it reach the caller
    with the doorbell and LLQ descriptors offsets."""
    rig = admin_rig()

    def headers(_cmd: np.ndarray, comp: np.ndarray) -> None:
        comp.view(m.CREATE_SQ_RESP_DTYPE)["llq_headers_offset"] = 0x3_0040

    cq_ba = rig.bus.mem.alloc(64 * 4 * TX_CQ_WORDS)
    assert ac.create_io_cq(rig.aq, rig.feat, CreateCqCmd(64, cq_ba, 1, TX_CQ_WORDS))[0] == 0
    tap = Tap(rig.aq, rewrite=headers)
    sq_ba = rig.bus.mem.alloc(64 * 16)
    rc, s = ac.create_io_sq(_as_aq(tap), rig.feat, CreateSqCmd(
        SqDirection.TX, PlacementPolicy.HOST, 0, 64, sq_ba))
    assert rc == 0 and s is not None
    assert s.sq_doorbell_offset == rig.dev.queues.doorbell_offset(0)
    assert s.llq_headers_offset == 0x3_0040


# -- GET / SET_FEATURE command bytes
def test_control_buffer_address_keeps_bits_47_to_32() -> None:
    """``ena_com_mem_addr_set``: ``mem_addr_low = lower_32_bits(addr)``,
    ``mem_addr_high = (u16)upper_32_bits(addr)`` -- a control buffer above 4 GiB is
    named whole in the GET_FEATURE command (here the RSS hash key's)."""
    rig = admin_rig()
    tap = Tap(rig.aq, answer=lambda _c: (0, np.zeros(m.ENTRY_SIZE, np.uint8)))
    addr = 0xABCD_1234_5678
    rc, _ = ac.get_feature(_as_aq(tap), rig.feat, F.RSS_HASH_FUNCTION,
                           m.HASH_FUNCTION_DTYPE, 0, addr, 48)
    assert rc == 0
    buf = tap.last(m.GET_FEAT_CMD_DTYPE)["control_buffer"]
    assert int(buf["address"]["mem_addr_low"]) == 0x1234_5678
    assert int(buf["address"]["mem_addr_high"]) == 0xABCD
    assert int(buf["length"]) == 48
    assert int(tap.last(m.GET_FEAT_CMD_DTYPE)["aq_common_descriptor"]["flags"]) \
        == AQ_CTRL_DATA_INDIRECT.mask


def test_a_plain_get_feature_is_version_0_without_control_buffer() -> None:
    """``ena_com_get_feature`` is ``ena_com_get_feature_ex(.., 0, 0, feature_ver)``:
    no control buffer (address 0, length 0, ``flags = 0``, not CTRL_DATA_INDIRECT), and
    the callers that name no version (MTU, AENQ_CONFIG, ...) send feature_version 0."""
    rig = admin_rig()
    tap = Tap(rig.aq)
    rc, rec = ac.get_feature(_as_aq(tap), rig.feat, F.MTU, m.MTU_DTYPE)
    assert rc == 0 and rec is not None
    c = tap.last(m.GET_FEAT_CMD_DTYPE)
    assert tap.feats() == [(G, F.MTU, 0)]
    assert int(c["aq_common_descriptor"]["flags"]) == 0
    assert int(c["control_buffer"]["length"]) == 0
    assert int(c["control_buffer"]["address"]["mem_addr_low"]) == 0
    assert int(c["control_buffer"]["address"]["mem_addr_high"]) == 0


def test_a_plain_set_feature_is_version_0_without_control_buffer() -> None:
    """``ena_com_set_dev_mtu``: a zeroed ``ena_admin_set_feat_cmd`` with ``flags = 0``,
    the feature id and the value -- no control buffer, feature_version 0."""
    rig = admin_rig()
    tap = Tap(rig.aq)
    rec = np.zeros(1, m.MTU_DTYPE)
    rec["mtu"] = 9001
    assert ac.set_feature(_as_aq(tap), rig.feat, F.MTU, rec) == 0
    c = tap.last(m.SET_FEAT_CMD_DTYPE)
    assert tap.feats() == [(S, F.MTU, 0)]
    assert int(c["aq_common_descriptor"]["flags"]) == 0
    assert int(c["control_buffer"]["length"]) == 0
    assert int(c["control_buffer"]["address"]["mem_addr_low"]) == 0
    assert rig.dev.features.state.mtu == 9001


def test_set_of_an_unadvertised_feature_is_refused_before_sending() -> None:
    """``ena_com_set_dev_mtu`` (like every SET but host attributes) starts with
    ``ena_com_check_supported_feature_id``: a device that does not advertise MTU gets
    no command, the driver returns ENA_COM_UNSUPPORTED."""
    rig = admin_rig()
    rig.feat.supported_features = DEFAULT_SUPPORTED & ~(1 << F.MTU)
    tap = Tap(rig.aq)
    rec = np.zeros(1, m.MTU_DTYPE)
    rec["mtu"] = 9001
    assert ac.set_feature(_as_aq(tap), rig.feat, F.MTU, rec) == errno.EOPNOTSUPP
    assert tap.sent == []
    assert rig.dev.features.state.mtu == 1500


# -- ena_com_get_dev_attr_feat
def test_dev_attr_feat_asks_each_feature_at_its_version() -> None:
    """The GETs of ``ena_com_get_dev_attr_feat``, in order: DEVICE_ATTRIBUTES 0,
    MAX_QUEUES_EXT ENA_FEATURE_MAX_QUEUE_EXT_VER (1), AENQ_CONFIG 0,
    STATELESS_OFFLOAD_CONFIG 0, HW_HINTS 0, LLQ ENA_ADMIN_LLQ_FEATURE_VERSION_1."""
    rig = admin_rig(learn=False)
    tap = Tap(rig.aq)
    rc, _ = ac.get_dev_attr_feat(_as_aq(tap), rig.feat)
    assert rc == 0
    assert tap.feats() == [(G, F.DEVICE_ATTRIBUTES, 0), (G, F.MAX_QUEUES_EXT, 1),
                           (G, F.AENQ_CONFIG, 0), (G, F.STATELESS_OFFLOAD_CONFIG, 0),
                           (G, F.HW_HINTS, 0), (G, F.LLQ, 1)]


def test_dev_attr_feat_refuses_a_max_queues_ext_of_another_version() -> None:
    """``get_resp.u.max_queue_ext.version != ENA_FEATURE_MAX_QUEUE_EXT_VER`` ->
    ENA_COM_INVAL, before AENQ_CONFIG is asked."""
    rig = admin_rig(learn=False)

    def version_2(cmd: np.ndarray, comp: np.ndarray) -> None:
        if _get(cmd, F.MAX_QUEUES_EXT):
            comp[FEAT_RESP_BODY_OFF] = 2  # the descriptor's first byte: version

    tap = Tap(rig.aq, rewrite=version_2)
    rc, _ = ac.get_dev_attr_feat(_as_aq(tap), rig.feat)
    assert rc == errno.EINVAL
    assert [f for _, f, _ in tap.feats()] == [F.DEVICE_ATTRIBUTES, F.MAX_QUEUES_EXT]


def _no_queues_ext(rig: AdminRig) -> None:
    rig.dev.features.limits = Limits(
        supported_features=(DEFAULT_SUPPORTED & ~(1 << F.MAX_QUEUES_EXT))
        | (1 << F.MAX_QUEUES_NUM))


def test_a_device_without_max_queues_ext_is_asked_max_queues_num() -> None:
    """The ``else`` of ``ena_com_get_dev_attr_feat``: no MAX_QUEUES_EXT advertised ->
    GET MAX_QUEUES_NUM version 0, its ``ena_admin_queue_feature_desc`` kept (the
    simulated device has no such handler; :class:`Tap` answers for an older device)."""
    rig = admin_rig(learn=False)
    _no_queues_ext(rig)
    q = np.zeros(1, m.MAX_QUEUES_DTYPE)
    q["max_sq_num"], q["max_sq_depth"], q["max_header_size"] = 8, 1024, 96

    def older(cmd: np.ndarray) -> tuple[int, np.ndarray] | None:
        return (0, _ok_completion(q)) if _get(cmd, F.MAX_QUEUES_NUM) else None

    tap = Tap(rig.aq, answer=older)
    rc, out = ac.get_dev_attr_feat(_as_aq(tap), rig.feat)
    assert rc == 0
    assert tap.feats()[:3] == [(G, F.DEVICE_ATTRIBUTES, 0), (G, F.MAX_QUEUES_NUM, 0),
                               (G, F.AENQ_CONFIG, 0)]
    assert out.max_queue_ext is not None and out.max_queue_ext.dtype == m.MAX_QUEUES_DTYPE
    assert int(out.max_queue_ext["max_sq_num"][0]) == 8
    assert int(out.max_queue_ext["max_sq_depth"][0]) == 1024
    assert int(out.max_queue_ext["max_header_size"][0]) == 96


def test_a_refused_max_queues_num_ends_dev_attr_feat() -> None:
    """``if (rc) return rc`` after GET MAX_QUEUES_NUM: the device's refusal is the
    result (EOPNOTSUPP) and nothing more is asked."""
    rig = admin_rig(learn=False)
    _no_queues_ext(rig)
    tap = Tap(rig.aq)
    rc, out = ac.get_dev_attr_feat(_as_aq(tap), rig.feat)
    assert rc == errno.EOPNOTSUPP and out.aenq is None
    assert tap.feats() == [(G, F.DEVICE_ATTRIBUTES, 0), (G, F.MAX_QUEUES_NUM, 0)]


def test_unsupported_hints_and_llq_are_one_zeroed_descriptor_each() -> None:
    """``memset(&get_feat_ctx->hw_hints / ->llq, 0x0, sizeof(...))`` on
    ENA_COM_UNSUPPORTED: one ``ena_admin_ena_hw_hints`` / ``ena_admin_feature_llq_desc``
    of zeros, read field by field like a descriptor the device gave."""
    rig = admin_rig(learn=False)
    rig.dev.features.limits = Limits(
        supported_features=DEFAULT_SUPPORTED & ~(1 << F.HW_HINTS) & ~(1 << F.LLQ))
    rc, out = ac.get_dev_attr_feat(rig.aq, rig.feat)
    assert rc == 0 and out.hw_hints is not None and out.llq is not None
    assert out.hw_hints.dtype == m.HW_HINTS_DTYPE and out.hw_hints.shape == (1,)
    assert out.llq.dtype == m.LLQ_DTYPE and out.llq.shape == (1,)
    assert int(out.hw_hints["driver_watchdog_timeout"][0]) == 0
    assert int(out.llq["max_llq_num"][0]) == 0
    assert not out.llq.view(np.uint8).any()
