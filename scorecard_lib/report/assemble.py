"""Lay the executed section notebooks out as one self-contained, accessible HTML report.

The runner calls :func:`build_report` with the executed notebooks in report order and writes
the string it returns. Only this package knows how the report is laid out; the layout itself
is ``templates/report.html.j2`` and its styles ``templates/report.css`` (inlined, so the file
stands alone). See ``docs/architecture.md`` for why we do not use nbconvert.

The library's outputs arrive in their final markup (``scorecard_lib.present``: headings at
their level in the report, ids made once, tables in their scroll box, charts as images with
alt text and a data table), so a notebook is laid out, not rewritten:

* The first Markdown cell must open with a level-1 heading. It becomes the section's ``<h2>``
  with ``id`` = the section name. Markdown is rendered with its headings one level down
  (``##`` is an ``<h3>``), never skipping a level (``notebook_markdown.py``). Raw HTML in
  Markdown is escaped; images in Markdown are kept only when embedded.
* Code cells show only their outputs. The richest output is used: ``text/html``,
  ``text/markdown``, images (as ``data:`` URLs with alt text), then ``text/plain`` in
  ``<pre>``. ``stdout`` is shown in ``<pre>``; ``stderr`` is dropped; an error output stops
  the build (:class:`ExecutionError`) unless the cell is tagged ``raises-exception``.
  Plain-text object reprs that carry a memory address (``<Figure at 0x7f...>``) are dropped.
* Every ``text/html`` output is read with lxml (``html_clean.py``): its ids are claimed in
  the document, its contents entries listed, and anything that would load from elsewhere
  refused. An output that is not in the report's form (an analyst's own notebook) is
  cleaned there: scripts removed, clashing ids renamed, headings fitted into the outline,
  tables put in their scroll box.
* Cells tagged ``parameters``, ``injected-parameters`` or ``remove`` (also ``remove-cell``,
  ``remove_cell``) are left out of the body; ``remove-output`` drops a cell's outputs. The code
  of every code cell except removed and injected-parameters cells is listed, highlighted, in a
  collapsed ``<details class="code">`` at the end of the section (``code_listing.py``).
* Elements with class ``toc-entry`` and an ``id`` are listed in the contents under their
  section, with the ``data-toc`` attribute as link text.
* The template's own pages (how the report was made, abbreviations and terms, the
  accessibility statement) go inside the last section when it is named ``appendix``, as
  ``h3``s under its heading; otherwise they follow the sections as ``h2``s.
* Abbreviations are marked where first used in each part of the report and listed in the
  glossary (``abbreviations.py``, over the finished document).

The same input always gives the same string: there are no timestamps, random ids or
absolute paths, and mappings in the provenance are listed in sorted key order.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import nbformat
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from scorecard_lib.core.errors import ExecutionError, InputError
from scorecard_lib.core.formatting import ABBREVIATIONS
from scorecard_lib.core.paths import TEMPLATES_DIR
from scorecard_lib.report import notebook_markdown
from scorecard_lib.report.abbreviations import (
    mark_abbreviations,
    mark_document,
    parse_document,
    write_document,
)
from scorecard_lib.report.code_listing import REMOVE_TAGS, code_listing, tags_of
from scorecard_lib.report.html_clean import fit_output
from scorecard_lib.report.notebook_markdown import IMAGE_MIMES, cell_text, data_uri, esc
from scorecard_lib.report.outline import IdRegistry, SectionOutline, TocEntry
from scorecard_lib.report.provenance import render_provenance

log = logging.getLogger(__name__)

__all__ = [
    "APPENDIX_SECTION",
    "TEMPLATE_IDS",
    "Section",
    "TocEntry",
    "build_report",
    "mark_abbreviations",
    "render_provenance",
    "report_css",
    "template_environment",
]

TEMPLATE_NAME = "report.html.j2"
CSS_NAME = "report.css"

#: Ids the template itself uses; a section may not be named like one of these.
TEMPLATE_IDS: tuple[str, ...] = (
    "main",
    "contents",
    "contents-title",
    "provenance",
    "provenance-title",
    "abbreviations",
    "abbreviations-title",
    "accessibility",
    "accessibility-title",
)
#: When the last section has this name, the template's own pages (how the report was made,
#: abbreviations, the accessibility statement) are placed inside it, under its heading.
APPENDIX_SECTION = "appendix"

PARAMETER_TAGS = frozenset({"parameters", "injected-parameters"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})
RAISES_TAG = "raises-exception"

_SECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True)
class Section:
    """One notebook, ready for the template."""

    name: str
    title: Markup
    title_text: str
    body: Markup
    code: Markup
    entries: tuple[TocEntry, ...]


# --- outputs ------------------------------------------------------------------------------


def _image_html(mime: str, payload: str, metadata: Mapping[str, Any], state: SectionOutline) -> str:
    own = metadata.get(mime) if isinstance(metadata.get(mime), Mapping) else {}
    alt = str(own.get("alt") or metadata.get("alt") or "").strip()
    if not alt:
        log.warning("an image in the %s section has no alt text", state.name)
        alt = f"Chart from the {state.title} section (no text description was supplied)"
    size = ""
    for key in ("width", "height"):
        value = own.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            size += f' {key}="{value}"'
    return (
        '<figure class="chart">'
        f'<img src="{esc(data_uri(mime, payload))}" alt="{esc(alt)}"{size}>'
        "</figure>"
    )


def _output_html(output: Mapping[str, Any], state: SectionOutline, where: str) -> str | None:
    """The HTML one rich output shows in the report, or ``None`` to show nothing."""
    data = output.get("data") or {}
    if "text/html" in data:
        return fit_output(cell_text(data["text/html"]), state, where=where)
    if "text/markdown" in data:
        default_alt = f"Image from the {state.title} section"
        return notebook_markdown.render(
            cell_text(data["text/markdown"]), state, default_alt=default_alt
        )
    for mime in IMAGE_MIMES:
        if mime in data:
            return _image_html(mime, cell_text(data[mime]), output.get("metadata") or {}, state)
    plain = _ANSI.sub("", cell_text(data.get("text/plain")))
    if plain.strip() and not _ADDRESS.search(plain):
        return f'<pre class="output">{esc(plain.rstrip())}</pre>'
    return None


def _cell_outputs(cell: Mapping[str, Any], state: SectionOutline, where: str) -> list[str]:
    """The cell's outputs as HTML; stdout merged, stderr and (expected) errors dropped."""
    pieces: list[str] = []
    stdout: list[str] = []

    def flush() -> None:
        text = _ANSI.sub("", "".join(stdout)).rstrip()
        if text.strip():
            pieces.append(f'<pre class="output">{esc(text)}</pre>')
        stdout.clear()

    for output in cell.get("outputs") or ():
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout":
                stdout.append(cell_text(output.get("text")))
            continue
        flush()
        if kind in ("display_data", "execute_result", "update_display_data"):
            got = _output_html(output, state, where)
            if got is not None:
                pieces.append(got)
    flush()
    return pieces


