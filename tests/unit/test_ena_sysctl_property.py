"""Malformed and random strings at every ENA sysctl node (impl/ena/sysctl.py).

Every write gives an errno the C can give for that node, and a refused write leaves the
adapter byte-for-byte unchanged. For the numeric nodes an independent oracle (a regular
expression for what sysctl(8) accepts, plus the handler's rule) predicts the exact result;
the key and the indirection table are checked by round trips."""

from __future__ import annotations

import re
from errno import EINVAL, EPERM, ERANGE

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.sysctl_fake import FakeSysctlHost

from impl.ena.sysctl import DriverTunables, Sysctl

DEV = "dev.ena.0."
WS = " \t\n\v\f\r"

#: node -> (low, high) of its type for the numeric nodes, None for strings.
NUMERIC: dict[str, tuple[int, int]] = {
    "hw.ena.log_level": (-(1 << 31), (1 << 31) - 1),
    DEV + "wd_active": (-(1 << 31), (1 << 31) - 1),
    DEV + "keep_alive_timeout": (-(1 << 63), (1 << 63) - 1),
    DEV + "missing_tx_timeout": (-(1 << 63), (1 << 63) - 1),
    DEV + "missing_tx_max_queues": (0, (1 << 32) - 1),
    DEV + "missing_tx_threshold": (0, (1 << 32) - 1),
    DEV + "io_queues_nb": (0, (1 << 32) - 1),
    DEV + "rx_queue_size": (0, (1 << 32) - 1),
    DEV + "buf_ring_size": (0, (1 << 32) - 1),
    DEV + "stats_sample_interval": (0, (1 << 16) - 1),
    DEV + "irq_affinity.base_cpu": (-(1 << 31), (1 << 31) - 1),
    DEV + "irq_affinity.cpu_stride": (-(1 << 31), (1 << 31) - 1),
}
STRINGS = (DEV + "rss.key", DEV + "rss.indir_table")
READ_ONLY = ("hw.ena.driver_version", "hw.ena.enable_9k_mbufs",
             "hw.ena.force_large_llq_header", DEV + "rss.indir_table_size")
ALL = (*NUMERIC, *STRINGS, *READ_ONLY)


def _accepts(h: FakeSysctlHost, name: str, n: int) -> bool:
    """The handler's rule for a value of the right type (the fake's defaults)."""
    short = name.removeprefix(DEV)
    pow2 = n > 0 and n & (n - 1) == 0
    return {
        "io_queues_nb": 1 <= n <= h.msix_vecs - 1,
        "rx_queue_size": 256 <= n <= h.max_rx_ring_size and pow2,
        "buf_ring_size": pow2,
        "stats_sample_interval": n <= 3600,
        "irq_affinity.base_cpu": 0 <= n <= h.mp_ncpus,
        "irq_affinity.cpu_stride": n >= 0,
    }.get(short, True)


_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def oracle_number(name: str, value: str, lo: int, hi: int) -> int | None:
    """What sysctl(8) sends for a numeric node (None: it refuses), written independently:
    leading blanks and one quote pair off, exactly one non-empty piece between spaces and
    commas, that piece a C integer literal with optional leading blanks and sign, in
    range."""
    if "\0" in value or any("\ud800" <= c <= "\udfff" for c in value):
        return None
    if len(name) + 1 + len(value.encode()) >= 1024:
        return None
    s = value.lstrip(WS)
    if s[:1] in ("'", '"'):
        s = s[1:-1] if len(s) > 1 and s[-1] == s[0] else s[1:]
    if not s:
        return None
    pieces = [p for p in re.split("[ ,]", s) if p]
    if len(pieces) != 1:
        return None
    m = _NUMBER.fullmatch(pieces[0])
    if m is None:
        return None
    digits = m.group(2)
    if digits[:2] in ("0x", "0X"):
        n = int(digits[2:], 16)
    elif digits.startswith("0"):
        n = int(digits, 8)
    else:
        n = int(digits)
    n = -n if m.group(1) == "-" else n
    return n if lo <= n <= hi else None


_blank = st.sampled_from(["", "", "", " ", "  ", "\t", "\n", "\v\f\r", "\u00a0", "\u2003",
                         ","])
_sign = st.sampled_from(["", "", "", "+", "-", "--", "+-", "- "])
_quote = st.sampled_from(["", "", "", '"', "'"])
_nice = st.sampled_from([0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 255, 256, 257, 384, 512, 1024,
                         2048, 3600, 3601, 4096, 8192, 8193, 16384, 65535, 65536,
                         (1 << 31) - 1, 1 << 31, (1 << 32) - 1, 1 << 32, (1 << 63) - 1,
                         1 << 63, 1 << 64])


