"""Charts: what a reader sees and hears, and the same bytes on every run."""

from __future__ import annotations

import base64
import html
import inspect
import math
import re
import subprocess
import sys
from collections.abc import Callable

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import seaborn as sns

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    RAG_COLOURS,
    RATING_SYMBOLS,
    RATINGS,
    SERIES_COLOUR,
    TEXT_COLOUR,
)
from scorecard_lib.present import chart_style, charts, indicator_charts, rating_charts, risk_charts
from scorecard_lib.present.charts import Chart
from scorecard_lib.rules import risks

NAN = math.nan
LABELS = [f"{y} Q{q}" for y in ("2015/16", "2016/17") for q in (1, 2, 3, 4)]
LAC_META = {
    "name": "Looked after children per 10,000 children",
    "unit": "per_10000",
    "unit_label": "per 10,000 children",
    "decimals": 1,
    "polarity": "lower_is_better",
    "benchmark_label": "England average",
    "rating": "Red",
}


def history(values: list[float], target: float = NAN, benchmark: float = NAN) -> pd.DataFrame:
    labels = LABELS[-len(values) :]
    return pd.DataFrame(
        {
            "quarter": [lb.replace("/", "-").replace(" ", "-") for lb in labels],
            "quarter_label": labels,
            "value": values,
            "target": [target] * len(values),
            "benchmark": [benchmark] * len(values),
        }
    )


def lac() -> Chart:
    return charts.trend_chart(
        history([55, 57.2, 58, 59.1, 58.7, 60.2, 60.6, 66.3], benchmark=60), LAC_META
    )


def ratings() -> Chart:
    counts = {"Green": 20, "Amber": 10, "Red": 10, "Not rated": 4, "No data": 2}
    return charts.rag_counts_chart(counts, "Quarter Four 2016/17")


def themes() -> Chart:
    rows = [
        ("Open for Business", "Green", 6),
        ("Open for Business", "Red", 2),
        ("Children and Families", "Amber", 4),
        ("Children and Families", "Red", 4),
        ("Organisational", "Green", 3),
        ("Organisational", "No data", 2),
    ]
    df = pd.DataFrame(rows, columns=["theme", "rating", "count"])
    return charts.rag_by_theme_chart(df, "Quarter Four 2016/17")


SICKNESS_META = {
    "name": "Sickness absence",
    "unit": "days",
    "unit_label": "days per person",
    "decimals": 2,
    "polarity": "lower_is_better",
}


def sickness() -> Chart:
    df = pd.DataFrame(
        {
            "category": ["Economy and Infrastructure", "Adult Services", "Public Health", "COaCH"],
            "value": [8.1, 13.36, NAN, 6.2],
        }
    )
    return charts.breakdown_chart(df, SICKNESS_META, "Sickness absence by directorate", target=8.5)


def risk_frame(n: int = 14, red_from: int = 15, amber_from: int = 5) -> pd.DataFrame:
    cells = [(4, 5), (4, 4), (3, 4), (3, 3), (2, 3), (2, 2), (1, 2), (2, 1), (5, 5), (1, 1)]
    rows = []
    for i in range(n):
        likelihood, impact = cells[i % len(cells)]
        score = likelihood * impact
        band = "Red" if score >= red_from else "Amber" if score >= amber_from else "Green"
        rows.append((f"CRR{i + 1:02d}", f"Risk number {i + 1}", likelihood, impact, band))
    return pd.DataFrame(rows, columns=["risk_id", "title", "likelihood", "impact", "band"])


def heatmap() -> Chart:
    return charts.risk_heatmap(risk_frame(), "Corporate risks, Quarter Four 2016/17")


ALL: dict[str, Callable[[], Chart]] = {
    "trend": lac,
    "ratings": ratings,
    "themes": themes,
    "breakdown": sickness,
    "heatmap": heatmap,
}


