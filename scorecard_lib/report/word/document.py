"""The paper as a whole: the outline in order, the back matter, fixed properties, stable bytes.

:func:`write_docx` is what the runner calls; :func:`document_text` is what the audit compares.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scorecard_lib.core.formatting import ABBREVIATIONS
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.report.word.outline import paper_parts
from scorecard_lib.report.word.renderers import RENDERERS
from scorecard_lib.report.word.template import LANGUAGE, new_document
from scorecard_lib.report.word.writer import DEEPEST, Writer

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

    from scorecard_lib.present.sections import Scorecard

DOCX_NAME = "report.docx"
#: The date every zip entry carries (the earliest a zip file can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --- the document -----------------------------------------------------------------------------


def _split_title(markdown: str) -> tuple[str, str]:
    """A notebook's first cell: its ``# Title`` line and the rest."""
    lines = markdown.strip().splitlines()
    first = lines[0] if lines else ""
    title = re.sub(r"^#\s+", "", first).strip()
    return title, "\n".join(lines[1:])


def _write_markdown_cell(w: Writer, markdown: str) -> None:
    """A notebook Markdown cell: ``##`` is Heading 3 (the report's ``<h3>``), deeper is 4."""
    from scorecard_lib.rules.narrative import markdown_tokens

    for tok in markdown_tokens(markdown):
        if tok.type == "heading_open":
            w.level = min(int(tok.tag[1:]) + 1, DEEPEST)
    w.markdown(markdown, level=1)


def build_document(
    sc: Scorecard,
    *,
    template: Path | None = None,
    notebooks_dir: Path | None = None,
    sections: Sequence[str] = SECTIONS,
    provenance: Mapping[str, Any] | None = None,
) -> DocxDocument:
    """The paper as a python-docx document (not yet saved)."""
    from scorecard_lib.present import charts

    parts = paper_parts(notebooks_dir, sections)
    document = new_document(template)
    w = Writer(document)
    title = str(sc.params.get("title") or "").strip()
    council = str(sc.params.get("council") or "").strip()
    full_title = f"{title}: {sc.quarter.prose}"
    w.heading(full_title, 1)
    if council:
        w.paragraph(council)

    section_titles = [
        _split_title(p.markdown)[0]
        for i, p in enumerate(parts)
        if p.markdown and (i == 0 or parts[i - 1].section != p.section)
    ]

    with charts.raster(charts.PRINT_DPI):
        current = ""
        for part in parts:
            if part.section != current:
                if current == sections[0]:
                    # The contents follow the cover report, as in the HTML report.
                    w.heading("Contents", 2)
                    w.bullets(section_titles)
                current = part.section
                heading, rest = _split_title(part.markdown)
                w.heading(heading, 2)
                w.level = 2
                if rest.strip():
                    _write_markdown_cell(w, rest)
                continue
            if part.markdown:
                _write_markdown_cell(w, part.markdown)
            elif part.call is not None:
                name, args, kwargs = part.call
                RENDERERS[name](w, sc, *args, **kwargs)
        _back_matter(w, sc, full_title, council, provenance, in_appendix=current == "appendix")
    _properties(document, sc, full_title, council)
    return document


def _back_matter(
    w: Writer,
    sc: Scorecard,
    full_title: str,
    council: str,
    provenance: Mapping[str, Any] | None,
    *,
    in_appendix: bool,
) -> None:
    """How the paper was made, abbreviations and the accessibility statement: inside the
    appendix (Heading 3) as in the HTML report, or after the sections (Heading 2)."""
    level = 3 if in_appendix else 2
    _glossary(w, level)
    _accessibility(w, full_title, council, level)
    _how_made(w, provenance, level)


