"""Combine the executed section notebooks into one self-contained, accessible HTML report.

The runner calls :func:`build_report` with the executed notebooks in report order and writes
the string it returns. Only this module knows how the report is laid out; the layout itself is
``templates/report.html.j2`` and its styles ``templates/report.css`` (inlined, so the file
stands alone).

What happens to a notebook (see ``docs/architecture.md`` for why we do not use nbconvert):

* The first Markdown cell must open with a level-1 heading. It becomes the section's ``<h2>``
  with ``id`` = the section name. Every other heading is moved down one level (``##`` becomes
  ``<h3>``); headings inside HTML outputs are placed under the Markdown heading they follow,
  keeping their relative levels (the library's ``<h4>`` blocks become ``<h5>`` under an ``h4``).
  Anything that would still skip a level is lifted, so levels never jump (WCAG 1.3.1).
* Markdown is rendered with markdown-it-py (CommonMark plus tables). Raw HTML in Markdown is
  escaped, never passed through. Images in Markdown are kept only when they are embedded
  (cell attachments or ``data:`` URLs): the report never loads anything from elsewhere.
* Code cells show only their outputs. The richest output is used: ``text/html`` (trusted: it is
  built by our library, which escapes every text), ``text/markdown``, images (as ``data:`` URLs
  with alt text), then ``text/plain`` in ``<pre>``. ``stdout`` is shown in ``<pre>``; ``stderr``
  is dropped; an error output stops the build (:class:`ExecutionError`) unless the cell is
  tagged ``raises-exception``. Plain-text object reprs that carry a memory address
  (``<Figure at 0x7f...>``) are dropped: they mean nothing to a reader and change every run.
* Cells tagged ``parameters``, ``injected-parameters`` or ``remove`` (also ``remove-cell``,
  ``remove_cell``) are left out of the body; ``remove-output`` drops a cell's outputs. The code
  of every code cell except removed and injected-parameters cells is listed, highlighted, in a
  collapsed ``<details class="code">`` at the end of the section. Papermill's injected cell is
  left out because it may hold machine-specific paths; the values used are in the provenance.
* In HTML outputs ``<script>`` elements are removed, ``xmlns`` declarations on inline ``<svg>``
  are dropped (HTML does not need them), and anything that would load a resource from another
  site raises :class:`InputError`.
* Every top-level table is wrapped in a focusable, labelled ``<div class="table-wrap">`` so it
  can scroll sideways on a narrow screen without the page doing so (WCAG 1.4.10).
* Element ids are made unique across the whole document: the first element keeps its id, later
  ones get ``-2``, ``-3``, ... and references inside the same output are updated.
* Elements with class ``toc-entry`` and an ``id`` are listed in the contents under their
  section, with the ``data-toc`` attribute as link text.
* The template's own pages (how the report was made, abbreviations and terms, the
  accessibility statement) go inside the last section when it is named ``appendix``, as
  ``h3``s under its heading; otherwise they follow the sections as ``h2``s.
* Abbreviations listed in :data:`~scorecard_lib.core.formatting.ABBREVIATIONS` are marked with
  ``<abbr title>`` where first used in each part of the report, written out in words where
  first used in the main text, and listed in the glossary (:func:`mark_abbreviations`). The
  data keep their usual short names.

The same input always gives the same string: there are no timestamps, random ids or
absolute paths, and mappings in the provenance are listed in sorted key order.

Speed: html.parser takes some microseconds a tag, and most of a report is inline SVG charts of
thousands of tags. The HTML scanner (:class:`_Scanner`) therefore reads the simple markup that
fills charts and tables (text, ``name="value"`` attributes, plain end tags, plain style
content) with regular expressions, and hands anything else (comments, CDATA, unquoted or
single-quoted values, ...) back to html.parser at that place. This changes nothing in the
output: on that subset html.parser's own rules give exactly the same tags, offsets and values
(the class docstring gives the argument), and the fast path checks itself against html.parser
once per process and turns itself off if they ever differ. As text inside an ``<svg>`` is
never marked, :func:`mark_abbreviations` passes over a simple chart's content in one step,
unless one of its tags (a nested ``<svg>``, a stray ``</pre>`` or ``</main>``) could change
what is left alone. :func:`_rewrite` skips the checks for outside resources in a tag without
``//``, ``@`` or ``&`` (they look for ``//`` or ``@import``), and leaves a tag as written
without reading its attributes when nothing in it could change (no id, no id renamed in that
output, not a heading that moves, not an ``<svg>``). ``tests/test_assemble.py`` compares
every path with html.parser alone.
"""

from __future__ import annotations

import base64
import functools
import html
import logging
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path, PurePath
from typing import Any

import nbformat
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from scorecard_lib.core.errors import ExecutionError, InputError
from scorecard_lib.core.formatting import ABBREVIATIONS
from scorecard_lib.core.paths import TEMPLATES_DIR, display_path

log = logging.getLogger(__name__)

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
INJECTED_TAG = "injected-parameters"
REMOVE_TAGS = frozenset({"remove", "remove-cell", "remove_cell"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})
RAISES_TAG = "raises-exception"

_SECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
_HEX_HASH = re.compile(r"^[0-9a-f]{32,128}$")
_IMAGE_MIMES = ("image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp")

# --- small helpers ----------------------------------------------------------------------


def _text(value: Any) -> str:
    """Notebook text fields may be a string or a list of lines."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "".join(str(v) for v in value)
    return str(value)


def _tags(cell: Mapping[str, Any]) -> frozenset[str]:
    metadata = cell.get("metadata") or {}
    return frozenset(str(t) for t in (metadata.get("tags") or ()))


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- Markdown ---------------------------------------------------------------------------


def _render_image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """Embedded images only: attachments and ``data:`` URLs. Anything else is named, not
    loaded, so the report never reaches out to the network or to missing local files."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    src = str(token.attrGet("src") or "")
    data_uri = ""
    if src.startswith("attachment:"):
        bundle = (env.get("attachments") or {}).get(src[len("attachment:") :]) or {}
        for mime in _IMAGE_MIMES:
            if mime in bundle:
                data_uri = _data_uri(mime, _text(bundle[mime]))
                break
    elif src.startswith("data:image/"):
        data_uri = src
    if not data_uri:
        label = _esc(alt or "no description")
        return f'<span class="image-missing">[Image not included in this report: {label}]</span>'
    if not alt:
        alt = env.get("default_alt", "")
    return f'<img src="{_esc(data_uri)}" alt="{_esc(alt)}">'


