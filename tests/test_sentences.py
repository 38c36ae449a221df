"""Every generated sentence of every sample quarter reads right: numbers agree with their
nouns, no "0 of", no empty statement said twice, and every direction word agrees with the
figures it describes. Every indicator of every quarter is checked, not only the seed's reds
(the headline is generated for each, as the report would show it if it were red)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from scorecard_lib.inputs.locations import available_quarters
from scorecard_lib.present.sections import Scorecard
from scorecard_lib.rules import narrative
from scorecard_lib.rules.rating import IMPROVING, NO_CHANGE, WORSENING

#: conftest.sample_scorecard: each sample quarter loaded once, shared by these read-only tests
Loader = Callable[[str], Scorecard]

QUARTERS = [q.id for q in available_quarters()]
SECTIONS = ("overview", "childrens_services", "adult_care", "workforce")

_AGREEMENT_FAULTS = (
    re.compile(r"\b1 (indicators|risks|open risks|red indicators)\b"),
    re.compile(r"\b1 (are|have)\b"),
    re.compile(r"\b(?:[02-9]|\d{2,}) (indicator|risk|open risk) (is|has)\b"),
    re.compile(r"\b(?:[02-9]|\d{2,}) (is|has) (rated|had|shown|no data)\b"),
)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def _report_sentences(sc: Scorecard) -> str:
    parts = [sc.summary().html, sc.risk_summary().html, sc.recommendations().html]
    parts += [sc.section_intro(s).html for s in SECTIONS]
    parts.append(sc.exceptions()._repr_html_())
    return " ".join(_text(p) for p in parts)


def test_all_nine_sample_quarters_are_checked() -> None:
    assert len(QUARTERS) == 9


@pytest.mark.parametrize("quarter", QUARTERS)
def test_counts_agree_and_nothing_says_zero_of(quarter: str, sample_scorecard: Loader) -> None:
    sc = sample_scorecard(quarter)
    text = " ".join(_report_sentences(sc).split())
    assert not re.search(r"\b0 of\b", text), text
    assert not re.search(r"\b0 (green|amber|red|have|has|indicators)\b", text), text
    for pattern in _AGREEMENT_FAULTS:
        found = pattern.search(text)
        assert found is None, f"{quarter}: {found.group(0)!r} in {text}"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_no_empty_statement_is_repeated(quarter: str, sample_scorecard: Loader) -> None:
    sc = sample_scorecard(quarter)
    sentences = re.split(r"(?<=\.)\s+", " ".join(_report_sentences(sc).split()))
    empty = [s for s in sentences if re.match(r"(No|None)\b", s)]
    assert len(empty) == len(set(empty)), empty


def _shown(row: dict, x: float) -> float:
    return round(float(x), int(row["decimals"]))


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_headline_direction_agrees_with_the_numbers(
    quarter: str, sample_scorecard: Loader
) -> None:
    sc = sample_scorecard(quarter)
    checked = 0
    for row in sc.board.to_dict("records"):
        if row["value"] is None:
            continue
        text = " ".join(narrative.headline(row, sc.quarter))
        name = f"{quarter} {row['indicator_id']}: {text}"
        prev, value = row["previous_value"], row["value"]
        if prev is not None:
            checked += 1
            if "has increased to" in text:
                assert _shown(row, value) > _shown(row, prev), name
                assert row["short_term"] != NO_CHANGE, name
            elif "has decreased to" in text:
                assert _shown(row, value) < _shown(row, prev), name
                assert row["short_term"] != NO_CHANGE, name
            else:
                assert "has stayed at" in text, name
                assert "an improvement" not in text and "a deterioration" not in text, name
            assert "no noticeable change" not in text, name  # said by "stayed at (about)"
            if row["short_term"] == IMPROVING and "stayed" not in text:
                assert "an improvement" in text, name
            if row["short_term"] == WORSENING and "stayed" not in text:
                assert "a deterioration" in text, name
        ref = row["reference"]
        if ref is not None:
            if "This is above" in text:
                assert _shown(row, value) > _shown(row, ref), name
            elif "This is below" in text:
                assert _shown(row, value) < _shown(row, ref), name
            else:
                assert "This is the same as" in text, name
    if quarter != min(QUARTERS):  # the first sample quarter has nothing before it
        assert checked >= 20


def test_a_change_under_the_threshold_says_stayed_at_about(sample_scorecard: Loader) -> None:
    sc = sample_scorecard("2016-17-Q3")  # sickness 9.02 -> 9.11, under the 1% threshold
    row = next(r for r in sc.board.to_dict("records") if r["indicator_id"] == "OR01")
    text = " ".join(narrative.headline(row, sc.quarter))
    assert text.startswith("Sickness absence has stayed at about 9.11 days per person.")
    assert "increased" not in text and "no noticeable change" not in text
