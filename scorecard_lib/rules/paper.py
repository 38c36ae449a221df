"""The Cabinet paper: the cover report that opens the quarterly report.

A committee paper has a house form (heading block, recommendations, background, exceptions,
risks, implications, contacts, background papers). Every number and name in its
recommendations is computed here from the quarter's results and the catalogue; the text an
officer writes (members, officers, purpose, caveats, implications, contacts, background
papers) comes from ``params/QUARTER.paper.yaml`` (read and checked by ``loading``; format in
``docs/data-model.md``).

Two kinds of function, kept apart so that every output format says the same thing:

* data: :func:`cabinet_paper` (everything at once), :func:`recommendations`,
  :func:`scorecard_refresh`, :func:`missing_for_publication`, :func:`meeting_date_text`.
  They return plain dataclasses, strings and :class:`Link` s, nothing HTML;
* HTML: the ``*_html`` functions render that data for the web report (``sections.py`` calls
  them). A Word version renders the same data its own way.

A field the officer has not written yet is a :class:`Field` whose ``text`` is empty: a draft
shows a "to be completed" box in its place (:func:`to_be_completed_html`), and publication
is refused with :func:`missing_for_publication` naming each such field.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from scorecard_lib.core.quarters import Quarter

# --- the officer-written fields ------------------------------------------------------------

#: Fields a published paper must have: (key in the paper file, what it is called). Dotted
#: keys sit under a mapping (``implications.equality_diversity``).
REQUIRED_FIELDS: tuple[tuple[str, str], ...] = (
    ("meeting", "the meeting the paper goes to"),
    ("cabinet_member", "the Relevant Cabinet Member"),
    ("relevant_officer", "the Relevant Officer"),
    ("purpose", "the purpose of the scorecard (background)"),
    ("caveats", "the caveats on the measures (background)"),
    ("implications.legal_financial_hr", "the Legal, Financial and HR implications"),
    ("implications.privacy_public_health", "the Privacy and Public Health implications"),
    ("implications.equality_diversity", "the Equality and Diversity implications"),
    ("contacts", "the contact points"),
    ("background_papers", "the background papers statement"),
)
LABELS: dict[str, str] = dict(REQUIRED_FIELDS)

#: The implications sections in the order the house form lists them, with their headings.
IMPLICATIONS: tuple[tuple[str, str], ...] = (
    ("legal_financial_hr", "Legal, Financial and HR implications"),
    ("privacy_public_health", "Privacy and Public Health impact assessments"),
    ("equality_diversity", "Equality and Diversity implications"),
)


@dataclass(frozen=True)
class Field:
    """One officer-written field: its key in the paper file, what it is, and its text
    (empty when not written yet: a draft shows a "to be completed" box)."""

    key: str
    label: str
    text: str = ""

    @property
    def missing(self) -> bool:
        return not self.text.strip()

    @property
    def paragraphs(self) -> list[str]:
        """The text split at blank lines, each paragraph on one line."""
        parts = [" ".join(p.split()) for p in self.text.split("\n\n")]
        return [p for p in parts if p]


@dataclass(frozen=True)
class Link:
    """A named thing the paper refers to. ``target`` is the id of its place in the HTML
    report (``ind-CF01``, ``risk-CRR01``), empty when it has none there."""

    key: str
    text: str
    target: str = ""


@dataclass(frozen=True)
class ItemList:
    """A list under a recommendation, with an optional lead-in ("Leaving the scorecard")."""

    label: str
    items: tuple[Link, ...]


@dataclass(frozen=True)
class Recommendation:
    letter: str  # (a), (b), ...
    text: str
    lists: tuple[ItemList, ...] = ()


@dataclass(frozen=True)
class Refresh:
    """Indicators leaving and joining the scorecard in the next quarter."""

    next_quarter: Quarter
    leaving: tuple[Link, ...]
    joining: tuple[Link, ...]


@dataclass(frozen=True)
class RiskNote:
    """A red risk as the paper states it: score, movement, and the owner's reason."""

    risk_id: str
    title: str
    score_text: str
    movement: str
    reason: str


@dataclass(frozen=True)
class CabinetPaper:
    council: str
    meeting: Field
    meeting_date: str  # written out: "20 July 2017" (empty when not set)
    item_title: str
    quarter_prose: str
    cabinet_member: Field
    relevant_officer: Field
    recommendations_lead: str
    recommendations: tuple[Recommendation, ...]
    purpose: Field
    caveats: Field
    risk_background: str
    red_risks: tuple[RiskNote, ...]
    implications: tuple[Field, ...]
    contacts: Field  # one contact per line
    background_papers: Field
    refresh: Refresh | None
    paper_file: str

    def missing(self) -> list[str]:
        """Each officer-written field a published paper needs and this one lacks."""
        return [
            _missing_message(f, self.paper_file)
            for f in (
                self.meeting,
                self.cabinet_member,
                self.relevant_officer,
                self.purpose,
                self.caveats,
                *self.implications,
                self.contacts,
                self.background_papers,
            )
            if f.missing
        ]


