"""RNNRegressor's target standardisation and its losses: raw-scale targets
train like standardised ones, the absolute/Huber/quantile losses do what
their names say, quantiles never cross and keep their coverage, and every
loss honours sample_weight."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline

from skrnn import RNNRegressor, SequenceScaler, TimeSeriesWindower
from skrnn._nn.losses import monotone_quantiles
from skrnn.forecasting import forecast_direct, make_horizon_targets
from skrnn.persistence import load, save
from skrnn.preprocessing import WindowScaledRegressor

LOSSES = ["squared_error", "absolute_error", "huber", "quantile"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _trending_series(n=120, seed=0):
    """Monthly, around 200 with a trend and a yearly cycle."""
    t = np.arange(n)
    noise = np.random.RandomState(seed).normal(size=n)
    values = 200 + 0.5 * t + 20 * np.sin(2 * np.pi * t / 12) + 3 * noise
    return pd.Series(values, index=pd.date_range("2000-01", periods=n, freq="MS"), name="y")


def _sum_data(n=200, seed=0, level=200.0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 8, 2))
    return X, level + 30 * X[:, :, 0].sum(axis=1)


# --------------------------------------------------------- target scaling
def test_readme_recipe_forecasts_a_raw_scale_series():
    """The README's direct recipe on a series around 200: nonsense (MAPE
    0.9) without target scaling, on the right scale (about 0.02-0.04) with
    either scaling."""
    y = _trending_series()
    train, test = y[:-12], y[-12:]
    Y = make_horizon_targets(train, 12)
    keep = Y.notna().all(axis=1)
    mape = {}
    for scaling in ("robust", "standard", None):
        model = make_pipeline(
            TimeSeriesWindower(window=24), SequenceScaler(),
            RNNRegressor(hidden_size=32, max_iter=60, random_state=0, target_scaling=scaling),
        ).fit(train[keep], Y[keep])
        forecast = forecast_direct(model, train)
        mape[scaling] = float(np.mean(np.abs(forecast.to_numpy() - test.to_numpy()) / test))
    assert mape["robust"] < 0.1, mape
    assert mape["standard"] < 0.1, mape
    assert mape[None] > 0.5, mape
    reg = model[-1]
    assert reg.target_scale_.shape == (12,)


def test_per_step_targets_are_standardised_too():
    X, _ = _sum_data(150)
    y = 200 + 30 * np.cumsum(X[:, :, 0], axis=1)  # (n, T) per-step targets
    reg = RNNRegressor(return_sequences=True, hidden_size=16, max_iter=40,
                       learning_rate_init=1e-2, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape
    assert reg.score(X, y) > 0.9
    assert reg.score(X, y) == pytest.approx(r2_score(y.ravel(), pred.ravel()), rel=1e-6)
    assert abs(pred.mean() - y.mean()) < 0.05 * y.mean()
    unscaled = RNNRegressor(return_sequences=True, hidden_size=16, max_iter=40,
                            learning_rate_init=1e-2, random_state=0,
                            target_scaling=None).fit(X, y)
    assert unscaled.score(X, y) < reg.score(X, y) - 0.5


def test_robust_scaling_uses_median_and_iqr_and_survives_heavy_tails():
    X, y = _sum_data(200, level=1.0)
    y = np.exp(y / 20)  # heavy right tail: a few targets far above the rest
    robust = RNNRegressor(hidden_size=4, max_iter=1, random_state=0,
                          target_scaling="robust").fit(X, y)
    q25, q50, q75 = np.quantile(y, [0.25, 0.5, 0.75], method="inverted_cdf")
    np.testing.assert_allclose(robust.target_mean_, [q50])
    np.testing.assert_allclose(robust.target_scale_, [(q75 - q25) / 1.3489795])
    assert robust.target_scale_[0] < y.std() / 2


def test_statistics_are_weighted_and_kept_fixed_after_the_first_fit():
    X, y = _sum_data(60)
    w = np.r_[np.full(30, 3.0), np.ones(30)]
    reg = RNNRegressor(hidden_size=4, max_iter=1, random_state=0, warm_start=True)
    reg.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(reg.target_mean_, [np.average(y, weights=w)])
    std = np.sqrt(np.average((y - np.average(y, weights=w)) ** 2, weights=w))
    np.testing.assert_allclose(reg.target_scale_, [std])
    mean, scale = reg.target_mean_.copy(), reg.target_scale_.copy()
    reg.fit(X, y + 1000)
    reg.partial_fit(X, y * 5)
    np.testing.assert_array_equal(reg.target_mean_, mean)
    np.testing.assert_array_equal(reg.target_scale_, scale)
    none = RNNRegressor(hidden_size=4, max_iter=1, target_scaling=None).fit(X, y)
    np.testing.assert_array_equal(none.target_mean_, [0.0])
    np.testing.assert_array_equal(none.target_scale_, [1.0])


def test_constant_target_is_predicted():
    X, _ = _sum_data(40)
    reg = RNNRegressor(hidden_size=4, max_iter=3, random_state=0).fit(X, np.full(40, 7.0))
    np.testing.assert_array_equal(reg.target_scale_, [1.0])
    np.testing.assert_allclose(reg.predict(X), 7.0, atol=0.5)


# ----------------------------------------------------------------- losses
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_fits_raw_scale_targets_and_scores_r2(loss):
    X, y = _sum_data()
    reg = RNNRegressor(loss=loss, hidden_size=16, max_iter=30, learning_rate_init=1e-2,
                       random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (len(X),)
    assert reg.score(X, y) == pytest.approx(r2_score(y, pred))
    assert reg.score(X, y) > 0.9, loss


def test_absolute_error_ignores_outliers_that_pull_the_squared_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4, 1))
    y = rng.normal(size=200)
    y[:20] += 50.0  # 10% gross outliers, unrelated to X
    kw = dict(hidden_size=8, max_iter=40, learning_rate_init=1e-2, random_state=0)
    l2 = RNNRegressor(**kw).fit(X, y).predict(X)
    l1 = RNNRegressor(loss="absolute_error", **kw).fit(X, y).predict(X)
    huber = RNNRegressor(loss="huber", huber_delta=0.1, **kw).fit(X, y).predict(X)
    clean = np.median(y)
    assert abs(np.median(l2) - clean) > 2.0
    assert abs(np.median(l1) - clean) < 1.0
    assert abs(np.median(huber) - clean) < 1.0


def test_pointwise_losses_match_their_formulas():
    out = torch.tensor([[0.0, 3.0], [1.0, -2.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 0.5]])
    err = (out - y).numpy()

    def loss(name, **kw):
        est = RNNRegressor(loss=name, **kw)
        est.quantiles_ = np.asarray(est.quantiles)
        return est._pointwise_loss()(out, y).numpy()

    np.testing.assert_allclose(loss("squared_error"), (err**2).mean(1))
    np.testing.assert_allclose(loss("absolute_error"), np.abs(err).mean(1))
    a = np.abs(err)
    huber = np.where(a <= 2.0, 0.5 * err**2, 2.0 * (a - 0.5 * 2.0))
    np.testing.assert_allclose(loss("huber", huber_delta=2.0), huber.mean(1))
    q = torch.tensor([[0.0, 0.0, 0.0]])  # raw outputs: levels 0, log 2, 2 log 2
    monotone = monotone_quantiles(q, 3).numpy()[0, 0]
    np.testing.assert_allclose(monotone, [0.0, np.log(2), 2 * np.log(2)], rtol=1e-6)


def test_pinball_loss_by_hand():
    est = RNNRegressor(loss="quantile", quantiles=(0.2, 0.5))
    est.quantiles_ = np.array([0.2, 0.5])
    raw = torch.tensor([[1.0, np.log(np.e - 1)]])  # quantiles 1.0 and 2.0
    y = torch.tensor([[3.0]])
    # residuals 2 and 1 above the quantiles: 0.2 * 2 and 0.5 * 1
    expected = (0.2 * 2 + 0.5 * 1) / 2
    assert float(est._pointwise_loss()(raw, y)) == pytest.approx(expected, rel=1e-6)
    below = torch.tensor([[0.0]])  # 1 and 2 below: (1 - 0.2) * 1, 0.5 * 2
    assert float(est._pointwise_loss()(raw, below)) == pytest.approx((0.8 + 1.0) / 2, rel=1e-6)


# -------------------------------------------------------------- quantiles
def test_quantiles_are_ordered_cover_held_out_data_and_median_is_predict():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1200, 6, 1))
    y = 100 + 10 * X[:, -1, 0] + 5 * rng.normal(size=1200)  # noise sd 5
    reg = RNNRegressor(loss="quantile", quantiles=(0.1, 0.5, 0.9), hidden_size=16,
                       max_iter=30, learning_rate_init=1e-2, random_state=0)
    reg.fit(X[:800], y[:800])
    q = reg.predict_quantiles(X[800:])
    assert q.shape == (400, 3)
    assert (np.diff(q, axis=1) >= 0).all()
    np.testing.assert_allclose(q[:, 1], reg.predict(X[800:]))
    inside = np.mean((y[800:] >= q[:, 0]) & (y[800:] <= q[:, 2]))
    assert 0.7 < inside < 0.9, inside
    # the 80% interval of N(0, 5) noise is 2 x 1.28 x 5 = 12.8 wide
    assert 9 < np.mean(q[:, 2] - q[:, 0]) < 17
    np.testing.assert_array_equal(reg.quantiles_, [0.1, 0.5, 0.9])


def test_multi_output_and_per_step_quantile_shapes():
    X, y = _sum_data(80)
    Y = np.c_[y, -y]
    reg = RNNRegressor(loss="quantile", quantiles=(0.25, 0.5, 0.75, 0.95), hidden_size=8,
                       max_iter=3, random_state=0).fit(X, Y)
    q = reg.predict_quantiles(X)
    assert q.shape == (80, 2, 4)
    assert (np.diff(q, axis=-1) >= 0).all()
    np.testing.assert_allclose(q[..., 1], reg.predict(X))
    seq = RNNRegressor(loss="quantile", return_sequences=True, hidden_size=8, max_iter=2,
                       random_state=0).fit(X, X[:, :, 0] * 50)
    assert seq.predict_quantiles(X).shape == (80, 8, 3)
    ragged = [x[: 3 + i % 5] for i, x in enumerate(X[:6])]
    out = seq.predict_quantiles(ragged)
    assert [o.shape for o in out] == [(len(r), 3) for r in ragged]


@pytest.mark.parametrize("quantiles, match", [
    ((0.5, 0.1, 0.9), "sorted and unique"),
    ((0.1, 0.5, 0.5), "sorted and unique"),
    ((0.0, 0.5), "strictly between 0 and 1"),
    ((0.5, 1.2), "strictly between 0 and 1"),
    ((0.1, 0.9), "must include 0.5"),
    ((), "non-empty"),
])
def test_bad_quantiles_are_refused(quantiles, match):
    X, y = _sum_data(20)
    with pytest.raises(ValueError, match=match):
        RNNRegressor(loss="quantile", quantiles=quantiles, max_iter=1).fit(X, y)


def test_predict_quantiles_exists_only_for_the_quantile_loss():
    assert not hasattr(RNNRegressor(), "predict_quantiles")
    assert hasattr(RNNRegressor(loss="quantile"), "predict_quantiles")


def test_changing_the_head_on_warm_start_is_refused():
    X, y = _sum_data(30)
    reg = RNNRegressor(hidden_size=4, max_iter=1, warm_start=True).fit(X, y)
    reg.set_params(loss="absolute_error").fit(X, y)  # same head: fine
    with pytest.raises(ValueError, match="warm_start=False"):
        reg.set_params(loss="quantile").fit(X, y)
    assert reg.quantiles_ is None  # the failed fit changed nothing


@pytest.mark.parametrize("loss", LOSSES)
def test_sample_weight_equals_repeating_rows_for_every_loss(loss):
    X, y = _sum_data(24)
    sw = np.random.RandomState(1).randint(0, 4, size=24)
    # the configuration this float32 tolerance was calibrated on (the regressor's
    # earlier defaults): the L1 loss's sign gradient near zero residuals makes
    # other networks' weighted and repeated fits part by more than 1e-4
    kw = dict(loss=loss, hidden_size=8, max_iter=4, batch_size=128, random_state=0,
              cell="lstm", bidirectional=False, learning_rate_init=1e-3,
              lr_schedule="constant",
              target_scaling="robust" if loss == "quantile" else "standard")
    weighted = RNNRegressor(**kw).fit(X, y, sample_weight=sw)
    repeated = RNNRegressor(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-4)
    np.testing.assert_allclose(weighted.target_mean_, repeated.target_mean_)
    np.testing.assert_allclose(weighted.target_scale_, repeated.target_scale_)


def test_quantile_model_round_trips_through_the_safe_format(tmp_path):
    X, y = _sum_data(30)
    reg = RNNRegressor(loss="quantile", quantiles=(0.05, 0.5, 0.95), hidden_size=4,
                       max_iter=2, random_state=0).fit(X, y)
    save(reg, tmp_path / "q.skrnn")
    back = load(tmp_path / "q.skrnn")
    np.testing.assert_array_equal(back.predict_quantiles(X), reg.predict_quantiles(X))
    np.testing.assert_array_equal(back.target_mean_, reg.target_mean_)


def test_window_scaled_regressor_maps_quantiles_back():
    X, y = _sum_data(60)
    X = X + 50.0
    reg = RNNRegressor(loss="quantile", hidden_size=4, max_iter=2, random_state=0)
    model = WindowScaledRegressor(reg, method="last").fit(X, y)
    q = model.predict_quantiles(X)
    assert q.shape == (60, 3)
    np.testing.assert_allclose(q[:, 1], model.predict(X))
    scale = np.abs(X[:, -1, 0])
    np.testing.assert_allclose(q, model.regressor_.predict_quantiles(
        np.concatenate([X[:, :, :1] / scale[:, None, None], X[:, :, 1:]], axis=2)
    ) * scale[:, None])


def test_exported_network_predicts_on_the_targets_scale(tmp_path):
    from skrnn.export import export_torchscript

    X, y = _sum_data(40)
    reg = RNNRegressor(loss="quantile", hidden_size=4, max_iter=2, random_state=0).fit(X, y)
    export_torchscript(reg, tmp_path / "q.pt")
    net = torch.jit.load(str(tmp_path / "q.pt"))
    x = torch.as_tensor(X, dtype=torch.float32)
    out = net(x, torch.full((len(X),), X.shape[1], dtype=torch.int64)).detach().numpy()
    np.testing.assert_allclose(out[:, 0], reg.predict(X), rtol=1e-4)
