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

from ._forecaster import RNNForecaster
from ._splitter import PanelTimeSeriesSplit
from ._strategies import (
    forecast_direct,
    forecast_recursive,
    future_index,
    make_future_covariates,
    make_horizon_targets,
)
from ._window_scaling import WindowScaledRegressor
from ._windower import TimeSeriesWindower

__all__ = [
    "make_horizon_targets", "future_index", "forecast_direct", "forecast_recursive",
    "make_future_covariates", "PanelTimeSeriesSplit", "WindowScaledRegressor",
    "TimeSeriesWindower", "RNNForecaster",
]
