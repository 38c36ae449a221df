"""The project's git checkout: the one place the library calls git.

A manifest names the commit and whether the code had uncommitted changes, publishing refuses
code that is not committed, and the audit checks a recorded commit out as a worktree to re-run
it. All of them ask git the same few questions; every answer is None (or False) when git is
missing, fails or is not given a checkout, so a caller never sees a traceback from here.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from scorecard_lib.core.paths import PROJECT_ROOT

#: Seconds an ordinary question may take before git is given up on.
TIMEOUT = 60
#: Seconds adding or removing a worktree may take (it writes a whole checkout).
WORKTREE_TIMEOUT = 300

_WORKTREE_LOCK = threading.Lock()  # git worktree add/remove, one at a time


def run_bytes(*args: str, cwd: Path = PROJECT_ROOT, timeout: float = TIMEOUT) -> bytes | None:
    """What ``git -C cwd ARGS`` prints, as bytes; None when git is missing or fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def run(*args: str, cwd: Path = PROJECT_ROOT, timeout: float = TIMEOUT) -> str | None:
    """What ``git -C cwd ARGS`` prints, as text; None when git is missing or fails."""
    out = run_bytes(*args, cwd=cwd, timeout=timeout)
    return None if out is None else out.decode("utf-8", errors="replace")


def is_checkout(root: Path = PROJECT_ROOT, *, timeout: float = TIMEOUT) -> bool:
    """True when ``root`` is the top of a git checkout (not a folder inside another one)."""
    top = run("rev-parse", "--show-toplevel", cwd=root, timeout=timeout)
    return top is not None and Path(top.strip()).resolve() == root.resolve()


def head_commit(root: Path = PROJECT_ROOT, *, timeout: float = TIMEOUT) -> str | None:
    """The commit checked out at ``root``, or None."""
    head = run("rev-parse", "HEAD", cwd=root, timeout=timeout)
    return head.strip() if head else None


def has_changes(
    paths: tuple[str, ...], root: Path = PROJECT_ROOT, *, timeout: float = TIMEOUT
) -> bool | None:
    """True when ``paths`` hold uncommitted or untracked changes; None when git cannot tell."""
    status = run("status", "--porcelain", "--", *paths, cwd=root, timeout=timeout)
    return None if status is None else bool(status.strip())


def commit_exists(commit: str, root: Path = PROJECT_ROOT) -> bool:
    """True when the repository at ``root`` holds ``commit``."""
    return run("cat-file", "-e", f"{commit}^{{commit}}", cwd=root) is not None


def file_at(commit: str, path: str, root: Path = PROJECT_ROOT) -> bytes | None:
    """The bytes of ``path`` (relative to the project) at ``commit``, or None."""
    return run_bytes("show", f"{commit}:{path}", cwd=root)


def changed_paths(commit: str, paths: tuple[str, ...], root: Path = PROJECT_ROOT) -> str | None:
    """``git diff --name-status COMMIT -- PATHS``: one ``STATUS<tab>path`` line per file of
    ``paths`` that differs between ``commit`` and the working tree; None when git cannot tell."""
    return run("diff", "--name-status", commit, "--", *paths, cwd=root)


def untracked_paths(paths: tuple[str, ...], root: Path = PROJECT_ROOT) -> list[str]:
    """Files under ``paths`` that git does not track (and does not ignore)."""
    out = run("ls-files", "--others", "--exclude-standard", "--", *paths, cwd=root)
    return [name for name in (out or "").splitlines() if name]


def add_worktree(tree: Path, commit: str, root: Path = PROJECT_ROOT) -> bool:
    """Check ``commit`` out, detached, as a worktree in ``tree``; False when git cannot."""
    with _WORKTREE_LOCK:
        added = run(
            "worktree", "add", "--detach", "--force", str(tree), commit,
            cwd=root, timeout=WORKTREE_TIMEOUT,
        )  # fmt: skip
    return added is not None


def remove_worktree(tree: Path, root: Path = PROJECT_ROOT) -> None:
    """Remove the worktree in ``tree`` and forget it (quietly: it is a temporary checkout)."""
    with _WORKTREE_LOCK:
        run("worktree", "remove", "--force", str(tree), cwd=root, timeout=WORKTREE_TIMEOUT)
        run("worktree", "prune", cwd=root)