# --- every chart ------------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_same_chart_twice_gives_identical_bytes(make: Callable[[], Chart]) -> None:
    first = make()
    lac()  # something else drawn in between must not matter
    second = make()
    assert first.image == second.image
    assert first._repr_html_() == second._repr_html_()


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_image_is_small(make: Callable[[], Chart]) -> None:
    assert len(make().image) < charts.SIZE_BUDGET


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_image_carries_no_date_or_software_stamp(make: Callable[[], Chart]) -> None:
    svg = make().image.decode()
    assert make().mime == "image/svg+xml"
    assert "<dc:date" not in svg
    assert "matplotlib" not in svg.lower()
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d", svg)


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_html_is_a_figure_with_caption_image_and_data_table(make: Callable[[], Chart]) -> None:
    chart = make()
    out = chart._repr_html_()
    title = html.escape(chart.title)
    assert out.startswith('<figure class="chart">')
    assert out.rstrip().endswith("</figure>")
    assert f"<figcaption>{title}</figcaption>" in out
    # the picture is the drawing itself as an image, with the alt text
    encoded = base64.b64encode(chart.image).decode("ascii")
    alt = html.escape(chart.alt, quote=True)
    assert f'<img src="data:{chart.mime};base64,{encoded}" alt="{alt}">' in out
    assert f"<details><summary>Data behind this chart: {title}</summary>" in out
    assert '<table class="data">' in out
    assert not re.search(r"<td[^>]*>\s*</td>", out)
    assert repr(chart) == f"<Chart: {chart.title}>"


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_no_figures_are_left_open(make: Callable[[], Chart]) -> None:
    plt.close("all")
    make()
    assert plt.get_fignums() == []


def test_charts_on_one_page_do_not_share_ids() -> None:
    page = "\n".join(make()._repr_html_() for make in ALL.values())
    # two different charts that happen to share a title
    page += charts.trend_chart(history([1.0, 2.0]), dict(LAC_META, name="Same"))._repr_html_()
    page += charts.trend_chart(history([3.0, 2.0, 5.0]), dict(LAC_META, name="Same"))._repr_html_()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    referenced = set(re.findall(r'(?:url\(#|href="#)([^")]+)', page))
    assert referenced <= set(ids)


def test_text_in_the_picture_stays_text_with_font_fallbacks() -> None:
    svg = lac().image.decode()
    assert ">66.3<" in svg  # the latest value is labelled on the chart
    assert "sans-serif" in svg


# --- the look: seaborn's theme, pinned ----------------------------------------------------
def test_the_look_is_seaborns_whitegrid_paper_in_the_reports_fonts_and_colours() -> None:
    pinned = {
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
        "svg.fonttype": "none",  # text stays text: sharp when zoomed, read by the browser
        "svg.hashsalt": chart_style.SVG_HASHSALT,
        "text.parse_math": False,
        "axes.unicode_minus": False,
    }
    seaborn_look = {**sns.axes_style("whitegrid"), **sns.plotting_context("paper")}
    for key, value in seaborn_look.items():
        assert chart_style.STYLE[key] == pinned.get(key, value), key
    for key, value in pinned.items():
        assert chart_style.STYLE[key] == value, key


def test_the_look_applies_to_the_charts_only() -> None:
    before = dict(plt.rcParams)
    lac()
    assert dict(plt.rcParams) == before  # a notebook's own plots keep their look


def test_bars_keep_the_reports_colours_exactly() -> None:
    """seaborn desaturates bar colours by default, which would weaken their contrast."""
    fills = set(re.findall(r"fill: ?(#[0-9a-fA-F]{6})", ratings().image.decode()))
    assert {RAG_COLOURS[r].lower() for r in RATINGS} <= fills
    fills = set(re.findall(r"fill: ?(#[0-9a-fA-F]{6})", sickness().image.decode()))
    assert {chart_style.HIGHLIGHT.lower(), SERIES_COLOUR.lower()} <= fills


# --- one module names every chart ------------------------------------------------------
def test_charts_names_every_chart_from_the_module_that_draws_it() -> None:
    drawn_in = {
        "rag_counts_chart": rating_charts,
        "rag_by_theme_chart": rating_charts,
        "ratings_by_quarter_chart": rating_charts,
        "trend_chart": indicator_charts,
        "breakdown_chart": indicator_charts,
        "risk_heatmap": risk_charts,
        "LIKELIHOOD_WORDS": risk_charts,
        "IMPACT_WORDS": risk_charts,
    }
    for name, module in drawn_in.items():
        assert getattr(charts, name) is getattr(module, name)
        assert name in charts.__all__
    from scorecard_lib.present.charts import risk_heatmap

    assert risk_heatmap is risk_charts.risk_heatmap
    with pytest.raises(AttributeError, match="no_such_chart"):
        charts.no_such_chart  # noqa: B018


