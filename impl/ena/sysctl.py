"""The ENA driver's sysctl interface, driven by the strings a shell user types.

``Sysctl(host).write("dev.ena.0.rx_queue_size", "512")`` is ``sysctl
dev.ena.0.rx_queue_size=512``: it returns 0 or the errno the C gives; ``read(name)``
returns what ``sysctl -n name`` prints, or raises :class:`SysctlError` with the errno. The
handlers are those of ena_sysctl.c; what they call in ena.c, ena_rss.c and ena-com is the
:class:`~impl.ena.sysctl_host.SysctlHost` protocol; the parsing is
:mod:`impl.ena.sysctl_parse`.

Nodes (``X`` is the unit given to :class:`Sysctl`):

* ``hw.ena.log_level`` (RWTUN int, no validation), ``hw.ena.driver_version`` (read-only
  ``"2.8.3"``), ``hw.ena.enable_9k_mbufs`` and ``hw.ena.force_large_llq_header`` (RDTUN:
  boot-time tunables, read-only at run time). Writing a read-only node gives ``EPERM``:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L129
* ``dev.ena.X.wd_active`` (int), ``keep_alive_timeout``, ``missing_tx_timeout`` (quad,
  raw sbintime_t), ``missing_tx_max_queues``, ``missing_tx_threshold`` (u32): plain RWTUN
  variables, no handler, so no validation beyond the type and no DEVICE_RUNNING check:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L203
* ``dev.ena.X.io_queues_nb``, ``rx_queue_size``, ``buf_ring_size`` (u32),
  ``stats_sample_interval`` (u16): handlers, see the ``_w_*`` methods:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L564
* ``dev.ena.X.irq_affinity.base_cpu`` / ``cpu_stride`` (s32): handlers; without
  DEVICE_RUNNING they give ``ENODEV`` (the others ``EINVAL``):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L646
* ``dev.ena.X.rss.key``, ``rss.indir_table`` (strings) and ``rss.indir_table_size``
  (read-only int 128); the driver built without kernel ``option RSS``:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L609

Any other name gives ``ENOENT``, interior nodes such as ``dev.ena.X.rss`` included (the
statistics nodes are not part of this interface); sysctl(8) drops trailing whitespace from
the name first.

Before a handler runs, sysctl(8) itself refuses (reported here as ``EINVAL``): a
``name=value`` argument of 1024 bytes or more, a numeric value it cannot parse as the
node's type (see :func:`~impl.ena.sysctl_parse.parse_number`), and, here, a value no shell
could pass (an embedded NUL, text with no UTF-8 encoding). A handler-checked knob whose
new value equals the current one logs it and succeeds without calling the host.

Differences from the C
----------------------
Not reproduced, because they are bugs:

* ``ena_sysctl_io_queues_nb`` returns the errno of a failed ``ena_update_io_queue_nb``
  without dropping ``ENA_LOCK`` (every later handler on every adapter would block). Here
  the errno is returned and nothing stays held (there is no lock to hold: the interface
  is single-threaded):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L875
* ``ena_sysctl_metrics_interval`` ends with ``return (0)``, so an interval above 3600 (or a
  write while the device is not running) is refused, and not applied, but reported as a
  success; a read while the device is not running returns no value and no error. Here the
  ``EINVAL`` is returned (raised, for a read):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L931

Hardened (stricter than sysctl(8) and the C; each refusal is ``EINVAL`` unless stated):

* A number that fits an ``unsigned long`` but not the node's type is truncated by
  sysctl(8) (``(uint32_t)strtoul``: ``4294967552`` becomes 256 for a u32, ``65536``
  becomes 0 for ``stats_sample_interval``); here it is refused. So is a negative number
  for an unsigned node, which ``strtoul`` wraps (``-1`` becomes 0xffffffff); ``-0`` is 0.
* sysctl(8) splits a numeric value on spaces and commas and sends every piece; the
  handlers read only the first (``"512,1024"`` sets 512) and a value of only separators
  (``","``) makes sysctl(8) read instead of write and report success. Here a numeric value
  must hold exactly one number (trailing spaces or commas are still dropped, as sysctl(8)
  drops empty pieces).
* ``rss.indir_table`` stores each ``strtol`` result in a ``uint32_t``, so ``4294967296``
  aliases index (or queue) 0 and ``-4294967295`` aliases 1; here a record is checked on
  its real value (out of range: ``ERANGE``, as for ``-1`` and ``128`` in the C).
* ``rss.indir_table`` applies records to the driver's table as it parses, and on an error
  re-reads the table from the device; if that re-read fails, the partial update stays in
  the driver's table (and in the string ``rss.indir_table`` prints), unlike the device's.
  Here the records go to a copy, so the driver's table only changes through
  :meth:`~impl.ena.sysctl_host.SysctlHost.set_rss_indir_table` (the re-read is still
  requested on every error, as in the C).

Modelled as shipped (not harmful enough to change):

* A ``rss.key`` pair may carry a leading whitespace or sign: ``" f"`` and ``"+f"`` are
  0x0f, ``"-1"`` is 0xff (see :func:`~impl.ena.sysctl_parse.parse_key`).
* ``cpu_stride`` larger than the number of CPUs only logs a warning; ``base_cpu`` equal to
  the number of CPUs is accepted (the CPU of queue i is taken modulo ``mp_ncpus``).
* ``base_cpu`` prints its default -1 ("unspecified") but refuses -1 when written, so once
  set it cannot be returned to "unspecified" at run time.

Simplified:

* ``wd_active`` is an ``int`` in the C and prints back whatever was written (``5``); the
  host holds a ``bool`` (the watchdog only tests it against zero), so it prints ``0``/``1``.
* ``rss.indir_table`` prints the driver's current table; the C prints the string it last
  generated from the table (at RSS init and after each write), so the two agree as long as
  the table changes only there.
* ``ena_sysctl_update_queue_node_nb`` (hiding the statistics nodes of unused queues after an
  ``io_queues_nb`` change) has no counterpart: those nodes are not part of this interface.
* Log messages are our own words (levels as in the C, filtered by ``hw.ena.log_level`` as
  ``ena_log`` does; the RSS handlers' ``device_printf`` messages are always kept):
  :attr:`Sysctl.log`. The C's ``rss.indir_table`` messages for a failed re-read or SET
  come from ena_rss.c, i.e. the host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from errno import EINVAL, EIO, ENODEV, ENOENT, ENOTSUP, EPERM

import numpy as np

from impl.ena.sysctl_host import ENA_ADMIN_TOEPLITZ, SysctlHost
from impl.ena.sysctl_parse import (
    ENA_HASH_KEY_MSG_SIZE,
    ENA_RX_RSS_TABLE_SIZE,
    INDIR_BUF_SIZE,
    INT,
    S32,
    S64,
    SYSCTL8_BUFSIZ,
    U16,
    U32,
    CType,
    argv_bytes,
    format_indir,
    parse_indir,
    parse_key,
    parse_number,
    sysctl8_value,
)

DRIVER_VERSION = "2.8.3"
ENA_ADMIN_MSIX_VEC = 1
ENA_MIN_RING_SIZE = 256
ENA_BASE_CPU_UNSPECIFIED = -1
ENA_METRICS_MAX_SAMPLE_INTERVAL = 3600
ENA_INFO = 2
_LEVELS = {"ERR": 0, "WARN": 1, "INFO": 2}


class SysctlError(OSError):
    """A read refused by a handler; ``errno`` is the C's."""


