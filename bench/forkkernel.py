"""PROTOTYPE (not used by ``scorecard``): kernels forked from one pre-imported process.

Every section kernel pays about a second of CPU before its first cell does anything useful:
starting Python, importing ipykernel (with debugpy) and IPython, then pandas, matplotlib and
pandera through ``scorecard_lib.sections``. Six sections on two cores pay it six times; the
no-kernel floor (``bench/floor.py``) pays it once. A *zygote* imports all of that once and forks a
child per kernel, as ``multiprocessing``'s forkserver does for workers: each kernel is still its
own process with its own interpreter state (isolated), but starts in milliseconds.

This module measures what that would save, to decide whether to build it properly into
``executors.py``:

    .venv/bin/python bench/forkkernel.py [--runs 3]

runs the six notebooks of 2016-17-Q4 on two workers with ordinary kernels and with forked ones,
interleaved, prints wall and CPU time, and checks the normalised notebooks are byte-identical.

How it works: :func:`serve` is the zygote (a process started with the kernels' environment, so
``PYTHONHASHSEED`` and everything read at import time is what a kernel would see); it listens
on a Unix socket, and for each request forks a child that becomes the kernel (new session,
the requested working directory and environment, then ``IPKernelApp``). It reaps its children
and tells the requester each exit status. :class:`ForkedKernelManager` is an ordinary jupyter
kernel manager whose provisioner asks the zygote instead of running ``python -m
ipykernel_launcher``; signals (interrupt, terminate, kill) go straight to the kernel's process
group, as jupyter_client does for its own kernels.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

ZYGOTE_ENV = "SCORECARD_KERNEL_ZYGOTE"
PRELOAD = ("ipykernel.kernelapp", "scorecard_lib.sections")


# --- the zygote ---------------------------------------------------------------------------------


def _child(listener: socket.socket, conn: socket.socket, request: dict[str, Any]) -> None:
    """In the forked child: become the kernel. Never returns."""
    code = 1
    try:
        listener.close()
        conn.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        sys.path[0] = request["cwd"]
        import ipykernel.kernelapp as app

        sys.argv = [app.__file__, *request["argv"]]
        app.launch_new_instance()
        code = 0
    finally:
        os._exit(code)


def serve(path: str) -> None:
    """The zygote: import everything once, then fork a kernel per request on ``path``."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the build, not for us
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    while os.getppid() == parent:
        for _key, _events in sel.select(timeout=0.05):
            conn, _addr = listener.accept()
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            pid = os.fork()
            if pid == 0:
                _child(listener, conn, json.loads(data))
            children[pid] = conn
            conn.sendall(f"{pid}\n".encode())
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                finally:
                    conn.close()
    listener.close()


def start_zygote(env: dict[str, str], folder: Path) -> tuple[Any, str]:
    """Start the zygote with ``env``; returns (process, socket path)."""
    import subprocess

    path = str(folder / "zygote.sock")
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    code += f"import forkkernel; forkkernel.serve({path!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the kernel zygote did not start")
        time.sleep(0.02)
    return proc, path


# --- the client side: a provisioner that asks the zygote -----------------------------------------


