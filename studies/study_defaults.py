"""Measurement study behind skrnn's training defaults (stopping rule, early
stopping, cell, direction, pooling, hidden size, learning rate, schedule).

Every fit is the plain PyTorch loop of ``_quality_common.plain_fit``: skrnn's
own ``SequenceNet`` (the estimator's network), Adam, clipping at 1.0,
batch 32, a fixed number of epochs, curves recorded per epoch. Stopping rules
are then *replayed* on the recorded curves (the rule only decides where to
cut a curve, so one 100-epoch fit answers every rule).

Experiments (``--exp``):

``stop``   default network (LSTM 64, last step, lr 1e-3, constant), 100
           epochs; replays the current rule (tol=1e-4, n_iter_no_change=10
           on the training loss) and candidates; reports the stop epoch, the
           training loss at the stop relative to the constant predictor's
           (class-prior cross-entropy, ``L/L0``) and the test accuracy there.
``es``     early stopping on a held-out split (stratified), 100 epochs;
           replays patience 10/20 on validation loss vs validation accuracy,
           best weights restored (the test accuracy at the best epoch),
           for several split sizes.
``grid``   one factor at a time around the default network and a few
           combinations, fixed budget (``--epochs``), test accuracy at the end.

Usage (one torch thread)::

    OMP_NUM_THREADS=1 python studies/study_defaults.py --exp stop
    OMP_NUM_THREADS=1 python studies/study_defaults.py --exp es
    OMP_NUM_THREADS=1 python studies/study_defaults.py --exp grid --epochs 80
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
from _quality_common import load, plain_fit, prior_loss, replay_stop  # noqa: E402

PATCH = {"acsf1": 10}


def _data(name):
    if name == "acsf1raw":
        return load("acsf1")
    return load(name, patch=PATCH.get(name))


def _fmt(xs, digits=3):
    xs = np.asarray(xs, float)
    return f"{xs.mean():.{digits}f} ± {xs.std():.{digits}f}"


STOP_RULES = {
    "current: tol 1e-4, n 10": dict(tol=1e-4, n_iter_no_change=10),
    "n 20": dict(tol=1e-4, n_iter_no_change=20),
    "n 30": dict(tol=1e-4, n_iter_no_change=30),
    "relative tol 1e-3, n 10": dict(tol=1e-3, n_iter_no_change=10, relative=True),
    "floor 0.95 L0, n 10": dict(tol=1e-4, n_iter_no_change=10, floor=0.95),
    "floor 0.90 L0, n 10": dict(tol=1e-4, n_iter_no_change=10, floor=0.90),
    "floor 0.90 L0, n 20": dict(tol=1e-4, n_iter_no_change=20, floor=0.90),
    "never (max_iter)": None,
}


def exp_stop(args):
    rows = []
    for name in args.datasets:
        Xtr, ytr, Xte, yte = _data(name)
        L0 = prior_loss(ytr)
        for seed in args.seeds:
            t = time.perf_counter()
            _, rec = plain_fit(Xtr, ytr, epochs=args.epochs, seed=seed, test=(Xte, yte))
            dt = time.perf_counter() - t
            for rule, kw in STOP_RULES.items():
                if kw is None:
                    ep = len(rec["loss"])
                else:
                    kw = dict(kw)
                    if "floor" in kw:
                        kw["floor"] = kw["floor"] * L0
                    ep = replay_stop(rec["loss"], **kw)
                rows.append(dict(data=name, seed=seed, rule=rule, epoch=ep,
                                 ratio=rec["loss"][ep - 1] / L0,
                                 acc=rec["test_acc"][ep - 1], fit_s=dt))
            print(name, seed, f"{dt:.1f}s", "final", round(rec["test_acc"][-1], 3),
                  "loss/L0 first-last", round(rec["loss"][0] / L0, 3),
                  round(rec["loss"][-1] / L0, 3), flush=True)
    _dump(args, rows)
    print(f"\n### Stopping rules on the training loss ({args.epochs} epochs max)\n")
    print("stop epoch / L/L0 at the stop / test accuracy at the stop; "
          "`plateau` = seeds stopped with L/L0 > 0.9\n")
    names = list(dict.fromkeys(r["data"] for r in rows))
    print("| rule | " + " | ".join(names) + " | plateau stops |")
    print("|---" * (len(names) + 2) + "|")
    for rule in STOP_RULES:
        cells, plateau, total = [], 0, 0
        for nm in names:
            rs = [r for r in rows if r["data"] == nm and r["rule"] == rule]
            plateau += sum(r["ratio"] > 0.9 for r in rs)
            total += len(rs)
            cells.append(f"{np.mean([r['epoch'] for r in rs]):.0f} / "
                         f"{np.mean([r['ratio'] for r in rs]):.2f} / {_fmt([r['acc'] for r in rs], 2)}")
        print(f"| {rule} | " + " | ".join(cells) + f" | {plateau}/{total} |")


def _split(y, n_val, seed):
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(len(y)), test_size=n_val, random_state=seed, stratify=y)


SPLITS = {
    "10%": lambda n, k: max(math.ceil(0.1 * n), k),
    "20%": lambda n, k: max(math.ceil(0.2 * n), k),
    "max(10%, 30) <= n/3": lambda n, k: max(k, min(max(math.ceil(0.1 * n), 30), n // 3)),
}


def exp_es(args):
    rows = []
    for name in args.datasets:
        Xtr, ytr, Xte, yte = _data(name)
        K = int(ytr.max()) + 1
        for split, f in SPLITS.items():
            n_val = f(len(ytr), K)
            for seed in args.seeds:
                tr, va = _split(ytr, n_val, seed)
                sub = (lambda X, i: [X[j] for j in i]) if isinstance(Xtr, list) else (
                    lambda X, i: X[i])
                _, rec = plain_fit(sub(Xtr, tr), ytr[tr], epochs=args.epochs, seed=seed,
                                   val=(sub(Xtr, va), ytr[va]), test=(Xte, yte))
                final = rec["test_acc"][-1]
                for mon, curve, mode in (("val loss", rec["val_loss"], "min"),
                                         ("val acc", rec["val_acc"], "max")):
                    for pat in (10, 20):
                        ep = replay_stop(curve, tol=1e-4, n_iter_no_change=pat, mode=mode)
                        seen = curve[:ep]
                        best = int(np.argmin(seen) if mode == "min" else np.argmax(seen))
                        rows.append(dict(data=name, split=split, n_val=n_val, seed=seed,
                                         monitor=f"{mon}, patience {pat}", stop=ep,
                                         acc=rec["test_acc"][best], final=final))
                print(name, split, n_val, seed, "final(no ES, less data)", round(final, 3),
                      flush=True)
    _dump(args, rows)
    print(f"\n### Early stopping on a validation split ({args.epochs} epochs max, best weights restored)\n")
    print("cells: test accuracy mean ± std (stop epoch); last row: the same split, "
          "no early stopping, all epochs\n")
    names = list(dict.fromkeys(r["data"] for r in rows))
    for split in SPLITS:
        nv = {nm: next(r["n_val"] for r in rows if r["data"] == nm and r["split"] == split)
              for nm in names}
        print(f"\nsplit {split}: n_val " + ", ".join(f"{k}={v}" for k, v in nv.items()) + "\n")
        print("| monitor | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        mons = list(dict.fromkeys(r["monitor"] for r in rows))
        for mon in mons:
            cells = []
            for nm in names:
                rs = [r for r in rows if r["data"] == nm and r["split"] == split and r["monitor"] == mon]
                cells.append(f"{_fmt([r['acc'] for r in rs], 2)} ({np.mean([r['stop'] for r in rs]):.0f})")
            print(f"| {mon} | " + " | ".join(cells) + " |")
        cells = []
        for nm in names:
            rs = [r for r in rows if r["data"] == nm and r["split"] == split and r["monitor"] == mons[0]]
            cells.append(_fmt([r["final"] for r in rs], 2))
        print("| no early stopping | " + " | ".join(cells) + " |")


GRID = {
    "default (lstm 64 uni last, 1e-3, constant)": dict(),
    "cell gru": dict(net=dict(cell="gru")),
    "bidirectional": dict(net=dict(bidirectional=True)),
    "pooling mean": dict(net=dict(pooling="mean")),
    "pooling max": dict(net=dict(pooling="max")),
    "hidden 32": dict(net=dict(hidden_size=32)),
    "hidden 128": dict(net=dict(hidden_size=128)),
    "lr 3e-3": dict(lr=3e-3),
    "lr 1e-2": dict(lr=1e-2),
    "cosine (5% warm-up)": dict(schedule="cosine"),
    "onecycle": dict(schedule="onecycle"),
    "plateau (x0.5, patience 5)": dict(schedule="plateau"),
    "gru bi max 64, 3e-3 cosine": dict(net=dict(cell="gru", bidirectional=True, pooling="max"),
                                      lr=3e-3, schedule="cosine"),
    "gru bi max 64, 3e-3 onecycle": dict(net=dict(cell="gru", bidirectional=True, pooling="max"),
                                        lr=3e-3, schedule="onecycle"),
    "gru uni max 64, 3e-3 cosine": dict(net=dict(cell="gru", pooling="max"), lr=3e-3,
                                       schedule="cosine"),
    "lstm bi max 64, 3e-3 cosine": dict(net=dict(bidirectional=True, pooling="max"),
                                       lr=3e-3, schedule="cosine"),
    "gru bi mean 64, 3e-3 cosine": dict(net=dict(cell="gru", bidirectional=True, pooling="mean"),
                                       lr=3e-3, schedule="cosine"),
    "gru bi last 64, 3e-3 cosine": dict(net=dict(cell="gru", bidirectional=True), lr=3e-3,
                                       schedule="cosine"),
    "gru bi max 64, 3e-3 constant": dict(net=dict(cell="gru", bidirectional=True, pooling="max"),
                                        lr=3e-3),
    # candidates for the recommended configuration (JapaneseVowels target)
    "gru bi max 128, 3e-3 cosine": dict(net=dict(cell="gru", hidden_size=128, bidirectional=True,
                                                 pooling="max"), lr=3e-3, schedule="cosine"),
    "lstm bi max 128, 3e-3 cosine": dict(net=dict(hidden_size=128, bidirectional=True,
                                                  pooling="max"), lr=3e-3, schedule="cosine"),
    "gru bi max 128, 1e-3 cosine": dict(net=dict(cell="gru", hidden_size=128, bidirectional=True,
                                                 pooling="max"), lr=1e-3, schedule="cosine"),
    "gru bi max 128, 3e-3 cosine, batch 16": dict(net=dict(cell="gru", hidden_size=128,
                                                           bidirectional=True, pooling="max"),
                                                  lr=3e-3, schedule="cosine", batch_size=16),
    "gru bi max 128 x2 (dropout 0.2), 3e-3 cosine": dict(
        net=dict(cell="gru", hidden_size=128, bidirectional=True, pooling="max", num_layers=2,
                 dropout=0.2), lr=3e-3, schedule="cosine"),
    "gru bi max 128, 3e-3 onecycle": dict(net=dict(cell="gru", hidden_size=128, bidirectional=True,
                                                   pooling="max"), lr=3e-3, schedule="onecycle"),
}


def exp_grid(args):
    rows = []
    configs = args.configs or list(GRID)
    for name in args.datasets:
        Xtr, ytr, Xte, yte = _data(name)
        for cfg in configs:
            for seed in args.seeds:
                t = time.perf_counter()
                _, rec = plain_fit(Xtr, ytr, epochs=args.epochs, seed=seed, test=(Xte, yte),
                                   eval_every=args.epochs, **GRID[cfg])
                rows.append(dict(data=name, config=cfg, seed=seed, acc=rec["test_acc"][-1],
                                 ratio=rec["loss"][-1] / prior_loss(ytr),
                                 fit_s=time.perf_counter() - t))
            rs = rows[-len(args.seeds):]
            print(name, cfg, _fmt([r["acc"] for r in rs]), f"{np.mean([r['fit_s'] for r in rs]):.1f}s",
                  flush=True)
    _dump(args, rows)
    names = list(dict.fromkeys(r["data"] for r in rows))
    print(f"\n### Architecture / optimisation grid ({args.epochs} epochs, plain loop, "
          f"seeds {args.seeds})\n")
    print("| config | " + " | ".join(names) + " | mean | s/fit |")
    print("|---" * (len(names) + 3) + "|")
    for cfg in configs:
        cells, means = [], []
        for nm in names:
            rs = [r["acc"] for r in rows if r["data"] == nm and r["config"] == cfg]
            cells.append(_fmt(rs, 3))
            means.append(np.mean(rs))
        t = np.mean([r["fit_s"] for r in rows if r["config"] == cfg])
        print(f"| {cfg} | " + " | ".join(cells) + f" | {np.mean(means):.3f} | {t:.1f} |")


def _dump(args, rows):
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(rows, f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", choices=("stop", "es", "grid"), required=True)
    p.add_argument("--datasets", nargs="+", default=["jv", "ipd", "acsf1", "gunpoint", "digits"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--configs", nargs="+", default=None, help="names from GRID")
    p.add_argument("--out", default=None, help="JSON file for the raw rows")
    args = p.parse_args()
    torch.set_num_threads(1)
    {"stop": exp_stop, "es": exp_es, "grid": exp_grid}[args.exp](args)


if __name__ == "__main__":
    main()
