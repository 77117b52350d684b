"""Preprocessing for sequences: padding, scaling and time-series windows.

``SequencePadder`` and ``SequenceScaler`` read their input through
:func:`skrnn._data.to_sequences`, the one sequence validator of the package,
so they accept exactly what the estimators accept (3-D arrays, 2-D univariate
arrays, ragged lists, padded arrays). ``TimeSeriesWindower`` turns one
time-indexed table into one window per row.

Shape legend: N samples, T time steps (``maxlen`` after padding), F features
per step, W window length.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
)
from ._compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._validation import validate_sequences
from ._compat import validate_data
from ._data import Sequences, _is_ragged_container, _ragged_positions, pad_values, to_sequences

__all__ = ["SequencePadder", "SequenceScaler", "TimeSeriesWindower"]

_OUTPUTS = {"default", "pandas"}


class _SequenceTransformer(TransformerMixin, BaseEstimator):
    """Shared plumbing: reading sequences and ``set_output`` for 2-D output.

    sklearn's automatic output wrapping assumes 2-D output; these
    transformers return 3-D arrays or lists as well, so they wrap 2-D output
    themselves and leave other output as it is.
    """

    def __init_subclass__(cls, **kwargs):
        kwargs.setdefault("auto_wrap_output_keys", None)
        super().__init_subclass__(**kwargs)

    def set_output(self, *, transform=None):
        """Set the container of 2-D output.

        Parameters
        ----------
        transform : {'default', 'pandas'} or None, default=None
            ``'pandas'`` returns 2-D output as a DataFrame whose columns are
            :meth:`get_feature_names_out`; 3-D and ragged output cannot be a
            table and stays a numpy array / list. ``None`` leaves the
            configuration unchanged.

        Returns
        -------
        self : estimator
        """
        if transform is None:
            return self
        if transform not in _OUTPUTS:
            raise ValueError(
                f"transform must be one of {sorted(_OUTPUTS)} or None; got {transform!r}."
            )
        self._sklearn_output_config = {"transform": transform}
        return self

    def _wrap_output(self, out, X):
        """Return 2-D ``out`` as a DataFrame when pandas output is configured."""
        config = getattr(self, "_sklearn_output_config", {})
        container = config.get("transform", get_config()["transform_output"])
        if container != "pandas" or not isinstance(out, np.ndarray) or out.ndim != 2:
            return out
        index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
        return pd.DataFrame(out, index=index, columns=self.get_feature_names_out())

    def _read_sequences(self, X, *, reset, mask_value=np.nan, name="X"):
        """Validate sequence input as the estimators do, keeping float64.

        A 2-D table follows sklearn's conventions (``n_features_in_`` and
        ``feature_names_in_`` describe its columns); 3-D and ragged input
        count features per step.
        """
        return validate_sequences(
            self, X, reset=reset, mask_value=mask_value, dtype=np.float64, name=name
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # all-NaN steps at either end of a sequence are padding
        tags.input_tags.allow_nan = True
        return tags


def _univariate_input(X, seqs):
    """True when the user gave (n, T) or ragged 1-D sequences."""
    if seqs.form == "2d":
        return True
    if seqs.form != "ragged":
        return False
    first = X.iloc[0] if isinstance(X, pd.Series) else X[0]
    return np.ndim(first) == 1


def _as_form(out, univariate):
    """Drop the feature axis of univariate output (array or list)."""
    if not univariate:
        return out
    if isinstance(out, list):
        return [o[:, 0] for o in out]
    return out[..., 0]


class SequencePadder(ClassNamePrefixFeaturesOutMixin, _SequenceTransformer):
    """Pad (and truncate) variable-length sequences to one length.

    Keras ``pad_sequences`` semantics: sequences shorter than ``maxlen`` are
    padded with ``value`` at the ``padding`` end, longer ones lose steps at
    the ``truncating`` end. The default NaN padding is what every skrnn
    estimator's default ``mask_value=np.nan`` reads as padding, so
    ``make_pipeline(SequencePadder(), RNNClassifier())`` behaves exactly like
    ``RNNClassifier()`` on the ragged list.

    Parameters
    ----------
    maxlen : int, default=None
        Length of the output sequences. ``None`` uses the longest sequence
        seen in ``fit`` (``maxlen_``); longer sequences in ``transform`` are
        truncated to it.
    padding : {'post', 'pre'}, default='post'
        Pad at the end (``'post'``) or at the start (``'pre'``).
    truncating : {'post', 'pre'}, default='post'
        Drop the steps beyond ``maxlen`` at the end (``'post'``) or at the
        start (``'pre'``, keeping the most recent steps).
    value : float, default=np.nan
        Fill value of the padding steps. Use the same value as the
        estimator's ``mask_value``.

    Attributes
    ----------
    maxlen_ : int
        Length of the transformed sequences.
    n_features_in_ : int
        Features per time step (3-D or ragged input), or columns of a 2-D
        input table.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` was a DataFrame.

    See Also
    --------
    SequenceScaler : Standardise the features of sequences.

    Notes
    -----
    Input is read like the estimators read it: all-NaN steps at either end of
    a sequence are padding and are dropped before padding again.
    Univariate input (a 2-D array or a list of 1-D arrays) gives 2-D output
    ``(n_samples, maxlen_)``; otherwise the output is 3-D.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import SequencePadder
    >>> X = [np.array([1., 2., 3.]), np.array([4.])]
    >>> SequencePadder(value=0.0).fit_transform(X)
    array([[1., 2., 3.],
           [4., 0., 0.]])
    >>> SequencePadder(maxlen=2, padding="pre", truncating="pre", value=0.0).fit_transform(X)
    array([[2., 3.],
           [0., 4.]])
    """

    _parameter_constraints = {
        "maxlen": [Interval(Integral, 1, None, closed="left"), None],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "value": [Real],
    }

    def __init__(self, *, maxlen=None, padding="post", truncating="post", value=np.nan):
        self.maxlen = maxlen
        self.padding = padding
        self.truncating = truncating
        self.value = value

    def fit(self, X, y=None):
        """Learn ``maxlen_`` (the longest sequence) when ``maxlen`` is None.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays
            Sequences; ragged lists hold ``(T_i,)`` or ``(T_i, n_features)``
            arrays.
        y : None
            Ignored.

        Returns
        -------
        self : SequencePadder
        """
        self._validate_params()
        seqs = self._read_sequences(X, reset=True)
        self.maxlen_ = int(self.maxlen or seqs.lengths.max())
        return self

    @property
    def _n_features_out(self):
        return self.maxlen_

    def transform(self, X):
        """Pad or truncate every sequence to ``maxlen_`` steps.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.

        Returns
        -------
        X_padded : ndarray of shape (n_samples, maxlen_, n_features) or \
                (n_samples, maxlen_)
            Float64; 2-D for univariate input (a DataFrame with
            ``set_output(transform="pandas")``).
        """
        check_is_fitted(self, "maxlen_")
        seqs = self._read_sequences(X, reset=False)
        layout = self._layout(seqs)
        out = pad_values(layout.values, layout, fill=self.value)
        return self._wrap_output(_as_form(out, _univariate_input(X, seqs)), X)

    def _layout(self, seqs):
        """The kept steps of each sequence and where they start in the output."""
        lengths = seqs.lengths
        kept = np.minimum(lengths, self.maxlen_)
        skip = lengths - kept if self.truncating == "pre" else np.zeros_like(kept)
        rows = _ragged_positions(seqs.offsets[:-1] + skip, kept)
        starts = self.maxlen_ - kept if self.padding == "pre" else np.zeros_like(kept)
        offsets = np.concatenate([[0], np.cumsum(kept)])
        return Sequences(seqs.values[rows], offsets, "3d", starts, self.maxlen_)

    def inverse_transform(self, X):
        """Remove the padding: back to a list of sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, maxlen_, n_features) or \
                (n_samples, maxlen_)
            Padded sequences; steps whose features all equal ``value`` at
            either end are padding.

        Returns
        -------
        sequences : list of ndarray
            ``(T_i, n_features)`` arrays, or ``(T_i,)`` for 2-D ``X``.
            Truncated steps cannot be restored.
        """
        check_is_fitted(self, "maxlen_")
        seqs = to_sequences(X, mask_value=self.value, name="X", dtype=np.float64)
        return _as_form(seqs.to_list(), seqs.form == "2d")


class SequenceScaler(OneToOneFeatureMixin, _SequenceTransformer):
    """Standardise each feature over all real time steps of all sequences.

    scikit-learn's ``StandardScaler`` cannot take 3-D input; this scaler
    learns one mean and standard deviation per feature from every real time
    step (padding excluded) and keeps the input's form: a 3-D array stays
    3-D with its padding steps untouched, a 2-D univariate array stays 2-D,
    a ragged list stays a list.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the mean.
    with_std : bool, default=True
        Divide by the standard deviation (features with zero variance are
        left unscaled).
    mask_value : float or None, default=np.nan
        Steps at either end of a sequence whose features all equal
        ``mask_value`` are padding: excluded from the statistics and left as
        they are. ``None`` reads every step as real.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean over the real steps.
    var_ : ndarray of shape (n_features,)
        Per-feature variance over the real steps.
    scale_ : ndarray of shape (n_features,) or None
        Per-feature scale (``None`` when ``with_std=False``).
    n_steps_seen_ : int
        Number of real time steps the statistics were computed from.
    n_features_in_ : int
        Features per time step (3-D or ragged input), or columns of a 2-D
        input table (then every column is a time step of one feature).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` was a DataFrame.

    See Also
    --------
    SequencePadder : Pad variable-length sequences.

    Notes
    -----
    With a numeric ``mask_value`` (e.g. ``0.0``), a real step at the end of a
    sequence that scales exactly to ``mask_value`` cannot be told apart from
    padding afterwards; NaN padding (the default) has no such ambiguity.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import SequenceScaler
    >>> X = [np.array([[0., 10.], [2., 10.]]), np.array([[4., 40.]])]
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_
    array([ 2., 20.])
    >>> [x.round(3).tolist() for x in scaler.transform(X)]
    [[[-1.225, -0.707], [0.0, -0.707]], [[1.225, 1.414]]]
    """

    _parameter_constraints = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "mask_value": [Real, None],
    }

    def __init__(self, *, with_mean=True, with_std=True, mask_value=np.nan):
        self.with_mean = with_mean
        self.with_std = with_std
        self.mask_value = mask_value

    def fit(self, X, y=None):
        """Compute the per-feature mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays
            Sequences, padded with ``mask_value`` or ragged.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
        """
        self._validate_params()
        values = self._read_sequences(X, reset=True, mask_value=self.mask_value).values
        self.n_steps_seen_ = values.shape[0]
        self.mean_ = values.mean(axis=0)
        self.var_ = values.var(axis=0)
        self.scale_ = _safe_scale(np.sqrt(self.var_), self.mean_) if self.with_std else None
        return self

    def transform(self, X):
        """Standardise the real steps; padding steps are left as they are.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.

        Returns
        -------
        X_scaled : ndarray or list of ndarray
            Same form as ``X`` (float64): 3-D, 2-D (a DataFrame with
            ``set_output(transform="pandas")``) or a list.
        """
        return self._map(X, self._scale)

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like or list of arrays
            Scaled sequences.

        Returns
        -------
        X_original : ndarray or list of ndarray
            Same form as ``X``.
        """
        return self._map(X, self._unscale)

    def _map(self, X, func):
        check_is_fitted(self, "mean_")
        seqs = self._read_sequences(X, reset=False, mask_value=self.mask_value)
        fill = np.nan if self.mask_value is None else self.mask_value
        out = pad_values(func(seqs.values), seqs, fill=fill)
        return self._wrap_output(_as_form(out, _univariate_input(X, seqs)), X)

    def _scale(self, values):
        if self.with_mean:
            values = values - self.mean_
        return values / self.scale_ if self.with_std else values

    def _unscale(self, values):
        if self.with_std:
            values = values * self.scale_
        return values + self.mean_ if self.with_mean else values


