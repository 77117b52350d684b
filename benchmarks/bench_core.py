"""skrnn's RNNClassifier against a plain, hand-written PyTorch loop.

Same network (one-layer LSTM, hidden 64, linear head on the last step), same
optimizer (Adam, lr 1e-3, no gradient clipping), batch size and epochs, on

(a) scikit-learn's digits read row by row: 8 steps x 8 features, fixed
    stratified 75/25 split (``random_state=0``);
(b) JapaneseVowels from aeon (bundled with the package, no download): 12
    channels, 7-29 steps, the standard 270/370 train/test split.

The plain loop is what a careful user writes by hand: the whole data set is
one tensor, zero-padded to the longest sequence (29 steps for
JapaneseVowels), each epoch shuffles it with ``torch.randperm`` and cuts
batches; the head reads each sequence's *true* last step (a gather at
``length - 1``), so its accuracy is not handicapped by reading padding.
skrnn trains on the ragged list as given: it groups sequences of similar
length into batches and never runs over padding.

Timing: runs alternate (plain, skrnn, skrnn, plain, ...) so that load from
other processes hits both. Each run records a time stamp at the start of
every epoch; the reported time per epoch is the median over epochs (the first
epoch, which pays the warm-up, is excluded), in wall-clock and in process CPU
time. skrnn's epoch stamps come from wrapping ``skrnn._engine.train_epoch``,
so everything between two epochs (batching, weight snapshots) is counted.
``total/epoch`` is the whole ``fit`` (data validation and model building
included) divided by the number of epochs. Ratios are skrnn / plain; below 1
means skrnn is faster.

Inference: the test set is resampled with replacement to 10,000 sequences;
``RNNClassifier.predict`` on that ragged list is compared with plain batched
inference (batch 256) on the pre-padded tensor (padding time not counted
for the plain loop), in sequences per second, best of ``--repeats``.

Usage::

    python benchmarks/bench_core.py            # full run (about 10-20 minutes)
    python benchmarks/bench_core.py --quick    # a short smoke run
    python benchmarks/bench_core.py --datasets jv --seeds 0 1 2 --epochs-jv 50
"""

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
import torch
from torch import nn

import skrnn
from skrnn import RNNClassifier
from skrnn import _engine

HIDDEN = 64
LR = 1e-3


# ------------------------------------------------------------------- data
def load_digits_sequences():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X.reshape(-1, 8, 8) / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return X_tr, y_tr, X_te, y_te  # 3-D arrays: fixed length, no padding


def load_japanese_vowels():
    from aeon.datasets import load_japanese_vowels as load

    X_tr, y_tr = load(split="train")
    X_te, y_te = load(split="test")
    # aeon gives (channels, steps) per case; skrnn wants (steps, features)
    X_tr = [np.ascontiguousarray(x.T, dtype=np.float32) for x in X_tr]
    X_te = [np.ascontiguousarray(x.T, dtype=np.float32) for x in X_te]
    classes = np.unique(y_tr)
    return X_tr, np.searchsorted(classes, y_tr), X_te, np.searchsorted(classes, y_te)


