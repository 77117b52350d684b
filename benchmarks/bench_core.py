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

Timing: the two run in lockstep, one plain epoch then one skrnn epoch, so
load from other processes hits both alike (the machine may be shared). skrnn
epochs are stamped by wrapping ``skrnn._train.engine.train_epoch``; an skrnn epoch
runs from its start to the start of the next one, so the work between epochs
(batching, weight snapshots) is counted. The reported time per epoch is the
median over all epochs of all seeds (each run's first epoch, which pays the
warm-up, excluded), in wall-clock and in process CPU time (one torch thread
by default). ``total/epochs`` is the whole ``fit`` (data validation and model
building included) divided by the number of epochs. Ratios are skrnn /
plain; below 1 means skrnn is faster.

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
import time
import warnings

import numpy as np
import torch
from torch import nn

import skrnn
from skrnn import RNNClassifier
from skrnn._train import engine as _engine

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


def _now():
    return time.perf_counter(), time.process_time()


class PlainLoop:
    """The hand-written training loop, one epoch per call of :meth:`epoch`."""

    def __init__(self, X_tr, y_tr, n_classes, batch_size, seed):
        w0, c0 = _now()
        torch.manual_seed(seed)
        self.g = torch.Generator().manual_seed(seed)
        self.X, self.lengths = pad_zeros(X_tr)  # all data padded to the longest sequence
        self.y = torch.as_tensor(y_tr, dtype=torch.int64)
        self.model = PlainLSTM(self.X.shape[2], n_classes)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.loss_fn = nn.CrossEntropyLoss()
        self.batch_size = batch_size
        w1, c1 = _now()
        self.setup = (w1 - w0, c1 - c0)
        self.epochs = []  # (wall, cpu) seconds per epoch

    def epoch(self):
        w0, c0 = _now()
        model, opt, bs = self.model, self.opt, self.batch_size
        model.train()
        perm = torch.randperm(len(self.X), generator=self.g)
        for i in range(0, len(self.X), bs):
            idx = perm[i : i + bs]
            opt.zero_grad()
            loss = self.loss_fn(model(self.X[idx], self.lengths[idx]), self.y[idx])
            loss.backward()
            opt.step()
        w1, c1 = _now()
        self.epochs.append((w1 - w0, c1 - c0))


@torch.inference_mode()
def plain_predict(model, X, lengths, batch_size=256):
    model.eval()
    preds = [model(X[i : i + batch_size], lengths[i : i + batch_size]).argmax(1)
             for i in range(0, len(X), batch_size)]
    return torch.cat(preds).numpy()


# ------------------------------------------------------------------ skrnn
class _Lockstep:
    """Wraps ``skrnn._train.engine.train_epoch``: before each skrnn epoch it runs
    ``between`` (one epoch of the plain loop), then stamps the start of the
    skrnn epoch. skrnn epoch k lasts from its start stamp to the call of
    epoch k + 1 (or the end of ``fit``), so the work between epochs
    (batching, weight snapshots, bookkeeping) is counted."""

    def __init__(self, between=None):
        self.between = between
        self.starts, self.ends = [], []
        self._orig = _engine.train_epoch

    def __enter__(self):
        def stamped(*args, **kwargs):
            self.ends.append(_now())
            if self.between is not None:
                self.between()
            self.starts.append(_now())
            return self._orig(*args, **kwargs)

        _engine.train_epoch = stamped
        return self

    def __exit__(self, *exc):
        self.ends.append(_now())
        _engine.train_epoch = self._orig

    def epochs(self):
        return [(e[0] - s[0], e[1] - s[1]) for s, e in zip(self.starts, self.ends[1:])]


def make_skrnn(batch_size, epochs, seed):
    return RNNClassifier(
        # the plain loop's network: one direction, head on the last real step
        cell="lstm", bidirectional=False, pooling="last", hidden_size=HIDDEN,
        batch_size=batch_size, max_iter=epochs,
        learning_rate_init=LR, lr_schedule="constant", clip_grad_norm=None, shuffle=True,
        random_state=seed,
        device="cpu",
    )


def run_pair(X_tr, y_tr, n_classes, batch_size, epochs, seed):
    """Train the plain loop and RNNClassifier epoch by epoch in lockstep.

    Returns (plain loop, classifier, skrnn epoch times, skrnn total seconds
    per epoch, plain total seconds per epoch); totals are wall-clock and
    include data preparation and model building."""
    plain = PlainLoop(X_tr, y_tr, n_classes, batch_size, seed)
    clf = make_skrnn(batch_size, epochs, seed)
    with _Lockstep(plain.epoch) as rec, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: fixed epochs on purpose
        t0 = time.perf_counter()
        clf.fit(X_tr, y_tr)
        fit_wall = time.perf_counter() - t0
    skrnn_total = (fit_wall - sum(w for w, _ in plain.epochs)) / epochs
    plain_total = (plain.setup[0] + sum(w for w, _ in plain.epochs)) / epochs
    return plain, clf, rec.epochs(), skrnn_total, plain_total


