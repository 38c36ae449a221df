"""The manifest records data, code, environment, parameters and outputs, never absolute paths."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

import scorecard_lib
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.report import manifest

FIXTURE_NB = PROJECT_ROOT / "tests" / "fixtures" / "notebooks" / "alpha.ipynb"


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert manifest.sha256_file(path) == hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def test_source_hash_covers_library_templates_and_notebooks_only(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "scorecard_lib/__init__.py": b"",
            "scorecard_lib/sub/mod.py": b"x = 1\n",
            "scorecard_lib/templates/report.css": b"body {}\n",
            "notebooks/overview.ipynb": b"{}\n",
        },
    )
    names = [p.relative_to(tmp_path).as_posix() for p in manifest.code_files(tmp_path)]
    assert names == [
        "notebooks/overview.ipynb",
        "scorecard_lib/__init__.py",
        "scorecard_lib/sub/mod.py",
        "scorecard_lib/templates/report.css",
    ]
    first = manifest.source_sha256(tmp_path)
    # caches, data and outputs do not count
    _tree(
        tmp_path,
        {
            "scorecard_lib/__pycache__/mod.cpython-311.pyc": b"\0",
            "data/values.csv": b"1\n",
            "outputs/2016-17-Q4/report.html": b"<html>",
        },
    )
    assert manifest.source_sha256(tmp_path) == first
    (tmp_path / "notebooks" / "overview.ipynb").write_bytes(b"{ }\n")
    assert manifest.source_sha256(tmp_path) != first


def test_a_renamed_file_changes_the_source_hash(tmp_path: Path) -> None:
    _tree(tmp_path, {"scorecard_lib/a.py": b"x = 1\n"})
    before = manifest.source_sha256(tmp_path)
    (tmp_path / "scorecard_lib" / "a.py").rename(tmp_path / "scorecard_lib" / "b.py")
    assert manifest.source_sha256(tmp_path) != before


@pytest.mark.slow
def test_code_version() -> None:
    code = manifest.code_version()
    assert code["package_version"] == scorecard_lib.__version__
    assert re.fullmatch(r"[0-9a-f]{64}", code["source_sha256"])
    assert code["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", code["git_commit"])
    assert code["git_dirty"] in (None, True, False)
    if code["git_commit"] is None:
        assert code["git_dirty"] is None


def test_environment_lists_the_pinned_direct_dependencies() -> None:
    env = manifest.environment()
    assert re.fullmatch(r"3\.\d+\.\d+", env["python"])
    assert env["packages"]["papermill"] == "2.7.0"
    assert "pytest" not in env["packages"]  # test extras are not part of the report
    assert all(isinstance(v, str) for v in env["packages"].values())


def test_manifest_paths(tmp_path: Path) -> None:
    external = tmp_path / "data"
    (external / "2016-17-Q4").mkdir(parents=True)
    inside = external / "2016-17-Q4" / "values.csv"
    assert manifest.manifest_path(FIXTURE_NB) == "tests/fixtures/notebooks/alpha.ipynb"
    assert manifest.manifest_path(inside, external) == "DATA/2016-17-Q4/values.csv"
    assert manifest.manifest_path(tmp_path / "elsewhere.yaml", external) == (
        "EXTERNAL/elsewhere.yaml"
    )


def _quarter_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "out" / ".staging"
    _tree(
        folder,
        {
            "notebooks/overview.ipynb": b"{}\n",
            "notebooks/workforce.ipynb": b"{ }\n",
            "report.html": "<p>£</p>\n".encode(),
            "manifest.json": b"{}\n",
        },
    )
    return folder


@pytest.mark.slow
def test_build_manifest_has_no_absolute_paths(tmp_path: Path) -> None:
    data = tmp_path / "my data"
    _tree(data, {"catalogue.csv": b"id\n", "2016-17-Q4/values.csv": b"id,value\n"})
    folder = _quarter_folder(tmp_path)
    m = manifest.build_manifest(
        quarter="2016-17-Q4",
        parameters={"quarter": "2016-17-Q4", "data_dir": ""},
        inputs=[data / "2016-17-Q4" / "values.csv", data / "catalogue.csv", FIXTURE_NB],
        data_dir=data,
        outputs_dir=folder,
        command="scorecard run 2016-17-Q4",
        results={"red": 10},
    )
    assert m["schema_version"] == 1
    assert [e["path"] for e in m["inputs"]] == [
        "DATA/2016-17-Q4/values.csv",
        "DATA/catalogue.csv",
        "tests/fixtures/notebooks/alpha.ipynb",
    ]
    assert [e["path"] for e in m["outputs"]] == [
        "notebooks/overview.ipynb",
        "notebooks/workforce.ipynb",
        "report.html",
    ]
    assert m["outputs"][2]["sha256"] == manifest.sha256_file(folder / "report.html")
    assert m["results"] == {"red": 10}
    for text in _strings(m):
        assert not text.startswith(("/", "~")) and not re.match(r"^[A-Za-z]:[\\/]", text), text
        assert str(tmp_path) not in text and str(PROJECT_ROOT) not in text


def test_write_manifest_is_stable_json(tmp_path: Path) -> None:
    m = {"b": 1, "a": {"z": "£ é", "y": [1, 2]}}
    path = tmp_path / "manifest.json"
    manifest.write_manifest(m, path)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "£ é" in text
    assert manifest.read_manifest(path) == m


@pytest.mark.slow
def test_provenance_is_the_manifest_without_outputs_and_with_short_hashes() -> None:
    m = manifest.build_manifest(
        quarter="2016-17-Q4",
        parameters={"quarter": "2016-17-Q4", "data_dir": ""},
        inputs=[FIXTURE_NB],
        data_dir=PROJECT_ROOT / "data",
        outputs_dir=PROJECT_ROOT / "does-not-exist",
        command="scorecard run 2016-17-Q4",
    )
    p = manifest.provenance(m)
    assert list(p) == [
        "quarter",
        "parameters",
        "inputs",
        "code_version",
        "environment",
        "command",
    ]
    # short: a count pointing to manifest.json, not every file and hash
    assert (
        p["inputs"].startswith("1 file of data and parameters") and "manifest.json" in p["inputs"]
    )
    assert m["inputs"][0]["sha256"][:12] not in str(p)
    assert p["code_version"] == m["code"]
    assert p["command"] == "scorecard run 2016-17-Q4"


@pytest.mark.parametrize("spec", ["pandas==3.1.1", "pandas>=3 ; python_version>'3'"])
def test_requirement_names(spec: str) -> None:
    assert manifest._requirement_names([spec, "pytest==9; extra == 'test'"]) == ["pandas"]
