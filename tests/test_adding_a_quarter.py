"""The README's "Adding a quarter" walk-through, run as a new user would type it: new-quarter,
template, fill the workbook, import, run (a draft); the report shows the filled values and
ratings. (Publishing needs committed code; tests/test_audit.py publishes in a git copy.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_workbook import fill  # the same "service fills in the workbook" helper

from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT

pytestmark = pytest.mark.e2e
SCORECARD = str(Path(sys.executable).with_name("scorecard"))


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [SCORECARD, *map(str, args)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_add_2017_18_q2_and_build_its_report(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "outputs"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(PARAMS_DIR, tmp_path / "params")  # params/ beside the data folder

    _cli("new-quarter", "2017-18-Q2", "--data", data)
    assert (tmp_path / "params" / "2017-18-Q2.yaml").is_file()
    workbook = tmp_path / "returns-2017-18-Q2.xlsx"
    _cli("template", "2017-18-Q2", "-o", workbook, "--data", data)
    fill(workbook, {"CF01": 70.0})
    done = _cli(
        "import",
        workbook,
        "--quarter",
        "2017-18-Q2",
        "--data",
        data,
        "--archive",
        tmp_path / "published",
        "--confirm-swings",
    )
    assert "CF01" in done.stdout
    done = _cli("run", "2017-18-Q2", "--data", data, "--out", out)
    report = (out / "2017-18-Q2" / "report.html").read_text(encoding="utf-8")
    assert "Quarter Two 2017/18" in report
    # CF01, looked after children, against the England average of 62: 70.0 is red.
    assert "The rate of looked after children has increased to 70.0 per 10,000 children." in report
    assert "England average of 62 per 10,000 children" in report
