"""Where things live. Every path is anchored on the project root, never the cwd."""

from __future__ import annotations

import errno
from pathlib import Path

from scorecard_lib.core.errors import InputError

LIBRARY_DIR: Path = Path(__file__).resolve().parent.parent
PROJECT_ROOT: Path = LIBRARY_DIR.parent
DATA_DIR: Path = PROJECT_ROOT / "data"
PARAMS_DIR: Path = PROJECT_ROOT / "params"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
OUTPUTS_DIR: Path = PROJECT_ROOT / "outputs"
TEMPLATES_DIR: Path = LIBRARY_DIR / "templates"


def resolve(path: str | Path | None, default: Path) -> Path:
    """An absolute path: ``default`` when ``path`` is empty, else ``path`` made absolute.

    A relative path given by a user on the command line is taken relative to where they
    typed it (that is what they mean); defaults never depend on the current directory.
    """
    if path is None or str(path) == "":
        return default
    return resolve_given(path)


def resolve_given(path: str | Path) -> Path:
    """``path`` as a user gave it (``~`` expanded), made absolute with its links followed.

    A symbolic link that leads back to itself (a loop) is an input error naming the path,
    where ``Path.resolve`` raises ``RuntimeError`` (Python 3.11, 3.12) or ``OSError`` (3.13).
    """
    given = Path(path).expanduser()
    try:
        return given.resolve()
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        raise InputError(
            f"The path {str(path)!r} is a symbolic link that leads back to itself (a loop), "
            "so it names no file or folder",
            where=str(path),
            fix="point the link at a real folder or file, or give that folder or file instead",
        ) from None


def display_path(path: Path) -> str:
    """A path as it may appear in outputs: relative to the project root when inside it.

    Outputs never carry machine-specific absolute paths.
    """
    path = Path(path).resolve()
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.name if path.is_file() else f"<external>/{path.name}"


def data_parameter(data: Path) -> str:
    """The ``data_dir`` notebook parameter for the data folder ``data`` (absolute): ``""`` for
    the project's own ``data/``, the path relative to the project root for a folder inside the
    project, otherwise the folder's absolute path."""
    if data == DATA_DIR.resolve():
        return ""
    try:
        return data.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(data)
