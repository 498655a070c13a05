"""Differential privacy: an (epsilon, delta)-DP fit whose whole release (model, schema, samples) carries the guarantee.

Use it through :class:`tabsynth.Synthesizer` (``epsilon=``, ``delta=``,
``public_schema=``) or the CLI (``tabsynth fit|augment TABLE --epsilon E``);
docs/privacy.md is the user guide.
"""

from .accounting import DEFAULT_DELTA, Budget, check_budget, rho_for
from .domain import OTHER, load_public_schema
from .fit import MECHANISM, PrivateFit, fit_private
from .model import PrivateEncoder, PrivateTree
from .options import private_params, private_rows, public_layout

__all__ = ["DEFAULT_DELTA", "MECHANISM", "OTHER", "Budget", "PrivateEncoder", "PrivateFit", "PrivateTree",
           "check_budget", "fit_private", "load_public_schema", "private_params", "private_rows", "public_layout",
           "rho_for"]
