"""Write the bundled illustrative sample data: ``data/`` and ``params/``.

Once committed, the CSV and YAML files this script writes are the source of truth. Analysts
edit those files directly (in a spreadsheet or text editor) and review the change in git; they
do not edit this script and re-run it. The script stays in the repository only to document how
the illustrative sample was made, and so that the sample can be rebuilt from scratch.

What is real and what is not:

* The figures published in the Cabinet report of 20 July 2017 for Quarter Four 2016/17
  (``shared/seed/cabinet-2017-07-20-scorecard-q4-2016-17.md``) are reproduced exactly: 46
  indicators, 17 green, 10 red of which 5 updated in the quarter; looked after children 66.3
  (previously 60.6, England average 60 at 31/03/2016); child protection plans 43.2 (previously
  38.1, England average 43.1 at 31/03/2016); older people in permanent care home placements just
  over 1,300 (1,304; previously 1,360; target 1,198); sickness absence 8.92 days per person
  (forecast 9.11 the quarter before; target 7; Adult Services highest at 13.36); staff who feel
  the Council has a clear vision 46% (60% in the 2015 survey); and the two red corporate risks.
* England averages for looked after children, child protection plans and children in need are
  the published national figures.
* Everything else (other indicators' values, other quarters, targets, tolerances, risk scores,
  commentary outside the seed's bullets) is invented to be plausible. It is illustrative only.

The script is deterministic: no randomness, no clock, no network. Running it twice gives
byte-identical files (CSV with ``\\n`` line endings, fixed column order, numbers written
without float noise). Before writing, it rates every quarter with the rules in
``docs/data-model.md`` and stops if the seed quarter does not reproduce the published counts.

Usage::

    .venv/bin/python tools/make_sample_data.py            # writes data/ and params/
    .venv/bin/python tools/make_sample_data.py --out DIR  # writes DIR/data and DIR/params
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import textwrap
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))

from scorecard_lib.core.quarters import Quarter, parse_quarter, quarter_range  # noqa: E402

FIRST = parse_quarter("2015-16-Q1")
SEED = parse_quarter("2016-17-Q4")
LAST = parse_quarter("2017-18-Q1")
QUARTERS: list[Quarter] = quarter_range(FIRST, LAST)
QIDS: list[str] = [q.id for q in QUARTERS]
NEW_PLAN = parse_quarter("2017-18-Q1")  # first quarter of the Corporate Plan 2017-22

COUNCIL = "Sample County Council"
TITLE = "Balanced Scorecard Performance and Corporate Risk Update"
SEED_CABINET_DATE = "2017-07-20"

# Owner directorates.
CFC = "Children, Families and Communities"
ADULT = "Adult Services"
EI = "Economy and Infrastructure"
CC = "Commercial and Change"
FIN = "Finance"
PH = "Public Health"

ENGLAND = "England average"

CATALOGUE_COLUMNS = (
    "indicator_id",
    "name",
    "subject",
    "theme",
    "section",
    "unit",
    "unit_label",
    "decimals",
    "polarity",
    "frequency",
    "rating_basis",
    "tolerance_type",
    "tolerance",
    "owner",
    "source",
    "first_quarter",
    "last_quarter",
    "description",
)
VALUES_COLUMNS = (
    "indicator_id",
    "value",
    "numerator",
    "denominator",
    "period_label",
    "target",
    "benchmark",
    "benchmark_label",
    "benchmark_date",
    "data_quality",
)
RISK_COLUMNS = (
    "risk_id",
    "title",
    "description",
    "owner",
    "inherent_likelihood",
    "inherent_impact",
    "current_likelihood",
    "current_impact",
    "target_likelihood",
    "target_impact",
    "controls",
    "actions",
    "action_owner",
    "action_due",
    "status",
)
BREAKDOWN_COLUMNS = ("indicator_id", "dimension", "category", "value")
OVERRIDE_COLUMNS = ("indicator_id", "rating", "reason", "approved_by")

SETTINGS_YAML = """\
risk_bands:            # lowest score of each band; scores 1-25
  red: 15
  amber: 5
direction_threshold_percent: 1.0   # smaller relative changes are "no noticeable change"
# Shown at the top of every report built from this data (leave empty for real data).
notice: >-
  The figures in this report come from an illustrative sample dataset. Only the figures
  published in the Cabinet report of 20 July 2017 for Quarter Four 2016/17 are real;
  everything else is made up to show how the report works.
