"""Scale: sampling throughput and peak memory against rows, fits on parquet datasets, Dask workers.

Every measurement runs in a fresh process (its peak RSS is its own), one at a time:

1. **sampling** from the adult model (fitted once, gmm by default) as
   ``tabsynth sample`` does it (``sample_batches`` into a ``TableWriter``,
   batch by batch) for 1e5, 1e6, 1e7 rows (``--max-rows 1e8`` to go
   further) in each output format (CSV and parquet above 1e6), and the
   in-memory path (``Synthesizer.sample(n)`` then one ``write_table``) up to
   1e6 rows, also from an earlier checkout (``--baseline DIR``): rows/s
   (seconds from the loaded model to the closed file) and peak RSS;
2. **fits on datasets**: a parquet dataset of 1e6 and 1e7 rows (several
   files) written by streaming from the adult model, then ``tabsynth fit``
   on it with the default ``--fit-rows`` (a seeded sample, exact statistics
   of all rows): seconds and peak RSS; fidelity (column shapes, pair trends
   of 20,000 sampled rows against 50,000 rows of the dataset) compared, for
   the largest dataset, with a fit on a 1e6-row sample of the same data
   (``--fit-rows 1000000``); the default fit followed by ``--fit-passes 2``
   (two EM iterations over every row, gmm) on each dataset;
3. **Dask**: ``tabsynth sample --workers 1`` and ``--workers 2`` (a local
   cluster of worker processes) for 1e6 rows to a parquet dataset: seconds,
   speed-up, and whether the rows are identical.

Prints a table, writes JSON and a log-log SVG plot (time and peak memory
against rows) next to it.

    python benchmarks/scale.py                                  # the full run (about 30 minutes on 2 cores)
    python benchmarks/scale.py --max-rows 1e6 --formats parquet --fit-sizes 1e6 --quick
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, print_table, write_json  # noqa: E402

FORMATS = ["parquet", "csv", "jsonl", "feather"]


def child(argv: list[str]) -> None:
    """One measurement in this process: print {"seconds", "peak_mb", ...} as JSON on the last line."""
    kind, args = argv[0], argv[1:]
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if kind == "cli":
        from tabsynth.cli import main

        try:
            main(args)
        except SystemExit as e:
            if e.code:
                raise
    elif kind == "stream":  # what `tabsynth sample` does, timed from the loaded model: batches to one file
        from tabsynth import Synthesizer
        from tabsynth.io import TableWriter

        model, rows, out = args
        m = Synthesizer.load(model)
        t0 = time.perf_counter()
        with TableWriter(out, layout=m.text_layout_) as writer:
            for batch in m.sample_batches(int(float(rows)), seed=1):
                writer.write(batch)
    elif kind == "memory":  # the in-memory path: one DataFrame of every row, then one write
        from tabsynth import Synthesizer
        from tabsynth.io import write_table

        model, rows, out, *backend = args
        if model.endswith(".parquet"):  # a baseline checkout (older model files differ): fit here, time the rest
            import pandas as pd

            m = Synthesizer(*backend, random_state=0).fit(pd.read_parquet(model))
            t0 = time.perf_counter()
        else:
            m = Synthesizer.load(model)
            t0 = time.perf_counter()
        write_table(m.sample(int(float(rows)), seed=1), out)
    elif kind == "fidelity":  # sampled rows of a model against rows of the dataset
        import pandas as pd

        from tabsynth import Synthesizer
        from tabsynth.dataset import scan
        from tabsynth.evaluate.fidelity import column_shapes, pair_trends

        model, data = args
        real = scan(data, fit_rows=50_000, seed=7).sample
        syn = Synthesizer.load(model).sample(20_000, seed=2)
        real = real[syn.columns]
        extra = {"column_shapes": column_shapes(real, syn)["score"], "pair_trends": pair_trends(real, syn)["score"]}
        del pd
    else:
        raise SystemExit(f"unknown child {kind}")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, **extra}))


def run(kind: str, *args: Any, timeout: float = 7200, pythonpath: str | None = None) -> dict[str, Any]:
    import os

    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    proc = subprocess.run([sys.executable, __file__, "--child", kind, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-2:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sizes(max_rows: float, start: float = 1e5) -> list[int]:
    out, n = [], start
    while n <= max_rows * 1.0001:
        out.append(int(n))
        n *= 10
    return out


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def write_dataset(model: Path, rows: int, out: Path, files: int) -> float:
    """A parquet dataset of ``rows`` rows in ``files`` files, sampled from ``model`` (streamed)."""
    out.mkdir()
    per = -(-rows // files)
    t0 = time.perf_counter()
    for i in range(files):
        n = min(per, rows - i * per)
        res = run("cli", "sample", model, "--rows", n, "--seed", 100 + i, "-o", out / f"part-{i:03d}.parquet", "-q")
        if "error" in res:
            raise RuntimeError(f"writing the dataset failed: {res['error']}")
    return time.perf_counter() - t0


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """A log-log SVG: seconds and peak MiB against rows, one line per format / path."""
    import math

    series: dict[str, list[tuple[float, float, float]]] = {}
    for r in rows:
        if r["step"] == "sample" and "error" not in r:
            series.setdefault(r["path"], []).append((r["rows"], r["seconds"], r["peak_mb"]))
    if not series:
        return
    W, H, pad = 360, 260, 50
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{2 * W}' height='{H}' font-family='sans-serif' "
           "font-size='10'><rect width='100%' height='100%' fill='white'/>"]
    xs = [p[0] for s in series.values() for p in s]
    for panel, (idx, label) in enumerate([(1, "seconds"), (2, "peak RSS (MiB)")]):
        ys = [p[idx] for s in series.values() for p in s]
        x0, x1 = math.log10(min(xs)), math.log10(max(xs)) + 1e-9
        y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)) + 1e-9)
        ox = panel * W

        def fx(v: float) -> float:
            return ox + pad + (math.log10(v) - x0) / (x1 - x0) * (W - 1.5 * pad)

        def fy(v: float) -> float:
            return H - pad + -(math.log10(v) - y0) / max(y1 - y0, 1) * (H - 1.5 * pad)

        out.append(f"<text x='{ox + W / 2}' y='14' text-anchor='middle'>{label} against rows (log-log)</text>")
        out.append(f"<line x1='{ox + pad}' y1='{H - pad}' x2='{ox + W - pad / 2}' y2='{H - pad}' stroke='black'/>")
        out.append(f"<line x1='{ox + pad}' y1='{H - pad}' x2='{ox + pad}' y2='{pad / 2}' stroke='black'/>")
        for e in range(int(x0), int(math.ceil(x1)) + 1):
            if x0 - 1e-9 <= e <= x1 + 1e-9:
                out.append(f"<text x='{fx(10 ** e):.1f}' y='{H - pad + 14}' text-anchor='middle'>1e{e}</text>")
        for e in range(int(y0), int(y1) + 1):
            out.append(f"<text x='{ox + pad - 4}' y='{fy(10 ** e) + 3:.1f}' text-anchor='end'>1e{e}</text>")
        for k, (name, pts) in enumerate(sorted(series.items())):
            pts = sorted(pts)
            c = colours[k % len(colours)]
            line = " ".join(f"{fx(p[0]):.1f},{fy(p[idx]):.1f}" for p in pts)
            out.append(f"<polyline points='{line}' fill='none' stroke='{c}' stroke-width='1.5'/>")
            out.append(f"<text x='{ox + pad + 6}' y='{pad / 2 + 12 * (k + 1)}' fill='{c}'>{name}</text>")
    out.append("</svg>")
    path.write_text("\n".join(out))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--backend", default="gmm")
    ap.add_argument("--max-rows", type=float, default=1e7, help="largest sample size (1e8 is opt-in)")
    ap.add_argument("--memory-max-rows", type=float, default=1e6, help="largest size for the in-memory path")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--big-formats", default="parquet,csv", help="formats measured above 1e6 rows")
    ap.add_argument("--fit-sizes", default="1e6,1e7", help="dataset sizes to fit on")
    ap.add_argument("--fit-passes", default="2",
                    help="after each default fit, also fit with these --fit-passes (EM over all rows; gmm only)")
    ap.add_argument("--dask-rows", type=float, default=1e6)
    ap.add_argument("--quick", action="store_true", help="skip the reference fit on a 1e6-row sample")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="a checkout of an earlier tabsynth: its in-memory path is measured too (it fits its own "
                         "adult model; only sampling and writing are timed)")
    ap.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tabsynth-scale-"))
    rows: list[dict[str, Any]] = []
    state: dict[str, Any] = {"dask_identical": None, "dask_speedup": None}

    def fit_dataset(data: Path, size: int, label: str, fit_rows: int | None, passes: int = 0) -> None:
        m = tmp / f"fit-{size}-{fit_rows}-{passes}.tabsynth"
        cmd = ["fit", data, "-o", m, "--backend", args.backend, "--seed", "0", "-q"]
        cmd += ["--fit-rows", fit_rows] if fit_rows else []
        cmd += ["--fit-passes", passes] if passes else []
        res = run("cli", *cmd)
        res.update(rows=size, step="fit dataset", path=label)
        if "error" not in res:
            res.update({k: v for k, v in run("fidelity", m, data).items() if k in ("column_shapes", "pair_trends")})
        rows.append(res)
        print(json.dumps(res), flush=True)

    def save(complete: bool = False) -> None:  # after every step: an interrupted run keeps what it measured
        doc = {"benchmark": "scale", "machine": machine(), "command": " ".join(sys.argv), "backend": args.backend,
               "complete": complete, "results": rows, **state}
        write_json(doc, args.out)

    class Rows(list):
        def append(self, item: dict[str, Any]) -> None:
            super().append(item)
            save()

    rows = Rows()
    try:
        adult = tmp / "adult.parquet"
        load_adult(args.data_dir).to_parquet(adult)
        model = tmp / "adult.tabsynth"
        res = run("cli", "fit", adult, "-o", model, "--backend", args.backend, "--seed", "0", "-q")
        rows.append({"step": "fit adult", "path": args.backend, "rows": 32561, **res})
        print(f"fitted the adult model: {res}", flush=True)
        formats = [f for f in args.formats.split(",") if f]
        big = [f for f in args.big_formats.split(",") if f in formats]
        def sample_step(kind: str, source: Path, n: int, out: Path, label: str, pythonpath: str | None = None,
                        file_size: bool = False) -> None:
            extra = [args.backend] if pythonpath else []  # the baseline fits its own model with the same backend
            res = run(kind, source, n, out, *extra, pythonpath=pythonpath)
            res.update(rows=n, step="sample", path=label)
            if "error" not in res:
                res["rows_per_second"] = n / res["seconds"]
                if file_size:
                    res["file_mb"] = size_of(out) / 2**20
                out.unlink()
            rows.append(res)
            print(json.dumps(res), flush=True)

        for n in sizes(args.max_rows):
            for fmt in (formats if n <= 1_000_000 else big):
                sample_step("stream", model, n, tmp / f"s.{fmt}", f"streamed {fmt}", file_size=True)
            if n <= args.memory_max_rows:
                sample_step("memory", model, n, tmp / "m.parquet", "in-memory parquet")
            if n <= args.memory_max_rows and args.baseline:
                sample_step("memory", adult, n, tmp / "b.parquet", "in-memory parquet (baseline)",
                            pythonpath=args.baseline)
        # Dask: same rows with 1 and 2 local worker processes
        n = int(args.dask_rows)
        outs = {}
        for w in (1, 2):
            out = tmp / f"dask-{w}.parquet"
            res = run("cli", "sample", model, "--rows", n, "--seed", "1", "-o", out, "--workers", w, "-q")
            res.update(rows=n, step="dask sample", path=f"--workers {w}")
            rows.append(res)
            outs[w] = out
            print(json.dumps(res), flush=True)
        try:
            import pandas as pd

            same = pd.read_parquet(outs[1]).equals(pd.read_parquet(outs[2]))
        except Exception as e:  # (a failed run above)
            same = f"not compared: {e}"
        dask_rows = [r for r in rows if r["step"] == "dask sample" and "error" not in r]
        speedup = dask_rows[0]["seconds"] / dask_rows[1]["seconds"] if len(dask_rows) == 2 else None
        state.update(dask_identical=same, dask_speedup=speedup)
        save()
        fit_sizes = [int(float(s)) for s in args.fit_sizes.split(",") if s]
        reference = None
        for size in fit_sizes:
            data = tmp / f"data-{size}"
            files = max(2, min(20, size // 500_000))
            try:
                seconds = write_dataset(model, size, data, files)
            except RuntimeError as e:
                rows.append({"step": "write dataset", "path": f"{files} parquet files", "rows": size, "error": str(e)})
                continue
            rows.append({"step": "write dataset", "path": f"{files} parquet files", "rows": size, "seconds": seconds,
                         "file_mb": size_of(data) / 2**20})
            fit_dataset(data, size, "default --fit-rows", None)
            for passes in [int(p) for p in args.fit_passes.split(",") if p]:
                fit_dataset(data, size, f"default --fit-rows, --fit-passes {passes}", None, passes)
            if size == max(fit_sizes) and not args.quick:
                reference = (data, size)  # the reference fit on a 1e6-row sample comes last (the longest step)
            else:
                shutil.rmtree(data)
        if reference is not None:
            fit_dataset(reference[0], reference[1], "--fit-rows 1000000", 1_000_000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in rows:
        for k in ("seconds", "peak_mb", "rows_per_second", "file_mb", "column_shapes", "pair_trends"):
            if isinstance(r.get(k), float):
                r[k] = round(r[k], 4 if k in ("column_shapes", "pair_trends") else 1)
    print()
    print_table(rows, ["step", "path", "rows", "seconds", "peak_mb", "rows_per_second", "file_mb", "column_shapes",
                       "pair_trends", "error"])
    print(f"\nDask: 1 vs 2 workers identical rows: {state['dask_identical']}; speed-up {state['dask_speedup']}")
    save(complete=True)
    plot(rows, args.out.with_suffix(".svg"))
    print(f"wrote {args.out} and {args.out.with_suffix('.svg')}")


if __name__ == "__main__":
    main()
