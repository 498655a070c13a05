"""``evaluate``: every check in one call, as one JSON-ready dict."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sklearn  # noqa: F401  (loads its OpenMP runtime now, so that evaluate's thread limit reaches it)

from .._params import validate
from .._spread import spread, start
from .._threads import limits_threads
from ..errors import InputError
from ..schema import json_value
from ._columns import MISSING, check_frames, subsample, to_keys
from .detection import detection
from .fidelity import fidelity
from .privacy import privacy
from .utility import (
    SPREAD_MIN_SECONDS,
    UtilityRun,
    check_caps,
    check_models,
    check_seeds,
    check_task_args,
    feature_selection,
    guarded,
    utility_cost,
)

SECTIONS = ("fidelity", "utility", "feature_selection", "detection", "privacy")

Progress = Callable[[str, int, int], None]


def _jsonable(obj: Any) -> Any:
    """Plain Python types only; NaN and infinities become ``None``."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, np.integer, np.floating)):
        obj = json_value(obj)  # the schema's conversion of NumPy scalars
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def _split(real: pd.DataFrame, target: str | None, task: str | None, random_state: int):
    """DESIGN.md split: 80/20, stratified on a classification target, ``random_state``."""
    from sklearn.model_selection import train_test_split

    if len(real) < 5:
        raise InputError(f"the real table has {len(real)} rows, too few to split off a holdout; "
                         "pass at least 5 rows or a holdout table")
    note = None
    strat = None
    if target is not None and task == "classification":
        keys = to_keys(real[target])
        counts = pd.Series(keys).value_counts()
        if counts.min() >= 2:
            strat = keys
        else:
            note = f"some class of {target!r} has a single row: the holdout split is not stratified"
    train, hold = train_test_split(real, test_size=0.2, stratify=strat, random_state=random_state)
    return train.reset_index(drop=True), hold.reset_index(drop=True), note


