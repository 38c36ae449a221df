"""The one missing-value test every stage uses (core/values.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scorecard_lib.core.values import is_missing


@pytest.mark.parametrize(
    "value", [None, float("nan"), math.nan, np.nan, np.float64("nan"), pd.NA, pd.NaT]
)
def test_every_kind_of_missing_figure_is_missing(value: object) -> None:
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, 0.0, -1.5, False, "", "nan", "none", [], np.float64(3.0)])
def test_a_figure_zero_or_text_is_not_missing(value: object) -> None:
    """Zero is a figure, and text is never silently read as no figure."""
    assert not is_missing(value)
