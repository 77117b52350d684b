"""Study: averaging the classifier's weights over its last epochs (EMA and
SWA-style uniform averages) against the weights of the last epoch, on the
same fits.

A callback keeps a copy of the network's weights and buffers after every
epoch; after the fit the averages are loaded into the fitted network one at
a time and scored on the test split. Every variant reads the same training
run, so the comparison is paired: only the weights used to predict differ.

Variants: ``last`` (the defaults: the last epoch's weights), ``ema<d>``
(exponential moving average over epochs with decay ``d``), ``last<k>``
(the uniform average of the last ``k`` epochs).

    OMP_NUM_THREADS=1 python studies/weight_averaging.py arrowhead,gunpoint 0 1 2 3 4
"""

import os
import sys
import warnings

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from _quality_common import load  # noqa: E402  (puts the repository's skrnn first)

from skrnn import RNNClassifier  # noqa: E402
from skrnn.callbacks import training_module  # noqa: E402


class Snapshots:
    """Keeps the weights and buffers after every epoch."""

    def __init__(self):
        self.states = []

    def on_epoch_end(self, estimator, epoch, logs):
        state = training_module(estimator).state_dict()
        self.states.append({k: v.detach().clone() for k, v in state.items()})


def ema(states, decay):
    out = {k: v.clone().float() for k, v in states[0].items()}
    for s in states[1:]:
        for k, v in s.items():
            if v.is_floating_point():
                out[k].mul_(decay).add_(v, alpha=1 - decay)
            else:
                out[k] = v.clone()
    return out


def uniform(states, k):
    tail = states[-k:]
    return {name: (torch.stack([s[name].float() for s in tail]).mean(0)
                   if tail[-1][name].is_floating_point() else tail[-1][name].clone())
            for name in tail[-1]}


VARIANTS = {"ema0.8": lambda s: ema(s, 0.8), "ema0.9": lambda s: ema(s, 0.9),
            "ema0.95": lambda s: ema(s, 0.95), "last5": lambda s: uniform(s, 5),
            "last10": lambda s: uniform(s, 10), "last20": lambda s: uniform(s, 20)}


def main():
    torch.set_num_threads(1)
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    for name in sys.argv[1].split(","):
        Xtr, ytr, Xte, yte = load(name, patch=None)
        table = {v: [] for v in ["last", *VARIANTS]}
        for seed in seeds:
            snaps = Snapshots()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = RNNClassifier(random_state=seed, callbacks=[snaps]).fit(Xtr, ytr)
            table["last"].append(est.score(Xte, yte))
            final = {k: v.clone() for k, v in est.module_.state_dict().items()}
            for v, fn in VARIANTS.items():
                est.module_.load_state_dict(fn(snaps.states))
                table[v].append(est.score(Xte, yte))
            est.module_.load_state_dict(final)
            print(f"{name} seed {seed} ({len(snaps.states)} ep): "
                  + ", ".join(f"{v} {a[-1]:.3f}" for v, a in table.items()), flush=True)
        print(f"{name} medians: " + ", ".join(
            f"{v} {np.median(a):.3f} (mean {np.mean(a):.3f})" for v, a in table.items()),
              flush=True)


if __name__ == "__main__":
    main()
