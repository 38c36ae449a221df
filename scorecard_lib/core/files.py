"""Writing files: atomically, with the permissions the user's umask gives, and a full disk
said plainly.

Every atomic write in the project goes through :func:`write_atomically` (the build cache, the
work kept between builds, the files ``new-quarter`` and ``import`` write, the returns workbook)
and every staging folder beside a data folder through :func:`make_staging_folder`.
``tempfile`` creates files 0600 and folders 0700 whatever the umask, which is right for
secrets and wrong here: a colleague sharing the project folder must be able to read what one
analyst wrote. So both are given the mode an ordinary ``open()`` or ``mkdir()`` would
(0666 or 0777 less the umask) before anything else can see them.

A write that fails because the disk (or the user's quota) is full raises
:class:`~scorecard_lib.core.errors.DiskFullError` through :func:`full_disk_reported`, naming the
folder, instead of surfacing as "a section failed" or a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from scorecard_lib.core.errors import DiskFullError

#: errno values meaning "no room left": the disk is full, or the user's quota is used up.
DISK_FULL: frozenset[int] = frozenset(
    code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None
)


def umask() -> int:
    """The process's umask. Linux shows it in ``/proc/self/status``; elsewhere it can only be
    read by setting it, so it is set and put back at once."""
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii", errors="replace") as fh,
    ):
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``OSError`` saying the disk or the quota is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def disk_full_error(folder: Path, exc: OSError | None = None, outcome: str = "") -> DiskFullError:
    """The error for a full disk met while writing into ``folder``; ``outcome`` says what that
    means for the user (for a run: "nothing was published")."""
    where = exc.filename if exc is not None and exc.filename else folder
    return DiskFullError(
        f"The disk holding {folder} is full (or your disk quota is used up), so a file could "
        "not be written there" + (f"; {outcome}" if outcome else ""),
        where=str(where),
        fix="free some space on that disk, or write to a folder on another disk, then run the "
        "command again",
    )


@contextlib.contextmanager
def full_disk_reported(folder: Path, outcome: str = "") -> Iterator[None]:
    """Turn an ``OSError`` for a full disk raised inside the block into a
    :class:`DiskFullError` naming ``folder`` (see :func:`disk_full_error`); any other error
    passes unchanged."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(Path(folder), exc, outcome) from None
        raise


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so
    a reader sees the old file or the new one, never half of one. The file gets the mode an
    ordinary ``open()`` would give it (0666 less the umask). Nothing is left behind when the
    write fails (a full disk included). Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~umask())
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not exc.filename:
            exc.filename = str(path)  # a failed write() names no file: say which
        raise
    return path


def make_staging_folder(parent: Path, prefix: str) -> Path:
    """A new, uniquely named folder in ``parent`` with the mode ``mkdir()`` would give it
    (0777 less the umask), where ``tempfile.mkdtemp`` gives 0700."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        os.chmod(folder, 0o777 & ~umask())
    except BaseException:
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise
    return folder
