"""Report assembly: one accessible, self-contained, byte-deterministic HTML document."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scorecard_lib.core.errors import ExecutionError, InputError
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.report.assemble import build_report, mark_abbreviations, report_css
from scorecard_lib.report.html_clean import fit_output
from scorecard_lib.report.outline import IdRegistry, SectionOutline, TocEntry

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n-not-really-a-png-").decode("ascii")
SHA = hashlib.sha256(b"values").hexdigest()

# An inline chart shaped like the library's: namespaced <svg>, ids referenced by url(#...).
SVG_CHART = (
    '<figure class="chart">\n<figcaption>Looked after children, trend</figcaption>\n'
    '<svg role="img" aria-label="Line chart of looked after children" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" width="432pt" height="187pt" '
    'viewBox="0 0 432 187" xmlns="http://www.w3.org/2000/svg" version="1.1">'
    '<defs><clipPath id="trend-lac-p1"><rect x="0" y="0" width="10" height="10"/></clipPath>'
    "</defs>"
    '<g clip-path="url(#trend-lac-p1)"><path d="M 0 0 L 10 10"/></g></svg>\n'
    "<details><summary>Data behind this chart</summary>\n"
    '<table class="data">\n<caption>Looked after children, trend</caption>\n'
    '<thead><tr><th scope="col">Quarter</th><th scope="col" class="num">Value</th></tr></thead>'
    '\n<tbody>\n<tr><th scope="row">2016/17 Q4</th><td class="num">66.3</td></tr>\n</tbody>\n'
    "</table>\n</details>\n</figure>"
)

HEADLINE = (
    '<div class="exceptions">\n'
    '<div class="headline toc-entry" id="ind-CF01" data-toc="Looked after children">\n'
    '<h4>Looked after children <span class="rag rag-red"><span aria-hidden="true">✖</span> '
    "Red</span></h4>\n"
    '<ul class="facts"><li>The rate has increased to 66.3 per 10,000 children.</li></ul>\n'
    '<div class="commentary"><h5>Commentary</h5><p>Officers&#x27; commentary.</p></div>\n'
    "</div>\n</div>"
)


def html_output(fragment: str, kind: str = "display_data") -> nbformat.NotebookNode:
    data = {"text/html": fragment, "text/plain": "<Html>"}
    if kind == "execute_result":
        return new_output(kind, data=data, execution_count=1)
    return new_output(kind, data=data)


def parameters_cell(tag: str = "parameters") -> nbformat.NotebookNode:
    return new_code_cell(
        'quarter = "2016-17-Q4"  # PARAMETER_SOURCE_MARKER\n', metadata={"tags": [tag]}
    )


def overview() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Overview\n\nHow the Council did this quarter. <script src=x.js></script>"
                " <b>not bold</b>\n\n### A heading that would skip a level"
            ),
            parameters_cell(),
            parameters_cell("injected-parameters"),
            new_code_cell(
                "sc.summary()  # SUMMARY_SOURCE_MARKER",
                outputs=[
                    html_output(
                        '<p class="summary-sentence">There are 45 indicators.</p>',
                        "execute_result",
                    )
                ],
            ),
            new_markdown_cell("## Ratings\n\n| Rating | Count |\n|---|---:|\n| Red | 10 |"),
            new_code_cell(
                "show_png()",
                outputs=[
                    new_output(
                        "display_data",
                        data={"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"},
                        metadata={"image/png": {"alt": "Bar chart of ratings", "width": 320}},
                    ),
                    new_output("display_data", data={"image/png": PNG}),
                ],
            ),
            new_code_cell(
                "print('done')",
                outputs=[
                    new_output("stream", name="stdout", text="STDOUT_SHOWN\n"),
                    new_output("stream", name="stderr", text="STDERR_HIDDEN warning\n"),
                ],
            ),
            new_code_cell(
                "plt.plot()",
                outputs=[
                    html_output('<script src="https://cdn.example/x.js"></script><p>kept</p>'),
                    new_output(
                        "execute_result",
                        data={"text/plain": "[<matplotlib.lines.Line2D at 0x7f3a9c0b2d10>]"},
                        execution_count=2,
                    ),
                ],
            ),
            new_code_cell("secret()  # REMOVED_SOURCE_MARKER", metadata={"tags": ["remove"]}),
        ]
    )


def childrens_services() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# Children's services\n\nChildren in care and child protection."),
            parameters_cell(),
            new_markdown_cell("## Red indicators with an update this quarter"),
            new_code_cell(
                'sc.exceptions("childrens_services")  # EXCEPTIONS_SOURCE_MARKER',
                outputs=[html_output(HEADLINE)],
            ),
            new_markdown_cell("## Trends"),
            new_code_cell("sc.trends()", outputs=[html_output(SVG_CHART)]),
        ]
    )


def workforce() -> nbformat.NotebookNode:
    """Repeats ids already used elsewhere: the chart (same id prefix) and a toc entry."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Workforce\n\n## Red indicators"),
            new_code_cell(
                "sc.exceptions('workforce')",
                outputs=[
                    html_output(
                        '<div class="headline toc-entry" id="ind-CF01" data-toc="Sickness">'
                        '<h4>Sickness</h4><p><a href="#ind-CF01">this block</a></p></div>'
                        '<div class="headline toc-entry" id="overview" data-toc="Appraisals">'
                        "<h4>Appraisals</h4></div>"
                    )
                ],
            ),
            new_code_cell("sc.trends('workforce')", outputs=[html_output(SVG_CHART)]),
        ]
    )


