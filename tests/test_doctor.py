"""``nnlab doctor``: one line per component, a fix for each problem, exit status 1 when the book lacks something.

Components are hidden in a subprocess: a ``sitecustomize`` that makes a package unimportable (as if it
were not installed), and ``NNLAB_DATA_DIR`` pointing at an empty folder for the MNIST cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnlab import doctor

ROOT = Path(__file__).resolve().parents[1]
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _doctor(tmp_path: Path, *, hide: tuple[str, ...] = (), data_dir: Path, command: str = "doctor"):
    """Run ``nnlab <command>`` in a fresh interpreter with ``hide`` unimportable and MNIST at ``data_dir``."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        f"for name in {list(hide)!r}:\n"
        "    sys.modules[name] = None  # what Python does for a package that is not installed\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "NNLAB_DATA_DIR": str(data_dir),
    }
    env.pop("NNLAB_DEVICE", None)
    return subprocess.run(
        [sys.executable, "-m", "nnlab", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _line(out: str, name: str) -> str:
    """The report's line for ``name``, with its Fix line when it has one."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line[11:24].strip() == name:  # "  STATUS   name         detail"
            fix = lines[i + 1] if i + 1 < len(lines) and "Fix: " in lines[i + 1] else ""
            return f"{line}\n{fix}".rstrip()
    raise AssertionError(f"no line for {name!r} in:\n{out}")


def test_without_ipywidgets_it_says_so_and_fails(tmp_path):
    result = _doctor(tmp_path, hide=("ipywidgets", "torch"), data_dir=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    line = _line(result.stdout, "ipywidgets")
    assert line.startswith("  PROBLEM  ipywidgets")
    assert "not importable (ModuleNotFoundError: import of ipywidgets halted" in line
    assert "the book needs it" in line and "Fix:" not in line  # the one command at the end installs it
    last = result.stdout.splitlines()[-3:]
    assert last[0].endswith("problems: the book needs them fixed.") or "problem: the book needs it" in last[0]
    assert last[1] == "One command installs every package missing above:"
    assert last[2].endswith(' -m pip install -e ".[book,torch]"')  # this checkout, editable


def test_a_bare_install_gets_one_install_line(tmp_path):
    """Without the book's packages and PyTorch: one command, nnlab's two extras, not a line per package."""
    bare = ("matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "torch", "sklearn")
    result = _doctor(tmp_path, hide=bare, data_dir=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    installs = [line for line in result.stdout.splitlines() if "pip install" in line]
    assert len(installs) == 1, result.stdout
    assert installs[0].endswith(' -m pip install -e ".[book,torch]"')  # this checkout, editable
    for name in ("matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "torch"):
        assert _line(result.stdout, name).startswith(f"  PROBLEM  {name}")


def test_the_install_line_names_the_extras_of_what_is_missing(monkeypatch):
    monkeypatch.setattr(doctor, "_python", lambda: "python")
    monkeypatch.setattr(doctor, "packaged_notebooks", lambda: Path("/site-packages/nnlab/_notebooks"))
    assert doctor.install_extras(["book", "torch", "book"]) == 'python -m pip install "nnlab[book,torch]"'
    assert doctor.install_extras(["torch"]) == 'python -m pip install "nnlab[torch]"'
    monkeypatch.setattr(doctor, "packaged_notebooks", lambda: None)  # an editable install: this checkout
    monkeypatch.chdir(ROOT / "book")
    assert doctor.install_extras(["torch"]) == f'python -m pip install -e "{ROOT}[torch]"'


def test_missing_mnist_cache_names_the_folder_and_the_fix(tmp_path):
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    result = _doctor(tmp_path, hide=("torch",), data_dir=empty)
    out = result.stdout
    for name in (
        "Python",
        "nnlab",
        "numpy",
        "matplotlib",
        "ipywidgets",
        "front end",
        "jupyterlab",
        "ipykernel",
    ):
        assert _line(out, name).startswith("  OK "), _line(out, name)
    mnist = _line(out, "MNIST")
    assert f"the training and test sets are not cached in {empty}" in mnist
    assert "from nnlab.data import load_mnist; load_mnist('train'); load_mnist('test')" in mnist
    chapters = len(list((ROOT / "book").glob("*.ipynb")))
    assert _line(out, "book").startswith(
        f"  OK       book         {chapters} chapters are in the checkout {ROOT}; nnlab lab opens them in "
    )
    # exit status 1 exactly when some line is a problem (MNIST is one only if a chapter loads it)
    assert result.returncode == (1 if "  PROBLEM " in out else 0), out


def test_info_is_doctor_and_a_full_cache_is_ok(tmp_path):
    full = tmp_path / "mnist"
    full.mkdir()
    for name in MNIST_FILES:
        (full / f"{name}.gz").write_bytes(b"")
    result = _doctor(tmp_path, data_dir=full, command="info")
    assert result.stdout.startswith("nnlab doctor: what the book needs, on this machine\n")
    assert _line(result.stdout, "MNIST") == f"  OK       MNIST        cached in {full}"
    if "  OK       torch" in result.stdout:
        assert (
            _line(result.stdout, "device").startswith("  OK       device       cpu (")
            or "cuda" in result.stdout
        )


def test_widgets_front_end_missing_or_for_another_ipywidgets(tmp_path, monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    jupyter_paths = pytest.importorskip("jupyter_core.paths")
    monkeypatch.setattr(jupyter_paths, "jupyter_path", lambda *parts: [str(tmp_path)])
    check = doctor._widgets_front_end(ipywidgets)
    assert check.status == "PROBLEM" and "not installed: sliders would show as text" in check.detail
    assert "jupyterlab_widgets" in check.fix

    manager = tmp_path / "@jupyter-widgets" / "jupyterlab-manager"
    manager.mkdir(parents=True)
    (manager / "package.json").write_text('{"version": "1.0.0"}')
    check = doctor._widgets_front_end(ipywidgets)
    assert check.status == "PROBLEM" and "made for another ipywidgets" in check.detail


def test_mnist_is_a_problem_when_a_chapter_loads_it(tmp_path, monkeypatch):
    assert doctor._needs_mnist('X, y = load_mnist("train")')
    assert not doctor._needs_mnist('X, y = load_mnist("train", download=False, fallback="digits")')
    assert not doctor._needs_mnist("import numpy as np")
    monkeypatch.setenv("NNLAB_DATA_DIR", str(tmp_path))
    assert doctor._mnist_check(needed=False).status == "NOTE"
    needed = doctor._mnist_check(needed=True)
    assert needed.status == "PROBLEM" and "a chapter loads it" in needed.detail


def test_a_wrong_nnlab_device_is_a_problem(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("NNLAB_DEVICE", "tpu")
    check = doctor._device_check(torch)
    assert check.status == "PROBLEM" and check.detail.startswith("NNLAB_DEVICE expected")
    assert check.fix == "unset NNLAB_DEVICE"
