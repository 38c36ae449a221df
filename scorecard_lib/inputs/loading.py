"""Read and validate every input a quarter's report needs. Nothing else reads data files.

A quarter's report reads the catalogue, the settings, its parameters file and every quarter
folder up to and including its own (carry-forward and trends look back; nothing looks
forward, so adding next quarter's data never changes a past quarter's report).

Parameters files live in the project's ``params/``. A data folder given with ``--data DIR``
may bring its own: when a folder named ``params`` sits beside it (``DIR/../params``), that
folder is used instead (see :func:`default_params_dir`), in the runner and in the kernels
alike.

All problems found are collected and raised together as one
:class:`~scorecard_lib.core.errors.ValidationError`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from scorecard_lib.core.errors import InputError, Problem, QuarterError, ValidationError
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, display_path, resolve
from scorecard_lib.core.quarters import EXAMPLE, Quarter, parse_quarter
from scorecard_lib.core.store import current_store
from scorecard_lib.inputs import readers, schemas

CATALOGUE_FILE = "catalogue.csv"
SETTINGS_FILE = "settings.yaml"
QUARTER_FILES = ("values.csv", "commentary.yaml", "risks.csv", "breakdowns.csv", "overrides.csv")
REQUIRED_QUARTER_FILES = ("values.csv", "risks.csv")
PARAM_KEYS = ("quarter", "cabinet_date", "title", "council")
#: The officer-written text of the Cabinet paper sits beside the parameters file, in
#: ``params/QUARTER.paper.yaml`` (format in docs/data-model.md; used by paper.py).
PAPER_SUFFIX = ".paper.yaml"
#: Keys of the paper file whose value is one piece of text, in the order they are listed.
PAPER_TEXT_KEYS = (
    "meeting",
    "item_title",
    "cabinet_member",
    "relevant_officer",
    "purpose",
    "caveats",
    "risk_background",
    "background_papers",
)
#: Keys under ``implications:``, one piece of text each.
PAPER_IMPLICATION_KEYS = ("legal_financial_hr", "privacy_public_health", "equality_diversity")
PAPER_KEYS = (*PAPER_TEXT_KEYS, "implications", "contacts")
#: Longest text accepted for one paper field (a page or so): more is a pasted document.
PAPER_MAX_CHARS = 4000
#: The schema of a parameters file: the YAML types each key may have (a quoted or unquoted
#: date is read as text or as a date; the quarter as text). Anything else, a list or mapping
#: above all, is refused rather than published as a Python repr.
PARAM_TYPES: dict[str, type | tuple[type, ...]] = {
    "quarter": str,
    "cabinet_date": (str, date),
    "title": str,
    "council": str,
}
_KIND_WORDS = {
    "quarter": "a quarter written as text",
    "cabinet_date": "a date written as text",
    "title": "one line of text",
    "council": "one line of text",
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "risk_bands": {"red": 15, "amber": 5},
    "direction_threshold_percent": 1.0,
    "notice": "",
}


@dataclass(frozen=True)
class Inputs:
    """Everything read from disk for one quarter, validated."""

    quarter: Quarter
    data_dir: Path
    params: dict[str, Any]
    settings: dict[str, Any]
    catalogue: pd.DataFrame  # every indicator ever defined
    values: pd.DataFrame  # every value row up to the quarter, with a 'quarter' column
    commentary: pd.DataFrame  # this quarter's commentary: indicator_id, commentary, actions, author
    risks: pd.DataFrame  # every register snapshot up to the quarter, with a 'quarter' column
    breakdowns: pd.DataFrame  # this quarter's breakdowns
    overrides: pd.DataFrame  # this quarter's overrides
    # the officer-written text of the Cabinet paper (paper_path's keys; absent keys left out)
    paper: Mapping[str, Any] = field(default_factory=dict)
    paper_file: str = ""  # the paper file as messages name it (params/QUARTER.paper.yaml)


# --- locating things ------------------------------------------------------------------------


def default_params_dir(data_dir: Path | str | None = None) -> Path:
    """Where a quarter's parameters file is looked for when no folder is given: ``params/``
    beside the data folder when that folder exists (for the project's own ``data/`` that is
    the project's ``params/``), otherwise the project's ``params/``."""
    if data_dir is None or str(data_dir) == "":
        return PARAMS_DIR
    beside = resolve(data_dir, DATA_DIR).parent / "params"
    return beside if beside.is_dir() else PARAMS_DIR


def _params_dir(data_dir: Path | str | None, params_dir: Path | str | None) -> Path:
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


def check_quarter(quarter: str | Quarter, data_dir: Path | str | None = None) -> Quarter:
    """Parse ``quarter`` and make sure it has data; the error lists the quarters that do."""
    if not isinstance(quarter, Quarter) and looks_like_path(str(quarter)):
        raise QuarterError(
            f"{str(quarter)!r} looks like a file path, not a quarter",
            fix=f"give the quarter only, as {EXAMPLE}; choose the data folder with --data",
        )
    q = parse_quarter(quarter)
    _data_folder_exists(data_dir)
    have = available_quarters(data_dir)
    if q not in have:
        listed = ", ".join(x.id for x in have) or "none"
        root = resolve(data_dir, DATA_DIR)
        misnamed = _misnamed_folders(root, q)
        if misnamed:
            raise QuarterError(
                f"There is no data for {q.prose} ({q.id}): its folder is misnamed",
                where=", ".join(display_path(f, root) for f in misnamed),
                fix=f"rename the folder to {q.id} (quarter folders use the id exactly)",
            )
        raise QuarterError(
            f"There is no data for {q.prose} ({q.id})",
            where=display_path(root / q.id / "values.csv", root),
            fix=f"choose a quarter that has data ({listed}) or add this quarter's data "
            "(see 'Adding a quarter' in README.md)",
        )
    return q


def _data_folder_exists(data_dir: Path | str | None) -> Path:
    root = resolve(data_dir, DATA_DIR)
    if not root.is_dir():
        raise InputError(
            f"The data folder {data_dir if data_dir else display_path(root)} does not exist",
            fix="pass --data with the folder that holds catalogue.csv and the quarter folders",
        )
    return root


def _misnamed_folders(root: Path, q: Quarter) -> list[Path]:
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


def input_files(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> list[Path]:
    """Every file the quarter's report reads, sorted: what the manifest hashes."""
    q = parse_quarter(quarter)
    root = resolve(data_dir, DATA_DIR)
    files = [
        root / CATALOGUE_FILE,
        root / SETTINGS_FILE,
        params_path(q, _params_dir(data_dir, params_dir)),
        paper_path(q, _params_dir(data_dir, params_dir)),
    ]
    for earlier in available_quarters(root):
        if earlier <= q:
            files.extend(root / earlier.id / name for name in QUARTER_FILES)
    return sorted({f for f in files if f.is_file()}, key=lambda p: p.as_posix())


# --- reading --------------------------------------------------------------------------------


def _read_yaml(path: Path, data_dir: Path, problems: list[Problem]) -> Any:
    """The YAML file read safely (:mod:`readers`: size cap, duplicate keys, alias bombs);
    None, with the problem added, when it cannot be."""
    try:
        text = readers.read_capped(path, readers.MAX_YAML_BYTES)
    except readers.TooLargeError as exc:
        problems.append(
            Problem(
                file=display_path(path, data_dir),
                rule=readers.too_large_rule(exc),
                fix="check that this is the right file; a YAML input holds parameters, "
                "settings or commentary only",
            )
        )
        return None
    except FileNotFoundError:
        problems.append(
            Problem(
                file=display_path(path, data_dir),
                rule="the file is missing",
                fix="create it (see docs/data-model.md)",
            )
        )
        return None
    except UnicodeDecodeError:
        problems.append(
            Problem(
                file=display_path(path, data_dir),
                rule="the file is not UTF-8 text",
                fix="save it as UTF-8",
            )
        )
        return None
    try:
        return readers.load_yaml(text)
    except readers.YamlRefused as exc:
        problems.append(Problem(file=display_path(path, data_dir), rule=exc.rule, fix=exc.fix))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or "it is not valid YAML"
        at = "" if mark is None else f" at line {mark.line + 1}, character {mark.column + 1}"
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and (mark is None or start.line != mark.line):
            what += f" ({context} that starts at line {start.line + 1})"
        fix = "check the indentation, colons and quotes on that line and the one before"
        if "mapping values are not allowed" in what:
            fix = (
                "text holding ': ' must be in quotes, or written on its own indented lines "
                "after 'commentary: |'"
            )
        elif context == "while scanning a quoted scalar" and start is not None:
            fix = f"close the quote opened on line {start.line + 1}"
        elif "found character '\\t'" in what:
            fix = "indent with spaces, not tabs"
        problems.append(
            Problem(
                file=display_path(path, data_dir),
                rule=f"malformed YAML{at}: {what}",
                fix=fix,
            )
        )
        return None


def _read_csv(
    path: Path,
    data_dir: Path,
    problems: list[Problem],
    *,
    required: bool = True,
    columns: tuple[str, ...] = (),
) -> pd.DataFrame | None:
    name = display_path(path, data_dir)
    if not path.is_file():
        if required:
            problems.append(
                Problem(
                    file=name,
                    rule="the file is missing",
                    fix="create it with the columns in docs/data-model.md",
                )
            )
        return None
    try:
        text = readers.read_capped(path, readers.MAX_CSV_BYTES, encoding="utf-8-sig")
        if not _even_rows(text, name, problems, columns):
            return None
        # Blank lines are kept (and dropped later) so that row numbers stay the spreadsheet's.
        return pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except readers.TooLargeError as exc:
        problems.append(
            Problem(
                file=name,
                rule=readers.too_large_rule(exc),
                fix="check that this is the right file; split off or remove rows that do not "
                "belong to this quarter",
            )
        )
    except UnicodeDecodeError:
        problems.append(
            Problem(
                file=name,
                rule="the file is not UTF-8 text",
                fix="save it as CSV UTF-8 from your spreadsheet program",
            )
        )
    except pd.errors.EmptyDataError:
        problems.append(
            Problem(
                file=name,
                rule="the file is empty",
                fix="add the header row from docs/data-model.md",
            )
        )
    except pd.errors.ParserError as exc:
        problems.append(
            Problem(
                file=name,
                rule=f"the file is not well-formed CSV ({exc})",
                fix="check that every row has the same number of commas",
            )
        )
    return None


def _even_rows(
    text: str, name: str, problems: list[Problem], columns: tuple[str, ...] = ()
) -> bool:
    """Every row has as many cells as the header; otherwise say which rows do not (or, when
    every row disagrees with the header in the same way, that the header is wrong)."""
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        problems.append(
            Problem(
                file=name,
                rule=f"the file is not well-formed CSV ({exc})",
                fix="check the quotes in the file",
            )
        )
        return False
    if not records or not any(c.strip() for c in records[0]):
        return True  # an empty file is reported by the reader
    width = len(records[0])
    bad = [
        (n, len(rec))
        for n, rec in enumerate(records[1:], start=2)
        if rec and len(rec) != width and any(c.strip() for c in rec)
    ]
    rows = [rec for rec in records[1:] if rec and any(c.strip() for c in rec)]
    if bad and len(bad) == len(rows) > 1 and len({cells for _, cells in bad}) == 1:
        cells = bad[0][1]
        missing = [c for c in columns if c not in (h.strip() for h in records[0])]
        what = (
            f"a heading is missing ({', '.join(missing)}?)"
            if missing and cells > width
            else "the header and the rows disagree"
        )
        problems.append(
            Problem(
                file=name,
                row=1,
                rule=f"the header row has {width} headings but every row has {cells} cells: "
                + what,
                fix="make the header row match the rows: one heading per column"
                + (f" ({', '.join(columns)})" if columns else ""),
            )
        )
        return False
    for row, cells in bad[:10]:
        problems.append(
            Problem(
                file=name,
                row=row,
                rule=f"this row has {cells} cells but the header row has {width}",
                fix="check for a missing or extra comma, a column without a heading, or a "
                "figure like 1,304 that needs quotes (or no comma)",
            )
        )
    if len(bad) > 10:
        problems.append(
            Problem(
                file=name,
                rule=f"{len(bad) - 10} more rows have the wrong number of cells",
                fix="fix the rows above first, then validate again",
            )
        )
    return not bad


def _table(
    path: Path,
    spec: schemas.TableSpec,
    data_dir: Path,
    problems: list[Problem],
    *,
    passed: list[str],
    required: bool = True,
) -> pd.DataFrame | None:
    raw = _read_csv(path, data_dir, problems, required=required, columns=spec.columns)
    if raw is None:
        return None
    name = display_path(path, data_dir)
    df, found = schemas.clean_frame(raw, spec, name)
    found += _validated(df, spec, name, found, passed)
    problems.extend(found)
    return df


def _validated(
    df: pd.DataFrame,
    spec: schemas.TableSpec,
    name: str,
    found: list[Problem],
    passed: list[str],
) -> list[Problem]:
    """The schema's problems with ``df``. With the store of kept work on (``kept.py``: only in
    ``scorecard run`` with its cache), a table that passed before, with the very same cells,
    schema and code, is not validated again. The key of a table that passes now is added to
    ``passed``; the caller keeps them only if every input passed."""
    store = current_store()
    key = None
    if store is not None and not found:
        key = store.key("validation", schemas.spec_name(spec), df)
        if key is not None and store.passed(key):
            return []
    more = schemas.validate_frame(df, spec, name, already=found)
    if key is not None and not more:
        passed.append(key)
    return more


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def load_params(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> dict[str, Any]:
    """The quarter's parameters file, checked; raises ValidationError when it is wrong."""
    q = parse_quarter(quarter)
    problems: list[Problem] = []
    params = _params(q, resolve(data_dir, DATA_DIR), _params_dir(data_dir, params_dir), problems)
    if problems:
        raise ValidationError(problems)
    return params


def _params(
    q: Quarter, root: Path, params_dir: Path | str | None, problems: list[Problem]
) -> dict[str, Any]:
    path = params_path(q, params_dir)
    name = display_path(path, root)
    if not path.is_file():
        problems.append(
            Problem(
                file=name,
                rule=f"there is no parameters file for {q.id}",
                fix=f"create {name} with the keys {', '.join(PARAM_KEYS)}",
            )
        )
        return {"quarter": q.id, "title": "Balanced Scorecard", "council": "", "cabinet_date": ""}
    data = _read_yaml(path, root, problems)
    if data is None:
        return {"quarter": q.id, "title": "Balanced Scorecard", "council": "", "cabinet_date": ""}
    if not isinstance(data, Mapping):
        problems.append(
            Problem(
                file=name,
                rule="the file must hold 'key: value' lines",
                fix=f"write the keys {', '.join(PARAM_KEYS)}",
            )
        )
        return {"quarter": q.id, "title": "Balanced Scorecard", "council": "", "cabinet_date": ""}
    params = {str(k): v for k, v in data.items()}
    refused: set[str] = set()
    for key, kinds in PARAM_TYPES.items():
        value = params.get(key)
        if value is None or (isinstance(value, kinds) and not isinstance(value, bool)):
            continue
        problems.append(
            Problem(
                file=name,
                column=key,
                rule=f"must be {_KIND_WORDS[key]}, not {_yaml_kind(value)}",
                fix=f"write one line '{key}: ...' with the text in quotes",
            )
        )
        params[key] = ""  # reported; never published as a Python repr
        refused.add(key)
    for key in PARAM_KEYS:
        if key in refused:
            continue
        if key not in params or params[key] in (None, ""):
            problems.append(
                Problem(
                    file=name,
                    column=key,
                    rule="this parameter is missing",
                    fix=f"add a line '{key}: ...'",
                )
            )
    unknown = sorted(set(params) - set(PARAM_KEYS))
    for key in unknown:
        close = difflib.get_close_matches(key, [k for k in PARAM_KEYS if k not in params], n=1)
        problems.append(
            Problem(
                file=name,
                column=key,
                rule="this parameter is not known",
                fix=f"rename it to '{close[0]}'"
                if close
                else f"remove it; known parameters are {', '.join(PARAM_KEYS)}",
            )
        )
    when = params.get("cabinet_date")
    if when not in (None, "") and not _is_iso_date(when):
        problems.append(
            Problem(
                file=name,
                column="cabinet_date",
                value=str(when),
                rule="not a date written year-month-day",
                fix='write the date of the Cabinet meeting as e.g. "2017-07-20", in quotes',
            )
        )
    if "quarter" in params:
        try:
            if parse_quarter(str(params["quarter"])) != q:
                problems.append(
                    Problem(
                        file=name,
                        column="quarter",
                        value=str(params["quarter"]),
                        rule=f"the file is for another quarter than {q.id}",
                        fix=f"set 'quarter: {q.id}'",
                    )
                )
        except QuarterError:
            problems.append(
                Problem(
                    file=name,
                    column="quarter",
                    value=str(params["quarter"]),
                    rule="not a quarter",
                    fix=f"set 'quarter: {q.id}'",
                )
            )
    params["quarter"] = q.id
    params = {k: ("" if v is None else str(v)) for k, v in params.items()}
    return params


def load_paper(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> tuple[dict[str, Any], str]:
    """The quarter's checked Cabinet paper text (``params/QUARTER.paper.yaml``; empty when
    there is none) and the file's name as messages show it; raises ValidationError when the
    file is wrong. For checks that need the paper without the rest of the inputs."""
    q = parse_quarter(quarter)
    root = resolve(data_dir, DATA_DIR)
    path = paper_path(q, _params_dir(data_dir, params_dir))
    problems: list[Problem] = []
    paper = _paper(path, root, problems)
    if problems:
        raise ValidationError(problems)
    return paper, display_path(path, root)


def _yaml_kind(value: object) -> str:
    """What a YAML value is, in words, for messages."""
    if isinstance(value, Mapping):
        return "a mapping of keys and values"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return type(value).__name__


def _is_iso_date(value: object) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)))


