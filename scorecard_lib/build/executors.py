"""Run section notebooks. One small interface, so another engine can replace papermill later.

The runner builds a :class:`SectionJob` per section and hands them all to an
:class:`Executor`; it gets back one :class:`SectionOutcome` per job, in the order given. A cell
error never raises out of :meth:`Executor.run`: it becomes ``ok=False`` with a one-paragraph
``error`` naming the cell and the exception.

:class:`PapermillExecutor` (the only module that knows papermill) runs each notebook in its own
worker *process* (``forkserver`` or ``spawn``, never ``fork`` and never threads: papermill's
``cwd=`` changes the directory of the whole process, and a forked Jupyter client is unsafe).
Each worker sets a deterministic environment before starting the kernel, which inherits it.
Where the system can fork (Linux, macOS), kernels are forked from a process that has already
imported ipykernel and the library (``kernels.py``): same kernels, a second less CPU each.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from scorecard_lib.core.files import DISK_FULL as FULL_DISK_ERRNOS
from scorecard_lib.core.files import is_disk_full
from scorecard_lib.core.lifetime import interrupts_held

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


# --- papermill ------------------------------------------------------------------------------


def _first_line(source: object) -> str:
    text = "".join(source) if isinstance(source, list) else str(source or "")
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 80 else line[:77] + "..."
    return "(empty cell)"


def _error_cell_id(output: Path) -> str | None:
    """The id of the first cell holding an error output in the written notebook, if any."""
    try:
        import nbformat

        nb = nbformat.read(str(output), as_version=4)
    except Exception:
        return None
    for cell in nb.cells:
        for out in cell.get("outputs", ()) if cell.get("cell_type") == "code" else ():
            if out.get("output_type") == "error":
                return str(cell.get("id") or "") or None
    return None


def describe_cell_error(exc: Any, output: Path | None = None) -> str:
    """One paragraph from a ``PapermillExecutionError``: the cell and the exception."""
    count = getattr(exc, "exec_count", None)
    index = getattr(exc, "cell_index", None)
    where = f"In [{count}]" if count is not None else "a cell"
    if index is not None:
        where += f" (cell {int(index) + 1} of the executed notebook"
        cell_id = _error_cell_id(output) if output is not None else None
        where += f", id {cell_id})" if cell_id else ")"
    first = _first_line(getattr(exc, "source", ""))
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = str(getattr(exc, "evalue", "") or "").strip()
    message = f"{ename}: {evalue}" if evalue else ename
    if len(message) > 2000:
        message = message[:1997] + "..."
    return f"{where}, starting `{first}`, raised {message}"


def _undeclared_parameters(job: SectionJob) -> list[str]:
    """Parameters given that the notebook's ``parameters`` cell does not define. papermill only
    warns about them; a report silently built from the default data would be worse."""
    import papermill

    declared = papermill.inspect_notebook(str(job.notebook))
    return sorted(set(job.parameters) - set(declared))


def undeclared_parameters(notebook: Path, parameters: Mapping[str, object]) -> list[str]:
    """The names in ``parameters`` that ``notebook``'s ``parameters`` cell does not define
    (checked by the runner before any notebook runs)."""
    job = SectionJob(
        section=notebook.stem, notebook=notebook, output=notebook, parameters=dict(parameters)
    )
    return _undeclared_parameters(job)


def _lost_port_race(exc: BaseException) -> bool:
    """A kernel start that failed because another kernel took its port (papermill#511)."""
    text = str(exc)
    if type(exc).__name__ == "ZMQError" and "Address already in use" in text:
        return True
    return isinstance(exc, RuntimeError) and "Kernel died before replying" in text


def _execute(job: SectionJob, attempts: int = KERNEL_START_ATTEMPTS) -> SectionOutcome:
    """Execute one job in this process (no environment changes), retrying lost port races."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    job.output.parent.mkdir(parents=True, exist_ok=True)
    unknown = _undeclared_parameters(job)
    if unknown:
        names = ", ".join(unknown)
        return SectionOutcome(
            section=job.section,
            ok=False,
            output=job.output,
            seconds=time.perf_counter() - start,
            error=f"the notebook does not declare the parameter{'s' if len(unknown) > 1 else ''} "
            f"{names} in a cell tagged 'parameters', so the value given would be ignored "
            f"(add {names} to that cell)",
            ename="UnknownParameter",
        )
    _register_engine()
    warm = _take_warm_kernel(job)
    manager = _forked_manager_class()
    tries = 0
    while True:
        tries += 1
        km, warm = warm, None  # a kernel started ahead serves the first attempt only
        try:
            papermill.execute_notebook(
                str(job.notebook),
                str(job.output),
                parameters=dict(job.parameters),
                kernel_name="python3",
                cwd=None,
                progress_bar=False,
                log_output=False,
                execution_timeout=job.timeout,
                request_save_on_cell_execute=False,
                engine_name=ENGINE,
                extra_arguments=list(KERNEL_ARGUMENTS),
                # Every output is in by the time the kernel is shut down: stopping it at once
                # instead of asking it to exit and polling saves 0.5-1 s a notebook.
                shutdown_kernel="immediate",
                **({"km": km} if km is not None else {}),
                **({"kernel_manager_class": manager} if km is None and manager else {}),
            )
        except PapermillExecutionError as exc:
            if _disk_full_in_cell(exc):
                return _disk_full(job, start, tries)
            return SectionOutcome(
                section=job.section,
                ok=False,
                output=job.output,
                seconds=time.perf_counter() - start,
                error=describe_cell_error(exc, job.output),
                ename=str(exc.ename),
                output_written=job.output.is_file(),
                attempts=tries,
            )
        except Exception as exc:
            if is_disk_full(exc):  # writing the executed notebook: it may be cut short
                return _disk_full(job, start, tries)
            if _lost_port_race(exc) and tries < attempts:
                time.sleep(0.2 * tries)
                continue
            return SectionOutcome(
                section=job.section,
                ok=False,
                output=job.output,
                seconds=time.perf_counter() - start,
                error=_describe_other(exc, job, tries),
                ename=type(exc).__name__,
                output_written=job.output.is_file(),
                attempts=tries,
            )
        finally:
            if km is not None:  # nbclient leaves a kernel it did not start running
                _stop_kernel(km)
        return SectionOutcome(
            section=job.section,
            ok=True,
            output=job.output,
            seconds=time.perf_counter() - start,
            output_written=True,
            attempts=tries,
        )


#: ``SectionOutcome.ename`` of a section that could not be written because the disk (or the
#: quota) is full: the runner reports a full disk, not a failed section.
DISK_FULL = "DiskFull"


def _disk_full_in_cell(exc: Any) -> bool:
    """Whether a cell failed with an ``OSError`` saying the disk or the quota is full."""
    evalue = str(getattr(exc, "evalue", "") or "")
    return any(evalue.startswith(f"[Errno {code}]") for code in FULL_DISK_ERRNOS)


def _disk_full(job: SectionJob, start: float, tries: int) -> SectionOutcome:
    """The outcome of a section whose notebook could not be written for lack of space: the
    notebook, perhaps cut short, is removed rather than kept for anyone to open."""
    with contextlib.suppress(OSError):
        job.output.unlink()
    return SectionOutcome(
        section=job.section,
        ok=False,
        output=job.output,
        seconds=time.perf_counter() - start,
        error=f"the disk holding {job.output.parent} is full",
        ename=DISK_FULL,
        output_written=False,
        attempts=tries,
    )


#: The papermill engine used: papermill's nbclient engine, except that a cell stopped by the
#: timeout, or whose kernel died, is recorded in the notebook as that cell's error. papermill
#: then writes the notebook with its error banner and raises PapermillExecutionError, so these
#: failures are reported like any cell error: section, cell, error, the notebook kept.
ENGINE = "scorecard"


def _register_engine() -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import NBClientEngine, papermill_engines

    class StoppedCellEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except (CellTimeoutError, DeadKernelError) as exc:
                if not _record_stopped_cell(nb_man.nb, exc, kwargs.get("execution_timeout")):
                    raise
                return None

    papermill_engines.register(ENGINE, StoppedCellEngine)


def _record_stopped_cell(nb: Any, exc: BaseException, timeout: object) -> bool:
    """Add an error output to the cell that was running when ``exc`` stopped the notebook."""
    import nbformat

    started = [
        c
        for c in nb.cells
        if c.get("cell_type") == "code"
        and c.get("metadata", {}).get("papermill", {}).get("status") not in (None, "pending")
    ]
    if not started:
        return False
    if type(exc).__name__ == "CellTimeoutError":
        ename = "CellTimeoutError"
        evalue = f"the cell ran for more than {timeout} s and was stopped (see --timeout)"
    else:
        ename = "DeadKernelError"
        evalue = "the kernel died while running this cell (out of memory, a crash, or killed)"
    error = nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])
    error.traceback = [f"{ename}: {evalue}"]
    started[-1].setdefault("outputs", []).append(error)
    return True


def _describe_other(exc: BaseException, job: SectionJob, tries: int) -> str:
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if len(text) > 500:
        text = text[:497] + "..."
    if name == "CellTimeoutError":
        return f"a cell ran for more than {job.timeout} s and was stopped ({name}: {text})"
    if name == "DeadKernelError":
        return f"the notebook's kernel died while running it ({name}: {text})"
    if _lost_port_race(exc):
        return f"the kernel could not start after {tries} attempts ({name}: {text})"
    if isinstance(exc, FileNotFoundError):
        return f"a file was not found ({name}: {text})"
    return f"the notebook could not be run ({name}: {text})"


# --- kernels started ahead ---------------------------------------------------------------------
# The runner spends a second or two importing pandas and validating the inputs before it has
# any job to give; kernels started meanwhile (PapermillExecutor.start) have their interpreter up
# and the library imported by then. Each worker keeps at most one such kernel, for its next job.
# What a notebook shows cannot depend on it: the kernel is started as nbclient starts one (same
# arguments, environment and working directory), the prelude runs silently (no output, no
# execution count, no history) and only imports what the notebook's first cell imports.

#: This worker's kernel started ahead: {"km": manager, "kc": client, "cwd": working directory}.
_WARM: dict[str, Any] = {}
#: What nbclient adds to the arguments of every kernel it starts (its ``ipython_hist_file``).
_NBCLIENT_ARGUMENTS: tuple[str, ...] = ("--HistoryManager.hist_file=:memory:",)
#: Seconds a job waits for the kernel started ahead to finish its prelude before starting its
#: own instead.
WARM_KERNEL_TIMEOUT = 120


def _stop_kernel(km: Any, kc: Any = None) -> None:
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        if kc is not None:
            kc.stop_channels()
    with contextlib.suppress(Exception):  # already gone
        run_sync(km.shutdown_kernel)(now=True)


def _discard_warm_kernel() -> None:
    km, kc = _WARM.pop("km", None), _WARM.pop("kc", None)
    _WARM.clear()
    if km is not None:
        _stop_kernel(km, kc)


def _start_warm_kernel(cwd: str | None, prelude: str, attempts: int) -> bool:
    """Worker task: launch a kernel for this worker's next job and send it ``prelude`` to run
    silently, without waiting for either: the worker is free again at once (so the pool gives
    it the next job rather than starting another worker), and the kernel gets ready meanwhile.
    With a zygote (``_ZYGOTE``) the kernel is forked from it (the prelude ran there) as soon
    as it listens, while the caller is still checking the inputs. False if this worker has a
    kernel already or none could be launched. (``attempts`` is not needed here: a kernel that
    lost the race for a port is found dead by the job, which then starts its own, with the
    usual retries.)"""
    if _WARM:
        return False
    if _BARRIER is not None:
        # Each task must reach a worker of its own: this one is quick, and a worker that
        # finished it could otherwise take the next one too, leaving another worker without.
        with contextlib.suppress(Exception):  # a broken barrier only costs the head start
            _BARRIER.wait(timeout=30)
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    if cwd is not None:
        os.chdir(cwd)  # the kernel inherits it, as it would from _run_job

    manager = _forked_manager_class()
    if manager is not None:
        # The fork waits for the zygote to listen: import what the job needs meanwhile, so
        # that the worker is idle, ready for its job, as soon as the kernel is launched.
        _register_engine()  # imports papermill and nbclient
    else:
        manager = AsyncKernelManager

    async def launch() -> tuple[Any, Any]:
        km = manager(kernel_name="python3")
        await km.start_kernel(extra_arguments=[*KERNEL_ARGUMENTS, *_NBCLIENT_ARGUMENTS])
        kc = km.client()
        kc.start_channels()
        if prelude:
            kc.execute(prelude, silent=True, store_history=False)
        return km, kc

    try:
        km, kc = run_sync(launch)()
    except Exception:
        return False
    _WARM.update(km=km, kc=kc, cwd=cwd)
    # a worker leaves when its pool is shut down: its unused kernel goes with it
    multiprocessing.util.Finalize(None, _discard_warm_kernel, exitpriority=10)
    if manager is AsyncKernelManager:
        _register_engine()  # the job needs papermill: import it while the kernel starts
    return True


def _take_warm_kernel(job: SectionJob) -> Any | None:
    """The kernel launched ahead by this worker once it has run its prelude, if it is in the
    job's working directory and answers; otherwise None (it is stopped, and the job starts its
    own kernel as usual)."""
    km, kc, cwd = _WARM.pop("km", None), _WARM.pop("kc", None), _WARM.pop("cwd", None)
    _WARM.clear()
    if km is None:
        return None
    from jupyter_core.utils import run_sync

    ready = cwd == (None if job.cwd is None else str(job.cwd))
    if ready:
        try:
            # The kernel answers requests in order: once it replies, the prelude has run.
            run_sync(kc.wait_for_ready)(timeout=WARM_KERNEL_TIMEOUT)
        except Exception:  # it died (e.g. lost the race for a port) or hangs
            ready = False
    if not ready:
        _stop_kernel(km, kc)
        return None
    kc.stop_channels()  # nbclient opens its own
    return km


#: Loggers silenced in the workers: every failure reaches the caller as an outcome, and on
#: Ctrl-C papermill, nbclient and asyncio would otherwise print tracebacks over the CLI's
#: one-line "Interrupted" message.
_QUIET_LOGGERS = ("papermill", "nbclient", "traitlets", "asyncio")


#: In a worker of a pool started ahead: all its workers meet here before launching their kernels
#: (see PapermillExecutor.start).
_BARRIER: Any = None
#: In a worker: the socket of the zygote its kernels are forked from (kernels.py), if any.
_ZYGOTE: str | None = None
_MANAGER_CLASS: Any = None


def _forked_manager_class() -> Any:
    """The kernel manager class forking this worker's kernels, or None (ordinary kernels)."""
    global _MANAGER_CLASS
    if _ZYGOTE is None:
        return None
    if _MANAGER_CLASS is None:
        from scorecard_lib.build.kernels import kernel_manager_class

        _MANAGER_CLASS = kernel_manager_class(_ZYGOTE)
    return _MANAGER_CLASS


