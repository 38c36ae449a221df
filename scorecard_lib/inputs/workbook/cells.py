"""Open a returned workbook that may be hostile and read its cells.

A workbook comes back from outside the team: it is refused when larger than a returns
workbook can be (its archive's declared sizes are checked before it is loaded, then each
sheet while it is read), read once in openpyxl's read-only mode, and each cell is read by
:class:`CellReader`, which never takes a formula and names the sheet and cell of each problem.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from numbers import Real
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from scorecard_lib.core.errors import InputError, Problem
from scorecard_lib.core.paths import display_path
from scorecard_lib.inputs.scaffold import fmt
from scorecard_lib.inputs.workbook.layout import BREAKDOWNS, INDICATORS, META, RISKS

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


@dataclass(frozen=True)
class Where:
    """A cell of the workbook, as messages name it (``Indicators!K7``)."""

    sheet: str
    row: int
    letter: str

    @property
    def ref(self) -> str:
        return f"{self.sheet}!{self.letter}{self.row}"


@dataclass
class Sheet:
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
class Book:
    """The sheet names of a workbook and the sheets import reads."""

    sheetnames: list[str]
    sheets: dict[str, Sheet]


class CellReader:
    """Reads cells and collects problems, each located by sheet and cell."""

    def __init__(self, name: str, book: Book) -> None:
        self.name = name
        self.book = book
        self.problems: list[Problem] = []
        self.bad: set[Where] = set()  # cells already reported

    def problem(
        self,
        where: Where | None,
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

    def raw(self, sheet: str, row: int, col: int) -> tuple[Any, Where]:
        """A cell's value as typed. A formula is never taken (neither evaluated nor its saved
        result, which the file may state falsely): it is reported and read as empty."""
        where = Where(sheet, row, get_column_letter(col))
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

    def number(self, sheet: str, row: int, col: int, what: str) -> tuple[float | int | None, Where]:
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
    ) -> tuple[str | None, Where]:
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


def _read_sheet(ws: Any, path: Path) -> Sheet:
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
    sheet = Sheet(title)
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


def open_workbook(path: Path) -> Book:
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
    return Book(names, sheets)


__all__ = [
    "MAX_SHEET_COLUMNS",
    "MAX_SHEET_ROWS",
    "MAX_WORKBOOK_FILE_BYTES",
    "MAX_WORKBOOK_PARTS",
    "MAX_WORKBOOK_UNPACKED_BYTES",
    "Book",
    "CellReader",
    "Sheet",
    "Where",
    "open_workbook",
]