def _settings(root: Path, problems: list[Problem]) -> dict[str, Any]:
    path = root / SETTINGS_FILE
    if not path.is_file():
        return dict(DEFAULT_SETTINGS)
    data = _read_yaml(path, root, problems)
    if data is None:
        return dict(DEFAULT_SETTINGS)
    if not isinstance(data, Mapping):
        problems.append(
            Problem(
                file=display_path(path, root),
                rule="the file must hold 'key: value' lines",
                fix=f"write the keys {', '.join(DEFAULT_SETTINGS)} (see docs/data-model.md)",
            )
        )
        data = {}
    for key in sorted(set(map(str, data)) - set(DEFAULT_SETTINGS)):
        close = difflib.get_close_matches(key, list(DEFAULT_SETTINGS), n=1)
        problems.append(
            Problem(
                file=display_path(path, root),
                column=key,
                rule="this setting is not known",
                fix=f"rename it to '{close[0]}'"
                if close
                else f"remove it; the settings are {', '.join(DEFAULT_SETTINGS)}",
            )
        )
    settings = {**DEFAULT_SETTINGS, **data}
    bands = settings.get("risk_bands")
    ok = (
        isinstance(bands, Mapping)
        and all(isinstance(bands.get(k), int) for k in ("red", "amber"))
        and 1 < bands["amber"] < bands["red"] <= 25
    )
    if not ok:
        problems.append(
            Problem(
                file=display_path(path, root),
                column="risk_bands",
                rule="risk bands must give whole-number lowest scores with 1 < amber < red <= 25",
                fix="write e.g. 'red: 15' and 'amber: 5'",
            )
        )
        settings["risk_bands"] = DEFAULT_SETTINGS["risk_bands"]
    notice = settings.get("notice")
    if notice is None:
        settings["notice"] = ""
    elif not isinstance(notice, str):
        problems.append(
            Problem(
                file=display_path(path, root),
                column="notice",
                rule=f"must be one line of text, not {_yaml_kind(notice)}",
                fix="write 'notice: ...' with the text in quotes, or leave it empty",
            )
        )
        settings["notice"] = ""
    thr = settings.get("direction_threshold_percent")
    if isinstance(thr, bool) or not isinstance(thr, int | float) or thr < 0:
        problems.append(
            Problem(
                file=display_path(path, root),
                column="direction_threshold_percent",
                rule="must be a number of 0 or more",
                fix="write e.g. 1.0",
            )
        )
        settings["direction_threshold_percent"] = 1.0
    return settings


