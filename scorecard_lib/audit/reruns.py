"""Re-running a published quarter: with today's code (the runner, in this process) or with
the code its manifest names (a git worktree of the recorded commit, run as a supervised
subprocess by this Python with the current data copied where the record read it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.audit.findings import Finding, short_hash
from scorecard_lib.core import git
from scorecard_lib.core.lifetime import run_supervised
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT
from scorecard_lib.core.quarters import Quarter
from scorecard_lib.report import record

#: The recorded-code re-run is a subprocess; it may take this long before it is stopped.
RECORDED_RUN_TIMEOUT = 3600

#: ``on_event(quarter_id, section, event, seconds)``: progress of the re-runs.
AuditEvent = Callable[[str, str, str, float | None], None]


def rerun_current(
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


def rerun_recorded_code(
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
    if not git.add_worktree(tree, commit):
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
                    f"the recorded code (commit {short_hash(commit)}) could not rebuild the "
                    f"quarter (exit {status}):\n{tail}",
                )
            ]
        kept = tmp / "recorded-record"
        shutil.copytree(folder, kept)
        return kept, []
    finally:
        git.remove_worktree(tree)


def recorded_code_problem(manifest: Mapping[str, Any]) -> str | None:
    """Why the recorded code cannot be checked out, or None when it can."""
    commit = (manifest.get("code") or {}).get("git_commit")
    if not isinstance(commit, str) or not commit:
        return (
            "the manifest names no git commit (the report was built outside a git checkout), "
            "so the code that made it cannot be re-run"
        )
    if not git.is_checkout():
        return (
            f"{PROJECT_ROOT} is not a git checkout, so commit {short_hash(commit)} cannot be "
            "checked out"
        )
    if not git.commit_exists(commit):
        return (
            f"the recorded commit {commit} is not in this repository, so the code that made "
            "the record cannot be re-run (and it is not compared with other code)"
        )
    return None
