"""``scorecard batch``: many organisations and quarters as tasks on Dask distributed.

The slow tests start a LocalCluster of 2 worker processes over three synthetic organisations
(``bench/organisations.py``: the sample data of two quarters, each council with its own name
and a few values changed) and compare every file with one-by-one ``scorecard run`` builds."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

from scorecard_lib import cli
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.scale.batch import run_batch
from scorecard_lib.scale.plan import BatchError, PairResult, plan

pytest.importorskip("distributed")

QUARTERS = ("2016-17-Q3", "2016-17-Q4")
ORGS = ("council-001", "council-002", "council-003")


def _organisations() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_organisations", PROJECT_ROOT / "bench" / "organisations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of every pair (the build cache and lock files aside), by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def _not_resource_tracker(p: object) -> bool:
    import psutil

    try:
        return not any("resource_tracker" in part for part in p.cmdline())  # type: ignore[attr-defined]
    except psutil.Error:
        return False


def _live_descendants(pid: int | None = None) -> list[object]:
    import psutil

    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    return [
        p
        for p in procs
        if p.is_running() and p.status() != psutil.STATUS_ZOMBIE and _not_resource_tracker(p)
    ]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch") / "root"
    _organisations().make_organisations(folder, len(ORGS), QUARTERS)
    return folder


@pytest.fixture(scope="module")
def one_by_one(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each pair built by its own ``scorecard run`` process; each is checked not to import
    distributed or dask (``-X importtime`` lists every module imported)."""
    out = tmp_path_factory.mktemp("one-by-one")
    for org in ORGS:
        for q in QUARTERS:
            done = subprocess.run(
                [
                    *(sys.executable, "-X", "importtime", "-m", "scorecard_lib.cli", "run", q),
                    *("--data", str(root / org / "data"), "--out", str(out / org)),
                ],
                capture_output=True,
                text=True,
                cwd=PROJECT_ROOT,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines()]
            assert not [m for m in imported if m.split(".")[0] in ("distributed", "dask")]
    return out


# --- bad input: one message, exit 2, nothing run -------------------------------------------


@pytest.mark.parametrize(
    ("make", "args", "expected"),
    [
        (lambda r: None, [], "does not exist"),
        (lambda r: r.mkdir(), [], "holds no organisation folder"),
        (lambda r: (r / "council-x" / "data").mkdir(parents=True), [], "has no params/"),
        (lambda r: (r / "council-x").mkdir(parents=True), [], "has no data/ and no params/"),
        ("orgs", ["--quarters", "2016-17-Q4"], "is not a quarter range"),
        ("orgs", ["--quarters", "2016-17-Q4:2016-17-Q9"], "is not a quarter range"),
        ("orgs", ["--quarters", "2016-17-Q4:2016-17-Q1"], "ends before it starts"),
        ("orgs", ["--orgs", "council-001,nowhere"], "No organisation folder named nowhere"),
        ("orgs", ["--quarter", "2017-18-Q1"], "has no data for 2017-18-Q1"),
        ("orgs", ["--quarters", "2020-21-Q1:2020-21-Q4"], "No organisation has data"),
        ("orgs", ["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers sizes"),
    ],
)
def test_bad_input_is_one_message_and_exit_2_before_anything_runs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: object,
    args: list[str],
    expected: str,
) -> None:
    root = tmp_path / "root"
    if make == "orgs":
        _organisations().make_organisations(root, 2, QUARTERS)
    else:
        make(root)  # type: ignore[operator]
    code = cli.main(["batch", str(root), "--out", str(tmp_path / "out"), *args])
    _out, err = capsys.readouterr()
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1  # one paragraph
    assert not (tmp_path / "out").exists()


def test_plan_takes_the_quarters_in_range_each_organisation_has(tmp_path: Path) -> None:
    _organisations().make_organisations(tmp_path, 2, QUARTERS)
    pairs = plan(tmp_path, quarter_span="2016-17-Q4:2017-18-Q2", orgs=["council-002"])
    assert [p.name for p in pairs] == ["council-002 2016-17-Q4"]
    assert len(plan(tmp_path)) == 4


