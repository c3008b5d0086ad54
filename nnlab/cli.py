"""The ``nnlab`` command: ``nnlab lab`` opens the book in JupyterLab; ``nnlab doctor`` checks the setup."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import __version__
from ._lab import LOCAL, LabError, LabServer, Stopped, missing_jupyterlab, port_in_use, stop_on_signals
from ._workspace import (
    Location,
    WorkspaceError,
    check_workdir,
    checkout_around,
    locate,
    notebook_source,
    sync,
)

__all__ = ["main"]


def _prepare(where: Location) -> list[str]:
    """Make sure ``where`` holds the notebooks; copy them into a workspace first if needed.

    Returns lines to print; raises SystemExit with a sentence when there is nothing to open.
    """
    if where.kind != "workspace":
        return []
    try:
        check_workdir(where.root)
    except WorkspaceError as exc:
        raise SystemExit(f"nnlab lab: {exc}") from None
    source = notebook_source()  # the wheel's notebooks, or the checkout of an editable install
    if source is None:
        if (where.root / "book").is_dir():
            return []
        raise SystemExit(
            "nnlab lab could not find the book: the installed package carries no notebooks. Reinstall"
            ' it: pip install --force-reinstall "nnlab[book]", or open a folder that holds the book with'
            " --dir PATH."
        )
    try:
        return sync(source, where.root, __version__)
    except OSError as exc:
        raise SystemExit(
            f"nnlab lab could not copy the book into {where.root}: {exc.strerror or exc}"
            f"{f' ({exc.filename})' if exc.filename else ''}. Choose another folder with --workdir DIR."
        ) from None


def _checkout_note(where: Location, cwd: Path) -> str | None:
    """Started inside a checkout but opening the workspace: say so, and how a developer opens the checkout."""
    checkout = checkout_around(cwd)
    if checkout is None or where.kind != "workspace":
        return None
    return (
        f"nnlab lab: opening your workspace {where.root}, not the repository {checkout} (its exercises/"
        f" holds the solutions). To open the repository itself, as a developer: nnlab lab --dir {checkout}"
    )


def _listing(server: LabServer, folder: str) -> list[str]:
    """The notebooks the running server shows in ``folder`` (through its REST API, as the browser would)."""
    try:
        with LOCAL.open(server.api(f"contents/{folder}"), timeout=10) as response:
            content = json.load(response).get("content") or []
    except (OSError, ValueError):
        return []
    return sorted(item["name"] for item in content if item.get("name", "").endswith(".ipynb"))


def _log_tail(log, lines: int = 8) -> str:
    """The last lines JupyterLab wrote to ``log`` (a temporary file), indented; empty if none."""
    if log is None or log is subprocess.DEVNULL:
        return ""
    log.flush()
    log.seek(0)
    tail = log.read().decode(errors="replace").strip().splitlines()[-lines:]
    return "".join(f"\n    {line}" for line in tail)


def lab(
    where: Location,
    *,
    port: int | None,
    check: bool,
    open_browser: bool,
    timeout: float,
    verbose: bool = False,
    cwd: Path | None = None,
) -> int:
    """Start JupyterLab on ``where``; print its URL when it answers. ``check``: report, then stop it again.

    What would stop JupyterLab from starting (not installed, the port taken) is checked first, before
    anything is copied into the workspace.
    """
    problem = missing_jupyterlab() or (port_in_use(port) if port else None)
    if problem:
        print(f"nnlab lab: {problem}", file=sys.stderr)
        return 1
    note = _checkout_note(where, Path.cwd() if cwd is None else cwd)
    if note:
        print(note)
    for line in _prepare(where):
        print(line)
    os.environ.setdefault("NNLAB_BOOK", str(where.root / where.start_in))
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(tempfile.TemporaryFile()) if check else None
        server = LabServer(
            where.root,
            start_in=where.start_in,
            port=port,
            open_browser=open_browser and not check,
            log=log,
            quiet=not verbose,
        )
        try:
            with stop_on_signals(), server:
                try:
                    waited = server.start(timeout)
                except LabError as exc:
                    taken = port_in_use(server.port)  # taken between our look and the server's start
                    print(f"nnlab lab: {taken or exc}{'' if taken else _log_tail(log)}", file=sys.stderr)
                    return 1
                if check:
                    page_ok = server.answers(server.url)
                    found, book = "", [""]
                    if where.start_in:
                        book = _listing(server, where.start_in)
                        exercises = _listing(server, "exercises")
                        found = (
                            f"; it shows {len(book)} notebook(s) in book/ and {len(exercises)} in exercises/"
                        )
                    print(
                        f"nnlab lab --check: JupyterLab answered on {server.base} after {waited:.1f} s"
                        f" ({where.kind}: {where.root}; /lab page {'served' if page_ok else 'NOT served'}{found});"
                        " stopping it."
                    )
                    return 0 if page_ok and book else 1  # a book folder without a chapter fails too
                print(
                    f"\nThe nnlab book is open at:\n\n    {server.url}\n\n"
                    f"Your notebooks are saved in {where.root}. Press Ctrl-C to stop the server.\n",
                    flush=True,
                )
                return server.proc.wait()
        except (KeyboardInterrupt, Stopped):
            return 0
    return 0  # pragma: no cover - every path above returns


def _port(text: str) -> int:
    """``--port``: a whole number from 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nnlab", description="nnlab: an interactive textbook on neural networks."
    )
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_lab = sub.add_parser(
        "lab",
        help="open the book in JupyterLab",
        description="Open the book in JupyterLab, in your workspace: a folder of your own"
        " (Documents/nnlab-workspace or ~/nnlab-workspace, or --workdir DIR) into which it copies the"
        " book and the exercise notebooks, never overwriting a notebook you have edited. It opens the"
        " workspace wherever it is started, inside a checkout of the repository too; developers open the"
        " repository itself with --dir PATH.",
    )
    where = p_lab.add_mutually_exclusive_group()
    where.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="your workspace folder: the notebooks are copied there"
        " (default: Documents/nnlab-workspace or ~/nnlab-workspace)",
    )
    where.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="open this folder as it is, copying nothing (e.g. --dir . in a checkout, for developers)",
    )
    p_lab.add_argument("--port", type=_port, default=None, help="port on 127.0.0.1 (default: a free one)")
    p_lab.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p_lab.add_argument(
        "--check",
        action="store_true",
        help="start the server, check it answers on 127.0.0.1 and shows the notebooks, stop it (for CI)",
    )
    p_lab.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the server")
    p_lab.add_argument(
        "--verbose", action="store_true", help="show JupyterLab's own log, not only its warnings and errors"
    )
    sub.add_parser("doctor", help="check that everything the book needs is installed, and say how to fix it")
    sub.add_parser("info", help="the same as doctor")
    from .exercises import assign  # its arguments and behaviour live there; importing it loads nothing heavy

    assign.add_parser(sub)
    from .grading import grader  # the same: its parser imports nothing heavy

    grader.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "assign":
        return assign.run(args)
    if args.command == "grade":
        return grader.run_cli(args, reap=argv is None)
    if args.command == "lab":
        if args.dir is not None and not args.dir.expanduser().is_dir():
            kind = "a file" if args.dir.expanduser().exists() else "not there"
            print(f"nnlab lab: --dir {args.dir} is {kind}: give a folder to open as it is.", file=sys.stderr)
            return 2
        where = locate(directory=args.dir, workdir=args.workdir)
        if args.workdir is not None:
            try:
                check_workdir(where.root)
            except WorkspaceError as exc:
                print(f"nnlab lab: --workdir: {exc}", file=sys.stderr)
                return 2
        return lab(
            where,
            port=args.port,
            check=args.check,
            open_browser=not args.no_browser,
            timeout=args.timeout,
            verbose=args.verbose,
        )
    from . import doctor

    return doctor.main()


if __name__ == "__main__":
    raise SystemExit(main())
