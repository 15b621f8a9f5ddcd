"""Per-packet TX preparation: the collapse rule, DMA mapping and the offload metadata.

* ``ena_check_and_collapse_mbuf``: a chain of ``n`` mbufs is sent as is when
  ``n < max_tx_sgl_size`` ("one segment must be reserved for configuration descriptor"),
  or when ``n == max_tx_sgl_size`` and the whole packet is shorter than
  ``tx_max_header_size`` (it fits the LLQ push header); otherwise it is ``m_collapse``d to
  at most ``max_tx_sgl_size - 1`` segments, and a failed collapse is ``ENOMEM`` (which
  ``ena_start_xmit`` treats like a full ring: put back, retry later):
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L827
  The simulator's ``m_collapse`` copies the frame into 2 KB clusters (``MCLBYTES``), so it
  succeeds iff ``ceil(len / 2048) <= max_tx_sgl_size - 1``.
* ``ena_tx_map_mbuf``: the DMA tag takes at most ``max_tx_sgl_size - 1`` segments; the
  simulator maps each mbuf to one segment (busdma merges physically contiguous mbufs, which
  real chains rarely are), so a chain of exactly ``max_tx_sgl_size`` mbufs that the collapse
  rule let through fails to load (EFBIG, ``dma_mapping_err``, packet dropped). In LLQ mode
  the first ``min(len, tx_max_header_size)`` bytes become the push header (pointed to in the
  first mbuf when they fit there, else copied: ``llq_buffer_copy``) and only the bytes past
  ``tx_max_header_size`` are described by buffers:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L860
* ``ena_tx_csum``: no offload requested -> no metadata (``meta_valid = 0``), or a zeroed
  one when the device disabled meta caching; otherwise the L2/L3/L4 header lengths parsed
  from the frame (VLAN, IPv4 with its DF bit, IPv6 without extension headers), the MSS and
  the checksum / TSO enables:
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L715
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.ena_defs.constants import L3Proto, L4Proto

MCLBYTES = 2048

# sys/sys/mbuf.h csum_flags requested on TX
CSUM_IP = 0x1
CSUM_IP_UDP = 0x2
CSUM_IP_TCP = 0x4
CSUM_IP_TSO = 0x10
CSUM_IP6_UDP = 0x200
CSUM_IP6_TCP = 0x400
CSUM_IP6_TSO = 0x1000
CSUM_TSO = CSUM_IP_TSO | CSUM_IP6_TSO
CSUM_OFFLOAD = CSUM_IP | CSUM_IP_TCP | CSUM_IP_UDP
"""ena.h's ``CSUM_OFFLOAD`` (``CSUM_IP | CSUM_TCP | CSUM_UDP``)."""
CSUM6_OFFLOAD = CSUM_IP6_UDP | CSUM_IP6_TCP

ETHERTYPE_IP = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100
IPPROTO_TCP = 6
IPPROTO_UDP = 17


class Collapse(NamedTuple):
    needed: np.ndarray
    ok: np.ndarray
    segs: np.ndarray
    """Segments after the collapse (the original count where none is needed)."""


