"""Receive-side scaling: the hash over each frame's selected fields, and the 128-entry
indirection table that picks the RX queue.

* Functions (``enum ena_admin_hash_functions``): Toeplitz and CRC32, chosen by the
  driver; the driver programs the 40-byte key **byte-reversed** (``ena_rss_reorder_hash_key``
  in ena_rss.c), so the device un-reverses it before the standard Toeplitz.
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.c#L104
* Toeplitz (standard definition): for every input bit, most significant first, that is
  set, XOR the 32-bit window of the key starting at that bit into the result. Vectorized
  with one 256-entry table per input byte position: the hash is the XOR over positions of
  ``T[p][byte]``.
* CRC32: the reflected IEEE polynomial 0xEDB88320 with the programmed initial value and
  no final XOR (so with init 0xFFFFFFFF it is the bitwise complement of zlib's crc32).
* Hash inputs per protocol (``enum ena_admin_flow_hash_proto`` / ``_fields``): the driver's
  defaults are L3 SA|DA + L4 SP|DP for TCP/UDP over IPv4/IPv6, L3 SA|DA for IP4, IP6 and
  IP4_FRAG, L2 DA|SA for NOT_IP. Fields go into the input in the order source address,
  destination address, source port, destination port (Microsoft's order); L2: destination
  then source MAC. With input sort on, addresses (and ports) are swapped so that the
  destination is not smaller than the source, which makes the hash symmetric.
* Indirection: entry ``hash & 127`` names the RX SQ index that receives the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from impl.device.parse import Parsed
from impl.ena_defs.constants import (
    HASH_KEY_SIZE,
    RSS_PROTO_NUM,
    RX_RSS_TABLE_SIZE,
    FlowHashFields,
    FlowHashProto,
    HashFunction,
    L3Proto,
    L4Proto,
)

MAX_INPUT = 36
"""Longest hash input: IPv6 addresses and ports (16 + 16 + 2 + 2 bytes)."""

_L3L4 = FlowHashFields.L3_SA | FlowHashFields.L3_DA | FlowHashFields.L4_SP | FlowHashFields.L4_DP
_L3 = FlowHashFields.L3_SA | FlowHashFields.L3_DA


def default_hash_fields() -> np.ndarray:
    """The driver's default selected fields per protocol (``ena_com_set_default_hash_ctrl``)."""
    f = np.zeros(RSS_PROTO_NUM, dtype=np.int64)
    for p in (FlowHashProto.TCP4, FlowHashProto.UDP4, FlowHashProto.TCP6, FlowHashProto.UDP6):
        f[p] = _L3L4
    for p in (FlowHashProto.IP4, FlowHashProto.IP6, FlowHashProto.IP4_FRAG):
        f[p] = _L3
    f[FlowHashProto.NOT_IP] = FlowHashFields.L2_DA | FlowHashFields.L2_SA
    return f


def toeplitz_tables(key: bytes, nbytes: int = MAX_INPUT) -> np.ndarray:
    """``T[p][v]``: the XOR of the key windows for the set bits of byte value ``v`` at input
    byte ``p``. Shape (nbytes, 256), uint32. The key must be ``nbytes + 4`` bytes or more."""
    k = np.frombuffer(key, dtype=np.uint8)
    if k.size < nbytes + 4:
        raise ValueError(f"Toeplitz key of {k.size} bytes is too short for {nbytes} input bytes")
    bits = np.unpackbits(k).astype(np.uint64)
    nbits = 8 * nbytes
    # window[i] = key bits i .. i+31 as a 32-bit number
    idx = np.arange(nbits)[:, None] + np.arange(32)[None, :]
    window = (bits[idx] << np.arange(31, -1, -1, dtype=np.uint64)[None, :]).sum(axis=1)
    window = window.astype(np.uint32).reshape(nbytes, 8)  # [p][bit 7..0 of the byte]
    vals = np.arange(256)
    vbits = ((vals[:, None] >> np.arange(7, -1, -1)[None, :]) & 1).astype(bool)  # (256, 8)
    masked = np.where(vbits[None, :, :], window[:, None, :], np.uint32(0))  # (nb, 256, 8)
    return np.bitwise_xor.reduce(masked, axis=2)


def toeplitz(tables: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Toeplitz hash of each row of ``inputs`` (n, L <= tables rows); trailing zero bytes do
    not change a Toeplitz hash, so shorter inputs are zero-padded."""
    n, width = inputs.shape
    if width == 0:
        return np.zeros(n, dtype=np.uint32)
    picked = tables[np.arange(width)[None, :], inputs.astype(np.int64)]
    return np.bitwise_xor.reduce(picked, axis=1).astype(np.uint32)


def _crc_table() -> np.ndarray:
    c = np.arange(256, dtype=np.uint32)
    for _ in range(8):  # 8 bit steps, each over all 256 entries at once
        c = np.where(c & 1, (c >> np.uint32(1)) ^ np.uint32(0xEDB88320), c >> np.uint32(1))
    return c.astype(np.uint32)


CRC_TABLE = _crc_table()


def crc32(inputs: np.ndarray, lengths: np.ndarray, init: int) -> np.ndarray:
    """Reflected CRC32 of the first ``lengths[j]`` bytes of row ``j``, register starting at
    ``init``, no final XOR. Loops over byte positions (at most :data:`MAX_INPUT`), never
    over frames."""
    n, width = inputs.shape
    crc = np.full(n, init & 0xFFFFFFFF, dtype=np.uint32)
    for p in range(width):
        step = CRC_TABLE[(crc ^ inputs[:, p]) & 0xFF] ^ (crc >> np.uint32(8))
        crc = np.where(p < lengths, step, crc)
    return crc


def _sorted_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap rows so that ``b >= a`` lexicographically (big-endian bytes)."""
    diff = a != b
    first = np.argmax(diff, axis=1)
    rows = np.arange(a.shape[0])
    swap = diff.any(axis=1) & (a[rows, first] > b[rows, first])
    return np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)


