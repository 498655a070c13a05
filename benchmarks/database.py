"""Related tables: tabsynth's DatabaseSynthesizer against SDV's HMA and mostlyai-engine, one run, each in its own process.

Databases: ``hsb`` (../shared/datasets/hsb: 160 schools, 7,185 students,
the school's MEANSES copied into each student row), ``shop`` (generated
here: 300 customers, 40 products and about 1,000 orders with two parents,
customers without orders, guest orders with no customer and orders of
deleted customers) and ``order_lines`` (generated: 300 orders, their lines
keyed by (order_id, line_no), shipments of lines by that composite key).
Each model fits the whole database and samples one of the same size
(``seconds``: fit and sample, after the model's libraries are imported;
``import_seconds``: that import, on its own);
:func:`tabsynth.evaluate.database.evaluate_database` scores it (key
violations, cardinality shape, parent-child pair trends, per-table column
shapes and pair trends) and a gradient-boosting detector tells real
child rows joined with their parents from synthetic ones (ROC-AUC, 0.5 =
indistinguishable; folds grouped by parent row). SDV's HMA refuses a
database with orphans: it gets the database without them
(``sdv.utils.drop_unknown_references``, as its error message asks).

``mostlyai``: mostlyai-engine's TabularARGN at its defaults (CPU, seeded, a
workspace of its own): a table without parents is fitted flat; a child is
fitted as sequences (its rows per parent row) conditioned on its first
parent as context and generated on the synthetic parent. The engine keeps
one parent per table and needs every child row's key in the context table:
rows without a context parent (guest orders, orphans) are left out of its
fit, and a further parent's key (shop's ``orders.sku``) is only a plain
column of real keys, which the synthetic parent does not have (counted in
key violations). Its keys are single columns: a composite key is refused.

    python benchmarks/database.py --peer-python /tmp/bench/bin/python
    python benchmarks/database.py --databases hsb --models tabsynth
    python benchmarks/database.py --databases shop --models tabsynth,fresh

``fresh`` (generated databases only) scores new draws of the database's own
generating process (seeds 1-5, the mean): what a perfect generator of new
rows gets against these few real rows, the noise floor of each score.
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

MODELS = ["tabsynth", "sdv-hma", "mostlyai"]
PEERS = {"sdv-hma", "mostlyai"}
RELATIONS = {"hsb": ["students.School=schools.School"],
             "shop": ["orders.customer_id=customers.customer_id", "orders.sku=products.sku"],
             "order_lines": ["lines.order_id=orders.order_id", "shipments.order_id+line_no=lines.order_id+line_no"]}


def parse(relation: str) -> tuple[str, str, str, str]:
    """``"child.fk=parent.key"`` -> (child, fk, parent, key); a composite side is ``"a+b"``."""
    left, right = relation.split("=")
    return (*left.split(".", 1), *right.split(".", 1))


#: "fresh": for a generated database, new draws of its generating process (seeds 1..FRESH_DRAWS) scored like a
#: model's output: what a perfect generator of new rows gets, the noise floor of each score on tables this small
FRESH_DRAWS = 5


def fresh_scores(db: str, real: dict[str, pd.DataFrame]) -> dict:
    """Mean scores of :data:`FRESH_DRAWS` new draws of a generated database's process against ``real``."""
    from test_database import order_lines, shop

    make = {"shop": shop, "order_lines": order_lines}[db]
    runs = [score(real, make(seed=k), RELATIONS[db]) for k in range(1, FRESH_DRAWS + 1)]
    keys = ("key_violations", "cardinality", "parent_child_trends", "column_shapes", "pair_trends",
            "joined_detection_auc")
    def mean(k: str) -> float | None:
        vals = [r[k] for r in runs if r[k] is not None]
        return float(sum(vals) / len(vals)) if vals else None

    def spread(k: str) -> list[float] | None:
        vals = [r[k] for r in runs if r[k] is not None]
        return [min(vals), max(vals)] if vals else None

    return {k: mean(k) for k in keys} | {"column_shapes_range": spread("column_shapes"),
                                         "pair_trends_range": spread("pair_trends")}


