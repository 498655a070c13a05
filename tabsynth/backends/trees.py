"""Conditional trees: a chain of decision trees, one per column, sampled leaf by leaf.

The joint distribution is factorised along a column order (the class
column of class-conditional augmentation first, then the categorical codes,
then the numbers)::

    p(x) = p(x_1) p(x_2 | x_1) ... p(x_d | x_1 .. x_{d-1})

and each factor is a CART tree (scikit-learn's ``DecisionTreeRegressor`` /
``DecisionTreeClassifier``, at least ``min_samples_leaf`` rows per leaf)
fitted on the encoded table. A row is drawn column by column: the row goes
down the column's tree to a leaf, and the value is drawn from that leaf:

* a category from the leaf's class frequencies (shrunk towards its parent
  node's by ``alpha`` pseudo-rows, so a leaf never rules out a category
  outright and a column's shares are kept);
* a number with many distinct values (more than ``max(10, sqrt(rows))``,
  and fewer than a fifth of its rows) from a kernel density estimate of the leaf's training values: a value of
  the leaf plus Gaussian noise of Silverman's bandwidth for the leaf,
  shrunk towards the leaf's mean so that its variance is kept, reflected
  at the leaf's smallest and largest value; a number with few distinct
  values (ages, counts) or with values that repeat (amounts of a few
  hundred values over thousands of rows) as the values occur in the leaf.

The rows that reach one leaf draw with stratified uniforms, so that the
leaf's draws follow its distribution closely. The kernel is what keeps
synthetic rows from replaying training rows.
Numbers that are a spike or missing (their state code is not 0, see
:mod:`tabsynth.encoding`) hold random filler values: the trees see one
constant there, and a number's own trees learn from its regular values only.

Conditioning on any subset of columns (``sample(n, given=...)``, imputation)
uses a second set of trees, one per column given *all* the others. Unknown
cells are first drawn along the chain with the known cells clamped (exact
when the known cells come first in the order, e.g. the class of each row),
then refreshed by ``gibbs_sweeps`` sweeps of those full conditionals (a
pseudo-Gibbs sampler, as in chained-equation imputation).

Privacy rule: every value is drawn from a leaf of at least
``min_samples_leaf`` training rows, and continuous numbers are smoothed;
an exact copy of a training row needs every continuous number to land on a
training value (see benchmarks/README.md for the measured copy rates and
distances to the closest record).

Saved without pickle: each tree is kept as plain arrays (children,
features, thresholds, leaf values) and walked by ``_Tree.apply``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..encoding import Encoded, Layout
from .base import BackendBase, Progress, check_given, check_params

#: columns weighed at each split (all of them on tables up to this width)
MAX_FEATURES = 32
#: a number whose values repeat this many times on average is drawn as its values occur (see ``_Tree.fit``)
TIED = 5
#: what the trees see in the cell of a number that is a spike or missing (normal scores lie in +-5.3)
_FILLER = np.float32(-9.0)


class _Tree:
    """One fitted tree as arrays: routing plus what each leaf draws from."""

    def __init__(self, cols: np.ndarray, left: np.ndarray, right: np.ndarray, feature: np.ndarray,
                 threshold: np.ndarray, card: int, probs: np.ndarray | None = None,
                 offsets: np.ndarray | None = None, values: np.ndarray | None = None, discrete: bool = False):
        self.cols = cols  # global column index of each feature
        self.left, self.right, self.feature, self.threshold = left, right, feature, threshold
        self.card = card  # 0 for a number
        self.probs, self.offsets, self.values = probs, offsets, values
        self.discrete = discrete  # a number with few distinct values: drawn values are training values

    # ------------------------------------------------------------------ fit
    @classmethod
    def fit(cls, X: np.ndarray, cols: np.ndarray, y: np.ndarray, card: int, *, min_leaf: int, alpha: float,
            seed: int) -> "_Tree":
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        n = len(y)
        if len(cols) and n >= 2 * min_leaf:
            Model = DecisionTreeClassifier if card else DecisionTreeRegressor
            # wide tables: each split weighs at most MAX_FEATURES candidate columns (drawn per split),
            # so the cost grows linearly, not quadratically, with the number of columns
            k = min(len(cols), MAX_FEATURES)
            model = Model(min_samples_leaf=min_leaf, max_features=k, random_state=seed)
            with warnings.catch_warnings():  # many classes on few rows is expected here (e.g. a code column)
                warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
                model.fit(X[:, cols], y)
            t = model.tree_
            left, right = t.children_left.astype("int32"), t.children_right.astype("int32")
            feature = np.where(left < 0, -1, cols[np.maximum(t.feature, 0)]).astype("int32")
            threshold = t.threshold.astype("float64")
            leaf = model.apply(X[:, cols]).astype("int64")
        else:  # no features (first column of the chain) or too few rows: one leaf
            left = right = np.array([-1], dtype="int32")
            feature = np.array([-1], dtype="int32")
            threshold = np.zeros(1)
            leaf = np.zeros(n, dtype="int64")
        n_nodes = len(left)
        if card:
            counts = np.zeros((n_nodes, card))
            np.add.at(counts, (leaf, y.astype("int64")), 1.0)
            probs = _smoothed_frequencies(counts, left, right, alpha)
            return cls(np.asarray(cols, "int32"), left, right, feature, threshold, card, probs=probs.astype("float32"))
        if n == 0:  # a number that is never a regular value: nothing to draw from but its median
            return cls(np.asarray(cols, "int32"), left, right, feature, threshold, 0, offsets=np.array([0, 1]),
                       values=np.zeros(1, "float32"))
        order = np.lexsort((y, leaf))  # by leaf, then by value: each leaf's range is its first and last value
        values = y[order].astype("float32")
        offsets = np.r_[0, np.cumsum(np.bincount(leaf, minlength=n_nodes))].astype("int64")
        distinct = len(np.unique(y))
        # few distinct values (ages, counts), or values that repeat (amounts such as adult's capital gains,
        # a few hundred values over thousands of rows): drawn as they occur, not smoothed across
        discrete = distinct <= max(10.0, np.sqrt(n)) or n >= TIED * distinct
        return cls(np.asarray(cols, "int32"), left, right, feature, threshold, 0, offsets=offsets, values=values,
                   discrete=discrete)

    # ---------------------------------------------------------------- use
    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf of each row (the same routing as scikit-learn: ``x <= threshold`` goes left)."""
        node = np.zeros(len(X), dtype="int64")
        active = np.arange(len(X))
        while active.size:
            f = self.feature[node[active]]
            inner = f >= 0
            active, f = active[inner], f[inner]
            if not active.size:
                break
            cur = node[active]
            go_left = X[active, f] <= self.threshold[cur]
            node[active] = np.where(go_left, self.left[cur], self.right[cur])
        return node

    def draw(self, X: np.ndarray, rng: np.random.Generator, no_last: bool = False, smoothing: float = 1.0) -> np.ndarray:
        """One value per row of ``X``, drawn from its leaf (``no_last``: never the last code).

        The rows that share a leaf draw with stratified uniforms (:func:`_stratified`), so a leaf's draws
        follow its distribution closely rather than with the scatter of independent draws.
        """
        leaf = self.apply(X)
        u = _stratified(leaf, rng)
        if self.card:
            p = self.probs.astype("float64")
            if no_last and self.card > 1:
                p = p.copy()
                p[:, -1] = 0.0
                p[p.sum(1) <= 0, :-1] = 1.0
            # one search over every node's cumulative distribution, shifted to [node, node + 1]
            cum = np.cumsum(p, axis=1)
            cum = cum / np.maximum(cum[:, -1:], 1e-300) + np.arange(len(p))[:, None]
            pos = np.searchsorted(cum.ravel(), leaf + u, side="right")
            return np.clip(pos - leaf * self.card, 0, self.card - 1).astype("float32")
        start, m = self.offsets[leaf], self.offsets[leaf + 1] - self.offsets[leaf]
        i = start + np.minimum((u * m).astype("int64"), m - 1)
        if self.discrete or smoothing <= 0:
            return self.values[i].astype("float32", copy=False)
        v = self.values[i].astype("float64")
        # a kernel density estimate of the leaf's values: a training value plus Gaussian noise of the
        # leaf's bandwidth, shrunk towards the leaf's mean so the leaf's variance is kept, reflected
        # at the leaf's smallest and largest value (so a draw never leaves the leaf's range)
        mean, sd, band = self._kernel()
        h = smoothing * band[leaf]
        s = sd[leaf]
        noise = rng.standard_normal(len(leaf))
        shrink = np.where(s > 0, 1.0 / np.sqrt(1.0 + (h / np.where(s > 0, s, 1.0)) ** 2), 1.0)
        v = mean[leaf] + (v - mean[leaf] + h * noise) * shrink
        lo, hi = self.values[start], self.values[start + m - 1]
        v = np.where(v > hi, 2 * hi - v, v)
        v = np.where(v < lo, 2 * lo - v, v)
        return np.clip(v, lo, hi).astype("float32")

    def _kernel(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per node: mean, standard deviation and Silverman bandwidth of its training values.

        The bandwidth is ``0.9 * min(sd, IQR / 1.34) * m ** (-1/5)`` for a leaf of ``m`` values
        (the IQR is left out when it is zero, e.g. a leaf of mostly tied values).
        """
        if getattr(self, "_kern", None) is None:
            # fitted trees always hold values (a number never regular keeps one), and a node's values are sorted
            start, m = self.offsets[:-1].astype("int64"), np.diff(self.offsets).astype("int64")
            has = m > 0
            vals = self.values.astype("float64")
            sums, sq = np.zeros(len(m)), np.zeros(len(m))
            sums[has] = np.add.reduceat(vals, start[has])
            sq[has] = np.add.reduceat(vals ** 2, start[has])
            mm = np.maximum(m, 1)
            mean = sums / mm
            sd = np.sqrt(np.maximum(sq / mm - mean ** 2, 0.0))

            def quantile(q: float) -> np.ndarray:
                return vals[np.minimum(start + (q * (mm - 1)).astype("int64"), len(vals) - 1)]

            iqr = (quantile(0.75) - quantile(0.25)) / 1.34
            spread = np.where(iqr > 0, np.minimum(sd, iqr), sd)
            self._kern = (mean, sd, np.where(has, 0.9 * spread * mm ** -0.2, 0.0))
        return self._kern

    # -------------------------------------------------------------- state
    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {"cols": self.cols, "left": self.left, "right": self.right, "feature": self.feature, "threshold": self.threshold}
        if self.card:
            out["probs"] = self.probs
        else:
            out.update(offsets=self.offsets, values=self.values, discrete=np.array(self.discrete))
        return {f"{prefix}_{k}": v for k, v in out.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, card: int, d: int) -> "_Tree":
        a = {k: arrays[f"{prefix}_{k}"] for k in ("cols", "left", "right", "feature", "threshold")}
        n_nodes = len(a["left"])
        ok = all(len(a[k]) == n_nodes for k in ("right", "feature", "threshold"))
        ok = ok and bool(((a["left"] >= -1) & (a["left"] < n_nodes)).all() and ((a["right"] >= -1) & (a["right"] < n_nodes)).all())
        ok = ok and bool((a["feature"] < d).all())
        if card:
            probs = arrays[f"{prefix}_probs"]
            ok = ok and probs.shape == (n_nodes, card)
            tree = cls(a["cols"], a["left"], a["right"], a["feature"], a["threshold"], card, probs=probs)
        else:
            offsets, values = arrays[f"{prefix}_offsets"], arrays[f"{prefix}_values"]
            ok = ok and len(offsets) == n_nodes + 1 and int(offsets[0]) == 0 and bool((np.diff(offsets) >= 0).all())
            ok = ok and int(offsets[-1]) == len(values)
            tree = cls(a["cols"], a["left"], a["right"], a["feature"], a["threshold"], 0, offsets=offsets, values=values,
                       discrete=bool(arrays[f"{prefix}_discrete"]))
        if not ok:
            raise ValueError(f"tree {prefix} arrays are inconsistent")
        return tree


class TreesBackend(BackendBase):
    """A chain of CART trees, one per column, sampled from their leaves.

    Parameters
    ----------
    min_samples_leaf : int or "auto", default "auto"
        Fewest training rows in a leaf: every value is drawn from at least
        this many rows (larger: smoother, more private; smaller: sharper).
        ``"auto"``: ``max(30, round(sqrt(rows) / 3))``, i.e. 30 up to 8,000
        rows, 54 for adult's 26,048, 333 for a million (the number of leaves
        grows like the square root of the rows); the fitted value is
        ``min_samples_leaf_``.
    smoothing : float, default 1.0
        Bandwidth of the kernel a continuous number is drawn with, as a
        multiple of Silverman's rule for its leaf (0 replays the leaf's
        values exactly; at most 2).
    alpha : float, default 3.0
        Pseudo-rows of the parent node's class frequencies added to each
        node's class counts (a leaf of 30 rows keeps 91% of its own).
    gibbs_sweeps : int, default 3
        Sweeps of the full conditionals after the chain when some cells are
        given out of the chain's order (``sample(given=...)``, imputation).
    class_column : int or None, default None
        Index of a categorical column of the encoded layout (tabsynth sets
        it to the target of class-conditional augmentation): first in the
        chain, so rows drawn given a class follow that class's trees.
    """

    name = "trees"

    def __init__(
        self,
        *,
        min_samples_leaf: int | str = "auto",
        smoothing: float = 1.0,
        alpha: float = 3.0,
        gibbs_sweeps: int = 3,
        class_column: int | None = None,
    ):
        self.min_samples_leaf = min_samples_leaf
        self.smoothing = smoothing
        self.alpha = alpha
        self.gibbs_sweeps = gibbs_sweeps
        self.class_column = class_column

    def _check(self, layout: Layout) -> None:
        check_params(self, {"min_samples_leaf": "auto_or_pos_int", "smoothing": "upto2", "alpha": "nonneg_float",
                            "gibbs_sweeps": "nonneg_int", "class_column": "none_or_nonneg_int"})
        if self.class_column is not None and self.class_column >= layout.n_cat:
            raise ValueError(f"class_column={self.class_column} but the table has {layout.n_cat} categorical columns")

    def _order(self, layout: Layout) -> np.ndarray:
        """Chain order over the global columns (numbers 0..n_num-1, then categories)."""
        cats = [layout.n_num + j for j in range(layout.n_cat)]
        if self.class_column is not None:
            first = layout.n_num + self.class_column
            cats = [first] + [c for c in cats if c != first]
        return np.array(cats + list(range(layout.n_num)), dtype="int64")

    def _cards(self, layout: Layout) -> list[int]:
        return [0] * layout.n_num + list(layout.cardinalities)

    def fit(self, data: Encoded, *, rng: np.random.Generator, progress: Progress | None = None) -> "TreesBackend":
        lay = data.layout
        self._check(lay)
        X = _matrix(data)
        regular = _regular(X, lay)
        _hide_fillers(X, lay)
        d = X.shape[1]
        order = self._order(lay)
        cards = self._cards(lay)
        seed = int(rng.integers(0, 2**31 - 1))
        self.min_samples_leaf_ = min_leaf = auto_min_leaf(data.n) if self.min_samples_leaf == "auto" else int(self.min_samples_leaf)
        self.chain_, self.full_ = [None] * d, [None] * d
        done = 0
        for pos, col in enumerate(order):
            kw = dict(min_leaf=min_leaf, alpha=self.alpha, seed=seed + col)
            # a number's trees learn from the rows where it is a regular value (not a spike, not missing)
            rows = regular[:, col] if col < lay.n_num else slice(None)
            Xr = X[rows]
            self.chain_[col] = _Tree.fit(Xr, order[:pos], Xr[:, col], cards[col], **kw)
            others = np.array([c for c in range(d) if c != col], dtype="int64")
            self.full_[col] = _Tree.fit(Xr, others, Xr[:, col], cards[col], **kw)
            done += 1
            if progress is not None:
                progress("trees", done, d)
        self.layout_ = lay
        self.order_ = order
        return self

    # ------------------------------------------------------------ sampling
    def sample(self, n: int, *, given: Encoded | None = None, rng: np.random.Generator) -> Encoded:
        check_given(given, n)
        lay = self.layout_
        d = lay.n_num + lay.n_cat
        state_of_col = {lay.n_num + k: j for k, j in lay.state_pairs()}  # state column -> its number
        col_of_state = {j: s for s, j in state_of_col.items()}  # number -> its state column
        no_last = [False] * d
        if given is not None and given.exclude_missing:
            no_last = [False] * lay.n_num + list(lay.has_missing_code)

        def draw(tree: _Tree, col: int, rows: np.ndarray, Xs: np.ndarray) -> None:
            """Draw ``col`` for ``rows``, keeping fillers where the trees were fitted with them."""
            Xs[rows, col] = tree.draw(Xs[rows], rng, no_last[col], self.smoothing)
            if col in state_of_col:  # a spike or missing number: its cell is a filler; a regular one waits for its draw
                j = state_of_col[col]
                Xs[rows, j] = np.where(Xs[rows, col] != 0, _FILLER, np.where(Xs[rows, j] == _FILLER, 0.0, Xs[rows, j]))
            elif col in col_of_state:  # a number drawn where its state says spike or missing stays a filler
                Xs[rows, col] = np.where(Xs[rows, col_of_state[col]] != 0, _FILLER, Xs[rows, col])

        if given is None:
            X = np.zeros((n, d), dtype="float32")
            every = np.arange(n)
            for col in self.order_:
                draw(self.chain_[col], col, every, X)
            return _split(X, lay)
        X = _matrix(given)
        _hide_fillers(X, lay)
        known = np.hstack([
            given.mask_num if given.mask_num is not None else np.ones((n, lay.n_num), bool),
            given.mask_cat if given.mask_cat is not None else np.ones((n, lay.n_cat), bool),
        ])

        for col in self.order_:
            rows = np.flatnonzero(~known[:, col])
            if rows.size:
                draw(self.chain_[col], col, rows, X)
        # rows whose known cells all come before their unknown ones in the chain are exact draws
        pos = np.empty(d, dtype="int64")
        pos[self.order_] = np.arange(d)
        last_known = np.where(known, pos, -1).max(1, initial=-1)
        first_unknown = np.where(~known, pos, d).min(1, initial=d)
        redo = last_known > first_unknown
        if redo.any() and self.gibbs_sweeps:
            idx = np.flatnonzero(redo)
            Xr, kr = X[idx], known[idx]
            for _ in range(self.gibbs_sweeps):
                for col in self.order_:
                    rows = np.flatnonzero(~kr[:, col])
                    if rows.size:
                        draw(self.full_[col], col, rows, Xr)
            X[idx] = Xr
        out = _split(X, lay)
        # observed cells come back exactly as given (fillers included)
        x_num = np.where(known[:, : lay.n_num], given.x_num, out.x_num).astype("float32")
        return Encoded(x_num, out.x_cat, lay, given.mask_num, given.mask_cat, given.exclude_missing)

    # --------------------------------------------------------------- state
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {"order": self.order_}
        for col in range(len(self.chain_)):
            arrays.update(self.chain_[col].arrays(f"chain{col}"))
            arrays.update(self.full_[col].arrays(f"full{col}"))
        return {"layout": self.layout_.to_dict(), "min_samples_leaf": getattr(self, "min_samples_leaf_", None)}, arrays

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]) -> "TreesBackend":
        self = cls(**params)
        lay = Layout.from_dict(meta["layout"])
        d = lay.n_num + lay.n_cat
        order = np.asarray(arrays["order"], dtype="int64")
        if sorted(order.tolist()) != list(range(d)):
            raise ValueError("trees: column order does not match the layout")
        cards = self._cards(lay)
        self.layout_, self.order_ = lay, order
        if meta.get("min_samples_leaf") is not None:
            self.min_samples_leaf_ = int(meta["min_samples_leaf"])
        self.chain_ = [_Tree.from_arrays(arrays, f"chain{c}", cards[c], d) for c in range(d)]
        self.full_ = [_Tree.from_arrays(arrays, f"full{c}", cards[c], d) for c in range(d)]
        return self


def auto_min_leaf(n_rows: int) -> int:
    """``min_samples_leaf="auto"``: ``max(30, round(sqrt(n_rows) / 3))``.

    Leaves of 30 rows on every table sharpened adult's conditionals until its
    synthetic rows sat closer to the training rows than unseen real rows do
    (median DCR 0.0254 vs 0.0266); 50-row leaves there kept DCR above the
    holdout's with the same TSTR (benchmarks/README.md, "The current defaults,
    told and not told the target").
    """
    return int(max(30, round(np.sqrt(max(int(n_rows), 0)) / 3.0)))


def _smoothed_frequencies(counts: np.ndarray, left: np.ndarray, right: np.ndarray, alpha: float) -> np.ndarray:
    """Class frequencies of every node, each shrunk towards its parent's by ``alpha`` pseudo-rows.

    ``counts`` holds the leaves' class counts (zero elsewhere); internal nodes get their children's sums.
    The root keeps the column's marginal and every other node is ``(counts + alpha * parent) / (rows +
    alpha)``, top down. Shrinking towards the parent rather than the marginal keeps the column's
    share: a small pure leaf of a minority class is pulled towards its mostly-minority parent, not
    towards the majority (towards the marginal, adult's ``sex`` drew 0.9 points too many men).
    """
    counts = counts.copy()
    n_nodes = len(left)
    parent = np.full(n_nodes, -1, dtype="int64")
    inner = np.flatnonzero(left >= 0)
    parent[left[inner]] = inner
    parent[right[inner]] = inner
    # levels top down (scikit-learn numbers a node after its parent, but not level by level)
    levels = [np.array([0])]
    while True:
        cur = levels[-1]
        cur = cur[left[cur] >= 0]
        if not cur.size:
            break
        levels.append(np.concatenate([left[cur], right[cur]]).astype("int64"))
    for nodes in reversed(levels[1:]):
        np.add.at(counts, parent[nodes], counts[nodes])
    rows = counts.sum(1, keepdims=True)
    probs = np.empty_like(counts)
    probs[0] = counts[0] / max(float(rows[0, 0]), 1e-12)
    for nodes in levels[1:]:
        probs[nodes] = (counts[nodes] + alpha * probs[parent[nodes]]) / np.maximum(rows[nodes] + alpha, 1e-12)
    return probs


def _stratified(group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniforms in [0, 1), stratified within each group: the k rows of a group get one in each k-th.

    The rows of a group take the strata ``[r/k, (r+1)/k)`` in a random order, with a uniform
    position inside each: every draw is still uniform, but a group's k draws cover [0, 1) evenly
    (variance reduction; with an inverse-CDF draw the group's values follow its distribution with an
    error of order 1/k instead of 1/sqrt(k)).
    """
    n = len(group)
    if n == 0:
        return np.zeros(0)
    jitter = rng.random(n)
    order = np.lexsort((rng.random(n), group))  # by group, randomly within a group
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    size = np.diff(np.r_[start, n])
    first = np.repeat(start, size)
    rank = np.empty(n, dtype="float64")
    rank[order] = np.arange(n) - first
    k = np.empty(n, dtype="float64")
    k[order] = np.repeat(size, size)
    return (rank + jitter) / k


def _regular(X: np.ndarray, lay: Layout) -> np.ndarray:
    """``(n, d)`` bool: False where a number is a spike or missing (its state code is not 0)."""
    out = np.ones(X.shape, dtype=bool)
    for k, j in lay.state_pairs():
        out[:, j] = X[:, lay.n_num + k] == 0
    return out


def _hide_fillers(X: np.ndarray, lay: Layout) -> None:
    """Numbers that are spikes or missing hold random filler values: show the trees one constant instead."""
    for k, j in lay.state_pairs():
        X[:, j] = np.where(X[:, lay.n_num + k] != 0, _FILLER, X[:, j])


def _matrix(enc: Encoded) -> np.ndarray:
    """Numbers then category codes, one float32 matrix (as the trees see it)."""
    return np.hstack([enc.x_num.astype("float32"), enc.x_cat.astype("float32")])


def _split(X: np.ndarray, lay: Layout) -> Encoded:
    x_num = X[:, : lay.n_num]
    x_num = np.where(x_num == _FILLER, 0.0, x_num).astype("float32")  # the decoder ignores these cells
    return Encoded(x_num, np.rint(X[:, lay.n_num :]).astype("int64"), lay)
