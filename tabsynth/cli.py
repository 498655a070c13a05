"""The ``tabsynth`` command line: io -> estimator -> io.

Every user mistake ends as one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ._cells import given_values
from ._large import fit_model, plan_directory, run_impute, run_sample_cluster, write_stream
from ._large import run_augment as run_large_augment
from ._outputs import OutputPlan, Terminated, cleanup_temps, install_signal_handlers
from ._params import validate
from ._related import (
    entity_columns,
    fit_database,
    fit_sequences,
    model_kind,
    plan_tables,
    read_tables,
    table_files,
    write_tables,
)
from ._rng import fresh_seed
from ._threads import set_threads
from ._version import __version__
from .augmentation import CheckFailed, n_synthetic_rows, run_augment
from .backends import DEFAULT_BACKEND, get_backend_class
from .database import DatabaseSynthesizer, Relation, check_relations, infer_relations
from .dataset import is_dataset
from .datasets import load_example
from .errors import InputError, ParameterError, TabsynthError
from .evaluate import evaluate as run_evaluate
from .evaluate import summary_table
from .evaluate.database import evaluate_database
from .evaluate.database_report import database_summary, write_database_report
from .evaluate.report import write_report
from .evaluate.sequences import evaluate_sequences, sequence_summary
from .impute import GenerativeImputer
from .io import TableWriter, read_table, table_format, text_layout, write_table
from .privacy import private_params, private_rows, public_layout
from .rules import find_rules
from .schema import check_columns, infer_schema, make_dtype
from .sequences import SequenceSynthesizer
from .synthesizer import Synthesizer


def _split(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--param")
        key, raw = item.split("=", 1)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[key.strip()] = value
    return params


def _show_progress(quiet: bool, as_json: bool) -> bool:
    return not quiet and not as_json and sys.stderr.isatty()


def _say(quiet: bool, as_json: bool, msg: str) -> None:
    if not quiet and not as_json:
        click.echo(msg)


def _emit_json(as_json: bool, doc: dict) -> None:
    if as_json:
        click.echo(json.dumps(doc, indent=2, default=str))


def _read(path: str, na_values: str | None, sep: str | None = None):

    return read_table(path, na_values=_split(na_values), sep=sep)


def _table_check(option: str):
    def check(p: Path) -> None:

        try:
            table_format(p)
        except TabsynthError as e:
            raise click.BadParameter(str(e), param_hint=option) from None
    return check


def _html_check(p: Path) -> None:
    if not str(p).lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"'{p}' should end in .html", param_hint="--report")


def _plan(inputs: dict[str, Any]):
    for opt, path in inputs.items():
        if path is not None and opt != "--model" and opt != "MODEL" and not Path(path).is_dir():
            _table_check(opt)(Path(path))
    return OutputPlan(inputs)


def _passes_need_dataset(passes: int, large: bool) -> None:
    if passes and not large:
        raise click.BadParameter("applies to parquet datasets (a directory, or a parquet file with more rows than "
                                 "--fit-rows); this input is fitted whole already: drop it", param_hint="--fit-passes")


def _large_input(input: str, fit_rows: int, on_cluster: bool, in_memory_only: dict[str, Any]) -> bool:
    """Whether INPUT takes the dataset / cluster path; the options that path does not take are errors."""

    large = on_cluster or is_dataset(input, fit_rows)
    if large:
        used = [opt for opt, v in in_memory_only.items() if v is not None]
        if used:
            where = "on a Dask cluster" if on_cluster else "with a parquet dataset input (larger than --fit-rows)"
            raise click.UsageError(f"{used[0]} is not available {where}; use a table that fits in memory "
                                   "(or a sample of the dataset)")
        if Path(input).suffix.lower() not in (".parquet", ".pq") and not Path(input).is_dir():
            raise click.BadParameter(f"'{input}': --workers / --scheduler read parquet; convert the input to "
                                     "parquet first", param_hint="INPUT")
    return large


def _planned_output(plan, input: str, output: str | None, tag: str, on_cluster: bool) -> Path:
    """The -o path (default: ``<input>.<tag>.<ext>``; a directory INPUT gives ``<dir>.<tag>.parquet``), planned."""

    if output:
        path = Path(output)
    elif Path(input).is_dir():
        path = Path(str(Path(input)).rstrip("/\\") + f".{tag}.parquet")
    else:
        path = default_output(input, tag)
    if on_cluster:
        return plan_directory(path, plan.inputs)
    return plan.add(path, "-o", _table_check("-o"))


def _write(plan, df, path: Path, layout: dict | None) -> None:

    write_table(df, plan.stage(path), layout=layout, like=path)


def default_output(input_path: str | Path, tag: str = "augmented") -> Path:
    """``data.parquet`` -> ``data.augmented.parquet`` (``.gz`` kept last)."""
    p = Path(input_path)
    suffixes = p.suffixes
    ext = suffixes[-1] if suffixes else ""
    if ext.lower() == ".gz" and len(suffixes) > 1:
        ext = suffixes[-2] + ext
    stem = p.name[: len(p.name) - len(ext)] if ext else p.name
    return p.with_name(f"{stem}.{tag}{ext}")


# ------------------------------------------------------------------ options
def model_options(f: Callable | None = None, *, backend: str = DEFAULT_BACKEND) -> Callable:
    """Options shared by commands that fit a model (``backend``: the command's default backend)."""
    if f is None:
        return lambda g: model_options(g, backend=backend)
    f = click.option("--epochs", type=click.IntRange(min=1), expose_value=False,
                     callback=lambda ctx, _p, v: ctx.meta.__setitem__("tabsynth.epochs", v),
                     help="Training epochs of a neural backend (vae, gan); default: automatic.")(f)
    f = click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                     help="Backend parameter, repeatable (e.g. --param n_components=20).")(f)
    f = click.option("--ignore", metavar="COLS",
                     help="Comma-separated columns not to model (left empty in synthetic rows).")(f)
    f = click.option("--categorical", metavar="COLS", help="Comma-separated columns to treat as categorical.")(f)
    f = read_options(f)
    f = click.option("--seed", type=click.IntRange(min=0), default=None,
                     help="Random seed: same seed, same output [default: a fresh seed, reported by --json].")(f)
    f = click.option("--backend", default=backend, show_default=True,
                     help="Generative backend: trees, gmm, vae or gan.")(f)
    return f


def read_options(f: Callable) -> Callable:
    """Options for reading CSV input."""
    f = click.option("--sep", metavar="CHAR", default=None,
                     help="CSV field separator [default: sniffed among , ; tab |].")(f)
    f = click.option("--na-values", metavar="STRS",
                     help='Comma-separated cell texts meaning "missing" (e.g. "?"); in parquet/feather/JSON '
                          "input they apply to string columns.")(f)
    return f


def _set_threads(_ctx, _param, value):
    if value is not None:
        set_threads(value)
    return value


def threads_option(f: Callable) -> Callable:
    return click.option("--threads", type=click.IntRange(min=1), default=None, expose_value=False,
                        callback=_set_threads,
                        help="Threads for native work (BLAS, OpenMP, torch) [default: 1, or $TABSYNTH_THREADS]; "
                             "unless set, neural training, trees fits and sampling blocks also use the cores "
                             "other processes leave idle (same results on any count).")(f)


def fit_rows_option(f: Callable) -> Callable:
    return click.option("--fit-rows", type=click.IntRange(min=2), default=200_000, show_default=True,
                        help="When INPUT is a parquet dataset (a directory, or a parquet file with more rows): fit "
                             "on a seeded sample of this many rows; statistics (bounds, missing shares, category "
                             "frequencies) come from all rows.")(f)


