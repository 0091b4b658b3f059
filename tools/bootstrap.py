"""Build the project's virtual environment, ``.venv``, exactly as ``requirements-lock.txt`` pins it.

Run by ``make setup`` (and so by ``make reproduce`` and ``make test``) with the
machine's Python; it needs nothing but the standard library.

* **The Python.** The lock is resolved for Python 3.11. Another version stops
  here with what to do (``make PYTHON=python3.11 …``), before anything is built.
* **A .venv that cannot be used** (made by another Python, its interpreter
  gone, or left half-built by an interrupted install: no stamp) is removed and
  built again, and the message says so; it is never reused.
* **Fast install.** uv, bootstrapped from pip into ``.venv/tools`` at a pinned
  version, installs the lock (the same pins, in seconds rather than a minute). It is
  pointed at the package indexes pip is configured with on this machine
  (``pip config``: index-url, extra-index-url, find-links, cert), so it reaches
  what pip reaches. If uv cannot be installed or fails, pip installs the lock
  instead (slower, same pins).
* **The stamp** ``.venv/.installed`` records the lock's and ``pyproject.toml``'s
  digests and the Python version; it is written last, only after everything
  installed.

* **The quick answer.** ``--ready``, run by ``.venv``'s own interpreter, exits 0
  when that ``.venv`` is ready (its Python fits and the stamp is the one wanted)
  and 1 otherwise, building nothing. ``make`` asks it first and runs the full
  check with the machine's Python only when the answer is no: a Python reached
  through a version manager's shim (pyenv's) takes 0.1–0.2 s just to start,
  which every ``make`` paid, a no-op ``make reproduce`` included.

Usage: ``python3 tools/bootstrap.py [--venv .venv] [--no-uv] [--ready]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-lock.txt"
PYPROJECT = ROOT / "pyproject.toml"
#: The uv release bootstrapped (pinned like everything else).
UV = "uv==0.13.8"
#: Pythons the lock can be installed on (soupsieve 4.1.3 in the lock needs 3.11.5 or later).
LOWEST, BELOW = (3, 11, 5), (3, 12)


def fits(version: tuple[int, ...]) -> bool:
    """Whether the lock can be installed on this Python version."""
    return tuple(version[:3]) >= LOWEST and tuple(version[:2]) < BELOW


def say(message: str) -> None:
    """Print a line of the set-up's progress."""
    print(f"setup: {message}", flush=True)


def digest(path: Path) -> str:
    """SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wanted_stamp() -> dict[str, str]:
    """Say what a ready .venv's stamp holds."""
    return {
        "python": ".".join(map(str, sys.version_info[:2])),
        "lock": digest(LOCK),
        "pyproject": digest(PYPROJECT),
    }


def venv_python(venv: Path) -> Path:
    """Locate the interpreter of a virtual environment."""
    return venv / "bin" / "python"


def usable(venv: Path) -> str | None:
    """Why an existing .venv cannot be reused as it is (None when it can)."""
    python = venv_python(venv)
    if not python.exists():
        return "its Python is missing"
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "its Python does not run"
    if not fits(tuple(int(x) for x in out.split("."))):
        return f"it was made by Python {out}, which the lock cannot be installed on"
    if not (venv / ".installed").exists():
        return "an earlier set-up did not finish (no .venv/.installed)"
    return None


def stamped(venv: Path) -> bool:
    """Whether ``venv``'s stamp is :func:`wanted_stamp` (False when missing or unreadable)."""
    try:
        return json.loads((venv / ".installed").read_text()) == wanted_stamp()
    except (OSError, ValueError):
        return False


def ready(venv: Path) -> bool:
    """Whether ``venv`` is ready, when asked by its own interpreter (``--ready``).

    True only when this process runs ``venv``'s Python, that Python fits the
    lock and the stamp is :func:`wanted_stamp`; anything else (another
    interpreter, no stamp, an older one) is False, and the full check decides.
    """
    same = Path(sys.prefix).resolve() == venv.resolve()
    return same and fits(sys.version_info) and stamped(venv)


