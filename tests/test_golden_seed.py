"""Golden back-test: the bundled sample reproduces the Cabinet report for Quarter Four 2016/17.

Every expected figure below is typed from ../shared/seed/cabinet-2017-07-20-scorecard-q4-2016-17.md
(the published report), never read from the code under test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from scorecard_lib.sections import Scorecard, load_scorecard

# From the seed, paragraphs 3 and 4.
SEED_TOTAL, SEED_GREEN, SEED_RED, SEED_RED_UPDATED = 46, 17, 10, 5
# From the seed, paragraph 6.
SEED_RED_RISKS = {
    "Serious harm or death due to a failure on the part of the Council",
    "Demographic changes lead to changed demand for services",
}


@pytest.fixture(scope="module")
def sc() -> Scorecard:
    return load_scorecard("2016-17-Q4")


def _one(board: pd.DataFrame, *words: str) -> dict:
    mask = pd.Series(True, index=board.index)
    for w in words:
        mask &= board["name"].str.lower().str.contains(w.lower(), regex=False)
    found = board[mask]
    assert len(found) == 1, f"expected one indicator named with {words}, found {len(found)}"
    return found.iloc[0].to_dict()


def test_headline_counts(sc: Scorecard) -> None:
    assert len(sc.board) == SEED_TOTAL
    assert sc.counts["Green"] == SEED_GREEN
    assert sc.counts["Red"] == SEED_RED
    assert len(sc.updated_red()) == SEED_RED_UPDATED


def test_summary_sentence_states_the_seed_counts(sc: Scorecard) -> None:
    text = sc.summary().html
    assert "There are 46 indicators in the Scorecard." in text
    assert "17 are rated green" in text and "10 red" in text
    seed = "Of the 10 red indicators, 5 have had a performance update in Quarter Four 2016/17"
    assert seed in text


def test_looked_after_children(sc: Scorecard) -> None:
    r = _one(sc.updated_red(), "looked after")
    assert (r["value"], r["previous_value"], r["reference"]) == (66.3, 60.6, 60)
    assert r["benchmark_date"] == "31/03/2016" and "England" in r["benchmark_label"]


def test_child_protection_plans(sc: Scorecard) -> None:
    r = _one(sc.updated_red(), "child protection")
    assert (r["value"], r["previous_value"], r["reference"]) == (43.2, 38.1, 43.1)


def test_older_people_in_care_homes(sc: Scorecard) -> None:
    r = _one(sc.updated_red(), "care home")
    assert 1300 < r["value"] < 1310  # "just over 1300"
    assert (r["previous_value"], r["target"]) == (1360, 1198)
    assert r["short_term"] == "improving"


def test_sickness_absence(sc: Scorecard) -> None:
    r = _one(sc.updated_red(), "sickness")
    assert (r["value"], r["target"], r["previous_value"]) == (8.92, 7, 9.11)
    bd = sc.inputs.breakdowns
    bd = bd[bd["indicator_id"] == r["indicator_id"]].sort_values("value")
    top = bd.iloc[-1]
    assert (top["category"], top["value"]) == ("Adult Services", 13.36)


def test_clear_vision(sc: Scorecard) -> None:
    r = _one(sc.updated_red(), "clear vision")
    assert (r["value"], r["previous_value"]) == (46, 60)
    assert "2015" in (r["previous_period_label"] or "")


def test_exactly_the_two_seed_risks_are_red(sc: Scorecard) -> None:
    reg = sc.register
    red = reg[(reg["status"] == "open") & (reg["current_band"] == "Red")]
    assert set(red["title"]) == SEED_RED_RISKS


def test_generated_headline_matches_the_seed_wording(sc: Scorecard) -> None:
    text = sc.exceptions("childrens_services")._repr_html_()
    assert "The rate of looked after children has increased to 66.3 per 10,000 children." in text
    assert "It was 60.6 per 10,000 children at the end of the previous quarter." in text
    assert "This is above the England average of 60 per 10,000 children at 31/03/2016." in text
