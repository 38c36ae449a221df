"""A run that fails, is killed or meets another run never damages the draft it replaces.

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

from scorecard_lib import cli
from scorecard_lib.build import pipeline, runner
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "tests" / "fixtures" / "bad_input" / "notebooks"
Q = "2016-17-Q4"

#: ``python -c WRAPPER NOTEBOOKS_DIR SECTIONS ARGS...``: the scorecard command with other notebooks.
WRAPPER = """
import sys
from pathlib import Path
from scorecard_lib import cli
from scorecard_lib.build import pipeline
pipeline.NOTEBOOKS_DIR = Path(sys.argv[1])
pipeline.SECTIONS = tuple(sys.argv[2].split(","))
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


@pytest.mark.e2e
def test_failing_sections_are_named_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "outputs"
    before = publish_fake(out)
    monkeypatch.setattr(pipeline, "NOTEBOOKS_DIR", NOTEBOOKS)
    monkeypatch.setattr(pipeline, "SECTIONS", ("fine", "raises", "dies", "sleepy"))
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
@pytest.mark.e2e
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

    # the next run clears what the killed one left and replaces the draft
    assert cli_with(out, "fine") == 0
    assert snapshot(out / Q) != before
    assert not list(out.glob(".staging-*")) and not list(out.glob(".previous-*"))
    assert reports(out) == [f"{Q}/report.html"]


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


