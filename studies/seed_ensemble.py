"""Study: RNNClassifier's defaults, one model against an average of seeds.

Nine fits (seeds 0-8) per set; printed: each fit's test accuracy, their
median, the accuracy of three disjoint 3-seed ensembles (seeds 0-2, 3-5,
6-8; class probabilities averaged) and of all nine.

    OMP_NUM_THREADS=1 python studies/seed_ensemble.py arrowhead,gunpoint
    OMP_NUM_THREADS=1 python studies/seed_ensemble.py arrowhead '{"max_iter": 200}'
"""

import json
import os
import sys
import warnings

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from _quality_common import load  # noqa: E402  (puts the repository's skrnn first)

from skrnn import RNNClassifier  # noqa: E402


def accuracy(est, proba, y):
    """Accuracy of the class with the highest (averaged) probability."""
    return float(np.mean(est.classes_[proba.argmax(1)] == y))


def main():
    torch.set_num_threads(1)
    extra = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    for name in sys.argv[1].split(","):
        Xtr, ytr, Xte, yte = load(name, patch=None)
        probs, accs = [], []
        for s in range(9):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = RNNClassifier(random_state=s, **extra).fit(Xtr, ytr)
            p = est.predict_proba(Xte)
            probs.append(p)
            accs.append(accuracy(est, p, yte))
        ens3 = [accuracy(est, np.mean(probs[3 * g:3 * g + 3], 0), yte) for g in range(3)]
        ens9 = accuracy(est, np.mean(probs, 0), yte)
        print(name, extra, "single", np.round(accs, 3), "median", np.median(accs),
              "ens3", np.round(ens3, 3), "ens9", round(ens9, 3), flush=True)


if __name__ == "__main__":
    main()
