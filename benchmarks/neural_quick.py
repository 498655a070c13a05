"""Quick quality and speed probe of the neural backends: one fit, a cheap score.

For iterating on ``vae`` / ``gan`` settings between full runs of
``synthesis_adult.py`` / ``synthesis_neural.py``: fit one backend with the
parameters given as JSON on a table's 80% split (DESIGN.md protocol), sample
as many rows, and score them with ``tabsynth.evaluate`` restricted to what
the synthesis benchmarks report (column shapes, pair trends, TSTR with
logistic regression and gradient boosting at one seed, detection).

    python benchmarks/neural_quick.py vae '{"steps": 1000}'
    python benchmarks/neural_quick.py gan '{"steps": 1500}' --table credit --seed 1
    python benchmarks/neural_quick.py vae '{}' --threads 2 --no-score     # fit time only

Run it under the machine's benchmark lock when the timing matters.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, split  # noqa: E402


def load(table: str, data_dir: Path):
    if table == "credit":
        from synthesis_neural import credit_table

        return credit_table(), "default"
    from synthesis_adult import load_table

    return load_table(table, data_dir)


def score(train, syn, test, target) -> dict:
    from tabsynth.evaluate import evaluate, pair_trends

    res = evaluate(train, syn, holdout=test, target=target, models=["logistic_regression", "gradient_boosting"],
                   seeds=(0,), sections=["fidelity", "utility", "detection"])
    um = res["utility"]["models"]
    cols = sorted((v["score"], k) for k, v in res["fidelity"]["columns"].items())
    return {
        "worst": " ".join(f"{k}={v:.3f}" for v, k in cols[:4]),
        "shapes": res["fidelity"]["column_shapes"],
        "pairs": res["fidelity"]["pair_trends"],
        "strong": pair_trends(train, syn, real_correlation_threshold=0.5, real_association_threshold=0.3)["score"],
        "tstr_lr": um["logistic_regression"]["synthetic"],
        "tstr_gb": um["gradient_boosting"]["synthetic"],
        "real_lr": um["logistic_regression"]["real"],
        "real_gb": um["gradient_boosting"]["real"],
        "det_lr": res["detection"]["logistic_regression"],
        "det_gb": res["detection"]["gradient_boosting"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("backend")
    ap.add_argument("params", nargs="?", default="{}")
    ap.add_argument("--table", default="adult")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-score", action="store_true")
    ap.add_argument("--log", type=Path, default=None, help="append the result as one JSON line")
    ap.add_argument("--save", type=Path, default=None, help="save the model to PATH.tabsynth and the rows to PATH.parquet")
    args = ap.parse_args()

    import tabsynth
    from tabsynth import Synthesizer

    if args.threads:
        tabsynth.set_threads(args.threads)
    df, target = load(args.table, args.data_dir)
    train, test = split(df, target)
    params = json.loads(args.params)
    t0 = time.perf_counter()
    synth = Synthesizer(args.backend, random_state=args.seed, **params).fit(train)
    fit_s = time.perf_counter() - t0
    syn = synth.sample(len(train), seed=args.seed)
    if args.save:
        synth.save(args.save.with_suffix(".tabsynth"))
        syn.to_parquet(args.save.with_suffix(".parquet"))
    hist = synth.backend_.history_
    out = {"backend": args.backend, "params": params, "table": args.table, "seed": args.seed,
           "threads": tabsynth.get_threads(), "fit_s": round(fit_s, 2),
           "steps": int(sum(h.get("steps", 0) for h in hist))}
    if not args.no_score:
        out.update({k: round(v, 4) if isinstance(v, float) else v for k, v in score(train, syn, test, target).items()})
    line = json.dumps(out)
    print(line, flush=True)
    if args.log:
        with open(args.log, "a") as fh:
            fh.write(line + "\n")


if __name__ == "__main__":
    main()
