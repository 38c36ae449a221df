"""The report's record of how it was made: the provenance mapping as readable HTML.

The runner passes the provenance it also writes to ``manifest.json`` (quarter, parameters,
input files with their fingerprints, code version, environment, the command). This module
turns it into the definition list under "How this report was made": known keys first, then
the rest sorted; fingerprints shortened; long name/value lists as collapsed tables. The same
mapping always gives the same markup, whatever order its keys arrive in.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from markupsafe import Markup

from scorecard_lib.core.paths import display_path
from scorecard_lib.report.notebook_markdown import esc as _esc
from scorecard_lib.report.notebook_markdown import table_wrap_open

_HEX_HASH = re.compile(r"^[0-9a-f]{32,128}$")

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
        f"{table_wrap_open(caption)}"
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
        f"{table_wrap_open(caption)}"
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
