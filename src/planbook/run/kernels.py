"""Warm kernels: each chapter's kernel is forked from a process that already imported the stack.

A fresh `python -m ipykernel_launcher` per notebook spent about 1 s importing pandas,
matplotlib, seaborn, IPython and planbook before the first cell (44% of kernel CPU). Here one
*fork server* per (python, PYTHONPATH, cwd) imports them once, then forks one child per kernel.
The child is an ordinary, fresh ipykernel in its own session and process group, running the
same `ipykernel_launcher` argv, environment and working directory jupyter_client asked for;
papermill and nbclient talk to it over the usual connection file. Since the server never runs
user code, each child starts from the same state a new interpreter reaches after those imports:
every notebook has its own process, namespace and module state, and a hung or crashed chapter
is killed alone (by its process group, as jupyter_client does for its own kernels).

`WarmKernelManager` is nbclient's kernel manager with `ForkProvisioner`; where fork is not
available (not Linux) or the server cannot start, the provisioner launches the kernel the
ordinary way.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from queue import Empty

import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import DottedObjectName, Type, default

# What a chapter kernel imports before its first cell; what the server imports once.
WARM_MODULES = ("pandas", "numpy", "matplotlib", "matplotlib.pyplot", "seaborn", "yaml",
                "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
                "matplotlib_inline.backend_inline", "planbook.chapters.report",
                # what a kernel imports while it starts (its debugger's debugpy, about 0.05 s;
                # history, completion, the event loop): listed by a child's sys.modules
                "ipykernel.debugger", "IPython.core.completerlib", "IPython.core.debugger",
                "IPython.extensions.storemagic", "sqlite3", "psutil", "tornado.platform.asyncio",
                "tornado.queues", "tornado.locks", "tornado.gen", "planbook.run.outstream")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets
# A forked kernel's options (run.outstream: flush without waiting for the IO thread). No
# IPython history: each cell was written and committed to the user's history.sqlite, which
# both kernels share (300 cells: 3.6 s with it, 1.9 s without, measured), and a chapter's
# code belongs in its notebook, not in the analyst's shell history.
KERNEL_OPTIONS = ("--IPKernelApp.outstream_class=planbook.run.outstream.QueuedOutStream",
                  "--HistoryManager.enabled=False")
RECONNECT_MS = 5  # how soon the client retries a kernel port that was not yet listening
ENABLED = sys.platform.startswith("linux") and hasattr(os, "pidfd_open")

# The server's own program: drop the cwd from sys.path as ipykernel_launcher does, then serve.
_BOOT = "import sys; del sys.path[0]; from planbook.run.kernels import serve; serve()"


# ------------------------------------------------------------------ the fork server process


def serve() -> None:
    """The server: import the stack, then fork one kernel per request line on stdin.

    Request: {"argv": [...], "env": {...}, "cwd": "..."}; reply: {"pid": n} or {"error": "..."}.
    Stops at end of input (its parent closed the pipe or died).
    """
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in WARM_MODULES:
        importlib.import_module(name)
    # The imported stack lives as long as any child: frozen, a child's full collections skip
    # it (the 指标档案 spent 0.28 s of its kernel in them, 0.07 s frozen, measured) and do not
    # write to, and so copy, every inherited page.
    gc.collect()
    gc.freeze()
    # Children are reaped by the kernel, not by us; ignoring SIGCHLD leaves no zombies.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    for line in requests:
        try:
            req = json.loads(line)
            if threading.active_count() != 1:  # forking a threaded process is not safe
                raise RuntimeError("the fork server has threads")
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001 - reported to the caller, who falls back
            replies.write((json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
            replies.flush()
            continue
        if pid == 0:
            _call(req) if "call" in req else _child(req)  # never returns
        replies.write((json.dumps({"pid": pid}) + "\n").encode())
        replies.flush()


def _forked(req: dict, body, *, own_group: bool = False, exit_code: bool = False) -> None:
    """The life of a forked child: stdin from /dev/null, stdout to stderr (our stdout is the
    server's reply pipe), the requested working directory and environment, then `body()`,
    then exit with its status; it never returns into the server. `own_group`: its own process
    group, as jupyter_client gives a launched kernel. `exit_code`: a SystemExit's code is the
    status (a kernel's way to end); otherwise it is reported like any error."""
    code = 1
    try:
        if own_group:
            os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(2, 1)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        body()
        code = 0
    except SystemExit as exc:
        if exit_code:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            import traceback

            traceback.print_exc()
    except BaseException:  # noqa: BLE001 - report and leave; never return into the server
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _child(req: dict) -> None:
    """A forked child becoming the kernel jupyter_client asked for."""

    def kernel() -> None:
        import ipykernel_launcher

        # ipykernel read JPY_PARENT_PID when the server imported it; the kernel's parent is the
        # server, which exits with planbook: the kernel's parent poller then shuts it down.
        sys.argv = [ipykernel_launcher.__file__, *req["argv"],
                    f"--IPKernelApp.parent_handle={os.getppid()}", *KERNEL_OPTIONS]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()

    _forked(req, kernel, own_group=True, exit_code=True)


def _call(req: dict) -> None:
    """A forked child running `module:function(*args)` with the stack imported, then exiting."""

    def call() -> None:
        import importlib

        module, _, name = req["call"].partition(":")
        getattr(importlib.import_module(module), name)(*req["args"])

    _forked(req, call)


# ------------------------------------------------------------------ the client side


class ForkServer:
    """A running server and the pipe to it; spawn() is safe from several threads."""

    def __init__(self, python: list[str], env: dict[str, str], cwd: str):
        self._lock = threading.Lock()
        self.children: list[_ForkedProcess] = []
        self.proc = subprocess.Popen([*python, "-c", _BOOT], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, cwd=cwd,
                                     start_new_session=True)

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        return self._request({"argv": argv, "env": env, "cwd": cwd})

    def call(self, target: str, args: list, env: dict[str, str], cwd: str) -> int:
        """Fork a child running `module:function(*args)`; its pid."""
        return self._request({"call": target, "args": args, "env": env, "cwd": cwd})

    def _request(self, req: dict) -> int:
        line = json.dumps(req) + "\n"
        with self._lock:
            if self.proc.poll() is not None:
                raise RuntimeError("the fork server has exited")
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError("the fork server has exited")
        data = json.loads(reply)
        if "error" in data:
            raise RuntimeError(data["error"])
        pid = int(data["pid"])
        with self._lock:
            self.children = [c for c in self.children if c.poll() is None]
            self.children.append(_ForkedProcess(pid))
        return pid

    def idle(self) -> bool:
        """No child of this server is running (closing it would stop none)."""
        with self._lock:
            return all(c.poll() is not None for c in self.children)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


_servers: dict[tuple, ForkServer] = {}
_servers_lock = threading.Lock()


def _key(python: list[str], env: dict[str, str], cwd: str) -> tuple:
    # What decides which modules the server imports: interpreter and flags, paths (and the
    # cwd, where a path is relative to it).
    paths = env.get("PYTHONPATH", "")
    relative = any(p and not os.path.isabs(p) for p in paths.split(os.pathsep))
    return (*python, paths, env.get("PYTHONHOME", ""),
            str(Path(cwd).resolve()) if relative else "")


def server(python: list[str], env: dict[str, str], cwd: str) -> ForkServer:
    """The fork server for this interpreter and environment, started on first use and kept
    for the process. Starting another closes the idle ones: each holds the whole stack in
    memory (a test session or a long-lived caller would otherwise gather them)."""
    key = _key(python, env, cwd)
    with _servers_lock:
        found = _servers.get(key)
        if found is None or found.proc.poll() is not None:
            for other in [k for k, s in _servers.items() if k != key and s.idle()]:
                _servers.pop(other).close()
            found = _servers[key] = ForkServer(python, env, cwd)
        return found


def split_command(cmd: list[str]) -> tuple[list[str], list[str]] | None:
    """(interpreter with its flags, kernel arguments) of an ipykernel_launcher command line
    run by this Python, e.g. [python, -Xfrozen_modules=off, -m, ipykernel_launcher, -f, c];
    None for any other kernel."""
    if not cmd or Path(cmd[0]).resolve() != Path(sys.executable).resolve():
        return None
    for i in range(1, len(cmd) - 1):
        if cmd[i:i + 2] == ["-m", "ipykernel_launcher"]:
            flags = cmd[1:i]
            return ([cmd[0], *flags], cmd[i + 2:]) if all(f.startswith("-X") or f in (
                "-E", "-s", "-I", "-B") for f in flags) else None
    return None


def prestart(kernel_name: str, cwd: Path) -> None:
    """Start the server for `kernel_name` kernels run from `cwd` with this process's
    environment now, so its imports overlap the caller's own work."""
    if not ENABLED:
        return
    from jupyter_client.kernelspec import KernelSpecManager

    with contextlib.suppress(Exception):  # no server now: the first kernel starts it, or not
        parts = split_command(KernelSpecManager().get_kernel_spec(kernel_name).argv)
        if parts:
            server(parts[0], dict(os.environ), str(cwd))


def call(kernel_name: str, cwd: Path, target: str, *args) -> bool:
    """Run `module:function(*args)` (JSON arguments) in a child forked from the server of
    `kernel_name` kernels run from `cwd`, with this process's environment, and wait for it.
    False when there is no server (the caller runs it itself); True once the child ended,
    whatever it did (the caller checks what it was to make)."""
    if not ENABLED:
        return False
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        parts = split_command(KernelSpecManager().get_kernel_spec(kernel_name).argv)
        if not parts:
            return False
        pid = server(parts[0], dict(os.environ), str(cwd)).call(target, list(args),
                                                               dict(os.environ), str(cwd))
    except Exception:  # noqa: BLE001 - no server
        return False
    _ForkedProcess(pid).wait()
    return True


@atexit.register
def shutdown() -> None:
    """Stop every fork server (their kernels are shut down by their own managers)."""
    with _servers_lock:
        for s in _servers.values():
            s.close()
        _servers.clear()


class _ForkedProcess:
    """The Popen-like handle LocalProvisioner expects, for a kernel forked by the server (not
    our child: liveness comes from a pidfd, signals go to its process group)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None
        try:
            self._fd = os.pidfd_open(pid)
        except OSError:  # already gone
            self._fd, self.returncode = None, 1

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self.returncode = 1
            os.close(self._fd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("kernel", timeout)
        return self.poll()

    async def async_wait(self) -> int:
        """wait() for an event loop: resumes the moment the process ends (its pidfd becomes
        readable), where jupyter_client polls every 0.1 s."""
        if self.returncode is None:
            loop = asyncio.get_running_loop()
            ended = loop.create_future()
            loop.add_reader(self._fd, lambda: ended.done() or ended.set_result(None))
            try:
                await ended
            finally:
                loop.remove_reader(self._fd)
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel process is forked by the warm server."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        parts = split_command(cmd) if ENABLED else None
        if parts is None:
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            pid = server(parts[0], env, cwd).spawn(parts[1], env, cwd)
        except Exception:  # noqa: BLE001 - no server: start the kernel the ordinary way
            return await super().launch_kernel(cmd, **kwargs)
        self.process = _ForkedProcess(pid)
        self.pid, self.pgid, self.cwd = pid, pid, cwd
        return self.connection_info


class WarmKernelClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel is.

    Its wait_for_ready ends by draining IOPub until 0.2 s pass without a message: 0.2 s of
    idle waiting per chapter, more than the forked kernel takes to start. Here draining stops
    at the `idle` status of the kernel_info request that was answered, the last message that
    request causes (or, if that status never comes, after the same 0.2 s of silence).
    """

    IOPUB_QUIET = 0.2  # jupyter_client's: IOPub is taken as connected once a message arrives

    @default("context")
    def _context_default(self) -> zmq.asyncio.Context:
        # The client connects while the forked kernel is still binding its ports; a refused
        # connection is retried after RECONNECT_IVL, 100 ms by default (measured: the first
        # kernel_info reached the kernel 0.11 s after it was listening).
        context = super()._context_default()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                if await self._iopub_settled(reply["parent_header"].get("msg_id")):
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    async def _iopub_settled(self, request: str | None) -> bool:
        """Read IOPub up to the `idle` of `request`; False when nothing came (IOPub is not yet
        connected: ask again, as jupyter_client does)."""
        seen = False
        while True:
            try:
                msg = await self.iopub_channel.get_msg(timeout=self.IOPUB_QUIET)
            except Empty:
                return seen
            seen = True
            if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") == request):
                return True


class WarmKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, launching through ForkProvisioner."""

    extra_env: dict[str, str] = {}  # added to the environment the kernel inherits
    client_class = DottedObjectName("planbook.run.kernels.WarmKernelClient")
    client_factory = Type(WarmKernelClient, klass=AsyncKernelClient)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # After the kill at shutdown: a forked kernel's end is seen at once, not at the next
        # 0.1 s poll.
        process = getattr(self.provisioner, "process", None)
        if isinstance(process, _ForkedProcess):
            await process.async_wait()
        await super()._async_wait(pollinterval)

    async def _async_pre_start_kernel(self, **kw):
        if self.extra_env:
            kw["env"] = {**(kw.get("env") or os.environ), **self.extra_env}
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id,
                                               kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def manager_class(env: dict[str, str]) -> type[WarmKernelManager]:
    """WarmKernelManager whose kernels also get `env`: per run, so periods built side by side
    never share one process-wide variable."""
    if not env:
        return WarmKernelManager
    return type("WarmKernelManager", (WarmKernelManager,), {"extra_env": dict(env)})
