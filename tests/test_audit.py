"""Drafts, publishing, the archive of published records and ``scorecard audit``.

Fast tests cover the pieces (results in the manifest, comparing records with the git fields
normalised, drafts replaced, publishing refused or superseding beside the old record, the
words the audit uses). The end-to-end tests (marked e2e) build real quarters from a *copy* of
the data in a temporary folder and audit them the way an auditor does: untouched (exit 0), one
value changed in a past quarter (exit 1, naming the file, the indicator and both values); and,
in a git checkout of a copy of the project, a published quarter whose library code then
changes: the default audit (the recorded commit's code) still reproduces it, the current-code
audit names the changed figures, an edited report is named. Nothing here writes to the
project's data/, outputs/ or published/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import pytest

from scorecard_lib import audit, cli
from scorecard_lib.audit import findings, provenance, records, reruns
from scorecard_lib.audit.results import unexplained_manifest_difference
from scorecard_lib.build import runner
from scorecard_lib.build.executors import SectionJob, SectionOutcome
from scorecard_lib.core import git
from scorecard_lib.core.errors import InputError, PublishedError
from scorecard_lib.core.paths import DATA_DIR, PROJECT_ROOT
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs import archive as archive_mod
from scorecard_lib.inputs import loading
from scorecard_lib.inputs.archive import ARCHIVE_DIR
from scorecard_lib.publish import publishing
from scorecard_lib.report import assemble, manifest, record

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "notebooks"
Q = "2016-17-Q4"
Q3 = "2016-17-Q3"


# --- results recorded in the manifest ---------------------------------------------------------


def test_quarter_results_state_the_seed_figures_and_are_json_safe() -> None:
    results = record.quarter_results(loading.load_inputs(parse_quarter(Q)))
    json.dumps(results, allow_nan=False)  # no NaN anywhere
    counts = results["counts"]
    assert counts["indicators"] == 46 and counts["updated_red"] == 5
    assert counts["ratings"]["Green"] == 17 and counts["ratings"]["Red"] == 10
    cf01 = results["indicators"]["CF01"]
    assert cf01["name"] == "Looked after children per 10,000 children"
    assert cf01["value"] == 66.3 and cf01["previous_value"] == 60.6
    assert cf01["reference"] == 60 and cf01["rating"] == "Red"
    assert cf01["value_quarter"] == Q and cf01["updated"] is True
    assert set(cf01) == set(record.INDICATOR_FIELDS)
    red = {k for k, r in results["risks"].items() if r["current_band"] == "Red"}
    assert {"CRR01", "CRR02"} <= red
    assert set(results["risks"]["CRR01"]) == set(record.RISK_FIELDS)


def test_json_value() -> None:
    import numpy as np
    import pandas as pd

    assert record.json_value(float("nan")) is None
    assert record.json_value(pd.NA) is None
    assert record.json_value(np.int64(3)) == 3 and type(record.json_value(np.int64(3))) is int
    assert record.json_value(np.float64(1.5)) == 1.5
    assert record.json_value(True) is True and record.json_value("x") == "x"


# --- comparing records with the git fields normalised ----------------------------------------


def _record(folder: Path, *, commit: str, dirty: bool, source: str = "s" * 64) -> Path:
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    (folder / "notebooks" / "a.ipynb").write_text("{}\n", encoding="utf-8")
    report = (
        "<html><dl><dt>Git commit</dt><dd><code>"
        f"{commit[:12]}</code></dd><dt>Uncommitted changes to the code</dt><dd>"
        f"{'yes' if dirty else 'no'}</dd><dt>Fingerprint</dt><dd>{source[:12]}</dd></dl></html>\n"
    )
    (folder / "report.html").write_text(report, encoding="utf-8")
    m = {
        "quarter": Q,
        "code": {"git_commit": commit, "git_dirty": dirty, "source_sha256": source},
        "outputs": manifest.output_entries(folder),
        "inputs": [],
    }
    manifest.write_manifest(m, folder / "manifest.json")
    return folder


def test_records_differing_only_in_git_fields_are_the_same(tmp_path: Path) -> None:
    a = _record(tmp_path / "a", commit="a" * 40, dirty=False)
    b = _record(tmp_path / "b", commit="b" * 40, dirty=True)
    assert (a / "report.html").read_bytes() != (b / "report.html").read_bytes()
    assert record.same_record(a, b)
    c = _record(tmp_path / "c", commit="a" * 40, dirty=False, source="t" * 64)
    assert not record.same_record(a, c)  # the code itself is still compared


def _rehash(folder: Path) -> None:
    """Make the manifest's output hashes match the files again, as a careful forger would."""
    path = folder / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["outputs"] = manifest.output_entries(folder)
    manifest.write_manifest(m, path)


