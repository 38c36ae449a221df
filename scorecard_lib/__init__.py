"""scorecard: reproducible quarterly Corporate Balanced Scorecard and risk reports.

The section notebooks use one public face, ``from scorecard_lib import load_scorecard``; the
rest lives in subpackages named for the stages a quarter goes through (``docs/architecture.md``).
"""

from __future__ import annotations

from typing import Any

from scorecard_lib.core.version import __version__

__all__ = ["__version__", "load_scorecard"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that `scorecard --help` and the build's own process do not pay
    # for pandas and pandera before they need them.
    if name == "load_scorecard":
        from scorecard_lib.present.sections import load_scorecard

        return load_scorecard
    raise AttributeError(f"module 'scorecard_lib' has no attribute {name!r}")
