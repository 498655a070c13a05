"""Evaluation of a synthetic database against the real one: keys, cardinalities, joins, per-table fidelity.

Only the measures that need keys are new; the rest reuses the single-table
fidelity measures on each table and on each child table joined with its
parent's columns:

* **key integrity**: duplicated or missing parent keys, and foreign keys that
  point at no parent row beyond the real table's own orphan share (0 is the
  goal);
* **cardinality shape**: ``1 - KS`` between the real and synthetic numbers of
  children per parent row (parents without children included);
* **parent-child pair trends**: the pair trends of every (child column,
  parent column) pair over the joined rows;
* per-table column shapes and pair trends.

Key and foreign-key columns, and integer or text columns unique in every
real row, are identifiers: they count in key integrity only, never in the fidelity
measures.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._threads import limits_threads
from .fidelity import column_shapes, ks_statistic, pair_trends


def _parse(relation: Any) -> tuple[str, str, str, str]:
    text = str(relation)
    left, right = text.split("=", 1)
    child, fk = left.strip().split(".", 1)
    parent, key = right.strip().split(".", 1)
    return child, fk, parent, key


def key_column(df: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``df``; for a composite key ``"a+b"`` (not itself a column), its parts combined.

    A combined value is the parts' values as text joined by a unit separator (integral floats
    written as integers, so ``3.0`` in one table matches ``3`` in another), missing when a part is.
    """
    for c in df.columns:
        if str(c) == name:
            return df[c]
    parts = name.split("+")
    cols = {str(c): c for c in df.columns}
    if len(parts) < 2 or any(p not in cols for p in parts):
        raise KeyError(name)
    frame = df[[cols[p] for p in parts]]
    text = [frame[c].map(_canon).astype(object) for c in frame.columns]
    out = text[0].str.cat(text[1:], sep="\x1f")
    return out.where(frame.notna().all(axis=1).to_numpy(), None).rename(name)


def _canon(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)



def key_integrity(tables: Mapping[str, pd.DataFrame], relations: list[Any]) -> dict[str, Any]:
    """Per relation: duplicated / missing parent keys, and foreign keys with no parent row (orphans)."""
    out = {}
    for r in relations:
        child, fk, parent, key = _parse(r)
        k = key_column(tables[parent], key)
        f = key_column(tables[child], fk)
        orphans = f.notna() & ~f.isin(set(k.dropna().tolist()))
        out[str(r)] = {"duplicate_keys": int(k.duplicated().sum()), "missing_keys": int(k.isna().sum()),
                       "orphans": int(orphans.sum()), "orphan_share": float(orphans.mean()) if len(f) else 0.0,
                       "missing_foreign_keys": int(f.isna().sum())}
    return out


def children_per_parent(tables: Mapping[str, pd.DataFrame], relation: Any) -> np.ndarray:
    """How many child rows each parent row has (zero included), in parent row order."""
    child, fk, parent, key = _parse(relation)
    counts = key_column(tables[child], fk).value_counts()
    return key_column(tables[parent], key).map(counts).fillna(0).to_numpy(dtype="float64")


def joined(tables: Mapping[str, pd.DataFrame], relation: Any) -> pd.DataFrame:
    """Child rows with their parent's columns (``parent.col``); orphans get missing parent columns."""
    child, fk, parent, key = _parse(relation)
    p = tables[parent].copy()
    p.columns = [f"{parent}.{c}" for c in p.columns]
    p["__k"] = key_column(tables[parent], key).to_numpy()
    c = tables[child].copy()
    c.columns = [str(x) for x in c.columns]
    c["__k"] = key_column(tables[child], fk).to_numpy()
    out = c.merge(p.drop(columns=f"{parent}.{key}", errors="ignore"), on="__k", how="left", sort=False)
    return out.drop(columns=["__k", fk], errors="ignore")


def _identifiers(real: Mapping[str, pd.DataFrame], relations: list[Any]) -> dict[str, set[str]]:
    """Per table, the columns that identify rows rather than hold data: keys, foreign keys (and their parts) and
    row identifiers (integers or text unique in every row, e.g. an order number)."""
    ids: dict[str, set[str]] = {name: set() for name in real}
    for rel in relations:
        child, fk, parent, key = _parse(rel)
        ids[child] |= {fk, *fk.split("+")}  # a composite key's parts are key material too
        ids[parent] |= {key, *key.split("+")}
    for name, t in real.items():
        ids[name] |= {str(c) for c in t.columns if len(t) > 1 and t[c].is_unique and (
            pd.api.types.is_integer_dtype(t[c].dtype) or pd.api.types.is_string_dtype(t[c].dtype)
            or pd.api.types.is_object_dtype(t[c].dtype))}
    return ids