"""


# =============================================================================================
# Helpers for describing series
# =============================================================================================


def by_year(mapping: dict[int, Any]) -> Callable[[Quarter], Any]:
    """A reference that depends on the financial year (keyed by its starting calendar year)."""
    return lambda q: mapping[q.start_year]


def const(x: Any) -> Callable[[Quarter], Any]:
    return lambda q: x


def per_quarter(items: list[Any]) -> Callable[[Quarter], Any]:
    """One reference per sample quarter, oldest first."""
    assert len(items) == len(QUARTERS)
    return lambda q: items[QIDS.index(q.id)]


def quarterly(values: list[float | None], **extra: Any) -> dict[str, Any]:
    """Quarterly points: one value per sample quarter (None: no row that quarter)."""
    assert len(values) == len(QUARTERS), values
    return {"points": {qid: (v, None) for qid, v in zip(QIDS, values, strict=True)}, **extra}


def dated(points: dict[str, tuple[float, str | None]], **extra: Any) -> dict[str, Any]:
    """Points reported in named quarters only (annual and biennial indicators)."""
    return {"points": dict(points), **extra}


def fy_end(year: int) -> str:
    return f"31/03/{year}"


def prev_quarter_end(q: Quarter) -> str:
    return q.previous().period_end.strftime("%d/%m/%Y")


def quarter_end(q: Quarter) -> str:
    return q.period_end.strftime("%d/%m/%Y")


# =============================================================================================
# The catalogue: 46 indicators in force in 2016-17-Q4
# =============================================================================================
# Each entry: catalogue columns, then 'series' (how the sample values were made).
# Themes: OB Open for Business, CF Children and Families, EN The Environment,
# HW Health and Well-being, OR Organisational.

OB, CF, EN, HW, ORG = (
    "Open for Business",
    "Children and Families",
    "The Environment",
    "Health and Well-being",
    "Organisational",
)

LAC_ENGLAND = {2015: (60, fy_end(2015)), 2016: (60, fy_end(2016)), 2017: (62, fy_end(2017))}
CP_ENGLAND = {2015: (42.9, fy_end(2015)), 2016: (43.1, fy_end(2016)), 2017: (43.3, fy_end(2017))}
CIN_ENGLAND = {
    2015: (337.3, fy_end(2015)),
    2016: (337.7, fy_end(2016)),
    2017: (330.4, fy_end(2017)),
}
# Children aged 0-17 living in the county (illustrative), used for numerators of the rates.
CHILD_POPULATION = {2015: 118400, 2016: 118900, 2017: 119300}


def england(mapping: dict[int, tuple[float, str]]) -> dict[str, Any]:
    return {
        "benchmark": by_year({y: v for y, (v, _) in mapping.items()}),
        "benchmark_date": by_year({y: d for y, (_, d) in mapping.items()}),
        "benchmark_label": ENGLAND,
    }


INDICATORS: list[dict[str, Any]] = [
    # ---------------------------------------------------------------- Open for Business
    {
        "indicator_id": "OB01",
        "name": "Economic output: gross value added (GVA) per head",
        "subject": "Gross value added per head",
        "theme": OB,
        "section": "overview",
        "unit": "gbp",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "data_only",
        "owner": EI,
        "source": "Office for National Statistics, regional gross value added (income approach)",
        "description": "The value of goods and services produced in the county per resident, "
        "a broad measure of the size of the local economy.",
        "series": dated(
            {
                "2015-16-Q3": (22870, "2014"),
                "2016-17-Q3": (23512, "2015 (provisional)"),
            },
            data_quality={"2016-17-Q3": "provisional"},
        ),
    },
    {
        "indicator_id": "OB02",
        "name": "Working-age employment rate (%)",
        "subject": "The working-age employment rate",
        "theme": OB,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 2,
        "owner": EI,
        "source": "Office for National Statistics, Annual Population Survey (via Nomis)",
        "description": "Residents aged 16 to 64 who are in employment, as a percentage of all "
        "residents of that age, over the twelve months to the date shown.",
        "series": quarterly(
            [75.8, 76.4, 76.9, 77.3, 77.1, 77.8, 78.2, 78.6, 78.9],
            benchmark=per_quarter([73.5, 73.7, 73.9, 74.0, 74.2, 74.3, 74.5, 74.6, 74.8]),
            benchmark_label=ENGLAND,
            benchmark_date=prev_quarter_end,
            period_label=lambda q: f"12 months to {prev_quarter_end(q)}",
        ),
    },
    {
        "indicator_id": "OB03",
        "name": "Out-of-work benefit claimants (% of residents aged 16-64)",
        "subject": "The proportion of working-age residents claiming out-of-work benefits",
        "theme": OB,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 0.2,
        "owner": EI,
        "source": "Department for Work and Pensions, claimant count (via Nomis)",
        "description": "Residents aged 16 to 64 claiming out-of-work benefits at the end of the "
        "quarter, as a percentage of all residents of that age.",
        "series": quarterly([1.4, 1.3, 1.3, 1.3, 1.2, 1.2, 1.2, 1.3, 1.4], target=const(1.5)),
    },
    {
        "indicator_id": "OB04",
        "name": "Young people aged 16-24 claiming Jobseeker's Allowance (%)",
        "subject": "The proportion of 16 to 24 year olds claiming Jobseeker's Allowance",
        "theme": OB,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": EI,
        "source": "Department for Work and Pensions, Jobseeker's Allowance claimants (via Nomis)",
        "description": "Residents aged 16 to 24 claiming Jobseeker's Allowance at the end of the "
        "quarter, as a percentage of all residents of that age.",
        "last_quarter": "2016-17-Q4",
        "series": quarterly(
            [1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.2, 1.3, None],
            target=by_year({2015: 1.6, 2016: 1.2}),
        ),
    },
    {
        "indicator_id": "OB05",
        "name": "Premises able to get superfast broadband (%)",
        "subject": "Superfast broadband coverage",
        "theme": OB,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 2,
        "owner": EI,
        "source": "Broadband programme contractor coverage returns",
        "description": "Homes and businesses that can get broadband of at least 24 Mbps, as a "
        "percentage of all premises in the county.",
        "series": quarterly(
            [81.4, 82.6, 83.6, 85.1, 86.4, 88.3, 89.2, 90.6, 91.8],
            # a trajectory that follows the planned roll-out of the programme
            target=per_quarter([81, 82.5, 84, 85, 87, 88.5, 89.5, 90, 92]),
        ),
    },
    {
        "indicator_id": "OB06",
        "name": "New businesses still trading after three years (%)",
        "subject": "The three-year survival rate of new businesses",
        "theme": OB,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 3,
        "owner": EI,
        "source": "Office for National Statistics, Business Demography",
        "description": "Businesses started in the county three years earlier that are still "
        "trading, as a percentage of all businesses started that year.",
        "series": dated(
            {
                "2015-16-Q3": (59.4, "businesses started in 2011"),
                "2016-17-Q3": (61.8, "businesses started in 2012"),
            },
            benchmark=by_year({2015: 57.3, 2016: 60.4}),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/12/2014", 2016: "31/12/2015"}),
        ),
    },
    {
        "indicator_id": "OB07",
        "name": "Apprenticeship starts by county residents",
        "subject": "The number of apprenticeship starts",
        "theme": OB,
        "section": "overview",
        "unit": "count",
        "unit_label": "starts",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 5,
        "owner": EI,
        "source": "Department for Education, further education and skills statistics",
        "description": "Apprenticeships started by residents of the county during the "
        "academic year.",
        "series": dated(
            {
                "2015-16-Q3": (5340, "2014/15 academic year"),
                "2016-17-Q3": (5450, "2015/16 academic year"),
            },
            target=by_year({2015: 5500, 2016: 5700}),
        ),
    },
    {
        "indicator_id": "OB08",
        "name": "Median gross weekly pay of full-time resident employees (£)",
        "subject": "Median weekly pay for full-time workers living in the county",
        "theme": OB,
        "section": "overview",
        "unit": "gbp",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "data_only",
        "owner": EI,
        "source": "Office for National Statistics, Annual Survey of Hours and Earnings",
        "description": "The middle value of gross weekly pay for full-time employees who live "
        "in the county.",
        "series": dated({"2015-16-Q3": (518, "April 2015"), "2016-17-Q3": (530, "April 2016")}),
    },
    {
        "indicator_id": "OB09",
        "name": "Young people aged 18-24 claiming out-of-work benefits (%)",
        "subject": "The proportion of 18 to 24 year olds claiming out-of-work benefits",
        "theme": OB,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": EI,
        "source": "Department for Work and Pensions, claimant count including Universal "
        "Credit (via Nomis)",
        "description": "Residents aged 18 to 24 claiming Jobseeker's Allowance or Universal "
        "Credit because they are out of work, as a percentage of all residents of that age.",
        "first_quarter": "2017-18-Q1",
        "series": quarterly([None] * 8 + [2.1], target=const(2.0)),
    },
    # ---------------------------------------------------------------- Children and Families
    {
        "indicator_id": "CF01",
        "name": "Looked after children per 10,000 children",
        "subject": "The rate of looked after children",
        "theme": CF,
        "section": "childrens_services",
        "unit": "per_10000",
        "unit_label": "per 10,000 children",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 2,
        "owner": CFC,
        "source": "Children's social care case management system; England: Department for "
        "Education, Children looked after in England",
        "description": "Children in the care of the Council at the end of the quarter, per "
        "10,000 children aged under 18 living in the county.",
        "series": quarterly(
            [50.8, 52.9, 54.6, 57.0, 59.6, 61.4, 60.6, 66.3, 68.1],
            population=CHILD_POPULATION,
            **england(LAC_ENGLAND),
        ),
    },
    {
        "indicator_id": "CF02",
        "name": "Children with a child protection plan per 10,000 children",
        "subject": "The rate of children with a child protection plan",
        "theme": CF,
        "section": "childrens_services",
        "unit": "per_10000",
        "unit_label": "per 10,000 children",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "benchmark",
        "tolerance_type": "absolute",
        "tolerance": 0,
        "owner": CFC,
        "source": "Children's social care case management system; England: Department for "
        "Education, Characteristics of children in need",
        "description": "Children subject to a child protection plan at the end of the quarter, "
        "per 10,000 children aged under 18 living in the county.",
        "series": quarterly(
            [31.5, 33.0, 34.2, 35.8, 36.9, 37.4, 38.1, 43.2, 44.0],
            population=CHILD_POPULATION,
            **england(CP_ENGLAND),
        ),
    },
    {
        "indicator_id": "CF03",
        "name": "Children in need per 10,000 children",
        "subject": "The rate of children in need",
        "theme": CF,
        "section": "childrens_services",
        "unit": "per_10000",
        "unit_label": "per 10,000 children",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "data_only",
        "owner": CFC,
        "source": "Children's social care case management system; England: Department for "
        "Education, Characteristics of children in need",
        "description": "Children assessed as needing help from children's social care at the "
        "end of the quarter, per 10,000 children aged under 18.",
        "series": quarterly(
            [298.4, 305.1, 311.7, 309.2, 315.6, 322.8, 329.5, 341.2, 348.0],
            population=CHILD_POPULATION,
            **england(CIN_ENGLAND),
        ),
    },
    {
        "indicator_id": "CF04",
        "name": "16-18 year olds not in education, employment or training (NEET) (%)",
        "subject": "The proportion of 16 to 18 year olds not in education, employment or training",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 0.3,
        "owner": CFC,
        "source": "Client caseload information system (young people's tracking)",
        "description": "Young people of academic age 16 to 18 known not to be in education, "
        "employment or training, as a percentage of all young people of that age.",
        "series": quarterly(
            [3.4, 3.8, 3.1, 2.9, 3.1, 3.4, 2.9, 2.7, 2.8],
            target=by_year({2015: 3.5, 2016: 3.2, 2017: 3.0}),
        ),
    },
    {
        "indicator_id": "CF05",
        "name": "Pupils achieving 5 or more A*-C GCSEs including English and maths (%)",
        "subject": "The proportion of pupils achieving 5 or more good GCSEs including English "
        "and maths",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 3,
        "owner": CFC,
        "source": "Department for Education, GCSE and equivalent results",
        "description": "Pupils at the end of key stage 4 achieving five or more GCSEs at grades "
        "A* to C, including English and mathematics.",
        "last_quarter": "2016-17-Q4",
        "series": dated(
            {
                "2015-16-Q3": (56.8, "2014/15 academic year"),
                "2016-17-Q3": (58.9, "2015/16 academic year"),
            },
            benchmark=by_year({2015: 53.8, 2016: 53.5}),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/08/2015", 2016: "31/08/2016"}),
        ),
    },
    {
        "indicator_id": "CF06",
        "name": "A level attainment: average point score per entry",
        "subject": "The average A level point score per entry",
        "theme": CF,
        "section": "childrens_services",
        "unit": "score",
        "unit_label": "points per entry",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 3,
        "owner": CFC,
        "source": "Department for Education, A level and other 16 to 18 results",
        "description": "The average points achieved for each A level entered by students at "
        "the end of their 16 to 18 study.",
        "series": dated(
            {
                "2015-16-Q3": (29.8, "2014/15 academic year"),
                "2016-17-Q3": (30.4, "2015/16 academic year"),
            },
            benchmark=by_year({2015: 30.2, 2016: 31.1}),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/08/2015", 2016: "31/08/2016"}),
        ),
    },
    {
        "indicator_id": "CF07",
        "name": "Children adopted within 21 months of entering care (%)",
        "subject": "The proportion of children adopted within 21 months of entering care",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CFC,
        "source": "Children's social care case management system; adoption scorecard",
        "description": "Children adopted over the three years shown who moved in with their "
        "adoptive family within 21 months of entering care.",
        "series": dated(
            {
                "2015-16-Q4": (52, "2012-15 three-year average"),
                "2016-17-Q4": (58, "2013-16 three-year average"),
            },
            target=by_year({2015: 55, 2016: 56}),
        ),
    },
    {
        "indicator_id": "CF08",
        "name": "Schools rated good or outstanding by Ofsted (%)",
        "subject": "The proportion of schools rated good or outstanding",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 5,
        "owner": CFC,
        "source": "Ofsted, school inspection outcomes (management information)",
        "description": "Schools in the county whose latest Ofsted inspection judged them good "
        "or outstanding, as a percentage of inspected schools.",
        "series": quarterly(
            [80.5, 80.9, 81.3, 81.8, 82.0, 82.3, 83.0, 83.6, 84.1],
            benchmark=per_quarter([84.0, 84.5, 85.0, 85.5, 86.0, 86.5, 87.0, 87.8, 88.5]),
            benchmark_label=ENGLAND,
            benchmark_date=quarter_end,
        ),
    },
    {
        "indicator_id": "CF09",
        "name": "Re-referrals to children's social care within 12 months (%)",
        "subject": "The proportion of referrals that were re-referrals within 12 months",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": CFC,
        "source": "Children's social care case management system",
        "description": "Referrals in the year to date about a child who had been referred in "
        "the previous 12 months, as a percentage of all referrals.",
        "series": quarterly(
            [24.1, 23.5, 22.8, 21.9, 22.4, 23.6, 23.1, 23.4, 22.7], target=const(22)
        ),
    },
    {
        "indicator_id": "CF10",
        "name": "Care leavers aged 19-21 in education, employment or training (%)",
        "subject": "The proportion of care leavers in education, employment or training",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CFC,
        "source": "Children's social care case management system (leaving care team)",
        "description": "Care leavers aged 19 to 21 the Council is in touch with who are in "
        "education, employment or training.",
        "series": quarterly([46, 48, 49, 51, 52, 50, 53, 55, 54], target=const(50)),
    },
    {
        "indicator_id": "CF11",
        "name": "Eligible two-year-olds taking up funded early education (%)",
        "subject": "Take-up of funded early education by eligible two-year-olds",
        "theme": CF,
        "section": "childrens_services",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CFC,
        "source": "Early years funding system, termly headcount",
        "description": "Two-year-olds entitled to 15 hours of free early education who are "
        "taking up a place, as a percentage of those entitled.",
        "first_quarter": "2016-17-Q3",
        "series": quarterly([None] * 8 + [71.5], target=const(75)),
    },
    {
        "indicator_id": "CF12",
        "name": "Attainment 8: average score per pupil",
        "subject": "The average Attainment 8 score per pupil",
        "theme": CF,
        "section": "childrens_services",
        "unit": "score",
        "unit_label": "points",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 3,
        "owner": CFC,
        "source": "Department for Education, GCSE and equivalent results",
        "description": "Pupils' average score across eight qualifications at the end of key "
        "stage 4, with English and mathematics counted twice.",
        "first_quarter": "2017-18-Q1",
        "series": dated(
            {"2017-18-Q1": (50.1, "2015/16 academic year (baseline)")},
            benchmark=const(49.9),
            benchmark_label=ENGLAND,
            benchmark_date=const("31/08/2016"),
        ),
    },
    # ---------------------------------------------------------------- The Environment
    {
        "indicator_id": "EN01",
        "name": "Principal roads where maintenance should be considered (%)",
        "subject": "The proportion of principal roads where maintenance should be considered",
        "theme": EN,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 0.5,
        "owner": EI,
        "source": "Annual machine survey of road condition (SCANNER)",
        "description": "The length of A roads whose surface condition means maintenance should "
        "be considered, as a percentage of all A roads surveyed.",
        "series": dated(
            {
                "2015-16-Q2": (5.2, "2014/15 survey"),
                "2016-17-Q2": (5.9, "2015/16 survey"),
            },
            target=const(4),
        ),
    },
    {
        "indicator_id": "EN02",
        "name": "Residents satisfied with the condition of roads (%)",
        "subject": "Satisfaction with the condition of roads",
        "theme": EN,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 3,
        "owner": EI,
        "source": "National Highways and Transport Public Satisfaction Survey",
        "description": "Residents who say they are satisfied with the condition of road "
        "surfaces in the county.",
        "series": dated(
            {
                "2015-16-Q3": (36, "2015 NHT survey"),
                "2016-17-Q3": (31, "2016 NHT survey"),
            },
            target=const(38),
        ),
    },
    {
        "indicator_id": "EN03",
        "name": "Household waste collected per head (kg)",
        "subject": "Household waste per head",
        "theme": EN,
        "section": "overview",
        "unit": "count",
        "unit_label": "kg per person",
        "decimals": 0,
        "polarity": "lower_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 1,
        "owner": EI,
        "source": "WasteDataFlow returns (Council and district councils)",
        "description": "Kilograms of household waste collected in the financial year for each "
        "resident of the county.",
        "series": dated(
            {"2015-16-Q2": (541, "2014/15"), "2016-17-Q2": (556, "2015/16")},
            target=const(530),
        ),
    },
    {
        "indicator_id": "EN04",
        "name": "Household waste reused, recycled or composted (%)",
        "subject": "The proportion of household waste reused, recycled or composted",
        "theme": EN,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 3,
        "owner": EI,
        "source": "WasteDataFlow returns (Council and district councils)",
        "description": "Household waste sent for reuse, recycling or composting in the "
        "quarter, as a percentage of all household waste collected.",
        "series": quarterly(
            [43.2, 45.9, 42.8, 42.3, 42.9, 45.5, 42.1, 42.6, 43.5],
            target=const(45),
            data_quality={"2016-17-Q4": "provisional"},
        ),
    },
    {
        "indicator_id": "EN05",
        "name": "Municipal waste sent to landfill (%)",
        "subject": "The proportion of municipal waste sent to landfill",
        "theme": EN,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 3,
        "owner": EI,
        "source": "WasteDataFlow returns (Council and district councils)",
        "description": "Municipal waste disposed of to landfill in the quarter, as a percentage "
        "of all municipal waste.",
        "last_quarter": "2016-17-Q4",
        "series": quarterly(
            [30.5, 28.9, 27.2, 26.4, 24.8, 23.1, 21.9, 18.4, None],
            target=by_year({2015: 30, 2016: 25}),
        ),
    },
    {
        "indicator_id": "EN06",
        "name": "People killed or seriously injured in road collisions",
        "subject": "The number of people killed or seriously injured on the county's roads",
        "theme": EN,
        "section": "overview",
        "unit": "count",
        "unit_label": "people",
        "decimals": 0,
        "polarity": "lower_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 5,
        "owner": EI,
        "source": "Police road collision records (STATS19)",
        "description": "People killed or seriously injured in reported road collisions in the "
        "county during the calendar year.",
        "series": dated(
            {
                "2015-16-Q1": (312, "2014 calendar year"),
                "2016-17-Q1": (298, "2015 calendar year"),
                "2017-18-Q1": (305, "2016 calendar year"),
            },
            target=by_year({2015: 320, 2016: 310, 2017: 300}),
        ),
    },
    # ---------------------------------------------------------------- Health and Well-being
    {
        "indicator_id": "HW01",
        "name": "Gap in life expectancy between the most and least deprived areas (years)",
        "subject": "The gap in life expectancy between the most and least deprived areas",
        "theme": HW,
        "section": "overview",
        "unit": "years",
        "unit_label": "years",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "annual",
        "rating_basis": "data_only",
        "owner": PH,
        "source": "Public Health England, Public Health Outcomes Framework",
        "description": "The difference in male life expectancy at birth between the most and "
        "least deprived tenths of the county's neighbourhoods.",
        "series": dated({"2015-16-Q4": (7.2, "2012-14"), "2016-17-Q4": (7.4, "2013-15")}),
    },
    {
        "indicator_id": "HW02",
        "name": "Households in fuel poverty (%)",
        "subject": "The proportion of households in fuel poverty",
        "theme": HW,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 5,
        "owner": PH,
        "source": "Department for Business, Energy and Industrial Strategy, sub-regional fuel "
        "poverty statistics",
        "description": "Households with fuel costs above the national median that would leave "
        "them below the poverty line (the low income, high costs measure).",
        "series": dated(
            {
                "2015-16-Q1": (10.9, "2013"),
                "2016-17-Q1": (10.1, "2014"),
                "2017-18-Q1": (10.4, "2015"),
            },
            benchmark=by_year({2015: 10.4, 2016: 10.6, 2017: 11.0}),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/12/2013", 2016: "31/12/2014", 2017: "31/12/2015"}),
        ),
    },
    {
        "indicator_id": "HW03",
        "name": "Eligible people aged 40-74 who have had an NHS Health Check (%)",
        "subject": "The proportion of eligible people who have had an NHS Health Check",
        "theme": HW,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 2,
        "owner": PH,
        "source": "NHS Health Check programme returns from GP practices",
        "description": "People aged 40 to 74 who received an NHS Health Check since April 2013, "
        "as a percentage of everyone eligible over the five-year programme.",
        "series": quarterly(
            [28.1, 31.0, 34.2, 37.4, 40.1, 43.0, 46.2, 49.5, 52.3],
            target=per_quarter([28, 31, 34, 37, 40, 43, 46, 49, 52]),
        ),
    },
    {
        "indicator_id": "HW04",
        "name": "Adults who are physically active (%)",
        "subject": "The proportion of adults who are physically active",
        "theme": HW,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 3,
        "owner": PH,
        "source": "Sport England, Active People and Active Lives surveys",
        "description": "Adults doing at least 150 minutes of moderate physical activity a week.",
        "series": dated(
            {
                "2015-16-Q3": (55.9, "2014/15 survey"),
                "2016-17-Q3": (56.5, "2015/16 survey"),
            },
            benchmark=const(57.0),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/03/2015", 2016: "31/03/2016"}),
        ),
    },
    {
        "indicator_id": "HW05",
        "name": "Older people living independently 91 days after leaving hospital (%)",
        "subject": "The proportion of older people still living independently 91 days after "
        "leaving hospital",
        "theme": HW,
        "section": "adult_care",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 3,
        "owner": ADULT,
        "source": "Adult social care case management system",
        "description": "People aged 65 and over discharged from hospital into reablement who "
        "were still living at home 91 days later.",
        "series": quarterly(
            [84.1, 85.6, 86.3, 87.0, None, 86.8, 85.9, 87.4, 86.1], target=const(85)
        ),
    },
    {
        "indicator_id": "HW06",
        "name": "Older people funded in permanent care home placements",
        "subject": "The number of older people funded in permanent care home placements",
        "theme": HW,
        "section": "adult_care",
        "unit": "count",
        "unit_label": "older people",
        "decimals": 0,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 5,
        "owner": ADULT,
        "source": "Adult social care case management system",
        "description": "People aged 65 and over in a residential or nursing home placement "
        "funded by the Council at the end of the quarter.",
        "series": quarterly(
            [1318, 1335, 1342, 1329, 1347, 1371, 1360, 1304, 1289],
            target=by_year({2015: 1250, 2016: 1198, 2017: 1150}),
        ),
    },
    {
        "indicator_id": "HW07",
        "name": "Adult social care users receiving direct payments (%)",
        "subject": "The proportion of adult social care users receiving direct payments",
        "theme": HW,
        "section": "adult_care",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 3,
        "owner": ADULT,
        "source": "Adult social care case management system",
        "description": "People using community-based adult social care services who receive "
        "some or all of their support as a direct payment.",
        "series": quarterly(
            [25.1, 25.8, 26.4, 27.0, 27.3, 27.9, 28.2, 28.4, 28.8],
            target=by_year({2015: 28, 2016: 30, 2017: 30}),
        ),
    },
    {
        "indicator_id": "HW08",
        "name": "Adult safeguarding enquiries completed within timescale (%)",
        "subject": "The proportion of adult safeguarding enquiries completed on time",
        "theme": HW,
        "section": "adult_care",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": ADULT,
        "source": "Adult social care case management system",
        "description": "Adult safeguarding enquiries concluded in the quarter that were "
        "completed within the timescale set in the county's procedures.",
        "series": quarterly(
            [72.4, 75.1, 77.8, 79.3, 80.6, 81.2, 78.4, 76.9, 78.8],
            target=by_year({2015: 75, 2016: 80, 2017: 80}),
        ),
    },
    {
        "indicator_id": "HW09",
        "name": "Adult social care users who feel safe (%)",
        "subject": "The proportion of adult social care users who feel safe",
        "theme": HW,
        "section": "adult_care",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 3,
        "owner": ADULT,
        "source": "Adult Social Care Survey (NHS Digital)",
        "description": "People who use adult social care services who say they feel as safe "
        "as they want.",
        "series": dated(
            {
                "2015-16-Q3": (70.1, "2014/15 survey"),
                "2016-17-Q3": (71.6, "2015/16 survey"),
            },
            benchmark=by_year({2015: 68.5, 2016: 69.2}),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/03/2015", 2016: "31/03/2016"}),
        ),
    },
    {
        "indicator_id": "HW10",
        "name": "Adults with learning disabilities in paid employment (%)",
        "subject": "The proportion of adults with learning disabilities in paid employment",
        "theme": HW,
        "section": "adult_care",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "benchmark",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": ADULT,
        "source": "Short and Long Term support return (NHS Digital)",
        "description": "Adults aged 18 to 64 with a learning disability, known to adult social "
        "care, who are in paid work.",
        "series": dated(
            {
                "2015-16-Q3": (5.5, "2014/15"),
                "2016-17-Q3": (5.6, "2015/16"),
            },
            benchmark=by_year({2015: 6.0, 2016: 5.8}),
            benchmark_label=ENGLAND,
            benchmark_date=by_year({2015: "31/03/2015", 2016: "31/03/2016"}),
        ),
    },
    {
        "indicator_id": "HW11",
        "name": "Adult social care contacts resolved at first point of contact (%)",
        "subject": "The proportion of adult social care contacts resolved at first contact",
        "theme": HW,
        "section": "adult_care",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "data_only",
        "owner": ADULT,
        "source": "Adult social care case management system (Access Centre)",
        "description": "New contacts with adult social care resolved with information, advice "
        "or a connection to community support, without a referral for assessment.",
        "first_quarter": "2017-18-Q1",
        "series": quarterly([None] * 8 + [64.2]),
    },
    # ---------------------------------------------------------------- Organisational
    {
        "indicator_id": "OR01",
        "name": "Sickness absence: average days per person (FTE)",
        "subject": "Sickness absence",
        "theme": ORG,
        "section": "workforce",
        "unit": "days",
        "unit_label": "days per person",
        "decimals": 2,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": CC,
        "source": "HR and payroll system, absence records",
        "description": "Working days lost to sickness in the financial year per full-time "
        "equivalent employee; during the year, the forecast for the year end.",
        "series": quarterly(
            [8.6, 8.8, 8.95, 8.79, 8.7, 9.02, 9.11, 8.92, 8.85],
            target=by_year({2015: 7.5, 2016: 7, 2017: 7}),
            period_label=lambda q: f"{q.fy} year end" if q.q == 4 else "year end forecast",
            data_quality=lambda q: None if q.q == 4 else "forecast",
        ),
    },
    {
        "indicator_id": "OR02",
        "name": "Staff appraisals completed (%)",
        "subject": "The proportion of staff appraisals completed",
        "theme": ORG,
        "section": "workforce",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CC,
        "source": "HR and payroll system, appraisal records",
        "description": "Employees who had an appraisal in the annual cycle ending in July, as "
        "a percentage of employees due one.",
        "series": dated(
            {
                "2015-16-Q2": (84, "2015 appraisal cycle"),
                "2016-17-Q2": (79, "2016 appraisal cycle"),
            },
            target=const(95),
        ),
    },
    {
        "indicator_id": "OR03",
        "name": "Staff who feel the Council has a clear vision for the future (%)",
        "subject": "The proportion of staff who feel the Council has a clear vision for the future",
        "theme": ORG,
        "section": "workforce",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "biennial",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CC,
        "source": "Council staff survey",
        "description": "Staff who strongly or moderately agree that the Council has a clear "
        "vision for the future.",
        "series": dated(
            {"2015-16-Q4": (60, "2015 staff survey"), "2016-17-Q4": (46, "2017 staff survey")},
            target=by_year({2015: 55, 2016: 60}),
        ),
    },
    {
        "indicator_id": "OR04",
        "name": "Staff turnover, rolling 12 months (%)",
        "subject": "Staff turnover",
        "theme": ORG,
        "section": "workforce",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "data_only",
        "owner": CC,
        "source": "HR and payroll system",
        "description": "Employees who left the Council in the last 12 months, as a percentage "
        "of the average number employed.",
        "series": quarterly([11.2, 11.8, 12.1, 12.6, 12.9, 13.4, 13.1, 13.8, 14.0]),
    },
    {
        "indicator_id": "OR05",
        "name": "Spend on agency staff in the quarter (£)",
        "subject": "Spend on agency staff",
        "theme": ORG,
        "section": "workforce",
        "unit": "gbp",
        "unit_label": "",
        "decimals": 0,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": CC,
        "source": "Financial ledger, agency staffing contract",
        "description": "Money spent on temporary staff supplied by agencies during the quarter.",
        "series": quarterly(
            [1385000, 1452000, 1398000, 1511000, 1476000, 1533000, 1602000, 1587000, 1549000],
            target=const(1500000),
        ),
    },
    {
        "indicator_id": "OR06",
        "name": "Staff who are proud to work for the Council (%)",
        "subject": "The proportion of staff who are proud to work for the Council",
        "theme": ORG,
        "section": "workforce",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "biennial",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CC,
        "source": "Council staff survey",
        "description": "Staff who strongly or moderately agree that they are proud to work for "
        "the Council.",
        "series": dated(
            {"2015-16-Q4": (68, "2015 staff survey"), "2016-17-Q4": (61, "2017 staff survey")},
            target=const(65),
        ),
    },
    {
        "indicator_id": "OR07",
        "name": "Debtor days",
        "subject": "Debtor days",
        "theme": ORG,
        "section": "overview",
        "unit": "days",
        "unit_label": "days",
        "decimals": 0,
        "polarity": "lower_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10,
        "owner": FIN,
        "source": "Financial ledger, sundry debtors",
        "description": "The average number of days the Council takes to collect money it is "
        "owed for services it has invoiced.",
        "series": quarterly([32, 31, 29, 33, 30, 28, 27, 26, 29], target=const(30)),
    },
    {
        "indicator_id": "OR08",
        "name": "Residents satisfied with their local area as a place to live (%)",
        "subject": "Satisfaction with the local area as a place to live",
        "theme": ORG,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 2,
        "owner": CC,
        "source": "Council residents' survey (Viewpoint panel)",
        "description": "Residents who say they are very or fairly satisfied with their local "
        "area as a place to live.",
        "series": dated(
            {
                "2015-16-Q2": (81, "2015 residents' survey"),
                "2016-17-Q2": (79, "2016 residents' survey"),
            },
            target=const(85),
        ),
    },
    {
        "indicator_id": "OR09",
        "name": "Undisputed invoices paid within 30 days (%)",
        "subject": "The proportion of invoices paid within 30 days",
        "theme": ORG,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": FIN,
        "source": "Financial ledger, accounts payable",
        "description": "Undisputed supplier invoices paid within 30 days of receipt in the "
        "quarter.",
        "series": quarterly(
            [88.2, 90.4, 91.1, 92.0, 91.5, 89.3, 92.4, 93.1, 92.2], target=const(90)
        ),
    },
    {
        "indicator_id": "OR10",
        "name": "Residents who feel well informed about Council services (%)",
        "subject": "The proportion of residents who feel well informed about Council services",
        "theme": ORG,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 0,
        "polarity": "higher_is_better",
        "frequency": "annual",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CC,
        "source": "Council residents' survey (Viewpoint panel)",
        "description": "Residents who say they feel very or fairly well informed about the "
        "services and benefits the Council provides.",
        "series": dated(
            {
                "2015-16-Q2": (57, "2015 residents' survey"),
                "2016-17-Q2": (56, "2016 residents' survey"),
            },
            target=const(60),
        ),
    },
    {
        "indicator_id": "OR11",
        "name": "Freedom of information requests answered within 20 working days (%)",
        "subject": "The proportion of freedom of information requests answered on time",
        "theme": ORG,
        "section": "overview",
        "unit": "percent",
        "unit_label": "",
        "decimals": 1,
        "polarity": "higher_is_better",
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "absolute",
        "tolerance": 5,
        "owner": CC,
        "source": "Information governance case log",
        "description": "Requests under the Freedom of Information Act and Environmental "
        "Information Regulations answered within the 20 working days the law allows.",
        "series": quarterly(
            [86.2, 88.9, 91.3, 90.5, 92.0, 89.1, 91.8, 93.4, 92.7], target=const(90)
        ),
    },
]

# Sickness by directorate in 2016-17-Q4 (Adult Services is the seed's figure); other
# quarters scale these in proportion to the council-wide figure.
SICKNESS_Q4 = {
    ADULT: 13.36,
    CFC: 10.48,
    EI: 7.85,
    CC: 6.12,
    FIN: 5.47,
    PH: 4.21,
}

# Annual and biennial figures published before the sample starts: the 2015-16-Q1 file carries
# each one as the baseline the scorecard started from, so the first quarter's report is not
# mostly "No data". Each: (value, period it refers to, references recorded with it).
BASELINE_QUARTER = FIRST.id
BASELINE_NOTE = "baseline from the previous scorecard"
BASELINES: dict[str, tuple[float, str, dict[str, Any]]] = {
    "OB01": (22240, "2013", {}),
    "OB06": (
        58.1,
        "businesses started in 2010",
        {"benchmark": 55.9, "benchmark_date": "31/12/2013"},
    ),
    "OB07": (5210, "2013/14 academic year", {"target": 5300}),
    "OB08": (509, "April 2014", {}),
    "CF05": (55.2, "2013/14 academic year", {"benchmark": 53.4, "benchmark_date": "31/08/2014"}),
    "CF06": (29.5, "2013/14 academic year", {"benchmark": 29.9, "benchmark_date": "31/08/2014"}),
    "CF07": (51, "2011-14 three-year average", {"target": 55}),
    "EN01": (4.8, "2013/14 survey", {}),
    "EN02": (38, "2014 NHT survey", {}),
    "EN03": (534, "2013/14", {}),
    "HW01": (7.0, "2011-13", {}),
    "HW04": (55.1, "2013/14 survey", {"benchmark": 56.0, "benchmark_date": "31/03/2014"}),
    "HW09": (68.9, "2013/14 survey", {"benchmark": 66.0, "benchmark_date": "31/03/2014"}),
    "HW10": (5.4, "2013/14", {"benchmark": 5.9, "benchmark_date": "31/03/2014"}),
    "OR02": (88, "2014 appraisal cycle", {}),
    "OR03": (57, "2013 staff survey", {}),
    "OR06": (66, "2013 staff survey", {}),
    "OR08": (84, "2014 residents' survey", {}),
    "OR10": (58, "2014 residents' survey", {}),
}

OVERRIDES: dict[str, list[dict[str, str]]] = {
    "2016-17-Q2": [
        {
            "indicator_id": "HW08",
            "rating": "Amber",
            "reason": "An audit of case files found enquiries marked as concluded before the "
            "outcome had been recorded, so the figure overstates timeliness; shown as amber "
            "until the records are corrected and re-checked in Quarter Three.",
            "approved_by": "Director of Adult Services",
        }
    ]
}


# =============================================================================================
# Commentary
# =============================================================================================
# Keyed by quarter then indicator; 'default' entries apply to any quarter without its own.
# Each value: (commentary paragraphs separated by a blank line, [actions]).

Entry = tuple[str, list[str]]

COMMENTARY_BY_QUARTER: dict[str, dict[str, Entry]] = {
    "2016-17-Q4": {
        "CF01": (
            "Since the Ofsted inspection, children's services have brought in new processes "
            "that give senior managers closer oversight of, and responsibility for, decisions "
            "about children coming into care. A resources panel meets every week to check "
            "that the resources allocated are being used well.",
            [
                "Develop the Edge of Care strategy and the support offered to children and "
                "families, so that children can remain safely with their parents or wider "
                "family where that is in their interest.",
                "Deliver the comprehensive service improvement plan for children's social "
                "care, whose eight key priorities together aim to raise the quality of services "
                "to children and families and so improve children's outcomes.",
            ],
        ),
        "CF02": (
            "The number of children on child protection plans has risen markedly since the end "
            "of June, taking the rate just above the England average.\n\n"
            "We expect the number of children on plans to settle and then fall over the next "
            "nine months, with a better balance between children in need and children on "
            "child protection plans.",
            [
                "Review the thresholds for holding an Initial Child Protection Conference, so "
                "that the right children are made subject to plans.",
                "Scrutinise closely every plan where a child has been subject to a plan for more "
                "than 12 months.",
                "Independent consultants have been asked to examine decisions to go to an "
                "Initial Child Protection Conference and the outcomes of conferences, as part "
                "of the improvement programme.",
            ],
        ),
        "HW06": (
            "The number of placements fell between December and March but remains above "
            "target. Nursing home placements have stayed level, while admissions to "
            "residential care have fallen.\n\n"
            "Extra Care housing is being developed as an alternative to residential care and "
            "the number of people using it is rising: it went up by 20 in the last month "
            "alone. Against this, compulsory situations, where the Council has to take on "
            "the funding of an existing placement, have increased over the past year.",
            [
                "Continue to develop Extra Care housing as an alternative to residential care.",
                "Analyse the data during Quarter One 2017/18 to see what effect the Three "
                "Conversations model is having on admissions to care homes.",
            ],
        ),
        "OR01": (
            "The year-end figure is better than the forecast made at the end of December but "
            "still well above the 7-day target. Adult Services had the highest sickness "
            "absence of any directorate, at 13.36 days per person.",
            [
                "Improve the sickness absence report and challenge managers to act sooner.",
                "Work with the occupational health provider so that it supports managers more "
                "effectively.",
                "Target support at managers in the parts of the Council with the highest "
                "sickness absence.",
                "Review trends in absence.",
                "Deliver training for managers.",
            ],
        ),
        "OR03": (
            "In the 2017 staff survey, 46% of staff strongly or moderately agreed that the "
            "Council has a clear vision for the future, down from 60% in the 2015 survey.",
            [
                "Run sessions for staff at a range of locations during Quarter One 2017/18 to "
                "find out what lies behind the fall and what would make the vision clearer.",
                "Let staff feedback shape what follows, which is likely to include revisiting "
                "how the Corporate Plan is communicated.",
            ],
        ),
        "CF07": (
            "Performance over the three years to March 2016 is above target, helped by "
            "earlier planning for permanence.",
            ["Keep early permanence planning under review at the monthly permanence panel."],
        ),
        "EN04": (
            "The figure is provisional until the district councils' waste returns are "
            "verified. Winter quarters usually show lower rates because little garden waste "
            "is collected.",
            ["Confirm the final figure when the verified returns are received in June."],
        ),
        "HW08": (
            "Timeliness has dipped for a second quarter. A small number of complex enquiries "
            "involving several agencies took longer to conclude.",
            [
                "Team managers to review every open enquiry older than 28 days each week.",
                "Agree escalation routes with partner agencies for delayed information.",
            ],
        ),
        "OR06": (
            "The proportion of staff proud to work for the Council fell in the 2017 staff "
            "survey but remains within the tolerance of the target.",
            ["Cover pride in the organisation in the Quarter One 2017/18 staff sessions."],
        ),
    },
    "2015-16-Q1": {
        "EN01": (
            "This is the baseline from the 2013/14 road condition survey, carried over from the "
            "previous scorecard. The 2014/15 survey results are due in the autumn.",
            ["Agree the principal road resurfacing programme for 2015/16."],
        ),
        "OR02": (
            "This is the baseline from the 2014 appraisal cycle. The 2015 cycle closes at the "
            "end of July.",
            ["Remind managers of the July deadline for completing appraisals."],
        ),
    },
    "2016-17-Q3": {
        "EN02": (
            "Satisfaction with road condition fell in the 2016 National Highways and Transport "
            "survey, in line with falls reported by many other councils taking part.",
            [
                "Publish the resurfacing and patching programme for 2017/18 so that residents "
                "can see what work is planned near them.",
                "Use the survey results by district to help prioritise the programme.",
            ],
        ),
        "CF01": (
            "The rate has eased slightly since September but remains just above the England "
            "average. Care proceedings issued during the summer have now concluded for a "
            "number of children.",
            ["Continue to review all new admissions to care at the weekly resources panel."],
        ),
    },
    "2016-17-Q2": {
        "CF01": (
            "The rate of looked after children has continued to rise and is now above the "
            "England average. More children entered care following care proceedings, and "
            "fewer children left care than in the same period last year.",
            [
                "Introduce a weekly resources panel, chaired by a senior manager, to oversee "
                "every decision to bring a child into care.",
                "Review the plans of all children in care for less than six months to check "
                "whether a safe return home is possible.",
            ],
        ),
    },
    "2017-18-Q1": {
        "CF01": (
            "The rate has risen again and remains above the England average, which has itself "
            "increased to 62 per 10,000 at 31 March 2017. Senior managers continue to review "
            "every decision for a child to come into care.",
            [
                "Complete the Edge of Care strategy and begin commissioning the new support "
                "offer for families.",
                "Report progress on the eight priorities of the improvement plan to the "
                "Improvement Board each month.",
            ],
        ),
        "CF02": (
            "The rate has risen a little further. The independent consultants have reported "
            "on decision-making at Initial Child Protection Conferences and their "
            "recommendations are being put in place.",
            [
                "Apply the revised thresholds for Initial Child Protection Conferences from July.",
                "Continue monthly scrutiny of plans lasting more than 12 months.",
            ],
        ),
        "HW06": (
            "Placements fell again this quarter but remain above the lower target for 2017/18. "
            "It is too early to see a clear effect of the Three Conversations model on "
            "admissions; the first analysis suggests fewer people are going on to long-term "
            "support after their first contact.",
            [
                "Extend the Three Conversations model to the remaining adult social care teams.",
                "Continue to increase the number of Extra Care housing places.",
            ],
        ),
        "OR01": (
            "The forecast for 2017/18 is below last year's outturn but remains above target.",
            [
                "Continue the steps agreed in Quarter Four 2016/17 (earlier challenge to "
                "managers, better occupational health support and training for managers).",
                "Report the results of the review of absence trends to the Corporate "
                "Leadership Team.",
            ],
        ),
        "CF12": (
            "Attainment 8 replaces the 5 A*-C GCSE measure on the new scorecard. The figure "
            "shown is the 2015/16 baseline; results for 2016/17 are expected in October.",
            ["Set a target for 2017/18 once the provisional national results are published."],
        ),
        "HW11": (
            "A new measure for the Corporate Plan 2017-22, reported for information while a "
            "baseline is established.",
            ["Propose a target for 2018/19 once four quarters of data are available."],
        ),
    },
}

COMMENTARY_DEFAULT: dict[str, dict[int, Entry]] = {
    # keyed by the financial year's starting calendar year
    "HW06": {
        2015: (
            "The number of placements remains above the target for the year. Demand is driven "
            "by the growing number of people aged 85 and over and by more people with complex "
            "needs after a stay in hospital.",
            [
                "Expand reablement so that more people return home after a hospital stay.",
                "Review every new permanent placement at the weekly placement panel.",
            ],
        ),
        2016: (
            "Placements have not come down in line with the lower target for 2016/17. More "
            "people are moving from hospital directly into permanent care, and compulsory "
            "situations, where the Council takes over funding of an existing self-funded "
            "placement, are increasing.",
            [
                "Work with the hospital trusts to reduce direct admissions to permanent care "
                "from hospital.",
                "Increase the number of Extra Care housing places available as an alternative "
                "to residential care.",
                "Prepare to introduce the Three Conversations model for adult social care.",
            ],
        ),
    },
    "OR01": {
        2015: (
            "Sickness absence is above target. Musculoskeletal problems and stress, anxiety "
            "and depression account for most of the days lost.",
            [
                "Managers to hold a return-to-work interview after every absence.",
                "Promote the employee assistance programme and stress risk assessments.",
            ],
        ),
        2016: (
            "The forecast for the year end remains above the 7-day target. Absence is highest "
            "in Adult Services.",
            [
                "Send managers a monthly absence report for their teams.",
                "Refer long-term absence cases to occupational health earlier.",
            ],
        ),
    },
    "EN01": {
        2015: (
            "The annual survey shows more of the A-road network in need of maintenance than "
            "the target allows.",
            [
                "Deliver the principal road resurfacing programme.",
                "Use the highways asset management plan to target preventative treatments such "
                "as surface dressing.",
            ],
        ),
        2016: (
            "Road condition has worsened again. Capital funding for highways is being directed "
            "to the roads in the poorest condition, guided by the asset management plan.",
            [
                "Bring forward surface dressing on A roads to prevent further deterioration.",
                "Bid for national challenge funding for major road maintenance.",
            ],
        ),
    },
    "EN03": {
        2015: (
            "Household waste per head rose with the growing number of households and a "
            "stronger local economy.",
            ["Run a waste reduction campaign with the district councils."],
        ),
        2016: (
            "Household waste per head has risen again and is further from target.",
            [
                "Relaunch the home composting offer with the district councils.",
                "Expand reuse at household recycling centres.",
            ],
        ),
    },
    "OR02": {
        2015: (
            "Completion of appraisals fell short of target; several teams finished their "
            "appraisals late because of restructures.",
            ["Send directors a monthly list of outstanding appraisals."],
        ),
        2016: (
            "Fewer appraisals were completed than last year. Restructuring in several services "
            "delayed the cycle.",
            [
                "Send directors a monthly list of outstanding appraisals.",
                "Simplify the appraisal form for the 2017 cycle.",
            ],
        ),
    },
    "OR08": {
        2015: (
            "Satisfaction with the local area is below target in the 2015 residents' survey.",
            ["Analyse the results by district to find where satisfaction is lowest."],
        ),
        2016: (
            "Satisfaction with the local area fell slightly in the 2016 residents' survey.",
            [
                "Share the district-level results with partners through the county's "
                "partnership board.",
                "Add questions to the 2017 survey on what would most improve local areas.",
            ],
        ),
    },
}


# =============================================================================================
# Corporate Risk Register
# =============================================================================================
# 'current' gives (likelihood, impact) for each sample quarter, oldest first; None: not on the
# register that quarter. 'closed_in' names the quarter a risk closed (its last row).

RISKS: list[dict[str, Any]] = [
    {
        "risk_id": "CRR01",
        "title": "Serious harm or death due to a failure on the part of the Council",
        "description": "A child or adult at risk suffers serious harm or dies because the "
        "Council's safeguarding arrangements fail or are not followed.",
        "owner": CFC,
        "inherent": (4, 5),
        "current": [(2, 5)] * 7 + [(3, 5), (3, 5)],
        "target": (2, 5),
        "controls": "Local Safeguarding Children Board and Adults Board; multi-agency "
        "safeguarding hub; case file audits; supervision policy for social workers",
        "actions": "Review the multi-agency safeguarding hub; continue the monthly case file "
        "audit programme",
        "actions_from": {
            "2016-17-Q4": "Deliver the children's services improvement plan; senior "
            "management sign-off of decisions on children entering care; weekly resources "
            "panel; report progress monthly to the Improvement Board",
        },
        "action_owner": "Director of Children, Families and Communities",
    },
    {
        "risk_id": "CRR02",
        "title": "Demographic changes lead to changed demand for services",
        "description": "Growth in the number of older people and of children needing support "
        "raises demand for services faster than resources allow.",
        "owner": ADULT,
        "inherent": (5, 4),
        "current": [(3, 4)] * 5 + [(4, 4)] * 4,
        "target": (3, 4),
        "controls": "Medium-term financial plan demand assumptions; joint strategic needs "
        "assessment; market position statement for care providers",
        "actions": "Develop Extra Care housing; introduce the Three Conversations model; "
        "update demand forecasts in the medium-term financial plan",
        "action_owner": "Director of Adult Services",
    },
    {
        "risk_id": "CRR03",
        "title": "The Council cannot set and deliver a balanced budget",
        "description": "Savings are not delivered or funding falls faster than planned, so "
        "the Council cannot balance its budget over the medium term.",
        "owner": FIN,
        "inherent": (5, 5),
        "current": [(3, 4)] * 9,
        "target": (2, 4),
        "controls": "Medium-term financial plan; monthly budget monitoring reported to "
        "Cabinet; savings tracker; general reserves policy",
        "actions": "Track delivery of each savings programme monthly; refresh the medium-term "
        "financial plan for the next budget round",
        "action_owner": "Chief Financial Officer",
    },
    {
        "risk_id": "CRR04",
        "title": "A cyber attack or major IT failure disrupts Council services",
        "description": "Malicious software, hacking or failure of key systems stops services "
        "working or exposes data.",
        "owner": CC,
        "inherent": (4, 5),
        "current": [(3, 4)] * 8 + [(4, 4)],
        "target": (2, 4),
        "controls": "Firewalls and anti-virus; Public Services Network compliance; patching "
        "schedule; off-site backups",
        "actions": "Test disaster recovery for critical systems; run staff awareness on phishing",
        "actions_from": {
            "2017-18-Q1": "Apply all outstanding security patches following the May 2017 "
            "ransomware attacks; test disaster recovery for critical systems; run staff "
            "awareness on phishing",
        },
        "action_owner": "Head of ICT",
    },
    {
        "risk_id": "CRR05",
        "title": "Personal information is lost or misused",
        "description": "Personal data held by the Council is disclosed, lost or used "
        "unlawfully, harming residents and leading to fines.",
        "owner": CC,
        "inherent": (4, 4),
        "current": [(3, 3)] * 8 + [(3, 4)],
        "target": (2, 3),
        "controls": "Information governance policies; mandatory data protection training; "
        "secure email; breach reporting procedure",
        "actions": "Raise completion of data protection training to 95%; audit information "
        "sharing agreements",
        "actions_from": {
            "2017-18-Q1": "Prepare for the General Data Protection Regulation by May 2018; "
            "raise completion of data protection training to 95%",
        },
        "action_owner": "Senior Information Risk Owner",
    },
    {
        "risk_id": "CRR06",
        "title": "A major disruption stops critical services",
        "description": "Loss of buildings, staff, power or suppliers prevents the Council from "
        "delivering its most critical services.",
        "owner": CC,
        "inherent": (4, 4),
        "current": [(2, 4)] * 9,
        "target": (2, 3),
        "controls": "Business continuity plans for critical services; alternative work "
        "locations; remote working",
        "actions": "Exercise business continuity plans for critical services annually",
        "action_owner": "Head of Emergency Planning",
    },
    {
        "risk_id": "CRR07",
        "title": "The Council cannot recruit and keep staff with the right skills",
        "description": "Shortages of social workers and other specialists leave teams unable "
        "to meet demand or depend on costly agency staff.",
        "owner": CC,
        "inherent": (4, 4),
        "current": [(3, 3)] * 4 + [(3, 4)] * 5,
        "target": (2, 3),
        "controls": "Workforce strategy; market supplements for hard-to-fill posts; "
        "graduate and apprenticeship schemes",
        "actions": "Launch a social worker recruitment campaign; reduce reliance on agency staff",
        "action_owner": "Head of Human Resources",
    },
    {
        "risk_id": "CRR08",
        "title": "A health and safety failure injures staff or the public",
        "description": "Council activities or premises cause injury because safety "
        "arrangements are inadequate or not followed.",
        "owner": CC,
        "inherent": (4, 5),
        "current": [(2, 4)] * 4 + [(2, 3)] * 5,
        "target": (2, 3),
        "controls": "Health and safety policy; risk assessments; accident reporting and "
        "investigation; property compliance checks",
        "actions": "Complete the programme of property compliance checks",
        "action_owner": "Head of Health and Safety",
    },
    {
        "risk_id": "CRR09",
        "title": "A major contract or supplier fails",
        "description": "A key contractor or care provider fails or cannot deliver, "
        "interrupting services.",
        "owner": CC,
        "inherent": (4, 4),
        "current": [(2, 4)] * 6 + [(3, 4)] * 3,
        "target": (2, 4),
        "controls": "Contract management framework; financial checks on key suppliers; "
        "provider failure contingency plans",
        "actions": "Review contingency plans for the largest care providers; monitor "
        "suppliers' financial health quarterly",
        "action_owner": "Head of Commissioning",
    },
    {
        "risk_id": "CRR10",
        "title": "Highways infrastructure deteriorates",
        "description": "Roads, bridges and drainage deteriorate faster than they can be "
        "maintained, raising safety risks and repair costs.",
        "owner": EI,
        "inherent": (4, 4),
        "current": [(3, 3)] * 5 + [(3, 4)] * 4,
        "target": (2, 3),
        "controls": "Highways asset management plan; safety inspections; capital "
        "maintenance programme",
        "actions": "Target capital funding at the roads in the poorest condition; bid for "
        "national challenge funding",
        "action_owner": "Head of Highways",
    },
    {
        "risk_id": "CRR11",
        "title": "Health and social care integration does not deliver the planned benefits",
        "description": "Joint work with the NHS under the Better Care Fund and the "
        "Sustainability and Transformation Plan does not reduce pressure on services.",
        "owner": ADULT,
        "inherent": (4, 4),
        "current": [(3, 3)] * 3 + [(3, 4)] * 6,
        "target": (2, 3),
        "controls": "Better Care Fund plan and pooled budget; Health and Well-being Board "
        "oversight; joint commissioning arrangements",
        "actions": "Agree the 2017-19 Better Care Fund plan; reduce delayed transfers of care",
        "action_owner": "Director of Adult Services",
    },
    {
        "risk_id": "CRR12",
        "title": "The Council does not respond well to a major emergency",
        "description": "A flood, severe weather or other major incident is not well handled "
        "because plans or people are not ready.",
        "owner": EI,
        "inherent": (4, 5),
        "current": [(2, 4)] * 9,
        "target": (2, 4),
        "controls": "Local Resilience Forum plans; trained emergency response staff; on-call rota",
        "actions": "Run a multi-agency flood exercise; refresh emergency rest centre training",
        "action_owner": "Head of Emergency Planning",
    },
    {
        "risk_id": "CRR13",
        "title": "An outbreak of infectious disease or pandemic influenza",
        "description": "A pandemic or large outbreak causes illness and death and disrupts "
        "Council and partner services.",
        "owner": PH,
        "inherent": (3, 5),
        "current": [(2, 5)] * 9,
        "target": (2, 5),
        "controls": "Pandemic influenza plan; health protection arrangements with Public "
        "Health England; staff flu vaccination",
        "actions": "Refresh the pandemic influenza plan with partners; raise uptake of staff "
        "flu vaccination",
        "action_owner": "Director of Public Health",
    },
    {
        "risk_id": "CRR14",
        "title": "There are not enough school places where they are needed",
        "description": "Housing growth outpaces the supply of school places in some areas, so "
        "children cannot attend a local school.",
        "owner": CFC,
        "inherent": (4, 3),
        "current": [(2, 3)] * 6 + [(1, 3), None, None],
        "target": (1, 3),
        "closed_in": "2016-17-Q3",
        "controls": "School place planning model; developer contributions for new schools; "
        "capital programme for school expansions",
        "actions": "Complete the expansion programme for September 2016",
        "actions_from": {
            "2016-17-Q3": "No further actions; the expansion programme is complete and school "
            "place planning is now managed on the directorate risk register",
        },
        "action_owner": "Head of Education Planning",
    },
    {
        "risk_id": "CRR15",
        "title": "Leaving the European Union affects funding and the local economy",
        "description": "Uncertainty after the June 2016 referendum reduces investment and puts "
        "European-funded programmes at risk.",
        "owner": EI,
        "inherent": (3, 4),
        "current": [None] * 5 + [(3, 3)] * 4,
        "target": (2, 3),
        "controls": "Monitoring of European-funded programmes; business engagement through the "
        "Local Enterprise Partnership",
        "actions": "Secure government guarantees for European-funded projects signed before "
        "exit; survey local businesses on the impact",
        "action_owner": "Director of Economy and Infrastructure",
    },
    {
        "risk_id": "CRR16",
        "title": "Children's social care does not improve at the pace required",
        "description": "Following the Ofsted inspection, the improvement plan does not deliver "
        "the changes needed quickly enough.",
        "owner": CFC,
        "inherent": (4, 5),
        "current": [None] * 8 + [(3, 4)],
        "target": (2, 4),
        "controls": "Improvement Board with independent chair; service improvement plan with "
        "eight priorities; monthly performance reporting",
        "actions": "Recruit permanent team managers; deliver the improvement plan priorities "
        "on schedule",
        "action_owner": "Director of Children, Families and Communities",
    },
]


# =============================================================================================
# Rating (the rules in docs/data-model.md), used to check the sample before writing it
# =============================================================================================


def rate(value: float | None, reference: float | None, d: dict[str, Any]) -> str:
    if d["rating_basis"] == "data_only":
        return "No data" if value is None else "Not rated"
    if value is None:
        return "No data"
    if reference is None:
        return "Not rated"
    gap = value - reference if d["polarity"] == "higher_is_better" else reference - value
    gap = round(gap, 9)
    if gap >= 0:
        return "Green"
    tol = float(d.get("tolerance") or 0)
    allowance = abs(reference) * tol / 100 if d["tolerance_type"] == "relative" else tol
    return "Amber" if round(-gap, 9) <= round(allowance, 9) else "Red"


def in_force(d: dict[str, Any], q: Quarter) -> bool:
    first = parse_quarter(d["first_quarter"])
    last = parse_quarter(d["last_quarter"]) if d["last_quarter"] else None
    return first <= q and (last is None or q <= last)


def board(values: dict[str, list[dict[str, Any]]], q: Quarter) -> dict[str, tuple[str, bool]]:
    """indicator_id -> (rating before overrides, updated this quarter) for ``q``."""
    out: dict[str, tuple[str, bool]] = {}
    for d in catalogue_rows():
        if not in_force(d, q):
            continue
        latest, latest_q = None, None
        for earlier in QUARTERS:
            if earlier > q:
                break
            for row in values[earlier.id]:
                if row["indicator_id"] == d["indicator_id"]:
                    latest, latest_q = row, earlier
        if latest is None:
            out[d["indicator_id"]] = (rate(None, None, d), False)
            continue
        ref = latest.get(d["rating_basis"]) if d["rating_basis"] != "data_only" else None
        out[d["indicator_id"]] = (rate(latest["value"], ref, d), latest_q == q)
    return out


# =============================================================================================
# Building the tables
# =============================================================================================


def catalogue_rows() -> list[dict[str, Any]]:
    rows = []
    for spec in INDICATORS:
        row = {c: spec.get(c, "") for c in CATALOGUE_COLUMNS}
        row["first_quarter"] = spec.get("first_quarter", FIRST.id)
        row["last_quarter"] = spec.get("last_quarter", "")
        if spec["rating_basis"] == "data_only":
            row["tolerance_type"], row["tolerance"] = "", ""
        rows.append(row)
    return rows


def _resolve(field: Any, q: Quarter) -> Any:
    """A field of a series spec for quarter ``q``: a function of the quarter, a dict keyed by
    quarter id (missing: empty), or a constant."""
    if field is None:
        return None
    if callable(field):
        return field(q)
    if isinstance(field, dict):
        return field.get(q.id)
    return field


def value_rows() -> dict[str, list[dict[str, Any]]]:
    """Every quarter's values.csv rows, keyed by quarter id."""
    out: dict[str, list[dict[str, Any]]] = {q.id: [] for q in QUARTERS}
    cat = {d["indicator_id"]: d for d in catalogue_rows()}
    for spec in INDICATORS:
        d = cat[spec["indicator_id"]]
        s = spec["series"]
        points = dict(s["points"])
        baseline = BASELINES.get(d["indicator_id"])
        if baseline is not None:
            if BASELINE_QUARTER in points:
                raise SystemExit(f"{d['indicator_id']} has a baseline and a first-quarter value")
            points = {BASELINE_QUARTER: baseline[:2], **points}
        for qid, (value, label) in points.items():
            if value is None:
                continue
            q = parse_quarter(qid)
            if not in_force(d, q):
                raise SystemExit(f"{d['indicator_id']} has a value in {qid} but is not in force")
            row: dict[str, Any] = {c: None for c in VALUES_COLUMNS}
            row["indicator_id"] = d["indicator_id"]
            row["value"] = value
            row["period_label"] = label or _resolve(s.get("period_label"), q)
            row["data_quality"] = _resolve(s.get("data_quality"), q)
            if "target" in s:
                row["target"] = _resolve(s["target"], q)
            if "benchmark" in s:
                row["benchmark"] = _resolve(s["benchmark"], q)
                row["benchmark_label"] = _resolve(s.get("benchmark_label"), q)
                row["benchmark_date"] = _resolve(s.get("benchmark_date"), q)
            if baseline is not None and qid == BASELINE_QUARTER:
                row.update(baseline[2])
                row["data_quality"] = BASELINE_NOTE
            if "population" in s:
                den = s["population"][q.start_year]
                num = round(value * den / 10000)
                if round(num / den * 10000, 1) != value:
                    raise SystemExit(f"{d['indicator_id']} {qid}: numerator does not give value")
                row["numerator"], row["denominator"] = num, den
            if d["rating_basis"] in ("target", "benchmark") and row[d["rating_basis"]] is None:
                raise SystemExit(f"{d['indicator_id']} {qid}: no {d['rating_basis']}")
            out[qid].append(row)
    order = {d["indicator_id"]: i for i, d in enumerate(catalogue_rows())}
    for rows in out.values():
        rows.sort(key=lambda r: order[r["indicator_id"]])
    return out


