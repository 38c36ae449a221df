"""The archive of published records (``published/``) and what today's code does to it.

* The archived records are history: every file still has the sha256 it had when it was
  committed (2016-17 Q3 and Q4 at dd6f688, then under ``outputs/``; 2016-17-Q4.v2 when it was
  published), listed in ``tests/fixtures/published-sha256.txt``. Nothing may rebuild or edit
  them.
* The impact check (``make test`` runs it with the rest; marked e2e and slow): today's code
  re-runs each standing record, and the test fails only when a recorded *result* (a figure,
  rating, direction, risk score, band or count in ``manifest.results``) would change, not
  wording or markup. A deliberate rule change is logged in docs/aqa/assumptions.md and its
  changes added to ``tests/expected_result_changes.json``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from scorecard_lib import audit
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.inputs import archive

SHA256_LIST = PROJECT_ROOT / "tests" / "fixtures" / "published-sha256.txt"
EXPECTED_CHANGES = PROJECT_ROOT / "tests" / "expected_result_changes.json"


def _listed() -> dict[str, str]:
    lines = SHA256_LIST.read_text(encoding="utf-8").splitlines()
    pairs = (line.split(maxsplit=1) for line in lines if line and not line.startswith("#"))
    return {name: sha for sha, name in pairs}


def test_every_archived_record_keeps_the_bytes_it_was_committed_with() -> None:
    """Every file of every record in the archive is listed with the sha256 it had when it was
    committed (2016-17 Q3 and Q4 at dd6f688, then under outputs/; later records when they were
    published), and still has it; no record gains or loses a file. Publishing a new record
    adds its lines to the list (the sha256s of the files 'scorecard publish' wrote)."""
    listed = _listed()
    assert sum(name.startswith(("2016-17-Q3/", "2016-17-Q4/")) for name in listed) == 16
    changed = [
        name
        for name, sha in listed.items()
        if not (archive.ARCHIVE_DIR / name).is_file()
        or hashlib.sha256((archive.ARCHIVE_DIR / name).read_bytes()).hexdigest() != sha
    ]
    assert not changed, (
        f"archived files changed or missing: {changed}. Published records are never "
        "rebuilt or edited: restore them from git (for 2016-17 Q3 and Q4, 'git checkout "
        "dd6f688 -- outputs/' moved to published/), and publish a correction with 'scorecard "
        "publish QUARTER --supersede --reason ...'"
    )
    on_disk = {
        p.relative_to(archive.ARCHIVE_DIR).as_posix()
        for r in archive.published_records()
        for p in r.folder.rglob("*")
        if p.is_file()
    }
    assert on_disk == set(listed)  # no file added to (or left unlisted in) a record


def test_every_archived_record_matches_its_own_manifest() -> None:
    """Nobody edited a published file by hand: each matches the sha256 its manifest records."""
    records = archive.published_records()
    assert [r.name for r in records][:2] == ["2016-17-Q3", "2016-17-Q4"]
    for r in records:
        m = json.loads((r.folder / "manifest.json").read_text(encoding="utf-8"))
        assert [f.text for f in audit.check_published_files(r.folder, m)] == [], r.name
        assert m["results"] and m["results"]["indicators"], f"{r.name}: no results"


def test_folder_names_and_versions(tmp_path: Path) -> None:
    q4 = archive.parse_folder_name("2016-17-Q4")
    assert q4 is not None and q4[1] == 1 and q4[0].id == "2016-17-Q4"
    assert archive.parse_folder_name("2016-17-Q4.v12")[1] == 12  # type: ignore[index]
    for bad in ("2016-17-Q4.v1", "2016-17-Q4.v02", "2016-17-Q4.previous-1", "notes", ".v2"):
        assert archive.parse_folder_name(bad) is None, bad
    for name, block in (
        ("2016-17-Q4", None),  # a record made before publishing was a separate step
        ("2016-17-Q4.v2", {"version": 2, "supersedes": "2016-17-Q4", "reason": "typo"}),
        ("2016-17-Q4.v3", {"version": 3, "supersedes": "2016-17-Q4.v2", "reason": "again"}),
        ("2016-17-Q3", {"version": 1}),
    ):
        (tmp_path / name).mkdir()
        m = {"quarter": name[:10], **({"publication": block} if block else {})}
        (tmp_path / name / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    (tmp_path / "2017-18-Q1").mkdir()  # no manifest: not a record
    records = archive.published_records(tmp_path)
    assert [(r.name, r.version, r.supersedes, r.superseded_by) for r in records] == [
        ("2016-17-Q3", 1, None, None),
        ("2016-17-Q4", 1, None, "2016-17-Q4.v2"),
        ("2016-17-Q4.v2", 2, "2016-17-Q4", "2016-17-Q4.v3"),
        ("2016-17-Q4.v3", 3, "2016-17-Q4.v2", None),
    ]
    current = archive.current_record("2016-17-Q4", tmp_path)
    assert current is not None and current.name == "2016-17-Q4.v3" and current.reason == "again"
    assert archive.current_record("2017-18-Q1", tmp_path) is None
    assert archive.published_records(tmp_path / "missing") == []


@pytest.mark.e2e
@pytest.mark.slow
def test_todays_code_changes_no_published_result() -> None:
    """Re-run every standing record with the working tree's code; fail only when a recorded
    result would change (wording and markup may change freely: the records stand)."""
    expected = json.loads(EXPECTED_CHANGES.read_text(encoding="utf-8"))
    results = audit.audit_all(code=audit.CURRENT, jobs=2)
    assert [r.error for r in results if r.error] == []
    assert all(r.differences("rerun") == [] for r in results), [r.text() for r in results]
    unexpected = audit.unexpected_result_changes(results, expected)
    assert not unexpected, audit.impact_message(
        unexpected, EXPECTED_CHANGES.relative_to(PROJECT_ROOT).as_posix()
    )