INJECTED = "<h2>All indicators are green</h2><script>alert('x')</script>"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(("</code></dd>", f"</code>{INJECTED}</dd>"), id="inside-the-commit-entry"),
        pytest.param(("<dd><code>", f"<dd>{INJECTED}<code>"), id="before-the-commit"),
        pytest.param(
            ("changes to the code</dt><dd>no", f"changes to the code</dt><dd>no {INJECTED}"),
            id="inside-the-dirty-flag",
        ),
    ],
)
def test_text_put_inside_a_git_field_makes_the_record_differ(
    tmp_path: Path, tamper: tuple[str, str]
) -> None:
    """Issue 12, defect 1: only the commit id's own text (and the yes/no of the dirty flag)
    is left out of the comparison, never the element around it."""
    a = _record(tmp_path / "a", commit="a" * 40, dirty=False)
    b = _record(tmp_path / "b", commit="a" * 40, dirty=False)
    report = (b / "report.html").read_text(encoding="utf-8")
    old, new = tamper
    assert report.count(old) == 1
    (b / "report.html").write_text(report.replace(old, new), encoding="utf-8")
    _rehash(b)
    m = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
    assert audit.check_published_files(b, m) == []  # the hashes alone cannot tell
    assert not record.same_record(a, b) and not record.same_record(b, a)
    found = [f for f in audit.compare_outputs(b, a) if f.differs]
    assert found and any("All indicators are green" in f.text for f in found), found


def test_a_git_field_holding_something_other_than_git_values_is_compared(
    tmp_path: Path,
) -> None:
    a = _record(tmp_path / "a", commit="a" * 40, dirty=False)
    b = _record(tmp_path / "b", commit="a" * 40, dirty=False)
    path = b / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["code"]["git_commit"] = "All indicators are green"
    manifest.write_manifest(m, path)
    assert not record.same_record(a, b)
    m["code"]["git_commit"], m["code"]["git_dirty"] = "b" * 40, "maybe"
    manifest.write_manifest(m, path)
    assert not record.same_record(a, b)


def test_only_the_git_values_assemble_writes_are_normalised() -> None:
    """The provenance as the real report renders it: two commits and dirty flags normalise to
    the same text, and nothing but those two values changes."""

    def shown(commit: str | None, dirty: bool | None) -> str:
        code = {"git_commit": commit, "git_dirty": dirty, "source_sha256": "c" * 64}
        return str(assemble.render_provenance({"code_version": code}))

    one, two = shown("1" * 40, False), shown("2" * 40, True)
    m1, m2 = ({"code": {"git_commit": c * 40}} for c in "12")
    assert one != two
    assert record.normalise_report(one, m1) == record.normalise_report(two, m2)
    assert "1" * 12 not in record.normalise_report(one, m1)
    assert record.normalise_report(shown(None, None), {"code": {}}) == record.normalise_report(
        one, m1
    )
    # the commit of another manifest is not removed: each report answers for its own
    assert "1" * 12 in record.normalise_report(one, m2)


def test_a_manifest_field_no_other_check_describes_still_counts() -> None:
    old = json.loads((ARCHIVE_DIR / Q / "manifest.json").read_text(encoding="utf-8"))
    new = json.loads(json.dumps(old))
    new["code"]["git_commit"], new["outputs"] = "f" * 40, []  # skipped: never a difference
    assert unexplained_manifest_difference(old, new, []) == []
    new["environment"]["note"] = "All indicators are green"
    (found,) = unexplained_manifest_difference(old, new, [])
    assert found.differs and found.text.startswith("environment.note: null when published")
    # already different for another reason: that reason is what the audit explains
    assert unexplained_manifest_difference(old, new, [audit.Finding("code", "x")]) == []


def _published_copy(out: Path, quarter: str = Q) -> Path:
    folder = out / quarter
    shutil.copytree(ARCHIVE_DIR / quarter, folder)
    return folder


