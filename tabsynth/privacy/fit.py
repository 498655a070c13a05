"""The private fit (MST-style): domains, noisy 1-way marginals, a private spanning tree, noisy 2-way marginals.

Steps, each spending from one :class:`~tabsynth.privacy.accounting.Budget`:

1. Domains (:mod:`tabsynth.privacy.domain`): what the public schema and the
   dtypes do not fix is estimated (DP bounds, stable thresholding of
   categories and frequent exact values).
2. Every column's histogram over its fine codes, with Gaussian noise
   (L2 sensitivity 1 per histogram). The number of rows is estimated from
   these noisy counts (no extra budget).
3. Coarse levels per column, from the noisy histograms only (post-processing):
   numbers in up to ``K`` groups of about equal mass, categories kept one by
   one when their noisy count is clearly above the noise, the rest pooled;
   ``K`` shrinks as the noise grows.
4. A maximum spanning tree of column pairs, chosen edge by edge with the
   exponential mechanism: a pair's score is the L1 distance between its true
   coarse 2-way table and the independence estimate from the noisy 1-way
   marginals (sensitivity 1), as MST (McKenna et al. 2021) does.
5. The tree's 2-way tables with Gaussian noise; then estimates made
   consistent: each column's coarse marginal combines its own and its edges'
   noisy measurements by inverse variance, every table is clipped at 0 and
   fitted to its two margins (iterative proportional fitting).

With a ``target``, every other column's table also holds it (a tree-augmented
naive Bayes network): the tree is chosen among the other columns and its edges
are measured as 3-way tables with the target (:func:`fit_tree`).

Sampling draws along the tree (exactly given any known cells: a message pass
up the tree, then draws down), a fine level within each coarse level from
the fine histogram, and a number uniformly within its bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RandomState, make_rng
from ..errors import InputError
from ..schema import TableSchema, check_columns
from .accounting import Budget, check_budget, exponential_epsilon, gaussian_sigma
from .domain import (
    FINE_BINS,
    MAX_SPIKES,
    NUMBER_KINDS,
    ColumnDomain,
    ColumnPlan,
    dp_bounds,
    dp_frequent,
    load_public_schema,
    numbers,
    plan_column,
    value_counts,
)
from .model import PrivateEncoder, PrivateTree

MECHANISM = "mst"
#: shares of the budget (rho): domain estimation (when the public schema leaves some), 1-way marginals, tree
#: selection, 2-way marginals; renormalised over the steps a fit needs
SPLIT = {"domains": 0.1, "one_way": 0.3, "selection": 0.15, "two_way": 0.45}
#: at most this many coarse levels per column in the 2-way tables
MAX_COARSE = 16
#: a 2-way table's expected noise (L1) is kept below about this share of the rows when choosing coarse levels
NOISE_SHARE = 0.06
MAX_CATEGORIES = 1000


@dataclass
class PrivateFit:
    """What a private fit releases: the schema, the encoder, the generator and the privacy report."""

    schema: TableSchema
    encoder: PrivateEncoder
    generator: PrivateTree
    report: dict[str, Any]


def fit_private(df: pd.DataFrame, *, epsilon: float, delta: float | None = None,
                public_schema: str | Path | Mapping | None = None, categorical: Iterable[str] | None = None,
                ignore: Iterable[str] | None = None, target: str | None = None,
                random_state: RandomState = None) -> PrivateFit:
    """An (epsilon, delta)-differentially private model of ``df`` (see the module's docstring).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"x": np.arange(400) % 7, "c": ["a", "b"] * 200})
    >>> fit = fit_private(df, epsilon=10, random_state=0)
    >>> fit.report["mechanism"], fit.report["epsilon"]
    ('mst', 10.0)
    """
    eps, dl = check_budget(epsilon, delta)
    public = load_public_schema(public_schema)
    names = [str(c) for c in df.columns]
    for name in public:
        if name not in names:
            raise InputError(f"public schema: column {name!r} is not in the table; columns are: {', '.join(names)}")
    ignored = set(check_columns(df, ignore, "ignore"))
    forced = set(check_columns(df, categorical, "categorical"))
    if target is not None:
        check_columns(df, [target], "target")
    cols = [c for c in df.columns if str(c) not in ignored]
    if not cols:
        raise InputError("every column is ignored; a private fit needs at least one column")
    rng = make_rng(random_state)
    plans = [plan_column(str(c), df[c], public.get(str(c)), str(c) in forced) for c in cols]
    needs = any(p.needs_bounds or p.needs_values for p in plans)
    budget = Budget(eps, dl, thresholding=any(p.needs_values for p in plans))
    cls = next((j for j, c in enumerate(cols) if target is not None and str(c) == str(target)), None)
    # a tree is chosen among the columns other than a target: with a target and two others or fewer there is no
    # choice to pay for (without one, two columns still spend it, as they always have)
    shares = {k: v for k, v in SPLIT.items() if (k != "domains" or needs)
              and (len(cols) > 1 or k not in ("selection", "two_way"))
              and not (cls is not None and k == "selection" and len(cols) - 1 < 3)}
    total = sum(shares.values())
    rho = {k: budget.rho * v / total for k, v in shares.items()}
    if needs:
        estimate_domains(df, cols, plans, budget, rho["domains"], rng)
    domains = [p.domain for p in plans]
    codes = np.column_stack([dom.encode(df[c])[0] for dom, c in zip(domains, cols)])
    tree, rows, fine = fit_tree(codes, domains, budget, rho, rng, cls)
    schema = TableSchema(columns=[d.spec(f) for d, f in zip(domains, fine)], n_rows=rows)
    report = budget.report(MECHANISM)
    report["rows"] = rows
    report["tree"] = [[domains[tree.parent[j]].name, domains[j].name] for j in tree.order if tree.parent[j] >= 0]
    if tree.target >= 0:  # every other column's tables also hold the target
        report["target"] = domains[tree.target].name
    report["columns"] = {d.name: {"kind": d.kind, "levels": d.n_codes, **d.source} for d in domains}
    return PrivateFit(schema, PrivateEncoder(domains, schema), tree, report)


# ------------------------------------------------------------------ domains
def estimate_domains(df: pd.DataFrame, cols: list, plans: list[ColumnPlan], budget: Budget, rho: float,
                     rng: np.random.Generator) -> None:
    """Fill what each plan needs (bounds, categories, spikes) with DP estimates, ``rho`` in all."""
    n_meas = sum(p.needs_bounds + p.needs_values for p in plans)
    n_hist = sum(p.needs_values for p in plans)
    each = rho / n_meas
    sigma = gaussian_sigma(each)
    delta_t = budget.threshold_delta / max(n_hist, 1)
    for p, c in zip(plans, cols):
        dom = p.domain
        s = df[c]
        number = dom.kind in NUMBER_KINDS
        if p.needs_bounds:
            dom.bounds = dp_bounds(numbers(s[s.notna()], dom.kind), dom.kind, sigma, rng)
            budget.spend(each, "domains: bounds", column=dom.name, sigma=sigma)
            dom.source["bounds"] = "dp"
        if p.needs_values:
            keys, counts = value_counts(s, number, dom.kind)
            kept, noisy = dp_frequent(keys, counts, sigma, delta_t, rng)
            budget.spend(each, "domains: values", delta=delta_t, column=dom.name, sigma=sigma)
            top = np.sort(np.argsort(-noisy, kind="stable")[:MAX_SPIKES if number else MAX_CATEGORIES])
            kept = [kept[i] for i in top]
            if number:
                dom.spikes = sorted(float(v) for v in kept)
                dom.source["spikes"] = "dp"
            else:
                dom.categories = kept
                dom.source["categories"] = "dp"
    for p in plans:
        _integer_bins(p.domain)


def _integer_bins(dom: ColumnDomain) -> None:
    """Integer columns: bins that hold whole numbers (one integer per bin over a short range)."""
    if dom.kind not in NUMBER_KINDS or not dom.integer or dom.source.get("integer_bins"):
        return
    lo, hi = np.floor(dom.bounds[0]), np.ceil(dom.bounds[1])
    dom.n_bins = int(min(FINE_BINS, hi - lo + 1))
    dom.bounds = (float(lo) - 0.5, float(hi) + 0.5)
    dom.source["integer_bins"] = True


# --------------------------------------------------------------------- tree
def fit_tree(codes: np.ndarray, domains: list[ColumnDomain], budget: Budget, rho: dict[str, float],
             rng: np.random.Generator, cls: int | None = None) -> tuple[PrivateTree, int, list[np.ndarray]]:
    """Steps 2-5 (module docstring): the tree, the noisy number of rows and each column's fine probabilities.

    ``cls``: the target column, if any. Every other column's table then also holds it (a tree-augmented
    naive Bayes network): the tree is chosen among the other columns, each of its edges is measured as a
    3-way table with the target, and the first column of each part of the tree as a 2-way table with it.
    As many tables are measured as without a target.
    """
    for dom in domains:
        _integer_bins(dom)  # public bounds of integer columns
    n, d = codes.shape
    sizes = [dom.n_codes for dom in domains]
    sigma1 = gaussian_sigma(rho["one_way"] / d)
    budget.spend(rho["one_way"], "one-way marginals", sigma=sigma1, columns=d)
    y = [np.bincount(codes[:, j], minlength=sizes[j]) + rng.normal(0, sigma1, sizes[j]) for j in range(d)]
    inv = np.array([1 / k for k in sizes])
    rows = max(int(round(float(sum(yj.sum() * w for yj, w in zip(y, inv)) / inv.sum()))), 1)
    sigma2 = gaussian_sigma(rho["two_way"] / (d - 1)) if d > 1 else np.inf
    k_max = int(np.clip(np.sqrt(NOISE_SHARE * rows / sigma2), 2, MAX_COARSE)) if d > 1 else 2
    groups: list[np.ndarray] = [np.zeros(0, "int64")] * d
    if cls is not None and d > 1:
        # the target's levels as in a 2-way table; the others' as well for a target of two levels (on adult,
        # shrinking them by the target's level count, so that a 3-way table's noise stays the share of a 2-way
        # one's, cost pair trends 0.008 and TSTR 0.002-0.012 at epsilon 1 and 10, three seeds), and shrunk by
        # the square root of half its level count for targets of more
        groups[cls] = coarse_groups(domains[cls], y[cls], sigma1, k_max)
        k_cls = int(groups[cls].max()) + 1
        k_max = int(np.clip(np.sqrt(NOISE_SHARE * rows / (sigma2 * max(k_cls / 2, 1.0))), 2, MAX_COARSE))
    else:
        cls = None
    for j, (dom, yj) in enumerate(zip(domains, y)):
        if j != cls:
            groups[j] = coarse_groups(dom, yj, sigma1, k_max)
    coarse = np.column_stack([g[codes[:, j]] for j, g in enumerate(groups)])
    ks = [int(g.max()) + 1 for g in groups]
    one_way = [np.bincount(g, weights=yj, minlength=k) for g, yj, k in zip(groups, y, ks)]
    feats = [j for j in range(d) if j != cls]
    edges = []
    if len(feats) == 2 and cls is not None:  # the only tree of two columns: nothing to choose
        edges = [(feats[0], feats[1])]
    elif len(feats) > 1:
        picked = select_tree(coarse[:, feats], [ks[j] for j in feats], [one_way[j] for j in feats], rows, budget,
                             rho["selection"], rng)
        edges = [(feats[i], feats[j]) for i, j in picked]
    parent, order = orient(d, edges, feats[0] if cls is None else cls)
    if cls is not None:  # the target comes first; the others' tree hangs below it
        order = [cls] + [j for j in order if j != cls]
    measured = [(i, j) for i, j in edges] if cls is None else \
        [(cls, j) if parent[j] < 0 else (cls, parent[j], j) for j in order if j != cls]
    tables = {}
    if measured:
        budget.spend(rho["two_way"], "two-way marginals" if cls is None else "marginals with the target",
                     sigma=sigma2, tables=len(measured))
        for key in measured:
            shape = tuple(ks[c] for c in key)
            flat = np.ravel_multi_index(tuple(coarse[:, c] for c in key), shape)
            tables[key] = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape) + rng.normal(0, sigma2, shape)
    marg = consistent_marginals(groups, y, one_way, tables, ks, sigma1, sigma2, rows)
    fine = [fine_probabilities(g, yj, m, rows) for g, yj, m in zip(groups, y, marg)]
    conds: list[np.ndarray | None] = [None] * d
    for key, t in tables.items():
        fitted = ipf(t, [marg[c] for c in key])
        if cls is None:  # (parent, child) as the tree orients the edge
            fitted = fitted if parent[key[1]] == key[0] else fitted.T
            child = key[1] if parent[key[1]] == key[0] else key[0]
        else:  # (target, [parent,] child): the child last, a parent axis of one level when it has none
            child = key[-1]
            fitted = fitted.reshape(ks[cls], -1, ks[child])
        total = fitted.sum(axis=-1, keepdims=True)
        conds[child] = np.where(total > 0, fitted / np.maximum(total, 1e-300), marg[child] / marg[child].sum())
    tree = PrivateTree(groups, fine, parent, order, [m / m.sum() for m in marg], conds,
                       [dom.missing for dom in domains], target=-1 if cls is None else cls)
    return tree, rows, fine


def coarse_groups(dom: ColumnDomain, y: np.ndarray, sigma: float, k_max: int) -> np.ndarray:
    """Coarse level of each fine code, from the noisy histogram ``y`` only; missing is a level of its own."""
    nv = dom.n_values
    vals = np.maximum(y[:nv], 0.0)
    kv = max(k_max - int(dom.missing), 1)
    if dom.kind in NUMBER_KINDS:
        order = np.argsort(dom.positions(), kind="stable")
        cum = np.cumsum(vals[order]) - vals[order]
        total = max(vals.sum(), 1e-9)
        cut = np.minimum((cum / total * kv).astype("int64"), kv - 1)
        g = np.empty(nv, dtype="int64")
        g[order] = np.unique(cut, return_inverse=True)[1]
    else:
        clear = np.flatnonzero(vals >= 3 * sigma)
        if len(clear) >= kv:  # the largest kv - 1 one by one, the rest pooled
            clear = clear[np.argsort(-vals[clear], kind="stable")][:kv - 1]
        keep = np.sort(clear)
        g = np.full(nv, len(keep), dtype="int64")
        g[keep] = np.arange(len(keep))
        g = np.unique(g, return_inverse=True)[1]
    if dom.missing:
        g = np.append(g, g.max() + 1 if nv else 0)
    return g.astype("int64")


def select_tree(coarse: np.ndarray, ks: list[int], one_way: list[np.ndarray], rows: int, budget: Budget,
                rho: float, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Kruskal's maximum spanning tree, each edge drawn by the exponential mechanism on pair scores."""
    d = coarse.shape[1]
    pairs, scores = pair_scores(coarse, ks, one_way, rows)
    eps = exponential_epsilon(rho / (d - 1))
    comp = list(range(d))

    def find(a: int) -> int:
        while comp[a] != a:
            comp[a] = comp[comp[a]]
            a = comp[a]
        return a

    edges = []
    for _ in range(d - 1):
        ok = np.array([find(i) != find(j) for i, j in pairs])
        noisy = np.where(ok, eps * scores / 2 + rng.gumbel(size=len(pairs)), -np.inf)
        i, j = pairs[int(np.argmax(noisy))]
        budget.spend(rho / (d - 1), "tree selection", epsilon_each=eps)
        comp[find(i)] = find(j)
        edges.append((i, j))
    return edges


