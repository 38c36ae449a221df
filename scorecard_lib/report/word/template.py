"""The paper's Word template: a council's ``--docx-template``, or python-docx's own made plain.

Split from the rest of the Word paper because this is what runs before any notebook does: the
runner and ``scorecard publish`` check the template (:func:`check_template`) and record it in
the manifest (:func:`word_options`) with only the standard library imported; python-docx is
imported when a document is opened.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

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

_TEXT_COLOUR = "0B0C0C"
_FONT = "Arial"


class WordTemplateError(InputError):
    """A ``--docx-template`` that is missing, not a Word file, or lacks a style the paper uses."""


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
