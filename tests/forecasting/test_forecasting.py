"""Forecasting with pandas: h-step targets, the future index, the direct and
recursive strategies (exact on hand-computable linear series, better than
naive with an RNN), grid search over a windowed pipeline, and clear errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrnn import RNNRegressor, SequenceScaler, TimeSeriesWindower
from skrnn.forecasting import (
    forecast_direct,
    forecast_recursive,
    future_index,
    make_horizon_targets,
)


def _monthly(values, name="y", start="2000-01-01"):
    index = pd.date_range(start, periods=len(values), freq="MS")
    return pd.Series(np.asarray(values, dtype=float), index=index, name=name)


def _linear_windows(window):
    """Windower + flatten + least squares: an exact, instant 'model'."""
    return make_pipeline(
        TimeSeriesWindower(window=window, value=0.0),
        FunctionTransformer(lambda w: w.reshape(len(w), -1)),
        LinearRegression(),
    )


# ----------------------------------------------------------------- targets
def test_horizon_targets_by_hand():
    y = _monthly([1, 2, 3, 4, 5], name="sales")
    Y = make_horizon_targets(y, horizon=3)
    assert list(Y.columns) == ["sales+1", "sales+2", "sales+3"]
    assert Y.index.equals(y.index)
    np.testing.assert_array_equal(Y.iloc[0], [2, 3, 4])
    np.testing.assert_array_equal(Y.iloc[2, :2], [4, 5])
    assert Y.iloc[2:, 2].isna().all() and Y.iloc[4].isna().all()
    assert Y.notna().all(axis=1).sum() == 2
    np.testing.assert_array_equal(make_horizon_targets(np.arange(3.0)).iloc[:, 0], [1, 2, np.nan])


def test_horizon_targets_errors():
    with pytest.raises(ValueError, match="horizon must be an integer >= 1; got 0"):
        make_horizon_targets(_monthly([1, 2]), 0)
    with pytest.raises(ValueError, match="one series; got a DataFrame with 2 columns"):
        make_horizon_targets(pd.DataFrame({"a": [1.0], "b": [2.0]}), 1)


# ------------------------------------------------------------ future index
def test_future_index_datetime_period_and_given_freq():
    idx = future_index(_monthly(range(5)).index, 3)
    assert idx.strftime("%Y-%m").tolist() == ["2000-06", "2000-07", "2000-08"]
    assert idx.freqstr == "MS"
    no_freq = pd.DatetimeIndex(["2020-01-01", "2020-01-08", "2020-01-15"])  # weekly, inferred
    assert future_index(no_freq, 1)[0] == pd.Timestamp("2020-01-22")
    periods = pd.period_range("1957-11", periods=2, freq="M")
    assert [str(p) for p in future_index(periods, 2)] == ["1958-01", "1958-02"]
    two = pd.DatetimeIndex(["2020-01-01", "2020-01-02"])
    assert future_index(two, 1, freq="h")[0] == pd.Timestamp("2020-01-02 01:00")


# ------------------------------------------------------- exact strategies
def test_direct_forecast_is_exact_on_a_line():
    y = _monthly(2 * np.arange(24) + 1, name="y")
    Y = make_horizon_targets(y, 4)
    keep = Y.notna().all(axis=1)
    model = _linear_windows(2).fit(y[keep], Y[keep])
    fc = forecast_direct(model, y)
    assert isinstance(fc, pd.Series) and fc.name == "y"
    assert fc.index.equals(pd.date_range("2002-01-01", periods=4, freq="MS"))
    np.testing.assert_allclose(fc.to_numpy(), [49, 51, 53, 55], atol=1e-8)


def test_recursive_forecast_uses_future_exogenous_values():
    """y(t+1) = y(t) + x(t): the forecast is the running sum of the given x."""
    rng = np.random.RandomState(0)
    x = rng.normal(size=30)
    y = np.concatenate([[0.0], np.cumsum(x[:-1])])
    history = pd.DataFrame({"y": y, "x": x}, index=_monthly(y).index)
    target = make_horizon_targets(history["y"], 1).iloc[:-1, 0]
    model = _linear_windows(1).fit(history.iloc[:-1], target)
    future = future_index(history.index, 3)
    exog = pd.DataFrame({"x": [1.0, -2.0, 0.5]}, index=future)
    fc = forecast_recursive(model, history, 3, target="y", exog=exog)
    assert isinstance(fc, pd.Series) and fc.name == "y" and fc.index.equals(future)
    start = y[-1] + x[-1]
    np.testing.assert_allclose(fc.to_numpy(), [start, start + 1.0, start - 1.0], atol=1e-8)
    with pytest.raises(ValueError, match=r"covariate columns \['x'\].*pass their future values"):
        forecast_recursive(model, history, 3, target="y")
    with pytest.raises(ValueError, match="exog has no row for 1 future time stamp"):
        forecast_recursive(model, history, 3, target="y", exog=exog.iloc[:2])


def test_recursive_forecast_of_several_targets_is_a_dataframe():
    idx = _monthly(range(20)).index
    # integer columns (counts) work: forecasts are floats
    history = pd.DataFrame({"a": np.arange(20), "b": 10 - np.arange(20)}, index=idx)
    targets = pd.concat([make_horizon_targets(history[c], 1) for c in "ab"], axis=1)
    model = _linear_windows(1).fit(history.iloc[:-1], targets.iloc[:-1])
    fc = forecast_recursive(model, history, 2)
    assert isinstance(fc, pd.DataFrame) and list(fc.columns) == ["a", "b"]
    np.testing.assert_allclose(fc.to_numpy(), [[20, -10], [21, -11]], atol=1e-8)
    exog = pd.DataFrame({"b": [0.0, 0.0]}, index=fc.index)
    with pytest.raises(ValueError, match="predicts 2 value.*1 target column"):
        forecast_recursive(model, history, 2, target="a", exog=exog)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make_history, message",
    [
        (lambda y: y.to_numpy(), "pandas Series or DataFrame indexed by time"),
        (lambda y: y.set_axis([f"m{i}" for i in range(6)]),
         "datetimes, periods or integers; got dtype"),
        (lambda y: y.iloc[[0, 2, 1, 3, 4, 5]], "not sorted: 2000-03-01.* before 2000-02-01"),
        (lambda y: y.iloc[[0, 1, 1, 2, 3, 4]], "duplicate time stamps.*2000-02-01"),
        (lambda y: y.drop(y.index[[2, 3]]).set_axis(
            pd.DatetimeIndex(["2000-01-01", "2000-01-02", "2000-01-05", "2000-01-13"])),
         "Cannot infer the frequency.*irregular.*pass freq="),
        (lambda y: y.where(y.index != "2000-04-01"), "missing values \\(first at 2000-04-01"),
        (lambda y: y.iloc[:3], "window \\(4 steps\\) is longer than the history \\(3 steps\\)"),
    ],
    ids=["array", "no-time-index", "unsorted", "duplicates", "ambiguous-freq", "missing",
         "short-history"],
)
def test_history_errors_say_what_and_how(make_history, message):
    y = _monthly(np.arange(6.0))
    model = _linear_windows(4).fit(y, y)
    history = make_history(y)
    with pytest.raises((TypeError, ValueError), match=message):
        forecast_direct(model, history)
    with pytest.raises((TypeError, ValueError), match=message):
        forecast_recursive(model, history, 2)


def test_gapped_history_works_with_explicit_freq():
    y = _monthly(np.arange(6.0)).set_axis(
        pd.DatetimeIndex(["2000-01-03", "2000-01-04", "2000-01-05", "2000-01-06",
                          "2000-01-07", "2000-01-10"]))  # business days, weekend gap
    model = _linear_windows(1).fit(y, y)
    fc = forecast_direct(model, y, freq="B")
    assert fc.index[0] == pd.Timestamp("2000-01-11")


# ------------------------------------------------------- RNN forecasting
def _seasonal(n=132, seed=0):
    """Monthly series: a yearly cycle around 0 plus noise, and a month column."""
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    y = 3 * np.sin(2 * np.pi * t / 12) + 0.3 * rng.normal(size=n)
    index = pd.date_range("2000-01-01", periods=n, freq="MS")
    return pd.DataFrame({"y": y, "month": np.cos(2 * np.pi * t / 12)}, index=index)


def _rnn_pipeline(window=12, hidden_size=16, max_iter=40):
    return make_pipeline(
        TimeSeriesWindower(window=window),
        SequenceScaler(),
        RNNRegressor(hidden_size=hidden_size, max_iter=max_iter, learning_rate_init=5e-2,
                     batch_size=32, random_state=0),
    )


def _mae(a, b):
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.fixture(scope="module")
def seasonal_split():
    data = _seasonal()
    return data.iloc[:-6], data["y"].iloc[-6:]


def test_rnn_direct_and_recursive_beat_naive(seasonal_split):
    history, truth = seasonal_split
    y = history["y"]
    naive = _mae(truth, np.repeat(y.iloc[-1], 6))
    # direct: one output per step ahead
    Y = make_horizon_targets(y, 6)
    keep = Y.notna().all(axis=1)
    direct = _rnn_pipeline().fit(history[keep], Y[keep])
    fc_direct = forecast_direct(direct, history)
    assert fc_direct.index.equals(truth.index)
    # recursive: one step ahead, future month values given
    y1 = make_horizon_targets(y, 1).iloc[:-1, 0]
    recursive = _rnn_pipeline().fit(history.iloc[:-1], y1)
    exog = _seasonal()[["month"]].iloc[-6:]
    fc_rec = forecast_recursive(recursive, history, 6, target="y", exog=exog)
    assert fc_rec.index.equals(truth.index) and fc_rec.name == "y"
    assert _mae(truth, fc_direct) < 0.15 * naive, (_mae(truth, fc_direct), naive)
    assert _mae(truth, fc_rec) < 0.15 * naive, (_mae(truth, fc_rec), naive)


def test_grid_search_over_window_and_hidden_size(seasonal_split):
    history, truth = seasonal_split
    history = history[["y"]]  # without the month column one step cannot tell the phase
    Y = make_horizon_targets(history["y"], 3)
    keep = Y.notna().all(axis=1)
    grid = GridSearchCV(
        _rnn_pipeline(max_iter=25),
        {"timeserieswindower__window": [1, 12], "rnnregressor__hidden_size": [4, 8]},
        cv=TimeSeriesSplit(n_splits=3),
        scoring="neg_mean_absolute_error",
    ).fit(history[keep], Y[keep])
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_params_["timeserieswindower__window"] == 12
    fc = forecast_direct(grid.best_estimator_, history)
    assert len(fc) == 3 and fc.index.equals(truth.index[:3])
    assert _mae(truth.iloc[:3], fc) < _mae(truth.iloc[:3], np.repeat(history["y"].iloc[-1], 3))


# ------------------------------------------------ checks and the recursion
def test_models_without_a_windower_are_refused():
    y = _monthly(np.arange(12.0))
    model = LinearRegression().fit(y.to_frame(), y)
    with pytest.raises(TypeError, match="LinearRegression has none.*TimeSeriesWindower"):
        forecast_direct(model, y)
    with pytest.raises(TypeError, match="has none"):
        forecast_recursive(model, y, 2)


@pytest.mark.parametrize(
    "positions, message",
    [([0, 2, 1, 3, 4, 5], "not sorted"), ([0, 1, 1, 2, 3, 4], "duplicate time stamps"),
     ([0, 1, 2, 4, 5, 7], "irregular")],
    ids=["shuffled", "duplicated", "gapped"],
)
def test_horizon_targets_check_the_time_index(positions, message):
    y = _monthly(np.arange(8.0))
    with pytest.raises(ValueError, match=message):
        make_horizon_targets(y.iloc[positions], 2)


def _full_history_recursion(model, history, horizon, exog=None):
    """The former algorithm: predict on the whole history at every step."""
    extended = history.copy()
    future = future_index(history.index, horizon)
    for stamp in future:
        row = pd.DataFrame({"y": [np.nan]}, index=[stamp])
        if exog is not None:
            row = row.join(exog.loc[[stamp]])
        extended = pd.concat([extended, row[extended.columns]])
        extended.iloc[-1, 0] = np.ravel(model.predict(extended.iloc[:-1]))[-1]
    return extended["y"].iloc[-horizon:].to_numpy()


def test_recursive_forecast_equals_full_history_algorithm(seasonal_split):
    history, _ = seasonal_split
    exog = _seasonal()[["month"]].iloc[-6:]
    y1 = make_horizon_targets(history["y"], 1).iloc[:-1, 0]
    for model in (_linear_windows(12), _rnn_pipeline(max_iter=3)):
        model.fit(history.iloc[:-1], y1)
        fc = forecast_recursive(model, history, 6, target="y", exog=exog)
        np.testing.assert_allclose(fc.to_numpy(), _full_history_recursion(model, history, 6, exog),
                                   rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------- quantiles
def _quantile_pipeline(window=12, **kw):
    return make_pipeline(
        TimeSeriesWindower(window=window), SequenceScaler(),
        RNNRegressor(loss="quantile", quantiles=(0.1, 0.5, 0.9), hidden_size=16,
                     learning_rate_init=1e-2, random_state=0, **kw),
    )


def _trend_season(n=96):
    t = np.arange(n)
    noise = np.random.RandomState(0).normal(size=n)
    return _monthly(200 + 0.5 * t + 20 * np.sin(2 * np.pi * t / 12) + 3 * noise)


def test_direct_forecast_of_a_quantile_model_has_ordered_quantile_columns():
    y = _trend_season()
    Y = make_horizon_targets(y, 6)
    keep = Y.notna().all(axis=1)
    model = _quantile_pipeline(max_iter=40).fit(y[keep], Y[keep])
    fc = forecast_direct(model, y)
    assert isinstance(fc, pd.DataFrame)
    assert list(fc.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert list(fc.index) == list(future_index(y.index, 6))
    np.testing.assert_array_equal(fc["y"], fc["y_q0.5"])
    assert (fc["y_q0.1"] <= fc["y"]).all() and (fc["y"] <= fc["y_q0.9"]).all()
    assert (fc["y_q0.9"] > fc["y_q0.1"]).all()
    # the median column is the pipeline's own prediction for the last row
    np.testing.assert_allclose(fc["y"], model.predict(y[-12:])[-1])


def test_recursive_forecast_feeds_back_the_median_and_returns_quantiles():
    y = _trend_season()
    target = make_horizon_targets(y, 1).iloc[:-1, 0]
    model = _quantile_pipeline(max_iter=20).fit(y.iloc[:-1], target)
    fc = forecast_recursive(model, y, 4)
    assert list(fc.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    np.testing.assert_array_equal(fc["y"], fc["y_q0.5"])
    assert (np.diff(fc[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy(), axis=1) >= 0).all()
    # step 2 reads the history with the step-1 median appended
    extended = pd.concat([y, fc["y"][:1]])
    np.testing.assert_allclose(fc["y"].iloc[1], model.predict(extended[-12:])[-1], rtol=1e-6)
    point = make_pipeline(TimeSeriesWindower(window=12), SequenceScaler(),
                          RNNRegressor(hidden_size=4, max_iter=1, random_state=0))
    assert isinstance(forecast_recursive(point.fit(y.iloc[:-1], target), y, 2), pd.Series)
