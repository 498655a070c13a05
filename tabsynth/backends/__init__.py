"""Backend registry: name -> class, imported lazily (torch only when needed)."""

from __future__ import annotations

import importlib

from ..errors import InputError

_REGISTRY = {
    "gmm": ("tabsynth.backends.gmm", "GMMBackend"),
    "vae": ("tabsynth.backends.vae", "VAEBackend"),
    "gan": ("tabsynth.backends.gan", "GANBackend"),
    "trees": ("tabsynth.backends.trees", "TreesBackend"),
}


def available() -> list[str]:
    """Names of the registered backends."""
    return sorted(_REGISTRY)


def get_backend_class(name: str) -> type:
    """The backend class registered as ``name``."""
    try:
        module, cls = _REGISTRY[name]
    except KeyError:
        raise InputError(f"--backend: unknown backend {name!r}; choose one of {', '.join(available())}") from None
    return getattr(importlib.import_module(module), cls)