PROVENANCE = {
    "quarter": "2016-17-Q4",
    "parameters": {"quarter": "2016-17-Q4", "data_dir": "data"},
    "inputs": [{"path": "data/values.csv", "sha256": SHA}],
    "code_version": {
        "package_version": "0.1.0",
        "source_sha256": SHA[::-1],
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "git_dirty": False,
    },
    "environment": {"python": "3.11.9", "packages": {"pandas": "3.1.1", "nbformat": "5.11.1"}},
    "command": ["scorecard", "run", "2016-17-Q4"],
}


def build(**changes: object) -> str:
    kwargs: dict[str, object] = {
        "title": "Corporate Balanced Scorecard",
        "quarter_prose": "Quarter Four 2016/17",
        "council": "Worcestershire County Council",
        "provenance": PROVENANCE,
        "notice": "This report is built from an illustrative sample dataset. Only the figures "
        "published in the Cabinet report for Quarter Four 2016/17 are real.",
    }
    kwargs.update(changes)
    notebooks = kwargs.pop(
        "notebooks",
        [
            ("overview", overview()),
            ("childrens_services", childrens_services()),
            ("workforce", workforce()),
        ],
    )
    return build_report(notebooks, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def report() -> str:
    return build()


@pytest.fixture(scope="module")
def soup(report: str) -> BeautifulSoup:
    return BeautifulSoup(report, "html.parser")


def body_outside_code(soup: BeautifulSoup) -> str:
    copy = BeautifulSoup(str(soup), "html.parser")
    for details in copy.select("details.code"):
        details.decompose()
    return str(copy)


# --- document structure -------------------------------------------------------------------


def test_document_language_title_and_head(soup: BeautifulSoup, report: str) -> None:
    assert report.startswith("<!DOCTYPE html>\n")
    assert soup.html["lang"] == "en-GB"
    assert soup.find("meta", charset="utf-8") is not None
    assert soup.find("meta", attrs={"name": "viewport"}) is not None
    assert soup.title.string == "Corporate Balanced Scorecard — Quarter Four 2016/17"
    assert soup.find("style") is not None


def test_exactly_one_h1(soup: BeautifulSoup) -> None:
    h1s = soup.find_all("h1")
    assert len(h1s) == 1
    assert h1s[0].get_text() == "Corporate Balanced Scorecard: Quarter Four 2016/17"


def test_heading_levels_never_skip(soup: BeautifulSoup) -> None:
    levels = [int(h.name[1]) for h in soup.find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels


def test_sections_have_h2_with_section_id(soup: BeautifulSoup) -> None:
    for name, title in (
        ("overview", "Overview"),
        ("childrens_services", "Children's services"),
        ("workforce", "Workforce"),
    ):
        heading = soup.find(id=name)
        assert heading.name == "h2"
        assert heading.get_text() == title
        assert heading.parent.name == "section"
        assert heading.parent["aria-labelledby"] == name
    # markdown "##" becomes h3, "###" straight after the title is lifted to h3
    overview_section = soup.find(id="overview").parent
    assert [h.get_text() for h in overview_section.find_all("h3")] == [
        "A heading that would skip a level",
        "Ratings",
    ]


def test_skip_link_is_first_focusable_and_targets_main(soup: BeautifulSoup) -> None:
    first = soup.body.find(["a", "button", "summary", "input"])
    assert first.get_text() == "Skip to main content"
    assert first["href"] == "#main"
    assert soup.find("main")["id"] == "main"


def test_header_names_council_and_sample_data(soup: BeautifulSoup) -> None:
    header = soup.find("header").get_text(" ")
    assert "Worcestershire County Council" in header
    assert "illustrative sample dataset" in header
    assert "Quarter Four 2016/17 are real" in header


def test_no_notice_when_the_data_has_none() -> None:
    header = BeautifulSoup(build(notice=""), "html.parser").find("header")
    assert "illustrative" not in header.get_text(" ")


def test_provenance_and_accessibility_after_sections(soup: BeautifulSoup) -> None:
    sections = soup.find("main").find_all("section", recursive=False)
    # abbreviations, accessibility, then the short provenance block last
    assert [s.get("aria-labelledby") for s in sections][-3:] == [
        "abbreviations-title",
        "accessibility-title",
        "provenance-title",
    ]
    assert sections[-1]["id"] == "provenance"
    assert [s.find(re.compile("^h[1-6]$")).name for s in sections[-3:]] == ["h2", "h2", "h2"]
    text = sections[-2].get_text(" ")
    assert "WCAG" in text and "2.2" in text and "colour alone" in text
    assert "Accessibility statement" in text and "Enforcement procedure" in text


def appendix() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# Appendix\n\n## Full dashboard of indicators"),
            new_code_cell("sc.dashboard_table()", outputs=[html_output("<p>The dashboard.</p>")]),
        ]
    )


