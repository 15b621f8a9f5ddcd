"""The control-path page: what a ``/dev/netmap`` handle binds, what its calls return, how
long rings, buffers and memory live, and the stale frames a ring created again can show.
Every table is computed by running :class:`impl.netmap.port.NetmapPorts` (bindings by
:meth:`impl.netmap.control.PortControl.binding`); the lifetime rule is
:func:`model.netmap_regif.ring_exists`."""

from __future__ import annotations

import errno

import numpy as np

from impl.ena.nm_dev import EnaPorts
from impl.netmap import control as c
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from impl.netmap.port import NetmapPorts
from model import sources
from model.netmap_admode import RingConfig
from model.netmap_sync import AS_SHIPPED, HARDENED
from ringspec.docgen import common, md
from ringspec.ena_netmap_run import put_frames, take_packets
from ringspec.modes_ena import looped_back_adapter

PAGE = "control.md"
TITLE = "The control path: handles, NIOCREGIF, lifetimes"
FINDING = "A ring created again shows the last user's unread frames"
N, BUF = 8, 256
CFG = RingConfig(2, N, 2, N)

MODES = [("NR_REG_ALL_NIC", c.NR_REG_ALL_NIC, 0, 0), ("NR_REG_ONE_NIC", c.NR_REG_ONE_NIC, 1, 0),
         ("NR_REG_SW", c.NR_REG_SW, 0, 0), ("NR_REG_NIC_SW", c.NR_REG_NIC_SW, 0, 0),
         ("NR_REG_ONE_SW", c.NR_REG_ONE_SW, 0, 0),
         ("NR_REG_ONE_NIC | NR_TX_RINGS_ONLY", c.NR_REG_ONE_NIC, 0, c.NR_TX_RINGS_ONLY),
         ("NR_REG_ONE_NIC, ring 5", c.NR_REG_ONE_NIC, 5, 0)]

REGISTER_C = """\
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <net/netmap.h>
#include <net/netmap_user.h>

/* Bind RX/TX ring pair `ring` of `ifname`; returns the fd, or -1 with errno set. */
int bind_one_ring(const char *ifname, int ring, struct netmap_if **nifp)
{
    struct nmreq_header hdr;
    struct nmreq_register reg;
    struct netmap_ring *rx;
    void *mem;
    int fd = open("/dev/netmap", O_RDWR);

    if (fd < 0)
        return -1;
    memset(&hdr, 0, sizeof(hdr));
    memset(&reg, 0, sizeof(reg));
    hdr.nr_version = NETMAP_API;
    hdr.nr_reqtype = NETMAP_REQ_REGISTER;
    strncpy(hdr.nr_name, ifname, sizeof(hdr.nr_name) - 1);
    hdr.nr_body = (uintptr_t)&reg;
    reg.nr_mode = NR_REG_ONE_NIC;
    reg.nr_ringid = ring;
    reg.nr_flags = NR_NO_TX_POLL;           /* poll() will not push our TX ring */
    if (ioctl(fd, NIOCCTRL, &hdr) < 0)      /* EINVAL, ENXIO, EBUSY, ENOMEM... */
        goto fail;
    mem = mmap(NULL, reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        goto fail;
    *nifp = NETMAP_IF(mem, reg.nr_offset);

    /* A ring netmap created again may show the previous user's unread frames
     * (see below): if no other fd binds this ring, drop whatever its RX ring
     * holds before the first sync. */
    rx = NETMAP_RXRING(*nifp, ring);
    rx->head = rx->cur = rx->tail;
    return fd;
fail:
    close(fd);
    return -1;
}
"""


def _ports(policy: str = HARDENED) -> NetmapPorts:
    s = NetmapPorts(policy=policy, buf_size=BUF)
    s.attach("em0", True, CFG)
    return s


def _rings(first: int, last: int, hw: int) -> str:
    if first == last:
        return "none"
    names = [f"{i}" if i < hw else f"host {i - hw}" for i in range(first, last)]
    return ", ".join(names)


def bindings() -> str:
    port = c.PortControl(CFG.tx_rings, CFG.rx_rings, host_rings=1, ring_size=N)
    rows = []
    for label, mode, ringid, flags in MODES:
        b = port.binding(mode, ringid, flags)
        if isinstance(b, int):
            rows.append([f"`{label}`", ringid, f"**{errno.errorcode[b]}**", ""])
            continue
        rows.append([f"`{label}`", ringid, _rings(b.first[c.TX], b.last[c.TX], CFG.tx_rings),
                     _rings(b.first[c.RX], b.last[c.RX], CFG.rx_rings)])
    return md.table(["nr_mode (nr_flags)", "nr_ringid", "TX rings", "RX rings"], rows)


def _pollerr(revents: int) -> str:
    return "POLLERR" if revents & POLLERR else "no POLLERR"


