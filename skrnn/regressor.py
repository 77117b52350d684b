"""RNNRegressor: sequence regression, many-to-one and many-to-many."""

from __future__ import annotations

from numbers import Real
from typing import Literal, Optional, Sequence, Union

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted

from ._params import FRONT_END_CONSTRAINTS, ConvMode, ConvSizes
from ._base import (
    BaseRNN,
    Cell,
    DeviceSpec,
    LRSchedule,
    Nonlinearity,
    OptimizerSpec,
    DataFormat,
    PoolingKind,
    RandomState,
    store_params,
)
from ._compat import Interval, StrOptions, _fit_context
from ._nn.losses import LOSSES, pointwise_loss
from ._sequences import targets as _targets
from ._sequences.data import Sequences, pad_values
from ._sequences.targets import align_step_targets
from ._sequences.data import _pad_channels_last as pad_channels_last
from ._train import stopping as _stopping
from ._docstrings import shared_parameters
from ._sequences.scale_check import warn_if_scales_differ


@shared_parameters
class RNNRegressor(RegressorMixin, BaseRNN):
    """Recurrent neural network regressor for sequences.

    Many-to-one by default (one target vector per sequence, e.g. a direct
    multi-step forecast as several outputs); with ``return_sequences=True``
    one target per real time step (sequence labelling / per-step regression),
    ragged in and ragged out.

    Parameters
    ----------
    $cell
    $hidden_size
    $num_layers
    $bidirectional
    $dropout
    $nonlinearity
    $embedding_dim
    $mask_value
    $data_format
    pooling : {'last', 'mean', 'max', 'attention'}, default='last'
        How per-step outputs become one vector per sequence, over real steps
        only (``'last'``: each sequence's own last step, and step 0 of the
        backward direction). Ignored when ``return_sequences=True``.
    $conv_channels
    $conv_kernel_sizes
    $conv_stride
    $conv_mode
    $optimizer
    learning_rate_init : float, default=1e-3
        Learning rate of the optimizer.
    $lr_schedule
    $lr_schedule_params
    alpha : float, default=0.01
        L2 penalty (the optimizer's weight decay). The default keeps the
        network from overfitting small noisy training sets; for a nearly
        exact target, ``alpha=0`` with ``learning_rate_init=3e-3`` fits
        closer (the user guide's :ref:`guide-defaults`).
    $batch_size
    $max_iter
    $shuffle
    $clip_grad_norm
    $tbptt_steps
    $early_stopping
    $validation_fraction
    $early_stopping_monitor
    $n_iter_no_change
    $tol
    $device
    $n_threads
    $random_state
    $verbose
    $warm_start
    $callbacks
    return_sequences : bool, default=False
        Predict one output per real time step. ``y`` then has ``X``'s layout: a
        list of ``(T_i,)`` / ``(T_i, n_outputs)`` arrays for ragged ``X``, an
        array ``(n_samples, n_timesteps[, n_outputs])`` for array ``X``.
    loss : {'squared_error', 'absolute_error', 'huber', 'quantile'}, default='squared_error'
        Training loss, computed on the standardised targets (see
        ``target_scaling``) and averaged over outputs. ``'absolute_error'``
        (L1) and ``'huber'`` are robust to outliers; ``'quantile'`` learns
        every level of ``quantiles`` in one fit (pinball loss), ``predict``
        then returns the median and :meth:`predict_quantiles` all levels.
        ``sample_weight`` weights every loss.
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Quantile levels learnt with ``loss='quantile'`` (ignored otherwise):
        strictly increasing, in (0, 1), including 0.5. The network predicts the
        lowest level plus positive (softplus) increments, so the quantiles
        never cross.
    huber_delta : float, default=1.0
        Where the Huber loss turns from quadratic to linear, in units of the
        scaled targets (standard deviations of ``y`` with the default
        ``target_scaling='standard'``).
    target_scaling : {'standard', 'robust', None}, default='standard'
        How the targets are put on a unit scale for training, per output;
        predictions are mapped back, so ``y`` of any scale (a series around
        200, prices in the millions) trains like a standardised one.
        ``'standard'``: ``(y - mean) / std``; ``'robust'``: ``(y - median) /
        (IQR / 1.349)`` (the interquartile range scaled to equal the std of
        Gaussian targets; the std when the IQR is 0); ``None``: ``y`` as given.
        The statistics are weighted by ``sample_weight``, come from the first
        call to ``fit`` or ``partial_fit`` and are kept under ``warm_start``
        and ``partial_fit``; a zero scale counts as 1. Use ``'robust'`` for
        heavy-tailed targets, e.g. ratios to a window's last value of
        fast-growing series after
        :class:`~skrnn.preprocessing.WindowScaledRegressor`, whose few huge
        values squeeze the other standardised targets towards 0.

    Attributes
    ----------
    n_features_in_ : int
    n_outputs_ : int
    n_iter_ : int
    loss_curve_ : list of float
    validation_scores_ : list of float or None
        Validation R^2 per epoch when ``early_stopping``.
    validation_loss_curve_ : list of float or None
        Validation loss per epoch when ``early_stopping``.
    lr_curve_ : list of float
        Learning rate at the start of each epoch (see ``lr_schedule``).
    best_validation_score_ : float or None
    best_loss_ : float
    module_ : torch.nn.Module
    front_end_ : dict or None
        The convolutional front end the fit built (channels, kernel sizes,
        stride, mode; ``'auto'`` settings resolved), or None without one.
    target_mean_ : ndarray of shape (n_outputs,)
        Centre (median or mean) of each output subtracted before training (0
        with ``target_scaling=None``).
    target_scale_ : ndarray of shape (n_outputs,)
        Scale each output is divided by before training (1 with
        ``target_scaling=None``).
    quantiles_ : ndarray of shape (n_quantiles,) or None
        The quantile levels learnt with ``loss='quantile'``, else None.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 10, 3))
    >>> y = X[:, :, 0].sum(axis=1)
    >>> reg = RNNRegressor(hidden_size=16, max_iter=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseRNN._parameter_constraints,
        **FRONT_END_CONSTRAINTS,
        "return_sequences": ["boolean"],
        "loss": [StrOptions(set(LOSSES))],
        "quantiles": ["array-like"],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "target_scaling": [StrOptions({"standard", "robust"}), None],
    }
    def __init__(
        self,
        *,
        cell: Cell = "gru",
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        nonlinearity: Nonlinearity = "tanh",
        embedding_dim: Optional[int] = None,
        mask_value: Optional[float] = np.nan,
        data_format: Optional[DataFormat] = None,
        pooling: PoolingKind = "last",
        conv_channels: Union[ConvSizes, Literal["auto"], None] = "auto",
        conv_kernel_sizes: Union[ConvSizes, Literal["auto"]] = "auto",
        conv_stride: Union[int, Literal["auto"]] = "auto",
        conv_mode: ConvMode = "before",
        optimizer: OptimizerSpec = "adam",
        learning_rate_init: float = 1e-3,
        lr_schedule: LRSchedule = "cosine",
        lr_schedule_params: Optional[dict] = None,
        alpha: float = 0.01,
        batch_size: int = 16,
        max_iter: int = 100,
        shuffle: bool = True,
        clip_grad_norm: Optional[float] = 1.0,
        tbptt_steps: Optional[int] = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        early_stopping_monitor: Literal["loss", "score"] = "loss",
        n_iter_no_change: int = 10,
        tol: Optional[float] = 1e-4,
        device: DeviceSpec = "auto",
        n_threads: Optional[int] = 1,
        random_state: RandomState = None,
        verbose: int = 0,
        warm_start: bool = False,
        callbacks: Optional[list] = None,
        return_sequences: bool = False,
        loss: Literal["squared_error", "absolute_error", "huber", "quantile"] = "squared_error",
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        huber_delta: float = 1.0,
        target_scaling: Optional[Literal["standard", "robust"]] = "standard",
    ) -> None:
        store_params(self, locals())

    @property
    def _return_sequences(self):
        return self.return_sequences

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, sequence_lengths=None):
        """Fit the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays
            Sequences: fixed-length, padded (see ``mask_value``) or ragged
            (a list of ``(T_i, n_features)`` arrays).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; per step (see ``return_sequences``) when that is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        self : RNNRegressor
            The fitted estimator.
        """
        if not self.return_sequences:
            warn_if_scales_differ(y)
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; per step (see ``return_sequences``) when that is set.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        self : RNNRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=True)

    def predict(self, X, sequence_lengths=None):
        """Predict targets.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs), or per step
            With ``return_sequences=True``: a list of ``(T_i,)`` /
            ``(T_i, n_outputs)`` arrays for ragged ``X``, otherwise an array
            ``(n_samples, n_timesteps[, n_outputs])`` with NaN at padding steps.
        """
        return self._predict(X, sequence_lengths)

    @available_if(lambda self: self.loss == "quantile")
    def predict_quantiles(self, X, sequence_lengths=None):
        """Predict every quantile level of ``quantiles_`` (``loss='quantile'``).

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
                (n_samples, n_outputs, n_quantiles), or per step
            Non-decreasing along the last axis; the median column is what
            :meth:`predict` returns. With ``return_sequences=True``: an array
            ``(n_samples, n_timesteps[, n_outputs], n_quantiles)`` (NaN at
            padding steps) or, for ragged ``X``, a list of
            ``(T_i[, n_outputs], n_quantiles)`` arrays.
        """
        check_is_fitted(self, "module_")
        if self.quantiles_ is None:
            raise ValueError(
                "This model was fitted with a point loss; refit it with loss='quantile' "
                "to predict quantiles."
            )
        out, seqs = self._forward(X, sequence_lengths)
        return self._shaped(self._quantile_values(out), seqs)

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """R^2 of the prediction (over all real steps with ``return_sequences``).

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), or per step
            True targets, in the form :meth:`fit` takes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence (of each of its steps with
            ``return_sequences``).
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        score : float
            Coefficient of determination of :meth:`predict` against ``y``.
        """
        if not self.return_sequences:
            return r2_score(y, self.predict(X, sequence_lengths), sample_weight=sample_weight)
        check_is_fitted(self, "module_")
        out, seqs = self._forward(X, sequence_lengths)
        out = self._point_values(out)
        truth, _ = align_step_targets(y, seqs)
        steps_weight = None
        if sample_weight is not None:
            steps_weight = np.repeat(np.asarray(sample_weight, dtype=float), seqs.lengths)
        return r2_score(truth, out, sample_weight=steps_weight)

    # ------------------------------------------------------------------ hooks
    def _encode_targets(self, y, X, *, first, classes=None, sample_weight=None):
        """Float targets (per sample, or per step with ``return_sequences``),
        standardised per output; the output count, quantile levels and the
        target scaling on the first fit."""
        if y is None:
            raise ValueError("RNNRegressor requires y to be passed, but the target y is None.")
        if self.return_sequences:
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
            self.n_outputs_ = values.shape[1]
            self._y_one_d = one_d
            self.quantiles_ = self._levels()
            row_weights = sample_weight
            if sample_weight is not None and self.return_sequences:
                row_weights = np.repeat(np.asarray(sample_weight, dtype=np.float64), X.lengths)
            self.target_mean_, self.target_scale_ = _targets.target_scaling(
                values, self.target_scaling, row_weights
            )
        else:
            if values.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {values.shape[1]} outputs; the model was fitted with {self.n_outputs_}."
                )
            self._check_same_head()
        values = _targets.scale_targets(values, self.target_mean_, self.target_scale_)
        return Sequences(values, X.offsets) if self.return_sequences else values

    def _levels(self):
        return _targets.check_quantiles(self.quantiles) if self.loss == "quantile" else None

    def _check_same_head(self):
        """Continuing a fit (warm_start, partial_fit) needs the network's output
        layer to fit the current ``loss``/``quantiles``."""
        now, fitted = self._levels(), getattr(self, "quantiles_", None)
        same = (now is None and fitted is None) or (
            now is not None and fitted is not None and np.array_equal(now, fitted)
        )
        if not same or self._network_spec["n_outputs"] != self._n_outputs():
            raise ValueError(
                "loss or quantiles changed between a quantile and a point loss (or to other "
                "levels) since the first fit, so the fitted network's outputs no longer match; "
                "set warm_start=False (or use a new estimator) to fit from scratch."
            )

    def _pointwise_loss(self):
        return pointwise_loss(self.loss, huber_delta=self.huber_delta,
                              quantiles=getattr(self, "quantiles_", None))

    def _n_outputs(self):
        return self.n_outputs_ * _targets.n_levels(getattr(self, "quantiles_", None))

    def _quantile_values(self, outputs):
        return _targets.quantile_values(outputs, getattr(self, "quantiles_", None),
                                        getattr(self, "target_mean_", None),
                                        getattr(self, "target_scale_", None))

    def _point_values(self, outputs):
        return self._quantile_values(outputs)[..., _targets.median_index(
            getattr(self, "quantiles_", None))]

    def _constant_loss(self, targets, weights):
        # per-step targets: every real step counts, weighted by its sequence's weight
        if isinstance(targets, Sequences):
            weights = np.repeat(np.broadcast_to(weights, targets.lengths.shape), targets.lengths)
            targets = targets.values
        if self.loss == "squared_error":
            return _stopping.variance_loss(targets, weights)
        return _targets.constant_loss(self.loss, targets, weights, quantiles=self.quantiles_,
                                      huber_delta=self.huber_delta)

    def _score_outputs(self, outputs, targets):
        # R^2 is unchanged by the per-output standardisation of the targets
        truth = targets * self.target_scale_ + self.target_mean_
        return float(r2_score(truth, self._point_values(outputs)))

    def _output(self, outputs, X):
        return self._shaped(self._point_values(outputs), X)

    def _shaped(self, out, X):
        """Rows (n_rows, K[, Q]) in the user's layout: one sample per row, or
        per step with ``return_sequences``; the output axis dropped for a
        1-D ``y``. Per-step quantiles come channels-last: (n_samples,
        n_timesteps[, K], Q) or a list of (T_i[, K], Q) arrays."""
        if self._y_one_d:
            out = out[:, 0]
        if not self.return_sequences:
            return out
        if out.ndim == 1:
            return pad_values(out[:, None], X, squeeze=True)
        tail = out.shape[1:]
        if out.ndim == 2 and self.loss != "quantile":
            return pad_values(out, X)
        padded = pad_channels_last(out.reshape(len(out), -1), X, np.nan)
        if isinstance(padded, list):
            return [p.reshape(len(p), *tail) for p in padded]
        return padded.reshape(*padded.shape[:2], *tail)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