def test_template_pages_sit_inside_a_final_appendix() -> None:
    doc = BeautifulSoup(
        build(notebooks=[("overview", overview()), ("appendix", appendix())]), "html.parser"
    )
    main_sections = doc.find("main").find_all("section", recursive=False)
    assert [s["aria-labelledby"] for s in main_sections] == ["overview", "appendix"]
    inner = main_sections[-1].find_all("section", recursive=False)
    assert [s["id"] for s in inner] == ["abbreviations", "accessibility", "provenance"]
    for s in inner:  # under the appendix's h2, with the appendix's own h3s
        assert s.find(re.compile("^h[1-6]$")).name == "h3"
    levels = [int(h.name[1]) for h in doc.find_all(re.compile(r"^h[1-6]$"))]
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels
    # the contents lists them under the appendix
    items = doc.find("nav").ol.find_all("li", recursive=False)
    assert [li.a.get_text() for li in items] == ["Overview", "Appendix"]
    assert [a["href"] for a in items[-1].ul.find_all("a")] == [
        "#abbreviations-title",
        "#accessibility-title",
        "#provenance-title",
    ]


def test_footer_has_no_timestamp(soup: BeautifulSoup) -> None:
    footer = soup.find("footer").get_text(" ")
    assert not re.search(r"\d{1,2}:\d{2}|\b20\d\d-\d\d-\d\d\b", footer)


# --- contents -----------------------------------------------------------------------------


def test_every_toc_link_target_exists(soup: BeautifulSoup) -> None:
    nav = soup.find("nav", attrs={"aria-label": "Contents"})
    links = nav.find_all("a")
    assert links
    for link in links:
        assert soup.find(id=link["href"][1:]) is not None, link["href"]
    # every internal link in the whole document points at something
    for link in soup.find_all("a", href=re.compile("^#")):
        assert soup.find(id=link["href"][1:]) is not None, link["href"]


def test_toc_lists_sections_and_toc_entries(soup: BeautifulSoup) -> None:
    nav = soup.find("nav", attrs={"aria-label": "Contents"})
    top = [li.a.get_text() for li in nav.ol.find_all("li", recursive=False)]
    assert top[:3] == ["Overview", "Children's services", "Workforce"]
    items = nav.ol.find_all("li", recursive=False)
    nested = [(a.get_text(), a["href"]) for a in items[1].ul.find_all("a")]
    assert nested == [("Looked after children", "#ind-CF01")]
    workforce_links = [(a.get_text(), a["href"]) for a in items[2].ul.find_all("a")]
    assert workforce_links == [("Sickness", "#ind-CF01-2"), ("Appraisals", "#overview-2")]


def test_ids_unique_and_references_follow_renames(soup: BeautifulSoup) -> None:
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    # the second chart's clip path id was renamed and its url(#...) followed it
    clips = [c["id"] for c in soup.find_all("clippath")]
    assert clips == ["trend-lac-p1", "trend-lac-p1-2"]
    workforce = soup.find(id="workforce").parent
    assert workforce.find("g")["clip-path"] == "url(#trend-lac-p1-2)"
    assert workforce.find("a", string="this block")["href"] == "#ind-CF01-2"


# --- self-contained and safe ----------------------------------------------------------------


def test_no_external_urls_or_scripts(report: str) -> None:
    assert "http://" not in report
    assert "https://" not in report
    assert "<script" not in report.lower()
    assert "<link" not in report.lower()
    assert "<p>kept</p>" in report


def test_no_absolute_paths(report: str) -> None:
    assert str(PROJECT_ROOT) not in report
    assert "/tmp/" not in report


