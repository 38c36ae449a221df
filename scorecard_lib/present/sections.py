"""The facade the notebooks call. A notebook cell is one call here, and shows its result:

    sc = load_scorecard(quarter, data_dir=data_dir)
    sc.summary()
    sc.exceptions("childrens_services")

Everything returned has an HTML representation (``_repr_html_``) that Jupyter shows and the
report assembly copies, and a stable plain-text representation (no memory addresses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    direction_html,
    format_value,
    rating_badge_html,
)
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.registry import SECTION_TITLES
from scorecard_lib.inputs.loading import Inputs, load_inputs
from scorecard_lib.inputs.parameters import PARAM_KEYS
from scorecard_lib.present import tables
from scorecard_lib.present.appendix_views import AppendixViews
from scorecard_lib.present.markup import (
    APPENDIX_COMMENTARY_LEVEL,
    APPENDIX_COMMENTARY_SECTION,
    OUTPUT_HEADING_LEVEL,
    Blocks,
    Html,
    paragraph_html,
)
from scorecard_lib.present.notebook_parameters import (
    check_injected_parameters,
    from_root,
    read_ahead_inputs,
)
from scorecard_lib.present.risk_views import RiskViews
from scorecard_lib.rules import narrative, paper, rating, risks
from scorecard_lib.rules.narrative import escape

if TYPE_CHECKING:
    from scorecard_lib.present import charts

# ``charts`` (matplotlib) is imported by the methods that draw, not here: the runner computes
# the manifest's results through this module without drawing anything, and a kernel imports
# it with the library anyway (kernels.PRELOAD).


def load_scorecard(
    quarter: str | Quarter,
    data_dir: str | Path | None = "",
    params_dir: str | Path | None = "",
    **params: str,
) -> Scorecard:
    """Read, validate and rate one quarter. Empty folders mean the project's own.

    Keyword parameters (``cabinet_date``, ``title``, ``council``) replace the values in
    ``params/QUARTER.yaml`` when they are not empty; any other name is an error, and so is a
    parameter papermill injected that the notebooks do not take (``papermill -p quater ...``).
    """
    check_injected_parameters()
    inputs = read_ahead_inputs(quarter, data_dir, params_dir)
    if inputs is None:
        inputs = load_inputs(quarter, from_root(data_dir), from_root(params_dir))
    unknown = sorted(set(params) - set(PARAM_KEYS))
    if unknown:
        raise InputError(
            f"Unknown notebook parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            fix=f"use only {', '.join(('data_dir', *PARAM_KEYS))}",
        )
    given = {k: str(v) for k, v in params.items() if v not in (None, "")}
    if given:
        inputs = replace(inputs, params={**inputs.params, **given})
    return Scorecard(inputs)


class Scorecard(RiskViews, AppendixViews):
    """One quarter's scorecard and risk register, ready to show."""

    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.quarter: Quarter = inputs.quarter
        self.params = inputs.params

    # --- computed once -----------------------------------------------------------------
    @cached_property
    def board(self) -> pd.DataFrame:
        """Every indicator in force with its rating and direction of travel."""
        return rating.dashboard(
            self.inputs.catalogue,
            self.inputs.values,
            self.inputs.overrides,
            self.quarter,
            threshold_percent=float(self.inputs.settings["direction_threshold_percent"]),
        )

    @cached_property
    def register(self) -> pd.DataFrame:
        return risks.register(
            self.inputs.risks, self.quarter, risks.bands_in_force(self.inputs.settings)
        )

    @cached_property
    def counts(self) -> dict[str, int]:
        return rating.counts(self.board)

    @cached_property
    def paper(self) -> paper.CabinetPaper:
        """The cover report as data (recommendations computed, officers' text from
        ``params/QUARTER.paper.yaml``): what the HTML and Word versions both show."""
        return paper.cabinet_paper(
            params=self.params,
            paper=self.inputs.paper,
            paper_file=self.inputs.paper_file,
            quarter=self.quarter,
            catalogue=self.inputs.catalogue,
            board=self.board,
            register=self.register,
            trend_words=risks.TREND_WORDS,
        )

    def missing_for_publication(self) -> list[str]:
        """Each officer-written field the paper lacks (file and key); empty when complete."""
        return paper.missing_for_publication(self.inputs.paper, self.inputs.paper_file)

    # --- the cover report ----------------------------------------------------------------
    def cover(self) -> Html:
        return Html(paper.cover_html(self.paper), "cover")

    def recommendations(self) -> Html:
        return Html(paper.recommendations_html(self.paper), "recommendations")

    def background(self) -> Html:
        return Html(paper.background_html(self.paper), "background")

    def risk_paragraphs(self) -> Html:
        return Html(paper.risks_html(self.paper), "red risks and why")

    def implications(self, *, level: int = OUTPUT_HEADING_LEVEL) -> Html:
        return Html(paper.implications_html(self.paper, level), "implications")

    def supporting_information(self) -> Html:
        return Html(paper.list_html(paper.supporting_information(self.quarter)), "appendices")

    def contacts(self) -> Html:
        return Html(paper.contacts_html(self.paper), "contacts")

    def background_papers(self) -> Html:
        p = self.paper
        return Html(paper.field_html(p.background_papers, p.paper_file), "background papers")

    def _rows(self, section: str | None = None) -> pd.DataFrame:
        b = self.board
        return b if section is None else b[b["section"] == section]

    def updated_red(self, section: str | None = None) -> pd.DataFrame:
        """Red indicators with a new figure this quarter: the ones the report explains."""
        b = self._rows(section)
        return b[(b["rating"] == rating.RED) & b["updated"]]

    # --- overview ----------------------------------------------------------------------
    def notice(self) -> Html:
        """The data owner's notice about the data (``notice`` in settings.yaml), if any."""
        text = str(self.inputs.settings.get("notice") or "").strip()
        return Html(
            f'<div class="note">{paragraph_html(text)}</div>' if text else "", "data notice"
        )

    def summary(self) -> Html:
        sentences = narrative.summary_sentences(self.counts, self.quarter, len(self.updated_red()))
        return Html(paragraph_html(" ".join(sentences), "summary-sentence"), "summary")

    def rag_chart(self) -> charts.Chart:
        from scorecard_lib.present import charts

        return charts.rag_counts_chart(self.counts, self.quarter.prose)

    def rag_frame(self, rating_cell: Callable[[str], str] = rating_badge_html) -> pd.DataFrame:
        """The rows of :meth:`rag_table`; ``rating_cell`` writes a rating (HTML or text)."""
        return pd.DataFrame(
            {
                "Rating": [rating_cell(r) for r in self.counts],
                "Indicators": [str(n) for n in self.counts.values()],
            }
        )

    def rag_table(self) -> tables.Table:
        return tables.html_table(
            self.rag_frame(),
            f"Indicators by rating, {self.quarter.prose}",
            numeric=["Indicators"],
            html_columns=["Rating"],
            row_header="Rating",
        )

    def _theme_counts(self) -> pd.DataFrame:
        b = self.board
        grid = (
            b.groupby(["theme", "rating"])
            .size()
            .unstack(fill_value=0)
            .reindex(columns=list(rating.RATINGS), fill_value=0)
        )
        return grid.sort_index()

    def theme_chart(self) -> charts.Chart:
        from scorecard_lib.present import charts

        long = self._theme_counts().stack().rename("count").reset_index()
        return charts.rag_by_theme_chart(long, self.quarter.prose)

    def theme_frame(self) -> pd.DataFrame:
        """The rows of :meth:`theme_table`: indicators by theme and rating, as text."""
        grid = self._theme_counts()
        df = grid.reset_index().rename(columns={"theme": "Theme"})
        df["Total"] = grid.sum(axis=1).to_numpy()
        return df.astype({c: str for c in df.columns})

    def theme_table(self) -> tables.Table:
        return tables.html_table(
            self.theme_frame(),
            f"Indicators by theme and rating, {self.quarter.prose}",
            numeric=[*rating.RATINGS, "Total"],
            row_header="Theme",
        )

    def red_list(self) -> Html:
        """Links to the red indicators updated this quarter, with the section each sits in."""
        rows = self.updated_red()
        if rows.empty:
            return Html(paragraph_html(f"No red indicator had an update in {self.quarter.prose}."))
        items = "".join(
            f'<li><a href="#ind-{escape(r["indicator_id"])}">{escape(r["name"])}</a> '
            f"({escape(SECTION_TITLES[r['section']])})</li>"
            for r in rows.to_dict("records")
        )
        return Html(f"<ul>{items}</ul>", "red indicators updated")

    # --- service sections --------------------------------------------------------------
    def section_intro(self, section: str) -> Html:
        text, updated, red = self.section_intro_parts(section)
        html = paragraph_html(text)
        if len(updated):
            links = ", ".join(
                f'<a href="#ind-{escape(r["indicator_id"])}">{escape(r["name"])}</a>'
                for r in updated.to_dict("records")
            )
            html += f"<p>{self.explained_lead(len(updated))} {links}.</p>"
        elif red:
            html += paragraph_html(self.no_update_text(red))
        return Html(html, f"{section} introduction")

    @staticmethod
    def explained_lead(updated: int) -> str:
        """What a service section says before listing its red indicators with an update."""
        which = "The red indicator" if updated == 1 else "The red indicators"
        verb = "is" if updated == 1 else "are"
        return f"{which} with a new figure this quarter {verb} explained in the report to Cabinet:"

    @staticmethod
    def no_update_text(red: int) -> str:
        return (
            "None of its red indicators has a new figure this quarter."
            if red > 1
            else "Its red indicator has no new figure this quarter."
        )

    def section_intro_parts(self, section: str) -> tuple[str, pd.DataFrame, int]:
        """The sentence opening a service section (its indicators by rating), its red
        indicators with an update (explained in the report to Cabinet) and how many are red."""
        b = self._rows(section)
        c = rating.counts(b)
        parts = [
            f"{n} {r.lower()}"
            for r, n in c.items()
            if n and r in (rating.GREEN, rating.AMBER, rating.RED)
        ]
        other = c[rating.NOT_RATED] + c[rating.NO_DATA]
        text = (
            f"This section reports {narrative.count_words(len(b), 'indicator', 'indicators')} "
            f"for {self.quarter.prose}: " + (", ".join(parts) if parts else "none rated")
        )
        if other:
            text += f", and {other} not rated or without data"
        return text + ".", self.updated_red(section), int(c[rating.RED])

    def value_text(self, r: Mapping[str, Any], key: str = "value") -> str:
        """An indicator's figure with its unit, as every table writes it."""
        return self._value_text(dict(r), key)

    def _value_text(self, r: dict[str, Any], key: str = "value") -> str:
        return format_value(r[key], r["unit"], int(r["decimals"]), r.get("unit_label") or "")

    def exceptions(
        self, section: str | None = None, *, level: int = OUTPUT_HEADING_LEVEL
    ) -> Blocks | Html:
        """Each red indicator with an update (of one section, or all): generated headline,
        commentary and actions; the indicator's name is a heading at ``level``."""
        rows = self.updated_red(section)
        if rows.empty:
            where = "" if section is None else " in this section"
            return Html(
                paragraph_html(
                    f"No indicator{where} is rated red with an update in {self.quarter.prose}."
                ),
                "no exceptions",
            )
        com = self.inputs.commentary.set_index("indicator_id")
        blocks = []
        for r in rows.to_dict("records"):
            blocks.append(Html(self._indicator_block(r, com, level), r["indicator_id"]))
        return Blocks(blocks, f"{section} exceptions", "exceptions")

    def _indicator_block(self, r: dict[str, Any], com: pd.DataFrame, level: int) -> str:
        ind = escape(r["indicator_id"])
        sentences = narrative.headline(r, self.quarter)
        parts = [
            f'<div class="headline toc-entry" id="ind-{ind}" data-toc="{escape(r["name"])}">',
            f"<h{level}>{escape(r['name'])} {rating_badge_html(r['rating'])}</h{level}>",
            f'<ul class="facts">{"".join(f"<li>{escape(s)}</li>" for s in sentences)}</ul>',
        ]
        if r.get("override_reason"):
            parts.append(
                paragraph_html(
                    f"Rating overridden from {r['rating_computed']} to {r['rating']} by "
                    f"{r['override_by']}: {r['override_reason']}",
                    "note",
                )
            )
        if r["indicator_id"] in com.index:
            c = com.loc[r["indicator_id"]]
            if c["commentary"]:
                parts.append(
                    f'<div class="commentary"><h{level + 1}>Commentary</h{level + 1}>'
                    f"{narrative.markdown_html(c['commentary'])}</div>"
                )
            if c["actions"]:
                acts = "".join(f"<li>{narrative.markdown_inline(a)}</li>" for a in c["actions"])
                parts.append(
                    f'<div class="actions"><h{level + 1}>Actions</h{level + 1}>'
                    f"<ul>{acts}</ul></div>"
                )
            if c["author"]:
                parts.append(paragraph_html(f"Commentary from {c['author']}.", "author"))
        parts.append("</div>")
        return "\n".join(parts)

    def commentary(self, section: str, *, level: int | None = None) -> Html:
        """Commentary supplied for the section's other indicators (not red and updated), each
        under its indicator's name as a heading at ``level`` (by default where the notebooks
        show it: :data:`APPENDIX_COMMENTARY_LEVEL` for the overview's, in the appendix)."""
        if level is None:
            appendix = section == APPENDIX_COMMENTARY_SECTION
            level = APPENDIX_COMMENTARY_LEVEL if appendix else OUTPUT_HEADING_LEVEL
        red = set(self.updated_red(section)["indicator_id"])
        b = self._rows(section).set_index("indicator_id")
        com = self.inputs.commentary
        com = com[com["indicator_id"].isin(b.index) & ~com["indicator_id"].isin(red)]
        if com.empty:
            return Html(
                paragraph_html("No other commentary was supplied for this section this quarter.")
            )
        items = []
        for c in com.sort_values("indicator_id").to_dict("records"):
            r = b.loc[c["indicator_id"]]
            text = narrative.markdown_html(c["commentary"]) if c["commentary"] else ""
            acts = "".join(f"<li>{narrative.markdown_inline(a)}</li>" for a in c["actions"])
            items.append(
                f'<div class="commentary"><h{level}>{escape(r["name"])} '
                f"{rating_badge_html(r['rating'])}</h{level}>{text}"
                + (f"<ul>{acts}</ul>" if acts else "")
                + "</div>"
            )
        return Html("\n".join(items), f"{section} commentary")

    def _reference_text(self, r: dict[str, Any]) -> str:
        if r["rating_basis"] == "data_only":
            return "not applicable (shown for information)"
        if r["reference"] is None:
            return "no data"
        return f"{narrative.reference_text(r, r['reference'])} ({r['reference_label']})"

    def _period_text(self, r: dict[str, Any]) -> str:
        if r["value_quarter"] is None:
            return "no data"
        q = parse_quarter(r["value_quarter"])
        text = q.short
        if r.get("period_label"):
            text += f" ({r['period_label']})"
        if r.get("data_quality"):
            text += f", {r['data_quality']}"
        return text

    def _indicator_cell(self, r: dict[str, Any], linked: bool) -> str:
        """The indicator's name (HTML). In a section's table a red indicator without an
        update this quarter (so without a headline block) is a target for the contents."""
        name = escape(r["name"])
        if not (linked and r["rating"] == rating.RED and not r["updated"]):
            return name
        label = escape(f"{r['name']}: red, no new figure this quarter")
        ind = escape(r["indicator_id"])
        return f'<span class="toc-entry" id="ind-{ind}" data-toc="{label}">{name}</span>'

    def indicator_frame(
        self,
        section: str | None,
        *,
        name_cell: Callable[[dict[str, Any]], str] | None = None,
        rating_cell: Callable[[str], str] = rating_badge_html,
        direction_cell: Callable[[str], str] = direction_html,
    ) -> pd.DataFrame:
        """The rows of :meth:`indicator_table`. The cell writers give HTML for the report and
        plain text for the Word paper (``report.word``); by default the indicator's name as text."""
        rows = []
        for r in self._rows(section).to_dict("records"):
            rows.append(
                {
                    "Indicator": name_cell(r) if name_cell is not None else str(r["name"]),
                    "Latest value": self._value_text(r),
                    "Period": self._period_text(r),
                    "Target or benchmark": self._reference_text(r),
                    "Rating": rating_cell(r["rating"])
                    + (" (overridden)" if r.get("override_reason") else ""),
                    "Short term": direction_cell(r["short_term"]),
                    "Long term": direction_cell(r["long_term"]),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "Indicator",
                "Latest value",
                "Period",
                "Target or benchmark",
                "Rating",
                "Short term",
                "Long term",
            ],
        )

    def indicator_table(self, section: str | None, caption: str) -> tables.Table:
        df = self.indicator_frame(
            section,
            # the overview's indicators have no table of their own (the cover report explains
            # only those updated): the full dashboard is their place
            name_cell=lambda r: self._indicator_cell(
                r, linked=section is not None or r["section"] == "overview"
            ),
        )
        return tables.html_table(
            df,
            caption,
            numeric=["Latest value"],
            html_columns=["Indicator", "Rating", "Short term", "Long term"],
            row_header="Indicator",
        )

    def section_table_caption(self, section: str) -> str:
        return f"{SECTION_TITLES[section]} indicators, {self.quarter.prose}"

    def section_table(self, section: str) -> tables.Table:
        return self.indicator_table(section, self.section_table_caption(section))

    def trends(
        self, section: str | None = None, ratings: Sequence[str] | None = None
    ) -> Blocks | Html:
        """An eight-quarter trend chart for every indicator in the section (or all), or only
        for those rated as ``ratings`` says (the appendix shows the red and amber ones)."""
        from scorecard_lib.present import charts

        rows = self._rows(section)
        if ratings is not None:
            rows = rows[rows["rating"].isin(list(ratings))]
            if rows.empty:
                return Html(paragraph_html("No indicator is rated red or amber this quarter."))
        items = []
        for r in rows.to_dict("records"):
            hist = rating.history(self.inputs.values, r["indicator_id"], self.quarter, 8)
            meta = {
                k: r[k]
                for k in (
                    "name",
                    "unit",
                    "unit_label",
                    "decimals",
                    "polarity",
                    "benchmark_label",
                    "rating",
                )
            }
            meta["unit_label"] = meta["unit_label"] or ""
            meta["benchmark_label"] = meta["benchmark_label"] or "Benchmark"
            items.append(charts.trend_chart(hist, meta))
        return Blocks(items, f"{section or 'all'} trends", "chart-grid")

    def breakdowns(self, section: str) -> Blocks | Html:
        """Charts of the section's indicators split by category (e.g. sickness by directorate)."""
        from scorecard_lib.present import charts

        bd = self.inputs.breakdowns
        b = self._rows(section).set_index("indicator_id")
        bd = bd[bd["indicator_id"].isin(b.index)]
        if bd.empty:
            return Html(
                paragraph_html("No breakdowns were supplied for this section this quarter.")
            )
        items = []
        for (ind, dim), g in bd.groupby(["indicator_id", "dimension"], sort=True):
            r = b.loc[ind].to_dict()
            meta = {k: r[k] for k in ("name", "unit", "unit_label", "decimals", "polarity")}
            meta["unit_label"] = meta["unit_label"] or ""
            meta["target"] = r["target"] if r["rating_basis"] == "target" else None
            title = f"{r['name']} by {dim}, {self.quarter.prose}"
            items.append(
                charts.breakdown_chart(
                    g[["category", "value"]].reset_index(drop=True), meta, title=title
                )
            )
        return Blocks(items, f"{section} breakdowns", "chart-grid")
