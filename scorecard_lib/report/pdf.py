"""Print the HTML report to PDF through Chromium (``scorecard run --pdf``).

The report's own print style sheet (``templates/report.css``, ``@media print``) lays out the
A4 pages: each section starts on a new page, the code behind each section and the skip and
back links are left out, and the rating badges keep their colours. This module only opens
the finished ``report.html`` from its ``file://`` address in headless Chromium, driven by
Playwright, and asks for an A4 PDF with page numbers in the footer.

Chromium is Debian's (``/usr/bin/chromium``), not Playwright's own download. Another binary
can be named with the ``SCORECARD_CHROMIUM`` environment variable. The browser is started
with networking and background services switched off; the report makes no requests anyway.

Determinism: Chromium writes two things into the PDF that change from run to run: the time
of printing (``/CreationDate`` and ``/ModDate``) and, in the tagged structure that lets
screen readers read the PDF, element ids taken from the browser's internal node counter
(``/ID (node00000233)``). :func:`normalise_pdf` rewrites the dates to a fixed date (1 January
1970, the Unix epoch) and renumbers the ids 1, 2, 3, ... in their original order (so the
sorted id tree stays sorted), each in place at the same length, so every byte offset in the
cross-reference table still holds. The same report then gives the same PDF bytes with the
same Chromium version. Other Chromium versions lay out and compress pages differently, so
PDFs are comparable only between runs with the same browser.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scorecard_lib.core.errors import ExecutionError, InputError
from scorecard_lib.core.files import full_disk_reported, write_atomically

#: Where Debian's ``chromium`` package installs the browser.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ENV = "SCORECARD_CHROMIUM"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: Page margins. The top, left and right match ``@page`` in report.css; the bottom leaves
#: room for the footer with the page number.
MARGINS = {"top": "18mm", "right": "15mm", "bottom": "20mm", "left": "15mm"}
#: How long to wait for the page to load and print, in milliseconds.
TIMEOUT_MS = 120_000

#: Chromium writes dates as ``D:YYYYMMDDHHmmSS+HH'mm'``; this one has the same length.
FIXED_DATE = b"D:19700101000000+00'00'"
_DATE_ENTRY = re.compile(rb"/(CreationDate|ModDate)\s*\((D:[^)]*)\)")
_NODE_ID = re.compile(rb"\(node(\d+)\)")
_XMP_DATE = re.compile(rb"<(xmp:CreateDate|xmp:ModifyDate|xmp:MetadataDate)>([^<]*)</(?:xmp:\w+)>")

_FOOTER = (
    '<div style="width:100%;margin:0 15mm;font-family:Arial,Helvetica,sans-serif;'
    'font-size:8pt;color:#0b0c0c;display:flex;justify-content:space-between">'
    '<span class="title"></span>'
    '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span>'
    "</div>"
)


class PdfError(ExecutionError):
    """The PDF could not be written (no Chromium, or Chromium failed)."""


def find_chromium() -> str:
    """The Chromium to print with: ``$SCORECARD_CHROMIUM``, ``/usr/bin/chromium``, or a
    ``chromium`` on the ``PATH``. Raises :class:`PdfError` when there is none."""
    wanted = os.environ.get(CHROMIUM_ENV, "").strip()
    if wanted:
        if Path(wanted).is_file() and os.access(wanted, os.X_OK):
            return wanted
        raise PdfError(
            f"{CHROMIUM_ENV} names '{wanted}', which is not a program that can be run",
            fix=f"set {CHROMIUM_ENV} to the path of a Chromium browser, or unset it",
        )
    if os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "Chromium is needed to write the PDF and was not found",
        fix="install it (on Debian or Ubuntu: apt-get install chromium), or set "
        f"{CHROMIUM_ENV} to the browser's path",
    )


def _same_length(fixed: bytes, old: bytes) -> bytes:
    """``fixed`` cut or padded with spaces to the length of ``old``, so offsets hold."""
    return fixed[: len(old)].ljust(len(old), b" ")


def _fixed(match: re.Match[bytes]) -> bytes:
    old = match.group(2)
    new = _same_length(FIXED_DATE if len(old) >= len(b"D:19700101") else old, old)
    return match.group(0).replace(b"(" + old + b")", b"(" + new + b")")


def _fixed_xmp(match: re.Match[bytes]) -> bytes:
    tag, old = match.group(1), match.group(2)
    stamp = b"1970-01-01T00:00:00Z"
    new = _same_length(stamp, old) if len(old) >= len(stamp) else old
    return b"<" + tag + b">" + new + b"</" + tag + b">"


def normalise_pdf(data: bytes) -> bytes:
    """``data`` with the printing time replaced by a fixed date and the structure element
    ids numbered in order.

    Each string keeps its length, so the cross-reference table (byte offsets of every
    object) stays valid. Compressed streams are not touched: Chromium writes the document
    information and the structure tree uncompressed.
    """
    data = _DATE_ENTRY.sub(_fixed, data)
    data = _XMP_DATE.sub(_fixed_xmp, data)
    ids = sorted(set(_NODE_ID.findall(data)), key=int)
    rank = {old: str(n).zfill(len(old)).encode("ascii") for n, old in enumerate(ids, 1)}
    return _NODE_ID.sub(lambda m: b"(node" + rank[m.group(1)] + b")", data)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _print(html_path: Path, executable: str) -> bytes:
    """The PDF bytes, as Chromium prints them."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(html_path.as_uri(), wait_until="load")
            page.emulate_media(media="print")
            return page.pdf(
                format="A4",
                print_background=True,
                margin=MARGINS,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=_FOOTER,
                outline=True,
                tagged=True,
            )
        finally:
            browser.close()


def write_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print ``html_path`` (a built ``report.html``) to ``pdf_path`` as A4 pages.

    Returns ``pdf_path``. The folder of ``pdf_path`` is created if needed and the file is
    replaced only once the new PDF is complete. Raises :class:`InputError` when the report
    does not exist and :class:`PdfError` when Chromium is missing or fails.
    """
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path).resolve()
    if not html_path.is_file():
        raise InputError(
            f"There is no report at {html_path.name} to print",
            where=str(html_path.parent.name),
            fix="build the report first (scorecard run QUARTER), then write its PDF",
        )
    executable = find_chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError
    except ImportError as exc:  # pragma: no cover - playwright is a pinned dependency
        raise PdfError(
            "Writing a PDF needs the Python package playwright, which is not installed",
            fix="install the project's packages (make setup)",
        ) from exc

    try:
        if _loop_running():
            # Playwright's synchronous API refuses to run where an event loop is running (a
            # Jupyter kernel, or another Playwright session): print from a thread of its own.
            with ThreadPoolExecutor(max_workers=1) as pool:
                data = pool.submit(_print, html_path, executable).result()
        else:
            data = _print(html_path, executable)
    except PlaywrightError as exc:
        raise PdfError(
            f"Chromium could not print the report to PDF: {str(exc).splitlines()[0]}",
            where=str(executable),
            fix="check that Chromium starts on this machine (chromium --headless --version)",
        ) from exc
    with full_disk_reported(pdf_path.parent, "the PDF was not written"):
        return write_atomically(pdf_path, normalise_pdf(data))
