"""Privacy and quality of synthesis on discrete tables: do synthetic rows copy training rows more than unseen rows do?

On a table of categories and small integers many real rows repeat: an
unseen (holdout) row is often an exact copy of some training row. A
generator that draws from the table's distribution copies training rows
as often as unseen rows do, and sits as far from them (distance to the
closest record, DCR); one that memorises its training rows copies them
more often and sits closer.

Protocol (DESIGN.md): split each table 80/20 (stratified on its target,
``random_state=0``), fit on the 80%, sample as many rows, and report:

* exact copies: the share of synthetic rows equal to a training row, next
  to the share of holdout rows equal to a training row (the chance level)
  and their ratio (``copies_ratio``; at most 1 is the bar). The holdout's
  share is itself noisy (2,000 rows: about +-0.01); on the generated tables
  the chance level is also measured on 50,000 fresh rows of the same
  distribution (``copies_fresh``, ``copies_ratio_fresh``);
* DCR: the median distance of synthetic rows to their closest training row
  over the holdout's (``dcr_ratio``; at least 1 is the bar). On a table
  where most unseen rows are copies both medians are 0; the mean DCR is
  reported as well. Where the distances take few values (an age 4 or 5
  years away, nothing between) the median ratio jumps by a whole step when
  half a percent of the rows cross it, so the whole distributions are
  compared as well: ``dcr_closer``, the chance that a synthetic row is
  closer to the training rows than a holdout row (ties half; 0.5 is parity,
  at most 0.5 the bar, noise about +-0.007), and on the generated tables
  ``dcr_closer_fresh`` against 5,000 fresh rows;
* column shapes, pair trends (against the holdout), TSTR AUC of logistic
  regression and histogram boosting (with the real rows' AUC).

Tables: generated ones that reproduce the all-discrete case (categorical
columns of 2 to 10 levels drawn from a Bayesian network with conditional
tables of real dependence, heavy duplicates; one with low-cardinality
integer columns beside them) and the shared real tables as a check that
nothing else moves (adult; hsb's students; wages).

    python benchmarks/discrete_privacy.py                              # every table, trees
    python benchmarks/discrete_privacy.py --tables health,legal --models trees,gmm
    python benchmarks/discrete_privacy.py --models trees,mostlyai --peer-python /tmp/bench/bin/python

Prints a table and writes JSON (``--out``).
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

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, print_table, split, write_json  # noqa: E402

#: generated tables: rows, categorical levels, integer columns (name -> values), Dirichlet concentration
#: of the conditional tables (smaller: sharper dependence, more duplicates), parents per column, seed
GENERATED = {
    # the health-insurance shape: 11 columns, 9 categorical, two small integers
    "health": dict(rows=10_000, levels=[2, 2, 3, 4, 5, 3, 4, 6, 2], ints={"children": 6, "visits": 9},
                   concentration=1.2, parents=2, target="c8", seed=1),
    # a legal-case shape: most unseen rows repeat a training row
    "legal": dict(rows=8_000, levels=[2, 3, 4, 2, 5, 3, 4, 6, 2], ints={}, concentration=3.0, parents=2,
                  target="c8", seed=2),
    # many categorical columns of 3 to 10 levels: few unseen rows repeat a training row
    "survey": dict(rows=20_000, levels=[3, 10, 4, 6, 5, 8, 3, 7, 4, 5, 6, 2], ints={}, concentration=1.0,
                   parents=3, target="c11", seed=3),
    # mostly discrete: categories plus an age-like integer of 60 values and a count of 12
    "mostly_discrete": dict(rows=15_000, levels=[2, 4, 3, 5, 2, 6, 2], ints={"age": 60, "count": 12},
                            concentration=1.0, parents=2, target="c4", seed=7),
}
SHARED = {"adult": "income", "hsb_students": "Sex", "wages": "black"}


def bayes_net_table(rows: int, levels: list[int], ints: dict[str, int], concentration: float, parents: int,
                    seed: int, draw: int = 0, **_: Any) -> pd.DataFrame:
    """A table drawn from a random Bayesian network over discrete columns.

    Columns are drawn in order; each takes up to ``parents`` earlier columns as parents and draws its
    value from a conditional table: for every combination of its parents' values, a Dirichlet draw
    around the column's own marginal (concentration ``concentration`` per level; small values give
    sharp dependence); ``seed`` makes the network, ``draw`` seeds the rows drawn from it (another ``draw``:
    fresh rows of the same distribution). Categorical columns ``c0, c1, ...`` hold strings ``"a", "b", ...``; an integer
    column of ``k`` values holds ``0 .. k-1``, its conditional tables smooth along the values (an age or
    a count: neighbouring values have similar probabilities), and so are its children's along its values. ``df.attrs["parents"]`` holds the network.
    """
    rng = np.random.default_rng(seed)
    specs = [(f"c{i}", k, False) for i, k in enumerate(levels)] + [(name, k, True) for name, k in ints.items()]
    # integers are interleaved among the categories (a parent or a child of them, as in real tables)
    for j, spec in enumerate(specs[len(levels):]):
        specs.insert(rng.integers(1, len(levels) + j), specs.pop(len(levels) + j))
    codes: list[np.ndarray] = []
    out: dict[str, Any] = {}
    graph: dict[str, list[str]] = {}
    for i, (name, k, is_int) in enumerate(specs):
        par = sorted(rng.choice(i, size=min(parents, i), replace=False).tolist()) if i else []
        base = rng.dirichlet(np.full(k, 2.0))
        if is_int:  # a smooth, skewed profile over 0..k-1
            x = np.arange(k)
            base = np.exp(-((x - rng.uniform(0.1, 0.6) * k) ** 2) / (2 * (k / 4) ** 2)) + 0.02
            base /= base.sum()
        combos = int(np.prod([specs[p][1] for p in par])) if par else 1
        table = rng.dirichlet(base * concentration * k, size=combos) + 1e-12
        if is_int:  # neighbouring values alike: smooth each conditional along the values
            kernel = np.array([0.25, 0.5, 0.25])
            table = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, table)
        # a child of an integer (an age, a count) changes smoothly with it: each conditional table is
        # smoothed along the integer parents' values (as real tables behave; age 37 is like age 38)
        shape = [specs[p][1] for p in par] + [k]
        table = table.reshape(shape)
        for axis, p in enumerate(par):
            if specs[p][2]:
                width = max(specs[p][1] / 8.0, 1.0)
                x = np.arange(specs[p][1])
                weights = np.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * width ** 2))
                table = np.moveaxis(np.tensordot(weights / weights.sum(1, keepdims=True), table, axes=(1, axis)), 0, axis)
        table = table.reshape(combos, k)
        table /= table.sum(1, keepdims=True)
        codes_rng = np.random.default_rng([seed, draw, i])
        idx = np.zeros(rows, dtype="int64")
        for p in par:
            idx = idx * specs[p][1] + codes[p]
        cum = np.cumsum(table, axis=1)[idx]
        code = np.minimum((codes_rng.random(rows)[:, None] > cum).sum(1), k - 1)
        codes.append(code)
        out[name] = code.astype("int64") if is_int else np.array([chr(97 + c) for c in range(k)])[code]
        graph[name] = [specs[p][0] for p in par]
    df = pd.DataFrame(out)
    df.attrs["parents"] = graph
    return df


def load(name: str, data_dir: Path) -> tuple[pd.DataFrame, str]:
    if name in GENERATED:
        spec = GENERATED[name]
        return bayes_net_table(**spec), spec["target"]
    if name == "adult":
        return load_adult(data_dir), "income"
    if name == "hsb_students":
        return pd.read_csv(data_dir / "hsb" / "students.csv"), "Sex"
    if name == "wages":
        df = pd.read_csv(data_dir / "wages" / "wages.csv")
        df["black"] = df["black"].map({0: "no", 1: "yes"})
        return df, "black"
    raise SystemExit(f"unknown table {name!r}; choose from {', '.join([*GENERATED, *SHARED])}")


def score(train: pd.DataFrame, test: pd.DataFrame, syn: pd.DataFrame, target: str,
          fresh: pd.DataFrame | None) -> dict[str, Any]:
    from tabsynth.evaluate.fidelity import column_shapes, pair_trends
    from tabsynth.evaluate.privacy import closer_share, distance_to_closest_record, exact_copies, privacy
    from tabsynth.evaluate.utility import utility

    syn = syn[list(train.columns)].copy()
    for c in syn.columns:  # a peer's dtypes (e.g. its own string type) as the real table's where they fit
        try:
            syn[c] = syn[c].astype(train[c].dtype)
        except (TypeError, ValueError):
            pass
    pv = privacy(train, syn, holdout=test)
    # the mean DCR as well: where most unseen rows are copies both medians are 0
    q = syn.iloc[np.random.default_rng(0).permutation(len(syn))[:5000]]
    dcr_syn = distance_to_closest_record(train, q)
    d_syn = float(dcr_syn.mean())
    d_hold = float(distance_to_closest_record(train, test.iloc[:5000]).mean())
    ut = utility(train, syn, test, target=target, models=["logistic_regression", "gradient_boosting"],
                 train_sets=("real", "synthetic"))
    m = ut["models"]
    med_s, med_h = pv["dcr_synthetic_median"], pv["dcr_holdout_median"]
    out = {
        "exact_copies": pv["exact_copies"], "copies_holdout": pv["exact_copies_holdout"],
        "copies_ratio": pv["exact_copies"] / pv["exact_copies_holdout"] if pv["exact_copies_holdout"] else None,
        "dcr_synthetic": med_s, "dcr_holdout": med_h, "dcr_ratio": med_s / med_h if med_h else None,
        "dcr_mean_ratio": d_syn / d_hold if d_hold else None, "dcr_closer": pv["dcr_closer"],
        "column_shapes": column_shapes(test, syn)["score"], "pair_trends": pair_trends(test, syn)["score"],
        "tstr_logreg": m["logistic_regression"]["synthetic"], "tstr_boosting": m["gradient_boosting"]["synthetic"],
        "real_logreg": m["logistic_regression"]["real"], "real_boosting": m["gradient_boosting"]["real"],
    }
    if fresh is not None:  # chance measured on many fresh rows of the same distribution (the holdout is small)
        chance = exact_copies(train, fresh)
        out.update(copies_fresh=chance, copies_ratio_fresh=pv["exact_copies"] / chance if chance else None,
                   dcr_closer_fresh=closer_share(dcr_syn, distance_to_closest_record(train, fresh.iloc[:5000])))
    return out


def child(table: str, model: str, data_dir: Path, seed: int, params: dict, out: Path) -> None:
    """Fit ``model`` on the table's 80%, sample as many rows to ``out`` (parquet), print the seconds."""
    df, target = load(table, data_dir)
    train, _ = split(df, target)
    t0 = time.perf_counter()
    if model == "mostlyai":
        from mostlyai.engine import TabularARGN

        with tempfile.TemporaryDirectory() as ws:  # its defaults, CPU, a workspace of its own
            synth = TabularARGN(workspace_dir=ws, random_state=seed, verbose=0)
            synth.fit(train)
            syn = synth.sample(n_samples=len(train))
    else:
        from tabsynth import Synthesizer

        backend, _, told = model.partition("+")
        kw = {"target": target} if told == "target" else {}
        syn = Synthesizer(backend, random_state=seed, **kw, **params).fit(train).sample(len(train), seed=seed)
    seconds = time.perf_counter() - t0
    syn.to_parquet(out)
    print(json.dumps({"seconds": seconds}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default=",".join([*GENERATED, *SHARED]))
    ap.add_argument("--models", default="trees", help="tabsynth backends (name+target: told the target), mostlyai")
    ap.add_argument("--params", default="{}", help="JSON: tabsynth backend parameters")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--peer-python", default=None, help="interpreter with mostlyai-engine (the bench environment)")
    ap.add_argument("--out", type=Path, default=RESULTS / "discrete_privacy.json")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.data_dir, args.seed, json.loads(args.params), Path(args.child[2]))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for table in args.tables.split(","):
            df, target = load(table, args.data_dir)
            train, test = split(df, target)
            fresh = bayes_net_table(**{**GENERATED[table], "rows": 50_000, "draw": 1}) if table in GENERATED else None
            for model in args.models.split(","):
                py = (args.peer_python or sys.executable) if model == "mostlyai" else sys.executable
                out = Path(tmp) / f"{table}-{model}.parquet"
                cmd = [py, __file__, "--child", table, model, str(out), "--seed", str(args.seed), "--params",
                       args.params, "--data-dir", str(args.data_dir)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode:
                    res = {"table": table, "model": model, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
                else:
                    res = {"table": table, "model": model, "rows": len(train),
                           **json.loads(proc.stdout.strip().splitlines()[-1]),
                           **score(train, test, pd.read_parquet(out), target, fresh)}
                rows.append(res)
                print(json.dumps(res), flush=True)
    shown = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    print()
    print_table(shown, ["table", "model", "seconds", "exact_copies", "copies_holdout", "copies_ratio", "copies_fresh",
                        "copies_ratio_fresh", "dcr_ratio", "dcr_mean_ratio", "dcr_closer", "dcr_closer_fresh",
                        "column_shapes", "pair_trends",
                        "tstr_logreg", "tstr_boosting", "real_logreg", "real_boosting", "error"])
    write_json({"benchmark": "discrete_privacy", "machine": machine(), "command": " ".join(sys.argv),
                "params": json.loads(args.params), "results": rows}, args.out)


if __name__ == "__main__":
    main()
