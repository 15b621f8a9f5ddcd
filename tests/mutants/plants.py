"""Realistic bugs planted one at a time in impl/netmap (issue 5, section 4): each survived
the whole suite before the slot, data and NIC checks of ringspec/stateful.py and the
large-ring unit test existed.  :mod:`tests.mutants.test_plants` applies each to a copy of
the tree and asserts that the tests named in ``caught_by`` now fail.

Each plant is a literal source substitution that must match exactly once, so a change to
the implementation that removes the planted line makes the harness fail loudly rather
than test nothing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plant:
    name: str
    story: str
    path: str
    old: str
    new: str
    caught_by: tuple[str, ...]


PLANTS = (
    Plant(
        "a-rx-report-drops-wrap",
        "RX reporting masks the slot indices of [hwtail, nic) to < N instead of reducing "
        "them mod N, so the wrapped part keeps stale lengths",
        "impl/netmap/driver.py",
        "        seg, _, idx = flat_ranges(hwtail, reported, n)\n"
        "        ring_of = per_slot(rings, seg)\n",
        "        seg, _, idx = flat_ranges(hwtail, reported)\n"
        "        keep = idx < n\n"
        "        ring_of, idx = pick(per_slot(rings, seg), keep), idx[keep]\n",
        (
            "tests/unit/test_impl_sync.py::test_rx_round_trip",
            "tests/stateful/test_netmap_rings.py::TestWellBehavedRings",
        ),
    ),
    Plant(
        "b-rx-refill-keeps-old-buffer",
        "the RX refill writes the slot's buffer into the descriptor only when the slot has "
        "NS_BUF_CHANGED, otherwise the descriptor keeps the device's old buffer",
        "impl/netmap/driver.py",
        "    dev.write_descriptors(ring_of, kr.k2n(ring_of, idx), buf, length if check_len else 0)"
        "\n",
        "    if not check_len:\n"
        "        changed = (kr.slot_flags[ring_of, idx] & NS_BUF_CHANGED) != 0\n"
        "        buf = np.where(changed, buf, dev.desc_buf[ring_of, kr.k2n(ring_of, idx)])\n"
        "    dev.write_descriptors(ring_of, kr.k2n(ring_of, idx), buf, length if check_len else 0)"
        "\n",
        (
            "tests/unit/test_impl_sync.py::test_rx_netmap_reset",
            "tests/stateful/test_netmap_rings.py::TestWellBehavedRings",
        ),
    ),
    Plant(
        "c-flags-mask-drops-high-byte",
        "the mask that clears NS_BUF_CHANGED on handover also clears the high byte of the "
        "slot flags (the VALE port)",
        "impl/netmap/driver.py",
        "_KEEP_FLAGS = np.uint16(0xFFFF ^ NS_BUF_CHANGED)\n",
        "_KEEP_FLAGS = np.uint16(0x00FF ^ NS_BUF_CHANGED)\n",
        (
            "tests/unit/test_impl_sync.py::test_tx_driver_stops_at_first_bad_slot",
            "tests/stateful/test_netmap_rings.py::TestWellBehavedRings",
        ),
    ),
    Plant(
        "d-16-bit-nic-registers",
        "the soft NIC keeps its head/tail registers in 16 bits, wrong past 65,535 slots",
        "impl/netmap/softdev.py",
        "        self.head = np.zeros(self.count, dtype=np.int64)  # TDH / RDH (device)\n"
        "        self.tail = np.zeros(self.count, dtype=np.int64)  # TDT / RDT (driver)\n",
        "        self.head = np.zeros(self.count, dtype=np.uint16)  # TDH / RDH (device)\n"
        "        self.tail = np.zeros(self.count, dtype=np.uint16)  # TDT / RDT (driver)\n",
        ("tests/unit/test_large_rings.py",),
    ),
    Plant(
        "switch-rxsync-skips-conversion",
        "RFC rxsync reports a packet that arrived in an mbuf without copying it into the "
        "slot's netmap buffer: the user's slot is still backed by the stack's mbuf",
        "impl/switch/rx.py",
        "        self.mbufs.free(self.desc_buf[r, i])\n"
        "        self.desc_buf[r, i] = self.slot_nbuf[r, i]\n"
        "        self.kind[r, i] = NETMAP_BUF\n",
        "",
        ("tests/stateful/test_switch_rx.py::TestSwitchRx",),
    ),
    Plant(
        "switch-rfc-exit-frees-nic-buffers",
        "leaving the RFC way returns every netmap buffer to the allocator at once, the ones "
        "the NIC still holds included",
        "impl/switch/rx.py",
        "        keep = in_nic & (self.kind[every] == NETMAP_BUF)\n",
        "        keep = np.zeros_like(in_nic)\n",
        ("tests/stateful/test_switch_rx.py::TestSwitchRx",),
    ),
    Plant(
        "switch-refill-posts-mbuf",
        "rxsync's refill in netmap mode puts a fresh mbuf where the user released a slot",
        "impl/switch/rx.py",
        "        self.desc_buf[rows, idx] = self.slot_nbuf[rows, idx]\n"
        "        self.kind[rows, idx] = NETMAP_BUF\n"
        "        self.frame[rows, idx] = -1\n"
        "        self.hwcur = (self.hwcur + r) % self.n\n",
        "        self._refill_mbufs(rows, idx)\n"
        "        self.hwcur = (self.hwcur + r) % self.n\n",
        ("tests/stateful/test_switch_rx.py::TestSwitchRx",),
    ),
    Plant(
        "switch-classic-flush-uncounted",
        "the classic switch throws away the packets the NIC had filled without counting "
        "them as dropped",
        "impl/switch/rx.py",
        "        self._drop(\"flushed\", rows, self.frame[rows, idx])\n",
        "",
        ("tests/stateful/test_switch_rx.py::TestSwitchRx",),
    ),
    Plant(
        "switch-tx-leaving-keeps-netmap-buffers",
        "while leaving, the stack driver's TX cleanup forgets to give the netmap buffers "
        "of completed user packets back to the allocator",
        "impl/switch/tx.py",
        "        self.pool.free(self.desc_buf[rows[back], idx[back]])\n",
        "",
        ("tests/stateful/test_switch_tx.py::TestSwitchTx",),
    ),
    Plant(
        "switch-tx-rfc-close-frees-in-flight",
        "the RFC close frees the netmap buffers of packets still in flight",
        "impl/switch/tx.py",
        "            kept[rows, idx] = self.kind[rows, idx] == NETMAP_BUF\n",
        "",
        ("tests/stateful/test_switch_tx.py::TestSwitchTx",),
    ),
    Plant(
        "control-unregister-last-only",
        "close calls the driver's nm_register(na, 0) only for the last handle (netmap "
        "before per-ring modes): a ring whose last user closes stays in netmap mode while "
        "other handles are open",
        "impl/netmap/control.py",
        "        if self.active_fds == 0 or self._switching(sel):\n"
        "            self._register(on=False)\n",
        "        if self.active_fds == 0:\n"
        "            self._register(on=False)\n",
        ("tests/stateful/test_port_control.py::TestPortControl",),
    ),
    Plant(
        "control-exclusive-ignores-users",
        "NR_EXCLUSIVE is granted on rings other handles already use",
        "impl/netmap/control.py",
        "        busy = any((self.exclusive[t][s].any() or (b.exclusive and "
        "self.users[t][s].any()))\n",
        "        busy = any((self.exclusive[t][s].any() or (b.exclusive and False))\n",
        ("tests/stateful/test_port_control.py::TestPortControl",),
    ),
)
