"""How figures, ratings and directions read in the report."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from scorecard_lib.core import formatting as f
from scorecard_lib.core.errors import InputError, ScorecardError


# --- numbers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1304, 0, "1,304"),
        (66.3, 1, "66.3"),
        (60, 1, "60.0"),
        (1234567.891, 2, "1,234,567.89"),
        (8.92, 2, "8.92"),
        (74.5, 0, "75"),  # halves round away from zero, as readers expect
        (2.675, 2, "2.68"),  # not 2.67 (binary rounding)
        (-1.5, 0, "-2"),
        (-0.04, 1, "0.0"),  # no "-0.0"
        (0, 0, "0"),
        ("1,304", 0, "1,304"),
        (1e30, 0, "1,000,000,000,000,000,000,000,000,000,000"),  # no overflow
    ],
)
def test_format_number(value: object, decimals: int, expected: str) -> None:
    assert f.format_number(value, decimals) == expected


@pytest.mark.parametrize("missing", [None, math.nan, float("nan"), pd.NA, pd.NaT])
def test_missing_numbers_read_no_data(missing: object) -> None:
    assert f.format_number(missing, 1) == "no data"
    assert f.format_value(missing, "percent", 0) == "no data"


@pytest.mark.parametrize("bad", ["lots", math.inf])
def test_a_non_number_is_a_clear_error(bad: object) -> None:
    with pytest.raises(InputError):
        f.format_number(bad, 1)


@pytest.mark.parametrize("decimals", [-1, 1.5, "two"])
def test_bad_decimals_are_a_clear_error(decimals: object) -> None:
    with pytest.raises(InputError, match="decimal places"):
        f.format_number(1.0, decimals)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "label", "expected"),
    [
        (46, "percent", 0, "", "46%"),
        (45.55, "percent", 1, "", "45.6%"),
        (1234, "gbp", 0, "", "£1,234"),
        (1234.5, "gbp", 2, "", "£1,234.50"),
        (-250, "gbp", 0, "", "-£250"),
        (66.3, "per_10000", 1, "per 10,000 children", "66.3 per 10,000 children"),
        (66.3, "per_10000", 1, "", "66.3 per 10,000"),
        (8.92, "days", 2, "", "8.92 days"),
        (8.92, "days", 2, "days per person", "8.92 days per person"),
        (1304, "count", 0, "", "1,304"),
        (1304, "count", 0, "older people", "1,304 older people"),
        (2.1, "years", 1, "", "2.1 years"),
        (1, "years", 0, "", "1 year"),
        (7.25, "score", 2, "", "7.25"),
        (46, "percent", 0, None, "46%"),
    ],
)
def test_format_value(
    value: float, unit: str, decimals: int, label: str | None, expected: str
) -> None:
    assert f.format_value(value, unit, decimals, label) == expected


def test_unknown_unit_is_a_scorecard_error_naming_the_choices() -> None:
    with pytest.raises(ScorecardError, match="per_10000"):
        f.format_value(1, "furlongs", 0)


# --- badges -----------------------------------------------------------------------------
def test_rating_badge_exact_markup() -> None:
    assert f.rating_badge_html("Green") == (
        '<span class="rag rag-green"><span aria-hidden="true">✔</span> Green</span>'
    )


@pytest.mark.parametrize(
    ("rating", "css", "symbol"),
    [
        ("Green", "rag-green", "✔"),
        ("Amber", "rag-amber", "▲"),
        ("Red", "rag-red", "✖"),
        ("Not rated", "rag-notrated", "–"),
        ("No data", "rag-nodata", "○"),
    ],
)
def test_every_rating_has_word_symbol_and_class(rating: str, css: str, symbol: str) -> None:
    badge = f.rating_badge_html(rating)
    assert f'class="rag {css}"' in badge
    assert f'<span aria-hidden="true">{symbol}</span> {rating}</span>' in badge
    assert f.rating_symbol(rating) == symbol


def test_ratings_differ_by_symbol_not_only_colour() -> None:
    symbols = [f.rating_symbol(r) for r in f.RATINGS]
    assert len(set(symbols)) == len(f.RATINGS)


def test_rating_spelling_is_forgiving_but_unknown_ratings_fail() -> None:
    assert f.rating_badge_html("red") == f.rating_badge_html("Red")
    assert "No data" in f.rating_badge_html(None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not a rating"):
        f.rating_badge_html("Purple")


def test_direction_exact_markup() -> None:
    assert f.direction_html("improving") == (
        '<span class="dot dot-improving"><span aria-hidden="true">↗</span> Improving</span>'
    )


@pytest.mark.parametrize(
    ("direction", "css", "arrow", "word"),
    [
        ("improving", "dot-improving", "↗", "Improving"),
        ("no noticeable change", "dot-nochange", "→", "No noticeable change"),
        ("worsening", "dot-worsening", "↘", "Worsening"),
        ("not available", "dot-na", "–", "Not available"),
    ],
)
def test_every_direction_has_arrow_and_word(
    direction: str, css: str, arrow: str, word: str
) -> None:
    out = f.direction_html(direction)
    assert f'class="dot {css}"' in out
    assert f'<span aria-hidden="true">{arrow}</span> {word}</span>' in out


def test_missing_direction_reads_not_available_and_unknown_fails() -> None:
    assert "Not available" in f.direction_html(None)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        f.direction_html("sideways")


def test_risk_band_badges() -> None:
    assert f.risk_band_html("Red") == (
        '<span class="rag rag-red"><span aria-hidden="true">✖</span> Red</span>'
    )
    assert 'class="rag rag-amber"' in f.risk_band_html("amber")
    assert 'class="rag rag-green"' in f.risk_band_html("Green")
    with pytest.raises(InputError):
        f.risk_band_html("Not rated")


def test_css_styles_every_class_the_badges_use() -> None:
    classes = set()
    for r in f.RATINGS:
        classes |= set(re.findall(r"(rag-\w+)", f.rating_badge_html(r)))
    for d in f.DIRECTIONS:
        classes |= set(re.findall(r"(dot-\w+)", f.direction_html(d)))
    for cls in classes:
        assert f".{cls} " in f.REPORT_CSS


# --- colour -----------------------------------------------------------------------------
def test_contrast_ratio_known_values() -> None:
    assert f.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert f.contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert f.contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert f.contrast_ratio("#fff", "#ffffff") == pytest.approx(1.0)
    # GOV.UK red on white is published as about 4.9:1
    assert f.contrast_ratio("#d4351c", "#ffffff") == pytest.approx(4.86, abs=0.02)


def test_white_text_is_readable_on_every_rating_colour() -> None:
    for rating, colour in f.RAG_COLOURS.items():
        assert f.contrast_ratio(colour, "#ffffff") >= 4.5, rating


def test_chart_colours_stand_out_from_a_white_page() -> None:
    for colour in [*f.RAG_COLOURS.values(), f.SERIES_COLOUR, f.TEXT_COLOUR, f.NEUTRAL]:
        assert f.contrast_ratio(colour, "#ffffff") >= 3.0, colour


def test_bad_colour_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="#rrggbb"):
        f.contrast_ratio("green", "#ffffff")
