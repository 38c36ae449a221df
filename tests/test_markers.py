"""The guard in conftest.py: a test without a process marker cannot start a process, so a slow
test cannot slip into `make test-fast` unmarked; a marked test can."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tomllib

import pytest
from conftest import PROCESS_MARKERS, UnmarkedProcessError

from scorecard_lib.core.paths import PROJECT_ROOT


def test_an_unmarked_test_cannot_run_a_subprocess() -> None:
    with pytest.raises(UnmarkedProcessError, match="mark this test slow") as refused:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert "test_an_unmarked_test_cannot_run_a_subprocess" in str(refused.value)
    with pytest.raises(UnmarkedProcessError, match="mark this test slow"):
        subprocess.check_output(["git", "--version"])


def test_an_unmarked_test_cannot_fork_or_start_workers() -> None:
    with pytest.raises(UnmarkedProcessError, match="mark this test slow"):
        os.fork()
    with pytest.raises(UnmarkedProcessError, match="mark this test slow"):
        os.system("true")
    for method in multiprocessing.get_all_start_methods():
        worker = multiprocessing.get_context(method).Process(target=print)
        with pytest.raises(UnmarkedProcessError, match="mark this test slow"):
            worker.start()


@pytest.mark.slow
def test_a_marked_test_may_start_processes() -> None:
    done = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True)
    assert done.stdout == "ok\n"
    assert subprocess.Popen(["true"]).wait() == 0


def test_every_process_marker_is_declared_and_described() -> None:
    """pytest's --strict-markers refuses undeclared markers; each says what it stands for."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))
    declared = dict(
        line.split(":", 1) for line in config["tool"]["pytest"]["ini_options"]["markers"]
    )
    for name in PROCESS_MARKERS:
        assert declared.get(name, "").strip(), f"marker {name} is not described in pyproject"
    assert "--strict-markers" in config["tool"]["pytest"]["ini_options"]["addopts"]
