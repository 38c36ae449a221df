"""Charts of one indicator: its trend over recent quarters, and its split by a category.

A module of its own because both charts draw one indicator's figures in its unit (axis,
labels, alt text and table through :class:`~scorecard_lib.present.chart_data.Units`) and say
how it stands against its target.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    NEUTRAL,
    SERIES_COLOUR,
    TEXT_COLOUR,
    normalise_rating,
)
from scorecard_lib.core.values import is_missing
from scorecard_lib.present.chart_data import (
    Units,
    float_column,
    join_words,
    meta_text,
    polarity_phrase,
    require_columns,
)
from scorecard_lib.present.chart_style import HIGHLIGHT, figure, horizontal_bars, no_data_panel
from scorecard_lib.present.charts import Chart, finished_chart, kept_chart


def _quarter_tick(label: str) -> str:
    """``2016/17 Q4`` -> ``Q4`` over ``2016/17``, so eight quarters fit across a chart."""
    match = re.fullmatch(r"\s*(\d{4}/\d{2})\s+(Q[1-4])\s*", label)
    return f"{match.group(2)}\n{match.group(1)}" if match else label


def _step_xy(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points for a step line where each value spans its whole quarter (x-0.5 to x+0.5).

    A value on its own between gaps still shows as a short level line.
    """
    xs = np.repeat(np.arange(len(values), dtype=float), 2) + np.tile([-0.5, 0.5], len(values))
    ys = np.repeat(values, 2)
    return xs, ys


@kept_chart
def trend_chart(history: pd.DataFrame, meta: Mapping[str, Any]) -> Chart:
    """An indicator over recent quarters: value, target and benchmark, oldest quarter first.

    ``history`` columns: ``quarter``, ``quarter_label``, ``value``, ``target``, ``benchmark``
    (missing values as NaN; ``target`` and ``benchmark`` may be left out). ``meta`` keys:
    ``name``, ``unit``, ``unit_label``, ``decimals``, ``polarity``, ``benchmark_label``,
    ``rating``. Gaps are allowed (annual indicators): the value line joins the points there are.
    """
    require_columns(history, ["quarter_label", "value"], "trend chart")
    units = Units(meta)
    name = meta_text(meta, "name")
    if not name:
        raise InputError(
            "The trend chart details are missing the indicator's 'name'",
            fix="pass the name from the catalogue; it is the chart's title",
        )
    bench_label = meta_text(meta, "benchmark_label", "Benchmark")
    labels = [str(x) for x in history["quarter_label"].tolist()]
    n = len(labels)
    values = float_column(history["value"], "trend values")
    targets = (
        float_column(history["target"], "trend targets")
        if "target" in history.columns
        else np.full(n, math.nan)
    )
    benches = (
        float_column(history["benchmark"], "trend benchmarks")
        if "benchmark" in history.columns
        else np.full(n, math.nan)
    )
    has_value = ~np.isnan(values)
    has_target = bool((~np.isnan(targets)).any())
    has_bench = bool((~np.isnan(benches)).any())
    title = name

    with figure(6.0, 2.6) as (fig, ax):
        x = np.arange(n, dtype=float)
        ax.set_xlim(-0.5, max(n, 1) - 0.5)
        ax.set_xticks(x, [_quarter_tick(lb) for lb in labels])
        ax.grid(axis="x", visible=False)
        if not has_value.any():
            no_data_panel(ax, "No data for this period")
        else:
            # the axis first: seaborn labels (and measures) only an axis left unlabelled
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.yaxis.set_major_formatter(units.tick_formatter())
            ax.set_ylabel(textwrap.fill(units.axis, 22))
            # seaborn's lineplot, estimating nothing: one value a quarter, drawn as given
            sns.lineplot(
                x=x[has_value],
                y=values[has_value],
                estimator=None,
                errorbar=None,
                sort=False,
                marker="o",
                markersize=5,
                linewidth=2,
                color=SERIES_COLOUR,
                zorder=3,
                ax=ax,
            )
            line = ax.lines[-1]
            line.set_label("Value")
            handles: list[Any] = [line]
            # The target and benchmark are steps, each value across its whole quarter with a
            # gap where there is none: matplotlib's plot draws the gaps (NaN), while lineplot
            # would drop the missing points and join across them.
            if has_target:
                (tline,) = ax.plot(
                    *_step_xy(targets),
                    linestyle="--",
                    linewidth=1.6,
                    color=TEXT_COLOUR,
                    label="Target",
                    zorder=2,
                )
                handles.append(tline)
            if has_bench:
                (bline,) = ax.plot(
                    *_step_xy(benches),
                    linestyle=":",
                    linewidth=2.2,
                    color=NEUTRAL,
                    label=bench_label,
                    zorder=2,
                )
                handles.append(bline)
            last = int(np.flatnonzero(has_value)[-1])
            ax.annotate(
                units.short(values[last]),
                (x[last], values[last]),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                fontweight="bold",
                color=TEXT_COLOUR,
            )
            ax.set_xlim(-0.5, max(n, 1) - 0.5)
            ax.margins(y=0.25)
            ax.legend(
                handles=handles,
                loc="lower left",
                bbox_to_anchor=(0, 1.0),
                ncol=3,
                frameon=False,
                handlelength=2.6,
            )
        alt = _trend_alt(name, labels, values, targets, benches, units, meta, bench_label)
        data = {"Quarter": labels, units.column("Value"): [units.cell(v) for v in values]}
        if has_target:
            data[units.column("Target")] = [units.cell(v) for v in targets]
        if has_bench:
            data[units.column(bench_label)] = [units.cell(v) for v in benches]
        frame = pd.DataFrame(data)
        numeric = [c for c in frame.columns if c != "Quarter"]
        return finished_chart(fig, "trend", title, alt, frame, numeric, "Quarter")


