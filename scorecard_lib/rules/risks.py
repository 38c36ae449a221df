"""Corporate Risk Register: scores, bands and trend. Pure functions: no I/O."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from scorecard_lib.core.quarters import Quarter
from scorecard_lib.core.values import is_missing

BANDS: tuple[str, ...] = ("Red", "Amber", "Green")
TRENDS: tuple[str, ...] = ("up", "down", "same", "new", "closed")
DEFAULT_BANDS: Mapping[str, int] = {"red": 15, "amber": 5}


def bands_in_force(settings: Mapping[str, object]) -> Mapping[str, int]:
    """The bands a quarter uses: those settings.yaml gives (``risk_bands``), else the default."""
    given = settings.get("risk_bands")
    return given if isinstance(given, Mapping) else DEFAULT_BANDS


def score(likelihood: int | float, impact: int | float) -> int:
    """Likelihood x impact, each 1-5, giving 1-25."""
    return int(likelihood) * int(impact)


def band(value: int, bands: Mapping[str, int] = DEFAULT_BANDS) -> str:
    """Red from ``bands['red']`` up, Amber from ``bands['amber']`` up, otherwise Green."""
    if value >= bands["red"]:
        return "Red"
    if value >= bands["amber"]:
        return "Amber"
    return "Green"


def trend(current: int, previous: int | None, status: str) -> str:
    if status == "closed":
        return "closed"
    if previous is None:
        return "new"
    if current > previous:
        return "up"
    if current < previous:
        return "down"
    return "same"


TREND_WORDS: Mapping[str, str] = {
    "up": "Score up since last quarter",
    "down": "Score down since last quarter",
    "same": "No change since last quarter",
    "new": "New this quarter",
    "closed": "Closed this quarter",
}


def register(
    risks: pd.DataFrame, quarter: Quarter, bands: Mapping[str, int] = DEFAULT_BANDS
) -> pd.DataFrame:
    """The register at ``quarter``: one row per risk with inherent, current and target scores
    and bands, the previous quarter's current score and the trend. Sorted by current score,
    highest first, then id."""
    now = risks[risks["quarter"] == quarter.id].copy()
    # the optional reason column: absent in older files, blank where no reason was given
    reasons = now["reason"] if "reason" in now.columns else pd.Series(None, index=now.index)
    now["reason"] = [
        None if is_missing(r) or not str(r).strip() else str(r).strip() for r in reasons
    ]
    before = risks[risks["quarter"] == quarter.previous().id]
    prev_scores = {
        r["risk_id"]: score(r["current_likelihood"], r["current_impact"])
        for r in before.to_dict("records")
        if r["status"] == "open"
    }
    for stage in ("inherent", "current", "target"):
        now[f"{stage}_score"] = [
            score(lk, im)
            for lk, im in zip(now[f"{stage}_likelihood"], now[f"{stage}_impact"], strict=True)
        ]
        now[f"{stage}_band"] = now[f"{stage}_score"].map(lambda s: band(s, bands))
    for col in ("inherent", "current", "target"):
        for part in ("likelihood", "impact"):
            now[f"{col}_{part}"] = now[f"{col}_{part}"].astype(int)
    now["previous_score"] = now["risk_id"].map(prev_scores)
    now["trend"] = [
        trend(c, None if is_missing(p) else int(p), s)
        for c, p, s in zip(now["current_score"], now["previous_score"], now["status"], strict=True)
    ]
    now = now.sort_values(["current_score", "risk_id"], ascending=[False, True], kind="stable")
    return now.reset_index(drop=True)


def band_counts(reg: pd.DataFrame) -> dict[str, int]:
    """How many open risks sit in each current band."""
    open_ = reg[reg["status"] == "open"]
    found = open_["current_band"].value_counts()
    return {b: int(found.get(b, 0)) for b in BANDS}
