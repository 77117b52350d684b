"""The training and inference loop shared by every estimator.

This module owns torch: batching by length, weighted losses, BPTT with
gradient clipping, truncated BPTT, early stopping with the best weights
restored, and batched inference (the batches themselves come from
:mod:`skrnn._batches`). It imports nothing from scikit-learn; the
estimators hand it numpy arrays and their task's loss and validation score
(:mod:`skrnn._tasks`).

The fit loop is a stack of short functions with one job each:
:func:`train_step` (one batch), :func:`train_epoch` (one pass),
:func:`run_epoch` (an epoch plus its validation score, guarded against
divergence and interrupts) and :func:`fit_module` (the epochs and early
stopping).
"""

import importlib
import math
import signal
import threading
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch
from tqdm.auto import tqdm

from . import _warnings
from ._batches import bounded_batches, length_grouped_batches
from ._modules import step_mask
from ._schedules import current_lr


def _import_lazy_torch_modules():
    """Import the torch modules that torch imports lazily on the first
    optimizer construction and step (``torch._dynamo`` and its sympy, the
    profiler's monitor) now, with Ctrl-C held back until they are complete:
    an interrupt landing inside those imports used to leave half-initialised
    modules that broke every later fit in the process."""
    names = ("torch._dynamo", "torch.profiler._cupti_monitor")
    if threading.current_thread() is not threading.main_thread():
        for name in names:
            importlib.import_module(name)
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:  # pragma: no cover - absent in some torch builds
                pass
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


_import_lazy_torch_modules()

_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}


def resolve_device(device):
    """'auto' -> CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a torch device ({exc}); use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but CUDA is not available on this machine; "
            "use device='cpu' or device='auto'."
        )
    return device


def make_optimizer(optimizer, params, lr, weight_decay):
    """Build an optimizer from a name ('adam', 'sgd', 'rmsprop') or a class."""
    if isinstance(optimizer, str):
        # The fused kernel (one call for all parameters; 2.5x faster than the
        # foreach path for Adam on the CPU) where this torch and device have
        # it, else foreach; both apply the same update rule.
        params = list(params)
        cls = _OPTIMIZERS[optimizer]
        try:
            return cls(params, lr=lr, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return cls(params, lr=lr, weight_decay=weight_decay, foreach=True)
    return optimizer(params, lr=lr, weight_decay=weight_decay)


@dataclass
class TrainConfig:
    """Settings of one fit, translated from the estimator's parameters.

    ``batch_loss(model, x, lengths, y, w) -> (loss, total_weight)`` is the
    task's loss of one batch (``w=None``: unit weights); ``sample_loss(out,
    y) -> per-sample (or per-step) losses`` is the task's pointwise loss, used
    by truncated BPTT on the chunks of a batch.
    """

    batch_loss: Callable
    sample_loss: Optional[Callable] = None
    batch_size: int = 32
    max_iter: int = 100
    shuffle: bool = True
    clip_grad_norm: float = 1.0
    tbptt_steps: Optional[int] = None
    verbose: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0


@dataclass
class FitHistory:
    """What one call of :func:`fit_module` learned about the run."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    validation_losses: list = field(default_factory=list)
    lr_curve: list = field(default_factory=list)
    stopped_by_callback: bool = False
    final_loss: float = math.nan  # training loss of the weights kept
    at_plateau: bool = False  # final_loss at or above the plateau floor (set by the caller)
    n_iter: int = 0
    converged: bool = False
    interrupted: bool = False
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    optimizer_state: Optional[dict] = None


def weighted_loss(out, y, w, lengths, sample_loss):
    """Weighted mean loss of a batch and the batch's total weight.

    ``sample_loss(out, y)`` gives the loss of each sample (or step).
    Per-sample outputs: ``sum(w_i * l_i) / sum(w_i)``. Per-step outputs
    (N, L, K): every real step counts, ``sum_i w_i sum_t l_it / sum_i w_i T_i``.
    ``w=None`` means unit weights.
    """
    if out.dim() == 3:
        if w is None:
            w = torch.ones(out.shape[0], dtype=out.dtype, device=out.device)
        per_step = sample_loss(out, y)
        mask = step_mask(lengths, out.shape[1]).to(out.dtype)
        per_sample = (per_step * mask).sum(1)
        norm = w * lengths.to(out.dtype)
    else:
        per_sample = sample_loss(out, y)
        if w is None:
            # unit weights (``w=None``): bit-identical value and gradient, fewer ops
            n = per_sample.shape[0]
            return per_sample.sum() / n, out.new_full((), n)
        norm = w
    total = norm.sum()
    return (w * per_sample).sum() / total.clamp_min(1e-12), total


