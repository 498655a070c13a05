"""Entities with ordered histories: tabsynth's SequenceSynthesizer against SDV's PAR, one run, each in its own process.

Tables: ``wages`` (../shared/datasets/wages: 888 workers, 6,402 yearly rows,
entity ``id``, order ``exper``, constant, derived and re-centred columns) and
``panel`` (generated: 300 workers observed yearly for 1 to 8 years, sex and
schooling constant, an autocorrelated wage). Each model fits the table and
samples as many entities; :func:`tabsynth.evaluate.sequences.evaluate_sequences`
scores the histories (entity-constant and order violations, length shape,
lag-1 autocorrelation and mean-step errors, a detector on per-entity
summaries: ROC-AUC, 0.5 = indistinguishable).

    python benchmarks/sequences.py --peer-python /tmp/bench/bin/python
    python benchmarks/sequences.py --tables wages --models tabsynth
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import DEFAULT_DATA, RESULTS, machine, peak_rss_mb, print_table, run_child, write_json  # noqa: E402

MODELS = ["tabsynth", "sdv-par"]
PEERS = {"sdv-par"}
TABLES = {"wages": ("id", "exper"), "panel": ("worker", "year")}


def load(name: str, data_dir: Path) -> pd.DataFrame:
    if name == "wages":
        return pd.read_csv(data_dir / "wages" / "wages.csv")
    if name == "panel":
        from test_sequences import panel

        return panel()
    raise SystemExit(f"error: unknown table {name!r}; choose from {', '.join(TABLES)}")


def child(model: str, in_path: str, out_path: str, meta_path: str, entity: str, order: str, seed: int) -> None:
    df = pd.read_parquet(in_path)
    n = df[entity].nunique()
    t0 = time.perf_counter()
    if model == "tabsynth":
        from tabsynth.sequences import SequenceSynthesizer

        out = SequenceSynthesizer(entity, order=order, random_state=seed).fit(df).sample(n, seed=seed)
    elif model == "sdv-par":
        from sdv.metadata import Metadata
        from sdv.sequential import PARSynthesizer

        meta = Metadata.detect_from_dataframes({"table": df})
        meta.update_column(table_name="table", column_name=entity, sdtype="id")
        meta.set_sequence_key(table_name="table", column_name=entity)
        meta.set_sequence_index(table_name="table", column_name=order)
        const = [c for c in df.columns if c not in (entity, order)
                 and (df.groupby(entity)[c].nunique(dropna=False) <= 1).all()]
        synth = PARSynthesizer(meta, context_columns=const)  # its defaults otherwise (128 epochs)
        synth.fit({"table": df})
        out = synth.sample_sequences(num_sequences=n)
        out = out["table"] if isinstance(out, dict) else out
    else:
        raise SystemExit(f"unknown model {model!r}")
    seconds = time.perf_counter() - t0
    out.to_parquet(out_path)
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default="wages,panel")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--peer-python", default=None, help="Interpreter with the bench extra (SDV).")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--out", type=Path, default=RESULTS / "sequences.json")
    ap.add_argument("--child"), ap.add_argument("--in-path"), ap.add_argument("--meta"), ap.add_argument("--out-path")
    ap.add_argument("--entity"), ap.add_argument("--order")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.in_path, args.out_path, args.meta, args.entity, args.order, args.seed)
    from tabsynth.evaluate.sequences import evaluate_sequences

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for table in [t for t in args.tables.split(",") if t]:
            entity, order = TABLES[table]
            real = load(table, args.data_dir)
            path = Path(tmp) / f"{table}.parquet"
            real.to_parquet(path)
            for model in [m for m in args.models.split(",") if m]:
                out, meta = Path(tmp) / f"{table}-{model}.parquet", Path(tmp) / f"{table}-{model}.json"
                python = args.peer_python if model in PEERS and args.peer_python else None
                res = run_child(Path(__file__), ["--child", model, "--in-path", str(path), "--out-path", str(out),
                                                 "--meta", str(meta), "--entity", entity, "--order", order,
                                                 "--seed", str(args.seed)], timeout=args.timeout, python=python)
                row = {"table": table, "model": model}
                if "error" in res:
                    row["error"] = res["error"]
                    print(f"{table} {model}: {res['error']}", file=sys.stderr)
                else:
                    syn = pd.read_parquet(out)
                    s = evaluate_sequences(real, syn, entity=entity, order=order)
                    row.update({"seconds": round(res["seconds"], 2), "peak_rss_mb": round(res["peak_rss_mb"]),
                                **{k: s[k] for k in ("entities_synthetic", "entity_constant_violations",
                                                     "order_violations", "length_shape", "lag1_error", "step_error",
                                                     "history_detection_auc")}, "columns": s["columns"]})
                rows.append(row)
    cols = ["table", "model", "seconds", "entity_constant_violations", "order_violations", "length_shape",
            "lag1_error", "step_error", "history_detection_auc"]
    print_table(rows, cols)
    write_json({"benchmark": "sequences", "command": " ".join(sys.argv), "machine": machine(), "rows": rows}, args.out)


if __name__ == "__main__":
    main()
