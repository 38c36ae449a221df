"""Checks across the input tables: what the catalogue says about every other file.

Each file is first checked on its own (:mod:`schemas`); these checks then hold the files to
the catalogue: every indicator id is in it, a value row is for an indicator on the scorecard
that quarter, a rated indicator has its target or benchmark and tolerance, a percentage lies
between 0 and 100. :func:`in_force` answers which indicators are on the scorecard in a quarter
for the rest of the library.
"""

from __future__ import annotations

import pandas as pd

from scorecard_lib.core.errors import Problem, QuarterError
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.values import is_missing

#: Catalogue columns the checks of the other files rely on.
CATALOGUE_KEYS = ("indicator_id", "unit", "rating_basis", "first_quarter", "last_quarter")


def in_force(catalogue: pd.DataFrame, quarter: Quarter) -> pd.Series:
    """Boolean mask: which catalogue rows are on the scorecard in ``quarter``."""
    first = catalogue["first_quarter"].map(lambda s: parse_quarter(s).index)
    last = catalogue["last_quarter"].map(lambda s: parse_quarter(s).index if s else 10**9)
    return (first <= quarter.index) & (quarter.index <= last)


def check_catalogue(cat: pd.DataFrame, name: str, problems: list[Problem]) -> None:
    """The catalogue's own cross-column rules: quarters in order, a rated indicator's tolerance."""
    if {"first_quarter", "last_quarter"} <= set(cat.columns):
        for idx, row in cat.iterrows():
            try:
                first = parse_quarter(str(row["first_quarter"]))
                last = parse_quarter(str(row["last_quarter"])) if row["last_quarter"] else None
            except QuarterError:
                continue  # reported by the schema
            if last is not None and last < first:
                problems.append(
                    Problem(
                        file=name,
                        row=int(idx) + 2,
                        column="last_quarter",
                        value=str(row["last_quarter"]),
                        rule=f"the last quarter is before the first quarter ({first.id})",
                        fix="correct first_quarter or last_quarter",
                    )
                )
    if not {"rating_basis", "tolerance", "tolerance_type"} <= set(cat.columns):
        return
    for idx, row in cat.iterrows():
        if row["rating_basis"] == "data_only":
            continue
        for col in ("tolerance", "tolerance_type"):
            val = row[col]
            if is_missing(val):
                problems.append(
                    Problem(
                        file=name,
                        row=int(idx) + 2,
                        column=col,
                        rule=f"a rated indicator ({row['rating_basis']} basis) needs a {col}",
                        fix="fill it in, or set rating_basis to data_only",
                    )
                )


def check_known_ids(
    df: pd.DataFrame,
    catalogue: pd.DataFrame,
    name: str,
    problems: list[Problem],
    row_offset: int | None = 2,
) -> None:
    """Every indicator id of ``df`` is in the catalogue (``row_offset`` None: a YAML file,
    whose entries have no row number)."""
    if "indicator_id" not in df.columns:
        return  # reported as a missing column
    known = set(catalogue["indicator_id"].dropna())
    for idx, ind in df["indicator_id"].items():
        if ind is not None and ind not in known:
            problems.append(
                Problem(
                    file=name,
                    row=None if row_offset is None else int(idx) + row_offset,
                    column="indicator_id",
                    value=str(ind),
                    rule="this indicator is not in the catalogue",
                    fix="correct the id or add the indicator to catalogue.csv",
                )
            )


def _force_status(catalogue: pd.DataFrame, q: Quarter) -> tuple[set[str], set[str]]:
    """Ids in force in ``q``, and ids whose catalogue quarters cannot be read (reported on the
    catalogue; the other files are not blamed for them)."""
    in_force_ids: set[str] = set()
    unsure: set[str] = set()
    for _, row in catalogue.iterrows():
        ind = row["indicator_id"]
        try:
            first = parse_quarter(str(row["first_quarter"]))
            last = parse_quarter(str(row["last_quarter"])) if row["last_quarter"] else None
        except QuarterError:
            unsure.add(ind)
            continue
        if last is not None and last < first:
            unsure.add(ind)
        elif first <= q and (last is None or q <= last):
            in_force_ids.add(ind)
    return in_force_ids, unsure


#: Units whose figures cannot be negative (the template's data validation uses them too).
NON_NEGATIVE_UNITS = ("per_10000", "percent", "days", "count", "years")


def check_values(
    vals: pd.DataFrame, catalogue: pd.DataFrame, q: Quarter, name: str, problems: list[Problem]
) -> None:
    """One quarter's values against the catalogue: known, in force, rated with a reference,
    within the range of their unit."""
    if "indicator_id" not in vals.columns:
        return
    cat = catalogue.set_index("indicator_id", drop=False)
    cat = cat[~cat.index.duplicated()]
    in_force_ids, unsure = _force_status(catalogue, q)
    for idx, row in vals.iterrows():
        ind = row["indicator_id"]
        r = int(idx) + 2
        if ind is None:
            continue
        if ind not in cat.index:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="indicator_id",
                    value=str(ind),
                    rule="this indicator is not in the catalogue",
                    fix="correct the id or add the indicator to catalogue.csv",
                )
            )
            continue
        if ind not in in_force_ids and ind not in unsure:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="indicator_id",
                    value=str(ind),
                    rule=f"this indicator is not on the scorecard in {q.id}",
                    fix="remove the row or change first_quarter/last_quarter in catalogue.csv",
                )
            )
        d = cat.loc[ind]
        basis = d["rating_basis"]
        if (
            basis in ("target", "benchmark")
            and basis in vals.columns
            and is_missing(row.get(basis))
        ):
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column=basis,
                    rule=f"{ind} is rated against a {basis} but none is given",
                    fix=f"fill in the {basis} (or carry last quarter's)",
                )
            )
        value = row.get("value")
        if is_missing(value):
            continue
        if d["unit"] == "percent" and not 0 <= value <= 100:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="value",
                    value=f"{value:g}",
                    rule="a percentage must be between 0 and 100",
                    fix="write the percentage as a number from 0 to 100",
                )
            )
        elif d["unit"] in NON_NEGATIVE_UNITS and value < 0:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="value",
                    value=f"{value:g}",
                    rule=f"a {d['unit'].replace('_', ' ')} cannot be negative",
                    fix="check the sign of the figure",
                )
            )


__all__ = [
    "CATALOGUE_KEYS",
    "NON_NEGATIVE_UNITS",
    "check_catalogue",
    "check_known_ids",
    "check_values",
    "in_force",
]
