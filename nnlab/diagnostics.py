r"""Training diagnostics: what ``fit`` watches while it trains, and the warnings it gives.

Both paths' ``fit`` (NumPy and PyTorch) run one ``Monitor``. It watches five ways training fails,
each taught in the book, and warns once per ``fit`` about each, with a ``TrainingWarning`` whose
sentence names the layer, the figure, the likely cause, the fix, and the chapter that explains it:

- **divergence**: a training loss that is NaN or infinite, or that grows to 1,000 times its value
  at the start, or an epoch whose median loss (or the probe's loss after it) is 10 times the start
  (a loss that is clamped, like the binary cross-entropy's, never reaches 1,000 times). ``fit`` stops
  and puts back the weights and the optimizer's state from before the loss blew up (the start of
  that epoch, or of the one before when the blow-up came at its first step), and suggests a
  learning rate 10 times smaller.
- **saturation**: most units of a hidden sigmoid or tanh layer sit where the derivative is below
  1% of its peak (|z| > 6 for the sigmoid, since $\sigma'(6) \approx 0.0025$; |z| > 3 for tanh).
- **vanishing or exploding gradients**: the gradient norm of the first layer is 100 times
  smaller, or larger, than the last layer's.
- **dead ReLUs**: most units of a ReLU layer (channels, after a convolution) output 0 on every
  probe example.

Saturated and dead units are judged before training and after each epoch; where the network
already classifies 90% of the probe examples right (or, for a regression target, has halved its
loss since the start), they are recorded but not warned about: they are not stopping it from learning.
- **unscaled inputs**: whole numbers from 0 to 255 (raw pixels), features whose scales differ
  1,000-fold, or inputs larger than 1,000.

What it costs: the statistics come from a fixed *probe* of at most 256 training examples, run
forward once before training and once after each epoch (in evaluation mode, so no dropout mask is
drawn and the training is unchanged), and from the gradients of 4 steps per epoch. On a GPU they
are computed on the device and read back once per epoch. ``fit(..., diagnostics=False)`` turns
all of it off; ``warnings.simplefilter("ignore", TrainingWarning)`` silences the warnings only.

Each epoch's figures go into the ``History``: ``grad_norm``, ``saturated`` and ``dead``, one list
per layer, which ``history.plot()`` draws.

Chapter: 2, gradient descent; 3, backpropagation; 4, saturation.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import warnings

import numpy as np

from ._checks import NonFiniteError
from ._training import learning_rate, restore, restore_optimizer, snapshot, snapshot_optimizer

__all__ = ["TrainingWarning", "check_inputs"]

PROBE_SIZE = 256  # training examples in the probe batch
GRADIENT_SAMPLES = 4  # steps per epoch whose gradient norms are recorded
SATURATED_DERIVATIVE = 0.01  # a unit is saturated where the derivative is below 1% of its peak
SATURATED_SHARE = 0.5  # ... and a layer is, where most of its units are
DEAD_SHARE = 0.5  # a ReLU layer is dying where most of its units are dead
GRADIENT_RATIO = 1e2  # a first layer's gradient norm this many times smaller (or larger) than the last's
DIVERGENCE_FACTOR = 1e3  # a loss this many times its starting value is divergence
LOSS_FLOOR = 1e-2  # ... where the starting value counts as at least this (a model that already fits)
GROWTH_FACTOR = 10  # an epoch's median loss (or the probe's) this many times the start is divergence too
GROWTH_FLOOR = 0.1  # ... where the starting value counts as at least this
LEARNED_ACCURACY = 0.9  # saturated or dead units in a network this accurate are not stopping it

_SIGMOID_PEAK, _TANH_PEAK = 0.25, 1.0


class TrainingWarning(UserWarning):
    """A problem ``fit`` noticed while training: divergence, saturation, vanishing or exploding
    gradients, dead ReLUs, unscaled inputs. Silence them with
    ``warnings.simplefilter("ignore", TrainingWarning)``, or pass ``fit(..., diagnostics=False)``.

    Chapter: 4, saturation.
    """


# ------------------------------------------------------------------------------------ the sentences
DIVERGED = (
    "fit stopped at epoch {epoch}, {where}: the training loss became {value}, against {start:.3g}"
    " at the start. The learning rate{lr_text} is too large: each step overshoots the minimum and the"
    " weights grow without bound. Try {try_lr}, 10 times smaller; the model keeps the weights it had at"
    " the start of epoch {kept}, before the loss blew up. Chapter 2, gradient descent, shows a step"
    " that overshoots."
)
SATURATED = (
    "{layer}: {share:.0%} of its units sit where the {kind}'s derivative is below 1% of its peak"
    " (|z| > {zlim}) on {n} training examples {when}, so almost no gradient flows back through them."
    " Likely cause: initial weights too large for the number of inputs (N(0, 1) weights give z a"
    " standard deviation of about the square root of the number of inputs), or unscaled inputs."
    ' Fix: init="scaled_normal" (N(0, 1/n_in)) or init="xavier", inputs scaled to [0, 1], or ReLU units.'
    " Chapter 4, saturation, explains it."
)
VANISHING = (
    "the gradients vanish: the gradient norm is {first:.2g} at the first layer, {first_name}, against"
    " {last:.2g} at the last, {last_name}: {orders:.1f} orders of magnitude smaller {when}, so the first"
    " layers barely learn. Likely cause: saturating sigmoid or tanh layers, each multiplying the"
    " gradient by a derivative of at most 1/4 (sigmoid), or initial weights too small."
    ' Fix: ReLU units with init="he", or init="xavier" for sigmoid and tanh layers.'
    " Chapter 3, backpropagation, shows the product of derivatives behind it; chapter 4 the saturation."
)
EXPLODING = (
    "the gradients explode: the gradient norm is {first:.2g} at the first layer, {first_name}, against"
    " {last:.2g} at the last, {last_name}: {orders:.1f} orders of magnitude larger {when}, so the first"
    " layers take steps far too large. Likely cause: initial weights too large, e.g. N(0, 1) with many"
    " inputs, each layer multiplying the gradient by its weights."
    ' Fix: init="he" for ReLU or init="xavier" for sigmoid and tanh,'
    " or a smaller learning rate. Chapter 3, backpropagation, shows how each layer multiplies the"
    " gradient by its weights."
)
DEAD = (
    "{layer}: {share:.0%} of its {units:,} units output 0 on all {n} training examples {when}:"
    " they are dead ReLUs, which get no gradient and do not recover. Likely cause: a learning rate too"
    " large (one big step pushed their biases far negative) or large negative biases."
    " Fix: lower the learning rate{try_lr}, or use LeakyReLU. Chapter 4 explains the dying ReLU."
)
UNSCALED_PIXELS = (
    "the training inputs X are whole numbers from 0 to {high:g}: unscaled pixel intensities."
    " Inputs this large saturate sigmoid and tanh units and make each gradient step too large."
    " Fix: scale them to [0, 1] before fit, X = X / {scale}. Chapter 4, saturation, shows why."
)
UNSCALED_FEATURES = (
    "the features of the training inputs X have very different scales: feature {big_j} reaches"
    " {big:.3g} but feature {small_j} only {small:.3g}, {ratio:,.0f} times less. One learning rate"
    " cannot suit both: it is too large for one or too small for the other."
    " Fix: standardise each feature, X = (X - X.mean(axis=0)) / X.std(axis=0), with the training"
    " set's mean and std. Chapter 2, gradient descent, shows how the step size depends on the scale."
)
UNSCALED_LARGE = (
    "the training inputs X reach {big:.3g} (feature {big_j}): unscaled. Inputs this large saturate"
    " sigmoid and tanh units and make each gradient step too large."
    " Fix: standardise each feature, X = (X - X.mean(axis=0)) / X.std(axis=0), with the training"
    " set's mean and std. Chapter 2, gradient descent, shows how the step size depends on the scale."
)


def _warn(message: str) -> None:
    """Warn at the user's line (the first frame outside nnlab), every time: no once-per-line registry.

    ``warnings.warn`` shows a message only once per line of code, so a cell run twice would stay
    silent the second time; ``warn_explicit`` with a fresh registry does not.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(here + os.sep):
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, TrainingWarning, stacklevel=2)
        return
    warnings.warn_explicit(
        message,
        TrainingWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__", "__main__"),
        registry={},
        module_globals=frame.f_globals,
    )


