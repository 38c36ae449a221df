"""The quarterly returns workbook: ``scorecard template`` writes it, ``scorecard import``
reads it back into the quarter's data files.

Council services send their figures on a spreadsheet. :func:`write_template` makes one for a
quarter: an Instructions sheet; an Indicators sheet listing every indicator on the scorecard
that quarter (definitions locked, input cells open, numbers checked by Excel's data
validation); a Breakdowns sheet when an indicator was split by a category last quarter; a
Risks sheet with the register copied for review (likelihood and impact limited to whole
numbers 1-5); and a hidden sheet recording the quarter, so that a workbook cannot be imported
as another quarter by mistake.

:func:`import_workbook` reads a filled workbook, checks every cell (naming the sheet, cell and
value of each problem), turns it into ``values.csv``, ``commentary.yaml``, ``risks.csv`` and
``breakdowns.csv``, validates those with the same rules as ``scorecard validate``
(:func:`scorecard_lib.inputs.loading.load_inputs` on a temporary copy of the data folder), compares
the figures with the previous quarter and only then writes the quarter's folder, all at once.
Nothing is written when anything is wrong.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from numbers import Real
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scorecard_lib.core.errors import (
    InputError,
    Problem,
    PublishedError,
    QuarterError,
    ValidationError,
)
from scorecard_lib.core.files import write_atomically
from scorecard_lib.core.formatting import format_number
from scorecard_lib.core.paths import display_path, resolve, resolve_given
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.version import __version__
from scorecard_lib.inputs.loading import Inputs, available_quarters, load_inputs
from scorecard_lib.inputs.scaffold import (
    BREAKDOWN_COLUMNS,
    CARRIED_COLUMNS,
    RISK_COLUMNS,
    VALUES_COLUMNS,
    Start,
    commentary_yaml,
    csv_text,
    fmt,
    params_text,
    placeholder_cabinet_date,
    start,
    write_files_atomically,
    write_text_atomically,
)

TEMPLATE_FORMAT = "1"

INSTRUCTIONS = "Instructions"
INDICATORS = "Indicators"
BREAKDOWNS = "Breakdowns"
RISKS = "Risks"
META = "_meta"
SHEETS: tuple[str, ...] = (INSTRUCTIONS, INDICATORS, BREAKDOWNS, RISKS, META)

REQUIRED = "Required"
OPTIONAL = "Optional: only if new figures are published this quarter"
SPARE_RISK_ROWS = 10
SPARE_BREAKDOWN_ROWS = 5


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    entry: bool  # an input cell (unlocked) rather than a definition (locked)
    kind: str = "text"  # text | number | long (wrapped text) | whole


IND_COLUMNS: tuple[Column, ...] = (
    Column("indicator_id", "Indicator id", 10, False),
    Column("name", "Indicator", 44, False, "long"),
    Column("owner", "Owner directorate", 22, False, "long"),
    Column("unit", "Unit", 16, False),
    Column("polarity", "Better when", 11, False),
    Column("frequency", "Frequency", 11, False),
    Column("status", "This quarter", 24, False, "long"),
    Column("last_value", "Last value", 12, False, "number"),
    Column("last_period", "Last value refers to", 24, False, "long"),
    Column("rated_against", "Rated against", 16, False),
    Column("value", "Value", 12, True, "number"),
    Column("numerator", "Numerator", 12, True, "number"),
    Column("denominator", "Denominator", 12, True, "number"),
    Column("period_label", "Period, if not this quarter", 22, True),
    Column("target", "Target", 11, True, "number"),
    Column("benchmark", "Benchmark", 11, True, "number"),
    Column("benchmark_label", "Benchmark label", 20, True),
    Column("benchmark_date", "Benchmark date", 14, True),
    Column("data_quality", "Data-quality note", 22, True, "long"),
    Column("commentary", "Commentary", 60, True, "long"),
    Column("actions", "Actions (one per line)", 50, True, "long"),
)

RISK_SHEET_COLUMNS: tuple[Column, ...] = (
    Column("risk_id", "Risk id", 9, True),
    Column("title", "Title", 36, True, "long"),
    Column("description", "Description", 50, True, "long"),
    Column("owner", "Owner directorate", 22, True, "long"),
    Column("inherent_likelihood", "Inherent likelihood (1-5)", 12, True, "whole"),
    Column("inherent_impact", "Inherent impact (1-5)", 12, True, "whole"),
    Column("current_likelihood", "Current likelihood (1-5)", 12, True, "whole"),
    Column("current_impact", "Current impact (1-5)", 12, True, "whole"),
    Column("target_likelihood", "Target likelihood (1-5)", 12, True, "whole"),
    Column("target_impact", "Target impact (1-5)", 12, True, "whole"),
    Column("controls", "Existing controls (separate with ;)", 50, True, "long"),
    Column("actions", "Mitigating actions (separate with ;)", 50, True, "long"),
    Column("action_owner", "Action owner", 22, True, "long"),
    Column("action_due", "Actions due by", 14, True),
    Column("status", "Status (open or closed)", 12, True),
    Column("last_score", "Current score last quarter", 12, False, "number"),
)

BREAKDOWN_SHEET_COLUMNS: tuple[Column, ...] = (
    Column("indicator_id", "Indicator id", 10, True),
    Column("name", "Indicator", 40, False, "long"),
    Column("dimension", "Split by", 14, True),
    Column("category", "Category", 34, True, "long"),
    Column("last_value", "Last value", 12, False, "number"),
    Column("value", "Value", 12, True, "number"),
)

_UNIT_WORDS = {
    "per_10000": "per 10,000",
    "percent": "% (0 to 100)",
    "gbp": "£",
    "days": "days",
    "count": "number",
    "years": "years",
    "score": "score",
}
_NON_NEGATIVE = ("per_10000", "percent", "days", "count", "years")

_HEAD_FONT = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_ENTRY_FILL = PatternFill("solid", fgColor="FFF2CC")  # pale yellow: fill these in
_LOCKED_FILL = PatternFill("solid", fgColor="E7E6E6")  # pale grey: definitions
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_OPEN = Protection(locked=False)


# =============================================================================================
# Writing the template
# =============================================================================================


def _number(x: Any) -> int | float | None:
    """A stored figure as a spreadsheet number (whole numbers as int), missing as None."""
    if x is None or (isinstance(x, str) and not x.strip()):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    if math.isnan(f):
        return None
    return int(f) if f.is_integer() else f


def _text(x: Any) -> str | None:
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
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


def _number_format(decimals: Any) -> str:
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


def _indicator_rows(st: Start) -> list[dict[str, Any]]:
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


def _risk_rows(st: Start) -> tuple[list[dict[str, Any]], set[str]]:
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


def _breakdown_rows(st: Start) -> list[dict[str, Any]]:
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


def _validation(kind: str, where: str, **limits: str) -> DataValidation:
    """A data-validation rule with an input prompt and a stop message in plain English."""
    if kind == "whole":
        dv = DataValidation(type="whole", operator="between", formula1="1", formula2="5")
        dv.error = "Enter a whole number from 1 to 5."
        dv.prompt = "A whole number from 1 to 5."
    elif kind == "list":
        dv = DataValidation(type="list", formula1=limits["formula1"])
        dv.error = "Choose open or closed."
        dv.prompt = "open, or closed when the risk has closed this quarter."
    else:
        dv = DataValidation(type="decimal", **limits)
        limit = f" {where}" if where else ""
        dv.error = f"Enter a plain number{limit}: no units, % signs, commas or words."
        dv.prompt = f"A plain number{limit}."
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.showInputMessage = True
    dv.errorTitle = "Not accepted"
    dv.errorStyle = "stop"
    return dv


def _decimal_rules(ws: Worksheet) -> dict[str, DataValidation]:
    rules = {
        "percent": _validation(
            "decimal", "from 0 to 100", operator="between", formula1="0", formula2="100"
        ),
        "non_negative": _validation(
            "decimal", "of 0 or more", operator="greaterThanOrEqual", formula1="0"
        ),
        "positive": _validation("decimal", "greater than 0", operator="greaterThan", formula1="0"),
        "any": _validation(
            "decimal", "", operator="between", formula1="-1000000000000000", formula2="1E+15"
        ),
    }
    for dv in rules.values():
        ws.add_data_validation(dv)
    return rules


def _write(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Put ``value`` in a cell; text is always stored as text. openpyxl stores a string that
    starts with '=' as a formula, so a catalogue name, risk title or commentary such as
    ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` would become a live formula in the
    workbook services open; its data type is set back to text ("s") here, the one place the
    template writes a cell."""
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _no_formulas(wb: Workbook) -> None:
    """The template holds no formula at all (its checks are data validation, not formulas):
    a writer bug, not a user error, if one slipped past :func:`_write`."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # pragma: no cover - a writer bug
                    raise AssertionError(f"the template would hold a formula at {cell.coordinate}")


def _header(ws: Worksheet, columns: Sequence[Column]) -> None:
    for i, col in enumerate(columns, start=1):
        cell = _write(ws, 1, i, col.header)
        cell.font = _HEAD_FONT
        cell.alignment = _WRAP
        cell.fill = _ENTRY_FILL if col.entry else _LOCKED_FILL
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.row_dimensions[1].height = 45


def _put(ws: Worksheet, row: int, col_index: int, col: Column, value: Any, entry: bool) -> Cell:
    cell = _write(ws, row, col_index, value)
    cell.alignment = _WRAP if col.kind == "long" else _TOP
    if entry:
        cell.protection = _OPEN
        cell.fill = _ENTRY_FILL
        if col.kind not in ("number", "whole"):
            cell.number_format = "@"  # keep "31/12/2017" as typed, not a date
    else:
        cell.fill = _LOCKED_FILL
    return cell


def _protect(ws: Worksheet, last_col: int, last_row: int) -> None:
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # people may widen columns and rows
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.auto_filter.ref = f"A1:{get_column_letter(last_col)}{max(last_row, 2)}"


def _indicators_sheet(wb: Workbook, st: Start) -> None:
    ws = wb.create_sheet(INDICATORS)
    _header(ws, IND_COLUMNS)
    rules = _decimal_rules(ws)
    rows = _indicator_rows(st)
    for r, row in enumerate(rows, start=2):
        for i, col in enumerate(IND_COLUMNS, start=1):
            cell = _put(ws, r, i, col, row.get(col.key), col.entry)
            if col.key == "last_value" and isinstance(row["last_value"], Real):
                cell.number_format = _number_format(row["_decimals"])
            if col.kind != "number" or not col.entry:
                continue
            unit = row["_unit"]
            if col.key == "denominator":
                rules["positive"].add(cell.coordinate)
            elif col.key == "numerator" or (unit in _NON_NEGATIVE and unit != "percent"):
                rules["non_negative"].add(cell.coordinate)
            elif unit == "percent":
                rules["percent"].add(cell.coordinate)
            else:
                rules["any"].add(cell.coordinate)
    ws.freeze_panes = "C2"
    _protect(ws, len(IND_COLUMNS), len(rows) + 1)


def _risks_sheet(wb: Workbook, st: Start) -> None:
    ws = wb.create_sheet(RISKS)
    _header(ws, RISK_SHEET_COLUMNS)
    whole = _validation("whole", "")
    status = _validation("list", "", formula1='"open,closed"')
    ws.add_data_validation(whole)
    ws.add_data_validation(status)
    rows, locked_ids = _risk_rows(st)
    rows += [{"last_score": "new"} for _ in range(SPARE_RISK_ROWS)]
    for r, row in enumerate(rows, start=2):
        for i, col in enumerate(RISK_SHEET_COLUMNS, start=1):
            entry = col.entry and not (col.key == "risk_id" and row.get("risk_id") in locked_ids)
            cell = _put(ws, r, i, col, row.get(col.key), entry)
            if col.kind == "whole":
                whole.add(cell.coordinate)
            elif col.key == "status":
                status.add(cell.coordinate)
    ws.freeze_panes = "B2"
    _protect(ws, len(RISK_SHEET_COLUMNS), len(rows) + 1)


def _breakdowns_sheet(wb: Workbook, st: Start) -> bool:
    rows = _breakdown_rows(st)
    if not rows:
        return False
    ws = wb.create_sheet(BREAKDOWNS)
    _header(ws, BREAKDOWN_SHEET_COLUMNS)
    rules = _decimal_rules(ws)
    rows += [{"last_value": "none", "_locked": False} for _ in range(SPARE_BREAKDOWN_ROWS)]
    for r, row in enumerate(rows, start=2):
        for i, col in enumerate(BREAKDOWN_SHEET_COLUMNS, start=1):
            entry = col.entry and (col.key == "value" or not row["_locked"])
            cell = _put(ws, r, i, col, row.get(col.key), entry)
            if col.key == "value":
                rules["any"].add(cell.coordinate)
    ws.freeze_panes = "C2"
    _protect(ws, len(BREAKDOWN_SHEET_COLUMNS), len(rows) + 1)
    return True


def _instructions(ws: Worksheet, st: Start, has_breakdowns: bool) -> None:
    q = st.quarter
    council = str(st.inputs.params.get("council") or "")
    period = (
        f"{q.period_start.day} {q.period_start:%B %Y} to {q.period_end.day} {q.period_end:%B %Y}"
    )
    lines: list[tuple[str, Font | None]] = [
        (f"Quarterly returns for {q.prose}", _TITLE_FONT),
        (f"{council}: {period}. Quarter id {q.id}.", None),
        (
            f"Made by scorecard {__version__} from the data up to {st.base.prose}. "
            "Please do not add, delete or rename sheets, rows or columns.",
            None,
        ),
        ("", None),
        ("Indicators sheet", _HEAD_FONT),
        (
            "Each row is an indicator on the scorecard this quarter. The grey columns describe "
            "it and cannot be changed. Fill in the pale yellow columns.",
            None,
        ),
        (
            f"Rows marked '{REQUIRED}' need a figure. If there is none this quarter, leave "
            "Value empty and say why in the Data-quality note (for example 'not yet "
            "published'); the last figure is then carried forward.",
            None,
        ),
        (
            f"Rows marked '{OPTIONAL}' are annual or occasional figures. Fill them in only "
            "when new figures have been published; leave Value empty otherwise.",
            None,
        ),
        (
            "Value: a plain number, with no units, % signs, commas or words. Percentages are "
            "numbers from 0 to 100 (write 78.9 for 78.9%). Numerator and Denominator: the "
            "counts a rate is worked out from, when there are any.",
            None,
        ),
        (
            "Target and Benchmark are filled in with the last ones used: change them only if "
            "they have changed. Benchmark label and date say what the benchmark is, for "
            "example 'England average' at '31/03/2017'.",
            None,
        ),
        (
            "Period, if not this quarter: what the figure covers when it is not simply this "
            "quarter, for example '2016/17 academic year' or 'year end forecast'.",
            None,
        ),
        (
            "Data-quality note: provisional, estimated, forecast, or a short note.",
            None,
        ),
        (
            "Commentary: plain English for councillors and the public; leave a blank line "
            "between paragraphs (Alt+Enter twice). Actions: one action per line (Alt+Enter).",
            None,
        ),
        ("", None),
    ]
    if has_breakdowns:
        lines += [
            ("Breakdowns sheet", _HEAD_FONT),
            (
                "Some indicators are also given by category (for example sickness absence by "
                "directorate). Enter this quarter's figure for each category in the Value "
                "column, in the same unit as the indicator. Use the empty rows at the bottom "
                "for a category that is new.",
                None,
            ),
            ("", None),
        ]
    lines += [
        ("Risks sheet", _HEAD_FONT),
        (
            "Last quarter's Corporate Risk Register, copied for review. Update every risk. "
            "Likelihood and impact are whole numbers from 1 to 5: likelihood 1 rare, 2 "
            "unlikely, 3 possible, 4 likely, 5 almost certain; impact 1 insignificant, 2 "
            "minor, 3 moderate, 4 major, 5 critical. The score is likelihood times impact.",
            None,
        ),
        (
            "When a risk has closed, set its Status to closed (do not delete the row). Add a "
            "new risk in an empty row at the bottom, with a new id (for example CRR17). "
            "Separate controls and actions with a semicolon (;).",
            None,
        ),
        ("", None),
        ("When you have finished", _HEAD_FONT),
        (
            "Save the workbook (keep the .xlsx format) and send it to the performance team. "
            "They import it with 'scorecard import', which checks every cell and lists any "
            "problem by sheet and cell.",
            None,
        ),
    ]
    ws.column_dimensions["A"].width = 110
    for r, (text, font) in enumerate(lines, start=1):
        cell = _write(ws, r, 1, text or None)
        cell.alignment = _WRAP
        if font is not None:
            cell.font = font
    ws.protection.sheet = True


def _meta_sheet(wb: Workbook, st: Start) -> None:
    ws = wb.create_sheet(META)
    rows = [
        ("key", "value"),
        ("quarter", st.quarter.id),
        ("template_format", TEMPLATE_FORMAT),
        ("scorecard_version", __version__),
        ("base_quarter", st.base.id),
    ]
    for r, (k, v) in enumerate(rows, start=1):
        _write(ws, r, 1, k)
        _write(ws, r, 2, v)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


def _deterministic_zip(data: bytes, when: date) -> bytes:
    """Rewrite the .xlsx archive with a fixed timestamp on every member (zip entries carry
    the time they were written otherwise), so the same inputs give the same bytes."""
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + f"{when.isoformat()}T00:00:00Z".encode() + rb"\g<2>",
                    content,
                )
            dst.writestr(member, content)
    return out.getvalue()


def write_template(
    quarter: str,
    output: Path,
    *,
    data_dir: Path | None = None,
    params_dir: Path | None = None,
) -> Path:
    """Write the returns workbook for ``quarter`` to ``output`` (an ``.xlsx`` file).

    The workbook starts from the data up to the previous quarter; if ``data/QUARTER/`` already
    holds files (a scaffold from ``new-quarter``, or data being corrected) its targets,
    figures, commentary and risks are filled in. Refuses to overwrite an existing file (a
    returned workbook may be lost). The same inputs give a byte-identical file.
    """
    output = Path(output)
    resolve_given(output)  # a symbolic-link loop on the way is an input error
    if output.suffix.lower() != ".xlsx":
        raise InputError(
            f"The workbook name '{output.name}' does not end in .xlsx",
            fix="give a file name ending in .xlsx, e.g. returns-2017-18-Q2.xlsx",
        )
    if output.exists():
        raise InputError(
            f"{output.name} already exists, and it may be a workbook someone has filled in",
            where=display_path(output, outside="given"),
            fix="choose another file name, or delete the old file first",
        )
    st = start(quarter, data_dir, params_dir)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = INSTRUCTIONS
    _indicators_sheet(wb, st)
    has_breakdowns = _breakdowns_sheet(wb, st)
    _risks_sheet(wb, st)
    _instructions(ws, st, has_breakdowns)
    _meta_sheet(wb, st)
    wb.active = 0
    wb.security = WorkbookProtection(lockStructure=True)
    stamp = datetime.combine(st.quarter.period_end, time(0, 0))
    wb.properties.creator = "scorecard"
    wb.properties.lastModifiedBy = "scorecard"
    wb.properties.title = f"Quarterly returns for {st.quarter.prose}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    _no_formulas(wb)
    buf = io.BytesIO()
    wb.save(buf)
    data = _deterministic_zip(buf.getvalue(), st.quarter.period_end)
    return write_atomically(output, data)


# =============================================================================================
# Importing a filled workbook
# =============================================================================================


@dataclass
class ImportResult:
    """What an import did. ``changes`` compares the figures with the previous quarter, one
    line per indicator or risk; ``swings`` lists changes beyond the swing limit (confirmed);
    ``warnings`` lists things the analyst should know (no row written, placeholders...)."""

    quarter: str
    files: list[Path] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    swings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    backup: Path | None = None

    def lines(self) -> list[str]:
        """The import's report as the command line prints it."""
        q = parse_quarter(self.quarter)
        out = [f"Imported the returns for {q.prose} ({q.id})."]
        if self.changes:
            out.append(f"Changes since {q.previous().prose}:")
            out.extend(f"  {c}" for c in self.changes)
        if self.swings:
            out.append("Large changes, confirmed:")
            out.extend(f"  {s}" for s in self.swings)
        if self.warnings:
            out.append("Please note:")
            out.extend(f"  {w}" for w in self.warnings)
        if self.backup is not None:
            out.append(
                f"The data it replaces is kept in {display_path(self.backup, outside='given')}."
            )
        out.append("Files written:")
        out.extend(f"  {display_path(p, outside='given')}" for p in self.files)
        out.append(f"Next: build the report with 'scorecard run {q.id}'.")
        return out