def test_raw_html_in_markdown_is_escaped(report: str) -> None:
    assert "&lt;script src=x.js&gt;&lt;/script&gt;" in report
    assert "&lt;b&gt;not bold&lt;/b&gt;" in report
    assert "<b>not bold</b>" not in report


def test_output_loading_external_resource_is_refused() -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Overview"),
            new_code_cell(
                "x", outputs=[html_output('<img src="https://example.org/a.png" alt="a">')]
            ),
        ]
    )
    with pytest.raises(InputError, match="outside the report"):
        build(notebooks=[("overview", nb)])


def test_markdown_images_are_not_loaded_unless_embedded() -> None:
    cell = new_markdown_cell(
        "# Overview\n\n![A remote map](https://example.org/map.png)\n\n![Local](attachment:a.png)"
    )
    cell["attachments"] = {"a.png": {"image/png": PNG}}
    out = build(notebooks=[("overview", new_notebook(cells=[cell]))])
    assert "example.org" not in out
    assert "Image not included in this report: A remote map" in out
    assert f'<img src="data:image/png;base64,{PNG}" alt="Local">' in out


# --- code and outputs -----------------------------------------------------------------------


def test_code_only_inside_details(soup: BeautifulSoup, report: str) -> None:
    outside = body_outside_code(soup)
    for marker in ("SUMMARY_SOURCE_MARKER", "EXCEPTIONS_SOURCE_MARKER", "PARAMETER_SOURCE_MARKER"):
        assert marker not in outside
    code = " ".join(d.get_text() for d in soup.select("details.code"))
    assert "SUMMARY_SOURCE_MARKER" in code
    assert "EXCEPTIONS_SOURCE_MARKER" in code
    # the default parameters are listed for reviewers, papermill's injected cell is not
    assert code.count("PARAMETER_SOURCE_MARKER") == 2
    assert "REMOVED_SOURCE_MARKER" not in report
    for details in soup.select("details.code"):
        assert not details.has_attr("open")
        assert details.summary.get_text().startswith("Show the code behind this section")


def test_outputs_chosen_sensibly(soup: BeautifulSoup, report: str) -> None:
    outside = body_outside_code(soup)
    assert "STDOUT_SHOWN" in outside
    assert "STDERR_HIDDEN" not in report
    assert "0x7f3a9c0b2d10" not in report  # object reprs with addresses are dropped
    assert "Figure size 640x480" not in report  # text/plain ignored when an image exists
    assert '<p class="summary-sentence">There are 45 indicators.</p>' in report


def test_images_have_alt_text(soup: BeautifulSoup) -> None:
    images = soup.find_all("img")
    assert len(images) == 2
    assert images[0]["alt"] == "Bar chart of ratings"
    assert images[0]["width"] == "320"
    assert images[0]["src"].startswith("data:image/png;base64,")
    assert "Overview" in images[1]["alt"]
    for svg in soup.find_all("svg"):
        assert svg.get("role") == "img" and svg.get("aria-label")


def test_tables_wrapped_in_labelled_scroll_region(soup: BeautifulSoup) -> None:
    tables = soup.find_all("table")
    assert tables
    for table in tables:
        wrap = table.parent
        assert "table-wrap" in wrap.get("class", []), table
        assert wrap["role"] == "region" and wrap["tabindex"] == "0" and wrap["aria-label"]
    chart_table = soup.find("caption", string="Looked after children, trend").parent
    assert chart_table.parent["aria-label"] == "Looked after children, trend"
    md_table = soup.find(id="overview").parent.find("table")
    assert md_table["class"] == ["data"]
    assert md_table.parent["aria-label"] == "Table in the Overview section"


def test_error_output_stops_the_build() -> None:
    error = new_output("error", ename="KeyError", evalue="'CF01'", traceback=["..."])
    nb = new_notebook(cells=[new_markdown_cell("# Overview"), new_code_cell("x", outputs=[error])])
    with pytest.raises(ExecutionError, match="KeyError"):
        build(notebooks=[("overview", nb)])
    nb.cells[1].metadata["tags"] = ["raises-exception"]
    assert "KeyError" not in body_outside_code(
        BeautifulSoup(build(notebooks=[("overview", nb)]), "html.parser")
    )


def test_notebook_without_title_is_refused() -> None:
    nb = new_notebook(cells=[new_markdown_cell("## Not a title"), new_code_cell("x")])
    with pytest.raises(InputError, match="title"):
        build(notebooks=[("overview", nb)])


@pytest.mark.parametrize("names", [("overview", "overview"), ("main",), ("two words",)])
def test_bad_section_names_are_refused(names: tuple[str, ...]) -> None:
    nb = new_notebook(cells=[new_markdown_cell("# Title")])
    with pytest.raises(ValueError):
        build(notebooks=[(n, nb) for n in names])


