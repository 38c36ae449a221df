"""Start a new quarter: ``scorecard new-quarter QUARTER``.

A new quarter begins as a copy of what the previous quarter left behind:

- ``params/QUARTER.yaml`` with the previous quarter's title and council and a placeholder
  Cabinet date (the 20th of the fourth month after the quarter ends) to be corrected;
- ``data/QUARTER/values.csv`` with one row per indicator due this quarter, its target and
  benchmark carried from the last figure and the value left empty for the analyst to fill in
  (directly, or through the returns workbook: see :mod:`scorecard_lib.inputs.workbook`);
- ``data/QUARTER/risks.csv``: last quarter's open risks, copied for review;
- ``data/QUARTER/commentary.yaml``: empty (last quarter's commentary is never carried over).

This module also holds what the returns workbook shares with it: finding the quarter a new
quarter starts from, deciding which indicators are due, and writing data files in exactly
the style of the existing ones (same column order, ``\\n`` line endings, numbers without
float noise) and atomically (a folder appears complete or not at all).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from scorecard_lib.core.errors import InputError, QuarterError
from scorecard_lib.core.files import make_staging_folder, write_atomically
from scorecard_lib.core.paths import DATA_DIR, display_path, resolve
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.values import is_missing
from scorecard_lib.inputs import readers, schemas
from scorecard_lib.inputs.cross_checks import in_force
from scorecard_lib.inputs.loading import Inputs, load_inputs
from scorecard_lib.inputs.locations import (
    PAPER_SUFFIX,
    available_quarters,
    default_params_dir,
)

#: The columns new-quarter and the returns workbook write. The optional note columns
#: (values' ``reported_as``, risks' ``reason``) are added by hand where a quarter needs them:
#: files without them load as before, and a draft quarter has nothing to put in them yet.
OPTIONAL_NOTE_COLUMNS = ("reported_as", "reason")
VALUES_COLUMNS: tuple[str, ...] = tuple(
    c for c in schemas.VALUES.columns if c not in OPTIONAL_NOTE_COLUMNS
)
RISK_COLUMNS: tuple[str, ...] = tuple(
    c for c in schemas.RISKS.columns if c not in OPTIONAL_NOTE_COLUMNS
)
BREAKDOWN_COLUMNS: tuple[str, ...] = schemas.BREAKDOWNS.columns
#: Columns of values.csv carried into a new quarter (the reference a figure is rated against).
CARRIED_COLUMNS: tuple[str, ...] = ("target", "benchmark", "benchmark_label", "benchmark_date")
_PERIOD = {"annual": 4, "biennial": 8}


# --- the quarter a new one starts from --------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """What a quarter being added (or re-opened) starts from.

    ``base`` is the latest quarter before ``quarter`` that has data, and ``inputs`` its
    validated inputs (every value up to ``base``; the catalogue; the base register).
    ``existing`` holds the raw files already in ``data/QUARTER/`` (empty when there are none).
    """

    quarter: Quarter
    data_dir: Path
    params_dir: Path
    base: Quarter
    inputs: Inputs
    existing: Mapping[str, Any]

    @property
    def catalogue(self) -> pd.DataFrame:
        return self.inputs.catalogue

    @property
    def folder(self) -> Path:
        return self.data_dir / self.quarter.id

    @property
    def has_data(self) -> bool:
        return (self.folder / "values.csv").is_file()

    def indicators(self) -> pd.DataFrame:
        """The catalogue rows in force in the quarter, in catalogue order."""
        cat = self.catalogue
        return cat[in_force(cat, self.quarter)].reset_index(drop=True)

    def reported_in(self, indicator_id: str) -> list[Quarter]:
        """Quarters before this one in which the indicator was given a value, oldest first."""
        vals = self.inputs.values
        quarters = vals.loc[vals["indicator_id"] == indicator_id, "quarter"]
        return sorted(parse_quarter(q) for q in quarters)

    def latest(self, indicator_id: str) -> dict[str, Any]:
        """The indicator's last reported row before this quarter (empty when never reported)."""
        vals = self.inputs.values
        rows = vals[vals["indicator_id"] == indicator_id]
        if rows.empty:
            return {}
        order = rows["quarter"].map(lambda s: parse_quarter(s).index)
        row = rows.loc[order.idxmax()].to_dict()
        return {k: (None if is_missing(v) else v) for k, v in row.items()}

    def is_due(self, indicator: Mapping[str, Any]) -> bool:
        """Quarterly indicators are due every quarter; annual and biennial ones in the quarter
        of the year they were last reported (never reported: not known, so not due)."""
        freq = indicator["frequency"]
        if freq not in _PERIOD:
            return True
        seen = self.reported_in(str(indicator["indicator_id"]))
        if not seen:
            return False
        return (self.quarter.index - seen[-1].index) % _PERIOD[freq] == 0

    def previous_risks(self) -> pd.DataFrame:
        """The base quarter's register without the risks closed in it (they appear once)."""
        risks = self.inputs.risks
        last = risks[(risks["quarter"] == self.base.id) & (risks["status"] != "closed")]
        return last.drop(columns=["quarter"]).reset_index(drop=True)

    def previous_breakdowns(self) -> pd.DataFrame:
        return self.inputs.breakdowns