def pad_zeros(seqs, length=None):
    """Ragged list -> zero-padded float32 tensor (N, L, F) and lengths (N,)."""
    lengths = np.array([len(s) for s in seqs])
    L = int(lengths.max()) if length is None else length
    out = np.zeros((len(seqs), L, seqs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return torch.from_numpy(out), torch.from_numpy(lengths)


# ------------------------------------------------------------- plain loop
class PlainLSTM(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.lstm = nn.LSTM(n_features, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, n_classes)

    def forward(self, x, lengths):
        out, _ = self.lstm(x)
        last = out[torch.arange(len(x)), lengths - 1]  # each sequence's true last step
        return self.head(last)


def plain_fit(X_tr, y_tr, n_classes, batch_size, epochs, seed):
    """Returns (model, epoch start stamps (wall, cpu), total wall seconds)."""
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    X, lengths = pad_zeros(X_tr)
    y = torch.as_tensor(y_tr, dtype=torch.int64)
    model = PlainLSTM(X.shape[2], n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    stamps = []
    model.train()
    for _ in range(epochs):
        stamps.append((time.perf_counter(), time.process_time()))
        perm = torch.randperm(len(X), generator=g)
        for i in range(0, len(X), batch_size):
            idx = perm[i : i + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(X[idx], lengths[idx]), y[idx])
            loss.backward()
            opt.step()
    stamps.append((time.perf_counter(), time.process_time()))
    return model, stamps, time.perf_counter() - t0


@torch.inference_mode()
def plain_predict(model, X, lengths, batch_size=256):
    model.eval()
    preds = [model(X[i : i + batch_size], lengths[i : i + batch_size]).argmax(1)
             for i in range(0, len(X), batch_size)]
    return torch.cat(preds).numpy()


# ------------------------------------------------------------------ skrnn
class _EpochStamps:
    """Wraps skrnn._engine.train_epoch to stamp the start of every epoch."""

    def __init__(self):
        self.stamps = []
        self._orig = _engine.train_epoch

    def __enter__(self):
        def stamped(*args, **kwargs):
            self.stamps.append((time.perf_counter(), time.process_time()))
            return self._orig(*args, **kwargs)

        _engine.train_epoch = stamped
        return self

    def __exit__(self, *exc):
        _engine.train_epoch = self._orig


def make_skrnn(batch_size, epochs, seed):
    return RNNClassifier(
        cell="lstm", hidden_size=HIDDEN, batch_size=batch_size, max_iter=epochs,
        learning_rate_init=LR, clip_grad_norm=None, shuffle=True, random_state=seed,
        device="cpu",
    )


def skrnn_fit(X_tr, y_tr, batch_size, epochs, seed):
    clf = make_skrnn(batch_size, epochs, seed)
    with _EpochStamps() as rec, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: fixed epochs on purpose
        t0 = time.perf_counter()
        clf.fit(X_tr, y_tr)
        total = time.perf_counter() - t0
    rec.stamps.append((time.perf_counter(), time.process_time()))
    return clf, rec.stamps, total


# ---------------------------------------------------------------- measure
def epoch_times(stamps):
    """Median wall and CPU seconds per epoch, first epoch excluded."""
    wall = np.diff([s[0] for s in stamps])
    cpu = np.diff([s[1] for s in stamps])
    if len(wall) > 1:
        wall, cpu = wall[1:], cpu[1:]
    return float(np.median(wall)), float(np.median(cpu))


def bench_training(name, data, batch_size, epochs, seeds):
    X_tr, y_tr, X_te, y_te = data
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    X_te_pad, len_te = pad_zeros(X_te, max(max(map(len, X_tr)), max(map(len, X_te))))
    # warm-up (allocator, lazy init), not recorded
    plain_fit(X_tr, y_tr, n_classes, batch_size, 2, 0)
    skrnn_fit(X_tr, y_tr, batch_size, 2, 0)
    rows = {"plain": [], "skrnn": []}
    for k, seed in enumerate(seeds):
        order = ("plain", "skrnn") if k % 2 == 0 else ("skrnn", "plain")
        for who in order:
            if who == "plain":
                model, stamps, total = plain_fit(X_tr, y_tr, n_classes, batch_size, epochs, seed)
                acc = float(np.mean(plain_predict(model, X_te_pad, len_te) == y_te))
            else:
                clf, stamps, total = skrnn_fit(X_tr, y_tr, batch_size, epochs, seed)
                acc = float(clf.score(X_te, y_te))
            wall, cpu = epoch_times(stamps)
            rows[who].append({"wall": wall, "cpu": cpu, "total": total / epochs, "acc": acc})
            print(f"  [{name}] seed {seed} {who:5s}: {wall * 1e3:7.1f} ms/epoch wall, "
                  f"{cpu * 1e3:7.1f} ms cpu, acc {acc:.4f}", flush=True)
    return rows


def bench_predict(data, batch_size, epochs, n=10_000, repeats=5, seed=0):
    X_tr, y_tr, X_te, y_te = data
    n_classes = int(y_tr.max()) + 1
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(X_te), n)
    X_big = [X_te[i] for i in pick]
    y_big = y_te[pick]
    X_pad, lengths = pad_zeros(X_big, max(len(s) for s in X_tr + X_te))
    model, _, _ = plain_fit(X_tr, y_tr, n_classes, batch_size, epochs, seed)
    clf, _, _ = skrnn_fit(X_tr, y_tr, batch_size, epochs, seed)
    t_plain, t_skrnn = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        p_plain = plain_predict(model, X_pad, lengths)
        t_plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        p_skrnn = clf.predict(X_big)
        t_skrnn.append(time.perf_counter() - t0)
    return {
        "plain": n / min(t_plain), "skrnn": n / min(t_skrnn),
        "acc_plain": float(np.mean(p_plain == y_big)), "acc_skrnn": float(np.mean(p_skrnn == y_big)),
    }


# ----------------------------------------------------------------- report
def _med(rows, key):
    return statistics.median(r[key] for r in rows)


def training_table(results):
    lines = [
        "| data set | epochs x batch | plain ms/epoch (wall / cpu) | skrnn ms/epoch (wall / cpu) "
        "| ratio wall / cpu | total/epoch ratio | plain acc | skrnn acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (rows, epochs, batch) in results.items():
        p, s = rows["plain"], rows["skrnn"]
        pa, sa = [r["acc"] for r in p], [r["acc"] for r in s]
        sd = lambda a: np.std(a, ddof=1) if len(a) > 1 else 0.0  # noqa: E731
        # ratio of the medians over seeds (runs were interleaved)
        lines.append(
            f"| {name} | {epochs} x {batch} "
            f"| {_med(p, 'wall') * 1e3:.1f} / {_med(p, 'cpu') * 1e3:.1f} "
            f"| {_med(s, 'wall') * 1e3:.1f} / {_med(s, 'cpu') * 1e3:.1f} "
            f"| **{_med(s, 'wall') / _med(p, 'wall'):.2f}** / {_med(s, 'cpu') / _med(p, 'cpu'):.2f} "
            f"| {_med(s, 'total') / _med(p, 'total'):.2f} "
            f"| {np.mean(pa):.4f} ± {sd(pa):.4f} | {np.mean(sa):.4f} ± {sd(sa):.4f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few epochs and seeds: a smoke run")
    ap.add_argument("--datasets", nargs="+", default=["digits", "jv"], choices=["digits", "jv"])
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--epochs-digits", type=int, default=None)
    ap.add_argument("--epochs-jv", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5, help="predict timing repeats (best of)")
    ap.add_argument("--no-predict", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads (default 1: steadier on a shared machine)")
    args = ap.parse_args(argv)
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2, 3, 4])
    ep_digits = args.epochs_digits or (3 if args.quick else 20)
    ep_jv = args.epochs_jv or (5 if args.quick else 50)
    torch.set_num_threads(args.threads)

    load_before = os.getloadavg()
    print(f"skrnn {getattr(skrnn, '__version__', '?')}, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"torch threads {torch.get_num_threads()}, seeds {seeds}", flush=True)
    results = {}
    if "digits" in args.datasets:
        rows = bench_training("digits", load_digits_sequences(), args.batch_size, ep_digits, seeds)
        results["digits 8x8"] = (rows, ep_digits, args.batch_size)
    jv = None
    if "jv" in args.datasets:
        jv = load_japanese_vowels()
        rows = bench_training("JapaneseVowels", jv, args.batch_size, ep_jv, seeds)
        results["JapaneseVowels"] = (rows, ep_jv, args.batch_size)
    pred = None
    if jv is not None and not args.no_predict:
        pred = bench_predict(jv, args.batch_size, ep_jv, repeats=args.repeats)
    load_after = os.getloadavg()

    print()
    print("### Training: time per epoch (median over epochs, first excluded; median over seeds) "
          "and test accuracy (mean ± sd over seeds)")
    print()
    print(training_table(results))
    if pred is not None:
        print()
        print("### Inference: JapaneseVowels test set resampled to 10,000 sequences "
              f"(best of {args.repeats})")
        print()
        print("| | plain (batch 256, pre-padded) | skrnn predict (ragged list) | ratio |")
        print("|---|---|---|---|")
        print(f"| sequences/s | {pred['plain']:,.0f} | {pred['skrnn']:,.0f} "
              f"| **{pred['skrnn'] / pred['plain']:.2f}** |")
    print()
    print("load average (1, 5, 15 min): before "
          + ", ".join(f"{x:.2f}" for x in load_before) + "; after "
          + ", ".join(f"{x:.2f}" for x in load_after))


if __name__ == "__main__":
    main()
