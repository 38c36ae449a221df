"""``scorecard audit QUARTER``: re-run a published record and say, in plain words, what differs.

A published record (``published/QUARTER/``, see ``archive.py``) is what the Cabinet read. An
auditor asks two questions of it, and :func:`audit_quarter` answers either:

* **Is this the report, and can it be reproduced?** (``code="recorded"``, the default.) The
  quarter is re-run with the code its manifest names: a ``git worktree`` of the recorded
  commit, run by this Python with the current data. It must reproduce the published bytes.
  If the commit is not in the repository the audit says so and stops (exit 2): comparing with
  other code would not answer the question.
* **What would today's code say differently?** (``code="current"``.) The quarter is re-run
  with the working tree's code and every published figure, rating, direction, sentence and
  risk band it would change is listed (:func:`result_changes` gives the recorded results that
  change, field by field, for ``make test``).

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
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import difflib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorecard_lib.core.errors import InputError, PublishedError, ScorecardError
from scorecard_lib.core.lifetime import run_supervised
from scorecard_lib.core.paths import (
    DATA_DIR,
    OUTPUTS_DIR,
    PARAMS_DIR,
    PROJECT_ROOT,
    resolve,
    resolve_given,
)
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.report import manifest as manifest_mod
from scorecard_lib.report import record

EXIT_IDENTICAL, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2
#: Detail lines shown per file or per kind of result before "... and N more".
MAX_DETAILS = 20
#: Characters of a changed line of text shown either side of where it changes.
CONTEXT = 70
#: The recorded-code re-run is a subprocess; it may take this long before it is stopped.
RECORDED_RUN_TIMEOUT = 3600

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

_GIT_LOCK = threading.Lock()  # git worktree add/remove, one at a time

#: ``on_event(quarter_id, section, event, seconds)``: progress of the re-runs.
AuditEvent = Callable[[str, str, str, float | None], None]


@dataclass(frozen=True)
class Finding:
    """One thing the audit found. ``differs``: counts as a difference (exit 1); otherwise it
    is information (for example: same code, recorded at another commit)."""

    topic: str
    text: str
    differs: bool = True


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
        lines = [f"{head}, published record {_human(self.folder)}, re-run with {how}"]
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


# --- small helpers ----------------------------------------------------------------------------


def _prose(quarter_id: str) -> str:
    try:
        return parse_quarter(quarter_id).prose
    except ScorecardError:
        return quarter_id


def _human(path: Path) -> str:
    path = Path(path).resolve()
    for base in (Path.cwd().resolve(), PROJECT_ROOT):
        with contextlib.suppress(ValueError):
            return path.relative_to(base).as_posix()
    return str(path)


def _short(sha: object) -> str:
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


def _limit(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_DETAILS:
        return lines
    more = len(lines) - MAX_DETAILS
    return [*lines[:MAX_DETAILS], f"... and {more} more difference{'s' if more > 1 else ''} {what}"]


def _git(*args: str, cwd: Path = PROJECT_ROOT, timeout: float = 60) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_bytes(*args: str) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _is_git_checkout() -> bool:
    top = _git("rev-parse", "--show-toplevel")
    return top is not None and Path(top.strip()).resolve() == PROJECT_ROOT.resolve()


def _commit_exists(commit: str) -> bool:
    return _git("cat-file", "-e", f"{commit}^{{commit}}") is not None


# --- the published record ---------------------------------------------------------------------


def published_quarters(archive_dir: Path | None = None) -> list[Quarter]:
    """Quarters with a published record in the archive, oldest first."""
    from scorecard_lib.inputs.archive import current_records

    return [r.quarter for r in current_records(archive_dir)]


def find_record(
    quarter: str | Quarter | None = None,
    *,
    archive_dir: Path | None = None,
    folder: Path | None = None,
) -> tuple[Quarter, Path]:
    """The quarter and folder to audit: ``folder`` (any record, e.g. a superseded version),
    else the standing record of ``quarter`` in the archive. InputError (exit 2) if none."""
    from scorecard_lib.inputs.archive import ARCHIVE_DIR, current_record, parse_folder_name

    if folder is not None:
        folder = Path(folder).expanduser().resolve()
        parsed = parse_folder_name(folder.name)
        if parsed is None or not (folder / record.MANIFEST_NAME).is_file():
            raise InputError(
                f"{_human(folder)} is not a published record (a folder named QUARTER or "
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
            where=_human(archive),
            fix=f"audit a published quarter ({have}), give the archive with --archive, or "
            f"publish it first with 'scorecard publish {q.id}'",
        )
    return q, found.folder


def load_record(quarter: Quarter, folder: Path) -> dict[str, Any]:
    """The published manifest in ``folder``; InputError (exit 2) when there is none or it is
    not a scorecard manifest for ``quarter``."""
    path = folder / record.MANIFEST_NAME
    if not path.is_file():
        raise InputError(
            f"{quarter.prose} ({quarter.id}) has no published record to audit",
            where=_human(path),
            fix="audit a published quarter, or give the archive with --archive",
        )
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"The published manifest of {quarter.id} cannot be read ({exc})",
            where=_human(path),
            fix="restore it from version control: the record cannot be audited without it",
        ) from None
    problems = []
    if not isinstance(data, dict):
        problems.append("it is not a JSON object")
    else:
        if data.get("quarter") != quarter.id:
            problems.append(f"it is for quarter {data.get('quarter')!r}, not {quarter.id}")
        for key, kind in (("inputs", list), ("code", dict), ("outputs", list)):
            if not isinstance(data.get(key), kind):
                problems.append(f"'{key}' is missing or malformed")
        for entry in data.get("inputs") or [] if isinstance(data.get("inputs"), list) else []:
            if not (isinstance(entry, dict) and {"path", "sha256"} <= set(entry)):
                problems.append("an input entry has no path or sha256")
                break
    if problems:
        raise InputError(
            f"The published manifest of {quarter.id} is not a scorecard manifest: "
            + "; ".join(problems),
            where=_human(path),
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
                    f"({_short(manifest_mod.sha256_file(path))}) no longer matches the "
                    f"manifest ({_short(recorded[name])})",
                )
            )
    return found


# --- inputs -----------------------------------------------------------------------------------


def _input_diff(path: str, recorded_sha: str, commit: str | None, now: Path) -> list[str]:
    """What changed inside one input file, when git still holds the published version (the
    recorded commit has the file with the recorded sha256). Empty when it cannot be told."""
    if not commit or path.startswith(("DATA/", "EXTERNAL/")) or not now.is_file():
        return []
    old = _git_bytes("show", f"{commit}:{path}")
    if old is None:
        return []
    if hashlib.sha256(old).hexdigest() != recorded_sha:
        return []
    new = now.read_bytes()
    try:
        old_text, new_text = old.decode("utf-8-sig"), new.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []
    if path.endswith(".csv"):
        return _csv_diff(old_text, new_text)
    return _text_diff(old_text.splitlines(), new_text.splitlines(), "line")


def _csv_diff(old_text: str, new_text: str) -> list[str]:
    old_rows = list(csv.reader(io.StringIO(old_text)))
    new_rows = list(csv.reader(io.StringIO(new_text)))
    if not old_rows or not new_rows or old_rows[0] != new_rows[0]:
        return _text_diff(old_text.splitlines(), new_text.splitlines(), "line")
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


def check_inputs(
    quarter: Quarter, data: Path, manifest: Mapping[str, Any], *, recorded_only: bool = False
) -> tuple[list[Finding], list[str]]:
    """Every input file against the manifest: findings, and the changed/added/removed names.

    With ``recorded_only`` (an audit with the recorded code) a file today's code reads but the
    record did not list is left out: the recorded code never reads it (a file the recorded
    code *would* read shows up in the re-run's manifest, which is compared too)."""
    from scorecard_lib.inputs import loading

    recorded = {str(e["path"]): str(e["sha256"]) for e in manifest.get("inputs") or []}
    files = loading.input_files(quarter, data)
    current = {e["path"]: e["sha256"] for e in manifest_mod.input_entries(files, data)}
    if recorded_only:
        current = {name: sha for name, sha in current.items() if name in recorded}
    by_name = {manifest_mod.manifest_path(p, data): p for p in files}
    commit = (manifest.get("code") or {}).get("git_commit")
    found: list[Finding] = []
    changed: list[str] = []
    for name in sorted(set(recorded) | set(current)):
        before, now = recorded.get(name), current.get(name)
        if before == now:
            continue
        changed.append(name)
        if now is None:
            found.append(Finding("inputs", f"removed: {name} was read for the published report"))
        elif before is None:
            found.append(Finding("inputs", f"added: {name} was not there when it was published"))
        else:
            text = f"changed: {name} (sha256 {_short(before)} when published, {_short(now)} now)"
            detail = _limit(
                _input_diff(name, before, commit, by_name[name]), f"in {name.rsplit('/', 1)[-1]}"
            )
            if detail:
                text += "\n" + "\n".join(detail)
            found.append(Finding("inputs", text))
    if not found:
        found.append(
            Finding(
                "inputs",
                f"all {len(recorded)} input files match the sha256 in the manifest",
                differs=False,
            )
        )
    return found, changed


# --- code and environment ---------------------------------------------------------------------


def compare_code(
    recorded: Mapping[str, Any], current: Mapping[str, Any], *, label: str = "now"
) -> list[Finding]:
    """The code version: a different source hash or package version is a difference; a
    different commit with the same source hash is information."""
    found = []
    old_src, new_src = recorded.get("source_sha256"), current.get("source_sha256")
    old_commit, new_commit = recorded.get("git_commit"), current.get("git_commit")
    commits = f"recorded at commit {_short(old_commit)}, {label} at {_short(new_commit)}"
    if old_src != new_src and label != "now":
        text = (
            f"commit {_short(old_commit)} does not hold exactly the code that published this "
            f"report (source hash {_short(old_src)} recorded, {_short(new_src)} {label})"
            + (
                ": the report was built with uncommitted changes"
                if recorded.get("git_dirty")
                else ""
            )
        )
        found.append(Finding("code", text))
    elif old_src != new_src:
        text = (
            "the code differs from the version that published this report (source hash "
            f"{_short(old_src)}, {label} {_short(new_src)}; {commits}"
            + ("; uncommitted changes now" if current.get("git_dirty") else "")
            + ")"
        )
        files = _changed_code_files(old_commit) if label == "now" else []
        if files:
            note = (
                " (the record was built with uncommitted changes, so this list is approximate)"
                if recorded.get("git_dirty")
                else ""
            )
            text += f"\ncode files that differ from commit {_short(old_commit)}{note}:\n"
            text += "\n".join(f"  {f}" for f in _limit(files, "in the code"))
        found.append(Finding("code", text))
    else:
        same = f"same code (source hash equal, {_short(new_src)})"
        if old_commit != new_commit:
            same += f", {commits}"
        elif old_commit:
            same += f", commit {_short(old_commit)}"
        found.append(Finding("code", same, differs=False))
    if recorded.get("package_version") != current.get("package_version"):
        found.append(
            Finding(
                "code",
                f"the scorecard package version differs: {recorded.get('package_version')} "
                f"when published, {current.get('package_version')} {label}",
            )
        )
    return found


def _changed_code_files(commit: object) -> list[str]:
    """Code files (library, templates, notebooks) that differ between ``commit`` and the
    working tree, as ``modified: path``; empty when git cannot tell."""
    if not isinstance(commit, str) or not _is_git_checkout() or not _commit_exists(commit):
        return []
    paths = manifest_mod.CODE_PATHS
    diff = _git("diff", "--name-status", commit, "--", *paths)
    untracked = _git("ls-files", "--others", "--exclude-standard", "--", *paths)
    if diff is None:
        return []
    words = {"M": "modified", "A": "added", "D": "removed", "R": "renamed", "T": "changed"}
    lines = []
    for line in diff.splitlines():
        status, _, name = line.partition("\t")
        lines.append(f"{words.get(status[:1], status)}: {name.replace(chr(9), ' -> ')}")
    lines += [f"added (not committed): {n}" for n in (untracked or "").splitlines() if n]
    return [x for x in lines if "__pycache__" not in x]


def compare_environment(
    recorded: Mapping[str, Any], current: Mapping[str, Any], *, label: str = "now"
) -> list[Finding]:
    found = []
    if recorded.get("python") != current.get("python"):
        found.append(
            Finding(
                "environment",
                f"Python {recorded.get('python')} when published, {current.get('python')} {label}",
            )
        )
    old = dict(recorded.get("packages") or {})
    new = dict(current.get("packages") or {})
    for name in sorted(set(old) | set(new), key=str.lower):
        if name not in new:
            found.append(Finding("environment", f"package {name} {old[name]} is no longer used"))
        elif name not in old:
            found.append(Finding("environment", f"package {name} {new[name]} was not used then"))
        elif old[name] != new[name]:
            found.append(
                Finding(
                    "environment",
                    f"package {name} {old[name] or 'not installed'} when published, "
                    f"{new[name] or 'not installed'} {label}",
                )
            )
    if not found:
        found.append(
            Finding(
                "environment",
                f"the same (Python {current.get('python')}, {len(new)} pinned packages at the "
                "recorded versions)",
                differs=False,
            )
        )
    return found


# --- results ----------------------------------------------------------------------------------

_INDICATOR_WORDS: dict[str, str] = {
    "name": "name",
    "value": "value",
    "value_quarter": "quarter of the value",
    "reference": "target or benchmark",
    "reference_label": "rated against",
    "rating": "rating",
    "rating_computed": "computed rating",
    "short_term": "short-term direction",
    "long_term": "long-term direction",
    "updated": "updated this quarter",
    "previous_value": "previous value",
    "previous_quarter": "quarter of the previous value",
    "last_year_value": "value a year earlier",
}
_RISK_WORDS: dict[str, str] = {
    "title": "title",
    "status": "status",
    "inherent_score": "inherent score",
    "current_score": "current score",
    "target_score": "target score",
    "current_band": "band",
    "trend": "change since last quarter",
}


def _related_inputs(ind: Mapping[str, Any], changed: Sequence[str], quarter_id: str) -> list[str]:
    """Changed input files that feed this indicator's figures."""
    quarters = {str(ind.get(k)) for k in ("value_quarter", "previous_quarter") if ind.get(k)}
    vq = ind.get("value_quarter")
    if vq:
        with contextlib.suppress(ScorecardError):
            quarters.add(parse_quarter(str(vq)).same_quarter_last_year().id)
    names = []
    for name in changed:
        parts = name.split("/")
        base = parts[-1]
        folder = parts[-2] if len(parts) > 1 else ""
        if (
            (base == "values.csv" and folder in quarters)
            or (base == "overrides.csv" and folder == quarter_id)
            or base in ("catalogue.csv", "settings.yaml")
        ):
            names.append(name)
    return names


def _pair(old: Any, new: Any) -> str:
    """``old -> new`` in words; in full when the rounding would hide the difference."""
    a, b = show_value(old), show_value(new)
    if a == b and old != new:
        a, b = repr(old), repr(new)
    return f"{a} -> {b}"


def compare_results(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    changed_inputs: Sequence[str] = (),
    quarter_id: str = "",
) -> list[Finding]:
    """Indicator-level, risk-level and count differences between two manifests' results."""
    if not isinstance(old, Mapping):
        return [
            Finding(
                "results",
                "the published manifest records no results (it predates them): the outputs "
                "below are compared instead",
                differs=False,
            )
        ]
    if not isinstance(new, Mapping):
        return [Finding("results", "the re-run recorded no results to compare")]
    lines: list[str] = []
    for kind, words, what in (
        ("indicators", _INDICATOR_WORDS, "Indicator"),
        ("risks", _RISK_WORDS, "Risk"),
    ):
        a = dict(old.get(kind) or {})
        b = dict(new.get(kind) or {})
        for key in sorted(set(a) | set(b)):
            ra, rb = a.get(key), b.get(key)
            name = (rb or ra or {}).get("name" if kind == "indicators" else "title") or ""
            head = f"{what} {key} {name}".rstrip()
            if ra is None:
                lines.append(f"{head}: not in the published report, in the re-run")
                continue
            if rb is None:
                lines.append(f"{head}: in the published report, not in the re-run")
                continue
            if ra == rb:
                continue
            changes = [
                f"{words.get(f, f)} {_pair(ra.get(f), rb.get(f))}"
                for f in [*words, *sorted((set(ra) | set(rb)) - set(words))]
                if ra.get(f) != rb.get(f)
            ]
            band = "rating" if kind == "indicators" else "current_band"
            if ra.get(band) == rb.get(band):
                changes.append(f"{words[band]} {show_value(rb.get(band))} (unchanged)")
            line = f"{head}: " + "; ".join(changes)
            if kind == "indicators":
                related = _related_inputs(rb, changed_inputs, quarter_id)
                if related:
                    line += f" (changed input: {', '.join(related)})"
            lines.append(line)
    ca, cb = dict(old.get("counts") or {}), dict(new.get("counts") or {})
    for key in sorted(set(ca) | set(cb)):
        va, vb = ca.get(key), cb.get(key)
        if va == vb:
            continue
        label = key.replace("_", " ")
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            parts = [
                f"{k} {show_value(va.get(k))} -> {show_value(vb.get(k))}"
                for k in sorted(set(va) | set(vb))
                if va.get(k) != vb.get(k)
            ]
            lines.append(f"Count of {label}: " + ", ".join(parts))
        else:
            lines.append(f"Count of {label}: {show_value(va)} -> {show_value(vb)}")
    for key in sorted((set(old) | set(new)) - {"indicators", "risks", "counts"}):
        if old.get(key) != new.get(key):
            lines.append(f"Result '{key}' differs")
    if not lines:
        return [
            Finding(
                "results",
                "the same: every indicator's value, reference, rating and direction, every "
                "risk's scores and band, and the counts",
                differs=False,
            )
        ]
    return [Finding("results", line) for line in _limit(lines, "in the results")]


@dataclass(frozen=True)
class ResultChange:
    """One recorded result (``manifest.results``) that a re-run states differently: an
    indicator's or risk's field, or a count. ``old`` is the published value."""

    quarter_id: str
    kind: str  # "indicator", "risk" or "count"
    key: str  # the indicator or risk id, or the count's name
    field: str  # e.g. "rating"; "present" when the indicator or risk is only on one side
    old: Any
    new: Any

    def text(self) -> str:
        words = {**_INDICATOR_WORDS, **_RISK_WORDS}.get(self.field, self.field.replace("_", " "))
        what = {"indicator": "indicator", "risk": "risk", "count": "count of"}[self.kind]
        return (
            f"{self.quarter_id} {what} {self.key} {words}: {show_value(self.old)} published, "
            f"{show_value(self.new)} with the current code"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter_id,
            "kind": self.kind,
            "key": self.key,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


def result_changes(
    quarter_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[ResultChange]:
    """Every recorded result that differs between two manifests' ``results`` (the published
    one first), field by field; empty when either has none (records before results)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return []
    out: list[ResultChange] = []
    for kind, plural in (("indicator", "indicators"), ("risk", "risks")):
        a, b = dict(old.get(plural) or {}), dict(new.get(plural) or {})
        for key in sorted(set(a) | set(b)):
            ra, rb = a.get(key), b.get(key)
            if ra is None or rb is None:
                out.append(ResultChange(quarter_id, kind, key, "present", ra is not None,
                                        rb is not None))  # fmt: skip
                continue
            for f in sorted(set(ra) | set(rb)):
                if ra.get(f) != rb.get(f):
                    out.append(ResultChange(quarter_id, kind, key, f, ra.get(f), rb.get(f)))
    ca, cb = dict(old.get("counts") or {}), dict(new.get("counts") or {})
    for key in sorted(set(ca) | set(cb)):
        va, vb = ca.get(key), cb.get(key)
        if va == vb:
            continue
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            for sub in sorted(set(va) | set(vb)):
                if va.get(sub) != vb.get(sub):
                    out.append(ResultChange(quarter_id, "count", key, sub, va.get(sub),
                                            vb.get(sub)))  # fmt: skip
        else:
            out.append(ResultChange(quarter_id, "count", key, "total", va, vb))
    return out


def compare_manifest_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """Manifest fields not compared elsewhere (parameters, command, anything new). The
    ``publication`` block records the act of publishing, which no re-run repeats."""
    skip = {"inputs", "code", "environment", "outputs", "results", record.PUBLICATION}
    found = []
    for key in sorted((set(old) | set(new)) - skip):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "parameters" and isinstance(a, Mapping) and isinstance(b, Mapping):
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    found.append(
                        Finding(
                            "manifest",
                            f"parameter {name}: {json.dumps(a.get(name))} when published, "
                            f"{json.dumps(b.get(name))} in the re-run",
                        )
                    )
        else:
            found.append(
                Finding(
                    "manifest",
                    f"{key}: {json.dumps(a, sort_keys=True)[:200]} when published, "
                    f"{json.dumps(b, sort_keys=True)[:200]} in the re-run",
                )
            )
    return found


def unexplained_manifest_difference(
    old: Mapping[str, Any], new: Mapping[str, Any], found: Sequence[Finding]
) -> list[Finding]:
    """When nothing else differs, the two manifests must be the same too (git fields, the
    output hashes and the publication block aside, as :func:`record.normalise_manifest`
    says): a field the other checks do not describe (an extra key under ``code`` or
    ``environment``, say) is named here, so an IDENTICAL verdict always means identical
    manifests."""
    if any(f.differs for f in found):
        return []
    a = _flat(record.normalise_manifest(old))
    b = _flat(record.normalise_manifest(new))
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return [
        Finding(
            "manifest",
            f"{key}: {json.dumps(a.get(key), sort_keys=True)[:200]} when published, "
            f"{json.dumps(b.get(key), sort_keys=True)[:200]} in the re-run",
        )
        for key in keys[:MAX_DETAILS]
    ]


# --- HTML: tables, charts, text ---------------------------------------------------------------


#: Elements that start a new line of text when a fragment's text is compared.
_BLOCKS = [
    *("p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "header"),
    *("footer", "nav", "main", "article", "aside", "figure", "figcaption", "details"),
    *("summary", "ul", "ol", "dl", "pre", "blockquote", "br", "hr", "caption", "tr"),
]


@dataclass(frozen=True)
class _Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (row key, cell texts)


@dataclass(frozen=True)
class _Chart:
    title: str
    table: _Table | None
    drawing: str


@dataclass(frozen=True)
class _Content:
    charts: tuple[_Chart, ...]
    tables: tuple[_Table, ...]
    text: tuple[str, ...]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _parse_table(el: Any) -> _Table:
    cap = el.find("caption")
    caption = _squash(cap.get_text(" ")) if cap else ""
    trs = el.find_all("tr")
    head = None
    thead = el.find("thead")
    if thead is not None:
        head = thead.find("tr")
    elif trs and all(c.name == "th" for c in trs[0].find_all(["th", "td"], recursive=False)):
        head = trs[0]
    columns = tuple(_squash(c.get_text(" ")) for c in (head.find_all(["th", "td"]) if head else []))
    rows = []
    for tr in trs:
        if tr is head:
            continue
        cells = tr.find_all(["th", "td"], recursive=False)
        texts = tuple(_squash(c.get_text(" ")) for c in cells)
        key_at = next(
            (i for i, c in enumerate(cells) if c.name == "th" and c.get("scope") == "row"), 0
        )
        rows.append((texts[key_at] if texts else "", texts))
    return _Table(caption, columns, tuple(rows))


def html_content(fragment: str) -> _Content:
    """The charts (title, data table, drawing), tables and lines of text of an HTML fragment."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    charts = []
    for fig in soup.find_all("figure"):
        drawing = fig.find(["svg", "img"])
        if drawing is None:
            continue
        cap = fig.find("figcaption")
        table = fig.find("table")
        charts.append(
            _Chart(
                title=_squash(cap.get_text(" ")) if cap else "",
                table=_parse_table(table) if table is not None else None,
                drawing=str(drawing),
            )
        )
        fig.decompose()
    for drawing in soup.find_all(["svg", "img"]):  # drawings outside a figure
        label = drawing.get("aria-label") or drawing.get("alt") or ""
        charts.append(_Chart(title=_squash(str(label))[:80], table=None, drawing=str(drawing)))
        drawing.decompose()
    tables = []
    for el in soup.find_all("table"):
        tables.append(_parse_table(el))
        el.decompose()
    for el in soup.find_all(["style", "script"]):
        el.decompose()
    for el in soup.find_all(_BLOCKS):  # one line of text per block, inline markup kept together
        el.insert_before("\n")
        el.insert_after("\n")
    text = tuple(line for line in (_squash(x) for x in soup.get_text("").split("\n")) if line)
    return _Content(tuple(charts), tuple(tables), text)


def _keyed(items: Iterable[Any], key: Callable[[Any], str]) -> dict[tuple[str, int], Any]:
    seen: dict[str, int] = {}
    out = {}
    for item in items:
        k = key(item)
        seen[k] = seen.get(k, 0) + 1
        out[(k, seen[k])] = item
    return out


def _name(key: tuple[str, int]) -> str:
    return key[0] if key[1] == 1 else f"{key[0]} (number {key[1]})"


def _compare_table(old: _Table, new: _Table, what: str) -> list[str]:
    if old == new:
        return []
    lines = []
    if old.columns != new.columns:
        lines.append(f"{what} has different columns: {list(old.columns)} -> {list(new.columns)}")
    a = _keyed(old.rows, lambda r: r[0])
    b = _keyed(new.rows, lambda r: r[0])
    for key in list(a) + [k for k in b if k not in a]:
        if key not in b:
            lines.append(f"{what}, row '{_name(key)}' is no longer there")
        elif key not in a:
            lines.append(f"{what}, row '{_name(key)}' is new")
        else:
            ca, cb = a[key][1], b[key][1]
            for i in range(max(len(ca), len(cb))):
                o = ca[i] if i < len(ca) else "(no cell)"
                n = cb[i] if i < len(cb) else "(no cell)"
                if o != n:
                    col = new.columns[i] if i < len(new.columns) else f"column {i + 1}"
                    o, n = clip_pair(o, n)
                    lines.append(f"{what}, row '{_name(key)}', column '{col}': {o} -> {n}")
    if not lines:
        lines.append(f"{what} differs in its layout")
    return lines


def _clip(text: str, width: int = 2 * CONTEXT + 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _text_diff(old: Sequence[str], new: Sequence[str], unit: str = "text") -> list[str]:
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


def compare_html(old: str, new: str) -> list[str]:
    """What differs between two HTML fragments: table cells, the data behind charts (then the
    drawings), then the text. Markup-only differences give one line."""
    if old == new:
        return []
    a, b = html_content(old), html_content(new)
    lines: list[str] = []
    ca = _keyed(a.charts, lambda c: c.title)
    cb = _keyed(b.charts, lambda c: c.title)
    for key in list(ca) + [k for k in cb if k not in ca]:
        title = _name(key)
        if key not in cb:
            lines.append(f"the chart '{title}' is no longer there")
        elif key not in ca:
            lines.append(f"the chart '{title}' is new")
        else:
            x, y = ca[key], cb[key]
            if x.table is not None and y.table is not None:
                lines += _compare_table(x.table, y.table, f"the data behind the chart '{title}'")
            elif (x.table is None) != (y.table is None):
                lines.append(f"the chart '{title}' has lost or gained its data table")
            if x.drawing != y.drawing and (x.table == y.table):
                lines.append(
                    f"the chart '{title}' drawing differs (the data behind it is the same)"
                )
    ta = _keyed(a.tables, lambda t: t.caption)
    tb = _keyed(b.tables, lambda t: t.caption)
    for key in list(ta) + [k for k in tb if k not in ta]:
        caption = _name(key)
        if key not in tb:
            lines.append(f"the table '{caption}' is no longer there")
        elif key not in ta:
            lines.append(f"the table '{caption}' is new")
        else:
            lines += _compare_table(ta[key], tb[key], f"table '{caption}'")
    lines += _text_diff(a.text, b.text)
    if not lines:
        o, n = clip_pair(old, new, 40)
        lines.append(f"the markup differs (not its text, tables or charts), first at: {o} -> {n}")
    return lines


# --- notebooks and the report -----------------------------------------------------------------


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _out_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _compare_outputs(old: Sequence[Any], new: Sequence[Any]) -> list[str]:
    lines = []
    if len(old) != len(new):
        lines.append(f"it shows {len(new)} outputs instead of {len(old)}")
    for o, n in zip(old, new, strict=False):
        if o == n:
            continue
        if o.get("output_type") != n.get("output_type"):
            lines.append(f"output {o.get('output_type')} became {n.get('output_type')}")
            continue
        kind = o.get("output_type")
        if kind == "stream":
            lines += _text_diff(
                _out_text(o.get("text")).splitlines(), _out_text(n.get("text")).splitlines()
            )
        elif kind == "error":
            lines.append(
                f"error {o.get('ename')}: {o.get('evalue')} -> {n.get('ename')}: {n.get('evalue')}"
            )
        else:
            da, db = dict(o.get("data") or {}), dict(n.get("data") or {})
            if "text/html" in da or "text/html" in db:
                ha, hb = _out_text(da.get("text/html")), _out_text(db.get("text/html"))
                if ha != hb:
                    lines += compare_html(ha, hb)
            html_differs = da.get("text/html") != db.get("text/html")
            other = sorted((set(da) | set(db)) - {"text/html"})
            for mime in other:
                if da.get(mime) == db.get(mime):
                    continue
                if mime == "text/plain" and html_differs:
                    continue  # the object's label (e.g. <Html: summary>): the HTML says more
                if mime.startswith("image/"):
                    lines.append(f"an image ({mime}) differs")
                else:
                    lines += _text_diff(
                        _out_text(da.get(mime)).splitlines(),
                        _out_text(db.get(mime)).splitlines(),
                        f"text ({mime})",
                    )
            if o.get("metadata") != n.get("metadata") and da == db:
                lines.append("an output's metadata differs")
    return lines


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def compare_notebooks(old_path: Path, new_path: Path) -> list[str]:
    """What differs between two executed notebooks, cell by cell (paired by cell id)."""
    import nbformat

    a = nbformat.read(str(old_path), as_version=4)
    b = nbformat.read(str(new_path), as_version=4)
    lines: list[str] = []

    def ids(nb: Any) -> list[str]:
        return [str(c.get("id") or f"#{i + 1}") for i, c in enumerate(nb.cells)]

    ia, ib = ids(a), ids(b)
    if len(set(ia)) != len(ia) or len(set(ib)) != len(ib):  # ids unusable: pair by position
        ia = [f"#{i + 1}" for i in range(len(a.cells))]
        ib = [f"#{i + 1}" for i in range(len(b.cells))]
    ma, mb = dict(zip(ia, a.cells, strict=True)), dict(zip(ib, b.cells, strict=True))
    for cid in ia + [i for i in ib if i not in ma]:
        ca, cb = ma.get(cid), mb.get(cid)
        if cb is None:
            lines.append(f"cell {cid} is no longer there")
            continue
        if ca is None:
            lines.append(f"cell {cid} is new")
            continue
        if ca == cb:
            continue
        if ca.get("cell_type") != cb.get("cell_type") or _source(ca) != _source(cb):
            what = "code" if ca.get("cell_type") == "code" else "text"
            diff = _text_diff(_source(ca).splitlines(), _source(cb).splitlines(), "line")
            lines.append(f"cell {cid}: its {what} differs" + (f" ({diff[0]})" if diff else ""))
        if ca.get("cell_type") == "code":
            lines += [
                line
                if line.startswith(("the table", "table", "the chart", "the data"))
                else f"cell {cid}: {line}"
                for line in _compare_outputs(ca.get("outputs") or [], cb.get("outputs") or [])
            ]
            if ca.get("execution_count") != cb.get("execution_count"):
                lines.append(
                    f"cell {cid}: execution count {ca.get('execution_count')} -> "
                    f"{cb.get('execution_count')}"
                )
    if not lines:
        fa, fb = _flat(a.get("metadata") or {}), _flat(b.get("metadata") or {})
        for key in sorted(set(fa) | set(fb)):
            if fa.get(key) != fb.get(key):
                lines.append(f"notebook metadata {key}: {fa.get(key)!r} -> {fb.get(key)!r}")
    if not lines and a != b:
        lines.append("the notebook differs outside its cells and metadata")
    return lines


_PROVENANCE = re.compile(r'<section id="provenance".*?</section>', re.DOTALL)


def _split_provenance(text: str) -> tuple[str, str]:
    """The report without its provenance section, and that section. Used only to describe a
    difference already found (never to decide whether two reports are the same)."""
    found = _PROVENANCE.search(text)
    if found is None:
        return text, ""
    return text[: found.start()] + text[found.end() :], found.group(0)


def _report_order(name: str) -> tuple[int, str]:
    """Files in the order the report shows them: the sections in order, then the rest."""
    from scorecard_lib.core.registry import SECTIONS

    stem = Path(name).stem
    return (SECTIONS.index(stem) if stem in SECTIONS else len(SECTIONS), name)


def _section_title(name: str) -> str:
    from scorecard_lib.core.registry import SECTION_TITLES

    stem = Path(name).stem
    return SECTION_TITLES.get(stem, stem)


def compare_outputs(published: Path, rerun: Path) -> list[Finding]:
    """Every published file against the re-run's, git fields normalised; described in words."""
    pa = record.normalised_files(published)
    pb = record.normalised_files(rerun)
    found: list[Finding] = []
    names = sorted((set(pa) | set(pb)) - {record.MANIFEST_NAME}, key=_report_order)
    notebooks_differ = False
    found += _compare_open_data(pa, pb)
    for name in names:
        if name == record.REPORT_NAME or _is_open_data(name):
            continue
        if name == record.DOCX_NAME:
            found += _compare_docx(published, rerun, pa, pb)
            continue
        if name not in pb:
            found.append(Finding("outputs", f"{name} is published but the re-run has none"))
            notebooks_differ = True
        elif name not in pa:
            found.append(Finding("outputs", f"the re-run made {name}, which was not published"))
            notebooks_differ = True
        elif pa[name] != pb[name]:
            notebooks_differ = True
            detail = compare_notebooks(published / name, rerun / name)
            title = _section_title(name)
            found += [
                Finding("outputs", f"section '{title}' ({name}): {line}")
                for line in _limit(detail, f"in {name}")
            ]
    name = record.REPORT_NAME
    if name in pa and name not in pb:
        found.append(Finding("outputs", "report.html is published but the re-run made none"))
    elif name in pa and pa[name] != pb[name]:
        old, new = pa[name].decode("utf-8"), pb[name].decode("utf-8")
        (old_body, old_prov), (new_body, new_prov) = _split_provenance(old), _split_provenance(new)
        if old_body == new_body:
            # Say what differs in it: text slipped into the provenance must not pass for the
            # code, environment or inputs it lists.
            found += [
                Finding("outputs", f"report.html, provenance block: {line}")
                for line in _limit(compare_html(old_prov, new_prov), "in the provenance block")
            ]
        elif notebooks_differ:
            found.append(
                Finding(
                    "outputs",
                    "report.html differs accordingly: it is assembled from the section notebooks",
                )
            )
        else:
            found += [
                Finding("outputs", f"report.html: {line}")
                for line in _limit(compare_html(old_body, new_body), "in report.html")
            ]
    if not any(f.differs for f in found):
        compared = [n for n in names if n in pa]
        found.append(
            Finding(
                "outputs",
                f"every published file is identical ({len(compared) + 1} files, git fields aside)",
                differs=False,
            )
        )
    return found


def _is_open_data(name: str) -> bool:
    return name.startswith(f"{manifest_mod.OPEN_DATA_SUBDIR}/")


def _compare_open_data(published: Mapping[str, bytes], rerun: Mapping[str, bytes]) -> list[Finding]:
    """The open-data files (``opendata.py``): a CSV cell by cell, any other file as a whole.
    A record published before open data existed has none, and that is no difference."""
    old = {n: b for n, b in published.items() if _is_open_data(n)}
    new = {n: b for n, b in rerun.items() if _is_open_data(n)}
    if not old and new:
        return [
            Finding(
                "outputs",
                "this record was published before open data existed; the re-run's open data "
                f"({len(new)} files) is not compared",
                differs=False,
            )
        ]
    found: list[Finding] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            found.append(Finding("outputs", f"{name} is published but the re-run has none"))
        elif name not in old:
            found.append(Finding("outputs", f"the re-run made {name}, which was not published"))
        elif old[name] != new[name]:
            detail: list[str] = []
            if name.endswith(".csv"):
                with contextlib.suppress(UnicodeDecodeError):
                    detail = _csv_diff(old[name].decode("utf-8"), new[name].decode("utf-8"))
            found += [
                Finding("outputs", f"{name}: {line}")
                for line in _limit(detail or ["the file differs"], f"in {name}")
            ]
    return found


# --- re-running -------------------------------------------------------------------------------


def _compare_docx(
    published: Path, rerun: Path, pa: Mapping[str, bytes], pb: Mapping[str, bytes]
) -> list[Finding]:
    """The Word paper: missing on either side, or what text differs (paragraphs and table
    cells in order; when the text is the same, the difference is in layout or pictures)."""
    name = record.DOCX_NAME
    if name not in pb:
        return [Finding("outputs", f"{name} is published but the re-run made none")]
    if name not in pa:
        return [Finding("outputs", f"the re-run made {name}, which was not published")]
    if pa[name] == pb[name]:
        return []
    from scorecard_lib.report.word import document_text

    try:
        old, new = document_text(published / name), document_text(rerun / name)
    except Exception:  # not a Word file any more: say so, do not fail the audit
        return [Finding("outputs", f"{name} differs and can no longer be read as a Word file")]
    lines = _text_diff(old, new, "text")
    if not lines:
        return [
            Finding(
                "outputs",
                f"{name}: the text is the same; its pictures, styles or layout differ",
            )
        ]
    return [Finding("outputs", f"{name}: {line}") for line in _limit(lines, f"in {name}")]


def _rerun_current(
    quarter: Quarter,
    data: Path,
    out: Path,
    jobs: int | None,
    on_event: AuditEvent | None,
    word: Mapping[str, Any] | None = None,
) -> Path:
    """Re-run the quarter; with the record's ``word`` block, the Word paper too, on the
    template it names (which must still be where it was)."""
    from scorecard_lib.build.runner import run_quarter
    from scorecard_lib.report.word import template_path

    def event(section: str, what: str, seconds: float | None) -> None:
        if on_event is not None:
            on_event(quarter.id, section, what, seconds)

    template = (word or {}).get("template")
    result = run_quarter(
        quarter,
        data_dir=data,
        out_dir=out,
        jobs=jobs,
        on_event=event,
        docx=isinstance(word, Mapping),
        docx_template=template_path(str(template)) if template else None,
    )
    return result.out_folder


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".*"))


def _rerun_recorded_code(
    quarter: Quarter,
    manifest: Mapping[str, Any],
    data: Path,
    tmp: Path,
    jobs: int | None,
) -> tuple[Path | None, list[Finding]]:
    """Re-run with the code of the recorded commit, checked out as a git worktree in ``tmp``
    and run by this Python with the worktree first on the import path. The current data and
    parameters files are copied into the worktree where the record read them from, so only
    the code differs from the ordinary re-run."""
    commit = str((manifest.get("code") or {}).get("git_commit"))  # recorded_code_problem
    topic = "rerun"
    tree = tmp / "recorded-code"
    with _GIT_LOCK:
        added = _git("worktree", "add", "--detach", "--force", str(tree), commit, timeout=300)
    if added is None:
        return None, [Finding(topic, f"not possible: git could not check out commit {commit}")]
    try:
        try:
            rel = data.resolve().relative_to(PROJECT_ROOT)
        except ValueError:
            data_arg = str(data.resolve())  # outside the project: the same absolute path
        else:
            _copy_tree(data, tree / rel)
            data_arg = str(tree / rel)
        params = [PARAMS_DIR, data.resolve().parent / "params"]  # loading reads either
        for folder in dict.fromkeys(p.resolve() for p in params if p.is_dir()):
            with contextlib.suppress(ValueError):
                _copy_tree(folder, tree / folder.relative_to(PROJECT_ROOT.resolve()))
        out = tmp / "recorded-out"
        argv = [sys.executable, "-m", "scorecard_lib.cli", "run", quarter.id, "--out", str(out)]
        if data.resolve() != DATA_DIR.resolve():
            argv += ["--data", data_arg]
        if jobs:
            argv += ["--jobs", str(jobs)]
        word = manifest.get("word")
        if isinstance(word, Mapping):  # the record has a Word paper: re-make it too
            from scorecard_lib.report.word import template_path

            argv.append("--docx")
            if word.get("template"):
                argv += ["--docx-template", str(template_path(str(word["template"])))]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(tree), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
        )
        try:
            # supervised: the other commit's code may not leave with us if we are stopped
            status, stdout, stderr = run_supervised(
                argv, cwd=str(tree), env=env, timeout=RECORDED_RUN_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            return None, [Finding(topic, "the re-run with the recorded code took too long")]
        folder = out / quarter.id
        if status != 0 or not (folder / record.MANIFEST_NAME).is_file():
            tail = "\n".join((stderr or stdout or "").strip().splitlines()[-6:])
            return None, [
                Finding(
                    topic,
                    f"the recorded code (commit {_short(commit)}) could not rebuild the quarter "
                    f"(exit {status}):\n{tail}",
                )
            ]
        kept = tmp / "recorded-record"
        shutil.copytree(folder, kept)
        return kept, []
    finally:
        with _GIT_LOCK:
            _git("worktree", "remove", "--force", str(tree), timeout=300)
            _git("worktree", "prune")


# --- the audit --------------------------------------------------------------------------------

#: The two ways to re-run a record: with the code its manifest names, or with today's.
RECORDED, CURRENT = "recorded", "current"


def recorded_code_problem(manifest: Mapping[str, Any]) -> str | None:
    """Why the recorded code cannot be checked out, or None when it can."""
    commit = (manifest.get("code") or {}).get("git_commit")
    if not isinstance(commit, str) or not commit:
        return (
            "the manifest names no git commit (the report was built outside a git checkout), "
            "so the code that made it cannot be re-run"
        )
    if not _is_git_checkout():
        return (
            f"{PROJECT_ROOT} is not a git checkout, so commit {_short(commit)} cannot be "
            "checked out"
        )
    if not _commit_exists(commit):
        return (
            f"the recorded commit {commit} is not in this repository, so the code that made "
            "the record cannot be re-run (and it is not compared with other code)"
        )
    return None


def check_keep_folder(keep: Path, records: Path, *, fresh: bool = True) -> Path:
    """The folder ``--keep DIR`` names, resolved, once it is known to be safe to write the
    re-runs into: never a published record or a folder inside one (any folder at or above
    DIR holding a ``manifest.json``), never the folder of records (``records``, the archive
    ``published/``, the drafts' ``outputs/``) or a folder inside them, and (``fresh``) never
    an existing folder that already holds something. PublishedError (exit 2) otherwise,
    before anything is run."""
    from scorecard_lib.inputs.archive import ARCHIVE_DIR

    target = Path(keep).expanduser().resolve()
    fix = "give --keep a new or empty folder outside the published records, e.g. /tmp/audit-kept"
    for above in (target, *target.parents):
        if (above / record.MANIFEST_NAME).is_file():
            raise PublishedError(
                "--keep names a folder inside a published record, which the audit must never "
                "change",
                where=_human(above),
                fix=fix,
            )
    archives = {Path(records).resolve(), ARCHIVE_DIR.resolve(), OUTPUTS_DIR.resolve()}
    if any(above in archives for above in (target, *target.parents)):
        raise PublishedError(
            "--keep names the folder of published records (or a folder inside it), where the "
            "re-run could replace a record",
            where=_human(target),
            fix=fix,
        )
    if fresh and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PublishedError(
            "--keep names a folder that already holds files, which the re-run would overwrite",
            where=_human(target),
            fix=fix,
        )
    return target


def _keep_copy(src: Path, dst: Path) -> None:
    """Copy a re-run into the --keep folder; never over something already there."""
    if dst.exists():
        raise PublishedError(
            "--keep: the folder for this quarter's re-run already exists and was not replaced",
            where=_human(dst),
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
            where=_human(folder.parent / LOCK_NAME),
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
            where=_human(folder),
            fix="audit again when nobody is changing it",
        )
    return recorded


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
        raise InputError(
            f"The data folder the record was built from is not there ({_human(data)})",
            fix="give the data folder with --data",
        )
    if code == RECORDED:
        problem = recorded_code_problem(recorded)
        if problem is not None:
            raise InputError(
                f"{q.prose} ({q.id}) cannot be audited with the code that made it: {problem}",
                where=_human(folder / record.MANIFEST_NAME),
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
                rerun = _rerun_current(
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
            rerun, problems = _rerun_recorded_code(q, recorded, data, tmp, jobs)
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
                f"{_short((recorded.get('code') or {}).get('git_commit'))})"
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
                _keep_copy(rerun, keep / name)
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
    from scorecard_lib.inputs.archive import ARCHIVE_DIR, current_records

    archive = resolve(archive_dir, ARCHIVE_DIR).resolve()
    records = current_records(archive)
    if not records:
        raise InputError(
            "There is no published quarter to audit",
            where=_human(archive),
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


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DIFFERENT",
    "EXIT_IDENTICAL",
    "AuditResult",
    "Finding",
    "ResultChange",
    "audit_all",
    "audit_quarter",
    "compare_html",
    "compare_notebooks",
    "compare_outputs",
    "compare_results",
    "exit_code",
    "impact_message",
    "published_quarters",
    "result_changes",
    "unexpected_result_changes",
]
