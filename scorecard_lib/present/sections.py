"""The facade the notebooks call. A notebook cell is one call here, and shows its result:

    sc = load_scorecard(quarter, data_dir=data_dir)
    sc.summary()
    sc.exceptions("childrens_services")

Everything returned has an HTML representation (``_repr_html_``) that Jupyter shows and the
report assembly copies, and a stable plain-text representation (no memory addresses).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import (
    direction_html,
    format_number,
    format_value,
    rating_badge_html,
    risk_band_html,
)
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.read_ahead import take as take_read_ahead
from scorecard_lib.inputs.loading import Inputs, input_files, load_inputs
from scorecard_lib.inputs.parameters import PARAM_KEYS
from scorecard_lib.present import tables
from scorecard_lib.rules import narrative, paper, rating, risks
from scorecard_lib.rules.narrative import escape

if TYPE_CHECKING:
    from scorecard_lib.present import charts

# ``charts`` (matplotlib) is imported by the methods that draw, not here: the runner computes
# the manifest's results through this module without drawing anything, and a kernel imports
# it with the library anyway (kernels.PRELOAD).

#: The level of the first heading in an output that has headings, where the section notebooks
#: show it: a notebook's "#" title is the report's <h2> and its "##" headings <h3>s, so an
#: output under a "##" heading opens with an <h4>. Every output is made at its level in the
#: report, and the report lays it out as it is (assembly only fits in an output that a
#: notebook of one's own places elsewhere).
OUTPUT_HEADING_LEVEL = 4
#: The overview's own indicators have their other commentary in Appendix 1, under a "###"
#: heading there (``notebooks/appendix.ipynb``), so it opens one level deeper.
APPENDIX_COMMENTARY_LEVEL = OUTPUT_HEADING_LEVEL + 1
#: The section whose commentary the appendix shows.
APPENDIX_COMMENTARY_SECTION = "overview"

SECTION_TITLES: dict[str, str] = {
    "overview": "Report to Cabinet",
    "childrens_services": "Children's services",
    "adult_care": "Adult care",
    "workforce": "Workforce",
    "corporate_risk": "Corporate risk",
    "appendix": "Appendix",
}


@dataclass(frozen=True)
class Html:
    """A block of trusted HTML built by this library (every text inside it is escaped)."""

    html: str
    label: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<Html: {self.label}>" if self.label else "<Html>"


@dataclass(frozen=True)
class Blocks:
    """Several blocks shown one after another (e.g. a chart per indicator)."""

    items: Sequence[Any] = field(default_factory=tuple)
    label: str = ""
    css_class: str = "blocks"

    def _repr_html_(self) -> str:
        inner = "\n".join(i._repr_html_() for i in self.items)
        return f'<div class="{self.css_class}">\n{inner}\n</div>'

    def __repr__(self) -> str:
        return f"<Blocks: {self.label} ({len(self.items)})>"


def _p(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<p{cls}>{escape(text)}</p>"


def _list(items: Sequence[str], css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<ul{cls}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def split_items(text: str | None) -> list[str]:
    """Controls and actions are written in one cell, separated by semicolons."""
    items = [t.strip() for t in (text or "").split(";") if t.strip()]
    return [t[0].upper() + t[1:] for t in items]


def _from_root(folder: str | Path | None) -> Path | None:
    """A notebook parameter naming a folder: relative paths are taken from the project root
    (the runner's kernels start there, and a notebook opened in notebooks/ must agree)."""
    if folder is None or str(folder) == "":
        return None
    path = Path(folder).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


#: Every name a section notebook's ``parameters`` cell defines.
NOTEBOOK_PARAMETERS: tuple[str, ...] = (
    "quarter",
    "data_dir",
    *(k for k in PARAM_KEYS if k != "quarter"),
)


def injected_parameters() -> list[str]:
    """The names papermill injected into this kernel, in the cell it adds after the
    ``parameters`` cell (its source starts with the line ``# Parameters``); empty outside a
    notebook kernel. papermill only warns about a name the notebook does not declare and runs
    on with the default, which would build a report for the wrong quarter without a word."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    history = getattr(shell, "user_ns", {}).get("_ih", []) if shell is not None else []
    names: list[str] = []
    for source in history:
        if not (isinstance(source, str) and source.startswith("# Parameters\n")):
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign):
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def _check_injected_parameters() -> None:
    unknown = sorted(set(injected_parameters()) - set(NOTEBOOK_PARAMETERS))
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        raise InputError(
            f"The notebook was given the parameter{s} {', '.join(unknown)}, which it does not "
            "take (papermill only warns and would run on the default values)",
            fix=f"check the spelling after -p; the parameters are {', '.join(NOTEBOOK_PARAMETERS)}",
        )


# --- inputs read before the kernel started ---------------------------------------------------
# Kernels forked from a zygote (build/kernels.py) inherit its memory. The build reads the
# quarter's inputs once there (build/preparation.py) and hands them down (core/read_ahead.py);
# every kernel then starts with them in memory instead of reading and validating them again.
# They are used only for the same quarter and folders, and only if every input file still has
# the bytes it had when they were read (sha256 of each file ``loading.input_files`` lists, and
# the same list of files); anything else is read again as usual.


def inputs_key(
    quarter: str | Quarter, data_dir: str | Path | None, params_dir: str | Path | None
) -> tuple[str, str, str]:
    """The quarter and folders :func:`load_scorecard` reads, as compared for inputs read
    ahead (the folders as the notebook parameters resolve them)."""
    q = parse_quarter(quarter)
    data, params = _from_root(data_dir), _from_root(params_dir)
    return (q.id, "" if data is None else str(data), "" if params is None else str(params))


def inputs_fingerprint(
    quarter: str | Quarter, data_dir: str | Path | None, params_dir: str | Path | None
) -> tuple[tuple[str, str], ...]:
    """Each input file :func:`load_scorecard` reads, with the sha256 of its bytes now."""
    import hashlib

    files = input_files(quarter, _from_root(data_dir), _from_root(params_dir))
    return tuple((f.as_posix(), hashlib.sha256(f.read_bytes()).hexdigest()) for f in files)


def _read_ahead(
    quarter: str | Quarter, data_dir: str | Path | None, params_dir: str | Path | None
) -> Inputs | None:
    """The inputs the build read ahead for these arguments (once), if every input file is
    unchanged since."""
    read = take_read_ahead()
    if read is None:
        return None
    try:
        if inputs_key(quarter, data_dir, params_dir) != read.key:
            return None
        same = inputs_fingerprint(quarter, data_dir, params_dir) == read.fingerprint
    except Exception:  # a bad quarter or an unreadable file: load_inputs says what is wrong
        return None
    return read.inputs if same and isinstance(read.inputs, Inputs) else None


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
    _check_injected_parameters()
    inputs = _read_ahead(quarter, data_dir, params_dir)
    if inputs is None:
        inputs = load_inputs(quarter, _from_root(data_dir), _from_root(params_dir))
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


class Scorecard:
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
        return risks.register(self.inputs.risks, self.quarter, self.inputs.settings["risk_bands"])

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
        return Html(f'<div class="note">{_p(text)}</div>' if text else "", "data notice")

    def summary(self) -> Html:
        sentences = narrative.summary_sentences(self.counts, self.quarter, len(self.updated_red()))
        return Html(_p(" ".join(sentences), "summary-sentence"), "summary")

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
            return Html(_p(f"No red indicator had an update in {self.quarter.prose}."))
        items = "".join(
            f'<li><a href="#ind-{escape(r["indicator_id"])}">{escape(r["name"])}</a> '
            f"({escape(SECTION_TITLES[r['section']])})</li>"
            for r in rows.to_dict("records")
        )
        return Html(f"<ul>{items}</ul>", "red indicators updated")

    # --- service sections --------------------------------------------------------------
    def section_intro(self, section: str) -> Html:
        text, updated, red = self.section_intro_parts(section)
        html = _p(text)
        if len(updated):
            links = ", ".join(
                f'<a href="#ind-{escape(r["indicator_id"])}">{escape(r["name"])}</a>'
                for r in updated.to_dict("records")
            )
            html += f"<p>{self.explained_lead(len(updated))} {links}.</p>"
        elif red:
            html += _p(self.no_update_text(red))
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
                _p(f"No indicator{where} is rated red with an update in {self.quarter.prose}."),
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
                _p(
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
                parts.append(_p(f"Commentary from {c['author']}.", "author"))
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
            return Html(_p("No other commentary was supplied for this section this quarter."))
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
        plain text for the Word paper (``word.py``); by default the indicator's name as text."""
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
                return Html(_p("No indicator is rated red or amber this quarter."))
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
            return Html(_p("No breakdowns were supplied for this section this quarter."))
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

    # --- corporate risk ----------------------------------------------------------------
    def risk_summary(self) -> Html:
        text, red = self.risk_summary_text()
        items = "".join(
            f'<li><a href="#risk-{escape(r["risk_id"])}">{escape(r["title"])}</a></li>'
            for r in red.to_dict("records")
        )
        lead = self.red_risks_lead(len(red))
        body = _p(text, "summary-sentence") + (f"{_p(lead)}<ul>{items}</ul>" if len(red) else "")
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
        bands = self.inputs.settings["risk_bands"]
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
            return Html(_p("No risk is rated red this quarter."))
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
        facts = Scorecard.risk_facts(r)
        parts = [
            f'<div class="headline toc-entry" id="risk-{escape(r["risk_id"])}" '
            f'data-toc="{escape(r["title"])}">',
            f"<h{level}>{escape(r['title'])} {risk_band_html(r['current_band'])}</h{level}>",
            _p(r["description"] or ""),
            _list(facts, "facts"),
        ]
        controls = split_items(r["controls"])
        if controls:
            parts.append(
                f'<div class="commentary"><h{level + 1}>Existing controls</h{level + 1}>'
                f"{_list(controls)}</div>"
            )
        actions = split_items(r["actions"])
        if actions:
            owner = ""
            if r["action_owner"]:
                owner = _p(
                    f"Action owner: {r['action_owner']}; due {r['action_due'] or 'not set'}."
                )
            parts.append(
                f'<div class="actions"><h{level + 1}>Actions</h{level + 1}>'
                f"{_list(actions)}{owner}</div>"
            )
        parts.append("</div>")
        return "\n".join(parts)

    # --- appendix ----------------------------------------------------------------------
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
            return Html(_p("No rating was overridden this quarter."))
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
        bands = s["risk_bands"]
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
