"""The generated pages as the site tests see them (names, site paths, headings, diagrams),
and how a site test reacts to a missing tool."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REQUIRED = os.environ.get("RINGSPEC_REQUIRE_BROWSER") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip for a missing tool, or fail when CI requires the site tests to run."""
    if REQUIRED:
        pytest.fail(f"{reason} (RINGSPEC_REQUIRE_BROWSER=1: the site tests must run)")
    pytest.skip(reason)


def page_urls() -> dict[str, str]:
    """Every generated page (docs/*.md) -> its path on the site (directory URLs)."""
    return {p.name: "/" if p.stem == "index" else f"/{p.stem}/" for p in sorted(DOCS.glob("*.md"))}


def source(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def expected_diagrams(page: str) -> int:
    """How many Mermaid fences the page's Markdown has."""
    return source(page).count("```mermaid\n")


def headings(page: str) -> list[str]:
    """The ATX headings of the page, outside fenced code, in order."""
    out, fenced = [], False
    for line in source(page).splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+?)\s*#*$", line)):
            out.append(m.group(1))
    return out
