"""Open data (``opendata.py``, ``datapackage.py``): a quarter's figures as CSV, ODS and a
Frictionless Data Package.

The unit tests write the open data of 2016-17 Q4 straight from its inputs and results (no
kernels); the end-to-end tests read what a real build published (``built_quarters``) and
compare it with the manifest's results and with the tables of the report itself.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from scorecard_lib import audit
from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.inputs import loading
from scorecard_lib.inputs.archive import ARCHIVE_DIR
from scorecard_lib.report import datapackage, manifest, opendata, record

Q = "2016-17-Q4"
# Typed from the Cabinet report of 20 July 2017 (../shared/seed), as in test_golden_seed.py:
# the five red indicators with an update in Quarter Four 2016/17.
SEED_RED_UPDATED = {
    "CF01": 66.3,  # looked after children per 10,000
    "CF02": 43.2,  # child protection plans per 10,000
    "OR01": 8.92,  # sickness absence, days per FTE
    "OR03": 46.0,  # staff who feel the Council has a clear vision (%)
}
SEED_CARE_HOMES = "HW06"  # "just over 1300" older people in permanent care home placements


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The open data of 2016-17 Q4 written into a folder, and the results it came from."""
    q = parse_quarter(Q)
    inputs = loading.load_inputs(q, loading.DATA_DIR)
    results = record.quarter_results(inputs)
    folder = tmp_path_factory.mktemp("open") / "open-data"
    opendata.write_open_data(opendata.open_data(inputs, results), folder)
    return folder, results


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(
        folder / name, dtype={"updated": "boolean"}, keep_default_na=False, na_values=[""]
    )


# --- the files -----------------------------------------------------------------------------


