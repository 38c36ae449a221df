"""A run that fails, is killed or meets another run never damages the published report.

These tests start real kernels, on small fixture notebooks (``tests/fixtures/bad_input/
notebooks``: ``fine``, ``raises``, ``dies`` (``os._exit``), ``sleepy``), with the real sample
data. The published report they protect is a made-up folder hashed before and after.
Subprocesses run the real command line with the fixture notebooks in place of the project's
(:data:`WRAPPER`), so Ctrl-C, ``kill -9`` and a second analyst are the real thing.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scorecard_lib import cli, runner
from scorecard_lib.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "tests" / "fixtures" / "bad_input" / "notebooks"
Q = "2016-17-Q4"

#: ``python -c WRAPPER NOTEBOOKS_DIR SECTIONS ARGS...``: the scorecard command with other notebooks.
WRAPPER = """
import sys
from pathlib import Path
from scorecard_lib import cli, runner
runner.NOTEBOOKS_DIR = Path(sys.argv[1])
runner.SECTIONS = tuple(sys.argv[2].split(","))
raise SystemExit(cli.main(sys.argv[3:]))
"""


def command(out: Path, sections: str, *args: str) -> list[str]:
    """``scorecard run 2016-17-Q4 --out OUT ARGS`` with the fixture notebooks ``sections``."""
    argv = ["run", Q, "--out", str(out), *args]
    return [sys.executable, "-c", WRAPPER, str(NOTEBOOKS), sections, *argv]


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def publish_fake(out: Path) -> dict[str, str]:
    """A published quarter (made up); returns its snapshot."""
    folder = out / Q
    (folder / "notebooks").mkdir(parents=True)
    (folder / "report.html").write_text("<html>published before</html>\n", encoding="utf-8")
    (folder / "notebooks" / "fine.ipynb").write_text("{}\n", encoding="utf-8")
    (folder / "manifest.json").write_text('{"quarter": "2016-17-Q4"}\n', encoding="utf-8")
    return snapshot(folder)


def reports(out: Path) -> list[str]:
    """Every report.html anywhere under ``out`` (a half-written one would show here)."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("report.html"))


def start(out: Path, sections: str, *args: str, sleep: float = 30) -> subprocess.Popen[str]:
    env = {**os.environ, "SCORECARD_TEST_SLEEP": str(sleep)}
    return subprocess.Popen(
        command(out, sections, *args),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal would give it
    )


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def kernels_running(out: Path) -> bool:
    """The run has validated, taken its lock and is executing notebooks."""
    return any(out.glob(f".staging-{Q}-*/notebooks"))


# --- a cell that raises, a dead kernel, a cell over the timeout ------------------------------


def test_failing_sections_are_named_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "outputs"
    before = publish_fake(out)
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", NOTEBOOKS)
    monkeypatch.setattr(runner, "SECTIONS", ("fine", "raises", "dies", "sleepy"))
    status = cli.main(["run", Q, "--out", str(out), "--jobs", "2", "--timeout", "2"])
    err = capsys.readouterr().err

    assert status == 1
    assert "3 of 4 report sections failed for Quarter Four 2016/17 (2016-17-Q4)" in err
    paragraph = {line[2:].split(":")[0]: line for line in err.splitlines() if line[:2] == "- "}
    assert sorted(paragraph) == ["dies", "raises", "sleepy"]
    # the cell that raised: which cell, its first line, the exception, where the notebook is
    assert "In [4]" in paragraph["raises"] and "id raises-03" in paragraph["raises"]
    assert 'raise ValueError(f"no figures for {quarter}")' in paragraph["raises"]
    assert "ValueError: no figures for 2016-17-Q4" in paragraph["raises"]
    # a dead kernel and a cell over the timeout are reported the same way
    # (a kernel that dies may not report its execution count, so the cell is named by its
    # position and id)
    assert "cell 4 of the executed notebook" in paragraph["dies"]
    assert "id dies-02" in paragraph["dies"]
    assert "DeadKernelError: the kernel died while running this cell" in paragraph["dies"]
    assert "In [3]" in paragraph["sleepy"] and "id sleepy-02" in paragraph["sleepy"]
    assert "CellTimeoutError: the cell ran for more than 2 s" in paragraph["sleepy"]
    assert "Traceback" not in err

    for name in ("raises", "dies", "sleepy"):
        assert f".failed/2016-17-Q4/{name}.ipynb" in paragraph[name]
        kept = out / ".failed" / Q / f"{name}.ipynb"
        assert "An Exception was encountered" in kept.read_text("utf-8")  # papermill's banner
    assert snapshot(out / Q) == before
    assert reports(out) == [f"{Q}/report.html"]
    assert not list(out.glob(".staging-*")) and not list(out.glob(".previous-*"))


