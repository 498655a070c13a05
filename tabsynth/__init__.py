"""tabsynth: tabular data augmentation, synthesis and imputation.

The public API is imported lazily so ``import tabsynth`` never imports torch.

>>> import tabsynth
>>> sorted(tabsynth.__all__)[:3]
['DatabaseSynthesizer', 'GenerativeImputer', 'GenerativeOverSampler']
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# Before torch first multiplies matrices: MKL's strict reproducible mode, so a product gives the same bits
# on any thread count and the neural backends may train on the idle cores (tabsynth._threads.torch_invariant).
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

from ._version import __version__
from .errors import InputError, TabsynthError

__all__ = [
    "Synthesizer",
    "DatabaseSynthesizer",
    "GenerativeImputer",
    "GenerativeOverSampler",
    "TableSchema",
    "TabsynthError",
    "InputError",
    "augment",
    "infer_schema",
    "read_table",
    "write_table",
    "set_threads",
    "get_threads",
    "__version__",
]

_LAZY = {
    "Synthesizer": ("tabsynth.synthesizer", "Synthesizer"),
    "DatabaseSynthesizer": ("tabsynth.database", "DatabaseSynthesizer"),
    "augment": ("tabsynth.augmentation", "augment"),
    "GenerativeImputer": ("tabsynth.impute", "GenerativeImputer"),
    "GenerativeOverSampler": ("tabsynth.augmentation", "GenerativeOverSampler"),
    "TableSchema": ("tabsynth.schema", "TableSchema"),
    "infer_schema": ("tabsynth.schema", "infer_schema"),
    "read_table": ("tabsynth.io", "read_table"),
    "write_table": ("tabsynth.io", "write_table"),
    "set_threads": ("tabsynth._threads", "set_threads"),
    "get_threads": ("tabsynth._threads", "get_threads"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'tabsynth' has no attribute {name!r}")
