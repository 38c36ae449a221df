"""The paper's outline, read from the section notebooks: their Markdown cells and facade calls.

The Word paper follows the notebooks as the HTML report does, so a new cell shows in both.
Split out because it is checked before any notebook runs (a call with no Word renderer is
refused, :class:`~scorecard_lib.report.word.writer.WordError`), without building a document.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard_lib.core.paths import NOTEBOOKS_DIR
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.report.word.renderers import RENDERERS
from scorecard_lib.report.word.writer import WordError

# --- reading the notebooks --------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"parameters", "injected-parameters", "remove", "remove-cell"})


def facade_call(source: str) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
    """``("trends", ("workforce",), {})`` for a cell that is one call ``sc.trends("workforce")``
    with literal arguments; None for any other cell (imports, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "sc"
    ):
        return None
    try:
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        return None
    return call.func.attr, args, kwargs


@dataclass(frozen=True)
class Part:
    """One thing the paper shows, in order: a Markdown cell or a facade call."""

    section: str
    markdown: str = ""
    call: tuple[str, tuple[Any, ...], dict[str, Any]] | None = None


def paper_parts(
    notebooks_dir: Path | None = None, sections: Sequence[str] = SECTIONS
) -> list[Part]:
    """What the paper shows, read from the section notebooks in report order. Raises
    :class:`WordError` for a facade call without a Word renderer."""
    import nbformat

    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    parts: list[Part] = []
    for section in sections:
        nb = nbformat.read(str(folder / f"{section}.ipynb"), as_version=4)
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & _SKIPPED_TAGS:
                continue
            if cell.cell_type == "markdown":
                parts.append(Part(section, markdown=str(cell.source)))
            elif cell.cell_type == "code":
                call = facade_call(str(cell.source))
                if call is None:
                    continue
                if call[0] not in RENDERERS:
                    raise WordError(
                        f"The notebook {section}.ipynb calls sc.{call[0]}(), which the Word "
                        "paper cannot show",
                        where=f"notebooks/{section}.ipynb",
                        fix=f"add a Word renderer for {call[0]} to RENDERERS in "
                        "scorecard_lib/report/word/renderers.py",
                    )
                parts.append(Part(section, call=call))
    return parts
