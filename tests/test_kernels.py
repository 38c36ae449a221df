"""Kernels forked from a zygote (kernels.py, provisioner.py) and inputs read once
(preparation.py).

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

from scorecard_lib.build import kernels, provisioner
from scorecard_lib.build.executors import KERNEL_ENV, PapermillExecutor, SectionJob
from scorecard_lib.build.normalise import normalise_notebook, notebook_text
from scorecard_lib.build.preparation import KernelPreparation, remember_inputs
from scorecard_lib.core import read_ahead
from scorecard_lib.core.paths import DATA_DIR, NOTEBOOKS_DIR, PROJECT_ROOT
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.present import sections

Q = "2016-17-Q4"
PRELUDE = KernelPreparation(quarter=Q, data_dir="")

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
def test_a_kernel_started_ahead_the_ordinary_way_is_prepared_too(tmp_path: Path) -> None:
    """Without a zygote the kernel carries out the same preparation while it starts (as an
    IPython extension), and it leaves nothing in the notebook's namespace."""
    probe = _fixture_notebook(
        tmp_path,
        "from scorecard_lib.core import read_ahead\n"
        "held = read_ahead.take()\n"
        "print('read ahead', None if held is None else held.key[0])\n"
        "print('names', sorted(n for n in globals() if not n.startswith('_')))\n",
    )
    job = SectionJob(
        section="probe",
        notebook=probe,
        output=tmp_path / "probe-out.ipynb",
        parameters={"quarter": Q, "data_dir": ""},
        cwd=PROJECT_ROOT,
    )
    executor = PapermillExecutor(fork_kernels=False)
    executor.start(1, cwd=PROJECT_ROOT, prelude=PRELUDE)
    try:
        [outcome] = executor.run([job], max_workers=1, on_event=None)
    finally:
        executor.close()
    assert outcome.ok, outcome.error
    out = _stdout(outcome.output)
    assert f"read ahead {Q}" in out
    names = "['In', 'Out', 'data_dir', 'exit', 'get_ipython', 'held', 'open', 'quarter', "
    assert f"names {names}'quit', 'read_ahead']" in out


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


@pytest.mark.slow
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
    forkable = provisioner.forkable
    assert forkable([sys.executable, "-m", "ipykernel_launcher", "-f", "x.json"])
    assert forkable(["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert not forkable(["/usr/bin/python3-other", "-m", "ipykernel_launcher", "-f", "x"])
    assert not forkable([sys.executable, "-m", "other_kernel", "-f", "x.json"])
    assert not forkable(["R", "--slave", "-e", "IRkernel::main()"])


def test_the_provisioner_is_registered_and_selected_by_the_kernel_spec(tmp_path: Path) -> None:
    """jupyter_client finds the provisioner by its entry point (a stale install without it
    would quietly start every kernel the ordinary way); the spec names it, with the socket."""
    from jupyter_client.provisioning import KernelProvisionerFactory

    assert provisioner.registered()
    socket = str(tmp_path / "z.sock")
    manager = provisioner.kernel_manager_class(socket)(kernel_name="python3")
    stanza = manager.kernel_spec.metadata["kernel_provisioner"]
    assert stanza == {"provisioner_name": provisioner.PROVISIONER, "config": {"socket": socket}}
    made = KernelProvisionerFactory.instance().create_provisioner_instance(
        "k", manager.kernel_spec, parent=manager
    )
    assert isinstance(made, provisioner.ZygoteProvisioner) and made.socket == socket
    assert issubclass(manager.client_factory, provisioner.ReadyClient)


def test_a_preparation_is_data_and_anything_else_is_none() -> None:
    prep = KernelPreparation(quarter=Q, data_dir="data", kept_in="/tmp/kept", code="abc")
    assert KernelPreparation.from_json(prep.to_json()) == prep
    for bad in (
        "",
        "not json",
        "[]",
        '{"data_dir": "x"}',
        '{"quarter": 1}',
        '{"quarter": "q", "code": ["import os"]}',
    ):
        assert KernelPreparation.from_json(bad) is None, bad


@pytest.mark.e2e
def test_a_kernel_is_started_the_ordinary_way_when_the_zygote_is_gone(tmp_path: Path) -> None:
    from jupyter_core.utils import run_sync

    manager_class = provisioner.kernel_manager_class(str(tmp_path / "no-such.sock"))
    manager = manager_class(kernel_name="python3")
    start_timeout = provisioner.START_TIMEOUT
    provisioner.START_TIMEOUT = 0.1
    try:
        run_sync(manager.start_kernel)()
    finally:
        provisioner.START_TIMEOUT = start_timeout
    try:
        assert isinstance(manager.provisioner, provisioner.ZygoteProvisioner)
        assert manager.provisioner.forked is None and manager.provisioner.process is not None
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
    assert remember_inputs(Q, str(data_copy))
    first = sections.load_scorecard(Q, data_dir=str(data_copy))
    again = sections.load_scorecard(Q, data_dir=str(data_copy))
    assert first.inputs is not again.inputs  # used once, then read as usual
    assert first.board.equals(again.board)


def test_remembered_inputs_are_not_used_after_any_input_file_changed(data_copy: Path) -> None:
    assert remember_inputs(Q, str(data_copy))
    values = data_copy / Q / "values.csv"
    text = values.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("OR01,"))
    values.write_text(text.replace(row, row.replace("8.92", "7.5", 1)), encoding="utf-8")
    sc = sections.load_scorecard(Q, data_dir=str(data_copy))
    value = sc.board.set_index("indicator_id").loc["OR01", "value"]
    assert value == pytest.approx(7.5)  # the edited figure, not the remembered one


def test_remembered_inputs_are_not_used_for_another_quarter_or_folder(data_copy: Path) -> None:
    assert remember_inputs(Q, str(data_copy))
    other = sections.load_scorecard("2016-17-Q3", data_dir=str(data_copy))
    assert other.quarter.id == "2016-17-Q3"
    assert remember_inputs(Q, str(data_copy))
    own = sections.load_scorecard(Q)  # the project's data/, not the copy
    assert own.inputs.quarter.id == Q and read_ahead.take() is None


def test_inputs_that_do_not_validate_are_not_remembered(data_copy: Path) -> None:
    (data_copy / "catalogue.csv").write_text("not,a,catalogue\n", encoding="utf-8")
    assert not remember_inputs(Q, str(data_copy))
    assert read_ahead.take() is None


def test_the_zygote_environment_is_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is read at import time (the hash seed above all) must be what a kernel sees."""
    seen: dict[str, object] = {}

    class FakeZygote:
        path = "unused"

        @classmethod
        def start(
            cls,
            env: dict[str, str],
            cwd: Path | None = None,
            preparation: KernelPreparation | None = None,
        ) -> object:
            seen.update(env=env, cwd=cwd, preparation=preparation)
            return cls()

        def close(self) -> None:
            seen["closed"] = True

    monkeypatch.setattr(kernels, "Zygote", FakeZygote)
    executor = PapermillExecutor(fork_kernels=True)
    executor._start_zygote(PROJECT_ROOT, PRELUDE)
    executor.close()
    env = seen["env"]
    assert isinstance(env, dict)
    assert {k: env[k] for k in KERNEL_ENV} == dict(KERNEL_ENV)
    assert env.get("PATH") == os.environ.get("PATH")
    assert seen["preparation"] == PRELUDE and seen["closed"]
