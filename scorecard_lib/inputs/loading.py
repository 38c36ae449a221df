"""Load one quarter: which quarters have data, which files a quarter reads, and every one of
them read, validated and assembled into one :class:`Inputs`. Nothing else reads data files.

A quarter's report reads the catalogue, the settings, its parameters file and every quarter
folder up to and including its own (carry-forward and trends look back; nothing looks
forward, so adding next quarter's data never changes a past quarter's report).

Where the files are is :mod:`locations`' job, parsing one file :mod:`parsing`'s, the small
YAML files of officers :mod:`parameters`' and the rules across tables :mod:`cross_checks`'.
All problems found are collected and raised together as one
:class:`~scorecard_lib.core.errors.ValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scorecard_lib.core.errors import Problem, QuarterError, ValidationError
from scorecard_lib.core.paths import DATA_DIR, display_path, resolve
from scorecard_lib.core.quarters import EXAMPLE, Quarter, parse_quarter
from scorecard_lib.core.store import current_store
from scorecard_lib.inputs import schemas
from scorecard_lib.inputs.cross_checks import (
    CATALOGUE_KEYS,
    check_catalogue,
    check_known_ids,
    check_values,
)
from scorecard_lib.inputs.locations import (
    CATALOGUE_FILE,
    QUARTER_FILES,
    SETTINGS_FILE,
    available_quarters,
    chosen_params_dir,
    existing_data_folder,
    looks_like_path,
    misnamed_folders,
    paper_path,
    params_path,
)
from scorecard_lib.inputs.parameters import checked_paper, checked_params, checked_settings
from scorecard_lib.inputs.parsing import empty_frame, read_table, read_yaml, yaml_kind


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


def check_quarter(quarter: str | Quarter, data_dir: Path | str | None = None) -> Quarter:
    """Parse ``quarter`` and make sure it has data; the error lists the quarters that do."""
    if not isinstance(quarter, Quarter) and looks_like_path(str(quarter)):
        raise QuarterError(
            f"{str(quarter)!r} looks like a file path, not a quarter",
            fix=f"give the quarter only, as {EXAMPLE}; choose the data folder with --data",
        )
    q = parse_quarter(quarter)
    existing_data_folder(data_dir)
    have = available_quarters(data_dir)
    if q not in have:
        listed = ", ".join(x.id for x in have) or "none"
        root = resolve(data_dir, DATA_DIR)
        misnamed = misnamed_folders(root, q)
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
        params_path(q, chosen_params_dir(data_dir, params_dir)),
        paper_path(q, chosen_params_dir(data_dir, params_dir)),
    ]
    for earlier in available_quarters(root):
        if earlier <= q:
            files.extend(root / earlier.id / name for name in QUARTER_FILES)
    return sorted({f for f in files if f.is_file()}, key=lambda p: p.as_posix())


def load_params(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> dict[str, Any]:
    """The quarter's parameters file, checked; raises ValidationError when it is wrong."""
    q = parse_quarter(quarter)
    problems: list[Problem] = []
    params = checked_params(
        q, resolve(data_dir, DATA_DIR), chosen_params_dir(data_dir, params_dir), problems
    )
    if problems:
        raise ValidationError(problems)
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
    path = paper_path(q, chosen_params_dir(data_dir, params_dir))
    problems: list[Problem] = []
    paper = checked_paper(path, root, problems)
    if problems:
        raise ValidationError(problems)
    return paper, display_path(path, root)


def _commentary(path: Path, root: Path, problems: list[Problem]) -> pd.DataFrame:
    """This quarter's commentary.yaml as a frame (empty when the file is absent), checked."""
    columns = ["indicator_id", "commentary", "actions", "author"]
    if not path.is_file():
        return empty_frame(columns)
    data = read_yaml(path, root, problems)
    name = display_path(path, root)
    if data is None:
        return empty_frame(columns)
    if not isinstance(data, Mapping):
        problems.append(
            Problem(
                file=name,
                rule="the file must map indicator ids to entries",
                fix="start each entry with the indicator id and a colon",
            )
        )
        return empty_frame(columns)
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
                        rule=f"must be text, not {yaml_kind(value)}",
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
    return pd.DataFrame(rows, columns=columns) if rows else empty_frame(columns)


def load_inputs(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> Inputs:
    """Read and validate every input of ``quarter``; raise one ValidationError listing all
    problems. Raises QuarterError when the quarter has no data."""
    root = existing_data_folder(data_dir)
    q = check_quarter(quarter, root)
    problems: list[Problem] = []
    passed: list[str] = []  # tables validated now without a problem (kept.py)
    params = checked_params(q, root, chosen_params_dir(data_dir, params_dir), problems)
    paper_file = paper_path(q, chosen_params_dir(data_dir, params_dir))
    paper = checked_paper(paper_file, root, problems)
    settings = checked_settings(root, problems)

    catalogue = read_table(root / CATALOGUE_FILE, schemas.CATALOGUE, root, problems, passed=passed)
    if catalogue is None or not set(CATALOGUE_KEYS) <= set(catalogue.columns):
        # The other files are checked against the catalogue: that waits until it is readable.
        raise ValidationError(problems)
    check_catalogue(catalogue, display_path(root / CATALOGUE_FILE, root), problems)

    values_parts, risk_parts = [], []
    for earlier in available_quarters(root):
        if earlier > q:
            continue
        folder = root / earlier.id
        vals = read_table(folder / "values.csv", schemas.VALUES, root, problems, passed=passed)
        if vals is not None:
            check_values(
                vals, catalogue, earlier, display_path(folder / "values.csv", root), problems
            )
            values_parts.append(vals.assign(quarter=earlier.id))
        risks = read_table(
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
    check_known_ids(
        commentary,
        catalogue,
        display_path(folder / "commentary.yaml", root),
        problems,
        row_offset=None,
    )
    breakdowns = read_table(
        folder / "breakdowns.csv", schemas.BREAKDOWNS, root, problems, required=False, passed=passed
    )
    if breakdowns is None:
        breakdowns = empty_frame(["indicator_id", "dimension", "category", "value"])
    else:
        check_known_ids(
            breakdowns, catalogue, display_path(folder / "breakdowns.csv", root), problems
        )
    overrides = read_table(
        folder / "overrides.csv", schemas.OVERRIDES, root, problems, required=False, passed=passed
    )
    if overrides is None:
        overrides = empty_frame(["indicator_id", "rating", "reason", "approved_by"])
    else:
        check_known_ids(
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
        else empty_frame([*schemas.VALUES.columns, "quarter"])
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


__all__ = ["Inputs", "check_quarter", "input_files", "load_inputs", "load_paper", "load_params"]
