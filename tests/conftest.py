"""Shared fixtures, and the guard that keeps the fast tier fast.

The expensive fixture builds every sample quarter's report once per test session, through the
real runner and notebooks, for the end-to-end and browser tests.

The guard: a test without one of the markers in :data:`PROCESS_MARKERS` is a unit test, and
``make test-fast`` runs it. Starting a process (a kernel, a browser, git, LibreOffice, the
``scorecard`` command, a worker pool) costs seconds, so while such a test is set up and runs,
every way of starting one raises :class:`UnmarkedProcessError` naming the marker to add.
"""

from __future__ import annotations

import functools
import multiprocessing.util
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from scorecard_lib.inputs.locations import available_quarters

if TYPE_CHECKING:
    from scorecard_lib.present.sections import Scorecard

#: Tests with one of these markers may start processes; ``make test-fast`` deselects them.
PROCESS_MARKERS = ("e2e", "browser", "slow")

# Hypothesis profiles, chosen with ``--hypothesis-profile``: ``make test-fast`` tries fewer
# examples per property; ``make test`` (the default profile) tries hypothesis's usual number.
settings.register_profile("fast", max_examples=20)


class UnmarkedProcessError(RuntimeError):
    """A test without a process marker tried to start a process."""


def _refusal(what: str, nodeid: str) -> str:
    return (
        f"{nodeid} starts a process ({what}) but carries none of the markers "
        f"{', '.join(PROCESS_MARKERS)}: mark this test slow (@pytest.mark.slow; e2e if it "
        "starts a kernel, browser if it starts Chromium), so that `make test-fast` stays fast"
    )


class _RefusedPopen(subprocess.Popen):  # type: ignore[type-arg]
    """Stands in for ``subprocess.Popen`` (which ``run``, ``check_output`` and asyncio's
    subprocesses use) during an unmarked test; a subclass, so ``isinstance`` still works."""

    nodeid = ""

    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        raise UnmarkedProcessError(_refusal(f"subprocess {args!r}", self.nodeid))


def _refuser(what: str, nodeid: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise UnmarkedProcessError(_refusal(what, nodeid))

    return refuse


def _guarded(item: pytest.Item) -> Iterator[None]:
    """Refuse new processes while an unmarked test runs. Hooks install it rather than an
    autouse fixture, so the session and module fixtures the test sets up are guarded too."""
    if not isinstance(item, pytest.Function) or any(
        item.get_closest_marker(name) for name in PROCESS_MARKERS
    ):
        yield
        return
    refused = type("RefusedPopen", (_RefusedPopen,), {"nodeid": item.nodeid})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "Popen", refused)
        for name in ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp"):
            if hasattr(os, name):
                patch.setattr(os, name, _refuser(f"os.{name}", item.nodeid))
        # multiprocessing's spawn and forkserver start methods start their processes here
        worker = _refuser("a multiprocessing worker", item.nodeid)
        patch.setattr(multiprocessing.util, "spawnv_passfds", worker)
        yield


#: Session fixtures too costly, or too shared, to set up once per pytest-xdist worker: the tests
#: using them run on one worker (``--dist loadgroup``), which builds the nine quarters once and
#: alone writes the browser tests' screenshots under test-artifacts/.
ONE_WORKER_FIXTURES = frozenset({"built_quarters", "browser"})


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups from the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ONE_WORKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("built_quarters"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _guarded(item)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _guarded(item)
    return None


@pytest.fixture(scope="session")
def built_quarters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """quarter id -> its output folder (report.html, notebooks/, manifest.json)."""
    from scorecard_lib.build.runner import run_quarter

    out = tmp_path_factory.mktemp("outputs")
    built = {}
    for q in available_quarters():
        result = run_quarter(q.id, out_dir=out)
        built[q.id] = result.out_folder
    return built


@pytest.fixture(scope="session")
def sample_scorecard() -> Callable[[str], Scorecard]:
    """``sample_scorecard(quarter)``: the sample quarter loaded from data/ once per session and
    shared, for tests that only read it (loading and validating a quarter is the slow part)."""
    from scorecard_lib.present.sections import load_scorecard

    return functools.cache(load_scorecard)


#: The committed records of the sample quarters (history: copied, never changed by tests).
COMMITTED_RECORDS = ("2016-17-Q3", "2016-17-Q4")


def committed_record(quarter: str) -> Path:
    """The archived record of ``quarter`` (``published/QUARTER``)."""
    from scorecard_lib.inputs.archive import ARCHIVE_DIR

    return ARCHIVE_DIR / quarter


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive folder for the archive page's tests: copies of the committed records of
    2016-17 Q3 and Q4 (published before open data existed), and a correction of Q4,
    ``2016-17-Q4.v2``, with open data, a PDF and one rating changed, superseding it."""
    import json
    import shutil

    from scorecard_lib.core.quarters import parse_quarter
    from scorecard_lib.inputs import loading
    from scorecard_lib.report import opendata, record

    archive = tmp_path_factory.mktemp("archive") / "published"
    archive.mkdir()
    for q in COMMITTED_RECORDS:
        shutil.copytree(committed_record(q), archive / q)
    v2 = archive / "2016-17-Q4.v2"
    shutil.copytree(archive / "2016-17-Q4", v2)
    inputs = loading.load_inputs(parse_quarter("2016-17-Q4"), loading.DATA_DIR)
    opendata.write_open_data(
        opendata.open_data(inputs, record.quarter_results(inputs)), v2 / "open-data"
    )
    (v2 / "report.pdf").write_bytes(b"%PDF-1.4\n% a stand-in for the printed report\n")
    manifest = json.loads((v2 / "manifest.json").read_text("utf-8"))
    manifest["publication"] = {
        "version": 2,
        "supersedes": "2016-17-Q4",
        "reason": "The figure for staff appraisals was corrected by Human Resources.",
    }
    results = manifest["results"]
    results["indicators"]["OR02"]["rating"] = "Green"
    ratings = results["counts"]["ratings"]
    old = json.loads((archive / "2016-17-Q4" / "manifest.json").read_text("utf-8"))
    ratings[old["results"]["indicators"]["OR02"]["rating"]] -= 1
    ratings["Green"] += 1
    (v2 / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return archive
