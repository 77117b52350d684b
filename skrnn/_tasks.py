"""The tasks behind the estimators: what differs between classification,
regression and sequence-to-sequence learning.

``BaseRNN`` owns one fit/partial_fit path for every estimator; at each point
where the tasks differ it calls its estimator's task object, an instance of a
class following :class:`Task`. Each method has one signature for all tasks:

- ``encode_targets``: check ``y`` against the validated input and turn it into
  the targets the network trains on, recording fitted attributes (classes,
  output sizes, vocabularies) on the first fit;
- ``network_spec`` / ``build_network``: the JSON-able sizes of the network
  and a freshly initialised network built from them and the parameters;
- ``batches``: the training data the engine iterates over;
- ``batch_loss`` (and ``sample_loss``, for truncated BPTT): the weighted loss of
  one batch;
- ``validation_score``: the early-stopping score of held-out data, higher is
  better;
- ``inference_output``: the user's prediction from the network's outputs.

The sequence-to-sequence task lives in :mod:`skrnn._seq2seq_task`.
"""

from typing import Any, Callable, Optional, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import r2_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from . import _engine, _losses, _stopping
from ._batches import SequenceBatches
from ._conv import ConvSequenceNet
from ._data import Sequences, align_step_targets, pad_values
from ._data import _pad_channels_last as pad_channels_last
from ._front_end import front_end_kwargs
from ._memory import check_batch, recurrent_bytes
from ._modules import SequenceNet
from ._vocab import N_SPECIAL, UNK, _lookup, _vocabulary

_VALIDATION_BATCH = 1024


class Task(Protocol):
    """What an estimator's task provides to the shared fit path."""

    def encode_targets(self, est, y, X: Sequences, *, first: bool, classes=None,
                       sample_weight=None) -> Any:
        """Targets for the network (an array, or :class:`Sequences` for
        per-step / sequence targets) from ``y`` and the validated input ``X``;
        ``sample_weight`` (checked, one per sample, or None) weighs anything
        fitted on the targets."""

    def sample_weights(self, est, targets) -> Any:
        """Per-sample weights the task adds (class weights), or 1.0."""

    def stratify(self, targets, n_val: int) -> Optional[np.ndarray]:
        """Labels to stratify a validation split of ``n_val`` samples by, or None."""

    def network_spec(self, est, X: Sequences) -> dict:
        """JSON-able sizes of the network for input ``X`` (ints only)."""

    def build_network(self, est, spec: dict) -> torch.nn.Module:
        """A freshly initialised network from ``spec`` and ``est``'s parameters
        and fitted attributes."""

    def batches(self, X: Sequences, targets, weights, device) -> SequenceBatches:
        """Training (or validation) batches of ``X`` with its targets."""

    def batch_loss(self, est, model, x, lengths, y, w):
        """``(weighted mean loss, total weight)`` of one batch (``w=None``:
        unit weights)."""

    @property
    def sample_loss(self) -> Optional[Callable]:
        """``sample_loss(out, y)``: the pointwise loss truncated BPTT applies
        to the chunks of a batch; None when the task does not support it."""

    def validation_score(self, est, model, val) -> float:
        """Score of ``model`` on the held-out batches ``val``; higher is better."""

    def constant_loss(self, est, targets, weights) -> Optional[float]:
        """The training loss of the best constant predictor (the level of a
        network that has learned nothing from ``X``), or None when the task
        has no such level."""

    def inference_output(self, est, outputs, X: Sequences) -> Any:
        """The prediction returned to the user from the network's outputs on ``X``."""


def token_vocabulary(ids):
    """The sorted distinct token ids of the fit (int64): the embedding has
    one row per distinct id (plus the shared "unknown" row), whatever the
    ids' size."""
    return _vocabulary(ids, "tokens")


def token_rows(ids, vocabulary, n_tokens):
    """Embedding rows of token ids: their position in the fitted
    ``vocabulary``, or ``n_tokens`` (the shared "unknown" row) for ids never
    seen in fit. Without a vocabulary (``vocabulary`` None: small ids) the
    ids are the rows, capped at ``n_tokens`` (the largest id seen + 1)."""
    if vocabulary is None:
        return np.minimum(ids, n_tokens)
    rows = _lookup(ids, vocabulary)
    return np.where(rows == UNK, n_tokens, rows - N_SPECIAL)


def subset_targets(targets, idx):
    """Rows ``idx`` of per-sample targets, or samples ``idx`` of sequence targets."""
    return targets.subset(idx) if isinstance(targets, Sequences) else targets[idx]


