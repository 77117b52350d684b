"""Concurrent inference: several threads predicting with one fitted estimator
get exactly the answers of serial calls (and nothing about the estimator
changes)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from skrnn import RNNClassifier, RNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_THREADS = 8


def _inputs(n_batches=12, seed=0):
    """Different inputs per call: ragged lists, 3-D arrays with NaN padding,
    and different batch sizes, so threads really interleave different work."""
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n_batches):
        n = rng.randint(1, 40)
        if i % 2:
            out.append([rng.normal(size=(rng.randint(1, 30), 3)) for _ in range(n)])
        else:
            X = rng.normal(size=(n, 20, 3))
            for j, L in enumerate(rng.randint(1, 21, size=n)):
                X[j, L:] = np.nan
            out.append(X)
    return out


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(1, 20), 3)) for _ in range(60)]
    y = rng.randint(0, 3, size=60)
    clf = RNNClassifier(hidden_size=8, bidirectional=True, pooling="attention", max_iter=2,
                        random_state=0, device="cpu").fit(X, y)
    reg = RNNRegressor(hidden_size=8, cell="gru", return_sequences=True, max_iter=2,
                       random_state=0, device="cpu").fit(X, [x[:, 0] for x in X])
    return clf, reg


def _same(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(np.array_equal(u, v, equal_nan=True) for u, v in zip(a, b))
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "reg_predict"])
def test_concurrent_calls_equal_serial_calls(fitted, method):
    clf, reg = fitted
    call = {"predict": clf.predict, "predict_proba": clf.predict_proba,
            "reg_predict": reg.predict}[method]
    inputs = _inputs() * 2  # the same inputs many times, in flight together
    serial = [call(X) for X in inputs]
    with ThreadPoolExecutor(N_THREADS) as pool:
        concurrent = list(pool.map(call, inputs))
    assert all(_same(s, c) for s, c in zip(serial, concurrent))


def test_mixed_methods_and_estimators_in_flight_together(fitted):
    clf, reg = fitted
    inputs = _inputs(seed=1)
    jobs = [(f, X) for X in inputs for f in (clf.predict, clf.predict_proba, reg.predict, clf.score)]
    y = {id(X): np.zeros(len(X), dtype=int) for X in inputs}

    def run(job):
        f, X = job
        return f(X, y[id(X)]) if f == clf.score else f(X)

    serial = [run(j) for j in jobs]
    state = {k: v for k, v in clf.module_.state_dict().items()}
    with ThreadPoolExecutor(N_THREADS) as pool:
        concurrent = list(pool.map(run, jobs))
    for s, c in zip(serial, concurrent):
        assert _same(s, c) if not np.isscalar(s) else s == c
    for k, v in clf.module_.state_dict().items():
        assert torch.equal(v, state[k])  # inference never changes the weights
