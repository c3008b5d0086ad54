"""The ``nnlab`` command: ``nnlab lab`` opens the book in JupyterLab; ``nnlab doctor`` checks the setup."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from . import __version__
from ._lab import LOCAL, LabError, LabServer, Stopped, stop_on_signals
from ._workspace import Location, checkout_root, locate, packaged_notebooks, sync

__all__ = ["main"]


def _prepare(where: Location) -> list[str]:
    """Make sure ``where`` holds the notebooks; copy them into a workspace first if needed.

    Returns lines to print; raises SystemExit with a sentence when there is nothing to open.
    """
    if where.kind != "workspace":
        return []
    source = packaged_notebooks()
    if source is None:  # an editable install: copy from the checkout it was installed from
        source = checkout_root(Path(__file__).resolve().parents[1])
    if source is None:
        if (where.root / "book").is_dir():
            return []
        raise SystemExit(
            "nnlab lab could not find the book: the current folder is no nnlab checkout, and the installed"
            " package carries no notebooks. Run it from your nnlab checkout, pass --dir PATH, or reinstall:"
            " pip install --force-reinstall nnlab"
        )
    return sync(source, where.root, __version__)


def _listing(server: LabServer, folder: str) -> list[str]:
    """The notebooks the running server shows in ``folder`` (through its REST API, as the browser would)."""
    try:
        with LOCAL.open(server.api(f"contents/{folder}"), timeout=10) as response:
            content = json.load(response).get("content") or []
    except (OSError, ValueError):
        return []
    return sorted(item["name"] for item in content if item.get("name", "").endswith(".ipynb"))


def lab(where: Location, *, port: int | None, check: bool, open_browser: bool, timeout: float) -> int:
    """Start JupyterLab on ``where``; print its URL when it answers. ``check``: report, then stop it again."""
    for line in _prepare(where):
        print(line)
    os.environ.setdefault("NNLAB_BOOK", str(where.root / where.start_in))
    server = LabServer(
        where.root,
        start_in=where.start_in,
        port=port,
        open_browser=open_browser and not check,
        log=subprocess.DEVNULL if check else None,
    )
    try:
        with stop_on_signals(), server:
            try:
                waited = server.start(timeout)
            except LabError as exc:
                print(f"nnlab lab: {exc}", file=sys.stderr)
                return 1
            if check:
                page_ok = server.answers(server.url)
                found, book = "", [""]
                if where.start_in:
                    book = _listing(server, where.start_in)
                    exercises = _listing(server, "exercises")
                    found = f"; it shows {len(book)} notebook(s) in book/ and {len(exercises)} in exercises/"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nnlab", description="nnlab: an interactive textbook on neural networks."
    )
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_lab = sub.add_parser(
        "lab",
        help="open the book in JupyterLab",
        description="Open the book in JupyterLab. In a checkout of the repository it opens book/, with"
        " exercises/ beside it; otherwise it copies the book and the exercises once into a workspace"
        " folder (--workdir) and opens that, never overwriting a notebook you have edited.",
    )
    where = p_lab.add_mutually_exclusive_group()
    where.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="your workspace folder: the notebooks are copied there (default: Documents/nnlab or ~/nnlab)",
    )
    where.add_argument("--dir", type=Path, default=None, help="open this folder as it is, copying nothing")
    p_lab.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    p_lab.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p_lab.add_argument(
        "--check",
        action="store_true",
        help="start the server, check it answers on 127.0.0.1 and shows the notebooks, stop it (for CI)",
    )
    p_lab.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the server")
    sub.add_parser("doctor", help="check that everything the book needs is installed, and say how to fix it")
    sub.add_parser("info", help="the same as doctor")
    from .exercises import assign  # its arguments and behaviour live there; importing it loads nothing heavy

    assign.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "assign":
        return assign.run(args)
    if args.command == "lab":
        if args.dir is not None and not args.dir.is_dir():
            parser.error(f"--dir {args.dir} is not a folder")
        return lab(
            locate(directory=args.dir, workdir=args.workdir),
            port=args.port,
            check=args.check,
            open_browser=not args.no_browser,
            timeout=args.timeout,
        )
    from . import doctor

    return doctor.main()


if __name__ == "__main__":
    raise SystemExit(main())
