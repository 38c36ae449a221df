"""The steps of a build, each one function that ``pipeline.build`` calls in order.

3. :func:`load_and_validate`: the quarter has data, every input is valid (``loading``), the
   notebooks declare their parameters; a problem raises before any notebook runs (kernels, or
   the process they are forked from, may already be starting: see ``pipeline.py``);
4. :func:`run_sections`: inside :func:`draft_folder` (the lock ``OUT/.<quarter>.lock`` and a
   staging folder ``OUT/.staging-<quarter>-<pid>/``), execute each section notebook in
   parallel and normalise it (byte-deterministic). If any section failed, its notebook is kept
   in ``OUT/.failed/<quarter>/`` and :class:`SectionsFailed` (exit code 1) is raised;
   ``OUT/<quarter>`` is not touched;
5. :func:`assemble_report`: the open data, ``report.html`` and, with ``docx``, the Word paper;
6. :func:`write_record`: ``manifest.json``;
7. :func:`put_in_place`: the old ``OUT/<quarter>`` is renamed aside, the staging folder renamed
   into its place, the old copy deleted. ``OUT`` holds drafts (``outputs/``, ignored by git),
   so this is never refused; published records live in the archive, which ``publishing.py``
   adds to through :func:`run_quarter` and nothing rewrites.

Notebook parameters are ``quarter`` (the canonical id) and ``data_dir``: ``""`` for the
project's own ``data/``, the path relative to the project root for a folder inside the project
and otherwise the folder's *absolute* path (so a data folder outside the project puts its
absolute path into the executed notebooks, the report's provenance and the manifest's
parameters; the manifest's input file names never are absolute). Kernels run with the project
root as their working directory.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from filelock import FileLock
from filelock import Timeout as LockTimeout

from scorecard_lib.build.commentary import explained_indicators
from scorecard_lib.build.executors import (
    DISK_FULL,
    EventCallback,
    Executor,
    PapermillExecutor,
    SectionJob,
    SectionOutcome,
)
from scorecard_lib.build.normalise import normalise_notebook, write_notebook
from scorecard_lib.build.pipeline import SECTION_TIMEOUT, Plan, RunResult
from scorecard_lib.core.errors import ExecutionError, InputError, LockedError
from scorecard_lib.core.files import disk_full_error, full_disk_reported, is_disk_full
from scorecard_lib.core.paths import (
    CURRENT_DIR,
    DATA_DIR,
    OUTPUTS_DIR,
    PROJECT_ROOT,
    data_parameter,
    display_path,
    resolve,
)
from scorecard_lib.core.quarters import Quarter
from scorecard_lib.inputs import loading, locations
from scorecard_lib.report import assemble, manifest, opendata, record, word

REPORT_NAME = "report.html"
MANIFEST_NAME = "manifest.json"
NOTEBOOKS_SUBDIR = "notebooks"
FAILED_DIR = ".failed"
LOCK_TIMEOUT = 1.0  # seconds a second run of the same quarter waits before giving up
NOTHING_PUBLISHED = "nothing was published"


class SectionsFailed(ExecutionError):
    """One or more section notebooks failed; nothing was published."""

    def __init__(
        self,
        quarter: Quarter,
        failures: Sequence[SectionOutcome],
        total: int,
        kept: Path,
        published: Path,
    ) -> None:
        self.quarter = quarter
        self.failures = list(failures)
        self.total = total
        self.kept = kept
        self.published = published
        super().__init__(
            f"{len(self.failures)} of {total} report sections failed for {quarter.prose}",
            where=display_path(kept, root=CURRENT_DIR, outside="absolute"),
        )

    def message(self) -> str:
        n = len(self.failures)
        lines = [
            f"{n} of {self.total} report section{'s' if self.total != 1 else ''} failed for "
            f"{self.quarter.prose} ({self.quarter.id}), so nothing was published:"
        ]
        for f in self.failures:
            error = (f.error or "it failed").rstrip(".")
            kept = (
                "see "
                + display_path(self.kept / f.output.name, root=CURRENT_DIR, outside="absolute")
                if f.output_written
                else "no notebook was written"
            )
            lines.append(f"- {f.section}: {error}. ({kept})")
        kept_any = any(f.output_written for f in self.failures)
        published = display_path(self.published, root=CURRENT_DIR, outside="absolute")
        lines.append(
            ("The failed notebooks show the full traceback where it happened. " if kept_any else "")
            + f"{published} was not changed. How to fix: correct the data or "
            "the notebook and run the quarter again."
        )
        return "\n".join(lines)


#: The ``data_dir`` notebook parameter (see the module docstring).
_data_parameter = data_parameter


def rerun_command(
    quarter: Quarter, data_parameter: str, word: Mapping[str, object] | None = None
) -> str:
    """The command that re-makes this report (``--out`` and ``--jobs`` do not change it).
    ``word``: the manifest's ``word`` block when the Word paper was written."""
    argv = ["scorecard", "run", quarter.id]
    if data_parameter:
        argv += ["--data", data_parameter]
    if word is not None:
        argv.append("--docx")
        if word.get("template"):
            argv += ["--docx-template", str(word["template"])]
    return shlex.join(argv)


