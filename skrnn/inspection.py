"""Sequence-aware model inspection.

scikit-learn's ``sklearn.inspection.permutation_importance`` permutes
the columns of a 2-D table; a sequence model's input is 3-D or ragged, and
the questions are *which channel* and *which part of the sequence* it uses.
:func:`permutation_importance` answers both for any fitted skrnn estimator
or pipeline, with scikit-learn's result (a ``Bunch``), and
:func:`bagging_predict_proba` gives the bagging recipe for sequence input
that ``BaggingClassifier`` (which validates 2-D input) cannot run.
"""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._sequences.data import fitted_data_format, marked_layout
from ._sequences.config import get_config as _skrnn_config
from ._sequences.data import _is_ragged_container

__all__ = ["permutation_importance", "bagging_predict_proba"]


# --------------------------------------------------------------- the input
class _Panel:
    """The user's sequences as channels-last real-step arrays, with what it
    takes to write changed values back in the user's own form (3-D array,
    2-D univariate array, or list; channels first or last)."""

    def __init__(self, X, data_format):
        self.channels_first = data_format == "channels_first"
        self.ragged = _is_ragged_container(X)
        if self.ragged:
            items = [np.asarray(x, dtype=np.float64) for x in X]
            self.one_d = items[0].ndim == 1
            self.items = [x[:, None] if self.one_d else (x.T if self.channels_first else x)
                          for x in items]
            self.positions = [np.arange(len(x)) for x in self.items]
            self.arrays = self.items
            return
        A = np.asarray(X, dtype=np.float64)
        if A.ndim not in (2, 3):
            raise ValueError(
                f"X must be a 3-D array (n_samples, n_timesteps, n_features), a 2-D array "
                f"(n_samples, n_timesteps) or a list of sequences; got shape {A.shape}."
            )
        self.one_d = A.ndim == 2
        self.template = A
        full = A[:, :, None] if self.one_d else (A.transpose(0, 2, 1) if self.channels_first else A)
        real = ~np.isnan(full).all(axis=2)  # NaN padding and missing steps stay as they are
        self.positions = [np.flatnonzero(r) for r in real]
        self.arrays = [f[p] for f, p in zip(full, self.positions)]

    @property
    def n_channels(self):
        return self.arrays[0].shape[1]

    def rebuild(self, arrays):
        """``arrays`` (channels-last real steps) in the input's form."""
        if self.ragged:
            if self.one_d:
                return [a[:, 0] for a in arrays]
            return [a.T.copy() if self.channels_first else a for a in arrays]
        out = self.template.copy()
        view = out[:, :, None] if self.one_d else (
            out.transpose(0, 2, 1) if self.channels_first else out)
        for i, (a, p) in enumerate(zip(arrays, self.positions)):
            view[i, p] = a
        return out


def _resample(values, n):
    """``values`` (m, k) stretched or squeezed to ``n`` steps (linear)."""
    m = len(values)
    if m == n:
        return values
    if m == 1:
        return np.repeat(values, n, axis=0)
    src = np.linspace(0.0, 1.0, m)
    dst = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(dst, src, values[:, k]) for k in range(values.shape[1])], axis=1)


def _segments(length, n_segments):
    """Step indices of each of ``n_segments`` near-equal parts of a sequence
    (a part is empty when the sequence has fewer steps than parts)."""
    return np.array_split(np.arange(length), n_segments)


def _permuted(panel, by, j, perm, n_segments):
    """The input with group ``j`` (a channel, or a segment of every sequence)
    taken from sample ``perm[i]`` for each sample ``i``, resampled to the
    receiving sequence's length."""
    out = []
    for i, a in enumerate(panel.arrays):
        donor = panel.arrays[perm[i]]
        a = a.copy()
        if by == "channel":
            a[:, j] = _resample(donor[:, j:j + 1], len(a))[:, 0]
        else:
            mine = _segments(len(a), n_segments)[j]
            theirs = _segments(len(donor), n_segments)[j]
            if len(mine) and len(theirs):
                a[mine] = _resample(donor[theirs], len(mine))
        out.append(a)
    return panel.rebuild(out)


