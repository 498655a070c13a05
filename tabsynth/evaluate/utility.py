"""Machine-learning utility: train on real / synthetic / real+synthetic, test on real holdout rows.

Task rule (:func:`infer_task`), from the target column of the real table:

* categorical, boolean, string or object target -> classification;
* numeric target whose observed values are all whole numbers with at most
  20 distinct values -> classification (codes such as 0/1 or 1..5, also when
  read as floats because of missing values);
* any other numeric target -> regression; datetime targets are refused.

Models (scikit-learn; regression counterpart in brackets):

==================== ================================ ======== ===========
name                 classifier [regressor]           seeds    rows per
                                                               training
                                                               table
==================== ================================ ======== ===========
logistic_regression  LogisticRegression [Ridge]       1        all
decision_tree        DecisionTree (defaults)          1        all
random_forest        RandomForest, 100 trees          1        10,000
gradient_boosting    HistGradientBoosting, native     1        all
                     categoricals, no early stopping
svm                  SVC, RBF kernel [SVR]            1        5,000
mlp                  MLP (64, 32), early stopping     every    10,000
                     (5 epochs without gain),
                     max_iter=50
==================== ================================ ======== ===========

Seeds: logistic regression, gradient boosting (no subsampling) and the SVM
are deterministic; a decision tree (all features tried at every split) only
breaks ties between equally good splits at random, and a random forest's 100
trees already average over bootstrap and feature draws: on adult the
standard deviation of their ROC-AUC across seeds is 0.002 at most, so they
are fit once, with the first seed. The MLP, whose start weights are random, is averaged over
every seed.

Row caps (:data:`MAX_TRAIN_ROWS`): the random forest, the SVM (O(n²)) and the
MLP train on at most that many rows of each training table, a stratified
(classification) seeded subsample drawn once with ``random_state`` and shared
by the models; the real+synthetic table is the capped real rows plus the
capped synthetic rows. The rows used are reported per model
(``train_rows``), the caps as ``max_train_rows``. On adult (26,048 training
rows) the caps move the random forest's and the MLP's ROC-AUC by 0.005 at
most; the SVM's depends on which 5,000 rows are drawn (0.885 to 0.897 over
eight draws).

Each fit is a job of :func:`tabsynth._spread.spread` (:class:`UtilityRun`):
the features are encoded here, once per training table, and the fits run on
the idle cores, this process and helper processes; a full ``evaluate`` of
adult took 19.6 s instead of 33.0 on 2 cores (docs/evaluate.md, "Cost";
benchmarks/evaluate_adult.py).

Preprocessing: numeric and datetime columns (datetimes as seconds) get
median imputation and standard scaling; each categorical column is one-hot
encoded (missing values as a category; at most 50 columns per feature, rarer
and unseen values share one); gradient boosting gets ordinal codes with
native categorical splits, and numeric features with median imputation plus
missing-value indicators. Regression targets are standardised for the SVR
and the MLP. The encoders are fit once per training table, on all its rows,
and shared by every model and seed (categories are counted as integer codes
in their sorted order: the same features as the text keys, faster); class
predictions come from the same pass as the scores.

Metrics, always on the holdout: ROC-AUC (binary; the positive class is the
last of the sorted class labels), macro-F1 (multiclass; accuracy and
one-vs-rest ROC-AUC also reported), R² (regression; RMSE also reported).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._spread import spread, start
from .._threads import get_threads
from ..errors import InputError
from ._columns import (
    CATEGORICAL,
    names_text,
    DATETIME,
    MISSING,
    check_frames,
    column_kind,
    column_kinds,
    model_frame,
    model_kinds,
    onehot_width,
    preprocessor,
    to_float,
    to_keys,
)

__all__ = ["MODELS", "infer_task", "utility", "feature_selection", "check_models"]

MODELS = ("logistic_regression", "decision_tree", "random_forest", "gradient_boosting", "svm", "mlp")
#: models averaged over every seed (the others are fit once, with the first seed; see the module docstring)
STOCHASTIC = {"mlp"}
#: rows of each training table a model trains on at most (seeded, stratified subsample); absent: every row
MAX_TRAIN_ROWS = {"random_forest": 10_000, "svm": 5_000, "mlp": 10_000}
#: the MLP stops after this many epochs without a gain on its validation split, and after MLP_MAX_ITER epochs
MLP_PATIENCE, MLP_MAX_ITER = 5, 50
#: the training sets :func:`utility` compares: real rows, synthetic rows, both
TRAIN_SETS = ("real", "synthetic", "augmented")
MAX_CLASSES_FOR_INTEGER_TARGET = 20

Progress = Callable[[str, int, int], None]


# ----------------------------------------------------------------- task
def infer_task(y: pd.Series) -> str:
    """``"classification"`` or ``"regression"`` for a target column (see the module docstring).

    Parameters
    ----------
    y : pandas.Series
        The target column.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> infer_task(pd.Series(["a", "b", "a"]))
    'classification'
    >>> infer_task(pd.Series([0.0, 1.0, None]))
    'classification'
    >>> infer_task(pd.Series([0.5, 1.5, 2.0]))
    'regression'
    """
    kind = column_kind(y)
    if kind == CATEGORICAL:
        return "classification"
    if kind == DATETIME:
        raise InputError(f"target {y.name!r} is a datetime column; choose a categorical or numeric target")
    vals = to_float(y, kind)
    vals = vals[~np.isnan(vals)]
    if len(vals) and np.all(vals == np.round(vals)) and len(np.unique(vals)) <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return "classification"
    return "regression"


def check_models(models: Sequence[str] | None) -> list[str]:
    """The utility models named by ``models`` (a list, or one comma-separated string; None: all of :data:`MODELS`)."""
    if models is None:
        return list(MODELS)
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    bad = [m for m in models if m not in MODELS]
    if bad:
        raise InputError(f"unknown model {bad[0]!r} in models; choose from {', '.join(MODELS)}")
    return list(dict.fromkeys(models))


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The utility models' seeds as a list of ints (an error names a bad one)."""
    try:
        seeds = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise InputError(f"seeds={seeds!r} is not valid; pass a sequence of integers such as (0, 1, 2)") from None
    if not seeds:
        raise InputError("seeds is empty; pass at least one integer seed, e.g. seeds=(0,)")
    return seeds


