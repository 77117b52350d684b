"""The default configuration through the real estimator: old defaults vs the
new ones (and the new ones with ``pooling='last'``), everything else as a new
user leaves it (stopping rule on, ``max_iter=100``).

Data as in ``bench_quality.py`` (see ``_quality_common.load``). Prints, per
data set and configuration, test accuracy mean ± std over the seeds, mean fit
seconds (one torch thread) and mean epochs run.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_defaults.py \\
        --datasets jv ipd gunpoint basicmotions digits --seeds 0 1
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _quality_common import DATASETS, load  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402

CONFIGS = {
    "old defaults (lstm uni last 1e-3)": dict(
        cell="lstm", bidirectional=False, pooling="last", learning_rate_init=1e-3
    ),
    "new defaults (gru bi max 3e-3)": {},
    "new, pooling='last'": dict(pooling="last"),
}
PATCH = {"acsf1": 10}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", nargs="+", choices=DATASETS,
                   default=["jv", "ipd", "gunpoint", "basicmotions", "digits"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--configs", nargs="+", default=list(CONFIGS))
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


if __name__ == "__main__":
    main()