def load(name: str, data_dir: Path) -> dict[str, pd.DataFrame]:
    if name == "hsb":
        return {"schools": pd.read_csv(data_dir / "hsb" / "schools.csv"),
                "students": pd.read_csv(data_dir / "hsb" / "students.csv")}
    if name == "shop":
        from test_database import shop

        return shop()
    if name == "order_lines":
        from test_database import order_lines

        return order_lines()
    raise SystemExit(f"error: unknown database {name!r}; choose from {', '.join(RELATIONS)}")


#: the libraries each model's work uses, imported before its clock starts (their import is timed on its own)
LIBRARIES = {"tabsynth": ["tabsynth.database"], "sdv-hma": ["sdv.metadata", "sdv.multi_table", "sdv.utils"],
             "mostlyai": ["mostlyai.engine"]}


def child(model: str, in_dir: str, out_dir: str, meta_path: str, relations: list[str], seed: int) -> None:
    import importlib

    tables = {p.stem: pd.read_parquet(p) for p in sorted(Path(in_dir).glob("*.parquet"))}
    t_import = time.perf_counter()
    for name in LIBRARIES.get(model, []):
        importlib.import_module(name)
    import_seconds = time.perf_counter() - t_import
    t0 = time.perf_counter()
    try:
        out, notes = fit_sample(model, tables, relations, seed, Path(out_dir).parent)
    except Exception as e:  # a peer's refusal, in one line (its own words)
        raise SystemExit(f"{type(e).__name__}: {str(e).strip().splitlines()[0]}") from e
    seconds = time.perf_counter() - t0
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, df in out.items():
        df.to_parquet(Path(out_dir) / f"{name}.parquet")
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "import_seconds": import_seconds,
                                           "peak_rss_mb": peak_rss_mb(), "notes": notes}))