def _snapshot(obj):
    """Copy of a (nested) state dict with every tensor cloned: what
    ``copy.deepcopy`` gives, at a fraction of its cost (taken every epoch)."""
    if torch.is_tensor(obj):
        return obj.detach().clone()
    if isinstance(obj, dict):
        out = type(obj)((k, _snapshot(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(_snapshot(v) for v in obj)
    return obj


def _detach_state(state):
    return [[s.detach() if torch.is_tensor(s) else tuple(t.detach() for t in s) for s in layer]
            for layer in state]


def _tbptt_step(model, optimizer, x, lengths, y, w, cfg, params):
    """Truncated BPTT on one batch: the state is carried across chunks of
    ``tbptt_steps`` steps but the gradient is cut at chunk boundaries.

    Per-step models update after each chunk; pooled ('last') models
    accumulate the loss of the sequences that end in each chunk and update
    once per batch. Only one chunk's graph is alive at a time.
    """
    k = cfg.tbptt_steps
    L = x.shape[1]
    per_step = y.dim() == 3
    if per_step:
        norm = (w * lengths.to(torch.float32)).sum().clamp_min(1e-12)
    else:
        norm = w.sum().clamp_min(1e-12)
    state, total = None, 0.0
    optimizer.zero_grad(set_to_none=True)
    for c0 in range(0, L, k):
        xc = model.embed(x[:, c0 : c0 + k])
        chunk_len = (lengths - c0).clamp(1, xc.shape[1])
        out, state = model.encoder(xc, chunk_len, state=state)
        state = _detach_state(state)
        if per_step:
            pred = model.head(out)
            mask = step_mask(lengths - c0, out.shape[1]).to(pred.dtype)
            err = cfg.sample_loss(pred, y[:, c0 : c0 + k])
            loss = (w * (err * mask).sum(1)).sum() / norm
            loss.backward()
            _clip_and_step(optimizer, params, cfg)
            optimizer.zero_grad(set_to_none=True)
        else:
            ends = (lengths - 1 >= c0) & (lengths - 1 < c0 + k)
            if not bool(ends.any()):
                continue
            rows = ends.nonzero().squeeze(1)
            last = out[rows, (lengths[rows] - 1 - c0)]
            pred = model.head(last)
            err = cfg.sample_loss(pred, y[rows])
            loss = (w[rows] * err).sum() / norm
            loss.backward()
        total += float(loss.detach())
    if not per_step:
        _clip_and_step(optimizer, params, cfg)
    return total


def _clip_and_step(optimizer, params, cfg):
    if cfg.clip_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad_norm)
    optimizer.step()


def train_step(model, optimizer, data, idx, cfg, params):
    """One optimisation step on batch ``idx``; returns (loss, batch weight)."""
    x, lengths, y, w = data.get(idx)
    if cfg.tbptt_steps is not None:
        norm = w.sum()
        return _tbptt_step(model, optimizer, x, lengths, y, w, cfg, params) * norm, norm
    optimizer.zero_grad(set_to_none=True)
    loss, norm = cfg.batch_loss(model, x, lengths, y, None if data.unit_weights else w)
    loss.backward()
    _clip_and_step(optimizer, params, cfg)
    return loss.detach() * norm, norm


def train_epoch(model, optimizer, data, batches, cfg, after_step=None):
    """One pass over ``batches``; returns the weighted mean training loss.
    ``after_step()`` (a per-batch learning-rate schedule) runs after each batch."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    total = torch.zeros((), device=cfg.device)
    weight = torch.zeros((), device=cfg.device)
    for idx in batches:
        loss, norm = train_step(model, optimizer, data, idx, cfg, params)
        total += loss
        weight += norm
        if after_step is not None:
            after_step()
    return float(total / weight.clamp_min(1e-12))


@torch.inference_mode()
def predict_outputs(model, data, batch_size, transform=None):
    """Network outputs for every sample, in the original order.

    Batches are grouped by length and streamed to the model's device, so
    memory stays bounded by one batch. Returns (n_samples, K) or, for
    per-step models, (total_steps, K) float32 numpy arrays. ``transform``
    (e.g. softmax) is applied per batch on the device.
    """
    model.eval()
    outputs = None
    for idx in bounded_batches(data.lengths_np, batch_size):
        x, lengths, _, _ = data.get(idx)
        out = model(x, lengths)
        if transform is not None:
            out = transform(out)
        per_step = out.dim() == 3
        if per_step:
            mask = step_mask(lengths, out.shape[1])
            pos, _ = data.positions(torch.as_tensor(idx).to(data.values.device))
            idx = pos.to(out.device)[mask].cpu().numpy()
            out = out[mask]
        out = out.float().cpu().numpy()
        if outputs is None:
            n_rows = data.values.shape[0] if per_step else data.n_samples
            outputs = np.empty((n_rows, out.shape[1]), dtype=np.float32)
        outputs[idx] = out
    return outputs


def _weights_finite(model):
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite."""


def _restore(model, optimizer, state):
    model.load_state_dict(state[0])
    optimizer.load_state_dict(state[1])


def run_epoch(model, optimizer, train, cfg, rng, val, val_score, epoch, after_step=None):
    """Epoch number ``epoch`` and, with ``val``, its validation results.

    Returns ``(loss, scores)``: ``scores`` is ``val_score(model, val)``, a
    dict (``val_loss``, ``val_score``), or None without validation. A
    non-finite loss or weights restore the epoch's starting point and raise
    :class:`TrainingDivergedError`; a ``KeyboardInterrupt`` restores it and
    propagates.
    """
    start = (_snapshot(model.state_dict()), _snapshot(optimizer.state_dict()))
    batches = length_grouped_batches(train.lengths_np, cfg.batch_size, rng if cfg.shuffle else None)
    try:
        loss = train_epoch(model, optimizer, train, batches, cfg, after_step)
        # a step after the epoch's last loss can still poison the weights
        finite = math.isfinite(loss) and _weights_finite(model)
        score = dict(val_score(model, val)) if (val is not None and finite) else None
    except KeyboardInterrupt:
        _restore(model, optimizer, start)
        raise
    if not finite:
        _restore(model, optimizer, start)
        raise TrainingDivergedError(
            (f"The training loss became {loss}" if not math.isfinite(loss)
             else "The weights became NaN or infinite")
            + f" in epoch {epoch}; the weights of the last finite epoch were restored. "
            "Lower learning_rate_init, set clip_grad_norm, or scale the inputs/targets."
        )
    return loss, score


def validation_loss(model, val, cfg):
    """Weighted mean loss of ``model`` on the held-out batches ``val``."""
    model.eval()
    total = weight = 0.0
    with torch.inference_mode():
        for idx in length_grouped_batches(val.lengths_np, max(cfg.batch_size, 256)):
            x, lengths, y, w = val.get(idx)
            loss, norm = cfg.batch_loss(model, x, lengths, y, w)
            total, weight = total + float(loss) * float(norm), weight + float(norm)
    return total / max(weight, 1e-12)


def fit_module(model, optimizer, train, cfg, *, val=None, val_score=None, epochs=None,
               stopper, schedule=None, on_epoch=None):
    """Train ``model`` for up to ``epochs`` (default ``cfg.max_iter``) epochs.

    Parameters
    ----------
    model : torch.nn.Module
    optimizer : torch.optim.Optimizer
    train : SequenceBatches
    cfg : TrainConfig
    val : SequenceBatches or None
        Held-out data for early stopping.
    val_score : callable or None
        ``val_score(model, val) -> {"val_loss": float, "val_score": float}``
        (score: higher is better). Required with ``val``.
    stopper : skrnn._stopping.Stopper
        The stopping rule; keeps the best validation weights.
    schedule : skrnn._schedules.Schedule or None
        The learning-rate schedule, stepped per batch or per epoch.
    on_epoch : callable or None
        ``on_epoch(logs) -> bool``: the callbacks, with ``logs`` holding
        ``epoch, loss, lr`` (and ``val_loss, val_score``); True stops.

    Returns
    -------
    FitHistory
        The model holds the final weights, or the best ones when early
        stopping on validation data. A ``KeyboardInterrupt`` ends training
        with a warning and a usable model from the last completed epoch.
        A non-finite loss restores the last good weights and raises
        :class:`TrainingDivergedError`.
    """
    history = FitHistory()
    epochs = cfg.max_iter if epochs is None else epochs
    rng = np.random.default_rng(cfg.seed)
    after_step = None if schedule is None else schedule.after_batch
    bar = tqdm(range(epochs), disable=not cfg.verbose, desc="epochs", unit="epoch")
    for _ in bar:
        lr = current_lr(optimizer)
        try:
            loss, scores = run_epoch(
                model, optimizer, train, cfg, rng, val, val_score, history.n_iter + 1, after_step
            )
        except KeyboardInterrupt:
            history.interrupted = True
            _warnings.warn(
                f"Training interrupted by the user during epoch {history.n_iter + 1}; "
                f"the model keeps the weights after {history.n_iter} completed epoch(s)"
                + (" (best validation weights restored)" if stopper.best_state else "")
                + ".",
                UserWarning,
            )
            break
        scores = scores or {}
        history.loss_curve.append(loss)
        history.lr_curve.append(lr)
        history.n_iter += 1
        if scores:
            history.validation_losses.append(scores["val_loss"])
            history.validation_scores.append(scores["val_score"])
        if cfg.verbose:
            bar.set_postfix(loss=f"{loss:.4f}", **{k: f"{v:.4f}" for k, v in scores.items()})
        if schedule is not None:
            schedule.after_epoch(scores.get("val_loss", loss))
        stop = stopper.update(model, loss, **scores)
        logs = {"epoch": history.n_iter, "loss": loss, "lr": lr, **scores}
        if on_epoch is not None and on_epoch(logs):
            history.stopped_by_callback = True
            break
        if stop:
            history.converged = True
            break
    bar.close()
    history.final_loss = history.loss_curve[-1] if history.loss_curve else math.nan
    if stopper.best_state is not None:
        model.load_state_dict(stopper.best_state)
        history.final_loss = stopper.best_train_loss
    history.optimizer_state = optimizer.state_dict()
    return history
