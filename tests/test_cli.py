"""The ``nnlab`` command: where ``nnlab lab`` opens, the student's workspace, and stopping the server."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nnlab import __version__, cli
from nnlab._lab import LOCAL, port_in_use
from nnlab._workspace import (
    MANIFEST,
    Location,
    WorkspaceError,
    check_workdir,
    default_workdir,
    locate,
    notebook_source,
    shipped_files,
    sync,
)

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


def test_locate_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    default = (tmp_path / "home" / "nnlab-workspace").resolve()  # no Documents folder there
    here = _checkout(tmp_path / "clone")
    # --dir opens a folder as it is: the checkout itself only this way
    assert locate(directory=here, workdir=None, cwd=tmp_path) == Location(here.resolve(), "book", "checkout")
    assert locate(directory=tmp_path, workdir=None, cwd=here) == Location(tmp_path.resolve(), "", "folder")
    assert locate(directory=None, workdir=tmp_path / "w", cwd=here) == Location(
        (tmp_path / "w").resolve(), "book", "workspace"
    )
    # started inside a checkout (or one of its subfolders), nnlab lab still opens the workspace
    assert locate(directory=None, workdir=None, cwd=here) == Location(default, "book", "workspace")
    assert locate(directory=None, workdir=None, cwd=here / "exercises") == Location(
        default, "book", "workspace"
    )
    assert locate(directory=None, workdir=None, cwd=ROOT / "exercises").root == default  # this editable clone
    # a workspace is recognised by its manifest when nnlab lab runs inside it, or in one of its folders
    (tmp_path / "ws" / MANIFEST).parent.mkdir(parents=True)
    (tmp_path / "ws" / MANIFEST).write_text("{}")
    (tmp_path / "ws" / "book").mkdir()
    ws = Location((tmp_path / "ws").resolve(), "book", "workspace")
    assert locate(directory=None, workdir=None, cwd=tmp_path / "ws") == ws
    assert locate(directory=None, workdir=None, cwd=tmp_path / "ws" / "book") == ws
    assert locate(directory=None, workdir=None, cwd=tmp_path) == Location(default, "book", "workspace")


def test_the_default_workspace_is_not_the_clone_beside_it(tmp_path, monkeypatch):
    """README's path without a Documents folder clones into ~/nnlab: the workspace must be elsewhere."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    _checkout(home / "nnlab")  # git clone ... && cd nnlab, run in the home folder
    assert default_workdir() == home / "nnlab-workspace"
    check_workdir(default_workdir())  # accepted: it is not inside the clone
    (home / "Documents").mkdir()
    assert default_workdir() == home / "Documents" / "nnlab-workspace"
    (home / "Documents" / "nnlab" / MANIFEST).parent.mkdir(parents=True)
    (home / "Documents" / "nnlab" / MANIFEST).write_text("{}")  # a workspace nnlab 0.1.0 made: kept
    assert default_workdir() == home / "Documents" / "nnlab"


def test_an_editable_install_fills_the_workspace_from_its_checkout():
    assert notebook_source() == ROOT  # the tests run from an editable install of this checkout


def _source(folder: Path, chapters: dict[str, str]) -> Path:
    for name, text in chapters.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_shipped_files_are_the_book_the_student_notebooks_and_the_students_readme(tmp_path):
    tree = {
        "book/01_a.ipynb": "1",
        "book/images/fig.png": "png",
        "book/source/01_a.py": "jupytext source",
        "book/.ipynb_checkpoints/01_a-checkpoint.ipynb": "old",
        "exercises/01_a.ipynb": "student",
        "exercises/README.md": "for instructors",
        "exercises/STUDENT_README.md": "for students",
        "exercises/source/01_a.ipynb": "solutions",
        "exercises/autograder/01_a.json": "hidden tests",
        "README.md": "the repository's README",
        "pyproject.toml": "",
        "nnlab/__init__.py": "",
    }
    src = _source(tmp_path / "checkout", tree)
    shipped = dict(shipped_files(src))
    assert list(shipped) == ["book/01_a.ipynb", "book/images/fig.png", "exercises/01_a.ipynb", "README.md"]
    assert shipped["README.md"].read_text() == "for students"  # never the instructors' README
    # the wheel's copy (no pyproject.toml) holds the students' README as README.md
    wheel = _source(tmp_path / "wheel", {rel: path.read_text() for rel, path in shipped.items()})
    assert dict(shipped_files(wheel))["README.md"].read_text() == "for students"