def pair_scores(coarse: np.ndarray, ks: list[int], one_way: list[np.ndarray],
                rows: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Every pair's L1 distance between its true coarse 2-way table and the independence estimate of the noisy
    1-way marginals: a row added or removed moves one cell of the true table by 1, so a score by at most 1."""
    d = coarse.shape[1]
    est = [np.maximum(m, 0) / max(np.maximum(m, 0).sum(), 1e-9) for m in one_way]
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    scores = np.empty(len(pairs))
    for p, (i, j) in enumerate(pairs):
        t = np.bincount(coarse[:, i] * ks[j] + coarse[:, j], minlength=ks[i] * ks[j]).reshape(ks[i], ks[j])
        scores[p] = np.abs(t - rows * np.outer(est[i], est[j])).sum()
    return pairs, scores


def consistent_marginals(groups, y, one_way, tables, ks, sigma1, sigma2, rows) -> list[np.ndarray]:
    """Each column's coarse counts: its own and its edges' noisy measurements by inverse variance, >= 0, summing to
    the noisy number of rows."""
    out = []
    for j, k in enumerate(ks):
        sizes = np.bincount(groups[j], minlength=k)
        num = one_way[j] / (sizes * sigma1**2)
        den = 1 / (sizes * sigma1**2)
        for key, t in tables.items():
            if j in key:  # the table summed to column j: each count sums `other` cells' noise
                axis = key.index(j)
                margin = t.sum(axis=tuple(a for a in range(t.ndim) if a != axis))
                other = t.size // t.shape[axis]
                num = num + margin / (other * sigma2**2)
                den = den + 1 / (other * sigma2**2)
        m = np.maximum(num / den, 0.0)
        out.append(m * rows / m.sum() if m.sum() > 0 else np.full(k, rows / k))
    return out


def fine_probabilities(g: np.ndarray, y: np.ndarray, marg: np.ndarray, rows: int) -> np.ndarray:
    """Fine-code probabilities: the noisy histogram moved onto the coarse totals ``marg``, >= 0."""
    k = len(marg)
    sizes = np.bincount(g, minlength=k)
    f = y + ((marg - np.bincount(g, weights=y, minlength=k)) / sizes)[g]
    f = np.maximum(f, 0.0)
    tot = np.bincount(g, weights=f, minlength=k)
    f = np.where(tot[g] > 0, f / np.maximum(tot[g], 1e-300), 1 / sizes[g]) * marg[g]
    return f / rows


def ipf(t: np.ndarray, margins: list[np.ndarray], iters: int = 50) -> np.ndarray:
    """A non-negative table close to ``t`` whose sums over all axes but one are ``margins`` (one per axis)."""
    x = np.maximum(t, 0.0) + 1e-9
    for _ in range(iters):
        for axis, m in enumerate(margins):
            others = tuple(a for a in range(x.ndim) if a != axis)
            shape = [1] * x.ndim
            shape[axis] = len(m)
            x *= (m / np.maximum(x.sum(axis=others), 1e-300)).reshape(shape)
    return x


def orient(d: int, edges: list[tuple[int, int]], root: int) -> tuple[list[int], list[int]]:
    """Parents and a parents-first order of the tree (or forest) ``edges``, from ``root``."""
    nbrs: dict[int, list[int]] = {j: [] for j in range(d)}
    for i, j in edges:
        nbrs[i].append(j)
        nbrs[j].append(i)
    parent, order, seen = [-1] * d, [], set()
    for start in [root, *range(d)]:
        if start in seen:
            continue
        seen.add(start)
        queue = [start]
        while queue:
            a = queue.pop(0)
            order.append(a)
            for b in sorted(nbrs[a]):
                if b not in seen:
                    seen.add(b)
                    parent[b] = a
                    queue.append(b)
    return parent, order
