"""Rules that hold in every real row: how many synthetic rows break them, and cells filled that cannot exist.

Synthesis (DESIGN.md split: 80/20 stratified on the target, random_state=0;
fit on the 80%, sample as many rows): every model in its own process. The
judge is the set of rules :func:`tabsynth.rules.find_rules` reads off the
real training part (allowed combinations of two columns, a number equal to
another plus a constant), plus, on the generated tables, the rules they were
built with, counted one by one:

* ``pension`` (7,400 rows, like a 401(k) survey): participation only when
  eligible, a match rate present exactly for participants, a plan type
  present exactly for the eligible, age and years of service with
  ``age_at_hire = age - service``... (target ``participates``);
* ``cohort`` (10,000 rows): a cause of death present exactly for the dead,
  ``age_at_entry = age - 9``, a follow-up that is missing exactly for the
  dead (target ``died``);
* ``adult`` (../shared/datasets): the rules its rows show (education and
  education-num, relationship and marital status, workclass "?" and
  occupation "?").

Imputation (``--impute``): the cohort with 20% of its other cells removed
(MCAR, seed 0) and the cause of death missing, as it is, for everyone
alive: tabsynth (default: structural cells left missing), tabsynth
``fill_structural=True`` and MissForest (mixed-type version of
benchmarks/imputation.py) fill it; counted: causes of death filled for
people alive (cells that cannot exist), and the error on the MCAR cells.

    python benchmarks/rules.py                                   # tabsynth backends, all tables
    python benchmarks/rules.py --models trees,trees-norules,gmm,mostlyai --peer-python /tmp/bench/bin/python
    python benchmarks/rules.py --impute --tables cohort --models ""
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, peak_rss_mb, print_table, run_child, split, write_json  # noqa: E402

TARGETS = {"pension": "participates", "cohort": "died", "adult": "income"}
MODELS = ["trees", "trees-norules", "gmm", "vae", "gan", "mostlyai"]
PEERS = {"mostlyai"}


def pension(n: int = 7400, seed: int = 0) -> pd.DataFrame:
    """A 401(k)-like survey: who is eligible, who participates, and what exists only for them."""
    rng = np.random.default_rng(seed)
    age = rng.integers(25, 65, n)
    service = np.minimum(age - 20, rng.gamma(2.0, 4.0, n).round().astype(int))
    income = np.round(np.exp(rng.normal(10.5, 0.5, n) + 0.01 * service), 0)
    union = rng.random(n) < 0.2
    eligible = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.1 * service + 1.2 * union + (income > 40000))))
    participates = eligible & (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 0.00003 * (income - 30000)))))
    plan = np.where(eligible, rng.choice(["defined benefit", "defined contribution", "hybrid"], n, p=[.3, .6, .1]),
                    None)
    match = np.where(participates, np.round(rng.uniform(0, 0.06, n) + 0.01 * union, 3), np.nan)
    return pd.DataFrame({"age": age, "service": service, "age_at_hire": age - service, "income": income,
                         "union": union, "eligible": eligible.astype(int), "plan": plan,
                         "participates": participates.astype(int), "match_rate": match})


def cohort(n: int = 10000, seed: int = 0) -> pd.DataFrame:
    """A cohort: the cause of death exists exactly for the dead, the follow-up exactly for the living."""
    rng = np.random.default_rng(seed)
    age = rng.integers(40, 95, n)
    smoker = rng.random(n) < 0.25
    bmi = np.round(rng.normal(26 + 2 * smoker, 4, n), 1)
    died = rng.random(n) < 1 / (1 + np.exp(-(-6 + 0.07 * age + 0.8 * smoker + 0.03 * (bmi - 26))))
    cause = np.where(died, np.where(smoker & (rng.random(n) < 0.5), "cancer",
                                    rng.choice(["heart", "cancer", "stroke", "other"], n, p=[.4, .25, .15, .2])), None)
    follow = np.where(died, np.nan, np.round(rng.uniform(1, 15, n), 1))
    return pd.DataFrame({"age": age, "age_at_entry": age - 9, "smoker": smoker, "bmi": bmi, "died": died.astype(int),
                         "cause": cause, "follow_up_years": follow})


def named_rules(table: str, df: pd.DataFrame) -> dict[str, int]:
    """Rows breaking each rule the generated table was built with."""
    if table == "pension":
        p, e = df["participates"] == 1, df["eligible"] == 1
        return {"participates => eligible": int((p & ~e).sum()),
                "match rate iff participates": int((p != df["match_rate"].notna()).sum()),
                "plan iff eligible": int((e != df["plan"].notna()).sum()),
                "age_at_hire = age - service": int((df["age_at_hire"] != df["age"] - df["service"]).sum())}
    if table == "cohort":
        d = df["died"] == 1
        return {"cause iff died": int((d != df["cause"].notna()).sum()),
                "follow-up iff alive": int((d == df["follow_up_years"].notna()).sum()),
                "age_at_entry = age - 9": int((df["age_at_entry"] != df["age"] - 9).sum())}
    return {}


def load(table: str, data_dir: Path) -> pd.DataFrame:
    if table == "pension":
        return pension()
    if table == "cohort":
        return cohort()
    if table == "adult":
        return load_adult(data_dir)
    raise SystemExit(f"error: unknown table {table!r}; choose from {', '.join(TARGETS)}")


# ------------------------------------------------------------------ children
def child(model: str, train_path: str, out_path: str, meta_path: str, seed: int) -> None:
    train = pd.read_parquet(train_path)
    t0 = time.perf_counter()
    if model == "mostlyai":
        from mostlyai.engine import TabularARGN

        with tempfile.TemporaryDirectory() as ws:  # its defaults, CPU, a workspace of its own
            synth = TabularARGN(workspace_dir=ws, random_state=seed, verbose=0)
            synth.fit(train)
            syn = synth.sample(n_samples=len(train))
    else:
        from tabsynth import Synthesizer

        backend, _, off = model.partition("-")
        synth = Synthesizer(backend, random_state=seed, rules=off != "norules").fit(train)
        syn = synth.sample(len(train), seed=seed)
    seconds = time.perf_counter() - t0
    syn.to_parquet(out_path)
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def impute_child(method: str, in_path: str, out_path: str, meta_path: str, seed: int) -> None:
    holes = pd.read_parquet(in_path)
    t0 = time.perf_counter()
    if method.startswith("tabsynth"):
        from tabsynth import GenerativeImputer

        out = GenerativeImputer(random_state=seed, fill_structural=method.endswith("fill")).fit_transform(holes)
    else:
        from imputation import make_imputer

        imp = make_imputer(method, seed, mixed=True)
        imp.fit(holes)
        out = imp.transform(holes)
    seconds = time.perf_counter() - t0
    out.to_parquet(out_path)
    Path(meta_path).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


# -------------------------------------------------------------------- parent
def synthesis(tables: list[str], models: list[str], args) -> list[dict]:
    from tabsynth.evaluate.fidelity import column_shapes, pair_trends
    from tabsynth.rules import find_rules

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for table in tables:
            train, test = split(load(table, args.data_dir), TARGETS[table])
            rules = find_rules(train)
            train_path = Path(tmp) / f"{table}.parquet"
            train.to_parquet(train_path)
            base = {"table": table, "rows": len(train), "rules found": len(rules.describe())}
            rows.append({**base, "model": "holdout (real rows)", "rows breaking a rule": rules.count_broken(test),
                         **{f"named: {k}": v for k, v in named_rules(table, test).items()}})
            for model in models:
                out, meta = Path(tmp) / f"{table}-{model}.parquet", Path(tmp) / f"{table}-{model}.json"
                python = args.peer_python if model in PEERS and args.peer_python else None
                res = run_child(Path(__file__), ["--child", model, "--train", str(train_path), "--out", str(out),
                                                 "--meta", str(meta), "--seed", str(args.seed)], python=python)
                row = {**base, "model": model}
                if "error" in res:
                    row["error"] = res["error"]
                    print(f"{table} {model}: {res['error']}", file=sys.stderr)
                else:
                    syn = pd.read_parquet(out)
                    named = named_rules(table, syn)
                    row.update({"seconds": round(res["seconds"], 2), "peak_rss_mb": round(res["peak_rss_mb"]),
                                "rows breaking a rule": rules.count_broken(syn),
                                "share breaking": round(rules.count_broken(syn) / len(syn), 5),
                                "column shapes": column_shapes(train, syn)["score"],
                                "pair trends": pair_trends(train, syn)["score"],
                                **{f"named: {k}": v for k, v in named.items()}})
                rows.append(row)
                print(f"{table} {model}: {row.get('rows breaking a rule', row.get('error'))}", file=sys.stderr)
    return rows


def imputation(args) -> list[dict]:
    from imputation import METHODS  # noqa: F401  (the peers' definitions live there)

    df = cohort()
    rng = np.random.default_rng(0)
    holes = df.copy()
    others = [c for c in df.columns if c not in ("cause", "follow_up_years", "died")]
    mask = pd.DataFrame({c: rng.random(len(df)) < 0.2 if c in others else np.zeros(len(df), bool) for c in df.columns})
    holes = holes.astype({c: "float64" for c in others if pd.api.types.is_integer_dtype(holes[c].dtype)})
    holes = holes.astype({"smoker": object})
    for c in others:
        holes.loc[mask[c].to_numpy(), c] = None
    alive = (df["died"] == 0).to_numpy()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "holes.parquet"
        holes.to_parquet(path)
        for method in ["tabsynth", "tabsynth-fill", "missforest"]:
            out, meta = Path(tmp) / f"{method}.parquet", Path(tmp) / f"{method}.json"
            res = run_child(Path(__file__), ["--impute-child", method, "--train", str(path), "--out", str(out),
                                             "--meta", str(meta), "--seed", str(args.seed)])
            if "error" in res:
                rows.append({"method": method, "error": res["error"]})
                continue
            filled = pd.read_parquet(out)
            err = {}
            for c in ("age", "bmi"):
                m = mask[c].to_numpy()
                span = df[c].max() - df[c].min()
                err[f"RMSE {c} (min-max)"] = float(np.sqrt(np.mean(((filled.loc[m, c].astype(float) - df.loc[m, c])
                                                                     / span) ** 2)))
            m = mask["smoker"].to_numpy()
            err["smoker accuracy"] = float((filled.loc[m, "smoker"].astype(bool) == df.loc[m, "smoker"]).mean())
            rows.append({"method": method, "seconds": round(res["seconds"], 2),
                         "causes of death filled for the living": int(filled.loc[alive, "cause"].notna().sum()),
                         "follow-ups filled for the dead": int(filled.loc[~alive, "follow_up_years"].notna().sum()),
                         "structural cells": int(alive.sum() + (~alive).sum()),
                         "age_at_entry != age - 9": int((filled["age_at_entry"] != filled["age"] - 9).sum()), **err})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default="pension,cohort,adult")
    ap.add_argument("--models", default="trees,trees-norules,gmm,vae")
    ap.add_argument("--impute", action="store_true", help="Also the imputation of the cohort.")
    ap.add_argument("--peer-python", default=None, help="Interpreter with the bench extra (mostlyai-engine).")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "rules.json")
    ap.add_argument("--child"), ap.add_argument("--impute-child"), ap.add_argument("--train")
    ap.add_argument("--meta")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.train, str(args.out), args.meta, args.seed)
    if args.impute_child:
        return impute_child(args.impute_child, args.train, str(args.out), args.meta, args.seed)
    tables = [t for t in args.tables.split(",") if t]
    models = [m for m in args.models.split(",") if m]
    doc = {"benchmark": "rules", "command": " ".join(sys.argv), "machine": machine(),
           "synthesis": synthesis(tables, models, args) if models else []}
    if doc["synthesis"]:
        cols = ["table", "model", "seconds", "rows breaking a rule", "share breaking", "column shapes", "pair trends"]
        print_table(doc["synthesis"], cols)
        named = sorted({k for r in doc["synthesis"] for k in r if k.startswith("named: ")})
        if named:
            print()
            print_table([r for r in doc["synthesis"] if r["table"] != "adult"], ["table", "model", *named])
    if args.impute:
        doc["imputation"] = imputation(args)
        print()
        print_table(doc["imputation"], list(doc["imputation"][0]))
    write_json(doc, args.out)


if __name__ == "__main__":
    main()
