"""Work kept between builds (``kept.py``): a chart is served only for the very same call and
displays exactly as one drawn afresh; a validation is skipped only for a table that passed.

The unit tests draw real charts of the sample quarter in this process; the last test builds
with real kernels and checks that the kernels really take charts from the store and that the
published notebooks are byte-identical to a build without any cache.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from scorecard_lib.build import kept
from scorecard_lib.core.paths import DATA_DIR
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.core.store import current_store
from scorecard_lib.present import charts
from scorecard_lib.present.sections import Scorecard, load_scorecard
from scorecard_lib.report import manifest

Q = "2016-17-Q4"


@pytest.fixture(scope="module")
def sc() -> Scorecard:
    return load_scorecard(Q)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    """The store on, in ``tmp_path/charts``; off again afterwards."""
    assert kept.use(tmp_path, manifest.source_sha256())
    yield tmp_path / kept.FOLDER / kept.CHARTS
    kept.stop_using()


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the charts actually drawn (each drawing ends in ``charts._render``)."""
    drawn: list[str] = []
    real = charts._render

    def counting(fig: object, kind: str, title: str) -> bytes:
        drawn.append(title)
        return real(fig, kind, title)  # type: ignore[arg-type]

    monkeypatch.setattr(charts, "_render", counting)
    return drawn


def _every_chart(sc: Scorecard) -> list[str]:
    """The HTML of every chart the report of the quarter shows."""
    shown = [sc.rag_chart()._repr_html_(), sc.theme_chart()._repr_html_()]
    shown.append(sc.risk_heatmap()._repr_html_())
    for section in ("overview", "childrens_services", "adult_care", "workforce"):
        shown.append(sc.trends(section)._repr_html_())
        shown.append(sc.breakdowns(section)._repr_html_())
    return shown


def test_off_by_default_nothing_is_kept(sc: Scorecard, drawings: list[str]) -> None:
    assert current_store() is None
    sc.trends("childrens_services")
    sc.trends("childrens_services")
    assert len(drawings) == 2 * len(sc._rows("childrens_services"))


def test_every_chart_from_the_store_displays_exactly_as_drawn(
    sc: Scorecard, store: Path, drawings: list[str]
) -> None:
    kept.stop_using()
    fresh = _every_chart(sc)  # drawn with the store off
    drawn_without = len(drawings)
    assert kept.use(store.parent.parent, manifest.source_sha256())
    first = _every_chart(sc)
    assert len(drawings) == 2 * drawn_without  # the store was empty: everything drawn
    assert len(list(store.glob("*.json"))) >= 20  # red and amber trends, breakdowns, heat map
    second = _every_chart(sc)
    assert len(drawings) == 2 * drawn_without  # nothing drawn again
    assert fresh == first == second


def test_a_changed_value_or_detail_is_drawn_again(
    sc: Scorecard, store: Path, drawings: list[str]
) -> None:
    row = sc._rows("childrens_services").iloc[0]
    from scorecard_lib.rules import rating

    hist = rating.history(sc.inputs.values, row["indicator_id"], sc.quarter, 8)
    meta = {k: row[k] for k in ("name", "unit", "decimals", "polarity", "rating")}
    meta["unit_label"] = row["unit_label"] or ""
    meta["benchmark_label"] = row["benchmark_label"] or "Benchmark"
    base = charts.trend_chart(hist, meta)
    assert charts.trend_chart(hist, meta)._repr_html_() == base._repr_html_()
    assert len(drawings) == 1

    changed = hist.copy()
    changed.loc[changed.index[-1], "value"] = changed["value"].iloc[-1] + 0.1
    other = charts.trend_chart(changed, meta)
    assert len(drawings) == 2
    assert other.image != base.image

    renamed = charts.trend_chart(hist, {**meta, "name": meta["name"] + " (revised)"})
    assert len(drawings) == 3
    assert renamed.title != base.title
    fewer = charts.trend_chart(hist.iloc[1:], meta)
    assert len(drawings) == 4
    assert len(fewer.data) == len(base.data) - 1


