"""Read an HTML output before it joins the report, and clean it where it must be (with lxml).

The library's outputs (``scorecard_lib.present``) arrive in their final form: headings at
their level in the report, ids made once, tables in their labelled scroll box, charts as
images with alt text and a data table. For those, :func:`fit_output` only reads: it claims
their ids, lists their contents entries, checks that nothing would load from elsewhere, and
returns the output as it came. Any other HTML (an analyst's own notebook, another package's
display) is cleaned so that the report keeps its rules, on a tree parsed by lxml.html:

* ``<script>`` elements are removed; an element that would load a resource from another site
  (``src``, ``srcset``, ``href`` of ``<link>``/``<use>``/``<image>``, ``url(...)`` or
  ``@import`` in styles) stops the build with :class:`InputError`;
* an id already used in the document gets a ``-2``, ``-3``, ... suffix and the references
  to it inside the same output (``href="#..."``, ARIA id lists, ``url(#...)``) follow;
* headings are placed under the Markdown heading they follow, keeping their relative levels,
  and lifted where they would skip a level (WCAG 1.3.1);
* a top-level table not yet in a scroll box is put in one, labelled by its caption
  (WCAG 1.4.10); ``xmlns`` declarations on inline ``<svg>`` are dropped (HTML needs none).

Elements with class ``toc-entry`` and an ``id`` become contents entries, labelled by their
``data-toc`` (or ``aria-label``, ``title``, else the text of the next heading).
"""

from __future__ import annotations

import html
import logging
import re

import lxml.html

from scorecard_lib.core.errors import InputError
from scorecard_lib.report.outline import SectionOutline, TocEntry

