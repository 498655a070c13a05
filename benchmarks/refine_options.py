"""The refinement's options, measured one at a time on a numeric table (the figures behind its defaults).

Runs :class:`tabsynth._refine.Refiner` directly (no generative model, no
dtype handling) on spam or letter with 20% of the cells removed (MCAR or
MAR, seed 0), one thread, and prints the RMSE over the removed cells after
min-max normalisation with the complete table's range, in-sample and
out-of-sample (fit on 80% of the rows, fill the other 20%), with seconds.
Out-of-sample figures here are normalised by the whole table's range (the
imputation benchmark uses the filled rows' range), so they differ from it.

    python benchmarks/refine_options.py letter mcar                              # the defaults
    python benchmarks/refine_options.py letter mar --refiner '{"rounds": 2}'
    python benchmarks/refine_options.py letter mcar --refiner '{"n_components": 200, "learning_rate": 0.1}' \\
        --mixture '{"n_iter": 60}'
    python benchmarks/refine_options.py letter mar --boosting '{"max_leaf_nodes": 63}'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("table", choices=["spam", "letter"])
    ap.add_argument("mechanism", choices=["mcar", "mar", "mnar"])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--refiner", default="{}", help="Refiner keyword arguments, JSON")
    ap.add_argument("--mixture", default="{}", help="MixtureFeatures keyword arguments (n_iter), JSON")
    ap.add_argument("--boosting", default="{}", help="extra HistGradientBoosting arguments, JSON")
    args = ap.parse_args()

    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    import tabsynth._refine as R
    from tabsynth.evaluate.imputation import make_missing

    refiner_kw, mixture_kw, boosting_kw = (json.loads(x) for x in (args.refiner, args.mixture, args.boosting))
    if mixture_kw:
        init = R.MixtureFeatures.__init__

        def mixture_init(self, n_components=400, n_iter=30, random_state=0):
            init(self, n_components, mixture_kw.get("n_iter", n_iter), random_state)

        R.MixtureFeatures.__init__ = mixture_init
    if boosting_kw:
        boosted = R.Refiner._boosted

        def more_kw(self, j, F, y, kw):
            return boosted(self, j, F, y, {**kw, **boosting_kw})

        R.Refiner._boosted = more_kw
    path = args.data_dir / f"{args.table}.csv"
    if not path.exists():
        sys.exit(f"error: {path} not found; pass --data-dir")
    complete = pd.read_csv(path)
    holes, mask = make_missing(complete, 0.2, args.mechanism, seed=0)
    C, H, M = complete.to_numpy(float), holes.to_numpy(float), mask.to_numpy(bool)
    span = np.where(C.max(0) > C.min(0), C.max(0) - C.min(0), 1.0)
    p = H.shape[1]
    train, test = train_test_split(np.arange(len(H)), test_size=0.2, random_state=0)
    result = {}
    with threadpool_limits(1):
        for setting, (fit, fill) in {"in-sample": (np.arange(len(H)), np.arange(len(H))),
                                     "out-of-sample": (train, test)}.items():
            t0 = time.perf_counter()
            ref = R.Refiner(random_state=0, **refiner_kw).fit(H[fit], np.zeros(p, bool), np.zeros(p, int),
                                                              list(range(p)))
            pred = np.clip(ref.predict(H[fill]), np.nanmin(H[fit], 0), np.nanmax(H[fit], 0))
            err = ((pred - C[fill]) / span)[M[fill]]
            result[setting] = {"rmse": round(float(np.sqrt((err**2).mean())), 5),
                               "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps({"table": args.table, "mechanism": args.mechanism, "refiner": refiner_kw,
                      "mixture": mixture_kw, "boosting": boosting_kw, **result}))


if __name__ == "__main__":
    main()
