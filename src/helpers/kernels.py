"""Warm kernels: each notebook's kernel is forked from one process that has imported its stack.

A kernel started the usual way is a new Python process that imports ipykernel and
then, in the notebook's first cell, pandas, SciPy, statsmodels, matplotlib,
seaborn, pingouin and pandera: about 2.5 s of CPU per notebook, more than most of
the compendium's notebooks spend on their own work. For one run the runner
starts a *zygote* instead (``python -m helpers.kernels SOCKET MODULE...``): a
process that imports ipykernel and the modules the run's notebooks import, once,
and then forks one kernel per notebook on request, as a fork server does.

- **Same outputs.** A forked kernel is the ipykernel a worker would have started
  (same command line, working folder and environment, its own session and
  process group), with the imports already done; ``tests/test_kernels.py``
  compares the notebooks a warm and a cold run produce, byte for byte.
- **Isolation.** Every notebook has its own kernel process; the zygote runs no
  notebook code. A crash in one kernel ends that kernel only.
- **Nothing left behind.** The zygote dies with the runner (Linux parent-death
  signal, so also when the runner is killed outright) and takes its kernels with
  it; each kernel also dies with the zygote.
- **Fallback.** Where no zygote is configured (JupyterLab, plain papermill),
  or it cannot be reached, or the kernel is not the standard ipykernel, or the
  kernel's environment is not the one the zygote started with (an imported
  module may have read it), the kernel starts the usual way.

The workers use :class:`WarmKernelManager`, whose provisioner asks the zygote
named by the environment variable :data:`ZYGOTE_ENV` for a kernel.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from queue import Empty
from typing import Any

import psutil
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from traitlets import DottedObjectName, Type

from helpers.cache import CHECKED_ENV, notebook_modules

__all__ = [
    "FIRST_USE_MODULES",
    "KERNEL_MODULES",
    "WARM_PROVISIONER",
    "ZYGOTE_ENV",
    "ForkedKernel",
    "ReadyKernelClient",
    "WarmKernelManager",
    "WarmProvisioner",
    "die_with_parent",
    "first_use",
    "forked_by_default",
    "given_or_new_zygote",
    "kill_forked_kernels",
    "named_zygote",
    "notebook_imports",
    "request_kernel",
    "start_zygote",
    "stop_zygote",
    "warm_kernels",
    "zygote",
]

#: Environment variable naming the zygote's socket; set by the runner for its workers, and
#: by a caller that gives its runs one zygote (:func:`given_or_new_zygote`).
ZYGOTE_ENV = "AMSCT_KERNEL_ZYGOTE"
#: The backend ipykernel selects when MPLBACKEND is unset (ipykernel.kernelapp.init_gui_pylab);
#: the zygote must select it too before it imports matplotlib.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: What the zygote imports for the kernel itself, whatever the notebooks import.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger")
#: prctl options (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
#: Reported as a forked kernel's exit status when the zygote could not record it.
UNKNOWN_EXIT = -int(signal.SIGKILL)


def notebook_imports(notebooks: Iterable[str | Path]) -> list[str]:
    """Modules the code cells of ``notebooks`` import, in first-seen order.

    ``from helpers import outcomes`` counts as ``helpers`` and
    ``helpers.outcomes``; a name that is not a module is skipped by the zygote.

    Parameters
    ----------
    notebooks : iterable of str or Path

    Returns
    -------
    list of str

    Examples
    --------
    >>> "helpers.params" in notebook_imports(["notebooks/01_cohort_description.ipynb"])
    True
    """
    found: dict[str, None] = {}
    for notebook in notebooks:
        try:
            found.update(dict.fromkeys(notebook_modules(Path(notebook))))
        except (OSError, ValueError):
            continue  # not a readable notebook: the runner says so, not this
    return list(found)


def start_zygote(folder: Path, modules: Sequence[str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start a zygote that imports ``modules``; return it and its socket path.

    The socket is ``folder/zygote.sock``; the zygote records each kernel's exit
    status in ``folder`` too. Requests queue until its imports are done. The
    zygote itself prints nothing; each kernel writes to the stdout and stderr of
    the process that asked for it, as a kernel it had started would.
    """
    path = str(folder / "zygote.sock")
    command = [sys.executable, "-m", "helpers.kernels", path, *modules]
    process = subprocess.Popen(
        command,
        # os.environ, as the kernels will have it: the process's own environment can hold
        # variables set below Python (curses sets COLUMNS and LINES), which a child
        # started without env= would inherit
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
    return process, path


def stop_zygote(process: subprocess.Popen[bytes]) -> None:
    """Stop a zygote and its kernels (SIGTERM, then SIGKILL after 5 s)."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def zygote(modules: Sequence[str]) -> Iterator[str]:
    """Run a zygote for the duration of a ``with`` block; yield its socket path.

    Examples
    --------
    >>> with zygote(["json"]) as path:
    ...     path.endswith("zygote.sock")
    True
    """
    folder = Path(tempfile.mkdtemp(prefix="amsct-zygote-"))
    process, path = start_zygote(folder, modules)
    try:
        yield path
    finally:
        stop_zygote(process)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def given_or_new_zygote(modules: Sequence[str]) -> Iterator[str]:
    """Yield the zygote named in :data:`ZYGOTE_ENV`, else a new one for a ``with`` block.

    A process that runs many sets (the test session) starts one zygote and names
    it; each run then forks from it instead of importing the stack once more.
    Kernels forked from it are the same whichever modules it imported. Its
    modules are those of the moment it started: name one only while the helpers'
    sources do not change (the cache would record sources the kernels did not run).

    Examples
    --------
    >>> with zygote(["json"]) as path, given_or_new_zygote(["os"]) as same:
    ...     same != path  # none named: a new one
    True
    """
    given = os.environ.get(ZYGOTE_ENV)
    if given:
        yield given
        return
    with zygote(modules) as path:
        yield path


@contextlib.contextmanager
def warm_kernels(modules: Sequence[str]) -> Iterator[None]:
    """Fork the kernels this process starts from a zygote, for a ``with`` block.

    The zygote is the one named in :data:`ZYGOTE_ENV`, else a new one
    (:func:`given_or_new_zygote`).
    """
    with given_or_new_zygote(modules) as path, named_zygote(path):
        yield


@contextlib.contextmanager
def named_zygote(path: str | None) -> Iterator[None]:
    """Name the zygote at ``path`` in :data:`ZYGOTE_ENV` (None: none) for a ``with`` block.

    Examples
    --------
    >>> with named_zygote(None):
    ...     ZYGOTE_ENV in os.environ
    False
    """
    before = os.environ.pop(ZYGOTE_ENV, None)
    if path is not None:
        os.environ[ZYGOTE_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(ZYGOTE_ENV, None)
        if before is not None:
            os.environ[ZYGOTE_ENV] = before


# --- the zygote ---------------------------------------------------------------------------


def _prctl(option: int, value: int | bytes) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, value)


def die_with_parent(signum: int, parent: int | None = None) -> bool:
    """Ask Linux to send this process ``signum`` when its parent dies, even by SIGKILL.

    The request is made after the parent may already have died, so the caller
    must check the answer: True when it has (``os.getppid()`` is no longer
    ``parent``; without ``parent``, when it is init). Elsewhere than on Linux
    nothing is asked, and the answer is the same check.

    Examples
    --------
    >>> die_with_parent(0, os.getppid())  # signal 0: ask for nothing, only check
    False
    """
    _prctl(_PR_SET_PDEATHSIG, int(signum))
    return os.getppid() != parent if parent is not None else os.getppid() == 1


_children: set[int] = set()


def _reap(folder: Path) -> None:
    """Collect ended kernels and write each one's exit status to ``folder/<pid>.exit``."""
    while _children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            _children.clear()
            return
        if pid == 0:
            return
        _children.discard(pid)
        (folder / f"{pid}.exit").write_text(str(os.waitstatus_to_exitcode(status)))


def _end_zygote(signum: int, frame: object) -> None:
    """Kill every kernel this zygote forked (their process groups), remove its folder, exit."""
    for pid in list(_children):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    if _folder:
        shutil.rmtree(_folder[0], ignore_errors=True)
    os._exit(128 + signum)


#: Modules the libraries import at their first use, not when imported: a kernel draws and
#: writes figures (the Agg and SVG backends) and validates tables (pandera's pandas
#: back-ends, which import hypothesis' strategies). Imported by the zygote where the library
#: was imported, so no forked kernel imports them again. Not the inline backend: importing it
#: in a kernel, where IPython runs, is what hooks the display of figures into the kernel.
FIRST_USE_MODULES = {
    "matplotlib": ("matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg"),
    "pandera": ("pandera.backends.pandas.register", "pandera.strategies.pandas_strategies"),
}


def first_use(imported: Iterable[str]) -> list[str]:
    """List the modules of :data:`FIRST_USE_MODULES` for the libraries among ``imported``.

    Examples
    --------
    >>> first_use(["json", "pandera.pandas"])
    ['pandera.backends.pandas.register', 'pandera.strategies.pandas_strategies']
    """
    roots = {name.split(".")[0] for name in imported}
    chosen = [modules for library, modules in FIRST_USE_MODULES.items() if library in roots]
    return [name for modules in chosen for name in modules]


#: The zygote's folder (its socket and the kernels' exit records), removed when it ends.
_folder: list[Path] = []


def _serve(path: str, modules: Sequence[str]) -> None:
    """Run the zygote: import ``modules``, then fork a kernel for each request on ``path``."""
    _started_env.update(os.environ)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    signal.signal(signal.SIGTERM, _end_zygote)
    if die_with_parent(signal.SIGTERM):  # the runner died before the request was made
        _end_zygote(signal.SIGTERM, None)
    folder = Path(path).parent
    _folder[:] = [folder]

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    # each kernel's environment is the one its request carries (set after the fork)
    os.environ["MPLBACKEND"] = os.environ.get("MPLBACKEND") or INLINE_BACKEND
    # the kernel application, the kernel, and its debugger: ipykernel imports the debugger (and
    # debugpy, a hundred modules) as each kernel starts; imported here, a tiny notebook through
    # a forked kernel takes 0.095 s of CPU instead of 0.15 s
    for name in [*KERNEL_MODULES, *modules]:
        try:
            importlib.import_module(name)
        except Exception:  # not a module, or broken: the kernel will say why
            continue
    for name in first_use(list(sys.modules)):  # of the libraries those imports brought in
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if "helpers.data" in sys.modules:  # each kernel that reads a checked cohort keys it
        with contextlib.suppress(Exception):
            importlib.import_module("helpers.cache").warm_checked_key()
    while True:
        ready, _, _ = select.select([server], [], [], 0.1)
        _reap(folder)
        if not ready:
            continue
        connection, _ = server.accept()
        streams: list[int] = []
        with connection:
            try:
                request, streams = _receive(connection)
                reason = _refusal(request)
            except (ValueError, OSError) as exc:
                request, reason = {}, f"unreadable request: {exc}"

            if reason:
                connection.sendall(json.dumps({"error": reason}).encode() + b"\n")
            else:
                zygote = os.getpid()
                pid = os.fork()
                if pid == 0:
                    server.close()
                    connection.close()
                    _become_kernel(request, streams, zygote)
                _children.add(pid)
                # a kernel that ended earlier with this pid (a long-lived zygote) left a record
                (folder / f"{pid}.exit").unlink(missing_ok=True)
                connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        for fd in streams:  # the kernel has its own copies
            os.close(fd)


def _receive(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """Read one request: a JSON line, sent with the requester's stdout and stderr."""
    data, fds, _, _ = socket.recv_fds(connection, 1 << 20, 2)
    while not data.endswith(b"\n"):
        more = connection.recv(1 << 20)
        if not more:
            break
        data += more
    return json.loads(data), list(fds)


#: The zygote's environment as it started, before an import could read or change it.
_started_env: dict[str, str] = {}
#: Variables that may differ between the zygote and a kernel: set per request or per test
#: and read by no module at import, or set by libraries as they are imported (joblib,
#: pandera), in a long-lived requester before or after the zygote started.
_MAY_DIFFER = frozenset(
    {ZYGOTE_ENV, CHECKED_ENV, "PYTEST_CURRENT_TEST", "JPY_PARENT_PID", "KMP_INIT_AT_FORK",
     "PYARROW_IGNORE_TIMEZONE", "SPARK_LOCAL_IP"}
)  # fmt: skip


def _refusal(request: dict[str, Any]) -> str | None:
    """Why a request cannot be served by forking (None when it can).

    Besides another interpreter or kernel, a kernel environment other than the
    zygote's is refused: a module it imported may have read a variable at
    import (``helpers.paths`` reads ``AMSCT_PROJECT_ROOT``), so a forked kernel
    would not be the kernel a new process would be. Each variable must hold the
    value it had when the zygote started, or the one it holds now: some imports
    set variables (joblib sets ``KMP_INIT_AT_FORK``), in the requester as here.
    """
    argv = request.get("argv")
    if not isinstance(argv, list) or len(argv) < 3:
        return "no kernel command"
    same_python = Path(argv[0]).resolve() == Path(sys.executable).resolve()
    if not same_python or argv[1:3] != ["-m", "ipykernel_launcher"]:
        return f"not this interpreter's ipykernel: {' '.join(argv[:3])}"
    env = request.get("env")
    if isinstance(env, dict):
        names = (set(env) | set(_started_env) | set(os.environ)) - _MAY_DIFFER
        changed = sorted(
            k for k in names if env.get(k) not in (_started_env.get(k), os.environ.get(k))
        )
        if changed:
            return f"the kernel's environment differs from the zygote's in {', '.join(changed)}"
    return None


def _become_kernel(request: dict[str, Any], streams: Sequence[int], zygote: int) -> None:
    """In the forked child: become the kernel the request's command would start; never return.

    ``streams`` are the requester's stdout and stderr: a kernel started the usual
    way inherits them, so this one writes where that one would have.
    """
    code = 1
    try:
        for fd, target in zip(streams, (1, 2), strict=False):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a new interpreter
        if die_with_parent(signal.SIGKILL, zygote):  # the zygote died before that was asked
            os._exit(1)
        os.setsid()  # its own session and process group, as jupyter_client starts kernels
        _prctl(_PR_SET_NAME, b"ipykernel")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request.get("cwd") or os.getcwd())
        env = dict(request.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getppid())
        os.environ.clear()
        os.environ.update(env)
        import ipykernel_launcher
        from ipykernel import kernelapp

        # ipykernel reads JPY_PARENT_PID when it is imported, which was in the zygote, before
        # it was set: given here, as a kernel jupyter_client starts has it, the kernel watches
        # its parent and prints no banner for a terminal ("Ctrl-C will not work", …)
        parent = f"--IPKernelApp.parent_handle={env['JPY_PARENT_PID']}"
        sys.argv = [ipykernel_launcher.__file__, *request["argv"][3:], parent]
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # reported in the log; the kernel ends
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()  # what a normal interpreter exit would run
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# --- the workers' side --------------------------------------------------------------------


def request_kernel(
    path: str, argv: Sequence[str], cwd: str | None, env: dict[str, str] | None
) -> int:
    """Ask the zygote at ``path`` for a kernel; return its pid.

    Raises
    ------
    OSError
        When the zygote cannot be reached, refuses, or ends before it answers; no
        kernel of this request outlives it then, so the caller may start the kernel
        the usual way.
    """
    deadline = time.monotonic() + 10
    while True:  # the zygote binds its socket within moments of starting
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            client.connect(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            client.close()  # not bound yet; a missing folder means no zygote at all
            if time.monotonic() > deadline or not Path(path).parent.is_dir():
                raise
            time.sleep(0.05)
    with client:
        message = json.dumps({"argv": list(argv), "cwd": cwd, "env": env}).encode() + b"\n"
        # with this process's stdout and stderr, which a kernel started here would inherit
        sent = socket.send_fds(client, [message], [1, 2])
        if sent < len(message):  # never an empty send: the zygote may have answered and gone
            client.sendall(message[sent:])
        with client.makefile("rb") as reader:
            answer = reader.readline()
    if not answer:
        raise ConnectionError(f"the kernel zygote at {path} ended without an answer")
    reply = json.loads(answer)
    if "pid" not in reply:
        raise ConnectionRefusedError(f"the kernel zygote refused: {reply.get('error')}")
    return int(reply["pid"])


#: The kernels this process asked a zygote for (see :func:`kill_forked_kernels`).
_forked: list[ForkedKernel] = []


def kill_forked_kernels() -> None:
    """Kill every kernel this process had forked that still runs (the worker's end).

    A forked kernel is the zygote's child, not the requester's: a worker that is
    stopped must end its kernels itself, since a zygote its caller named outlives
    the run (a zygote the run started would end them as it ends).
    """
    for kernel in _forked:
        with contextlib.suppress(OSError):
            kernel.kill()


class ForkedKernel:
    """A kernel forked by the zygote, with the part of Popen's interface jupyter_client uses.

    The kernel is the zygote's child, not the worker's: it is signalled by pid,
    and its exit status is read from the file the zygote writes when it ends.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, folder: Path) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exit = folder / f"{pid}.exit"
        self._process = psutil.Process(pid)

    def poll(self) -> int | None:
        """Return the exit status, or None while the kernel runs."""
        if self.returncode is None:
            if self._exit.exists():
                self.returncode = int(self._exit.read_text() or UNKNOWN_EXIT)
            else:
                try:
                    gone = self._process.status() == psutil.STATUS_ZOMBIE
                except psutil.NoSuchProcess:
                    gone = True
                if gone and not self._exit.exists():  # the zygote could not reap it
                    self.returncode = UNKNOWN_EXIT
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to end; return its exit status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["ipykernel"], timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the kernel (not to an ended kernel's reused pid)."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


class WarmProvisioner(LocalProvisioner):  # type: ignore[misc]
    """LocalProvisioner that forks the kernel from the run's zygote when there is one."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Fork the kernel from the zygote named by :data:`ZYGOTE_ENV`, else start it."""
        path = os.environ.get(ZYGOTE_ENV)
        if not path:
            return await super().launch_kernel(cmd, **kwargs)
        try:
            # no cwd given: the kernel starts where this process is (papermill chdirs it there)
            cwd = kwargs.get("cwd") or os.getcwd()
            pid = request_kernel(path, cmd, cwd, kwargs.get("env"))
        except (OSError, ValueError) as exc:  # no kernel was forked for this request
            print(f"kernel zygote: {exc}; starting the kernel as a new process", file=sys.stderr)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(pid, Path(path).parent)
        _forked.append(self.process)
        self.pid = self.pgid = pid  # the kernel leads its own process group
        self.cwd = cwd
        return self.connection_info


#: Seconds to wait on IOPub for the kernel's idle status after its kernel_info reply before
#: asking again (:class:`ReadyKernelClient`).
IOPUB_WAIT = 0.05


class ReadyKernelClient(AsyncKernelClient):  # type: ignore[misc]
    """AsyncKernelClient that is ready as soon as its kernel has answered on both channels.

    jupyter_client's ``wait_for_ready`` asks the kernel for its ``kernel_info``,
    then reads IOPub until it has been silent for 0.2 s (and waits 0.2 s more
    when IOPub missed the first answer): 0.2-0.4 s of waiting at every kernel
    start, more than a forked kernel takes to start. Here the client is ready when
    the reply has arrived on the shell channel *and* the kernel's ``idle`` status
    for that same request on IOPub. Messages arrive in order on each channel, so
    what the kernel published before that status (its start-up) has then been read
    and dropped, as jupyter_client's flush drops it; the subscription is proven by
    a message received rather than by a silence. If IOPub was not yet connected when
    the kernel answered (a subscriber joins late), the status never comes and the
    request is made again after :data:`IOPUB_WAIT`.

    Examples
    --------
    >>> WarmKernelManager().client_factory is ReadyKernelClient
    True
    """

    async def _answered(self, msg_id: str, deadline: float) -> dict[str, Any] | None:
        """Return the reply to kernel_info ``msg_id`` once its idle status is on IOPub, or None.

        None when the reply has not come within a second, or its status within
        :data:`IOPUB_WAIT` of it (however many other messages IOPub brings meanwhile), or
        ``deadline`` (``time.monotonic()``) has passed.
        """

        def left(until: float) -> float:
            return max(min(until, deadline) - time.monotonic(), 0.0)

        try:
            until = time.monotonic() + 1
            while (reply := await self.shell_channel.get_msg(timeout=left(until)))[
                "parent_header"
            ].get("msg_id") != msg_id:
                continue  # the reply to an earlier request of this wait
            until = time.monotonic() + IOPUB_WAIT
            while True:
                msg = await self.iopub_channel.get_msg(timeout=left(until))
                if (
                    msg["parent_header"].get("msg_id") == msg_id
                    and msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"
                ):
                    return reply
        except Empty:
            return None

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Wait until the kernel has answered ``kernel_info`` on shell and IOPub, or fail.

        Parameters
        ----------
        timeout : float, optional
            Seconds before RuntimeError; default, no limit (as jupyter_client's).
        """
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            reply = await self._answered(self.kernel_info(), deadline)
            if reply is not None:
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class WarmKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """AsyncKernelManager whose kernels come from the run's zygote (see the module).

    Its clients are :class:`ReadyKernelClient`, ready as soon as the kernel has answered.

    Examples
    --------
    >>> from traitlets.config import Config
    >>> config = Config()
    >>> config.NotebookClient.kernel_manager_class = WarmKernelManager
    """

    # both: jupyter_client reads the factory, and makes it from the class name only on a change
    client_class = DottedObjectName("helpers.kernels.ReadyKernelClient", config=True)
    client_factory = Type(default_value=ReadyKernelClient, klass=AsyncKernelClient, config=True)

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:  # jupyter_client's factory would make a LocalProvisioner
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = WarmProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)


#: The name :class:`WarmProvisioner` goes by among jupyter_client's kernel provisioners
#: (:func:`forked_by_default`).
WARM_PROVISIONER = "amsct-warm-provisioner"


@contextlib.contextmanager
def forked_by_default(path: str) -> Iterator[None]:
    """Fork every kernel jupyter_client starts here from the zygote at ``path``, for a block.

    :class:`WarmKernelManager` serves the runner; a tool that starts kernels with
    jupyter_client's own manager (nbval in the test session) is reached through
    jupyter_client's provisioner factory instead: for the block, the provisioner a
    kernel specification names when it names none is :class:`WarmProvisioner`
    (registered under :data:`WARM_PROVISIONER`), and the zygote is named in
    :data:`ZYGOTE_ENV`. A kernel the zygote cannot fork starts the usual way, as
    with the runner. Afterwards the default provisioner and the variable are as
    they were (the warm one stays registered, used only where named).

    Parameters
    ----------
    path : str
        The zygote's socket (:func:`zygote`).

    Examples
    --------
    >>> factory = KernelProvisionerFactory.instance()
    >>> with zygote(["json"]) as path, forked_by_default(path):
    ...     factory.default_provisioner_name == WARM_PROVISIONER
    True
    >>> factory.default_provisioner_name
    'local-provisioner'
    """
    factory = KernelProvisionerFactory.instance()
    factory.provisioners.setdefault(
        WARM_PROVISIONER,
        EntryPoint(WARM_PROVISIONER, "helpers.kernels:WarmProvisioner", factory.GROUP_NAME),
    )
    before = factory.default_provisioner_name
    factory.default_provisioner_name = WARM_PROVISIONER
    try:
        with named_zygote(path):
            yield
    finally:
        factory.default_provisioner_name = before


if __name__ == "__main__":
    if sys.path and Path(sys.path[0] or ".").resolve() == Path.cwd().resolve():
        del sys.path[0]  # as ipykernel_launcher does; IPython puts '' back in each kernel
    _serve(sys.argv[1], sys.argv[2:])
