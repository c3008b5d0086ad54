"""Rough edges of fit and the package a new user meets: History.plot in a notebook and a script,
help(nnlab) without torch, and a loss or optimizer class passed where an object belongs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnlab import _training, np_nn
from nnlab.history import History, HistoryFigure

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _history() -> History:
    X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = np_nn.Sequential(np_nn.Linear(3, 8, rng=0), np_nn.Sigmoid(), np_nn.Linear(8, 8, rng=1), np_nn.ReLU(),
                           np_nn.Linear(8, 2, rng=2))  # fmt: skip
    return np_nn.fit(net, np_nn.CrossEntropyLoss(), np_nn.optim.SGD(net, lr=0.1), X, y, epochs=3,
                     validation=(X[:20], y[:20]), progress=False)  # fmt: skip


# -- History.plot ----------------------------------------------------------------------------------
def test_history_records_every_epoch_for_every_layer():
    history = _history()
    assert list(history.grad_norm) == ["0", "2", "4"] and all(len(v) == 3 for v in history.grad_norm.values())
    assert list(history.saturated) == ["1"] and list(history.dead) == ["3"]
    assert history.layer_names == {"0": "Linear", "1": "Sigmoid", "2": "Linear", "3": "ReLU", "4": "Linear"}
    assert history.warnings == [] and not history.diverged


def test_plot_in_a_notebook_displays_one_png_image():
    pytest.importorskip("matplotlib")
    formatters = pytest.importorskip("IPython.core.formatters")
    import matplotlib.pyplot as plt

    shown = _history().plot()
    assert isinstance(shown, HistoryFigure)
    assert [ax.get_ylabel() for ax in shown.axes] == [
        "loss", "accuracy", "gradient norm", "share of saturated or dead units"
    ]  # fmt: skip
    data, _ = formatters.DisplayFormatter().format(shown)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "<Axes" not in data["text/plain"]
    # shown once: after the image is made, pyplot no longer holds the figure for the inline backend
    assert shown.figure.number not in plt.get_fignums()


def test_plot_on_given_axes_draws_the_loss_curves():
    mpl_figure = pytest.importorskip("matplotlib.figure")
    ax = mpl_figure.Figure().add_subplot()
    assert _history().plot(ax, accuracy=True) is ax
    assert ax.get_ylabel() == "accuracy" and len(ax.get_lines()) == 3  # training, validation, best epoch


def test_plot_then_pyplot_savefig_in_a_script_saves_the_figure(tmp_path):
    pytest.importorskip("matplotlib")
    result = _run(
        """
        import numpy as np
        import matplotlib.pyplot as plt
        from nnlab import np_nn as nn
        X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.int64)
        net = nn.Sequential(nn.Linear(2, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
        history = nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1), X, y, epochs=3, progress=False)
        history.plot()
        plt.savefig("history.png")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    import matplotlib.image

    pixels = matplotlib.image.imread(tmp_path / "history.png")[..., :3]
    assert pixels.shape[1] > 400
    assert (pixels < 0.5).mean() > 0.005  # lines and text drawn, not a blank white page