@dataclass
class RssConfig:
    """The device's RSS state (what SET_FEATURE RSS_HASH_FUNCTION / RSS_HASH_INPUT /
    RSS_INDIRECTION_TABLE_CONFIG program; set directly until the admin queue exists)."""

    function: HashFunction = HashFunction.TOEPLITZ
    init_val: int = 0
    hw_key: bytes = bytes(HASH_KEY_SIZE)
    """The key as the driver programs it (byte-reversed)."""
    fields: np.ndarray = field(default_factory=default_hash_fields)
    l3_sort: bool = False
    l4_sort: bool = False
    table: np.ndarray = field(default_factory=lambda: np.full(RX_RSS_TABLE_SIZE, -1, np.int64))
    """RX SQ index per entry; -1 = not programmed (the lowest RX SQ gets the frame)."""

    def __post_init__(self) -> None:
        self.set_key(self.hw_key)

    def set_key(self, hw_key: bytes) -> None:
        if len(hw_key) != HASH_KEY_SIZE:
            raise ValueError(f"the RSS key is {HASH_KEY_SIZE} bytes")
        self.hw_key = bytes(hw_key)
        self._tables = toeplitz_tables(self.hw_key[::-1])

    @property
    def key(self) -> bytes:
        """The key in normal (Toeplitz) order."""
        return self.hw_key[::-1]

    def inputs(self, p: Parsed) -> tuple[np.ndarray, np.ndarray]:
        """Hash input bytes (n, MAX_INPUT) zero-padded, and their lengths."""
        n = p.l3_proto.size
        v4 = p.l3_proto == L3Proto.IPV4
        v6 = p.l3_proto == L3Proto.IPV6
        tcp = p.l4_proto == L4Proto.TCP
        udp = p.l4_proto == L4Proto.UDP
        proto = np.full(n, int(FlowHashProto.NOT_IP))
        proto = np.where(v4, np.where(p.ipv4_frag, FlowHashProto.IP4_FRAG,
                                      np.where(tcp, FlowHashProto.TCP4,
                                               np.where(udp, FlowHashProto.UDP4,
                                                        FlowHashProto.IP4))), proto)
        proto = np.where(v6, np.where(tcp, FlowHashProto.TCP6,
                                      np.where(udp, FlowHashProto.UDP6, FlowHashProto.IP6)),
                         proto)
        sel = self.fields[proto]
        # the valid-byte masks depend on a frame only through sel, v4 and v6: when those
        # are the same for every frame, one row of masks stands for all of them
        rows = 1 if n and ((sel == sel[0]).all() and (v4 == v4[0]).all()
                           and (v6 == v6[0]).all()) else n
        sel, ip = sel[:rows], (v4 | v6)[:rows]
        alen = np.where(v6[:rows], 16, 4)[:, None]
        src, dst = p.src, p.dst
        sp, dp = p.ports[:, 0:2], p.ports[:, 2:4]
        if self.l3_sort:
            src, dst = _sorted_pair(src, dst)
        if self.l4_sort:
            sp, dp = _sorted_pair(sp, dp)
        parts = [  # (bytes, valid-byte mask)
            (p.l2[:, 0:6], np.repeat(sel[:, None] & FlowHashFields.L2_DA != 0, 6, axis=1)),
            (p.l2[:, 6:12], np.repeat(sel[:, None] & FlowHashFields.L2_SA != 0, 6, axis=1)),
            (src, (sel[:, None] & FlowHashFields.L3_SA != 0) & (np.arange(16) < alen)),
            (dst, (sel[:, None] & FlowHashFields.L3_DA != 0) & (np.arange(16) < alen)),
            (sp, np.repeat(sel[:, None] & FlowHashFields.L4_SP != 0, 2, axis=1)),
            (dp, np.repeat(sel[:, None] & FlowHashFields.L4_DP != 0, 2, axis=1)),
        ]
        data = np.concatenate([b for b, _ in parts], axis=1)
        keep = np.concatenate([m for _, m in parts], axis=1)
        keep &= ip[:, None] | (np.arange(keep.shape[1]) < 12)[None, :]
        out = np.zeros((n, MAX_INPUT), dtype=np.uint8)
        if n and not (keep != keep[0]).any():  # one field layout for every frame
            cols = np.flatnonzero(keep[0])
            take = cols[:MAX_INPUT]
            out[:, :take.size] = data[:, take]
            return out, np.full(n, cols.size, dtype=np.int64)
        # kept bytes moved to the front, in order: byte c goes to column (kept before c)
        dest = np.cumsum(keep, axis=1) - 1
        lengths = dest[:, -1] + 1 if keep.shape[1] else np.zeros(n, dtype=np.int64)
        put = keep & (dest < MAX_INPUT)
        out[np.nonzero(put)[0], dest[put]] = data[put]
        return out, lengths.astype(np.int64)

    def hash(self, p: Parsed) -> np.ndarray:
        """The 32-bit hash of each frame under the selected function."""
        data, lengths = self.inputs(p)
        if self.function == HashFunction.CRC32:
            return crc32(data, lengths, self.init_val)
        # columns past every input's length are zero, which adds nothing to a Toeplitz hash
        return toeplitz(self._tables, data[:, :int(lengths.max(initial=0))])

    def queue(self, hashes: np.ndarray, default_sq: int) -> np.ndarray:
        """RX SQ index for each hash: indirection entry ``hash & 127``."""
        entry = self.table[hashes.astype(np.int64) & (RX_RSS_TABLE_SIZE - 1)]
        return np.where(entry < 0, default_sq, entry)
