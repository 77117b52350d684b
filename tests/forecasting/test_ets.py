"""The classical half of RNNForecaster: what ETS(A, Ad, A) and ETS(A, A, A)
forecast on series whose answer is known, no look-ahead when filtering past
the fitted steps, agreement with statsmodels (when installed), the random
walk with drift that joins them on series without a season, and the
forecaster's combination on the target's scale."""

import numpy as np
import pandas as pd
import pytest

from skrnn import RNNForecaster
from skrnn.forecasting._ets import classical_forecasts, drift_forecasts, fit_ets


def test_straight_line_is_continued():
    y = 5.0 + 2.0 * np.arange(30)
    fit = fit_ets(y)
    f = fit.forecasts(y, [30], 4)[0]
    # a damped trend continues the line, a little flatter each step
    assert np.all(np.diff(f) > 1.5) and np.all(np.diff(f) <= 2.0 + 1e-6)
    assert f[0] == pytest.approx(65.0, abs=0.5)


def test_linear_trend_continues_the_line_undamped():
    rng = np.random.RandomState(0)
    y = 5.0 + 2.0 * np.arange(30) + rng.normal(scale=0.01, size=30)
    fit = fit_ets(y, damped=False)
    assert fit.phi == 1.0
    f = fit.forecasts(y, [30], 6)[0]
    np.testing.assert_allclose(f, 5.0 + 2.0 * np.arange(30, 36), atol=0.1)
    # the damped fit of the same line falls behind it step by step
    damped = fit_ets(y).forecasts(y, [30], 6)[0]
    assert fit_ets(y).phi <= 0.98 and damped[-1] < f[-1] - 0.1


def test_season_is_recovered():
    t = np.arange(48)
    pattern = np.array([3.0, -1.0, -4.0, 2.0])
    y = 100 + pattern[t % 4] + np.random.RandomState(0).normal(scale=0.05, size=48)
    fit = fit_ets(y, season_length=4)
    assert len(fit.season) == 4
    f = fit.forecasts(y, [48], 8)[0]
    np.testing.assert_allclose(f, 100 + pattern[np.arange(48, 56) % 4], atol=0.3)


def test_no_season_without_three_seasons():
    y = np.arange(20, dtype=float) % 12
    assert len(fit_ets(y, season_length=12).season) == 0


def test_short_series_carry_the_last_value():
    f = fit_ets([4.0, 7.0]).forecasts([4.0, 7.0], [2], 3)[0]
    np.testing.assert_allclose(f, [7.0, 7.0, 7.0])


def test_forecasts_from_earlier_origins_do_not_look_ahead():
    rng = np.random.RandomState(1)
    y = np.cumsum(rng.normal(size=40)) + 50
    fit = fit_ets(y[:30])
    late = y.copy()
    late[25:] += 1000  # what comes after an origin changes nothing before it
    np.testing.assert_allclose(fit.forecasts(y, [20, 25], 3), fit.forecasts(late, [20, 25], 3))
    assert not np.allclose(fit.forecasts(y, [30], 3), fit.forecasts(late, [30], 3))


def test_as_accurate_as_statsmodels():
    ets = pytest.importorskip("statsmodels.tsa.exponential_smoothing.ets")
    t = np.arange(72)
    truth = 50 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 12)
    ours, theirs = [], []
    for seed in range(4):
        y = truth[:60] + np.random.RandomState(seed).normal(size=60)
        ours.append(np.abs(fit_ets(y, 12).forecasts(y, [60], 12)[0] - truth[60:]).mean())
        sm = ets.ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add",
                          seasonal_periods=12).fit(disp=False).forecast(12)
        theirs.append(np.abs(sm - truth[60:]).mean())
    # the same model fitted by another optimiser: errors of the same size
    # against the noise-free continuation (noise standard deviation 1)
    assert np.mean(ours) < 1.25 * np.mean(theirs) + 0.1
    assert np.mean(ours) < 1.5


def _series():
    t = np.arange(60)
    y = 200 + 2 * t + 20 * np.sin(2 * np.pi * t / 12)
    return pd.Series(y, index=pd.date_range("2010-01", periods=60, freq="MS"), name="y")


