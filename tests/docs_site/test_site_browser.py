"""Every page of the built site, opened in headless Chromium as a reader would: no console
error, no failed request (any host but localhost is unresolvable, so a CDN request fails
here), every Mermaid diagram drawn as an SVG without a syntax error, every image decoded,
every link inside the page going to a served page or file and an anchor that exists, and
no Markdown left unrendered (fences, tables, ``<details>`` bodies)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from site_pages import expected_diagrams, page_urls

#: Seconds a page may take to draw its diagrams.
RENDER_TIMEOUT = 30.0

INSPECT = r"""
const article = document.querySelector("article") || document.body;
const diagrams = [...document.querySelectorAll("div.mermaid")].map((host) => {
  const root = host.shadowRoot;
  const svg = root && root.querySelector("svg");
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {svg: !!svg, width: box.width, height: box.height,
          text: root ? root.textContent : ""};
});
const raw = [];
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (n.parentElement.closest("pre, code, .mermaid")) continue;
  const t = n.textContent;
  if (t.includes("```") || /^\s*\|\s*:?-{3}/m.test(t) || /<\/?(details|summary)\b/.test(t)) {
    raw.push(t.trim().slice(0, 100));
  }
}
return {
  diagrams: diagrams,
  unrendered: document.querySelectorAll("pre.mermaid").length,
  images: [...document.images].map((i) => ({src: i.currentSrc || i.src,
                                             ok: i.complete && i.naturalWidth > 0})),
  links: [...article.querySelectorAll("a[href]")].map((a) => a.href),
  ids: [...document.querySelectorAll("[id]")].map((e) => e.id),
  raw: raw,
  syntaxError: /Syntax error/i.test(document.body.innerText),
};
"""


@dataclass
class Visit:
    """What one page load showed: the page's own report plus the logs Chromium kept."""

    report: dict[str, Any]
    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _network_failures(entries: list[dict[str, Any]]) -> list[str]:
    """Failed loads and HTTP errors from Chromium's performance log (DevTools events)."""
    urls: dict[str, str] = {}
    failed = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.responseReceived":
            status = params["response"]["status"]
            if status >= 400:
                failed.append(f"HTTP {status} {params['response']['url']}")
        elif method == "Network.loadingFailed":
            url = urls.get(params["requestId"], params["requestId"])
            failed.append(f"{params.get('errorText')} {url}")
    return failed


def _visit(browser: Any, url: str, diagrams: int) -> Visit:
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(url)
    deadline = time.monotonic() + RENDER_TIMEOUT
    while True:
        report = browser.execute_script(INSPECT)
        drawn = sum(d["svg"] for d in report["diagrams"])
        if (drawn >= diagrams and not report["unrendered"]) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    console = [f"{e['level']}: {e['message']}" for e in browser.get_log("browser")
               if e["level"] == "SEVERE"]
    return Visit(report, console, _network_failures(browser.get_log("performance")))


def _html_ids(html: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html.read_text(encoding="utf-8")))


def _link_problems(links: list[str], base: str, site_dir: Path, here: str,
                   ids: set[str]) -> list[str]:
    """Links to this site that miss: no such page or file, or no such anchor there."""
    problems = []
    for link in links:
        parts = urlsplit(link)
        if f"{parts.scheme}://{parts.netloc}" != base:
            continue
        target = site_dir / unquote(parts.path).lstrip("/")
        html = target / "index.html" if parts.path.endswith("/") else target
        if not html.is_file():
            problems.append(f"{link}: no such page or file")
            continue
        anchor = unquote(parts.fragment)
        if anchor:
            known = ids if parts.path == here else _html_ids(html)
            if anchor not in known:
                problems.append(f"{link}: no anchor #{anchor}")
    return problems


@pytest.mark.parametrize("page", sorted(page_urls()))
def test_page_renders_in_chromium(page: str, browser: Any, site_url: str,
                                  site_dir: Path) -> None:
    path = page_urls()[page]
    expected = expected_diagrams(page)
    html = (site_dir / path.lstrip("/") / "index.html").read_text(encoding="utf-8")
    assert html.count('<pre class="mermaid">') == expected, "mermaid fences not kept as diagrams"

    visit = _visit(browser, site_url + path, expected)
    report = visit.report
    problems = [f"console {m}" for m in visit.console]
    problems += [f"request failed: {f}" for f in visit.failed]
    if report["unrendered"]:
        problems.append(f"{report['unrendered']} Mermaid block(s) not rendered")
    if len(report["diagrams"]) != expected:
        problems.append(f"{len(report['diagrams'])} diagrams drawn, {expected} in the source")
    for i, d in enumerate(report["diagrams"]):
        if not d["svg"] or d["width"] <= 0 or d["height"] <= 0:
            problems.append(f"diagram {i}: no visible SVG ({d})")
        if "Syntax error" in d["text"]:
            problems.append(f"diagram {i}: Mermaid syntax error")
    if report["syntaxError"]:
        problems.append("the page shows a Mermaid 'Syntax error'")
    problems += [f"image not loaded: {img['src']}" for img in report["images"] if not img["ok"]]
    problems += [f"unrendered Markdown: {t!r}" for t in report["raw"]]
    problems += _link_problems(report["links"], site_url, site_dir, path, set(report["ids"]))
    assert not problems, f"{page} ({path}):\n  " + "\n  ".join(problems)
