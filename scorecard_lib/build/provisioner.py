"""The kernel manager's side of forked kernels: a jupyter kernel provisioner that asks the zygote.

jupyter_client's kernel provisioners are its public extension point for how a kernel process
starts. :class:`ZygoteProvisioner` is registered under the ``jupyter_client.kernel_provisioners``
entry point group (``pyproject.toml``) as :data:`PROVISIONER`, and a kernel spec selects it in
its ``metadata.kernel_provisioner``: :class:`ZygoteKernelSpecs` adds that to the spec of this
interpreter's ipykernel, with the zygote's socket as the provisioner's configuration.
:func:`kernel_manager` makes a ``KernelManager`` with those specs, which nbclient (through
papermill) starts and talks to as to any kernel.

The provisioner prepares the launch as jupyter_client's ``LocalProvisioner`` does (ports,
connection file, environment: it subclasses it, as jupyter_client's documentation suggests),
then, instead of running the spec's command, asks the zygote to fork the kernel. Any other
command, or a zygote that does not answer, is launched the ordinary way. Signals go to the
kernel's process group, as jupyter_client sends them; the zygote reports each kernel's exit
status, so stopping a kernel does not wait on a polling interval.

:class:`ReadyClient` is jupyter_client's ``AsyncKernelClient`` with a ``wait_for_ready`` that
returns as soon as the kernel is ready rather than after fixed pauses (see its docstring).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Instance, Type, Unicode

#: The provisioner's entry point name (``pyproject.toml``).
PROVISIONER = "scorecard-zygote"
#: The entry point group jupyter_client reads provisioners from.
PROVISIONER_GROUP = "jupyter_client.kernel_provisioners"
#: The module a kernel spec runs (``python -m ipykernel_launcher``).
LAUNCHER = "ipykernel_launcher"
#: Seconds a launch waits for the zygote's socket before starting the kernel the ordinary way.
START_TIMEOUT = 60.0
#: Seconds :meth:`ZygoteProvisioner.kill` waits for the zygote to report the kernel gone.
KILL_WAIT = 5.0


def forkable(cmd: Sequence[str]) -> bool:
    """Whether ``cmd`` (a kernel spec's command) is this interpreter running
    ``ipykernel_launcher``: only such a kernel is forked, since the zygote is this interpreter
    with ipykernel imported."""
    if len(cmd) < 3 or list(cmd[1:3]) != ["-m", LAUNCHER]:
        return False
    major, minor = sys.version_info[:2]
    if cmd[0] in ("python", f"python{major}", f"python{major}.{minor}"):
        return True  # jupyter_client runs such a spec with this interpreter
    try:
        return os.path.samefile(cmd[0], sys.executable)
    except OSError:
        return False


@functools.cache
def registered() -> bool:
    """Whether this installation registers :class:`ZygoteProvisioner` with jupyter_client (a
    ``pip install`` of the project does; an install older than the entry point does not, and
    its kernels then start the ordinary way). Asked once a process: reading the installed
    packages' entry points takes a hundredth of a second or more."""
    return bool(entry_points(group=PROVISIONER_GROUP, name=PROVISIONER))


class ForkedKernel:
    """A kernel process the zygote forked: its pid, and the connection on which the zygote
    reports its exit status (``exit N``) once it has reaped it."""

    def __init__(self, pid: int, conn: socket.socket) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.conn = conn
        self.buffer = b""
        conn.setblocking(False)

    def poll(self) -> int | None:
        """The exit status, or None while the kernel runs."""
        if self.returncode is not None:
            return self.returncode
        try:
            chunk = self.conn.recv(64)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            chunk = b""
        if not chunk:  # the zygote is gone, and it kills its kernels on its way out
            if not _alive(self.pid):
                self._ended(-signal.SIGKILL)
            return self.returncode
        self.buffer += chunk
        if b"\n" in self.buffer:
            line = self.buffer.split(b"\n", 1)[0].decode(errors="replace")
            self._ended(int(line.split()[1]) if line.startswith("exit ") else -1)
        return self.returncode

    async def wait(self, timeout: float | None = None) -> int | None:
        """The exit status once the kernel has ended (None if ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.01)
        return self.returncode

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the kernel's process group (it is its own session leader)."""
        if self.poll() is not None:
            return
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass
        except OSError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def _ended(self, code: int) -> None:
        self.returncode = code
        with contextlib.suppress(OSError):
            self.conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def fork_kernel(path: str, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
    """Ask the zygote listening at ``path`` for a kernel run with ``argv`` (the arguments after
    ``python -m ipykernel_launcher``), ``env`` and ``cwd``; waits up to START_TIMEOUT for the
    zygote to listen."""
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("the kernel zygote did not start")
        await asyncio.sleep(0.01)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        conn.sendall((json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n").encode())
        answer = b""
        while not answer.endswith(b"\n") and len(answer) < 64:
            chunk = conn.recv(64 - len(answer))
            if not chunk:
                break
            answer += chunk
        pid = int(answer)
    except BaseException:
        conn.close()
        raise
    return ForkedKernel(pid, conn)


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Launches this interpreter's ipykernel by asking the zygote at ``socket`` to fork it;
    anything else (another command, no zygote) as ``LocalProvisioner`` does."""

    socket = Unicode("", config=True, help="The zygote's Unix socket path.")

    forked: ForkedKernel | None = None

    @property
    def has_process(self) -> bool:
        return self.forked is not None or super().has_process

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if self.socket and forkable(cmd):
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                self.forked = await fork_kernel(self.socket, list(cmd[3:]), env, cwd)
            except Exception:  # the zygote is gone or never came: start the ordinary way
                self.forked = None
            else:
                self.pid = self.pgid = self.forked.pid  # the child called setsid()
                self.cwd = cwd
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)

    async def poll(self) -> int | None:
        if self.forked is None:
            return await super().poll()
        return self.forked.poll()

    async def wait(self) -> int | None:
        if self.forked is None:
            return await super().wait()
        code = await self.forked.wait()
        self.forked = None
        return code

    async def send_signal(self, signum: int) -> None:
        if self.forked is None:
            return await super().send_signal(signum)
        self.forked.signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if self.forked is None:
            return await super().kill(restart=restart)
        self.forked.signal(signal.SIGKILL)
        # Until the zygote has reaped it: the manager then finds it gone at its first poll.
        await self.forked.wait(timeout=KILL_WAIT)

    async def terminate(self, restart: bool = False) -> None:
        if self.forked is None:
            return await super().terminate(restart=restart)
        self.forked.signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        if self.forked is not None and self.forked.poll() is not None:
            self.forked = None
        await super().cleanup(restart=restart)  # gives back the ports it took


class ZygoteKernelSpecs(KernelSpecManager):  # type: ignore[misc]
    """The installed kernel specs, with this interpreter's ipykernel launched by
    :class:`ZygoteProvisioner` from the zygote at ``socket``."""

    socket = Unicode("", help="The zygote's Unix socket path.")

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = super().get_kernel_spec(kernel_name)
        if self.socket and forkable(spec.argv) and registered():
            spec.metadata = {
                **spec.metadata,
                "kernel_provisioner": {
                    "provisioner_name": PROVISIONER,
                    "config": {"socket": self.socket},
                },
            }
        return spec


class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
    """jupyter_client's ``AsyncKernelClient``, except that :meth:`wait_for_ready` returns as
    soon as the kernel has answered, instead of after waits of 0.2 s on IOPub.

    jupyter_client's version sends a ``kernel_info`` request, and once it is answered waits
    0.2 s for a message on IOPub to show that channel is connected (a subscriber that joined
    late misses the kernel's "busy" and "idle", and then the whole round starts again); then
    drains IOPub until nothing arrives for 0.2 s. That is 0.2-0.4 s of waiting per kernel.
    This one asks again after 0.05 s without an IOPub message, and drains IOPub only until the
    kernel reports itself idle after the *last* request it was sent: a kernel handles requests
    in order, so nothing from start-up can come after that. If that status never comes it falls
    back to 0.2 s of silence.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        from queue import Empty

        from jupyter_client import protocol_version_info
        from jupyter_core.utils import ensure_async

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
                        # speak the kernel's protocol version, as jupyter_client does
                        version = str(reply["content"].get("protocol_version", "5"))
                        major = int(version.split(".")[0])
                        if major != protocol_version_info[0]:
                            self.session.adapt_version = major
                        break
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.time() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        # 2. IOPub is connected: everything the kernel says from now on arrives. One more
        # request; once the kernel is idle after it, nothing from start-up can follow.
        last = self.kernel_info()
        await self.drain(self.iopub_channel, last, idle=True)
        await self.drain(self.shell_channel, last, idle=False)

    async def drain(self, channel: Any, parent: str, *, idle: bool) -> None:
        """Read ``channel`` up to the message answering ``parent`` (its "idle" status on
        IOPub), or until nothing arrives for 0.2 s."""
        from queue import Empty

        from jupyter_core.utils import ensure_async

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


_MANAGER_CLASSES: dict[str, type[AsyncKernelManager]] = {}


def kernel_manager_class(zygote: str) -> type[AsyncKernelManager]:
    """An ``AsyncKernelManager`` whose kernels, when their spec is this interpreter's ipykernel
    (and the provisioner is registered), are forked by the zygote listening at ``zygote``, and
    whose clients are :class:`ReadyClient`. nbclient creates, starts and stops it as its own
    (``kernel_manager_class``); the two traits it sets are jupyter_client's configurable ones."""
    if zygote not in _MANAGER_CLASSES:

        class ZygoteKernelManager(AsyncKernelManager):  # type: ignore[misc]
            kernel_spec_manager = Instance(ZygoteKernelSpecs, kw={"socket": zygote})
            client_factory = Type(ReadyClient, klass=AsyncKernelClient, config=True)

        _MANAGER_CLASSES[zygote] = ZygoteKernelManager
    return _MANAGER_CLASSES[zygote]
