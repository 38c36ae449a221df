"""The paper in Word (``scorecard run QUARTER --docx``): ``report.docx``, built with python-docx.

Councils publish Cabinet papers through committee systems that take Word documents, and
officers edit the cover text in Word. This module writes the same paper as ``report.html``
from the same results and sentences (the facade ``sections.Scorecard``, ``narrative``, the
chart functions), never by converting the HTML.

**Outline.** The paper follows the section notebooks, so its outline is the HTML report's:
the title is Heading 1; each notebook's title (its first ``#`` heading) is a Heading 2, as it
is the report's ``<h2>``; a notebook's ``##`` is Heading 3 and anything deeper Heading 4. A
code cell that calls the facade (``sc.summary()``, ``sc.trends("workforce")``) is shown by
the Word renderer of that method (:data:`RENDERERS`); every other code cell (parameters,
loading) shows nothing, as in the report. A notebook calling a method with no Word renderer
is refused (:class:`WordError`): ``tests/test_word.py`` checks every call in the notebooks
has one, so a new section cannot silently go missing from the paper.

**Accessibility.** Real heading styles, in order; the document's title and language (en-GB)
in its properties and styles; each table with a caption before it, a title and description
(``w:tblCaption``), and a header row repeated on every page (``w:tblHeader``); ratings as a
symbol and a word; each chart as a 200 dpi PNG with the chart's own alt text (the same text
as the HTML report) as its description, followed by the numbers in a table.

**Templates.** ``--docx-template FILE`` takes a council's .docx or .dotx: the paper uses its
styles, fonts, page set-up, headers and footers; its body text is dropped. It must define the
styles the paper uses (:data:`REQUIRED_STYLES`). Without one, python-docx's own template is
made plain: A4, Arial, black headings, British English.

**Byte-stable.** Fixed document properties (the quarter's period end as created and modified
date, revision 1), zip entries written again with a fixed date, in python-docx's own order,
and no random ids (python-docx numbers pictures and relationships in order).
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scorecard_lib.core.errors import ExecutionError, InputError
from scorecard_lib.core.formatting import (
    ABBREVIATIONS,
    DIRECTION_SYMBOLS,
    RATING_SYMBOLS,
    normalise_band,
    normalise_direction,
    normalise_rating,
)
from scorecard_lib.core.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from scorecard_lib.core.registry import SECTIONS

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

    from scorecard_lib.present import charts
    from scorecard_lib.present.sections import Scorecard

DOCX_NAME = "report.docx"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOTX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
LANGUAGE = "en-GB"
#: Styles the paper uses; a template must define every one of them.
REQUIRED_STYLES: tuple[str, ...] = (
    "Normal",
    "Heading 1",
    "Heading 2",
    "Heading 3",
    "Heading 4",
    "Caption",
    "List Bullet",
)
#: Used for tables when the template has it; a template without it gets plain tables.
TABLE_STYLE = "Table Grid"
#: The widest a chart is shown, in inches (A4 with 2.5 cm margins leaves 6.3 inches).
MAX_PICTURE_INCHES = 6.0
#: The date every zip entry carries (the earliest a zip file can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Size of the text in tables, 9 pt in EMU (python-docx lengths are EMU): small enough for
#: seven columns on A4.
TABLE_TEXT = 18 * 6350
#: Deepest heading level the paper uses.
DEEPEST = 4

_TEXT_COLOUR = "0B0C0C"
_FONT = "Arial"


class WordError(ExecutionError):
    """The Word paper cannot be written: a notebook calls something it cannot show (a fault
    in the code, not in the data: exit 1)."""


class WordTemplateError(InputError):
    """A ``--docx-template`` that is missing, not a Word file, or lacks a style the paper uses."""


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


# --- templates --------------------------------------------------------------------------------


def _template_bytes(path: Path) -> bytes:
    """The template as a .docx package. A .dotx differs from a .docx only in the content type
    of its main part, which python-docx refuses to open; that one entry of
    ``[Content_Types].xml`` is changed, with zipfile (python-docx has no API for it)."""
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            types = z.read("[Content_Types].xml")
            if DOTX_MIME.encode() not in types:
                return data
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
                for info in z.infolist():
                    body = z.read(info.filename)
                    if info.filename == "[Content_Types].xml":
                        body = types.replace(DOTX_MIME.encode(), DOCX_MIME.encode())
                    w.writestr(info, body)
            return out.getvalue()
    except (zipfile.BadZipFile, KeyError, OSError):
        return data  # python-docx says it is not a Word file, below


def word_options(docx: bool, template: str | Path | None) -> dict[str, object] | None:
    """The manifest's ``word`` block (None without ``docx``): the template as a path the
    audit can find again (relative to the project root inside it, else absolute, as
    ``paths.data_parameter`` writes a folder) and its sha256. The template is checked here
    (:func:`check_template`), so a bad one is refused before any notebook runs."""
    if not docx:
        return None
    if template is None:
        return {"template": None, "template_sha256": None}
    import hashlib

    from scorecard_lib.core.paths import data_parameter

    checked = check_template(template)
    return {
        "template": data_parameter(checked),
        "template_sha256": hashlib.sha256(checked.read_bytes()).hexdigest(),
    }


def word_key(options: Mapping[str, object] | None) -> str:
    """What the build cache's run key holds about the Word paper (``cache.run_key``): whether
    it is written and on which template (whose bytes the key covers as an input)."""
    if options is None:
        return ""
    return f"docx {options.get('template') or ''}"


def template_path(recorded: str) -> Path:
    """The template a manifest's ``word.template`` names: relative to the project root, or
    absolute (as ``paths.data_parameter`` writes a folder)."""
    path = Path(recorded)
    return path if path.is_absolute() else PROJECT_ROOT / path


def check_template(path: str | Path) -> Path:
    """Refuse a template that is missing, is not a Word file or lacks a style the paper uses
    (:class:`WordTemplateError`, exit 2). Returns the path, resolved. Called before any
    notebook runs."""
    path = Path(path).expanduser()
    where = str(path)
    if not path.is_file():
        raise WordTemplateError(
            f"The Word template {path.name} does not exist",
            where=where,
            fix="give the path of the council's .docx or .dotx template to --docx-template",
        )
    _open_template(path)
    return path.resolve()


def _open_template(path: Path) -> DocxDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    where = str(path)
    try:
        document = docx.Document(io.BytesIO(_template_bytes(path)))
    except (PackageNotFoundError, ValueError, KeyError, zipfile.BadZipFile, OSError) as exc:
        raise WordTemplateError(
            f"The Word template {path.name} is not a Word document or template",
            where=where,
            fix="save the template from Word as a .docx or .dotx file and give that file",
        ) from exc
    except Exception as exc:  # a damaged package: lxml or python-docx errors of any kind
        raise WordTemplateError(
            f"The Word template {path.name} cannot be read ({type(exc).__name__})",
            where=where,
            fix="open it in Word, save it again as a .docx or .dotx file and give that file",
        ) from exc
    names = {s.name for s in document.styles}
    missing = [s for s in REQUIRED_STYLES if s not in names]
    if missing:
        listed = ", ".join(missing)
        raise WordTemplateError(
            f"The Word template {path.name} lacks the style{'s' if len(missing) > 1 else ''} "
            f"{listed}, which the paper uses",
            where=where,
            fix="in Word, apply each missing style once in the template (Word then saves it "
            "with the template), delete that text and save the template again",
        )
    return document


def _lang(element: Any) -> None:
    """Set ``w:lang`` (British English) on a run-properties element. python-docx has no API
    for the proofing language, so the element is made with its documented oxml helpers."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = element.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        element.append(lang)
    for attr in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attr), LANGUAGE)


