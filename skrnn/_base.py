"""BaseRNN: the parameters, validation and fit plumbing shared by the
recurrent estimators. Subclasses add target handling only."""

import copy
import functools
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from ._compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _engine
from ._data import check_sample_aligned
from ._validation import validate_sequences
from ._modules import SequenceNet
from .persistence import PersistenceMixin

_INFERENCE_BATCH = 1024
# Inputs whose compact (unpadded) values exceed this many bytes stay in host
# memory during inference and go to the device batch by batch.
_STREAM_BYTES = 1 << 28


def _stream(seqs):
    """Whether inference streams batches from host memory (large inputs) or
    moves the compact input to the device once (the common case on a GPU;
    no difference on the CPU)."""
    return seqs.values.nbytes > _STREAM_BYTES


def restore_on_failure(fit_method):
    """Decorator for fit methods: when the fit raises (an invalid input found
    halfway, a diverged loss, an error in a callback), every attribute is put
    back as it was, so a failed fit never leaves a half-updated estimator
    that looks fitted."""

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return fit_method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def _optimizer_class(value):
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


class BaseRNN(PersistenceMixin, BaseEstimator):
    """Shared parameters and fit/predict plumbing of the recurrent estimators."""

    _parameter_constraints = {
        "cell": [StrOptions({"rnn", "lstm", "gru"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "mask_value": [Real, None],
        "pooling": [StrOptions({"last", "mean", "max", "attention"})],
        "optimizer": [StrOptions({"adam", "sgd", "rmsprop"}), callable],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "tbptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        nonlinearity="tanh",
        embedding_dim=None,
        mask_value=np.nan,
        pooling="last",
        optimizer="adam",
        learning_rate_init=1e-3,
        alpha=0.0,
        batch_size=32,
        max_iter=100,
        shuffle=True,
        clip_grad_norm=1.0,
        tbptt_steps=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.nonlinearity = nonlinearity
        self.embedding_dim = embedding_dim
        self.mask_value = mask_value
        self.pooling = pooling
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.clip_grad_norm = clip_grad_norm
        self.tbptt_steps = tbptt_steps
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ----------------------------------------------------------------- hooks
    # Subclasses implement these four; everything else is shared.
    _loss = None
    _return_sequences = False

    def _encode_targets(self, y, seqs, first, classes=None):
        """Return (targets for the engine, n_outputs)."""
        raise NotImplementedError

    def _validation_score(self, outputs, targets):
        raise NotImplementedError

    def _stratify(self, targets, n_val):
        """Labels to stratify a validation split of ``n_val`` samples by, or None."""
        return None

    def _validation_split(self, targets, n_samples, seed):
        """Train / validation indices for early stopping."""
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if n_samples < 2 or n_val >= n_samples:
            raise ValueError(
                f"early_stopping=True needs a validation set, but {n_samples} sample(s) with "
                f"validation_fraction={self.validation_fraction} leave no training data; "
                "pass more samples or set early_stopping=False."
            )
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
                    "direction needs the whole sequence."
                )
            if not self._return_sequences and self.pooling != "last":
                raise ValueError(
                    f"tbptt_steps needs pooling='last' (or return_sequences=True); "
                    f"pooling={self.pooling!r} reads every step of the sequence at once."
                )

    def _validate_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X`` and return it as :class:`~skrnn._data.Sequences`.

        2-D tables follow sklearn's convention (``n_features_in_`` counts the
        columns, i.e. time steps); 3-D and ragged input count features per step.
        """
        tokens = self.embedding_dim is not None
        seqs = validate_sequences(
            self, X, reset=reset, mask_value=self.mask_value,
            sequence_lengths=sequence_lengths, token_ids=tokens,
        )
        if tokens:
            seqs = self._map_tokens(seqs, reset)
        return seqs

    def _map_tokens(self, seqs, reset):
        from ._data import Sequences

        if reset:
            self.n_tokens_ = int(seqs.values.max()) + 1
        # ids never seen in fit share one extra "unknown" embedding row
        values = np.minimum(seqs.values, self.n_tokens_)
        return Sequences(values, seqs.offsets, seqs.form, seqs.starts, seqs.n_timesteps)

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

    def _build_module(self, n_inputs, n_outputs):
        return SequenceNet(
            n_inputs,
            n_outputs,
            **self._recurrent_kwargs(),
            return_sequences=self._return_sequences,
            num_embeddings=None if self.embedding_dim is None else self.n_tokens_ + 1,
            embedding_dim=self.embedding_dim,
        )

    def _train_config(self, device, seed):
        return _engine.TrainConfig(
            loss=self._loss,
            optimizer=self.optimizer,
            learning_rate_init=self.learning_rate_init,
            alpha=self.alpha,
            batch_size=self.batch_size,
            max_iter=self.max_iter,
            shuffle=self.shuffle,
            clip_grad_norm=self.clip_grad_norm,
            tbptt_steps=self.tbptt_steps,
            early_stopping=self.early_stopping,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            device=device,
            packed=_use_packing(device),
            seed=seed,
        )

    # ------------------------------------------------------------------- fit
    @restore_on_failure
    def _fit(self, X, y, sample_weight, sequence_lengths, *, incremental, classes=None):
        self._check_params_combination()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        continuing = (incremental or self.warm_start) and hasattr(self, "module_")
        seqs = self._validate_X(X, reset=not continuing, sequence_lengths=sequence_lengths)
        targets, n_outputs = self._encode_targets(y, seqs, first=not continuing, classes=classes)
        weights = self._check_sample_weight(sample_weight, seqs.n_samples)
        weights = weights * self._class_weights(targets, seqs)

        device = _engine.resolve_device(self.device)
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        cfg = self._train_config(device, seed)

        train_idx = val_idx = None
        if self.early_stopping and not incremental:
            train_idx, val_idx = self._validation_split(targets, seqs.n_samples, seed)
        per_step = self._return_sequences
        with _engine.seeded(device, seed):
            spec = {"n_inputs": seqs.n_features, "n_outputs": n_outputs}
            module, optimizer = self._module_and_optimizer(
                continuing, lambda: self._build_module(**spec), device
            )
            train, val = self._batches(seqs, targets, weights, per_step, device, train_idx, val_idx)
            val_score = None
            if val is not None:
                val_targets = self._subset_targets(targets, seqs, val_idx)
                val_score = lambda out: self._validation_score(out, val_targets)  # noqa: E731
            history = _engine.fit_module(
                module, optimizer, train, cfg, val=val, val_score=val_score,
                epochs=1 if incremental else None,
            )

        # Assign only now, so a failed fit leaves the estimator as it was.
        return self._store_fit(
            module, history, spec, continuing=continuing, incremental=incremental
        )

    def _build_network(self):
        """A freshly initialised network of the fitted architecture, built
        from the parameters and the JSON-able ``_network_spec`` recorded by
        fit. Loading and unpickling rebuild ``module_`` with it and copy the
        stored weights in."""
        return self._build_module(**self._network_spec)

    def _module_and_optimizer(self, continuing, build, device):
        """The network to train on ``device`` (a copy of ``module_`` when
        continuing, so a failed fit leaves it untouched; else ``build()``) and
        its optimizer, with the previous optimizer state when continuing."""
        module = (copy.deepcopy(self.module_) if continuing else build()).to(device)
        optimizer = _engine.make_optimizer(
            self.optimizer, module.parameters(), self.learning_rate_init, self.alpha
        )
        if continuing and getattr(self, "_optimizer_state", None) is not None:
            optimizer.load_state_dict(self._optimizer_state)
        return module, optimizer

    def _store_fit(self, module, history, spec, *, continuing, incremental):
        """Set the fitted attributes from one engine run (continuing the
        history on warm start / partial_fit) and warn when it did not converge."""
        prev = continuing and hasattr(self, "loss_curve_")
        self.module_ = module
        self._network_spec = {k: int(v) for k, v in spec.items()}
        self._optimizer_state = history.optimizer_state
        self.loss_curve_ = (list(self.loss_curve_) if prev else []) + history.loss_curve
        self.validation_scores_ = (
            (list(self.validation_scores_ or []) if prev else []) + history.validation_scores
            if self.early_stopping and not incremental
            else None
        )
        self.n_iter_ = (self.n_iter_ if prev else 0) + history.n_iter
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else np.inf
        self.best_validation_score_ = (
            max(self.validation_scores_) if self.validation_scores_ else None
        )
        if not incremental and not history.converged and not history.interrupted:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return self

    def _class_weights(self, targets, seqs):
        return 1.0

    def _subset_targets(self, targets, seqs, idx):
        if self._return_sequences:
            from ._data import Sequences

            return Sequences(targets, seqs.offsets).subset(idx).values
        return targets[idx]

    def _batches(self, seqs, targets, weights, per_step, device, train_idx, val_idx):
        def make(idx):
            if idx is None:
                s, t, w = seqs, targets, weights
            else:
                s, t, w = seqs.subset(idx), self._subset_targets(targets, seqs, idx), weights[idx]
            return _engine.SequenceBatches(s.values, s.offsets, t, w, per_step, device)

        if train_idx is None:
            return make(None), None
        return make(train_idx), make(val_idx)

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
        """The fitted network on the inference device, ``seqs`` as batches for
        it, and the device."""
        device = self._inference_device()
        module = self.module_
        if next(module.parameters()).device != device:
            module.to(device)
        data = _engine.SequenceBatches(
            seqs.values, seqs.offsets, device=device, stream=_stream(seqs)
        )
        return module, data, device

    def _forward(self, X, sequence_lengths=None, transform=None):
        """Network outputs for ``X``: (n_samples, K), or (total_steps, K) with
        the validated sequences for per-step models."""
        check_is_fitted(self, "module_")
        seqs = self._validate_X(X, reset=False, sequence_lengths=sequence_lengths)
        module, data, device = self._inference_batches(seqs)
        out = _engine.predict_outputs(
            module, data, max(self.batch_size, _INFERENCE_BATCH), _use_packing(device), transform
        )
        return out, seqs


def _use_packing(device):
    """Whether batches run as packed sequences instead of the length-grouped
    padded kernel. Both compute the same function (tests/test_modules.py);
    the padded kernel is the faster one on the CPU and, measured on an H100
    with cuDNN, 3.9x faster on variable-length data and 1.4x on fixed-length
    data (benchmarks/gpu_check.py). Kept as the one switch between them."""
    return False


def extend_init(**extra):
    """Class decorator: an ``__init__`` taking BaseRNN's parameters plus
    ``extra`` (name=default), all keyword-only, so the shared parameter list
    is written once. sklearn reads the generated signature."""

    def decorate(cls):
        base_params = list(inspect.signature(BaseRNN.__init__).parameters.values())
        new_params = base_params + [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
            for name, default in extra.items()
        ]

        def __init__(self, **params):
            for name, default in extra.items():
                setattr(self, name, params.pop(name, default))
            BaseRNN.__init__(self, **params)

        __init__.__signature__ = inspect.Signature(new_params)
        __init__.__doc__ = f"Initialize {cls.__name__}; see the class docstring."
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        cls.__init__ = __init__
        return cls

    return decorate
