"""Write the returns template for a quarter (``scorecard template``).

The workbook has an Instructions sheet; an Indicators sheet (definitions locked, input cells
open, numbers checked by Excel's data validation); a Breakdowns sheet when an indicator was
split by a category last quarter; a Risks sheet with the register copied for review; and a
hidden sheet recording the quarter. Every cell is written by :func:`_write`, which stores text
as text and never as a formula, and the same inputs give a byte-identical file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time
from numbers import Real
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.files import write_atomically
from scorecard_lib.core.paths import display_path, resolve_given
from scorecard_lib.core.version import __version__
from scorecard_lib.inputs.cross_checks import NON_NEGATIVE_UNITS
from scorecard_lib.inputs.scaffold import Start, start
from scorecard_lib.inputs.workbook.layout import (
    BREAKDOWN_SHEET_COLUMNS,
    BREAKDOWNS,
    IND_COLUMNS,
    INDICATORS,
    INSTRUCTIONS,
    META,
    OPTIONAL,
    REQUIRED,
    RISK_SHEET_COLUMNS,
    RISKS,
    SPARE_BREAKDOWN_ROWS,
    SPARE_RISK_ROWS,
    TEMPLATE_FORMAT,
    Column,
)
from scorecard_lib.inputs.workbook.template_rows import (
    breakdown_rows,
    indicator_rows,
    number_format,
    risk_rows,
)

_HEAD_FONT = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_ENTRY_FILL = PatternFill("solid", fgColor="FFF2CC")  # pale yellow: fill these in
_LOCKED_FILL = PatternFill("solid", fgColor="E7E6E6")  # pale grey: definitions
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_OPEN = Protection(locked=False)


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
    rows = indicator_rows(st)
    for r, row in enumerate(rows, start=2):
        for i, col in enumerate(IND_COLUMNS, start=1):
            cell = _put(ws, r, i, col, row.get(col.key), col.entry)
            if col.key == "last_value" and isinstance(row["last_value"], Real):
                cell.number_format = number_format(row["_decimals"])
            if col.kind != "number" or not col.entry:
                continue
            unit = row["_unit"]
            if col.key == "denominator":
                rules["positive"].add(cell.coordinate)
            elif col.key == "numerator" or (unit in NON_NEGATIVE_UNITS and unit != "percent"):
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
    rows, locked_ids = risk_rows(st)
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
    rows = breakdown_rows(st)
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


__all__ = ["write_template"]
