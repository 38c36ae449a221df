"""Charts of ratings: how many indicators have each rating, by theme, and quarter by quarter.

A module of its own because these three charts share one kind of drawing (bars of counts by
rating, stacked where there are several rows) and the words for ratings.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    RAG_COLOURS,
    RATING_SYMBOLS,
    RATINGS,
    normalise_rating,
)
from scorecard_lib.core.values import is_missing
from scorecard_lib.present.chart_data import (
    RATING_WORDS,
    join_words,
    require_columns,
    whole_count,
)
from scorecard_lib.present.chart_style import figure, horizontal_bars, no_data_panel
from scorecard_lib.present.charts import Chart, finished_chart, kept_chart


@kept_chart
def rag_counts_chart(counts: Mapping[str, int], quarter_prose: str) -> Chart:
    """Horizontal bars: how many indicators have each rating, in ``RATINGS`` order."""
    totals = dict.fromkeys(RATINGS, 0)
    for rating, number in counts.items():
        totals[normalise_rating(rating)] += whole_count(number, "rating counts")
    total = sum(totals.values())
    title = f"Indicators by rating, {quarter_prose}"

    with figure(6.0, 2.3) as (fig, ax):
        values = [totals[r] for r in RATINGS]
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Number of indicators")
        y = horizontal_bars(ax, values, [RAG_COLOURS[r] for r in RATINGS])
        ax.set_yticks(y, [f"{RATING_SYMBOLS[r]} {r}" for r in RATINGS])
        top = max(values) if total else 1
        ax.set_xlim(0, top * 1.12 + 0.5)
        for yi, number in zip(y, values, strict=True):
            ax.text(number + top * 0.01 + 0.05, yi, f"{number:,}", va="center", fontsize=9)
        ax.grid(axis="y", visible=False)
        parts = [f"{totals[r]:,} {RATING_WORDS[r]}" for r in RATINGS]
        alt = (
            f"Bar chart of the {total:,} indicator{'s' if total != 1 else ''} in the Scorecard "
            f"by rating for {quarter_prose}: {join_words(parts)}."
        )
        data = pd.DataFrame({"Rating": list(RATINGS), "Indicators": [f"{v:,}" for v in values]})
        return finished_chart(fig, "ratings", title, alt, data, ["Indicators"], "Rating")


def _stacked_rating_bars(
    fig: Figure, ax: Any, rows: Sequence[str], table: Mapping[str, Mapping[str, int]]
) -> None:
    """Stacked horizontal bars, one per row (first at the top), split by rating: each
    segment wide enough is labelled with its rating's symbol and count, each bar with its
    total, and a legend names the ratings with their symbols (never colour alone).

    Drawn with matplotlib's ``barh``: seaborn's barplot does not stack bars (its stacking,
    ``histplot(multiple="stack")``, counts observations rather than drawing given totals)."""
    row_totals = {r: sum(table[r].values()) for r in rows}
    y = np.arange(len(rows))
    widest = max(max(row_totals.values()), 1)
    left = np.zeros(len(rows))
    handles = []
    for rating in RATINGS:
        widths = np.array([table[r][rating] for r in rows], dtype=float)
        if not widths.any():
            continue
        colour = RAG_COLOURS[rating]
        ax.barh(y, widths, left=left, color=colour, height=0.65, edgecolor="white")
        handles.append(Patch(color=colour, label=f"{RATING_SYMBOLS[rating]} {rating}"))
        for yi, start, width in zip(y, left, widths, strict=True):
            share = width / widest
            if share >= 0.09:
                label = f"{RATING_SYMBOLS[rating]} {int(width)}"
            elif share >= 0.04:
                label = f"{int(width)}"
            else:
                continue
            ax.text(
                start + width / 2,
                yi,
                label,
                ha="center",
                va="center",
                color="white",
                fontsize=8.5,
                fontweight="bold",
            )
        left += widths
    for yi, row in zip(y, rows, strict=True):
        ax.text(
            row_totals[row] + widest * 0.01,
            yi,
            f"{row_totals[row]:,}",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(y, [textwrap.fill(r, 24) for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.08 + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Number of indicators")
    ax.grid(axis="y", visible=False)
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncol=len(handles),
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )


@kept_chart
def rag_by_theme_chart(df: pd.DataFrame, quarter_prose: str) -> Chart:
    """Stacked horizontal bars: for each Corporate Plan theme, its indicators by rating.

    ``df`` has one row per theme and rating with columns ``theme``, ``rating``, ``count``.
    Themes appear in the order they first occur in ``df``.
    """
    require_columns(df, ["theme", "rating", "count"], "chart of ratings by theme")
    themes: list[str] = []
    table: dict[str, dict[str, int]] = {}
    for theme, rating, number in df[["theme", "rating", "count"]].itertuples(index=False):
        name = "No theme" if is_missing(theme) or not str(theme).strip() else str(theme)
        if name not in table:
            themes.append(name)
            table[name] = dict.fromkeys(RATINGS, 0)
        table[name][normalise_rating(rating)] += whole_count(number, "ratings by theme")
    title = f"Indicators by theme and rating, {quarter_prose}"
    row_totals = {t: sum(table[t].values()) for t in themes}

    with figure(6.0, 1.2 + 0.42 * max(len(themes), 1)) as (fig, ax):
        if not themes:
            no_data_panel(ax, "No indicators to show")
            ax.set_xticks([])
        else:
            _stacked_rating_bars(fig, ax, themes, table)
        sentences = []
        for theme in themes:
            bits = [f"{table[theme][r]:,} {RATING_WORDS[r]}" for r in RATINGS if table[theme][r]]
            sentences.append(f"{theme}, {row_totals[theme]:,} ({join_words(bits)})")
        grand = sum(row_totals.values())
        alt = (
            f"Stacked bar chart of the {grand:,} indicators by Corporate Plan theme and rating "
            f"for {quarter_prose}"
        )
        alt += f": {'; '.join(sentences)}." if sentences else ". There are no indicators."
        data = pd.DataFrame(
            {
                "Theme": themes,
                **{r: [f"{table[t][r]:,}" for t in themes] for r in RATINGS},
                "Total": [f"{row_totals[t]:,}" for t in themes],
            }
        )
        return finished_chart(fig, "themes", title, alt, data, [*RATINGS, "Total"], "Theme")


def ratings_by_quarter_chart(counts: Sequence[tuple[str, Mapping[str, int]]]) -> Chart:
    """Stacked horizontal bars: for each published quarter, its indicators by rating.

    ``counts``: ``(quarter label, {rating: count})`` pairs in the order to show them (the
    archive page lists the newest first). A rating missing from a quarter counts 0.
    """
    rows: list[str] = []
    table: dict[str, dict[str, int]] = {}
    for label, by_rating in counts:
        name = str(label)
        if name in table:
            raise InputError(
                f"The chart of ratings by quarter has '{name}' twice",
                fix="pass each quarter once",
            )
        rows.append(name)
        table[name] = dict.fromkeys(RATINGS, 0)
        for rating, number in by_rating.items():
            table[name][normalise_rating(rating)] += whole_count(number, "ratings by quarter")
    title = "Indicators by rating, quarter by quarter"
    with figure(6.0, 1.2 + 0.42 * max(len(rows), 1)) as (fig, ax):
        if not rows:
            no_data_panel(ax, "No quarter to show")
            ax.set_xticks([])
        else:
            _stacked_rating_bars(fig, ax, rows, table)
        sentences = []
        for row in rows:
            bits = [f"{table[row][r]:,} {RATING_WORDS[r]}" for r in RATINGS if table[row][r]]
            sentences.append(f"{row}: {join_words(bits) or 'no indicators'}")
        alt = f"Stacked bar chart of the Scorecard's indicators by rating for {len(rows)} "
        alt += f"quarter{'s' if len(rows) != 1 else ''}, newest first"
        alt += f". {'; '.join(sentences)}." if sentences else ". There is no quarter to show."
        data = pd.DataFrame(
            {
                "Quarter": rows,
                **{r: [f"{table[q][r]:,}" for q in rows] for r in RATINGS},
                "Total": [f"{sum(table[q].values()):,}" for q in rows],
            }
        )
        return finished_chart(fig, "quarters", title, alt, data, [*RATINGS, "Total"], "Quarter")
