"""Warm kernels (helpers.kernels): forked from a zygote, they give the outputs a new kernel gives.

The stored notebooks are refreshed with warm kernels. nbval re-executes notebook 03 in
a kernel started the usual way (tests/session_zygote.py), so every `make test` also
compares the two on a real notebook, and the other notebooks in kernels forked from
the test session's zygote. These tests pin the details with small notebooks: what a
kernel sees of its process (working folder, environment, sys.argv, sys.path,
matplotlib backend, warnings), isolation between kernels, and that kernels end with
the zygote.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import tiny

from helpers import kernels
from helpers.cache import _CHECKERS, helper_closure
from helpers.run import execute_notebook, strip_volatile_metadata

pytestmark = pytest.mark.slow

PROBE = """\
import json, os, sys, warnings
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

print(json.dumps({
    "cwd": os.getcwd(),
    "argv0": os.path.basename(sys.argv[0]),
    "path": sys.path,
    "backend": matplotlib.get_backend(),
    "probe_env": os.environ.get("AMSCT_PROBE"),
    "parent_is_alive": os.getppid() != 1,
    "main": sys.modules["__main__"].__class__.__name__,
}, sort_keys=True))
warnings.warn("a warning a reader should see", UserWarning)
display(pd.DataFrame({"a": [1, 2], "b": [0.5, None]}))
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [1, 0]);
"""


def _notebook(folder: Path, name: str, body: str) -> Path:
    return tiny.notebook(folder, name, body)


def _outputs(path: Path) -> list:
    nb = strip_volatile_metadata(nbformat.read(path, as_version=4))
    # a warning names the kernel's temporary cell file, which carries the kernel's pid
    outputs = json.dumps([cell.get("outputs") for cell in nb.cells])
    return json.loads(re.sub(r"ipykernel_\d+", "ipykernel_PID", outputs))


def test_a_forked_kernel_gives_the_outputs_a_new_kernel_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("AMSCT_PROBE", "set by the test")
    probe = _notebook(tmp_path / "nbs", "probe", PROBE)
    cold = execute_notebook(probe, tmp_path / "cold.ipynb", {}, cwd=tmp_path)
    assert cold.error is None, cold.error
    forked = len(kernels._forked)
    with kernels.warm_kernels(kernels.notebook_imports([probe])):
        warm = execute_notebook(probe, tmp_path / "warm.ipynb", {}, cwd=tmp_path)
    assert warm.error is None, warm.error
    assert len(kernels._forked) == forked + 1, "the warm kernel was not forked"
    assert _outputs(warm.output) == _outputs(cold.output)
    seen = json.loads(_outputs(warm.output)[0][0]["text"])
    assert seen["cwd"] == str(tmp_path)
    assert seen["argv0"] == "ipykernel_launcher.py"
    assert "" in seen["path"]  # IPython puts the notebook's folder on the path, as always
    assert "inline" in seen["backend"]
    assert seen["probe_env"] == "set by the test"
    kinds = [output.get("name") or output["output_type"] for output in _outputs(warm.output)[0]]
    assert "stderr" in kinds  # the warning reaches the notebook
    assert "display_data" in kinds  # the table and the figure too


def test_the_pre_imported_modules_are_what_the_notebooks_import():
    root = Path(__file__).resolve().parents[1]
    modules = kernels.notebook_imports(sorted((root / "notebooks").glob("0[1-5]_*.ipynb")))
    assert "helpers.outcomes" in modules
    assert "helpers.design" in modules
    assert modules.index("helpers.params") < modules.index("helpers.design")  # first-seen order


def test_a_crash_in_one_kernel_leaves_the_zygote_serving_the_next(tmp_path):
    dies = _notebook(tmp_path, "dies", "import os\nos.kill(os.getpid(), 9)")
    fine = _notebook(tmp_path, "fine", "import pandas as pd\nprint(pd.Series([1, 2]).sum())")
    with kernels.warm_kernels(["pandas"]):
        died = execute_notebook(dies, tmp_path / "died.ipynb", {})
        after = execute_notebook(fine, tmp_path / "after.ipynb", {})
    assert died.error is not None
    assert "the kernel died" in str(died.error)
    kept = nbformat.read(died.output, as_version=4)  # written as it ended, not as it started
    assert kept.metadata.papermill["end_time"] is not None
    assert kept.cells[-1].metadata.papermill["start_time"] is not None
    assert after.error is None
    assert _outputs(after.output)[0][0]["text"] == "3\n"


def _kernel(path: str, folder: Path) -> psutil.Process:
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(folder / "k.json")]
    pid = kernels.request_kernel(path, argv, str(folder), dict(os.environ))
    kernel = psutil.Process(pid)
    deadline = time.monotonic() + 10
    while kernel.name() != "ipykernel" and time.monotonic() < deadline:
        time.sleep(0.05)  # it names itself just after the fork
    assert kernel.name() == "ipykernel"
    return kernel


def _gone(process: psutil.Process, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_kernels_end_with_their_zygote(tmp_path, signum):
    zygote, path = kernels.start_zygote(tmp_path, [])
    try:
        kernel = _kernel(path, tmp_path)
        assert kernel.ppid() == zygote.pid  # the zygote's child, in its own process group
        assert os.getpgid(kernel.pid) == kernel.pid
        zygote.send_signal(signum)
        zygote.wait(10)
        assert _gone(kernel)
    finally:
        kernels.stop_zygote(zygote)


def test_a_forked_kernel_has_what_its_libraries_import_at_first_use(tmp_path):
    """The zygote imports what matplotlib and pandera import only when first used (figure
    files, table validation), so a forked kernel starts with them, as with the rest."""
    wanted = kernels.first_use(["matplotlib", "pandera"])
    assert "matplotlib.backends.backend_svg" in wanted
    assert "pandera.backends.pandas.register" in wanted
    body = "import sys\nimport helpers.data\nimport helpers.figures\n"
    body += f"print([m for m in {wanted} if m not in sys.modules])\n"
    # and the zygote has parsed the checking helpers' imports (a cold kernel has not)
    body += "from helpers import cache\nprint(cache._source_imports.cache_info().currsize)"
    probe = _notebook(tmp_path / "nbs", "first_use", body)
    with kernels.warm_kernels(kernels.notebook_imports([probe])):
        warm = execute_notebook(probe, tmp_path / "warm.ipynb", {}, cwd=tmp_path)
    assert warm.error is None, warm.error
    printed = nbformat.read(warm.output, as_version=4).cells[-1].outputs[0]["text"]
    missing, parsed = printed.splitlines()
    assert missing == "[]"
    assert int(parsed) >= len(helper_closure(_CHECKERS))


def test_the_zygote_ends_with_the_process_that_started_it(tmp_path):
    # a runner killed outright: its zygote and the zygote's kernels go too
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from helpers import kernels; "
            f"z, p = kernels.start_zygote(Path({str(tmp_path)!r}), []); "
            "print(z.pid, flush=True); time.sleep(120)",
        ],
        # os.environ, as the kernel requested below has it: without env= the starter would
        # inherit variables set below Python in this process (curses, once imported, sets
        # COLUMNS and LINES: seen when this file ran alone), and its zygote would refuse that
        # kernel
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        zygote = psutil.Process(int(starter.stdout.readline()))
        kernel = _kernel(str(tmp_path / "zygote.sock"), tmp_path)
        starter.kill()
        starter.wait(10)
        assert _gone(zygote)
        assert _gone(kernel)
        assert not (tmp_path / "zygote.sock").exists()  # the zygote removed its folder
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        starter.stdout.close()


def test_the_zygote_refuses_what_it_cannot_fork_and_the_kernel_starts_as_usual(tmp_path):
    refused = pytest.raises(ConnectionRefusedError, match="not this interpreter's ipykernel")
    with kernels.zygote([]) as path, refused:
        kernels.request_kernel(path, ["/bin/sh", "-c", "true"], None, None)
    nb = _notebook(tmp_path, "fine", "print(1 + 1)")
    os.environ[kernels.ZYGOTE_ENV] = str(tmp_path / "gone" / "zygote.sock")
    try:  # no zygote (its folder is gone): the kernel is started the usual way at once
        result = execute_notebook(nb, tmp_path / "out.ipynb", {})
    finally:
        del os.environ[kernels.ZYGOTE_ENV]
    assert result.error is None
    assert _outputs(result.output)[0][0]["text"] == "2\n"


def _printed_by_a_run(tmp_path: Path, body: str, *, warm: bool, report: str = "") -> str:
    """What a one-cell notebook printed, run through the runner warm or cold (``report``
    names a report folder of its own, so a run is not reused from the cache)."""
    from helpers.run import run

    tiny.parameter_set(tmp_path, "case", "description: warm or cold\n")
    nb = _notebook(tmp_path / "nbs", "01_probe", body)
    report = run(
        "case",
        [nb],
        reports_dir=tmp_path / f"reports-{warm}{report}",
        params_dir=tmp_path / "params",
        progress=False,
        warm=warm,
    )
    return _outputs(report / "01_probe.ipynb")[0][0]["text"]


def test_the_runner_forks_its_kernels_unless_told_to_start_them_cold(tmp_path, monkeypatch):
    """Warm or cold, the kernel sees the runner's environment as it is when each run starts.

    The workers come from a fork server started by the first run, with the environment
    of that moment; the second run's value must reach its kernel all the same.
    """
    body = (
        "import os, psutil\n"
        "print('-m helpers.kernels' in ' '.join(psutil.Process(os.getppid()).cmdline()),"
        " os.environ['AMSCT_PROBE'])"
    )
    seen = {}
    for warm in (True, False):
        monkeypatch.setenv("AMSCT_PROBE", f"run-{warm}")
        seen[warm] = _printed_by_a_run(tmp_path, body, warm=warm)
    assert seen == {True: "True run-True\n", False: "False run-False\n"}


def test_a_run_forks_from_the_zygote_its_caller_names(tmp_path, monkeypatch):
    """A process running many sets names one zygote; a cold run, or a kernel environment
    other than the zygote's (an imported module may have read it), does not fork from it."""
    process, path = kernels.start_zygote(tmp_path, [])
    try:
        monkeypatch.setenv(kernels.ZYGOTE_ENV, path)
        body = "import os\nprint(os.getppid(), os.environ.get('AMSCT_PROBE'))"
        assert _printed_by_a_run(tmp_path, body, warm=True) == f"{process.pid} None\n"
        parent, _ = _printed_by_a_run(tmp_path, body, warm=False).split()
        assert int(parent) != process.pid
        monkeypatch.setenv("AMSCT_PROBE", "changed")
        parent, probe = _printed_by_a_run(tmp_path, body, warm=True, report="-changed").split()
        assert (int(parent) != process.pid, probe) == (True, "changed")
        assert process.poll() is None, "a run must not stop a zygote it did not start"
    finally:
        kernels.stop_zygote(process)


