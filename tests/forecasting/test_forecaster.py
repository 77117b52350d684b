"""RNNForecaster: layouts that round-trip, scikit-learn's search and the
estimator conventions, backtest cutoffs computed by hand, every input error,
calibrated quantiles and intervals, covariates; skrnn.metrics by hand; the
warning for panels of very different scales."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skrnn import RNNForecaster, RNNRegressor, TimeSeriesWindower
from skrnn._sequences.scale_check import ScaleWarning
from skrnn.forecasting import WindowScaledRegressor, make_horizon_targets
from skrnn.metrics import (
    interval_coverage,
    mase_scorer,
    mean_absolute_scaled_error,
    mean_pinball_loss,
    symmetric_mean_absolute_percentage_error,
)

H = 3
FAST = {"hidden_size": 8, "max_iter": 4, "calibration_windows": 9, "random_state": 0}
LONG = {"id_col": "unique_id", "time_col": "ds"}

#: scikit-learn checks that feed numeric 2-D arrays as X (a forecaster reads a
#: time-indexed Series or DataFrame, and its target comes from X, not y)
EXPECTED_FAILED_CHECKS = {
    "check_estimators_dtypes": "feeds numeric 2-D arrays; X must be a time-indexed table",
    "check_fit_score_takes_y": "feeds 2-D arrays; the target is a column of X",
    "check_fit2d_1sample": "feeds a 2-D array; a forecast needs a time-indexed history",
    "check_fit2d_1feature": "feeds a 2-D array; a forecast needs a time-indexed history",
    "check_dtype_object": "feeds a 2-D object array",
    "check_estimators_empty_data": "feeds an empty 2-D array",
    "check_pipeline_consistency": "feeds 2-D arrays with y",
    "check_estimators_nan_inf": "feeds 2-D arrays with NaN; the message differs",
    "check_estimators_pickle": "fits on 2-D arrays (pickling is tested here on a Series)",
    "check_fit_idempotent": "fits on 2-D arrays (refitting is tested here on a Series)",
    "check_n_features_in": "a forecaster has no feature count (the target is a column)",
    "check_regressors_train": "feeds 2-D arrays with y",
}


def _monthly(n=48, seed=0, level=100.0, name="sales"):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    y = level + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=1.0, size=n)
    return pd.Series(y, index=pd.date_range("2015-01-01", periods=n, freq="MS"), name=name)


def _long(n=40, ids=("a", "b", "c")):
    parts = [pd.DataFrame({"unique_id": k, "ds": pd.date_range("2010-01-01", periods=n,
                                                                freq="QS"),
                           "y": _monthly(n, seed=i, level=10.0 ** (i + 1)).to_numpy()})
             for i, k in enumerate(ids)]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def fitted_series():
    y = _monthly()
    return y, RNNForecaster(H, **FAST).fit(y)


# ------------------------------------------------------------------ layouts
def test_series_round_trip(fitted_series):
    y, model = fitted_series
    pred = model.predict()
    assert isinstance(pred, pd.Series) and pred.name == "sales"
    expected = pd.date_range("2019-01-01", periods=H, freq="MS")
    assert list(pred.index) == list(expected)
    assert model.season_length_ == 12 and model.window_ == 24
    # forecasting from X equals forecasting after the fitted data
    np.testing.assert_allclose(model.predict(y).to_numpy(), pred.to_numpy())
    # from a shorter history: the stamps after it
    assert model.predict(y[:30]).index[0] == y.index[30]


def test_dataframe_round_trip():
    y = _monthly()
    frame = pd.DataFrame({"sales": y})
    pred = RNNForecaster(H, **FAST).fit(frame).predict()
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["sales"]
    assert pred.index[0] == pd.Timestamp("2019-01-01")
    # the same model as on the Series (same seed, same data)
    np.testing.assert_allclose(pred["sales"].to_numpy(),
                               RNNForecaster(H, **FAST).fit(y).predict().to_numpy())


def test_multiindex_round_trip():
    long = _long()
    panel = long.set_index(["unique_id", "ds"])
    model = RNNForecaster(H, **FAST).fit(panel)
    pred = model.predict()
    assert isinstance(pred.index, pd.MultiIndex)
    assert list(pred.index.names) == ["unique_id", "ds"] and list(pred.columns) == ["y"]
    assert len(pred) == 3 * H
    assert pred.loc["b"].index[0] == pd.Timestamp("2020-01-01")
    # each series forecast on its own scale (levels 10, 100, 1000)
    levels = pred.groupby(level=0)["y"].mean()
    assert levels["a"] < levels["b"] < levels["c"]
    assert 300 < levels["c"] < 3000
    intervals = model.predict_interval()
    assert isinstance(intervals.index, pd.MultiIndex)
    assert list(intervals.columns) == ["y_lower", "y_upper"]


def test_long_round_trip():
    long = _long()
    model = RNNForecaster(H, **LONG, **FAST).fit(long)
    pred = model.predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    assert pred["unique_id"].tolist() == ["a"] * H + ["b"] * H + ["c"] * H
    # same forecasts as the MultiIndex layout of the same data
    other = RNNForecaster(H, **FAST).fit(long.set_index(["unique_id", "ds"])).predict()
    np.testing.assert_allclose(pred["y"].to_numpy(), other["y"].to_numpy())
    q = model.predict_quantiles()
    assert list(q.columns) == ["unique_id", "ds", "y_q0.1", "y_q0.5", "y_q0.9"]


def test_input_not_modified():
    long = _long()
    before = long.copy()
    RNNForecaster(H, **LONG, **FAST).fit(long)
    pd.testing.assert_frame_equal(long, before)


# ---------------------------------------------------------------- quantiles
def test_quantiles_and_intervals(fitted_series):
    _, model = fitted_series
    point = model.predict()
    q = model.predict_quantiles()
    assert list(q.columns) == ["sales_q0.1", "sales_q0.5", "sales_q0.9"]
    np.testing.assert_allclose(q["sales_q0.5"].to_numpy(), point.to_numpy())
    assert (q["sales_q0.1"] <= q["sales_q0.5"]).all() and (q["sales_q0.5"] <= q["sales_q0.9"]).all()
    iv = model.predict_interval(coverage=0.8)
    np.testing.assert_allclose(iv["sales_lower"], q["sales_q0.1"])
    np.testing.assert_allclose(iv["sales_upper"], q["sales_q0.9"])
    # the intervals widen with the step ahead (on the model's log scale)
    width = np.log(iv["sales_upper"].to_numpy()) - np.log(iv["sales_lower"].to_numpy())
    assert np.all(np.diff(width) >= -1e-12)
    # a level read from the same residuals: between its neighbours
    mid = model.predict_quantiles(quantiles=[0.3])["sales_q0.3"]
    assert (mid >= q["sales_q0.1"] - 1e-9).all() and (mid <= q["sales_q0.5"] + 1e-9).all()
    # residuals: calibration_windows origins x one series, one column per step
    assert model.residuals_.shape == (9, H)


def test_conformal_offsets_by_hand(fitted_series):
    _, model = fitted_series
    model = pickle.loads(pickle.dumps(model))
    model.residuals_ = np.array([[-1.0, -2.0, -4.0], [0.5, 1.0, 2.0], [1.0, 3.0, 1.0],
                                 [2.0, -1.0, 0.0]])
    off = model._offsets(np.array([0.25, 0.75]))
    n = 4  # levels pushed outwards: 0.75 -> 0.9375, 0.25 -> 0.0625
    upper = np.quantile(model.residuals_, 0.75 * (n + 1) / n, axis=0)
    lower = np.quantile(model.residuals_, (0.25 * (n + 1) - 1) / n, axis=0)
    np.testing.assert_allclose(off[:, 1], np.maximum.accumulate(upper))
    np.testing.assert_allclose(off[:, 0], np.minimum.accumulate(lower))
    with pytest.raises(ValueError, match="cannot be calibrated from 4"):
        model._offsets(np.array([0.05]))


def test_quantile_level_refused(fitted_series):
    _, model = fitted_series
    with pytest.raises(ValueError, match="cannot be calibrated from 9 out-of-sample"):
        model.predict_quantiles(quantiles=[0.01, 0.5])
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\)"):
        model.predict_quantiles(quantiles=[1.5])
    with pytest.raises(ValueError, match="coverage must lie"):
        model.predict_interval(coverage=80)


def test_without_calibration_no_intervals():
    model = RNNForecaster(H, **{**FAST, "calibration_windows": 0}).fit(_monthly())
    assert model.residuals_ is None
    assert len(model.predict()) == H
    with pytest.raises(ValueError, match="calibration_windows=0"):
        model.predict_interval()


# ------------------------------------------------------------ score and CV
def test_score_is_minus_mase(fitted_series):
    y, model = fitted_series
    # X that does not continue the fit: its last H rows are forecast from the rest
    history, truth = y[:-H], y[-H:]
    pred = model.predict(history)
    expected = mean_absolute_scaled_error(truth, pred, y_history=history, season_length=12)
    assert model.score(y) == pytest.approx(-expected)


def test_score_on_continuation():
    y = _monthly(60)
    train, test = y[:48], y[48:]
    model = RNNForecaster(H, **FAST).fit(train)
    pred = model.predict()
    expected = mean_absolute_scaled_error(test[:H], pred, y_history=train, season_length=12)
    assert model.score(test) == pytest.approx(-expected)
    assert mase_scorer(model, test) == pytest.approx(-expected)


def test_gridsearch_with_timeseriessplit():
    y = _monthly(60)
    cv = TimeSeriesSplit(n_splits=2, test_size=H)
    params = {**FAST, "calibration_windows": 0}
    search = GridSearchCV(RNNForecaster(H, **params), {"hidden_size": [4, 8]}, cv=cv).fit(y)
    assert search.best_params_["hidden_size"] in (4, 8)
    # the searched score of a split is the model's score on that split, by hand
    train, test = next(cv.split(y))
    by_hand = RNNForecaster(H, **{**params, "hidden_size": 4}).fit(y.iloc[train]).score(
        y.iloc[test])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(by_hand)
    scores = cross_val_score(RNNForecaster(H, **params), y, cv=cv)
    assert scores.shape == (2,) and np.all(scores < 0)


# ----------------------------------------------------------------- backtest
def test_backtest_cutoffs_by_hand(fitted_series):
    y, model = fitted_series
    out = model.backtest(y, n_windows=3, step=2, refit=False)
    # cutoffs at len - H - k * step = 45, 43, 41 rows of history
    assert len(out) == 3 * H
    cutoffs = sorted(set(out["cutoff"]))
    assert cutoffs == [y.index[40], y.index[42], y.index[44]]
    first = out[out["cutoff"] == y.index[40]]
    assert list(first["ds" if "ds" in first else y.index.name or "ds"]) == list(y.index[41:44])
    np.testing.assert_allclose(first["sales"].to_numpy(), y.to_numpy()[41:44])
    np.testing.assert_allclose(first["sales_pred"].to_numpy(), model.predict(y[:41]).to_numpy())
    assert (out["sales_lower"] <= out["sales_pred"]).all()
    assert (out["sales_pred"] <= out["sales_upper"]).all()


def test_backtest_refit_panel():
    long = _long(30)
    model = RNNForecaster(H, **LONG, **FAST)
    out = model.backtest(long, n_windows=2, refit=True)
    assert list(out.columns[:3]) == ["cutoff", "unique_id", "ds"]
    assert len(out) == 2 * 3 * H
    # default step = horizon: histories of 30 - 3 = 27 and 24 rows per series
    stamps = pd.date_range("2010-01-01", periods=30, freq="QS")
    assert sorted(set(out["cutoff"])) == [stamps[23], stamps[26]]
    # the refit model of the last window is the model fitted on those rows
    history = long.groupby("unique_id").head(27)
    expected = RNNForecaster(H, **LONG, **FAST).fit(history).predict()
    last = out[out["cutoff"] == stamps[26]]
    np.testing.assert_allclose(last["y_pred"].to_numpy(), expected["y"].to_numpy())


def test_backtest_too_short(fitted_series):
    y, model = fitted_series
    with pytest.raises(ValueError, match="too few for n_windows=20"):
        model.backtest(y, n_windows=20, refit=False)


# ------------------------------------------------------------------- errors
def test_y_must_be_none():
    y = _monthly()
    with pytest.raises(ValueError, match="y must be None"):
        RNNForecaster(H, **FAST).fit(y, y)


def test_duplicated_stamps_named():
    long = _long(20)
    long.loc[long.index[25], "ds"] = long.loc[long.index[24], "ds"]
    with pytest.raises(ValueError, match=r"duplicate time stamps in series 'b'.*2011-01-01"):
        RNNForecaster(H, **LONG, **FAST).fit(long)


def test_gap_named():
    long = _long(20)
    long = long.drop(index=long.index[45])
    with pytest.raises(ValueError, match=r"series 'c'.*irregular"):
        RNNForecaster(H, **LONG, **FAST).fit(long)


def test_integer_gap_named():
    y = pd.Series(np.arange(30.0) + 1, index=np.r_[0:10, 11:31])
    with pytest.raises(ValueError, match="irregular"):
        RNNForecaster(H, **FAST).fit(y)


def test_too_short_series_named():
    long = _long(20)
    long = long[~((long["unique_id"] == "b") & (long["ds"] >= "2011-01-01"))]
    with pytest.raises(ValueError, match=r"series 'b' is too short to fit: 4 time step.*"
                                         r"2010-10-01.*at least 5"):
        RNNForecaster(H, **LONG, **FAST).fit(long)


def test_missing_value_named():
    y = _monthly()
    y.iloc[7] = np.nan
    with pytest.raises(ValueError, match=r"missing value in target 'sales' of the series at "
                                         r"2015-08-01"):
        RNNForecaster(H, **FAST).fit(y)


def test_target_required_and_known():
    frame = pd.DataFrame({"a": _monthly().to_numpy(), "b": 1.0}, index=_monthly().index)
    with pytest.raises(ValueError, match="2 candidate target columns"):
        RNNForecaster(H, **FAST).fit(frame)
    with pytest.raises(ValueError, match="target 'c' is not a column"):
        RNNForecaster(H, target="c", **FAST).fit(frame)


def test_not_a_table_and_not_fitted():
    with pytest.raises(TypeError, match="pandas Series or DataFrame"):
        RNNForecaster(H, **FAST).fit(np.arange(30.0))
    with pytest.raises(NotFittedError):
        RNNForecaster(H).predict()


def test_log_target_needs_positive_values():
    y = _monthly() - 150.0
    with pytest.raises(ValueError, match="log_target=True needs positive values"):
        RNNForecaster(H, log_target=True, **FAST).fit(y)
    model = RNNForecaster(H, **FAST).fit(y)  # 'auto': no logarithm
    assert model.log_target_ is False
    positive = RNNForecaster(H, **FAST).fit(_monthly())
    assert positive.log_target_ is True
    with pytest.raises(ValueError, match="Refit with log_target=False"):
        positive.predict(y)


def test_layout_mismatch_at_predict(fitted_series):
    _, model = fitted_series
    other = pd.DataFrame({"sales": _monthly().to_numpy(), "extra": 1.0}, index=_monthly().index)
    with pytest.raises(ValueError, match="fitted with 'sales'"):
        model.predict(other)


# --------------------------------------------------------------- covariates
def _with_covariates(n=40):
    long = _long(n, ids=("a", "b"))
    long["promo"] = (np.arange(len(long)) % 5 == 0).astype(float)
    long["region"] = np.where(long["unique_id"] == "a", "north", "south")
    long["temp"] = np.cos(np.arange(len(long)))
    return long


def _future(long, promo):
    rows = []
    for key, g in long.groupby("unique_id"):
        stamps = pd.date_range(g["ds"].iloc[-1], periods=H + 1, freq="QS")[1:]
        rows.append(pd.DataFrame({"unique_id": key, "ds": stamps, "promo": promo}))
    return pd.concat(rows, ignore_index=True)


def test_static_and_known_covariates():
    long = _with_covariates()
    model = RNNForecaster(H, target="y", static_cols=["region"], known_cols=["promo"], **LONG,
                          **FAST)
    model.fit(long)
    with pytest.raises(ValueError, match="needs their future values"):
        model.predict()
    low = model.predict(future=_future(long, 0.0))
    high = model.predict(future=_future(long, 1.0))
    assert list(low.columns) == ["unique_id", "ds", "y"] and len(low) == 2 * H
    # the model reads the future promotions
    assert not np.allclose(low["y"].to_numpy(), high["y"].to_numpy())
    short = _future(long, 0.0).iloc[:-1]
    with pytest.raises(ValueError, match=r"future has no row for 2020-07-01.*series 'b'"):
        model.predict(future=short)
    iv = model.predict_interval(future=_future(long, 0.0))
    assert (iv["y_lower"] <= iv["y_upper"]).all()


def test_static_column_must_be_constant():
    long = _with_covariates()
    long.loc[3, "region"] = "east"
    with pytest.raises(ValueError, match="static column 'region' is not constant within "
                                         "series 'a'"):
        RNNForecaster(H, target="y", static_cols=["region"], known_cols=["promo"], **LONG,
                          **FAST).fit(long)


# ------------------------------------------------------ estimator conventions
def test_sklearn_conventions(fitted_series):
    _, model = fitted_series
    name = "RNNForecaster"
    check_no_attributes_set_in_init(name, RNNForecaster(H))
    check_get_params_invariance(name, RNNForecaster(H))
    check_set_params(name, RNNForecaster(H))
    check_parameters_default_constructible(name, RNNForecaster(H))
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "estimators_")
    assert repr(RNNForecaster(6, hidden_size=8)) == "RNNForecaster(hidden_size=8, horizon=6)"
    assert model.set_params(verbose=0) is model
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict().to_numpy(), model.predict().to_numpy())
    # the inner regressor's configuration is pinned, not inherited from its defaults
    inner = model.estimators_[0].get_params()
    assert inner["cell"] == "gru" and inner["tol"] is None and inner["lr_schedule"] == "constant"
    assert inner["loss"] == "quantile" and inner["target_scaling"] == "robust"
    assert inner["max_iter"] == model.max_iter_ == 4
    assert set(EXPECTED_FAILED_CHECKS)  # documented reasons, see the module's dict


def test_refit_is_deterministic():
    y = _monthly()
    a = RNNForecaster(H, **FAST).fit(y).predict()
    b = RNNForecaster(H, **FAST).fit(y).predict()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy())


def test_auto_budget_and_ensemble():
    y = _monthly()
    model = RNNForecaster(H, hidden_size=4, max_iter="auto", n_steps=40, n_models=2,
                          calibration_windows=2, random_state=0).fit(y)
    # 45 training rows -> 2 batches of 32 per epoch: 40 steps -> 20 epochs, at least 30
    assert model.max_iter_ == 30 and len(model.estimators_) == 2
    assert model.fit_time_ > 0


# ------------------------------------------------------------------ metrics
def test_metrics_by_hand():
    history = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0])
    # lag-2 differences: 1, 1, 1, 1 -> scale 1; lag-1: 2, 1, 2, 1, 2 -> 1.6
    assert mean_absolute_scaled_error([6.0, 5.0], [5.0, 5.0], y_history=history,
                                      season_length=2) == pytest.approx(0.5)
    assert mean_absolute_scaled_error([6.0, 5.0], [5.0, 5.0], y_history=history) == \
        pytest.approx(0.5 / 1.6)
    assert symmetric_mean_absolute_percentage_error([0.0, 2.0], [0.0, 6.0]) == pytest.approx(50.0)
    assert mean_pinball_loss([0.0, 10.0], [5.0, 5.0], alpha=0.1) == pytest.approx(
        (0.9 * 5 + 0.1 * 5) / 2)
    assert interval_coverage([1.0, 5.0, 9.0], [0.0, 6.0, 0.0], [2.0, 7.0, 9.0]) == \
        pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="constant or too short"):
        mean_absolute_scaled_error([1.0], [1.0], y_history=[2.0, 2.0])
    with pytest.raises(ValueError, match="lower is above upper"):
        interval_coverage([1.0], [2.0], [0.0])
    with pytest.raises(ValueError, match="y_true has 2 values but y_pred has 1"):
        symmetric_mean_absolute_percentage_error([1.0, 2.0], [1.0])


# ------------------------------------------------------------ scale warning
def test_panel_of_different_scales_warns_without_scaling():
    long = _long(30)
    long.loc[long["unique_id"] == "c", "y"] *= 100  # levels 10, 100, 100,000
    Y = make_horizon_targets(long, H, target="y", **LONG)
    keep = Y.notna().all(axis=1)
    windower = TimeSeriesWindower(window=6, **LONG)
    plain = make_pipeline(windower, RNNRegressor(hidden_size=4, max_iter=1, random_state=0))
    with pytest.warns(ScaleWarning, match="RNNForecaster"):
        plain.fit(long[keep], Y[keep])
    scaled = make_pipeline(clone(windower), WindowScaledRegressor(
        RNNRegressor(hidden_size=4, max_iter=1, random_state=0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScaleWarning)
        scaled.fit(long[keep], Y[keep])


def test_one_scale_does_not_warn():
    y = _monthly()
    Y = make_horizon_targets(y, 1)
    keep = Y.notna().all(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScaleWarning)
        make_pipeline(TimeSeriesWindower(window=6),
                      RNNRegressor(hidden_size=4, max_iter=1, random_state=0)).fit(
            y[keep], Y[keep])


# ----------------------------------------------------------------- learning
@pytest.mark.slow
def test_airline_defaults_beat_seasonal_naive():
    datasets = pytest.importorskip("aeon.datasets")
    y = datasets.load_airline(return_array=False)
    y.index = y.index.to_timestamp()
    y.index.freq = "MS"
    train, test = y[:-12].astype(float), y[-12:].astype(float)
    pred = RNNForecaster(12, calibration_windows=0, random_state=0).fit(train).predict()
    model_mase = mean_absolute_scaled_error(test, pred, y_history=train, season_length=12)
    naive = mean_absolute_scaled_error(test, train[-12:].to_numpy(), y_history=train,
                                       season_length=12)
    assert model_mase < naive


def test_gridsearch_on_a_panel_with_panel_split():
    from skrnn.forecasting import PanelTimeSeriesSplit

    long = _long(30)
    cv = PanelTimeSeriesSplit(n_splits=2, test_size=H, **LONG)
    params = {**FAST, "calibration_windows": 0}
    search = GridSearchCV(RNNForecaster(H, **LONG, **params), {"hidden_size": [4, 8]},
                          cv=cv).fit(long)
    train, test = list(cv.split(long))[1]
    by_hand = RNNForecaster(H, **LONG, **{**params, "hidden_size": 8}).fit(
        long.iloc[train]).score(long.iloc[test])
    assert search.cv_results_["split1_test_score"][1] == pytest.approx(by_hand)
    assert search.best_estimator_.predict().shape == (3 * H, 3)
