"""The device's admin command executor: decode a 64-byte admin SQ entry by opcode, run it
against the device, encode the response body.

Layouts: :mod:`impl.ena_defs.mgmt_layouts`. The IO-queue commands are decoded into the
typed commands of :mod:`impl.ena_defs.admin` and run through the device's queue port, so
the admin queue and the port check exactly the same rules. ena_com's builders:
``ena_com_create_io_sq`` / ``ena_com_create_io_cq`` / ``ena_com_destroy_io_sq`` /
``ena_com_destroy_io_cq`` / ``ena_get_dev_stats``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1301
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2285

Statuses: an unknown opcode is BAD_OPCODE; a direction or placement policy outside its
enum is MALFORMED_REQUEST; the queue port's own statuses otherwise. GET_STATS answers
BASIC always and ENI only with the ``ENI_STATS`` capability (zeros); other types are
UNSUPPORTED_OPCODE.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from impl.device.faults import DeviceStats
from impl.device.features import Features
from impl.device.mgmt_faults import MgmtFaults, MgmtStats, hit
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateCqResp,
    CreateSqCmd,
    CreateSqResp,
    DestroyCqCmd,
    DestroyResp,
    DestroySqCmd,
)
from impl.ena_defs.constants import (
    AdminOpcode,
    AdminStatus,
    AqCaps,
    CompletionPolicy,
    PlacementPolicy,
    SqDirection,
)
from impl.ena_defs.mgmt_layouts import (
    AQ_COMMON_DTYPE,
    CQ_ENTRY_SIZE_WORDS,
    CQ_INTERRUPT_MODE_ENABLED,
    CREATE_CQ_CMD_DTYPE,
    CREATE_CQ_RESP_DTYPE,
    CREATE_SQ_CMD_DTYPE,
    CREATE_SQ_RESP_DTYPE,
    DESTROY_CQ_CMD_DTYPE,
    DESTROY_SQ_CMD_DTYPE,
    ENTRY_SIZE,
    FEAT_CMD_BODY_OFF,
    GET_FEAT_CMD_DTYPE,
    GET_STATS_CMD_DTYPE,
    GET_STATS_RESP_DTYPE,
    SQ_COMPLETION_POLICY,
    SQ_DIRECTION,
    SQ_PHYSICALLY_CONTIGUOUS,
    SQ_PLACEMENT_POLICY,
    get_addr,
)

BODY = ENTRY_SIZE - 8


class StatsType:
    """``enum ena_admin_get_stats_type``."""

    BASIC = 0
    EXTENDED = 1
    ENI = 2
    ENA_SRD = 3
    CUSTOMER_METRICS = 4


class QueuePort(Protocol):
    def create_cq(self, cmd: CreateCqCmd) -> CreateCqResp: ...

    def create_sq(self, cmd: CreateSqCmd) -> CreateSqResp: ...

    def destroy_sq(self, cmd: DestroySqCmd) -> DestroyResp: ...

    def destroy_cq(self, cmd: DestroyCqCmd) -> DestroyResp: ...


def _rec(raw: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return raw.view(dtype).copy()


def _body(resp: np.ndarray) -> np.ndarray:
    return resp.view(np.uint8)[8:].copy()


def _split64(rec: np.ndarray, name: str, value: int) -> None:
    rec[f"{name}_low"] = value & 0xFFFFFFFF
    rec[f"{name}_high"] = value >> 32


class AdminCommands:
    """One admin command at a time, against the queue port, the features and the stats."""

    def __init__(self, port: QueuePort, features: Features, stats: DeviceStats, caps: int,
                 faults: MgmtFaults, rng: np.random.Generator,
                 mgmt_stats: MgmtStats) -> None:
        self.port = port
        self.features = features
        self.stats = stats
        self.caps = caps
        self.faults = faults
        self.rng = rng
        self.mgmt_stats = mgmt_stats

    def __repr__(self) -> str:
        return f"AdminCommands(caps={self.caps:#x}, {self.features!r})"

    def execute(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        """Run the 64-byte command ``raw``: (status, 56-byte response body)."""
        opcode = int(raw.view(AQ_COMMON_DTYPE)[0]["opcode"])
        handler = {
            AdminOpcode.CREATE_SQ: self._create_sq, AdminOpcode.DESTROY_SQ: self._destroy_sq,
            AdminOpcode.CREATE_CQ: self._create_cq, AdminOpcode.DESTROY_CQ: self._destroy_cq,
            AdminOpcode.GET_FEATURE: self._get_feature,
            AdminOpcode.SET_FEATURE: self._set_feature,
            AdminOpcode.GET_STATS: self._get_stats,
        }.get(opcode)
        if handler is None:
            return int(AdminStatus.BAD_OPCODE), np.zeros(BODY, np.uint8)
        status, body = handler(raw)
        return int(status), body

    def _create_cq(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        if hit(self.rng, self.faults.create_cq_refused):
            self.mgmt_stats.add("create_cq_refused")
            return AdminStatus.UNKNOWN_ERROR, np.zeros(BODY, np.uint8)
        c = _rec(raw, CREATE_CQ_CMD_DTYPE)
        cmd = CreateCqCmd(
            cq_depth=int(c["cq_depth"][0]), cq_ba=get_addr(c, "cq_ba"),
            msix_vector=int(c["msix_vector"][0]),
            cq_entry_size_words=int(CQ_ENTRY_SIZE_WORDS.get(c["cq_caps_2"])[0]),
            interrupt_mode_enabled=bool(CQ_INTERRUPT_MODE_ENABLED.get(c["cq_caps_1"])[0]))
        resp = self.port.create_cq(cmd)
        r = np.zeros(1, CREATE_CQ_RESP_DTYPE)
        r["cq_idx"] = resp.cq_idx
        r["cq_actual_depth"] = resp.cq_actual_depth
        r["numa_node_register_offset"] = resp.numa_node_register_offset
        r["cq_head_db_register_offset"] = resp.cq_head_db_register_offset
        r["cq_interrupt_unmask_register_offset"] = resp.cq_interrupt_unmask_register_offset
        return resp.status, _body(r)

    def _create_sq(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        c = _rec(raw, CREATE_SQ_CMD_DTYPE)
        empty = np.zeros(BODY, np.uint8)
        try:
            direction = SqDirection(int(SQ_DIRECTION.get(c["sq_identity"])[0]))
            placement = PlacementPolicy(int(SQ_PLACEMENT_POLICY.get(c["sq_caps_2"])[0]))
            completion = CompletionPolicy(int(SQ_COMPLETION_POLICY.get(c["sq_caps_2"])[0]))
        except ValueError:
            return AdminStatus.MALFORMED_REQUEST, empty
        cmd = CreateSqCmd(
            sq_direction=direction, placement_policy=placement,
            cq_idx=int(c["cq_idx"][0]), sq_depth=int(c["sq_depth"][0]),
            sq_ba=get_addr(c, "sq_ba"), completion_policy=completion,
            is_physically_contiguous=bool(SQ_PHYSICALLY_CONTIGUOUS.get(c["sq_caps_3"])[0]),
            sq_head_writeback=get_addr(c, "sq_head_writeback"))
        resp = self.port.create_sq(cmd)
        r = np.zeros(1, CREATE_SQ_RESP_DTYPE)
        r["sq_idx"] = resp.sq_idx
        r["sq_doorbell_offset"] = resp.sq_doorbell_offset
        r["llq_descriptors_offset"] = resp.llq_descriptors_offset
        r["llq_headers_offset"] = resp.llq_headers_offset
        return resp.status, _body(r)

    def _destroy_sq(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        c = _rec(raw, DESTROY_SQ_CMD_DTYPE)
        empty = np.zeros(BODY, np.uint8)
        try:
            direction = SqDirection(int(SQ_DIRECTION.get(c["sq_identity"])[0]))
        except ValueError:
            return AdminStatus.MALFORMED_REQUEST, empty
        return self.port.destroy_sq(DestroySqCmd(int(c["sq_idx"][0]), direction)).status, empty

    def _destroy_cq(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        c = _rec(raw, DESTROY_CQ_CMD_DTYPE)
        return self.port.destroy_cq(DestroyCqCmd(int(c["cq_idx"][0]))).status, \
            np.zeros(BODY, np.uint8)

    def _feature_fault(self) -> bool:
        if hit(self.rng, self.faults.feature_unsupported):
            self.mgmt_stats.add("feature_unsupported")
            return True
        return False

    def _get_feature(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        c = _rec(raw, GET_FEAT_CMD_DTYPE)
        if self._feature_fault():
            return AdminStatus.UNSUPPORTED_OPCODE, np.zeros(BODY, np.uint8)
        fc = c["feat_common"]
        return self.features.get(int(fc["feature_id"][0]), int(fc["feature_version"][0]),
                                 c["control_buffer"])

    def _set_feature(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        c = _rec(raw, GET_FEAT_CMD_DTYPE)
        empty = np.zeros(BODY, np.uint8)
        if self._feature_fault():
            return AdminStatus.UNSUPPORTED_OPCODE, empty
        fid = int(c["feat_common"]["feature_id"][0])
        return self.features.set(fid, raw[FEAT_CMD_BODY_OFF:], c["control_buffer"]), empty

    def _get_stats(self, raw: np.ndarray) -> tuple[int, np.ndarray]:
        c = _rec(raw, GET_STATS_CMD_DTYPE)
        kind = int(c["type"][0])
        r = np.zeros(1, GET_STATS_RESP_DTYPE)
        if kind == StatsType.ENI and self.caps >> AqCaps.ENI_STATS & 1:
            return AdminStatus.SUCCESS, _body(r)
        if kind != StatsType.BASIC:
            return AdminStatus.UNSUPPORTED_OPCODE, _body(r)
        s, b = self.stats, r["basic_stats"]
        _split64(b, "tx_bytes", s.tx_bytes)
        _split64(b, "tx_pkts", s.tx_pkts)
        _split64(b, "rx_bytes", s.rx_bytes)
        _split64(b, "rx_pkts", s.rx_pkts)
        _split64(b, "rx_drops", s.rx_no_buffer + s.rx_no_queue)
        _split64(b, "tx_drops", s.tx_malformed + s.tx_dma_error + s.llq_burst_dropped_pkts)
        _split64(b, "rx_overruns", 0)
        return AdminStatus.SUCCESS, _body(r)
