"""``summary_table``: a short human-readable verdict per section of an ``evaluate`` result."""

from __future__ import annotations

import math
from typing import Any

#: Fidelity: the lower of column shapes and pair trends; >= good -> "good", >= fair -> "fair", else "poor".
FIDELITY_THRESHOLDS = {"good": 0.90, "fair": 0.80}
#: Detection: the highest max(AUC, 1 - AUC) of the detectors; <= good -> "good", <= fair -> "fair".
DETECTION_THRESHOLDS = {"good": 0.60, "fair": 0.80}
#: Utility: mean over models of (real - synthetic) in the task's metric; <= good -> "good", <= fair -> "fair".
UTILITY_GAP_THRESHOLDS = {"good": 0.02, "fair": 0.05}
#: Feature selection: Spearman rank correlation of mutual-information scores; >= good -> "good", >= fair -> "fair".
FEATURE_SELECTION_THRESHOLDS = {"good": 0.80, "fair": 0.50}
#: Privacy warnings: exact copies above max(this, 2 x the holdout's own copy rate), a synthetic
#: median DCR below this share of the holdout median ...
PRIVACY_COPY_THRESHOLD = 0.01
PRIVACY_DCR_RATIO_THRESHOLD = 0.5
#: ... or a DCR closer share (0.5: as far as unseen rows) above 0.5 by more than this many standard errors of
#: the Mann-Whitney statistic under parity, ``sqrt((m + n + 1) / (12 m n))`` for ``m`` synthetic and ``n``
#: holdout rows: 0.5 + 0.021 with 5,000 and 3,000 rows, 0.5 + 0.087 with 300 and 200.
PRIVACY_CLOSER_SIGMAS = 3.0


def closer_than_chance(privacy: dict[str, Any]) -> bool:
    """Whether a ``privacy`` result's ``dcr_closer`` is above parity by more than its noise allows.

    Examples
    --------
    >>> closer_than_chance({"dcr_closer": 0.53, "query_rows": {"synthetic": 5000, "holdout": 3000}})
    True
    >>> closer_than_chance({"dcr_closer": 0.53, "query_rows": {"synthetic": 300, "holdout": 200}})
    False
    """
    closer, rows = privacy.get("dcr_closer"), privacy.get("query_rows") or {}
    m, n = int(rows.get("synthetic") or 0), int(rows.get("holdout") or 0)
    if closer is None or not m or not n:
        return False
    return closer > 0.5 + PRIVACY_CLOSER_SIGMAS * math.sqrt((m + n + 1) / (12 * m * n))