# ------------------------------------------------------------- the data
def sample_rows(y: np.ndarray, n: int | None, seed: int, stratify: bool) -> np.ndarray:
    """Sorted positions of at most ``n`` rows, drawn without replacement with ``seed``.

    With ``stratify``, every class keeps its share of the rows (largest
    remainders; a class keeps at least one row while ``n`` allows).

    Examples
    --------
    >>> y = np.array(["a"] * 90 + ["b"] * 10)
    >>> idx = sample_rows(y, 20, 0, stratify=True)
    >>> len(idx), int((y[idx] == "b").sum())
    (20, 2)
    """
    if n is None or len(y) <= n:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    if not stratify:
        return np.sort(rng.choice(len(y), size=n, replace=False))
    codes, _ = pd.factorize(y, sort=True)
    counts = np.bincount(codes)
    exact = counts * (n / len(y))
    quota = np.minimum(np.maximum(np.floor(exact).astype(int), 1 if n >= len(counts) else 0), counts)
    by_remainder = np.argsort(-(exact - np.floor(exact)), kind="stable")
    while quota.sum() < n:  # hand out the rest by largest remainder
        j = next(j for j in by_remainder if quota[j] < counts[j])
        quota[j] += 1
    while quota.sum() > n:  # the one-row floor overshot: take back from the largest classes
        quota[np.argmax(quota)] -= 1
    picked = [rng.permutation(np.flatnonzero(codes == j))[:q] for j, q in enumerate(quota)]
    return np.sort(np.concatenate(picked))