def test_the_repository_has_a_students_readme_and_ships_it():
    shipped = dict(shipped_files(ROOT))
    assert shipped["README.md"] == ROOT / "exercises" / "STUDENT_README.md"
    assert "exercises/README.md" not in shipped
    text = shipped["README.md"].read_text(encoding="utf-8")
    assert "book/" in text and "exercises/" in text and "check(" in text
    for word in ("source/", "autograder", "build_exercises"):  # what a workspace does not have
        assert word not in text


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
    (work / "exercises" / "01_a.ipynb").write_text("my answers")  # and answers an exercise
    for _ in range(3):  # the same nnlab started again: nothing is added beside the student's notebooks
        assert sync(v1, work, "0.1.0") == []
    assert sorted(p.name for p in (work / "book").iterdir()) == ["01_a.ipynb", "02_b.ipynb"]
    assert sorted(p.name for p in (work / "exercises").iterdir()) == ["01_a.ipynb"]

    (work / "exercises" / "01_a.ipynb").unlink()  # the student deletes the exercise to start it again
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

    (work / "book" / "01_a.nnlab-0.2.0.ipynb").unlink()  # the student has read it and deletes it
    assert sync(v2, work, "0.2.0") == []  # it does not come back
    assert not (work / "book" / "01_a.nnlab-0.2.0.ipynb").exists()

    v3 = _source(tmp_path / "v3", {"book/01_a.ipynb": "one v3"})
    lines = sync(v3, work, "0.2.0")  # same version number, new content (a development build)
    assert (work / "book" / "01_a.nnlab-0.2.0.ipynb").read_text() == "one v3"
    assert "book/01_a.nnlab-0.2.0.ipynb" in lines[-1]
    (work / "book" / "01_a.nnlab-0.2.0.ipynb").write_text("edited the new one too")
    v4 = _source(tmp_path / "v4", {"book/01_a.ipynb": "one v4"})
    lines = sync(v4, work, "0.2.0")
    assert (work / "book" / "01_a.nnlab-0.2.0.ipynb").read_text() == "edited the new one too"
    assert (work / "book" / "01_a.nnlab-0.2.0-2.ipynb").read_text() == "one v4"
    assert "book/01_a.nnlab-0.2.0-2.ipynb" in lines[-1]


def _as_nnlab_0_1_0_left_it(work: Path, files: dict[str, str]) -> None:
    """A workspace as nnlab 0.1.0 wrote it: the files, and a manifest with only their SHA-256 as copied."""
    _source(work, files)
    (work / MANIFEST).parent.mkdir()
    shas = {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in files.items()}
    (work / MANIFEST).write_text(json.dumps({"nnlab": "0.1.0", "files": shas}))


def test_a_file_nnlab_no_longer_ships_goes_unless_edited(tmp_path):
    """nnlab 0.1.0 copied the instructors' exercises/README.md into workspaces; a later one removes it."""
    work = tmp_path / "work"
    _as_nnlab_0_1_0_left_it(
        work, {"book/01_a.ipynb": "one", "book/02_b.ipynb": "two", "exercises/README.md": "for instructors"}
    )
    (work / "book" / "02_b.ipynb").write_text("my notes")
    new = _source(tmp_path / "new", {"book/01_a.ipynb": "one", "README.md": "for students"})
    lines = sync(new, work, "0.2.0")
    assert not (work / "exercises" / "README.md").exists()
    assert (work / "book" / "02_b.ipynb").read_text() == "my notes"  # edited: kept
    assert (work / "README.md").read_text() == "for students"
    assert lines == [
        f"nnlab lab: added to {work}: README.md.",
        "nnlab lab: removed what nnlab 0.2.0 no longer ships (you had not edited it): exercises/README.md.",
    ]
    assert sync(new, work, "0.2.0") == []


