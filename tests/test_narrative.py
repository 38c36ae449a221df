"""Generated sentences: the summary and the red indicators' headlines; commentary escaping."""

from __future__ import annotations

from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.rules.narrative import headline, markdown_html, summary_sentences

Q4 = parse_quarter("2016-17-Q4")


def _row(**over) -> dict:
    row = {
        "name": "Looked after children per 10,000 children",
        "subject": "The rate of looked after children",
        "unit": "per_10000",
        "unit_label": "per 10,000 children",
        "decimals": 1,
        "rating_basis": "benchmark",
        "value": 66.3,
        "value_quarter": "2016-17-Q4",
        "previous_value": 60.6,
        "previous_quarter": "2016-17-Q3",
        "previous_period_label": None,
        "short_term": "worsening",
        "reference": 60.0,
        "benchmark_label": "England average",
        "benchmark_date": "31/03/2016",
    }
    row.update(over)
    return row


def test_summary_in_the_cabinet_reports_form() -> None:
    counts = {"Green": 17, "Amber": 12, "Red": 10, "Not rated": 6, "No data": 1}
    text = " ".join(summary_sentences(counts, Q4, 5))
    assert text.startswith("There are 46 indicators in the Scorecard. 17 are rated green")
    assert (
        "Of the 10 red indicators, 5 have had a performance update in Quarter Four 2016/17." in text
    )


def test_summary_singular_forms() -> None:
    counts = {"Green": 1, "Amber": 0, "Red": 1, "Not rated": 0, "No data": 0}
    text = " ".join(summary_sentences(counts, Q4, 1))
    assert "There are 2 indicators" in text and "1 is rated green" in text
    assert "The red indicator has had a performance update" in text


def test_benchmark_headline() -> None:
    assert headline(_row(), Q4) == [
        "The rate of looked after children has increased to 66.3 per 10,000 children.",
        "It was 60.6 per 10,000 children at the end of the previous quarter.",
        "This is a deterioration on the previous figure.",
        "This is above the England average of 60 per 10,000 children at 31/03/2016.",
    ]


def test_target_headline_with_an_earlier_survey() -> None:
    row = _row(
        name="Staff who feel the council has a clear vision",
        subject="The share of staff who feel the Council has a clear vision",
        unit="percent",
        unit_label="",
        decimals=0,
        rating_basis="target",
        value=46.0,
        previous_value=60.0,
        previous_quarter="2015-16-Q3",
        previous_period_label="2015 staff survey",
        reference=60.0,
    )
    out = headline(row, Q4)
    assert out[0].endswith("has decreased to 46%.")
    assert out[1] == "It was 60% in the 2015 staff survey."
    assert out[-1] == "This is below the target of 60%."


def test_count_uses_thousands_separator() -> None:
    row = _row(
        unit="count",
        unit_label="older people",
        decimals=0,
        rating_basis="target",
        value=1304.0,
        previous_value=1360.0,
        short_term="improving",
        reference=1198.0,
        subject="The number of older people in permanent care home placements",
    )
    out = headline(row, Q4)
    assert "1,304 older people" in out[0] and "1,360 older people" in out[1]
    assert out[2] == "This is an improvement on the previous figure."
    assert out[3] == "This is above the target of 1,198 older people."


def test_commentary_markdown_is_rendered_and_raw_html_escaped() -> None:
    out = markdown_html("**Bold** text <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>Bold</strong>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'href="javascript' not in out
