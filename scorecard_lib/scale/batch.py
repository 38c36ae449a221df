"""``scorecard batch``: every (organisation, quarter) pair of a root folder as tasks on Dask.

A root folder holds one folder per organisation, each laid out as the project is
(``ORG/data/``, ``ORG/params/``). Each pair is one task on a ``distributed.Client``, and the
task does exactly what ``scorecard run QUARTER --data ROOT/ORG/data --out OUTROOT/ORG`` does
(:func:`build.build`, same bytes, same build cache), or with ``publish`` what ``scorecard
publish`` does into ``OUTROOT/ORG/published/``. The cluster is the user's (``scheduler``), or a
``LocalCluster`` of worker processes started here; there is no scheduler, queue or pool of our
own.

Why it is safe to spread builds this way:

* a build publishes by renaming a finished staging folder into place, so a task whose worker
  died can run again from the start (``retries``) and a half-built pair is never published;
* a build that fails for its own reasons (a :class:`ScorecardError`: bad data, a failing cell,
  a publication refused) is *returned* as a :class:`PairResult` with its message and exit
  status, so it neither stops the other pairs nor is retried;
* one build at a time runs in a worker process (``tasks._ONE_BUILD_AT_A_TIME``), whatever the
  worker's thread count: the library keeps per-process state for the build it runs;
* the worker processes must be allowed children (each build starts its own notebook processes
  and kernels): the local cluster is started with ``distributed.worker.daemon`` off, and the
  workers of a cluster given by address are checked before anything runs.

This module is the client side: it starts or connects to the cluster, submits the tasks
(``tasks.py``, what runs on a worker) for the pairs of the plan (``plan.py``, checked before
anything runs) and collects their results. ``distributed`` is imported only in this package
and only when a batch runs: ``scorecard run`` never imports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from scorecard_lib.scale.plan import (
    AUDIT_STATUSES,
    STATUSES,
    BatchError,
    BatchResult,
    Pair,
    PairResult,
    audit_plan,
    plan,
)
from scorecard_lib.scale.tasks import audit_pair, build_pair, worker_problem

#: Seconds to wait for a scheduler given by address to answer.
CONNECT_TIMEOUT = 10.0
#: Times a task whose worker died is run again (on another worker) before it counts as failed.
RETRIES = 3


# --- the batch --------------------------------------------------------------------------------


def _jobs_per_worker(client: Any, workers: dict[str, Any]) -> dict[str, int]:
    """Sections each worker runs at once inside a build: the CPUs of its machine shared among
    the worker processes on that machine (a build's bytes do not depend on it)."""
    cpus: dict[str, int] = client.run(os.cpu_count)
    per_host: dict[str, int] = {}
    for w in workers.values():
        per_host[str(w.get("host"))] = per_host.get(str(w.get("host")), 0) + 1
    return {
        address: max(1, (cpus.get(address) or 1) // per_host.get(str(w.get("host")), 1))
        for address, w in workers.items()
    }


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM stops the batch as Ctrl-C does (KeyboardInterrupt in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


def _subreaper(on: bool | None = None) -> bool:
    """On Linux, whether this process is the reaper of its orphaned descendants; with ``on``,
    set it first. Set during a local batch: the notebook processes of a worker that died are
    then still ours, and :func:`_stop_descendants` ends them. Put back afterwards, since a
    reaper keeps orphans from seeing their parent go (ipykernel's own parent check waits for
    init to adopt them). No library offers this; it is two documented prctl calls."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if on is not None:
            libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)
        state = ctypes.c_int(0)
        libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(state), 0, 0, 0)
        return bool(state.value)
    except Exception:  # no libc prctl: the fallback is the workers' own parent checks
        return False


def _descendants() -> list[Any]:
    import psutil

    return psutil.Process().children(recursive=True)


def _stop_descendants(before: set[int], grace: float = 5.0) -> None:
    """End every process this one started since the batch began (pids not in ``before``) that
    is still running: the local cluster's workers and their notebook processes, politely
    first. multiprocessing's resource tracker is left alone: it belongs to this process, ignores
    SIGTERM by design and leaves when this process does."""
    import psutil

    def ours() -> list[Any]:
        left = []
        for p in _descendants():
            with contextlib.suppress(psutil.Error):
                if p.pid not in before and not any(
                    "resource_tracker" in part for part in p.cmdline()
                ):
                    left.append(p)
        return left

    for _round in range(3):
        left = ours()
        if not left:
            return
        for p in left:
            with contextlib.suppress(psutil.Error):
                p.terminate()
        _gone, alive = psutil.wait_procs(left, timeout=grace)
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(alive, timeout=grace)


def _require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise BatchError(
            "scorecard batch needs Dask distributed, which is not installed",
            fix="install the scale extra: pip install '.[scale]' (make setup installs it too)",
        ) from None


def _connect(scheduler: str | None, workers: int | None, timeout: float) -> tuple[Any, Any]:
    """A client, and the LocalCluster started for it (None for a scheduler given)."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BatchError(
                f"Could not reach the Dask scheduler at {scheduler} within {timeout:g} s "
                f"({type(exc).__name__})",
                where="--scheduler",
                fix="start it with 'dask scheduler' and give the address it prints "
                "(tcp://HOST:8786), or leave out --scheduler to use this machine alone",
            ) from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            client.close()
            raise BatchError(
                f"The Dask scheduler at {scheduler} has no worker ({type(exc).__name__})",
                where="--scheduler",
                fix="start workers with 'DASK_DISTRIBUTED__WORKER__DAEMON=False dask worker "
                f"{scheduler} --nthreads 1' on machines that see the same folders",
            ) from None
        return client, None
    count = workers or os.cpu_count() or 1
    _subreaper(True)
    cluster = LocalCluster(
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    return Client(cluster, timeout=timeout), cluster


def run_batch(
    root: Path,
    out_root: Path,
    *,
    quarters: Sequence[str] = (),
    quarter_span: str | None = None,
    orgs: Sequence[str] = (),
    scheduler: str | None = None,
    workers: int | None = None,
    jobs: int | None = None,
    timeout: int | None = 600,
    cache: bool = True,
    publish: bool = False,
    audit: bool = False,
    require_committed_code: bool = True,
    connect_timeout: float = CONNECT_TIMEOUT,
    progress: bool = True,
    on_result: Callable[[PairResult], None] | None = None,
) -> BatchResult:
    """Build every pair of :func:`plan` as one task each (see the module docstring).

    Everything is checked before anything runs (:class:`BatchError`, exit 2). ``workers``
    sizes the local cluster (default: one per CPU); ``jobs`` the sections run at once inside
    each build (default: the CPUs divided among the workers of a machine). ``publish``
    publishes each pair (:func:`build_pair`); ``audit`` audits every published record of
    every organisation instead (:func:`audit_pair`). Ctrl-C or SIGTERM
    stops the batch: the local cluster is closed and every process it started ended; a pair
    not finished is not published."""
    root = Path(root).expanduser().resolve()
    out_root = Path(out_root).expanduser().resolve()
    if scheduler and workers:
        raise BatchError(
            "--workers sizes the cluster started on this machine, and --scheduler uses a "
            "cluster that already has its workers",
            fix="give one or the other (start more workers on the cluster with 'dask worker')",
        )
    chosen = dict(quarters=quarters, quarter_span=quarter_span, orgs=orgs)
    pairs = audit_plan(root, out_root, **chosen) if audit else plan(root, **chosen)
    _require_distributed()
    started = time.perf_counter()
    client = cluster = None
    before = {p.pid for p in _descendants()}
    was_reaper = _subreaper()
    result = BatchResult(statuses=AUDIT_STATUSES if audit else STATUSES)
    import dask

    try:
        # Worker processes may have children (a build's notebook processes): read by the
        # nannies of the local cluster when they start a worker, and again when they restart
        # one that died, so it holds for the batch's whole life.
        with _stop_on_sigterm(), dask.config.set({"distributed.worker.daemon": False}):
            client, cluster = _connect(scheduler, workers, connect_timeout)
            info = client.scheduler_info(n_workers=-1)["workers"]
            result.workers = len(info)
            problems = {
                address: text
                for address, text in client.run(worker_problem, str(root), str(out_root)).items()
                if text
            }
            if problems:
                address, text = next(iter(problems.items()))
                raise BatchError(
                    f"The Dask worker at {address} cannot build: {text}",
                    where="--scheduler" if scheduler else "the local cluster",
                    fix="see docs/scale.md for how to start workers",
                )
            each = jobs or _jobs_per_worker(client, info)
            out_root.mkdir(parents=True, exist_ok=True)
            task, options = (
                (audit_pair, dict(jobs=each))
                if audit
                else (
                    build_pair,
                    dict(
                        jobs=each,
                        timeout=timeout,
                        cache=cache,
                        publish=publish,
                        require_committed_code=require_committed_code,
                    ),
                )
            )
            result.results = _run_tasks(
                client,
                task,
                pairs,
                options,
                str(root),
                str(out_root),
                progress,
                on_result,
            )
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)
            _stop_descendants(before)
            _subreaper(was_reaper)
        result.seconds = time.perf_counter() - started
    return result


def _across_organisations(pairs: Sequence[Pair]) -> list[tuple[int, Pair]]:
    """The pairs (with their index in the plan) in the order they are submitted: one quarter
    of each organisation in turn, so that the workers busy at one time mostly build different
    organisations (their output folders, build caches and archives are then not shared)."""
    turns: dict[str, int] = {}
    keyed = []
    for i, p in enumerate(pairs):
        turns[p.organisation] = turns.get(p.organisation, -1) + 1
        keyed.append(((turns[p.organisation], i), (i, p)))
    return [item for _key, item in sorted(keyed, key=lambda k: k[0])]


def _run_tasks(
    client: Any,
    task: Callable[..., PairResult],
    pairs: Sequence[Pair],
    options: dict[str, Any],
    root: str,
    out_root: str,
    progress: bool,
    on_result: Callable[[PairResult], None] | None,
) -> list[PairResult]:
    from distributed import as_completed
    from tqdm import tqdm

    batch_id = uuid.uuid4().hex[:12]
    futures = {
        client.submit(
            task,
            root,
            out_root,
            p.organisation,
            p.quarter.id,
            **options,
            # unique per batch: a scheduler shared with an earlier batch must not answer
            # with that batch's result
            key=f"scorecard-{p.organisation}-{p.quarter.id}-{batch_id}",
            retries=RETRIES,
            pure=False,
        ): i
        for i, p in _across_organisations(pairs)
    }
    results: dict[int, PairResult] = {}
    bar = tqdm(total=len(pairs), desc="pairs", unit="pair", file=sys.stderr, disable=not progress)
    try:
        for future in as_completed(futures):
            i = futures[future]
            pair = pairs[i]
            try:
                outcome: PairResult = future.result()
            except Exception as exc:  # the task kept losing its worker, or a bug
                text = " ".join(str(exc).split()) or "no detail"
                outcome = PairResult(
                    pair.organisation,
                    pair.quarter.id,
                    "failed",
                    exit_code=1,
                    message=f"The build stopped unexpectedly ({type(exc).__name__}: {text})",
                )
            results[i] = outcome
            bar.update(1)
            if on_result is not None:
                on_result(outcome)
    except BaseException:
        client.cancel(list(futures), force=True)
        raise
    finally:
        bar.close()
    return [results[i] for i in range(len(pairs))]
