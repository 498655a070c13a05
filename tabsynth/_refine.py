"""Discriminative refinement for imputation: a mixture proposes, gradient boosting corrects.

For every column with holes, a histogram gradient boosting model (native
missing values and categories) predicts the column from the other columns
of the row **and** from a mixture model's leave-one-column-out prediction of
it. The mixture (diagonal Gaussians for numbers, categorical distributions
for categories, fitted by EM that skips missing cells) is a smooth, global
view of the table, a soft nearest-neighbour estimate; the trees correct it
locally. "Leave-one-column-out": the mixture's posterior over components is
computed from the row's other observed cells, so a training row's own target
never leaks into its feature.

Works on a float matrix: numbers as they are, categories as integer codes,
``NaN`` for missing cells. Fitted on one table, applied to others.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtri
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

_LOG2PI = float(np.log(2 * np.pi))
#: categories a categorical column may have to get per-category mixture features
MAX_PROBA_FEATURES = 32


def _ranked(x: np.ndarray, quantiles: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Normal scores of ``x`` (ties share the middle of their run of quantiles); NaN stays NaN.

    Two "quantiles" mean a linear map (``m - 3 sd`` -> -3, ``m + 3 sd`` -> 3), not clipped.
    """
    if len(quantiles) == 2:
        return (x - quantiles[0]) / (quantiles[1] - quantiles[0]) * 6.0 - 3.0
    up = np.interp(x, quantiles, scores)
    down = -np.interp(-x, -quantiles[::-1], -scores[::-1])
    return 0.5 * (up + down)