class _Data:
    """Feature frames and labels of the three training sets and the holdout.

    The model features of each training table (one-hot or ordinal) are
    computed once, on demand, and shared by every model and seed; so are the
    capped row subsets (:meth:`rows`).
    """

    def __init__(self, train, synthetic, holdout, target, task, random_state):
        self.target = target
        self.task = task
        self.random_state = random_state
        self.notes: list[str] = []
        features = [c for c in train.columns if c != target]
        if not features:
            raise InputError(f"the table has no column besides the target {target!r}; add feature columns")
        self.names = features  # the original column labels
        kinds = column_kinds(train)
        self.features = [f"x{i}" for i in range(len(features))]  # model_frame's names
        self.kinds = model_kinds(kinds, features)
        y_tr, keep_tr = self._labels(train[target], None)
        self.classes = sorted(np.unique(y_tr[keep_tr]).tolist()) if task == "classification" else None
        if task == "classification" and len(self.classes) < 2:
            only = self.classes[0] if self.classes else "none"
            raise InputError(f"target {target!r} has only one class ({only!r}) in the real table; "
                             "choose another target or pass rows of at least two classes")
        if task == "regression" and np.nanstd(y_tr[keep_tr].astype(float)) == 0:
            raise InputError(f"target {target!r} is constant in the real table; choose another target")
        y_sy, keep_sy = self._labels(synthetic[target], self.classes)
        y_ho, keep_ho = self._labels(holdout[target], self.classes)
        self.dropped = {"real": int((~keep_tr).sum()), "synthetic": int((~keep_sy).sum()),
                        "holdout": int((~keep_ho).sum())}
        if self.dropped["synthetic"]:
            what = "missing or unseen" if task == "classification" else "missing"
            self.notes.append(f"dropped {self.dropped['synthetic']} synthetic rows with a {what} target")
        if keep_ho.sum() == 0:
            raise InputError(f"the holdout has no row with a usable value of target {target!r}; "
                             "pass holdout rows with the real table's target values")
        self.X = {
            "real": model_frame(train.loc[keep_tr], kinds, features),
            "synthetic": model_frame(synthetic.loc[keep_sy], kinds, features),
            "holdout": model_frame(holdout.loc[keep_ho], kinds, features),
        }
        self.y = {"real": y_tr[keep_tr], "synthetic": y_sy[keep_sy], "holdout": y_ho[keep_ho]}
        self.X["augmented"] = pd.concat([self.X["real"], self.X["synthetic"]], ignore_index=True)
        self.y["augmented"] = np.concatenate([self.y["real"], self.y["synthetic"]])
        self.width = onehot_width(self.X["augmented"], self.kinds)
        self.n_cat = sum(self.kinds[c] == CATEGORICAL for c in self.features)
        if len(self.y["synthetic"]) == 0:
            self.notes.append("no synthetic row has a usable target: synthetic scores are those of a constant model")
        self._encoded: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._rows: dict[tuple[str, int | None], np.ndarray] = {}
        self._features: dict[tuple[str, str, str, int | None], tuple[Any, Any]] = {}

    def _labels(self, col: pd.Series, classes):
        if self.task == "classification":
            y = to_keys(col.reset_index(drop=True))
            keep = y != MISSING
            if classes is not None:
                keep &= np.isin(y, classes)
            return y, keep
        y = to_float(col.reset_index(drop=True), column_kind(col) if column_kind(col) != CATEGORICAL else "numeric")
        return y, ~np.isnan(y)

    def rows(self, which: str, cap: int | None) -> np.ndarray:
        """Positions of the rows of training table ``which`` a model with row cap ``cap`` trains on.

        Real and synthetic: :func:`sample_rows` with ``random_state``
        (stratified for classification); augmented: those real rows followed
        by those synthetic rows.
        """
        key = (which, cap)
        if key not in self._rows:
            if which == "augmented":
                real = self.rows("real", cap)
                self._rows[key] = np.concatenate([real, len(self.y["real"]) + self.rows("synthetic", cap)])
            else:
                self._rows[key] = sample_rows(self.y[which], cap, self.random_state,
                                              stratify=self.task == "classification")
        return self._rows[key]

    def capped(self, which: str, encoding: str, form: str, cap: int | None) -> tuple[Any, Any]:
        """:meth:`encoded` features of the rows a model with row cap ``cap`` trains on (:meth:`rows`), and of
        the holdout; each subset taken once, shared by every model and seed that asks for it."""
        key = (which, encoding, form, cap)
        if key not in self._features:
            X, Xt = self.encoded(which, encoding, form)
            idx = self.rows(which, cap)
            self._features[key] = (X[idx] if len(idx) < X.shape[0] else X, Xt)
        return self._features[key]

    def _coded(self) -> dict[str, pd.DataFrame]:
        """:attr:`X` with each categorical column's keys as integer codes, in the keys' sorted order.

        The encoders count integers about ten times faster than strings; codes
        in sorted key order give the same categories, columns and infrequent
        groups as the keys themselves, so the same features.
        """
        if not hasattr(self, "_coded_frames"):
            frames = {w: self.X[w].copy() for w in ("real", "synthetic", "holdout")}
            for c in self.features:
                if self.kinds[c] == CATEGORICAL:
                    keys = np.concatenate([frames[w][c].to_numpy() for w in frames])
                    codes = pd.factorize(keys, sort=True)[0]
                    start = 0
                    for w in frames:
                        frames[w][c] = codes[start:start + len(frames[w])]
                        start += len(frames[w])
            frames["augmented"] = pd.concat([frames["real"], frames["synthetic"]], ignore_index=True)
            self._coded_frames = frames
        return self._coded_frames

    def encoded(self, which: str, encoding: str, form: str = "float64") -> tuple[Any, Any]:
        """Model features of training table ``which`` and of the holdout, the encoder fit on every row of ``which``.

        ``form``: ``"float64"``; ``"float32"`` (the trees compute in float32
        anyway; the MLP runs about a quarter faster, same scores to 1e-4); or
        ``"sparse"`` (CSR float64: the SVM's kernel and the logistic regression's products on one-hot
        rows cost their non-zeros; the regression is about 6x faster on adult, the same AUC to 1e-7).
        """
        key = (which, encoding, form)
        if key not in self._encoded:
            if form == "float64":
                coded = self._coded()
                pre = preprocessor(self.kinds, self.features, encoding=encoding, dense=self.width <= 2000)
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*[Ff]ound unknown categories.*")
                    self._encoded[key] = (pre.fit_transform(coded[which]), pre.transform(coded["holdout"]))
            else:
                import scipy.sparse as sp

                convert = ((lambda a: sp.csr_matrix(a, dtype=np.float64)) if form == "sparse"
                           else (lambda a: a.astype(np.float32)))
                self._encoded[key] = tuple(convert(a) for a in self.encoded(which, encoding))
        return self._encoded[key]