def _table_attrs(state: Any) -> None:
    """Markdown tables get the report's table class and header scopes."""
    for token in state.tokens:
        if token.type == "table_open":
            token.attrSet("class", "data")
        elif token.type == "th_open":
            token.attrSet("scope", "col")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("report_table_attrs", _table_attrs)
    return md


def _data_uri(mime: str, payload: str) -> str:
    if mime == "image/svg+xml":
        encoded = base64.b64encode(payload.encode("utf-8")).decode("ascii")
    else:
        encoded = "".join(payload.split())
    return f"data:{mime};base64,{encoded}"


# --- HTML scanning and rewriting ----------------------------------------------------------


class _Tag:
    """One tag: ``kind`` is "start", "startend" or "end"; ``start``/``end`` are its offsets in
    the source and ``raw`` its text. ``attrs`` are as html.parser gives them (names lower-cased,
    values unescaped); a tag read by the fast path keeps its attribute text and reads it only
    when asked (most of a chart's attributes never are)."""

    __slots__ = ("_attr_text", "_attrs", "end", "kind", "name", "raw", "start")

    def __init__(
        self,
        kind: str,
        name: str,
        start: int,
        end: int,
        raw: str,
        attrs: list[tuple[str, str | None]] | None = None,
        attr_text: str = "",
    ) -> None:
        self.kind = kind
        self.name = name
        self.start = start
        self.end = end
        self.raw = raw
        self._attrs = attrs
        self._attr_text = attr_text

    @property
    def attrs(self) -> list[tuple[str, str | None]]:
        if self._attrs is None:
            self._attrs = [
                (key.lower(), html.unescape(value) if value else value)
                for key, value in _FAST_ATTR.findall(self._attr_text)
            ]
        return self._attrs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Tag):
            return NotImplemented
        return (self.kind, self.name, self.start, self.end, self.raw, self.attrs) == (
            other.kind,
            other.name,
            other.start,
            other.end,
            other.raw,
            other.attrs,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"_Tag({self.kind!r}, {self.name!r}, {self.start}, {self.end}, {self.raw!r}, "
            f"{self.attrs!r})"
        )

    def attr(self, name: str) -> str | None:
        """The first value of attribute ``name`` (lower-case), ``None`` if it has none."""
        if self._attrs is None and _attr_hint(name).search(self._attr_text) is None:
            return None  # not read yet, and no attribute of that name
        for key, value in self.attrs:
            if key == name:
                return value
        return None


@lru_cache(maxsize=64)
def _attr_hint(name: str) -> re.Pattern[str]:
    """Finds where attribute ``name`` could be in a fast-path tag's attribute text (each
    attribute there is white space, its name and ``="``); no match means it is not there."""
    return re.compile(rf'{_FAST_WS}{re.escape(name)}="', re.IGNORECASE)


@dataclass
class _Data:
    text: str


@dataclass(frozen=True)
class _Skipped:
    """Stands in, when skimming, for the simple content of an inline ``<svg>``: its offsets
    and the lower-cased names that follow a ``<`` or ``</`` in it (every tag's name, perhaps
    a few more)."""

    start: int
    end: int
    names: frozenset[str]


# The fast path (see _Scanner) reads this strict subset of HTML with regular expressions.
_FAST_WS = "[ \t\n\r\f]"
_FAST_NAME = "[a-zA-Z][a-zA-Z0-9:_.-]*"
_FAST_ATTRS = rf'(?:{_FAST_WS}+[a-zA-Z_:][a-zA-Z0-9:_.-]*="[^"]*")*'
_FAST_TOKEN = re.compile(
    r"(?P<text>[^<]+)(?=<)"
    rf"|<(?P<tag>{_FAST_NAME})(?P<attrs>{_FAST_ATTRS}){_FAST_WS}*(?P<close>/?)>"
    rf"|</(?P<end>{_FAST_NAME})>"
)
_FAST_ATTR = re.compile(rf'{_FAST_WS}+([a-zA-Z_:][a-zA-Z0-9:_.-]*)="([^"]*)"')
#: Elements whose content html.parser reads, or may in a later Python read, as plain text:
#: read fast only as ``<name ...>`` + text without ``<`` or ``&`` + ``</name>``, which gives
#: the same events either way.
_FAST_TEXT_ELEMENTS = frozenset(
    {
        "script",
        "style",
        "title",
        "textarea",
        *HTMLParser.CDATA_CONTENT_ELEMENTS,
        *getattr(HTMLParser, "RCDATA_CONTENT_ELEMENTS", ()),
    }
)
_FAST_TEXT_CONTENT = re.compile(r"([^<&]*)</([a-zA-Z]+)>")
#: Other elements whose content HTML reads as raw text: left to html.parser.
_FAST_NEVER = frozenset({"xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"})
_FAST_SPECIAL = "|".join(sorted(_FAST_TEXT_ELEMENTS | _FAST_NEVER))
#: A run of tokens the fast path reads whole (the same rules as _read_simple, in one regex).
_FAST_RUN = re.compile(
    r"(?:[^<]++"
    rf"|<(?!(?i:{_FAST_SPECIAL})[^a-zA-Z0-9:_.-]){_FAST_NAME}{_FAST_ATTRS}{_FAST_WS}*/?>"
    + "".join(
        rf"|<(?i:{name}){_FAST_ATTRS}{_FAST_WS}*>[^<&]*</(?i:{name})>"
        for name in sorted(_FAST_TEXT_ELEMENTS)
    )
    + rf"|</{_FAST_NAME}>)*+",
    re.ASCII,
)
_FAST_NAMES = re.compile(rf"</?({_FAST_NAME})")
_SVG_CLOSE = re.compile("</svg", re.ASCII | re.IGNORECASE)


