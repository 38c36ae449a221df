"""What ``scorecard run`` does, on one page: :func:`build`.

``scorecard run`` builds a *draft* into ``outputs/QUARTER/`` (ignored by git), replaced on
every run; publishing is a separate act (``publishing.publish_quarter``). :func:`build` reads
top to bottom as the steps of a build; each step is one named function (here, in ``runner.py``
or in ``cache.py``). This module stays light to import (no pandas), so that a build in which
nothing changed answers at once, and so that the kernels start while the heavy part of the
command (pandas, validation) is still being imported: ``runner`` is imported only then. The
kernels' zygote (``kernels.py``) is prepared with data, not code (``preparation.py``).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scorecard_lib.build.executors import EventCallback, Executor, PapermillExecutor
from scorecard_lib.build.preparation import KernelPreparation
from scorecard_lib.core.errors import InputError
from scorecard_lib.core.paths import (
    DATA_DIR,
    NOTEBOOKS_DIR,
    OUTPUTS_DIR,
    PROJECT_ROOT,
    data_parameter,
    resolve,
)
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.registry import SECTIONS, notebook_path

if TYPE_CHECKING:
    from scorecard_lib.build.cache import BuildCache
    from scorecard_lib.build.executors import SectionOutcome

SECTION_TIMEOUT = 600  # seconds one cell may run


@dataclass(frozen=True)
class RunResult:
    """A build's draft folder and its files; ``sections``: how each section went."""

    quarter_id: str
    out_folder: Path
    report: Path
    manifest: Path
    seconds: float
    sections: tuple[SectionOutcome, ...] = ()
    up_to_date: bool = False  # nothing changed since the last build: nothing was run


@dataclass(frozen=True)
class Built:
    """What :func:`build` did. ``run`` is the runner's result (``up_to_date`` when nothing
    changed and nothing ran); ``report`` the draft report; ``pdf`` the PDF written, if asked
    for; ``docx`` the Word paper, if asked for."""

    quarter: Quarter
    report: Path
    up_to_date: bool = False
    run: RunResult | None = None
    pdf: Path | None = None
    docx: Path | None = None


@dataclass(frozen=True)
class Plan:
    """One build, resolved before anything is read: the quarter, the folders (absolute), the
    section notebooks, and the Word paper's options (``word.word_options``; None: no paper)."""

    quarter: Quarter
    data: Path
    out: Path
    notebooks_dir: Path
    sections: tuple[str, ...]
    word: Mapping[str, object] | None
    docx_template: Path | None
    command: str | None  # as given; None: the canonical ``scorecard run`` command

    @property
    def notebooks(self) -> dict[str, Path]:
        return {s: notebook_path(s, self.notebooks_dir) for s in self.sections}


def kernel_prelude(
    quarter: Quarter, data_dir: Path | None, kept_in: Path | None = None, code: str = ""
) -> KernelPreparation:
    """What the kernels prepare before any notebook, in the zygote or in a kernel started
    ahead (``preparation.py``; data, not code): the imports every section notebook begins
    with, and its inputs read once (used by a kernel only if no input file changed since).
    With ``kept_in`` (the cache folder), charts drawn and tables validated are kept there
    between builds (``kept.py``), for the code whose fingerprint is ``code``."""
    data = data_parameter(resolve(data_dir, DATA_DIR).resolve())
    kept = "" if kept_in is None else str(kept_in)
    return KernelPreparation(quarter=quarter.id, data_dir=data, kept_in=kept, code=code)


def build(
    quarter: str | Quarter,
    *,
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    jobs: int | None = None,
    timeout: int | None = SECTION_TIMEOUT,
    cache: bool = True,
    pdf: bool = False,
    docx: bool = False,
    docx_template: Path | None = None,
    on_event: EventCallback | None = None,
    on_building: Callable[[Quarter], None] | None = None,
    executor: Executor | None = None,
    command: str | None = None,
    notebooks_dir: Path | None = None,
    sections: Sequence[str] | None = None,
    publication: Mapping[str, object] | None = None,
) -> Built:
    """Build the draft of ``quarter`` as ``scorecard run`` does. ``on_building`` is called
    once it is known that something must be run. ``executor``: run the sections with this one
    (``runner.run_quarter`` passes one); by default papermill's, with its kernels started
    ahead and, with the cache, the work kept between builds (``kept.py``)."""
    started = time.perf_counter()
    # 1. Resolve the quarter, the folders and the notebooks. A Word template that cannot be
    #    used is refused now, before anything starts.
    plan = resolve_plan(
        quarter, data_dir, out_dir, notebooks_dir, sections, docx, docx_template, command
    )
    #    With the cache: when nothing changed since the last build, nothing runs.
    build_cache = _build_cache(plan, executor) if cache else None
    unchanged = build_cache.unchanged() if build_cache is not None else None
    if unchanged is not None:
        return _built(plan, unchanged, started, up_to_date=True, pdf=pdf)
    if on_building is not None:
        on_building(plan.quarter)
    # 2. Start the kernels: they import the library and read the inputs while step 3 runs.
    with _kernels_started(plan, executor, jobs, cache) as kernels:
        from scorecard_lib.build import runner  # pandas and the report: after the kernels

        # 3. Load and validate every input; a problem stops the build before any notebook.
        checked = runner.load_and_validate(plan)
        with runner.draft_folder(plan, checked) as draft:
            if build_cache is not None:  # a section is executed only if what it shows changed
                kernels = build_cache.wrap(
                    kernels,
                    checked.parameters,
                    runner.cache_inputs(plan, checked),
                    checked.explained,
                )
            # 4. Run the sections, each notebook in a kernel of its own (or from the cache).
            executed = runner.run_sections(
                draft, kernels, jobs=jobs, timeout=timeout, on_event=on_event
            )
            # 5. Assemble the report (and the open data, and the Word paper if asked for).
            runner.assemble_report(draft, executed)
            # 6. Record what was built from what: manifest.json.
            runner.write_record(draft, publication)
            # 7. Publish the draft: it replaces OUT/<quarter> in one rename.
            result = runner.put_in_place(draft, started)
            if build_cache is not None:
                build_cache.record(result.out_folder)
    return _built(plan, result.out_folder, started, run=result, pdf=pdf)