def _relation_scores(real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame], rel: Any,
                     relations: list[Any], ids: dict[str, set[str]], real_integ: dict, integ: dict, *,
                     max_rows: int, detection: bool) -> tuple[dict[str, Any], int]:
    """One relation's entry of :func:`evaluate_database` and its key violations (beyond the real orphan share)."""
    child, fk, parent, key = _parse(rel)
    allowed = int(np.ceil(real_integ["orphan_share"] * len(key_column(synthetic[child], fk))))
    extra = max(0, integ["orphans"] - allowed)
    violations = integ["duplicate_keys"] + integ["missing_keys"] + extra
    card = 1.0 - ks_statistic(children_per_parent(real, rel), children_per_parent(synthetic, rel))
    jr, js = joined(real, rel), joined(synthetic, rel)
    drop = [c for c in jr.columns if c in ids[child] or (c.startswith(f"{parent}.") and c[len(parent) + 1:] in ids[parent])]
    jr, js = jr.drop(columns=drop), js.drop(columns=drop)
    pcols = [c for c in jr.columns if c.startswith(f"{parent}.")]
    trends = pair_trends(jr, js, max_rows=max_rows)
    cross = [p["score"] for p in trends["pairs"] if p.get("score") is not None
             and ((p["columns"][0] in pcols) != (p["columns"][1] in pcols))]
    entry = {**integ, "real_orphan_share": real_integ["orphan_share"],
             "orphans_beyond_real_share": extra, "cardinality_shape": card,
             "parent_child_trends": float(np.mean(cross)) if cross else None}
    if detection:
        entry["joined_detection"] = joined_detection(real, synthetic, rel, exclude=other_parents(real, relations, rel))
    return entry, violations


def copied(real: Mapping[str, pd.DataFrame], relation: Any) -> list[str]:
    """The child's columns equal to a column of the relation's parent in every real row that has a parent (a
    product's price in each order line), keys aside."""
    child, fk, parent, key = _parse(relation)
    j = joined(real, relation)
    has = key_column(real[child], fk).isin(key_column(real[parent], key)).to_numpy()
    if not has.any():
        return []
    out = []
    for c in [str(c) for c in real[child].columns if str(c) not in fk.split("+")]:
        if c not in j.columns:
            continue
        mine = j[c].to_numpy(dtype=object)[has]
        for p in [p for p in j.columns if p.startswith(f"{parent}.")]:
            theirs = j[p].to_numpy(dtype=object)[has]
            if len(mine) and all(a == b or (pd.isna(a) and pd.isna(b)) for a, b in zip(mine, theirs)):
                out.append(c)
                break
    return out


def other_parents(real: Mapping[str, pd.DataFrame], relations: list[Any], relation: Any) -> tuple[str, ...]:
    """What the detector of ``relation``'s joined rows leaves out: the child's keys to its other parents and the
    columns it copies from them. They identify another parent row, which grouping the folds by this relation's
    parent does not hide (a product's price in each order: a detector would learn the real products' prices)."""
    child = _parse(relation)[0]
    out: list[str] = []
    for r in [r for r in relations if _parse(r)[0] == child and str(r) != str(relation)]:
        out += _parse(r)[1].split("+") + copied(real, r)
    return tuple(dict.fromkeys(out))


