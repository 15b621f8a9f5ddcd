"""Reconfiguring a running adapter: the ``ena_update_*`` functions of ena.c that the
sysctl handlers call. Each stores the new value, takes the interface down, rebuilds what
the value changes and brings it up again if it was up.

On a failed ``ena_up`` they differ, and this follows each as shipped:

* buf_ring_size: the old value is restored, the rings rebuilt, and an OS_TRIGGER reset
  requested at once (no second ``ena_up``); the error is returned;
* queue sizes, IO queue count, IRQ base CPU and stride: the old value is restored and
  ``ena_up`` tried again; only if that fails too is an OS_TRIGGER reset requested. The
  value returned is the **second** ``ena_up``'s, so a change that failed but whose revert
  came up reports success: the sysctl returns 0 and the old value stays (the docs list
  this).

In both cases DEV_UP_BEFORE_RESET is set with the reset, so the restore brings the
interface up. The IO queue count also destroys the RSS indirection table
(``ena_com_rss_destroy``): the next ``ena_up`` rebuilds the default one.

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1187
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1242
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1315
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1354
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1394
"""

from __future__ import annotations

from collections.abc import Callable

from impl.ena.adapter import EnaAdapter
from impl.ena_defs.regs import ResetReason


def _os_trigger(a: EnaAdapter) -> None:
    a.flags.dev_up_before_reset = True
    a.reset.trigger(ResetReason.OS_TRIGGER)


def _setter(a: EnaAdapter, **values: int) -> Callable[[], None]:
    """A step that stores ``values`` in the adapter's fields of those names."""
    def apply() -> None:
        for name, v in values.items():
            setattr(a, name, v)
    return apply


def _cycle(a: EnaAdapter, apply: Callable[[], None], revert: Callable[[], None],
           retry: bool) -> int:
    """Store, down, rebuild, and up again if it was up; on a failed ``ena_up`` revert and
    either reset at once (``retry=False``) or try again and reset only if that fails."""
    was_up = a.flags.dev_up
    a.down()
    apply()
    if not was_up:
        return 0
    rc = a.up()
    if rc == 0:
        return 0
    revert()
    if not retry:
        _os_trigger(a)
        return rc
    rc = a.up()
    if rc:
        _os_trigger(a)
    return rc


def update_buf_ring_size(a: EnaAdapter, n: int) -> int:
    return _cycle(a, _setter(a, buf_ring_size=n), _setter(a, buf_ring_size=a.buf_ring_size),
                  retry=False)


def update_queue_size(a: EnaAdapter, tx: int, rx: int) -> int:
    """(``ena_init_io_rings_basic`` also sets the rings' sizes to the requested ones.)"""
    old_tx, old_rx = a.requested_tx_ring_size, a.requested_rx_ring_size
    return _cycle(a, _setter(a, requested_tx_ring_size=tx, requested_rx_ring_size=rx,
                             tx_ring_size=tx, rx_ring_size=rx),
                  _setter(a, requested_tx_ring_size=old_tx, requested_rx_ring_size=old_rx,
                          tx_ring_size=old_tx, rx_ring_size=old_rx), retry=True)


def update_io_queue_nb(a: EnaAdapter, n: int) -> int:
    def rings(v: int) -> Callable[[], None]:
        def apply() -> None:  # ena_update_io_rings
            if a.rss is not None:
                a.rss.table = None
            a.num_io_queues = v
            a.reinit_io_rings()
        return apply
    return _cycle(a, rings(n), rings(a.num_io_queues), retry=True)


def update_irq_affinity(a: EnaAdapter, base: int, stride: int) -> int:
    return _cycle(a, _setter(a, irq_cpu_base=base, irq_cpu_stride=stride),
                  _setter(a, irq_cpu_base=a.irq_cpu_base, irq_cpu_stride=a.irq_cpu_stride),
                  retry=True)
