"""The run manifest: which data, code, environment and parameters made a report.

``outputs/QUARTER/manifest.json`` lets an auditor re-run a quarter months later and tell what
differs: inputs (sha256 per file), code (package version, a hash over the library, templates
and notebooks, and the git commit), environment (Python and the pinned direct dependencies),
parameters, outputs (sha256 per published file) and the command to re-run it.

No absolute machine path is ever written: files inside the project are shown relative to the
project root (``data/2016-17-Q4/values.csv``, ``params/2016-17-Q4.yaml``), files in a data
folder outside it as ``DATA/<path inside that folder>``, anything else as
``EXTERNAL/<file name>``. The manifest carries no time stamps, so two runs of the same inputs
with the same code and command give the same bytes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.core import git
from scorecard_lib.core.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from scorecard_lib.core.version import __version__

SCHEMA_VERSION = 1
SHORT_HASH = 12
DISTRIBUTION = "scorecard"
#: What ``source_sha256`` covers (relative to the project root), and what ``git_dirty`` checks.
CODE_PATHS: tuple[str, ...] = ("scorecard_lib", "notebooks")
#: Seconds each git question of a build may take (every build asks; a stuck git must not hang it).
GIT_TIMEOUT = 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_path(path: Path, data_dir: Path | None = None) -> str:
    """How a file is named in a manifest: never an absolute machine path."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        pass
    if data_dir is not None:
        try:
            return "DATA/" + resolved.relative_to(Path(data_dir).resolve()).as_posix()
        except ValueError:
            pass
    return f"EXTERNAL/{resolved.name}"


# --- code -------------------------------------------------------------------------------------


