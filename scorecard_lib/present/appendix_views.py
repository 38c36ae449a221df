"""The appendix's views of a quarter (the full dashboard, overrides, the rating method and its
tolerances), mixed into :class:`~scorecard_lib.present.sections.Scorecard`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from scorecard_lib.core.formatting import (
    format_number,
    format_value,
    rating_badge_html,
)
from scorecard_lib.present import tables
from scorecard_lib.present.markup import Html, paragraph_html
from scorecard_lib.rules import risks
from scorecard_lib.rules.narrative import escape

if TYPE_CHECKING:
    pass


class AppendixViews:
    """Methods of the facade that show the appendices; they read ``self.board``."""

    def dashboard_caption(self) -> str:
        return f"Full dashboard: every indicator, {self.quarter.prose}"

    def dashboard_table(self) -> tables.Table:
        return self.indicator_table(None, self.dashboard_caption())

    def overrides_frame(
        self, rating_cell: Callable[[str], str] = rating_badge_html
    ) -> pd.DataFrame:
        """The rows of :meth:`overrides_table` (empty when nothing was overridden)."""
        o = self.board[self.board["override_reason"].notna()]
        return pd.DataFrame(
            {
                "Indicator": o["name"],
                "Computed rating": [rating_cell(x) for x in o["rating_computed"]],
                "Rating shown": [rating_cell(x) for x in o["rating"]],
                "Reason": o["override_reason"],
                "Approved by": o["override_by"],
            }
        )

    def overrides_table(self) -> Html | tables.Table:
        df = self.overrides_frame()
        if df.empty:
            return Html(paragraph_html("No rating was overridden this quarter."))
        return tables.html_table(
            df,
            "Ratings overridden by an analyst",
            html_columns=["Computed rating", "Rating shown"],
            row_header="Indicator",
        )

    def method(self) -> Html:
        """How ratings, carry-forward, direction of travel and risk bands work, with the
        settings in force for this report."""
        items = self.method_items()
        return Html(
            "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>", "rating method"
        )

    def method_items(self) -> list[str]:
        """The points of :meth:`method`, as plain sentences."""
        s = self.inputs.settings
        bands = risks.bands_in_force(s)
        thr = format_number(float(s["direction_threshold_percent"]), 1)
        items = [
            "Each indicator is compared with its target or, where the Council compares itself "
            "with others, a benchmark such as the England average.",
            "Green: the figure meets or beats the target or benchmark. Amber: it is worse, but "
            "within the indicator's tolerance. Red: it is worse by more than the tolerance. Each "
            "indicator has its own tolerance, either a percentage of the target or an amount in "
            "its own unit; a tolerance of zero means there is no amber.",
            "Whether higher or lower is better is set for each indicator.",
            "Some indicators are shown for information only and are not rated.",
            "An indicator with no new figure this quarter keeps its last figure and rating, "
            "shown with the period it refers to (carried forward).",
            "An analyst may override a rating only with a recorded reason; the report then shows "
            "both ratings and the reason.",
            f"Direction of travel compares the latest figure with the one before it (short term) "
            f"and with the same quarter a year earlier (long term). A change of less than {thr}% "
            "is shown as no noticeable change.",
            f"Risks are scored likelihood (1 to 5) times impact (1 to 5). A current score of "
            f"{bands['red']} or more is red, {bands['amber']} to {bands['red'] - 1} is amber and "
            f"below {bands['amber']} is green.",
        ]
        return items

    def tolerance_frame(self) -> pd.DataFrame:
        """The rows of :meth:`tolerance_table`, as text."""
        rows = []
        for r in self.board.to_dict("records"):
            if r["rating_basis"] == "data_only":
                tol = "not rated"
            elif r["tolerance_type"] == "relative":
                tol = f"{format_number(r['tolerance'], 1)}% of the reference"
            else:
                tol = format_value(
                    r["tolerance"], r["unit"], int(r["decimals"]), r.get("unit_label") or ""
                )
            rows.append(
                {
                    "Indicator": r["name"],
                    "Better when": "higher" if r["polarity"] == "higher_is_better" else "lower",
                    "Rated against": {
                        "target": "target",
                        "benchmark": "benchmark",
                        "data_only": "not rated",
                    }[r["rating_basis"]],
                    "Amber tolerance": tol,
                    "Frequency": r["frequency"],
                    "Owner": r["owner"],
                    "Source": r["source"],
                }
            )
        return pd.DataFrame(rows)

    def tolerance_table(self) -> tables.Table:
        return tables.html_table(
            self.tolerance_frame(), "How each indicator is rated", row_header="Indicator"
        )
