"""What ``scorecard run`` does: the no-change check, kernels started early, the run, the PDF.

``scorecard run`` builds a *draft* into ``outputs/QUARTER/`` (ignored by git), replaced on
every run; publishing is a separate act (``publishing.publish_quarter``).

:func:`build` is the one function the command line calls. It stays light to import (no
pandas) so that a build in which nothing changed answers at once:

1. with the cache on, ``cache.up_to_date`` compares a key over every input, the code and the
   environment with the last build; the same key means nothing is run;
2. otherwise the executor is started *before* the runner is imported: its workers start, and
   the kernels' zygote (``kernels.py``) imports ipykernel and the library and reads the
   quarter's inputs (``preparation.remember_inputs``), while this process imports pandas and
   validates the same inputs (no notebook runs before they pass). With the cache on, work kept
   between builds (``kept.py``: charts drawn, tables validated) is used in this process and in
   the kernels, for the code as it was when the build started;
3. ``runner.run_quarter`` builds the draft and puts it in place atomically, with ``docx``
   also the Word paper (``word.py``); a Word template is checked before step 1, so a bad
   one is refused before anything starts;
4. with ``pdf``, ``pdf.write_pdf`` prints the report through Chromium.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard_lib.build.executors import EventCallback, PapermillExecutor
from scorecard_lib.build.preparation import KernelPreparation
from scorecard_lib.core.paths import DATA_DIR, PROJECT_ROOT, SECTIONS, data_parameter, resolve
from scorecard_lib.core.quarters import Quarter, parse_quarter


@dataclass(frozen=True)
class Built:
    """What :func:`build` did. ``run`` is the runner's result (None when nothing changed);
    ``report`` the draft report; ``pdf`` the PDF written, if asked for; ``docx`` the Word
    paper, if asked for."""

    quarter: Quarter
    report: Path
    up_to_date: bool = False
    run: Any = None
    pdf: Path | None = None
    docx: Path | None = None


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
    timeout: int | None = 600,
    cache: bool = True,
    pdf: bool = False,
    docx: bool = False,
    docx_template: Path | None = None,
    on_event: EventCallback | None = None,
    on_building: Callable[[Quarter], None] | None = None,
) -> Built:
    """Build the draft of ``quarter`` as ``scorecard run`` does (see the module docstring).
    ``on_building`` is called once it is known that something must be run."""
    from scorecard_lib.build import (
        cache as build_cache,  # light: the no-change check must not wait for pandas
    )

    q = parse_quarter(quarter)
    word_key = ""
    if docx or docx_template is not None:
        from scorecard_lib.report import word  # light; checks the template before any kernel starts

        if docx:
            word_key = word.word_key(word.word_options(docx, docx_template))
    if cache:
        fresh = build_cache.up_to_date(q.id, data_dir=data_dir, out_dir=out_dir, word=word_key)
        if fresh is not None:
            report = fresh / "report.html"
            return Built(
                q,
                report,
                up_to_date=True,
                pdf=_pdf(report) if pdf else None,
                docx=report.with_suffix(".docx") if docx else None,
            )
    if on_building is not None:
        on_building(q)
    # Work kept between builds (kept.py) is named by the code as it is now, before anything
    # that draws or validates has been imported.
    from scorecard_lib.build import kept
    from scorecard_lib.report.manifest import source_sha256

    kept_in = build_cache.folder(out_dir) if cache else None
    code = source_sha256() if cache else ""
    # With the cache, most rebuilds execute one section: one kernel is started ahead when
    # kernels are not forked; without it, one per worker.
    executor = PapermillExecutor()
    try:
        executor.start(
            # never more workers (and kernels started ahead) than there are sections to run
            min(jobs or os.cpu_count() or 1, len(SECTIONS)),
            kernels=1 if cache else None,
            cwd=PROJECT_ROOT,
            prelude=kernel_prelude(q, data_dir, kept_in, code),
        )
        from scorecard_lib.build import runner

        if kept_in is not None:
            kept.use(kept_in, code)
        result = runner.run_quarter(
            quarter,
            data_dir=data_dir,
            out_dir=out_dir,
            jobs=jobs,
            on_event=on_event,
            cache=cache,
            timeout=timeout,
            executor=executor,
            docx=docx,
            docx_template=docx_template,
        )
    finally:
        executor.close()
        if kept_in is not None:
            kept.stop_using()
            kept.prune(kept_in)
    return Built(
        q,
        result.report,
        up_to_date=result.up_to_date,
        run=result,
        pdf=_pdf(result.report) if pdf else None,
        docx=result.report.with_suffix(".docx") if docx else None,
    )


def _pdf(report: Path) -> Path:
    from scorecard_lib.report.pdf import write_pdf

    return write_pdf(report, report.with_suffix(".pdf"))
