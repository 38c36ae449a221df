"""Turn the sheets of a returned workbook into the quarter's data rows.

The hidden sheet says which quarter and layout the workbook is; the Indicators, Risks and
Breakdowns sheets become rows of ``values.csv``, ``commentary.yaml``, ``risks.csv`` and
``breakdowns.csv``, each remembering the cell it came from, so that a problem found later in
the generated files can be named by sheet and cell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from scorecard_lib.core.errors import InputError, QuarterError
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs.scaffold import BREAKDOWN_COLUMNS, RISK_COLUMNS, VALUES_COLUMNS, Start
from scorecard_lib.inputs.workbook.cells import Book, CellReader, Sheet, Where
from scorecard_lib.inputs.workbook.layout import (
    BREAKDOWN_SHEET_COLUMNS,
    BREAKDOWNS,
    IND_COLUMNS,
    INDICATORS,
    META,
    RISK_SHEET_COLUMNS,
    RISKS,
    SHEETS,
    TEMPLATE_FORMAT,
    Column,
    column_number,
)


def read_meta(book: Book, name: str) -> dict[str, str]:
    """The hidden sheet's keys and values; refuses a workbook not made by the template."""
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


def workbook_quarter(meta: Mapping[str, str], name: str, asked: str | None) -> Quarter:
    """The quarter the workbook was made for, which must be the one ``asked`` (if given)."""
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


def check_sheets(rd: CellReader, book: Book) -> None:
    """Report sheets the template does not have and sheets it has that are missing."""
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


def _check_header(rd: CellReader, ws: Sheet, columns: Sequence[Column]) -> bool:
    ok = True
    for i, col in enumerate(columns, start=1):
        got = ws.value(1, i)
        if str(got or "").strip() != col.header:
            rd.problem(
                Where(ws.title, 1, get_column_letter(i)),
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
class Parsed:
    """The rows read from the sheets, each with the cells it came from, and the warnings."""

    values: list[dict[str, Any]] = field(default_factory=list)
    value_cells: list[dict[str, Where]] = field(default_factory=list)
    commentary: dict[str, tuple[str, list[str], str]] = field(default_factory=dict)
    commentary_cells: dict[str, Where] = field(default_factory=dict)
    risks: list[dict[str, Any]] = field(default_factory=list)
    risk_cells: list[dict[str, Where]] = field(default_factory=list)
    breakdowns: list[dict[str, Any]] = field(default_factory=list)
    breakdown_cells: list[dict[str, Where]] = field(default_factory=list)
    has_breakdown_sheet: bool = False
    warnings: list[str] = field(default_factory=list)


def _row_is_blank(ws: Sheet, row: int, columns: Sequence[Column]) -> bool:
    for i, c in enumerate(columns, start=1):
        if not (c.entry or c.key in ("indicator_id", "risk_id")):
            continue
        value, formula = ws.get(row, i)
        if formula or not (value is None or (isinstance(value, str) and not value.strip())):
            return False
    return True


def parse_indicators(rd: CellReader, st: Start, out: Parsed) -> None:
    ws = rd.book.sheets[INDICATORS]
    if not _check_header(rd, ws, IND_COLUMNS):
        return
    cat = st.indicators().set_index("indicator_id", drop=False)
    every = set(st.catalogue["indicator_id"])
    q = st.quarter
    seen: dict[str, int] = {}
    numbers = ("value", "numerator", "denominator", "target", "benchmark")
    texts = ("period_label", "benchmark_label", "benchmark_date", "data_quality")
    rows: list[tuple[str, dict[str, Any], dict[str, Where]]] = []
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
        cells: dict[str, Where] = {"indicator_id": where}
        for key in numbers:
            got[key], cells[key] = rd.number(INDICATORS, r, column_number(IND_COLUMNS, key), key)
        for key in texts:
            got[key], cells[key] = rd.text(INDICATORS, r, column_number(IND_COLUMNS, key))
        got["commentary"], cells["commentary"] = rd.text(
            INDICATORS, r, column_number(IND_COLUMNS, "commentary"), one_line=False
        )
        got["actions"], cells["actions"] = rd.text(
            INDICATORS, r, column_number(IND_COLUMNS, "actions"), one_line=False
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


def parse_risks(rd: CellReader, st: Start, out: Parsed) -> None:
    ws = rd.book.sheets[RISKS]
    if not _check_header(rd, ws, RISK_SHEET_COLUMNS):
        return
    seen: dict[str, int] = {}
    for r in range(2, ws.max_row + 1):
        if _row_is_blank(ws, r, RISK_SHEET_COLUMNS):
            continue
        got: dict[str, Any] = {}
        cells: dict[str, Where] = {}
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


def parse_breakdowns(rd: CellReader, out: Parsed) -> None:
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
        cells: dict[str, Where] = {}
        for key in ("indicator_id", "dimension", "category"):
            got[key], cells[key] = rd.text(
                BREAKDOWNS, r, column_number(BREAKDOWN_SHEET_COLUMNS, key)
            )
        got["value"], cells["value"] = rd.number(
            BREAKDOWNS, r, column_number(BREAKDOWN_SHEET_COLUMNS, "value"), "value"
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


__all__ = [
    "Parsed",
    "check_sheets",
    "parse_breakdowns",
    "parse_indicators",
    "parse_risks",
    "read_meta",
    "workbook_quarter",
]
