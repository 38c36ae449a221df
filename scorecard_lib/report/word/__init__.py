"""The paper in Word (``scorecard run QUARTER --docx``): ``report.docx``, built with python-docx.

Councils publish Cabinet papers through committee systems that take Word documents, and
officers edit the cover text in Word. This package writes the same paper as ``report.html``
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

**Modules**, in the order a paper is made: ``template`` (check and open the council's template,
or make python-docx's own plain: all that runs before any notebook), ``outline`` (the
notebooks' Markdown cells and facade calls), ``renderers`` (what each facade call shows),
``writer`` (headings, paragraphs, accessible tables and pictures), ``document`` (the paper in
order, its back matter, fixed properties and stable bytes). The names below are the public face
the runner, the audit and publishing use.
"""

from scorecard_lib.report.word.document import (
    DOCX_NAME,
    ZIP_DATE,
    build_document,
    document_text,
    document_text_of,
    stable_bytes,
    write_docx,
)
from scorecard_lib.report.word.outline import Part, facade_call, paper_parts
from scorecard_lib.report.word.renderers import RENDERERS, band_text, direction_text, rating_text
from scorecard_lib.report.word.template import (
    DOCX_MIME,
    DOTX_MIME,
    LANGUAGE,
    REQUIRED_STYLES,
    WordTemplateError,
    check_template,
    new_document,
    template_path,
    word_key,
    word_options,
)
from scorecard_lib.report.word.writer import WordError, Writer

__all__ = [
    "DOCX_MIME",
    "DOCX_NAME",
    "DOTX_MIME",
    "LANGUAGE",
    "RENDERERS",
    "REQUIRED_STYLES",
    "ZIP_DATE",
    "Part",
    "WordError",
    "WordTemplateError",
    "Writer",
    "band_text",
    "build_document",
    "check_template",
    "direction_text",
    "document_text",
    "document_text_of",
    "facade_call",
    "new_document",
    "paper_parts",
    "rating_text",
    "stable_bytes",
    "template_path",
    "word_key",
    "word_options",
    "write_docx",
]