def _paper_text(value: Any, name: str, key: str, problems: list[Problem]) -> str | None:
    """One text field of the paper file: a string (a number or date is taken as written),
    not a list or mapping, of reasonable length. None when it is wrong (reported)."""
    if value is None:
        return ""
    if isinstance(value, bool | Mapping | list):
        problems.append(
            Problem(
                file=name,
                column=key,
                rule="this must be text",
                fix=f"write '{key}: ' followed by the text, or '{key}: |' and the text on "
                "the indented lines below",
            )
        )
        return None
    text = str(value).strip()
    if len(text) > PAPER_MAX_CHARS:
        problems.append(
            Problem(
                file=name,
                column=key,
                rule=f"the text is {len(text)} characters long, more than the "
                f"{PAPER_MAX_CHARS} a section of the cover report may have",
                fix="shorten it, and put the detail in a background paper",
            )
        )
        return None
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        problems.append(
            Problem(
                file=name,
                column=key,
                rule="the text holds control characters",
                fix="retype the text, or paste it as plain text",
            )
        )
        return None
    return text


def _paper(path: Path, root: Path, problems: list[Problem]) -> dict[str, Any]:
    """The officer-written text of the Cabinet paper. A missing file or field is allowed here
    (a draft shows a "to be completed" box); ``paper.missing_for_publication`` names them."""
    if not path.is_file():
        return {}
    name = display_path(path, root)
    data = _read_yaml(path, root, problems)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        problems.append(
            Problem(
                file=name,
                rule="the file must hold 'key: text' lines",
                fix=f"write the keys {', '.join(PAPER_KEYS)} (see docs/data-model.md)",
            )
        )
        return {}
    paper: dict[str, Any] = {}
    for key in sorted(set(map(str, data)) - set(PAPER_KEYS)):
        close = difflib.get_close_matches(key, list(PAPER_KEYS), n=1)
        problems.append(
            Problem(
                file=name,
                column=key,
                rule="this key is not known",
                fix=f"rename it to '{close[0]}'"
                if close
                else f"remove it; the keys are {', '.join(PAPER_KEYS)}",
            )
        )
    for key in PAPER_TEXT_KEYS:
        if key in data:
            text = _paper_text(data[key], name, key, problems)
            if text is not None:
                paper[key] = text
    if "implications" in data:
        given = data["implications"]
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            problems.append(
                Problem(
                    file=name,
                    column="implications",
                    rule="implications must list one text for each kind of implication",
                    fix="write 'implications:' and under it, indented, "
                    + ", ".join(f"'{k}: ...'" for k in PAPER_IMPLICATION_KEYS),
                )
            )
            given = {}
        implications: dict[str, str] = {}
        for key in sorted(set(map(str, given)) - set(PAPER_IMPLICATION_KEYS)):
            close = difflib.get_close_matches(key, list(PAPER_IMPLICATION_KEYS), n=1)
            problems.append(
                Problem(
                    file=name,
                    column=f"implications.{key}",
                    rule="this kind of implication is not known",
                    fix=f"rename it to '{close[0]}'"
                    if close
                    else f"use only {', '.join(PAPER_IMPLICATION_KEYS)}",
                )
            )
        for key in PAPER_IMPLICATION_KEYS:
            if key in given:
                text = _paper_text(given[key], name, f"implications.{key}", problems)
                if text is not None:
                    implications[key] = text
        paper["implications"] = implications
    if "contacts" in data:
        contacts = data["contacts"]
        if contacts is None:
            contacts = []
        if isinstance(contacts, str):
            contacts = [contacts]
        if not isinstance(contacts, list):
            problems.append(
                Problem(
                    file=name,
                    column="contacts",
                    rule="contacts must be a list",
                    fix="write each contact on its own line starting with '- '",
                )
            )
            contacts = []
        texts = [
            _paper_text(c, name, f"contacts (item {i})", problems)
            for i, c in enumerate(contacts, start=1)
        ]
        paper["contacts"] = [t for t in texts if t]
    return paper


