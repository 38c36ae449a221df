"""The published record of a quarter: the results it states, and when two records are the same.

A record (``published/QUARTER/``, see ``archive.py``; a draft in ``outputs/QUARTER/`` has
the same shape) is ``report.html``, ``notebooks/*.ipynb``, ``open-data/*`` (records made before
open data existed have none) and ``manifest.json``. This module holds what both the runner and
the audit need to know about it:

* :func:`quarter_results`: the figures an auditor cares about (each indicator's value,
  reference, rating and direction of travel; each risk's scores, band and trend; the counts),
  written into the manifest so a difference can be explained without reading the HTML;
* :func:`normalised_files` and :func:`same_record`: two records are *the same* when every
  published file is byte-identical after removing the only fields that may legitimately
  differ between two builds of the same code: the git commit the build was made at and
  whether the working tree had uncommitted changes (``code.git_commit`` and
  ``code.git_dirty`` in the manifest, and the same two lines of the report's provenance).
  The code itself is still compared, through ``code.source_sha256``, a hash over every
  library, template and notebook file. A record built at commit X and committed in commit X+1
  is therefore the same as a rebuild at X+1.

Layer 6 (beside ``manifest``): imports ``sections`` lazily, for the results only.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scorecard_lib.report.manifest import OPEN_DATA_SUBDIR

if TYPE_CHECKING:
    from scorecard_lib.inputs.loading import Inputs

REPORT_NAME = "report.html"
DOCX_NAME = "report.docx"
MANIFEST_NAME = "manifest.json"
NOTEBOOKS_SUBDIR = "notebooks"

#: Fields of each indicator recorded in ``manifest.results.indicators``.
INDICATOR_FIELDS: tuple[str, ...] = (
    "name",
    "value",
    "value_quarter",
    "reference",
    "reference_label",
    "rating",
    "rating_computed",
    "short_term",
    "long_term",
    "updated",
    "previous_value",
    "previous_quarter",
    "last_year_value",
)
#: Fields of each risk recorded in ``manifest.results.risks``.
RISK_FIELDS: tuple[str, ...] = (
    "title",
    "status",
    "inherent_score",
    "current_score",
    "target_score",
    "current_band",
    "trend",
)
#: Manifest ``code`` fields that say where the code came from, not what it is.
GIT_FIELDS: tuple[str, ...] = ("git_commit", "git_dirty")
#: Provenance labels of those fields in the report (``assemble._LABELS``).
_GIT_LABELS: tuple[str, ...] = ("Git commit", "Uncommitted changes to the code")
GIT_PLACEHOLDER = "(git field not compared)"
#: Digits of the commit id the report shows (``assemble.SHORT_HASH``).
SHORT_COMMIT = 12
#: Manifest block written by ``scorecard publish`` (version, supersedes, reason).
PUBLICATION = "publication"


# --- results ----------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A JSON-safe copy of one figure: NaN and pandas' missing values become None, numpy
    numbers become Python numbers, anything else unusual becomes its text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return json_value(item())
        except (TypeError, ValueError):
            pass
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)


def quarter_results(inputs: Inputs) -> dict[str, Any]:
    """What the report states for one quarter, computed by the same code the notebooks call.

    ``{"indicators": {id: {...INDICATOR_FIELDS}}, "risks": {id: {...RISK_FIELDS}},
    "counts": {"indicators", "ratings", "updated_red", "risks_open", "risk_bands"}}``.
    JSON-safe, keys sorted when written; floats as they are, no NaN (missing is None).
    """
    from scorecard_lib.present.sections import Scorecard
    from scorecard_lib.rules import risks

    sc = Scorecard(inputs)
    board = sc.board
    indicators = {
        str(r["indicator_id"]): {k: json_value(r.get(k)) for k in INDICATOR_FIELDS}
        for r in board.to_dict("records")
    }
    register = sc.register
    risk_rows = {
        str(r["risk_id"]): {k: json_value(r.get(k)) for k in RISK_FIELDS}
        for r in register.to_dict("records")
    }
    counts = {
        "indicators": len(board),
        "ratings": {k: int(v) for k, v in sc.counts.items()},
        "updated_red": len(sc.updated_red()),
        "risks_open": int((register["status"] == "open").sum()) if len(register) else 0,
        "risk_bands": {k: int(v) for k, v in risks.band_counts(register).items()},
    }
    return {"indicators": indicators, "risks": risk_rows, "counts": counts}


# --- comparing records ------------------------------------------------------------------------


def record_files(folder: Path) -> list[str]:
    """The published files of a record folder, relative and sorted (manifest, report, the
    Word paper when there is one, notebooks, open data); anything else in the folder is not
    part of the record."""
    folder = Path(folder)
    names = [
        p.relative_to(folder).as_posix()
        for p in sorted((folder / NOTEBOOKS_SUBDIR).glob("*.ipynb"))
    ]
    names += [
        p.relative_to(folder).as_posix()
        for p in sorted((folder / OPEN_DATA_SUBDIR).glob("*"))
        if p.is_file()
    ]
    names += [n for n in (REPORT_NAME, DOCX_NAME, MANIFEST_NAME) if (folder / n).is_file()]
    return sorted(names)


_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def is_commit(value: object) -> bool:
    """True for a git commit id as the manifest records it: 40 lower-case hex digits (64 in
    a repository using SHA-256)."""
    return isinstance(value, str) and _COMMIT.fullmatch(value) is not None


def normalise_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest without its git fields, without ``outputs`` (whose report hash depends
    on the git fields; the files themselves are compared instead) and without
    ``publication`` (the act of publishing, not something a build makes: see archive.py).
    A git field is replaced only when it holds what git gives (a commit id or nothing; yes,
    no or nothing): anything else put there is compared as it is."""
    m = copy.deepcopy(dict(manifest))
    m.pop(PUBLICATION, None)
    code = m.get("code")
    if isinstance(code, dict):
        if code.get("git_commit") is None or is_commit(code.get("git_commit")):
            code["git_commit"] = GIT_PLACEHOLDER
        if code.get("git_dirty") is None or isinstance(code.get("git_dirty"), bool):
            code["git_dirty"] = GIT_PLACEHOLDER
    m.pop("outputs", None)
    return m