def _softmax_rows(a: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``a``, in place (``a`` is overwritten and returned)."""
    a -= a.max(axis=1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=1, keepdims=True)
    return a


def _truncated(model, n_iter: int):
    """``model`` (a fitted histogram gradient boosting model) keeping its first ``n_iter`` iterations.

    Drops the trees after them from scikit-learn's list of per-iteration
    predictors (``n_iter_`` follows), which gives the model a refit with
    ``max_iter=n_iter`` would give (boosting without subsampling is
    deterministic) at no cost. Returns None where that list is not found
    (another scikit-learn layout): the caller refits.
    """
    trees = getattr(model, "_predictors", None)
    if not isinstance(trees, list) or len(trees) < n_iter:
        return None
    del trees[n_iter:]
    return model if model.n_iter_ == n_iter else None


class MixtureFeatures:
    """Diagonal / categorical mixture fitted on a matrix with missing cells; leave-one-column-out predictions."""

    def __init__(self, n_components: int = 400, n_iter: int = 30, random_state: int = 0):
        self.n_components = n_components
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, X: np.ndarray, is_cat: np.ndarray, cards: np.ndarray) -> MixtureFeatures:
        n, p = X.shape
        rng = np.random.default_rng(self.random_state)
        self.is_cat_, self.cards_ = is_cat, cards
        num = np.flatnonzero(~is_cat)
        self.num_ = num
        # skewed or spiky numbers go on a normal-score scale (ranks), so heavy tails and spikes do not
        # crowd the mixture; others are standardised (their spacing carries information)
        levels = np.linspace(0.0, 1.0, 201)
        self.scores_ = ndtri(np.clip(levels, 0.005, 0.995))
        self.quantiles_ = []
        for j in num:
            x = X[:, j][~np.isnan(X[:, j])]
            _, counts = np.unique(x, return_counts=True)
            sd = x.std() or 1.0
            skew = abs(float(((x - x.mean()) ** 3).mean()) / sd**3) if len(x) else 0.0
            if len(x) and (counts.max() > 0.2 * len(x) or skew > 2.0):
                self.quantiles_.append(np.quantile(x, levels))
            else:  # a linear map, written as two quantiles
                m = x.mean() if len(x) else 0.0
                self.quantiles_.append(np.array([m - 3 * sd, m + 3 * sd]))
        # at most one component per 20 rows, or per 50 when there are categories (each component's class
        # frequencies need more rows; measured on adult, 10,000 rows: 400 components predicted worse than 200)
        K = int(max(1, min(self.n_components, n // (50 if is_cat.any() else 20))))
        A = self._design(X)
        # start: each row to the nearest of K random rows (numbers only; missing at the column mean), then EM
        Z, M = A[:, self._p:2 * self._p].astype(np.float64), A[:, 2 * self._p:3 * self._p]
        fill = np.where(M > 0, Z, (Z * M).sum(0) / np.maximum(M.sum(0), 1))
        centers = fill[rng.choice(n, size=K, replace=False)]
        dist = (fill**2).sum(1)[:, None] - 2 * fill @ centers.T + (centers**2).sum(1)[None]
        r = np.zeros((n, K), dtype=np.float32)
        r[np.arange(n), dist.argmin(1) if fill.shape[1] else rng.integers(0, K, n)] = 1.0
        for _ in range(self.n_iter):
            self._mstep(A, r)
            r = _softmax_rows(A @ self._weights())
        self._mstep(A, r)
        return self

    def _design(self, X):
        """The row statistics EM needs, one float32 matrix: [z**2, z, observed] per number, a 1, one-hot categories.

        ``z`` is a number on its model scale (0 where missing). A component's
        log-likelihood of every row is then one product with :meth:`_weights`,
        and its M-step statistics one product with the responsibilities.
        """
        n = len(X)
        self._p = p = len(self.num_)
        cats = np.flatnonzero(self.is_cat_)
        widths = [int(self.cards_[j]) for j in cats]
        A = np.zeros((n, 3 * p + 1 + sum(widths)), dtype=np.float32)
        for a, (j, q) in enumerate(zip(self.num_, self.quantiles_)):
            z = np.clip(_ranked(X[:, j], q, self.scores_), -50.0, 50.0)  # (float32 sums stay exact enough)
            ok = ~np.isnan(z)
            A[ok, p + a] = z[ok]
            A[ok, 2 * p + a] = 1.0
        A[:, :p] = A[:, p:2 * p] ** 2
        A[:, 3 * p] = 1.0
        at = 3 * p + 1
        for j, w in zip(cats, widths):
            codes = X[:, j]
            ok = np.flatnonzero(~np.isnan(codes))
            A[ok, at + codes[ok].astype(int)] = 1.0
            at += w
        return A

    def _weights(self) -> np.ndarray:
        """(columns of the design matrix, K): the design matrix times this is each row's log-likelihood per
        component."""
        iv = 1.0 / self.var_
        rows = [-0.5 * iv.T, (self.mu_ * iv).T, -0.5 * (self.mu_**2 * iv + np.log(self.var_) + _LOG2PI).T,
                self.log_pi_[None]]
        return np.concatenate(rows + [lt.T for lt in self.log_theta_], axis=0).astype(np.float32)

    def _mstep(self, A, r):
        p = self._p
        S = (r.T @ A).astype(np.float64)  # (K, design columns)
        nk = r.sum(0, dtype=np.float64) + 1e-9
        self.log_pi_ = np.log(nk / nk.sum())
        w = S[:, 2 * p:3 * p] + 1e-9
        self.mu_ = S[:, p:2 * p] / w
        self.var_ = np.maximum(S[:, :p] / w - self.mu_**2, 0.0) + 0.04
        self.log_theta_, at = [], 3 * p + 1
        for j in np.flatnonzero(self.is_cat_):
            counts = S[:, at:at + int(self.cards_[j])] + 0.1
            self.log_theta_.append(np.log(counts / counts.sum(1, keepdims=True)))
            at += int(self.cards_[j])

    def features(self, X: np.ndarray, columns: list[int]) -> dict[int, np.ndarray]:
        """For each column in ``columns``: its prediction from the row's *other* cells, (n, 1) or (n, cards)."""
        A = self._design(X)
        total = A @ self._weights()
        p = self._p
        where = {j: a for a, j in enumerate(self.num_)}
        cat_cols = list(np.flatnonzero(self.is_cat_))
        starts = np.cumsum([3 * p + 1] + [int(self.cards_[j]) for j in cat_cols])
        mu = self.mu_.astype(np.float32)
        scale = (-0.5 / self.var_).astype(np.float32)
        shift = (-0.5 * (np.log(self.var_) + _LOG2PI)).astype(np.float32)
        out = {}
        for j in columns:
            # the column's own log-likelihood term (0 where it is missing), taken out of the row's total
            if self.is_cat_[j]:
                i = cat_cols.index(j)
                own = A[:, starts[i]:starts[i + 1]] @ self.log_theta_[i].T.astype(np.float32)
            else:
                a = where[j]
                own = A[:, p + a, None] - mu[None, :, a]
                own *= own
                own *= scale[None, :, a]
                own += shift[None, :, a]
                own *= A[:, 2 * p + a, None]
            np.subtract(total, own, out=own)
            own -= own.max(axis=1, keepdims=True)
            np.exp(own, out=own)
            norm = own.sum(axis=1, dtype=np.float64)
            if self.is_cat_[j]:
                probs = (own @ np.exp(self.log_theta_[i]).astype(np.float32)) / norm[:, None]
                out[j] = probs if probs.shape[1] <= MAX_PROBA_FEATURES else probs.argmax(1)[:, None].astype(float)
            else:
                z = (own @ mu[:, a]) / norm
                q = self.quantiles_[a]
                back = q[0] + (z + 3.0) / 6.0 * (q[1] - q[0]) if len(q) == 2 else np.interp(z, self.scores_, q)
                out[j] = back[:, None].astype(np.float64)
        return out
class _Bag:
    """The average of a few boosted models of one column, each early-stopped on its own held-out rows."""

    def __init__(self, models: list):
        self.models = models
        if hasattr(models[0], "classes_"):
            self.classes_ = np.unique(np.concatenate([m.classes_ for m in models]))

    def predict(self, F: np.ndarray) -> np.ndarray:
        return np.mean([m.predict(F) for m in self.models], axis=0)

    def predict_proba(self, F: np.ndarray) -> np.ndarray:
        out = np.zeros((len(F), len(self.classes_)))
        for m in self.models:
            out[:, np.searchsorted(self.classes_, m.classes_)] += m.predict_proba(F)
        return out / len(self.models)


class Refiner:
    """Per-column gradient boosting over the other columns and a mixture feature.

    Parameters
    ----------
    n_components : int
        Mixture components (at most one per 20 rows; per 50 when there are categories).
    max_iter : int
        Boosting iterations at most (early stopping on a validation split).
    learning_rate : float
        Boosting's shrinkage for numbers; categories get half of it.
    random_state : int
    plain_linear : bool
        Also fit a ridge regression of each numeric column on the other
        columns alone; :meth:`residuals` then keeps it for a column where it
        predicts held-out rows at least as well (multiple imputation).
    rounds : int
        Rounds of column models. Round 1's features hold the mixture's fill
        of other columns' missing numbers; each later round is fitted (and
        predicts) with those cells set to the previous round's predictions,
        as chained equations (MICE, MissForest) do.
    bags : int
        Boosted models per column, each early-stopped on its own held-out
        tenth of the rows; their predictions (class probabilities) are
        averaged. Averaging lowers the variance of a single early-stopped
        model at ``bags`` times its cost.
    guess_weights : dict, optional
        ``{column: (code, weight)}``: for best guesses, the probability of
        ``code`` is multiplied by ``weight`` before the most likely class is
        taken. For a code that stands for a pool of rare values (see
        :func:`tabsynth.encoding.category_pool`), weight = the largest
        pooled value's share: the pool may be the likeliest code while each
        of its values is not.
    """

    def __init__(self, n_components: int = 400, max_iter: int = 300, random_state: int = 0,
                 plain_linear: bool = False, rounds: int = 1,
                 guess_weights: dict[int, tuple[int, float]] | None = None, learning_rate: float = 0.2,
                 bags: int = 1):
        self.n_components = n_components
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.plain_linear = plain_linear
        self.rounds = rounds
        self.guess_weights = guess_weights
        self.bags = bags

    def fit(self, X: np.ndarray, is_cat: np.ndarray, cards: np.ndarray, targets: list[int]) -> Refiner:
        """Learn a model for each column in ``targets`` (which must have observed cells)."""
        self.is_cat_, self.cards_ = np.asarray(is_cat, bool), np.asarray(cards)
        observed = ~np.isnan(X)
        self.mixture_ = MixtureFeatures(self.n_components, random_state=self.random_state).fit(X, self.is_cat_,
                                                                                                self.cards_)
        holes = [k for k in range(X.shape[1]) if np.isnan(X[:, k]).any()]
        feats = self.mixture_.features(X, sorted(set(targets) | set(holes)))
        X = self._filled(X, feats)  # (categories keep NaN: the ridge candidate one-hot encodes them as "missing")
        self.pooled_: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        self.rounds_: list[dict[int, object]] = []
        self.round_of_: dict[int, int] = {}  # the round whose model predicts each column
        missing, best, matrices = ~observed, {}, []
        for r in range(max(1, int(self.rounds))):
            if r:  # the previous round's best guesses replace the mixture's fill of missing numbers
                X = self._guessed(X, missing, feats, self.rounds_[-1])
            matrices.append(X)
            models, losses = self._fit_round(X, observed, feats, targets)
            self.rounds_.append(models)
            for j, loss in losses.items():
                # a later round only where it predicts the same held-out rows better
                if j not in best or loss < best[j]:
                    best[j], self.round_of_[j] = loss, r
        self.models_ = {j: self.rounds_[r][j] for j, r in self.round_of_.items()}
        self.plain_: dict[int, object] = {}
        self.use_plain_: set[int] = set()
        if self.plain_linear:  # a ridge on the other columns alone: it extrapolates (see residuals())
            p = X.shape[1] - 1
            for j in self.models_:
                if not self.is_cat_[j]:
                    obs, X = observed[:, j], matrices[self.round_of_[j]]
                    F, cat = self._frame(X, j, feats[j])
                    self.plain_[j] = self._ridge(cat[:p]).fit(F[obs, :p], X[obs, j])
        return self

    def _fit_round(self, X: np.ndarray, observed: np.ndarray, feats: dict,
                   targets: list[int]) -> tuple[dict[int, object], dict[int, float]]:
        """One model per target column on the filled matrix ``X`` (the boosted model, or a ridge that predicts
        better), and each model's validation loss."""
        models: dict[int, object] = {}
        losses: dict[int, float] = {}
        for j in targets:
            obs = observed[:, j]
            y = X[obs, j]
            if obs.sum() < 10 or len(np.unique(y)) < 2:
                continue  # nothing to learn: the generative fill stays
            F, cat = self._frame(X, j, feats[j])
            # (categories at half the rate: measured on adult, 0.2 lowered the accuracy on missing categories)
            rate = self.learning_rate / 2 if self.is_cat_[j] else self.learning_rate
            kw = dict(max_iter=self.max_iter, learning_rate=rate, early_stopping=True,
                      random_state=self.random_state, categorical_features=cat if cat.any() else None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target = y.astype(int) if self.is_cat_[j] else y
                model, loss = self._boosted(j, F[obs], target, kw)
                if self.bags > 1:
                    fits = [(model, loss)] + [self._boosted(j, F[obs], target, {**kw, "random_state": seed}, seed)
                                              for seed in range(self.random_state + 1, self.random_state + self.bags)]
                    model, loss = _Bag([m for m, _ in fits]), float(np.mean([lo for _, lo in fits]))
                if not self.is_cat_[j]:
                    model, loss = self._or_linear(model, loss, F[obs], y, cat)
            models[j], losses[j] = model, loss
        return models, losses

    def _guessed(self, filled: np.ndarray, missing: np.ndarray, feats: dict, models: dict) -> np.ndarray:
        """``filled`` with the missing numbers of the columns ``models`` covers set to their best guesses."""
        out = filled.copy()
        for j, model in models.items():
            if not self.is_cat_[j] and missing[:, j].any():
                out[missing[:, j], j] = self._column(j, filled, feats[j], missing[:, j], None, None, model)
        return out

    def _boosted(self, j: int, F: np.ndarray, y: np.ndarray, kw: dict,
                 split_seed: int | None = None) -> tuple[object, float | None]:
        """A boosted model of column ``j``, stopped at its best iteration on a held-out tenth of the rows.

        Returns the model and its validation loss (log loss for categories,
        MSE for numbers; infinite when there were too few rows to hold out). scikit-learn's
        early stopping keeps the iterations after the best one (ten, by
        default); the model is cut back to the best one (see
        :func:`_truncated`). The split is drawn
        here, not by scikit-learn, whose stratified split fails when a class
        has a single row; validation rows of classes absent from the training
        part are dropped. Rare classes (fewer than 20 rows, or 5% of them in a
        table of fewer than 400)
        are pooled into one class first: boosting's Newton steps for a class
        seen a handful of times are huge, and such a model predicts rare
        countries for rows of the common one. A pooled prediction becomes the
        most frequent rare class (a draw: a rare class drawn by frequency);
        see :meth:`_column`.
        """
        classify = bool(self.is_cat_[j])
        kind = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        if classify:
            codes, counts = np.unique(y, return_counts=True)
            rare = counts < min(20, max(2, 0.05 * len(y)))
            if rare.sum() >= 2 and (~rare).any():
                label = int(codes.max()) + 1
                self.pooled_[j] = (label, codes[rare], counts[rare] / counts[rare].sum())
                y = np.where(np.isin(y, codes[rare]), label, y)
        n = len(y)
        n_val = int(round(0.1 * n))
        perm = np.random.default_rng(self.random_state if split_seed is None else split_seed).permutation(n)
        val, fit = perm[:n_val], perm[n_val:]
        if classify:
            val = val[np.isin(y[val], y[fit])]
        if len(val) < 5 or len(fit) < 5 or len(np.unique(y[fit])) < 2:
            # too few rows to hold some out: no validation error, so a number's ridge candidate wins
            model = kind(**{**kw, "early_stopping": False, "max_iter": min(self.max_iter, 50)}).fit(F, y)
            return model, np.inf
        model = kind(**kw).fit(F[fit], y[fit], X_val=F[val], y_val=y[val])
        best = int(np.argmax(model.validation_score_))
        # validation loss: log loss for categories, MSE for numbers (scikit-learn scores half the squared error)
        loss = -float(model.validation_score_[best]) * (1.0 if classify else 2.0)
        if best < model.n_iter_:
            model = _truncated(model, max(best, 1)) or \
                kind(**{**kw, "early_stopping": False, "max_iter": max(best, 1)}).fit(F[fit], y[fit])
        return model, loss

    @staticmethod
    def _or_linear(boosted, mse_boost: float, F: np.ndarray, y: np.ndarray, cat: np.ndarray):
        """The boosted model, or a ridge regression when that predicts better.

        Trees approximate a linear relation in steps; on small or linear
        tables a ridge regression (one-hot categories, leave-one-out choice of
        the penalty) is the better guess. The boosted model's error
        ``mse_boost`` is its best validation MSE, the ridge's its leave-one-out
        error. Returns the model kept and its error.
        """
        ridge = Refiner._ridge(cat).fit(F, y)
        mse_ridge = -float(ridge[-1].best_score_)
        if mse_ridge < 0.95 * mse_boost:  # a clear win only: the boosted error is noisier
            return ridge, mse_ridge
        return boosted, mse_boost

    @staticmethod
    def _ridge(cat: np.ndarray):
        """Ridge regression (leave-one-out choice of the penalty) over scaled numbers and one-hot categories."""
        steps = [("num", StandardScaler(), np.flatnonzero(~cat))]
        if cat.any():
            steps.append(("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), np.flatnonzero(cat)))
        return make_pipeline(ColumnTransformer(steps), RidgeCV(alphas=np.logspace(-3, 3, 13), scoring=None))

    def _filled(self, X: np.ndarray, feats: dict[int, np.ndarray]) -> np.ndarray:
        """Missing numbers filled with the mixture's leave-one-column-out prediction.

        Missing categories stay missing: the trees handle a missing category
        natively, where a hard guess would stand for a category the row may
        not have (and the trees could not tell it from an observed one).
        """
        X = X.copy()
        for k, f in feats.items():
            miss = np.isnan(X[:, k])
            if miss.any() and not self.is_cat_[k]:
                X[miss, k] = f[miss, 0]
        return X

    def _frame(self, X: np.ndarray, j: int, feat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        others = [k for k in range(X.shape[1]) if k != j]
        F = np.column_stack([X[:, others], feat])
        cat = np.r_[self.is_cat_[others] & (self.cards_[others] <= 255), np.zeros(feat.shape[1], bool)]
        return F, cat

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``X`` with the missing cells of every modelled column predicted (other cells unchanged)."""
        return self._fill(X, None, None)

    def residuals(self, X: np.ndarray, choose: bool = True) -> dict[int, np.ndarray]:
        """Observed minus predicted, on ``X``'s observed cells, for every numeric column model.

        Called on rows the models were not fitted on (the out-of-bag rows of
        a bootstrap), these are honest prediction errors: the noise that
        :meth:`draw` adds. With ``choose`` (and ``plain_linear``), a column
        whose plain ridge predicts these rows at least as well switches to
        it; without, the residuals are those of each column's current model.
        """
        nums = [j for j in self.models_ if not self.is_cat_[j]]
        if not nums or not len(X):
            return {}
        feats, filled = self._prepared(X, sorted(set(nums) | set(np.flatnonzero(np.isnan(X).any(axis=0)))))
        out = {}
        for j in nums:
            obs = ~np.isnan(X[:, j])
            if obs.any():
                F, _ = self._frame(filled[self.round_of_[j]], j, feats[j])
                plain = j in self.use_plain_
                out[j] = X[obs, j] - (self.plain_[j].predict(F[obs, : X.shape[1] - 1]) if plain
                                      else self.models_[j].predict(F[obs]))
                if choose and j in self.plain_ and not plain:
                    # the plain ridge replaces the column's model when it predicts these rows at least
                    # as well: where the relation is linear it extrapolates beyond the observed range
                    # (values missing at random, e.g. the largest ones, lie there), where trees and
                    # the mixture feature level off
                    alt = X[obs, j] - self.plain_[j].predict(F[obs, : X.shape[1] - 1])
                    if (alt**2).mean() <= (out[j] ** 2).mean():
                        self.use_plain_.add(j)
                        out[j] = alt
        return out

    def draw(self, X: np.ndarray, rng: np.random.Generator, residuals: dict[int, np.ndarray]) -> np.ndarray:
        """Like :meth:`predict`, but each missing cell is a draw from its predictive distribution.

        Numbers: the prediction plus a residual drawn from ``residuals[j]``
        (see :meth:`residuals`); categories: a class drawn from the model's
        class probabilities.
        """
        return self._fill(X, rng, residuals)

    def _fill(self, X: np.ndarray, rng: np.random.Generator | None, residuals: dict | None) -> np.ndarray:
        out = X.copy()
        missing = np.isnan(X)
        todo = [j for j in self.models_ if missing[:, j].any()]
        if not todo:
            return out
        feats, filled = self._prepared(X, list(np.flatnonzero(missing.any(axis=0))))
        for j in todo:
            out[missing[:, j], j] = self._column(j, filled[self.round_of_[j]], feats[j], missing[:, j], rng, residuals)
        return out

    def _prepared(self, X: np.ndarray, columns: list[int]) -> tuple[dict, list[np.ndarray]]:
        """The mixture features of ``columns`` and, per round, the matrix its models read."""
        feats = self.mixture_.features(X, columns)
        filled = [self._filled(X, feats)]
        missing = np.isnan(X)
        for models in self.rounds_[:max(self.round_of_.values(), default=0)]:
            filled.append(self._guessed(filled[-1], missing, feats, models))
        return feats, filled

    def _column(self, j: int, filled: np.ndarray, feat: np.ndarray, miss: np.ndarray,
                rng: np.random.Generator | None, residuals: dict | None, model: object = None) -> np.ndarray:
        """Column ``j``'s value for the rows ``miss``: the best guess (``rng`` None) or a draw (``model``: the last
        round's)."""
        F, _ = self._frame(filled, j, feat)
        F = F[miss]
        last = model is None
        model = self.models_[j] if last else model
        if self.is_cat_[j]:
            proba = model.predict_proba(F)
            classes = np.asarray(model.classes_)
            if rng is None:
                # a pooled class is as likely as its likeliest member: weigh it down before the argmax
                weights = np.ones(len(classes))
                if j in self.pooled_:
                    weights[classes == self.pooled_[j][0]] = self.pooled_[j][2].max()
                if self.guess_weights and j in self.guess_weights:
                    code, w = self.guess_weights[j]
                    weights[classes == code] *= w
                got = classes[(proba * weights).argmax(1)]
            else:
                got = classes[(proba.cumsum(1) > rng.random((len(proba), 1)) * proba.sum(1, keepdims=True)).argmax(1)]
            if j in self.pooled_:
                label, codes, probs = self.pooled_[j]
                pooled = got == label
                got[pooled] = (codes[probs.argmax()] if rng is None
                               else rng.choice(codes, size=int(pooled.sum()), p=probs))
            return got
        if last and j in self.use_plain_:
            guess = self.plain_[j].predict(F[:, : filled.shape[1] - 1])
        else:
            guess = model.predict(F)
        if rng is None:
            return guess
        res = (residuals or {}).get(j)
        if res is None or len(res) < 2:
            raise ValueError(f"no residuals for column {j}: pass Refiner.residuals() of held-out rows")
        return guess + rng.choice(res, size=len(guess))
