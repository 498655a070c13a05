"""Mixed-type Gaussian mixture: the default backend.

Each component ``k`` has a weight ``pi_k``, a full-covariance Gaussian over
the numeric block and an independent categorical distribution for each
categorical column::

    p(z, c) = sum_k pi_k N(z; mu_k, Sigma_k) prod_j theta_kj[c_j]

Within a component the columns are independent except for the Gaussian's
correlations; across components the mixture captures any joint structure
(a latent class model for categoricals, a GMM for numbers). Fitted with EM.

Conditioning is exact: for each row the component responsibilities come
from its observed cells only (the Gaussian marginal of the observed numeric
dimensions times the observed categories' probabilities), a component is
drawn from them, and the unobserved numbers from that component's
conditional Gaussian; unobserved categories from its ``theta``.

The number of components is chosen by held-out log-likelihood over a grid
(``n_components="auto"``) on a subsample, or fixed by an integer.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve
from scipy.special import logsumexp

from ..encoding import Encoded, Layout
from .base import BackendBase, Progress, check_given, check_params

#: covariance shrinkages tried by ``shrinkage="auto"`` (pseudo-rows per numeric dimension, see GMMBackend)
SHRINKAGE_GRID = (0.0, 1.0)

_LOG2PI = np.log(2 * np.pi)


class GMMBackend(BackendBase):
    """Gaussian mixture over numeric columns x categorical mixture.

    Parameters
    ----------
    n_components : int or "auto", default "auto"
        Number of mixture components; ``"auto"`` picks from
        ``candidates`` by held-out log-likelihood.
    candidates : tuple of int
        Grid searched by ``"auto"`` (values above what the data supports
        are skipped: each component needs ``min_rows_per_component`` rows).
    max_iter : int, default 200
        EM iterations at most.
    tol : float, default 1e-4
        Stop when the mean log-likelihood improves by less than this.
    reg_covar : float, default 1e-3
        Added to covariance diagonals (the numeric block is ~N(0, 1)).
    alpha : float, default 0.01
        Pseudo-count added to each category of each component.
    selection_rows : int, default 6000
        Rows used to choose ``n_components`` (80% fit, 20% scored); on
        larger tables the chosen number is scaled by
        ``(rows / fitted rows) ** 0.75`` (at most one component per
        ``min_rows_per_component`` rows).
    min_rows_per_component : int, default 30
    max_components : int, default 256
        Largest number of components ``"auto"`` picks (per class with
        ``class_column``). EM's cost grows with rows x components, and the
        scaled choice grows as ``rows ** 0.75``: without a cap a fit on
        200,000 rows would take about 800 components (adult picks 170 on
        its 26,048 training rows, under the cap).
    class_column : int or None, default None
        Index of a categorical column of the encoded layout (tabsynth sets
        it to the target of class-conditional augmentation). Each of its
        classes gets a mixture of its own, fitted on that class's rows
        (components chosen per class as above), joined by the classes'
        shares: rows drawn given a class follow that class's joint
        distribution, even for a small minority, which one joint mixture can
        blur into the majority's.
    shrinkage : float or "auto", default "auto"
        Each component's covariance is shrunk towards the pooled
        within-component covariance, as if it held ``shrinkage`` extra rows
        per numeric dimension shaped like the pool (regularised discriminant
        analysis). Without it, full covariances on a small wide table (a few
        hundred rows, 30 numbers) overfit so fast that the held-out choice is
        one component, which makes every category independent of every
        number. ``"auto"`` scores each size of the grid with and without
        shrinkage (:data:`SHRINKAGE_GRID`) and keeps the best held-out
        log-likelihood (with a fixed ``n_components``, ``"auto"`` means no
        shrinkage); the choice is ``shrinkage_``.
    """

    name = "gmm"
    filler_refits = 2

    def __init__(
        self,
        n_components: int | str = "auto",
        *,
        candidates: tuple[int, ...] = (1, 4, 8, 16, 32, 48, 64, 96),
        max_iter: int = 200,
        tol: float = 1e-4,
        reg_covar: float = 1e-3,
        alpha: float = 0.01,
        selection_rows: int = 6000,
        min_rows_per_component: int = 30,
        max_components: int = 256,
        class_column: int | None = None,
        shrinkage: float | str = "auto",
    ):
        self.n_components = n_components
        self.candidates = candidates
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.shrinkage = shrinkage
        self.alpha = alpha
        self.selection_rows = selection_rows
        self.min_rows_per_component = min_rows_per_component
        self.max_components = max_components
        self.class_column = class_column

    # ------------------------------------------------------------- fitting
    def fit(self, data: Encoded, *, rng: np.random.Generator, progress: Progress | None = None) -> "GMMBackend":
        check_params(self, {"n_components": "auto_or_pos_int", "candidates": "widths", "max_iter": "pos_int",
                            "tol": "nonneg_float", "reg_covar": "nonneg_float", "alpha": "nonneg_float",
                            "selection_rows": "pos_int", "min_rows_per_component": "pos_int",
                            "max_components": "pos_int", "class_column": "none_or_nonneg_int",
                            "shrinkage": "auto_or_nonneg_float"})
        if not data.fully_observed():
            raise ValueError("GMMBackend.fit needs a fully observed encoded table")
        self.layout_ = data.layout
        z = data.x_num.astype("float64")
        c = data.x_cat
        n = len(z)
        max_k = max(1, n // self.min_rows_per_component)
        if self.class_column is not None:
            return self._fit_by_class(z, c, rng, progress)
        if self.n_components == "auto":
            k, shrink = self._select(z, c, rng, progress)
        else:
            k, shrink = int(self.n_components), self._fixed_shrinkage()
        k = max(1, min(k, max_k))
        self.n_components_ = k
        self.shrinkage_ = shrink
        params, ll, it = self._em(z, c, k, rng, progress=progress, stage=f"gmm: EM, {k} components", shrink=shrink)
        self.weights_, self.means_, self.covariances_, self.thetas_ = params
        self.log_likelihood_ = ll
        self.n_iter_ = it
        return self

    def _fit_by_class(self, z, c, rng, progress) -> "GMMBackend":
        """One mixture per class of ``class_column``, weighted by the class's share (see the class docstring)."""
        j = int(self.class_column)
        if not 0 <= j < c.shape[1]:
            raise ValueError(f"class_column={j} is not a categorical column of the layout (0..{c.shape[1] - 1})")
        n, card = len(z), self.layout_.cardinalities[j]
        parts, lls, iters, shrinks = [], [], [], []
        for v in np.unique(c[:, j]):
            rows = np.flatnonzero(c[:, j] == v)
            m = len(rows)
            shrink = self._fixed_shrinkage()
            if self.n_components == "auto":
                if m >= 2 * self.min_rows_per_component:
                    k, shrink = self._select(z[rows], c[rows], rng, None)
                else:
                    k = 1
            else:
                k = int(round(int(self.n_components) * m / n))
            k = max(1, min(k, m // self.min_rows_per_component))
            shrinks.append(shrink)
            (w, mu, cov, th), ll, it = self._em(z[rows], c[rows], k, rng, progress=progress,
                                                stage=f"gmm: EM, class {int(v)}, {k} components", shrink=shrink)
            th = list(th)
            th[j] = np.full((k, card), 1e-12)
            th[j][:, int(v)] = 1.0
            th[j] /= th[j].sum(1, keepdims=True)
            parts.append((w * (m / n), mu, cov, th))
            lls.append(ll * m / n)
            iters.append(it)
        self.weights_ = np.concatenate([p[0] for p in parts])
        self.means_ = np.concatenate([p[1] for p in parts])
        self.covariances_ = np.concatenate([p[2] for p in parts])
        self.thetas_ = [np.concatenate([p[3][i] for p in parts]) for i in range(c.shape[1])]
        self.n_components_ = len(self.weights_)
        self.log_likelihood_ = float(sum(lls))
        self.n_iter_ = max(iters)
        self.shrinkage_ = max(shrinks)
        return self

    def _fixed_shrinkage(self) -> float:
        return float(self.shrinkage) if self.shrinkage != "auto" else 0.0

    def _select(self, z, c, rng, progress) -> tuple[int, float]:
        """(components, shrinkage) with the best held-out log-likelihood (see the class docstring)."""
        n = len(z)
        idx = rng.permutation(n)[: min(n, self.selection_rows)]
        n_val = max(1, len(idx) // 5)
        val, tr = idx[:n_val], idx[n_val:]
        cands = [k for k in self.candidates if k <= max(1, len(tr) // self.min_rows_per_component)] or [1]
        shrinks = SHRINKAGE_GRID if self.shrinkage == "auto" else (float(self.shrinkage),)
        scores: dict[tuple[int, float], float] = {}
        for shrink in shrinks:
            tried: dict[int, float] = {}
            for i, k in enumerate(cands):
                if k == 1 and (1, shrinks[0]) in scores:  # one component is never shrunk: scored once
                    continue
                params, _, _ = self._em(z[tr], c[tr], k, rng, shrink=shrink)
                tried[k] = scores[(k, shrink)] = float(self._loglik(z[val], c[val], params).mean())
                if progress:
                    progress("gmm: choosing components", i + 1, len(cands))
                # stop when two larger grids in a row did not help
                best = max(tried, key=tried.get)
                if k > best and len([j for j in tried if j > best]) >= 2:
                    break
        self.selection_scores_ = {f"{k}/{s:g}": v for (k, s), v in scores.items()}
        best, shrink = max(scores, key=scores.get)
        # the full table supports more components than the subsample: the
        # held-out optimum grows almost linearly with rows for mixtures of
        # many dimensions; n^0.75 is a cautious middle (measured on adult:
        # 48 on 4,800 rows -> 170 on 26,048; see benchmarks/README.md)
        scale = n / max(len(tr), 1)
        k = min(int(round(best * scale**0.75)), int(self.max_components)) if best > 1 else best
        return k, shrink

    def _onehot(self, c: np.ndarray) -> sparse.csr_matrix:
        """Rows x (sum of cardinalities) one-hot matrix of all categorical columns."""
        n = len(c)
        offsets = np.concatenate([[0], np.cumsum(self.layout_.cardinalities)]).astype(int)
        if c.shape[1] == 0:
            return sparse.csr_matrix((n, 0))
        cols = (c + offsets[:-1]).ravel()
        rows = np.repeat(np.arange(n), c.shape[1])
        return sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, offsets[-1]))

    def _init(self, z, oh, k, rng):
        n = len(z)
        if k == 1:
            return np.ones((n, 1))
        # k-means++ seeding on numbers + one-hot categories, then one assignment
        x = np.hstack([z, oh.toarray()]) if oh.shape[1] else z
        if x.shape[1] == 0:
            x = np.zeros((n, 1))
        sub = rng.choice(n, size=min(n, 4000), replace=False)
        xs = x[sub]
        centers = [xs[rng.integers(len(xs))]]
        d2 = ((xs - centers[0]) ** 2).sum(1)
        for _ in range(1, k):
            p = d2 / d2.sum() if d2.sum() > 0 else None
            centers.append(xs[rng.choice(len(xs), p=p)])
            d2 = np.minimum(d2, ((xs - centers[-1]) ** 2).sum(1))
        cen = np.array(centers)
        dist = (x**2).sum(1)[:, None] - 2 * x @ cen.T + (cen**2).sum(1)[None, :]
        resp = np.zeros((n, k))
        resp[np.arange(n), dist.argmin(1)] = 1.0
        return resp

    @staticmethod
    def _outer(z):
        """Per-row outer products, flattened: (n, d * d)."""
        n, d = z.shape
        return (z[:, :, None] * z[:, None, :]).reshape(n, d * d)

    def _mstep_design(self, X, dense_cat, oh, resp, d, shrink: float = 0.0):
        """M-step from the design matrix: one GEMM gives every component's weight, moments and counts."""
        return self._mstep_stats(*self._stats(X, dense_cat, oh, resp, d), d, shrink)

    @staticmethod
    def _stats(X, dense_cat, oh, resp, d):
        """Sufficient statistics of the rows of a design matrix: ``S`` = sum of resp x [vec(z z'), z, 1] and the
        responsibility-weighted category counts (sums over rows, so batches add up)."""
        S = np.asarray(resp.T @ X, dtype=np.float64)  # (K, d*d + d + 1 [+ one-hot])
        counts = S[:, d * d + d + 1:] if dense_cat else np.asarray(oh.T @ resp, dtype=np.float64).T
        return S[:, : d * d + d + 1], counts

    def _estep(self, X, dense_cat, oh, params):
        """Responsibilities (in place of the log-densities, single precision) and each row's log-likelihood."""
        lp = self._design_logpdf(X, dense_cat, oh, params)
        top = lp.max(1, keepdims=True)
        resp = np.exp(lp - top, out=lp)
        norm = resp.sum(1, keepdims=True, dtype=np.float64)
        resp /= norm.astype(resp.dtype)
        return resp, top[:, 0].astype(np.float64) + np.log(norm[:, 0])

    def _mstep_stats(self, S, counts, d, shrink: float = 0.0):
        """Parameters from summed statistics: ``S`` = sum of resp x [vec(z z'), z, 1], ``counts`` = resp x one-hot."""
        K = S.shape[0]
        nk = S[:, d * d + d] + 1e-10
        weights = nk / nk.sum()
        means = S[:, d * d: d * d + d] / nk[:, None]
        second = S[:, : d * d].reshape(K, d, d) / nk[:, None, None]
        covs = second - means[:, :, None] * means[:, None, :] + self.reg_covar * np.eye(d)[None]
        if shrink > 0 and K > 1:
            # each covariance shrunk towards the pooled within-component one, as if it had `shrink` more rows
            # per dimension shaped like it (regularised discriminant analysis): small components in many
            # dimensions stay well defined, large ones barely move
            lam = shrink * d
            pooled = np.einsum("k,kij->ij", weights, covs)
            covs = (nk[:, None, None] * covs + lam * pooled[None]) / (nk[:, None, None] + lam)
        thetas = []
        start = 0
        for card in self.layout_.cardinalities:
            t = counts[:, start : start + card] + self.alpha
            thetas.append(t / t.sum(1, keepdims=True))
            start += card
        return weights, means, covs, thetas

    def em_pass(self, batches: Iterable[Encoded]) -> float:
        """One EM iteration over every row of ``batches`` (encoded tables, read once; memory: one batch).

        The E-step runs batch by batch with the current parameters and sums
        the sufficient statistics; the M-step then uses all of them, so the
        update is that of EM on the whole table (not a stochastic step). The
        number of components, the shrinkage and, with ``class_column``, the
        class of each component stay as fitted. Returns the mean
        log-likelihood of the rows under the parameters before the update.
        """
        params = (self.weights_, self.means_, self.covariances_, self.thetas_)
        d = self.layout_.n_num
        K = len(self.weights_)
        S = np.zeros((K, d * d + d + 1))
        counts = np.zeros((K, int(sum(self.layout_.cardinalities))))
        total, rows = 0.0, 0
        for enc in batches:
            if enc.n == 0:
                continue
            oh = self._onehot(enc.x_cat)
            X32, dense_cat = self._design(enc.x_num.astype("float64"), oh, np.float32)
            resp, ll = self._estep(X32, dense_cat, oh, params)
            total += float(ll.sum())
            rows += enc.n
            part_S, part_counts = self._stats(X32, dense_cat, oh, resp, d)
            S += part_S
            counts += part_counts
        if rows == 0:
            raise ValueError("em_pass needs at least one row")
        weights, means, covs, thetas = self._mstep_stats(S, counts, d, float(getattr(self, "shrinkage_", 0.0)))
        if self.class_column is not None:  # components keep their class
            thetas[int(self.class_column)] = self.thetas_[int(self.class_column)]
        self.weights_, self.means_, self.covariances_, self.thetas_ = weights, means, covs, thetas
        for cache in ("_chol_cache", "_alias_cache"):
            self.__dict__.pop(cache, None)
        self.log_likelihood_ = total / rows
        return self.log_likelihood_

    def _component_logpdf(self, z, c, params, num_cols=None, cat_cols=None, oh=None):
        """log pi_k + log p(observed part | k), shape (n, K), for any subset of observed columns.

        (Fitting uses :meth:`_design_logpdf`, the same quantity for fully observed rows as one GEMM.)
        """
        weights, means, covs, thetas = params
        n = max(len(z), len(c))
        K = len(weights)
        out = np.tile(np.log(weights), (n, 1))
        if num_cols is None:
            num_cols = np.arange(z.shape[1])
        d = len(num_cols)
        if d:
            zo = z[:, num_cols]
            sub = covs[:, num_cols][:, :, num_cols]
            chol = np.linalg.cholesky(sub)  # (K, d, d)
            inv = np.linalg.inv(chol)  # L^-1, so |L^-1 (x - mu)|^2 is the Mahalanobis distance
            # one GEMM: (n, d) x (d, K*d), then subtract each component's projected mean
            proj = (zo @ inv.reshape(K * d, d).T).reshape(n, K, d)
            proj -= np.einsum("kij,kj->ki", inv, means[:, num_cols])[None]
            logdet = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
            out -= 0.5 * np.einsum("nkd,nkd->nk", proj, proj)
            out -= logdet[None] + 0.5 * d * _LOG2PI
        if cat_cols is None:
            if oh is not None and oh.shape[1]:
                out += np.asarray(oh @ np.log(np.hstack(thetas)).T)
                return out
            cat_cols = np.arange(c.shape[1])
        for j in cat_cols:
            out += np.log(thetas[j][:, c[:, j]]).T
        return out

    @staticmethod
    def _num_weights(params):
        """(K, d*d + d + 1) weights W with [vec(z z'), z, 1] @ W' = log N(z | mu_k, Sigma_k) for every component."""
        weights, means, covs, thetas = params
        K, d = means.shape
        chol = np.linalg.cholesky(covs)
        inv = np.linalg.inv(chol)
        prec = np.einsum("kji,kjl->kil", inv, inv)  # L^-T L^-1 = covariance^-1
        pm = np.einsum("kij,kj->ki", prec, means)
        logdet = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
        const = -0.5 * np.einsum("ki,ki->k", pm, means) - logdet - 0.5 * d * _LOG2PI
        return np.hstack([-0.5 * prec.reshape(K, d * d), pm, const[:, None]])

    def _design(self, z, oh, dtype=np.float64):
        """Everything an E-step needs as one matrix: [vec(z z'), z, 1, one-hot] (one-hot sparse when wide)."""
        z = z.astype(dtype)
        parts = [self._outer(z), z, np.ones((len(z), 1), dtype=dtype)]
        dense_cat = oh.shape[1] <= 1024 and len(z) * oh.shape[1] <= 50_000_000  # else the sparse product
        if dense_cat and oh.shape[1]:
            parts.append(oh.toarray().astype(dtype))
        return np.hstack(parts), dense_cat

    def _design_logpdf(self, X, dense_cat, oh, params):
        """log pi_k + log p(row | k) for all rows and components from :meth:`_design`, one GEMM."""
        weights, means, covs, thetas = params
        K = len(weights)
        cols = [self._num_weights(params) if means.shape[1] else np.zeros((K, 1))]
        cols[0] = cols[0].copy()
        cols[0][:, -1] += np.log(weights)
        logt = np.log(np.hstack(thetas)) if thetas else np.zeros((K, 0))
        if dense_cat and logt.shape[1]:
            cols.append(logt)
        out = X @ np.hstack(cols).T.astype(X.dtype)
        if not dense_cat and logt.shape[1]:
            out += np.asarray(oh @ logt.T)
        return out

    def _loglik(self, z, c, params):
        oh = self._onehot(c)
        X, dense_cat = self._design(z, oh)
        return logsumexp(self._design_logpdf(X, dense_cat, oh, params), axis=1)

    def _em(self, z, c, k, rng, progress: Progress | None = None, stage: str = "", shrink: float = 0.0):
        """EM from a k-means++ start. Each iteration is two GEMMs over the design matrix
        (:meth:`_design`) in single precision; parameters, Cholesky factors and the
        log-likelihood are kept in double precision."""
        oh = self._onehot(c)
        X32, dense_cat = self._design(z, oh, np.float32)
        resp = self._init(z, oh, k, rng).astype(np.float32)
        params = self._mstep_design(X32, dense_cat, oh, resp, z.shape[1], shrink)
        prev = -np.inf
        it = 0
        for it in range(1, self.max_iter + 1):
            resp, ll = self._estep(X32, dense_cat, oh, params)
            params = self._mstep_design(X32, dense_cat, oh, resp, z.shape[1], shrink)
            mean_ll = float(ll.mean())
            if progress:
                progress(stage, it, self.max_iter)
            if mean_ll - prev < self.tol:
                break
            prev = mean_ll
        return params, float(prev if np.isfinite(prev) else mean_ll), it

    # ------------------------------------------------------------ sampling
    def sample(self, n: int, *, given: Encoded | None = None, rng: np.random.Generator) -> Encoded:
        check_given(given, n)
        lay: Layout = self.layout_
        if given is None:
            # vectorised over rows: one normal draw for every number, one uniform per category, the
            # component's Cholesky factors computed once per model (sampling in blocks calls this often)
            comp = rng.choice(self.n_components_, size=n, p=self.weights_)
            x_num = np.empty((n, lay.n_num))
            if lay.n_num:
                eps = rng.standard_normal((n, lay.n_num))
                chol = self._cholesky()
                order = np.argsort(comp, kind="stable")
                bounds = np.concatenate([[0], np.cumsum(np.bincount(comp, minlength=self.n_components_))])
                for k in np.flatnonzero(np.diff(bounds)):
                    rows = order[bounds[k]:bounds[k + 1]]
                    x_num[rows] = self.means_[k] + eps[rows] @ chol[k].T
            x_cat = np.empty((n, lay.n_cat), dtype="int64")
            u = rng.random((n, lay.n_cat))
            for j, (keep, alias) in enumerate(self._alias_tables()):
                # Walker's alias method, one uniform per cell: its integer part (times the cardinality) picks a
                # class, its fraction keeps it or takes the class's alias; constant time per row
                card = keep.shape[1]
                scaled = u[:, j] * card
                pick = np.minimum(scaled.astype("int64"), card - 1)
                cell = comp * card + pick
                x_cat[:, j] = np.where(scaled - pick < keep.ravel()[cell], pick, alias.ravel()[cell])
            return Encoded(x_num.astype("float32"), x_cat, lay)
        return self._conditional(given, rng)

    def _cholesky(self) -> np.ndarray:
        """Lower Cholesky factors of every component's covariance (cached: the fitted covariances never change)."""
        cached = getattr(self, "_chol_cache", None)
        if cached is None or cached.shape[0] != len(self.covariances_):
            cached = self._chol_cache = np.linalg.cholesky(self.covariances_)
        return cached

    def _alias_tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per categorical column, every component's alias table (keep probabilities, aliases), built once per
        model like :meth:`_cholesky`."""
        cached = getattr(self, "_alias_cache", None)
        if cached is None or len(cached) != len(self.thetas_):
            cached = self._alias_cache = [_alias_table(theta) for theta in self.thetas_]
        return cached

    def _conditional(self, given: Encoded, rng: np.random.Generator) -> Encoded:
        lay = self.layout_
        n = given.n
        z = given.x_num.astype("float64").copy()
        c = given.x_cat.copy()
        mn = given.mask_num if given.mask_num is not None else np.ones(z.shape, bool)
        mc = given.mask_cat if given.mask_cat is not None else np.ones(c.shape, bool)
        params = (self.weights_, self.means_, self.covariances_, self.thetas_)
        pattern = np.hstack([mn, mc])
        keys, inv = np.unique(pattern, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        for p, key in enumerate(keys):
            rows = np.flatnonzero(inv == p)
            if key.all():
                continue
            o_num = np.flatnonzero(key[: lay.n_num])
            u_num = np.flatnonzero(~key[: lay.n_num])
            o_cat = np.flatnonzero(key[lay.n_num :])
            u_cat = np.flatnonzero(~key[lay.n_num :])
            lp = self._component_logpdf(z[rows], c[rows], params, o_num, o_cat)
            prob = np.exp(lp - logsumexp(lp, axis=1, keepdims=True))
            comp = (prob.cumsum(1) > rng.random((len(rows), 1))).argmax(1)
            for k in np.unique(comp):
                r = rows[comp == k]
                if len(u_num):
                    mu, cov = self.means_[k], self.covariances_[k]
                    if len(o_num):
                        s_oo = cho_factor(cov[np.ix_(o_num, o_num)], lower=True)
                        s_uo = cov[np.ix_(u_num, o_num)]
                        cmean = mu[u_num] + cho_solve(s_oo, (z[np.ix_(r, o_num)] - mu[o_num]).T).T @ s_uo.T
                        ccov = cov[np.ix_(u_num, u_num)] - s_uo @ cho_solve(s_oo, s_uo.T)
                    else:
                        cmean = np.tile(mu[u_num], (len(r), 1))
                        ccov = cov[np.ix_(u_num, u_num)]
                    chol = np.linalg.cholesky(ccov + 1e-9 * np.eye(len(u_num)))
                    z[np.ix_(r, u_num)] = cmean + rng.standard_normal((len(r), len(u_num))) @ chol.T
                for j in u_cat:
                    theta = self.thetas_[j][k]
                    if given.exclude_missing and lay.has_missing_code[j]:
                        theta = theta.copy()
                        theta[-1] = 0.0
                    c[r, j] = _draw(theta, len(r), rng)
        return Encoded(z.astype("float32"), c, lay, given.mask_num, given.mask_cat, given.exclude_missing)

    # --------------------------------------------------------------- state
    def refit_params(self) -> dict:
        if self.class_column is not None:  # sizes were chosen per class: choose again
            return {}
        return {"n_components": int(self.n_components_)}

    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {"weights": self.weights_, "means": self.means_, "covariances": self.covariances_}
        for j, t in enumerate(self.thetas_):
            arrays[f"theta{j}"] = t
        meta = {"n_components": int(self.n_components_), "layout": self.layout_.to_dict(),
                "shrinkage": float(getattr(self, "shrinkage_", 0.0))}
        return meta, arrays

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]) -> "GMMBackend":
        params = dict(params)
        if "candidates" in params:
            params["candidates"] = tuple(params["candidates"])
        self = cls(**params)
        self.layout_ = Layout.from_dict(meta["layout"])
        self.n_components_ = int(meta["n_components"])
        self.shrinkage_ = float(meta.get("shrinkage", 0.0))
        self.weights_ = arrays["weights"]
        self.means_ = arrays["means"]
        self.covariances_ = arrays["covariances"]
        self.thetas_ = [arrays[f"theta{j}"] for j in range(self.layout_.n_cat)]
        k, d = self.n_components_, self.layout_.n_num
        ok = (
            self.weights_.shape == (k,)
            and self.means_.shape == (k, d)
            and self.covariances_.shape == (k, d, d)
            and all(t.shape == (k, card) for t, card in zip(self.thetas_, self.layout_.cardinalities))
        )
        if not ok:
            raise ValueError("GMM arrays do not match the layout")
        return self


def _draw(p: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(p)
    cum /= cum[-1]
    return np.searchsorted(cum, rng.random(size), side="right").clip(max=len(p) - 1)


def _alias_table(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker / Vose alias tables for each row of ``theta`` (rows: distributions over the same classes).

    Class ``i`` of row ``r`` is kept with probability ``keep[r, i]`` and otherwise replaced by
    ``alias[r, i]``; choosing ``i`` uniformly then applying the rule draws from ``theta[r]`` exactly (up to
    rounding). Classes of probability zero are never drawn.
    """
    k, card = theta.shape
    keep = np.ones((k, card))
    alias = np.tile(np.arange(card), (k, 1))
    for r in range(k):
        p = np.asarray(theta[r], dtype="float64")
        q = (p / p.sum() * card).tolist()
        small = [i for i in range(card) if q[i] < 1.0]
        large = [i for i in range(card) if q[i] >= 1.0]
        row_keep, row_alias = keep[r], alias[r]
        while small and large:
            s, big = small.pop(), large[-1]
            row_keep[s], row_alias[s] = q[s], big
            q[big] -= 1.0 - q[s]
            if q[big] < 1.0:
                small.append(large.pop())
        # what is left holds (up to rounding) probability one per slot: kept as it is
    return keep, alias
