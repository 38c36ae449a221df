"""normalise_notebook removes every run-to-run difference papermill and nbclient add."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scorecard_lib.build.normalise import normalise_notebook, notebook_text, write_notebook


def _executed(start: str, injected_id: str, address: str) -> NotebookNode:
    """A notebook shaped like papermill's output, with run-specific values."""
    nb = new_notebook()
    nb.metadata["papermill"] = {
        "default_parameters": {"quarter": "2016-17-Q4"},
        "duration": 1.25,
        "end_time": f"{start}.9",
        "environment_variables": {},
        "exception": None,
        "input_path": "/home/someone/scorecard/notebooks/overview.ipynb",
        "output_path": "/tmp/xyz/overview.ipynb",
        "parameters": {"quarter": "2016-17-Q3", "data_dir": ""},
        "start_time": start,
        "version": "2.7.0",
    }
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    title = new_markdown_cell("# Overview", id="overview-00")
    title.metadata["papermill"] = {"start_time": start, "status": "completed"}
    injected = new_code_cell('# Parameters\nquarter = "2016-17-Q3"\n', id=injected_id)
    injected.metadata["tags"] = ["injected-parameters"]
    injected.execution_count = 1
    shown = new_code_cell("styler", id="overview-02")
    shown.execution_count = 2
    shown.metadata["execution"] = {"iopub.status.busy": start, "shell.execute_reply": start}
    shown.metadata["papermill"] = {"duration": 0.1, "start_time": start}
    shown.outputs = [
        new_output(
            "execute_result",
            data={
                "text/plain": f"<pandas.io.formats.style.Styler at {address}>",
                "text/html": "<table id='T_fixed'></table>",
            },
            execution_count=2,
        ),
        new_output("stream", name="stdout", text=f"<object object at {address}>\n"),
    ]
    nb.cells = [title, injected, shown]
    return nb


def test_two_runs_give_the_same_bytes() -> None:
    one = _executed("2026-01-01T10:00:00", "a1b2c3d4", "0x7f3a1c2b9d90")
    two = _executed("2026-03-05T17:45:12", "99ff00aa", "0x7ff00ba11e00")
    assert notebook_text(one) != notebook_text(two)
    a = notebook_text(normalise_notebook(one, "overview"))
    b = notebook_text(normalise_notebook(two, "overview"))
    assert a == b


def test_what_is_dropped_and_what_is_kept() -> None:
    nb = normalise_notebook(_executed("2026-01-01T10:00:00", "a1b2c3d4", "0x7f00"), "overview")
    pm = nb.metadata["papermill"]
    assert pm["parameters"] == {"quarter": "2016-17-Q3", "data_dir": ""}
    assert pm["default_parameters"] == {"quarter": "2016-17-Q4"}
    assert "environment_variables" in pm and pm["version"] == "2.7.0"
    for gone in ("start_time", "end_time", "duration", "input_path", "output_path"):
        assert gone not in pm
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        assert "execution" not in cell.metadata
        assert "papermill" not in cell.metadata
    assert nb.cells[1].id == "overview-injected-parameters"
    assert nb.cells[0].id == "overview-00"  # ids from the source notebook are kept
    result, stream = nb.cells[2].outputs
    assert result["data"]["text/plain"] == "<pandas.io.formats.style.Styler>"
    assert result["data"]["text/html"] == "<table id='T_fixed'></table>"
    assert stream["text"] == "<object object>\n"
    assert nb.cells[2].execution_count == 2 and result["execution_count"] == 2


def test_input_is_not_changed_and_normalising_twice_changes_nothing() -> None:
    nb = _executed("2026-01-01T10:00:00", "a1b2c3d4", "0x7f00")
    before = copy.deepcopy(nb)
    once = normalise_notebook(nb, "overview")
    assert nb == before
    assert notebook_text(normalise_notebook(once, "overview")) == notebook_text(once)


def test_cells_without_ids_get_stable_ones() -> None:
    nb = _executed("t", "x", "0x1")
    del nb.cells[2]["id"]
    out = normalise_notebook(nb, "workforce")
    assert out.cells[2].id == "workforce-cell-2"
    nbformat.validate(out)


def test_list_valued_text_is_cleaned_too() -> None:
    nb = _executed("t", "x", "0x1")
    nb.cells[2].outputs[0]["data"]["text/plain"] = ["<Thing at 0xdeadbeef>\n", "second line"]
    out = normalise_notebook(nb, "overview")
    assert out.cells[2].outputs[0]["data"]["text/plain"] == ["<Thing>\n", "second line"]


def test_write_notebook_is_plain_sorted_json_with_a_trailing_newline(tmp_path: Path) -> None:
    nb = normalise_notebook(_executed("t", "x", "0x1"), "overview")
    path = tmp_path / "sub" / "overview.ipynb"
    write_notebook(nb, path)
    raw = path.read_bytes()
    assert raw.endswith(b"}\n") and b"\r\n" not in raw
    data = json.loads(raw)
    assert list(data) == sorted(data)
    assert nbformat.reads(raw.decode("utf-8"), as_version=4) == nb
    write_notebook(nb, tmp_path / "again.ipynb")
    assert (tmp_path / "again.ipynb").read_bytes() == raw
