"""What the sysctl handlers need from the adapter: :class:`SysctlHost`.

:mod:`impl.ena.sysctl` does the part of the driver that lives in ena_sysctl.c (parsing,
validation, "same as current", the plain knobs); everything that lives in ena.c, ena_rss.c
or ena-com (down/up, revert and retry, the OS_TRIGGER reset, admin commands) is behind this
Protocol, which the adapter implements.

The ``update_*`` methods are the ``ena_update_*`` functions of ena.c: each stores the new
value, brings the interface down and up again, reverts and retries on failure and triggers
an ``OS_TRIGGER`` reset if the retry fails too, and returns the errno the handler returns:

* :meth:`SysctlHost.update_io_queue_nb`:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1394
* :meth:`SysctlHost.update_queue_size`:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1242
* :meth:`SysctlHost.update_buf_ring_size`:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1187
* :meth:`SysctlHost.update_irq_affinity`: ``ena_update_base_cpu`` or ``ena_update_cpu_stride``
  (the handler passes the other value unchanged):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1315
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1354

The RSS members:

* :meth:`SysctlHost.rss_hash_function` is ``ena_com_get_hash_function`` (a GET of
  RSS_HASH_FUNCTION whose control buffer is the driver's key buffer, so it also refreshes
  :meth:`SysctlHost.rss_key`); it returns ``ENA_ADMIN_TOEPLITZ`` (1), ``ENA_ADMIN_CRC32``
  (2), or 0 if the device selected none, and raises :class:`OSError` carrying the errno if
  the GET fails:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2952
* :meth:`SysctlHost.rss_key` is ``ena_com_get_hash_key``: the 40 key bytes as ena-com holds
  them, i.e. in the device's byte-reversed order:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2979
* :meth:`SysctlHost.set_rss_key` is ``ena_com_fill_hash_function(TOEPLITZ, key)`` with
  ``key`` already reversed (the handler reverses, as ``ena_rss_set_hash`` does):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2902
* :meth:`SysctlHost.rss_indir_table` is ``adapter->rss_indir->table`` (``struct
  ena_indir``): 128 **queue numbers** ``0 .. num_io_queues - 1`` (not ENA qids; the
  conversion ``2 * q + 1`` and back is the host's), or ``None`` when the driver has no table
  (``rss_indir == NULL``):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.h#L79
* :meth:`SysctlHost.reload_rss_indir_table` is ``ena_rss_indir_get(adapter,
  indir->table)``: re-read the table from the device into the driver's table (errno):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.c#L271
* :meth:`SysctlHost.set_rss_indir_table` is ``ena_rss_indir_set``: store ``table`` (queue
  numbers) as the driver's table and SET it on the device with
  ``ena_com_indirect_table_set`` (errno):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.c#L293

One member beyond the brief: :meth:`SysctlHost.clear_eni_metrics`, the ``bzero`` of
``adapter->eni_metrics`` that writing 0 to ``stats_sample_interval`` does:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L887
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

ENA_ADMIN_TOEPLITZ = 1
ENA_ADMIN_CRC32 = 2


class SysctlHost(Protocol):
    """The adapter state and ena.c / ena-com operations the sysctl handlers use."""

    device_running: bool
    """``ENA_FLAG_DEVICE_RUNNING``."""
    msix_vecs: int
    num_io_queues: int
    mp_ncpus: int
    max_rx_ring_size: int
    requested_rx_ring_size: int
    requested_tx_ring_size: int
    buf_ring_size: int
    stats_sample_interval: int
    """``adapter->metrics_sample_interval`` (u16)."""
    irq_cpu_base: int
    irq_cpu_stride: int
    rss_active: bool
    """``ENA_FLAG_RSS_ACTIVE``."""
    wd_active: bool
    keep_alive_timeout: int
    """sbintime_t (signed 64-bit)."""
    missing_tx_timeout: int
    """sbintime_t (signed 64-bit)."""
    missing_tx_max_queues: int
    missing_tx_threshold: int

    def update_io_queue_nb(self, n: int) -> int: ...

    def update_queue_size(self, tx: int, rx: int) -> int: ...

    def update_buf_ring_size(self, n: int) -> int: ...

    def update_irq_affinity(self, base: int, stride: int) -> int: ...

    def rss_hash_function(self) -> int: ...

    def rss_key(self) -> bytes: ...

    def set_rss_key(self, key: bytes) -> int: ...

    def rss_indir_table(self) -> np.ndarray | None: ...

    def reload_rss_indir_table(self) -> int: ...

    def set_rss_indir_table(self, table: np.ndarray) -> int: ...

    def clear_eni_metrics(self) -> None: ...

    def snapshot(self) -> bytes:
        """Every byte of driver and device state, for the "nothing changed" checks."""
        ...