def _read_simple(
    text: str,
    pos: int,
    base: int,
    events: list[_Tag | _Data | _Skipped],
    *,
    stop: int | None = None,
    skim: bool = False,
) -> tuple[int, str]:
    """Read the fast path's subset of HTML from ``text[pos:]`` (up to ``stop`` at most) into
    ``events`` (offsets in the source are ``base`` + offsets in ``text``), as html.parser
    would, starting at a tag boundary outside script or style content. Stops before the first
    thing outside the subset. Skimming, no text is recorded and the simple content of an
    ``<svg>`` is one :class:`_Skipped`. Returns where it stopped and the name of the last
    start tag read ("" if none)."""
    append = events.append
    match = _FAST_TOKEN.match
    unescape = html.unescape
    limit = len(text) if stop is None else stop
    last_start = ""
    while pos < limit and (m := match(text, pos)) is not None:
        end = m.end()
        data, tag, attrs, close, end_name = m.group("text", "tag", "attrs", "close", "end")
        if data is not None:
            if not skim:
                append(_Data(unescape(data)))
        elif end_name is not None:
            append(_Tag("end", end_name.lower(), base + pos, base + end, m.group(), []))
        else:
            name = tag.lower()
            if name in _FAST_NEVER:
                break
            content = None
            if name in _FAST_TEXT_ELEMENTS:
                if close:
                    break
                content = _FAST_TEXT_CONTENT.match(text, end)
                if content is None or content.group(2).lower() != name:
                    break
            kind = "startend" if close else "start"
            append(_Tag(kind, name, base + pos, base + end, m.group(), None, attrs))
            last_start = name
            if content is not None:
                if content.group(1) and not skim:
                    append(_Data(content.group(1)))
                close_at = end + len(content.group(1))
                end = content.end()
                append(_Tag("end", name, base + close_at, base + end, text[close_at:end], []))
            elif skim and name == "svg" and not close:
                end = _skip_svg(text, end, base, events)
        pos = end
    return pos, last_start


def _skip_svg(text: str, pos: int, base: int, events: list[_Tag | _Data | _Skipped]) -> int:
    """Skimming, just after an ``<svg>`` start tag: when everything up to the next ``</svg``
    is in the fast path's subset, record it as one :class:`_Skipped` and return where it
    ends; otherwise return ``pos`` (it is then read token by token)."""
    close = _SVG_CLOSE.search(text, pos)
    if close is None or close.start() == pos:
        return pos
    end = close.start()
    if _FAST_RUN.fullmatch(text, pos, end) is None:
        return pos
    names = frozenset(name.lower() for name in set(_FAST_NAMES.findall(text, pos, end)))
    events.append(_Skipped(base + pos, base + end, names))
    return end


