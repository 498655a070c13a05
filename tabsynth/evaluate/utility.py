"""Machine-learning utility: train on real / synthetic / real+synthetic, test on real holdout rows.

Task rule (:func:`infer_task`), from the target column of the real table:

* categorical, boolean, string or object target -> classification;
* numeric target whose observed values are all whole numbers with at most
  20 distinct values -> classification (codes such as 0/1 or 1..5, also when
  read as floats because of missing values);
* any other numeric target -> regression; datetime targets are refused.

Models (scikit-learn; regression counterpart in brackets):

==================== ================================ ==================
name                 classifier [regressor]           seeds
==================== ================================ ==================
logistic_regression  LogisticRegression [Ridge]       1 (deterministic)
decision_tree        DecisionTree (defaults)          every seed
random_forest        RandomForest, 100 trees          every seed
gradient_boosting    HistGradientBoosting, native     1 (deterministic:
                     categoricals, no early stopping  no subsampling)
svm                  SVC, RBF kernel [SVR]            1; at most 5,000
                                                      training rows
mlp                  MLP (64, 32), early stopping,    every seed
                     max_iter=200
==================== ================================ ==================

Preprocessing: numeric and datetime columns (datetimes as seconds) get
median imputation and standard scaling; each categorical column is one-hot
encoded (missing values as a category; at most 50 columns per feature, rarer
and unseen values share one); gradient boosting gets ordinal codes with
native categorical splits, and numeric features with median imputation plus
missing-value indicators. Regression targets are
standardised for the SVR and the MLP.

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

from ..errors import InputError
from ._columns import (
    CATEGORICAL,
    _names,
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

__all__ = ["MODELS", "infer_task", "utility", "feature_selection"]

MODELS = ("logistic_regression", "decision_tree", "random_forest", "gradient_boosting", "svm", "mlp")
STOCHASTIC = {"decision_tree", "random_forest", "mlp"}
#: the training sets :func:`utility` compares: real rows, synthetic rows, both
TRAIN_SETS = ("real", "synthetic", "augmented")
MAX_CLASSES_FOR_INTEGER_TARGET = 20
SVM_MAX_ROWS = 5_000

Progress = Callable[[str, int, int], None]


# ----------------------------------------------------------------- task
def infer_task(y: pd.Series) -> str:
    """``"classification"`` or ``"regression"`` for a target column (see the module docstring).

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


def _check_models(models: Sequence[str] | None) -> list[str]:
    if models is None:
        return list(MODELS)
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    bad = [m for m in models if m not in MODELS]
    if bad:
        raise InputError(f"unknown model {bad[0]!r} in models; choose from {', '.join(MODELS)}")
    return list(dict.fromkeys(models))


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    try:
        seeds = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise InputError(f"seeds={seeds!r} is not valid; pass a sequence of integers such as (0, 1, 2)") from None
    if not seeds:
        raise InputError("seeds is empty; pass at least one integer seed, e.g. seeds=(0,)")
    return seeds


# ------------------------------------------------------------- the data
class _Data:
    """Feature frames and labels of the three training sets and the holdout."""

    def __init__(self, train, synthetic, holdout, target, task, random_state):
        self.target = target
        self.task = task
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
        if len(self.y["synthetic"]) == 0:
            self.notes.append("no synthetic row has a usable target: synthetic scores are those of a constant model")

    def _labels(self, col: pd.Series, classes):
        if self.task == "classification":
            y = to_keys(col.reset_index(drop=True))
            keep = y != MISSING
            if classes is not None:
                keep &= np.isin(y, classes)
            return y, keep
        y = to_float(col.reset_index(drop=True), column_kind(col) if column_kind(col) != CATEGORICAL else "numeric")
        return y, ~np.isnan(y)


