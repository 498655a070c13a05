"""
Benchmark results: imputation error against time, with the peers
=================================================================

The imputation benchmark (``python benchmarks/imputation.py``, the GAIN
protocol: 20% of the cells removed at random, normalised RMSE over the
removed cells) compares tabsynth's default imputer with MissForest,
HyperImpute, miceforest, ``KNNImputer``, ``IterativeImputer`` and the mean
on the spam, letter and adult tables, fitting and filling one table (in-sample) and fitting on one table
and filling another (out-of-sample). Nothing is computed here: the points
are read from the committed results, ``benchmarks/results/imputation_mcar.json``
(one run, 2 cores; the command is printed below). The tables on
:doc:`../benchmarks` quote this run, except letter's row, which comes from
a later re-run (``imputation_mcar_letter.json``). Run from a clone of the
repository.
"""

import json
import pathlib

import matplotlib.pyplot as plt
import pandas as pd

try:
    here = pathlib.Path(__file__).resolve().parent
except NameError:  # run line by line in a notebook
    here = pathlib.Path.cwd()
results = json.loads((here.parent / "benchmarks" / "results" / "imputation_mcar.json").read_text())
print("command:", results["command"])
runs = pd.DataFrame(results["results"])
runs = runs[runs["rmse"].notna() & runs["seconds"].notna() & runs["table"].isin(["spam", "letter", "adult"])]
print(runs.pivot_table(index="method", columns=["table", "setting"], values="rmse").round(4).to_string())

# %%
# Error against time, per table and setting
# -----------------------------------------
# Lower left is better. tabsynth's variants are red stars (the default is
# ``tabsynth``); the peers are blue dots.

panels = [(t, s) for t in ("spam", "letter", "adult") for s in ("in-sample", "out-of-sample")]
fig, axes = plt.subplots(3, 2, figsize=(12, 11), layout="constrained")
for ax, (table, setting) in zip(axes.flat, panels):
    part = runs[(runs["table"] == table) & (runs["setting"] == setting)]
    for _, r in part.iterrows():
        ours = r["method"].startswith("tabsynth")
        ax.scatter(r["seconds"], r["rmse"], marker="*" if ours else "o", s=110 if ours else 50,
                   color="#d62728" if ours else "#1f77b4", zorder=3)
        ax.annotate(r["method"], (r["seconds"], r["rmse"]), textcoords="offset points", xytext=(5, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_title(f"{table}, {setting}")
    ax.set_xlabel("seconds (log scale)")
    ax.set_ylabel("normalised RMSE")
    ax.grid(alpha=0.3)
plt.show()
