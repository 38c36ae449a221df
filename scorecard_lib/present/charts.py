"""Charts for the report: small, accessible, and the same bytes every time.

This module holds the :class:`Chart` every chart function returns, how it displays, how a
drawing becomes its bytes, and the store of charts kept between builds. The charts themselves
are drawn with seaborn in modules by job (``rating_charts``, ``indicator_charts``,
``risk_charts``; their look in ``chart_style``, their words in ``chart_data``), and named here
too, so that callers ask one module for any chart (``charts.trend_chart``).

Each chart function returns a :class:`Chart`: the picture, a text alternative written from the
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
import importlib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from scorecard_lib.core.store import current_store
from scorecard_lib.present.tables import Table, html_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scorecard_lib.present.indicator_charts import breakdown_chart, trend_chart
    from scorecard_lib.present.rating_charts import (
        rag_by_theme_chart,
        rag_counts_chart,
        ratings_by_quarter_chart,
    )
    from scorecard_lib.present.risk_charts import IMPACT_WORDS, LIKELIHOOD_WORDS, risk_heatmap

MIME = "image/svg+xml"
PNG_MIME = "image/png"
#: Pixels per inch of a chart drawn as PNG (:func:`raster`): sharp on paper.
PRINT_DPI = 200
#: When set, charts are drawn as PNG at this resolution instead of SVG (:func:`raster`).
_RASTER_DPI: ContextVar[int | None] = ContextVar("raster_dpi", default=None)
FONT_FALLBACK = "'DejaVu Sans', Verdana, Arial, sans-serif"
#: A chart that grows past this many bytes is a sign something is being drawn wastefully.
SIZE_BUDGET = 25_000


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


def kept_chart(fn: _F) -> _F:
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


# --- from a drawing to the bytes of a Chart -------------------------------------------------


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


def finished_chart(
    fig: Figure,
    kind: str,
    title: str,
    alt: str,
    data: pd.DataFrame,
    numeric: Sequence[str],
    row_header: str | None,
) -> Chart:
    """The :class:`Chart` of a finished drawing: its bytes (SVG, or PNG inside
    :func:`raster`), with the words and the table that say the same."""
    return Chart(
        title=title,
        alt=alt,
        image=_render(fig, kind, title),
        mime=MIME if _RASTER_DPI.get() is None else PNG_MIME,
        data=data.reset_index(drop=True),
        numeric=tuple(numeric),
        row_header=row_header,
    )


# --- the charts, drawn in modules by job -----------------------------------------------------

#: The module that draws each chart (and holds the words its axes use).
_DRAWN_IN: Mapping[str, str] = {
    "rag_counts_chart": "rating_charts",
    "rag_by_theme_chart": "rating_charts",
    "ratings_by_quarter_chart": "rating_charts",
    "trend_chart": "indicator_charts",
    "breakdown_chart": "indicator_charts",
    "risk_heatmap": "risk_charts",
    "LIKELIHOOD_WORDS": "risk_charts",
    "IMPACT_WORDS": "risk_charts",
}

__all__ = [
    "FONT_FALLBACK",
    "IMPACT_WORDS",
    "LIKELIHOOD_WORDS",
    "MIME",
    "PNG_MIME",
    "PRINT_DPI",
    "SIZE_BUDGET",
    "Chart",
    "breakdown_chart",
    "finished_chart",
    "kept_chart",
    "rag_by_theme_chart",
    "rag_counts_chart",
    "raster",
    "ratings_by_quarter_chart",
    "risk_heatmap",
    "trend_chart",
]


def __getattr__(name: str) -> Any:
    """``charts.trend_chart`` and the other charts, from the module that draws them (PEP 562).

    Looked up when asked for rather than bound at import: those modules import :class:`Chart`
    from here, so a name bound here would be missing whenever one of them is imported first.
    """
    module = _DRAWN_IN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"scorecard_lib.present.{module}"), name)


# Imported last, as they build on everything above: importing ``charts`` (as the zygote does
# before it forks the kernels) thereby imports seaborn, matplotlib and every drawing once.
from scorecard_lib.present import indicator_charts, rating_charts, risk_charts  # noqa: E402, F401
