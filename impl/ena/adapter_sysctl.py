"""The adapter as :class:`~impl.ena.sysctl_host.SysctlHost`: the state the sysctl
handlers read and write, the ``ena_update_*`` reconfigurations
(:mod:`impl.ena.reconfig`) and the RSS commands (:mod:`impl.ena.rss_cmds`).

``snapshot`` covers every byte a failed write must leave alone: the adapter's knobs,
sizes, flags and RSS state, the device's latched registers, its RSS and feature state,
its queue table (its registers except the doorbell-like ones in
:data:`PROTOCOL_REGISTERS`), and every allocated block of host memory except the admin queue's two
rings -- a refused write may still have talked to the device (``rss.key`` reads the hash
function before it looks at the string, as the C does), and a command leaves its entry
and completion there (and its freed control buffer's bytes in free memory).
"""

from __future__ import annotations

import errno
import hashlib

import numpy as np

from impl.device.device import EnaDevice
from impl.ena import reconfig
from impl.ena.adapter import EnaAdapter
from impl.ena.rss_cmds import (
    fill_hash_function,
    get_hash_function,
    indirect_table_get,
    indirect_table_set,
)
from impl.ena_defs import regs

PROTOCOL_REGISTERS = (regs.AQ_DB_OFF, regs.MMIO_REG_READ_OFF, regs.AENQ_HEAD_DB_OFF)
"""Registers every admin command or register read writes anew (not configuration)."""


