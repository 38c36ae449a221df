"""The report's data tables: simple, accessible, no empty cells, same bytes every time."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.formatting import direction_html, rating_badge_html
from scorecard_lib.present.tables import Table, html_table


@pytest.fixture
def dashboard() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Indicator": ["Looked after children <per 10,000>", "Older people in care homes"],
            "Value": ["66.3", None],
            "Count": [1304, np.nan],
            "Rating": [rating_badge_html("Red"), rating_badge_html("Amber")],
            "Short term": [direction_html("worsening"), None],
            "Note": ["A & B", ""],
        }
    )


def _table(df: pd.DataFrame) -> Table:
    return html_table(
        df,
        "Scorecard & dashboard",
        numeric=["Value", "Count"],
        html_columns=["Rating", "Short term"],
        row_header="Indicator",
    )


def test_structure_is_a_simple_accessible_table(dashboard: pd.DataFrame) -> None:
    out = _table(dashboard).html
    assert out.startswith('<table class="data">')
    assert out.count("<caption>") == 1
    assert "<caption>Scorecard &amp; dashboard</caption>" in out
    assert out.count("<thead>") == 1
    header_rows = re.findall(r"<thead>(.*?)</thead>", out, re.DOTALL)[0]
    assert header_rows.count("<tr>") == 1
    assert header_rows.count('<th scope="col"') == len(dashboard.columns)
    assert out.count('<th scope="row">') == len(dashboard)


def test_no_cell_is_ever_empty(dashboard: pd.DataFrame) -> None:
    out = _table(dashboard).html
    assert not re.search(r"<t[dh][^>]*>\s*</t[dh]>", out)
    # the missing value, the NaN count, the missing direction and the blank note
    assert out.count(">no data<") == 4


def test_numbers_are_right_aligned_and_formatted(dashboard: pd.DataFrame) -> None:
    out = _table(dashboard).html
    assert '<th scope="col" class="num">Value</th>' in out
    assert '<td class="num">1,304</td>' in out
    assert '<td class="num">66.3</td>' in out


def test_text_is_escaped_but_badges_are_kept(dashboard: pd.DataFrame) -> None:
    out = _table(dashboard).html
    assert "Looked after children &lt;per 10,000&gt;" in out
    assert "A &amp; B" in out
    assert rating_badge_html("Red") in out
    assert "Worsening</span>" in out
    assert "&lt;span" not in out


def test_badge_words_reach_the_table(dashboard: pd.DataFrame) -> None:
    text = re.sub(r"<[^>]+>", "", _table(dashboard).html)
    for word in ("Red", "Amber", "Worsening"):
        assert word in text


def test_script_in_data_is_harmless() -> None:
    df = pd.DataFrame({"Comment": ['<script>alert("x")</script>']})
    out = html_table(df, "<b>Caption</b>").html
    assert "<script>" not in out
    assert "<b>" not in out


def test_raw_floats_are_shown_sensibly() -> None:
    df = pd.DataFrame({"A": [1304.0, 2.25, 1234567.0], "B": [3, 4, 5]})
    out = html_table(df, "Raw", numeric=["A", "B"]).html
    assert ">1,304<" in out
    assert ">2.3<" in out
    assert ">1,234,567<" in out
    assert ">3<" in out


def test_booleans_read_as_words() -> None:
    out = html_table(pd.DataFrame({"Updated": [True, False]}), "Flags").html
    assert ">Yes<" in out and ">No<" in out


def test_same_frame_gives_same_bytes(dashboard: pd.DataFrame) -> None:
    assert _table(dashboard).html == _table(dashboard.copy()).html


def test_index_is_not_shown() -> None:
    df = pd.DataFrame({"A": ["x"]}, index=["secret-index"])
    assert "secret-index" not in html_table(df, "Index").html


def test_table_id_and_repr() -> None:
    table = html_table(pd.DataFrame({"A": [1]}), "My caption", table_id='t"1')
    assert '<table class="data" id="t&quot;1">' in table.html
    assert repr(table) == "<Table: My caption>"
    # shown as the report shows it: in a focusable scroll box labelled by the caption
    assert table._repr_html_() == (
        '<div class="table-wrap" role="region" aria-label="My caption" tabindex="0">'
        f"{table.html}</div>"
    )


def test_empty_frame_says_so_rather_than_showing_nothing() -> None:
    out = html_table(pd.DataFrame({"A": [], "B": []}), "Nothing").html
    assert "There are no rows to show" in out
    assert 'colspan="2"' in out


@pytest.mark.parametrize(
    "kwargs",
    [{"numeric": ["Nope"]}, {"html_columns": ["Nope"]}, {"row_header": "Nope"}],
)
def test_unknown_column_names_are_reported(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError, match="Nope"):
        html_table(pd.DataFrame({"A": [1]}), "Cap", **kwargs)  # type: ignore[arg-type]


def test_a_single_string_for_numeric_is_refused() -> None:
    with pytest.raises(InputError):
        html_table(pd.DataFrame({"A": [1]}), "Cap", numeric="A")


def test_not_a_dataframe_is_refused() -> None:
    with pytest.raises(InputError):
        html_table([{"A": 1}], "Cap")  # type: ignore[arg-type]


def test_missing_html_cell_reads_no_data() -> None:
    df = pd.DataFrame({"Rating": [math.nan, "", None]})
    out = html_table(df, "Cap", html_columns=["Rating"]).html
    assert out.count("<td>no data</td>") == 3
