"""The Cabinet paper's data (paper.py) and its officer-written input
(params/QUARTER.paper.yaml): computed recommendations, the refresh, missing fields, and the
checks on bad or hostile text. Also the optional risk reason and value as reported."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scorecard_lib.core.errors import ValidationError
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR
from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.inputs.loading import load_inputs
from scorecard_lib.present.sections import Scorecard, load_scorecard
from scorecard_lib.rules import paper

Q4 = "2016-17-Q4"
#: conftest.sample_scorecard: a sample quarter loaded once, shared by the read-only tests
Loader = Callable[[str], Scorecard]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample data and parameters (params/ beside data/ is the one read)."""
    shutil.copytree(DATA_DIR, tmp_path / "data")
    shutil.copytree(PARAMS_DIR, tmp_path / "params")
    return tmp_path


def _edit_paper(project: Path, change) -> None:
    path = project / "params" / f"{Q4}.paper.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _problems(project: Path) -> str:
    with pytest.raises(ValidationError) as err:
        load_inputs(Q4, project / "data")
    return err.value.message()


def test_meeting_date_is_written_out() -> None:
    assert paper.meeting_date_text("2017-07-20") == "20 July 2017"
    assert paper.meeting_date_text("2018-01-05") == "5 January 2018"
    assert paper.meeting_date_text("") == ""


def test_no_refresh_when_the_next_quarter_keeps_the_set(sample_scorecard: Loader) -> None:
    sc = sample_scorecard("2016-17-Q3")
    assert paper.scorecard_refresh(sc.inputs.catalogue, sc.quarter) is None
    assert not any("refresh of the scorecard" in r.text for r in sc.paper.recommendations)


def test_every_sample_quarter_is_complete_for_publication(sample_scorecard: Loader) -> None:
    for q in ("2015-16-Q1", "2016-17-Q3", Q4, "2017-18-Q1"):
        assert sample_scorecard(q).missing_for_publication() == []


def test_missing_equality_text_names_the_field_and_shows_a_box(project: Path) -> None:
    _edit_paper(project, lambda d: d["implications"].pop("equality_diversity"))
    sc = load_scorecard(Q4, data_dir=str(project / "data"))
    missing = sc.missing_for_publication()
    assert len(missing) == 1
    assert "params/2016-17-Q4.paper.yaml" in missing[0]
    assert "'implications.equality_diversity'" in missing[0]
    assert sc.paper.missing() == missing
    html = sc.implications()._repr_html_()
    assert 'class="to-complete"' in html and "To be completed:" in html
    assert "Equality and Diversity implications" in html


def test_a_missing_paper_file_is_a_draft_with_every_field_to_complete(project: Path) -> None:
    (project / "params" / f"{Q4}.paper.yaml").unlink()
    sc = load_scorecard(Q4, data_dir=str(project / "data"))
    keys = [m.split("'")[1] for m in sc.missing_for_publication()]
    assert keys == [k for k, _label in paper.REQUIRED_FIELDS]
    assert sc.cover()._repr_html_().count("To be completed:") == 3  # meeting, member, officer
    recs = sc.paper.recommendations  # still computed
    assert len(recs) == 4 and "17 indicators are rated green" in recs[0].text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(relevent_officer="x"), ["'relevent_officer'", "relevant_officer"]),
        (lambda d: d.update(purpose=["a", "b"]), ["'purpose'", "must be text"]),
        (lambda d: d.update(caveats="x" * 5000), ["'caveats'", "5000 characters"]),
        (lambda d: d.update(meeting="Cabinet\x07"), ["'meeting'", "control characters"]),
        (lambda d: d.update(implications="none"), ["'implications'", "one text for each"]),
        (lambda d: d["implications"].update(legal="x"), ["implications.legal", "not known"]),
        (lambda d: d.update(contacts={"a": "b"}), ["'contacts'", "must be a list"]),
    ],
)
def test_bad_paper_text_is_named_plainly(project: Path, change, words: list[str]) -> None:
    _edit_paper(project, change)
    message = _problems(project)
    assert "params/2016-17-Q4.paper.yaml" in message or "DATA/../params" in message
    for word in words:
        assert word in message, message


