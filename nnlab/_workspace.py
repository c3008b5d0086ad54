"""Where ``nnlab lab`` opens: the student's workspace, into which it copies the book and the exercises.

A student always works in a workspace, a folder of their own (``Documents/nnlab-workspace`` or
``~/nnlab-workspace`` by default, ``--workdir`` chooses another) that holds ``README.md`` (for
students), ``book/`` and the student exercise notebooks in ``exercises/``; never the solutions or the
hidden tests. That holds
however nnlab was installed:

- from a wheel, the notebooks come from the package itself (``nnlab/_notebooks/``, filled at
  wheel-build time by ``setup.py`` with ``shipped_files``; never a second copy in the repository);
- from a checkout with ``pip install -e``, they come from that checkout's ``book/`` and ``exercises/``.

``nnlab lab`` opens the workspace wherever it is started, inside a checkout too (its subfolders
included): a checkout's ``exercises/`` holds the solutions, and ``python -m pytest`` runs every
notebook in it, so a student's answers do not belong there. Opening the repository itself is a
developer's explicit choice, ``nnlab lab --dir .``. With a wheel, the workspace is filled from the
wheel's notebooks, not from the checkout around the current folder.

``sync`` copies the notebooks and never overwrites one the student has edited: when nnlab ships a
changed version of it, the new one is put beside it once, and ``sync`` says so.

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
    "MANIFEST",
    "PACKAGED",
    "STUDENT_README",
    "Location",
    "WorkspaceError",
    "check_workdir",
    "checkout_around",
    "checkout_root",
    "default_workdir",
    "locate",
    "notebook_source",
    "packaged_notebooks",
    "shipped_files",
    "sync",
]

PACKAGED = "_notebooks"  # the folder inside the installed package that holds book/ and exercises/
MANIFEST = Path(".nnlab") / "workspace.json"  # in a workspace: what nnlab copied, with its SHA-256
# The students' README: in a checkout it is this file; in a workspace (and in the wheel) it is README.md
# at the top. The instructors' exercises/README.md is never shipped.
STUDENT_README = "exercises/STUDENT_README.md"
_SKIP = {"source", "__pycache__", ".ipynb_checkpoints"}


class WorkspaceError(ValueError):
    """A workspace folder that cannot be used; the message says why and what to do instead."""


def shipped_files(root: Path) -> Iterator[tuple[str, Path]]:
    """The files a workspace (and a wheel) gets, as ``(relative path, file)``.

    ``book/``: every file except the jupytext sources (``book/source/``), checkpoints and hidden files.
    ``exercises/``: the student notebooks at its top level (``exercises/*.ipynb``); sources, solutions
    and hidden tests live in subfolders and are never shipped. ``README.md``: the students' README
    (``exercises/STUDENT_README.md`` in a checkout; ``README.md`` in the wheel's copy).
    """
    root = Path(root)
    book = root / "book"
    for path in sorted(book.rglob("*")):
        parts = path.relative_to(book).parts
        if path.is_file() and not any(p in _SKIP or p.startswith(".") for p in parts):
            yield path.relative_to(root).as_posix(), path
    for path in sorted((root / "exercises").glob("*.ipynb")):
        if path.is_file() and not path.name.startswith("."):
            yield path.relative_to(root).as_posix(), path
    readme = root / STUDENT_README
    if not readme.is_file() and not (root / "pyproject.toml").exists():  # the wheel's copy
        readme = root / "README.md"
    if readme.is_file():
        yield "README.md", readme


def checkout_root(folder: Path) -> Path | None:
    """``folder`` if it is a checkout of the nnlab repository (``book/``, ``nnlab/``, ``pyproject.toml``)."""
    folder = Path(folder)
    if (folder / "book").is_dir() and (folder / "pyproject.toml").is_file() and (folder / "nnlab").is_dir():
        return folder
    return None


def checkout_around(folder: Path) -> Path | None:
    """The checkout ``folder`` is in (itself or one of its parents), or None."""
    folder = Path(folder).resolve()
    return next((f for f in (folder, *folder.parents) if checkout_root(f) is not None), None)


def _workspace_around(folder: Path) -> Path | None:
    """The workspace ``folder`` is in (itself or a parent holding ``.nnlab/workspace.json``), or None."""
    folder = Path(folder).resolve()
    return next((f for f in (folder, *folder.parents) if (f / MANIFEST).is_file()), None)


def packaged_notebooks() -> Path | None:
    """The notebooks an installed wheel carries, or None (an editable install has none)."""
    folder = Path(__file__).resolve().parent / PACKAGED
    return folder if (folder / "book").is_dir() else None


def notebook_source() -> Path | None:
    """Where a workspace's notebooks come from: the wheel's copy, else the checkout of an editable install."""
    return packaged_notebooks() or checkout_root(Path(__file__).resolve().parents[1])


def default_workdir() -> Path:
    """``<Documents>/nnlab-workspace`` when the user has a Documents folder, else ``~/nnlab-workspace``.

    Not ``nnlab``: that is the folder ``git clone`` makes, often in the same place. A workspace that
    nnlab 0.1.0 made at ``<Documents or home>/nnlab`` is still used.
    """
    home = Path.home()
    documents = home / "Documents"
    try:
        import platformdirs

        documents = Path(platformdirs.user_documents_dir())
    except ImportError:
        pass
    base = documents if documents.is_dir() else home
    if (base / "nnlab" / MANIFEST).is_file():  # made by nnlab 0.1.0
        return base / "nnlab"
    return base / "nnlab-workspace"


@dataclass(frozen=True)
class Location:
    """What ``nnlab lab`` serves: ``root`` (JupyterLab's root folder), opened at ``root / start_in``.

    ``kind`` is ``"workspace"`` (the student's copy, see ``sync``), ``"checkout"`` (the repository,
    given with ``--dir``) or ``"folder"`` (any other folder given with ``--dir``, served as it is).
    """

    root: Path
    start_in: str
    kind: str


def locate(*, directory: Path | None, workdir: Path | None, cwd: Path | None = None) -> Location:
    """Where ``nnlab lab`` opens, in this order: ``--dir`` (as it is); ``--workdir``; the workspace the
    current folder is in; else the workspace at ``default_workdir()``. A checkout is opened only with
    ``--dir``: started inside one, ``nnlab lab`` still opens the workspace.
    """
    cwd = Path.cwd() if cwd is None else Path(cwd)
    if directory is not None:
        folder = Path(directory).expanduser().resolve()
        if checkout_root(folder) is not None:
            return Location(folder, "book", "checkout")
        return Location(folder, "", "folder")
    if workdir is not None:
        return Location(Path(workdir).expanduser().resolve(), "book", "workspace")
    here = _workspace_around(cwd)
    if here is not None:
        return Location(here, "book", "workspace")
    return Location(default_workdir().resolve(), "book", "workspace")


def check_workdir(workdir: Path) -> None:
    """Raise ``WorkspaceError`` with a sentence when ``workdir`` cannot hold a workspace."""
    workdir = Path(workdir)
    existing = next((f for f in (workdir, *workdir.parents) if f.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is" if existing == workdir else f"is inside {existing}, which is"
        raise WorkspaceError(
            f"the workspace folder {workdir} {where} a file, not a folder. Give a folder for your notebooks"
            " (it is created if it does not exist), e.g. --workdir ~/nnlab-workspace."
        )
    checkout = checkout_around(workdir)
    if checkout is not None:
        raise WorkspaceError(
            f"the workspace folder {workdir} is inside the nnlab repository {checkout}, whose tests run"
            " every notebook there and whose exercises/ holds the solutions. Choose a folder outside it"
            f" (the default is {default_workdir()}), or open the repository itself as a developer:"
            f" nnlab lab --dir {checkout}"
        )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_manifest(workdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``written`` (each file as nnlab last wrote it) and ``shipped`` (the version of each shipped file
    nnlab last handled, copied or put beside), both as SHA-256. A manifest of nnlab 0.1.0 had only
    ``files``: what it wrote, copies beside included."""
    try:
        data = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
        written = {str(k): str(v) for k, v in data.get("files", {}).items()}
        if "shipped" in data:
            shipped = {str(k): str(v) for k, v in data["shipped"].items()}
        else:
            shipped = {k: v for k, v in written.items() if ".nnlab-" not in k}
        return written, shipped
    except (OSError, ValueError, AttributeError):
        return {}, {}


def _write_manifest(workdir: Path, written: dict[str, str], shipped: dict[str, str], version: str) -> None:
    path = workdir / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "nnlab": version,
        "files": dict(sorted(written.items())),
        "shipped": dict(sorted(shipped.items())),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _beside(dest: Path, version: str, new_sha: str, written: dict[str, str], workdir: Path) -> Path:
    """A name next to ``dest`` for nnlab's new version: ``01_perceptron.nnlab-0.2.0.ipynb`` (then ``-2``).

    A name already holding this very version, or an unedited copy of an earlier one, is reused.
    """
    for n in range(1, 1000):
        tag = f".nnlab-{version}" + (f"-{n}" if n > 1 else "")
        candidate = dest.with_name(dest.stem + tag + dest.suffix)
        if not candidate.exists():
            return candidate
        current = _sha256(candidate)
        if current == new_sha or current == written.get(candidate.relative_to(workdir).as_posix()):
            return candidate
    raise RuntimeError(f"no free name beside {dest}")  # pragma: no cover - a thousand versions


def sync(source: Path, workdir: Path, version: str) -> list[str]:
    """Copy the files ``shipped_files(source)`` lists into ``workdir``, never overwriting a student's edits.

    For each file: a missing one is copied (a notebook the student deleted comes back fresh, which is
    how to start one again); one still as nnlab wrote it is updated when nnlab ships a new version;
    one the student edited is kept, and only when nnlab ships a version that differs from the one it
    last handled is that version put beside it, once, under a name with the version, with a line that
    says so (relaunching the same nnlab adds nothing, and a deleted copy beside does not come back).
    A file nnlab no longer ships is removed if the student never edited it. What nnlab wrote and
    shipped is recorded in ``workdir/.nnlab/workspace.json``.

    Returns the lines to print.
    """
    source, workdir = Path(source), Path(workdir)
    written, shipped = _read_manifest(workdir)
    first_time = not (workdir / MANIFEST).is_file()
    new, updated, removed, messages = [], [], [], []
    now = dict(shipped_files(source))
    for rel, path in now.items():
        new_sha = _sha256(path)
        dest = workdir / rel
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            written[rel] = shipped[rel] = new_sha
            new.append(rel)
            continue
        current = _sha256(dest)
        if current == new_sha:
            written[rel] = shipped[rel] = new_sha
        elif current == written.get(rel):  # untouched since nnlab wrote it: safe to update
            shutil.copyfile(path, dest)
            written[rel] = shipped[rel] = new_sha
            updated.append(rel)
        elif new_sha == shipped.get(rel):  # the student's version, and nnlab's has not changed since
            continue
        else:  # the student's version, and nnlab ships a new one: keep theirs, put the new one beside
            beside = _beside(dest, version, new_sha, written, workdir)
            beside_rel = beside.relative_to(workdir).as_posix()
            if not beside.exists() or _sha256(beside) != new_sha:
                shutil.copyfile(path, beside)
                messages.append(
                    f"  {rel}: you have edited it, so it is kept as it is; nnlab {version}'s version is"
                    f" beside it as {beside_rel}."
                )
            written[beside_rel] = shipped[rel] = new_sha
    for rel in sorted(set(shipped) - set(now)):  # shipped by an earlier nnlab, no longer
        dest = workdir / rel
        if dest.is_file() and _sha256(dest) == written.get(rel):
            dest.unlink()
            removed.append(rel)
        written.pop(rel, None)
        del shipped[rel]
    _write_manifest(workdir, written, shipped, version)
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
    if removed:
        lines.append(
            f"nnlab lab: removed what nnlab {version} no longer ships (you had not edited it):"
            f" {', '.join(removed)}."
        )
    return lines + messages