def _input_layout(estimator, X, data_format):
    if data_format is not None:
        return data_format
    marked = marked_layout(X)
    if marked is not None:
        return marked
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    if hasattr(first, "data_format"):
        return fitted_data_format(first)
    return _skrnn_config()["data_format"] or "channels_last"


def _scores(scorer, estimator, X, y, panel, by, j, perms, n_segments):
    return np.array([scorer(estimator, _permuted(panel, by, j, p, n_segments), y) for p in perms])


def permutation_importance(estimator, X, y, *, by="channel", n_segments=5, scoring=None,
                           n_repeats=5, random_state=None, n_jobs=None, data_format=None):
    """Permutation importance of each channel or each part of the sequences.

    The score of the fitted ``estimator`` drops when what it relies on is
    shuffled between samples. ``by='channel'`` shuffles one channel (feature
    per step) at a time: sample ``i`` gets that channel of another sample
    ``perm[i]``, its other channels unchanged. ``by='segment'`` cuts every
    sequence into ``n_segments`` near-equal parts of its own real steps and
    shuffles one part at a time, all channels together. Ragged input is
    handled by resampling the donor's values to the receiver's length
    (linear interpolation); padding and missing steps stay where they are.
    The importance is the baseline score minus the score after shuffling,
    as in ``sklearn.inspection.permutation_importance``.

    Parameters
    ----------
    estimator : estimator
        A fitted skrnn estimator, or a fitted pipeline (or any estimator)
        that takes sequences.
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_timesteps), or list of arrays
        Sequences, in the form and layout ``estimator`` takes.
    y : array-like of shape (n_samples,)
        Targets.
    by : {'channel', 'segment'}, default='channel'
        What is shuffled: one channel at a time, or one part of the time
        axis at a time.
    n_segments : int, default=5
        Parts per sequence with ``by='segment'``.
    scoring : str, callable or None, default=None
        Scorer (see scikit-learn's ``check_scoring``); None uses
        ``estimator.score``.
    n_repeats : int, default=5
        Shuffles per channel or segment.
    random_state : int, RandomState instance or None, default=None
        Draws the shuffles (the same ones for every channel or segment).
    n_jobs : int or None, default=None
        Channels or segments scored in parallel (joblib).
    data_format : {'channels_last', 'channels_first'} or None, default=None
        Layout of 3-D and list ``X``; None uses the layout the estimator
        (or the pipeline's first step) was fitted with.

    Returns
    -------
    result : Bunch
        ``importances_mean`` (n_groups,), ``importances_std`` (n_groups,)
        and ``importances`` (n_groups, n_repeats), one row per channel or
        segment.

    See Also
    --------
    skrnn.plotting.save_permutation_importance_plot : Plot the result.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> from skrnn.inspection import permutation_importance
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 8, 3))
    >>> y = (X[:, :, 0].mean(axis=1) > 0).astype(int)  # only channel 0 matters
    >>> clf = RNNClassifier(hidden_size=8, max_iter=30, random_state=0).fit(X, y)
    >>> result = permutation_importance(clf, X, y, n_repeats=3, random_state=0)
    >>> result.importances.shape
    (3, 3)
    >>> int(np.argmax(result.importances_mean))
    0
    """
    if by not in ("channel", "segment"):
        raise ValueError(f"by must be 'channel' or 'segment'; got {by!r}.")
    if not isinstance(n_segments, numbers.Integral) or n_segments < 1:
        raise ValueError(f"n_segments must be a positive integer; got {n_segments!r}.")
    if not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be a positive integer; got {n_repeats!r}.")
    if isinstance(X, str) or (_is_ragged_container(X) and len(X) and isinstance(X[0], str)):
        raise TypeError(
            "permutation_importance shuffles numeric channels or time segments; X holds "
            "strings."
        )
    panel = _Panel(X, _input_layout(estimator, X, data_format))
    n = len(panel.arrays)
    scorer = check_scoring(estimator, scoring=scoring)
    baseline = scorer(estimator, X, y)
    rng = check_random_state(random_state)
    perms = [rng.permutation(n) for _ in range(n_repeats)]
    groups = panel.n_channels if by == "channel" else n_segments
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_scores)(scorer, estimator, X, y, panel, by, j, perms, n_segments)
        for j in range(groups)
    )
    importances = baseline - np.array(scores)
    return Bunch(
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        importances=importances,
    )


