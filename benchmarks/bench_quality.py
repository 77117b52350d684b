"""Quality benchmark: what a user gets from skrnn, side by side with what
they could write or pick instead.

For every data set and seed, in one run:

(a) ``RNNClassifier(random_state=seed)``: skrnn's defaults, nothing else
    (every set as it comes, ACSF1 raw: the default ``conv_channels='auto'``
    builds the convolutional front end from 128 steps).
(b) ``RNNClassifier(**RECOMMENDED, random_state=seed)``: the configuration
    the README recommends (BiGRU 128, max pooling, lr 3e-3 with
    ``lr_schedule='cosine'`` (5 % warm-up), batch 16, 150 epochs run to the
    end; edit ``RECOMMENDED`` below or pass ``--recommended '<json>'``). Keys
    the installed estimator does not accept are dropped with a note, so the
    script runs on older and newer skrnn alike.
(c) a plain PyTorch loop (``_quality_common.plain_fit``) with the same
    network as (b) -- skrnn's own ``SequenceNet`` -- Adam, clipping 1.0,
    (b)'s learning rate, batch size and ``max_iter`` epochs, and the same learning-rate schedule when
    (b) names one of 'constant', 'cosine', 'onecycle', 'plateau'.
(d) aeon's MiniRocket features + ``RidgeClassifierCV`` (alphas
    ``logspace(-3, 3, 10)``), the usual strong baseline, on every set: ragged
    JapaneseVowels zero-padded to its longest series and digits' 8 rows to
    MiniRocket's minimum of 9 steps, as a user would (skipped cleanly when
    aeon is not installed).
(e) ``RNNClassifier(**FRONT_END)``: the defaults with the convolutional
    front end, ``conv_stride`` per set from ``FRONT_END_LONG`` (ACSF1 read
    raw, the stride in place of patching).

Regression (``--regression``, aeon's Covid3Month and CardanoSentiment, the
published splits; test RMSE): ``RNNRegressor()`` and ``REGRESSOR_BEST`` on
``SequenceScaler``-scaled input, a ridge on the raw values
(``StandardScaler`` + ``RidgeCV``, flattened series) and MiniRocket + ridge.

Data (all shipped offline: aeon's bundled UCR/UEA files, scikit-learn's
digits, a synthetic task): JapaneseVowels (ragged, 12 channels, 270/370),
ItalyPowerDemand (24 steps, 67/1029), ACSF1 (1,460 steps, 10 classes,
100/100; (b) and (c) get it patched: 10 consecutive steps grouped into one
step of 10 features, 146 steps; the others get the raw series), GunPoint
(150 steps, 50/150), ArrowHead (251 steps, 36/175), BasicMotions (6
channels, 100 steps, 40/40), digits read row by row (8 steps x 8 features,
stratified 75/25 split) and the adding problem (2 channels, 200 steps,
1000/1000, label = whether the two marked values sum to more than 1).
Univariate series are z-scored one series at a time (the UCR convention);
JapaneseVowels and BasicMotions are scaled per channel with
``skrnn.SequenceScaler`` fitted on the training split; digits are divided by
16. Every method sees the same arrays.

Printed: test accuracy (regression: RMSE), median and mean ± std over the
seeds, mean fit seconds (one torch thread) and mean epochs run. OSULeaf
(427 steps, 200/242) is among the sets.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_quality.py            # full: 9 + 2 data sets x 3 seeds
    OMP_NUM_THREADS=1 python benchmarks/bench_quality.py --quick    # smoke run (under 5 minutes)
    python benchmarks/bench_quality.py --datasets jv acsf1 --seeds 0 1 2 \\
        --recommended '{"cell": "gru", "bidirectional": true, "pooling": "max"}'
    python benchmarks/bench_quality.py --datasets arrowhead --regression covid \\
        --no-recommended            # defaults, front end, MiniRocket; regression
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _quality_common import (  # noqa: E402
    DATASETS, REGRESSION, load, load_regression, pad_for_minirocket, plain_fit,
)

from skrnn import RNNClassifier, RNNRegressor, SequenceScaler  # noqa: E402  (the worktree's skrnn)

# The configuration the README recommends; keep the two in sync.
RECOMMENDED = {
    "cell": "gru",
    "bidirectional": True,
    "pooling": "max",
    "hidden_size": 128,
    "learning_rate_init": 3e-3,
    "lr_schedule": "cosine",
    "batch_size": 16,
    "max_iter": 150,
    "tol": None,  # no stopping rule: the fixed budget with the schedule
    "conv_channels": None,  # the plain loop's network has no front end
}
PATCH = {"acsf1": 10}
# The convolutional front end (studies/study_front_end.py, results in
# studies/results_front_end.md), added to the defaults in the "skrnn front
# end" column, with the stride measured best per length: 4 on the univariate
# series of 150-430 steps, 20 on ACSF1's raw 1,460 steps (in place of patching).
FRONT_END = {"conv_channels": [64, 64, 64], "conv_kernel_sizes": [7, 5, 3],
             "conv_mode": "before"}
FRONT_END_LONG = {"acsf1": {"conv_stride": 20}, "arrowhead": {"conv_stride": 4},
                  "gunpoint": {"conv_stride": 4}, "osuleaf": {"conv_stride": 4}}
# The regressor's best configuration measured without early stopping
# (studies/study_regressor.py: "clf_h32"); the defaults pool the last step.
REGRESSOR_BEST = {"cell": "gru", "bidirectional": True, "pooling": "max", "hidden_size": 32,
                  "learning_rate_init": 3e-3, "lr_schedule": "cosine", "batch_size": 16}
NET_KEYS = ("cell", "hidden_size", "num_layers", "bidirectional", "dropout", "pooling")


def _minirocket(name, seed, quick):
    try:
        from aeon.transformations.collection.convolution_based import MiniRocket
    except ImportError:
        return None, "aeon not installed"
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline

    Xtr, ytr, Xte, yte = load(name, adding_n=_adding_n(quick))  # raw length, not patched
    # aeon: (n, channels, T); ragged JapaneseVowels zero-padded to its longest
    # series, digits' 8 rows to MiniRocket's minimum of 9 steps
    Xtr, Xte = pad_for_minirocket(Xtr), pad_for_minirocket(Xte)
    if Xte.shape[2] != Xtr.shape[2]:
        T = max(Xtr.shape[2], Xte.shape[2])
        Xtr, Xte = (np.pad(a, ((0, 0), (0, 0), (0, T - a.shape[2]))) for a in (Xtr, Xte))
    t = time.perf_counter()
    clf = make_pipeline(MiniRocket(random_state=seed, n_jobs=1),
                        RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    threads = torch.get_num_threads()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(Xtr, ytr)
        acc = float((clf.predict(Xte) == yte).mean())
    finally:
        # aeon's numba kernels set the OpenMP thread count (to the machine's
        # cores): the plain loop after this must not inherit it
        torch.set_num_threads(threads)
    return (acc, time.perf_counter() - t, 0), None


def _adding_n(quick):
    return (300, 300) if quick else (1000, 1000)


def _skrnn(params, Xtr, ytr, Xte, yte, seed, cls=RNNClassifier):
    est = cls(random_state=seed)
    known = est.get_params()
    used = {k: v for k, v in params.items() if k in known}
    est.set_params(**used)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(Xtr, ytr)
    dt = time.perf_counter() - t
    return (float(est.score(Xte, yte)), dt, int(est.n_iter_)), sorted(set(params) - set(used))


def _plain(params, Xtr, ytr, Xte, yte, seed):
    d = RNNClassifier().get_params()
    net = {k: params.get(k, d[k]) for k in NET_KEYS}
    sched = params.get("lr_schedule", "constant")
    if sched not in ("constant", "cosine", "onecycle", "plateau"):
        sched = "constant"
    epochs = params.get("max_iter", d["max_iter"])
    t = time.perf_counter()
    _, rec = plain_fit(Xtr, ytr, epochs=epochs, seed=seed, net=net,
                       lr=params.get("learning_rate_init", d["learning_rate_init"]),
                       schedule=sched, batch_size=params.get("batch_size", d["batch_size"]),
                       test=(Xte, yte), eval_every=epochs)
    return (rec["test_acc"][-1], time.perf_counter() - t, epochs), None


def _regression_runs(name, seed, args, cache, only=None):
    """RNNRegressor defaults and best configuration on ``SequenceScaler``-scaled
    input, a ridge on the raw values and MiniRocket + ridge: test RMSE."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name not in cache:
        cache.clear()
        Xtr, ytr, Xte, yte = load_regression(name)
        sc = SequenceScaler().fit(Xtr)
        cache[name] = (Xtr, ytr, Xte, yte, sc.transform(Xtr), sc.transform(Xte))
    Xtr, ytr, Xte, yte, Str, Ste = cache[name]

    def rmse(pred):
        return float(np.sqrt(np.mean((pred - yte) ** 2)))

    def fitted(est, A, B):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(A, ytr)
        return (rmse(est.predict(B)), time.perf_counter() - t,
                int(getattr(est, "n_iter_", 0))), None

    todo = {
        "RNNRegressor defaults": lambda: fitted(RNNRegressor(random_state=seed), Str, Ste),
        "RNNRegressor best": lambda: fitted(
            RNNRegressor(random_state=seed, **REGRESSOR_BEST), Str, Ste),
        "ridge (raw values)": lambda: fitted(
            make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13))),
            Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)),
    }
    runs = {m: f() for m, f in todo.items() if not only or m in only}
    if not args.no_minirocket and (not only or "MiniRocket + ridge" in only):
        try:
            from aeon.transformations.collection.convolution_based import MiniRocket
        except ImportError:
            runs["MiniRocket + ridge"] = (None, "aeon not installed")
        else:
            threads = torch.get_num_threads()
            try:
                runs["MiniRocket + ridge"] = fitted(
                    make_pipeline(MiniRocket(random_state=seed, n_jobs=1),
                                  RidgeCV(alphas=np.logspace(-3, 3, 13))),
                    pad_for_minirocket(Xtr), pad_for_minirocket(Xte))
            finally:
                torch.set_num_threads(threads)
    return runs


