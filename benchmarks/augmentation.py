"""Augmentation for machine learning on adult: tabsynth against random over-sampling and SMOTENC.

Protocol. adult is split 80/20 stratified on ``income`` (DESIGN.md,
``random_state=0``); the 20% is the holdout every score is measured on.
Scenarios, built from the 80% with each seed:

* ``imbalanced``: every negative row, and positives subsampled to 5% of the
  training rows; augmenters balance the classes;
* ``small-500`` / ``small-2000``: a stratified sample of 500 / 2,000 rows;
  augmenters add as many rows as there are (class proportions kept:
  ``none`` / SMOTENC balancing is reported there too);
* ``full``: all of the 80%.

A stratified fifth of each scenario's rows is set aside as a validation
split (never augmented, never fitted on): each evaluator's decision
threshold is the one with the best minority-class F1 on it, the same rule for
every method. Evaluators: logistic regression, a decision tree, a random
forest (100 trees), histogram gradient boosting, an RBF SVM (at most 5,000
training rows); one-hot categories and scaled numbers (boosting: native
categories). Missing categories are a category of their own ("?") for
every method (SMOTENC cannot take missing cells). Scores on the holdout:
ROC-AUC, minority F1 and recall at the chosen threshold; mean and standard
deviation over seeds; the augmenter's wall time.

    python benchmarks/augmentation.py                         # imbalanced, 5 seeds, none/ros/smotenc/gmm
    python benchmarks/augmentation.py --scenarios imbalanced,small-500,small-2000 --methods none,ros,smotenc,gmm,vae,gan
    python benchmarks/augmentation.py --quick                 # 1 seed, 2 evaluators, a smoke test
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, RESULTS, load_adult, machine, print_table, split, write_json  # noqa: E402

TARGET = "income"
METHODS = ["none", "ros", "smotenc", "gmm", "vae", "gan", "trees"]
MODELS = ["logistic_regression", "decision_tree", "random_forest", "gradient_boosting", "svm"]
SCENARIOS = ["imbalanced", "small-500", "small-2000", "full"]
SVM_ROWS = 5000


def scenario_rows(train: pd.DataFrame, scenario: str, seed: int) -> pd.DataFrame:
    """The training rows of one scenario (before the validation split)."""
    rng = np.random.default_rng(seed)
    pos = train[TARGET] == ">50K"
    if scenario == "imbalanced":
        neg_idx = np.flatnonzero(~pos.to_numpy())
        n_pos = int(round(0.05 / 0.95 * len(neg_idx)))
        pos_idx = rng.choice(np.flatnonzero(pos.to_numpy()), size=n_pos, replace=False)
        idx = np.sort(np.r_[neg_idx, pos_idx])
        return train.iloc[idx].reset_index(drop=True)
    if scenario.startswith("small-"):
        from sklearn.model_selection import train_test_split

        n = int(scenario.split("-")[1])
        part, _ = train_test_split(train, train_size=n, stratify=train[TARGET], random_state=seed)
        return part.reset_index(drop=True)
    if scenario == "full":
        return train
    raise SystemExit(f"error: unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")


def augmented(method: str, fit: pd.DataFrame, balance: bool, seed: int) -> pd.DataFrame:
    """``fit`` plus the method's rows (balanced classes, or as many rows again in proportion)."""
    if method == "none":
        return fit
    X, y = fit.drop(columns=TARGET), fit[TARGET]
    if method in ("ros", "smotenc"):
        from imblearn.over_sampling import SMOTENC, RandomOverSampler

        if method == "ros":
            sampler = RandomOverSampler(random_state=seed)
        else:
            cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
            sampler = SMOTENC(categorical_features=cats, random_state=seed)
        if not balance:  # as many rows again, proportions kept: each class doubled
            counts = y.value_counts()
            sampler.set_params(sampling_strategy={c: 2 * int(k) for c, k in counts.items()})
        Xr, yr = sampler.fit_resample(X, y)
        out = Xr.copy()
        out[TARGET] = np.asarray(yr)
        return out[fit.columns]
    from tabsynth import augment

    kw = {"balance": True} if balance else {"ratio": 1.0}
    return augment(fit, target=TARGET, backend=method, seed=seed, **kw)


def evaluator(name: str, X: pd.DataFrame, seed: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    nums = [c for c in X.columns if c not in cats]
    if name == "gradient_boosting":
        pre = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats)],
                                remainder="passthrough", verbose_feature_names_out=False)
        model = HistGradientBoostingClassifier(categorical_features=list(range(len(cats))), random_state=seed)
        return make_pipeline(pre, model)
    pre = ColumnTransformer([("num", StandardScaler(), nums),
                             ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=10), cats)])
    model = {"logistic_regression": LogisticRegression(max_iter=2000),
             "decision_tree": DecisionTreeClassifier(random_state=seed),
             "random_forest": RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=seed),
             "svm": SVC(random_state=seed)}[name]
    return make_pipeline(pre, model)