def test_a_paper_file_that_is_not_a_mapping(project: Path) -> None:
    (project / "params" / f"{Q4}.paper.yaml").write_text("- a list\n", encoding="utf-8")
    assert "must hold 'key: text' lines" in _problems(project)


def test_old_files_without_the_optional_columns_still_load(project: Path) -> None:
    for name, column in (("risks.csv", "reason"), ("values.csv", "reported_as")):
        path = project / "data" / Q4 / name
        rows = _read_rows(path)
        assert rows[0][-1] == column
        _write_rows(path, [r[:-1] for r in rows])
    sc = load_scorecard(Q4, data_dir=str(project / "data"))
    assert all(n.reason == "" for n in sc.paper.red_risks)
    assert "has decreased to 1,304 older people." in sc.exceptions()._repr_html_()


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "words"),
    [
        ("values.csv", "HW06", "reported_as", "just over", "must contain the figure in digits"),
        ("values.csv", "HW06", "reported_as", "1" * 61, "at most 60 characters"),
        ("risks.csv", "CRR01", "reason", "x" * 601, "at most 600 characters"),
    ],
)
def test_bad_optional_columns(
    project: Path, file: str, row: str, column: str, value: str, words: str
) -> None:
    path = project / "data" / Q4 / file
    rows = _read_rows(path)
    target = next(r for r in rows if r[0] == row)
    target[rows[0].index(column)] = value
    _write_rows(path, rows)
    message = _problems(project)
    assert f"DATA/{Q4}/{file}" in message and column in message and words in message


def test_the_risk_reason_is_shown_beside_score_and_movement(sample_scorecard: Loader) -> None:
    sc: Scorecard = sample_scorecard(Q4)
    text = sc.risk_paragraphs()._repr_html_()
    assert "current score 15 (likelihood 3 x impact 5); score up since last quarter (was 10)." in (
        text
    )
    assert "children&#x27;s safeguarding" in text
    assert "Why: " in sc.red_risks()._repr_html_()


def test_recommendations_for_a_quarter_with_one_red_and_no_update() -> None:
    import pandas as pd

    q = parse_quarter(Q4)
    recs = paper.recommendations(
        {"Green": 1},
        pd.DataFrame({"indicator_id": [], "name": []}),
        pd.DataFrame({"risk_id": ["R1"], "title": ["A risk"]}),
        None,
        q,
    )
    assert [r.letter for r in recs] == ["(a)", "(b)"]
    assert "1 indicator is rated green; and" in recs[0].text
    assert "the risk rated red:" in recs[1].text


def test_publish_refuses_a_paper_without_the_equality_text(project: Path) -> None:
    """scorecard publish's pre-publish checks name the missing field (exit 2) and publish
    nothing (the check runs before any build)."""
    from scorecard_lib.publish import publishing

    _edit_paper(project, lambda d: d["implications"].pop("equality_diversity"))
    archive = project / "published"
    with pytest.raises(publishing.NotFitToPublish) as err:
        publishing.publish_quarter(
            Q4, data_dir=project / "data", archive_dir=archive, require_committed_code=False
        )
    assert err.value.exit_code == 2
    message = err.value.message()
    assert "nothing was published" in message
    assert "params/2016-17-Q4.paper.yaml" in message or "paper.yaml" in message
    assert "'implications.equality_diversity'" in message
    assert not archive.exists() or not any(archive.iterdir())


def test_the_sample_paper_passes_the_pre_publish_checks() -> None:
    from scorecard_lib.core.paths import DATA_DIR as data
    from scorecard_lib.publish import publishing

    q = parse_quarter(Q4)
    assert (
        publishing.pre_publish_problems(q, {"title": "T", "council": "C", "data_dir": str(data)})
        == []
    )
