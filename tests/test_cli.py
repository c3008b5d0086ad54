"""The ``nnlab`` command: where ``nnlab lab`` opens, the student's workspace, and stopping the server."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nnlab import __version__, cli
from nnlab._lab import LOCAL
from nnlab._workspace import MANIFEST, Location, locate, shipped_files, sync

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nnlab {__version__}"


def _checkout(folder: Path) -> Path:
    for sub in ("book", "exercises", "nnlab"):
        (folder / sub).mkdir(parents=True)
    (folder / "pyproject.toml").write_text("[project]\nname = 'nnlab'\n")
    return folder


def test_locate_in_order(tmp_path):
    here = _checkout(tmp_path / "clone")
    assert locate(directory=None, workdir=None, cwd=here) == Location(here.resolve(), "book", "checkout")
    assert locate(directory=tmp_path, workdir=None, cwd=here) == Location(tmp_path.resolve(), "", "folder")
    assert locate(directory=None, workdir=tmp_path / "w", cwd=here) == Location(
        (tmp_path / "w").resolve(), "book", "workspace"
    )
    # a workspace is recognised by its manifest when nnlab lab runs inside it
    (tmp_path / "ws" / MANIFEST).parent.mkdir(parents=True)
    (tmp_path / "ws" / MANIFEST).write_text("{}")
    assert locate(directory=None, workdir=None, cwd=tmp_path / "ws").kind == "workspace"
    # anywhere else, the checkout this package is installed from (the tests run from one)
    assert locate(directory=None, workdir=None, cwd=tmp_path) == Location(ROOT, "book", "checkout")


def _source(folder: Path, chapters: dict[str, str]) -> Path:
    for name, text in chapters.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_shipped_files_are_the_book_and_the_student_notebooks(tmp_path):
    src = _source(
        tmp_path,
        {
            "book/01_a.ipynb": "1",
            "book/images/fig.png": "png",
            "book/source/01_a.py": "jupytext source",
            "book/.ipynb_checkpoints/01_a-checkpoint.ipynb": "old",
            "exercises/01_a.ipynb": "student",
            "exercises/README.md": "readme",
            "exercises/source/01_a.ipynb": "solutions",
            "exercises/autograder/01_a.json": "hidden tests",
        },
    )
    assert [rel for rel, _ in shipped_files(src)] == [
        "book/01_a.ipynb",
        "book/images/fig.png",
        "exercises/01_a.ipynb",
        "exercises/README.md",
    ]


def test_workspace_copies_once_and_keeps_the_students_edits(tmp_path):
    v1 = _source(
        tmp_path / "v1", {"book/01_a.ipynb": "one", "book/02_b.ipynb": "two", "exercises/01_a.ipynb": "ex"}
    )
    work = tmp_path / "work"
    lines = sync(v1, work, "0.1.0")
    assert lines == [
        f"nnlab lab: copied the book (2 chapters) and the exercises (1 notebook) into {work}; your changes stay there."
    ]
    assert (work / "book" / "01_a.ipynb").read_text() == "one"
    assert sync(v1, work, "0.1.0") == []  # nothing new: nothing to say

    (work / "book" / "01_a.ipynb").write_text("my notes")  # the student edits chapter 1
    (work / "exercises" / "01_a.ipynb").unlink()  # and deletes an exercise notebook
    v2 = _source(
        tmp_path / "v2",
        {
            "book/01_a.ipynb": "one v2",
            "book/02_b.ipynb": "two v2",
            "book/03_c.ipynb": "three",
            "exercises/01_a.ipynb": "ex",
        },
    )
    lines = sync(v2, work, "0.2.0")
    assert (work / "book" / "01_a.ipynb").read_text() == "my notes"  # never overwritten
    assert (work / "book" / "01_a.nnlab-0.2.0.ipynb").read_text() == "one v2"  # the new version beside it
    assert (work / "book" / "02_b.ipynb").read_text() == "two v2"  # untouched by the student: updated
    assert (work / "book" / "03_c.ipynb").read_text() == "three"  # a new chapter
    assert (work / "exercises" / "01_a.ipynb").read_text() == "ex"  # a deleted notebook comes back fresh
    assert lines == [
        f"nnlab lab: added to {work}: book/03_c.ipynb, exercises/01_a.ipynb.",
        "nnlab lab: updated to nnlab 0.2.0 (you had not edited them): book/02_b.ipynb.",
        "  book/01_a.ipynb: you have edited it, so it is kept as it is; nnlab 0.2.0's version is beside it"
        " as book/01_a.nnlab-0.2.0.ipynb.",
    ]
    assert sync(v2, work, "0.2.0") == []  # said once, not at every start
    recorded = json.loads((work / MANIFEST).read_text())
    assert recorded["nnlab"] == "0.2.0" and "book/01_a.nnlab-0.2.0.ipynb" in recorded["files"]

    (work / "book" / "01_a.nnlab-0.2.0.ipynb").write_text("edited the new one too")
    v3 = _source(tmp_path / "v3", {"book/01_a.ipynb": "one v3"})
    lines = sync(v3, work, "0.2.0")  # same version number, new content (a development build)
    assert (work / "book" / "01_a.nnlab-0.2.0.ipynb").read_text() == "edited the new one too"
    assert (work / "book" / "01_a.nnlab-0.2.0-2.ipynb").read_text() == "one v3"
    assert "book/01_a.nnlab-0.2.0-2.ipynb" in lines[-1]


def _nnlab(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnlab", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_lab_check_in_the_checkout_opens_book_with_exercises_beside_it():
    pytest.importorskip("jupyterlab")
    result = _nnlab("lab", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    chapters = len(list((ROOT / "book").glob("*.ipynb")))
    exercises = len(list((ROOT / "exercises").glob("*.ipynb")))
    assert f"(checkout: {ROOT}; /lab page served;" in result.stdout
    assert f"it shows {chapters} notebook(s) in book/ and {exercises} in exercises/" in result.stdout


def test_lab_check_with_a_workdir_copies_the_notebooks(tmp_path):
    pytest.importorskip("jupyterlab")
    work = tmp_path / "my nnlab"  # a space in the path, as in many home folders
    result = _nnlab("lab", "--check", "--workdir", str(work), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("nnlab lab: copied the book (")
    assert f"(workspace: {work}; /lab page served;" in result.stdout
    assert sorted(p.name for p in (work / "book").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "book").glob("*.ipynb")
    )


def _live_children(psutil, pid: int) -> tuple[list, list[str]]:
    """The descendants of ``pid`` still running, and their command lines (short-lived helpers that
    already exited, zombies until reaped, are left out)."""
    family, names = [], []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            names.append(" ".join(child.cmdline()[1:3]))
        except psutil.Error:
            continue
        family.append(child)
    return family, names


def _still_running(psutil, process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _server_and_kernel(names: list[str]) -> bool:
    return any("jupyterlab" in n for n in names) and any("kernel" in n for n in names)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_lab_stopped_by_a_signal_leaves_no_server_and_no_kernel(signame, tmp_path):
    """A plain ``kill`` or a closed terminal stops JupyterLab and its kernels: nothing is orphaned."""
    pytest.importorskip("jupyterlab")
    psutil = pytest.importorskip("psutil")
    (tmp_path / "empty.ipynb").write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab", "lab", "--no-browser", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    left: list = []
    try:
        base = token = None
        printed = []
        for line in proc.stdout:  # wait for it to answer: it prints the URL then
            printed.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+)/\S*\?token=(\w+)", line)
            if found:
                base, token = found.groups()
                break
        assert base, "nnlab lab printed no URL:\n" + "".join(printed)
        start = urllib.request.Request(f"{base}/api/kernels?token={token}", data=b"{}", method="POST")
        start.add_header("Content-Type", "application/json")
        LOCAL.open(start, timeout=60).close()
        family, names = _live_children(psutil, proc.pid)
        deadline = time.monotonic() + 30
        while not _server_and_kernel(names) and time.monotonic() < deadline:
            time.sleep(0.2)
            family, names = _live_children(psutil, proc.pid)
        assert _server_and_kernel(names), names

        proc.send_signal(getattr(signal, signame))
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = [p for p in family if _still_running(psutil, p)]
            if not left:
                break
            time.sleep(0.2)
        assert not left, f"still running after {signame}: {[(p.pid, p.cmdline()) for p in left]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in left:
            p.kill()


def test_nnlab_module_runs_the_command():
    result = _nnlab("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"nnlab {__version__}"
