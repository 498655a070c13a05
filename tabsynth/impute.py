"""GenerativeImputer: fill missing cells with a fitted generative model (a scikit-learn transformer).

The model learns the joint distribution of the table, missingness included;
``transform`` draws each row's missing cells from the model's conditional
distribution given the row's known cells. ``strategy="mean"`` averages
``n_draws`` draws (numbers: mean, categories: most frequent draw), the best
single guess; ``strategy="sample"`` keeps one draw, which preserves the
spread of the data (for multiple imputation, call ``transform`` with several
``random_state`` values).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._cells import canon, column_label, for_model
from ._params import validate
from ._refine import Refiner
from ._rng import RandomState, make_rng
from ._threads import limits_threads
from .backends import DEFAULT_BACKEND
from .encoding import category_pool, from_ns
from .errors import InputError
from .schema import check_table, to_ns
from .synthesizer import Synthesizer

#: column kinds the refinement predicts (targets) and uses as features
_TARGET_KINDS = ("numeric", "integer", "categorical", "boolean")
_FEATURE_KINDS = _TARGET_KINDS + ("datetime",)
#: rows a table needs for the refinement (smaller tables get the generative fill)
MIN_REFINE_ROWS = 20
#: rounds of column models in the refinement (a column keeps the round that predicts held-out cells best)
REFINE_ROUNDS = 1
#: boosted models averaged per column in the single-guess refinement, each early-stopped on its own held-out
#: tenth, on tables of at most BAGS_MAX_ROWS rows: averaging cuts a small table's variance (spam, 4,601 rows,
#: MAR: 6% lower error) but costs three times the boosting and gains little on larger ones (letter, 20,000
#: rows: 1-2%); see benchmarks/README.md
REFINE_BAGS = 3
BAGS_MAX_ROWS = 10_000


class GenerativeImputer(TransformerMixin, BaseEstimator):
    """Impute missing values by conditional sampling from a generative model.

    Parameters
    ----------
    backend : str, default "trees"
        Generative backend (``"trees"``, ``"gmm"``, ``"vae"``, ``"gan"``).
        With ``strategy="refine"`` it fills only the cells the refinement
        does not model (datetimes, columns with too few observed cells);
        ``"trees"`` fits in seconds where ``"gmm"`` takes most of the
        imputation's time, at the same error (see benchmarks/README.md).
    n_draws : int, default 10
        Draws per missing cell with ``strategy="mean"``.
    strategy : {"refine", "mean", "sample"}, default "refine"
        ``"refine"``: the best single guess for each cell. A mixture model
        proposes each missing cell from the row's other cells and a
        histogram gradient boosting model per column corrects it (see
        :mod:`tabsynth._refine`); cells of other kinds (datetimes) get the
        generative ``"mean"``.
        ``"mean"``: numeric cells get the mean of the draws (rounded for
        whole-number columns), other cells the most frequent draw.
        ``"sample"``: one draw per cell.
    add_indicator : bool, default False
        Append a boolean ``missingindicator_<column>`` column for every
        column that had missing values during ``fit``.
    random_state : int, optional
        Seed for fitting and for the draws: same seed, same output.
    categorical, ignore : list of str, optional
        Columns to treat as categorical / to leave out of the model (left
        as they are).
    backend_params : dict, optional
        Parameters of the backend, e.g. ``{"n_components": 8}`` or
        ``{"epochs": 100}``.
    fill_structural : bool, default False
        Fill cells whose missingness a rule of the fitted table explains
        (a cause of death for a person alive: missing in every real row
        where the person is alive). By default they are left missing
        (:meth:`structural_cells` counts them). Filled cells also keep the
        table's other rules (see :mod:`tabsynth.rules`).
    verbose : bool, default False
        Progress bars while fitting.

    Attributes
    ----------
    synthesizer_ : Synthesizer
        The fitted model.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.
    indicator_features_ : list of str
        Columns with missing values at fit time.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabsynth import GenerativeImputer
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.1, size=300)})
    >>> df.loc[:9, "y"] = np.nan
    >>> filled = GenerativeImputer(random_state=0).fit_transform(df)
    >>> int(filled["y"].isna().sum())
    0
    """

    def __init__(
        self,
        backend: str = DEFAULT_BACKEND,
        *,
        n_draws: int = 10,
        strategy: str = "refine",
        add_indicator: bool = False,
        random_state: RandomState = None,
        categorical: list[str] | None = None,
        ignore: list[str] | None = None,
        backend_params: dict[str, Any] | None = None,
        fill_structural: bool = False,
        verbose: bool = False,
    ):
        self.backend = backend
        self.n_draws = n_draws
        self.strategy = strategy
        self.add_indicator = add_indicator
        self.random_state = random_state
        self.categorical = categorical
        self.ignore = ignore
        self.backend_params = backend_params
        self.fill_structural = fill_structural
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.random_state is None
        return tags

    # --------------------------------------------------------------- input
    def _frame(self, X: Any, *, reset: bool) -> tuple[pd.DataFrame, bool]:
        """X as a DataFrame with the fitted column labels; whether X was a DataFrame."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[1] == 0 or len(X) == 0:
                validate_data(self, X.to_numpy(), reset=reset, ensure_min_samples=1)  # sklearn's own messages
            return X, True
        arr = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=1)
        if arr.dtype.kind in "fiub":
            arr = arr.astype("float64")
            if not np.isfinite(arr[~np.isnan(arr)]).all():
                raise ValueError("Input contains infinity or a value too large for dtype('float64').")
        cols = self._numpy_columns_ if not reset else [f"x{i}" for i in range(arr.shape[1])]
        return pd.DataFrame(arr, columns=cols), False

    # ----------------------------------------------------------------- fit
    @limits_threads
    def fit(self, X: Any, y: Any = None) -> GenerativeImputer:
        """Fit the generative model on ``X`` (missing cells allowed: missingness is modelled).

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            arr = validate_data(self, X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=2)
            self._numpy_columns_ = [f"x{i}" for i in range(np.asarray(arr).shape[1])]
        df, _ = self._frame(X, reset=True)
        if len(df) < 2:
            raise InputError(f"n_samples={len(df)}: at least 2 rows (1 sample is too few) are needed to fit; "
                             "the table has a single row")
        check_table(df)
        syn = Synthesizer(
            self.backend, random_state=self.random_state, categorical=self.categorical, ignore=self.ignore,
            verbose=self.verbose, **(self.backend_params or {}),
        )
        # refine: the refinement predicts the numbers; the generative model only fills what it cannot
        # (datetimes), so it skips the refits that sharpen its own fill of missing numbers
        self.synthesizer_ = syn.fit(df, filler_refits=0 if self.strategy == "refine" else None)
        modelled = set(self.synthesizer_.schema_.names)
        self.indicator_features_ = [str(c) for c in df.columns if str(c) in modelled and df[c].isna().any()]
        self._columns_ = list(df.columns)
        self._fit_refiner(df)
        return self

    # ---------------------------------------------------------- refinement
    def _refine_specs(self) -> list:
        return [s for s in self.synthesizer_.schema_.columns if s.kind in _FEATURE_KINDS]

    def _matrix(self, df: pd.DataFrame) -> np.ndarray:
        """The feature columns of ``df`` as floats: numbers, datetimes (ns), category codes; NaN where unknown."""
        cols = []
        for spec in self._refine_specs():
            s, _ = for_model(df[column_label(df, spec.name)], spec)
            if spec.kind in ("numeric", "integer"):
                cols.append(s.to_numpy(dtype="float64", na_value=np.nan))
            elif spec.kind == "datetime":
                ns, isna = to_ns(s)
                cols.append(np.where(isna, np.nan, ns.astype("float64")))
            else:
                coded, pooled, _ = category_pool(spec)
                lookup = {canon(c): len(coded) for c in pooled}  # rare values of a huge column: one code
                lookup.update({canon(c): i for i, c in enumerate(coded)})
                cols.append(np.array([np.nan if canon(v) is None else lookup.get(canon(v), np.nan)
                                      for v in s.to_numpy(dtype=object)], dtype="float64"))
        return np.column_stack(cols) if cols else np.zeros((len(df), 0))

    def _fit_refiner(self, df: pd.DataFrame) -> None:
        """Fit the refinement on ``df`` (the table being imputed, or the fit table)."""
        self.refiner_ = None
        if self.strategy != "refine":
            return
        self.refiner_ = self._new_refiner(self._matrix(df), self.random_state)

    def _new_refiner(self, X: np.ndarray, random_state: Any, plain_linear: bool = False):
        """A :class:`~tabsynth._refine.Refiner` fitted on the feature matrix ``X``; None when there is nothing to
        learn."""
        specs = self._refine_specs()
        targets = [j for j, s in enumerate(specs) if s.kind in _TARGET_KINDS and np.isnan(X[:, j]).any()]
        if not targets or len(X) < MIN_REFINE_ROWS:
            return None
        is_cat = np.array([s.kind in ("categorical", "boolean") for s in specs])
        cards = np.array([len(_cats(s)) if c else 0 for s, c in zip(specs, is_cat)])
        seed = random_state if isinstance(random_state, (int, np.integer)) else 0
        weights = {}  # a pooled code of a huge column is a guess only when one of its values would be
        for j, spec in enumerate(specs):
            coded, pooled, shares = category_pool(spec) if is_cat[j] else ([], [], None)
            if pooled:
                weights[j] = (len(coded), float(shares.max()))
        # multiple imputation's bootstrap refits: one round (each copy's spread comes from its bootstrap)
        bags = 1 if plain_linear or len(X) > BAGS_MAX_ROWS else REFINE_BAGS
        return Refiner(random_state=int(seed), plain_linear=plain_linear, rounds=1 if plain_linear else REFINE_ROUNDS,
                       bags=bags, guess_weights=weights or None).fit(X, is_cat, cards, targets)

    def _refined(self, part: pd.DataFrame, drawn: pd.DataFrame | None, refiner: Any = None,
                 pred: np.ndarray | None = None, draws: bool = False,
                 rng: np.random.Generator | None = None) -> pd.DataFrame:
        """The model-space fill of ``part``'s rows: refined cells where a column model exists, else ``drawn``.

        ``pred`` (the refiner's output matrix for ``part``) defaults to the
        fitted refinement's best guess, which stays in the column's observed
        range; ``draws`` (multiple imputation) keeps only the sign of a
        column with no negative values (values missing at random may lie
        beyond the observed range).
        """
        specs = self._refine_specs()
        refiner = refiner if refiner is not None else self.refiner_
        if pred is None:
            pred = refiner.predict(self._matrix(part))
        out = {} if drawn is None else {c: drawn[c].reset_index(drop=True) for c in drawn.columns}
        for j, spec in enumerate(specs):
            if j not in refiner.models_:
                continue
            vals = pred[:, j]
            if spec.kind in ("numeric", "integer"):
                # the best guess is not rounded, unless the column's dtype holds whole numbers only
                label = column_label(part, spec.name)
                if label is not None and pd.api.types.is_integer_dtype(part[label].dtype):
                    vals = np.round(vals)
                if spec.min is not None and not draws:
                    vals = np.clip(vals, spec.min, spec.max)
                elif spec.min is not None and spec.min >= 0:
                    vals = np.maximum(vals, 0.0)  # draws may leave the observed range, not change sign
                col = pd.Series(np.nan_to_num(vals, nan=spec.min or 0.0))
            else:
                codes = np.nan_to_num(vals, nan=0).astype(int)
                coded, pooled, shares = category_pool(spec)
                cats = np.empty(len(coded) + bool(pooled), dtype=object)
                cats[:] = _cats(spec, (coded, pooled, shares))
                col = cats[codes]
                other = np.flatnonzero(codes == len(coded))
                if draws and len(other):  # a draw of the pooled code: one of the rare values, by frequency
                    pool = np.empty(len(pooled), dtype=object)
                    pool[:] = pooled
                    col[other] = pool[rng.choice(len(pool), size=len(other), p=shares)]
                col = pd.Series(col, dtype=object)
            out[spec.name] = col
        return pd.DataFrame(out)

    @limits_threads
    def sample_imputations(self, X: Any, m: int = 5, *, random_state: RandomState = None) -> list[Any]:
        """``m`` completed copies of ``X`` for multiple imputation (Rubin's rules).

        Each copy comes from its own model: the refinement is refitted on a
        bootstrap sample of ``X``'s rows (the model's uncertainty), and each
        missing cell is drawn from that model's predictive distribution
        rather than set to its best guess (the data's noise): numbers are the
        prediction plus a residual drawn from the model's errors on the rows
        left out of its bootstrap sample, categories are drawn from the
        predicted class probabilities. Cells the refinement does not model
        (datetimes, or a column with too few observed cells in a bootstrap
        sample, or a column whose observed cells in a bootstrap sample are
        too few or all alike) are drawn from the generative model. Analyse
        each copy, then pool the estimates with Rubin's rules.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            The table to impute (at least 20 rows); the same columns as at fit time.
        m : int, default 5
            Number of completed tables (at least 2).
        random_state : int, optional
            Seed of the bootstraps and draws; defaults to the imputer's.

        Returns
        -------
        list of pandas.DataFrame or ndarray
            ``m`` tables like :meth:`transform`'s output; known cells unchanged.

        Examples
        --------
        >>> from tabsynth import GenerativeImputer
        >>> from tabsynth.datasets import load_example
        >>> df = load_example()
        >>> df.loc[::4, "bmi"] = None
        >>> tables = GenerativeImputer(random_state=0).fit(df).sample_imputations(df, m=3)
        >>> len(tables), int(tables[0]["bmi"].isna().sum())
        (3, 0)
        """
        check_is_fitted(self, "synthesizer_")
        validate("GenerativeImputer.sample_imputations", {"m": m, "random_state": random_state})
        if isinstance(X, pd.DataFrame):
            self._check_columns(X)
        df, was_frame = self._frame(X, reset=False)
        if len(df) < MIN_REFINE_ROWS:
            raise InputError(f"multiple imputation needs at least {MIN_REFINE_ROWS} rows to refit its model on "
                             f"bootstrap samples; the table has {len(df)}")
        syn = self.synthesizer_
        missing, todo = self._holes(df)
        rng = make_rng(self.random_state if random_state is None else random_state)
        matrix = self._matrix(df)
        part = df.iloc[todo]
        tables = []
        for _ in range(int(m)):
            boot = rng.integers(0, len(df), len(df))
            out_of_bag = np.setdiff1d(np.arange(len(df)), boot)
            seed = int(rng.integers(0, 2**31 - 1))
            if len(todo):
                refiner = self._new_refiner(matrix[boot], seed, plain_linear=True)
                rest = self._uncovered(refiner, missing, todo)
                drawn = syn.draw_given(part, rng=rng, exclude_missing=True)[0] if rest else None
                if refiner is not None:
                    residuals = refiner.residuals(matrix[out_of_bag])
                    short = [j for j in refiner.models_ if not refiner.is_cat_[j] and len(residuals.get(j, ())) < 2]
                    if short:  # tiny tables: too few out-of-bag cells; the fitted rows' errors (smaller) instead
                        inside = refiner.residuals(matrix[boot], choose=False)
                        residuals.update({j: inside.get(j, np.zeros(2)) for j in short})
                    pred = refiner.draw(matrix[todo], rng, residuals)
                    drawn = self._refined(part, drawn, refiner, pred, draws=True, rng=rng)
                out = self._settled(syn.merge_known(df, drawn, prefer="input", rows=todo), missing, rng, best=False)
            else:
                out = df.copy()
            tables.append(self._finish(out, missing, was_frame))
        return tables

    def _holes(self, df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Which cells of ``df`` are missing, and the positions of the rows with a modelled cell missing."""
        modelled = set(self.synthesizer_.schema_.names)
        missing = pd.DataFrame({str(c): df[c].isna().to_numpy() for c in df.columns}, index=df.index)
        return missing, np.flatnonzero(missing[[c for c in missing.columns if c in modelled]].any(axis=1).to_numpy())

    def _uncovered(self, refiner: Any, missing: pd.DataFrame, todo: np.ndarray) -> list[str]:
        """Modelled columns with holes in rows ``todo`` that ``refiner`` has no column model for."""
        covered = set() if refiner is None else {self._refine_specs()[j].name for j in refiner.models_}
        return [c for c in self.synthesizer_.schema_.names if c not in covered and missing[c].to_numpy()[todo].any()]

    def _finish(self, out: pd.DataFrame, missing: pd.DataFrame, was_frame: bool) -> Any:
        """Indicator columns added; an array again for array input."""
        if self.add_indicator:
            for c in self.indicator_features_:
                out[f"missingindicator_{c}"] = missing[c].to_numpy()
        if was_frame:
            return out
        return out.to_numpy(dtype="float64" if all(pd.api.types.is_numeric_dtype(t) for t in out.dtypes) else object)

    @classmethod
    def from_synthesizer(cls, synthesizer: Any, X: pd.DataFrame | None = None, **params: Any) -> GenerativeImputer:
        """An imputer around an already fitted :class:`~tabsynth.Synthesizer` (e.g. one loaded from a file).

        Parameters
        ----------
        synthesizer : Synthesizer
            A fitted model.
        X : pandas.DataFrame, optional
            A table with the fitted columns that the refinement
            (``strategy="refine"``) learns from, e.g. the table to impute
            (model files hold the generative part only). Without it the
            imputer fills from the generative model alone.
        **params
            Imputer parameters (``n_draws``, ``strategy``, ``add_indicator``,
            ``random_state``).
        """
        synthesizer.check_fitted()
        self = cls(synthesizer.backend, **params)
        self._check_params()
        self.synthesizer_ = synthesizer
        self._columns_ = list(synthesizer.columns_)
        self.n_features_in_ = len(self._columns_)
        if all(isinstance(c, str) for c in self._columns_):
            self.feature_names_in_ = np.asarray(self._columns_, dtype=object)
        self.indicator_features_ = [s.name for s in synthesizer.schema_.columns if s.nullable]
        if X is not None:
            self._check_columns(X)
            self._fit_refiner(X)
        return self

    def _check_params(self) -> None:
        validate("GenerativeImputer", self.get_params(deep=False))

    # ----------------------------------------------------------- transform
    @limits_threads
    def transform(self, X: Any) -> Any:
        """Fill the missing cells of ``X``; known cells are returned unchanged.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            The same columns as at fit time.

        Returns
        -------
        pandas.DataFrame or ndarray
            A DataFrame (same index, columns and dtypes) for DataFrame input,
            an array for array input, plus indicator columns when
            ``add_indicator``.
        """
        check_is_fitted(self, "synthesizer_")
        if isinstance(X, pd.DataFrame):
            self._check_columns(X)
        df, was_frame = self._frame(X, reset=False)
        syn = self.synthesizer_
        missing, todo = self._holes(df)
        if len(todo):
            part = df.iloc[todo]
            refiner = getattr(self, "refiner_", None)
            if refiner is None:
                drawn = self._draw(part, make_rng(self.random_state))
            else:
                rest = self._uncovered(refiner, missing, todo)
                drawn = self._draw(part, make_rng(self.random_state)) if rest else None
                drawn = self._refined(part, drawn)
            out = self._settled(syn.merge_known(df, drawn, prefer="input", rows=todo), missing,
                                make_rng(self.random_state), best=self.strategy != "sample")
        else:
            out = df.copy()
        return self._finish(out, missing, was_frame)

    def _settled(self, out: pd.DataFrame, missing: pd.DataFrame, rng: np.random.Generator, best: bool) -> pd.DataFrame:
        """``out`` with the fitted table's rules kept (see ``Synthesizer.settle``)."""
        holes = pd.DataFrame(missing.to_numpy(), columns=out.columns, index=out.index)
        return self.synthesizer_.settle(out, holes, rng=rng, best=best, fill_structural=bool(self.fill_structural))[0]

    def structural_cells(self, X: Any, Xt: Any) -> dict[str, int]:
        """Count, per column, the cells missing in ``X`` whose missingness a rule of the fitted table explains.

        Parameters
        ----------
        X : pandas.DataFrame
            The table given to :meth:`transform`.
        Xt : pandas.DataFrame
            Its output (the filled values of the other cells of a row decide).

        Returns
        -------
        dict of str to int
            Columns with structural cells and how many: left missing by
            ``transform``, or filled when ``fill_structural``.
        """
        check_is_fitted(self, "synthesizer_")
        holes = pd.DataFrame({c: pd.isna(X[c]).to_numpy() for c in X.columns})
        return self.synthesizer_.structural_cells(Xt[list(X.columns)], holes)

    def _check_columns(self, X: pd.DataFrame) -> None:
        have, want = [str(c) for c in X.columns], [str(c) for c in self._columns_]
        if have != want:
            lost = [c for c in want if c not in have]
            extra = [c for c in have if c not in want]
            what = (f"column {lost[0]!r} of the fitted table is missing" if lost else
                    f"column {extra[0]!r} was not in the fitted table" if extra else "the columns are in another order")
            raise InputError(f"{what}; the table to impute needs the fitted columns: {', '.join(want)}")

    def _draw(self, part: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """The model's fill for every modelled cell of ``part``'s rows, in the fitted dtypes (schema names)."""
        syn = self.synthesizer_
        if self.strategy == "sample" or self.n_draws == 1:
            return syn.draw_given(part, rng=rng, exclude_missing=True)[0]
        k, n = int(self.n_draws), len(part)
        rep = part.iloc[np.tile(np.arange(n), k)]
        draws, _ = syn.draw_given(rep, rng=rng, exclude_missing=True)  # row i of draw d is at d * n + i
        result = {}
        for spec in syn.schema_.columns:
            col = draws[spec.name]
            if spec.kind in ("numeric", "integer", "datetime"):
                result[spec.name] = _mean_of_draws(col, n, k, spec)
            else:
                result[spec.name] = _mode_of_draws(col, n, k)
        return pd.DataFrame(result)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names: the input's, then the indicator columns.

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored beyond scikit-learn's check of its length: the fitted columns name the output.

        Returns
        -------
        numpy.ndarray of str
        """
        check_is_fitted(self, "synthesizer_")
        names = [str(c) for c in self._columns_]
        if input_features is not None:
            names = [str(c) for c in input_features]
            if len(names) != len(self._columns_):
                raise ValueError(f"input_features has {len(names)} names, expected {len(self._columns_)}")
        if self.add_indicator:
            names += [f"missingindicator_{c}" for c in self.indicator_features_]
        return np.asarray(names, dtype=object)


def _cats(spec, pool: tuple | None = None) -> list:
    """The categories the refinement codes: those a model codes one by one, then (for a column with
    very many) the most frequent of the pooled rare ones, standing for the pool (see
    :func:`~tabsynth.encoding.category_pool`; ``pool``: its result for ``spec``, if at hand)."""
    coded, pooled, shares = pool or category_pool(spec)
    return coded + ([pooled[int(np.argmax(shares))]] if pooled else [])


def _mean_of_draws(col: pd.Series, n: int, k: int, spec) -> pd.Series:
    """Per-row mean of ``k`` draws (rows laid out draw-major); whole numbers stay whole."""
    if spec.kind == "datetime":
        ns, isna = to_ns(col)
        vals = np.where(isna, np.nan, ns.astype("float64")).reshape(k, n)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows stay missing
            mean = np.nanmean(vals, axis=0)
        gone = np.isnan(mean)
        return from_ns(np.where(gone, 0, np.round(mean)).astype("int64"), gone, spec)
    vals = col.to_numpy(dtype="float64", na_value=np.nan).reshape(k, n)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=0)
    if spec.kind == "integer":
        mean = np.round(mean)
    elif spec.decimals is not None:
        mean = np.round(mean, spec.decimals)
    first = col.iloc[:n].reset_index(drop=True)
    if (np.isnan(mean).any() and pd.api.types.is_integer_dtype(first.dtype)
            and not pd.api.types.is_extension_array_dtype(first.dtype)):
        return first  # cannot hold a missing mean; never happens for imputed cells
    return pd.Series(mean).astype(first.dtype)


def _mode_of_draws(col: pd.Series, n: int, k: int) -> pd.Series:
    """Per-row most frequent of ``k`` draws (rows laid out draw-major; ties: the value drawn first)."""
    codes, _ = pd.factorize(col, use_na_sentinel=True)
    m = int(codes.max()) + 1 if len(codes) else 0
    codes = np.where(codes < 0, m, codes).reshape(k, n)  # missing draws get their own bucket m
    rows = np.arange(n)
    counts = np.zeros((n, m + 1), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(rows, (k, n)).ravel(), codes.ravel()), 1)
    counts[:, m] = 0  # a missing draw wins only when every draw is missing
    first = np.full((n, m + 1), k, dtype=np.int64)
    for d in range(k - 1, -1, -1):
        first[rows, codes[d]] = d
    best = (counts * (k + 1) - first).argmax(axis=1)
    draw = np.minimum(first[rows, best], k - 1)
    return col.iloc[draw * n + rows].reset_index(drop=True)
