"""The code behind a section, as reviewers see it at the end of the section.

Every code cell's source is listed, highlighted with Pygments, in the collapsed
``<details class="code">`` the template puts after a section's body, except removed cells and
papermill's injected parameters (which may hold machine-specific paths; the provenance lists
the values used). Kept apart from the layout because it reads cells' sources, not outputs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from scorecard_lib.report.notebook_markdown import cell_text, esc

INJECTED_TAG = "injected-parameters"
REMOVE_TAGS = frozenset({"remove", "remove-cell", "remove_cell"})


def tags_of(cell: Mapping[str, Any]) -> frozenset[str]:
    """A cell's tags (from its metadata)."""
    metadata = cell.get("metadata") or {}
    return frozenset(str(t) for t in (metadata.get("tags") or ()))


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


def code_listing(nb: Mapping[str, Any]) -> str:
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
        tags = tags_of(cell)
        source = cell_text(cell.get("source"))
        if tags & REMOVE_TAGS or INJECTED_TAG in tags or not source.strip():
            continue
        label = f"Code cell {number}"
        if "parameters" in tags:
            label += (
                ": parameters with their default values (the values used for this report are "
                "listed under How this report was made)"
            )
        blocks.append(
            f'<div class="code-cell"><p class="code-label">{esc(label)}</p>'
            f"{_highlight(source, language)}</div>"
        )
    return "\n".join(blocks)
