"""BaseRNN: the parameters, validation and the one fit path shared by the
recurrent estimators. What differs between them lives in their task object
(:mod:`skrnn._tasks`)."""

from __future__ import annotations

import copy
import functools
import warnings
from numbers import Integral, Real
from typing import Literal, Optional, Sequence, Union

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _engine, _schedules, _seeding, _stopping, _training
from . import _front_end
from . import callbacks as _callbacks
from ._batches import SequenceBatches
from ._compat import Interval, StrOptions
from ._data import check_sample_aligned
from ._doclink import DOC_LINK_TEMPLATE, doc_link_url_params
from ._tasks import Task, subset_targets, token_rows, token_vocabulary
from ._threads import with_torch_threads
from ._validation import validate_sequences
from .persistence import PersistenceMixin

_INFERENCE_BATCH = 1024
# Inputs whose compact (unpadded) values exceed this many bytes stay in host
# memory during inference and go to the device batch by batch.
_STREAM_BYTES = 1 << 28

# Types of the shared parameters, used in every estimator's signature.
Cell = Literal["rnn", "lstm", "gru"]
Nonlinearity = Literal["tanh", "relu"]
PoolingKind = Literal["last", "mean", "max", "attention"]
DataFormat = Literal["channels_last", "channels_first"]
OptimizerSpec = Union[Literal["adam", "sgd", "rmsprop"], "type[torch.optim.Optimizer]"]
DeviceSpec = Union[Literal["auto", "cpu", "cuda"], str, torch.device]
RandomState = Union[int, np.random.RandomState, None]
LRSchedule = Union[
    Literal["constant", "cosine", "onecycle", "plateau"], "type[torch.optim.lr_scheduler.LRScheduler]"
]
# the convolutional front end of RNNClassifier and RNNRegressor (skrnn/_conv.py)
ConvSizes = Union[int, Sequence[int]]
ConvMode = Literal["before", "beside"]
FRONT_END_CONSTRAINTS = {
    "conv_channels": [Interval(Integral, 1, None, closed="left"), "array-like", None],
    "conv_kernel_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "conv_stride": [Interval(Integral, 1, None, closed="left")],
    "conv_mode": [StrOptions({"before", "beside"})],
}
# model files written before the front end existed have none
_FRONT_END_OFF = {"conv_channels": None, "conv_kernel_sizes": 3, "conv_stride": 1,
                  "conv_mode": "before"}


_ADDED_PARAMS = {"lr_schedule": "constant", "lr_schedule_params": None,
                 "early_stopping_monitor": "score", "callbacks": None,
                 "data_format": "channels_last", "n_threads": None}


def _stream(seqs):
    """Whether inference streams batches from host memory (large inputs) or
    moves the compact input to the device once (the common case on a GPU;
    no difference on the CPU)."""
    return seqs.values.nbytes > _STREAM_BYTES


def estimator_snapshot(estimator):
    """A shallow copy of ``estimator`` sharing its attribute values, taken in
    one step (a dict copy): fit works on one and publishes it, predict reads
    one, so neither sees another thread's half-finished refit."""
    snap = object.__new__(type(estimator))
    snap.__dict__ = dict(estimator.__dict__)
    return snap


