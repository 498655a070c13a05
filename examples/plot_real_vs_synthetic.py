"""
Real against synthetic: distributions and a pair plot
=====================================================

Fit the default model on the bundled example table (442 patients of the
diabetes study that scikit-learn ships), draw as many synthetic rows, and
put them beside the real ones: each column's distribution, then the pairs
of columns, where a model that only copied the marginals would fail.
"""

import matplotlib.pyplot as plt
import numpy as np

from tabsynth import Synthesizer
from tabsynth.datasets import load_example
from tabsynth.evaluate import column_shapes, pair_trends

real = load_example()
model = Synthesizer(random_state=0).fit(real)
synthetic = model.sample(len(real), seed=1)
print(synthetic.head())

# %%
# Every column's distribution
# ---------------------------
# Histograms for the numbers (on the real column's bins), bars for the
# category. The score above each panel is the column-shape score of the
# protocols: 1 - KS for numbers, 1 - TVD for categories (1 = identical).

shapes = column_shapes(real, synthetic)["columns"]
fig, axes = plt.subplots(3, 4, figsize=(12, 8), layout="constrained")
for ax, col in zip(axes.flat, real.columns):
    if col == "sex":
        r = real[col].value_counts(normalize=True).sort_index()
        s = synthetic[col].value_counts(normalize=True).reindex(r.index, fill_value=0)
        x = np.arange(len(r))
        ax.bar(x - 0.2, r.to_numpy(), 0.4, label="real", color="#1f77b4")
        ax.bar(x + 0.2, s.to_numpy(), 0.4, label="synthetic", color="#ff7f0e")
        ax.set_xticks(x, [str(v) for v in r.index])
    else:
        bins = np.histogram_bin_edges(real[col].astype(float), bins=20)
        ax.hist(real[col].astype(float), bins=bins, alpha=0.6, density=True, label="real", color="#1f77b4")
        ax.hist(synthetic[col].astype(float), bins=bins, alpha=0.6, density=True, label="synthetic", color="#ff7f0e")
    ax.set_title(f"{col}: {shapes[col]['score']:.3f}", fontsize=10)
    ax.set_yticks([])
axes.flat[-1].axis("off")
axes.flat[0].legend(fontsize=8)
fig.suptitle("real (blue) and synthetic (orange) rows, column by column")
plt.show()

# %%
# Pairs of columns
# ----------------
# The joint shape of four columns: real rows on the left, synthetic on the
# right. Correlated pairs (the blood serum measurements s1 and s2, the
# disease's progression and bmi) keep their slopes and spreads.

cols = ["bmi", "bp", "s1", "s2", "progression"]
fig, axes = plt.subplots(len(cols), 2 * len(cols), figsize=(14, 7), layout="constrained")
for side, (name, frame) in enumerate([("real", real), ("synthetic", synthetic)]):
    color = "#1f77b4" if side == 0 else "#ff7f0e"
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            ax = axes[i, side * len(cols) + j]
            if i == j:
                ax.hist(frame[a].astype(float), bins=15, color=color)
            else:
                ax.scatter(frame[b], frame[a], s=2, alpha=0.5, color=color)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == len(cols) - 1:
                ax.set_xlabel(b, fontsize=8)
            if j == 0:
                ax.set_ylabel(a, fontsize=8)
    axes[0, side * len(cols) + len(cols) // 2].set_title(name)
plt.show()

trends = pair_trends(real, synthetic)
print(f"pair trends over every pair of columns: {trends['score']:.3f}")
