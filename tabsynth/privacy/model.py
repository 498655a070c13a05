"""The fitted private model: an encoder of the DP domains and a tree of noisy marginals; both save as JSON + npy.

They speak the same language as the other backends (:class:`~tabsynth.encoding.Encoded`
tables of codes), so a :class:`~tabsynth.Synthesizer` samples, conditions and
imputes with them as with any backend. Nothing here reads the real table:
every number comes from the private fit (:mod:`tabsynth.privacy.fit`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._cells import column_label
from ..encoding import Encoded, Layout
from ..errors import FileFormatError
from ..schema import TableSchema
from .domain import ColumnDomain

#: floor of every probability of the model: a row whose known cells the noisy marginals give no mass still samples
FLOOR = 1e-12


class PrivateEncoder:
    """DataFrame <-> fine codes of each column's private domain (no numeric block).

    Parameters
    ----------
    domains : list of ColumnDomain
    schema : TableSchema
        The released schema (built from the domains and the private estimates).
    """

    def __init__(self, domains: list[ColumnDomain], schema: TableSchema):
        self.domains = domains
        self.schema = schema
        self.layout_ = Layout(0, [d.n_codes for d in domains], [d.missing for d in domains])

    def transform(self, df: pd.DataFrame, rng: np.random.Generator | None = None,
                  missing: Literal["model", "unobserved"] = "model") -> Encoded:
        """Codes of ``df``'s columns (matched by name; absent columns are unknown).

        ``missing="model"`` codes a missing cell as the missing level; ``"unobserved"`` marks it unknown.
        """
        n = len(df)
        x = np.zeros((n, len(self.domains)), dtype="int64")
        mask = np.ones_like(x, dtype=bool)
        for j, dom in enumerate(self.domains):
            label = column_label(df, dom.name)
            if label is None:
                mask[:, j] = False
                continue
            codes, isna = dom.encode(df[label])
            if missing == "unobserved" or not dom.missing:
                mask[:, j] = ~isna
                codes[isna] = 0
            x[:, j] = codes
        return Encoded(np.zeros((n, 0), dtype="float32"), x, self.layout_, np.ones((n, 0), dtype=bool), mask,
                       exclude_missing=missing == "unobserved")

    def inverse(self, enc: Encoded, rng: np.random.Generator) -> pd.DataFrame:
        """Values of the codes, in the schema's column order and dtypes."""
        return pd.DataFrame({d.name: d.decode(enc.x_cat[:, j], rng) for j, d in enumerate(self.domains)})

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"schema": self.schema.to_dict(), "domains": [d.to_dict() for d in self.domains],
                "layout": self.layout_.to_dict()}, {}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> PrivateEncoder:
        self = cls([ColumnDomain.from_dict(d) for d in meta["domains"]], TableSchema.from_dict(meta["schema"]))
        if self.layout_.to_dict() != Layout.from_dict(meta["layout"]).to_dict():
            raise FileFormatError("model file is inconsistent (private domains differ from the layout); re-create "
                                  "it with 'tabsynth fit --epsilon'")
        return self


