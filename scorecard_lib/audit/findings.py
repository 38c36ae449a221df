"""What an audit finds, and the few ways it says a difference in words.

Every comparison of the audit (the record, its inputs, the results, the notebooks, the report)
returns :class:`Finding` lines; the helpers here keep their wording alike: a value as the
report would say it, a long line cut to where it changes, a list cut at ``MAX_DETAILS``, the
lines or CSV cells that changed.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scorecard_lib.core.paths import CURRENT_DIR, PROJECT_ROOT
from scorecard_lib.report import manifest as manifest_mod

EXIT_IDENTICAL, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2
#: Detail lines shown per file or per kind of result before "... and N more".
MAX_DETAILS = 20
#: Characters of a changed line of text shown either side of where it changes.
CONTEXT = 70
#: The audit names a path from the current directory, else from the project root
#: (``core.paths.display_path``), else in full.
AUDIT_ROOTS = (CURRENT_DIR, PROJECT_ROOT)

#: Order in which findings are printed, with their headings.
TOPICS: tuple[tuple[str, str], ...] = (
    ("record", "Published record"),
    ("inputs", "Inputs"),
    ("code", "Code"),
    ("environment", "Environment"),
    ("rerun", "Re-run"),
    ("results", "Results"),
    ("manifest", "Manifest"),
    ("outputs", "Outputs"),
)


@dataclass(frozen=True)
class Finding:
    """One thing the audit found. ``differs``: counts as a difference (exit 1); otherwise it
    is information (for example: same code, recorded at another commit)."""

    topic: str
    text: str
    differs: bool = True


def short_hash(sha: object) -> str:
    """The first characters of a sha256 or commit id, as the manifest's short form; "none"."""
    return str(sha)[: manifest_mod.SHORT_HASH] if sha else "none"


def show_value(value: Any) -> str:
    """A recorded figure in words: 66.3, 1304, "no value", "yes"/"no", a quoted text."""
    if value is None:
        return "no value"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):  # 12 significant digits: 47.52, not 47.52000000000001
        text = f"{value:.12g}"
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, int):
        return str(value)
    return str(value)


def clip_pair(old: str, new: str, context: int = CONTEXT) -> tuple[str, str]:
    """Two long lines cut down to where they differ, with ``context`` characters around."""
    if len(old) <= 2 * context + 40 and len(new) <= 2 * context + 40:
        return old, new
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while (
        end < min(len(old), len(new)) - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]
    ):
        end += 1

    def cut(text: str) -> str:
        lo = max(0, start - context)
        hi = min(len(text), len(text) - end + context)
        return ("..." if lo > 0 else "") + text[lo:hi] + ("..." if hi < len(text) else "")

    return cut(old), cut(new)


def limit(lines: list[str], what: str) -> list[str]:
    """At most ``MAX_DETAILS`` lines, then one saying how many more ``what``."""
    if len(lines) <= MAX_DETAILS:
        return lines
    more = len(lines) - MAX_DETAILS
    return [*lines[:MAX_DETAILS], f"... and {more} more difference{'s' if more > 1 else ''} {what}"]


def _clip(text: str, width: int = 2 * CONTEXT + 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def text_diff(old: Sequence[str], new: Sequence[str], unit: str = "text") -> list[str]:
    """Changed lines as 'old' -> 'new' (when they are alike), else removed and added lines,
    consecutive ones together."""
    lines = []
    matcher = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a, b = list(old[i1:i2]), list(new[j1:j2])
        removed: list[str] = []
        added: list[str] = []
        for k in range(max(len(a), len(b))):
            o = a[k] if k < len(a) else None
            n = b[k] if k < len(b) else None
            if o is not None and n is not None and _alike(o, n):
                o, n = clip_pair(o, n)
                lines.append(f"{unit}: '{o}' -> '{n}'")
                continue
            if o is not None:
                removed.append(o)
            if n is not None:
                added.append(n)
        for what, items in (("removed", removed), ("added", added)):
            if items:
                shown = " / ".join(f"'{_clip(x)}'" for x in items[:4])
                more = f" and {len(items) - 4} more lines" if len(items) > 4 else ""
                lines.append(f"{unit} {what}: {shown}{more}")
    return lines


def _alike(a: str, b: str) -> bool:
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return m.quick_ratio() >= 0.5 and m.ratio() >= 0.5


def csv_diff(old_text: str, new_text: str) -> list[str]:
    """The rows added or removed and the cells changed between two CSV texts, each row named
    by its shortest unique leading columns; line by line when the headers differ."""
    old_rows = list(csv.reader(io.StringIO(old_text)))
    new_rows = list(csv.reader(io.StringIO(new_text)))
    if not old_rows or not new_rows or old_rows[0] != new_rows[0]:
        return text_diff(old_text.splitlines(), new_text.splitlines(), "line")
    header = old_rows[0]

    def keyed(rows: list[list[str]]) -> tuple[int, dict[tuple[str, ...], list[str]]]:
        for width in range(1, len(header) + 1):
            keys = [tuple(r[:width]) for r in rows]
            if len(set(keys)) == len(keys):
                return width, dict(zip(keys, rows, strict=True))
        return len(header), {(str(i),): r for i, r in enumerate(rows)}

    w_old, a = keyed(old_rows[1:])
    w_new, b = keyed(new_rows[1:])
    width = max(w_old, w_new)
    if width != w_old or width != w_new:
        w_old, a = width, {tuple(r[:width]): r for r in old_rows[1:]}
        b = {tuple(r[:width]): r for r in new_rows[1:]}
    lines = []
    for key in list(a) + [k for k in b if k not in a]:
        label = ", ".join(key)
        if key not in b:
            lines.append(f"row {label} was removed")
        elif key not in a:
            lines.append(f"row {label} was added")
        else:
            for col, o, n in zip(header, a[key], b[key], strict=False):
                if o != n:
                    lines.append(
                        f"row {label}, column '{col}': {o or '(blank)'} -> {n or '(blank)'}"
                    )
    return lines


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as one level with dotted keys (``code.git_commit``), to name a field."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}