# ------------------------------------------------------------------------------------ input scales
def check_inputs(X: object) -> str | None:
    """The ``TrainingWarning`` sentence for unscaled inputs ``X`` (examples along axis 0), or None.

    Example:
        >>> X = np.tile([[0.0, 255.0], [17.0, 3.0]], (4, 8))  # 8 examples of 16 whole-number pixels
        >>> check_inputs(X)[:53]
        'the training inputs X are whole numbers from 0 to 255'
        >>> check_inputs(X / 255) is None
        True

    Chapter: 4, saturation.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or X.size == 0 or not np.isfinite(X).all():
        return None
    X = X.reshape(len(X), -1)
    low, high = float(X.min()), float(X.max())
    if low >= 0 and high >= 15 and X.shape[1] >= 16 and np.all(X == np.round(X)):
        return UNSCALED_PIXELS.format(high=high, scale=255 if high > 16 else 16)
    scale = np.abs(X).max(axis=0)
    used = np.flatnonzero(scale > 0)
    if used.size == 0:
        return None
    big_j, small_j = int(used[np.argmax(scale[used])]), int(used[np.argmin(scale[used])])
    big, small = float(scale[big_j]), float(scale[small_j])
    if big / small > 1e3:
        return UNSCALED_FEATURES.format(big_j=big_j, big=big, small_j=small_j, small=small, ratio=big / small)
    if big > 1e3:
        return UNSCALED_LARGE.format(big=big, big_j=big_j)
    return None


# ------------------------------------------------------------------------------------ the two paths
class _NumpyOps:
    """The few array operations the monitor needs, on NumPy arrays."""

    def take(self, X, idx):
        return X[idx]

    def probe(self, model, layers, x, watch):
        """Run the probe forward; return the output and the watched layers' figures (one array)."""
        was_training = model.training
        model.eval()
        try:
            figures = []
            if layers:
                for name, m in layers:
                    x = m(x)
                    if name in watch:
                        figures.append(_figure(watch[name], x, np))
            else:
                x = model(x)
        finally:
            model.train(was_training)
        return x, np.array(figures, dtype=np.float64)

    def grad_squares(self, model):
        return np.array([float(np.vdot(g, g)) for g in model.grads.values()])

    def exploded(self, batch_loss, limit) -> bool:
        """A loss that is NaN, infinite or above the limit: stop the epoch now."""
        return not batch_loss <= limit

    def errstate(self):
        """Overflow shows up as a non-finite loss, which the monitor explains in a sentence."""
        return np.errstate(over="ignore", invalid="ignore")

    def numpy(self, a):
        return np.asarray(a, dtype=np.float64)