class _Forked:
    """What jupyter_client's LocalProvisioner expects of a Popen, for a forked kernel."""

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
        finally:
            self._conn.setblocking(True)
        if not chunk:  # the zygote is gone: the kernel with it, or soon
            self.returncode = -1 if self._alive() is False else None
            if self.returncode is not None:
                self._conn.close()
            return
        self._buffer += chunk
        if b"\n" in self._buffer:
            line = self._buffer.split(b"\n", 1)[0].decode()
            self.returncode = int(line.split()[1]) if line.startswith("exit") else -1
            self._conn.close()

    def _alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def poll(self) -> int | None:
        self._read(block=False)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _provisioner_class() -> type:
    from jupyter_client.provisioning import LocalProvisioner

    class ForkedProvisioner(LocalProvisioner):  # type: ignore[misc]
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            path = os.environ[ZYGOTE_ENV]
            # cmd is [python, -m, ipykernel_launcher, -f, FILE, ...]: keep what follows -m X
            argv = cmd[3:] if cmd[1:2] == ["-m"] else cmd[1:]
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(path)
            conn.sendall((json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(64)
            pid = int(data)
            self.process = _Forked(pid, conn)
            self.pid = pid
            self.pgid = pid  # the child called setsid()
            self.cwd = cwd
            return self.connection_info

    return ForkedProvisioner


def kernel_manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager

    provisioner = _provisioner_class()

    class ForkedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            self.provisioner.__class__ = provisioner  # same state, launched by the zygote
            return cmd, kw

    return ForkedKernelManager


# --- the measurement ----------------------------------------------------------------------------


def _run_one(job: Any, forked: bool) -> float:
    """Worker: run one job with papermill (like executors._execute, minus the error handling)."""
    import papermill

    from scorecard_lib.executors import KERNEL_ARGUMENTS

    os.chdir(job.cwd)
    extra: dict[str, Any] = {"kernel_manager_class": kernel_manager_class()} if forked else {}
    start = time.perf_counter()
    papermill.execute_notebook(
        str(job.notebook),
        str(job.output),
        parameters=dict(job.parameters),
        kernel_name="python3",
        cwd=None,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        extra_arguments=list(KERNEL_ARGUMENTS),
        shutdown_kernel="immediate",
        **extra,
    )
    return time.perf_counter() - start


def _init() -> None:
    from scorecard_lib.executors import _worker_init

    _worker_init()


def main() -> int:
    import argparse
    import multiprocessing
    import statistics
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    import nbformat

    from scorecard_lib.executors import KERNEL_ENV, SectionJob
    from scorecard_lib.normalise import normalise_notebook, notebook_text
    from scorecard_lib.paths import NOTEBOOKS_DIR, PROJECT_ROOT, SECTIONS

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="forkkernel-"))
    results: dict[str, list[float]] = {"ordinary": [], "forked": []}
    for run in range(args.runs):
        for mode in ("ordinary", "forked"):
            out = tmp / f"{mode}-{run}"
            jobs = [
                SectionJob(
                    section=s,
                    notebook=NOTEBOOKS_DIR / f"{s}.ipynb",
                    output=out / f"{s}.ipynb",
                    parameters={"quarter": "2016-17-Q4", "data_dir": ""},
                    cwd=PROJECT_ROOT,
                )
                for s in SECTIONS
            ]
            out.mkdir(parents=True)
            started = time.perf_counter()
            zygote = None
            env = dict(os.environ)
            if mode == "forked":
                zygote, path = start_zygote({**os.environ, **KERNEL_ENV}, out)
                os.environ[ZYGOTE_ENV] = path
            ctx = multiprocessing.get_context("spawn")  # fresh workers see the variable
            with ProcessPoolExecutor(2, mp_context=ctx, initializer=_init) as pool:
                list(pool.map(_run_one, jobs, [mode == "forked"] * len(jobs)))
            if zygote is not None:
                zygote.terminate()
                zygote.wait()
            os.environ.clear()
            os.environ.update(env)
            results[mode].append(time.perf_counter() - started)
            print(f"run {run + 1} {mode}: {results[mode][-1]:.2f} s", file=sys.stderr)
    for mode, rows in results.items():
        print(
            f"{mode:9s} kernels: six notebooks, two workers, median {statistics.median(rows):.2f} s"
        )
    same = all(
        notebook_text(normalise_notebook(nbformat.read(str(tmp / f"ordinary-0/{s}.ipynb"), 4), s))
        == notebook_text(normalise_notebook(nbformat.read(str(tmp / f"forked-0/{s}.ipynb"), 4), s))
        for s in SECTIONS
    )
    print(f"normalised notebooks byte-identical: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