def collapse_plan(lengths: np.ndarray, nsegs: np.ndarray, max_sgl: int,
                  tx_max_header_size: int) -> Collapse:
    """``ena_check_and_collapse_mbuf`` for every packet."""
    lengths = np.asarray(lengths, dtype=np.int64)
    nsegs = np.asarray(nsegs, dtype=np.int64)
    keep = (nsegs < max_sgl) | ((nsegs == max_sgl) & (lengths < tx_max_header_size))
    clusters = -(-lengths // MCLBYTES)
    ok = keep | (clusters <= max_sgl - 1)
    return Collapse(~keep, ok, np.where(keep, nsegs, clusters))


def collapsed_lengths(lengths: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """Flat segment lengths of frames copied into ``segs`` 2 KB clusters."""
    lengths = np.asarray(lengths, dtype=np.int64)
    segs = np.asarray(segs, dtype=np.int64)
    pkt = np.repeat(np.arange(lengths.size), segs)
    k = np.arange(pkt.size) - np.repeat(np.cumsum(segs) - segs, segs)
    return np.minimum(lengths[pkt] - k * MCLBYTES, MCLBYTES)


class TxMeta(NamedTuple):
    """What ``ena_tx_csum`` puts in ``ena_com_tx_ctx`` (``meta_key`` packs
    ``struct ena_com_tx_meta`` {mss, l3_hdr_len, l3_hdr_offset, l4_hdr_len} for the
    ``memcmp`` of the meta cache)."""

    meta_valid: np.ndarray
    meta_key: np.ndarray
    l3_proto: np.ndarray
    l4_proto: np.ndarray
    l3_csum_enable: np.ndarray
    l4_csum_enable: np.ndarray
    tso_enable: np.ndarray
    df: np.ndarray


def meta_key(mss: np.ndarray, l3_hdr_len: np.ndarray, l3_hdr_offset: np.ndarray,
             l4_hdr_len: np.ndarray) -> np.ndarray:
    """The four u16 members of ``struct ena_com_tx_meta`` packed into one integer."""
    return ((np.asarray(mss, dtype=np.int64) & 0xFFFF)
            | (np.asarray(l3_hdr_len, dtype=np.int64) & 0xFFFF) << 16
            | (np.asarray(l3_hdr_offset, dtype=np.int64) & 0xFFFF) << 32
            | (np.asarray(l4_hdr_len, dtype=np.int64) & 0xFFFF) << 48)


def unpack_meta(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`meta_key`: (mss, l3_hdr_len, l3_hdr_offset, l4_hdr_len)."""
    key = np.asarray(key, dtype=np.int64)
    return key & 0xFFFF, (key >> 16) & 0xFFFF, (key >> 32) & 0xFFFF, (key >> 48) & 0xFFFF


def tx_csum(arena: np.ndarray, addr: np.ndarray, csum_flags: np.ndarray,
            tso_segsz: np.ndarray, disable_meta_caching: bool) -> TxMeta:
    """``ena_tx_csum`` for every packet (frame bytes read from ``arena`` at ``addr``)."""
    addr = np.asarray(addr, dtype=np.int64)
    flags = np.asarray(csum_flags, dtype=np.int64)
    mss = np.asarray(tso_segsz, dtype=np.int64)
    n = addr.size
    zero = np.zeros(n, dtype=np.int64)
    offload = (mss != 0) | (flags & (CSUM_TSO | CSUM_OFFLOAD | CSUM6_OFFLOAD) != 0)
    if not offload.any():  # ena_tx_csum returns before reading any header
        return TxMeta(np.full(n, 1 if disable_meta_caching else 0, dtype=np.int64),
                      *(zero.copy() for _ in range(7)))

    def byte(off: np.ndarray) -> np.ndarray:
        return arena.take(addr + off, mode="clip").astype(np.int64)

    def be16(off: np.ndarray) -> np.ndarray:
        return byte(off) << 8 | byte(off + 1)

    encap = be16(np.full(n, 12))
    vlan = encap == ETHERTYPE_VLAN
    etype = np.where(vlan, be16(np.full(n, 16)), encap)
    ehdrlen = np.where(vlan, 18, 14)
    v4 = etype == ETHERTYPE_IP
    v6 = etype == ETHERTYPE_IPV6
    iphlen = np.where(v4, (byte(ehdrlen) & 0xF) << 2, np.where(v6, 40, 0))
    ipproto = np.where(v4, byte(ehdrlen + 9), np.where(v6, byte(ehdrlen + 6), 0))
    l3 = np.where(v4, int(L3Proto.IPV4), np.where(v6, int(L3Proto.IPV6), 0))
    df = np.where(v4, (byte(ehdrlen + 6) & 0x40) != 0, v6).astype(np.int64)
    th_off = byte(ehdrlen + iphlen + 12) >> 4
    tso = (flags & CSUM_TSO) != 0
    tcp = ipproto == IPPROTO_TCP
    udp = ipproto == IPPROTO_UDP
    l4 = np.where(tcp, int(L4Proto.TCP), np.where(udp, int(L4Proto.UDP), 0))
    l4_csum = np.where(tcp, flags & (CSUM_IP_TCP | CSUM_IP6_TCP) != 0,
                       udp & (flags & (CSUM_IP_UDP | CSUM_IP6_UDP) != 0))
    key = meta_key(mss, iphlen, ehdrlen, np.where(tso, th_off, 0))

    def on(x: np.ndarray) -> np.ndarray:
        return np.where(offload, x, zero).astype(np.int64)

    return TxMeta(
        meta_valid=np.where(offload, 1, 1 if disable_meta_caching else 0).astype(np.int64),
        meta_key=on(key),
        l3_proto=on(l3),
        l4_proto=on(l4),
        l3_csum_enable=on((flags & CSUM_IP) != 0),
        l4_csum_enable=on(l4_csum),
        tso_enable=on(tso),
        df=on(df),
    )
