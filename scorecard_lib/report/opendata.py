"""Open data: a quarter's figures as files anyone can reuse, described as a Data Package.

Every build writes ``OUT/QUARTER/open-data/``:

* ``scorecard.csv``: one row per indicator in force (its figure, unit, period, the target or
  benchmark it is rated against, rating, direction of travel, whether it was updated);
* ``risks.csv``: the corporate risk register (likelihood, impact, score and band at the
  inherent, current and target positions; trend);
* ``scorecard.ods``: the same two tables as the two sheets of one OpenDocument spreadsheet;
* ``datapackage.json``: a Frictionless Data Package describing each file (fields, types,
  descriptions, units, missing values, primary keys, size and sha256), the licence (Open
  Government Licence v3.0) and the quarter.

**One source.** Every figure, rating and direction comes from the quarter's ``results``
(``record.quarter_results``), the dictionary written into ``manifest.json`` and computed by
the same code the notebooks call, so the open data cannot disagree with the report. What the
results do not carry (theme, unit, period label, owner, likelihood and impact) is descriptive
text from the same validated inputs, joined on the indicator or risk id.

**Byte-stable.** The CSVs are written with fixed formatting (``\\n`` line ends, shortest
round-trip numbers, ``true``/``false``, empty for missing); the ODS is put in a canonical
form (see :func:`normalise_ods`); the descriptor is JSON with a fixed key order. Same
inputs, code and environment give the same bytes.

This module makes the tables and writes the files; what each column means and the descriptor
are in ``datapackage.py``. It imports ``present.sections`` for the descriptive columns.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import pandas as pd

from scorecard_lib.core.quarters import Quarter
from scorecard_lib.core.values import is_missing
from scorecard_lib.report.datapackage import (
    BASIS_WORDS,
    ODS_NAME,
    PACKAGE_NAME,
    POLARITY_WORDS,
    RISK_FIELDS_OPEN,
    RISKS_CSV,
    SCORECARD_CSV,
    SCORECARD_FIELDS,
    Field,
    package_descriptor,
)

if TYPE_CHECKING:
    from scorecard_lib.inputs.loading import Inputs

#: Every file of the open data, in the order the descriptor lists them.
FILES: tuple[str, ...] = (SCORECARD_CSV, RISKS_CSV, ODS_NAME, PACKAGE_NAME)

#: The date every entry of the ODS zip carries (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_UNIT_WORDS = {
    "percent": "percent",
    "gbp": "pounds sterling",
    "per_10000": "per 10,000",
    "days": "days",
    "years": "years",
    "count": "count",
    "score": "score",
}


@dataclass(frozen=True, eq=False)
class OpenData:
    """One quarter's open data, before it is written: the two tables (typed columns, in the
    order of their fields) and what the descriptor says about them."""

    quarter: Quarter
    council: str
    title: str
    scorecard: pd.DataFrame
    risks: pd.DataFrame


# --- the tables, from the results ------------------------------------------------------------


def _text(value: Any) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or is_missing(value):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _integer(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _unit(row: Mapping[str, Any]) -> str:
    label = _text(row.get("unit_label"))
    unit = str(row.get("unit") or "")
    if label and unit not in ("percent", "gbp"):
        return label
    return _UNIT_WORDS.get(unit, unit)


def scorecard_table(results: Mapping[str, Any], board: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator in ``results``, in the report's order (the board's): figures,
    ratings and directions from ``results``, descriptions from ``board``."""
    from scorecard_lib.core.registry import SECTION_TITLES

    figures: Mapping[str, Mapping[str, Any]] = results.get("indicators") or {}
    described = {str(r["indicator_id"]): r for r in board.to_dict("records")}
    order = [i for i in described if i in figures] + sorted(set(figures) - set(described))
    rows = []
    for ind in order:
        f = figures[ind]
        d = described.get(ind, {})
        basis = str(d.get("rating_basis") or "")
        rows.append(
            {
                "indicator_id": ind,
                "name": _text(f.get("name")),
                "theme": _text(d.get("theme")),
                "section": SECTION_TITLES.get(str(d.get("section")), _text(d.get("section"))),
                "value": _number(f.get("value")),
                "unit": _unit(d),
                "value_quarter": _text(f.get("value_quarter")),
                "period": _text(d.get("period_label")),
                "data_quality": _text(d.get("data_quality")),
                "updated": bool(f["updated"]) if f.get("updated") is not None else None,
                "polarity": POLARITY_WORDS.get(str(d.get("polarity"))),
                "rated_against": BASIS_WORDS.get(basis),
                "reference": _number(f.get("reference")),
                "reference_label": _text(f.get("reference_label")),
                "reference_date": _text(d.get("benchmark_date")) if basis == "benchmark" else None,
                "rating": _text(f.get("rating")),
                "rating_computed": _text(f.get("rating_computed")),
                "short_term": _text(f.get("short_term")),
                "long_term": _text(f.get("long_term")),
                "previous_value": _number(f.get("previous_value")),
                "previous_quarter": _text(f.get("previous_quarter")),
                "last_year_value": _number(f.get("last_year_value")),
            }
        )
    return _typed(rows, SCORECARD_FIELDS)