def calls() -> str:
    """What each handle call returns, run on a fresh system per row."""
    rows = []
    s = _ports()
    h = s.open()
    rows.append(("NIOCTXSYNC before NIOCREGIF", errno.errorcode[s.txsync(h)]))
    rows.append(("poll() before NIOCREGIF", _pollerr(s.poll(h, POLLIN).revents)))
    s.register(h, "em0", c.NR_REG_ALL_NIC)
    nic = s.rings_of("em0").nic
    nic.set_user_indices("tx", 0, cur=N + 3)
    rows.append(("NIOCTXSYNC with `cur` past the ring (the prologue refuses, reinit)",
                 s.txsync(h) or "0"))
    nic.stop_rings("tx", 1)
    rows.append(("NIOCTXSYNC with TX ring 1 stopped (ring 0 is synced)",
                 errno.errorcode[s.txsync(h)]))
    rows.append(("poll(POLLOUT) with TX ring 1 stopped and nothing to push on it: ring 0 "
                 "has room, so netmap_poll skips ring 1 before nm_kr_tryget",
                 _pollerr(s.poll(h, POLLOUT).revents)))
    nic.start_rings("tx", 1)
    nic.user_fill(0, np.zeros((1, 60), np.uint8))
    nic.user_advance("tx", 0, 1)
    nic.stop_rings("tx", 0)
    rows.append(("poll(POLLOUT) with TX ring 0 stopped and a slot to push on it",
                 _pollerr(s.poll(h, POLLOUT).revents)))
    nic.start_rings("tx", 0)
    s2 = _ports()
    keep, a = s2.open(), s2.open()
    s2.register(keep, "em0", c.NR_REG_ONE_NIC, 1)
    s2.register(a, "em0", c.NR_REG_ONE_NIC, 0)
    r = s2.rings_of("em0")
    r.nic.slots("tx", 0)["buf_idx"][:] = 0
    r.nic.slots("rx", 0)["buf_idx"][:] = 0
    s2.close(a)
    sw = s2.open()
    s2.register(sw, "em0", c.NR_REG_SW)
    a = s2.open()
    rows.append(("NIOCREGIF when the free buffers cannot fill the new rings (users zeroed "
                 "16 slots' `buf_idx`, so 16 buffers are out of reach)",
                 errno.errorcode[s2.register(a, "em0", c.NR_REG_ONE_NIC, 0)]))
    return md.table(["call", "returns"], [[a_, f"`{b_}`"] for a_, b_ in rows])


def lifetimes() -> str:
    """A timeline of handles coming and going: which rings exist, free buffers, memory."""
    s = _ports()
    rows = []

    def row(what: str) -> None:
        r = s.rings_of("em0")
        if r is None:
            rows.append([what, "no memory", "", ""])
            return
        live = [", ".join(_rings(i, i + 1, CFG.tx_rings) for i in np.flatnonzero(r.live[t]))
                for t in (c.TX, c.RX)]
        rows.append([what, live[0] or "none", live[1] or "none", r.nic.mem.pool.nfree])

    a = s.open()
    s.register(a, "em0", c.NR_REG_ONE_NIC, 0)
    row("fd A: NR_REG_ONE_NIC ring 0 (krings and memory created)")
    b = s.open()
    s.register(b, "em0", c.NR_REG_NIC_SW)
    row("fd B: NR_REG_NIC_SW")
    s.close(b)
    row("close B: rings 1 and host lose their last user")
    s.close(a)
    row("close A: the last handle; krings and memory go")
    return md.table(["step", "TX rings that exist", "RX rings that exist", "free buffers"],
                    rows)


def _ena_timeline(strategy: str, rx_exit: str = "wait") -> list[list[object]]:
    """Two handles on an ENA interface with two queue pairs, each binding one pair; the
    pairs in netmap mode, the interface downs and the netmap memory after each step."""
    _, dev, ad = looped_back_adapter(2, 256)
    s = EnaPorts()
    an = s.attach_ena("ena0", ad, strategy=strategy, rx_exit=rx_exit)
    downs0 = ad.stats.interface_down
    name = strategy if strategy == "classic" else f"{strategy}, RX exit {rx_exit}"
    rows: list[list[object]] = []

    def row(what: str, rc: int) -> None:
        pairs = ", ".join(str(q) for q in np.flatnonzero(an.on)) or "none"
        mem = ("kept: the device holds netmap buffers" if an.leaving else
               f"{an.rings.size} B" if an.rings is not None else "freed")
        rows.append([name, what, errno.errorcode.get(rc, rc), pairs,
                     ad.stats.interface_down - downs0, mem])

    a, b = s.open(), s.open()
    row("fd A: NR_REG_ONE_NIC 0", s.register(a, "ena0", c.NR_REG_ONE_NIC, 0))
    port = an.port
    assert port is not None
    put_frames(port, [[bytes(64)]] * 8, q=0)
    s.txsync(a)
    dev.step()
    ad.handle_interrupts()
    s.rxsync(a)
    take_packets(port, 0)
    row("fd A sends 8 frames, reads them, syncs", s.rxsync(a))
    row("fd B: NR_REG_ONE_NIC 1", s.register(b, "ena0", c.NR_REG_ONE_NIC, 1))
    row("fd C: NR_REG_SW", s.register(s.open(), "ena0", c.NR_REG_SW))
    row("close A", s.close(a))
    row("close B", s.close(b))
    row("fd D: NR_REG_ALL_NIC", s.register(s.open(), "ena0", c.NR_REG_ALL_NIC))
    return rows


