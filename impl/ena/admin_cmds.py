"""ena_com's admin commands over :class:`~impl.ena.admin_queue.AdminQueue`: build the
64-byte command, execute it, decode the completion.

* IO queues: ``ena_com_create_io_cq`` / ``ena_com_create_io_sq`` /
  ``ena_com_destroy_io_sq`` / ``ena_com_destroy_io_cq``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1301
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1461
* features: ``ena_com_check_supported_feature_id``, ``ena_com_get_feature_ex``, the
  SET builders, ``ena_com_get_dev_attr_feat``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1064
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2334
* stats: ``ena_get_dev_stats``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2285

Every function returns an ena_com code first (0 or an errno, see
:mod:`impl.ena.admin_queue`); a feature the device did not advertise is refused with
EOPNOTSUPP before anything is sent.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

import numpy as np

from impl.ena.admin_queue import AdminQueue
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateCqResp,
    CreateSqCmd,
    CreateSqResp,
    DestroyCqCmd,
    DestroySqCmd,
)
from impl.ena_defs.constants import AdminOpcode, AdminStatus
from impl.ena_defs.mgmt_layouts import (
    AQ_CTRL_DATA_INDIRECT,
    CQ_ENTRY_SIZE_WORDS,
    CQ_INTERRUPT_MODE_ENABLED,
    CREATE_CQ_CMD_DTYPE,
    CREATE_CQ_RESP_DTYPE,
    CREATE_SQ_CMD_DTYPE,
    CREATE_SQ_RESP_DTYPE,
    DESTROY_CQ_CMD_DTYPE,
    DESTROY_SQ_CMD_DTYPE,
    FEAT_CMD_BODY_OFF,
    FEAT_RESP_BODY_OFF,
    GET_FEAT_CMD_DTYPE,
    GET_STATS_CMD_DTYPE,
    GET_STATS_RESP_DTYPE,
    SQ_COMPLETION_POLICY,
    SQ_DIRECTION,
    SQ_PHYSICALLY_CONTIGUOUS,
    SQ_PLACEMENT_POLICY,
    set_addr,
)

DEVICE_ATTRIBUTES = 1
MAX_QUEUES_NUM = 2
HW_HINTS = 3
LLQ = 4
MAX_QUEUES_EXT = 7
STATELESS_OFFLOAD_CONFIG = 11
AENQ_CONFIG = 26
MAX_QUEUE_EXT_VER = 1
LLQ_FEATURE_VERSION_1 = 1


@dataclass
class ComFeatures:
    """What ``ena_com_dev`` learns from DEVICE_ATTRIBUTES (used to gate later commands)."""

    supported_features: int = 0
    capabilities: int = 0
    dma_addr_bits: int = 48

    def supports(self, fid: int) -> bool:
        """``ena_com_check_supported_feature_id``."""
        return fid == DEVICE_ATTRIBUTES or bool(self.supported_features >> fid & 1)

    def has_cap(self, cap: int) -> bool:
        return bool(self.capabilities >> cap & 1)


def _addr_ok(feat: ComFeatures, addr: int) -> bool:
    """``ena_com_mem_addr_set``'s check: no bits above the device's DMA width."""
    return addr >> feat.dma_addr_bits == 0


def _resp(comp: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return comp.view(dtype).copy()


# -- IO queues
def create_io_cq(aq: AdminQueue, feat: ComFeatures,
                 cmd: CreateCqCmd) -> tuple[int, CreateCqResp | None]:
    """``ena_com_create_io_cq``: ENA_ADMIN_CREATE_CQ."""
    if not _addr_ok(feat, cmd.cq_ba):
        return errno.EINVAL, None
    c = np.zeros(1, CREATE_CQ_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.CREATE_CQ
    c["cq_caps_2"] = int(CQ_ENTRY_SIZE_WORDS.put(cmd.cq_entry_size_words))
    c["cq_caps_1"] = int(CQ_INTERRUPT_MODE_ENABLED.put(int(cmd.interrupt_mode_enabled)))
    c["msix_vector"] = cmd.msix_vector
    c["cq_depth"] = cmd.cq_depth
    set_addr(c, "cq_ba", cmd.cq_ba)
    rc, comp = aq.execute(c)
    if rc:
        return rc, None
    r = _resp(comp, CREATE_CQ_RESP_DTYPE)
    return 0, CreateCqResp(
        AdminStatus.SUCCESS, cq_idx=int(r["cq_idx"][0]),
        cq_actual_depth=int(r["cq_actual_depth"][0]),
        numa_node_register_offset=int(r["numa_node_register_offset"][0]),
        cq_head_db_register_offset=int(r["cq_head_db_register_offset"][0]),
        cq_interrupt_unmask_register_offset=int(r["cq_interrupt_unmask_register_offset"][0]))


def create_io_sq(aq: AdminQueue, feat: ComFeatures,
                 cmd: CreateSqCmd) -> tuple[int, CreateSqResp | None]:
    """``ena_com_create_io_sq``: ENA_ADMIN_CREATE_SQ."""
    if not _addr_ok(feat, cmd.sq_ba):
        return errno.EINVAL, None
    c = np.zeros(1, CREATE_SQ_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.CREATE_SQ
    c["sq_identity"] = int(SQ_DIRECTION.put(int(cmd.sq_direction)))
    c["sq_caps_2"] = int(SQ_PLACEMENT_POLICY.put(int(cmd.placement_policy))
                         | SQ_COMPLETION_POLICY.put(int(cmd.completion_policy)))
    c["sq_caps_3"] = int(SQ_PHYSICALLY_CONTIGUOUS.put(int(cmd.is_physically_contiguous)))
    c["cq_idx"] = cmd.cq_idx
    c["sq_depth"] = cmd.sq_depth
    set_addr(c, "sq_ba", cmd.sq_ba)
    rc, comp = aq.execute(c)
    if rc:
        return rc, None
    r = _resp(comp, CREATE_SQ_RESP_DTYPE)
    return 0, CreateSqResp(AdminStatus.SUCCESS, sq_idx=int(r["sq_idx"][0]),
                           sq_doorbell_offset=int(r["sq_doorbell_offset"][0]),
                           llq_descriptors_offset=int(r["llq_descriptors_offset"][0]),
                           llq_headers_offset=int(r["llq_headers_offset"][0]))


def destroy_io_sq(aq: AdminQueue, cmd: DestroySqCmd) -> int:
    """``ena_com_destroy_io_sq``: ENA_ADMIN_DESTROY_SQ."""
    c = np.zeros(1, DESTROY_SQ_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.DESTROY_SQ
    c["sq_idx"] = cmd.sq_idx
    c["sq_identity"] = int(SQ_DIRECTION.put(int(cmd.sq_direction)))
    return aq.execute(c)[0]


def destroy_io_cq(aq: AdminQueue, cmd: DestroyCqCmd) -> int:
    """``ena_com_destroy_io_cq``: ENA_ADMIN_DESTROY_CQ."""
    c = np.zeros(1, DESTROY_CQ_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.DESTROY_CQ
    c["cq_idx"] = cmd.cq_idx
    return aq.execute(c)[0]


# -- features
def _feat_cmd(opcode: int, fid: int, version: int, ctrl_addr: int,
              ctrl_len: int) -> np.ndarray:
    c = np.zeros(1, GET_FEAT_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = opcode
    if ctrl_len:
        c["aq_common_descriptor"]["flags"] = AQ_CTRL_DATA_INDIRECT.mask
    c["control_buffer"]["length"] = ctrl_len
    c["control_buffer"]["address"]["mem_addr_low"] = ctrl_addr & 0xFFFFFFFF
    c["control_buffer"]["address"]["mem_addr_high"] = (ctrl_addr >> 32) & 0xFFFF
    c["feat_common"]["feature_id"] = fid
    c["feat_common"]["feature_version"] = version
    return c


def get_feature(aq: AdminQueue, feat: ComFeatures, fid: int, dtype: np.dtype,
                version: int = 0, ctrl_addr: int = 0,
                ctrl_len: int = 0) -> tuple[int, np.ndarray | None]:
    """``ena_com_get_feature_ex``: (rc, the feature descriptor as one ``dtype`` record)."""
    if not feat.supports(fid):
        return errno.EOPNOTSUPP, None
    if not _addr_ok(feat, ctrl_addr):
        return errno.EINVAL, None
    rc, comp = aq.execute(_feat_cmd(AdminOpcode.GET_FEATURE, fid, version, ctrl_addr,
                                    ctrl_len))
    if rc:
        return rc, None
    body = comp[FEAT_RESP_BODY_OFF:FEAT_RESP_BODY_OFF + dtype.itemsize]
    return 0, np.frombuffer(bytes(body), dtype).copy()


def set_feature(aq: AdminQueue, feat: ComFeatures, fid: int, rec: np.ndarray,
                ctrl_addr: int = 0, ctrl_len: int = 0, check_supported: bool = True) -> int:
    """SET_FEATURE of ``fid`` with the descriptor ``rec`` (and an optional control
    buffer). ``check_supported=False`` is ``ena_com_set_host_attributes``, sent before
    the device attributes are known, so it cannot check."""
    if check_supported and not feat.supports(fid):
        return errno.EOPNOTSUPP
    if not _addr_ok(feat, ctrl_addr):
        return errno.EINVAL
    c = _feat_cmd(AdminOpcode.SET_FEATURE, fid, 0, ctrl_addr, ctrl_len)
    raw = c.view(np.uint8)
    body = rec.view(np.uint8)
    raw[FEAT_CMD_BODY_OFF:FEAT_CMD_BODY_OFF + body.size] = body
    return aq.execute(c)[0]


@dataclass
class DevFeatures:
    """``struct ena_com_dev_get_features_ctx``: the descriptors read at init."""

    dev_attr: np.ndarray | None = None
    max_queue_ext: np.ndarray | None = None
    aenq: np.ndarray | None = None
    offload: np.ndarray | None = None
    hw_hints: np.ndarray | None = None
    llq: np.ndarray | None = None


def get_dev_attr_feat(aq: AdminQueue, feat: ComFeatures) -> tuple[int, DevFeatures]:
    """``ena_com_get_dev_attr_feat``: DEVICE_ATTRIBUTES (which sets the supported features
    and capabilities), MAX_QUEUES_EXT (version 1) or MAX_QUEUES_NUM, AENQ_CONFIG,
    STATELESS_OFFLOAD_CONFIG, then HW_HINTS and LLQ (both may be unsupported)."""
    out = DevFeatures()
    rc, out.dev_attr = get_feature(aq, feat, DEVICE_ATTRIBUTES, m.DEVICE_ATTR_DTYPE)
    if rc or out.dev_attr is None:
        return rc, out
    feat.supported_features = int(out.dev_attr["supported_features"][0])
    feat.capabilities = int(out.dev_attr["capabilities"][0])
    if feat.supports(MAX_QUEUES_EXT):
        rc, out.max_queue_ext = get_feature(aq, feat, MAX_QUEUES_EXT, m.MAX_QUEUES_EXT_DTYPE,
                                            MAX_QUEUE_EXT_VER)
        if rc:
            return rc, out
        if out.max_queue_ext is not None and \
                int(out.max_queue_ext["version"][0]) != MAX_QUEUE_EXT_VER:
            return errno.EINVAL, out
    else:
        rc, out.max_queue_ext = get_feature(aq, feat, MAX_QUEUES_NUM, m.MAX_QUEUES_DTYPE)
        if rc:
            return rc, out
    rc, out.aenq = get_feature(aq, feat, AENQ_CONFIG, m.AENQ_FEAT_DTYPE)
    if rc:
        return rc, out
    rc, out.offload = get_feature(aq, feat, STATELESS_OFFLOAD_CONFIG, m.OFFLOAD_DTYPE)
    if rc:
        return rc, out
    for name, fid, dtype, ver in (("hw_hints", HW_HINTS, m.HW_HINTS_DTYPE, 0),
                                  ("llq", LLQ, m.LLQ_DTYPE, LLQ_FEATURE_VERSION_1)):
        rc, rec = get_feature(aq, feat, fid, dtype, ver)
        if rc == errno.EOPNOTSUPP:
            rec = np.zeros(1, dtype)
        elif rc:
            return rc, out
        setattr(out, name, rec)
    return 0, out


# -- stats
BASIC_STATS = 0


def get_dev_basic_stats(aq: AdminQueue) -> tuple[int, dict[str, int]]:
    """``ena_com_get_dev_basic_stats``: the seven 64-bit counters."""
    c = np.zeros(1, GET_STATS_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.GET_STATS
    c["type"] = BASIC_STATS
    rc, comp = aq.execute(c)
    if rc:
        return rc, {}
    b = _resp(comp, GET_STATS_RESP_DTYPE)["basic_stats"]
    names = sorted({n.rsplit("_", 1)[0] for n in b.dtype.names or ()})
    return 0, {n: int(b[f"{n}_low"][0]) | (int(b[f"{n}_high"][0]) << 32) for n in names}
