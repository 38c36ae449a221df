"""The built report, opened in a real browser: Debian's Chromium driven by Playwright.

Every sample quarter's report (built once per session by the ``built_quarters`` fixture in
``conftest.py``) is opened in one page of one browser. What the page shows is collected once
per report (:func:`inspect`) and the tests below each check one promise from issue 4:

* axe-core finds no violations of the WCAG 2.0, 2.1 and 2.2 A and AA rules;
* opening the report makes no request other than ``file:`` and ``data:`` and raises no error;
  it holds no script, so nothing in it needs JavaScript;
* every picture (inline ``<svg role="img">`` or ``<img>``) has a real text alternative;
* every contents link lands on an element, scrolled into view;
* one ``h1``, headings that never skip a level, a skip link that is the first thing the
  keyboard reaches;
* tables have a caption, one header row, ``scope`` on every header cell, no empty cells and
  right-aligned numbers; no list item or definition is left empty either;
* the page reflows at 320 px wide and at 200% zoom without scrolling sideways.

A screenshot of the top of each section is saved under ``test-artifacts/screenshots/QUARTER/``
for a person to look at; they are not compared pixel by pixel.

The tests skip only when ``/usr/bin/chromium`` is missing (CI installs it with apt).
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.inputs.locations import available_quarters
from scorecard_lib.report.pdf import CHROMIUM_ARGS, DEFAULT_CHROMIUM

CHROMIUM = Path(DEFAULT_CHROMIUM)
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP = {"width": 1280, "height": 900}
#: Widths at which the page must not scroll sideways: a small phone, and a 1280 px screen
#: zoomed to 200% (the same layout width in CSS pixels).
REFLOW_WIDTHS = (320, 640)
#: A text alternative shorter than this cannot say what a chart shows.
MIN_ALT = 40

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is not installed (apt-get install chromium); the browser tests "
        "need Debian's Chromium",
    ),
]

QUARTERS = [q.id for q in available_quarters()]


# --- what the page shows, collected once per report ----------------------------------------

# Run in the page. Each returns plain data; none changes the document.
JS_PICTURES = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.parentElement.closest('svg')) continue;  // parts of a drawing
    out.push({kind: 'svg', role: svg.getAttribute('role'),
              hidden: svg.getAttribute('aria-hidden'), text: svg.getAttribute('aria-label')});
  }
  for (const img of document.querySelectorAll('img')) {
    out.push({kind: 'img', role: img.getAttribute('role'), hidden: img.getAttribute('aria-hidden'),
              text: img.getAttribute('alt')});
  }
  return out;
}"""

