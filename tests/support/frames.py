"""Test frames built with struct, independently of the code under test, and Microsoft's
published RSS verification vectors ("Verifying the RSS Hash Calculation", Windows driver
documentation)."""

from __future__ import annotations

import ipaddress
import struct

MS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c"
                       "6a42b73bbeac01fa")
# (destination, dst port, source, src port, hash of addresses, hash with ports)
MS_IPV4 = [
    ("161.142.100.80", 1766, "66.9.149.187", 2794, 0x323E8FC2, 0x51CCC178),
    ("65.69.140.83", 4739, "199.92.111.2", 14230, 0xD718262A, 0xC626B0EA),
    ("12.22.207.184", 38024, "24.19.198.95", 12898, 0xD2D0A5DE, 0x5C2B394A),
    ("209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xAFC7327F),
    ("202.188.127.2", 1303, "153.39.163.191", 44251, 0x5D1809C5, 0x10E828A2),
]
MS_IPV6 = [
    ("3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2CC18CD5, 0x40207D3D),
    ("ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0F0C461C, 0xDDE51BBF),
    ("fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251,
     0x4B61E985, 0x02D1FEEF),
]
VECTORS = MS_IPV4 + MS_IPV6


def addr(a: str) -> bytes:
    return ipaddress.ip_address(a).packed


def inet_csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src: str, dst: str, sp: int, dp: int, proto: int = 6, payload: bytes = b"x" * 20,
          frag: int = 0) -> bytes:
    """An Ethernet + IPv4/IPv6 + TCP/UDP frame with correct checksums (built here with
    struct, independently of the code under test)."""
    s, d = addr(src), addr(dst)
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 5 << 4, 0x10, 8192, 0, 0) + payload
    else:
        l4 = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(l4), proto)
    c = inet_csum(pseudo + l4)
    at = 16 if proto == 6 else 6
    l4 = l4[:at] + struct.pack("!H", c) + l4[at + 2:]
    if len(s) == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, frag, 64, proto, 0, s, d)
        ip = ip[:10] + struct.pack("!H", inet_csum(ip)) + ip[12:]
        etype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, s, d)
        etype = 0x86DD
    return bytes(range(1, 7)) + bytes(range(7, 13)) + struct.pack("!H", etype) + ip + l4
