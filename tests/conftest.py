"""Shared test settings: no progress bars, no network, and the real-MNIST location."""

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
