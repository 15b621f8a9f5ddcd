"""The rules page: a TX and an RX loop in C against netmap_user.h, every step linked to the
model transition it performs and the invariant that makes it safe; both loops also run on
the model when the page is generated.

The C is ringspec's own (not copied from netmap).  It was compile-checked with
``gcc -fsyntax-only`` against sys/net/netmap.h and netmap_user.h at the pinned commit;
tests/unit/test_docgen_pages.py repeats that check when ``NETMAP_INCLUDE`` names a directory
holding ``net/netmap.h`` and ``net/netmap_user.h``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from model import sources
from model.core import Machine
from model.netmap_ring import RX, TX, NetmapRing, user_space
from ringspec.docgen import common, md, pictures, runs

C_OPEN = r"""#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <net/netmap_user.h>

struct port {
	int fd;
	struct netmap_if *nifp;
};

/* Bind a new descriptor to hardware ring pair `ringid` of interface `ifname`. */
static int
port_open(struct port *p, const char *ifname, uint16_t ringid)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	void *mem;

	p->fd = open("/dev/netmap", O_RDWR);
	if (p->fd < 0)
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	strncpy(hdr.nr_name, ifname, sizeof(hdr.nr_name) - 1);
	hdr.nr_body = (uintptr_t)&reg;
	reg.nr_mode = NR_REG_ONE_NIC;	/* one ring pair: our syncs touch only it */
	reg.nr_ringid = ringid;
	if (ioctl(p->fd, NIOCCTRL, &hdr) < 0)
		goto fail;
	mem = mmap(NULL, reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (mem == MAP_FAILED)
		goto fail;
	p->nifp = NETMAP_IF(mem, reg.nr_offset);
	return 0;
fail:
	close(p->fd);
	return -1;
}
"""

C_TX = r"""/* Send `n` copies of a frame on TX ring `ringid`, then wait until the NIC sent them. */
static int
send_frames(struct port *p, uint16_t ringid, const void *frame, uint16_t len, unsigned n)
{
	struct netmap_ring *ring = NETMAP_TXRING(p->nifp, ringid);
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };

	while (n > 0) {
		uint32_t space = nm_ring_space(ring);		/* [T1] */
		uint32_t i = ring->head;

		if (space == 0) {				/* [T2] */
			if (poll(&pfd, 1, -1) < 0 || (pfd.revents & POLLERR))
				return -1;
			continue;
		}
		for (; space > 0 && n > 0; space--, n--) {	/* [T3] */
			struct netmap_slot *slot = &ring->slot[i];

			memcpy(NETMAP_BUF(ring, slot->buf_idx), frame, len);
			slot->len = len;
			i = nm_ring_next(ring, i);
		}
		ring->head = ring->cur = i;			/* [T4] */
		if (ioctl(p->fd, NIOCTXSYNC, NULL) < 0)	/* [T5] */
			return -1;
	}
	while (nm_tx_pending(ring)) {			/* [T6] */
		ring->cur = ring->tail;
		if (poll(&pfd, 1, 100) < 0 || (pfd.revents & POLLERR))
			return -1;
	}
	return 0;
}
"""

C_RX = r"""/* Hand the next `n` frames of RX ring `ringid` to `consume`. */
static int
receive_frames(struct port *p, uint16_t ringid,
	void (*consume)(const char *buf, uint16_t len), unsigned n)
{
	struct netmap_ring *ring = NETMAP_RXRING(p->nifp, ringid);
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	while (n > 0) {
		uint32_t i;

		if (poll(&pfd, 1, -1) < 0 || (pfd.revents & POLLERR))	/* [R1] */
			return -1;
		for (i = ring->head; i != ring->tail && n > 0; n--) {	/* [R2] */
			struct netmap_slot *slot = &ring->slot[i];

			consume(NETMAP_BUF(ring, slot->buf_idx), slot->len);
			i = nm_ring_next(ring, i);
		}
		ring->head = ring->cur = i;				/* [R3] */
	}
	return ioctl(p->fd, NIOCRXSYNC, NULL);				/* [R4] */
}
"""


class CStep(NamedTuple):
    """One marked line of the C: what it does, the model transitions it performs (on which
    machine) and the invariants that make it safe (IDs of the model's registry)."""

    marker: str
    does: str
    transitions: tuple[str, ...]
    invariants: tuple[str, ...]


TX_STEPS = (
    CStep("T1", "nm_ring_space: the slots in [head, tail), the only ones the user may fill",
          (), ("NM-TX-USER-VIEW", "NM-TX-PARTITION")),
    CStep("T2", "ring full (head == tail): poll(POLLOUT) runs a txsync that reclaims "
          "completed slots and moves tail; it sleeps while cur == tail",
          ("txsync_as_shipped",), ("NM-TX-ONE-SLOT-EMPTY",)),
    CStep("T3", "fill the free slots in order from head, never past tail",
          (), ("NM-TX-USER-VIEW", "NM-TX-PARTITION")),
    CStep("T4", "publish: head and cur move past the filled slots", ("user_advance",),
          ("NM-TX-USER-VIEW",)),
    CStep("T5", "NIOCTXSYNC: the prologue checks head and cur, the driver hands [hwcur, "
          "head) to the NIC and reclaims what it completed, finalize moves tail",
          ("txsync_as_shipped",), ("NM-TX-ORDER", "NM-TX-RANGE")),
    CStep("T6", "drain: until every slot is back (tail = head - 1), wait with cur = tail so "
          "poll sleeps until tail moves; the NIC completes in the background",
          ("user_advance", "device_complete", "txsync_as_shipped"),
          ("NM-TX-ONE-SLOT-EMPTY",)),
)

RX_STEPS = (
    CStep("R1", "poll(POLLIN) runs an rxsync: released slots go back to the NIC, received "
          "ones are reported and tail moves; it sleeps while cur == tail",
          ("rxsync_as_shipped",), ("NM-RX-ORDER", "NM-RX-RANGE")),
    CStep("R2", "read the received slots [head, tail); the NIC fills only its own free "
          "buffers meanwhile", ("device_deliver",),
          ("NM-RX-USER-VIEW", "NM-RX-ONE-SLOT-EMPTY", "NM-RX-PARTITION")),
    CStep("R3", "release: head and cur move past the slots read (the buffers are no longer "
          "the user's)", ("user_advance",), ("NM-RX-USER-VIEW",)),
    CStep("R4", "NIOCRXSYNC: hand the last released slots back to the NIC now",
          ("rxsync_as_shipped",), ("NM-RX-PARTITION",)),
)

MARKER = re.compile(r"/\* \[([TR]\d+)\] \*/")


def markers(code: str) -> list[str]:
    """The step markers of a C listing, in order."""
    return MARKER.findall(code)


#: Steps that change no state variable of the model, and why.
NO_TRANSITION = {"T1": "none (reads only)",
                 "T3": "none (slot contents; the model tracks who owns a slot, not its bytes)"}


def _step_table(machine: Machine, steps: tuple[CStep, ...]) -> str:
    page = f"{machine.name}.md"
    rows = []
    for st in steps:
        trans = ", ".join(md.link(md.tick(machine.transitions[t].name), page, t)
                          for t in st.transitions) or NO_TRANSITION[st.marker]
        invs = "<br>".join(
            f"{md.link(md.tick(i), page, i)}: {machine.invariants[i].sentence}"
            for i in st.invariants)
        rows.append([f"**[{st.marker}]**", st.does, trans, invs])
    return md.table(["step", "what the C does", "model transition", "why it is safe "
                     "(invariant, as the model states it)"], rows)


# ---------------------------------------------------------------------------- on the model


def tx_loop_on_model(frames: int = 10, n: int = 8, nic_rate: int = 3
                     ) -> list[tuple[str, NetmapRing]]:
    """The TX loop of the page, run on the model: the user's steps as the C does them, the
    NIC completing ``nic_rate`` slots whenever the loop waits."""
    s = TX.init(n)
    rows: list[tuple[str, NetmapRing]] = [("a fresh ring", s)]

    def do(name: str, args: dict[str, int], caption: str) -> None:
        nonlocal s
        s = runs.run(TX, s, [(name, args)])[-1][1]
        rows.append((caption, s))

    def wait(marker: str) -> None:
        k = min(nic_rate, s.busy)
        do("device_complete", {"k": k}, f"the NIC completes {k}")
        do("txsync_as_shipped", {"sent": n}, f"[{marker}] poll: txsync")

    left = frames
    while left > 0:
        space = user_space(s)
        if space == 0:
            wait("T2")
            continue
        dh = min(space, left)
        do("user_advance", {"dh": dh, "dc": 0}, f"[T3, T4] fill {dh}, head = cur += {dh}")
        do("txsync_as_shipped", {"sent": n}, "[T5] NIOCTXSYNC")
        left -= dh
    while (s.tail + 1) % n != s.head:  # nm_tx_pending
        do("user_advance", {"dh": 0, "dc": user_space(s)}, "[T6] cur = tail")
        wait("T6")
    return rows


def rx_loop_on_model(frames: int = 9, n: int = 8, arrivals: tuple[int, ...] = (5, 4)
                     ) -> list[tuple[str, NetmapRing]]:
    """The RX loop of the page, run on the model: ``arrivals[i]`` packets arrive while the
    i-th poll sleeps."""
    s = RX.init(n)
    rows: list[tuple[str, NetmapRing]] = [("a fresh ring", s)]

    def do(name: str, args: dict[str, int], caption: str) -> None:
        nonlocal s
        s = runs.run(RX, s, [(name, args)])[-1][1]
        rows.append((caption, s))

    left = frames
    for k in arrivals:
        if left == 0:
            break
        do("rxsync_as_shipped", {"refill": n}, "[R1] poll: rxsync (refill)")
        if user_space(s) == 0:  # nothing to read: poll sleeps until packets arrive
            do("device_deliver", {"k": k}, f"the NIC receives {k}")
            do("rxsync_as_shipped", {"refill": n}, "[R1] poll wakes: rxsync")
        got = min(user_space(s), left)
        do("user_advance", {"dh": got, "dc": 0}, f"[R2, R3] read {got}, head = cur += {got}")
        left -= got
    do("rxsync_as_shipped", {"refill": n}, "[R4] NIOCRXSYNC")
    return rows


def _trace(rows: list[tuple[str, NetmapRing]], machine: Machine) -> str:
    cols = ["head", "cur", "tail", "hwcur", "hwtail", "nic"]
    body = [[c, *[getattr(s, f) for f in cols], user_space(s),
             ", ".join(machine.violated(s)) or "none"] for c, s in rows]
    return md.table(["step", *cols, "nm_ring_space", "violated"], body,
                    "l" + "r" * (len(cols) + 1) + "l")


RULES = (
    "**The user owns the slots [head, tail)** and their buffers; every other slot belongs "
    "to the kernel or the NIC. Read or fill only those.",
    "**head and cur only move forward, never past tail**, with head <= cur <= tail. head "
    "hands slots to the kernel; cur is only the wake-up point.",
    "**tail is the kernel's**: read it, never write it.",
    "**Nothing moves without a sync**: NIOCTXSYNC / NIOCRXSYNC or poll. Spinning on tail "
    "without one waits forever.",
    "**One slot is always empty**: a ring of N slots never gives the user more than N - 1.",
)


def render() -> str:
    tx_rows = tx_loop_on_model()
    rx_rows = rx_loop_on_model()
    marks = ("head", "cur", "tail", "hwcur", "hwtail", "nic")
    body = [
        "## The rules",
        "\n".join(f"{i}. {r}" for i, r in enumerate(RULES, 1)),
        f"(netmap's own statement: {sources.link('netmap_ring ownership', 'netmap.h')}, "
        f"{sources.link('netmap(4) RINGS', 'netmap(4)')}.) Each rule is a guard or an "
        "invariant of the model; the tables below say which.",
        "## Opening a port",
        "The raw way, without helper libraries: open /dev/netmap, register with "
        f"{sources.link('NIOCCTRL')} ({sources.link('struct nmreq_header')}, "
        f"{sources.link('struct nmreq_register')}), mmap the shared region, find the rings "
        f"with {sources.link('NETMAP_IF')} / {sources.link('NETMAP_TXRING')} / "
        f"{sources.link('NETMAP_RXRING')}.",
        md.code(C_OPEN, "c"),
        "## TX loop",
        md.code(C_TX, "c"),
        _step_table(TX, TX_STEPS),
        "### The TX loop on the model",
        "The same loop, step for step, on the model (a ring of 8 slots, 10 frames, the NIC "
        "completing 3 slots whenever the loop waits). Every row is a legal step and every "
        "invariant holds after it:",
        pictures.figure("rules-tx-loop", tx_rows, "tx", marks=marks).markdown,
        _trace(tx_rows, TX),
        "## RX loop",
        md.code(C_RX, "c"),
        _step_table(RX, RX_STEPS),
        "### The RX loop on the model",
        "A ring of 8 slots, 9 frames wanted, 5 then 4 packets arriving:",
        pictures.figure("rules-rx-loop", rx_rows, "rx", marks=marks).markdown,
        _trace(rx_rows, RX),
        "## Evidence",
        "The transitions linked above are the model's; `txsync_as_shipped` and "
        "`rxsync_as_shipped` are netmap.c's sync paths as they are "
        f"({sources.link('netmap_ioctl (NIOCTXSYNC)', 'NIOCTXSYNC')}, "
        f"{sources.link('netmap_ioctl (NIOCRXSYNC)', 'NIOCRXSYNC')}). poll runs the same "
        f"prologue, driver and finalize ({sources.link('netmap_poll (txsync)', 'TX')}, "
        f"{sources.link('netmap_poll (rxsync)', 'RX')}) but is not itself a transition of "
        "the model yet (its readiness test and lazy TX reclaim are described in the "
        "[user questions](user-questions.md)). The proofs show that every linked "
        "transition keeps every invariant for a well-behaved user, for any ring size "
        "([proofs](proofs.md)); the [findings](findings.md) show what the as-shipped "
        "syncs allow when the user breaks rule 2.",
        "The C was compile-checked with `gcc -fsyntax-only` against `sys/net/netmap.h` and "
        "`sys/net/netmap_user.h` at the pinned commit "
        f"({sources.link('nm_ring_space')}, {sources.link('nm_ring_next')}, "
        f"{sources.link('nm_tx_pending')}, {sources.link('NETMAP_BUF')}, "
        f"{sources.link('NIOCTXSYNC')}).",
    ]
    return md.page("The rules, with C", common.nav("rules.md"), body)