@dataclass(frozen=True)
class _Where:
    sheet: str
    row: int
    letter: str

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{self.letter}{self.row}"


class _Reader:
    """Reads cells and collects problems, each located by sheet and cell."""

    def __init__(self, name: str, book: _Book) -> None:
        self.name = name
        self.book = book
        self.problems: list[Problem] = []
        self.bad: set[_Where] = set()  # cells already reported

    def problem(
        self,
        where: _Where | None,
        rule: str,
        fix: str,
        value: Any = None,
        *,
        column: str | None = None,
    ) -> None:
        if where is not None:
            self.bad.add(where)
        self.problems.append(
            Problem(
                file=self.name,
                row=where.row if where else None,
                column=where.ref if where else column,
                value=None if value is None else str(value),
                rule=rule,
                fix=fix,
            )
        )

    def raw(self, sheet: str, row: int, col: int) -> tuple[Any, _Where]:
        """A cell's value as typed. A formula is never taken (neither evaluated nor its saved
        result, which the file may state falsely): it is reported and read as empty."""
        where = _Where(sheet, row, get_column_letter(col))
        value, formula = self.book.sheets[sheet].get(row, col)
        if formula:
            self.problem(
                where,
                "this cell holds a formula; the import reads only figures and text typed in",
                "type the figure or text itself (or copy the cell and paste it as values only)",
                value,
            )
            return None, where
        return value, where

    def number(
        self, sheet: str, row: int, col: int, what: str
    ) -> tuple[float | int | None, _Where]:
        value, where = self.raw(sheet, row, col)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None, where
        if isinstance(value, bool | datetime | date | time):
            self.problem(where, f"{what} must be a number", "type a plain number", value)
            return None, where
        if isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                self.problem(
                    where,
                    "text where a number belongs",
                    "type a plain number with no units, % signs, commas or words "
                    "(leave it empty if there is no figure)",
                    value,
                )
                return None, where
            value = parsed
        f = float(value)
        if not math.isfinite(f):
            self.problem(where, "not a finite number", "type a plain number", value)
            return None, where
        f = float(f"{f:.12g}")  # drop float noise from spreadsheet arithmetic
        return (int(f) if f.is_integer() else f), where

    def text(
        self, sheet: str, row: int, col: int, *, one_line: bool = True
    ) -> tuple[str | None, _Where]:
        value, where = self.raw(sheet, row, col)
        if value is None:
            return None, where
        if isinstance(value, datetime | date):
            return f"{value:%d/%m/%Y}", where
        if isinstance(value, Real) and not isinstance(value, bool):
            return fmt(value), where
        s = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
        if one_line:
            s = " ".join(s.split())
        return (s or None), where


