"""``core.paths.display_path``: the one place that decides how a path appears in a message, on
the console or in the report, so no output carries a machine's absolute path unless a person
at a terminal needs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scorecard_lib.core.paths import CURRENT_DIR, DATA_DIR, PROJECT_ROOT, display_path


def test_a_path_in_the_project_is_shown_from_the_project_root() -> None:
    assert display_path(DATA_DIR / "catalogue.csv") == "data/catalogue.csv"
    assert display_path(str(PROJECT_ROOT / "params" / "x.yaml")) == "params/x.yaml"


def test_a_file_in_an_outside_data_folder_is_shown_as_data(tmp_path: Path) -> None:
    data = tmp_path / "council" / "data"
    assert display_path(data / "2016-17-Q4" / "values.csv", data) == "DATA/2016-17-Q4/values.csv"
    # the parameters beside an outside data folder
    params = tmp_path / "council" / "params" / "2016-17-Q4.yaml"
    assert display_path(params, data) == "DATA/../params/2016-17-Q4.yaml"


def test_outside_every_root_each_choice_shows_what_it_says(tmp_path: Path) -> None:
    file = tmp_path / "elsewhere.csv"
    file.write_text("x\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    assert display_path(file) == "elsewhere.csv"  # the name only, never the machine's path
    assert display_path(file, outside="external") == "elsewhere.csv"
    assert display_path(folder, outside="external") == "<external>/folder"
    assert display_path(file, outside="absolute") == str(file.resolve())
    relative = Path(os.path.relpath(file, PROJECT_ROOT))
    assert display_path(relative, root=tmp_path / "other", outside="given") == str(relative)


def test_the_console_shows_paths_from_where_the_user_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "outputs" / "2016-17-Q4" / "report.html"
    assert (
        display_path(report, root=CURRENT_DIR, outside="given") == "outputs/2016-17-Q4/report.html"
    )
    # the current directory first, then the project root (the audit's messages)
    both = (CURRENT_DIR, PROJECT_ROOT)
    assert display_path(DATA_DIR, root=both, outside="absolute") == "data"
    assert display_path(Path("/"), root=CURRENT_DIR, outside="absolute") == "/"


def test_a_symbolic_link_loop_is_shown_as_given(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    shown = display_path(loop / "x.csv", outside="absolute")
    assert shown in (str(loop / "x.csv"), str((loop / "x.csv").absolute()))
