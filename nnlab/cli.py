"""The ``nnlab`` command: ``nnlab lab`` opens the book in JupyterLab; ``nnlab info`` shows the setup."""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["find_book", "main"]

# Keep JupyterLab from reaching for the internet: no news feed, no update checks, no extension manager.
_QUIET_LAB = [
    "--LabApp.news_url=",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]


def find_book(start: Path | None = None) -> Path:
    """The ``book/`` folder: under the current directory, or beside the installed ``nnlab`` source tree."""
    candidates = [(start or Path.cwd()) / "book", Path(__file__).resolve().parents[1] / "book"]
    for path in candidates:
        if path.is_dir():
            return path
    raise SystemExit(
        "nnlab lab could not find the book: looked for a 'book' folder in "
        + " and ".join(str(c.parent) for c in candidates)
        + ". Run it from the nnlab checkout, or pass --dir PATH."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def lab(directory: Path, *, port: int | None, check: bool, open_browser: bool, timeout: float) -> int:
    """Start JupyterLab on ``directory``; print its URL when it answers. ``check``: then stop it again."""
    port = port or _free_port()
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/lab?token={token}"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={directory}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        *_QUIET_LAB,
    ]  # fmt: skip
    if check or not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        cmd.append("--allow-root")
    log = subprocess.DEVNULL if check else None
    # The PID we hold is the server's own (no shell in between), so stopping it stops the server.
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT if check else None)
    start = time.monotonic()
    try:
        while not _answers(f"{base}/api/status?token={token}"):
            if proc.poll() is not None:
                print(
                    f"nnlab lab: JupyterLab exited with code {proc.returncode} before it answered.",
                    file=sys.stderr,
                )
                return 1
            if time.monotonic() - start > timeout:
                print(
                    f"nnlab lab: JupyterLab did not answer on {base} within {timeout:.0f} s.", file=sys.stderr
                )
                return 1
            time.sleep(0.25)
        waited = time.monotonic() - start
        if check:
            page_ok = _answers(url, timeout=10)
            print(
                f"nnlab lab --check: JupyterLab answered on {base} after {waited:.1f} s"
                f" (book: {directory}; /lab page {'served' if page_ok else 'NOT served'}); stopping it."
            )
            return 0 if page_ok else 1
        print(f"\nThe nnlab book is open at:\n\n    {url}\n\nPress Ctrl-C to stop the server.\n", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(proc)


def info() -> int:
    """Print versions and whether the optional parts (torch, widgets, MNIST cache) are there."""
    import importlib.util

    import numpy as np

    from . import __version__

    print(f"nnlab {__version__}, Python {sys.version.split()[0]}, NumPy {np.__version__}")
    for name in ("torch", "jupyterlab", "ipywidgets", "matplotlib", "sklearn"):
        print(f"  {name:<11}{'installed' if importlib.util.find_spec(name) else 'not installed'}")
    if importlib.util.find_spec("torch"):
        from . import device

        print(f"  device     {device()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nnlab", description="nnlab: an interactive textbook on neural networks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_lab = sub.add_parser("lab", help="open the book in JupyterLab")
    p_lab.add_argument("--dir", type=Path, default=None, help="the folder to open (default: the book)")
    p_lab.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    p_lab.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p_lab.add_argument(
        "--check",
        action="store_true",
        help="start the server, check it answers on 127.0.0.1, stop it (for CI)",
    )
    p_lab.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the server")
    sub.add_parser("info", help="show versions and optional components")
    args = parser.parse_args(argv)
    if args.command == "lab":
        directory = (args.dir or find_book()).resolve()
        if not directory.is_dir():
            parser.error(f"--dir {directory} is not a folder")
        os.environ.setdefault("NNLAB_BOOK", str(directory))
        return lab(
            directory,
            port=args.port,
            check=args.check,
            open_browser=not args.no_browser,
            timeout=args.timeout,
        )
    return info()


if __name__ == "__main__":
    raise SystemExit(main())
