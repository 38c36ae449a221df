"""run_quarter: execute, normalise, assemble, publish atomically, never touch a published
quarter on failure. The loading functions are faked: these tests need no real data."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import nbformat
import pytest
from filelock import FileLock

from scorecard_lib.build import runner
from scorecard_lib.build.executors import SectionJob, SectionOutcome
from scorecard_lib.core.errors import (
    ExecutionError,
    InputError,
    LockedError,
    QuarterError,
    ScorecardError,
)
from scorecard_lib.core.paths import DATA_DIR, PROJECT_ROOT
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs import loading, locations
from scorecard_lib.report import assemble

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "notebooks"
Q = "2016-17-Q4"
PARAMS = {
    "quarter": Q,
    "cabinet_date": "2017-07-20",
    "title": "Balanced Scorecard",
    "council": "Sample County Council",
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Fake the loading layer. Inputs are the fixture notebooks (real files in the project)."""
    seen: dict[str, list[Any]] = {"check": [], "validate": []}

    def check_quarter(quarter: str | Quarter, data_dir: Path | None = None) -> Quarter:
        seen["check"].append((quarter, data_dir))
        return parse_quarter(quarter)

    def load_inputs(quarter: Quarter, data_dir: Path | None = None) -> None:
        seen["validate"].append((quarter, data_dir))

    monkeypatch.setattr(loading, "check_quarter", check_quarter)
    monkeypatch.setattr(loading, "load_params", lambda q, d=None: dict(PARAMS))
    monkeypatch.setattr(loading, "load_inputs", load_inputs)
    monkeypatch.setattr(loading, "input_files", lambda q, d=None: sorted(FIXTURES.glob("*.ipynb")))
    monkeypatch.setattr(
        locations,
        "available_quarters",
        lambda d=None: [parse_quarter("2016-17-Q3"), parse_quarter(Q)],
    )
    return seen


def _fake_report(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def build_report(**kwargs: Any) -> str:
        got.append(kwargs)
        names = ",".join(name for name, _nb in kwargs["notebooks"])
        return f"<html>{names} {json.dumps(kwargs['provenance'], sort_keys=True)}</html>\n"

    monkeypatch.setattr(assemble, "build_report", build_report)
    return got


class FakeExecutor:
    """Writes an 'executed' notebook per job, with run-specific papermill timings."""

    def __init__(self, fail: Sequence[str] = (), hook: Callable[[], None] | None = None) -> None:
        self.fail = set(fail)
        self.hook = hook
        self.jobs: list[SectionJob] = []
        self.max_workers: int | None = None

    def run(
        self,
        jobs: Sequence[SectionJob],
        *,
        max_workers: int,
        on_event: Callable[[str, str, float | None], None] | None,
    ) -> list[SectionOutcome]:
        self.jobs, self.max_workers = list(jobs), max_workers
        if self.hook:
            self.hook()
        outcomes = []
        for job in jobs:
            if on_event:
                on_event(job.section, "started", None)
            nb = nbformat.read(str(job.notebook), as_version=4)
            nb.metadata["papermill"] = {
                "parameters": job.parameters,
                "start_time": uuid.uuid4().hex,
                "input_path": str(job.notebook),
            }
            job.output.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(job.output))
            ok = job.section not in self.fail
            if on_event:
                on_event(job.section, "finished" if ok else "failed", 0.5)
            outcomes.append(
                SectionOutcome(
                    section=job.section,
                    ok=ok,
                    output=job.output,
                    seconds=0.5,
                    error=None if ok else "In [2] raised ValueError: nope",
                    output_written=True,
                )
            )
        return outcomes


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _published(out: Path, quarter: str = Q) -> Path:
    folder = out / quarter
    (folder / "notebooks").mkdir(parents=True)
    (folder / "report.html").write_text("<html>published</html>\n", encoding="utf-8")
    (folder / "notebooks" / "alpha.ipynb").write_text("{}\n", encoding="utf-8")
    (folder / "manifest.json").write_text("{}\n", encoding="utf-8")
    return folder


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith((".staging", ".previous")))


# --- with a fake executor (fast) ------------------------------------------------------------