def test_nbval_s_kernels_fork_from_the_zygote_only_while_it_is_named(tmp_path):
    """forked_by_default reaches kernels started by jupyter_client's own manager, as nbval's
    are; outside the block they start as new processes again."""
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, start_new_kernel

    def started() -> tuple[str, int]:
        """The kind of process nbval's kernel is, and its parent's pid."""
        manager, client = start_new_kernel(kernel_name=CURRENT_ENV_KERNEL_NAME, cwd=str(tmp_path))
        try:
            provisioner = manager.provisioner
            return type(provisioner.process).__name__, psutil.Process(provisioner.pid).ppid()
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)

    process, path = kernels.start_zygote(tmp_path, [])
    try:
        with kernels.forked_by_default(path):
            assert started() == ("ForkedKernel", process.pid)
        assert started() == ("Popen", os.getpid())
    finally:
        kernels.stop_zygote(process)


def test_nbval_runs_one_real_notebook_in_a_cold_kernel():
    """The cold-kernel check of tests/session_zygote.py names one of the numbered notebooks
    nbval checks: renamed or gone, the check would silently stop."""
    import session_zygote

    notebooks = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))
    assert session_zygote.COLD_NBVAL.resolve() in {p.resolve() for p in notebooks}


def test_a_request_answered_at_once_is_not_mistaken_for_a_failure(tmp_path, monkeypatch):
    # The zygote answers and closes as soon as it has read the request. A client that then
    # sent anything more (even nothing) met a closed socket, fell back to a new kernel while
    # the forked one ran on the same sockets, and the notebook hung: here the zygote always
    # wins that race.
    real_send_fds = kernels.socket.send_fds

    def send_then_wait(sock, buffers, fds):
        sent = real_send_fds(sock, buffers, fds)
        time.sleep(0.3)  # the zygote answers and closes meanwhile
        return sent

    monkeypatch.setattr(kernels.socket, "send_fds", send_then_wait)
    with kernels.zygote([]) as path:
        kernel = _kernel(path, tmp_path)  # forked, and known to the caller
        assert kernel.is_running()