@pytest.mark.slow
def test_an_audit_of_a_tampered_committed_report_says_it_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real report of the committed record, a heading slipped into its git-commit entry and
    the manifest's hash updated: the audit (its re-run replaced by the untouched record, so no
    kernel starts) finds the outputs differ and names the heading. The untouched record
    compares identical, so it is the tampering that is caught."""
    clean = _published_copy(tmp_path / "clean")
    tampered = _published_copy(tmp_path / "out")
    report = (tampered / "report.html").read_text(encoding="utf-8")
    entry = "<dt>Git commit</dt><dd><code>"
    assert report.count(entry) == 1
    start = report.index(entry) + len(entry)
    end = report.index("</dd>", start)
    report = report[:end] + "<h2>All indicators are green</h2>" + report[end:]
    (tampered / "report.html").write_text(report, encoding="utf-8")
    _rehash(tampered)

    monkeypatch.setattr(reruns, "rerun_current", lambda *a, **k: clean)
    result = audit.audit_quarter(folder=tampered, code=audit.CURRENT)
    outputs = result.differences("outputs")
    assert result.exit_code == 1 and "Verdict: DIFFERENT" in result.text()
    assert result.differences("record") == []  # the hashes were updated to match
    assert any("All indicators are green" in line for line in outputs), result.text()
    assert any("provenance block" in line for line in outputs)
    assert (tmp_path / "out" / Q / "report.html").read_text(encoding="utf-8") == report

    (tampered / "report.html").write_bytes((clean / "report.html").read_bytes())
    _rehash(tampered)
    untouched = audit.audit_quarter(folder=tampered, code=audit.CURRENT)
    assert untouched.differences("outputs") == [], untouched.text()


# --- --keep never writes into a published record (issue 12, defect 2) -------------------------


def test_keep_refuses_a_published_record_and_non_empty_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    folder = _published_copy(out)
    before = _files(out)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine\n", encoding="utf-8")
    cases = {
        str(out): "folder of published records",
        str(folder): "inside a published record",
        str(folder / "notebooks"): "inside a published record",
        str(folder / "notebooks" / "new"): "inside a published record",
        str(tmp_path / "used"): "already holds files",
    }
    for keep, words in cases.items():
        for argv in (["audit", Q], ["audit", "--all"]):
            status = cli.main([*argv, "--archive", str(out), "--keep", keep, "--with-current-code"])
            err = capsys.readouterr().err
            assert status == 2, (keep, err)
            assert words in err and "give --keep a new or empty folder" in err, err
            assert "Traceback" not in err
    assert _files(out) == before  # nothing published changed
    assert (tmp_path / "used" / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_keep_refuses_the_committed_archive(tmp_path: Path) -> None:
    with pytest.raises(PublishedError, match="folder of published records"):
        records.check_keep_folder(PROJECT_ROOT / "published" / "new-folder", tmp_path)
    assert records.check_keep_folder(tmp_path / "kept", tmp_path / "out") == tmp_path / "kept"


# --- an audit reads one consistent record (issue 12, defect 10) -------------------------------


@pytest.mark.slow
def test_an_audit_waits_for_no_publish_and_reads_one_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    folder = _published_copy(out)
    clean = _published_copy(tmp_path / "clean")

    # a run of the quarter holds the publish lock: the audit says so (exit 2), reads nothing
    from filelock import FileLock

    lock = FileLock(str(out / publishing.LOCK_NAME))
    lock.acquire()
    try:
        assert cli.main(["audit", Q, "--archive", str(out), "--with-current-code"]) == 2
        err = capsys.readouterr().err
        assert "A publication is in progress beside the record" in err
        assert "Traceback" not in err
    finally:
        lock.release()

    # a publish that replaces the record while the re-run runs: the audit compares the
    # record as it was when it started (manifest and files together), not a mixture
    def rerun_while_a_publish_replaces_the_record(*_a: Any, **_k: Any) -> Path:
        report = folder / "report.html"
        report.write_text(report.read_text(encoding="utf-8") + "<!-- new -->", encoding="utf-8")
        _rehash(folder)
        return clean

    monkeypatch.setattr(reruns, "rerun_current", rerun_while_a_publish_replaces_the_record)
    result = audit.audit_quarter(folder=folder, code=audit.CURRENT)
    assert result.differences("record") == [] and result.differences("outputs") == [], result.text()


class _Marked:
    """A fake executor: each notebook gets one HTML output saying ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def run(
        self, jobs: Sequence[SectionJob], *, max_workers: int, on_event: Any = None
    ) -> list[SectionOutcome]:
        outcomes = []
        for job in jobs:
            nb = nbformat.read(str(job.notebook), as_version=4)
            nb.metadata["papermill"] = {"parameters": job.parameters}
            out = nbformat.v4.new_output(
                "display_data", data={"text/html": f"<p>{self.marker}</p>"}
            )
            nb.cells[-1].outputs = [out]
            job.output.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(job.output))
            outcomes.append(SectionOutcome(job.section, True, job.output, 0.1, output_written=True))
        return outcomes


@pytest.fixture
def fake_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "check_quarter", lambda q, d=None: parse_quarter(q))
    monkeypatch.setattr(loading, "load_params", lambda q, d=None: {"title": "T", "council": "C"})
    monkeypatch.setattr(loading, "load_inputs", lambda q, d=None: None)
    monkeypatch.setattr(loading, "input_files", lambda q, d=None: [FIXTURES / "alpha.ipynb"])

    def build_report(**kw: Any) -> str:
        body = "".join(nbformat.writes(nb) for _name, nb in kw["notebooks"])
        code = kw["provenance"]["code_version"]
        git = assemble.render_provenance({"code_version": code})  # as the real report has it
        return f"<html>{len(body)}{hash(body) % 1000}{git}{body}</html>\n"

    monkeypatch.setattr(assemble, "build_report", build_report)


