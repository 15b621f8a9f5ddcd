"""The device side of the readless register read.

ena_com does not read registers over the bus: it writes ``(offset << 16) | req_id`` to
MMIO_REG_READ and the device DMA-writes ``struct ena_admin_ena_mmio_req_read_less_resp``
``{req_id u16, reg_off u16, reg_val u32}`` to the address the driver programmed into
MMIO_RESP_LO/HI (``ena_com_reg_bar_read32``):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L886

The response lands ``readless_latency_ns`` after the request (a callback on the clock);
the value is the register's value at that moment. A reset clears the response address
(ena_com re-programs it right after every reset write, ``ena_com_dev_reset``); while it is
0 requests are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impl.bus import Bus, BusError
from impl.device.clock import SimClock
from impl.device.mgmt_faults import MgmtFaults, MgmtStats, hit
from impl.ena_defs.mgmt_layouts import READLESS_RESP_DTYPE
from impl.ena_defs.regs import MmioRegRead


class Readless:
    """The MMIO_REG_READ engine: request in, delayed DMA response out."""

    def __init__(self, bus: Bus, clock: SimClock, latency_ns: int, faults: MgmtFaults,
                 rng: np.random.Generator, stats: MgmtStats,
                 read_reg: Callable[[int], int]) -> None:
        self.bus = bus
        self.clock = clock
        self.latency_ns = latency_ns
        self.faults = faults
        self.rng = rng
        self.stats = stats
        self.read_reg = read_reg
        self.resp_lo = 0
        self.resp_hi = 0

    @property
    def resp_addr(self) -> int:
        return (self.resp_hi << 32) | self.resp_lo

    def __repr__(self) -> str:
        return (f"Readless(resp_addr={self.resp_addr:#x}, latency={self.latency_ns} ns, "
                f"reads={self.stats.readless_reads})")

    def clear(self) -> None:
        """Reset: forget the response address."""
        self.resp_lo = self.resp_hi = 0

    def request(self, value: int) -> None:
        """A write to MMIO_REG_READ: schedule the response (or drop it, per the faults)."""
        req_id = int(MmioRegRead.REQ_ID.get(value))
        reg_off = int(MmioRegRead.REG_OFF.get(value))
        addr = self.resp_addr
        self.stats.add("readless_reads")
        if addr == 0 or hit(self.rng, self.faults.readless_timeout):
            self.stats.add("readless_timeout")
            return
        reported = reg_off
        if hit(self.rng, self.faults.readless_bad_offset):
            self.stats.add("readless_bad_offset")
            reported = (reg_off + 4) & 0xFFFF
        self.clock.call_after(self.latency_ns,
                              lambda: self._respond(addr, req_id, reg_off, reported))

    def _respond(self, addr: int, req_id: int, reg_off: int, reported: int) -> None:
        resp = np.zeros(1, READLESS_RESP_DTYPE)
        resp["req_id"] = req_id
        resp["reg_off"] = reported
        resp["reg_val"] = self.read_reg(reg_off) & 0xFFFFFFFF
        raw = resp.view(np.uint8)
        try:
            self.bus.mem.scatter(np.array([addr]), np.array([raw.size]), raw)
        except BusError:
            self.stats.add("readless_dma_error")
