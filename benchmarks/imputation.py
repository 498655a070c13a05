"""Imputation on spam and letter (GAIN protocol): tabsynth against scikit-learn's imputers, one run.

Protocol (DESIGN.md): remove 20% of the cells (MCAR by default, seed 0;
``--mechanism mar|mnar`` for Muzellec et al.'s logistic masks), impute, and
report the RMSE over the removed cells after min-max normalisation with the
complete table's range. Two settings:

* in-sample: fit and fill the same table (how the GAIN paper reports);
* out-of-sample: fit on 80% of the rows (with their holes), fill the other
  20% (rows never seen when fitting), score those.

Each method runs in its own process (wall time and peak memory its own).

    python benchmarks/imputation.py                     # spam + letter, MCAR 20%
    python benchmarks/imputation.py --mechanism mar --methods tabsynth-gmm,mean,iterative
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

from _common import DEFAULT_DATA, RESULTS, machine, peak_rss_mb, print_table, run_child, write_json  # noqa: E402

METHODS = ["tabsynth", "tabsynth-gmm", "mean", "knn", "iterative", "missforest"]


def make_imputer(method: str, seed: int):
    if method == "tabsynth":  # the default: strategy="refine"
        from tabsynth import GenerativeImputer

        return GenerativeImputer(random_state=seed)
    if method == "tabsynth-gmm":  # the generative fill alone: mean of 10 draws from the gmm
        from tabsynth import GenerativeImputer

        return GenerativeImputer("gmm", strategy="mean", random_state=seed)
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
    t0 = time.perf_counter()
    imp = make_imputer(method, seed)
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
    ap.add_argument("--tables", default="spam,letter")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--mechanism", choices=["mcar", "mar", "mnar"], default="mcar")
    ap.add_argument("--rate", type=float, default=0.2)
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
        complete = pd.read_csv(path)
        if args.quick:
            complete = complete.sample(1000, random_state=0).reset_index(drop=True)
        holes, mask = make_missing(complete, args.rate, args.mechanism, seed=args.seed)
        train_idx, test_idx = train_test_split(range(len(complete)), test_size=0.2, random_state=0)
        settings = {
            "in-sample": (holes, holes, complete, mask),
            "out-of-sample": (holes.iloc[train_idx], holes.iloc[test_idx], complete.iloc[test_idx], mask.iloc[test_idx]),
        }
        for setting, (fit_df, fill_df, truth, m) in settings.items():
            fit_path, fill_path = tmp / f"{table}-{setting}-fit.parquet", tmp / f"{table}-{setting}-fill.parquet"
            fit_df.to_parquet(fit_path)
            fill_df.to_parquet(fill_path)
            for method in [x.strip() for x in args.methods.split(",") if x.strip()]:
                out_path, meta_path = tmp / f"{table}-{setting}-{method}.parquet", tmp / f"{table}-{setting}-{method}.json"
                print(f"{table} {setting}: {method} ...", flush=True)
                info = run_child(Path(__file__), ["--child", method, "--fit", str(fit_path), "--fill", str(fill_path),
                                                  "--imputed", str(out_path), "--meta", str(meta_path),
                                                  "--seed", str(args.seed)])
                row = {"table": table, "setting": setting, "method": method, "rows_fit": len(fit_df),
                       "rows_filled": len(fill_df)}
                if "error" in info:
                    row["error"] = info["error"]
                    print(f"  failed: {info['error']}")
                else:
                    scores = imputation_scores(truth, pd.read_parquet(out_path), m)
                    row.update({"rmse": scores["rmse"], "seconds": info["seconds"], "peak_mb": info["peak_rss_mb"],
                                "cells": scores["cells"], "unfilled": scores["unfilled"]})
                rows.append(row)
    print()
    print_table(rows, ["table", "setting", "method", "rmse", "seconds", "peak_mb", "cells", "unfilled"])
    name = f"imputation_{args.mechanism}" + ("_quick" if args.quick else "")
    write_json({"benchmark": "imputation", "protocol": f"GAIN: {args.rate:.0%} {args.mechanism.upper()} seed "
                f"{args.seed}, RMSE over removed cells after min-max normalisation; out-of-sample = fit on 80% rows, "
                "fill the other 20%", "machine": machine(), "command": " ".join(sys.argv), "results": rows},
               args.out or RESULTS / f"{name}.json")


if __name__ == "__main__":
    main()
