"""The build cache never serves a stale result.

Each kind of input is changed in turn and the test checks which sections are executed again.
A recording executor stands in for papermill (no kernels); loading, validation, report
assembly and the manifest are the real ones, on a copy of the sample data. The last tests
check the commentary declarations against the real notebooks run in-process, and (with real
kernels) that a build served partly from the cache is byte-identical to a full one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import nbformat
import pytest
import yaml

from scorecard_lib import cli
from scorecard_lib.build import cache, runner
from scorecard_lib.build.executors import SectionJob, SectionOutcome
from scorecard_lib.build.preparation import KernelPreparation
from scorecard_lib.core.errors import InputError
from scorecard_lib.core.paths import DATA_DIR, NOTEBOOKS_DIR, PARAMS_DIR, PROJECT_ROOT
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.inputs import locations
from scorecard_lib.report import manifest

Q = "2016-17-Q4"
ALL = set(SECTIONS)

# Every test here builds a report or runs the notebooks (a stand-in executor still loads,
# validates, assembles and asks git for the code version): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


class RecordingExecutor:
    """Writes each notebook back as its 'executed' self and records what it was asked to run."""

    def __init__(self, hook: Callable[[SectionJob], None] | None = None) -> None:
        self.hook = hook
        self.runs: list[list[str]] = []

    @property
    def ran(self) -> set[str]:
        return set(self.runs[-1]) if self.runs else set()

    def run(
        self,
        jobs: Sequence[SectionJob],
        *,
        max_workers: int,
        on_event: Callable[[str, str, float | None], None] | None,
    ) -> list[SectionOutcome]:
        self.runs.append([j.section for j in jobs])
        outcomes = []
        for job in jobs:
            if self.hook:
                self.hook(job)
            nb = nbformat.read(str(job.notebook), as_version=4)
            nb.metadata["papermill"] = {"parameters": dict(job.parameters)}
            job.output.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(job.output))
            if on_event:
                on_event(job.section, "finished", 0.1)
            outcomes.append(
                SectionOutcome(
                    section=job.section,
                    ok=True,
                    output=job.output,
                    seconds=0.1,
                    output_written=True,
                )
            )
        return outcomes


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


def _build(data: Path, out: Path, executor: Any, **kwargs: Any) -> runner.RunResult:
    return runner.run_quarter(
        Q, data_dir=data, out_dir=out, executor=executor, cache=True, **kwargs
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _edit_commentary(data: Path, indicator: str, extra: str = " Edited.") -> None:
    path = data / Q / "commentary.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries[indicator]["commentary"] = entries[indicator]["commentary"].rstrip() + extra + "\n"
    path.write_text(yaml.safe_dump(entries, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _section_of(data: Path) -> dict[str, str]:
    import pandas as pd

    cat = pd.read_csv(data / "catalogue.csv", dtype=str)
    return dict(zip(cat["indicator_id"], cat["section"], strict=True))


def _commentary_ids(data: Path) -> dict[str, list[str]]:
    """section -> the indicators with commentary this quarter."""
    sections = _section_of(data)
    entries = yaml.safe_load((data / Q / "commentary.yaml").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for ind in entries:
        found.setdefault(sections[ind], []).append(ind)
    return found


def _explained(data: Path) -> set[str]:
    """The indicators the cover report explains: red with an update this quarter."""
    from scorecard_lib import load_scorecard

    return set(load_scorecard(Q, data_dir=data).updated_red()["indicator_id"])


def _with_commentary(data: Path, section: str, explained: bool) -> str:
    """An indicator of ``section`` with commentary this quarter, red with an update or not."""
    red = _explained(data)
    return next(i for i in _commentary_ids(data)[section] if (i in red) == explained)


@pytest.fixture
def built(data: Path, tmp_path: Path) -> tuple[Path, Path, RecordingExecutor]:
    """One full build with the cache: every section executed."""
    out = tmp_path / "out"
    ex = RecordingExecutor()
    result = _build(data, out, ex)
    assert ex.ran == ALL and not result.up_to_date
    return data, out, ex


# --- nothing changed ------------------------------------------------------------------------


def test_nothing_changed_runs_nothing_and_changes_nothing(built: Any) -> None:
    data, out, ex = built
    before = _snapshot(out / Q)
    result = _build(data, out, ex)
    assert result.up_to_date and len(ex.runs) == 1  # the executor was not even called
    assert _snapshot(out / Q) == before
    # the command line's own check (made before pandas is imported) is for papermill builds:
    # what a test's executor made is never "up to date" for it
    assert cache.up_to_date(Q, data_dir=data, out_dir=out) is None


def test_an_edited_published_file_is_rebuilt_from_the_cache(built: Any) -> None:
    data, out, ex = built
    before = _snapshot(out / Q)
    (out / Q / "report.html").write_text("edited by hand\n", encoding="utf-8")
    result = _build(data, out, ex)
    assert not result.up_to_date and len(ex.runs) == 1  # every section from the cache
    assert _snapshot(out / Q) == before


# --- commentary: only the section that shows it ---------------------------------------------


def _readers(data: Path, indicator: str) -> set[str]:
    """The report sections that show ``indicator``'s commentary: the cover report when it is
    red with an update (it explains those, and its section only links to the explanation);
    otherwise its own section, or the appendix for an indicator without a service section."""
    if indicator in _explained(data):
        return {"overview"}
    section = _section_of(data)[indicator]
    return {"appendix"} if section == "overview" else {section}


@pytest.mark.parametrize(
    ("section", "explained"),
    [
        ("overview", False),
        ("childrens_services", True),
        ("childrens_services", False),
        ("adult_care", True),
        ("adult_care", False),
        ("workforce", True),
        ("workforce", False),
    ],
)
def test_commentary_edited_re_executes_only_the_sections_that_show_it(
    built: Any, section: str, explained: bool
) -> None:
    data, out, ex = built
    indicator = _with_commentary(data, section, explained)
    _edit_commentary(data, indicator)
    events: list[tuple[str, str]] = []
    _build(data, out, ex, on_event=lambda s, e, _t: events.append((s, e)))
    expected = _readers(data, indicator)
    assert ex.ran == expected
    assert sorted(s for s, e in events if e == "from cache") == sorted(ALL - expected)


def test_actions_and_author_count_as_commentary(built: Any) -> None:
    data, out, ex = built
    path = data / Q / "commentary.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    ind = _commentary_ids(data)["workforce"][0]
    entries[ind]["author"] = "Someone else"
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    _build(data, out, ex)
    assert ex.ran == _readers(data, ind)


def test_new_commentary_for_an_indicator_re_executes_its_section(built: Any) -> None:
    data, out, ex = built
    sections = _section_of(data)
    have = {i for ids in _commentary_ids(data).values() for i in ids}
    ind = next(i for i, s in sorted(sections.items()) if s == "adult_care" and i not in have)
    path = data / Q / "commentary.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries[ind] = {"commentary": "New words.\n", "actions": [], "author": "A. Officer"}
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    _build(data, out, ex)
    assert ex.ran == _readers(data, ind) == {"adult_care"}


def test_an_indicator_moved_to_another_section_re_executes_everything(built: Any) -> None:
    data, out, ex = built
    path = data / "catalogue.csv"
    text = path.read_text(encoding="utf-8")
    ind = _commentary_ids(data)["workforce"][0]
    lines = [
        line.replace(",workforce,", ",adult_care,", 1) if line.startswith(f"{ind},") else line
        for line in text.splitlines(keepends=True)
    ]
    path.write_text("".join(lines), encoding="utf-8")
    _build(data, out, ex)
    assert ex.ran == ALL  # the catalogue is read by every section


# --- every other kind of input ----------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [
        f"{Q}/values.csv",  # this quarter's figures
        "2016-17-Q1/values.csv",  # an earlier quarter a trend reads
        f"{Q}/risks.csv",
        f"{Q}/breakdowns.csv",
        "2016-17-Q2/overrides.csv",
        "settings.yaml",
        "catalogue.csv",
    ],
)
def test_a_changed_data_file_re_executes_every_section(built: Any, relative: str) -> None:
    data, out, ex = built
    path = data / relative
    path.write_bytes(path.read_bytes() + b"\n")  # same content as far as loading is concerned
    _build(data, out, ex)
    assert ex.ran == ALL


def test_a_later_quarter_is_not_an_input(built: Any) -> None:
    data, out, ex = built
    before = _snapshot(out / Q)
    path = data / "2017-18-Q1" / "values.csv"
    path.write_bytes(path.read_bytes() + b"\n")
    result = _build(data, out, ex)
    assert not result.up_to_date  # the run record is conservative: every data file counts
    assert len(ex.runs) == 1  # but no section reads 2017-18-Q1: the executor was not called
    assert _snapshot(out / Q) == before


def test_a_new_input_file_re_executes_every_section(built: Any) -> None:
    data, out, ex = built
    (data / Q / "overrides.csv").write_text(
        "indicator_id,rating,reason,approved_by\n", encoding="utf-8"
    )
    _build(data, out, ex)
    assert ex.ran == ALL


def test_the_parameters_file(built: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, out, ex = built
    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    monkeypatch.setattr(locations, "PARAMS_DIR", params)
    monkeypatch.setattr(cache, "PARAMS_DIR", params)
    _build(data, out, ex)  # the same bytes from another place: a new input path
    ex.runs.clear()
    _build(data, out, ex)
    assert ex.runs == []
    path = params / f"{Q}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Sample", "Example"), "utf-8")
    _build(data, out, ex)
    assert ex.ran == ALL


def test_a_parameters_folder_appearing_beside_the_data(built: Any, tmp_path: Path) -> None:
    """loading reads params/ beside the data folder when there is one: a folder created after
    a build changes what the next build reads, though no file it read has changed."""
    data, out, ex = built
    beside = data.parent / "params"
    assert not beside.exists()
    beside.mkdir()
    path = beside / f"{Q}.yaml"
    path.write_text(
        (PARAMS_DIR / f"{Q}.yaml").read_text(encoding="utf-8").replace("Sample", "Other"), "utf-8"
    )
    result = _build(data, out, ex)
    assert not result.up_to_date and ex.ran == ALL


def test_the_notebook_parameters(built: Any, tmp_path: Path) -> None:
    data, out, ex = built
    moved = tmp_path / "elsewhere"
    shutil.copytree(data, moved)  # same bytes, but data_dir (a notebook parameter) differs
    _build(moved, out, ex)
    assert ex.ran == ALL


def test_a_changed_notebook_re_executes_only_its_section(built: Any, tmp_path: Path) -> None:
    data, out, ex = built
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, notebooks)
    _build(data, out, ex, notebooks_dir=notebooks)
    ex.runs.clear()
    _build(data, out, ex, notebooks_dir=notebooks)
    assert ex.runs == []
    nb = nbformat.read(str(notebooks / "workforce.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
    nbformat.write(nb, str(notebooks / "workforce.ipynb"))
    _build(data, out, ex, notebooks_dir=notebooks)
    assert ex.ran == {"workforce"}


def test_the_library_code(built: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data, out, ex = built
    real = manifest.source_sha256()
    monkeypatch.setattr(manifest, "source_sha256", lambda root=PROJECT_ROOT: "0" * 64)
    assert real != "0" * 64
    _build(data, out, ex)
    assert ex.ran == ALL


@pytest.mark.parametrize("change", ["upgrade", "add"])
def test_package_versions(built: Any, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    data, out, ex = built
    installed = cache.installed_packages()
    pandas = next(p for p in installed if p.lower().startswith("pandas-"))
    if change == "upgrade":
        faked = [p if p != pandas else "pandas-99.0.0.dist-info" for p in installed]
    else:
        faked = [*installed, "somethingnew-1.0.dist-info"]
    monkeypatch.setattr(cache, "installed_packages", lambda: faked)
    _build(data, out, ex)
    assert ex.ran == ALL


def test_the_kernel_environment(built: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from scorecard_lib.build import executors

    data, out, ex = built
    monkeypatch.setattr(executors, "KERNEL_ENV", {**executors.KERNEL_ENV, "TZ": "Europe/London"})
    _build(data, out, ex)
    assert ex.ran == ALL


def test_another_executor_never_gets_these_results(built: Any) -> None:
    data, out, _ex = built

    class OtherExecutor(RecordingExecutor):
        pass

    other = OtherExecutor()
    _build(data, out, other)
    assert other.ran == ALL


# --- what is stored, and when ----------------------------------------------------------------


def test_an_input_edited_during_the_build_is_not_cached(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ind = _commentary_ids(data)["adult_care"][0]

    def edit(job: SectionJob) -> None:
        if job.section == "adult_care":
            _edit_commentary(data, ind, " Changed while it ran.")

    with pytest.raises(InputError, match="changed while the report was being built"):
        _build(data, out, RecordingExecutor(hook=edit))
    assert not (out / Q).exists()
    again = RecordingExecutor()
    _build(data, out, again)
    # the sections that show the edited commentary ran before or during the edit: their
    # results belong to neither version; every other section's result was kept
    assert again.ran == _readers(data, ind)


def test_a_damaged_entry_is_not_used(built: Any) -> None:
    data, out, ex = built
    entries = sorted((out / ".cache" / "sections" / "appendix").glob("*.ipynb"))
    assert len(entries) == 1
    entries[0].write_text(entries[0].read_text(encoding="utf-8").replace("Appendix", "Apendix"))
    ind = _with_commentary(data, "workforce", explained=False)
    _edit_commentary(data, ind)  # so the run is not skipped; the appendix does not show it
    _build(data, out, ex)
    assert ex.ran == {"workforce", "appendix"}


def test_a_failed_section_keeps_the_others_cached(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    class Flaky(RecordingExecutor):
        """Says "finished" for every section, then reports workforce as failed: the cache must
        go by the outcome, not the event."""

        fail: ClassVar[set[str]] = {"workforce"}

        def run(self, jobs: Sequence[SectionJob], **kw: Any) -> list[SectionOutcome]:
            done = super().run(jobs, **kw)
            return [
                SectionOutcome(section=o.section, ok=False, output=o.output, seconds=0.1)
                if o.section in self.fail
                else o
                for o in done
            ]

    flaky = Flaky()
    with pytest.raises(runner.SectionsFailed):
        _build(data, out, flaky)
    Flaky.fail = set()
    _build(data, out, flaky)
    assert flaky.ran == {"workforce"}


def test_old_entries_are_pruned(built: Any) -> None:
    data, out, ex = built
    ind = _with_commentary(data, "workforce", explained=False)
    for n in range(cache.KEEP_PER_SECTION + 3):
        _edit_commentary(data, ind, f" Draft {n}.")
        _build(data, out, ex)
    kept = list((out / ".cache" / "sections" / "workforce").glob("*.ipynb"))
    assert len(kept) == cache.KEEP_PER_SECTION


def test_without_the_cache_nothing_is_read_or_written(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        ex = RecordingExecutor()
        runner.run_quarter(Q, data_dir=data, out_dir=out, executor=ex)  # cache=False by default
        assert ex.ran == ALL
    assert not (out / ".cache").exists()


def test_report_and_manifest_are_the_same_from_the_cache(data: Path, tmp_path: Path) -> None:
    """A build whose sections all come from the cache publishes the same bytes as a full one."""
    full = tmp_path / "full"
    runner.run_quarter(Q, data_dir=data, out_dir=full, executor=RecordingExecutor())
    cached = tmp_path / "cached"
    ex = RecordingExecutor()
    _build(data, cached, ex)
    shutil.rmtree(cached / Q)  # force assembly from cached sections only
    _build(data, cached, ex)
    assert len(ex.runs) == 1
    assert _snapshot(cached / Q) == _snapshot(full / Q)


# --- the commentary declarations, checked against the real notebooks (no kernels) ---------------


def _floor() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_floor", PROJECT_ROOT / "bench" / "floor.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells], sort_keys=True)


def test_each_section_shows_only_the_commentary_it_is_keyed_on(data: Path, tmp_path: Path) -> None:
    """For every section: change every commentary entry outside its declared slice and check
    its output does not change; change the entries inside it and check it does (when the
    section shows commentary)."""
    floor = _floor()
    params = {"quarter": Q, "data_dir": str(data)}
    sections = _section_of(data)
    red = _explained(data)
    path = data / Q / "commentary.yaml"
    original = path.read_text(encoding="utf-8")
    entries = yaml.safe_load(original)
    assert set(cache.COMMENTARY_READ) == ALL

    def run(section: str, name: str) -> str:
        out = tmp_path / name / f"{section}.ipynb"
        floor.execute_notebook(NOTEBOOKS_DIR / f"{section}.ipynb", out, params)
        return _outputs(out)

    def rewrite(keep: Callable[[str], bool]) -> None:
        edited = {
            k: v
            if keep(k)
            else {
                **v,
                "commentary": v["commentary"] + "Rewritten.\n",
                "actions": [*v["actions"], "An added action."],
                "author": "Another author",
            }
            for k, v in entries.items()
        }
        path.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")

    for section in SECTIONS:
        shown = cache.COMMENTARY_READ[section]

        def inside(ind: str, shown: Any = shown) -> bool:
            return bool(shown.includes({sections[ind]}, ind in red))

        base = run(section, "base")
        rewrite(inside)  # every entry it is not keyed on
        assert run(section, f"outside-{section}") == base, section
        if any(inside(ind) for ind in entries):
            rewrite(lambda ind: not inside(ind))  # every entry it is keyed on
            assert run(section, f"inside-{section}") != base, section
        path.write_text(original, encoding="utf-8")


def _edited_against_a_full_build(
    data: Path, tmp_path: Path, indicator: str
) -> tuple[set[str], dict[str, bytes]]:
    """Build with the cache (notebooks really run, in-process), edit ``indicator``'s
    commentary, build again; check the result is byte-identical to a build without the cache
    of the edited data. Returns the sections re-executed and the published files."""
    executor = _floor().InProcessExecutor()
    out = tmp_path / "cached"
    _build(data, out, executor)
    _edit_commentary(data, indicator, " A sentence only this edit wrote.")
    events: list[tuple[str, str]] = []
    _build(data, out, executor, on_event=lambda s, e, _t: events.append((s, e)))
    ran = {s for s, e in events if e == "finished"}
    assert ran | {s for s, e in events if e == "from cache"} == ALL
    runner.run_quarter(Q, data_dir=data, out_dir=tmp_path / "full", executor=executor)
    published = _snapshot(out / Q)
    assert published == _snapshot(tmp_path / "full" / Q)
    return ran, published


def _shows_edit(published: dict[str, bytes], name: str) -> bool:
    return b"A sentence only this edit wrote." in published[name]


@pytest.mark.slow
def test_an_explanation_edited_shows_in_the_cover_report(data: Path, tmp_path: Path) -> None:
    """A red indicator with an update: its commentary is in the cover report's exceptions, so
    the overview runs again; its section only links there and comes from the cache."""
    ind = _with_commentary(data, "childrens_services", explained=True)
    ran, published = _edited_against_a_full_build(data, tmp_path, ind)
    assert ran == {"overview"}
    assert _shows_edit(published, "notebooks/overview.ipynb")
    assert _shows_edit(published, "report.html")
    assert not _shows_edit(published, "notebooks/childrens_services.ipynb")


@pytest.mark.slow
def test_other_commentary_edited_leaves_the_cover_report_cached(data: Path, tmp_path: Path) -> None:
    """An indicator that is not red with an update: its commentary is shown in its section
    only, so the cover report is taken from the cache."""
    ind = _with_commentary(data, "childrens_services", explained=False)
    ran, published = _edited_against_a_full_build(data, tmp_path, ind)
    assert ran == {"childrens_services"}
    assert _shows_edit(published, "notebooks/childrens_services.ipynb")
    assert _shows_edit(published, "report.html")
    assert not _shows_edit(published, "notebooks/overview.ipynb")


# --- with real kernels ------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_build_from_the_cache_is_byte_identical_to_a_full_build(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cached = tmp_path / "cached"
    first = runner.run_quarter(Q, data_dir=data, out_dir=cached, cache=True)
    assert [o.attempts > 0 for o in first.sections] == [True] * len(SECTIONS)
    ind = _with_commentary(data, "workforce", explained=True)
    _edit_commentary(data, ind)
    second = runner.run_quarter(Q, data_dir=data, out_dir=cached, cache=True)
    executed = sorted(o.section for o in second.sections if o.attempts > 0)
    assert executed == ["overview"]  # the cover explains workforce's red ones; workforce links
    full = runner.run_quarter(Q, data_dir=data, out_dir=tmp_path / "full")
    a, b = _snapshot(cached / Q), _snapshot(full.out_folder)
    assert sorted(a) == sorted(b)
    for name in a:
        assert hashlib.sha256(a[name]).hexdigest() == hashlib.sha256(b[name]).hexdigest(), name
    assert runner.run_quarter(Q, data_dir=data, out_dir=cached, cache=True).up_to_date
    assert cache.up_to_date(Q, data_dir=data, out_dir=cached) == cached / Q
    assert cli.main(["run", Q, "--data", str(data), "--out", str(cached)]) == 0
    assert "Nothing changed" in capsys.readouterr().out


# --- kernels started ahead (executors.PapermillExecutor.start) ---------------------------------


def _kernel_pids() -> set[int]:
    import psutil

    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:
            continue
    return found


def _gone(pids: set[int], seconds: float = 10.0) -> bool:
    import time

    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.e2e
def test_kernels_started_ahead_give_the_same_notebooks(tmp_path: Path) -> None:
    from scorecard_lib.build.executors import PapermillExecutor
    from scorecard_lib.build.normalise import normalise_notebook, notebook_text

    def jobs(folder: str) -> list[SectionJob]:
        return [
            SectionJob(
                section=s,
                notebook=NOTEBOOKS_DIR / f"{s}.ipynb",
                output=tmp_path / folder / f"{s}.ipynb",
                parameters={"quarter": Q, "data_dir": ""},
                cwd=PROJECT_ROOT,
            )
            for s in ("corporate_risk", "appendix", "workforce")
        ]

    def text(path: Path) -> str:
        return notebook_text(normalise_notebook(nbformat.read(str(path), as_version=4), path.stem))

    warm = PapermillExecutor(fork_kernels=False)  # kernels started ahead: no zygote
    warm.start(2, cwd=PROJECT_ROOT, prelude=KernelPreparation(quarter=Q))
    try:
        ahead = warm.run(jobs("ahead"), max_workers=2, on_event=None)
    finally:
        warm.close()
    cold = PapermillExecutor(fork_kernels=False).run(jobs("cold"), max_workers=2, on_event=None)
    assert all(o.ok for o in ahead + cold)
    for a, b in zip(ahead, cold, strict=True):
        assert text(a.output) == text(b.output), a.section
    assert _gone(_kernel_pids(), 10)


@pytest.mark.e2e
def test_close_stops_the_kernels_started_ahead() -> None:
    import time

    from scorecard_lib.build.executors import PapermillExecutor

    before = _kernel_pids()
    executor = PapermillExecutor(fork_kernels=False)
    executor.start(1, cwd=PROJECT_ROOT, prelude=None)
    deadline = time.monotonic() + 60
    while not (_kernel_pids() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    started = _kernel_pids() - before
    assert started, "no kernel was started ahead"
    time.sleep(1.0)  # let it finish starting: an idle worker must stop its kernel on close
    executor.close()
    assert _gone(started)
    assert executor.run([], max_workers=1, on_event=None) == []  # nothing left to close


def _kernels_of(workers: set[int]) -> set[int]:
    """Kernels started by these worker processes (jupyter_client tells a kernel its parent in
    JPY_PARENT_PID), wherever they are now."""
    import psutil

    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "ipykernel_launcher" not in " ".join(proc.info["cmdline"] or []):
                continue
            if int(proc.environ().get("JPY_PARENT_PID", "0")) in workers:
                found.add(proc.pid)
        except (psutil.Error, ValueError):
            continue
    return found


@pytest.mark.e2e
def test_close_while_a_kernel_is_still_starting_leaves_nothing_behind() -> None:
    import time

    from scorecard_lib.build.executors import PapermillExecutor

    workers: set[int] = set()
    seen: set[int] = set()
    for wait in (0.0, 0.8, 1.5):  # closed at once, as the command line does on invalid input
        executor = PapermillExecutor(fork_kernels=False)
        executor.start(2, cwd=PROJECT_ROOT, prelude=KernelPreparation(quarter=Q))
        time.sleep(wait)
        workers |= executor.worker_pids()
        seen |= _kernels_of(workers)
        executor.close()
    assert workers
    deadline = time.monotonic() + 15  # a kernel whose worker died notices within a second or so
    while _kernels_of(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _kernels_of(workers), f"kernels left running (seen while starting: {seen})"