# --- pure functions --------------------------------------------------------------------------


def _get(paper: Mapping[str, Any], key: str) -> Any:
    value: Any = paper
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def field_of(paper: Mapping[str, Any], key: str) -> Field:
    """The field ``key`` (dotted for implications) of the checked paper mapping."""
    value = _get(paper, key)
    if isinstance(value, list):
        text = "\n".join(str(v).strip() for v in value if str(v).strip())
    else:
        text = "" if value is None else str(value).strip()
    return Field(key=key, label=LABELS.get(key, key.replace("_", " ")), text=text)


def _missing_message(f: Field, paper_file: str) -> str:
    return f"{paper_file}: '{f.key}' ({f.label}) is missing or empty"


def missing_for_publication(paper: Mapping[str, Any], paper_file: str) -> list[str]:
    """One line for each field a published paper needs that ``paper`` (the checked mapping
    ``loading`` read from ``paper_file``) lacks, naming the file and the key; empty when the
    paper is complete."""
    return [
        _missing_message(f, paper_file)
        for f in (field_of(paper, key) for key, _label in REQUIRED_FIELDS)
        if f.missing
    ]


def meeting_date_text(iso: str) -> str:
    """``"2017-07-20"`` -> ``"20 July 2017"``; empty or unreadable -> ``""``."""
    try:
        when = date.fromisoformat(str(iso).strip())
    except ValueError:
        return ""
    return f"{when.day} {when.strftime('%B')} {when.year}"


def _in_force(catalogue: pd.DataFrame, quarter: Quarter) -> set[str]:
    from scorecard_lib.inputs.cross_checks import in_force  # a function on a frame; no I/O

    return set(catalogue.loc[in_force(catalogue, quarter), "indicator_id"])


def scorecard_refresh(catalogue: pd.DataFrame, quarter: Quarter) -> Refresh | None:
    """Indicators leaving and joining the scorecard after ``quarter`` (from the catalogue's
    first_quarter and last_quarter); None when the next quarter has the same set."""
    now, nxt = _in_force(catalogue, quarter), _in_force(catalogue, quarter.next())
    if now == nxt:
        return None
    names = dict(zip(catalogue["indicator_id"], catalogue["name"], strict=True))

    def links(ids: set[str]) -> tuple[Link, ...]:
        return tuple(Link(key=i, text=str(names[i])) for i in sorted(ids))

    return Refresh(next_quarter=quarter.next(), leaving=links(now - nxt), joining=links(nxt - now))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def recommendations(
    counts: Mapping[str, int],
    updated_red: pd.DataFrame,
    red_risks: pd.DataFrame,
    refresh: Refresh | None,
    quarter: Quarter,
) -> tuple[Recommendation, ...]:
    """What Cabinet is asked to do, computed: note the green count; consider each red
    indicator with an update (``updated_red``: indicator_id, name); note each red risk
    (``red_risks``: risk_id, title); support the refresh when the catalogue changes."""
    out: list[tuple[str, tuple[ItemList, ...]]] = []
    green = int(counts.get("Green", 0))
    rated = (
        "no indicator is rated green"
        if green == 0
        else f"{_count(green, 'indicator is', 'indicators are')} rated green"
    )
    out.append(
        (
            f"receives the Corporate Balanced Scorecard for {quarter.prose} and notes that "
            f"{rated};",
            (),
        )
    )
    reds = tuple(
        Link(key=r["indicator_id"], text=r["name"], target=f"ind-{r['indicator_id']}")
        for r in updated_red.to_dict("records")
    )
    if reds:
        which = (
            "the red indicator that had"
            if len(reds) == 1
            else f"the {len(reds)} red indicators that had"
        )
        out.append(
            (
                f"considers the actions being taken to improve performance for {which} a "
                f"performance update in {quarter.prose}:",
                (ItemList("", reds),),
            )
        )
    risks = tuple(
        Link(key=r["risk_id"], text=r["title"], target=f"risk-{r['risk_id']}")
        for r in red_risks.to_dict("records")
    )
    if risks:
        which = "the risk rated red" if len(risks) == 1 else f"the {len(risks)} risks rated red"
        out.append(
            (
                "notes the latest refresh of the Corporate Risk Register, including the actions "
                f"to reduce {which}:",
                (ItemList("", risks),),
            )
        )
    else:
        out.append(
            ("notes the latest refresh of the Corporate Risk Register; no risk is rated red;", ())
        )
    if refresh is not None:
        lists = []
        if refresh.leaving:
            lists.append(ItemList("Leaving the scorecard:", refresh.leaving))
        if refresh.joining:
            lists.append(ItemList("Joining the scorecard:", refresh.joining))
        out.append(
            (
                f"supports the refresh of the scorecard from {refresh.next_quarter.prose}:",
                tuple(lists),
            )
        )
    # the last recommendation ends with a full stop, the one before it with "; and"
    recs = []
    for i, (text, lists_) in enumerate(out):
        if i == len(out) - 1 and text.endswith(";"):
            text = text[:-1] + "."
        elif i == len(out) - 2 and text.endswith(";"):
            text += " and"
        recs.append(Recommendation(letter=f"({chr(ord('a') + i)})", text=text, lists=lists_))
    return tuple(recs)


