"""The training and inference loop shared by every estimator.

Batching by length, weighted losses, BPTT with gradient clipping, truncated
BPTT, early stopping with the best weights restored, and batched inference.
It knows no estimator and imports nothing from scikit-learn: the estimators
hand it compact sequences (:class:`SequenceBatches`: grouped by length for
training, bounded in padded size for inference, gathered on the device as
padded tensors), a :class:`TrainConfig` with their loss, a stopping rule, a
schedule and callbacks (:mod:`skrnn._base`).

The fit loop is a stack of short functions with one job each:
:func:`train_step` (one batch), :func:`train_epoch` (one pass),
:func:`run_epoch` (an epoch plus its validation score, guarded against
divergence and interrupts) and :func:`fit_module` (the epochs and early
stopping).
"""

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import _warnings
from .._nn.recurrent import step_mask
from ..exceptions import TrainingDivergedError
from .schedules import current_lr


# ------------------------------------------------------------------ batches
class SequenceBatches:
    """Gathers padded batches from compact sequences.

    Parameters
    ----------
    values : ndarray (total_steps, F)
    offsets : ndarray (n_samples + 1,)
    targets : ndarray or None
        (n_samples, ...) per-sample targets or (total_steps, K) per-step ones.
    weights : ndarray (n_samples,) or None
    per_step : bool
        Whether ``targets`` are per time step.
    device : torch.device
        Where the whole data set lives (training) or where batches are sent
        (inference keeps the data on the CPU and streams batches).
    """

    def __init__(self, values, offsets, targets=None, weights=None, per_step=False,
                 device="cpu", stream=False):
        self.device = torch.device(device)
        home = torch.device("cpu") if stream else self.device
        self.values = torch.as_tensor(values).to(home)
        self.lengths_np = np.diff(offsets).astype(np.int64)
        self.n_samples = len(self.lengths_np)
        self.lengths = torch.as_tensor(self.lengths_np).to(home)
        self.starts = torch.as_tensor(np.asarray(offsets[:-1], dtype=np.int64)).to(home)
        self.uniform = bool(self.n_samples) and bool(np.all(self.lengths_np == self.lengths_np[0]))
        if self.uniform:
            T = int(self.lengths_np[0])
            self.values3d = self.values.view(self.n_samples, T, -1)
        self.targets = None if targets is None else torch.as_tensor(targets).to(home)
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.float32).to(home)
        # all-ones weights (no sample/class weights): the loss can skip them
        self.unit_weights = weights is None or bool(np.all(np.asarray(weights) == 1))
        self.per_step = per_step

    def positions(self, idx):
        """Flat step indices (B, Lmax), clamped to each sample's last step."""
        lengths = self.lengths[idx]
        L = int(lengths.max())
        t = torch.arange(L, device=lengths.device).unsqueeze(0)
        return self.starts[idx].unsqueeze(1) + torch.minimum(t, lengths.unsqueeze(1) - 1), lengths

    def get(self, idx):
        """Return x (B, L, F), lengths (B,), y, w for sample indices ``idx``."""
        idx = torch.as_tensor(idx).to(self.values.device)
        if self.uniform:
            x = self.values3d[idx]
            lengths = self.lengths[idx]
            pos = None
        else:
            pos, lengths = self.positions(idx)
            x = self.values[pos]
        y = w = None
        if self.targets is not None:
            if self.per_step:
                if pos is None:
                    pos, _ = self.positions(idx)
                y = self.targets[pos]
            else:
                y = self.targets[idx]
        if self.weights is not None:
            w = self.weights[idx]
        dev = self.device
        if x.device != dev:
            x, lengths = x.to(dev, non_blocking=True), lengths.to(dev)
            y = None if y is None else y.to(dev)
            w = None if w is None else w.to(dev)
        return x, lengths, y, w


def length_grouped_batches(lengths, batch_size, rng=None):
    """Split sample indices into batches of similar length.

    With ``rng`` the samples are shuffled first (ties in length stay in random
    order) and the order of the batches is shuffled, so training stays
    stochastic; without it the order is deterministic (inference).
    """
    n = len(lengths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    if not np.all(lengths == lengths[0]):
        order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None and len(batches) > 1:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


# inference batches pad at most batch_size * this many steps
_PADDED_STEPS_PER_SAMPLE = 256


def bounded_batches(lengths, batch_size):
    """Length-grouped inference batches that pad at most ``batch_size * 256``
    steps: a batch holding a few very long sequences
    is split, so one long sequence among short ones costs its own length, not
    ``batch_size`` times it. Deterministic order."""
    max_steps = batch_size * _PADDED_STEPS_PER_SAMPLE
    for idx in length_grouped_batches(lengths, batch_size):
        L = lengths[idx]  # ascending within a batch
        if len(idx) * int(L[-1]) <= max_steps:
            yield idx
            continue
        start = 0
        while start < len(idx):
            end = start + 1
            while end < len(idx) and (end + 1 - start) * int(L[end]) <= max_steps:
                end += 1
            yield idx[start:end]
            start = end


class PairBatches(SequenceBatches):
    """Input batches plus the target sequences, which have their own lengths.

    ``get`` returns ``y`` as ``(targets (B, T, 1 or K), target_lengths (B,))``
    post-padded (filler past each length is never read by the loss).
    """

    def __init__(self, src, tgt, weights, device, stream=False):
        super().__init__(src.values, src.offsets, None, weights, False, device, stream)
        self.targets_batches = SequenceBatches(
            tgt.values, tgt.offsets, device=device, stream=stream
        )

    def get(self, idx):
        x, lengths, _, w = super().get(idx)
        y, y_lengths, _, _ = self.targets_batches.get(idx)
        return x, lengths, (y, y_lengths), w


# ------------------------------------------------------------------ training
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
    stopper : skrnn._train.stopping.Stopper
        The stopping rule; keeps the best validation weights.
    schedule : skrnn._train.schedules.Schedule or None
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