@limits_threads
def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
             target: str | None = None, *, task: str | None = None, models: Sequence[str] | None = None,
             seeds: Sequence[int] = (0, 1, 2), random_state: int = 0, max_rows: int | None = 50_000,
             max_train_rows: dict[str, int | None] | None = None, sections: Iterable[str] | None = None,
             n_jobs: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Score a synthetic table against the real one: fidelity, utility, detection, privacy.

    Parameters
    ----------
    real : pandas.DataFrame
        The real table (the rows the generator was fit on). Column kinds
        (numeric, datetime, categorical) are read from its dtypes.
    synthetic : pandas.DataFrame
        The synthetic table: the same columns (any order), values converted to
        the real columns' types (:func:`tabsynth.evaluate._columns.check_types`).
    holdout : pandas.DataFrame or None
        Real rows the generator never saw. Without it, ``real`` is split
        80/20 (stratified on a classification target, ``random_state``): the
        80% trains the utility models and is the privacy reference, the 20%
        is the holdout. Fidelity and detection always use all of ``real``.
    target : str or None
        Target column. ``None`` skips utility and feature selection (their
        keys are ``None``).
    task : {"classification", "regression"} or None
        Default: inferred from the target (see :func:`tabsynth.evaluate.utility.infer_task`).
    models : sequence of str or None
        Utility models, a subset of ``logistic_regression, decision_tree,
        random_forest, gradient_boosting, svm, mlp`` (default: all).
    seeds : sequence of int, default (0, 1, 2)
        Seeds averaged for the stochastic utility models.
    random_state : int, default 0
        Seed of the split, the subsamples and the cross-validation folds.
    max_rows : int or None, default 50_000
        Tables with more rows are subsampled (seeded) for fidelity, utility
        and the privacy reference; exact copies and validity use every row.
    max_train_rows : dict or None
        Row caps of the utility models by name, updating :data:`MAX_TRAIN_ROWS
        <tabsynth.evaluate.utility.MAX_TRAIN_ROWS>` (a stratified seeded
        subsample of each training table); ``{"random_forest": None}``: no cap.
    sections : iterable of str or None
        Subset of ``fidelity, utility, feature_selection, detection,
        privacy`` to run (default: all); skipped sections are ``None``.
    n_jobs : int or None
        Passed to the random forest (default: the thread setting,
        :func:`tabsynth.set_threads` / ``--threads``, 1 unless set).
    progress : callable or None
        Called as ``progress(step_description, step_index, n_steps)``.

    Returns
    -------
    dict
        JSON-ready (plain floats, strings, lists; undefined values are
        ``None``) with keys ``fidelity``, ``utility``, ``feature_selection``,
        ``detection``, ``privacy`` and ``meta`` (documented in
        ``docs/evaluate.md``).

    Raises
    ------
    tabsynth.InputError
        Empty tables, columns that differ, values that cannot be of the real
        column's type, an unknown or single-class target, unknown models or
        sections, a parameter out of :data:`tabsynth._params.CONSTRAINTS`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabsynth.evaluate import evaluate
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=600), "c": rng.choice(["a", "b"], 600)})
    >>> real["y"] = np.where(real["x"] > 0, "yes", "no")
    >>> res = evaluate(real, real.sample(frac=1.0, random_state=1), target="y",
    ...                models=["logistic_regression"], sections=["fidelity", "utility"])
    >>> round(res["fidelity"]["column_shapes"], 2), res["utility"]["task"]
    (1.0, 'classification')
    """
    t_start = time.perf_counter()
    plan = _plan(real, synthetic, holdout, target, task=task, models=models, seeds=seeds, random_state=random_state,
                 max_rows=max_rows, max_train_rows=max_train_rows, sections=sections, n_jobs=n_jobs)
    result, seconds = _compute(plan, progress)
    return _jsonable({**result, "meta": _meta(plan, seconds, time.perf_counter() - t_start)})


@dataclass
class _Plan:
    """What :func:`evaluate` runs, checked: the tables, the sections and the utility settings."""

    real: pd.DataFrame
    synthetic: pd.DataFrame
    train: pd.DataFrame
    holdout: pd.DataFrame
    holdout_source: str
    notes: list[str]
    target: str | None
    task: str | None
    models: list[str]
    seeds: list[int]
    caps: dict
    sections: list[str]
    random_state: int
    max_rows: int | None
    n_jobs: int | None


def _plan(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None, target: str | None, *,
          task: str | None, models: Sequence[str] | None, seeds: Sequence[int], random_state: int,
          max_rows: int | None, max_train_rows: dict | None, sections: Iterable[str] | None,
          n_jobs: int | None) -> _Plan:
    """:func:`evaluate`'s checks, then its plan: the sections to run and the train / holdout split."""
    synthetic, holdout = check_frames(real, synthetic, holdout)
    if sections is None:
        wanted = list(SECTIONS)
    else:
        wanted = [sections] if isinstance(sections, str) else list(sections)
        bad = [s for s in wanted if s not in SECTIONS]
        if bad:
            raise InputError(f"unknown section {bad[0]!r} in sections; choose from {', '.join(SECTIONS)}")
    validate("evaluate", {"target": target, "task": task, "models": models, "random_state": random_state,
                          "max_rows": max_rows, "max_train_rows": max_train_rows, "n_jobs": n_jobs})
    models = check_models(models)
    seeds = check_seeds(seeds)
    caps = check_caps(max_train_rows)
    if target is not None:
        task, models, seeds = check_task_args(real, target, task, models, seeds)
        if task == "classification":  # refuse a single class before any work is done
            classes = [c for c in pd.unique(to_keys(real[target])) if c != MISSING]
            if len(classes) < 2:
                only = classes[0] if classes else "none"
                raise InputError(f"target {target!r} has only one class ({only!r}) in the real table; "
                                 "choose another target or pass rows of at least two classes")
    else:
        task = None
        wanted = [s for s in wanted if s not in ("utility", "feature_selection")]
    notes: list[str] = []
    if holdout is None:
        train, holdout, note = _split(real, target, task, random_state)
        holdout_source = "split: 20% of real (stratified on the target for classification, random_state)"
        notes.append("holdout split from the real table: if the generator saw all of it, utility and DCR "
                     "baselines are optimistic; pass the rows it never saw as holdout")
        if note:
            notes.append(note)
    else:
        train = real
        holdout_source = "given"
    return _Plan(real, synthetic, train, holdout, holdout_source, notes, target, task, models, seeds, caps, wanted,
                 random_state, max_rows, n_jobs)


#: rough seconds of a section per 10,000 rows (one thread, adult): the order its job is handed out
_SECTION_COST = {"fidelity": 0.15, "feature_selection": 0.35, "detection": 1.5, "privacy": 1.3}


def _timed(func: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, float]:
    """``func(*args, **kwargs)`` and the seconds it took (a job of :func:`tabsynth._spread.spread`)."""
    t0 = time.perf_counter()
    return func(*args, **kwargs), time.perf_counter() - t0


