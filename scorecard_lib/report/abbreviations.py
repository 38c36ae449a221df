"""Abbreviations spelled out where a reader first meets them, over the finished document.

Assembly renders the whole report, then :func:`mark_abbreviations` walks its text with lxml
(the document is parsed by lxml.html and written back by it). Only text is changed: an
abbreviation listed in :data:`~scorecard_lib.core.formatting.ABBREVIATIONS` becomes
``<abbr title="...">``, and its first use in the main content is followed by the words. The
glossary lists the abbreviations this walk found. Kept on its own because it is the one step
that reads the document as a whole, after the template has laid it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import lxml.html

#: Text inside these elements is never changed: code, pictures and existing abbreviations.
NO_ABBR_TAGS = frozenset({"head", "script", "style", "svg", "pre", "code", "kbd", "abbr"})
#: Each of these starts a new part of the report, where an abbreviation is marked again.
ABBR_REGION_TAGS = frozenset({"header", "nav", "section", "footer"})
#: How far back (in characters of the same text) an expansion counts as already written.
EXPANSION_WINDOW = 160
#: The doctype written when the document had one (lxml keeps only what it was given).
HTML_DOCTYPE = "<!DOCTYPE html>"


def _pattern(abbreviations: Mapping[str, str]) -> re.Pattern[str] | None:
    if not abbreviations:
        return None
    names = sorted(abbreviations, key=lambda a: (-len(a), a))
    return re.compile(r"\b(" + "|".join(re.escape(a) for a in names) + r")(s?)\b")


@dataclass
class _Walk:
    """What the walk knows at a point of the document."""

    abbreviations: Mapping[str, str]
    pattern: re.Pattern[str]
    used: set[str] = field(default_factory=set)
    spelled_out: set[str] = field(default_factory=set)
    seen_here: set[str] = field(default_factory=set)
    in_main: bool = False

    def mark(self, text: str) -> list[str | tuple[str, str, str]]:
        """``text`` cut into plain pieces and ``(abbreviation as written, title, words
        after it)`` pieces."""
        pieces: list[str | tuple[str, str, str]] = []
        pos = 0
        for match in self.pattern.finditer(text):
            name, plural = match.group(1), match.group(2)
            self.used.add(name)
            if name in self.seen_here:
                continue
            self.seen_here.add(name)
            words = self.abbreviations[name]
            pieces.append(text[pos : match.start()])
            start, pos = match.start(), match.end()
            after = ""
            if self.in_main and name not in self.spelled_out:
                self.spelled_out.add(name)
                before = text[max(0, start - EXPANSION_WINDOW) : start]
                if text[pos : pos + 1] == "-":  # part of a name such as SHA-256: next time
                    self.spelled_out.discard(name)
                elif words.casefold() not in before.casefold():
                    if text[start - 1 : start] == "(" and text[pos : pos + 1] == ")":
                        after = f", {words}"
                    else:
                        after = f" ({words})"
            pieces.append((name + plural, words, after))
        pieces.append(text[pos:])
        return pieces


def _texts(root: lxml.html.HtmlElement, walk: _Walk) -> Iterator[tuple[object, str]]:
    """``(node, "text" or "tail")`` for every run of text the walk may mark, in document
    order, keeping ``walk``'s place (regions, the main content) as it goes."""

    def visit(el: object, markable: bool) -> Iterator[tuple[object, str]]:
        tag = getattr(el, "tag", None)
        if isinstance(tag, str):
            skip = tag in NO_ABBR_TAGS or el.get("data-no-abbr") is not None  # type: ignore[attr-defined]
            inside = markable and not skip
            if tag in ABBR_REGION_TAGS and markable:
                walk.seen_here = set()
            if tag == "main" and inside:
                walk.in_main = True
            if inside and el.text:  # type: ignore[attr-defined]
                yield el, "text"
            for child in el:  # type: ignore[attr-defined]
                yield from visit(child, inside)
                if inside and child.tail:
                    yield child, "tail"
            if tag == "main" and inside:
                walk.in_main = False

    body = root.find("body")
    if body is not None:
        yield from visit(body, True)


def _apply(node: object, where: str, pieces: list[str | tuple[str, str, str]]) -> None:
    """Puts the marked pieces in place of the node's text (or tail)."""
    el: lxml.html.HtmlElement = node  # type: ignore[assignment]
    first = pieces[0]
    assert isinstance(first, str)
    abbrs: list[lxml.html.HtmlElement] = []
    tail_after: list[str] = []
    for piece in pieces[1:]:
        if isinstance(piece, str):
            tail_after[-1] += piece
        else:
            written, title, after = piece
            abbr = lxml.html.Element("abbr", {"title": title})
            abbr.text = written
            abbrs.append(abbr)
            tail_after.append(after)
    for abbr, tail in zip(abbrs, tail_after, strict=True):
        abbr.tail = tail or None
    if where == "text":
        el.text = first or None
        for offset, abbr in enumerate(abbrs):
            el.insert(offset, abbr)
    else:
        el.tail = first or None
        anchor = el
        for abbr in abbrs:
            anchor.addnext(abbr)
            anchor = abbr


def mark_document(root: lxml.html.HtmlElement, abbreviations: Mapping[str, str]) -> list[str]:
    """Marks the abbreviations in a parsed document, in place (see :func:`mark_abbreviations`);
    returns those found, in the mapping's order."""
    pattern = _pattern(abbreviations)
    if pattern is None:
        return []
    walk = _Walk(abbreviations, pattern)
    edits = []
    for node, where in _texts(root, walk):
        text = node.text if where == "text" else node.tail  # type: ignore[attr-defined]
        pieces = walk.mark(text)
        if len(pieces) > 1:
            edits.append((node, where, pieces))
    for node, where, pieces in edits:
        _apply(node, where, pieces)
    return [a for a in abbreviations if a in walk.used]


def parse_document(document: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(document)


def write_document(root: lxml.html.HtmlElement) -> str:
    """The document as text, with the HTML doctype when it had one."""
    doctype = root.getroottree().docinfo.doctype
    text = lxml.html.tostring(root, encoding="unicode", doctype=HTML_DOCTYPE if doctype else None)
    return text


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
    if _pattern(abbreviations) is None:
        return document, []
    root = parse_document(document)
    used = mark_document(root, abbreviations)
    return write_document(root), used