def scores_of(est, X: pd.DataFrame) -> np.ndarray:
    return est.decision_function(X) if hasattr(est, "decision_function") and not hasattr(est, "predict_proba") \
        else est.predict_proba(X)[:, 1]


def best_threshold(y: np.ndarray, s: np.ndarray) -> float:
    """The score threshold with the best F1 of the positive class on (y, s)."""
    from sklearn.metrics import precision_recall_curve

    p, r, t = precision_recall_curve(y, s)
    f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)[:-1]
    return float(t[int(np.argmax(f1))]) if len(t) else 0.5


def evaluate(train: pd.DataFrame, val: pd.DataFrame, test: pd.DataFrame, models: list[str], seed: int) -> dict:
    from sklearn.metrics import f1_score, recall_score, roc_auc_score

    out = {}
    Xtr, ytr = train.drop(columns=TARGET), (train[TARGET] == ">50K").to_numpy().astype(int)
    Xv, yv = val.drop(columns=TARGET), (val[TARGET] == ">50K").to_numpy().astype(int)
    Xt, yt = test.drop(columns=TARGET), (test[TARGET] == ">50K").to_numpy().astype(int)
    for name in models:
        X, y = Xtr, ytr
        if name == "svm" and len(X) > SVM_ROWS:
            idx = np.sort(np.random.default_rng(seed).choice(len(X), SVM_ROWS, replace=False))
            X, y = X.iloc[idx], y[idx]
        est = evaluator(name, X, seed).fit(X, y)
        cut = best_threshold(yv, scores_of(est, Xv))
        s = scores_of(est, Xt)
        pred = (s >= cut).astype(int)
        out[name] = {"roc_auc": float(roc_auc_score(yt, s)), "f1": float(f1_score(yt, pred)),
                     "recall": float(recall_score(yt, pred))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--scenarios", default="imbalanced")
    ap.add_argument("--methods", default="none,ros,smotenc,gmm")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 seed, logistic regression and boosting")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    seeds = list(range(1 if args.quick else args.seeds))
    models = ["logistic_regression", "gradient_boosting"] if args.quick else args.models.split(",")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS] + [m for m in models if m not in MODELS]
    if bad:
        sys.exit(f"error: unknown method or model {bad[0]!r}; methods: {', '.join(METHODS)}; models: {', '.join(MODELS)}")

    from sklearn.model_selection import train_test_split

    adult = load_adult(args.data_dir)
    cats = [c for c in adult.columns if not pd.api.types.is_numeric_dtype(adult[c])]
    adult[cats] = adult[cats].fillna("?")
    train_all, test = split(adult, TARGET)
    runs = []
    for scenario in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
        balance = scenario in ("imbalanced", "full")
        for seed in seeds:
            rows = scenario_rows(train_all, scenario, seed)
            fit, val = train_test_split(rows, test_size=0.2, stratify=rows[TARGET], random_state=seed)
            fit, val = fit.reset_index(drop=True), val.reset_index(drop=True)
            for method in methods:
                t0 = time.perf_counter()
                try:
                    aug = augmented(method, fit, balance, seed)
                except ImportError as e:
                    sys.exit(f"error: {method} needs {e.name}: pip install 'tabsynth[bench]'")
                seconds = time.perf_counter() - t0
                res = evaluate(aug, val, test, models, seed)
                runs.append({"scenario": scenario, "seed": seed, "method": method, "seconds": seconds,
                             "rows_fit": len(fit), "rows_added": len(aug) - len(fit), "scores": res})
                print(f"{scenario} seed {seed} {method}: {len(aug) - len(fit)} rows added in {seconds:.1f}s; "
                      + ", ".join(f"{m} F1 {v['f1']:.3f}" for m, v in res.items()), flush=True)
    rows = []
    for scenario in dict.fromkeys(r["scenario"] for r in runs):
        for method in methods:
            mine = [r for r in runs if r["scenario"] == scenario and r["method"] == method]
            for name in models:
                row = {"scenario": scenario, "method": method, "model": name,
                       "seconds": float(np.mean([r["seconds"] for r in mine]))}
                for metric in ("roc_auc", "f1", "recall"):
                    vals = [r["scores"][name][metric] for r in mine]
                    row[metric], row[f"{metric}_sd"] = float(np.mean(vals)), float(np.std(vals))
                rows.append(row)
    print()
    print_table(rows, ["scenario", "model", "method", "f1", "f1_sd", "recall", "roc_auc", "seconds"])
    write_json({"benchmark": "augmentation", "protocol": __doc__.split("\n\n")[1], "seeds": seeds,
                "machine": machine(), "command": " ".join(sys.argv), "runs": runs, "results": rows},
               args.out or RESULTS / ("augmentation_quick.json" if args.quick else "augmentation.json"))


if __name__ == "__main__":
    main()
