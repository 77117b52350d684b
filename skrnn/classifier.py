"""RNNClassifier: sequence classification (many-to-one)."""

from __future__ import annotations

from typing import Literal, Optional, Union

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

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
from ._compat import StrOptions, _fit_context
from ._tasks import ClassificationTask


class RNNClassifier(ClassifierMixin, BaseRNN):
    """Recurrent neural network classifier for sequences.

    Reads each sequence with a (stacked, optionally bidirectional) RNN, LSTM
    or GRU, pools the per-step outputs over the real steps and classifies the
    result. Variable-length input is handled exactly: padding never reaches
    the network.

    Parameters
    ----------
    cell : {'gru', 'lstm', 'rnn'}, default='gru'
        Recurrent cell. ``'rnn'`` is the vanilla (Elman) cell. The defaults
        (GRU of 128 units, bidirectional, max pooling, learning rate 3e-3 with
        a cosine schedule, batches of 16) were chosen by measurement on seven
        real data sets (benchmarks/results_defaults.md, the README).
    hidden_size : int, default=128
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
    pooling : {'max', 'last', 'mean', 'attention'}, default='max'
        How per-step outputs become one vector per sequence, over real steps
        only. ``'max'`` (the default) takes each feature's maximum over the
        steps and learns on series of hundreds of steps where ``'last'`` stays
        at chance; ``'last'`` (each sequence's own last step, and step 0 of the
        backward direction) can be better on very short series (a few dozen
        steps or less); ``'attention'`` learns a weighting of the steps.
    conv_channels : int, list of int or None, default=None
        Output channels of each block of the convolutional front end
        (``Conv1d`` -> batch normalisation -> ReLU per block), e.g.
        ``[64, 64]`` for two blocks; ``None`` has no front end. Each sequence
        is convolved on its own real steps only, with zero padding at its own
        two ends (masked steps inside a sequence are removed first, as for the
        recurrent layer), and the normalisation statistics come from real
        steps only, so ragged, padded and masked input give the same result.
        See ``conv_mode``. Off by default, by measurement: on univariate series
        of 24 to 1,460 steps it was better on every set measured (ArrowHead
        0.61 -> 0.83 with ``conv_stride=4``), on short multivariate ones
        (digits, JapaneseVowels) not (``studies/results_front_end.md``).
    conv_kernel_sizes : int or list of int, default=3
        Kernel size of each convolution block, or one for all of them.
        Sequences shorter than a kernel work (their windows read the zero
        padding at their ends).
    conv_stride : int, default=1
        Stride of the first convolution block: a sequence of ``L`` real steps
        has ``ceil(L / conv_stride)`` afterwards, so the recurrent layer of
        ``conv_mode='before'`` reads that many steps (faster on long series).
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
        ``tol=None`` to run it to its end. Default measured on
        seven data sets together with ``hidden_size=128`` and ``batch_size=16``
        (README, "How to get a good model"): the three together beat 64 units,
        batches of 32 and a constant rate on six of them.
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
        Hold out a validation split (see ``validation_fraction``; stratified
        when every class fits both sides), stop when its loss (or accuracy, see
        ``early_stopping_monitor``) stops improving and restore the weights of
        its best epoch.
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
    class_weight : dict, 'balanced' or None, default=None
        Weights per class (``{label: weight}``, or ``'balanced'`` for weights
        inversely proportional to the class frequencies), multiplied with
        ``sample_weight``. None: every class weighs 1.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
        Features per time step (3-D or ragged ``X``), or columns of a 2-D ``X``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` was a DataFrame.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Training loss per epoch.
    validation_scores_ : list of float or None
        Validation accuracy per epoch when ``early_stopping``.
    validation_loss_curve_ : list of float or None
        Validation loss per epoch when ``early_stopping``.
    lr_curve_ : list of float
        Learning rate at the start of each epoch (see ``lr_schedule``).
    best_validation_score_ : float or None
    best_loss_ : float
        Lowest training loss seen.
    module_ : torch.nn.Module
        The trained network.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(5, 15), 2)) for _ in range(60)]
    >>> y = np.array([int(x[:, 0].mean() > 0) for x in X])
    >>> clf = RNNClassifier(hidden_size=16, max_iter=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        **BaseRNN._parameter_constraints,
        **FRONT_END_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _task = ClassificationTask()

    def __init__(
        self,
        *,
        cell: Cell = "gru",
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        nonlinearity: Nonlinearity = "tanh",
        embedding_dim: Optional[int] = None,
        mask_value: Optional[float] = np.nan,
        data_format: DataFormat = "channels_last",
        pooling: PoolingKind = "max",
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
        class_weight: Union[dict, Literal["balanced"], None] = None,
    ) -> None:
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, sequence_lengths=None):
        """Fit the network to sequences ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays
            Sequences: fixed-length, padded (see ``mask_value``) or ragged
            (a list of ``(T_i, n_features)`` arrays).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        self : RNNClassifier
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X, y, sample_weight, sequence_lengths : see :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call.

        Returns
        -------
        self : RNNClassifier
        """
        if not hasattr(self, "module_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes)!r} differs from the classes of the first "
                f"call ({self.classes_!r})."
            )
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=True, classes=classes)

    def predict_proba(self, X, sequence_lengths=None):
        """Class probabilities.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        sequence_lengths : array-like of shape (n_samples,), default=None

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "module_")
        out, _ = self._forward(X, sequence_lengths, transform=lambda z: torch.softmax(z, -1))
        return out.astype(np.float64)

    def predict(self, X, sequence_lengths=None):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like or list of arrays
        sequence_lengths : array-like of shape (n_samples,), default=None

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return self._predict(X, sequence_lengths)

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """Mean accuracy on ``(X, y)``; see :meth:`fit` for the arguments."""
        return accuracy_score(y, self.predict(X, sequence_lengths), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags

