"""A stand-in adapter for the sysctl tests: :class:`FakeSysctlHost`.

It implements :class:`impl.ena.sysctl_host.SysctlHost` with plain fields, records every
call to a host operation in :attr:`FakeSysctlHost.calls`, and can be told to fail them:
``fail`` maps an operation name (``"update_io_queue_nb"``, ``"set_rss_key"``, ...) to the
errno it returns, in which case it changes nothing (the revert in ena.c succeeded). The
device's copy of the indirection table is a separate field, so a test can tell a re-read
from the device from no re-read. :meth:`FakeSysctlHost.snapshot` covers every field except
the call log.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from errno import EIO

import numpy as np

from impl.ena.sysctl_host import ENA_ADMIN_TOEPLITZ

TABLE_SIZE = 128


def default_table(num_queues: int) -> np.ndarray:
    """``ena_rss_init_default``'s table in queue numbers: entry i is ``i % num_queues``."""
    return (np.arange(TABLE_SIZE) % num_queues).astype(np.uint32)


@dataclass
class FakeSysctlHost:
    device_running: bool = True
    msix_vecs: int = 9
    num_io_queues: int = 8
    mp_ncpus: int = 16
    max_rx_ring_size: int = 8192
    requested_rx_ring_size: int = 1024
    requested_tx_ring_size: int = 1024
    buf_ring_size: int = 4096
    stats_sample_interval: int = 0
    irq_cpu_base: int = -1
    irq_cpu_stride: int = 0
    rss_active: bool = True
    wd_active: bool = True
    keep_alive_timeout: int = 6 << 32
    missing_tx_timeout: int = 5 << 32
    missing_tx_max_queues: int = 4
    missing_tx_threshold: int = 128
    hash_function: int = ENA_ADMIN_TOEPLITZ
    hash_function_errno: int = 0
    """Non-zero: the GET of the hash function fails with it."""
    key: bytes = bytes(range(40))
    """As ena-com holds it (byte-reversed, the device's order)."""
    table: np.ndarray | None = field(default_factory=lambda: default_table(8))
    """The driver's table (queue numbers)."""
    device_table: np.ndarray = field(default_factory=lambda: default_table(8))
    """The device's table (queue numbers), what a re-read returns."""
    eni_metrics: tuple[int, ...] = (7, 7, 7, 7, 7)
    fail: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    def _call(self, name: str, *args: object) -> int:
        self.calls.append((name, args))
        return self.fail.get(name, 0)

    def update_io_queue_nb(self, n: int) -> int:
        err = self._call("update_io_queue_nb", n)
        if not err:
            self.num_io_queues = n
            self.table = default_table(n)
            self.device_table = default_table(n)
        return err

    def update_queue_size(self, tx: int, rx: int) -> int:
        err = self._call("update_queue_size", tx, rx)
        if not err:
            self.requested_tx_ring_size = tx
            self.requested_rx_ring_size = rx
        return err

    def update_buf_ring_size(self, n: int) -> int:
        err = self._call("update_buf_ring_size", n)
        if not err:
            self.buf_ring_size = n
        return err

    def update_irq_affinity(self, base: int, stride: int) -> int:
        err = self._call("update_irq_affinity", base, stride)
        if not err:
            self.irq_cpu_base = base
            self.irq_cpu_stride = stride
        return err

    def rss_hash_function(self) -> int:
        self.calls.append(("rss_hash_function", ()))
        if self.hash_function_errno:
            raise OSError(self.hash_function_errno, "GET RSS_HASH_FUNCTION failed")
        return self.hash_function

    def rss_key(self) -> bytes:
        return self.key

    def set_rss_key(self, key: bytes) -> int:
        err = self._call("set_rss_key", key)
        if not err:
            assert len(key) == 40
            self.key = bytes(key)
        return err

    def rss_indir_table(self) -> np.ndarray | None:
        return self.table

    def reload_rss_indir_table(self) -> int:
        err = self._call("reload_rss_indir_table")
        if not err and self.table is not None:
            self.table = self.device_table.copy()
        return err

    def set_rss_indir_table(self, table: np.ndarray) -> int:
        err = self._call("set_rss_indir_table", table.copy())
        if not err:
            self.table = np.array(table, dtype=np.uint32)
            self.device_table = self.table.copy()
        return err

    def clear_eni_metrics(self) -> None:
        self.calls.append(("clear_eni_metrics", ()))
        self.eni_metrics = (0,) * len(self.eni_metrics)

    def snapshot(self) -> bytes:
        parts: list[bytes] = []
        for f in dataclasses.fields(self):
            if f.name == "calls":
                continue
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                parts.append(f"{f.name}={v.dtype}{v.shape}:".encode() + v.tobytes())
            else:
                parts.append(f"{f.name}={v!r}".encode())
        return b"\n".join(parts)


def failing(errno: int = EIO, *ops: str) -> dict[str, int]:
    """A ``fail`` map making each of ``ops`` return ``errno``."""
    return dict.fromkeys(ops, errno)
