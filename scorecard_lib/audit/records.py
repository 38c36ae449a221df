"""The published record the audit reads: find it, read its manifest, check its files against
the manifest, copy it under the publishing lock, and keep re-runs where ``--keep`` says.

A record is input like any other: it may have been edited by hand, so each check says what is
wrong in words and bad input raises a ScorecardError (exit 2).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.audit.findings import AUDIT_ROOTS, Finding, short_hash
from scorecard_lib.core.errors import InputError, PublishedError
from scorecard_lib.core.paths import DATA_DIR, OUTPUTS_DIR, PROJECT_ROOT, display_path, resolve
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs.archive import (
    ARCHIVE_DIR,
    current_record,
    current_records,
    parse_folder_name,
    read_record_manifest,
)
from scorecard_lib.report import manifest as manifest_mod
from scorecard_lib.report import record


def published_quarters(archive_dir: Path | None = None) -> list[Quarter]:
    """Quarters with a published record in the archive, oldest first."""
    return [r.quarter for r in current_records(archive_dir)]


def find_record(
    quarter: str | Quarter | None = None,
    *,
    archive_dir: Path | None = None,
    folder: Path | None = None,
) -> tuple[Quarter, Path]:
    """The quarter and folder to audit: ``folder`` (any record, e.g. a superseded version),
    else the standing record of ``quarter`` in the archive. InputError (exit 2) if none."""
    if folder is not None:
        folder = Path(folder).expanduser().resolve()
        parsed = parse_folder_name(folder.name)
        if parsed is None or not (folder / record.MANIFEST_NAME).is_file():
            shown = display_path(folder, root=AUDIT_ROOTS, outside="absolute")
            raise InputError(
                f"{shown} is not a published record (a folder named QUARTER or "
                "QUARTER.vN holding a manifest.json)",
                fix="give a folder of the archive, e.g. published/2016-17-Q4, or a quarter",
            )
        return parsed[0], folder
    q = parse_quarter(quarter or "")
    archive = resolve(archive_dir, ARCHIVE_DIR).resolve()
    found = current_record(q, archive)
    if found is None:
        have = ", ".join(x.id for x in published_quarters(archive)) or "none"
        raise InputError(
            f"{q.prose} ({q.id}) has no published record to audit",
            where=display_path(archive, root=AUDIT_ROOTS, outside="absolute"),
            fix=f"audit a published quarter ({have}), give the archive with --archive, or "
            f"publish it first with 'scorecard publish {q.id}'",
        )
    return q, found.folder


def load_record(quarter: Quarter, folder: Path) -> dict[str, Any]:
    """The published manifest in ``folder`` (read by the archive's one manifest reader);
    InputError (exit 2) when there is none, it cannot be read, or it is not a scorecard
    manifest for ``quarter``."""
    path = folder / record.MANIFEST_NAME
    if not path.is_file():
        raise InputError(
            f"{quarter.prose} ({quarter.id}) has no published record to audit",
            where=display_path(path, root=AUDIT_ROOTS, outside="absolute"),
            fix="audit a published quarter, or give the archive with --archive",
        )
    data = read_record_manifest(folder)
    problems = []
    if data.get("quarter") != quarter.id:
        problems.append(f"it is for quarter {data.get('quarter')!r}, not {quarter.id}")
    for key, kind in (("inputs", list), ("code", dict), ("outputs", list)):
        if not isinstance(data.get(key), kind):
            problems.append(f"'{key}' is missing or malformed")
    for entry in data.get("inputs") if isinstance(data.get("inputs"), list) else []:
        if not (isinstance(entry, dict) and {"path", "sha256"} <= set(entry)):
            problems.append("an input entry has no path or sha256")
            break
    if problems:
        raise InputError(
            f"The published manifest of {quarter.id} is not a scorecard manifest: "
            + "; ".join(problems),
            where=display_path(path, root=AUDIT_ROOTS, outside="absolute"),
            fix="restore it from version control",
        )
    return data


def recorded_data_dir(manifest: Mapping[str, Any]) -> Path:
    """The data folder the record was built from (its ``data_dir`` parameter)."""
    param = str((manifest.get("parameters") or {}).get("data_dir") or "")
    if not param:
        return DATA_DIR
    path = Path(param)
    return path if path.is_absolute() else PROJECT_ROOT / path


def check_published_files(folder: Path, manifest: Mapping[str, Any]) -> list[Finding]:
    """Every published file against the sha256 its manifest records."""
    found = []
    recorded = {
        str(e.get("path")): str(e.get("sha256"))
        for e in manifest.get("outputs") or []
        if isinstance(e, dict)
    }
    present = {n for n in record.record_files(folder) if n != record.MANIFEST_NAME}
    for name in sorted(set(recorded) | present):
        path = folder / name
        if name not in present:
            found.append(Finding("record", f"the published file {name} is missing"))
        elif name not in recorded:
            found.append(
                Finding("record", f"{name} is in the record folder but not in its manifest")
            )
        elif manifest_mod.sha256_file(path) != recorded[name]:
            found.append(
                Finding(
                    "record",
                    f"{name} was changed after it was published: its sha256 "
                    f"({short_hash(manifest_mod.sha256_file(path))}) no longer matches the "
                    f"manifest ({short_hash(recorded[name])})",
                )
            )
    return found


def check_keep_folder(keep: Path, records: Path, *, fresh: bool = True) -> Path:
    """The folder ``--keep DIR`` names, resolved, once it is known to be safe to write the
    re-runs into: never a published record or a folder inside one (any folder at or above
    DIR holding a ``manifest.json``), never the folder of records (``records``, the archive
    ``published/``, the drafts' ``outputs/``) or a folder inside them, and (``fresh``) never
    an existing folder that already holds something. PublishedError (exit 2) otherwise,
    before anything is run."""
    target = Path(keep).expanduser().resolve()
    fix = "give --keep a new or empty folder outside the published records, e.g. /tmp/audit-kept"
    for above in (target, *target.parents):
        if (above / record.MANIFEST_NAME).is_file():
            raise PublishedError(
                "--keep names a folder inside a published record, which the audit must never "
                "change",
                where=display_path(above, root=AUDIT_ROOTS, outside="absolute"),
                fix=fix,
            )
    archives = {Path(records).resolve(), ARCHIVE_DIR.resolve(), OUTPUTS_DIR.resolve()}
    if any(above in archives for above in (target, *target.parents)):
        raise PublishedError(
            "--keep names the folder of published records (or a folder inside it), where the "
            "re-run could replace a record",
            where=display_path(target, root=AUDIT_ROOTS, outside="absolute"),
            fix=fix,
        )
    if fresh and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PublishedError(
            "--keep names a folder that already holds files, which the re-run would overwrite",
            where=display_path(target, root=AUDIT_ROOTS, outside="absolute"),
            fix=fix,
        )
    return target


def keep_copy(src: Path, dst: Path) -> None:
    """Copy a re-run into the --keep folder; never over something already there."""
    if dst.exists():
        raise PublishedError(
            "--keep: the folder for this quarter's re-run already exists and was not replaced",
            where=display_path(dst, root=AUDIT_ROOTS, outside="absolute"),
            fix="give --keep a new or empty folder",
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".*"))


def snapshot_record(quarter: Quarter, folder: Path, dest: Path) -> dict[str, Any]:
    """Copy the record in ``folder`` (manifest, report, notebooks) to ``dest`` while holding
    the lock ``scorecard publish`` holds while it adds a record beside it, and return its
    manifest. The audit reads only this copy, so it never compares a manifest with files of
    another moment. LockedError (exit 2) when a publication is in progress."""
    from filelock import FileLock, Timeout

    from scorecard_lib.core.errors import LockedError
    from scorecard_lib.publish.publishing import LOCK_NAME, LOCK_TIMEOUT

    lock: FileLock | None = FileLock(str(folder.parent / LOCK_NAME), timeout=LOCK_TIMEOUT)
    try:
        assert lock is not None
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"A publication is in progress beside the record of {quarter.prose} ({quarter.id}), "
            "so it cannot be audited now",
            where=display_path(folder.parent / LOCK_NAME, root=AUDIT_ROOTS, outside="absolute"),
            fix="wait for it to finish, then audit again",
        ) from None
    except OSError:
        lock = None  # a folder we may not write to: nobody can publish into it either
    try:
        recorded = load_record(quarter, folder)
        dest.mkdir(parents=True)
        for name in record.record_files(folder):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / name, dest / name)
        copied = record.read_json(dest / record.MANIFEST_NAME)
    finally:
        if lock is not None:
            lock.release()
    if copied != recorded:  # changed between reading and copying (only without the lock)
        raise LockedError(
            f"The published record of {quarter.id} changed while it was being read",
            where=display_path(folder, root=AUDIT_ROOTS, outside="absolute"),
            fix="audit again when nobody is changing it",
        )
    return recorded
