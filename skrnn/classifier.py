"""RNNClassifier: sequence classification (many-to-one)."""

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from ._compat import StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import BaseRNN, extend_init


@extend_init(class_weight=None)
class RNNClassifier(ClassifierMixin, BaseRNN):
    """Recurrent neural network classifier for sequences.

    Reads each sequence with a (stacked, optionally bidirectional) RNN, LSTM
    or GRU, pools the per-step outputs over the real steps and classifies the
    result. Variable-length input is handled exactly: padding never reaches
    the network.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}, default='lstm'
        Recurrent cell. ``'rnn'`` is the vanilla (Elman) cell.
    hidden_size : int, default=64
        Units per layer and direction.
    num_layers : int, default=1
        Stacked recurrent layers.
    bidirectional : bool, default=False
        Also read each sequence backwards (within its own length).
    dropout : float, default=0.0
        Dropout between stacked layers.
    nonlinearity : {'tanh', 'relu'}, default='tanh'
        Activation of the vanilla ``'rnn'`` cell.
    embedding_dim : int, default=None
        When set, ``X`` holds integer token ids that go through an
        ``nn.Embedding`` of this size first. Ids unseen in ``fit`` share one
        "unknown" embedding.
    mask_value : float or None, default=np.nan
        Steps at the start or end of a padded sequence whose features all
        equal ``mask_value`` are padding (all-NaN steps for ``np.nan``).
        ``None`` disables masking; ``0.0`` reads Keras-style zero padding.
    pooling : {'last', 'mean', 'max', 'attention'}, default='last'
        How per-step outputs become one vector per sequence, over real steps
        only. ``'last'`` takes each sequence's own last step (and step 0 of
        the backward direction).
    optimizer : {'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass, \
            default='adam'
    learning_rate_init : float, default=1e-3
    alpha : float, default=0.0
        L2 penalty (weight decay).
    batch_size : int, default=32
        Sequences per mini-batch; batches group sequences of similar length.
    max_iter : int, default=100
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle samples (and the order of the length-grouped batches) each epoch.
    clip_grad_norm : float or None, default=1.0
        Clip the gradient norm to this value; ``None`` disables clipping.
    tbptt_steps : int, default=None
        Truncated backpropagation through time: carry the state across
        chunks of this many steps but cut the gradient between them.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified), stop when
        its accuracy stops improving and restore the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float, default=1e-4
    device : {'auto', 'cpu', 'cuda'} or torch.device, default='auto'
        ``'auto'`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. Runs on the CPU with a fixed seed are identical.
    verbose : int, default=0
        Show a progress bar with the loss when > 0.
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    class_weight : dict, 'balanced' or None, default=None
        Weights per class, multiplied with ``sample_weight``.

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
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _loss = "cross_entropy"

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
        self._validate_params()
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

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
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes)!r} differs from the classes of the first "
                f"call ({self.classes_!r})."
            )
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=True, classes=classes)

    def _encode_targets(self, y, seqs, first, classes=None):
        y = column_or_1d(y, warn=True)
        if len(y) != seqs.n_samples:
            raise ValueError(f"y has {len(y)} labels but X has {seqs.n_samples} sequences.")
        check_classification_targets(y)
        if first:
            self._label_encoder = LabelEncoder().fit(y if classes is None else classes)
            self.classes_ = self._label_encoder.classes_
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in the first fit: {unknown[:5]!r}.")
        return self._label_encoder.transform(y).astype(np.int64), len(self.classes_)

    def _class_weights(self, targets, seqs):
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

    def _validation_score(self, outputs, targets):
        return float(np.mean(outputs.argmax(1) == targets))

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
        check_is_fitted(self, "module_")
        out, _ = self._forward(X, sequence_lengths)
        return self.classes_[out.argmax(1)]

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """Mean accuracy on ``(X, y)``; see :meth:`fit` for the arguments."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X, sequence_lengths), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


def _encoded_class_weight(class_weight, classes):
    """Re-key a {label: weight} dict by encoded label (0 .. n_classes - 1)."""
    if isinstance(class_weight, dict):
        missing = set(class_weight) - set(classes.tolist())
        if missing:
            raise ValueError(f"class_weight names classes not in y: {sorted(missing)!r}.")
        return {i: class_weight.get(c, 1.0) for i, c in enumerate(classes.tolist())}
    return class_weight
