"""How long does ``tabsynth.evaluate`` take on adult, section by section?

Protocol (DESIGN.md): split adult 80/20 stratified on ``income`` with
random_state=0; evaluate a shuffled copy of the 80% (26,048 rows, a stand-in
for a synthetic table) against the 20% holdout with every section and the
default models and seeds. Prints per-section wall seconds, the headline
figures and peak memory, and writes them as JSON. Target: under 3 minutes on
2 cores.

    python benchmarks/evaluate_adult.py [--data-dir ../shared/datasets] [--out benchmarks/results/evaluate_adult.json]

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
    peak_rss_mb,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=RESULTS / "evaluate_adult.json")
    ap.add_argument("--sdmetrics", metavar="PYTHON", help="interpreter with sdmetrics installed (cross-check)")
    args = ap.parse_args()

    from tabsynth.evaluate import evaluate, summary_table

    df = load_adult(args.data_dir)
    train, test = split(df, TARGET)
    syn = train.sample(frac=1.0, random_state=1).reset_index(drop=True)
    steps: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    res = evaluate(train, syn, holdout=test, target=TARGET,
                   progress=lambda s, i, n: steps.append((s, time.perf_counter() - t0)))
    wall = time.perf_counter() - t0
    print(summary_table(res))
    print()
    sec = res["meta"]["section_seconds"]
    print_table([{"section": k, "seconds": v} for k, v in sec.items()] + [{"section": "total", "seconds": wall}],
                ["section", "seconds"])
    print()
    um = res["utility"]["models"]
    print_table([{"model": k, "real": v["real"], "synthetic": v["synthetic"], "augmented": v["augmented"],
                  "seeds": len(v["seeds"]), "seconds": v["seconds"]} for k, v in um.items()],
                ["model", "real", "synthetic", "augmented", "seeds", "seconds"])
    doc = {"benchmark": "evaluate_adult",
           "protocol": "DESIGN.md split (80/20 stratified on income, random_state=0); synthetic = shuffled train copy",
           "rows_train": len(train), "rows_test": len(test), "wall_seconds": wall,
           "section_seconds": sec, "model_seconds": {k: v["seconds"] for k, v in um.items()},
           "peak_rss_mb": peak_rss_mb(), "machine": machine(), "command": " ".join(sys.argv), "result": res}
    print(f"\nwall {wall:.1f} s, peak RSS {doc['peak_rss_mb']:.0f} MiB")
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
