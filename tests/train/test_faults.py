"""Training faults: diverging losses, interrupts, and fits that fail halfway.

Faults are injected through the public ``optimizer`` parameter (a
``torch.optim.Optimizer`` subclass whose ``step`` misbehaves after a given
number of steps), so the tests exercise exactly what a user's fit runs.

The contract:
- a loss or weights that become NaN/inf stop the fit with
  ``TrainingDivergedError`` (a ``ValueError``); the estimator is left as it
  was before the call (unfitted, or with its previous model);
- ``KeyboardInterrupt`` ends the fit with a warning and a usable estimator
  holding the weights of the last completed epoch (the best validation
  weights with early stopping) and ``n_iter_`` = completed epochs;
- any other exception leaves the estimator exactly as it was.
"""

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

from conftest import ragged_labelled
from skrnn import RNNClassifier, RNNRegressor
from skrnn.exceptions import TrainingDivergedError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, BATCH = 40, 8
STEPS_PER_EPOCH = N // BATCH


def _data(seed=0, F=2):
    return ragged_labelled(N, F=F, seed=seed, lo=2, hi=7)


def faulty(fault, at_step):
    """An SGD whose ``at_step``-th ``step`` (counted from 1 over the whole
    fit) does ``fault``: 'nan' / 'inf' poison the weights after the update,
    'interrupt' raises KeyboardInterrupt, 'error' a RuntimeError."""

    class Faulty(torch.optim.SGD):
        calls = 0

        def step(self, closure=None):
            type(self).calls += 1
            if type(self).calls == at_step:
                if fault == "interrupt":
                    raise KeyboardInterrupt
                if fault == "error":
                    raise RuntimeError("injected failure")
            super().step(closure)
            if type(self).calls == at_step and fault in ("nan", "inf"):
                with torch.no_grad():
                    for group in self.param_groups:
                        for p in group["params"]:
                            p.fill_(float(fault))

    return Faulty


def _fit_interrupted(est, X, y, **kw):
    """fit, failing the test (not aborting the session) if the injected
    KeyboardInterrupt escapes."""
    try:
        return est.fit(X, y, **kw)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped fit()")


def _clf(optimizer="sgd", **kw):
    # a constant rate: a fit cut after k epochs equals a k-epoch fit
    params = dict(hidden_size=4, batch_size=BATCH, max_iter=4, random_state=0, device="cpu",
                  learning_rate_init=0.1, lr_schedule="constant")
    return RNNClassifier(optimizer=optimizer, **{**params, **kw})


def _weights_finite(est):
    return all(torch.isfinite(p).all() for p in est.module_.parameters())


def _assert_unfitted(est):
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert set(vars(est)) == set(est.get_params()), "leftover fitted state"


def _snapshot(est, X):
    return (est.predict_proba(X), est.n_iter_, list(est.loss_curve_), est.classes_.copy())


def _assert_unchanged(est, X, snap):
    proba, n_iter, curve, classes = snap
    np.testing.assert_array_equal(est.predict_proba(X), proba)
    assert est.n_iter_ == n_iter and est.loss_curve_ == curve
    np.testing.assert_array_equal(est.classes_, classes)


# ------------------------------------------------------------------ NaN / inf
@pytest.mark.parametrize("fault", ["nan", "inf"])
@pytest.mark.parametrize(
    "at_step",
    [2, STEPS_PER_EPOCH + 2, STEPS_PER_EPOCH],  # mid epoch 1, mid epoch 2, last step of epoch 1
)
def test_divergence_on_first_fit_raises_and_leaves_unfitted(fault, at_step):
    X, y = _data()
    est = _clf(faulty(fault, at_step))
    with pytest.raises(TrainingDivergedError, match="learning_rate_init") as info:
        est.fit(X, y)
    assert isinstance(info.value, ValueError)
    _assert_unfitted(est)


def test_absurd_learning_rate_raises_clear_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, 5, 2))
    reg = RNNRegressor(hidden_size=4, max_iter=5, optimizer="sgd", learning_rate_init=1e12,
                       clip_grad_norm=None, random_state=0, device="cpu")
    with pytest.raises(TrainingDivergedError, match=r"became (nan|inf).*Lower learning_rate_init"):
        reg.fit(X, X[:, 0, 0] * 100)
    _assert_unfitted(reg)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit", "refit"])
def test_divergence_later_keeps_the_previous_model(how):
    X, y = _data()
    est = _clf(max_iter=2).fit(X, y)
    snap = _snapshot(est, X)
    est.set_params(optimizer=faulty("nan", 3), warm_start=how == "warm_start")
    with pytest.raises(TrainingDivergedError):
        if how == "partial_fit":
            est.partial_fit(X, y)
        else:
            est.fit(X, y)
    _assert_unchanged(est, X, snap)
    assert _weights_finite(est)


def test_weights_poisoned_at_the_end_of_an_epoch_are_never_kept():
    """The loss of the poisoned epoch is finite (the step came after the last
    loss), so only a check of the weights catches it; otherwise the next
    epoch's 'last good weights' would be NaN."""
    X, y = _data()
    est = _clf(faulty("nan", 2 * STEPS_PER_EPOCH), max_iter=4)
    with pytest.raises(TrainingDivergedError, match="epoch 2"):
        est.fit(X, y)
    # warm start from a good model, poisoned at the last step of its 2nd
    # epoch, then interrupted in the 3rd: the model must stay finite
    est = _clf(max_iter=1).fit(X, y)
    snap = _snapshot(est, X)
    Poison = faulty("nan", 2 * STEPS_PER_EPOCH)
    est.set_params(optimizer=Poison, warm_start=True, max_iter=3)
    with pytest.raises(TrainingDivergedError):
        est.fit(X, y)
    _assert_unchanged(est, X, snap)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_infinite_targets_after_float32_conversion_are_rejected_up_front():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10, 3, 1))
    with pytest.raises(ValueError, match="float32"):
        RNNRegressor(hidden_size=2, max_iter=1, device="cpu").fit(X, np.full(10, 1e300))


