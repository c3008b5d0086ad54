"""Where ``nnlab lab`` finds the notebooks, and the student's workspace it copies them into.

In a checkout of the repository, the book is ``book/`` and the exercises ``exercises/``. An installed
wheel carries the same notebooks as package data (``nnlab/_notebooks/``, filled at wheel-build time by
``setup.py`` with ``shipped_files``; never a second copy in the repository). Outside a checkout,
``sync`` copies them once into a workspace folder; a later version never overwrites a notebook the
student has edited: the new one is put beside it, and ``sync`` says so.

This module uses the standard library only: ``setup.py`` loads it by path while the wheel is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PACKAGED",
    "Location",
    "checkout_root",
    "default_workdir",
    "locate",
    "packaged_notebooks",
    "shipped_files",
    "sync",
]

PACKAGED = "_notebooks"  # the folder inside the installed package that holds book/ and exercises/
MANIFEST = Path(".nnlab") / "workspace.json"  # in a workspace: what was copied, with its SHA-256
_SKIP = {"source", "__pycache__", ".ipynb_checkpoints"}


def shipped_files(root: Path) -> Iterator[tuple[str, Path]]:
    """The files a wheel carries, as ``(relative path, file)``: the book and the student exercise notebooks.

    ``book/``: every file except the jupytext sources (``book/source/``), checkpoints and hidden files.
    ``exercises/``: the student notebooks at its top level (``exercises/*.ipynb``) and its README;
    sources and solutions live in subfolders and are never shipped.
    """
    book = root / "book"
    for path in sorted(book.rglob("*")):
        parts = path.relative_to(book).parts
        if path.is_file() and not any(p in _SKIP or p.startswith(".") for p in parts):
            yield path.relative_to(root).as_posix(), path
    exercises = root / "exercises"
    for path in sorted([*exercises.glob("*.ipynb"), *exercises.glob("README.md")]):
        if path.is_file() and not path.name.startswith("."):
            yield path.relative_to(root).as_posix(), path


def checkout_root(folder: Path) -> Path | None:
    """``folder`` if it is a checkout of the nnlab repository (it has ``book/`` and ``pyproject.toml``)."""
    folder = Path(folder)
    if (folder / "book").is_dir() and (folder / "pyproject.toml").is_file() and (folder / "nnlab").is_dir():
        return folder
    return None


def packaged_notebooks() -> Path | None:
    """The notebooks an installed wheel carries, or None (an editable install reads the checkout)."""
    folder = Path(__file__).resolve().parent / PACKAGED
    return folder if (folder / "book").is_dir() else None


def default_workdir() -> Path:
    """``<Documents>/nnlab`` when the user has a Documents folder, else ``~/nnlab``."""
    home = Path.home()
    documents = home / "Documents"
    try:
        import platformdirs

        documents = Path(platformdirs.user_documents_dir())
    except ImportError:
        pass
    return (documents if documents.is_dir() else home) / "nnlab"


@dataclass(frozen=True)
class Location:
    """What ``nnlab lab`` serves: ``root`` (JupyterLab's root folder), opened at ``root / start_in``.

    ``kind`` is ``"checkout"`` (the repository), ``"workspace"`` (a copy for a student, see ``sync``),
    or ``"folder"`` (a folder given with ``--dir``, served as it is).
    """

    root: Path
    start_in: str
    kind: str


def locate(*, directory: Path | None, workdir: Path | None, cwd: Path | None = None) -> Location:
    """Where ``nnlab lab`` opens, in this order: ``--dir``; ``--workdir``; the checkout the current
    folder is; a workspace the current folder is; the checkout this package was installed from
    (``pip install -e``); else a workspace at ``default_workdir()``.
    """
    cwd = Path.cwd() if cwd is None else Path(cwd)
    if directory is not None:
        return Location(Path(directory).resolve(), "", "folder")
    if workdir is not None:
        return Location(Path(workdir).expanduser().resolve(), "book", "workspace")
    here = checkout_root(cwd)
    if here is not None:
        return Location(here.resolve(), "book", "checkout")
    if (cwd / MANIFEST).is_file():
        return Location(cwd.resolve(), "book", "workspace")
    source = checkout_root(Path(__file__).resolve().parents[1])
    if source is not None:
        return Location(source, "book", "checkout")
    return Location(default_workdir().resolve(), "book", "workspace")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(workdir: Path) -> dict[str, str]:
    try:
        data = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("files", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_manifest(workdir: Path, files: dict[str, str], version: str) -> None:
    path = workdir / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"nnlab": version, "files": dict(sorted(files.items()))}, indent=1) + "\n")
    os.replace(tmp, path)


def _beside(dest: Path, version: str, new_sha: str, copied: dict[str, str], workdir: Path) -> Path:
    """A name next to ``dest`` for the new version: ``01_perceptron.nnlab-0.2.0.ipynb`` (then ``-2``, ...).

    A name already holding this very version, or an unedited copy of an earlier one, is reused.
    """
    for n in range(1, 1000):
        tag = f".nnlab-{version}" + (f"-{n}" if n > 1 else "")
        candidate = dest.with_name(dest.stem + tag + dest.suffix)
        if not candidate.exists():
            return candidate
        current = _sha256(candidate)
        if current == new_sha or current == copied.get(candidate.relative_to(workdir).as_posix()):
            return candidate
    raise RuntimeError(f"no free name beside {dest}")  # pragma: no cover - a thousand versions


def sync(source: Path, workdir: Path, version: str) -> list[str]:
    """Copy the notebooks under ``source`` into ``workdir``, never overwriting a student's edits.

    For each file: a missing one is copied (a notebook the student deleted comes back fresh); one
    equal to the new version is left alone; one still as nnlab copied it is updated; one the student
    edited is kept, and the new version goes beside it under a name with the version, with a line
    that says so. ``workdir/.nnlab/workspace.json`` records the SHA-256 of each file as copied.

    Returns the lines to print.
    """
    source, workdir = Path(source), Path(workdir)
    copied = _read_manifest(workdir)
    first_time = not (workdir / MANIFEST).is_file()
    new, updated, messages = [], [], []
    for rel, path in shipped_files(source):
        new_sha = _sha256(path)
        dest = workdir / rel
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            copied[rel] = new_sha
            new.append(rel)
            continue
        current = _sha256(dest)
        if current == new_sha:
            copied[rel] = new_sha
        elif current == copied.get(rel):  # untouched since nnlab copied it: safe to update
            shutil.copyfile(path, dest)
            copied[rel] = new_sha
            updated.append(rel)
        else:  # the student's own version: keep it
            beside = _beside(dest, version, new_sha, copied, workdir)
            beside_rel = beside.relative_to(workdir).as_posix()
            if not beside.exists() or _sha256(beside) != new_sha:
                shutil.copyfile(path, beside)
                messages.append(
                    f"  {rel}: you have edited it, so it is kept as it is; nnlab {version}'s version is"
                    f" beside it as {beside_rel}."
                )
            copied[beside_rel] = new_sha
    _write_manifest(workdir, copied, version)
    if first_time:
        book = sum(rel.startswith("book/") and rel.endswith(".ipynb") for rel in new)
        exercises = sum(rel.startswith("exercises/") and rel.endswith(".ipynb") for rel in new)
        head = (
            f"nnlab lab: copied the book ({book} chapter{'s' * (book != 1)}) and the exercises"
            f" ({exercises} notebook{'s' * (exercises != 1)}) into {workdir}; your changes stay there."
        )
        return [head, *messages]
    lines = []
    if new:
        lines.append(f"nnlab lab: added to {workdir}: {', '.join(new)}.")
    if updated:
        lines.append(
            f"nnlab lab: updated to nnlab {version} (you had not edited them): {', '.join(updated)}."
        )
    return lines + messages
