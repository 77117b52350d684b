"""RNNRegressor: sequence regression, many-to-one and many-to-many."""

from __future__ import annotations

import dataclasses
from numbers import Real
from typing import Literal, Optional, Sequence

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._nn import losses as _losses
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
from ._docstrings import shared_parameters
from ._sequences.data import align_step_targets
from ._tasks import RegressionTask


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
    $optimizer
    $learning_rate_init
    $lr_schedule
    $lr_schedule_params
    $alpha
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
        "return_sequences": ["boolean"],
        "loss": [StrOptions(set(_losses.LOSSES))],
        "quantiles": ["array-like"],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "target_scaling": [StrOptions({"standard", "robust"}), None],
    }
    _task = RegressionTask()

    def __init__(
        self,
        *,
        cell: Cell = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        nonlinearity: Nonlinearity = "tanh",
        embedding_dim: Optional[int] = None,
        mask_value: Optional[float] = np.nan,
        data_format: DataFormat = "channels_last",
        pooling: PoolingKind = "last",
        optimizer: OptimizerSpec = "adam",
        learning_rate_init: float = 1e-3,
        lr_schedule: LRSchedule = "constant",
        lr_schedule_params: Optional[dict] = None,
        alpha: float = 0.0,
        batch_size: int = 32,
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

    def _train_config(self, *args, **kwargs):
        cfg = super()._train_config(*args, **kwargs)
        return dataclasses.replace(cfg, sample_loss=_losses.sample_loss_for(self))

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
        return self._task.quantile_output(self, out, seqs)

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
        out = _losses.point_values(self, out)
        truth, _ = align_step_targets(y, seqs)
        steps_weight = None
        if sample_weight is not None:
            steps_weight = np.repeat(np.asarray(sample_weight, dtype=float), seqs.lengths)
        return r2_score(truth, out, sample_weight=steps_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
