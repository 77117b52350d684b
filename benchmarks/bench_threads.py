"""Seeded fits in threads against the same fits one after another.

Fits RNNClassifier on digits read row by row (8 steps x 8 features) for
several seeds and configurations (dropout between two layers included),
first sequentially, then with joblib's threading backend, and prints the
wall times and whether every fit is bit-for-bit identical (predicted
probabilities and loss curves). Also times one fit per configuration (the
per-fit cost of drawing dropout masks from the fit's own generator).

Run:  OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_threads.py [--max-iter 5] [--n-jobs 2]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits

from skrnn import RNNClassifier

CONFIGS = [
    dict(),
    dict(num_layers=2, dropout=0.3),
    dict(cell="gru", num_layers=2, dropout=0.5, bidirectional=True),
]


def fit(config, seed, X, y, max_iter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = RNNClassifier(max_iter=max_iter, random_state=seed, device="cpu", **config)
        est.fit(X, y)
    return est.predict_proba(X), est.loss_curve_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # catch_warnings is not thread-safe
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8) / 16.0
    jobs = [(c, s) for c in CONFIGS for s in range(args.seeds)]
    print(f"digits {X.shape}, {len(jobs)} fits ({len(CONFIGS)} configs x {args.seeds} seeds), "
          f"max_iter={args.max_iter}, torch threads {torch.get_num_threads()}")
    fit(CONFIGS[0], 0, X[:64], y[:64], 1)  # warm up

    start = time.perf_counter()
    sequential = [fit(c, s, X, y, args.max_iter) for c, s in jobs]
    t_seq = time.perf_counter() - start
    start = time.perf_counter()
    threaded = Parallel(n_jobs=args.n_jobs, backend="threading")(
        delayed(fit)(c, s, X, y, args.max_iter) for c, s in jobs
    )
    t_thr = time.perf_counter() - start
    same = all(
        np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(sequential, threaded)
    )
    for config in CONFIGS:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fit(config, 0, X, y, args.max_iter)
            times.append(time.perf_counter() - start)
        print(f"one fit {config or 'default'}: best of 3 {min(times):.2f} s")
    print(f"sequential: {t_seq:.1f} s; threading backend, n_jobs={args.n_jobs}: {t_thr:.1f} s")
    print(f"threaded fits identical to sequential fits (bit for bit): {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
