"""The static site (mkdocs.yml + the hooks in ringspec.docgen.site): it builds with
``--strict`` (any broken link or anchor is an error), its nav is every generated page, its
heading ids are GitHub's, ``<details>`` bodies render as Markdown, and Mermaid is the pinned
release."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from site_pages import DOCS, headings, page_urls, source, unavailable

from ringspec.docgen import md, site


@pytest.mark.parametrize(
    ("heading", "github_id"),
    [
        # ids github.com gives these headings of docs/ (punctuation dropped, not collapsed)
        ("Legacy drivers checked only cur <= n-1", "legacy-drivers-checked-only-cur--n-1"),
        ("A rejected sync adopts the user's in-range indices",
         "a-rejected-sync-adopts-the-users-in-range-indices"),
        ("`user_read`", "user_read"),
        ("TX: the life of a slot", "tx-the-life-of-a-slot"),
        ('4. tail is read-only ("tail overwritten")', "4-tail-is-read-only-tail-overwritten"),
    ],
)
def test_heading_ids_are_githubs(heading: str, github_id: str) -> None:
    assert site.slugify(heading, "-") == md.slug(heading) == github_id


def test_repeated_headings_are_numbered_like_github() -> None:
    used: set[str] = set()
    ids = [site.unique("who-moves-each-boundary", used, {}) for _ in range(3)]
    assert ids == ["who-moves-each-boundary", "who-moves-each-boundary-1",
                   "who-moves-each-boundary-2"]


def test_nav_is_every_generated_page() -> None:
    names = [name for entry in site.nav() for name in entry.values()]
    assert names[0] == "index.md"
    assert sorted(names) == sorted(p.name for p in DOCS.glob("*.md"))


@pytest.mark.parametrize("page", sorted(page_urls()))
def test_every_heading_has_its_github_id_on_the_site(page: str, site_dir: Path) -> None:
    html = (site_dir / page_urls()[page].lstrip("/") / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    used: set[str] = set()
    expected = [site.unique(md.slug(h), used) for h in headings(page)]
    assert expected, "a generated page without headings"
    assert [i for i in expected if i not in ids] == []


@pytest.mark.parametrize("page", sorted(p for p in page_urls() if "<details>" in source(p)))
def test_details_bodies_render_as_markdown(page: str, site_dir: Path) -> None:
    html = (site_dir / page_urls()[page].lstrip("/") / "index.html").read_text(encoding="utf-8")
    blocks = re.findall(r"<details\b.*?</details>", html, re.S)
    assert len(blocks) == source(page).count("<details>")
    for block in blocks:
        assert "```" not in block and "<summary>" in block
        assert "<pre" in block or "<table" in block


def test_mermaid_is_the_pinned_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("npm") is None:
        unavailable("npm is not installed (it fetches Mermaid for the site)")
    cached = tmp_path / f"mermaid-{site.MERMAID_VERSION}.min.js"
    cached.write_text("tampered")
    path = site.mermaid_js(tmp_path)  # a cached file with the wrong digest is fetched again
    assert path == cached
    assert hashlib.sha256(path.read_bytes()).hexdigest() == site.MERMAID_SHA256
    monkeypatch.setattr(site, "MERMAID_SHA256", "0" * 64)
    with pytest.raises(site.SiteError, match="SHA-256"):
        site.mermaid_js(tmp_path / "fresh")