def ena() -> list[str]:
    return [
        "## ENA interfaces",
        "On an ENA interface (`impl/ena/nm_dev.py`) the handles, bindings, errno values "
        "and poll() are netmap's, as above. The driver decides when rings enter and "
        "leave netmap mode, by one of two strategies "
        "([entering and leaving netmap mode](modes.md)):",
        "\n".join([
            "- **classic** (ena_netmap_reg, "
            f"{sources.link('ena_netmap_reg')}): a queue pair enters when a handle "
            "first binds one of its rings and leaves with the last handle that binds it. "
            "Each switch takes the interface down and up again, which also resets the "
            "rings that other handles hold.",
            "- **rfc** (the 2015 RFC): the first NIOCREGIF puts every queue pair in "
            "netmap mode without taking the link down, and the last close takes them "
            "out. The memory goes only when the device has given back every netmap "
            "buffer. Until then, a new NIOCREGIF is EBUSY.",
            "- **A classic switch whose `ena_up` fails** (for example when host memory "
            "ran out and the IO rings were backed off below the netmap rings) makes "
            "ena_netmap_reg restore the interface in mbuf mode. It then returns what the "
            "restore returned, so as shipped NIOCREGIF returns 0 while no ring is in "
            "netmap mode: your syncs get EIO and poll() gets POLLERR. Hardened, NIOCREGIF "
            "returns `ena_up`'s error (ENOMEM) and the fd stays unregistered.",
            "- ringspec's ENA adapter has **no host rings**, so NR_REG_SW, "
            "NR_REG_NIC_SW and NR_REG_ONE_SW are EINVAL. It has **no generic "
            "adapter** either: `admode` generic on ENA is EOPNOTSUPP. netmap itself "
            "would bind the host krings, or emulate an adapter over the stack.",
        ]),
        "Two handles on an ENA interface with two queue pairs of 256 slots (each row "
        "run on `impl/ena/nm_dev.py`):",
        md.table(["strategy", "step", "returns", "pairs in netmap mode",
                  "interface downs so far", "netmap memory"],
                 _ena_timeline("classic") + _ena_timeline("rfc", "wait")
                 + _ena_timeline("rfc", "reset")),
        "With the RX exit *wait*, the RFC keeps the memory until traffic has filled "
        "every netmap buffer the device holds. [Entering and leaving netmap "
        "mode](modes.md) measures how long that takes under load.",
    ]


def _stale(policy: str) -> list[object]:
    s = _ports(policy)
    keep, a = s.open(), s.open()
    s.register(keep, "em0", c.NR_REG_ONE_NIC, 1)
    s.register(a, "em0", c.NR_REG_ONE_NIC, 0)
    s.deliver("em0", 0, 3)
    s.rxsync(a)
    s.close(a)
    b = s.open()
    s.register(b, "em0", c.NR_REG_ONE_NIC, 0)
    nic = s.rings_of("em0").nic
    head, _, tail = nic.user_indices("rx", 0)
    lengths, _ = nic.user_read(0)
    return [policy, head, tail, lengths.tolist() or "none", nic.device_buffers("rx", 0).size]


