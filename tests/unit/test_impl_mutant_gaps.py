"""Behaviour of impl/netmap that mutation testing (mutmut over impl/netmap and impl/switch)
found no test looking at: what the reprs show (they are what a Hypothesis trace and the
stateful tests' "nothing changed" checks print) and the wire log's reset."""

from __future__ import annotations

import numpy as np

from impl.netmap import NetmapAdapter


def adapter_after_one_frame() -> NetmapAdapter:
    """One TX ring of 4 slots: the user queues two 5-byte frames, txsync hands both to the
    NIC, the NIC completes one."""
    a = NetmapAdapter(1, 1, 4, buf_size=16)
    a.user_fill(0, np.arange(10, dtype=np.uint8).reshape(2, 5))
    a.user_advance("tx", 0, 2)
    a.txsync()
    a.device_complete(0, 1)
    return a


def test_the_reprs_show_the_kring_and_device_state() -> None:
    """Krings list every kernel field and the user's head/cur/tail per ring; the soft NIC
    its registers; the wire log how many frames and bytes it holds."""
    a = adapter_after_one_frame()
    assert repr(a.tx) == (
        "Krings(kind='tx', count=1, num_slots=4, base=0, hwcur=[2], hwtail=[3], rhead=[2], "
        "rcur=[2], rtail=[3], nkr_hwofs=[0], ring_head=[2], ring_cur=[2], ring_tail=[3])"
    )
    assert repr(a.txdev) == "SoftTxDevice(count=1, num_slots=4, head=[1], tail=[2], owned=[1])"
    assert repr(a.rxdev) == "SoftRxDevice(count=1, num_slots=4, head=[0], tail=[3], owned=[3])"
    assert repr(a.wire) == "WireLog(frames=1, bytes=5)"


def test_clearing_the_wire_log_forgets_every_frame() -> None:
    """After ``clear`` the log is empty, and frames sent afterwards are numbered from 0."""
    a = adapter_after_one_frame()
    a.wire.clear()
    assert len(a.wire) == 0 and a.wire.lengths().size == 0 and a.wire.data().size == 0
    assert repr(a.wire) == "WireLog(frames=0, bytes=0)"
    a.device_complete(0, 1)
    assert len(a.wire) == 1 and a.wire.frame(0) == bytes(range(5, 10))
