"""
A rare class: F1 with and without augmentation
==============================================

scikit-learn's breast cancer table, with the malignant class cut down to
one row in ten, is a small imbalanced problem. Train three classifiers on
the training split as it is, after random over-sampling (copies of
minority rows), and after :class:`~tabsynth.GenerativeOverSampler` (new
minority rows drawn from a model of the table with the class fixed) with
its default backend, ``trees``, and with ``gmm``, and score each on the
same real test rows by the minority class's F1. Three splits, so the
spread shows.

Read the chart before you augment. The malignant class has 28 training
rows, fewer than the 30 rows a ``trees`` leaf must hold. Told the class,
``trees`` grows each column's trees within each class, so new malignant
rows come from malignant rows only: with logistic regression the
minority's F1 rises from about 0.91 to about 0.97 (mean of the three
splits), as with ``gmm`` (which fits one mixture per class); with the
random forest both stay a little below no augmentation. (Before
``trees`` split on the class first, its malignant rows were drawn from
leaves shared with benign rows, and F1 fell to about 0.4.) On adult, with 833
minority training rows, both backends beat SMOTENC (:doc:`../benchmarks`). This
is what ``tabsynth augment --check`` is for: it refuses to write rows that
lower held-out scores.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from tabsynth import GenerativeOverSampler

data = load_breast_cancer(as_frame=True)
X, y = data.data, data.target.map({0: "malignant", 1: "benign"})
rng = np.random.default_rng(0)
malignant = np.flatnonzero(y == "malignant")
keep = np.concatenate([np.flatnonzero(y == "benign"), rng.choice(malignant, 40, replace=False)])
X, y = X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)
print(y.value_counts().to_string())


def random_over_sampling(X, y, seed):
    counts = y.value_counts()
    extra = []
    for cls, n in counts.items():
        rows = np.flatnonzero(y == cls)
        extra.append(np.random.default_rng(seed).choice(rows, counts.max() - n, replace=True))
    idx = np.concatenate([np.arange(len(y))] + extra)
    return X.iloc[idx], y.iloc[idx]


models = {
    "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "decision tree": lambda: DecisionTreeClassifier(min_samples_leaf=3, random_state=0),
    "random forest": lambda: RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0),
}
samplers = {
    "none": lambda X, y, seed: (X, y),
    "random over-sampling": random_over_sampling,
    "GenerativeOverSampler (trees)": lambda X, y, seed: GenerativeOverSampler(random_state=seed).fit_resample(X, y),
    "GenerativeOverSampler (gmm)": lambda X, y, seed: GenerativeOverSampler("gmm", random_state=seed).fit_resample(
        X, y),
}

rows = []
for seed in range(3):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    for sampler, resample in samplers.items():
        X_fit, y_fit = resample(X_train, y_train, seed)
        for model, make in models.items():
            pred = make().fit(X_fit, y_fit).predict(X_test)
            f1 = f1_score(y_test, pred, pos_label="malignant")
            rows.append({"seed": seed, "sampler": sampler, "model": model, "f1": f1})
scores = pd.DataFrame(rows)
summary = scores.groupby(["model", "sampler"])["f1"].agg(["mean", "std"]).unstack("sampler")
print(summary.round(3).to_string())

# %%
# Minority-class F1 by classifier
# -------------------------------
# Bars are the mean over the three splits, whiskers one standard deviation.

fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
width = 0.2
colors = {"none": "#7f7f7f", "random over-sampling": "#1f77b4", "GenerativeOverSampler (trees)": "#d62728",
          "GenerativeOverSampler (gmm)": "#ff7f0e"}
for k, sampler in enumerate(samplers):
    means = summary["mean"][sampler].reindex(list(models))
    stds = summary["std"][sampler].reindex(list(models))
    x = np.arange(len(models)) + (k - 1.5) * width
    ax.bar(x, means, width, yerr=stds, capsize=3, label=sampler, color=colors[sampler])
ax.set_xticks(np.arange(len(models)), list(models))
ax.set_ylabel("F1 of the malignant class (test rows)")
ax.set_ylim(0, 1)
ax.legend(loc="lower left", fontsize=8)
ax.set_title("breast cancer, malignant cut to 40 of 397 rows")
plt.show()