class _SequenceNetTask:
    """Shared by classification and regression: a :class:`SequenceNet` with
    a linear head, trained on a pointwise loss."""

    def sample_weights(self, est, targets):
        return 1.0

    def stratify(self, targets, n_val):
        return None

    def network_spec(self, est, X):
        return {"n_inputs": int(X.n_features), "n_outputs": int(self._n_outputs(est))}

    def build_network(self, est, spec):
        front = front_end_kwargs(est)
        return (SequenceNet if front is None else ConvSequenceNet)(
            spec["n_inputs"],
            spec["n_outputs"],
            **(front or {}),
            **est._recurrent_kwargs(),
            return_sequences=est._return_sequences,
            num_embeddings=None if est.embedding_dim is None else est.n_tokens_ + 1,
            embedding_dim=est.embedding_dim,
        )

    def batches(self, X, targets, weights, device):
        per_step = isinstance(targets, Sequences)
        values = targets.values if per_step else targets
        return SequenceBatches(X.values, X.offsets, values, weights, per_step, device)

    def batch_loss(self, est, model, x, lengths, y, w):
        check_batch(
            recurrent_bytes(x.shape[0], x.shape[1], est.hidden_size, est.num_layers,
                            2 if est.bidirectional else 1),
            f"{x.shape[0]} sequences of up to {x.shape[1]} steps",
            "Set tbptt_steps (truncated backpropagation keeps one chunk), lower "
            "batch_size or hidden_size,",
        )
        return _engine.weighted_loss(model(x, lengths), y, w, lengths, self.loss_of(est))

    def loss_of(self, est):
        """The pointwise loss for ``est`` (the task's ``sample_loss`` unless a
        task's loss depends on the estimator's parameters)."""
        return self.sample_loss

    def validation_score(self, est, model, val):
        outputs = _engine.predict_outputs(model, val, _VALIDATION_BATCH)
        return self._score(outputs, val.targets.cpu().numpy())


def _require_y(est, y):
    if y is None:
        raise ValueError(
            f"{type(est).__name__} requires y to be passed, but the target y is None."
        )


