"""The Writer: adds headings, paragraphs, Markdown, tables and charts to a python-docx document.

Split from the renderers so that the accessibility of every table and picture (caption, title,
repeated header row, alt text) is decided in one place, whatever a section shows. The parts
python-docx has no API for are set on its exposed elements with its documented oxml helpers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scorecard_lib.core.errors import ExecutionError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

    from scorecard_lib.present import charts

#: Used for tables when the template has it; a template without it gets plain tables.
TABLE_STYLE = "Table Grid"
#: The widest a chart is shown, in inches (A4 with 2.5 cm margins leaves 6.3 inches).
MAX_PICTURE_INCHES = 6.0
#: Size of the text in tables, 9 pt in EMU (python-docx lengths are EMU): small enough for
#: seven columns on A4.
TABLE_TEXT = 18 * 6350
#: Deepest heading level the paper uses.
DEEPEST = 4


class WordError(ExecutionError):
    """The Word paper cannot be written: a notebook calls something it cannot show (a fault
    in the code, not in the data: exit 1)."""


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
