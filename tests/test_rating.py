"""RAG rating, tolerance edges, polarity, carry-forward, overrides and direction of travel."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.rules.rating import (
    AMBER,
    GREEN,
    IMPROVING,
    NO_CHANGE,
    NO_DATA,
    NOT_AVAILABLE,
    NOT_RATED,
    RED,
    WORSENING,
    dashboard,
    direction,
    history,
    rate,
)

LOW = "lower_is_better"
HIGH = "higher_is_better"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(60.0, GREEN), (59.0, GREEN), (62.99, AMBER), (63.0, AMBER), (63.01, RED), (66.3, RED)],
)
def test_relative_tolerance_edges_lower_is_better(value: float, expected: str) -> None:
    # 5% of 60 is 3: up to 63 is amber, above it red.
    assert rate(value, 60, polarity=LOW, tolerance_type="relative", tolerance=5) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(60, GREEN), (55, AMBER), (54.999, RED), (46, RED), (61, GREEN)]
)
def test_absolute_tolerance_edges_higher_is_better(value: float, expected: str) -> None:
    assert rate(value, 60, polarity=HIGH, tolerance_type="absolute", tolerance=5) == expected


def test_zero_tolerance_has_no_amber() -> None:
    # The seed's child protection rate: 43.2 against an England average of 43.1 is red.
    assert rate(43.2, 43.1, polarity=LOW, tolerance_type="absolute", tolerance=0) == RED
    assert rate(43.1, 43.1, polarity=LOW, tolerance_type="absolute", tolerance=0) == GREEN


def test_float_noise_does_not_decide_an_edge() -> None:
    # 0.1 + 0.2 is not exactly 0.3 in binary; the edge is still amber.
    assert rate(0.1 + 0.2 + 10, 10, polarity=LOW, tolerance_type="absolute", tolerance=0.3) == AMBER


def test_missing_value_or_reference() -> None:
    assert rate(None, 10, polarity=LOW, tolerance_type="absolute", tolerance=1) == NO_DATA
    assert rate(float("nan"), 10, polarity=LOW, tolerance_type="absolute", tolerance=1) == NO_DATA
    assert rate(5, None, polarity=LOW, tolerance_type="absolute", tolerance=1) == NOT_RATED


ORDER = {GREEN: 0, AMBER: 1, RED: 2}


@given(
    value=st.floats(-1e6, 1e6),
    better=st.floats(0, 1e6),
    ref=st.floats(-1e6, 1e6),
    tol=st.floats(0, 50),
    polarity=st.sampled_from([LOW, HIGH]),
    kind=st.sampled_from(["relative", "absolute"]),
)
def test_moving_a_value_the_better_way_never_worsens_its_rating(
    value: float, better: float, ref: float, tol: float, polarity: str, kind: str
) -> None:
    moved = value + better if polarity == HIGH else value - better
    before = rate(value, ref, polarity=polarity, tolerance_type=kind, tolerance=tol)
    after = rate(moved, ref, polarity=polarity, tolerance_type=kind, tolerance=tol)
    assert ORDER[after] <= ORDER[before]


@pytest.mark.parametrize(
    ("now", "before", "polarity", "expected"),
    [
        (66.3, 60.6, LOW, WORSENING),
        (1304, 1360, LOW, IMPROVING),
        (8.92, 9.11, LOW, IMPROVING),
        (46, 60, HIGH, WORSENING),
        (100.5, 100, HIGH, NO_CHANGE),  # 0.5% change is within the 1% threshold
        (101.5, 100, HIGH, IMPROVING),
        (5, None, HIGH, NOT_AVAILABLE),
    ],
)
def test_direction_of_travel(now, before, polarity, expected) -> None:
    assert direction(now, before, polarity=polarity, threshold_percent=1.0) == expected


def _catalogue(**over) -> pd.DataFrame:
    base = {
        "indicator_id": "X1",
        "name": "Test indicator",
        "subject": "The test rate",
        "theme": "Organisational",
        "section": "workforce",
        "unit": "days",
        "unit_label": None,
        "decimals": 2.0,
        "polarity": LOW,
        "frequency": "quarterly",
        "rating_basis": "target",
        "tolerance_type": "relative",
        "tolerance": 10.0,
        "owner": "HR",
        "source": "HR system",
        "first_quarter": "2015-16-Q1",
        "last_quarter": None,
        "description": None,
    }
    base.update(over)
    return pd.DataFrame([base])


def _values(rows) -> pd.DataFrame:
    cols = [
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
        "quarter",
    ]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


NO_OVERRIDES = pd.DataFrame(columns=["indicator_id", "rating", "reason", "approved_by"])


def test_carry_forward_keeps_last_rating_and_names_its_period() -> None:
    vals = _values(
        [
            {"indicator_id": "X1", "value": 9.0, "target": 7.0, "quarter": "2016-17-Q2"},
            {"indicator_id": "X1", "value": 9.5, "target": 7.0, "quarter": "2015-16-Q2"},
        ]
    )
    board = dashboard(_catalogue(), vals, NO_OVERRIDES, parse_quarter("2016-17-Q4"))
    row = board.iloc[0]
    assert row["rating"] == RED
    assert row["value_quarter"] == "2016-17-Q2"
    assert not row["updated"] and row["carried_forward"]
    assert row["previous_quarter"] == "2015-16-Q2"
    assert row["long_term"] == IMPROVING  # a year before 2016-17-Q2 is 2015-16-Q2


def test_values_after_the_quarter_are_ignored() -> None:
    vals = _values(
        [
            {"indicator_id": "X1", "value": 6.0, "target": 7.0, "quarter": "2016-17-Q3"},
            {"indicator_id": "X1", "value": 20.0, "target": 7.0, "quarter": "2017-18-Q1"},
        ]
    )
    row = dashboard(_catalogue(), vals, NO_OVERRIDES, parse_quarter("2016-17-Q4")).iloc[0]
    assert row["value"] == 6.0 and row["rating"] == GREEN


def test_override_shows_both_ratings() -> None:
    vals = _values([{"indicator_id": "X1", "value": 9.0, "target": 7.0, "quarter": "2016-17-Q4"}])
    ovr = pd.DataFrame(
        [
            {
                "indicator_id": "X1",
                "rating": "Amber",
                "reason": "One-off event",
                "approved_by": "Head of HR",
            }
        ]
    )
    row = dashboard(_catalogue(), vals, ovr, parse_quarter("2016-17-Q4")).iloc[0]
    assert row["rating_computed"] == RED and row["rating"] == AMBER
    assert row["override_reason"] == "One-off event"


def test_data_only_and_no_data() -> None:
    cat = pd.concat(
        [
            _catalogue(rating_basis="data_only", tolerance=None, tolerance_type=None),
            _catalogue(indicator_id="X2"),
        ],
        ignore_index=True,
    )
    vals = _values([{"indicator_id": "X1", "value": 3.0, "quarter": "2016-17-Q4"}])
    board = dashboard(cat, vals, NO_OVERRIDES, parse_quarter("2016-17-Q4")).set_index(
        "indicator_id"
    )
    assert board.loc["X1", "rating"] == NOT_RATED
    assert board.loc["X2", "rating"] == NO_DATA


def test_indicator_out_of_force_is_not_on_the_board() -> None:
    cat = _catalogue(last_quarter="2016-17-Q4")
    assert len(dashboard(cat, _values([]), NO_OVERRIDES, parse_quarter("2017-18-Q1"))) == 0
    assert len(dashboard(cat, _values([]), NO_OVERRIDES, parse_quarter("2016-17-Q4"))) == 1


def test_history_has_eight_quarters_with_gaps() -> None:
    vals = _values([{"indicator_id": "X1", "value": 9.0, "target": 7.0, "quarter": "2016-17-Q2"}])
    h = history(vals, "X1", parse_quarter("2016-17-Q4"))
    assert list(h["quarter"])[0] == "2015-16-Q1" and len(h) == 8
    assert h.set_index("quarter").loc["2016-17-Q2", "value"] == 9.0
    assert math.isnan(h.set_index("quarter").loc["2016-17-Q3", "value"])
