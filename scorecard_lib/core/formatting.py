"""How numbers, ratings and directions of travel are written in the report.

Pure functions, no I/O. Everything that returns HTML escapes its text, so a badge can be
dropped into a table cell as it is. Ratings and directions are always shown as a symbol and a
word as well as a colour, so nobody needs to tell colours apart to read the report
(GOV.UK guidance; WCAG 2.2 success criterion 1.4.1, use of colour).

The colours are chosen so that white text on each of them has a contrast ratio of at least
4.5:1 (WCAG 1.4.3, normal text), which also clears the 3:1 needed for chart elements against
a white page (WCAG 1.4.11). :func:`contrast_ratio` computes the ratio and the tests check it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from numbers import Real
from typing import Any

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.values import is_missing

NO_DATA_TEXT = "no data"
_WIDE = Context(prec=400)  # enough digits for any float, so rounding never overflows

#: The ratings in the order the report lists them.
RATINGS: tuple[str, ...] = ("Green", "Amber", "Red", "Not rated", "No data")
#: Directions of travel, as ``rating.py`` writes them.
DIRECTIONS: tuple[str, ...] = ("improving", "no noticeable change", "worsening", "not available")
#: Units an indicator may be measured in (``unit`` in ``catalogue.csv``).
UNITS: tuple[str, ...] = ("per_10000", "percent", "days", "count", "gbp", "years", "score")

#: A grey for things that are not rated; white text on it passes 4.5:1.
NEUTRAL = "#505a5f"
#: A lighter grey for "No data", still passing 4.5:1 with white text.
NEUTRAL_LIGHT = "#6f777b"
#: Colour of ordinary text and lines in charts.
TEXT_COLOUR = "#0b0c0c"
#: Colour for a plotted value that is not itself a rating (the GOV.UK link blue).
SERIES_COLOUR = "#1d70b8"

RAG_COLOURS: Mapping[str, str] = {
    "Green": "#00703c",  # GOV.UK green
    "Amber": "#b35900",  # a dark orange: GOV.UK's #f47738 fails with white text (2.8:1)
    "Red": "#d4351c",  # GOV.UK red
    "Not rated": NEUTRAL,
    "No data": NEUTRAL_LIGHT,
}

RATING_SYMBOLS: Mapping[str, str] = {
    "Green": "✔",
    "Amber": "▲",
    "Red": "✖",
    "Not rated": "–",
    "No data": "○",
}

_RATING_CLASSES: Mapping[str, str] = {
    "Green": "rag-green",
    "Amber": "rag-amber",
    "Red": "rag-red",
    "Not rated": "rag-notrated",
    "No data": "rag-nodata",
}

DIRECTION_SYMBOLS: Mapping[str, str] = {
    "improving": "↗",
    "no noticeable change": "→",
    "worsening": "↘",
    "not available": "–",
}

_DIRECTION_CLASSES: Mapping[str, str] = {
    "improving": "dot-improving",
    "no noticeable change": "dot-nochange",
    "worsening": "dot-worsening",
    "not available": "dot-na",
}

#: Risk bands, highest first, as ``risks.py`` writes them.
RISK_BANDS: tuple[str, ...] = ("Red", "Amber", "Green")

#: Abbreviations the report may meet in indicator names, sources, risks and its own text, and
#: what each stands for. The report spells each one out where it is first used and lists the
#: ones it uses in a glossary (``assemble.py``); the data keep their usual short names.
#: Names that are not abbreviations (Ofsted, Nomis, STATS19) and abbreviations everyone
#: knows (NHS, UK, PDF; GOV.UK style) are not listed.
ABBREVIATIONS: Mapping[str, str] = {
    "FTE": "full-time equivalent",
    "GCSE": "General Certificate of Secondary Education",
    "GP": "general practitioner",
    "GVA": "gross value added",
    "HR": "human resources",
    "ICT": "information and communications technology",
    "IT": "information technology",
    "JSA": "Jobseeker's Allowance",
    "NEET": "not in education, employment or training",
    "NHT": "National Highways and Transport Network",
    "RAG": "red, amber, green (the ratings)",
    "SCANNER": "Surface Condition Assessment for the National Network of Roads",
    "SHA": "Secure Hash Algorithm",
    "WCAG": "Web Content Accessibility Guidelines",
}

#: Styles for the classes used here and in ``tables.py``/``charts.py``. The report template
#: may include this as it is, or copy it; nothing depends on it except appearance.
REPORT_CSS = """\
.rag, .dot { display: inline-block; white-space: nowrap; font-weight: 700; }
.rag { color: #ffffff; padding: 0 0.4em; border-radius: 0.2em; }
.rag-green { background: #00703c; }
.rag-amber { background: #b35900; }
.rag-red { background: #d4351c; }
.rag-notrated { background: #505a5f; }
.rag-nodata { background: #6f777b; }
.dot-improving { color: #00703c; }
.dot-nochange { color: #0b0c0c; }
.dot-worsening { color: #d4351c; }
.dot-na { color: #505a5f; }
table.data { border-collapse: collapse; margin: 0.5em 0 1em; }
table.data caption { text-align: left; font-weight: 700; padding-bottom: 0.3em; }
table.data th, table.data td { border-bottom: 1px solid #b1b4b6; padding: 0.25em 0.6em;
  text-align: left; vertical-align: top; }
table.data thead th { border-bottom: 2px solid #0b0c0c; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 1em 0; }
figure.chart figcaption { font-weight: 700; margin-bottom: 0.3em; }
figure.chart img, figure.chart svg { max-width: 100%; height: auto; }
"""


# --- numbers ----------------------------------------------------------------------------


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, Real):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        raise InputError(
            f"'{value}' is not a number, so it cannot be formatted as one",
            fix="pass a number, or None when there is no figure",
        ) from None


def decimal_places(decimals: Any) -> int:
    """``decimals`` as a whole number of places (0 or more), or a clear error."""
    try:
        places = int(decimals)
    except (TypeError, ValueError):
        raise InputError(
            f"'{decimals}' is not a number of decimal places",
            fix="give decimals as a whole number from 0 to 3, as in catalogue.csv",
        ) from None
    if places < 0 or places != float(decimals):
        raise InputError(
            f"'{decimals}' is not a number of decimal places",
            fix="give decimals as a whole number from 0 to 3, as in catalogue.csv",
        )
    return places


def format_number(value: Any, decimals: int) -> str:
    """``1304`` -> ``"1,304"``; ``66.3`` with 1 decimal -> ``"66.3"``; missing -> ``"no data"``.

    Thousands are separated by commas and exactly ``decimals`` places are shown. Halves are
    rounded away from zero (``74.5`` -> ``"75"``). A value that rounds to zero is written
    without a minus sign.
    """
    places = decimal_places(decimals)
    if is_missing(value):
        return NO_DATA_TEXT
    number = _as_float(value)
    if math.isinf(number):
        raise InputError(
            "An infinite value cannot be shown in the report",
            fix="check the figure and its denominator (a division by zero?)",
        )
    # Half away from zero on the shortest decimal that reads back as the float (so 74.5 -> 75
    # and 2.675 -> 2.68, as a reader and a spreadsheet expect), not Python's half-to-even
    # rounding of the binary value (which gives 74 and 2.67).
    exact = Decimal(repr(number)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE
    )
    if exact == 0:
        exact = abs(exact)
    return f"{exact:,.{places}f}"


def _unit_word(number_text: str, singular: str, plural: str) -> str:
    return singular if number_text == "1" else plural


def format_value(value: Any, unit: str, decimals: int, unit_label: str | None = "") -> str:
    """A figure as a reader sees it, with its unit.

    ``percent`` -> ``"46%"``; ``gbp`` -> ``"£1,234"``; ``per_10000`` -> ``"66.3 per 10,000
    children"`` (``unit_label``, default ``"per 10,000"``); ``days`` -> ``"8.92 days"`` or
    ``"8.92 days per person"`` when that is the ``unit_label``; ``count`` -> ``"1,304"`` plus
    the label if any; ``years`` -> ``"2.1 years"``; ``score`` -> the number plus the label if
    any. ``unit_label`` is ignored for ``percent`` and ``gbp``, whose symbol says it all.
    Missing values give ``"no data"``.
    """
    if unit not in UNITS:
        raise InputError(
            f"'{unit}' is not a unit the report knows",
            fix=f"use one of: {', '.join(UNITS)}",
        )
    number = format_number(value, decimals)
    if number == NO_DATA_TEXT:
        return NO_DATA_TEXT
    return with_unit(number, unit, unit_label)


def with_unit(number: str, unit: str, unit_label: str | None = "") -> str:
    """A number already written out (``"1,304"``, or as reported: ``"just over 1,300"``)
    followed or preceded by its unit, as :func:`format_value` writes it."""
    if unit not in UNITS:
        raise InputError(
            f"'{unit}' is not a unit the report knows",
            fix=f"use one of: {', '.join(UNITS)}",
        )
    label = "" if is_missing(unit_label) else str(unit_label or "").strip()
    if unit == "percent":
        return f"{number}%"
    if unit == "gbp":
        if number[:1].isdigit() or number.startswith("-"):
            return f"-£{number[1:]}" if number.startswith("-") else f"£{number}"
        return re.sub(r"(-?)(\d)", r"\1£\2", number, count=1)  # "about £3,000"
    if unit == "per_10000":
        return f"{number} {label or 'per 10,000'}"
    if unit == "days":
        return f"{number} {label or _unit_word(number, 'day', 'days')}"
    if unit == "years":
        return f"{number} {label or _unit_word(number, 'year', 'years')}"
    # count and score: a bare number unless a label says what is counted
    return f"{number} {label}" if label else number


def unit_axis_label(unit: str, unit_label: str | None = "") -> str:
    """Words for a chart's value axis: ``"per 10,000 children"``, ``"Per cent"``, ``"£"``."""
    if unit not in UNITS:
        raise InputError(
            f"'{unit}' is not a unit the report knows",
            fix=f"use one of: {', '.join(UNITS)}",
        )
    label = "" if is_missing(unit_label) else str(unit_label or "").strip()
    defaults = {
        "percent": "Per cent",
        "gbp": "Pounds (£)",
        "per_10000": "per 10,000",
        "days": "Days",
        "count": "Number",
        "years": "Years",
        "score": "Score",
    }
    if unit in ("percent", "gbp"):
        return defaults[unit]
    if label:
        return label[0].upper() + label[1:]
    return defaults[unit]


# --- colour contrast --------------------------------------------------------------------


def _relative_luminance(colour: str) -> float:
    text = colour.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) != 6:
        raise InputError(
            f"'{colour}' is not a colour written as #rrggbb", fix="write it like #00703c"
        )
    try:
        channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        raise InputError(
            f"'{colour}' is not a colour written as #rrggbb", fix="write it like #00703c"
        ) from None

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(colour1: str, colour2: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours, from 1 (same) to 21 (black/white)."""
    high, low = sorted((_relative_luminance(colour1), _relative_luminance(colour2)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# --- ratings, directions, risk bands ----------------------------------------------------


def normalise_rating(rating: Any) -> str:
    """A rating spelled as ``RATINGS`` spells it; a missing rating is ``"No data"``."""
    if is_missing(rating) or str(rating).strip() == "":
        return "No data"
    wanted = str(rating).strip().casefold()
    for known in RATINGS:
        if known.casefold() == wanted:
            return known
    raise InputError(f"'{rating}' is not a rating", fix=f"use one of: {', '.join(RATINGS)}")


def normalise_direction(direction: Any) -> str:
    """A direction spelled as ``DIRECTIONS`` spells it; missing is ``"not available"``."""
    if is_missing(direction) or str(direction).strip() == "":
        return "not available"
    wanted = str(direction).strip().casefold()
    for known in DIRECTIONS:
        if known == wanted:
            return known
    raise InputError(
        f"'{direction}' is not a direction of travel", fix=f"use one of: {', '.join(DIRECTIONS)}"
    )


def normalise_band(band: Any) -> str:
    """A risk band spelled as ``RISK_BANDS`` spells it."""
    wanted = "" if is_missing(band) else str(band).strip().casefold()
    for known in RISK_BANDS:
        if known.casefold() == wanted:
            return known
    raise InputError(f"'{band}' is not a risk band", fix=f"use one of: {', '.join(RISK_BANDS)}")


def rating_symbol(rating: str) -> str:
    """A symbol that tells the ratings apart without colour: ✔ ▲ ✖ – ○."""
    return RATING_SYMBOLS[normalise_rating(rating)]


def _badge(css_class: str, symbol: str, word: str) -> str:
    return (
        f'<span class="{html.escape(css_class)}"><span aria-hidden="true">'
        f"{html.escape(symbol)}</span> {html.escape(word)}</span>"
    )


def rating_badge_html(rating: str) -> str:
    """``<span class="rag rag-green"><span aria-hidden="true">✔</span> Green</span>``.

    The symbol is hidden from screen readers, which read the word.
    """
    name = normalise_rating(rating)
    return _badge(f"rag {_RATING_CLASSES[name]}", RATING_SYMBOLS[name], name)


def direction_symbol(direction: str) -> str:
    """An arrow for a direction of travel: ↗ → ↘ –."""
    return DIRECTION_SYMBOLS[normalise_direction(direction)]


def direction_html(direction: str) -> str:
    """``<span class="dot dot-improving"><span aria-hidden="true">↗</span> Improving</span>``."""
    name = normalise_direction(direction)
    word = name[0].upper() + name[1:]
    return _badge(f"dot {_DIRECTION_CLASSES[name]}", DIRECTION_SYMBOLS[name], word)


def risk_band_html(band: str) -> str:
    """A risk band as a badge with the same look as a rating: Red, Amber or Green."""
    name = normalise_band(band)
    return _badge(f"rag {_RATING_CLASSES[name]}", RATING_SYMBOLS[name], name)