# -- the package -----------------------------------------------------------------------------------
def test_help_lists_the_package_without_importing_torch():
    result = _run(
        """
        import contextlib, io, sys
        import nnlab
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            help(nnlab)
        names = dir(nnlab)
        assert "torch" not in sys.modules, "help(nnlab) imported torch"
        assert "matplotlib" not in sys.modules and "ipywidgets" not in sys.modules
        print(text.getvalue())
        print("DIR", names)
        print("ALL", nnlab.__all__)
        """
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("np_nn", "torch_nn", "bridge", "diagnostics", "TrainingWarning", "History"):
        assert name in out.split("DIR")[0], name  # help names each part of the library
    for name in ("np_nn", "data", "diagnostics", "History", "TrainingWarning", "device", "__version__"):
        assert f"'{name}'" in out.split("DIR")[1], name


def test_every_name_in_all_loads_without_torch():
    result = _run(
        """
        import sys
        sys.modules["torch"] = None  # as if PyTorch were not installed
        import nnlab
        from nnlab import *
        for name in nnlab.__all__:
            getattr(nnlab, name)
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_torch_nn_and_the_numpy_path_share_the_training_helpers(monkeypatch):
    torch_training = pytest.importorskip("nnlab.torch_nn.training")
    source = Path(torch_training.__file__).read_text()
    assert "from ..np_nn" not in source and "from nnlab.np_nn" not in source  # no private helpers shared
    monkeypatch.delenv("NNLAB_PROGRESS", raising=False)
    assert _training.progress_enabled(True) is True and _training.progress_enabled(False) is False
    monkeypatch.setenv("NNLAB_PROGRESS", "0")
    assert _training.progress_enabled(True) is False


# -- a class where an object belongs ---------------------------------------------------------------
def _paths():
    yield np_nn
    try:
        from nnlab import torch_nn
    except ImportError:
        return
    yield torch_nn


def test_fit_given_a_loss_class_says_to_create_one():
    for nn in _paths():
        net = nn.Linear(2, 2)
        with pytest.raises(ValueError) as info:
            nn.fit(
                net, nn.CrossEntropyLoss, nn.optim.SGD(net, lr=0.1), np.zeros((4, 2)), np.zeros(4), epochs=1
            )
        assert str(info.value) == (
            "fit expected a loss object such as CrossEntropyLoss(); got the class CrossEntropyLoss itself."
            " Create one first: loss = CrossEntropyLoss()."
        )


def test_fit_given_an_optimizer_class_says_to_create_one():
    for nn in _paths():
        net = nn.Linear(2, 2)
        with pytest.raises(ValueError) as info:
            nn.fit(net, nn.CrossEntropyLoss(), nn.optim.Adam, np.zeros((4, 2)), np.zeros(4), epochs=1)
        assert str(info.value) == (
            "fit expected an optimizer object such as Adam(net, lr=0.1); got the class Adam itself."
            " Create it with your model and a learning rate: optimizer = Adam(net, lr=0.1)."
        )


def test_early_stopping_is_written_once_for_both_paths():
    net = np_nn.Linear(2, 1, rng=0)
    stopper = _training.EarlyStopping(net, patience=2)
    assert [stopper.update(epoch, loss) for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.1], 1)] == [
        False, False, False, True
    ]  # fmt: skip
    assert stopper.best_epoch == 2
    best = net.params["W"].copy()
    net.params["W"][...] = 99
    stopper.restore_best()
    np.testing.assert_array_equal(net.params["W"], best)


@pytest.mark.gpu
def test_fit_on_cuda_follows_the_numpy_path_in_float64():
    """The parity of the two paths, on a GPU: same weights, History and diagnostics figures to 1e-10."""
    pytest.importorskip("torch")
    from nnlab import torch_nn

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(150, 4)), rng.integers(0, 3, 150)
    nets, histories = [], []
    for nn, kw in ((np_nn, {}), (torch_nn, {"device": "cuda"})):
        net = nn.Sequential(nn.Linear(4, 8, rng=0, dtype=np.float64, **kw), nn.Sigmoid(),
                            nn.Linear(8, 3, rng=1, dtype=np.float64, **kw))  # fmt: skip
        histories.append(nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.2, momentum=0.5), X, y,
                                epochs=4, batch_size=16, rng=3, progress=False))  # fmt: skip
        nets.append(net)
    for key, w in nets[0].params.items():
        np.testing.assert_allclose(nets[1].params[key].detach().cpu().numpy(), w, rtol=0, atol=1e-10)
    np_history, cuda_history = histories
    np.testing.assert_allclose(cuda_history.train_loss, np_history.train_loss, rtol=1e-10)
    for key, norms in np_history.grad_norm.items():
        np.testing.assert_allclose(cuda_history.grad_norm[key], norms, rtol=1e-9)
    assert cuda_history.saturated == np_history.saturated


# -- arguments that belong elsewhere ---------------------------------------------------------------
def test_an_optimizer_built_for_another_model_gets_a_sentence():
    """Running the model's cell again but not the optimizer's used to train nothing, silently."""
    for nn in _paths():
        old = nn.Linear(2, 2, rng=0)
        optimizer = nn.optim.SGD(old, lr=0.1)
        net = nn.Linear(2, 2, rng=0)
        with pytest.raises(ValueError) as info:
            nn.fit(
                net, nn.CrossEntropyLoss(), optimizer, np.zeros((4, 2)), np.zeros(4), epochs=1, progress=False
            )
        assert str(info.value) == (
            "fit expected an optimizer for this model; got a SGD that updates the parameters of another model."
            " Did you run the cell that builds the model again, but not the one that builds the optimizer?"
            " Build it again for this model: optimizer = SGD(net, lr=0.1)."
        )


def test_a_plain_torch_optimizer_for_another_model_gets_the_same_sentence():
    torch = pytest.importorskip("torch")
    from nnlab import torch_nn

    net = torch_nn.Linear(2, 2, rng=0)
    optimizer = torch.optim.SGD(torch_nn.Linear(2, 2, rng=0).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="fit expected an optimizer for this model; got a SGD that updates"):
        torch_nn.fit(net, torch_nn.CrossEntropyLoss(), optimizer, np.zeros((4, 2)), np.zeros(4), epochs=1)
    net = torch_nn.Linear(2, 2, rng=0)  # an optimizer for the model itself is fine
    torch_nn.fit(net, torch.nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.1), np.zeros((4, 2)),
                 np.zeros(4, dtype=np.int64), epochs=1, progress=False)  # fmt: skip


def test_mixing_the_two_paths_gets_a_sentence():
    pytest.importorskip("torch")
    import torch

    from nnlab import torch_nn

    X, y = np.zeros((4, 2), dtype=np.float32), np.zeros(4, dtype=np.int64)
    np_net, torch_net = np_nn.Linear(2, 2, rng=0), torch_nn.Linear(2, 2, rng=0)
    cases = [
        (np_nn.fit, torch_net, np_nn.CrossEntropyLoss(), np_nn.optim.SGD(np_net),
         "fit expected a NumPy model (an nnlab.np_nn module); got Linear, a PyTorch module."
         " For a PyTorch model use nnlab.torch_nn.fit."),
        (np_nn.fit, np_net, torch_nn.CrossEntropyLoss(), np_nn.optim.SGD(np_net),
         "fit expected a NumPy loss; got CrossEntropyLoss, a PyTorch module."
         " Use nnlab.np_nn.CrossEntropyLoss() here."),
        (np_nn.fit, np_net, np_nn.CrossEntropyLoss(), torch.optim.SGD(torch_net.parameters(), lr=0.1),
         "fit expected a NumPy optimizer (from nnlab.np_nn.optim); got SGD, a PyTorch optimizer."
         " Use nnlab.np_nn.optim.SGD(net, lr=0.1) here."),
        (torch_nn.fit, torch_net, np_nn.CrossEntropyLoss(), torch_nn.optim.SGD(torch_net),
         "fit expected a PyTorch loss; got CrossEntropyLoss from nnlab.np_nn."
         " Use nnlab.torch_nn.CrossEntropyLoss() here."),
        (torch_nn.fit, torch_net, torch_nn.CrossEntropyLoss(), np_nn.optim.SGD(np_net),
         "fit expected a PyTorch optimizer (a torch.optim.Optimizer); got SGD."
         " Use nnlab.torch_nn.optim.SGD(net, lr=0.1) here."),
        (torch_nn.fit, np_net, torch_nn.CrossEntropyLoss(), torch_nn.optim.SGD(torch_net),
         "fit expected a torch model (a torch.nn.Module); got Linear. For a NumPy model use nnlab.np_nn.fit."),
    ]  # fmt: skip
    for fit, net, loss, optimizer, sentence in cases:
        with pytest.raises(ValueError) as info:
            fit(net, loss, optimizer, X, y, epochs=1, progress=False)
        assert str(info.value) == sentence


def test_rng_and_patience_of_the_wrong_type_get_a_sentence():
    for nn in _paths():
        net = nn.Linear(2, 2, rng=0)
        args = (net, nn.CrossEntropyLoss(), nn.optim.SGD(net), np.zeros((4, 2)), np.zeros(4, dtype=np.int64))
        with pytest.raises(
            ValueError, match=r"fit expected rng as a numpy\.random\.Generator or an int seed; got str\."
        ):
            nn.fit(*args, epochs=1, rng="a", progress=False)
        with pytest.raises(ValueError, match=r"fit expected patience to be a positive integer; got True\."):
            nn.fit(*args, epochs=1, patience=True, validation=args[3:], progress=False)


def test_a_shape_error_leaves_the_torch_model_in_training_mode():
    pytest.importorskip("torch")
    from nnlab import torch_nn

    net = torch_nn.Sequential(torch_nn.Linear(3, 2, rng=0))
    net.train()
    with pytest.raises(ValueError, match="Linear expected x of shape"):
        torch_nn.fit(net, torch_nn.CrossEntropyLoss(), torch_nn.optim.SGD(net), np.zeros((4, 5)),
                     np.zeros(4, dtype=np.int64), epochs=1, progress=False)  # fmt: skip
    assert net.training
