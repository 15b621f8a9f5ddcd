"""What the device learns from a received frame's headers, for a whole batch at once.

For each frame: L3/L4 protocol indices as the RX completion reports them
(``ena_eth_io_l3_proto_index`` / ``_l4_proto_index``), VLAN tag count, IPv4 fragment flag,
the IPv4 header checksum and the TCP/UDP checksum (verified over the pseudo-header), and
the addresses and ports the RSS hash reads. Frames are Ethernet II with at most one
802.1Q tag, IPv4 (with options) or IPv6 (no extension headers: anything else is
"L4 unknown"), TCP or UDP. Completion status bits:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_eth_io_defs.h#L228

Everything is computed on a zero-padded matrix of the first :data:`HDR` bytes of each frame
and, for the L4 checksum, on the flat bytes of every L4 segment (``np.bincount`` sums the
16-bit words per frame); no Python loop over frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impl import byteranges
from impl.ena_defs.constants import L3Proto, L4Proto
from impl.netmap.ranges import flat_offsets
from impl.packets import PacketBatch

HDR = 128
"""Header bytes examined per frame (Ethernet + VLAN + IPv4 with options + L4 ports)."""

ETH_P_IPV4, ETH_P_IPV6, ETH_P_8021Q = 0x0800, 0x86DD, 0x8100
IPPROTO_TCP, IPPROTO_UDP = 6, 17


@dataclass(frozen=True)
class Parsed:
    """Per-frame header facts (arrays of length n)."""

    l3_proto: np.ndarray
    l4_proto: np.ndarray
    vlan_cnt: np.ndarray
    ipv4_frag: np.ndarray
    l3_csum_err: np.ndarray
    l4_csum_checked: np.ndarray
    l4_csum_err: np.ndarray
    l2: np.ndarray
    """(n, 12): destination then source MAC."""
    src: np.ndarray
    """(n, 16): source address (IPv4 in the first 4 bytes)."""
    dst: np.ndarray
    ports: np.ndarray
    """(n, 4): source port then destination port (network order)."""


def header_matrix(batch: PacketBatch, width: int = HDR) -> np.ndarray:
    """The first ``width`` bytes of each frame, zero past its end: shape (n, width)."""
    n = len(batch)
    length = int(batch.lengths[0]) if n else 0
    if length > 0 and (batch.lengths == length).all():  # equal frames: copy their rows
        out = np.zeros((n, width), np.uint8)
        out[:, :min(length, width)] = byteranges.gather(
            batch.arena, batch.offsets, np.full(n, min(length, width))).reshape(n, -1)
        return out
    cols = np.arange(width)
    inside = cols[None, :] < batch.lengths[:, None]
    if n and batch.arena.size:
        rows = _rows(batch.arena, batch.offsets, batch.lengths, width)
        if rows is not None:
            return np.where(inside, rows, np.uint8(0))
    idx = np.where(inside, batch.offsets[:, None] + cols[None, :], 0)
    out = batch.arena[idx] if batch.arena.size else np.zeros((n, width), np.uint8)
    return np.where(inside, out, 0).astype(np.uint8).reshape(n, width)


def _rows(arena: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
          width: int) -> np.ndarray | None:
    """``arena[offsets[i] : offsets[i] + width]`` for every frame as an (n, width) copy,
    bytes past the arena read as 0, taken whole rows at a time from a zero-padded copy of
    the span the frames occupy; None when that span is much larger than the rows (frames
    scattered over a large arena), where the per-byte gather is cheaper."""
    lo = int(offsets.min())
    hi = min(int((offsets + np.maximum(lengths, 0)).max()), arena.size)
    if lo < 0 or hi - lo > 4 * offsets.size * width:
        return None
    span = np.zeros(max(hi - lo, 0) + width, dtype=np.uint8)
    span[:max(hi - lo, 0)] = arena[lo:hi]
    return np.lib.stride_tricks.sliding_window_view(span, width)[offsets - lo]


def _u16(h: np.ndarray, off: np.ndarray) -> np.ndarray:
    flat = h.reshape(-1)  # one flat index per byte read, not a (row, column) pair
    at = np.arange(h.shape[0]) * h.shape[1] + np.minimum(np.maximum(off, 0), h.shape[1] - 2)
    return (flat[at].astype(np.int64) << 8) | flat[at + 1]


def _fold(s: np.ndarray) -> np.ndarray:
    for _ in range(4):
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _take(h: np.ndarray, off: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes of each row of ``h`` from column ``off`` (clamped to the row)."""
    n, cols = h.shape
    if n and width <= cols and int(off.min()) >= 0 and int(off.max()) + width <= cols:
        # no clamping: whole windows of the rows laid end to end
        return byteranges.windows(h.reshape(-1), width)[np.arange(n) * cols + off]
    idx = np.minimum(np.maximum(off[:, None] + np.arange(width)[None, :], 0), cols - 1)
    return h[np.arange(n)[:, None], idx]