# ------------------------------------------------------------- estimators
def _estimator(name: str, task: str, seed: int, kinds: dict[str, str], features: list[str], dense: bool,
               n_jobs: int | None, n_rows: int = 10_000):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    clf = task == "classification"
    if name == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        pre = preprocessor(kinds, features, encoding="ordinal")
        n_cat = sum(kinds[c] == CATEGORICAL for c in features)  # the categorical block comes first
        cls = HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        model = cls(categorical_features=list(range(n_cat)) or None, early_stopping=False, random_state=seed)
        return Pipeline([("pre", pre), ("model", model)])
    pre = preprocessor(kinds, features, encoding="onehot", dense=dense)
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
        model = cls(hidden_layer_sizes=(64, 32), max_iter=200, early_stopping=n_rows >= 200, n_iter_no_change=10,
                    random_state=seed)
    else:  # pragma: no cover - checked earlier
        raise InputError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if not clf and name in ("svm", "mlp"):
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return Pipeline([("pre", pre), ("model", model)])


def _fit(est, X: pd.DataFrame, y: np.ndarray):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*[Ff]ound unknown categories.*")
        return est.fit(X, y)


def _class_scores(est, X: pd.DataFrame, classes: list) -> np.ndarray:
    """Scores for every class of ``classes`` (columns), zero for classes the model never saw."""
    model = est[-1]
    seen = list(model.classes_)
    if hasattr(model, "predict_proba"):
        raw = est.predict_proba(X)
    else:
        raw = est.decision_function(X)
        if raw.ndim == 1:  # binary: score of the second class
            raw = np.column_stack([-raw, raw])
    out = np.full((len(X), len(classes)), -np.inf if not hasattr(model, "predict_proba") else 0.0)
    pos = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(seen):
        if c in pos:
            out[:, pos[c]] = raw[:, j]
    return out


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


def _fit_score(name: str, task: str, data: _Data, which: str, seed: int, n_jobs: int | None,
               svm_max_rows: int, random_state: int) -> tuple[dict[str, float], Any, int]:
    """Fit one model on one training set; metrics on the holdout, the fitted pipeline, rows used."""
    X, y = data.X[which], data.y[which]
    if name == "svm" and len(X) > svm_max_rows:
        rng = np.random.default_rng(random_state)
        idx = np.sort(rng.choice(len(X), size=svm_max_rows, replace=False))
        X, y = X.iloc[idx].reset_index(drop=True), y[idx]
    Xt, yt = data.X["holdout"], data.y["holdout"]
    if task == "classification":
        classes = data.classes
        present = np.unique(y)
        if len(present) < 2:  # a constant model: what else could be learnt from one class
            const = present[0] if len(present) else classes[0]
            pred = np.full(len(yt), const, dtype=object)
            scores = np.zeros((len(yt), len(classes)))
            scores[:, classes.index(const)] = 1.0
            return _classification_metrics(yt, pred, scores, classes), None, len(X)
        est = _fit(_estimator(name, task, seed, data.kinds, data.features, data.width <= 2000, n_jobs, len(X)), X, y)
        scores = _class_scores(est, Xt, classes)
        pred = est.predict(Xt)
        return _classification_metrics(yt, pred, scores, classes), est, len(X)
    from sklearn.metrics import mean_squared_error, r2_score

    if len(y) == 0:
        pred = np.full(len(yt), np.mean(data.y["real"]))
        est = None
    else:
        est = _fit(_estimator(name, task, seed, data.kinds, data.features, data.width <= 2000, n_jobs, len(X)), X, y)
        pred = est.predict(Xt)
    return {"r2": float(r2_score(yt, pred)), "rmse": float(np.sqrt(mean_squared_error(yt, pred)))}, est, len(X)