def code_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """The files whose bytes define the report's code: the library's Python, its templates and
    the section notebooks, sorted by relative path."""
    lib = root / "scorecard_lib"
    files = [p for p in lib.rglob("*.py") if "__pycache__" not in p.parts]
    templates = lib / "templates"
    if templates.is_dir():
        files += [p for p in templates.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    notebooks = root / NOTEBOOKS_DIR.relative_to(PROJECT_ROOT)
    if notebooks.is_dir():
        files += sorted(notebooks.glob("*.ipynb"))
    return sorted(set(files), key=lambda p: p.relative_to(root).as_posix())


def source_sha256(root: Path = PROJECT_ROOT) -> str:
    """sha256 over ``<relative path>\\0<sha256 of the bytes>\\n`` for every code file in order.

    A renamed, added, removed or edited file changes it; nothing else (mtimes, caches) does.
    """
    h = hashlib.sha256()
    for path in code_files(root):
        rel = path.relative_to(root).as_posix()
        h.update(f"{rel}\0{sha256_file(path)}\n".encode())
    return h.hexdigest()


def code_version() -> dict[str, Any]:
    """``package_version``, ``source_sha256``, ``git_commit`` (None outside a git checkout of
    the project) and ``git_dirty`` (uncommitted or untracked changes in the code paths; None
    outside a checkout)."""
    commit: str | None = None
    dirty: bool | None = None
    if git.is_checkout(timeout=GIT_TIMEOUT):
        commit = git.head_commit(timeout=GIT_TIMEOUT)
        dirty = git.has_changes(CODE_PATHS, timeout=GIT_TIMEOUT)
    return {
        "package_version": __version__,
        "source_sha256": source_sha256(),
        "git_commit": commit,
        "git_dirty": dirty,
    }


# --- environment ----------------------------------------------------------------------------

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _requirement_names(specs: Iterable[str]) -> list[str]:
    names = []
    for spec in specs:
        if ";" in spec and "extra ==" in spec.split(";", 1)[1]:
            continue  # optional extras (tests) are not part of the report's environment
        m = _NAME.match(spec)
        if m:
            names.append(m[1])
    return names


def direct_dependencies() -> list[str]:
    """Names in ``[project.dependencies]`` of pyproject.toml (or, for an installed copy
    without it, the distribution's own requirements)."""
    pyproject = PROJECT_ROOT / "pyproject.toml"
    if pyproject.is_file():
        with open(pyproject, "rb") as fh:
            project = tomllib.load(fh).get("project", {})
        return _requirement_names(project.get("dependencies", []))
    try:
        return _requirement_names(importlib.metadata.requires(DISTRIBUTION) or [])
    except importlib.metadata.PackageNotFoundError:
        return []


def environment() -> dict[str, Any]:
    """Python's version and the installed version of each direct dependency (None if absent)."""
    packages: dict[str, str | None] = {}
    for name in sorted(direct_dependencies(), key=str.lower):
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return {"python": platform.python_version(), "packages": packages}


# --- the manifest ---------------------------------------------------------------------------


def input_entries(inputs: Iterable[Path], data_dir: Path) -> list[dict[str, str]]:
    entries = [{"path": manifest_path(p, data_dir), "sha256": sha256_file(p)} for p in inputs]
    return sorted(entries, key=lambda e: e["path"])


#: The open data's folder in a quarter folder (``opendata.py``); a record made before open
#: data existed has none, and its manifest lists none.
OPEN_DATA_SUBDIR = "open-data"


def output_entries(folder: Path) -> list[dict[str, str]]:
    """The published files of a quarter folder: ``notebooks/*.ipynb``, ``open-data/*`` (when
    there), ``report.html`` and, when the Word paper was written, ``report.docx``."""
    folder = Path(folder)
    files = sorted((folder / "notebooks").glob("*.ipynb"))
    files += sorted(p for p in (folder / OPEN_DATA_SUBDIR).glob("*") if p.is_file())
    files += [folder / n for n in ("report.html", "report.docx") if (folder / n).is_file()]
    entries = [{"path": p.relative_to(folder).as_posix(), "sha256": sha256_file(p)} for p in files]
    return sorted(entries, key=lambda e: e["path"])


def build_manifest(
    *,
    quarter: str,
    parameters: Mapping[str, Any],
    inputs: Iterable[Path],
    data_dir: Path,
    outputs_dir: Path,
    command: str,
    results: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything an auditor needs to re-run and compare a quarter (see the module docstring).

    ``outputs_dir`` is the quarter's output folder as it is being built; the manifest lists
    what is in it now (manifest.json itself is never listed).
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "quarter": quarter,
        "parameters": dict(parameters),
        "inputs": input_entries(inputs, data_dir),
        "code": code_version(),
        "environment": environment(),
        "outputs": output_entries(outputs_dir),
        "results": dict(results) if results is not None else None,
        "command": command,
    }


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_manifest(manifest: Mapping[str, Any], path: Path) -> None:
    """JSON, indent 2, sorted keys, UTF-8, ``\\n`` line ends and a trailing newline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(manifest_text(manifest))


def read_manifest(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def provenance(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The report's short provenance block: quarter, parameters, how many input files and
    packages (each listed with its fingerprint or version in ``manifest.json``, not in the
    report), code version and the command to re-run. Outputs are left out (the report cannot
    contain its own hash)."""
    inputs = manifest.get("inputs") or []
    env = dict(manifest.get("environment") or {})
    packages = env.get("packages") or {}
    s = "" if len(inputs) == 1 else "s"
    short_env: dict[str, Any] = {k: v for k, v in env.items() if k != "packages"}
    if packages:
        short_env["packages"] = (
            f"{len(packages)} pinned package{'' if len(packages) == 1 else 's'}, each with its "
            "version in manifest.json"
        )
    return {
        "quarter": manifest.get("quarter"),
        "parameters": dict(manifest.get("parameters") or {}),
        "inputs": f"{len(inputs)} file{s} of data and parameters, each with its SHA-256 "
        "fingerprint in manifest.json",
        "code_version": dict(manifest.get("code") or {}),
        "environment": short_env,
        "command": manifest.get("command"),
    }
