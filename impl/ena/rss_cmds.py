"""The driver's RSS state and its admin commands (``ena_rss.c`` over ena-com).

* ``ena_rss_init_default``: the hash key (40 bytes), Toeplitz, and the 128-entry
  indirection table ``i % num_io_queues``, kept by the driver in queue numbers
  (``struct ena_indir``);
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.c#L127
* ``ena_com_fill_hash_function`` / ``ena_com_get_hash_function``: SET/GET
  RSS_HASH_FUNCTION (``selected_func`` as the bit ``1 << func``), the key in a control
  buffer of ten words;
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2952
* ``ena_com_indirect_table_set`` / ``_get``: SET/GET RSS_INDIRECTION_TABLE_CONFIG (log
  size 7, ``inline_index = 0xFFFFFFFF``) with the table in a control buffer, each queue
  number converted to its RX SQ's device index (``ENA_IO_RXQ_IDX``, then the index the
  device gave that queue) and back.
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L3225

Every call returns an ena_com code (0 or an errno); a control buffer lives in host memory
only for its command.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

import numpy as np

from impl.ena.admin_cmds import ComFeatures, get_feature, set_feature
from impl.ena.admin_queue import AdminQueue
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.constants import HASH_KEY_SIZE, RX_RSS_TABLE_LOG_SIZE, HashFunction

RSS_HASH_FUNCTION = 10
RSS_INDIRECTION_TABLE_CONFIG = 12
INLINE_INDEX_NONE = 0xFFFFFFFF
TABLE_SIZE = 1 << RX_RSS_TABLE_LOG_SIZE


@dataclass
class DriverRss:
    """What the driver holds: the function, the key as ena-com keeps it (the order the
    device gets it in) and the indirection table in queue numbers (None: destroyed, to be
    rebuilt at the next ``ena_up``)."""

    function: int
    key: bytes
    table: np.ndarray | None

    @staticmethod
    def default(nqueues: int, key: bytes) -> DriverRss:
        """``ena_rss_init_default``."""
        return DriverRss(int(HashFunction.TOEPLITZ), key, default_table(nqueues))


def default_table(nqueues: int) -> np.ndarray:
    return np.arange(TABLE_SIZE, dtype=np.int64) % nqueues


def _ctrl(aq: AdminQueue, nbytes: int) -> int:
    return aq.bus.mem.alloc(nbytes, 64)


def fill_hash_function(aq: AdminQueue, com: ComFeatures, function: int, key: bytes) -> int:
    """``ena_com_fill_hash_function``: SET RSS_HASH_FUNCTION with ``key`` (40 bytes)."""
    if len(key) != HASH_KEY_SIZE:
        return errno.EINVAL
    addr = _ctrl(aq, m.HASH_CONTROL_DTYPE.itemsize)
    try:
        buf = aq.bus.mem.array(addr, m.HASH_CONTROL_DTYPE, 1)
        buf["key_parts"] = HASH_KEY_SIZE // 4
        buf["key"] = np.frombuffer(key, "<u4")
        rec = np.zeros(1, m.HASH_FUNCTION_DTYPE)
        rec["selected_func"] = 1 << function
        return set_feature(aq, com, RSS_HASH_FUNCTION, rec, addr,
                           m.HASH_CONTROL_DTYPE.itemsize)
    finally:
        aq.bus.mem.free(addr)


def get_hash_function(aq: AdminQueue, com: ComFeatures) -> tuple[int, int, bytes]:
    """``ena_com_get_hash_function``: GET RSS_HASH_FUNCTION: ``(rc, function, key)``
    (function 0 if none selected)."""
    addr = _ctrl(aq, m.HASH_CONTROL_DTYPE.itemsize)
    try:
        rc, rec = get_feature(aq, com, RSS_HASH_FUNCTION, m.HASH_FUNCTION_DTYPE, 0, addr,
                              m.HASH_CONTROL_DTYPE.itemsize)
        if rc or rec is None:
            return rc or errno.EINVAL, 0, b""
        key = aq.bus.mem.array(addr, m.HASH_CONTROL_DTYPE, 1)["key"][0].astype("<u4")
        selected = int(rec["selected_func"][0])  # the bit 1 << func, or 0
        return 0, selected.bit_length() - 1 if selected else 0, key.tobytes()
    finally:
        aq.bus.mem.free(addr)


def indirect_table_set(aq: AdminQueue, com: ComFeatures, table: np.ndarray,
                       rx_sq_idx: np.ndarray) -> int:
    """``ena_com_indirect_table_set``: SET the table of queue numbers, each as its RX
    SQ's device index; EINVAL (nothing sent) for a queue number that has no RX SQ."""
    t = np.asarray(table, dtype=np.int64)
    if t.shape != (TABLE_SIZE,) or (t < 0).any() or (t >= rx_sq_idx.size).any():
        return errno.EINVAL
    size = TABLE_SIZE * m.IND_TABLE_ENTRY_DTYPE.itemsize
    addr = _ctrl(aq, size)
    try:
        aq.bus.mem.array(addr, m.IND_TABLE_ENTRY_DTYPE, TABLE_SIZE)["cq_idx"] = rx_sq_idx[t]
        rec = np.zeros(1, m.IND_TABLE_DTYPE)
        rec["size"] = RX_RSS_TABLE_LOG_SIZE
        rec["inline_index"] = INLINE_INDEX_NONE
        return set_feature(aq, com, RSS_INDIRECTION_TABLE_CONFIG, rec, addr, size)
    finally:
        aq.bus.mem.free(addr)


def indirect_table_get(aq: AdminQueue, com: ComFeatures,
                       rx_sq_idx: np.ndarray) -> tuple[int, np.ndarray | None]:
    """``ena_com_indirect_table_get``: GET the table, back in queue numbers (EINVAL if an
    entry names no RX queue of ours)."""
    size = TABLE_SIZE * m.IND_TABLE_ENTRY_DTYPE.itemsize
    addr = _ctrl(aq, size)
    try:
        rc, _ = get_feature(aq, com, RSS_INDIRECTION_TABLE_CONFIG, m.IND_TABLE_DTYPE, 0,
                            addr, size)
        if rc:
            return rc, None
        dev = aq.bus.mem.array(addr, m.IND_TABLE_ENTRY_DTYPE, TABLE_SIZE)["cq_idx"]
        lookup = np.full(max(int(rx_sq_idx.max(initial=0)), int(dev.max())) + 1, -1,
                         np.int64)
        lookup[rx_sq_idx] = np.arange(rx_sq_idx.size)
        q = lookup[dev.astype(np.int64)]
        return (errno.EINVAL, None) if (q < 0).any() else (0, q)
    finally:
        aq.bus.mem.free(addr)