def risks_table(results: Mapping[str, Any], register: pd.DataFrame) -> pd.DataFrame:
    """One row per risk in ``results``, in the register's order (highest current score
    first): scores, current band and trend from ``results``; likelihood, impact, owner and
    the other bands from ``register``."""
    figures: Mapping[str, Mapping[str, Any]] = results.get("risks") or {}
    described = {str(r["risk_id"]): r for r in register.to_dict("records")}
    order = [i for i in described if i in figures] + sorted(set(figures) - set(described))
    rows = []
    for rid in order:
        f = figures[rid]
        d = described.get(rid, {})
        row: dict[str, Any] = {
            "risk_id": rid,
            "title": _text(f.get("title")),
            "description": _text(d.get("description")),
            "owner": _text(d.get("owner")),
            "status": _text(f.get("status")),
        }
        for stage in ("inherent", "current", "target"):
            row[f"{stage}_likelihood"] = _integer(d.get(f"{stage}_likelihood"))
            row[f"{stage}_impact"] = _integer(d.get(f"{stage}_impact"))
            row[f"{stage}_score"] = _integer(f.get(f"{stage}_score"))
            band = f.get("current_band") if stage == "current" else d.get(f"{stage}_band")
            row[f"{stage}_band"] = _text(band)
        row["trend"] = _text(f.get("trend"))
        rows.append(row)
    return _typed(rows, RISK_FIELDS_OPEN)


_DTYPES = {"string": "string", "number": "Float64", "integer": "Int64", "boolean": "boolean"}


def _typed(rows: Sequence[Mapping[str, Any]], fields: Sequence[Field]) -> pd.DataFrame:
    """A frame with exactly ``fields`` as columns, each of its nullable pandas type."""
    return pd.DataFrame(
        {f.name: pd.array([r.get(f.name) for r in rows], dtype=_DTYPES[f.type]) for f in fields},
        columns=[f.name for f in fields],
    )


def open_data(inputs: Inputs, results: Mapping[str, Any]) -> OpenData:
    """The open data of the quarter ``inputs`` was read for, whose report states ``results``
    (``record.quarter_results(inputs)``)."""
    from scorecard_lib.present.sections import Scorecard

    sc = Scorecard(inputs)
    params = inputs.params or {}
    return OpenData(
        quarter=inputs.quarter,
        council=str(params.get("council") or ""),
        title=str(params.get("title") or ""),
        scorecard=scorecard_table(results, sc.board),
        risks=risks_table(results, sc.register),
    )


# --- writing -----------------------------------------------------------------------------------


def _cell(value: Any, kind: str) -> str:
    """A CSV cell: empty for missing; numbers in their shortest exact form, whole numbers
    without a decimal point; booleans as ``true``/``false``."""
    if is_missing(value):
        return ""
    if kind == "boolean":
        return "true" if bool(value) else "false"
    if kind == "integer":
        return str(int(value))
    if kind == "number":
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value)


def csv_bytes(frame: pd.DataFrame, fields: Sequence[Field]) -> bytes:
    """The table as UTF-8 CSV with a header row, ``\\n`` line ends and minimal quoting."""
    kinds = {f.name: f.type for f in fields}
    text = pd.DataFrame(
        {c: [_cell(v, kinds[c]) for v in frame[c].tolist()] for c in frame.columns},
        columns=list(frame.columns),
    )
    buffer = io.StringIO()
    text.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with plain Python values and None for missing (what the ODS writer takes)."""
    return pd.DataFrame(
        {c: [None if v is pd.NA else v for v in frame[c].tolist()] for c in frame.columns},
        columns=list(frame.columns),
        dtype=object,
    )


def ods_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """The tables as the sheets of one OpenDocument spreadsheet (pandas with odfpy),
    normalised to be byte-stable (:func:`normalise_ods`)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="odf") as writer:
        for name, frame in sheets.items():
            _plain(frame).to_excel(writer, sheet_name=name, index=False)
    return normalise_ods(buffer.getvalue())


def normalise_ods(data: bytes) -> bytes:
    """The same spreadsheet in a canonical form: every XML part in Canonical XML and every
    zip entry dated ``ZIP_EPOCH`` with fixed permissions.

    Why by hand: odfpy (which pandas' ``ExcelWriter`` uses for ODS) has two sources of
    difference that no option of either turns off. It stamps every zip entry with the time it
    was written. And it declares on each part's root element every XML namespace it has met
    so far *in the process* (a class-level dictionary), so the first spreadsheet a process
    writes declares fewer namespaces than the next, or than one written after another
    OpenDocument file. So each XML part is rewritten with the standard library's
    ``xml.etree.ElementTree.canonicalize`` (W3C Canonical XML 2.0: only the namespace
    declarations in use, attributes in a fixed order; the tables hold no formulas, so no
    prefix is used only inside an attribute value), and the entries are copied in order with
    the public ``zipfile`` API, each keeping its compression (``mimetype`` first and stored,
    as the OpenDocument standard requires). ``meta.xml`` carries no creation date, only the
    generator's name and version.
    """
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w") as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.endswith(".xml"):
                canonical = ElementTree.canonicalize(content.decode("utf-8"))
                content = _XML_DECLARATION + canonical.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            entry.compress_type = info.compress_type
            entry.create_system = 3  # Unix, whatever system builds it
            entry.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            target.writestr(entry, content)
    return out.getvalue()


def open_data_files(data: OpenData) -> dict[str, bytes]:
    """Every open-data file's name and bytes, in ``FILES`` order."""
    files = {
        SCORECARD_CSV: csv_bytes(data.scorecard, SCORECARD_FIELDS),
        RISKS_CSV: csv_bytes(data.risks, RISK_FIELDS_OPEN),
        ODS_NAME: ods_bytes({"scorecard": data.scorecard, "risks": data.risks}),
    }
    descriptor = package_descriptor(data, files)
    files[PACKAGE_NAME] = (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode()
    return files


def write_open_data(data: OpenData, folder: Path) -> list[Path]:
    """Write the open data into ``folder`` (``QUARTER/open-data``); the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in open_data_files(data).items():
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written
