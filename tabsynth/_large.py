"""Runners of the command line: inputs larger than memory (parquet datasets), Dask clusters, streamed output.

The layer between the library and :mod:`tabsynth.cli`: it imports the
library, never the command line (whose options and messages stay there), so
that the ordinary path of ``cli`` stays short.
A parquet *dataset* (a directory of parquet files, or a parquet file with
more rows than ``--fit-rows``) is read batch by batch: the model is fitted
on a seeded sample (:mod:`tabsynth.dataset`) and every output is streamed.
With ``--workers N`` or ``--scheduler ADDRESS`` the work runs on a Dask
cluster and ``-o`` is written as a parquet dataset directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from . import dask as tdask
from ._cells import given_values
from ._outputs import register_temp, same_file, unregister_temp
from .augmentation import as_input_dtypes, n_synthetic_rows, run_seeds
from .dataset import iter_batches, open_dataset, scan
from .errors import InputError
from .io import TableWriter
from .schema import check_columns
from .synthesizer import Synthesizer


def on_cluster(workers: int | None, scheduler: str | None) -> bool:
    """Whether a run goes to a Dask cluster (the command line refuses both options at once)."""
    return workers is not None or scheduler is not None


def write_stream(plan: Any, batches: Iterable[pd.DataFrame], path: Path, layout: dict | None, total: int,
                 progress: bool) -> int:
    """Write an iterator of DataFrames to the staged ``path`` (inside ``plan.writing()``); a rows/s bar on a TTY.

    Returns the number of rows written.
    """
    bar = None
    if progress:
        bar = tqdm(total=total, desc="rows", unit="row", unit_scale=True, leave=False)
    try:
        with TableWriter(plan.stage(path), like=path, layout=layout) as writer:
            for batch in batches:
                writer.write(batch)
                if bar is not None:
                    bar.update(len(batch))
        return writer.rows
    finally:
        if bar is not None:
            bar.close()


@contextlib.contextmanager
def cluster(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A ``dask.distributed.Client`` on a local cluster of ``workers`` processes or on ``scheduler``."""
    dask, _ = tdask.require_dask()
    # strings as pandas reads them (str), not dask's pyarrow-backed "string": the same output as a local run
    with dask.config.set({"dataframe.convert-string": False}):
        yield from _client(workers, scheduler)


def _client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--workers / --scheduler need dask.distributed: pip install 'tabsynth[dask]'") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise InputError(f"--scheduler: cannot reach '{scheduler}' ({' '.join(str(e).split())})") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        yield client


def plan_directory(path: str | Path, inputs: dict[str, Any]) -> Path:
    """Check a dataset-directory output before any work: new path, existing writable parent, not an input."""
    p = Path(path)
    for opt, src in inputs.items():
        if src is not None and same_file(p, src):
            raise InputError(f"-o '{p}' is the same path as {opt}; choose another path")
    if p.exists():
        raise InputError(f"-o '{p}' exists; with --workers / --scheduler the output is a new dataset directory, "
                         "give a path that does not exist")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"-o: the directory '{parent}' of '{p}' does not exist or is not writable")
    return p


def write_directory(ddf: Any, path: Path) -> None:
    """Write ``ddf`` as a parquet dataset directory, atomically: a hidden directory beside ``path``, renamed at
    the end."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else "."))
    register_temp(tmp)
    try:
        ddf.to_parquet(str(tmp), write_index=False, overwrite=False)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        unregister_temp(tmp)


def fit_model(input: str, fit_rows: int, backend: str, seed: int, categorical: list | None, ignore: list | None,
              extra: dict, verbose: bool, passes: int = 0, target: str | None = None) -> Any:
    """A Synthesizer fitted on a dataset's seeded sample, with its exact statistics (then ``passes`` EM passes)."""
    model = Synthesizer(backend, random_state=seed, categorical=categorical, ignore=ignore, target=target,
                        verbose=verbose, **extra)
    return model.fit_dataset(input, fit_rows=fit_rows, passes=passes)


