"""Quality benchmark: what a user gets from skrnn, side by side with what
they could write or pick instead.

For every data set and seed, in one run:

(a) ``RNNClassifier(random_state=seed)``: skrnn's defaults, nothing else.
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
    ``logspace(-3, 3, 10)``), the usual strong baseline, on equal-length data
    of at least 9 steps (skipped for JapaneseVowels and digits, and skipped
    cleanly when aeon is not installed).

Data (all shipped offline: aeon's bundled UCR/UEA files, scikit-learn's
digits, a synthetic task): JapaneseVowels (ragged, 12 channels, 270/370),
ItalyPowerDemand (24 steps, 67/1029), ACSF1 (1,460 steps, 10 classes,
100/100; the RNNs get it patched: 10 consecutive steps grouped into one step
of 10 features, 146 steps; MiniRocket gets the raw series), GunPoint
(150 steps, 50/150), ArrowHead (251 steps, 36/175), BasicMotions (6
channels, 100 steps, 40/40), digits read row by row (8 steps x 8 features,
stratified 75/25 split) and the adding problem (2 channels, 200 steps,
1000/1000, label = whether the two marked values sum to more than 1).
Univariate series are z-scored one series at a time (the UCR convention);
JapaneseVowels and BasicMotions are scaled per channel with
``skrnn.SequenceScaler`` fitted on the training split; digits are divided by
16. Every method sees the same arrays.

Printed: test accuracy mean ± std over the seeds, mean fit seconds (one
torch thread) and mean epochs run.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_quality.py            # full: 8 data sets x 3 seeds
    OMP_NUM_THREADS=1 python benchmarks/bench_quality.py --quick    # smoke run (under 5 minutes)
    python benchmarks/bench_quality.py --datasets jv acsf1 --seeds 0 1 2 \\
        --recommended '{"cell": "gru", "bidirectional": true, "pooling": "max"}'
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
from _quality_common import DATASETS, load, plain_fit  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402  (the worktree's skrnn, see _quality_common)

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
}
PATCH = {"acsf1": 10}
NET_KEYS = ("cell", "hidden_size", "num_layers", "bidirectional", "dropout", "pooling")


def _minirocket(name, seed, quick):
    try:
        from aeon.transformations.collection.convolution_based import MiniRocket
    except ImportError:
        return None, "aeon not installed"
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline

    if name in ("jv", "digits"):
        return None, "unequal length / < 9 steps"
    Xtr, ytr, Xte, yte = load(name, adding_n=_adding_n(quick))  # raw length, not patched
    Xtr, Xte = Xtr.transpose(0, 2, 1), Xte.transpose(0, 2, 1)  # aeon: (n, channels, T)
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


def _skrnn(params, Xtr, ytr, Xte, yte, seed):
    est = RNNClassifier(random_state=seed)
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


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 3 small data sets, 1 seed, 20 epochs")
    p.add_argument("--datasets", nargs="+", choices=DATASETS, default=None)
    p.add_argument("--seeds", nargs="+", type=int, default=None)
    p.add_argument("--recommended", type=json.loads, default=None,
                   help="JSON dict replacing RECOMMENDED")
    p.add_argument("--no-minirocket", action="store_true")
    p.add_argument("--minirocket", action="store_true", help="with --quick: run MiniRocket too")
    args = p.parse_args()
    torch.set_num_threads(1)
    rec_params = dict(RECOMMENDED if args.recommended is None else args.recommended)
    default_params = {}
    if args.quick:
        # small sets, one seed, 20 epochs, no MiniRocket unless asked (its first
        # call compiles numba kernels for minutes): a smoke run of a few minutes
        datasets = args.datasets or ["ipd", "gunpoint", "basicmotions"]
        seeds = args.seeds or [0]
        rec_params.update(max_iter=20)
        default_params = {"max_iter": 20}
        args.no_minirocket = args.no_minirocket or not args.minirocket
    else:
        datasets = args.datasets or list(DATASETS)
        seeds = args.seeds or [0, 1, 2]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; seeds {seeds}")
    print(f"recommended: {json.dumps(rec_params)}\n")
    methods = ["skrnn defaults", "skrnn recommended", "plain torch (same net)", "MiniRocket"]
    table, notes = {}, set()
    t_all = time.perf_counter()
    for name in datasets:
        Xtr, ytr, Xte, yte = load(name, patch=PATCH.get(name), adding_n=_adding_n(args.quick))
        for seed in seeds:
            runs = {
                methods[0]: _skrnn(default_params, Xtr, ytr, Xte, yte, seed),
                methods[1]: _skrnn(rec_params, Xtr, ytr, Xte, yte, seed),
                methods[2]: _plain(rec_params, Xtr, ytr, Xte, yte, seed),
            }
            if not args.no_minirocket:
                runs[methods[3]] = _minirocket(name, seed, args.quick)
            for m, (res, note) in runs.items():
                if m == methods[1] and note:
                    notes.add(f"not supported by this skrnn, dropped from (b): {note}")
                elif note and res is None:
                    notes.add(f"{m} skipped on {name}: {note}")
                if res is not None:
                    table.setdefault((name, m), []).append(res)
            print(name, seed, {m: (round(r[0][0], 3), round(r[0][1], 1), r[0][2])
                               for m, r in runs.items() if r[0] is not None}, flush=True)
    total = time.perf_counter() - t_all
    print(f"\n| data set | {' | '.join(methods)} |")
    print("|---" * (len(methods) + 1) + "|")
    for name in datasets:
        cells = []
        for m in methods:
            rs = table.get((name, m))
            if not rs:
                cells.append("n/a")
                continue
            a = np.array(rs, dtype=float)
            ep = f", {a[:, 2].mean():.0f} ep" if m != "MiniRocket" else ""
            cells.append(f"{a[:, 0].mean():.3f} ± {a[:, 0].std():.3f} ({a[:, 1].mean():.1f} s{ep})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\ncells: test accuracy mean ± std over seeds (mean fit seconds, mean epochs run)")
    for n in sorted(notes):
        print("note:", n)
    print(f"total time {total:.0f} s")


if __name__ == "__main__":
    main()
