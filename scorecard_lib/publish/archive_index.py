"""The archive page: one ``index.html`` that lists every published quarter.

``published/index.html`` (or ``OUT/index.html`` over a folder of drafts) lists each record in
the folder, newest quarter first, with

* its headline counts (green, amber and red indicators, red risks), read from the
  ``results`` its manifest records (so records published before open data existed are
  listed too, with what they have; nothing is ever rebuilt to add it);
* links to its report (and a PDF or Word copy where there is one), its notebooks, its open
  data (where there is some) and its manifest: only to files that exist;
* the indicators whose rating changed since the previous quarter in the folder (its
  standing record);
* for a correction (``QUARTER.v2``), the version it replaces and why; a replaced version is
  listed as superseded, with the reason.

Above the list, a chart of the indicators by rating for each quarter, with its data table.
The page follows the report's rules: one self-contained file, no network, no JavaScript,
text alternatives and tables for the chart, ratings never shown by colour alone, and the same
bytes for the same folder. It sits at the top of the folder and is not part of any record.

Layer 6: reads manifests only (``archive.published_records`` finds the records);
``publishing.publish_quarter`` calls :func:`write_archive_index` after every publication.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.files import write_atomically
from scorecard_lib.core.formatting import RATINGS, rating_badge_html
from scorecard_lib.core.paths import CURRENT_DIR, display_path, resolve
from scorecard_lib.core.quarters import Quarter
from scorecard_lib.inputs.archive import ARCHIVE_DIR, published_records, read_record_manifest
from scorecard_lib.report.assemble import template_environment
from scorecard_lib.report.manifest import OPEN_DATA_SUBDIR

INDEX_NAME = "index.html"
TEMPLATE_NAME = "archive.html.j2"
MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.html"
#: Copies of the report for print or editing, as a record may hold them: (file, what it is).
DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("report.pdf", "PDF"),
    ("report.docx", "Word"),
    ("paper.pdf", "PDF of the committee paper"),
    ("paper.docx", "Word copy of the committee paper"),
)
#: The open-data files (``opendata.py``) in the order the page lists them, and what they are.
OPEN_DATA_FILES: tuple[tuple[str, str], ...] = (
    ("scorecard.csv", "Indicators (CSV)"),
    ("risks.csv", "Risk register (CSV)"),
    ("scorecard.ods", "Both tables as a spreadsheet (OpenDocument)"),
    ("datapackage.json", "Description of the data (Frictionless Data Package, JSON)"),
)
NOT_IN_SCORECARD = "not in the Scorecard"


@dataclass(frozen=True)
class Link:
    """A link to a file of a record, relative to the page."""

    text: str
    href: str


@dataclass(frozen=True)
class RatingChange:
    """One indicator whose rating differs from the previous quarter's (None: it was not in
    that quarter's, or is not in this quarter's, Scorecard)."""

    indicator_id: str
    name: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Entry:
    """One record as the page lists it."""

    name: str  # the folder: 2016-17-Q4, or 2016-17-Q4.v2 for a correction
    quarter: Quarter
    version: int
    current: bool
    supersedes: str | None
    superseded_by: str | None
    reason: str | None  # why this version replaced the one before it
    replaced_because: str | None  # for a superseded version: why it was replaced
    counts: Mapping[str, int] | None  # indicators by rating; None when not recorded
    red_risks: int | None
    report: Link | None
    documents: tuple[Link, ...]
    notebooks: tuple[Link, ...]
    open_data: tuple[Link, ...]
    manifest: Link
    previous: Quarter | None = None  # the quarter the changes are counted from
    changes: tuple[RatingChange, ...] | None = None  # None: cannot be told
    anchor: str = field(default="")

    @property
    def heading(self) -> str:
        if self.version == 1 and self.current:
            return self.quarter.prose
        state = "current" if self.current else "superseded"
        return f"{self.quarter.prose}, version {self.version} ({state})"


def _counts(results: Any) -> tuple[dict[str, int] | None, int | None]:
    """Indicators by rating and red risks from a manifest's ``results`` (None if absent)."""
    counts = results.get("counts") if isinstance(results, Mapping) else None
    if not isinstance(counts, Mapping):
        return None, None
    ratings = counts.get("ratings")
    by_rating = None
    if isinstance(ratings, Mapping):
        by_rating = {r: _whole(ratings.get(r)) or 0 for r in RATINGS}
    bands = counts.get("risk_bands")
    red = _whole(bands.get("Red")) if isinstance(bands, Mapping) else None
    return by_rating, red


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 and float(value).is_integer() else None


def _ratings(results: Any) -> dict[str, tuple[str, str]] | None:
    """``{indicator id: (name, rating shown)}`` from a manifest's results, or None."""
    indicators = results.get("indicators") if isinstance(results, Mapping) else None
    if not isinstance(indicators, Mapping):
        return None
    out = {}
    for ind, row in indicators.items():
        if isinstance(row, Mapping) and isinstance(row.get("rating"), str):
            out[str(ind)] = (str(row.get("name") or ind), str(row["rating"]))
    return out


def rating_changes(
    before: Mapping[str, tuple[str, str]], after: Mapping[str, tuple[str, str]]
) -> tuple[RatingChange, ...]:
    """Indicators whose rating differs between two quarters' ``{id: (name, rating)}``,
    including those added to or dropped from the Scorecard; sorted by indicator id."""
    changes = []
    for ind in sorted(set(before) | set(after)):
        old = before.get(ind)
        new = after.get(ind)
        if old is not None and new is not None and old[1] == new[1]:
            continue
        name = (new or old or (ind, ""))[0]
        changes.append(RatingChange(ind, name, old[1] if old else None, new[1] if new else None))
    return tuple(changes)


