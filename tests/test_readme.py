"""The code blocks of the README and of the guides are tests, so they stay true.

- Python blocks run, page by page, in order, in a fresh folder (one namespace per page).
- A shell block right after the line ``<!-- the tests run this block -->`` runs there too, with
  ``tabsynth`` being this checkout's command line.
- Every other ``tabsynth`` command in a shell block is parsed against the command line: an
  unknown command or option, or a value of the wrong type, fails.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tabsynth.cli import cli

ROOT = Path(__file__).resolve().parents[1]
RUN_MARK = "<!-- the tests run this block -->"
# README and the pages whose examples are runnable as they stand (the evaluation reference quotes
# an adult example; its shell commands are still parsed below)
RUNNABLE = [ROOT / "README.md", ROOT / "docs" / "getting-started.md", *sorted((ROOT / "docs" / "guides").glob("*.md"))]
PARSED = RUNNABLE + sorted(p for p in (ROOT / "docs").glob("*.md")) + [ROOT / "benchmarks" / "README.md"]
FENCE = re.compile(r"(?P<mark><!-- the tests run this block -->\n)?```(?P<lang>[a-z]*)\n(?P<code>.*?)```", re.S)


def blocks(path: Path) -> list[tuple[str, str, bool]]:
    """(language, code, run?) of each fenced block of a Markdown file, in order."""
    return [(m["lang"], m["code"], bool(m["mark"])) for m in FENCE.finditer(path.read_text())]


def tabsynth_commands(code: str) -> list[list[str]]:
    """The arguments of every ``tabsynth ...`` command in a shell block (after ``&&``, continuations joined)."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words and words[0] == "tabsynth":
                commands.append(words[1:])
    return commands


def shell_env() -> dict[str, str]:
    """An environment whose ``tabsynth`` is this checkout's command line."""
    bin_dir = ROOT / "tests" / ".docs-bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "tabsynth"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tabsynth "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_the_pages_have_examples():
    assert all(any(lang == "python" for lang, _, _ in blocks(p)) for p in RUNNABLE if p.name != "README.md")
    assert any(run for p in RUNNABLE for _, _, run in blocks(p))
    assert "README.md" in [p.name for p in RUNNABLE] and len(RUNNABLE) >= 9


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    env = shell_env()
    for lang, code, run in blocks(page):
        if lang == "python":
            exec(compile(code, str(page), "exec"), namespace)
        elif run:
            assert lang == "bash", f"{page.name}: only shell blocks are marked to run"
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"{page.name}: {code}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def command_lines() -> list[tuple[str, list[str]]]:
    out = []
    for page in PARSED:
        for lang, code, _ in blocks(page):
            if lang in ("bash", "sh", "console"):
                out += [(f"{page.relative_to(ROOT)}: tabsynth {shlex.join(args)}", args) for args in tabsynth_commands(code)]
    return out


def test_every_documented_command_parses():
    lines = command_lines()
    assert len(lines) > 40
    bad = []
    for where, args in lines:
        name, rest = args[0], args[1:]
        if name not in cli.commands:
            bad.append(f"{where}: no command {name!r}")
            continue
        command = cli.commands[name]
        try:
            command.make_context(name, list(rest), resilient_parsing=False)
        except click.exceptions.Exit:
            pass
        except click.ClickException as e:
            bad.append(f"{where}: {e.format_message()}")
    assert not bad, "\n".join(bad)


def test_a_wrong_option_is_caught():
    cmd = cli.commands["augment"]
    with pytest.raises(click.ClickException):
        cmd.make_context("augment", ["data.csv", "--ratioo", "0.5"])
    assert tabsynth_commands("tabsynth example -o a.csv && tabsynth augment a.csv \\\n  --seed 0  # note") == [
        ["example", "-o", "a.csv"], ["augment", "a.csv", "--seed", "0"]]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest -q" in readme
    assert '"$PY" -m pytest -q' in ci
    build = "python -m sphinx -W --keep-going -b html docs docs/_build/html"
    assert build in readme and build.replace("python", '"$PY"', 1) in ci