def risk_notes(register: pd.DataFrame, trend_words: Mapping[str, str]) -> tuple[RiskNote, ...]:
    """The open red risks of a register (``risks.register``), highest score first."""
    red = register[(register["status"] == "open") & (register["current_band"] == "Red")]
    notes = []
    for r in red.to_dict("records"):
        movement = trend_words[r["trend"]]
        if r["trend"] in ("up", "down"):
            movement += f" (was {int(r['previous_score'])})"
        notes.append(
            RiskNote(
                risk_id=str(r["risk_id"]),
                title=str(r["title"]),
                score_text=f"{r['current_score']} (likelihood {r['current_likelihood']} x "
                f"impact {r['current_impact']})",
                movement=movement,
                reason=str(r.get("reason") or ""),
            )
        )
    return tuple(notes)


def cabinet_paper(
    *,
    params: Mapping[str, Any],
    paper: Mapping[str, Any],
    paper_file: str,
    quarter: Quarter,
    catalogue: pd.DataFrame,
    board: pd.DataFrame,
    register: pd.DataFrame,
    trend_words: Mapping[str, str],
) -> CabinetPaper:
    """The whole cover report as data (the facade's ``Scorecard.paper`` calls this with the
    quarter's inputs, dashboard and register)."""
    from scorecard_lib.rules.rating import RED, counts  # pure functions on the dashboard

    updated_red = board[(board["rating"] == RED) & board["updated"]]
    red_risks = register[(register["status"] == "open") & (register["current_band"] == "Red")]
    refresh = scorecard_refresh(catalogue, quarter)
    member = field_of(paper, "cabinet_member")
    if member.missing:
        lead = "Cabinet is recommended to consider the following; it:"
    elif member.text.startswith("Cabinet Member"):
        lead = f"The {member.text} recommends that Cabinet:"
    else:
        lead = f"{member.text} recommends that Cabinet:"
    return CabinetPaper(
        council=str(params.get("council") or ""),
        meeting=field_of(paper, "meeting"),
        meeting_date=meeting_date_text(str(params.get("cabinet_date") or "")),
        item_title=str(paper.get("item_title") or params.get("title") or ""),
        quarter_prose=quarter.prose,
        cabinet_member=member,
        relevant_officer=field_of(paper, "relevant_officer"),
        recommendations_lead=lead,
        recommendations=recommendations(counts(board), updated_red, red_risks, refresh, quarter),
        purpose=field_of(paper, "purpose"),
        caveats=field_of(paper, "caveats"),
        risk_background=str(paper.get("risk_background") or ""),
        red_risks=risk_notes(register, trend_words),
        implications=tuple(field_of(paper, f"implications.{k}") for k, _h in IMPLICATIONS),
        contacts=field_of(paper, "contacts"),
        background_papers=field_of(paper, "background_papers"),
        refresh=refresh,
        paper_file=paper_file,
    )


# --- HTML -------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def to_be_completed_text(f: Field, paper_file: str) -> tuple[str, str]:
    """What stands in place of a field the officer has not written yet: the label
    ("To be completed:") and the sentences after it (the Word paper writes them as text)."""
    where = f.key.replace(".", ": ")
    return "To be completed:", (
        f"{f.label}. Write it under {where} in {paper_file}. A report with this box is a "
        "draft: it cannot be published until the text is written."
    )


def to_be_completed_html(f: Field, paper_file: str) -> str:
    """A clearly marked box in place of a field the officer has not written yet."""
    where = f.key.replace(".", ": ")
    return (
        '<div class="to-complete">'
        f"<p><strong>To be completed:</strong> {_e(f.label)}. Write it under "
        f"<code>{_e(where)}</code> in <code>{_e(paper_file)}</code>. A report with this "
        "box is a draft: it cannot be published until the text is written.</p></div>"
    )


def field_html(f: Field, paper_file: str) -> str:
    if f.missing:
        return to_be_completed_html(f, paper_file)
    return "".join(f"<p>{_e(p)}</p>" for p in f.paragraphs)


