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

from .manifest import OPEN_DATA_SUBDIR

if TYPE_CHECKING:
    from .loading import Inputs

REPORT_NAME = "report.html"
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
    from . import risks
    from .sections import Scorecard

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
    """The published files of a record folder, relative and sorted (manifest, report,
    notebooks, open data); anything else in the folder is not part of the record."""
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
    names += [n for n in (REPORT_NAME, MANIFEST_NAME) if (folder / n).is_file()]
    return sorted(names)


def normalise_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest without its git fields, without ``outputs`` (whose report hash depends
    on the git fields; the files themselves are compared instead) and without
    ``publication`` (the act of publishing, not something a build makes: see archive.py)."""
    m = copy.deepcopy(dict(manifest))
    m.pop(PUBLICATION, None)
    code = m.get("code")
    if isinstance(code, dict):
        for key in GIT_FIELDS:
            if key in code:
                code[key] = GIT_PLACEHOLDER
    m.pop("outputs", None)
    return m


def normalise_report(text: str, manifests: tuple[Mapping[str, Any], ...] = ()) -> str:
    """The report with the values of its git commit and uncommitted-changes lines replaced,
    and any full or shortened commit named by ``manifests`` replaced too."""
    for label in _GIT_LABELS:
        text = re.sub(
            rf"(<dt>{re.escape(label)}</dt>\s*<dd>).*?(</dd>)",
            rf"\g<1>{GIT_PLACEHOLDER}\g<2>",
            text,
            flags=re.DOTALL,
        )
    for m in manifests:
        commit = (m.get("code") or {}).get("git_commit") if isinstance(m, Mapping) else None
        if isinstance(commit, str) and len(commit) >= 7:
            text = text.replace(commit, GIT_PLACEHOLDER).replace(commit[:12], GIT_PLACEHOLDER)
    return text


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def normalised_files(folder: Path, other: Path | None = None) -> dict[str, bytes]:
    """Every published file of ``folder`` as bytes, with the git fields normalised (see the
    module docstring). ``other``: a second record whose commit is also normalised away."""
    folder = Path(folder)
    manifests = tuple(
        m for m in (read_json(f / MANIFEST_NAME) for f in (folder, other) if f) if m is not None
    )
    out: dict[str, bytes] = {}
    for name in record_files(folder):
        data = (folder / name).read_bytes()
        if name == MANIFEST_NAME:
            m = read_json(folder / name)
            if m is not None:
                text = json.dumps(normalise_manifest(m), indent=2, sort_keys=True)
                data = text.encode("utf-8")
        elif name == REPORT_NAME:
            with contextlib.suppress(UnicodeDecodeError):
                data = normalise_report(data.decode("utf-8"), manifests).encode("utf-8")
        out[name] = data
    return out


def same_record(a: Path, b: Path) -> bool:
    """True when the two record folders publish the same thing (git fields aside)."""
    return normalised_files(a, b) == normalised_files(b, a)
