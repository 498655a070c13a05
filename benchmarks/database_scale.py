"""A 5-table database with a 300,000-row child: fit cost against the child alone; streamed sampling at scale.

The database is generated here (seeded; no download): ``regions`` (a 12-row
lookup), ``customers`` (20,000 rows, a region each), ``stores`` (60, a region
each), ``products`` (2,000) and ``orders`` (300,000 rows, three parents:
customers, products and stores; guest orders without a customer; the unit
price copied from the product). Every measurement runs in a fresh process
(its peak RSS is its own), one at a time:

1. **fit**: ``DatabaseSynthesizer().fit`` of the five tables (relations
   inferred, as ``tabsynth fit`` does) against ``Synthesizer("trees").fit``
   of the ``orders`` table alone: seconds and peak RSS;
2. **sample**: ``tabsynth sample db.tabsynth -o OUTDIR --scale S`` for
   S = 1, 4 (``--scales`` for more), every table written as parquet or as
   CSV: seconds, child rows per second and peak RSS. Tables with children
   are held in memory; ``orders`` (a leaf) streams in batches.

    flock /tmp/tabsynth_bench.lock nice -n 5 python benchmarks/database_scale.py
    python benchmarks/database_scale.py --orders 30000 --scales 1 --formats parquet   # quick
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, machine, peak_rss_mb, print_table, write_json  # noqa: E402


def database(n_orders: int = 300_000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Regions, customers, stores, products and orders (three parents), with real-looking dependencies."""
    rng = np.random.default_rng(seed)
    n_r, n_c, n_s, n_p = 12, 20_000, 60, 2_000
    regions = pd.DataFrame({"region_id": np.arange(1, n_r + 1), "country": rng.choice(["DE", "FR", "IT"], n_r),
                            "urban": rng.random(n_r) < 0.5})
    customers = pd.DataFrame({"customer_id": [f"C{100000 + i}" for i in range(n_c)],
                              "region_id": rng.integers(1, n_r + 1, n_c),
                              "segment": rng.choice(["retail", "business", "vip"], n_c, p=[0.75, 0.2, 0.05]),
                              "age": rng.integers(18, 85, n_c),
                              "signup": pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2000, n_c), "D")})
    stores = pd.DataFrame({"store_id": np.arange(500, 500 + n_s), "region_id": rng.integers(1, n_r + 1, n_s),
                           "size_m2": np.round(rng.lognormal(6, 0.5, n_s)), "format": rng.choice(["mall", "street"], n_s)})
    products = pd.DataFrame({"sku": np.arange(10_000, 10_000 + n_p),
                             "category": rng.choice(["food", "tools", "toys", "garden", "books"], n_p),
                             "price": np.round(rng.lognormal(3, 0.8, n_p), 2)})
    # business and vip customers order more; a customer's orders go mostly to stores of the same region
    rate = {"retail": 1.0, "business": 4.0, "vip": 9.0}
    w = customers["segment"].map(rate).to_numpy() * (customers["age"].to_numpy() >= 21)
    cust = rng.choice(n_c, n_orders, p=w / w.sum())
    prod = np.minimum((rng.pareto(1.2, n_orders) * 50).astype(int), n_p - 1)
    same = rng.random(n_orders) < 0.8
    by_region = {r: np.flatnonzero(stores["region_id"].to_numpy() == r) for r in range(1, n_r + 1)}
    store = np.array([rng.choice(by_region[r]) if s and len(by_region[r]) else rng.integers(n_s)
                      for r, s in zip(customers["region_id"].to_numpy()[cust], same)])
    seg = customers["segment"].to_numpy()[cust]
    qty = 1 + rng.poisson(np.where(seg == "retail", 0.5, 3.0))
    price = products["price"].to_numpy()[prod]
    orders = pd.DataFrame({"order_id": np.arange(1, n_orders + 1),
                           "customer_id": customers["customer_id"].to_numpy()[cust].astype(object),
                           "sku": products["sku"].to_numpy()[prod], "store_id": stores["store_id"].to_numpy()[store],
                           "quantity": qty, "unit_price": price,
                           "discount": np.round(np.where(seg == "vip", 0.15, 0.0) + rng.beta(1, 12, n_orders), 3),
                           "channel": np.where(rng.random(n_orders) < np.where(seg == "retail", 0.3, 0.6), "web", "shop"),
                           "day": customers["signup"].to_numpy()[cust] + pd.to_timedelta(rng.integers(0, 700, n_orders), "D")})
    orders["amount"] = np.round(orders["quantity"] * orders["unit_price"] * (1 - orders["discount"]), 2)
    orders.loc[rng.random(n_orders) < 0.03, "customer_id"] = None  # guest orders
    return {"regions": regions, "customers": customers, "stores": stores, "products": products, "orders": orders}


