"""Preprocessing for sequences: padding, scaling

``SequencePadder`` and ``SequenceScaler`` read their input through
:func:`skrnn._sequences.data.to_sequences`, the one sequence validator of the package,
so they accept exactly what the estimators accept (3-D arrays, 2-D univariate
arrays, ragged lists, padded arrays).

Shape legend: N samples, T time steps (``maxlen`` after padding), F features
per step, W window length.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, OneToOneFeatureMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import _fit_context, Interval, StrOptions
from .._sequences.data import pad_values, to_sequences
from .._sequences.layout import DATA_FORMATS
from .._sequences.transformer import _as_form, _SequenceTransformer, _univariate_input
from .._home import public_home
from .._sequences.data import fitted_data_format

__all__ = ["SequencePadder", "SequenceScaler"]


@public_home("skrnn.preprocessing")
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
    data_format : {'channels_last', 'channels_first'} or None, default=None
        Layout of 3-D array and list input: ``(n_samples, n_timesteps,
        n_features)`` / ``(T_i, n_features)``, or ``(n_samples, n_channels,
        n_timesteps)`` / ``(n_channels, T_i)`` as aeon and sktime give them.
        The output keeps the input's layout. None (the default) follows the
        layout of a skrnn transformer's output, else
        ``skrnn.set_config(data_format=...)`` / ``skrnn.config_context``,
        else reads channels last (input that then looks like an aeon
        ``(n, C, T)`` array is an error that asks for ``data_format``).

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
        "data_format": [StrOptions(set(DATA_FORMATS)), None],
    }

    def __init__(
        self,
        *,
        maxlen: int | None = None,
        padding: str = "post",
        truncating: str = "post",
        value: float = np.nan,
        data_format: str | None = None,
    ) -> None:
        self.maxlen = maxlen
        self.padding = padding
        self.truncating = truncating
        self.value = value
        self.data_format = data_format

    @_fit_context(prefer_skip_nested_validation=True)
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
            The fitted transformer.
        """
        seqs = self._read_sequences(X, reset=True)
        self.maxlen_ = int(self.maxlen or seqs.spans().max())
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
        layout = seqs.repad(self.maxlen_, padding=self.padding, truncating=self.truncating)
        out = pad_values(layout.values, layout, fill=self.value)
        return self._wrap_output(_as_form(out, _univariate_input(X, seqs)), X, seqs.data_format)

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
        seqs = to_sequences(
            X, mask_value=self.value, name="X", dtype=np.float64,
            data_format=fitted_data_format(self),
        )
        return _as_form(seqs.to_list(), seqs.form == "2d")


@public_home("skrnn.preprocessing")
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
    data_format : {'channels_last', 'channels_first'} or None, default=None
        Layout of 3-D array and list input: ``(n_samples, n_timesteps,
        n_features)`` / ``(T_i, n_features)``, or ``(n_samples, n_channels,
        n_timesteps)`` / ``(n_channels, T_i)`` as aeon and sktime give them.
        The output keeps the input's layout. None (the default) follows the
        layout of a skrnn transformer's output, else
        ``skrnn.set_config(data_format=...)`` / ``skrnn.config_context``,
        else reads channels last (input that then looks like an aeon
        ``(n, C, T)`` array is an error that asks for ``data_format``).
    per_sequence : bool, default=False
        Standardise each sequence on its own real steps (per feature), as
        univariate series of different levels are usually z-scored one by one
        (the UCR convention), instead of with the statistics learnt in
        ``fit``. The level and spread of each series are then lost, and
        :meth:`inverse_transform` is not available.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean over the real steps (of the training sequences; not
        used by :meth:`transform` with ``per_sequence=True``).
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
        "data_format": [StrOptions(set(DATA_FORMATS)), None],
        "per_sequence": ["boolean"],
    }

    def __init__(
        self,
        *,
        with_mean: bool = True,
        with_std: bool = True,
        mask_value: float | None = np.nan,
        data_format: str | None = None,
        per_sequence: bool = False,
    ) -> None:
        self.with_mean = with_mean
        self.with_std = with_std
        self.mask_value = mask_value
        self.data_format = data_format
        self.per_sequence = per_sequence

    @_fit_context(prefer_skip_nested_validation=True)
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
            The fitted transformer.
        """
        values = self._read_sequences(X, reset=True, mask_value=self.mask_value).values
        self.n_steps_seen_ = values.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            self.mean_ = values.mean(axis=0)
            self.var_ = values.var(axis=0)
        _check_finite_result(np.concatenate([self.mean_, self.var_]), values, "fit")
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
        if getattr(self, "per_sequence", False):
            return self._map(X, self._scale_each, per_sequence=True)
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
        if getattr(self, "per_sequence", False):
            raise ValueError(
                "SequenceScaler(per_sequence=True) cannot inverse_transform: each sequence "
                "was scaled with its own statistics, which are not kept. Use "
                "per_sequence=False to scale with statistics learnt in fit."
            )
        return self._map(X, self._unscale)

    def _map(self, X, func, per_sequence=False):
        check_is_fitted(self, "mean_")
        seqs = self._read_sequences(X, reset=False, mask_value=self.mask_value)
        fill = np.nan if self.mask_value is None else self.mask_value
        with np.errstate(over="ignore", invalid="ignore"):
            mapped = func(seqs) if per_sequence else func(seqs.values)
        _check_finite_result(mapped, seqs.values, func.__name__.strip("_"))
        out = pad_values(mapped, seqs, fill=fill)
        return self._wrap_output(_as_form(out, _univariate_input(X, seqs)), X, seqs.data_format)

    def __setstate__(self, state):
        # files and pickles written before per_sequence existed scale globally
        super().__setstate__({"per_sequence": False, **state})

    def _scale(self, values):
        if self.with_mean:
            values = values - self.mean_
        return values / self.scale_ if self.with_std else values

    def _scale_each(self, seqs):
        """Each sequence standardised on its own real steps (per feature)."""
        out = np.empty(seqs.values.shape, dtype=np.float64)
        for a, b in zip(seqs.offsets[:-1], seqs.offsets[1:]):
            v = seqs.values[a:b].astype(np.float64)
            mean, std = v.mean(axis=0), v.std(axis=0)
            if self.with_mean:
                v = v - mean
            if self.with_std:
                v = v / _safe_scale(std, mean)
            out[a:b] = v
        return out

    def _unscale(self, values):
        if self.with_std:
            values = values * self.scale_
        return values + self.mean_ if self.with_mean else values


def _check_finite_result(result, values, step):
    """Finite input must give finite statistics and outputs: values near the
    float64 limit (1.8e308) overflow the mean, the variance or the scaled
    values, which would otherwise come back as inf/NaN."""
    if np.isfinite(result).all():
        return
    raise ValueError(
        f"SequenceScaler cannot {step} this data in float64: values up to "
        f"{np.abs(values).max():.3g} overflow its mean, variance or scaled values "
        "(the variance squares deviations from the mean, which must stay below about "
        "1.3e154); divide X by a large constant first."
    )


def _safe_scale(std, mean):
    """Replace (numerically) zero standard deviations by 1."""
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    return np.where(std < tiny, 1.0, std)