def _inline(f: Field, paper_file: str) -> str:
    if f.missing:
        return to_be_completed_html(f, paper_file)
    return _e(" ".join(f.text.split()))


def link_html(link: Link) -> str:
    if link.target:
        return f'<a href="#{_e(link.target)}">{_e(link.text)}</a>'
    return _e(link.text)


def cover_html(p: CabinetPaper) -> str:
    """The heading block: council, meeting and date, item title, member and officer."""
    meeting = _e(p.meeting.text) if not p.meeting.missing else "Meeting"
    rows = [
        ("Meeting", _inline(p.meeting, p.paper_file)),
        ("Date of meeting", _e(p.meeting_date) if p.meeting_date else "not set"),
        ("Item", _e(f"{p.item_title}: {p.quarter_prose}")),
        ("Relevant Cabinet Member", _inline(p.cabinet_member, p.paper_file)),
        ("Relevant Officer", _inline(p.relevant_officer, p.paper_file)),
    ]
    if p.council:
        rows.insert(0, ("Council", _e(p.council)))
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<div class="cover"><p class="cover-meeting"><strong>{meeting}'
        + (f", {_e(p.meeting_date)}" if p.meeting_date else "")
        + f'</strong></p><dl class="cover-block">{items}</dl></div>'
    )


def recommendations_html(p: CabinetPaper) -> str:
    parts = [f"<p>{_e(p.recommendations_lead)}</p>", '<ol class="recommendations">']
    for rec in p.recommendations:
        inner = _e(rec.text)
        for lst in rec.lists:
            label = f"<p>{_e(lst.label)}</p>" if lst.label else ""
            inner += label + "<ul>" + "".join(f"<li>{link_html(i)}</li>" for i in lst.items)
            inner += "</ul>"
        parts.append(f'<li><span class="rec-letter">{_e(rec.letter)}</span> {inner}</li>')
    parts.append("</ol>")
    return "".join(parts)


def background_html(p: CabinetPaper) -> str:
    return field_html(p.purpose, p.paper_file) + field_html(p.caveats, p.paper_file)


def risks_html(p: CabinetPaper) -> str:
    """Each red risk with its score, its movement and why (the owner's reason)."""
    parts = []
    if p.risk_background:
        parts += [f"<p>{_e(x)}</p>" for x in Field("", "", p.risk_background).paragraphs]
    if not p.red_risks:
        parts.append("<p>No risk is rated red this quarter.</p>")
        return "".join(parts)
    lead = (
        "The risk rated red is:"
        if len(p.red_risks) == 1
        else (f"The {len(p.red_risks)} risks rated red are:")
    )
    items = []
    for r in p.red_risks:
        why = f" {_e(r.reason)}" if r.reason else " No reason was recorded for its rating."
        items.append(
            f'<li><a href="#risk-{_e(r.risk_id)}">{_e(r.title)}</a>: current score '
            f"{_e(r.score_text)}; {_e(r.movement[0].lower() + r.movement[1:])}.{why}</li>"
        )
    parts.append(f'<p>{lead}</p><ul class="risk-notes">{"".join(items)}</ul>')
    return "".join(parts)


def implications_html(p: CabinetPaper, level: int = 4) -> str:
    """The three implications sections, each under its own heading."""
    out = []
    for (key, heading), f in zip(IMPLICATIONS, p.implications, strict=True):
        out.append(
            f'<h{level} id="implications-{key.replace("_", "-")}">{_e(heading)}</h{level}>'
            + field_html(f, p.paper_file)
        )
    return "".join(out)


def contacts_html(p: CabinetPaper) -> str:
    if p.contacts.missing:
        return to_be_completed_html(p.contacts, p.paper_file)
    lines = [x.strip() for x in p.contacts.text.split("\n") if x.strip()]
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>"


def supporting_information(quarter: Quarter) -> list[Link]:
    """The appendices and sections that follow the cover report."""
    return [
        Link(
            "services",
            "Service sections: each indicator of each service, with commentary",
            "childrens_services",
        ),
        Link(
            "corporate_risk",
            "Corporate risk: the red risks' controls and actions",
            "corporate_risk",
        ),
        Link(
            "appendix-1", f"Appendix 1: the full scorecard dashboard, {quarter.prose}", "appendix"
        ),
        Link("appendix-2", "Appendix 2: the Corporate Risk Register and heat map", "appendix"),
        Link("appendix-3", "Appendix 3: trends of the red and amber indicators", "appendix"),
        Link("appendix-4", "Appendix 4: how ratings are worked out", "appendix"),
    ]


def list_html(links: Sequence[Link]) -> str:
    return "<ul>" + "".join(f"<li>{link_html(x)}</li>" for x in links) + "</ul>"
