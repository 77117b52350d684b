"""Multi-step forecasting with pandas: targets ``h`` steps ahead, and the
direct and recursive strategies that turn a fitted pipeline and a
time-indexed history into a forecast carrying the future time index.

The estimator is anything with ``predict`` that reads the history table row
by row, typically ``make_pipeline(TimeSeriesWindower(window=w), ...,
RNNRegressor())``: the prediction for the history's last row is the forecast.

- Direct: fit on ``make_horizon_targets(y, h)`` (one output per step ahead);
  :func:`forecast_direct` returns all ``h`` steps from one prediction.
- Recursive: fit on the value one step ahead; :func:`forecast_recursive`
  appends each prediction to the history and predicts again.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from .preprocessing import TimeSeriesWindower

__all__ = ["make_horizon_targets", "future_index", "forecast_direct", "forecast_recursive"]


def make_horizon_targets(y, horizon=1):
    """Targets ``1 .. horizon`` steps ahead, aligned with the rows of ``y``.

    Row ``t``, column ``k - 1`` holds ``y[t + k]``: the target of a model that
    reads the window ending at row ``t`` (see
    :class:`~skrnn.TimeSeriesWindower`). One column per step ahead is the
    multi-output ``y`` of the direct strategy; ``horizon=1`` is the one-step
    target of the recursive strategy.

    Parameters
    ----------
    y : pandas Series or array-like of shape (n_timesteps,)
        The target series, in time order.
    horizon : int, default=1
        Number of steps ahead.

    Returns
    -------
    targets : DataFrame of shape (n_timesteps, horizon)
        Same index as ``y``; columns ``'<name>+1' .. '<name>+<horizon>'``.
        The last ``k`` rows of column ``k`` are NaN (no future value yet):
        drop them before fitting, e.g. ``Y.notna().all(axis=1)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn.forecasting import make_horizon_targets
    >>> y = pd.Series([1., 2., 3., 4.], name="y")
    >>> make_horizon_targets(y, horizon=2)
       y+1  y+2
    0  2.0  3.0
    1  3.0  4.0
    2  4.0  NaN
    3  NaN  NaN
    """
    if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}.")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y must be one series; got a DataFrame with {y.shape[1]} columns. "
                "Build the targets of each column separately."
            )
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        values = np.asarray(y)
        if values.ndim != 1:
            raise ValueError(f"y must be 1-D (n_timesteps,); got shape {values.shape}.")
        y = pd.Series(values)
    name = "y" if y.name is None else str(y.name)
    return pd.DataFrame(
        {f"{name}+{k}": y.shift(-k) for k in range(1, horizon + 1)}, index=y.index
    )


def future_index(index, horizon, freq=None):
    """The ``horizon`` time stamps that follow ``index``.

    Parameters
    ----------
    index : DatetimeIndex or PeriodIndex
        Time stamps of the history, increasing, without duplicates.
    horizon : int
        Number of future steps.
    freq : str or DateOffset, default=None
        Step between time stamps; inferred from ``index`` when None.

    Returns
    -------
    DatetimeIndex or PeriodIndex of length horizon

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn.forecasting import future_index
    >>> idx = future_index(pd.date_range("2020-01-01", periods=3, freq="MS"), 2)
    >>> idx.strftime("%Y-%m-%d").tolist(), idx.freqstr
    (['2020-04-01', '2020-05-01'], 'MS')
    """
    _check_time_index(index)
    offset = _frequency(index, freq)
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    return pd.date_range(index[-1] + offset, periods=horizon, freq=offset, name=index.name)


def forecast_direct(estimator, history, *, freq=None):
    """Forecast the next steps with a direct multi-output model.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        Trained on rows of a history like ``history`` with targets
        ``make_horizon_targets(y, h)``; its prediction for the last row holds
        the ``h`` future values.
    history : pandas Series or DataFrame
        The series up to now (target and exogenous columns, as in ``fit``),
        indexed by a regular, increasing DatetimeIndex or PeriodIndex.
    freq : str or DateOffset, default=None
        Frequency of the index; inferred from ``history`` when None.

    Returns
    -------
    forecast : Series of shape (h,)
        Indexed by the ``h`` time stamps after the history; named like the
        history when it is a Series.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skrnn.forecasting import forecast_direct, make_horizon_targets
    >>> y = pd.Series(np.arange(10.), index=pd.date_range("2020", periods=10, freq="D"))
    >>> Y = make_horizon_targets(y, 2)
    >>> keep = Y.notna().all(axis=1)
    >>> model = LinearRegression().fit(y[keep].to_frame(), Y[keep])
    >>> forecast_direct(model, y.to_frame()).round(6)
    2020-01-11    10.0
    2020-01-12    11.0
    Freq: D, dtype: float64
    """
    offset = _check_history(history, freq, estimator)
    last = np.ravel(np.asarray(estimator.predict(history))[-1])
    name = history.name if isinstance(history, pd.Series) else None
    return pd.Series(last, index=future_index(history.index, len(last), offset), name=name)


def forecast_recursive(estimator, history, horizon, *, target=None, exog=None, freq=None):
    """Forecast ``horizon`` steps by feeding one-step predictions back.

    At each step the estimator predicts the next value of the target
    column(s) from the history's last row; that value is appended as a new
    row (with the exogenous columns taken from ``exog``) and the estimator
    predicts again.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        Trained on rows of a history like ``history`` with the target one step
        ahead (``make_horizon_targets(y, 1)``), one output per target column.
    history : pandas Series or DataFrame
        The series up to now, indexed by a regular, increasing DatetimeIndex
        or PeriodIndex.
    horizon : int
        Number of steps to forecast.
    target : str or list of str, default=None
        The DataFrame column(s) the estimator predicts, in its output order;
        None means every column. Other columns are exogenous.
    exog : DataFrame, default=None
        Future values of the exogenous columns, indexed by (at least) the
        ``horizon`` future time stamps. Required when ``history`` has
        exogenous columns.
    freq : str or DateOffset, default=None
        Frequency of the index; inferred from ``history`` when None.

    Returns
    -------
    forecast : Series of shape (horizon,) or DataFrame of shape (horizon, n_targets)
        A Series for a Series history or a single target column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from skrnn.forecasting import forecast_recursive, make_horizon_targets
    >>> idx = pd.date_range("2020", periods=10, freq="D")
    >>> history = pd.DataFrame({"y": np.arange(10.)}, index=idx)
    >>> y1 = make_horizon_targets(history["y"], 1).iloc[:-1, 0]
    >>> model = LinearRegression().fit(history[:-1], y1)
    >>> forecast_recursive(model, history, 3).round(6)
    2020-01-11    10.0
    2020-01-12    11.0
    2020-01-13    12.0
    Freq: D, Name: y, dtype: float64
    """
    if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}.")
    offset = _check_history(history, freq, estimator)
    future = future_index(history.index, horizon, offset)
    targets = _target_columns(history, target)
    extended = _extend(history, future, targets, exog)
    n = len(history)
    for step in range(horizon):
        pred = np.ravel(np.asarray(estimator.predict(extended.iloc[: n + step]))[-1])
        if pred.size != len(targets):
            raise ValueError(
                f"The estimator predicts {pred.size} value(s) per row but the recursive "
                f"strategy feeds back {len(targets)} target column(s) {targets!r}; fit "
                "it on the one-step-ahead value of each target column (for a direct "
                "multi-output model use forecast_direct)."
            )
        _set_row(extended, n + step, targets, pred)
    out = extended.iloc[n:]
    if isinstance(out, pd.Series):
        return out.copy()
    return out[targets[0]].copy() if len(targets) == 1 else out[targets].copy()


# --------------------------------------------------------------- validation
def _check_time_index(index):
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        raise TypeError(
            "The history must be indexed by time (a DatetimeIndex or PeriodIndex); "
            f"got {type(index).__name__}. Set one, e.g. "
            "history.index = pd.date_range(start, periods=len(history), freq='MS')."
        )
    if len(index) == 0:
        raise ValueError("The history is empty; at least one time step is required.")
    duplicated = index.duplicated()
    if duplicated.any():
        raise ValueError(
            f"The history has duplicate time stamps (first: {index[duplicated][0]}); "
            "aggregate them first, e.g. history.groupby(level=0).mean()."
        )
    if not index.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(index.asi8) < 0)[0])
        raise ValueError(
            f"The history's time stamps are not sorted: {index[i]} comes before "
            f"{index[i + 1]}. Sort it with history.sort_index()."
        )


def _frequency(index, freq):
    """The step between time stamps: given, stored on the index, or inferred."""
    if freq is not None:
        return to_offset(freq)
    if index.freq is not None:
        return index.freq
    if len(index) < 3:
        raise ValueError(
            f"Cannot infer the frequency from {len(index)} time stamp(s) (3 are "
            "needed); pass freq=, e.g. freq='MS'."
        )
    inferred = pd.infer_freq(index)
    if inferred is None:
        gaps = pd.Series(index[1:] - index[:-1]).value_counts()
        shown = ", ".join(f"{g} ({c}x)" for g, c in gaps.head(3).items())
        raise ValueError(
            "Cannot infer the frequency of the history: the gaps between time "
            f"stamps are irregular ({shown}). Reindex it to a regular frequency "
            "(history.asfreq('MS') and impute), or pass freq= explicitly."
        )
    return to_offset(inferred)


def _check_history(history, freq, estimator):
    """Validate the history; return its frequency as a DateOffset."""
    if not isinstance(history, (pd.Series, pd.DataFrame)):
        raise TypeError(
            "history must be a pandas Series or DataFrame indexed by time; got "
            f"{type(history).__name__}."
        )
    _check_time_index(history.index)
    missing = history.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing.reshape(len(history), -1).any(axis=1))[0])
        raise ValueError(
            f"The history has missing values (first at {history.index[row]}); "
            "impute or drop them before forecasting."
        )
    window = _longest_window(estimator)
    if window > len(history):
        raise ValueError(
            f"The model's window ({window} steps) is longer than the history "
            f"({len(history)} steps); pass at least {window} steps of history or "
            "use a smaller window."
        )
    return _frequency(history.index, freq)


def _longest_window(estimator):
    """The largest ``window`` of any TimeSeriesWindower inside ``estimator``."""
    parts = [estimator]
    if hasattr(estimator, "get_params"):
        parts += list(estimator.get_params(deep=True).values())
    windows = [p.window for p in parts if isinstance(p, TimeSeriesWindower)]
    return max(windows, default=0)


# ---------------------------------------------------------------- recursion
def _target_columns(history, target):
    if isinstance(history, pd.Series):
        if target is not None:
            raise ValueError("target is for DataFrame histories; a Series is its own target.")
        return [history.name]
    columns = list(history.columns)
    targets = columns if target is None else ([target] if np.isscalar(target) else list(target))
    unknown = [t for t in targets if t not in columns]
    if unknown:
        raise ValueError(f"target column(s) {unknown!r} not in the history's columns {columns!r}.")
    return targets


def _extend(history, future, targets, exog):
    """The history followed by ``future`` rows: targets NaN, exogenous from ``exog``."""
    if isinstance(history, pd.Series):
        rows = pd.Series(np.nan, index=future, name=history.name)
        return pd.concat([history.astype(float), rows])
    exog_columns = [c for c in history.columns if c not in targets]
    rows = pd.DataFrame(np.nan, index=future, columns=history.columns)
    if exog_columns:
        rows[exog_columns] = _future_exog(exog, future, exog_columns)
    return pd.concat([history.astype(float), rows])


def _future_exog(exog, future, columns):
    if exog is None:
        raise ValueError(
            f"The history has exogenous columns {columns!r}: pass their future values "
            f"as exog, a DataFrame indexed by the next {len(future)} time stamps "
            f"({future[0]} .. {future[-1]})."
        )
    missing_cols = [c for c in columns if c not in exog.columns]
    if missing_cols:
        raise ValueError(f"exog lacks the exogenous column(s) {missing_cols!r}.")
    missing_rows = future.difference(exog.index)
    if len(missing_rows):
        raise ValueError(
            f"exog has no row for {len(missing_rows)} future time stamp(s), first "
            f"{missing_rows[0]}; it needs the {len(future)} stamps {future[0]} .. {future[-1]}."
        )
    values = exog.loc[future, columns]
    if values.isna().to_numpy().any():
        raise ValueError("exog has missing values in the forecast period; impute them first.")
    return values.to_numpy()


def _set_row(extended, position, targets, values):
    if isinstance(extended, pd.Series):
        extended.iloc[position] = values[0]
    else:
        for column, value in zip(targets, values):
            extended.iloc[position, extended.columns.get_loc(column)] = value