# ------------------------------------------------------------- estimators
def _estimator(name: str, task: str, seed: int, n_cat: int, n_jobs: int | None, n_rows: int = 10_000):
    """The model (no preprocessing: it gets :meth:`_Data.encoded` features)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    clf = task == "classification"
    if name == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        # the categorical block comes first in the ordinal encoding
        cls = HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        return cls(categorical_features=list(range(n_cat)) or None, early_stopping=False, random_state=seed)
    if name == "logistic_regression":
        from sklearn.linear_model import LogisticRegression, Ridge

        model = LogisticRegression(max_iter=1000) if clf else Ridge(alpha=1.0)
    elif name == "decision_tree":
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        model = (DecisionTreeClassifier if clf else DecisionTreeRegressor)(random_state=seed)
    elif name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        model = (RandomForestClassifier if clf else RandomForestRegressor)(n_estimators=100, random_state=seed,
                                                                           n_jobs=n_jobs)
    elif name == "svm":
        from sklearn.svm import SVC, SVR

        model = SVC(kernel="rbf", C=1.0, gamma="scale") if clf else SVR(kernel="rbf", C=1.0, gamma="scale")
    elif name == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        cls = MLPClassifier if clf else MLPRegressor
        model = cls(hidden_layer_sizes=(64, 32), max_iter=MLP_MAX_ITER, early_stopping=n_rows >= 200,
                    n_iter_no_change=MLP_PATIENCE, random_state=seed)
    else:  # pragma: no cover - checked earlier
        raise InputError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if not clf and name in ("svm", "mlp"):
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return model


def _fit(est, X, y: np.ndarray):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _class_scores(model, X, classes: list) -> tuple[np.ndarray, np.ndarray]:
    """Scores for every class of ``classes`` (columns; zero for classes the model never saw) and the predictions.

    The predictions come from the same pass: the class of the highest
    probability (what ``predict`` returns for these models) or, for a binary
    SVM, the sign of its decision value; a multiclass SVM votes (``predict``).
    """
    seen = np.asarray(model.classes_, dtype=object)
    if hasattr(model, "predict_proba"):
        raw = model.predict_proba(X)
        pred = seen[np.argmax(raw, axis=1)]
    else:
        raw = model.decision_function(X)
        if raw.ndim == 1:  # binary: score of the second class
            pred = seen[(raw > 0).astype(int)]
            raw = np.column_stack([-raw, raw])
        else:
            pred = model.predict(X)
    out = np.full((len(raw), len(classes)), -np.inf if not hasattr(model, "predict_proba") else 0.0)
    pos = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(seen):
        if c in pos:
            out[:, pos[c]] = raw[:, j]
    return out, pred


def _classification_metrics(y: np.ndarray, pred: np.ndarray, scores: np.ndarray, classes: list) -> dict[str, float]:
    """Accuracy, macro-F1 and ROC-AUC (binary) or mean one-vs-rest ROC-AUC (multiclass)."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    m = {"accuracy": float(accuracy_score(y, pred)),
         "f1_macro": float(f1_score(y, pred, average="macro", zero_division=0))}
    finite = np.isfinite(scores)
    floor = scores[finite].min() - 1.0 if finite.any() else 0.0
    scores = np.where(finite, scores, floor)  # classes a model never saw rank last

    def auc(j: int) -> float:
        pos = y == classes[j]
        return float(roc_auc_score(pos, scores[:, j])) if pos.any() and (~pos).any() else float("nan")

    if len(classes) == 2:
        m["roc_auc"] = auc(1)
    else:
        aucs = [a for a in (auc(j) for j in range(len(classes))) if not np.isnan(a)]
        m["roc_auc_ovr"] = float(np.mean(aucs)) if aucs else float("nan")
    return m


def _metric_names(task: str, data: _Data) -> tuple[str, ...]:
    if task == "regression":
        return ("r2", "rmse")
    return ("accuracy", "f1_macro", "roc_auc" if len(data.classes) == 2 else "roc_auc_ovr")


#: feature format by model (see :meth:`_Data.encoded`); the others get float64
_FORMS = {"decision_tree": "float32", "random_forest": "float32", "mlp": "float32", "svm": "sparse",
          "logistic_regression": "sparse"}


def _form(name: str, task: str) -> str:
    """The feature format of a model (:data:`_FORMS`); the ridge (regression) keeps float64: its solver follows it."""
    return "float64" if task == "regression" and name == "logistic_regression" else _FORMS.get(name, "float64")