# ---------------------------------------------------------------- public
def _run(train, synthetic, holdout, target, *, task, models, seeds, random_state, n_jobs, svm_max_rows, progress,
         train_sets=TRAIN_SETS):
    data = _Data(train, synthetic, holdout, target, task, random_state)
    primary = {"classification": "roc_auc" if len(data.classes or []) == 2 else "f1_macro",
               "regression": "r2"}[task]
    out_models: dict[str, Any] = {}
    total = len(models) * len(train_sets)
    step = 0
    for name in models:
        t0 = time.perf_counter()
        model_seeds = seeds if name in STOCHASTIC else seeds[:1]
        entry: dict[str, Any] = {}
        metrics: dict[str, Any] = {}
        rows: dict[str, int] = {}
        for which in train_sets:
            if progress:
                progress(f"utility: {name} on {which}", step, total)
            step += 1
            runs = []
            n_rows = 0
            for seed in model_seeds:
                try:
                    m, _, n_rows = _fit_score(name, task, data, which, seed, n_jobs, svm_max_rows, random_state)
                except Exception as exc:  # one model failing must not sink the evaluation; it is reported
                    message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    entry.setdefault("errors", []).append(f"{which}, seed {seed}: {message}")
                    m = {k: float("nan") for k in _metric_names(task, data)}
                runs.append(m)
            avg = {k: float(np.nanmean([r[k] for r in runs])) if not all(np.isnan(r[k]) for r in runs)
                   else float("nan") for k in runs[0]}
            metrics[which] = avg
            entry[which] = avg[primary]
            rows[which] = n_rows
        for which in set(TRAIN_SETS) - set(train_sets):
            entry[which] = float("nan")
        if entry.get("errors"):
            data.notes.append(f"{name} failed on some fits (see models.{name}.errors); failed fits are left out of its averages")
        entry["metrics"] = metrics
        entry["seeds"] = list(model_seeds)
        entry["train_rows"] = rows
        entry["seconds"] = time.perf_counter() - t0
        out_models[name] = entry
    result: dict[str, Any] = {
        "task": task,
        "metric": primary,
        "target": target,
        "models": out_models,
    }
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
    svm_max_rows: int = SVM_MAX_ROWS,
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
        Seeds averaged for the stochastic models (decision_tree,
        random_forest, mlp); the others are fit once with the first seed.
    random_state : int, default 0
        Seed of the SVM's training-row subsample.
    n_jobs : int or None
        Passed to the random forest.
    svm_max_rows : int, default 5000
        The SVM is trained on at most this many rows (seeded subsample).
    progress : callable or None
        Called as ``progress(step_description, step_index, n_steps)``.
    train_sets : sequence of str, default ("real", "synthetic", "augmented")
        Which training sets to fit on; the scores of the others are NaN.

    Returns
    -------
    dict
        ``{"task", "metric", "target", "models": {name: {"real", "synthetic",
        "augmented", "metrics", "seeds", "train_rows", "seconds"}}, "summary",
        "rows", "notes"}`` (plus ``"classes"`` and, for a binary target,
        ``"positive_class"``).

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
    task, models, seeds = _check_task_args(train, target, task, models, seeds)
    bad = [w for w in train_sets if w not in TRAIN_SETS]
    if bad or not train_sets:
        raise InputError(f"train_sets: {bad[0] if bad else 'none'!r} is not one of {', '.join(TRAIN_SETS)}")
    return _run(train, synthetic, holdout, target, task=task, models=models, seeds=seeds,
                random_state=random_state, n_jobs=n_jobs, svm_max_rows=svm_max_rows, progress=progress,
                train_sets=tuple(train_sets))


def _check_task_args(train, target, task, models, seeds):
    if target not in train.columns:
        raise InputError(f"target {target!r} is not a column of the real table; choose one of {_names(train.columns)}")
    if task is None:
        task = infer_task(train[target])
    elif task not in ("classification", "regression"):
        raise InputError(f"task={task!r} is not valid; pass 'classification', 'regression' or None to infer it")
    return task, _check_models(models), _check_seeds(seeds)


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
    """Does feature selection on synthetic rows pick the features it picks on real rows?

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
    task, _, _ = _check_task_args(train, target, task, None, (0,))
    data = _Data(train, synthetic, train, target, task, random_state)
    return _agreement(_mutual_information(data, "real", random_state),
                      _mutual_information(data, "synthetic", random_state), data.names)
