"""The report's outline while it is laid out: heading levels, ids and the contents entries.

Assembly walks each notebook once, in order. :class:`SectionOutline` is what it knows at any
point of a section: the level of the last heading written, the level of the last Markdown
heading (the notebook's own outline, which an output's headings sit under), the entries for
the contents list, and the ids already used in the whole document (:class:`IdRegistry`).
Kept apart from the HTML work so that the Markdown renderer and the output checks
(``notebook_markdown.py``, ``html_clean.py``) share one outline without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: The deepest heading HTML has; an outline never goes below it.
DEEPEST = 6
#: A section's own headings start under its ``<h2>``.
FIRST_INNER_LEVEL = 3


@dataclass(frozen=True)
class TocEntry:
    """One link in the contents: the target element's id and the link text."""

    id: str
    text: str


class IdRegistry:
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
class SectionOutline:
    """Where assembly is in one section (see the module docstring)."""

    name: str
    title: str
    ids: IdRegistry
    level: int = 2  # the level of the last heading written
    outline: int = 2  # the level of the last heading from Markdown
    entries: list[TocEntry] = field(default_factory=list)

    def place(self, wanted: int) -> int:
        """The level a heading that would be at ``wanted`` takes: never above the section's
        own headings, never more than one below the heading before it (WCAG 1.3.1), never
        below ``<h6>``. Records it as the last heading written."""
        level = max(FIRST_INNER_LEVEL, min(wanted, self.level + 1, DEEPEST))
        self.level = level
        return level

    def place_markdown(self, markdown_level: int) -> int:
        """A Markdown heading: the notebook's ``#`` is the section's ``<h2>``, so ``##`` is an
        ``<h3>``; it also becomes the outline that following outputs sit under."""
        level = self.place(markdown_level + 1)
        self.outline = level
        return level
