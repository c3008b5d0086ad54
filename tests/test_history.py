"""``History`` holds Python floats, whoever records them: ``history.train_acc[-1]`` prints ``1.0``."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from nnlab.history import History


def test_numpy_scalars_become_python_floats():
    history = History(train_loss=[np.float32(0.5)])
    history.train_acc.append(np.float64(1.0))
    history.val_loss.extend([np.float32(0.25), np.int64(2)])
    history.val_acc += [np.float64(0.75)]
    history.val_acc[0] = np.float32(0.5)
    history.grad_norm["0"] = []  # as the diagnostics start a layer's list
    history.grad_norm["0"].append(np.float32(2.0))
    history.dead.setdefault("1", []).append(np.float64(0.0))
    lists = [history.train_loss, history.train_acc, history.val_loss, history.val_acc]
    lists += [history.grad_norm["0"], history.dead["1"]]
    for values in lists:
        assert values and all(type(v) is float for v in values), values
    assert repr(history.train_acc[-1]) == "1.0"
    assert history.as_dict() == {
        "train_loss": [0.5],
        "train_acc": [1.0],
        "val_loss": [0.25, 2.0],
        "val_acc": [0.5],
    }
    assert json.loads(json.dumps(history.as_dict()))["val_loss"] == [0.25, 2.0]
    for clone in (pickle.loads(pickle.dumps(history)), copy.deepcopy(history)):
        assert clone == history and type(clone.grad_norm["0"][0]) is float


def test_fit_records_python_floats():
    from nnlab.np_nn import CrossEntropyLoss, Linear, fit, optim

    X, y = np.eye(4, dtype=np.float32), np.arange(4)
    net = Linear(4, 4, rng=0)
    history = fit(
        net, CrossEntropyLoss(), optim.SGD(net, lr=0.5), X, y, epochs=3, progress=False, validation=(X, y)
    )
    for values in (history.train_loss, history.train_acc, history.val_loss, history.val_acc):
        assert len(values) == 3 and all(type(v) is float for v in values)
    assert all(type(v) is float for values in history.grad_norm.values() for v in values)


def test_something_that_is_no_number_is_refused():
    with pytest.raises((TypeError, ValueError)):
        History().train_acc.append("high")
