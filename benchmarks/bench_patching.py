"""Patching long sequences: accuracy / MSE and seconds per epoch, patched vs not.

Two long-sequence tasks, side by side in one run, with skrnn's default network
(one-layer LSTM, hidden 64, Adam 1e-3, batch 32) trained for a fixed epoch
budget (the stopping rule is switched off so every run gets the same number
of epochs), several seeds:

(a) ACSF1 from aeon (bundled, no download): 10 classes, 100 train / 100 test
    series of 1,460 steps, each series z-scored on its own. Metric: test
    accuracy (chance 0.10).
(b) The adding problem (Hochreiter & Schmidhuber 1997) with T=1000: two
    channels, a value in [0, 1) and a marker that is 1 at two random steps;
    the target is the sum of the two marked values. 256 train / 256 test
    sequences (``--n-adding``, default 256), drawn once (seed 0). Metric: test MSE (predicting the mean
    scores about 0.167, the variance of the sum).

``SequencePatcher(patch_size=P)`` turns each series into T/P steps of P
values; ``P=1`` rows are the unpatched network on the raw steps. Every setting runs
``--epochs`` epochs. Patched epochs being cheap, two more comparisons at a
wall-clock still below the unpatched run's: on ACSF1 the patched networks
also run ``--epochs-long`` epochs; on the adding problem they also train on
``--n-adding-big`` (2,048) sequences, same test set. Seconds per epoch are
the whole ``fit`` divided by its epochs (single torch thread, CPU, shared
machine: compare within one run).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_patching.py            # ~9.5 minutes, one core
    OMP_NUM_THREADS=1 python benchmarks/bench_patching.py --quick    # smoke run
    OMP_NUM_THREADS=1 python benchmarks/bench_patching.py --sizes 4 8 16 32 --seeds 0 1
        # patch sizes across GunPoint (T=150), OSULeaf (T=427), ACSF1 (T=1460)
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, mean_squared_error

from skrnn import RNNClassifier, RNNRegressor
from skrnn.preprocessing._patcher import SequencePatcher


def load_acsf1():
    from aeon.datasets import load_classification

    def z(X):
        X = X[:, 0, :]
        return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)

    Xtr, ytr = load_classification("ACSF1", split="train")
    Xte, yte = load_classification("ACSF1", split="test")
    return z(Xtr), ytr, z(Xte), yte


def load_ucr(name):
    from aeon.datasets import load_classification

    def z(X):
        X = X[:, 0, :]
        return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)

    Xtr, ytr = load_classification(name, split="train")
    Xte, yte = load_classification(name, split="test")
    return z(Xtr), ytr, z(Xte), yte


def patch_sizes(args):
    """Patched runs only, over patch sizes and real data sets of several
    lengths: what a default ``patch_size`` should be."""
    sets = ["GunPoint", "OSULeaf", "ACSF1"]
    print(f"patch size across data sets: {args.epochs_sizes} epochs, seeds {args.seeds}")
    header = f"{'data set':<10} {'T':>5} " + " ".join(f"{'P=' + str(p):>12}" for p in args.sizes)
    print(header)
    print("-" * len(header))
    for name in sets:
        data = load_ucr(name)
        cells = []
        for patch in args.sizes:
            accs = [run(name, RNNClassifier, accuracy_score, *data, patch, seed,
                        args.epochs_sizes)[0] for seed in args.seeds]
            cells.append(f"{np.mean(accs):.3f}+-{np.std(accs):.3f}")
        print(f"{name:<10} {data[0].shape[1]:>5} " + " ".join(f"{c:>12}" for c in cells),
              flush=True)


def adding_problem(n, T, rng):
    values = rng.uniform(size=(n, T))
    marks = np.zeros((n, T))
    for i in range(n):
        marks[i, rng.choice(T, size=2, replace=False)] = 1.0
    return np.stack([values, marks], axis=-1), (values * marks).sum(axis=1)


def run(task, est_cls, metric, Xtr, ytr, Xte, yte, patch, seed, epochs):
    if patch > 1:
        patcher = SequencePatcher(patch_size=patch).fit(Xtr)
        Xtr, Xte = patcher.transform(Xtr), patcher.transform(Xte)
    est = est_cls(max_iter=epochs, tol=None, random_state=seed, device="cpu")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Xtr, ytr)
    seconds = time.perf_counter() - start
    return metric(yte, est.predict(Xte)), seconds / est.n_iter_, est.n_iter_, Xtr.shape[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--patches-acsf1", type=int, nargs="+", default=[1, 8, 16, 64])
    parser.add_argument("--patches-adding", type=int, nargs="+", default=[1, 8, 16, 50])
    parser.add_argument("--epochs-long", type=int, default=60,
                        help="ACSF1: second, longer budget for the patched runs only (cheap)")
    parser.add_argument("--n-adding", type=int, default=256, help="train (= test) size")
    parser.add_argument("--n-adding-big", type=int, default=2048,
                        help="adding: train size of the patched-only runs with more data")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="instead: compare these patch sizes on GunPoint, OSULeaf, ACSF1")
    parser.add_argument("--epochs-sizes", type=int, default=40)
    args = parser.parse_args()
    if args.sizes:
        torch.set_num_threads(1)
        return patch_sizes(args)
    if args.quick:
        args.seeds, args.epochs, args.epochs_long, args.n_adding_big = [0], 2, 3, 512
    torch.set_num_threads(1)

    rng = np.random.RandomState(0)
    adding_test = adding_problem(args.n_adding, 1000, rng)
    adding_train = adding_problem(args.n_adding, 1000, rng)
    adding_big = adding_problem(args.n_adding_big, 1000, rng)
    # (task, estimator, metric, name, data, [(patch, epochs), ...])
    tasks = [
        ("ACSF1 (T=1460)", RNNClassifier, accuracy_score, "accuracy", load_acsf1(),
         [(p, args.epochs) for p in args.patches_acsf1]
         + [(p, args.epochs_long) for p in args.patches_acsf1 if p > 1 and args.epochs_long]),
        ("adding T=1000", RNNRegressor, mean_squared_error, "MSE",
         (*adding_train, *adding_test), [(p, args.epochs) for p in args.patches_adding]),
        (f"adding n={args.n_adding_big}", RNNRegressor, mean_squared_error, "MSE",
         (*adding_big, *adding_test), [(p, args.epochs) for p in args.patches_adding if p > 1]),
    ]
    import skrnn

    print(f"skrnn from {skrnn.__file__}; epochs={args.epochs}, seeds={args.seeds}, "
          "torch threads=1\n")
    header = (f"{'task':<16} {'patch':>5} {'steps':>5} {'epochs':>6} {'metric':>8} {'mean':>7} "
              f"{'min':>7} {'max':>7} {'s/epoch':>8}")
    print(header)
    print("-" * len(header))
    total = time.perf_counter()
    for name, est_cls, metric, metric_name, data, runs in tasks:
        for patch, epochs in runs:
            scores, per_epoch = [], []
            for seed in args.seeds:
                score, sec, _, steps = run(name, est_cls, metric, *data, patch, seed, epochs)
                scores.append(score)
                per_epoch.append(sec)
            s = np.array(scores)
            print(f"{name:<16} {patch:>5} {steps:>5} {epochs:>6} {metric_name:>8} {s.mean():>7.3f} "
                  f"{s.min():>7.3f} {s.max():>7.3f} {np.median(per_epoch):>8.3f}", flush=True)
        if name == "adding T=1000":
            baseline = mean_squared_error(data[3], np.full_like(data[3], data[1].mean()))
            print(f"{name:<16} {'(mean predictor)':>29} {baseline:>7.3f}")
    print(f"\ntotal {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
