"""The built documentation site: it opens from a local folder with no network, and its internal links resolve."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from docs_site import built_site

EXTERNAL = re.compile(r"^(https?:)?//", re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


class Page(HTMLParser):
    """The ids, links and loaded resources (scripts, styles, fonts, images, frames) of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "img", "iframe", "source", "embed") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "preload", "icon", "modulepreload", "prefetch", "manifest"}:
            self.loads.append(a["href"])
        if a.get("style"):
            self.loads += CSS_URL.findall(a["style"])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def site_pages(html: Path) -> dict[Path, Page]:
    return {p: parse(p) for p in sorted(html.rglob("*.html")) if "_sources" not in p.parts}


def test_nothing_is_loaded_from_the_network():
    html = built_site()
    bad = []
    for path, page in site_pages(html).items():
        bad += [f"{path.relative_to(html)}: {u}" for u in page.loads if EXTERNAL.match(u)]
    for css in html.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        bad += [f"{css.relative_to(html)}: {u}" for u in CSS_URL.findall(text) if EXTERNAL.match(u.strip())]
        bad += [f"{css.relative_to(html)}: @import {m}" for m in re.findall(r"@import\s+['\"]?(https?:[^'\");]+)", text)]
    for js in html.rglob("*.js"):
        text = js.read_text(encoding="utf-8", errors="replace")
        bad += [f"{js.relative_to(html)}: {m}" for m in re.findall(r"fonts\.googleapis\.com|cdn\.jsdelivr\.net|unpkg\.com"
                                                                     r"|cdnjs\.cloudflare\.com", text)]
    assert not bad, "\n".join(bad[:30])


def test_internal_links_and_anchors_resolve():
    html = built_site()
    pages = site_pages(html)
    assert len(pages) > 20
    bad = []
    for path, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//") or href.startswith("mailto:"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                bad.append(f"{path.relative_to(html)}: {href} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    bad.append(f"{path.relative_to(html)}: {href} (no such anchor)")
    assert not bad, "\n".join(bad[:30])


def test_the_main_pages_are_there():
    html = built_site()
    for page in ["index.html", "getting-started.html", "guides/augment.html", "guides/impute.html",
                 "guides/evaluate.html", "guides/large-data.html", "guides/databases.html", "guides/sequences.html",
                 "api.html", "cli.html", "benchmarks.html", "changelog.html", "data-safety.html", "evaluate.html",
                 "protocols.html", "gallery/index.html", "gallery/plot_real_vs_synthetic.html",
                 "gallery/plot_imputation_vs_peers.html", "gallery/plot_minority_f1.html",
                 "gallery/plot_evaluate_report.html"]:
        assert (html / page).is_file(), page
    api = (html / "api.html").read_text()
    assert "sample_imputations" in api and "fit_resample" in api          # from the docstrings
    cli = (html / "cli.html").read_text()
    assert "--relation" in cli and "--entity" in cli                      # from the click commands
    gallery = (html / "gallery" / "plot_real_vs_synthetic.html").read_text()
    assert "sphx_glr_plot_real_vs_synthetic_001.png" in gallery            # the example ran and drew


def test_the_checks_catch_what_they_look_for(tmp_path):
    (tmp_path / "a.html").write_text('<link rel="stylesheet" href="https://fonts.example/x.css"><a href="b.html#nope">x</a>'
                                     '<script src="//cdn.example/y.js"></script><div id="here"></div>')
    page = parse(tmp_path / "a.html")
    assert [u for u in page.loads if EXTERNAL.match(u)] == ["https://fonts.example/x.css", "//cdn.example/y.js"]
    assert page.links == ["b.html#nope"] and page.ids == {"here"}