def _git_entries(commit: object) -> tuple[str, ...]:
    """The provenance entries the report may show for the git fields of a manifest whose
    commit is ``commit``, exactly as ``assemble`` writes them (label and value, nothing
    else): the first 12 hex digits of a commit id, or "not recorded"; yes, no or not
    recorded."""
    shown = ["not recorded"]
    if is_commit(commit):
        shown.append(f"<code>{str(commit)[:SHORT_COMMIT]}</code>")
    commit_label, dirty_label = _GIT_LABELS
    return (
        *(f"<dt>{commit_label}</dt><dd>{value}</dd>" for value in shown),
        *(f"<dt>{dirty_label}</dt><dd>{value}</dd>" for value in ("yes", "no", "not recorded")),
    )


def normalise_report(text: str, manifest: Mapping[str, Any] | None = None) -> str:
    """The report with the values of its git commit and uncommitted-changes entries replaced.

    Only those two exact entries are touched, and only when they hold what ``assemble``
    writes there: the commit recorded in the report's own ``manifest`` (checked to be a
    commit id, shown by its first 12 digits) or "not recorded", and yes, no or not
    recorded. Nothing else, however it is wrapped, is ever left out of the comparison: a
    heading or script put inside one of those entries makes the report differ."""
    commit = (manifest.get("code") or {}).get("git_commit") if manifest else None
    commit_label, dirty_label = _GIT_LABELS
    for entry in _git_entries(commit):
        label = commit_label if entry.startswith(f"<dt>{commit_label}<") else dirty_label
        text = text.replace(entry, f"<dt>{label}</dt><dd>{GIT_PLACEHOLDER}</dd>")
    return text


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def normalised_files(folder: Path) -> dict[str, bytes]:
    """Every published file of ``folder`` as bytes, with the git fields normalised (see the
    module docstring and :func:`normalise_report`)."""
    folder = Path(folder)
    manifest = read_json(folder / MANIFEST_NAME)
    out: dict[str, bytes] = {}
    for name in record_files(folder):
        data = (folder / name).read_bytes()
        if name == MANIFEST_NAME:
            if manifest is not None:
                text = json.dumps(normalise_manifest(manifest), indent=2, sort_keys=True)
                data = text.encode("utf-8")
        elif name == REPORT_NAME:
            with contextlib.suppress(UnicodeDecodeError):
                data = normalise_report(data.decode("utf-8"), manifest).encode("utf-8")
        out[name] = data
    return out


def same_record(a: Path, b: Path) -> bool:
    """True when the two record folders publish the same thing (git fields aside)."""
    return normalised_files(a) == normalised_files(b)