JS_HEADINGS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .map(h => [Number(h.tagName[1]), h.textContent.trim().replace(/\\s+/g, ' ')])"""

JS_SCRIPTS = """() => ({
  scripts: document.querySelectorAll('script').length,
  handlers: [...document.querySelectorAll('*')].flatMap(
    el => [...el.attributes].filter(a => /^on/i.test(a.name)).map(a => el.tagName + ' ' + a.name)),
  javascriptUrls: [...document.querySelectorAll('[href^="javascript:" i]')].length,
})"""

# Follow every contents link as a reader would (the address changes to #id) and record where
# it lands: the :target element and where it is in the window.
JS_TOC = """() => {
  const out = [];
  for (const a of document.querySelectorAll('nav#contents a[href^="#"]')) {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    location.hash = id;
    const target = document.querySelector(':target');
    const element = document.getElementById(id);
    const box = element ? element.getBoundingClientRect() : null;
    out.push({href: a.getAttribute('href'), text: a.textContent.trim(), exists: !!element,
              isTarget: !!element && target === element,
              top: box ? box.top : null, height: box ? box.height : null,
              viewport: innerHeight,
              bottom: Math.ceil(scrollY + innerHeight) >=
                      document.documentElement.scrollHeight - 1});
  }
  history.replaceState(null, '', location.pathname);
  scrollTo(0, 0);
  return out;
}"""

JS_TABLES = """() => {
  const problems = [];
  let count = 0;
  for (const table of document.querySelectorAll('table')) {
    count += 1;
    const cap = table.querySelector(':scope > caption');
    const name = cap ? cap.textContent.trim() : '(table ' + count + ')';
    if (!cap || !name) problems.push(name + ': no caption');
    const headRows = table.querySelectorAll(':scope > thead > tr');
    if (headRows.length !== 1) problems.push(name + ': ' + headRows.length + ' header rows');
    for (const th of table.querySelectorAll('th')) {
      const scope = th.getAttribute('scope');
      const inHead = th.closest('thead') !== null;
      if (scope !== (inHead ? 'col' : 'row'))
        problems.push(name + ': header cell "' + th.textContent.trim() + '" has scope ' + scope);
    }
    for (const cell of table.querySelectorAll('td, th')) {
      if (!cell.textContent.trim()) problems.push(name + ': an empty cell');
    }
    for (const cell of table.querySelectorAll('.num')) {
      const align = getComputedStyle(cell).textAlign;
      if (align !== 'right') problems.push(name + ': a number aligned ' + align);
    }
  }
  for (const el of document.querySelectorAll('main dd, main dt, main li, main caption'))
    if (!el.textContent.trim()) problems.push('an empty ' + el.tagName.toLowerCase());
  return {count, problems};
}"""

JS_SECTIONS = """() => [...document.querySelectorAll('main section[aria-labelledby]')]
  .map(s => ({id: s.id || s.getAttribute('aria-labelledby'),
              heading: s.getAttribute('aria-labelledby')}))"""


@dataclass
class Seen:
    """Everything the tests need from one opened report."""

    quarter: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    axe: dict[str, Any] = field(default_factory=dict)
    pictures: list[dict[str, Any]] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    scripts: dict[str, Any] = field(default_factory=dict)
    toc: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    lang: str = ""
    first_tab: dict[str, Any] = field(default_factory=dict)
    after_skip: str = ""
    details_open: list[str] = field(default_factory=list)
    widths: dict[int, int] = field(default_factory=dict)
    screenshots: list[Path] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


def _open_and_inspect(browser: Any, quarter: str, report: Path) -> Seen:
    from axe_playwright_python.sync_playwright import Axe

    seen = Seen(quarter)
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    try:
        page = context.new_page()
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
        page.on(
            "console",
            lambda msg: (
                seen.errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.goto(report.as_uri(), wait_until="load")

        # Before anything is injected: the document as published.
        seen.scripts = page.evaluate(JS_SCRIPTS)
        seen.lang = page.evaluate("document.documentElement.lang")
        seen.pictures = page.evaluate(JS_PICTURES)
        seen.headings = [tuple(h) for h in page.evaluate(JS_HEADINGS)]
        seen.tables = page.evaluate(JS_TABLES)
        seen.details_open = page.evaluate(
            "() => [...document.querySelectorAll('details[open]')]"
            ".map(d => d.querySelector('summary').textContent.trim())"
        )

        # The keyboard: the first Tab reaches the skip link, shown on screen; Enter moves on
        # to the main content.
        page.keyboard.press("Tab")
        seen.first_tab = page.evaluate(
            """() => { const el = document.activeElement; const box = el.getBoundingClientRect();
              return {text: el.textContent.trim(), href: el.getAttribute('href'),
                      visible: box.width > 0 && box.left >= 0 && box.top >= 0
                               && box.right <= innerWidth}; }"""
        )
        page.keyboard.press("Enter")
        seen.after_skip = page.evaluate("document.activeElement.id")
        page.evaluate("() => { document.activeElement.blur(); scrollTo(0, 0); }")

        seen.toc = page.evaluate(JS_TOC)

        # Screenshots of the top of each section, at desktop width.
        folder = SCREENSHOTS / quarter
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for section in page.evaluate(JS_SECTIONS):
            name = re.sub(r"-title$", "", section["heading"])
            page.evaluate(
                "id => document.getElementById(id).scrollIntoView({block: 'start'})",
                section["heading"],
            )
            path = folder / f"{name}.png"
            page.screenshot(path=str(path))
            seen.screenshots.append(path)
        page.evaluate("scrollTo(0, 0)")

        # Accessibility rules, at desktop width.
        results = Axe().run(
            page,
            options={
                "runOnly": {"type": "tag", "values": AXE_TAGS},
                "resultTypes": ["violations"],
            },
        )
        seen.axe = results.response

        # Reflow: narrow the same page.
        for width in REFLOW_WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            seen.widths[width] = page.evaluate("document.documentElement.scrollWidth")
        page.close()
    finally:
        context.close()
    return seen


@pytest.fixture(scope="session")
def inspect(browser: Any, built_quarters: dict[str, Path]) -> Callable[[str], Seen]:
    """``inspect(quarter)``: the report for ``quarter``, opened once, as :class:`Seen`."""
    cache: dict[str, Seen] = {}

    def get(quarter: str) -> Seen:
        if quarter not in cache:
            report = built_quarters[quarter] / "report.html"
            assert report.is_file(), f"no report was built for {quarter}"
            cache[quarter] = _open_and_inspect(browser, quarter, report)
        return cache[quarter]

    return get


# --- the tests ---------------------------------------------------------------------------


def _axe_summary(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:3]]
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} -> {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_axe_finds_no_wcag_a_or_aa_violations(inspect: Callable[[str], Seen], quarter: str) -> None:
    seen = inspect(quarter)
    violations = seen.axe["violations"]
    assert not violations, _axe_summary(violations)
    assert seen.axe["testEngine"]["name"] == "axe-core"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_no_network_requests_and_no_errors(inspect: Callable[[str], Seen], quarter: str) -> None:
    seen = inspect(quarter)
    assert seen.requests, "the report itself was not requested: did the page load?"
    outside = [url for url in seen.requests if not url.startswith(("file:", "data:"))]
    assert outside == []
    assert seen.errors == []


@pytest.mark.parametrize("quarter", QUARTERS)
def test_nothing_needs_javascript(inspect: Callable[[str], Seen], quarter: str) -> None:
    scripts = inspect(quarter).scripts
    assert scripts == {"scripts": 0, "handlers": [], "javascriptUrls": 0}


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_picture_has_real_alt_text(inspect: Callable[[str], Seen], quarter: str) -> None:
    pictures = inspect(quarter).pictures
    assert pictures, "the report has no charts"
    for picture in pictures:
        if picture["hidden"] == "true":
            continue
        text = " ".join((picture["text"] or "").split())
        assert picture["kind"] == "img" or picture["role"] == "img", picture
        assert len(text) >= MIN_ALT, f"{picture['kind']} with too short a description: {text!r}"
        assert not re.search(r"no text description was supplied|^image$|^chart$", text, re.I)
        # says what a sighted reader takes from it: figures, not just a title
        assert re.search(r"\d", text), text


@pytest.mark.parametrize("quarter", QUARTERS)
def test_every_contents_link_lands_on_an_element(
    inspect: Callable[[str], Seen], quarter: str
) -> None:
    toc = inspect(quarter).toc
    assert len(toc) >= 8  # the sections, the appendix pages and the red indicators
    for link in toc:
        assert link["exists"], f"{link['text']!r} points at {link['href']}, which is not there"
        assert link["isTarget"], link
        assert link["height"] > 0, f"{link['href']} is not shown"
        # scrolled to the top of the window, or as far as the page goes
        assert -2 <= link["top"] < link["viewport"], link
        assert link["top"] < 5 or link["bottom"], link


@pytest.mark.parametrize("quarter", QUARTERS)
def test_contents_link_every_section_and_every_red_indicator(
    inspect: Callable[[str], Seen], quarter: str
) -> None:
    from scorecard_lib.present.sections import load_scorecard

    hrefs = {link["href"] for link in inspect(quarter).toc}
    board = load_scorecard(quarter).board
    for section in board["section"].unique():
        assert f"#{section}" in hrefs
    for indicator in board.loc[board["rating"] == "Red", "indicator_id"]:
        assert f"#ind-{indicator}" in hrefs, indicator
    for page in ("provenance-title", "abbreviations-title", "accessibility-title"):
        assert f"#{page}" in hrefs


@pytest.mark.parametrize("quarter", QUARTERS)
def test_headings_language_and_skip_link(inspect: Callable[[str], Seen], quarter: str) -> None:
    seen = inspect(quarter)
    assert seen.lang == "en-GB"
    levels = [level for level, _text in seen.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    for (before, text_before), (after, text_after) in zip(
        seen.headings, seen.headings[1:], strict=False
    ):
        assert after <= before + 1, f"h{before} {text_before!r} then h{after} {text_after!r}"
    assert all(text for _level, text in seen.headings), "an empty heading"
    assert seen.first_tab == {"text": "Skip to main content", "href": "#main", "visible": True}
    assert seen.after_skip == "main"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_tables_are_simple_and_complete(inspect: Callable[[str], Seen], quarter: str) -> None:
    tables = inspect(quarter).tables
    assert tables["count"] > 5
    assert tables["problems"] == []


@pytest.mark.parametrize("quarter", QUARTERS)
def test_code_and_chart_data_start_collapsed(inspect: Callable[[str], Seen], quarter: str) -> None:
    assert inspect(quarter).details_open == []


@pytest.mark.parametrize("quarter", QUARTERS)
def test_reflows_at_320_px_and_200_percent_zoom(
    inspect: Callable[[str], Seen], quarter: str
) -> None:
    widths = inspect(quarter).widths
    for width in REFLOW_WIDTHS:
        assert widths[width] <= width + 1, f"the page scrolls sideways at {width} px wide"


@pytest.mark.parametrize("quarter", QUARTERS)
def test_screenshots_of_each_section_are_saved(
    inspect: Callable[[str], Seen], quarter: str
) -> None:
    shots = inspect(quarter).screenshots
    names = {path.stem for path in shots}
    assert {"overview", "appendix", "accessibility"} <= names, names
    for path in shots:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


# --- the archive page (archive_index.py) -------------------------------------------------------


@pytest.fixture(scope="session")
def archive_page(browser: Any, sample_archive: Path) -> Seen:
    """The archive page over ``sample_archive`` (conftest.py), opened once."""
    from scorecard_lib.publish.archive_index import write_archive_index

    return _open_and_inspect(browser, "archive", write_archive_index(sample_archive))


def test_archive_page_axe_finds_no_wcag_a_or_aa_violations(archive_page: Seen) -> None:
    violations = archive_page.axe["violations"]
    assert not violations, _axe_summary(violations)
    assert archive_page.axe["testEngine"]["name"] == "axe-core"


def test_archive_page_loads_nothing_else_and_needs_no_javascript(archive_page: Seen) -> None:
    assert archive_page.requests
    assert [u for u in archive_page.requests if not u.startswith(("file:", "data:"))] == []
    assert archive_page.errors == []
    assert archive_page.scripts == {"scripts": 0, "handlers": [], "javascriptUrls": 0}


def test_archive_page_headings_tables_pictures_and_reflow(archive_page: Seen) -> None:
    levels = [level for level, _text in archive_page.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1
    assert archive_page.lang == "en-GB"
    assert archive_page.first_tab["text"] == "Skip to main content"
    assert archive_page.after_skip == "main"
    assert archive_page.tables["count"] >= 2 and archive_page.tables["problems"] == []
    pictures = [p for p in archive_page.pictures if p["hidden"] != "true"]
    assert len(pictures) == 1 and pictures[0]["role"] == "img"
    assert len(pictures[0]["text"]) >= MIN_ALT and re.search(r"\d", pictures[0]["text"])
    for link in archive_page.toc:
        assert link["exists"] and link["isTarget"], link
    for width in REFLOW_WIDTHS:
        assert archive_page.widths[width] <= width + 1, f"scrolls sideways at {width} px"
