"""What the CLI's ``--epsilon`` / ``--delta`` / ``--public-schema`` become, and the options a private run excludes.

An option that reads the real rows outside the budget (a class plan from
the real class counts, a utility check or a report on the real rows), or a
model other than the private one, cannot be combined with ``--epsilon``: the
run stops before reading the data, with one line naming the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from .accounting import check_budget
from .domain import load_public_schema

_READS = "reads the real rows outside the privacy budget"
#: option -> why ``--epsilon`` excludes it
EXCLUDES = {
    "--backend": "the private fit is a model of its own (docs/privacy.md); drop --backend",
    "--param": "backend parameters do not apply to the private fit; drop them",
    "--epochs": "the private fit has no epochs; drop --epochs",
    "--target": f"augment --target {_READS} (the real class counts); drop it, the private model keeps the class "
                "shares by itself",
    "--balance": f"it {_READS} (the real class counts); drop it",
    "--class-ratio": f"it {_READS} (the real class counts); drop it",
    "--check": f"it {_READS} (held-out scores); drop it",
    "--report": f"it {_READS} (a report on them); evaluate the synthetic rows where you may see the real ones",
    "--fit-passes": "a private fit reads a table in memory once; drop it",
    "--workers": "a private fit reads a table in memory; drop --workers",
    "--scheduler": "a private fit reads a table in memory; drop --scheduler",
    "a parquet dataset input": "a private fit reads a table in memory; fit a sample you drew yourself",
    "several tables or --entity": "a private fit covers one table",
}


def private_params(epsilon: float | None, delta: float | None, public_schema: str | Path | None,
                   used: Mapping[str, bool]) -> dict[str, Any]:
    """Synthesizer parameters of a private run (empty without ``epsilon``), after every check that needs no data.

    ``used``: option -> whether it was given (keys of :data:`EXCLUDES`).

    Examples
    --------
    >>> private_params(1.0, None, None, {"--target": False})
    {'epsilon': 1.0, 'delta': None, 'public_schema': None}
    >>> private_params(None, None, None, {})
    {}
    """
    if epsilon is None:
        for opt, value in (("--delta", delta), ("--public-schema", public_schema)):
            if value is not None:
                raise InputError(f"{opt} is an option of a private fit; give --epsilon too")
        return {}
    try:
        check_budget(epsilon, delta)
    except InputError as e:
        raise InputError(f"--{e}") from None
    for opt, on in used.items():
        if on:
            raise InputError(f"--epsilon cannot be combined with {opt}: {EXCLUDES[opt]}")
    if public_schema is not None:
        load_public_schema(public_schema)  # a bad file fails before the data is read
    return {"epsilon": epsilon, "delta": delta, "public_schema": public_schema}


def private_rows(noisy_rows: int, rows: int | None, ratio: float | None) -> int:
    """Synthetic rows of a private augment: ``rows``, or ``ratio`` (default 1) times the *noisy* number of rows."""
    if rows is not None:
        return int(rows)
    return int(round(noisy_rows * (1.0 if ratio is None else float(ratio))))


def public_layout(layout: dict | None) -> dict | None:
    """A text input's layout without what depends on the cells (missing-value text, date formats found)."""
    if not layout:
        return layout
    return {k: v for k, v in layout.items() if k not in ("na_rep", "column_formats")} or None
