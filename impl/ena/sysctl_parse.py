"""The string side of the ENA sysctl interface: what sysctl(8) and the handlers parse.

A value reaches a handler in two steps, and this module does both:

1. **sysctl(8)** (userland) takes the text after ``name=``: it skips leading C whitespace,
   strips one pair of ``"`` or ``'`` quotes (a lone leading quote is dropped too), and, for a
   numeric node, refuses an empty value, splits the rest on spaces and commas and parses
   each piece with ``strtol``/``strtoul`` in base 0 (so ``0x1f`` is hex, ``017`` octal),
   refusing a piece with no digits, trailing junk or ``ERANGE``: :func:`sysctl8_value`,
   :func:`parse_number`. A string node gets the text as is.
2. **the handler** (kernel) parses string nodes itself with the kernel's ``strtol``:
   ``rss.key`` in 2-character hex pairs (:func:`parse_key`) and ``rss.indir_table`` as
   ``idx:queue`` records (:func:`parse_indir`):
   https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L1107
   https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_sysctl.c#L1183

Every refusal here is ``EINVAL`` in :mod:`impl.ena.sysctl` (sysctl(8) refuses before any
system call; we report the refusal as ``EINVAL``), except the ``ERANGE`` of the indirection
table records. Where these parsers are stricter than sysctl(8) and the C, the module
docstring of :mod:`impl.ena.sysctl` says so under "Differences from the C".

``strtol`` here (:func:`c_strtol`) is the C one over bytes in the C locale: whitespace is
exactly ``" \\t\\n\\v\\f\\r"``, digits are ASCII only, a ``0x`` prefix counts only in base
0/16 and only when a hex digit follows (FreeBSD libc; the kernel's copy consumes a bare
``0x`` and then finds no digits, which is refused the same way wherever it can occur here).
The value is returned unbounded (no ``LONG_MAX`` clamp): callers range-check it.
"""

from __future__ import annotations

from errno import EINVAL, ERANGE
from typing import NamedTuple

import numpy as np

C_SPACE = frozenset(b" \t\n\v\f\r")
"""``isspace`` in the C locale (userland and the kernel's libkern agree)."""

SYSCTL8_BUFSIZ = 1024
"""sysctl(8) copies ``name=value`` into a ``BUFSIZ`` buffer and refuses longer arguments."""

ENA_HASH_KEY_SIZE = 40
ENA_HASH_KEY_MSG_SIZE = ENA_HASH_KEY_SIZE * 2 + 1
"""The ``rss.key`` string buffer: 80 hex characters and the NUL."""

ENA_RX_RSS_TABLE_SIZE = 128
ENA_RX_RSS_MSG_RECORD_SZ = 8
INDIR_BUF_SIZE = ENA_RX_RSS_TABLE_SIZE * ENA_RX_RSS_MSG_RECORD_SZ
"""``sizeof(struct ena_indir.sysctl_buf)``: a written string must be shorter than this."""


class CType(NamedTuple):
    """A sysctl numeric type (``CTLTYPE_*``): the name sysctl(8) prints and its range."""

    name: str
    lo: int
    hi: int
    signed: bool


INT = CType("integer", -(1 << 31), (1 << 31) - 1, True)
S32 = CType("int32_t", -(1 << 31), (1 << 31) - 1, True)
U32 = CType("uint32_t", 0, (1 << 32) - 1, False)
U16 = CType("uint16_t", 0, (1 << 16) - 1, False)
S64 = CType("int64_t", -(1 << 63), (1 << 63) - 1, True)


def argv_bytes(value: str) -> bytes | None:
    """The bytes a shell would hand sysctl(8) for ``value``, or ``None`` if it cannot.

    An argument is a NUL-terminated C string, so a value with an embedded NUL cannot be
    typed; neither can text that has no UTF-8 encoding (lone surrogates)."""
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if b"\0" in raw:
        return None
    return raw


def sysctl8_value(raw: bytes) -> bytes:
    """sysctl(8)'s clean-up of the text after ``=``: leading whitespace, one quote pair."""
    i = 0
    while i < len(raw) and raw[i] in C_SPACE:
        i += 1
    s = raw[i:]
    if s[:1] in (b'"', b"'"):
        if s[-1:] == s[:1]:
            s = s[:-1]
        s = s[1:]
    return s


def _digit(c: int) -> int:
    """The value of an ASCII digit or letter (``a``/``A`` = 10), 99 for anything else."""
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x7A:
        return c - 0x61 + 10
    if 0x41 <= c <= 0x5A:
        return c - 0x41 + 10
    return 99


def c_strtol(buf: bytes, pos: int, base: int) -> tuple[int, int]:
    """C ``strtol(buf + pos, &end, base)``: ``(value, end)``; ``end == pos`` if no digits.

    Skips C whitespace, takes one ``+``/``-``, then (base 0 or 16) a ``0x``/``0X`` prefix
    followed by a hex digit, then (base 0) ``0`` means octal; the value is unbounded."""
    n = len(buf)
    i = pos
    while i < n and buf[i] in C_SPACE:
        i += 1
    neg = False
    if i < n and buf[i] in b"+-":
        neg = buf[i] == ord("-")
        i += 1
    if (base in (0, 16) and i + 2 < n and buf[i] == ord("0") and buf[i + 1] in b"xX"
            and _digit(buf[i + 2]) < 16):
        i += 2
        base = 16
    elif base == 0:
        base = 8 if i < n and buf[i] == ord("0") else 10
    start = i
    acc = 0
    while i < n and _digit(buf[i]) < base:
        acc = acc * base + _digit(buf[i])
        i += 1
    if i == start:
        return 0, pos
    return (-acc if neg else acc), i


