"""pandera schemas for every tabular input, and the translation of their failures into
:class:`~scorecard_lib.core.errors.Problem` records a person can act on (file, row, column,
value, rule, fix).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is
row 2.
"""

from __future__ import annotations

import difflib
import functools
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from scorecard_lib.core.errors import Problem
from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.core.registry import INDICATOR_SECTIONS
from scorecard_lib.core.values import is_missing

if TYPE_CHECKING:
    import pandera.pandas as pa


def _pa() -> Any:
    """pandera, imported when a schema is first needed: a rebuild whose tables all passed
    before (``kept.py``) never validates, and need not pay the 0.1 s import."""
    import pandera.pandas

    return pandera.pandas


UNITS = ("per_10000", "percent", "days", "count", "gbp", "years", "score")
POLARITIES = ("higher_is_better", "lower_is_better")
FREQUENCIES = ("quarterly", "annual", "biennial")
BASES = ("target", "benchmark", "data_only")
TOLERANCE_TYPES = ("relative", "absolute")
SECTIONS = INDICATOR_SECTIONS
OVERRIDE_RATINGS = ("Green", "Amber", "Red")
RISK_STATUSES = ("open", "closed")


def _is_quarter(value: object) -> bool:
    try:
        parse_quarter(str(value))
    except Exception:
        return False
    return True


def _one_of(values: Iterable[str]) -> pa.Check:
    allowed = tuple(values)
    return _pa().Check.isin(allowed, error=f"must be one of: {', '.join(allowed)}")


def _quarter_check() -> pa.Check:
    return _pa().Check(
        lambda s: s.map(_is_quarter),
        element_wise=False,
        error="must be a quarter such as 2016-17-Q4",
    )


@dataclass(frozen=True)
class TableSpec:
    """A tabular input: its columns (each with a function making its pandera column), options
    for the whole table, which columns are numbers, and what each column means (used in
    messages that tell a person how to fix a problem). The pandera schema is built when it is
    first used."""

    fields: Mapping[str, Callable[[], pa.Column]]
    numeric: tuple[str, ...]
    help: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=lambda: {"strict": True})

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.fields)

    @functools.cached_property
    def schema(self) -> pa.DataFrameSchema:
        return _pa().DataFrameSchema({k: make() for k, make in self.fields.items()}, **self.options)


def _text(
    required: bool = True, checks: list[pa.Check] | None = None, optional_column: bool = False
) -> pa.Column:
    return _pa().Column(
        str, checks=checks or [], nullable=not required, required=not optional_column
    )


def _at_most(chars: int) -> pa.Check:
    return _pa().Check(
        lambda s: s.isna() | (s.astype(str).str.len() <= chars),
        error=f"must be at most {chars} characters",
    )


def _has_digit() -> pa.Check:
    """A value as reported ("just over 1,300") still carries its figure in digits."""
    return _pa().Check(
        lambda s: s.isna() | s.astype(str).str.contains(r"[0-9]", regex=True),
        error="must contain the figure in digits",
    )


def _number(
    required: bool = True, checks: list[pa.Check] | None = None, optional_column: bool = False
) -> pa.Column:
    return _pa().Column(
        float, checks=checks or [], nullable=not required, required=not optional_column
    )


def _unique(error: str) -> pa.Check:
    """Every value in the column is different (each repeat is reported, with its row)."""
    return _pa().Check(lambda s: ~s.duplicated(keep=False), error=error)


def _1_to_5() -> list[pa.Check]:
    return [
        _pa().Check(
            lambda s: s.isin([1, 2, 3, 4, 5]) | s.isna(),
            error="must be a whole number from 1 to 5",
        )
    ]