def _commentary(path: Path, root: Path, problems: list[Problem]) -> pd.DataFrame:
    columns = ["indicator_id", "commentary", "actions", "author"]
    if not path.is_file():
        return _empty(columns)
    data = _read_yaml(path, root, problems)
    name = display_path(path, root)
    if data is None:
        return _empty(columns)
    if not isinstance(data, Mapping):
        problems.append(
            Problem(
                file=name,
                rule="the file must map indicator ids to entries",
                fix="start each entry with the indicator id and a colon",
            )
        )
        return _empty(columns)
    rows = []
    for key, entry in data.items():
        if not isinstance(entry, Mapping):
            problems.append(
                Problem(
                    file=name,
                    column=str(key),
                    rule="the entry must have 'commentary', 'actions' and 'author' keys",
                    fix="indent 'commentary: |' under the indicator id",
                )
            )
            continue
        extra = sorted(set(map(str, entry)) - {"commentary", "actions", "author"})
        for k in extra:
            problems.append(
                Problem(
                    file=name,
                    column=f"{key}.{k}",
                    rule="unknown key",
                    fix="use only 'commentary', 'actions' and 'author'",
                )
            )
        texts = {}
        for part in ("commentary", "author"):
            value = entry.get(part)
            if value is not None and not isinstance(value, str):
                problems.append(
                    Problem(
                        file=name,
                        column=f"{key}.{part}",
                        rule=f"must be text, not {_yaml_kind(value)}",
                        fix=f"write the {part} as text: after '{part}: |' on indented lines, "
                        "or in quotes",
                    )
                )
                value = None
            texts[part] = value or ""
        actions = entry.get("actions") or []
        if isinstance(actions, str):
            actions = [actions]
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            problems.append(
                Problem(
                    file=name,
                    column=f"{key}.actions",
                    rule="actions must be a list of sentences",
                    fix="write each action on its own line starting with '- '",
                )
            )
            actions = []
        rows.append(
            {
                "indicator_id": str(key),
                "commentary": texts["commentary"],
                "actions": [a.strip() for a in actions],
                "author": texts["author"],
            }
        )
    return pd.DataFrame(rows, columns=columns) if rows else _empty(columns)