@st.composite
def numberish(draw: st.DrawFn) -> str:
    """Things that look like numbers: signs, bases, huge values, blanks, junk, quotes."""
    n = draw(st.one_of(_nice, st.integers(0, 5000), st.integers(0, 1 << 70)))
    if draw(st.booleans()):                       # well formed, in some base and dress
        body = draw(st.sampled_from([str(n), hex(n), "0" + oct(n)[2:]]))
        q = draw(st.sampled_from(["", "", '"', "'"]))
        return (draw(st.sampled_from(["", "", " ", "\t "])) + q + draw(st.sampled_from(
            ["", "", "+", "-"])) + body + draw(st.sampled_from(["", "", " ", ","])) + q)
    body = draw(st.sampled_from([str(n), str(n), hex(n), hex(n).upper(), "0" + oct(n)[2:],
                                 oct(n), bin(n), f"{n:_}", "0x", "0X", "08", "0"]))
    q = draw(_quote)
    tail = draw(st.sampled_from(["", "", "", "", "", "", "", " ", ",", "\t", "x", "abc",
                                 "\x00", ".5", "e3", " 7", ",7", ";", "\ud800"]))
    return (draw(_blank) + q + draw(_blank) + draw(_sign) + body + tail
            + draw(st.sampled_from(["", q])) + draw(_blank))


_odd_pairs = st.sampled_from([" f", "+f", "-1", "-f", "0x", "zz", "g0", "  ", "- ", "\u00e9",
                              "\x00", "FF", "\t1", "1 "])


@st.composite
def keyish(draw: st.DrawFn) -> str:
    """80-ish characters, mostly hex pairs, sometimes with blanks, signs, prefixes, junk."""
    hexpair = st.integers(0, 255).map(lambda b: f"{b:02x}")
    if draw(st.booleans()):
        pairs = draw(st.lists(hexpair, min_size=40, max_size=40))
        for _ in range(draw(st.integers(0, 2))):
            pairs[draw(st.integers(0, 39))] = draw(_odd_pairs)
    else:
        pairs = draw(st.lists(st.one_of(hexpair, _odd_pairs), min_size=38, max_size=42))
    return draw(_blank) + "".join(pairs) + draw(st.sampled_from(["", "", "", "0", " "]))


@st.composite
def indirish(draw: st.DrawFn) -> str:
    """Records with random indices, queues and separators, some broken."""
    recs = draw(st.lists(st.tuples(
        st.one_of(st.integers(0, 127), st.integers(-3, 140),
                  st.sampled_from([1 << 32, -(1 << 32) + 1])),
        st.sampled_from([":", ":", ":", ":", ":", " :", ": ", "", "::", ";"]),
        st.one_of(st.integers(0, 7), st.integers(-2, 10), st.sampled_from([1 << 32]))),
        max_size=12))
    seps = [draw(st.sampled_from([" ", " ", " ", "  ", "\t", ",", "", "\n", " x "]))
            for _ in recs]
    body = "".join(f"{s if k else ''}{i}{c}{q}"
                   for k, ((i, c, q), s) in enumerate(zip(recs, seps, strict=True)))
    return draw(_blank) + body + draw(st.sampled_from(["", "", "", " ", "\t"]))


junk = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="ascii"), max_size=40),
    st.text(alphabet="0123456789abcdefxX+-:, \t\n\x00", max_size=60),
    st.sampled_from(["", " ", "\x00", "\ud800", "٣", "１２", "0" * 2000, "9" * 400]),
    numberish(), keyish(), indirish(),
)

_PAIR = re.compile(r"[0-9a-fA-F]{2}|[ \t\n\v\f\r+-][0-9a-fA-F]")


def oracle_key(value: str) -> bytes | None:
    """The 40 bytes ``rss.key`` takes (in typed order), written independently."""
    s = value.lstrip(WS)
    if s[:1] in ("'", '"'):
        s = s[1:-1] if len(s) > 1 and s[-1] == s[0] else s[1:]
    if len(s) != 80 or not s.isascii() or "\0" in s:
        return None
    out = []
    for i in range(0, 80, 2):
        pair = s[i:i + 2]
        if not _PAIR.fullmatch(pair):
            return None
        out.append(int(pair.strip(WS), 16) & 0xFF)
    return bytes(out)


_REC = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+):[ \t\n\v\f\r]*([+-]?[0-9]+)")


