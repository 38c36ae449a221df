"""``scorecard publish QUARTER``: the final build of a quarter, added to the archive for good.

Drafts (``scorecard run``) can be rebuilt as often as anyone likes; a published record is what
the Cabinet read and is never rebuilt or rewritten (``archive.py``). :func:`publish_quarter`:

1. refuses when the quarter is already published, unless a reason to supersede the standing
   record is given (then the new record goes beside it as ``QUARTER.vN``); refuses to
   supersede a quarter that is not published, and an empty reason;
2. refuses code with uncommitted changes (or no git checkout): the audit re-runs a record with
   the code of the commit its manifest names, which must hold exactly that code;
3. runs the pre-publish checks (:data:`PRE_PUBLISH_CHECKS`, :func:`pre_publish_problems`)
   and refuses, naming every problem, before anything is built;
4. builds the quarter without the build cache into a staging folder inside the archive, with
   the manifest's ``publication`` block, and renames it into place: the archive never holds
   half a record. A lock (``ARCHIVE/.publish.lock``) keeps two publications from racing for
   the same version;
5. rebuilds the archive page, ``ARCHIVE/index.html`` (``archive_index.py``), which is no part
   of any record.

The report and notebooks are byte for byte what ``scorecard run`` makes of the same inputs
and code; only the manifest has the extra ``publication`` block.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock
from filelock import Timeout as LockTimeout

from scorecard_lib.build.executors import EventCallback
from scorecard_lib.core.errors import InputError, LockedError, PublishedError, ScorecardError
from scorecard_lib.core.paths import CURRENT_DIR, display_path, resolve
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs.archive import (
    ARCHIVE_DIR,
    PublishedRecord,
    current_record,
    folder_name,
    published_records,
)

#: A pre-publish check: the quarter and its parameters (``params/QUARTER.yaml``, checked, plus
#: ``data_dir``: the data folder, absolute) in, a list of problems out, each a plain sentence
#: naming what is missing and where.
PrePublishCheck = Callable[[Quarter, Mapping[str, Any]], list[str]]

LOCK_NAME = ".publish.lock"
LOCK_TIMEOUT = 1.0


def _cover_fields(quarter: Quarter, params: Mapping[str, Any]) -> list[str]:
    """The report's cover names the council and carries a title: both must be given."""
    return [
        f"the parameters file params/{quarter.id}.yaml has no {field} (the report's cover "
        f"shows it): add '{field}: ...'"
        for field in ("title", "council")
        if not str(params.get(field) or "").strip()
    ]


#: The checks every publication must pass (add a function here to add a check).
def _paper_text(quarter: Quarter, params: Mapping[str, Any]) -> list[str]:
    """The Cabinet paper's officer-written fields (``params/QUARTER.paper.yaml``) must all be
    written: a draft shows a "to be completed" box for each missing one, a publication may
    not (``paper.missing_for_publication`` names each, file and key)."""
    from scorecard_lib.core.errors import ValidationError
    from scorecard_lib.inputs import loading
    from scorecard_lib.rules import paper

    try:
        text, name = loading.load_paper(quarter, params.get("data_dir") or None)
    except ValidationError as exc:
        return [p.describe() for p in exc.problems]
    return paper.missing_for_publication(text, name)


PRE_PUBLISH_CHECKS: list[PrePublishCheck] = [_cover_fields, _paper_text]


def pre_publish_problems(
    quarter: Quarter,
    params: Mapping[str, Any],
    checks: Sequence[PrePublishCheck] | None = None,
) -> list[str]:
    """Every problem the pre-publish checks find (empty: fit to publish)."""
    problems: list[str] = []
    for check in PRE_PUBLISH_CHECKS if checks is None else checks:
        problems += check(quarter, params)
    return problems


class NotFitToPublish(ScorecardError):
    """The pre-publish checks found problems (exit 2); nothing was published."""

    def __init__(self, quarter: Quarter, problems: Sequence[str]) -> None:
        self.quarter = quarter
        self.problems = list(problems)
        super().__init__(f"{quarter.prose} ({quarter.id}) cannot be published yet")

    def message(self) -> str:
        lines = [
            f"{self.quarter.prose} ({self.quarter.id}) cannot be published yet; nothing was "
            "published:"
        ]
        lines += [f"- {p}" for p in self.problems]
        lines.append("How to fix: correct each, check the draft with 'scorecard run "
                     f"{self.quarter.id}', then publish again.")  # fmt: skip
        return "\n".join(lines)


@dataclass(frozen=True)
class Published:
    """What :func:`publish_quarter` did: the record it added (``record.folder``) and the one
    it superseded, if any."""

    record: PublishedRecord
    superseded: PublishedRecord | None
    seconds: float

    @property
    def folder(self) -> Path:
        return self.record.folder


def _check_code_committed() -> None:
    from scorecard_lib.report.manifest import code_version

    code = code_version()
    if not code.get("git_commit"):
        raise PublishedError(
            "The code is not in a git checkout, so the published record could not name the "
            "commit that made it and could never be audited with that code",
            fix="publish from a git clone of the project",
        )
    if code.get("git_dirty"):
        raise PublishedError(
            "The code (scorecard_lib/, notebooks/ or pyproject.toml) has uncommitted changes; "
            "a published record must name a commit that holds exactly the code that made it",
            fix="commit (or undo) the changes ('git status' lists them), then publish again",
        )


