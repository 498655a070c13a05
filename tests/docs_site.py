"""Where the built documentation site is, for the tests that check it (not a test module)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("TABSYNTH_DOCS_HTML", ROOT / "docs" / "_build" / "html"))
BUILD = "python -m sphinx -W --keep-going -b html docs docs/_build/html"


def built_site() -> Path:
    """The built site's folder; outside CI a missing build skips, in CI (.ci/run builds it first) it fails."""
    if not (HTML / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no built site at {HTML}: .ci/run builds it with `{BUILD}` before the tests")
        pytest.skip(f"no built site at {HTML}; build it with `{BUILD}`")
    return HTML
