"""The facade's outputs arrive in the report's final markup, so assembly lays them out as they
are: every call in the section notebooks, placed where the notebooks place it, comes through
the assembly's reading (``html_clean.fit_output``) unchanged, with headings that never skip a
level and ids that are unique in the report."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from bs4 import BeautifulSoup

from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.present.sections import Scorecard, load_scorecard
from scorecard_lib.report import notebook_markdown
from scorecard_lib.report.assemble import TEMPLATE_IDS
from scorecard_lib.report.html_clean import fit_output
from scorecard_lib.report.outline import IdRegistry, SectionOutline
from scorecard_lib.report.word import Part, paper_parts

#: Quarters with red risks, red indicators with and without an update, commentary in every
#: section and overridden ratings between them.
QUARTERS = ("2016-17-Q3", "2016-17-Q4")
#: Calls that draw charts: checked once, slowly (the charts' markup has no headings or ids).
DRAWING = frozenset({"trends", "breakdowns", "risk_heatmap", "rag_chart", "theme_chart"})


def _laid_out(sc: Scorecard, parts: list[Part], *, draw: bool) -> list[tuple[str, str, str]]:
    """Each section's parts as assembly meets them: ``(section, call, HTML)`` for every facade
    output, after the Markdown before it has moved the outline on. Fails if assembly would
    change an output."""
    ids = IdRegistry([*TEMPLATE_IDS, *SECTIONS])
    shown: list[tuple[str, str, str]] = []
    outline: SectionOutline | None = None
    for part in parts:
        if outline is None or outline.name != part.section:
            title = notebook_markdown.parse_title_cell(part.markdown)
            assert title is not None, part
            outline = SectionOutline(part.section, title.text, ids)
            notebook_markdown.render_rest_of_title_cell(title, outline)
            continue
        if part.call is None:
            notebook_markdown.render(part.markdown, outline)
            continue
        name, args, kwargs = part.call
        if name in DRAWING and not draw:
            continue
        fragment = getattr(sc, name)(*args, **kwargs)._repr_html_()
        where = f"{part.section}: sc.{name}{args}"
        assert fit_output(fragment, outline, where=where) == fragment, where
        shown.append((part.section, name, fragment))
    return shown


@pytest.fixture(scope="module", params=QUARTERS)
def scorecard(request: pytest.FixtureRequest) -> Scorecard:
    return load_scorecard(request.param)


def _headings(fragment: str) -> list[int]:
    soup = BeautifulSoup(fragment, "html.parser")
    return [int(h.name[1]) for h in soup.find_all(re.compile(r"^h[1-6]$"))]


def test_outputs_come_at_their_level_and_are_laid_out_as_they_are(scorecard: Scorecard) -> None:
    shown = _laid_out(scorecard, paper_parts(), draw=False)
    levels: dict[tuple[str, str], list[int]] = {}
    for section, name, fragment in shown:
        levels.setdefault((section, name), []).extend(_headings(fragment))
    # the headings the library writes, at the levels the report shows them
    assert set(levels[("overview", "implications")]) == {4}
    exceptions = levels[("overview", "exceptions")]
    assert exceptions[0] == 4 and set(exceptions) == {4, 5}
    for section in ("childrens_services", "adult_care", "workforce"):
        assert set(levels[(section, "commentary")]) <= {4}
    assert set(levels[("appendix", "commentary")]) <= {5}
    assert set(levels[("corporate_risk", "red_risks")]) <= {4, 5}
    # something was written at each level this quarter
    assert any(levels[(s, "commentary")] for s in ("childrens_services", "adult_care", "workforce"))


def test_every_table_is_in_its_labelled_scroll_box(scorecard: Scorecard) -> None:
    for _section, name, fragment in _laid_out(scorecard, paper_parts(), draw=False):
        for table in BeautifulSoup(fragment, "html.parser").find_all("table"):
            box = table.parent
            assert "table-wrap" in box.get("class", []), name
            assert box["role"] == "region" and box["tabindex"] == "0"
            assert box["aria-label"] == " ".join(table.caption.get_text().split())


@pytest.mark.slow
def test_charts_are_images_with_alt_text_and_a_data_table() -> None:
    sc = load_scorecard(QUARTERS[-1])
    shown = _laid_out(sc, paper_parts(), draw=True)
    figures: list[Any] = []
    for _section, name, fragment in shown:
        if name in DRAWING:
            figures += BeautifulSoup(fragment, "html.parser").find_all("figure")
    assert len(figures) > 10
    for figure in figures:
        assert figure.find("svg") is None
        (image,) = figure.find_all("img")
        assert image["src"].startswith("data:image/svg+xml;base64,")
        assert len(image["alt"]) > 40 and re.search(r"\d", image["alt"])
        title = figure.figcaption.get_text()
        assert figure.details.summary.get_text() == f"Data behind this chart: {title}"
        assert figure.details.find("table").caption.get_text() == title


def test_ids_are_made_once_and_unique_in_the_report(scorecard: Scorecard) -> None:
    ids: list[str] = []
    for _section, _name, fragment in _laid_out(scorecard, paper_parts(), draw=False):
        ids += [tag["id"] for tag in BeautifulSoup(fragment, "html.parser").find_all(id=True)]
    assert ids and len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(ind|risk|implications)-[A-Za-z0-9-]+", i) for i in ids), ids


def test_a_facade_output_can_be_asked_for_at_another_level(scorecard: Scorecard) -> None:
    deeper = scorecard.exceptions(level=5)._repr_html_()
    levels = _headings(deeper)
    assert levels and set(levels) == {5, 6}
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1
