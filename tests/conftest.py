"""Shared fixtures. The expensive one builds every sample quarter's report once per test
session, through the real runner and notebooks, for the end-to-end and browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorecard_lib.loading import available_quarters


@pytest.fixture(scope="session")
def built_quarters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """quarter id -> its output folder (report.html, notebooks/, manifest.json)."""
    from scorecard_lib.runner import run_quarter

    out = tmp_path_factory.mktemp("outputs")
    built = {}
    for q in available_quarters():
        result = run_quarter(q.id, out_dir=out)
        built[q.id] = result.out_folder
    return built
