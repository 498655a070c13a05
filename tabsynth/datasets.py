"""A small real example table, built from data scikit-learn ships (no download)."""

from __future__ import annotations

import pandas as pd


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
    from sklearn.datasets import load_diabetes

    raw = load_diabetes(as_frame=True, scaled=False)
    df = raw.frame.rename(columns={"target": "progression"})
    df["age"] = df["age"].round().astype("int64")
    df["sex"] = df["sex"].round().astype("int64").astype(str).astype("category")
    df["progression"] = df["progression"].round().astype("int64")
    return df