def test_timeout_option() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["run", Q]).timeout == runner.SECTION_TIMEOUT
    assert parser.parse_args(["run", Q, "--timeout", "5"]).timeout == 5
    assert cli.main(["run", Q, "--timeout", "0"]) == 2


# --- interrupted and killed runs --------------------------------------------------------------


@pytest.mark.parametrize("how", ["ctrl-c", "kill-9"])
def test_a_killed_run_leaves_the_published_report_alone(how: str, tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    before = publish_fake(out)
    proc = start(out, "fine,sleepy", "--no-cache")
    try:
        wait_for(lambda: kernels_running(out))
        time.sleep(3)  # the kernels are up and the sleepy cell is running
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at a terminal does
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if how == "ctrl-c":
        assert proc.returncode == 130
        assert "Interrupted; nothing was published." in err
        assert "Traceback" not in err
        assert not list(out.glob(".staging-*"))
    else:
        assert proc.returncode == -signal.SIGKILL
    assert snapshot(out / Q) == before
    assert reports(out) == [f"{Q}/report.html"]

    # the next run clears what the killed one left and publishes normally (--force: replacing
    # a published report that differs is refused without it; the old one is kept beside it)
    assert cli_with(out, "fine", "--force") == 0
    assert snapshot(out / Q) != before
    assert snapshot(out / f"{Q}.previous-1") == before
    assert not list(out.glob(".staging-*")) and not list(out.glob(".previous-*"))


def cli_with(out: Path, sections: str, *args: str) -> int:
    done = subprocess.run(
        command(out, sections, *args),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def test_a_run_killed_between_its_two_renames_is_repaired_by_the_next(tmp_path: Path) -> None:
    """The published folder moved aside, the new one not yet in place: the next run (which
    holds the lock) puts the published one back before doing anything else."""
    out = tmp_path / "outputs"
    before = publish_fake(out)
    (out / Q).rename(out / f".previous-{Q}-99999")
    (out / f".staging-{Q}-99999" / "notebooks").mkdir(parents=True)
    runner._recover_killed_run(out, out / Q)
    assert snapshot(out / Q) == before
    assert sorted(p.name for p in out.iterdir()) == [Q]


# --- two runs of the same quarter at once ------------------------------------------------------


def test_a_second_run_of_the_same_quarter_refuses_and_never_interleaves(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    publish_fake(out)
    first = start(out, "fine,sleepy", "--no-cache", "--force", sleep=6)
    try:
        wait_for(lambda: kernels_running(out))
        second = cli_run_capture(out, "fine")
        _, first_err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert second.returncode == 2
    assert "Another run of Quarter Four 2016/17 (2016-17-Q4) is in progress" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, first_err

    # what is published is the first run's, whole: its notebooks, and every hash matching
    folder = out / Q
    assert sorted(p.name for p in (folder / "notebooks").iterdir()) == [
        "fine.ipynb",
        "sleepy.ipynb",
    ]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    published = snapshot(folder)
    for entry in manifest["outputs"]:
        assert published[entry["path"]] == entry["sha256"]
    assert not list(out.glob(".staging-*"))


def cli_run_capture(out: Path, sections: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(out, sections),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- commentary from many authors ------------------------------------------------------------

HOSTILE = (
    "<script>alert(1)</script> and <img src=x onerror=alert(2)> and "
    '<a href="javascript:alert(3)">click</a> and [link](javascript:alert(4)) and **bold**'
)


def test_commentary_is_escaped_in_the_report(tmp_path: Path) -> None:
    """Markdown is rendered; raw HTML, scripts and javascript: links never reach the report."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(PARAMS_DIR, tmp_path / "params")
    path = data / Q / "commentary.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("CF01:\n  commentary: |\n", f"CF01:\n  commentary: |\n    {HOSTILE}\n\n", 1)
    text = text.replace(
        "  actions:\n", '  actions:\n    - "<script>alert(5)</script> <b onclick=x>act</b>"\n', 1
    )
    path.write_text(text, encoding="utf-8")

    result = runner.run_quarter(
        Q, data_dir=data, out_dir=tmp_path / "out", sections=["overview"]
    )
    html = result.report.read_text(encoding="utf-8")
    notebook = (result.out_folder / "notebooks" / "childrens_services.ipynb").read_text("utf-8")
    for shown in (html, notebook):  # escaped text may still read "onerror=": harmless
        for raw in ("<script", "<img", "<b onclick", 'href="javascript', "href='javascript"):
            assert raw not in shown, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>bold</strong>" in html
