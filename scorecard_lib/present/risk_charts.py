"""The risk heat map: the open risks on a 5 x 5 grid of likelihood by impact.

A module of its own because it is the one chart of the risk register: it bands scores with
the rules' :func:`~scorecard_lib.rules.risks.band` (the one home of the risk bands) and checks
each risk's band against them, so the map and the register cannot disagree.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    RAG_COLOURS,
    RATING_SYMBOLS,
    normalise_band,
)
from scorecard_lib.core.values import is_missing
from scorecard_lib.present.chart_data import join_words, require_columns
from scorecard_lib.present.chart_style import figure
from scorecard_lib.present.charts import Chart, finished_chart, kept_chart
from scorecard_lib.rules.risks import DEFAULT_BANDS
from scorecard_lib.rules.risks import band as risk_band
from scorecard_lib.rules.risks import score as risk_score

LIKELIHOOD_WORDS: tuple[str, ...] = ("Rare", "Unlikely", "Possible", "Likely", "Almost certain")
IMPACT_WORDS: tuple[str, ...] = ("Insignificant", "Minor", "Moderate", "Major", "Critical")


@kept_chart
def risk_heatmap(
    risks: pd.DataFrame,
    title: str,
    *,
    red_from: int = DEFAULT_BANDS["red"],
    amber_from: int = DEFAULT_BANDS["amber"],
) -> Chart:
    """A 5 x 5 grid of likelihood (across) by impact (up) with each risk's id in its cell.

    Cells are shaded by the band of their score (likelihood x impact, banded by the rules'
    :func:`~scorecard_lib.rules.risks.band`): Red from ``red_from``, Amber from
    ``amber_from``, else Green (by default the rules' ``DEFAULT_BANDS``). Each cell also shows
    its score and band symbol, so the bands can be read without colour. ``risks`` columns:
    ``risk_id``, ``title``, ``likelihood``, ``impact``, ``band``.
    """
    require_columns(risks, ["risk_id", "title", "likelihood", "impact", "band"], "risk heat map")
    if not (1 <= amber_from <= red_from <= 25):
        raise InputError(
            f"The risk bands (amber from {amber_from}, red from {red_from}) are not in order",
            fix="set 1 <= amber <= red <= 25 in settings.yaml under risk_bands",
        )

    bands = {"red": red_from, "amber": amber_from}

    rows = []
    for record in risks.to_dict("records"):
        rid = str(record["risk_id"])
        levels = []
        for key in ("likelihood", "impact"):
            level = record[key]
            try:
                number = float(level)
            except (TypeError, ValueError):
                number = math.nan
            if not (number.is_integer() and 1 <= number <= 5):
                raise InputError(
                    f"Risk {rid} has {key} '{level}', which is not a whole number from 1 to 5",
                    where="risk register",
                    fix=f"give the {key} as 1 to 5",
                )
            levels.append(int(number))
        likelihood, impact = levels
        score = risk_score(likelihood, impact)
        band = risk_band(score, bands)
        given = normalise_band(record["band"])
        if given != band:
            raise InputError(
                f"Risk {rid} is banded {given} but its score {score} is {band} with red from "
                f"{red_from} and amber from {amber_from}",
                fix="draw the heat map with the same risk bands used to band the register",
            )
        title_text = "" if is_missing(record["title"]) else str(record["title"])
        rows.append((rid, title_text, likelihood, impact, score, band))
    rows.sort(key=lambda r: (-r[4], r[0]))

    band_codes = {"Green": 0, "Amber": 1, "Red": 2}
    grid = np.zeros((5, 5), dtype=int)  # row 0 is impact 5 (top), column 0 is likelihood 1
    for row in range(5):
        for col in range(5):
            grid[row, col] = band_codes[risk_band(risk_score(col + 1, 5 - row), bands)]
    cell_ids: dict[tuple[int, int], list[str]] = {}
    for rid, _t, likelihood, impact, _s, _b in rows:
        cell_ids.setdefault((5 - impact, likelihood - 1), []).append(rid)

    with figure(6.0, 4.6) as (fig, ax):
        colours = ListedColormap([RAG_COLOURS["Green"], RAG_COLOURS["Amber"], RAG_COLOURS["Red"]])
        # each cell in its band's colour with white gaps, impact 5 at the top, no colour bar:
        # the legend and the symbols in the cells say what the colours mean
        sns.heatmap(
            grid,
            cmap=colours,
            vmin=-0.5,
            vmax=2.5,
            linewidths=2,
            linecolor="white",
            cbar=False,
            xticklabels=[textwrap.fill(f"{i} {w}", 10) for i, w in enumerate(LIKELIHOOD_WORDS, 1)],
            yticklabels=[f"{i} {w}" for i, w in reversed(list(enumerate(IMPACT_WORDS, 1)))],
            ax=ax,
        )
        # the impact words read across, as the likelihood words do (heatmap turns them up)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_xlabel("Likelihood")
        ax.set_ylabel("Impact")
        symbol_of = {code: RATING_SYMBOLS[b] for b, code in band_codes.items()}
        for row in range(5):
            for col in range(5):
                score = (5 - row) * (col + 1)
                ax.text(
                    col + 0.06,
                    row + 0.08,
                    f"{symbol_of[grid[row, col]]} {score}",
                    ha="left",
                    va="top",
                    fontsize=7,
                    color="white",
                )
                ids = sorted(cell_ids.get((row, col), []))
                if not ids:
                    continue
                # two ids a line, or three in smaller type when a cell is crowded
                width, size = (
                    (12, 8.0) if len(ids) <= 4 else (15, 6.5) if len(ids) <= 8 else (20, 5.5)
                )
                text = textwrap.fill(" ".join(ids), width)
                ax.text(
                    col + 0.5,
                    row + 0.58,
                    text,
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=size,
                    fontweight="bold",
                    linespacing=1.1,
                )
        ax.legend(
            handles=[
                Patch(
                    color=RAG_COLOURS["Red"], label=f"{RATING_SYMBOLS['Red']} Red: {red_from}-25"
                ),
                Patch(
                    color=RAG_COLOURS["Amber"],
                    label=f"{RATING_SYMBOLS['Amber']} Amber: {amber_from}-{red_from - 1}",
                ),
                Patch(
                    color=RAG_COLOURS["Green"],
                    label=f"{RATING_SYMBOLS['Green']} Green: 1-{amber_from - 1}",
                ),
            ],
            title="Band by score (likelihood x impact)",
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=3,
            frameon=False,
            title_fontsize=9,
        )
        counts = {b: sum(1 for r in rows if r[5] == b) for b in ("Red", "Amber", "Green")}
        total = len(rows)
        if total == 0:
            alt = f"Risk heat map: {title}. There are no risks to show."
        else:
            parts = [f"{counts[b]} {b.lower()}" for b in ("Red", "Amber", "Green")]
            alt = (
                f"Risk heat map of {total} risk{'s' if total != 1 else ''} by likelihood "
                f"(across) and impact (up): {join_words(parts)}."
            )
            reds = [f"{r[0]} (score {r[4]})" for r in rows if r[5] == "Red"]
            if reds:
                verb = "is" if len(reds) == 1 else "are"
                alt += f" The red risk{'s' if len(reds) > 1 else ''} {verb} {join_words(reds)}."
            else:
                alt += " No risk is red."
        data = pd.DataFrame(
            {
                "Risk": [r[0] for r in rows],
                "Title": [r[1] for r in rows],
                "Likelihood": [f"{r[2]} {LIKELIHOOD_WORDS[r[2] - 1]}" for r in rows],
                "Impact": [f"{r[3]} {IMPACT_WORDS[r[3] - 1]}" for r in rows],
                "Score": [str(r[4]) for r in rows],
                "Band": [r[5] for r in rows],
            }
        )
        return finished_chart(fig, "risks", title, alt, data, ["Score"], "Risk")
