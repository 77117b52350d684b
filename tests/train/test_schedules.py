"""Learning-rate schedules: the named ones, torch's scheduler classes, the
rate seen per epoch (``lr_curve_``, ``logs['lr']``), warm start, and
clone/pickle/save of the parameters."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skrnn import RNNClassifier, RNNRegressor, load
from skrnn.callbacks import MetricsLogger

FAST = dict(hidden_size=8, random_state=0, device="cpu", n_iter_no_change=100, batch_size=10)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6, 2))
    return X, (X[:, :, 0].mean(1) > 0).astype(int)  # 4 batches per epoch


def _fit(data, **params):
    return RNNClassifier(**{**FAST, **params}).fit(*data)


def test_defaults_and_the_constant_rate_recorded(data):
    # measured defaults: cosine for both (studies/results_front_end.md for the regressor)
    assert RNNClassifier().lr_schedule == "cosine" and RNNRegressor().lr_schedule == "cosine"
    est = _fit(data, max_iter=3, lr_schedule="constant")
    assert est.lr_curve_ == [pytest.approx(3e-3)] * 3


def test_cosine_warms_up_then_anneals(data):
    # 20 epochs x 4 batches = 80 steps, 5 % warm-up = 4 steps = the first epoch
    est = _fit(data, max_iter=20, lr_schedule="cosine", learning_rate_init=1e-2)
    lr = np.array(est.lr_curve_)
    assert lr[0] == pytest.approx(1e-4)  # warmup_start_factor 0.01
    assert lr[1] == pytest.approx(1e-2)  # end of the warm-up: the peak
    assert np.all(np.diff(lr[1:]) < 0)  # then strictly decreasing
    expected = 1e-2 * 0.5 * (1 + np.cos(np.pi * 4 * np.arange(19) / 76))
    np.testing.assert_allclose(lr[1:], expected, rtol=1e-6)
    # a longer warm-up, through lr_schedule_params
    est = _fit(data, max_iter=20, lr_schedule="cosine", lr_schedule_params={"warmup": 0.25})
    assert np.argmax(est.lr_curve_) == 5


def test_onecycle_rises_then_falls(data):
    est = _fit(data, max_iter=10, lr_schedule="onecycle", learning_rate_init=1e-2)
    lr = np.array(est.lr_curve_)
    peak = int(np.argmax(lr))
    assert 0 < peak < 9 and lr[0] < lr[peak] / 10 and lr[-1] < lr[peak] / 10
    assert lr.max() <= 1e-2 + 1e-12


def test_plateau_halves_the_rate_when_the_loss_stalls(data):
    est = _fit(data, max_iter=12, lr_schedule="plateau", learning_rate_init=1e-7,
               lr_schedule_params={"patience": 1})
    lr = np.array(est.lr_curve_)
    assert lr[0] == pytest.approx(1e-7) and lr[-1] < lr[0]
    assert set(np.round(lr / 1e-7, 6)) <= {0.5**k for k in range(12)}


def test_torch_scheduler_class_with_its_arguments(data):
    est = _fit(data, max_iter=7, lr_schedule=torch.optim.lr_scheduler.StepLR,
               lr_schedule_params={"step_size": 3, "gamma": 0.1})
    np.testing.assert_allclose(est.lr_curve_, [3e-3] * 3 + [3e-4] * 3 + [3e-5])
    # stepped per batch on request
    est = _fit(data, max_iter=2, lr_schedule=torch.optim.lr_scheduler.ExponentialLR,
               lr_schedule_params={"gamma": 0.5, "interval": "batch"})
    np.testing.assert_allclose(est.lr_curve_, [3e-3, 3e-3 * 0.5**4])
    # OneCycleLR as a class gets its horizon
    est = _fit(data, max_iter=3, lr_schedule=torch.optim.lr_scheduler.OneCycleLR)
    assert est.n_iter_ == 3


def test_logs_lr_matches_lr_curve(data):
    logger = MetricsLogger()
    est = RNNClassifier(**{**FAST, "max_iter": 5, "lr_schedule": "cosine", "callbacks": [logger]})
    est.fit(*data)
    assert [r["lr"] for r in est.callbacks[0].history_] == est.lr_curve_


def test_bad_schedules_give_clear_errors(data):
    with pytest.raises(ValueError, match="lr_schedule"):
        _fit(data, lr_schedule="linear")
    with pytest.raises(ValueError, match="does not take"):
        _fit(data, lr_schedule="cosine", lr_schedule_params={"step_size": 3})
    with pytest.raises(ValueError, match="cannot be built"):
        _fit(data, lr_schedule=torch.optim.lr_scheduler.StepLR, lr_schedule_params={})
    with pytest.raises(ValueError, match="interval"):
        _fit(data, lr_schedule="constant", lr_schedule_params={"interval": "step"})


def test_warm_start_restarts_the_schedule_and_partial_fit_is_constant(data):
    est = _fit(data, max_iter=4, lr_schedule=torch.optim.lr_scheduler.StepLR,
               lr_schedule_params={"step_size": 2, "gamma": 0.1}, warm_start=True)
    est.fit(*data)
    np.testing.assert_allclose(est.lr_curve_, [3e-3, 3e-3, 3e-4, 3e-4] * 2)
    est.set_params(learning_rate_init=1e-3).fit(*data)
    assert est.lr_curve_[8] == pytest.approx(1e-3)
    inc = RNNClassifier(**FAST, lr_schedule="cosine")
    for _ in range(3):
        inc.partial_fit(*data, classes=[0, 1])
    assert inc.lr_curve_ == [pytest.approx(3e-3)] * 3


def test_scheduler_classes_clone_pickle_and_save(data, tmp_path):
    est = _fit(data, max_iter=2, lr_schedule=torch.optim.lr_scheduler.StepLR,
               lr_schedule_params={"step_size": 1})
    assert clone(est).get_params()["lr_schedule"] is torch.optim.lr_scheduler.StepLR
    back = pickle.loads(pickle.dumps(est))
    assert back.lr_schedule is torch.optim.lr_scheduler.StepLR
    est.save(tmp_path / "m.skrnn")
    loaded = load(tmp_path / "m.skrnn")
    assert loaded.lr_schedule is torch.optim.lr_scheduler.StepLR
    assert loaded.lr_schedule_params == {"step_size": 1}
    np.testing.assert_array_equal(loaded.predict(data[0]), est.predict(data[0]))


def test_regressor_takes_a_schedule():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 5, 2))
    est = RNNRegressor(**FAST, max_iter=4, lr_schedule="onecycle").fit(X, X[:, -1, 0])
    assert len(est.lr_curve_) == 4 and est.lr_curve_[0] < max(est.lr_curve_)
