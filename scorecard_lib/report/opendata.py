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

Layer 6 (beside ``record``): imports ``sections`` for the descriptive columns.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import pandas as pd

from scorecard_lib.core.formatting import DIRECTIONS, RATINGS, RISK_BANDS
from scorecard_lib.core.quarters import Quarter
from scorecard_lib.core.values import is_missing

if TYPE_CHECKING:
    from scorecard_lib.inputs.loading import Inputs

SCORECARD_CSV = "scorecard.csv"
RISKS_CSV = "risks.csv"
ODS_NAME = "scorecard.ods"
PACKAGE_NAME = "datapackage.json"
#: Every file of the open data, in the order the descriptor lists them.
FILES: tuple[str, ...] = (SCORECARD_CSV, RISKS_CSV, ODS_NAME, PACKAGE_NAME)

LICENCE: dict[str, str] = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
#: What a missing value is in every CSV (and an empty cell in the spreadsheet).
MISSING_VALUES: list[str] = [""]
ODS_MEDIATYPE = "application/vnd.oasis.opendocument.spreadsheet"
#: The date every entry of the ODS zip carries (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_QUARTER_PATTERN = r"^[0-9]{4}-[0-9]{2}-Q[1-4]$"
_TREND_WORDS = ("up", "down", "same", "new", "closed")
_BASES = {"target": "target", "benchmark": "benchmark", "data_only": "not rated"}
_POLARITIES = {"higher_is_better": "higher is better", "lower_is_better": "lower is better"}
_UNIT_WORDS = {
    "percent": "percent",
    "gbp": "pounds sterling",
    "per_10000": "per 10,000",
    "days": "days",
    "years": "years",
    "count": "count",
    "score": "score",
}


@dataclass(frozen=True)
class Field:
    """One column of an open-data table, as the Table Schema describes it."""

    name: str
    type: str  # Table Schema type: string, number, integer, boolean
    title: str
    description: str
    unit: str | None = None
    constraints: Mapping[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "description": self.description,
        }
        if self.unit:
            out["unit"] = self.unit
        if self.type == "boolean":
            out["trueValues"] = ["true"]
            out["falseValues"] = ["false"]
        if self.constraints:
            out["constraints"] = dict(self.constraints)
        return out


_REQUIRED = {"required": True}
_SCORE = {"minimum": 1, "maximum": 25}
_ONE_TO_FIVE = {"minimum": 1, "maximum": 5}