def publish_lock(out: Path, quarter: Quarter) -> FileLock:
    """The lock a run of ``quarter`` holds while it builds and publishes into ``out``; the
    audit takes it too while it copies the published record, so it never reads a record
    half replaced."""
    return FileLock(str(out / f".{quarter.id}.lock"), timeout=LOCK_TIMEOUT)


_lock = publish_lock


def run_quarter(
    quarter: str | Quarter,
    *,
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    jobs: int | None = None,
    executor: Executor | None = None,
    on_event: EventCallback | None = None,
    command: str | None = None,
    notebooks_dir: Path | None = None,
    sections: Sequence[str] | None = None,
    timeout: int | None = SECTION_TIMEOUT,
    cache: bool = False,
    publication: Mapping[str, object] | None = None,
    docx: bool = False,
    docx_template: Path | None = None,
) -> RunResult:
    """Build the report of ``quarter`` into ``OUT/<quarter id>/``, replacing what was there
    (a draft) atomically: ``pipeline.build`` for the library's other callers (publishing, the
    audit's re-runs, tests), with ``executor`` (default: papermill, kernels started as each
    section runs), no PDF, and the cache off unless ``cache=True``.

    ``publication``: the manifest's ``publication`` block (``publishing.publish_quarter``);
    it is written into the manifest only, so the report and notebooks are the draft's bytes.
    ``command`` is recorded in the manifest and report; by default the canonical
    ``scorecard run QUARTER [--data DIR]``. ``notebooks_dir`` and ``sections`` default to the
    project's own (``registry.SECTIONS``). ``docx=True`` also writes the Word paper
    ``report.docx`` (``report/word/``), on the council's ``docx_template`` when one is given.
    """
    from scorecard_lib.build.pipeline import build

    if not isinstance(quarter, Quarter) and locations.looks_like_path(str(quarter)):
        loading.check_quarter(quarter)  # says it is a path, before parsing says less
    built = build(
        quarter,
        data_dir=data_dir,
        out_dir=out_dir,
        jobs=jobs,
        executor=executor or PapermillExecutor(),
        on_event=on_event,
        command=command,
        notebooks_dir=notebooks_dir,
        sections=sections,
        timeout=timeout,
        cache=cache,
        publication=publication,
        docx=docx,
        docx_template=docx_template,
    )
    return built.run


# --- step 3: load and validate ------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """What a build found in step 3: the quarter's validated inputs and what it passes on."""

    quarter: Quarter
    inputs: loading.Inputs
    params: dict[str, object]
    files: list[Path]  # every input file the quarter reads (loading.input_files)
    parameters: dict[str, object]  # the notebooks' parameters
    command: str  # recorded in the manifest and the report
    results: dict[str, object] | None  # the figures the report states (record.py)
    open_data: opendata.OpenData | None
    explained: frozenset[str] | None  # red with an update: what the cover report explains


def load_and_validate(plan: Plan) -> Checked:
    """Read and check every input of the quarter, and the notebooks' parameters: every
    problem is raised here, before any notebook runs and before ``OUT`` is touched."""
    q = loading.check_quarter(plan.quarter, plan.data)
    loaded = loading.load_inputs(q, plan.data)  # every input problem at once
    params = loading.load_params(q, plan.data)
    valid = isinstance(loaded, loading.Inputs)
    # The figures the report states, recorded in the manifest for the audit (record.py);
    # the open data states the same results (opendata.py): one source for both.
    results = record.quarter_results(loaded) if valid else None
    open_data = opendata.open_data(loaded, results) if valid and results is not None else None
    data_param = _data_parameter(plan.data)
    parameters: dict[str, object] = {"quarter": q.id, "data_dir": data_param}
    _check_notebooks(plan, parameters)
    return Checked(
        quarter=q,
        inputs=loaded,
        params=params,
        files=loading.input_files(q, plan.data),
        parameters=parameters,
        command=plan.command or rerun_command(q, data_param, plan.word),
        results=results,
        open_data=open_data,
        explained=explained_indicators(loaded) if valid else None,
    )