def test_a_workspace_of_nnlab_0_1_0_is_read(tmp_path):
    """Its manifest recorded only what was written; an edited notebook gets nothing new beside it."""
    src = _source(tmp_path / "src", {"book/01_a.ipynb": "one"})
    work = tmp_path / "work"
    _as_nnlab_0_1_0_left_it(work, {"book/01_a.ipynb": "one"})
    (work / "book" / "01_a.ipynb").write_text("my notes")
    assert sync(src, work, "0.1.0") == []
    assert sorted(p.name for p in (work / "book").iterdir()) == ["01_a.ipynb"]


def _nnlab(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnlab", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def _home(tmp_path: Path, **more: str) -> dict:
    """This environment with HOME in ``tmp_path`` (no Documents folder: the workspace is
    ~/nnlab-workspace)."""
    env = {**os.environ, "HOME": str(tmp_path / "home"), **more}
    for name in ("XDG_DOCUMENTS_DIR", "XDG_CONFIG_HOME"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def test_lab_check_with_dir_opens_the_checkout_with_exercises_beside_the_book():
    pytest.importorskip("jupyterlab")
    result = _nnlab("lab", "--check", "--dir", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    chapters = len(list((ROOT / "book").glob("*.ipynb")))
    exercises = len(list((ROOT / "exercises").glob("*.ipynb")))
    assert f"(checkout: {ROOT}; /lab page served;" in result.stdout
    assert f"it shows {chapters} notebook(s) in book/ and {exercises} in exercises/" in result.stdout


def test_lab_in_a_clone_opens_the_students_workspace_not_the_repository(tmp_path):
    """README's path (clone, editable install, nnlab lab): the student works in a workspace, without the
    solutions; answering an exercise there leaves the repository's notebooks (and its tests) alone."""
    pytest.importorskip("jupyterlab")
    env = _home(tmp_path)
    work = tmp_path / "home" / "nnlab-workspace"
    result = _nnlab("lab", "--check", cwd=ROOT / "exercises", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"nnlab lab: opening your workspace {work}, not the repository {ROOT} (its exercises/ holds the"
        f" solutions). To open the repository itself, as a developer: nnlab lab --dir {ROOT}"
    )
    assert lines[1].startswith("nnlab lab: copied the book (") and lines[1].endswith(
        f"into {work}; your changes stay there."
    )
    assert f"(workspace: {work}; /lab page served;" in result.stdout
    assert sorted(p.name for p in work.iterdir()) == [".nnlab", "README.md", "book", "exercises"]
    assert sorted(p.name for p in (work / "exercises").iterdir()) == sorted(
        p.name for p in (ROOT / "exercises").glob("*.ipynb")
    )  # no source/ (the solutions), no autograder/ (the hidden tests), no instructors' README
    assert (work / "README.md").read_bytes() == (ROOT / "exercises" / "STUDENT_README.md").read_bytes()
    assert not (work / "book" / "source").exists()

    first = sorted((work / "exercises").glob("*.ipynb"))[0]
    committed = (ROOT / "exercises" / first.name).read_bytes()
    answered = json.loads(first.read_text(encoding="utf-8"))
    answered["cells"][-1]["source"] = "answer = 42  # the student's work"
    first.write_text(json.dumps(answered), encoding="utf-8")
    again = _nnlab("lab", "--check", cwd=tmp_path, env=env)  # the same nnlab, started again elsewhere
    assert again.returncode == 0, again.stdout + again.stderr
    assert (
        "copied" not in again.stdout and "beside" not in again.stdout and "opening your" not in again.stdout
    )
    assert sorted(p.name for p in (work / "exercises").iterdir()) == sorted(
        p.name for p in (ROOT / "exercises").glob("*.ipynb")
    )  # no copy beside the answered notebook
    assert (ROOT / "exercises" / first.name).read_bytes() == committed  # the repository is untouched


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


def test_lab_without_jupyterlab_says_how_to_install_it_and_copies_nothing(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['jupyterlab'] = None  # not installed\n")
    env = _home(tmp_path, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    result = _nnlab("lab", "--check", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"nnlab lab: JupyterLab is not installed in this Python ({sys.executable}), so the book cannot open."
        ' Install it with the book\'s extra: pip install "nnlab[book]" (in a checkout of the repository:'
        ' pip install -e ".[book]").'
    )
    assert result.stdout == "" and not (tmp_path / "home" / "nnlab-workspace").exists()


def test_lab_on_a_port_in_use_says_so_and_copies_nothing(tmp_path):
    pytest.importorskip("jupyterlab")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _nnlab("lab", "--check", "--port", str(port), cwd=tmp_path, env=_home(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"nnlab lab: port {port} on 127.0.0.1 is already in use (another JupyterLab, or another program)."
        " Choose another with --port 8888, or leave --port out to use a free one."
    )
    assert not (tmp_path / "home" / "nnlab-workspace").exists()
    assert port_in_use(port) is None  # free again


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a-file", "the workspace folder {path} is a file, not a folder. Give a folder for your notebooks"),
        ("a-file/sub", "the workspace folder {path} is inside {file}, which is a file, not a folder."),
    ],
)
def test_a_workdir_that_is_a_file_gets_a_sentence(tmp_path, given, expected):
    (tmp_path / "a-file").write_text("")
    path = tmp_path / given
    result = _nnlab("lab", "--check", "--workdir", str(path), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    message = expected.format(path=path, file=tmp_path / "a-file")
    assert result.stderr.startswith(f"nnlab lab: --workdir: {message}"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_workdir_inside_the_repository_is_refused(tmp_path):
    with pytest.raises(WorkspaceError, match=r"is inside the nnlab repository .*nnlab lab --dir "):
        check_workdir(ROOT / "exercises")
    check_workdir(tmp_path / "fine")  # outside: accepted
    result = _nnlab("lab", "--check", "--workdir", "exercises")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"nnlab lab: --workdir: the workspace folder {ROOT / 'exercises'} is inside"
    )


def test_bad_dir_and_port_get_a_sentence(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = _nnlab("lab", "--dir", str(tmp_path / "a-file"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"nnlab lab: --dir {tmp_path / 'a-file'} is a file: give a folder to open as it is."
    )
    result = _nnlab("lab", "--port", "70000")
    assert result.returncode == 2
    assert "argument --port: expected a port number from 1 to 65535, got '70000'" in result.stderr


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
        # nnlab's URL alone: not JupyterLab's own start-up lines, redacted URL or Ctrl-C advice beside it
        assert printed[:2] == ["\n", "The nnlab book is open at:\n"], printed
        assert not any("token=..." in line or "Control-C" in line for line in printed), printed
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


def test_lab_check_shows_why_jupyterlab_stopped(tmp_path):
    """A JupyterLab that exits before it answers: its last lines come with the message, not just a code."""
    fake = tmp_path / "fake" / "jupyterlab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("import sys\nprint('a broken JupyterLab says why')\nsys.exit(3)\n")
    env = _home(tmp_path, PYTHONPATH=os.pathsep.join([str(tmp_path / "fake"), str(ROOT)]))
    result = _nnlab("lab", "--check", "--dir", str(tmp_path), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr == (
        "nnlab lab: JupyterLab exited with code 3 before it answered.\n    a broken JupyterLab says why\n"
    )
