"""Run section notebooks. One small interface, so another engine can replace papermill later.

The runner builds a :class:`SectionJob` per section and hands them all to an
:class:`Executor`; it gets back one :class:`SectionOutcome` per job, in the order given. A cell
error never raises out of :meth:`Executor.run`: it becomes ``ok=False`` with a one-paragraph
``error`` naming the cell and the exception.

:class:`PapermillExecutor` (with ``papermill_worker.py``, the only code that knows papermill)
runs each notebook in its own worker *process* (``forkserver`` or ``spawn``, never ``fork``
and never threads: papermill's ``cwd=`` changes the directory of the whole process, and a
forked Jupyter client is unsafe).
Each worker sets a deterministic environment before starting the kernel, which inherits it.
Where the system can fork (Linux, macOS), kernels are forked from a process that has already
imported ipykernel and the library (``kernels.py``, ``provisioner.py``): same kernels, a second
less CPU each. This module is the interface and the pool of workers (their lifetime: started
ahead, stopped on close or Ctrl-C); what a worker does is ``papermill_worker.py``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scorecard_lib.core.lifetime import interrupts_held

if TYPE_CHECKING:
    from scorecard_lib.build.preparation import KernelPreparation

#: ``on_event(section, event, seconds)``: event is "started" (seconds None), "finished" or
#: "failed" (seconds the section took).
EventCallback = Callable[[str, str, float | None], None]

#: Environment of every kernel: nothing about the machine's locale, clock or hash seed may
#: reach an executed notebook. See docs (NOTES-reproducibility): SOURCE_DATE_EPOCH removes the
#: SVG ``<dc:date>``; MPLBACKEND keeps matplotlib off any display.
KERNEL_ENV: Mapping[str, str] = {
    "PYTHONHASHSEED": "0",
    "TZ": "UTC",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "SOURCE_DATE_EPOCH": "0",
    "MPLBACKEND": "Agg",
}

#: How many times a kernel start that lost the port race is tried in all.
KERNEL_START_ATTEMPTS = 3

#: Arguments for every kernel. Kernels write their own log to the terminal's stderr: ipykernel
#: 7 warns once per kernel that it "is running over TCP without encryption" (client and kernel
#: share this machine), and jupyter_client interrupts every kernel before shutting it down,
#: which now and then logs "KeyboardInterrupt caught in kernel" at ERROR level. Both are noise
#: for an analyst; what goes wrong in a notebook reaches us as a cell error or a dead kernel.
#: (IPC transport would avoid the warning and the port race, but jupyter_client names IPC
#: sockets ``kernel-ipc-<n>`` in the working directory, and parallel kernels then collide:
#: tried, every parallel run broke.)
KERNEL_ARGUMENTS: tuple[str, ...] = ("--IPKernelApp.log_level=CRITICAL",)


@dataclass(frozen=True)
class SectionJob:
    """One notebook to execute. Paths are absolute.

    ``timeout`` is the seconds any one cell may run (papermill's ``execution_timeout``; None:
    no limit); a cell that runs longer fails the section. ``cwd`` is the working directory of
    the kernel (the worker process changes into it before starting the kernel; papermill's own
    ``cwd=`` is never used). ``None`` keeps the worker's.
    """

    section: str
    notebook: Path
    output: Path
    parameters: dict[str, object] = field(default_factory=dict)
    timeout: int | None = 600
    cwd: Path | None = None


@dataclass(frozen=True)
class SectionOutcome:
    """What happened to one :class:`SectionJob`.

    ``error`` is one paragraph for a person (which cell, which exception); ``ename`` the
    exception's class name. ``output_written`` tells whether an executed notebook (for a failure:
    with papermill's error banner) was written to ``output``. ``attempts`` counts kernel starts.
    """

    section: str
    ok: bool
    output: Path
    seconds: float
    error: str | None = None
    ename: str | None = None
    output_written: bool = False
    attempts: int = 1


class Executor(Protocol):
    """Anything that can execute section notebooks."""

    def run(
        self,
        jobs: Sequence[SectionJob],
        *,
        max_workers: int,
        on_event: EventCallback | None,
    ) -> list[SectionOutcome]:
        """Execute every job; return their outcomes in the order of ``jobs``. Cell errors are
        outcomes, not exceptions; only interruption (KeyboardInterrupt) escapes."""
        ...


#: ``SectionOutcome.ename`` of a section that could not be written because the disk (or the
#: quota) is full: the runner reports a full disk, not a failed section.
DISK_FULL = "DiskFull"


#: Held while a pool may start a worker process (``PapermillExecutor._submit``).
_SPAWNING = threading.Lock()


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class PapermillExecutor:
    """Executes notebooks with papermill, each in a worker process, up to ``max_workers`` at
    once (default: the number of CPUs).

    ``fork_kernels`` (default: where the system can fork) starts kernels from a zygote that has
    imported ipykernel and the library (``kernels.py``) instead of a new interpreter each; any
    kernel spec other than this interpreter's ipykernel is started the ordinary way."""

    def __init__(
        self,
        *,
        start_method: str | None = None,
        kernel_start_attempts: int = KERNEL_START_ATTEMPTS,
        fork_kernels: bool | None = None,
    ) -> None:
        from scorecard_lib.build import kernels

        self.start_method = start_method or _start_method()
        self.kernel_start_attempts = kernel_start_attempts
        self.fork_kernels = kernels.available() if fork_kernels is None else fork_kernels
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0
        self._zygote: Any = None
        self._mine: set[Any] = set()  # the worker processes this executor's pools started

    def _start_zygote(
        self, cwd: Path | None, preparation: KernelPreparation | None = None
    ) -> str | None:
        """Start the zygote (once), with the kernels' environment; its socket path."""
        if not self.fork_kernels:
            return None
        if self._zygote is None:
            from scorecard_lib.build.kernels import Zygote

            env = {**os.environ, **KERNEL_ENV}
            self._zygote = Zygote.start(env, cwd=cwd, preparation=preparation)
        return str(self._zygote.path)

    def _new_pool(
        self, workers: int, meet: int = 0, zygote: str | None = None
    ) -> ProcessPoolExecutor:
        from scorecard_lib.build.papermill_worker import worker_init

        context = multiprocessing.get_context(self.start_method)
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=worker_init,
            initargs=(context.Barrier(meet) if meet > 1 else None, zygote, os.getpid()),
        )

    def start(
        self,
        max_workers: int | None = None,
        *,
        kernels: int | None = None,
        cwd: Path | None = None,
        prelude: KernelPreparation | None = None,
    ) -> None:
        """Start ``kernels`` workers (default: all ``max_workers``) now, while the caller gets
        the jobs ready; the next :meth:`run` uses them and starts any more it needs. Each of
        those workers launches a kernel for its first job, in working directory ``cwd``
        (``papermill_worker.start_warm_kernel``). ``prelude`` is what the kernels prepare
        before any notebook (``preparation.py``: data, not code). With forked kernels the
        zygote starts too, imports ipykernel and the library and carries it out; each worker
        imports papermill and has a kernel forked as soon as the zygote listens. Otherwise each
        kernel carries it out while it starts. Optional: :meth:`run` starts what it needs.
        Call :meth:`close` when :meth:`run` may not come."""
        if self._pool is not None:
            return
        self._pool_size = max(1, max_workers or os.cpu_count() or 1)
        count = self._pool_size if kernels is None else max(0, min(kernels, self._pool_size))
        from scorecard_lib.build.papermill_worker import start_warm_kernel

        with interrupts_held():  # see lifetime.interrupts_held
            zygote = self._start_zygote(cwd, prelude)
            # only ``count`` workers now (the pool starts more when more jobs come)
            self._pool = self._new_pool(self._pool_size, count, zygote)
            for _ in range(count):
                self._submit(
                    self._pool,
                    start_warm_kernel,
                    None if cwd is None else str(cwd),
                    None if zygote is not None else prelude,  # the zygote carried it out
                    self.kernel_start_attempts,
                )

    def close(self) -> None:
        """Stop what :meth:`start` started and :meth:`run` did not use, without waiting for
        a kernel still starting (a kernel whose worker is gone exits by itself)."""
        pool, self._pool = self._pool, None
        zygote, self._zygote = self._zygote, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            # an idle worker leaves at once, stopping its kernel; one still starting its
            # kernel is not waited for
            self._stop_workers(wait=0.5)
        if zygote is not None:  # it kills any kernel still running
            zygote.close()

    def _submit(self, pool: ProcessPoolExecutor, fn: Any, *args: Any) -> Future[Any]:
        """``pool.submit``, noting the worker process it starts, if any: the child processes
        (``multiprocessing.active_children``) that appear meanwhile, other executors (the
        audit runs several at once, in threads) being kept from starting any until then.
        Ctrl-C and SIGTERM are held meanwhile (see ``lifetime.interrupts_held``)."""
        with _SPAWNING:
            before = set(multiprocessing.active_children())
            with interrupts_held():
                future = pool.submit(fn, *args)
            self._mine.update(set(multiprocessing.active_children()) - before)
        return future

    def _workers(self) -> list[Any]:
        """The worker processes this executor's pools started that are still running."""
        self._mine = {p for p in self._mine if p.is_alive()}
        return list(self._mine)

    def worker_pids(self) -> set[int]:
        """The process ids of the workers this executor started that are still running."""
        return {p.pid for p in self._workers() if p.pid is not None}

    def _stop_workers(self, wait: float) -> None:
        """Give each worker ``wait`` seconds to leave by itself, then terminate it."""
        for process in self._workers():
            with contextlib.suppress(Exception):
                process.join(timeout=wait)
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=5)

    def run(
        self,
        jobs: Sequence[SectionJob],
        *,
        max_workers: int | None = None,
        on_event: EventCallback | None = None,
    ) -> list[SectionOutcome]:
        from scorecard_lib.build.papermill_worker import run_job

        jobs = list(jobs)
        if not jobs:
            self.close()
            return []
        workers = max(1, min(max_workers or os.cpu_count() or 1, len(jobs)))
        emit: EventCallback = on_event or (lambda _s, _e, _t: None)
        outcomes: dict[int, SectionOutcome] = {}
        pending = deque(enumerate(jobs))
        running: dict[Future[SectionOutcome], tuple[int, SectionJob]] = {}
        pool, self._pool = self._pool, None  # the workers start() started, if any
        if pool is not None:
            workers = min(workers, self._pool_size)
        else:
            with interrupts_held():
                pool = self._new_pool(workers, zygote=self._start_zygote(jobs[0].cwd))

        def finish(index: int, outcome: SectionOutcome) -> None:
            outcomes[index] = outcome
            emit(outcome.section, "finished" if outcome.ok else "failed", outcome.seconds)

        def submit() -> None:
            # Jobs are submitted only when a worker is free, so "started" is when it starts.
            index, job = pending.popleft()
            emit(job.section, "started", None)
            try:
                future = self._submit(pool, run_job, job, self.kernel_start_attempts)
            except Exception as exc:  # a broken pool: report, do not raise
                finish(index, _crashed(job, exc, 0.0))
                return
            running[future] = (index, job)

        try:
            while pending and len(running) < workers:
                submit()
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    index, job = running.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the worker process died, or a pickling bug
                        outcome = _crashed(job, exc, 0.0)
                    finish(index, outcome)
                    while pending and len(running) < workers:
                        submit()
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): stop everything now
            pool.shutdown(wait=False, cancel_futures=True)
            self._stop_workers(wait=0)  # busy workers too; the zygote then kills the kernels
            self.close()
            raise
        pool.shutdown(wait=True)
        self.close()
        return [outcomes[i] for i in range(len(jobs))]


def _crashed(job: SectionJob, exc: BaseException, seconds: float) -> SectionOutcome:
    text = " ".join(str(exc).split()) or "no detail"
    return SectionOutcome(
        section=job.section,
        ok=False,
        output=job.output,
        seconds=seconds,
        error=f"the worker process running it stopped unexpectedly ({type(exc).__name__}: {text})",
        ename=type(exc).__name__,
        output_written=job.output.is_file(),
    )