def resolve_plan(
    quarter: str | Quarter,
    data_dir: Path | None,
    out_dir: Path | None,
    notebooks_dir: Path | None,
    sections: Sequence[str] | None,
    docx: bool,
    docx_template: Path | None,
    command: str | None,
) -> Plan:
    """Step 1 of :func:`build` (light: nothing is read but the Word template)."""
    q = parse_quarter(quarter)
    if docx_template is not None and not docx:
        raise InputError(
            "--docx-template was given without --docx",
            fix="add --docx to write the Word paper, or leave out --docx-template",
        )
    options = None
    if docx:
        from scorecard_lib.report import word  # light; checks the template

        options = word.word_options(docx, docx_template)
    return Plan(
        quarter=q,
        data=resolve(data_dir, DATA_DIR).resolve(),
        out=resolve(out_dir, OUTPUTS_DIR).resolve(),
        notebooks_dir=resolve(notebooks_dir, NOTEBOOKS_DIR).resolve(),
        sections=tuple(sections) if sections is not None else SECTIONS,
        word=options,
        docx_template=docx_template,
        command=command,
    )


def _build_cache(plan: Plan, executor: Executor | None) -> BuildCache:
    from scorecard_lib.build.cache import BuildCache  # light: no pandas

    word = ""
    if plan.word is not None:  # word.py is imported only for the Word paper
        from scorecard_lib.report.word import word_key

        word = word_key(plan.word)
    return BuildCache(
        plan.quarter.id,
        data=plan.data,
        out=plan.out,
        notebooks=plan.notebooks,
        command=plan.command,
        executor=executor,
        word=word,
    )


@contextlib.contextmanager
def _kernels_started(
    plan: Plan, executor: Executor | None, jobs: int | None, cache: bool
) -> Iterator[Executor]:
    """The executor to run the sections with. A given one is used as it is. Otherwise
    papermill's is started now, *before* the runner (pandas) is imported: its workers start,
    and the kernels' zygote (``kernels.py``) imports ipykernel and the library and reads the
    quarter's inputs while this process validates the same inputs (no notebook runs before
    they pass). With the cache, work kept between builds (``kept.py``: charts drawn, tables
    validated) is used here and in the kernels, for the code as it was when the build started;
    most such builds execute one section, so one kernel is started ahead when kernels are not
    forked (without the cache, one per worker). Everything started is stopped on the way out."""
    if executor is not None:
        yield executor
        return
    from scorecard_lib.build import kept
    from scorecard_lib.build.cache import folder
    from scorecard_lib.report.manifest import source_sha256

    # kept work is named by the code as it is now, before anything that draws or validates
    # has been imported
    kept_in = folder(plan.out) if cache else None
    code = source_sha256() if cache else ""
    started = PapermillExecutor()
    try:
        started.start(
            # never more workers (and kernels started ahead) than there are sections to run
            min(jobs or os.cpu_count() or 1, len(plan.sections)),
            kernels=1 if cache else None,
            cwd=PROJECT_ROOT,
            prelude=kernel_prelude(plan.quarter, plan.data, kept_in, code),
        )
        import scorecard_lib.build.runner  # noqa: F401  (the heavy imports, while kernels start)

        if kept_in is not None:
            kept.use(kept_in, code)
        yield started
    finally:
        started.close()
        if kept_in is not None:
            kept.stop_using()
            kept.prune(kept_in)


def _built(
    plan: Plan,
    folder: Path,
    started: float,
    *,
    up_to_date: bool = False,
    run: RunResult | None = None,
    pdf: bool = False,
) -> Built:
    """What :func:`build` did; with ``pdf``, step 8: the report printed through Chromium."""
    report = folder / "report.html"
    if run is None:
        run = RunResult(
            quarter_id=plan.quarter.id,
            out_folder=folder,
            report=report,
            manifest=folder / "manifest.json",
            seconds=time.perf_counter() - started,
            up_to_date=up_to_date,
        )
    return Built(
        plan.quarter,
        report,
        up_to_date=up_to_date,
        run=run,
        pdf=_pdf(report) if pdf else None,
        docx=report.with_suffix(".docx") if plan.word is not None else None,
    )


def _pdf(report: Path) -> Path:
    from scorecard_lib.report.pdf import write_pdf

    return write_pdf(report, report.with_suffix(".pdf"))
