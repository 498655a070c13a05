"""Privacy accounting: one budget, zero-concentrated DP (zCDP), spent step by step and converted to (epsilon, delta).

Every step of a private fit that reads the data asks the :class:`Budget` for
its share and records what it spent. The mechanisms used are

* the Gaussian mechanism: a query of L2 sensitivity ``s`` answered with
  noise ``N(0, sigma^2)`` per cell is ``s^2 / (2 sigma^2)``-zCDP
  (Bun & Steinke 2016, Prop. 1.6);
* the exponential mechanism with parameter ``eps`` (pure ``eps``-DP) is
  ``eps^2 / 8``-zCDP (Cesar & Rogers 2021, bounded range);
* stable thresholding of counts (releasing only values whose noisy count
  clears a threshold) is ``delta_t``-approximate zCDP: a value held by
  one row only is released with probability at most ``delta_t``.

zCDP composes by adding ``rho`` (and approximate deltas add); the total is
converted to (epsilon, delta)-DP with the conversion of Canonne, Kamath &
Steinke (2020, Prop. 12), tighter than the classic
``epsilon = rho + 2 sqrt(rho log(1/delta))``.

Neighbouring tables differ by one row added or removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.special import ndtri

from ..errors import InputError

#: delta used when none is given: far below 1/n for any table this toolkit fits in memory
DEFAULT_DELTA = 1e-9
#: share of delta kept for stable thresholding (category and spike discovery); the rest for the zCDP conversion
THRESHOLD_DELTA_SHARE = 0.1


def check_budget(epsilon: object, delta: object) -> tuple[float, float]:
    """``(epsilon, delta)`` as floats, or :class:`~tabsynth.errors.InputError` naming the parameter.

    Examples
    --------
    >>> check_budget(1, None)
    (1.0, 1e-09)
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer, np.floating)):
        raise InputError(f"epsilon must be a positive finite number, got {epsilon!r}")
    eps = float(epsilon)
    if not math.isfinite(eps) or eps <= 0:
        raise InputError(f"epsilon must be a positive finite number (e.g. 1.0), got {eps!r}")
    if delta is None:
        return eps, DEFAULT_DELTA
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)):
        raise InputError(f"delta must be a number in (0, 1), got {delta!r}")
    d = float(delta)
    if not (0 < d < 1):  # nan fails too
        raise InputError(f"delta must be in (0, 1) (e.g. 1e-9, well below 1/rows), got {d!r}")
    return eps, d


def cdp_delta(rho: float, epsilon: float) -> float:
    """Smallest delta such that ``rho``-zCDP implies (epsilon, delta)-DP (Canonne, Kamath & Steinke 2020).

    ``delta = inf_{a > 1} exp((a-1)(a rho - epsilon)) / (a-1) * (1 - 1/a)^a``, minimised over ``a``
    on a fine logarithmic grid (the function is smooth and unimodal in ``a``).
    """
    if rho <= 0:
        return 0.0
    if epsilon <= rho:  # the infimum is reached as a -> 1: no useful guarantee
        return 1.0
    a_star = (epsilon + rho) / (2 * rho)  # the optimum of the classic bound; the grid brackets it widely
    alphas = 1 + np.geomspace(1e-6, max(a_star * 4, 10.0), 4000)
    log_d = ((alphas - 1) * (alphas * rho - epsilon) - np.log(alphas - 1)
             + alphas * np.log1p(-1 / alphas))
    return float(min(1.0, np.exp(log_d.min())))


@lru_cache(maxsize=256)
def rho_for(epsilon: float, delta: float) -> float:
    """The largest ``rho`` whose zCDP guarantee converts to (epsilon, delta)-DP (bisection on :func:`cdp_delta`).

    Examples
    --------
    >>> round(rho_for(1.0, 1e-9), 4)
    0.015
    """
    lo, hi = 0.0, max(epsilon, 1.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        if cdp_delta(mid, epsilon) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """Noise scale of a Gaussian mechanism of L2 ``sensitivity`` that is ``rho``-zCDP."""
    return sensitivity / math.sqrt(2 * rho)


def exponential_epsilon(rho: float) -> float:
    """Parameter of an exponential mechanism that is ``rho``-zCDP (``eps^2 / 8 = rho``)."""
    return math.sqrt(8 * rho)


def threshold_for(sigma: float, delta_t: float) -> float:
    """Noisy-count threshold above which a value is released: a count of 1 clears it with probability ``delta_t``."""
    return 1.0 + sigma * float(ndtri(1 - delta_t))


@dataclass
class Budget:
    """A privacy budget: total ``rho`` (zCDP) and the delta of thresholding, spent step by step.

    Parameters
    ----------
    epsilon, delta : float
        The (epsilon, delta)-DP guarantee of everything spent.
    thresholding : bool, default True
        Whether a step will use stable thresholding: it then gets
        :data:`THRESHOLD_DELTA_SHARE` of ``delta``; the rest (all of it
        without thresholding) goes to the zCDP conversion.

    Examples
    --------
    >>> b = Budget(1.0, 1e-9)
    >>> sigma = gaussian_sigma(b.spend(b.rho / 2, "counts"))
    >>> round(b.remaining / b.rho, 2)
    0.5
    """

    epsilon: float
    delta: float
    thresholding: bool = True
    rho: float = 0.0
    threshold_delta: float = 0.0
    ledger: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.threshold_delta = self.delta * THRESHOLD_DELTA_SHARE if self.thresholding else 0.0
        self.rho = rho_for(self.epsilon, self.delta - self.threshold_delta)
        self.spent = 0.0
        self.spent_delta = 0.0

    @property
    def remaining(self) -> float:
        return max(self.rho - self.spent, 0.0)

    def spend(self, rho: float, step: str, *, delta: float = 0.0, **details: object) -> float:
        """Record ``rho`` (and an approximate ``delta``) spent on ``step``; return ``rho``."""
        if rho <= 0:
            raise AssertionError(f"privacy step {step!r} spends nothing")
        if self.spent + rho > self.rho * (1 + 1e-9) or self.spent_delta + delta > self.threshold_delta * (1 + 1e-9):
            raise AssertionError(f"privacy step {step!r} overspends the budget")
        self.spent += rho
        self.spent_delta += delta
        entry = {"step": step, "rho": rho}
        if delta:
            entry["delta"] = delta
        entry.update(details)
        self.ledger.append(entry)
        return rho

    def report(self, mechanism: str) -> dict:
        """What was spent, for ``--json`` and the model file."""
        by_step: dict[str, float] = {}
        for e in self.ledger:
            by_step[e["step"]] = by_step.get(e["step"], 0.0) + e["rho"]
        return {
            "mechanism": mechanism,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho": self.rho,
            "rho_spent": self.spent,
            "delta_thresholding": self.threshold_delta,
            "delta_conversion": self.delta - self.threshold_delta,
            "split": {k: round(v / self.rho, 6) for k, v in by_step.items()},
            "steps": self.ledger,
            "neighbours": "tables differing by one row added or removed",
        }
