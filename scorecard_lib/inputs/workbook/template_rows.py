"""What the returns template is filled in with: one row per indicator on the scorecard, per
risk on last quarter's register and per category of last quarter's breakdowns, taken from the
data up to the previous quarter (and from the quarter's own draft files when there are any).

Only data here, no spreadsheet styling: :mod:`.template` writes these rows into the sheets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.core.values import is_missing
from scorecard_lib.inputs.scaffold import CARRIED_COLUMNS, RISK_COLUMNS, Start
from scorecard_lib.inputs.workbook.layout import OPTIONAL, REQUIRED

_UNIT_WORDS = {
    "per_10000": "per 10,000",
    "percent": "% (0 to 100)",
    "gbp": "£",
    "days": "days",
    "count": "number",
    "years": "years",
    "score": "score",
}


def _number(x: Any) -> int | float | None:
    """A stored figure as a spreadsheet number (whole numbers as int), missing as None."""
    if is_missing(x) or (isinstance(x, str) and not x.strip()):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    if is_missing(f):  # text such as "nan"
        return None
    return int(f) if f.is_integer() else f


def _text(x: Any) -> str | None:
    if is_missing(x):
        return None
    s = str(x)
    return s if s.strip() else None


def _unit(ind: Mapping[str, Any]) -> str:
    label = _text(ind.get("unit_label"))
    if ind["unit"] in ("percent", "gbp") or not label:
        return _UNIT_WORDS.get(str(ind["unit"]), str(ind["unit"]))
    return label


def _rated_against(ind: Mapping[str, Any]) -> str:
    return {
        "target": "Target",
        "benchmark": "Benchmark",
        "data_only": "Not rated (data only)",
    }.get(str(ind["rating_basis"]), str(ind["rating_basis"]))


def number_format(decimals: Any) -> str:
    """The spreadsheet number format showing ``decimals`` places, with thousands separators."""
    places = int(_number(decimals) or 0)
    return "#,##0" + ("." + "0" * places if places else "")


def _unwrap(text: str) -> str:
    """Commentary as it reads in one spreadsheet cell: paragraphs kept (blank line between),
    the line breaks of the file's wrapping removed; list lines kept as lines."""
    paras = []
    for para in text.strip().split("\n\n"):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        if any(re.match(r"([-*+]|\d+\.)\s", ln) for ln in lines):
            paras.append("\n".join(lines))
        else:
            paras.append(" ".join(lines))
    return "\n\n".join(p for p in paras if p)


def _existing_rows(frame: pd.DataFrame | None, key: str) -> dict[str, dict[str, Any]]:
    if frame is None or key not in frame.columns:
        return {}
    return {str(r[key]): r for r in frame.to_dict("records")}


def indicator_rows(st: Start) -> list[dict[str, Any]]:
    """One dict per indicator in force, ordered by owner then catalogue order."""
    existing = _existing_rows(st.existing.get("values"), "indicator_id")
    commentary = st.existing.get("commentary") or {}
    rows = []
    for ind in st.indicators().to_dict("records"):
        iid = str(ind["indicator_id"])
        last = st.latest(iid)
        if last:
            lq = parse_quarter(str(last["quarter"]))
            label = _text(last.get("period_label"))
            period = lq.short + (f" ({label})" if label else "")
            last_value: Any = _number(last.get("value"))
        else:
            period, last_value = "No earlier figure", "none"
        now = existing.get(iid)
        row: dict[str, Any] = {
            "indicator_id": iid,
            "name": ind["name"],
            "owner": ind["owner"],
            "unit": _unit(ind),
            "polarity": "Higher" if ind["polarity"] == "higher_is_better" else "Lower",
            "frequency": str(ind["frequency"]).capitalize(),
            "status": REQUIRED if st.is_due(ind) else OPTIONAL,
            "last_value": last_value,
            "last_period": period,
            "rated_against": _rated_against(ind),
            "_unit": ind["unit"],
            "_decimals": ind["decimals"],
        }
        source = now if now is not None else {c: last.get(c) for c in CARRIED_COLUMNS}
        for col in ("value", "numerator", "denominator", "target", "benchmark"):
            row[col] = _number(source.get(col))
        for col in ("period_label", "benchmark_label", "benchmark_date", "data_quality"):
            row[col] = _text(source.get(col))
        entry = commentary.get(iid)
        if isinstance(entry, Mapping):
            row["commentary"] = _unwrap(str(entry.get("commentary") or "")) or None
            acts = entry.get("actions") or []
            acts = [acts] if isinstance(acts, str) else acts
            row["actions"] = "\n".join(str(a).strip() for a in acts) or None
        rows.append(row)
    order = {o: i for i, o in enumerate(dict.fromkeys(sorted(r["owner"] for r in rows)))}
    return sorted(rows, key=lambda r: order[r["owner"]])  # stable: catalogue order kept


def risk_rows(st: Start) -> tuple[list[dict[str, Any]], set[str]]:
    """Rows for the Risks sheet and the ids whose id cell is locked (last quarter's risks)."""
    before = st.previous_risks()
    last_scores = {
        str(r["risk_id"]): int(r["current_likelihood"]) * int(r["current_impact"])
        for r in before.to_dict("records")
    }
    raw = st.existing.get("risks")
    source = raw.to_dict("records") if raw is not None else before.to_dict("records")
    rows = []
    for r in source:
        row: dict[str, Any] = {}
        for c in RISK_COLUMNS:
            row[c] = (
                _number(r.get(c)) if c.endswith(("_likelihood", "_impact")) else _text(r.get(c))
            )
        row["last_score"] = last_scores.get(str(r.get("risk_id")), "new")
        rows.append(row)
    return rows, set(last_scores)


def breakdown_rows(st: Start) -> list[dict[str, Any]]:
    """Last quarter's categories (locked) and any new ones from the draft, with values."""
    names = dict(zip(st.catalogue["indicator_id"], st.catalogue["name"], strict=True))
    base = st.previous_breakdowns()
    now = st.existing.get("breakdowns")
    now_rows = now.to_dict("records") if now is not None else []
    key = ("indicator_id", "dimension", "category")
    current = {tuple(str(r.get(k, "")) for k in key): r.get("value") for r in now_rows}
    rows: list[dict[str, Any]] = []
    seen = set()
    for r in base.to_dict("records"):
        k = tuple(str(r[c]) for c in key)
        seen.add(k)
        rows.append(
            {
                "indicator_id": k[0],
                "name": names.get(k[0], ""),
                "dimension": k[1],
                "category": k[2],
                "last_value": _number(r["value"]),
                "value": _number(current.get(k)),
                "_locked": True,
            }
        )
    for r in now_rows:
        k = tuple(str(r.get(c, "")) for c in key)
        if k not in seen:
            rows.append(
                {
                    "indicator_id": k[0],
                    "name": names.get(k[0], ""),
                    "dimension": k[1],
                    "category": k[2],
                    "last_value": "none",
                    "value": _number(r.get("value")),
                    "_locked": False,
                }
            )
    return rows


__all__ = ["breakdown_rows", "indicator_rows", "number_format", "risk_rows"]