def _plain_default(document: DocxDocument) -> None:
    """python-docx's own template, made plain and accessible: A4 with 2.5 cm margins, Arial,
    black headings (its blue ones fail the 4.5:1 contrast for small text)."""
    from docx.shared import Cm, Pt, RGBColor

    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2.5))
    sizes = {"Normal": 11, "Heading 1": 20, "Heading 2": 16, "Heading 3": 13, "Heading 4": 12}
    for name, size in sizes.items():
        font = document.styles[name].font
        font.name = _FONT
        font.size = Pt(size)
        if name != "Normal":
            font.color.rgb = RGBColor.from_string(_TEXT_COLOUR)
            font.bold = True
            font.italic = False
    for name in ("Caption", "List Bullet"):
        document.styles[name].font.name = _FONT
    caption = document.styles["Caption"].font
    caption.color.rgb = RGBColor.from_string(_TEXT_COLOUR)
    caption.size = Pt(10)
    caption.bold = True


def _clear_body(document: DocxDocument) -> None:
    """Drop a template's body text, keeping its last section properties (page set-up, headers
    and footers). python-docx cannot delete block items, so they are removed from the body
    element it exposes (``Document.element``)."""
    from docx.oxml.ns import qn

    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def new_document(template: Path | None) -> DocxDocument:
    """An empty document on the council's template, or on the plain default."""
    import docx

    if template is not None:
        document = _open_template(Path(template))
        _clear_body(document)
    else:
        document = docx.Document()
        _plain_default(document)
    styles_root = document.styles.element
    from docx.oxml.ns import qn

    defaults = styles_root.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _lang(rpr)
    _lang(document.styles["Normal"].element.get_or_add_rPr())
    return document