def publish_quarter(
    quarter: str | Quarter,
    *,
    data_dir: Path | None = None,
    archive_dir: Path | None = None,
    supersede_reason: str | None = None,
    jobs: int | None = None,
    timeout: int | None = 600,
    on_event: EventCallback | None = None,
    require_committed_code: bool = True,
    checks: Sequence[PrePublishCheck] | None = None,
    on_building: Callable[[str], None] | None = None,
    docx: bool = False,
    docx_template: Path | None = None,
) -> Published:
    """Publish ``quarter`` into the archive (see the module docstring). ``supersede_reason``
    publishes a new version beside the standing record; ``require_committed_code=False`` is
    for tests that publish from a working tree under change. ``on_building`` is called with
    the new record's folder name once every check has passed and the build starts. ``docx``
    adds the Word paper to the record (``report/word/``), on ``docx_template`` when given; a
    template that cannot be used is refused before anything is built."""
    started = time.perf_counter()
    q = parse_quarter(quarter)
    archive = resolve(archive_dir, ARCHIVE_DIR).resolve()
    _refusal(q, current_record(q, archive), supersede_reason, archive)
    if docx or docx_template is not None:
        from scorecard_lib.report.word import word_options

        word_options(True, docx_template)  # a bad template: one message, exit 2, nothing built
    if require_committed_code:
        _check_code_committed()

    from scorecard_lib.core.paths import DATA_DIR
    from scorecard_lib.inputs import loading

    data = resolve(data_dir, DATA_DIR).resolve()
    q = loading.check_quarter(q, data)
    params = loading.load_params(q, data)
    # the checks receive the parameters as the notebooks do, data folder included
    problems = pre_publish_problems(q, {**params, "data_dir": str(data)}, checks)
    if problems:
        raise NotFitToPublish(q, problems)

    archive.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(archive / LOCK_NAME), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except LockTimeout:
        raise LockedError(
            "Another publication is in progress in this archive",
            where=display_path(archive / LOCK_NAME, root=CURRENT_DIR, outside="absolute"),
            fix="wait for it to finish, then publish again",
        ) from None
    try:
        standing = current_record(q, archive)  # again, now that no one else can publish
        _refusal(q, standing, supersede_reason, archive)
        version = 1 if standing is None else standing.version + 1
        name = folder_name(q, version)
        final = archive / name
        if final.exists():
            raise PublishedError(
                f"The archive already has a folder {name} that is not a complete record",
                where=display_path(final, root=CURRENT_DIR, outside="absolute"),
                fix="find out how it got there (git status); the archive is never overwritten",
            )
        block: dict[str, Any] = {"version": version}
        if standing is not None:
            block.update(supersedes=standing.name, reason=str(supersede_reason).strip())
        staging = archive / f".staging-{name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        if on_building is not None:
            on_building(name)
        try:
            from scorecard_lib.build.runner import run_quarter

            result = run_quarter(
                q,
                data_dir=data,
                out_dir=staging,
                jobs=jobs,
                on_event=on_event,
                timeout=timeout,
                publication=block,
                docx=docx or docx_template is not None,
                docx_template=docx_template,
            )
            result.out_folder.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _rebuild_archive_page(archive, name)
    finally:
        lock.release()
    added = next(r for r in published_records(archive) if r.name == name)
    return Published(record=added, superseded=standing, seconds=time.perf_counter() - started)


def _rebuild_archive_page(archive: Path, name: str) -> None:
    """``index.html`` at the top of the archive lists the record just added (and every other,
    ``archive_index.py``). The record stands either way: a page that cannot be written is
    said plainly, with how to write it once the problem is fixed."""
    from scorecard_lib.publish.archive_index import write_archive_index

    try:
        write_archive_index(archive)
    except ScorecardError as exc:
        raise PublishedError(
            f"{name} was published, but the archive page could not be rebuilt: "
            f"{exc.message().rstrip('.')}",
            where=display_path(archive / "index.html", root=CURRENT_DIR, outside="absolute"),
            fix="correct that, then run 'scorecard index' (the record itself is complete)",
        ) from exc


def _refusal(
    q: Quarter, standing: PublishedRecord | None, reason: str | None, archive: Path
) -> None:
    if reason is not None and not reason.strip():
        raise InputError(
            "--supersede needs a reason: the new record's manifest says why it replaces the "
            "old one",
            fix='give it with --reason "...", e.g. --reason "Corrected CF03 figure"',
        )
    if standing is None and reason is not None:
        raise PublishedError(
            f"{q.prose} ({q.id}) has not been published, so there is nothing to supersede",
            where=display_path(archive, root=CURRENT_DIR, outside="absolute"),
            fix=f"publish it with 'scorecard publish {q.id}' (without --supersede)",
        )
    if standing is not None and reason is None:
        shown = display_path(standing.folder, root=CURRENT_DIR, outside="absolute")
        raise PublishedError(
            f"{q.prose} ({q.id}) is already published as {shown}, and a "
            "published record is never rebuilt or overwritten",
            where=shown,
            fix=f"to publish a correction beside it run 'scorecard publish {q.id} --supersede "
            '--reason "what was wrong"\' (the old record is kept as it is); to check the '
            f"published record run 'scorecard audit {q.id}'",
        )
