"""Charts for the report: small, accessible, and the same bytes every time.

Each function returns a :class:`Chart`: the picture, a text alternative written from the
numbers (what a sighted reader takes from the chart), and the numbers themselves as a table
that the report shows under the chart in a ``<details>`` element. Colour is never the only
cue: ratings carry their symbol and word, lines differ in style and markers, and the heat map
writes each cell's score and band symbol.

Image format, measured on the build machine (2 cores; matplotlib 3.11.2): the whole
:func:`trend_chart` call for a typical chart (8 quarters, value, target and England average
lines, 6 x 2.6 inches), median of 25 calls, and the bytes it adds to the HTML report:

=================================  ========  ===========  ==================
image written as                   ms/chart  image bytes  bytes in the report
=================================  ========  ===========  ==================
SVG, text kept as text (chosen)    43        10,649       14,200 (base64)
SVG, text drawn as paths           50        36,093       48,124 (base64)
PNG 80 dpi                         51        22,728       30,304 (base64)
PNG 96 dpi                         53        27,748       37,000 (base64)
PNG 150 dpi                        57        45,730       60,976 (base64)
=================================  ========  ===========  ==================

For a report of about 50 charts the chosen format costs about 2 seconds and 0.7 MB, against
about 2.6 seconds and 1.5-1.9 MB for PNG that is still blurred on a high-resolution screen.

SVG with text kept as text is the fastest and the smallest, and it stays sharp when a reader
zooms to 200% or more (WCAG 1.4.4), where a PNG blurs. The report shows it as an ``<img>``
whose source is the SVG itself (a base64 ``data:`` URL, a third larger than inline SVG), so
each chart is a document of its own: its ids, styles and text never meet the page's, and the
report lays the chart out as it comes (:meth:`Chart._repr_html_`). The costs, and what we do
about them:

* The reader's browser draws the text, so the font must be named with fallbacks
  (``'DejaVu Sans', Verdana, Arial, sans-serif``); layout is computed with matplotlib's own
  bundled DejaVu Sans, so it never depends on the fonts installed on the build machine.
* An SVG written inline (the archive page's chart, :meth:`Chart.svg_inline`) shares one id
  space with the page. Matplotlib writes ids such as ``axes_1`` in every chart, so
  :func:`_tidy_svg` drops the ids nothing refers to and prefixes the rest with
  the chart's kind, a slug of its title and a short hash of the drawing: deterministic, and
  two charts share ids only if they are the same drawing (so the shared ids mean the same).
* Determinism: ``svg.hashsalt`` is fixed, the date and software metadata are removed, the
  font family and sizes are fixed, and every figure is closed after use.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after matplotlib.use: the backend is chosen first
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    NEUTRAL,
    RAG_COLOURS,
    RATING_SYMBOLS,
    RATINGS,
    SERIES_COLOUR,
    TEXT_COLOUR,
    UNITS,
    decimal_places,
    format_number,
    format_value,
    normalise_band,
    normalise_rating,
    unit_axis_label,
)
from scorecard_lib.core.store import current_store
from scorecard_lib.core.values import is_missing
from scorecard_lib.present.tables import Table, html_table

SVG_HASHSALT = "scorecard"
# Any SVG drawn in this process (not only ours) gets stable clip-path and marker ids.
matplotlib.rcParams["svg.hashsalt"] = SVG_HASHSALT

MIME = "image/svg+xml"
PNG_MIME = "image/png"
#: Pixels per inch of a chart drawn as PNG (:func:`raster`): sharp on paper.
PRINT_DPI = 200
#: When set, charts are drawn as PNG at this resolution instead of SVG (:func:`raster`).
_RASTER_DPI: ContextVar[int | None] = ContextVar("raster_dpi", default=None)
FONT_FALLBACK = "'DejaVu Sans', Verdana, Arial, sans-serif"
#: A chart that grows past this many bytes is a sign something is being drawn wastefully.
SIZE_BUDGET = 25_000

LIKELIHOOD_WORDS: tuple[str, ...] = ("Rare", "Unlikely", "Possible", "Likely", "Almost certain")
IMPACT_WORDS: tuple[str, ...] = ("Insignificant", "Minor", "Moderate", "Major", "Critical")

_HIGHLIGHT = "#003078"  # GOV.UK dark blue, for the highest bar of a breakdown

# seaborn's clean "whitegrid" look at its "paper" scale: ``sns.axes_style("whitegrid")`` and
# ``sns.plotting_context("paper")`` of seaborn 0.13.2, written out (bar the colour map). Importing
# seaborn for these two dictionaries and one heat map cost every kernel 0.1-0.2 s; the charts are
# drawn with plain matplotlib and look the same.
_SEABORN_WHITEGRID_PAPER: dict[str, Any] = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.facecolor": "white",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 9.600000000000001,
    "axes.linewidth": 1.0,
    "axes.spines.bottom": True,
    "axes.spines.left": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "axes.titlesize": 9.600000000000001,
    "figure.facecolor": "white",
    "font.family": ["sans-serif"],
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "font.size": 9.600000000000001,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "grid.linewidth": 0.8,
    "legend.fontsize": 8.8,
    "legend.title_fontsize": 9.600000000000001,
    "lines.linewidth": 1.2000000000000002,
    "lines.markersize": 4.800000000000001,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "patch.linewidth": 0.8,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.direction": "out",
    "xtick.labelsize": 8.8,
    "xtick.major.size": 4.800000000000001,
    "xtick.major.width": 1.0,
    "xtick.minor.size": 3.2,
    "xtick.minor.width": 0.8,
    "xtick.top": False,
    "ytick.color": ".15",
    "ytick.direction": "out",
    "ytick.labelsize": 8.8,
    "ytick.left": False,
    "ytick.major.size": 4.800000000000001,
    "ytick.major.width": 1.0,
    "ytick.minor.size": 3.2,
    "ytick.minor.width": 0.8,
    "ytick.right": False,
}

# That look, with everything that could vary between machines pinned.
_STYLE: dict[str, Any] = {
    **_SEABORN_WHITEGRID_PAPER,
    "font.family": "DejaVu Sans",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.5,
    "axes.labelsize": 9.5,
    "axes.titlesize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "text.color": TEXT_COLOUR,
    "axes.labelcolor": TEXT_COLOUR,
    "xtick.color": TEXT_COLOUR,
    "ytick.color": TEXT_COLOUR,
    "axes.edgecolor": "#b1b4b6",
    "grid.color": "#dddddd",
    "figure.dpi": 96,
    "savefig.dpi": 96,
    "svg.fonttype": "none",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.image_inline": True,
    "path.simplify": True,
    "axes.unicode_minus": False,
    "text.parse_math": False,  # a "$" in a name is a dollar sign, not mathematics
}


# --- the Chart object -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Chart:
    """A finished chart. In Jupyter it displays as a figure with its data table."""

    title: str
    alt: str
    image: bytes
    mime: str
    data: pd.DataFrame
    numeric: tuple[str, ...] = field(default=())
    row_header: str | None = None

    def svg_inline(self) -> str:
        """The SVG for writing inside HTML, labelled for assistive technology (the archive
        page draws its one chart this way)."""
        text = self.image.decode("utf-8")
        label = html.escape(self.alt, quote=True)
        return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)

    def image_html(self) -> str:
        """The picture as an image whose source is the drawing itself (a ``data:`` URL), with
        the alt text: a drawing of its own, so its ids, styles and text never mix with the
        page's, and the report lays it out as it is."""
        encoded = base64.b64encode(self.image).decode("ascii")
        alt = html.escape(self.alt, quote=True)
        return f'<img src="data:{self.mime};base64,{encoded}" alt="{alt}">'

    def table(self) -> Table:
        """The data table behind the chart."""
        return html_table(self.data, self.title, numeric=self.numeric, row_header=self.row_header)

    def table_html(self) -> str:
        """The data table behind the chart (the bare ``<table>``)."""
        return self.table().html

    def _repr_html_(self) -> str:
        """The chart as the report shows it: caption, picture, and its data table in a
        collapsed ``<details>``, the table in its labelled scroll box."""
        title = html.escape(self.title)
        # On a narrow screen the picture keeps a readable size and scrolls sideways in its
        # own box (focusable, so it can be scrolled from the keyboard); the page does not.
        return (
            '<figure class="chart">\n'
            f"<figcaption>{title}</figcaption>\n"
            f'<div class="chart-scroll" role="region" aria-label="Chart: {title}" tabindex="0">'
            f"{self.image_html()}</div>\n"
            f"<details><summary>Data behind this chart: {title}</summary>\n"
            f"{self.table()._repr_html_()}\n"
            "</details>\n"
            "</figure>"
        )

    def __repr__(self) -> str:
        return f"<Chart: {self.title}>"


