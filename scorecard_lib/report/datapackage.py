"""What the open data says about itself: each column's Table Schema and the Data Package descriptor.

The descriptor (``datapackage.json``) is what lets anyone reuse the open data without reading
our code: every column's type, meaning, unit and allowed values, each file's size and sha256,
the licence and the quarter. It lives apart from the writing of the tables (``opendata.py``)
because it is documentation kept as data: most of it is the wording of the fields below.
``tests/test_opendata.py`` validates the package with frictionless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scorecard_lib.core.formatting import DIRECTIONS, RATINGS, RISK_BANDS

if TYPE_CHECKING:
    from scorecard_lib.report.opendata import OpenData

SCORECARD_CSV = "scorecard.csv"
RISKS_CSV = "risks.csv"
ODS_NAME = "scorecard.ods"
PACKAGE_NAME = "datapackage.json"

LICENCE: dict[str, str] = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
#: What a missing value is in every CSV (and an empty cell in the spreadsheet).
MISSING_VALUES: list[str] = [""]
ODS_MEDIATYPE = "application/vnd.oasis.opendocument.spreadsheet"

_QUARTER_PATTERN = r"^[0-9]{4}-[0-9]{2}-Q[1-4]$"
_TREND_WORDS = ("up", "down", "same", "new", "closed")
#: How the tables word a rating basis and a polarity (the inputs' codes, as a reader says them).
BASIS_WORDS = {"target": "target", "benchmark": "benchmark", "data_only": "not rated"}
POLARITY_WORDS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better"}


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
        constraints={"enum": sorted(POLARITY_WORDS.values())},
    ),
    Field(
        "rated_against",
        "string",
        "Rated against",
        "What the figure is rated against: a "
        "target, a benchmark, or nothing (shown for information, not rated).",
        constraints={"enum": sorted(BASIS_WORDS.values())},
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


# --- the descriptor ------------------------------------------------------------------------


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
