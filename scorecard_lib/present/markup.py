"""The facade's building blocks of HTML: trusted blocks, paragraphs and lists, and the heading
level every output opens at in the report, so each output is made once, as the report shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scorecard_lib.rules.narrative import escape

#: The level of the first heading in an output that has headings, where the section notebooks
#: show it: a notebook's "#" title is the report's <h2> and its "##" headings <h3>s, so an
#: output under a "##" heading opens with an <h4>. Every output is made at its level in the
#: report, and the report lays it out as it is (assembly only fits in an output that a
#: notebook of one's own places elsewhere).
OUTPUT_HEADING_LEVEL = 4
#: The overview's own indicators have their other commentary in Appendix 1, under a "###"
#: heading there (``notebooks/appendix.ipynb``), so it opens one level deeper.
APPENDIX_COMMENTARY_LEVEL = OUTPUT_HEADING_LEVEL + 1
#: The section whose commentary the appendix shows.
APPENDIX_COMMENTARY_SECTION = "overview"


@dataclass(frozen=True)
class Html:
    """A block of trusted HTML built by this library (every text inside it is escaped)."""

    html: str
    label: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<Html: {self.label}>" if self.label else "<Html>"


@dataclass(frozen=True)
class Blocks:
    """Several blocks shown one after another (e.g. a chart per indicator)."""

    items: Sequence[Any] = field(default_factory=tuple)
    label: str = ""
    css_class: str = "blocks"

    def _repr_html_(self) -> str:
        inner = "\n".join(i._repr_html_() for i in self.items)
        return f'<div class="{self.css_class}">\n{inner}\n</div>'

    def __repr__(self) -> str:
        return f"<Blocks: {self.label} ({len(self.items)})>"


def paragraph_html(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<p{cls}>{escape(text)}</p>"


def list_html(items: Sequence[str], css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<ul{cls}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def split_items(text: str | None) -> list[str]:
    """Controls and actions are written in one cell, separated by semicolons."""
    items = [t.strip() for t in (text or "").split(";") if t.strip()]
    return [t[0].upper() + t[1:] for t in items]