def augment_batches(input: str, model: Any, n_new: int, seed: int, synthetic_only: bool,
                    given: dict | None) -> Iterator[Any]:
    """The input's rows batch by batch, unchanged, then ``n_new`` synthetic rows in the input's dtypes."""
    like = None
    for batch in iter_batches(input):
        like = batch.iloc[:0] if like is None else like
        if not synthetic_only:
            yield batch
    for batch in model.sample_batches(n_new, seed=run_seeds(seed, 1)[0], given=given):
        yield as_input_dtypes(batch, like) if like is not None else batch


def run_sample_cluster(model: Any, rows: int, out: Path, seed: int, given: dict | None, workers: int | None,
                       scheduler: str | None) -> None:
    """``tabsynth sample`` on a cluster: a parquet dataset directory of ``rows`` rows (one part per million rows)."""
    with cluster(workers, scheduler):
        write_directory(tdask.sample(model, rows, seed=seed, given=given), out)


def run_augment(plan: Any, input: str, out: Path, *, rows: int | None, ratio: float | None, synthetic_only: bool,
                given: dict, backend: str, seed: int, categorical: list | None, ignore: list | None, extra: dict,
                fit_rows: int, workers: int | None, scheduler: str | None, progress: bool, passes: int = 0) -> dict:
    """``tabsynth augment`` on a parquet dataset or a cluster; returns the JSON summary's counts."""
    model = fit_model(input, fit_rows, backend, seed, categorical, ignore, extra, progress, passes)
    fixed = given_values(model.schema_, given) if given else {}
    n_real = model.dataset_rows_
    n_new = n_synthetic_rows(n_real, rows, ratio)
    kept = 0 if synthetic_only else n_real
    if on_cluster(workers, scheduler):
        _, dd = tdask.require_dask()
        with cluster(workers, scheduler):
            ddf = dd.read_parquet(str(input))
            write_directory(tdask.augment(ddf, model=model, rows=n_new, seed=seed, given=fixed or None,
                                          synthetic_only=synthetic_only), out)
    else:
        with plan.writing():
            write_stream(plan, augment_batches(input, model, n_new, seed, synthetic_only, fixed or None), out, None,
                         kept + n_new, progress)
    return {"model": model, "rows_input": n_real, "rows_synthetic": n_new, "rows_output": kept + n_new,
            "rows_fitted": min(fit_rows, n_real)}


def run_impute(plan: Any, input: str, out: Path, *, imputer_for: Callable[[Any], Any], only: list | None, seed: int,
               fit_rows: int, workers: int | None, scheduler: str | None, progress: bool) -> dict:
    """``tabsynth impute`` on a parquet dataset or a cluster: fit on a seeded sample, fill batch by batch."""
    # unknown --columns are refused before the pass over the data
    check_columns(pd.DataFrame(columns=open_dataset(input).schema.names), only, "--columns")
    scanned = scan(input, fit_rows=fit_rows, seed=seed)
    imputer = imputer_for(scanned.sample)
    counts = {"filled": {}, "left": {}, "unseen": {}, "structural": {}}

    def fill(batch):
        filled = imputer.transform(batch)
        if only is not None:
            for c in batch.columns:
                if str(c) not in only:
                    filled[c] = batch[c]
        for key, values in (("filled", batch.isna().sum() - filled.isna().sum()), ("left", filled.isna().sum()),
                            ("unseen", imputer.synthesizer_.unseen_cells(batch)),
                            ("structural", imputer.structural_cells(batch, filled))):
            for c, k in dict(values).items():
                if int(k):
                    counts[key][str(c)] = counts[key].get(str(c), 0) + int(k)
        return filled

    if on_cluster(workers, scheduler):
        _, dd = tdask.require_dask()
        with cluster(workers, scheduler):
            write_directory(tdask.impute(imputer, dd.read_parquet(str(input))), out)
        # (counted on the workers' side: not gathered)
        counts = {"filled": None, "left": None, "unseen": None, "structural": None}
    else:
        with plan.writing():
            write_stream(plan, (fill(b) for b in iter_batches(input)), out, None, scanned.rows, progress)
    return {"imputer": imputer, "rows": scanned.rows, "rows_fitted": len(scanned.sample), **counts}
