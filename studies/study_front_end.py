"""Study: the convolutional front end of RNNClassifier, on and off, before
and beside the recurrent layer, against the classifier's defaults.

Data: the seven sets of the README's quality table plus aeon's OSULeaf (427
steps, 6 classes, 200/242), loaded and scaled as ``benchmarks/bench_quality.py``
does (``benchmarks/_quality_common.load``). Every fit is the estimator
itself, ``RNNClassifier(**config, random_state=seed)``, with its stopping
rule (the defaults: at most 100 epochs), on one torch thread.

Configurations (``--configs``):

``defaults``  RNNClassifier() -- ACSF1 patched (10 steps -> 1 of 10
              features, 146 steps), the README's recipe for long series.
``before``    + conv_channels=[64, 64, 64], conv_kernel_sizes=[7, 5, 3],
              conv_mode='before' -- ACSF1 raw (1,460 steps) with
              conv_stride=10 in place of patching.
``before_s2`` ``before`` with conv_stride=2 (half the recurrent steps);
``before_s4`` with conv_stride=4.
``beside``    + the same blocks, conv_mode='beside' (LSTM-FCN) -- ACSF1
              patched 10 as for ``defaults``.
``auto``      RNNClassifier() on every set as it comes (ACSF1 raw): the
              front end ``conv_channels='auto'`` builds (three blocks of
              64, kernels 7, 5, 3, stride round(sqrt(median length) / 4)
              from 128 steps, none below).
``off``       RNNClassifier(conv_channels=None): the defaults before
              ``'auto'`` (ACSF1 patched 10).

Printed: one line per fit (accuracy, fit seconds, epochs), then a table of
the median (mean ± std) test accuracy and mean fit seconds per set.

Usage::

    python studies/study_front_end.py --sets arrowhead gunpoint --seeds 0 1 2 \\
        --configs defaults before beside
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from _quality_common import load  # noqa: E402  (puts the repository's skrnn first)

from skrnn import RNNClassifier  # noqa: E402

SETS = ("jv", "digits", "basicmotions", "ipd", "gunpoint", "arrowhead", "acsf1", "osuleaf")
BLOCKS = dict(conv_channels=[64, 64, 64], conv_kernel_sizes=[7, 5, 3])
CONFIGS = {
    "defaults": {},
    "before": dict(BLOCKS, conv_mode="before"),
    "before_s2": dict(BLOCKS, conv_mode="before", conv_stride=2),
    "before_s4": dict(BLOCKS, conv_mode="before", conv_stride=4),
    "beside": dict(BLOCKS, conv_mode="beside"),
    "auto": {},
    "off": dict(conv_channels=None),
}
# how each configuration reads the long ACSF1 series: (patch, extra params)
LONG = {
    "defaults": (10, {}),
    "before": (None, {"conv_stride": 10}),
    "before_s2": (None, {"conv_stride": 10}),
    "before_s4": (None, {"conv_stride": 10}),
    "beside": (10, {}),
    "auto": (None, {}),
    "off": (10, {}),
}


def run(name, config, seed, cache):
    params = dict(CONFIGS[config])
    # --extra: ACSF1 raw unless the configuration names a "patch"
    patch, extra = LONG.get(config, (params.pop("patch", None), {})) if name == "acsf1" \
        else (None, {})
    params.pop("patch", None)
    key = (name, patch)
    if key not in cache:
        cache[key] = load(name, patch=patch)
    Xtr, ytr, Xte, yte = cache[key]
    params.update(extra)
    est = RNNClassifier(random_state=seed, **params)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(Xtr, ytr)
    dt = time.perf_counter() - t
    return float(est.score(Xte, yte)), dt, int(est.n_iter_)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--configs", nargs="*", default=["defaults", "before", "beside"],
                   choices=list(CONFIGS))
    p.add_argument("--extra", type=json.loads, default=None,
                   help="JSON dict of a further configuration, named 'extra' (on ACSF1 "
                        "the raw series, or patched with a 'patch' key)")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.extra is not None:
        CONFIGS["extra"] = args.extra
        args.configs.append("extra")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; "
          f"seeds {args.seeds}; configs {json.dumps({c: CONFIGS[c] for c in args.configs})}",
          flush=True)
    res, cache = {}, {}
    for name in args.sets:
        for seed in args.seeds:
            for config in args.configs:
                acc, dt, ep = run(name, config, seed, cache)
                res.setdefault((name, config), []).append((acc, dt, ep))
                print(f"{name} seed {seed} {config}: acc {acc:.4f} fit {dt:.1f} s {ep} ep",
                      flush=True)
        cache.clear()
    print(f"\n| data set | {' | '.join(args.configs)} |")
    print("|---" * (len(args.configs) + 1) + "|")
    for name in args.sets:
        cells = []
        for c in args.configs:
            a = np.array(res[(name, c)], float)
            cells.append(f"{np.median(a[:, 0]):.3f} ({a[:, 0].mean():.3f} ± {a[:, 0].std():.3f}; "
                         f"{a[:, 1].mean():.0f} s, {a[:, 2].mean():.0f} ep)")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\ncells: median test accuracy over seeds (mean ± std; mean fit seconds on one "
          "thread, mean epochs)")


if __name__ == "__main__":
    main()