def parse_number(text: bytes, ctype: CType) -> int | None:
    """A numeric value as sysctl(8) parses it for a node of type ``ctype``, or ``None``.

    ``text`` is :func:`sysctl8_value`'s output. Refused (``None``): an empty value; no value
    at all after splitting on spaces and commas (``","``); more than one value
    (``"512,1024"``, ``"1 2"``); a piece that ``strtol`` does not consume entirely
    (``"12abc"``, ``"0x"``, ``"08"``, ``"512\\t"``); a value outside ``ctype``'s range
    (``"4294967296"`` for u32, ``"-1"`` for u32 or u16, ``"65536"`` for u16, anything past
    int64 for a quad). Accepted: a leading sign, ``0x`` hex, ``0`` octal, leading whitespace
    and trailing spaces or commas (sysctl(8) drops the empty pieces)."""
    if not text:
        return None
    pieces = [p for p in text.replace(b",", b" ").split(b" ") if p]
    if len(pieces) != 1:
        return None
    piece = pieces[0]
    value, end = c_strtol(piece, 0, 0)
    if end == 0 or end != len(piece):
        return None
    if not ctype.lo <= value <= ctype.hi:
        return None
    return value


def parse_key(text: bytes) -> bytes | None:
    """The 40 key bytes (in the order typed) from ``rss.key``'s text, or ``None``.

    The text must be exactly 80 bytes (``sysctl_handle_string`` refuses 81 or more, the
    handler anything else). Each 2-byte pair is parsed with ``strtol(pair, &end, 16)`` and
    must yield a digit and be consumed entirely; the ``long`` is stored in a ``u8``. As
    shipped, that accepts a pair with a leading whitespace or sign: ``" f"`` and ``"+f"``
    are 0x0f, ``"-1"`` is 0xff, ``"-f"`` is 0xf1 (the handler's ``rss_key[i] < 0`` test
    meant to refuse a sign is dead code on a ``u8``)."""
    if len(text) != ENA_HASH_KEY_MSG_SIZE - 1:
        return None
    key = bytearray(ENA_HASH_KEY_SIZE)
    for i in range(ENA_HASH_KEY_SIZE):
        pair = text[2 * i: 2 * i + 2]
        value, end = c_strtol(pair, 0, 16)
        if end == 0 or end != len(pair):
            return None
        key[i] = value & 0xFF
    return bytes(key)


def parse_indir(text: bytes, table: np.ndarray, num_queues: int) -> int:
    """Apply ``rss.indir_table``'s ``idx:queue`` records to ``table``; 0 or the errno.

    Records are read left to right until the end of the text: the index by ``strtol``
    base 10 (no digit: ``EINVAL``), out of ``[0, 128)``: ``ERANGE``; then a ``:`` right
    after it (``EINVAL`` otherwise, also at the end of the text); then the queue by
    ``strtol`` base 10 (no digit: ``EINVAL``), out of ``[0, num_queues)``: ``ERANGE``.
    ``strtol`` skips leading whitespace, so records may be separated by any run of
    whitespace and the text may start with some, but whitespace at the end leaves a record
    with no digits (``EINVAL``); so does any other separator. Later records for the same
    index win; indices not named keep their value; an empty text changes nothing. On an
    error, the records before it have already been applied to ``table`` (the caller
    discards it)."""
    n = len(text)
    pos = 0
    while pos < n:
        idx, end = c_strtol(text, pos, 10)
        if end == pos:
            return EINVAL
        if not 0 <= idx < ENA_RX_RSS_TABLE_SIZE:
            return ERANGE
        pos = end
        if pos >= n or text[pos] != ord(":"):
            return EINVAL
        pos += 1
        value, end = c_strtol(text, pos, 10)
        if end == pos:
            return EINVAL
        if not 0 <= value < num_queues:
            return ERANGE
        table[idx] = value
        pos = end
    return 0


def format_indir(table: np.ndarray) -> str:
    """``ena_rss_copy_indir_buf``: ``"0:q0 1:q1 ... 127:q127"``.

    Each record (with its leading space) is cut to 8 characters, as the C's ``snprintf``
    bound does (only a queue number of 1000 or more would be), and each ``uint32_t`` entry
    is printed with ``%d``:
    https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_rss.h#L93
    """
    out = []
    for i, q in enumerate(table.tolist()):
        v = int(q) & 0xFFFFFFFF
        if v >= 1 << 31:
            v -= 1 << 32
        out.append(f"{' ' if i else ''}{i}:{v}"[:ENA_RX_RSS_MSG_RECORD_SZ])
    return "".join(out)