def start(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> Start:
    """Find and load what ``quarter`` starts from; refuse a quarter that would leave a gap.

    Raises QuarterError when there is no earlier quarter with data, or when the quarter
    before ``quarter`` has no data (a typing slip is far more likely than a skipped quarter).
    """
    q = parse_quarter(quarter)
    root = resolve(data_dir, DATA_DIR)
    # the same rule as loading: params/ beside an external data folder, else the project's
    pdir = resolve(params_dir, default_params_dir(root))
    if not root.is_dir():
        raise InputError(
            f"The data folder {display_path(root)} does not exist",
            fix="pass --data with the folder that holds catalogue.csv",
        )
    have = available_quarters(root)
    earlier = [x for x in have if x < q]
    if not earlier:
        first = have[0].id if have else "none"
        raise QuarterError(
            f"There is no quarter before {q.prose} with data to start from",
            where=display_path(root),
            fix=f"check the quarter you typed (the earliest quarter with data is {first})",
        )
    base = earlier[-1]
    if base != q.previous():
        raise QuarterError(
            f"{q.prose} cannot be added yet: {q.previous().prose} has no data",
            where=f"{display_path(root)}/{q.previous().id}/values.csv",
            fix=f"check the quarter you typed; the next quarter to add is {base.next().id}",
        )
    inputs = load_inputs(base, root, pdir)
    return Start(
        quarter=q,
        data_dir=root,
        params_dir=pdir,
        base=base,
        inputs=inputs,
        existing=read_existing(root / q.id),
    )


def read_existing(folder: Path) -> dict[str, Any]:
    """The files already in a quarter's folder, read as text tables (no validation: they may
    be a draft with empty values). Keys: values, risks, breakdowns (frames), commentary."""
    found: dict[str, Any] = {}
    for name in ("values", "risks", "breakdowns"):
        path = folder / f"{name}.csv"
        if path.is_file():
            try:
                text = readers.read_capped(path, readers.MAX_CSV_BYTES, encoding="utf-8-sig")
                found[name] = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            except readers.TooLargeError as exc:
                raise InputError(
                    f"{display_path(path)} cannot be read: {readers.too_large_rule(exc)}",
                    fix="correct the file or delete it to start the quarter afresh",
                ) from None
            except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise InputError(
                    f"{display_path(path)} cannot be read ({type(exc).__name__})",
                    fix="correct the file or delete it to start the quarter afresh",
                ) from None
    path = folder / "commentary.yaml"
    if path.is_file():
        try:
            data = readers.load_yaml(readers.read_capped(path, readers.MAX_YAML_BYTES))
        except readers.TooLargeError as exc:
            raise InputError(
                f"{display_path(path)} cannot be read: {readers.too_large_rule(exc)}",
                fix="correct the file or delete it to start the quarter afresh",
            ) from None
        except readers.YamlRefused as exc:
            raise InputError(
                f"{display_path(path)} cannot be read: {exc.rule}",
                fix=exc.fix,
            ) from None
        except (UnicodeDecodeError, yaml.YAMLError):
            raise InputError(
                f"{display_path(path)} is not valid YAML",
                fix="correct the file or delete it to start the quarter afresh",
            ) from None
        found["commentary"] = data if isinstance(data, dict) else {}
    return found


# --- parameters -------------------------------------------------------------------------------


def placeholder_cabinet_date(quarter: Quarter) -> date:
    """The 20th of the fourth month after the quarter ends (20 July for a March year end)."""
    end = quarter.period_end
    month = end.month + 4
    return date(end.year + (month - 1) // 12, (month - 1) % 12 + 1, 20)


def params_text(quarter: Quarter, title: str, council: str) -> str:
    """``params/QUARTER.yaml`` for a new quarter, in the style of the existing ones."""
    when = placeholder_cabinet_date(quarter).isoformat()
    return (
        f"quarter: {quarter.id}\n"
        "# cabinet_date is a placeholder (the 20th of the fourth month after the quarter ends):\n"
        "# change it to the date of the Cabinet meeting that receives the report.\n"
        f'cabinet_date: "{when}"\n'
        f"title: {yaml_scalar(title)}\n"
        f"council: {yaml_scalar(council)}\n"
    )


# --- writing data files in the house style ----------------------------------------------------


def fmt(x: Any) -> str:
    """A cell as text: numbers without float noise (66.3, 1304, 8.92), missing as empty."""
    if is_missing(x):
        return ""
    if isinstance(x, bool):
        raise TypeError("a yes/no value is not expected in a data file")
    if isinstance(x, Integral):
        return str(int(x))
    if isinstance(x, Real):
        f = float(x)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(x)


def csv_text(columns: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    cols = list(columns)
    writer.writerow(cols)
    for row in rows:
        writer.writerow([fmt(row.get(c)) for c in cols])
    return buf.getvalue()


def yaml_scalar(text: str) -> str:
    """Plain when YAML reads it back unchanged, otherwise double-quoted."""
    if text == "":
        return '""'
    try:
        if readers.load_yaml(f"k: {text}") == {"k": text}:
            return text
    except (yaml.YAMLError, readers.YamlRefused):
        pass
    return json.dumps(text, ensure_ascii=False)


_LIST_MARKERS = ("- ", "* ", "+ ")


def _is_list_line(line: str) -> bool:
    stripped = line.lstrip()
    head = stripped.split(" ", 1)[0]
    return stripped.startswith(_LIST_MARKERS) or (head[:-1].isdigit() and head.endswith("."))


def _commentary_block(text: str) -> list[str] | None:
    """The commentary as a literal block (paragraphs wrapped at 88 characters, Markdown lists
    kept line by line), or None when a block cannot hold it."""
    lines: list[str] = []
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    for i, para in enumerate(paragraphs):
        if i:
            lines.append("")
        rows = [r.strip() for r in para.strip("\n").split("\n") if r.strip()]
        if any(_is_list_line(r) for r in rows):
            lines.extend("    " + r for r in rows)
            continue
        lines.extend(
            "    " + w
            for w in textwrap.wrap(
                " ".join(rows), width=88, break_long_words=False, break_on_hyphens=False
            )
        )
    return lines or None


def commentary_yaml(entries: Mapping[str, tuple[str, Sequence[str], str]]) -> str:
    """``commentary.yaml`` text: id -> (commentary, actions, author), in the order given.

    The same layout as the bundled files: a literal block for the commentary, one list item
    per action (wrapped), the author. Every entry is checked to read back as meant.
    """
    lines: list[str] = []
    for ind, (text, actions, author) in entries.items():
        text = text.replace("\r\n", "\n").replace("\t", " ").strip()
        lines.append(f"{ind}:")
        block = _commentary_block(text) if text else None
        if block is None:
            lines.append(f"  commentary: {yaml_scalar(text)}")
        else:
            lines.append("  commentary: |")
            lines.extend(block)
        if not actions:
            lines.append("  actions: []")
        else:
            lines.append("  actions:")
        for a in actions:
            scalar = yaml_scalar(a)
            if scalar != a:  # quoted: keep it on one line
                lines.append(f"    - {scalar}")
                continue
            wrapped = textwrap.wrap(a, width=86, break_long_words=False, break_on_hyphens=False)
            lines.append(f"    - {wrapped[0]}")
            lines.extend(f"      {w}" for w in wrapped[1:])
        lines.append(f"  author: {yaml_scalar(author)}")
    out = "\n".join(lines) + "\n" if lines else "{}\n"
    loaded = readers.load_yaml(out) or {}
    for ind, (text, actions, author) in entries.items():
        got = loaded.get(ind) or {}
        same = (
            " ".join(str(got.get("commentary") or "").split()) == " ".join(text.split())
            and got.get("actions") == list(actions)
            and got.get("author") == author
        )
        if not same:  # pragma: no cover - a writer bug, not a user error
            raise AssertionError(f"commentary for {ind} does not read back as written")
    return out


def write_files_atomically(
    folder: Path, files: Mapping[str, str], *, keep_old_as: Path | None = None
) -> list[Path]:
    """Replace ``folder`` with one holding exactly ``files`` (name -> text).

    The files are written into a staging folder beside ``folder`` and swapped in with renames,
    so a reader sees the old folder or the new one, never half of each. When ``keep_old_as``
    is given the old folder is renamed to it; otherwise it is deleted after the swap.
    """
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = make_staging_folder(parent, f".{folder.name}.incoming-")
    try:
        for name, text in files.items():
            try:
                (staging / name).write_bytes(text.encode("utf-8"))
            except OSError as exc:
                if not exc.filename:
                    exc.filename = str(folder / name)  # a failed write() names no file
                raise
        old: Path | None = None
        if folder.exists():
            old = keep_old_as or Path(
                tempfile.mkdtemp(prefix=f".{folder.name}.replaced-", dir=parent)
            )
            if keep_old_as is None:
                old.rmdir()
            folder.rename(old)
        staging.rename(folder)
        if old is not None and keep_old_as is None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in files]


def write_text_atomically(path: Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see ``files.write_atomically``)."""
    return write_atomically(path, text.encode("utf-8"))


# --- new-quarter ------------------------------------------------------------------------------


def draft_values(st: Start) -> list[dict[str, Any]]:
    """One row per indicator due in the quarter: reference carried, value left empty."""
    rows = []
    for ind in st.indicators().to_dict("records"):
        if not st.is_due(ind):
            continue
        last = st.latest(ind["indicator_id"])
        row: dict[str, Any] = {"indicator_id": ind["indicator_id"]}
        row.update({c: last.get(c) for c in CARRIED_COLUMNS})
        rows.append(row)
    return rows


def new_quarter(
    quarter: str,
    *,
    data_dir: Path | None = None,
    params_dir: Path | None = None,
) -> list[Path]:
    """Scaffold ``params/QUARTER.yaml`` and ``data/QUARTER/`` from the previous quarter.

    Refuses (QuarterError) a quarter that already has data. An existing parameters file is
    left as it is (and not listed). Returns the files written.
    """
    q = parse_quarter(quarter)
    root = resolve(data_dir, DATA_DIR)
    folder = root / q.id
    if (folder / "values.csv").is_file():
        raise QuarterError(
            f"{q.prose} already has data, so it will not be scaffolded again",
            where=display_path(folder / "values.csv", outside="given"),
            fix="edit that quarter's files, or fill in a returns workbook ('scorecard template' "
            "then 'scorecard import'); delete the folder first to start the quarter afresh",
        )
    st = start(q, root, params_dir)
    leftovers = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if leftovers:
        raise QuarterError(
            f"The folder for {q.prose} already holds files ({', '.join(leftovers)})",
            where=display_path(folder, outside="given"),
            fix="move them out of the way (or delete the folder) and run new-quarter again",
        )
    files = {
        "values.csv": csv_text(VALUES_COLUMNS, draft_values(st)),
        "commentary.yaml": commentary_yaml({}),
        "risks.csv": csv_text(RISK_COLUMNS, st.previous_risks().to_dict("records")),
    }
    written: list[Path] = []
    ppath = st.params_dir / f"{q.id}.yaml"
    if not ppath.exists():
        params = st.inputs.params
        text = params_text(q, str(params.get("title", "")), str(params.get("council", "")))
        written.append(write_text_atomically(ppath, text))
    # The Cabinet paper's officer text rarely changes between quarters: start from the last
    # one, for the officer to review (the recommendations are computed, not copied).
    paper_now = st.params_dir / f"{q.id}{PAPER_SUFFIX}"
    paper_before = st.params_dir / f"{q.previous().id}{PAPER_SUFFIX}"
    if not paper_now.exists() and paper_before.is_file():
        text = paper_before.read_text(encoding="utf-8")
        written.append(write_text_atomically(paper_now, text))
    written.extend(write_files_atomically(folder, files))
    return written
