"""What each worker process of ``PapermillExecutor`` does: run one notebook with papermill.

``executors.py`` holds the interface and the pool of worker processes; this module is the
code that runs *inside* a worker: its set-up (:func:`worker_init`: deterministic environment,
leaving with the build), one job (:func:`run_job`: papermill through the engine registered as
:data:`ENGINE`, with the kernel started ahead if there is one, retries of a lost port race),
and the turning of whatever went wrong into a :class:`SectionOutcome` with one paragraph for a
person. Kernels are forked from the zygote when the pool has one (``provisioner.py``), through
jupyter_client's public kernel manager and provisioner interfaces.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing.util
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.build.executors import (
    DISK_FULL,
    KERNEL_ARGUMENTS,
    KERNEL_ENV,
    KERNEL_START_ATTEMPTS,
    SectionJob,
    SectionOutcome,
)
from scorecard_lib.build.preparation import KernelPreparation, kernel_arguments
from scorecard_lib.core.files import DISK_FULL as FULL_DISK_ERRNOS
from scorecard_lib.core.files import is_disk_full


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


def execute_job(job: SectionJob, attempts: int = KERNEL_START_ATTEMPTS) -> SectionOutcome:
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
# arguments, environment and working directory). A forked kernel was prepared in the zygote
# (preparation.py); one started the ordinary way carries out the same preparation while it
# starts, as an IPython extension: it imports what the notebook's first cell imports and reads
# the inputs, and defines nothing in the notebook's namespace (no output, no execution count,
# no history).

#: This worker's kernel started ahead: {"km": manager, "kc": client, "cwd": working directory}.
_WARM: dict[str, Any] = {}
#: What nbclient adds to the arguments of every kernel it starts (its ``ipython_hist_file``).
_NBCLIENT_ARGUMENTS: tuple[str, ...] = ("--HistoryManager.hist_file=:memory:",)
#: Seconds a job waits for the kernel started ahead to be ready before starting its own instead.
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


def start_warm_kernel(
    cwd: str | None, preparation: KernelPreparation | None, attempts: int
) -> bool:
    """Worker task: launch a kernel for this worker's next job, without waiting for it to be
    ready: the worker is free again at once (so the pool gives it the next job rather than
    starting another worker), and the kernel gets ready meanwhile. With a zygote the kernel is
    forked from it (prepared there) as soon as it listens, while the caller is still checking
    the inputs; otherwise it carries out ``preparation`` while it starts. False if this worker
    has a kernel already or none could be launched. (``attempts`` is not needed here: a kernel
    that lost the race for a port is found dead by the job, which then starts its own, with
    the usual retries.)"""
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
        os.chdir(cwd)  # the kernel inherits it, as it would from run_job

    manager = _forked_manager_class()
    arguments = [*KERNEL_ARGUMENTS, *_NBCLIENT_ARGUMENTS]
    if manager is not None:
        # The fork waits for the zygote to listen: import what the job needs meanwhile, so
        # that the worker is idle, ready for its job, as soon as the kernel is launched.
        _register_engine()  # imports papermill and nbclient
    else:
        manager = AsyncKernelManager
        arguments += kernel_arguments(preparation)

    async def launch() -> tuple[Any, Any]:
        km = manager(kernel_name="python3")
        await km.start_kernel(extra_arguments=arguments)
        kc = km.client()
        kc.start_channels()
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
    """The kernel launched ahead by this worker once it is ready (prepared), if it is in the
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
            # A kernel answers only once it has started, its preparation included.
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


def _forked_manager_class() -> Any:
    """The kernel manager class forking this worker's kernels, or None (ordinary kernels)."""
    if _ZYGOTE is None:
        return None
    from scorecard_lib.build.provisioner import kernel_manager_class

    return kernel_manager_class(_ZYGOTE)


def worker_init(barrier: Any = None, zygote: str | None = None, build: int | None = None) -> None:
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


def run_job(job: SectionJob, attempts: int = KERNEL_START_ATTEMPTS) -> SectionOutcome:
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
        return execute_job(job, attempts)
    finally:
        signal.signal(signal.SIGINT, previous)
