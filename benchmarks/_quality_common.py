"""Shared pieces of ``bench_quality.py`` and ``study_defaults.py``.

* :func:`load` returns one development data set, scaled the same way for
  every method: univariate series z-scored one series at a time (the UCR
  convention), multivariate ones (JapaneseVowels, BasicMotions) scaled per
  channel with :class:`skrnn.SequenceScaler` fitted on the training split.
  ``patch=k`` groups ``k`` consecutive steps into one step of ``k * F``
  features (ACSF1: 1,460 steps -> 146 steps of 10).
* :func:`plain_fit` is the hand-written PyTorch loop: skrnn's own
  ``SequenceNet`` (so the network is exactly the estimator's), Adam,
  gradient clipping at 1.0, batch 32, reshuffled every epoch, with an
  optional learning-rate schedule. It records, per epoch, the training loss,
  the learning rate and (when given) the loss/accuracy on a validation and a
  test set, so stopping rules can be replayed on the curves afterwards.
* :func:`replay_stop` replays a stopping rule on a recorded curve.
"""

import math
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from skrnn._nn.recurrent import SequenceNet  # noqa: E402

DATASETS = ("jv", "ipd", "acsf1", "gunpoint", "arrowhead", "basicmotions", "digits", "adding",
            "osuleaf")
UCR = {"ipd": "ItalyPowerDemand", "acsf1": "ACSF1", "gunpoint": "GunPoint",
       "arrowhead": "ArrowHead", "basicmotions": "BasicMotions", "jv": "JapaneseVowels",
       "osuleaf": "OSULeaf"}


def _z(X):
    """Z-score every (sample, channel) series of an (n, T, F) array."""
    m = X.mean(axis=1, keepdims=True)
    s = X.std(axis=1, keepdims=True)
    return ((X - m) / np.where(s > 1e-8, s, 1.0)).astype(np.float32)


def _patch(X, k):
    n, T, Fe = X.shape
    T2 = T // k
    return np.ascontiguousarray(X[:, : T2 * k].reshape(n, T2, k * Fe))


def adding_problem(n, T, rng):
    """Adding problem (Hochreiter & Schmidhuber): channel 0 uniform values,
    channel 1 marks two steps (one in each half); the target is whether the
    sum of the two marked values exceeds 1 (thresholded, balanced)."""
    v = rng.random((n, T)).astype(np.float32)
    m = np.zeros((n, T), np.float32)
    a = rng.integers(0, T // 2, n)
    b = rng.integers(T // 2, T, n)
    m[np.arange(n), a] = 1
    m[np.arange(n), b] = 1
    y = (v[np.arange(n), a] + v[np.arange(n), b] > 1.0).astype(np.int64)
    return np.stack([v, m], axis=-1), y


def load(name, patch=None, adding_T=200, adding_n=(1000, 1000)):
    """Return ``Xtr, ytr, Xte, yte`` with X as (n, T, F) float32 arrays or,
    for JapaneseVowels, lists of (T_i, 12) arrays; y integer labels 0..K-1."""
    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        d = load_digits()
        X = (d.images / 16.0).astype(np.float32)  # rows as steps: (n, 8, 8)
        Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.25, random_state=0,
                                              stratify=d.target)
        return Xtr, ytr.astype(np.int64), Xte, yte.astype(np.int64)
    if name == "adding":
        rng = np.random.default_rng(12345)
        Xtr, ytr = adding_problem(adding_n[0], adding_T, rng)
        Xte, yte = adding_problem(adding_n[1], adding_T, rng)
        return Xtr, ytr, Xte, yte
    from aeon.datasets import load_classification

    from skrnn import SequenceScaler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xtr, ytr = load_classification(UCR[name], split="train")
        Xte, yte = load_classification(UCR[name], split="test")
    classes = np.unique(ytr)
    ytr = np.searchsorted(classes, ytr).astype(np.int64)
    yte = np.searchsorted(classes, yte).astype(np.int64)
    if name == "jv":
        Xtr = [np.asarray(x, np.float32).T.copy() for x in Xtr]
        Xte = [np.asarray(x, np.float32).T.copy() for x in Xte]
    else:
        Xtr = np.asarray(Xtr, np.float32).transpose(0, 2, 1)
        Xte = np.asarray(Xte, np.float32).transpose(0, 2, 1)
    if name in ("jv", "basicmotions"):
        sc = SequenceScaler().fit(Xtr)
        Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
        if name == "basicmotions":
            Xtr, Xte = np.asarray(Xtr, np.float32), np.asarray(Xte, np.float32)
        else:
            Xtr = [np.asarray(x, np.float32) for x in Xtr]
            Xte = [np.asarray(x, np.float32) for x in Xte]
    else:
        Xtr, Xte = _z(Xtr), _z(Xte)
    if patch and patch > 1:
        Xtr, Xte = _patch(Xtr, patch), _patch(Xte, patch)
    return Xtr, ytr, Xte, yte


def to_padded(X):
    """(n, T, F) array or ragged list -> zero post-padded tensor and lengths."""
    if isinstance(X, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.full(
            (len(X),), X.shape[1], dtype=torch.long)
    lengths = torch.tensor([len(x) for x in X], dtype=torch.long)
    out = torch.zeros(len(X), int(lengths.max()), X[0].shape[1])
    for i, x in enumerate(X):
        out[i, : len(x)] = torch.from_numpy(np.asarray(x, np.float32))
    return out, lengths


def prior_loss(y):
    """Cross-entropy of the constant predictor that outputs the class prior."""
    p = np.bincount(y) / len(y)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


NET_DEFAULTS = dict(cell="lstm", hidden_size=64, bidirectional=False, pooling="last")


def _scheduler(opt, schedule, epochs, steps_per_epoch, lr):
    """Per-step LambdaLR/OneCycle, or ReduceLROnPlateau (stepped per epoch)."""
    total = epochs * steps_per_epoch
    if schedule == "constant":
        return None
    if schedule == "cosine":
        warm = max(1, int(0.05 * total))

        def f(step):
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

        return torch.optim.lr_scheduler.LambdaLR(opt, f)
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total)
    if schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=5)
    raise ValueError(schedule)


