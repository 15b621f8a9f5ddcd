"""IO-queue creation and destruction through the admin queue: the
:class:`~impl.ena_defs.admin.QueueAdmin` port of :class:`~impl.ena.driver.EnaDriver`
when the driver runs with its management plane (``ena_com_create_io_queue`` /
``ena_com_destroy_io_queue``, CQ created before its SQ).

A command the admin layer fails (timeout, stopped queue, device status) raises
:class:`~impl.ena.driver.QueueSetupError` carrying the ena_com code, so ``ena_up`` can tell
ENOMEM (retry with smaller rings) from the rest; a destroy returns a status for the
caller to ignore, as the C only logs it.
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1461
"""

from __future__ import annotations

from impl.ena.admin_cmds import (
    ComFeatures,
    create_io_cq,
    create_io_sq,
    destroy_io_cq,
    destroy_io_sq,
)
from impl.ena.admin_queue import AdminQueue
from impl.ena.driver import QueueSetupError
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateCqResp,
    CreateSqCmd,
    CreateSqResp,
    DestroyCqCmd,
    DestroyResp,
    DestroySqCmd,
)
from impl.ena_defs.constants import AdminStatus


class AdminQueuePort:
    """The queue-creation port over ``aq``."""

    def __init__(self, aq: AdminQueue, com: ComFeatures) -> None:
        self.aq = aq
        self.com = com

    def __repr__(self) -> str:
        return f"AdminQueuePort({self.aq!r})"

    def create_cq(self, cmd: CreateCqCmd) -> CreateCqResp:
        rc, resp = create_io_cq(self.aq, self.com, cmd)
        if rc or resp is None:
            raise QueueSetupError(f"CREATE_CQ failed (ena_com code {rc})", rc)
        return resp

    def create_sq(self, cmd: CreateSqCmd) -> CreateSqResp:
        rc, resp = create_io_sq(self.aq, self.com, cmd)
        if rc or resp is None:
            raise QueueSetupError(f"CREATE_SQ failed (ena_com code {rc})", rc)
        return resp

    def destroy_sq(self, cmd: DestroySqCmd) -> DestroyResp:
        ok = destroy_io_sq(self.aq, cmd) == 0
        return DestroyResp(AdminStatus.SUCCESS if ok else AdminStatus.UNKNOWN_ERROR)

    def destroy_cq(self, cmd: DestroyCqCmd) -> DestroyResp:
        ok = destroy_io_cq(self.aq, cmd) == 0
        return DestroyResp(AdminStatus.SUCCESS if ok else AdminStatus.UNKNOWN_ERROR)
