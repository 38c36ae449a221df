"""Risk scores, bands and trend since last quarter."""

from __future__ import annotations

import pandas as pd
import pytest

from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.rules import risks
from scorecard_lib.rules.risks import band, band_counts, register, score


@pytest.mark.parametrize(
    ("s", "expected"),
    [(1, "Green"), (4, "Green"), (5, "Amber"), (14, "Amber"), (15, "Red"), (25, "Red")],
)
def test_default_bands(s: int, expected: str) -> None:
    assert band(s) == expected


def test_bands_are_configurable() -> None:
    assert band(12, {"red": 12, "amber": 6}) == "Red"
    assert band(5, {"red": 12, "amber": 6}) == "Green"


def test_score_is_likelihood_times_impact() -> None:
    assert score(4, 5) == 20 and score(1, 1) == 1


def _risk(rid: str, q: str, cl: int, ci: int, status: str = "open") -> dict:
    return {
        "risk_id": rid,
        "title": f"Risk {rid}",
        "description": "",
        "owner": "Owner",
        "inherent_likelihood": 5,
        "inherent_impact": 5,
        "current_likelihood": cl,
        "current_impact": ci,
        "target_likelihood": 2,
        "target_impact": 3,
        "controls": "",
        "actions": "",
        "action_owner": "",
        "action_due": "",
        "status": status,
        "quarter": q,
    }


def test_register_trend_and_order() -> None:
    df = pd.DataFrame(
        [
            _risk("R1", "2016-17-Q3", 3, 4),
            _risk("R1", "2016-17-Q4", 4, 5),
            _risk("R2", "2016-17-Q3", 3, 3),
            _risk("R2", "2016-17-Q4", 2, 3),
            _risk("R3", "2016-17-Q4", 2, 2),
            _risk("R4", "2016-17-Q3", 3, 3),
            _risk("R4", "2016-17-Q4", 3, 3, "closed"),
            _risk("R5", "2016-17-Q3", 3, 3),
            _risk("R5", "2016-17-Q4", 3, 3),
        ]
    )
    reg = register(df, parse_quarter("2016-17-Q4")).set_index("risk_id")
    assert reg.loc["R1", "current_score"] == 20 and reg.loc["R1", "current_band"] == "Red"
    assert reg.loc["R1", "trend"] == "up"
    assert reg.loc["R2", "trend"] == "down"
    assert reg.loc["R3", "trend"] == "new"
    assert reg.loc["R4", "trend"] == "closed"
    assert reg.loc["R5", "trend"] == "same"
    assert list(reg.index)[0] == "R1"  # highest current score first
    assert band_counts(reg.reset_index()) == {"Red": 1, "Amber": 2, "Green": 1}


def test_bands_in_force_are_the_settings_or_the_rules_default() -> None:
    """settings.yaml may set its own bands; without them the rules' bands (their one home)."""
    assert risks.bands_in_force({"risk_bands": {"red": 20, "amber": 10}}) == {
        "red": 20,
        "amber": 10,
    }
    assert risks.bands_in_force({"risk_bands": None}) == risks.DEFAULT_BANDS
    assert risks.bands_in_force({}) == {"red": 15, "amber": 5}