SCORECARD_FIELDS: tuple[Field, ...] = (
    Field(
        "indicator_id",
        "string",
        "Indicator id",
        "The indicator's reference, unique in the Scorecard.",
        constraints={**_REQUIRED, "unique": True},
    ),
    Field("name", "string", "Indicator", "What the indicator measures.", constraints=_REQUIRED),
    Field("theme", "string", "Theme", "The Corporate Plan theme or focus area it belongs to."),
    Field("section", "string", "Report section", "The section of the report that shows it."),
    Field(
        "value",
        "number",
        "Latest value",
        "The latest figure. Missing when there is none yet.",
        unit="the unit in the 'unit' column",
    ),
    Field(
        "unit",
        "string",
        "Unit",
        "The unit of 'value', 'reference', 'previous_value' and "
        "'last_year_value' (for example 'percent', 'per 10,000 children', 'days per "
        "person').",
    ),
    Field(
        "value_quarter",
        "string",
        "Quarter of the value",
        "The financial-year quarter the "
        "latest figure belongs to (YYYY-YY-QN; April to June is Q1). Earlier than this "
        "quarter when the figure is carried forward.",
        constraints={"pattern": _QUARTER_PATTERN},
    ),
    Field(
        "period",
        "string",
        "Period covered",
        "The period the figure covers when it is not "
        "the quarter itself (for example '12 months to 31/12/2016').",
    ),
    Field(
        "data_quality",
        "string",
        "Data quality",
        "A note on the figure's status (for example 'provisional'); missing when there is none.",
    ),
    Field(
        "updated",
        "boolean",
        "Updated this quarter",
        "true when the figure is new this "
        "quarter, false when it is carried forward from an earlier one.",
    ),
    Field(
        "polarity",
        "string",
        "Better when",
        "Whether a higher or a lower figure is better.",
        constraints={"enum": sorted(_POLARITIES.values())},
    ),
    Field(
        "rated_against",
        "string",
        "Rated against",
        "What the figure is rated against: a "
        "target, a benchmark, or nothing (shown for information, not rated).",
        constraints={"enum": sorted(_BASES.values())},
    ),
    Field(
        "reference",
        "number",
        "Target or benchmark",
        "The target or benchmark figure the rating compares with. Missing when there is none.",
        unit="the unit in the 'unit' column",
    ),
    Field(
        "reference_label",
        "string",
        "Target or benchmark label",
        "What the reference is "
        "and, for a benchmark, its date (for example 'England average at 31/03/2016').",
    ),
    Field(
        "reference_date",
        "string",
        "Benchmark date",
        "The date of the benchmark figure as "
        "its source gives it (day/month/year); missing for a target.",
    ),
    Field(
        "rating",
        "string",
        "Rating",
        "The rating shown in the report (an analyst may "
        "override the computed one, with a reason given in the report).",
        constraints={**_REQUIRED, "enum": list(RATINGS)},
    ),
    Field(
        "rating_computed",
        "string",
        "Computed rating",
        "The rating computed from the figure, the reference and the indicator's tolerance.",
        constraints={**_REQUIRED, "enum": list(RATINGS)},
    ),
    Field(
        "short_term",
        "string",
        "Short-term direction",
        "Direction of travel against the "
        "previous figure, allowing for whether higher or lower is better.",
        constraints={"enum": list(DIRECTIONS)},
    ),
    Field(
        "long_term",
        "string",
        "Long-term direction",
        "Direction of travel against the same quarter a year earlier.",
        constraints={"enum": list(DIRECTIONS)},
    ),
    Field(
        "previous_value",
        "number",
        "Previous value",
        "The figure before the latest one.",
        unit="the unit in the 'unit' column",
    ),
    Field(
        "previous_quarter",
        "string",
        "Quarter of the previous value",
        "The quarter the previous figure belongs to.",
        constraints={"pattern": _QUARTER_PATTERN},
    ),
    Field(
        "last_year_value",
        "number",
        "Value a year earlier",
        "The figure for the same quarter a year earlier.",
        unit="the unit in the 'unit' column",
    ),
)

RISK_FIELDS_OPEN: tuple[Field, ...] = (
    Field(
        "risk_id",
        "string",
        "Risk id",
        "The risk's reference, unique in the register.",
        constraints={**_REQUIRED, "unique": True},
    ),
    Field("title", "string", "Risk", "The risk in a few words.", constraints=_REQUIRED),
    Field("description", "string", "Description", "What could happen and why it matters."),
    Field("owner", "string", "Owner", "The directorate that owns the risk."),
    Field(
        "status",
        "string",
        "Status",
        "open, or closed this quarter.",
        constraints={"enum": ["open", "closed"]},
    ),
    *(
        f
        for stage, what in (
            ("inherent", "before any controls"),
            ("current", "now, with the controls in place"),
            ("target", "once the planned actions are complete"),
        )
        for f in (
            Field(
                f"{stage}_likelihood",
                "integer",
                f"{stage.capitalize()} likelihood",
                f"How likely the risk is {what}: 1 rare, 2 unlikely, 3 possible, 4 likely, "
                "5 almost certain.",
                unit="score from 1 to 5",
                constraints=_ONE_TO_FIVE,
            ),
            Field(
                f"{stage}_impact",
                "integer",
                f"{stage.capitalize()} impact",
                f"How severe its impact would be {what}: 1 insignificant, 2 minor, "
                "3 moderate, 4 major, 5 critical.",
                unit="score from 1 to 5",
                constraints=_ONE_TO_FIVE,
            ),
            Field(
                f"{stage}_score",
                "integer",
                f"{stage.capitalize()} score",
                f"Likelihood times impact {what}.",
                unit="score from 1 to 25",
                constraints=_SCORE,
            ),
            Field(
                f"{stage}_band",
                "string",
                f"{stage.capitalize()} band",
                f"The score's band {what} (Red, Amber or Green, by the thresholds in the "
                "report's rating method).",
                constraints={"enum": list(RISK_BANDS)},
            ),
        )
    ),
    Field(
        "trend",
        "string",
        "Trend",
        "The current score against the previous quarter's: up, "
        "down or same; new this quarter; or closed.",
        constraints={"enum": list(_TREND_WORDS)},
    ),
)


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
    from scorecard_lib.present.sections import SECTION_TITLES

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
                "polarity": _POLARITIES.get(str(d.get("polarity"))),
                "rated_against": _BASES.get(basis),
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


