"""Augmentation: the real rows followed by synthetic rows from one fitted model."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .backends.base import Progress
from .errors import InputError
from .schema import check_table
from .synthesizer import Synthesizer


def n_synthetic_rows(n_real: int, rows: int | None = None, ratio: float | None = None) -> int:
    """How many synthetic rows ``rows`` / ``ratio`` ask for (default: ratio 1.0)."""
    if rows is not None and ratio is not None:
        raise InputError("--rows and --ratio are exclusive; give one of them")
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InputError(f"--rows must be a non-negative integer, got {rows!r}")
        return rows
    ratio = 1.0 if ratio is None else ratio
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.number)) or not 0 <= ratio < 1e9:
        raise InputError(f"--ratio must be a finite non-negative number, got {ratio!r}")
    return int(round(n_real * ratio))


def augment(
    df: pd.DataFrame,
    *,
    rows: int | None = None,
    ratio: float | None = None,
    synthetic_only: bool = False,
    backend: str = "gmm",
    seed: int | None = None,
    categorical: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    verbose: bool = False,
    progress: Progress | None = None,
    model: Synthesizer | None = None,
    **backend_params: Any,
) -> pd.DataFrame:
    """Return ``df`` followed by synthetic rows that follow its joint distribution.

    Parameters
    ----------
    df : pandas.DataFrame
        The real table.
    rows : int, optional
        Number of synthetic rows. Exclusive with ``ratio``.
    ratio : float, optional
        Synthetic rows as a multiple of ``len(df)``; default 1.0.
    synthetic_only : bool, default False
        Return only the synthetic rows.
    backend : str, default "gmm"
    seed : int, optional
        Seed for fitting and sampling: same seed, same data => same output.
    categorical, ignore : list of str, optional
        Schema overrides (see :class:`~tabsynth.Synthesizer`).
    model : Synthesizer, optional
        An already fitted model to sample from instead of fitting one.
    **backend_params
        Backend parameters.

    Returns
    -------
    pandas.DataFrame
        Same columns, order and dtypes as ``df``; a fresh ``RangeIndex``
        (real rows first, unchanged and in order).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth import augment
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "y": list("abba") * 5})
    >>> out = augment(df, ratio=0.5, seed=0)
    >>> len(out), out.iloc[:20].equals(df)
    (30, True)
    """
    check_table(df)
    n_new = n_synthetic_rows(len(df), rows, ratio)
    if model is None:
        model = Synthesizer(backend, random_state=seed, categorical=categorical, ignore=ignore, verbose=verbose,
                            **backend_params)
        model.fit(df, progress=progress)
    synthetic = model.sample(n_new, seed=seed)
    if synthetic_only:
        return synthetic
    real = df.reset_index(drop=True)
    if n_new == 0:
        return real
    out = pd.concat([real, synthetic], ignore_index=True)
    # concat can widen dtypes (e.g. categories); give back the input's
    for col in df.columns:
        if out[col].dtype != df[col].dtype:
            try:
                out[col] = out[col].astype(df[col].dtype)
            except (TypeError, ValueError):
                pass
    return out


class GenerativeOverSampler(BaseEstimator):
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
    backend : str, default "gmm"
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
        backend: str = "gmm",
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

    def _targets(self, counts: pd.Series) -> dict:
        s = self.sampling_strategy
        top = int(counts.max())
        if isinstance(s, str):
            if s in ("auto", "not majority", "all"):
                return {c: top - int(n) for c, n in counts.items() if top > n}
            if s == "minority":
                c = counts.idxmin()
                return {c: top - int(counts[c])} if top > counts[c] else {}
            raise InputError(f"sampling_strategy={s!r}: use 'auto', 'minority', 'not majority', 'all', a float or a dict")
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
        from sklearn.utils.multiclass import type_of_target

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
        df = X.reset_index(drop=True).copy() if was_frame else pd.DataFrame(np.asarray(X)).rename(columns=lambda i: f"x{i}")
        y_series = self._labels(y)
        if len(y_series) != len(df):
            raise InputError(f"y has {len(y_series)} labels but X has {len(df)} rows; pass one label per row")
        if y_series.isna().any():
            raise InputError("y has missing labels; drop those rows or fill them first")
        self._check_classes(y_series)
        counts = y_series.value_counts(sort=False)
        if len(counts) < 2:
            raise InputError("y has a single class; over-sampling needs at least two")
        self.sampling_strategy_ = self._targets(counts)
        target = "__tabsynth_target__"
        while target in [str(c) for c in df.columns]:
            target += "_"
        df[target] = y_series.to_numpy()
        self.synthesizer_ = Synthesizer(
            self.backend, random_state=self.random_state, categorical=list(self.categorical or []) + [target],
            verbose=self.verbose, **(self.backend_params or {}),
        ).fit(df)
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
        return out.to_numpy(), y_out.to_numpy().astype(np.asarray(y).dtype)
