"""new-quarter: scaffolding a quarter from the previous one, and the house-style writers."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from scorecard_lib.core.errors import QuarterError, ValidationError
from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR
from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.inputs import scaffold
from scorecard_lib.inputs.loading import load_inputs, load_params
from scorecard_lib.inputs.locations import available_quarters

Q2 = "2017-18-Q2"

needs_sample = pytest.mark.skipif(
    not (DATA_DIR / "2017-18-Q1" / "values.csv").is_file(),
    reason="the sample data (data/2017-18-Q1) is not there",
)


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, Path]:
    data, params = tmp_path / "data", tmp_path / "params"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(PARAMS_DIR, params)
    return data, params


def _tree(*roots: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(r.parent)): p.read_bytes()
        for r in roots
        for p in sorted(r.rglob("*"))
        if p.is_file()
    }


@needs_sample
def test_new_quarter_scaffolds_params_and_data(sample: tuple[Path, Path]) -> None:
    data, params = sample
    written = scaffold.new_quarter("2017/18 Q2", data_dir=data, params_dir=params)
    folder = data / Q2
    assert written == [
        params / f"{Q2}.yaml",
        params / f"{Q2}.paper.yaml",  # the officer's text, from the quarter before
        folder / "values.csv",
        folder / "commentary.yaml",
        folder / "risks.csv",
    ]

    ptext = (params / f"{Q2}.yaml").read_text()
    assert "placeholder" in ptext  # the comment says the date must be changed
    p = load_params(Q2, data, params)
    assert p["cabinet_date"] == "2018-01-20"
    previous = load_params("2017-18-Q1", data, params)
    assert (p["title"], p["council"]) == (previous["title"], previous["council"])

    values = (folder / "values.csv").read_text()
    lines = values.splitlines()
    assert lines[0] == (data / "2017-18-Q1" / "values.csv").read_text().splitlines()[0]
    ids = [line.split(",")[0] for line in lines[1:]]
    assert "CF01" in ids and "EN01" in ids  # quarterly; annual due in Q2
    assert "OB01" not in ids and "OB04" not in ids  # annual due in Q3; retired
    assert "CF01,,,,,,62,England average,31/03/2017," in lines  # benchmark carried
    assert "CF04,,,,,3,,,," in lines  # target carried

    risks_before = (data / "2017-18-Q1" / "risks.csv").read_text()
    assert (folder / "risks.csv").read_text() == risks_before  # all open: copied for review
    assert (folder / "commentary.yaml").read_text() == "{}\n"  # never carried over

    # the draft is a quarter now, and validation asks for the missing values
    assert Q2 in [q.id for q in available_quarters(data)]
    with pytest.raises(ValidationError) as err:
        load_inputs(Q2, data, params)
    assert all(pr.column == "value" for pr in err.value.problems)


@needs_sample
def test_new_quarter_refuses_a_quarter_with_data(sample: tuple[Path, Path]) -> None:
    data, params = sample
    before = _tree(data, params)
    with pytest.raises(QuarterError, match="already has data"):
        scaffold.new_quarter("2017-18-Q1", data_dir=data, params_dir=params)
    scaffold.new_quarter(Q2, data_dir=data, params_dir=params)
    after = _tree(data, params)
    with pytest.raises(QuarterError, match="already has data"):
        scaffold.new_quarter(Q2, data_dir=data, params_dir=params)
    assert _tree(data, params) == after
    assert set(after) - set(before) == {
        f"params/{Q2}.yaml",
        f"params/{Q2}.paper.yaml",
        f"data/{Q2}/values.csv",
        f"data/{Q2}/commentary.yaml",
        f"data/{Q2}/risks.csv",
    }


@needs_sample
def test_new_quarter_refuses_a_gap_and_a_quarter_with_nothing_before(
    sample: tuple[Path, Path],
) -> None:
    data, params = sample
    before = _tree(data, params)
    with pytest.raises(QuarterError, match="next quarter to add is 2017-18-Q2"):
        scaffold.new_quarter("2017-18-Q3", data_dir=data, params_dir=params)
    with pytest.raises(QuarterError, match="no quarter before"):
        scaffold.new_quarter("2014-15-Q4", data_dir=data, params_dir=params)
    with pytest.raises(QuarterError):
        scaffold.new_quarter("../../etc", data_dir=data, params_dir=params)
    assert _tree(data, params) == before


@needs_sample
def test_new_quarter_keeps_an_existing_params_file_and_drops_closed_risks(
    sample: tuple[Path, Path],
) -> None:
    data, params = sample
    (params / f"{Q2}.yaml").write_text(
        f'quarter: {Q2}\ncabinet_date: "2018-01-18"\ntitle: T\ncouncil: C\n'
    )
    risks = data / "2017-18-Q1" / "risks.csv"
    lines = risks.read_text().splitlines()
    closed_id = lines[2].split(",")[0]
    lines[2] = lines[2].removesuffix(",open") + ",closed"
    risks.write_text("\n".join(lines) + "\n")

    written = scaffold.new_quarter(Q2, data_dir=data, params_dir=params)
    assert params / f"{Q2}.yaml" not in written
    assert load_params(Q2, data, params)["cabinet_date"] == "2018-01-18"
    copied = (data / Q2 / "risks.csv").read_text()
    assert f"\n{closed_id}," not in copied
    assert len(copied.splitlines()) == len(lines) - 1


def test_placeholder_cabinet_date() -> None:
    assert scaffold.placeholder_cabinet_date(parse_quarter("2016-17-Q4")) == date(2017, 7, 20)
    assert scaffold.placeholder_cabinet_date(parse_quarter("2017-18-Q3")) == date(2018, 4, 20)


def test_numbers_are_written_without_float_noise() -> None:
    import numpy as np

    assert [scaffold.fmt(x) for x in (66.3, 1304.0, 8.92, None, float("nan"))] == [
        "66.3",
        "1304",
        "8.92",
        "",
        "",
    ]
    assert scaffold.fmt(np.float64(74.8)) == "74.8" and scaffold.fmt(np.int64(5)) == "5"
    text = scaffold.csv_text(["a", "b"], [{"a": "x, y", "b": 0.1 + 0.2}])
    assert text == 'a,b\n"x, y",0.30000000000000004\n'  # the writer keeps what it is given


def test_commentary_yaml_reads_back() -> None:
    entries = {
        "CF01": (
            "First paragraph " + "word " * 40 + "\n\nSecond: with a colon and 'quotes'.",
            ["Act: now", "Plain action", "- starts with a dash"],
            "Children, Families and Communities",
        ),
        "OR01": ("A list:\n\n- one\n- two", [], "Finance"),
        "HW06": ("", ["Only an action."], "Adult Services"),
    }
    text = scaffold.commentary_yaml(entries)
    loaded = yaml.safe_load(text)
    assert loaded["CF01"]["actions"] == ["Act: now", "Plain action", "- starts with a dash"]
    assert loaded["CF01"]["commentary"].split("\n\n")[1].strip() == (
        "Second: with a colon and 'quotes'."
    )
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "- one\n- two" in loaded["OR01"]["commentary"]
    assert loaded["OR01"]["actions"] == []
    assert loaded["HW06"]["commentary"] == ""
    assert scaffold.commentary_yaml({}) == "{}\n"


@needs_sample
def test_house_style_matches_the_bundled_files(sample: tuple[Path, Path]) -> None:
    """Reading a bundled quarter and writing it back gives the same bytes."""
    data, params = sample
    inputs = load_inputs("2017-18-Q1", data, params)
    com = inputs.commentary
    entries = {
        r["indicator_id"]: (r["commentary"], r["actions"], r["author"])
        for r in com.to_dict("records")
    }
    assert (
        scaffold.commentary_yaml(entries) == (data / "2017-18-Q1" / "commentary.yaml").read_text()
    )
    vals = inputs.values[inputs.values["quarter"] == "2017-18-Q1"]
    assert (
        scaffold.csv_text(scaffold.VALUES_COLUMNS, vals.to_dict("records"))
        == (data / "2017-18-Q1" / "values.csv").read_text()
    )
