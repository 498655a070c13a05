from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


SKIP_REASON = ("real-table tests need the shared datasets in ../shared/datasets (adult.csv, letter.csv, spam.csv), "
               "which are not in this checkout; every other test runs")


def shared_table(name: str) -> Path:
    path = DATASETS / name
    if not path.exists():
        pytest.skip(SKIP_REASON)  # one reason for all, so pytest -ra reports it on one line
    return path


def pytest_report_header(config):
    if not DATASETS.is_dir():
        return [f"note: {DATASETS} not found; {SKIP_REASON}"]
    return [f"shared datasets: {DATASETS}"]


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return pd.read_csv(shared_table("adult.csv"), skipinitialspace=True, na_values=["?"])


@pytest.fixture(scope="session")
def adult_small(adult: pd.DataFrame) -> pd.DataFrame:
    return adult.sample(3000, random_state=0).reset_index(drop=True)


@pytest.fixture
def mixed() -> pd.DataFrame:
    """A small table with every dtype the encoder must restore."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "f": x * 3 + 10,
            "i": (x * 10 + 50).round().astype("int64"),
            "ni": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 1000, n)), dtype="Int64"),
            "b": x > 0,
            "nb": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.3), dtype="boolean"),
            "s": np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid")).astype(object),
            "cat": pd.Categorical(rng.choice(["a", "b", "c"], n), categories=["a", "b", "c", "d"]),
            "ps": pd.array(rng.choice(["x", "y", None], n, p=[0.5, 0.4, 0.1]), dtype="string[pyarrow]"),
            "d": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "dtz": pd.Timestamp("2021-06-01", tz="Europe/Paris") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
            "const": "same",
        }
    )
    df.loc[rng.random(n) < 0.15, "f"] = np.nan
    return df


@pytest.fixture
def cli(capsys):
    """cli(*args) -> (exit code, stdout, stderr) of ``tabsynth ARGS`` run in-process."""
    from tabsynth.cli import main

    def run(*args):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        out = capsys.readouterr()
        return exc.value.code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def shared():
    """shared("letter.csv") -> path, or skip when ../shared is absent."""
    return shared_table


# CI runs the property tests on a fixed set of examples (no flaky reds);
# locally hypothesis explores new ones on every run.
try:
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")
except ImportError:  # pragma: no cover
    pass