def _constant_scores(task: str, data: _Data, y: np.ndarray) -> dict[str, float] | None:
    """The holdout metrics of a constant model when ``y`` holds fewer than two classes (or no row), else None."""
    yt = data.y["holdout"]
    if task == "classification":
        present = np.unique(y)
        if len(present) >= 2:
            return None
        const = present[0] if len(present) else data.classes[0]  # what else could be learnt from one class
        pred = np.full(len(yt), const, dtype=object)
        scores = np.zeros((len(yt), len(data.classes)))
        scores[:, data.classes.index(const)] = 1.0
        return _classification_metrics(yt, pred, scores, data.classes)
    if len(y):
        return None
    from sklearn.metrics import mean_squared_error, r2_score

    pred = np.full(len(yt), np.mean(data.y["real"]))
    return {"r2": float(r2_score(yt, pred)), "rmse": float(np.sqrt(mean_squared_error(yt, pred)))}


def fit_score(name: str, task: str, seed: int, n_cat: int, n_jobs: int | None, X: Any, y: np.ndarray, Xt: Any,
              yt: np.ndarray, classes: list | None) -> tuple[dict[str, float], float]:
    """Fit one model on ``(X, y)``; its metrics on the holdout ``(Xt, yt)`` and the seconds it took.

    A job of :func:`tabsynth._spread.spread` (it may run in a helper process); ``n_jobs`` None: the
    random forest's threads are :func:`tabsynth.get_threads` where it runs.
    """
    t0 = time.perf_counter()
    est = _fit(_estimator(name, task, seed, n_cat, get_threads() if n_jobs is None else n_jobs, len(y)), X, y)
    if task == "classification":
        scores, pred = _class_scores(est, Xt, classes)
        return _classification_metrics(yt, pred, scores, classes), time.perf_counter() - t0
    from sklearn.metrics import mean_squared_error, r2_score

    pred = est.predict(Xt)
    return ({"r2": float(r2_score(yt, pred)), "rmse": float(np.sqrt(mean_squared_error(yt, pred)))},
            time.perf_counter() - t0)


def check_caps(max_train_rows) -> dict[str, int | None]:
    """:data:`MAX_TRAIN_ROWS` updated with ``max_train_rows`` (model -> cap, ``None``: every row)."""
    caps: dict[str, int | None] = dict(MAX_TRAIN_ROWS)
    if max_train_rows is None:
        return caps
    if not isinstance(max_train_rows, dict):
        raise InputError(f"max_train_rows={max_train_rows!r} is not valid; pass a dict such as "
                         "{'random_forest': 10000} (None: every row)")
    for name, cap in max_train_rows.items():
        if name not in MODELS:
            raise InputError(f"unknown model {name!r} in max_train_rows; choose from {', '.join(MODELS)}")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 10):
            raise InputError(f"max_train_rows[{name!r}]={cap!r} is not valid; pass an integer >= 10 or None "
                             "(every row)")
        caps[name] = None if cap is None else int(cap)
    return caps


# ---------------------------------------------------------------- public
#: estimated seconds of work below which no helper process starts (one takes about 2.5 s to load scikit-learn)
SPREAD_MIN_SECONDS = 5.0
#: rough seconds of one fit per 10,000 training rows on adult (one thread): the order jobs are handed out
_COST = {"mlp": 1.4, "svm": 5.8, "random_forest": 2.5, "logistic_regression": 0.5, "gradient_boosting": 0.4,
         "decision_tree": 0.3}


def _fit_cost(name: str, rows: int) -> float:
    return _COST.get(name, 1.0) * max(rows, 1000) / 10_000


def utility_cost(n_real: int, n_synthetic: int, models: Sequence[str], seeds: Sequence[int], caps: dict) -> float:
    """Rough seconds (one thread) of a utility run's fits on tables of these sizes (see :data:`_COST`)."""
    total = 0.0
    for name in models:
        cap = caps.get(name)
        real, syn = (n if cap is None else min(n, cap) for n in (n_real, n_synthetic))
        runs = len(seeds) if name in STOCHASTIC else 1
        total += runs * sum(_fit_cost(name, rows) for rows in (real, syn, real + syn))
    return total