@pytest.mark.slow
def test_run_publishes_report_notebooks_and_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    reports = _fake_report(monkeypatch)
    fake = FakeExecutor()
    events: list[tuple[str, str, float | None]] = []
    result = runner.run_quarter(
        "Q4 2016/17",
        out_dir=tmp_path,
        jobs=3,
        executor=fake,
        on_event=lambda *e: events.append(e),
        notebooks_dir=FIXTURES,
        sections=["alpha", "beta"],
    )
    folder = tmp_path / Q
    assert result.quarter_id == Q and result.out_folder == folder
    assert result.report == folder / "report.html" and result.manifest == folder / "manifest.json"
    assert result.seconds >= 0 and [s.section for s in result.sections] == ["alpha", "beta"]
    assert sorted(_snapshot(folder)) == [
        "manifest.json",
        "notebooks/alpha.ipynb",
        "notebooks/beta.ipynb",
        "report.html",
    ]
    assert _leftovers(tmp_path) == [] and not (tmp_path / ".failed").exists()
    assert calls["check"] == [(parse_quarter(Q), DATA_DIR.resolve())]
    assert len(calls["validate"]) == 1

    # jobs: absolute paths, the default data folder as "", kernels in the project root
    assert fake.max_workers == 3
    for job in fake.jobs:
        assert job.notebook.is_absolute() and job.output.is_absolute()
        assert job.parameters == {"quarter": Q, "data_dir": ""}
        assert job.cwd == PROJECT_ROOT
    assert [e[:2] for e in events] == [
        ("alpha", "started"),
        ("alpha", "finished"),
        ("beta", "started"),
        ("beta", "finished"),
    ]

    # notebooks were normalised (papermill timings and paths gone)
    nb = nbformat.read(str(folder / "notebooks" / "alpha.ipynb"), as_version=4)
    assert nb.metadata["papermill"] == {"parameters": {"quarter": Q, "data_dir": ""}}

    # the report got the sections in order, the parameters file's title and the provenance
    (got,) = reports
    assert [name for name, _nb in got["notebooks"]] == ["alpha", "beta"]
    assert got["title"] == "Balanced Scorecard" and got["council"] == "Sample County Council"
    assert got["quarter_prose"] == "Quarter Four 2016/17"
    assert got["provenance"]["command"] == "scorecard run 2016-17-Q4"
    assert "outputs" not in got["provenance"]

    m = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert m["quarter"] == Q and m["parameters"] == {"quarter": Q, "data_dir": ""}
    assert m["command"] == "scorecard run 2016-17-Q4"
    assert [e["path"] for e in m["inputs"]] == [
        f"tests/fixtures/notebooks/{n}.ipynb" for n in ("alpha", "beta", "broken")
    ]
    assert {e["path"]: e["sha256"] for e in m["outputs"]} == {
        rel: hashlib.sha256(data).hexdigest()
        for rel, data in _snapshot(folder).items()
        if rel != "manifest.json"
    }


@pytest.mark.slow
def test_a_new_run_replaces_the_published_folder_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    _fake_report(monkeypatch)
    folder = _published(tmp_path)
    (folder / "stale.txt").write_text("from an older run\n", encoding="utf-8")
    runner.run_quarter(
        Q, out_dir=tmp_path, executor=FakeExecutor(), notebooks_dir=FIXTURES, sections=["beta"]
    )
    assert sorted(_snapshot(folder)) == ["manifest.json", "notebooks/beta.ipynb", "report.html"]
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_failed_section_publishes_nothing_and_keeps_the_failed_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    reports = _fake_report(monkeypatch)
    before = _snapshot(_published(tmp_path))
    with pytest.raises(runner.SectionsFailed) as info:
        runner.run_quarter(
            Q,
            out_dir=tmp_path,
            executor=FakeExecutor(fail=["beta"]),
            notebooks_dir=FIXTURES,
            sections=["alpha", "beta"],
        )
    assert reports == []
    assert _snapshot(tmp_path / Q) == before
    assert sorted(p.name for p in (tmp_path / ".failed" / Q).iterdir()) == ["beta.ipynb"]
    assert _leftovers(tmp_path) == []
    assert info.value.exit_code == 1 and isinstance(info.value, ExecutionError)
    assert "- beta: In [2] raised ValueError: nope" in info.value.message()

    # the next successful run clears the kept failure
    runner.run_quarter(
        Q, out_dir=tmp_path, executor=FakeExecutor(), notebooks_dir=FIXTURES, sections=["alpha"]
    )
    assert not (tmp_path / ".failed").exists()


def test_interruption_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    _fake_report(monkeypatch)
    before = _snapshot(_published(tmp_path))

    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.run_quarter(
            Q,
            out_dir=tmp_path,
            executor=FakeExecutor(hook=interrupt),
            notebooks_dir=FIXTURES,
            sections=["alpha"],
        )
    assert _snapshot(tmp_path / Q) == before
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_second_run_of_the_same_quarter_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    _fake_report(monkeypatch)
    monkeypatch.setattr(runner, "LOCK_TIMEOUT", 0.2)
    fake = FakeExecutor()
    with FileLock(str(tmp_path / f".{Q}.lock")), pytest.raises(LockedError) as info:
        runner.run_quarter(
            Q, out_dir=tmp_path, executor=fake, notebooks_dir=FIXTURES, sections=["alpha"]
        )
    assert fake.jobs == [] and not (tmp_path / Q).exists()
    assert "Another run of Quarter Four 2016/17 (2016-17-Q4) is in progress" in (
        info.value.message()
    )
    # once the other run has ended, the lock is free again
    runner.run_quarter(
        Q, out_dir=tmp_path, executor=fake, notebooks_dir=FIXTURES, sections=["alpha"]
    )