def _check_notebooks(plan: Plan, parameters: dict[str, object]) -> None:
    """Every section notebook is there, declares the parameters it is given and, for the
    Word paper, has a Word renderer for every call."""
    missing = [s for s in plan.sections if not plan.notebooks[s].is_file()]
    if missing:
        raise InputError(
            f"The section notebook{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing",
            where=display_path(plan.notebooks_dir, root=CURRENT_DIR, outside="absolute"),
            fix="restore the notebooks from version control",
        )
    _check_notebook_parameters(plan.notebooks_dir, plan.sections, parameters)
    if plan.word is not None:
        word.paper_parts(plan.notebooks_dir, plan.sections)


# --- steps 4 to 7: in a staging folder, under the quarter's lock ------------------------------


@dataclass
class Draft:
    """One build's staging folder while steps 4 to 7 fill it, then put it in place."""

    plan: Plan
    checked: Checked
    staging: Path
    outcomes: tuple[SectionOutcome, ...] = ()
    manifest_base: dict[str, object] = field(default_factory=dict)

    @property
    def final(self) -> Path:
        return self.plan.out / self.checked.quarter.id

    @property
    def failed(self) -> Path:
        return self.plan.out / FAILED_DIR / self.checked.quarter.id


@contextlib.contextmanager
def draft_folder(plan: Plan, checked: Checked) -> Iterator[Draft]:
    """Hold the quarter's lock (one build of a quarter at a time) and give a new staging
    folder, removed afterwards whatever happens; a full disk is reported as such."""
    out, q = plan.out, checked.quarter
    _check_out_folder(out)
    lock = _lock(out, q)
    try:
        lock.acquire()
    except LockTimeout:
        raise LockedError(
            f"Another run of {q.prose} ({q.id}) is in progress",
            where=display_path(Path(lock.lock_file), root=CURRENT_DIR, outside="absolute"),
            fix="wait for it to finish, then run again (the lock is released as soon as that "
            "run ends, even if it crashed)",
        ) from None
    try:
        with full_disk_reported(out, NOTHING_PUBLISHED):
            staging = out / f".staging-{q.id}-{os.getpid()}"
            _recover_killed_run(out, out / q.id)
            shutil.rmtree(staging, ignore_errors=True)
            (staging / NOTEBOOKS_SUBDIR).mkdir(parents=True)
            try:
                yield Draft(plan, checked, staging)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    finally:
        lock.release()


def cache_inputs(plan: Plan, checked: Checked) -> list[Path]:
    """Every file a build reads, for the build cache: the inputs and the Word template."""
    template = plan.docx_template
    return [*checked.files, *([template] if template is not None else [])]


def run_sections(
    draft: Draft,
    executor: Executor,
    *,
    jobs: int | None,
    timeout: int | None,
    on_event: EventCallback | None,
) -> list[tuple[str, nbformat.NotebookNode]]:
    """Step 4: execute every section notebook into the staging folder, then normalise it
    (byte-deterministic). A failed section keeps its notebook in ``OUT/.failed/<quarter>/``
    and raises :class:`SectionsFailed`; inputs edited meanwhile are refused."""
    plan, checked = draft.plan, draft.checked
    before = manifest.input_entries(checked.files, plan.data)
    section_jobs = [
        SectionJob(
            section=name,
            notebook=plan.notebooks[name],
            output=draft.staging / NOTEBOOKS_SUBDIR / f"{name}.ipynb",
            parameters=dict(checked.parameters),
            timeout=timeout,
            cwd=PROJECT_ROOT,
        )
        for name in plan.sections
    ]
    outcomes = executor.run(
        section_jobs, max_workers=jobs or os.cpu_count() or 1, on_event=on_event
    )
    draft.outcomes = tuple(outcomes)
    failures = [o for o in outcomes if not o.ok]
    if any(o.ename == DISK_FULL for o in failures):
        raise disk_full_error(plan.out, outcome=NOTHING_PUBLISHED)
    if failures:
        _keep_failed(failures, draft.failed)
        raise SectionsFailed(
            checked.quarter, failures, len(section_jobs), draft.failed, draft.final
        )
    if manifest.input_entries(checked.files, plan.data) != before:
        raise InputError(
            "The input files changed while the report was being built",
            where=display_path(plan.data, root=CURRENT_DIR, outside="absolute"),
            fix="run the quarter again when nobody is editing its data",
        )
    executed = []
    for job in section_jobs:
        nb = normalise_notebook(nbformat.read(str(job.output), as_version=4), job.section)
        write_notebook(nb, job.output)
        executed.append((job.section, nb))
    return executed


