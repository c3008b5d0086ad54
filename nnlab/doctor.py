"""``nnlab doctor``: is this machine ready for the book? One line per component, and the command that fixes it.

Each line is ``OK``, ``NOTE`` (an optional part is missing; the book runs without it) or ``PROBLEM``
(something the book needs is missing or broken). Missing packages are fixed by one command at the end,
which installs nnlab's extras that hold them (``pip install "nnlab[book,torch]"`` in a bare install).
The exit status is 1 when there is a problem.
Whether PyTorch, MNIST and scikit-learn are needed is read from the chapters themselves: a part is
needed when a chapter's code uses it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from . import __version__
from ._workspace import MANIFEST, Location, checkout_root, locate, notebook_source, packaged_notebooks

__all__ = ["Check", "checks", "main"]


@dataclass(frozen=True)
class Check:
    """One line of the report: ``status`` is ``"OK"``, ``"NOTE"`` or ``"PROBLEM"``; ``fix`` a command."""

    status: str
    name: str
    detail: str
    fix: str = ""
    extra: str = ""  # the nnlab extra that installs what is missing ("book", "torch"); fixed all at once

    def line(self) -> str:
        text = f"  {self.status:<8} {self.name:<13}{self.detail}"
        return text + (f"\n  {'':<8} {'':<13}Fix: {self.fix}" if self.fix else "")


def _python() -> str:
    """How to call this Python: ``python`` when that is it, else its full path."""
    on_path = shutil.which("python")
    try:
        if on_path and os.path.samefile(on_path, sys.executable):
            return "python"
    except OSError:
        pass
    return shlex.quote(sys.executable)


def _pip(*requirements: str) -> str:
    return f"{_python()} -m pip install " + " ".join(shlex.quote(r) for r in requirements)


def install_extras(extras: list[str]) -> str:
    """The one command that installs nnlab with ``extras``: ``python -m pip install "nnlab[book,torch]"``.

    For an editable install (a checkout, ``pip install -e``) it reinstalls that checkout, never the
    package index's nnlab in its place. Double quotes, so that it works in every shell, Windows' included.
    """
    wanted = ",".join(sorted(set(extras)))
    checkout = None if packaged_notebooks() else checkout_root(Path(__file__).resolve().parents[1])
    if checkout is None:
        return f'{_python()} -m pip install "nnlab[{wanted}]"'
    try:
        here = os.path.samefile(checkout, os.getcwd())
    except OSError:
        here = False
    return f'{_python()} -m pip install -e "{"." if here else checkout}[{wanted}]"'


# Packages that take seconds to import: found, and their version read, without importing them.
_FOUND_NOT_IMPORTED = {"jupyterlab": "jupyterlab", "ipykernel": "ipykernel", "sklearn": "scikit-learn"}


def _module(name: str):
    """The imported module (or, for the slow ones, its version), or the one-line reason it is missing."""
    try:
        if name in _FOUND_NOT_IMPORTED:
            if importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return SimpleNamespace(__version__=importlib.metadata.version(_FOUND_NOT_IMPORTED[name])), ""
        return importlib.import_module(name), ""
    except Exception as exc:  # an ImportError, or a broken install that fails while importing
        return None, f"{type(exc).__name__}: {exc}".splitlines()[0]


def _version(module) -> str:
    return str(getattr(module, "__version__", "(version unknown)"))


def _book_code(where: Location) -> str:
    """The code cells of the book's chapters, joined: used to tell which optional parts the book needs."""
    source = notebook_source()
    folders = [where.root / "book"] if source is None else [source / "book", where.root / "book"]
    for folder in folders:
        notebooks = sorted(folder.glob("*.ipynb"))
        if notebooks:
            code = []
            for path in notebooks:
                try:
                    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
                except (OSError, ValueError, KeyError):
                    continue
                code += ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
            return "\n".join(code)
    return ""


def _needs_mnist(code: str) -> bool:
    """A chapter needs MNIST when it loads it without ``fallback="digits"`` (the offline 8x8 digits)."""
    return any("fallback" not in args for args in re.findall(r"load_mnist\(([^)]*)\)", code))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _needed(uses: bool) -> str:
    return "PROBLEM" if uses else "NOTE"


