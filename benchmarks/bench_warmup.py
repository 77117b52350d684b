"""The cosine warm-up with a large ``max_iter`` left to a stopping rule.

Digits (sklearn's 8x8 images as 8 steps of 8 pixels, scaled to [0, 1]),
the classifier's defaults with ``max_iter=10_000``, a fit stopped by a
callback after ``--epochs`` epochs (as an interrupt or the stopping rule
would end it), scored on a held-out quarter. Three schedules:

- ``capped``: the warm-up as it is now, at most 10 epochs;
- ``uncapped``: the warm-up as it was, 5 % of ``max_iter`` (500 epochs here),
  i.e. ``lr_schedule_params={"max_warmup_epochs": 10**9}``;
- ``max_iter=100``: the default budget, for reference.

Usage::

    python benchmarks/bench_warmup.py --epochs 8 --seeds 0 1 2
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skrnn import RNNClassifier


class StopAfter:
    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch_end(self, estimator, epoch, logs):
        return epoch >= self.epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 8, 8)
    cases = {"capped (max_iter=10_000)": dict(max_iter=10_000),
             "uncapped, as before (max_iter=10_000)": dict(max_iter=10_000,
                                                           lr_schedule_params={"max_warmup_epochs": 10**9}),
             "max_iter=100": dict(max_iter=100)}
    print(f"| schedule | lr after {args.epochs} epochs / learning_rate_init | accuracy, mean (min-max) over "
          f"seeds {args.seeds} | seconds per fit |")
    print("|---|---:|---:|---:|")
    for name, params in cases.items():
        scores, ratios, seconds = [], [], []
        for seed in args.seeds:
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
            est = RNNClassifier(**params, random_state=seed, device="cpu", tol=None,
                                callbacks=[StopAfter(args.epochs)])
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(Xtr, ytr)
            seconds.append(time.perf_counter() - start)
            scores.append(est.score(Xte, yte))
            ratios.append(est.lr_curve_[-1] / est.learning_rate_init)
        print(f"| {name} | {np.mean(ratios):.3f} | {np.mean(scores):.3f} ({min(scores):.3f}-{max(scores):.3f}) "
              f"| {np.mean(seconds):.1f} |", flush=True)


if __name__ == "__main__":
    main()