def _resource(
    name: str, path: str, data: bytes, title: str, description: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "title": title,
        "description": description,
        **extra,
        "bytes": len(data),
        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
    }


def _table_resource(
    name: str,
    path: str,
    data: bytes,
    title: str,
    description: str,
    fields: Sequence[Field],
    key: str,
) -> dict[str, Any]:
    return _resource(
        name,
        path,
        data,
        title,
        description,
        type="table",
        format="csv",
        mediatype="text/csv",
        encoding="utf-8",
        schema={
            "fields": [f.schema() for f in fields],
            "primaryKey": [key],
            "missingValues": list(MISSING_VALUES),
        },
    )


def package_descriptor(data: OpenData, files: Mapping[str, bytes]) -> dict[str, Any]:
    """The Frictionless Data Package descriptor for the files ``files`` (name -> bytes)."""
    q = data.quarter
    who = data.council or "The council"
    return {
        "name": f"scorecard-{q.id.lower()}",
        "title": f"Corporate Balanced Scorecard and Corporate Risk Register, {q.prose}",
        "description": (
            f"{who}'s performance indicators and corporate risks for {q.prose} "
            f"({q.period_start.isoformat()} to {q.period_end.isoformat()}), as stated in the "
            f"report '{data.title or 'Corporate Balanced Scorecard'}'. The figures, ratings "
            "and directions of travel are the ones the report states; the rating method is "
            "described in the report's appendix. Missing values are empty cells."
        ),
        "quarter": q.id,
        "quarter_name": q.prose,
        "period_start": q.period_start.isoformat(),
        "period_end": q.period_end.isoformat(),
        **({"publisher": data.council} if data.council else {}),
        "licenses": [dict(LICENCE)],
        "resources": [
            _table_resource(
                "scorecard",
                SCORECARD_CSV,
                files[SCORECARD_CSV],
                f"Scorecard indicators, {q.prose}",
                "One row per indicator in the Scorecard this quarter: the latest figure, "
                "what it is rated against, its rating and direction of travel.",
                SCORECARD_FIELDS,
                "indicator_id",
            ),
            _table_resource(
                "risks",
                RISKS_CSV,
                files[RISKS_CSV],
                f"Corporate risk register, {q.prose}",
                "One row per corporate risk: likelihood, impact, score and band before "
                "controls (inherent), now (current) and once actions are complete (target), "
                "and the trend since the previous quarter.",
                RISK_FIELDS_OPEN,
                "risk_id",
            ),
            _resource(
                "scorecard-spreadsheet",
                ODS_NAME,
                files[ODS_NAME],
                f"Scorecard and risk register spreadsheet, {q.prose}",
                f"The same two tables as {SCORECARD_CSV} and {RISKS_CSV}, as the sheets "
                "'scorecard' and 'risks' of one OpenDocument spreadsheet.",
                type="file",
                format="ods",
                mediatype=ODS_MEDIATYPE,
            ),
        ],
    }


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
