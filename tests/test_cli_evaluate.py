"""`tabsynth evaluate` and `tabsynth augment --report` end to end (small tables)."""

import json

import pandas as pd
import pytest

from tabsynth.cli import main
from tabsynth.datasets import load_example


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture
def tables(tmp_path):
    df = load_example()
    real = tmp_path / "real.csv"
    df.to_csv(real, index=False)
    return df, real


def test_evaluate_writes_json_and_report(capsys, tables, tmp_path):
    df, real = tables
    syn = tmp_path / "syn.csv"
    assert run(capsys, "augment", real, "--synthetic-only", "--seed", "0", "-o", syn, "-q")[0] == 0
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code, out, err = run(capsys, "evaluate", "--real", real, "--synthetic", syn, "--target", "sex",
                         "--json", out_json, "--report", out_html)
    assert code == 0, err
    res = json.loads(out_json.read_text())
    assert res["utility"]["task"] == "classification"
    assert set(res["utility"]["models"]) >= {"logistic_regression", "gradient_boosting", "svm", "mlp"}
    assert 0.8 < res["fidelity"]["column_shapes"] <= 1
    assert "<svg " in out_html.read_text()
    assert "fidelity" in out.lower()
    # regression target, JSON on stdout
    code, out, err = run(capsys, "evaluate", "--real", real, "--synthetic", syn, "--target", "progression",
                         "--json", "-", "-q")
    assert code == 0, err
    assert json.loads(out)["utility"]["task"] == "regression"


def test_augment_report(capsys, tables, tmp_path):
    df, real = tables
    html = tmp_path / "aug.html"
    code, out, err = run(capsys, "augment", real, "--seed", "1", "--report", html, "--target", "sex",
                         "-o", tmp_path / "aug.csv")
    assert code == 0, err
    assert html.exists() and "<html" in html.read_text().lower()
    assert len(pd.read_csv(tmp_path / "aug.csv")) == 2 * len(df)


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--target", "nope"], "nope"),
        (["--report", "x.pdf"], ".html"),
    ],
)
def test_evaluate_bad_input(capsys, tables, tmp_path, extra, match):
    df, real = tables
    code, out, err = run(capsys, "evaluate", "--real", real, "--synthetic", real, *extra)
    assert code == 2 and len(err.strip().splitlines()) == 1 and match in err


def test_evaluate_mismatched_columns(capsys, tables, tmp_path):
    df, real = tables
    other = tmp_path / "other.csv"
    df.drop(columns=["bmi"]).to_csv(other, index=False)
    code, out, err = run(capsys, "evaluate", "--real", real, "--synthetic", other)
    assert code == 2 and "bmi" in err and len(err.strip().splitlines()) == 1


def test_evaluation_progress_shows_finished_jobs_on_a_terminal(capsys):
    from tabsynth.cli import evaluation_progress

    progress, close = evaluation_progress(True)
    progress("fidelity", 0, 5)
    for k in (1, 2, 3):
        progress("evaluating", k, 3)
    progress("done", 5, 5)
    close()
    err = capsys.readouterr().err
    assert "evaluating" in err and "3/3" in err
    assert evaluation_progress(False)[0] is None  # piped, --quiet or --json -: no bar
