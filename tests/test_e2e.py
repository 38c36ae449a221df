"""End to end: the real notebooks, run through papermill, for every sample quarter.

Expected figures for 2016-17 Q4 are typed from the Cabinet report in ../shared/seed/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from scorecard_lib.core.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.inputs.locations import available_quarters

pytestmark = pytest.mark.e2e


def _text(path: Path) -> str:
    """The report's visible text with tags removed and whitespace folded."""
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_every_sample_quarter_builds(built_quarters: dict[str, Path]) -> None:
    assert sorted(built_quarters) == [q.id for q in available_quarters()]
    assert len(built_quarters) == 9
    for folder in built_quarters.values():
        assert (folder / "report.html").is_file()
        assert (folder / "manifest.json").is_file()
        assert sorted(p.stem for p in (folder / "notebooks").glob("*.ipynb")) == sorted(SECTIONS)


def test_seed_quarter_report_states_the_cabinet_figures(built_quarters: dict[str, Path]) -> None:
    text = _text(built_quarters["2016-17-Q4"] / "report.html")
    assert "Quarter Four 2016/17" in text
    assert "There are 46 indicators in the Scorecard." in text
    assert "17 are rated green" in text and " and 10 red." in text
    assert (
        "Of the 10 red indicators, 5 have had a performance update in Quarter Four 2016/17" in text
    )
    # The five red indicators with an update: seed value, previous value, target or benchmark.
    for phrase in [
        "has increased to 66.3 per 10,000 children",
        "It was 60.6 per 10,000 children at the end of the previous quarter",
        "England average of 60 per 10,000 children at 31/03/2016",
        "has increased to 43.2 per 10,000 children",
        "It was 38.1 per 10,000 children",
        "England average of 43.1 per 10,000 children at 31/03/2016",
        "1,360 older people",
        "the target of 1,198 older people",
        "8.92 days",
        "9.11 days",
        "the target of 7 days",
        "46%",
        "It was 60% in the 2015 staff survey",
    ]:
        assert phrase in text, phrase
    assert "has decreased to just over 1,300 older people" in text  # as the seed says
    assert "13.36" in text  # Adult Services sickness, the highest directorate
    assert "Serious harm or death due to a failure on the part of the Council" in text
    assert "Demographic changes lead to changed demand for services" in text


def test_refreshed_indicator_set_in_2017_18_q1(built_quarters: dict[str, Path]) -> None:
    old = _text(built_quarters["2016-17-Q4"] / "report.html")
    new = _text(built_quarters["2017-18-Q1"] / "report.html")
    retired = [
        "Young people aged 16-24 claiming Jobseeker",
        "Pupils achieving 5 or more A*-C",
        "Municipal waste sent to landfill",
    ]
    added = [
        "Young people aged 18-24 claiming out-of-work benefits",
        "Attainment 8: average score per pupil",
        "Adult social care contacts resolved at first point of contact",
    ]
    for name in retired:
        assert name in old and name not in new, name
    for name in added:
        # the quarter before names them once, in its recommendation to refresh the scorecard
        assert name in new and old.count(name) == 1, name
    assert "There are 46 indicators in the Scorecard." in new


def test_manifest_records_inputs_code_and_outputs(built_quarters: dict[str, Path]) -> None:
    folder = built_quarters["2016-17-Q4"]
    manifest = json.loads((folder / "manifest.json").read_text())
    paths = [i["path"] for i in manifest["inputs"]]
    assert "data/catalogue.csv" in paths and "params/2016-17-Q4.yaml" in paths
    assert "data/2016-17-Q4/values.csv" in paths
    assert not any("2017-18" in p for p in paths)  # a past quarter never reads the future
    assert manifest["parameters"]["quarter"] == "2016-17-Q4"
    assert (
        "scorecard run 2016-17-Q4" in " ".join(manifest["command"])
        if isinstance(manifest["command"], list)
        else manifest["command"]
    )
    outputs = {o["path"] for o in manifest["outputs"]}
    assert "report.html" in outputs and "notebooks/overview.ipynb" in outputs
    raw = (folder / "manifest.json").read_text() + (folder / "report.html").read_text()
    assert str(PROJECT_ROOT) not in raw and "/tmp/" not in raw


@pytest.mark.parametrize("section", SECTIONS)
def test_plain_papermill_runs_each_notebook(section: str, tmp_path: Path) -> None:
    out = tmp_path / f"{section}.ipynb"
    papermill = Path(sys.executable).with_name("papermill")
    done = subprocess.run(
        [
            str(papermill),
            str(NOTEBOOKS_DIR / f"{section}.ipynb"),
            str(out),
            "-p",
            "quarter",
            "2016-17-Q4",
            "--no-progress-bar",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    nb = json.loads(out.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors


def test_papermill_accepts_the_params_file(tmp_path: Path) -> None:
    out = tmp_path / "workforce.ipynb"
    papermill = Path(sys.executable).with_name("papermill")
    done = subprocess.run(
        [
            str(papermill),
            str(NOTEBOOKS_DIR / "workforce.ipynb"),
            str(out),
            "-f",
            "params/2016-17-Q4.yaml",
            "--no-progress-bar",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "8.92 days" in out.read_text()
