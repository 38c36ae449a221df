"""Where things live. Every path is anchored on the project root, never the cwd."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

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


#: The current directory, as a root for :func:`display_path` (resolved when a path is shown):
#: paths in what the commands print to a person at a terminal are relative to where they are.
CURRENT_DIR: Path = Path()

#: What :func:`display_path` shows for a path under none of its roots: its file ``name`` only;
#: ``external``, the name of a file or ``<external>/NAME`` for a folder (in the report); the
#: path as ``given``; or the ``absolute`` path.
Outside = Literal["name", "external", "given", "absolute"]


def display_path(
    path: str | Path,
    data_dir: str | Path | None = None,
    *,
    root: Path | Sequence[Path] = PROJECT_ROOT,
    outside: Outside = "name",
) -> str:
    """A path as a message, the console or an output shows it: relative to the first of
    ``root`` it is inside (the project root; :data:`CURRENT_DIR` for the console), else
    ``DATA/...`` inside ``data_dir`` (``DATA/../...`` beside it, as a parameters file), else as
    ``outside`` says. The one place that decides how a path is shown, so that outputs never
    carry a machine's absolute path and messages name files the way the reader knows them.
    """
    given = Path(path)
    try:
        resolved: Path | None = given.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python 3.11, 3.12)
        resolved = None
    if resolved is not None:
        for base in (root,) if isinstance(root, Path) else root:
            try:
                return resolved.relative_to(base.resolve()).as_posix()
            except (ValueError, OSError, RuntimeError):
                continue
        if data_dir is not None:
            data = Path(data_dir).resolve()
            for prefix, base in (("DATA/", data), ("DATA/../", data.parent)):
                with contextlib.suppress(ValueError):
                    return prefix + resolved.relative_to(base).as_posix()
    if outside == "name":
        return given.name
    if outside == "given" or resolved is None:
        return str(given)
    if outside == "external":
        return resolved.name if resolved.is_file() else f"<external>/{resolved.name}"
    return str(resolved)


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
