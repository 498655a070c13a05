"""Evaluate a synthetic table against the real one: fidelity, utility, detection, privacy.

Works on pandas DataFrames only (no torch, no tabsynth backends). The one
entry point is :func:`evaluate`; the parts behind it are importable on their
own, and :func:`summary_table` / :func:`tabsynth.evaluate.report.write_report`
present a result.

>>> from tabsynth.evaluate import evaluate, summary_table
>>> "evaluate" in __all__
True
"""

from __future__ import annotations

from ._core import SECTIONS, evaluate
from ._summary import summary_table
from .detection import detection
from .fidelity import column_shapes, fidelity, pair_trends, validity
from .imputation import imputation_scores, make_missing
from .privacy import distance_to_closest_record, exact_copies, privacy
from .utility import MODELS, feature_selection, infer_task, utility

__all__ = [
    "evaluate",
    "summary_table",
    "fidelity",
    "column_shapes",
    "pair_trends",
    "validity",
    "utility",
    "feature_selection",
    "infer_task",
    "detection",
    "privacy",
    "exact_copies",
    "distance_to_closest_record",
    "make_missing",
    "imputation_scores",
    "MODELS",
    "SECTIONS",
    "write_report",
]


def __getattr__(name: str):
    if name == "write_report":  # the report module is imported only when a report is written
        from .report import write_report

        return write_report
    raise AttributeError(f"module 'tabsynth.evaluate' has no attribute {name!r}")
