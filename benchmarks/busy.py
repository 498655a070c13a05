"""Speed on a busy machine: tabsynth CLI runs while other CPU-bound processes hold every core.

Question: does tabsynth stay fast when it shares the machine (a laptop, a CI
runner, a Dask worker)? Threads that spin while waiting for busy cores used
to cost 10-20x; the default is now one thread (see tabsynth/_threads.py).

Cases (each a fresh `tabsynth` process, timed by wall clock):
* a 400-row table (the bundled example's first 400 rows): `augment --report`,
  seeded and unseeded, idle and with `--hogs` CPU-bound processes beside it;
* adult (the shared table): `augment --report`, idle and busy;
* the neural backends (`vae`, `gan`, fixed epochs) on a 4,000-row adult
  sample: `augment`, idle and busy; the busy/idle ratio (fair sharing of
  2 cores among 3 processes alone costs about 1.5-2x). Their training picks
  its thread count from the cores other processes leave idle
  (``tabsynth._threads.AdaptiveThreads``); ``--neural-threads auto,1,2``
  also runs them with each fixed ``--threads`` count, to compare;
* `trees` on adult: `fit` and `sample --rows 1000000` to parquet, idle and
  busy; both use the idle cores (the columns' trees, the sampling blocks),
  ``--trees-threads auto,1,2`` compares with fixed counts.

    python benchmarks/busy.py [--data-dir ../shared/datasets] [--hogs 2] [--repeats 3]

Prints a table and writes benchmarks/results/busy.json.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_DATA, RESULTS, machine, print_table, write_json  # noqa: E402


def _hog() -> None:  # pragma: no cover - a CPU-bound child
    x = 0
    while True:
        x += 1


class Hogs:
    """``n`` CPU-bound processes for the duration of a ``with`` block."""

    def __init__(self, n: int):
        self.n = n
        self.procs: list[mp.Process] = []

    def __enter__(self) -> Hogs:
        self.procs = [mp.Process(target=_hog, daemon=True) for _ in range(self.n)]
        for p in self.procs:
            p.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.join()


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tabsynth", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"tabsynth {' '.join(args)} failed: {proc.stderr.strip()}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--hogs", type=int, default=2, help="CPU-bound processes beside tabsynth (default 2)")
    ap.add_argument("--repeats", type=int, default=3, help="busy runs of the 400-row case (default 3)")
    ap.add_argument("--epochs", type=int, default=10, help="epochs of the neural backends (default 10)")
    ap.add_argument("--skip-adult", action="store_true")
    ap.add_argument("--neural-threads", default="auto",
                    help="thread settings of the neural cases: auto (the default, adaptive) and/or counts, e.g. auto,1,2")
    ap.add_argument("--trees-threads", default="auto",
                    help="thread settings of the trees fit and 1M-row sampling cases, e.g. auto,1,2")
    ap.add_argument("--out", type=Path, default=RESULTS / "busy.json")
    opts = ap.parse_args()

    from tabsynth.datasets import load_example
    from tabsynth.io import read_table

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        small = d / "t400.csv"
        load_example().head(400).to_csv(small, index=False)
        cases = []
        for i in range(2):
            seed = ["--seed", str(i)] if i == 0 else []
            cases.append(("400 rows augment --report", "idle", "seeded" if seed else "unseeded",
                          ["augment", str(small), "--report", str(d / "r.html"), "-o", str(d / "o.csv"), "-q", *seed]))
        for i in range(opts.repeats):
            seed = ["--seed", str(i)] if i < opts.repeats - 1 else []
            cases.append(("400 rows augment --report", "busy", "seeded" if seed else "unseeded",
                          ["augment", str(small), "--report", str(d / "r.html"), "-o", str(d / "o.csv"), "-q", *seed]))
        adult_path = opts.data_dir / "adult.csv"
        if not opts.skip_adult and adult_path.exists():
            for state in ("idle", "busy"):
                cases.append(("adult augment --report", state, "seeded",
                              ["augment", str(adult_path), "--na-values", "?", "--report", str(d / "r.html"),
                               "-o", str(d / "a.csv"), "-q", "--seed", "0"]))
            sample = d / "adult4k.csv"
            read_table(adult_path, na_values=["?"]).sample(4000, random_state=0).to_csv(sample, index=False)
            for backend in ("vae", "gan"):
                for threads in [t.strip() for t in opts.neural_threads.split(",") if t.strip()]:
                    fixed = [] if threads == "auto" else ["--threads", threads]
                    label = "threads auto" if threads == "auto" else f"--threads {threads}"
                    for state in ("idle", "busy"):
                        cases.append((f"{backend} augment, 4k adult rows, {opts.epochs} epochs, {label}", state,
                                      "seeded", ["augment", str(sample), "--backend", backend, "--epochs",
                                                 str(opts.epochs), "-o", str(d / "n.csv"), "-q", "--seed", "0",
                                                 *fixed]))
            model = d / "adult.tabsynth"
            subprocess.run([sys.executable, "-m", "tabsynth", "fit", str(adult_path), "--na-values", "?", "-o",
                            str(model), "-q", "--seed", "0"], check=True)
            for threads in [t.strip() for t in opts.trees_threads.split(",") if t.strip()]:
                fixed = [] if threads == "auto" else ["--threads", threads]
                label = "threads auto" if threads == "auto" else f"--threads {threads}"
                for state in ("idle", "busy"):
                    cases.append((f"trees fit adult, {label}", state, "seeded",
                                  ["fit", str(adult_path), "--na-values", "?", "-o", str(d / "t.tabsynth"), "-q",
                                   "--seed", "0", *fixed]))
                    cases.append((f"trees sample 1M rows to parquet, {label}", state, "seeded",
                                  ["sample", str(model), "--rows", "1000000", "-o", str(d / "s.parquet"), "-q",
                                   "--seed", "1", *fixed]))
        elif not opts.skip_adult:
            print(f"note: {adult_path} not found; adult and neural cases skipped (pass --data-dir)")
        for name, state, seeded, args in cases:
            if state == "busy":
                with Hogs(opts.hogs):
                    seconds = timed(args)
            else:
                seconds = timed(args)
            rows.append({"case": name, "machine": state if state == "idle" else f"busy ({opts.hogs} hogs)",
                         "seed": seeded, "seconds": round(seconds, 2)})
            print(f"{name:45s} {rows[-1]['machine']:15s} {seeded:9s} {seconds:7.2f} s", flush=True)
    ratios = []
    for name in sorted({r["case"] for r in rows}):
        idle = [r["seconds"] for r in rows if r["case"] == name and r["machine"] == "idle"]
        busy = [r["seconds"] for r in rows if r["case"] == name and r["machine"] != "idle"]
        if idle and busy:
            ratios.append({"case": name, "idle s (best)": min(idle), "busy s (worst)": max(busy),
                           "busy / idle": round(max(busy) / min(idle), 2)})
    print()
    print_table(rows, ["case", "machine", "seed", "seconds"])
    print()
    print_table(ratios, ["case", "idle s (best)", "busy s (worst)", "busy / idle"])
    write_json({"machine": machine(), "hogs": opts.hogs, "threads": os.environ.get("TABSYNTH_THREADS", "1 (default)"),
                "runs": rows, "ratios": ratios, "command": "python " + " ".join(sys.argv)}, opts.out)


if __name__ == "__main__":
    main()
