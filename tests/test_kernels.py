"""Kernels forked from a zygote (kernels.py) and inputs read once (sections.remember_inputs).

What a reviewer or auditor would notice if these broke: a report that differs depending on how
its kernels were started, a kernel that sees another kernel's state or the zygote's
environment, kernels or a zygote left running after a build, or a section built from inputs
that changed after they were read.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

from scorecard_lib.build import kernels
from scorecard_lib.build.executors import KERNEL_ENV, PapermillExecutor, SectionJob
from scorecard_lib.build.normalise import normalise_notebook, notebook_text
from scorecard_lib.core.paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_ROOT
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.present import sections

Q = "2016-17-Q4"
PRELUDE = (
    "import scorecard_lib.present.charts\n"
    "from scorecard_lib.present.sections import remember_inputs\n"
    f"remember_inputs({Q!r}, '')\n"
)

pytestmark = pytest.mark.skipif(not kernels.available(), reason="needs os.fork")


def _zygote_processes() -> set[int]:
    """Zygotes started from this test process, and every kernel they forked."""
    import psutil

    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "scorecard_lib.build.kernels" in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:
            continue
    return found


def _wait_gone(pids: set[int], seconds: float = 10.0) -> bool:
    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids):
            return True
        time.sleep(0.1)
    return False


def _text(path: Path) -> str:
    return notebook_text(normalise_notebook(nbformat.read(str(path), as_version=4), path.stem))


def _jobs(out: Path) -> list[SectionJob]:
    return [
        SectionJob(
            section=s,
            notebook=NOTEBOOKS_DIR / f"{s}.ipynb",
            output=out / f"{s}.ipynb",
            parameters={"quarter": Q, "data_dir": ""},
            cwd=PROJECT_ROOT,
        )
        for s in SECTIONS
    ]


@pytest.mark.e2e
def test_forked_kernels_give_the_same_notebooks_as_ordinary_ones(tmp_path: Path) -> None:
    """Every section of 2016-17 Q4, byte for byte after normalising: ordinary kernels, forked
    kernels, and forked kernels whose zygote read the inputs first."""
    ordinary = PapermillExecutor(fork_kernels=False).run(
        _jobs(tmp_path / "ordinary"), max_workers=2, on_event=None
    )
    forked = PapermillExecutor(fork_kernels=True).run(
        _jobs(tmp_path / "forked"), max_workers=2, on_event=None
    )
    ahead = PapermillExecutor(fork_kernels=True)
    ahead.start(2, cwd=PROJECT_ROOT, prelude=PRELUDE)
    try:
        remembered = ahead.run(_jobs(tmp_path / "remembered"), max_workers=2, on_event=None)
    finally:
        ahead.close()
    for outcomes in (ordinary, forked, remembered):
        assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    for a, b, c in zip(ordinary, forked, remembered, strict=True):
        assert _text(a.output) == _text(b.output) == _text(c.output), a.section
    assert _wait_gone(_zygote_processes())


def _fixture_notebook(tmp_path: Path, source: str) -> Path:
    spec = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": spec})
    params = nbformat.v4.new_code_cell('quarter = ""\ndata_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, str(path))
    return path


def _stdout(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "".join(
        "".join(o.get("text", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    )


@pytest.mark.e2e
def test_a_forked_kernel_is_its_own_process_with_the_kernel_environment(tmp_path: Path) -> None:
    probe = _fixture_notebook(
        tmp_path,
        "import os, sys, random, time\n"
        "marker = globals().get('left_by_the_other_kernel', 'clean')\n"
        "left_by_the_other_kernel = 'dirty'\n"
        "print('pid', os.getpid(), 'sid', os.getsid(0), 'ppid', os.getppid())\n"
        "print('parent', os.environ.get('JPY_PARENT_PID'))\n"
        "print('cwd', os.getcwd())\n"
        "print('path0', sys.path[0])\n"
        "print('argv0', os.path.basename(sys.argv[0]))\n"
        "print('marker', marker)\n"
        "print('tz', time.strftime('%Z'))\n"
        "print('random', random.random())\n"
        "for k in sorted(" + repr(sorted(KERNEL_ENV)) + "): print('env', k, os.environ.get(k))\n",
    )
    jobs = [
        SectionJob(
            section=f"probe{i}",
            notebook=probe,
            output=tmp_path / f"probe{i}.ipynb",
            parameters={"quarter": Q, "data_dir": ""},
            cwd=PROJECT_ROOT,
        )
        for i in range(2)
    ]
    outcomes = PapermillExecutor(fork_kernels=True).run(jobs, max_workers=1, on_event=None)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    seen = []
    for outcome in outcomes:
        lines = dict(
            line.split(" ", 1) for line in _stdout(outcome.output).splitlines() if " " in line
        )
        pid, rest = lines["pid"].split(" sid ")
        sid, ppid = rest.split(" ppid ")
        assert pid == sid  # its own session, as jupyter_client gives every kernel
        assert lines["parent"] == ppid  # it watches the zygote, which forked it
        assert lines["cwd"] == str(PROJECT_ROOT)
        assert lines["path0"] == str(PROJECT_ROOT)  # as `python -m ipykernel_launcher` has it
        assert lines["argv0"] == "ipykernel_launcher.py"
        assert lines["marker"] == "clean"  # nothing carries over from the kernel before
        assert lines["tz"] == "UTC"
        envs = [line for line in _stdout(outcome.output).splitlines() if line.startswith("env ")]
        assert envs == [f"env {k} {KERNEL_ENV[k]}" for k in sorted(KERNEL_ENV)]
        seen.append((pid, lines["random"]))
    assert seen[0][0] != seen[1][0]  # two kernels, two processes
    assert seen[0][1] != seen[1][1]  # each with its own random state, not the zygote's
    assert _wait_gone(_zygote_processes())


@pytest.mark.e2e
def test_close_stops_the_zygote_and_leaves_no_kernel_behind() -> None:
    before = _zygote_processes()
    for wait in (0.0, 0.5, 2.5):  # closed while importing, while reading inputs, when idle
        executor = PapermillExecutor(fork_kernels=True)
        executor.start(2, cwd=PROJECT_ROOT, prelude=PRELUDE)
        time.sleep(wait)
        started = _zygote_processes() - before
        assert started, "no zygote was started"
        executor.close()
        assert _wait_gone(started), f"left running after close at {wait} s"


def test_a_zygote_whose_build_is_gone_before_it_listens_leaves(tmp_path: Path) -> None:
    """A build killed while its zygote was still importing must not leave the zygote waiting
    for a parent it will never see leave (it would be adopted by init and run for ever)."""
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    folder = tmp_path / "sock"
    folder.mkdir()
    zygote = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scorecard_lib.build.kernels",
            str(folder / "z.sock"),
            "",
            str(gone.pid),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **KERNEL_ENV},
    )
    try:
        assert zygote.wait(timeout=60) == 0
    finally:
        if zygote.poll() is None:
            zygote.kill()
    assert not folder.exists()


def test_only_this_interpreters_ipykernel_is_forked() -> None:
    assert kernels.forkable([sys.executable, "-m", "ipykernel_launcher", "-f", "x.json"])
    assert not kernels.forkable(["/usr/bin/python3-other", "-m", "ipykernel_launcher", "-f", "x"])
    assert not kernels.forkable([sys.executable, "-m", "other_kernel", "-f", "x.json"])
    assert not kernels.forkable(["R", "--slave", "-e", "IRkernel::main()"])


@pytest.mark.e2e
def test_a_kernel_is_started_the_ordinary_way_when_the_zygote_is_gone(tmp_path: Path) -> None:
    from jupyter_core.utils import run_sync

    manager = kernels.kernel_manager_class(str(tmp_path / "no-such.sock"))(kernel_name="python3")
    kernels_start_timeout = kernels.START_TIMEOUT
    kernels.START_TIMEOUT = 0.1
    try:
        run_sync(manager.start_kernel)()
    finally:
        kernels.START_TIMEOUT = kernels_start_timeout
    try:
        assert not isinstance(manager.provisioner.process, kernels._ForkedProcess)
        client = manager.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        client.stop_channels()
    finally:
        run_sync(manager.shutdown_kernel)(now=True)


# --- inputs read once ------------------------------------------------------------------------


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(PROJECT_ROOT / "params", tmp_path / "params")
    return data


def test_remembered_inputs_are_used_once_when_nothing_changed(data_copy: Path) -> None:
    assert sections.remember_inputs(Q, str(data_copy))
    first = sections.load_scorecard(Q, data_dir=str(data_copy))
    again = sections.load_scorecard(Q, data_dir=str(data_copy))
    assert first.inputs is not again.inputs  # used once, then read as usual
    assert first.board.equals(again.board)


def test_remembered_inputs_are_not_used_after_any_input_file_changed(data_copy: Path) -> None:
    assert sections.remember_inputs(Q, str(data_copy))
    values = data_copy / Q / "values.csv"
    text = values.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("OR01,"))
    values.write_text(text.replace(row, row.replace("8.92", "7.5", 1)), encoding="utf-8")
    sc = sections.load_scorecard(Q, data_dir=str(data_copy))
    value = sc.board.set_index("indicator_id").loc["OR01", "value"]
    assert value == pytest.approx(7.5)  # the edited figure, not the remembered one


def test_remembered_inputs_are_not_used_for_another_quarter_or_folder(data_copy: Path) -> None:
    assert sections.remember_inputs(Q, str(data_copy))
    other = sections.load_scorecard("2016-17-Q3", data_dir=str(data_copy))
    assert other.quarter.id == "2016-17-Q3"
    assert sections.remember_inputs(Q, str(data_copy))
    own = sections.load_scorecard(Q)  # the project's data/, not the copy
    assert own.inputs.quarter.id == Q and not sections._REMEMBERED


def test_inputs_that_do_not_validate_are_not_remembered(data_copy: Path) -> None:
    (data_copy / "catalogue.csv").write_text("not,a,catalogue\n", encoding="utf-8")
    assert not sections.remember_inputs(Q, str(data_copy))
    assert not sections._REMEMBERED


def test_the_zygote_environment_is_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is read at import time (the hash seed above all) must be what a kernel sees."""
    seen: dict[str, object] = {}

    class FakeZygote:
        path = "unused"

        @classmethod
        def start(cls, env: dict[str, str], cwd: Path | None = None, prelude: str = "") -> object:
            seen.update(env=env, cwd=cwd, prelude=prelude)
            return cls()

        def close(self) -> None:
            seen["closed"] = True

    monkeypatch.setattr(kernels, "Zygote", FakeZygote)
    executor = PapermillExecutor(fork_kernels=True)
    executor._start_zygote(PROJECT_ROOT, "pass")
    executor.close()
    env = seen["env"]
    assert isinstance(env, dict)
    assert {k: env[k] for k in KERNEL_ENV} == dict(KERNEL_ENV)
    assert env.get("PATH") == os.environ.get("PATH")
    assert seen["prelude"] == "pass" and seen["closed"]
