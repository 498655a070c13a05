"""Jobs spread over this process and helper processes (tabsynth._spread), and evaluate on top of it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from tabsynth import set_threads
from tabsynth._spread import spread
from tabsynth.evaluate import evaluate


def _where(x: int, parent: int, pause: float = 0.2, ballast: object = None) -> tuple[int, bool]:
    time.sleep(pause)
    return x * x, os.getpid() != parent


def _dies_in_a_helper(x: int, parent: int) -> int:
    time.sleep(0.2)
    if os.getpid() != parent:
        os._exit(3)
    return x


def _fails(x: int) -> int:
    raise ValueError(f"job {x} failed")


@pytest.fixture
def two_threads():
    set_threads(2)
    yield
    set_threads(None)


def test_results_come_in_the_jobs_order_from_this_process_and_a_helper(two_threads):
    parent = os.getpid()
    out = spread([(_where, (i, parent)) for i in range(6)])
    assert [r[0] for r in out] == [i * i for i in range(6)]
    assert any(r[1] for r in out) and not all(r[1] for r in out)  # both processes took jobs


def test_one_thread_runs_every_job_here():
    set_threads(1)
    try:
        parent = os.getpid()
        out = spread([(_where, (i, parent, 0.0)) for i in range(3)])
    finally:
        set_threads(None)
    assert out == [(0, False), (1, False), (4, False)]


def test_a_job_error_is_raised_in_the_caller(two_threads):
    with pytest.raises(ValueError, match="job 1 failed"):
        spread([(_where, (0, os.getpid())), (_fails, (1,)), (_where, (2, os.getpid()))])


def test_a_dead_helper_has_its_job_run_here(two_threads):
    parent = os.getpid()
    assert spread([(_dies_in_a_helper, (i, parent)) for i in range(4)]) == [0, 1, 2, 3]


def test_jobs_with_big_arguments_stay_in_this_process(two_threads, monkeypatch):
    import tabsynth._spread as spread_module

    monkeypatch.setattr(spread_module, "HELPER_MAX_BYTES", 100)
    parent = os.getpid()
    out = spread([(_where, (i, parent, 0.2, np.zeros(20))) for i in range(4)])
    assert [r[0] for r in out] == [0, 1, 4, 9]
    assert not any(r[1] for r in out)  # 160 bytes of arguments each: never sent to a helper


def test_no_helper_process_means_every_job_here(two_threads, monkeypatch):
    import tabsynth._spread as spread_module

    def refuse(**_):
        raise OSError("no subprocesses here")

    monkeypatch.setattr(spread_module, "get_reusable_executor", refuse)
    parent = os.getpid()
    out = spread([(_where, (i, parent, 0.0)) for i in range(3)])
    assert out == [(0, False), (1, False), (4, False)]
    assert spread_module.start(("math",)) == 1


def test_progress_counts_every_finished_job(two_threads):
    seen: list[int] = []
    spread([(_where, (i, os.getpid(), 0.05)) for i in range(5)], done=seen.append)
    assert seen == [1, 2, 3, 4, 5]


def _strip_seconds(obj):
    if isinstance(obj, dict):
        return {k: _strip_seconds(v) for k, v in obj.items() if k not in ("seconds", "section_seconds")}
    if isinstance(obj, list):
        return [_strip_seconds(v) for v in obj]
    return obj


def test_evaluate_gives_the_same_result_on_one_process_and_two(monkeypatch):
    import tabsynth.evaluate._core as core

    monkeypatch.setattr(core, "SPREAD_MIN_SECONDS", 0.0)  # this small table would otherwise stay in one process
    widths: list[int] = []
    real_start = core.start
    monkeypatch.setattr(core, "start", lambda *a, **k: widths.append(real_start(*a, **k)) or widths[-1])
    rng = np.random.default_rng(0)
    n = 600
    real = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n), "z": rng.integers(0, 9, n)})
    real["y"] = np.where(real["x"] + (real["c"] == "a") + rng.normal(scale=0.5, size=n) > 0.3, "yes", "no")
    syn = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    syn["x"] = syn["x"] + rng.normal(scale=0.3, size=n)
    results = []
    for threads in (1, 2):
        set_threads(threads)
        try:
            results.append(evaluate(real, syn, target="y", seeds=(0, 1)))
        finally:
            set_threads(None)
    assert widths == [1, 2]  # one process, then this one and a helper
    assert _strip_seconds(results[0]) == _strip_seconds(results[1])
    assert set(results[1]["meta"]["section_seconds"]) == set(results[1]["meta"]["sections"])


def test_a_script_without_a_main_guard_runs_its_body_once(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import math
        from tabsynth import set_threads
        from tabsynth._spread import spread
        print("body")
        set_threads(2)
        print(spread([(math.sqrt, (float(i),)) for i in (1, 4, 9, 16)]))
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["body", "[1.0, 2.0, 3.0, 4.0]"]