def bagging_predict_proba(estimator, X, y, X_predict, *, n_estimators=5, max_samples=1.0,
                          random_state=None, n_jobs=None):
    """Bagging for sequence input: fit clones of ``estimator`` on bootstrap
    samples of the sequences and average their ``predict_proba``.

    scikit-learn's ``BaggingClassifier`` validates ``X`` as a 2-D table, so
    it refuses 3-D and ragged sequences; this helper is the same recipe:
    each clone gets its own ``random_state`` and a bootstrap sample (drawn
    with replacement) of ``max_samples`` of the sequences, in any form skrnn
    reads (3-D, ragged list, either layout).

    Parameters
    ----------
    estimator : classifier
        An unfitted skrnn classifier or pipeline ending in one (cloned).
    X : array-like or list of arrays
        Training sequences.
    y : array-like of shape (n_samples,)
        Class labels.
    X_predict : array-like or list of arrays
        Sequences to predict.
    n_estimators : int, default=5
        Clones fitted.
    max_samples : float, default=1.0
        Share of the sequences in each bootstrap sample.
    random_state : int, RandomState instance or None, default=None
        Draws the samples and each clone's ``random_state``.
    n_jobs : int or None, default=None
        Clones fitted in parallel (joblib).

    Returns
    -------
    proba : ndarray of shape (len(X_predict), n_classes)
        The averaged probabilities, columns in the order of
        ``np.unique(y)``.
    models : list of estimators
        The fitted clones.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> from skrnn.inspection import bagging_predict_proba
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(4, 9), 2)) for _ in range(40)]
    >>> y = np.array([int(x[:, 0].mean() > 0) for x in X])
    >>> proba, models = bagging_predict_proba(
    ...     RNNClassifier(hidden_size=4, max_iter=2), X, y, X[:3], n_estimators=3,
    ...     random_state=0)
    >>> proba.shape, len(models)
    ((3, 2), 3)
    """
    if not isinstance(n_estimators, numbers.Integral) or n_estimators < 1:
        raise ValueError(f"n_estimators must be a positive integer; got {n_estimators!r}.")
    if not 0 < max_samples <= 1:
        raise ValueError(f"max_samples must be in (0, 1]; got {max_samples!r}.")
    y = np.asarray(y)
    classes = np.unique(y)
    n = len(y)
    rng = check_random_state(random_state)
    size = max(1, int(round(max_samples * n)))
    draws = [(rng.randint(0, n, size), int(rng.randint(np.iinfo(np.int32).max)))
             for _ in range(n_estimators)]
    models = Parallel(n_jobs=n_jobs)(
        delayed(_fit_one)(estimator, X, y, idx, seed) for idx, seed in draws
    )
    proba = np.zeros((_n_samples(X_predict), len(classes)))
    for model in models:
        p = model.predict_proba(X_predict)
        # a bootstrap sample may miss a class: put its columns where they belong
        proba[:, np.searchsorted(classes, model.classes_)] += p
    return proba / n_estimators, models


def _n_samples(X):
    return len(X)


def _take(X, idx):
    if _is_ragged_container(X):
        return [X[i] for i in idx]
    return np.asarray(X)[idx]


def _fit_one(estimator, X, y, idx, seed):
    model = clone(estimator)
    name = "random_state"
    params = model.get_params()
    for key in params:
        if key == name or key.endswith("__" + name):
            model.set_params(**{key: seed})
    return model.fit(_take(X, idx), y[idx])
