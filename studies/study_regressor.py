"""Study: RNNRegressor's defaults, measured on sequence regression.

Data (aeon, offline): ``load_regression("Covid3Month")`` (univariate, 84
steps, 140/61) and ``load_regression("CardanoSentiment")`` (2 channels, 24
steps, 74/33), the published train/test splits. Inputs are scaled one of two
ways, fitted on the training split: ``global`` -- ``skrnn.SequenceScaler``
(one mean and std per channel over all steps, the README's recipe);
``perseq`` -- each series (each channel of each sample) standardised on its
own steps. The baseline is a ridge regression on the raw values
(``StandardScaler`` + ``RidgeCV(alphas=logspace(-3, 3, 13))`` on the
flattened series).

Every fit is ``RNNRegressor(**config, random_state=seed)`` with its
stopping rule, one torch thread. Configurations: ``defaults`` (the current
ones) and, one factor at a time, around ``clf`` (the classifier's measured
defaults: bidirectional GRU 128, max pooling, 3e-3, cosine, batches of 16);
see ``CONFIGS``.

Printed: one line per fit (test RMSE, fit seconds, epochs), then the median
(mean ± std) test RMSE over seeds per set and configuration, and the ridge.

Usage::

    python studies/study_regressor.py --seeds 0 1 2 3 --scalings global perseq
    python studies/study_regressor.py --sets m1win uschange ipdtail --configs defaults --extra '{"alpha": 0.01}'

Two further tasks are built from other offline real data, to check a default
where the target is predictable (see ``BUILT``): ``m1win`` (M1 yearly
windows, next year's growth), ``uschange`` (US quarterly changes, next
quarter's consumption) and ``ipdtail`` (ItalyPowerDemand, a day's last hour
from its first twenty).
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
from _quality_common import REGRESSION as SETS  # noqa: E402  (puts the repository's skrnn first)
from _quality_common import load_regression as load  # noqa: E402

from skrnn import RNNRegressor, SequenceScaler  # noqa: E402


def _m1_windows():
    """Sequence regression built from M1 yearly (aeon, offline): every window
    of 8 consecutive years of a series' history (its last 6 years, the
    forecasting benchmark's test, dropped), read as log ratios to the
    window's last value; the target is the log ratio of the next year to
    that value. Series are split 70/30 at random (fixed seed), so no series
    is in both splits."""
    from aeon.datasets import load_forecasting

    frame = load_forecasting("m1_yearly_dataset")
    series = [np.asarray(v, dtype=float)[:-6] for v in frame["series_value"]]
    test = set(np.random.RandomState(0).permutation(len(series))[: int(0.3 * len(series))])
    parts = {True: ([], []), False: ([], [])}
    for i, v in enumerate(series):
        z = np.log(np.maximum(v, 1e-9))
        for t in range(8, len(z)):
            parts[i in test][0].append((z[t - 8:t] - z[t - 1])[:, None])
            parts[i in test][1].append(z[t] - z[t - 1])
    (Xtr, ytr), (Xte, yte) = ((np.array(parts[k][0]), np.array(parts[k][1])) for k in (False, True))
    return Xtr, ytr, Xte, yte


def _uschange():
    """Sequence regression built from aeon's Uschange (quarterly US changes in
    consumption, income, production, savings, unemployment, 187 quarters):
    8 quarters of the five series -> the next quarter's consumption change;
    the first 70 % of the windows train, the rest test (in time order)."""
    from aeon.datasets import load_uschange

    u = np.asarray(load_uschange(), dtype=float).T  # (187, 5)
    X = np.stack([u[t - 8:t] for t in range(8, len(u))])
    y = u[8:, 0]
    cut = int(0.7 * len(X))
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _ipd_tail():
    """Sequence regression built from aeon's ItalyPowerDemand (daily power
    demand profiles, 24 hourly steps, each day z-scored by the archive; its
    67/1029 split): the first 20 hours of a day -> its last hour."""
    from aeon.datasets import load_italy_power_demand

    out = []
    for split in ("train", "test"):
        X, _ = load_italy_power_demand(split=split)
        X = np.asarray(X, dtype=float)[:, 0, :]
        out += [X[:, :20, None], X[:, 23]]
    return tuple(out)


#: regression tasks built here from other offline data (not aeon's regression archive)
BUILT = {"m1win": _m1_windows, "uschange": _uschange, "ipdtail": _ipd_tail}
SETS = {**SETS, **{k: k for k in BUILT}}
CLF = dict(cell="gru", bidirectional=True, pooling="max", hidden_size=128,
           learning_rate_init=3e-3, lr_schedule="cosine", batch_size=16)
BLOCKS = dict(conv_channels=[64, 64, 64], conv_kernel_sizes=[7, 5, 3])
CONFIGS = {
    "defaults": {},
    "clf": CLF,
    "clf_mean": {**CLF, "pooling": "mean"},
    "clf_last": {**CLF, "pooling": "last"},
    "clf_uni": {**CLF, "bidirectional": False},
    "clf_lstm": {**CLF, "cell": "lstm"},
    "clf_h64": {**CLF, "hidden_size": 64},
    "clf_lr1e-3": {**CLF, "learning_rate_init": 1e-3},
    "clf_constant": {**CLF, "lr_schedule": "constant"},
    "clf_b32": {**CLF, "batch_size": 32},
    "clf_robust": {**CLF, "target_scaling": "robust"},
    "clf_before": {**CLF, **BLOCKS, "conv_mode": "before"},
    "clf_es": {**CLF, "early_stopping": True},
    "clf_robust_es": {**CLF, "target_scaling": "robust", "early_stopping": True},
    "clf_dropout": {**CLF, "num_layers": 2, "dropout": 0.2},
    "clf_h32_es": {**CLF, "hidden_size": 32, "early_stopping": True},
    "clf_h32": {**CLF, "hidden_size": 32},
    "clf_h32_last": {**CLF, "hidden_size": 32, "pooling": "last"},
    "clf_alpha_es": {**CLF, "alpha": 1e-2, "early_stopping": True},
    "clf_es20": {**CLF, "early_stopping": True, "n_iter_no_change": 20},
    "uni_es": {**CLF, "bidirectional": False, "early_stopping": True},
    "clf_beside": {**CLF, **BLOCKS, "conv_mode": "beside"},
}


def per_sequence(X):
    m = X.mean(axis=1, keepdims=True)
    s = X.std(axis=1, keepdims=True)
    return (X - m) / np.where(s > 1e-8, s, 1.0)


def scaled(Xtr, Xte, how):
    if how == "global":
        sc = SequenceScaler().fit(Xtr)
        return sc.transform(Xtr), sc.transform(Xte)
    if how == "perseq":
        return per_sequence(Xtr), per_sequence(Xte)
    return Xtr, Xte


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def ridge(Xtr, ytr, Xte, yte):
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    t = time.perf_counter()
    m = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    m.fit(Xtr.reshape(len(Xtr), -1), ytr)
    return rmse(m.predict(Xte.reshape(len(Xte), -1)), yte), time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    p.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--scalings", nargs="+", default=["global"],
                   choices=["global", "perseq", "none"])
    p.add_argument("--extra", type=json.loads, default=None,
                   help="JSON dict of a further configuration, named 'extra'")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.extra is not None:
        CONFIGS["extra"] = args.extra
        args.configs.append("extra")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; seeds {args.seeds}",
          flush=True)
    res, base = {}, {}
    cols = [(c, s) for c in args.configs for s in args.scalings]
    for name in args.sets:
        Xtr, ytr, Xte, yte = BUILT[name]() if name in BUILT else load(name)
        base[name] = ridge(Xtr, ytr, Xte, yte)
        print(f"{name}: ridge on the raw values RMSE {base[name][0]:.4f}; "
              f"y std {yte.std():.4f}", flush=True)
        for how in args.scalings:
            Str, Ste = scaled(Xtr, Xte, how)
            for seed in args.seeds:
                for c in args.configs:
                    est = RNNRegressor(random_state=seed, **CONFIGS[c])
                    t = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        est.fit(Str, ytr)
                    dt = time.perf_counter() - t
                    r = rmse(est.predict(Ste), yte)
                    res.setdefault((name, c, how), []).append((r, dt, est.n_iter_))
                    print(f"{name} {how} seed {seed} {c}: rmse {r:.4f} fit {dt:.1f} s "
                          f"{est.n_iter_} ep", flush=True)
    print("\n| configuration | " + " | ".join(args.sets) + " |")
    print("|---" * (len(args.sets) + 1) + "|")
    print("| ridge (raw values) | " + " | ".join(f"{base[n][0]:.4f}" for n in args.sets) + " |")
    for c, how in cols:
        cells = []
        for n in args.sets:
            a = np.array(res[(n, c, how)], float)
            cells.append(f"{np.median(a[:, 0]):.4f} ({a[:, 0].mean():.4f} ± {a[:, 0].std():.4f};"
                         f" {a[:, 1].mean():.1f} s, {a[:, 2].mean():.0f} ep)")
        print(f"| {c} ({how}) | " + " | ".join(cells) + " |")
    print(f"\ncells: median test RMSE over seeds {args.seeds} (mean ± std; mean fit seconds "
          "on one thread, mean epochs); configurations: " + json.dumps(
              {c: CONFIGS[c] for c in args.configs}))


if __name__ == "__main__":
    main()
