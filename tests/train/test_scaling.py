"""Parallel grid search: scores do not depend on n_jobs, whatever the parent's
torch thread count; each fit runs on its estimator's ``n_threads`` (1 by
default) and gives the caller's thread count back, so k workers do not
oversubscribe k cores."""

import warnings

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier

pytestmark = pytest.mark.usefixtures("quiet")

@pytest.fixture
def small_digits(digits_sequences):
    X, y = digits_sequences

    def take(n=150):
        return X[:n], y[:n]

    return take


def scores(cv_results):
    keys = sorted(k for k in cv_results if k.endswith("_test_score"))
    return {k: np.asarray(cv_results[k]) for k in keys}, [
        sorted(p.items()) for p in cv_results["params"]
    ]


def test_cv_results_do_not_depend_on_n_jobs(one_thread, small_digits, small_grid_search):
    X, y = small_digits()
    serial = small_grid_search(1).fit(X, y)
    parallel = small_grid_search(2).fit(X, y)
    s_scores, s_params = scores(serial.cv_results_)
    p_scores, p_params = scores(parallel.cv_results_)
    assert s_params == p_params
    assert s_scores.keys() == p_scores.keys()
    for key in s_scores:
        np.testing.assert_array_equal(s_scores[key], p_scores[key], err_msg=key)
    # the refitted best models are the same network
    np.testing.assert_array_equal(
        serial.best_estimator_.predict_proba(X), parallel.best_estimator_.predict_proba(X)
    )


@pytest.mark.parametrize("n_threads, expected", [(1, 1), (2, 2), (None, "caller")])
def test_fit_runs_on_n_threads_and_restores_the_callers(small_digits, monkeypatch, n_threads,
                                                          expected):
    from skrnn._train import engine as _engine

    X, y = small_digits(60)
    seen = []
    fit_module = _engine.fit_module

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return fit_module(*args, **kwargs)

    monkeypatch.setattr(_engine, "fit_module", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        clf = RNNClassifier(hidden_size=4, max_iter=1, device="cpu", random_state=0,
                            n_threads=n_threads).fit(X, y)
        assert torch.get_num_threads() == 3
        clf.predict(X)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
    assert seen == [3 if expected == "caller" else expected]


def test_cv_results_do_not_depend_on_n_jobs_at_torchs_default_threads(small_digits,
                                                                       small_grid_search):
    """A user who changes nothing: the parent process keeps torch's default
    (here two) intra-op threads while joblib's workers run one."""
    X, y = small_digits()
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        serial = small_grid_search(1).fit(X, y)
        parallel = small_grid_search(2).fit(X, y)
    finally:
        torch.set_num_threads(before)
    s_scores, _ = scores(serial.cv_results_)
    p_scores, _ = scores(parallel.cv_results_)
    for key in s_scores:
        np.testing.assert_array_equal(s_scores[key], p_scores[key], err_msg=key)


def _fit_in_worker(X, y):
    import torch

    before = torch.get_num_threads()
    clf = RNNClassifier(hidden_size=4, max_iter=1, device="cpu", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return before, torch.get_num_threads()


def test_workers_keep_their_thread_budget(small_digits):
    """With n_jobs=2 joblib gives each worker cpu_count() // 2 threads
    (at least 1); fitting must not raise that."""
    import os

    X, y = small_digits(60)
    budget = max(1, (os.cpu_count() or 1) // 2)
    out = Parallel(n_jobs=2)(delayed(_fit_in_worker)(X, y) for _ in range(2))
    for before, after in out:
        assert after == before
        assert after <= budget