# --- charts kept between builds (kept.py) ----------------------------------------------------


def _to_record(chart: Chart) -> dict[str, Any]:
    data = chart.data
    return {
        "title": chart.title,
        "alt": chart.alt,
        "image": chart.image.decode("utf-8"),
        "mime": chart.mime,
        "numeric": list(chart.numeric),
        "row_header": chart.row_header,
        "columns": [str(c) for c in data.columns],
        "dtypes": [str(t) for t in data.dtypes],
        "values": [data[c].tolist() for c in data.columns],
    }


def _from_record(record: Mapping[str, Any]) -> Chart:
    columns = list(record["columns"])
    data = pd.DataFrame(
        {
            c: pd.Series(values, dtype=dtype)
            for c, dtype, values in zip(columns, record["dtypes"], record["values"], strict=True)
        },
        columns=columns,
    )
    return Chart(
        title=str(record["title"]),
        alt=str(record["alt"]),
        image=str(record["image"]).encode("utf-8"),
        mime=str(record["mime"]),
        data=data,
        numeric=tuple(record["numeric"]),
        row_header=record["row_header"],
    )


def _same(a: Chart, b: Chart) -> bool:
    """Whether ``b`` displays exactly as ``a`` and carries the same table."""
    return (
        a._repr_html_() == b._repr_html_()
        and list(a.data.columns) == list(b.data.columns)
        and list(a.data.dtypes) == list(b.data.dtypes)
        and a.data.equals(b.data)
        and (a.title, a.alt, a.image, a.mime, a.numeric, a.row_header)
        == (b.title, b.alt, b.image, b.mime, b.numeric, b.row_header)
    )