@pytest.mark.e2e
def test_a_second_run_of_the_same_quarter_refuses_and_never_interleaves(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    publish_fake(out)
    # the sleepy cell outlasts the second run's start-up (imports and validation, which take
    # several seconds on a loaded machine), so the second run always meets the lock
    first = start(out, "fine,sleepy", "--no-cache", sleep=25)
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


@pytest.mark.e2e
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

    result = runner.run_quarter(Q, data_dir=data, out_dir=tmp_path / "out", sections=["overview"])
    html = result.report.read_text(encoding="utf-8")
    notebook = (result.out_folder / "notebooks" / "overview.ipynb").read_text("utf-8")
    for shown in (html, notebook):  # escaped text may still read "onerror=": harmless
        for raw in ("<script", "<img src=x", "<b onclick"):
            assert raw not in shown, raw
    assert 'href="javascript' not in notebook
    # The report as a browser reads it: the hostile text is there only as text, never as markup.
    import lxml.html

    document = lxml.html.document_fromstring(html)
    assert not document.xpath("//script")
    assert not document.xpath("//*[@onclick or @onerror]")
    assert not document.xpath("//a[starts-with(normalize-space(@href), 'javascript')]")
    assert all(src.startswith("data:image/svg+xml") for src in document.xpath("//img/@src"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>bold</strong>" in html


# --- nothing a stopped run started outlives it -------------------------------------------------

#: Environment variable naming one test run: every process a run starts inherits it (the fork
#: server, the resource tracker, the workers, the zygote and the kernels), so a process the
#: run started is found even after it has been re-parented to pid 1.
RUN_MARKER = "SCORECARD_TEST_RUN_MARKER"


class ProcessWatch:
    """Every process started by the command ``proc``: its descendants, polled while it runs
    (by parent chain), and any process carrying the run's marker in its environment."""

    def __init__(self, proc: subprocess.Popen[str], marker: str) -> None:
        import threading

        import psutil

        self.proc = proc
        self.marker = marker
        self.seen: dict[int, float] = {}  # pid -> create time
        self._stop = threading.Event()
        self._psutil = psutil
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        psutil = self._psutil
        while not self._stop.is_set():
            try:
                for child in psutil.Process(self.proc.pid).children(recursive=True):
                    self.seen.setdefault(child.pid, child.create_time())
            except psutil.Error:
                pass
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def alive(self) -> list[str]:
        """The processes started by the run that are still alive (zombies are not)."""
        psutil = self._psutil
        found: dict[int, str] = {}
        for pid, created in self.seen.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                    found[pid] = " ".join(p.cmdline())[:150]
            except psutil.Error:
                pass
        for p in psutil.process_iter():
            try:
                if (
                    p.pid != os.getpid()
                    and p.environ().get(RUN_MARKER) == self.marker
                    and p.status() != psutil.STATUS_ZOMBIE
                ):
                    found[p.pid] = " ".join(p.cmdline())[:150]
            except psutil.Error:
                pass
        return [f"{pid}: {cmd}" for pid, cmd in sorted(found.items())]


class StderrLines:
    """The lines a process writes to stderr, read as they come."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        import threading

        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def text(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


#: When the run is stopped, by what it has just printed: validating the inputs while the
#: workers and the zygote start, executing the section notebooks, assembling the report.
MOMENTS = {
    "validating": "Building the report for",
    "running kernels": "[1/6]",
    "assembling": "[6/6]",
}


@pytest.mark.e2e
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_no_process_started_by_a_stopped_run_outlives_it(
    how: str, moment: str, tmp_path: Path
) -> None:
    """``kill PID`` (SIGTERM) or ``kill -9 PID`` of ``scorecard run`` itself (not its process
    group: only the command is told) at three moments: 5 seconds later nothing it started is
    alive, nothing published changed, and SIGTERM stops it like Ctrl-C."""
    import uuid

    out = tmp_path / "outputs"
    before = publish_fake(out)  # a run reaching the end would be refused: never published
    marker = uuid.uuid4().hex
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorecard_lib.cli", "run", Q, "--out", str(out)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, RUN_MARKER: marker},
        start_new_session=True,
    )
    watch = ProcessWatch(proc, marker)
    err = StderrLines(proc)
    try:
        wait_for(lambda: err.has(MOMENTS[moment]) or proc.poll() is not None, timeout=300)
        if moment == "validating":  # the zygote, fork server and first worker are starting
            wait_for(lambda: len(watch.seen) >= 3 or proc.poll() is not None, timeout=60)
        if moment == "running kernels":
            time.sleep(0.5)  # the other sections are running now
        assert proc.poll() is None, err.text()
        assert watch.seen, "the run started no process"
        proc.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
        signalled = time.monotonic()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        watch.stop()
    time.sleep(max(0.0, signalled + 5 - time.monotonic()))
    assert watch.alive() == []
    stderr = err.text()
    if how == "SIGTERM":
        assert proc.returncode == 130, stderr
        assert "Interrupted; nothing was published." in stderr
        assert "Traceback" not in stderr
        assert not list(out.glob(".staging-*"))
    else:
        assert proc.returncode == -signal.SIGKILL
    assert snapshot(out / Q) == before
    assert reports(out) == [f"{Q}/report.html"]


# --- a full disk -------------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_full_disk_while_publishing_is_said_plainly_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The disk fills up as the manifest is written (after the sections ran): a full disk,
    named, exit 2; not "correct the data or the notebook"."""
    import errno

    from scorecard_lib.report import manifest

    out = tmp_path / "outputs"
    before = publish_fake(out)
    monkeypatch.setattr(pipeline, "NOTEBOOKS_DIR", NOTEBOOKS)
    monkeypatch.setattr(pipeline, "SECTIONS", ("fine",))

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(manifest, "write_manifest", full)
    status = cli.main(["run", Q, "--out", str(out), "--no-cache"])
    err = capsys.readouterr().err
    assert status == 2
    assert f"The disk holding {out} is full" in err and "nothing was published" in err
    assert "correct the data or the notebook" not in err and "Traceback" not in err
    assert snapshot(out / Q) == before
    assert not list(out.glob(".staging-*")) and not (out / ".failed").exists()


@pytest.fixture
def tiny_disk(tmp_path: Path, request: pytest.FixtureRequest) -> object:
    """A folder on a tmpfs of the given size (KiB): a real disk that fills up. Needs root."""

    def mount(kib: int) -> Path:
        folder = tmp_path / f"tiny-{kib}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
        request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(folder)], check=False))
        return folder

    return mount