def load_inputs(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> Inputs:
    """Read and validate every input of ``quarter``; raise one ValidationError listing all
    problems. Raises QuarterError when the quarter has no data."""
    root = _data_folder_exists(data_dir)
    q = check_quarter(quarter, root)
    problems: list[Problem] = []
    passed: list[str] = []  # tables validated now without a problem (kept.py)
    params = _params(q, root, _params_dir(data_dir, params_dir), problems)
    paper_file = paper_path(q, _params_dir(data_dir, params_dir))
    paper = _paper(paper_file, root, problems)
    settings = _settings(root, problems)

    catalogue = _table(root / CATALOGUE_FILE, schemas.CATALOGUE, root, problems, passed=passed)
    if catalogue is None or not set(_CATALOGUE_KEYS) <= set(catalogue.columns):
        # The other files are checked against the catalogue: that waits until it is readable.
        raise ValidationError(problems)
    _check_catalogue(catalogue, display_path(root / CATALOGUE_FILE, root), problems)

    values_parts, risk_parts = [], []
    for earlier in available_quarters(root):
        if earlier > q:
            continue
        folder = root / earlier.id
        vals = _table(folder / "values.csv", schemas.VALUES, root, problems, passed=passed)
        if vals is not None:
            _check_values(
                vals, catalogue, earlier, display_path(folder / "values.csv", root), problems
            )
            values_parts.append(vals.assign(quarter=earlier.id))
        risks = _table(
            folder / "risks.csv",
            schemas.RISKS,
            root,
            problems,
            required=earlier == q,
            passed=passed,
        )
        if risks is not None:
            risk_parts.append(risks.assign(quarter=earlier.id))

    folder = root / q.id
    commentary = _commentary(folder / "commentary.yaml", root, problems)
    _check_known_ids(
        commentary,
        catalogue,
        display_path(folder / "commentary.yaml", root),
        problems,
        row_offset=None,
    )
    breakdowns = _table(
        folder / "breakdowns.csv", schemas.BREAKDOWNS, root, problems, required=False, passed=passed
    )
    if breakdowns is None:
        breakdowns = _empty(["indicator_id", "dimension", "category", "value"])
    else:
        _check_known_ids(
            breakdowns, catalogue, display_path(folder / "breakdowns.csv", root), problems
        )
    overrides = _table(
        folder / "overrides.csv", schemas.OVERRIDES, root, problems, required=False, passed=passed
    )
    if overrides is None:
        overrides = _empty(["indicator_id", "rating", "reason", "approved_by"])
    else:
        _check_known_ids(
            overrides, catalogue, display_path(folder / "overrides.csv", root), problems
        )

    if problems:
        raise ValidationError(problems)
    store = current_store()
    for key in passed if store is not None else ():
        store.keep_pass(key)
    values = (
        pd.concat(values_parts, ignore_index=True)
        if values_parts
        else _empty([*schemas.VALUES.columns, "quarter"])
    )
    for col in ("numerator", "denominator"):
        if col not in values.columns:
            values[col] = float("nan")
    risks_all = pd.concat(risk_parts, ignore_index=True)
    return Inputs(
        quarter=q,
        data_dir=root,
        params=params,
        settings=settings,
        catalogue=catalogue,
        values=values,
        commentary=commentary,
        risks=risks_all,
        breakdowns=breakdowns,
        overrides=overrides,
        paper=paper,
        paper_file=display_path(paper_file, root),
    )


# --- checks across files ----------------------------------------------------------------------


def in_force(catalogue: pd.DataFrame, quarter: Quarter) -> pd.Series:
    """Boolean mask: which catalogue rows are on the scorecard in ``quarter``."""
    first = catalogue["first_quarter"].map(lambda s: parse_quarter(s).index)
    last = catalogue["last_quarter"].map(lambda s: parse_quarter(s).index if s else 10**9)
    return (first <= quarter.index) & (quarter.index <= last)


def _check_catalogue(cat: pd.DataFrame, name: str, problems: list[Problem]) -> None:
    if {"first_quarter", "last_quarter"} <= set(cat.columns):
        for idx, row in cat.iterrows():
            try:
                first = parse_quarter(str(row["first_quarter"]))
                last = parse_quarter(str(row["last_quarter"])) if row["last_quarter"] else None
            except QuarterError:
                continue  # reported by the schema
            if last is not None and last < first:
                problems.append(
                    Problem(
                        file=name,
                        row=int(idx) + 2,
                        column="last_quarter",
                        value=str(row["last_quarter"]),
                        rule=f"the last quarter is before the first quarter ({first.id})",
                        fix="correct first_quarter or last_quarter",
                    )
                )
    if not {"rating_basis", "tolerance", "tolerance_type"} <= set(cat.columns):
        return
    for idx, row in cat.iterrows():
        if row["rating_basis"] == "data_only":
            continue
        for col in ("tolerance", "tolerance_type"):
            val = row[col]
            if val is None or (isinstance(val, float) and pd.isna(val)):
                problems.append(
                    Problem(
                        file=name,
                        row=int(idx) + 2,
                        column=col,
                        rule=f"a rated indicator ({row['rating_basis']} basis) needs a {col}",
                        fix="fill it in, or set rating_basis to data_only",
                    )
                )


def _check_known_ids(
    df: pd.DataFrame,
    catalogue: pd.DataFrame,
    name: str,
    problems: list[Problem],
    row_offset: int | None = 2,
) -> None:
    if "indicator_id" not in df.columns:
        return  # reported as a missing column
    known = set(catalogue["indicator_id"].dropna())
    for idx, ind in df["indicator_id"].items():
        if ind is not None and ind not in known:
            problems.append(
                Problem(
                    file=name,
                    row=None if row_offset is None else int(idx) + row_offset,
                    column="indicator_id",
                    value=str(ind),
                    rule="this indicator is not in the catalogue",
                    fix="correct the id or add the indicator to catalogue.csv",
                )
            )


#: Catalogue columns the checks of the other files rely on.
_CATALOGUE_KEYS = ("indicator_id", "unit", "rating_basis", "first_quarter", "last_quarter")


def _force_status(catalogue: pd.DataFrame, q: Quarter) -> tuple[set[str], set[str]]:
    """Ids in force in ``q``, and ids whose catalogue quarters cannot be read (reported on the
    catalogue; the other files are not blamed for them)."""
    in_force_ids: set[str] = set()
    unsure: set[str] = set()
    for _, row in catalogue.iterrows():
        ind = row["indicator_id"]
        try:
            first = parse_quarter(str(row["first_quarter"]))
            last = parse_quarter(str(row["last_quarter"])) if row["last_quarter"] else None
        except QuarterError:
            unsure.add(ind)
            continue
        if last is not None and last < first:
            unsure.add(ind)
        elif first <= q and (last is None or q <= last):
            in_force_ids.add(ind)
    return in_force_ids, unsure


_NON_NEGATIVE_UNITS = ("per_10000", "percent", "days", "count", "years")


def _check_values(
    vals: pd.DataFrame, catalogue: pd.DataFrame, q: Quarter, name: str, problems: list[Problem]
) -> None:
    if "indicator_id" not in vals.columns:
        return
    cat = catalogue.set_index("indicator_id", drop=False)
    cat = cat[~cat.index.duplicated()]
    in_force_ids, unsure = _force_status(catalogue, q)
    for idx, row in vals.iterrows():
        ind = row["indicator_id"]
        r = int(idx) + 2
        if ind is None:
            continue
        if ind not in cat.index:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="indicator_id",
                    value=str(ind),
                    rule="this indicator is not in the catalogue",
                    fix="correct the id or add the indicator to catalogue.csv",
                )
            )
            continue
        if ind not in in_force_ids and ind not in unsure:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="indicator_id",
                    value=str(ind),
                    rule=f"this indicator is not on the scorecard in {q.id}",
                    fix="remove the row or change first_quarter/last_quarter in catalogue.csv",
                )
            )
        d = cat.loc[ind]
        basis = d["rating_basis"]
        if basis in ("target", "benchmark") and basis in vals.columns and pd.isna(row.get(basis)):
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column=basis,
                    rule=f"{ind} is rated against a {basis} but none is given",
                    fix=f"fill in the {basis} (or carry last quarter's)",
                )
            )
        value = row.get("value")
        if value is None or pd.isna(value):
            continue
        if d["unit"] == "percent" and not 0 <= value <= 100:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="value",
                    value=f"{value:g}",
                    rule="a percentage must be between 0 and 100",
                    fix="write the percentage as a number from 0 to 100",
                )
            )
        elif d["unit"] in _NON_NEGATIVE_UNITS and value < 0:
            problems.append(
                Problem(
                    file=name,
                    row=r,
                    column="value",
                    value=f"{value:g}",
                    rule=f"a {d['unit'].replace('_', ' ')} cannot be negative",
                    fix="check the sign of the figure",
                )
            )
