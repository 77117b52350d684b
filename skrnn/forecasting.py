"""Multi-step forecasting with pandas, for one series or many: targets
``h`` steps ahead, and the direct and recursive strategies that turn a
fitted pipeline and a time-indexed history into a forecast carrying the
future time stamps.

The estimator is a pipeline that reads the history table row by row through
a :class:`~skrnn.TimeSeriesWindower`, typically
``make_pipeline(TimeSeriesWindower(window=w), ..., RNNRegressor())``: the
prediction for a series' last row is its forecast. Only the last ``window``
rows of each series are read, so a forecast costs O(horizon x window), not
O(horizon x history).

- Direct: fit on ``make_horizon_targets(y, h)`` (one output per step ahead);
  :func:`forecast_direct` returns all ``h`` steps from one prediction.
- Recursive: fit on the value one step ahead; :func:`forecast_recursive`
  appends each prediction to the window and predicts again.

Many series (a panel) come in one table, with a ``(series id, time)``
MultiIndex or in long format (``id_col``/``time_col`` of the windower); the
forecasts then come back as a long DataFrame: id, future time stamp, one
column per output. :class:`PanelTimeSeriesSplit` validates by time across
all series; :class:`~skrnn.preprocessing.WindowScaledRegressor` lets series
of any magnitude train together.
"""

from numbers import Integral

import numpy as np
import pandas as pd

from ._covariates import make_future_covariates
from ._panel import check_order, next_stamps, read_table, series_steps
from ._quantiles import median_position, quantile_columns, quantile_predictor
from ._recursion import recursive_predictions
from ._splitter import PanelTimeSeriesSplit
from ._window_scaling import WindowScaledRegressor
from ._windower import TimeSeriesWindower

__all__ = [
    "make_horizon_targets", "future_index", "forecast_direct", "forecast_recursive",
    "make_future_covariates", "PanelTimeSeriesSplit", "WindowScaledRegressor",
]


def _check_horizon(horizon):
    if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}.")


