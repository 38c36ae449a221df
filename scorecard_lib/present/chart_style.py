"""How every chart looks: seaborn's theme with what could vary between machines pinned, and
the figure each chart is drawn on.

A module of its own so that the look is set in one place for every kind of chart, and so
that seaborn and matplotlib are imported (once, in the zygote that forks the kernels) by the
modules that draw and not by the :class:`~scorecard_lib.present.charts.Chart` type.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after matplotlib.use: the backend is chosen first
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from scorecard_lib.core.formatting import TEXT_COLOUR

SVG_HASHSALT = "scorecard"
# Any SVG drawn in this process (not only ours) gets stable clip-path and marker ids.
matplotlib.rcParams["svg.hashsalt"] = SVG_HASHSALT

#: GOV.UK dark blue, for the highest bar of a breakdown.
HIGHLIGHT = "#003078"

#: seaborn's clean "whitegrid" look at its "paper" scale, in the report's fonts and colours,
#: with everything that could vary between machines pinned: the font (layout is measured with
#: matplotlib's own DejaVu Sans, so it never depends on the fonts installed), the resolution
#: and the SVG's text, ids and images.
STYLE: dict[str, Any] = {
    **sns.axes_style(
        "whitegrid",
        rc={
            "font.family": "DejaVu Sans",
            "font.sans-serif": ["DejaVu Sans"],
            "text.color": TEXT_COLOUR,
            "axes.labelcolor": TEXT_COLOUR,
            "xtick.color": TEXT_COLOUR,
            "ytick.color": TEXT_COLOUR,
            "axes.edgecolor": "#b1b4b6",
            "grid.color": "#dddddd",
        },
    ),
    **sns.plotting_context(
        "paper",
        rc={
            "font.size": 9.5,
            "axes.labelsize": 9.5,
            "axes.titlesize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
        },
    ),
    "figure.dpi": 96,
    "savefig.dpi": 96,
    "svg.fonttype": "none",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.image_inline": True,
    "path.simplify": True,
    "axes.unicode_minus": False,
    "text.parse_math": False,  # a "$" in a name is a dollar sign, not mathematics
}


@contextmanager
def figure(width: float, height: float) -> Iterator[tuple[Figure, Any]]:
    """A figure in :data:`STYLE`, always closed afterwards (even on error). The style is
    applied to this figure only (``rc_context``), never to the process: a notebook's own
    plots keep matplotlib's defaults."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def no_data_panel(ax: Any, message: str) -> None:
    """Say so in the middle of an empty chart, in place of bars or lines."""
    ax.set_yticks([])
    ax.grid(False)
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=11,
        color=TEXT_COLOUR,
    )


def horizontal_bars(ax: Any, values: Sequence[float], colours: Sequence[str]) -> np.ndarray:
    """One bar a row, the first at the top, each in its own colour; returns the rows' y
    positions for their labels. seaborn's barplot, estimating nothing (one value a bar, so no
    error bar and no random resampling) and with the colours as given (not desaturated, so
    they keep the contrast the report's palette was chosen for)."""
    y = np.arange(len(values))
    sns.barplot(
        x=list(values),
        y=y,
        orient="y",
        hue=y,
        palette=list(colours),
        legend=False,
        saturation=1,
        width=0.65,
        errorbar=None,
        ax=ax,
    )
    return y