def _evaluate(model, X, L, y, batch=512):
    model.eval()
    with torch.inference_mode():
        outs = [model(X[i : i + batch], L[i : i + batch]) for i in range(0, len(X), batch)]
    out = torch.cat(outs)
    loss = float(F.cross_entropy(out, y))
    acc = float((out.argmax(1) == y).float().mean())
    return loss, acc


def plain_fit(Xtr, ytr, *, epochs, seed, lr=1e-3, schedule="constant", net=None,
              batch_size=32, clip=1.0, val=None, test=None, eval_every=1):
    """Train skrnn's SequenceNet by hand; return (model, record dict).

    ``val`` / ``test`` are ``(X, y)`` pairs evaluated every ``eval_every``
    epochs (and at the last epoch).
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = {**NET_DEFAULTS, **(net or {})}
    X, L = to_padded(Xtr)
    y = torch.as_tensor(ytr)
    K = int(max(ytr.max(), (val[1].max() if val else 0), (test[1].max() if test else 0))) + 1
    model = SequenceNet(X.shape[-1], K, **net)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(X)
    steps = math.ceil(n / batch_size)
    sched = _scheduler(opt, schedule, epochs, steps, lr)
    evals = {}
    for nm, pair in (("val", val), ("test", test)):
        if pair is not None:
            Xe, Le = to_padded(pair[0])
            evals[nm] = (Xe, Le, torch.as_tensor(pair[1]))
    rec = {"loss": [], "lr": [], "epoch_eval": []}
    for k in evals:
        rec[k + "_loss"], rec[k + "_acc"] = [], []
    for ep in range(epochs):
        model.train()
        perm = rng.permutation(n)
        tot = 0.0
        rec["lr"].append(opt.param_groups[0]["lr"])
        for i in range(0, n, batch_size):
            idx = torch.from_numpy(perm[i : i + batch_size])
            xb, lb = X[idx], L[idx]
            Lm = int(lb.max())
            out = model(xb[:, :Lm], lb)
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if sched is not None and schedule != "plateau":
                sched.step()
            tot += float(loss.detach()) * len(idx)
        ep_loss = tot / n
        rec["loss"].append(ep_loss)
        if schedule == "plateau":
            sched.step(ep_loss)
        if evals and ((ep + 1) % eval_every == 0 or ep == epochs - 1):
            rec["epoch_eval"].append(ep + 1)
            for k, (Xe, Le, ye) in evals.items():
                lo, ac = _evaluate(model, Xe, Le, ye)
                rec[k + "_loss"].append(lo)
                rec[k + "_acc"].append(ac)
    return model, rec


def replay_stop(curve, *, tol=1e-4, n_iter_no_change=10, relative=False, floor=None,
                mode="min"):
    """Epoch (1-based) at which sklearn's MLP-style rule stops on ``curve``.

    ``floor``: no stop is allowed while the monitored loss is above ``floor``
    (the counter is reset). ``relative``: an improvement must exceed
    ``tol * |best|``. ``mode='max'`` monitors a score. Returns ``len(curve)``
    when the rule never fires.
    """
    best = math.inf if mode == "min" else -math.inf
    bad = 0
    for i, v in enumerate(curve):
        t = tol * abs(best) if (relative and math.isfinite(best)) else tol
        if mode == "min":
            bad = bad + 1 if v > best - t else 0
            best = min(best, v)
        else:
            bad = bad + 1 if v < best + t else 0
            best = max(best, v)
        if floor is not None and v > floor:
            bad = 0
        if bad >= n_iter_no_change:
            return i + 1
    return len(curve)


REGRESSION = {"covid": "Covid3Month", "cardano": "CardanoSentiment"}


def load_regression(name):
    """Return ``Xtr, ytr, Xte, yte`` of an aeon regression set (published
    split), X raw as (n, T, channels) float64 arrays, y floats."""
    from aeon.datasets import load_regression as _load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xtr, ytr = _load(REGRESSION[name], split="train")
        Xte, yte = _load(REGRESSION[name], split="test")
    Xtr = np.asarray(Xtr, np.float64).transpose(0, 2, 1)
    Xte = np.asarray(Xte, np.float64).transpose(0, 2, 1)
    return Xtr, np.asarray(ytr, float), Xte, np.asarray(yte, float)


def pad_for_minirocket(X, min_length=9):
    """(n, channels, T) zero post-padded array of ragged (T_i, F) sequences or
    an (n, T, F) array, at least ``min_length`` steps (MiniRocket's minimum),
    as a user would pad for a method that needs equal lengths."""
    T = max(max(len(x) for x in X), min_length)
    out = np.zeros((len(X), T, np.asarray(X[0]).shape[-1]), np.float32)
    for i, x in enumerate(X):
        out[i, : len(x)] = x
    return out.transpose(0, 2, 1)
