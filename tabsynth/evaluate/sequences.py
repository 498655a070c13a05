"""Evaluation of synthetic entities with ordered histories against the real ones.

Measures that need the entity and the order (the rest reuses the single-table
ones): entity-constant violations (entities whose columns that are constant
in every real entity vary), order violations (rows whose order value does
not move forward within their entity), ``1 - KS`` of the history lengths,
the lag-1 autocorrelation and the mean step of each varying number column
(absolute error against the real ones), and a detector on per-entity
summaries (length; first, last, mean and spread of each varying number;
the constant columns): ROC-AUC, 0.5 means whole histories cannot be told
apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._threads import limits_threads
from .detection import detection
from .fidelity import ks_statistic


def _sorted(df: pd.DataFrame, entity: str, order: str | None) -> pd.DataFrame:
    return df.sort_values([entity, order], kind="stable") if order else df


def constant_columns(df: pd.DataFrame, entity: str, order: str | None = None) -> list[str]:
    """Columns constant within every entity of ``df``."""
    others = [c for c in df.columns if c not in (entity, order)]
    if not others:
        return []
    n = df.groupby(entity, sort=False)[others].nunique(dropna=False).max()
    return [c for c in others if n[c] <= 1]


def lag1(df: pd.DataFrame, entity: str, order: str | None, col: str) -> float | None:
    """Correlation of a number column with its previous value within the same entity."""
    x = _sorted(df, entity, order)
    prev = x.groupby(entity, sort=False)[col].shift(1)
    cur = x[col]
    ok = prev.notna() & cur.notna()
    if ok.sum() < 3 or prev[ok].std() == 0 or cur[ok].std() == 0:
        return None
    return float(np.corrcoef(prev[ok].astype(float), cur[ok].astype(float))[0, 1])


def mean_step(df: pd.DataFrame, entity: str, order: str | None, col: str) -> float | None:
    x = _sorted(df, entity, order)
    d = x.groupby(entity, sort=False)[col].diff().dropna()
    return float(d.mean()) if len(d) else None


def summaries(df: pd.DataFrame, entity: str, order: str | None, varying: list[str], constant: list[str]) -> pd.DataFrame:
    """One row per entity: length, first / last / mean / spread of each varying number, its constant columns."""
    x = _sorted(df, entity, order)
    g = x.groupby(entity, sort=False)
    out = pd.DataFrame({"length": g.size()})
    for c in varying:
        if pd.api.types.is_numeric_dtype(x[c].dtype) and not pd.api.types.is_bool_dtype(x[c].dtype):
            out[f"{c}.first"], out[f"{c}.last"] = g[c].first(), g[c].last()
            out[f"{c}.mean"], out[f"{c}.std"] = g[c].mean(), g[c].std()
    for c in constant:
        out[c] = g[c].first()
    return out.reset_index(drop=True)


@limits_threads
def evaluate_sequences(real: pd.DataFrame, synthetic: pd.DataFrame, *, entity: str | list[str],
                       order: str | None = None, random_state: int = 0) -> dict[str, Any]:
    """Score synthetic histories against real ones.

    Parameters
    ----------
    real, synthetic : DataFrame
        Rows of entities (same columns).
    entity : str or list of str
        The entity column; nested entities outermost first (``["school",
        "pupil"]``): histories are the innermost entity's, an outer id is
        left out of the measures, and the columns constant within each outer
        entity in the real rows count in ``entity_constant_violations`` too.
    order : str, optional
        The order column.
    random_state : int, default 0

    Returns
    -------
    dict
        ``entity_constant_violations``, ``order_violations``, ``length_shape``,
        ``lag1_error`` (mean absolute), ``step_error`` (mean absolute, in real
        standard deviations), ``history_detection_auc`` and per-column detail.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 2], "t": [1, 2, 1, 2, 3], "x": [1.0, 2.0, 0.5, 0.7, 0.9]})
    >>> r = evaluate_sequences(df, df, entity="id", order="t")
    >>> r["entity_constant_violations"], r["order_violations"], r["length_shape"]
    (0, 0, 1.0)
    """
    ids = [entity] if isinstance(entity, str) else list(entity)
    entity = ids[-1]
    outer_violations = 0
    for outer in ids[:-1]:
        fixed = [c for c in constant_columns(real, outer, order) if c not in ids]
        if fixed:
            outer_violations += int((synthetic.groupby(outer, sort=False)[fixed].nunique(dropna=False) > 1)
                                    .any(axis=1).sum())
    real, synthetic = real.drop(columns=ids[:-1]), synthetic.drop(columns=ids[:-1])
    constant = constant_columns(real, entity, order)
    varying = [c for c in real.columns if c not in constant and c not in (entity, order)]
    gs = synthetic.groupby(entity, sort=False)
    violations = int((gs[constant].nunique(dropna=False) > 1).any(axis=1).sum()) if constant else 0
    violations += outer_violations
    order_bad = 0
    if order is not None:
        o = synthetic[order]
        prev = o.groupby(synthetic[entity], sort=False).shift(1)
        order_bad = int((prev.notna() & ~(o > prev)).sum())
    length_shape = 1.0 - ks_statistic(real.groupby(entity).size().to_numpy(float),
                                      synthetic.groupby(entity).size().to_numpy(float))
    per_col, lag_err, step_err = {}, [], []
    for c in varying:
        if not pd.api.types.is_numeric_dtype(real[c].dtype) or pd.api.types.is_bool_dtype(real[c].dtype):
            continue
        lr, ls = lag1(real, entity, order, c), lag1(synthetic, entity, order, c)
        sr, ss = mean_step(real, entity, order, c), mean_step(synthetic, entity, order, c)
        sd = float(real[c].std()) or 1.0
        per_col[c] = {"lag1_real": lr, "lag1_synthetic": ls, "mean_step_real": sr, "mean_step_synthetic": ss}
        if lr is not None and ls is not None:
            lag_err.append(abs(lr - ls))
        if sr is not None and ss is not None:
            step_err.append(abs(sr - ss) / sd)
    sr_, ss_ = summaries(real, entity, order, varying, constant), summaries(synthetic, entity, order, varying, constant)
    det = detection(sr_, ss_.reindex(columns=sr_.columns), models=("gradient_boosting",), random_state=random_state)
    return {"entities_real": int(real[entity].nunique()), "entities_synthetic": int(synthetic[entity].nunique()),
            "constant_columns": constant, "entity_constant_violations": violations, "order_violations": order_bad,
            "length_shape": float(length_shape), "lag1_error": float(np.mean(lag_err)) if lag_err else None,
            "step_error": float(np.mean(step_err)) if step_err else None,
            "history_detection_auc": det.get("gradient_boosting"), "columns": per_col}


def sequence_summary(result: dict[str, Any]) -> str:
    """A few text lines of an :func:`evaluate_sequences` result (what ``tabsynth evaluate --entity`` prints).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 2], "t": [1, 2, 1, 2, 3], "x": [1.0, 2.0, 0.5, 0.7, 0.9]})
    >>> print(sequence_summary(evaluate_sequences(df, df, entity="id", order="t")).splitlines()[1])
      entities real / synthetic   2 / 2
    """
    def f(x: Any) -> str:
        return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)

    lines = [("entities real / synthetic", f"{result['entities_real']} / {result['entities_synthetic']}"),
             ("entity-constant violations", f(result["entity_constant_violations"])),
             ("order violations", f(result["order_violations"])),
             ("length shape (1 - KS)", f(result["length_shape"])),
             ("lag-1 autocorrelation error", f(result["lag1_error"])),
             ("mean step error (sd)", f(result["step_error"])),
             ("history detection AUC", f(result["history_detection_auc"]))]
    return "\n".join(["histories"] + [f"  {k:<28}{v}" for k, v in lines])
