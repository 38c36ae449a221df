"""What runs on a Dask worker: one pair's build, publication or audit, as the commands do it.

A task does in the worker's process exactly what ``scorecard run`` (``publish``, ``audit``)
does for that pair, and *returns* a build's own failure (a :class:`ScorecardError`) as a
:class:`~scorecard_lib.scale.plan.PairResult`, so a bad pair neither stops the others nor is
retried. One build at a time runs in a worker process (:data:`_ONE_BUILD_AT_A_TIME`), whatever
the worker's thread count: the library keeps per-process state for the build it runs. The
client side, which submits these, is ``batch.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from scorecard_lib.core.errors import ScorecardError
from scorecard_lib.scale.plan import ARCHIVE_SUBDIR, AUDIT_STATUSES, PairResult

#: A worker process runs one build at a time, even with several threads (see module docstring).
_ONE_BUILD_AT_A_TIME = threading.Lock()


def _jobs_here(jobs: int | dict[str, int] | None) -> int | None:
    """The sections this worker runs at once, from a map of worker addresses (a worker
    started since the batch began, as one restarted after a crash, takes the fewest)."""
    if not isinstance(jobs, dict):
        return jobs
    from distributed import get_worker

    return jobs.get(get_worker().address) or min(jobs.values(), default=None)


def build_pair(
    root: str,
    out_root: str,
    organisation: str,
    quarter: str,
    *,
    jobs: int | dict[str, int] | None,
    timeout: int | None = 600,
    cache: bool = True,
    publish: bool = False,
    require_committed_code: bool = True,
) -> PairResult:
    """The task: build (or publish) one pair as ``scorecard run`` (``scorecard publish``)
    would, in this process. A :class:`ScorecardError` is returned as the result, not raised.
    ``jobs`` may map worker addresses to the sections each worker runs at once."""
    jobs = _jobs_here(jobs)
    data = Path(root) / organisation / "data"
    out = Path(out_root) / organisation
    started = time.perf_counter()
    with _ONE_BUILD_AT_A_TIME:
        try:
            if publish:
                from distributed import Lock

                from scorecard_lib.publish.publishing import publish_quarter

                # An archive takes one publication at a time (its lock file gives up after a
                # second): the quarters of one organisation wait for each other here.
                with Lock(f"scorecard-publish-{out}"):
                    published = publish_quarter(
                        quarter,
                        data_dir=data,
                        archive_dir=out / ARCHIVE_SUBDIR,
                        jobs=jobs,
                        timeout=timeout,
                        require_committed_code=require_committed_code,
                    )
                status, folder, executed = "built", published.folder, True
            else:
                from scorecard_lib.build.pipeline import build

                built = build(
                    quarter, data_dir=data, out_dir=out, jobs=jobs, timeout=timeout, cache=cache
                )
                status = "unchanged" if built.up_to_date else "built"
                folder, executed = built.report.parent, not built.up_to_date
        except ScorecardError as exc:
            from scorecard_lib.core.errors import PublishedError

            refused = isinstance(exc, PublishedError)
            return PairResult(
                organisation,
                quarter,
                "refused" if refused else "failed",
                exit_code=exc.exit_code,
                message=exc.message(),
                seconds=time.perf_counter() - started,
            )
    return PairResult(
        organisation,
        quarter,
        status,
        folder=str(folder),
        seconds=time.perf_counter() - started,
        executed=executed,
    )


def audit_pair(
    root: str,
    out_root: str,
    organisation: str,
    quarter: str,
    *,
    jobs: int | dict[str, int] | None,
) -> PairResult:
    """The task of an audit batch: ``scorecard audit QUARTER --archive OUTROOT/ORG/published
    --data ROOT/ORG/data`` in this process; identical, different, or failed (could not be
    audited) with the audit's own words."""
    jobs = _jobs_here(jobs)
    started = time.perf_counter()
    with _ONE_BUILD_AT_A_TIME:
        try:
            from scorecard_lib.audit import audit_quarter

            audited = audit_quarter(
                quarter,
                archive_dir=Path(out_root) / organisation / ARCHIVE_SUBDIR,
                data_dir=Path(root) / organisation / "data",
                jobs=jobs,
            )
        except ScorecardError as exc:
            return PairResult(
                organisation,
                quarter,
                "failed",
                exit_code=exc.exit_code,
                message=exc.message(),
                seconds=time.perf_counter() - started,
            )
    code = audited.exit_code
    return PairResult(
        organisation,
        quarter,
        AUDIT_STATUSES[min(code, 2)],
        exit_code=code,
        message="" if code == 0 else audited.text(),
        seconds=time.perf_counter() - started,
    )


def worker_problem(root: str, out_root: str) -> str:
    """Run on every worker before the batch: what stops it building here, or ""."""
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return (
            "its worker process is daemonic, so a build cannot start its notebook processes "
            "(start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False)"
        )
    if not Path(root).is_dir():
        return f"it cannot see the batch root {root} (workers need the same file system)"
    if not Path(out_root).parent.is_dir():
        return f"it cannot see the folder of {out_root} (workers need the same file system)"
    return ""