@pytest.mark.parametrize("log_target", [False, True])
def test_forecaster_averages_the_two_halves_on_the_target_scale(log_target):
    y = _series()
    kw = dict(hidden_size=8, max_iter=3, calibration_windows=0, random_state=0,
              log_target=log_target)
    net = RNNForecaster(12, ets_weight=0.0, **kw).fit(y).predict()
    smooth = RNNForecaster(12, ets_weight=1.0, **kw).fit(y).predict()
    both = RNNForecaster(12, ets_weight=0.25, **kw).fit(y).predict()
    np.testing.assert_allclose(both, 0.75 * net + 0.25 * smooth, rtol=1e-9)
    v = y.to_numpy()
    expected = 0.5 * (fit_ets(v, 12).forecasts(v, [60], 12)[0]
                      + fit_ets(v, 12, damped=False).forecasts(v, [60], 12)[0])
    np.testing.assert_allclose(smooth, expected, rtol=1e-9)


def test_drift_continues_the_mean_step_from_each_origin():
    y = np.array([10.0, 11.0, 15.0, 13.0, 20.0, 18.0])
    out = drift_forecasts(y, [6, 3, 1], 3)
    # after 6 steps: 18 + k * (18 - 10) / 5; after 3: 15 + k * 5 / 2; one step: flat
    np.testing.assert_allclose(out[0], 18 + 1.6 * np.arange(1, 4))
    np.testing.assert_allclose(out[1], 15 + 2.5 * np.arange(1, 4))
    np.testing.assert_allclose(out[2], [10.0, 10.0, 10.0])


def test_classical_half_adds_drift_only_without_a_season():
    rng = np.random.RandomState(0)
    y = 50 + np.cumsum(1 + rng.normal(size=40))
    origins = [30, 40]
    damped = fit_ets(y[:30]).forecasts(y, origins, 5)
    linear = fit_ets(y[:30], damped=False).forecasts(y, origins, 5)
    drift = drift_forecasts(y, origins, 5)
    np.testing.assert_allclose(classical_forecasts(y[:30], y, origins, 5),
                               (damped + linear + drift) / 3)
    seasonal = [fit_ets(y[:30], 4, damped=d).forecasts(y, origins, 5) for d in (True, False)]
    np.testing.assert_allclose(classical_forecasts(y[:30], y, origins, 5, 4),
                               0.5 * (seasonal[0] + seasonal[1]))


def test_yearly_forecaster_averages_the_trends_and_drift():
    t = np.arange(30)
    y = pd.Series(100 + 3 * t + 5 * np.sin(t / 3), name="y",
                  index=pd.period_range("1980", periods=30, freq="Y"))
    kw = dict(hidden_size=8, max_iter=3, calibration_windows=0, random_state=0)
    model = RNNForecaster(4, ets_weight=1.0, **kw).fit(y)
    assert model.season_length_ == 1
    v = y.to_numpy()
    expected = (fit_ets(v).forecasts(v, [30], 4)[0]
                + fit_ets(v, damped=False).forecasts(v, [30], 4)[0]
                + drift_forecasts(v, [30], 4)[0]) / 3
    np.testing.assert_allclose(model.predict(), expected, rtol=1e-9)


def test_score_and_backtest_use_the_combination():
    y = _series()
    model = RNNForecaster(6, hidden_size=8, max_iter=3, calibration_windows=9,
                          random_state=0).fit(y)
    history = y.iloc[:-6]
    pred = model.predict(history)
    mase = np.mean(np.abs(y.iloc[-6:].to_numpy() - pred.to_numpy()))
    mase /= np.mean(np.abs(history.to_numpy()[12:] - history.to_numpy()[:-12]))
    assert model.score(y) == pytest.approx(-mase)
    bt = model.backtest(y, n_windows=1, refit=False)
    np.testing.assert_allclose(bt["y_pred"].to_numpy(), pred.to_numpy())


def test_auto_weight_is_chosen_on_the_calibration_origins():
    y = _series()  # trend and season without noise: the smoothing is exact
    kw = dict(hidden_size=4, max_iter=1, calibration_windows=9, random_state=0)
    auto = RNNForecaster(12, ets_weight="auto", **kw).fit(y)
    assert auto.ets_weight_ == 1.0  # a one-epoch network only adds error here
    alone = RNNForecaster(12, ets_weight=1.0, **kw).fit(y)
    np.testing.assert_allclose(auto.predict(), alone.predict(), rtol=1e-9)
    assert RNNForecaster(12, ets_weight="auto", **{**kw, "calibration_windows": 0}).fit(
        y).ets_weight_ == 0.5
