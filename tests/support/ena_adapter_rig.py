"""A device and an EnaAdapter on one bus, looped back, with a recorder of the admin
commands the device executes: the set-up of the management-plane tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock, Wire
from impl.ena.adapter import AdapterConfig, EnaAdapter
from impl.ena_defs.constants import AdminOpcode
from impl.ena_defs.mgmt_layouts import AQ_COMMON_DTYPE, GET_FEAT_CMD_DTYPE
from impl.packets import PacketBatch

SECOND = 1_000_000_000


@dataclass
class AdapterRig:
    bus: Bus
    clock: SimClock
    dev: EnaDevice
    adapter: EnaAdapter
    baseline_blocks: int
    commands: list[tuple[str, int]] = field(default_factory=list)
    """``(opcode name, feature id or 0)`` of every admin command the device executed."""

    def blocks(self) -> int:
        return len(self.bus.mem._blocks)

    def frames(self, n: int, seed: int = 0) -> PacketBatch:
        rng = np.random.default_rng(seed)
        lengths = rng.integers(60, 1500, n)
        total = int(lengths.sum())
        base = self.bus.mem.alloc(total, 64)
        self.bus.mem.data[base:base + total] = rng.integers(0, 256, total, dtype=np.uint8)
        return PacketBatch.from_arrays(self.bus.mem.data, base + np.cumsum(lengths) - lengths,
                                       lengths)

    def traffic(self, batch: PacketBatch, steps: int, step_ns: int = SECOND // 10) -> None:
        """``steps`` rounds of: send ``batch``, the device completes and receives, IO
        interrupts handled, time passes."""
        for i in range(steps):
            a = self.adapter
            if a.driver is not None and a.flags.dev_up:
                a.driver.transmit(batch, curcpu=i)
            self.dev.step()
            a.handle_interrupts()
            a.advance(step_ns)


def adapter_rig(config: DeviceConfig | None = None, adapter: AdapterConfig | None = None,
                nvec: int = 3, attach: bool = True, up: bool = True,
                events: bool = True) -> AdapterRig:
    bus = Bus(mem_size=1 << 25, nvec=nvec)
    clock = SimClock()
    dev = EnaDevice(bus, config or DeviceConfig(max_tx_burst_bytes=2048), clock=clock)
    Wire(SimClock()).loopback(dev)
    rig = AdapterRig(bus, clock, dev, EnaAdapter(bus, clock, adapter or AdapterConfig(ncpus=2)),
                     0)
    rig.baseline_blocks = rig.blocks()
    execute = dev.admin.execute

    def recording(raw: np.ndarray):  # type: ignore[no-untyped-def]
        op = int(raw.view(AQ_COMMON_DTYPE)["opcode"][0])
        fid = 0
        if op in (AdminOpcode.GET_FEATURE, AdminOpcode.SET_FEATURE):
            fid = int(raw.view(GET_FEAT_CMD_DTYPE)["feat_common"]["feature_id"][0])
        rig.commands.append((AdminOpcode(op).name, fid))
        return execute(raw)
    dev.admin.execute = recording
    if attach:
        assert rig.adapter.attach() == 0
        if up:
            assert rig.adapter.up() == 0
        if events:
            dev.events.start()
    return rig


def cq_depth_limit(monkeypatch: object, limit: int = 256) -> None:
    """Host memory that runs out for completion queues deeper than ``limit``: CREATE_CQ
    raises ENOMEM above it, so ``ena_up`` backs its rings off (``monkeypatch``: pytest's
    fixture; the adapters created afterwards are affected)."""
    import errno

    from impl.ena import adapter as adapter_mod
    from impl.ena.admin_port import AdminQueuePort
    from impl.ena.driver import QueueSetupError

    class Port(AdminQueuePort):
        def create_cq(self, cmd):  # type: ignore[no-untyped-def]
            if cmd.cq_depth > limit:
                raise QueueSetupError("no memory", errno.ENOMEM)
            return super().create_cq(cmd)
    monkeypatch.setattr(adapter_mod, "AdminQueuePort", Port)  # type: ignore[attr-defined]
