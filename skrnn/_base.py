"""BaseRNN: the validation and the one fit path of the recurrent estimators.

``fit`` reads ``X`` (:mod:`skrnn._sequences`), builds the network (:mod:`skrnn._nn`)
and hands it to the training loop (:mod:`skrnn._train`), which knows no estimator.
What differs between the estimators (targets, network, loss, validation score,
output) are hook methods each estimator class defines; the many-to-one network
hooks of the classifier and the regressor are here. Fitted attributes are set
by estimator code only: this module and the estimator classes.
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _warnings
from ._sequences.config import ConfigCloneMixin
from ._doclink import DOC_LINK_TEMPLATE, doc_link_url_params
from ._nn import seeding as _seeding
from ._nn.losses import weighted_loss
from ._nn.conv import ConvSequenceNet
from ._nn.recurrent import SequenceNet
from ._params import (  # noqa: F401  (the estimators import the types from here)
    ADDED_PARAMS,
    FRONT_END_OFF,
    SHARED_CONSTRAINTS,
    check_front_end,
    front_end_kwargs,
    resolve_front_end,
    _optimizer_class,
    estimator_snapshot,
    store_params,
    Cell,
    DataFormat,
    DeviceSpec,
    LRSchedule,
    Nonlinearity,
    OptimizerSpec,
    PoolingKind,
    RandomState,
)
from ._sequences.arrays import check_sample_weight
from ._sequences.data import Sequences
from ._sequences.data import validate_sequences
from ._sequences.vocab import token_rows, token_vocabulary
from ._train import callbacks as _callbacks
from ._train import engine as _engine
from ._train import schedules as _schedules
from ._train import setup as _setup
from ._train import stopping as _stopping
from ._train.engine import SequenceBatches
from ._train.memory import check_batch, recurrent_bytes
from ._train.threads import torch_threads
from .persistence import PersistenceMixin

_INFERENCE_BATCH = _VALIDATION_BATCH = 1024
# Inputs whose compact (unpadded) values exceed this many bytes stay in host memory during
# inference and go to the device batch by batch (else they move to the device once).
_STREAM_BYTES = 1 << 28


class BaseRNN(ConfigCloneMixin, PersistenceMixin, BaseEstimator):
    """Shared parameters and the fit/predict path of the recurrent estimators.

    Subclasses write their full keyword-only ``__init__`` (calling
    :func:`store_params`), add their parameters to ``_parameter_constraints``
    and define the hooks below that say what they learn:

    - ``_encode_targets(y, X, *, first, classes, sample_weight)``: the
      targets the network trains on, from ``y`` and the validated input
      (setting the target-side fitted attributes on the first fit);
    - ``_n_outputs()``, ``_constant_loss(targets, weights)``,
      ``_score_outputs(outputs, targets)``, ``_output(outputs, X)``;
    - optionally ``_target_weights(targets)`` (class weights),
      ``_stratify(targets, n_val)``, ``_pointwise_loss()``, and the network
      hooks (``_network_sizes``, ``_make_network``, ``_batches``,
      ``_batch_loss``, ``_validation_score``), which default to the
      many-to-one :class:`~skrnn._nn.recurrent.SequenceNet` with a linear head.
    """

    # the HTML repr's "?" icon links to the class's API page (see _doclink.py)
    _doc_link_module = "skrnn"
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    _return_sequences = False
    _parameter_constraints: dict = SHARED_CONSTRAINTS

    def _validation_split(self, targets, n_samples, seed):
        """Train / validation indices for early stopping."""
        n_val = _stopping.validation_size(
            n_samples, self.validation_fraction, len(getattr(self, "classes_", ()))
        )
        if n_val is None:  # too few samples: trains without a split (warned)
            return None
        return train_test_split(
            np.arange(n_samples), test_size=n_val, random_state=seed,
            stratify=self._stratify(targets, n_val),
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
            _warnings.warn(
                f"dropout={self.dropout} has no effect with num_layers=1: it applies "
                "between stacked recurrent layers only (as in torch.nn.LSTM). Use "
                "num_layers >= 2, or dropout=0.0 to silence this warning.",
                UserWarning,
            )
        _schedules.check_schedule(self.lr_schedule, self.lr_schedule_params)
        _callbacks.check_callbacks(self.callbacks)
        if "conv_channels" in self._parameter_constraints:
            check_front_end(self)

    def _validate_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X`` and return it as :class:`~skrnn._sequences.data.Sequences`.

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
            _warnings.warn(
                f"{type(self).__name__} was fitted with sequence_lengths, but this padded "
                "X comes without them, so every step that is not mask_value padding is "
                "read as real. Pass sequence_lengths=... here too; in GridSearchCV or "
                "cross_validate, enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and request them "
                "with .set_fit_request(sequence_lengths=True)"
                ".set_score_request(sequence_lengths=True) so they reach scoring.",
                UserWarning,
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
        return _engine.TrainConfig(
            batch_loss=self._batch_loss,
            sample_loss=self._pointwise_loss(),
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
    def _fit(self, X, y, sample_weight, sequence_lengths, *, incremental, classes=None):
        """The one fit path: ``fit`` (``incremental=False``) and
        ``partial_fit`` (one epoch, ``incremental=True``) of every estimator.

        The fit runs on a shallow copy of the estimator and publishes every
        fitted attribute at once at the end, so a fit that fails (or is
        interrupted outside the training epochs) leaves the estimator exactly
        as it was, and a concurrent ``predict`` sees the old model or the new
        one, never a mix."""
        work = estimator_snapshot(self)
        with torch_threads(self.n_threads):
            work._fit_unpublished(X, y, sample_weight, sequence_lengths,
                                  incremental=incremental, classes=classes)
        # one step: attributes the fit removed (e.g. feature_names_in_) go too
        self.__dict__ = work.__dict__
        return self

    def _fit_unpublished(self, X, y, sample_weight, sequence_lengths, *, incremental, classes):
        self._check_params_combination()
        continuing = (incremental or self.warm_start) and hasattr(self, "module_")
        seqs, raw = self._encode_X(X, reset=not continuing, sequence_lengths=sequence_lengths)
        if not continuing and "conv_channels" in self._parameter_constraints:
            self.front_end_ = resolve_front_end(self, seqs.lengths, seqs.n_features)
        weights = check_sample_weight(sample_weight, seqs.n_samples)
        targets = self._encode_targets(
            y, raw, first=not continuing, classes=classes,
            sample_weight=None if sample_weight is None else weights,
        )
        weights = weights * self._target_weights(targets)

        device = _setup.resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        split = None
        if self.early_stopping and not incremental:
            split = self._validation_split(targets, seqs.n_samples, seed)
        baseline = self._constant_loss(targets, weights)
        with _seeding.seeded_init(seed):
            spec = self._network_sizes(seqs)
            module, optimizer = self._module_and_optimizer(
                continuing, lambda: self._make_network(spec), device
            )
        with _seeding.fit_generator(device, seed):
            train, val = self._training_batches(seqs, targets, weights, device, split)
            history = self._train_network(
                module, optimizer, train, val, self._train_config(device, seed), baseline,
                continuing=continuing, incremental=incremental,
            )
        self._store_fit(module, history, spec, continuing=continuing, incremental=incremental)
        self._warn_if_plateau(history, baseline, incremental)
        _callbacks.call(self.callbacks, "on_fit_end", self)

    def _training_batches(self, seqs, targets, weights, device, split):
        """Training batches and, with a ``(train, validation)`` index split,
        validation batches (else None)."""
        if split is None:
            return self._batches(seqs, targets, weights, device), None
        return tuple(
            self._batches(*_take(seqs, targets, weights, idx), device) for idx in split
        )

    def _train_network(self, module, optimizer, train, val, cfg, baseline, *, continuing,
                       incremental):
        """Hand the training loop the network, its batches, the stopping rule,
        the schedule, the validation score and the callbacks; return its
        ``FitHistory`` (with ``at_plateau`` set). ``baseline``: the constant
        predictor's loss, or None (no plateau floor). partial_fit
        (``incremental``) trains one epoch at a constant learning rate."""
        floor = None if baseline is None else _stopping.PLATEAU_FRACTION * baseline
        stopper = _stopping.Stopper(
            tol=self.tol, n_iter_no_change=self.n_iter_no_change,
            monitor=self.early_stopping_monitor, floor=floor,
        )
        schedule = _schedules.make_schedule(
            "constant" if incremental else self.lr_schedule, self.lr_schedule_params, optimizer,
            lr=self.learning_rate_init, epochs=self.max_iter,
            steps_per_epoch=-(-train.n_samples // self.batch_size),
        )
        val_eval = None
        if val is not None:
            def val_eval(model, data):
                return {"val_loss": _engine.validation_loss(model, data, cfg),
                        "val_score": float(self._validation_score(model, data))}
        # epochs count over the estimator's life, like n_iter_
        offset = self.n_iter_ if continuing and hasattr(self, "n_iter_") else 0

        def on_epoch(logs):
            logs = {**logs, "epoch": offset + logs["epoch"]}
            return _callbacks.call(self.callbacks, "on_epoch_end", self, logs["epoch"], logs)

        self._training_module = module  # for skrnn.callbacks.training_module
        try:
            _callbacks.call(self.callbacks, "on_fit_begin", self)
            history = _engine.fit_module(
                module, optimizer, train, cfg, val=val, val_score=val_eval,
                epochs=1 if incremental else None, stopper=stopper, schedule=schedule,
                on_epoch=on_epoch if self.callbacks else None,
            )
        finally:
            del self._training_module
        history.at_plateau = floor is not None and not history.final_loss < floor
        return history

    def _warn_if_plateau(self, history, baseline, incremental):
        """Warn when a fit (not a partial_fit epoch) ended with the training
        loss of its kept weights at the level of a constant predictor."""
        # an interrupt already warns what the model holds
        if incremental or not history.at_plateau or not history.n_iter or history.interrupted:
            return
        how = (
            "stopped by a callback" if history.stopped_by_callback
            else "early stopping" if history.converged
            else f"max_iter={self.max_iter} reached"
        )
        _warnings.warn(
            _stopping.plateau_message(type(self).__name__, history.final_loss, baseline, how),
            ConvergenceWarning,
        )

    def _build_network(self):
        """A freshly initialised network of the fitted architecture, built
        from the parameters, the fitted attributes and the JSON-able
        ``_network_spec`` recorded by fit. Loading and unpickling rebuild
        ``module_`` with it and copy the stored weights in."""
        return self._make_network(self._network_spec)

    # ----------------------------------------------- hooks: many-to-one network
    def _target_weights(self, targets):
        """Per-sample weights the targets add (class weights), or 1.0."""
        return 1.0

    def _stratify(self, targets, n_val):
        """Labels to stratify a validation split of ``n_val`` samples by, or None."""
        return None

    def _pointwise_loss(self):
        """``loss(out, y)`` per sample (or step): what truncated BPTT applies to
        the chunks of a batch; None when the estimator does not support it."""
        raise NotImplementedError

    def _network_sizes(self, X):
        """JSON-able sizes of the network for the validated input ``X`` (ints only)."""
        return {"n_inputs": int(X.n_features), "n_outputs": int(self._n_outputs())}

    def _make_network(self, spec):
        """A freshly initialised network from ``spec``, the parameters and the
        fitted attributes."""
        front = front_end_kwargs(self)
        return (SequenceNet if front is None else ConvSequenceNet)(
            spec["n_inputs"],
            spec["n_outputs"],
            **(front or {}),
            **self._recurrent_kwargs(),
            return_sequences=self._return_sequences,
            num_embeddings=None if self.embedding_dim is None else self.n_tokens_ + 1,
            embedding_dim=self.embedding_dim,
        )

    def _batches(self, X, targets, weights, device):
        """Training (or validation) batches of ``X`` with its targets."""
        per_step = isinstance(targets, Sequences)
        values = targets.values if per_step else targets
        return SequenceBatches(X.values, X.offsets, values, weights, per_step, device)

    def _batch_loss(self, model, x, lengths, y, w):
        """``(weighted mean loss, total weight)`` of one batch (``w=None``: unit
        weights), after checking that its activations fit in memory."""
        check_batch(
            recurrent_bytes(x.shape[0], x.shape[1], self.hidden_size, self.num_layers,
                            2 if self.bidirectional else 1),
            f"{x.shape[0]} sequences of up to {x.shape[1]} steps",
            "Set tbptt_steps (truncated backpropagation keeps one chunk), lower "
            "batch_size or hidden_size,",
        )
        return weighted_loss(model(x, lengths), y, w, lengths, self._pointwise_loss())

    def _validation_score(self, model, val):
        """Score of ``model`` on the held-out batches ``val``; higher is better."""
        outputs = _engine.predict_outputs(model, val, _VALIDATION_BATCH)
        return self._score_outputs(outputs, val.targets.cpu().numpy())

    def _module_and_optimizer(self, continuing, build, device):
        """The network to train on ``device`` (a copy of ``module_`` when
        continuing, so a failed fit leaves it untouched; else ``build()``) and
        its optimizer, with the previous optimizer state when continuing."""
        module = (copy.deepcopy(self.module_) if continuing else build()).to(device)
        optimizer = _setup.make_optimizer(
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
        validating = self.early_stopping and not incremental and bool(history.validation_scores)
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
            _warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return self

    # ----------------------------------------------------------- persistence
    def __getstate__(self):
        return _schedules.schedule_by_name(super().__getstate__())

    def __setstate__(self, state):
        # parameters added after a pickle or model file was written get their
        # values of then (early stopping watched the validation score)
        added = dict(ADDED_PARAMS)
        if "conv_channels" in self._parameter_constraints:
            added.update(FRONT_END_OFF)
        super().__setstate__(_schedules.schedule_from_name({**added, **state}))

    # --------------------------------------------------------------- predict
    def _inference_batches(self, seqs):
        """The fitted network on the inference device and ``seqs`` as batches for it."""
        device = _setup.inference_device(self.device)
        module = self.module_
        if next(module.parameters()).device != device:
            module.to(device)
        data = SequenceBatches(
            seqs.values, seqs.offsets, device=device, stream=seqs.values.nbytes > _STREAM_BYTES
        )
        return module, data

    def _forward(self, X, sequence_lengths=None, transform=None):
        """Network outputs for ``X``: (n_samples, K), or (total_steps, K) with
        the validated sequences for per-step models."""
        check_is_fitted(self, "module_")
        self = estimator_snapshot(self)  # one consistent fitted state
        with torch_threads(self.n_threads):
            seqs, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
            module, data = self._inference_batches(seqs)
            out = _engine.predict_outputs(module, data, max(self.batch_size, _INFERENCE_BATCH),
                                          transform)
        return out, seqs

    def _predict(self, X, sequence_lengths=None):
        """The task's prediction for ``X``."""
        check_is_fitted(self, "module_")
        self = estimator_snapshot(self)  # one consistent fitted state
        out, seqs = self._forward(X, sequence_lengths)
        return self._output(out, seqs)


def _take(seqs, targets, weights, idx):
    """Samples ``idx`` of the input, targets and weights."""
    part = targets.subset(idx) if isinstance(targets, Sequences) else targets[idx]
    return seqs.subset(idx), part, weights[idx]