# --- provenance -----------------------------------------------------------------------------


def test_provenance_is_readable_with_short_hashes(soup: BeautifulSoup, report: str) -> None:
    section = soup.find(id="provenance")
    text = section.get_text(" ")
    assert SHA[:12] in text
    assert SHA not in report
    assert "data/values.csv" in text
    assert "0123456789ab" in text and "0123456789abcdef0123" not in report
    assert SHA[::-1][:12] in text and SHA[::-1] not in report
    assert "Uncommitted changes to the code" in text
    assert "scorecard run 2016-17-Q4" in text
    assert "pandas" in text and "3.1.1" in text
    labels = [dt.get_text() for dt in section.select("dl.provenance > dt")]
    assert labels[:3] == ["Quarter", "Parameters", "Input files"]


# --- determinism ----------------------------------------------------------------------------


def test_same_input_gives_identical_output(report: str) -> None:
    assert build() == report
    reordered = dict(reversed(list(PROVENANCE.items())))
    reordered["environment"] = {
        "packages": {"nbformat": "5.11.1", "pandas": "3.1.1"},
        "python": "3.11.9",
    }
    assert build(provenance=reordered) == report


def test_notebooks_read_from_disk_give_the_same_output(tmp_path, report: str) -> None:
    notebooks = []
    for name, nb in (
        ("overview", overview()),
        ("childrens_services", childrens_services()),
        ("workforce", workforce()),
    ):
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        notebooks.append((name, nbformat.read(path, as_version=4)))
    assert build(notebooks=notebooks) == report


# --- style sheet ----------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_css_badges_pass_contrast_and_css_is_self_contained() -> None:
    css = report_css()
    badges = dict(re.findall(r"\.(rag-[a-z]+) \{ background-color: (#[0-9a-f]{6}); \}", css))
    assert set(badges) == {"rag-green", "rag-amber", "rag-red", "rag-notrated", "rag-nodata"}
    for name, colour in badges.items():
        assert _contrast(colour, "#ffffff") >= 4.5, name
    for colour in re.findall(r"\.code-source [^{]+\{ color: (#[0-9a-f]{6})", css):
        assert _contrast(colour, "#f8f8f8") >= 4.5, colour
    assert "http" not in css and "@import" not in css
    assert "@media print" in css and "@page" in css
    assert ":focus-visible" in css


def test_long_mappings_and_paths_in_provenance() -> None:
    from pathlib import PurePosixPath

    packages = {f"package{n:02d}": f"1.{n}" for n in range(12)}
    out = build(
        provenance={
            "environment": {"python": "3.11.9", "packages": packages},
            "notebook": PurePosixPath("notebooks/overview.ipynb"),
        }
    )
    section = BeautifulSoup(out, "html.parser").find(id="provenance")
    details = section.find("details")
    assert details.summary.get_text() == "Packages (12)"
    rows = [tr.th.get_text() for tr in details.tbody.find_all("tr")]
    assert rows == sorted(packages)
    assert "notebooks/overview.ipynb" in section.get_text()


def test_toc_entry_without_data_toc_uses_its_heading() -> None:
    block = '<div class="toc-entry" id="risk-CR01"><h4>Serious harm</h4><p>Text</p></div>'
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Corporate risk"),
            new_code_cell("x", outputs=[html_output(block)]),
        ]
    )
    soup = BeautifulSoup(build(notebooks=[("corporate_risk", nb)]), "html.parser")
    link = soup.find("nav").find("a", href="#risk-CR01")
    assert link.get_text() == "Serious harm"
    # the h4 straight after the section's h2 is lifted to h3
    assert soup.find("h3").get_text() == "Serious harm"


def test_error_in_any_cell_stops_the_build() -> None:
    error = new_output("error", ename="ValueError", evalue="bad", traceback=[])
    hidden = new_code_cell("x", outputs=[error], metadata={"tags": ["remove-output"]})
    nb = new_notebook(cells=[new_markdown_cell("# Overview"), hidden])
    with pytest.raises(ExecutionError, match="cell 2"):
        build(notebooks=[("overview", nb)])


def test_output_headings_nest_under_the_markdown_heading_they_follow() -> None:
    commentary = '<div class="commentary"><h4>Sickness</h4><h5>Actions</h5></div>'
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Overview\n\n## Economy"),
            new_code_cell("a", outputs=[html_output(commentary)]),
            new_markdown_cell("### Other commentary"),
            new_code_cell("b", outputs=[html_output(commentary)]),
            new_markdown_cell("## Next part\n\n#### Too deep"),
        ]
    )
    soup = BeautifulSoup(build(notebooks=[("overview", nb)]), "html.parser")
    section = soup.find(id="overview").parent
    headings = [(h.name, h.get_text()) for h in section.find_all(re.compile(r"^h[2-6]$"))]
    assert headings == [
        ("h2", "Overview"),
        ("h3", "Economy"),
        ("h4", "Sickness"),
        ("h5", "Actions"),
        ("h4", "Other commentary"),
        ("h5", "Sickness"),
        ("h6", "Actions"),
        ("h3", "Next part"),
        ("h4", "Too deep"),
    ]