#: What a returns workbook may be, checked before it is loaded (a filled template is tens of
#: kilobytes; pasted pictures may add a few megabytes). An .xlsx file is a zip archive, and a
#: few megabytes can unpack to gigabytes (a "zip bomb"), so the sizes its archive declares
#: are checked first; Python's zipfile never unpacks a part beyond its declared size.
MAX_WORKBOOK_FILE_BYTES = 20 * 1024 * 1024
MAX_WORKBOOK_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_WORKBOOK_PARTS = 1000
#: Rows and columns a sheet that is read may have (the template has about 50 and 21).
MAX_SHEET_ROWS = 5000
MAX_SHEET_COLUMNS = 100
#: The sheets import reads; any other sheet is only named in a message, never read.
_READ_SHEETS = (INDICATORS, BREAKDOWNS, RISKS, META)


@dataclass
class _Sheet:
    """A sheet's filled cells, read once: (row, column) -> (value, is it a formula)."""

    title: str
    cells: dict[tuple[int, int], tuple[Any, bool]] = field(default_factory=dict)
    max_row: int = 0
    max_column: int = 0

    def get(self, row: int, column: int) -> tuple[Any, bool]:
        return self.cells.get((row, column), (None, False))

    def value(self, row: int, column: int) -> Any:
        return self.get(row, column)[0]


