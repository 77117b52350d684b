"""``TimeSeriesWindower``: one window of the recent past per row of a
time-indexed table, for one series or many (a panel).

numpy/pandas only (no torch). Shape legend: N rows (time steps of all
series), W window length, F features per step.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import OneToOneFeatureMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import _fit_context, Interval, StrOptions, validate_data
from .._sequences.data import _is_ragged_container
from ._panel import _stamps_as_int, check_order, read_table, series_steps
from .._sequences.transformer import _SequenceTransformer
from .._home import public_home

__all__ = ["TimeSeriesWindower"]

_NO_STAMP = np.iinfo(np.int64).min


@public_home("skrnn.preprocessing")
class TimeSeriesWindower(OneToOneFeatureMixin, _SequenceTransformer):
    """One window of the recent past per row of a time-indexed table.

    Row ``t`` of a series becomes the sequence of its rows
    ``t - window + 1 .. t``, so the number of rows is preserved and targets
    ``y`` stay aligned (for example ``y`` = the value ``h`` steps after
    ``t``, see :func:`skrnn.forecasting.make_horizon_targets`). Rows with
    less history get windows that start with padding steps filled with
    ``value``, which the estimators' default ``mask_value=np.nan`` reads as
    shorter sequences.

    **Many series** (a panel) come in one table, either with a
    ``(series id, time)`` MultiIndex or in long format with an id column and
    a time column (``id_col``, ``time_col``). Windows never cross series;
    rows of different series may interleave (each series must be in time
    order); one global model then trains on the windows of all series.

    **Validation folds see their past.** ``fit`` keeps the last
    ``window - 1`` rows of every series. When ``transform`` gets a table
    whose series *continue* the fitted ones (a series' first time stamp is
    the one right after its last fitted stamp, as in the validation fold of
    ``TimeSeriesSplit`` or :class:`skrnn.forecasting.PanelTimeSeriesSplit`),
    those rows are prepended, so the fold's first rows are scored on full
    windows of true history and nothing from the future leaks in. The fitted
    table itself (``fit_transform``, ``predict`` on the training data) and
    any other table are windowed on their own rows only, as are numpy arrays
    (they carry no time stamps).

    Parameters
    ----------
    window : int
        Number of time steps in each window (the row itself included).
    value : float, default=np.nan
        Fill value of the padding steps; use the same value as the
        estimator's ``mask_value``.
    id_col : str, default=None
        Long format: the column holding the series id (dropped from the
        features). With a MultiIndex, the name of the id level (default: the
        first level).
    time_col : str, default=None
        The column holding the time stamps (dropped from the features);
        None uses the index. With a MultiIndex, the name of the time level
        (default: the second level).
    short_series : {'raise', 'pad'}, default='raise'
        A series with fewer rows than ``window`` in ``fit`` raises, or
        (``'pad'``) is read as shorter, padded windows.

    Attributes
    ----------
    n_features_in_ : int
        Feature columns (target and covariates; id and time columns excluded).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` was a DataFrame (or a named Series).
    series_ids_ : ndarray of shape (n_series,) or None
        The series ids seen in ``fit`` (None for one series).
    history_ : ndarray of shape (n_series, window - 1, n_features_in_)
        The last ``window - 1`` rows of every fitted series (NaN before a
        series' start).
    next_stamps_ : ndarray of shape (n_series,)
        The time stamp (as int64) right after each fitted series, where known.

    See Also
    --------
    skrnn.forecasting.make_horizon_targets : Targets ``h`` steps ahead.
    skrnn.forecasting.PanelTimeSeriesSplit : Time-based folds for panels.

    Notes
    -----
    Time stamps (the index, the time column or level) must be datetimes,
    periods or integers, unique and increasing within each series, at a
    regular frequency: clear errors otherwise. Rows hold no missing values.

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
    >>> panel = pd.DataFrame({"id": ["a", "a", "b", "b"], "t": [1, 2, 1, 2],
    ...                       "y": [1., 2., 10., 20.]})
    >>> TimeSeriesWindower(window=2, id_col="id", time_col="t").fit_transform(panel)[:, :, 0]
    array([[nan,  1.],
           [ 1.,  2.],
           [nan, 10.],
           [10., 20.]])
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "value": [Real],
        "id_col": [str, None],
        "time_col": [str, None],
        "short_series": [StrOptions({"raise", "pad"})],
    }

    def __init__(
        self,
        *,
        window: int,
        value: float = np.nan,
        id_col: str | None = None,
        time_col: str | None = None,
        short_series: str = "raise",
    ) -> None:
        self.window = window
        self.value = value
        self.id_col = id_col
        self.time_col = time_col
        self.short_series = short_series

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the table and keep the last ``window - 1`` rows of each series.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_features)
            Time-ordered table, one row per time step (per series for a panel).
        y : None
            Ignored.

        Returns
        -------
        self : TimeSeriesWindower
            The fitted transformer.
        """
        table, values, groups = self._read(X, reset=True)
        self._check_lengths(table, groups)
        n_keep = self.window - 1
        self.series_ids_ = None if table.ids is None else table.ids.to_numpy()
        self.history_ = np.full((len(groups), n_keep, values.shape[1]), np.nan)
        self.next_stamps_ = np.full(len(groups), _NO_STAMP, dtype=np.int64)
        self._time_kind = _time_kind(table.times)
        steps = series_steps(table, strict=False) if table.times is not None else []
        for k, rows in enumerate(groups):
            tail = values[rows[len(rows) - min(n_keep, len(rows)) :]]
            self.history_[k, n_keep - len(tail) :] = tail
            if steps and steps[k] is not None:
                after = _after(table.times[rows[-1]], steps[k])
                self.next_stamps_[k] = _stamps_as_int(_like(after, table.times))[0]
        return self

    def transform(self, X):
        """Build the window that ends at each row.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_features)
            Time-ordered table with the columns (and layout) seen in
            :meth:`fit`.

        Returns
        -------
        windows : ndarray of shape (n_timesteps, window, n_features)
            ``windows[t, -1]`` is row ``t``, in the input's row order; steps
            before a series' start are ``value``, unless ``X`` continues the
            fitted table (then they are its true history).
        """
        check_is_fitted(self, "history_")
        table, values, groups = self._read(X, reset=False)
        if table.times is not None:
            series_steps(table, strict=False)  # irregular series raise
        fitted = self._fitted_series(table, groups)
        w, n_features = self.window, values.shape[1]
        out = np.empty((len(values), w, n_features))
        for rows, k in zip(groups, fitted):
            past = np.full((w - 1, n_features), np.nan) if k < 0 else self.history_[k]
            padded = np.concatenate([past, values[rows]])
            padded[np.isnan(padded).all(axis=1)] = self.value
            windows = np.lib.stride_tricks.sliding_window_view(padded, w, axis=0)
            out[rows] = windows.transpose(0, 2, 1)
        return self._wrap_output(out, X)

    def inverse_transform(self, X):
        """Recover the table from its windows (the last step of each).

        Parameters
        ----------
        X : array-like of shape (n_timesteps, window, n_features)
            Windows made by :meth:`transform` (one per time step).

        Returns
        -------
        table : ndarray of shape (n_timesteps, n_features)
            A DataFrame with ``set_output(transform="pandas")``.
        """
        check_is_fitted(self, "history_")
        windows = np.asarray(X, dtype=np.float64)
        if windows.ndim != 3 or windows.shape[2] != self.n_features_in_:
            raise ValueError(
                f"Expected windows of shape (n_timesteps, window, {self.n_features_in_}); "
                f"got shape {windows.shape}."
            )
        return self._wrap_output(windows[:, -1, :].copy(), None)

    # ------------------------------------------------------------ helpers
    def _read(self, X, *, reset):
        """Validate ``X``: (Table, float64 feature values, rows of each series)."""
        if isinstance(X, pd.Series):
            X = X.to_frame()
        elif _is_ragged_container(X) or getattr(X, "ndim", None) == 3:
            raise ValueError(
                "TimeSeriesWindower expects one time-ordered table (n_timesteps, "
                "n_features); got a 3-D array or a list of sequences. Pass the series "
                "itself (a DataFrame, Series or 2-D array): the windower builds the "
                "sequences."
            )
        table = read_table(X, id_col=self.id_col, time_col=self.time_col)
        if not reset and table.is_panel != (self.series_ids_ is not None):
            raise ValueError(
                f"TimeSeriesWindower was fitted on "
                f"{'many series' if self.series_ids_ is not None else 'one series'}; "
                f"X is {'a panel' if table.is_panel else 'one series'}. Pass the same layout."
            )
        text = [c for c in getattr(table.values, "columns", [])
                if not pd.api.types.is_numeric_dtype(table.values[c])
                and not pd.api.types.is_bool_dtype(table.values[c])]
        if text:
            raise ValueError(
                f"X has non-numeric column(s) {text[:3]}; the windower's features must be "
                "numbers. If the table holds several series in long format, name the "
                "series and time columns: TimeSeriesWindower(..., id_col=..., time_col=...) "
                "(e.g. id_col='unique_id', time_col='ds'); otherwise encode or drop them."
            )
        values = validate_data(self, table.values, reset=reset, dtype=np.float64)
        if table.times is None:
            return table, values, [np.arange(len(values))]
        check_order(table)
        return table, values, table.groups()

    def _check_lengths(self, table, groups):
        if self.short_series == "pad":
            return
        lengths = np.array([len(rows) for rows in groups])
        if lengths.min() >= self.window:
            return
        k = int(np.argmin(lengths))
        raise ValueError(
            f"window={self.window} is longer than the data: {table.label(k)} has "
            f"{lengths[k]} sample(s) (time steps). Use a smaller window, drop the short "
            "series, or pass short_series='pad' to read them as shorter, padded windows."
        )

    def _fitted_series(self, table, groups):
        """For each series of ``table``, the fitted series it continues, or -1."""
        if table.times is None or _time_kind(table.times) != self._time_kind:
            return [-1] * len(groups)
        if self.series_ids_ is None:
            fitted = np.zeros(1, dtype=np.int64)
        else:
            fitted = pd.Index(self.series_ids_).get_indexer(table.ids)
        firsts = _stamps_as_int(table.times)[[rows[0] for rows in groups]]
        known = fitted >= 0
        continues = np.zeros(len(groups), dtype=bool)
        continues[known] = firsts[known] == self.next_stamps_[fitted[known]]
        return np.where(continues, fitted, -1).tolist()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _time_kind(times):
    if times is None:
        return None
    if isinstance(times, pd.PeriodIndex):
        return f"period[{times.freqstr}]"
    return str(times.dtype)


def _like(stamp, times):
    """``stamp`` as a one-element index of the same type and resolution as ``times``."""
    if isinstance(times, pd.PeriodIndex):
        return pd.PeriodIndex([stamp])
    return pd.Index([stamp], dtype=times.dtype)


def _after(stamp, step):
    """The time stamp one ``step`` after ``stamp``."""
    if isinstance(stamp, pd.Period):
        return stamp + 1
    return stamp + step
