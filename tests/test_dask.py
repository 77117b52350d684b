"""The grid search runs on a Dask cluster through joblib's ``dask`` backend
and gives exactly the local results (skipped when dask.distributed is not
installed: ``pip install skrnn[distributed]``)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning


distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

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


def _torch_threads():
    import torch

    return torch.get_num_threads()


def test_grid_search_on_dask_equals_local(client, one_thread, digits_sequences,
                                          small_grid_search):
    X, y = (a[:150] for a in digits_sequences)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = small_grid_search(1).fit(X, y)
        with distributed.get_task_stream(client) as stream:
            with joblib.parallel_config(backend="dask"):
                remote = small_grid_search(-1).fit(X, y)

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
