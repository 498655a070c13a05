"""Tables to try tabsynth on: a small real example (from data scikit-learn ships, no download)
and a zoo of generated hostile tables (the shapes real CSV files take)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

#: the zoo's tables, in order; see :func:`zoo_table`
ZOO = ("dates", "epochs", "magnitudes", "heavy_tails", "spikes", "high_cardinality", "free_text", "wide",
       "tiny", "mostly_missing", "yes_no", "numbers_as_text", "mixed_types", "imbalanced", "long")


def load_example() -> pd.DataFrame:
    """The diabetes study table (442 patients) with its real column types.

    scikit-learn ships it as numbers only; here ``age`` and the disease
    ``progression`` are integers, ``sex`` is the study's two-level code as a
    category (``"1"``/``"2"``; the source does not say which is which), and
    the measurements are floats, as in the original study (Efron et al. 2004).

    Returns
    -------
    pandas.DataFrame
        442 rows: age, sex, bmi, bp, s1..s6, progression.

    Examples
    --------
    >>> from tabsynth.datasets import load_example
    >>> load_example().shape
    (442, 11)
    """
    raw = load_diabetes(as_frame=True, scaled=False)
    df = raw.frame.rename(columns={"target": "progression"})
    df["age"] = df["age"].round().astype("int64")
    df["sex"] = df["sex"].round().astype("int64").astype(str).astype("category")
    df["progression"] = df["progression"].round().astype("int64")
    return df


def zoo_table(name: str, n_rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One generated table of the zoo: a shape real tables take that tools often get wrong.

    Every table has a few well-behaved columns (``x``, a number related to
    ``group``, a category) beside its hostile ones, so a model has structure
    to learn. Text-like columns are strings, as a CSV reader sees them.

    Parameters
    ----------
    name : str
        One of :data:`ZOO`:

        - ``dates``: ISO dates (``2020-01-31``) and date-times as strings;
        - ``epochs``: Unix timestamps as integers (seconds, milliseconds);
        - ``magnitudes``: numbers of scale 1e-12 and 1e12 in one table;
        - ``heavy_tails``: Cauchy and log-normal (sigma 3) numbers;
        - ``spikes``: zero-inflated amounts (70% zeros) and a number with
          a few frequent exact values;
        - ``high_cardinality``: a Zipf-distributed code with about
          ``n_rows / 3`` distinct values (capped at 10,000);
        - ``free_text``: comments of 1 to 30 words, unique per row;
        - ``wide``: 240 columns (200 numbers, 40 categories);
        - ``tiny``: 20 rows whatever ``n_rows``;
        - ``mostly_missing``: columns 90% and 99% missing;
        - ``yes_no``: booleans written as ``yes``/``no`` and ``Y``/``N``;
        - ``numbers_as_text``: numbers stored as strings, some with
          thousands separators;
        - ``mixed_types``: numbers with a few words among them
          (``"n/a"``, ``"unknown"``);
        - ``imbalanced``: four columns, a binary ``label`` with a 3%
          minority that depends on ``x``, and a skewed (log-normal) amount
          shifted for the minority (the real-tables issue's GAN case);
        - ``long``: a plain table meant to be asked for with many rows.
    n_rows : int, default 2000
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> from tabsynth.datasets import zoo_table
    >>> zoo_table("spikes", n_rows=100).shape
    (100, 5)
    """
    if name not in ZOO:
        raise ValueError(f"unknown zoo table {name!r}; choose from {', '.join(ZOO)}")
    rng = np.random.default_rng(seed)
    n = 20 if name == "tiny" else int(n_rows)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(size=n) + (group == "a") * 1.5
    base = {"x": x.round(3), "group": group}
    cols = _ZOO_COLUMNS[name](rng, n, x, group)
    return pd.DataFrame({**base, **cols})


