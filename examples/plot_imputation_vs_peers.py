"""
Imputation: error against time, beside scikit-learn's imputers
==============================================================

Remove a fifth of the cells of the example table at random (the GAIN
protocol: MCAR, a fixed seed), fill them with tabsynth's
:class:`~tabsynth.GenerativeImputer` and with scikit-learn's imputers
(the mean, ``KNNImputer``, ``IterativeImputer`` with its default Bayesian
ridge, and ``IterativeImputer`` with extra trees, which is how MissForest
works), and score each by the normalised RMSE over the removed cells only
(min-max scaled by the complete table's range: 0 is perfect).

The benchmarks run the same protocol on larger tables against MissForest,
HyperImpute and miceforest: see :doc:`plot_benchmark_imputation`.
"""

import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from tabsynth import GenerativeImputer
from tabsynth.datasets import load_example
from tabsynth.evaluate import imputation_scores, make_missing

# the numeric columns (scikit-learn's imputers take numbers only)
complete = load_example().drop(columns="sex").astype(float)
holes, mask = make_missing(complete, rate=0.2, mechanism="mcar", seed=0)
print(f"{int(mask.to_numpy().sum())} cells removed of {complete.size}")

imputers = {
    "mean": SimpleImputer(),
    "KNNImputer": KNNImputer(n_neighbors=5),
    "IterativeImputer (Bayesian ridge)": IterativeImputer(max_iter=10, random_state=0),
    "IterativeImputer (extra trees, MissForest-like)": IterativeImputer(
        ExtraTreesRegressor(n_estimators=50, min_samples_leaf=2, n_jobs=1, random_state=0),
        max_iter=5, random_state=0),
    "tabsynth GenerativeImputer": GenerativeImputer(random_state=0),
}

rows = []
for name, imputer in imputers.items():
    start = time.perf_counter()
    filled = imputer.fit_transform(holes)
    seconds = time.perf_counter() - start
    filled = pd.DataFrame(filled, columns=complete.columns, index=complete.index)
    rows.append({"imputer": name, "rmse": imputation_scores(complete, filled, mask)["rmse"], "seconds": seconds})
table = pd.DataFrame(rows).sort_values("rmse")
print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))

# %%
# Error against time
# ------------------
# Lower is better on both axes. Times are wall seconds of one fit and fill
# on the machine that built this page (shared, so compare within a run).

fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
for _, r in table.iterrows():
    ours = r["imputer"].startswith("tabsynth")
    ax.scatter(r["seconds"], r["rmse"], s=90 if ours else 60, marker="*" if ours else "o",
               color="#d62728" if ours else "#1f77b4", zorder=3)
    ax.annotate(r["imputer"], (r["seconds"], r["rmse"]), textcoords="offset points", xytext=(6, 4), fontsize=9)
ax.set_xscale("log")
ax.set_xlabel("seconds (fit and fill, log scale)")
ax.set_ylabel("normalised RMSE over the removed cells")
ax.set_title("diabetes example table, 20% of cells missing at random")
ax.grid(alpha=0.3)
plt.show()