def test_an_unreachable_scheduler_is_one_message_within_the_timeout(tmp_path: Path) -> None:
    _organisations().make_organisations(tmp_path / "root", 1, QUARTERS)
    started = time.monotonic()
    with pytest.raises(BatchError) as caught:
        run_batch(
            tmp_path / "root",
            tmp_path / "out",
            scheduler="tcp://127.0.0.1:9",
            connect_timeout=2,
        )
    assert time.monotonic() - started < 30
    assert caught.value.exit_code == 2
    assert "Could not reach the Dask scheduler at tcp://127.0.0.1:9" in caught.value.message()
    assert not (tmp_path / "out").exists()


def test_the_summary_names_each_failed_pair_with_its_message() -> None:
    from scorecard_lib.scale.plan import BatchResult

    result = BatchResult(
        [
            PairResult("a", "2016-17-Q4", "built"),
            PairResult("b", "2016-17-Q4", "failed", 2, "The input data has 1 problem:\n- x"),
        ],
        seconds=3.0,
        workers=2,
    )
    assert result.exit_code == 1
    assert result.lines()[0] == (
        "2 pairs on 2 workers in 3.0 s: 1 built, 0 unchanged, 0 refused, 1 failed."
    )
    assert "failed    b 2016-17-Q4 (exit status 2): The input data has 1 problem:" in (
        "\n".join(result.lines())
    )


def test_an_audit_summary_counts_identical_different_and_failed_records() -> None:
    from scorecard_lib.scale.plan import AUDIT_STATUSES, BatchResult

    result = BatchResult(
        [
            PairResult("a", "2016-17-Q4", "identical"),
            PairResult("b", "2016-17-Q4", "different", 1, "2016-17-Q4: 1 difference"),
        ],
        seconds=1.0,
        workers=1,
        statuses=AUDIT_STATUSES,
    )
    assert result.exit_code == 1
    assert result.lines()[0].endswith(": 1 identical, 1 different, 0 failed.")


def test_publish_and_audit_are_one_or_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["batch", str(tmp_path), "--out", str(tmp_path), "--publish", "--audit"])
    assert code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.slow
