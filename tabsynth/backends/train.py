"""The one training loop of the neural backends, and their seeding.

Global random state is never touched for good: :func:`seeded` forks torch's
global RNG, seeds it from the caller's numpy generator (so module
initialisation is reproducible) and restores it on exit; all sampling inside
uses the explicit ``torch.Generator`` it yields. Everything runs on the CPU.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import torch

from .._threads import AdaptiveThreads, get_threads
from .base import Progress

#: step(batch_indices) -> {loss name: value}
Step = Callable[[torch.Tensor], dict[str, float]]


@contextmanager
def seeded(rng: np.random.Generator) -> Iterator[torch.Generator]:
    """Run a block with torch's global RNG seeded from ``rng`` (restored afterwards).

    Yields a CPU ``torch.Generator`` seeded from ``rng`` for explicit draws.
    """

    seed = int(rng.integers(0, 2**62))
    threads = torch.get_num_threads()
    torch.set_num_threads(get_threads())  # sampling: one thread unless asked; training adapts (train_loop)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator()
        gen.manual_seed(seed + 1)
        try:
            yield gen
        finally:
            torch.set_num_threads(threads)


#: small tables: batches shrink so that an epoch has at least this many steps ...
MIN_STEPS_PER_EPOCH = 8
#: ... but hold at least this many rows
MIN_BATCH = 32


def batch_rows(n_rows: int, batch_size: int) -> int:
    """Rows per optimiser step: ``batch_size`` at most, smaller on small tables.

    With a few hundred rows a batch of 500 is the whole table, so 300 epochs
    are 300 steps, far too few for a GAN (column shapes 0.42 on
    breast_cancer's 455 rows) and few for a VAE. Batches of ``n / 8`` rows (at
    least 32) give eight steps per epoch (0.82-0.85 for the GAN, 0.94-0.95 for
    the VAE; benchmarks/README.md).
    """
    return int(max(1, min(int(batch_size), max(MIN_BATCH, math.ceil(n_rows / MIN_STEPS_PER_EPOCH)))))


def rows_per_batch(n_rows: int, batch_size: int) -> int:
    """The rows of each step of :func:`train_loop` (:func:`batch_rows`, at most the table)."""
    return max(1, min(batch_rows(n_rows, batch_size), n_rows))


#: ``epochs="auto"`` never asks for more epochs than this (tables of a few dozen rows)
MAX_AUTO_EPOCHS = 500


def auto_epochs(n_rows: int, batch_size: int, steps: int, lo: int = 1, hi: int = MAX_AUTO_EPOCHS) -> int:
    """Epochs giving about ``steps`` optimiser steps of :func:`batch_rows` rows, within ``[lo, hi]``.

    Tables of 256 rows or more have at least eight steps per epoch, so with the default step
    budgets (3,000 and 4,000) they get every step; the cap only binds on smaller tables. (A
    300-epoch cap left a 4,000-row table's GAN with 2,400 steps, undertrained: benchmarks/README.md.)
    """
    per_epoch = max(1, math.ceil(n_rows / batch_rows(n_rows, batch_size)))
    return int(min(hi, max(lo, math.ceil(steps / per_epoch))))


def epochs_for(epochs: int | str, n_rows: int, batch_size: int, steps: int) -> int:
    """A backend's ``epochs`` parameter as a number: ``"auto"`` gives about ``steps`` optimiser steps
    (:func:`auto_epochs`); a number (validated by ``check_params`` before) is taken as it is."""
    return auto_epochs(n_rows, batch_size, steps) if epochs == "auto" else int(epochs)


def train_loop(
    step: Step,
    n_rows: int,
    *,
    epochs: int,
    batch_size: int,
    gen: torch.Generator,
    progress: Progress | None = None,
    stage: str = "training",
) -> list[dict[str, float]]:
    """Shuffle, batch, call ``step`` on each batch, report progress each epoch.

    Torch's threads follow :class:`tabsynth._threads.AdaptiveThreads`: the count set by
    the user, else the cores other processes leave idle, re-measured as training runs
    (the steps' results do not depend on it).

    Returns the per-epoch mean of each loss ``step`` reports (the loss history), and the epoch's number
    of batches under ``"steps"``.
    """

    global last_thread_counts
    bs = rows_per_batch(n_rows, batch_size)
    n_batches = math.ceil(n_rows / bs)
    history: list[dict[str, float]] = []
    threads = AdaptiveThreads()
    threads.start()
    for epoch in range(epochs):
        perm = torch.randperm(n_rows, generator=gen)
        sums: dict[str, float] = {}
        for b in range(n_batches):
            idx = perm[b * bs : (b + 1) * bs]
            if len(idx) < 2:  # a lone leftover row would make a degenerate batch
                continue
            for k, v in step(idx).items():
                sums[k] = sums.get(k, 0.0) + v
            threads.check()
        history.append({**{k: v / n_batches for k, v in sums.items()}, "steps": float(n_batches)})
        if progress is not None:
            progress(stage, epoch + 1, epochs)
    last_thread_counts = threads.counts
    return history


#: the thread counts the last :func:`train_loop` used, in order (a diagnostic for benchmarks/busy.py)
last_thread_counts: list[int] = []
