"""Start section kernels in milliseconds: fork them from one process that has imported everything.

Every ordinary kernel pays about a second of CPU before its first cell does useful work:
starting Python, importing ipykernel (with debugpy) and IPython, then pandas, matplotlib and
pandera through ``scorecard_lib.present.sections``. Six sections on two cores pay it six times; a
script running the same code in one process pays it once (``docs/performance.md``).

A *zygote* (:func:`serve`, started by :class:`Zygote`) imports all of that once, then forks one
child per kernel, as ``multiprocessing``'s forkserver does for workers. Each kernel is still its
own process with its own interpreter state, working directory, environment and session, started
by the same command line ipykernel would get (``python -m ipykernel_launcher -f CONNECTION
...``): only the imports are already done. The notebooks it executes are byte-identical to those
of an ordinary kernel (tests/test_kernels.py).

The kernel manager's side is a jupyter kernel provisioner registered by entry point
(``provisioner.py``): it prepares the launch as jupyter_client does, then asks the zygote for
the kernel process instead of running the kernel spec's command. The zygote reaps each kernel
and reports its exit status back on the requester's connection.

Before it forks anything the zygote carries out the build's ``KernelPreparation`` (data:
quarter, folders, kept work; ``preparation.prepare``), so every kernel starts with the
quarter's inputs read and validated.

Why not a library: no maintained kernel provisioner forks from a pre-imported parent (jupyter's
"kernel gateway" and "enterprise gateway" pre-spawn whole kernels, a different trade).

Only on POSIX systems with ``os.fork``; elsewhere :func:`available` is False and kernels start
the ordinary way.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scorecard_lib.build.preparation import KernelPreparation, prepare
from scorecard_lib.core.lifetime import leave_with_parent, parent_death_signal

#: What the zygote imports before it forks: the kernel itself with what it imports while it
#: starts (its debugger, IPython's, the history database), and what every section notebook
#: imports (pandas, matplotlib, pandera and the library).
PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.debugger",
    "IPython.core.completerlib",
    "IPython.core.oinspect",
    "sqlite3",
    "psutil",
    "scorecard_lib.present.sections",
    "scorecard_lib.present.charts",
)
#: The module a kernel spec runs (``python -m ipykernel_launcher``).
LAUNCHER = "ipykernel_launcher"


def available() -> bool:
    """Whether kernels can be forked here (POSIX with fork and Unix sockets)."""
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and sys.platform != "win32"


# --- the zygote ---------------------------------------------------------------------------------


def _become_kernel(request: Mapping[str, Any], closing: Sequence[Any], zygote: int) -> None:
    """In the forked child: become the kernel the request describes. Never returns."""
    code = 1
    try:
        # killed at once if the zygote (pid ``zygote``) ends, even by SIGKILL (Linux only;
        # elsewhere the kernel's own parent poller, below, notices within a second)
        leave_with_parent(zygote, watch=False)
        for thing in closing:
            with contextlib.suppress(Exception):
                thing.close()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()  # its own session and process group, as jupyter_client gives a kernel
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # The kernel's parent poller watches this process's parent, the zygote, which in turn
        # leaves when the build that started it does.
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        if hasattr(time, "tzset"):
            time.tzset()
        import random

        random.seed()  # not the zygote's state, shared by every child
        # ``python -m ipykernel_launcher`` puts the working directory first on sys.path
        sys.path[0] = os.getcwd()
        import ipykernel.kernelapp as app

        sys.argv = [str(Path(app.__file__).parent.parent / f"{LAUNCHER}.py"), *request["argv"]]
        app.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a kernel that cannot start dies; its manager sees that
        code = 1
    finally:
        os._exit(code)


def _read_line(conn: socket.socket, limit: int = 1 << 20) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


def serve(
    path: str,
    preparation: KernelPreparation | None = None,
    preload: Sequence[str] = PRELOAD,
    parent: int | None = None,
) -> None:
    """The zygote: import ``preload`` and carry out ``preparation`` (``preparation.prepare``;
    what fails there is left for each kernel to do itself), then fork a kernel per request on
    the socket ``path``; tell each requester the kernel's pid, then its exit status. Leaves
    when the process that started it (``parent``, by default our parent now) is gone, killing
    any kernel still running; leaves at once if it is gone before the imports are done.

    On Linux the build's end reaches it as SIGTERM at once, even when the build was killed
    with SIGKILL (``lifetime.parent_death_signal``); everywhere the loop also polls the
    build's pid. SIGTERM while importing leaves at once; while serving, after killing every
    kernel. The zygote forks, so it starts no thread of its own (no watchdog thread)."""
    import importlib
    import io

    parent = os.getppid() if parent is None else parent
    zygote = os.getpid()
    state = {"serving": False, "stopping": False}

    def stop(_signum: int, _frame: object) -> None:
        state["stopping"] = True
        if not state["serving"]:  # still importing: leave now
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    parent_death_signal(signal.SIGTERM)
    listener: socket.socket | None = None
    children: dict[int, socket.socket] = {}
    try:
        if os.getppid() != parent:  # the build is over already
            return
        # Importing the debugger warns on stderr that Python's frozen modules may hide
        # breakpoints; a kernel started the ordinary way prints that into its own captured
        # output, unseen.
        with contextlib.redirect_stderr(io.StringIO()):
            for name in preload:
                importlib.import_module(name)
        if preparation is not None:  # what fails here, each kernel does itself
            with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(Exception):
                prepare(preparation)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the build, not for us
        if os.getppid() != parent:  # the build is over already (killed while we imported)
            return
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path + ".tmp")
        listener.listen(64)
        os.rename(path + ".tmp", path)  # the socket appears once it accepts
        sel = selectors.DefaultSelector()
        sel.register(listener, selectors.EVENT_READ)
        state["serving"] = True
        while not state["stopping"] and os.getppid() == parent:
            for _key, _events in sel.select(timeout=0.02):
                try:
                    conn, _addr = listener.accept()
                    request = json.loads(_read_line(conn))
                except Exception:  # a bad request: the requester falls back to its own
                    with contextlib.suppress(Exception):
                        conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, [listener, conn, *children.values()], zygote)
                children[pid] = conn
                with contextlib.suppress(OSError):
                    conn.sendall(f"{pid}\n".encode())
            _reap(children)
    except SystemExit:
        pass
    finally:
        if listener is not None:
            listener.close()
        for pid in list(children):  # the build is over: no kernel outlives it
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while children and time.monotonic() < deadline:
            _reap(children)
            time.sleep(0.01)
        # the folder Zygote.start made for the socket, also when the build was killed
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
            conn.close()


class Zygote:
    """A running zygote process. ``Zygote.start(env)`` launches it with ``env`` (the kernels'
    environment: what is read at import time, like ``PYTHONHASHSEED``, must be what a kernel
    would see) and returns at once; kernels can be asked for once its socket exists (a request
    made earlier waits for it, see ``provisioner.fork_kernel``). ``close()`` stops it."""

    def __init__(self, process: subprocess.Popen[bytes], folder: Path) -> None:
        self.process = process
        self.folder = folder
        self.path = str(folder / "zygote.sock")

    @classmethod
    def start(
        cls,
        env: Mapping[str, str],
        cwd: Path | None = None,
        preparation: KernelPreparation | None = None,
    ) -> Zygote:
        """Launch a zygote that carries out ``preparation`` (see :func:`serve`) after its
        imports."""
        folder = Path(tempfile.mkdtemp(prefix="scorecard-kernels-"))
        path = str(folder / "zygote.sock")
        spec = "" if preparation is None else preparation.to_json()
        process = subprocess.Popen(
            [sys.executable, "-m", "scorecard_lib.build.kernels", path, spec, str(os.getpid())],
            env=dict(env),
            cwd=None if cwd is None else str(cwd),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C is for the build; the build stops the zygote
        )
        return cls(process, folder)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":  # python -m scorecard_lib.build.kernels SOCKET [PREPARATION [PARENT]]
    serve(
        sys.argv[1],
        KernelPreparation.from_json(sys.argv[2] if len(sys.argv) > 2 else ""),
        parent=int(sys.argv[3]) if len(sys.argv) > 3 else None,
    )
    sys.stdout.flush()
    os._exit(0)  # nothing to tear down: skip unloading pandas and matplotlib
