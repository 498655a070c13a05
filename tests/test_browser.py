"""The built site and an HTML report of ``tabsynth evaluate``, opened in headless Chromium.

Each page must load with no console error, no failed or outside request (the site opens from a
local folder with no network), every image loaded and every chart (SVG) drawn with a size and
marks. Screenshots go to ``docs/_build/screenshots/`` (or ``$TABSYNTH_SCREENSHOTS``).

The browser is the distribution's Chromium (Debian's ``chromium``), driven by playwright: outside
CI the test skips when none is found; in CI (``CI=true``) ``.ci/run`` installs it and a missing
one fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docs_site import ROOT, built_site

# (page, screenshot name, least number of drawn SVG charts, least number of loaded images)
PAGES = [
    ("index.html", "front-page", 0, 0),
    ("getting-started.html", "getting-started", 0, 0),
    ("guides/evaluate.html", "guide-evaluate", 0, 0),
    ("guides/impute.html", "guide-impute", 0, 0),
    ("gallery/index.html", "gallery", 0, 5),
    ("gallery/plot_real_vs_synthetic.html", "gallery-real-vs-synthetic", 0, 2),
    ("gallery/plot_evaluate_report.html", "gallery-evaluate-report", 0, 1),
    ("api.html", "api", 0, 0),
    ("cli.html", "cli", 0, 0),
    ("benchmarks.html", "benchmarks", 0, 3),
]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def need(what: str, why: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: {why}")
    pytest.skip(f"{what} not found: {why}")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("playwright", "pip install -e '.[docs]'")
    exe = chromium()
    if exe is None:
        need("Chromium", "apt-get install chromium (.ci/run does this in CI)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    out = Path(os.environ.get("TABSYNTH_SCREENSHOTS", ROOT / "docs" / "_build" / "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def open_page(browser, url: str):
    """Open ``url``; return the page and the problems seen (console errors, page errors, failed or outside requests)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    def only_local(route):
        if route.request.url.startswith(("file:", "data:", "about:", "blob:")):
            route.continue_()
        else:
            problems.append(f"outside request: {route.request.url}")
            route.abort()

    page.route("**/*", only_local)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)
    return page, problems


DRAWN = """() => {
  const out = [];
  const docs = [document, ...Array.from(document.querySelectorAll('iframe')).map(f => f.contentDocument).filter(Boolean)];
  for (const doc of docs) {
    for (const svg of doc.querySelectorAll('svg')) {
      if (svg.parentElement && svg.parentElement.closest('svg')) continue;   // nested svg: counted with its parent
      if (svg.getClientRects().length === 0 || svg.querySelector('symbol')) continue;  // icon sprites, not shown
      const box = svg.getBoundingClientRect();
      const marks = svg.querySelectorAll('rect, path, line, circle, polyline, polygon, text').length;
      const icon = svg.closest('.icon, .theme-toggle, button, a, label, .sidebar-container, header, footer, nav');
      out.push({w: box.width, h: box.height, marks: marks, icon: !!icon});
    }
  }
  return out;
}"""

IMAGES = """() => Array.from(document.images).map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))"""


def check_page(page, problems: list[str], name: str, min_charts: int, min_images: int) -> None:
    charts = [c for c in page.evaluate(DRAWN) if not c["icon"]]
    blank = [c for c in charts if c["w"] < 20 or c["h"] < 20 or c["marks"] == 0]
    images = page.evaluate(IMAGES)
    broken = [i["src"] for i in images if not i["ok"]]
    assert not problems, f"{name}: {problems}"
    assert not blank, f"{name}: charts not drawn: {blank}"
    assert len(charts) >= min_charts, f"{name}: {len(charts)} charts, expected at least {min_charts}"
    assert not broken, f"{name}: images not loaded: {broken}"
    assert len(images) >= min_images, f"{name}: {len(images)} images, expected at least {min_images}"


@pytest.mark.parametrize("path,name,min_charts,min_images", PAGES, ids=[p[1] for p in PAGES])
def test_site_page_renders(browser, shots, path, name, min_charts, min_images):
    html = built_site()
    page, problems = open_page(browser, (html / path).as_uri())
    try:
        assert page.title(), f"{path}: no title"
        check_page(page, problems, path, min_charts, min_images)
        page.screenshot(path=str(shots / f"{name}.png"))
    finally:
        page.close()


def test_gallery_report_frame_draws_its_charts(browser):
    html = built_site()
    page, problems = open_page(browser, (html / "gallery" / "plot_evaluate_report.html").as_uri())
    try:
        frame = page.locator("iframe.tabsynth-report")
        assert frame.count() == 1
        charts = [c for c in page.evaluate(DRAWN) if not c["icon"]]
        assert len(charts) >= 5 and all(c["marks"] > 0 for c in charts), charts
        assert not problems, problems
    finally:
        page.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """An HTML report written by the command line on the bundled example table."""
    d = tmp_path_factory.mktemp("report")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def run(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "tabsynth", *args], cwd=d, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    run("example", "-o", "example.csv")
    run("augment", "example.csv", "--synthetic-only", "--seed", "0", "--quiet", "-o", "synthetic.csv")
    run("evaluate", "--real", "example.csv", "--synthetic", "synthetic.csv", "--target", "sex", "--quiet",
        "--report", "report.html")
    return d / "report.html"


def test_evaluate_report_renders(browser, shots, report):
    page, problems = open_page(browser, report.as_uri())
    try:
        check_page(page, problems, "report.html", 10, 0)
        text = page.inner_text("body")
        for section in ("fidelity", "utility", "detection", "privacy"):
            assert section in text.lower(), section
        page.screenshot(path=str(shots / "evaluate-report.png"))
        page.screenshot(path=str(shots / "evaluate-report-full.png"), full_page=True)
    finally:
        page.close()


def test_database_report_renders(browser, shots, tmp_path):
    """The report of ``tabsynth evaluate --real DIR --synthetic DIR``: a children-per-parent chart per relation."""
    rng = np.random.default_rng(0)
    for name in ("real", "synthetic"):
        (tmp_path / name).mkdir()
        parents = pd.DataFrame({"School": np.arange(100, 130), "size": rng.integers(200, 900, 30)})
        children = pd.DataFrame({"School": rng.choice(parents["School"], 300), "score": rng.normal(12, 6, 300).round(1)})
        parents.to_csv(tmp_path / name / "schools.csv", index=False)
        children.to_csv(tmp_path / name / "students.csv", index=False)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "tabsynth", "evaluate", "--real", "real", "--synthetic", "synthetic",
                           "--quiet", "--report", "db.html"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page, problems = open_page(browser, (tmp_path / "db.html").as_uri())
    try:
        check_page(page, problems, "db.html", 1, 0)
        page.screenshot(path=str(shots / "evaluate-database-report.png"))
    finally:
        page.close()


def test_a_broken_chart_is_caught(browser, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><head><title>t</title></head><body><svg width='300' height='200'></svg>"
                   "<img src='missing.png'><script>console.error('boom')</script>"
                   "<link rel='stylesheet' href='https://fonts.example/x.css'></body></html>")
    page, problems = open_page(browser, bad.as_uri())
    try:
        with pytest.raises(AssertionError) as e:
            check_page(page, problems, "bad.html", 1, 0)
        assert "boom" in str(e.value) and "outside request" in str(e.value)
        charts = page.evaluate(DRAWN)
        assert charts and charts[0]["marks"] == 0
        assert [i["ok"] for i in page.evaluate(IMAGES)] == [False]
    finally:
        page.close()