def _sentence(text: str | None) -> str | None:
    """A recorded reason as the page's sentences end it (the page adds the full stop)."""
    text = " ".join(str(text or "").split()).rstrip(".")
    return text or None


def _href(*parts: str) -> str:
    return "/".join(urllib.parse.quote(p) for p in parts)


def _links(record: Path) -> dict[str, Any]:
    """Links to the record's files that exist, relative to the folder above it."""
    name = record.name
    report = (
        Link("Report (web page)", _href(name, REPORT_NAME))
        if (record / REPORT_NAME).is_file()
        else None
    )
    documents = tuple(
        Link(text, _href(name, file)) for file, text in DOCUMENTS if (record / file).is_file()
    )
    from scorecard_lib.core.registry import SECTION_TITLES

    notebooks = tuple(
        Link(SECTION_TITLES.get(p.stem, p.stem), _href(name, "notebooks", p.name))
        for p in sorted((record / "notebooks").glob("*.ipynb"))
        if p.is_file()
    )
    open_data = tuple(
        Link(text, _href(name, OPEN_DATA_SUBDIR, file))
        for file, text in OPEN_DATA_FILES
        if (record / OPEN_DATA_SUBDIR / file).is_file()
    )
    return {
        "report": report,
        "documents": documents,
        "notebooks": notebooks,
        "open_data": open_data,
        "manifest": Link("Manifest (for auditors, JSON)", _href(name, MANIFEST_NAME)),
    }


def archive_entries(folder: Path) -> list[Entry]:
    """Every record in ``folder`` as the page lists it: newest quarter first, and within a
    quarter the current version first. Raises :class:`InputError` for a manifest that
    cannot be read."""
    records = published_records(Path(folder))
    results = {r.folder.name: read_record_manifest(r.folder).get("results") for r in records}
    by_name = {r.folder.name: r for r in records}
    # The standing record of each quarter, oldest first: what a later quarter is compared to.
    standing = [r for r in records if r.superseded_by is None]
    entries = []
    for r in records:
        earlier = [s for s in standing if s.quarter < r.quarter]
        previous = earlier[-1] if earlier else None
        changes = None
        if previous is not None:
            now = _ratings(results[r.folder.name])
            then = _ratings(results[previous.folder.name])
            if now is not None and then is not None:
                changes = rating_changes(then, now)
        successor = by_name.get(r.superseded_by) if r.superseded_by else None
        counts, red_risks = _counts(results[r.folder.name])
        entries.append(
            Entry(
                name=r.folder.name,
                quarter=r.quarter,
                version=r.version,
                current=r.superseded_by is None,
                supersedes=r.supersedes,
                superseded_by=r.superseded_by,
                reason=_sentence(r.reason),
                replaced_because=_sentence(successor.reason) if successor else None,
                counts=counts,
                red_risks=red_risks,
                previous=previous.quarter if previous else None,
                changes=changes,
                anchor="q-" + r.folder.name.replace(".", "-"),
                **_links(r.folder),
            )
        )
    entries.sort(key=lambda e: (-e.quarter.index, not e.current, -e.version))
    return entries


def _chart_html(entries: Sequence[Entry]) -> tuple[Markup, Markup, str] | None:
    """The chart of ratings by quarter (standing records with counts), its table and alt."""
    from scorecard_lib.present.charts import ratings_by_quarter_chart

    rows = [(e.quarter.short, e.counts) for e in entries if e.current and e.counts is not None]
    if not rows:
        return None
    chart = ratings_by_quarter_chart(rows)
    return Markup(chart.svg_inline()), Markup(chart.table_html()), chart.title


def index_html(folder: Path, *, drafts: bool = False) -> str:
    """The archive page of ``folder`` as HTML (see the module docstring). ``drafts``: the
    folder holds drafts (``outputs/``), and the page says so."""
    from scorecard_lib.report.assemble import report_css

    entries = archive_entries(folder)
    chart = _chart_html(entries)
    badges = {r: Markup(rating_badge_html(r)) for r in RATINGS}
    html = (
        template_environment()
        .get_template(TEMPLATE_NAME)
        .render(
            drafts=drafts,
            entries=entries,
            quarters=len({e.quarter for e in entries}),
            chart=chart,
            badges=badges,
            ratings=RATINGS,
            not_in_scorecard=NOT_IN_SCORECARD,
            css=Markup(report_css()),
        )
    )
    return html if html.endswith("\n") else html + "\n"


def write_archive_index(archive_dir: Path | None = None, *, drafts: bool = False) -> Path:
    """Write ``index.html`` at the top of the archive (default ``published/``), or of a
    folder of drafts with ``drafts=True``; the path written. Raises :class:`InputError` when
    the folder does not exist."""
    folder = resolve(archive_dir, ARCHIVE_DIR)
    if not folder.is_dir():
        raise InputError(
            f"There is no {'folder of drafts' if drafts else 'archive'} to index",
            where=display_path(folder, root=CURRENT_DIR, outside="given"),
            fix="name the folder that holds the quarters' record folders "
            "(--archive DIR, or --out DIR for drafts)",
        )
    path = folder / INDEX_NAME
    write_atomically(path, index_html(folder, drafts=drafts).encode("utf-8"))
    return path