def store_params(estimator, params):
    """Store an ``__init__``'s arguments (its ``locals()``) as attributes,
    unchanged, as scikit-learn requires."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


def _optimizer_class(value):
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


class BaseRNN(PersistenceMixin, BaseEstimator):
    """Shared parameters and the fit/predict path of the recurrent estimators.

    Subclasses write their full keyword-only ``__init__`` (calling
    :func:`store_params`), set ``_task`` to their task object and add their
    parameters to ``_parameter_constraints``; adding a parameter means its
    signature entry, docstring entry, constraint and one pass-through.
    """

    # the HTML repr's "?" icon links to the class's API page (see _doclink.py)
    _doc_link_module = "skrnn"
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    # the shared parameters (set by each subclass's __init__)
    cell: Cell
    hidden_size: int
    num_layers: int
    bidirectional: bool
    dropout: float
    nonlinearity: Nonlinearity
    embedding_dim: Optional[int]
    mask_value: Optional[float]
    data_format: DataFormat
    pooling: PoolingKind
    optimizer: OptimizerSpec
    learning_rate_init: float
    lr_schedule: LRSchedule
    lr_schedule_params: Optional[dict]
    alpha: float
    batch_size: int
    max_iter: int
    shuffle: bool
    clip_grad_norm: Optional[float]
    tbptt_steps: Optional[int]
    early_stopping: bool
    validation_fraction: float
    early_stopping_monitor: str
    n_iter_no_change: int
    tol: Optional[float]
    device: DeviceSpec
    n_threads: Optional[int]
    random_state: RandomState
    verbose: int
    warm_start: bool
    callbacks: Optional[list]

    _task: Task
    _return_sequences = False

    _parameter_constraints: dict = {
        "cell": [StrOptions({"rnn", "lstm", "gru"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "mask_value": [Real, None],
        "data_format": [StrOptions({"channels_last", "channels_first"})],
        "pooling": [StrOptions({"last", "mean", "max", "attention"})],
        "optimizer": [StrOptions({"adam", "sgd", "rmsprop"}), callable],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(_schedules.NAMED)), callable],
        "lr_schedule_params": [dict, None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "tbptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "early_stopping_monitor": [StrOptions({"loss", "score"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str, torch.device],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, None],
    }

    def _validation_split(self, targets, n_samples, seed):
        """Train / validation indices for early stopping."""
        n_val = _stopping.validation_size(
            n_samples, self.validation_fraction, len(getattr(self, "classes_", ()))
        )
        return train_test_split(
            np.arange(n_samples), test_size=n_val, random_state=seed,
            stratify=self._task.stratify(targets, n_val),
        )

    # ------------------------------------------------------------ validation
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN marks padding steps (mask_value=np.nan); NaN inside a sequence
        # still raises.
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags

    def _check_params_combination(self):
        if self.optimizer not in ("adam", "sgd", "rmsprop") and not _optimizer_class(self.optimizer):
            raise ValueError(
                "optimizer must be 'adam', 'sgd', 'rmsprop' or a torch.optim.Optimizer "
                f"subclass; got {self.optimizer!r}."
            )
        if self.tbptt_steps is not None:
            if self.bidirectional:
                raise ValueError(
                    "tbptt_steps cannot be combined with bidirectional=True: the backward "
                    "direction needs the whole sequence. Pass bidirectional=False (and "
                    "pooling='last' for a classifier or a many-to-one regressor)."
                )
            if not self._return_sequences and self.pooling != "last":
                raise ValueError(
                    f"tbptt_steps needs pooling='last' (or return_sequences=True); "
                    f"pooling={self.pooling!r} reads every step of the sequence at once."
                )
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"dropout={self.dropout} has no effect with num_layers=1: it applies "
                "between stacked recurrent layers only (as in torch.nn.LSTM). Use "
                "num_layers >= 2, or dropout=0.0 to silence this warning.",
                UserWarning,
                stacklevel=4,
            )
        _schedules.check_schedule(self.lr_schedule, self.lr_schedule_params)
        _callbacks.check_callbacks(self.callbacks)
        if "conv_channels" in self._parameter_constraints:
            _front_end.check_front_end(self)

    def _validate_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X`` and return it as :class:`~skrnn._data.Sequences`.

        2-D tables follow sklearn's convention (``n_features_in_`` counts the
        columns, i.e. time steps); 3-D and ragged input count features per step.
        """
        seqs = validate_sequences(
            self, X, reset=reset, mask_value=self.mask_value,
            sequence_lengths=sequence_lengths, token_ids=self.embedding_dim is not None,
            data_format=self.data_format,
        )
        if reset:
            self._fitted_with_lengths = sequence_lengths is not None
        elif (
            sequence_lengths is None and seqs.form != "ragged"
            and getattr(self, "_fitted_with_lengths", False)
        ):
            warnings.warn(
                f"{type(self).__name__} was fitted with sequence_lengths, but this padded "
                "X comes without them, so every step that is not mask_value padding is "
                "read as real. Pass sequence_lengths=... here too; in GridSearchCV or "
                "cross_validate, enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and request them "
                "with .set_fit_request(sequence_lengths=True)"
                ".set_score_request(sequence_lengths=True) so they reach scoring.",
                UserWarning,
                stacklevel=4,
            )
        return seqs

    def _encode_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X``; return (the network's input, the validated input).

        Token ids (``embedding_dim`` set) map through the vocabulary of
        distinct ids learned in fit (``n_tokens_`` of them, one embedding row
        each, whatever their size); ids never seen in fit share one extra
        "unknown" row.
        """
        raw = self._validate_X(X, reset=reset, sequence_lengths=sequence_lengths)
        if self.embedding_dim is None:
            return raw, raw
        if reset:
            vocabulary = self._token_vocabulary = token_vocabulary(raw.values)
            self.n_tokens_ = len(vocabulary)
        values = token_rows(raw.values, getattr(self, "_token_vocabulary", None), self.n_tokens_)
        return raw.with_values(values), raw

    def _check_sample_weight(self, sample_weight, n):
        if sample_weight is None:
            return np.ones(n, dtype=np.float32)
        sw = check_sample_aligned(sample_weight, n, "sample_weight").astype(np.float64)
        if not np.isfinite(sw).all() or (sw < 0).any():
            raise ValueError("sample_weight must be finite and non-negative.")
        if not sw.any():
            raise ValueError("sample_weight is zero for every sample; at least one must be positive.")
        return sw.astype(np.float32)

    # -------------------------------------------------------------- building
    def _recurrent_kwargs(self):
        """The network parameters every recurrent estimator passes to its module."""
        return dict(
            cell=self.cell,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            nonlinearity=self.nonlinearity,
            pooling=self.pooling,
        )

    def _train_config(self, device, seed):
        task = self._task
        return _engine.TrainConfig(
            batch_loss=functools.partial(task.batch_loss, self),
            sample_loss=task.sample_loss,
            batch_size=self.batch_size,
            max_iter=self.max_iter,
            shuffle=self.shuffle,
            clip_grad_norm=self.clip_grad_norm,
            tbptt_steps=self.tbptt_steps,
            verbose=self.verbose,
            device=device,
            seed=seed,
        )

    # ------------------------------------------------------------------- fit
    @with_torch_threads
    def _fit(self, X, y, sample_weight, sequence_lengths, *, incremental, classes=None):
        """The one fit path: ``fit`` (``incremental=False``) and
        ``partial_fit`` (one epoch, ``incremental=True``) of every estimator.

        The fit runs on a shallow copy of the estimator and publishes every
        fitted attribute at once at the end, so a fit that fails (or is
        interrupted outside the training epochs) leaves the estimator exactly
        as it was, and a concurrent ``predict`` sees the old model or the new
        one, never a mix."""
        work = estimator_snapshot(self)
        work._fit_unpublished(X, y, sample_weight, sequence_lengths,
                              incremental=incremental, classes=classes)
        # one step: attributes the fit removed (e.g. feature_names_in_) go too
        self.__dict__ = work.__dict__
        return self

    def _fit_unpublished(self, X, y, sample_weight, sequence_lengths, *, incremental, classes):
        self._check_params_combination()
        task = self._task
        continuing = (incremental or self.warm_start) and hasattr(self, "module_")
        seqs, raw = self._encode_X(X, reset=not continuing, sequence_lengths=sequence_lengths)
        weights = self._check_sample_weight(sample_weight, seqs.n_samples)
        targets = task.encode_targets(
            self, y, raw, first=not continuing, classes=classes,
            sample_weight=None if sample_weight is None else weights,
        )
        weights = weights * task.sample_weights(self, targets)

        device = _engine.resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        cfg = self._train_config(device, seed)
        split = None
        if self.early_stopping and not incremental:
            split = self._validation_split(targets, seqs.n_samples, seed)
        baseline = task.constant_loss(self, targets, weights)
        with _seeding.seeded_init(seed):
            spec = task.network_spec(self, seqs)
            module, optimizer = self._module_and_optimizer(
                continuing, lambda: task.build_network(self, spec), device
            )
        with _seeding.fit_generator(device, seed):
            train, val = self._training_batches(seqs, targets, weights, device, split)
            history = _training.run(
                self, module, optimizer, train, val, cfg, baseline,
                continuing=continuing, incremental=incremental,
            )
        self._store_fit(module, history, spec, continuing=continuing, incremental=incremental)
        _training.warn_if_plateau(self, history, baseline, incremental)
        _callbacks.call(self.callbacks, "on_fit_end", self)

    def _training_batches(self, seqs, targets, weights, device, split):
        """Training batches and, with a ``(train, validation)`` index split,
        validation batches (else None)."""
        if split is None:
            return self._task.batches(seqs, targets, weights, device), None
        return tuple(
            self._task.batches(*_take(seqs, targets, weights, idx), device) for idx in split
        )

    def _build_network(self):
        """A freshly initialised network of the fitted architecture, built
        from the parameters, the fitted attributes and the JSON-able
        ``_network_spec`` recorded by fit. Loading and unpickling rebuild
        ``module_`` with it and copy the stored weights in."""
        return self._task.build_network(self, self._network_spec)

    def _module_and_optimizer(self, continuing, build, device):
        """The network to train on ``device`` (a copy of ``module_`` when
        continuing, so a failed fit leaves it untouched; else ``build()``) and
        its optimizer, with the previous optimizer state when continuing."""
        module = (copy.deepcopy(self.module_) if continuing else build()).to(device)
        optimizer = _engine.make_optimizer(
            self.optimizer, module.parameters(), self.learning_rate_init, self.alpha
        )
        if continuing and getattr(self, "_optimizer_state", None) is not None:
            # a copy: load_state_dict keeps the given tensors, which the
            # optimizer then updates in place
            optimizer.load_state_dict(copy.deepcopy(self._optimizer_state))
            # the current learning_rate_init and alpha apply to the new fit (its
            # schedule starts anew)
            for group in optimizer.param_groups:
                group["lr"] = self.learning_rate_init
                group["weight_decay"] = self.alpha
                group.pop("initial_lr", None)
        return module, optimizer

    def _store_fit(self, module, history, spec, *, continuing, incremental):
        """Set the fitted attributes from one engine run (continuing the
        history on warm start / partial_fit) and warn when it did not converge."""
        prev = continuing and hasattr(self, "loss_curve_")
        self.module_ = module
        self._network_spec = {k: int(v) for k, v in spec.items()}
        self._optimizer_state = history.optimizer_state
        self.loss_curve_ = (list(self.loss_curve_) if prev else []) + history.loss_curve
        self.lr_curve_ = (list(getattr(self, "lr_curve_", [])) if prev else []) + history.lr_curve
        validating = self.early_stopping and not incremental
        self.validation_scores_ = (
            (list(self.validation_scores_ or []) if prev else []) + history.validation_scores
            if validating else None
        )
        self.validation_loss_curve_ = (
            (list(getattr(self, "validation_loss_curve_", None) or []) if prev else [])
            + history.validation_losses
            if validating else None
        )
        self.n_iter_ = (self.n_iter_ if prev else 0) + history.n_iter
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else np.inf
        self.best_validation_score_ = (
            max(self.validation_scores_) if self.validation_scores_ else None
        )
        stopped = history.converged or history.interrupted or history.stopped_by_callback
        if not incremental and not stopped and not history.at_plateau and self.tol is not None:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return self

    # ----------------------------------------------------------- persistence
    def save(self, path, *, key=None):
        """Save the estimator to ``path`` in skrnn's safe model format (see
        :func:`skrnn.persistence.save`); ``key`` signs the file. The format runs no code
        on load, so it cannot hold callbacks: they are stored as
        ``callbacks=None`` with a warning (pickle/joblib keep them). Returns
        the estimator, unchanged."""
        target = self
        if self.callbacks:
            warnings.warn(
                f"{type(self).__name__}.save: the safe model format cannot hold callbacks "
                "(loading them would run their code); the file stores callbacks=None. "
                "Use pickle or joblib to keep them.",
                UserWarning,
                stacklevel=2,
            )
            target = copy.copy(self)
            target.callbacks = None
        PersistenceMixin.save(target, path, key=key)
        return self

    def __getstate__(self):
        return _schedules.schedule_by_name(super().__getstate__())

    def __setstate__(self, state):
        # parameters added after a pickle or model file was written get their
        # values of then (early stopping watched the validation score)
        added = dict(_ADDED_PARAMS)
        if "conv_channels" in self._parameter_constraints:
            added.update(_FRONT_END_OFF)
        super().__setstate__(_schedules.schedule_from_name({**added, **state}))

    # --------------------------------------------------------------- predict
    def _inference_device(self):
        if self.device == "auto":
            return _engine.resolve_device("auto")
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            warnings.warn(
                "This model was set to device='cuda' but CUDA is not available; "
                "predicting on the CPU.",
                UserWarning,
            )
            return torch.device("cpu")
        return device

    def _inference_batches(self, seqs):
        """The fitted network on the inference device and ``seqs`` as batches for it."""
        device = self._inference_device()
        module = self.module_
        if next(module.parameters()).device != device:
            module.to(device)
        data = SequenceBatches(
            seqs.values, seqs.offsets, device=device, stream=_stream(seqs)
        )
        return module, data

    @with_torch_threads
    def _forward(self, X, sequence_lengths=None, transform=None):
        """Network outputs for ``X``: (n_samples, K), or (total_steps, K) with
        the validated sequences for per-step models."""
        check_is_fitted(self, "module_")
        self = estimator_snapshot(self)  # one consistent fitted state
        seqs, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
        module, data = self._inference_batches(seqs)
        out = _engine.predict_outputs(module, data, max(self.batch_size, _INFERENCE_BATCH), transform)
        return out, seqs

    def _predict(self, X, sequence_lengths=None):
        """The task's prediction for ``X``."""
        check_is_fitted(self, "module_")
        self = estimator_snapshot(self)  # one consistent fitted state
        out, seqs = self._forward(X, sequence_lengths)
        return self._task.inference_output(self, out, seqs)


def _take(seqs, targets, weights, idx):
    """Samples ``idx`` of the input, targets and weights."""
    return seqs.subset(idx), subset_targets(targets, idx), weights[idx]