def _section_jobs(p: _Plan) -> dict[str, tuple[tuple, float]]:
    """The sections but utility, each one job: ``{section: ((func, args, kwargs), cost)}``."""
    rs, max_rows = p.random_state, p.max_rows
    jobs: dict[str, tuple[tuple, float]] = {}
    if "fidelity" in p.sections:
        jobs["fidelity"] = ((fidelity, (p.real, p.synthetic), {"max_rows": max_rows, "random_state": rs}),
                            (min(len(p.real), max_rows or len(p.real)) + min(len(p.synthetic), max_rows or len(
                                p.synthetic))) / 20_000 * _SECTION_COST["fidelity"])
    if "feature_selection" in p.sections:
        train, syn = subsample(p.train, max_rows, rs), subsample(p.synthetic, max_rows, rs + 1)
        jobs["feature_selection"] = ((feature_selection, (train, syn, p.target), {"task": p.task, "random_state": rs}),
                                     (len(train) + len(syn)) / 20_000 * _SECTION_COST["feature_selection"])
    if "detection" in p.sections:
        jobs["detection"] = ((detection, (p.real, p.synthetic), {"random_state": rs}),
                             min(len(p.real), len(p.synthetic), 20_000) / 10_000 * _SECTION_COST["detection"] * 2)
    if "privacy" in p.sections:
        jobs["privacy"] = ((privacy, (p.train, p.synthetic, p.holdout),
                            {"random_state": rs, "max_reference_rows": max_rows or len(p.train),
                             "copies_reference": p.real}),
                           min(len(p.train), max_rows or len(p.train)) / 10_000 * _SECTION_COST["privacy"])
    return jobs


def _compute(p: _Plan, progress: Progress | None) -> tuple[dict[str, Any], dict[str, float]]:
    """Run the planned sections: ``({section: result or None}, {section: seconds})``.

    Every utility fit and every other section is a job spread over the idle cores
    (:func:`tabsynth._spread.spread`), so a section's seconds are its jobs' own (they overlap).
    """
    result: dict[str, Any] = {s: None for s in SECTIONS}
    seconds: dict[str, float] = {}
    rs, max_rows = p.random_state, p.max_rows
    sections = _section_jobs(p)
    cost = sum(c for _, c in sections.values())
    if "utility" in p.sections:
        n_train, n_syn = (min(len(t), max_rows or len(t)) for t in (p.train, p.synthetic))
        cost += utility_cost(n_train, n_syn, p.models, p.seeds, p.caps)
    # helpers load while the features are encoded; not worth their start-up for small work
    width = start(("tabsynth.evaluate.utility",), most=None if cost >= SPREAD_MIN_SECONDS else 1)
    if progress:
        progress(p.sections[0], 0, len(p.sections))
    jobs: list[tuple] = []  # (cost, section, job)
    run = None
    if "utility" in p.sections:
        t0 = time.perf_counter()
        run = UtilityRun(subsample(p.train, max_rows, rs), subsample(p.synthetic, max_rows, rs + 1),
                         subsample(p.holdout, max_rows, rs + 2), p.target, task=p.task, models=p.models,
                         seeds=p.seeds, random_state=rs, n_jobs=p.n_jobs, caps=p.caps)
        seconds["utility"] = time.perf_counter() - t0
        jobs += [(cost, "utility", (guarded, (job,))) for cost, job in zip(run.costs, run.jobs)]
    jobs += [(cost, name, (guarded, ((_timed, job),))) for name, (job, cost) in sections.items()]
    total = len(jobs)
    by_job = spread([job for _, _, job in jobs], width=width, costs=[cost for cost, _, _ in jobs],
                    done=(lambda k: progress("evaluating", k, total)) if progress else None)
    if run is not None:
        outs = by_job[:len(run.jobs)]
        result["utility"] = run.finish(outs)
        seconds["utility"] += sum(o[1] for o in outs if not isinstance(o, BaseException))
    for name, out in zip(sections, by_job[len(run.jobs) if run is not None else 0:]):
        if isinstance(out, BaseException):
            raise out
        result[name], seconds[name] = out
    if progress:
        progress("done", len(p.sections), len(p.sections))
    return result, {s: seconds[s] for s in p.sections if s in seconds}


def _meta(p: _Plan, seconds: dict[str, float], elapsed: float) -> dict[str, Any]:
    """The ``meta`` section of :func:`evaluate`'s result: sizes, settings, timings, notes."""
    return {
        "rows_real": len(p.real),
        "rows_synthetic": len(p.synthetic),
        "rows_holdout": len(p.holdout),
        "rows_train": len(p.train),
        "columns": len(p.real.columns),
        "target": p.target,
        "task": p.task,
        "holdout_source": p.holdout_source,
        "random_state": p.random_state,
        "max_rows": p.max_rows,
        "sections": p.sections,
        "section_seconds": seconds,
        "seconds": elapsed,
        "notes": p.notes,
    }
