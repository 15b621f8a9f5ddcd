"""The driver side of register access: ``ena_com_reg_bar_read32`` and the readless setup.

A readless read (the default; a PCI revision id with bit 0 set turns it off,
``ena_device_init``) takes one sequence number, poisons the response's ``req_id`` with
``seq + 0xDEAD``, writes ``(offset << 16) | seq`` to MMIO_REG_READ and busy-waits 1 us
per iteration, up to ``reg_read_to`` iterations, for the device's DMA response to carry
``req_id == seq``; the response must also name the requested offset. A timeout or a
mismatch returns ``ENA_MMIO_READ_TIMEOUT`` (0xFFFFFFFF):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L886

Setup and teardown: ``ena_com_mmio_reg_read_request_init`` / ``_write_dev_addr`` /
``_destroy``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2050
"""

from __future__ import annotations

from impl.bus import Bus
from impl.device.clock import SimClock
from impl.ena.poll import US, poll_until
from impl.ena_defs import regs
from impl.ena_defs.constants import MMIO_DISABLE_REG_READ, REG_READ_TIMEOUT
from impl.ena_defs.mgmt_layouts import READLESS_POISON, READLESS_RESP_DTYPE
from impl.ena_defs.regs import MMIO_READ_TIMEOUT, MmioRegRead


class MmioRead:
    """``struct ena_com_mmio_read`` plus the register accessors of one ``ena_com_dev``."""

    def __init__(self, bus: Bus, clock: SimClock, reg_read_to: int = 0) -> None:
        """``ena_com_mmio_reg_read_request_init``: allocate the response buffer, program
        its address, start at sequence 0 with readless reads on."""
        self.bus = bus
        self.clock = clock
        self.reg_read_to = reg_read_to
        """Poll iterations (1 us each); 0 means ``ENA_REG_READ_TIMEOUT``."""
        self.resp_addr = bus.mem.alloc(READLESS_RESP_DTYPE.itemsize, align=8)
        self.resp = bus.mem.array(self.resp_addr, READLESS_RESP_DTYPE, 1)
        self.write_dev_addr()
        self.resp["req_id"] = 0
        self.seq_num = 0
        self.readless_supported = True
        self.timeouts = 0
        self.mismatches = 0

    def __repr__(self) -> str:
        mode = "readless" if self.readless_supported else "direct"
        return (f"MmioRead({mode}, seq={self.seq_num}, resp={self.resp_addr:#x}, "
                f"timeouts={self.timeouts}, mismatches={self.mismatches})")

    def set_read_mode_from_pci(self) -> None:
        """``ena_com_set_mmio_read_mode(!(revid & ENA_MMIO_DISABLE_REG_READ))``."""
        self.readless_supported = not self.bus.pci.revision_id & MMIO_DISABLE_REG_READ

    def write_dev_addr(self) -> None:
        """``ena_com_mmio_reg_read_request_write_dev_addr``: program MMIO_RESP_LO/HI."""
        self.write32(regs.MMIO_RESP_LO_OFF, self.resp_addr & 0xFFFFFFFF)
        self.write32(regs.MMIO_RESP_HI_OFF, self.resp_addr >> 32)

    def destroy(self) -> None:
        """``ena_com_mmio_reg_read_request_destroy``: zero the address, free the buffer."""
        self.write32(regs.MMIO_RESP_LO_OFF, 0)
        self.write32(regs.MMIO_RESP_HI_OFF, 0)
        self.bus.mem.free(self.resp_addr)

    def write32(self, offset: int, value: int) -> None:
        """``ENA_REG_WRITE32``."""
        self.bus.regs.write32(offset, value)

    def read32(self, offset: int) -> int:
        """``ena_com_reg_bar_read32``: the register's value or ``0xFFFFFFFF``."""
        if not self.readless_supported:
            return self.bus.regs.read32(offset)
        self.seq_num = (self.seq_num + 1) & 0xFFFF
        seq16 = self.seq_num
        self.resp["req_id"] = (seq16 + READLESS_POISON) & 0xFFFF
        self.write32(regs.MMIO_REG_READ_OFF,
                     int(MmioRegRead.REG_OFF.put(offset) | MmioRegRead.REQ_ID.put(seq16)))
        timeout = self.reg_read_to or REG_READ_TIMEOUT
        if not poll_until(self.clock, lambda: int(self.resp["req_id"][0]) == seq16,
                          timeout, US):
            self.timeouts += 1
            return MMIO_READ_TIMEOUT
        if int(self.resp["reg_off"][0]) != offset:
            self.mismatches += 1
            return MMIO_READ_TIMEOUT
        return int(self.resp["reg_val"][0])
