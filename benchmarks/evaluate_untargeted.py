"""How long does ``evaluate`` take without a target (what ``augment --report`` runs)?

Fidelity, detection and privacy of ``trees`` rows (as many as the real rows,
seed 0) against the real table, in this fresh process (so a helper process,
if the idle cores allow one, starts inside the timing): the 400-row bundled
example and adult. Reported: each section's own seconds (sections overlap),
the evaluate wall seconds and the HTML report's.

    python benchmarks/evaluate_untargeted.py [--data-dir ../shared/datasets]
        [--out benchmarks/results/evaluate_untargeted.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, print_table, write_json  # noqa: E402

from tabsynth import Synthesizer  # noqa: E402
from tabsynth.datasets import load_example  # noqa: E402
from tabsynth.evaluate import evaluate  # noqa: E402
from tabsynth.evaluate.report import render_report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=RESULTS / "evaluate_untargeted.json")
    args = ap.parse_args()
    rows = []
    for name, real in [("example (400 rows)", load_example().head(400)), ("adult", load_adult(args.data_dir))]:
        syn = Synthesizer(random_state=0).fit(real).sample(len(real), seed=0)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        result = evaluate(real, syn)
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        render_report(result, real, syn)
        report = time.perf_counter() - t0
        rows.append({"table": name, **{k: round(v, 2) for k, v in result["meta"]["section_seconds"].items()},
                     "evaluate": round(seconds, 2), "report": round(report, 2), "load_before": round(load, 2)})
    print_table(rows, ["table", "fidelity", "detection", "privacy", "evaluate", "report", "load_before"])
    write_json({"benchmark": "evaluate_untargeted", "rows": rows, "machine": machine(),
                "command": "benchmarks/evaluate_untargeted.py"}, args.out)


if __name__ == "__main__":
    main()