class PrivateTree:
    """A tree of coarse 2-way marginals with fine levels within each coarse level (a tree-shaped Bayesian network).

    Parameters
    ----------
    groups : list of int arrays
        Per column, the coarse level of each fine code.
    fine : list of float arrays
        Per column, the probability of each fine code.
    parent : list of int
        Per column, its parent in the tree (-1: a root).
    order : list of int
        Columns, parents before children.
    marginals : list of float arrays
        Per column, the probability of each coarse level.
    conditionals : list of arrays or None
        Per non-root column, ``P(child coarse | parent coarse)`` (parent levels x child levels); with a
        ``target``, per column other than the target, ``P(child | target, parent)`` (target levels x parent
        levels x child levels; one parent level for a column without a parent).
    has_missing : list of bool
        Per column, whether its last fine code means missing (a coarse level of its own).
    target : int, default -1
        A column that is a parent of every other column besides its tree parent (a tree-augmented naive
        Bayes network), or -1 (a plain tree).
    """

    def __init__(self, groups: list[np.ndarray], fine: list[np.ndarray], parent: list[int], order: list[int],
                 marginals: list[np.ndarray], conditionals: list[np.ndarray | None], has_missing: list[bool],
                 target: int = -1):
        self.target = int(target)
        self.has_missing = [bool(m) for m in has_missing]
        self.groups = [np.asarray(g, dtype="int64") for g in groups]
        self.fine = [np.asarray(f, dtype=float) for f in fine]
        self.parent = [int(p) for p in parent]
        self.order = [int(i) for i in order]
        self.marginals = [np.maximum(np.asarray(m, dtype=float), FLOOR) for m in marginals]
        self.conditionals = [None if c is None else np.maximum(np.asarray(c, dtype=float), FLOOR)
                             for c in conditionals]

    @staticmethod
    def get_params() -> dict[str, Any]:
        return {}

    def sample(self, n: int, *, given: Encoded | None = None, rng: np.random.Generator) -> Encoded:
        """``n`` rows of fine codes; known cells of ``given`` are kept and the rest drawn given them (exactly)."""
        d = len(self.groups)
        known = np.zeros((n, d), dtype=bool) if given is None or given.mask_cat is None else given.mask_cat.copy()
        if given is not None and given.mask_cat is None:
            known[:] = True
        fixed = np.zeros((n, d), dtype="int64") if given is None else given.x_cat
        beta = [self._evidence(j, known[:, j], fixed[:, j], given is not None and given.exclude_missing)
                for j in range(d)]
        u = rng.random((n, 2 * d))  # a fixed number of draws per row: rows depend only on the seed
        coarse = self._coarse(beta, u) if self.target < 0 else self._coarse_with_target(beta, u)
        x = np.zeros((n, d), dtype="int64")
        for j in range(d):
            x[:, j] = np.where(known[:, j], fixed[:, j], self._fine(j, coarse[:, j], u[:, 2 * j + 1]))
        layout = given.layout if given is not None else Layout(0, [len(g) for g in self.groups], self.has_missing)
        return Encoded(np.zeros((n, 0), dtype="float32"), x, layout)

    @property
    def format_version(self) -> int:
        """The oldest model-file format that reads this model (2 with a target: older readers take its tables
        for a plain tree's)."""
        return 2 if self.target >= 0 else 1

    def _coarse(self, beta: list[np.ndarray], u: np.ndarray) -> np.ndarray:
        """Coarse levels of every column given the evidence ``beta``: messages up the tree, then draws down."""
        n, d = u.shape[0], len(self.groups)
        self._up(beta, lambda j: self.conditionals[j] if self.parent[j] >= 0 else None)
        coarse = np.zeros((n, d), dtype="int64")
        for j in self.order:  # draws from the root down
            p = self.parent[j]
            prior = self.marginals[j][None, :] if p < 0 else self.conditionals[j][coarse[:, p]]
            coarse[:, j] = _draw(prior * beta[j], u[:, 2 * j])
        return coarse

    def _up(self, beta: list[np.ndarray], table: Callable[[int], np.ndarray | None]) -> np.ndarray:
        """Messages from the leaves up, in place: each column ``j`` with a ``table(j)`` (``P(j | parent)``,
        parent levels x child levels; one parent level for a column without a parent) sends its evidence to
        its parent. Each row's log likelihood of its evidence (up to a constant)."""
        log_like = np.zeros(len(beta[0]))
        for j in reversed(self.order):
            cond = table(j)
            if cond is None:
                continue
            msg = beta[j] @ cond.T
            scale = np.maximum(msg.max(axis=1, keepdims=True), 1e-300)
            log_like += np.log(scale[:, 0])
            if self.parent[j] >= 0:
                beta[self.parent[j]] = beta[self.parent[j]] * msg / scale
        return log_like

    def _below(self, level: int) -> Callable[[int], np.ndarray | None]:
        """:meth:`_up`'s tables below the target at one of its levels."""
        return lambda j: None if j == self.target else self.conditionals[j][level]

    def _coarse_with_target(self, beta: list[np.ndarray], u: np.ndarray) -> np.ndarray:
        """:meth:`_coarse` for a tree-augmented network: the target's level is drawn given the evidence (each
        level's likelihood by a pass up the tree), then the tree below it, exactly as without a target."""
        n, d, c = u.shape[0], len(self.groups), self.target
        k = len(self.marginals[c])
        # a level the target's own cell rules out is never drawn, whatever the other cells weigh
        post = np.where(beta[c] > 0, np.log(self.marginals[c])[None, :] + np.log(np.maximum(beta[c], 1e-300)),
                        -np.inf)
        evidence = any(not (beta[j] == 1).all() for j in range(d) if j != c)  # known cells, or missing ruled out
        if evidence:
            for a in range(k):
                post[:, a] += self._up(list(beta), self._below(a))
        coarse = np.zeros((n, d), dtype="int64")
        coarse[:, c] = _draw(np.exp(post - post.max(axis=1, keepdims=True)), u[:, 2 * c])
        level = coarse[:, c]
        if evidence:  # the messages at each row's own level
            for a in np.unique(level):
                rows = np.flatnonzero(level == a)
                part = [b[rows] for b in beta]
                self._up(part, self._below(int(a)))
                for j in range(d):
                    beta[j][rows] = part[j]
        for j in self.order:
            if j == c:
                continue
            p, cond = self.parent[j], self.conditionals[j]
            prior = cond[level, coarse[:, p] if p >= 0 else 0]
            coarse[:, j] = _draw(prior * beta[j], u[:, 2 * j])
        return coarse

    def _evidence(self, j: int, known: np.ndarray, codes: np.ndarray, exclude_missing: bool) -> np.ndarray:
        k = int(self.groups[j].max()) + 1
        ev = np.ones((len(known), k))
        if exclude_missing and self.missing_group(j) is not None:
            ev[~known, self.missing_group(j)] = 0.0
        rows = np.flatnonzero(known)
        if len(rows):
            ev[rows] = 0.0
            ev[rows, self.groups[j][codes[rows]]] = 1.0
        return ev

    def missing_group(self, j: int) -> int | None:
        """The coarse level of column ``j``'s missing code (its last fine code), if it has one."""
        return int(self.groups[j][-1]) if self.has_missing[j] else None

    def _fine(self, j: int, coarse: np.ndarray, u: np.ndarray) -> np.ndarray:
        g, f = self.groups[j], self.fine[j]
        within = np.where(g[None, :] == np.arange(int(g.max()) + 1)[:, None], np.maximum(f, FLOOR)[None, :], 0.0)
        return _draw(within[coarse], u)

    # ------------------------------------------------------------- files
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        for j in range(len(self.groups)):
            arrays[f"groups{j}"] = self.groups[j]
            arrays[f"fine{j}"] = self.fine[j]
            arrays[f"marginal{j}"] = self.marginals[j]
            if self.conditionals[j] is not None:
                arrays[f"conditional{j}"] = self.conditionals[j]
        meta = {"parent": self.parent, "order": self.order, "has_missing": self.has_missing}
        if self.target >= 0:
            meta["target"] = self.target
        return meta, arrays

    @classmethod
    def from_state(cls, params: dict, meta: dict, arrays: dict[str, np.ndarray]) -> PrivateTree:
        d = len(meta["parent"])
        self = cls([arrays[f"groups{j}"] for j in range(d)], [arrays[f"fine{j}"] for j in range(d)],
                   meta["parent"], meta["order"], [arrays[f"marginal{j}"] for j in range(d)],
                   [arrays.get(f"conditional{j}") for j in range(d)], meta["has_missing"], meta.get("target", -1))
        if not self._consistent():
            raise FileFormatError("model file is inconsistent (the private tree's tables do not fit its columns); "
                                  "re-create it with 'tabsynth fit --epsilon'")
        return self

    def _consistent(self) -> bool:
        """Whether parents, order and every table's shape fit the columns' coarse levels."""
        d, t = len(self.groups), self.target
        if not (-1 <= t < d and sorted(self.order) == list(range(d)) and len(self.parent) == d):
            return False
        ks = [int(g.max()) + 1 if len(g) else 0 for g in self.groups]
        for j in range(d):
            p, cond = self.parent[j], self.conditionals[j]
            if not -1 <= p < d or len(self.marginals[j]) != ks[j] or len(self.fine[j]) != len(self.groups[j]):
                return False
            if t >= 0 and j != t:
                want: tuple | None = (ks[t], ks[p] if p >= 0 else 1, ks[j])
            else:
                want = (ks[p], ks[j]) if p >= 0 else None
            if (cond is None) != (want is None) or (cond is not None and cond.shape != want):
                return False
        return True


def _draw(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One index per row of ``weights`` (rows need not sum to 1), by inverse CDF with uniforms ``u``."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    idx = (cum < u[:, None] * total).sum(axis=1)
    return np.minimum(idx, weights.shape[1] - 1)
