"""PapermillExecutor: parallel worker processes, deterministic kernel environment, cell errors
as outcomes, and retries of kernel starts that lose the port race."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
import zmq
from papermill.exceptions import PapermillExecutionError

from scorecard_lib.build import papermill_worker
from scorecard_lib.build.executors import PapermillExecutor, SectionJob
from scorecard_lib.build.papermill_worker import describe_cell_error
from scorecard_lib.core.paths import PROJECT_ROOT

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "notebooks"
PARAMS = {"quarter": "2015-16-Q1", "data_dir": ""}


def _job(name: str, out: Path, section: str | None = None) -> SectionJob:
    return SectionJob(
        section=section or name,
        notebook=FIXTURES / f"{name}.ipynb",
        output=out / f"{section or name}.ipynb",
        parameters=dict(PARAMS),
        timeout=120,
        cwd=PROJECT_ROOT,
    )


def _stdout(nb: Any) -> str:
    return "".join(
        "".join(o.get("text", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )


@pytest.mark.e2e
def test_parallel_run_with_a_failing_section(tmp_path: Path) -> None:
    """One real run (kernel starts are slow): three sections on two workers."""
    events: list[tuple[str, str, float | None]] = []
    jobs = [_job("alpha", tmp_path), _job("broken", tmp_path), _job("beta", tmp_path)]
    outcomes = PapermillExecutor().run(
        jobs, max_workers=2, on_event=lambda s, e, t: events.append((s, e, t))
    )

    assert [o.section for o in outcomes] == ["alpha", "broken", "beta"]
    assert [o.ok for o in outcomes] == [True, False, True]
    alpha, broken, _beta = outcomes
    assert alpha.error is None and alpha.output_written and alpha.seconds > 0

    # the kernel ran in the project root with the deterministic environment
    out = _stdout(nbformat.read(str(alpha.output), as_version=4))
    assert "quarter 2015-16-Q1 data_dir ''" in out
    for line in ("PYTHONHASHSEED 0", "TZ UTC", "LC_ALL C.UTF-8", "SOURCE_DATE_EPOCH 0"):
        assert line in out
    assert "MPLBACKEND Agg" in out and "cwd is project root: True" in out

    # a cell error is an outcome, with one paragraph naming the cell and the exception
    assert broken.ename == "ValueError"
    assert broken.error is not None
    assert "In [4]" in broken.error
    assert "id broken-03" in broken.error
    assert 'raise ValueError(f"no figures for {quarter}")' in broken.error
    assert "ValueError: no figures for 2015-16-Q1" in broken.error
    assert "\n" not in broken.error
    # papermill still wrote the failed notebook, with its error banner
    assert broken.output_written
    failed = nbformat.read(str(broken.output), as_version=4)
    assert "papermill-error-cell-tag" in failed.cells[0].metadata.get("tags", [])

    # every section started once and ended once, "started" before its end
    for o in outcomes:
        mine = [e for e in events if e[0] == o.section]
        assert [e[1] for e in mine] == ["started", "finished" if o.ok else "failed"]
        assert mine[0][2] is None and mine[1][2] == pytest.approx(o.seconds)
    # at most two ran at once: the third started only after one had ended
    third = next(i for i, e in enumerate(events) if e[1] == "started" and e[0] == "beta")
    assert any(e[1] != "started" for e in events[:third])


def test_no_jobs() -> None:
    assert PapermillExecutor().run([], max_workers=4, on_event=None) == []


def _fake_papermill(monkeypatch: pytest.MonkeyPatch, failures: list[BaseException]) -> list[int]:
    calls: list[int] = []

    def execute_notebook(input_path: str, output_path: str, **kwargs: Any) -> None:
        calls.append(1)
        assert kwargs["cwd"] is None and kwargs["kernel_name"] == "python3"
        assert kwargs["request_save_on_cell_execute"] is False
        if failures:
            raise failures.pop(0)
        Path(output_path).write_text("{}", encoding="utf-8")

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    return calls


@pytest.mark.parametrize(
    "lost",
    [
        zmq.error.ZMQError(98, "Address already in use"),
        RuntimeError("Kernel died before replying to kernel_info"),
    ],
)
def test_a_lost_port_race_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lost: Exception
) -> None:
    monkeypatch.setattr(papermill_worker.time, "sleep", lambda _s: None)
    calls = _fake_papermill(monkeypatch, [lost, lost])
    outcome = papermill_worker.execute_job(_job("alpha", tmp_path))
    assert outcome.ok and outcome.attempts == 3 and len(calls) == 3


def test_retries_give_up_after_three_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(papermill_worker.time, "sleep", lambda _s: None)
    lost = zmq.error.ZMQError(98, "Address already in use")
    calls = _fake_papermill(monkeypatch, [lost, lost, lost, lost])
    outcome = papermill_worker.execute_job(_job("alpha", tmp_path))
    assert not outcome.ok and len(calls) == 3 and outcome.attempts == 3
    assert outcome.error is not None and "could not start after 3 attempts" in outcome.error


def test_other_errors_are_outcomes_and_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_papermill(monkeypatch, [RuntimeError("Kernel didn't respond in 60 seconds")])
    outcome = papermill_worker.execute_job(_job("alpha", tmp_path))
    assert not outcome.ok and len(calls) == 1
    assert outcome.ename == "RuntimeError" and not outcome.output_written
    assert outcome.error == (
        "the notebook could not be run (RuntimeError: Kernel didn't respond in 60 seconds)"
    )


def test_describe_cell_error() -> None:
    exc = PapermillExecutionError(
        cell_index=4,
        exec_count=3,
        source="\n# rate the indicators\nsc.summary()\n",
        ename="KeyError",
        evalue="'CF01'",
        traceback=["..."],
    )
    assert describe_cell_error(exc) == (
        "In [3] (cell 5 of the executed notebook), starting `# rate the indicators`, "
        "raised KeyError: 'CF01'"
    )


def test_a_parameter_the_notebook_does_not_declare_fails_the_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_papermill(monkeypatch, [])
    job = SectionJob(
        section="beta",
        notebook=FIXTURES / "beta.ipynb",
        output=tmp_path / "beta.ipynb",
        parameters={"quarter": "2016-17-Q4", "data_dir": "", "colour": "red"},
    )
    outcome = papermill_worker.execute_job(job)
    assert not outcome.ok and calls == []
    assert outcome.error is not None and "does not declare the parameter colour" in outcome.error