def child(argv: list[str]) -> None:
    """One measurement in this process; prints its JSON on the last line."""
    kind, args = argv[0], argv[1:]
    out: dict[str, Any] = {}
    if kind == "fit-db":
        from tabsynth.database import DatabaseSynthesizer

        n_orders, model = int(args[0]), args[1]
        tables = database(n_orders)
        t0 = time.perf_counter()
        db = DatabaseSynthesizer(random_state=0).fit(tables)
        out["seconds"] = time.perf_counter() - t0
        out["relations"] = [str(r) for r in db.relations_]
        db.save(model)
    elif kind == "fit-child":
        from tabsynth import Synthesizer

        tables = database(int(args[0]))
        t0 = time.perf_counter()
        Synthesizer("trees", random_state=0).fit(tables["orders"])
        out["seconds"] = time.perf_counter() - t0
    elif kind == "sample":
        from tabsynth.cli import main

        model, outdir, scale = args
        t0 = time.perf_counter()
        try:
            main(["sample", model, "-o", outdir, "--scale", scale, "--seed", "1", "-q"])
        except SystemExit as e:
            if e.code:
                raise
        out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = peak_rss_mb()
    print(json.dumps(out))


def run(*args: Any, timeout: float = 7200) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        return {"error": " | ".join(proc.stderr.strip().splitlines()[-3:])}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=300_000, help="rows of the child table (default 300,000)")
    ap.add_argument("--scales", default="1,4", help="comma-separated --scale values to sample")
    ap.add_argument("--formats", default="parquet,csv", help="comma-separated output formats")
    ap.add_argument("--out", type=Path, default=RESULTS / "database_scale.json")
    a = ap.parse_args()
    doc: dict[str, Any] = {"command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"), "machine": machine(),
                           "orders": a.orders, "fit": {}, "sample": []}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "db.tabsynth"
        doc["fit"]["database"] = db = run("fit-db", a.orders, model)
        doc["fit"]["child_alone"] = alone = run("fit-child", a.orders)
        if "error" in db or "error" in alone:
            print(db, alone)
        else:
            doc["fit"]["ratio"] = db["seconds"] / alone["seconds"]
            rows.append({"step": "fit 5 tables", "seconds": db["seconds"], "peak_mb": db["peak_mb"],
                         "vs child alone": doc["fit"]["ratio"]})
            rows.append({"step": "fit orders alone (trees)", "seconds": alone["seconds"], "peak_mb": alone["peak_mb"]})
            for fmt in a.formats.split(","):
                for scale in a.scales.split(","):
                    # each table in one format: the model remembers the inputs' suffixes, so rewrite them
                    outdir = Path(tmp) / f"out-{fmt}-{scale}"
                    res = run("sample", retarget(model, fmt, Path(tmp)), outdir, scale)
                    if "error" not in res:
                        n = len(pd.read_parquet(outdir / "orders.parquet", columns=["order_id"])) if fmt == "parquet" \
                            else sum(1 for _ in open(outdir / "orders.csv")) - 1
                        res.update({"orders_rows": n, "rows_per_second": n / res["seconds"]})
                    res.update({"format": fmt, "scale": float(scale)})
                    doc["sample"].append(res)
                    rows.append({"step": f"sample --scale {scale} ({fmt})", "seconds": res.get("seconds"),
                                 "peak_mb": res.get("peak_mb"), "orders rows": res.get("orders_rows"),
                                 "rows/s": res.get("rows_per_second"), "error": res.get("error")})
                    write_json(doc, a.out)
    print_table(rows, ["step", "seconds", "peak_mb", "vs child alone", "orders rows", "rows/s", "error"])
    write_json(doc, a.out)


def retarget(model: Path, fmt: str, tmp: Path) -> Path:
    """A copy of the database model whose tables are all written as ``fmt``."""
    from tabsynth.database import DatabaseSynthesizer

    db = DatabaseSynthesizer.load(model)
    db.formats_ = {name: f".{fmt}" for name in db.order_}
    path = tmp / f"db-{fmt}.tabsynth"
    if not path.exists():
        db.save(path)
    return path


if __name__ == "__main__":
    main()
