"""Related tables: tabsynth's DatabaseSynthesizer against SDV's HMA, one run, each in its own process.

Databases: ``hsb`` (../shared/datasets/hsb: 160 schools, 7,185 students,
the school's MEANSES copied into each student row) and ``shop`` (generated
here: 300 customers, 40 products and about 1,000 orders with two parents,
customers without orders, guest orders with no customer and orders of
deleted customers). Each model fits the whole database and samples one of
the same size; :func:`tabsynth.evaluate.database.evaluate_database` scores
it (key violations, cardinality shape, parent-child pair trends, per-table
column shapes and pair trends) and a gradient-boosting detector tells real
child rows joined with their parents from synthetic ones (ROC-AUC, 0.5 =
indistinguishable; folds grouped by parent row). SDV's HMA refuses a
database with orphans: it gets the database without them
(``sdv.utils.drop_unknown_references``, as its error message asks).

    python benchmarks/database.py --peer-python /tmp/bench/bin/python
    python benchmarks/database.py --databases hsb --models tabsynth
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

MODELS = ["tabsynth", "sdv-hma"]
PEERS = {"sdv-hma"}
RELATIONS = {"hsb": ["students.School=schools.School"],
             "shop": ["orders.customer_id=customers.customer_id", "orders.sku=products.sku"]}


def load(name: str, data_dir: Path) -> dict[str, pd.DataFrame]:
    if name == "hsb":
        return {"schools": pd.read_csv(data_dir / "hsb" / "schools.csv"),
                "students": pd.read_csv(data_dir / "hsb" / "students.csv")}
    if name == "shop":
        from test_database import shop

        return shop()
    raise SystemExit(f"error: unknown database {name!r}; choose from {', '.join(RELATIONS)}")


def child(model: str, in_dir: str, out_dir: str, meta_path: str, relations: list[str], seed: int) -> None:
    tables = {p.stem: pd.read_parquet(p) for p in sorted(Path(in_dir).glob("*.parquet"))}
    t0 = time.perf_counter()
    if model == "tabsynth":
        from tabsynth.database import DatabaseSynthesizer

        out = DatabaseSynthesizer(relations, random_state=seed).fit(tables).sample(seed=seed)
    elif model == "sdv-hma":
        from sdv.metadata import Metadata
        from sdv.multi_table import HMASynthesizer

        tables = {k: v.astype({c: object for c in v.columns if isinstance(v[c].dtype, pd.CategoricalDtype)})
                  for k, v in tables.items()}
        from sdv.utils import drop_unknown_references

        meta = Metadata.detect_from_dataframes(tables, infer_keys=None)
        for rel in relations:  # the same relations as ours, declared
            left, right = rel.split("=")
            c_table, c_col = left.split(".", 1)
            p_table, p_col = right.split(".", 1)
            meta.update_column(table_name=p_table, column_name=p_col, sdtype="id")
            meta.update_column(table_name=c_table, column_name=c_col, sdtype="id")
            if meta.tables[p_table].primary_key != p_col:
                meta.set_primary_key(table_name=p_table, column_name=p_col)
            meta.add_relationship(parent_table_name=p_table, child_table_name=c_table, parent_primary_key=p_col,
                                  child_foreign_key=c_col)
        # HMA refuses orphans ("use drop_unknown_references"): as it asks, it fits without them
        tables = drop_unknown_references(tables, meta, verbose=False)
        synth = HMASynthesizer(meta)
        synth.fit(tables)
        roots = [t for t in tables if not any(r.split("=")[0].split(".")[0] == t for r in relations)]
        out = synth.sample(len(tables[roots[0]]), main_table_name=roots[0])  # the real size
    else:
        raise SystemExit(f"unknown model {model!r}")
    seconds = time.perf_counter() - t0
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, df in out.items():
        df.to_parquet(Path(out_dir) / f"{name}.parquet")
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def score(real: dict, syn: dict, relations: list[str]) -> dict:
    from tabsynth.evaluate.database import evaluate_database, joined_detection

    res = evaluate_database(real, syn, relations)
    keys = tuple({part.split(".", 1)[1] for rel in relations for part in rel.split("=")})
    aucs = [joined_detection(real, syn, rel, exclude=keys) for rel in relations]
    res["joined_detection_auc"] = max(a for a in aucs if a is not None) if any(a is not None for a in aucs) else None
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--databases", default="hsb,shop")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--peer-python", default=None, help="Interpreter with the bench extra (SDV).")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "database.json")
    ap.add_argument("--child"), ap.add_argument("--in-dir"), ap.add_argument("--meta"), ap.add_argument("--out-dir")
    ap.add_argument("--relations", default="")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.in_dir, args.out_dir, args.meta, args.relations.split(","), args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for db in [d for d in args.databases.split(",") if d]:
            real = load(db, args.data_dir)
            in_dir = Path(tmp) / db
            in_dir.mkdir()
            for name, df in real.items():
                df.to_parquet(in_dir / f"{name}.parquet")
            for model in [m for m in args.models.split(",") if m]:
                out_dir, meta = Path(tmp) / f"{db}-{model}", Path(tmp) / f"{db}-{model}.json"
                python = args.peer_python if model in PEERS and args.peer_python else None
                res = run_child(Path(__file__), ["--child", model, "--in-dir", str(in_dir), "--out-dir", str(out_dir),
                                                 "--meta", str(meta), "--relations", ",".join(RELATIONS[db]),
                                                 "--seed", str(args.seed)], python=python)
                row = {"database": db, "model": model}
                if "error" in res:
                    row["error"] = res["error"]
                    print(f"{db} {model}: {res['error']}", file=sys.stderr)
                else:
                    syn = {p.stem: pd.read_parquet(p) for p in out_dir.glob("*.parquet")}
                    s = score(real, syn, RELATIONS[db])
                    row.update({"seconds": round(res["seconds"], 2), "peak_rss_mb": round(res["peak_rss_mb"]),
                                "rows": {k: len(v) for k, v in syn.items()}, **{k: s[k] for k in (
                                    "key_violations", "cardinality", "parent_child_trends", "column_shapes",
                                    "pair_trends", "joined_detection_auc")}, "detail": s})
                rows.append(row)
    cols = ["database", "model", "seconds", "key_violations", "cardinality", "parent_child_trends", "column_shapes",
            "pair_trends", "joined_detection_auc"]
    print_table(rows, cols)
    write_json({"benchmark": "database", "command": " ".join(sys.argv), "machine": machine(), "rows": rows}, args.out)


if __name__ == "__main__":
    main()
