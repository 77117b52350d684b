"""RNNRegressor: sequence regression, many-to-one and many-to-many."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from ._base import (
    BaseRNN,
    Cell,
    DeviceSpec,
    Nonlinearity,
    OptimizerSpec,
    DataFormat,
    PoolingKind,
    RandomState,
    store_params,
)
from ._compat import _fit_context
from ._data import align_step_targets
from ._docstrings import fill_parameters
from ._tasks import RegressionTask


@fill_parameters(
    overrides={
        "pooling": (
            "{'last', 'mean', 'max', 'attention'}, default='last'",
            "How per-step outputs become one vector per sequence, over real steps "
            "only (``'last'``: each sequence's own last step, and step 0 of the "
            "backward direction). Ignored when ``return_sequences=True``.",
        ),
        "early_stopping": (
            "bool, default=False",
            "Hold out ``validation_fraction`` of the data, stop when its R^2 "
            "stops improving and restore the best weights.",
        ),
    },
    extra={
        "return_sequences": (
            "bool, default=False",
            "Predict one output per real time step. ``y`` then has ``X``'s layout: "
            "a list of ``(T_i,)`` / ``(T_i, n_outputs)`` arrays for ragged ``X``, "
            "an array ``(n_samples, n_timesteps[, n_outputs])`` for array ``X``.",
        ),
    },
)
class RNNRegressor(RegressorMixin, BaseRNN):
    """Recurrent neural network regressor for sequences.

    Many-to-one by default (one target vector per sequence, e.g. a direct
    multi-step forecast as several outputs); with ``return_sequences=True``
    one target per real time step (sequence labelling / per-step regression),
    ragged in and ragged out.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    n_features_in_ : int
    n_outputs_ : int
    n_iter_ : int
    loss_curve_ : list of float
    validation_scores_ : list of float or None
        Validation R^2 per epoch when ``early_stopping``.
    best_validation_score_ : float or None
    best_loss_ : float
    module_ : torch.nn.Module

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

    _parameter_constraints = {**BaseRNN._parameter_constraints, "return_sequences": ["boolean"]}
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
        alpha: float = 0.0,
        batch_size: int = 32,
        max_iter: int = 100,
        shuffle: bool = True,
        clip_grad_norm: Optional[float] = 1.0,
        tbptt_steps: Optional[int] = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        device: DeviceSpec = "auto",
        n_threads: Optional[int] = 1,
        random_state: RandomState = None,
        verbose: int = 0,
        warm_start: bool = False,
        return_sequences: bool = False,
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

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """R^2 of the prediction (over all real steps with ``return_sequences``)."""
        if not self.return_sequences:
            return r2_score(y, self.predict(X, sequence_lengths), sample_weight=sample_weight)
        check_is_fitted(self, "module_")
        out, seqs = self._forward(X, sequence_lengths)
        truth, _ = align_step_targets(y, seqs)
        steps_weight = None
        if sample_weight is not None:
            steps_weight = np.repeat(np.asarray(sample_weight, dtype=float), seqs.lengths)
        return r2_score(truth, out, sample_weight=steps_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