def test_short_hashes_from_the_manifest_are_shown_as_given() -> None:
    out = build(provenance={"inputs": [{"path": "data/values.csv", "sha256": SHA[:12]}]})
    cell = BeautifulSoup(out, "html.parser").find(id="provenance").find("tbody").find_all("td")
    assert [c.get_text() for c in cell] == ["data/values.csv", SHA[:12]]


# --- abbreviations ------------------------------------------------------------------------


def test_abbreviations_are_spelled_out_where_first_used() -> None:
    words = {"FTE": "full-time equivalent", "GVA": "gross value added", "NEET": "not in work"}
    doc = (
        "<!DOCTYPE html><html><head><title>FTE</title></head><body>"
        "<nav><a href='#a'>Sickness per person (FTE)</a></nav><main>"
        "<section><h4>Sickness per person (FTE)</h4><p>Days per FTE. Gross value added (GVA)"
        " and GVA.</p><svg><text>FTE</text></svg><pre>FTE = 1</pre>"
        "<p>NEETs <!-- NEET --> and FTEs</p></section>"
        "<section><p>Again FTE, then FTE.</p><code>GVA</code></section>"
        "<section data-no-abbr><dl><dt>FTE</dt></dl></section></main></body></html>"
    )
    out, used = mark_abbreviations(doc, words)
    assert used == ["FTE", "GVA", "NEET"]
    soup = BeautifulSoup(out, "html.parser")
    # in the contents: marked, not expanded
    assert str(soup.nav.a) == (
        '<a href="#a">Sickness per person (<abbr title="full-time equivalent">FTE</abbr>)</a>'
    )
    first, second, third = soup.main.find_all("section")
    # the first use in the main text is written out, inside the brackets that hold it
    assert str(first.h4) == (
        '<h4>Sickness per person (<abbr title="full-time equivalent">FTE</abbr>, '
        "full-time equivalent)</h4>"
    )
    # already written out just before: marked only; later uses in the section: left alone
    assert "Days per FTE. Gross value added (<abbr" in str(first.p)
    assert str(first.p).count("<abbr") == 1
    # plurals; comments, code and pictures are left alone
    neets = '<abbr title="not in work">NEETs</abbr> (not in work) <!-- NEET --> and FTEs'
    assert neets in str(first)
    assert first.svg.get_text() == "FTE" and first.pre.get_text() == "FTE = 1"
    # each section marks its first use again, without writing it out twice
    assert str(second.p) == '<p>Again <abbr title="full-time equivalent">FTE</abbr>, then FTE.</p>'
    assert second.code.get_text() == "GVA"
    assert third.find("abbr") is None
    assert soup.title.get_text() == "FTE"
    assert mark_abbreviations(doc, words) == (out, used)  # deterministic


def test_report_lists_the_abbreviations_it_uses() -> None:
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# Workforce\n\nSickness absence per person (FTE) and a GCSE."),
        ]
    )
    soup = BeautifulSoup(build(notebooks=[("workforce", notebook)]), "html.parser")
    glossary = soup.find(id="abbreviations")
    terms = [dt.get_text() for dt in glossary.find("dl").find_all("dt")]
    assert terms == ["FTE", "GCSE", "SHA", "WCAG"]  # the template uses SHA and WCAG
    assert glossary.find("abbr") is None
    paragraph = soup.find(id="workforce").find_next("p")
    assert paragraph.get_text() == (
        "Sickness absence per person (FTE, full-time equivalent) and a GCSE "
        "(General Certificate of Secondary Education)."
    )


# --- outputs not in the report's form: read and cleaned with lxml ---------------------------
# The library's outputs arrive in their final markup; anything else (an analyst's own notebook,
# another package's display, such as an inline matplotlib SVG) is read with lxml.html and
# cleaned where the report's rules need it (html_clean.py).

