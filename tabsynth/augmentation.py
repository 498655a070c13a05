"""Augmentation: the real rows followed by synthetic rows from one fitted model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

from ._cells import given_values, plain_value
from ._params import validate
from ._rng import draw_seed
from .backends import DEFAULT_BACKEND
from .backends.base import Progress
from .errors import InputError, ParameterError, TabsynthError, value_error
from .evaluate.utility import check_models as check_model_names
from .evaluate.utility import infer_task, utility
from .schema import check_columns, check_table, infer_schema
from .synthesizer import Synthesizer

__all__ = ["augment", "GenerativeOverSampler", "CheckFailed", "check_augmentation", "class_plan", "check_target",
           "given_values", "n_synthetic_rows", "run_augment", "run_seeds", "as_input_dtypes"]


def n_synthetic_rows(n_real: int, rows: int | None = None, ratio: float | None = None) -> int:
    """How many synthetic rows ``rows`` / ``ratio`` ask for (default: ratio 1.0)."""
    validate("augment", {"rows": rows, "ratio": ratio})
    if rows is not None:
        return rows
    ratio = 1.0 if ratio is None else ratio
    return int(round(n_real * ratio))


def class_plan(y: pd.Series, *, n_new: int | None = None, balance: bool = False,
               class_ratio: float | None = None) -> dict[Any, int]:
    """Synthetic rows per class of a target column.

    Parameters
    ----------
    y : pandas.Series
        The target column of the real table (missing labels are not counted).
    n_new : int, optional
        Rows in all, shared out in the classes' proportions (largest
        remainders get the rounding).
    balance : bool, default False
        Every class up to the largest class's count.
    class_ratio : float, optional
        Every class up to ``class_ratio`` times the largest class's count
        (at least its own count: classes are never cut).

    Returns
    -------
    dict
        ``{class label: rows to generate}``, every class, in order of the
        sorted labels (zero for a class that needs none).

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series(["a"] * 90 + ["b"] * 10)
    >>> class_plan(y, balance=True)
    {'a': 0, 'b': 80}
    >>> class_plan(y, class_ratio=0.5)
    {'a': 0, 'b': 35}
    >>> class_plan(y, n_new=50)
    {'a': 45, 'b': 5}
    """
    counts = y.dropna().value_counts()
    try:
        counts = counts.sort_index()
    except TypeError:  # labels of mixed types: keep the count order
        pass
    top = int(counts.max()) if len(counts) else 0
    if balance or class_ratio is not None:
        want = top if balance else int(round(float(class_ratio) * top))
        return {c: max(0, want - int(k)) for c, k in counts.items()}
    n_new = int(n_new or 0)
    share = counts.to_numpy(dtype="float64") / max(int(counts.sum()), 1) * n_new
    rows = np.floor(share).astype(int)
    order = np.argsort(-(share - rows), kind="stable")
    rows[order[: n_new - int(rows.sum())]] += 1
    return {c: int(k) for c, k in zip(counts.index, rows)}


def check_target(df: pd.DataFrame, target: str, *, classes: bool, option: str = "target") -> str:
    """The task of ``target`` in ``df`` ("classification" or "regression"); errors for unusable targets.

    ``classes``: the caller needs class labels (``--balance``,
    ``--class-ratio``): a continuous target or one with a single class is
    an error.
    """
    check_columns(df, [target], option)
    col = df[[c for c in df.columns if str(c) == str(target)][0]]
    if col.notna().sum() == 0:
        raise value_error(option, f"column {target!r} has no values; choose a column with labels")
    task = infer_task(col)
    if classes and task == "regression":
        raise value_error(option, f"column {target!r} is numeric with {col.nunique()} distinct values; "
                         "class ratios need class labels (bin it first, or do not balance)")
    if classes and col.nunique() < 2:
        raise value_error(option, f"column {target!r} has a single class ({plain_value(col.dropna().iloc[0])!r}); "
                         "balancing needs at least two")
    return task


def check_augmentation(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    *,
    models: Sequence[str] | None = None,
    tolerance: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """Does adding ``synthetic`` rows to ``train`` keep models' scores on ``holdout``?

    Each model is trained on ``train`` and on ``train`` + ``synthetic``
    and scored on ``holdout`` (ROC-AUC for two classes, macro-F1 for more,
    R² for a numeric target; see :func:`tabsynth.evaluate.utility`). The
    check fails when any model's score drops by more than ``tolerance``.

    Parameters
    ----------
    train, synthetic, holdout : pandas.DataFrame
        Real rows the generator saw, its rows, real rows it did not see.
    target : str
        Target column.
    models : sequence of str, optional
        Evaluators (:data:`tabsynth.evaluate.utility.MODELS`); default
        :data:`CHECK_MODELS`.
    tolerance : float, default 0.01
        Largest drop in score allowed.
    seed : int, default 0
        Seed of the stochastic models.

    Returns
    -------
    dict
        ``{"passed", "metric", "tolerance", "models": {name: {"real",
        "augmented", "change", "passed"}}, "rows": {...}}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=600)})
    >>> df["y"] = np.where(df["x"] + rng.normal(scale=0.5, size=600) > 0, "yes", "no")
    >>> bad = df[:300].assign(y=lambda d: d["y"].map({"yes": "no", "no": "yes"}))  # labels flipped
    >>> check_augmentation(df[:300], bad, df[300:], "y", models=["logistic_regression"])["passed"]
    False
    """
    validate("augment", {"tolerance": tolerance, "check_models": models})
    res = utility(train, synthetic, holdout, target, models=list(models or CHECK_MODELS), seeds=(int(seed),),
                  random_state=int(seed), train_sets=("real", "augmented"))
    per = {}
    for name, entry in res["models"].items():
        change = float(entry["augmented"] - entry["real"])
        per[name] = {"real": float(entry["real"]), "augmented": float(entry["augmented"]), "change": change,
                     "passed": bool(change >= -tolerance)}
    return {"passed": all(m["passed"] for m in per.values()), "metric": res["metric"], "task": res["task"],
            "tolerance": float(tolerance), "models": per, "rows": res["rows"]}


#: evaluators of ``--check`` by default: fast, and the two families people train most
CHECK_MODELS = ("logistic_regression", "gradient_boosting")
#: share of the input held out by ``--check``
CHECK_SHARE = 0.2


class CheckFailed(TabsynthError):
    """The utility gate (``augment(check=True)``) found that augmentation lowers a model's score.

    ``report`` holds the comparison (see :func:`check_augmentation`).
    """

    def __init__(self, report: dict[str, Any]):
        self.report = report
        lost = [f"{name} {m['real']:.4f} -> {m['augmented']:.4f} ({m['change']:+.4f})"
                for name, m in report["models"].items() if not m["passed"]]
        super().__init__(f"augmentation lowers held-out {report['metric']} by more than the tolerance "
                         f"({report['tolerance']:g}): " + "; ".join(lost) + "; nothing was written")


def augment(df: pd.DataFrame, *, rows: int | None = None, ratio: float | None = None, synthetic_only: bool = False,
            target: str | None = None, balance: bool = False, class_ratio: float | None = None,
            given: Mapping[str, Any] | None = None, check: bool = False, check_models: Sequence[str] | None = None,
            tolerance: float = 0.01, backend: str = DEFAULT_BACKEND, seed: int | None = None,
            categorical: Iterable[str] | None = None, ignore: Iterable[str] | None = None, verbose: bool = False,
            progress: Progress | None = None, model: Synthesizer | None = None,
            **backend_params: Any) -> pd.DataFrame:
    """Return ``df`` followed by synthetic rows that follow its joint distribution.

    Parameters
    ----------
    df : pandas.DataFrame
        The real table.
    rows : int, optional
        Number of synthetic rows; exclusive with ``ratio``, ``balance``, ``class_ratio``.
    ratio : float, optional
        Synthetic rows as a multiple of ``len(df)``; default 1.0.
    synthetic_only : bool, default False
        Return only the synthetic rows.
    target : str, optional
        A class column: the synthetic rows keep its class proportions (or
        follow ``balance`` / ``class_ratio``), each class drawn from the
        model with the class fixed. A numeric target with many values
        (regression) is modelled like any column.
    balance : bool, default False
        With ``target``: rows of the smaller classes until every class is as
        large as the largest.
    class_ratio : float, optional
        With ``target``: every smaller class up to this share of the largest
        (0 < ratio <= 1).
    given : mapping, optional
        ``{column: value}`` fixed in every synthetic row; the other cells are
        drawn from the model given them (see :func:`given_values`).
    check : bool, default False
        Utility gate (needs ``target``): fit without a held-out stratified
        :data:`CHECK_SHARE` of ``df``, compare models trained with and without
        the synthetic rows on it (:func:`check_augmentation`); raises
        :class:`CheckFailed` when a score drops by more than ``tolerance``.
    check_models : sequence of str, optional
        Evaluators of the gate (default :data:`CHECK_MODELS`).
    tolerance : float, default 0.01
        Largest drop in held-out score the gate allows.
    backend : str, default "trees"
    seed : int, optional
        Seed for fitting and sampling: same seed, same data => same output.
    categorical, ignore : list of str, optional
        Schema overrides (see :class:`~tabsynth.Synthesizer`).
    verbose : bool, default False
        Progress bars while fitting.
    progress : callable, optional
        ``progress(stage, done, total)`` callback of the fit.
    model : Synthesizer, optional
        An already fitted model to sample from instead of fitting one.
    **backend_params
        Backend parameters.

    Returns
    -------
    pandas.DataFrame
        Same columns, order and dtypes as ``df``; a fresh ``RangeIndex``
        (real rows first, unchanged and in order; then the synthetic rows,
        grouped by class when ``target`` is a class column).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth import augment
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "y": list("abba") * 5})
    >>> out = augment(df, ratio=0.5, seed=0)
    >>> len(out), out.iloc[:20].equals(df)
    (30, True)
    >>> skewed = pd.DataFrame({"x": range(20), "y": ["a"] * 16 + ["b"] * 4})
    >>> augment(skewed, target="y", balance=True, seed=0)["y"].value_counts().to_dict()
    {'a': 16, 'b': 16}
    """
    out, _ = run_augment(df, rows=rows, ratio=ratio, synthetic_only=synthetic_only, target=target, balance=balance,
                         class_ratio=class_ratio, given=given, check=check, check_models=check_models,
                         tolerance=tolerance, backend=backend, seed=seed, categorical=categorical, ignore=ignore,
                         verbose=verbose, progress=progress, model=model, **backend_params)
    return out


def run_augment(df: pd.DataFrame, *, rows: int | None = None, ratio: float | None = None,
                synthetic_only: bool = False, target: str | None = None, balance: bool = False,
                class_ratio: float | None = None, given: Mapping[str, Any] | None = None, check: bool = False,
                check_models: Sequence[str] | None = None, tolerance: float = 0.01, backend: str = DEFAULT_BACKEND,
                seed: int | None = None, categorical: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                verbose: bool = False, progress: Progress | None = None, model: Synthesizer | None = None,
                stream: bool = False, batch_size: int = 65536, **backend_params: Any) -> tuple[Any, dict[str, Any]]:
    """:func:`augment`, plus what was done: ``{"model", "per_class", "check", "given", "rows"}`` (for the CLI).

    With ``stream`` (not with ``check``) the first value is an iterator of
    DataFrames (the input rows, then the synthetic rows ``batch_size`` at a
    time) instead of one table; ``info["rows"]`` counts the synthetic rows.
    The rows are the same either way.
    """
    check_table(df)
    validate("augment", {"rows": rows, "ratio": ratio, "synthetic_only": synthetic_only, "target": target,
                         "balance": balance, "class_ratio": class_ratio, "given": given, "check": check,
                         "check_models": check_models, "tolerance": tolerance, "backend": backend, "seed": seed,
                         "categorical": categorical, "ignore": ignore, "verbose": verbose})
    if (backend_params.get("epsilon") is not None or getattr(model, "privacy_", None)) and (
            model is None or target is not None or check or rows is None):  # docs/privacy.md
        raise InputError("a private augment takes a fitted Synthesizer(epsilon=...) as model= and rows= (e.g. its "
                         "noisy model.privacy_['rows']); target and check read the real rows outside the budget")
    if check and model is not None:
        raise ParameterError("{check} fits its own model without the held-out rows; do not pass a fitted {model}",
                             {"check": check, "model": model})
    if check_models is not None:
        check_model_names(check_models)
    plan = _plan(df, rows=rows, ratio=ratio, target=target, balance=balance, class_ratio=class_ratio, given=given,
                 categorical=categorical, ignore=ignore, model=model)
    fit_df, holdout = _holdout(df, target, plan.by_class, seed) if check else (df, None)
    if model is None:
        # a class target: each class modelled on its own (where the backend can)
        model = Synthesizer(backend, random_state=seed, categorical=plan.categorical or None, ignore=ignore,
                            target=str(target) if plan.by_class else None, verbose=verbose, **backend_params)
        model.fit(fit_df, progress=progress)
    info: dict[str, Any] = {"per_class": plan.per_class, "given": plan.fixed, "check": None, "model": model,
                            "rows": plan.n_new}
    synthetic = _synthetic_batches(model, df, plan, target, seed, batch_size)
    if stream and not check:
        return _input_then(synthetic, df, model, synthetic_only, plan.n_new), info
    parts = list(synthetic)
    synthetic = pd.concat(parts, ignore_index=True) if parts else as_input_dtypes(model.sample(0, seed=0), df)
    synthetic = as_input_dtypes(synthetic, df)
    if check:
        report = check_augmentation(fit_df, synthetic, holdout, str(target), models=check_models,
                                    tolerance=tolerance, seed=seed or 0)
        info["check"] = report
        if not report["passed"]:
            raise CheckFailed(report)
    if synthetic_only:
        return synthetic, info
    real = df.reset_index(drop=True)
    if plan.n_new == 0:
        return real, info
    return as_input_dtypes(pd.concat([real, synthetic], ignore_index=True), df), info


class _Plan(NamedTuple):
    """What an augmentation draws: per class (a class target) or in all, with the given cells."""

    by_class: bool  # the target is a class column: rows drawn per class
    categorical: list[str]  # the model's categorical columns (a class target among them)
    fixed: dict[str, Any]  # the given cells, parsed
    per_class: dict[Any, int] | None  # rows per class
    n_new: int  # synthetic rows in all


def _plan(df: pd.DataFrame, *, rows: int | None, ratio: float | None, target: str | None, balance: bool,
          class_ratio: float | None, given: Mapping[str, Any] | None, categorical: Iterable[str] | None,
          ignore: Iterable[str] | None, model: Synthesizer | None) -> _Plan:
    task = check_target(df, target, classes=balance or class_ratio is not None) if target is not None else None
    by_class = task == "classification"
    categorical = list(categorical or [])
    if by_class and str(target) not in [str(c) for c in categorical]:
        categorical.append(str(target))  # exact classes: the target is modelled as a category
    schema = model.schema_ if model is not None else infer_schema(df, categorical=categorical, ignore=ignore)
    fixed = given_values(schema, dict(given)) if given else {}
    if by_class and str(target) in fixed:
        raise ParameterError(f"{{given}} fixes the target {target!r}; drop {{target}} (or the target from {{given}})",
                             {"given": given, "target": target})
    if not by_class:
        return _Plan(False, categorical, fixed, None, n_synthetic_rows(len(df), rows, ratio))
    label = [c for c in df.columns if str(c) == str(target)][0]
    per_class = class_plan(df[label], balance=balance, class_ratio=class_ratio,
                           n_new=None if balance or class_ratio is not None else n_synthetic_rows(len(df), rows, ratio))
    return _Plan(True, categorical, fixed, per_class, sum(per_class.values()))


def _synthetic_batches(model: Synthesizer, df: pd.DataFrame, plan: _Plan, target: str | None, seed: int | None,
                       batch_size: int) -> Iterator[pd.DataFrame]:
    """The synthetic rows, ``batch_size`` at a time, in ``df``'s dtypes.

    One stream per class (or one for all rows), each seeded from the run's seed: rows depend only on
    (seed, class, row index), so a streamed and an in-memory run give the same rows.
    """
    fixed = plan.fixed
    runs = ([({**fixed, str(target): cls}, k) for cls, k in plan.per_class.items()] if plan.per_class is not None
            else [(fixed, plan.n_new)])
    for (values, k), run_seed in zip(runs, run_seeds(seed, len(runs))):
        if k > 0:
            for batch in model.sample_batches(k, batch_size=batch_size, seed=run_seed, given=values or None):
                yield as_input_dtypes(batch, df)


def _input_then(synthetic: Iterator[pd.DataFrame], df: pd.DataFrame, model: Synthesizer, synthetic_only: bool,
                n_new: int) -> Iterator[pd.DataFrame]:
    """The streamed output: the input rows (unless ``synthetic_only``), then the synthetic batches."""
    if not synthetic_only:
        yield df.reset_index(drop=True)
    elif n_new == 0:
        yield as_input_dtypes(model.sample(0, seed=0), df)
    yield from synthetic


def _one_hot(arr: np.ndarray) -> bool:
    """Whether ``arr`` is one-vs-all indicator columns: 0/1, exactly one 1 per row, two columns or more."""
    return (arr.ndim == 2 and arr.shape[1] > 1 and arr.dtype.kind in "biuf" and bool(np.isin(arr, (0, 1)).all())
            and bool((arr.sum(axis=1) == 1).all()))


def run_seeds(seed: int | None, k: int) -> list[int]:
    """The seeds of augmentation's ``k`` synthetic streams (one per class, or one): every path that augments
    (in memory, a parquet dataset, Dask) seeds its rows here, so they give the same rows."""
    rng = np.random.default_rng(seed)
    return [draw_seed(rng) for _ in range(k)]


def as_input_dtypes(out: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """``out`` with ``df``'s dtypes where they hold its values (concat can widen them, e.g. categories)."""
    for col in df.columns:
        if col in out.columns and out[col].dtype != df[col].dtype:
            try:
                out[col] = out[col].astype(df[col].dtype)
            except (TypeError, ValueError):
                pass
    return out