class ClassificationTask(_SequenceNetTask):
    """Labels -> class ids, cross-entropy, accuracy, labels out."""

    @staticmethod
    def sample_loss(out, y):
        return F.cross_entropy(out, y, reduction="none")

    def encode_targets(self, est, y, X, *, first, classes=None, sample_weight=None):
        _require_y(est, y)
        y = column_or_1d(y, warn=True)
        if len(y) != X.n_samples:
            raise ValueError(f"y has {len(y)} labels but X has {X.n_samples} sequences.")
        check_classification_targets(y)
        if first:
            est._label_encoder = LabelEncoder().fit(y if classes is None else classes)
            est.classes_ = est._label_encoder.classes_
        unknown = np.setdiff1d(y, est.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in the first fit: {unknown[:5]!r}.")
        return est._label_encoder.transform(y).astype(np.int64)

    def sample_weights(self, est, targets):
        if est.class_weight is None:
            return 1.0
        return compute_sample_weight(
            _encoded_class_weight(est.class_weight, est.classes_), targets
        ).astype(np.float32)

    def stratify(self, targets, n_val):
        # stratify when every class can appear on both sides of the split
        counts = np.bincount(targets)
        n_classes = np.count_nonzero(counts)
        can = counts[counts > 0].min() >= 2 and n_classes <= min(n_val, len(targets) - n_val)
        return targets if can else None

    @staticmethod
    def _n_outputs(est):
        return len(est.classes_)

    def constant_loss(self, est, targets, weights):
        return _stopping.class_prior_loss(targets, weights, len(est.classes_))

    @staticmethod
    def _score(outputs, targets):
        return float(np.mean(outputs.argmax(1) == targets))

    def inference_output(self, est, outputs, X):
        return est.classes_[outputs.argmax(1)]


def _encoded_class_weight(class_weight, classes):
    """Re-key a {label: weight} dict by encoded label (0 .. n_classes - 1)."""
    if isinstance(class_weight, dict):
        missing = set(class_weight) - set(classes.tolist())
        if missing:
            raise ValueError(f"class_weight names classes not in y: {sorted(missing)!r}.")
        return {i: class_weight.get(c, 1.0) for i, c in enumerate(classes.tolist())}
    return class_weight


class RegressionTask(_SequenceNetTask):
    """Float targets (per sample, or per step with ``return_sequences``),
    standardised per output for training (:mod:`skrnn._losses`), the loss of
    ``est.loss``, R^2 of the point prediction, values out."""

    # the squared error; RNNRegressor hands the engine the loss of its
    # ``loss`` parameter (``_losses.sample_loss_for``)
    sample_loss = staticmethod(_losses.squared_error)

    @staticmethod
    def loss_of(est):
        return _losses.sample_loss_for(est)

    def encode_targets(self, est, y, X, *, first, classes=None, sample_weight=None):
        _require_y(est, y)
        if est.return_sequences:
            values, one_d = align_step_targets(y, X)
        else:
            y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
            if y.ndim not in (1, 2):
                raise ValueError(f"y must be 1-D or 2-D (n_samples, n_outputs); got shape {y.shape}.")
            if len(y) != X.n_samples:
                raise ValueError(f"y has {len(y)} rows but X has {X.n_samples} sequences.")
            one_d = y.ndim == 1
            values = np.ascontiguousarray(y.reshape(len(y), -1), dtype=np.float32)
        if not np.isfinite(values).all():
            raise ValueError(
                "y holds values beyond the float32 range the network computes in "
                "(|y| > 3.4e38); rescale the targets (e.g. TransformedTargetRegressor)."
            )
        if first:
            est.n_outputs_ = values.shape[1]
            est._y_one_d = one_d
            est.quantiles_ = (
                _losses.check_quantiles(est.quantiles) if est.loss == "quantile" else None
            )
            _losses.fit_target_scaling(est, values, _per_row(est, X, sample_weight))
        else:
            if values.shape[1] != est.n_outputs_:
                raise ValueError(
                    f"y has {values.shape[1]} outputs; the model was fitted with {est.n_outputs_}."
                )
            _check_same_head(est)
        values = _losses.scale_targets(est, values)
        return Sequences(values, X.offsets) if est.return_sequences else values

    @staticmethod
    def _n_outputs(est):
        return est.n_outputs_ * _losses.n_quantiles(est)

    def validation_score(self, est, model, val):
        outputs = _engine.predict_outputs(model, val, _VALIDATION_BATCH)
        # R^2 is unchanged by the per-output standardisation of the targets
        point = _losses.point_values(est, outputs)
        truth = val.targets.cpu().numpy() * est.target_scale_ + est.target_mean_
        return float(r2_score(truth, point))

    def constant_loss(self, est, targets, weights):
        # per-step targets: every real step counts, weighted by its sequence's weight
        if isinstance(targets, Sequences):
            weights = np.repeat(np.broadcast_to(weights, targets.lengths.shape), targets.lengths)
            targets = targets.values
        if est.loss == "squared_error":
            return _stopping.variance_loss(targets, weights)
        return _losses.constant_loss(est, targets, weights)

    def inference_output(self, est, outputs, X):
        return self._shaped(est, _losses.point_values(est, outputs), X)

    def quantile_output(self, est, outputs, X):
        """All quantiles: (n_samples, Q), (n_samples, n_outputs, Q), or per step."""
        return self._shaped(est, _losses.quantile_values(est, outputs), X)

    @staticmethod
    def _shaped(est, out, X):
        """Rows (n_rows, K[, Q]) in the user's layout: one sample per row, or
        per step with ``return_sequences``; the output axis dropped for a
        1-D ``y``. Per-step quantiles come channels-last: (n_samples,
        n_timesteps[, K], Q) or a list of (T_i[, K], Q) arrays."""
        if est._y_one_d:
            out = out[:, 0]
        if not est.return_sequences:
            return out
        if out.ndim == 1:
            return pad_values(out[:, None], X, squeeze=True)
        tail = out.shape[1:]
        if out.ndim == 2 and est.loss != "quantile":
            return pad_values(out, X)
        padded = pad_channels_last(out.reshape(len(out), -1), X, np.nan)
        if isinstance(padded, list):
            return [p.reshape(len(p), *tail) for p in padded]
        return padded.reshape(*padded.shape[:2], *tail)


def _per_row(est, X, sample_weight):
    """Sample weights (or None) one per target row: repeated per step with
    ``return_sequences``."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    return np.repeat(w, X.lengths) if est.return_sequences else w


def _check_same_head(est):
    """Continuing a fit (warm_start, partial_fit) needs the network's output
    layer to fit the current ``loss``/``quantiles``."""
    now = _losses.check_quantiles(est.quantiles) if est.loss == "quantile" else None
    fitted = getattr(est, "quantiles_", None)
    same = (now is None and fitted is None) or (
        now is not None and fitted is not None and np.array_equal(now, fitted)
    )
    if not same or est._network_spec["n_outputs"] != est.n_outputs_ * _losses.n_quantiles(est):
        raise ValueError(
            "loss or quantiles changed between a quantile and a point loss (or to other "
            "levels) since the first fit, so the fitted network's outputs no longer match; "
            "set warm_start=False (or use a new estimator) to fit from scratch."
        )
