"""Loading and validation, in-process and fast: where the parameters come from, how a quarter
argument is read, row numbers as a spreadsheet shows them, that no broken input escapes as
anything but a ValidationError, and the notebook-parameter checks. The message of every kind of
bad input, through the command line, is in test_bad_input.py."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorecard_lib.build import runner
from scorecard_lib.core.errors import InputError, QuarterError, ValidationError
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.inputs import loading, locations
from scorecard_lib.inputs.validate import quarter_argument, validate_quarter
from scorecard_lib.present import notebook_parameters, sections

Q = "2016-17-Q4"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Two quarters of the sample data (plus an overrides file), with params/ beside them.
    Returns the data folder."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("catalogue.csv", "settings.yaml"):
        shutil.copy(DATA_DIR / name, data / name)
    for q in ("2016-17-Q3", Q):
        shutil.copytree(DATA_DIR / q, data / q)
    shutil.copy(DATA_DIR / "2016-17-Q2" / "overrides.csv", data / Q / "overrides.csv")
    shutil.copytree(PARAMS_DIR, tmp_path / "params")
    return data


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_rows(path: Path, table: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    path.write_text(buf.getvalue(), encoding="utf-8")


def problems(data: Path, quarter: str = Q) -> list[str]:
    with pytest.raises(ValidationError) as info:
        loading.load_inputs(quarter, data)
    return [p.describe() for p in info.value.problems]


# --- where the parameters file is read from --------------------------------------------------


def test_parameters_come_from_params_beside_the_data_folder(small: Path, tmp_path: Path) -> None:
    assert locations.default_params_dir() == PARAMS_DIR
    assert locations.default_params_dir(DATA_DIR) == PARAMS_DIR
    assert locations.default_params_dir(small) == tmp_path / "params"
    assert locations.params_path(parse_quarter(Q), locations.default_params_dir(small)).is_file()

    (tmp_path / "params" / f"{Q}.yaml").write_text("quarter: 2016-17-Q4\n", encoding="utf-8")
    found = problems(small)
    assert found[0].startswith("DATA/../params/2016-17-Q4.yaml, column 'cabinet_date'")
    assert tmp_path / "params" / f"{Q}.yaml" in loading.input_files(Q, small)


def test_without_params_beside_it_the_projects_are_used(small: Path, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "params")
    assert locations.default_params_dir(small) == PARAMS_DIR
    assert loading.load_inputs(Q, small).params["council"] == "Sample County Council"
    assert PARAMS_DIR / f"{Q}.yaml" in loading.input_files(Q, small)


def test_an_explicit_params_folder_wins(small: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / f"{Q}.yaml").write_text(
        'quarter: 2016-17-Q4\ncabinet_date: "2017-07-20"\ntitle: T\ncouncil: Other Council\n',
        encoding="utf-8",
    )
    assert loading.load_inputs(Q, small, other).params["council"] == "Other Council"


# --- the quarter argument -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "../../etc/passwd",
        "/etc",
        "~/data",
        "2016-17-Q4/../x",
        "data/2016-17-Q4",
        "C:\\data",
        "a\\b",
    ],
)
def test_paths_are_not_quarters(text: str) -> None:
    assert locations.looks_like_path(text)
    with pytest.raises(QuarterError, match="looks like a file path"):
        quarter_argument(text)
    with pytest.raises(QuarterError, match="looks like a file path"):
        loading.check_quarter(text)


@pytest.mark.parametrize("text", ["2016-17-Q4", "2016/17 Q4", "Q4 2016/17", "2016 / 17 Q4"])
def test_quarters_are_not_paths(text: str) -> None:
    assert not locations.looks_like_path(text)
    assert quarter_argument(text) == parse_quarter(Q)


@given(st.builds(Quarter, st.integers(1990, 2090), st.integers(1, 4)))
def test_no_spelling_of_a_quarter_looks_like_a_path(q: Quarter) -> None:
    y1, y2 = q.start_year, q.start_year + 1
    for text in (q.id, q.short, f"Q{q.q} {q.fy}", f"{q.id[:7]} Q{q.q}", f"{y1}/{y2} Q{q.q}"):
        assert not locations.looks_like_path(text), text
        assert quarter_argument(text) == q


@given(st.sampled_from(["../", "..\\", "/", "~/", "2016-17-Q4/../"]), st.text(max_size=20))
def test_nothing_that_starts_like_a_path_is_read_as_a_quarter(start: str, rest: str) -> None:
    with pytest.raises(QuarterError):
        quarter_argument(start + rest)


def test_a_typo_is_not_called_a_path() -> None:
    with pytest.raises(QuarterError, match="is not a quarter we can read"):
        quarter_argument("2016-17-Q5")


@pytest.mark.slow
def test_reading_a_good_quarter_argument_does_not_import_pandas() -> None:
    code = (
        "import sys; from scorecard_lib.inputs.validate import quarter_argument; "
        "quarter_argument('Q4 2016/17'); print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_no_data_lists_the_quarters_with_data_and_spots_a_misnamed_folder(small: Path) -> None:
    with pytest.raises(QuarterError) as info:
        loading.check_quarter("2017-18-Q2", small)
    assert "choose a quarter that has data (2016-17-Q3, 2016-17-Q4)" in info.value.message()
    (small / Q).rename(small / "Q4 2016-17")
    with pytest.raises(QuarterError, match="misnamed") as info:
        loading.check_quarter(Q, small)
    assert "DATA/Q4 2016-17" in info.value.message()


def test_a_data_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        loading.check_quarter(Q, tmp_path / "nowhere")
    with pytest.raises(InputError, match="does not exist"):
        loading.load_inputs(Q, tmp_path / "nowhere")


# --- rows as a spreadsheet numbers them --------------------------------------------------------


def test_blank_lines_and_empty_rows_keep_row_numbers(small: Path) -> None:
    path = small / Q / "values.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # a blank line: the file's row 3
    lines.insert(3, "," * 9)  # an empty spreadsheet row: row 4
    lines[6] = lines[6].replace("OB05,90.6,", "OB05,ninety,")  # was row 5, now row 7
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems(small) == [
        "DATA/2016-17-Q4/values.csv, row 7, column 'value' (value 'ninety'): text where a "
        "number belongs. Fix: write a plain number such as 66.3 (no units, % signs or commas)."
    ]


def test_text_in_a_number_cell_is_one_problem_not_two(small: Path) -> None:
    path = small / Q / "risks.csv"
    table = rows(path)
    table[1][table[0].index("current_impact")] = "high"
    write_rows(path, table)
    (found,) = problems(small)
    assert "row 2, column 'current_impact' (value 'high'): text where a number belongs" in found


def test_infinite_numbers_are_not_figures(small: Path) -> None:
    path = small / Q / "values.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("HW06,1304,", "HW06,1e999,"), encoding="utf-8"
    )
    (found,) = problems(small)
    assert "(value '1e999'): text where a number belongs" in found


def test_catalogue_quarters_that_cannot_be_read_are_reported_on_the_catalogue(small: Path) -> None:
    path = small / "catalogue.csv"
    table = rows(path)
    ob02 = next(r for r in table if r[0] == "OB02")
    ob03 = next(r for r in table if r[0] == "OB03")
    ob02[table[0].index("first_quarter")] = "2015-16 Q5"
    ob03[table[0].index("last_quarter")] = "2014-15-Q1"
    write_rows(path, table)
    found = problems(small)
    assert len(found) == 2, found  # the values of OB02 and OB03 are not blamed
    assert "DATA/catalogue.csv, row 3, column 'first_quarter'" in found[0]
    assert "DATA/catalogue.csv, row 4, column 'last_quarter'" in found[1]
    assert "before the first quarter" in found[1]


# --- nothing escapes but a ValidationError ---------------------------------------------------

TABLES = ("catalogue.csv", f"{Q}/values.csv", f"{Q}/risks.csv", f"{Q}/breakdowns.csv")
TABLES += (f"{Q}/overrides.csv",)


@pytest.mark.parametrize("table", TABLES)
def test_dropping_any_column_is_a_validation_error(small: Path, table: str) -> None:
    """Never a KeyError from a check that needed the column: a required column is reported
    missing, an optional one (numerator, benchmark_label, ...) is simply not there."""
    path = small / table
    original = rows(path)
    for i, column in enumerate(original[0]):
        write_rows(path, [r[:i] + r[i + 1 :] for r in original])
        try:
            loading.load_inputs(Q, small)
        except ValidationError as exc:
            found = [p.describe() for p in exc.problems]
            assert any(f"column '{column}': the column is missing" in p for p in found), found
    write_rows(path, original)


def test_an_indicator_with_no_value_anywhere_is_no_data_not_an_error(small: Path) -> None:
    for q in ("2016-17-Q3", Q):
        path = small / q / "values.csv"
        write_rows(path, [r for r in rows(path) if r[0] != "CF01"])
    summary = validate_quarter(Q, small)
    assert "CF01" in summary.no_data and "CF01" not in summary.carried
    assert "Shown as 'No data' (not an error): " in "\n".join(summary.lines())
    board = sections.load_scorecard(Q, data_dir=small).board.set_index("indicator_id")
    assert board.loc["CF01", "rating"] == "No data"


def test_a_valid_quarter_summary(small: Path) -> None:
    lines = validate_quarter(Q, small).lines()
    assert lines[0] == "The inputs for Quarter Four 2016/17 (2016-17-Q4) are valid."
    assert "46 indicators on the scorecard: 28 with a value this quarter" in lines[1]
    assert lines[3] == "- Parameters read from DATA/../params/2016-17-Q4.yaml."


# --- parameters given to a notebook ------------------------------------------------------------


def test_papermill_parameters_a_notebook_does_not_take_are_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``papermill nb.ipynb out.ipynb -p quater 2017-18-Q1``: papermill only warns and the
    notebook would build the default quarter; the load cell stops it with a clear message."""
    history = ["", '# Parameters\nquarter = "2016-17-Q4"\nquater = "2017-18-Q1"\n']
    shell = types.SimpleNamespace(user_ns={"_ih": history})
    fake = types.SimpleNamespace(get_ipython=lambda: shell)
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert notebook_parameters.injected_parameters() == ["quarter", "quater"]
    with pytest.raises(InputError, match="given the parameter quater, which it does not take"):
        sections.load_scorecard(Q)
    history[1] = '# Parameters\nquarter = "2016-17-Q4"\ndata_dir = ""\ntitle = "T"\n'
    assert sections.load_scorecard(Q).quarter == parse_quarter(Q)


