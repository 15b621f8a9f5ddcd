"""Management-plane fault knobs and counters of the simulated device.

Each knob is a rate in [0, 1]: the probability that one management event goes wrong in
the named way. The draws come from the device's management generator, seeded from
``DeviceConfig.seed`` but separate from the datapath's generator, so switching a
management knob on never shifts the datapath's random stream (and vice versa).

=====================  =================================================  ==================
knob                   device behaviour (per event)                       driver sees
=====================  =================================================  ==================
readless_timeout       a readless read request (MMIO_REG_READ write) is   0xFFFFFFFF after
                       never answered                                     ``reg_read_to`` us
readless_bad_offset    the response carries the right req_id but another  0xFFFFFFFF at once
                       register offset                                    (offset mismatch)
reset_unresponsive     after DEV_CTL is cleared the device never leaves    ETIMEDOUT from
                       reset (DEV_STS.RESET_IN_PROGRESS stays 1)           ena_com_dev_reset
admin_comp_lost        an admin command is executed but its completion    ETIMEDOUT, admin
                       entry is never written                             not running
admin_comp_late        an admin command's completion entry is written     ETIMEDOUT, admin
                       50 ms past the advertised command timeout          not running; the
                                                                          late entry ignored
admin_intr_lost        the completion entry is written but the admin      missing admin
                       MSI-X vector is not raised                         interrupt (polls)
create_cq_refused      a CREATE_CQ is answered UNKNOWN_ERROR              EINVAL: ena_up
                                                                          fails (a restore
                                                                          aborts the admin
                                                                          queue, gives up)
feature_unsupported    a GET/SET_FEATURE of an advertised feature is      EOPNOTSUPP
                       answered UNSUPPORTED_OPCODE                        (ENA_COM_UNSUPPORTED)
keep_alive_missing     one second's KEEP_ALIVE event is not sent           KEEP_ALIVE_TO once
                                                                          6 s pass without one
link_flap              the link goes down for one second (two              LINK_CHANGE events,
                       LINK_CHANGE events)                                no reset
device_reset_request   the device asks for a reset                        DEVICE_REQUEST
                       (DEVICE_REQUEST_RESET event)
=====================  =================================================  ==================

The last three are drawn once per simulated second by :mod:`impl.device.events`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np


@dataclass(frozen=True)
class MgmtFaults:
    """Rates of the management faults (all 0: a well-behaved device)."""

    readless_timeout: float = 0.0
    readless_bad_offset: float = 0.0
    reset_unresponsive: float = 0.0
    admin_comp_lost: float = 0.0
    admin_intr_lost: float = 0.0
    feature_unsupported: float = 0.0
    keep_alive_missing: float = 0.0
    link_flap: float = 0.0
    device_reset_request: float = 0.0
    admin_comp_late: float = 0.0
    create_cq_refused: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"fault rate {f.name}={v} outside [0, 1]")

    @staticmethod
    def names() -> list[str]:
        return [f.name for f in fields(MgmtFaults)]


def hit(rng: np.random.Generator, rate: float) -> bool:
    """One Bernoulli draw (no draw when the rate is 0, so an unused knob does not move the
    generator)."""
    return rate > 0.0 and bool(rng.random() < rate)


@dataclass
class MgmtStats:
    """What the management plane did; every fault that fired lands in one counter."""

    readless_reads: int = 0
    readless_timeout: int = 0
    readless_bad_offset: int = 0
    readless_dma_error: int = 0
    resets: int = 0
    reset_unresponsive: int = 0
    admin_cmds: int = 0
    admin_comp_lost: int = 0
    admin_intr_lost: int = 0
    admin_dma_error: int = 0
    feature_unsupported: int = 0
    admin_interrupts: int = 0
    keep_alives: int = 0
    keep_alive_missing: int = 0
    link_flap: int = 0
    device_reset_request: int = 0
    admin_comp_late: int = 0
    create_cq_refused: int = 0

    def add(self, name: str, n: int = 1) -> None:
        setattr(self, name, getattr(self, name) + int(n))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