def test_the_four_files_are_written(written: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = written
    assert sorted(p.name for p in folder.iterdir()) == sorted(opendata.FILES)


def test_the_data_package_is_valid_for_frictionless(written: tuple[Path, dict[str, Any]]) -> None:
    from frictionless import validate

    folder, _ = written
    report = validate(str(folder / opendata.PACKAGE_NAME))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_descriptor_describes_fields_keys_licence_and_quarter(
    written: tuple[Path, dict[str, Any]],
) -> None:
    folder, _ = written
    package = json.loads((folder / opendata.PACKAGE_NAME).read_text("utf-8"))
    assert package["quarter"] == Q
    assert (package["period_start"], package["period_end"]) == ("2017-01-01", "2017-03-31")
    assert package["licenses"] == [
        {
            "name": "OGL-UK-3.0",
            "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "title": "Open Government Licence v3.0",
        }
    ]
    resources = {r["path"]: r for r in package["resources"]}
    assert set(resources) == {"scorecard.csv", "risks.csv", "scorecard.ods"}
    for path, key in (("scorecard.csv", "indicator_id"), ("risks.csv", "risk_id")):
        schema = resources[path]["schema"]
        assert schema["primaryKey"] == [key]
        assert schema["missingValues"] == [""]
        header = (folder / path).read_text("utf-8").splitlines()[0].split(",")
        assert [f["name"] for f in schema["fields"]] == header
        for f in schema["fields"]:
            assert f["type"] in {"string", "number", "integer", "boolean"}
            assert len(f["description"]) > 10, f
    fields = {f["name"]: f for f in resources["scorecard.csv"]["schema"]["fields"]}
    assert "unit" in fields["value"] and fields["value"]["type"] == "number"
    for name, r in resources.items():  # size and sha256 of each file, checked by frictionless
        data = (folder / name).read_bytes()
        assert r["bytes"] == len(data)
        assert r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_the_seed_figures_and_their_red_ratings(written: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = written
    rows = _csv(folder, "scorecard.csv").set_index("indicator_id")
    for ind, value in SEED_RED_UPDATED.items():
        assert rows.loc[ind, "value"] == value, ind
        assert rows.loc[ind, "rating"] == "Red", ind
        assert bool(rows.loc[ind, "updated"]) is True
    assert 1300 < rows.loc[SEED_CARE_HOMES, "value"] < 1310
    assert rows.loc[SEED_CARE_HOMES, "rating"] == "Red"
    assert rows.loc["CF01", "reference"] == 60
    assert rows.loc["CF01", "reference_label"] == "England average at 31/03/2016"
    assert rows.loc["CF01", "unit"] == "per 10,000 children"
    assert len(rows) == 46
    assert (rows["rating"] == "Green").sum() == 17 and (rows["rating"] == "Red").sum() == 10
    risks = _csv(folder, "risks.csv")
    red = risks[(risks["status"] == "open") & (risks["current_band"] == "Red")]
    assert set(red["risk_id"]) == {"CRR01", "CRR02"}


def test_every_figure_is_the_one_the_manifest_results_record(
    written: tuple[Path, dict[str, Any]],
) -> None:
    folder, results = written
    rows = _csv(folder, "scorecard.csv")
    assert sorted(rows["indicator_id"]) == sorted(results["indicators"])
    for row in rows.to_dict("records"):
        expected = results["indicators"][row["indicator_id"]]
        for column, key in (
            ("value", "value"),
            ("reference", "reference"),
            ("previous_value", "previous_value"),
            ("last_year_value", "last_year_value"),
        ):
            got = None if pd.isna(row[column]) else row[column]
            assert got == expected[key], (row["indicator_id"], column)
        for key in ("rating", "rating_computed", "short_term", "long_term", "value_quarter"):
            got = None if pd.isna(row[key]) else row[key]
            assert got == expected[key], (row["indicator_id"], key)
        assert bool(row["updated"]) == expected["updated"]
    risks = _csv(folder, "risks.csv")
    assert sorted(risks["risk_id"]) == sorted(results["risks"])
    for row in risks.to_dict("records"):
        expected = results["risks"][row["risk_id"]]
        for key in ("inherent_score", "current_score", "target_score", "current_band", "trend"):
            assert row[key] == expected[key], (row["risk_id"], key)
        for stage in ("inherent", "current", "target"):
            assert row[f"{stage}_likelihood"] * row[f"{stage}_impact"] == row[f"{stage}_score"]


def test_the_spreadsheet_has_the_same_rows_as_the_csvs(
    written: tuple[Path, dict[str, Any]],
) -> None:
    folder, _ = written
    sheets = pd.read_excel(folder / "scorecard.ods", engine="odf", sheet_name=None)
    assert list(sheets) == ["scorecard", "risks"]
    for sheet, name in (("scorecard", "scorecard.csv"), ("risks", "risks.csv")):
        csv_rows = pd.read_csv(folder / name)
        pd.testing.assert_frame_equal(sheets[sheet], csv_rows, check_dtype=False)
        assert len(csv_rows) > 10


def test_files_are_byte_stable_and_the_spreadsheet_carries_no_time(
    written: tuple[Path, dict[str, Any]],
) -> None:
    folder, results = written
    inputs = loading.load_inputs(parse_quarter(Q), loading.DATA_DIR)
    again = opendata.open_data_files(opendata.open_data(inputs, results))
    for name, data in again.items():
        assert (folder / name).read_bytes() == data, name
    with zipfile.ZipFile(folder / "scorecard.ods") as ods:
        entries = ods.infolist()
        assert entries[0].filename == "mimetype" and entries[0].compress_type == zipfile.ZIP_STORED
        assert ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        assert {e.date_time for e in entries} == {opendata.ZIP_EPOCH}
        meta = ods.read("meta.xml").decode()
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", meta)


def test_normalise_ods_fixes_entry_dates_and_keeps_the_content() -> None:
    frame = pd.DataFrame({"a": [1.5, 2.0], "b": ["x", None]})
    data = opendata.ods_bytes({"sheet": frame})
    assert opendata.normalise_ods(data) == data  # already normal: unchanged
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buffer, "w") as dst:
        for info in src.infolist():
            info.date_time = (2026, 12, 6, 1, 2, 3)
            dst.writestr(info, src.read(info.filename))
    assert opendata.normalise_ods(buffer.getvalue()) == data
    back = pd.read_excel(io.BytesIO(data), engine="odf")
    assert back["a"].tolist() == [1.5, 2.0] and back["b"].tolist()[0] == "x"
    assert pd.isna(back["b"].tolist()[1])


@pytest.mark.slow
def test_the_spreadsheet_does_not_depend_on_what_odfpy_wrote_before() -> None:
    """odfpy declares every namespace it has met in the process; the canonical form does not."""
    import odf.opendocument
    import odf.text

    frame = pd.DataFrame({"a": [1.5, None], "b": [True, None]})
    before = opendata.ods_bytes({"sheet": frame})
    text = odf.opendocument.OpenDocumentText()
    text.text.addElement(odf.text.P(text="another OpenDocument file"))
    text.write(io.BytesIO())
    assert opendata.ods_bytes({"sheet": frame}) == before
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pandas as pd; from scorecard_lib.report import opendata; "
            "frame = pd.DataFrame({'a': [1.5, None], 'b': [True, None]}); "
            "sys.stdout.buffer.write(opendata.ods_bytes({'sheet': frame}))",
        ],
        capture_output=True,
        check=True,
    )
    assert fresh.stdout == before


def test_csv_cells_are_written_plainly() -> None:
    assert opendata._cell(1304.0, "number") == "1304"
    assert opendata._cell(0.1 + 0.2, "number") == "0.30000000000000004"
    assert opendata._cell(None, "number") == ""
    assert opendata._cell(pd.NA, "boolean") == ""
    assert opendata._cell(True, "boolean") == "true"
    assert opendata._cell(5, "integer") == "5"


# --- the record and the audit --------------------------------------------------------------


def test_manifest_and_record_list_the_open_data(tmp_path: Path) -> None:
    folder = tmp_path / Q
    (folder / "notebooks").mkdir(parents=True)
    (folder / "notebooks" / "overview.ipynb").write_text("{}")
    (folder / "open-data").mkdir()
    (folder / "open-data" / "scorecard.csv").write_text("a\n1\n")
    (folder / "report.html").write_text("<html></html>")
    paths = [e["path"] for e in manifest.output_entries(folder)]
    assert paths == ["notebooks/overview.ipynb", "open-data/scorecard.csv", "report.html"]
    assert "open-data/scorecard.csv" in record.record_files(folder)


