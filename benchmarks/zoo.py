"""The table zoo at size: does every hostile shape run, keep its schema, and cost no more than adult?

For each table of ``tabsynth.datasets.ZOO`` (generated with a seed, written
as CSV so the reader's typing is part of the test) and each backend, one
process runs ``tabsynth augment TABLE.csv --ratio 1`` and records: whether
it ran, whether the output kept the input's columns and dtypes (read back
with ``tabsynth.io.read_table``), wall seconds, seconds per 10,000 rows,
and the fidelity of the synthetic rows (``tabsynth.evaluate.fidelity``:
column shapes, pair trends). Adult (its first ``--rows`` rows) runs with
each backend in the same run; the cost of a table is its seconds per
row x column divided by adult's with the same backend. Target: no table
above 3 (the real-tables issue). Tables under 1,000 rows (``tiny``: 20 rows)
are timed but not compared: their few cells divide fixed costs.

    python benchmarks/zoo.py                                   # every table, gmm, 10,000 rows
    python benchmarks/zoo.py --backends gmm,vae,gan --rows 5000
    python benchmarks/zoo.py --tables long --long-rows 1000000  # the million-row table
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

#: tables with fewer rows are timed but not compared per cell with adult (fixed costs dominate them)
MIN_COMPARED_ROWS = 1000


def child(table_path: str, out_path: str, meta_path: str, backend: str, seed: int) -> None:
    import pandas as pd

    from tabsynth.cli import main
    from tabsynth.evaluate.fidelity import fidelity
    from tabsynth.io import read_table

    t0 = time.perf_counter()
    try:
        main(["augment", table_path, "-o", out_path, "--ratio", "1", "--seed", str(seed), "--backend", backend, "-q"])
    except SystemExit as e:
        if e.code:
            raise
    seconds = time.perf_counter() - t0
    real, got = read_table(table_path), read_table(out_path)
    kept = list(got.columns) == list(real.columns) and \
        got.dtypes.astype(str).tolist() == real.dtypes.astype(str).tolist()
    synthetic = got.iloc[len(real):].reset_index(drop=True)
    fid = fidelity(real, synthetic.astype(real.dtypes.to_dict()) if kept else synthetic, max_rows=20_000)
    Path(meta_path).write_text(json.dumps({
        "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "schema_kept": kept, "rows": len(real),
        "columns": real.shape[1], "column_shapes": fid["column_shapes"], "pair_trends": fid["pair_trends"],
        "input_unchanged": bool(pd.Series(got.iloc[: len(real)].astype(str).to_numpy().ravel()).equals(
            pd.Series(real.astype(str).to_numpy().ravel())))}))


def main() -> None:
    from tabsynth.datasets import ZOO, zoo_table

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--tables", default=",".join(t for t in ZOO if t != "long"),
                    help="zoo tables (default: all but 'long')")
    ap.add_argument("--backends", default="gmm")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--long-rows", type=int, default=1_000_000, help="rows of the 'long' table")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--table", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    ap.add_argument("--meta", help=argparse.SUPPRESS)
    ap.add_argument("--backend", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.table, args.output, args.meta, args.backend, args.seed)
        return

    tmp = Path(tempfile.mkdtemp(prefix="tabsynth-zoo-"))
    paths = {"adult": tmp / "adult.csv"}
    load_adult(args.data_dir).head(args.rows).to_csv(paths["adult"], index=False)
    for name in [t.strip() for t in args.tables.split(",") if t.strip()]:
        paths[name] = tmp / f"{name}.csv"
        zoo_table(name, n_rows=args.long_rows if name == "long" else args.rows, seed=args.seed).to_csv(
            paths[name], index=False)
    rows = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        base = None
        for name, path in paths.items():
            print(f"{backend}: {name} ...", flush=True)
            meta = tmp / f"{backend}-{name}.json"
            info = run_child(Path(__file__), ["--child", "--table", str(path), "--output", str(tmp / f"{backend}-{name}.out.csv"),
                                              "--meta", str(meta), "--backend", backend, "--seed", str(args.seed)],
                             timeout=args.timeout)
            row = {"backend": backend, "table": name}
            if "error" in info:
                row["error"] = info["error"]
                print(f"  failed: {info['error']}")
            else:
                cells = info["rows"] * info["columns"]
                per_cell = info["seconds"] / cells
                if name == "adult":
                    base = per_cell
                # a table of a few cells is all fixed cost (reading, choosing a model size, writing): its cost
                # per cell says nothing about growth, and is left out of the comparison (seconds still shown)
                compared = base and info["rows"] >= MIN_COMPARED_ROWS
                row.update({"rows": info["rows"], "columns": info["columns"], "seconds": info["seconds"],
                            "s_per_10k_rows": info["seconds"] / info["rows"] * 10_000,
                            "cost_vs_adult": per_cell / base if compared else None, "peak_mb": info["peak_rss_mb"],
                            "schema_kept": info["schema_kept"], "input_unchanged": info["input_unchanged"],
                            "column_shapes": info["column_shapes"], "pair_trends": info["pair_trends"]})
            rows.append(row)
    print()
    print_table(rows, ["backend", "table", "rows", "columns", "seconds", "s_per_10k_rows", "cost_vs_adult", "peak_mb",
                       "schema_kept", "input_unchanged", "column_shapes", "pair_trends", "error"])
    write_json({"benchmark": "zoo", "protocol": "tabsynth augment TABLE.csv --ratio 1 per table and backend, one "
                "process each; cost = seconds per row x column / adult's (same backend, same run)",
                "machine": machine(), "command": " ".join(sys.argv), "rows": args.rows, "results": rows},
               args.out or RESULTS / "zoo.json")


if __name__ == "__main__":
    main()
