"""The ENA RSS page: what the FreeBSD driver programs for receive-side scaling and what the
device computes, with a worked example, the hash inputs per protocol, CRC32 and the
Microsoft verification vectors, every number computed by the simulated device
(:mod:`impl.device.rss`) when the page is generated.

The frames and the vectors are the tests' own (``tests/support/frames.py``, loaded by path:
one copy of Microsoft's published values); the driver's default indirection table is
ena_rss_init_default's round robin over the IO queues, cited where it is used.
"""

from __future__ import annotations

import importlib.util
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

import ringspec
from impl.device.parse import parse
from impl.device.rss import RssConfig, default_hash_fields, toeplitz, toeplitz_tables
from impl.ena_defs.constants import (
    HASH_KEY_SIZE,
    RX_RSS_TABLE_SIZE,
    FlowHashFields,
    FlowHashProto,
    HashFunction,
    io_rxq_idx,
)
from impl.packets import PacketBatch
from model import sources
from ringspec.docgen import common, md, pictures
from ringspec.docgen.cell_pictures import Cell, Row, draw
from ringspec.docgen.evidence import run_snippet

PAGE = "ena_rss.md"
TITLE = dict(common.PAGES)[PAGE]
TEST = "tests/unit/test_ena_rss.py"
QUEUES = 4  # IO queues of the worked example


