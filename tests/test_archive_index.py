"""The archive page (``archive_index.py``): every published quarter on one page.

Built over ``sample_archive`` (``conftest.py``): copies of the committed records of 2016-17
Q3 and Q4, published before open data existed, and a correction of Q4 with open data and a
PDF. The page is opened in a real browser and checked by axe-core in ``test_browser.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from scorecard_lib.cli import main
from scorecard_lib.core.errors import InputError
from scorecard_lib.inputs.archive import published_records, read_record_manifest
from scorecard_lib.publish import archive_index

# From the seed (the Cabinet report of 20 July 2017): Quarter Four 2016/17.
SEED_Q4 = {"Green": 17, "Red": 10, "Red risks": 2}


def _page(folder: Path, **options: Any) -> BeautifulSoup:
    path = archive_index.write_archive_index(folder, **options)
    assert path == folder / "index.html"
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _counts(article: Any) -> dict[str, str]:
    out = {}
    for pair in article.select("dl.counts > div"):
        term = pair.find("dt").get_text(" ", strip=True)
        word = "Red risks" if "risks" in term else term.split()[1]
        out[word] = pair.find("dd").get_text(strip=True)
    return out


def _results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text("utf-8"))["results"]


@pytest.fixture()
def two_quarters(sample_archive: Path, tmp_path: Path) -> Path:
    """The committed records of 2016-17 Q3 and Q4 alone, as published."""
    archive = tmp_path / "published"
    archive.mkdir()
    for q in ("2016-17-Q3", "2016-17-Q4"):
        shutil.copytree(sample_archive / q, archive / q)
    return archive


def test_lists_the_published_quarters_newest_first_with_their_counts(two_quarters: Path) -> None:
    page = _page(two_quarters)
    articles = page.select("article.archive-entry")
    assert [a.find("h3").get_text(strip=True) for a in articles] == [
        "Quarter Four 2016/17",
        "Quarter Three 2016/17",
    ]
    q4 = _counts(articles[0])
    assert (int(q4["Green"]), int(q4["Red"]), int(q4["Red risks"])) == (
        SEED_Q4["Green"],
        SEED_Q4["Red"],
        SEED_Q4["Red risks"],
    )
    q3 = _results(two_quarters / "2016-17-Q3")["counts"]
    assert _counts(articles[1]) == {
        "Green": str(q3["ratings"]["Green"]),
        "Amber": str(q3["ratings"]["Amber"]),
        "Red": str(q3["ratings"]["Red"]),
        "Red risks": str(q3["risk_bands"]["Red"]),
    }
    # published before open data existed: listed with what they have, never rebuilt
    for article in articles:
        assert "published before open data files were made" in article.get_text(" ")
        assert not [a for a in article.find_all("a") if "open-data" in a["href"]]


def test_every_link_resolves_to_a_file_or_an_id(sample_archive: Path) -> None:
    page = _page(sample_archive)
    links = [a["href"] for a in page.find_all("a")]
    assert len(links) > 30
    ids = {el["id"] for el in page.find_all(id=True)}
    for href in links:
        if href.startswith("#"):
            assert href[1:] in ids, href
        else:
            assert "://" not in href and not href.startswith("/"), href
            assert (sample_archive / urllib.parse.unquote(href)).is_file(), href
    for q in ("2016-17-Q3", "2016-17-Q4", "2016-17-Q4.v2"):
        for name in ("report.html", "manifest.json", "notebooks/overview.ipynb"):
            assert f"{q}/{name}" in links
    for name in ("scorecard.csv", "risks.csv", "scorecard.ods", "datapackage.json"):
        assert f"2016-17-Q4.v2/open-data/{name}" in links
    assert "2016-17-Q4.v2/report.pdf" in links


def test_shows_the_rating_changes_between_the_quarters(two_quarters: Path) -> None:
    page = _page(two_quarters)
    q3 = _results(two_quarters / "2016-17-Q3")["indicators"]
    q4 = _results(two_quarters / "2016-17-Q4")["indicators"]
    expected = {i for i in q4 if i in q3 and q3[i]["rating"] != q4[i]["rating"]}
    expected |= set(q3) ^ set(q4)
    assert "CF01" in expected  # the seed's looked after children turned red
    article = page.select("article.archive-entry")[0]
    assert article.find("h4", string="Ratings changed since Quarter Three 2016/17")
    rows = article.select("table tbody tr")
    shown = {}
    for row in rows:
        head = row.find("th").get_text(strip=True)
        ind = head.rsplit("(", 1)[1].rstrip(")")
        before, after = (td.get_text(" ", strip=True) for td in row.find_all("td"))
        shown[ind] = (before, after)
    assert set(shown) == expected
    assert shown["CF01"] == (f"▲ {q3['CF01']['rating']}", "✖ Red")
    assert f"{len(expected)} indicators changed rating." in article.get_text(" ")
    assert "no earlier quarter" in page.select("article.archive-entry")[1].get_text(" ")


def test_a_superseded_record_is_listed_as_superseded_with_the_reason(
    sample_archive: Path,
) -> None:
    page = _page(sample_archive)
    headings = [h.get_text(strip=True) for h in page.select("article.archive-entry h3")]
    assert headings == [
        "Quarter Four 2016/17, version 2 (current)",
        "Quarter Four 2016/17, version 1 (superseded)",
        "Quarter Three 2016/17",
    ]
    current, superseded, _ = page.select("article.archive-entry")
    reason = "The figure for staff appraisals was corrected by Human Resources."
    assert "Superseded:" in superseded.get_text(" ") and reason in superseded.get_text(" ")
    assert "replaces 2016-17-Q4" in current.get_text(" ") and reason in current.get_text(" ")
    assert _counts(current)["Green"] == "18" and _counts(current)["Red"] == "9"
    # the chart counts the standing record of each quarter only
    table = page.select_one("#main .table-wrap table")
    rows = {
        tr.find("th").get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in table.select("tbody tr")
    }
    assert list(rows) == ["2016/17 Q4", "2016/17 Q3"]
    assert rows["2016/17 Q4"][:3] == ["18", "13", "9"]


def test_the_chart_has_a_text_alternative_with_the_figures(two_quarters: Path) -> None:
    page = _page(two_quarters)
    svg = page.select_one("figure.chart svg")
    assert svg["role"] == "img"
    label = svg["aria-label"]
    assert "2016/17 Q4: 17 green, 13 amber, 10 red" in label
    assert not page.find("script")
    assert "http://" not in str(page.find("head")) and "https://" not in str(page.find("head"))


def test_the_page_is_byte_identical_and_changes_no_record(
    sample_archive: Path, tmp_path: Path
) -> None:
    before = _hashes(sample_archive)
    before.pop("index.html", None)
    first = archive_index.write_archive_index(sample_archive).read_bytes()
    after = _hashes(sample_archive)
    assert after.pop("index.html") == hashlib.sha256(first).hexdigest()
    assert after == before  # only index.html is added, at the top
    elsewhere = tmp_path / "elsewhere" / "archive"
    shutil.copytree(sample_archive, elsewhere)
    assert archive_index.write_archive_index(elsewhere).read_bytes() == first
    assert str(sample_archive).encode() not in first


def test_a_record_without_results_is_listed_without_counts(two_quarters: Path) -> None:
    manifest = two_quarters / "2016-17-Q3" / "manifest.json"
    data = json.loads(manifest.read_text("utf-8"))
    data["results"] = None
    manifest.write_text(json.dumps(data))
    page = _page(two_quarters)
    q3 = page.select("article.archive-entry")[1]
    assert "does not record the counts" in q3.get_text(" ")
    q4 = page.select("article.archive-entry")[0]
    assert "The ratings cannot be compared" in q4.get_text(" ")


def test_the_index_command(two_quarters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--archive", str(two_quarters)]) == 0
    assert "Archive page written to" in capsys.readouterr().out
    assert (two_quarters / "index.html").is_file()
    assert main(["index", "--out", str(two_quarters)]) == 0
    assert "These are drafts" in (two_quarters / "index.html").read_text("utf-8")


def test_bad_input_gets_one_message_and_exit_2(
    two_quarters: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "--archive", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("There is no archive to index.") and "Traceback" not in err
    (two_quarters / "2016-17-Q4" / "manifest.json").write_text("{not json")
    assert main(["index", "--archive", str(two_quarters)]) == 2
    err = capsys.readouterr().err
    assert "The manifest of the record 2016-17-Q4 cannot be read" in err
    assert "manifest.json" in err and "Traceback" not in err


#: Damaged or hostile manifests, and the start of what every reader of the archive says.
HOSTILE_MANIFESTS: tuple[tuple[bytes, str], ...] = (
    (b"{not json", "cannot be read (not valid JSON: Expecting property name"),
    (b"\xff\xfe{}", "cannot be read (not UTF-8 text)"),
    (b"[" * 100_000 + b"]" * 100_000, "cannot be read (its JSON is nested too deeply)"),
    (b'["a list", "not an object"]', "is not a JSON object"),
    (b"null", "is not a JSON object"),
)


@pytest.mark.parametrize(("content", "said"), HOSTILE_MANIFESTS)
def test_the_archive_page_and_the_audit_read_a_damaged_manifest_the_same_way(
    two_quarters: Path, content: bytes, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (two_quarters / "2016-17-Q4" / "manifest.json").write_bytes(content)
    expected = f"The manifest of the record 2016-17-Q4 {said}"
    with pytest.raises(InputError, match="^" + re.escape(expected)) as raised:
        read_record_manifest(two_quarters / "2016-17-Q4")
    assert raised.value.where is not None and raised.value.where.endswith("manifest.json")
    # listing the archive never fails on one damaged record; reading it does, in plain words
    assert [r.name for r in published_records(two_quarters)] == ["2016-17-Q3", "2016-17-Q4"]
    for argv in (["index"], ["audit", "2016-17-Q4"]):
        assert main([*argv, "--archive", str(two_quarters)]) == 2
        err = capsys.readouterr().err
        assert expected in err and "manifest.json" in err and "Traceback" not in err, argv


def test_an_empty_archive_says_so(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert "There are no published reports in this folder yet." in page.get_text(" ")
    assert "nothing to chart" in page.get_text(" ")


@pytest.mark.e2e
def test_a_folder_of_drafts_gets_the_same_page(
    built_quarters: dict[str, Path], tmp_path: Path
) -> None:
    drafts = tmp_path / "outputs"
    for q in ("2016-17-Q3", "2016-17-Q4"):
        shutil.copytree(built_quarters[q], drafts / q)
    page = _page(drafts, drafts=True)
    assert page.find("h1").get_text(strip=True).endswith("draft reports")
    hrefs = [a["href"] for a in page.find_all("a") if not a["href"].startswith("#")]
    for q in ("2016-17-Q3", "2016-17-Q4"):
        assert f"{q}/open-data/scorecard.csv" in hrefs
    for href in hrefs:
        assert (drafts / urllib.parse.unquote(href)).is_file(), href


def test_the_committed_archive_page_is_current() -> None:
    """``published/index.html`` is what ``scorecard index`` writes for the archive as it is."""
    from scorecard_lib.inputs.archive import ARCHIVE_DIR

    page = ARCHIVE_DIR / "index.html"
    assert page.is_file(), "the archive has no page: run 'scorecard index' and commit it"
    assert page.read_text("utf-8") == archive_index.index_html(ARCHIVE_DIR), (
        "published/index.html is out of date: run 'scorecard index' and commit it"
    )


@pytest.mark.e2e
def test_publishing_rebuilds_the_archive_page(sample_archive: Path, tmp_path: Path) -> None:
    from scorecard_lib.publish.publishing import publish_quarter

    archive = tmp_path / "published"
    archive.mkdir()
    shutil.copytree(sample_archive / "2016-17-Q3", archive / "2016-17-Q3")
    before = _hashes(archive / "2016-17-Q3")
    published = publish_quarter("2016-17-Q4", archive_dir=archive, require_committed_code=False)
    assert published.folder == archive / "2016-17-Q4"
    page = BeautifulSoup((archive / "index.html").read_text("utf-8"), "html.parser")
    headings = [h.get_text(strip=True) for h in page.select("article.archive-entry h3")]
    assert headings == ["Quarter Four 2016/17", "Quarter Three 2016/17"]
    q4 = page.select("article.archive-entry")[0]
    assert _counts(q4) == {"Green": "17", "Amber": "13", "Red": "10", "Red risks": "2"}
    hrefs = [a["href"] for a in q4.find_all("a")]
    for name in ("scorecard.csv", "risks.csv", "scorecard.ods", "datapackage.json"):
        assert f"2016-17-Q4/open-data/{name}" in hrefs
    for href in hrefs:
        assert (archive / urllib.parse.unquote(href)).is_file(), href
    assert _hashes(archive / "2016-17-Q3") == before
    # the new record lists its open data in its manifest, and no record lists the page
    outputs = json.loads((archive / "2016-17-Q4" / "manifest.json").read_text())["outputs"]
    assert {"open-data/scorecard.csv", "open-data/datapackage.json"} <= {e["path"] for e in outputs}
