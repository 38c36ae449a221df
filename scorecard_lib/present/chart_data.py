"""What every chart reads and says: its inputs checked (columns, numbers, counts) and its
figures put into words for the alt text, the axes and the data table.

A module of its own because every kind of chart (ratings, indicators, risks) reads its
input and words its numbers the same way; none of it draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    UNITS,
    decimal_places,
    format_number,
    format_value,
    unit_axis_label,
)
from scorecard_lib.core.values import is_missing


def require_columns(df: Any, columns: Sequence[str], what: str) -> None:
    """Refuse anything but a DataFrame with ``columns``, naming the chart (``what``)."""
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


def float_column(series: pd.Series, what: str) -> np.ndarray:
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


def meta_text(meta: Mapping[str, Any], key: str, default: str = "") -> str:
    """``meta[key]`` as trimmed text, or ``default`` when it is missing or blank."""
    value = meta.get(key, default)
    if is_missing(value):
        return default
    return str(value).strip() or default


class Units:
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
        self.label = meta_text(meta, "unit_label")
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


def polarity_phrase(meta: Mapping[str, Any]) -> str:
    """``higher is better`` or ``lower is better``, or nothing for an indicator without."""
    polarity = meta_text(meta, "polarity")
    return {
        "higher_is_better": "higher is better",
        "lower_is_better": "lower is better",
    }.get(polarity, "")


def join_words(items: Sequence[str]) -> str:
    """``a, b and c``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


#: How each rating reads in a sentence ("4 with no data").
RATING_WORDS: Mapping[str, str] = {
    "Green": "green",
    "Amber": "amber",
    "Red": "red",
    "Not rated": "not rated",
    "No data": "with no data",
}


def whole_count(value: Any, what: str) -> int:
    """A count of indicators (missing counts as 0); anything but a whole number >= 0 is
    an error naming ``what``."""
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