class UtilityRun:
    """One utility run, planned: the fits as jobs (:attr:`jobs`, with :attr:`costs`), then :meth:`finish`.

    Built on checked arguments (see :func:`check_task_args`, :func:`check_caps`); the features are
    encoded here, once per training table, so every job is one model's fit and score.
    """

    def __init__(self, train, synthetic, holdout, target, *, task, models, seeds, random_state, n_jobs, caps,
                 train_sets=TRAIN_SETS):
        self.data = data = _Data(train, synthetic, holdout, target, task, random_state)
        self.task, self.models, self.caps, self.train_sets = task, list(models), caps, tuple(train_sets)
        self.seeds = {name: list(seeds if name in STOCHASTIC else seeds[:1]) for name in self.models}
        self.jobs: list[tuple[Any, tuple]] = []
        self.costs: list[float] = []
        self._slots: dict[tuple[str, str, int], Any] = {}  # (model, training set, seed) -> job index or metrics
        self._rows: dict[tuple[str, str], int] = {}
        constants: dict[tuple[str, int | None], dict[str, float] | None] = {}  # per training rows
        for name in self.models:
            for which in self.train_sets:
                idx = data.rows(which, caps.get(name))
                y = data.y[which][idx]
                self._rows[(name, which)] = len(y)
                if (which, caps.get(name)) not in constants:
                    constants[(which, caps.get(name))] = _constant_scores(task, data, y)
                constant = constants[(which, caps.get(name))]
                for seed in self.seeds[name]:
                    if constant is not None:
                        self._slots[(name, which, seed)] = constant
                        continue
                    X, Xt = data.capped(which, "ordinal" if name == "gradient_boosting" else "onehot",
                                        _form(name, task), caps.get(name))
                    self._slots[(name, which, seed)] = len(self.jobs)
                    self.jobs.append((fit_score, (name, task, seed, data.n_cat, n_jobs, X, y, Xt, data.y["holdout"],
                                                  data.classes)))
                    self.costs.append(_fit_cost(name, len(y)))

    def finish(self, outcomes: Sequence[Any]) -> dict[str, Any]:
        """The result of :func:`utility` from the jobs' outcomes (``(metrics, seconds)`` or the exception)."""
        data, task = self.data, self.task
        primary = {"classification": "roc_auc" if len(data.classes or []) == 2 else "f1_macro",
                   "regression": "r2"}[task]
        out_models: dict[str, Any] = {}
        for name in self.models:
            entry: dict[str, Any] = {}
            metrics: dict[str, Any] = {}
            seconds = 0.0
            for which in self.train_sets:
                runs = []
                for seed in self.seeds[name]:
                    slot = self._slots[(name, which, seed)]
                    m = slot if isinstance(slot, dict) else outcomes[slot]
                    if isinstance(m, BaseException):  # one model failing must not sink the evaluation: reported
                        message = f"{type(m).__name__}: {str(m).splitlines()[0] if str(m) else ''}"
                        entry.setdefault("errors", []).append(f"{which}, seed {seed}: {message}")
                        m = {k: float("nan") for k in _metric_names(task, data)}
                    elif not isinstance(slot, dict):
                        m, took = m
                        seconds += took
                    runs.append(m)
                avg = {k: float(np.nanmean([r[k] for r in runs])) if not all(np.isnan(r[k]) for r in runs)
                       else float("nan") for k in runs[0]}
                metrics[which] = avg
                entry[which] = avg[primary]
            for which in set(TRAIN_SETS) - set(self.train_sets):
                entry[which] = float("nan")
            if entry.get("errors"):
                data.notes.append(f"{name} failed on some fits (see models.{name}.errors); failed fits are left out "
                                  "of its averages")
            entry["metrics"] = metrics
            entry["seeds"] = list(self.seeds[name])
            entry["train_rows"] = {which: self._rows[(name, which)] for which in self.train_sets}
            entry["seconds"] = seconds
            out_models[name] = entry
        return _result(data, task, primary, self.models, self.caps, out_models)


def _result(data: _Data, task: str, primary: str, models: list[str], caps: dict, out_models: dict) -> dict[str, Any]:
    result: dict[str, Any] = {
        "task": task,
        "metric": primary,
        "target": data.target,
        "models": out_models,
        "max_train_rows": {name: caps.get(name) for name in models},
    }
    capped: dict[int, list[str]] = {}
    for name in models:
        if caps.get(name) is not None and any(len(data.y[w]) > caps[name] for w in ("real", "synthetic")):
            capped.setdefault(caps[name], []).append({"svm": "SVM", "mlp": "MLP"}.get(name, name.replace("_", " ")))
    if capped:
        parts = [f"{' and '.join(names)} on at most {cap:,}" for cap, names in capped.items()]
        data.notes.append(f"{', '.join(parts)} rows of each training table (a seeded subsample"
                          f"{', stratified' if task == 'classification' else ''}; real+synthetic: both capped parts)")
    if task == "classification":
        result["classes"] = len(data.classes)
        if len(data.classes) == 2:
            result["positive_class"] = data.classes[1]
    if out_models:
        def mean(key: str) -> float:
            vals = [m[key] for m in out_models.values() if not np.isnan(m[key])]
            return float(np.mean(vals)) if vals else float("nan")

        real, syn, aug = mean("real"), mean("synthetic"), mean("augmented")
        result["summary"] = {"real": float(real), "synthetic": float(syn), "augmented": float(aug),
                             "gap": float(real - syn), "lift": float(aug - real)}
    result["rows"] = {"train_real": len(data.y["real"]), "train_synthetic": len(data.y["synthetic"]),
                      "holdout": len(data.y["holdout"]), "dropped_real": data.dropped["real"],
                      "dropped_synthetic": data.dropped["synthetic"], "dropped_holdout": data.dropped["holdout"]}
    result["notes"] = data.notes
    return result


