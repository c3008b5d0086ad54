"""A JupyterLab server on 127.0.0.1 that ``nnlab lab`` and the browser test start the same way.

The server runs as a child process whose PID is the server's own (no shell in between), in its own
session, so that a Ctrl-C or a closed terminal reaches ``nnlab lab`` only, which then stops the server
with SIGTERM: JupyterLab shuts its kernels down on SIGTERM. On Linux the server also receives SIGTERM
if the process that started it dies without stopping it (even by SIGKILL), so it is never orphaned.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["QUIET_LAB", "LabError", "LabServer", "missing_jupyterlab", "port_in_use", "stop_on_signals"]

# Keep JupyterLab from reaching for the internet (no news feed, no update checks, no extension manager
# calling the package index) and from writing a notary database into the home folder.
QUIET_LAB = (
    "--LabApp.news_url=",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
    "--NotebookNotary.db_file=:memory:",
)


# Settings that JupyterLab's command line cannot give: no "Would you like to get notified about
# official Jupyter news?" prompt, which would otherwise greet every student.
QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _settings_dir() -> Path:
    """A temporary copy of JupyterLab's application settings folder, with ``QUIET_SETTINGS`` added.

    The copy keeps whatever the environment's own ``overrides.json`` says (it is read after ours).
    """
    app_dir = Path(os.environ.get("JUPYTERLAB_DIR") or Path(sys.prefix) / "share" / "jupyter" / "lab")
    folder = Path(tempfile.mkdtemp(prefix="nnlab-lab-settings-"))
    if (app_dir / "settings").is_dir():
        shutil.copytree(app_dir / "settings", folder, dirs_exist_ok=True)
    (folder / "overrides.d").mkdir(exist_ok=True)
    (folder / "overrides.d" / "00-nnlab.json").write_text(json.dumps(QUIET_SETTINGS, indent=1) + "\n")
    return folder


class LabError(RuntimeError):
    """JupyterLab did not come up: it exited, or did not answer in time."""


def missing_jupyterlab() -> str | None:
    """Why JupyterLab cannot start in this Python, with the fix; None when it is installed."""
    import importlib.util

    try:
        found = importlib.util.find_spec("jupyterlab") is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return (
        f"JupyterLab is not installed in this Python ({sys.executable}), so the book cannot open."
        ' Install it with the book\'s extra: pip install "nnlab[book]"'
        ' (in a checkout of the repository: pip install -e ".[book]").'
    )


def port_in_use(port: int) -> str | None:
    """Why JupyterLab could not listen on 127.0.0.1:``port``, with the fix; None when it can."""
    with socket.socket() as s:
        if hasattr(socket, "SO_REUSEADDR") and os.name != "nt":  # as the server binds it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except PermissionError:
            return (
                f"port {port} on 127.0.0.1 needs administrator rights. Choose a port above 1023"
                " (--port 8888), or leave --port out to use a free one."
            )
        except OSError:
            return (
                f"port {port} on 127.0.0.1 is already in use (another JupyterLab, or another program)."
                f" Choose another with --port {8888 if port != 8888 else 8889}, or leave --port out to"
                " use a free one."
            )
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Straight to 127.0.0.1, never through an HTTP proxy that the environment may name.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with LOCAL.open(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM, 0, 0, 0)


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl  # resolved here, in the parent, not after fork
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


class LabServer:
    """JupyterLab serving ``root`` on 127.0.0.1 with a random token; a context manager that always stops it.

    Args:
        root: the folder the server shows.
        start_in: a folder inside ``root`` (e.g. ``"book"``) that the printed URL opens first.
        port: a port on 127.0.0.1 (default: a free one); never retried on another port.
        open_browser: let JupyterLab open the user's browser.
        extra_args: more ``--Class.trait=value`` arguments (the browser test adds its own).
        log: where the server's output goes (a file object, ``subprocess.DEVNULL``, or None to inherit).
        env: the server's environment (default: this process's).
        quiet: log warnings and errors only, not the server's own URL, banner and start-up lines
            (``nnlab lab`` prints its own URL).
    """

    def __init__(
        self,
        root: Path,
        *,
        start_in: str = "",
        port: int | None = None,
        open_browser: bool = False,
        extra_args: Sequence[str] = (),
        log=None,
        env: dict[str, str] | None = None,
        quiet: bool = False,
    ) -> None:
        self.root = Path(root)
        self.port = port or _free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        path = f"/lab/tree/{start_in}" if start_in else "/lab"
        self.url = f"{self.base}{path}?token={self.token}"
        self.cmd = [
            sys.executable, "-m", "jupyterlab",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.default_url={path}",
            *QUIET_LAB,
            *extra_args,
        ]  # fmt: skip
        if quiet:
            self.cmd += ["--ServerApp.log_level=WARN", "--LabApp.log_level=WARN"]
        if not open_browser:
            self.cmd.append("--no-browser")
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
            self.cmd.append("--allow-root")
        self.log = log
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._settings: Path | None = None

    def start(self, timeout: float = 120.0) -> float:
        """Start the server and wait until it answers; returns the seconds that took. Raises LabError."""
        self._settings = _settings_dir()
        self.proc = subprocess.Popen(
            [*self.cmd, f"--LabApp.app_settings_dir={self._settings}"],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log is not None else None,
            env=self.env,
            start_new_session=True,  # terminal signals reach nnlab, which stops the server cleanly
            preexec_fn=_die_with_parent if _PRCTL is not None else None,
        )
        start = time.monotonic()
        while not _answers(self.api("status")):
            if self.proc.poll() is not None:
                raise LabError(f"JupyterLab exited with code {self.proc.returncode} before it answered.")
            if time.monotonic() - start > timeout:
                raise LabError(f"JupyterLab did not answer on {self.base} within {timeout:.0f} s.")
            time.sleep(0.2)
        return time.monotonic() - start

    def api(self, path: str) -> str:
        """The URL of the server's REST endpoint ``/api/<path>``, with the token."""
        return f"{self.base}/api/{path}?token={self.token}"

    def answers(self, url: str, timeout: float = 10.0) -> bool:
        return _answers(url, timeout)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (JupyterLab then shuts its kernels down), then SIGKILL after ``timeout`` s. Idempotent."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._settings is not None:
            shutil.rmtree(self._settings, ignore_errors=True)
            self._settings = None

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Stopped(BaseException):
    """Raised in the main thread when ``nnlab lab`` receives SIGTERM or SIGHUP."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP (a plain ``kill``, a closed terminal) into ``Stopped``, so ``finally`` runs."""

    stopping = []

    def _raise(signum: int, frame: object) -> None:
        if not stopping:  # the first signal stops the server; more while it stops are ignored
            stopping.append(signum)
            raise Stopped(signum)

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), _raise) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
