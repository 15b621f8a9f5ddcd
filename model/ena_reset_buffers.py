"""The ENA driver's buffer ledger across a reset: where every buffer of one queue pair is
while traffic runs, while ena_destroy_device tears the queues down, and after
ena_restore_device (or ena_netmap_reg) brings them back -- or fails to.

Two kinds of buffer, each counted in every place it can be:

* mbufs: in the pool (UMA, or the stack that sent or received them), in the drbr
  (``queued``: the driver holds them, the device does not), mapped on the TX ring
  (``tx_info->mbuf != NULL``: with the device until completed), or posted on the RX ring
  (``rx_info->mbuf != NULL`` behind a descriptor);
* netmap buffers of the queue pair's krings: in a slot (``buf_idx != 0``: the user's or the
  kring's), or taken from their slot by the driver and given to the device -- a TX packet
  in flight (``nm_info.socket_buf_idx``) or a posted RX buffer (``rx_info->netmap_buf_idx``).

The invariants say every buffer is in exactly one place (the pool and the rings add up to
the total; the slots and the device's share add up to the ring), that buffers are on the
rings only while the interface is up or while ena_down, having stopped the device, has not
yet freed them (so after ena_destroy_device the device owns none and the driver holds
none), and the contracts that buffers leave the rings only from a stopped device and that
ena_up leaves the pool plus the posted buffers equal to the total; and that the RX slots
the user holds keep their buffers.

Upstream.  ena_reset_task runs ena_destroy_device(false) then ena_restore_device
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3784).
ena_destroy_device records DEV_UP in DEV_UP_BEFORE_RESET and calls ena_down if the
interface is up, then resets the device and frees the rings' structures
(ena_free_all_io_rings_resources, whose drbr_free also flushes the drbr)
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3594,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L494).
ena_down clears DEV_UP and IFF_DRV_RUNNING, resets the device if a reset is requested and
destroys the IO queues (ena_destroy_all_io_queues, which first drains the cleanup tasks),
and only then frees: ena_free_all_tx_bufs, ena_free_all_rx_bufs, then the TX and RX
resources (https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2612,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1570).
ena_free_tx_bufs frees every ``tx_info->mbuf`` and skips the entries without one
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1505);
ena_free_rx_bufs frees every RX mbuf and gives every posted netmap buffer back to a slot
through ena_netmap_free_rx_slot
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1443,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L172);
ena_free_tx_resources flushes the drbr and, for netmap, unloads each packet's maps and
sets ``socket_buf_idx`` to 0
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L761).
A netmap TX packet has no mbuf: ena_netmap_tx_map_slots moved each slot's ``buf_idx`` into
``socket_buf_idx`` and zeroed the slot, and only ena_netmap_tx_clean_one (a completion)
or ena_netmap_unmap_last_socket_chain (a frame that failed) puts it back
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L552,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L833).
So **as shipped the netmap TX buffers in flight at ena_down are lost**: ena_free_tx_bufs
passes over them and ena_free_tx_resources forgets their index; netmap_reset then gives
every TX slot to the user, those with ``buf_idx`` 0 included
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392).
Every ena_down in netmap mode loses them: a reset, a mode switch, a sysctl
reconfiguration.  ``down_free_as_shipped`` is that step; ``down_free_hardened`` returns
them to their slots as a completion would.

ena_restore_device brings the device back and calls ena_up only if DEV_UP_BEFORE_RESET is
set; on failure it tears down with the timer off and DEVICE_RUNNING clear, and
DEV_UP_BEFORE_RESET stays set
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3672).
ena_up creates the queues and calls ena_up_complete, whose last step that can fail comes
before ena_refill_all_rx_bufs (``ring_size - 1`` buffers per RX ring, fewer when an
allocation fails); so its error path (queues destroyed, resources freed, no buffer freed)
never has a buffer posted
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2254,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2128,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1470).
ena_netmap_reg: ena_down, the mode switched, ena_up; if ena_up fails the native flags go
off, ena_destroy_device(false), DEV_UP_BEFORE_RESET set and ena_restore_device
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L274).

In netmap mode ena_up's ena_setup_rx_resources calls netmap_reset, which sets
``nr_hwcur = rhead`` and keeps ``nr_hwtail``: the slots ``[rhead, nr_hwtail)`` stay the
user's (received, not yet read).  The fill then runs with ``rx_ring->initialized`` false,
so ena_netmap_alloc_rx_slot does not test ``rhead`` and posts ``ring_size - 1`` slots from
``rhead`` on (https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L107,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L873).
So **as shipped every ena_up in netmap mode (a reset's restore, a sysctl down/up) gives
the device the buffers of the slots the user still holds**: the user finds ``buf_idx`` 0
in slots it has not read, and with ``ring_size - 1`` of them held the one slot left with
a buffer is ``nr_hwtail``, where the next completion lands: ena_netmap_rx_load_desc
overwrites it and that buffer is lost too.  ``*_as_shipped`` (ena_up in ``if_up``,
``restore_device``, ``netmap_reg_end``) break ENA-BUF-NM-USER; ``*_hardened`` post only
the slots the user released.

Datapath: ena_mq_start puts an mbuf in the drbr only while IFF_DRV_RUNNING
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L139),
ena_xmit_mbuf maps it on a free id, ena_tx_cleanup frees it on completion, ena_refill_rx_bufs
posts a buffer behind a descriptor and ena_rx_cleanup hands it to the stack
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L975,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L245,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1112,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L563);
netmap: ena_netmap_tx_frame and ena_netmap_alloc_rx_slot take a slot's buffer, a TX
completion and ena_netmap_rx_load_desc put one back
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L390,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L107,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L1004).

Assumed: the device reset or the queue destruction of ena_down stops the device (a reset
that fails is only logged, and the buffers are freed anyway); an RX buffer allocated but
not posted (``ena_com_add_single_rx_desc`` refused it) cannot happen, the RX SQ having
room for every buffer the refill asks for; the ring sizes do not change (ena_up's
ENOMEM back-off is not followed).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Implies, Not, Or, Param, Step, Term, Var
from model.ena_bits import add16, ite, sub16, ule, ult
from model.ena_machine import EnaMachine, choose, replace

__all__ = [
    "BUFFERS",
    "DEFAULT_RING_SIZE",
    "SIZE_MAX",
    "TOTAL_MAX",
    "Buffers",
    "buffers_init",
    "free_rings",
    "on_rings",
    "run_reg_end",
    "run_restore",
    "run_up",
]

#: ENA_DEFAULT_RING_SIZE.
DEFAULT_RING_SIZE = 1024
#: The largest ring the model takes (q_depth is a u16; a power of two up to 2^15).
SIZE_MAX = 0x8000
#: The largest mbuf total the model takes: the pool and the three places on the rings,
#: each at most the total, then add up without wrapping a u16.
TOTAL_MAX = 0x3FFF
#: The mbuf total of the initial state.
INIT_TOTAL = 4096

# the reset task's stage
IDLE, DESTROYING, RESTORING = 0, 1, 2


@dataclass(frozen=True)
class Buffers:
    """One queue pair's buffers, the adapter's flags the frees depend on, and where the
    reset task and a mode switch are."""

    tx_size: Term
    rx_size: Term
    total: Term
    pool: Term
    queued: Term
    tx_mbuf: Term
    rx_mbuf: Term
    nm: Term
    nm_tx: Term
    nm_tx_slots: Term
    nm_rx: Term
    nm_rx_slots: Term
    nm_rx_user: Term
    running: Term
    up: Term
    freeing: Term
    task: Term
    up_before: Term
    reg: Term

    def replace(self, **changes: Term) -> Buffers:
        return replace(self, **changes)


BUFFERS_VARS = (
    Var("tx_size", "constant", "u16", "tx_ring->ring_size: TX ids, and the TX kring's "
        "nkr_num_slots."),
    Var("rx_size", "constant", "u16", "rx_ring->ring_size, and the RX kring's "
        "nkr_num_slots."),
    Var("total", "ghost", "u16", "Ghost: the mbufs the ledger follows (constant)."),
    Var("pool", "ghost", "u16", "Ghost: mbufs free (UMA) or with the stack."),
    Var("queued", "driver", "u16", "mbufs in the drbr (tx_ring->br)."),
    Var("tx_mbuf", "driver", "u16", "TX ids with tx_info->mbuf != NULL: mapped, with the "
        "device until completed."),
    Var("rx_mbuf", "driver", "u16", "RX ids with rx_info->mbuf != NULL: posted."),
    Var("nm", "driver", "bit", "The queue pair's krings are in native netmap mode "
        "(ena_ring_in_netmap)."),
    Var("nm_tx", "driver", "u16", "netmap TX buffers in flight: socket_buf_idx != 0."),
    Var("nm_tx_slots", "user", "u16", "TX kring slots holding a buffer (buf_idx != 0)."),
    Var("nm_rx", "driver", "u16", "netmap RX buffers posted: rx_info->netmap_buf_idx != 0."),
    Var("nm_rx_slots", "user", "u16", "RX kring slots holding a buffer (buf_idx != 0)."),
    Var("nm_rx_user", "user", "u16", "RX kring slots the user holds: received, not yet "
        "released ([rhead, nr_hwtail))."),
    Var("running", "driver", "bit", "ENA_FLAG_DEVICE_RUNNING."),
    Var("up", "driver", "bit", "ENA_FLAG_DEV_UP and IFF_DRV_RUNNING: the IO queues exist "
        "and the datapath runs."),
    Var("freeing", "driver", "bit", "ena_down has stopped the device (device reset or "
        "queues destroyed) and not yet freed the buffers."),
    Var("task", "driver", "u16", "The reset task: 0 idle, 1 in ena_destroy_device, 2 "
        "destroyed, ena_restore_device to run."),
    Var("up_before", "driver", "bit", "ENA_FLAG_DEV_UP_BEFORE_RESET."),
    Var("reg", "driver", "u16", "ena_netmap_reg under way: 0 none, 1 switching netmap "
        "off, 2 on."),
)


def buffers_init(k: Term = 0) -> Buffers:
    """ena_attach then ena_up: rings of ENA_DEFAULT_RING_SIZE (1024), mbuf mode, the RX
    ring filled with ``ring_size - 1`` mbufs from a pool of 4096, every netmap slot
    holding its buffer.  (The argument is the ring depth the other ENA machines take;
    this machine's ring sizes are state.)"""
    del k
    n = DEFAULT_RING_SIZE
    return Buffers(tx_size=n, rx_size=n, total=INIT_TOTAL, pool=INIT_TOTAL - (n - 1),
                   queued=0, tx_mbuf=0, rx_mbuf=n - 1, nm=0, nm_tx=0, nm_tx_slots=n, nm_rx=0,
                   nm_rx_slots=n, nm_rx_user=0, running=1, up=1, freeing=0, task=IDLE,
                   up_before=0, reg=0)


BUFFERS = EnaMachine(
    name="ena_reset_buffers",
    title="ENA buffers across destroy and restore",
    state_type=Buffers,
    vars=BUFFERS_VARS,
    init=buffers_init,
    doc=buffers_init.__doc__ or "",
    driver_fields=("queued", "tx_mbuf", "rx_mbuf", "nm", "nm_tx", "nm_tx_slots", "nm_rx",
                   "nm_rx_slots", "running", "up", "up_before"),
    min_log2=1,
    max_log2=1,
)


# ---------------------------------------------------------------------------- helpers


def _bit(x: Term) -> Term:
    return Eq(x, 1)


def on_rings(s: Buffers) -> tuple[Term, ...]:
    """The buffers off the pool and out of the slots: the drbr, the TX ring's mbufs, the
    RX ring's mbufs, netmap TX in flight, netmap RX posted."""
    return (s.queued, s.tx_mbuf, s.rx_mbuf, s.nm_tx, s.nm_rx)


def _idle(s: Buffers) -> Term:
    """No reset task, mode switch or ena_down under way (ENA_LOCK is free)."""
    return And(Eq(s.task, IDLE), Eq(s.reg, 0), Eq(s.freeing, 0))


def _stop(s: Buffers) -> Buffers:
    """ena_down up to its frees: DEV_UP and IFF_DRV_RUNNING cleared, the IO interrupts
    freed, the device reset (if a reset is requested) and the IO queues destroyed: the
    device is stopped, the buffers are still on the rings."""
    return s.replace(up=0, freeing=1)


def free_rings(s: Buffers, give_back_tx: bool) -> Buffers:
    """ena_down's frees: ena_free_all_tx_bufs (TX mbufs to the pool), ena_free_all_rx_bufs
    (RX mbufs to the pool, posted netmap buffers back to slots), the TX resources (drbr
    flushed; ``socket_buf_idx`` zeroed: with ``give_back_tx`` the netmap TX buffers in
    flight go back to their slots first, as shipped they are forgotten)."""
    pool = add16(add16(add16(s.pool, s.queued), s.tx_mbuf), s.rx_mbuf)
    tx_slots = add16(s.nm_tx_slots, s.nm_tx) if give_back_tx else s.nm_tx_slots
    return s.replace(pool=pool, queued=0, tx_mbuf=0, rx_mbuf=0, nm_tx=0,
                     nm_tx_slots=tx_slots, nm_rx=0, nm_rx_slots=add16(s.nm_rx_slots, s.nm_rx),
                     freeing=0)


def _fill_ok(s: Buffers, fill: Term, hardened: bool) -> Term:
    """``fill`` buffers can be posted: at most ``ring_size - 1``, and no more than the pool
    (mbuf mode) or the slots (netmap mode) hold.  In netmap mode the initial fill starts
    at ``nr_hwcur``, which netmap_reset set to ``rhead``, and as shipped does not test
    ``rhead`` (``rx_ring->initialized`` is false): it takes the buffers of the slots the
    user holds first.  Hardened it posts only the slots the user released, leaving the
    gap: at most ``ring_size - 1 - nm_rx_user``."""
    have = ite(_bit(s.nm), s.nm_rx_slots, s.pool)
    most = sub16(s.rx_size, 1)
    if hardened:
        most = ite(_bit(s.nm), sub16(most, s.nm_rx_user), most)
    return And(ule(fill, most), ule(fill, have))


def _fill(s: Buffers, fill: Term) -> Buffers:
    """ena_refill_all_rx_bufs posting ``fill`` buffers: mbufs from the pool, or in netmap
    mode (ena_netmap_alloc_rx_slot) the buffers of ``fill`` slots."""
    nm = _bit(s.nm)
    return s.replace(pool=ite(nm, s.pool, sub16(s.pool, fill)),
                     rx_mbuf=ite(nm, s.rx_mbuf, add16(s.rx_mbuf, fill)),
                     nm_rx=ite(nm, add16(s.nm_rx, fill), s.nm_rx),
                     nm_rx_slots=ite(nm, sub16(s.nm_rx_slots, fill), s.nm_rx_slots))


def run_up(s: Buffers, ok: Term, fill: Term) -> Buffers:
    """ena_up: the queues created and ena_up_complete done (``ok``), then the RX fill and
    DEV_UP; or the error path, which frees the queues and resources of an RX ring that
    has nothing posted yet."""
    return choose(_bit(ok), _fill(s, fill).replace(up=1), s)


_FILL = Param("fill", "u16", "buffers ena_refill_all_rx_bufs posts (ring_size - 1 unless "
              "an allocation fails)")
_UP_OK = Param("up_ok", "bit", "ena_up succeeds")


# ---------------------------------------------------------------------------- datapath


@BUFFERS.transition(actor="driver")
def mq_start(s: Buffers) -> Step:
    """ena_mq_start: an mbuf from the stack into the drbr (mbuf mode, IFF_DRV_RUNNING)."""
    return Step(And(_bit(s.up), Eq(s.nm, 0), ult(0, s.pool)),
                s.replace(pool=sub16(s.pool, 1), queued=add16(s.queued, 1)))


@BUFFERS.transition(actor="driver")
def start_xmit(s: Buffers) -> Step:
    """ena_start_xmit / ena_xmit_mbuf: the drbr's head mapped on a free TX id."""
    return Step(And(_bit(s.up), Eq(s.nm, 0), ult(0, s.queued), ult(s.tx_mbuf, s.tx_size)),
                s.replace(queued=sub16(s.queued, 1), tx_mbuf=add16(s.tx_mbuf, 1)))


@BUFFERS.transition(actor="device")
def tx_cleanup(s: Buffers) -> Step:
    """A TX completion and ena_tx_cleanup: the mbuf unmapped and freed."""
    return Step(And(_bit(s.up), ult(0, s.tx_mbuf)),
                s.replace(tx_mbuf=sub16(s.tx_mbuf, 1), pool=add16(s.pool, 1)))


@BUFFERS.transition(actor="driver")
def rx_refill(s: Buffers) -> Step:
    """ena_refill_rx_bufs, one buffer: an mbuf allocated, mapped and posted (at most
    ``ring_size - 1`` posted)."""
    return Step(And(_bit(s.up), Eq(s.nm, 0), ult(0, s.pool),
                    ult(add16(s.rx_mbuf, 1), s.rx_size)),
                s.replace(pool=sub16(s.pool, 1), rx_mbuf=add16(s.rx_mbuf, 1)))


@BUFFERS.transition(actor="device")
def rx_cleanup(s: Buffers) -> Step:
    """An RX completion and ena_rx_cleanup: the buffer handed to the stack."""
    return Step(And(_bit(s.up), ult(0, s.rx_mbuf)),
                s.replace(rx_mbuf=sub16(s.rx_mbuf, 1), pool=add16(s.pool, 1)))


@BUFFERS.transition(actor="user")
def nm_tx_frame(s: Buffers) -> Step:
    """ena_netmap_txsync sending one slot: ena_netmap_tx_map_slots moves its ``buf_idx``
    into ``socket_buf_idx`` and zeroes the slot (at most ``ring_size - 1`` in flight:
    netmap keeps one slot free)."""
    return Step(And(_bit(s.up), _bit(s.nm), ult(0, s.nm_tx_slots),
                    ult(add16(s.nm_tx, 1), s.tx_size)),
                s.replace(nm_tx_slots=sub16(s.nm_tx_slots, 1), nm_tx=add16(s.nm_tx, 1)))


@BUFFERS.transition(actor="device")
def nm_tx_clean(s: Buffers) -> Step:
    """A TX completion and ena_netmap_tx_clean_one: the buffer back to a slot."""
    return Step(And(_bit(s.up), ult(0, s.nm_tx)),
                s.replace(nm_tx=sub16(s.nm_tx, 1), nm_tx_slots=add16(s.nm_tx_slots, 1)))


@BUFFERS.transition(actor="user")
def nm_rx_refill(s: Buffers) -> Step:
    """ena_netmap_rxsync's refill, one buffer: ena_netmap_alloc_rx_slot takes the buffer of
    a slot the user released into ``netmap_buf_idx`` and posts it (the gap before
    ``rhead`` is never posted: ENA-NM-RX-RING of :mod:`model.ena_netmap` is that rule)."""
    return Step(And(_bit(s.up), _bit(s.nm), ult(0, s.nm_rx_slots),
                    ult(add16(add16(s.nm_rx, s.nm_rx_user), 1), s.rx_size)),
                s.replace(nm_rx_slots=sub16(s.nm_rx_slots, 1), nm_rx=add16(s.nm_rx, 1)))


@BUFFERS.transition(actor="device")
def nm_rx_frame(s: Buffers) -> Step:
    """An RX completion and ena_netmap_rx_load_desc: the buffer into the slot at
    ``nr_hwtail``, which passes to the user."""
    return Step(And(_bit(s.up), ult(0, s.nm_rx)),
                s.replace(nm_rx=sub16(s.nm_rx, 1), nm_rx_slots=add16(s.nm_rx_slots, 1),
                          nm_rx_user=add16(s.nm_rx_user, 1)))


@BUFFERS.transition(actor="user")
def nm_rx_release(s: Buffers) -> Step:
    """The user releases a received slot (``head`` advanced, taken by the next rxsync's
    prologue): its buffer stays in it, now the kernel's to post."""
    return Step(And(_bit(s.nm), ult(0, s.nm_rx_user)),
                s.replace(nm_rx_user=sub16(s.nm_rx_user, 1)))


# ---------------------------------------------------------------------------- ena_down / ena_up


@BUFFERS.transition(actor="driver")
def if_down(s: Buffers) -> Step:
    """ena_down from an ioctl or a sysctl reconfiguration, up to its frees
    (``down_free_*``)."""
    return Step(And(_idle(s), _bit(s.running), _bit(s.up)), _stop(s))


@BUFFERS.transition(actor="driver", breaks=("ENA-BUF-NETMAP",))
def down_free_as_shipped(s: Buffers) -> Step:
    """ena_down's frees as shipped: the netmap TX buffers in flight are not given back
    (ena_free_tx_bufs looks only at ``tx_info->mbuf``, ena_free_tx_resources zeroes
    ``socket_buf_idx``)."""
    return Step(_bit(s.freeing), free_rings(s, give_back_tx=False))


@BUFFERS.transition(actor="driver")
def down_free_hardened(s: Buffers) -> Step:
    """ena_down's frees, hardened: the netmap TX buffers in flight go back to their slots
    before ``socket_buf_idx`` is zeroed."""
    return Step(_bit(s.freeing), free_rings(s, give_back_tx=True))


def _if_up(s: Buffers, up_ok: Term, fill: Term, hardened: bool) -> Step:
    return Step(And(_idle(s), _bit(s.running), Eq(s.up, 0), _fill_ok(s, fill, hardened)),
                run_up(s, up_ok, fill))


@BUFFERS.transition(actor="driver", params=(_UP_OK, _FILL), breaks=("ENA-BUF-NM-USER",))
def if_up_as_shipped(s: Buffers, up_ok: Term, fill: Term) -> Step:
    """ena_up from an ioctl or a sysctl reconfiguration (the interface down); in netmap
    mode the fill takes the buffers of the slots the user holds."""
    return _if_up(s, up_ok, fill, hardened=False)


@BUFFERS.transition(actor="driver", params=(_UP_OK, _FILL))
def if_up_hardened(s: Buffers, up_ok: Term, fill: Term) -> Step:
    """The same, the netmap fill posting only the slots the user released."""
    return _if_up(s, up_ok, fill, hardened=True)


# ---------------------------------------------------------------------------- reset task


@BUFFERS.transition(actor="driver")
def destroy_begin(s: Buffers) -> Step:
    """ena_reset_task -> ena_destroy_device(false), up to its ena_down's frees: the timer
    drained, DEV_UP recorded in DEV_UP_BEFORE_RESET, and if the interface is up ena_down
    stops the device (then ``down_free_*``)."""
    up = _bit(s.up)
    t = choose(up, _stop(s), s)
    return Step(And(_idle(s), _bit(s.running)),
                t.replace(up_before=ite(up, 1, s.up_before), task=DESTROYING))


@BUFFERS.transition(actor="driver")
def destroy_end(s: Buffers) -> Step:
    """The rest of ena_destroy_device: the device reset (unless ena_down just did),
    ena_free_all_io_rings_resources (drbr_free flushes whatever the drbr holds), the admin
    queue destroyed, DEVICE_RUNNING cleared."""
    return Step(And(Eq(s.task, DESTROYING), Eq(s.freeing, 0)),
                s.replace(pool=add16(s.pool, s.queued), queued=0, running=0,
                          task=RESTORING))


_OK = Param("ok", "bit", "ena_device_init, the parameter check and MSI-X succeed")


def run_restore(s: Buffers, ok: Term, up_ok: Term, fill: Term, hardened: bool) -> Step:
    """ena_restore_device with the initial fill's netmap rule as shipped or hardened."""
    calls_up = And(_bit(ok), _bit(s.up_before))
    t = choose(calls_up, run_up(s, up_ok, fill), s)
    good = And(_bit(ok), Or(Eq(s.up_before, 0), _bit(up_ok)))
    done = choose(good, t.replace(running=1, up_before=0), t.replace(running=0))
    return Step(And(Eq(s.task, RESTORING), _fill_ok(s, fill, hardened)),
                done.replace(task=IDLE))


@BUFFERS.transition(actor="driver", params=(_OK, _UP_OK, _FILL), breaks=("ENA-BUF-NM-USER",))
def restore_device_as_shipped(s: Buffers, ok: Term, up_ok: Term, fill: Term) -> Step:
    """ena_restore_device: the device brought back, then ena_up if DEV_UP_BEFORE_RESET is
    set; on success DEVICE_RUNNING set and DEV_UP_BEFORE_RESET cleared; if anything fails
    (``ok`` or ``up_ok`` 0) the device is torn down, DEVICE_RUNNING stays clear and
    DEV_UP_BEFORE_RESET stays set.  In netmap mode ena_setup_rx_resources' netmap_reset
    keeps ``rhead`` and ``nr_hwtail`` (the user keeps the slots it holds) and the fill,
    as shipped, posts their buffers first."""
    return run_restore(s, ok, up_ok, fill, hardened=False)


@BUFFERS.transition(actor="driver", params=(_OK, _UP_OK, _FILL))
def restore_device_hardened(s: Buffers, ok: Term, up_ok: Term, fill: Term) -> Step:
    """The same, the netmap fill posting only the slots the user released."""
    return run_restore(s, ok, up_ok, fill, hardened=True)


# ---------------------------------------------------------------------------- ena_netmap_reg


@BUFFERS.transition(actor="user", params=(Param("onoff", "bit", "netmap on (1) or off (0)"),))
def netmap_reg_begin(s: Buffers, onoff: Term) -> Step:
    """ena_netmap_reg: TRIGGER_RESET cleared and ena_down, up to its frees (if the
    interface is up)."""
    t = choose(_bit(s.up), _stop(s), s)
    return Step(And(_idle(s), _bit(s.running)), t.replace(reg=add16(onoff, 1)))


def run_reg_end(s: Buffers, up_ok: Term, fill: Term, hardened: bool) -> Step:
    """The rest of ena_netmap_reg, the initial fill's netmap rule as shipped or
    hardened."""
    nm = sub16(s.reg, 1)
    t = s.replace(nm=nm, reg=0, nm_rx_user=ite(Eq(nm, 1), s.nm_rx_user, 0))
    up = run_up(t, up_ok, fill)
    failed = t.replace(nm=0, nm_rx_user=0, running=0, up_before=1, task=RESTORING)
    return Step(And(Not(Eq(s.reg, 0)), Eq(s.freeing, 0), _fill_ok(t, fill, hardened)),
                choose(_bit(up_ok), up, failed))


@BUFFERS.transition(actor="user", params=(_UP_OK, _FILL), breaks=("ENA-BUF-NM-USER",))
def netmap_reg_end_as_shipped(s: Buffers, up_ok: Term, fill: Term) -> Step:
    """The rest of ena_netmap_reg: the krings' mode switched (leaving netmap, the user's
    slots go with the registration), then ena_up in the new mode; if it fails the native
    flags go off (mbuf mode), ena_destroy_device(false) (the interface is down: only the
    device reset and DEVICE_RUNNING cleared), DEV_UP_BEFORE_RESET set, and
    ena_restore_device follows (``restore_device_*``).  A switch that keeps this pair in
    netmap mode (another ring registering) refills it as a restore does."""
    return run_reg_end(s, up_ok, fill, hardened=False)


@BUFFERS.transition(actor="user", params=(_UP_OK, _FILL))
def netmap_reg_end_hardened(s: Buffers, up_ok: Term, fill: Term) -> Step:
    """The same, the netmap fill posting only the slots the user released."""
    return run_reg_end(s, up_ok, fill, hardened=True)


# ---------------------------------------------------------------------------- invariants


@BUFFERS.invariant(
    "ENA-BUF-MBUFS",
    "Every mbuf is in exactly one place -- the pool (UMA or the stack), the drbr, the TX "
    "ring (mapped, with the device) or the RX ring (posted) -- so they add up to the "
    "total; at most ring_size are in flight and ring_size - 1 posted (rings of 2 to 32768).",
)
def buf_mbufs(s: Buffers) -> Term:
    parts = (s.pool, s.queued, s.tx_mbuf, s.rx_mbuf)
    total = add16(add16(add16(s.pool, s.queued), s.tx_mbuf), s.rx_mbuf)
    return And(ule(2, s.tx_size), ule(s.tx_size, SIZE_MAX), ule(2, s.rx_size),
               ule(s.rx_size, SIZE_MAX), ule(s.total, TOTAL_MAX),
               *[ule(x, s.total) for x in parts], ule(s.tx_mbuf, s.tx_size),
               ult(s.rx_mbuf, s.rx_size), Eq(total, s.total))


@BUFFERS.invariant(
    "ENA-BUF-NETMAP",
    "Every netmap buffer of the queue pair's krings is in exactly one place -- its slot, "
    "or with the device (a TX packet in flight, a posted RX buffer) -- so slots and "
    "device add up to the ring's nkr_num_slots, TX and RX; at most ring_size - 1 with "
    "the device.",
)
def buf_netmap(s: Buffers) -> Term:
    return And(ult(s.nm_tx, s.tx_size), ult(s.nm_rx, s.rx_size),
               ule(s.nm_tx_slots, s.tx_size), ule(s.nm_rx_slots, s.rx_size),
               Eq(add16(s.nm_tx, s.nm_tx_slots), s.tx_size),
               Eq(add16(s.nm_rx, s.nm_rx_slots), s.rx_size))


@BUFFERS.invariant(
    "ENA-BUF-STOPPED",
    "Buffers are on the rings only while the interface is up, or while ena_down has "
    "stopped the device and not yet freed them: after ena_destroy_device, and after a "
    "failed ena_up or restore, the device owns none and the driver holds none; a ring "
    "holds mbufs or netmap buffers, never both.",
)
def buf_stopped(s: Buffers) -> Term:
    empty = And(*[Eq(x, 0) for x in on_rings(s)])
    return And(
        ule(s.task, RESTORING), ule(s.reg, 2),
        Implies(_bit(s.up), And(_bit(s.running), Eq(s.freeing, 0), Eq(s.task, IDLE),
                                Eq(s.reg, 0))),
        Implies(Or(Eq(s.task, DESTROYING), _bit(s.freeing)), _bit(s.running)),
        Implies(Not(Eq(s.reg, 0)), And(_bit(s.running), Eq(s.task, IDLE))),
        Implies(Eq(s.task, RESTORING), And(Eq(s.running, 0), Eq(s.freeing, 0))),
        Implies(And(Eq(s.up, 0), Eq(s.freeing, 0)), empty),
        Implies(_bit(s.nm), And(Eq(s.queued, 0), Eq(s.tx_mbuf, 0), Eq(s.rx_mbuf, 0))),
        Implies(Eq(s.nm, 0), And(Eq(s.nm_tx, 0), Eq(s.nm_rx, 0))),
    )


@BUFFERS.invariant(
    "ENA-BUF-NM-USER",
    "The RX slots the user holds keep their buffers: the device is given only slots the "
    "user released, never the gap before rhead, so the posted netmap buffers and the "
    "user's slots together leave at least one slot (none held outside netmap mode).",
)
def buf_nm_user(s: Buffers) -> Term:
    return And(Implies(Eq(s.nm, 0), Eq(s.nm_rx_user, 0)), ule(s.nm_rx_user, s.rx_size),
               ule(add16(s.nm_rx, s.nm_rx_user), sub16(s.rx_size, 1)))


# ---------------------------------------------------------------------------- contracts


@BUFFERS.contract(
    "ENA-BUF-STOP-FIRST",
    "ena_down, ena_destroy_device and ena_netmap_reg take buffers off the rings only once "
    "the device is stopped (reset, or its queues destroyed): never while it can still "
    "write into them.",
    ("if_down", "down_free_as_shipped", "down_free_hardened", "destroy_begin",
     "destroy_end", "netmap_reg_begin"),
)
def stop_first(pre: Buffers, args: dict[str, Term], step: Step) -> Term:
    """the step is enabled and some ring count drops => pre.up == 0."""
    dropped = Or(*[ult(b, a) for a, b in zip(on_rings(pre), on_rings(step.post),
                                             strict=True)])
    return Implies(And(step.guard, dropped), Eq(pre.up, 0))


@BUFFERS.contract(
    "ENA-BUF-REFILLED",
    "When ena_up returns -- alone, in ena_restore_device or in ena_netmap_reg -- nothing "
    "is queued or in flight and the RX ring holds exactly what ena_refill_all_rx_bufs "
    "posted (none if ena_up failed or did not run), taken from the pool or the slots: the "
    "pool plus the posted mbufs is the total, the slots plus the posted netmap buffers "
    "the ring.",
    ("if_up_as_shipped", "if_up_hardened", "restore_device_as_shipped",
     "restore_device_hardened", "netmap_reg_end_as_shipped", "netmap_reg_end_hardened"),
)
def refilled(pre: Buffers, args: dict[str, Term], step: Step) -> Term:
    """the step is enabled => pool + posted == total, slots + posted == ring, posted ==
    (fill if up else 0)."""
    t = step.post
    posted = add16(t.rx_mbuf, t.nm_rx)
    return Implies(step.guard, And(Eq(t.queued, 0), Eq(t.tx_mbuf, 0), Eq(t.nm_tx, 0),
               Eq(t.nm_tx_slots, t.tx_size), Eq(add16(t.pool, t.rx_mbuf), t.total),
               Eq(add16(t.nm_rx_slots, t.nm_rx), t.rx_size),
               Eq(posted, ite(_bit(t.up), args["fill"], 0))))
