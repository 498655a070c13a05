"""One `trees` (or any backend) fit on adult's DESIGN.md split with given parameters, scored like synthesis_adult.py.

    python benchmarks/trees_options.py '{"smoothing": 0}'
    python benchmarks/trees_options.py '{"class_column": 8}'      # the class first in the chain
    python benchmarks/trees_options.py '{"backend": "gmm"}'
    python benchmarks/trees_options.py '{"backend": "gan", "batch_size": 64}' --table breast_cancer

Prints one JSON line: fit and sample seconds, column shapes, pair trends,
TSTR AUC (logistic regression, boosting; and real rows'), detection AUC,
exact copies, median DCR of synthetic and holdout rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, split  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("params", nargs="?", default="{}", help="JSON: backend parameters (and 'backend')")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", default="adult", help="adult, breast_cancer or diabetes (synthesis_adult.py's tables)")
    args = ap.parse_args()
    from tabsynth import Synthesizer
    from tabsynth.evaluate import evaluate

    params = json.loads(args.params)
    backend = params.pop("backend", "trees")
    from synthesis_adult import load_table

    df, target = load_table(args.table, args.data_dir)
    train, test = split(df, target)
    t0 = time.perf_counter()
    model = Synthesizer(backend, random_state=args.seed, **params).fit(train)
    fit_s = time.perf_counter() - t0
    syn = model.sample(len(train), seed=args.seed)
    sample_s = time.perf_counter() - t0 - fit_s
    res = evaluate(train, syn, holdout=test, target=target)
    um = res["utility"]["models"]
    print(json.dumps({
        "table": args.table, "backend": backend, "params": params, "fit_s": round(fit_s, 1), "sample_s": round(sample_s, 1),
        "column_shapes": round(res["fidelity"]["column_shapes"], 4), "pair_trends": round(res["fidelity"]["pair_trends"], 4),
        "tstr_logreg": round(um["logistic_regression"]["synthetic"], 4),
        "tstr_boosting": round(um["gradient_boosting"]["synthetic"], 4),
        "real_logreg": round(um["logistic_regression"]["real"], 4), "real_boosting": round(um["gradient_boosting"]["real"], 4),
        "detection_logreg": round(res["detection"]["logistic_regression"], 3),
        "detection_boosting": round(res["detection"]["gradient_boosting"], 3),
        "exact_copies": res["privacy"]["exact_copies"], "dcr_synthetic": res["privacy"]["dcr_synthetic_median"],
        "dcr_holdout": res["privacy"]["dcr_holdout_median"]}))


if __name__ == "__main__":
    main()