# A chart shaped like matplotlib's: a clip path and a marker used by url(#...) and xlink:href.
MPL_SVG = (
    '<svg role="img" aria-label="Bar chart of GCSE results" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" width="432pt" height="187.2pt" '
    'viewBox="0 0 432 187.2" xmlns="http://www.w3.org/2000/svg" version="1.1">\n'
    '<defs><style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>'
    '<path id="m1a2b3c" d="M 0 0 L 0 3.5 " style="stroke: #0b0c0c; stroke-width: 0.8"/></defs>'
    '<g><g><path d="M 0 187.2 L 432 187.2 L 432 0 z " style="fill: #ffffff"/></g>\n'
    '<g clip-path="url(#chart-p1)"><path d="M 61.28 131.8 L 61.28 3.0 " '
    'style="fill: none; stroke: #dddddd; stroke-width: 0.8"/></g>'
    '<g><use xlink:href="#m1a2b3c" x="54.39" y="154.3" style="stroke: #0b0c0c"/></g>'
    "<g><text style=\"font-size: 9px; font-family: 'DejaVu Sans', Verdana, sans-serif\" "
    'transform="translate(42.1 181.1)">GCSE &amp; FTE</text></g></g>\n'
    '<defs><clipPath id="chart-p1"><rect x="36.25" y="23.7" width="392.7" height="130.6"/>'
    "</clipPath></defs></svg>"
)


def charts_notebook(title: str, *fragments: str) -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(f"# {title}\n\nThe GCSE results."),
            new_code_cell("sc.charts()", outputs=[html_output(f) for f in fragments]),
        ]
    )


def fitted(fragment: str, outline: SectionOutline | None = None) -> str:
    outline = outline or SectionOutline("overview", "Overview", IdRegistry(["main"]))
    return fit_output(fragment, outline, where="notebooks/overview.ipynb, cell 2")


def test_colliding_ids_in_identical_charts_are_renamed_and_references_follow() -> None:
    notebooks = [
        ("overview", charts_notebook("Overview", MPL_SVG, MPL_SVG)),
        ("workforce", charts_notebook("Workforce", MPL_SVG)),
    ]
    out = build(notebooks=notebooks)
    assert out == build(notebooks=notebooks)  # deterministic
    soup = BeautifulSoup(out, "html.parser")
    charts = soup.find_all("svg")
    assert len(charts) == 3
    for chart, suffix in zip(charts, ["", "-2", "-3"], strict=True):
        assert chart.find("clippath")["id"] == f"chart-p1{suffix}"
        assert chart.find("g", attrs={"clip-path": True})["clip-path"] == f"url(#chart-p1{suffix})"
        assert chart.find("path", id=True)["id"] == f"m1a2b3c{suffix}"
        assert chart.find("use")["xlink:href"] == f"#m1a2b3c{suffix}"
        assert "xmlns" not in chart.attrs and "xmlns:xlink" not in chart.attrs
        # the drawing itself is kept: its shapes, text, size and label
        assert len(chart.find_all("path")) == 3
        assert chart.find("text").get_text() == "GCSE & FTE"
        assert chart["aria-label"] == "Bar chart of GCSE results" and chart["width"] == "432pt"


def test_output_already_in_the_report_form_is_kept_as_it_came() -> None:
    outline = SectionOutline("overview", "Overview", IdRegistry(["main"]))
    outline.level = outline.outline = 3
    fragment = HEADLINE.replace('class="exceptions"', 'class="exceptions" id="x1"')
    assert fitted(fragment, outline) == fragment
    assert outline.ids.used == {"main", "x1", "ind-CF01"}
    assert outline.entries == [TocEntry("ind-CF01", "Looked after children")]
    # the same output again: its ids are taken now, so it is cleaned
    again = fitted(fragment, outline)
    assert 'id="ind-CF01-2"' in again and 'id="x1-2"' in again


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('xlink:href="#m1a2b3c"', 'xlink:href="https://example.org/sprite.svg#m"'),
        ('xlink:href="#m1a2b3c"', 'xlink:href="https:&#47;&#47;example.org/sprite.svg#m"'),
        ('style="fill: #ffffff"', 'style="fill: url(//example.org/p.svg#g)"'),
        ('style="fill: #ffffff"', 'style="fill: url(&quot;http://example.org/a.png&quot;)"'),
        ('style="fill: #ffffff"', "style=\"@import 'more.css'\""),
        ("*{stroke-linejoin: round", "*{background: url(https://example.org/a.png)"),
        ("*{stroke-linejoin: round", "@import 'more.css'; *{stroke-linejoin: round"),
        ('<g><use xlink:href="#m1a2b3c"', '<g><image href="https://example.org/a.png"/><use'),
    ],
)
def test_external_resources_inside_charts_are_refused(old: str, new: str) -> None:
    assert old in MPL_SVG
    chart = MPL_SVG.replace(old, new)
    notebooks = [("overview", charts_notebook("Overview", chart))]
    with pytest.raises(InputError, match="outside the report"):
        build(notebooks=notebooks)


