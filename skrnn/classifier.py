"""RNNClassifier: sequence classification (many-to-one)."""

from __future__ import annotations

from typing import Literal, Optional, Union

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

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
from ._compat import StrOptions, _fit_context
from ._train import stopping as _stopping
from ._docstrings import shared_parameters


@shared_parameters
class RNNClassifier(ClassifierMixin, BaseRNN):
    """Recurrent neural network classifier for sequences.

    Reads each sequence with a (stacked, optionally bidirectional) RNN, LSTM
    or GRU, pools the per-step outputs over the real steps and classifies the
    result. Variable-length input is handled exactly: padding never reaches
    the network. The defaults were chosen by measurement on real data sets:
    see :ref:`guide-models` and ``studies/results_defaults.md``.

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
    pooling : {'max', 'last', 'mean', 'attention'}, default='max'
        How per-step outputs become one vector per sequence, over real steps
        only: ``'max'`` takes each feature's maximum over the steps,
        ``'last'`` each sequence's own last step (and step 0 of the backward
        direction), ``'mean'`` their average, and ``'attention'`` learns a
        weighting of the steps.
    $conv_channels
    $conv_kernel_sizes
    $conv_stride
    $conv_mode
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
    front_end_ : dict or None
        The convolutional front end the fit built (channels, kernel sizes,
        stride, mode; ``'auto'`` settings resolved), or None without one.

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
    # conv_channels='auto' also builds the front end for univariate sequences
    # of 16 steps or more (AUTO_MIN_STEPS_UNIVARIATE, studies/results_front_end.md)
    _auto_front_end_univariate = True

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
        data_format: Optional[DataFormat] = None,
        pooling: PoolingKind = "max",
        conv_channels: Union[ConvSizes, Literal["auto"], None] = "auto",
        conv_kernel_sizes: Union[ConvSizes, Literal["auto"]] = "auto",
        conv_stride: Union[int, Literal["auto"]] = "auto",
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
            Weight of each sequence; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        self : RNNClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the loss; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        self : RNNClassifier
            The fitted estimator.
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
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self, "module_")
        out, _ = self._forward(X, sequence_lengths, transform=lambda z: torch.softmax(z, -1))
        # softmax sums to 1 in float32 only (within ~1e-7); normalise after
        # the cast so rows sum to 1 in float64, as log_loss checks
        out = out.astype(np.float64)
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X, sequence_lengths=None):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The most probable class of each sequence.
        """
        return self._predict(X, sequence_lengths)

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """Mean accuracy on ``(X, y)``.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the mean.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        score : float
            Share of the sequences whose predicted label equals ``y``.
        """
        return accuracy_score(y, self.predict(X, sequence_lengths), sample_weight=sample_weight)

    # ------------------------------------------------------------------ hooks
    def _encode_targets(self, y, X, *, first, classes=None, sample_weight=None):
        """Labels -> class ids; the label encoder and ``classes_`` on the first fit."""
        _require_y(self, y)
        y = column_or_1d(y, warn=True)
        if len(y) != X.n_samples:
            raise ValueError(f"y has {len(y)} labels but X has {X.n_samples} sequences.")
        _check_no_nan_label(y, "y")
        if classes is not None:
            as_given = (classes if isinstance(classes, np.ndarray)
                        else np.array(list(classes), dtype=object))
            _check_no_nan_label(as_given, "classes")
        check_classification_targets(y)
        if first:
            self._label_encoder = LabelEncoder().fit(y if classes is None else classes)
            self.classes_ = self._label_encoder.classes_
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in the first fit: {unknown[:5]!r}.")
        return self._label_encoder.transform(y).astype(np.int64)

    def _target_weights(self, targets):
        if self.class_weight is None:
            return 1.0
        return compute_sample_weight(
            _encoded_class_weight(self.class_weight, self.classes_), targets
        ).astype(np.float32)

    def _stratify(self, targets, n_val):
        # stratify when every class can appear on both sides of the split
        counts = np.bincount(targets)
        n_classes = np.count_nonzero(counts)
        can = counts[counts > 0].min() >= 2 and n_classes <= min(n_val, len(targets) - n_val)
        return targets if can else None

    def _pointwise_loss(self):
        return _cross_entropy

    def _n_outputs(self):
        return len(self.classes_)

    def _constant_loss(self, targets, weights):
        return _stopping.class_prior_loss(targets, weights, len(self.classes_))

    def _score_outputs(self, outputs, targets):
        return float(np.mean(outputs.argmax(1) == targets))

    def _output(self, outputs, X):
        return self.classes_[outputs.argmax(1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


def _cross_entropy(out, y):
    return torch.nn.functional.cross_entropy(out, y, reduction="none")


def _require_y(est, y):
    if y is None:
        raise ValueError(
            f"{type(est).__name__} requires y to be passed, but the target y is None."
        )


def _check_no_nan_label(y, name):
    """A clear error for missing labels (NaN, also among strings, where
    sorting the labels would fail with a TypeError)."""
    if y.dtype.kind in "fc":
        missing = np.isnan(y)
    elif y.dtype.kind == "O":
        missing = np.fromiter(
            (v is None or (isinstance(v, (float, np.floating)) and v != v) for v in y.ravel()),
            dtype=bool, count=y.size)
    else:
        return
    if missing.any():
        where = np.flatnonzero(missing)
        raise ValueError(
            f"{name} holds a missing label ({y.ravel()[where[0]]} at index {where[0]}, "
            f"{len(where)} in all); classification labels must all be known: drop those "
            "samples or give them a label of their own."
        )


def _encoded_class_weight(class_weight, classes):
    """Re-key a {label: weight} dict by encoded label (0 .. n_classes - 1)."""
    if isinstance(class_weight, dict):
        missing = set(class_weight) - set(classes.tolist())
        if missing:
            raise ValueError(f"class_weight names classes not in y: {sorted(missing)!r}.")
        return {i: class_weight.get(c, 1.0) for i, c in enumerate(classes.tolist())}
    return class_weight