def test_outside_a_kernel_nothing_was_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert notebook_parameters.injected_parameters() == []


@pytest.mark.slow
def test_the_runner_refuses_a_notebook_that_does_not_declare_its_parameters(
    tmp_path: Path,
) -> None:
    spec = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": spec})
    cell = nbformat.v4.new_code_cell('quarter = "2016-17-Q4"')  # no data_dir
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, str(tmp_path / "old.ipynb"))

    class NoKernels:
        def run(self, *_a: object, **_k: object) -> list[object]:
            raise AssertionError("ran")

    with pytest.raises(InputError) as info:
        runner.run_quarter(
            Q,
            out_dir=tmp_path / "out",
            notebooks_dir=tmp_path,
            sections=["old"],
            executor=NoKernels(),
        )
    message = info.value.message()
    assert "The notebook old.ipynb does not declare the parameter data_dir" in message
    assert "add data_dir to the notebook's cell tagged 'parameters'" in message
    assert not (tmp_path / "out").exists()

    (tmp_path / "old.ipynb").write_text("not a notebook", encoding="utf-8")
    with pytest.raises(InputError, match=r"The notebook old\.ipynb cannot be read"):
        runner.run_quarter(Q, out_dir=tmp_path / "out", notebooks_dir=tmp_path, sections=["old"])


def test_project_notebooks_declare_what_the_runner_and_papermill_users_pass() -> None:
    import papermill

    for name in SECTIONS:
        declared = set(
            papermill.inspect_notebook(str(PROJECT_ROOT / "notebooks" / f"{name}.ipynb"))
        )
        assert declared == set(notebook_parameters.NOTEBOOK_PARAMETERS), name