def run_utility(train, synthetic, holdout, target, *, task, models, seeds, random_state, n_jobs, caps, progress,
                train_sets=TRAIN_SETS):
    """:func:`utility` on checked arguments (see :func:`check_task_args`, :func:`check_caps`)."""
    run = UtilityRun(train, synthetic, holdout, target, task=task, models=models, seeds=seeds,
                     random_state=random_state, n_jobs=n_jobs, caps=caps, train_sets=train_sets)
    total = len(run.jobs)
    if progress:
        progress("utility", 0, total)
    width = start(("tabsynth.evaluate.utility",), most=None if sum(run.costs) >= SPREAD_MIN_SECONDS else 1)
    return run.finish(spread([(guarded, (job,)) for job in run.jobs], width=width, costs=run.costs,
                             done=(lambda k: progress("utility", k, total)) if progress else None))


def guarded(job: tuple[Any, tuple]) -> Any:
    """A job's result, or the exception it raised (a job of :func:`tabsynth._spread.spread`)."""
    func, args = job
    try:
        return func(*args)
    except Exception as exc:
        return exc


def utility(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    *,
    task: str | None = None,
    models: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    random_state: int = 0,
    n_jobs: int | None = None,
    max_train_rows: dict[str, int | None] | None = None,
    progress: Progress | None = None,
    train_sets: Sequence[str] = TRAIN_SETS,
) -> dict[str, Any]:
    """Train each model on real, synthetic and real+synthetic rows; score all on the holdout.

    Parameters
    ----------
    train : pandas.DataFrame
        Real training rows (the rows the generator was fit on).
    synthetic : pandas.DataFrame
        Synthetic rows, same columns. Rows with a missing target, or (for
        classification) a class absent from ``train``, are dropped and counted.
    holdout : pandas.DataFrame
        Real rows neither the generator nor the models saw.
    target : str
        Target column.
    task : {"classification", "regression"} or None
        Default: :func:`infer_task` on ``train[target]``.
    models : sequence of str or None
        Subset of :data:`MODELS` (default: all six).
    seeds : sequence of int, default (0, 1, 2)
        Seeds averaged for the stochastic model (mlp); the others are fit
        once, with the first seed (see the module docstring).
    random_state : int, default 0
        Seed of the capped models' training-row subsample.
    n_jobs : int or None
        Passed to the random forest.
    max_train_rows : dict or None
        Row caps by model, updating :data:`MAX_TRAIN_ROWS` (random_forest
        10,000, svm 5,000, mlp 10,000 rows of each training table); ``None``
        as a cap means every row, e.g. ``{"random_forest": None}``.
    progress : callable or None
        Called as ``progress(step_description, step_index, n_steps)``.
    train_sets : sequence of str, default ("real", "synthetic", "augmented")
        Which training sets to fit on; the scores of the others are NaN.

    Returns
    -------
    dict
        ``{"task", "metric", "target", "models": {name: {"real", "synthetic",
        "augmented", "metrics", "seeds", "train_rows", "seconds"}},
        "max_train_rows": {name: cap or None}, "summary", "rows", "notes"}``
        (plus ``"classes"`` and, for a binary target, ``"positive_class"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=400)})
    >>> df["y"] = np.where(df["x"] + rng.normal(scale=0.5, size=400) > 0, "yes", "no")
    >>> res = utility(df[:300], df[:300], df[300:], "y", models=["logistic_regression"])
    >>> res["task"], res["metric"], res["models"]["logistic_regression"]["real"] > 0.8
    ('classification', 'roc_auc', True)
    """
    synthetic, holdout = check_frames(train, synthetic, holdout)
    task, models, seeds = check_task_args(train, target, task, models, seeds)
    bad = [w for w in train_sets if w not in TRAIN_SETS]
    if bad or not train_sets:
        raise InputError(f"train_sets: {bad[0] if bad else 'none'!r} is not one of {', '.join(TRAIN_SETS)}")
    return run_utility(train, synthetic, holdout, target, task=task, models=models, seeds=seeds,
                random_state=random_state, n_jobs=n_jobs, caps=check_caps(max_train_rows), progress=progress,
                train_sets=tuple(train_sets))