@pytest.mark.e2e
@pytest.mark.parametrize("kib", [200, 640])
def test_a_real_full_disk_is_said_plainly_and_no_cut_notebook_is_kept(
    kib: int, tiny_disk: object
) -> None:
    """``scorecard run`` into a folder on a disk too small for the report: with 200 KiB the
    section notebooks do not fit (written by the worker processes), with 640 KiB they do
    (about 420 KB) but the report (about 410 KB more) does not (written by the command)."""
    out = tiny_disk(kib)  # type: ignore[operator]
    done = subprocess.run(
        [sys.executable, "-m", "scorecard_lib.cli", "run", Q, "--out", str(out), "--no-cache"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stderr
    assert f"The disk holding {out} is full" in done.stderr
    assert "nothing was published" in done.stderr
    assert "correct the data or the notebook" not in done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / Q).exists() and not list(out.glob(".staging-*"))
    for kept in (out / ".failed").rglob("*.ipynb"):  # none expected; never a cut one
        json.loads(kept.read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_jobs_beyond_the_sections_are_capped(tmp_path: Path) -> None:
    """``--jobs 64`` runs (six workers at most), where 1000 once broke the pool."""
    out = tmp_path / "outputs"
    assert cli_with(out, "fine,raises", "--jobs", "64", "--no-cache") == 1
    assert (out / ".failed" / Q / "raises.ipynb").is_file()


# --- a command run on our behalf leaves with us ---------------------------------------------------

#: Starts a grandchild in its own process group (as ``scorecard run`` starts its workers) and
#: waits; neither would ever leave by itself.
LINGERING = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "print('started', flush=True)\n"
    "time.sleep(120)\n"
)


def _marked(marker: str) -> list[int]:
    import psutil

    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get(RUN_MARKER) == marker and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


@pytest.mark.slow
def test_a_supervised_command_is_stopped_whole_on_timeout() -> None:
    """The audit's re-run with another commit's code: on a timeout the command and what it
    started are stopped (that code may not know how to leave by itself)."""
    import uuid

    from scorecard_lib.core.lifetime import run_supervised

    marker = uuid.uuid4().hex
    env = {**os.environ, RUN_MARKER: marker}
    with pytest.raises(subprocess.TimeoutExpired):
        run_supervised([sys.executable, "-c", LINGERING], timeout=3, env=env)
    wait_for(lambda: not _marked(marker), timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_supervised_command_leaves_when_we_are_killed(how: int) -> None:
    import uuid

    marker = uuid.uuid4().hex
    script = (
        "import sys\n"
        "from scorecard_lib.core.lifetime import run_supervised\n"
        f"run_supervised([sys.executable, '-c', {LINGERING!r}], timeout=120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, RUN_MARKER: marker},
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(_marked(marker)) >= 4)  # us, the supervisor, command, grandchild
        proc.send_signal(how)
        proc.wait(timeout=30)
        killed = time.monotonic()
        time.sleep(5)
        assert _marked(marker) == [], f"still alive {time.monotonic() - killed:.1f} s later"
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_the_watchdog_ends_a_process_whose_watched_process_is_gone() -> None:
    """The fallback where Linux's parent-death signal is missing (or the watched process is
    not the direct parent): a process watching another leaves within a second of it."""
    import uuid

    marker = uuid.uuid4().hex
    watcher = (
        "import os, sys, time\n"
        "from scorecard_lib.core.lifetime import leave_with_parent\n"
        "leave_with_parent(int(sys.argv[1]), direct=False)\n"
        "time.sleep(120)\n"
    )
    middle = (
        "import subprocess, sys, os, time\n"
        f"subprocess.Popen([sys.executable, '-c', {watcher!r}, str(os.getpid())],"
        " start_new_session=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", middle],
        cwd=PROJECT_ROOT,
        env={**os.environ, RUN_MARKER: marker},
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(_marked(marker)) == 2)
        time.sleep(1)  # the watcher has imported the library and watches
        proc.kill()
        proc.wait(timeout=30)
        time.sleep(5)
        assert _marked(marker) == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_signals_are_held_while_a_worker_starts_then_acted_on() -> None:
    from scorecard_lib.core.lifetime import interrupts_held

    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), interrupts_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # a signal not held would have interrupted this
        reached_the_end = True
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
