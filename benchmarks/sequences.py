"""Entities with ordered histories: tabsynth's SequenceSynthesizer against SDV's PAR and mostlyai-engine, one run.

Tables: ``wages`` (../shared/datasets/wages: 888 workers, 6,402 yearly rows,
entity ``id``, order ``exper``, constant, derived and re-centred columns),
``panel`` (generated: 300 workers observed yearly for 1 to 8 years, sex and
schooling constant, an autocorrelated wage) and ``schools`` (generated,
nested entities: 100 schools, their pupils, each pupil's yearly scores;
entity ``["school", "pupil"]``, order ``year``). Each model fits the table in
its own process and samples as many (outermost) entities; :func:`tabsynth.evaluate.sequences.evaluate_sequences`
scores the histories (entity-constant and order violations, length shape,
lag-1 autocorrelation and mean-step errors, a detector on per-entity
summaries: ROC-AUC, 0.5 = indistinguishable).

``sdv-par``: PAR at its defaults, the columns constant within an entity as
its context. ``mostlyai``: mostlyai-engine's TabularARGN at its defaults
(CPU, seeded, a workspace of its own): the entity table (one row per entity,
its constant columns) fitted flat, the rows as sequences keyed by the entity
id in that table's context, generated on the synthetic entity table. Nested
entities: tabsynth takes ``["school", "pupil"]``; mostlyai chains its
context (schools flat, pupils as sequences per school, rows as sequences per
pupil with the school's columns in the pupil's context); PAR cannot nest and
runs on the innermost entity (pupil) with the school's columns, the school
id included, as context, sampling as many pupils.

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

MODELS = ["tabsynth", "sdv-par", "mostlyai"]
PEERS = {"sdv-par", "mostlyai"}
TABLES = {"wages": (["id"], "exper"), "panel": (["worker"], "year"), "schools": (["school", "pupil"], "year")}


def load(name: str, data_dir: Path) -> pd.DataFrame:
    if name == "wages":
        return pd.read_csv(data_dir / "wages" / "wages.csv")
    if name == "panel":
        from test_sequences import panel

        return panel()
    if name == "schools":
        from test_sequences import schools

        return schools(100)
    raise SystemExit(f"error: unknown table {name!r}; choose from {', '.join(TABLES)}")


def constant_within(df: pd.DataFrame, key: str, exclude: set[str]) -> list[str]:
    """Columns (not in ``exclude``) with one value (missing counts as one) within every ``key`` group."""
    return [c for c in df.columns if c not in exclude and (df.groupby(key)[c].nunique(dropna=False) <= 1).all()]


def child(model: str, in_path: str, out_path: str, meta_path: str, ids: list[str], order: str, seed: int) -> None:
    df = pd.read_parquet(in_path)
    t0 = time.perf_counter()
    try:
        out, notes = fit_sample(model, df, ids, order, seed, Path(out_path).parent)
    except Exception as e:  # a peer's refusal, in one line (its own words)
        raise SystemExit(f"{type(e).__name__}: {str(e).strip().splitlines()[0]}") from e
    seconds = time.perf_counter() - t0
    out.to_parquet(out_path)
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "notes": notes}))


def fit_sample(model: str, df: pd.DataFrame, ids: list[str], order: str, seed: int,
               tmp: Path) -> tuple[pd.DataFrame, dict]:
    notes: dict = {}
    if model == "tabsynth":
        from tabsynth.sequences import SequenceSynthesizer

        entity = ids if len(ids) > 1 else ids[0]
        out = SequenceSynthesizer(entity, order=order, random_state=seed).fit(df).sample(df[ids[0]].nunique(), seed=seed)
    elif model == "sdv-par":
        from sdv.metadata import Metadata
        from sdv.sequential import PARSynthesizer

        entity = ids[-1]  # PAR has one sequence key: nested entities run on the innermost, the outer ids as context
        meta = Metadata.detect_from_dataframes({"table": df})
        meta.update_column(table_name="table", column_name=entity, sdtype="id")
        meta.set_sequence_key(table_name="table", column_name=entity)
        # an order of few values (years 2015..2019) is detected as a category, which PAR refuses as its index
        meta.update_column(table_name="table", column_name=order,
                           sdtype="datetime" if pd.api.types.is_datetime64_any_dtype(df[order]) else "numerical")
        meta.set_sequence_index(table_name="table", column_name=order)
        const = constant_within(df, entity, {entity, order})
        if len(ids) > 1:
            notes = {"entity": entity, "context_columns": const}
        synth = PARSynthesizer(meta, context_columns=const)  # its defaults otherwise (128 epochs)
        synth.fit({"table": df})
        out = synth.sample_sequences(num_sequences=df[entity].nunique())
        out = out["table"] if isinstance(out, dict) else out
    elif model == "mostlyai":
        out = mostlyai_histories(df, ids, order, seed, tmp)
    else:
        raise ValueError(f"unknown model {model!r}")
    return out, notes


def mostlyai_histories(df: pd.DataFrame, ids: list[str], order: str, seed: int, tmp: Path) -> pd.DataFrame:
    """Each entity level's table in the context of the level above (the outermost flat), the rows last."""
    import tempfile as _tf

    from _mostlyai import as_real_types, fit_generate, fresh_keys

    taken, levels = {*ids, order}, []
    for key in ids:  # the columns first constant at this level
        levels.append(constant_within(df, key, taken))
        taken |= set(levels[-1])
    df = df.sort_values([ids[-1], order], kind="stable")
    ctx_real = ctx_syn = syn_all = None  # the context so far (this level's key and every outer level's columns)
    with _tf.TemporaryDirectory(dir=tmp) as ws:
        for i, key in enumerate(ids + [None]):
            outer = ids[i - 1] if i else None
            if key is None:  # the rows: order and the varying columns
                real = df[[outer, order, *[c for c in df.columns if c not in taken]]]
            else:
                real = df.drop_duplicates(key)[[c for c in (outer, key, *levels[i]) if c]]
            if outer is None:
                syn = fit_generate(real, Path(ws) / "0", seed, n=real[key].nunique(), primary_key=key)
            else:
                syn = fit_generate(real, Path(ws) / str(i), seed, primary_key=key, context_key=outer,
                                   ctx_real=ctx_real, ctx_synthetic=ctx_syn, ctx_key=outer)
            if key is not None:
                syn[key] = fresh_keys(syn[key], real[key])
                ctx_real, ctx_syn = ((t if outer is None else t.merge(c, on=outer).drop(columns=outer))
                                     for t, c in ((real, ctx_real), (syn, ctx_syn)))
            syn_all = syn if syn_all is None else syn.merge(syn_all, on=outer, how="left", sort=False)
    return as_real_types(syn_all, df)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default="wages,panel,schools")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--peer-python", default=None, help="Interpreter with the bench extra (SDV, mostlyai-engine).")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--out", type=Path, default=RESULTS / "sequences.json")
    ap.add_argument("--child"), ap.add_argument("--in-path"), ap.add_argument("--meta"), ap.add_argument("--out-path")
    ap.add_argument("--entity"), ap.add_argument("--order")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.in_path, args.out_path, args.meta, args.entity.split(","), args.order, args.seed)
    from tabsynth.evaluate.sequences import evaluate_sequences

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for table in [t for t in args.tables.split(",") if t]:
            ids, order = TABLES[table]
            real = load(table, args.data_dir)
            path = Path(tmp) / f"{table}.parquet"
            real.to_parquet(path)
            for model in [m for m in args.models.split(",") if m]:
                out, meta = Path(tmp) / f"{table}-{model}.parquet", Path(tmp) / f"{table}-{model}.json"
                python = args.peer_python if model in PEERS and args.peer_python else None
                res = run_child(Path(__file__), ["--child", model, "--in-path", str(path), "--out-path", str(out),
                                                 "--meta", str(meta), "--entity", ",".join(ids), "--order", order,
                                                 "--seed", str(args.seed)], timeout=args.timeout, python=python)
                row = {"table": table, "model": model}
                if res.get("notes"):
                    row["notes"] = res["notes"]
                if "error" in res:
                    row["error"] = res["error"]
                    print(f"{table} {model}: {res['error']}", file=sys.stderr)
                else:
                    syn = pd.read_parquet(out)
                    s = evaluate_sequences(real, syn, entity=ids if len(ids) > 1 else ids[0], order=order)
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