def finding() -> list[str]:
    return [
        f"## {FINDING}",
        "**Who can trigger it:** any process that binds a ring another process left "
        "with received frames it never released, while some third handle keeps the "
        "adapter in netmap mode (per-ring bindings: NR_REG_ONE_NIC, NR_REG_SW, ...). "
        "**What goes wrong:** the new handle's RX ring shows those slots as received "
        "frames. Its buffers are new, each slot's `len` is the whole buffer "
        "(netmap_new_bufs sets it), and the bytes are whatever those buffers last held. "
        "**How bad:** the reader gets garbage packets, as many as the last reader left "
        "unread. No buffer is lost, and nothing crosses a memory boundary: every "
        "netmap user maps the whole region anyway.",
        "**Why:** closing a handle deletes the rings nobody uses "
        f"({sources.link('netmap_mem2_rings_create')}), but the krings stay while any "
        "handle is registered, and nothing resets their indices. The next NIOCREGIF "
        "builds the ring from the kring's `rhead`/`rcur`/`rtail`. The driver's "
        "netmap_reset then keeps an RX ring's `hwtail`: it treats `[rhead, hwtail)` as "
        "frames the user still owns.",
        "**Worked example:** 8-slot rings. Handle A binds ring 0, and handle K binds "
        "ring 1 and keeps the adapter open. The NIC receives 3 frames on ring 0, and A's "
        "rxsync reports them. A closes without releasing them. Then B binds ring 0:",
        md.table(["policy", "B's head", "B's tail", "lengths B reads",
                  "descriptors the NIC owns"], [_stale(p) for p in (AS_SHIPPED, HARDENED)]),
        "**Hardened** (`impl/netmap/port.py`): when a kring's ring is created, the kring "
        "gets the indices netmap_krings_create gives it, so B starts with an empty RX "
        "ring, and every slot but one is posted to the NIC. **A user-side workaround** "
        "for today's netmap is in the C above. Right after NIOCREGIF, before the first "
        "sync, a ring your handle alone uses can only hold stale slots, so set "
        "`head = cur = tail`. Do not do this on a ring another handle shares: the "
        "frames there are its to read.",
    ]


def render() -> str:
    return md.page(TITLE, common.nav(PAGE), [
        "A process talks to netmap through a file descriptor on `/dev/netmap` (a "
        "*handle*). NIOCREGIF (today NIOCCTRL with NETMAP_REQ_REGISTER, "
        f"{sources.link('netmap_ioctl')}) binds the handle to some rings of one "
        "interface. From then on, NIOCTXSYNC / NIOCRXSYNC and poll() act on exactly "
        "those rings, and close() unbinds them. The rules:",
        "\n".join([
            "- **What you bind is `[first, last)` of each direction.** Host rings come "
            "after the hardware rings. `NR_TX_RINGS_ONLY` / `NR_RX_RINGS_ONLY` drop one "
            "direction. A ring id the adapter does not have is EINVAL. A second "
            "NIOCREGIF on the same fd is EBUSY.",
            "- **A sync on an unbound fd is ENXIO; poll() on one is POLLERR.** A sync "
            "skips a stopped ring and returns EIO after syncing the others. A prologue "
            "that refuses your indices is *not* an error (see "
            "[Error reporting](errors.md)).",
            "- **NR_NO_TX_POLL** stops poll() from pushing your pending TX slots when "
            "you only ask for POLLIN. Without it, every poll() runs txsync first.",
            "- **A ring and its buffers exist while some handle binds it.** The memory "
            "(every ring of the interface) exists while some handle is registered. "
            "When its last user goes, a ring is deleted and its buffers go back to the "
            "pool. A slot whose `buf_idx` you overwrote loses its buffer until the "
            "memory goes.",
        ]),
        "Which rings each request binds, on an interface with 2 TX and 2 RX rings and "
        "one host ring pair:",
        bindings(),
        md.code(REGISTER_C, "c"),
        "What the calls return (each row run on `impl/netmap/port.py`):",
        calls(),
        "## Lifetimes",
        "Rings, buffers and memory, as two handles come and go (8-slot rings; the "
        "memory has one buffer per slot of every ring plus one ring's worth):",
        lifetimes(),
        *ena(),
        *finding(),
        "## Evidence",
        "The lifetime rule is one line of the model, `ring_exists` in "
        "`model/netmap_regif.py` (users > 0). The krings' bookkeeping (users, "
        "pending, mode, the native flags, krings while open) is proved in "
        "[NIOCREGIF, close and per-ring modes](netmap_regif.md). Nothing here is "
        "proved beyond that. "
        "`tests/unit/test_netmap_ports.py` checks each rule above on the "
        "implementation, and the finding under both policies. "
        "`tests/stateful/test_netmap_ports_system.py` runs handles that register with "
        "every binding (with and without NR_NO_TX_POLL), poll, sleep, sync and close "
        "in any order, while frames arrive, transmissions complete and users scribble "
        "slots. After every step it checks that rings exist exactly as `ring_exists` "
        "says, that each buffer is in one place (or was lost to a scribble), and that "
        "a sleeping handle has nothing to wake up for. "
        "`tests/stateful/test_ena_netmap_ports.py` does the same on an ENA interface, "
        "under both strategies and both driver policies. Its handles bind every queue "
        "pair, one pair, or one direction of a pair. After every step it checks that "
        "the pairs in netmap mode are exactly the bound ones (classic), or all of them "
        "while any handle is registered (rfc). It also checks that the RFC never takes "
        "the interface down, that the memory goes with the registration, and that every "
        "netmap buffer is in one place. An interrupt must wake exactly the handles "
        "asleep on its queue pair. `tests/unit/test_ena_nm_dev.py` checks each refusal "
        "and its errno.",
    ])
