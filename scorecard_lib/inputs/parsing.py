"""Parse one CSV or YAML input into data, and every problem with it located by file, row and
column, so that all of a quarter's problems can be reported together.

:mod:`readers` reads a file's text safely (size caps, a YAML loader that refuses duplicate
keys and alias bombs); this module turns that text into a checked data frame or YAML value
and words each failure for the person who edits the file. A table is checked with its
:mod:`schemas` spec; with the store of kept work on, a table that passed before with the same
cells is not checked again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from scorecard_lib.core.errors import Problem
from scorecard_lib.core.paths import display_path
from scorecard_lib.core.store import current_store
from scorecard_lib.inputs import readers, schemas


def read_yaml(path: Path, data_dir: Path, problems: list[Problem]) -> Any:
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


def read_csv(
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


def read_table(
    path: Path,
    spec: schemas.TableSpec,
    data_dir: Path,
    problems: list[Problem],
    *,
    passed: list[str],
    required: bool = True,
) -> pd.DataFrame | None:
    """The CSV file cleaned and checked with ``spec``; its problems are added to ``problems``.
    None when it cannot be read (or is missing and not ``required``)."""
    raw = read_csv(path, data_dir, problems, required=required, columns=spec.columns)
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


def empty_frame(columns: list[str]) -> pd.DataFrame:
    """A frame with these columns and no rows (an optional file that is absent)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def yaml_kind(value: object) -> str:
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


__all__ = ["empty_frame", "read_csv", "read_table", "read_yaml", "yaml_kind"]
