"""What each facade call shows in the Word paper (:data:`RENDERERS`), one renderer per method.

A notebook cell ``sc.trends("workforce")`` is shown in the HTML report by the facade
(``present.sections.Scorecard``) and in Word by ``RENDERERS["trends"]``, from the same results
and sentences. Split from the writer because this is the part that grows with the notebooks:
``tests/test_word.py`` checks every call in them has a renderer here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scorecard_lib.core.formatting import (
    DIRECTION_SYMBOLS,
    RATING_SYMBOLS,
    normalise_band,
    normalise_direction,
    normalise_rating,
)
from scorecard_lib.report.word.writer import Writer, _inline_markdown

if TYPE_CHECKING:
    from scorecard_lib.present.sections import Scorecard

# --- plain-text cells -------------------------------------------------------------------------


def rating_text(rating: str) -> str:
    """A rating as a symbol and a word, never colour alone: ``✖ Red``."""
    name = normalise_rating(rating)
    return f"{RATING_SYMBOLS[name]} {name}"


def band_text(band: str) -> str:
    """A risk band as a symbol and a word: ``✖ Red``."""
    name = normalise_band(band)
    return f"{RATING_SYMBOLS[name]} {name}"


def direction_text(direction: str) -> str:
    """A direction of travel as an arrow and a word: ``↗ Improving``."""
    name = normalise_direction(direction)
    return f"{DIRECTION_SYMBOLS[name]} {name[0].upper()}{name[1:]}"


# --- what each facade call shows --------------------------------------------------------------

Renderer = Callable[..., None]


def _notice(w: Writer, sc: Scorecard) -> None:
    text = str(sc.inputs.settings.get("notice") or "").strip()
    if text:
        w.paragraph(text, bold=True)


def _summary(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.rules import narrative

    w.paragraph(" ".join(narrative.summary_sentences(sc.counts, sc.quarter, len(sc.updated_red()))))


def _rag_table(w: Writer, sc: Scorecard) -> None:
    w.table(
        sc.rag_frame(rating_text),
        f"Indicators by rating, {sc.quarter.prose}",
        numeric=["Indicators"],
    )


def _theme_table(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.rules import rating

    w.table(
        sc.theme_frame(),
        f"Indicators by theme and rating, {sc.quarter.prose}",
        numeric=[*rating.RATINGS, "Total"],
    )


def _red_list(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.core.registry import SECTION_TITLES

    rows = sc.updated_red()
    if rows.empty:
        w.paragraph(f"No red indicator had an update in {sc.quarter.prose}.")
        return
    w.bullets(f"{r['name']} ({SECTION_TITLES[r['section']]})" for r in rows.to_dict("records"))


def _section_intro(w: Writer, sc: Scorecard, section: str) -> None:
    text, updated, red = sc.section_intro_parts(section)
    w.paragraph(text)
    if len(updated):
        names = ", ".join(str(n) for n in updated["name"])
        w.paragraph(f"{sc.explained_lead(len(updated))} {names}.")
    elif red:
        w.paragraph(sc.no_update_text(red))


def _exceptions(w: Writer, sc: Scorecard, section: str | None = None) -> None:
    from scorecard_lib.rules import narrative

    rows = sc.updated_red(section)
    if rows.empty:
        where = "" if section is None else " in this section"
        w.paragraph(f"No indicator{where} is rated red with an update in {sc.quarter.prose}.")
        return
    com = sc.inputs.commentary.set_index("indicator_id")
    for r in rows.to_dict("records"):
        w.heading(f"{r['name']} {rating_text(r['rating'])}", w.level + 1)
        w.bullets(narrative.headline(r, sc.quarter))
        if r.get("override_reason"):
            w.paragraph(
                f"Rating overridden from {r['rating_computed']} to {r['rating']} by "
                f"{r['override_by']}: {r['override_reason']}"
            )
        if r["indicator_id"] in com.index:
            c = com.loc[r["indicator_id"]]
            if c["commentary"]:
                w.paragraph("Commentary", bold=True)
                w.markdown(c["commentary"])
            if c["actions"]:
                w.paragraph("Actions", bold=True)
                for action in c["actions"]:
                    p = w.document.add_paragraph(style="List Bullet")
                    _inline_markdown(p, action)
            if c["author"]:
                w.paragraph(f"Commentary from {c['author']}.")


def _section_table(w: Writer, sc: Scorecard, section: str) -> None:
    w.table(
        sc.indicator_frame(section, rating_cell=rating_text, direction_cell=direction_text),
        sc.section_table_caption(section),
        numeric=["Latest value"],
    )


def _charts(w: Writer, items: Any) -> None:
    for chart in items.items:
        w.chart(chart)


def _trends(
    w: Writer, sc: Scorecard, section: str | None = None, ratings: Sequence[str] | None = None
) -> None:
    from scorecard_lib.present.markup import Blocks

    shown = sc.trends(section, ratings=ratings)
    if isinstance(shown, Blocks):
        _charts(w, shown)
    else:  # the facade found no indicator with those ratings
        w.paragraph("No indicator is rated red or amber this quarter.")


def _breakdowns(w: Writer, sc: Scorecard, section: str) -> None:
    rows = sc.inputs.breakdowns
    ids = set(sc.board[sc.board["section"] == section]["indicator_id"])
    if rows[rows["indicator_id"].isin(ids)].empty:
        w.paragraph("No breakdowns were supplied for this section this quarter.")
        return
    _charts(w, sc.breakdowns(section))


def _commentary(w: Writer, sc: Scorecard, section: str) -> None:
    red = set(sc.updated_red(section)["indicator_id"])
    b = sc.board[sc.board["section"] == section].set_index("indicator_id")
    com = sc.inputs.commentary
    com = com[com["indicator_id"].isin(b.index) & ~com["indicator_id"].isin(red)]
    if com.empty:
        w.paragraph("No other commentary was supplied for this section this quarter.")
        return
    for c in com.sort_values("indicator_id").to_dict("records"):
        r = b.loc[c["indicator_id"]]
        w.heading(f"{r['name']} {rating_text(r['rating'])}", w.level + 1)
        if c["commentary"]:
            w.markdown(c["commentary"])
        for action in c["actions"]:
            p = w.document.add_paragraph(style="List Bullet")
            _inline_markdown(p, action)


def _risk_summary(w: Writer, sc: Scorecard) -> None:
    text, red = sc.risk_summary_text()
    w.paragraph(text)
    if len(red):
        w.paragraph(sc.red_risks_lead(len(red)))
        w.bullets(str(t) for t in red["title"])


def _red_risks(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.present.markup import split_items

    red = sc.red_risk_rows()
    if red.empty:
        w.paragraph("No risk is rated red this quarter.")
        return
    for r in red.to_dict("records"):
        w.heading(f"{r['title']} {band_text(r['current_band'])}", w.level + 1)
        if r["description"]:
            w.paragraph(str(r["description"]))
        w.bullets(sc.risk_facts(r))
        controls = split_items(r["controls"])
        if controls:
            w.paragraph("Existing controls", bold=True)
            w.bullets(controls)
        actions = split_items(r["actions"])
        if actions:
            w.paragraph("Actions", bold=True)
            w.bullets(actions)
            if r["action_owner"]:
                w.paragraph(
                    f"Action owner: {r['action_owner']}; due {r['action_due'] or 'not set'}."
                )


def _risk_table(w: Writer, sc: Scorecard, full: bool = False) -> None:
    w.table(
        sc.risk_frame(full, band_cell=band_text),
        sc.risk_table_caption(full),
        numeric=["Inherent score", "Current score", "Target score"],
    )


def _dashboard_table(w: Writer, sc: Scorecard) -> None:
    w.table(
        sc.indicator_frame(None, rating_cell=rating_text, direction_cell=direction_text),
        sc.dashboard_caption(),
        numeric=["Latest value"],
    )


def _overrides_table(w: Writer, sc: Scorecard) -> None:
    frame = sc.overrides_frame(rating_text)
    if frame.empty:
        w.paragraph("No rating was overridden this quarter.")
        return
    w.table(frame, "Ratings overridden by an analyst")


# --- the cover report (paper.py's data, as the HTML report shows it) ---------------------------


def _field(w: Writer, field: Any, paper_file: str) -> None:
    """An officer-written field, or in its place a marked "to be completed" paragraph."""
    from scorecard_lib.rules import paper

    if field.missing:
        label, text = paper.to_be_completed_text(field, paper_file)
        p = w.document.add_paragraph()
        p.add_run(label).bold = True
        p.add_run(f" {text}")
        return
    for line in field.paragraphs:
        w.paragraph(line)


def _inline_field(field: Any, paper_file: str) -> str:
    from scorecard_lib.rules import paper

    if field.missing:
        return " ".join(paper.to_be_completed_text(field, paper_file))
    return " ".join(field.text.split())


def _labelled(w: Writer, label: str, value: str) -> None:
    p = w.document.add_paragraph()
    p.add_run(f"{label}: ").bold = True
    p.add_run(value)


def _cover(w: Writer, sc: Scorecard) -> None:
    p = sc.paper
    meeting = p.meeting.text if not p.meeting.missing else "Meeting"
    w.paragraph(meeting + (f", {p.meeting_date}" if p.meeting_date else ""), bold=True)
    if p.council:
        _labelled(w, "Council", p.council)
    _labelled(w, "Meeting", _inline_field(p.meeting, p.paper_file))
    _labelled(w, "Date of meeting", p.meeting_date or "not set")
    _labelled(w, "Item", f"{p.item_title}: {p.quarter_prose}")
    _labelled(w, "Relevant Cabinet Member", _inline_field(p.cabinet_member, p.paper_file))
    _labelled(w, "Relevant Officer", _inline_field(p.relevant_officer, p.paper_file))


def _recommendations(w: Writer, sc: Scorecard) -> None:
    p = sc.paper
    w.paragraph(p.recommendations_lead)
    for rec in p.recommendations:
        w.paragraph(f"{rec.letter} {rec.text}")
        for items in rec.lists:
            if items.label:
                w.paragraph(items.label)
            w.bullets(link.text for link in items.items)


def _background(w: Writer, sc: Scorecard) -> None:
    p = sc.paper
    _field(w, p.purpose, p.paper_file)
    _field(w, p.caveats, p.paper_file)


def _risk_paragraphs(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.rules import paper

    p = sc.paper
    if p.risk_background:
        for line in paper.Field("", "", p.risk_background).paragraphs:
            w.paragraph(line)
    if not p.red_risks:
        w.paragraph("No risk is rated red this quarter.")
        return
    w.paragraph(
        "The risk rated red is:"
        if len(p.red_risks) == 1
        else f"The {len(p.red_risks)} risks rated red are:"
    )
    w.bullets(
        f"{r.title}: current score {r.score_text}; {r.movement[0].lower()}{r.movement[1:]}."
        + (f" {r.reason}" if r.reason else " No reason was recorded for its rating.")
        for r in p.red_risks
    )


def _implications(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.rules import paper

    p = sc.paper
    for (_key, heading), field in zip(paper.IMPLICATIONS, p.implications, strict=True):
        w.heading(heading, w.level + 1)
        _field(w, field, p.paper_file)


def _supporting_information(w: Writer, sc: Scorecard) -> None:
    from scorecard_lib.rules import paper

    w.bullets(link.text for link in paper.supporting_information(sc.quarter))


def _contacts(w: Writer, sc: Scorecard) -> None:
    p = sc.paper
    if p.contacts.missing:
        _field(w, p.contacts, p.paper_file)
        return
    w.bullets(x.strip() for x in p.contacts.text.split("\n") if x.strip())


def _background_papers(w: Writer, sc: Scorecard) -> None:
    p = sc.paper
    _field(w, p.background_papers, p.paper_file)


#: The Word renderer of each facade method a notebook may call (``sc.NAME(...)``).
RENDERERS: Mapping[str, Renderer] = {
    "cover": _cover,
    "recommendations": _recommendations,
    "background": _background,
    "risk_paragraphs": _risk_paragraphs,
    "implications": _implications,
    "supporting_information": _supporting_information,
    "contacts": _contacts,
    "background_papers": _background_papers,
    "notice": _notice,
    "summary": _summary,
    "rag_chart": lambda w, sc: w.chart(sc.rag_chart()),
    "rag_table": _rag_table,
    "theme_chart": lambda w, sc: w.chart(sc.theme_chart()),
    "theme_table": _theme_table,
    "red_list": _red_list,
    "section_intro": _section_intro,
    "exceptions": _exceptions,
    "section_table": _section_table,
    "trends": _trends,
    "breakdowns": _breakdowns,
    "commentary": _commentary,
    "risk_summary": _risk_summary,
    "risk_heatmap": lambda w, sc: w.chart(sc.risk_heatmap()),
    "red_risks": _red_risks,
    "risk_table": _risk_table,
    "dashboard_table": _dashboard_table,
    "overrides_table": _overrides_table,
    "method": lambda w, sc: w.bullets(sc.method_items()),
    "tolerance_table": lambda w, sc: w.table(sc.tolerance_frame(), "How each indicator is rated"),
}
