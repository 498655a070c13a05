"""Differential privacy: tabsynth's private fit against MST and AIM (smartnoise-synth) and mostlyai-engine's DP-SGD.

Protocol (DESIGN.md): split each table 80/20 stratified on its target with
random_state=0; fit each model on the 80% at each epsilon (delta 1e-9 for the
marginal models, the peers' own defaults otherwise: mostlyai-engine 1e-5);
sample as many rows; score against the 20% with ``tabsynth.evaluate``: column
shapes, pair trends (every pair), TSTR ROC-AUC of logistic regression and
gradient boosting (3 seeds), and the fit's wall time. Each model runs in its
own process.

Models:

* ``tabsynth``: ``Synthesizer(epsilon=E)``, nothing public: bounds, category
  sets, frequent values and the number of rows all come out of the budget.
* ``tabsynth+schema``: the same with the category sets given as a public
  schema (what smartnoise-synth's transformers take from the data, outside the
  budget); bounds still private.
* ``tabsynth+target`` / ``tabsynth+schema+target``: the same told the target
  (``Synthesizer(epsilon=E, target=...)``, ``tabsynth fit --epsilon E --target
  COL``): every other column's measured table holds it (a tree-augmented
  network). The target's name is public; nothing else is read outside the
  budget.
* ``mst`` / ``aim``: smartnoise-synth's MST and AIM; categorical columns'
  category sets from the data (smartnoise's default, not private), continuous
  columns in 10 bins with bounds estimated privately (``preprocessor_eps`` =
  10% of epsilon). AIM fits on at most ``--aim-rows`` rows and stops after
  ``--aim-timeout`` seconds; its time grows with its rounds (each refits its
  graphical model with 1,000 mirror-descent steps): ``--aim-rounds`` and
  ``--aim-max-model-size`` set its ``rounds`` and ``max_model_size``.
* ``mostlyai``: mostlyai-engine's TabularARGN with ``differential_privacy``
  (DP-SGD; 10% of epsilon for its value ranges, 90% the training's
  ``max_epsilon``), at most ``--mostlyai-minutes`` of training.

smartnoise-synth does not install beside the bench extra's SDV (its pins
clash), so it runs in its own interpreter (``--peer-python``; see
benchmarks/README.md for how to make it).

    python benchmarks/dp.py                                          # adult and bank, epsilon 1, 3, 10
    python benchmarks/dp.py --tables adult --epsilons 1 --models tabsynth,mst
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_DATA, RESULTS, load_adult, machine, peak_rss_mb, print_table, run_child, split, write_json  # noqa: E402

MODELS = ("tabsynth", "tabsynth+schema", "tabsynth+target", "tabsynth+schema+target", "mst", "aim", "mostlyai")
PEER_PYTHON = "/tmp/dpbench/bin/python"
MOSTLYAI_PYTHON = "/tmp/bench/bin/python"


def load_table(name: str, data_dir: Path):
    """(table, binary target) of a benchmark table."""
    if name == "adult":
        return load_adult(data_dir), "income"
    if name == "bank":  # generated bank churn table (benchmarks/_tables.py), its two id columns left out
        from _tables import bank_table

        return bank_table().drop(columns=["RowNumber", "CustomerId"]), "Exited"
    raise SystemExit(f"error: unknown table {name!r}; choose adult or bank")


def column_roles(train) -> tuple[list[str], list[str]]:
    """(categorical, continuous) columns for the peers: text, or numbers with at most 20 values, are categorical."""
    import pandas as pd

    cat = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c].dtype) or train[c].nunique() <= 20]
    return cat, [c for c in train.columns if c not in cat]


def child(model: str, train_path: str, out_path: str, meta_path: str, seed: int, epsilon: float, args) -> None:
    import pandas as pd

    train = pd.read_parquet(train_path)
    t0 = time.perf_counter()
    extra: dict = {}
    if model.startswith("tabsynth"):
        from tabsynth import Synthesizer

        public = None
        if "+schema" in model:
            public = {"columns": {c: {"categories": sorted(train[c].dropna().unique().tolist())}
                                  for c in train.columns if not pd.api.types.is_numeric_dtype(train[c].dtype)}}
        told = args.target if "+target" in model else None
        synth = Synthesizer(epsilon=epsilon, delta=1e-9, public_schema=public, target=told, random_state=seed).fit(train)
        t_fit = time.perf_counter() - t0
        syn = synth.sample(len(train), seed=seed)
        extra["split"] = synth.privacy_["split"]
    elif model in ("mst", "aim"):
        import numpy as np
        from snsynth import Synthesizer as SN

        np.random.seed(seed)  # smartnoise draws from numpy's global generator
        cat, cont = column_roles(train)
        fit_rows = train if model == "mst" or len(train) <= args.aim_rows else train.sample(args.aim_rows,
                                                                                              random_state=seed)
        options = {} if model == "mst" else {k: v for k, v in (("rounds", args.aim_rounds),
                                                              ("max_model_size", args.aim_max_model_size)) if v}
        synth = SN.create(model, epsilon=float(epsilon), delta=1e-9, verbose=False, **options)
        synth.fit(fit_rows, categorical_columns=cat, continuous_columns=cont, preprocessor_eps=0.1 * epsilon,
                  nullable=True)
        t_fit = time.perf_counter() - t0
        syn = synth.sample(len(train))
        extra["fit_rows"] = len(fit_rows)
    elif model == "mostlyai":
        from mostlyai.engine import TabularARGN
        from mostlyai.engine.domain import DifferentialPrivacyConfig

        with tempfile.TemporaryDirectory() as ws:
            dp = DifferentialPrivacyConfig(max_epsilon=0.9 * epsilon, delta=1e-5, value_protection_epsilon=0.1 * epsilon)
            synth = TabularARGN(workspace_dir=ws, random_state=seed, verbose=0, device="cpu", differential_privacy=dp,
                                max_training_time=args.mostlyai_minutes)
            synth.fit(train)
            t_fit = time.perf_counter() - t0
            syn = synth.sample(n_samples=len(train))
    else:
        raise SystemExit(f"error: unknown model {model!r}")
    syn = syn[list(train.columns)]
    for c in train.columns:  # peers may hand numbers back as text or floats: the real dtype where it holds
        try:
            syn[c] = syn[c].astype(train[c].dtype)
        except (TypeError, ValueError):
            pass
    syn.to_parquet(out_path)
    Path(meta_path).write_text(json.dumps({"fit_seconds": t_fit, "sample_seconds": time.perf_counter() - t0 - t_fit,
                                           "peak_rss_mb": peak_rss_mb(), **extra}))


def interpreter(model: str, args) -> str:
    if model in ("mst", "aim"):
        return args.peer_python
    if model == "mostlyai":
        return args.mostlyai_python
    return sys.executable


def run_table(table: str, args) -> tuple[list[dict], dict]:
    import pandas as pd

    from tabsynth.evaluate import evaluate

    df, target = load_table(table, args.data_dir)
    train, test = split(df, target)
    tmp = Path(tempfile.mkdtemp(prefix="tabsynth-dp-"))
    train_path = tmp / "train.parquet"
    train.to_parquet(train_path)
    scoring = dict(holdout=test, target=target, models=["logistic_regression", "gradient_boosting"],
                   sections=["fidelity", "utility"])
    real = evaluate(train, train.sample(frac=1.0, random_state=1), **scoring)["utility"]["models"]
    rows = [{"table": table, "model": "real data (shuffled train)", "tstr_auc_logreg": real["logistic_regression"]["real"],
             "tstr_auc_boosting": real["gradient_boosting"]["real"]}]
    for eps in args.epsilons:
        for model in args.models:
            syn_path, meta_path = tmp / f"{model}-{eps}.parquet", tmp / f"{model}-{eps}.json"
            print(f"{table}: {model} at epsilon {eps:g} ...", flush=True)
            info = run_child(Path(__file__), ["--child", model, "--train", str(train_path), "--syn", str(syn_path),
                                              "--meta", str(meta_path), "--seed", str(args.seed), "--target", target,
                                              "--epsilon", str(eps), "--aim-rows", str(args.aim_rows), "--mostlyai-minutes",
                                              str(args.mostlyai_minutes), "--aim-rounds", str(args.aim_rounds or 0),
                                              "--aim-max-model-size", str(args.aim_max_model_size or 0)],
                             timeout=args.aim_timeout if model == "aim" else args.timeout,
                             python=interpreter(model, args))
            row = {"table": table, "epsilon": eps, "model": model}
            if "error" in info:
                rows.append({**row, "error": info["error"]})
                print(f"  failed: {info['error']}", flush=True)
                continue
            res = evaluate(train, pd.read_parquet(syn_path), **scoring)
            um = res["utility"]["models"]
            row.update(fit_s=info["fit_seconds"], sample_s=info["sample_seconds"], peak_mb=info["peak_rss_mb"],
                       column_shapes=res["fidelity"]["column_shapes"], pair_trends=res["fidelity"]["pair_trends"],
                       tstr_auc_logreg=um["logistic_regression"]["synthetic"],
                       tstr_auc_boosting=um["gradient_boosting"]["synthetic"],
                       **{k: v for k, v in info.items() if k in ("fit_rows", "split")})
            rows.append(row)
            print("  " + ", ".join(f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float)), flush=True)
    return rows, {"rows_train": len(train), "rows_test": len(test), "target": target, "columns": len(train.columns)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--tables", default="adult,bank")
    ap.add_argument("--epsilons", default="1,3,10")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peer-python", default=PEER_PYTHON, help="interpreter with smartnoise-synth (MST, AIM)")
    ap.add_argument("--mostlyai-python", default=MOSTLYAI_PYTHON, help="interpreter with mostlyai-engine")
    ap.add_argument("--aim-rows", type=int, default=10_000, help="AIM fits on at most this many rows")
    ap.add_argument("--aim-timeout", type=float, default=900, help="seconds before an AIM fit is stopped")
    ap.add_argument("--aim-rounds", type=int, default=0, help="AIM's rounds T (0: its default, 16 per column); each "
                                                              "round refits its graphical model")
    ap.add_argument("--aim-max-model-size", type=float, default=0, help="AIM's max_model_size in MB (0: its default, 80)")
    ap.add_argument("--mostlyai-minutes", type=float, default=5, help="mostlyai-engine's max_training_time")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", type=Path, default=RESULTS / "dp.json")
    ap.add_argument("--keep-from", type=Path, help="an earlier result file: its rows of models not run now are kept "
                                                   "(peers run once, tabsynth again)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--train", help=argparse.SUPPRESS)
    ap.add_argument("--syn", help=argparse.SUPPRESS)
    ap.add_argument("--meta", help=argparse.SUPPRESS)
    ap.add_argument("--epsilon", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.train, args.syn, args.meta, args.seed, args.epsilon, args)
        return
    args.epsilons = [float(e) for e in args.epsilons.split(",")]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in args.models if m not in MODELS]
    if bad:
        sys.exit(f"error: unknown model(s) {', '.join(bad)}; choose from {', '.join(MODELS)}")
    results, tables = [], {}
    for table in [t.strip() for t in args.tables.split(",") if t.strip()]:
        rows, tables[table] = run_table(table, args)
        results += rows
    if args.keep_from:
        ran = {(r["table"], r.get("epsilon"), r["model"]) for r in results}
        earlier = json.loads(args.keep_from.read_text())
        results += [r for r in earlier["results"] if (r["table"], r.get("epsilon"), r["model"]) not in ran]
        results.sort(key=lambda r: (r["table"], r.get("epsilon") or 0))
        args.command_earlier = earlier["command"]
    print()
    print_table(results, ["table", "epsilon", "model", "fit_s", "column_shapes", "pair_trends", "tstr_auc_logreg",
                          "tstr_auc_boosting", "error"])
    write_json({"benchmark": "differential privacy", "protocol": "DESIGN.md: 80/20 stratified on the target, "
                "random_state=0; delta 1e-9 (mostlyai-engine: 1e-5)", "tables": tables, "machine": machine(),
                "command": " ".join(sys.argv), "earlier_command": getattr(args, "command_earlier", None),
                "results": results}, args.out)


if __name__ == "__main__":
    main()
