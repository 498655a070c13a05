"""The ``tabsynth`` command line: io -> estimator -> io.

Every user mistake ends as one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

from ._version import __version__
from .errors import TabsynthError


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


def _read(path: str, na_values: str | None):
    from .io import read_table

    return read_table(path, na_values=_split(na_values))


def default_output(input_path: str | Path, tag: str = "augmented") -> Path:
    """``data.parquet`` -> ``data.augmented.parquet`` (``.gz`` kept last)."""
    p = Path(input_path)
    suffixes = p.suffixes
    ext = suffixes[-1] if suffixes else ""
    if ext.lower() == ".gz" and len(suffixes) > 1:
        ext = suffixes[-2] + ext
    stem = p.name[: len(p.name) - len(ext)] if ext else p.name
    return p.with_name(f"{stem}.{tag}{ext}")


def _check_output(output: Path, *inputs: str, models: tuple[str, ...] = ()) -> None:
    """Check the output's format, and that it overwrites no input (tables or model files)."""
    from .io import table_format

    for i in inputs:
        table_format(i)
    table_format(output)
    inputs = inputs + tuple(models)
    for i in inputs:
        if Path(i).resolve() == output.resolve():
            raise click.BadParameter(f"output '{output}' is the input file; choose another path", param_hint="-o")


# ------------------------------------------------------------------ options
def model_options(f: Callable) -> Callable:
    """Options shared by commands that fit a model."""
    f = click.option("--epochs", type=click.IntRange(min=1), expose_value=False,
                     callback=lambda ctx, _p, v: ctx.meta.__setitem__("tabsynth.epochs", v),
                     help="Training epochs of a neural backend (vae, gan); default: automatic.")(f)
    f = click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                     help="Backend parameter, repeatable (e.g. --param n_components=20).")(f)
    f = click.option("--ignore", metavar="COLS", help="Comma-separated columns not to model (left empty in synthetic rows).")(f)
    f = click.option("--categorical", metavar="COLS", help="Comma-separated columns to treat as categorical.")(f)
    f = click.option("--na-values", metavar="STRS", help='Comma-separated strings meaning "missing" in CSV input (e.g. "?").')(f)
    f = click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed: same seed, same output.")(f)
    f = click.option("--backend", default="gmm", show_default=True, help="Generative backend.")(f)
    return f


def output_options(f: Callable) -> Callable:
    f = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary on stdout.")(f)
    f = click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")(f)
    return f


def _fit_model(df, backend, seed, categorical, ignore, params, verbose):
    from .synthesizer import Synthesizer

    extra = _parse_params(params)
    epochs = click.get_current_context().meta.get("tabsynth.epochs")
    if epochs is not None:
        if backend == "gmm":
            raise click.BadParameter("the gmm backend has no epochs; use it with --backend vae or gan", param_hint="--epochs")
        extra["epochs"] = epochs
    model = Synthesizer(backend, random_state=seed, categorical=_split(categorical), ignore=_split(ignore),
                        verbose=verbose, **extra)
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


@cli.command()
@click.argument("input", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output table [default: <input>.augmented.<ext>].")
@click.option("--rows", type=click.IntRange(min=0), default=None, help="Number of synthetic rows.")
@click.option("--ratio", type=click.FloatRange(min=0), default=None, help="Synthetic rows per input row [default: 1.0].")
@click.option("--synthetic-only", is_flag=True, help="Write only the synthetic rows.")
@click.option("--save-model", type=click.Path(dir_okay=False), help="Also save the fitted model here.")
@click.option("--report", "report", type=click.Path(dir_okay=False),
              help="Also write an HTML evaluation report of the synthetic rows against the input.")
@click.option("--target", metavar="COL", help="Target column for the report's utility section.")
@model_options
@output_options
def augment(input, output, rows, ratio, synthetic_only, save_model, report, target, backend, seed, na_values,
            categorical, ignore, params, quiet, as_json):
    """Fit a model on INPUT and write it back with synthetic rows appended.

    By default the output holds all input rows, unchanged and in order,
    followed by as many synthetic rows as input rows.
    """
    from .augmentation import augment as run_augment, n_synthetic_rows
    from .io import write_table

    if rows is not None and ratio is not None:
        raise click.UsageError("--rows and --ratio are exclusive; give one of them")
    out_path = Path(output) if output else default_output(input)
    _check_output(out_path, input)
    if report and not str(report).lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"'{report}' should end in .html", param_hint="--report")
    for extra, hint in ((save_model, "--save-model"), (report, "--report")):
        if extra and Path(extra).resolve() in (Path(input).resolve(), out_path.resolve()):
            raise click.BadParameter(f"'{extra}' is the input or output table; choose another path", param_hint=hint)
    t0 = time.perf_counter()
    df = _read(input, na_values)
    if target is not None:
        from .schema import check_columns

        check_columns(df, [target], "--target")
    n_new = n_synthetic_rows(len(df), rows, ratio)
    model = _fit_model(df, backend, seed, categorical, ignore, params, _show_progress(quiet, as_json))
    t_fit = time.perf_counter() - t0
    result = run_augment(df, rows=n_new, synthetic_only=synthetic_only, seed=seed, model=model)
    if report:
        synthetic = result if synthetic_only else result.iloc[len(df):].reset_index(drop=True)
        _write_evaluation(df, synthetic, None, target, None, report, quiet or as_json,
                          note="synthetic rows of 'tabsynth augment' against its input; the holdout part was seen by "
                               "the generator, so utility and privacy figures are optimistic")
    write_table(result, out_path)
    if save_model:
        model.save(save_model)
    seconds = time.perf_counter() - t0
    doc = {"input": str(input), "output": str(out_path), "rows_input": len(df), "rows_synthetic": n_new,
           "rows_output": len(result), "backend": backend, "seed": seed, "fit_seconds": round(t_fit, 3),
           "seconds": round(seconds, 3), "model": save_model, "report": report}
    _emit_json(as_json, doc)
    kept = 0 if synthetic_only else len(df)
    _say(quiet, as_json, f"wrote {len(result)} rows ({kept} input + {n_new} synthetic) to {out_path} in {seconds:.1f}s")