# ---------------------------------------------------------------- measure
def bench_training(name, data, batch_size, epochs, seeds):
    X_tr, y_tr, X_te, y_te = data
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    X_te_pad, len_te = pad_zeros(X_te)
    run_pair(X_tr, y_tr, n_classes, batch_size, 2, 0)  # warm-up, not recorded
    runs = []
    for seed in seeds:
        plain, clf, sk_epochs, sk_total, pl_total = run_pair(
            X_tr, y_tr, n_classes, batch_size, epochs, seed)
        run = {
            # first epoch excluded (warm-up)
            "plain": np.array(plain.epochs[1:] or plain.epochs),
            "skrnn": np.array(sk_epochs[1:] or sk_epochs),
            "plain_total": pl_total, "skrnn_total": sk_total,
            "plain_acc": float(np.mean(plain_predict(plain.model, X_te_pad, len_te) == y_te)),
            "skrnn_acc": float(clf.score(X_te, y_te)),
        }
        runs.append(run)
        p, s = np.median(run["plain"], axis=0) * 1e3, np.median(run["skrnn"], axis=0) * 1e3
        print(f"  [{name}] seed {seed}: ms/epoch wall/cpu plain {p[0]:.1f}/{p[1]:.1f}, "
              f"skrnn {s[0]:.1f}/{s[1]:.1f} (cpu ratio {s[1] / p[1]:.2f}); "
              f"acc plain {run['plain_acc']:.4f}, skrnn {run['skrnn_acc']:.4f}", flush=True)
    return runs


def bench_predict(data, batch_size, epochs, n=10_000, repeats=5, seed=0):
    """Sequences per second (best of ``repeats``, alternating) of plain batched
    inference and of ``predict`` on the same 10,000 sequences in three forms."""
    X_tr, y_tr, X_te, y_te = data
    n_classes = int(y_tr.max()) + 1
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(X_te), n)
    X_big = [X_te[i] for i in pick]
    y_big = y_te[pick]
    X_pad, lengths = pad_zeros(X_big)
    X_nan = X_pad.numpy().copy()
    X_nan[np.arange(X_nan.shape[1]) >= lengths.numpy()[:, None]] = np.nan
    plain, clf, _, _, _ = run_pair(X_tr, y_tr, n_classes, batch_size, epochs, seed)
    ways = {
        "plain": lambda: plain_predict(plain.model, X_pad, lengths),
        "skrnn: ragged list": lambda: clf.predict(X_big),
        "skrnn: NaN-padded 3-D array": lambda: clf.predict(X_nan),
        "skrnn: padded array + sequence_lengths": lambda: clf.predict(
            X_pad.numpy(), sequence_lengths=lengths.numpy()),
    }
    times = {k: [] for k in ways}
    preds = {}
    for _ in range(repeats):
        for k, f in ways.items():
            t0 = time.perf_counter()
            preds[k] = f()
            times[k].append(time.perf_counter() - t0)
    same = {k: bool(np.array_equal(preds[k], preds["skrnn: ragged list"])) for k in ways}
    acc = {k: float(np.mean(preds[k] == y_big)) for k in ways}
    return {k: n / min(t) for k, t in times.items()}, acc, same


# ----------------------------------------------------------------- report
def _sd(a):
    return float(np.std(a, ddof=1)) if len(a) > 1 else 0.0


def training_table(results):
    lines = [
        "| data set | epochs x batch | plain ms/epoch wall / cpu | skrnn ms/epoch wall / cpu "
        "| ratio wall / cpu | ratio total/epochs | plain accuracy | skrnn accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (runs, epochs, batch) in results.items():
        # every recorded epoch of every seed, pooled; runs were in lockstep
        p = np.median(np.concatenate([r["plain"] for r in runs]), axis=0)
        s = np.median(np.concatenate([r["skrnn"] for r in runs]), axis=0)
        total = np.median([r["skrnn_total"] for r in runs]) / np.median(
            [r["plain_total"] for r in runs])
        pa, sa = [r["plain_acc"] for r in runs], [r["skrnn_acc"] for r in runs]
        lines.append(
            f"| {name} | {epochs} x {batch} "
            f"| {p[0] * 1e3:.1f} / {p[1] * 1e3:.1f} | {s[0] * 1e3:.1f} / {s[1] * 1e3:.1f} "
            f"| **{s[0] / p[0]:.2f}** / **{s[1] / p[1]:.2f}** | {total:.2f} "
            f"| {np.mean(pa):.4f} ± {_sd(pa):.4f} | {np.mean(sa):.4f} ± {_sd(sa):.4f} |"
        )
    return "\n".join(lines)


def predict_table(rates, acc, same):
    lines = ["| inference | sequences/s | ratio to plain | accuracy |", "|---|---|---|---|"]
    for k, r in rates.items():
        name = "plain loop (batch 256, pre-padded tensor)" if k == "plain" else k
        if k != "plain" and not same[k]:
            name += " (labels differ from the ragged list!)"
        lines.append(f"| {name} | {r:,.0f} | **{r / rates['plain']:.2f}** | {acc[k]:.4f} |")
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
    print(f"### Training (seeds {seeds}): time per epoch, median over epochs (first excluded) "
          "of all seeds; test accuracy, mean ± sd over seeds")
    print()
    print(training_table(results))
    if pred is not None:
        print()
        print("### Inference: JapaneseVowels test set resampled to 10,000 sequences "
              f"(best of {args.repeats}, alternating)")
        print()
        print(predict_table(*pred))
    print()
    print("uptime load average (1, 5, 15 min) on this machine: before "
          + ", ".join(f"{x:.2f}" for x in load_before) + "; after "
          + ", ".join(f"{x:.2f}" for x in load_after))


if __name__ == "__main__":
    main()