@pytest.mark.slow
@pytest.mark.parametrize("first", ["charts", "chart_style", "rating_charts", "risk_charts"])
def test_any_chart_module_can_be_imported_first(first: str) -> None:
    code = (
        f"import scorecard_lib.present.{first}\n"
        "from scorecard_lib.present import charts\n"
        "import sys\n"
        "assert 'seaborn' in sys.modules\n"
        "print(charts.trend_chart.__module__, charts.risk_heatmap.__module__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "scorecard_lib.present.indicator_charts",
        "scorecard_lib.present.risk_charts",
    ]


# --- trend ------------------------------------------------------------------------------
def test_trend_alt_text_says_what_a_sighted_reader_sees() -> None:
    assert lac().alt == (
        "Line chart of Looked after children per 10,000 children from 2015/16 Q1 to "
        "2016/17 Q4. The latest value is 66.3 per 10,000 children, up from 60.6 the quarter "
        "before; lower is better. The England average is 60.0. It is rated red."
    )


def test_trend_legend_and_data_use_the_benchmark_label() -> None:
    chart = lac()
    assert "England average" in chart.image.decode()
    assert list(chart.data.columns) == [
        "Quarter",
        "Value (per 10,000 children)",
        "England average (per 10,000 children)",
    ]
    assert chart.data.iloc[-1].tolist() == ["2016/17 Q4", "66.3", "60.0"]


def test_trend_with_target_mentions_it() -> None:
    meta = dict(LAC_META, unit="percent", unit_label="", decimals=0, polarity="higher_is_better")
    meta["name"] = "Staff appraisals completed"
    chart = charts.trend_chart(history([70, 74.5], target=76), meta)
    assert "The latest value is 75%, up from 70% the quarter before; higher is better." in (
        chart.alt
    )
    assert "The target is 76%." in chart.alt
    assert "Target (%)" in chart.data.columns
    assert "Target" in chart.image.decode()


def test_annual_indicator_with_gaps_compares_with_the_last_known_value() -> None:
    values = [NAN, NAN, NAN, 71.0, NAN, NAN, NAN, 74.0]
    meta = dict(LAC_META, unit="percent", unit_label="", decimals=0, rating="Amber")
    chart = charts.trend_chart(history(values), meta)
    assert "down from" not in chart.alt
    assert "up from 71% in 2015/16 Q4" in chart.alt
    assert chart.data["Value (%)"].tolist().count("no data") == 6


def test_single_point_chart() -> None:
    chart = charts.trend_chart(history([66.3], benchmark=60), LAC_META)
    assert chart.alt.startswith(
        "Chart of Looked after children per 10,000 children for 2016/17 Q4."
    )
    assert "The latest value is 66.3 per 10,000 children; lower is better." in chart.alt
    assert "up from" not in chart.alt


def test_latest_quarter_without_a_value_is_named() -> None:
    chart = charts.trend_chart(history([60.6, 66.3, NAN]), LAC_META)
    assert "The latest value, for 2016/17 Q3, is 66.3 per 10,000 children" in chart.alt


def test_all_missing_trend_says_there_is_no_data() -> None:
    chart = charts.trend_chart(history([NAN, NAN, NAN]), LAC_META)
    assert "There is no data for this period." in chart.alt
    assert "No data for this period" in chart.image.decode()
    assert set(chart.data.iloc[:, 1]) == {"no data"}


def test_empty_history_still_gives_a_chart() -> None:
    chart = charts.trend_chart(history([66.3]).iloc[0:0], LAC_META)
    assert "no data" in chart.alt.lower()


def test_trend_without_target_or_benchmark_columns() -> None:
    df = history([1.0, 2.0])[["quarter", "quarter_label", "value"]]
    chart = charts.trend_chart(df, LAC_META)
    assert list(chart.data.columns) == ["Quarter", "Value (per 10,000 children)"]


def test_trend_bad_input_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="value"):
        charts.trend_chart(pd.DataFrame({"quarter_label": ["x"]}), LAC_META)
    with pytest.raises(InputError, match="not a number"):
        charts.trend_chart(history([1.0]).assign(value=["lots"]), LAC_META)
    with pytest.raises(InputError, match="unit"):
        charts.trend_chart(history([1.0]), {"name": "x", "decimals": 1})
    plt.close("all")


