"""Golden back-test: the bundled sample reproduces the Cabinet report for Quarter Four 2016/17.

Every expected figure below is typed from ../shared/seed/cabinet-2017-07-20-scorecard-q4-2016-17.md
(the published report), never read from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from scorecard_lib.present.sections import Scorecard

# From the seed, paragraphs 3 and 4.
SEED_TOTAL, SEED_GREEN, SEED_RED, SEED_RED_UPDATED = 46, 17, 10, 5
# From the seed, paragraph 6.
SEED_RED_RISKS = {
    "Serious harm or death due to a failure on the part of the Council",
    "Demographic changes lead to changed demand for services",
}


@pytest.fixture(scope="module")
def sc(sample_scorecard: Callable[[str], Scorecard]) -> Scorecard:
    return sample_scorecard("2016-17-Q4")  # conftest: loaded once, shared by read-only tests


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
    text = sc.exceptions()._repr_html_()
    assert "The rate of looked after children has increased to 66.3 per 10,000 children." in text
    assert "It was 60.6 per 10,000 children at the end of the previous quarter." in text
    assert "This is above the England average of 60 per 10,000 children at 31/03/2016." in text


# From the seed: the heading block and recommendations (a) to (c), and the refresh of the
# scorecard for the new Corporate Plan (the catalogue's 2017-18 Q1 changes).
SEED_MEETING_DATE = "20 July 2017"
SEED_RED_UPDATED_IDS = ["CF01", "CF02", "HW06", "OR01", "OR03"]
REFRESH_OUT, REFRESH_IN = ["CF05", "EN05", "OB04"], ["CF12", "HW11", "OB09"]


def test_cover_report_meeting_date_and_people(sc: Scorecard) -> None:
    p = sc.paper
    assert p.meeting_date == SEED_MEETING_DATE
    assert p.meeting.text == "Cabinet"
    assert p.relevant_officer.text == "Director of Economy and Infrastructure"
    assert "Transformation and Commissioning" in p.cabinet_member.text
    assert p.missing() == []
    html = sc.cover()._repr_html_()
    assert "Cabinet, 20 July 2017" in html


def test_recommendations_name_the_seed_reds_risks_and_refresh(sc: Scorecard) -> None:
    recs = sc.paper.recommendations
    assert [r.letter for r in recs] == ["(a)", "(b)", "(c)", "(d)"]
    assert "17 indicators are rated green" in recs[0].text
    assert "the 5 red indicators that had a performance update" in recs[1].text
    reds = [link.key for lst in recs[1].lists for link in lst.items]
    assert reds == SEED_RED_UPDATED_IDS
    assert [link.target for lst in recs[1].lists for link in lst.items] == [
        f"ind-{i}" for i in SEED_RED_UPDATED_IDS
    ]
    assert "the 2 risks rated red" in recs[2].text
    assert {link.text for lst in recs[2].lists for link in lst.items} == SEED_RED_RISKS
    assert "refresh of the scorecard from Quarter One 2017/18" in recs[3].text
    leaving, joining = recs[3].lists
    assert [link.key for link in leaving.items] == REFRESH_OUT
    assert [link.key for link in joining.items] == REFRESH_IN


def test_red_risks_carry_the_seed_reasons(sc: Scorecard) -> None:
    notes = {n.title: n.reason for n in sc.paper.red_risks}
    assert set(notes) == SEED_RED_RISKS
    assert (
        "children's safeguarding"
        in notes["Serious harm or death due to a failure on the part of the Council"]
    )
    assert "older people" in notes["Demographic changes lead to changed demand for services"]


def test_care_home_figure_is_written_as_reported(sc: Scorecard) -> None:
    text = sc.exceptions()._repr_html_()
    assert "has decreased to just over 1,300 older people." in text  # as the seed says
    assert "1,304" not in text
    r = _one(sc.board, "care home")
    assert r["value"] == 1304 and r["rating"] == "Red"  # the number rates and charts