def _holdout(df: pd.DataFrame, target: str, by_class: bool, seed: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split of ``df`` into (rows to fit, :data:`CHECK_SHARE` held out), stratified on a class target."""
    label = [c for c in df.columns if str(c) == str(target)][0]
    known = np.flatnonzero(df[label].notna().to_numpy())
    if len(known) < 10:
        raise ParameterError(f"{{check}}: column {target!r} has {len(known)} labelled rows; it needs at least 10 "
                             "to hold some out", {"check": True})
    strata = None
    if by_class:
        counts = df[label].iloc[known].astype(object).map(str).value_counts()
        if counts.min() >= 2:
            strata = df[label].iloc[known].astype(object).map(str).to_numpy()
    _, held = train_test_split(known, test_size=CHECK_SHARE, random_state=seed or 0, stratify=strata)
    keep = np.setdiff1d(np.arange(len(df)), held)
    return df.iloc[keep].reset_index(drop=True), df.iloc[np.sort(held)].reset_index(drop=True)


class GenerativeOverSampler(OneToOneFeatureMixin, BaseEstimator):
    """Rebalance classes with class-conditional synthetic rows (an imbalanced-learn style sampler).

    One generative model is fitted on ``X`` joined with ``y``; the extra rows
    of each class are drawn from it with the class fixed (``given``), so they
    follow that class's joint distribution of *all* features, categorical
    and missing values included (unlike SMOTE's interpolation between
    neighbours). The real rows come first, unchanged and in order.

    Works as a step of :class:`imblearn.pipeline.Pipeline` (it has
    ``fit_resample`` and no ``transform``).

    Parameters
    ----------
    backend : str, default "trees"
    sampling_strategy : "auto", "minority", "not majority", "all", float or dict, default "auto"
        ``"auto"`` / ``"not majority"`` / ``"all"``: every class up to the
        majority's count; ``"minority"``: only the smallest class; a float
        (two classes only): the wanted minority / majority ratio; a dict
        ``{class: wanted rows}`` (at least the current count).
    random_state : int, optional
        Same seed, same data => same rows.
    categorical : list of str, optional
        Columns of ``X`` to treat as categorical.
    backend_params : dict, optional
        Backend parameters, e.g. ``{"n_components": 8}``.
    verbose : bool, default False

    Attributes
    ----------
    sampling_strategy_ : dict
        Synthetic rows generated per class.
    synthesizer_ : Synthesizer
        The fitted model (``X`` with the target as the last column).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabsynth import GenerativeOverSampler
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["u", "v"], 200)})
    >>> y = pd.Series(np.r_[np.zeros(180, int), np.ones(20, int)], name="label")
    >>> Xr, yr = GenerativeOverSampler(random_state=0).fit_resample(X, y)
    >>> yr.value_counts().to_dict()
    {0: 180, 1: 180}
    """

    def __init__(
        self,
        backend: str = DEFAULT_BACKEND,
        *,
        sampling_strategy: str | float | dict = "auto",
        random_state: int | None = None,
        categorical: list[str] | None = None,
        backend_params: dict[str, Any] | None = None,
        verbose: bool = False,
    ):
        self.backend = backend
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.categorical = categorical
        self.backend_params = backend_params
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing cells are modelled
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.random_state is None
        return tags

    def _targets(self, counts: pd.Series) -> dict:
        s = self.sampling_strategy
        top = int(counts.max())
        if isinstance(s, str):
            if s in ("auto", "not majority", "all"):
                return {c: top - int(n) for c, n in counts.items() if top > n}
            if s == "minority":
                c = counts.idxmin()
                return {c: top - int(counts[c])} if top > counts[c] else {}
            raise InputError(f"sampling_strategy={s!r}: use 'auto', 'minority', 'not majority', 'all', a float "
                             "or a dict")
        if isinstance(s, dict):
            out = {}
            for c, want in s.items():
                if c not in counts.index:
                    raise InputError(f"sampling_strategy: class {c!r} is not in y; classes are {list(counts.index)}")
                if not isinstance(want, (int, np.integer)) or want < counts[c]:
                    raise InputError(f"sampling_strategy: {c!r} -> {want!r} should be an integer of at least "
                                     f"{int(counts[c])} (the rows it has)")
                if want > counts[c]:
                    out[c] = int(want) - int(counts[c])
            return out
        if isinstance(s, (float, int)) and not isinstance(s, bool):
            if len(counts) != 2:
                raise InputError("a float sampling_strategy needs exactly two classes; use a dict for more")
            if not 0 < s <= 1:
                raise InputError(f"sampling_strategy={s!r}: a float should be in (0, 1] (minority / majority)")
            c = counts.idxmin()
            want = int(round(s * top))
            if want < counts[c]:
                raise InputError(f"sampling_strategy={s}: the minority class already has {int(counts[c])} rows "
                                 f"(ratio {counts[c] / top:.3f}); ask for a larger ratio")
            return {c: want - int(counts[c])} if want > counts[c] else {}
        raise InputError(f"sampling_strategy={s!r}: use 'auto', 'minority', 'not majority', 'all', a float or a dict")

    @staticmethod
    def _labels(y: Any) -> pd.Series:
        """``y`` as a Series; a one-column DataFrame or an (n, 1) array is flattened."""
        if isinstance(y, pd.Series):
            return y
        if isinstance(y, pd.DataFrame):
            if y.shape[1] != 1:
                raise InputError(f"y has {y.shape[1]} columns; pass one column of class labels")
            return y.iloc[:, 0]
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        elif _one_hot(arr):  # one-vs-all indicator columns (imbalanced-learn's convention): their class index
            arr = arr.argmax(axis=1)
        if arr.ndim != 1:
            raise InputError(f"y has shape {arr.shape}; pass one class label per row (a 1-d array or a Series)")
        return pd.Series(arr)

    @staticmethod
    def _check_classes(y: pd.Series) -> None:
        """Refuse a continuous ``y`` (as imbalanced-learn does) and labels of mixed types.

        Follows ``sklearn.utils.multiclass.type_of_target``: numbers with a
        fractional part are a continuous target; whole numbers (``0.0``,
        ``1.0``), strings and booleans are class labels.
        """
        values = y.astype(object).infer_objects() if y.dtype == object else y
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = pd.Series(values.cat.categories)
        if values.dtype == object:  # still mixed after inference: strings with numbers, ...
            kinds = {"numbers" if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                     else "strings" if isinstance(v, str) else f"{type(v).__name__} values" for v in values}
            if len(kinds) > 1:
                raise InputError(f"y mixes {' and '.join(sorted(kinds))}; convert the labels to one type, "
                                 "e.g. strings")
            return
        if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
            return
        if type_of_target(values.to_numpy(dtype="float64")) in ("continuous", "continuous-multioutput"):
            raise InputError(f"y is continuous ({y.nunique()} distinct values); over-sampling needs class "
                             "labels: bin it first (e.g. pandas.cut), or use tabsynth.augment for regression "
                             "tables")

    def fit(self, X: Any, y: Any) -> GenerativeOverSampler:
        """Check ``X`` and ``y`` and find the rows to generate per class (``sampling_strategy_``).

        As imbalanced-learn's samplers do, the work happens in
        :meth:`fit_resample`; ``fit`` only checks.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
        """
        self._checked(X, y)
        return self

    def _checked(self, X: Any, y: Any) -> tuple[pd.DataFrame, pd.Series]:
        """``X`` as a DataFrame (fresh index, columns ``x0, ...`` for an array) and ``y`` as a Series, checked;
        sets ``sampling_strategy_``."""
        validate("GenerativeOverSampler", self.get_params(deep=False))
        if isinstance(X, pd.DataFrame):
            df = X.reset_index(drop=True).copy()
            self.n_features_in_ = X.shape[1]
            if all(isinstance(c, str) for c in X.columns):  # scikit-learn's rule for feature names
                self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:  # scikit-learn's checks and messages (sparse, complex, empty, 1-d input); sets n_features_in_
            arr = validate_data(self, X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=1)
            df = pd.DataFrame(arr).rename(columns=lambda i: f"x{i}")
        y_series = self._labels(y)
        if len(y_series) != len(df):
            raise InputError(f"y has {len(y_series)} labels but X has {len(df)} rows; pass one label per row")
        if y_series.isna().any():
            raise InputError("y has missing labels; drop those rows or fill them first")
        self._check_classes(y_series)
        counts = y_series.value_counts(sort=False)
        if len(counts) < 2:
            raise InputError("y has a single class; over-sampling needs at least two (one class is nothing to "
                             "balance)")
        self.sampling_strategy_ = self._targets(counts)
        return df, y_series

    def fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        """Fit the model on ``(X, y)`` and return them with synthetic rows appended.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        X_resampled, y_resampled
            Same types as the inputs (DataFrame / Series in, DataFrame /
            Series out with a fresh index; arrays in, arrays out).
        """
        was_frame = isinstance(X, pd.DataFrame)
        df, y_series = self._checked(X, y)
        target = "__tabsynth_target__"
        while target in [str(c) for c in df.columns]:
            target += "_"
        df[target] = y_series.to_numpy()
        self.synthesizer_ = Synthesizer(
            self.backend, random_state=self.random_state, categorical=list(self.categorical or []) + [target],
            target=target, verbose=self.verbose, **(self.backend_params or {}),
        )  # target: each class modelled on its own (where the backend can)
        self.synthesizer_.fit(df)
        rng = np.random.default_rng(self.random_state)
        parts = [df]
        for cls, n_new in self.sampling_strategy_.items():
            if n_new > 0:
                given = pd.DataFrame({target: pd.Series([cls] * n_new, dtype=df[target].dtype)})
                parts.append(self.synthesizer_.sample(n_new, given=given, seed=rng))
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else df
        for col in df.columns:
            if out[col].dtype != df[col].dtype:
                out[col] = out[col].astype(df[col].dtype)
        y_out = out.pop(target)
        if was_frame:
            y_res = pd.Series(y_out.to_numpy(), name=y_series.name)
            if isinstance(y, pd.Series):
                y_res = y_res.astype(y.dtype)
            return out, y_res
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] > 1:  # one-hot in, one-hot out
            y_res = np.eye(y_arr.shape[1], dtype=y_arr.dtype)[y_out.to_numpy().astype(int)]
        else:
            y_res = y_out.to_numpy().astype(y_arr.dtype)
        if isinstance(X, list):  # lists in, lists out
            return out.to_numpy().tolist(), y_res.tolist()
        return out.to_numpy(), y_res
