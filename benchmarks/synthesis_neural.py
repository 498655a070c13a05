"""The neural backends against SDV's TVAE and CTGAN, including a generated credit table.

``synthesis_adult.py`` with one more table, ``credit``: a generated stand-in
for a credit-card default table (20,000 rows; six monthly bill amounts that
correlate at 0.8-0.95 with each other and with the credit limit, six
repayment statuses that follow one another, payments with a spike at zero,
a binary ``default`` with a minority of about a quarter that depends on the
statuses and on how much of the limit is used; real rows predict it with an
AUC near 0.9). Tables of this shape, strong numeric
correlations and a target tied to them, are where a VAE loses pair trends
and downstream accuracy against TVAE (issue 25, row 3).

Every model runs in its own process, as in ``synthesis_adult.py``; with
``--lock PATH`` each model's fit, sampling and scoring holds the file lock
PATH (``flock``) and the lock is released between models, so a long
comparison does not keep other timing runs waiting for its whole length.

    python benchmarks/synthesis_neural.py --tables credit --models vae,gan
    /tmp/bench/bin/python benchmarks/synthesis_neural.py --tables adult --models vae,gan,sdv-tvae,sdv-ctgan \
        --lock /tmp/tabsynth_bench.lock --out benchmarks/results/synthesis_neural_adult.json
"""

from __future__ import annotations

import fcntl
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthesis_adult as sa  # noqa: E402


def credit_table(n_rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """A generated credit-card default table with strong numeric correlations (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    sex = rng.choice(["female", "male"], n, p=[0.6, 0.4])
    education = rng.choice(["graduate school", "university", "high school", "other"], n, p=[0.35, 0.47, 0.16, 0.02])
    marriage = rng.choice(["married", "single", "other"], n, p=[0.45, 0.53, 0.02])
    age = np.clip(np.round(22 + rng.gamma(3.0, 4.5, n) + (marriage == "married") * 5), 21, 79).astype(int)
    edu_boost = pd.Series(education).map({"graduate school": 0.4, "university": 0.1, "high school": -0.2,
                                          "other": 0.0}).to_numpy()
    log_limit = 11.4 + 0.8 * rng.normal(size=n) + edu_boost + 0.01 * (age - 35)
    limit = np.clip(np.round(np.exp(log_limit), -4), 10_000, 1_000_000)
    # repayment status: an AR(1) latent "distress", cut into -2 (no use) .. 8 months late
    distress = np.empty((n, 6))
    distress[:, 0] = rng.normal(size=n) - 0.3 * (log_limit - 11.4)
    for m in range(1, 6):
        distress[:, m] = 0.8 * distress[:, m - 1] + 0.6 * rng.normal(size=n)
    pay = np.digitize(distress, [-1.6, -0.9, 0.6, 1.4, 1.9, 2.3, 2.6, 2.9, 3.2, 3.5]) - 2
    # utilisation: one persistent level per person plus small monthly moves -> bills correlate strongly
    util = 1 / (1 + np.exp(-(0.4 + 0.9 * rng.normal(size=n) + 0.3 * distress[:, 0])))
    bills = np.empty((n, 6))
    level = util * limit
    for m in range(6):
        level = level * np.exp(0.08 * rng.normal(size=n)) + 0.01 * limit * rng.normal(size=n)
        bills[:, m] = level
    unused = rng.random(n) < 0.07
    bills[unused] = 0.0
    bills = np.round(bills)
    payshare = np.clip(rng.beta(0.6, 4.0, size=(n, 6)) * (1 - 0.25 * (pay > 0)), 0, 1)
    payments = np.round(bills * payshare)
    payments[(pay > 1) & (rng.random((n, 6)) < 0.6)] = 0.0
    payments = np.maximum(payments, 0.0)
    # a target that real rows predict well (AUC about 0.9), through the statuses, the use of the limit and the bills
    logit = -2.6 + 2.0 * np.clip(pay[:, 0], -1, 4) + 0.8 * np.clip(pay[:, 1], -1, 4) + 4.0 * (util - 0.6) \
        - 0.5 * (log_limit - 11.4) + 0.4 * (sex == "male") + 1.5 * (bills[:, 0] > 0.9 * limit)
    default = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    cols = {"limit": limit.astype(np.int64), "sex": sex, "education": education, "marriage": marriage, "age": age}
    for m in range(6):
        cols[f"pay_{m + 1}"] = pay[:, m].astype(np.int64)
    for m in range(6):
        cols[f"bill_{m + 1}"] = bills[:, m].astype(np.int64)
    for m in range(6):
        cols[f"paid_{m + 1}"] = payments[:, m].astype(np.int64)
    cols["default"] = default
    return pd.DataFrame(cols)


_load_table = sa.load_table


def load_table(name: str, data_dir: Path):
    if name == "credit":
        return credit_table(), "default"
    return _load_table(name, data_dir)


class ModelLock:
    """The benchmark lock, held from a model's child process through its scoring, released between models."""

    def __init__(self, path: str):
        self.path, self.fh = path, None

    def acquire(self) -> bool:
        if self.fh is not None:
            return False
        self.fh = open(self.path, "a")
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None

    def around(self, func):
        """``func`` run with the lock held (taken and given back here unless it is held already)."""

        def wrapped(*a, **kw):
            mine = self.acquire()
            try:
                return func(*a, **kw)
            finally:
                if mine:
                    self.release()

        return wrapped


def main() -> None:
    lock_path = None
    if "--lock" in sys.argv:  # our own option; the rest is synthesis_adult.py's command line
        i = sys.argv.index("--lock")
        lock_path = sys.argv[i + 1]
        del sys.argv[i : i + 2]
    sa.TABLES = (*sa.TABLES, "credit")
    sa.load_table = load_table
    if lock_path and "--child" not in sys.argv:
        import subprocess
        import types

        import tabsynth.evaluate as te

        lock = ModelLock(lock_path)
        run_child, quality = sa.run_child, sa.sdmetrics_quality

        def child(*a, **kw):  # taken here, given back after the model's last score (or its failure)
            lock.acquire()
            info = run_child(*a, **kw)
            if "error" in info:
                lock.release()
            return info

        def last_score(*a, **kw):
            try:
                return quality(*a, **kw)
            finally:
                lock.release()

        sa.run_child, sa.sdmetrics_quality = child, last_score
        sa.subprocess = types.SimpleNamespace(run=lock.around(subprocess.run))  # the CLI augment timing
        te.evaluate = lock.around(te.evaluate)
    sa.main()


if __name__ == "__main__":
    main()
