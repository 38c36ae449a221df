"""The command line: thin over the runner, one-paragraph errors, no tracebacks, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scorecard_lib import cli
from scorecard_lib.build import pipeline, runner
from scorecard_lib.build.executors import SectionOutcome
from scorecard_lib.core.errors import QuarterError, ValidationError
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.core.registry import SECTIONS


def _fake_run(tmp_path: Path, seen: dict[str, Any]) -> Any:
    def build(quarter: str, **kwargs: Any) -> pipeline.Built:
        seen.update(kwargs, quarter=quarter)
        on_event = kwargs["on_event"]
        on_event("overview", "started", None)
        on_event("overview", "finished", 3.14)
        on_event("workforce", "failed", 12.0)
        folder = tmp_path / "outputs" / "2016-17-Q4"
        result = runner.RunResult(
            quarter_id="2016-17-Q4",
            out_folder=folder,
            report=folder / "report.html",
            manifest=folder / "manifest.json",
            seconds=4.2,
        )
        return pipeline.Built(parse_quarter(quarter), result.report, run=result)

    return build


@pytest.mark.slow
def test_run_prints_progress_and_where_the_report_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(pipeline, "build", _fake_run(tmp_path, seen))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["run", "2016/17 Q4", "--data", "mydata", "--out", "outputs", "--jobs", "2"])
    out, err = capsys.readouterr()
    assert code == 0
    assert seen["quarter"] == "2016/17 Q4" and seen["jobs"] == 2
    assert seen["data_dir"] == Path("mydata") and seen["out_dir"] == Path("outputs")
    assert out.splitlines() == [
        "Draft report written to outputs/2016-17-Q4/report.html",
        "Manifest written to outputs/2016-17-Q4/manifest.json",
    ]
    n = len(SECTIONS)
    assert f"[1/{n}] overview finished in 3.1 s" in err
    assert f"[2/{n}] workforce failed in 12.0 s" in err
    assert "overview started" not in err


@pytest.mark.parametrize(
    "error",
    [
        QuarterError("There is no data for Quarter One 2030/31", fix="choose a quarter"),
        runner.SectionsFailed(
            parse_quarter("2016-17-Q4"),
            [
                SectionOutcome(
                    section="workforce",
                    ok=False,
                    output=Path("/x/workforce.ipynb"),
                    seconds=1.0,
                    error="In [3] raised KeyError: 'WF01'",
                    output_written=True,
                )
            ],
            6,
            Path("/x/.failed/2016-17-Q4"),
            Path("/x/2016-17-Q4"),
        ),
    ],
)
@pytest.mark.slow
def test_errors_print_their_message_and_exit_code_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> None:
    def fail(*_a: Any, **_k: Any) -> None:
        raise error

    monkeypatch.setattr(pipeline, "build", fail)
    code = cli.main(["run", "2016-17-Q4"])
    out, err = capsys.readouterr()
    assert code == error.exit_code  # type: ignore[attr-defined]
    assert error.message() in err  # type: ignore[attr-defined]
    assert "Traceback" not in out + err


@pytest.mark.slow
def test_a_validation_error_lists_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scorecard_lib.core.errors import Problem

    problems = [
        Problem(
            file="data/2016-17-Q4/values.csv",
            row=3,
            column="value",
            rule="not a number",
            fix="write a number",
            value="n/a",
        ),
        Problem(file="params/2016-17-Q4.yaml", column="title", rule="missing", fix="add it"),
    ]

    def fail(*_a: Any, **_k: Any) -> None:
        raise ValidationError(problems)

    monkeypatch.setattr(pipeline, "build", fail)
    assert cli.main(["run", "2016-17-Q4"]) == 2
    err = capsys.readouterr().err
    assert "The input data has 2 problems:" in err
    assert "data/2016-17-Q4/values.csv, row 3, column 'value'" in err


def test_an_unreadable_quarter_fails_before_the_runner(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pipeline, "build", lambda *a, **k: pytest.fail("ran"))
    assert cli.main(["run", "2016-17-Q5"]) == 2
    err = capsys.readouterr().err
    assert "'2016-17-Q5' is not a quarter we can read" in err and "Traceback" not in err


@pytest.mark.slow
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: Any, **_k: Any) -> None:
        raise QuarterError("no data")

    monkeypatch.setattr(pipeline, "build", fail)
    with pytest.raises(QuarterError):
        cli.main(["--debug", "run", "2016-17-Q4"])


@pytest.mark.slow
def test_interrupt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_a: Any, **_k: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "build", interrupted)
    assert cli.main(["run", "2016-17-Q4"]) == 130
    err = capsys.readouterr().err
    assert "Interrupted; nothing was published." in err and "Traceback" not in err


@pytest.mark.slow
def test_os_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def denied(*_a: Any, **_k: Any) -> None:
        raise PermissionError(13, "Permission denied", "/srv/outputs/2016-17-Q4")

    monkeypatch.setattr(pipeline, "build", denied)
    assert cli.main(["run", "2016-17-Q4"]) == 2
    err = capsys.readouterr().err
    assert "Could not read or write a file (/srv/outputs/2016-17-Q4): Permission denied" in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert cli.main(["run", "2016-17-Q4", "--jobs", "0"]) == 2
    assert cli.main(["--help"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_quarters_table_shows_drafts_and_published_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    for q in ("2016-17-Q3", "2016-17-Q4"):
        (data / q).mkdir(parents=True)
    monkeypatch.setattr(
        "scorecard_lib.inputs.locations.available_quarters",
        lambda d: [parse_quarter("2016-17-Q3"), parse_quarter("2016-17-Q4")],
    )
    out, archive = tmp_path / "outputs", tmp_path / "published"
    (out / "2016-17-Q4").mkdir(parents=True)
    (out / "2016-17-Q4" / "report.html").write_text("<html></html>", encoding="utf-8")
    for name in ("2016-17-Q3", "2016-17-Q4", "2016-17-Q4.v2"):
        (archive / name).mkdir(parents=True)
        (archive / name / "manifest.json").write_text("{}", encoding="utf-8")
    args = ["quarters", "--data", str(data), "--out", str(out), "--archive", str(archive)]
    assert cli.main(args) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Quarter     Name                   Draft  Published",
        "2016-17-Q3  Quarter Three 2016/17  no     2016-17-Q3",
        "2016-17-Q4  Quarter Four 2016/17   yes    2016-17-Q4.v2 (supersedes 1 earlier)",
    ]


@pytest.mark.slow
def test_module_entry_point_and_no_pandas(tmp_path: Path) -> None:
    """``python -m scorecard_lib.cli`` works; importing the CLI does not import pandas."""
    env_cmd = [sys.executable, "-m", "scorecard_lib.cli"]
    done = subprocess.run(
        [*env_cmd, "run", "not a quarter"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "is not a quarter we can read" in done.stderr and "Traceback" not in done.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, scorecard_lib.cli; print('pandas' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert probe.stdout.strip() == "False", probe.stderr


@pytest.mark.slow
def test_the_command_leaves_at_once_with_everything_written(tmp_path: Path) -> None:
    """``scorecard`` ends with ``os._exit`` (no interpreter teardown): its output, written to a
    file (block-buffered, so flushed only at the end), must be complete, and its exit status
    the command's."""
    import tomllib

    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert scripts["project"]["scripts"]["scorecard"] == "scorecard_lib.cli:console"
    out = tmp_path / "out.txt"
    cases = (
        (["validate", "2016-17-Q4"], 0, "Parameters read from params/2016-17-Q4.yaml"),
        (["validate", "2031-32-Q1"], 2, "There is no data for Quarter One 2031/32"),
    )
    for args, status, said in cases:
        with open(out, "w", encoding="utf-8") as fh:
            done = subprocess.run(
                [sys.executable, "-m", "scorecard_lib.cli", *args],
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
            )
        assert done.returncode == status
        text = out.read_text(encoding="utf-8")
        assert said in text and text.endswith("\n"), text