@cli.command()
@click.argument("input", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Model file to write.")
@model_options
@output_options
def fit(input, output, backend, seed, na_values, categorical, ignore, params, quiet, as_json):
    """Fit a model on INPUT and save it to OUTPUT (a zip of JSON and arrays)."""
    t0 = time.perf_counter()
    df = _read(input, na_values)
    if Path(output).resolve() == Path(input).resolve():
        raise click.BadParameter("the model path is the input file; choose another path", param_hint="-o")
    model = _fit_model(df, backend, seed, categorical, ignore, params, _show_progress(quiet, as_json))
    model.save(output)
    seconds = time.perf_counter() - t0
    _emit_json(as_json, {"input": str(input), "model": str(output), "rows": len(df), "backend": backend,
                         "seconds": round(seconds, 3)})
    _say(quiet, as_json, f"fitted {backend} on {len(df)} rows, saved to {output} in {seconds:.1f}s")


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--rows", required=True, type=click.IntRange(min=0), help="Number of rows to generate.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output table.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed: same seed, same output.")
@output_options
def sample(model, rows, output, seed, quiet, as_json):
    """Generate ROWS synthetic rows from a saved MODEL."""
    from .io import write_table
    from .synthesizer import Synthesizer

    t0 = time.perf_counter()
    out_path = Path(output)
    _check_output(out_path, models=(model,))
    m = Synthesizer.load(model)
    df = m.sample(rows, seed=seed)
    write_table(df, out_path)
    seconds = time.perf_counter() - t0
    _emit_json(as_json, {"model": str(model), "output": str(out_path), "rows": rows, "seed": seed,
                         "seconds": round(seconds, 3)})
    _say(quiet, as_json, f"wrote {rows} synthetic rows to {out_path} in {seconds:.1f}s")


@cli.command()
@click.argument("input", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output table (default: <input stem>.imputed.<ext>).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Fill with a model saved by 'tabsynth fit' instead of fitting one on INPUT.")
@click.option("--save-model", type=click.Path(dir_okay=False), help="Also save the model fitted on INPUT.")
@click.option("--draws", type=click.IntRange(min=1), default=10, show_default=True,
              help="Draws per missing cell averaged by --strategy mean.")
@click.option("--strategy", type=click.Choice(["mean", "sample"]), default="mean", show_default=True,
              help="mean: average of the draws (numbers) / most frequent draw (categories); sample: one draw.")
@model_options
@output_options
def impute(input, output, model_path, save_model, draws, strategy, backend, seed, na_values, categorical, ignore, params,
           quiet, as_json):
    """Fill the missing cells of INPUT from a generative model of the table.

    Known cells are kept as they are; each missing cell is drawn from the
    model given the rest of its row. Fit on INPUT itself (default) or use
    a model fitted earlier on another table (--model).
    """
    from .impute import GenerativeImputer
    from .io import write_table
    from .synthesizer import Synthesizer

    out_path = Path(output) if output else default_output(input, "imputed")
    _check_output(out_path, input, models=tuple(m for m in (model_path, save_model) if m))
    if model_path and (save_model or backend != "gmm" or params or categorical or ignore
                       or click.get_current_context().meta.get("tabsynth.epochs")):
        raise click.UsageError("--model uses a fitted model: --save-model, --backend, --param, --epochs, "
                               "--categorical and --ignore apply only when fitting")
    t0 = time.perf_counter()
    df = _read(input, na_values)
    imp_params = {"n_draws": draws, "strategy": strategy, "random_state": seed}
    if model_path:
        imputer = GenerativeImputer.from_synthesizer(Synthesizer.load(model_path), **imp_params)
    else:
        imputer = GenerativeImputer(backend, **imp_params)
        imputer.synthesizer_ = _fit_model(df, backend, seed, categorical, ignore, params, _show_progress(quiet, as_json))
        imputer = GenerativeImputer.from_synthesizer(imputer.synthesizer_, **imp_params)
    imputer._check_columns(df)
    before = df.isna().sum()
    filled = imputer.transform(df)
    after = filled.isna().sum()
    write_table(filled, out_path)
    if save_model:
        imputer.synthesizer_.save(save_model)
    seconds = time.perf_counter() - t0
    cells = {str(c): int(before[c] - after[c]) for c in df.columns if before[c] - after[c] > 0}
    left = {str(c): int(after[c]) for c in df.columns if after[c] > 0}
    _emit_json(as_json, {"input": str(input), "output": str(out_path), "rows": len(df), "cells_filled": cells,
                         "cells_left_missing": left, "model": model_path or save_model, "strategy": strategy,
                         "draws": draws, "seed": seed, "seconds": round(seconds, 3)})
    note = f"; {sum(left.values())} cells of unmodelled columns left empty" if left else ""
    _say(quiet, as_json, f"filled {sum(cells.values())} missing cells in {len(df)} rows, wrote {out_path} "
                         f"in {seconds:.1f}s{note}")


@cli.command()
@click.argument("input", type=click.Path(dir_okay=False))
@click.option("--na-values", metavar="STRS", help='Comma-separated strings meaning "missing" in CSV input.')
@click.option("--categorical", metavar="COLS", help="Comma-separated columns to treat as categorical.")
@click.option("--ignore", metavar="COLS", help="Comma-separated columns to leave out.")
@click.option("--json", "as_json", is_flag=True, help="Print the schema as JSON.")
def inspect(input, na_values, categorical, ignore, as_json):
    """Show the schema tabsynth infers for INPUT."""
    from .schema import infer_schema

    df = _read(input, na_values)
    schema = infer_schema(df, categorical=_split(categorical), ignore=_split(ignore))
    if as_json:
        click.echo(schema.to_json(indent=2))
        return
    frame = schema.to_frame()
    click.echo(f"{input}: {len(df)} rows, {df.shape[1]} columns")
    click.echo(frame.to_string(index=False))


def _write_evaluation(real, synthetic, holdout, target, json_out, report, quiet, note=None) -> dict:
    from .evaluate import evaluate as run_evaluate
    from .evaluate import summary_table

    result = run_evaluate(real, synthetic, holdout=holdout, target=target)
    if note:
        result.setdefault("meta", {})["note"] = note
    if json_out:
        text = json.dumps(result, indent=2, default=str)
        if json_out == "-":
            click.echo(text)
        else:
            from .io import atomic_path

            with atomic_path(Path(json_out)) as tmp:
                tmp.write_text(text)
    if report:
        from .evaluate.report import write_report

        write_report(result, real, synthetic, report)
    if not quiet and json_out != "-":
        click.echo(summary_table(result))
    return result


@cli.command()
@click.option("--real", "real_path", required=True, type=click.Path(dir_okay=False), help="The real table.")
@click.option("--synthetic", "syn_path", required=True, type=click.Path(dir_okay=False), help="The synthetic table.")
@click.option("--holdout", "holdout_path", type=click.Path(dir_okay=False),
              help="Real rows the generator never saw [default: a stratified 20% split of --real].")
@click.option("--target", metavar="COL", help="Target column: enables utility and feature-selection checks.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), metavar="OUT",
              help="Write the full results as JSON to OUT ('-' for stdout).")
@click.option("--report", type=click.Path(dir_okay=False), metavar="OUT.html", help="Write an HTML report.")
@click.option("--na-values", metavar="STRS", help='Comma-separated strings meaning "missing" in CSV input.')
@click.option("--quiet", "-q", is_flag=True, help="No summary on stdout.")
def evaluate(real_path, syn_path, holdout_path, target, json_out, report, na_values, quiet):
    """Score a synthetic table against the real one: fidelity, utility, detection, privacy.

    Without --holdout, the real table is split 80/20 (stratified on the
    target for classification, random_state=0): models are trained on the
    80% and on the synthetic table and tested on the 20%.
    """
    if report and not str(report).lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"'{report}' should end in .html", param_hint="--report")
    for out in (json_out, report):
        if out and out != "-" and Path(out).resolve() in {Path(p).resolve() for p in (real_path, syn_path, holdout_path) if p}:
            raise click.BadParameter(f"output '{out}' is an input file; choose another path")
    real = _read(real_path, na_values)
    synthetic = _read(syn_path, na_values)
    holdout = _read(holdout_path, na_values) if holdout_path else None
    _write_evaluation(real, synthetic, holdout, target, json_out, report, quiet)


@cli.command()
@click.option("-o", "--output", default="example.csv", show_default=True, type=click.Path(dir_okay=False),
              help="Where to write the example table (any supported format).")
def example(output):
    """Write a small real example table (scikit-learn's diabetes study, mixed types)."""
    from .datasets import load_example
    from .io import write_table

    df = load_example()
    write_table(df, output)
    click.echo(f"wrote the example table ({len(df)} rows, {df.shape[1]} columns) to {output}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and exit code 2."""
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
        click.echo(f"error: {' '.join(str(e).split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