def fit_passes_option(f: Callable) -> Callable:
    return click.option("--fit-passes", type=click.IntRange(min=0), default=0, show_default=True,
                        help="When INPUT is a parquet dataset and the backend is gmm: after the fit on the sample, "
                             "this many EM iterations over every row (one read of the dataset each).")(f)


def cluster_options(f: Callable) -> Callable:
    """``--workers``, ``--scheduler``."""
    f = click.option("--scheduler", metavar="ADDRESS", default=None,
                     help="Run on this dask.distributed scheduler (e.g. tcp://host:8786); -o is then written as a "
                          "parquet dataset directory. Needs the dask extra.")(f)
    f = click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Run on a local Dask cluster of N worker processes; -o is then written as a parquet "
                          "dataset directory. Needs the dask extra.")(f)
    return f


def _wants_cluster(workers: int | None, scheduler: str | None) -> bool:
    if workers is not None and scheduler is not None:
        raise click.UsageError("--workers starts a local cluster and --scheduler uses an existing one; give one")
    return workers is not None or scheduler is not None


def output_options(f: Callable) -> Callable:
    f = threads_option(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary on stdout.")(f)
    f = click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")(f)
    return f


#: Python parameters whose option is not ``--`` + the name with dashes (messages of the library name parameters)
FLAGS = {"n": "--rows", "n_entities": "--rows", "random_state": "--seed", "n_draws": "--draws",
         "passes": "--fit-passes", "batch_size": "--batch-rows", "m": "--multiple", "backend_params": "--param",
         "models": "--check-models", "scale": "--scale"}


def flag(name: str) -> str:
    """The option that sets Python parameter ``name``: ``class_ratio`` -> ``--class-ratio``."""
    return FLAGS.get(name, "--" + name.replace("_", "-"))


#: the column ``impute --multiple`` puts in front: which completed copy a row belongs to
MI_COLUMN = "_imputation"

_OWN_OPTIONS = {"random_state": "--seed", "seed": "--seed", "verbose": "--quiet", "backend": "--backend",
                "categorical": "--categorical", "ignore": "--ignore", "epochs": "--epochs"}


def _backend_params(backend: str, params: tuple[str, ...]) -> dict[str, Any]:
    """--param / --epochs as backend keyword arguments, checked before any work starts."""
    extra = _parse_params(params)
    names = get_backend_class(backend).param_names()
    for key in extra:
        if key in _OWN_OPTIONS and key not in names:
            raise click.BadParameter(f"{key!r} is not a backend parameter; use {_OWN_OPTIONS[key]}",
                                     param_hint="--param")
        if key not in names:
            raise click.BadParameter(f"backend {backend!r} has no parameter {key!r}; its parameters are: "
                                     f"{', '.join(names)}", param_hint="--param")
    epochs = click.get_current_context().meta.get("tabsynth.epochs")
    if epochs is not None:
        if "epochs" not in names:
            raise click.BadParameter(f"the {backend} backend has no epochs; use it with --backend vae or gan",
                                     param_hint="--epochs")
        extra["epochs"] = epochs
    return extra


def _fit_model(df, backend, seed, categorical, ignore, extra, verbose, target=None):

    model = Synthesizer(backend, random_state=seed, categorical=_split(categorical), ignore=_split(ignore),
                        target=target, verbose=verbose, **extra)
    return model.fit(df)


# ----------------------------------------------------------------- commands
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="tabsynth")
def cli() -> None:
    """Synthesize, augment and impute tables; evaluate the result.

    \b
    Examples:
      tabsynth augment data.parquet                # data.augmented.parquet, 2x rows
      tabsynth augment data.csv --ratio 0.5 -o more.csv
      tabsynth fit data.csv -o model.tabsynth && tabsynth sample model.tabsynth --rows 1000 -o syn.parquet
      tabsynth inspect data.csv
    """


def _parse_given(items: tuple[str, ...]) -> dict[str, str]:
    """``--given "a=1,b=x" --given c=y`` as ``{"a": "1", "b": "x", "c": "y"}`` (values stay text until checked)."""
    out: dict[str, str] = {}
    for item in items:
        for part in [p for p in item.split(",") if p.strip()]:
            if "=" not in part:
                raise click.BadParameter(f"expected COLUMN=VALUE, got {part.strip()!r}", param_hint="--given")
            col, value = part.split("=", 1)
            col = col.strip()
            if col in out:
                raise click.BadParameter(f"column {col!r} is given twice", param_hint="--given")
            out[col] = value.strip()
    return out


def _keep(key: str) -> Callable:
    return lambda ctx, _p, value: ctx.meta.__setitem__(f"tabsynth.{key}", value)


def related_options(f: Callable) -> Callable:
    """More input tables (a database) or an entity column (histories): the runs of :mod:`tabsynth._related`."""
    f = click.option("--order", metavar="COL", expose_value=False, callback=_keep("order"),
                     help="With --entity: the column (number or date) that orders each entity's rows.")(f)
    f = click.option("--constant", metavar="COL[,COL]", expose_value=False, callback=_keep("constant"),
                     help="With --entity: columns you know are constant within each entity (found anyway); the fit "
                          "refuses a table where one varies, naming the entity.")(f)
    f = click.option("--entity", metavar="COL", expose_value=False, callback=_keep("entity"),
                     help="Rows are measurements of entities (a worker, a patient) in this column: entities and "
                          "their histories are synthesized (--rows counts entities). Nested entities outermost "
                          "first: --entity school,pupil (--rows counts the outer ones).")(f)
    f = click.option("--relation", "relations", multiple=True, metavar="CHILD.COL=PARENT.COL", expose_value=False,
                     callback=_keep("relations"),
                     help="With several tables: a foreign key, e.g. students.School=schools.School (repeatable); "
                          "found from names and values when not given.")(f)
    f = click.option("--keep", "keep", multiple=True, metavar="TABLE", expose_value=False, callback=_keep("keep"),
                     help="With several tables: release this (public, reference) table as it is, real rows and keys "
                          "(repeatable); its parents must be kept too.")(f)
    return click.argument("more", nargs=-1, type=click.Path(), expose_value=False, callback=_keep("more"))(f)


def privacy_options(f: Callable) -> Callable:
    """``--epsilon``, ``--delta``, ``--public-schema``: a differentially private fit (docs/guides/privacy.md)."""
    f = click.option("--public-schema", type=click.Path(dir_okay=False), expose_value=False,
                     callback=_keep("public_schema"), metavar="FILE",
                     help="With --epsilon: a JSON file of categories and bounds known without the data.")(f)
    f = click.option("--delta", type=float, expose_value=False, callback=_keep("delta"),
                     help="With --epsilon: the delta of the guarantee, in (0, 1) [default: 1e-9].")(f)
    return click.option("--epsilon", type=float, expose_value=False, callback=_keep("epsilon"),
                        help="Fit with (epsilon, delta)-differential privacy: samples and the model carry the "
                             "guarantee (docs/guides/privacy.md).")(f)


def _privacy(**used: Any) -> dict[str, Any]:
    """The private fit's Synthesizer parameters; options that it excludes (given as ``used``) are errors."""
    ctx = click.get_current_context()
    used["--backend"] = ctx.get_parameter_source("backend") != click.core.ParameterSource.DEFAULT
    used["--epochs"] = ctx.meta.get("tabsynth.epochs") is not None
    return private_params(ctx.meta.get("tabsynth.epsilon"), ctx.meta.get("tabsynth.delta"),
                          ctx.meta.get("tabsynth.public_schema"), {k.replace("_", "-"): bool(v) for k, v in
                                                                   used.items()})


def _related_args() -> tuple[list[str], list[str], str | None, str | None, list[str]]:
    meta = click.get_current_context().meta
    return (list(meta.get("tabsynth.more") or ()), list(meta.get("tabsynth.relations") or ()),
            meta.get("tabsynth.entity"), meta.get("tabsynth.order"), list(meta.get("tabsynth.keep") or ()))