@cache
def frames() -> ModuleType:
    """``tests/support/frames.py``: the test frames and Microsoft's vectors."""
    path = Path(ringspec.__file__).resolve().parents[1] / "tests" / "support" / "frames.py"
    spec = importlib.util.spec_from_file_location("ringspec_docs_test_frames", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def driver_table(queues: int) -> np.ndarray:
    """The indirection table ena_rss_init_default fills (without the kernel's ``options
    RSS``): entry i is ENA_IO_RXQ_IDX(i % num_io_queues)."""
    return np.array([io_rxq_idx(i % queues) for i in range(RX_RSS_TABLE_SIZE)])


def configured() -> RssConfig:
    """The simulated device programmed as the driver does: Toeplitz, init value 0, the key
    byte-reversed (ena_rss_set_hash; here Microsoft's verification key), the default hash
    inputs and the default table for :data:`QUEUES` IO queues."""
    rss = RssConfig(hw_key=frames().MS_KEY[::-1])
    rss.table[:] = driver_table(QUEUES)
    return rss


def field_names(mask: int) -> str:
    names = [f.name for f in (FlowHashFields.L2_DA, FlowHashFields.L2_SA, FlowHashFields.L3_SA,
                              FlowHashFields.L3_DA, FlowHashFields.L4_SP, FlowHashFields.L4_DP)
             if mask & f]
    return ", ".join(names) or "none"


def hexbytes(data: np.ndarray, n: int) -> str:
    return " ".join(f"{b:02x}" for b in data[:n].tolist())


@dataclass(frozen=True)
class Hashed:
    """One frame through the device: its hash input, hash, table index and entry."""

    what: str
    data: np.ndarray
    length: int
    hash: int
    index: int
    entry: int

    @property
    def input_hex(self) -> str:
        return hexbytes(self.data, self.length)


def hashed(rss: RssConfig, named: list[tuple[str, bytes]]) -> list[Hashed]:
    p = parse(PacketBatch.from_frames([f for _, f in named]))
    data, lengths = rss.inputs(p)
    hashes = rss.hash(p)
    entries = rss.queue(hashes, default_sq=-1)
    return [Hashed(what, data[i], int(lengths[i]), int(hashes[i]),
                   int(hashes[i]) & (RX_RSS_TABLE_SIZE - 1), int(entries[i]))
            for i, (what, _) in enumerate(named)]


def example_frames() -> list[tuple[str, bytes]]:
    """One frame per kind of hash input (the tests' frame builder)."""
    fr = frames()
    d, dp, s, sp, *_ = fr.MS_IPV4[0]
    d6, dp6, s6, sp6, *_ = fr.MS_IPV6[0]
    non_ip = bytes(range(1, 13)) + b"\x88\xb5" + bytes(50)
    return [
        (f"TCP/IPv4 {s}:{sp} -> {d}:{dp}", fr.frame(s, d, sp, dp)),
        (f"UDP/IPv4 {s}:{sp} -> {d}:{dp}", fr.frame(s, d, sp, dp, proto=17)),
        (f"IPv4 fragment (MF set) {s} -> {d}", fr.frame(s, d, sp, dp, frag=0x2000)),
        (f"TCP/IPv6 [{s6}]:{sp6} -> [{d6}]:{dp6}", fr.frame(s6, d6, sp6, dp6)),
        ("not IP (EtherType 0x88b5)", non_ip),
    ]


SNIPPET = '''import sys; sys.path.insert(0, "tests")  # the tests' frame builder and vectors
import numpy as np
from support.frames import MS_KEY, frame
from impl.device.parse import parse
from impl.device.rss import RssConfig
from impl.ena_defs.constants import io_rxq_idx
from impl.packets import PacketBatch

rss = RssConfig(hw_key=MS_KEY[::-1])  # programmed byte-reversed, as ena_rss_set_hash does
rss.table[:] = [io_rxq_idx(i % {queues}) for i in range(128)]  # ena_rss_init_default
p = parse(PacketBatch.from_frames([frame("{s}", "{d}", {sp}, {dp})]))
h = int(rss.hash(p)[0])
entry = int(rss.queue(np.array([h]), default_sq=-1)[0])
print(f"hash {{h:#010x}}, index {{h & 127}}, entry {{entry}} = RX queue {{(entry - 1) // 2}}")
'''


def snippet() -> str:
    d, dp, s, sp, *_ = frames().MS_IPV4[0]
    return SNIPPET.format(queues=QUEUES, s=s, d=d, sp=sp, dp=dp)


def run(code: str) -> str:
    """Run the snippet with the repository's tests/ importable, whatever the working
    directory."""
    import sys

    tests = str(Path(ringspec.__file__).resolve().parents[1] / "tests")
    sys.path.insert(0, tests)
    try:
        return run_snippet(code)
    finally:
        sys.path.remove(tests)


def rx_queue(entry: int) -> int:
    """The IO queue whose ENA qid (ENA_IO_RXQ_IDX) is ``entry``."""
    return next(q for q in range(QUEUES) if io_rxq_idx(q) == entry)


# ---------------------------------------------------------------------------- sections


def rule_section() -> list[str]:
    link = sources.link
    return [
        "## What the driver programs, what the device computes",
        "On receive the device hashes chosen header fields of every frame; entry "
        f"`hash & {RX_RSS_TABLE_SIZE - 1}` of a {RX_RSS_TABLE_SIZE}-entry indirection table "
        "names the RX queue that gets the frame, and the hash comes back in the RX "
        f"completion, where {link('ena_rx_hash_mbuf')} makes it the mbuf's flow id. "
        f"{link('ena_rss_init_default')} sets up three things at attach and "
        f"{link('ena_rss_configure')} pushes them to the device:",
        "\n".join([
            f"1. **The function and its key.** Toeplitz ({link('enum ena_admin_hash_functions')}"
            f" value {int(HashFunction.TOEPLITZ)}) with initial value 0, through "
            f"{link('ena_com_fill_hash_function')}. The key is {HASH_KEY_SIZE} bytes "
            f"({link('ENA_HASH_KEY_SIZE')}). Without the kernel's `options RSS`, "
            f"{link('ena_com_rss_init')} fills it at random "
            f"({link('ena_com_hash_key_fill_default_key')} calls {link('ena_rss_key_fill')}: "
            "one key per driver load, shared by every adapter). With `options RSS` and the "
            f"kernel's Toeplitz key, {link('ena_rss_set_hash')} programs that key "
            "**byte-reversed**: the device expects the key in reverse byte order.",
            f"2. **The hash input per protocol** ({link('enum ena_admin_flow_hash_proto')}, "
            f"{link('enum ena_admin_flow_hash_fields')}), set by "
            f"{link('ena_com_set_default_hash_ctrl')}: see the table below.",
            f"3. **The indirection table**, {RX_RSS_TABLE_SIZE} entries "
            f"({link('ENA_RX_RSS_TABLE_LOG_SIZE')} = 7). Entry `i` names IO queue "
            f"`i % num_io_queues` ({link('ena_rss_init_default (i % num_io_queues)')}; with "
            "`options RSS`, the kernel's bucket for `i` modulo the queue count), as the "
            f"queue's ENA qid {link('ENA_IO_RXQ_IDX')}`(q) = 2q + 1` "
            f"({link('ena_com_indirect_table_fill_entry')}). "
            f"{link('ena_com_ind_tbl_convert_to_device')} turns each qid into the index the "
            "device gave that RX queue, and "
            f"{link('ena_com_indirect_table_set')} sends the table.",
        ]),
        "ENA's other function is CRC32 (value "
        f"{int(HashFunction.CRC32)}); the FreeBSD driver never selects it, but "
        f"{link('ena_com_fill_hash_function')} accepts any function the device lists as "
        "supported.",
    ]


def example_section() -> list[str]:
    fr = frames()
    d, dp, s, sp, _, want = fr.MS_IPV4[0]
    rss = configured()
    h = hashed(rss, [("", fr.frame(s, d, sp, dp))])[0]
    code = snippet()
    rows = [
        ["frame", f"TCP/IPv4, {s}:{sp} -> {d}:{dp}"],
        ["protocol entry", f"`TCP4` ({int(FlowHashProto.TCP4)}): "
         f"{field_names(int(rss.fields[FlowHashProto.TCP4]))}"],
        [f"hash input ({h.length} bytes)", md.tick(h.input_hex)],
        ["Toeplitz hash", md.tick(f"{h.hash:#010x}")
         + (" (Microsoft's published value)" if h.hash == want else " **(not Microsoft's)**")],
        [f"table index, `hash & {RX_RSS_TABLE_SIZE - 1}`", str(h.index)],
        ["entry (ENA qid)", f"`ENA_IO_RXQ_IDX({h.index} % {QUEUES})` = {h.entry}"],
        ["RX queue", f"**{rx_queue(h.entry)}**"],
    ]
    return [
        "## Worked example",
        f"The device programmed as the driver programs it, for {QUEUES} IO queues, with "
        "Microsoft's verification key as the key the driver is given (so it is written "
        "to the device byte-reversed), and one TCP/IPv4 frame from Microsoft's "
        "vectors; computed by `impl/device/rss.py` when this page was generated:",
        md.table(["step", "value"], rows, "ll"),
        table_figure(rss, h).markdown,
        "The same, as Python to paste at the repository root, and what it printed:",
        md.code(code, "python"),
        md.code(run(code).rstrip("\n")),
    ]


def table_figure(rss: RssConfig, h: Hashed) -> pictures.Figure:
    """The programmed indirection table, 16 entries a row, the example's entry marked."""
    legend = {f"q{q}": (f"RX queue {q} (ENA qid {io_rxq_idx(q)})", colour)
              for q, colour in zip(range(QUEUES), ("#a1d99b", "#c6dbef", "#fdae6b", "#dadaeb"),
                                   strict=True)}
    rows = []
    for r in range(0, RX_RSS_TABLE_SIZE, 16):
        cells = tuple(Cell(f"q{rx_queue(int(rss.table[i]))}", text=str(int(rss.table[i])),
                           top=str(i)) for i in range(r, r + 16))
        marks = (((h.index - r), f"hash & {RX_RSS_TABLE_SIZE - 1}\n= {h.index}"),) \
            if r <= h.index < r + 16 else ()
        rows.append(Row(f"entries {r}-{r + 15}", cells, marks))
    return draw("ena-rss-table", f"The RSS indirection table for {QUEUES} IO queues; the "
                f"example's hash {h.hash:#010x} picks entry {h.index}", rows, legend,
                cell_w=0.9)


def inputs_section() -> list[str]:
    fields = default_hash_fields()
    protos = [p for p in FlowHashProto if p <= FlowHashProto.NOT_IP]
    table = md.table(
        ["protocol entry", "fields hashed (in this order)"],
        [[f"`{p.name}` ({int(p)})", field_names(int(fields[p]))] for p in protos], "ll")
    rss = configured()
    live = hashed(rss, example_frames())
    crc = RssConfig(hw_key=rss.hw_key, function=HashFunction.CRC32, init_val=0xFFFFFFFF)
    crcs = hashed(crc, example_frames())
    rows = [[h.what, md.tick(h.input_hex), md.tick(f"{h.hash:#010x}"),
             md.tick(f"{c.hash:#010x}")] for h, c in zip(live, crcs, strict=True)]
    first = live[0]
    z = zlib.crc32(bytes(first.data[:first.length].tolist())) ^ 0xFFFFFFFF
    return [
        "## The hash input per protocol",
        "The driver's defaults: the 4-tuple for TCP and UDP, the addresses for other IP "
        "and for IPv4 fragments (no ports to read), the MAC addresses for the rest; the "
        "entries for IPv6 with extension headers (`TCP6_EX`, `IP6_EX`) are left unset. "
        "The simulated device feeds the fields in source then destination order "
        "(Microsoft's), for L2 destination then source MAC.",
        table,
        "Each kind of frame through the simulated device, with the key and table of the "
        "worked example; the last column is the same input under CRC32 with initial value "
        "`0xffffffff`:",
        md.table(["frame", "hash input", "Toeplitz", "CRC32"], rows, "llll"),
        "The simulated device's CRC32 is the reflected IEEE CRC (polynomial `0xedb88320`) "
        "with the programmed initial value and no final XOR, so with `0xffffffff` it is "
        "the complement of "
        f"zlib's: for the first frame `zlib.crc32(input) ^ 0xffffffff` = `{z:#010x}`"
        + (" as above" if z == crcs[0].hash else " **(differs)**")
        + f". `{TEST}` checks that on random inputs "
        "(`test_crc32_is_zlib_without_the_final_complement`), and the per-protocol choice "
        "of fields on parsed frames (`test_fragments_hash_addresses_only_and_non_ip_hashes"
        "_l2`, `test_hash_of_parsed_frames_with_the_reversed_driver_key`).",
    ]


def _end(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def vectors_section() -> list[str]:
    fr = frames()
    picked = [fr.MS_IPV4[0], fr.MS_IPV6[0]]
    tables = toeplitz_tables(fr.MS_KEY)
    rows = []
    for d, dp, s, sp, want_a, want_p in picked:
        inputs = [fr.addr(s) + fr.addr(d), fr.addr(s) + fr.addr(d) + struct.pack("!HH", sp, dp)]
        got = toeplitz(tables, np.array([list(x.ljust(36, b"\0")) for x in inputs],
                                        dtype=np.uint8)).tolist()
        for what, want, g in (("addresses", want_a, got[0]), ("with ports", want_p, got[1])):
            rows.append([f"{_end(s, sp)} -> {_end(d, dp)}", what, md.tick(f"{want:#010x}"),
                         md.tick(f"{g:#010x}"), "yes" if g == want else "**no**"])
    return [
        "## Microsoft's verification vectors",
        "Microsoft publishes Toeplitz results for its 40-byte key (\"Verifying the RSS "
        f"Hash Calculation\", Windows driver documentation). `{TEST}` checks all "
        f"{len(fr.VECTORS)} ({len(fr.MS_IPV4)} IPv4, {len(fr.MS_IPV6)} IPv6), with and "
        "without ports, on the hash function alone "
        "(`test_toeplitz_matches_the_microsoft_vectors`) and through the frame parser with "
        "the key programmed byte-reversed "
        "(`test_hash_of_parsed_frames_with_the_reversed_driver_key`). Two of them, computed "
        "when this page was generated:",
        md.table(["flow", "input", "published", "computed", "equal"], rows, "lllll"),
        f"The key: `{fr.MS_KEY.hex()}`.",
    ]


def render() -> str:
    body = [
        "How the FreeBSD ENA driver spreads received frames over its RX queues: what it "
        "programs, what the device computes, and a frame followed from its 5-tuple to its "
        "queue. There is no z3 model of RSS: the numbers are computed by the simulated "
        "device (`impl/device/rss.py`) when the page is generated, and its tests check it "
        "against Microsoft's published vectors.",
        *rule_section(),
        *example_section(),
        *inputs_section(),
        *vectors_section(),
    ]
    return md.page(TITLE, common.nav(PAGE), body)
