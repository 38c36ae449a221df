"""A notebook's Markdown, rendered straight into the report's markup.

Markdown cells (and ``text/markdown`` outputs) are rendered with markdown-it-py, CommonMark
plus tables, by render rules that write the final markup at once: headings at their level in
the report's outline (the notebook's ``#`` is the section's ``<h2>``, ``##`` an ``<h3>``; a
heading that would skip a level is lifted), tables with the report's class, header scopes and
their labelled scroll box, and images only when they are embedded. Raw HTML in Markdown is
escaped, never passed through, so nothing rendered here needs cleaning afterwards.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt

from scorecard_lib.report.outline import SectionOutline

IMAGE_MIMES = ("image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp")


def esc(text: object) -> str:
    """Text for HTML content or a double-quoted attribute value."""
    return html.escape(str(text), quote=True)


def cell_text(value: Any) -> str:
    """Notebook text fields may be a string or a list of lines."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "".join(str(v) for v in value)
    return str(value)


def data_uri(mime: str, payload: str) -> str:
    """An image as a ``data:`` URL (a notebook keeps SVG as text, other images as base64)."""
    if mime == "image/svg+xml":
        encoded = base64.b64encode(payload.encode("utf-8")).decode("ascii")
    else:
        encoded = "".join(payload.split())
    return f"data:{mime};base64,{encoded}"


def table_wrap_open(label: str) -> str:
    """The start of the focusable, labelled box a table scrolls sideways in on a narrow screen
    (WCAG 1.4.10); the library's tables carry the same box."""
    return f'<div class="table-wrap" role="region" aria-label="{esc(label)}" tabindex="0">'


def _outline(env: Mapping[str, Any]) -> SectionOutline | None:
    outline = env.get("outline")
    return outline if isinstance(outline, SectionOutline) else None


def _render_heading_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """The heading at its level in the report; its closing tag (two tokens on) follows."""
    outline = _outline(env)
    if outline is not None:
        level = outline.place_markdown(int(tokens[idx].tag[1:]))
        tokens[idx].tag = tokens[idx + 2].tag = f"h{level}"
    return str(self.renderToken(tokens, idx, options, env))


def _render_table_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    outline = _outline(env)
    label = f"Table in the {outline.title} section" if outline is not None else "Table"
    return table_wrap_open(label) + str(self.renderToken(tokens, idx, options, env))


def _render_table_close(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    return str(self.renderToken(tokens, idx, options, env)).rstrip("\n") + "</div>\n"


def _render_image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """Embedded images only: attachments and ``data:`` URLs. Anything else is named, not
    loaded, so the report never reaches out to the network or to missing local files."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    src = str(token.attrGet("src") or "")
    uri = ""
    if src.startswith("attachment:"):
        bundle = (env.get("attachments") or {}).get(src[len("attachment:") :]) or {}
        for mime in IMAGE_MIMES:
            if mime in bundle:
                uri = data_uri(mime, cell_text(bundle[mime]))
                break
    elif src.startswith("data:image/"):
        uri = src
    if not uri:
        label = esc(alt or "no description")
        return f'<span class="image-missing">[Image not included in this report: {label}]</span>'
    if not alt:
        alt = env.get("default_alt", "")
    return f'<img src="{esc(uri)}" alt="{esc(alt)}">'


def _table_attrs(state: Any) -> None:
    """Markdown tables get the report's table class and header scopes."""
    for token in state.tokens:
        if token.type == "table_open":
            token.attrSet("class", "data")
        elif token.type == "th_open":
            token.attrSet("scope", "col")


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    """The renderer (CommonMark and tables; raw HTML escaped; no links made from bare text)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.add_render_rule("image", _render_image)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.core.ruler.push("report_table_attrs", _table_attrs)
    return md


def render(
    source: str,
    outline: SectionOutline,
    *,
    attachments: Mapping[str, Any] | None = None,
    default_alt: str = "",
) -> str:
    """Markdown as the report's HTML, its headings placed in ``outline``."""
    env = {"outline": outline, "attachments": attachments or {}, "default_alt": default_alt}
    return str(markdown().render(source, env))


@dataclass(frozen=True)
class TitleCell:
    """A notebook's first Markdown cell, parsed: its level-1 title and the rest, to render."""

    html: str
    text: str
    rest: Sequence[Any]
    attachments: Mapping[str, Any]


def parse_title_cell(source: str, attachments: Mapping[str, Any] | None = None) -> TitleCell | None:
    """The cell's opening level-1 heading (as inline HTML and as plain text) and its other
    tokens, or ``None`` when it does not open with a title."""
    md = markdown()
    env: dict[str, Any] = {"attachments": attachments or {}}
    tokens = md.parse(source, env)
    if len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        children = tokens[1].children or []
        title_html = md.renderer.renderInline(children, md.options, env).strip()
        title_text = " ".join(md.renderer.renderInlineAsText(children, md.options, env).split())
        if title_text:
            return TitleCell(title_html, title_text, tokens[3:], attachments or {})
    return None


def render_rest_of_title_cell(cell: TitleCell, outline: SectionOutline) -> str:
    """What follows the title in the first cell, its headings placed in ``outline``."""
    md = markdown()
    env = {"outline": outline, "attachments": cell.attachments}
    return str(md.renderer.render(list(cell.rest), md.options, env))