def test_a_failure_while_drawing_leaves_no_figure_open(monkeypatch: pytest.MonkeyPatch) -> None:
    plt.close("all")

    def boom(*_args: object, **_kwargs: object) -> bytes:
        raise InputError("boom")

    monkeypatch.setattr(charts, "_render", boom)
    with pytest.raises(InputError):
        lac()
    assert plt.get_fignums() == []


# --- ratings ----------------------------------------------------------------------------
def test_rating_bars_are_labelled_with_symbol_and_word() -> None:
    chart = ratings()
    svg = chart.image.decode()
    for label in ("✔ Green", "▲ Amber", "✖ Red", "– Not rated", "○ No data"):
        assert f">{label}<" in svg
    assert chart.alt == (
        "Bar chart of the 46 indicators in the Scorecard by rating for Quarter Four 2016/17: "
        "20 green, 10 amber, 10 red, 4 not rated and 2 with no data."
    )
    assert chart.data["Indicators"].tolist() == ["20", "10", "10", "4", "2"]


def test_rating_counts_accept_missing_ratings_and_refuse_unknown_ones() -> None:
    chart = charts.rag_counts_chart({"red": 3}, "Quarter One 2017/18")
    assert "0 green, 0 amber, 3 red" in chart.alt
    with pytest.raises(InputError):
        charts.rag_counts_chart({"Blue": 1}, "Q")
    with pytest.raises(InputError):
        charts.rag_counts_chart({"Red": -1}, "Q")


# --- themes -----------------------------------------------------------------------------
def test_theme_chart_table_and_alt() -> None:
    chart = themes()
    assert chart.data.columns.tolist() == [
        "Theme",
        "Green",
        "Amber",
        "Red",
        "Not rated",
        "No data",
        "Total",
    ]
    assert chart.data["Theme"].tolist() == [
        "Open for Business",
        "Children and Families",
        "Organisational",
    ]
    assert chart.data["Total"].tolist() == ["8", "8", "5"]
    assert "Children and Families, 8 (4 amber and 4 red)" in chart.alt
    assert "Organisational, 5 (3 green and 2 with no data)" in chart.alt


def test_theme_chart_with_no_rows() -> None:
    empty = pd.DataFrame({"theme": [], "rating": [], "count": []})
    chart = charts.rag_by_theme_chart(empty, "Quarter Four 2016/17")
    assert "There are no indicators." in chart.alt


# --- breakdown --------------------------------------------------------------------------
def test_breakdown_is_sorted_and_alt_names_highest_and_lowest() -> None:
    chart = sickness()
    assert chart.data["Category"].tolist() == [
        "Adult Services",
        "Economy and Infrastructure",
        "COaCH",
        "Public Health",
    ]
    assert chart.data["Value (days per person)"].tolist() == ["13.36", "8.10", "6.20", "no data"]
    assert "The highest is Adult Services at 13.36 days per person" in chart.alt
    assert "the lowest is COaCH at 6.20 days per person" in chart.alt
    assert "The target is 8.50 days per person; 1 of 3 is above it." in chart.alt
    assert "There is no data for Public Health." in chart.alt
    assert "Target: 8.50" in chart.image.decode()


def test_breakdown_needs_no_name_but_refuses_a_target_that_is_not_a_number() -> None:
    df = pd.DataFrame({"category": ["A"], "value": [1.0]})
    meta = {"unit": "percent", "decimals": 0}
    assert "A is 1%." in charts.breakdown_chart(df, meta, "T").alt
    with pytest.raises(InputError, match="not a number"):
        charts.breakdown_chart(df, meta, "T", target="high")  # type: ignore[arg-type]


def test_breakdown_target_may_come_from_meta() -> None:
    df = pd.DataFrame({"category": ["A", "B"], "value": [1.0, 2.0]})
    chart = charts.breakdown_chart(df, dict(SICKNESS_META, target=1.5), "T")
    assert "The target is 1.50 days per person" in chart.alt


def test_breakdown_escapes_category_names_in_html() -> None:
    df = pd.DataFrame({"category": ["<b>A & B</b>", "C $5"], "value": [1.0, 2.0]})
    chart = charts.breakdown_chart(df, SICKNESS_META, "Escaping")
    out = chart._repr_html_()
    assert "<b>" not in out
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in out
    assert "C $5" in chart.image.decode()  # a dollar sign is not mathematics


