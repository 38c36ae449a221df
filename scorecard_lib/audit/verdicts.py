"""``scorecard audit QUARTER``: re-run a published record and say, in plain words, what differs.

A published record (``published/QUARTER/``, see :mod:`scorecard_lib.inputs.archive`) is what
the Cabinet read. An auditor asks two questions of it, and :func:`audit_quarter` answers
either:

* **Is this the report, and can it be reproduced?** (``code="recorded"``, the default.) The
  quarter is re-run with the code its manifest names: a ``git worktree`` of the recorded
  commit, run by this Python with the current data. It must reproduce the published bytes.
  If the commit is not in the repository the audit says so and stops (exit 2): comparing with
  other code would not answer the question.
* **What would today's code say differently?** (``code="current"``.) The quarter is re-run
  with the working tree's code and every published figure, rating, direction, sentence and
  risk band it would change is listed (:func:`results.result_changes` gives the recorded
  results that change, field by field, for ``make test``).

Either way the audit:

1. checks the record itself: every published file against the sha256 its manifest records;
2. checks every input file against the manifest's sha256 and names each changed, added or
   removed file (and, when the recorded git commit holds the published version of a changed
   file, the rows and columns that changed);
3. names every environment difference (Python and each pinned package); with the current
   code, also the code difference (``source_sha256``, package version; a different git commit
   with the same source hash is information, not a difference); with the recorded code, that
   the checked-out commit holds the recorded code;
4. re-executes the quarter in a temporary folder and compares it with the published record:
   first the results the manifest records (each indicator's value, reference, rating and
   direction; each risk's scores and band; the counts), then each section notebook cell by
   cell (table cells by caption, row and column; the data table behind each chart, then the
   chart's drawing; the text), then the report.

The result is identical (exit 0) when every published file is reproduced byte for byte, the
git fields aside (see :mod:`scorecard_lib.report.record`); different (exit 1) otherwise. A quarter
with no published record, an unreadable manifest, a missing data folder or (with the recorded
code) a missing commit is bad input (exit 2). :func:`audit_all` audits the standing record of
every published quarter.

The pieces: :mod:`records` (the record), :mod:`provenance` (inputs, code, environment),
:mod:`reruns`, :mod:`results`, :mod:`outputs_diff` (with :mod:`notebook_diff` and
:mod:`html_diff`); this module runs them in order and gives the verdict.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorecard_lib.audit import reruns
from scorecard_lib.audit.findings import (
    AUDIT_ROOTS,
    EXIT_BAD_INPUT,
    EXIT_DIFFERENT,
    EXIT_IDENTICAL,
    TOPICS,
    Finding,
    short_hash,
)
from scorecard_lib.audit.outputs_diff import compare_outputs
from scorecard_lib.audit.provenance import check_inputs, compare_code, compare_environment
from scorecard_lib.audit.records import (
    check_keep_folder,
    check_published_files,
    find_record,
    keep_copy,
    recorded_data_dir,
    snapshot_record,
)
from scorecard_lib.audit.reruns import AuditEvent, recorded_code_problem
from scorecard_lib.audit.results import (
    ResultChange,
    compare_manifest_fields,
    compare_results,
    result_changes,
    unexplained_manifest_difference,
)
from scorecard_lib.core.errors import InputError, ScorecardError
from scorecard_lib.core.paths import display_path, resolve, resolve_given
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs.archive import ARCHIVE_DIR, current_records
from scorecard_lib.report import manifest as manifest_mod
from scorecard_lib.report import record

#: The two ways to re-run a record: with the code its manifest names, or with today's.
RECORDED, CURRENT = "recorded", "current"


@dataclass
class AuditResult:
    """The outcome of auditing one quarter."""

    quarter_id: str
    folder: Path
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # bad input: the message (exit 2)
    verdict: str = ""
    code: str = "recorded"  # which code re-ran it: "recorded" or "current"
    #: Recorded results the re-run states differently (``manifest.results``), field by field.
    result_changes: list[ResultChange] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.error is None and not any(f.differs for f in self.findings)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_BAD_INPUT
        return EXIT_IDENTICAL if self.identical else EXIT_DIFFERENT

    def differences(self, topic: str | None = None) -> list[str]:
        return [f.text for f in self.findings if f.differs and topic in (None, f.topic)]

    def text(self) -> str:
        """The audit as plain words for a person at a terminal."""
        head = f"Audit of {_prose(self.quarter_id)} ({self.quarter_id})"
        if self.error is not None:
            return f"{head}: could not be audited.\n{self.error}"
        how = "the code that made it" if self.code == "recorded" else "the current code"
        folder = display_path(self.folder, root=AUDIT_ROOTS, outside="absolute")
        lines = [f"{head}, published record {folder}, re-run with {how}"]
        for topic, title in TOPICS:
            found = [f for f in self.findings if f.topic == topic]
            if not found:
                continue
            lines.append(f"{title}:")
            for f in found:
                first, *rest = f.text.splitlines() or [""]
                lines.append(f"  - {first}")
                lines.extend(f"    {r}" for r in rest)
        state = "IDENTICAL" if self.identical else "DIFFERENT"
        lines.append(f"Verdict: {state}. {self.verdict}".rstrip())
        lines.append(f"(Audit took {self.seconds:.1f} s.)")
        return "\n".join(lines)


def _prose(quarter_id: str) -> str:
    try:
        return parse_quarter(quarter_id).prose
    except ScorecardError:
        return quarter_id


def audit_quarter(
    quarter: str | Quarter | None = None,
    *,
    archive_dir: Path | None = None,
    folder: Path | None = None,
    data_dir: Path | None = None,
    jobs: int | None = None,
    code: str = RECORDED,
    keep: Path | None = None,
    on_event: AuditEvent | None = None,
    keep_checked: bool = False,
) -> AuditResult:
    """Audit one published record (see the module docstring): the standing record of
    ``quarter`` in the archive, or the record in ``folder``. ``code`` is ``"recorded"`` (re-run
    with the code of the manifest's commit, which must reproduce the published bytes) or
    ``"current"`` (re-run with the working tree's code: what today's code would change). Bad
    input (no record, an unreadable manifest, no data folder, the recorded commit missing)
    raises a ScorecardError (exit 2)."""
    if code not in (RECORDED, CURRENT):
        raise ValueError(f"code must be {RECORDED!r} or {CURRENT!r}, not {code!r}")
    started = time.perf_counter()
    q, folder = find_record(quarter, archive_dir=archive_dir, folder=folder)
    if keep is not None:
        keep = check_keep_folder(keep, folder.parent, fresh=not keep_checked)
    with tempfile.TemporaryDirectory(prefix=f"scorecard-audit-{q.id}-record-") as snap:
        snapshot = Path(snap) / "record"
        recorded = snapshot_record(q, folder, snapshot)
        result = _audit_record(q, folder, snapshot, recorded, data_dir, jobs, code, keep, on_event)
    result.seconds = time.perf_counter() - started
    return result


def _audit_record(
    q: Quarter,
    folder: Path,
    snapshot: Path,
    recorded: dict[str, Any],
    data_dir: Path | None,
    jobs: int | None,
    code: str,
    keep: Path | None,
    on_event: AuditEvent | None,
) -> AuditResult:
    """The audit of the record copied to ``snapshot`` (shown as ``folder``)."""
    data = resolve_given(data_dir) if data_dir else recorded_data_dir(recorded)
    if not data.is_dir():
        shown = display_path(data, root=AUDIT_ROOTS, outside="absolute")
        raise InputError(
            f"The data folder the record was built from is not there ({shown})",
            fix="give the data folder with --data",
        )
    if code == RECORDED:
        problem = recorded_code_problem(recorded)
        if problem is not None:
            raise InputError(
                f"{q.prose} ({q.id}) cannot be audited with the code that made it: {problem}",
                where=display_path(
                    folder / record.MANIFEST_NAME, root=AUDIT_ROOTS, outside="absolute"
                ),
                fix="fetch the commit ('git fetch --all') or audit in a clone that has it; "
                f"'scorecard audit {q.id} --with-current-code' shows what today's code would "
                "change, which is a different question",
            )
    result = AuditResult(quarter_id=q.id, folder=folder, code=code)
    findings = result.findings
    findings += check_published_files(snapshot, recorded)
    input_findings, changed = check_inputs(q, data, recorded, recorded_only=code == RECORDED)
    findings += input_findings
    code_now = manifest_mod.code_version()
    code_differs = code_now.get("source_sha256") != (recorded.get("code") or {}).get(
        "source_sha256"
    )
    if code == CURRENT:
        findings += compare_code(recorded.get("code") or {}, code_now)
        findings += compare_environment(
            recorded.get("environment") or {}, manifest_mod.environment()
        )

    with tempfile.TemporaryDirectory(prefix=f"scorecard-audit-{q.id}-") as tmp_name:
        tmp = Path(tmp_name)
        rerun_started = time.perf_counter()
        rerun: Path | None = None
        if code == CURRENT:
            try:
                word = recorded.get("word")
                rerun = reruns.rerun_current(
                    q,
                    data,
                    tmp / "current",
                    jobs,
                    on_event,
                    word if isinstance(word, dict) else None,
                )
            except ScorecardError as exc:
                findings.append(
                    Finding(
                        "rerun",
                        "the quarter could not be re-run with the current code:\n" + exc.message(),
                    )
                )
            how = "with the current code"
        else:
            rerun, problems = reruns.rerun_recorded_code(q, recorded, data, tmp, jobs)
            findings += [Finding("rerun", f.text) for f in problems]
            # The environment as the recorded code sees it (its own list of packages), taken
            # from the re-run's manifest; today's code would name packages it never used.
            fresh_env = (
                (record.read_json(rerun / record.MANIFEST_NAME) or {}).get("environment")
                if rerun is not None
                else None
            )
            findings += compare_environment(
                recorded.get("environment") or {}, fresh_env or manifest_mod.environment()
            )
            how = (
                "with the recorded code (a git worktree of commit "
                f"{short_hash((recorded.get('code') or {}).get('git_commit'))})"
            )
        if rerun is not None:
            findings.append(
                Finding(
                    "rerun",
                    f"re-executed {how} in a temporary folder in "
                    f"{time.perf_counter() - rerun_started:.1f} s",
                    differs=False,
                )
            )
            fresh = record.read_json(rerun / record.MANIFEST_NAME) or {}
            if code == RECORDED:
                findings += compare_code(
                    recorded.get("code") or {}, fresh.get("code") or {}, label="checked out"
                )
            result.result_changes = result_changes(q.id, recorded.get("results"),
                                                   fresh.get("results"))  # fmt: skip
            findings += compare_results(
                recorded.get("results"),
                fresh.get("results"),
                changed_inputs=changed,
                quarter_id=q.id,
            )
            findings += compare_manifest_fields(recorded, fresh)
            findings += compare_outputs(snapshot, rerun)
            findings += unexplained_manifest_difference(recorded, fresh, findings)
            if keep is not None:
                name = q.id if code == CURRENT else f"{q.id}-recorded-code"
                keep_copy(rerun, keep / name)
    result.verdict = _verdict(result, changed, code_differs)
    return result


def _verdict(result: AuditResult, changed: Sequence[str], code_differs: bool) -> str:
    recorded_code = result.code == RECORDED
    if result.identical:
        return (
            "Re-running the quarter "
            + ("with the code that made it " if recorded_code else "with the current code ")
            + "reproduces the published record: every output file is byte-identical (the git "
            "commit fields aside) and the inputs and environment match the manifest."
        )
    env_differs = bool(result.differences("environment"))
    causes = []
    if result.differences("record"):
        causes.append("the published record itself was changed after publishing")
    if changed:
        n = len(changed)
        causes.append(f"the data changed ({n} input file{'s' if n > 1 else ''})")
    if recorded_code and result.differences("code"):
        causes.append(
            "the recorded commit does not hold exactly the code that made the record (it was "
            "published from uncommitted changes)"
        )
    if not recorded_code and code_differs:
        causes.append("the code changed")
    if env_differs:
        causes.append("the package versions changed")
    if result.differences("rerun"):
        causes.append("the quarter could not be re-run")
    if not causes:
        return (
            "The inputs, code and package versions match the manifest, yet the outputs differ: "
            "something the manifest does not record changed (operating system, fonts, an "
            "unpinned package), the build is not deterministic, or the published files were "
            "edited and the hashes in their manifest changed to match. Please report it."
        )
    text = "The published record is not reproduced because " + " and ".join(causes) + "."
    if not recorded_code and code_differs:
        text += (
            " This lists what today's code would state differently; the record itself stands "
            f"(check it with 'scorecard audit {result.quarter_id}')."
        )
    return text


def audit_all(
    *,
    archive_dir: Path | None = None,
    data_dir: Path | None = None,
    jobs: int | None = None,
    parallel: int | None = None,
    code: str = RECORDED,
    keep: Path | None = None,
    on_event: AuditEvent | None = None,
    audit: Callable[..., AuditResult] | None = None,
) -> list[AuditResult]:
    """Audit the standing record of every published quarter, ``parallel`` quarters at a time
    (default: see :func:`default_parallel`); results in quarter order. A quarter that cannot
    be audited gives a result with ``error`` set (exit 2) instead of stopping the others."""
    archive = resolve(archive_dir, ARCHIVE_DIR).resolve()
    records = current_records(archive)
    if not records:
        raise InputError(
            "There is no published quarter to audit",
            where=display_path(archive, root=AUDIT_ROOTS, outside="absolute"),
            fix="publish one with 'scorecard publish QUARTER', or give the archive with --archive",
        )
    run = audit or audit_quarter
    if keep is not None:
        keep = check_keep_folder(keep, archive)
    workers = max(1, min(parallel or default_parallel(jobs), len(records)))
    # the CPUs are shared out: each quarter's sections get their part, not every CPU
    each = jobs or max(1, (os.cpu_count() or 1) // workers)

    def one(r: Any) -> AuditResult:
        try:
            return run(
                r.quarter,
                archive_dir=archive,
                data_dir=data_dir,
                jobs=each,
                code=code,
                keep=keep,
                on_event=on_event,
                keep_checked=True,
            )
        except ScorecardError as exc:
            return AuditResult(quarter_id=r.quarter.id, folder=r.folder, error=exc.message())

    if workers == 1:
        return [one(r) for r in records]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, records))


def default_parallel(jobs: int | None = None) -> int:
    """Quarters audited at once by ``audit --all``: every quarter already runs its sections
    in parallel kernels, so only as many quarters as leave each at least ``jobs`` (default 2)
    CPUs, and the CPUs are shared out between them. Measured on 2 CPUs, two quarters: one at a
    time with 2 kernels each took 35-49 s, two at a time with one kernel each 38-40 s: no gain,
    so on 2 CPUs quarters go one at a time (see docs/aqa/audit.md)."""
    cpus = os.cpu_count() or 1
    return max(1, cpus // max(1, jobs or 2))


def exit_code(results: Sequence[AuditResult]) -> int:
    """2 if any quarter could not be audited, else 1 if any differs, else 0."""
    return max((r.exit_code for r in results), default=EXIT_BAD_INPUT)


# --- the impact of today's code on the archive (make test) ------------------------------------


def unexpected_result_changes(
    results: Sequence[AuditResult], expected: Iterable[Mapping[str, Any]] = ()
) -> list[ResultChange]:
    """The recorded results today's code would change (``code="current"`` audits), less the
    ``expected`` ones: deliberate rule changes, each given as ``ResultChange.as_dict()``."""
    allowed = [dict(e) for e in expected]
    return [c for r in results for c in r.result_changes if c.as_dict() not in allowed]


def impact_message(unexpected: Sequence[ResultChange], expected_file: str) -> str:
    """What ``make test`` says when today's code would change a published result."""
    lines = [
        f"Today's code would change {len(unexpected)} published result"
        f"{'s' if len(unexpected) != 1 else ''} (the records themselves stand unchanged):"
    ]
    lines += [f"- {c.text()}" for c in unexpected]
    lines.append(
        "If this is a bug, fix the code. If it is a deliberate rule change, log it in "
        f"docs/aqa/assumptions.md and add these entries to the list in {expected_file}; the "
        "published records are never rebuilt (a correction is published with 'scorecard "
        'publish QUARTER --supersede --reason "..."\'):'
    )
    lines += [json.dumps(c.as_dict(), sort_keys=True) for c in unexpected]
    return "\n".join(lines)