log = logging.getLogger(__name__)

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
IDREF_ATTRS = frozenset(
    {
        "aria-labelledby",
        "aria-describedby",
        "aria-controls",
        "aria-owns",
        "aria-details",
        "aria-flowto",
        "aria-activedescendant",
        "aria-errormessage",
        "for",
        "headers",
        "list",
        "form",
    }
)
HREF_ATTRS = frozenset({"href", "xlink:href"})
RESOURCE_ATTRS = frozenset({"src", "srcset", "poster", "data", "background"})
RESOURCE_HREF_TAGS = frozenset({"link", "use", "image", "img", "feimage", "script"})
_EXTERNAL = re.compile(r"(?:^|[\s,])(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_EXTERNAL_CSS = re.compile(r"url\(\s*['\"]?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import", re.IGNORECASE)
_URL_REF = re.compile(r"url\(\s*#([^)\s]+)\s*\)")


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _elements(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Every element under ``root`` in document order (comments and the like left out)."""
    return [el for el in root.iter() if isinstance(el.tag, str) and el is not root]


def _check_resources(elements: list[lxml.html.HtmlElement], where: str) -> None:
    def external(value: str | None) -> None:
        if value and not value.lstrip().lower().startswith("data:") and _EXTERNAL.search(value):
            raise InputError(
                f"An output would load '{value}' from outside the report",
                where=where,
                fix="embed it in the output (for example as a data: URL) or remove it; the "
                "report must work on its own, with no network",
            )

    def css(text: str | None) -> None:
        if text and _EXTERNAL_CSS.search(text):
            raise InputError(
                "An output's styles would load a file from outside the report",
                where=where,
                fix="remove the url(...) or @import; the report must work on its own",
            )

    for el in elements:
        css(el.get("style"))
        if el.tag == "style":
            css(el.text_content())
        for key, value in el.attrib.items():
            if key in RESOURCE_ATTRS or (key in HREF_ATTRS and el.tag in RESOURCE_HREF_TAGS):
                external(value)


def _follow(key: str, value: str, renamed: dict[str, str]) -> str:
    """An attribute value with references to renamed ids pointed at the new ids."""
    if key in HREF_ATTRS and value.startswith("#") and value[1:] in renamed:
        return "#" + renamed[value[1:]]
    if key in IDREF_ATTRS:
        parts = value.split()
        if any(p in renamed for p in parts):
            return " ".join(renamed.get(p, p) for p in parts)
    if "url(#" in value:
        return _URL_REF.sub(lambda u: f"url(#{renamed.get(u.group(1), u.group(1))})", value)
    return value


def _claim_ids(elements: list[lxml.html.HtmlElement], outline: SectionOutline, where: str) -> bool:
    """Claims every id in the document's registry; renames those taken and their references."""
    renamed: dict[str, str] = {}
    for el in elements:
        wanted = el.get("id")
        if not wanted:
            continue
        got = outline.ids.claim(wanted)
        if got != wanted:
            el.set("id", got)
            renamed.setdefault(wanted, got)
            log.info("id %r in %s renamed to %r", wanted, where, got)
    if not renamed:
        return False
    for el in elements:
        for key, value in el.attrib.items():
            if key != "id":
                new = _follow(key, value, renamed)
                if new != value:
                    el.set(key, new)
    return True


def _place_headings(elements: list[lxml.html.HtmlElement], outline: SectionOutline) -> bool:
    """Headings under the Markdown heading the output follows, keeping their relative levels;
    the library's are already there, so nothing moves."""
    headings = [el for el in elements if el.tag in HEADINGS]
    if not headings:
        return False
    shift = outline.outline + 1 - min(int(h.tag[1]) for h in headings)
    moved = False
    for heading in headings:
        level = outline.place(int(heading.tag[1]) + shift)
        if heading.tag != f"h{level}":
            heading.tag = f"h{level}"
            moved = True
    return moved


def _list_entries(elements: list[lxml.html.HtmlElement], outline: SectionOutline) -> None:
    pending: int | None = None  # an entry waiting for the text of the next heading
    for el in elements:
        if "toc-entry" in (el.get("class") or "").split() and el.get("id"):
            label = _squash(el.get("data-toc") or el.get("aria-label") or el.get("title"))
            outline.entries.append(TocEntry(el.get("id"), label or el.get("id")))
            pending = len(outline.entries) - 1 if not label else None
        if pending is not None and el.tag in HEADINGS:
            text = _squash(el.text_content())
            if text:
                outline.entries[pending] = TocEntry(outline.entries[pending].id, text)
            pending = None


def _wrap_tables(root: lxml.html.HtmlElement, outline: SectionOutline) -> bool:
    wrapped = False
    for table in list(root.iter("table")):
        if any(a.tag == "table" for a in table.iterancestors()):
            continue
        parent = table.getparent()
        if parent is not None and "table-wrap" in (parent.get("class") or "").split():
            continue
        caption = table.find("caption")
        label = _squash(caption.text_content()) if caption is not None else ""
        wrap = lxml.html.Element(
            "div",
            {
                "class": "table-wrap",
                "role": "region",
                "aria-label": label or f"Table in the {outline.title} section",
                "tabindex": "0",
            },
        )
        tail, table.tail = table.tail, None
        table.addprevious(wrap)
        wrap.append(table)
        wrap.tail = tail
        wrapped = True
    return wrapped


def _drop_svg_namespaces(root: lxml.html.HtmlElement) -> bool:
    dropped = False
    for svg in root.iter("svg"):
        for key in [k for k in svg.attrib if k == "xmlns" or k.startswith("xmlns:")]:
            del svg.attrib[key]
            dropped = True
    return dropped


def fit_output(fragment: str, outline: SectionOutline, *, where: str) -> str:
    """``fragment`` (a ``text/html`` output) as it goes into the report, read into
    ``outline`` (see the module docstring). Raises :class:`InputError` for an output that
    would load something from outside the report."""
    if not fragment.strip():
        return fragment
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    changed = False
    for script in list(root.iter("script")):
        log.warning("a <script> element in %s was removed", where)
        script.drop_tree()
        changed = True
    elements = _elements(root)
    _check_resources(elements, where)
    changed |= _claim_ids(elements, outline, where)
    changed |= _place_headings(elements, outline)
    _list_entries(elements, outline)
    changed |= _wrap_tables(root, outline)
    changed |= _drop_svg_namespaces(root)
    if not changed:
        return fragment
    parts = [html.escape(root.text or "", quote=False)]
    parts += [lxml.html.tostring(child, encoding="unicode") for child in root]
    return "".join(parts)
