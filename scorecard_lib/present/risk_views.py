"""The corporate risk section's views of a quarter (the summary, the heat map, the register and
each red risk), mixed into :class:`~scorecard_lib.present.sections.Scorecard`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from scorecard_lib.core.formatting import risk_band_html
from scorecard_lib.present import tables
from scorecard_lib.present.markup import (
    OUTPUT_HEADING_LEVEL,
    Html,
    list_html,
    paragraph_html,
    split_items,
)
from scorecard_lib.rules import narrative, risks
from scorecard_lib.rules.narrative import escape

if TYPE_CHECKING:
    from scorecard_lib.present import charts


class RiskViews:
    """Methods of the facade that show the risk register; they read ``self.register``."""

    def risk_summary(self) -> Html:
        text, red = self.risk_summary_text()
        items = "".join(
            f'<li><a href="#risk-{escape(r["risk_id"])}">{escape(r["title"])}</a></li>'
            for r in red.to_dict("records")
        )
        lead = self.red_risks_lead(len(red))
        body = paragraph_html(text, "summary-sentence") + (
            f"{paragraph_html(lead)}<ul>{items}</ul>" if len(red) else ""
        )
        return Html(body, "risk summary")

    @staticmethod
    def red_risks_lead(count: int) -> str:
        return f"The {count} red risks are:" if count != 1 else "The red risk is:"

    def risk_summary_text(self) -> tuple[str, pd.DataFrame]:
        """The sentence summing up the register, and the open red risks it lists after it."""
        reg = self.register
        open_ = reg[reg["status"] == "open"]
        bc = risks.band_counts(reg)
        red = open_[open_["current_band"] == "Red"]
        bands = [f"{n} {b.lower()}" for b, n in bc.items() if n]
        listed = " and ".join([", ".join(bands[:-1]), bands[-1]] if len(bands) > 1 else bands)
        text = (
            f"The Corporate Risk Register holds "
            f"{narrative.count_words(len(open_), 'open risk', 'open risks')} at the end of "
            f"{self.quarter.prose}" + (f": {listed} on their current score." if bands else ".")
        )
        closed = reg[reg["status"] == "closed"]
        new = open_[open_["trend"] == "new"]
        extra = []
        if len(new):
            extra.append(f"{len(new)} new this quarter")
        if len(closed):
            extra.append(f"{len(closed)} closed this quarter")
        if extra:
            text += " " + " and ".join(extra).capitalize() + "."
        return text, red

    def red_risk_rows(self) -> pd.DataFrame:
        """Open risks rated red on their current score (:meth:`red_risks` shows each)."""
        reg = self.register
        return reg[(reg["status"] == "open") & (reg["current_band"] == "Red")]

    def risk_heatmap(self) -> charts.Chart:
        from scorecard_lib.present import charts

        reg = self.register[self.register["status"] == "open"]
        df = pd.DataFrame(
            {
                "risk_id": reg["risk_id"],
                "title": reg["title"],
                "likelihood": reg["current_likelihood"],
                "impact": reg["current_impact"],
                "band": reg["current_band"],
            }
        )
        bands = risks.bands_in_force(self.inputs.settings)
        return charts.risk_heatmap(
            df.reset_index(drop=True),
            title=f"Current risk scores, {self.quarter.prose}",
            red_from=bands["red"],
            amber_from=bands["amber"],
        )

    def risk_frame(
        self, full: bool = False, band_cell: Callable[[str], str] = risk_band_html
    ) -> pd.DataFrame:
        """The rows of :meth:`risk_table`; ``band_cell`` writes a band (HTML or text)."""
        rows = []
        for r in self.register.to_dict("records"):
            row = {
                "Risk": f"{r['risk_id']}: {r['title']}",
                "Owner": r["owner"],
                "Inherent score": f"{r['inherent_score']} ({r['inherent_likelihood']} x "
                f"{r['inherent_impact']})",
                "Current score": f"{r['current_score']} ({r['current_likelihood']} x "
                f"{r['current_impact']})",
                "Current rating": band_cell(r["current_band"]),
                "Target score": str(r["target_score"]),
                "Change": risks.TREND_WORDS[r["trend"]],
                "Reason": r.get("reason") or "not recorded",
            }
            if full:
                row["Controls"] = r["controls"] or "none recorded"
                row["Actions"] = r["actions"] or "none recorded"
                row["Action owner and date"] = (
                    " by ".join(x for x in (r["action_owner"], r["action_due"]) if x)
                    or "not recorded"
                )
            rows.append(row)
        return pd.DataFrame(rows)

    def risk_table_caption(self, full: bool = False) -> str:
        return (
            f"{'Full ' if full else ''}Corporate Risk Register, {self.quarter.prose} "
            "(scores are likelihood x impact)"
        )

    def risk_table(self, full: bool = False) -> tables.Table:
        return tables.html_table(
            self.risk_frame(full),
            self.risk_table_caption(full),
            numeric=["Inherent score", "Current score", "Target score"],
            html_columns=["Current rating"],
            row_header="Risk",
        )

    def red_risks(self, *, level: int = OUTPUT_HEADING_LEVEL) -> Html:
        """Each red risk: description, scores, change, controls and actions; the risk's title
        is a heading at ``level``."""
        red = self.red_risk_rows()
        if red.empty:
            return Html(paragraph_html("No risk is rated red this quarter."))
        blocks = "\n".join(self._risk_block(r, level) for r in red.to_dict("records"))
        return Html(blocks, "red risks")

    @staticmethod
    def risk_facts(r: Mapping[str, Any]) -> list[str]:
        """The facts listed under a red risk's title: scores, change, owner."""
        change = risks.TREND_WORDS[r["trend"]]
        if r["trend"] in ("up", "down"):
            change += f" (was {int(r['previous_score'])})"
        return [
            f"Current score {r['current_score']} (likelihood {r['current_likelihood']} x impact "
            f"{r['current_impact']}); target score {r['target_score']}.",
            f"{change}." + (f" Why: {r['reason']}" if r.get("reason") else ""),
            f"Owner: {r['owner']}.",
        ]

    @staticmethod
    def _risk_block(r: dict[str, Any], level: int = OUTPUT_HEADING_LEVEL) -> str:
        facts = RiskViews.risk_facts(r)
        parts = [
            f'<div class="headline toc-entry" id="risk-{escape(r["risk_id"])}" '
            f'data-toc="{escape(r["title"])}">',
            f"<h{level}>{escape(r['title'])} {risk_band_html(r['current_band'])}</h{level}>",
            paragraph_html(r["description"] or ""),
            list_html(facts, "facts"),
        ]
        controls = split_items(r["controls"])
        if controls:
            parts.append(
                f'<div class="commentary"><h{level + 1}>Existing controls</h{level + 1}>'
                f"{list_html(controls)}</div>"
            )
        actions = split_items(r["actions"])
        if actions:
            owner = ""
            if r["action_owner"]:
                owner = paragraph_html(
                    f"Action owner: {r['action_owner']}; due {r['action_due'] or 'not set'}."
                )
            parts.append(
                f'<div class="actions"><h{level + 1}>Actions</h{level + 1}>'
                f"{list_html(actions)}{owner}</div>"
            )
        parts.append("</div>")
        return "\n".join(parts)
