"""Citations stand alone: a clone of this repository has everything it cites.

Every upstream permalink in the code and the docs is pinned to a commit and names a symbol
of :mod:`model.sources`, so a line number fixed there is fixed everywhere; nothing points at
files outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from model import sources

ROOT = Path(__file__).resolve().parents[2]
PERMALINK = re.compile(
    r"https://github\.com/(?:luigirizzo/netmap|amzn/amzn-drivers)/blob/([0-9a-f]+)/([\w./-]+)#L(\d+)")


def tracked_text_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    return [ROOT / f for f in out if f.endswith((".py", ".md", ".toml", ".yml", ".txt"))]


def test_every_upstream_permalink_is_a_named_symbol() -> None:
    known = {(s.commit, s.path, s.line) for s in sources.SYMBOLS.values()}
    found = 0
    for path in tracked_text_files():
        for m in PERMALINK.finditer(path.read_text(encoding="utf-8")):
            found += 1
            commit, file, line = m.group(1), m.group(2), int(m.group(3))
            assert (commit, file, line) in known, f"{path.relative_to(ROOT)}: {m.group(0)}"
    assert found >= 20, "the model and impl docstrings cite upstream by permalink"


def test_nothing_cites_files_outside_the_repository() -> None:
    outside = re.compile(r"shared/(reference|seeds|DESIGN)|reference/(netmap|ena|formal)|"
                         r"reference §|\.\./shared")
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in tracked_text_files() if p.name != "test_sources.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert not offenders, offenders


def test_symbols_are_pinned_to_full_commits() -> None:
    for name, sym in sources.SYMBOLS.items():
        assert re.fullmatch(r"[0-9a-f]{40}", sym.commit), name
        assert sym.url.startswith(f"{sym.repo}/blob/{sym.commit}/"), name
        assert sym.repo in (sources.NETMAP_REPO, sources.ENA_REPO), name