def _how_made(w: Writer, provenance: Mapping[str, Any] | None, level: int) -> None:
    w.heading("How this report was made", level)
    w.paragraph(
        "This paper was generated from the quarter's data by the same code and settings as "
        "the web version of the report. The manifest.json published with it records every "
        "input file, the code and the software versions, and the fingerprint (SHA-256) of "
        "this document, so anyone can run it again and check they get the same result."
    )
    if provenance:
        facts = [
            f"Quarter: {provenance.get('quarter')}",
            f"Command to run it again: {provenance.get('command')}",
        ]
        code = provenance.get("code_version") or {}
        if isinstance(code, Mapping) and code.get("source_sha256"):
            facts.append(f"Code fingerprint (SHA-256): {str(code['source_sha256'])[:12]}")
        inputs = provenance.get("inputs") or []
        facts.append(f"Input files: {len(inputs)}, listed with their fingerprints in the manifest")
        w.bullets(facts)


def _glossary(w: Writer, level: int) -> None:
    w.heading("Abbreviations and terms", level)
    text = "\n".join(p.text for p in w.document.paragraphs)
    used = [a for a in ABBREVIATIONS if re.search(rf"\b{re.escape(a)}s?\b", text)]
    if used:
        w.bullets(f"{a}: {ABBREVIATIONS[a]}" for a in used)
    w.bullets(
        [
            "Quarter (Q1 to Q4): the financial year runs from April to March; Q4 is January "
            "to March.",
            "Rating: green, amber or red, how an indicator compares with its target or "
            "benchmark; each is written as a symbol and a word (✔ Green, ▲ Amber, ✖ Red).",
            "Direction of travel: whether an indicator is improving (↗), not changing "
            "noticeably (→) or worsening (↘).",
        ]
    )


def _accessibility(w: Writer, full_title: str, council: str, level: int) -> None:
    w.heading("Accessibility statement", level)
    w.paragraph(
        f"This statement applies to this Word version of {full_title}. It uses real heading "
        "styles, so Word's navigation pane shows its outline; every table has a caption and "
        "a heading row that repeats on each page; ratings are written as a symbol and a word, "
        "never shown by colour alone; and every chart has a text description and the numbers "
        "behind it in a table after it."
    )
    w.paragraph(
        "If you need it in another format, please contact the "
        + (f"{council} " if council else "")
        + "performance team."
    )


def _properties(document: DocxDocument, sc: Scorecard, title: str, council: str) -> None:
    """Fixed document properties: the same inputs give the same bytes."""
    fixed = dt.datetime.combine(sc.quarter.period_end, dt.time(), tzinfo=dt.UTC)
    props = document.core_properties
    props.title = title
    props.subject = f"Corporate Balanced Scorecard and Corporate Risk Register, {sc.quarter.prose}"
    props.author = council
    props.last_modified_by = council
    props.language = LANGUAGE
    props.comments = ""
    props.keywords = "performance; scorecard; risk register"
    props.category = ""
    props.identifier = sc.quarter.id
    props.revision = 1
    props.created = fixed
    props.modified = fixed
    if props.last_printed is not None:  # from a template: python-docx can set it, not remove it
        props.last_printed = fixed


def document_text(path: Path) -> list[str]:
    """Every paragraph's and table row's text in document order (for the audit), one line
    each, empty ones left out."""
    import docx

    return document_text_of(docx.Document(str(path)))


def document_text_of(document: DocxDocument) -> list[str]:
    """:func:`document_text` of an open document."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                lines.append(" | ".join(cell.text for cell in row.cells))
    return [line for line in lines if line.strip()]


def stable_bytes(data: bytes) -> bytes:
    """The .docx package written again with every entry dated :data:`ZIP_DATE`, in the same
    order, with fixed attributes. python-docx stamps each zip entry with the time it was
    saved and has no option to fix it; the public zipfile API rewrites the container and
    leaves every part's bytes as they are."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def write_docx(
    sc: Scorecard,
    path: Path,
    *,
    template: Path | None = None,
    notebooks_dir: Path | None = None,
    sections: Sequence[str] = SECTIONS,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write the paper to ``path`` (see the module docstring); returns ``path``."""
    document = build_document(
        sc,
        template=template,
        notebooks_dir=notebooks_dir,
        sections=sections,
        provenance=provenance,
    )
    buffer = io.BytesIO()
    document.save(buffer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stable_bytes(buffer.getvalue()))
    return path