def test_importing_the_command_line_and_the_batch_module_imports_no_dask() -> None:
    code = (
        "import sys, scorecard_lib.cli, scorecard_lib.scale.batch, scorecard_lib.build.pipeline;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- on a LocalCluster of 2 worker processes -------------------------------------------------


@pytest.mark.e2e
@pytest.mark.slow
def test_batch_gives_the_same_bytes_as_scorecard_run_one_by_one_and_then_runs_nothing(
    root: Path, one_by_one: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = cli.main(["batch", str(root), "--out", str(out), "--workers", "2"])
    stdout, err = capsys.readouterr()
    assert code == 0, stdout + err
    assert "6 pairs on 2 workers" in stdout and "6 built" in stdout
    assert "6/6" in err  # the progress bar reached the end
    expected = _files(one_by_one)
    assert len(expected) > 6 * 3
    assert _files(out) == expected

    # nothing changed: every pair is up to date by the build cache, no notebook runs
    before = {p: p.stat().st_mtime_ns for p in out.rglob("report.html")}
    result = run_batch(root, out, workers=2, progress=False)
    assert [r.status for r in result.results] == ["unchanged"] * 6
    assert not any(r.executed for r in result.results)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("report.html")} == before
    assert _files(out) == expected


@pytest.mark.e2e
@pytest.mark.slow
def test_a_bad_organisation_fails_alone_with_the_usual_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    _organisations().make_organisations(root, len(ORGS), QUARTERS, bad=[2])
    out = tmp_path / "out"
    code = cli.main(["batch", str(root), "--out", str(out), "--workers", "2"])
    stdout, _err = capsys.readouterr()
    assert code == 1
    assert "5 built, 0 unchanged, 0 refused, 1 failed" in stdout
    assert "failed    council-002 2016-17-Q4 (exit status 2): The input data has 1 problem" in (
        stdout
    )
    assert "column 'value' (value 'sixty'): text where a number belongs" in stdout
    assert not (out / "council-002" / "2016-17-Q4").exists()
    built = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("*/*/report.html"))
    assert built == [f"{o}/{q}" for o in ORGS for q in QUARTERS if (o, q) != (ORGS[1], QUARTERS[1])]
    # the same message and exit status as scorecard run gives for that pair alone
    alone = subprocess.run(
        [
            *(sys.executable, "-m", "scorecard_lib.cli", "run", QUARTERS[1]),
            *("--data", str(root / ORGS[1] / "data"), "--out", str(tmp_path / "alone")),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines()[-2:] == [
        line.strip() for line in stdout.split("(exit status 2): ")[1].splitlines()[:2]
    ]


@pytest.mark.e2e
@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_retried_and_every_pair_is_identical(
    root: Path, one_by_one: Path, tmp_path: Path
) -> None:
    """A worker process that is building (it has notebook processes below it) is killed with
    SIGKILL; its task runs again elsewhere, and no process of the batch is left after it."""
    import psutil

    # processes this test process had already (a multiprocessing fork server an earlier test
    # started lives as long as pytest does): only what the batch starts must be gone after it
    already = {p.pid for p in _live_descendants()}
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            for child in psutil.Process().children():
                try:
                    busy = any(
                        "ipykernel" in " ".join(p.cmdline()) or "kernels" in " ".join(p.cmdline())
                        for p in child.children(recursive=True)
                    )
                    is_worker = "spawn" in " ".join(child.cmdline())
                except psutil.Error:
                    continue
                if is_worker and busy:
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)
                    return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    out = tmp_path / "out"
    result = run_batch(root, out, workers=2, progress=False)
    killer.join(timeout=1)
    assert killed, "no busy worker was found to kill"
    assert [r.status for r in result.results] == ["built"] * 6, result.lines()
    assert _files(out) == _files(one_by_one)
    assert [p for p in _live_descendants() if p.pid not in already] == []
    # the batch made this process the reaper of orphans while it ran, and no longer is: a
    # kernel orphaned later must still see its parent go (ipykernel waits for init)
    from scorecard_lib.scale.batch import _subreaper

    assert not _subreaper()


@pytest.mark.e2e
@pytest.mark.slow
def test_sigterm_stops_the_batch_leaves_no_process_and_nothing_half_built(
    root: Path, tmp_path: Path
) -> None:
    import psutil

    out = tmp_path / "out"
    batch = subprocess.Popen(
        [
            *(sys.executable, "-m", "scorecard_lib.cli", "batch", str(root), "--out", str(out)),
            *("--workers", "2", "--no-cache"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # until notebooks are running
            if any("kernel" in " ".join(p.cmdline()) for p in _live_descendants(batch.pid)):
                break
            time.sleep(0.1)
        started = _live_descendants(batch.pid)
        assert started
        batch.send_signal(signal.SIGTERM)
        _out, err = batch.communicate(timeout=120)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 130
    assert "Interrupted after" in err and "Traceback" not in err
    _gone, alive = psutil.wait_procs(started, timeout=10)  # type: ignore[arg-type]
    assert [p for p in alive if _not_resource_tracker(p)] == []
    for report in out.glob("*/*/report.html"):  # whatever was published is whole
        assert (report.parent / "manifest.json").is_file()
        assert len(list((report.parent / "notebooks").glob("*.ipynb"))) == 6


@pytest.mark.e2e
@pytest.mark.slow
def test_publish_then_audit_every_record_of_every_organisation(tmp_path: Path) -> None:
    """With --publish the good pairs are published into OUTROOT/ORG/published/ and the bad one
    fails alone; a second publish is refused pair by pair; the audit batch re-runs every
    published record and finds each identical."""
    pytest.importorskip("scorecard_lib.publish.publishing")
    root = tmp_path / "root"
    _organisations().make_organisations(root, len(ORGS), QUARTERS, bad=[2])
    out = tmp_path / "out"
    published = run_batch(
        root, out, workers=2, publish=True, require_committed_code=False, progress=False
    )
    assert [r.status for r in published.results] == [
        "built",
        "built",
        "built",
        "failed",
        "built",
        "built",
    ], published.lines()
    assert published.exit_code == 1
    assert "text where a number belongs" in published.results[3].message
    records = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("*/*/*/report.html"))
    assert records == [
        f"{o}/published/{q}" for o in ORGS for q in QUARTERS if (o, q) != (ORGS[1], QUARTERS[1])
    ]

    again = run_batch(
        root, out, workers=2, publish=True, require_committed_code=False, progress=False
    )
    assert [r.status for r in again.results].count("refused") == 5
    assert "is already published" in again.by_status("refused")[0].message

    audited = run_batch(root, out, workers=2, audit=True, progress=False)
    assert audited.lines()[0].endswith(": 5 identical, 0 different, 0 failed."), audited.lines()
    assert audited.exit_code == 0