CATALOGUE = TableSpec(
    fields={
        "indicator_id": lambda: _text(checks=[_unique("must be unique")]),
        "name": lambda: _text(),
        "subject": lambda: _text(),
        "theme": lambda: _text(),
        "section": lambda: _text(checks=[_one_of(SECTIONS)]),
        "unit": lambda: _text(checks=[_one_of(UNITS)]),
        "unit_label": lambda: _text(required=False),
        "decimals": lambda: _number(
            checks=[_pa().Check.isin([0, 1, 2, 3], error="must be 0, 1, 2 or 3")]
        ),
        "polarity": lambda: _text(checks=[_one_of(POLARITIES)]),
        "frequency": lambda: _text(checks=[_one_of(FREQUENCIES)]),
        "rating_basis": lambda: _text(checks=[_one_of(BASES)]),
        "tolerance_type": lambda: _text(required=False, checks=[_one_of(TOLERANCE_TYPES)]),
        "tolerance": lambda: _number(
            required=False, checks=[_pa().Check.ge(0, error="must be 0 or more")]
        ),
        "owner": lambda: _text(),
        "source": lambda: _text(),
        "first_quarter": lambda: _text(checks=[_quarter_check()]),
        "last_quarter": lambda: _text(required=False, checks=[_quarter_check()]),
        "description": lambda: _text(required=False),
    },
    numeric=("decimals", "tolerance"),
    help={
        "tolerance": "write a number of 0 or more (percent for 'relative', the indicator's unit "
        "for 'absolute'); leave it empty only for data_only indicators",
        "decimals": "write 0, 1, 2 or 3",
    },
)

VALUES = TableSpec(
    fields={
        "indicator_id": lambda: _text(checks=[_unique("appears twice in this quarter")]),
        "value": lambda: _number(),
        "numerator": lambda: _number(
            required=False,
            optional_column=True,
            checks=[_pa().Check.ge(0, error="must not be negative")],
        ),
        "denominator": lambda: _number(
            required=False,
            optional_column=True,
            checks=[_pa().Check.gt(0, error="must be more than 0")],
        ),
        "period_label": lambda: _pa().Column(str, nullable=True, required=False),
        "target": lambda: _number(required=False),
        "benchmark": lambda: _number(required=False),
        "benchmark_label": lambda: _pa().Column(str, nullable=True, required=False),
        "benchmark_date": lambda: _pa().Column(str, nullable=True, required=False),
        "data_quality": lambda: _pa().Column(str, nullable=True, required=False),
        "reported_as": lambda: _text(
            required=False, optional_column=True, checks=[_at_most(60), _has_digit()]
        ),
    },
    numeric=("value", "numerator", "denominator", "target", "benchmark"),
    help={
        "value": "write a plain number such as 66.3 (no units, % signs or commas)",
        "reported_as": "write the figure as the service reported it, without its unit, "
        "e.g. 'just over 1,300', or leave it empty",
    },
)

RISKS = TableSpec(
    fields={
        "risk_id": lambda: _text(checks=[_unique("appears twice in this quarter")]),
        "title": lambda: _text(),
        "description": lambda: _text(required=False),
        "owner": lambda: _text(),
        "inherent_likelihood": lambda: _number(checks=_1_to_5()),
        "inherent_impact": lambda: _number(checks=_1_to_5()),
        "current_likelihood": lambda: _number(checks=_1_to_5()),
        "current_impact": lambda: _number(checks=_1_to_5()),
        "target_likelihood": lambda: _number(checks=_1_to_5()),
        "target_impact": lambda: _number(checks=_1_to_5()),
        "controls": lambda: _text(required=False),
        "actions": lambda: _text(required=False),
        "action_owner": lambda: _text(required=False),
        "action_due": lambda: _text(required=False),
        "status": lambda: _text(checks=[_one_of(RISK_STATUSES)]),
        "reason": lambda: _text(required=False, optional_column=True, checks=[_at_most(600)]),
    },
    numeric=(
        "inherent_likelihood",
        "inherent_impact",
        "current_likelihood",
        "current_impact",
        "target_likelihood",
        "target_impact",
    ),
    help={
        **{
            f"{when}_likelihood": "write a whole number from 1 (rare) to 5 (almost certain)"
            for when in ("inherent", "current", "target")
        },
        **{
            f"{when}_impact": "write a whole number from 1 (insignificant) to 5 (critical)"
            for when in ("inherent", "current", "target")
        },
        "reason": "say in a sentence or two why the risk is rated as it is, or why its score "
        "changed, or leave it empty",
    },
)

