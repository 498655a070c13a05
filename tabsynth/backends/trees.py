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
  and not repeated as below) from a kernel density estimate of the leaf's training values: a value of
  the leaf plus Gaussian noise of Silverman's bandwidth for the leaf,
  shrunk towards the leaf's mean so that its variance is kept, reflected
  at the leaf's smallest and largest value; a number with few distinct
  values (ages, counts) or with values that repeat (amounts of a few
  hundred values over thousands of rows: ``TIED`` rows per value, and
  ``ROW_TIED`` rows sharing a row's value, on average) as the values occur
  in the leaf.

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
training value. On a table whose rows can come back exactly (at least
``REPLAYABLE`` of them have no continuous number: categories, small
integers, spikes and missing values only) a chain tree grown on every
previous column also learns each frequent combination's own rows, and its
small leaves replay them: there the chain trees of the categories and the
discrete numbers are grown on 80% of the rows, pruned on the other 20%
(a split stays when it predicts the held-out rows better by at least
``SPLIT_PRICE`` nats of log-likelihood), and grown again on every row to
the pruned size. Synthetic rows then copy training rows no more often than
unseen real rows do, and sit as far from them (distances to the closest
record compared whole: a synthetic row is closer than an unseen one about
half the time; see benchmarks/README.md for the measured copy rates and
distances). Tables with a continuous number
(adult) are not pruned: their trees are as before.

The columns' trees are independent of each other (each seeded by its column) and are
fitted on the idle cores at once (:func:`tabsynth._threads.ordered_map`).

Saved without pickle: each tree is kept as plain arrays (children,
features, thresholds, leaf values). Sampling routes rows with
scikit-learn's compiled tree rebuilt from those arrays (NumPy's walk if it
cannot be) and draws each leaf's rows together from per-leaf tables built
once (cumulative class frequencies; value ranges and kernel statistics),
with no per-row Python; the sampler's matrix is kept by columns (each draw
writes a column and the compiled router reads any layout). Measured rates:
benchmarks/README.md, ``scale.py``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._threads import ordered_map
from ..encoding import Encoded, Layout
from .base import BackendBase, Progress, check_given, check_params