def assemble_report(draft: Draft, executed: Sequence[tuple[str, nbformat.NotebookNode]]) -> None:
    """Step 5: the open data, ``report.html`` (its provenance from the manifest's account of
    inputs, code and results) and, when asked for, the Word paper, into the staging folder."""
    plan, checked = draft.plan, draft.checked
    q, staging = checked.quarter, draft.staging
    if checked.open_data is not None:
        opendata.write_open_data(checked.open_data, staging / manifest.OPEN_DATA_SUBDIR)
    base = manifest.build_manifest(
        quarter=q.id,
        parameters=checked.parameters,
        inputs=checked.files,
        data_dir=plan.data,
        outputs_dir=staging,
        command=checked.command,
        results=checked.results,
    )
    if plan.word is not None:
        base["word"] = dict(plan.word)
    draft.manifest_base = base
    html = assemble.build_report(
        notebooks=executed,
        title=str(checked.params.get("title", "")),
        quarter_prose=q.prose,
        council=str(checked.params.get("council", "")),
        provenance=manifest.provenance(base),
    )
    with open(staging / REPORT_NAME, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(html)
    if plan.word is not None:
        from scorecard_lib.present.sections import Scorecard

        template = plan.word.get("template")
        word.write_docx(
            Scorecard(checked.inputs),
            staging / word.DOCX_NAME,
            template=word.template_path(str(template)) if template else None,
            notebooks_dir=plan.notebooks_dir,
            sections=plan.sections,
            provenance=manifest.provenance(base),
        )


def write_record(draft: Draft, publication: Mapping[str, object] | None) -> None:
    """Step 6: ``manifest.json``: inputs, code, environment, results and the sha256 of every
    output; with ``publication``, the archive's block."""
    full = {**draft.manifest_base, "outputs": manifest.output_entries(draft.staging)}
    if publication is not None:
        full["publication"] = dict(publication)
    manifest.write_manifest(full, draft.staging / MANIFEST_NAME)


def put_in_place(draft: Draft, started: float) -> RunResult:
    """Step 7: the staging folder replaces ``OUT/<quarter>`` (two renames: readers see the
    old draft or the new one); a previous run's failed notebooks are removed."""
    final = draft.final
    _publish(draft.staging, final)
    shutil.rmtree(draft.failed, ignore_errors=True)
    _remove_if_empty(draft.plan.out / FAILED_DIR)
    return RunResult(
        quarter_id=draft.checked.quarter.id,
        out_folder=final,
        report=final / REPORT_NAME,
        manifest=final / MANIFEST_NAME,
        seconds=time.perf_counter() - started,
        sections=draft.outcomes,
    )


def _keep_failed(failures: Sequence[SectionOutcome], failed_dir: Path) -> None:
    """Move the failed notebooks (with papermill's error banner) to ``failed_dir``."""
    shutil.rmtree(failed_dir, ignore_errors=True)
    failed_dir.mkdir(parents=True, exist_ok=True)
    for f in failures:
        if f.output_written and _readable_notebook(f.output):
            shutil.move(str(f.output), str(failed_dir / f.output.name))
    _remove_if_empty(failed_dir)
    _remove_if_empty(failed_dir.parent)


def _readable_notebook(path: Path) -> bool:
    """Whether ``path`` is a whole notebook: one cut short (a write that failed half way)
    is not kept for anyone to open."""
    try:
        nbformat.read(str(path), as_version=4)
    except Exception:
        return False
    return True


def _check_out_folder(out: Path) -> None:
    """Make ``out`` if missing and check a file can be created in it, so that a folder that
    cannot be written is reported as such (and not, through the lock, as another run)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".scorecard-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(out, exc, "nothing was run or published") from None
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, FileExistsError | NotADirectoryError) or (
            out.exists() and not out.is_dir()
        ):
            reason = "it is not a folder"
        elif isinstance(exc, FileNotFoundError) and out.is_dir():
            reason = "it is not a normal folder: it does not take new files"
        shown = display_path(out, root=CURRENT_DIR, outside="absolute")
        raise InputError(
            f"The output folder {shown} cannot be written ({reason}), so nothing was run",
            where=shown,
            fix="give --out a folder you may create files in, or leave --out off to use the "
            "project's outputs/",
        ) from None


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def _check_notebook_parameters(
    nb_dir: Path, names: Sequence[str], parameters: dict[str, object]
) -> None:
    """Every parameter the runner passes is declared in each notebook's ``parameters`` cell;
    papermill would only warn and the notebook would run on its defaults."""
    from scorecard_lib.build.papermill_worker import undeclared_parameters

    for name in names:
        try:
            unknown = undeclared_parameters(nb_dir / f"{name}.ipynb", parameters)
        except Exception as exc:  # not JSON, not a notebook, no kernel name
            raise InputError(
                f"The notebook {name}.ipynb cannot be read ({type(exc).__name__}: {exc})",
                where=display_path(nb_dir / f"{name}.ipynb", root=CURRENT_DIR, outside="absolute"),
                fix="restore it from version control, or open and save it in Jupyter",
            ) from exc
        if unknown:
            listed = ", ".join(unknown)
            raise InputError(
                f"The notebook {name}.ipynb does not declare the parameter"
                f"{'s' if len(unknown) > 1 else ''} {listed} passed to it, so the value would "
                "be ignored",
                where=display_path(nb_dir / f"{name}.ipynb", root=CURRENT_DIR, outside="absolute"),
                fix=f"add {listed} to the notebook's cell tagged 'parameters'",
            )


def _recover_killed_run(out: Path, final: Path) -> None:
    """Clear what a killed run of this quarter left behind (the caller holds the lock, so no
    other run of the quarter is going): a published folder moved aside but not replaced is put
    back; its staging folders are removed. A published folder, or one moved aside while
    another is in place, is never deleted here."""
    asides = sorted(out.glob(f".previous-{final.name}-*"), key=lambda p: p.stat().st_mtime)
    if asides and not final.exists():
        asides[-1].rename(final)
    for leftover in out.glob(f".staging-{final.name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _publish(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` with two renames; readers see the old or the new."""
    aside = final.with_name(f".previous-{final.name}-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    had_old = final.exists()
    if had_old:
        final.rename(aside)
    try:
        staging.rename(final)
    except BaseException:
        if had_old and not final.exists():
            aside.rename(final)
        raise
    if had_old:
        shutil.rmtree(aside, ignore_errors=True)


def list_quarters(
    data_dir: Path | None = None, out_dir: Path | None = None
) -> list[tuple[str, bool]]:
    """Every quarter with data, oldest first, and whether it has a draft in ``out_dir``."""
    data = resolve(data_dir, DATA_DIR)
    out = resolve(out_dir, OUTPUTS_DIR)
    return [
        (q.id, (out / q.id / REPORT_NAME).is_file()) for q in locations.available_quarters(data)
    ]


@dataclass(frozen=True)
class QuarterState:
    """A quarter with data: whether it has a draft, and its records in the archive."""

    quarter: Quarter
    draft: bool
    records: tuple[str, ...] = ()  # folder names in the archive, oldest version first

    def published_text(self) -> str:
        if not self.records:
            return "no"
        earlier = len(self.records) - 1
        more = f" (supersedes {earlier} earlier)" if earlier else ""
        return f"{self.records[-1]}{more}"


def quarter_states(
    data_dir: Path | None = None, out_dir: Path | None = None, archive_dir: Path | None = None
) -> list[QuarterState]:
    """Every quarter with data, or with a published record, oldest first."""
    from scorecard_lib.inputs.archive import published_records

    data = resolve(data_dir, DATA_DIR)
    out = resolve(out_dir, OUTPUTS_DIR)
    records: dict[Quarter, list[str]] = {}
    for r in published_records(archive_dir):
        records.setdefault(r.quarter, []).append(r.name)
    quarters = sorted(set(locations.available_quarters(data)) | set(records))
    return [
        QuarterState(q, (out / q.id / REPORT_NAME).is_file(), tuple(records.get(q, ())))
        for q in quarters
    ]
