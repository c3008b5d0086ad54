"""Settings for every test path (tests/, book/, exercises/): the chapters whose saved outputs need real MNIST.

Chapters 5-9 train on the real MNIST test set where the book is developed (``../shared/data/mnist``
beside the repository) and fall back to scikit-learn's 8x8 digits elsewhere. Their checked outputs
were saved with real MNIST, so on a machine without it nbval would compare the fallback's numbers
with MNIST's: there their cells are skipped, with a reason, instead of failing. The chapters
themselves still run anywhere, on the fallback digits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
# What a chapter source says when it reads MNIST from ../shared (directly or through the lessons' helpers).
_USES_SHARED_MNIST = ("SHARED_MNIST", "book_mnist(")


def real_mnist_chapters() -> set[str]:
    """The chapters (notebook names without ``.ipynb``) whose sources read the real MNIST test set."""
    return {
        source.stem
        for source in (ROOT / "book" / "source").glob("[0-9][0-9]_*.py")
        if any(marker in source.read_text(encoding="utf-8") for marker in _USES_SHARED_MNIST)
    }


def has_shared_mnist() -> bool:
    return (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ../shared's MNIST, skip the nbval cells of the chapters whose outputs were saved with it."""
    if has_shared_mnist():
        return
    chapters = real_mnist_chapters()
    skip = pytest.mark.skip(
        reason="its saved outputs were made with the real MNIST test set (../shared/data/mnist), absent here"
    )
    for item in items:
        path = Path(str(getattr(item, "path", getattr(item, "fspath", ""))))
        if path.suffix == ".ipynb" and path.parent.name == "book" and path.stem in chapters:
            item.add_marker(skip)
