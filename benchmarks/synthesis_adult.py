"""Synthesis on adult (and other binary tables): tabsynth's backends against SDV and TabularARGN, in one run.

Protocol (DESIGN.md): split the table 80/20 stratified on its target with
random_state=0 (adult: ``income``; ``--tables`` adds scikit-learn's
breast_cancer, target ``diagnosis``, tabsynth's diabetes example, target
``progression`` above its median, and the zoo's ``imbalanced`` table, target
``label`` with a 3% minority); fit each model on the 80% (adult: 26,048
rows); sample as many rows;
score against the 20% with ``tabsynth.evaluate`` (fidelity, utility,
detection, privacy). Each model runs in its own process so its wall time
and peak memory are its own. Peers come from the ``bench`` extra; a peer
that is not installed is reported as such, not silently dropped.

    python benchmarks/synthesis_adult.py                         # tabsynth gmm + SDV GaussianCopula
    python benchmarks/synthesis_adult.py --models gmm,vae,gan,sdv-gaussiancopula,sdv-tvae,sdv-ctgan
    python benchmarks/synthesis_adult.py --models gmm,trees,mostlyai   # mostlyai-engine's TabularARGN
    python benchmarks/synthesis_adult.py --tables adult,breast_cancer,diabetes --models gmm,trees
    python benchmarks/synthesis_adult.py --models trees,trees+target,mostlyai   # +target: Synthesizer(target=...)

``--epochs`` sets the epochs of every neural model; unset, each uses its own
default (tabsynth: "auto", SDV: 300).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, peak_rss_mb, print_table, run_child, split, write_json  # noqa: E402

TARGET = "income"
TABLES = ("adult", "breast_cancer", "diabetes", "imbalanced", "churn", "bank")
SDV = {"sdv-gaussiancopula": "GaussianCopulaSynthesizer", "sdv-ctgan": "CTGANSynthesizer", "sdv-tvae": "TVAESynthesizer"}


def sdv_metadata(train):
    """SDV metadata detected from the table (SDV's own defaults), table name "table"."""
    from sdv.metadata import Metadata

    return Metadata.detect_from_dataframes({"table": train}, infer_keys=None)


def sdv_fit(synth, train) -> None:
    """SDV 1.x takes a DataFrame, SDV 2.x a {table name: DataFrame} dict (another error is SDV's own: raised)."""
    try:
        synth.fit({"table": train})
    except Exception as first:
        try:
            synth.fit(train)
        except Exception:
            raise first from None


def child(model: str, train_path: str, out_path: str, meta_path: str, seed: int, epochs: int | None,
          target: str | None = None) -> None:
    import pandas as pd

    train = pd.read_parquet(train_path)
    t0 = time.perf_counter()
    if model in SDV:
        import sdv.single_table as st

        # SDV refuses pandas 'category' columns ("cast these columns to an 'object'"): as it asks
        train = train.astype({c: object for c in train.columns if isinstance(train[c].dtype, pd.CategoricalDtype)})
        metadata = sdv_metadata(train)
        kwargs = {"epochs": epochs} if epochs and model != "sdv-gaussiancopula" else {}
        synth = getattr(st, SDV[model])(metadata, **kwargs)
        sdv_fit(synth, train)
        t_fit = time.perf_counter() - t0
        t1 = time.perf_counter()
        syn = synth.sample(len(train))
        if isinstance(syn, dict):  # SDV 2 returns {table name: DataFrame}
            syn = next(iter(syn.values()))
    elif model == "mostlyai":
        import tempfile as _tf

        from mostlyai.engine import TabularARGN

        with _tf.TemporaryDirectory() as ws:  # its defaults, CPU, a workspace of its own
            synth = TabularARGN(workspace_dir=ws, random_state=seed, verbose=0)
            synth.fit(train)
            t_fit = time.perf_counter() - t0
            t1 = time.perf_counter()
            syn = synth.sample(n_samples=len(train))
    else:
        from tabsynth import Synthesizer

        # "trees+target": told which column is the class (Synthesizer(target=...), what augment --target does)
        backend, _, told = model.partition("+")
        params = {"epochs": epochs} if epochs and backend not in ("gmm", "trees") else {}
        if told:
            params["target"] = target
        synth = Synthesizer(backend, random_state=seed, **params).fit(train)
        t_fit = time.perf_counter() - t0
        t1 = time.perf_counter()
        syn = synth.sample(len(train), seed=seed)
    t_sample = time.perf_counter() - t1
    syn.to_parquet(out_path)
    extra = {}
    if model.startswith("gmm"):
        extra["n_components"] = int(synth.backend_.n_components_)
    elif model in ("vae", "gan"):
        extra["epochs"] = len(synth.backend_.history_)
    elif model in ("sdv-tvae", "sdv-ctgan"):
        extra["epochs"] = epochs or 300  # SDV's default
    Path(meta_path).write_text(json.dumps({"fit_seconds": t_fit, "sample_seconds": t_sample,
                                           "peak_rss_mb": peak_rss_mb(), **extra}))


def sdmetrics_quality(train, syn) -> dict | None:
    """SDMetrics' own QualityReport, when installed, as a cross-check of our fidelity figures."""
    try:
        from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        return None
    meta = sdv_metadata(train).to_dict()["tables"]["table"]
    report = QualityReport()
    # count every pair, as DESIGN.md and tabsynth.evaluate do (SDMetrics' default
    # keeps only pairs with real |r| > 0.5 or Cramer's V > 0.3)
    report.real_correlation_threshold, report.real_association_threshold = 0, 0
    report.generate(train, syn, meta, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"column_shapes": float(props["Column Shapes"]), "pair_trends": float(props["Column Pair Trends"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models", default="gmm,sdv-gaussiancopula")
    ap.add_argument("--tables", default="adult", help="comma-separated: adult, breast_cancer, diabetes, imbalanced, churn, bank")
    ap.add_argument("--epochs", type=int, default=None, help="epochs for neural models (peers' default if unset)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "synthesis_adult.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--train", help=argparse.SUPPRESS)
    ap.add_argument("--syn", help=argparse.SUPPRESS)
    ap.add_argument("--meta", help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.train, args.syn, args.meta, args.seed, args.epochs, args.target)
        return

    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        sys.exit(f"error: unknown table(s) {', '.join(unknown)}; choose from {', '.join(TABLES)}")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    results, per_table = [], {}
    for table in tables:
        rows, extra = run_table(table, models, args)
        for r in rows:
            r["table"] = table
        results += rows
        per_table[table] = extra
    cols = ["table", "model", "epochs", "fit_s", "peak_mb", "column_shapes", "pair_trends", "pair_trends_strong_pairs",
            "tstr_auc_logreg", "tstr_auc_boosting", "detection_boosting", "exact_copies", "dcr_synthetic", "dcr_holdout"]
    if any("sdmetrics_pair_trends" in r for r in results):
        cols += ["sdmetrics_column_shapes", "sdmetrics_pair_trends"]
    print()
    print_table(results, cols)
    write_json({"benchmark": "synthesis", "protocol": "DESIGN.md: 80/20 stratified on the target, random_state=0",
                "tables": per_table, "machine": machine(), "command": " ".join(sys.argv), "results": results}, args.out)


def load_table(name: str, data_dir: Path):
    """(table, binary target) of a benchmark table."""
    import pandas as pd

    if name == "adult":
        return load_adult(data_dir), TARGET
    if name == "breast_cancer":  # ships with scikit-learn: 569 tumours, 30 measurements
        from sklearn.datasets import load_breast_cancer

        raw = load_breast_cancer(as_frame=True)
        df = raw.frame.copy()
        df["target"] = pd.Series(raw.target_names[raw.target], dtype=object)
        return df.rename(columns={"target": "diagnosis"}), "diagnosis"
    if name == "diabetes":  # tabsynth's example table; target: progression above its median
        from tabsynth.datasets import load_example

        df = load_example()
        df["progression"] = pd.Series(np.where(df["progression"] > df["progression"].median(), "high", "low"),
                                      dtype=object)
        return df, "progression"
    if name == "imbalanced":  # the zoo's 4-column table: a 3% minority, a skewed amount (5,000 rows)
        from tabsynth.datasets import zoo_table

        return zoo_table("imbalanced", n_rows=5000, seed=0), "label"
    if name in ("churn", "bank"):  # generated churn tables (benchmarks/_tables.py)
        from _tables import bank_table, churn_table

        return (churn_table(), "Churn") if name == "churn" else (bank_table(), "Exited")
    raise ValueError(name)


def run_table(table: str, models: list[str], args) -> tuple[list[dict], dict]:
    import pandas as pd

    from tabsynth.evaluate import evaluate, pair_trends

    df, target = load_table(table, args.data_dir)
    train, test = split(df, target)
    tmp = Path(tempfile.mkdtemp(prefix="tabsynth-bench-"))
    train_path = tmp / "train.parquet"
    train.to_parquet(train_path)
    rows = []
    # the CLI end to end, as a user runs it: read, fit, sample, write 2x rows
    augment_cli_s = {}
    for backend in [m for m in models if m.partition("+")[0] in ("gmm", "trees")] or ["gmm"]:
        told = ["--target", target] if backend.endswith("+target") else []
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "tabsynth.cli", "augment", str(train_path), "-o",
                               str(tmp / "augmented.parquet"), "--backend", backend.partition("+")[0], "--seed",
                               str(args.seed), "-q", *told], capture_output=True, text=True)
        augment_cli_s[backend] = time.perf_counter() - t0 if proc.returncode == 0 else None
        print(f"{table}: tabsynth augment --backend {backend} on the {len(train)}-row training part: "
              + (f"{augment_cli_s[backend]:.1f} s" if augment_cli_s[backend] else f"failed: {proc.stderr.strip()}"),
              flush=True)
    real = evaluate(train, train.sample(frac=1.0, random_state=1), holdout=test, target=target)
    rows.append({"model": "real data (shuffled train)", "fit_s": None,
                 "tstr_auc_logreg": real["utility"]["models"]["logistic_regression"]["real"],
                 "tstr_auc_boosting": real["utility"]["models"]["gradient_boosting"]["real"]})
    for model in models:
        syn_path, meta_path = tmp / f"{model}.parquet", tmp / f"{model}.json"
        child_args = ["--child", model, "--train", str(train_path), "--syn", str(syn_path), "--meta", str(meta_path),
                      "--seed", str(args.seed), "--target", target] + (["--epochs", str(args.epochs)] if args.epochs else [])
        print(f"{table}: running {model} ...", flush=True)
        info = run_child(Path(__file__), child_args)
        if "error" in info:
            rows.append({"model": model, "error": info["error"]})
            print(f"  {model} failed: {info['error']}")
            continue
        syn = pd.read_parquet(syn_path)
        t0 = time.perf_counter()
        res = evaluate(train, syn, holdout=test, target=target)
        eval_s = time.perf_counter() - t0
        um = res["utility"]["models"]
        row = {
            "model": model,
            "fit_s": info["fit_seconds"],
            "sample_s": info["sample_seconds"],
            "peak_mb": info["peak_rss_mb"],
            "column_shapes": res["fidelity"]["column_shapes"],
            "pair_trends": res["fidelity"]["pair_trends"],
            "tstr_auc_logreg": um["logistic_regression"]["synthetic"],
            "tstr_auc_boosting": um["gradient_boosting"]["synthetic"],
            "detection_logreg": res["detection"]["logistic_regression"],
            "detection_boosting": res["detection"]["gradient_boosting"],
            "exact_copies": res["privacy"]["exact_copies"],
            "dcr_synthetic": res["privacy"]["dcr_synthetic_median"],
            "dcr_holdout": res["privacy"]["dcr_holdout_median"],
            "eval_s": eval_s,
            **{k: v for k, v in info.items() if k not in ("fit_seconds", "sample_seconds", "peak_rss_mb")},
        }
        # SDMetrics' default QualityReport averages only strongly related pairs
        # (real |r| > 0.5 or Cramer's V > 0.3); the datasets README's peer
        # figures may use it, so report that convention too
        row["pair_trends_strong_pairs"] = pair_trends(train, syn, real_correlation_threshold=0.5,
                                                      real_association_threshold=0.3)["score"]
        sdm = sdmetrics_quality(train, syn)
        if sdm:
            row["sdmetrics_column_shapes"] = sdm["column_shapes"]
            row["sdmetrics_pair_trends"] = sdm["pair_trends"]
        rows.append(row)
        row["evaluate"] = res
    return rows, {"target": target, "rows_train": len(train), "rows_test": len(test), "augment_cli_seconds": augment_cli_s}


if __name__ == "__main__":
    main()
