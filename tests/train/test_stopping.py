"""The stopping rule: the plateau floor, the warning of a fit that ends at
the level of a constant predictor, and early stopping on a validation split
that is never too small."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn._train.stopping import class_prior_loss, validation_size, variance_loss

FAST = dict(hidden_size=8, random_state=0, device="cpu")


def _noise(n=60, T=6, seed=0):
    """Labels that the inputs say nothing about: a network stays at the prior."""
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, T, 2)), rng.randint(0, 2, n)


def _learnable(n=80, T=8, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, T, 2))
    return X, (X[:, :, 0].mean(1) > 0).astype(int)


def test_constant_predictor_losses():
    y = np.array([0, 0, 0, 1])
    assert class_prior_loss(y, np.ones(4), 2) == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    # weights act as repeats
    w = np.array([1.0, 1.0, 1.0, 3.0])
    assert class_prior_loss(y, w, 2) == pytest.approx(np.log(2))
    v = np.array([[1.0, 0.0], [3.0, 0.0]])
    assert variance_loss(v, np.ones(2)) == pytest.approx((1.0 + 0.0) / 2)


def test_validation_size_floor_and_error():
    assert validation_size(1000, 0.1) == 100
    assert validation_size(100, 0.1) == 20
    assert validation_size(100, 0.1, n_classes=30) == 30
    assert validation_size(40, 0.1) == 20
    with pytest.warns(UserWarning, match="at least 40 are needed.*without early stopping"):
        assert validation_size(39, 0.1) is None


def test_early_stopping_in_small_cv_folds_warns_and_trains():
    """cross_val_score(cv=3) on 40 sequences: training folds of 26-27
    samples are too few for the 20-sample validation floor; each fold warns
    (at the user's line) and trains without the split instead of failing."""
    from sklearn.model_selection import cross_val_score

    X, y = _learnable(n=40)
    est = RNNClassifier(early_stopping=True, max_iter=5, **FAST)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        scores = cross_val_score(est, X, y, cv=3, error_score="raise")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    split = [w for w in rec if "validation set of at least 20" in str(w.message)]
    assert len(split) == 3
    assert all(w.filename == __file__ for w in split)


def test_plateau_is_not_taken_for_convergence():
    """With a loss that cannot improve by tol, the old rule stopped after
    n_iter_no_change epochs; on the plateau no epoch counts, so the fit runs
    to max_iter and warns what to try."""
    X, y = _noise()
    est = RNNClassifier(learning_rate_init=1e-4, max_iter=8, n_iter_no_change=2, tol=10.0, **FAST)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=8 reached.*constant predictor") as rec:
        est.fit(X, y)
    assert est.n_iter_ == 8
    text = str(rec[0].message)
    for hint in ("max_iter", "learning_rate_init", "pooling='max'", "SequencePatcher", "SequenceScaler"):
        assert hint in text
    prior = class_prior_loss(y, np.ones(len(y)), 2)
    assert min(est.loss_curve_) > 0.9 * prior


def test_no_plateau_warning_once_the_network_learns():
    X, y = _learnable()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = RNNClassifier(max_iter=60, n_iter_no_change=3, tol=1e-2, **FAST).fit(X, y)
    assert est.n_iter_ < 60
    assert est.loss_curve_[-1] < 0.9 * np.log(2)


def test_plateau_warning_by_every_route():
    X, y = _noise()

    class Stop:
        def on_epoch_end(self, est, epoch, logs):
            return epoch == 2

    est = RNNClassifier(learning_rate_init=1e-4, max_iter=50, callbacks=[Stop()], **FAST)
    with pytest.warns(ConvergenceWarning, match="stopped by a callback"):
        est.fit(X, y)
    assert est.n_iter_ == 2
    Xr, yr = np.random.RandomState(1).normal(size=(60, 5, 2)), np.random.RandomState(2).normal(size=60)
    reg = RNNRegressor(learning_rate_init=1e-5, max_iter=3, **FAST)
    with pytest.warns(ConvergenceWarning, match="constant predictor"):
        reg.fit(Xr, yr * 100 + 5)


def test_partial_fit_does_not_warn_each_epoch():
    X, y = _noise()
    est = RNNClassifier(learning_rate_init=1e-4, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.partial_fit(X, y, classes=[0, 1])
        est.partial_fit(X, y)
    assert est.n_iter_ == 2


def test_seq2seq_is_exempt_from_the_floor():
    rng = np.random.RandomState(0)
    X = [rng.randint(0, 5, rng.randint(2, 5)) for _ in range(30)]
    est = Seq2SeqTransformer(hidden_size=8, max_iter=2, random_state=0, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, [x[::-1] for x in X])
    assert not any("constant predictor" in str(w.message) for w in caught)


@pytest.mark.parametrize("monitor", ["loss", "score"])
def test_early_stopping_monitors_and_restores_the_best_epoch(monitor):
    X, y = _learnable(n=120)
    est = RNNClassifier(
        early_stopping=True, early_stopping_monitor=monitor, n_iter_no_change=4, tol=0.0,
        learning_rate_init=1e-2, max_iter=200, **FAST,
    ).fit(X, y)
    curve = est.validation_loss_curve_ if monitor == "loss" else [-s for s in est.validation_scores_]
    assert len(curve) == len(est.validation_scores_) == est.n_iter_ < 200
    best = int(np.argmin(curve))  # first best epoch (ties: the earliest)
    # stopped n_iter_no_change epochs after the best one
    assert est.n_iter_ == best + 1 + 4
    # the restored weights are those of the best epoch: re-scoring the same
    # split reproduces its validation accuracy
    from sklearn.model_selection import train_test_split

    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    _, val = train_test_split(np.arange(len(y)), test_size=20, random_state=seed, stratify=y)
    assert est.score(X[val], y[val]) == pytest.approx(est.validation_scores_[best])


def test_early_stopping_monitor_is_validated():
    X, y = _learnable()
    with pytest.raises(ValueError, match="early_stopping_monitor"):
        RNNClassifier(early_stopping=True, early_stopping_monitor="accuracy", **FAST).fit(X, y)


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
def test_plateau_level_matches_each_regression_loss(loss):
    """The plateau floor compares the training loss with the same loss of
    the best constant predictor: checked against a brute-force search over
    constants."""
    from skrnn import RNNRegressor

    rng = np.random.RandomState(0)
    y = rng.standard_t(3, size=(200, 2))
    w = rng.uniform(0.5, 2, size=200)
    est = RNNRegressor(loss=loss, huber_delta=0.7)
    est.quantiles_ = np.array([0.1, 0.5, 0.9])
    levels = est.quantiles_ if loss == "quantile" else [0.5]
    grid = np.linspace(-4, 4, 1601)

    def per(d, q):
        if loss == "quantile":
            return np.maximum(q * d, (q - 1) * d)
        if loss == "huber":
            a = np.abs(d)
            return np.where(a <= 0.7, 0.5 * a**2, 0.7 * (a - 0.35))
        return np.abs(d)

    best = np.mean([[min(np.average(per(y[:, k] - c, q), weights=w) for c in grid)
                     for q in levels] for k in range(2)])
    assert est._constant_loss(y, w) == pytest.approx(best, rel=2e-3)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_tol_none_runs_every_epoch_without_a_convergence_warning(early_stopping):
    X, y = _learnable(n=120)
    est = RNNClassifier(early_stopping=early_stopping, tol=None, n_iter_no_change=2,
                        learning_rate_init=1e-2, max_iter=12, **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 12
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if early_stopping:  # the best validation epoch's weights are still kept
        best = int(np.argmin(est.validation_loss_curve_))
        from sklearn.model_selection import train_test_split

        seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
        _, val = train_test_split(np.arange(len(y)), test_size=20, random_state=seed, stratify=y)
        assert est.score(X[val], y[val]) == pytest.approx(est.validation_scores_[best])
    # with a tolerance, the same fit stops and a fixed budget warns
    stopped = RNNClassifier(tol=1.0, n_iter_no_change=2, learning_rate_init=1e-2,
                            max_iter=12, **FAST).fit(X, y)
    assert stopped.n_iter_ < 12
