"""Synthesizer: schema + encoder + backend, fitted once, used for sampling and filling."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data
from tqdm.auto import tqdm

from ._cells import column_label, for_model, given_values, merge, plain_value
from ._params import validate
from ._rng import RandomState, draw_seed, fresh_seed, make_rng
from ._threads import limits_threads, ordered_map
from ._version import __version__
from .backends import DEFAULT_BACKEND, get_backend_class
from .backends.base import Progress
from .dataset import Scan, apply_stats, iter_batches, scan
from .encoding import Encoded, TableEncoder, restore
from .errors import FileFormatError, InputError, NotFittedError, ParameterError
from .io import atomic_path
from .privacy import PrivateEncoder, PrivateTree, fit_private
from .rules import Rules, empty_cells, find_rules
from .schema import check_columns, check_table, dtype_name, infer_schema, make_dtype

#: Rows per sampling block. Row ``i`` of ``sample(n, seed=s)`` is drawn in block ``i // SAMPLE_BLOCK`` with
#: a generator seeded from ``(s, block)``, so a row depends only on the seed and its index: the same rows
#: whatever the batch size, the number of workers or the output format. A block is drawn whole, however few of
#: its rows are asked for: 16,384 rows cost a small sample a quarter of what 65,536 did (0.08 s against 0.30 s
#: for 160 rows of adult) at the same rate for large ones (about 200,000 rows per CPU second either way).
SAMPLE_BLOCK = 16384

FORMAT = "tabsynth-model"
#: the newest format this tabsynth reads; a file is written with the oldest that reads it (its model's
#: ``format_version``: 2 for a private model told a target, whose tables an older reader would misread)
FORMAT_VERSION = 2


class Synthesizer(BaseEstimator):
    """Learn a table's joint distribution; sample new rows or fill missing cells.

    Parameters
    ----------
    backend : str, default "trees"
        Generative backend (see :func:`tabsynth.backends.available`).
    random_state : int or None
        Seed for fitting; sampling without a ``seed`` continues from it.
    categorical : list of str, optional
        Columns to treat as categorical whatever their dtype.
    ignore : list of str, optional
        Columns not modelled. They keep their place and dtype in the output
        and are empty (missing) in synthetic rows; a non-nullable dtype
        becomes its nullable counterpart (``int64`` -> ``Int64``).
    target : str, optional
        A categorical column that models will later be trained to predict
        from the synthetic rows (a class label). ``trees`` draws it first
        and every other column given it; ``gmm`` fits one mixture per
        class. Both keep each class's joint distribution apart, which is
        what a classifier trained on the rows needs (benchmarks/README.md,
        synthesis). A numeric column is modelled like any other. With
        ``epsilon``, every column's measured table holds the target (a
        tree-augmented network; docs/guides/privacy.md).
    given_columns : list of str, optional
        Columns that will be given whenever rows are drawn
        (``sample(n, given=...)`` with these columns known), such as a child
        table's parent columns: ``trees`` puts them first in its chain, so
        those rows are exact draws along the chain, with no Gibbs sweeps
        (faster, and each row drawn from its conditional). Other backends
        ignore it. Sampling without them still works.
    rules : bool, default True
        Keep the rules that hold in every row of the fitted table in every
        generated row, without declaring them: allowed combinations of two
        columns (implications, exclusions, a column present exactly when
        another has certain values) and one number column equal to another
        plus a constant (see :mod:`tabsynth.rules`; ``rules_`` holds them,
        ``tabsynth inspect --rules`` lists them). Rows that break one are
        drawn again; given cells are never changed.
    verbose : bool, default False
        Show progress bars on stderr.
    epsilon : float, optional
        Fit with (``epsilon``, ``delta``)-differential privacy: an MST-style
        model of noisy marginals (:mod:`tabsynth.privacy`, docs/guides/privacy.md)
        replaces the backend, and everything released (samples, imputations,
        the model file, ``schema_``) carries the guarantee. Rules are not
        learned; ``privacy_`` reports the budget spent.
    delta : float, optional
        With ``epsilon``: the delta of the guarantee, in (0, 1) [default 1e-9].
    public_schema : str, Path or dict, optional
        With ``epsilon``: categories and bounds known without looking at the
        data (see :func:`tabsynth.privacy.load_public_schema`); what it does
        not give is estimated from the budget.
    **backend_params
        Keyword parameters of the backend (e.g. ``n_components=20``).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabsynth import Synthesizer
    >>> df = pd.DataFrame({"x": [0.1, 0.5, 0.9, 1.3] * 10, "c": list("abab") * 10})
    >>> syn = Synthesizer(random_state=0).fit(df)
    >>> out = syn.sample(5, seed=1)
    >>> list(out.columns), out.dtypes.equals(df.dtypes)
    (['x', 'c'], True)
    """

    def __init__(
        self,
        backend: str = DEFAULT_BACKEND,
        *,
        random_state: int | None = None,
        categorical: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        target: str | None = None,
        given_columns: Iterable[str] | None = None,
        rules: bool = True,
        verbose: bool = False,
        epsilon: float | None = None,
        delta: float | None = None,
        public_schema: str | Path | Mapping | None = None,
        **backend_params: Any,
    ):
        self.backend = backend
        self.random_state = random_state
        self.categorical = categorical
        self.ignore = ignore
        self.target = target
        self.given_columns = given_columns
        self.rules = rules
        self.verbose = verbose
        self.epsilon = epsilon
        self.delta = delta
        self.public_schema = public_schema
        self._backend_params = dict(backend_params)  # the backend's own parameters, checked by fit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing cells are modelled
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.random_state is None
        return tags

    # scikit-learn parameters = ours + the backend's (stored as given; fit checks them against the backend)
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters: this class's and the backend's (``n_components=20``, ``epochs=50``, ...).

        Parameters
        ----------
        deep : bool, default True
            Ignored: no parameter is an estimator.

        Returns
        -------
        dict
        """
        return {**super().get_params(deep=False), **self._backend_params}

    def set_params(self, **params: Any) -> Synthesizer:
        """Set parameters: this class's and the backend's (a name the backend does not have is an error).

        Parameters
        ----------
        **params
            Parameter names and values.

        Returns
        -------
        self
        """
        own = set(super().get_params(deep=False))
        backend_names = _param_names(params.get("backend", self.backend))
        for k in params:
            if k not in own and backend_names is not None and k not in backend_names:
                raise InputError(f"unknown parameter {k!r} for Synthesizer(backend={self.backend!r})")
        for k, v in params.items():
            if k in own:
                setattr(self, k, v)
            else:
                self._backend_params[k] = v
        return self

    def _backend_kwargs(self) -> dict[str, Any]:
        names = get_backend_class(self.backend).param_names()
        unknown = [k for k in self._backend_params if k not in names]
        if unknown:
            raise InputError(
                f"backend {self.backend!r} has no parameter {unknown[0]!r}; its parameters are: {', '.join(names)}"
            )
        return {k: self._backend_params[k] for k in names if k in self._backend_params}

    # ------------------------------------------------------------- fitting
    @limits_threads
    def fit(self, df: pd.DataFrame, y: Any = None, *, progress: Progress | None = None,
            filler_refits: int | None = None) -> Synthesizer:
        """Learn the schema, the encoding and the backend from ``df``.

        Parameters
        ----------
        df : pandas.DataFrame or array-like of shape (n_samples, n_features)
            The real table (at least 2 rows); an array's columns are named
            ``x0, x1, ...``.
        y : ignored
        progress : callable, optional
            ``progress(stage, done, total)`` callback.
        filler_refits : int, optional
            Refits that redraw the filler cells of missing numbers from the
            model given the rest of their row (a stochastic EM step); default:
            the backend's own count. ``GenerativeImputer(strategy="refine")``
            passes 0: its refinement predicts the numbers itself.

        Returns
        -------
        self
        """
        if not isinstance(df, pd.DataFrame):
            arr = validate_data(self, df, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=2)
            if arr.dtype.kind in "fiub" and np.isinf(arr.astype("float64")).any():
                raise InputError("Input contains infinity or a value too large for dtype('float64').")
            df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        return self._fit(df, progress=progress, filler_refits=filler_refits)

    @limits_threads
    def _fit(self, df: pd.DataFrame, *, progress: Progress | None, filler_refits: int | None = None,
             scanned: Scan | None = None) -> Synthesizer:
        """:meth:`fit`'s work; ``scanned``: ``df`` is the sample of a larger dataset with these statistics."""
        validate("Synthesizer", self.get_params(deep=False))
        check_table(df)
        if len(df) < 2:
            raise InputError("the table has a single row; at least 2 rows are needed to learn a distribution")
        if self.epsilon is not None or self.delta is not None or self.public_schema is not None:
            return self._fit_private(df, scanned)
        self.privacy_ = None
        backend_cls = get_backend_class(self.backend)
        kwargs = self._backend_kwargs()
        self.seed_ = _seed_of(self.random_state)
        rng = make_rng(self.seed_ if self.seed_ is not None else self.random_state)
        attrs = df.attrs.get("tabsynth.text")
        self.text_layout_ = dict(attrs) if isinstance(attrs, dict) else None
        schema = infer_schema(df, categorical=self.categorical, ignore=self.ignore)
        if scanned is not None:  # (fit_dataset) df is a sample of a larger dataset
            schema = apply_stats(schema, scanned)
        modelled = set(schema.names)
        self.columns_ = [_label_json(c) for c in df.columns]
        self.dtypes_ = [dtype_name(t) for t in df.dtypes]
        self.ignored_ = [str(c) for c in df.columns if str(c) not in modelled]
        self.schema_ = schema
        self.rules_ = find_rules(df, schema) if self.rules else Rules()
        self.encoder_ = TableEncoder(schema).fit(df, rng)
        encoded = self.encoder_.transform(df, rng, missing="model")
        by = self._checked_target(df)
        if by is not None and "class_column" in backend_cls.param_names():
            names = [col.spec.name for col in self.encoder_.cat_cols_]
            if str(by) in names:  # the backend models each class on its own
                kwargs["class_column"] = names.index(str(by))
        if self.given_columns is not None and "first_columns" in backend_cls.param_names():
            kwargs["first_columns"] = self.encoder_.positions(check_columns(df, list(self.given_columns),
                                                                            "given_columns"))
        if progress is None and self.verbose:
            progress = _TqdmProgress()
        try:
            self.backend_ = backend_cls(**kwargs).fit(encoded, rng=rng, progress=progress)
            refits = getattr(backend_cls, "filler_refits", 0) if filler_refits is None else filler_refits
            for _ in range(refits if self.encoder_.filler_mask(encoded).any() else 0):
                # Cells of missing numbers hold filler values drawn from the column's
                # marginal, independent of the rest of the row, which blurs the relations the
                # model learns. Redraw them from the model given the rest of the row (as if the
                # number were regular), then refit: a stochastic EM step (data augmentation).
                self._redraw_fillers(encoded, rng)
                refit = {**kwargs, **self.backend_.refit_params()}
                self.backend_ = backend_cls(**refit).fit(encoded, rng=rng, progress=progress)
        except TypeError as e:
            raise InputError(f"backend {self.backend!r}: {e}") from None
        finally:
            if isinstance(progress, _TqdmProgress):
                progress.close()
        self._sample_rng = np.random.default_rng(draw_seed(rng))
        self.n_features_in_ = df.shape[1]
        return self

    def _fit_private(self, df: pd.DataFrame, scanned: Scan | None) -> Synthesizer:
        """:meth:`fit` with ``epsilon``: the model of :func:`tabsynth.privacy.fit_private`, nothing learned besides."""
        if self.epsilon is None:
            raise InputError("delta and public_schema are options of a private fit; give epsilon too")
        if scanned is not None:
            raise InputError("epsilon: a private fit reads a table in memory; fit a sample you drew yourself")
        if self.backend != DEFAULT_BACKEND or self._backend_kwargs():
            raise InputError(f"backend {self.backend!r} cannot honour epsilon (its fit is not private); drop the "
                             "backend and its parameters to use the private model (docs/guides/privacy.md)")
        self.seed_ = _seed_of(self.random_state)
        rng = make_rng(self.seed_ if self.seed_ is not None else self.random_state)
        fitted = fit_private(df, epsilon=self.epsilon, delta=self.delta, public_schema=self.public_schema,
                             categorical=self.categorical, ignore=self.ignore, target=self.target, random_state=rng)
        self.columns_ = [_label_json(c) for c in df.columns]
        self.dtypes_ = [dtype_name(t) for t in df.dtypes]
        self.schema_, self.encoder_, self.backend_ = fitted.schema, fitted.encoder, fitted.generator
        self.ignored_ = [str(c) for c in df.columns if str(c) not in set(self.schema_.names)]
        self.privacy_, self.rules_, self.text_layout_ = fitted.report, Rules(), None
        self._sample_rng = np.random.default_rng(draw_seed(rng))
        self.n_features_in_ = df.shape[1]
        return self

    def fit_dataset(self, path: str | Path, *, fit_rows: int = 200_000, passes: int = 0,
                    progress: Progress | None = None, scan_progress: Any = None) -> Synthesizer:
        """Fit on a parquet file or directory of any size: a seeded sample of rows, exact statistics of all rows.

        One streaming pass (memory: one batch plus the sample) keeps a seeded
        sample of at most ``fit_rows`` rows and exact per-column statistics
        (see :mod:`tabsynth.dataset`); the model is fitted on the sample with
        the schema corrected by the statistics (bounds, missing shares and
        category frequencies of all rows).

        Parameters
        ----------
        path : str or Path
            A parquet file, or a directory of parquet files.
        fit_rows : int, default 200,000
            Rows the model is fitted on.
        passes : int, default 0
            Then this many EM iterations over *every* row of the dataset
            (``gmm`` only; each reads the dataset once, memory one batch):
            the sample's fit is the starting point, the statistics of all
            rows move it. benchmarks/README.md (scale) measures what this
            buys against the sample alone.

        progress : callable, optional
            ``progress(stage, done, total)`` callback of the fit.
        scan_progress : optional
            Progress of the streaming pass (a callable or a tqdm-like bar; see
            :func:`tabsynth.dataset.scan`).

        Returns
        -------
        self
        """
        validate("Synthesizer.fit_dataset", {"fit_rows": fit_rows, "passes": passes})
        if passes and not hasattr(get_backend_class(self.backend), "em_pass"):
            raise ParameterError(f"{{passes}} over all rows need the gmm backend ({{backend}} {self.backend!r} is "
                                 "fitted on the sample only); drop {passes} or use the gmm {backend}",
                                 {"passes": passes, "backend": self.backend})
        seed = _seed_of(self.random_state)
        scanned = scan(path, fit_rows=int(fit_rows), seed=0 if seed is None else seed, progress=scan_progress)
        self._fit(scanned.sample, progress=progress, scanned=scanned)
        self.schema_.n_rows = scanned.rows
        self.dataset_rows_ = scanned.rows
        self.pass_log_likelihoods_ = self._em_passes(path, passes, progress) if passes else []
        return self

    def _checked_target(self, df: pd.DataFrame) -> str | None:
        return check_columns(df, [self.target], "target")[0] if self.target is not None else None

    def _redraw_fillers(self, encoded: Encoded, rng: np.random.Generator) -> None:
        """Replace the filler cells of missing or spike numbers in ``encoded`` by draws from the model given the
        rest of their row (in place; see :meth:`fit`)."""
        filler = self.encoder_.filler_mask(encoded)
        rows = np.flatnonzero(filler.any(axis=1))
        if not len(rows):
            return
        part = encoded.take(rows)
        given = Encoded(part.x_num, self.encoder_.with_regular_states(part), part.layout,
                        mask_num=~filler[rows], mask_cat=np.ones_like(part.x_cat, dtype=bool))
        drawn = self.backend_.sample(len(rows), given=given, rng=rng)
        encoded.x_num[rows] = np.where(filler[rows], drawn.x_num, part.x_num)

    def _em_passes(self, path: str | Path, passes: int, progress: Progress | None) -> list[float]:
        """EM iterations of the fitted backend over every row of a dataset (see :meth:`fit_dataset`)."""
        rng = np.random.default_rng([_seed_of(self.random_state) or 0, 1])  # fillers of missing numbers
        lls = []

        def encoded(batch: pd.DataFrame) -> Encoded:
            enc = self.encoder_.transform(batch, rng, missing="model")
            self._redraw_fillers(enc, rng)  # as fit's refits do: fillers drawn given the row, not the marginal
            return enc

        for i in range(int(passes)):
            batches = (encoded(b) for b in iter_batches(path))
            lls.append(self.backend_.em_pass(batches))
            if progress:
                progress("gmm: EM passes over all rows", i + 1, int(passes))
        return lls

    def check_fitted(self) -> None:
        """Raise :class:`~tabsynth.errors.NotFittedError` unless the model is fitted (or loaded)."""
        if not hasattr(self, "backend_"):
            raise NotFittedError("this Synthesizer is not fitted yet; call fit(df) or Synthesizer.load(path) first")

    # ------------------------------------------------------------ sampling
    @limits_threads
    def sample(self, n: int, *, seed: RandomState = None, given: pd.DataFrame | None = None,
               start: int = 0) -> pd.DataFrame:
        """Draw ``n`` synthetic rows.

        Parameters
        ----------
        n : int
            Number of rows (>= 0).
        seed : int, optional
            Same seed, same fitted model => identical rows. Without one,
            sampling continues from the generator ``fit`` left (NumPy's
            convention: an unseeded model gives fresh rows on every call).
        given : pandas.DataFrame, optional
            ``n`` rows of fixed values for some columns (e.g. the class of
            each row to generate). Missing cells and absent columns are
            generated, missing values included at the learned rate. Given
            cells come back exactly as given; a value that cannot be
            conditioned on (a category never seen in ``fit``) is an error.
        start : int, default 0
            Index of the first row in a longer stream: without ``given``, rows
            ``start .. start+n-1`` of the seed's stream (as
            :meth:`sample_batches`); with it, regenerated key columns are
            numbered from ``start`` (a table drawn in parts keeps them unique).

        Returns
        -------
        pandas.DataFrame
            Same columns, order and dtypes as the fitted table (a column
            widens only if a given value does not fit its dtype exactly).
        """
        self.check_fitted()
        validate("Synthesizer.sample", {"n": n, "seed": seed, "start": start})
        rng = self._rng(seed)
        if given is not None:
            check_table(given, what="given")
            if len(given) != n:
                raise InputError(f"given has {len(given)} rows but n={n}; pass one row of fixed values per row to "
                                 "generate")
            return self._given_rows(given, rng, start=int(start))
        if n == 0:
            return self._finish(self._drawn(0, rng))
        parts = list(self._blocks(int(start), int(start) + int(n), draw_seed(rng), {}))
        return parts[0].reset_index(drop=True) if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def sample_batches(self, n: int, *, batch_size: int = 65536, seed: RandomState = None,
                       given: Mapping[str, Any] | None = None, start: int = 0) -> Iterator[pd.DataFrame]:
        """Draw ``n`` synthetic rows as a stream of DataFrames of ``batch_size`` rows (the last may be shorter).

        Memory stays that of one batch whatever ``n``. The rows are those of
        :meth:`sample` with the same seed: row ``i`` depends only on the seed
        and ``i`` (see :data:`SAMPLE_BLOCK`), so any batch size, any split of
        the rows between workers (``start``) and any output format give the
        same rows.

        Parameters
        ----------
        n : int
            Number of rows (>= 0).
        batch_size : int, default 65536
            Rows per yielded DataFrame.
        seed : int, optional
            Same seed, same rows. Without one, a seed is drawn from the
            generator ``fit`` left (a fresh stream on every call).
        given : mapping of str to value, optional
            Fixed values for some columns in every row (e.g. ``{"sex": "2"}``);
            the other cells are drawn given them.
        start : int, default 0
            Index of the first row: ``sample_batches(n, start=k, seed=s)``
            yields rows ``k .. k+n-1`` of the seed's stream.

        Yields
        ------
        pandas.DataFrame
            Same columns and dtypes as :meth:`sample`'s output, a fresh
            ``RangeIndex`` per batch.

        Examples
        --------
        >>> import pandas as pd
        >>> from tabsynth import Synthesizer
        >>> df = pd.DataFrame({"x": [0.1, 0.5, 0.9, 1.3] * 10, "c": list("abab") * 10})
        >>> syn = Synthesizer(random_state=0).fit(df)
        >>> batches = list(syn.sample_batches(10, batch_size=4, seed=1))
        >>> [len(b) for b in batches]
        [4, 4, 2]
        >>> pd.concat(batches, ignore_index=True).equals(syn.sample(10, seed=1))
        True
        """
        self.check_fitted()
        validate("Synthesizer.sample_batches", {"n": n, "start": start, "batch_size": batch_size, "seed": seed})
        fixed = {}
        if given:
            fixed = given_values(self.schema_, dict(given), option="given")
        base = draw_seed(self._rng(seed))
        return self._batches(int(start), int(start) + int(n), int(batch_size), base, fixed)

    def _batches(self, start: int, stop: int, size: int, base: int, fixed: dict) -> Iterator[pd.DataFrame]:
        buffer: list[pd.DataFrame] = []
        held = 0
        for block in self._blocks(start, stop, base, fixed):
            buffer.append(block)
            held += len(block)
            while held >= size:
                whole = pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else buffer[0].reset_index(drop=True)
                yield whole.iloc[:size].reset_index(drop=True)
                rest = whole.iloc[size:]
                buffer, held = ([rest] if len(rest) else []), len(rest)
        if held:
            yield pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else buffer[0].reset_index(drop=True)

    def _blocks(self, start: int, stop: int, base: int, fixed: dict) -> Iterator[pd.DataFrame]:
        """Rows ``start .. stop-1`` of the stream seeded by ``base``, one :data:`SAMPLE_BLOCK` at a time."""
        B = SAMPLE_BLOCK

        def block(b: int) -> pd.DataFrame:
            return self._block(b, base, fixed).iloc[max(start - b * B, 0):min(stop - b * B, B)]

        # blocks are independent (each seeded by its index): drawn on the idle cores, the same rows
        yield from ordered_map(block, range(start // B, -(-stop // B)))

    @limits_threads
    def _block(self, b: int, base: int, fixed: dict) -> pd.DataFrame:
        rng = np.random.default_rng([base, b])
        if fixed:
            given = pd.DataFrame({c: pd.Series([v] * SAMPLE_BLOCK, dtype=object) for c, v in fixed.items()})
            return self._given_rows(given, rng, start=b * SAMPLE_BLOCK)
        return self._finish(self._renumber(self._drawn(SAMPLE_BLOCK, rng), b * SAMPLE_BLOCK))

    def _given_rows(self, given: pd.DataFrame, rng: np.random.Generator, start: int) -> pd.DataFrame:
        """One generated row per row of ``given`` (rows ``start ..`` of a stream), its known cells kept."""
        gen, unseen = self.draw_given(given, rng=rng, exclude_missing=False)
        for name, bad in unseen.items():
            if bad.any():
                col = column_label(given, name)
                value = given[col].reset_index(drop=True)[bad].iloc[0]
                raise InputError(f"given column '{name}' has value {plain_value(value)!r}, which the model cannot "
                                 "condition on (not seen when it was fitted); use a value of the fitted table")
        out = self._renumber(gen, start)
        return self._finish(self.merge_known(given, out, prefer="model"), keep=given)

    def _renumber(self, out: pd.DataFrame, start: int) -> pd.DataFrame:
        """Key columns numbered by row position (``start`` = the first row's index in the stream).

        Keys are fresh values (integers after the largest real one, or ``<prefix>synN``); numbering them
        by position keeps them unique across blocks, redrawn rows and batches.
        """
        for spec in self.schema_.columns:
            if spec.kind != "id" or spec.name not in out.columns or not len(out):
                continue
            pos = np.arange(len(out), dtype="int64") + int(start)
            vals = (np.array([f"{spec.id_prefix or ''}syn{i}" for i in pos], dtype=object)
                    if spec.value_type == "str" else pos + int(spec.max) + 1)
            out[spec.name] = restore(vals, out[spec.name].isna().to_numpy(), spec)
        return out

    def _drawn(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` rows from the model (schema names, fitted dtypes), rows that break a rule drawn again."""
        def draw(k: int) -> pd.DataFrame:
            return self.encoder_.inverse(self.backend_.sample(k, rng=rng), rng)

        out = draw(n)
        if self._rules():
            out, _ = self._rules().enforce(out, rng=rng, redraw=lambda rows: draw(len(rows)), replace_rows=True)
        return out

    def _rules(self) -> Rules:
        return getattr(self, "rules_", None) or Rules()

    @limits_threads
    def impute(self, df: pd.DataFrame, *, seed: RandomState = None) -> pd.DataFrame:
        """Fill the missing cells of ``df`` by sampling from the model given each row's known cells.

        Every known cell is returned exactly as given, with ``df``'s index,
        column order and dtypes (a column widens, e.g. integers to floats,
        only when a filled value does not fit its dtype exactly). Columns may
        drift in dtype from the fitted table (integers where strings were
        fitted, floats in an integer column); a known value the model cannot
        condition on (a category never seen in ``fit``, text in a number
        column) is kept as it is and treated as unknown by the model.

        Parameters
        ----------
        df : pandas.DataFrame
            Rows with missing cells, the fitted columns.
        seed : int, numpy.random.Generator or None
            Same seed, same filled values.

        Returns
        -------
        pandas.DataFrame
            ``df`` with its missing cells filled.
        """
        self.check_fitted()
        validate("Synthesizer.impute", {"seed": seed})
        check_table(df)
        rng = self._rng(seed)
        gen, _ = self.draw_given(df, rng=rng, exclude_missing=True)
        return self.settle(self.merge_known(df, gen, prefer="input"), df.isna(), rng=rng)[0]

    def settle(self, filled: pd.DataFrame, holes: pd.DataFrame, *, rng: RandomState = None,
               fill_structural: bool = False, best: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
        """Keep the fitted table's rules in a filled table; empty the cells that cannot exist.

        A filled cell that breaks a rule with its row (see :mod:`tabsynth.rules`)
        is replaced by a value the real rows show with the rest of the row; a
        cell that was missing and that a rule wants missing given the rest of
        its row (a cause of death for a person alive) is structural: it is
        emptied again unless ``fill_structural``. Known cells never change.

        Parameters
        ----------
        filled : DataFrame
            The table after filling (the fitted columns; labels as given).
        holes : DataFrame of bool
            Which cells were missing before filling (same shape and labels).
        rng : int or numpy.random.Generator, optional
            For repairs drawn from the real rows' values.
        fill_structural : bool, default False
            Keep the filled values of structural cells.
        best : bool, default False
            Repairs take the most frequent allowed value (a single best guess) instead of a draw.

        Returns
        -------
        (DataFrame, dict)
            The table, and the structural cells per column (left missing, or filled with ``fill_structural``).
        """
        self.check_fitted()
        rules = self._rules()
        if not rules or not len(filled):
            return filled, {}
        labels = {str(c): c for c in filled.columns}
        named = pd.DataFrame({name: filled[c].reset_index(drop=True) for name, c in labels.items()
                              if name in rules.views or any(name in e.columns for e in rules.equations)})
        free = {name: holes[labels[name]].to_numpy(dtype=bool) for name in named.columns}
        named, _ = rules.enforce(named, rng=make_rng(rng), free=free, keep_present=True, best=best)
        counts = self._structural(named, free)
        if not fill_structural:
            for name, cells in counts.items():
                named[name] = empty_cells(named[name], cells)
        out = filled.copy()
        for name in named.columns:
            out[labels[name]] = named[name].set_axis(filled.index)
        return out, {name: int(cells.sum()) for name, cells in counts.items()}

    def structural_cells(self, filled: pd.DataFrame, holes: pd.DataFrame) -> dict[str, int]:
        """Per column, the cells that were missing (``holes``) and that a rule wants missing given ``filled``'s rows.

        Parameters
        ----------
        filled : pandas.DataFrame
            The filled table (its rows' other cells decide).
        holes : pandas.DataFrame
            The table before filling.

        Returns
        -------
        dict of str to int
        """
        self.check_fitted()
        labels = {str(c): c for c in filled.columns}
        named = pd.DataFrame({name: filled[c].reset_index(drop=True) for name, c in labels.items()})
        free = {name: holes[labels[name]].to_numpy(dtype=bool) for name in named.columns}
        return {name: int(cells.sum()) for name, cells in self._structural(named, free).items()}

    def _structural(self, named: pd.DataFrame, free: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for name, must in self._rules().structural(named).items():
            cells = must & free.get(name, np.zeros(len(named), dtype=bool))
            if cells.any():
                out[name] = cells
        return out

    def unseen_cells(self, df: pd.DataFrame) -> dict[str, int]:
        """Known cells per column that the model cannot condition on (categories or values never seen in ``fit``).

        Parameters
        ----------
        df : pandas.DataFrame
            A table of the fitted columns.

        Returns
        -------
        dict of str to int
        """
        self.check_fitted()
        out = {}
        for s in self.schema_.columns:
            col = column_label(df, s.name)
            if col is not None:
                _, bad = for_model(df[col], s)
                if bad.any():
                    out[s.name] = int(bad.sum())
        return out

    def _rng(self, seed: RandomState) -> np.random.Generator:
        return make_rng(seed) if seed is not None else self._sample_rng

    def draw_given(self, df: pd.DataFrame, *, rng: np.random.Generator,
                   exclude_missing: bool) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Draw every modelled cell of ``df``'s rows given the row's known cells, in the fitted dtypes.

        The step under :meth:`sample` with ``given`` and :meth:`impute`; an
        imputer combines it with its own predictions and :meth:`merge_known`.

        Parameters
        ----------
        df : pandas.DataFrame
            Rows of known cells (columns of the fitted table, in any order;
            absent columns and missing cells are drawn).
        rng : numpy.random.Generator
        exclude_missing : bool
            Draw no missing values for the unknown cells (filling holes);
            ``False`` draws missing values at the learned rate (sampling).

        Returns
        -------
        (pandas.DataFrame, dict)
            The drawn table (schema column names, fresh index; known cells
            are conditioned on, not copied) and, per column, a boolean array
            of the known cells that could not be conditioned on.
        """
        cols = {str(c): c for c in df.columns}
        unknown = [c for c in cols if c not in self.schema_.names and c not in self.ignored_]
        if unknown:
            raise InputError(f"column {unknown[0]!r} was not in the fitted table; drop it or refit")
        n = len(df)
        data, unseen = {}, {}
        for s in self.schema_.columns:
            if s.name in cols:
                data[s.name], unseen[s.name] = for_model(df[cols[s.name]], s)
            else:
                data[s.name] = pd.Series([None] * n, dtype=object)
        frame = pd.DataFrame(data)

        def draw(rows: np.ndarray | None) -> pd.DataFrame:
            part = frame if rows is None else frame.iloc[rows].reset_index(drop=True)
            enc = self.encoder_.transform(part, rng, missing="unobserved")
            enc.exclude_missing = exclude_missing
            return self.encoder_.inverse(self.backend_.sample(len(part), given=enc, rng=rng), rng)

        out = draw(None)
        rules = self._rules()
        if rules:
            free = {name: frame[name].isna().to_numpy() for name in frame.columns}
            out, _ = rules.enforce(out, rng=rng, redraw=draw, free=free, keep_present=exclude_missing)
        return out, unseen

    def merge_known(self, df: pd.DataFrame, gen: pd.DataFrame, *, prefer: str,
                    rows: np.ndarray | None = None) -> pd.DataFrame:
        """Known cells of ``df`` plus drawn cells of ``gen`` (aligned to ``rows`` of ``df``, default all).

        Parameters
        ----------
        df : pandas.DataFrame
            The table of known cells.
        gen : pandas.DataFrame
            Drawn cells (schema column names), one row per entry of ``rows``,
            e.g. from :meth:`draw_given`.
        prefer : {"input", "model"}
            ``"input"``: ``df``'s columns, labels, index and dtypes, with its
            missing modelled cells (in ``rows``) filled. ``"model"``: the
            drawn table (schema names, fitted dtypes) with ``df``'s known
            cells put back.
        rows : array of int, optional
            Positions of ``df``'s rows that ``gen`` holds (default: all).

        Returns
        -------
        pandas.DataFrame
        """
        rows = np.arange(len(df)) if rows is None else np.asarray(rows)
        modelled = set(self.schema_.names)
        if prefer == "input":
            out = {}
            for c in df.columns:
                orig = df[c].reset_index(drop=True)
                miss = orig.isna().to_numpy()[rows]
                if str(c) in modelled and miss.any():
                    out[c] = merge(orig, rows[miss], gen[str(c)].reset_index(drop=True)[miss])
                else:
                    out[c] = orig
            result = pd.DataFrame(out)
            result.columns = df.columns
            result.index = df.index
            return result
        result = gen.reset_index(drop=True).copy()
        for c in df.columns:
            if str(c) in modelled:
                orig = df[c].reset_index(drop=True)
                known = np.flatnonzero(orig.notna().to_numpy())
                result[str(c)] = merge(result[str(c)], known, orig.iloc[known])
        return result

    def _finish(self, out: pd.DataFrame, keep: pd.DataFrame | None = None) -> pd.DataFrame:
        """Put ignored columns back and restore the fitted column labels/order."""
        n = len(out)
        data = {}
        for label, dt in zip(self.columns_, self.dtypes_):
            name = str(label)
            if name in self.ignored_:
                if keep is not None and name in {str(c) for c in keep.columns}:
                    src = keep[[c for c in keep.columns if str(c) == name][0]].reset_index(drop=True)
                    data[name] = src
                else:
                    data[name] = _empty(n, dt)
            else:
                data[name] = out[name]
        res = pd.DataFrame(data)
        res.columns = list(self.columns_)
        return res

    # --------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Save to a zip of JSON and ``.npz`` arrays (no pickle); atomic.

        Parameters
        ----------
        path : str or Path
            The model file to write.

        Returns
        -------
        pathlib.Path
        """
        self.check_fitted()
        enc_meta, enc_arrays = self.encoder_.state()
        be_meta, be_arrays = self.backend_.get_state()
        params = super().get_params(deep=False)
        params["categorical"] = list(params["categorical"]) if params["categorical"] is not None else None
        params["ignore"] = list(params["ignore"]) if params["ignore"] is not None else None
        params["given_columns"] = list(params["given_columns"]) if params["given_columns"] is not None else None
        params["public_schema"] = None  # the domains it gave are in the model
        doc = {
            "format": FORMAT,
            "format_version": self.backend_.format_version,
            "tabsynth_version": __version__,
            "params": params,
            "backend_params": _jsonify(self.backend_.get_params()),
            "columns": self.columns_,
            "dtypes": self.dtypes_,
            "ignored": self.ignored_,
            "seed": getattr(self, "seed_", None),
            "text_layout": getattr(self, "text_layout_", None),
            "rules": self._rules().to_dict(),
            "encoder": enc_meta,
            "backend_state": be_meta,
            "privacy": getattr(self, "privacy_", None),
        }
        path = Path(path)
        with atomic_path(path) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                _zip_write(zf, "tabsynth.json", json.dumps(doc, indent=1).encode())
                _zip_write(zf, "encoder.npz", _npz(enc_arrays))
                _zip_write(zf, "backend.npz", _npz(be_arrays))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Synthesizer:
        """Load a model written by :meth:`save`. Never executes code from the file.

        Parameters
        ----------
        path : str or Path
            A file written by :meth:`save`.

        Returns
        -------
        Synthesizer
        """
        path = Path(path)
        if not path.exists():
            raise FileFormatError(f"model file '{path}' does not exist")
        try:
            with zipfile.ZipFile(path) as zf:
                doc = json.loads(zf.read("tabsynth.json"))
                enc_arrays = _unnpz(zf.read("encoder.npz"))
                be_arrays = _unnpz(zf.read("backend.npz"))
            if doc.get("format") != FORMAT:
                raise ValueError("not a tabsynth model")
            if int(doc.get("format_version", -1)) > FORMAT_VERSION:
                raise FileFormatError(
                    f"model file '{path}' has format version {doc['format_version']}, newer than this tabsynth "
                    f"({__version__}) reads; upgrade tabsynth"
                )
            p = doc["params"]
            self = cls(p["backend"], random_state=p["random_state"], categorical=p["categorical"],
                       ignore=p["ignore"], target=p.get("target"), given_columns=p.get("given_columns"),
                       rules=p.get("rules", True),
                       verbose=p.get("verbose", False), epsilon=p.get("epsilon"), delta=p.get("delta"),
                       **doc["backend_params"])
            self.columns_ = doc["columns"]
            self.dtypes_ = doc["dtypes"]
            self.ignored_ = doc["ignored"]
            self.privacy_ = doc.get("privacy")
            encoder_cls, backend_cls = ((PrivateEncoder, PrivateTree) if self.privacy_ else
                                        (TableEncoder, get_backend_class(p["backend"])))
            self.encoder_ = encoder_cls.from_state(doc["encoder"], enc_arrays)
            self.schema_ = self.encoder_.schema
            self.backend_ = backend_cls.from_state(doc["backend_params"], doc["backend_state"], be_arrays)
            self.n_features_in_ = len(self.columns_)
            self.seed_ = doc.get("seed")
            self.text_layout_ = doc.get("text_layout")
            self.rules_ = Rules.from_dict(doc.get("rules"))
            self._sample_rng = make_rng(p["random_state"])
        except FileFormatError:
            raise
        except Exception as e:  # any damage to the file ends here, in one line
            raise FileFormatError(f"model file '{path}' is not a valid tabsynth model ({type(e).__name__}: {e}); "
                                  "re-create it with 'tabsynth fit'") from None
        return self


class _TqdmProgress:
    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            for b in self.bars.values():
                b.close()
            bar = self.bars[stage] = tqdm(total=total, desc=stage, leave=False, unit="step")
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for b in self.bars.values():
            b.close()


def _empty(n: int, dtype: str) -> pd.Series:
    dt = make_dtype(dtype)
    if isinstance(dt, np.dtype) and dt.kind in "iu":
        dt = pd.api.types.pandas_dtype(dt.name.capitalize())
    elif isinstance(dt, np.dtype) and dt.kind == "b":
        dt = pd.BooleanDtype()
    return pd.Series([None] * n, dtype=object).astype(dt)


def _label_json(c: Any) -> Any:
    if isinstance(c, (str, int)) and not isinstance(c, bool):
        return c
    if isinstance(c, np.integer):
        return int(c)
    return str(c)


def _jsonify(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: same model, same bytes


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` archive (readable by ``np.load``) with fixed timestamps, so identical arrays give identical bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for k, v in arrays.items():
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.asarray(v), allow_pickle=False)
            info = zipfile.ZipInfo(f"{k}.npy", date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


def _param_names(backend: Any) -> list[str] | None:
    """The parameter names of ``backend``, or None when it names no backend (fit says so)."""
    try:
        return get_backend_class(backend).param_names()
    except (InputError, TypeError):
        return None


def _seed_of(random_state: RandomState) -> int | None:
    """The integer seed a fit uses: the one given, or a fresh one (so every fit can be repeated)."""
    if random_state is None:
        return fresh_seed()
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return None  # a Generator: its state is the caller's


def _unnpz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
