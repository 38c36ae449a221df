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

:func:`kernel_manager_class` is an ordinary jupyter ``AsyncKernelManager`` whose provisioner asks
the zygote for the kernel process instead of running the kernel spec's command. It does so only
when that command is this interpreter running ``ipykernel_launcher`` (the project's own
``python3`` kernel); any other kernel spec, or a zygote that does not answer, is launched the
ordinary way. Signals (interrupt, terminate, kill) go to the kernel's process group, as
jupyter_client does for its own kernels; the zygote reaps each kernel and reports its exit
status back to the manager.

Why not a library: jupyter's kernel provisioners are the extension point for how a kernel
process starts, and no maintained provisioner forks from a pre-imported parent (jupyter's
"kernel gateway" and "enterprise gateway" pre-spawn whole kernels, a different trade).

Only on POSIX systems with ``os.fork``; elsewhere :func:`available` is False and kernels start
the ordinary way.
"""

from __future__ import annotations

import asyncio
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
#: Seconds :meth:`Zygote.start` waits for the zygote's socket before giving up on it.
START_TIMEOUT = 60.0


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
    path: str, prelude: str = "", preload: Sequence[str] = PRELOAD, parent: int | None = None
) -> None:
    """The zygote: import ``preload`` and run ``prelude`` (Python code; an error in it is
    ignored), then fork a kernel per request on the socket ``path``; tell each requester the
    kernel's pid, then its exit status. Leaves when the process that started it (``parent``,
    by default our parent now) is gone, killing any kernel still running; leaves at once if
    it is gone before the imports are done.

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
        if prelude:
            with contextlib.suppress(Exception):  # the kernel does the work itself instead
                exec(compile(prelude, "<prelude>", "exec"), {"__name__": "__prelude__"})
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
    made earlier waits for it, see :class:`_ForkedProvisioner`). ``close()`` stops it."""

    def __init__(self, process: subprocess.Popen[bytes], folder: Path) -> None:
        self.process = process
        self.folder = folder
        self.path = str(folder / "zygote.sock")

    @classmethod
    def start(cls, env: Mapping[str, str], cwd: Path | None = None, prelude: str = "") -> Zygote:
        """Launch a zygote that runs ``prelude`` (see :func:`serve`) after its imports."""
        folder = Path(tempfile.mkdtemp(prefix="scorecard-kernels-"))
        path = str(folder / "zygote.sock")
        process = subprocess.Popen(
            [sys.executable, "-m", "scorecard_lib.build.kernels", path, prelude, str(os.getpid())],
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


# --- the kernel manager's side ------------------------------------------------------------------


class _ForkedProcess:
    """What jupyter_client's LocalProvisioner expects of a ``Popen``, for a forked kernel: the
    zygote sends its exit status over ``conn`` when it ends."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, conn: socket.socket) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._conn = conn
        self._buffer = b""

    def _read(self, block: bool) -> None:
        if self.returncode is not None:
            return
        self._conn.setblocking(block)
        try:
            chunk = self._conn.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        finally:
            with contextlib.suppress(OSError):
                self._conn.setblocking(True)
        if not chunk:  # the zygote is gone, and it killed the kernel on its way out
            if not self._alive():
                self.returncode = -signal.SIGKILL
                self._conn.close()
            return
        self._buffer += chunk
        if b"\n" in self._buffer:
            line = self._buffer.split(b"\n", 1)[0].decode()
            self.returncode = int(line.split()[1]) if line.startswith("exit ") else -1
            self._conn.close()

    def _alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def poll(self) -> int | None:
        self._read(block=False)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired([LAUNCHER], timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def forkable(cmd: Sequence[str]) -> bool:
    """Whether ``cmd`` (a kernel spec's formatted command) is this interpreter running
    ``ipykernel_launcher``: only such a kernel is forked, since the zygote is this interpreter
    with ipykernel imported."""
    if len(cmd) < 3 or list(cmd[1:3]) != ["-m", LAUNCHER]:
        return False
    try:
        return os.path.samefile(cmd[0], sys.executable)
    except OSError:
        return False


def _ask_zygote(path: str, argv: list[str], env: dict[str, str], cwd: str) -> _ForkedProcess:
    """Ask the zygote at ``path`` for a kernel; waits up to START_TIMEOUT for it to listen."""
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("the kernel zygote did not start")
        time.sleep(0.01)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        conn.sendall((json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n").encode())
        pid = int(_read_line(conn, 64))
    except BaseException:
        conn.close()
        raise
    return _ForkedProcess(pid, conn)


def kernel_manager_class(path: str) -> type:
    """An ``AsyncKernelManager`` whose kernels are forked by the zygote listening at ``path``.
    A kernel that cannot be forked is launched the ordinary way."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner
    from traitlets import default

    class ForkedProvisioner(LocalProvisioner):  # type: ignore[misc]
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            if not forkable(cmd):
                return await super().launch_kernel(cmd, **kwargs)
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                process = _ask_zygote(path, list(cmd[3:]), env, cwd)
            except Exception:  # the zygote is gone or never came: start the ordinary way
                return await super().launch_kernel(cmd, **kwargs)
            self.process = process
            self.pid = process.pid
            self.pgid = process.pid  # the child called setsid()
            self.cwd = cwd
            return self.connection_info

        async def wait(self) -> int | None:
            # jupyter_client polls every 0.1 s; the zygote says at once when a kernel is gone
            while isinstance(self.process, _ForkedProcess) and self.process.poll() is None:
                await asyncio.sleep(0.01)
            return await super().wait()

    class ForkedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        @default("client_factory")
        def _client_factory_default(self) -> type:
            return ready_client_class()

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # jupyter_client polls a killed kernel every 0.1 s; 0.01 s costs nothing here
            await super()._async_wait(pollinterval=min(pollinterval, 0.01))

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            if type(self.provisioner) is LocalProvisioner:  # same state, launched by the zygote
                self.provisioner.__class__ = ForkedProvisioner
            return cmd, kw

    return ForkedKernelManager


_READY_CLIENT: type | None = None


def ready_client_class() -> type:
    """jupyter_client's ``AsyncKernelClient``, except that :meth:`wait_for_ready` returns as
    soon as the kernel has answered, instead of after waits of 0.2 s on IOPub.

    jupyter_client's version sends a ``kernel_info`` request, and once it is answered waits
    0.2 s for a message on IOPub to show that channel is connected (a subscriber that joined
    late misses the kernel's "busy" and "idle", and then the whole round starts again); then
    drains IOPub until nothing arrives for 0.2 s. That is 0.2-0.4 s of waiting per kernel,
    a second or more of a cold build. This one asks again after 0.05 s without an IOPub
    message, and drains IOPub only until the kernel reports itself idle after the *last*
    request it was sent: a kernel handles requests in order, so nothing from start-up can come
    after that. If that status never comes it falls back to 0.2 s of silence.
    """
    global _READY_CLIENT
    if _READY_CLIENT is not None:
        return _READY_CLIENT
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_core.utils import ensure_async

    class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            # 1. Until the kernel answers on the shell channel and IOPub is seen connected.
            while True:
                self.kernel_info()
                try:
                    reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    pass
                else:
                    if reply["msg_type"] == "kernel_info_reply":
                        try:  # is IOPub connected? (as jupyter_client checks)
                            await ensure_async(self.iopub_channel.get_msg(timeout=0.05))
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(reply)
                            break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            # 2. IOPub is connected: everything the kernel says from now on arrives. One more
            # request; once the kernel is idle after it, nothing from start-up can follow.
            last = self.kernel_info()
            await self._drain(self.iopub_channel, last, idle=True)
            await self._drain(self.shell_channel, last, idle=False)

        async def _drain(self, channel: Any, parent: str, *, idle: bool) -> None:
            """Read ``channel`` up to the message answering ``parent`` (its "idle" status
            on IOPub), or until nothing arrives for 0.2 s."""
            while True:
                try:
                    msg = await ensure_async(channel.get_msg(timeout=0.2))
                except Empty:
                    return
                if msg.get("parent_header", {}).get("msg_id") != parent:
                    continue
                if not idle or (
                    msg.get("msg_type") == "status"
                    and msg.get("content", {}).get("execution_state") == "idle"
                ):
                    return

        wait_for_ready = _async_wait_for_ready

    _READY_CLIENT = ReadyClient
    return ReadyClient


if __name__ == "__main__":  # python -m scorecard_lib.build.kernels SOCKET [PRELUDE [PARENT_PID]]
    serve(
        sys.argv[1],
        sys.argv[2] if len(sys.argv) > 2 else "",
        parent=int(sys.argv[3]) if len(sys.argv) > 3 else None,
    )
    sys.stdout.flush()
    os._exit(0)  # nothing to tear down: skip unloading pandas and matplotlib
