"""The returns workbook: template -> fill in -> import, and the workbooks import refuses.

Every test works on a copy of the sample data in tmp_path; the project's data/ is never
touched.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from scorecard_lib.core.errors import (
    InputError,
    PublishedError,
    QuarterError,
    ScorecardError,
    ValidationError,
)
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR
from scorecard_lib.inputs import workbook
from scorecard_lib.inputs.loading import load_inputs
from scorecard_lib.inputs.locations import available_quarters
from scorecard_lib.inputs.workbook.cells import MAX_SHEET_ROWS
from scorecard_lib.inputs.workbook.layout import OPTIONAL, REQUIRED
from scorecard_lib.present.sections import load_scorecard

Q2 = "2017-18-Q2"

pytestmark = pytest.mark.skipif(
    not (DATA_DIR / "2017-18-Q1" / "values.csv").is_file(),
    reason="the sample data (data/2017-18-Q1) is not there",
)


@pytest.fixture
def sample(tmp_path: Path) -> dict[str, Path]:
    """A private copy of the sample data and parameters, and an empty outputs folder."""
    data, params, out = tmp_path / "data", tmp_path / "params", tmp_path / "outputs"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(PARAMS_DIR, params)
    out.mkdir()
    return {"data": data, "params": params, "out": out, "tmp": tmp_path}


def _dirs(s: dict[str, Path]) -> dict[str, Any]:
    return {"data_dir": s["data"], "params_dir": s["params"]}


def _template(s: dict[str, Path], quarter: str = Q2, name: str = "returns.xlsx") -> Path:
    return workbook.write_template(quarter, s["tmp"] / name, **_dirs(s))


def _import(s: dict[str, Path], path: Path, **kw: Any) -> workbook.ImportResult:
    return workbook.import_workbook(path, **_dirs(s), out_dir=s["out"], **kw)


def _snapshot(*roots: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root.parent)): p.read_bytes()
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _columns(ws: Any) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def _rows_by_id(ws: Any) -> dict[str, int]:
    return {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}


def fill(path: Path, values: dict[str, Any] | None = None, **cells: Any) -> None:
    """Fill in a template as a service would: every required indicator gets its last value
    unless ``values`` says otherwise; ``cells`` sets other columns as id__Column heading."""
    values = values or {}
    wb = load_workbook(path)
    ws = wb["Indicators"]
    col = _columns(ws)
    for iid, r in _rows_by_id(ws).items():
        if iid in values:
            ws.cell(row=r, column=col["Value"]).value = values[iid]
        elif ws.cell(row=r, column=col["This quarter"]).value == REQUIRED:
            last = ws.cell(row=r, column=col["Last value"]).value
            ws.cell(row=r, column=col["Value"], value=last if last != "none" else 1)
    for key, value in cells.items():
        iid, heading = key.split("__")
        wanted = heading.replace("_", " ").lower()
        column = next(c for h, c in col.items() if h.replace("-", " ").lower().startswith(wanted))
        ws.cell(row=_rows_by_id(ws)[iid], column=column).value = value  # None clears it
    wb.save(path)


# --- the template -----------------------------------------------------------------------------


def test_template_lists_the_quarter_with_protection_and_validation(sample: dict) -> None:
    path = _template(sample)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Indicators", "Breakdowns", "Risks", "_meta"]
    assert wb["_meta"].sheet_state == "hidden"
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(min_row=2, values_only=True)}
    assert meta["quarter"] == Q2 and meta["base_quarter"] == "2017-18-Q1"
    assert "Quarter Two 2017/18" in wb["Instructions"]["A1"].value

    ws = wb["Indicators"]
    col, rows = _columns(ws), _rows_by_id(ws)
    inputs = load_inputs("2017-18-Q1", sample["data"], sample["params"])
    assert len(rows) == 46  # every indicator in force in 2017/18 (none retired since Q1)
    assert set(rows) <= set(inputs.catalogue["indicator_id"])

    def cell(iid: str, heading: str) -> Any:
        return ws.cell(row=rows[iid], column=col[heading])

    # quarterly: required; annual last reported in Q2: required; annual last in Q3: optional
    assert cell("CF01", "This quarter").value == REQUIRED
    assert cell("EN01", "This quarter").value == REQUIRED
    assert cell("OB01", "This quarter").value == OPTIONAL
    assert cell("CF01", "Last value").value == 68.1
    assert cell("CF01", "Last value refers to").value == "2017/18 Q1"
    assert cell("CF01", "Benchmark").value == 62  # carried from last quarter
    assert cell("CF01", "Benchmark label").value == "England average"
    assert cell("CF04", "Target").value == 3
    # definitions locked, inputs open, the sheet protected
    assert ws.protection.sheet
    assert cell("CF01", "Indicator").protection.locked
    assert not cell("CF01", "Value").protection.locked
    assert not cell("CF01", "Commentary").protection.locked
    # numeric input cells carry Excel data validation; percentages are limited to 0-100
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    value_ref = cell("CF04", "Value").coordinate
    pct = next(dv for ref, dv in rules.items() if value_ref in ref.split())
    assert (pct.type, pct.formula1, pct.formula2) == ("decimal", "0", "100")
    covered = {c for ref in rules for c in ref.split()}
    for heading in ("Value", "Numerator", "Denominator", "Target", "Benchmark"):
        assert all(ws.cell(row=r, column=col[heading]).coordinate in covered for r in rows.values())

    risks = wb["Risks"]
    rcol = _columns(risks)
    assert risks.cell(row=2, column=1).value == "CRR01"
    assert risks.cell(row=2, column=1).protection.locked  # an existing risk keeps its id
    assert not risks.cell(row=2, column=rcol["Current likelihood (1-5)"]).protection.locked
    whole = [dv for dv in risks.data_validations.dataValidation if dv.type == "whole"]
    assert len(whole) == 1 and (whole[0].formula1, whole[0].formula2) == ("1", "5")
    assert (
        f"{risks.cell(row=2, column=rcol['Current impact (1-5)']).coordinate}"
        in str(whole[0].sqref).split()
    )

    breakdowns = wb["Breakdowns"]
    assert {breakdowns.cell(row=r, column=1).value for r in range(2, 8)} == {"OR01"}


@pytest.mark.slow
def test_template_is_byte_identical_each_time(sample: dict) -> None:
    first = _template(sample, name="one.xlsx")
    second = _template(sample, name="two.xlsx")
    assert first.read_bytes() == second.read_bytes()
    # also from a fresh interpreter with another hash seed (set ordering must not matter)
    code = (
        "import sys; from pathlib import Path; from scorecard_lib.inputs import workbook; "
        "workbook.write_template(sys.argv[1], Path(sys.argv[2]), data_dir=Path(sys.argv[3]), "
        "params_dir=Path(sys.argv[4]))"
    )
    third = sample["tmp"] / "three.xlsx"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-c", code, Q2, str(third), str(sample["data"]), str(sample["params"])],
        check=True,
        env=env,
    )
    assert third.read_bytes() == first.read_bytes()


def test_template_refuses_to_overwrite_a_file(sample: dict) -> None:
    path = _template(sample)
    with pytest.raises(InputError, match="already exists"):
        _template(sample)
    with pytest.raises(InputError, match=r"\.xlsx"):
        workbook.write_template(Q2, sample["tmp"] / "returns.csv", **_dirs(sample))
    assert path.is_file()


def test_template_refuses_a_quarter_after_a_gap(sample: dict) -> None:
    with pytest.raises(QuarterError, match="next quarter to add is 2017-18-Q2"):
        _template(sample, "2017-18-Q3")


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_template_fill_import_report(sample: dict) -> None:
    path = _template(sample)
    fill(
        path,
        {"CF01": 70.0, "OR09": 95, "CF04": 3.2, "OB01": 26500},  # OB01 is optional
        CF01__Numerator=835,
        CF01__Denominator=119300,
        CF01__Commentary="The rate rose again.\n\nThe Edge of Care service starts in October.",
        CF01__Actions="Open the Edge of Care service.\nReview every new admission weekly.",
        OR01__Data_quality_note="forecast",
    )
    wb = load_workbook(path)
    ws = wb["Risks"]
    ws.cell(row=2, column=_columns(ws)["Current likelihood (1-5)"], value=2)  # CRR01: 15 -> 10
    bd = wb["Breakdowns"]
    for r in range(2, 8):
        bd.cell(row=r, column=_columns(bd)["Value"], value=bd.cell(row=r, column=5).value)
    wb.save(path)

    result = _import(sample, path)

    folder = sample["data"] / Q2
    assert result.quarter == Q2
    assert sorted(p.name for p in result.files) == [
        f"{Q2}.yaml",
        "breakdowns.csv",
        "commentary.yaml",
        "risks.csv",
        "values.csv",
    ]
    assert "CF01 Looked after children per 10,000 children: 68.1 -> 70.0 (+2.8%)" in (
        result.changes
    )
    assert any(line.startswith("CRR01 ") and "15 -> 10 (down)" in line for line in result.changes)
    assert any("placeholder Cabinet date" in w for w in result.warnings)
    assert Q2 in [q.id for q in available_quarters(sample["data"])]

    # files in the house style: same header as the sample, \n line endings, no float noise
    text = (folder / "values.csv").read_bytes().decode()
    sample_header = (sample["data"] / "2017-18-Q1" / "values.csv").read_text().splitlines()[0]
    assert text.splitlines()[0] == sample_header
    assert "\r" not in text
    assert "CF01,70,835,119300,,,62,England average,31/03/2017," in text
    assert "OB01,26500," in text
    assert "OR01," in text and "forecast" in text

    sc = load_scorecard(Q2, data_dir=sample["data"], params_dir=sample["params"])
    board = sc.board.set_index("indicator_id")
    assert board.loc["CF01", "value"] == 70.0 and board.loc["CF01", "rating"] == "Red"
    assert board.loc["OR09", "value"] == 95 and board.loc["OR09", "rating"] == "Green"
    assert board.loc["CF04", "value"] == 3.2 and board.loc["CF04", "rating"] == "Amber"
    assert bool(board.loc["CF01", "updated"]) and bool(board.loc["OB01", "updated"])
    assert not bool(board.loc["OB06", "updated"])  # optional, left empty: carried forward
    assert board.loc["OB06", "value_quarter"] == "2016-17-Q3"
    comments = sc.inputs.commentary.set_index("indicator_id")
    assert "Edge of Care service starts" in comments.loc["CF01", "commentary"]
    assert comments.loc["CF01", "actions"] == [
        "Open the Edge of Care service.",
        "Review every new admission weekly.",
    ]
    assert comments.loc["CF01", "author"] == "Children, Families and Communities"
    reg = sc.register.set_index("risk_id")
    assert reg.loc["CRR01", "current_score"] == 10 and reg.loc["CRR01", "trend"] == "down"
    assert len(sc.inputs.breakdowns) == 6


def test_reimporting_an_unchanged_quarter_reproduces_its_files_exactly(sample: dict) -> None:
    before = _snapshot(sample["data"], sample["params"])
    path = _template(sample, "2017-18-Q1")
    result = _import(sample, path, confirm_swings=True)
    assert _snapshot(sample["data"], sample["params"]) == before
    assert any("replaces the figures" in w for w in result.warnings)


def test_new_quarter_then_template_then_import(sample: dict) -> None:
    from scorecard_lib.inputs.scaffold import new_quarter

    new_quarter(Q2, **_dirs(sample))
    values = sample["data"] / Q2 / "values.csv"
    values.write_text(values.read_text().replace("CF04,,,,,3,", "CF04,,,,,2.5,"))
    path = _template(sample)
    ws = load_workbook(path)["Indicators"]
    assert ws.cell(row=_rows_by_id(ws)["CF04"], column=_columns(ws)["Target"]).value == 2.5
    fill(path)
    result = _import(sample, path)
    assert not any("placeholder" in w for w in result.warnings)  # new-quarter wrote params
    assert "CF04,2.8,,,,2.5," in values.read_text()
    load_inputs(Q2, sample["data"], sample["params"])


# --- required, optional and swings ------------------------------------------------------------


def test_required_value_missing_is_an_error_unless_the_note_says_why(sample: dict) -> None:
    path = _template(sample)
    fill(path, {"HW05": None})
    with pytest.raises(ValidationError) as err:
        _import(sample, path)
    assert "Indicators!K" in err.value.message() and "HW05 is required" in err.value.message()
    assert not (sample["data"] / Q2).exists()

    fill(path, {"HW05": None}, HW05__Data_quality_note="not yet published")
    result = _import(sample, path)
    assert any(w.startswith("HW05 ") and "not yet published" in w for w in result.warnings)
    assert "HW05," not in (sample["data"] / Q2 / "values.csv").read_text()


def test_swings_need_confirming(sample: dict) -> None:
    path = _template(sample)
    fill(path, {"CF01": 95.0})
    with pytest.raises(ValidationError) as err:
        _import(sample, path)
    msg = err.value.message()
    assert "CF01 changed by +39.5%" in msg and "--confirm-swings" in msg
    assert "(value '95')" in msg
    assert not (sample["data"] / Q2).exists()

    assert _import(sample, path, swing_percent=50).swings == []
    shutil.rmtree(sample["data"] / Q2)
    result = _import(sample, path, confirm_swings=True)
    assert len(result.swings) == 1 and result.swings[0].startswith("CF01 ")


def test_a_rule_of_validate_is_reported_at_the_workbook_cell(sample: dict) -> None:
    path = _template(sample)
    fill(path, CF04__Target=None)  # CF04 is rated against a target: load_inputs requires one
    with pytest.raises(ValidationError) as err:
        _import(sample, path)
    (problem,) = err.value.problems
    ws = load_workbook(path)["Indicators"]
    row = _rows_by_id(ws)["CF04"]
    assert problem.file == "returns.xlsx"
    assert problem.column == f"Indicators!O{row}" and problem.row == row
    assert "target" in problem.rule


# --- published quarters -----------------------------------------------------------------------


def test_published_quarter_needs_force_and_keeps_the_old_data(sample: dict) -> None:
    path = _template(sample)
    fill(path)
    _import(sample, path)
    (sample["out"] / Q2).mkdir()
    (sample["out"] / Q2 / "report.html").write_text("<html></html>")
    before = _snapshot(sample["data"], sample["params"])

    fill(path, {"CF01": 69.0})
    with pytest.raises(PublishedError) as err:
        _import(sample, path)
    assert "--force" in err.value.message()
    assert _snapshot(sample["data"], sample["params"]) == before

    result = _import(sample, path, force=True)
    kept = sample["data"] / f"{Q2}.previous-1"
    assert result.backup == kept
    assert "CF01,68.1," in (kept / "values.csv").read_text()
    assert "CF01,69," in (sample["data"] / Q2 / "values.csv").read_text()
    assert [q.id for q in available_quarters(sample["data"])][-1] == Q2  # backup ignored
    assert f"{Q2}.previous-1" not in [q.id for q in available_quarters(sample["data"])]
    assert _import(sample, path, force=True).backup == sample["data"] / f"{Q2}.previous-2"


def test_an_earlier_published_quarter_is_protected_too(sample: dict) -> None:
    (sample["out"] / "2017-18-Q1").mkdir()
    (sample["out"] / "2017-18-Q1" / "report.html").write_text("<html></html>")
    path = _template(sample, "2017-18-Q1")
    with pytest.raises(PublishedError):
        _import(sample, path, confirm_swings=True)


# --- bad workbooks: a clear error and nothing written ----------------------------------------


def _refused(sample: dict, path: Path, error: type[ScorecardError], **kw: Any) -> str:
    before = _snapshot(sample["data"], sample["params"])
    with pytest.raises(error) as err:
        _import(sample, path, **kw)
    assert _snapshot(sample["data"], sample["params"]) == before
    assert err.value.exit_code == 2  # bad input (docs/errors.md)
    return err.value.message()


def test_text_in_a_number_cell(sample: dict) -> None:
    path = _template(sample)
    fill(path, {"CF01": "about 70"})
    row = _rows_by_id(load_workbook(path)["Indicators"])["CF01"]
    msg = _refused(sample, path, ValidationError)
    assert f"returns.xlsx, row {row}, column 'Indicators!K{row}' (value 'about 70')" in msg
    assert "text where a number belongs" in msg
    assert "CF01 is required" not in msg  # one problem per cell
    assert msg.startswith("The input data has 1 problem:")


def test_a_missing_indicator_row(sample: dict) -> None:
    path = _template(sample)
    fill(path)
    wb = load_workbook(path)
    ws = wb["Indicators"]
    ws.delete_rows(_rows_by_id(ws)["HW06"])
    wb.save(path)
    msg = _refused(sample, path, ValidationError)
    assert "the row for HW06 (Older people funded in permanent care home" in msg
    assert "placements) is missing" in msg


def test_an_extra_unknown_sheet(sample: dict) -> None:
    path = _template(sample)
    fill(path)
    wb = load_workbook(path)
    wb.create_sheet("Sheet1")["A1"] = "CF01 should be 70"
    wb.save(path)
    msg = _refused(sample, path, ValidationError)
    assert "a sheet 'Sheet1' that the template does not have" in msg


def test_a_workbook_for_the_wrong_quarter(sample: dict) -> None:
    path = _template(sample)
    fill(path)
    msg = _refused(sample, path, QuarterError, quarter="2017/18 Q3")
    assert "holds the returns for Quarter Two 2017/18 (2017-18-Q2)" in msg
    assert "not Quarter Three 2017/18" in msg


def test_a_bad_risk_score_and_a_deleted_risk(sample: dict) -> None:
    path = _template(sample)
    fill(path)
    wb = load_workbook(path)
    ws = wb["Risks"]
    col = _columns(ws)
    ws.cell(row=2, column=col["Current impact (1-5)"], value=7)
    rows = _rows_by_id(ws)
    ws.delete_rows(rows["CRR03"])
    wb.save(path)
    msg = _refused(sample, path, ValidationError)
    assert "Risks!H2" in msg and "(value '7')" in msg and "1 to 5" in msg
    assert "risk CRR03" in msg and "is missing" in msg


def test_a_new_risk_in_a_spare_row(sample: dict) -> None:
    path = _template(sample)
    fill(path)
    wb = load_workbook(path)
    ws = wb["Risks"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value is None)
    new = ["CRR99", "Cyber attack", "Systems are disrupted.", "Commercial and Change"]
    new += [4, 4, 3, 4, 2, 4, "Firewalls", "Training", "Head of IT", "31/03/2018", "open"]
    for i, v in enumerate(new, start=1):
        ws.cell(row=row, column=i, value=v)
    wb.save(path)
    result = _import(sample, path)
    assert "CRR99 Cyber attack: new risk, current score 12" in result.changes
    assert "CRR99,Cyber attack" in (sample["data"] / Q2 / "risks.csv").read_text()


def test_a_formula_without_a_saved_result(sample: dict) -> None:
    path = _template(sample)
    fill(path, {"CF01": "=835/119300*10000"})
    row = _rows_by_id(load_workbook(path)["Indicators"])["CF01"]
    msg = _refused(sample, path, ValidationError)
    assert f"column 'Indicators!K{row}' (value '=835/119300*10000')" in msg
    assert "this cell holds a formula" in msg and "paste it as values only" in msg


# --- hostile workbooks and hostile data (issue 12, defects 3 and 5) ---------------------------

#: Text that spreadsheet programs take for a formula when it is stored as one.
HOSTILE = {
    "name": '=HYPERLINK("http://example.invalid/x","Click for the figures")',
    "owner": "=cmd|' /C calc'!A0",
    "council": "+cmd|' /C calc'!A0",
    "title": "@SUM(1+1)*cmd|' /C calc'!A0",
    "description": "-2+3+cmd|' /C calc'!A0",
    "benchmark_label": "=1+1",
    "commentary": '=HYPERLINK("http://example.invalid/c","commentary")',
    "action": "=2+2",
}


def _sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")}


def _set_cell(text: str, row: int, column: str, frame: dict[str, str]) -> str:
    """Set one cell of a CSV text (header row 1)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    fields = list(rows[0])
    rows[row][column] = frame[column] if column in frame else rows[row][column]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_no_cell_of_a_template_made_from_formula_like_text_is_a_formula(sample: dict) -> None:
    """Catalogue name and owner, council, risk title and description, a benchmark label and
    commentary imported earlier, each starting with =, +, - or @: every cell of the template
    is text or a number, never a formula, and the text is kept exactly."""
    data, params = sample["data"], sample["params"]
    cat = data / "catalogue.csv"
    rows = list(csv.DictReader(io.StringIO(cat.read_text(encoding="utf-8"))))
    at = next(i for i, r in enumerate(rows) if r["indicator_id"] == "CF01")
    text = cat.read_text(encoding="utf-8")
    for column in ("name", "owner"):
        text = _set_cell(text, at, column, {column: HOSTILE[column]})
    cat.write_text(text, encoding="utf-8")
    risks = data / "2017-18-Q1" / "risks.csv"
    text = risks.read_text(encoding="utf-8")
    for column in ("title", "description"):
        text = _set_cell(text, 0, column, {column: HOSTILE[column]})
    risks.write_text(text, encoding="utf-8")
    values = data / "2017-18-Q1" / "values.csv"
    vrows = list(csv.DictReader(io.StringIO(values.read_text(encoding="utf-8"))))
    vat = next(i for i, r in enumerate(vrows) if r["indicator_id"] == "CF01")
    values.write_text(
        _set_cell(values.read_text(encoding="utf-8"), vat, "benchmark_label", HOSTILE),
        encoding="utf-8",
    )
    p1 = params / "2017-18-Q1.yaml"
    p1.write_text(
        p1.read_text(encoding="utf-8")
        .replace("council:", f"council: {json.dumps(HOSTILE['council'])}\nold_council:", 1)
        .replace("old_council:", "# old council:"),
        encoding="utf-8",
    )
    (data / Q2).mkdir()
    (data / Q2 / "commentary.yaml").write_text(
        f"CF01:\n  commentary: {json.dumps(HOSTILE['commentary'])}\n"
        f"  actions:\n    - {json.dumps(HOSTILE['action'])}\n  author: Someone\n",
        encoding="utf-8",
    )
    assert load_inputs("2017-18-Q1", data, params).params["council"] == HOSTILE["council"]

    path = _template(sample)

    wb = load_workbook(path)
    seen: dict[str, str] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate}"
                    for key, hostile in HOSTILE.items():
                        if hostile in cell.value:
                            seen[key] = f"{ws.title}!{cell.coordinate}"
    assert set(seen) == set(HOSTILE), seen  # every hostile text reached the workbook, as text
    for part, xml in _sheet_parts(path).items():  # and no formula element anywhere
        assert b"<f>" not in xml and b"<f " not in xml, part