def _check_errors(nb: Mapping[str, Any], name: str) -> None:
    """A notebook holding an error output is never published (unless the cell is tagged
    ``raises-exception``, meaning the error is expected)."""
    for index, cell in enumerate(nb.get("cells") or ()):
        if RAISES_TAG in tags_of(cell):
            continue
        for output in cell.get("outputs") or ():
            if output.get("output_type") == "error":
                raise ExecutionError(
                    f"The {name} notebook holds an error: "
                    f"{output.get('ename', 'Error')}: {output.get('evalue', '')}",
                    where=f"notebooks/{name}.ipynb, cell {index + 1}",
                    fix="fix the cause and run the notebooks again; a report is never built "
                    "from a notebook with errors",
                )


# --- notebooks to sections ----------------------------------------------------------------


def _title_cell(nb: Mapping[str, Any], name: str) -> tuple[int, notebook_markdown.TitleCell]:
    """The first Markdown cell, which must open with a level-1 heading, and where it is."""
    for index, cell in enumerate(nb.get("cells") or ()):
        if cell.get("cell_type") != "markdown" or tags_of(cell) & REMOVE_TAGS:
            continue
        parsed = notebook_markdown.parse_title_cell(
            cell_text(cell.get("source")), cell.get("attachments") or {}
        )
        if parsed is not None:
            return index, parsed
        break
    raise InputError(
        f"The {name} notebook does not open with a title",
        where=f"notebooks/{name}.ipynb, first Markdown cell",
        fix="start the first Markdown cell with a level-1 heading, such as '# Workforce'",
    )


