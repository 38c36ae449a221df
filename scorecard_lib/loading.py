"""Read and validate every input a quarter's report needs. Nothing else reads data files.

A quarter's report reads the catalogue, the settings, its parameters file and every quarter
folder up to and including its own (carry-forward and trends look back; nothing looks
forward, so adding next quarter's data never changes a past quarter's report).

All problems found are collected and raised together as one
:class:`~scorecard_lib.errors.ValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import schemas
from .errors import InputError, Problem, QuarterError, ValidationError
from .paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT, resolve
from .quarters import EXAMPLE, Quarter, parse_quarter

CATALOGUE_FILE = "catalogue.csv"
SETTINGS_FILE = "settings.yaml"
QUARTER_FILES = ("values.csv", "commentary.yaml", "risks.csv", "breakdowns.csv", "overrides.csv")
REQUIRED_QUARTER_FILES = ("values.csv", "risks.csv")
PARAM_KEYS = ("quarter", "cabinet_date", "title", "council")
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


# --- locating things ------------------------------------------------------------------------


def shown(path: Path, data_dir: Path | None = None) -> str:
    """A file name as messages and outputs show it: never a machine-specific absolute path."""
    path = Path(path)
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        pass
    if data_dir is not None:
        try:
            return "DATA/" + path.resolve().relative_to(Path(data_dir).resolve()).as_posix()
        except ValueError:
            pass
    return path.name


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
    text = str(quarter)
    if any(bad in text for bad in ("..", "\\", "\x00")) or text.strip().startswith(("/", "~")):
        raise QuarterError(
            f"'{text}' looks like a file path, not a quarter",
            fix=f"give the quarter only, as {EXAMPLE}",
        )
    q = parse_quarter(text)
    have = available_quarters(data_dir)
    if q not in have:
        listed = ", ".join(x.id for x in have) or "none"
        root = resolve(data_dir, DATA_DIR)
        raise QuarterError(
            f"There is no data for {q.prose} ({q.id})",
            where=f"{shown(root)}/{q.id}/values.csv",
            fix=f"choose a quarter that has data ({listed}) or add this quarter's data "
            "(see 'Adding a quarter' in README.md)",
        )
    return q


def params_path(quarter: Quarter, params_dir: Path | str | None = None) -> Path:
    return resolve(params_dir, PARAMS_DIR) / f"{quarter.id}.yaml"


def input_files(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> list[Path]:
    """Every file the quarter's report reads, sorted: what the manifest hashes."""
    q = parse_quarter(quarter)
    root = resolve(data_dir, DATA_DIR)
    files = [root / CATALOGUE_FILE, root / SETTINGS_FILE, params_path(q, params_dir)]
    for earlier in available_quarters(root):
        if earlier <= q:
            files.extend(root / earlier.id / name for name in QUARTER_FILES)
    return sorted({f for f in files if f.is_file()}, key=lambda p: p.as_posix())


# --- reading --------------------------------------------------------------------------------


