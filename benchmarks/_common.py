"""Shared plumbing for the benchmarks: data, splits, timing, printing, JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"


def load_adult(data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / "adult.csv"
    if not path.exists():
        sys.exit(f"error: {path} not found; pass --data-dir")
    return pd.read_csv(path, skipinitialspace=True, na_values=["?"])


def split(df: pd.DataFrame, target: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DESIGN.md split: 80/20, stratified on the target, random_state=0."""
    from sklearn.model_selection import train_test_split

    strat = df[target] if target else None
    train, test = train_test_split(df, test_size=0.2, stratify=strat, random_state=0)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(script: Path, args: list[str], timeout: float | None = None, python: str | None = None) -> dict[str, Any]:
    """Run one model in a fresh process (so its peak memory is its own); return its JSON.

    ``python``: the interpreter (default: this one), e.g. a peer's own environment.
    """
    meta = Path(args[args.index("--meta") + 1])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([python or sys.executable, str(script), *args], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s (--timeout)", "wall_seconds": time.perf_counter() - t0}
    if proc.returncode != 0 or not meta.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}", "wall_seconds": time.perf_counter() - t0}
    return json.loads(meta.read_text())


def machine() -> dict[str, Any]:
    import numpy
    import sklearn

    info = {"python": platform.python_version(), "cpus": os.cpu_count(), "pandas": pd.__version__,
            "numpy": numpy.__version__, "scikit-learn": sklearn.__version__, "platform": platform.platform()}
    try:
        import tabsynth

        info["tabsynth"] = tabsynth.__version__
    except ImportError:
        pass
    return info


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 1000 else f"{v:.0f}"
        return "-" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print(" | ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(row, widths)))


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    os.replace(tmp, path)
    print(f"\nwrote {path}")
