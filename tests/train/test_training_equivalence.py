"""RNNClassifier trains exactly like a hand-written PyTorch loop over the
same network, batches and learning rates: the quality benchmark's "plain
loop" column differs from skrnn only by its random draws."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skrnn import RNNClassifier
from skrnn._nn.recurrent import SequenceNet
from skrnn.callbacks import training_module

from conftest import ragged_labelled


class _InitialWeights:
    def on_fit_begin(self, est):
        self.state = copy.deepcopy(training_module(est).state_dict())


def _closed_form_cosine(total, warmup=0.05, start=0.01):
    """The documented 'cosine' schedule, per optimizer step."""
    warm = int(round(warmup * total))

    def factor(step):
        if step < warm:
            return start + (1 - start) * step / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    return factor


def _plain_loop(state, X, lengths, y, batches, epochs, lr, schedule, n_classes):
    """A hand-written loop: Adam, clipping 1.0, mean cross-entropy per batch."""
    model = SequenceNet(X.shape[-1], n_classes, cell="gru", hidden_size=8, bidirectional=True,
                        pooling="max")
    model.load_state_dict(state)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = None
    if schedule == "cosine":
        factor = _closed_form_cosine(epochs * len(batches))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    curve = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for idx in batches:
            idx = torch.as_tensor(idx)
            L = int(lengths[idx].max())
            loss = F.cross_entropy(model(X[idx, :L], lengths[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss) * len(idx)
        curve.append(total / len(y))
    return model, curve


def _padded(seqs):
    lengths = torch.as_tensor([len(s) for s in seqs])
    X = torch.zeros(len(seqs), int(lengths.max()), seqs[0].shape[1])
    for i, s in enumerate(seqs):
        X[i, : len(s)] = torch.as_tensor(s, dtype=torch.float32)
    return X, lengths


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
@pytest.mark.parametrize("ragged", [False, True])
def test_fit_equals_a_hand_written_loop(schedule, ragged):
    if ragged:
        seqs, y = ragged_labelled(45, F=2, seed=1, lo=3, hi=11)
    else:
        rng = np.random.RandomState(1)
        arr = rng.normal(size=(45, 7, 2))
        seqs, y = list(arr), (arr[:, :, 0].mean(1) > 0).astype(int)
    epochs, batch_size, lr = 4, 8, 3e-3
    snap = _InitialWeights()
    est = RNNClassifier(hidden_size=8, batch_size=batch_size, max_iter=epochs, tol=None,
                        lr_schedule=schedule, shuffle=False, random_state=0,
                        callbacks=[snap]).fit(seqs, y)
    X, lengths = _padded(seqs)
    # without shuffling, skrnn's batches are consecutive in order of length
    # (stable: ties keep their order); equal lengths keep the input order
    order = np.argsort(lengths.numpy(), kind="stable")
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    yt = torch.as_tensor(np.searchsorted(est.classes_, y))
    model, curve = _plain_loop(snap.state, X, lengths, yt, batches, epochs, lr, schedule,
                               len(est.classes_))
    np.testing.assert_allclose(est.loss_curve_, curve, rtol=1e-5)
    model.eval()
    with torch.no_grad():
        proba = torch.softmax(model(X, lengths), dim=1).numpy()
    np.testing.assert_allclose(est.predict_proba(seqs), proba, atol=1e-5)