def test_abbreviations_next_to_charts_are_marked_but_not_inside() -> None:
    words = {
        "FTE": "full-time equivalent",
        "GCSE": "General Certificate of Secondary Education",
        "GVA": "gross value added",
    }
    doc = (
        "<!DOCTYPE html><html><body><main><section>"
        f"<p>Results by GCSE</p>{MPL_SVG}<p>FTE and GCSE.</p>"
        f"<pre>{MPL_SVG}FTE</pre>"
        f"<section>{MPL_SVG}<p>GVA</p></section></section></main></body></html>"
    )
    out, used = mark_abbreviations(doc, words)
    assert used == ["FTE", "GCSE", "GVA"]
    assert out.startswith("<!DOCTYPE html>")
    soup = BeautifulSoup(out, "html.parser")
    paragraphs = [str(p) for p in soup.find_all("p")]
    assert paragraphs == [
        '<p>Results by <abbr title="General Certificate of Secondary Education">GCSE</abbr> '
        "(General Certificate of Secondary Education)</p>",
        '<p><abbr title="full-time equivalent">FTE</abbr> (full-time equivalent) and GCSE.</p>',
        '<p><abbr title="gross value added">GVA</abbr> (gross value added)</p>',
    ]
    for chart in soup.find_all("svg"):
        assert chart.find("abbr") is None and chart.find("text").get_text() == "GCSE & FTE"
    assert soup.find("pre").find("abbr") is None
    assert mark_abbreviations(doc, words) == (out, used)  # deterministic


UNUSUAL_CHARTS = {
    "comment": MPL_SVG.replace("<defs>", "<defs><!-- GCSE -->", 1),
    "comment with tags": MPL_SVG.replace("<defs>", '<defs><!-- <g id="chart-p1"> </svg> -->', 1),
    "nested": MPL_SVG.replace("<defs>", '<defs><svg><g id="chart-p1"/><text>GCSE</text></svg>', 1),
    "single quotes": MPL_SVG.replace('<rect x="36.25"', "<rect x='36.25'"),
    "unquoted": MPL_SVG.replace('<g clip-path="url(#chart-p1)">', "<g clip-path=url(#chart-p1)>"),
    "end in style": MPL_SVG.replace("*{stroke-linejoin", "/* </svg> */ *{stroke-linejoin"),
    "script": MPL_SVG.replace("<defs>", "<defs><script>if (a < b) {}</script>", 1),
}


@pytest.mark.parametrize("name", list(UNUSUAL_CHARTS))
def test_unusual_charts_are_read_as_html_is(name: str) -> None:
    chart = UNUSUAL_CHARTS[name]
    notebooks = [
        ("overview", charts_notebook("Overview", MPL_SVG, chart)),
        ("workforce", charts_notebook("Workforce", chart)),
    ]
    out = build(notebooks=notebooks)
    soup = BeautifulSoup(out, "html.parser")
    outer = [svg for svg in soup.find_all("svg") if svg.find_parent("svg") is None]
    assert len(outer) == 3
    for svg in outer:  # nothing inside a chart is marked, every chart keeps its label
        assert svg.find("abbr") is None and svg["aria-label"] == "Bar chart of GCSE results"
    assert "<script" not in out and "a < b" not in out
    assert [p.get_text() for p in soup.find_all("p") if "GCSE" in p.get_text()][:2] == [
        "The GCSE (General Certificate of Secondary Education) results.",
        "The GCSE results.",
    ]
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))


def test_script_text_holding_svg_is_not_a_chart() -> None:
    fragment = (
        '<p id="chart-p1">GCSE</p><script>var s = "<svg><g id=\'chart-p1\'></g></svg>";</script>'
        + MPL_SVG
    )
    out = build(notebooks=[("overview", charts_notebook("Overview", fragment))])
    assert "<script" not in out and "var s" not in out
    # the id in the script text was never claimed: the chart's clip path is the second
    soup = BeautifulSoup(out, "html.parser")
    assert soup.find("clippath")["id"] == "chart-p1-2"
    assert soup.find("g", attrs={"clip-path": True})["clip-path"] == "url(#chart-p1-2)"


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>a < b & c</p><p",
        "< p><3</>",
        "<svg><![CDATA[ </svg> x ]]></svg><p>after</p>",
        "plain text only",
        "<style>p { color: red }</style><div>styled</div>",
    ],
)
def test_odd_markup_is_read_without_losing_its_text(fragment: str) -> None:
    out = fitted(fragment)
    text = BeautifulSoup(out, "html.parser").get_text()
    for word in re.findall(r"[a-z]{3,}", BeautifulSoup(fragment, "html.parser").get_text()):
        assert word in text, (word, out)