def _table(title, names, methods, table, fmt, no_epochs=()):
    print(f"\n| {title} | {' | '.join(methods)} |")
    print("|---" * (len(methods) + 1) + "|")
    for name in names:
        cells = []
        for m in methods:
            rs = table.get((name, m))
            if not rs:
                cells.append("n/a")
                continue
            a = np.array(rs, dtype=float)
            ep = f", {a[:, 2].mean():.0f} ep" if m not in no_epochs else ""
            cells.append(f"{np.median(a[:, 0]):{fmt}} ({a[:, 0].mean():{fmt}} ± "
                         f"{a[:, 0].std():{fmt}}; {a[:, 1].mean():.1f} s{ep})")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 3 small data sets, 1 seed, 20 epochs")
    p.add_argument("--datasets", nargs="*", choices=DATASETS, default=None,
                   help="classification sets (none with an empty list: regression only)")
    p.add_argument("--regression", nargs="*", choices=list(REGRESSION), default=None,
                   help="regression sets (default: all in a full run, none with --quick)")
    p.add_argument("--seeds", nargs="+", type=int, default=None)
    p.add_argument("--recommended", type=json.loads, default=None,
                   help="JSON dict replacing RECOMMENDED")
    p.add_argument("--no-minirocket", action="store_true")
    p.add_argument("--no-recommended", action="store_true",
                   help="skip (b) and (c), the recommended configuration and the plain loop")
    p.add_argument("--minirocket", action="store_true", help="with --quick: run MiniRocket too")
    p.add_argument("--methods", nargs="+", default=None,
                   help="run only these columns (names as printed, e.g. MiniRocket "
                        "'ridge (raw values)')")
    args = p.parse_args()
    torch.set_num_threads(1)
    rec_params = dict(RECOMMENDED if args.recommended is None else args.recommended)
    default_params = {}
    if args.quick:
        # small sets, one seed, 20 epochs, no MiniRocket unless asked (its first
        # call compiles numba kernels for minutes): a smoke run of a few minutes
        datasets = args.datasets or ["ipd", "gunpoint", "basicmotions"]
        regression = args.regression or []
        seeds = args.seeds or [0]
        rec_params.update(max_iter=20)
        default_params = {"max_iter": 20}
        args.no_minirocket = args.no_minirocket or not args.minirocket
    else:
        datasets = args.datasets if args.datasets is not None else list(DATASETS)
        regression = args.regression if args.regression is not None else list(REGRESSION)
        seeds = args.seeds or [0, 1, 2]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; seeds {seeds}")
    print(f"recommended: {json.dumps(rec_params)}")
    print(f"front end: {json.dumps(FRONT_END)}; long series: {json.dumps(FRONT_END_LONG)}")
    print(f"regressor best: {json.dumps(REGRESSOR_BEST)}\n")
    methods = ["skrnn defaults", "skrnn front end", "skrnn recommended",
               "plain torch (same net)", "MiniRocket"]
    if args.no_recommended:
        methods = [m for m in methods if m not in ("skrnn recommended", "plain torch (same net)")]
    if args.methods:
        methods = [m for m in methods if m in args.methods]
    table, notes = {}, set()
    t_all = time.perf_counter()
    for name in datasets:
        Xtr, ytr, Xte, yte = load(name, patch=PATCH.get(name), adding_n=_adding_n(args.quick))
        raw = (Xtr, ytr, Xte, yte) if name not in PATCH else load(
            name, adding_n=_adding_n(args.quick))
        front = {**default_params, **FRONT_END, **FRONT_END_LONG.get(name, {})}
        for seed in seeds:
            todo = {
                "skrnn defaults": lambda: _skrnn(default_params, *raw, seed),
                "skrnn front end": lambda: _skrnn(front, *raw, seed),
                "skrnn recommended": lambda: _skrnn(rec_params, Xtr, ytr, Xte, yte, seed),
                "plain torch (same net)": lambda: _plain(rec_params, Xtr, ytr, Xte, yte, seed),
                "MiniRocket": lambda: _minirocket(name, seed, args.quick),
            }
            runs = {m: todo[m]() for m in methods
                    if m != "MiniRocket" or not args.no_minirocket}
            for m, (res, note) in runs.items():
                if m.startswith("skrnn") and note:
                    notes.add(f"not supported by this skrnn, dropped from {m}: {note}")
                elif note and res is None:
                    notes.add(f"{m} skipped on {name}: {note}")
                if res is not None:
                    table.setdefault((name, m), []).append(res)
            print(name, seed, {m: (round(r[0][0], 3), round(r[0][1], 1), r[0][2])
                               for m, r in runs.items() if r[0] is not None}, flush=True)
    reg_methods = ["RNNRegressor defaults", "RNNRegressor best", "ridge (raw values)",
                   "MiniRocket + ridge"]
    if args.methods and not set(reg_methods) & set(args.methods):
        regression = []  # no regression method asked for
    cache = {}
    for name in regression:
        for seed in seeds:
            runs = _regression_runs(name, seed, args, cache, args.methods)
            for m, (res, note) in runs.items():
                if res is None:
                    notes.add(f"{m} skipped on {name}: {note}")
                else:
                    table.setdefault((name, m), []).append(res)
            print(name, seed, {m: (round(r[0][0], 4), round(r[0][1], 1))
                               for m, r in runs.items() if r[0] is not None}, flush=True)
    total = time.perf_counter() - t_all
    if datasets:
        _table("data set", datasets, methods, table, ".3f", no_epochs=("MiniRocket",))
        print("\ncells: median test accuracy over seeds (mean ± std; mean fit seconds on one "
              "thread, mean epochs run)")
    if regression:
        reg_methods = [m for m in reg_methods if (not args.no_minirocket or "Mini" not in m)
                       and (not args.methods or m in args.methods)]
        _table("regression set", regression, reg_methods, table, ".4f",
               no_epochs=("ridge (raw values)", "MiniRocket + ridge"))
        print("\ncells: median test RMSE over seeds (mean ± std; mean fit seconds on one "
              "thread, mean epochs run)")
    for n in sorted(notes):
        print("note:", n)
    print(f"total time {total:.0f} s")


if __name__ == "__main__":
    main()
