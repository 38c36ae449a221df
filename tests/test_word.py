"""The paper in Word (``report/word/``, ``scorecard run --docx``): accessible, byte-stable, on the
council's template when given one.

The document is read back with python-docx. The figures checked are typed from the Cabinet
report of 20 July 2017 (the seed), as in ``test_golden_seed.py``. LibreOffice
(``libreoffice-writer-nogui``) and ``pdftotext`` (``poppler-utils``) are installed by
``.ci/run``; the conversion test skips without them.
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import nbformat
import pytest
from bs4 import BeautifulSoup
from docx.oxml.ns import qn

from scorecard_lib import audit
from scorecard_lib.cli import main
from scorecard_lib.present import charts
from scorecard_lib.present.sections import Scorecard, load_scorecard
from scorecard_lib.report import record, word
from scorecard_lib.report.word import writer

QUARTER = "2016-17-Q4"
SEED_RED_RISKS = (
    "Serious harm or death due to a failure on the part of the Council",
    "Demographic changes lead to changed demand for services",
)
#: The five red indicators with an update in the quarter, and a figure each states (seed).
SEED_RED_FIGURES = {
    "Looked after children per 10,000 children": "66.3 per 10,000",
    "Children with a child protection plan per 10,000 children": "43.2 per 10,000",
    "Older people funded in permanent care home placements": "1,30",
    "Sickness absence: average days per person (FTE)": "8.92 days",
    "Staff who feel the Council has a clear vision for the future (%)": "46%",
}
SUMMARY = "There are 46 indicators in the Scorecard. 17 are rated green"
RATING_WORDS = ("✔ Green", "▲ Amber", "✖ Red", "– Not rated", "○ No data")


@pytest.fixture(scope="module")
def sc() -> Scorecard:
    return load_scorecard(QUARTER)


@pytest.fixture(scope="module")
def paper(sc: Scorecard, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return word.write_docx(sc, tmp_path_factory.mktemp("word") / "report.docx")


@pytest.fixture(scope="module")
def document(paper: Path) -> docx.document.Document:
    return docx.Document(str(paper))


def _headings(document: docx.document.Document) -> list[tuple[int, str]]:
    found = []
    for p in document.paragraphs:
        name = p.style.name if p.style is not None else ""
        if name.startswith("Heading "):
            found.append((int(name.split()[1]), p.text))
    return found


def _text(document: docx.document.Document) -> str:
    return "\n".join(word.document_text_of(document))


def _template(path: Path, *, heading_font: str = "Georgia", header: str = "") -> Path:
    """A council template made with python-docx: another heading font, a header line."""
    t = docx.Document()
    t.styles["Heading 1"].font.name = heading_font
    t.styles["Heading 2"].font.name = heading_font
    if header:
        t.sections[0].header.paragraphs[0].text = header
    t.add_paragraph("Template text that the paper must not keep.")
    t.save(str(path))
    return path


# --- the notebooks and the renderers ----------------------------------------------------------


def test_every_facade_call_in_the_notebooks_has_a_word_renderer() -> None:
    parts = word.paper_parts()
    calls = [p.call[0] for p in parts if p.call is not None]
    assert {"summary", "exceptions", "red_risks", "dashboard_table", "trends"} <= set(calls)
    assert all(name in word.RENDERERS for name in calls)


def test_a_call_without_a_renderer_is_refused(tmp_path: Path) -> None:
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Extra"),
            nbformat.v4.new_code_cell("sc.something_new()"),
        ]
    )
    nbformat.write(nb, str(nb_dir / "extra.ipynb"))
    with pytest.raises(word.WordError, match="something_new"):
        word.paper_parts(nb_dir, ["extra"])


def test_facade_call() -> None:
    assert word.facade_call('sc.trends("workforce")') == ("trends", ("workforce",), {})
    assert word.facade_call("sc.risk_table(full=True)") == ("risk_table", (), {"full": True})
    assert word.facade_call("sc = load_scorecard(quarter)") is None
    assert word.facade_call("print(sc.summary())") is None
    assert word.facade_call("sc.trends(section)") is None  # not a literal: not shown


def test_ratings_and_directions_are_words_with_symbols() -> None:
    assert word.rating_text("red") == "✖ Red"
    assert word.band_text("Amber") == "▲ Amber"
    assert word.direction_text("improving") == "↗ Improving"


# --- the document read back -------------------------------------------------------------------


@pytest.mark.slow
def test_headings_are_real_styles_in_order(document: docx.document.Document) -> None:
    headings = _headings(document)
    assert headings[0] == (
        1,
        "Balanced Scorecard Performance and Corporate Risk Update: Quarter Four 2016/17",
    )
    assert [lvl for lvl, _ in headings].count(1) == 1
    for (before, _), (after, text) in itertools.pairwise(headings):
        assert after <= before + 1, f"heading level skipped before {text!r}"
    h2 = [text for lvl, text in headings if lvl == 2]
    assert h2 == [
        "Report to Cabinet",
        "Contents",
        "Children's services",
        "Adult care",
        "Workforce",
        "Corporate risk",
        "Appendices",
    ]
    level3 = {text for lvl, text in headings if lvl == 3}
    assert {"Recommendations", "Red risks: controls and actions", "Accessibility statement"} <= (
        level3
    )


@pytest.mark.slow
def test_the_seed_figures_are_in_the_paper(document: docx.document.Document) -> None:
    text = _text(document)
    assert SUMMARY in text
    assert "Of the 10 red indicators, 5 have had a performance update in Quarter Four" in text
    assert "The rate of looked after children has increased to 66.3 per 10,000 children." in text
    assert "This is above the England average of 60 per 10,000 children at 31/03/2016." in text
    headings = {t for _lvl, t in _headings(document)}
    for name, figure in SEED_RED_FIGURES.items():
        assert f"{name} ✖ Red" in headings, name
        assert figure in text, (name, figure)
    for title in SEED_RED_RISKS:
        assert f"{title} ✖ Red" in headings


@pytest.mark.slow
def test_the_recommendations_are_computed_as_in_the_seed(document: docx.document.Document) -> None:
    text = _text(document)
    assert (
        "(a) receives the Corporate Balanced Scorecard for Quarter Four 2016/17 and notes "
        "that 17 indicators are rated green;" in text
    )
    assert (
        "(b) considers the actions being taken to improve performance for the 5 red "
        "indicators that had a performance update in Quarter Four 2016/17:" in text
    )
    assert (
        "(c) notes the latest refresh of the Corporate Risk Register, including the actions "
        "to reduce the 2 risks rated red:" in text
    )
    lines = text.splitlines()
    start = lines.index("Recommendations")
    block = lines[start : start + 40]
    for name in SEED_RED_FIGURES:
        assert name in block
    for title in SEED_RED_RISKS:
        assert title in block
    assert (
        "Relevant Cabinet Member: Cabinet Member with Responsibility for Transformation and "
        "Commissioning" in text
    )
    assert "Date of meeting: 20 July 2017" in text


@pytest.mark.slow
def test_every_table_has_a_caption_and_a_repeating_header_row(
    document: docx.document.Document,
) -> None:
    body = document.element.body
    tables = body.xpath("./w:tbl")
    assert len(tables) == len(document.tables) > 20
    blocks = list(body)
    for tbl in tables:
        rows = tbl.xpath("./w:tr")
        assert len(rows[0].xpath("./w:trPr/w:tblHeader")) == 1
        assert all(not r.xpath("./w:trPr/w:tblHeader") for r in rows[1:])
        caption = tbl.xpath("./w:tblPr/w:tblCaption/@w:val")
        assert caption and caption[0]
        before = blocks[blocks.index(tbl) - 1]
        assert before.xpath("./w:pPr/w:pStyle/@w:val") == ["Caption"]


@pytest.mark.slow
def test_ratings_are_never_colour_alone(document: docx.document.Document) -> None:
    rated = 0
    body = document.element.body
    captions = [
        c[0] if c else ""
        for c in (t.xpath("./w:tblPr/w:tblCaption/@w:val") for t in body.xpath("./w:tbl"))
    ]
    for table, caption in zip(document.tables, captions, strict=True):
        if caption.startswith("Data behind the chart"):
            continue  # the chart's own numbers, as in the HTML report: ratings as words
        header = [c.text for c in table.rows[0].cells]
        for column in ("Rating", "Current rating"):
            if column in header:
                j = header.index(column)
                for row in table.rows[1:]:
                    rated += 1
                    assert row.cells[j].text.startswith(RATING_WORDS), row.cells[j].text
    assert rated > 46


@pytest.mark.slow
def test_every_picture_is_a_print_resolution_png_with_the_charts_alt_text(
    sc: Scorecard, paper: Path, document: docx.document.Document
) -> None:
    descriptions = [d.get("descr") for d in document.element.body.xpath(".//wp:docPr")]
    assert len(descriptions) == len(document.inline_shapes) > 10
    assert all(descriptions)
    with charts.raster():
        heat_map = sc.risk_heatmap()
    assert heat_map.alt in descriptions  # the chart's own words, as in the HTML report
    ids = [d.get("id") for d in document.element.body.xpath(".//wp:docPr")]
    assert len(set(ids)) == len(ids)
    with zipfile.ZipFile(paper) as z:
        pictures = [n for n in z.namelist() if n.startswith("word/media/")]
        assert pictures and all(n.endswith(".png") for n in pictures)
        for name in pictures:
            png = z.read(name)
            width, dpi = writer._png_width(png)
            assert round(dpi) == charts.PRINT_DPI and width > 1000
            assert b"tEXt" not in png and b"tIME" not in png  # no software or date


@pytest.mark.slow
def test_title_language_and_fixed_properties(paper: Path, document: docx.document.Document) -> None:
    props = document.core_properties
    assert props.title.endswith("Quarter Four 2016/17")
    assert props.language == "en-GB"
    assert props.created == props.modified
    assert props.created.date().isoformat() == "2017-03-31"
    assert props.revision == 1 and props.last_printed is None
    normal = document.styles["Normal"].element.rPr.find(qn("w:lang"))
    assert normal.get(qn("w:val")) == "en-GB"
    with zipfile.ZipFile(paper) as z:
        assert {i.date_time for i in z.infolist()} == {word.ZIP_DATE}
        assert z.namelist()[0] == "[Content_Types].xml"


@pytest.mark.slow
def test_the_same_inputs_give_the_same_bytes(sc: Scorecard, paper: Path, tmp_path: Path) -> None:
    again = word.write_docx(load_scorecard(QUARTER), tmp_path / "again.docx")
    assert again.read_bytes() == paper.read_bytes()


# --- LibreOffice ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="soffice (libreoffice-writer-nogui) or pdftotext (poppler-utils) is missing",
)
def test_libreoffice_converts_it_to_pdf_with_the_seed_figures(paper: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    done = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(paper),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    pdf = tmp_path / "report.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "66.3" in flat
    for figure in SEED_RED_FIGURES.values():
        assert figure in flat, figure
    for title in SEED_RED_RISKS:
        assert title in flat, title


# --- templates --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_council_template_gives_its_heading_font_and_header(
    sc: Scorecard, tmp_path: Path
) -> None:
    template = _template(tmp_path / "council.docx", header="Sample County Council: OFFICIAL")
    out = word.write_docx(sc, tmp_path / "report.docx", template=template)
    d = docx.Document(str(out))
    assert d.styles["Heading 1"].font.name == "Georgia"
    first = next(p for p in d.paragraphs if p.text.strip())
    assert first.style.name == "Heading 1" and "Quarter Four 2016/17" in first.text
    assert "Template text" not in _text(d)
    assert d.sections[0].header.paragraphs[0].text == "Sample County Council: OFFICIAL"


def test_a_dotx_template_is_taken_as_a_document(tmp_path: Path) -> None:
    made = _template(tmp_path / "council.docx")
    dotx = tmp_path / "council.dotx"
    with zipfile.ZipFile(made) as src, zipfile.ZipFile(dotx, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(word.DOCX_MIME.encode(), word.DOTX_MIME.encode())
            dst.writestr(info, data)
    with pytest.raises(ValueError):
        docx.Document(str(dotx))  # python-docx alone refuses a template
    assert word.check_template(dotx) == dotx.resolve()
    document = word.new_document(dotx)
    assert document.styles["Heading 1"].font.name == "Georgia"


def _lacking_heading_4(path: Path) -> Path:
    t = docx.Document()
    element = t.styles["Heading 4"].element
    element.getparent().remove(element)
    t.save(str(path))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.write_text("not a Word file"), p)[1], "is not a Word document"),
        (lambda p: (p.write_bytes(b"PK\x03\x04broken"), p)[1], "is not a Word document"),
        (_lacking_heading_4, "lacks the style Heading 4"),
    ],
    ids=["missing", "text", "broken-zip", "no-heading-4"],
)
def test_bad_templates_exit_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, message: str
) -> None:
    template = make(tmp_path / "council.docx")
    out = tmp_path / "out"
    code = main(["run", QUARTER, "--docx-template", str(template), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "council.docx" in err
    assert "Traceback" not in err and "Building the report" not in err
    assert not (out / QUARTER).exists()


def test_template_without_docx_is_refused_by_the_runner(tmp_path: Path) -> None:
    from scorecard_lib.build.runner import run_quarter
    from scorecard_lib.core.errors import InputError

    with pytest.raises(InputError, match="without --docx"):
        run_quarter(QUARTER, out_dir=tmp_path, docx_template=_template(tmp_path / "t.docx"))


# --- through the command line -----------------------------------------------------------------


def _h1_h2(report: Path) -> list[tuple[int, str]]:
    soup = BeautifulSoup(report.read_text(encoding="utf-8"), "html.parser")
    return [(int(h.name[1]), " ".join(h.get_text().split())) for h in soup.find_all(["h1", "h2"])]


@pytest.mark.e2e
def test_run_docx_twice_gives_identical_bytes_an_outline_like_the_html_and_an_audited_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["run", QUARTER, "--docx", "--no-cache", "--out", str(out)]) == 0
    assert "Word paper written to" in capsys.readouterr().out
    paper_a, paper_b = a / QUARTER / "report.docx", b / QUARTER / "report.docx"
    assert paper_a.read_bytes() == paper_b.read_bytes()

    outline = [(lvl, t) for lvl, t in _headings(docx.Document(str(paper_a))) if lvl <= 2]
    assert outline == _h1_h2(a / QUARTER / "report.html")

    manifest = record.read_json(a / QUARTER / "manifest.json") or {}
    listed = {e["path"] for e in manifest["outputs"]}
    assert "report.docx" in listed
    assert manifest["command"] == f"scorecard run {QUARTER} --docx"
    assert manifest["word"] == {"template": None, "template_sha256": None}
    assert audit.check_published_files(a / QUARTER, manifest) == []

    edited = docx.Document(str(paper_a))
    edited.add_paragraph("An officer's late edit.")
    buffer = io.BytesIO()
    edited.save(buffer)
    paper_a.write_bytes(buffer.getvalue())
    findings = audit.check_published_files(a / QUARTER, manifest)
    assert len(findings) == 1 and findings[0].differs
    assert "report.docx was changed after it was published" in findings[0].text
    detail = audit.compare_outputs(a / QUARTER, b / QUARTER)
    assert any("report.docx" in f.text and "An officer's late edit." in f.text for f in detail)


@pytest.mark.e2e
def test_run_with_a_template_records_it_and_a_cached_rebuild_keeps_the_paper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = _template(tmp_path / "council.docx", heading_font="Georgia")
    out = tmp_path / "out"
    assert main(["run", QUARTER, "--out", str(out)]) == 0
    assert not (out / QUARTER / "report.docx").exists()
    # The same inputs with --docx-template is a different build: not "nothing changed".
    args = ["run", QUARTER, "--docx-template", str(template), "--out", str(out)]
    assert main(args) == 0
    paper = out / QUARTER / "report.docx"
    assert docx.Document(str(paper)).styles["Heading 1"].font.name == "Georgia"
    manifest = record.read_json(out / QUARTER / "manifest.json") or {}
    assert manifest["word"]["template"] == str(template.resolve())
    assert "--docx-template" in manifest["command"]
    capsys.readouterr()
    assert main(args) == 0
    assert "Nothing changed" in capsys.readouterr().out
    assert paper.is_file()


def test_charts_drawn_as_png_are_stable_and_never_kept_as_svg(tmp_path: Path) -> None:
    from scorecard_lib.build import kept
    from scorecard_lib.report.manifest import source_sha256

    counts = {"Green": 3, "Amber": 2, "Red": 1}
    kept.use(tmp_path / "kept", source_sha256())
    try:
        svg = charts.rag_counts_chart(counts, "Quarter Four 2016/17")
        with charts.raster():
            png = charts.rag_counts_chart(counts, "Quarter Four 2016/17")
            again = charts.rag_counts_chart(counts, "Quarter Four 2016/17")
        after = charts.rag_counts_chart(counts, "Quarter Four 2016/17")
    finally:
        kept.stop_using()
    assert svg.mime == after.mime == charts.MIME and after.image == svg.image
    assert png.mime == charts.PNG_MIME and png.image.startswith(b"\x89PNG")
    assert png.image == again.image and png.alt == svg.alt
    assert png.data.equals(svg.data)


@pytest.mark.e2e
def test_publish_with_docx_puts_the_paper_in_the_record(tmp_path: Path) -> None:
    from scorecard_lib.publish.publishing import publish_quarter

    done = publish_quarter(
        QUARTER, archive_dir=tmp_path / "archive", docx=True, require_committed_code=False
    )
    paper = done.folder / "report.docx"
    assert paper.is_file()
    manifest = record.read_json(done.folder / "manifest.json") or {}
    assert "report.docx" in {e["path"] for e in manifest["outputs"]}
    assert manifest["command"] == f"scorecard run {QUARTER} --docx"
    assert audit.check_published_files(done.folder, manifest) == []


def test_publish_refuses_a_bad_template_before_building(tmp_path: Path) -> None:
    from scorecard_lib.publish.publishing import publish_quarter

    archive = tmp_path / "archive"
    with pytest.raises(word.WordTemplateError, match="does not exist"):
        publish_quarter(
            QUARTER,
            archive_dir=archive,
            docx_template=tmp_path / "missing.dotx",
            require_committed_code=False,
        )
    assert not archive.exists()
