"""Importing nnlab stays light: torch loads only with nnlab.torch_nn, and its absence is explained."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_numpy_side_never_imports_torch():
    result = _run("""
        import sys
        import nnlab, nnlab.np_nn, nnlab.gradcheck, nnlab.history
        from nnlab import np_nn
        net = np_nn.Sequential(np_nn.Linear(2, 3), np_nn.ReLU())
        net(np_nn.init.zeros((4, 2)))
        nnlab.device  # looking the function up does not import torch either
        from nnlab import device
        loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        assert not loaded, loaded
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


_NO_TORCH = """
    import sys
    sys.modules["torch"] = None  # what Python does for a package that is not installed
    import nnlab, nnlab.np_nn
    try:
        {statement}
    except ImportError as exc:
        print(exc)
    else:
        print("imported")
"""


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "import nnlab.torch_nn",
            'nnlab.torch_nn needs PyTorch: pip install "nnlab[torch]"',
        ),
        (
            "from nnlab import torch_nn",
            'nnlab.torch_nn needs PyTorch: pip install "nnlab[torch]"',
        ),
        (
            "import nnlab.bridge",
            'nnlab.bridge needs PyTorch: pip install "nnlab[torch]"',
        ),
        (
            "nnlab.device()",
            'nnlab.device() needs PyTorch: pip install "nnlab[torch]"',
        ),
    ],
)
def test_without_torch_the_error_says_how_to_install_it(statement, expected):
    result = _run(_NO_TORCH.format(statement=statement))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert "pip install" in result.stdout


def test_the_pytorch_twin_uses_no_private_helper_of_the_numpy_path():
    """What both paths need lives in nnlab._shapes and nnlab._checks; torch_nn imports only np_nn's public names."""
    import ast
    import re

    for path in sorted((ROOT / "nnlab" / "torch_nn").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and "np_nn" in (node.module or ""):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
                assert not (node.module or "").split(".")[-1].startswith("_"), f"{path.name}: {node.module}"
        assert not re.search(r"np_nn[\w.]*\._[a-z]", source), path.name
        assert "_init._" not in source, path.name