def _worker_init(barrier: Any = None, zygote: str | None = None, build: int | None = None) -> None:
    """Runs once in each worker process. The worker leaves when its parent (the fork server,
    or the build itself with ``spawn``) or the build (pid ``build``) is gone
    (``lifetime.py``); its kernel then notices and leaves too."""
    from scorecard_lib.core.lifetime import leave_with_parent

    leave_with_parent(os.getppid(), watch=False)
    if build is not None:
        leave_with_parent(build, direct=False)
    global _BARRIER, _ZYGOTE
    _BARRIER, _ZYGOTE = barrier, zygote
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an idle worker never prints a traceback
    os.environ.update(KERNEL_ENV)
    if hasattr(time, "tzset"):
        time.tzset()
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _run_job(job: SectionJob, attempts: int = KERNEL_START_ATTEMPTS) -> SectionOutcome:
    """Worker-process entry point: deterministic environment, working directory, execute.

    Ctrl-C at the terminal reaches the busy workers too (the kernels run in their own
    sessions and do not get it): the execution stops, nbclient shuts its kernel down, and the
    KeyboardInterrupt goes back to the (already interrupted) parent.
    """
    os.environ.update(KERNEL_ENV)
    if job.cwd is not None:
        os.chdir(job.cwd)  # safe: this process runs one notebook at a time
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _execute(job, attempts)
    finally:
        signal.signal(signal.SIGINT, previous)


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

    def _start_zygote(self, cwd: Path | None, prelude: str = "") -> str | None:
        """Start the zygote (once), with the kernels' environment; its socket path."""
        if not self.fork_kernels:
            return None
        if self._zygote is None:
            from scorecard_lib.build.kernels import Zygote

            self._zygote = Zygote.start({**os.environ, **KERNEL_ENV}, cwd=cwd, prelude=prelude)
        return str(self._zygote.path)

    def _new_pool(
        self, workers: int, meet: int = 0, zygote: str | None = None
    ) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(self.start_method)
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_worker_init,
            initargs=(context.Barrier(meet) if meet > 1 else None, zygote, os.getpid()),
        )

    def start(
        self,
        max_workers: int | None = None,
        *,
        kernels: int | None = None,
        cwd: Path | None = None,
        prelude: str = "",
    ) -> None:
        """Start ``kernels`` workers (default: all ``max_workers``) now, while the caller gets
        the jobs ready; the next :meth:`run` uses them and starts any more it needs. Each of
        those workers launches a kernel for its first job, in working directory ``cwd``
        (:func:`_start_warm_kernel`). With forked kernels the zygote starts too, imports
        ipykernel and the library and runs ``prelude``; each worker imports papermill and has
        a kernel forked as soon as the zygote listens. Otherwise each kernel runs ``prelude``
        silently. Optional: :meth:`run` starts what it needs. Call :meth:`close` when
        :meth:`run` may not come."""
        if self._pool is not None:
            return
        self._pool_size = max(1, max_workers or os.cpu_count() or 1)
        count = self._pool_size if kernels is None else max(0, min(kernels, self._pool_size))
        with interrupts_held():  # see lifetime.interrupts_held
            zygote = self._start_zygote(cwd, prelude)
            # only ``count`` workers now (the pool starts more when more jobs come)
            self._pool = self._new_pool(self._pool_size, count, zygote)
            for _ in range(count):
                self._submit(
                    self._pool,
                    _start_warm_kernel,
                    None if cwd is None else str(cwd),
                    "" if zygote is not None else prelude,  # a forked kernel has run it
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
                future = self._submit(pool, _run_job, job, self.kernel_start_attempts)
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
