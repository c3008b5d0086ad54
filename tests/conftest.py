"""Shared test settings: no progress bars, no network, the real-MNIST location, and the gpu marker.

Tests marked ``gpu`` run on CUDA when a CUDA device is present and are skipped otherwise (CI has none).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("NNLAB_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``gpu`` where there is no CUDA device (torch is imported only if one is asked for)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items or _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in gpu_items:
        item.add_marker(skip)