def test_inputs_changed_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    _fake_report(monkeypatch)
    data = tmp_path / "data"
    data.mkdir()
    values = data / "values.csv"
    values.write_text("id,value\n", encoding="utf-8")
    monkeypatch.setattr(loading, "input_files", lambda q, d=None: [values])

    def edit() -> None:
        values.write_text("id,value\nCF01,1\n", encoding="utf-8")

    with pytest.raises(InputError, match="changed while the report was being built"):
        runner.run_quarter(
            Q,
            data_dir=data,
            out_dir=tmp_path / "out",
            executor=FakeExecutor(hook=edit),
            notebooks_dir=FIXTURES,
            sections=["alpha"],
        )
    assert not (tmp_path / "out" / Q).exists()


def test_a_missing_notebook_is_reported_before_running(
    tmp_path: Path, calls: dict[str, list[Any]]
) -> None:
    fake = FakeExecutor()
    with pytest.raises(InputError, match="notebook nowhere is missing"):
        runner.run_quarter(
            Q, out_dir=tmp_path, executor=fake, notebooks_dir=FIXTURES, sections=["nowhere"]
        )
    assert fake.jobs == []


def test_loading_errors_propagate_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    def no_data(quarter: str, data_dir: Path | None = None) -> Quarter:
        raise QuarterError("There is no data for Quarter One 2030/31 (2030-31-Q1)")

    monkeypatch.setattr(loading, "check_quarter", no_data)
    fake = FakeExecutor()
    with pytest.raises(ScorecardError, match="no data"):
        runner.run_quarter("2030-31-Q1", out_dir=tmp_path, executor=fake)
    assert fake.jobs == [] and list(tmp_path.iterdir()) == []


def test_data_parameter_and_rerun_command(tmp_path: Path) -> None:
    assert runner._data_parameter(DATA_DIR.resolve()) == ""
    inside = PROJECT_ROOT / "tests" / "fixtures" / "data"
    assert runner._data_parameter(inside) == "tests/fixtures/data"
    assert runner._data_parameter(tmp_path) == str(tmp_path)  # documented: absolute
    q = parse_quarter(Q)
    assert runner.rerun_command(q, "") == "scorecard run 2016-17-Q4"
    assert runner.rerun_command(q, "my data") == "scorecard run 2016-17-Q4 --data 'my data'"


def test_list_quarters(tmp_path: Path, calls: dict[str, list[Any]]) -> None:
    _published(tmp_path)
    assert runner.list_quarters(out_dir=tmp_path) == [("2016-17-Q3", False), (Q, True)]


# --- with real kernels (each run costs a few seconds) ---------------------------------------


@pytest.mark.e2e
def test_two_real_runs_give_byte_identical_outputs(
    tmp_path: Path, calls: dict[str, list[Any]]
) -> None:
    """Real papermill, the real report assembly: same inputs, same bytes, no absolute paths."""
    results = [
        runner.run_quarter(
            Q, out_dir=tmp_path / name, jobs=2, notebooks_dir=FIXTURES, sections=["alpha", "beta"]
        )
        for name in ("first", "second")
    ]
    first, second = (_snapshot(r.out_folder) for r in results)
    assert sorted(first) == [
        "manifest.json",
        "notebooks/alpha.ipynb",
        "notebooks/beta.ipynb",
        "report.html",
    ]
    assert first == second

    text = results[0].manifest.read_text(encoding="utf-8")
    for machine in (str(tmp_path), str(PROJECT_ROOT), os.path.expanduser("~")):
        assert machine not in text
    assert not re.search(r'"(/|[A-Za-z]:\\\\)', text)
    nb_text = first["notebooks/alpha.ipynb"].decode("utf-8")
    assert str(tmp_path) not in nb_text and " at 0x" not in nb_text
    assert '"id": "alpha-injected-parameters"' in nb_text


@pytest.mark.e2e
def test_a_real_failing_cell_names_section_and_cell_and_leaves_the_report_alone(
    tmp_path: Path, calls: dict[str, list[Any]]
) -> None:
    before = _snapshot(_published(tmp_path))
    with pytest.raises(ExecutionError) as info:
        runner.run_quarter(
            Q, out_dir=tmp_path, jobs=2, notebooks_dir=FIXTURES, sections=["alpha", "broken"]
        )
    message = info.value.message()
    assert message.startswith("1 of 2 report sections failed for Quarter Four 2016/17")
    assert "- broken: In [4]" in message
    assert 'raise ValueError(f"no figures for {quarter}")' in message
    assert "ValueError: no figures for 2016-17-Q4" in message
    assert ".failed/2016-17-Q4/broken.ipynb" in message
    assert _snapshot(tmp_path / Q) == before
    kept = tmp_path / ".failed" / Q / "broken.ipynb"
    assert sorted(p.name for p in kept.parent.iterdir()) == ["broken.ipynb"]
    assert "An Exception was encountered" in kept.read_text(encoding="utf-8")
    assert _leftovers(tmp_path) == []
