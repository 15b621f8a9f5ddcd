"""What mutation testing of ``tx_csum`` (impl/ena/txmap.py) found uncovered: the offload
metadata of frames that are not IPv4 / IPv6, and the rest of ``ena_tx_csum`` checked
against a line-by-line Python transcription of the FreeBSD C (ena_datapath.c):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L715

For an ethertype other than IP and IPv6 the C takes its ``default:`` branch: ``iphlen = 0``
and ``ipproto = 0``, the L3 protocol stays ``ENA_ETH_IO_L3_PROTO_UNKNOWN`` and DF 0, so
the L4 protocol is UNKNOWN with no L4 checksum; the L3 checksum and TSO enables still
follow the request flags, and the TCP header offset is read right after the Ethernet
header.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.ena import txmap

# sys/sys/mbuf.h
CSUM_IP, CSUM_IP_UDP, CSUM_IP_TCP, CSUM_IP_TSO = 0x1, 0x2, 0x4, 0x10
CSUM_IP6_UDP, CSUM_IP6_TCP, CSUM_IP6_TSO = 0x200, 0x400, 0x1000
CSUM_TSO = CSUM_IP_TSO | CSUM_IP6_TSO
CSUM_OFFLOAD = CSUM_IP | CSUM_IP_TCP | CSUM_IP_UDP
CSUM6_OFFLOAD = CSUM_IP6_UDP | CSUM_IP6_TCP
# ena_eth_io_defs.h
L3_UNKNOWN, L3_IPV4, L3_IPV6 = 0, 8, 11
L4_UNKNOWN, L4_TCP, L4_UDP = 0, 12, 13


def c_tx_csum(frame: bytes, flags: int, mss: int, disable_meta_caching: bool) -> dict:
    """``ena_tx_csum`` on one frame: the ``ena_com_tx_ctx`` fields it sets (the context
    starts zeroed, ``memset`` in ``ena_xmit_mbuf``)."""
    ctx = {"meta_valid": 0, "mss": 0, "l3_hdr_len": 0, "l3_hdr_offset": 0, "l4_hdr_len": 0,
           "l3_proto": L3_UNKNOWN, "l4_proto": L4_UNKNOWN, "l3_csum_enable": 0,
           "l4_csum_enable": 0, "tso_enable": 0, "df": 0}
    offload = mss != 0 or flags & (CSUM_TSO | CSUM_OFFLOAD | CSUM6_OFFLOAD) != 0
    if not offload:
        ctx["meta_valid"] = 1 if disable_meta_caching else 0
        return ctx

    def be16(at: int) -> int:
        return frame[at] << 8 | frame[at + 1]

    if be16(12) == 0x8100:  # ETHERTYPE_VLAN
        etype, ehdrlen = be16(16), 14 + 4
    else:
        etype, ehdrlen = be16(12), 14
    if etype == 0x0800:
        iphlen = (frame[ehdrlen] & 0xF) << 2
        ipproto = frame[ehdrlen + 9]
        ctx["l3_proto"] = L3_IPV4
        if frame[ehdrlen + 6] & 0x40:  # ip_off & htons(IP_DF)
            ctx["df"] = 1
    elif etype == 0x86DD:
        ctx["l3_proto"] = L3_IPV6
        iphlen, ipproto = 40, frame[ehdrlen + 6]  # ip6_lasthdr, no extension headers
        ctx["df"] = 1
    else:
        iphlen = ipproto = 0
    th_off = frame[ehdrlen + iphlen + 12] >> 4
    if flags & CSUM_IP:
        ctx["l3_csum_enable"] = 1
    if flags & CSUM_TSO:
        ctx["tso_enable"] = 1
        ctx["l4_hdr_len"] = th_off
    if ipproto == 6:
        ctx["l4_proto"] = L4_TCP
        ctx["l4_csum_enable"] = int(flags & (CSUM_IP_TCP | CSUM_IP6_TCP) != 0)
    elif ipproto == 17:
        ctx["l4_proto"] = L4_UDP
        ctx["l4_csum_enable"] = int(flags & (CSUM_IP_UDP | CSUM_IP6_UDP) != 0)
    ctx["mss"], ctx["l3_hdr_len"], ctx["l3_hdr_offset"] = mss, iphlen, ehdrlen
    ctx["meta_valid"] = 1
    return ctx


def got(meta: txmap.TxMeta, i: int) -> dict:
    mss, l3_len, l3_off, l4_len = (int(x[i]) for x in txmap.unpack_meta(meta.meta_key))
    return {"meta_valid": int(meta.meta_valid[i]), "mss": mss, "l3_hdr_len": l3_len,
            "l3_hdr_offset": l3_off, "l4_hdr_len": l4_len,
            **{f: int(getattr(meta, f)[i]) for f in (
                "l3_proto", "l4_proto", "l3_csum_enable", "l4_csum_enable", "tso_enable",
                "df")}}


def frame_of(etype: int, vlan: bool, ip_first: int, ip_byte6: int, ip_byte9: int,
             tail: bytes) -> bytes:
    eth = bytes(12) + ((0x8100).to_bytes(2, "big") + bytes(2) if vlan else b"")
    ip = bytes([ip_first]) + bytes(5) + bytes([ip_byte6]) + bytes(2) + bytes([ip_byte9])
    return eth + etype.to_bytes(2, "big") + ip + tail


ARP, LLDP = 0x0806, 0x88CC


def test_an_offload_request_on_a_non_ip_frame_keeps_the_default_branch() -> None:
    # bytes that would read as IPv4 (ip_hl 5, DF, TCP) or IPv6 (next header TCP) if the
    # ethertype were ignored; a TCP-like data offset 0xA0 at ehdrlen + 12
    tail = bytes([0] * 2 + [0xA0] + [0] * 97)
    frames = [frame_of(ARP, False, 0x45, 0x40 | 6, 6, tail),
              frame_of(LLDP, True, 0x46, 0x40 | 17, 17, tail)]
    arena = np.frombuffer(b"".join(frames), np.uint8)
    addr = np.array([0, len(frames[0])])
    flags = np.array([CSUM_IP | CSUM_IP_TCP | CSUM_IP_TSO, CSUM_IP_UDP | CSUM_IP6_UDP])
    meta = txmap.tx_csum(arena, addr, flags, np.array([1448, 0]), False)
    assert got(meta, 0) == {"meta_valid": 1, "mss": 1448, "l3_hdr_len": 0,
                            "l3_hdr_offset": 14, "l4_hdr_len": 0xA, "l3_proto": L3_UNKNOWN,
                            "l4_proto": L4_UNKNOWN, "l3_csum_enable": 1,
                            "l4_csum_enable": 0, "tso_enable": 1, "df": 0}
    assert got(meta, 1) == {"meta_valid": 1, "mss": 0, "l3_hdr_len": 0, "l3_hdr_offset": 18,
                            "l4_hdr_len": 0, "l3_proto": L3_UNKNOWN, "l4_proto": L4_UNKNOWN,
                            "l3_csum_enable": 0, "l4_csum_enable": 0, "tso_enable": 0,
                            "df": 0}
    for i, f in enumerate(frames):
        assert got(meta, i) == c_tx_csum(f, int(flags[i]), [1448, 0][i], False)


headers = st.tuples(
    st.sampled_from([0x0800, 0x86DD, ARP, LLDP, 0x8100]), st.booleans(),
    st.integers(0x40, 0x4F) | st.integers(0, 255), st.integers(0, 255),
    st.sampled_from([6, 17, 1, 58]), st.binary(min_size=80, max_size=80))
flag_bits = st.lists(st.sampled_from([CSUM_IP, CSUM_IP_UDP, CSUM_IP_TCP, CSUM_IP_TSO,
                                      CSUM_IP6_UDP, CSUM_IP6_TCP, CSUM_IP6_TSO, 0x8, 0x100]),
                     max_size=3)


@settings(max_examples=80)
@given(st.lists(st.tuples(headers, flag_bits, st.sampled_from([0, 0, 536, 1448, 9001])),
                min_size=1, max_size=6), st.booleans())
def test_tx_csum_is_ena_tx_csum(pkts: list, disable_meta_caching: bool) -> None:
    frames, flags, mss = [], [], []
    for (etype, vlan, b0, b6, proto, tail), bits, m in pkts:
        if etype == 0x86DD:  # the next header: TCP, UDP, ICMP or ICMPv6, no extension
            b6 = proto
        frames.append(frame_of(etype, vlan, b0, b6, proto, tail))
        flags.append(sum(set(bits)))
        mss.append(m)
    arena = np.frombuffer(b"".join(frames), np.uint8)
    addr = np.cumsum([0] + [len(f) for f in frames[:-1]])
    meta = txmap.tx_csum(arena, addr, np.array(flags), np.array(mss), disable_meta_caching)
    for i, f in enumerate(frames):
        assert got(meta, i) == c_tx_csum(f, flags[i], mss[i], disable_meta_caching)
