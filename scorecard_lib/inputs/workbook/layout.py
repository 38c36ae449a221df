"""The returns workbook's layout, shared by writing the template and importing it: the sheet
names, the columns of each sheet (heading, width, whether it is filled in) and the format
number that a workbook carries in its hidden sheet, so that import refuses a layout it cannot
read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """One column of a sheet: its data key, heading, width and kind of content."""

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


def column_number(columns: Sequence[Column], key: str) -> int:
    """The 1-based spreadsheet column of ``key`` in a sheet laid out as ``columns``."""
    return next(i for i, c in enumerate(columns, start=1) if c.key == key)
