"""RNNRegressor: sequence regression, many-to-one and many-to-many."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import BaseRNN, extend_init
from ._data import align_step_targets, pad_values


@extend_init(return_sequences=False)
class RNNRegressor(RegressorMixin, BaseRNN):
    """Recurrent neural network regressor for sequences.

    Many-to-one by default (one target vector per sequence, e.g. a direct
    multi-step forecast as several outputs); with ``return_sequences=True``
    one target per real time step (sequence labelling / per-step regression),
    ragged in and ragged out.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}, default='lstm'
    hidden_size : int, default=64
    num_layers : int, default=1
    bidirectional : bool, default=False
    dropout : float, default=0.0
    nonlinearity : {'tanh', 'relu'}, default='tanh'
    embedding_dim : int, default=None
    mask_value : float or None, default=np.nan
    pooling : {'last', 'mean', 'max', 'attention'}, default='last'
        Ignored when ``return_sequences=True``.
    optimizer : {'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass, \
            default='adam'
    learning_rate_init : float, default=1e-3
    alpha : float, default=0.0
    batch_size : int, default=32
    max_iter : int, default=100
    shuffle : bool, default=True
    clip_grad_norm : float or None, default=1.0
    tbptt_steps : int, default=None
    early_stopping : bool, default=False
        Stop when the R^2 of a held-out ``validation_fraction`` stops
        improving, restoring the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    device : {'auto', 'cpu', 'cuda'} or torch.device, default='auto'
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    warm_start : bool, default=False
    return_sequences : bool, default=False
        Predict one output per real time step. ``y`` then has ``X``'s layout:
        a list of ``(T_i,)`` / ``(T_i, n_outputs)`` arrays for ragged ``X``,
        an array ``(n_samples, n_timesteps[, n_outputs])`` for array ``X``.

    The parameters shared with :class:`RNNClassifier` are documented there.

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
    _loss = "mse"

    @property
    def _return_sequences(self):
        return self.return_sequences

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
        self._validate_params()
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        Returns
        -------
        self : RNNRegressor
        """
        if not hasattr(self, "module_"):
            self._validate_params()
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=True)

    def _encode_targets(self, y, seqs, first, classes=None):
        if self.return_sequences:
            values, one_d = align_step_targets(y, seqs)
        else:
            y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
            if y.ndim not in (1, 2):
                raise ValueError(f"y must be 1-D or 2-D (n_samples, n_outputs); got shape {y.shape}.")
            if len(y) != seqs.n_samples:
                raise ValueError(f"y has {len(y)} rows but X has {seqs.n_samples} sequences.")
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
        elif values.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {values.shape[1]} outputs; the model was fitted with {self.n_outputs_}.")
        return values, self.n_outputs_

    def _validation_score(self, outputs, targets):
        return float(r2_score(targets, outputs))

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
        check_is_fitted(self, "module_")
        out, seqs = self._forward(X, sequence_lengths)
        out = out.astype(np.float64)
        if self.return_sequences:
            out = pad_values(out, seqs)
            if self._y_one_d:
                out = [o[:, 0] for o in out] if isinstance(out, list) else out[..., 0]
            return out
        return out[:, 0] if self._y_one_d else out

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