# --- the writer -------------------------------------------------------------------------------


@dataclass
class Writer:
    """Adds the paper's parts to a python-docx document, in order."""

    document: DocxDocument
    pictures: int = 0
    tables: int = 0
    level: int = 2  # the level of the heading the current content sits under

    def heading(self, text: str, level: int) -> None:
        self.document.add_heading(text, min(max(level, 1), DEEPEST))

    def paragraph(self, text: str, *, bold: bool = False) -> None:
        p = self.document.add_paragraph()
        p.add_run(text).bold = bold or None

    def bullets(self, items: Iterable[str]) -> None:
        for item in items:
            self.document.add_paragraph(item, style="List Bullet")

    def markdown(self, text: str, level: int = 0) -> None:
        """Officers' Markdown (or a notebook's) as Word paragraphs: headings (moved down
        ``level``), paragraphs, lists, bold, italic, code and links (the address is written
        after the link text, so it survives printing)."""
        from scorecard_lib.rules.narrative import markdown_tokens

        tokens = markdown_tokens(text)
        heading: int | None = None
        in_list = 0
        for i, tok in enumerate(tokens):
            if tok.type == "heading_open":
                heading = int(tok.tag[1:]) + level
            elif tok.type == "heading_close":
                heading = None
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                in_list += 1
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                in_list -= 1
            elif tok.type == "inline":
                if heading is not None and level:
                    self.heading(_inline_text(tok.children or []), heading)
                    continue
                prev = tokens[i - 1].type if i else ""
                style = "List Bullet" if in_list and prev == "paragraph_open" else None
                p = self.document.add_paragraph(style=style)
                _inline_runs(p, tok.children or [], bold=heading is not None)
            elif tok.type in ("fence", "code_block"):
                p = self.document.add_paragraph()
                p.add_run(tok.content.rstrip("\n")).font.name = "Courier New"

    def table(
        self,
        frame: Any,
        caption: str,
        *,
        numeric: Sequence[str] = (),
    ) -> None:
        """``frame`` (text cells) as a Word table: the caption above it (Caption style), the
        same text as its title, one header row repeated on each page, numbers right-aligned,
        "no data" for an empty cell, and rows that do not split across pages."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        from scorecard_lib.present.tables import cell_text

        self.tables += 1
        cap = self.document.add_paragraph(caption, style="Caption")
        cap.paragraph_format.keep_with_next = True
        columns = [str(c) for c in frame.columns]
        rows = list(frame.itertuples(index=False, name=None))
        table = self.document.add_table(rows=1 + max(len(rows), 1), cols=len(columns))
        if TABLE_STYLE in {s.name for s in self.document.styles}:
            table.style = TABLE_STYLE
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        numeric_set = {str(c) for c in numeric}
        for j, name in enumerate(columns):
            cell = table.rows[0].cells[j]
            cell.text = ""
            run = cell.paragraphs[0].add_run(name)
            run.bold = True
            run.font.size = TABLE_TEXT
            if name in numeric_set:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if not rows:
            merged = table.rows[1].cells[0].merge(table.rows[1].cells[-1])
            merged.paragraphs[0].add_run("There are no rows to show in this table.")
        for i, row in enumerate(rows, start=1):
            cells = table.rows[i].cells
            for j, (name, value) in enumerate(zip(columns, row, strict=True)):
                cells[j].paragraphs[0].add_run(cell_text(value)).font.size = TABLE_TEXT
                if name in numeric_set:
                    cells[j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _column_widths(table, self.text_width(), columns, rows)
        _table_properties(self.document, caption)

    def text_width(self) -> int:
        """The width between the margins of the last section, in EMU."""
        section = self.document.sections[-1]
        width = (section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)
        return int(width) if width > 0 else int(_emu(6.3))

    def chart(self, chart: charts.Chart) -> None:
        """A chart: its title as a caption, the PNG with the chart's alt text as its
        description, then the numbers behind it in a table."""
        from docx.shared import Inches

        self.pictures += 1
        cap = self.document.add_paragraph(chart.title, style="Caption")
        cap.paragraph_format.keep_with_next = True
        width_px, dpi = _png_width(chart.image)
        inches = min(width_px / dpi, MAX_PICTURE_INCHES) if width_px else MAX_PICTURE_INCHES
        self.document.add_picture(io.BytesIO(chart.image), width=Inches(inches))
        _describe_last_picture(self.document, chart.title, chart.alt)
        self.table(chart.data, f"Data behind the chart: {chart.title}", numeric=chart.numeric)


def _emu(inches: float) -> int:
    from docx.shared import Inches

    return int(Inches(inches))


def _column_widths(table: Any, total: int, columns: Sequence[str], rows: Sequence[Any]) -> None:
    """Share the text width between columns by the length of what they hold (the longest
    word and the typical cell), so a name column is wide and a rating column narrow. Word
    reads a width on every cell, so each cell is given its column's."""
    from scorecard_lib.present.tables import cell_text

    weights = []
    for j, name in enumerate(columns):
        texts = [name] + [cell_text(r[j]) for r in rows]
        longest_word = max((len(w) for x in texts for w in x.split()), default=4)
        typical = sorted(len(x) for x in texts)[len(texts) // 2]
        weights.append(max(longest_word + 2, min(typical, 40) / 2, 5))
    scale = total / sum(weights)
    widths = [int(w * scale) for w in weights]
    table.autofit = False
    for j, column in enumerate(table.columns):
        column.width = widths[j]
        for cell in column.cells:
            cell.width = widths[j]


def _inline_text(children: Sequence[Any]) -> str:
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


def _inline_markdown(paragraph: Any, text: str) -> None:
    """One line of Markdown (an action) as runs of ``paragraph``."""
    from scorecard_lib.rules.narrative import markdown_inline_tokens

    _inline_runs(paragraph, markdown_inline_tokens(text))


def _inline_runs(paragraph: Any, children: Sequence[Any], *, bold: bool = False) -> None:
    strong = emphasis = 0
    link: str | None = None
    for c in children:
        if c.type == "strong_open":
            strong += 1
        elif c.type == "strong_close":
            strong -= 1
        elif c.type == "em_open":
            emphasis += 1
        elif c.type == "em_close":
            emphasis -= 1
        elif c.type == "link_open":
            link = str(c.attrs.get("href") or "")
        elif c.type == "link_close":
            if link:
                paragraph.add_run(f" ({link})")
            link = None
        elif c.type in ("softbreak",):
            paragraph.add_run(" ")
        elif c.type == "hardbreak":
            paragraph.add_run().add_break()
        elif c.type in ("text", "code_inline", "html_inline"):
            run = paragraph.add_run(c.content)
            run.bold = bool(strong) or bold or None
            run.italic = bool(emphasis) or None
            if c.type == "code_inline":
                run.font.name = "Courier New"


def _png_width(png: bytes) -> tuple[int, float]:
    """Width in pixels and pixels per inch of a PNG (from its IHDR and pHYs chunks)."""
    import struct

    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 96.0
    width = struct.unpack(">I", png[16:20])[0]
    dpi = 96.0
    at = png.find(b"pHYs")
    if at > 0:
        ppm_x, _ppm_y, unit = struct.unpack(">IIB", png[at + 4 : at + 13])
        if unit == 1 and ppm_x:
            dpi = ppm_x * 0.0254
    return width, dpi


def _describe_last_picture(document: DocxDocument, title: str, alt: str) -> None:
    """Give the picture just added its alt text. python-docx has no API for a picture's
    description: it is the ``descr`` attribute of the drawing's ``wp:docPr``, reached through
    the body element python-docx exposes (``Document.element``) and its ``xpath``. Pictures
    are only ever appended, so the new one is the last in the body."""
    found = document.element.body.xpath(".//wp:docPr")
    if not found:  # pragma: no cover - add_picture always writes one
        raise WordError("A chart could not be given its description in the Word paper")
    found[-1].set("descr", alt)
    found[-1].set("title", title)


def _table_properties(document: DocxDocument, caption: str) -> None:
    """Mark the last table's header row to repeat on each page and its rows not to split,
    and give it its caption as title (``w:tblCaption``, read by screen readers). python-docx
    has no API for these: they are set on the table's element, reached through the body
    element python-docx exposes (``Document.element``), with its documented oxml helpers.
    Tables are only ever appended, so the new one is the body's last."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl = document.element.body.xpath("./w:tbl")[-1]
    for index, tr in enumerate(tbl.xpath("./w:tr")):
        tr_pr = tr.find(qn("w:trPr"))
        if tr_pr is None:
            tr_pr = OxmlElement("w:trPr")
            tr.insert(0, tr_pr)
        cant = OxmlElement("w:cantSplit")
        cant.set(qn("w:val"), "true")
        tr_pr.append(cant)
        if index == 0:
            header = OxmlElement("w:tblHeader")
            header.set(qn("w:val"), "true")
            tr_pr.append(header)
    title = OxmlElement("w:tblCaption")
    title.set(qn("w:val"), caption[:255])
    # w:tblCaption follows every other table property python-docx writes (schema order).
    tbl.find(qn("w:tblPr")).append(title)


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
    from scorecard_lib.present.sections import Blocks

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
    from scorecard_lib.present.sections import split_items

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


# --- reading the notebooks --------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"parameters", "injected-parameters", "remove", "remove-cell"})


def facade_call(source: str) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
    """``("trends", ("workforce",), {})`` for a cell that is one call ``sc.trends("workforce")``
    with literal arguments; None for any other cell (imports, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "sc"
    ):
        return None
    try:
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        return None
    return call.func.attr, args, kwargs


@dataclass(frozen=True)
class Part:
    """One thing the paper shows, in order: a Markdown cell or a facade call."""

    section: str
    markdown: str = ""
    call: tuple[str, tuple[Any, ...], dict[str, Any]] | None = None


def paper_parts(
    notebooks_dir: Path | None = None, sections: Sequence[str] = SECTIONS
) -> list[Part]:
    """What the paper shows, read from the section notebooks in report order. Raises
    :class:`WordError` for a facade call without a Word renderer."""
    import nbformat

    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    parts: list[Part] = []
    for section in sections:
        nb = nbformat.read(str(folder / f"{section}.ipynb"), as_version=4)
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & _SKIPPED_TAGS:
                continue
            if cell.cell_type == "markdown":
                parts.append(Part(section, markdown=str(cell.source)))
            elif cell.cell_type == "code":
                call = facade_call(str(cell.source))
                if call is None:
                    continue
                if call[0] not in RENDERERS:
                    raise WordError(
                        f"The notebook {section}.ipynb calls sc.{call[0]}(), which the Word "
                        "paper cannot show",
                        where=f"notebooks/{section}.ipynb",
                        fix=f"add a Word renderer for {call[0]} to RENDERERS in word.py",
                    )
                parts.append(Part(section, call=call))
    return parts


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