def _trend_alt(
    name: str,
    labels: list[str],
    values: np.ndarray,
    targets: np.ndarray,
    benches: np.ndarray,
    units: Units,
    meta: Mapping[str, Any],
    bench_label: str,
) -> str:
    n = len(labels)
    if n == 0:
        return f"Chart of {name}. There is no data to show."
    period = f"for {labels[0]}" if n == 1 else f"from {labels[0]} to {labels[-1]}"
    points = np.flatnonzero(~np.isnan(values))
    if len(points) == 0:
        return f"Chart of {name} {period}. There is no data for this period."
    kind = "Line chart" if len(points) > 1 else "Chart"
    out = [f"{kind} of {name} {period}."]
    last = int(points[-1])
    latest = units.full(values[last])
    sentence = (
        f"The latest value is {latest}"
        if last == n - 1
        else f"The latest value, for {labels[last]}, is {latest}"
    )
    if len(points) > 1:
        before = int(points[-2])
        prev = values[before]
        when = "the quarter before" if before == last - 1 else f"in {labels[before]}"
        diff = round(values[last] - prev, 9)
        if diff > 0:
            sentence += f", up from {units.short(prev)} {when}"
        elif diff < 0:
            sentence += f", down from {units.short(prev)} {when}"
        else:
            sentence += f", the same as {when}"
    polarity = polarity_phrase(meta)
    out.append(f"{sentence}; {polarity}." if polarity else f"{sentence}.")
    for series, what in ((targets, "target"), (benches, bench_label)):
        if np.isnan(series[last]):
            known = np.flatnonzero(~np.isnan(series))
            if len(known) == 0:
                continue
            at = int(known[-1])
            out.append(f"The {what} for {labels[at]} is {units.short(series[at])}.")
        else:
            out.append(f"The {what} is {units.short(series[last])}.")
    rating = meta.get("rating")
    if not is_missing(rating) and str(rating).strip():
        word = normalise_rating(rating)
        if word in ("Green", "Amber", "Red"):
            out.append(f"It is rated {word.lower()}.")
        elif word == "Not rated":
            out.append("It is shown for information and not rated.")
    return " ".join(out)