def fit_sample(model: str, tables: dict[str, pd.DataFrame], relations: list[str], seed: int,
               tmp: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    notes: dict = {}
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
        for rel in relations:  # the same relations as ours, declared (a composite key as its list of columns)
            c_table, c_col, p_table, p_col = parse(rel)
            c_cols, p_cols = c_col.split("+"), p_col.split("+")
            for t, cols in ((p_table, p_cols), (c_table, c_cols)):
                for col in cols:
                    meta.update_column(table_name=t, column_name=col, sdtype="id")
            p_key, c_key = (p_cols[0], c_cols[0]) if len(p_cols) == 1 else (p_cols, c_cols)
            if meta.tables[p_table].primary_key != p_key:
                meta.set_primary_key(table_name=p_table, column_name=p_key)
            meta.add_relationship(parent_table_name=p_table, child_table_name=c_table, parent_primary_key=p_key,
                                  child_foreign_key=c_key)
        # HMA refuses orphans ("use drop_unknown_references"): as it asks, it fits without them
        kept = drop_unknown_references(tables, meta, verbose=False)
        notes = {"rows_left_out": {k: len(v) - len(kept[k]) for k, v in tables.items() if len(v) != len(kept[k])}}
        tables = kept
        synth = HMASynthesizer(meta)
        synth.fit(tables)
        roots = [t for t in tables if not any(parse(r)[0] == t for r in relations)]
        out = synth.sample(len(tables[roots[0]]), main_table_name=roots[0])  # the real size
    elif model == "mostlyai":
        out, notes = mostlyai_database(tables, relations, seed, tmp)
    else:
        raise ValueError(f"unknown model {model!r}")
    return out, notes


def mostlyai_database(tables: dict[str, pd.DataFrame], relations: list[str], seed: int,
                      tmp: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """Parents flat, then each child as sequences in its first parent's context (see the module docstring)."""
    import tempfile as _tf

    from _mostlyai import as_real_types, fit_generate, fresh_keys

    rels = [parse(r) for r in relations]
    composite = [r for r, (_, fk, _, _) in zip(relations, rels) if "+" in fk]
    if composite:
        raise ValueError(f"mostlyai-engine keys are single columns (tgt_context_key, ctx_primary_key): "
                         f"composite key {composite[0]} not supported")
    key_of = {parent: key for _, _, parent, key in rels}
    context: dict[str, tuple[str, str, str]] = {}
    for c, fk, p, k in rels:
        context.setdefault(c, (fk, p, k))
    own_fks = {t: [fk for c, fk, _, _ in rels if c == t] for t in tables}
    notes: dict = {"context": {c: f"{c}.{fk}={p}.{k}" for c, (fk, p, k) in context.items()},
                   "not_kept": [r for r, (c, fk, p, k) in zip(relations, rels) if context.get(c) != (fk, p, k)],
                   "rows_left_out": {}}
    out: dict[str, pd.DataFrame] = {}
    todo = list(tables)
    with _tf.TemporaryDirectory(dir=tmp) as ws:
        while todo:
            name = next(t for t in todo if t not in context or context[t][1] in out)
            todo.remove(name)
            real, pk = tables[name], key_of.get(name)
            if name in context:
                fk, p, k = context[name]
                rows = real[real[fk].isin(tables[p][k])]  # the engine needs every context key in the context table
                if len(rows) < len(real):
                    notes["rows_left_out"][name] = len(real) - len(rows)
                ctx_cols = [c for c in tables[p].columns if c == k or c not in own_fks[p]]
                syn = fit_generate(rows, Path(ws) / name, seed, primary_key=pk, context_key=fk,
                                   ctx_real=tables[p][ctx_cols], ctx_synthetic=out[p][ctx_cols], ctx_key=k)
            else:
                syn = fit_generate(real, Path(ws) / name, seed, n=len(real), primary_key=pk)
            if pk:
                syn[pk] = fresh_keys(syn[pk], real[pk])
            out[name] = as_real_types(syn, real)
    return out, notes


def score(real: dict, syn: dict, relations: list[str]) -> dict:
    from tabsynth.evaluate.database import evaluate_database, joined_detection, other_parents

    res = evaluate_database(real, syn, relations)
    keys = tuple({col for rel in relations for side in parse(rel)[1::2] for col in side.split("+")})
    aucs = [joined_detection(real, syn, rel, exclude=keys + other_parents(real, relations, rel)) for rel in relations]
    res["joined_detection_by_relation"] = dict(zip(relations, aucs))
    res["joined_detection_auc"] = max(a for a in aucs if a is not None) if any(a is not None for a in aucs) else None
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--databases", default="hsb,shop,order_lines")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--peer-python", default=None, help="Interpreter with the bench extra (SDV, mostlyai-engine).")
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
                if model == "fresh":
                    if db != "hsb":  # a real database has no generating process to draw from
                        rows.append({"database": db, "model": f"fresh draws (mean of {FRESH_DRAWS})",
                                     **fresh_scores(db, real)})
                    continue
                out_dir, meta = Path(tmp) / f"{db}-{model}", Path(tmp) / f"{db}-{model}.json"
                python = args.peer_python if model in PEERS and args.peer_python else None
                res = run_child(Path(__file__), ["--child", model, "--in-dir", str(in_dir), "--out-dir", str(out_dir),
                                                 "--meta", str(meta), "--relations", ",".join(RELATIONS[db]),
                                                 "--seed", str(args.seed)], python=python)
                row = {"database": db, "model": model}
                if res.get("notes"):
                    row["notes"] = res["notes"]
                if "error" in res:
                    row["error"] = res["error"]
                    print(f"{db} {model}: {res['error']}", file=sys.stderr)
                else:
                    syn = {p.stem: pd.read_parquet(p) for p in out_dir.glob("*.parquet")}
                    s = score(real, syn, RELATIONS[db])
                    row.update({"seconds": round(res["seconds"], 2),
                                "import_seconds": round(res.get("import_seconds", float("nan")), 2),
                                "peak_rss_mb": round(res["peak_rss_mb"]),
                                "rows": {k: len(v) for k, v in syn.items()}, **{k: s[k] for k in (
                                    "key_violations", "cardinality", "parent_child_trends", "column_shapes",
                                    "pair_trends", "joined_detection_auc")}, "detail": s})
                rows.append(row)
    cols = ["database", "model", "seconds", "import_seconds", "key_violations", "cardinality", "parent_child_trends",
            "column_shapes", "pair_trends", "joined_detection_auc"]
    print_table(rows, cols)
    write_json({"benchmark": "database", "command": " ".join(sys.argv), "machine": machine(), "rows": rows}, args.out)


if __name__ == "__main__":
    main()
