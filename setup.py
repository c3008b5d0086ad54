"""Build hook: the wheel carries the book and the student exercise notebooks as package data.

They are copied from ``book/`` and ``exercises/`` into ``nnlab/_notebooks/`` of the build folder while
the wheel is built, so the repository never holds a second copy. Which files: ``shipped_files`` in
``nnlab/_workspace.py`` (loaded here by path: building must not import the package). An editable
install (``pip install -e``) copies nothing here: ``nnlab lab`` fills the workspace from the checkout.
All other settings are in ``pyproject.toml``.
"""

import importlib.util
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _workspace_module():
    spec = importlib.util.spec_from_file_location("_nnlab_workspace", HERE / "nnlab" / "_workspace.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class build_py_with_notebooks(build_py):
    """``build_py``, then the notebooks into ``<build>/nnlab/_notebooks/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        workspace = _workspace_module()
        target = Path(self.build_lib) / "nnlab" / workspace.PACKAGED
        if target.exists():
            shutil.rmtree(target)  # a notebook deleted from book/ must not linger from an earlier build
        for rel, path in workspace.shipped_files(HERE):
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)


setup(cmdclass={"build_py": build_py_with_notebooks})