def _run_related(command: str, input: str, output: str | None, *, backend: str, seed: int | None, params: tuple,
                 na_values: str | None, sep: str | None, quiet: bool, as_json: bool, scale: float | None = None,
                 rows: int | None = None, synthetic_only: bool = True, save_model: str | None = None) -> bool:
    """``fit`` / ``augment`` of several tables or of entity histories; False when the run is a plain table's."""
    more, relations, entity, order, keep = _related_args()
    constant = click.get_current_context().meta.get("tabsynth.constant")
    if not more and entity is None:
        if relations or order or keep or constant:
            raise click.UsageError("--relation and --keep need several input tables, and --order and --constant "
                                   "need --entity")
        return False
    if more and entity is not None:
        raise click.UsageError("--entity applies to one table of histories; give one INPUT (or drop --entity)")
    _privacy(**{"several tables or --entity": True})
    if command == "augment" and not synthetic_only:
        raise click.UsageError("with several tables or --entity, augment writes new tables only: add --synthetic-only")
    if not output:
        raise click.UsageError("give -o: " + ("an output directory for the tables" if more else "an output file"))
    extra = _backend_params(backend, params)
    seed = fresh_seed(seed)
    t0 = time.perf_counter()
    paths = [input, *more]
    plan = _plan({f"INPUT {i + 1}": p for i, p in enumerate(paths)})
    if more:
        tables, formats = read_tables(paths, lambda p: _read(p, na_values, sep))
        model = fit_database(tables, formats, relations, backend, seed, extra, keep=keep)
        n_in = {k: len(v) for k, v in tables.items()}
    else:
        df = _read(input, na_values, sep)
        model = fit_sequences(df, entity, order, backend, seed, extra, constant=constant)
        n_in = {"rows": len(df), "entities": model.n_entities_}
    summary: dict[str, Any] = {"inputs": paths, "backend": backend, "seed": seed, "rows_input": n_in}
    if command == "fit" or save_model:
        target = Path(output if command == "fit" else save_model)
        plan.add(target, "-o" if command == "fit" else "--save-model")
        with plan.writing():
            model.save(plan.stage(target))
        summary["model"] = str(target)
    if command == "augment":
        summary.update(_write_related(plan, model, Path(output), seed, scale, rows))
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    _emit_json(as_json, summary)
    what = f"{len(paths)} tables" if more else f"{n_in['entities']} entities ({n_in['rows']} rows)"
    done = f"saved to {output}" if command == "fit" else f"wrote {output}"
    _say(quiet, as_json, f"fitted {backend} on {what}; {done} in {summary['seconds']:.1f}s")
    return True


def _write_related(plan: Any, model: Any, out: Path, seed: int, scale: float | None, rows: int | None,
                   batch_rows: int = 65536) -> dict:
    """Sample a database (one file per table in directory ``out``, streamed) or histories (one table ``out``)."""
    if isinstance(model, DatabaseSynthesizer):
        if rows is not None:
            raise click.UsageError("a database is sampled by --scale (rows of its tables without parents relative "
                                   "to the fitted ones), not --rows")
        batches = model.sample_batches(1.0 if scale is None else scale, seed=seed, batch_rows=batch_rows)
        paths = plan_tables(plan, out, list(model.order_), model.formats_)
        with plan.writing():
            counts = write_tables(plan, batches, paths)
        return {"output": str(out), "rows_synthetic": counts}
    if scale is not None and rows is not None:
        raise click.UsageError("--rows and --scale are exclusive")
    n = rows if rows is not None else (None if scale is None else max(0, round(model.n_entities_ * scale)))
    df = model.sample(n, seed=seed)
    path = plan.add(out, "-o", _table_check("-o"))
    with plan.writing():
        _write(plan, df, path, None)
    outer = model.entity if isinstance(model.entity, str) else model.entity[0]
    return {"output": str(out), "entities_synthetic": int(df[outer].nunique()), "rows_synthetic": len(df)}


def given_option(f: Callable) -> Callable:
    return click.option("--given", "given", multiple=True, metavar="COL=VALUE[,...]",
                        help="Fix column values in every synthetic row, e.g. \"sex=Female,race=Black\" "
                             "(repeatable); the rest is drawn given them.")(f)


