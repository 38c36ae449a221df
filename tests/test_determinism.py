"""Determinism: the same inputs, code and environment give byte-identical outputs.

A quarter is built twice into two folders, the second time from another working directory,
with another time zone and locale in the calling process, and every file (report.html, each
executed notebook, the open data, manifest.json) must have the same sha256. The outputs
carry no time stamps and no machine paths: the only provenance fields that may differ between
two builds of the same code are the git commit and the uncommitted-changes flag, which
``record.same_record`` and ``scorecard audit`` know to skip (docs/aqa/audit.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from scorecard_lib.build import runner
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.report import opendata, record

pytestmark = pytest.mark.e2e

Q = "2016-17-Q4"
#: An ISO date-time, as papermill, nbclient and matplotlib would write one.
TIMESTAMP = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_builds_in_two_folders_give_identical_bytes_for_every_file(
    built_quarters: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = built_quarters[Q]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("PYTHONHASHSEED", "123")
    second = runner.run_quarter(Q, out_dir=tmp_path / "second").out_folder

    a, b = _hashes(first), _hashes(second)
    assert sorted(a) == [
        "manifest.json",
        *[f"notebooks/{s}.ipynb" for s in sorted(p.stem for p in first.glob("notebooks/*"))],
        *[f"open-data/{name}" for name in sorted(opendata.FILES)],
        "report.html",
    ]
    different = sorted(name for name in a if a[name] != b.get(name))
    if different:  # say why, in the audit's words
        from scorecard_lib.audit import outputs_diff, provenance

        why = [f.text for f in outputs_diff.compare_outputs(first, second) if f.differs]
        old, new = (json.loads((f / "manifest.json").read_text("utf-8")) for f in (first, second))
        why += [f.text for f in provenance.compare_code(old["code"], new["code"]) if f.differs]
        pytest.fail(f"the builds differ in {different}: {why}")
    assert sorted(a) == sorted(b)
    assert record.same_record(first, second)


def test_outputs_carry_no_time_stamps_or_machine_paths(
    built_quarters: dict[str, Path], tmp_path: Path
) -> None:
    folder = built_quarters[Q]
    machine = [str(PROJECT_ROOT), str(folder.parent), str(Path.home())]
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert not TIMESTAMP.search(data), f"{path.name} has a time stamp"
        for text in machine:
            assert text.encode() not in data, f"{path.name} names {text}"
        assert b" at 0x" not in data, f"{path.name} has a memory address"
