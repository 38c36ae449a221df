"""Accessible HTML tables for the report, built by hand so the output is fully predictable.

The tables follow GOV.UK guidance for simple data tables: a caption, exactly one header row
of ``<th scope="col">``, an optional column of row headers (``<th scope="row">``), numbers
right-aligned (class ``num``, styled by the report's CSS) and no empty cells: a missing value
is written as "no data". A table displays in its labelled scroll box (:func:`scroll_box`), so
the report lays it out as it is. Text is HTML-escaped except in columns the caller names as already
safe HTML (the badges from :mod:`scorecard_lib.core.formatting`).

pandas' Styler is not used: it adds random ids unless told otherwise and we need no styling
that a few classes cannot give. The same frame always gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import pandas as pd

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import NO_DATA_TEXT, format_number
from scorecard_lib.core.values import is_missing


def scroll_box(table_html: str, label: str) -> str:
    """A table in the focusable box, labelled by its caption, that it scrolls sideways in on
    a narrow screen while the page does not (WCAG 1.4.10): the form the report shows."""
    name = html.escape(" ".join(label.split()), quote=True)
    return (
        f'<div class="table-wrap" role="region" aria-label="{name}" tabindex="0">{table_html}</div>'
    )


@dataclass(frozen=True)
class Table:
    """A finished HTML table. Displays itself in Jupyter as the report shows it."""

    html: str  # the bare <table>
    caption: str

    def _repr_html_(self) -> str:
        return scroll_box(self.html, self.caption)

    def __repr__(self) -> str:
        return f"<Table: {self.caption}>"

    def __str__(self) -> str:
        return self.html


def cell_text(value: Any) -> str:
    """The plain text for one cell: missing or blank -> "no data"; numbers formatted.

    Callers are expected to format floats themselves (with the indicator's unit and
    decimals); a raw float that arrives here is shown with one decimal place, and a whole
    number (an int, or a float with nothing after the point) without decimals.
    """
    if is_missing(value):
        return NO_DATA_TEXT
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Integral):
        return format_number(value, 0)
    if isinstance(value, Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return format_number(number, 0)
        return format_number(number, 1)
    text = str(value)
    if text.strip() == "":
        return NO_DATA_TEXT
    return text


def _check_columns(df: pd.DataFrame, names: Sequence[str], what: str, caption: str) -> None:
    unknown = [n for n in names if n not in df.columns]
    if unknown:
        raise InputError(
            f"The table '{caption}' was asked to treat {', '.join(map(repr, unknown))} as "
            f"{what}, but it has no such column",
            fix=f"use column names the table has: {', '.join(map(str, df.columns))}",
        )


def _attr_class(classes: list[str]) -> str:
    return f' class="{" ".join(classes)}"' if classes else ""


def html_table(
    df: pd.DataFrame,
    caption: str,
    *,
    numeric: Sequence[str] = (),
    html_columns: Sequence[str] = (),
    row_header: str | None = None,
    table_id: str | None = None,
) -> Table:
    """``df`` as an accessible ``<table class="data">``; the index is not shown.

    ``numeric``: columns right-aligned as numbers. ``html_columns``: columns holding HTML
    that is already safe (never user text) and is written unescaped. ``row_header``: the
    column whose cells head their rows. ``table_id``: an ``id`` for the table element.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The table '{caption}' needs a pandas DataFrame, not {type(df).__name__}",
            fix="pass the rows as a DataFrame",
        )
    if len(df.columns) == 0:
        raise InputError(
            f"The table '{caption}' has no columns", fix="pass at least one column to show"
        )
    if isinstance(numeric, str) or isinstance(html_columns, str):
        raise InputError(
            f"The table '{caption}' was given a column name where a list of names was expected",
            fix="pass numeric=[...] and html_columns=[...] as lists of column names",
        )
    _check_columns(df, numeric, "numeric", caption)
    _check_columns(df, html_columns, "HTML", caption)
    if row_header is not None:
        _check_columns(df, [row_header], "the row header", caption)

    columns = [str(c) for c in df.columns]
    numeric_set = {str(c) for c in numeric}
    html_set = {str(c) for c in html_columns}
    header_name = None if row_header is None else str(row_header)

    id_attr = "" if table_id is None else f' id="{html.escape(str(table_id), quote=True)}"'
    lines = [f'<table class="data"{id_attr}>', f"<caption>{html.escape(str(caption))}</caption>"]
    head = "".join(
        f'<th scope="col"{_attr_class(["num"] if name in numeric_set else [])}>'
        f"{html.escape(name)}</th>"
        for name in columns
    )
    lines.append(f"<thead><tr>{head}</tr></thead>")
    lines.append("<tbody>")
    if len(df) == 0:
        lines.append(
            f'<tr><td colspan="{len(columns)}">There are no rows to show in this table.</td></tr>'
        )
    for row in df.itertuples(index=False, name=None):
        cells: list[str] = []
        for name, value in zip(columns, row, strict=True):
            if name in html_set and not is_missing(value) and str(value).strip():
                content = str(value)
            else:
                content = html.escape(cell_text(value))
            classes = ["num"] if name in numeric_set else []
            if name == header_name:
                cells.append(f'<th scope="row"{_attr_class(classes)}>{content}</th>')
            else:
                cells.append(f"<td{_attr_class(classes)}>{content}</td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    lines.append("</tbody>")
    lines.append("</table>")
    return Table(html="\n".join(lines), caption=str(caption))