@cli.command()
@click.argument("input", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output table [default: <input>.augmented.<ext>].")
@click.option("--rows", type=click.IntRange(min=0), default=None, help="Number of synthetic rows.")
@click.option("--ratio", type=click.FloatRange(min=0, max=1e6), default=None,
              help="Synthetic rows per input row [default: 1.0].")
@click.option("--synthetic-only", is_flag=True, help="Write only the synthetic rows.")
@click.option("--save-model", type=click.Path(dir_okay=False), help="Also save the fitted model here.")
@click.option("--report", "report", type=click.Path(dir_okay=False),
              help="Also write an HTML evaluation report of the synthetic rows against the input.")
@click.option("--target", metavar="COL",
              help="Class column: synthetic rows keep its class proportions (see --balance); also the report's "
                   "and --check's target.")
@click.option("--balance", is_flag=True, help="With --target: add rows of the smaller classes until every class is "
                                               "as large as the largest.")
@click.option("--class-ratio", type=float, default=None, metavar="R",
              help="With --target: add rows of the smaller classes up to R x the largest class (0 < R <= 1).")
@given_option
@click.option("--check", is_flag=True,
              help="Utility gate (needs --target): hold out 20% of INPUT, fit on the rest, and compare models trained "
                   "with and without the synthetic rows on the held-out rows; exit 3 and write nothing if a score "
                   "drops by more than --tolerance.")
@click.option("--check-models", metavar="MODELS", default=None,
              help="Evaluators of --check, comma-separated [default: logistic_regression,gradient_boosting].")
@click.option("--tolerance", type=float, default=0.01, show_default=True,
              help="Largest drop in held-out score --check allows (ROC-AUC, macro-F1 or R²).")
@fit_rows_option
@fit_passes_option
@cluster_options
@related_options
@privacy_options
@model_options
@output_options
def augment(input, output, rows, ratio, synthetic_only, save_model, report, target, balance, class_ratio, given,
            check, check_models, tolerance, fit_rows, fit_passes, workers, scheduler, backend, seed, na_values, sep,
            categorical, ignore, params, quiet, as_json):
    """Fit a model on INPUT and write it back with synthetic rows appended.

    By default the output holds all input rows, unchanged and in order,
    followed by as many synthetic rows as input rows.

    \b
    Examples:
      tabsynth augment train.csv --target y --balance      # every class as large as the largest
      tabsynth augment train.csv --target y --class-ratio 0.5
      tabsynth augment train.csv --given "sex=Female" --rows 1000
      tabsynth augment train.csv --target y --balance --check   # exit 3 if it hurts held-out scores
      tabsynth augment schools.csv students.csv --synthetic-only -o fake/   # a database
      tabsynth augment wages.csv --entity id --order exper --synthetic-only -o fake.csv  # histories

    With several INPUT tables (a database: a table's name is its file's stem)
    -o is a directory that receives each synthetic table in its input's
    format; --ratio scales the tables without parents. With --entity,
    --rows / --ratio count entities.
    """
    if _run_related("augment", input, output, backend=backend, seed=seed, params=params, na_values=na_values,
                    sep=sep, quiet=quiet, as_json=as_json, scale=ratio, rows=rows, synthetic_only=synthetic_only,
                    save_model=save_model):
        return
    validate("augment", {"rows": rows, "ratio": ratio, "target": target, "balance": balance,
                         "class_ratio": class_ratio, "check": check, "check_models": check_models,
                         "tolerance": tolerance})
    fixed = _parse_given(given)
    dp = _privacy(__target=target, __balance=balance, __class_ratio=class_ratio, __check=check, __report=report,
                  __param=params, __fit_passes=fit_passes, __workers=workers, __scheduler=scheduler,
                  **{"a parquet dataset input": is_dataset(input, fit_rows)})

    on_cluster = _wants_cluster(workers, scheduler)
    plan = _plan({"INPUT": input})
    large = _large_input(input, fit_rows, on_cluster, {"--target": target, "--balance": balance or None,
                                                      "--class-ratio": class_ratio, "--check": check or None,
                                                      "--report": report})
    _passes_need_dataset(fit_passes, large)
    out_path = _planned_output(plan, input, output, "augmented", on_cluster)
    plan.add(save_model, "--save-model")
    plan.add(report, "--report", _html_check)
    extra = _backend_params(backend, params)
    seed = fresh_seed(seed)
    t0 = time.perf_counter()
    if large:
        _augment_dataset(plan, input, out_path, t0, rows=rows, ratio=ratio, synthetic_only=synthetic_only,
                         given=fixed, backend=backend, seed=seed, categorical=categorical, ignore=ignore, extra=extra,
                         fit_rows=fit_rows, workers=workers, scheduler=scheduler, passes=fit_passes,
                         save_model=save_model, quiet=quiet, as_json=as_json)
        return
    df = _read(input, na_values, sep)
    layout = text_layout(df)
    private = Synthesizer(random_state=seed, categorical=_split(categorical), ignore=_split(ignore),
                          verbose=_show_progress(quiet, as_json), **dp).fit(df) if dp else None
    if private is not None:  # rows from the noisy count; no layout detail that depends on the cells
        rows, ratio, layout = private_rows(private.privacy_["rows"], rows, ratio), None, public_layout(layout)
    # synthetic rows are streamed to the output unless --check / --report need them all in memory
    stream = not check and not report
    if not stream and not (balance or class_ratio is not None):
        _check_memory(df, n_synthetic_rows(len(df), rows, ratio) + (0 if synthetic_only else len(df)), "--rows/--ratio")
    try:
        result, info = run_augment(df, rows=rows, ratio=ratio, synthetic_only=synthetic_only, target=target,
                                   balance=balance, class_ratio=class_ratio, given=fixed, check=check,
                                   check_models=_split(check_models), tolerance=tolerance, backend=backend,
                                   seed=seed, categorical=_split(categorical), ignore=_split(ignore),
                                   verbose=_show_progress(quiet, as_json), stream=stream, model=private,
                                   **extra)
    except CheckFailed as e:
        _emit_json(as_json, {"input": str(input), "output": None, "check": e.report})
        click.echo(f"error: {e}", err=True)
        sys.exit(3)
    _write_augmented(plan, df, layout, result, info, out_path, stream=stream, synthetic_only=synthetic_only,
                     target=target, report=report, save_model=save_model, quiet=quiet, as_json=as_json)
    _augment_summary(input, out_path, df, info, t0, backend=backend, seed=seed, save_model=save_model, report=report,
                     target=target, synthetic_only=synthetic_only, quiet=quiet, as_json=as_json)


def _augment_dataset(plan: Any, input: str, out_path: Path, t0: float, *, rows: int | None, ratio: float | None,
                     synthetic_only: bool, given: dict, backend: str, seed: int, categorical: str | None,
                     ignore: str | None, extra: dict, fit_rows: int, workers: int | None, scheduler: str | None,
                     passes: int, save_model: str | None, quiet: bool, as_json: bool) -> None:
    """``augment`` of a parquet dataset (or on a cluster): :func:`tabsynth._large.run_augment`, then the summary."""
    done = run_large_augment(plan, input, out_path, rows=rows, ratio=ratio, synthetic_only=synthetic_only,
                             given=given, backend=backend, seed=seed, categorical=_split(categorical),
                             ignore=_split(ignore), extra=extra, fit_rows=fit_rows, workers=workers,
                             scheduler=scheduler, progress=_show_progress(quiet, as_json), passes=passes)
    if save_model:
        with plan.writing():
            done["model"].save(plan.stage(Path(save_model)))
    seconds = time.perf_counter() - t0
    _emit_json(as_json, {"input": str(input), "output": str(out_path), "rows_input": done["rows_input"],
                         "rows_synthetic": done["rows_synthetic"], "rows_output": done["rows_output"],
                         "rows_fitted": done["rows_fitted"], "backend": backend, "seed": seed,
                         "seconds": round(seconds, 3), "model": save_model, "given": given or None})
    _say(quiet, as_json, f"wrote {done['rows_output']} rows ({done['rows_output'] - done['rows_synthetic']} input "
                         f"+ {done['rows_synthetic']} synthetic; model fitted on {done['rows_fitted']} sampled "
                         f"rows) to {out_path} in {seconds:.1f}s")


def _write_augmented(plan: Any, df: pd.DataFrame, layout: dict | None, result: Any, info: dict, out_path: Path, *,
                     stream: bool, synthetic_only: bool, target: str | None, report: str | None,
                     save_model: str | None, quiet: bool, as_json: bool) -> None:
    """Write the augmented table (streamed or whole), the --report and the --save-model file, all or nothing."""
    kept = 0 if synthetic_only else len(df)
    with plan.writing():
        if report:
            synthetic = result.iloc[kept:].reset_index(drop=True)
            _write_evaluation(df, synthetic, None, target, None, plan.stage(Path(report)), quiet or as_json,
                              note="synthetic rows of 'tabsynth augment' against its input; the holdout part was "
                                   "seen by the generator, so utility and privacy figures are optimistic")
        if stream:
            write_stream(plan, result, out_path, layout, kept + info["rows"], _show_progress(quiet, as_json))
        else:
            _write(plan, result, out_path, layout)
        if save_model:
            info["model"].save(plan.stage(Path(save_model)))


def _augment_summary(input: str, out_path: Path, df: pd.DataFrame, info: dict, t0: float, *, backend: str, seed: int,
                     save_model: str | None, report: str | None, target: str | None, synthetic_only: bool,
                     quiet: bool, as_json: bool) -> None:
    """``augment``'s --json document, or its lines on stdout: the check, the rows per class, what was written."""
    seconds = time.perf_counter() - t0
    kept = 0 if synthetic_only else len(df)
    n_new = info["rows"]
    per_class = None if info["per_class"] is None else {str(k): v for k, v in info["per_class"].items()}
    doc = {"input": str(input), "output": str(out_path), "rows_input": len(df), "rows_synthetic": n_new,
           "rows_output": kept + n_new, "backend": backend, "seed": seed, "seconds": round(seconds, 3),
           "model": save_model, "report": report, "target": target, "rows_per_class": per_class,
           "given": info["given"] or None, "check": info["check"],
           "privacy": getattr(info["model"], "privacy_", None)}
    _emit_json(as_json, doc)
    if info["check"] is not None and not quiet and not as_json:
        rep = info["check"]
        click.echo(f"check passed (held-out {rep['metric']}, tolerance {rep['tolerance']:g}): " + "; ".join(
            f"{name} {m['real']:.4f} -> {m['augmented']:.4f} ({m['change']:+.4f})"
            for name, m in rep["models"].items()))
    if per_class and not quiet and not as_json:
        click.echo("synthetic rows per class: " + ", ".join(f"{k}: {v}" for k, v in per_class.items()))
    _say(quiet, as_json,
         f"wrote {kept + n_new} rows ({kept} input + {n_new} synthetic) to {out_path} in {seconds:.1f}s")


@cli.command()
@click.argument("input", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Model file to write.")
@click.option("--target", metavar="COL", default=None,
              help="A class column models will be trained to predict from the synthetic rows: trees draw it first, "
                   "gmm fits a mixture per class; with --epsilon every column's measured table holds it.")
@fit_rows_option
@fit_passes_option
@related_options
@privacy_options
@model_options
@output_options
def fit(input, output, target, fit_rows, fit_passes, backend, seed, na_values, sep, categorical, ignore, params, quiet,
        as_json):
    """Fit a model on INPUT and save it to OUTPUT (a zip of JSON and arrays).

    INPUT may be a parquet dataset larger than memory (a directory of
    parquet files, or a parquet file with more than --fit-rows rows): it is
    read once, batch by batch, and the model is fitted on a seeded sample.
    Several INPUT tables are fitted as one database (relations found or
    given by --relation); --entity fits entities and their histories.
    """
    if _run_related("fit", input, output, backend=backend, seed=seed, params=params, na_values=na_values, sep=sep,
                    quiet=quiet, as_json=as_json):
        return

    plan = _plan({"INPUT": input})
    plan.add(output, "-o")
    large = is_dataset(input, fit_rows)
    dp = _privacy(__param=params, __fit_passes=fit_passes, **{"a parquet dataset input": large})
    extra = {**_backend_params(backend, params), **dp}
    seed = fresh_seed(seed)
    t0 = time.perf_counter()
    _passes_need_dataset(fit_passes, large)
    if large:

        model = fit_model(input, fit_rows, backend, seed, _split(categorical), _split(ignore), extra,
                          _show_progress(quiet, as_json), fit_passes, target)
        n_rows = model.dataset_rows_
    else:
        df = _read(input, na_values, sep)
        model = _fit_model(df, backend, seed, categorical, ignore, extra, _show_progress(quiet, as_json), target)
        n_rows = len(df)
    with plan.writing():
        model.save(plan.stage(Path(output)))
    seconds = time.perf_counter() - t0
    summary = {"input": str(input), "model": str(output), "rows": n_rows, "backend": backend, "seed": seed,
               "seconds": round(seconds, 3)}
    if fit_passes:
        summary["pass_log_likelihoods"] = [round(v, 6) for v in model.pass_log_likelihoods_]
    if dp:
        summary["privacy"] = model.privacy_
    _emit_json(as_json, summary)
    _say(quiet, as_json, f"fitted {backend} on {n_rows} rows, saved to {output} in {seconds:.1f}s")


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--rows", type=click.IntRange(min=0), default=None,
              help="Number of rows to generate (entities, for a model of histories); needed for a table's model.")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Database and history models: rows of the tables without parents (entities) relative to the "
                   "fitted ones [default: 1].")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Output table (a directory for a database model: one file per table).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Random seed: same seed, same output [default: a fresh seed, reported by --json].")