class _TorchOps:
    """The same operations on tensors, on the model's device: nothing here waits for a GPU."""

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def take(self, X, idx):
        return X.index_select(0, self.torch.from_numpy(idx).to(X.device))

    def probe(self, model, layers, x, watch):
        was_training = model.training
        model.eval()
        try:
            with self.torch.no_grad():
                figures = []
                if layers:
                    for name, m in layers:
                        x = m(x)
                        if name in watch:
                            figures.append(_figure(watch[name], x, self.torch))
                else:
                    x = model(x)
        finally:
            model.train(was_training)
        stacked = self.torch.stack(figures) if figures else self.torch.zeros(0)
        return x, stacked

    def grad_squares(self, model):
        torch = self.torch
        norms = [
            torch.zeros((), device=p.device) if p.grad is None else torch.linalg.vector_norm(p.grad.detach())
            for p in model.parameters()
        ]
        return torch.stack([n.to(norms[0].dtype) for n in norms]).square()

    def exploded(self, batch_loss, limit) -> bool:
        """Never judged inside an epoch: reading the loss would make the CPU wait for the GPU."""
        return False

    def errstate(self):
        return contextlib.nullcontext()

    def numpy(self, a):
        if hasattr(a, "detach"):
            return a.detach().double().cpu().numpy()
        return np.asarray(a, dtype=np.float64)


def _figure(kind: str, a, xp):
    """A layer's figure on the probe: the share of saturated (sigmoid, tanh) or dead (ReLU) units."""
    if kind == "sigmoid":
        flat = a * (1 - a) < SATURATED_DERIVATIVE * _SIGMOID_PEAK  # σ'(z) = a(1 - a), peak 1/4
    elif kind == "tanh":
        flat = 1 - a * a < SATURATED_DERIVATIVE * _TANH_PEAK  # tanh'(z) = 1 - a², peak 1
    else:  # relu: a unit (a channel, for images) is dead when it outputs 0 on every probe example
        fired = (a > 0).reshape(a.shape[0], a.shape[1], -1)  # (N, units, positions)
        flat = ~(fired.any(axis=(0, 2)) if xp is np else fired.any(dim=2).any(dim=0))
    return flat.mean(dtype=np.float64) if xp is np else flat.to(a.dtype).mean()


