"""Shared fixtures. The expensive one builds every sample quarter's report once per test
session, through the real runner and notebooks, for the end-to-end and browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorecard_lib.inputs.locations import available_quarters


@pytest.fixture(scope="session")
def built_quarters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """quarter id -> its output folder (report.html, notebooks/, manifest.json)."""
    from scorecard_lib.build.runner import run_quarter

    out = tmp_path_factory.mktemp("outputs")
    built = {}
    for q in available_quarters():
        result = run_quarter(q.id, out_dir=out)
        built[q.id] = result.out_folder
    return built


#: The committed records of the sample quarters (history: copied, never changed by tests).
COMMITTED_RECORDS = ("2016-17-Q3", "2016-17-Q4")


def committed_record(quarter: str) -> Path:
    """The archived record of ``quarter`` (``published/QUARTER``)."""
    from scorecard_lib.inputs.archive import ARCHIVE_DIR

    return ARCHIVE_DIR / quarter


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive folder for the archive page's tests: copies of the committed records of
    2016-17 Q3 and Q4 (published before open data existed), and a correction of Q4,
    ``2016-17-Q4.v2``, with open data, a PDF and one rating changed, superseding it."""
    import json
    import shutil

    from scorecard_lib.core.quarters import parse_quarter
    from scorecard_lib.inputs import loading
    from scorecard_lib.report import opendata, record

    archive = tmp_path_factory.mktemp("archive") / "published"
    archive.mkdir()
    for q in COMMITTED_RECORDS:
        shutil.copytree(committed_record(q), archive / q)
    v2 = archive / "2016-17-Q4.v2"
    shutil.copytree(archive / "2016-17-Q4", v2)
    inputs = loading.load_inputs(parse_quarter("2016-17-Q4"), loading.DATA_DIR)
    opendata.write_open_data(
        opendata.open_data(inputs, record.quarter_results(inputs)), v2 / "open-data"
    )
    (v2 / "report.pdf").write_bytes(b"%PDF-1.4\n% a stand-in for the printed report\n")
    manifest = json.loads((v2 / "manifest.json").read_text("utf-8"))
    manifest["publication"] = {
        "version": 2,
        "supersedes": "2016-17-Q4",
        "reason": "The figure for staff appraisals was corrected by Human Resources.",
    }
    results = manifest["results"]
    results["indicators"]["OR02"]["rating"] = "Green"
    ratings = results["counts"]["ratings"]
    old = json.loads((archive / "2016-17-Q4" / "manifest.json").read_text("utf-8"))
    ratings[old["results"]["indicators"]["OR02"]["rating"]] -= 1
    ratings["Green"] += 1
    (v2 / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return archive