@limits_threads
def evaluate_database(real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame],
                      relations: list[Any], *, max_rows: int = 50_000, detection: bool = False) -> dict[str, Any]:
    """Score a synthetic database against the real one.

    Parameters
    ----------
    real, synthetic : dict of str to DataFrame
        The same table names and columns.
    relations : list of str or Relation
        ``"child.col=parent.col"`` foreign keys.
    max_rows : int, default 50,000
        Larger tables are subsampled (seeded) for the fidelity measures.
    detection : bool, default False
        Also score each relation's joined rows with :func:`joined_detection`
        (``joined_detection`` per relation and their mean; the child's keys to
        its other parents and the columns it copies from them left out:
        :func:`other_parents`).

    Returns
    -------
    dict
        ``tables`` (per table: rows, column shapes, pair trends), ``relations``
        (per relation: key integrity of the synthetic database, the real
        orphan share, cardinality shape, parent-child pair trends) and the
        means ``column_shapes``, ``pair_trends``, ``cardinality``,
        ``parent_child_trends`` and ``key_violations`` (the synthetic
        duplicated or missing keys, plus orphans beyond the real share).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"id": [1, 2, 3], "x": [0.1, 0.5, 0.9]})
    >>> c = pd.DataFrame({"pid": [1, 1, 2, 3], "y": ["a", "b", "a", "b"]})
    >>> res = evaluate_database({"p": p, "c": c}, {"p": p, "c": c}, ["c.pid=p.id"])
    >>> res["key_violations"], res["cardinality"]
    (0, 1.0)
    """
    ids = _identifiers(real, relations)
    tables = {}
    for name in real:
        r, s = (t[[c for c in t.columns if str(c) not in ids[name]]] for t in (real[name], synthetic[name]))
        if not r.shape[1]:
            continue
        tables[name] = {"rows_real": len(r), "rows_synthetic": len(s),
                        "column_shapes": column_shapes(r, s, max_rows=max_rows)["score"],
                        "pair_trends": pair_trends(r, s, max_rows=max_rows)["score"]}
    rels = {}
    real_keys = key_integrity(real, relations)
    syn_keys = key_integrity(synthetic, relations)
    violations = 0
    for rel in relations:
        rels[str(rel)], bad = _relation_scores(real, synthetic, rel, relations, ids, real_keys[str(rel)],
                                               syn_keys[str(rel)], max_rows=max_rows, detection=detection)
        violations += bad
    mean = (lambda xs: float(np.mean([x for x in xs if x is not None])) if any(x is not None for x in xs) else None)
    return {"tables": tables, "relations": rels,
            "column_shapes": mean([t["column_shapes"] for t in tables.values()]),
            "pair_trends": mean([t["pair_trends"] for t in tables.values()]),
            "cardinality": mean([r["cardinality_shape"] for r in rels.values()]),
            "parent_child_trends": mean([r["parent_child_trends"] for r in rels.values()]),
            "key_violations": int(violations),
            **({"joined_detection": mean([r["joined_detection"] for r in rels.values()])} if detection else {})}


@limits_threads
def joined_detection(real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame], relation: Any, *,
                     exclude: tuple[str, ...] = (), max_rows: int = 20_000, random_state: int = 0) -> float | None:
    """ROC-AUC of gradient boosting telling real child rows joined with their parents from synthetic ones.

    Columns unique in every real row (identifiers) and the columns named in
    ``exclude`` (other keys: ``"sku"`` or ``"products.sku"``) are left out. Folds are grouped by parent row (a
    parent's children are all in one fold) and keep the real and synthetic shares,
    so the detector must tell rows of parents it has not seen apart, not
    recognise a parent it has (every parent's columns are unique, which a
    shuffled split would let it memorise: AUC 1.0 whatever the rows).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    child, fk, parent, key = _parse(relation)
    parts, groups = [], []
    for label, tables in ((0, real), (1, synthetic)):
        j = joined(tables, relation)
        ids = [c for c in j.columns if c == fk or c.endswith(f".{key}")]
        group = np.array([f"{label}:{v}" for v in key_column(tables[child], fk).to_numpy(dtype=object)], dtype=object)
        j = j.drop(columns=[c for c in ids if c in j.columns])
        if len(j) > max_rows:
            pick = np.random.default_rng(random_state).choice(len(j), max_rows, replace=False)
            j, group = j.iloc[pick], group[pick]
        parts.append(j.assign(__y=label).reset_index(drop=True))
        groups.append(group)
    X = pd.concat(parts, ignore_index=True)
    y = X.pop("__y").to_numpy()
    unique = [c for c in parts[0].columns if c != "__y" and parts[0][c].is_unique and len(parts[0]) > 1]
    X = X.drop(columns=unique + [c for c in X.columns if c in exclude or c.split(".", 1)[-1] in exclude])
    g = np.concatenate(groups)
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype):
            X[c] = pd.factorize(X[c].astype(str))[0]
    if len(np.unique(g)) < 5:
        return None
    scores = np.zeros(len(y))
    # folds keep the real / synthetic shares (a fold with more synthetic rows than the others would be scored
    # by a model trained on fewer: pooled over folds, a detector that learns nothing would score below 0.5)
    for train, test in StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=random_state).split(X, y, g):
        model = HistGradientBoostingClassifier(random_state=random_state).fit(X.iloc[train], y[train])
        scores[test] = model.predict_proba(X.iloc[test])[:, 1]
    return float(roc_auc_score(y, scores))