def pip_index_options() -> tuple[list[str], dict[str, str]]:
    """Build the uv options and environment that reach the indexes pip is configured with."""
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True, text=True, timeout=60, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        listed = ""
    config: dict[str, str] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        name = key.split(".", 1)[-1].strip()
        config[name] = value.strip().strip("'\"")

    def present(url: str) -> bool:  # pip skips a missing local index; so must uv
        return not url.startswith("file://") or Path(url.removeprefix("file://")).exists()

    options: list[str] = []
    if config.get("index-url"):
        options += ["--index-url", config["index-url"]]
    for url in config.get("extra-index-url", "").split():
        if present(url):
            options += ["--extra-index-url", url]
    for place in config.get("find-links", "").split():
        if present(place) and (place.startswith(("http", "file:")) or Path(place).exists()):
            options += ["--find-links", place]
    env = {}
    if config.get("cert"):
        env["SSL_CERT_FILE"] = config["cert"]
    # pins are exact: take each from whichever index holds it, as pip does
    options += ["--index-strategy", "unsafe-best-match"]
    return options, env


def run(command: list[str], **kw: object) -> bool:
    """Run a command; True when it succeeded."""
    done = subprocess.run(command, check=False, **kw)  # type: ignore[call-overload]
    return done.returncode == 0


def _reports_version(program: Path, version: str) -> bool:
    """Tell whether ``program --version`` runs and names ``version``."""
    try:
        shown = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return False
    return version in shown.split()


def install_with_uv(venv: Path) -> bool:
    """Install the lock with uv; False (after saying why) when uv cannot do it."""
    python = venv_python(venv)
    tools = venv / "tools"
    quiet = ["--disable-pip-version-check", "--quiet"]
    uv = tools / "bin" / "uv"
    wanted = UV.partition("==")[2]
    if not _reports_version(uv, wanted) and not run(
        [str(python), "-m", "pip", "install", *quiet, "--upgrade", "--target", str(tools), UV]
    ):
        say("uv could not be installed from the package index; installing with pip")
        return False
    if not uv.exists():
        say("uv did not install a binary for this machine; installing with pip")
        return False
    options, extra_env = pip_index_options()
    env = {**os.environ, **extra_env}
    base = [str(uv), "pip"]
    target = ["--python", str(python)]
    # sync, not install: a package an earlier lock had and this one drops is removed too
    ok = run([*base, "sync", *target, *options, "--quiet", str(LOCK)], env=env) and run(
        [*base, "install", *target, *options, "--quiet", "--no-deps", "-e", str(ROOT)], env=env
    )
    if not ok:
        say("uv failed (see above); installing with pip instead")
    return ok


def install_with_pip(venv: Path) -> None:
    """Install the lock with pip (the fallback)."""
    pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    if not run([*pip, "install", "-r", str(LOCK)]):
        raise SystemExit("setup: pip could not install requirements-lock.txt (see above)")
    if not run([*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)]):
        raise SystemExit("setup: pip could not install the project itself (see above)")


def main(argv: list[str] | None = None) -> int:
    """Command line: build or check .venv; exit 0 when it is ready."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv"))
    parser.add_argument("--no-uv", action="store_true", help="install with pip only")
    parser.add_argument(
        "--ready",
        action="store_true",
        help="exit 0 if this interpreter's .venv is ready, 1 if not; build nothing",
    )
    args = parser.parse_args(argv)
    venv = Path(args.venv)
    if args.ready:
        return 0 if ready(venv) else 1
    if not fits(sys.version_info):
        found = ".".join(map(str, sys.version_info[:3]))
        raise SystemExit(
            f"setup: the pinned environment needs Python 3.11.5 or a later 3.11, but "
            f"{sys.executable} is Python {found}. Run make with such a Python, e.g. "
            f"`make PYTHON=/path/to/python3.11 reproduce`; nothing was built or removed."
        )
    start = time.monotonic()
    if venv.exists():
        why = usable(venv)
        if why is not None:
            say(f"{venv} cannot be reused ({why}): removing it and building it again")
            shutil.rmtree(venv)
    stamp = venv / ".installed"
    if venv.exists() and stamp.exists():
        if stamped(venv):
            return 0
        stamp.unlink()  # until the new install finishes, this .venv is not ready
    if not venv.exists():
        say(f"creating {venv} with {sys.executable}")
        if not run([sys.executable, "-m", "venv", str(venv)]):
            raise SystemExit(f"setup: could not create {venv} (see above)")
    if args.no_uv or not install_with_uv(venv):
        install_with_pip(venv)
    stamp.write_text(json.dumps(wanted_stamp()) + "\n")
    say(f"environment ready in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
