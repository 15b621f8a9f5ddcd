"""The IO-queue admin commands, as typed values (a stand-in until the admin queue exists).

Each command has exactly the fields of its admin struct in ``ena_admin_defs.h`` (minus the
common descriptor: opcode and command id), and each completion the fields the real ACQ
entry returns; the later admin queue encodes the same values as 64-byte entries.

* ``struct ena_admin_aq_create_sq_cmd`` / ``ena_admin_acq_create_sq_resp_desc``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L276
* ``struct ena_admin_aq_create_cq_cmd`` / ``ena_admin_acq_create_cq_resp_desc``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L370
* ``struct ena_admin_aq_destroy_sq_cmd`` (an ``ena_admin_sq``: sq_idx + direction) and
  ``ena_admin_aq_destroy_cq_cmd`` (cq_idx).

ena_com fills them in ``ena_com_create_io_cq`` / ``ena_com_create_io_sq``
(completion policy DESC, physically contiguous, interrupt mode on, CQ entry size in words
= 2 for the 8-byte TX cdesc and 4 for the 16-byte RX cdesc):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1301

A failed command returns a completion whose ``status`` is not ``SUCCESS`` and whose other
fields are zero; the device's state is then unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from impl.ena_defs.constants import AdminStatus, CompletionPolicy, PlacementPolicy, SqDirection


@dataclass(frozen=True)
class CreateCqCmd:
    """ENA_ADMIN_CREATE_CQ."""

    cq_depth: int
    """Entries; a power of two."""
    cq_ba: int
    """Ring base address in host memory (a DMA address)."""
    msix_vector: int
    cq_entry_size_words: int
    """``cq_caps_2`` 4:0: 2 (TX cdesc, 8 B) or 4 (RX cdesc base, 16 B)."""
    interrupt_mode_enabled: bool = True
    """``cq_caps_1`` bit 5."""


@dataclass(frozen=True)
class CreateCqResp:
    """``struct ena_admin_acq_create_cq_resp_desc``."""

    status: AdminStatus
    cq_idx: int = 0
    cq_actual_depth: int = 0
    numa_node_register_offset: int = 0
    cq_head_db_register_offset: int = 0
    """0: this device does not take CQ head reports (current FreeBSD never writes one)."""
    cq_interrupt_unmask_register_offset: int = 0


@dataclass(frozen=True)
class CreateSqCmd:
    """ENA_ADMIN_CREATE_SQ."""

    sq_direction: SqDirection
    """``sq_identity`` 7:5."""
    placement_policy: PlacementPolicy
    """``sq_caps_2`` 3:0: HOST, or DEV = LLQ (TX only)."""
    cq_idx: int
    """The completion queue, created before the SQ."""
    sq_depth: int
    """Entries; a power of two (LLQ: entries of the LLQ ring)."""
    sq_ba: int = 0
    """Descriptor ring base in host memory; unused (0) for LLQ."""
    completion_policy: CompletionPolicy = CompletionPolicy.DESC
    """``sq_caps_2`` 6:4."""
    is_physically_contiguous: bool = True
    """``sq_caps_3`` bit 0."""
    sq_head_writeback: int = 0


@dataclass(frozen=True)
class CreateSqResp:
    """``struct ena_admin_acq_create_sq_resp_desc``."""

    status: AdminStatus
    sq_idx: int = 0
    sq_doorbell_offset: int = 0
    """Offset of the SQ doorbell in the register BAR."""
    llq_descriptors_offset: int = 0
    """LLQ only: offset of the SQ's entry ring in the LLQ memory BAR."""
    llq_headers_offset: int = 0


@dataclass(frozen=True)
class DestroySqCmd:
    """ENA_ADMIN_DESTROY_SQ (``struct ena_admin_sq``)."""

    sq_idx: int
    sq_direction: SqDirection


@dataclass(frozen=True)
class DestroyCqCmd:
    """ENA_ADMIN_DESTROY_CQ."""

    cq_idx: int


@dataclass(frozen=True)
class DestroyResp:
    """``ena_admin_acq_destroy_{sq,cq}_resp_desc``: only the common descriptor's status."""

    status: AdminStatus


class QueueAdmin(Protocol):
    """What the device offers for IO-queue creation until the admin queue exists."""

    def create_cq(self, cmd: CreateCqCmd) -> CreateCqResp: ...

    def create_sq(self, cmd: CreateSqCmd) -> CreateSqResp: ...

    def destroy_sq(self, cmd: DestroySqCmd) -> DestroyResp: ...

    def destroy_cq(self, cmd: DestroyCqCmd) -> DestroyResp: ...
