"""
Grid search on a Dask cluster
=============================

Tune an RNNClassifier on a Dask cluster through joblib's ``dask`` backend.

scikit-learn's ``GridSearchCV`` hands its fits to joblib; inside
``joblib.parallel_config(backend="dask")`` joblib ships them to the workers
of the connected ``distributed.Client``. Nothing skrnn-specific is needed
beyond installing skrnn (same version) on every worker.

Point it at a running cluster (``dask scheduler`` + ``dask worker ...``)::

    python examples/dask_gridsearch.py --scheduler tcp://10.0.0.5:8786
    DASK_SCHEDULER_ADDRESS=tcp://10.0.0.5:8786 python examples/dask_gridsearch.py

Without an address it starts a ``LocalCluster`` on this machine (one
single-threaded worker process per core), which is handy to try it out.

Dask's workers start with ``OMP_NUM_THREADS=1``, so each fit uses one torch
thread and a worker with ``--nthreads k`` runs k fits side by side without
oversubscribing its cores. Results are identical to ``n_jobs=1`` for a fixed
``random_state``.

The documentation shows this script without running it (starting a cluster
of worker processes and 25 fits take minutes on the build machine);
``tests/test_dask.py`` runs the same search on a two-worker LocalCluster.
"""

import argparse
import os
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from skrnn import RNNClassifier


def connect(address):
    """A Client for ``address``, or for a LocalCluster when it is None."""
    from distributed import Client, LocalCluster

    if address:
        return Client(address), None
    cluster = LocalCluster(
        n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
        host="127.0.0.1", dashboard_address=None,
    )
    return Client(cluster), cluster


def main(argv=None):
    parser = argparse.ArgumentParser(description="GridSearchCV on a Dask cluster")
    parser.add_argument(
        "--scheduler", default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
        help="scheduler address, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS, "
             "else a LocalCluster)",
    )
    parser.add_argument("--max-iter", type=int, default=10)
    args = parser.parse_args(argv)

    import joblib

    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8) / 16.0  # 8 steps (pixel rows) x 8 features
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    search = GridSearchCV(
        RNNClassifier(max_iter=args.max_iter, device="cpu", random_state=0),
        {"cell": ["lstm", "gru"], "hidden_size": [32, 64], "learning_rate_init": [1e-3, 3e-3]},
        cv=3,
        n_jobs=-1,  # every worker thread of the cluster
    )

    client, cluster = connect(args.scheduler)
    try:
        workers = client.scheduler_info()["workers"]
        print(f"dask scheduler {client.scheduler.address}: {len(workers)} workers, "
              f"{sum(w['nthreads'] for w in workers.values())} threads")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with joblib.parallel_config(backend="dask"):
                search.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    print(f"{n_fits} fits + refit in {elapsed:.1f} s")
    print(f"best: {search.best_params_}, cv accuracy {search.best_score_:.4f}")
    print(f"test accuracy: {search.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