def make_horizon_targets(y, horizon=1, *, target=None, id_col=None, time_col=None):
    """Targets ``1 .. horizon`` steps ahead, aligned with the rows of ``y``.

    Row ``t``, column ``k - 1`` holds the value ``k`` steps after row ``t`` in
    the same series: the target of a model that reads the window ending at
    row ``t`` (see :class:`~skrnn.TimeSeriesWindower`). One column per step
    ahead is the multi-output ``y`` of the direct strategy; ``horizon=1`` is
    the one-step target of the recursive strategy.

    Parameters
    ----------
    y : Series, DataFrame or array-like of shape (n_timesteps,)
        One series in time order; a Series or DataFrame with a
        ``(series id, time)`` MultiIndex; or a long table with ``id_col`` and
        ``time_col``. Time stamps must be unique, sorted and regular within
        each series.
    horizon : int, default=1
        Number of steps ahead.
    target : str, default=None
        The column of a DataFrame ``y`` to shift; needed when it has several.
    id_col, time_col : str, default=None
        Long format: the id and time columns (as in the windower).

    Returns
    -------
    targets : DataFrame of shape (n_timesteps, horizon)
        Same index and row order as ``y``; columns ``'<name>+1' ..
        '<name>+<horizon>'``. The last ``k`` rows of each series are NaN in
        column ``k`` (no future value yet): drop them before fitting, e.g.
        ``Y.notna().all(axis=1)``.

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
    _check_horizon(horizon)
    if not isinstance(y, (pd.Series, pd.DataFrame)):
        values = np.asarray(y)
        if values.ndim != 1:
            raise ValueError(f"y must be 1-D (n_timesteps,); got shape {values.shape}.")
        y = pd.Series(values)
    table = read_table(y, id_col=id_col, time_col=time_col, what="y")
    column = _target_column(table.values, target)
    check_order(table, "y")
    series_steps(table, strict=False)
    values = pd.Series(table.values[column].to_numpy(dtype=np.float64))
    name = "y" if isinstance(y, pd.Series) and y.name is None else str(column)
    shifted = values if table.codes is None else values.groupby(table.codes)
    return pd.DataFrame(
        {f"{name}+{k}": shifted.shift(-k).to_numpy() for k in range(1, horizon + 1)},
        index=y.index,
    )


def _target_column(values, target):
    columns = list(values.columns)
    if target is not None:
        if target not in columns:
            raise ValueError(f"target {target!r} is not a column of y; columns: {columns!r}.")
        return target
    if len(columns) != 1:
        raise ValueError(
            f"y must be one series; got a DataFrame with {len(columns)} columns "
            f"{columns!r}. Pass target= (the column to shift)."
        )
    return columns[0]


def future_index(index, horizon, freq=None):
    """The ``horizon`` time stamps that follow ``index``.

    Parameters
    ----------
    index : DatetimeIndex, PeriodIndex or integer Index
        Time stamps of the history, increasing, without duplicates.
    horizon : int
        Number of future steps.
    freq : str or DateOffset, default=None
        Step between time stamps; inferred from ``index`` when None.

    Returns
    -------
    DatetimeIndex, PeriodIndex or integer Index of length horizon

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn.forecasting import future_index
    >>> idx = future_index(pd.date_range("2020-01-01", periods=3, freq="MS"), 2)
    >>> idx.strftime("%Y-%m-%d").tolist(), idx.freqstr
    (['2020-04-01', '2020-05-01'], 'MS')
    """
    _check_horizon(horizon)
    table = read_table(pd.DataFrame(index=index), what="The history")
    if len(index) == 0:
        raise ValueError("The history is empty; at least one time step is required.")
    check_order(table, "The history")
    step = series_steps(table, freq=freq)[0]
    out = next_stamps(index[-1], step, horizon)
    return out.rename(index.name)


# --------------------------------------------------------------- strategies
def forecast_direct(estimator, history, *, target=None, freq=None):
    """Forecast the next steps of every series with a direct multi-output model.

    Parameters
    ----------
    estimator : fitted Pipeline
        Reads windows through a :class:`~skrnn.TimeSeriesWindower`; trained
        on rows of a history like ``history`` with targets
        ``make_horizon_targets(y, h)``; its prediction for a series' last row
        holds the ``h`` future values.
    history : Series or DataFrame
        The series up to now (target and covariate columns, as in ``fit``):
        one series indexed by time, or many (MultiIndex or long format, as
        the windower reads them). Only the last ``window`` rows of each
        series are read.
    target : str, default=None
        Name of the forecast column (panel) or Series; defaults to the
        history's name (a Series) or ``'y'``.
    freq : str or DateOffset, default=None
        Frequency of the time stamps; inferred per series when None.

    Returns
    -------
    forecast : Series of shape (h,) or DataFrame
        One series: a Series indexed by the ``h`` time stamps after the
        history. A panel: a long DataFrame with the id, the future time
        stamps and the forecast column, ``h`` rows per series. A model with
        quantiles (``RNNRegressor(loss='quantile')``, also inside a
        :class:`~skrnn.preprocessing.WindowScaledRegressor`) adds one column
        per level, ``'<target>_q<level>'`` (e.g. ``y_q0.1``, ``y_q0.5``,
        ``y_q0.9``); the forecast column is the median, and one series then
        comes back as a DataFrame.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skrnn import TimeSeriesWindower
    >>> from skrnn.forecasting import forecast_direct, make_horizon_targets
    >>> y = pd.Series(np.arange(10.), index=pd.date_range("2020", periods=10, freq="D"))
    >>> Y = make_horizon_targets(y, 2)
    >>> keep = Y.notna().all(axis=1)
    >>> flat = FunctionTransformer(lambda w: w.reshape(len(w), -1))
    >>> model = make_pipeline(TimeSeriesWindower(window=1), flat, LinearRegression())
    >>> forecast_direct(model.fit(y[keep], Y[keep]), y).round(6)
    2020-01-11    10.0
    2020-01-12    11.0
    Freq: D, dtype: float64
    """
    windower = _windower(estimator, "forecast_direct")
    history_t, groups, steps = _check_history(history, windower, freq)
    tails = [rows[-windower.window :] for rows in groups]
    window_rows = history.iloc[np.concatenate(tails)]
    last = np.cumsum([len(rows) for rows in tails]) - 1
    quantiles = quantile_predictor(estimator)
    if quantiles is None:
        pred = np.asarray(estimator.predict(window_rows))
        values, q = pred.reshape(len(pred), -1)[last], None
    else:
        predict, levels = quantiles
        q = predict(window_rows)[last]  # (n_series, h, n_levels)
        values = q[..., median_position(levels)]
    name = target or (history.name if isinstance(history, pd.Series) else None)
    columns = {name or "y": values.ravel()}
    if q is not None:
        columns.update(quantile_columns(name or "y", levels, q.reshape(-1, len(levels))))
    if not history_t.is_panel:
        stamps = next_stamps(history_t.times[groups[0][-1]], steps[0], values.shape[1])
        index = stamps.rename(history.index.name)
        if q is None:
            return pd.Series(values[0], index=index, name=name)
        return pd.DataFrame(columns, index=index)
    futures = [next_stamps(history_t.times[rows[-1]], step, values.shape[1])
               for rows, step in zip(groups, steps)]
    return _long_frame(history_t, futures, columns)


def forecast_recursive(estimator, history, horizon, *, target=None, exog=None, static=None,
                       freq=None):
    """Forecast ``horizon`` steps of every series by feeding one-step
    predictions back.

    At each step the estimator predicts the next value of the target
    column(s) from the last ``window`` rows of each series; those values are
    appended as a new row (with the known-future covariates from ``exog`` and
    the static columns carried forward) and the estimator predicts again. All
    series are predicted together, so a step costs one ``predict`` on
    ``n_series x window`` rows whatever the history's length.

    Parameters
    ----------
    estimator : fitted Pipeline
        Reads windows through a :class:`~skrnn.TimeSeriesWindower`; trained
        on rows of a history like ``history`` with the target one step ahead
        (``make_horizon_targets(y, 1)``), one output per target column.
    history : Series or DataFrame
        The series up to now: one series indexed by time, or many (MultiIndex
        or long format, as the windower reads them).
    horizon : int
        Number of steps to forecast.
    target : str or list of str, default=None
        The column(s) the estimator predicts, in its output order; None means
        every feature column not named in ``static``. Other columns are
        covariates.
    exog : DataFrame, default=None
        Future values of the known-future covariates (every column that is
        neither a target nor static), for the ``horizon`` stamps after each
        series: indexed by those stamps (one series) or in the history's
        panel layout. Required when there are such covariates.
    static : str or list of str, default=None
        Static covariate columns (constant per series, e.g. a region code):
        their last value is carried into the future rows.
    freq : str or DateOffset, default=None
        Frequency of the time stamps; inferred per series when None.

    Returns
    -------
    forecast : Series, DataFrame
        One series: a Series (one target) or a DataFrame of targets indexed by
        the future stamps. A panel: a long DataFrame with the id, the future
        time stamps and one column per target. A model with quantiles adds
        ``'<target>_q<level>'`` columns (one series: a DataFrame) and feeds
        back its median: each step's quantiles are conditional on the
        median path before it, so they do not widen with the horizon as the
        full predictive uncertainty would (prefer the direct strategy for
        intervals).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skrnn import TimeSeriesWindower
    >>> from skrnn.forecasting import forecast_recursive, make_horizon_targets
    >>> idx = pd.date_range("2020", periods=10, freq="D")
    >>> history = pd.DataFrame({"y": np.arange(10.)}, index=idx)
    >>> y1 = make_horizon_targets(history["y"], 1).iloc[:-1, 0]
    >>> flat = FunctionTransformer(lambda w: w.reshape(len(w), -1))
    >>> model = make_pipeline(TimeSeriesWindower(window=1), flat, LinearRegression())
    >>> forecast_recursive(model.fit(history[:-1], y1), history, 3).round(6)
    2020-01-11    10.0
    2020-01-12    11.0
    2020-01-13    12.0
    Freq: D, Name: y, dtype: float64
    """
    _check_horizon(horizon)
    windower = _windower(estimator, "forecast_recursive")
    history_t, groups, steps = _check_history(history, windower, freq)
    columns = list(history_t.values.columns)
    static = [] if static is None else ([static] if np.isscalar(static) else list(static))
    targets = _targets(history, columns, target, static)
    futures = [next_stamps(history_t.times[rows[-1]], step, horizon)
               for rows, step in zip(groups, steps)]
    known = [c for c in columns if c not in targets and c not in static]
    future_known = _future_exog(exog, known, history_t, futures, windower)
    quantiles = quantile_predictor(estimator)
    values, q = recursive_predictions(
        estimator, history, history_t, groups, futures, windower.window,
        [columns.index(c) for c in targets], [columns.index(c) for c in static],
        [columns.index(c) for c in known], future_known, quantiles,
    )
    index = futures[0].rename(history.index.name)
    if q is None and not history_t.is_panel:
        if isinstance(history, pd.Series) or len(targets) == 1:
            return pd.Series(values[0, :, 0], index=index, name=targets[0])
        return pd.DataFrame(values[0], index=index, columns=targets)
    flat = values.reshape(-1, len(targets))
    out = dict(zip(targets, flat.T))
    if q is not None:
        levels = quantiles[1]
        for k, name in enumerate(targets):
            out.update(quantile_columns(name, levels, q[:, :, k].reshape(-1, len(levels))))
    if history_t.is_panel:
        return _long_frame(history_t, futures, out)
    return pd.DataFrame(out, index=index)


# --------------------------------------------------------------- validation
def _windower(estimator, caller):
    """The TimeSeriesWindower inside ``estimator`` (the widest one)."""
    parts = [estimator]
    if hasattr(estimator, "get_params"):
        parts += list(estimator.get_params(deep=True).values())
    windowers = [p for p in parts if isinstance(p, TimeSeriesWindower)]
    if not windowers:
        raise TypeError(
            f"{caller} reads the history through the model's TimeSeriesWindower, but "
            f"{type(estimator).__name__} has none, so it cannot tell which rows make a "
            "window. Fit a pipeline such as make_pipeline(TimeSeriesWindower(window=12), "
            "RNNRegressor()) on the history."
        )
    return max(windowers, key=lambda w: w.window)


def _check_history(history, windower, freq):
    """Validate the history; return (Table, rows of each series, steps)."""
    if not isinstance(history, (pd.Series, pd.DataFrame)):
        raise TypeError(
            "history must be a pandas Series or DataFrame indexed by time; got "
            f"{type(history).__name__}."
        )
    table = read_table(history, id_col=windower.id_col, time_col=windower.time_col,
                       what="The history")
    if len(history) == 0:
        raise ValueError("The history is empty; at least one time step is required.")
    check_order(table, "The history")
    missing = table.values.isna().to_numpy().any(axis=1)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"The history has missing values (first at {table.times[row]}); "
            "impute or drop them before forecasting."
        )
    groups = table.groups()
    if windower.short_series == "raise":
        for code, rows in enumerate(groups):
            if len(rows) < windower.window:
                raise ValueError(
                    f"The model's window ({windower.window} steps) is longer than the "
                    f"history ({len(rows)} steps) of {table.label(code)}; pass at least "
                    f"{windower.window} steps, use a smaller window, or fit with "
                    "TimeSeriesWindower(short_series='pad')."
                )
    return table, groups, series_steps(table, freq=freq)


def _targets(history, columns, target, static):
    if isinstance(history, pd.Series):
        if target is not None:
            raise ValueError("target is for DataFrame histories; a Series is its own target.")
        return columns
    if target is None:
        return [c for c in columns if c not in static]
    targets = [target] if np.isscalar(target) else list(target)
    unknown = [t for t in targets + static if t not in columns]
    if unknown:
        raise ValueError(f"Column(s) {unknown!r} not in the history's columns {columns!r}.")
    return targets


def _future_exog(exog, known, table, futures, windower):
    """Future values of the known covariates, (n_series, horizon, len(known))."""
    horizon = len(futures[0])
    if not known:
        return np.empty((len(futures), horizon, 0))
    first, last = futures[0][0], futures[0][-1]
    if exog is None:
        raise ValueError(
            f"The history has covariate columns {known!r} that are neither targets nor "
            f"static: pass their future values as exog, for the next {horizon} time stamps "
            f"of every series ({first} .. {last} for the first), or name static ones in "
            "static=."
        )
    missing_cols = [c for c in known if c not in exog.columns]
    if missing_cols:
        raise ValueError(f"exog lacks the covariate column(s) {missing_cols!r}.")
    if table.is_panel:
        future_t = read_table(exog, id_col=windower.id_col, time_col=windower.time_col,
                              what="exog")
        keys = pd.MultiIndex.from_arrays([future_t.ids[future_t.codes], future_t.times])
        wanted = pd.MultiIndex.from_arrays([
            np.repeat(np.asarray(table.ids), horizon), futures[0].append(futures[1:])
        ])
        source = future_t.values
    else:
        keys, wanted, source = exog.index, futures[0], exog
    positions = keys.get_indexer(wanted)
    if (positions < 0).any():
        i = int(np.flatnonzero(positions < 0)[0])
        series = "" if not table.is_panel else f" of series {table.ids[i // horizon]!r}"
        raise ValueError(
            f"exog has no row for {int((positions < 0).sum())} future time stamp(s), first "
            f"{wanted[i]}{series}; it needs the {horizon} stamps after every series."
        )
    values = source[known].to_numpy(dtype=np.float64)[positions]
    if np.isnan(values).any():
        raise ValueError("exog has missing values in the forecast period; impute them first.")
    return values.reshape(len(futures), horizon, len(known))


def _long_frame(table, futures, columns):
    """A long DataFrame: id, future time stamp, one column per output."""
    frame = pd.DataFrame({
        table.id_name: np.repeat(np.asarray(table.ids), [len(f) for f in futures]),
        table.time_name or "ds": futures[0].append(futures[1:]),
    })
    for name, values in columns.items():
        frame[name] = np.asarray(values).ravel()
    return frame


from ._forecaster import RNNForecaster  # noqa: E402,F401  (after the functions it builds on)
