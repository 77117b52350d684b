"""What attention buys: reversing long random token sequences.

Each input is a random sequence of 30-60 token ids (vocabulary of 10); the
target is the same sequence reversed. Without attention the decoder must
rebuild 30-60 tokens from the encoder's single fixed-size summary; with
attention it can look up the input step it needs at every output step. Two
otherwise identical Seq2SeqTransformers are trained on the same pairs and
scored on unseen sequences: exact-match accuracy (the whole reversed sequence
right) and per-token accuracy (tokens right at their position).

Run:  python examples/reverse_attention.py   (a few minutes on a laptop CPU)
"""

import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from skrnn import Seq2SeqTransformer

N_TRAIN, N_TEST, VOCAB, MIN_LEN, MAX_LEN = 6_000, 500, 10, 30, 60


def make_pairs(n, rng):
    X = [rng.integers(0, VOCAB, size=int(rng.integers(MIN_LEN, MAX_LEN + 1))) for _ in range(n)]
    return X, [x[::-1].copy() for x in X]


def token_accuracy(pred, Y):
    hits = total = 0
    for p, y in zip(pred, Y):
        n = min(len(p), len(y))
        hits += int(np.sum(p[:n] == y[:n]))
        total += len(y)
    return hits / total


def main():
    torch.set_num_threads(1)  # small network: one thread is fastest on a shared CPU
    rng = np.random.default_rng(0)
    X_train, Y_train = make_pairs(N_TRAIN, rng)
    X_test, Y_test = make_pairs(N_TEST, rng)
    print(f"reversing token sequences of length {MIN_LEN}-{MAX_LEN} (vocabulary {VOCAB}): "
          f"{N_TRAIN} train / {N_TEST} unseen test")
    for attention in ("bahdanau", None):
        model = Seq2SeqTransformer(
            cell="gru",
            hidden_size=64,
            bidirectional=True,
            embedding_dim=16,
            attention=attention,
            batch_size=64,
            learning_rate_init=5e-3,
            max_iter=10,
            random_state=0,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, Y_train)
        fit_s = time.perf_counter() - start
        pred = model.predict(X_test)
        exact = model.score(X_test, Y_test)
        print(f"attention={attention!r:11} exact match {exact:.3f}   per-token accuracy "
              f"{token_accuracy(pred, Y_test):.3f}   ({model.n_iter_} epochs, {fit_s:.0f} s)")


if __name__ == "__main__":
    main()