#: columns weighed at each split (all of them on tables up to this width)
MAX_FEATURES = 32
#: a number whose values repeat this many times on average, and whose rows each share their value with
#: ``ROW_TIED`` rows on average, is drawn as its values occur (see ``_discrete``)
TIED = 5
#: a number whose rows share their value with fewer rows on average (a day among 900 in 4,800 rows: about six)
#: is smoothed: drawing a leaf's own values replayed its rows (a synthetic row closer to the training rows
#: than an unseen one 0.6 of the time); adult's capital losses share theirs with 79 rows, its gains with 129
ROW_TIED = 20
#: what the trees see in the cell of a number that is a spike or missing (normal scores lie in +-5.3)
_FILLER = np.float32(-9.0)
#: share of the rows a chain tree is pruned on when the table's rows can be replayed exactly (see ``_Tree.fit``)
HELD_OUT = 0.2
#: held-out log-likelihood (nats) a split must add to be kept by the pruning
SPLIT_PRICE = 2.0
#: share of training rows with no continuous number (every number a spike, missing, or of few values)
#: above which the chain trees are pruned: exact copies of training rows are possible only there
REPLAYABLE = 0.05
#: the largest float64 below 1 (a stratified uniform never reaches its stratum's top)
_BELOW_ONE = np.nextafter(1.0, 0.0)


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
            seed: int, holdout: float = 0.0, by: int | None = None) -> "_Tree":
        """The tree of ``y`` given the columns ``cols`` of ``X``; ``by``: a column (among ``cols``) split on
        first, each of its values' rows growing a subtree of its own (:func:`_split_by`)."""
        n = len(y)
        discrete = not card and _discrete(y)
        if by is not None and by in cols and len(np.unique(X[:, by])) > 1:
            left, right, feature, threshold = _split_by(X, cols, y, card, by, min_leaf=min_leaf, alpha=alpha,
                                                        seed=seed, holdout=holdout, discrete=discrete)
            leaf = _walk(left, right, feature, threshold, X)
        else:
            left, right, feature, threshold, leaf = _grow(X, cols, y, card, min_leaf=min_leaf, alpha=alpha,
                                                          seed=seed, holdout=holdout, discrete=discrete)
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
        return cls(np.asarray(cols, "int32"), left, right, feature, threshold, 0, offsets=offsets, values=values,
                   discrete=discrete)

    # ---------------------------------------------------------------- use
    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf of each row of ``X`` (float32, every global column; ``x <= threshold`` goes left, as in
        scikit-learn). Walked by scikit-learn's compiled router when it can be rebuilt from the arrays
        (:func:`_router`), else by :meth:`walk`; both give the same leaves."""
        router = self._router()
        if router is not None and X.shape[1] >= router[1]:
            # (any memory layout: the sampler keeps its matrix by columns, the compiled walk reads it as it is)
            return router[0].apply(X if X.dtype == np.float32 else X.astype("float32"))
        return self.walk(X)

    def walk(self, X: np.ndarray) -> np.ndarray:
        """:meth:`apply` in NumPy, level by level (the reference routing)."""
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

    def _router(self) -> tuple | None:
        """scikit-learn's compiled tree for these arrays and the columns it reads (built once), or None."""
        if not hasattr(self, "_sk"):
            tree = _router(self.left, self.right, self.feature, self.threshold)
            self._sk = None if tree is None else (tree, int(self.feature.max(initial=-1)) + 1)
        return self._sk

    def draw(self, X: np.ndarray, rng: np.random.Generator, no_last: bool = False, smoothing: float = 1.0) -> np.ndarray:
        """One value per row of ``X``, drawn from its leaf (``no_last``: never the last code); float32.

        The rows that share a leaf draw with stratified uniforms (:func:`_stratified_by`), so a leaf's draws
        follow its distribution closely rather than with the scatter of independent draws. The rows are
        handled sorted by leaf (and by uniform within a leaf), which keeps every lookup sequential.
        """
        t = self._tables()
        leaf = t["leaf_id"][self.apply(X)] if t["n_leaves"] > 1 else np.zeros(len(X), dtype="int64")
        order, g, u, size = _stratified(leaf, t["n_leaves"], rng)
        out = np.empty(len(X), dtype="float32")
        if self.card:
            # one search over every leaf's cumulative distribution, shifted to [leaf, leaf + 1]; the keys
            # come sorted, so the search walks the table once
            cum = t["cum_no_last"] if no_last and self.card > 1 else t["cum"]
            pos = np.searchsorted(cum, g + u, side="right") - g * self.card
            out[order] = np.clip(pos, 0, self.card - 1)
            return out

        def per_row(a: np.ndarray) -> np.ndarray:  # a per-leaf array at each sorted row (``a[g]``, sequentially)
            return np.repeat(a, size)

        start, m = per_row(t["start"]), per_row(t["size"])
        i = start + np.minimum((u * m).astype("int64"), m - 1)
        if self.discrete or smoothing <= 0:
            out[order] = self.values[i]
            return out
        # a kernel density estimate of the leaf's values: a training value plus Gaussian noise of the
        # leaf's bandwidth, shrunk towards the leaf's mean so the leaf's variance is kept, reflected
        # at the leaf's smallest and largest value (so a draw never leaves the leaf's range)
        h = smoothing * t["band"]
        sd = t["sd"]
        shrink = np.where(sd > 0, 1.0 / np.sqrt(1.0 + (h / np.where(sd > 0, sd, 1.0)) ** 2), 1.0).astype("float32")
        mean, h, shrink = per_row(t["mean"]), per_row(h.astype("float32")), per_row(shrink)
        lo, hi = per_row(t["lo"]), per_row(t["hi"])
        noise = rng.standard_normal(len(g), dtype="float32")
        # mean + (value - mean + h * noise) * shrink, in place (the same float32 operations in the same order)
        v = self.values[i]
        v -= mean
        noise *= h
        v += noise
        v *= shrink
        v += mean
        np.subtract(2 * hi, v, out=v, where=v > hi)
        np.subtract(2 * lo, v, out=v, where=v < lo)
        out[order] = np.clip(v, lo, hi, out=v)
        return out

    def _tables(self) -> dict:
        """What the leaves draw from, per leaf (leaves numbered 0.. in node order), built once.

        ``leaf_id`` maps a node to its leaf number. Categories: ``cum``, every leaf's cumulative class
        frequencies shifted by its number (leaf ``l`` spans ``[l, l + 1]``, its last bound exactly
        ``l + 1``), flat; ``cum_no_last`` the same without the last code. Numbers: each leaf's ``start``
        and ``size`` in ``values``; for the kernel, its mean, bandwidth (Silverman's rule
        ``0.9 * min(sd, IQR / 1.34) * m ** (-1/5)``, the IQR left out when it is zero, e.g. a leaf of
        mostly tied values), standard deviation, and its smallest and largest value.
        """
        if getattr(self, "_tab", None) is not None:
            return self._tab
        leaves = np.flatnonzero(self.left < 0)
        leaf_id = np.full(len(self.left), -1, dtype="int64")
        leaf_id[leaves] = np.arange(len(leaves))
        t: dict = {"leaf_id": leaf_id, "n_leaves": len(leaves)}
        if self.card:
            for key, cut in (("cum", False), ("cum_no_last", True)):
                p = self.probs[leaves].astype("float64")
                if cut and self.card > 1:
                    p[:, -1] = 0.0
                    p[p.sum(1) <= 0, :-1] = 1.0
                cum = np.cumsum(p, axis=1)
                cum = cum / np.maximum(cum[:, -1:], 1e-300)
                cum[:, -1] = 1.0
                t[key] = (cum + np.arange(len(leaves))[:, None]).ravel()
        else:
            start = self.offsets[leaves].astype("int64")
            m = (self.offsets[leaves + 1] - self.offsets[leaves]).astype("int64")
            t.update(start=start, size=m)
            if not self.discrete:
                vals = self.values.astype("float64")
                sums = np.add.reduceat(vals, start) if len(start) else np.zeros(0)
                sq = np.add.reduceat(vals ** 2, start) if len(start) else np.zeros(0)
                mm = np.maximum(m, 1)
                mean = sums / mm
                sd = np.sqrt(np.maximum(sq / mm - mean ** 2, 0.0))

                def quantile(q: float) -> np.ndarray:
                    return vals[np.minimum(start + (q * (mm - 1)).astype("int64"), len(vals) - 1)]

                iqr = (quantile(0.75) - quantile(0.25)) / 1.34
                band = 0.9 * np.where(iqr > 0, np.minimum(sd, iqr), sd) * mm ** -0.2
                t.update(mean=mean.astype("float32"), band=band, sd=sd,
                         lo=self.values[start], hi=self.values[start + m - 1])
        self._tab = t
        return t

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
        # the walks need a tree: an inner node has two children numbered after it, in range, and reads a column
        inner = a["left"] >= 0
        idx = np.arange(n_nodes)
        ok = ok and n_nodes > 0 and bool(((a["right"] >= 0) == inner).all())
        ok = ok and bool((a["left"][inner] > idx[inner]).all() and (a["right"][inner] > idx[inner]).all())
        ok = ok and bool(((a["feature"][inner] >= 0) & (a["feature"][inner] < d)).all())
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
        With 0 the full conditionals' trees are not fitted (half the fit):
        what tabsynth's database and sequence layers ask for the models they
        only sample given columns that come first in the chain.
    class_column : int or None, default None
        Index of a categorical column of the encoded layout (tabsynth sets
        it to the target of class-conditional augmentation): first in the
        chain, and every other column's trees split on it first, so rows
        drawn given a class come from leaves of that class's rows only,
        however few they are.
    first_columns : list of int or None, default None
        Global columns of the encoded layout (numbers ``0..n_num-1``, then
        categories ``n_num + k``) that come first in the chain, in this
        order, after the class column: tabsynth sets them to the columns that will be given
        when sampling (``Synthesizer(given_columns=...)``: a child table's
        parent columns), so that rows drawn given them are exact draws along
        the chain, with no Gibbs sweeps.

    Attributes
    ----------
    min_samples_leaf_ : int
        The leaf size used.
    pruned_ : bool
        Whether the chain trees were pruned on held-out rows (a table whose
        rows can be replayed exactly; see the module's privacy rule).
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
        first_columns: list[int] | None = None,
    ):
        self.first_columns = first_columns
        self.min_samples_leaf = min_samples_leaf
        self.smoothing = smoothing
        self.alpha = alpha
        self.gibbs_sweeps = gibbs_sweeps
        self.class_column = class_column

    #: rows drawn given first-in-chain columns are exact chain draws: no sweeps, so no full conditionals fitted
    given_only = {"gibbs_sweeps": 0}

    def _check(self, layout: Layout) -> None:
        check_params(self, {"min_samples_leaf": "auto_or_pos_int", "smoothing": "upto2", "alpha": "nonneg_float",
                            "gibbs_sweeps": "nonneg_int", "class_column": "none_or_nonneg_int"})
        if self.class_column is not None and self.class_column >= layout.n_cat:
            raise ValueError(f"class_column={self.class_column} but the table has {layout.n_cat} categorical columns")
        d = layout.n_num + layout.n_cat
        if self.first_columns is not None and not all(isinstance(c, (int, np.integer)) and 0 <= c < d
                                                      for c in self.first_columns):
            raise ValueError(f"first_columns must be column indices in 0..{d - 1}, got {self.first_columns!r}")

    def _order(self, layout: Layout) -> np.ndarray:
        """Chain order over the global columns (numbers 0..n_num-1, then categories)."""
        cats = [layout.n_num + j for j in range(layout.n_cat)]
        order = cats + list(range(layout.n_num))
        first = [] if self.class_column is None else [layout.n_num + int(self.class_column)]
        # the columns given when sampling, in the order given (a number's state column just before it)
        states = {j: layout.n_num + k for k, j in layout.state_pairs()}
        given = [g for c in self.first_columns or [] for g in ([states[int(c)]] if int(c) in states else []) + [int(c)]]
        first += [c for c in dict.fromkeys(given) if c not in first]
        return np.array(first + [c for c in order if c not in first], dtype="int64")

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
        # rows that could come back exactly: no continuous number among their regular values (a continuous
        # number is drawn with a kernel, never a training value). Where they are many, the chain trees of the
        # categories and discrete numbers are pruned on held-out rows, so that small leaves do not replay
        # their own rows (benchmarks/README.md, discrete tables)
        continuous = [j for j in range(lay.n_num) if regular[:, j].any() and not _discrete(X[regular[:, j], j])]
        replayable = float((~regular[:, continuous]).all(axis=1).mean()) if data.n else 0.0
        self.pruned_ = prune = replayable >= REPLAYABLE
        self.chain_, self.full_ = [None] * d, [None] * d
        # told the class: every other column's trees split on it first (see _split_by)
        by = None if self.class_column is None else lay.n_num + int(self.class_column)

        def fit_column(pos: int) -> tuple[_Tree, _Tree]:
            """A column's two trees: given the columns before it in the chain, and given all the others."""
            col = int(order[pos])
            kw = dict(min_leaf=min_leaf, alpha=self.alpha, seed=seed + col, by=by)
            # a number's trees learn from the rows where it is a regular value (not a spike, not missing)
            rows = regular[:, col] if col < lay.n_num else slice(None)
            Xr = X[rows]
            chain = _Tree.fit(Xr, order[:pos], Xr[:, col], cards[col], holdout=HELD_OUT if prune else 0.0, **kw)
            if not self.gibbs_sweeps:  # the full conditionals serve only the sweeps
                return chain, None
            others = np.array([c for c in range(d) if c != col], dtype="int64")
            return chain, _Tree.fit(Xr, others, Xr[:, col], cards[col], **kw)

        # the columns' trees are independent (each seeded by its column): fitted on the idle cores at once
        for done, (col, trees) in enumerate(zip(order, ordered_map(fit_column, range(d))), start=1):
            self.chain_[col], self.full_[col] = trees
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

        def draw(tree: _Tree, col: int, rows: np.ndarray | slice, Xs: np.ndarray) -> None:
            """Draw ``col`` for ``rows``, keeping fillers where the trees were fitted with them."""
            Xs[rows, col] = tree.draw(Xs[rows], rng, no_last[col], self.smoothing)  # (a slice: no copy)
            if col in state_of_col:  # a spike or missing number: its cell is a filler; a regular one waits for its draw
                j = state_of_col[col]
                Xs[rows, j] = np.where(Xs[rows, col] != 0, _FILLER, np.where(Xs[rows, j] == _FILLER, 0.0, Xs[rows, j]))
            elif col in col_of_state:  # a number drawn where its state says spike or missing stays a filler
                Xs[rows, col] = np.where(Xs[rows, col_of_state[col]] != 0, _FILLER, Xs[rows, col])

        if given is None:
            X = np.zeros((n, d), dtype="float32", order="F")  # by columns: each draw writes and reads columns
            every = slice(None)
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
            if self.full_[col] is not None:
                arrays.update(self.full_[col].arrays(f"full{col}"))
        return {"layout": self.layout_.to_dict(), "min_samples_leaf": getattr(self, "min_samples_leaf_", None),
                "pruned": getattr(self, "pruned_", None)}, arrays

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
        if meta.get("pruned") is not None:
            self.pruned_ = bool(meta["pruned"])
        self.chain_ = [_Tree.from_arrays(arrays, f"chain{c}", cards[c], d) for c in range(d)]
        self.full_ = [_Tree.from_arrays(arrays, f"full{c}", cards[c], d) if f"full{c}_left" in arrays else None
                      for c in range(d)]
        if self.gibbs_sweeps and any(t is None for t in self.full_):
            raise ValueError("trees: the full conditionals' trees are missing but gibbs_sweeps is not 0")
        return self


