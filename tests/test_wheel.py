"""The wheel, as a student who installs the package (not the repository) gets it.

The wheel is built offline from a copy of the sources (``pip wheel --no-deps --no-build-isolation
--no-index``) and installed with ``--target`` into a fresh folder; its ``nnlab`` command then runs with
this environment's dependencies, from outside the checkout and from inside it. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nnlab import __version__
from nnlab._workspace import shipped_files

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "nnlab", "book", "exercises")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip(
        "setuptools", minversion="70.1", reason="building the wheel offline needs setuptools>=70.1"
    )
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "_notebooks", "*.egg-info")
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            dist,
            src,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (found,) = dist.glob("nnlab-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a fresh folder: ``site/`` (the package) and ``site/bin/nnlab``."""
    site = tmp_path_factory.mktemp("site")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", site, wheel],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return site


def _run(
    site: Path, *args: str, cwd: Path, home: Path, hide: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """The installed ``nnlab`` command, importing the installed package first, with HOME at ``home``
    and the packages ``hide`` names unimportable (as if they were not installed)."""
    path = [str(site)]
    if hide:
        custom = home / "sitecustomize"
        custom.mkdir(parents=True, exist_ok=True)
        (custom / "sitecustomize.py").write_text(
            f"import sys\nfor name in {list(hide)!r}:\n    sys.modules[name] = None\n"
        )
        path.append(str(custom))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "HOME": str(home)}
    for name in ("XDG_DOCUMENTS_DIR", "XDG_CONFIG_HOME"):
        env.pop(name, None)
    return subprocess.run(
        [str(site / "bin" / "nnlab"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_the_wheel_carries_the_book_and_the_student_notebooks(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = dict(shipped_files(ROOT))
    assert any(rel.startswith("book/") and rel.endswith(".ipynb") for rel in shipped)
    with zipfile.ZipFile(wheel) as archive:
        for rel, path in shipped.items():
            assert archive.read(f"nnlab/_notebooks/{rel}") == path.read_bytes(), rel
    carried = {name for name in names if name.startswith("nnlab/_notebooks/")}
    assert carried == {f"nnlab/_notebooks/{rel}" for rel in shipped}  # no sources, solutions or hidden tests
    assert not any("/source/" in name or "autograder" in name for name in carried)
    for data in (ROOT / "nnlab").rglob("*.json"):  # package data the library reads at run time
        assert data.relative_to(ROOT).as_posix() in names


def test_installed_outside_a_checkout_it_copies_into_a_workspace(installed, tmp_path):
    pytest.importorskip("jupyterlab")
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    (home / "Documents").mkdir(parents=True)
    elsewhere.mkdir()
    result = _run(installed, "lab", "--check", cwd=elsewhere, home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    work = home / "Documents" / "nnlab-workspace"  # the default: in the user's documents
    chapters = sorted(p.name for p in (ROOT / "book").glob("*.ipynb"))
    exercises = sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))
    assert result.stdout.splitlines()[0] == (
        f"nnlab lab: copied the book ({len(chapters)} chapters) and the exercises ({len(exercises)}"
        f" notebook{'s' * (len(exercises) != 1)}) into {work}; your changes stay there."
    )
    assert (
        f"(workspace: {work}; /lab page served; it shows {len(chapters)} notebook(s) in book/"
        in result.stdout
    )
    assert sorted(p.name for p in (work / "book").glob("*.ipynb")) == chapters
    assert sorted(p.name for p in (work / "exercises").glob("*.ipynb")) == exercises
    assert not (work / "book" / "source").exists()
    assert sorted(p.name for p in work.iterdir()) == [".nnlab", "README.md", "book", "exercises"]
    assert (work / "README.md").read_bytes() == (ROOT / "exercises" / "STUDENT_README.md").read_bytes()
    report = _run(installed, "doctor", cwd=elsewhere, home=home).stdout
    assert f"{len(chapters)} chapters ship with nnlab; nnlab lab opens them in {work}" in report

    # The student edits chapter 1; then a later nnlab ships a new chapter 1 (its installed copy changes).
    first = chapters[0]
    mine = work / "book" / first
    mine.write_text(mine.read_text() + " ")
    packaged = installed / "nnlab" / "_notebooks" / "book" / first
    notebook = json.loads(packaged.read_text())
    notebook["metadata"]["nnlab_test"] = "a later version"
    packaged.write_text(json.dumps(notebook))
    again = _run(installed, "lab", "--check", cwd=elsewhere, home=home)
    assert again.returncode == 0, again.stdout + again.stderr
    beside = Path(first).stem + f".nnlab-{__version__}.ipynb"
    assert (
        f"  book/{first}: you have edited it, so it is kept as it is; nnlab {__version__}'s version is"
        f" beside it as book/{beside}."
    ) in again.stdout
    assert mine.read_text().endswith(" ")  # the student's version, untouched
    assert json.loads((work / "book" / beside).read_text())["metadata"]["nnlab_test"] == "a later version"

    # The same nnlab started again: nothing more beside; the copy beside, once deleted, stays deleted.
    (work / "book" / beside).unlink()
    for _ in range(2):
        third = _run(installed, "lab", "--check", cwd=elsewhere, home=home)
        assert third.returncode == 0, third.stdout + third.stderr
        assert "beside" not in third.stdout and "copied" not in third.stdout
    assert sorted(p.name for p in (work / "book").glob("*.ipynb")) == chapters


def test_a_bare_install_gets_one_install_line(installed, tmp_path):
    bare = ("matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "torch", "sklearn")
    result = _run(installed, "doctor", cwd=tmp_path, home=tmp_path / "home", hide=bare)
    assert result.returncode == 1, result.stdout + result.stderr
    installs = [line for line in result.stdout.splitlines() if "pip install" in line]
    assert len(installs) == 1 and installs[0].endswith(' -m pip install "nnlab[book,torch]"'), result.stdout
    lab = _run(installed, "lab", "--check", cwd=tmp_path, home=tmp_path / "home", hide=bare)
    assert lab.returncode == 1 and 'pip install "nnlab[book]"' in lab.stderr
    assert not (tmp_path / "home" / "nnlab-workspace").exists()  # nothing copied before failing


def test_installed_inside_a_checkout_it_opens_the_workspace(installed, tmp_path):
    """The workspace wins, filled from the wheel's notebooks; the checkout opens only with --dir."""
    pytest.importorskip("jupyterlab")
    home = tmp_path / "home"
    home.mkdir()
    work = home / "nnlab-workspace"
    origin = _run(installed, "doctor", cwd=ROOT, home=home)
    assert f"nnlab        {__version__} at {installed / 'nnlab'}" in origin.stdout  # the wheel's code runs
    assert f"chapters ship with nnlab; nnlab lab opens them in {work}" in origin.stdout
    result = _run(installed, "lab", "--check", cwd=ROOT / "book", home=home)  # in a subfolder of the checkout
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"nnlab lab: opening your workspace {work}, not the repository {ROOT} ")
    assert f"(workspace: {work}; /lab page served;" in result.stdout
    packaged = installed / "nnlab" / "_notebooks"
    for rel, path in shipped_files(packaged):
        assert (work / rel).read_bytes() == path.read_bytes(), rel  # copied from the wheel
    checkout = _run(installed, "lab", "--check", "--dir", str(ROOT), cwd=tmp_path, home=home)
    assert checkout.returncode == 0, checkout.stdout + checkout.stderr
    assert f"(checkout: {ROOT}; /lab page served;" in checkout.stdout and "copied" not in checkout.stdout