def parse(batch: PacketBatch) -> Parsed:
    """Parse every frame of ``batch`` (see the module docstring)."""
    h = header_matrix(batch)
    n = len(batch)
    length = batch.lengths
    eth = (h[:, 12].astype(np.int64) << 8) | h[:, 13]
    vlan = (eth == ETH_P_8021Q) & (length >= 18)
    l3_off = np.where(vlan, 18, 14)
    etype = np.where(vlan, (h[:, 16].astype(np.int64) << 8) | h[:, 17], eth)
    rows = np.arange(n)
    b0 = h[rows, np.minimum(l3_off, HDR - 1)].astype(np.int64)
    v4 = (etype == ETH_P_IPV4) & (b0 >> 4 == 4) & (length >= l3_off + 20)
    ihl = np.where(v4, (b0 & 0xF) * 4, 0)
    v4 &= (ihl >= 20) & (length >= l3_off + ihl)
    v6 = (etype == ETH_P_IPV6) & (b0 >> 4 == 6) & (length >= l3_off + 40)
    v4_total = _u16(h, l3_off + 2)
    frag_field = _u16(h, l3_off + 6)
    frag = v4 & ((frag_field & 0x3FFF) != 0)
    proto = np.where(v4, h[rows, np.minimum(l3_off + 9, HDR - 1)],
                     np.where(v6, h[rows, np.minimum(l3_off + 6, HDR - 1)], -1)).astype(np.int64)
    l4_off = l3_off + np.where(v4, ihl, 40)
    l3_end = np.where(v4, l3_off + v4_total, l3_off + 40 + _u16(h, l3_off + 4))
    l4_len = np.where(v4 | v6, l3_end - l4_off, 0)
    sane = (l3_end <= length) & (l4_len >= 0)
    tcp = (v4 | v6) & sane & (proto == IPPROTO_TCP) & (l4_len >= 20)
    udp = (v4 | v6) & sane & (proto == IPPROTO_UDP) & (l4_len >= 8)
    # IPv4 header checksum: the 16-bit one's-complement sum over the header is 0xFFFF
    hdr_end = (l3_off + ihl) // 2  # 16-bit words past every header add nothing: not read
    nw = min(HDR // 2, int(hdr_end.max(initial=0)))
    words = (h[:, 0:2 * nw:2].astype(np.int64) << 8) | h[:, 1:2 * nw:2]
    widx = np.arange(words.shape[1])
    in_hdr = (widx[None, :] >= (l3_off // 2)[:, None]) & \
             (widx[None, :] < hdr_end[:, None])
    l3_ok = _fold((words * in_hdr).sum(axis=1)) == 0xFFFF
    # TCP/UDP checksum over the pseudo-header and the L4 segment
    src = _take(h, l3_off + np.where(v4, 12, 8), 16)  # IPv4: 4 bytes, zero-padded
    dst = _take(h, l3_off + np.where(v4, 16, 24), 16)
    src[v4, 4:] = 0
    dst[v4, 4:] = 0
    l4 = (tcp | udp) & ~frag
    seg_len = np.where(l4, l4_len, 0)
    seg_start = batch.offsets + l4_off
    width = byteranges.equal_length(batch.arena, seg_start, seg_len)
    if width:  # one segment length (a batch of equal frames): the segments as rows
        seg = byteranges.windows(batch.arena, width)[seg_start]
        seg_sum = ((seg[:, 0::2].sum(axis=1, dtype=np.int64) << 8)
                   + seg[:, 1::2].sum(axis=1, dtype=np.int64))
    else:
        flat = batch.arena[flat_offsets(seg_start, seg_len)].astype(np.int64)
        pos = np.arange(flat.size) - np.repeat(np.cumsum(seg_len) - seg_len, seg_len)
        owner = np.repeat(np.arange(n), seg_len)
        seg_sum = np.bincount(owner, weights=flat * np.where(pos % 2 == 0, 256, 1),
                              minlength=n).astype(np.int64)
    addr_words = ((np.concatenate([src, dst], axis=1)[:, 0::2].astype(np.int64) << 8)
                  | np.concatenate([src, dst], axis=1)[:, 1::2]).sum(axis=1)
    pseudo = addr_words + proto.clip(0) + seg_len
    l4_ok = _fold(seg_sum + pseudo) == 0xFFFF
    udp_no_csum = udp & v4 & (_u16(h, l4_off + 6) == 0)
    l4_ok |= udp_no_csum
    l3p = np.where(v4, int(L3Proto.IPV4), np.where(v6, int(L3Proto.IPV6), int(L3Proto.UNKNOWN)))
    l4p = np.where(tcp, int(L4Proto.TCP), np.where(udp, int(L4Proto.UDP), int(L4Proto.UNKNOWN)))
    ports = np.where((l4 & (tcp | udp))[:, None], _take(h, l4_off, 4), 0)
    return Parsed(
        l3_proto=l3p.astype(np.int64), l4_proto=l4p.astype(np.int64),
        vlan_cnt=vlan.astype(np.int64), ipv4_frag=frag,
        l3_csum_err=v4 & ~l3_ok, l4_csum_checked=l4, l4_csum_err=l4 & ~l4_ok,
        l2=h[:, 0:12].copy(), src=np.where((v4 | v6)[:, None], src, 0).astype(np.uint8),
        dst=np.where((v4 | v6)[:, None], dst, 0).astype(np.uint8), ports=ports.astype(np.uint8),
    )
