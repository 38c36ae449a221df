"""Child processes that leave when the build that started them is gone.

A build starts processes of its own: multiprocessing's fork server and pool workers, the
kernels' zygote (``kernels.py``) and the kernels. If the build is killed (``kill -9``, a
crashed terminal, the out-of-memory killer) none of them is told, and each could run on for
ever with parent pid 1, some starting kernels a minute later. So each calls
:func:`leave_with_parent` as soon as it starts:

* on Linux the kernel itself does it: ``prctl(PR_SET_PDEATHSIG, signal)`` (through ctypes;
  Python has no wrapper) asks for ``signal`` the moment the process's parent ends. It is
  Linux-only, and it names the *direct* parent (for a pool worker, the fork server);
* everywhere, and also for a process further up the chain (a pool worker watching the build
  itself), a daemon thread polls that process's pid every :data:`POLL_SECONDS` and ends this
  process when it is gone. That is the fallback on other systems, as ipykernel's own parent
  poller is for the kernels jupyter_client starts.

A process that forks without ``exec`` (the zygote) must not have other threads when it
forks, so it asks for the signal only (``watch=False``) and polls its parent in its own loop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

#: Seconds between two looks at the watched process by the watchdog thread.
POLL_SECONDS = 0.5
#: ``PR_SET_PDEATHSIG`` from ``<linux/prctl.h>``.
_PR_SET_PDEATHSIG = 1


def parent_death_signal(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent ends. False where that
    cannot be asked (not Linux, no C library found)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts until it is reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has the number now: ours is gone
        return False
    return True


def leave_with_parent(
    parent: int, *, signum: int = signal.SIGKILL, watch: bool = True, direct: bool = True
) -> None:
    """End this process when ``parent`` ends (see the module docstring).

    ``direct``: ``parent`` is this process's own parent, so Linux's parent-death signal
    applies (``signum``); the parent is checked again afterwards, since it may have ended
    before the request was made. ``watch``: also start the watchdog thread polling ``parent``.
    """
    if direct:
        parent_death_signal(signum)
        if os.getppid() != parent:  # it ended before we asked: the signal will never come
            os._exit(1)
    if watch:
        threading.Thread(
            target=_watch, args=(parent,), name="leave-with-parent", daemon=True
        ).start()


def _watch(parent: int) -> None:
    while alive(parent):
        time.sleep(POLL_SECONDS)
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(1)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM back while the block runs, then act on them as usual.

    For starting child processes: a worker whose start is interrupted half way is already
    running but not yet known to its parent, which can then neither stop it nor keep alive
    what it still has to read (it dies with a traceback). Only the main thread can hold
    signals; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


#: ``python -c SUPERVISOR PARENT_PID COMMAND...``: runs COMMAND in a process group of its own
#: and kills that whole group when told to stop (SIGTERM, SIGINT) or when PARENT_PID is gone;
#: otherwise exits with COMMAND's status. Used for commands whose own code cannot be trusted
#: to leave with us (another commit's ``scorecard run``, see ``audit.py``). It polls its
#: parent, which works everywhere (the parent-death signal is Linux-only).
SUPERVISOR = r"""
import os, signal, subprocess, sys
parent, argv = int(sys.argv[1]), sys.argv[2:]
child = subprocess.Popen(argv, start_new_session=True)
def stop(*_):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        pass
    child.wait()
    os._exit(1)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
while True:
    if os.getppid() != parent:
        stop()
    try:
        code = child.wait(timeout=0.25)
    except subprocess.TimeoutExpired:
        continue
    sys.exit(code if code >= 0 else 128 - code)
"""


def supervised(argv: list[str]) -> list[str]:
    """``argv`` run through :data:`SUPERVISOR` on behalf of this process."""
    return [sys.executable, "-c", SUPERVISOR, str(os.getpid()), *argv]


def run_supervised(argv: list[str], *, timeout: float, **popen: Any) -> tuple[int, str, str]:
    """Run ``argv`` supervised (:func:`supervised`) and return its exit status, stdout and
    stderr (text). On a timeout, or if this process is interrupted, the whole command is
    stopped (its process group killed) before ``subprocess.TimeoutExpired`` or the interrupt
    goes on."""
    import subprocess

    with subprocess.Popen(
        supervised(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException:
            process.terminate()  # the supervisor kills the command's process group
            with contextlib.suppress(Exception):
                process.communicate(timeout=10)
            if process.poll() is None:
                process.kill()
            raise
    return process.returncode, out, err