def _section(name: str, nb: Mapping[str, Any], ids: IdRegistry) -> Section:
    """One notebook laid out: its cells in order, under its title."""
    _check_errors(nb, name)
    title_index, title = _title_cell(nb, name)
    state = SectionOutline(name=name, title=title.text, ids=ids)
    parts: list[str] = []
    for index, cell in enumerate(nb.get("cells") or ()):
        tags = tags_of(cell)
        kind = cell.get("cell_type")
        if tags & REMOVE_TAGS:
            continue
        where = f"notebooks/{name}.ipynb, cell {index + 1}"
        if kind == "markdown":
            if index == title_index:
                source = notebook_markdown.render_rest_of_title_cell(title, state)
            else:
                source = notebook_markdown.render(
                    cell_text(cell.get("source")),
                    state,
                    attachments=cell.get("attachments") or {},
                    default_alt=f"Image from the {title.text} section",
                )
            if source.strip():
                parts.append(source)
        elif kind == "code":
            if tags & PARAMETER_TAGS or tags & REMOVE_OUTPUT_TAGS:
                continue
            parts.extend(_cell_outputs(cell, state, where))
        # raw cells are not part of the report
    return Section(
        name=name,
        title=Markup(title.html),
        title_text=title.text,
        body=Markup("\n".join(p.strip("\n") for p in parts)),
        code=Markup(code_listing(nb)),
        entries=tuple(state.entries),
    )


# --- the document -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The Jinja2 environment of the report's templates (autoescape on; also the archive page's)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )


def report_css() -> str:
    """The report's style sheet, as inlined into the ``<head>``."""
    css = (TEMPLATES_DIR / CSS_NAME).read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{CSS_NAME} contains '</', which would end the inline style early")
    return css


def _check_names(notebooks: Sequence[tuple[str, Any]]) -> None:
    if not notebooks:
        raise ValueError("build_report needs at least one notebook")
    seen: set[str] = set()
    for name, _nb in notebooks:
        if not isinstance(name, str) or not _SECTION_NAME.match(name):
            raise ValueError(
                f"Section name {name!r} cannot be an id: use letters, digits, '_' and '-'"
            )
        if name in seen or name in TEMPLATE_IDS:
            raise ValueError(f"Section name {name!r} is used twice or by the template")
        seen.add(name)


def build_report(
    notebooks: Sequence[tuple[str, nbformat.NotebookNode]],
    *,
    title: str,
    quarter_prose: str,
    council: str,
    provenance: Mapping[str, object],
    notice: str = "",
) -> str:
    """The whole report as one HTML document (a string; the caller writes it as UTF-8).

    ``notebooks``: ``(section_name, executed_notebook)`` pairs in report order; each section
    name becomes the ``id`` of its ``<h2>``. Raises :class:`InputError` for a notebook without
    a title heading or with an output that would load something from outside the report,
    :class:`ExecutionError` for a notebook holding an error output, ``ValueError`` for section
    names that are empty, repeated or not usable as ids.
    """
    if not str(title).strip():
        raise InputError("The report has no title", fix="set title in params/QUARTER.yaml")
    _check_names(notebooks)
    ids = IdRegistry([*TEMPLATE_IDS, *(name for name, _nb in notebooks)])
    sections = [_section(name, nb, ids) for name, nb in notebooks]
    template = template_environment().get_template(TEMPLATE_NAME)
    context = {
        "title": str(title).strip(),
        "quarter_prose": str(quarter_prose).strip(),
        "council": str(council or "").strip(),
        "notice": str(notice or "").strip(),
        "css": Markup(report_css()),
        "sections": sections,
        "provenance": render_provenance(provenance),
        "back_in_section": sections[-1].name if sections[-1].name == APPENDIX_SECTION else "",
        "glossary": (),
    }
    # The glossary lists the abbreviations the rest of the report uses, so the report is
    # rendered once to find them and again with the glossary (which is never marked itself).
    root = parse_document(template.render(**context))
    used = mark_document(root, ABBREVIATIONS)
    if used:
        context["glossary"] = tuple((a, ABBREVIATIONS[a]) for a in used)
        root = parse_document(template.render(**context))
        mark_document(root, ABBREVIATIONS)
    document = write_document(root).replace("\r\n", "\n").replace("\r", "\n")
    return document if document.endswith("\n") else document + "\n"
