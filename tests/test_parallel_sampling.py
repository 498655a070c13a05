"""Work on several threads (sampling blocks, trees fits): the same rows and models whatever the count."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

import tabsynth
from tabsynth import Synthesizer, _threads
from tabsynth import synthesizer as synth_mod


@pytest.fixture(autouse=True)
def _no_thread_setting(monkeypatch):
    monkeypatch.delenv("TABSYNTH_THREADS", raising=False)
    tabsynth.set_threads(None)
    yield
    tabsynth.set_threads(None)


@pytest.mark.parametrize("threads", [None, 1, 2, 3])
def test_ordered_map_keeps_order_and_uses_threads(threads):
    tabsynth.set_threads(threads)
    seen = set()

    def slow_square(x):
        seen.add(threading.current_thread().name)
        rng = np.random.default_rng(x)
        return x * x, float(rng.random())

    out = list(_threads.ordered_map(slow_square, range(40)))
    assert out == [slow_square(x) for x in range(40)]
    if threads and threads > 1:
        assert any(name.startswith("tabsynth") for name in seen)


def test_ordered_map_raises_the_items_error_and_stops_early():
    tabsynth.set_threads(2)

    def fail_at_3(x):
        if x == 3:
            raise ValueError("item 3")
        return x

    with pytest.raises(ValueError, match="item 3"):
        list(_threads.ordered_map(fail_at_3, range(10)))
    calls = []
    gen = _threads.ordered_map(lambda x: calls.append(x) or x, range(10_000))
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()  # the consumer stops: pending work is cancelled, not run to the end
    assert len(calls) < 100


def test_limited_across_threads_restores_the_pools():
    def blas() -> list[int]:  # BLAS pools are process-wide (OpenMP's count is per thread)
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas()
    tabsynth.set_threads(1)
    first_in, first_out = threading.Event(), threading.Event()
    seen = []

    def first():
        with _threads.limited():
            first_in.set()
            seen.append((_threads._depth, _threads._restore is not None))
        first_out.set()

    def second():
        first_in.wait()
        with _threads.limited():
            first_out.wait()  # the first thread has left: the limit is still held for this one
            seen.append((_threads._depth, _threads._restore is not None))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0][1] and seen[1] == (1, True)  # held by one block, not yet restored
    assert _threads._depth == 0 and _threads._restore is None
    assert blas() == before  # the last to leave restored the pools


@pytest.mark.parametrize("backend", ["trees", "gmm"])
def test_blocks_on_threads_give_the_same_rows(monkeypatch, backend):
    monkeypatch.setattr(synth_mod, "SAMPLE_BLOCK", 500)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=400), "c": rng.choice(list("abc"), 400),
                       "k": rng.integers(0, 5, 400)})
    syn = Synthesizer(backend=backend, random_state=0).fit(df)
    frames = {}
    for threads in (1, 2, 3, None):
        tabsynth.set_threads(threads)
        frames[threads] = pd.concat(list(syn.sample_batches(3_100, batch_size=700, seed=5)), ignore_index=True)
    assert len(frames[1]) == 3_100
    for threads in (2, 3, None):
        pd.testing.assert_frame_equal(frames[threads], frames[1])
    tabsynth.set_threads(2)
    pd.testing.assert_frame_equal(syn.sample(3_100, seed=5), frames[1])
    part = syn.sample(1_200, seed=5, start=900)
    pd.testing.assert_frame_equal(part, frames[1].iloc[900:2_100].reset_index(drop=True))


def test_trees_fit_on_threads_gives_the_same_model():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=600), "c": rng.choice(list("abcd"), 600), "k": rng.integers(0, 9, 600)})
    df["y"] = df["x"] * 2 + (df["c"] == "a")
    states = []
    for threads in (1, 2, None):
        tabsynth.set_threads(threads)
        backend = Synthesizer(random_state=3).fit(df).backend_
        states.append(backend.get_state()[1])
    for other in states[1:]:
        assert other.keys() == states[0].keys()
        assert all(np.array_equal(other[k], states[0][k]) for k in states[0])


def test_database_child_blocks_on_threads_give_the_same_tables(monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_database import shop

    from tabsynth import DatabaseSynthesizer
    from tabsynth import database as database_mod

    monkeypatch.setattr(database_mod, "BLOCK_ROWS", 100)  # the orders come in about ten blocks
    db = DatabaseSynthesizer(random_state=0).fit(shop())
    outs = []
    for threads in (1, 2, None):
        tabsynth.set_threads(threads)
        outs.append(db.sample(seed=4))
    for other in outs[1:]:
        for name, table in outs[0].items():
            pd.testing.assert_frame_equal(other[name], table)


def test_neural_training_on_one_thread_or_two_gives_the_same_model():
    """A VAE's weight gradients sum over the batch: MKL's strict mode keeps those sums the same on any count.

    Without it (``MKL_CBWR`` empty) this table's VAE differs in the last bits between one thread and two,
    so training on the idle cores is only allowed where :func:`torch_invariant` holds.
    """
    import torch

    rng = np.random.default_rng(0)
    g = rng.random(1200) < 0.5
    df = pd.DataFrame({"g": np.where(g, "up", "down"), "x": np.where(g, 5.0, -5.0) + rng.normal(size=1200),
                       "y": rng.normal(size=1200)})
    if not torch.backends.mkl.is_available():
        pytest.skip("torch without MKL: training keeps a fixed thread count")
    assert _threads.torch_invariant()
    nets = []
    for threads in (1, 2):
        tabsynth.set_threads(threads)
        syn = Synthesizer("vae", random_state=0, epochs=10, hidden=[32, 32], batch_size=100,
                          latent_dim=8).fit(df)
        nets.append(syn.backend_.encoder_.state_dict())
    assert all(torch.equal(nets[0][k], nets[1][k]) for k in nets[0])


def test_training_keeps_the_set_count_where_torch_may_differ_by_thread():
    """torch multiplied matrices before tabsynth was imported: MKL's mode is fixed, so no adaptive count."""
    import subprocess
    import sys

    code = ("import torch; torch.randn(9, 9) @ torch.randn(9, 9)\n"
            "from tabsynth import _threads\n"
            "t = _threads.AdaptiveThreads()\n"
            "print(_threads.torch_invariant(), t.fixed, t.start())\n")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("MKL_CBWR", "TABSYNTH_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["False", "1", "1"]