def _grow(X: np.ndarray, cols: np.ndarray, y: np.ndarray, card: int, *, min_leaf: int, alpha: float, seed: int,
          holdout: float, discrete: bool) -> tuple:
    """A CART tree of ``y`` given ``X[:, cols]`` as arrays (left, right, feature, threshold) and each row's leaf;
    pruned on held-out rows when ``holdout`` (see :meth:`_Tree.fit`)."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    n = len(y)
    grow = held = None
    if holdout > 0 and (card or discrete) and len(cols) and n * (1 - holdout) >= 2 * min_leaf:
        # grown on some rows and pruned on the others (see _pruned_leaves); then grown again on every row
        # to the pruned tree's number of leaves
        is_held = np.random.default_rng(seed).random(n) < holdout
        grow, held = np.flatnonzero(~is_held), np.flatnonzero(is_held)
    Model = DecisionTreeClassifier if card else DecisionTreeRegressor
    # wide tables: each split weighs at most MAX_FEATURES candidate columns (drawn per split),
    # so the cost grows linearly, not quadratically, with the number of columns
    k = min(len(cols), MAX_FEATURES)
    leaves = None
    if held is not None:
        model = _grown(Model(min_samples_leaf=min_leaf, max_features=k, random_state=seed), X[grow][:, cols], y[grow])
        t = model.tree_
        stats = [_leaf_stats(model.apply(X[rows][:, cols]), y[rows], card, t.node_count) for rows in (grow, held)]
        leaves = _pruned_leaves(t.children_left, t.children_right, *stats, card, alpha)
    if len(cols) and n >= 2 * min_leaf and leaves != 1:
        model = _grown(Model(min_samples_leaf=min_leaf, max_features=k, random_state=seed, max_leaf_nodes=leaves),
                       X[:, cols], y)
        t = model.tree_
        left, right = t.children_left.astype("int32"), t.children_right.astype("int32")
        feature = np.where(left < 0, -1, cols[np.maximum(t.feature, 0)]).astype("int32")
        threshold = t.threshold.astype("float64")
        leaf = model.apply(X[:, cols]).astype("int64")
    else:  # no features (first column of the chain), too few rows, or pruned to its root: one leaf
        left = right = np.array([-1], dtype="int32")
        feature = np.array([-1], dtype="int32")
        threshold = np.zeros(1)
        leaf = np.zeros(n, dtype="int64")
    return left, right, feature, threshold, leaf


def _split_by(X: np.ndarray, cols: np.ndarray, y: np.ndarray, card: int, by: int, *, min_leaf: int, alpha: float,
              seed: int, holdout: float, discrete: bool) -> tuple:
    """A tree whose first splits separate the values of column ``by`` (the class of class-conditional
    augmentation), each value's rows growing a subtree of their own on the other columns.

    Grown on the whole table, a tree splits on the class only where that pays off within ``min_samples_leaf``
    rows a leaf: a class of fewer rows than a leaf never gets leaves of its own, and its synthetic rows are
    drawn from leaves shared with the other classes (on breast cancer cut to 28 malignant training rows, rows
    that looked benign, and an over-sampler that lowered the malignant class's F1). Split first on the class,
    a small class's columns are drawn from its own rows (from one leaf, its marginals, when it has fewer than
    twice ``min_samples_leaf`` rows). The value splits come first in node order, then each subtree, so every
    node follows its parent.
    """
    values = np.unique(X[:, by])
    others = np.array([c for c in cols if c != by], dtype="int64")
    k = len(values)
    parts, start = [], k - 1
    for i, v in enumerate(values):
        rows = np.flatnonzero(X[:, by] == v)
        sub = _grow(X[rows], others, y[rows], card, min_leaf=min_leaf, alpha=alpha, seed=seed + i, holdout=holdout,
                    discrete=discrete)[:4]
        parts.append((start, sub))
        start += len(sub[0])
    roots = [p[0] for p in parts]
    # split i sends value i left (to its subtree) and the rest right (to split i + 1, or the last subtree)
    left = [np.array(roots[:-1], dtype="int64")]
    right = [np.array([i + 1 for i in range(k - 2)] + [roots[-1]], dtype="int64")]
    feature = [np.full(k - 1, by, dtype="int64")]
    threshold = [(values[:-1].astype("float64") + values[1:].astype("float64")) / 2]
    for first, (sub_l, sub_r, sub_f, sub_t) in parts:
        left.append(np.where(sub_l >= 0, sub_l.astype("int64") + first, -1))
        right.append(np.where(sub_r >= 0, sub_r.astype("int64") + first, -1))
        feature.append(sub_f.astype("int64"))
        threshold.append(sub_t.astype("float64"))
    return (np.concatenate(left).astype("int32"), np.concatenate(right).astype("int32"),
            np.concatenate(feature).astype("int32"), np.concatenate(threshold))


def _walk(left: np.ndarray, right: np.ndarray, feature: np.ndarray, threshold: np.ndarray, X: np.ndarray
          ) -> np.ndarray:
    """The leaf of each row of ``X`` in the tree of these arrays (``x <= threshold`` goes left)."""
    node = np.zeros(len(X), dtype="int64")
    active = np.arange(len(X))
    while active.size:
        f = feature[node[active]]
        inner = f >= 0
        active, f = active[inner], f[inner]
        if not active.size:
            break
        cur = node[active]
        go_left = X[active, f] <= threshold[cur]
        node[active] = np.where(go_left, left[cur], right[cur])
    return node


def auto_min_leaf(n_rows: int) -> int:
    """``min_samples_leaf="auto"``: ``max(30, round(sqrt(n_rows) / 3))``.

    Leaves of 30 rows on every table sharpened adult's conditionals until its
    synthetic rows sat closer to the training rows than unseen real rows do
    (median DCR 0.0254 vs 0.0266); 50-row leaves there kept DCR above the
    holdout's with the same TSTR (benchmarks/README.md, "The current defaults,
    told and not told the target").
    """
    return int(max(30, round(np.sqrt(max(int(n_rows), 0)) / 3.0)))


def _structure(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each node's parent (-1 for the root) and the nodes level by level, top down (scikit-learn numbers
    a node after its parent, but not level by level)."""
    parent = np.full(len(left), -1, dtype="int64")
    inner = np.flatnonzero(left >= 0)
    parent[left[inner]] = inner
    parent[right[inner]] = inner
    levels = [np.array([0])]
    while True:
        cur = levels[-1]
        cur = cur[left[cur] >= 0]
        if not cur.size:
            break
        levels.append(np.concatenate([left[cur], right[cur]]).astype("int64"))
    return parent, levels


