"""scorecard: reproducible quarterly Corporate Balanced Scorecard and risk reports.

The notebooks call a small facade (:func:`load_quarter`); everything else lives in
modules named by their job. See ``docs/architecture.md`` for the layering.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