def breakdown_rows(values: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    seed_total = next(r["value"] for r in values[SEED.id] if r["indicator_id"] == "OR01")
    out = {}
    for q in QUARTERS:
        total = next(r["value"] for r in values[q.id] if r["indicator_id"] == "OR01")
        out[q.id] = [
            {
                "indicator_id": "OR01",
                "dimension": "directorate",
                "category": cat,
                "value": v if q == SEED else round(v * total / seed_total, 2),
            }
            for cat, v in SICKNESS_Q4.items()
        ]
    return out


def risk_rows() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {q.id: [] for q in QUARTERS}
    for r in RISKS:
        for i, q in enumerate(QUARTERS):
            cur = r["current"][i]
            if cur is None:
                continue
            actions = r["actions"]
            for start, text in sorted(r.get("actions_from", {}).items()):
                if parse_quarter(start) <= q:
                    actions = text
            closed = r.get("closed_in") == q.id
            out[q.id].append(
                {
                    "risk_id": r["risk_id"],
                    "title": r["title"],
                    "description": r["description"],
                    "owner": r["owner"],
                    "inherent_likelihood": r["inherent"][0],
                    "inherent_impact": r["inherent"][1],
                    "current_likelihood": cur[0],
                    "current_impact": cur[1],
                    "target_likelihood": r["target"][0],
                    "target_impact": r["target"][1],
                    "controls": r["controls"],
                    "actions": actions,
                    "action_owner": r["action_owner"],
                    "action_due": "" if closed else q.shift(2).period_end.strftime("%d/%m/%Y"),
                    "status": "closed" if closed else "open",
                }
            )
    return out


def commentary_for(q: Quarter, updated_red: Iterable[str]) -> dict[str, tuple[str, list[str], str]]:
    owners = {d["indicator_id"]: d["owner"] for d in catalogue_rows()}
    chosen: dict[str, Entry] = dict(COMMENTARY_BY_QUARTER.get(q.id, {}))
    for ind in updated_red:
        if ind in chosen:
            continue
        fallback = COMMENTARY_DEFAULT.get(ind, {}).get(q.start_year)
        if fallback is None:
            raise SystemExit(f"{q.id}: {ind} is red and updated but has no commentary")
        chosen[ind] = fallback
    return {k: (c, a, owners[k]) for k, (c, a) in sorted(chosen.items())}


def cabinet_date(q: Quarter) -> str:
    """The first Thursday at least 15 weeks after the quarter ends (Cabinet meets on
    Thursdays); this gives 20 July 2017 for 2016-17-Q4, the seed report's date."""
    day = q.period_end + timedelta(days=105)
    while day.weekday() != 3:
        day += timedelta(days=1)
    return day.isoformat()


# =============================================================================================
# Checks against the seed (stop rather than write a sample that does not reproduce it)
# =============================================================================================

SEED_UPDATED_RED = {"CF01", "CF02", "HW06", "OR01", "OR03"}
SEED_CARRIED_RED = {"EN01", "EN02", "EN03", "OR02", "OR08"}
# DOMAIN.md: the reds of Quarter Two 2016/17 (45 indicators).
Q2_RED = {"CF01", "HW06", "EN01", "EN03", "OR08", "OR02", "OR01"}


def check(values: dict[str, list[dict[str, Any]]], risks: dict[str, list[dict[str, Any]]]) -> dict:
    cat = catalogue_rows()
    problems: list[str] = []
    seed_board = board(values, SEED)
    counts: dict[str, int] = {}
    for rating, _ in seed_board.values():
        counts[rating] = counts.get(rating, 0) + 1
    red = {k for k, (r, _) in seed_board.items() if r == "Red"}
    upd = {k for k, (r, u) in seed_board.items() if r == "Red" and u}
    if len(seed_board) != 46:
        problems.append(f"{len(seed_board)} indicators in force in {SEED.id}, not 46")
    if counts.get("Green") != 17 or counts.get("Red") != 10:
        problems.append(f"{SEED.id} counts {counts}, not 17 green and 10 red")
    if upd != SEED_UPDATED_RED or red - upd != SEED_CARRIED_RED:
        problems.append(f"{SEED.id} updated red {sorted(upd)}, carried {sorted(red - upd)}")
    if SEED.id in OVERRIDES:
        problems.append("no override may be recorded in the seed quarter")
    q2 = parse_quarter("2016-17-Q2")
    q2_board = board(values, q2)
    q2_over = {o["indicator_id"]: o["rating"] for o in OVERRIDES.get(q2.id, [])}
    q2_red = {k for k, (r, _) in q2_board.items() if q2_over.get(k, r) == "Red"}
    if q2_red != Q2_RED or len(q2_board) != 45:
        problems.append(f"{q2.id}: {len(q2_board)} in force, red {sorted(q2_red)}")
    for o in OVERRIDES.get(q2.id, []):
        if q2_board[o["indicator_id"]][0] == o["rating"]:
            problems.append(f"override of {o['indicator_id']} does not change the rating")
    new = {d["indicator_id"] for d in cat if d["first_quarter"] == NEW_PLAN.id}
    retired = {d["indicator_id"] for d in cat if d["last_quarter"] == SEED.id}
    if len(new) < 3 or len(retired) < 3:
        problems.append(f"refresh: new {sorted(new)}, retired {sorted(retired)}")
    every = {r["indicator_id"] for rows in values.values() for r in rows}
    never = sorted({d["indicator_id"] for d in cat} - every)
    if never:
        problems.append(f"indicators with no value in any quarter: {never}")
    for q in QUARTERS:
        n = len(risks[q.id])
        if not 12 <= n <= 16:
            problems.append(f"{q.id}: {n} risks")
    seed_red = {
        r["title"]
        for r in risks[SEED.id]
        if r["status"] == "open" and r["current_likelihood"] * r["current_impact"] >= 15
    }
    if seed_red != {
        "Serious harm or death due to a failure on the part of the Council",
        "Demographic changes lead to changed demand for services",
    }:
        problems.append(f"{SEED.id} red risks: {sorted(seed_red)}")
    q3 = {r["risk_id"]: r for r in risks["2016-17-Q3"]}["CRR01"]
    if q3["current_likelihood"] * q3["current_impact"] >= 15:
        problems.append("CRR01 should be amber in 2016-17-Q3")
    if cabinet_date(SEED) != SEED_CABINET_DATE:
        problems.append(f"cabinet date {cabinet_date(SEED)} for the seed quarter")
    if problems:
        raise SystemExit("The sample does not reproduce the seed:\n  " + "\n  ".join(problems))
    return {"counts": counts, "updated_red": sorted(upd), "carried_red": sorted(red - upd)}


# =============================================================================================
# Writing
# =============================================================================================


def fmt(x: Any) -> str:
    """A cell as text: numbers without float noise (66.3, 1304, 8.92), None as empty."""
    if x is None:
        return ""
    if isinstance(x, bool):
        raise TypeError("booleans are not expected in the sample")
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() else repr(x)
    return str(x)


def csv_text(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    cols = list(columns)
    writer.writerow(cols)
    for row in rows:
        writer.writerow([fmt(row.get(c)) for c in cols])
    return buf.getvalue()


def _yaml_scalar(text: str) -> str:
    """Plain when YAML reads it back unchanged, otherwise double-quoted."""
    try:
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def commentary_yaml(entries: dict[str, tuple[str, list[str], str]]) -> str:
    lines: list[str] = []
    for ind, (text, actions, author) in entries.items():
        lines.append(f"{ind}:")
        lines.append("  commentary: |")
        for i, para in enumerate(text.strip().split("\n\n")):
            if i:
                lines.append("")
            wrapped = textwrap.wrap(para, width=88, break_long_words=False, break_on_hyphens=False)
            lines.extend("    " + w for w in wrapped)
        lines.append("  actions:")
        for a in actions:
            scalar = _yaml_scalar(a)
            if scalar != a:  # quoted: keep it on one line
                lines.append(f"    - {scalar}")
                continue
            wrapped = textwrap.wrap(a, width=86, break_long_words=False, break_on_hyphens=False)
            lines.append(f"    - {wrapped[0]}")
            lines.extend(f"      {w}" for w in wrapped[1:])
        lines.append(f"  author: {_yaml_scalar(author)}")
    out = "\n".join(lines) + "\n" if lines else "{}\n"
    # Check that YAML reads back what was meant.
    loaded = yaml.safe_load(out) or {}
    for ind, (text, actions, author) in entries.items():
        got = loaded[ind]
        want = " ".join(text.split())
        if " ".join(got["commentary"].split()) != want or got["actions"] != actions:
            raise SystemExit(f"commentary for {ind} does not read back")
        if got["author"] != author:
            raise SystemExit(f"author for {ind} does not read back")
    return out


# How the seed reported a figure, where it did not give the number itself (values.csv's
# optional reported_as column), and the seed's reasons for its two red risks (risks.csv's
# optional reason column). Only the seed quarter carries them; other quarters' files keep
# their columns as they were.
REPORTED_AS: dict[str, dict[str, str]] = {"2016-17-Q4": {"HW06": "just over 1,300"}}
RISK_REASONS: dict[str, dict[str, str]] = {
    "2016-17-Q4": {
        "CRR01": "The rating changed after an inspection found weaknesses in the Council's "
        "children's safeguarding services.",
        "CRR02": "A Council-wide risk, made more pressing by the growing number of older "
        "people and the demand this places on Council services.",
    }
}

# The officer-written text of the Cabinet paper (params/QUARTER.paper.yaml), the same each
# sample quarter: the seed's cover-report text in our own words; contacts are made up.
PAPER_YAML = """\
# The officer-written text of the Cabinet paper for this quarter (docs/data-model.md).
# Every number and name in the recommendations is computed; only this text is typed.
meeting: Cabinet
cabinet_member: Cabinet Member with Responsibility for Transformation and Commissioning
relevant_officer: Director of Economy and Infrastructure
purpose: >-
  The Corporate Balanced Scorecard is how the Council follows progress against its
  Corporate Plan. Its indicators are linked to the plan's priorities and themes.
caveats: >-
  Many of the measures are long term, and a wide range of factors affect them, some of
  them outside the direct control of the Council.
risk_background: >-
  The Corporate Risk Register collects the strategic risks that could affect the delivery of
  the Council's objectives. Directorates monitor each risk on it and report through the
  corporate process, to give assurance that the arrangements to reduce the risks are adequate.
implications:
  legal_financial_hr: >-
    Any legal, financial or HR implications of the performance reported here will be dealt
    with in the programmes of work on those areas. The Council's risk management covers the
    legal, financial and HR risks of its work; those risks and the actions on them are
    recorded in the risk registers kept across the organisation.
  privacy_public_health: >-
    This report has no privacy or public health implications. Where the figures suggest a
    public health implication, it will be reviewed as part of the performance monitoring
    cycle.
  equality_diversity: >-
    Any equality and diversity implications of the performance reported here will be dealt
    with in the programmes of work on those areas.
contacts:
  - "Performance and information team, Sample County Council: performance@example.com"
  - "Director of Economy and Infrastructure: the Director's office, 01234 567890"
background_papers: >-
  In the opinion of the proper officer (in this case the Director of Economy and
  Infrastructure) there are no background papers relating to the subject matter of this
  report.
"""


def params_yaml(q: Quarter) -> str:
    return (
        f'quarter: {q.id}\ncabinet_date: "{cabinet_date(q)}"\ntitle: {TITLE}\ncouncil: {COUNCIL}\n'
    )


def build() -> tuple[dict[str, str], dict]:
    """Every file to write (path relative to the output root -> text) and the check summary."""
    values = value_rows()
    risks = risk_rows()
    summary = check(values, risks)
    breakdowns = breakdown_rows(values)
    files: dict[str, str] = {
        "data/catalogue.csv": csv_text(CATALOGUE_COLUMNS, catalogue_rows()),
        "data/settings.yaml": SETTINGS_YAML,
    }
    for q in QUARTERS:
        folder = f"data/{q.id}"
        reported = REPORTED_AS.get(q.id, {})
        value_cols = [*VALUES_COLUMNS, "reported_as"] if reported else VALUES_COLUMNS
        value_rows_q = [{**r, "reported_as": reported.get(r["indicator_id"])} for r in values[q.id]]
        files[f"{folder}/values.csv"] = csv_text(value_cols, value_rows_q)
        reasons = RISK_REASONS.get(q.id, {})
        risk_cols = [*RISK_COLUMNS, "reason"] if reasons else RISK_COLUMNS
        risk_rows_q = [{**r, "reason": reasons.get(r["risk_id"])} for r in risks[q.id]]
        files[f"{folder}/risks.csv"] = csv_text(risk_cols, risk_rows_q)
        files[f"{folder}/breakdowns.csv"] = csv_text(BREAKDOWN_COLUMNS, breakdowns[q.id])
        b = board(values, q)
        updated_red = [k for k, (r, u) in b.items() if r == "Red" and u]
        files[f"{folder}/commentary.yaml"] = commentary_yaml(commentary_for(q, updated_red))
        if q.id in OVERRIDES:
            files[f"{folder}/overrides.csv"] = csv_text(OVERRIDE_COLUMNS, OVERRIDES[q.id])
        files[f"params/{q.id}.yaml"] = params_yaml(q)
        files[f"params/{q.id}.paper.yaml"] = PAPER_YAML
    return files, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT), help="folder to write data/ and params/ in")
    args = parser.parse_args(argv)
    out = Path(args.out)
    files, summary = build()
    for q in QUARTERS:  # an optional file no longer generated must not linger
        stale = out / "data" / q.id / "overrides.csv"
        if f"data/{q.id}/overrides.csv" not in files and stale.exists():
            stale.unlink()
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    c = summary["counts"]
    print(
        f"Wrote {len(files)} files under {out}. {SEED.id}: "
        + ", ".join(f"{k} {c.get(k, 0)}" for k in ("Green", "Amber", "Red", "Not rated", "No data"))
        + f"; updated red {', '.join(summary['updated_red'])};"
        f" carried-forward red {', '.join(summary['carried_red'])}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