BREAKDOWNS = TableSpec(
    fields={
        "indicator_id": lambda: _text(),
        "dimension": lambda: _text(),
        "category": lambda: _text(),
        "value": lambda: _number(),
    },
    numeric=("value",),
    help={},
    options={"strict": True, "unique": ["indicator_id", "dimension", "category"]},
)

OVERRIDES = TableSpec(
    fields={
        "indicator_id": lambda: _text(checks=[_unique("appears twice")]),
        "rating": lambda: _text(checks=[_one_of(OVERRIDE_RATINGS)]),
        "reason": lambda: _text(),
        "approved_by": lambda: _text(),
    },
    numeric=(),
    help={"reason": "write a sentence saying why the computed rating is overridden"},
)

COMMENTARY = TableSpec(
    fields={
        "indicator_id": lambda: _text(),
        "commentary": lambda: _text(required=False),
        "actions": lambda: _pa().Column(object, nullable=True),
        "author": lambda: _text(required=False),
    },
    numeric=(),
    help={},
)


def _row_number(index: object) -> int | None:
    try:
        return int(index) + 2  # header is row 1
    except (TypeError, ValueError):
        return None


def _blank_to_none(value: object) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def clean_frame(
    raw: pd.DataFrame, spec: TableSpec, file: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Blank cells become missing, number columns become numbers; report text in number cells.

    Rows with every cell blank (blank lines, or ",,,," rows a spreadsheet leaves at the end)
    are dropped; the index keeps each remaining row's place in the file.
    """
    df = raw.copy()
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = pd.Series([_blank_to_none(v) for v in df[col]], index=df.index, dtype=object)
    if len(df.columns):
        df = df[df.notna().any(axis=1)]
    problems: list[Problem] = []
    for col in spec.numeric:
        if col not in df.columns:
            continue
        numbers = pd.to_numeric(df[col], errors="coerce").astype(float)
        numbers = numbers.mask(numbers.abs() == float("inf"))  # "inf", "1e999": not figures
        bad = df[col].notna() & numbers.isna()
        for idx in df.index[bad]:
            problems.append(
                Problem(
                    file=file,
                    row=_row_number(idx),
                    column=col,
                    value=str(df.at[idx, col]),
                    rule="text where a number belongs",
                    fix=spec.help.get(col, "write a plain number (no units, commas or words)"),
                )
            )
        df[col] = numbers.astype(float)
    return df, problems


def spec_name(spec: TableSpec) -> str:
    """The name this module gives ``spec`` (``"VALUES"``...)."""
    for name, value in globals().items():
        if value is spec:
            return name
    raise ValueError("not one of the table specs in scorecard_lib.inputs.schemas")


def validate_frame(
    df: pd.DataFrame, spec: TableSpec, file: str, already: Iterable[Problem] = ()
) -> list[Problem]:
    """Run the pandera schema lazily and translate every failure into a Problem.

    A cell already reported in ``already`` (text in a number column, by :func:`clean_frame`)
    is not reported again as empty.
    """
    try:
        spec.schema.validate(df, lazy=True)
    except _pa().errors.SchemaErrors as exc:
        reported = {(p.row, p.column) for p in already}
        return [
            p
            for p in _problems_from(exc.failure_cases, spec, file, df)
            if not (p.rule == _EMPTY_RULE and (p.row, p.column) in reported)
        ]
    return []


_EMPTY_RULE = "this cell is empty but is required"

#: What to do about a failed check, by the check's error text (before the column's help).
#: Other rows named in a "repeated" rule before the rest are counted.
_OTHER_ROWS = 5
_CHECK_FIXES: dict[str, str] = {
    "must be unique": "give every indicator its own id; delete or rename the repeated row",
    "appears twice in this quarter": "keep one row per id in a quarter: delete the repeated "
    "row or merge the two",
    "appears twice": "keep one row per indicator: delete the repeated row",
}


def _problems_from(
    cases: pd.DataFrame, spec: TableSpec, file: str, df: pd.DataFrame
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[object, ...]] = set()
    rows_of: dict[str, dict[Any, list[int]]] = {}  # column -> value -> its row numbers
    row_sets: dict[str, dict[Any, set[int]]] = {}  # the same row numbers, as sets
    expected = list(spec.columns)
    for case in cases.to_dict("records"):
        check = str(case.get("check"))
        column = case.get("column")
        column = None if is_missing(column) else str(column)
        failure = case.get("failure_case")
        index = case.get("index")
        if check == "column_in_dataframe":
            missing = str(failure)
            extras = [c for c in df.columns if c not in expected]
            close = difflib.get_close_matches(missing, extras, n=1)
            hint = f" (is '{close[0]}' a misspelling of it?)" if close else ""
            key = ("missing", missing)
            if key not in seen:
                seen.add(key)
                problems.append(
                    Problem(
                        file=file,
                        column=missing,
                        rule=f"the column is missing{hint}",
                        fix=f"add a column headed '{missing}' (columns expected: "
                        f"{', '.join(expected)})",
                    )
                )
            continue
        if check == "column_in_schema":
            extra = str(failure)
            close = difflib.get_close_matches(extra, expected, n=1)
            fix = (
                f"rename it to '{close[0]}'"
                if close
                else f"remove it (columns expected: {', '.join(expected)})"
            )
            key = ("extra", extra)
            if key not in seen:
                seen.add(key)
                problems.append(
                    Problem(file=file, column=extra, rule="this column is not expected", fix=fix)
                )
            continue
        if check.startswith(("dtype(", "coerce_dtype(")):
            continue  # numbers are converted (and reported) in clean_frame
        if isinstance(failure, str) and failure.startswith("TypeError("):
            continue
        row = _row_number(index)
        key = (row, column, check)
        if key in seen:
            continue
        seen.add(key)
        if check == "not_nullable":
            rule, value = _EMPTY_RULE, None
        elif check.startswith("multiple_fields_uniqueness"):
            rule, value = "this row repeats another row's key", None
        else:
            rule, value = check, None if failure is None else _fmt(failure)
        if check in _CHECK_FIXES and column in df.columns and failure is not None:
            if column not in rows_of:  # once per column: a repeat on every row stays linear
                rows_of[column], row_sets[column] = {}, {}
                for i, v in df[column].items():
                    rows_of[column].setdefault(v, []).append(_row_number(i))
                row_sets[column] = {v: set(rs) for v, rs in rows_of[column].items()}
            same = rows_of[column].get(failure, [])
            # a few rows, then a count: a value repeated on 5,000 rows must not make 5,000
            # lines of 5,000 row numbers each (nor take time to list them)
            first = list(itertools.islice((r for r in same if r != row), _OTHER_ROWS))
            if first:
                more = len(same) - len(first) - (row in row_sets[column].get(failure, ()))
                shown = ", ".join(str(r) for r in first)
                rule += f" (also in row {shown}" + (f" and {more:,} more)" if more > 0 else ")")
        fix = _CHECK_FIXES.get(check) or spec.help.get(column or "", "correct the value")
        if check == "not_nullable":
            fix = spec.help.get(column or "", "fill it in")
        elif check.startswith("multiple_fields_uniqueness"):
            fix = "keep one row for each combination: delete the repeated row"
        problems.append(Problem(file=file, row=row, column=column, value=value, rule=rule, fix=fix))
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return problems


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