def _device_check(torch) -> Check:
    from ._device import device

    requested = os.environ.get("NNLAB_DEVICE", "").strip()
    try:
        chosen = device()
    except ValueError as exc:
        return Check("PROBLEM", "device", str(exc), "unset NNLAB_DEVICE")
    if requested:
        why = f"NNLAB_DEVICE={requested}"
    elif chosen.type == "cuda":
        why = f"{torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda}"
    elif chosen.type == "mps":
        why = "Apple GPU (MPS)"
    elif torch.version.cuda is None:
        why = "this PyTorch build has no CUDA support; no Apple GPU"
    else:
        why = f"PyTorch has CUDA {torch.version.cuda} but sees no GPU; no Apple GPU"
    return Check("OK", "device", f"{chosen} ({why}); NNLAB_DEVICE=cpu|cuda|mps chooses another")


def _major(module) -> int:
    """The major version number; a large one when it cannot be read (then no version check fails)."""
    head = _version(module).split(".")[0]
    return int(head) if head.isdigit() else 999


def _widgets_front_end(ipywidgets) -> Check:
    """The JupyterLab extension that draws the widgets, in the labextensions folders JupyterLab reads."""
    major = _major(ipywidgets)
    # ipywidgets 8 needs the front end of jupyterlab_widgets 3 (manager 5.x); ipywidgets 7 that of 1.x (3.x)
    wanted, fix_spec = {8: ("5", "jupyterlab_widgets>=3,<4"), 7: ("3", "jupyterlab_widgets>=1,<2")}.get(
        major, ("5", "jupyterlab_widgets>=3,<4")
    )
    try:
        from jupyter_core.paths import jupyter_path

        folders = [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        folders = [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]
    for folder in folders:
        package = folder / "@jupyter-widgets" / "jupyterlab-manager" / "package.json"
        if package.is_file():
            try:
                found = str(json.loads(package.read_text(encoding="utf-8")).get("version", "?"))
            except (OSError, ValueError):
                found = "?"
            if found.split(".")[0] == wanted:
                return Check("OK", "front end", f"the widgets' JupyterLab front end {found}, in {folder}")
            return Check(
                "PROBLEM",
                "front end",
                f"the widgets' JupyterLab front end is {found}, made for another ipywidgets: sliders would show as text",
                _pip(fix_spec),
            )
    return Check(
        "PROBLEM",
        "front end",
        "the widgets' JupyterLab front end is not installed: sliders would show as text, not as sliders",
        _pip(fix_spec),
    )


def _mnist_check(needed: bool) -> Check:
    try:
        from .data import _MNIST_STEMS, _mnist_dir
    except ImportError as exc:
        return Check("NOTE", "MNIST", f"not checked ({exc})")
    folder = _mnist_dir(None)
    missing = [
        split
        for split, stems in _MNIST_STEMS.items()
        if not all((folder / s).is_file() or (folder / f"{s}.gz").is_file() for s in stems)
    ]
    if not missing:
        return Check("OK", "MNIST", f"cached in {folder}")
    splits = "the training and test sets are" if len(missing) == 2 else f"the {missing[0]} set is"
    calls = "; ".join(f"load_mnist({s!r})" for s in missing)
    why = "a chapter loads it" if needed else "no chapter of this book needs it yet"
    return Check(
        _needed(needed),
        "MNIST",
        f"{splits} not cached in {folder} ({why}; NNLAB_DATA_DIR chooses the folder)",
        f'{_python()} -c "from nnlab.data import load_mnist; {calls}"  (downloads about 11 MB)',
    )


def _notebooks_check(where: Location) -> list[Check]:
    """Where the book and the exercises come from, and the workspace ``nnlab lab`` opens."""
    source = notebook_source()
    if source is None:
        return [
            Check(
                "PROBLEM",
                "book",
                "not found: the installed package carries no notebooks",
                f'{_python()} -m pip install --force-reinstall "nnlab[book]"',
            )
        ]
    chapters = len(list((source / "book").glob("*.ipynb")))
    exercises = len(list((source / "exercises").glob("*.ipynb")))
    origin = "ship with nnlab" if source == packaged_notebooks() else f"are in the checkout {source}"
    state = "is there" if (where.root / MANIFEST).is_file() else "is created by the first nnlab lab"
    return [
        Check("OK", "book", f"{_count(chapters, 'chapter')} {origin}; nnlab lab opens them in {where.root}"),
        Check("OK", "exercises", f"{_count(exercises, 'exercise notebook')} {origin}; the workspace {state}"),
    ]


def checks() -> list[Check]:
    """Every check, in the order the report prints them."""
    where = locate(directory=None, workdir=None)
    code = _book_code(where)
    uses_torch = bool(re.search(r"\btorch\b|torch_nn|nnlab\.device\b", code))
    uses_mnist = _needs_mnist(code)
    uses_sklearn = bool(re.search(r"\bsklearn\b|fallback=[\"']digits", code))

    version = ".".join(map(str, sys.version_info[:3]))
    out = [
        Check("OK", "Python", f"{version} at {sys.executable}")
        if sys.version_info >= (3, 10)
        else Check(
            "PROBLEM", "Python", f"{version}: the book needs 3.10 or newer", "install Python 3.10 or newer"
        ),
        Check("OK", "nnlab", f"{__version__} at {Path(__file__).resolve().parent}"),
    ]
    needed = [  # module, label, title, needed, requirement, the nnlab extra that installs it
        ("numpy", "numpy", "NumPy", True, "numpy>=1.24", ""),
        ("matplotlib", "matplotlib", "matplotlib", True, "matplotlib>=3.7", "book"),
        ("ipywidgets", "ipywidgets", "ipywidgets", True, "ipywidgets>=7.6", "book"),
        ("jupyterlab", "jupyterlab", "JupyterLab", True, "jupyterlab>=4", "book"),
        ("ipykernel", "ipykernel", "ipykernel", True, "ipykernel>=6", "book"),
        ("torch", "torch", "PyTorch", uses_torch, "torch>=2.1", "torch"),
        ("sklearn", "scikit-learn", "scikit-learn", uses_sklearn, "scikit-learn>=1.2", "book"),
    ]
    for module_name, label, title, is_needed, requirement, extra in needed:
        module, why = _module(module_name)
        if module is None:
            status = "PROBLEM" if is_needed else "NOTE"
            role = "the book needs it" if is_needed else "optional: no chapter of this book uses it yet"
            fix = "" if extra else _pip(requirement)  # the extras are installed by one command at the end
            out.append(Check(status, label, f"not importable ({why}); {role}", fix, extra=extra))
            continue
        detail = f"{title} {_version(module)}"
        if module_name == "jupyterlab" and _major(module) < 4:
            out.append(Check("PROBLEM", label, f"{detail}: the book needs JupyterLab 4", _pip(requirement)))
            continue
        out.append(Check("OK", label, detail))
        if module_name == "ipywidgets":
            out.append(_widgets_front_end(module))
        if module_name == "torch":
            out.append(_device_check(module))
    out.append(_mnist_check(uses_mnist))
    out += _notebooks_check(where)
    return out


def main() -> int:
    """Print the report; 1 when something the book needs is missing, else 0."""
    print("nnlab doctor: what the book needs, on this machine")
    found = checks()
    for check in found:
        print(check.line())
    extras = [c.extra for c in found if c.extra and c.status != "OK"]
    problems = [c for c in found if c.status == "PROBLEM"]
    if problems:
        how = " (each Fix line above says how)" if any(c.fix for c in problems) else ""
        n = len(problems)
        print(f"{n} problem{'s' * (n != 1)}: the book needs {'them' if n > 1 else 'it'} fixed{how}.")
    if extras:
        print(f"One command installs every package missing above:\n    {install_extras(extras)}")
    if problems:
        return 1
    print("Everything the book needs is here.")
    return 0