# ---------------------------------------------------------- KeyboardInterrupt
def test_interrupt_gives_the_model_of_the_last_completed_epoch():
    X, y = _data()
    est = _clf(faulty("interrupt", 2 * STEPS_PER_EPOCH + 2))
    with pytest.warns(UserWarning, match="interrupted.*after 2 completed epoch"):
        _fit_interrupted(est, X, y)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert _weights_finite(est)
    # exactly the model a 2-epoch fit gives
    ref = _clf(faulty("none", 0), max_iter=2).fit(X, y)
    np.testing.assert_array_equal(est.predict_proba(X), ref.predict_proba(X))
    assert est.loss_curve_ == ref.loss_curve_


def test_interrupt_does_not_also_warn_about_convergence():
    X, y = _data()
    est = _clf(faulty("interrupt", STEPS_PER_EPOCH + 1))
    with pytest.warns(UserWarning) as record:
        _fit_interrupted(est, X, y)
    assert not [w for w in record if issubclass(w.category, ConvergenceWarning)]


def test_interrupt_in_the_first_epoch_gives_an_honest_zero():
    X, y = _data()
    est = _clf(faulty("interrupt", 2))
    with pytest.warns(UserWarning, match="after 0 completed epoch"):
        _fit_interrupted(est, X, y)
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    assert est.predict(X).shape == (N,)  # usable: the initial weights


def test_interrupt_during_warm_start_counts_only_completed_epochs():
    X, y = _data()
    est = _clf(max_iter=2).fit(X, y)
    est.set_params(optimizer=faulty("interrupt", STEPS_PER_EPOCH + 3), warm_start=True, max_iter=5)
    with pytest.warns(UserWarning, match="interrupted"):
        _fit_interrupted(est, X, y)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3


def test_interrupt_with_early_stopping_restores_best_validation_weights():
    X, y = _data()
    # the validation split holds 20 samples, leaving 20 for training: 3 steps per epoch
    est = _clf(faulty("interrupt", 3 * 3 + 2), early_stopping=True, validation_fraction=0.2,
               n_iter_no_change=50, max_iter=10)
    with pytest.warns(UserWarning, match="best validation weights"):
        _fit_interrupted(est, X, y)
    assert est.n_iter_ == 3 and len(est.validation_scores_) == 3
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_interrupt_during_validation_scoring_is_handled(monkeypatch):
    """An interrupt that lands outside the optimizer steps (here: while the
    epoch's validation score is computed) ends the fit the same way."""
    X, y = _data()
    from skrnn import RNNClassifier

    real = RNNClassifier._validation_score
    calls = {"n": 0}

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(RNNClassifier, "_validation_score", interrupted)
    est = _clf(early_stopping=True, validation_fraction=0.2, n_iter_no_change=50, max_iter=6)
    with pytest.warns(UserWarning, match="interrupted"):
        _fit_interrupted(est, X, y)
    assert est.n_iter_ == 2 and len(est.validation_scores_) == 2


def test_interrupted_estimator_can_be_refit_and_saved(tmp_path):
    from skrnn import load

    X, y = _data()
    est = _clf(faulty("interrupt", STEPS_PER_EPOCH + 2))
    with pytest.warns(UserWarning):
        _fit_interrupted(est, X, y)
    est.set_params(optimizer="sgd").save(tmp_path / "m.skrnn")
    np.testing.assert_array_equal(load(tmp_path / "m.skrnn").predict(X), est.predict(X))
    est.set_params(optimizer="sgd", max_iter=1).fit(X, y)
    assert est.n_iter_ == 1


# --------------------------------------------------------- failing halfway
def test_failure_in_first_fit_leaves_unfitted():
    X, y = _data()
    est = _clf(faulty("error", STEPS_PER_EPOCH + 1))
    with pytest.raises(RuntimeError, match="injected"):
        est.fit(X, y)
    _assert_unfitted(est)


def test_failed_refit_with_new_classes_and_features_leaves_previous_model():
    """Before training starts, fit has already read X and y (feature count,
    classes); a later failure must not leave those half-updated."""
    X, y = _data()
    est = _clf(max_iter=1).fit(X, y)
    snap = _snapshot(est, X)
    X3, _ = _data(seed=1, F=3)
    est.set_params(optimizer=faulty("error", 1))
    with pytest.raises(RuntimeError):
        est.fit(X3, np.arange(N) % 3)
    _assert_unchanged(est, X, snap)
    assert est.n_features_in_ == 2
    # an invalid y after a valid new X: same guarantee
    est.set_params(optimizer="sgd")
    with pytest.raises(ValueError):
        est.fit(X3, np.arange(N - 1) % 3)
    _assert_unchanged(est, X, snap)


def test_failed_partial_fit_keeps_model():
    X, y = _data()
    est = _clf().partial_fit(X, y, classes=[0, 1])
    snap = _snapshot(est, X)
    est.set_params(optimizer=faulty("error", 1))
    with pytest.raises(RuntimeError):
        est.partial_fit(X, y)
    _assert_unchanged(est, X, snap)


def test_diverged_error_message_is_actionable():
    X, y = _data()
    with pytest.raises(TrainingDivergedError) as info:
        _clf(faulty("nan", 1)).fit(X, y)
    msg = str(info.value)
    assert "epoch 1" in msg and "clip_grad_norm" in msg
