"""How long does a full ``tabsynth evaluate`` of adult take, through the CLI? (target: 30 s)

Protocol (DESIGN.md): split adult 80/20 stratified on ``income`` with
random_state=0; write the 80% (26,048 rows) and the 20% holdout as CSV; make
synthetic tables: ``trees`` (``tabsynth augment train.csv --synthetic-only``,
the default backend; its fit is not counted) and ``shuffled`` (a shuffled copy
of the 80%, a synthetic table that copies every row). Then time, in a fresh
process each, what a user runs after a fit::

    tabsynth evaluate --real train.csv --synthetic syn.csv --holdout holdout.csv \
        --target income --json out.json --report out.html -q

(every section, every model, the default seeds). Reported per synthetic
table: wall seconds as the user sees them (interpreter start, imports, CSV
reading, JSON and report included), CPU seconds of that process, peak RSS,
the load average around the run (other work on the machine slows it), the
section and model seconds from the JSON, and the headline figures.

With ``--baseline DIR`` (a checkout of older code, e.g.
``git archive <commit> tabsynth | tar -x -C DIR``) the same commands also run
with ``PYTHONPATH=DIR`` and the figures are put side by side.

    python benchmarks/evaluate_adult.py [--synthetic trees,shuffled] [--baseline DIR] [--repeat N]
        [--data-dir ../shared/datasets] [--out benchmarks/results/evaluate_adult.json]

With ``--sdmetrics PYTHON`` (a Python that has sdmetrics installed, e.g. a
throwaway venv), fidelity is also cross-checked against SDMetrics'
QualityReport on adult train vs a column-permuted copy, a noisy copy and the
holdout, in that interpreter.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (  # noqa: E402
    DEFAULT_DATA,
    RESULTS,
    load_adult,
    machine,
    print_table,
    split,
    write_json,
)

TARGET = "income"

SDM_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from sdmetrics.reports.single_table import QualityReport
train = pd.read_csv(sys.argv[1])
meta = {"columns": {c: {"sdtype": "numerical" if train[c].dtype.kind in "if" else "categorical"} for c in train}}
out = {}
for name, path in zip(sys.argv[2::2], sys.argv[3::2]):
    syn = pd.read_csv(path)
    for label, thresholds in (("all_pairs", (0, 0)), ("default", None)):
        r = QualityReport()
        if thresholds:
            r.real_correlation_threshold, r.real_association_threshold = thresholds
        r.generate(train, syn, meta, verbose=False)
        p = r.get_properties().set_index("Property")["Score"]
        out[f"{name}/{label}"] = {"column_shapes": float(p["Column Shapes"]),
                                  "pair_trends": float(p["Column Pair Trends"])}
print(json.dumps(out))
"""


