"""Does the private spanning tree, not the noise, set TSTR? Refits of ``Synthesizer(epsilon=E)`` on adult.

DESIGN.md split of adult (80/20 stratified on income, random_state=0); for
each epsilon and each ``random_state`` (which draws the tree and the noise),
fit on the 80%, sample as many rows (seed 0), drop rows without an income,
and score a quick TSTR: a logistic regression on standardised one-hot
features (pandas dummies, missing as a level), ROC-AUC on the 20%. Also
printed: the columns the tree links to income.

    python benchmarks/dp_structure.py [--epsilons 1,10] [--fits 3]
        [--out benchmarks/results/dp_structure.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from _common import DEFAULT_DATA, RESULTS, load_adult, machine, print_table, split, write_json  # noqa: E402

from tabsynth import Synthesizer  # noqa: E402

TARGET = "income"


def quick_tstr(syn: pd.DataFrame, holdout: pd.DataFrame) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    X = pd.get_dummies(pd.concat([syn, holdout]).drop(columns=TARGET), dummy_na=True).astype(float)
    X = ((X - X.mean()) / (X.std() + 1e-9)).fillna(0.0)
    model = LogisticRegression(max_iter=500).fit(X.iloc[:len(syn)], syn[TARGET])
    positive = sorted(holdout[TARGET].unique())[-1]
    scores = model.predict_proba(X.iloc[len(syn):])[:, list(model.classes_).index(positive)]
    return float(roc_auc_score(holdout[TARGET] == positive, scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--epsilons", default="1,10")
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "dp_structure.json")
    args = ap.parse_args()
    train, holdout = split(load_adult(args.data_dir), TARGET)
    cols = list(train.columns)
    rows = []
    for eps in (float(e) for e in args.epsilons.split(",")):
        for rs in range(args.fits):
            model = Synthesizer(epsilon=eps, random_state=rs).fit(train)
            syn = model.sample(len(train), seed=0).dropna(subset=[TARGET]).reset_index(drop=True)
            parent = model.backend_.parent
            t = cols.index(TARGET)
            linked = [cols[j] for j, p in enumerate(parent) if p == t] + ([cols[parent[t]]] if parent[t] >= 0 else [])
            rows.append({"epsilon": eps, "random_state": rs, "quick_tstr": round(quick_tstr(syn, holdout), 4),
                         "linked_to_income": ", ".join(sorted(linked))})
    print_table(rows, ["epsilon", "random_state", "quick_tstr", "linked_to_income"])
    write_json({"benchmark": "dp_structure", "rows": rows, "machine": machine(),
                "command": "benchmarks/dp_structure.py"}, args.out)


if __name__ == "__main__":
    main()
