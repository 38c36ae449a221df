"""Every kind of bad input gives one clear message and exit status 2, never a traceback, never a
kernel, and leaves the published report alone.

Table-driven over ``tests/fixtures/bad_input/<case>/case.yaml`` (the format is in that folder's
README). Each case edits a fresh copy of the sample data, then runs, as an analyst would:

- ``scorecard validate`` through ``cli.main`` (every case) and in a subprocess (a few cases:
  each fresh process costs a second of imports);
- ``scorecard run`` through ``cli.main`` with the notebook executor replaced by one that fails
  the test if it is ever asked to run anything, against a published report that must not
  change; and in a subprocess for a few cases.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scorecard_lib import cli
from scorecard_lib.build import runner
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "bad_input"
CASES = sorted(p.parent.name for p in FIXTURES.glob("*/case.yaml"))
SCORECARD = str(Path(sys.executable).with_name("scorecard"))
Q = "2016-17-Q4"


# --- building a case -----------------------------------------------------------------------


def load_case(name: str) -> dict[str, Any]:
    case = yaml.safe_load((FIXTURES / name / "case.yaml").read_text(encoding="utf-8"))
    assert {"about", "quarter", "status", "words"} <= set(case), name
    return case


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def apply_edit(edit: dict[str, Any], root: Path) -> None:
    ((op, arg),) = edit.items()
    if op == "delete":
        target = root / arg
        assert target.exists(), arg
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        return
    if op == "rename":
        (root / arg["from"]).rename(root / arg["to"])
        return
    path = root / arg["file"]
    if op == "replace":
        text = path.read_text(encoding="utf-8")
        assert arg["old"] in text, (arg["file"], arg["old"])
        path.write_text(text.replace(arg["old"], arg["new"], 1), encoding="utf-8")
    elif op == "append":
        with open(path, "a", encoding="utf-8", newline="") as fh:
            fh.write(arg["text"])
    elif op == "write":
        path.write_bytes(arg["text"].encode(arg.get("encoding", "utf-8")))
    elif op == "repeat_row":  # written line by line: a million rows must not fill the memory
        row = next(r for r in _rows(path) if r and r[0] == arg["key"])
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        with open(path, "a", encoding="utf-8", newline="") as fh:
            for _ in range(int(arg["times"])):
                fh.write(buf.getvalue())
    elif op in ("drop_column", "rename_column", "duplicate_row", "csv_cell"):
        rows = _rows(path)
        header = rows[0]
        if op == "drop_column":
            i = header.index(arg["column"])
            rows = [r[:i] + r[i + 1 :] for r in rows]
        elif op == "rename_column":
            header[header.index(arg["old"])] = arg["new"]
        elif op == "duplicate_row":
            rows.append(next(r for r in rows if r and r[0] == arg["key"]))
        else:
            row = next(r for r in rows if r and r[0] == arg["key"])
            row[header.index(arg["column"])] = arg["value"]
        _write_rows(path, rows)
    else:
        raise AssertionError(f"unknown edit {op!r}")


def build_case(name: str, root: Path) -> Path:
    """A fresh copy of the sample data and parameters with the case's edits: ``root/name``."""
    folder = root / name
    shutil.copytree(DATA_DIR, folder / "data")
    shutil.copytree(PARAMS_DIR, folder / "params")
    for edit in load_case(name).get("edits", []):
        apply_edit(edit, folder)
    return folder


def arguments(case: dict[str, Any]) -> list[str]:
    extra = [str(a) for a in case.get("args", [])]
    return [case["quarter"], *extra] if "--data" in extra else [case["quarter"], "--data", "data"]


def check_message(name: str, status: int, text: str) -> None:
    case = load_case(name)
    assert status == case["status"], f"{name}: exit {status}\n{text}"
    for word in case["words"]:
        assert word in text, f"{name}: {word!r} not in\n{text}"
    for word in case.get("absent", []):
        assert word not in text, f"{name}: {word!r} in\n{text}"
    assert "Traceback" not in text, f"{name}:\n{text}"