def stand_ins(train, seed: int = 1):
    """A column-permuted copy and a noisy copy of ``train`` (fidelity cross-check tables)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    perm = train.apply(lambda s: s.to_numpy()[rng.permutation(len(s))])
    noisy = train.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    for c in noisy.columns:
        if noisy[c].dtype.kind in "if":
            noisy[c] = noisy[c] + rng.normal(0, noisy[c].std() * 0.3, len(noisy))
        else:
            m = rng.random(len(noisy)) < 0.15
            noisy.loc[m, c] = rng.choice(noisy[c].dropna().unique(), int(m.sum()))
    return perm, noisy


def sdmetrics_check(python: str, train, test) -> dict:
    """Our fidelity (binning="real" and "each") vs SDMetrics' QualityReport, run in another interpreter."""
    from tabsynth.evaluate import fidelity, pair_trends

    perm, noisy = stand_ins(train)
    tables = {"permuted": perm, "noisy": noisy, "holdout": test}
    tmp = Path(tempfile.mkdtemp(prefix="tabsynth-sdm-"))
    train.to_csv(tmp / "train.csv", index=False)  # CSV: the other interpreter may run another pandas
    args = []
    for name, df in tables.items():
        df.to_csv(tmp / f"{name}.csv", index=False)
        args += [name, str(tmp / f"{name}.csv")]
    proc = subprocess.run([python, "-c", SDM_SCRIPT, str(tmp / "train.csv"), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    sdm = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = []
    for name, df in tables.items():
        ours = fidelity(train, df)
        each = fidelity(train, df, binning="each")
        thr = pair_trends(train, df, binning="each", real_correlation_threshold=0.5, real_association_threshold=0.3)
        rows.append({
            "table": name,
            "shapes_ours": ours["column_shapes"], "shapes_sdm": sdm[f"{name}/all_pairs"]["column_shapes"],
            "pairs_ours": ours["pair_trends"], "pairs_ours_each": each["pair_trends"],
            "pairs_sdm": sdm[f"{name}/all_pairs"]["pair_trends"],
            "pairs_ours_thr": thr["score"], "pairs_sdm_default": sdm[f"{name}/default"]["pair_trends"],
        })
    return {"rows": rows}


TARGET_SECONDS = 30.0

#: runs the CLI in this interpreter and reports its own CPU seconds and peak RSS on stderr at exit
WRAPPER = (
    "import atexit, json, resource, runpy, sys\n"
    "def _report():\n"
    "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    sys.stderr.write('\\nBENCH ' + json.dumps({'cpu': r.ru_utime + r.ru_stime, 'rss_mb': r.ru_maxrss / 1024}) + '\\n')\n"
    "atexit.register(_report)\n"
    "sys.argv = ['tabsynth'] + sys.argv[1:]\n"
    "runpy.run_module('tabsynth', run_name='__main__')\n"
)


def cli(args: list[str], cwd: Path, pythonpath: str | None = None) -> dict:
    """Run ``tabsynth ARGS`` in a fresh interpreter: wall seconds, CPU seconds, peak RSS, load average around it.

    ``cwd`` must not hold a ``tabsynth`` directory: ``python -c`` imports from
    the working directory first, before ``pythonpath``.
    """
    import os

    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"tabsynth {' '.join(args)} failed: {proc.stderr.strip().splitlines()[-1:]}")
    stats = json.loads(next(line for line in proc.stderr.splitlines()[::-1] if line.startswith("BENCH "))[6:])
    return {"wall_seconds": wall, "cpu_seconds": stats["cpu"], "peak_rss_mb": stats["rss_mb"],
            "load_before": load, "load_after": os.getloadavg()[0]}


def headline(res: dict) -> dict[str, float | None]:
    """The figures people read: utility means and per model, detection, privacy, fidelity."""
    u, d, p = res["utility"], res["detection"], res["privacy"]
    out = {f"utility {k}": u["summary"][k] for k in ("real", "synthetic", "augmented", "gap", "lift")}
    for name, m in u["models"].items():
        out.update({f"{name} {k}": m[k] for k in ("real", "synthetic", "augmented")})
    out.update({"detection logistic_regression": d["logistic_regression"],
                "detection gradient_boosting": d["gradient_boosting"],
                "dcr synthetic median": p["dcr_synthetic_median"], "dcr holdout median": p["dcr_holdout_median"],
                "dcr ratio": p["dcr_ratio"], "exact copies": p["exact_copies"],
                "feature selection spearman": res["feature_selection"]["spearman"],
                "column shapes": res["fidelity"]["column_shapes"], "pair trends": res["fidelity"]["pair_trends"]})
    return out


def evaluate_run(work: Path, syn: Path, tag: str, pythonpath: str | None, repeat: int) -> dict:
    """``repeat`` timed CLI runs of a full evaluation; the fastest is reported, every wall time kept."""
    runs = []
    for _ in range(repeat):
        out_json, out_html = work / f"{syn.stem}.{tag}.json", work / f"{syn.stem}.{tag}.html"
        runs.append(cli(["evaluate", "--real", str(work / "train.csv"), "--synthetic", str(syn), "--holdout",
                         str(work / "holdout.csv"), "--target", TARGET, "--json", str(out_json), "--report",
                         str(out_html), "-q"], work, pythonpath))
    best = min(runs, key=lambda r: r["wall_seconds"])
    res = json.loads(out_json.read_text())
    return {**best, "wall_seconds_all": [r["wall_seconds"] for r in runs],
            "evaluate_seconds": res["meta"]["seconds"], "section_seconds": res["meta"]["section_seconds"],
            "model_seconds": {k: v["seconds"] for k, v in res["utility"]["models"].items()},
            "train_rows": {k: v["train_rows"] for k, v in res["utility"]["models"].items()},
            "seeds": {k: v["seeds"] for k, v in res["utility"]["models"].items()},
            "max_train_rows": res["utility"].get("max_train_rows"), "notes": res["utility"]["notes"],
            "figures": headline(res), **({"result": res} if tag == "new" else {})}


def make_synthetic(name: str, work: Path, train) -> tuple[Path, dict]:
    if name == "shuffled":
        path = work / "syn_shuffled.csv"
        train.sample(frac=1.0, random_state=1).to_csv(path, index=False)
        return path, {"how": "train.sample(frac=1.0, random_state=1)"}
    if name == "trees":
        path = work / "syn_trees.csv"
        stats = cli(["augment", str(work / "train.csv"), "--synthetic-only", "-o", str(path), "--seed", "0", "-q"], work)
        return path, {"how": "tabsynth augment train.csv --synthetic-only --seed 0 (default backend)",
                      "wall_seconds": stats["wall_seconds"]}
    path = Path(name)
    if not path.exists():
        raise SystemExit(f"--synthetic: {name!r} is not 'trees', 'shuffled' or an existing table")
    return path, {"how": f"given: {path}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=RESULTS / "evaluate_adult.json")
    ap.add_argument("--synthetic", default="trees,shuffled",
                    help="comma-separated: trees, shuffled or paths of synthetic tables [trees,shuffled]")
    ap.add_argument("--baseline", metavar="DIR", help="a checkout of older code to time and score side by side")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per table and code (the fastest is kept)")
    ap.add_argument("--work-dir", type=Path, help="where the CSV, JSON and HTML files go [a temporary directory]")
    ap.add_argument("--sdmetrics", metavar="PYTHON", help="interpreter with sdmetrics installed (cross-check)")
    args = ap.parse_args()

    df = load_adult(args.data_dir)
    train, test = split(df, TARGET)
    work = (args.work_dir or Path(tempfile.mkdtemp(prefix="tabsynth-evaluate-adult-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    train.to_csv(work / "train.csv", index=False)
    test.to_csv(work / "holdout.csv", index=False)
    codes = [("new", None)] + ([("baseline", str(Path(args.baseline).resolve()))] if args.baseline else [])
    tables, rows, figures = {}, [], []
    for name in [n.strip() for n in args.synthetic.split(",") if n.strip()]:
        path, how = make_synthetic(name, work, train)
        entry = {"synthetic": how}
        for tag, pythonpath in codes:
            entry[tag] = run = evaluate_run(work, path, tag, pythonpath, args.repeat)
            sec = run["section_seconds"]
            rows.append({"table": name, "code": tag, "wall s": run["wall_seconds"], "cpu s": run["cpu_seconds"],
                         "load": f"{run['load_before']:.1f}/{run['load_after']:.1f}",
                         "utility s": sec.get("utility"), "detection s": sec.get("detection"),
                         "privacy s": sec.get("privacy"), "RSS MiB": run["peak_rss_mb"]})
        if "baseline" in entry:
            old, new = entry["baseline"]["figures"], entry["new"]["figures"]
            entry["figure_changes"] = {k: (new[k] - old[k]) if None not in (new[k], old[k]) else None for k in new}
            figures += [{"table": name, "figure": k, "baseline": old[k], "new": new[k],
                         "change": entry["figure_changes"][k]} for k in new]
        tables[name] = entry
    print_table(rows, list(rows[0]))
    if figures:
        print()
        print_table(figures, ["table", "figure", "baseline", "new", "change"])
    worst = max(r["wall s"] for r in rows if r["code"] == "new")
    print(f"\nslowest full evaluation (new code): {worst:.1f} s; target {TARGET_SECONDS:.0f} s")
    doc = {"benchmark": "evaluate_adult",
           "protocol": "DESIGN.md split (80/20 stratified on income, random_state=0); `tabsynth evaluate --real "
                       "train.csv --synthetic SYN --holdout holdout.csv --target income --json --report -q` in a "
                       "fresh process (every section, every model, default seeds)",
           "rows_train": len(train), "rows_test": len(test), "target_seconds": TARGET_SECONDS,
           "slowest_wall_seconds": worst, "tables": tables, "baseline": args.baseline,
           "machine": machine(), "command": " ".join(sys.argv)}
    if args.sdmetrics:
        check = sdmetrics_check(args.sdmetrics, train, test)
        doc["sdmetrics"] = check
        if "rows" in check:
            print("\nfidelity vs SDMetrics QualityReport (adult train vs table):")
            print_table(check["rows"], list(check["rows"][0]))
        else:
            print(f"\nsdmetrics check failed: {check['error']}")
    write_json(doc, args.out)


if __name__ == "__main__":
    main()