def test_a_record_without_open_data_stays_valid() -> None:
    """The archived records were published before open data existed and list none."""
    folder = ARCHIVE_DIR / Q
    recorded = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert not any(e["path"].startswith("open-data/") for e in recorded["outputs"])
    assert audit.check_published_files(folder, recorded) == []


def test_the_audit_does_not_count_open_data_a_record_never_had(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        (folder / "notebooks").mkdir(parents=True)
        (folder / "notebooks" / "overview.ipynb").write_text("{}")
        (folder / "report.html").write_text("<html></html>")
    (new / "open-data").mkdir()
    (new / "open-data" / "scorecard.csv").write_text("indicator_id,value\nCF01,66.3\n")
    found = audit.compare_outputs(old, new)
    assert not [f.text for f in found if f.differs]
    assert any("published before open data existed" in f.text for f in found)
    # once a record has open data, a changed cell is named
    shutil.copytree(new / "open-data", old / "open-data")
    (old / "open-data" / "scorecard.csv").write_text("indicator_id,value\nCF01,60.3\n")
    differs = [f.text for f in audit.compare_outputs(old, new) if f.differs]
    assert differs == ["open-data/scorecard.csv: row CF01, column 'value': 60.3 -> 66.3"]


# --- end to end: what a build publishes ------------------------------------------------------


def _report_tables(report: Path) -> dict[str, list[list[str]]]:
    soup = BeautifulSoup(report.read_text("utf-8"), "html.parser")
    tables = {}
    for table in soup.find_all("table"):
        caption = table.find("caption").get_text(" ", strip=True)
        tables[caption] = [
            [" ".join(c.get_text().split()) for c in tr.find_all(["th", "td"])]
            for tr in table.find("tbody").find_all("tr")
        ]
    return tables


def _shown_number(text: str) -> tuple[float, int]:
    """The first number in a cell as the report shows it, and its decimal places."""
    match = re.search(r"-?[\d,]+(?:\.(\d+))?", text)
    assert match, text
    return float(match[0].replace(",", "")), len(match[1] or "")


@pytest.mark.e2e
def test_a_build_publishes_valid_open_data_listed_in_its_manifest(
    built_quarters: dict[str, Path],
) -> None:
    folder = built_quarters[Q]
    package = folder / "open-data" / "datapackage.json"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("frictionless")), "validate", str(package)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID" in done.stdout
    listed = {e["path"] for e in json.loads((folder / "manifest.json").read_text())["outputs"]}
    assert {f"open-data/{n}" for n in opendata.FILES} <= listed


@pytest.mark.e2e
def test_the_open_data_states_what_the_report_states(built_quarters: dict[str, Path]) -> None:
    folder = built_quarters[Q]
    tables = _report_tables(folder / "report.html")
    prose = parse_quarter(Q).prose
    dashboard = {row[0]: row for row in tables[f"Full dashboard: every indicator, {prose}"]}
    rows = _csv(folder / "open-data", "scorecard.csv")
    assert len(rows) == len(dashboard) == 46
    for row in rows.to_dict("records"):
        shown = dashboard[row["name"]]
        rating_word = shown[4].split(" ", 1)[1].replace(" (overridden)", "")
        assert rating_word == row["rating"], row["indicator_id"]
        if pd.isna(row["value"]):
            assert shown[1] == "no data"
            continue
        number, places = _shown_number(shown[1])
        assert number == round(row["value"], places), (row["indicator_id"], shown[1])
    caption = f"Full Corporate Risk Register, {prose} (scores are likelihood x impact)"
    register = {row[0].split(":", 1)[0]: row for row in tables[caption]}
    risks = _csv(folder / "open-data", "risks.csv")
    assert len(risks) == len(register)
    for row in risks.to_dict("records"):
        shown = register[row["risk_id"]]
        assert shown[2] == (
            f"{row['inherent_score']} ({row['inherent_likelihood']} x {row['inherent_impact']})"
        )
        assert shown[3] == (
            f"{row['current_score']} ({row['current_likelihood']} x {row['current_impact']})"
        )
        assert shown[4].split(" ", 1)[1] == row["current_band"]
        assert shown[5] == str(row["target_score"])


@pytest.mark.e2e
def test_the_audit_names_an_edited_scorecard_csv(
    built_quarters: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / Q
    shutil.copytree(built_quarters[Q], folder)
    recorded = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert audit.check_published_files(folder, recorded) == []
    csv_path = folder / "open-data" / "scorecard.csv"
    csv_path.write_text(csv_path.read_text("utf-8").replace(",66.3,", ",60.3,", 1), "utf-8")
    found = [f.text for f in audit.check_published_files(folder, recorded)]
    assert len(found) == 1
    assert found[0].startswith("open-data/scorecard.csv was changed after it was published")


def test_the_docs_describe_every_column() -> None:
    from scorecard_lib.core.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "open-data.md").read_text("utf-8")
    for field in (*datapackage.SCORECARD_FIELDS, *datapackage.RISK_FIELDS_OPEN):
        assert f"`{field.name}`" in text, field.name