@kept_chart
def breakdown_chart(
    df: pd.DataFrame, meta: Mapping[str, Any], title: str, *, target: float | None = None
) -> Chart:
    """Horizontal bars of one indicator split by a category (e.g. sickness by directorate).

    ``df`` columns: ``category``, ``value``. Bars are sorted highest first; the highest is
    picked out in a darker colour. A target (the keyword, else ``meta['target']``) is drawn as
    a dashed line.
    """
    require_columns(df, ["category", "value"], "breakdown chart")
    units = Units(meta)
    if target is None:
        target = meta.get("target")
    target_value = (
        None if is_missing(target) else float(float_column(pd.Series([target]), "target")[0])
    )
    categories = ["No category" if is_missing(c) else str(c) for c in df["category"].tolist()]
    values = float_column(df["value"], "breakdown values")
    order = sorted(
        range(len(values)),
        key=lambda i: (math.isnan(values[i]), -values[i] if not math.isnan(values[i]) else 0),
    )
    categories = [categories[i] for i in order]
    values = values[order] if len(order) else values
    known = [i for i in range(len(values)) if not math.isnan(values[i])]

    with figure(6.0, 1.1 + 0.34 * max(len(categories), 1)) as (fig, ax):
        if not known:
            no_data_panel(ax, "No data to show")
            ax.set_xticks([])
        else:
            shown = values[known]
            colours = [HIGHLIGHT if i == 0 else SERIES_COLOUR for i in range(len(known))]
            ax.xaxis.set_major_formatter(units.tick_formatter())
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
            ax.set_xlabel(textwrap.fill(units.axis, 40))
            y = horizontal_bars(ax, shown, colours)
            span = max(float(np.nanmax(np.abs(shown))), abs(target_value or 0.0), 1e-9)
            for yi, value in zip(y, shown, strict=True):
                ax.text(
                    value + span * 0.01,
                    yi,
                    units.short(value),
                    va="center",
                    fontsize=9,
                    fontweight="bold" if yi == 0 else "normal",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
                    zorder=4,
                )
            ax.set_yticks(y, [textwrap.fill(categories[i], 28) for i in known])
            if target_value is not None:
                ax.axvline(target_value, linestyle="--", linewidth=1.6, color=TEXT_COLOUR)
                ax.legend(
                    handles=[
                        Line2D(
                            [],
                            [],
                            linestyle="--",
                            color=TEXT_COLOUR,
                            label=f"Target: {units.short(target_value)}",
                        )
                    ],
                    loc="lower left",
                    bbox_to_anchor=(0, 1.0),
                    frameon=False,
                    handlelength=2.6,
                )
            low = min(0.0, float(np.nanmin(shown)))
            high = max(float(np.nanmax(shown)), target_value or 0.0)
            ax.set_xlim(low * 1.15, high * 1.15 if high > 0 else 1)
            ax.grid(axis="y", visible=False)
        alt = _breakdown_alt(title, categories, values, known, units, target_value, meta)
        data = pd.DataFrame(
            {"Category": categories, units.column("Value"): [units.cell(v) for v in values]}
        )
        value_column = units.column("Value")
        return finished_chart(fig, "breakdown", title, alt, data, [value_column], "Category")


def _breakdown_alt(
    title: str,
    categories: list[str],
    values: np.ndarray,
    known: list[int],
    units: Units,
    target: float | None,
    meta: Mapping[str, Any],
) -> str:
    if not known:
        return f"Bar chart of {title}. There is no data to show."
    count = len(known)
    out = [f"Bar chart of {title}, {count} categor{'y' if count == 1 else 'ies'}."]
    top, bottom = known[0], known[-1]
    if count == 1:
        out.append(f"{categories[top]} is {units.full(values[top])}.")
    else:
        out.append(
            f"The highest is {categories[top]} at {units.full(values[top])} and the lowest is "
            f"{categories[bottom]} at {units.full(values[bottom])}."
        )
    if target is not None:
        sentence = f"The target is {units.full(target)}"
        polarity = meta_text(meta, "polarity")
        if polarity in ("higher_is_better", "lower_is_better"):
            worse = [
                i
                for i in known
                if (values[i] < target if polarity == "higher_is_better" else values[i] > target)
            ]
            side = "below" if polarity == "higher_is_better" else "above"
            sentence += f"; {len(worse)} of {count} {'is' if len(worse) == 1 else 'are'} {side} it"
        out.append(sentence + ".")
    missing = [categories[i] for i in range(len(categories)) if i not in set(known)]
    if missing:
        out.append(f"There is no data for {join_words(missing)}.")
    return " ".join(out)
