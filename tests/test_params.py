"""The validation table (``tabsynth._params``): its checker, each public entry point using it, and the command
line printing its options in the same messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabsynth import DatabaseSynthesizer, GenerativeImputer, GenerativeOverSampler, Synthesizer, augment
from tabsynth._params import CONSTRAINTS, Interval, Options, validate
from tabsynth.cli import flag, main
from tabsynth.errors import ParameterError
from tabsynth.evaluate import evaluate
from tabsynth.sequences import SequenceSynthesizer


def _table(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n), "y": ["p", "q"] * (n // 2)})


def test_interval_and_options():
    assert Interval(int, 0, None).accepts(np.int64(0)) and not Interval(int, 0, None).accepts(True)
    assert not Interval(float, 0, 1, closed="right").accepts(0.0) and Interval(float, 0, 1, closed="right").accepts(1)
    assert not Interval(float, 0, None).accepts(float("inf")) and not Interval(float, 0, None).accepts("1")
    assert str(Interval(int, 2, None)) == "an integer of at least 2"
    assert Options("a", "b").accepts("a") and not Options("a", "b").accepts("c") and str(Options("a")) == "one of 'a'"


def test_validate_names_the_parameter_and_the_value():
    with pytest.raises(ParameterError) as e:
        validate("GenerativeImputer", {"strategy": "best"})
    assert str(e.value) == "strategy='best': give one of 'refine', 'mean', 'sample'"
    assert e.value.render(flag) == "--strategy best: give one of 'refine', 'mean', 'sample'"
    with pytest.raises(ParameterError, match="^check needs target"):
        validate("augment", {"check": True})
    validate("augment", {"rows": None, "ratio": 0.5, "unknown": object()})  # None where allowed; others unchecked


def test_cli_flags():
    assert [flag(n) for n in ("class_ratio", "n", "random_state", "n_draws", "passes", "m")] == [
        "--class-ratio", "--rows", "--seed", "--draws", "--fit-passes", "--multiple"]


def test_every_entry_point_checks_its_table():
    df = _table()
    fitted = Synthesizer("gmm", random_state=0, n_components=2).fit(df)
    calls = [
        (lambda: Synthesizer("gmm", rules="yes").fit(df), "rules='yes'"),
        (lambda: fitted.sample(-1), "n=-1"),
        (lambda: fitted.sample(3, seed=-2), "seed=-2"),
        (lambda: list(fitted.sample_batches(5, batch_size=0)), "batch_size=0"),
        (lambda: fitted.impute(df, seed="s"), "seed='s'"),
        (lambda: GenerativeImputer(n_draws=0).fit(df), "n_draws=0"),
        (lambda: GenerativeOverSampler(sampling_strategy=2.0).fit(df[["x"]], df["y"]), "sampling_strategy=2.0"),
        (lambda: augment(df, rows=-1), "rows=-1"),
        (lambda: augment(df, ratio=0.5, rows=3), "rows and ratio are exclusive"),
        (lambda: evaluate(df, df, max_rows=5), "max_rows=5"),
        (lambda: DatabaseSynthesizer(backend=3).fit({"t": df}), "backend=3"),
        (lambda: SequenceSynthesizer("g", order=1.5).fit(df), "order=1.5"),
    ]
    for call, words in calls:
        with pytest.raises(ParameterError) as e:
            call()
        assert words in str(e.value), (words, str(e.value))
        assert "--" not in str(e.value)  # the Python API names Python parameters


def test_table_covers_the_public_entry_points():
    assert {"Synthesizer", "GenerativeImputer", "GenerativeOverSampler", "augment", "evaluate",
            "DatabaseSynthesizer", "SequenceSynthesizer"} <= set(CONSTRAINTS)


def test_cli_prints_options(capsys, tmp_path):
    path = tmp_path / "t.csv"
    _table().to_csv(path, index=False)
    for args, words in ((["--target", "y", "--class-ratio", "1.5"], "--class-ratio 1.5: give a number in (0, 1]"),
                        (["--rows", "3", "--ratio", "0.5"], "--rows and --ratio are exclusive"),
                        (["--balance"], "--balance needs --target")):
        with pytest.raises(SystemExit) as exc:
            main(["augment", str(path), "-o", str(tmp_path / "o.csv"), *args])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and words in err and "class_ratio" not in err, err
        assert not (tmp_path / "o.csv").exists()
