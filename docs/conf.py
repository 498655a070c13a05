"""Sphinx configuration of tabsynth's documentation site.

Build (warnings are errors; tests/test_docs_site.py checks the internal links of the result):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery (examples/*.py) runs at build time; a failing example fails the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the checkout being built, not an installed copy

# the gallery runs on the builder's cores; keep the examples' native thread pools small
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from tabsynth import __version__  # noqa: E402

project = "tabsynth"
author = "the tabsynth authors"
copyright = "the tabsynth authors"  # noqa: A001
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_screenshots", "Thumbs.db", ".DS_Store", "gallery/*.ipynb", "gallery/*.py",
                    "gallery/*.zip", "gallery/*.json", "gallery/*.md5", "gallery/*.codeobj.json"]
# benchmarks/README.md (included whole) goes from "##" to "####" in places; its headings stay as written
suppress_warnings = ["myst.header"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: numpydoc formats the docstrings; no network (intersphinx off by default, see below)
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
intersphinx_mapping: dict = {}

# the gallery: examples/*.py, executed at build time; any failure fails the build
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    # the execution-times page loads jQuery and DataTables from CDNs: the site must open with no network
    "write_computation_times": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "furo"
html_title = f"tabsynth {release}"
html_static_path = ["_static"]
html_css_files = ["tabsynth.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {"navigation_with_keys": True}


def _escape_bars(app, ctx, lines):
    """Click help text is plain text: a ``|`` (``refine|mean|sample``) is not an RST substitution."""
    for i, line in enumerate(lines):
        if line.lstrip().startswith(".. "):
            continue
        body = line.lstrip()
        bar = "| " if body.startswith("| ") else ""  # click's \\b paragraphs become RST line blocks
        rest = body[len(bar):].replace("\\|", "|").replace("|", "\\|")
        lines[i] = line[: len(line) - len(body)] + bar + rest


def setup(app):
    for event in ("description", "options", "arguments", "epilog"):
        app.connect(f"sphinx-click-process-{event}", _escape_bars)
