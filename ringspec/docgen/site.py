"""The docs as a static site: MkDocs hooks (``hooks:`` in mkdocs.yml) for ``mkdocs build``.

``docs/*.md`` are written for GitHub first; these hooks make the same files build into a
Material for MkDocs site without a second copy of anything:

- the navigation is :data:`ringspec.docgen.common.PAGES`, the page list every page's own
  navigation line is printed from, so a page added to ``ringspec docs`` is in the site too;
- heading ids are GitHub's: :func:`slugify` is :func:`md.slug` (mkdocs.yml sets it for the
  ``toc`` extension) and a repeated heading gets ``-1``, ``-2``, ... as on GitHub instead of
  Python-Markdown's ``_1``, so a link docgen writes resolves on GitHub and on the site alike;
- ``<details>`` blocks get ``markdown="1"`` so the Markdown inside them renders (GitHub
  renders it as is);
- the content column is wider than the theme's, for the wide tables;
- Mermaid diagrams render offline: ``mermaid.min.js`` of a pinned release of the npm package
  ``mermaid`` is fetched once with ``npm pack``, checked against a pinned SHA-256, cached, and
  served from the site itself (Material loads it from a CDN only when none is on the page).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from ringspec.docgen import common, md

MERMAID_VERSION = "11.17.2"
#: SHA-256 of ``package/dist/mermaid.min.js`` in the npm tarball of :data:`MERMAID_VERSION`.
MERMAID_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"
#: Where the site serves it (and the ``extra_javascript`` entry that loads it).
MERMAID_URI = "assets/javascripts/mermaid.min.js"

#: The pages carry wide tables (counterexamples, obligations) and diagrams: use more of a
#: wide screen than the theme's 61rem column.
STYLESHEET_URI = "assets/stylesheets/ringspec.css"
STYLESHEET = ".md-grid { max-width: 90rem; }\n"


class SiteError(RuntimeError):
    """The site cannot be built as configured (e.g. Mermaid cannot be fetched)."""


def nav() -> list[dict[str, str]]:
    """The site's navigation: every generated page, titled and ordered as in PAGES."""
    return [{title: name} for name, title in common.PAGES]


def slugify(value: str, separator: str = "-") -> str:
    """The ``toc`` extension's heading id: GitHub's, as docgen's links use (:func:`md.slug`)."""
    return md.slug(value)


def unique(slug: str, used: set[str], *_: object) -> str:
    """GitHub's id for a repeated heading: the slug, then ``slug-1``, ``slug-2``, ...

    It replaces ``markdown.extensions.toc.unique`` (whose ``_1`` suffixes differ from
    GitHub's); arguments past the first two (a cache in newer Python-Markdown) are unused."""
    candidate, n = slug, 0
    while candidate in used or not candidate:
        n += 1
        candidate = f"{slug}-{n}"
    used.add(candidate)
    return candidate


_DETAILS = re.compile(r"^<details>", re.M)


def markdown_in_details(markdown: str) -> str:
    """Mark every ``<details>`` block for md_in_html, so its body is parsed as Markdown."""
    return _DETAILS.sub('<details markdown="1">', markdown)


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "ringspec"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mermaid_js(cache_dir: Path | None = None) -> Path:
    """The pinned ``mermaid.min.js``: from the cache, else from ``npm pack mermaid@VERSION``
    (npm checks the tarball against the registry's integrity hash; this checks the file
    against :data:`MERMAID_SHA256`).  Raises :class:`SiteError` when it cannot be had."""
    cache_dir = cache_dir or _cache_dir()
    cached = cache_dir / f"mermaid-{MERMAID_VERSION}.min.js"
    if cached.is_file() and _sha256(cached.read_bytes()) == MERMAID_SHA256:
        return cached
    npm = shutil.which("npm")
    if npm is None:
        raise SiteError(
            f"the site serves Mermaid {MERMAID_VERSION} from the npm package 'mermaid', "
            "and npm is not installed (install Node.js and npm, e.g. `apt-get install npm`)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"mermaid@{MERMAID_VERSION}", "--pack-destination", tmp,
             "--silent", "--ignore-scripts"],
            capture_output=True, text=True, check=False,
        )
        tarballs = sorted(Path(tmp).glob("mermaid-*.tgz"))
        if proc.returncode != 0 or not tarballs:
            raise SiteError(f"npm pack mermaid@{MERMAID_VERSION} failed:\n{proc.stderr}")
        with tarfile.open(tarballs[0]) as tar:
            member = tar.extractfile("package/dist/mermaid.min.js")
            data = member.read() if member else b""
    if _sha256(data) != MERMAID_SHA256:
        raise SiteError(
            f"mermaid@{MERMAID_VERSION} dist/mermaid.min.js has SHA-256 {_sha256(data)}, "
            f"expected {MERMAID_SHA256}"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as f:
        f.write(data)
    os.replace(f.name, cached)
    return cached


# --- MkDocs hooks -------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    import markdown.extensions.toc
    from mkdocs.exceptions import PluginError

    if config.nav:
        raise PluginError("mkdocs.yml must not list a nav: it is ringspec.docgen.common.PAGES")
    config.nav = nav()
    markdown.extensions.toc.unique = unique
    if MERMAID_URI not in [str(s) for s in config.extra_javascript]:
        config.extra_javascript.append(MERMAID_URI)
    if STYLESHEET_URI not in config.extra_css:
        config.extra_css.append(STYLESHEET_URI)
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    try:
        source = mermaid_js()
    except SiteError as e:
        raise PluginError(str(e)) from e
    files.append(File.generated(config, MERMAID_URI, abs_src_path=str(source)))
    files.append(File.generated(config, STYLESHEET_URI, content=STYLESHEET))
    return files


def on_page_markdown(markdown: str, **_: Any) -> str:
    return markdown_in_details(markdown)