class _Scanner(HTMLParser):
    """Finds every tag with its exact place in the source, so that edits touch only what
    they must and everything else (SVG attribute case, quoting) stays byte for byte.

    Fast path: html.parser spends most of its time on simple markup (an inline SVG chart is
    thousands of ``<path d="..." style="..."/>``; the tables are much the same). After each
    start or end tag html.parser reads (outside ``<script>``/``<style>`` content), the
    scanner reads on by itself (:func:`_read_simple`) for as long as the markup stays in a
    strict subset: text up to a ``<``; start tags whose attributes are all ``name="value"``
    after ASCII white space; end tags ``</name>``; ``<style>``, ``<script>``, ``<title>``
    and ``<textarea>`` holding text without ``<`` or ``&``. At the first thing outside it (a
    comment, CDATA, an unquoted or single-quoted value, a stray ``<``, ...) html.parser goes
    on from that place. This is exact: at a tag boundary outside script and style content,
    what html.parser does next depends only on the text from there (it counts its position
    over the text read here itself, and ``lasttag`` is set as it would set it), and on this
    subset its rules (``locatestarttagend_tolerant``, ``tagfind_tolerant``,
    ``attrfind_tolerant``, ``endtagfind``, data up to the next ``<``, unescaped) give
    precisely the events made here: the same offsets, raw text, lower-cased names and
    unescaped values.
    :func:`_fast_path_agrees` checks this once against html.parser on samples of every
    construct in the subset and turns the fast path off if they ever differ, as they might
    if a later Python changed html.parser.

    With ``skim=True`` (for :func:`mark_abbreviations`) no text is recorded and an inline
    SVG's content, when all of it is in the subset, is one :class:`_Skipped` instead of its
    tags.
    """

    def __init__(self, source: str, *, fast: bool | None = None, skim: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self.events: list[_Tag | _Data | _Skipped] = []
        self.fast = _fast_path_agrees() if fast is None else fast
        self.skim = skim

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _start(self, kind: str, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        start = self._offset()
        if self.source[start : start + len(raw)] != raw:  # pragma: no cover - parser guard
            raise AssertionError(f"HTML scanner lost its place at <{tag}>")
        self.events.append(_Tag(kind, tag, start, start + len(raw), raw, list(attrs)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start("start", tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start("startend", tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        start = self._offset()
        close = self.source.find(">", start)
        end = len(self.source) if close < 0 else close + 1
        self.events.append(_Tag("end", tag, start, end, self.source[start:end], []))

    def handle_data(self, data: str) -> None:
        if not self.skim:
            self.events.append(_Data(data))

    # html.parser's main loop calls these two with ``i`` at a tag and goes on from the index
    # they return; the fast path moves that index on past what it read.
    def parse_starttag(self, i: int) -> int:
        return self._read_fast(i, super().parse_starttag(i))

    def parse_endtag(self, i: int) -> int:
        return self._read_fast(i, super().parse_endtag(i))

    def _read_fast(self, i: int, k: int) -> int:
        if k < 0 or not self.fast or self.cdata_elem is not None:
            return k
        base = self._offset() - i  # html.parser has not yet moved its position past the tag
        pos = k
        if self.skim and self._just_read_svg(base + k):
            pos = _skip_svg(self.rawdata, pos, base, self.events)
        pos, last_start = _read_simple(self.rawdata, pos, base, self.events, skim=self.skim)
        if last_start:
            self.lasttag = last_start
        return pos

    def _just_read_svg(self, end: int) -> bool:
        """Whether html.parser has just read an ``<svg>`` start tag ending at ``end``."""
        last = self.events[-1] if self.events else None
        if not isinstance(last, _Tag):
            return False
        return last.end == end and last.name == "svg" and last.kind == "start"


#: Every construct the fast path reads, and some it must leave to html.parser, where they
#: occur in the report: the page, tables, inline SVG, style and script content.
_FAST_SAMPLES: tuple[str, ...] = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>A &amp; B</title>'
    "<style>\nbody { color: #0b0c0c; }\na > b { x: y }\n</style></head>\n<body>",
    "<p>Text &amp; more &lt;b&gt; &#39;x&#39; &nbsp; a > b &copy</p><br/><br /><hr  >"
    '<DIV ID="A" Class="x"\n data-toc="Fish &amp; chips" title="a > b &lt;c&gt;" alt="">'
    '<SPAN>x</SPAN></DIV ><p title="it\'s"></p\n><b>x</b >',
    '<svg role="img" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 4 4" '
    'xmlns="http://www.w3.org/2000/svg"><defs><style type="text/css">*{stroke: red}</style>'
    '</defs><clipPath id="p1"><rect x="0" y="0"/></clipPath><g clip-path="url(#p1)">'
    '<path d="M 0 0 L 1 1 z " style="fill: #fff; font-family: \'DejaVu Sans\'"/>'
    '<use xlink:href="#m1" x="1"/><text transform="rotate(-0 1 1)">Q1 &amp; Q2</text>'
    "<title>t</title></g></svg>",
    '<SVG viewBox="0 0 4 4"><G\tID="A&amp;B"\n\rdata-x=""><Style>*{}</Style><TITLE>t</TITLE>'
    '<svg:g a:b="&#x3C;svg&gt;"/><textarea>t</textarea><script>x = 1 > 0</script></G></SVG>',
    '<svg><g/><style>a &amp; b</style></svg><svg><title>a<b</title></svg><svg><g x="<svg>"/></svg>'
    "<svg><g/><!-- <g> --><g/></svg><svg><g/><![CDATA[<g>]]></svg><svg><g/><?x?></svg>"
    '<svg><!-- c --><g/><![CDATA[ x ]]><?pi x?><g a=b c=\'d\' e f="g"h="i">'
    "< g><a/b><svg/ ></svg></svg><style></style><style>a<b</style><script>1 && 2</script>"
    "<textarea>x</textarea><script/><x>",
    '<table class="data"><caption>C</caption><tr><th scope="col">A</th></tr></table>'
    "<pre>a\n\nb</pre></body></html>\n",
)


def _scan(
    source: str, *, fast: bool | None = None, skim: bool = False
) -> list[_Tag | _Data | _Skipped]:
    """The events of :class:`_Scanner` for ``source``."""
    scanner = _Scanner(source, fast=fast, skim=skim)
    scanner.feed(source)
    scanner.close()
    return scanner.events


@lru_cache(maxsize=1)
def _fast_path_agrees() -> bool:
    """True when the fast path gives exactly html.parser's events on :data:`_FAST_SAMPLES`,
    skimming included (checked once per process)."""
    try:
        for sample in _FAST_SAMPLES:
            slow = _scan(sample, fast=False)
            skimmed: list[_Tag] = []
            for ev in _scan(sample, fast=True, skim=True):
                if isinstance(ev, _Skipped):
                    skimmed.extend(_skipped_tags(sample, ev))
                elif isinstance(ev, _Tag):
                    skimmed.append(ev)
            if _scan(sample, fast=True) != slow:
                break
            if skimmed != [ev for ev in slow if isinstance(ev, _Tag)]:
                break
        else:
            return True
    except Exception:  # another Python's html.parser might refuse a sample: no fast path
        log.debug("the HTML scanner's self-check failed", exc_info=True)
    log.warning("the HTML scanner's fast path is off: it disagrees with html.parser")
    return False


def _skipped_tags(source: str, skipped: _Skipped) -> list[_Tag]:
    """The tags in a skimmed chart, read again one by one."""
    events: list[_Tag | _Data | _Skipped] = []
    end, _name = _read_simple(source, skipped.start, 0, events, stop=skipped.end)
    if end != skipped.end:  # pragma: no cover - _FAST_RUN and _read_simple read alike
        raise AssertionError("HTML scanner lost its place in an <svg>")
    return [ev for ev in events if isinstance(ev, _Tag)]


_TAG_NAME = re.compile(r"<[^\s/>]+")
_ATTR = re.compile(
    r"""(?P<pre>[\s/]+)(?P<name>[^\s"'>/=]+)"""
    r"""(?:(?P<eq>\s*=\s*)(?P<val>"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
)
_DROP = object()


def _edit_start_tag(raw: str, change: Any) -> str:
    """Rewrite attributes in a raw start tag. ``change(name, value)`` returns ``None`` to keep
    the attribute as written, ``_DROP`` to remove it, or a new value."""
    head = _TAG_NAME.match(raw)
    if head is None:  # pragma: no cover - the scanner only gives real tags
        return raw
    out = [head.group(0)]
    pos = head.end()
    while True:
        m = _ATTR.match(raw, pos)
        if m is None:
            break
        name = m.group("name").lower()
        value_raw = m.group("val")
        if value_raw is None:
            value = None
        elif value_raw[:1] in ("'", '"'):
            value = html.unescape(value_raw[1:-1])
        else:
            value = html.unescape(value_raw)
        new = change(name, value)
        if new is None:
            out.append(m.group(0))
        elif new is not _DROP:
            out.append(f'{m.group("pre")}{m.group("name")}="{_esc(new)}"')
        pos = m.end()
    out.append(raw[pos:])
    return "".join(out)


_IDREF_ATTRS = frozenset(
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
_HREF_ATTRS = frozenset({"href", "xlink:href"})
_RESOURCE_ATTRS = frozenset({"src", "srcset", "poster", "data", "background"})
_RESOURCE_HREF_TAGS = frozenset({"link", "use", "image", "feimage", "script"})
_EXTERNAL = re.compile(r"(?:^|[\s,])(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_EXTERNAL_CSS = re.compile(r"url\(\s*['\"]?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import", re.IGNORECASE)
_URL_REF = re.compile(r"url\(\s*#([^)\s]+)\s*\)")
_HEADING = re.compile(r"h([1-6])")


@dataclass(frozen=True)
class TocEntry:
    """One link in the contents: the target element's id and the link text."""

    id: str
    text: str


@dataclass
class _SectionState:
    name: str
    title: str
    ids: _IdRegistry
    level: int = 2  # the level of the last heading written
    outline: int = 2  # the level of the last heading from Markdown (the notebook's outline)
    entries: list[TocEntry] = field(default_factory=list)


class _IdRegistry:
    """Hands out ids unique in the document: the first asker keeps its id, later ones get a
    counter suffix. Deterministic: it depends only on the order of the requests."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.used: set[str] = set(reserved)

    def claim(self, wanted: str) -> str:
        if wanted not in self.used:
            self.used.add(wanted)
            return wanted
        n = 2
        while f"{wanted}-{n}" in self.used:
            n += 1
        new = f"{wanted}-{n}"
        self.used.add(new)
        return new


@dataclass
class _Wrap:
    label: str = ""


def _rewrite(fragment: str, state: _SectionState, *, markdown: bool, where: str) -> str:
    """Fit one output's HTML into the report (see the module docstring for what changes)."""
    events = _scan(fragment)

    # Pass 1: ids defined here, made unique in the document; the top heading level.
    renamed: dict[str, str] = {}
    new_ids: dict[int, str] = {}
    top = 7
    script_depth = 0
    for i, ev in enumerate(events):
        if not isinstance(ev, _Tag):
            continue
        if ev.name == "script":
            script_depth += 1 if ev.kind == "start" else -1 if ev.kind == "end" else 0
            continue
        if ev.kind == "end" or script_depth:
            continue
        if ev.kind == "start" and _HEADING.fullmatch(ev.name):
            top = min(top, int(ev.name[1]))
        wanted = ev.attr("id")
        if wanted:
            got = state.ids.claim(wanted)
            new_ids[i] = got
            if got != wanted:
                renamed.setdefault(wanted, got)
                log.info("id %r in %s renamed to %r", wanted, where, got)

    def external(value: str | None) -> None:
        if value and not value.lstrip().lower().startswith("data:") and _EXTERNAL.search(value):
            raise InputError(
                f"An output would load '{value}' from outside the report",
                where=where,
                fix="embed it in the output (for example as a data: URL) or remove it; the "
                "report must work on its own, with no network",
            )

    def css_check(text: str | None) -> None:
        if text and _EXTERNAL_CSS.search(text):
            raise InputError(
                "An output's styles would load a file from outside the report",
                where=where,
                fix="remove the url(...) or @import; the report must work on its own",
            )

    # Markdown headings move down one level (the notebook's "#" is the section's h2). An
    # output's headings are placed under the Markdown heading they follow, keeping their
    # relative levels: the library's "<h4>" blocks sit under an h3 in one place and under an
    # h4 in another.
    shift = 1 if markdown else state.outline + 1 - top

    # Pass 2: edits, as (position, order, end, text); inserts sort before replacements.
    edits: list[tuple[int, int, int, int, Any]] = []
    seq = 0

    def add(start: int, end: int, text: Any) -> None:
        nonlocal seq
        edits.append((start, 0 if start == end else 1, seq, end, text))
        seq += 1

    headings: list[tuple[str, int]] = []
    tables: list[_Wrap | None] = []
    caption: _Wrap | None = None
    caption_text: list[str] = []
    pending_label: TocEntry | None = None  # a toc-entry waiting for a heading's text
    heading_text: list[str] | None = None
    script_start: int | None = None
    in_style = False

    for i, ev in enumerate(events):
        if isinstance(ev, _Data):
            if caption is not None:
                caption_text.append(ev.text)
            if heading_text is not None:
                heading_text.append(ev.text)
            if in_style:
                css_check(ev.text)
            continue
        if not isinstance(ev, _Tag):  # pragma: no cover - only a skimming scan has others
            continue
        name = ev.name
        if script_start is not None:
            if name == "script" and ev.kind == "end":
                add(script_start, ev.end, "")
                script_start = None
            continue
        if name == "script" and ev.kind == "start":
            log.warning("a <script> element in %s was removed", where)
            script_start = ev.start
            continue
        if name == "script":
            add(ev.start, ev.end, "")
            continue
        if name == "style":
            in_style = ev.kind == "start"

        if ev.kind == "end":
            if _HEADING.fullmatch(name) and headings:
                for k in range(len(headings) - 1, -1, -1):
                    if headings[k][0] == name:
                        _orig, level = headings.pop(k)
                        if f"h{level}" != name:
                            add(ev.start, ev.end, f"</h{level}>")
                        break
                if heading_text is not None:
                    if pending_label is not None:
                        text = " ".join("".join(heading_text).split())
                        if text:
                            state.entries[state.entries.index(pending_label)] = TocEntry(
                                pending_label.id, text
                            )
                        pending_label = None
                    heading_text = None
            elif name == "caption" and caption is not None:
                caption.label = " ".join("".join(caption_text).split())
                caption = None
            elif name == "table" and tables:
                wrap = tables.pop()
                if wrap is not None:
                    add(ev.end, ev.end, "</div>")
            continue

        # start and start-end tags. Attribute values are parts of the raw tag (unescaped when
        # it has a "&"), and both checks look for "//" or "@import": most tags have neither.
        raw = ev.raw
        if "//" in raw or "@" in raw or "&" in raw:
            css_check(ev.attr("style"))
            for key, value in ev.attrs:
                if key in _RESOURCE_ATTRS or (key in _HREF_ATTRS and name in _RESOURCE_HREF_TAGS):
                    external(value)

        heading = _HEADING.fullmatch(name) if ev.kind == "start" else None
        new_level = None
        if heading:
            level = max(3, min(int(heading.group(1)) + shift, state.level + 1, 6))
            state.level = level
            if markdown:
                state.outline = level
            headings.append((name, level))
            new_level = level if level != int(heading.group(1)) else None
            if pending_label is not None:
                heading_text = []
        if name == "table" and ev.kind == "start":
            if tables:
                tables.append(None)
            else:
                wrap = _Wrap()
                tables.append(wrap)
                add(ev.start, ev.start, wrap)
        if name == "caption" and ev.kind == "start" and len(tables) == 1 and caption is None:
            caption = tables[0]
            caption_text = []

        final_id = new_ids.get(i)
        if final_id is None and new_level is None and not renamed and name != "svg":
            continue  # change() below would keep every attribute: the tag stays as written
        classes = (ev.attr("class") or "").split()
        if "toc-entry" in classes and final_id:
            label = ev.attr("data-toc") or ev.attr("aria-label") or ev.attr("title") or ""
            label = " ".join(label.split())
            entry = TocEntry(final_id, label or final_id)
            state.entries.append(entry)
            if not label:
                pending_label = entry

        def change(
            attr: str, value: str | None, tag: str = name, final: str | None = final_id
        ) -> Any:
            if attr == "id" and final is not None and value != final:
                return final
            if tag == "svg" and (attr == "xmlns" or attr.startswith("xmlns:")):
                return _DROP
            if value is None or not renamed:
                return None
            if attr in _HREF_ATTRS and value.startswith("#") and value[1:] in renamed:
                return "#" + renamed[value[1:]]
            if attr in _IDREF_ATTRS:
                parts = value.split()
                if any(p in renamed for p in parts):
                    return " ".join(renamed.get(p, p) for p in parts)
            if "url(#" in value:
                new = _URL_REF.sub(lambda u: f"url(#{renamed.get(u.group(1), u.group(1))})", value)
                if new != value:
                    return new
            return None

        raw = ev.raw if new_level is None else f"<h{new_level}{ev.raw[3:]}"
        new_raw = _edit_start_tag(raw, change)
        if new_raw != ev.raw:
            add(ev.start, ev.end, new_raw)

    if script_start is not None:  # an unclosed script runs to the end
        add(script_start, len(fragment), "")

    if not edits:
        return fragment
    out: list[str] = []
    cursor = 0
    for start, _kind, _seq, end, text in sorted(edits, key=lambda e: (e[0], e[1], e[2])):
        if start < cursor:  # inside something already removed
            continue
        out.append(fragment[cursor:start])
        if isinstance(text, _Wrap):
            label = text.label or f"Table in the {state.title} section"
            out.append(
                f'<div class="table-wrap" role="region" aria-label="{_esc(label)}" tabindex="0">'
            )
        else:
            out.append(text)
        cursor = end
    out.append(fragment[cursor:])
    return "".join(out)


# --- notebooks to sections ----------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One notebook, ready for the template."""

    name: str
    title: Markup
    title_text: str
    body: Markup
    code: Markup
    entries: tuple[TocEntry, ...]


def _section_title(nb: Mapping[str, Any], name: str) -> tuple[str, str, int, str]:
    """The level-1 heading opening the first Markdown cell: (inline HTML, plain text,
    cell index, the rest of that cell's Markdown rendered)."""
    md = _markdown()
    for index, cell in enumerate(nb.get("cells") or ()):
        if cell.get("cell_type") != "markdown" or _tags(cell) & REMOVE_TAGS:
            continue
        env = {"attachments": cell.get("attachments") or {}}
        tokens = md.parse(_text(cell.get("source")), env)
        if len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            children = tokens[1].children or []
            title_html = md.renderer.renderInline(children, md.options, env).strip()
            title_text = " ".join(md.renderer.renderInlineAsText(children, md.options, env).split())
            if title_text:
                rest = md.renderer.render(tokens[3:], md.options, env)
                return title_html, title_text, index, rest
        break
    raise InputError(
        f"The {name} notebook does not open with a title",
        where=f"notebooks/{name}.ipynb, first Markdown cell",
        fix="start the first Markdown cell with a level-1 heading, such as '# Workforce'",
    )


def _image_html(mime: str, payload: str, metadata: Mapping[str, Any], state: _SectionState) -> str:
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
        f'<img src="{_esc(_data_uri(mime, payload))}" alt="{_esc(alt)}"{size}>'
        "</figure>"
    )


def _output_html(output: Mapping[str, Any], state: _SectionState) -> tuple[str, bool] | None:
    """(HTML, is Markdown-derived) for one rich output, or ``None`` to show nothing."""
    data = output.get("data") or {}
    if "text/html" in data:
        return _text(data["text/html"]), False
    if "text/markdown" in data:
        env = {"default_alt": f"Image from the {state.title} section"}
        return _markdown().render(_text(data["text/markdown"]), env), True
    for mime in _IMAGE_MIMES:
        if mime in data:
            return _image_html(mime, _text(data[mime]), output.get("metadata") or {}, state), False
    plain = _ANSI.sub("", _text(data.get("text/plain")))
    if plain.strip() and not _ADDRESS.search(plain):
        return f'<pre class="output">{_esc(plain.rstrip())}</pre>', False
    return None


def _check_errors(nb: Mapping[str, Any], name: str) -> None:
    """A notebook holding an error output is never published (unless the cell is tagged
    ``raises-exception``, meaning the error is expected)."""
    for index, cell in enumerate(nb.get("cells") or ()):
        if RAISES_TAG in _tags(cell):
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


def _cell_outputs(cell: Mapping[str, Any], state: _SectionState) -> list[tuple[str, bool]]:
    """The cell's outputs as (HTML, is Markdown-derived) pairs; stdout merged, stderr and
    (expected) errors dropped."""
    pieces: list[tuple[str, bool]] = []
    stdout: list[str] = []

    def flush() -> None:
        text = _ANSI.sub("", "".join(stdout)).rstrip()
        if text.strip():
            pieces.append((f'<pre class="output">{_esc(text)}</pre>', False))
        stdout.clear()

    for output in cell.get("outputs") or ():
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout":
                stdout.append(_text(output.get("text")))
            continue
        flush()
        if kind in ("display_data", "execute_result", "update_display_data"):
            got = _output_html(output, state)
            if got is not None:
                pieces.append(got)
    flush()
    return pieces


@functools.lru_cache(maxsize=16)
def _lexer(language: str) -> Any:
    """One lexer per language for the whole report (finding and building one is most of the
    cost of highlighting a short cell; a lexer keeps no state between calls)."""
    try:
        return get_lexer_by_name(language or "python", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=False)


@functools.lru_cache(maxsize=1)
def _formatter() -> Any:
    return HtmlFormatter(nowrap=True)


def _highlight(source: str, language: str) -> str:
    spans = highlight(source, _lexer(language), _formatter())
    return f'<pre class="code-source"><code>{spans.rstrip()}</code></pre>'


def _code_listing(nb: Mapping[str, Any]) -> str:
    """Every code cell's source, highlighted, except removed cells and papermill's injected
    parameters (which may hold machine-specific paths; the provenance lists the values)."""
    metadata = nb.get("metadata") or {}
    language = str(
        (metadata.get("language_info") or {}).get("name")
        or (metadata.get("kernelspec") or {}).get("language")
        or "python"
    )
    blocks = []
    number = 0
    for cell in nb.get("cells") or ():
        if cell.get("cell_type") != "code":
            continue
        number += 1
        tags = _tags(cell)
        source = _text(cell.get("source"))
        if tags & REMOVE_TAGS or INJECTED_TAG in tags or not source.strip():
            continue
        label = f"Code cell {number}"
        if "parameters" in tags:
            label += (
                ": parameters with their default values (the values used for this report are "
                "listed under How this report was made)"
            )
        blocks.append(
            f'<div class="code-cell"><p class="code-label">{_esc(label)}</p>'
            f"{_highlight(source, language)}</div>"
        )
    return "\n".join(blocks)


def _section(name: str, nb: Mapping[str, Any], ids: _IdRegistry) -> Section:
    _check_errors(nb, name)
    title_html, title_text, title_cell, rest = _section_title(nb, name)
    state = _SectionState(name=name, title=title_text, ids=ids)
    parts: list[str] = []
    for index, cell in enumerate(nb.get("cells") or ()):
        tags = _tags(cell)
        kind = cell.get("cell_type")
        if tags & REMOVE_TAGS:
            continue
        where = f"notebooks/{name}.ipynb, cell {index + 1}"
        if kind == "markdown":
            if index == title_cell:
                source = rest
            else:
                env = {
                    "attachments": cell.get("attachments") or {},
                    "default_alt": f"Image from the {title_text} section",
                }
                source = _markdown().render(_text(cell.get("source")), env)
            if source.strip():
                parts.append(_rewrite(source, state, markdown=True, where=where))
        elif kind == "code":
            if tags & PARAMETER_TAGS or tags & REMOVE_OUTPUT_TAGS:
                continue
            for fragment, from_markdown in _cell_outputs(cell, state):
                parts.append(_rewrite(fragment, state, markdown=from_markdown, where=where))
        # raw cells are not part of the report
    return Section(
        name=name,
        title=Markup(title_html),
        title_text=title_text,
        body=Markup("\n".join(p.strip("\n") for p in parts)),
        code=Markup(_code_listing(nb)),
        entries=tuple(state.entries),
    )


# --- provenance ---------------------------------------------------------------------------

PROVENANCE_ORDER: tuple[str, ...] = (
    "quarter",
    "parameters",
    "inputs",
    "code_version",
    "environment",
    "command",
)
_LABELS: dict[str, str] = {
    "quarter": "Quarter",
    "parameters": "Parameters",
    "inputs": "Input files",
    "code_version": "Code version",
    "environment": "Software environment",
    "command": "Command to re-run this report",
    "sha256": "SHA-256 (first 12 characters)",
    "path": "File",
    "python": "Python",
    "packages": "Packages",
    "package_version": "Package version",
    "source_sha256": "Fingerprint of the code (SHA-256, first 12 characters)",
    "git_commit": "Git commit",
    "git_dirty": "Uncommitted changes to the code",
}
#: Fingerprints are shown to this many characters (the manifest keeps them whole).
SHORT_HASH = 12
_HASH_KEYS = frozenset({"sha256", "sha1", "md5", "hash", "digest", "checksum", "commit"})
_FIRST_COLUMNS = ("path", "file", "name", "sha256")
_PAIR_HEADERS = {"packages": ("Package", "Version"), "parameters": ("Parameter", "Value")}
#: A mapping of more name/value pairs than this is shown as a collapsed table.
LONG_MAPPING = 8


def _label(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    words = re.sub(r"[_\s]+", " ", key).strip()
    return words[:1].upper() + words[1:] if words else key


def _ordered_keys(mapping: Mapping[Any, Any], first: Sequence[str] = ()) -> list[str]:
    keys = sorted((str(k) for k in mapping), key=lambda k: (k.casefold(), k))
    head = [k for k in first if k in keys]
    return head + [k for k in keys if k not in head]


def _get(mapping: Mapping[Any, Any], key: str) -> Any:
    if key in mapping:
        return mapping[key]
    for k, v in mapping.items():
        if str(k) == key:
            return v
    return None


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, PurePath):
        shown = (
            display_path(Path(value), outside="external")
            if value.is_absolute()
            else value.as_posix()
        )
        return f"<code>{_esc(shown)}</code>"
    if isinstance(value, datetime | date):
        return _esc(value.isoformat())
    text = str(value)
    if not text.strip():  # never an empty line in the record: say what an empty value means
        return "not set (the default is used)"
    hashed = key.lower() in _HASH_KEYS or key.lower().endswith(("_sha256", "_hash", "_commit"))
    if _HEX_HASH.match(text.lower()) or (hashed and re.fullmatch(r"[0-9a-fA-F]{7,}", text)):
        return f"<code>{_esc(text[:SHORT_HASH])}</code>"
    if key == "command" or key.endswith("_command"):
        return f"<code>{_esc(text)}</code>"
    return _esc(text)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple | set | frozenset)


def _render_value(key: str, value: Any) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "none"
        if len(value) > LONG_MAPPING and all(_is_scalar(v) for v in value.values()):
            return _render_long_mapping(key, value)

        def term(k: str) -> str:  # parameter names are shown as written
            return f"<code>{_esc(k)}</code>" if key == "parameters" else _esc(_LABELS.get(k, k))

        rows = "".join(
            f"<dt>{term(k)}</dt><dd>{_render_value(k, _get(value, k))}</dd>"
            for k in _ordered_keys(value)
        )
        return f'<dl class="provenance-nested">{rows}</dl>'
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        if key == "command" and all(isinstance(v, str) for v in value):
            return f"<code>{_esc(shlex.join(value))}</code>"
        if all(isinstance(v, Mapping) for v in value):
            return _render_records(key, value)
        items = "".join(f"<li>{_render_value(key, v)}</li>" for v in value)
        return f"<ul>{items}</ul>"
    return _scalar(key, value)


def _render_long_mapping(key: str, mapping: Mapping[Any, Any]) -> str:
    """Many name/value pairs (such as package versions): a table, collapsed."""
    first, second = _PAIR_HEADERS.get(key, ("Name", "Value"))
    caption = _LABELS.get(key, _label(key))
    rows = "".join(
        f'<tr><th scope="row">{_esc(k)}</th><td>{_scalar(k, _get(mapping, k))}</td></tr>'
        for k in _ordered_keys(mapping)
    )
    return (
        f"<details><summary>{_esc(caption)} ({len(mapping)})</summary>"
        f'<div class="table-wrap" role="region" aria-label="{_esc(caption)}" tabindex="0">'
        f'<table class="data"><caption>{_esc(caption)}</caption>'
        f'<thead><tr><th scope="col">{first}</th><th scope="col">{second}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></details>"
    )


def _render_records(key: str, records: Sequence[Mapping[Any, Any]]) -> str:
    columns: list[str] = []
    seen: set[str] = set()
    for record in records:
        for k in record:
            if str(k) not in seen:
                seen.add(str(k))
                columns.append(str(k))
    columns = _ordered_keys(dict.fromkeys(columns), _FIRST_COLUMNS)
    caption = _label(key)
    head = "".join(f'<th scope="col">{_esc(_label(c))}</th>' for c in columns)
    body = []
    for record in records:
        cells = []
        for c in columns:
            value = _get(record, c)
            text = _render_value(c, value) if value is not None else "not recorded"
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="table-wrap" role="region" aria-label="{_esc(caption)}" tabindex="0">'
        f'<table class="data"><caption>{_esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def render_provenance(provenance: Mapping[str, object]) -> Markup:
    """The provenance mapping as a definition list: known keys first, then the rest sorted."""
    if not provenance:
        return Markup("<p>No provenance was recorded for this report.</p>")
    rows = []
    for key in _ordered_keys(provenance, PROVENANCE_ORDER):
        value = _get(provenance, key)
        rows.append(f"<dt>{_esc(_label(key))}</dt>\n<dd>{_render_value(key, value)}</dd>")
    return Markup('<dl class="provenance">\n' + "\n".join(rows) + "\n</dl>")


# --- abbreviations ------------------------------------------------------------------------

#: Text inside these elements is never changed: code, pictures and existing abbreviations.
_NO_ABBR_TAGS = frozenset({"head", "script", "style", "svg", "pre", "code", "kbd", "abbr"})
#: Each of these starts a new part of the report, where an abbreviation is marked again.
_ABBR_REGION_TAGS = frozenset({"header", "nav", "section", "footer"})
_MARKUP_IN_TEXT = re.compile(r"<!--.*?-->|<![^>]*>|<\?[^>]*>", re.DOTALL)
#: How far back (in characters of the same text) an expansion counts as already written.
_EXPANSION_WINDOW = 160


def _abbreviation_pattern(abbreviations: Mapping[str, str]) -> re.Pattern[str] | None:
    if not abbreviations:
        return None
    names = sorted(abbreviations, key=lambda a: (-len(a), a))
    return re.compile(r"\b(" + "|".join(re.escape(a) for a in names) + r")(s?)\b")


def mark_abbreviations(document: str, abbreviations: Mapping[str, str]) -> tuple[str, list[str]]:
    """Spell out abbreviations where a reader first meets them.

    In each part of the document (the header, the contents, each section, the footer) the
    first use of each abbreviation becomes ``<abbr title="...">``. The first use in the main
    content also has the words written out after it, ``GCSEs (General Certificate of
    Secondary Education)``, or inside brackets that hold it alone, ``(FTE, full-time
    equivalent)``, unless the words are already written just before it, as in ``gross
    value added (GVA)``. Code, charts and elements marked ``data-no-abbr`` (the glossary)
    are left alone. Returns the document and the abbreviations found, in the mapping's order.
    """
    pattern = _abbreviation_pattern(abbreviations)
    if pattern is None:
        return document, []
    events = _scan(document, skim=True)

    used: set[str] = set()
    spelled_out: set[str] = set()
    seen_here: set[str] = set()
    skip: list[str] = []  # the element that started a region left alone, once per nesting

    def tags() -> Iterator[_Tag]:
        """The document's tags, read as the loop below goes. An <svg> start tag always adds
        to ``skip``, so a skimmed chart's own tags matter only if one is named like the last
        element in ``skip`` or is a </main>; otherwise its content is copied as it is, as
        the text between them would be."""
        for ev in events:
            if isinstance(ev, _Tag):
                yield ev
            elif isinstance(ev, _Skipped) and (
                not skip or skip[-1] in ev.names or "main" in ev.names
            ):
                yield from _skipped_tags(document, ev)

    in_body = in_main = False
    out: list[str] = []
    cursor = 0

    def mark(text: str) -> str:
        pieces: list[str] = []
        pos = 0
        for match in pattern.finditer(text):
            name, plural = match.group(1), match.group(2)
            used.add(name)
            if name in seen_here:
                continue
            seen_here.add(name)
            words = abbreviations[name]
            pieces.append(text[pos : match.start()])
            tag = f'<abbr title="{_esc(words)}">{name}{plural}</abbr>'
            pos = match.end()
            if in_main and name not in spelled_out:
                spelled_out.add(name)
                start = match.start()
                before = html.unescape(text[max(0, start - _EXPANSION_WINDOW) : start])
                if text[pos : pos + 1] == "-":  # part of a name such as SHA-256: next time
                    spelled_out.discard(name)
                elif words.casefold() not in before.casefold():
                    if text[start - 1 : start] == "(" and text[pos : pos + 1] == ")":
                        tag += f", {_esc(words)}"
                    else:
                        tag += f" ({_esc(words)})"
            pieces.append(tag)
        pieces.append(text[pos:])
        return "".join(pieces)

    def text_between(start: int, end: int) -> None:
        chunk = document[start:end]
        if not in_body or skip or not chunk.strip():
            out.append(chunk)
            return
        pos = 0
        for special in _MARKUP_IN_TEXT.finditer(chunk):
            out.append(mark(chunk[pos : special.start()]))
            out.append(special.group(0))
            pos = special.end()
        out.append(mark(chunk[pos:]))

    for tag in tags():
        text_between(cursor, tag.start)
        out.append(document[tag.start : tag.end])
        cursor = tag.end
        name = tag.name
        if tag.kind == "end":
            if skip and name == skip[-1]:
                skip.pop()
            elif name == "main":
                in_main = False
            continue
        if tag.kind == "startend":
            continue
        if skip:
            if name == skip[-1]:
                skip.append(name)
            continue
        if name in _NO_ABBR_TAGS or any(key == "data-no-abbr" for key, _v in tag.attrs):
            skip.append(name)
        elif name == "body":
            in_body = True
        elif name == "main":
            in_main = True
        if name in _ABBR_REGION_TAGS:
            seen_here = set()
    text_between(cursor, len(document))
    return "".join(out), [a for a in abbreviations if a in used]


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
    ids = _IdRegistry([*TEMPLATE_IDS, *(name for name, _nb in notebooks)])
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
    document, used = mark_abbreviations(template.render(**context), ABBREVIATIONS)
    if used:
        context["glossary"] = tuple((a, ABBREVIATIONS[a]) for a in used)
        document, _ = mark_abbreviations(template.render(**context), ABBREVIATIONS)
    document = document.replace("\r\n", "\n").replace("\r", "\n")
    return document if document.endswith("\n") else document + "\n"
