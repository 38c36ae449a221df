"""Check the quarter's parameters file, the Cabinet paper's text beside it and the project's
settings: small YAML files written by officers, each key checked for its type and spelling.

A wrong key is named with the nearest known one; a list or mapping where text belongs is
refused rather than published as a Python repr.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from scorecard_lib.core.errors import Problem, QuarterError
from scorecard_lib.core.paths import display_path
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs.locations import SETTINGS_FILE, params_path
from scorecard_lib.inputs.parsing import read_yaml, yaml_kind

PARAM_KEYS = ("quarter", "cabinet_date", "title", "council")

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
#: ``risk_bands`` None means the rules' bands (``rules.risks.DEFAULT_BANDS``, their one home);
#: settings.yaml may give others, checked here for their shape only.
DEFAULT_SETTINGS: dict[str, Any] = {
    "risk_bands": None,
    "direction_threshold_percent": 1.0,
    "notice": "",
}


def checked_params(
    q: Quarter, root: Path, params_dir: Path | str | None, problems: list[Problem]
) -> dict[str, Any]:
    """The parameters file of ``q``, checked; problems are added to ``problems`` and a
    wrong or missing value is replaced by a safe one, so the other checks can go on."""
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
    data = read_yaml(path, root, problems)
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
                rule=f"must be {_KIND_WORDS[key]}, not {yaml_kind(value)}",
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


def _is_iso_date(value: object) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)))


def checked_settings(root: Path, problems: list[Problem]) -> dict[str, Any]:
    """The project's settings (defaults for what the file leaves out), checked."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        return dict(DEFAULT_SETTINGS)
    data = read_yaml(path, root, problems)
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
    ok = bands is None or (
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
                rule=f"must be one line of text, not {yaml_kind(notice)}",
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


def checked_paper(path: Path, root: Path, problems: list[Problem]) -> dict[str, Any]:
    """The officer-written text of the Cabinet paper. A missing file or field is allowed here
    (a draft shows a "to be completed" box); ``paper.missing_for_publication`` names them."""
    if not path.is_file():
        return {}
    name = display_path(path, root)
    data = read_yaml(path, root, problems)
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


__all__ = [
    "DEFAULT_SETTINGS",
    "PAPER_IMPLICATION_KEYS",
    "PAPER_KEYS",
    "PAPER_MAX_CHARS",
    "PAPER_TEXT_KEYS",
    "PARAM_KEYS",
    "PARAM_TYPES",
    "checked_paper",
    "checked_params",
    "checked_settings",
]
