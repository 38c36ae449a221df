"""The command line: thin over the runner, one-paragraph errors, no tracebacks, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scorecard_lib import cli, runner
from scorecard_lib.errors import QuarterError, ValidationError
from scorecard_lib.executors import SectionOutcome
from scorecard_lib.paths import PROJECT_ROOT, SECTIONS
from scorecard_lib.quarters import parse_quarter


def _fake_run(tmp_path: Path, seen: dict[str, Any]) -> Any:
    def run_quarter(quarter: str, **kwargs: Any) -> runner.RunResult:
        seen.update(kwargs, quarter=quarter)
        on_event = kwargs["on_event"]
        on_event("overview", "started", None)
        on_event("overview", "finished", 3.14)
        on_event("workforce", "failed", 12.0)
        folder = tmp_path / "outputs" / "2016-17-Q4"
        return runner.RunResult(
            quarter_id="2016-17-Q4",
            out_folder=folder,
            report=folder / "report.html",
            manifest=folder / "manifest.json",
            seconds=4.2,
        )

    return run_quarter


def test_run_prints_progress_and_where_the_report_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(runner, "run_quarter", _fake_run(tmp_path, seen))
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
def test_errors_print_their_message_and_exit_code_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> None:
    def fail(*_a: Any, **_k: Any) -> None:
        raise error

    monkeypatch.setattr(runner, "run_quarter", fail)
    code = cli.main(["run", "2016-17-Q4"])
    out, err = capsys.readouterr()
    assert code == error.exit_code  # type: ignore[attr-defined]
    assert error.message() in err  # type: ignore[attr-defined]
    assert "Traceback" not in out + err


def test_a_validation_error_lists_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scorecard_lib.errors import Problem

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

    monkeypatch.setattr(runner, "run_quarter", fail)
    assert cli.main(["run", "2016-17-Q4"]) == 2
    err = capsys.readouterr().err
    assert "The input data has 2 problems:" in err
    assert "data/2016-17-Q4/values.csv, row 3, column 'value'" in err


def test_an_unreadable_quarter_fails_before_the_runner(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "run_quarter", lambda *a, **k: pytest.fail("ran"))
    assert cli.main(["run", "2016-17-Q5"]) == 2
    err = capsys.readouterr().err
    assert "'2016-17-Q5' is not a quarter we can read" in err and "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: Any, **_k: Any) -> None:
        raise QuarterError("no data")

    monkeypatch.setattr(runner, "run_quarter", fail)
    with pytest.raises(QuarterError):
        cli.main(["--debug", "run", "2016-17-Q4"])


def test_interrupt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_a: Any, **_k: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_quarter", interrupted)
    assert cli.main(["run", "2016-17-Q4"]) == 130
    err = capsys.readouterr().err
    assert "Interrupted; nothing was published." in err and "Traceback" not in err


def test_os_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def denied(*_a: Any, **_k: Any) -> None:
        raise PermissionError(13, "Permission denied", "/srv/outputs/2016-17-Q4")

    monkeypatch.setattr(runner, "run_quarter", denied)
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
        "scorecard_lib.loading.available_quarters",
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