# --- heat map ---------------------------------------------------------------------------
def test_heatmap_alt_counts_bands_and_names_red_risks() -> None:
    assert heatmap().alt == (
        "Risk heat map of 14 risks by likelihood (across) and impact (up): 5 red, 5 amber and "
        "4 green. The red risks are CRR09 (score 25), CRR01 (score 20), CRR11 (score 20), "
        "CRR02 (score 16) and CRR12 (score 16)."
    )


def test_heatmap_writes_every_id_and_the_axis_words() -> None:
    svg = heatmap().image.decode()
    for i in range(1, 15):
        assert f"CRR{i:02d}" in svg
    for word in ("Rare", "Critical", "Insignificant", "Likelihood", "Impact"):
        assert word in svg
    assert "✖ 25" in svg  # the band symbol and score, so the band is readable without colour


def test_heatmap_data_table_is_sorted_by_score() -> None:
    data = heatmap().data
    scores = [int(s) for s in data["Score"]]
    assert scores == sorted(scores, reverse=True)
    assert data.iloc[0].tolist()[:5] == [
        "CRR09",
        "Risk number 9",
        "5 Almost certain",
        "5 Critical",
        "25",
    ]


def test_heatmap_many_risks_in_one_cell_stay_in_budget() -> None:
    rows = [(f"CRR{i:02d}", "t", 3, 3, "Amber") for i in range(1, 21)]
    df = pd.DataFrame(rows, columns=["risk_id", "title", "likelihood", "impact", "band"])
    chart = charts.risk_heatmap(df, "Crowded")
    assert len(chart.image) < charts.SIZE_BUDGET
    assert "No risk is red." in chart.alt


def _cell_labels(svg: str, bands: dict[str, int]) -> None:
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            score = risks.score(likelihood, impact)
            assert f">{RATING_SYMBOLS[risks.band(score, bands)]} {score}<" in svg


def test_heatmap_bands_every_cell_as_the_rules_do() -> None:
    _cell_labels(heatmap().image.decode(), dict(risks.DEFAULT_BANDS))
    other = {"red": 12, "amber": 4}
    chart = charts.risk_heatmap(
        risk_frame(red_from=12, amber_from=4), "Other bands", red_from=12, amber_from=4
    )
    _cell_labels(chart.image.decode(), other)


def test_heatmap_default_bands_are_the_rules_defaults() -> None:
    parameters = inspect.signature(charts.risk_heatmap).parameters
    assert parameters["red_from"].default == risks.DEFAULT_BANDS["red"]
    assert parameters["amber_from"].default == risks.DEFAULT_BANDS["amber"]
    svg = heatmap().image.decode()
    assert f"Red: {risks.DEFAULT_BANDS['red']}-25" in svg
    assert f"Amber: {risks.DEFAULT_BANDS['amber']}-{risks.DEFAULT_BANDS['red'] - 1}" in svg


def test_heatmap_uses_the_band_settings_given() -> None:
    df = risk_frame(red_from=12, amber_from=4)
    chart = charts.risk_heatmap(df, "Other bands", red_from=12, amber_from=4)
    assert "CRR03 (score 12)" in chart.alt
    assert "Red: 12-25" in chart.image.decode()


def test_heatmap_refuses_inconsistent_or_impossible_input() -> None:
    df = risk_frame()
    with pytest.raises(InputError, match="banded"):
        charts.risk_heatmap(df, "Mismatch", red_from=20)
    bad = df.copy()
    bad.loc[0, "likelihood"] = 6
    with pytest.raises(InputError, match="1 to 5"):
        charts.risk_heatmap(bad, "Bad")
    bad = bad.astype({"likelihood": object})
    bad.loc[0, "likelihood"] = "often"
    with pytest.raises(InputError, match="1 to 5"):
        charts.risk_heatmap(bad, "Bad")
    with pytest.raises(InputError, match="not in order"):
        charts.risk_heatmap(df, "Bands", red_from=4, amber_from=5)
    plt.close("all")


def test_heatmap_with_no_risks() -> None:
    empty = risk_frame().iloc[0:0]
    chart = charts.risk_heatmap(empty, "Nothing")
    assert "There are no risks to show." in chart.alt