@given_option
@click.option("--batch-rows", type=click.IntRange(min=1), default=65536, show_default=True,
              help="Rows drawn and written at a time (parquet row group size); memory grows with it, not with --rows.")
@cluster_options
@output_options
def sample(model, rows, output, seed, given, batch_rows, workers, scheduler, scale, quiet, as_json):
    """Generate ROWS synthetic rows from a saved MODEL.

    Rows are written in batches as they are drawn (parquet row groups, CSV /
    JSON lines appends, Arrow record batches): memory does not grow with
    ROWS. The file appears only when complete; an interrupted run leaves
    nothing behind. Row i depends only on the seed and i. A database model
    writes each table into the directory -o (same names and formats as its
    inputs); a model of histories writes --rows (or --scale) entities.
    """
    kind = model_kind(model) if Path(model).is_file() else "table"
    if kind != "table":
        if given or workers or scheduler:
            raise click.UsageError("--given, --workers and --scheduler apply to a table's model")
        plan = _plan({"MODEL": model})
        seed = fresh_seed(seed)
        t0 = time.perf_counter()
        loaded = DatabaseSynthesizer.load(model) if kind == "database" else SequenceSynthesizer.load(model)
        summary = {"model": str(model), "seed": seed,
                   **_write_related(plan, loaded, Path(output), seed, scale, rows, batch_rows)}
        summary["seconds"] = round(time.perf_counter() - t0, 3)
        _emit_json(as_json, summary)
        _say(quiet, as_json, f"wrote {output} in {summary['seconds']:.1f}s")
        return
    if rows is None:
        raise click.UsageError("give --rows: the number of rows to generate")
    if scale is not None:
        raise click.UsageError("--scale applies to database and history models; give --rows")


    fixed = _parse_given(given)
    on_cluster = _wants_cluster(workers, scheduler)
    plan = _plan({"MODEL": model})
    out_path = plan_directory(output, {"MODEL": model}) if on_cluster else plan.add(output, "-o", _table_check("-o"))
    seed = fresh_seed(seed)
    t0 = time.perf_counter()
    m = Synthesizer.load(model)
    fixed = given_values(m.schema_, fixed) if fixed else {}
    if on_cluster:
        run_sample_cluster(m, rows, out_path, seed, fixed or None, workers, scheduler)
        seconds = time.perf_counter() - t0
        _emit_json(as_json, {"model": str(model), "output": str(out_path), "rows": rows, "seed": seed,
                             "seconds": round(seconds, 3), "rows_per_second": round(rows / max(seconds, 1e-9))})
        _say(quiet, as_json, f"wrote {rows} synthetic rows to the parquet dataset {out_path} in {seconds:.1f}s")
        return
    _check_disk(m, rows, out_path, fixed)
    batches = (m.sample_batches(rows, seed=seed, given=fixed or None, batch_size=batch_rows) if rows
               else iter([m.sample(0, seed=seed)]))
    with plan.writing():
        write_stream(plan, batches, out_path, m.text_layout_, rows, _show_progress(quiet, as_json))
    seconds = time.perf_counter() - t0
    _emit_json(as_json, {"model": str(model), "output": str(out_path), "rows": rows, "seed": seed,
                         "seconds": round(seconds, 3), "rows_per_second": round(rows / max(seconds, 1e-9))})
    _say(quiet, as_json, f"wrote {rows} synthetic rows to {out_path} in {seconds:.1f}s")