# --- hard stops: nonsense --jobs, symbolic-link loops, folders that cannot be written, umask ----


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "must be 1 or more"),
        ("-4", "must be 1 or more"),
        ("many", "'many' is not a whole number"),
        ("2.5", "'2.5' is not a whole number"),
        ("65", "65 is too many: at most 64"),
        ("1000", "1000 is too many: at most 64"),
    ],
)
@pytest.mark.parametrize("option", ["run --jobs", "audit --jobs", "audit --all --parallel"])
def test_nonsense_jobs_are_refused_with_a_clear_message(
    option: str, value: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command, *flags = option.split()
    quarter = [] if "--all" in flags else ["2016-17-Q4"]
    assert cli.main([command, *quarter, *flags, value]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


def test_jobs_up_to_64_are_accepted() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["run", "2016-17-Q4", "--jobs", "64"]).jobs == 64
    assert parser.parse_args(["run", "2016-17-Q4", "--jobs", "1"]).jobs == 1


LOOP_COMMANDS = [
    ["run", "2016-17-Q4", "--data", "loop"],
    ["run", "2016-17-Q4", "--out", "loop"],
    ["validate", "2016-17-Q4", "--data", "loop"],
    ["quarters", "--data", "loop"],
    ["quarters", "--out", "loop"],
    ["new-quarter", "2017-18-Q2", "--data", "loop"],
    ["template", "2016-17-Q4", "-o", "loop/returns.xlsx"],
    ["import", "loop"],
    ["import", "loop/returns.xlsx"],
    ["audit", "2016-17-Q4", "--data", "loop"],
    ["audit", "2016-17-Q4", "--archive", "loop"],
    ["publish", "2016-17-Q4", "--archive", "loop"],
    ["quarters", "--archive", "loop"],
]


@pytest.mark.parametrize("argv", LOOP_COMMANDS, ids=" ".join)
def test_a_symbolic_link_loop_is_named_not_a_traceback(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(tmp_path / "loop")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "is a symbolic link that leads back to itself (a loop)" in err
    assert "Traceback" not in err and "RuntimeError" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.slow  # validates the sample data and starts the workers before it gets there
@pytest.mark.parametrize("out", ["/proc/self", "a-file"])
def test_an_output_folder_that_cannot_be_written_is_named_as_such(
    out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    assert cli.main(["run", "2016-17-Q4", "--out", out, "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "cannot be written" in err
    assert "not a normal folder" in err if out == "/proc/self" else "it is not a folder" in err
    assert "Another run" not in err and "Traceback" not in err
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "not a folder\n"


def test_a_full_disk_met_anywhere_is_said_plainly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import errno

    from scorecard_lib.inputs import workbook

    def full(*_a: Any, **_k: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "r.xlsx"))

    monkeypatch.setattr(workbook, "write_template", full)
    assert cli.main(["template", "2016-17-Q4", "-o", str(tmp_path / "r.xlsx")]) == 2
    err = capsys.readouterr().err
    assert f"The disk holding {tmp_path} is full (or your disk quota is used up)" in err
    assert "free some space" in err and "Traceback" not in err


@pytest.fixture
def umask_022() -> Any:
    import os

    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_files_and_folders_written_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    """new-quarter, template (and import, through the same writers) make files a colleague
    can read: 0644 and 0755 under umask 022, where tempfile alone gives 0600 and 0700."""
    import shutil
    import stat

    from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR

    shutil.copytree(DATA_DIR, tmp_path / "data")
    shutil.copytree(PARAMS_DIR, tmp_path / "params")
    assert cli.main(["new-quarter", "2017-18-Q2", "--data", str(tmp_path / "data")]) == 0
    workbook = tmp_path / "returns.xlsx"
    assert (
        cli.main(["template", "2017-18-Q2", "--data", str(tmp_path / "data"), "-o", str(workbook)])
        == 0
    )

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    folder = tmp_path / "data" / "2017-18-Q2"
    assert mode(folder) == 0o755
    written = [*folder.iterdir(), tmp_path / "params" / "2017-18-Q2.yaml", workbook]
    assert {p.name: mode(p) for p in written} == {p.name: 0o644 for p in written}


@pytest.mark.parametrize(
    ("mask", "file_mode", "folder_mode"),
    [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750), (0o077, 0o600, 0o700)],
)
def test_the_atomic_writers_follow_the_umask(
    mask: int, file_mode: int, folder_mode: int, tmp_path: Path
) -> None:
    import os
    import stat

    from scorecard_lib.core import files

    previous = os.umask(mask)
    try:
        assert files.umask() == mask
        written = files.write_atomically(tmp_path / "a" / "f.txt", b"text\n")
        folder = files.make_staging_folder(tmp_path, ".incoming-")
    finally:
        os.umask(previous)
    assert written.read_bytes() == b"text\n"
    assert stat.S_IMODE(written.stat().st_mode) == file_mode
    assert stat.S_IMODE(folder.stat().st_mode) == folder_mode
    assert sorted(p.name for p in written.parent.iterdir()) == ["f.txt"]  # no temporary left


def test_a_full_disk_during_an_atomic_write_names_the_folder_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from scorecard_lib.core import files

    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *_exc: object) -> None:
            self.fh.close()

        def fileno(self) -> int:
            return int(self.fh.fileno())

        def write(self, _data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    target = tmp_path / "params" / "2017-18-Q2.yaml"
    with pytest.raises(OSError) as info:
        files.write_atomically(target, b"quarter: 2017-18-Q2\n")
    assert files.is_disk_full(info.value) and info.value.filename == str(target)
    assert list(target.parent.iterdir()) == []  # no temporary file, no half a file
