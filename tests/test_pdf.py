"""``scorecard_lib.report.pdf``: the report printed to A4 PDF through Debian's Chromium.

The tests that print need ``/usr/bin/chromium`` (CI installs it) and skip without it. Reading
the PDF's text needs ``pdftotext`` (Debian's poppler-utils), which CI does not install: that
one check skips without it, the others still run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scorecard_lib.core.errors import InputError, ScorecardError
from scorecard_lib.report import pdf

QUARTER = "2016-17-Q4"
needs_chromium = pytest.mark.skipif(
    not Path(pdf.DEFAULT_CHROMIUM).exists(),
    reason=f"{pdf.DEFAULT_CHROMIUM} is not installed (apt-get install chromium)",
)
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@pytest.fixture(scope="module")
def report(built_quarters: dict[str, Path]) -> Path:
    return built_quarters[QUARTER] / "report.html"


@pytest.fixture(scope="module")
def printed(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "new-folder" / "report.pdf"
    returned = pdf.write_pdf(report, out)
    assert returned == out
    return out


@pytest.mark.browser
@needs_chromium
def test_writes_a_pdf_of_several_a4_pages(printed: Path) -> None:
    data = printed.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    pages = len(PAGE.findall(data))
    assert pages >= 10, f"only {pages} pages"
    # A4 is 595 x 842 points; Chromium rounds to 595.92 x 842.88
    assert re.search(rb"/MediaBox \[0 0 595\.9\d* 842\.8\d*\]", data)
    assert not list(printed.parent.glob(".*.tmp"))  # no temporary file left


@pytest.mark.browser
@needs_chromium
def test_the_same_report_gives_the_same_bytes(report: Path, printed: Path, tmp_path: Path) -> None:
    again = pdf.write_pdf(report, tmp_path / "again.pdf")
    assert again.read_bytes() == printed.read_bytes()
    assert b"/CreationDate (D:19700101000000" in printed.read_bytes()


@pytest.mark.browser
@needs_chromium
@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (Debian's poppler-utils) is missing"
)
def test_pages_show_the_summary_and_every_section(printed: Path) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(printed), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    assert "There are 46 indicators" in flat
    for heading in (
        "Report to Cabinet",
        "Children's services",
        "Adult care",
        "Workforce",
        "Corporate risk",
        "Appendix",
        "How this report was made",
        "Accessibility statement",
    ):
        assert heading in flat, heading
    assert re.search(r"Page 1 of \d+", flat)
    # the code behind each section and the skip link are for the screen only
    assert "Show the code behind this section" not in flat
    assert "Skip to main content" not in flat[:500]


# --- without a browser ---------------------------------------------------------------------


def test_missing_report_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no report"):
        pdf.write_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_a_chromium_that_is_not_there_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(tmp_path / "no-such-browser"))
    with pytest.raises(pdf.PdfError, match=pdf.CHROMIUM_ENV) as caught:
        pdf.find_chromium()
    assert isinstance(caught.value, ScorecardError)
    assert caught.value.fix


def test_normalise_fixes_dates_and_ids_in_place() -> None:
    raw = (
        b"%PDF-1.4\n1 0 obj\n<</Creator (HeadlessChrome)\n/CreationDate (D:20250101120000+00'00')"
        b"\n/ModDate (D:20250101120001+00'00')>>\nendobj\n"
        b"2 0 obj\n<</ID (node00000912)>>\nendobj\n3 0 obj\n<</ID (node00000233)>>\nendobj\n"
        b"4 0 obj\n<</Names [(node00000233) 3 0 R (node00000912) 2 0 R]>>\nendobj\n"
    )
    out = pdf.normalise_pdf(raw)
    assert len(out) == len(raw)  # every byte offset in the cross-reference table still holds
    assert b"/CreationDate (D:19700101000000+00'00')" in out
    assert b"/ModDate (D:19700101000000+00'00')" in out
    assert b"2 0 obj\n<</ID (node00000002)>>" in out
    assert b"3 0 obj\n<</ID (node00000001)>>" in out
    assert b"[(node00000001) 3 0 R (node00000002) 2 0 R]" in out  # still sorted
    assert pdf.normalise_pdf(out) == out