@dataclass
class _Book:
    """The sheet names of a workbook and the sheets import reads."""

    sheetnames: list[str]
    sheets: dict[str, _Sheet]


def _too_large(path: Path, what: str) -> InputError:
    return InputError(
        f"{path.name} is too large to be a returns workbook: {what}",
        where=display_path(path, outside="given"),
        fix="fill in a fresh workbook made by 'scorecard template' (copy the figures into it "
        "as values only, without pictures or extra sheets)",
    )


def _check_archive(path: Path) -> None:
    """Refuse an oversized workbook from the sizes its archive declares, before loading."""
    size = path.stat().st_size
    if size > MAX_WORKBOOK_FILE_BYTES:
        raise _too_large(path, f"the file is {_mb(size)} (at most {_mb(MAX_WORKBOOK_FILE_BYTES)})")
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
    if len(parts) > MAX_WORKBOOK_PARTS:
        raise _too_large(path, f"it has {len(parts):,} parts (at most {MAX_WORKBOOK_PARTS:,})")
    unpacked = sum(p.file_size for p in parts)
    if unpacked > MAX_WORKBOOK_UNPACKED_BYTES:
        biggest = max(parts, key=lambda p: p.file_size)
        raise _too_large(
            path,
            f"it unpacks to {_mb(unpacked)} (at most {_mb(MAX_WORKBOOK_UNPACKED_BYTES)}; "
            f"{biggest.filename} alone is {_mb(biggest.file_size)})",
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _read_sheet(ws: Any, path: Path) -> _Sheet:
    """The filled cells of one read-only sheet, refusing a sheet larger than a returns sheet
    can be: first by the size it declares, then (the declaration may be false) while reading,
    so no more than :data:`MAX_SHEET_ROWS` rows are ever read."""
    title = str(ws.title)
    rows, columns = ws.max_row or 0, ws.max_column or 0
    if rows > MAX_SHEET_ROWS or columns > MAX_SHEET_COLUMNS:
        raise _too_large(
            path,
            f"its '{title}' sheet declares {rows:,} rows and {columns:,} columns (at most "
            f"{MAX_SHEET_ROWS:,} and {MAX_SHEET_COLUMNS})",
        )
    ws.reset_dimensions()  # read the cells that are there, however the sheet declares itself
    sheet = _Sheet(title)
    for row in ws.iter_rows(max_row=MAX_SHEET_ROWS + 1):
        for cell in row:
            if cell.value is None:
                continue
            if cell.row > MAX_SHEET_ROWS or cell.column > MAX_SHEET_COLUMNS:
                raise _too_large(
                    path,
                    f"its '{title}' sheet has a filled cell at {cell.coordinate}, beyond "
                    f"{get_column_letter(MAX_SHEET_COLUMNS)}{MAX_SHEET_ROWS}",
                )
            sheet.cells[(cell.row, cell.column)] = (cell.value, cell.data_type == "f")
            sheet.max_row = max(sheet.max_row, cell.row)
            sheet.max_column = max(sheet.max_column, cell.column)
    return sheet


def _open(path: Path) -> _Book:
    """The workbook read once, in openpyxl's read-only mode, after its archive's declared
    sizes are checked; only the sheets import needs are read, each within its size cap."""
    if not path.is_file():
        raise InputError(
            f"There is no workbook at {path.name}",
            where=display_path(path, outside="given"),
            fix="check the file name and folder",
        )
    try:
        _check_archive(path)
        wb = load_workbook(path, read_only=True, data_only=False, keep_links=False)
        try:
            names = list(wb.sheetnames)
            worksheets = {ws.title: ws for ws in wb.worksheets}  # chart sheets have no cells
            sheets = {
                name: _read_sheet(worksheets[name], path)
                for name in _READ_SHEETS
                if name in worksheets
            }
        finally:
            wb.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        raise InputError(
            f"{path.name} cannot be read as an Excel workbook ({type(exc).__name__})",
            where=display_path(path, outside="given"),
            fix="save it from Excel as an Excel Workbook (.xlsx) and try again",
        ) from None
    return _Book(names, sheets)


def _meta(book: _Book, name: str) -> dict[str, str]:
    if META not in book.sheets:
        raise InputError(
            f"{name} is not a scorecard returns workbook (its hidden '{META}' sheet is missing)",
            fix="fill in a workbook made by 'scorecard template QUARTER -o FILE.xlsx'",
        )
    ws = book.sheets[META]
    meta = {}
    for r in range(2, ws.max_row + 1):
        (key, key_formula), (value, value_formula) = ws.get(r, 1), ws.get(r, 2)
        if key is not None and not key_formula and not value_formula:
            meta[str(key).strip()] = "" if value is None else str(value).strip()
    if meta.get("template_format") != TEMPLATE_FORMAT:
        raise InputError(
            f"{name} was made in a layout this version cannot read "
            f"(layout '{meta.get('template_format', 'unknown')}', expected '{TEMPLATE_FORMAT}')",
            fix="make a fresh workbook with 'scorecard template' and copy the figures into it",
        )
    return meta


def _workbook_quarter(meta: Mapping[str, str], name: str, asked: str | None) -> Quarter:
    try:
        q = parse_quarter(meta.get("quarter", ""))
    except QuarterError:
        raise InputError(
            f"{name} does not say which quarter it is for",
            fix="make a fresh workbook with 'scorecard template QUARTER' and copy the figures in",
        ) from None
    if asked is not None and str(asked).strip():
        want = parse_quarter(asked)
        if want != q:
            raise QuarterError(
                f"{name} holds the returns for {q.prose} ({q.id}), not {want.prose} ({want.id})",
                where=f"{name}, hidden sheet '{META}'",
                fix=f"import the workbook made for {want.id}, or import this one as {q.id}",
            )
    return q


def _check_sheets(rd: _Reader, book: _Book) -> None:
    for name in book.sheetnames:
        if name not in SHEETS:
            rd.problem(
                None,
                f"the workbook has a sheet '{name}' that the template does not have",
                "move anything needed from it into the template's sheets, then delete it",
                column=name,
            )
    for name in (INDICATORS, RISKS):
        if name not in book.sheets:
            rd.problem(
                None,
                f"the '{name}' sheet is missing",
                "use the workbook as made by 'scorecard template', with all its sheets",
                column=name,
            )


def _check_header(rd: _Reader, ws: _Sheet, columns: Sequence[Column]) -> bool:
    ok = True
    for i, col in enumerate(columns, start=1):
        got = ws.value(1, i)
        if str(got or "").strip() != col.header:
            rd.problem(
                _Where(ws.title, 1, get_column_letter(i)),
                f"this heading should read '{col.header}'",
                "do not move, insert or rename columns; copy the figures into a fresh template",
                got,
            )
            ok = False
    if any(c > len(columns) and v not in (None, "") for (_r, c), (v, _f) in ws.cells.items()):
        rd.problem(
            None,
            f"the '{ws.title}' sheet has filled cells beyond column "
            f"{get_column_letter(len(columns))}",
            "move them into the template's columns or delete them",
            column=f"{ws.title}!{get_column_letter(len(columns) + 1)}",
        )
    return ok


@dataclass
class _Parsed:
    values: list[dict[str, Any]] = field(default_factory=list)
    value_cells: list[dict[str, _Where]] = field(default_factory=list)
    commentary: dict[str, tuple[str, list[str], str]] = field(default_factory=dict)
    commentary_cells: dict[str, _Where] = field(default_factory=dict)
    risks: list[dict[str, Any]] = field(default_factory=list)
    risk_cells: list[dict[str, _Where]] = field(default_factory=list)
    breakdowns: list[dict[str, Any]] = field(default_factory=list)
    breakdown_cells: list[dict[str, _Where]] = field(default_factory=list)
    has_breakdown_sheet: bool = False
    warnings: list[str] = field(default_factory=list)


def _col(columns: Sequence[Column], key: str) -> int:
    return next(i for i, c in enumerate(columns, start=1) if c.key == key)


def _row_is_blank(ws: _Sheet, row: int, columns: Sequence[Column]) -> bool:
    for i, c in enumerate(columns, start=1):
        if not (c.entry or c.key in ("indicator_id", "risk_id")):
            continue
        value, formula = ws.get(row, i)
        if formula or not (value is None or (isinstance(value, str) and not value.strip())):
            return False
    return True


def _parse_indicators(rd: _Reader, st: Start, out: _Parsed) -> None:
    ws = rd.book.sheets[INDICATORS]
    if not _check_header(rd, ws, IND_COLUMNS):
        return
    cat = st.indicators().set_index("indicator_id", drop=False)
    every = set(st.catalogue["indicator_id"])
    q = st.quarter
    seen: dict[str, int] = {}
    numbers = ("value", "numerator", "denominator", "target", "benchmark")
    texts = ("period_label", "benchmark_label", "benchmark_date", "data_quality")
    rows: list[tuple[str, dict[str, Any], dict[str, _Where]]] = []
    for r in range(2, ws.max_row + 1):
        if _row_is_blank(ws, r, IND_COLUMNS):
            continue
        iid, where = rd.text(INDICATORS, r, 1)
        if iid is None:
            rd.problem(
                where,
                "this row has figures but no indicator id",
                "move the figures to the row of their indicator",
            )
            continue
        if iid in seen:
            rd.problem(
                where,
                f"{iid} appears twice (first in row {seen[iid]})",
                "keep one row per indicator",
                iid,
            )
            continue
        seen[iid] = r
        if iid not in cat.index:
            rule = (
                f"{iid} is not on the scorecard in {q.short}"
                if iid in every
                else f"{iid} is not an indicator in the catalogue"
            )
            rd.problem(where, rule, "delete the row, or check the id", iid)
            continue
        got: dict[str, Any] = {"indicator_id": iid}
        cells: dict[str, _Where] = {"indicator_id": where}
        for key in numbers:
            got[key], cells[key] = rd.number(INDICATORS, r, _col(IND_COLUMNS, key), key)
        for key in texts:
            got[key], cells[key] = rd.text(INDICATORS, r, _col(IND_COLUMNS, key))
        got["commentary"], cells["commentary"] = rd.text(
            INDICATORS, r, _col(IND_COLUMNS, "commentary"), one_line=False
        )
        got["actions"], cells["actions"] = rd.text(
            INDICATORS, r, _col(IND_COLUMNS, "actions"), one_line=False
        )
        rows.append((iid, got, cells))
    for iid in cat.index:
        if iid not in seen:
            rd.problem(
                None,
                f"the row for {iid} ({cat.loc[iid, 'name']}) is missing",
                f"put the row back (a fresh 'scorecard template {q.id}' has it)",
                iid,
                column=f"{INDICATORS}!A",
            )
    order = {iid: i for i, iid in enumerate(cat.index)}
    for iid, got, cells in sorted(rows, key=lambda t: order[t[0]]):
        ind = cat.loc[iid]
        label = f"{iid} {ind['name']}"
        if cells["value"] in rd.bad:
            pass  # already reported: text, a formula without a result...
        elif got["value"] is None:
            extra = [k for k in ("numerator", "denominator") if got[k] is not None]
            if extra:
                rd.problem(
                    cells["value"],
                    f"{iid} has a {' and '.join(extra)} but no value",
                    "enter the value as well (or clear the other cells)",
                )
            elif st.is_due(ind):
                if got["data_quality"]:
                    out.warnings.append(
                        f"{label}: no figure this quarter ({got['data_quality']}); the last "
                        "figure is carried forward."
                    )
                else:
                    rd.problem(
                        cells["value"],
                        f"{iid} is required this quarter but has no value",
                        "enter the figure, or say in the Data-quality note why there is none",
                    )
            elif got["data_quality"]:
                out.warnings.append(
                    f"{label}: the data-quality note is not used, as there is no new figure."
                )
        else:
            out.values.append({c: got.get(c) for c in VALUES_COLUMNS})
            out.value_cells.append(cells)
        actions = [
            re.sub(r"^([-*•]\s+)", "", a.strip())
            for a in (got["actions"] or "").split("\n")
            if a.strip()
        ]
        if got["commentary"] or actions:
            out.commentary[iid] = (got["commentary"] or "", actions, str(ind["owner"]))
            out.commentary_cells[iid] = cells["commentary"]


def _parse_risks(rd: _Reader, st: Start, out: _Parsed) -> None:
    ws = rd.book.sheets[RISKS]
    if not _check_header(rd, ws, RISK_SHEET_COLUMNS):
        return
    seen: dict[str, int] = {}
    for r in range(2, ws.max_row + 1):
        if _row_is_blank(ws, r, RISK_SHEET_COLUMNS):
            continue
        got: dict[str, Any] = {}
        cells: dict[str, _Where] = {}
        for i, col in enumerate(RISK_SHEET_COLUMNS, start=1):
            if not col.entry:
                continue
            if col.kind == "whole":
                n, where = rd.number(RISKS, r, i, col.header)
                if n is not None and (n != int(n) or not 1 <= n <= 5):
                    rd.problem(
                        where, "must be a whole number from 1 to 5", "type 1, 2, 3, 4 or 5", n
                    )
                    n = None
                got[col.key], cells[col.key] = n, where
            else:
                got[col.key], cells[col.key] = rd.text(RISKS, r, i, one_line=False)
                if got[col.key] is not None and col.key in ("controls", "actions"):
                    parts = re.split(r"\s*(?:;|\n)\s*", got[col.key])
                    got[col.key] = "; ".join(" ".join(p.split()) for p in parts if p.strip())
                elif got[col.key] is not None:
                    got[col.key] = " ".join(got[col.key].split())
        rid = got.get("risk_id")
        if rid is None:
            rd.problem(cells["risk_id"], "this risk has no id", "give it a new id such as CRR17")
            continue
        if rid in seen:
            rd.problem(
                cells["risk_id"],
                f"{rid} appears twice (first in row {seen[rid]})",
                "give the new risk an id of its own",
                rid,
            )
            continue
        seen[rid] = r
        if got.get("status") is not None:
            got["status"] = str(got["status"]).lower()
        out.risks.append({c: got.get(c) for c in RISK_COLUMNS})
        out.risk_cells.append(cells)
    for r in st.previous_risks().to_dict("records"):
        if r["risk_id"] not in seen:
            rd.problem(
                None,
                f"risk {r['risk_id']} ({r['title']}) from last quarter's register is missing",
                "put its row back (a fresh template has it); set its status to closed if it "
                "has closed",
                r["risk_id"],
                column=f"{RISKS}!A",
            )


def _parse_breakdowns(rd: _Reader, out: _Parsed) -> None:
    if BREAKDOWNS not in rd.book.sheets:
        return
    out.has_breakdown_sheet = True
    ws = rd.book.sheets[BREAKDOWNS]
    if not _check_header(rd, ws, BREAKDOWN_SHEET_COLUMNS):
        return
    for r in range(2, ws.max_row + 1):
        if _row_is_blank(ws, r, BREAKDOWN_SHEET_COLUMNS):
            continue
        got: dict[str, Any] = {}
        cells: dict[str, _Where] = {}
        for key in ("indicator_id", "dimension", "category"):
            got[key], cells[key] = rd.text(BREAKDOWNS, r, _col(BREAKDOWN_SHEET_COLUMNS, key))
        got["value"], cells["value"] = rd.number(
            BREAKDOWNS, r, _col(BREAKDOWN_SHEET_COLUMNS, "value"), "value"
        )
        if got["value"] is None:
            continue  # a category without a figure this quarter
        missing = [k for k in ("indicator_id", "dimension", "category") if got[k] is None]
        if missing:
            rd.problem(
                cells[missing[0]],
                f"this figure has no {missing[0].replace('_', ' ')}",
                "fill in the indicator id, what it is split by and the category",
            )
            continue
        out.breakdowns.append({c: got.get(c) for c in BREAKDOWN_COLUMNS})
        out.breakdown_cells.append(cells)


def _published(q: Quarter, out_dir: Path) -> list[Path]:
    """Reports already published that read this quarter's data (its own and later ones)."""
    found = []
    if out_dir.is_dir():
        for child in sorted(out_dir.iterdir()):
            try:
                other = parse_quarter(child.name)
            except QuarterError:
                continue
            if other.id == child.name and other >= q and (child / "report.html").is_file():
                found.append(child / "report.html")
    return found


def _backup_name(folder: Path) -> Path:
    n = 1
    while (folder.parent / f"{folder.name}.previous-{n}").exists():
        n += 1
    return folder.parent / f"{folder.name}.previous-{n}"


def _translate(
    problems: Iterable[Problem],
    parsed: _Parsed,
    q: Quarter,
    tmp_root: Path,
    tmp_params: Path,
    root: Path,
    params_file: Path,
    name: str,
) -> list[Problem]:
    """Problems found in the generated files, located in the workbook instead."""
    own = {
        display_path(tmp_root / q.id / "values.csv", tmp_root): parsed.value_cells,
        display_path(tmp_root / q.id / "risks.csv", tmp_root): parsed.risk_cells,
        display_path(tmp_root / q.id / "breakdowns.csv", tmp_root): parsed.breakdown_cells,
    }
    commentary_file = display_path(tmp_root / q.id / "commentary.yaml", tmp_root)
    params_name = display_path(tmp_params, tmp_root)
    out = []
    for p in problems:
        where: _Where | None = None
        if p.file in own and p.row is not None and 0 <= p.row - 2 < len(own[p.file]):
            cells = own[p.file][p.row - 2]
            where = cells.get(p.column or "") or next(iter(cells.values()))
        elif p.file == commentary_file and p.column:
            where = parsed.commentary_cells.get(p.column.split(".")[0])
        if where is not None:
            out.append(
                Problem(
                    file=name,
                    row=where.row,
                    column=where.ref,
                    value=p.value,
                    rule=p.rule,
                    fix=p.fix,
                )
            )
        elif p.file == params_name:
            out.append(replace(p, file=display_path(params_file, outside="given")))
        elif p.file.startswith("DATA/"):
            out.append(replace(p, file=display_path(root / p.file[5:], outside="given")))
        else:
            out.append(p)
    return out


def _validate(
    st: Start,
    files: Mapping[str, str],
    params: str,
    parsed: _Parsed,
    name: str,
) -> Inputs:
    """Load the quarter from a temporary copy of the data folder holding the new files."""
    q = st.quarter
    with tempfile.TemporaryDirectory(prefix="scorecard-import-") as tmp:
        tmp_root = Path(tmp) / "data"
        tmp_root.mkdir()
        for f in ("catalogue.csv", "settings.yaml"):
            if (st.data_dir / f).is_file():
                shutil.copy2(st.data_dir / f, tmp_root / f)
        for earlier in available_quarters(st.data_dir):
            if earlier < q:
                shutil.copytree(st.data_dir / earlier.id, tmp_root / earlier.id)
        (tmp_root / q.id).mkdir()
        for fname, text in files.items():
            (tmp_root / q.id / fname).write_bytes(text.encode("utf-8"))
        tmp_params = Path(tmp) / "params" / f"{q.id}.yaml"
        tmp_params.parent.mkdir()
        tmp_params.write_bytes(params.encode("utf-8"))
        try:
            return load_inputs(q, tmp_root, tmp_params.parent)
        except ValidationError as exc:
            raise ValidationError(
                _translate(
                    exc.problems,
                    parsed,
                    q,
                    tmp_root,
                    tmp_params,
                    st.data_dir,
                    st.params_dir / f"{q.id}.yaml",
                    name,
                )
            ) from None


def _pct(new: float, old: float) -> float:
    if old == 0:
        return 0.0 if new == 0 else math.inf
    return (new - old) / abs(old) * 100


def _pct_text(p: float) -> str:
    if math.isinf(p):
        return "from zero"
    return f"{p:+.1f}%"


def _compare(
    st: Start, inputs: Inputs, parsed: _Parsed, swing_percent: float, name: str
) -> tuple[list[str], list[str], list[Problem]]:
    """Lines comparing the new figures with the last ones, and the swings beyond the limit."""
    q = st.quarter
    cat = inputs.catalogue.set_index("indicator_id", drop=False)
    changes: list[str] = []
    swings: list[str] = []
    problems: list[Problem] = []
    for row, cells in zip(parsed.values, parsed.value_cells, strict=True):
        iid = row["indicator_id"]
        d = cat.loc[iid]
        dec = int(d["decimals"])
        label = f"{iid} {d['name']}"
        new = float(row["value"])
        last = st.latest(iid)
        if not last or last.get("value") is None:
            changes.append(f"{label}: {format_number(new, dec)} (first figure)")
            continue
        old = float(last["value"])
        lq = parse_quarter(str(last["quarter"]))
        when = "" if lq == q.previous() else f" ({lq.short})"
        pct = _pct(new, old)
        line = (
            f"{label}: {format_number(old, dec)}{when} -> {format_number(new, dec)} "
            f"({_pct_text(pct)})"
        )
        extras = []
        for ref in ("target", "benchmark"):
            was, now = last.get(ref), row.get(ref)
            if now is not None and was is not None and float(was) != float(now):
                extras.append(f"{ref} {format_number(was, dec)} -> {format_number(now, dec)}")
            elif now is not None and was is None:
                extras.append(f"{ref} {format_number(now, dec)} (new)")
        changes.append(line + ("; " + "; ".join(extras) if extras else ""))
        if abs(pct) > swing_percent:
            swings.append(f"{line}, more than the {swing_percent:g}% swing limit")
            problems.append(
                Problem(
                    file=name,
                    row=cells["value"].row,
                    column=cells["value"].ref,
                    value=fmt(row["value"]),
                    rule=f"{iid} changed by {_pct_text(pct)} since {lq.short} "
                    f"({format_number(old, dec)} -> {format_number(new, dec)}), more than "
                    f"the {swing_percent:g}% allowed without a check",
                    fix="check the figure; if it is right, import again confirming the swings "
                    "(scorecard import --confirm-swings)",
                )
            )
    before = {r["risk_id"]: r for r in st.previous_risks().to_dict("records")}
    for r in parsed.risks:
        rid = r["risk_id"]
        now_score = int(r["current_likelihood"]) * int(r["current_impact"])
        old_row = before.get(rid)
        if r["status"] == "closed":
            changes.append(f"{rid} {r['title']}: closed this quarter")
        elif old_row is None:
            changes.append(f"{rid} {r['title']}: new risk, current score {now_score}")
        else:
            old_score = int(old_row["current_likelihood"]) * int(old_row["current_impact"])
            if old_score != now_score:
                word = "up" if now_score > old_score else "down"
                changes.append(
                    f"{rid} {r['title']}: current score {old_score} -> {now_score} ({word})"
                )
    return changes, swings, problems


def import_workbook(
    path: Path,
    *,
    quarter: str | None = None,
    data_dir: Path | None = None,
    params_dir: Path | None = None,
    swing_percent: float = 25.0,
    confirm_swings: bool = False,
    force: bool = False,
    out_dir: Path | None = None,
) -> ImportResult:
    """Read a filled returns workbook and write the quarter's data files.

    Every check runs before anything is written; any problem raises a ScorecardError
    (ValidationError lists each problem with its sheet, cell and value) and leaves the data
    untouched. Changes of a figure by more than ``swing_percent`` per cent since its last
    value are refused unless ``confirm_swings``. A quarter whose report (or a later
    quarter's report) is published in the archive ``out_dir`` (default ``published/``) is
    only overwritten with ``force``, and then the old data folder is kept as
    ``data/QUARTER.previous-N``.
    """
    path = Path(path)
    resolve_given(path)  # a symbolic-link loop on the way is an input error
    name = path.name
    if not isinstance(swing_percent, Real) or not swing_percent >= 0:
        raise InputError(
            f"The swing limit {swing_percent!r} is not a percentage of 0 or more",
            fix="give a number such as 25",
        )
    book = _open(path)
    meta = _meta(book, name)
    q = _workbook_quarter(meta, name, quarter)
    st = start(q, data_dir, params_dir)
    from scorecard_lib.inputs.archive import ARCHIVE_DIR

    outputs = resolve(out_dir, ARCHIVE_DIR)
    published = _published(q, outputs)
    if published and not force:
        listed = ", ".join(display_path(p, outside="given") for p in published)
        own = outputs / q.id / "report.html" in published
        what = (
            f"The report for {q.prose} has been published"
            if own
            else f"A report for a later quarter, which carries forward figures from {q.prose}, "
            "has been published"
        )
        raise PublishedError(
            f"{what}, so the data of {q.prose} will not be overwritten",
            where=listed,
            fix="import again with --force if the published figures must be corrected (the "
            "current data will be kept as "
            + display_path(_backup_name(st.folder), outside="given")
            + ")",
        )

    rd = _Reader(name, book)
    parsed = _Parsed()
    _check_sheets(rd, book)
    if not rd.problems:
        _parse_indicators(rd, st, parsed)
        _parse_risks(rd, st, parsed)
        _parse_breakdowns(rd, parsed)
    if rd.problems:
        raise ValidationError(rd.problems)

    files: dict[str, str] = {
        "values.csv": csv_text(VALUES_COLUMNS, parsed.values),
        "commentary.yaml": commentary_yaml(dict(sorted(parsed.commentary.items()))),
        "risks.csv": csv_text(RISK_COLUMNS, parsed.risks),
    }
    if parsed.breakdowns:
        files["breakdowns.csv"] = csv_text(BREAKDOWN_COLUMNS, parsed.breakdowns)
    warnings = list(parsed.warnings)
    if st.folder.is_dir():  # files the workbook does not cover (overrides) are kept
        for other in sorted(st.folder.iterdir()):
            if other.is_file() and other.name not in files and other.name != "breakdowns.csv":
                files[other.name] = other.read_text(encoding="utf-8")
                warnings.append(f"Kept {other.name} from the existing data for {q.short}.")
    params_file = st.params_dir / f"{q.id}.yaml"
    new_params: str | None = None
    if params_file.is_file():
        params = params_file.read_text(encoding="utf-8")
    else:
        new_params = params = params_text(
            q, str(st.inputs.params.get("title", "")), str(st.inputs.params.get("council", ""))
        )
        warnings.append(
            f"{display_path(params_file, outside='given')} did not exist: it has been written "
            "with a placeholder "
            f"Cabinet date ({placeholder_cabinet_date(q).isoformat()}); change it to the real "
            "date."
        )

    inputs = _validate(st, files, params, parsed, name)
    changes, swings, swing_problems = _compare(st, inputs, parsed, swing_percent, name)
    if swing_problems and not confirm_swings:
        raise ValidationError(swing_problems)
    draft = st.existing.get("values")
    if draft is not None and "value" in draft.columns and (draft["value"].str.strip() != "").any():
        warnings.append(f"This replaces the figures that {q.short} already had.")

    backup = _backup_name(st.folder) if published and st.folder.exists() else None
    result = ImportResult(
        quarter=q.id, changes=changes, swings=swings, warnings=warnings, backup=backup
    )
    try:
        if new_params is not None:
            result.files.append(write_text_atomically(params_file, new_params))
        result.files.extend(write_files_atomically(st.folder, files, keep_old_as=backup))
    except OSError as exc:
        raise InputError(
            f"The data for {q.prose} could not be written ({exc.strerror or exc})",
            where=display_path(st.folder, outside="given"),
            fix="check that the data folder can be written to and try again",
        ) from None
    return result


__all__ = ["ImportResult", "import_workbook", "write_template"]
