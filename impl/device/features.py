"""The device's GET_FEATURE / SET_FEATURE state and handlers.

One handler per feature id the driver uses (``enum ena_admin_aq_feature_id``); each
reads/writes the feature's descriptor (``u`` of ``ena_admin_get_feat_resp`` /
``ena_admin_set_feat_cmd``) and, for the RSS features, the indirect control buffer the
command names. ena_com's side: ``ena_com_get_feature_ex``, ``ena_com_set_hash_function``,
``ena_com_set_hash_ctrl``, ``ena_com_indirect_table_set``, ``ena_com_set_dev_mtu``,
``ena_com_set_aenq_config``, ``ena_com_set_host_attributes``, ``ena_com_set_llq``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1077

Statuses (simulator's choices where the C only shows the driver's half):

* a feature the device does not advertise in ``supported_features`` (DEVICE_ATTRIBUTES is
  always there) or does not implement: UNSUPPORTED_OPCODE; SET of a read-only feature
  (device attributes, queue limits, hints, offloads, link): UNSUPPORTED_OPCODE;
* a value outside what the device advertises (MTU above ``max_mtu``, an AENQ group not
  supported, a hash function or LLQ option not in the supported mask, an indirection
  entry that is not an RX SQ): ILLEGAL_PARAMETER;
* a missing or short control buffer, or one outside host memory: MALFORMED_REQUEST.

A failed SET changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from impl.bus import Bus, BusError
from impl.device.config import DeviceConfig
from impl.device.queues import QueueTable
from impl.device.rss import RssConfig
from impl.ena_defs.constants import (
    HASH_KEY_SIZE,
    RSS_PROTO_NUM,
    RX_RSS_TABLE_LOG_SIZE,
    AdminStatus,
    HashFunction,
    SqDirection,
)
from impl.ena_defs.mgmt_layouts import (
    AENQ_FEAT_DTYPE,
    DEVICE_ATTR_DTYPE,
    FEAT_RESP_BODY_SIZE,
    HASH_CONTROL_DTYPE,
    HASH_CTRL_DTYPE,
    HASH_FUNCTION_DTYPE,
    HASH_INPUT_DTYPE,
    HOST_ATTR_DTYPE,
    HW_HINTS_DTYPE,
    IND_TABLE_DTYPE,
    IND_TABLE_ENTRY_DTYPE,
    LINK_DTYPE,
    LLQ_DESCS_BEFORE_HEADER_2,
    LLQ_DTYPE,
    LLQ_ENTRY_SIZE_BITS,
    LLQ_INLINE_HEADER,
    LLQ_MULTIPLE_DESCS_PER_ENTRY,
    MAX_QUEUES_EXT_DTYPE,
    MTU_DTYPE,
    OFFLOAD_DTYPE,
    get_addr,
)

S = AdminStatus


class FeatureId(IntEnum):
    """``enum ena_admin_aq_feature_id``."""

    DEVICE_ATTRIBUTES = 1
    MAX_QUEUES_NUM = 2
    HW_HINTS = 3
    LLQ = 4
    EXTRA_PROPERTIES_STRINGS = 5
    EXTRA_PROPERTIES_FLAGS = 6
    MAX_QUEUES_EXT = 7
    RSS_HASH_FUNCTION = 10
    STATELESS_OFFLOAD_CONFIG = 11
    RSS_INDIRECTION_TABLE_CONFIG = 12
    MTU = 14
    RSS_HASH_INPUT = 18
    INTERRUPT_MODERATION = 20
    AENQ_CONFIG = 26
    LINK_CONFIG = 27
    HOST_ATTR_CONFIG = 28
    PHC_CONFIG = 29


DEFAULT_SUPPORTED = sum(1 << f for f in (
    FeatureId.DEVICE_ATTRIBUTES, FeatureId.HW_HINTS, FeatureId.LLQ, FeatureId.MAX_QUEUES_EXT,
    FeatureId.RSS_HASH_FUNCTION, FeatureId.STATELESS_OFFLOAD_CONFIG,
    FeatureId.RSS_INDIRECTION_TABLE_CONFIG, FeatureId.MTU, FeatureId.RSS_HASH_INPUT,
    FeatureId.AENQ_CONFIG, FeatureId.LINK_CONFIG, FeatureId.HOST_ATTR_CONFIG))
"""What this device advertises in ``supported_features``."""
MAX_QUEUE_EXT_VER = 1
"""``ENA_FEATURE_MAX_QUEUE_EXT_VER``."""
LLQ_FEATURE_VERSION_1 = 1
ENTRY_SIZE_BITS = LLQ_ENTRY_SIZE_BITS
"""``enum ena_admin_llq_ring_entry_size``."""
INLINE_HEADER = LLQ_INLINE_HEADER
MULTIPLE_DESCS_PER_ENTRY = LLQ_MULTIPLE_DESCS_PER_ENTRY
DESCS_BEFORE_HEADER_2 = LLQ_DESCS_BEFORE_HEADER_2
SORT_L3_L4 = 0b110
"""``ENA_ADMIN_FEATURE_RSS_FLOW_HASH_INPUT_L3_SORT_MASK | _L4_SORT_MASK``."""
ALL_HASH_FIELDS = 0x3F
INLINE_INDEX_NONE = 0xFFFFFFFF


@dataclass
class HwHints:
    """``struct ena_admin_ena_hw_hints`` values the device reports (0: no hint)."""

    mmio_read_timeout: int = 0
    driver_watchdog_timeout: int = 0
    missing_tx_completion_timeout: int = 0
    missed_tx_completion_count_threshold_to_reset: int = 0
    admin_completion_tx_timeout: int = 0
    netdev_wd_timeout: int = 0
    max_tx_sgl_size: int = 0
    max_rx_sgl_size: int = 0


@dataclass
class FeatureState:
    """What SET_FEATURE changes (all of it reset to these defaults by a device reset)."""

    mtu: int = 1500
    aenq_enabled: int = 0
    host_info_addr: int = 0
    debug_addr: int = 0
    debug_area_size: int = 0
    llq_entry_size_enabled: int = 0
    llq_accel_enabled: int = 0


@dataclass(frozen=True)
class Limits:
    """What the device advertises (GET only)."""

    supported_features: int = DEFAULT_SUPPORTED
    max_mtu: int = 9216
    mac: bytes = b"\x02\x00\x00\x00\x00\x01"
    aenq_supported: int = 0xFF
    max_queue_depth: int = 8192
    max_tx_header_size: int = 96
    max_per_packet_descs: int = 19
    tx_offloads: int = 0x7F
    rx_offloads: int = 0x0F
    link_speed_mbps: int = 100_000
    impl_id: int = 0
    hints: HwHints = field(default_factory=HwHints)
    """What GET_FEATURE(HW_HINTS) reports (0 each: no hint)."""


class Features:
    """GET/SET_FEATURE over the device's state (its RSS engine and IO queue table)."""

    def __init__(self, bus: Bus, config: DeviceConfig, queues: QueueTable, rss: RssConfig,
                 limits: Limits | None = None) -> None:
        self.bus = bus
        self.config = config
        self.queues = queues
        self.rss = rss
        self.limits = limits or Limits()
        self.state = FeatureState()
        self.on_aenq_enabled: Callable[[int, int], object] = lambda old, new: None
        """Called with the old and new enabled groups after a SET AENQ_CONFIG."""

    def __repr__(self) -> str:
        return (f"Features(supported={self.limits.supported_features:#x}, "
                f"mtu={self.state.mtu}, aenq_enabled={self.state.aenq_enabled:#x}, "
                f"rss={self.rss.function.name})")

    def reset(self, queues: QueueTable, rss: RssConfig) -> None:
        """Device reset: the new (empty) queue table and RSS engine, default features."""
        self.queues = queues
        self.rss = rss
        self.state = FeatureState()

    def supported(self, fid: int) -> bool:
        return fid == FeatureId.DEVICE_ATTRIBUTES or bool(
            self.limits.supported_features >> fid & 1)

    # -- control buffer DMA
    def _read_ctrl(self, addr: int, length: int, dtype: np.dtype,
                   count: int = 1) -> np.ndarray | None:
        need = dtype.itemsize * count
        if addr == 0 or length < need:
            return None
        try:
            raw = self.bus.mem.gather(np.array([addr]), np.array([need]))
        except BusError:
            return None
        return raw.view(dtype).copy()

    def _write_ctrl(self, addr: int, length: int, rec: np.ndarray) -> bool:
        raw = rec.view(np.uint8)
        if addr == 0 or length < raw.size:
            return False
        try:
            self.bus.mem.scatter(np.array([addr]), np.array([raw.size]), raw)
        except BusError:
            return False
        return True

    # -- GET
    def get(self, fid: int, version: int, ctrl: np.ndarray) -> tuple[int, np.ndarray]:
        """GET_FEATURE: status and the response body (56 bytes)."""
        body = np.zeros(FEAT_RESP_BODY_SIZE, np.uint8)
        if not self.supported(fid):
            return S.UNSUPPORTED_OPCODE, body
        getter = {
            FeatureId.DEVICE_ATTRIBUTES: self._get_dev_attr,
            FeatureId.MAX_QUEUES_EXT: self._get_max_queues_ext,
            FeatureId.HW_HINTS: self._get_hints, FeatureId.LLQ: self._get_llq,
            FeatureId.RSS_HASH_FUNCTION: self._get_hash_function,
            FeatureId.STATELESS_OFFLOAD_CONFIG: self._get_offload,
            FeatureId.RSS_INDIRECTION_TABLE_CONFIG: self._get_ind_table,
            FeatureId.MTU: self._get_mtu, FeatureId.RSS_HASH_INPUT: self._get_hash_input,
            FeatureId.AENQ_CONFIG: self._get_aenq, FeatureId.LINK_CONFIG: self._get_link,
            FeatureId.HOST_ATTR_CONFIG: self._get_host_attr,
        }.get(fid)
        if getter is None:
            return S.UNSUPPORTED_OPCODE, body
        status, rec = getter(version, ctrl)
        if status == S.SUCCESS:
            raw = rec.view(np.uint8)
            body[:raw.size] = raw
        return status, body

    def _get_dev_attr(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, DEVICE_ATTR_DTYPE)
        lim, cfg = self.limits, self.config
        r["impl_id"] = lim.impl_id
        r["device_version"] = (cfg.version[0] << 8) | cfg.version[1]
        r["supported_features"] = lim.supported_features
        r["capabilities"] = cfg.caps
        r["phys_addr_width"] = cfg.dma_addr_width
        r["virt_addr_width"] = 48
        r["mac_addr"] = np.frombuffer(lim.mac, np.uint8)
        r["max_mtu"] = lim.max_mtu
        return S.SUCCESS, r

    def _get_max_queues_ext(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, MAX_QUEUES_EXT_DTYPE)
        lim = self.limits
        r["version"] = MAX_QUEUE_EXT_VER
        half = self.config.max_queues // 2
        for name in ("max_tx_sq_num", "max_tx_cq_num", "max_rx_sq_num", "max_rx_cq_num"):
            r[name] = half
        for name in ("max_tx_sq_depth", "max_tx_cq_depth", "max_rx_sq_depth",
                     "max_rx_cq_depth"):
            r[name] = lim.max_queue_depth
        r["max_tx_header_size"] = lim.max_tx_header_size
        r["max_per_packet_tx_descs"] = lim.max_per_packet_descs
        r["max_per_packet_rx_descs"] = lim.max_per_packet_descs
        return S.SUCCESS, r

    def _get_hints(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, HW_HINTS_DTYPE)
        for name, value in vars(self.limits.hints).items():
            r[name] = value
        return S.SUCCESS, r

    def _llq_supported_entry_sizes(self) -> int:
        return ENTRY_SIZE_BITS[self.config.llq_entry_size]

    def _get_llq(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, LLQ_DTYPE)
        r["max_llq_num"] = self.config.max_queues // 2
        r["max_llq_depth"] = self.queues.llq_window // self.config.llq_entry_size
        r["header_location_ctrl_supported"] = INLINE_HEADER
        r["header_location_ctrl_enabled"] = INLINE_HEADER
        r["entry_size_ctrl_supported"] = self._llq_supported_entry_sizes()
        r["entry_size_ctrl_enabled"] = self.state.llq_entry_size_enabled
        r["desc_num_before_header_supported"] = DESCS_BEFORE_HEADER_2
        r["desc_num_before_header_enabled"] = DESCS_BEFORE_HEADER_2
        r["descriptors_stride_ctrl_supported"] = MULTIPLE_DESCS_PER_ENTRY
        r["descriptors_stride_ctrl_enabled"] = MULTIPLE_DESCS_PER_ENTRY
        r["feature_version"] = LLQ_FEATURE_VERSION_1
        r["entry_size_recommended"] = self._llq_supported_entry_sizes()
        r["max_wide_llq_depth"] = r["max_llq_depth"][0] // 2
        burst = self.config.max_tx_burst_bytes
        r["accel_mode"][0, 0] = (0b11 if burst else 0b01) | (burst << 16)
        return S.SUCCESS, r

    def _get_hash_function(self, _v: int, ctrl: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, HASH_FUNCTION_DTYPE)
        r["supported_func"] = (1 << HashFunction.TOEPLITZ) | (1 << HashFunction.CRC32)
        r["selected_func"] = 1 << int(self.rss.function)
        r["init_val"] = self.rss.init_val
        addr, length = _ctrl(ctrl)
        if length:
            key = np.zeros(1, HASH_CONTROL_DTYPE)
            key["key_parts"] = HASH_KEY_SIZE // 4
            key["key"] = np.frombuffer(self.rss.hw_key, "<u4")
            if not self._write_ctrl(addr, length, key):
                return S.MALFORMED_REQUEST, r
        return S.SUCCESS, r

    def _get_hash_input(self, _v: int, ctrl: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, HASH_INPUT_DTYPE)
        r["supported_input_sort"] = SORT_L3_L4
        r["enabled_input_sort"] = (self.rss.l3_sort << 1) | (self.rss.l4_sort << 2)
        addr, length = _ctrl(ctrl)
        if length:
            hc = np.zeros(1, HASH_CTRL_DTYPE)
            hc["supported_fields"]["fields"] = ALL_HASH_FIELDS
            hc["selected_fields"]["fields"] = self.rss.fields[:RSS_PROTO_NUM]
            if not self._write_ctrl(addr, length, hc):
                return S.MALFORMED_REQUEST, r
        return S.SUCCESS, r

    def _get_ind_table(self, _v: int, ctrl: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, IND_TABLE_DTYPE)
        r["min_size"] = r["max_size"] = r["size"] = RX_RSS_TABLE_LOG_SIZE
        r["inline_index"] = INLINE_INDEX_NONE
        addr, length = _ctrl(ctrl)
        if length:
            tbl = np.zeros(self.rss.table.size, IND_TABLE_ENTRY_DTYPE)
            tbl["cq_idx"] = np.where(self.rss.table < 0, 0, self.rss.table)
            if not self._write_ctrl(addr, length, tbl):
                return S.MALFORMED_REQUEST, r
        return S.SUCCESS, r

    def _get_offload(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, OFFLOAD_DTYPE)
        r["tx"] = self.limits.tx_offloads
        r["rx_supported"] = r["rx_enabled"] = self.limits.rx_offloads
        return S.SUCCESS, r

    def _get_mtu(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, MTU_DTYPE)
        r["mtu"] = self.state.mtu
        return S.SUCCESS, r

    def _get_aenq(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, AENQ_FEAT_DTYPE)
        r["supported_groups"] = self.limits.aenq_supported
        r["enabled_groups"] = self.state.aenq_enabled
        return S.SUCCESS, r

    def _get_link(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, LINK_DTYPE)
        r["speed"] = self.limits.link_speed_mbps
        r["supported"] = 1
        r["flags"] = 1
        return S.SUCCESS, r

    def _get_host_attr(self, _v: int, _c: np.ndarray) -> tuple[int, np.ndarray]:
        r = np.zeros(1, HOST_ATTR_DTYPE)
        for member, addr in (("os_info_ba", self.state.host_info_addr),
                             ("debug_ba", self.state.debug_addr)):
            r[member]["mem_addr_low"] = addr & 0xFFFFFFFF
            r[member]["mem_addr_high"] = addr >> 32
        r["debug_area_size"] = self.state.debug_area_size
        return S.SUCCESS, r

    # -- SET
    def set(self, fid: int, body: np.ndarray, ctrl: np.ndarray) -> int:
        """SET_FEATURE with the command's 44-byte descriptor ``body``: a status; nothing
        changes unless it is SUCCESS."""
        if not self.supported(fid):
            return S.UNSUPPORTED_OPCODE
        setter = {
            FeatureId.LLQ: (LLQ_DTYPE, self._set_llq),
            FeatureId.RSS_HASH_FUNCTION: (HASH_FUNCTION_DTYPE, self._set_hash_function),
            FeatureId.RSS_INDIRECTION_TABLE_CONFIG: (IND_TABLE_DTYPE, self._set_ind_table),
            FeatureId.MTU: (MTU_DTYPE, self._set_mtu),
            FeatureId.RSS_HASH_INPUT: (HASH_INPUT_DTYPE, self._set_hash_input),
            FeatureId.AENQ_CONFIG: (AENQ_FEAT_DTYPE, self._set_aenq),
            FeatureId.HOST_ATTR_CONFIG: (HOST_ATTR_DTYPE, self._set_host_attr),
        }.get(fid)
        if setter is None:
            return S.UNSUPPORTED_OPCODE
        dtype, fn = setter
        rec = np.frombuffer(bytes(body[:dtype.itemsize]), dtype).copy()
        return fn(rec, ctrl)

    def _set_mtu(self, rec: np.ndarray, _c: np.ndarray) -> int:
        mtu = int(rec["mtu"][0])
        if not 0 < mtu <= self.limits.max_mtu:
            return S.ILLEGAL_PARAMETER
        self.state.mtu = mtu
        return S.SUCCESS

    def _set_aenq(self, rec: np.ndarray, _c: np.ndarray) -> int:
        groups = int(rec["enabled_groups"][0])
        if groups & ~self.limits.aenq_supported:
            return S.ILLEGAL_PARAMETER
        old = self.state.aenq_enabled
        self.state.aenq_enabled = groups
        self.on_aenq_enabled(old, groups)
        return S.SUCCESS

    def _set_host_attr(self, rec: np.ndarray, _c: np.ndarray) -> int:
        info = get_addr(rec, "os_info_ba")
        debug = get_addr(rec, "debug_ba")
        size = int(rec["debug_area_size"][0])
        mem = self.bus.mem
        if info == 0 or not mem.in_range(np.array([info]), np.array([4096]))[0]:
            return S.ILLEGAL_PARAMETER
        if debug and not mem.in_range(np.array([debug]), np.array([size]))[0]:
            return S.ILLEGAL_PARAMETER
        self.state.host_info_addr, self.state.debug_addr = info, debug
        self.state.debug_area_size = size if debug else 0
        return S.SUCCESS

    def _set_llq(self, rec: np.ndarray, _c: np.ndarray) -> int:
        def one_of(enabled: str, supported: int) -> bool:
            v = int(rec[enabled][0])
            return v != 0 and v & (v - 1) == 0 and v & supported == v
        ok = (one_of("header_location_ctrl_enabled", INLINE_HEADER)
              and one_of("entry_size_ctrl_enabled", self._llq_supported_entry_sizes())
              and int(rec["desc_num_before_header_enabled"][0]) == DESCS_BEFORE_HEADER_2
              and one_of("descriptors_stride_ctrl_enabled", MULTIPLE_DESCS_PER_ENTRY))
        if not ok:
            return S.ILLEGAL_PARAMETER
        self.state.llq_entry_size_enabled = int(rec["entry_size_ctrl_enabled"][0])
        self.state.llq_accel_enabled = int(rec["accel_mode"][0, 0]) & 0xFFFF
        return S.SUCCESS

    def _set_hash_function(self, rec: np.ndarray, ctrl: np.ndarray) -> int:
        sel = int(rec["selected_func"][0])
        supported = (1 << HashFunction.TOEPLITZ) | (1 << HashFunction.CRC32)
        if sel == 0 or sel & (sel - 1) or sel & ~supported:
            return S.ILLEGAL_PARAMETER
        addr, length = _ctrl(ctrl)
        key = self._read_ctrl(addr, length, HASH_CONTROL_DTYPE)
        if key is None:
            return S.MALFORMED_REQUEST
        if int(key["key_parts"][0]) != HASH_KEY_SIZE // 4:
            return S.ILLEGAL_PARAMETER
        self.rss.set_key(key["key"][0].astype("<u4").tobytes())
        self.rss.function = HashFunction(sel.bit_length() - 1)
        self.rss.init_val = int(rec["init_val"][0])
        return S.SUCCESS

    def _set_hash_input(self, rec: np.ndarray, ctrl: np.ndarray) -> int:
        sort = int(rec["enabled_input_sort"][0])
        if sort & ~SORT_L3_L4:
            return S.ILLEGAL_PARAMETER
        addr, length = _ctrl(ctrl)
        hc = self._read_ctrl(addr, length, HASH_CTRL_DTYPE)
        if hc is None:
            return S.MALFORMED_REQUEST
        sel = hc["selected_fields"]["fields"][0].astype(np.int64)
        if (sel & ~ALL_HASH_FIELDS).any():
            return S.ILLEGAL_PARAMETER
        self.rss.fields = sel[:RSS_PROTO_NUM].copy()
        self.rss.l3_sort = bool(sort & 0b010)
        self.rss.l4_sort = bool(sort & 0b100)
        return S.SUCCESS

    def _is_rx_sq(self, idx: np.ndarray) -> np.ndarray:
        qt = self.queues
        ok = (idx >= 0) & (idx < qt.sq_used.size)
        safe = np.where(ok, idx, 0)
        return ok & qt.sq_used[safe] & (qt.sq_dir[safe] == int(SqDirection.RX))

    def _set_ind_table(self, rec: np.ndarray, ctrl: np.ndarray) -> int:
        size = int(rec["size"][0])
        if size != RX_RSS_TABLE_LOG_SIZE:
            return S.ILLEGAL_PARAMETER
        inline = int(rec["inline_index"][0])
        if inline != INLINE_INDEX_NONE:  # one-entry update
            idx = int(rec["inline_entry_cq_idx"][0])
            if inline >= self.rss.table.size or not self._is_rx_sq(np.array([idx]))[0]:
                return S.ILLEGAL_PARAMETER
            self.rss.table[inline] = idx
            return S.SUCCESS
        addr, length = _ctrl(ctrl)
        tbl = self._read_ctrl(addr, length, IND_TABLE_ENTRY_DTYPE, 1 << size)
        if tbl is None:
            return S.MALFORMED_REQUEST
        idx = tbl["cq_idx"].astype(np.int64)
        if not self._is_rx_sq(idx).all():
            return S.ILLEGAL_PARAMETER
        self.rss.table[:] = idx
        return S.SUCCESS


def _ctrl(ctrl: np.ndarray) -> tuple[int, int]:
    """(address, length) of a command's ``control_buffer`` (0, 0 when absent)."""
    length = int(ctrl["length"][0])
    a = ctrl["address"]
    return int(a["mem_addr_low"][0]) | (int(a["mem_addr_high"][0]) << 32), length