def test_formula_like_text_in_a_workbook_is_imported_as_text(sample: dict) -> None:
    """Text typed in a cell (not a formula) that starts with '=' is kept as text."""
    path = _template(sample)
    fill(path)
    wb = load_workbook(path)
    ws = wb["Indicators"]
    row, col = _rows_by_id(ws)["CF01"], _columns(ws)
    for heading, text in (
        ("Benchmark label", "=England average"),
        ("Commentary", HOSTILE["commentary"]),
    ):
        cell = ws.cell(row=row, column=col[heading])
        cell.value = text
        cell.data_type = "s"  # typed as text (Excel: a cell formatted as Text, or a leading ')
    wb.save(path)
    _import(sample, path)
    assert ",=England average," in (sample["data"] / Q2 / "values.csv").read_text()
    comments = load_inputs(Q2, sample["data"], sample["params"]).commentary
    assert (
        comments.set_index("indicator_id").loc["CF01", "commentary"].strip()
        == HOSTILE["commentary"]
    )


def _rewrite_sheet(path: Path, edit: Any) -> None:
    """Rewrite the Indicators sheet's XML part of a workbook with ``edit(xml) -> xml``."""
    parts = _sheet_parts(path)
    (name,) = [n for n, xml in parts.items() if b"Rated against" in xml]
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, content in members:
            z.writestr(info, edit(content) if info.filename == name else content)