class _Kernel:
    """A kernel's two channels as a client sees them, for ReadyKernelClient.wait_for_ready.

    Each kernel_info request is answered on shell, and its busy and idle statuses are
    published on IOPub after what the kernel published as it started. The statuses of the
    first ``missed`` requests are lost (IOPub not yet connected: a late subscriber loses
    them); those of the next ``delayed`` come only after the following request's reply. The
    replies to ``stale`` earlier requests come first on shell.
    """

    def __init__(self, *, missed: int = 0, delayed: int = 0, stale: int = 0) -> None:
        import asyncio

        self.shell: asyncio.Queue = asyncio.Queue()
        self.iopub: asyncio.Queue = asyncio.Queue()
        self.requests = 0
        self.missed, self.delayed = missed, delayed
        self.held: list[dict] = []
        for _ in range(stale):
            self.shell.put_nowait(self.message("kernel_info_reply", "earlier"))
        for state in ("starting", "idle"):  # published as the kernel started
            self.iopub.put_nowait(self.message("status", None, execution_state=state))

    @staticmethod
    def message(kind: str, parent: str | None, **content: object) -> dict:
        return {"msg_type": kind, "parent_header": {"msg_id": parent} if parent else {},
                "content": {"protocol_version": "5.3", **content}}  # fmt: skip

    def send(self, msg: dict) -> None:  # a request on shell
        msg_id = msg["header"]["msg_id"]
        self.requests += 1
        self.shell.put_nowait(self.message("kernel_info_reply", msg_id))
        for held in self.held:
            self.iopub.put_nowait(held)
        self.held = []
        statuses = [self.message("status", msg_id, execution_state=s) for s in ("busy", "idle")]
        if self.requests <= self.missed:
            return
        if self.requests <= self.missed + self.delayed:
            self.held = statuses
            return
        for status in statuses:
            self.iopub.put_nowait(status)

    def client(self, alive: bool = True) -> kernels.ReadyKernelClient:
        """A ReadyKernelClient on these channels; ``alive``: what it learns of the kernel."""
        import asyncio
        from queue import Empty

        kernel = self

        class Channel:
            def __init__(self, queue: asyncio.Queue) -> None:
                self.queue = queue

            def send(self, msg: dict) -> None:
                kernel.send(msg)

            async def get_msg(self, timeout: float | None = None) -> dict:
                try:
                    return await asyncio.wait_for(self.queue.get(), timeout)
                except TimeoutError:
                    raise Empty from None

        client = kernels.ReadyKernelClient()
        client._shell_channel = Channel(self.shell)
        client._iopub_channel = Channel(self.iopub)
        client._async_is_alive = lambda: asyncio.sleep(0, alive)
        return client


