"""Quarter parsing, naming and arithmetic: the spellings analysts type."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorecard_lib.core.errors import QuarterError
from scorecard_lib.core.quarters import Quarter, parse_quarter, quarter_range


@pytest.mark.parametrize(
    "text",
    [
        "2016-17-Q4",
        "2016/17 Q4",
        "Q4 2016/17",
        "2016-17 Q4",
        "q4 2016-17",
        " 2016/2017 Q4 ",
        "Q4-2016/17",
        "2016/17Q4",
    ],
)
def test_common_spellings_all_mean_the_same_quarter(text: str) -> None:
    assert parse_quarter(text) == Quarter(2016, 4)


def test_names_and_period() -> None:
    q = parse_quarter("2016-17-Q4")
    assert q.id == "2016-17-Q4"
    assert q.prose == "Quarter Four 2016/17"
    assert q.short == "2016/17 Q4"
    assert q.period_start == date(2017, 1, 1)
    assert q.period_end == date(2017, 3, 31)
    assert parse_quarter("2016-17-Q1").period_end == date(2016, 6, 30)
    assert parse_quarter("2016-17-Q3").period_end == date(2016, 12, 31)


def test_previous_crosses_the_financial_year() -> None:
    assert parse_quarter("2016-17-Q1").previous() == parse_quarter("2015-16-Q4")
    assert parse_quarter("2015-16-Q4").next() == parse_quarter("2016-17-Q1")
    assert parse_quarter("2016-17-Q4").same_quarter_last_year() == parse_quarter("2015-16-Q4")


def test_last_eight_quarters_oldest_first() -> None:
    ids = [q.id for q in parse_quarter("2016-17-Q4").last_n(8)]
    assert ids[0] == "2015-16-Q1" and ids[-1] == "2016-17-Q4" and len(ids) == 8


def test_range_and_ordering() -> None:
    qs = quarter_range(parse_quarter("2015-16-Q1"), parse_quarter("2017-18-Q1"))
    assert len(qs) == 9 and qs == sorted(qs)
    assert parse_quarter("2015-16-Q4") < parse_quarter("2016-17-Q1")


@pytest.mark.parametrize(
    "text", ["2016-18-Q1", "2016-17-Q5", "Q0 2016/17", "../2016-17-Q4", "", "2016", "last quarter"]
)
def test_bad_quarters_raise_a_clear_error(text: str) -> None:
    with pytest.raises(QuarterError) as err:
        parse_quarter(text)
    assert "2016-17-Q4" in err.value.message()  # the message shows an example to copy


quarters = st.builds(Quarter, st.integers(1990, 2090), st.integers(1, 4))


@given(quarters)
def test_round_trip_through_every_spelling(q: Quarter) -> None:
    for text in (q.id, q.short, f"Q{q.q} {q.fy}", str(q)):
        assert parse_quarter(text) == q


@given(quarters, st.integers(-40, 40))
def test_previous_and_next_are_inverse_and_ordered(q: Quarter, n: int) -> None:
    assert q.next().previous() == q
    assert q.previous() < q < q.next()
    assert (q.shift(n) > q) == (n > 0)
    assert q.shift(n).shift(-n) == q
    assert q.same_quarter_last_year().q == q.q