def test_a_formula_with_a_saved_result_is_refused(sample: dict) -> None:
    """A formula whose file states a result (which may be false) is not taken either."""
    path = _template(sample)
    fill(path)
    row = _rows_by_id(load_workbook(path)["Indicators"])["CF01"]
    pattern = re.compile(rb'<c r="K%d"[^>]*>.*?</c>' % row)
    _rewrite_sheet(
        path,
        lambda xml: pattern.sub(b'<c r="K%d"><f>835/119300*10000</f><v>70</v></c>' % row, xml),
    )
    msg = _refused(sample, path, ValidationError)
    assert f"column 'Indicators!K{row}' (value '=835/119300*10000')" in msg
    assert "this cell holds a formula" in msg


@pytest.mark.slow
def test_a_zip_bomb_is_refused_before_it_is_unpacked(sample: dict) -> None:
    """A workbook whose sheet unpacks to 60 MB (a few hundred kilobytes on disk): refused from
    the sizes its archive declares, before anything is unpacked (the memory the import uses
    stays far below the sheet's size), with exit status 2 and nothing written."""
    path = _template(sample)
    fill(path)
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members:
            if b"Rated against" not in content:
                z.writestr(name, content)
                continue
            with z.open(name, "w", force_zip64=True) as part:
                part.write(content.replace(b"</worksheet>", b""))
                for _ in range(60):
                    part.write(b" " * (1024 * 1024))
                part.write(b"</worksheet>")
    assert path.stat().st_size < 2 * 1024 * 1024

    before = _snapshot(sample["data"], sample["params"])
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as err:
            _import(sample, path)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, peak
    msg = err.value.message()
    assert "returns.xlsx is too large to be a returns workbook: it unpacks to" in msg
    assert "(at most 50.0 MB;" in msg and "scorecard template" in msg
    assert _snapshot(sample["data"], sample["params"]) == before

    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("scorecard")),
            "import",
            str(path),
            "--data",
            str(sample["data"]),
            "--archive",
            str(sample["out"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "too large to be a returns workbook" in done.stderr
    assert "Traceback" not in done.stderr
    assert _snapshot(sample["data"], sample["params"]) == before


def test_a_sheet_larger_than_a_returns_sheet_is_refused(sample: dict) -> None:
    """By the size it declares, and (when the declaration is false) while it is read."""
    path = _template(sample)
    fill(path)
    _rewrite_sheet(
        path, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml)
    )
    msg = _refused(sample, path, InputError)
    assert "its 'Indicators' sheet declares 1,048,576 rows and 16,384 columns" in msg

    path = _template(sample, name="rows.xlsx")
    fill(path)
    many = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r)
        for r in range(100, 100 + MAX_SHEET_ROWS + 10)
    )
    _rewrite_sheet(path, lambda xml: xml.replace(b"</sheetData>", many + b"</sheetData>"))
    msg = _refused(sample, path, InputError)
    assert "its 'Indicators' sheet has a filled cell at A5001, beyond CV5000" in msg


def test_files_that_are_not_returns_workbooks(sample: dict) -> None:
    with pytest.raises(InputError, match="no workbook"):
        _import(sample, sample["tmp"] / "missing.xlsx")
    junk = sample["tmp"] / "junk.xlsx"
    junk.write_text("not a spreadsheet")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        _import(sample, junk)
    from openpyxl import Workbook

    plain = sample["tmp"] / "plain.xlsx"
    Workbook().save(plain)
    with pytest.raises(InputError, match="not a scorecard returns workbook"):
        _import(sample, plain)
