"""The Cabinet paper printed: ``scorecard run 2016-17-Q4 --pdf`` opens with the heading block
and recommendations, explains the first red indicator by page 3, and starts the appendices
by page 11 (a body of at most 10 A4 pages). A draft missing an officer's text still builds
and shows a "to be completed" box. Reads the PDF with pdftotext (poppler-utils)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR, PROJECT_ROOT
from scorecard_lib.report import pdf

QUARTER = "2016-17-Q4"
SCORECARD = [sys.executable, "-m", "scorecard_lib.cli"]

needs_tools = pytest.mark.skipif(
    not Path(pdf.DEFAULT_CHROMIUM).exists() or shutil.which("pdftotext") is None,
    reason="needs chromium and pdftotext (apt-get install chromium poppler-utils)",
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCORECARD, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )


def _pages(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [" ".join(page.split()) for page in text.split("\f")]


def _first_page(pages: list[str], words: str) -> int:
    """1-based number of the first page holding ``words``."""
    return next(i for i, page in enumerate(pages, start=1) if words in page)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("paper")
    done = _run("run", QUARTER, "--pdf", "--no-cache", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return _pages(out / QUARTER / "report.pdf")


@pytest.mark.e2e
@pytest.mark.browser
@needs_tools
def test_page_one_has_the_meeting_date_and_the_recommendations(printed: list[str]) -> None:
    first = printed[0]
    assert "Cabinet, 20 July 2017" in first and "Date of meeting 20 July 2017" in first
    assert "Relevant Officer Director of Economy and Infrastructure" in first
    assert "Recommendations" in first
    assert "notes that 17 indicators are rated green" in first
    for name in ("Looked after children per 10,000 children", "Municipal waste sent to landfill"):
        assert name in first
    assert "Demographic changes lead to changed demand for services" in first


@pytest.mark.e2e
@pytest.mark.browser
@needs_tools
def test_first_red_explanation_by_page_3_and_appendices_by_page_11(printed: list[str]) -> None:
    explained = _first_page(printed, "The rate of looked after children has increased to 66.3")
    assert explained <= 3, explained
    appendices = _first_page(printed, "Appendix 1: Full scorecard dashboard Full dashboard")
    assert appendices <= 11, appendices  # everything before it: at most 10 pages
    assert explained < appendices


@pytest.mark.e2e
def test_a_draft_without_the_equality_text_builds_with_a_box(tmp_path: Path) -> None:
    shutil.copytree(DATA_DIR, tmp_path / "data")
    shutil.copytree(PARAMS_DIR, tmp_path / "params")
    path = tmp_path / "params" / f"{QUARTER}.paper.yaml"
    paper = yaml.safe_load(path.read_text(encoding="utf-8"))
    del paper["implications"]["equality_diversity"]
    path.write_text(yaml.safe_dump(paper), encoding="utf-8")
    done = _run("run", QUARTER, "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    html = (tmp_path / "out" / QUARTER / "report.html").read_text(encoding="utf-8")
    assert html.count('class="to-complete"') == 1
    assert "<strong>To be completed:</strong> the Equality and Diversity implications" in html
    assert "implications: equality_diversity" in html
