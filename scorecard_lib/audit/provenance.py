"""What the manifest records about how a report was made, against today: every input file's
sha256 (with the rows and columns that changed, when git holds the published version), the
code version and the environment (Python and each pinned package).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.audit.findings import Finding, csv_diff, limit, short_hash, text_diff
from scorecard_lib.core import git
from scorecard_lib.core.quarters import Quarter
from scorecard_lib.report import manifest as manifest_mod


def _input_diff(path: str, recorded_sha: str, commit: str | None, now: Path) -> list[str]:
    """What changed inside one input file, when git still holds the published version (the
    recorded commit has the file with the recorded sha256). Empty when it cannot be told."""
    if not commit or path.startswith(("DATA/", "EXTERNAL/")) or not now.is_file():
        return []
    old = git.file_at(commit, path)
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
        return csv_diff(old_text, new_text)
    return text_diff(old_text.splitlines(), new_text.splitlines(), "line")


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
            text = (
                f"changed: {name} (sha256 {short_hash(before)} when published, "
                f"{short_hash(now)} now)"
            )
            detail = limit(
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
    commits = f"recorded at commit {short_hash(old_commit)}, {label} at {short_hash(new_commit)}"
    if old_src != new_src and label != "now":
        text = (
            f"commit {short_hash(old_commit)} does not hold exactly the code that published this "
            f"report (source hash {short_hash(old_src)} recorded, {short_hash(new_src)} {label})"
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
            f"{short_hash(old_src)}, {label} {short_hash(new_src)}; {commits}"
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
            text += f"\ncode files that differ from commit {short_hash(old_commit)}{note}:\n"
            text += "\n".join(f"  {f}" for f in limit(files, "in the code"))
        found.append(Finding("code", text))
    else:
        same = f"same code (source hash equal, {short_hash(new_src)})"
        if old_commit != new_commit:
            same += f", {commits}"
        elif old_commit:
            same += f", commit {short_hash(old_commit)}"
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
    if not isinstance(commit, str) or not git.is_checkout() or not git.commit_exists(commit):
        return []
    paths = manifest_mod.CODE_PATHS
    diff = git.changed_paths(commit, paths)
    untracked = git.untracked_paths(paths)
    if diff is None:
        return []
    words = {"M": "modified", "A": "added", "D": "removed", "R": "renamed", "T": "changed"}
    lines = []
    for line in diff.splitlines():
        status, _, name = line.partition("\t")
        lines.append(f"{words.get(status[:1], status)}: {name.replace(chr(9), ' -> ')}")
    lines += [f"added (not committed): {n}" for n in untracked]
    return [x for x in lines if "__pycache__" not in x]


def compare_environment(
    recorded: Mapping[str, Any], current: Mapping[str, Any], *, label: str = "now"
) -> list[Finding]:
    """Python and each pinned package, as recorded against ``current``: every difference."""
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