def _f(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _higher_is_better(x: float | None, th: dict[str, float]) -> str:
    if x is None:
        return "n/a"
    return "good" if x >= th["good"] else "fair" if x >= th["fair"] else "poor"


def _lower_is_better(x: float | None, th: dict[str, float]) -> str:
    if x is None:
        return "n/a"
    return "good" if x <= th["good"] else "fair" if x <= th["fair"] else "poor"


def verdicts(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(section, figures, verdict) rows of :func:`summary_table`; verdict is good/fair/poor, ok/WARNING or n/a."""
    return [row[:3] for row in _rows(result)]


def _utility_notes(ut: dict[str, Any]) -> list[str]:
    notes = list(ut.get("notes") or [])
    gap = (ut.get("summary") or {}).get("gap")
    if gap is not None and gap < -UTILITY_GAP_THRESHOLDS["good"]:
        notes.append("models trained on synthetic rows beat those trained on real rows: check that the "
                     "generator never saw the holdout rows")
    return notes


def _rows(result: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    rows: list[tuple[str, str, str, list[str]]] = []
    fid = result.get("fidelity")
    if fid:
        cs, pt = fid.get("column_shapes"), fid.get("pair_trends")
        worst = min((v for v in (cs, pt) if v is not None), default=None)
        val = (fid.get("validity") or {}).get("score")
        rows.append(("fidelity", f"column shapes {_f(cs)}, pair trends {_f(pt)}, validity {_f(val)}",
                     _higher_is_better(worst, FIDELITY_THRESHOLDS), []))
    ut = result.get("utility")
    if ut and ut.get("summary"):
        s = ut["summary"]
        rows.append((f"utility ({ut['metric']})",
                     f"real {_f(s['real'])}, synthetic {_f(s['synthetic'])}, augmented {_f(s['augmented'])}; "
                     f"gap {_f(s['gap'])}",
                     _lower_is_better(s["gap"], UTILITY_GAP_THRESHOLDS), _utility_notes(ut)))
    fs = result.get("feature_selection")
    if fs:
        rows.append(("feature selection", f"spearman {_f(fs.get('spearman'))}, top-{fs.get('k')} overlap "
                     f"{_f(fs.get('top_k_overlap'), 2)}",
                     _higher_is_better(fs.get("spearman"), FEATURE_SELECTION_THRESHOLDS), []))
    det = result.get("detection")
    if det:
        aucs = {k: det.get(k) for k in ("logistic_regression", "gradient_boosting") if k in det}
        vals = [max(v, 1 - v) for v in aucs.values() if v is not None]
        worst = max(vals) if vals else None
        figures = ", ".join(f"{k.replace('_', ' ')} AUC {_f(v)}" for k, v in aucs.items())
        rows.append(("detection", figures, _lower_is_better(worst, DETECTION_THRESHOLDS), []))
    pv = result.get("privacy")
    if pv:
        warn = []
        copies, base = pv.get("exact_copies"), pv.get("exact_copies_holdout") or 0.0
        if copies is not None and copies > max(PRIVACY_COPY_THRESHOLD, 2 * base):
            warn.append(f"{copies:.1%} of synthetic rows are exact copies of real rows")
        ratio = pv.get("dcr_ratio")
        if (ratio is not None and ratio < PRIVACY_DCR_RATIO_THRESHOLD) or closer_than_chance(pv):
            warn.append("synthetic rows sit closer to the training rows than unseen holdout rows do")
        rows.append(("privacy", f"exact copies {_f(copies)} (holdout {_f(pv.get('exact_copies_holdout'))}); "
                     f"median DCR synthetic {_f(pv.get('dcr_synthetic_median'))}, holdout "
                     f"{_f(pv.get('dcr_holdout_median'))}; DCR closer {_f(pv.get('dcr_closer'))}",
                     "WARNING" if warn else "ok", warn))
    return rows


def summary_table(result: dict[str, Any]) -> str:
    """A short text table of an :func:`~tabsynth.evaluate.evaluate` result with a verdict per section.

    Warnings and notes follow the table. Thresholds (module constants):
    fidelity good >= 0.90, fair >= 0.80 (on the lower of column shapes and
    pair trends); utility gap (real - synthetic, mean over models) good <=
    0.02, fair <= 0.05; feature-selection Spearman good >= 0.8, fair >= 0.5;
    detection max(AUC, 1 - AUC) good <= 0.6, fair <= 0.8; privacy warns when
    exact copies exceed max(1%, twice the holdout's own copy rate) or the
    synthetic median DCR is below half the holdout median.

    Parameters
    ----------
    result : dict
        The result of :func:`~tabsynth.evaluate.evaluate`.

    Returns
    -------
    str

    Examples
    --------
    >>> print(summary_table({"fidelity": {"column_shapes": 0.95, "pair_trends": 0.85}, "meta": {}}))
    section  | figures                                             | verdict
    ---------|-----------------------------------------------------|--------
    fidelity | column shapes 0.950, pair trends 0.850, validity -  | fair
    """
    rows = _rows(result)
    header = ("section", "figures", "verdict")
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(3)]
    widths[1] = max(widths[1], 51)
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r[:3], widths)).rstrip() for r in rows]
    for sec, _, verdict, details in rows:
        for d in details:
            lines.append(f"{'WARNING' if verdict == 'WARNING' else 'note'} ({sec}): {d}")
    meta = result.get("meta") or {}
    for note in meta.get("notes") or []:
        lines.append(f"note: {note}")
    if "seconds" in meta:
        lines.append(f"{meta.get('rows_real')} real, {meta.get('rows_synthetic')} synthetic, "
                     f"{meta.get('rows_holdout')} holdout rows (holdout "
                     f"{str(meta.get('holdout_source', '?')).split(':')[0]}); {meta['seconds']:.1f} s")
    return "\n".join(lines)