class AdapterSysctlHost:
    """:class:`~impl.ena.sysctl_host.SysctlHost` over ``adapter`` (``device`` is only
    read, by :meth:`snapshot`)."""

    def __init__(self, adapter: EnaAdapter, device: EnaDevice | None = None) -> None:
        self.a = adapter
        self.device = device

    def __repr__(self) -> str:
        return f"AdapterSysctlHost({self.a!r})"

    # -- state
    @property
    def device_running(self) -> bool:
        return self.a.flags.device_running

    @property
    def msix_vecs(self) -> int:
        return self.a.msix_vecs

    @property
    def num_io_queues(self) -> int:
        return self.a.num_io_queues

    @property
    def mp_ncpus(self) -> int:
        return self.a.cfg.ncpus

    @property
    def max_rx_ring_size(self) -> int:
        return self.a.max_rx_ring_size

    @property
    def requested_rx_ring_size(self) -> int:
        return self.a.requested_rx_ring_size

    @property
    def requested_tx_ring_size(self) -> int:
        return self.a.requested_tx_ring_size

    @property
    def buf_ring_size(self) -> int:
        return self.a.buf_ring_size

    @property
    def rss_active(self) -> bool:
        return self.a.rss_active

    @property
    def irq_cpu_base(self) -> int:
        return self.a.irq_cpu_base

    @property
    def irq_cpu_stride(self) -> int:
        return self.a.irq_cpu_stride

    # the plain knobs the handlers store themselves
    def _plain(name: str) -> property:  # type: ignore[misc]  # noqa: N805
        def get(self: AdapterSysctlHost) -> int:
            return getattr(self.a, name)

        def put(self: AdapterSysctlHost, v: int) -> None:
            setattr(self.a, name, v)
        return property(get, put)

    stats_sample_interval = _plain("metrics_sample_interval")
    wd_active = _plain("wd_active")
    keep_alive_timeout = _plain("keep_alive_timeout")
    missing_tx_timeout = _plain("missing_tx_timeout")
    missing_tx_max_queues = _plain("missing_tx_max_queues")
    missing_tx_threshold = _plain("missing_tx_threshold")

    # -- ena.c
    def update_io_queue_nb(self, n: int) -> int:
        return reconfig.update_io_queue_nb(self.a, n)

    def update_queue_size(self, tx: int, rx: int) -> int:
        return reconfig.update_queue_size(self.a, tx, rx)

    def update_buf_ring_size(self, n: int) -> int:
        return reconfig.update_buf_ring_size(self.a, n)

    def update_irq_affinity(self, base: int, stride: int) -> int:
        return reconfig.update_irq_affinity(self.a, base, stride)

    def clear_eni_metrics(self) -> None:
        """The ENI metrics are not simulated: nothing to clear."""

    # -- RSS
    def _com(self):  # type: ignore[no-untyped-def]
        com = self.a.com
        if com is None or com.aq is None:
            raise OSError(errno.ENODEV, "no admin queue")
        return com

    def _rx_sq_idx(self) -> np.ndarray | None:
        drv = self.a.driver
        return None if drv is None else drv.sq_idx[:, 1]

    def rss_hash_function(self) -> int:
        com = self._com()
        rc, func, key = get_hash_function(com.aq, com.com)
        if rc:
            raise OSError(rc, "GET RSS_HASH_FUNCTION failed")
        if self.a.rss is not None:
            self.a.rss.key = key
        return func

    def rss_key(self) -> bytes:
        return self.a.rss.key if self.a.rss is not None else bytes(40)

    def set_rss_key(self, key: bytes) -> int:
        com = self._com()
        rc = fill_hash_function(com.aq, com.com, 1, key)
        if rc == 0 and self.a.rss is not None:
            self.a.rss.key, self.a.rss.function = bytes(key), 1
        return rc

    def rss_indir_table(self) -> np.ndarray | None:
        r = self.a.rss
        return None if r is None or r.table is None else r.table.copy()

    def reload_rss_indir_table(self) -> int:
        sq = self._rx_sq_idx()
        if sq is None or self.a.rss is None:
            return errno.ENODEV
        com = self._com()
        rc, table = indirect_table_get(com.aq, com.com, sq)
        if rc == 0 and table is not None:
            self.a.rss.table = table
        return rc

    def set_rss_indir_table(self, table: np.ndarray) -> int:
        """``ena_rss_indir_set``: the driver's table takes ``table``, then the SET."""
        sq = self._rx_sq_idx()
        if self.a.rss is None:
            return errno.ENODEV
        self.a.rss.table = np.asarray(table, dtype=np.int64).copy()
        if sq is None:  # down: the table goes to the device at the next ena_up
            return 0
        com = self._com()
        return indirect_table_set(com.aq, com.com, self.a.rss.table, sq)

    # -- "nothing changed"
    def _memory_digest(self) -> bytes:
        com = self.a.com
        skip = set() if com is None or com.aq is None else {com.aq.sq_addr, com.aq.cq_addr}
        mem = self.a.bus.mem
        h = hashlib.sha256()
        for addr, end in sorted(mem._blocks.items()):
            if addr not in skip:
                h.update(addr.to_bytes(8, "little"))
                h.update(mem.data[addr:end].tobytes())
        return h.digest()

    def snapshot(self) -> bytes:
        a = self.a
        parts: list[bytes] = [repr((
            a.flags, a.num_io_queues, a.msix_vecs, a.requested_tx_ring_size,
            a.requested_rx_ring_size, a.tx_ring_size, a.rx_ring_size, a.buf_ring_size,
            a.metrics_sample_interval, a.irq_cpu_base, a.irq_cpu_stride, a.rss_active,
            a.wd_active, a.keep_alive_timeout, a.missing_tx_timeout, a.missing_tx_max_queues,
            a.missing_tx_threshold, a.reset.triggered, int(a.reset.reason),
            None if a.rss is None else (a.rss.function, a.rss.key),
            dict(a.stats.resets))).encode()]
        if a.rss is not None and a.rss.table is not None:
            parts.append(a.rss.table.tobytes())
        parts.append(self._memory_digest())
        d = self.device
        if d is not None:
            parts += [repr((d.rss.function, d.rss.hw_key, d.features.state)).encode(),
                      d.rss.table.tobytes(), repr(sorted(
                          (k, v) for k, v in d.mgmt.latched.items()
                          if k not in PROTOCOL_REGISTERS)).encode(),
                      d.queues.sq_used.tobytes(), d.queues.cq_used.tobytes()]
        return b"".join(parts)