def check_task_args(train, target, task, models, seeds):
    """``(task, models, seeds)`` of a utility run on ``train``, checked (the target, the task, the model names)."""
    if target not in train.columns:
        raise InputError(f"target {target!r} is not a column of the real table; choose one of {names_text(train.columns)}")
    if task is None:
        task = infer_task(train[target])
    elif task not in ("classification", "regression"):
        raise InputError(f"task={task!r} is not valid; pass 'classification', 'regression' or None to infer it")
    return task, check_models(models), check_seeds(seeds)


def _mutual_information(data: _Data, which: str, random_state: int) -> np.ndarray | None:
    """Mutual information between each feature and the target in one table."""
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    X, y = data.X[which], data.y[which]
    if len(y) < 4 or (data.task == "classification" and len(np.unique(y)) < 2):
        return None
    # canonical row order: the k-NN estimate (and its jitter) then depends on the rows, not their order
    order = np.argsort(pd.util.hash_pandas_object(X.assign(__target__=y), index=False).to_numpy(), kind="stable")
    X, y = X.iloc[order].reset_index(drop=True), y[order]
    cols = []
    for c in data.features:
        if data.kinds[c] == CATEGORICAL:
            cols.append(pd.factorize(X[c].to_numpy())[0].astype(np.float64))
        else:
            x = X[c].to_numpy(dtype=np.float64)
            med = np.nanmedian(x) if np.isfinite(x).any() else 0.0
            cols.append(np.where(np.isnan(x), med, x))
    discrete = np.array([data.kinds[c] == CATEGORICAL for c in data.features])
    if data.task == "classification":
        return mutual_info_classif(np.column_stack(cols), pd.factorize(y)[0], discrete_features=discrete,
                                   n_neighbors=3, random_state=random_state)
    return mutual_info_regression(np.column_stack(cols), y, discrete_features=discrete, n_neighbors=3,
                                  random_state=random_state)


def _agreement(imp_real: np.ndarray | None, imp_syn: np.ndarray | None, features: list[str]) -> dict[str, Any]:
    from scipy.stats import spearmanr

    k = min(5, len(features))
    out: dict[str, Any] = {"method": "mutual_information", "k": k}
    if imp_real is None or imp_syn is None:
        out.update(spearman=None, top_k_overlap=None)
        return out
    if np.ptp(imp_real) == 0 or np.ptp(imp_syn) == 0 or len(features) < 2:
        rho = float("nan")  # a constant ranking has no rank correlation
    else:
        rho = float(spearmanr(imp_real, imp_syn).statistic)
    top_r = set(np.argsort(-imp_real, kind="stable")[:k])
    top_s = set(np.argsort(-imp_syn, kind="stable")[:k])
    out["spearman"] = rho
    out["top_k_overlap"] = len(top_r & top_s) / k
    out["scores"] = {
        "real": {f: float(v) for f, v in zip(features, imp_real)},
        "synthetic": {f: float(v) for f, v in zip(features, imp_syn)},
    }
    return out


def feature_selection(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    target: str,
    *,
    task: str | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Compare the features a selection picks on synthetic rows with those it picks on real rows.

    Each feature is scored by its mutual information with the target, in the
    real table and in the synthetic table (scikit-learn's
    ``mutual_info_classif`` / ``mutual_info_regression``, the scores behind
    ``SelectKBest``: categorical features as discrete codes, numeric and
    datetime features as continuous with missing values at the median,
    ``n_neighbors=3``, rows put in a canonical order first so that the
    estimate does not depend on row order). Reported: the Spearman rank correlation of the two
    score vectors (``None`` when either is constant, e.g. a synthetic table
    with a single class) and the overlap of the top-k features, k = min(5,
    number of features). Mutual information is model-free, so a synthetic
    table whose columns carry no information about the target scores near 0,
    where impurity importances would still rank continuous columns first.

    Parameters
    ----------
    train : pandas.DataFrame
        Real rows.
    synthetic : pandas.DataFrame
        Synthetic rows, the same columns.
    target : str
        The target column.
    task : {"classification", "regression"} or None
        Default: inferred from the target (:func:`infer_task`).
    random_state : int, default 0
        Seed of the mutual-information estimates.

    Returns
    -------
    dict
        ``{"method": "mutual_information", "k", "spearman", "top_k_overlap",
        "scores": {"real": {...}, "synthetic": {...}}}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    >>> df["y"] = np.where(df["a"] + 0.5 * df["b"] > 0, "p", "n")
    >>> fs = feature_selection(df, df.sample(frac=1.0, random_state=1), "y")
    >>> fs["spearman"], fs["top_k_overlap"]
    (1.0, 1.0)
    """
    synthetic, _ = check_frames(train, synthetic, None)
    task, _, _ = check_task_args(train, target, task, None, (0,))
    data = _Data(train, synthetic, train, target, task, random_state)
    return _agreement(_mutual_information(data, "real", random_state),
                      _mutual_information(data, "synthetic", random_state), data.names)
