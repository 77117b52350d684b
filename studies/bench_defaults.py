"""The default configuration through the real estimator, against the
previous defaults and the steps between them, everything else as a new user
leaves it (stopping rule on, ``max_iter=100``).

Configurations (``--configs``, by key):

- ``v1``: the first defaults (LSTM, one direction, last step, 64 units, 1e-3,
  constant rate, batches of 32);
- ``v2``: the second (GRU, bidirectional, max pooling, 64 units, 3e-3,
  constant rate, batches of 32);
- ``v2+cosine``: ``v2`` with the cosine schedule;
- ``v2+cosine+b16``: and batches of 16;
- ``defaults``: today's defaults (``v2`` + cosine + batches of 16 + 128 units);
- ``recommended``: the README's recommended configuration (``bench_quality.RECOMMENDED``:
  a fixed budget of 150 epochs, no stopping rule);
- ``recommended, 2 layers``: the same with ``num_layers=2, dropout=0.2``.

Data as in ``bench_quality.py`` (see ``_quality_common.load``). Prints, per
data set and configuration, test accuracy mean ± std over the seeds, mean fit
seconds (one torch thread) and mean epochs run, then the mean over the data
sets.

Usage::

    OMP_NUM_THREADS=1 python studies/bench_defaults.py \\
        --datasets gunpoint ipd acsf1 arrowhead basicmotions digits jv --seeds 0 1 2 \\
        --configs v2 v2+cosine v2+cosine+b16 defaults recommended
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
from _quality_common import DATASETS, load  # noqa: E402
from bench_quality import RECOMMENDED  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402

V2 = dict(hidden_size=64, batch_size=32, lr_schedule="constant")
CONFIGS = {
    "v1": dict(V2, cell="lstm", bidirectional=False, pooling="last", learning_rate_init=1e-3),
    "v2": V2,
    "v2+cosine": dict(V2, lr_schedule="cosine"),
    "v2+cosine+b16": dict(V2, lr_schedule="cosine", batch_size=16),
    "defaults": {},
    "recommended": RECOMMENDED,
    "recommended, 2 layers": dict(RECOMMENDED, num_layers=2, dropout=0.2),
}
PATCH = {"acsf1": 10}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", nargs="+", choices=DATASETS,
                   default=["gunpoint", "ipd", "acsf1", "arrowhead", "basicmotions", "digits", "jv"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS),
                   default=["v2", "v2+cosine", "v2+cosine+b16", "defaults", "recommended"])
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"skrnn defaults: {RNNClassifier().get_params()}")
    rows = {}
    for name in args.datasets:
        Xtr, ytr, Xte, yte = load(name, patch=PATCH.get(name))
        for cfg in args.configs:
            res = []
            for seed in args.seeds:
                est = RNNClassifier(random_state=seed, **CONFIGS[cfg])
                t = time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    est.fit(Xtr, ytr)
                plateau = any("constant predictor" in str(w.message) for w in caught)
                res.append((est.score(Xte, yte), time.perf_counter() - t, est.n_iter_, plateau))
                print(name, cfg, seed, tuple(np.round(res[-1][:3], 3)), "plateau" * plateau,
                      flush=True)
            rows[(name, cfg)] = np.array(res, dtype=float)
    print(f"\n| data set | {' | '.join(args.configs)} |")
    print("|---" * (len(args.configs) + 1) + "|")
    for name in args.datasets:
        cells = []
        for cfg in args.configs:
            a = rows[(name, cfg)]
            warn = f", {int(a[:, 3].sum())} plateau warnings" if a[:, 3].any() else ""
            cells.append(f"{a[:, 0].mean():.3f} ± {a[:, 0].std():.3f} "
                         f"({a[:, 1].mean():.0f} s, {a[:, 2].mean():.0f} ep{warn})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    means = [np.mean([rows[(name, cfg)][:, 0].mean() for name in args.datasets])
             for cfg in args.configs]
    print("| mean | " + " | ".join(f"{m:.3f}" for m in means) + " |")


if __name__ == "__main__":
    main()