def _subtree_sums(counts: np.ndarray, parent: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    """``counts`` (the leaves' rows, zero elsewhere) with every inner node given its children's sums."""
    counts = counts.copy()
    for nodes in reversed(levels[1:]):
        np.add.at(counts, parent[nodes], counts[nodes])
    return counts


def _smoothed_frequencies(counts: np.ndarray, left: np.ndarray, right: np.ndarray, alpha: float) -> np.ndarray:
    """Class frequencies of every node, each shrunk towards its parent's by ``alpha`` pseudo-rows.

    ``counts`` holds the leaves' class counts (zero elsewhere); internal nodes get their children's sums.
    The root keeps the column's marginal and every other node is ``(counts + alpha * parent) / (rows +
    alpha)``, top down. Shrinking towards the parent rather than the marginal keeps the column's
    share: a small pure leaf of a minority class is pulled towards its mostly-minority parent, not
    towards the majority (towards the marginal, adult's ``sex`` drew 0.9 points too many men).
    """
    parent, levels = _structure(left, right)
    counts = _subtree_sums(counts, parent, levels)
    rows = counts.sum(1, keepdims=True)
    probs = np.empty_like(counts)
    probs[0] = counts[0] / max(float(rows[0, 0]), 1e-12)
    for nodes in levels[1:]:
        probs[nodes] = (counts[nodes] + alpha * probs[parent[nodes]]) / np.maximum(rows[nodes] + alpha, 1e-12)
    return probs


def _leaf_stats(leaf: np.ndarray, y: np.ndarray, card: int, n_nodes: int) -> np.ndarray:
    """Per node, what its log-likelihood needs: class counts (a category) or rows, sum, sum of squares (a number)."""
    if card:
        out = np.zeros((n_nodes, card))
        np.add.at(out, (leaf, y.astype("int64")), 1.0)
        return out
    y = y.astype("float64")
    return np.stack([np.bincount(leaf, minlength=n_nodes), np.bincount(leaf, y, n_nodes),
                     np.bincount(leaf, y * y, n_nodes)], axis=1)


def _pruned_leaves(left: np.ndarray, right: np.ndarray, fit_stats: np.ndarray, held_stats: np.ndarray, card: int,
                   alpha: float) -> int:
    """Leaves left by reduced-error pruning on held-out rows: a node whose subtree does not predict the held-out
    rows better than the node alone, by :data:`SPLIT_PRICE` nats for each of the subtree's splits, is made a leaf.

    A node predicts with what the rows the tree was grown on give it, shrunk towards its parent by
    ``alpha`` pseudo-rows as the draws are: a category's class frequencies (:func:`_smoothed_frequencies`),
    a number's mean and variance (a Gaussian of its normal scores). ``fit_stats`` / ``held_stats``:
    :func:`_leaf_stats` of the leaves for the rows the tree was grown on and for the held-out rows.
    """
    parent, levels = _structure(left, right)
    held = _subtree_sums(held_stats, parent, levels)
    if card:
        as_leaf = (held * np.log(np.maximum(_smoothed_frequencies(fit_stats, left, right, alpha), 1e-300))).sum(1)
    else:
        fit = _subtree_sums(fit_stats, parent, levels)
        m = np.maximum(fit[:, 0], 1.0)
        mean, var = fit[:, 1] / m, np.maximum(fit[:, 2] / m - (fit[:, 1] / m) ** 2, 0.0)
        for nodes in levels[1:]:
            w = fit[nodes, 0] / (fit[nodes, 0] + alpha)
            mean[nodes] = w * mean[nodes] + (1 - w) * mean[parent[nodes]]
            var[nodes] = w * var[nodes] + (1 - w) * var[parent[nodes]]
        var = np.maximum(var, 1e-6)
        k, s1, s2 = held[:, 0], held[:, 1], held[:, 2]
        as_leaf = -0.5 * k * np.log(2 * np.pi * var) - (s2 - 2 * mean * s1 + k * mean ** 2) / (2 * var)
    best = as_leaf.copy()  # of the best pruning of each subtree, net of the price of its splits
    leaves = np.ones(len(left))  # of that pruning
    for nodes in reversed(levels):
        inner = nodes[left[nodes] >= 0]
        split = best[left[inner]] + best[right[inner]] - SPLIT_PRICE
        keep = split > as_leaf[inner]
        best[inner] = np.where(keep, split, as_leaf[inner])
        leaves[inner] = np.where(keep, leaves[left[inner]] + leaves[right[inner]], 1)
    return int(leaves[0])


def _grown(model, X: np.ndarray, y: np.ndarray):
    """``model`` fitted, quietly (many classes on few rows is expected here, e.g. a code column)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
        return model.fit(X, y)


def _discrete(y: np.ndarray) -> bool:
    """A number drawn as its values occur, not smoothed: few distinct values (ages, counts), or values that
    repeat (amounts such as adult's capital gains, a few hundred values over thousands of rows): ``TIED``
    rows per value on average, and each row's value held by ``ROW_TIED`` rows on average (``sqrt(rows)``
    on tables of fewer than 400 rows)."""
    n = len(y)
    counts = np.unique(y, return_counts=True)[1]
    if len(counts) <= max(10.0, np.sqrt(n)):
        return True
    # a small table's counts (11 values over 67 rows, each row's shared with 9) stay counts: the row
    # rule asks for at most sqrt(rows), the scale of "few distinct values" above
    shared = float(np.square(counts, dtype="float64").sum()) / n
    return bool(n >= TIED * len(counts) and shared >= min(ROW_TIED, np.sqrt(n)))


def _stratified_by(group: np.ndarray, n_groups: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by group, randomly within a group, with uniforms in [0, 1) stratified within each group.

    The k rows of a group take the strata ``[r/k, (r+1)/k)`` in a random order, with a uniform
    position inside each: every draw is still uniform, but a group's k draws cover [0, 1) evenly
    (variance reduction; with an inverse-CDF draw the group's values follow its distribution with an
    error of order 1/k instead of 1/sqrt(k)).

    Returns
    -------
    order : ndarray
        Row indices, by group, the ranks within a group in a random order.
    sorted_group : ndarray
        ``group[order]``.
    u : ndarray
        The uniform of row ``order[i]``; ascending within each group.
    """
    return _stratified(group, n_groups, rng)[:3]


def _stratified(group: np.ndarray, n_groups: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_stratified_by` and each group's size (the sorted rows are ``size[k]`` rows of group k, in turn:
    a per-group array at each sorted row is ``np.repeat(a, size)``, a sequential write instead of a gather)."""
    n = len(group)
    perm = rng.permutation(n)
    size = np.bincount(group, minlength=n_groups)
    if n_groups > 1:
        # a stable sort of small integers is a radix sort: linear in the rows
        key = group[perm].astype("uint16" if n_groups <= 1 << 16 else "int64")
        order = perm[np.argsort(key, kind="stable")]
    else:
        order = perm
    g = np.repeat(np.arange(n_groups, dtype="int64"), size)
    first = np.cumsum(size) - size
    rank = np.arange(n) - np.repeat(first, size)
    u = (rank + rng.random(n)) / np.repeat(np.maximum(size, 1), size)
    np.minimum(u, _BELOW_ONE, out=u)
    return order, g, u, size


def _router(left: np.ndarray, right: np.ndarray, feature: np.ndarray, threshold: np.ndarray):
    """scikit-learn's compiled tree (``sklearn.tree._tree.Tree``) rebuilt from the arrays, for routing only.

    Its ``apply`` walks a row in compiled code, several times faster than the level-by-level NumPy walk.
    Its state layout is scikit-learn's own: if it cannot be rebuilt (another version), None, and the
    NumPy walk routes instead.
    """
    try:
        from sklearn.tree._tree import NODE_DTYPE, Tree

        n_nodes = len(left)
        nodes = np.zeros(n_nodes, dtype=NODE_DTYPE)
        nodes["left_child"], nodes["right_child"] = left, right
        nodes["feature"] = np.where(left < 0, -2, feature)
        nodes["threshold"] = np.where(left < 0, -2.0, threshold)
        nodes["n_node_samples"] = nodes["weighted_n_node_samples"] = 1
        tree = Tree(max(int(feature.max(initial=0)), 0) + 1, np.ones(1, dtype=np.intp), 1)
        tree.__setstate__({"max_depth": n_nodes, "node_count": n_nodes, "nodes": nodes,
                           "values": np.zeros((n_nodes, 1, 1))})
        return tree
    except Exception:  # noqa: BLE001 (a scikit-learn without this layout: route in NumPy)
        return None


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
