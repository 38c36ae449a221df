"""Where a quarter's inputs live: the data folder, its quarter folders, the parameters files,
and how a file is named in messages.

Parameters files live in the project's ``params/``. A data folder given with ``--data DIR``
may bring its own: when a folder named ``params`` sits beside it (``DIR/../params``), that
folder is used instead (see :func:`default_params_dir`), in the runner and in the kernels
alike.

Only the standard library and ``core`` are imported: the command line checks a quarter
argument against :func:`looks_like_path` before pandas is loaded.
"""

from __future__ import annotations

import re
from pathlib import Path

from scorecard_lib.core.errors import InputError, QuarterError
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, display_path, resolve
from scorecard_lib.core.quarters import Quarter, parse_quarter

CATALOGUE_FILE = "catalogue.csv"
SETTINGS_FILE = "settings.yaml"
QUARTER_FILES = ("values.csv", "commentary.yaml", "risks.csv", "breakdowns.csv", "overrides.csv")
REQUIRED_QUARTER_FILES = ("values.csv", "risks.csv")
#: The officer-written text of the Cabinet paper sits beside the parameters file, in
#: ``params/QUARTER.paper.yaml`` (format in docs/data-model.md; used by paper.py).
PAPER_SUFFIX = ".paper.yaml"


def default_params_dir(data_dir: Path | str | None = None) -> Path:
    """Where a quarter's parameters file is looked for when no folder is given: ``params/``
    beside the data folder when that folder exists (for the project's own ``data/`` that is
    the project's ``params/``), otherwise the project's ``params/``."""
    if data_dir is None or str(data_dir) == "":
        return PARAMS_DIR
    beside = resolve(data_dir, DATA_DIR).parent / "params"
    return beside if beside.is_dir() else PARAMS_DIR


def chosen_params_dir(data_dir: Path | str | None, params_dir: Path | str | None) -> Path:
    """The parameters folder given, or the default one for ``data_dir``."""
    if params_dir is None or str(params_dir) == "":
        return default_params_dir(data_dir)
    return resolve(params_dir, PARAMS_DIR)


# Path separators other than the '/' of '2016/17', parent references, home and drive marks.
_PATH_MARKS = ("..", "\\", "\x00", "~", ":")
_FY_SLASH = re.compile(r"\d{4}\s*/\s*\d{2,4}")


def looks_like_path(text: str) -> bool:
    """True when ``text`` holds characters a quarter never has but a file path does: a
    quarter must never name a folder outside the data (``../../etc``, ``/tmp/x``)."""
    raw = str(text).strip()
    if any(mark in raw for mark in _PATH_MARKS) or raw.startswith("/"):
        return True
    return "/" in _FY_SLASH.sub("", raw)


def available_quarters(data_dir: Path | str | None = None) -> list[Quarter]:
    """Quarters that have data (a folder named by the quarter id holding values.csv)."""
    root = resolve(data_dir, DATA_DIR)
    found: list[Quarter] = []
    if not root.is_dir():
        return found
    for child in root.iterdir():
        if not (child / "values.csv").is_file():
            continue
        try:
            q = parse_quarter(child.name)
        except QuarterError:
            continue
        if q.id == child.name:
            found.append(q)
    return sorted(found)


def existing_data_folder(data_dir: Path | str | None) -> Path:
    """The data folder, resolved; an InputError when it does not exist."""
    root = resolve(data_dir, DATA_DIR)
    if not root.is_dir():
        raise InputError(
            f"The data folder {data_dir if data_dir else display_path(root)} does not exist",
            fix="pass --data with the folder that holds catalogue.csv and the quarter folders",
        )
    return root


def misnamed_folders(root: Path, q: Quarter) -> list[Path]:
    """Folders of ``root`` that name quarter ``q`` but not by its id (``2016-17 Q4``)."""
    found = []
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if not child.is_dir() or child.name == q.id:
                continue
            try:
                if parse_quarter(child.name) == q:
                    found.append(child)
            except QuarterError:
                continue
    return found


def params_path(quarter: Quarter, params_dir: Path | str | None = None) -> Path:
    return resolve(params_dir, PARAMS_DIR) / f"{quarter.id}.yaml"


def paper_path(quarter: Quarter, params_dir: Path | str | None = None) -> Path:
    """The officer-written text of the quarter's Cabinet paper, beside its parameters file."""
    return resolve(params_dir, PARAMS_DIR) / f"{quarter.id}{PAPER_SUFFIX}"


__all__ = [
    "CATALOGUE_FILE",
    "PAPER_SUFFIX",
    "QUARTER_FILES",
    "REQUIRED_QUARTER_FILES",
    "SETTINGS_FILE",
    "available_quarters",
    "chosen_params_dir",
    "default_params_dir",
    "existing_data_folder",
    "looks_like_path",
    "misnamed_folders",
    "paper_path",
    "params_path",
]
