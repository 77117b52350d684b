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

from . import _losses
from ._base import (
    FRONT_END_CONSTRAINTS,
    BaseRNN,
    Cell,
    ConvMode,
    ConvSizes,
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
from ._data import align_step_targets
from ._tasks import RegressionTask


class RNNRegressor(RegressorMixin, BaseRNN):
    """Recurrent neural network regressor for sequences.

    Many-to-one by default (one target vector per sequence, e.g. a direct
    multi-step forecast as several outputs); with ``return_sequences=True``
    one target per real time step (sequence labelling / per-step regression),
    ragged in and ragged out.

    Parameters
    ----------
    cell : {'gru', 'lstm', 'rnn'}, default='gru'
        Recurrent cell. ``'rnn'`` is the vanilla (Elman) cell. The defaults
        (bidirectional GRU of 32 units, last-step pooling, 3e-3 with a cosine
        schedule, batches of 16) were chosen by measurement on sequence
        regression sets (``studies/study_regressor.py``,
        ``studies/results_front_end.md``).
    hidden_size : int, default=32
        Units per layer and direction.
    num_layers : int, default=1
        Stacked recurrent layers.
    bidirectional : bool, default=True
        Also read each sequence backwards (within its own length).
        ``tbptt_steps`` needs ``bidirectional=False``.
    dropout : float, default=0.0
        Dropout between stacked layers.
    nonlinearity : {'tanh', 'relu'}, default='tanh'
        Activation of the vanilla ``'rnn'`` cell.
    embedding_dim : int, default=None
        When set, ``X`` holds integer token ids that go through an
        ``nn.Embedding`` of this size first. Ids unseen in ``fit`` share one
        "unknown" embedding.
    mask_value : float or None, default=np.nan
        A time step whose features all equal ``mask_value`` is skipped wherever
        it sits (Keras' Masking): padding at either end, or a missing reading
        in the middle, with the recurrent state carried over it. A step with
        only some features equal to it (e.g. one NaN feature) is an error.
        ``None`` disables masking; ``0.0`` reads Keras-style zero padding.
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        Layout of 3-D array and list input: ``(n_samples, n_timesteps,
        n_features)`` / ``(T_i, n_features)`` (Keras), or ``(n_samples,
        n_channels, n_timesteps)`` / ``(n_channels, T_i)``, the layout of aeon
        and sktime (e.g. ``load_classification`` output). 2-D input is
        univariate either way; sktime/aeon ``pd-multiindex`` DataFrames are
        read one sequence per instance. Per-step outputs come back in the
        input's layout. Channels-last input with ten times more features than
        steps warns.
    pooling : {'last', 'max', 'mean', 'attention'}, default='last'
        How per-step outputs become one vector per sequence, over real steps
        only (``'last'``: each sequence's own last step, and step 0 of the
        backward direction; it keeps where in the sequence a value was, which
        window regression and forecasting need). ``'max'`` was better on two
        sequence regression sets whose targets depend on shapes rather than
        positions (CardanoSentiment RMSE 0.303 vs 0.331,
        ``studies/results_front_end.md``). Ignored when
        ``return_sequences=True``.
    conv_channels : int, list of int or None, default=None
        Output channels of each block of the convolutional front end
        (``Conv1d`` -> batch normalisation -> ReLU per block), e.g.
        ``[64, 64]`` for two blocks; ``None`` has no front end. Each sequence
        is convolved on its own real steps only, with zero padding at its own
        two ends (masked steps inside a sequence are removed first, as for the
        recurrent layer), and the normalisation statistics come from real
        steps only, so ragged, padded and masked input give the same result.
        See ``conv_mode``. Off by default: it did not help on the two sequence
        regression sets measured (``studies/results_front_end.md``).
    conv_kernel_sizes : int or list of int, default=3
        Kernel size of each convolution block, or one for all of them.
        Sequences shorter than a kernel work (their windows read the zero
        padding at their ends).
    conv_stride : int, default=1
        Stride of the first convolution block: a sequence of ``L`` real steps
        has ``ceil(L / conv_stride)`` afterwards, so the recurrent layer of
        ``conv_mode='before'`` reads that many steps (faster on long series).
        ``return_sequences=True`` needs ``conv_stride=1``.
    conv_mode : {'before', 'beside'}, default='before'
        ``'before'``: the convolution blocks feed the recurrent layer.
        ``'beside'`` (LSTM-FCN): the recurrent layer reads the input and the
        blocks run beside it; their output, averaged over each sequence's
        real steps, is joined to the recurrent layer's pooled output before
        the last linear layer. The front end does not combine with
        ``tbptt_steps``.
    optimizer : {'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass, default='adam'
        Optimizer of the network's weights; a class is called as
        ``optimizer(params, lr=learning_rate_init, weight_decay=alpha)``.
    learning_rate_init : float, default=3e-3
        Learning rate of the optimizer.
    lr_schedule : {'constant', 'cosine', 'onecycle', 'plateau'} or torch.optim.lr_scheduler class, default='cosine'
        Learning-rate schedule over ``max_iter`` epochs (the current rate is in
        ``lr_curve_`` and in the callbacks' ``logs['lr']``). ``'cosine'``:
        linear warm-up over the first 5 % of the batches
        (``lr_schedule_params``: ``warmup``, ``warmup_start_factor=0.01``,
        ``eta_min=0``) then cosine annealing to ``eta_min``, stepped per batch;
        ``'onecycle'``: torch's ``OneCycleLR(max_lr=learning_rate_init)``, per
        batch; ``'plateau'``: ``ReduceLROnPlateau(factor=0.5, patience=5)`` on
        the validation loss with early stopping, else the training loss, per
        epoch. A ``torch.optim.lr_scheduler`` class is built as
        ``cls(optimizer, **lr_schedule_params)`` and stepped per epoch
        (``OneCycleLR`` and ``CyclicLR`` per batch;
        ``lr_schedule_params['interval']`` = ``'epoch'`` or ``'batch'``
        overrides). A ``warm_start`` fit starts its schedule anew from
        ``learning_rate_init``; ``partial_fit`` trains at a constant
        ``learning_rate_init``. The stopping rule may end a schedule early: use
        ``tol=None`` to run it to its end. Default measured with the other
        defaults (see ``cell``).
    lr_schedule_params : dict or None, default=None
        Keyword arguments of the schedule (see ``lr_schedule``), e.g.
        ``{'warmup': 0.1}`` for ``'cosine'`` or ``{'step_size': 10}`` for
        ``torch.optim.lr_scheduler.StepLR``.
    alpha : float, default=0.0
        L2 penalty (the optimizer's weight decay).
    batch_size : int, default=16
        Sequences per mini-batch; batches group sequences of similar length.
    max_iter : int, default=100
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle samples (and the order of the length-grouped batches) each
        epoch.
    clip_grad_norm : float or None, default=1.0
        Clip the gradient norm to this value; ``None`` disables clipping.
    tbptt_steps : int, default=None
        Truncated backpropagation through time: carry the state across chunks
        of this many steps but cut the gradient between them. Needs
        ``bidirectional=False`` and ``pooling='last'``; ``None`` backpropagates
        through whole sequences.
    early_stopping : bool, default=False
        Hold out a validation split (see ``validation_fraction``), stop when
        its loss (or R^2, see ``early_stopping_monitor``) stops improving and
        restore the weights of its best epoch.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping; the split holds
        at least 20 samples (and one per class): ``max(ceil(fraction *
        n_samples), n_classes, 20)``. Fewer than that for training (under 40
        samples) is an error: a smaller split's curve is noise.
    early_stopping_monitor : {'loss', 'score'}, default='loss'
        What early stopping watches: the validation loss (smooth even on a few
        dozen samples), or the validation score (accuracy, R^2, exact match; it
        moves in steps on small splits and stops too early).
    n_iter_no_change : int, default=10
        Stop after this many epochs in a row without an improvement of at least
        ``tol`` of the monitored value (the validation loss or score with early
        stopping, else the training loss). Epochs whose training loss is above
        0.9 x the loss of a constant predictor (class-prior cross-entropy;
        target variance) do not count: a network that has not left that plateau
        has not converged. With early stopping on small data, 20 stops less
        early (measured). ``tol=None`` runs every epoch.
    tol : float or None, default=1e-4
        Smallest decrease of the monitored loss (or increase of the score) that
        counts as an improvement, in absolute terms. ``None`` switches the
        stopping rule off: every one of the ``max_iter`` epochs runs (a fixed
        budget, as with ``lr_schedule='cosine'``), without a
        ``ConvergenceWarning``; early stopping still restores the weights of
        the best validation epoch.
    device : {'auto', 'cpu', 'cuda'} or torch.device, default='auto'
        Where the network trains and predicts; ``'auto'`` uses CUDA when
        available.
    n_threads : int or None, default=1
        Torch intra-op threads while this estimator fits and predicts
        (``torch.set_num_threads``, process-wide; the previous count is
        restored afterwards). One thread is the fastest for the small recurrent
        networks skrnn trains and keeps results independent of the machine's
        cores and of ``GridSearchCV(n_jobs=...)``; raise it for large networks
        on an idle machine. ``None`` leaves torch's setting alone.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. Runs on the CPU with a fixed seed are identical.
    verbose : int, default=0
        Show a progress bar with the loss when > 0.
    warm_start : bool, default=False
        Continue from the previous fit's weights (and optimizer state).
    callbacks : list or None, default=None
        Objects with any of ``on_fit_begin(estimator)``,
        ``on_epoch_end(estimator, epoch, logs)`` (``logs``: ``epoch``,
        ``loss``, ``lr``, and ``val_loss``, ``val_score`` with early stopping;
        returning True stops after that epoch) and ``on_fit_end(estimator)``;
        see :mod:`skrnn.callbacks` (``Checkpoint``, ``CSVLogger``,
        ``MetricsLogger``). Cloned as deep copies; ``save`` stores
        ``callbacks=None`` (with a warning), pickle keeps them.
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
        values squeeze the other standardised targets towards 0 (M1 yearly:
        MASE 2.4 robust against 34 standard on held-out history,
        ``benchmarks/bench_forecast_panel.py``).

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
        **FRONT_END_CONSTRAINTS,
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
        cell: Cell = "gru",
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        nonlinearity: Nonlinearity = "tanh",
        embedding_dim: Optional[int] = None,
        mask_value: Optional[float] = np.nan,
        data_format: DataFormat = "channels_last",
        pooling: PoolingKind = "last",
        conv_channels: Optional[ConvSizes] = None,
        conv_kernel_sizes: ConvSizes = 3,
        conv_stride: int = 1,
        conv_mode: ConvMode = "before",
        optimizer: OptimizerSpec = "adam",
        learning_rate_init: float = 3e-3,
        lr_schedule: LRSchedule = "cosine",
        lr_schedule_params: Optional[dict] = None,
        alpha: float = 0.0,
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
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; per step (see ``return_sequences``) when that is set.
        sample_weight : array-like of shape (n_samples,), default=None
        sequence_lengths : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : RNNRegressor
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Returns
        -------
        self : RNNRegressor
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=True)

    def predict(self, X, sequence_lengths=None):
        """Predict targets.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        sequence_lengths : array-like of shape (n_samples,), default=None

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
        """R^2 of the prediction (over all real steps with ``return_sequences``)."""
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