def _read_yaml(path: Path, data_dir: Path, problems: list[Problem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(
            Problem(
                file=shown(path, data_dir),
                rule="the file is missing",
                fix="create it (see docs/data-model.md)",
            )
        )
        return None
    except UnicodeDecodeError:
        problems.append(
            Problem(
                file=shown(path, data_dir),
                rule="the file is not UTF-8 text",
                fix="save it as UTF-8",
            )
        )
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or "it is not valid YAML"
        problems.append(
            Problem(
                file=shown(path, data_dir),
                row=row,
                column=None if mark is None else f"character {mark.column + 1}",
                rule=f"malformed YAML: {what}",
                fix="check the indentation, colons and quotes on that line",
            )
        )
        return None


def _read_csv(
    path: Path, data_dir: Path, problems: list[Problem], *, required: bool = True
) -> pd.DataFrame | None:
    name = shown(path, data_dir)
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
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
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


def _table(
    path: Path,
    spec: schemas.TableSpec,
    data_dir: Path,
    problems: list[Problem],
    *,
    required: bool = True,
) -> pd.DataFrame | None:
    raw = _read_csv(path, data_dir, problems, required=required)
    if raw is None:
        return None
    name = shown(path, data_dir)
    df, found = schemas.clean_frame(raw, spec, name)
    found += schemas.validate_frame(df, spec, name)
    problems.extend(found)
    return df


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
    params = _params(q, resolve(data_dir, DATA_DIR), params_dir, problems)
    if problems:
        raise ValidationError(problems)
    return params


def _params(
    q: Quarter, root: Path, params_dir: Path | str | None, problems: list[Problem]
) -> dict[str, Any]:
    path = params_path(q, params_dir)
    name = shown(path, root)
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
    for key in PARAM_KEYS:
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
        problems.append(
            Problem(
                file=name,
                column=key,
                rule="this parameter is not known",
                fix=f"remove it; known parameters are {', '.join(PARAM_KEYS)}",
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


def _settings(root: Path, problems: list[Problem]) -> dict[str, Any]:
    path = root / SETTINGS_FILE
    if not path.is_file():
        return dict(DEFAULT_SETTINGS)
    data = _read_yaml(path, root, problems)
    if data is None:
        return dict(DEFAULT_SETTINGS)
    settings = {**DEFAULT_SETTINGS, **(data if isinstance(data, Mapping) else {})}
    bands = settings.get("risk_bands")
    ok = (
        isinstance(bands, Mapping)
        and all(isinstance(bands.get(k), int) for k in ("red", "amber"))
        and 1 < bands["amber"] < bands["red"] <= 25
    )
    if not ok:
        problems.append(
            Problem(
                file=shown(path, root),
                column="risk_bands",
                rule="risk bands must give whole-number lowest scores with 1 < amber < red <= 25",
                fix="write e.g. 'red: 15' and 'amber: 5'",
            )
        )
        settings["risk_bands"] = DEFAULT_SETTINGS["risk_bands"]
    thr = settings.get("direction_threshold_percent")
    if not isinstance(thr, int | float) or thr < 0:
        problems.append(
            Problem(
                file=shown(path, root),
                column="direction_threshold_percent",
                rule="must be a number of 0 or more",
                fix="write e.g. 1.0",
            )
        )
        settings["direction_threshold_percent"] = 1.0
    return settings


def _commentary(path: Path, root: Path, problems: list[Problem]) -> pd.DataFrame:
    columns = ["indicator_id", "commentary", "actions", "author"]
    if not path.is_file():
        return _empty(columns)
    data = _read_yaml(path, root, problems)
    name = shown(path, root)
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
                "commentary": str(entry.get("commentary") or ""),
                "actions": [a.strip() for a in actions],
                "author": str(entry.get("author") or ""),
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
    root = resolve(data_dir, DATA_DIR)
    if not root.is_dir():
        raise InputError(
            f"The data folder {shown(root)} does not exist",
            fix="pass --data with the folder that holds catalogue.csv",
        )
    q = check_quarter(quarter, root)
    problems: list[Problem] = []
    params = _params(q, root, params_dir, problems)
    settings = _settings(root, problems)

    catalogue = _table(root / CATALOGUE_FILE, schemas.CATALOGUE, root, problems)
    if catalogue is None:
        raise ValidationError(problems)
    _check_catalogue(catalogue, shown(root / CATALOGUE_FILE, root), problems)

    values_parts, risk_parts = [], []
    for earlier in available_quarters(root):
        if earlier > q:
            continue
        folder = root / earlier.id
        vals = _table(folder / "values.csv", schemas.VALUES, root, problems)
        if vals is not None:
            _check_values(vals, catalogue, earlier, shown(folder / "values.csv", root), problems)
            values_parts.append(vals.assign(quarter=earlier.id))
        risks = _table(folder / "risks.csv", schemas.RISKS, root, problems, required=earlier == q)
        if risks is not None:
            risk_parts.append(risks.assign(quarter=earlier.id))

    folder = root / q.id
    commentary = _commentary(folder / "commentary.yaml", root, problems)
    _check_known_ids(
        commentary, catalogue, shown(folder / "commentary.yaml", root), problems, row_offset=None
    )
    breakdowns = _table(
        folder / "breakdowns.csv", schemas.BREAKDOWNS, root, problems, required=False
    )
    if breakdowns is None:
        breakdowns = _empty(["indicator_id", "dimension", "category", "value"])
    else:
        _check_known_ids(breakdowns, catalogue, shown(folder / "breakdowns.csv", root), problems)
    overrides = _table(folder / "overrides.csv", schemas.OVERRIDES, root, problems, required=False)
    if overrides is None:
        overrides = _empty(["indicator_id", "rating", "reason", "approved_by"])
    else:
        _check_known_ids(overrides, catalogue, shown(folder / "overrides.csv", root), problems)

    if problems:
        raise ValidationError(problems)
    values = (
        pd.concat(values_parts, ignore_index=True)
        if values_parts
        else _empty([*schemas.VALUES.schema.columns, "quarter"])
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
    )


# --- checks across files ----------------------------------------------------------------------


def in_force(catalogue: pd.DataFrame, quarter: Quarter) -> pd.Series:
    """Boolean mask: which catalogue rows are on the scorecard in ``quarter``."""
    first = catalogue["first_quarter"].map(lambda s: parse_quarter(s).index)
    last = catalogue["last_quarter"].map(lambda s: parse_quarter(s).index if s else 10**9)
    return (first <= quarter.index) & (quarter.index <= last)


def _check_catalogue(cat: pd.DataFrame, name: str, problems: list[Problem]) -> None:
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


_NON_NEGATIVE_UNITS = ("per_10000", "percent", "days", "count", "years")


def _check_values(
    vals: pd.DataFrame, catalogue: pd.DataFrame, q: Quarter, name: str, problems: list[Problem]
) -> None:
    if "indicator_id" not in vals.columns:
        return
    cat = catalogue.set_index("indicator_id", drop=False)
    cat = cat[~cat.index.duplicated()]
    force = (
        in_force(catalogue.dropna(subset=["first_quarter"]), q)
        if "first_quarter" in catalogue.columns
        else None
    )
    in_force_ids = (
        set(catalogue.loc[force[force].index, "indicator_id"]) if force is not None else set()
    )
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
        if ind not in in_force_ids:
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