@pytest.mark.parametrize(
    ("missed", "delayed", "stale"), [(0, 0, 0), (1, 0, 0), (0, 0, 2), (0, 1, 0), (3, 2, 2)]
)
def test_a_client_is_ready_once_its_kernel_answers_on_shell_and_on_iopub(missed, delayed, stale):
    """ReadyKernelClient: ready at the idle status of its own kernel_info request on IOPub,
    having read what the kernel published before it; asked again while IOPub missed it or
    the status is late; replies and statuses of earlier requests are passed over, not taken
    for the last one's. Nothing is left to read on either channel."""
    import asyncio

    async def check() -> None:
        kernel = _Kernel(missed=missed, delayed=delayed, stale=stale)
        await kernel.client().wait_for_ready(timeout=10)
        assert kernel.requests == missed + delayed + 1
        assert kernel.shell.empty()  # the last reply was the one taken
        assert kernel.iopub.empty()  # the start-up's and earlier requests' messages were read

    asyncio.run(check())


def test_a_client_stops_waiting_when_its_kernel_dies_or_the_time_is_up():
    """A kernel that never answers on IOPub: the wait ends at its timeout, even while IOPub
    brings other messages every 0.02 s (within IOPUB_WAIT of each other); a kernel found dead
    ends it at once."""
    import asyncio

    async def chatter(kernel: _Kernel) -> None:
        while True:
            kernel.iopub.put_nowait(kernel.message("stream", "another", text="x"))
            await asyncio.sleep(0.02)

    async def check() -> None:
        kernel = _Kernel(missed=10**6)
        talk = asyncio.ensure_future(chatter(kernel))
        try:
            waited = kernel.client().wait_for_ready(timeout=0.3)
            with pytest.raises(RuntimeError, match=r"didn't respond in 0\.3 seconds"):
                await asyncio.wait_for(waited, 10)  # a TimeoutError here: it kept waiting
        finally:
            talk.cancel()
        with pytest.raises(RuntimeError, match="Kernel died before replying"):
            await _Kernel(missed=10**6).client(alive=False).wait_for_ready(timeout=10)

    asyncio.run(check())
