"""The one test of "this value is missing", used by every stage.

Figures reach the library as ``None`` (YAML, a blank spreadsheet cell), ``float('nan')``
(pandas' empty numeric cell) or pandas' own markers (``pd.NA``, ``NaT``). Reading, rating,
sentences and the outputs must agree on what counts as no figure, so they all ask here.
"""

from __future__ import annotations

from typing import Any


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN and pandas' missing markers (``pd.NA``, ``NaT``)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA and NaT are not equal to themselves
    except (TypeError, ValueError):  # pd.NA raises on bool(); arrays are not scalars
        return type(value).__name__ in {"NAType", "NaTType"}


__all__ = ["is_missing"]