_F = TypeVar("_F", bound=Callable[..., Chart])


def _kept(fn: _F) -> _F:
    """Take a chart from the store of kept work when it is on and holds this very call;
    otherwise draw it, and keep it if it reads back exactly (see ``kept.py``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Chart:
        if _RASTER_DPI.get() is not None:  # only SVG charts are kept
            return fn(*args, **kwargs)
        store = current_store()
        key = store.key(f"chart {fn.__name__}", args, kwargs) if store is not None else None
        if store is None or key is None:
            return fn(*args, **kwargs)
        record = store.chart(key)
        if record is not None:
            try:
                return _from_record(record)
            except Exception:  # a record this code cannot read: draw instead
                pass
        chart = fn(*args, **kwargs)
        try:
            record = json.loads(json.dumps(_to_record(chart)))
            if _same(chart, _from_record(record)):
                store.keep_chart(key, record)
        except Exception:  # a chart the JSON cannot carry exactly is simply not kept
            pass
        return chart

    return wrapper  # type: ignore[return-value]


# --- drawing helpers --------------------------------------------------------------------


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[Figure, Any]]:
    """A figure in our pinned style, always closed afterwards (even on error)."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _id_prefix(kind: str, title: str, content: str) -> str:
    """``trend-looked-after-children-per-10-000-1a2b3c-``: readable, and the hash of the
    drawing keeps two different charts with the same title apart."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32].strip("-") or "chart"
    digest = hashlib.sha256(f"{kind}\n{title}\n{content}".encode()).hexdigest()[:6]
    return f"{kind}-{slug}-{digest}-"


_ID = re.compile(r'\sid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')


def _tidy_svg(svg: str, prefix: str) -> str:
    """Make matplotlib's SVG fit to sit inline in a page beside other charts.

    Drops the XML prolog, doctype and metadata; drops ids nothing refers to and prefixes the
    rest; names fallback fonts; removes layout whitespace.
    """
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    referenced = {m.group(2) for m in _REF.finditer(svg)}
    svg = _ID.sub(lambda m: f' id="{prefix}{m.group(1)}"' if m.group(1) in referenced else "", svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    svg = svg.replace("font-family: 'DejaVu Sans'", f"font-family: {FONT_FALLBACK}")
    svg = re.sub(r">\s+<", "><", svg)
    svg = re.sub(r"\s*\n\s*", " ", svg)
    return svg.strip() + "\n"


@contextmanager
def raster(dpi: int = PRINT_DPI) -> Iterator[None]:
    """Inside this block every chart is drawn as a PNG at ``dpi`` pixels per inch (for the
    Word paper, which cannot show SVG everywhere), with the same alt text and data table.
    The PNG carries no date or software metadata, so the same chart gives the same bytes."""
    token = _RASTER_DPI.set(int(dpi))
    try:
        yield
    finally:
        _RASTER_DPI.reset(token)


def _render(fig: Figure, kind: str, title: str) -> bytes:
    dpi = _RASTER_DPI.get()
    if dpi is not None:
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=dpi, metadata={"Software": None})
        return png.getvalue()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    raw = buffer.getvalue()
    return _tidy_svg(raw, _id_prefix(kind, title, raw)).encode("utf-8")


def _chart(
    fig: Figure,
    kind: str,
    title: str,
    alt: str,
    data: pd.DataFrame,
    numeric: Sequence[str],
    row_header: str | None,
) -> Chart:
    return Chart(
        title=title,
        alt=alt,
        image=_render(fig, kind, title),
        mime=MIME if _RASTER_DPI.get() is None else PNG_MIME,
        data=data.reset_index(drop=True),
        numeric=tuple(numeric),
        row_header=row_header,
    )


def _no_data_panel(ax: Any, message: str) -> None:
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


def _require_columns(df: Any, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The {what} needs a pandas DataFrame, not {type(df).__name__}",
            fix=f"pass a DataFrame with the columns {', '.join(columns)}",
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"The {what} is missing the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}",
            fix=f"pass a DataFrame with the columns {', '.join(columns)}",
        )


def _floats(series: pd.Series, what: str) -> np.ndarray:
    """A column as floats, missing values as NaN; text that is not a number is an error."""
    out = np.empty(len(series), dtype=float)
    for i, item in enumerate(series.tolist()):
        if is_missing(item):
            out[i] = math.nan
            continue
        try:
            out[i] = float(item)
        except (TypeError, ValueError):
            raise InputError(
                f"'{item}' in the {what} is not a number", fix="pass numbers, or NaN for none"
            ) from None
    return out


def _meta_text(meta: Mapping[str, Any], key: str, default: str = "") -> str:
    value = meta.get(key, default)
    if is_missing(value):
        return default
    return str(value).strip() or default


class _Units:
    """Formats figures for one indicator: in sentences, in short, and for axis and table."""

    def __init__(self, meta: Mapping[str, Any]) -> None:
        for key in ("unit", "decimals"):
            if key not in meta or is_missing(meta[key]):
                raise InputError(
                    f"The chart details are missing '{key}'",
                    fix="pass the indicator's unit and decimals from the catalogue",
                )
        self.unit = str(meta["unit"])
        if self.unit not in UNITS:
            raise InputError(
                f"'{self.unit}' is not a unit the report knows", fix=f"use one of {UNITS}"
            )
        self.decimals = decimal_places(meta["decimals"])
        self.label = _meta_text(meta, "unit_label")
        self.axis = unit_axis_label(self.unit, self.label)

    def full(self, value: float) -> str:
        return format_value(value, self.unit, self.decimals, self.label)

    def short(self, value: float) -> str:
        """A number as it reads after a unit has already been said: ``60.6``, ``45%``."""
        if self.unit in ("percent", "gbp"):
            return format_value(value, self.unit, self.decimals)
        return format_number(value, self.decimals)

    def column(self, heading: str) -> str:
        """A table heading carrying the unit, so cells can hold bare numbers."""
        suffix = {"percent": "%", "gbp": "£"}.get(self.unit, self.axis.lower())
        return f"{heading} ({suffix})"

    def cell(self, value: float) -> str:
        return format_number(value, self.decimals)

    def tick_formatter(self) -> FuncFormatter:
        def fmt(value: float, _pos: int) -> str:
            text = f"{value:,.10g}"
            if text in ("-0", "-0.0"):
                text = "0"
            if self.unit == "percent":
                return f"{text}%"
            if self.unit == "gbp":
                return f"-£{text[1:]}" if text.startswith("-") else f"£{text}"
            return text

        return FuncFormatter(fmt)


def _polarity_phrase(meta: Mapping[str, Any]) -> str:
    polarity = _meta_text(meta, "polarity")
    return {
        "higher_is_better": "higher is better",
        "lower_is_better": "lower is better",
    }.get(polarity, "")


def _join_words(items: Sequence[str]) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


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


# --- charts -----------------------------------------------------------------------------

_RATING_WORDS: Mapping[str, str] = {
    "Green": "green",
    "Amber": "amber",
    "Red": "red",
    "Not rated": "not rated",
    "No data": "with no data",
}


def _count(value: Any, what: str) -> int:
    if is_missing(value):
        return 0
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"'{value}' in the {what} is not a count", fix="pass whole numbers"
        ) from None
    if number < 0 or not number.is_integer():
        raise InputError(f"'{value}' in the {what} is not a count", fix="pass whole numbers >= 0")
    return int(number)


@_kept
def rag_counts_chart(counts: Mapping[str, int], quarter_prose: str) -> Chart:
    """Horizontal bars: how many indicators have each rating, in ``RATINGS`` order."""
    totals = dict.fromkeys(RATINGS, 0)
    for rating, number in counts.items():
        totals[normalise_rating(rating)] += _count(number, "rating counts")
    total = sum(totals.values())
    title = f"Indicators by rating, {quarter_prose}"

    with _figure(6.0, 2.3) as (fig, ax):
        y = np.arange(len(RATINGS))
        values = [totals[r] for r in RATINGS]
        ax.barh(y, values, color=[RAG_COLOURS[r] for r in RATINGS], height=0.65)
        ax.set_yticks(y, [f"{RATING_SYMBOLS[r]} {r}" for r in RATINGS])
        ax.invert_yaxis()
        top = max(values) if total else 1
        ax.set_xlim(0, top * 1.12 + 0.5)
        for yi, number in zip(y, values, strict=True):
            ax.text(number + top * 0.01 + 0.05, yi, f"{number:,}", va="center", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Number of indicators")
        ax.grid(axis="y", visible=False)
        parts = [f"{totals[r]:,} {_RATING_WORDS[r]}" for r in RATINGS]
        alt = (
            f"Bar chart of the {total:,} indicator{'s' if total != 1 else ''} in the Scorecard "
            f"by rating for {quarter_prose}: {_join_words(parts)}."
        )
        data = pd.DataFrame({"Rating": list(RATINGS), "Indicators": [f"{v:,}" for v in values]})
        return _chart(fig, "ratings", title, alt, data, ["Indicators"], "Rating")


def _stacked_rating_bars(
    fig: Figure, ax: Any, rows: Sequence[str], table: Mapping[str, Mapping[str, int]]
) -> None:
    """Stacked horizontal bars, one per row (first at the top), split by rating: each
    segment wide enough is labelled with its rating's symbol and count, each bar with its
    total, and a legend names the ratings with their symbols (never colour alone)."""
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


@_kept
def rag_by_theme_chart(df: pd.DataFrame, quarter_prose: str) -> Chart:
    """Stacked horizontal bars: for each Corporate Plan theme, its indicators by rating.

    ``df`` has one row per theme and rating with columns ``theme``, ``rating``, ``count``.
    Themes appear in the order they first occur in ``df``.
    """
    _require_columns(df, ["theme", "rating", "count"], "chart of ratings by theme")
    themes: list[str] = []
    table: dict[str, dict[str, int]] = {}
    for theme, rating, number in df[["theme", "rating", "count"]].itertuples(index=False):
        name = "No theme" if is_missing(theme) or not str(theme).strip() else str(theme)
        if name not in table:
            themes.append(name)
            table[name] = dict.fromkeys(RATINGS, 0)
        table[name][normalise_rating(rating)] += _count(number, "ratings by theme")
    title = f"Indicators by theme and rating, {quarter_prose}"
    row_totals = {t: sum(table[t].values()) for t in themes}

    with _figure(6.0, 1.2 + 0.42 * max(len(themes), 1)) as (fig, ax):
        if not themes:
            _no_data_panel(ax, "No indicators to show")
            ax.set_xticks([])
        else:
            _stacked_rating_bars(fig, ax, themes, table)
        sentences = []
        for theme in themes:
            bits = [f"{table[theme][r]:,} {_RATING_WORDS[r]}" for r in RATINGS if table[theme][r]]
            sentences.append(f"{theme}, {row_totals[theme]:,} ({_join_words(bits)})")
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
        return _chart(fig, "themes", title, alt, data, [*RATINGS, "Total"], "Theme")


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
            table[name][normalise_rating(rating)] += _count(number, "ratings by quarter")
    title = "Indicators by rating, quarter by quarter"
    with _figure(6.0, 1.2 + 0.42 * max(len(rows), 1)) as (fig, ax):
        if not rows:
            _no_data_panel(ax, "No quarter to show")
            ax.set_xticks([])
        else:
            _stacked_rating_bars(fig, ax, rows, table)
        sentences = []
        for row in rows:
            bits = [f"{table[row][r]:,} {_RATING_WORDS[r]}" for r in RATINGS if table[row][r]]
            sentences.append(f"{row}: {_join_words(bits) or 'no indicators'}")
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
        return _chart(fig, "quarters", title, alt, data, [*RATINGS, "Total"], "Quarter")


@_kept
def trend_chart(history: pd.DataFrame, meta: Mapping[str, Any]) -> Chart:
    """An indicator over recent quarters: value, target and benchmark, oldest quarter first.

    ``history`` columns: ``quarter``, ``quarter_label``, ``value``, ``target``, ``benchmark``
    (missing values as NaN; ``target`` and ``benchmark`` may be left out). ``meta`` keys:
    ``name``, ``unit``, ``unit_label``, ``decimals``, ``polarity``, ``benchmark_label``,
    ``rating``. Gaps are allowed (annual indicators): the value line joins the points there are.
    """
    _require_columns(history, ["quarter_label", "value"], "trend chart")
    units = _Units(meta)
    name = _meta_text(meta, "name")
    if not name:
        raise InputError(
            "The trend chart details are missing the indicator's 'name'",
            fix="pass the name from the catalogue; it is the chart's title",
        )
    bench_label = _meta_text(meta, "benchmark_label", "Benchmark")
    labels = [str(x) for x in history["quarter_label"].tolist()]
    n = len(labels)
    values = _floats(history["value"], "trend values")
    targets = (
        _floats(history["target"], "trend targets")
        if "target" in history.columns
        else np.full(n, math.nan)
    )
    benches = (
        _floats(history["benchmark"], "trend benchmarks")
        if "benchmark" in history.columns
        else np.full(n, math.nan)
    )
    has_value = ~np.isnan(values)
    has_target = bool((~np.isnan(targets)).any())
    has_bench = bool((~np.isnan(benches)).any())
    title = name

    with _figure(6.0, 2.6) as (fig, ax):
        x = np.arange(n, dtype=float)
        ax.set_xlim(-0.5, max(n, 1) - 0.5)
        ax.set_xticks(x, [_quarter_tick(lb) for lb in labels])
        ax.grid(axis="x", visible=False)
        if not has_value.any():
            _no_data_panel(ax, "No data for this period")
        else:
            handles: list[Any] = []
            (line,) = ax.plot(
                x[has_value],
                values[has_value],
                marker="o",
                markersize=5,
                linewidth=2,
                color=SERIES_COLOUR,
                label="Value",
                zorder=3,
            )
            handles.append(line)
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
            ax.margins(y=0.25)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.yaxis.set_major_formatter(units.tick_formatter())
            ax.set_ylabel(textwrap.fill(units.axis, 22))
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
        return _chart(fig, "trend", title, alt, frame, numeric, "Quarter")


def _trend_alt(
    name: str,
    labels: list[str],
    values: np.ndarray,
    targets: np.ndarray,
    benches: np.ndarray,
    units: _Units,
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
    polarity = _polarity_phrase(meta)
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


@_kept
def breakdown_chart(
    df: pd.DataFrame, meta: Mapping[str, Any], title: str, *, target: float | None = None
) -> Chart:
    """Horizontal bars of one indicator split by a category (e.g. sickness by directorate).

    ``df`` columns: ``category``, ``value``. Bars are sorted highest first; the highest is
    picked out in a darker colour. A target (the keyword, else ``meta['target']``) is drawn as
    a dashed line.
    """
    _require_columns(df, ["category", "value"], "breakdown chart")
    units = _Units(meta)
    if target is None:
        target = meta.get("target")
    target_value = None if is_missing(target) else float(_floats(pd.Series([target]), "target")[0])
    categories = ["No category" if is_missing(c) else str(c) for c in df["category"].tolist()]
    values = _floats(df["value"], "breakdown values")
    order = sorted(
        range(len(values)),
        key=lambda i: (math.isnan(values[i]), -values[i] if not math.isnan(values[i]) else 0),
    )
    categories = [categories[i] for i in order]
    values = values[order] if len(order) else values
    known = [i for i in range(len(values)) if not math.isnan(values[i])]

    with _figure(6.0, 1.1 + 0.34 * max(len(categories), 1)) as (fig, ax):
        if not known:
            _no_data_panel(ax, "No data to show")
            ax.set_xticks([])
        else:
            y = np.arange(len(known))
            shown = values[known]
            colours = [_HIGHLIGHT if i == 0 else SERIES_COLOUR for i in range(len(known))]
            ax.barh(y, shown, color=colours, height=0.65)
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
            ax.invert_yaxis()
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
            ax.xaxis.set_major_formatter(units.tick_formatter())
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
            ax.set_xlabel(textwrap.fill(units.axis, 40))
            ax.grid(axis="y", visible=False)
        alt = _breakdown_alt(title, categories, values, known, units, target_value, meta)
        data = pd.DataFrame(
            {"Category": categories, units.column("Value"): [units.cell(v) for v in values]}
        )
        return _chart(fig, "breakdown", title, alt, data, [units.column("Value")], "Category")


def _breakdown_alt(
    title: str,
    categories: list[str],
    values: np.ndarray,
    known: list[int],
    units: _Units,
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
        polarity = _meta_text(meta, "polarity")
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
        out.append(f"There is no data for {_join_words(missing)}.")
    return " ".join(out)


@_kept
def risk_heatmap(
    risks: pd.DataFrame, title: str, *, red_from: int = 15, amber_from: int = 5
) -> Chart:
    """A 5 x 5 grid of likelihood (across) by impact (up) with each risk's id in its cell.

    Cells are shaded by the band of their score (likelihood x impact): Red from ``red_from``,
    Amber from ``amber_from``, else Green. Each cell also shows its score and band symbol, so
    the bands can be read without colour. ``risks`` columns: ``risk_id``, ``title``,
    ``likelihood``, ``impact``, ``band``.
    """
    _require_columns(risks, ["risk_id", "title", "likelihood", "impact", "band"], "risk heat map")
    if not (1 <= amber_from <= red_from <= 25):
        raise InputError(
            f"The risk bands (amber from {amber_from}, red from {red_from}) are not in order",
            fix="set 1 <= amber <= red <= 25 in settings.yaml under risk_bands",
        )

    def band_of(score: int) -> str:
        return "Red" if score >= red_from else "Amber" if score >= amber_from else "Green"

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
        score = likelihood * impact
        band = band_of(score)
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
            grid[row, col] = band_codes[band_of((5 - row) * (col + 1))]
    cell_ids: dict[tuple[int, int], list[str]] = {}
    for rid, _t, likelihood, impact, _s, _b in rows:
        cell_ids.setdefault((5 - impact, likelihood - 1), []).append(rid)

    with _figure(6.0, 4.6) as (fig, ax):
        colours = ListedColormap([RAG_COLOURS["Green"], RAG_COLOURS["Amber"], RAG_COLOURS["Red"]])
        # what seaborn's heatmap drew: a mesh with white gaps, no spines, labels centred
        ax.pcolormesh(grid, cmap=colours, vmin=-0.5, vmax=2.5, linewidths=2, edgecolor="white")
        ax.set(xlim=(0, 5), ylim=(0, 5))
        ax.invert_yaxis()
        for spine in ax.spines.values():
            spine.set_visible(False)
        centres = np.arange(5) + 0.5
        ax.set_xticks(
            centres, [textwrap.fill(f"{i} {w}", 10) for i, w in enumerate(LIKELIHOOD_WORDS, 1)]
        )
        ax.set_yticks(
            centres,
            [f"{i} {w}" for i, w in reversed(list(enumerate(IMPACT_WORDS, 1)))],
            va="center",
        )
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
                f"(across) and impact (up): {_join_words(parts)}."
            )
            reds = [f"{r[0]} (score {r[4]})" for r in rows if r[5] == "Red"]
            if reds:
                verb = "is" if len(reds) == 1 else "are"
                alt += f" The red risk{'s' if len(reds) > 1 else ''} {verb} {_join_words(reds)}."
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
        return _chart(fig, "risks", title, alt, data, ["Score"], "Risk")
