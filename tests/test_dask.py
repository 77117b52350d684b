"""The grid search runs on a Dask cluster through joblib's ``dask`` backend
and gives exactly the local results (skipped when dask.distributed is not
installed: ``pip install skrnn[distributed]``)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skrnn import RNNClassifier

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

GRID = {"cell": ["lstm", "gru"], "learning_rate_init": [3e-3, 1e-2]}


def _search(n_jobs):
    est = RNNClassifier(hidden_size=8, max_iter=2, batch_size=32, device="cpu", random_state=0)
    return GridSearchCV(est, GRID, cv=2, n_jobs=n_jobs)


def _data(n=150):
    X, y = load_digits(return_X_y=True)
    return X[:n].reshape(-1, 8, 8) / 16.0, y[:n]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def one_thread():
    """Local fits on one torch thread, like the workers (fast on a busy machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _torch_threads():
    import torch

    return torch.get_num_threads()


def test_grid_search_on_dask_equals_local(client, one_thread):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = _search(1).fit(X, y)
        with distributed.get_task_stream(client) as stream:
            with joblib.parallel_config(backend="dask"):
                remote = _search(-1).fit(X, y)

    # the candidate fits really ran on the cluster's two workers
    assert len(stream.data) >= len(local.cv_results_["params"]) * 2
    workers = {t["worker"] for t in stream.data}
    assert workers <= set(client.scheduler_info()["workers"])

    assert [sorted(p.items()) for p in local.cv_results_["params"]] == [
        sorted(p.items()) for p in remote.cv_results_["params"]
    ]
    keys = [k for k in local.cv_results_ if k.endswith("_test_score")]
    for key in keys:
        np.testing.assert_array_equal(local.cv_results_[key], remote.cv_results_[key], err_msg=key)
    assert local.best_params_ == remote.best_params_
    np.testing.assert_array_equal(
        local.best_estimator_.predict_proba(X), remote.best_estimator_.predict_proba(X)
    )


def test_dask_workers_run_one_torch_thread(client):
    """Dask's nanny starts workers with OMP_NUM_THREADS=1; skrnn keeps it."""
    threads = client.run(_torch_threads)
    assert len(threads) == 2
    assert set(threads.values()) == {1}
