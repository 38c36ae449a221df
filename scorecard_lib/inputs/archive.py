"""The archive of published records: what the Cabinet read, kept as it was on the day.

``scorecard run`` writes drafts into ``outputs/`` (ignored by git, replaced on every run).
``scorecard publish`` adds a record to the archive, a committed folder (``published/`` by
default), and nothing ever rewrites a record there:

* ``published/QUARTER/`` is the first publication of a quarter;
* a correction is published beside it as ``published/QUARTER.v2/`` (then ``.v3``, ...); its
  manifest carries ``"publication": {"version": 2, "supersedes": "QUARTER", "reason": ...}``.
  The first publication's manifest has ``{"version": 1}``; records made before publishing
  was a separate step have no block and count as version 1.

This module only reads the archive (it stays light: no pandas); ``publishing.py`` writes it.
Every reader of a record's ``manifest.json`` (the archive page, the audit, the listing here)
goes through :func:`read_record_manifest`, so a damaged or hostile manifest gets the same
plain message everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard_lib.core.errors import InputError, QuarterError
from scorecard_lib.core.paths import CURRENT_DIR, PROJECT_ROOT, display_path, resolve
from scorecard_lib.core.quarters import Quarter, parse_quarter

#: The committed archive of published records.
ARCHIVE_DIR: Path = PROJECT_ROOT / "published"
MANIFEST_NAME = "manifest.json"
_VERSIONED = re.compile(r"(?P<quarter>[^/]+?)(?:\.v(?P<version>[0-9]+))?")


@dataclass(frozen=True)
class PublishedRecord:
    """One record in the archive. ``superseded_by``: the folder name of the next version of
    the same quarter, if any (None for the current record)."""

    quarter: Quarter
    folder: Path
    version: int
    supersedes: str | None = None
    reason: str | None = None
    superseded_by: str | None = None

    @property
    def name(self) -> str:
        """The folder name, e.g. ``2016-17-Q4`` or ``2016-17-Q4.v2``."""
        return self.folder.name

    @property
    def current(self) -> bool:
        return self.superseded_by is None


def folder_name(quarter: Quarter, version: int) -> str:
    """``QUARTER`` for version 1, ``QUARTER.vN`` after."""
    return quarter.id if version == 1 else f"{quarter.id}.v{version}"


def parse_folder_name(name: str) -> tuple[Quarter, int] | None:
    """The quarter and version a record folder name stands for, or None if it names none."""
    m = _VERSIONED.fullmatch(name)
    if m is None:
        return None
    try:
        q = parse_quarter(m["quarter"])
    except QuarterError:
        return None
    version = int(m["version"]) if m["version"] else 1
    if q.id != m["quarter"] or (
        m["version"] is not None and (version < 2 or m["version"] != str(version))
    ):
        return None
    return q, version


def _unreadable_because(exc: BaseException) -> str:
    """Why a manifest could not be read, in a few words (never the file's contents)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, RecursionError):
        return "its JSON is nested too deeply"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


def read_record_manifest(folder: Path) -> dict[str, Any]:
    """The ``manifest.json`` of the record in ``folder``, a JSON object. A record is input
    like any other (it may be damaged, or edited by hand), so InputError (exit 2), naming
    the file, when it is missing, cannot be read as JSON or is not a JSON object."""
    path = Path(folder) / MANIFEST_NAME
    fix = "restore the record's manifest.json from version control: a record is never edited"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(
            f"The manifest of the record {path.parent.name} cannot be read "
            f"({_unreadable_because(exc)})",
            where=display_path(path, root=CURRENT_DIR, outside="given"),
            fix=fix,
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"The manifest of the record {path.parent.name} is not a JSON object",
            where=display_path(path, root=CURRENT_DIR, outside="given"),
            fix=fix,
        )
    return data


def _publication(folder: Path) -> dict[str, Any]:
    """The ``publication`` block of a record's manifest; empty when there is none or the
    manifest cannot be read (listing the archive never fails on one damaged record)."""
    try:
        data = read_record_manifest(folder)
    except InputError:
        return {}
    block = data.get("publication")
    return block if isinstance(block, dict) else {}


def published_records(archive_dir: Path | None = None) -> list[PublishedRecord]:
    """Every record in the archive (a folder with a manifest), oldest quarter first and each
    quarter's versions in order. Folders that name no quarter are not records."""
    archive = resolve(archive_dir, ARCHIVE_DIR)
    found: list[tuple[Quarter, int, Path]] = []
    if archive.is_dir():
        for child in archive.iterdir():
            parsed = parse_folder_name(child.name)
            if parsed is not None and (child / MANIFEST_NAME).is_file():
                found.append((parsed[0], parsed[1], child))
    found.sort(key=lambda item: (item[0], item[1]))
    records: list[PublishedRecord] = []
    for i, (q, version, folder) in enumerate(found):
        block = _publication(folder)
        later = found[i + 1] if i + 1 < len(found) and found[i + 1][0] == q else None
        supersedes, reason = block.get("supersedes"), block.get("reason")
        records.append(
            PublishedRecord(
                quarter=q,
                folder=folder,
                version=version,
                supersedes=supersedes if isinstance(supersedes, str) else None,
                reason=reason if isinstance(reason, str) else None,
                superseded_by=later[2].name if later else None,
            )
        )
    return records


def quarter_records(
    quarter: str | Quarter, archive_dir: Path | None = None
) -> list[PublishedRecord]:
    """Every version of ``quarter`` in the archive, oldest first."""
    q = parse_quarter(quarter)
    return [r for r in published_records(archive_dir) if r.quarter == q]


def current_record(
    quarter: str | Quarter, archive_dir: Path | None = None
) -> PublishedRecord | None:
    """The record of ``quarter`` that stands (its latest version), or None if unpublished."""
    versions = quarter_records(quarter, archive_dir)
    return versions[-1] if versions else None


def current_records(archive_dir: Path | None = None) -> list[PublishedRecord]:
    """The standing record of every published quarter, oldest first."""
    return [r for r in published_records(archive_dir) if r.current]


def record_at(folder: Path) -> PublishedRecord | None:
    """The archive record whose folder is ``folder`` (any version), or None."""
    folder = Path(folder).expanduser().resolve()
    for r in published_records(folder.parent):
        if r.folder.resolve() == folder:
            return r
    return None