def test_a_key_tells_types_and_order_apart() -> None:
    s = kept.Kept(Path("unused"), "salt")
    keys = {
        s.key("k", v)
        for v in (1, 1.0, "1", True, None, np.int64(1), np.float64(1.0), math.nan, -0.0, 0.0)
    }
    assert len(keys) == 10
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert s.key("k", df) == s.key("k", df.copy())
    assert s.key("k", df) != s.key("k", df[["b", "a"]])
    assert s.key("k", df) != s.key("k", df.astype({"a": "float32"}))
    assert s.key("k", df) != s.key("k", df.set_axis([5, 6]))
    assert s.key("k", df) != s.key("k", df.rename(columns={"a": "A"}))
    assert s.key("k", df) != s.key("j", df)
    assert s.key("k", (df,), {}) != s.key("k", (), {"df": df})
    assert kept.Kept(Path("unused"), "other").key("k", df) != s.key("k", df)
    assert s.key("k", object()) is None  # cannot be written out: never kept


def test_the_store_stays_off_for_other_code(tmp_path: Path) -> None:
    assert not kept.use(tmp_path, "0" * 64)
    assert current_store() is None
    assert not kept.use(tmp_path, "")
    assert kept.use(tmp_path, manifest.source_sha256())
    kept.stop_using()
    assert current_store() is None


def test_the_salt_names_code_python_and_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    from scorecard_lib.build import cache

    code = manifest.source_sha256()
    salt = kept.environment_salt(code)
    assert kept.environment_salt("f" * 64) != salt
    monkeypatch.setattr(cache, "installed_packages", lambda: ["matplotlib-9.9.dist-info"])
    assert kept.environment_salt(code) != salt


def test_a_damaged_entry_is_drawn_again_and_replaced(
    sc: Scorecard, store: Path, drawings: list[str]
) -> None:
    first = sc.trends("childrens_services")._repr_html_()
    n = len(drawings)
    entries = sorted(store.glob("*.json"))
    assert len(entries) == n
    stored = json.loads(entries[0].read_text(encoding="utf-8"))
    stored["chart"]["alt"] = "Tampered with."  # the recorded sha256 no longer matches
    entries[0].write_text(json.dumps(stored), encoding="utf-8")
    entries[1].write_text("{not json", encoding="utf-8")
    assert sc.trends("childrens_services")._repr_html_() == first
    assert len(drawings) == n + 2
    assert "Tampered" not in entries[0].read_text(encoding="utf-8")
    assert sc.trends("childrens_services")._repr_html_() == first
    assert len(drawings) == n + 2


def test_a_chart_that_fails_stores_nothing(store: Path) -> None:
    from scorecard_lib.core.errors import InputError

    with pytest.raises(InputError):
        charts.trend_chart(pd.DataFrame({"quarter_label": ["Q1"], "value": [1.0]}), {"unit": "x"})
    assert not list(store.glob("*.json"))


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    folder = tmp_path / kept.FOLDER / kept.CHARTS
    folder.mkdir(parents=True)
    now = time.time()
    for i in range(10):
        path = folder / f"{i:02d}.json"
        path.write_text("{}", encoding="utf-8")
        os.utime(path, (now - 100 + i, now - 100 + i))
    checks = tmp_path / kept.FOLDER / kept.CHECKS
    checks.mkdir()
    (checks / "a").write_bytes(b"")
    kept.prune(tmp_path, keep=4)
    assert sorted(p.name for p in folder.iterdir()) == ["06.json", "07.json", "08.json", "09.json"]
    assert [p.name for p in checks.iterdir()] == ["a"]
    kept.prune(tmp_path / "missing")  # nothing there: nothing happens


