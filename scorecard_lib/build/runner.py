"""Run one quarter: execute every section notebook, assemble the report, publish atomically.

``run_quarter("2016-17-Q4")`` does, in order:

1. check the quarter has data and its inputs are valid (``loading``); a problem raises before
   any notebook runs (kernels, or the process they are forked from, may already be starting:
   see ``build.py``);
2. execute each section notebook (``notebooks/<section>.ipynb``) in parallel with the executor
   into a staging folder ``OUT/.staging-<quarter>-<pid>/notebooks/``;
3. if any section failed: keep the failed notebooks in ``OUT/.failed/<quarter>/`` and raise
   :class:`SectionsFailed` (an ExecutionError, exit code 1); ``OUT/<quarter>`` is not touched;
4. otherwise normalise every executed notebook (byte-deterministic), write the open data
   (``opendata.py``, from the same results the manifest records), build ``report.html``
   (``assemble.build_report``), with ``docx`` the Word paper ``report.docx`` (``word.py``, in
   this process, from the inputs already loaded), and ``manifest.json``, then write it out:
   the old ``OUT/<quarter>`` is renamed aside, the staging folder renamed into its place,
   the old copy deleted. ``OUT`` holds drafts (``outputs/``, ignored by git), so this is
   never refused; published records live in the archive (``archive.py``), which
   ``publishing.py`` adds to through this same function and nothing rewrites.

A lock file ``OUT/.<quarter>.lock`` keeps two runs of the same quarter from interleaving.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from filelock import FileLock
from filelock import Timeout as LockTimeout

from scorecard_lib.build.cache import BuildCache
from scorecard_lib.build.executors import (
    DISK_FULL,
    EventCallback,
    Executor,
    PapermillExecutor,
    SectionJob,
    SectionOutcome,
)
from scorecard_lib.build.normalise import normalise_notebook, write_notebook
from scorecard_lib.core.errors import ExecutionError, InputError, LockedError
from scorecard_lib.core.files import disk_full_error, full_disk_reported, is_disk_full
from scorecard_lib.core.paths import (
    DATA_DIR,
    NOTEBOOKS_DIR,
    OUTPUTS_DIR,
    PROJECT_ROOT,
    SECTIONS,
    data_parameter,
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
SECTION_TIMEOUT = 600  # seconds one cell may run
NOTHING_PUBLISHED = "nothing was published"


@dataclass(frozen=True)
class RunResult:
    quarter_id: str
    out_folder: Path
    report: Path
    manifest: Path
    seconds: float
    sections: tuple[SectionOutcome, ...] = ()
    up_to_date: bool = False  # nothing changed since the last build: nothing was run


def human_path(path: Path) -> str:
    """A path for a person at a terminal: relative to the current directory when inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symbolic-link loop
        return str(path)


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
            where=human_path(kept),
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
                f"see {human_path(self.kept / f.output.name)}"
                if f.output_written
                else "no notebook was written"
            )
            lines.append(f"- {f.section}: {error}. ({kept})")
        kept_any = any(f.output_written for f in self.failures)
        lines.append(
            ("The failed notebooks show the full traceback where it happened. " if kept_any else "")
            + f"{human_path(self.published)} was not changed. How to fix: correct the data or "
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
    (a draft) atomically.

    ``publication``: the manifest's ``publication`` block (``publishing.publish_quarter``);
    it is written into the manifest only, so the report and notebooks are the draft's bytes.

    ``command`` is recorded in the manifest and report; by default the canonical
    ``scorecard run QUARTER [--data DIR]``. ``notebooks_dir`` and ``sections`` default to the
    project's own (``paths.NOTEBOOKS_DIR``, ``paths.SECTIONS``). ``cache=True`` (what the
    command line does unless ``--no-cache``) uses the build cache in ``OUT/.cache/``: see
    ``cache.py``; the default here is off, so a caller gets a full run unless it asks.

    ``docx=True`` also writes the Word paper ``report.docx`` (``word.py``), on the council's
    ``docx_template`` when one is given; a template that cannot be used is refused
    (:class:`~scorecard_lib.report.word.WordTemplateError`, exit 2) before anything runs.
    """
    started = time.perf_counter()
    data = resolve(data_dir, DATA_DIR).resolve()
    out = resolve(out_dir, OUTPUTS_DIR).resolve()
    nb_dir = resolve(notebooks_dir, NOTEBOOKS_DIR).resolve()
    names = tuple(sections) if sections is not None else SECTIONS

    q = loading.check_quarter(quarter, data)
    if docx_template is not None and not docx:
        raise InputError(
            "--docx-template was given without --docx",
            fix="add --docx to write the Word paper, or leave out --docx-template",
        )
    word_options = word.word_options(docx, docx_template)
    # The build cache (cache.py): with cache=True a section is executed only when something it
    # reads changed, and a build in which nothing changed returns at once.
    build_cache = None
    if cache:
        notebooks = {s: nb_dir / f"{s}.ipynb" for s in names}
        build_cache = BuildCache(
            q.id,
            data=data,
            out=out,
            notebooks=notebooks,
            command=command,
            executor=executor,
            word=word.word_key(word_options),
        )
        fresh = build_cache.up_to_date()
        if fresh is not None:
            return RunResult(
                quarter_id=q.id,
                out_folder=fresh,
                report=fresh / REPORT_NAME,
                manifest=fresh / MANIFEST_NAME,
                seconds=time.perf_counter() - started,
                up_to_date=True,
            )
    loaded = loading.load_inputs(q, data)  # every input problem at once, before any notebook runs
    params = loading.load_params(q, data)
    # The figures the report states, recorded in the manifest for the audit (record.py).
    results = record.quarter_results(loaded) if isinstance(loaded, loading.Inputs) else None
    # The open data states the same results (opendata.py): one source for both.
    open_data = (
        opendata.open_data(loaded, results)
        if isinstance(loaded, loading.Inputs) and results is not None
        else None
    )
    inputs = loading.input_files(q, data)
    data_param = _data_parameter(data)
    parameters: dict[str, object] = {"quarter": q.id, "data_dir": data_param}
    command = command or rerun_command(q, data_param, word_options)

    missing = [s for s in names if not (nb_dir / f"{s}.ipynb").is_file()]
    if missing:
        raise InputError(
            f"The section notebook{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing",
            where=human_path(nb_dir),
            fix="restore the notebooks from version control",
        )
    _check_notebook_parameters(nb_dir, names, parameters)
    if word_options is not None:
        word.paper_parts(nb_dir, names)  # every call has a Word renderer, before anything runs

    _check_out_folder(out)
    lock = _lock(out, q)
    try:
        lock.acquire()
    except LockTimeout:
        raise LockedError(
            f"Another run of {q.prose} ({q.id}) is in progress",
            where=human_path(Path(lock.lock_file)),
            fix="wait for it to finish, then run again (the lock is released as soon as that "
            "run ends, even if it crashed)",
        ) from None
    try:
        with full_disk_reported(out, NOTHING_PUBLISHED):
            result = _run_locked(
                q,
                data=data,
                out=out,
                nb_dir=nb_dir,
                names=names,
                params=params,
                inputs=inputs,
                parameters=parameters,
                command=command,
                jobs=jobs,
                executor=(
                    build_cache.wrap(
                        executor or PapermillExecutor(),
                        parameters,
                        [*inputs, *([docx_template] if docx_template is not None else [])],
                    )
                    if build_cache is not None
                    else executor or PapermillExecutor()
                ),
                on_event=on_event,
                timeout=timeout,
                started=started,
                results=results,
                open_data=open_data,
                publication=publication,
                loaded=loaded if docx else None,
                word_options=word_options,
            )
        if build_cache is not None:
            build_cache.record(result.out_folder)
        return result
    finally:
        lock.release()


def _run_locked(
    q: Quarter,
    *,
    data: Path,
    out: Path,
    nb_dir: Path,
    names: Sequence[str],
    params: dict[str, object],
    inputs: list[Path],
    parameters: dict[str, object],
    command: str,
    jobs: int | None,
    executor: Executor,
    on_event: EventCallback | None,
    timeout: int | None,
    started: float,
    results: dict[str, object] | None = None,
    open_data: opendata.OpenData | None = None,
    publication: Mapping[str, object] | None = None,
    loaded: loading.Inputs | None = None,
    word_options: Mapping[str, object] | None = None,
) -> RunResult:
    final = out / q.id
    staging = out / f".staging-{q.id}-{os.getpid()}"
    failed_dir = out / FAILED_DIR / q.id
    _recover_killed_run(out, final)
    shutil.rmtree(staging, ignore_errors=True)
    (staging / NOTEBOOKS_SUBDIR).mkdir(parents=True)
    try:
        before = manifest.input_entries(inputs, data)
        section_jobs = [
            SectionJob(
                section=name,
                notebook=nb_dir / f"{name}.ipynb",
                output=staging / NOTEBOOKS_SUBDIR / f"{name}.ipynb",
                parameters=dict(parameters),
                timeout=timeout,
                cwd=PROJECT_ROOT,
            )
            for name in names
        ]
        outcomes = executor.run(
            section_jobs, max_workers=jobs or os.cpu_count() or 1, on_event=on_event
        )
        failures = [o for o in outcomes if not o.ok]
        if any(o.ename == DISK_FULL for o in failures):
            raise disk_full_error(out, outcome=NOTHING_PUBLISHED)
        if failures:
            _keep_failed(failures, failed_dir)
            raise SectionsFailed(q, failures, len(section_jobs), failed_dir, final)

        if manifest.input_entries(inputs, data) != before:
            raise InputError(
                "The input files changed while the report was being built",
                where=human_path(data),
                fix="run the quarter again when nobody is editing its data",
            )

        executed = []
        for job in section_jobs:
            nb = normalise_notebook(nbformat.read(str(job.output), as_version=4), job.section)
            write_notebook(nb, job.output)
            executed.append((job.section, nb))

        if open_data is not None:
            opendata.write_open_data(open_data, staging / manifest.OPEN_DATA_SUBDIR)
        base = manifest.build_manifest(
            quarter=q.id,
            parameters=parameters,
            inputs=inputs,
            data_dir=data,
            outputs_dir=staging,
            command=command,
            results=results,
        )
        if word_options is not None:
            base["word"] = dict(word_options)
        html = assemble.build_report(
            notebooks=executed,
            title=str(params.get("title", "")),
            quarter_prose=q.prose,
            council=str(params.get("council", "")),
            provenance=manifest.provenance(base),
        )
        with open(staging / REPORT_NAME, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        if word_options is not None and loaded is not None:
            from scorecard_lib.present.sections import Scorecard

            template = word_options.get("template")
            word.write_docx(
                Scorecard(loaded),
                staging / word.DOCX_NAME,
                template=word.template_path(str(template)) if template else None,
                notebooks_dir=nb_dir,
                sections=names,
                provenance=manifest.provenance(base),
            )
        full = {**base, "outputs": manifest.output_entries(staging)}
        if publication is not None:
            full["publication"] = dict(publication)
        manifest.write_manifest(full, staging / MANIFEST_NAME)
        _publish(staging, final)
        shutil.rmtree(failed_dir, ignore_errors=True)
        _remove_if_empty(out / FAILED_DIR)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    return RunResult(
        quarter_id=q.id,
        out_folder=final,
        report=final / REPORT_NAME,
        manifest=final / MANIFEST_NAME,
        seconds=time.perf_counter() - started,
        sections=tuple(outcomes),
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
        raise InputError(
            f"The output folder {human_path(out)} cannot be written ({reason}), so nothing was run",
            where=human_path(out),
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
                where=human_path(nb_dir / f"{name}.ipynb"),
                fix="restore it from version control, or open and save it in Jupyter",
            ) from exc
        if unknown:
            listed = ", ".join(unknown)
            raise InputError(
                f"The notebook {name}.ipynb does not declare the parameter"
                f"{'s' if len(unknown) > 1 else ''} {listed} passed to it, so the value would "
                "be ignored",
                where=human_path(nb_dir / f"{name}.ipynb"),
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