def _zoo_dates(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n) + (x * 30).astype(int), unit="D")
    at = pd.Timestamp("2022-03-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
    return {"day": day.strftime("%Y-%m-%d"), "at": at.strftime("%Y-%m-%dT%H:%M:%S")}


def _zoo_epochs(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    sec = 1_600_000_000 + rng.integers(0, 10**8, n)
    return {"epoch_s": sec, "epoch_ms": sec * 1000 + rng.integers(0, 1000, n)}


def _zoo_magnitudes(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    return {"tiny": (x + rng.normal(size=n)) * 1e-12, "huge": np.exp(rng.normal(size=n)) * 1e12}


def _zoo_heavy_tails(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    return {"cauchy": rng.standard_cauchy(n), "lognormal": np.exp(3 * rng.normal(size=n) + x)}


def _zoo_spikes(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    amount = np.where(rng.random(n) < 0.7, 0.0, np.exp(rng.normal(7, 1, n) + 0.3 * x).round(2))
    score = (rng.choice([0, 50, 100, 37.5], n, p=[0.3, 0.2, 0.1, 0.4])
             + np.where(rng.random(n) < 0.4, rng.normal(size=n), 0))
    return {"amount": amount, "score": score.round(2), "count": rng.poisson(0.3, n)}


def _zoo_high_cardinality(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    k = min(10_000, max(2, n // 3))
    codes = np.minimum(rng.zipf(1.3, n), k) - 1
    return {"code": [f"C{c:05d}" for c in codes]}


def _zoo_free_text(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    words = np.array("the a road car wet late slow fast turn left right crash near stop light rain "
                     "night driver truck bike side front rear minor major damage lane exit".split())
    return {"comment": [" ".join(rng.choice(words, rng.integers(1, 31))) + f" #{i}" for i in range(n)]}


def _zoo_wide(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    cols = {f"n{j:03d}": (x * rng.normal() + rng.normal(size=n)).round(3) for j in range(200)}
    cols.update({f"c{j:02d}": np.where(x + rng.normal(size=n) > 0, "hi", "lo") for j in range(40)})
    return cols


def _zoo_tiny(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    return {"y": (2 * x + rng.normal(size=n)).round(2)}


def _zoo_mostly_missing(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    return {"m90": np.where(rng.random(n) < 0.9, np.nan, x + rng.normal(size=n)),
            "m99": np.where(rng.random(n) < 0.99, np.nan, rng.normal(size=n)),
            "c90": np.where(rng.random(n) < 0.9, None, group).astype(object)}


def _zoo_yes_no(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    return {"yes_no": np.where(x > 0, "yes", "no"), "yn": np.where(rng.random(n) < 0.3, "Y", "N")}


def _zoo_numbers_as_text(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    v = np.exp(rng.normal(8, 1, n)).round(2)
    return {"price_text": [f"{a:,.2f}" if i % 3 == 0 else f"{a:.2f}" for i, a in enumerate(v)],
            "qty_text": rng.integers(1, 50, n).astype(str)}


def _zoo_mixed_types(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    v = (x * 10 + 50).round(1).astype(object)
    odd = rng.random(n) < 0.05
    v[odd] = rng.choice(["n/a", "unknown", "-"], int(odd.sum()))
    return {"reading": v}


def _zoo_imbalanced(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 6.0))), "yes", "no")
    amount = np.exp(rng.normal(3.0 + 1.0 * (label == "yes"), 1.2, n)).round(2)
    return {"amount": amount, "label": label}


def _zoo_long(rng: np.random.Generator, n: int, x: np.ndarray, group: np.ndarray) -> dict:
    return {"y": (x + rng.normal(size=n)).round(3), "k": rng.integers(0, 5, n)}


#: each zoo table's own columns, drawn given the shared ``x`` and ``group``
_ZOO_COLUMNS = {
    "dates": _zoo_dates,
    "epochs": _zoo_epochs,
    "magnitudes": _zoo_magnitudes,
    "heavy_tails": _zoo_heavy_tails,
    "spikes": _zoo_spikes,
    "high_cardinality": _zoo_high_cardinality,
    "free_text": _zoo_free_text,
    "wide": _zoo_wide,
    "tiny": _zoo_tiny,
    "mostly_missing": _zoo_mostly_missing,
    "yes_no": _zoo_yes_no,
    "numbers_as_text": _zoo_numbers_as_text,
    "mixed_types": _zoo_mixed_types,
    "imbalanced": _zoo_imbalanced,
    "long": _zoo_long,
}