@dataclass
class DriverTunables:
    """The driver-wide ``hw.ena`` variables (one copy for all adapters)."""

    log_level: int = ENA_INFO
    enable_9k_mbufs: int = 0
    force_large_llq_header: int = 2
    """``ENA_LLQ_HEADER_SIZE_POLICY_DEFAULT``: follow the device's recommendation."""


@dataclass(frozen=True)
class _Node:
    """One leaf: how to print it, its numeric type (``None``: a string), how to write it."""

    read: Callable[[], str]
    ctype: CType | None = None
    write_int: Callable[[int], int] | None = None
    write_str: Callable[[bytes], int] | None = None

    @property
    def writable(self) -> bool:
        return self.write_int is not None or self.write_str is not None


def _trim(name: str) -> str:
    """sysctl(8) drops whitespace at the end of the name (not at its start)."""
    return name.rstrip(" \t\n\v\f\r")


def _is_pow2(n: int) -> bool:
    """``powerof2`` (sys/param.h), with 0 excluded as every caller here excludes it."""
    return n > 0 and n & (n - 1) == 0


class Sysctl:
    """The sysctl nodes of one ENA adapter (``dev.ena.<unit>``) and the driver (``hw.ena``)."""

    def __init__(self, host: SysctlHost, unit: int = 0,
                 tunables: DriverTunables | None = None) -> None:
        self.host = host
        self.unit = unit
        self.tunables = tunables if tunables is not None else DriverTunables()
        self.log: list[tuple[str, str]] = []
        """``(level, message)`` for every message a handler logs (ERR, WARN or INFO)."""
        h = host
        t = self.tunables
        dev = f"dev.ena.{unit}."

        def ro_int(get: Callable[[], int]) -> _Node:
            return _Node(read=lambda: str(get()))

        self._nodes: dict[str, _Node] = {
            "hw.ena.log_level": _Node(lambda: str(t.log_level), INT, self._w_log_level),
            "hw.ena.driver_version": _Node(lambda: DRIVER_VERSION),
            "hw.ena.enable_9k_mbufs": ro_int(lambda: t.enable_9k_mbufs),
            "hw.ena.force_large_llq_header": ro_int(lambda: t.force_large_llq_header),
            dev + "wd_active": _Node(lambda: str(int(h.wd_active)), INT, self._w_wd_active),
            dev + "keep_alive_timeout": _Node(
                lambda: str(h.keep_alive_timeout), S64, self._w_keep_alive_timeout),
            dev + "missing_tx_timeout": _Node(
                lambda: str(h.missing_tx_timeout), S64, self._w_missing_tx_timeout),
            dev + "missing_tx_max_queues": _Node(
                lambda: str(h.missing_tx_max_queues), U32, self._w_missing_tx_max_queues),
            dev + "missing_tx_threshold": _Node(
                lambda: str(h.missing_tx_threshold), U32, self._w_missing_tx_threshold),
            dev + "io_queues_nb": _Node(
                self._running_read(lambda: h.num_io_queues), U32, self._w_io_queues_nb),
            dev + "rx_queue_size": _Node(
                self._running_read(lambda: h.requested_rx_ring_size), U32,
                self._w_rx_queue_size),
            dev + "buf_ring_size": _Node(
                self._running_read(lambda: h.buf_ring_size), U32, self._w_buf_ring_size),
            dev + "stats_sample_interval": _Node(
                self._running_read(lambda: h.stats_sample_interval), U16,
                self._w_stats_sample_interval),
            dev + "irq_affinity.base_cpu": _Node(
                self._running_read(lambda: h.irq_cpu_base, ENODEV), S32, self._w_base_cpu),
            dev + "irq_affinity.cpu_stride": _Node(
                self._running_read(lambda: h.irq_cpu_stride, ENODEV), S32,
                self._w_cpu_stride),
            dev + "rss.key": _Node(self._r_rss_key, write_str=self._w_rss_key),
            dev + "rss.indir_table": _Node(self._r_indir_table,
                                           write_str=self._w_indir_table),
            dev + "rss.indir_table_size": ro_int(lambda: ENA_RX_RSS_TABLE_SIZE),
        }

    # -- the sysctl(8) front end

    def names(self) -> list[str]:
        """Every leaf this interface knows."""
        return list(self._nodes)

    def writable(self, name: str) -> bool:
        """Whether ``name`` is a leaf that can be written at run time (trailing whitespace
        dropped, as :meth:`read` and :meth:`write` drop it)."""
        node = self._nodes.get(_trim(name))
        return node is not None and node.writable

    def read(self, name: str) -> str:
        """What ``sysctl -n name`` prints; :class:`SysctlError` with the errno if refused."""
        node = self._nodes.get(_trim(name))
        if node is None:
            raise SysctlError(ENOENT, f"unknown oid '{name}'")
        return node.read()

    def write(self, name: str, value: str) -> int:
        """``sysctl name=value``: 0, or the errno (see the module docstring for which)."""
        raw = argv_bytes(value)
        if raw is None:
            return EINVAL
        if len(name.encode("utf-8", "surrogatepass")) + 1 + len(raw) >= SYSCTL8_BUFSIZ:
            return EINVAL
        node = self._nodes.get(_trim(name))
        if node is None:
            return ENOENT
        text = sysctl8_value(raw)
        if node.write_int is not None:
            assert node.ctype is not None
            number = parse_number(text, node.ctype)
            if number is None:
                return EINVAL
            return node.write_int(number)
        if node.write_str is not None:
            return node.write_str(text)
        return EPERM

    # -- helpers

    def _say(self, level: str, message: str) -> None:
        """``ena_log``: kept only if ``level`` is within ``hw.ena.log_level``:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_plat.h#L106
        """
        if _LEVELS[level] <= self.tunables.log_level:
            self.log.append((level, message))

    def _printf(self, message: str) -> None:
        """``device_printf`` (the RSS handlers use it): always kept, as level ERR."""
        self.log.append(("ERR", message))

    def _running_read(self, get: Callable[[], int], err: int = EINVAL) -> Callable[[], str]:
        """A handler's read: refused with ``err`` unless DEVICE_RUNNING."""
        def read() -> str:
            if not self.host.device_running:
                raise SysctlError(err, "device not running")
            return str(get())
        return read

    # -- plain variables (no handler)

    def _w_log_level(self, n: int) -> int:
        self.tunables.log_level = n
        return 0

    def _w_wd_active(self, n: int) -> int:
        self.host.wd_active = n != 0
        return 0

    def _w_keep_alive_timeout(self, n: int) -> int:
        self.host.keep_alive_timeout = n
        return 0

    def _w_missing_tx_timeout(self, n: int) -> int:
        self.host.missing_tx_timeout = n
        return 0

    def _w_missing_tx_max_queues(self, n: int) -> int:
        self.host.missing_tx_max_queues = n
        return 0

    def _w_missing_tx_threshold(self, n: int) -> int:
        self.host.missing_tx_threshold = n
        return 0

    # -- handlers

    def _w_io_queues_nb(self, n: int) -> int:
        """``ena_sysctl_io_queues_nb``: DEVICE_RUNNING (``EINVAL``); 0 is ``EINVAL``; more
        than ``msix_vecs - 1`` (one vector is the admin queue's) is ``EINVAL``; the current
        count succeeds unchanged; else ``ena_update_io_queue_nb``'s errno:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L820
        """
        h = self.host
        if not h.device_running:
            return EINVAL
        if n == 0:
            self._say("ERR", "io_queues_nb: zero queues requested")
            return EINVAL
        if n > h.msix_vecs - ENA_ADMIN_MSIX_VEC:
            self._say("ERR", f"io_queues_nb: {n} exceeds {h.msix_vecs - ENA_ADMIN_MSIX_VEC}")
            return EINVAL
        if n == h.num_io_queues:
            self._say("ERR", f"io_queues_nb: already {n}")
            return 0
        self._say("INFO", f"io_queues_nb: {h.num_io_queues} -> {n}")
        return h.update_io_queue_nb(n)

    def _w_rx_queue_size(self, n: int) -> int:
        """``ena_sysctl_rx_queue_size``: DEVICE_RUNNING (``EINVAL``); outside
        ``[256, max_rx_ring_size]`` or not a power of two: ``EINVAL``; the current size
        succeeds unchanged; else ``ena_update_queue_size`` with the TX size unchanged:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L759
        """
        h = self.host
        if not h.device_running:
            return EINVAL
        if not ENA_MIN_RING_SIZE <= n <= h.max_rx_ring_size:
            self._say("ERR", f"rx_queue_size: {n} outside [{ENA_MIN_RING_SIZE}, "
                             f"{h.max_rx_ring_size}]")
            return EINVAL
        if not _is_pow2(n):
            self._say("ERR", f"rx_queue_size: {n} is not a power of two")
            return EINVAL
        if n == h.requested_rx_ring_size:
            self._say("ERR", f"rx_queue_size: already {n}")
            return 0
        self._say("INFO", f"rx_queue_size: {h.requested_rx_ring_size} -> {n}")
        return h.update_queue_size(h.requested_tx_ring_size, n)

    def _w_buf_ring_size(self, n: int) -> int:
        """``ena_sysctl_buf_ring_size``: DEVICE_RUNNING (``EINVAL``); 0 or not a power of two:
        ``EINVAL`` (no upper bound); the current size succeeds unchanged; else
        ``ena_update_buf_ring_size``:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L711
        """
        h = self.host
        if not h.device_running:
            return EINVAL
        if not _is_pow2(n):
            self._say("ERR", f"buf_ring_size: {n} is not a power of two")
            return EINVAL
        if n == h.buf_ring_size:
            self._say("ERR", f"buf_ring_size: already {n}")
            return 0
        self._say("INFO", f"buf_ring_size: {h.buf_ring_size} -> {n}")
        return h.update_buf_ring_size(n)

    def _w_stats_sample_interval(self, n: int) -> int:
        """``ena_sysctl_metrics_interval``: DEVICE_RUNNING (``EINVAL``); above 3600 seconds:
        ``EINVAL`` (the C refuses but returns 0: see "Differences from the C"); 0 turns the
        metrics off and zeroes the ENI metrics; no "same as current" test:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L887
        """
        h = self.host
        if not h.device_running:
            return EINVAL
        if n > ENA_METRICS_MAX_SAMPLE_INTERVAL:
            self._say("ERR", f"stats_sample_interval: {n} above "
                             f"{ENA_METRICS_MAX_SAMPLE_INTERVAL}")
            return EINVAL
        if n == 0:
            self._say("INFO", "stats_sample_interval: metrics off")
            h.clear_eni_metrics()
        else:
            self._say("INFO", f"stats_sample_interval: {n} s")
        h.stats_sample_interval = n
        return 0

    def _w_base_cpu(self, n: int) -> int:
        """``ena_sysctl_irq_base_cpu``: DEVICE_RUNNING (``ENODEV``); ``<= -1`` or
        ``> mp_ncpus``: ``EINVAL`` (``== mp_ncpus`` is accepted); the current value
        succeeds unchanged; else ``ena_update_base_cpu``:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L935
        """
        h = self.host
        if not h.device_running:
            return ENODEV
        if n <= ENA_BASE_CPU_UNSPECIFIED:
            self._say("ERR", f"irq_affinity.base_cpu: {n} is negative")
            return EINVAL
        if n > h.mp_ncpus:
            self._say("INFO", f"irq_affinity.base_cpu: {n} above {h.mp_ncpus} CPUs")
            return EINVAL
        if n == h.irq_cpu_base:
            self._say("INFO", f"irq_affinity.base_cpu: already {n}")
            return 0
        self._say("INFO", f"irq_affinity.base_cpu: {h.irq_cpu_base} -> {n}")
        return h.update_irq_affinity(n, h.irq_cpu_stride)

    def _w_cpu_stride(self, n: int) -> int:
        """``ena_sysctl_irq_cpu_stride``: DEVICE_RUNNING (``ENODEV``); negative: ``EINVAL``;
        above ``mp_ncpus`` only a warning; the current value succeeds unchanged; else
        ``ena_update_cpu_stride``:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L991
        """
        h = self.host
        if not h.device_running:
            return ENODEV
        if n < 0:
            self._say("ERR", f"irq_affinity.cpu_stride: {n} is negative")
            return EINVAL
        if n > h.mp_ncpus:
            self._say("WARN", f"irq_affinity.cpu_stride: {n} above {h.mp_ncpus} CPUs")
        if n == h.irq_cpu_stride:
            self._say("INFO", f"irq_affinity.cpu_stride: already {n}")
            return 0
        self._say("INFO", f"irq_affinity.cpu_stride: {h.irq_cpu_stride} -> {n}")
        return h.update_irq_affinity(h.irq_cpu_base, n)

    def _rss_key_check(self) -> int:
        """The part of ``ena_sysctl_rss_key`` before the string, run on reads and writes:
        DEVICE_RUNNING (``EINVAL``), RSS_ACTIVE (``ENOTSUP``), the GET of the hash function
        (its errno) and Toeplitz selected (``EINVAL``):
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L1050
        """
        h = self.host
        if not h.device_running:
            return EINVAL
        if not h.rss_active:
            return ENOTSUP
        try:
            func = h.rss_hash_function()
        except OSError as e:
            self._printf("rss.key: cannot get the hash function")
            return e.errno if e.errno else EIO
        if func != ENA_ADMIN_TOEPLITZ:
            self._printf(f"rss.key: hash function {func} is not Toeplitz")
            return EINVAL
        return 0

    def _r_rss_key(self) -> str:
        """80 lowercase hex digits, the key in the order the user types it: ena-com holds it
        byte-reversed for the device and ``ena_rss_get_hash_key`` reverses it back:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.c#L127
        """
        err = self._rss_key_check()
        if err:
            raise SysctlError(err, "rss.key")
        return self.host.rss_key()[::-1].hex()

    def _w_rss_key(self, text: bytes) -> int:
        """After :meth:`_rss_key_check`: 81 bytes or more (``sysctl_handle_string``) or not
        exactly 80 is ``EINVAL``, a bad pair is ``EINVAL``
        (:func:`~impl.ena.sysctl_parse.parse_key`); else the key is reversed and SET
        (``ena_rss_set_hash``), returning its errno:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.c#L115
        """
        err = self._rss_key_check()
        if err:
            return err
        if len(text) >= ENA_HASH_KEY_MSG_SIZE:
            return EINVAL
        key = parse_key(text)
        if key is None:
            self._printf("rss.key: not 80 hex digits")
            return EINVAL
        err = self.host.set_rss_key(key[::-1])
        if err:
            self._printf("rss.key: cannot set the key")
        return err

    def _indir_check(self) -> tuple[int, np.ndarray | None]:
        """``ena_sysctl_rss_indir_table`` up to the string: DEVICE_RUNNING (``EINVAL``),
        RSS_ACTIVE and a driver table (``ENOTSUP``):
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L1146
        """
        h = self.host
        if not h.device_running:
            return EINVAL, None
        if not h.rss_active:
            return ENOTSUP, None
        table = h.rss_indir_table()
        if table is None:
            return ENOTSUP, None
        return 0, table

    def _r_indir_table(self) -> str:
        err, table = self._indir_check()
        if err:
            raise SysctlError(err, "rss.indir_table")
        assert table is not None
        return format_indir(table)

    def _w_indir_table(self, text: bytes) -> int:
        """After :meth:`_indir_check`: 1024 bytes or more is ``EINVAL``
        (``sysctl_handle_string``, nothing else happens); then the records are applied to a
        copy of the table (:func:`~impl.ena.sysctl_parse.parse_indir`). On an error the
        driver re-reads the table from the device (``ena_rss_indir_get``) and returns the
        error; otherwise the whole table is SET (``ena_rss_indir_set``), even when the text
        was empty, and its errno returned:
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L1183
        """
        err, table = self._indir_check()
        if err:
            return err
        assert table is not None
        if len(text) >= INDIR_BUF_SIZE:
            return EINVAL
        work = np.array(table, copy=True)
        err = parse_indir(text, work, self.host.num_io_queues)
        if err:
            self._printf("rss.indir_table: bad record; table re-read from the device")
            self.host.reload_rss_indir_table()
            return err
        return self.host.set_rss_indir_table(work)