def test_a_store_that_cannot_be_written_only_costs_time(
    sc: Scorecard, tmp_path: Path, drawings: list[str]
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    assert kept.use(blocked, manifest.source_sha256())
    try:
        first = sc.trends("childrens_services")._repr_html_()
        assert sc.trends("childrens_services")._repr_html_() == first
    finally:
        kept.stop_using()
    assert len(drawings) == 2 * len(sc._rows("childrens_services"))


# --- validations kept ---------------------------------------------------------------------------


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables pandera actually validates."""
    from scorecard_lib.inputs import schemas

    done: list[str] = []
    real = schemas.validate_frame

    def counting(df: pd.DataFrame, spec: schemas.TableSpec, file: str, **kw: object) -> list:
        done.append(file)
        return real(df, spec, file, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(schemas, "validate_frame", counting)
    return done


def _frames(inputs: object) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in vars(inputs).items() if isinstance(v, pd.DataFrame)}


def test_a_table_that_passed_is_not_validated_again(tmp_path: Path, validations: list[str]) -> None:
    from scorecard_lib.inputs import loading

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    fresh = loading.load_inputs(Q, data)  # the store is off: everything validated
    tables = len(validations)
    assert tables >= 15
    assert kept.use(tmp_path, manifest.source_sha256())
    try:
        loading.load_inputs(Q, data)
        assert len(validations) == 2 * tables
        again = loading.load_inputs(Q, data)
        assert len(validations) == 2 * tables  # none validated again
        for name, frame in _frames(fresh).items():
            pd.testing.assert_frame_equal(frame, _frames(again)[name])

        # One changed cell: that table alone is validated again.
        path = data / Q / "values.csv"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("66.3", "66.4", 1), encoding="utf-8")
        loading.load_inputs(Q, data)
        assert [v.endswith(f"{Q}/values.csv") for v in validations[2 * tables :]] == [True]
    finally:
        kept.stop_using()


def test_a_table_with_a_problem_is_validated_every_time(
    tmp_path: Path, validations: list[str]
) -> None:
    from scorecard_lib.core.errors import ValidationError
    from scorecard_lib.inputs import loading

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / Q / "risks.csv"
    risks = pd.read_csv(path, dtype=str, keep_default_na=False)
    risks.loc[0, "current_likelihood"] = "9"  # out of range
    risks.to_csv(path, index=False)
    with pytest.raises(ValidationError) as without:
        loading.load_inputs(Q, data)
    assert kept.use(tmp_path, manifest.source_sha256())
    try:
        messages = []
        for _ in range(2):
            before = len(validations)
            with pytest.raises(ValidationError) as caught:
                loading.load_inputs(Q, data)
            messages.append(str(caught.value))
            assert any(v.endswith(f"{Q}/risks.csv") for v in validations[before:])
    finally:
        kept.stop_using()
    assert messages == [str(without.value)] * 2


# --- with real kernels, through scorecard run ----------------------------------------------------


def _edit_commentary(data: Path, section: str) -> None:
    cat = pd.read_csv(data / "catalogue.csv", dtype=str)
    ids = set(cat.loc[cat["section"] == section, "indicator_id"])
    path = data / Q / "commentary.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    ind = next(i for i in entries if i in ids)
    entries[ind]["commentary"] = entries[ind]["commentary"].rstrip() + " Edited.\n"
    path.write_text(yaml.safe_dump(entries, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.mark.e2e
def test_kernels_take_charts_from_the_store_and_publish_the_same_bytes(tmp_path: Path) -> None:
    from scorecard_lib.build.pipeline import build

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    out = tmp_path / "out"
    build(Q, data_dir=data, out_dir=out)
    store = out / ".cache" / kept.FOLDER / kept.CHARTS
    entries = sorted(store.glob("*.json"))
    assert len(entries) >= 20

    # Mark every kept chart (keeping each record's sha256 right): a section executed again
    # must show the marks, which proves its kernel took the charts from the store.
    originals = {p: p.read_bytes() for p in entries}
    for path in entries:
        stored = json.loads(path.read_text(encoding="utf-8"))
        stored["chart"]["alt"] += " [from the store]"
        stored["sha256"] = kept.record_sha256(stored["chart"])
        path.write_text(json.dumps(stored), encoding="utf-8")
    # the commentary of an overview indicator that is not red with an update re-runs the
    # appendix, which shows it, and whose trend charts and heat map come from the store
    _edit_commentary(data, "overview")
    built = build(Q, data_dir=data, out_dir=out)
    executed = sorted(o.section for o in built.run.sections if o.attempts > 0)
    assert executed == ["appendix"]
    notebook = (out / Q / "notebooks" / "appendix.ipynb").read_text(encoding="utf-8")
    assert notebook.count("[from the store]") >= 9

    # Untouched, the store gives exactly what drawing gives.
    for path, data_bytes in originals.items():
        path.write_bytes(data_bytes)
    _edit_commentary(data, "overview")  # re-runs the sections built from the marked store
    build(Q, data_dir=data, out_dir=out)
    full = build(Q, data_dir=data, out_dir=tmp_path / "full", cache=False)
    for name in [f"notebooks/{s}.ipynb" for s in SECTIONS] + ["report.html", "manifest.json"]:
        assert (out / Q / name).read_bytes() == (full.report.parent / name).read_bytes(), name
    assert not (tmp_path / "full" / ".cache").exists()  # --no-cache keeps no charts either
