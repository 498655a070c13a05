"""Backend registry: name -> class, imported lazily (torch only when needed)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ..errors import ParameterError

_REGISTRY = {
    "gmm": ("tabsynth.backends.gmm", "GMMBackend"),
    "vae": ("tabsynth.backends.vae", "VAEBackend"),
    "gan": ("tabsynth.backends.gan", "GANBackend"),
    "trees": ("tabsynth.backends.trees", "TreesBackend"),
}

#: the backend of every fitting entry point (Synthesizer, augment, the over-sampler, the imputer, Dask, the CLI)
#: unless one is named; README, "Why `trees` is the default"
DEFAULT_BACKEND = "trees"


def available() -> list[str]:
    """Names of the registered backends."""
    return sorted(_REGISTRY)


def get_backend_class(name: str) -> type:
    """The backend class registered as ``name``."""
    try:
        module, cls = _REGISTRY[name]
    except KeyError:
        raise ParameterError(f"{{backend}}: unknown backend {name!r}; choose one of {', '.join(available())}",
                             {"backend": name}) from None
    return getattr(importlib.import_module(module), cls)


def given_only_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` for a backend ``name`` model whose rows are drawn alone or given its ``given_columns`` only.

    The backend's ``given_only`` settings (``trees``: no Gibbs sweeps) under the caller's own ``params``,
    which win.
    """
    return {**get_backend_class(name).given_only, **params}
