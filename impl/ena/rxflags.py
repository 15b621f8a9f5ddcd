"""What the FreeBSD driver tells the stack about a received packet: checksum flags and
the RSS hash type (``ena_rx_checksum``, ``ena_rx_hash_mbuf`` in ena_datapath.c):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L527
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L346

Checksum (when RXCSUM is enabled): an IPv4 header error -> no flags, ``csum_bad``; else
for TCP/UDP an L4 error -> no flags, ``csum_bad``, otherwise ``CSUM_IP_CHECKED |
CSUM_IP_VALID``, ``csum_good``; other packets keep no flags. L4 validity is never reported.
Hash type with RSS active: a fragment with a known L3 -> OPAQUE_HASH; IPv4/IPv6 x TCP/UDP/
other -> ``M_HASHTYPE_RSS_{TCP_,UDP_,}IPV{4,6}``; L3 unknown -> NONE; other L3 -> OPAQUE_HASH.
RSS inactive: NONE (and the flow id is the queue).
"""

from __future__ import annotations

import numpy as np

from impl import vec
from impl.ena_defs.constants import L3Proto, L4Proto

# sys/sys/mbuf.h
CSUM_IP_CHECKED = 0x01000000
CSUM_IP_VALID = 0x02000000
M_HASHTYPE_HASHPROP = 0x80
M_HASHTYPE_NONE = 0
M_HASHTYPE_RSS_IPV4 = M_HASHTYPE_HASHPROP | 1
M_HASHTYPE_RSS_TCP_IPV4 = M_HASHTYPE_HASHPROP | 2
M_HASHTYPE_RSS_IPV6 = M_HASHTYPE_HASHPROP | 3
M_HASHTYPE_RSS_TCP_IPV6 = M_HASHTYPE_HASHPROP | 4
M_HASHTYPE_RSS_UDP_IPV4 = M_HASHTYPE_HASHPROP | 7
M_HASHTYPE_RSS_UDP_IPV6 = M_HASHTYPE_HASHPROP | 9
M_HASHTYPE_OPAQUE_HASH = M_HASHTYPE_HASHPROP | 63

# plain ints: comparing an array with an IntEnum member costs ~4x a plain int
_IPV4, _IPV6, _L3_UNKNOWN = int(L3Proto.IPV4), int(L3Proto.IPV6), int(L3Proto.UNKNOWN)
_TCP, _UDP = int(L4Proto.TCP), int(L4Proto.UDP)


def rx_checksum(l3: np.ndarray, l4: np.ndarray, l3_err: np.ndarray,
                l4_err: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(csum_flags, good, bad)`` per packet (``good``/``bad`` are 0/1 counter steps)."""
    l3_bad = (l3 == _IPV4) & (l3_err != 0)
    l4_known = (l4 == _TCP) | (l4 == _UDP)
    l4_bad = ~l3_bad & l4_known & (l4_err != 0)
    good = ~l3_bad & l4_known & (l4_err == 0)
    flags = np.where(good, CSUM_IP_CHECKED | CSUM_IP_VALID, 0).astype(np.int64)
    return flags, good.astype(np.int64), (l3_bad | l4_bad).astype(np.int64)


def rx_hash_type(l3: np.ndarray, l4: np.ndarray, frag: np.ndarray,
                 rss_active: bool) -> np.ndarray:
    """``M_HASHTYPE_*`` per packet."""
    l3 = np.asarray(l3, dtype=np.int64)
    if not rss_active:
        return np.zeros(l3.size, dtype=np.int64)
    tcp, udp = l4 == _TCP, l4 == _UDP
    v4 = vec.select([tcp, udp], [M_HASHTYPE_RSS_TCP_IPV4, M_HASHTYPE_RSS_UDP_IPV4],
                    M_HASHTYPE_RSS_IPV4)
    v6 = vec.select([tcp, udp], [M_HASHTYPE_RSS_TCP_IPV6, M_HASHTYPE_RSS_UDP_IPV6],
                    M_HASHTYPE_RSS_IPV6)
    by_l3 = vec.select([l3 == _IPV4, l3 == _IPV6, l3 == _L3_UNKNOWN],
                       [v4, v6, M_HASHTYPE_NONE], M_HASHTYPE_OPAQUE_HASH)
    known_frag = (np.asarray(frag) != 0) & (l3 != _L3_UNKNOWN)
    return np.where(known_frag, M_HASHTYPE_OPAQUE_HASH, by_l3).astype(np.int64)
