"""RAG rating, carry-forward, overrides and direction of travel. Pure functions: no I/O.

The rules are written out in ``docs/data-model.md`` and ``docs/aqa/assumptions.md``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.values import is_missing

GREEN, AMBER, RED, NOT_RATED, NO_DATA = "Green", "Amber", "Red", "Not rated", "No data"
RATINGS: tuple[str, ...] = (GREEN, AMBER, RED, NOT_RATED, NO_DATA)
IMPROVING, NO_CHANGE, WORSENING, NOT_AVAILABLE = (
    "improving",
    "no noticeable change",
    "worsening",
    "not available",
)
DIRECTIONS: tuple[str, ...] = (IMPROVING, NO_CHANGE, WORSENING, NOT_AVAILABLE)

_PLACES = 9  # values are compared after rounding, so an edge case is not decided by float noise


def rate(
    value: float | None,
    reference: float | None,
    *,
    polarity: str,
    tolerance_type: str | None,
    tolerance: float | None,
) -> str:
    """Green when ``value`` meets or beats ``reference``; Amber when worse by no more than the
    tolerance; Red when worse by more. No value: No data. No reference: Not rated."""
    if is_missing(value):
        return NO_DATA
    if is_missing(reference):
        return NOT_RATED
    assert value is not None and reference is not None
    gap = value - reference if polarity == "higher_is_better" else reference - value
    gap = round(gap, _PLACES)
    if gap >= 0:
        return GREEN
    tol = 0.0 if is_missing(tolerance) else float(tolerance or 0.0)
    allowance = abs(reference) * tol / 100.0 if tolerance_type == "relative" else tol
    return AMBER if round(-gap, _PLACES) <= round(allowance, _PLACES) else RED


def direction(
    current: float | None,
    previous: float | None,
    *,
    polarity: str,
    threshold_percent: float = 1.0,
) -> str:
    """Improving / no noticeable change / worsening, respecting polarity.

    A change smaller than ``threshold_percent`` of the earlier value counts as no noticeable
    change (for an earlier value of zero, any change is noticeable)."""
    if is_missing(current) or is_missing(previous):
        return NOT_AVAILABLE
    assert current is not None and previous is not None
    change = round(current - previous, _PLACES)
    if abs(change) <= round(abs(previous) * threshold_percent / 100.0, _PLACES):
        return NO_CHANGE
    better = change > 0 if polarity == "higher_is_better" else change < 0
    return IMPROVING if better else WORSENING


def reference_of(basis: str, row: dict[str, Any]) -> tuple[float | None, str]:
    """The figure an indicator is rated against and how to describe it."""
    if basis == "target":
        return row.get("target"), "target"
    if basis == "benchmark":
        label = row.get("benchmark_label") or "benchmark"
        date = row.get("benchmark_date")
        return row.get("benchmark"), f"{label} at {date}" if date else str(label)
    return None, ""


DASHBOARD_COLUMNS = (
    "indicator_id",
    "name",
    "subject",
    "theme",
    "section",
    "unit",
    "unit_label",
    "decimals",
    "polarity",
    "frequency",
    "rating_basis",
    "tolerance_type",
    "tolerance",
    "owner",
    "source",
    "description",
    "value",
    "value_quarter",
    "reported_as",
    "period_label",
    "data_quality",
    "updated",
    "carried_forward",
    "numerator",
    "denominator",
    "target",
    "benchmark",
    "benchmark_label",
    "benchmark_date",
    "reference",
    "reference_label",
    "rating_computed",
    "rating",
    "override_reason",
    "override_by",
    "previous_value",
    "previous_quarter",
    "previous_period_label",
    "previous_data_quality",
    "short_term",
    "last_year_value",
    "last_year_quarter",
    "long_term",
)


def _clean(v: Any) -> Any:
    return None if is_missing(v) else v


def dashboard(
    catalogue: pd.DataFrame,
    values: pd.DataFrame,
    overrides: pd.DataFrame,
    quarter: Quarter,
    *,
    threshold_percent: float = 1.0,
) -> pd.DataFrame:
    """One row per indicator in force in ``quarter``: latest value (carried forward when not
    updated), reference, computed and shown rating, and direction of travel."""
    from scorecard_lib.inputs.cross_checks import in_force  # layer 2 helper on a frame; no I/O

    cat = catalogue[in_force(catalogue, quarter)]
    vals = values.copy()
    vals["_index"] = vals["quarter"].map(lambda s: parse_quarter(s).index)
    vals = vals[vals["_index"] <= quarter.index].sort_values(["indicator_id", "_index"])
    by_id = {k: g.to_dict("records") for k, g in vals.groupby("indicator_id", sort=True)}
    ovr = {r["indicator_id"]: r for r in overrides.to_dict("records")}
    rows = []
    for d in cat.to_dict("records"):
        hist = by_id.get(d["indicator_id"], [])
        latest = hist[-1] if hist else {}
        prev = hist[-2] if len(hist) > 1 else {}
        value = _clean(latest.get("value"))
        latest_q = parse_quarter(latest["quarter"]) if latest else None
        year_ago = None
        if latest_q is not None:
            year_ago = next((h for h in hist if h["_index"] == latest_q.index - 4), None)
        ref, ref_label = reference_of(d["rating_basis"], latest)
        if d["rating_basis"] == "data_only":
            computed = NO_DATA if value is None else NOT_RATED
        else:
            computed = rate(
                value,
                _clean(ref),
                polarity=d["polarity"],
                tolerance_type=d["tolerance_type"],
                tolerance=_clean(d["tolerance"]),
            )
        o = ovr.get(d["indicator_id"])
        row = {k: _clean(d.get(k)) for k in DASHBOARD_COLUMNS if k in d}
        row.update(
            value=value,
            value_quarter=latest_q.id if latest_q else None,
            reported_as=_clean(latest.get("reported_as")),
            period_label=_clean(latest.get("period_label")),
            data_quality=_clean(latest.get("data_quality")),
            updated=bool(latest_q == quarter),
            carried_forward=bool(latest_q is not None and latest_q != quarter),
            numerator=_clean(latest.get("numerator")),
            denominator=_clean(latest.get("denominator")),
            target=_clean(latest.get("target")),
            benchmark=_clean(latest.get("benchmark")),
            benchmark_label=_clean(latest.get("benchmark_label")),
            benchmark_date=_clean(latest.get("benchmark_date")),
            reference=_clean(ref),
            reference_label=ref_label,
            rating_computed=computed,
            rating=o["rating"] if o else computed,
            override_reason=o["reason"] if o else None,
            override_by=o["approved_by"] if o else None,
            previous_value=_clean(prev.get("value")),
            previous_quarter=prev.get("quarter"),
            previous_period_label=_clean(prev.get("period_label")),
            previous_data_quality=_clean(prev.get("data_quality")),
            short_term=direction(
                value,
                _clean(prev.get("value")),
                polarity=d["polarity"],
                threshold_percent=threshold_percent,
            ),
            last_year_value=_clean(year_ago.get("value")) if year_ago else None,
            last_year_quarter=year_ago.get("quarter") if year_ago else None,
            long_term=direction(
                value,
                _clean(year_ago.get("value")) if year_ago else None,
                polarity=d["polarity"],
                threshold_percent=threshold_percent,
            ),
        )
        rows.append(row)
    # object dtype keeps None as None (pandas 3 would turn a blank in a text column into NaN)
    out = pd.DataFrame(rows, columns=list(DASHBOARD_COLUMNS), dtype=object)
    return out.sort_values("indicator_id", kind="stable").reset_index(drop=True)


def counts(board: pd.DataFrame) -> dict[str, int]:
    """How many indicators carry each rating (every rating listed, zero included)."""
    found = board["rating"].value_counts()
    return {r: int(found.get(r, 0)) for r in RATINGS}


def history(values: pd.DataFrame, indicator_id: str, quarter: Quarter, n: int = 8) -> pd.DataFrame:
    """The ``n`` quarters up to ``quarter`` for one indicator: value, target and benchmark as
    reported in each quarter (missing where nothing was reported)."""
    quarters = quarter.last_n(n)
    rows = values[values["indicator_id"] == indicator_id].set_index("quarter")
    out = []
    for q in quarters:
        rec = rows.loc[q.id] if q.id in rows.index else None
        out.append(
            {
                "quarter": q.id,
                "quarter_label": q.short,
                "value": float("nan") if rec is None else _num(rec["value"]),
                "target": float("nan") if rec is None else _num(rec.get("target")),
                "benchmark": float("nan") if rec is None else _num(rec.get("benchmark")),
            }
        )
    return pd.DataFrame(out)


def _num(x: Any) -> float:
    return float("nan") if is_missing(x) else float(x)