def published(out: Path) -> dict[str, str]:
    """A published quarter in ``out`` (made up), returned as its snapshot."""
    folder = out / Q
    (folder / "notebooks").mkdir(parents=True)
    (folder / "report.html").write_text("<html>the published report</html>\n", encoding="utf-8")
    (folder / "notebooks" / "overview.ipynb").write_text("{}\n", encoding="utf-8")
    (folder / "manifest.json").write_text('{"quarter": "2016-17-Q4"}\n', encoding="utf-8")
    return snapshot(out)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- scorecard validate ---------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    status: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def run_cli(argv: list[str], cwd: Path, timeout: float = 120) -> Done:
    """The real ``scorecard`` command in a fresh process."""
    done = subprocess.run(
        [SCORECARD, *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    return Done(done.returncode, done.stdout, done.stderr)


def test_there_is_a_case_for_every_kind_of_problem_in_the_issue() -> None:
    wanted = {
        "quarter-malformed",
        "quarter-no-data",
        "quarter-path",
        "missing-file",
        "missing-column",
        "misspelt-column",
        "text-in-number",
        "duplicate-row",
        "unknown-indicator",
        "percent-over-100",
        "negative-count",
        "likelihood-out-of-range",
        "target-missing",
        "yaml-commentary",
        "unknown-parameter",
        "ok-no-data",
    }
    assert wanted <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_validate(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = build_case(name, tmp_path)
    monkeypatch.chdir(folder)
    status = cli.main(["validate", *arguments(load_case(name))])
    captured = capsys.readouterr()
    check_message(name, status, captured.out + captured.err)
    if status == 2:
        assert captured.out == "", "errors go to stderr"
        lines = load_case(name).get("max_lines", 20)
        assert captured.err.count("\n") <= lines, "one short paragraph, or one line per problem"


@pytest.mark.parametrize(
    "name", ["quarter-path", "text-in-number", "yaml-commentary", "not-utf8", "ok-no-data"]
)
@pytest.mark.slow
def test_validate_in_a_subprocess(name: str, tmp_path: Path) -> None:
    """The real command in a fresh process, as a new user would type it."""
    folder = build_case(name, tmp_path)
    done = run_cli(["validate", *arguments(load_case(name))], folder)
    check_message(name, done.status, done.text)


def _limited_memory() -> None:  # pragma: no cover - runs in the child process
    import resource

    limit = 1024 * 1024 * 1024  # 1 GB of address space: the bomb wanted many gigabytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="memory limits of a child: Linux only")
@pytest.mark.parametrize("command", ["validate", "run"])
def test_an_alias_bomb_is_refused_before_it_is_expanded(command: str, tmp_path: Path) -> None:
    """Issue 12, defect 4: the 700-byte parameters file whose aliases stand for a billion values
    is refused by a process that may use no more than 1 GB (it used to grow to gigabytes and
    end in a MemoryError traceback), with the plain message and exit status 2."""
    folder = build_case("yaml-alias-bomb", tmp_path)
    out = folder / "outputs"
    before = published(out)
    argv = [SCORECARD, command, Q, "--data", "data"]
    if command == "run":
        argv += ["--out", "outputs"]
    done = subprocess.run(
        argv,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited_memory,
    )
    check_message("yaml-alias-bomb", done.returncode, done.stdout + done.stderr)
    assert "MemoryError" not in done.stderr
    assert snapshot(out) == before


@pytest.mark.slow
def test_every_problem_is_reported_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Problems in three files (values, risks, parameters): validate and run list them all."""
    folder = build_case("text-in-number", tmp_path)
    for edit in ("likelihood-out-of-range", "unknown-parameter"):
        for e in load_case(edit)["edits"]:
            apply_edit(e, folder)
    done = run_cli(["validate", Q, "--data", "data"], folder)
    assert done.status == 2
    assert done.stderr.startswith("The input data has 4 problems:")
    for file in ("values.csv", "risks.csv", "2016-17-Q4.yaml"):
        assert file in done.stderr

    monkeypatch.setattr(runner, "PapermillExecutor", NoKernels)
    monkeypatch.chdir(folder)
    assert cli.main(["run", Q, "--data", "data", "--out", str(tmp_path / "out")]) == 2
    assert done.stderr in capsys.readouterr().err


@pytest.mark.slow
def test_debug_shows_a_traceback(tmp_path: Path) -> None:
    folder = build_case("text-in-number", tmp_path)
    done = run_cli(["--debug", "validate", Q, "--data", "data"], folder)
    assert done.status != 0
    assert "Traceback" in done.stderr and "ValidationError" in done.stderr


# --- scorecard run: validates first, never starts a kernel -----------------------------------


class NoKernels:
    """The executor ``scorecard run`` gets: any call fails the test."""

    def __init__(self, *_a: Any, **_k: Any) -> None:
        pass

    def run(self, *_a: Any, **_k: Any) -> list[Any]:
        pytest.fail("a notebook was about to run on invalid data")


@pytest.mark.parametrize("name", [c for c in CASES if load_case(c)["status"] != 0])
@pytest.mark.slow
def test_run_refuses_before_any_kernel_and_leaves_outputs_alone(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(runner, "PapermillExecutor", NoKernels)
    folder = build_case(name, tmp_path)
    out = tmp_path / "outputs"
    before = published(out)
    monkeypatch.chdir(folder)
    status = cli.main(["run", *arguments(load_case(name)), "--out", str(out)])
    captured = capsys.readouterr()
    check_message(name, status, captured.out + captured.err)
    assert snapshot(out) == before


@pytest.mark.parametrize("name", ["text-in-number", "quarter-path", "unknown-parameter"])
@pytest.mark.slow
def test_run_in_a_subprocess(name: str, tmp_path: Path) -> None:
    """The real command, as a new user would type it: the error, exit 2, outputs unchanged."""
    folder = build_case(name, tmp_path)
    out = folder / "outputs"
    before = published(out)
    done = run_cli(["run", *arguments(load_case(name)), "--out", "outputs"], folder, timeout=60)
    check_message(name, done.status, done.text)
    assert "finished" not in done.stderr and "[1/" not in done.stderr  # no section ran
    assert snapshot(out) == before