_KINDS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu"}


def _leaves(model) -> list[tuple[str, object]]:
    """A Sequential's modules in order, by the names its parameters use ("0", "1", "2.0", ...); [] if not one."""
    children = getattr(model, "modules", None)
    if isinstance(children, list):  # nnlab.np_nn.Sequential
        named = [(str(i), m) for i, m in enumerate(children)]
    elif _is_torch_seq(model):  # nnlab.torch_nn.Sequential or torch.nn.Sequential
        named = list(model.named_children())
    else:
        return []
    out = []
    for name, m in named:
        inner = _leaves(m)  # a Sequential inside a Sequential: its modules, named "2.0", "2.1", ...
        if inner:
            out.extend((f"{name}.{n}", leaf) for n, leaf in inner)
        else:
            out.append((name, m))
    return out


def _is_torch_seq(model) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Sequential)


def _has_params(m) -> bool:
    if hasattr(m, "parameters") and callable(m.parameters):
        return any(True for _ in m.parameters())
    return bool(getattr(m, "params", None))


def _describe(name: str, m) -> str:
    """How a sentence names a layer: ``layer 2 (Linear)``."""
    return f"layer {name} ({type(m).__name__})"


class Monitor:
    """Watches one ``fit``. The hooks, in order: ``start()`` before training; each epoch
    ``start_epoch()``, the steps inside ``with monitor.watching():``, ``after_step(step, loss)`` after
    each (True: stop the epoch), and ``end_epoch(epoch, losses)``, which returns the step where the
    loss blew up (the weights then put back) or None. ``enabled=False`` makes every hook do nothing."""

    def __init__(
        self,
        model,
        loss,
        optimizer,
        X,
        y,
        history,
        *,
        steps_per_epoch: int,
        torch: bool,
        accuracy,
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        if not enabled:
            return
        self.ops = _TorchOps() if torch else _NumpyOps()
        self.model, self.loss, self.optimizer, self.history = model, loss, optimizer, history
        self.accuracy = accuracy
        n = len(X)
        idx = np.unique(np.linspace(0, n - 1, min(n, PROBE_SIZE)).round().astype(np.int64))
        self.X_probe, self.y_probe = self.ops.take(X, idx), self.ops.take(y, idx)
        self.layers = _leaves(model)
        self.watch = {}
        for i, (name, m) in enumerate(self.layers):
            kind = _KINDS.get(type(m).__name__)
            hidden = any(_has_params(later) for _, later in self.layers[i + 1 :])
            if kind == "relu" or (kind and hidden):
                self.watch[name] = kind
        modules = dict(self.layers)
        param_names = [k for k, _ in model.named_parameters()] if torch else list(model.params)
        self.groups: dict[str, list[int]] = {}  # layer name -> positions of its parameters
        for i, k in enumerate(param_names):
            self.groups.setdefault(k.rpartition(".")[0], []).append(i)
        self.group_names = {
            g: _describe(g, modules[g]) if g in modules else f"layer {g}" if g else type(model).__name__
            for g in self.groups
        }
        for g in self.groups:
            history.grad_norm[g] = []
        for name, kind in self.watch.items():
            (history.dead if kind == "relu" else history.saturated)[name] = []
        for name in [*self.watch, *self.groups]:
            if name in modules:
                history.layer_names[name] = type(modules[name]).__name__
        # every epoch, the gradients of GRADIENT_SAMPLES steps spread over it, the last one included
        k = min(GRADIENT_SAMPLES, steps_per_epoch)
        self.sample_steps = frozenset(
            int(s) for s in np.linspace(steps_per_epoch - 1, 0, k, endpoint=False).round()
        )
        self.squares, self.samples = None, 0
        self.warned: set[str] = set()
        self.start_loss = math.nan
        self.limit = sys.float_info.max  # until the starting loss is known: only NaN and inf count
        self.growth_limit = math.inf
        self.saved = self.saved_before = None  # weights and optimizer state: this epoch's start, the last's
        self.steps_run, self.refused, self.bad_loss = 0, False, math.nan

    # -- the hooks fit calls ----------------------------------------------------------------------
    def start(self) -> None:
        """Before training: the inputs' scale, the starting loss, and the probe's figures."""
        if not self.enabled:
            return
        text = check_inputs(self.ops.numpy(self.X_probe))
        if text:
            self._say("unscaled", text)
        with self.ops.errstate():
            pred, figures = self.ops.probe(self.model, self.layers, self.X_probe, self.watch)
            self.start_loss = float(self.loss(pred, self.y_probe))
        if math.isfinite(self.start_loss):
            self.limit = DIVERGENCE_FACTOR * max(self.start_loss, LOSS_FLOOR)
            self.growth_limit = GROWTH_FACTOR * max(self.start_loss, GROWTH_FLOOR)
        learned = self._learned(pred, self.start_loss, at_start=True)  # a second fit of a trained net
        self._judge_figures(self.ops.numpy(figures), "before training", learned=learned)

    def start_epoch(self) -> None:
        """Keep the weights and optimizer state to put back if the loss blows up (and the last epoch's)."""
        if not self.enabled:
            return
        self.saved_before = self.saved
        self.saved = (snapshot(self.model), snapshot_optimizer(self.optimizer))
        self.steps_run, self.refused = 0, False

    @contextlib.contextmanager
    def watching(self):
        """Around an epoch's steps: a layer that refuses NaN or infinity (the weights blew up) ends the
        epoch, and ``end_epoch`` reports it as divergence; on NumPy, overflow is not warned about."""
        if not self.enabled:
            yield
            return
        with self.ops.errstate():
            try:
                yield
            except NonFiniteError:
                self.refused = True

    def after_step(self, step: int, batch_loss) -> bool:
        """After a step: sample the gradients at the steps in ``sample_steps``; True: the loss blew up, stop."""
        if not self.enabled:
            return False
        self.steps_run = step + 1
        if step in self.sample_steps:
            self.grads()
        return self.ops.exploded(batch_loss, self.limit)

    def grads(self) -> None:
        """At a sampled step, after backward: add each parameter's squared gradient norm."""
        sq = self.ops.grad_squares(self.model)
        self.squares = sq if self.squares is None else self.squares + sq
        self.samples += 1

    def diverged(self, losses: np.ndarray) -> int | None:
        """The first step (counting from 0) whose loss is NaN, infinite or above ``limit``, or None."""
        losses = np.asarray(losses, dtype=np.float64)
        where = np.flatnonzero(~(losses <= self.limit))
        if not where.size and losses.size and np.median(losses) > self.growth_limit:
            where = np.flatnonzero(losses > self.growth_limit)  # grown tenfold over most of the epoch
        return int(where[0]) if where.size else None

    def end_epoch(self, epoch: int, losses: np.ndarray) -> int | None:
        """After an epoch: record, judge, warn. Returns the step where the loss blew up, or None.

        The step counts from 0; ``len(losses)`` means after the last step (the probe found it). The
        weights and optimizer state are then put back: from the start of this epoch, or of the last
        one when the first step already had a blown-up loss (the last epoch's final step caused it).
        """
        if not self.enabled:
            return None
        history = self.history
        losses = np.asarray(losses, dtype=np.float64)[: self.steps_run + self.refused]
        step = self.diverged(losses)
        if step is None and self.refused:
            step = self.steps_run
        figures, pred = None, None
        if step is None:
            try:
                with self.ops.errstate():
                    pred, figures = self.ops.probe(self.model, self.layers, self.X_probe, self.watch)
                    probe_loss = float(self.loss(pred, self.y_probe))
            except NonFiniteError:
                probe_loss = math.nan
            if not probe_loss <= min(self.limit, self.growth_limit):  # the last step blew the weights up
                step, losses = len(losses), np.r_[losses, probe_loss]
        norms = {}
        if self.samples:
            squares = self.ops.numpy(self.squares) / self.samples
            for g, where in self.groups.items():
                norms[g] = float(np.sqrt(squares[where].sum()))
            self.squares, self.samples = None, 0
        for g in self.groups:
            history.grad_norm[g].append(norms.get(g, math.nan))
        if step is not None:
            self._roll_back(epoch, step, losses)
            for name in self.watch:
                (history.dead if self.watch[name] == "relu" else history.saturated)[name].append(math.nan)
            return step
        figures = self.ops.numpy(figures)
        for (name, kind), value in zip(self.watch.items(), figures):
            (history.dead if kind == "relu" else history.saturated)[name].append(float(value))
        when = f"after epoch {epoch}"
        self._judge_figures(figures, when, learned=self._learned(pred, probe_loss))
        self._judge_gradients(norms, when)
        return None

    def _roll_back(self, epoch: int, step: int, losses: np.ndarray) -> None:
        """Put back the weights from before the blow-up, and say so."""
        back = step == 0 and self.saved_before is not None  # the last epoch's final step blew it up
        weights, state = self.saved_before if back else self.saved
        restore(self.model, weights)
        restore_optimizer(self.optimizer, state)
        self.bad_loss = float(losses[step]) if step < len(losses) else math.nan
        lr = learning_rate(self.optimizer)
        self._say(
            "diverged",
            DIVERGED.format(
                epoch=epoch,
                where=f"step {step + 1}" if step < self.steps_run + self.refused else "after its last step",
                value=f"{self.bad_loss:.3g}",
                start=self.start_loss,
                lr_text="" if lr is None else f" lr={lr:g}",
                try_lr="a learning rate" if lr is None else f"lr={lr / 10:g}",
                kept=epoch - 1 if back else epoch,
            ),
        )
        self.history.diverged = True

    def _learned(self, pred, loss: float, *, at_start: bool = False) -> bool:
        """Whether the network already fits the probe: 90% right, or (a regression target) half the start loss."""
        acc = self.accuracy(pred, self.y_probe, self.loss)
        if not math.isnan(acc):
            return acc >= LEARNED_ACCURACY
        return not at_start and loss < 0.5 * self.start_loss

    # -- judging ---------------------------------------------------------------------------------
    def _judge_figures(self, figures: np.ndarray, when: str, *, learned: bool) -> None:
        n = len(self.X_probe)
        if learned:  # a network that already fits its data is not being stopped by these units
            return
        for (name, kind), value in zip(self.watch.items(), figures):
            layer = _describe(name, dict(self.layers)[name])
            if kind == "relu" and value > DEAD_SHARE and "dead" not in self.warned:
                lr = learning_rate(self.optimizer)
                units = self._units(name)
                try_lr = "" if lr is None else f" (e.g. lr={lr / 10:g})"
                self._say(
                    "dead",
                    DEAD.format(layer=layer, share=value, units=units, n=n, when=when, try_lr=try_lr),
                )
            elif kind != "relu" and value > SATURATED_SHARE:
                zlim = 6 if kind == "sigmoid" else 3
                self._say(
                    "saturated",
                    SATURATED.format(layer=layer, share=value, kind=kind, zlim=zlim, n=n, when=when),
                )

    def _judge_gradients(self, norms: dict[str, float], when: str) -> None:
        names = [g for g in self.groups if g in norms]
        if len(names) < 2:
            return
        first, last = norms[names[0]], norms[names[-1]]
        if not (math.isfinite(first) and math.isfinite(last)) or first == 0 or last == 0:
            return  # an exactly zero gradient comes from dead units, which have their own warning
        ratio = first / last
        facts = {
            "first": first,
            "last": last,
            "first_name": self.group_names[names[0]],
            "last_name": self.group_names[names[-1]],
            "when": when,
        }
        if ratio < 1 / GRADIENT_RATIO:
            self._say("vanishing", VANISHING.format(orders=-math.log10(ratio), **facts))
        elif ratio > GRADIENT_RATIO:
            self._say("exploding", EXPLODING.format(orders=math.log10(ratio), **facts))

    def _units(self, name: str) -> int:
        """How many units (features, or channels of an image) layer ``name`` has: its output's axis 1."""
        x = self.X_probe[:1]
        was_training = self.model.training
        self.model.eval()
        try:
            with self.ops.torch.no_grad() if isinstance(self.ops, _TorchOps) else contextlib.nullcontext():
                for n, m in self.layers:
                    x = m(x)
                    if n == name:
                        return int(x.shape[1])
        finally:
            self.model.train(was_training)
        return 0

    def _say(self, kind: str, text: str) -> None:
        """Warn about ``kind`` once per fit, and keep the sentence in the History."""
        if kind in self.warned:
            return
        self.warned.add(kind)
        self.history.warnings.append(text)
        _warn(text)
