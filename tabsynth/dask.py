"""Dask: sample, augment and impute tables spread over many partitions and machines.

Needs the ``dask`` extra (``pip install 'tabsynth[dask]'``). The fitted model
goes to the workers once (one task every partition depends on); each
partition then works alone. Sampled rows depend only on the seed and their
row index (see :meth:`tabsynth.Synthesizer.sample_batches`), so one worker
or many, two partitions or two hundred, give the same rows.

Examples
--------
>>> import pandas as pd
>>> from tabsynth import Synthesizer
>>> from tabsynth.dask import sample
>>> df = pd.DataFrame({"x": [0.1, 0.5, 0.9, 1.3] * 10, "c": list("abab") * 10})
>>> model = Synthesizer(random_state=0).fit(df)
>>> ddf = sample(model, 1000, npartitions=4, seed=1)
>>> ddf.npartitions, len(ddf.compute())
(4, 1000)
>>> ddf.compute().reset_index(drop=True).equals(model.sample(1000, seed=1))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._cells import given_values
from ._rng import RandomState, draw_seed, make_rng
from .augmentation import as_input_dtypes, n_synthetic_rows, run_seeds
from .backends import DEFAULT_BACKEND
from .errors import InputError, TabsynthError
from .impute import GenerativeImputer
from .synthesizer import Synthesizer


class MissingExtraError(TabsynthError):
    """Dask is not installed."""


def require_dask() -> Any:
    """Import ``dask.dataframe``, or raise a one-line error saying how to install it."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise MissingExtraError("Dask support needs the dask extra: pip install 'tabsynth[dask]'") from None
    return dask, dd


def _seed(seed: RandomState) -> int:
    """An int seed for every partition (drawn once when ``seed`` is None or a Generator)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        make_rng(seed)  # (checks it)
        return int(seed)
    return draw_seed(make_rng(seed))


def _sample_part(model: Any, start: int, count: int, seed: int, given: dict | None) -> pd.DataFrame:
    parts = list(model.sample_batches(count, start=start, seed=seed, given=given, batch_size=max(count, 1)))
    out = parts[0] if parts else model.sample(0, seed=0)
    out.index = pd.RangeIndex(start, start + len(out))
    return out


def sample(model: Any, n: int, npartitions: int | None = None, *, seed: RandomState = None,
           given: dict[str, Any] | None = None, rows_per_partition: int = 1_000_000) -> Any:
    """``n`` synthetic rows from a fitted model as a ``dask.dataframe.DataFrame``.

    Parameters
    ----------
    model : Synthesizer
        A fitted (or loaded) model.
    n : int
        Number of rows.
    npartitions : int, optional
        Partitions (default: ``ceil(n / rows_per_partition)``).
    seed : int, optional
        Same seed, same rows, whatever ``npartitions`` or the cluster.
    given : dict, optional
        Fixed values for some columns in every row.
    rows_per_partition : int, default 1,000,000

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; partition ``k`` holds rows ``start_k .. start_k + len - 1``
        of the seed's stream, indexed by row number.
    """
    dask, dd = require_dask()
    model.check_fitted()
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"number of rows must be a non-negative integer, got {n!r}")
    if npartitions is None:
        npartitions = max(1, -(-int(n) // int(rows_per_partition)))
    if isinstance(npartitions, bool) or not isinstance(npartitions, (int, np.integer)) or npartitions < 1:
        raise InputError(f"npartitions must be a positive integer, got {npartitions!r}")
    if given:
        given = given_values(model.schema_, dict(given), option="given")
    seed = _seed(seed)
    edges = np.linspace(0, int(n), int(npartitions) + 1).round().astype(int)
    shared = dask.delayed(model, pure=True)  # one task: the model is sent to each worker once
    part = dask.delayed(_sample_part, pure=True)
    meta = model.sample(0, seed=0)
    parts = [part(shared, int(a), int(b - a), seed, given or None) for a, b in zip(edges[:-1], edges[1:])]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _impute_part(part: pd.DataFrame, imputer: Any) -> pd.DataFrame:
    return imputer.transform(part) if len(part) else part


def impute(imputer: Any, ddf: Any) -> Any:
    """Fill the missing cells of every partition of ``ddf`` with a fitted imputer (or model).

    Parameters
    ----------
    imputer : GenerativeImputer or Synthesizer
        A fitted :class:`~tabsynth.GenerativeImputer`, or a fitted
        :class:`~tabsynth.Synthesizer` (wrapped with
        :meth:`~tabsynth.GenerativeImputer.from_synthesizer`; its
        refinement is then fitted on the first partition).
    ddf : dask.dataframe.DataFrame
        The table to fill; the fitted columns.

    Returns
    -------
    dask.dataframe.DataFrame
        Same partitions, index, columns and dtypes; known cells unchanged.
    """
    dask, _ = require_dask()
    if isinstance(imputer, Synthesizer):  # its refinement learns from the first partition
        imputer = GenerativeImputer.from_synthesizer(imputer, ddf.get_partition(0).compute(), random_state=0)
    meta = ddf._meta
    shared = dask.delayed(imputer, pure=True)
    return ddf.map_partitions(_impute_part, shared, meta=meta)


def augment(ddf: Any, *, model: Any = None, ratio: float | None = None, rows: int | None = None,
            seed: RandomState = None, given: dict[str, Any] | None = None, synthetic_only: bool = False,
            fit_rows: int = 200_000, backend: str = DEFAULT_BACKEND, **backend_params: Any) -> Any:
    """``ddf`` followed by synthetic rows, as one ``dask.dataframe.DataFrame``.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The real table.
    model : Synthesizer, optional
        A fitted model; default: one fitted on a seeded sample of at most
        ``fit_rows`` rows of ``ddf``.
    ratio : float, optional
        Synthetic rows as a multiple of ``len(ddf)``; default 1.0 (unless ``rows``).
    rows : int, optional
        Number of synthetic rows.
    seed : int, optional
        Same seed, same rows; the synthetic rows are those of
        :func:`tabsynth.augment` with the same model and seed.
    given : dict, optional
        Fixed values for some columns in every synthetic row.
    synthetic_only : bool, default False
        Only the synthetic rows.
    fit_rows : int, default 200,000
    backend : str, default "trees"
    **backend_params
        Backend parameters when fitting.

    Returns
    -------
    dask.dataframe.DataFrame
        The real partitions unchanged, then the synthetic ones.
    """
    _, dd = require_dask()
    seed = _seed(seed)
    n_real = int(ddf.shape[0].compute())
    if model is None:
        frac = min(1.0, fit_rows / max(n_real, 1))
        fit_df = ddf.sample(frac=frac, random_state=seed % 2**32).compute() if frac < 1 else ddf.compute()
        model = Synthesizer(backend, random_state=seed, **backend_params).fit(fit_df.reset_index(drop=True))
    n_new = n_synthetic_rows(n_real, rows, ratio)
    synthetic = sample(model, n_new, max(1, min(ddf.npartitions, n_new)), seed=run_seeds(seed, 1)[0], given=given)
    # the input's dtypes as a partition holds them (dask's meta has placeholder categories)
    like = ddf.get_partition(0).head(0, npartitions=1) if ddf.npartitions else ddf._meta
    synthetic = synthetic.map_partitions(as_input_dtypes, like, meta=ddf._meta)
    return synthetic if synthetic_only else dd.concat([ddf, synthetic])
