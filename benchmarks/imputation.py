"""Imputation on spam, letter and adult (GAIN protocol): tabsynth against its peers, one run.

Protocol (DESIGN.md): remove 20% of the cells (MCAR by default, seed 0;
``--mechanism mar|mnar`` for Muzellec et al.'s logistic masks), impute, and
report the RMSE over the removed cells after min-max normalisation with the
complete table's range; on adult (mixed types: its rows without missing
values, a seeded ``--adult-rows`` subsample) also the accuracy on removed
categorical cells. Two settings:

* in-sample: fit and fill the same table (how the GAIN paper reports);
* out-of-sample: fit on 80% of the rows (with their holes), fill the other
  20% (rows never seen when fitting), score those.

Each method runs in its own process (wall time and peak memory its own).
Peers: scikit-learn's imputers; MissForest (numeric tables: IterativeImputer
with 100 ExtraTrees, 10 rounds; mixed tables: the original algorithm, one
ExtraTrees regressor or classifier per column over ordinal-encoded others,
rounds until the change grows, at most 10); miceforest and HyperImpute from
the ``bench`` extra. HyperImpute 0.1.17 writes its imputations through
chained assignment, which pandas 3 silently drops (its output is then the
mean fill), so it refuses to run under pandas 3: give ``--peer-python``, an
interpreter with ``pandas<3`` (see benchmarks/README.md), for the peers.

    python benchmarks/imputation.py                     # spam, letter, adult; MCAR 20%
    python benchmarks/imputation.py --mechanism mar --methods tabsynth,missforest
    python benchmarks/imputation.py --quick             # 1,000-row subsamples, a smoke test
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, peak_rss_mb, print_table, run_child, write_json  # noqa: E402

METHODS = ["tabsynth", "tabsynth-refine-gmm", "tabsynth-gmm", "mean", "knn", "iterative", "missforest", "miceforest",
           "hyperimpute"]
#: methods for numeric tables only (skipped on adult)
NUMERIC_ONLY = {"knn", "iterative"}
#: methods from the bench extra, run with --peer-python when given
PEERS = {"miceforest", "hyperimpute"}


def _levels(df) -> dict:
    """The sorted observed values of each non-numeric column (the peers see them as ordinal codes)."""
    import pandas as pd

    return {c: sorted(df[c].dropna().unique().tolist()) for c in df.columns
            if not pd.api.types.is_numeric_dtype(df[c].dtype)}


def _ordinal(df, levels: dict):
    """``df`` as floats: numbers as they are, categories as their index in ``levels``; NaN where missing."""
    import numpy as np

    X = np.empty(df.shape, dtype="float64")
    for j, c in enumerate(df.columns):
        if c in levels:
            lookup = {v: float(i) for i, v in enumerate(levels[c])}
            X[:, j] = df[c].astype(object).map(lookup).astype("float64").to_numpy()
        else:
            X[:, j] = df[c].to_numpy(dtype="float64", na_value=np.nan)
    return X


def _decoded(df, values, levels: dict):
    """``df`` with its missing cells taken from ``values`` (as :func:`_ordinal` lays them out; codes rounded
    and clipped to the levels); known cells unchanged."""
    import numpy as np
    import pandas as pd

    out = df.copy()
    for j, c in enumerate(df.columns):
        if c in levels:
            codes = np.clip(np.round(values[:, j]), 0, len(levels[c]) - 1).astype(int)
            vals = pd.Series(np.asarray(levels[c], dtype=object)[codes], index=df.index)
            out[c] = df[c].astype(object).where(df[c].notna(), vals)
        else:
            out[c] = df[c].where(df[c].notna(), pd.Series(values[:, j], index=df.index))
    return out


class MissForest:
    """Stekhoven & Buhlmann's MissForest for mixed tables (numbers and categories).

    Start from the mean / most frequent value; then, column by column in
    order of increasing missingness, fit an ExtraTrees regressor or
    classifier on the rows where the column is known (other columns as
    numbers and ordinal codes) and predict its missing cells. Stop when the
    change between rounds grows for both kinds (keeping the previous round)
    or after ``max_iter`` rounds. New tables: the same start, then the last
    round's models applied as many rounds.
    """

    def __init__(self, n_estimators: int = 100, max_iter: int = 10, seed: int = 0):
        self.n_estimators, self.max_iter, self.seed = n_estimators, max_iter, seed

    def _start(self, X):
        import numpy as np

        X = X.copy()
        for j in range(X.shape[1]):
            miss = np.isnan(X[:, j])
            X[miss, j] = self.start_[j]
        return X

    def fit(self, df):
        import numpy as np
        from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

        self.cats_ = _levels(df)
        X = _ordinal(df, self.cats_)
        self.is_cat_ = np.array([c in self.cats_ for c in df.columns])
        self.start_ = [np.bincount(X[~np.isnan(X[:, j]), j].astype(int)).argmax() if self.is_cat_[j]
                       else np.nanmean(X[:, j]) for j in range(X.shape[1])]
        miss = np.isnan(X)
        self.order_ = [j for j in np.argsort(miss.sum(0), kind="stable") if miss[:, j].any()]
        cur = self._start(X)
        prev_diff = (np.inf, np.inf)
        self.models_, self.rounds_ = {}, 0
        for _ in range(self.max_iter):
            old, models = cur.copy(), {}
            for j in self.order_:
                others = [k for k in range(X.shape[1]) if k != j]
                kind = ExtraTreesClassifier if self.is_cat_[j] else ExtraTreesRegressor
                model = kind(n_estimators=self.n_estimators, n_jobs=2, random_state=self.seed)
                model.fit(cur[~miss[:, j]][:, others], cur[~miss[:, j], j])
                cur[miss[:, j], j] = model.predict(cur[miss[:, j]][:, others])
                models[j] = model
            num, cat = ~self.is_cat_, self.is_cat_
            d_num = ((cur[:, num] - old[:, num]) ** 2).sum() / max((cur[:, num] ** 2).sum(), 1e-12)
            d_cat = (cur[:, cat] != old[:, cat]).sum() / max(miss[:, cat].sum(), 1)
            if d_num > prev_diff[0] and d_cat >= prev_diff[1]:
                cur = old  # the change grew: the previous round was the answer
                break
            prev_diff, self.models_, self.rounds_ = (d_num, d_cat), models, self.rounds_ + 1
        self.fitted_ = cur
        return self

    def transform(self, df):
        import numpy as np

        X = _ordinal(df, self.cats_)
        miss = np.isnan(X)
        cur = self._start(X)
        for _ in range(max(self.rounds_, 1)):
            for j in self.order_:
                if miss[:, j].any() and j in self.models_:
                    others = [k for k in range(X.shape[1]) if k != j]
                    cur[miss[:, j], j] = self.models_[j].predict(cur[miss[:, j]][:, others])
        return _decoded(df, cur, self.cats_)


class _Miceforest:
    """miceforest (LightGBM, native categoricals): 5 MICE rounds, one dataset; new tables via impute_new_data.

    ``mean_match_candidates=0``: the model's prediction itself (the class of
    highest probability), its best single guess; with mean matching (its
    default) it draws observed values, a multiple-imputation setting whose
    RMSE is not comparable.
    """

    def __init__(self, seed: int):
        self.seed = seed

    def _typed(self, df):
        import pandas as pd

        df = df.copy()
        for c in df.columns:
            if c in self.cats_:  # the fitted table's categories, also for new tables
                df[c] = pd.Categorical(df[c].astype(object), categories=self.cats_[c])
        df.columns = [str(c) for c in df.columns]
        return df

    def fit(self, df):
        import miceforest as mf

        self.cats_ = _levels(df)
        self.same_ = df
        self.kernel_ = mf.ImputationKernel(self._typed(df).reset_index(drop=True), num_datasets=1,
                                           mean_match_candidates=0, random_state=self.seed)
        self.kernel_.mice(5)
        return self

    def transform(self, df):
        if df is self.same_:
            out = self.kernel_.complete_data(0)
        else:
            new = self._typed(df).reset_index(drop=True)
            out = self.kernel_.impute_new_data(new, random_state=self.seed).complete_data(0)
        out.index, out.columns = df.index, df.columns
        return out


class _HyperImpute:
    """HyperImpute (its default: column-wise model search); categories as ordinal codes, rounded back."""

    def __init__(self, seed: int):
        import pandas as pd

        if int(pd.__version__.split(".")[0]) >= 3:
            raise SystemExit("hyperimpute writes its imputations through chained assignment, which pandas "
                             f"{pd.__version__} drops silently (the output would be the mean fill); run the "
                             "peers with --peer-python, an interpreter with pandas<3")
        from hyperimpute.plugins.imputers import Imputers

        self.imp_ = Imputers().get("hyperimpute", random_state=seed)

    def fit(self, df):
        self.cats_ = _levels(df)
        self.imp_.fit(self._codes(df))
        return self

    def _codes(self, df):
        import pandas as pd

        return pd.DataFrame(_ordinal(df, self.cats_), columns=[str(c) for c in df.columns])

    def transform(self, df):
        import numpy as np

        return _decoded(df, np.asarray(self.imp_.transform(self._codes(df)), dtype="float64"), self.cats_)


class _MeanMode:
    """Mean of each number, most frequent value of each category."""

    def fit(self, df):
        self.fill_ = {c: (df[c].mean() if str(df[c].dtype).startswith(("int", "float")) else df[c].mode().iloc[0])
                      for c in df.columns}
        return self

    def transform(self, df):
        out = df.copy()
        for c, v in self.fill_.items():
            out[c] = out[c].astype(object).fillna(v) if out[c].dtype == object else out[c].fillna(v)
        return out


def make_imputer(method: str, seed: int, mixed: bool = False):
    if method == "tabsynth":  # the default: strategy="refine"
        from tabsynth import GenerativeImputer

        return GenerativeImputer(random_state=seed)
    if method == "tabsynth-refine-gmm":  # the refinement over the gmm backend (the default until 2026-11-29)
        from tabsynth import GenerativeImputer

        return GenerativeImputer("gmm", random_state=seed)
    if method == "tabsynth-gmm":  # the generative fill alone: mean of 10 draws from the gmm
        from tabsynth import GenerativeImputer

        return GenerativeImputer("gmm", strategy="mean", random_state=seed)
    if method == "miceforest":
        return _Miceforest(seed)
    if method == "hyperimpute":
        return _HyperImpute(seed)
    if mixed and method == "mean":
        return _MeanMode()
    if mixed and method == "missforest":
        return MissForest(seed=seed)
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    if method == "mean":
        return SimpleImputer(strategy="mean")
    if method == "knn":
        return KNNImputer()
    if method == "iterative":
        return IterativeImputer(random_state=seed, max_iter=10)
    if method == "missforest":
        from sklearn.ensemble import ExtraTreesRegressor

        return IterativeImputer(ExtraTreesRegressor(n_estimators=100, n_jobs=2, random_state=seed),
                                random_state=seed, max_iter=10)
    raise SystemExit(f"error: unknown method {method!r}; choose from {', '.join(METHODS)}")


def child(method: str, fit_path: str, fill_path: str, out_path: str, meta_path: str, seed: int) -> None:
    import pandas as pd

    fit_df, fill_df = pd.read_parquet(fit_path), pd.read_parquet(fill_path)
    if fit_path == fill_path:
        fill_df = fit_df  # in-sample: the very table fitted (miceforest then returns its own chain's fill)
    mixed = any(not pd.api.types.is_numeric_dtype(t) for t in fit_df.dtypes)
    t0 = time.perf_counter()
    try:
        imp = make_imputer(method, seed, mixed)
    except ImportError as e:
        raise SystemExit(f"{method} is not installed ({e.name}): pip install 'tabsynth[bench]'") from None
    imp.fit(fit_df)
    out = imp.transform(fill_df)
    seconds = time.perf_counter() - t0
    if not isinstance(out, pd.DataFrame):
        out = pd.DataFrame(out, columns=fill_df.columns, index=fill_df.index)
    out.to_parquet(out_path)
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--tables", default="spam,letter,adult")
    ap.add_argument("--adult-rows", type=int, default=10_000, help="seeded subsample of adult's complete rows")
    ap.add_argument("--peer-python", default=sys.executable,
                    help="interpreter for miceforest and hyperimpute (one with pandas<3 for hyperimpute)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds one method may take")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--mechanism", choices=["mcar", "mar", "mnar"], default="mcar")
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--settings", default="in,out", help="in (in-sample), out (out-of-sample), or both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="1,000-row subsamples (smoke test)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--fit", help=argparse.SUPPRESS)
    ap.add_argument("--fill", help=argparse.SUPPRESS)
    ap.add_argument("--imputed", help=argparse.SUPPRESS)
    ap.add_argument("--meta", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.fit, args.fill, args.imputed, args.meta, args.seed)
        return

    import pandas as pd
    from sklearn.model_selection import train_test_split

    from tabsynth.evaluate.imputation import imputation_scores, make_missing

    tmp = Path(tempfile.mkdtemp(prefix="tabsynth-impute-"))
    rows = []
    for table in [t.strip() for t in args.tables.split(",") if t.strip()]:
        path = args.data_dir / f"{table}.csv"
        if not path.exists():
            sys.exit(f"error: {path} not found; pass --data-dir")
        if table == "adult":  # mixed types: the complete rows, a seeded subsample
            complete = load_adult(args.data_dir).dropna()
            complete = complete.sample(min(args.adult_rows, len(complete)), random_state=0).reset_index(drop=True)
        else:
            complete = pd.read_csv(path)
        mixed = any(not pd.api.types.is_numeric_dtype(t) for t in complete.dtypes)
        if args.quick:
            complete = complete.sample(1000, random_state=0).reset_index(drop=True)
        holes, mask = make_missing(complete, args.rate, args.mechanism, seed=args.seed)
        train_idx, test_idx = train_test_split(range(len(complete)), test_size=0.2, random_state=0)
        settings = {
            "in-sample": (holes, None, complete, mask),
            "out-of-sample": (holes.iloc[train_idx], holes.iloc[test_idx], complete.iloc[test_idx], mask.iloc[test_idx]),
        }
        settings = {k: v for k, v in settings.items() if k.split("-")[0] in args.settings.split(",")}
        for setting, (fit_df, fill_df, truth, m) in settings.items():
            fit_path = tmp / f"{table}-{setting}-fit.parquet"
            fit_df.to_parquet(fit_path)
            fill_path = fit_path
            if fill_df is not None:
                fill_path = tmp / f"{table}-{setting}-fill.parquet"
                fill_df.to_parquet(fill_path)
            else:
                fill_df = fit_df
            for method in [x.strip() for x in args.methods.split(",") if x.strip()]:
                if mixed and method in NUMERIC_ONLY:
                    continue
                out_path, meta_path = tmp / f"{table}-{setting}-{method}.parquet", tmp / f"{table}-{setting}-{method}.json"
                print(f"{table} {setting}: {method} ...", flush=True)
                info = run_child(Path(__file__), ["--child", method, "--fit", str(fit_path), "--fill", str(fill_path),
                                                  "--imputed", str(out_path), "--meta", str(meta_path),
                                                  "--seed", str(args.seed)], timeout=args.timeout,
                                 python=args.peer_python if method in PEERS else sys.executable)
                row = {"table": table, "setting": setting, "method": method, "rows_fit": len(fit_df),
                       "rows_filled": len(fill_df)}
                if "error" in info:
                    row["error"] = info["error"]
                    print(f"  failed: {info['error']}")
                else:
                    scores = imputation_scores(truth, pd.read_parquet(out_path), m)
                    row.update({"rmse": scores["rmse"], "accuracy": scores.get("accuracy"), "seconds": info["seconds"],
                                "peak_mb": info["peak_rss_mb"], "cells": scores["cells"], "unfilled": scores["unfilled"]})
                rows.append(row)
    print()
    print_table(rows, ["table", "setting", "method", "rmse", "accuracy", "seconds", "peak_mb", "cells", "unfilled",
                       "error"])
    name = f"imputation_{args.mechanism}" + ("_quick" if args.quick else "")
    write_json({"benchmark": "imputation", "protocol": f"GAIN: {args.rate:.0%} {args.mechanism.upper()} seed "
                f"{args.seed}, RMSE over removed cells after min-max normalisation; out-of-sample = fit on 80% rows, "
                "fill the other 20%", "machine": machine(), "command": " ".join(sys.argv), "results": rows},
               args.out or RESULTS / f"{name}.json")


if __name__ == "__main__":
    main()
