"""JapaneseVowels: the recommended configuration and single changes to it,
through ``RNNClassifier`` itself, several seeds, next to the plain PyTorch
loop with the same network.

Every variant is ``RECOMMENDED`` (``bench_quality.py``) with the listed
parameters changed; the inputs are scaled per channel with
``SequenceScaler`` fitted on the 270 training utterances (``_quality_common.load``),
370 test utterances. Prints, per variant, the test accuracy of every seed,
their mean and the mean fit seconds (one torch thread).

Usage::

    OMP_NUM_THREADS=1 python studies/bench_jv_variants.py --seeds 0 1 2 3 4 5 \\
        --variants recommended plain
    OMP_NUM_THREADS=1 python studies/bench_jv_variants.py --seeds 0 1 2
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
from _quality_common import load  # noqa: E402
from bench_quality import RECOMMENDED, _plain  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402

VARIANTS = {
    "recommended": {},
    "alpha 1e-4": {"alpha": 1e-4},
    "alpha 1e-3": {"alpha": 1e-3},
    "alpha 3e-3": {"alpha": 3e-3},
    "alpha 1e-2": {"alpha": 1e-2},
    "hidden 64": {"hidden_size": 64},
    "hidden 256": {"hidden_size": 256},
    "2 layers": {"num_layers": 2},
    "2 layers, dropout 0.2": {"num_layers": 2, "dropout": 0.2},
    "2 layers, dropout 0.3": {"num_layers": 2, "dropout": 0.3},
    "lstm": {"cell": "lstm"},
    "pooling mean": {"pooling": "mean"},
    "pooling attention": {"pooling": "attention"},
    "batch 8": {"batch_size": 8},
    "lr 1e-3": {"learning_rate_init": 1e-3},
    "early stopping": {"early_stopping": True},
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", choices=[*VARIANTS, "plain"], default=list(VARIANTS))
    args = p.parse_args()
    torch.set_num_threads(1)
    Xtr, ytr, Xte, yte = load("jv")
    print("| variant | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean | s/fit |")
    print("|---" * (len(args.seeds) + 3) + "|")
    for name in args.variants:
        accs, secs = [], []
        for seed in args.seeds:
            t = time.perf_counter()
            if name == "plain":
                accs.append(_plain(RECOMMENDED, Xtr, ytr, Xte, yte, seed)[0][0])
            else:
                est = RNNClassifier(**{**RECOMMENDED, **VARIANTS[name]}, random_state=seed)
                accs.append(est.fit(Xtr, ytr).score(Xte, yte))
            secs.append(time.perf_counter() - t)
        label = "plain torch loop (same net)" if name == "plain" else name
        print(f"| {label} | " + " | ".join(f"{a:.4f}" for a in accs)
              + f" | **{np.mean(accs):.4f}** | {np.mean(secs):.0f} |", flush=True)


if __name__ == "__main__":
    main()