def oracle_indir(value: str, table: list[int], nq: int) -> tuple[int, list[int]]:
    """The errno and the table ``rss.indir_table`` leaves, written independently."""
    if "\0" in value or any("\ud800" <= c <= "\udfff" for c in value):
        return EINVAL, table
    if len(DEV + "rss.indir_table") + 1 + len(value.encode()) >= 1024:
        return EINVAL, table
    s = value.lstrip(WS)
    if s[:1] in ("'", '"'):
        s = s[1:-1] if len(s) > 1 and s[-1] == s[0] else s[1:]
    out = list(table)
    pos = 0
    while pos < len(s):
        head = re.match(r"[ \t\n\v\f\r]*[+-]?[0-9]+", s[pos:])
        if head is None:
            return EINVAL, table
        if not 0 <= int(head.group().strip(WS)) < 128:
            return ERANGE, table
        m = _REC.match(s, pos)
        if m is None:
            return EINVAL, table
        i, q = int(m.group(1)), int(m.group(2))
        if not 0 <= q < nq:
            return ERANGE, table
        out[i] = q
        pos = m.end()
    return 0, out


def fresh() -> tuple[Sysctl, FakeSysctlHost]:
    host = FakeSysctlHost()
    return Sysctl(host), host


def strings_for(name: str) -> st.SearchStrategy[str]:
    """Anything, weighted towards what almost parses for ``name``."""
    if name == DEV + "rss.key":
        near = keyish()
    elif name == DEV + "rss.indir_table":
        near = indirish()
    else:
        near = numberish()
    return st.integers(0, 3).flatmap(lambda k: junk if k == 0 else near)


@pytest.mark.parametrize("name", ALL)
@given(data=st.data())
def test_any_string_gives_a_c_errno_and_refusals_change_nothing(name: str,
                                                                data: st.DataObject) -> None:
    value = data.draw(strings_for(name), label="value")
    sc, host = fresh()
    before, tunables = host.snapshot(), DriverTunables(**vars(sc.tunables))
    before_table = None if host.table is None else host.table.tolist()
    err = sc.write(name, value)
    if name in READ_ONLY:
        assert err in (EPERM, EINVAL)
    elif name == DEV + "rss.indir_table":
        assert err in (0, EINVAL, ERANGE)
    else:
        assert err in (0, EINVAL)
    if err:
        assert host.snapshot() == before
        assert sc.tunables == tunables
        assert not [c for c in host.calls if c[0].startswith(("update", "set_"))]
    if name in NUMERIC:
        n = oracle_number(name, value, *NUMERIC[name])
        expect_ok = n is not None and _accepts(host, name, n)
        assert (err == 0) is expect_ok, (value, n, err)
        if expect_ok:
            shown = sc.read(name)
            assert shown == (str(int(n != 0)) if name.endswith("wd_active") else str(n))
    elif name == DEV + "rss.key":
        key = oracle_key(value) if len(name) + 1 + len(value.encode("utf-8", "replace")) < 1024 \
            else None
        assert (err == 0) is (key is not None), (value, err)
        if key is not None:
            assert sc.read(name) == key.hex()
    elif name == DEV + "rss.indir_table":
        assert before_table is not None
        want_err, want_table = oracle_indir(value, before_table, host.num_io_queues)
        assert err == want_err, (value, err, want_err)
        assert host.table is not None
        assert host.table.tolist() == want_table


@given(key=st.binary(min_size=40, max_size=40), upper=st.booleans())
def test_key_round_trip(key: bytes, upper: bool) -> None:
    sc, host = fresh()
    text = key.hex().upper() if upper else key.hex()
    assert sc.write(DEV + "rss.key", text) == 0
    assert sc.read(DEV + "rss.key") == key.hex()
    assert host.key == key[::-1]


@given(records=st.lists(st.tuples(st.integers(0, 127), st.integers(0, 7)), max_size=40),
       seps=st.lists(st.sampled_from([" ", "  ", "\t", "\n ", " \v"]), min_size=40,
                     max_size=40))
def test_indir_records_apply_in_order(records: list[tuple[int, int]],
                                      seps: list[str]) -> None:
    sc, host = fresh()
    assert host.table is not None
    expected = host.table.tolist()
    for i, q in records:
        expected[i] = q
    text = "".join(f"{sep if k else ''}{i}:{q}"
                   for k, ((i, q), sep) in enumerate(zip(records, seps, strict=False)))
    assert sc.write(DEV + "rss.indir_table", text) == 0
    assert host.table.tolist() == expected
    assert host.device_table.tolist() == expected
    assert sc.read(DEV + "rss.indir_table") == " ".join(
        f"{i}:{q}" for i, q in enumerate(expected))


@given(table=st.lists(st.integers(0, 7), min_size=128, max_size=128))
def test_indir_read_write_back_is_identity(table: list[int]) -> None:
    sc, host = fresh()
    host.table = np.array(table, dtype=np.uint32)
    host.device_table = host.table.copy()
    before = host.snapshot()
    shown = sc.read(DEV + "rss.indir_table")
    assert sc.write(DEV + "rss.indir_table", shown) == 0
    assert host.snapshot() == before