def _run(out: Path, marker: str) -> runner.RunResult:
    return runner.run_quarter(
        Q, out_dir=out, executor=_Marked(marker), notebooks_dir=FIXTURES, sections=["alpha"]
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.slow
def test_a_draft_is_replaced_on_every_run_and_nothing_is_kept_aside(
    tmp_path: Path, fake_loading: None
) -> None:
    _run(tmp_path, "one")
    _run(tmp_path, "two")
    assert b"two" in (tmp_path / Q / "notebooks" / "alpha.ipynb").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [Q]


@pytest.fixture
def fake_publish(monkeypatch: pytest.MonkeyPatch, fake_loading: None) -> list[str]:
    """publish_quarter builds with the fake executor; each build says the next marker."""
    markers = ["first", "second", "third"]
    real = runner.run_quarter

    def run_quarter(q: Any, **kw: Any) -> runner.RunResult:
        kw.pop("data_dir", None)
        return real(q, **kw, executor=_Marked(markers.pop(0)), notebooks_dir=FIXTURES,
                    sections=["alpha"])  # fmt: skip

    monkeypatch.setattr(runner, "run_quarter", run_quarter)
    return markers


def _publish(archive: Path, reason: str | None = None) -> publishing.Published:
    return publishing.publish_quarter(
        Q, archive_dir=archive, supersede_reason=reason, require_committed_code=False
    )


@pytest.mark.slow
def test_publish_refuses_a_published_quarter_and_supersedes_beside_it(
    tmp_path: Path, fake_publish: list[str]
) -> None:
    archive = tmp_path / "published"
    first = _publish(archive)
    assert first.folder == archive / Q and first.superseded is None
    assert json.loads((archive / Q / "manifest.json").read_text("utf-8"))["publication"] == {
        "version": 1
    }
    before = _files(archive / Q)

    with pytest.raises(PublishedError) as info:
        _publish(archive)
    message = info.value.message()
    assert info.value.exit_code == 2
    assert f"already published as {archive / Q}" in message or "already published as" in message
    assert f"scorecard publish {Q} --supersede --reason" in message
    for empty in ("", "   "):
        with pytest.raises(InputError, match="needs a reason"):
            _publish(archive, empty)
    # the record, and the archive page that lists it (archive_index.py)
    assert sorted(p.name for p in archive.iterdir() if not p.name.startswith(".")) == [
        Q,
        "index.html",
    ]

    second = _publish(archive, "Corrected the CF01 figure")
    assert second.folder == archive / f"{Q}.v2" and second.superseded is not None
    assert _files(archive / Q) == before  # the old record is kept exactly as it was
    m = json.loads((archive / f"{Q}.v2" / "manifest.json").read_text("utf-8"))
    assert m["publication"] == {
        "version": 2,
        "supersedes": Q,
        "reason": "Corrected the CF01 figure",
    }
    assert b"second" in (archive / f"{Q}.v2" / "notebooks" / "alpha.ipynb").read_bytes()
    records = archive_mod.published_records(archive)
    assert [(r.name, r.version, r.superseded_by) for r in records] == [
        (Q, 1, f"{Q}.v2"),
        (f"{Q}.v2", 2, None),
    ]
    current = archive_mod.current_record(Q, archive)
    assert current is not None and current.reason == "Corrected the CF01 figure"
    assert [q.id for q in audit.published_quarters(archive)] == [Q]
    assert not [p for p in archive.iterdir() if p.name.startswith(".staging")]


@pytest.mark.slow
def test_publish_refuses_uncommitted_code_and_failed_checks(
    tmp_path: Path, fake_publish: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "published"
    real = manifest.code_version
    monkeypatch.setattr(manifest, "code_version", lambda: {**real(), "git_dirty": True})
    with pytest.raises(PublishedError, match="uncommitted changes"):
        publishing.publish_quarter(Q, archive_dir=archive)
    monkeypatch.setattr(loading, "load_params", lambda q, d=None: {"title": " "})
    with pytest.raises(publishing.NotFitToPublish) as info:
        _publish(archive)
    message = info.value.message()
    assert info.value.exit_code == 2
    assert f"params/{Q}.yaml has no title" in message
    assert f"params/{Q}.yaml has no council" in message
    assert not archive.exists() or not any(archive.glob("2*"))  # nothing published


def test_cli_publish_and_run_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def fake(quarter: Any, **kw: Any) -> publishing.Published:
        seen.update(kw)
        rec = archive_mod.PublishedRecord(parse_quarter(Q), tmp_path / f"{Q}.v2", 2, Q, "why")
        old = archive_mod.PublishedRecord(parse_quarter(Q), tmp_path / Q, 1)
        return publishing.Published(rec, old, 1.0)

    monkeypatch.setattr(publishing, "publish_quarter", fake)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["publish", Q, "--supersede"]) == 2
    assert "--supersede needs --reason" in capsys.readouterr().err
    assert cli.main(["publish", Q, "--reason", "x"]) == 2
    assert cli.main(["publish", Q, "--supersede", "--reason", "why", "--archive", "arch"]) == 0
    out = capsys.readouterr().out
    assert seen["supersede_reason"] == "why" and seen["archive_dir"] == Path("arch")
    assert f"Published Quarter Four 2016/17 as {Q}.v2 (version 2)" in out
    assert f"It supersedes {Q}, which is kept as it was." in out
    assert f"git add {Q}.v2" in out
    assert cli.main(["run", Q, "--force"]) == 2  # --force is gone: drafts are never refused


# --- the audit's words ------------------------------------------------------------------------

TABLE = """<table class="data">
<caption>Children's services indicators, Quarter Four 2016/17</caption>
<thead><tr><th scope="col">Indicator</th><th scope="col">Latest value</th>
<th scope="col">Rating</th></tr></thead><tbody>
<tr><th scope="row">Looked after children per 10,000 children</th><td>{v} per 10,000 children</td>
<td><span class="badge">{r}</span></td></tr>
<tr><th scope="row">Other</th><td>1</td><td>Green</td></tr></tbody></table>"""

CHART = """<figure class="chart"><figcaption>Looked after children</figcaption>
<div class="chart-scroll"><svg role="img" aria-label="{alt}"><path d="{d}"/></svg></div>
<details><summary>Data behind this chart: Looked after children</summary>
<table class="data"><caption>Looked after children</caption><thead><tr><th scope="col">Quarter
</th><th scope="col">Value</th></tr></thead><tbody><tr><th scope="row">2016/17 Q4</th>
<td>{v}</td></tr></tbody></table></details></figure>"""


def test_compare_html_names_table_cells_chart_data_and_drawings() -> None:
    old = (
        "<p>The rate is 66.3.</p>"
        + TABLE.format(v="66.3", r="Red")
        + CHART.format(alt="a", d="M0", v="66.3")
    )
    new = (
        "<p>The rate is 70.0.</p>"
        + TABLE.format(v="70.0", r="Red")
        + CHART.format(alt="b", d="M1", v="70.0")
    )
    lines = audit.compare_html(old, new)
    assert (
        "table 'Children's services indicators, Quarter Four 2016/17', row 'Looked after "
        "children per 10,000 children', column 'Latest value': 66.3 per 10,000 children -> "
        "70.0 per 10,000 children"
    ) in lines
    assert (
        "the data behind the chart 'Looked after children', row '2016/17 Q4', column 'Value': "
        "66.3 -> 70.0"
    ) in lines
    assert "text: 'The rate is 66.3.' -> 'The rate is 70.0.'" in lines
    assert not any("Rating" in x for x in lines)  # unchanged cells are not mentioned

    # same data, another drawing: said so, byte-level fallback
    drawn = audit.compare_html(
        CHART.format(alt="a", d="M0", v="1"), CHART.format(alt="a", d="M9", v="1")
    )
    assert drawn == [
        "the chart 'Looked after children' drawing differs (the data behind it is the same)"
    ]
    assert audit.compare_html("<p>a</p>", "<p>a</p>") == []
    assert audit.compare_html("<p>a</p>", "<p class='x'>a</p>")[0].startswith("the markup differs")


def test_compare_results_in_words() -> None:
    base = record.quarter_results(loading.load_inputs(parse_quarter(Q)))
    changed = json.loads(json.dumps(base))
    changed["indicators"]["CF01"]["value"] = 70.0
    changed["risks"]["CRR01"]["current_score"] = 20
    changed["counts"]["ratings"]["Red"] = 11
    lines = [
        f.text
        for f in audit.compare_results(
            base, changed, changed_inputs=["data/2016-17-Q4/values.csv"], quarter_id=Q
        )
    ]
    assert lines[0] == (
        "Indicator CF01 Looked after children per 10,000 children: value 66.3 -> 70.0; "
        "rating Red (unchanged) (changed input: data/2016-17-Q4/values.csv)"
    )
    assert any(
        x.startswith("Risk CRR01 Serious harm") and "current score 15 -> 20" in x for x in lines
    )
    assert "Count of ratings: Red 10 -> 11" in lines
    same = audit.compare_results(base, base)
    assert len(same) == 1 and not same[0].differs
    assert not audit.compare_results(None, base)[0].differs  # an old manifest: information


@pytest.mark.slow
def test_same_code_at_another_commit_is_information_not_a_difference() -> None:
    old = {"source_sha256": "a" * 64, "git_commit": "1" * 40, "package_version": "0.1.0"}
    (info,) = provenance.compare_code(old, {**old, "git_commit": "2" * 40, "git_dirty": False})
    assert not info.differs
    assert info.text == (
        "same code (source hash equal, aaaaaaaaaaaa), recorded at commit 111111111111, now at "
        "222222222222"
    )
    (diff,) = provenance.compare_code(old, {**old, "source_sha256": "b" * 64})
    assert diff.differs and diff.text.startswith(
        "the code differs from the version that published this report (source hash "
        "aaaaaaaaaaaa, now bbbbbbbbbbbb"
    )
    env = provenance.compare_environment(
        {"python": "3.11.7", "packages": {"pandas": "3.1.1", "gone": "1"}},
        {"python": "3.11.8", "packages": {"pandas": "3.1.2", "new": "2"}},
    )
    assert [f.text for f in env] == [
        "Python 3.11.7 when published, 3.11.8 now",
        "package gone 1 is no longer used",
        "package new 2 was not used then",
        "package pandas 3.1.1 when published, 3.1.2 now",
    ]


def test_csv_diff_names_rows_and_columns() -> None:
    old = "indicator_id,value\nCF01,60.6\nCF02,38.1\n"
    new = "indicator_id,value\nCF01,70.0\nCF03,1\n"
    assert findings.csv_diff(old, new) == [
        "row CF01, column 'value': 60.6 -> 70.0",
        "row CF02 was removed",
        "row CF03 was added",
    ]


def test_inputs_changed_added_and_removed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    q = parse_quarter(Q3)
    recorded = {"inputs": manifest.input_entries(loading.input_files(q, data), data), "code": {}}
    found, changed = provenance.check_inputs(q, data, recorded)
    assert changed == [] and not found[0].differs
    values = data / Q3 / "values.csv"
    values.write_text(values.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (data / "2016-17-Q1" / "breakdowns.csv").unlink()
    (data / Q3 / "overrides.csv").write_text(
        "indicator_id,rating,reason,approved_by\n", encoding="utf-8"
    )
    found, changed = provenance.check_inputs(q, data, recorded)
    texts = [f.text.splitlines()[0] for f in found]
    assert changed == [
        "DATA/2016-17-Q1/breakdowns.csv",
        "DATA/2016-17-Q3/overrides.csv",
        "DATA/2016-17-Q3/values.csv",
    ]
    assert texts[0] == "removed: DATA/2016-17-Q1/breakdowns.csv was read for the published report"
    assert texts[1] == "added: DATA/2016-17-Q3/overrides.csv was not there when it was published"
    assert texts[2].startswith("changed: DATA/2016-17-Q3/values.csv (sha256 ")


# --- git, asked in one place ------------------------------------------------------------------


@pytest.mark.slow
def test_git_questions_outside_a_checkout_have_no_answer(tmp_path: Path) -> None:
    assert git.is_checkout(tmp_path) is False
    assert git.head_commit(tmp_path) is None
    assert git.has_changes(("scorecard_lib",), tmp_path) is None
    assert git.commit_exists("0" * 40, tmp_path) is False
    assert git.add_worktree(tmp_path / "tree", "HEAD", tmp_path) is False
    assert not (tmp_path / "tree").exists()


@pytest.mark.slow
def test_a_commit_is_checked_out_as_a_worktree_and_removed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "notebooks").mkdir()
    (repo / "notebooks" / "a.txt").write_text("first\n", encoding="utf-8")
    me = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    assert git.run("init", "-q", cwd=repo) is not None
    assert git.run("add", "-A", cwd=repo) is not None
    assert git.run(*me, "commit", "-q", "-m", "first", cwd=repo) is not None
    commit = git.head_commit(repo)
    assert commit is not None and git.commit_exists(commit, repo)
    assert git.is_checkout(repo) and git.has_changes(("notebooks",), repo) is False
    (repo / "notebooks" / "a.txt").write_text("second\n", encoding="utf-8")
    (repo / "notebooks" / "b.txt").write_text("new\n", encoding="utf-8")
    assert git.has_changes(("notebooks",), repo) is True
    assert git.changed_paths(commit, ("notebooks",), repo) == "M\tnotebooks/a.txt\n"
    assert git.untracked_paths(("notebooks",), repo) == ["notebooks/b.txt"]
    assert git.file_at(commit, "notebooks/a.txt", repo) == b"first\n"
    tree = tmp_path / "tree"
    assert git.add_worktree(tree, commit, repo)
    assert (tree / "notebooks" / "a.txt").read_text(encoding="utf-8") == "first\n"
    git.remove_worktree(tree, repo)
    assert not tree.exists()
    assert str(tree) not in (git.run("worktree", "list", cwd=repo) or "")


# --- bad input: exit 2 ------------------------------------------------------------------------


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "published"
    assert cli.main(["audit", Q, "--archive", str(out)]) == 2
    assert "has no published record to audit" in capsys.readouterr().err
    (out / Q).mkdir(parents=True)
    (out / Q / "manifest.json").write_text("{not json", encoding="utf-8")
    assert cli.main(["audit", Q, "--archive", str(out)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    (out / Q / "manifest.json").write_text('{"quarter": "2016-17-Q3"}', encoding="utf-8")
    assert cli.main(["audit", Q, "--archive", str(out)]) == 2
    assert "not a scorecard manifest" in capsys.readouterr().err
    assert cli.main(["audit", "Q9 2016", "--archive", str(out)]) == 2
    assert cli.main(["audit", "--archive", str(out)]) == 2  # neither QUARTER nor --all
    assert cli.main(["audit", "--all", "--archive", str(tmp_path / "empty")]) == 2
    assert "no published quarter" in capsys.readouterr().err
    assert cli.main(["audit", str(tmp_path / "nothing-here")]) == 2
    assert "is not a published record" in capsys.readouterr().err


@pytest.mark.slow
def test_a_recorded_commit_missing_from_the_repository_is_said_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "published"
    shutil.copytree(ARCHIVE_DIR / Q3, archive / Q3)
    m = json.loads((archive / Q3 / "manifest.json").read_text("utf-8"))
    m["code"]["git_commit"] = "0123456789abcdef" * 2 + "01234567"
    manifest.write_manifest(m, archive / Q3 / "manifest.json")
    assert cli.main(["audit", Q3, "--archive", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "cannot be audited with the code that made it" in err
    assert "0123456789abcdef0123456789abcdef01234567 is not in this repository" in err


def test_audit_all_audits_the_standing_records_and_combines_exit_codes(tmp_path: Path) -> None:
    for name in ("2016-17-Q3", Q, f"{Q}.v2", "2017-18-Q1", "notes"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}", encoding="utf-8")
    seen: list[tuple[str, str]] = []

    def fake(q: Quarter, **kw: Any) -> audit.AuditResult:
        seen.append((q.id, kw["code"]))
        result = audit.AuditResult(quarter_id=q.id, folder=tmp_path / q.id)
        if q.id == Q:
            result.findings.append(audit.Finding("outputs", "x differs"))
        if q.id == "2017-18-Q1":
            raise PublishedError("broken manifest")
        return result

    results = audit.audit_all(archive_dir=tmp_path, parallel=1, audit=fake)
    assert seen == [("2016-17-Q3", "recorded"), (Q, "recorded"), ("2017-18-Q1", "recorded")]
    assert [r.exit_code for r in results] == [0, 1, 2]
    assert results[2].folder == tmp_path / "2017-18-Q1"
    assert "broken manifest" in results[2].text()
    assert audit.exit_code(results) == 2 and audit.exit_code(results[:2]) == 1
    assert audit.exit_code(results[:1]) == 0
    assert [r.name for r in archive_mod.current_records(tmp_path)] == [Q3, f"{Q}.v2", "2017-18-Q1"]


def test_result_changes_and_the_make_test_message() -> None:
    old = {
        "indicators": {"CF01": {"name": "Looked after", "rating": "Green", "value": 60.6}},
        "risks": {},
        "counts": {"ratings": {"Green": 1, "Amber": 0}},
    }
    new = {
        "indicators": {"CF01": {"name": "Looked after", "rating": "Amber", "value": 60.6}},
        "risks": {},
        "counts": {"ratings": {"Green": 0, "Amber": 1}},
    }
    changes = audit.result_changes(Q, old, new)
    assert [c.text() for c in changes] == [
        f"{Q} indicator CF01 rating: Green published, Amber with the current code",
        f"{Q} count of ratings Amber: 0 published, 1 with the current code",
        f"{Q} count of ratings Green: 1 published, 0 with the current code",
    ]
    result = audit.AuditResult(quarter_id=Q, folder=Path(Q), result_changes=changes)
    unexpected = audit.unexpected_result_changes([result], [changes[1].as_dict()])
    assert unexpected == [changes[0], changes[2]]
    message = audit.impact_message(unexpected, "tests/expected_result_changes.json")
    assert "indicator CF01 rating: Green published, Amber with the current code" in message
    assert "docs/aqa/assumptions.md" in message and "expected_result_changes.json" in message
    entry = json.loads(message.splitlines()[-1])  # an entry to paste into the expected list
    assert audit.unexpected_result_changes([result], [entry]) == changes[:2]
    assert audit.result_changes(Q, None, new) == []  # records from before results


# --- end to end: the tamper cases an auditor tries by hand ------------------------------------


@pytest.mark.e2e
def test_audit_of_an_untouched_quarter_then_of_a_changed_value(tmp_path: Path) -> None:
    """With the current code (no git worktree needed): a record built into a temporary archive
    is reproduced; then one value of its data changes and the audit names it."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    out = tmp_path / "published"
    runner.run_quarter(Q3, data_dir=data, out_dir=out, jobs=2)

    untouched = audit.audit_quarter(Q3, archive_dir=out, jobs=2, code=audit.CURRENT)
    assert untouched.exit_code == 0, untouched.text()
    assert "Verdict: IDENTICAL" in untouched.text()

    values = data / Q3 / "values.csv"
    text = values.read_text(encoding="utf-8")
    assert text.count("\nCF01,60.6,") == 1
    values.write_text(text.replace("\nCF01,60.6,", "\nCF01,70.0,"), encoding="utf-8")
    changed = audit.audit_quarter(Q3, archive_dir=out, jobs=2, code=audit.CURRENT)
    report = changed.text()
    assert changed.exit_code == 1
    assert "changed: DATA/2016-17-Q3/values.csv" in report  # the file
    assert (
        "Indicator CF01 Looked after children per 10,000 children: value 60.6 -> 70.0; "
        "rating Amber -> Red"
    ) in report  # the indicator and both values
    assert "column 'Latest value': 60.6 per 10,000 children -> 70.0 per 10,000 children" in report
    assert "the data changed (1 input file)" in report and "the code changed" not in report

    # the CLI says the same, with exit status 1
    args = ["audit", Q3, "--archive", str(out), "--jobs", "2", "--with-current-code"]
    assert cli.main(args) == 1


def _project_copy(root: Path) -> Path:
    """A git checkout of a copy of the project (code, notebooks, data, parameters)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("scorecard_lib", "notebooks", "data", "params"):
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=ignore)
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / ".gitignore").write_text("__pycache__/\n/outputs/.*\n", encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    return root


def _scorecard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The scorecard command of the copy: its own scorecard_lib first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "scorecard_lib.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.mark.e2e
@pytest.mark.slow
def test_publish_then_audit_with_the_recorded_code_and_with_the_current_code(
    tmp_path: Path,
) -> None:
    """In a git checkout of a copy of the project: publish a quarter; change one line of
    library code that alters figures; the default audit (the recorded commit's code, in a git
    worktree) still reproduces the record exactly, the current-code audit names the changed
    figures and ratings; an edited archived report is named by either."""
    root = _project_copy(tmp_path / "project")
    done = _scorecard(root, "publish", Q3, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Published Quarter Three 2016/17 as published/{Q3} (version 1)" in done.stdout
    published = json.loads((root / "published" / Q3 / "manifest.json").read_text("utf-8"))
    assert published["code"]["git_dirty"] is False
    assert published["publication"] == {"version": 1}
    commit = published["code"]["git_commit"]
    again = _scorecard(root, "publish", Q3)
    assert again.returncode == 2 and "is already published" in again.stderr

    # one line of library code that alters a figure: every value is reported 10% higher
    rating = root / "scorecard_lib" / "rules" / "rating.py"
    text = rating.read_text(encoding="utf-8")
    line = '        value = _clean(latest.get("value"))\n'
    assert text.count(line) == 1
    rating.write_text(
        text.replace(line, line + "        value = None if value is None else value * 1.1\n"),
        encoding="utf-8",
    )
    before = _files(root / "published")

    recorded = _scorecard(root, "audit", Q3, "--jobs", "2")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert f"re-executed with the recorded code (a git worktree of commit {commit[:12]})" in (
        recorded.stdout
    )
    assert "Verdict: IDENTICAL" in recorded.stdout
    assert not list((root / ".git" / "worktrees").glob("*"))  # the worktree was removed

    current = _scorecard(root, "audit", "--all", "--jobs", "2", "--with-current-code")
    report = current.stdout
    assert current.returncode == 1, report + current.stderr
    assert "the code differs from the version that published this report (source hash" in report
    assert "modified: scorecard_lib/rules/rating.py" in report
    assert "Indicator CF01 Looked after children per 10,000 children: value 60.6 -> " in report
    assert f"{Q3} indicator CF01 rating: Amber published, Red with the current code" in report
    assert _files(root / "published") == before  # nothing under the archive was touched

    # an edited archived report is named (exit 1)
    html = root / "published" / Q3 / "report.html"
    html.write_text(html.read_text("utf-8").replace("</body>", "<p>x</p></body>"), "utf-8")
    edited = _scorecard(root, "audit", Q3, "--jobs", "2")
    assert edited.returncode == 1, edited.stdout + edited.stderr
    assert "report.html was changed after it was published" in edited.stdout
