"""Conditional trees: a chain of decision trees, one per column, sampled leaf by leaf.

The joint distribution is factorised along a column order (the class
column of class-conditional augmentation first, then the categorical codes,
then the numbers)::

    p(x) = p(x_1) p(x_2 | x_1) ... p(x_d | x_1 .. x_{d-1})

and each factor is a CART tree (scikit-learn's ``DecisionTreeRegressor`` /
``DecisionTreeClassifier``, at least ``min_samples_leaf`` rows per leaf)
fitted on the encoded table. A row is drawn column by column: the row goes
down the column's tree to a leaf, and the value is drawn from that leaf:

* a category from the leaf's class frequencies (shrunk towards the column's
  marginal by ``alpha`` pseudo-rows, so a leaf never rules out a category
  outright);
* a number with many distinct values (more than ``max(10, sqrt(rows))``)
  from the leaf's training values, each spread uniformly half-way to the
  next value below and above (the leaf's empirical distribution smoothed,
  never shifted and never outside the leaf's range); a number with few
  distinct values (ages, counts) as the values occur in the leaf.

The smoothing is what keeps synthetic rows from replaying training rows.
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
            marginal = np.bincount(y.astype("int64"), minlength=card) / max(n, 1)
            probs = (counts + alpha * marginal) / np.maximum(counts.sum(1, keepdims=True) + alpha, 1e-12)
            return cls(np.asarray(cols, "int32"), left, right, feature, threshold, card, probs=probs.astype("float32"))
        if n == 0:  # a number that is never a regular value: nothing to draw from but its median
            return cls(np.asarray(cols, "int32"), left, right, feature, threshold, 0, offsets=np.array([0, 1]),
                       values=np.zeros(1, "float32"))
        order = np.lexsort((y, leaf))  # by leaf, then by value: each leaf's range is its first and last value
        values = y[order].astype("float32")
        offsets = np.r_[0, np.cumsum(np.bincount(leaf, minlength=n_nodes))].astype("int64")
        discrete = len(np.unique(y)) <= max(10.0, np.sqrt(n))
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
        """One value per row of ``X``, drawn from its leaf (``no_last``: never the last code)."""
        leaf = self.apply(X)
        if self.card:
            p = self.probs.astype("float64")
            if no_last and self.card > 1:
                p = p.copy()
                p[:, -1] = 0.0
                p[p.sum(1) <= 0, :-1] = 1.0
            # one search over every node's cumulative distribution, shifted to [node, node + 1]
            cum = np.cumsum(p, axis=1)
            cum = cum / np.maximum(cum[:, -1:], 1e-300) + np.arange(len(p))[:, None]
            pos = np.searchsorted(cum.ravel(), leaf + rng.random(len(leaf)), side="right")
            return np.clip(pos - leaf * self.card, 0, self.card - 1).astype("float32")
        start, m = self.offsets[leaf], self.offsets[leaf + 1] - self.offsets[leaf]
        # a training value of the leaf, spread uniformly over its cell: half-way to the next value
        # below and above (so the leaf's values are smoothed, not shifted, and never leave its range);
        # 0 <= smoothing <= 1 scales the spread, 0 replays training values
        i = start + np.minimum((rng.random(len(leaf)) * m).astype("int64"), m - 1)
        below = self.values[np.maximum(i - 1, start)]
        above = self.values[np.minimum(i + 1, start + m - 1)]
        w = (rng.random(len(leaf)) - 0.5) * (0.0 if self.discrete else smoothing)
        v = self.values[i] + w * np.where(w < 0, self.values[i] - below, above - self.values[i])
        return v.astype("float32")

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
    min_samples_leaf : int, default 30
        Fewest training rows in a leaf: every value is drawn from at least
        this many rows (larger: smoother, more private; smaller: sharper).
    smoothing : float, default 1.0
        How far a continuous number drawn from a leaf is spread towards
        its neighbouring training values (1 = half-way, 2 = all the way;
        0 replays the leaf's values exactly).
    alpha : float, default 3.0
        Pseudo-rows of the column's marginal added to each leaf's class
        counts (a leaf of 30 rows keeps 91% of its own frequencies).
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
        min_samples_leaf: int = 30,
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
        check_params(self, {"min_samples_leaf": "pos_int", "smoothing": "upto2", "alpha": "nonneg_float",
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
        self.chain_, self.full_ = [None] * d, [None] * d
        done = 0
        for pos, col in enumerate(order):
            kw = dict(min_leaf=self.min_samples_leaf, alpha=self.alpha, seed=seed + col)
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
        return {"layout": self.layout_.to_dict()}, arrays

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
        self.chain_ = [_Tree.from_arrays(arrays, f"chain{c}", cards[c], d) for c in range(d)]
        self.full_ = [_Tree.from_arrays(arrays, f"full{c}", cards[c], d) for c in range(d)]
        return self


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