def _safe_scale(std, mean):
    """Replace (numerically) zero standard deviations by 1."""
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    return np.where(std < tiny, 1.0, std)


class TimeSeriesWindower(OneToOneFeatureMixin, _SequenceTransformer):
    """One window of the recent past per row of a time-indexed table.

    Row ``t`` of ``X`` becomes the sequence of rows ``t - window + 1 .. t``,
    so the number of rows is preserved and targets ``y`` stay aligned (for
    example ``y`` = the value ``h`` steps after ``t``, see
    :func:`skrnn.forecasting.make_horizon_targets`). The first
    ``window - 1`` rows have less history: their windows start with padding
    steps filled with ``value``, which the estimators' default
    ``mask_value=np.nan`` reads as shorter sequences. So
    ``make_pipeline(TimeSeriesWindower(window=12), RNNRegressor())`` works
    with ``Pipeline``, ``TimeSeriesSplit`` and ``GridSearchCV`` unchanged.

    Parameters
    ----------
    window : int
        Number of time steps in each window (the row itself included).
    value : float, default=np.nan
        Fill value of the padding steps of the first ``window - 1`` windows;
        use the same value as the estimator's ``mask_value``.

    Attributes
    ----------
    n_features_in_ : int
        Columns of ``X`` (target and exogenous features).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` was a DataFrame (or a named Series).

    See Also
    --------
    skrnn.forecasting.make_horizon_targets : Targets ``h`` steps ahead.

    Notes
    -----
    Rows must be in time order with no missing values. Each window depends
    on the rows before it, so transforming a slice of a series gives shorter
    windows at the slice's start than transforming the whole series.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn import TimeSeriesWindower
    >>> s = pd.Series([1., 2., 3., 4.], name="y")
    >>> TimeSeriesWindower(window=2).fit_transform(s)[:, :, 0]
    array([[nan,  1.],
           [ 1.,  2.],
           [ 2.,  3.],
           [ 3.,  4.]])
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "value": [Real],
    }

    def __init__(self, *, window, value=np.nan):
        self.window = window
        self.value = value

    def fit(self, X, y=None):
        """Record the columns of ``X``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_features)
            Time-ordered table, one row per time step.
        y : None
            Ignored.

        Returns
        -------
        self : TimeSeriesWindower
        """
        self._validate_params()
        self._validate_table(X, reset=True)
        return self

    def transform(self, X):
        """Build the window that ends at each row.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_features)
            Time-ordered table with the columns seen in :meth:`fit`.

        Returns
        -------
        windows : ndarray of shape (n_timesteps, window, n_features)
            ``windows[t, -1]`` is row ``t``; steps before the table's first
            row are ``value``.
        """
        check_is_fitted(self, "n_features_in_")
        table = self._validate_table(X, reset=False)
        padded = np.full((table.shape[0] + self.window - 1, table.shape[1]), self.value)
        padded[self.window - 1 :] = table
        windows = np.lib.stride_tricks.sliding_window_view(padded, self.window, axis=0)
        return np.ascontiguousarray(windows.transpose(0, 2, 1))

    def inverse_transform(self, X):
        """Recover the table from its windows (the last step of each).

        Parameters
        ----------
        X : array-like of shape (n_timesteps, window, n_features)

        Returns
        -------
        table : ndarray of shape (n_timesteps, n_features)
            A DataFrame with ``set_output(transform="pandas")``.
        """
        check_is_fitted(self, "n_features_in_")
        windows = np.asarray(X, dtype=np.float64)
        if windows.ndim != 3 or windows.shape[2] != self.n_features_in_:
            raise ValueError(
                f"Expected windows of shape (n_timesteps, window, {self.n_features_in_}); "
                f"got shape {windows.shape}."
            )
        return self._wrap_output(windows[:, -1, :].copy(), None)

    def _validate_table(self, X, *, reset):
        if isinstance(X, pd.Series):
            X = X.to_frame()
        elif _is_ragged_container(X) or getattr(X, "ndim", None) == 3:
            raise ValueError(
                "TimeSeriesWindower expects one time-ordered table (n_timesteps, "
                "n_features); got a 3-D array or a list of sequences. Pass the series "
                "itself (a DataFrame, Series or 2-D array): the windower builds the "
                "sequences."
            )
        return validate_data(self, X, reset=reset, dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
