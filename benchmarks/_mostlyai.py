"""mostlyai-engine's TabularARGN for the multi-table benchmarks (database.py, sequences.py): fit, generate, keys.

Imported only in a peer's child process (the ``bench`` environment). The
model stays at its defaults (CPU, a workspace of its own, seeded); rows are
read back from the workspace in the order the engine generated them
(``TabularARGN.sample`` re-sorts by the context key with an unstable sort,
which would shuffle the rows within a history).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def fit_generate(rows: pd.DataFrame, workspace: Path, seed: int, *, n: int | None = None,
                 primary_key: str | None = None, context_key: str | None = None,
                 ctx_real: pd.DataFrame | None = None, ctx_synthetic: pd.DataFrame | None = None,
                 ctx_key: str | None = None) -> pd.DataFrame:
    """Fit TabularARGN on ``rows`` and generate: ``n`` flat rows, or one sequence per ``ctx_synthetic`` row.

    With ``context_key``, ``rows`` are sequences keyed by it, conditioned on
    ``ctx_real`` (whose key is ``ctx_key``); generation runs on
    ``ctx_synthetic``. ``primary_key`` is left out of the model and drawn as a
    new id by the engine.
    """
    from mostlyai.engine import TabularARGN, generate, set_random_state

    TabularARGN(tgt_primary_key=primary_key, tgt_context_key=context_key, ctx_data=ctx_real,
                ctx_primary_key=ctx_key, workspace_dir=workspace, random_state=seed, device="cpu").fit(rows)
    set_random_state(seed)
    generate(ctx_data=ctx_synthetic, sample_size=None if ctx_synthetic is not None else n, device="cpu",
             workspace_dir=workspace)
    return pd.read_parquet(Path(workspace) / "SyntheticData").reset_index(drop=True)


def fresh_keys(drawn: pd.Series, real: pd.Series) -> pd.Series:
    """The engine's drawn ids in the real key's type: integers after the largest real one, else its text ids."""
    if pd.api.types.is_integer_dtype(real.dtype):
        start = int(real.max()) + 1
        return pd.Series(np.arange(start, start + len(drawn)), index=drawn.index, dtype=real.dtype, name=drawn.name)
    return drawn.astype(object)


def as_real_types(syn: pd.DataFrame, real: pd.DataFrame) -> pd.DataFrame:
    """Columns in the real order, each cast to its real type where the values allow it (no value changes)."""
    out = syn[list(real.columns)].copy()
    for c in real.columns:
        if out[c].dtype == real[c].dtype:
            continue
        try:
            cast = out[c].astype(real[c].dtype)
        except (TypeError, ValueError):
            continue
        numeric = pd.api.types.is_numeric_dtype(out[c].dtype) and pd.api.types.is_numeric_dtype(real[c].dtype)
        if not numeric or np.array_equal(cast.astype("float64").to_numpy(), out[c].astype("float64").to_numpy(), equal_nan=True):
            out[c] = cast
    return out
