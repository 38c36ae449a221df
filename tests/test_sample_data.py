"""The bundled sample data: files parse, follow docs/data-model.md, and hold the seed figures.

These checks read the files directly (csv and yaml only) so that they stay independent of the
library under test; ratings are checked through the library by test_golden_seed.py. The seed
figures below are typed from ../shared/seed/cabinet-2017-07-20-scorecard-q4-2016-17.md.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
import yaml

from scorecard_lib.core.quarters import Quarter, parse_quarter, quarter_range

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PARAMS = ROOT / "params"

QUARTERS = quarter_range(parse_quarter("2015-16-Q1"), parse_quarter("2017-18-Q1"))
SEED = parse_quarter("2016-17-Q4")
NEW_PLAN = parse_quarter("2017-18-Q1")

CATALOGUE_COLUMNS = [
    "indicator_id",
    "name",
    "subject",
    "theme",
    "section",
    "unit",
    "unit_label",
    "decimals",
    "polarity",
    "frequency",
    "rating_basis",
    "tolerance_type",
    "tolerance",
    "owner",
    "source",
    "first_quarter",
    "last_quarter",
    "description",
]
VALUES_REQUIRED = {"indicator_id", "value"}
VALUES_ALLOWED = {
    "indicator_id",
    "value",
    "numerator",
    "denominator",
    "period_label",
    "target",
    "benchmark",
    "benchmark_label",
    "benchmark_date",
    "data_quality",
    "reported_as",
}
RISK_COLUMNS = [
    "risk_id",
    "title",
    "description",
    "owner",
    "inherent_likelihood",
    "inherent_impact",
    "current_likelihood",
    "current_impact",
    "target_likelihood",
    "target_impact",
    "controls",
    "actions",
    "action_owner",
    "action_due",
    "status",
]
BREAKDOWN_COLUMNS = ["indicator_id", "dimension", "category", "value"]
OVERRIDE_COLUMNS = ["indicator_id", "rating", "reason", "approved_by"]
THEMES = {
    "Open for Business",
    "Children and Families",
    "The Environment",
    "Health and Well-being",
    "Organisational",
}
SECTIONS = {"overview", "childrens_services", "adult_care", "workforce"}
UNITS = {"per_10000", "percent", "days", "count", "gbp", "years", "score"}


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def in_force(row: dict[str, str], q: Quarter) -> bool:
    first = parse_quarter(row["first_quarter"])
    last = parse_quarter(row["last_quarter"]) if row["last_quarter"] else None
    return first <= q and (last is None or q <= last)


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, str]]:
    columns, rows = read_csv(DATA / "catalogue.csv")
    assert columns == CATALOGUE_COLUMNS
    return rows


def values(q: Quarter) -> dict[str, dict[str, str]]:
    columns, rows = read_csv(DATA / q.id / "values.csv")
    assert VALUES_REQUIRED <= set(columns) <= VALUES_ALLOWED
    ids = [r["indicator_id"] for r in rows]
    assert len(ids) == len(set(ids)), f"{q.id}: an indicator appears twice"
    return {r["indicator_id"]: r for r in rows}


def test_quarter_folders_are_the_nine_sample_quarters() -> None:
    folders = sorted(p.name for p in DATA.iterdir() if p.is_dir())
    assert folders == [q.id for q in QUARTERS]
    for q in QUARTERS:
        for name in ("values.csv", "commentary.yaml", "risks.csv", "breakdowns.csv"):
            assert (DATA / q.id / name).is_file(), f"{q.id}/{name} is missing"


def test_every_file_is_utf8_with_unix_line_endings() -> None:
    for path in [*DATA.rglob("*"), *PARAMS.rglob("*")]:
        if path.is_file():
            raw = path.read_bytes()
            raw.decode("utf-8")
            assert b"\r" not in raw, f"{path.name} has Windows line endings"
            assert raw.endswith(b"\n"), f"{path.name} does not end with a newline"


def test_settings_match_the_data_model() -> None:
    settings = yaml.safe_load((DATA / "settings.yaml").read_text(encoding="utf-8"))
    assert settings["risk_bands"] == {"red": 15, "amber": 5}
    assert settings["direction_threshold_percent"] == 1.0
    assert "illustrative" in settings["notice"]  # the sample says it is a sample


def test_catalogue_follows_the_data_model(catalogue: list[dict[str, str]]) -> None:
    ids = [r["indicator_id"] for r in catalogue]
    assert len(ids) == len(set(ids))
    for r in catalogue:
        where = r["indicator_id"]
        assert r["name"] and r["subject"] and r["owner"] and r["source"], where
        assert r["theme"] in THEMES, where
        assert r["section"] in SECTIONS, where
        assert r["unit"] in UNITS, where
        assert r["decimals"] in {"0", "1", "2", "3"}, where
        assert r["polarity"] in {"higher_is_better", "lower_is_better"}, where
        assert r["frequency"] in {"quarterly", "annual", "biennial"}, where
        assert r["rating_basis"] in {"target", "benchmark", "data_only"}, where
        if r["rating_basis"] == "data_only":
            assert r["tolerance_type"] == "" and r["tolerance"] == "", where
        else:
            assert r["tolerance_type"] in {"relative", "absolute"}, where
            assert float(r["tolerance"]) >= 0, where
        parse_quarter(r["first_quarter"])
        if r["last_quarter"]:
            assert parse_quarter(r["last_quarter"]) >= parse_quarter(r["first_quarter"]), where


def test_46_indicators_in_force_in_the_seed_quarter(catalogue: list[dict[str, str]]) -> None:
    force = [r for r in catalogue if in_force(r, SEED)]
    assert len(force) == 46
    for section in SECTIONS:
        assert sum(r["section"] == section for r in force) >= 5, section
    assert {r["frequency"] for r in force} == {"quarterly", "annual", "biennial"}
    assert {r["rating_basis"] for r in force} == {"target", "benchmark", "data_only"}


def test_the_new_corporate_plan_refreshes_the_set(catalogue: list[dict[str, str]]) -> None:
    retired = {r["indicator_id"] for r in catalogue if r["last_quarter"] == SEED.id}
    added = {r["indicator_id"] for r in catalogue if r["first_quarter"] == NEW_PLAN.id}
    assert len(retired) >= 3 and len(added) >= 3
    before = {r["indicator_id"] for r in catalogue if in_force(r, SEED)}
    after = {r["indicator_id"] for r in catalogue if in_force(r, NEW_PLAN)}
    assert after == (before - retired) | added


@pytest.mark.parametrize("q", QUARTERS, ids=lambda q: q.id)
def test_values_are_for_indicators_in_force(q: Quarter, catalogue: list[dict[str, str]]) -> None:
    cat = {r["indicator_id"]: r for r in catalogue}
    for ind, row in values(q).items():
        assert ind in cat and in_force(cat[ind], q), f"{q.id}: {ind} is not in force"
        float(row["value"])
        basis = cat[ind]["rating_basis"]
        if basis in ("target", "benchmark"):
            assert row[basis] != "", f"{q.id}: {ind} has no {basis}"
        if cat[ind]["unit"] == "percent":
            assert 0 <= float(row["value"]) <= 100


def test_every_indicator_has_a_value_somewhere(catalogue: list[dict[str, str]]) -> None:
    reported = set().union(*(values(q) for q in QUARTERS))
    assert reported == {r["indicator_id"] for r in catalogue}


def test_numbers_are_written_without_float_noise() -> None:
    for q in QUARTERS:
        for row in values(q).values():
            for col in ("value", "target", "benchmark", "numerator", "denominator"):
                text = row.get(col, "")
                if text:
                    assert len(text.split(".")[-1]) <= 3 or "." not in text, (q.id, col, text)


@pytest.mark.parametrize("q", QUARTERS, ids=lambda q: q.id)
def test_risk_register(q: Quarter) -> None:
    columns, rows = read_csv(DATA / q.id / "risks.csv")
    assert columns in (RISK_COLUMNS, [*RISK_COLUMNS, "reason"])  # reason is optional
    assert 12 <= len(rows) <= 16
    ids = [r["risk_id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert r["status"] in {"open", "closed"}
        for col in RISK_COLUMNS[4:10]:
            assert r[col] in {"1", "2", "3", "4", "5"}, (r["risk_id"], col)


def test_risk_register_has_a_new_and_a_closed_risk() -> None:
    registers = [
        {r["risk_id"]: r for r in read_csv(DATA / q.id / "risks.csv")[1]} for q in QUARTERS
    ]
    closed = [rid for reg in registers for rid, r in reg.items() if r["status"] == "closed"]
    assert closed
    for before, after in itertools.pairwise(registers):
        for rid in closed:
            if rid in before and before[rid]["status"] == "closed":
                assert rid not in after, f"{rid} appears after it closed"
    assert any(set(after) - set(before) for before, after in itertools.pairwise(registers))


def test_seed_red_risks_are_on_the_seed_register() -> None:
    titles = {r["title"] for r in read_csv(DATA / SEED.id / "risks.csv")[1]}
    assert "Serious harm or death due to a failure on the part of the Council" in titles
    assert "Demographic changes lead to changed demand for services" in titles


@pytest.mark.parametrize("q", QUARTERS, ids=lambda q: q.id)
def test_commentary_and_optional_files(q: Quarter, catalogue: list[dict[str, str]]) -> None:
    ids = {r["indicator_id"] for r in catalogue}
    data = yaml.safe_load((DATA / q.id / "commentary.yaml").read_text(encoding="utf-8")) or {}
    assert isinstance(data, dict)
    for ind, entry in data.items():
        assert ind in ids
        assert set(entry) == {"commentary", "actions", "author"}, ind
        assert isinstance(entry["commentary"], str) and entry["commentary"].strip()
        assert isinstance(entry["actions"], list)
        assert all(isinstance(a, str) for a in entry["actions"])
    columns, rows = read_csv(DATA / q.id / "breakdowns.csv")
    assert columns == BREAKDOWN_COLUMNS
    assert {r["indicator_id"] for r in rows} <= ids
    overrides = DATA / q.id / "overrides.csv"
    if overrides.exists():
        columns, rows = read_csv(overrides)
        assert columns == OVERRIDE_COLUMNS
        assert all(r["rating"] in {"Green", "Amber", "Red"} and r["reason"] for r in rows)


def test_an_override_is_recorded_outside_the_seed_quarter() -> None:
    found = [q for q in QUARTERS if (DATA / q.id / "overrides.csv").exists()]
    assert found and SEED not in found


@pytest.mark.parametrize("q", QUARTERS, ids=lambda q: q.id)
def test_params(q: Quarter) -> None:
    text = (PARAMS / f"{q.id}.yaml").read_text(encoding="utf-8")
    params = yaml.safe_load(text)
    assert set(params) == {"quarter", "cabinet_date", "title", "council"}
    assert parse_quarter(str(params["quarter"])) == q
    assert isinstance(params["cabinet_date"], str)  # quoted, so YAML keeps it as text
    assert params["cabinet_date"] > q.period_end.isoformat()
    assert params["title"] == "Balanced Scorecard Performance and Corporate Risk Update"


def test_seed_cabinet_date() -> None:
    assert yaml.safe_load((PARAMS / f"{SEED.id}.yaml").read_text())["cabinet_date"] == "2017-07-20"


# --- the seed's figures, as they appear in the raw files ----------------------------------------


def _row(catalogue: list[dict[str, str]], q: Quarter, *words: str) -> dict[str, str]:
    matches = [
        r["indicator_id"]
        for r in catalogue
        if in_force(r, q) and all(w in r["name"].lower() for w in words)
    ]
    assert len(matches) == 1, (words, matches)
    return values(q)[matches[0]]


def test_seed_figures_looked_after_children(catalogue: list[dict[str, str]]) -> None:
    now = _row(catalogue, SEED, "looked after")
    before = _row(catalogue, SEED.previous(), "looked after")
    assert (now["value"], before["value"]) == ("66.3", "60.6")
    assert (now["benchmark"], now["benchmark_label"], now["benchmark_date"]) == (
        "60",
        "England average",
        "31/03/2016",
    )


def test_seed_figures_child_protection(catalogue: list[dict[str, str]]) -> None:
    now = _row(catalogue, SEED, "child protection")
    before = _row(catalogue, SEED.previous(), "child protection")
    assert (now["value"], before["value"]) == ("43.2", "38.1")
    assert (now["benchmark"], now["benchmark_date"]) == ("43.1", "31/03/2016")


def test_seed_figures_care_home_placements(catalogue: list[dict[str, str]]) -> None:
    now = _row(catalogue, SEED, "care home")
    before = _row(catalogue, SEED.previous(), "care home")
    assert 1300 < float(now["value"]) < 1310 and now["target"] == "1198"
    assert before["value"] == "1360"


def test_seed_figures_sickness(catalogue: list[dict[str, str]]) -> None:
    now = _row(catalogue, SEED, "sickness")
    before = _row(catalogue, SEED.previous(), "sickness")
    assert (now["value"], now["target"]) == ("8.92", "7")
    assert (before["value"], before["data_quality"]) == ("9.11", "forecast")
    _, rows = read_csv(DATA / SEED.id / "breakdowns.csv")
    mine = [r for r in rows if r["indicator_id"] == now["indicator_id"]]
    assert 5 <= len(mine) <= 7 and {r["dimension"] for r in mine} == {"directorate"}
    top = max(mine, key=lambda r: float(r["value"]))
    assert (top["category"], top["value"]) == ("Adult Services", "13.36")


def test_every_quarter_breaks_sickness_down_by_directorate(catalogue: list[dict[str, str]]) -> None:
    sickness = next(r["indicator_id"] for r in catalogue if "sickness" in r["name"].lower())
    for q in QUARTERS:
        _, rows = read_csv(DATA / q.id / "breakdowns.csv")
        assert any(r["indicator_id"] == sickness and r["dimension"] == "directorate" for r in rows)


def test_seed_figures_clear_vision(catalogue: list[dict[str, str]]) -> None:
    now = _row(catalogue, SEED, "clear vision")
    assert (now["value"], now["period_label"]) == ("46", "2017 staff survey")
    earlier = [values(q).get(now["indicator_id"]) for q in QUARTERS if q < SEED]
    last = [r for r in earlier if r][-1]
    assert (last["value"], last["period_label"]) == ("60", "2015 staff survey")


def test_seed_figures_appear_in_the_raw_files() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DATA.rglob("*.csv"))
    cells = set(text.replace("\n", ",").split(","))
    for figure in (
        "66.3",
        "60.6",
        "43.2",
        "38.1",
        "1198",
        "1360",
        "8.92",
        "9.11",
        "13.36",
        "46",
        "60",
    ):
        assert figure in cells, figure