@cli.command()
@click.argument("input", type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output table (default: <input stem>.imputed.<ext>).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Fill with a model saved by 'tabsynth fit' instead of fitting one on INPUT.")
@click.option("--save-model", type=click.Path(dir_okay=False), help="Also save the model fitted on INPUT.")
@click.option("--columns", "only", metavar="COLS",
              help="Comma-separated columns to fill; the holes of other columns are left as they are.")
@click.option("--draws", type=click.IntRange(min=1), default=10, show_default=True,
              help="Draws per missing cell averaged by --strategy mean.")
@click.option("--strategy", type=click.Choice(["refine", "mean", "sample"]), default="refine", show_default=True,
              help="refine: a mixture proposes each cell, per-column gradient boosting corrects it (best single "
                   "guess); mean: average of generative draws; sample: one draw (keeps the spread).")
@click.option("--multiple", type=int, metavar="M",
              help="Multiple imputation: write M completed copies of INPUT, one under the other, with an "
                   "'_imputation' column (0..M-1) in front; each copy is drawn from a model refitted on a "
                   "bootstrap sample of INPUT. Analyse each copy and pool with Rubin's rules.")
@click.option("--fill-structural", is_flag=True,
              help="Also fill cells whose missingness a rule of the table explains (a column missing in every "
                   "row where another has certain values, e.g. a cause of death for people alive); by default "
                   "they stay missing and --json counts them as cells_structural.")
@fit_rows_option
@cluster_options
@model_options
@output_options
def impute(input, output, model_path, save_model, only, draws, strategy, fit_rows, workers, scheduler, backend, seed,
           na_values, sep, categorical, ignore, params, quiet, as_json, multiple, fill_structural):
    """Fill the missing cells of INPUT: a model of the table proposes, per-column models correct.

    Known cells are kept exactly as they are. By default (--strategy refine)
    each missing cell gets its best single guess: a mixture model's
    prediction from the rest of the row, corrected by a gradient boosting
    model of that column fitted on INPUT. --strategy mean / sample use the
    generative model alone (average of draws / one draw). Fit on INPUT
    itself (default) or use a generative model fitted earlier (--model).
    Filled cells keep the rules that hold in every row of the fitted table;
    a cell that such a rule wants missing (structural) stays missing unless
    --fill-structural.
    """


    backend_given = click.get_current_context().get_parameter_source("backend").name != "DEFAULT"
    if model_path and (save_model or backend_given or params or categorical or ignore
                       or click.get_current_context().meta.get("tabsynth.epochs")):
        raise click.UsageError("--model uses a fitted model: --save-model, --backend, --param, --epochs, "
                               "--categorical and --ignore apply only when fitting")
    if multiple is not None:
        validate("GenerativeImputer.sample_imputations", {"m": multiple})
    if multiple is not None and click.get_current_context().get_parameter_source("strategy").name != "DEFAULT":
        raise click.UsageError("--multiple draws every missing cell from a bootstrap-refitted model; "
                               "--strategy applies to a single imputation: drop one of them")
    on_cluster = _wants_cluster(workers, scheduler)
    plan = _plan({"INPUT": input, "--model": model_path})
    large = _large_input(input, fit_rows, on_cluster, {"--multiple": multiple})
    out_path = _planned_output(plan, input, output, "imputed", on_cluster)
    plan.add(save_model, "--save-model")
    extra = {} if model_path else _backend_params(backend, params)
    seed = fresh_seed(seed)
    t0 = time.perf_counter()
    # --multiple refits its refinement on bootstrap samples: the single-guess one is not fitted
    imp_params = {"n_draws": draws, "strategy": "sample" if multiple else strategy, "random_state": seed,
                  "fill_structural": fill_structural}

    imputer_for = _imputer_factory(model_path, imp_params, backend=backend, categorical=categorical, ignore=ignore,
                                   extra=extra, verbose=_show_progress(quiet, as_json))
    if large:
        _impute_dataset(plan, input, out_path, t0, imputer_for=imputer_for, only=only, seed=seed, fit_rows=fit_rows,
                        workers=workers, scheduler=scheduler, save_model=save_model, model_path=model_path,
                        strategy=strategy, draws=draws, quiet=quiet, as_json=as_json)
        return
    df = _read(input, na_values, sep)
    layout = text_layout(df)
    if multiple is not None and MI_COLUMN in [str(c) for c in df.columns]:
        raise click.UsageError(f"INPUT already has a column named '{MI_COLUMN}', which --multiple adds; "
                               "rename that column first")
    if only is not None:
        only = check_columns(df, _split(only) or [], "--columns")
        if not only:
            raise click.BadParameter("give at least one column name", param_hint="--columns")
    imputer = imputer_for(df)
    unseen = imputer.synthesizer_.unseen_cells(df)
    tables, filled = _imputed_tables(imputer, df, only, multiple)
    with plan.writing():
        _write(plan, filled, out_path, layout)
        if save_model:
            imputer.synthesizer_.save(plan.stage(Path(save_model)))
    _impute_summary(input, out_path, df, tables, filled, imputer, unseen, t0, model=model_path or save_model,
                    strategy=strategy, multiple=multiple, draws=draws, seed=seed, fill_structural=fill_structural,
                    quiet=quiet, as_json=as_json)


def _imputer_factory(model_path: str | None, imp_params: dict, *, backend: str, categorical: str | None,
                     ignore: str | None, extra: dict, verbose: bool) -> Callable[[pd.DataFrame], GenerativeImputer]:
    """``imputer_for(frame)``: the imputer fitted on ``frame`` (INPUT, or a dataset's sample), or around --model."""

    def imputer_for(frame: pd.DataFrame) -> GenerativeImputer:
        if model_path:
            # the refinement learns from INPUT itself (model files hold the generative part)
            return GenerativeImputer.from_synthesizer(Synthesizer.load(model_path), frame, **imp_params)
        return GenerativeImputer(backend, categorical=_split(categorical), ignore=_split(ignore),
                                 backend_params=extra or None, verbose=verbose, **imp_params).fit(frame)

    return imputer_for


def _impute_dataset(plan: Any, input: str, out_path: Path, t0: float, *, imputer_for: Callable, only: str | None,
                    seed: int, fit_rows: int, workers: int | None, scheduler: str | None, save_model: str | None,
                    model_path: str | None, strategy: str, draws: int, quiet: bool, as_json: bool) -> None:
    """``impute`` of a parquet dataset (or on a cluster): :func:`tabsynth._large.run_impute`, then the summary."""
    done = run_impute(plan, input, out_path, imputer_for=imputer_for, only=_split(only), seed=seed,
                      fit_rows=fit_rows, workers=workers, scheduler=scheduler,
                      progress=_show_progress(quiet, as_json))
    if save_model:
        with plan.writing():
            done["imputer"].synthesizer_.save(plan.stage(Path(save_model)))
    seconds = time.perf_counter() - t0
    _emit_json(as_json, {"input": str(input), "output": str(out_path), "rows": done["rows"],
                         "rows_fitted": done["rows_fitted"], "cells_filled": done["filled"],
                         "cells_left_missing": done["left"], "cells_structural": done["structural"],
                         "cells_unseen": done["unseen"],
                         "model": model_path or save_model, "strategy": strategy, "imputations": 1,
                         "draws": draws, "seed": seed, "seconds": round(seconds, 3)})
    filled_note = f"filled {sum(done['filled'].values())} missing cells in" if done["filled"] is not None \
        else "filled"
    _say(quiet, as_json, f"{filled_note} {done['rows']} rows (model fitted on {done['rows_fitted']} sampled "
                         f"rows), wrote {out_path} in {seconds:.1f}s")


def _imputed_tables(imputer: GenerativeImputer, df: pd.DataFrame, only: list[str] | None,
                    multiple: int | None) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """The completed tables (one, or --multiple), holes outside --columns kept; and the table to write."""
    tables = imputer.sample_imputations(df, multiple) if multiple else [imputer.transform(df)]
    for filled in tables:
        if only is not None:  # other columns keep their holes
            for c in df.columns:
                if str(c) not in only:
                    filled[c] = df[c]
    if not multiple:
        return tables, tables[0]
    filled = pd.concat([t.reset_index(drop=True) for t in tables], ignore_index=True)
    filled.insert(0, MI_COLUMN, np.repeat(np.arange(multiple, dtype="int64"), len(df)))
    return tables, filled


def _impute_summary(input: str, out_path: Path, df: pd.DataFrame, tables: list[pd.DataFrame], filled: pd.DataFrame,
                    imputer: GenerativeImputer, unseen: dict, t0: float, *, model: str | None, strategy: str,
                    multiple: int | None, draws: int, seed: int, fill_structural: bool, quiet: bool,
                    as_json: bool) -> None:
    """``impute``'s --json document, or its line on stdout: cells filled, left, structural, unseen."""
    seconds = time.perf_counter() - t0
    before, after = df.isna().sum(), tables[0].isna().sum()
    cells = {str(c): int(before[c] - after[c]) for c in df.columns if before[c] - after[c] > 0}
    left = {str(c): int(after[c]) for c in df.columns if after[c] > 0}
    structural = imputer.structural_cells(df, tables[0])
    _emit_json(as_json, {"input": str(input), "output": str(out_path), "rows": len(df), "cells_filled": cells,
                         "cells_left_missing": left, "cells_structural": structural, "cells_unseen": unseen,
                         "model": model, "strategy": "multiple" if multiple else strategy,
                         "imputations": multiple or 1, "draws": draws, "seed": seed, "seconds": round(seconds, 3)})
    note = ""
    if structural:
        what = "filled (--fill-structural)" if fill_structural else "left empty"
        note += (f"; {sum(structural.values())} structural cells {what}, missing where a rule of the table says "
                 f"they cannot exist: " + ", ".join(f"{c} ({k})" for c, k in structural.items()))
    rest = sum(left.values()) - (0 if fill_structural else sum(structural.values()))
    if rest > 0:
        note += f"; {rest} cells left empty (unmodelled columns or not in --columns)"
    if not cells:
        note += "; INPUT had no missing cells to fill, so the output is a copy of it"
    if unseen:
        note += (f"; {sum(unseen.values())} known cells held values the model never saw (kept as they are, "
                 f"treated as unknown): " + ", ".join(f"{c} ({k})" for c, k in unseen.items()))
    copies = f" x {multiple} imputations ({len(filled)} rows, column '{MI_COLUMN}')" if multiple else ""
    _say(quiet, as_json, f"filled {sum(cells.values())} missing cells in {len(df)} rows{copies}, wrote {out_path} "
                         f"in {seconds:.1f}s{note}")


@cli.command()
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@read_options
@click.option("--categorical", metavar="COLS", help="Comma-separated columns to treat as categorical.")
@click.option("--ignore", metavar="COLS", help="Comma-separated columns to leave out.")
@click.option("--json", "as_json", is_flag=True, help="Print the schema as JSON.")
def inspect(inputs, na_values, sep, categorical, ignore, as_json):
    """Show the schema tabsynth infers for INPUT, and the rules that hold in every row of it.

    The rules (allowed combinations of two columns, a number equal to another
    plus a constant) are found without being declared and kept in every row
    a model fitted on INPUT generates or fills.

    Several tables (a database; each named by its file's stem): each table's
    schema and rules, then the relations found between them (a unique,
    complete key column that another table's column draws its values from),
    which `tabsynth fit T1 T2 ...` uses unless --relation declares them.
    """

    _plan({f"INPUT {i + 1}" if len(inputs) > 1 else "INPUT": p for i, p in enumerate(inputs)})
    if len(inputs) == 1:
        df = _read(inputs[0], na_values, sep)
        schema, rules = _inspect_table(df, categorical, ignore)
        if as_json:
            click.echo(json.dumps({**schema.to_dict(), "rules": rules}, indent=2, default=str))
        else:
            _show_table(inputs[0], df, schema, rules)
        return
    tables, _ = read_tables(list(inputs), lambda path: _read(path, na_values, sep))
    found = {name: _inspect_table(df, categorical, ignore) for name, df in tables.items()}
    relations = [str(r) for r in infer_relations(tables)]
    if as_json:
        docs = {name: {**schema.to_dict(), "rules": rules} for name, (schema, rules) in found.items()}
        click.echo(json.dumps({"tables": docs, "relations": relations}, indent=2, default=str))
        return
    for (name, df), path in zip(tables.items(), inputs):
        _show_table(f"{path} (table {name!r})", df, *found[name])
        click.echo("")
    click.echo(f"relations found (child.column=parent.key): {len(relations) or 'none'}")
    for rel in relations:
        click.echo(f"  {rel}")
    if not relations:
        click.echo("  declare them with --relation child.col=parent.col when fitting")


def _inspect_table(df: pd.DataFrame, categorical: str | None, ignore: str | None) -> tuple[Any, list[str]]:
    """A table's inferred schema and the rules that hold in every row (in words)."""
    schema = infer_schema(df, categorical=_split(categorical), ignore=_split(ignore))
    return schema, find_rules(df, schema).describe()


def _show_table(label: str, df: pd.DataFrame, schema: Any, rules: list[str]) -> None:
    click.echo(f"{label}: {len(df)} rows, {df.shape[1]} columns")
    click.echo(schema.to_frame().to_string(index=False))
    shown = 40
    click.echo(f"\nrules that hold in every row (kept in generated and filled rows): {len(rules) or 'none found'}")
    for line in rules[:shown]:
        click.echo(f"  {line if len(line) <= 160 else line[:157] + '...'}")
    if len(rules) > shown:
        click.echo(f"  ... and {len(rules) - shown} more (--json lists them all)")


def evaluation_progress(show: bool) -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    """``(progress, close)`` for :func:`tabsynth.evaluate.evaluate`: a bar of its finished jobs on stderr, or nothing.

    Examples
    --------
    >>> progress, close = evaluation_progress(False)
    >>> progress is None
    True
    """
    if not show:
        return None, lambda: None
    bars: list[Any] = []

    def progress(step: str, done: int, total: int) -> None:
        if step != "evaluating":  # the first section's start and "done" carry no count of jobs
            return
        if not bars:
            bars.append(tqdm(total=total, desc="evaluating", unit="job", leave=False))
        bars[0].n = done
        bars[0].refresh()

    def close() -> None:
        for bar in bars:
            bar.close()

    return progress, close


def _write_evaluation(real, synthetic, holdout, target, json_out, report, quiet, note=None, histories=None) -> dict:
    """Evaluate; write JSON (a staged path, or "-" for stdout) and the HTML report (a staged path).

    ``histories``: ``{"entity": ..., "order": ...}`` adds the sequence measures (``result["sequences"]``).
    """

    progress, close = evaluation_progress(_show_progress(quiet, json_out == "-"))
    try:
        result = run_evaluate(real, synthetic, holdout=holdout, target=target, progress=progress)
    finally:
        close()
    if histories:
        result["sequences"] = evaluate_sequences(real, synthetic, **histories)
    if note:
        result.setdefault("meta", {})["note"] = note
    if json_out:
        text = json.dumps(result, indent=2, default=str)
        if json_out == "-":
            click.echo(text)
        else:
            Path(json_out).write_text(text)
    if report:

        write_report(result, real, synthetic, report)
    if not quiet and json_out != "-":
        click.echo(summary_table(result))
        if histories:
            click.echo(sequence_summary(result["sequences"]))
    return result


@cli.command()
@click.option("--real", "real_path", required=True, type=click.Path(),
              help="The real table, or a directory of a database's tables (one file per table).")
@click.option("--synthetic", "syn_path", required=True, type=click.Path(),
              help="The synthetic table, or a directory with the same tables.")
@click.option("--holdout", "holdout_path", type=click.Path(dir_okay=False),
              help="Real rows the generator never saw [default: a stratified 20% split of --real].")
@click.option("--target", metavar="COL", help="Target column: enables utility and feature-selection checks.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), metavar="OUT",
              help="Write the full results as JSON to OUT ('-' for stdout).")
@click.option("--report", type=click.Path(dir_okay=False), metavar="OUT.html", help="Write an HTML report.")
@click.option("--relation", "relations", multiple=True, metavar="CHILD.COL=PARENT.COL",
              help="Databases: a foreign key (repeatable); found from names and values when not given.")
@click.option("--entity", metavar="COL", help="Histories: the entity column; adds the sequence measures.")
@click.option("--order", metavar="COL", help="With --entity: the column that orders each entity's rows.")
@read_options
@threads_option
@click.option("--quiet", "-q", is_flag=True, help="No summary on stdout.")
def evaluate(real_path, syn_path, holdout_path, target, json_out, report, relations, entity, order, na_values, sep,
             quiet):
    """Score a synthetic table against the real one: fidelity, utility, detection, privacy.

    Without --holdout, the real table is split 80/20 (stratified on the
    target for classification, random_state=0): models are trained on the
    80% and on the synthetic table and tested on the 20%.

    Databases: --real and --synthetic are directories holding the same
    tables (one file each, named by table); scored are key integrity,
    children per parent, parent-child trends, joined-row detection and each
    table's fidelity.

    Histories (--entity, --order): the sequence measures are added (entity
    columns constant, order kept, lengths, lag-1 autocorrelation and mean
    step per number, detection of whole histories from per-entity summaries).

    The work (each utility fit, each other section) runs on the idle cores,
    in helper processes too; on a terminal a bar counts the finished jobs
    (not with --quiet, --json - or when stderr is piped).
    """
    if Path(real_path).is_dir() or Path(syn_path).is_dir():
        _evaluate_database(real_path, syn_path, list(relations), json_out, report, na_values, sep, quiet)
        return
    if relations:
        raise click.UsageError("--relation applies to databases: give --real and --synthetic as directories")
    if order and not entity:
        raise click.UsageError("--order needs --entity")
    plan = _plan({"--real": real_path, "--synthetic": syn_path, "--holdout": holdout_path})
    if json_out != "-":
        plan.add(json_out, "--json")
    plan.add(report, "--report", _html_check)
    real = _read(real_path, na_values, sep)
    synthetic = _read(syn_path, na_values, sep)
    holdout = _read(holdout_path, na_values, sep) if holdout_path else None
    histories = None
    if entity:
        ids = entity_columns(entity)
        for option, names in (("--entity", [ids] if isinstance(ids, str) else ids), ("--order", [order])):
            if names != [None]:
                check_columns(real, names, option)
                check_columns(synthetic, names, option)
        histories = {"entity": ids, "order": order}
    with plan.writing():
        _write_evaluation(real, synthetic, holdout, target,
                          plan.stage(Path(json_out)) if json_out and json_out != "-" else json_out,
                          plan.stage(Path(report)) if report else None, quiet, histories=histories)


def _evaluate_database(real_dir: str, syn_dir: str, relations: list[str], json_out: str | None, report: str | None,
                       na_values: str | None, sep: str | None, quiet: bool) -> None:
    """``tabsynth evaluate`` on two directories of tables: :func:`evaluate_database` with joined-row detection."""
    for option, path in (("--real", real_dir), ("--synthetic", syn_dir)):
        if not Path(path).is_dir():
            raise InputError(f"{option} {path}: a database is evaluated from two directories of tables; "
                             "give both --real and --synthetic as directories")
    plan = _plan({})
    if json_out and json_out != "-":
        plan.add(json_out, "--json")
    plan.add(report, "--report", _html_check)
    real, _ = read_tables(table_files(real_dir), lambda p: _read(p, na_values, sep))
    synthetic, _ = read_tables(table_files(syn_dir), lambda p: _read(p, na_values, sep))
    missing = sorted(set(real) - set(synthetic))
    if missing or not real:
        raise InputError(f"--synthetic {syn_dir}: no table {', '.join(map(repr, missing))} (the real directory's "
                         "tables, by file name)" if missing else f"--real {real_dir}: no table files in it")
    rels = [Relation.parse(r) for r in relations] if relations else infer_relations(real)
    check_relations(real, rels)
    result = {"relations_used": [str(r) for r in rels],
              **evaluate_database(real, {k: synthetic[k] for k in real}, rels, detection=True)}
    with plan.writing():
        if json_out:
            text = json.dumps(result, indent=2, default=str)
            click.echo(text) if json_out == "-" else plan.stage(Path(json_out)).write_text(text)
        if report:
            write_database_report(result, real, synthetic, plan.stage(Path(report)))
    if not quiet and json_out != "-":
        click.echo(database_summary(result))


@cli.command()
@click.option("-o", "--output", default="example.csv", show_default=True, type=click.Path(dir_okay=False),
              help="Where to write the example table (any supported format).")
def example(output):
    """Write a small real example table (scikit-learn's diabetes study, mixed types)."""

    plan = _plan({})
    out_path = plan.add(output, "-o", _table_check("-o"))
    df = load_example()
    with plan.writing():
        _write(plan, df, out_path, None)
    click.echo(f"wrote the example table ({len(df)} rows, {df.shape[1]} columns) to {output}")


def _available_memory() -> int | None:
    """Bytes this process can still allocate: the least of free RAM, a cgroup limit and an address-space limit."""
    import resource

    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for path, used in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                       ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            raw = Path(path).read_text().strip()
            if raw != "max" and int(raw) < 2**60:
                limits.append(int(raw) - int(Path(used).read_text().strip()))
            break
        except (OSError, ValueError):
            continue
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            with open("/proc/self/status") as f:
                vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
            limits.append(soft - vm)
        except (OSError, StopIteration):
            limits.append(soft)
    return max(min(limits), 0) if limits else None


def _row_bytes(obj) -> int:
    """Rough peak bytes per generated row: the output table, the encoded blocks and the backend's work arrays."""

    if isinstance(obj, pd.DataFrame):
        kinds = [t.kind if hasattr(t, "kind") else "O" for t in obj.dtypes]
    else:  # a fitted Synthesizer

        kinds = [getattr(make_dtype(d), "kind", "O") for d in obj.dtypes_]
    out = sum(8 if k in "iufbmM" else 64 for k in kinds)
    return 6 * out + 256


def _check_disk(model, rows: int, path: Path, fixed: dict) -> None:
    """Refuse up front a streamed output that cannot fit on its disk (measured on 4,096 rows in its format)."""


    if rows <= 100_000:
        return
    directory = path.parent if str(path.parent) else Path(".")
    free = shutil.disk_usage(directory).free
    probe_rows = 4096
    with tempfile.TemporaryDirectory(prefix="tabsynth-") as tmp:
        probe = Path(tmp) / ("probe" + "".join(path.suffixes[-2:]))
        with TableWriter(probe, like=path, layout=model.text_layout_) as writer:
            writer.write(next(model.sample_batches(probe_rows, seed=0, given=fixed or None)))
        per_row = probe.stat().st_size / probe_rows
    need = rows * per_row
    if need > free:
        raise click.BadParameter(
            f"{rows} rows need about {need / 2**30:.1f} GiB on disk in '{directory}' and {free / 2**30:.1f} GiB "
            f"is free; ask for at most about {int(free // per_row)} rows, or write elsewhere", param_hint="--rows")


def _check_memory(obj, rows: int, option: str) -> None:
    """Refuse up front a run that cannot fit in memory, with the estimate."""
    need = rows * _row_bytes(obj)
    have = _available_memory()
    if have is not None and need > have:
        fit_rows = max(have // _row_bytes(obj), 1)
        raise click.BadParameter(
            f"{rows} rows need about {need / 2**30:.1f} GiB of memory and {have / 2**30:.1f} GiB is available; "
            f"ask for at most about {fit_rows} rows per run", param_hint=option)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and exit code 2.

    SIGTERM / SIGHUP end the run like Ctrl-C: staged outputs are removed and
    nothing partial is left (exit code 128 + the signal number).
    """

    install_signal_handlers()
    # Threads that spin while they wait cost 10-20x on a machine whose cores are busy;
    # let them sleep instead (read by OpenMP when it starts, so before numpy/torch load).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        rv = cli.main(args=argv, prog_name="tabsynth", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        msg = " ".join(e.format_message().split())
        click.echo(f"error: {msg} (see 'tabsynth --help')", err=True)
        sys.exit(2)
    except TabsynthError as e:
        msg = e.render(flag) if isinstance(e, ParameterError) else str(e)
        click.echo(f"error: {' '.join(msg.split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        cleanup_temps()
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Terminated as e:
        cleanup_temps()
        click.echo("error: terminated by a signal; nothing was written", err=True)
        sys.exit(128 + e.signum)
    except MemoryError:
        cleanup_temps()
        click.echo("error: out of memory; use fewer rows (--rows) or a smaller table, nothing was written", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
