"""
Normalise dates with a sequence-to-sequence model and attention
===============================================================

Normalise human-readable dates: "April 22, 2019" -> "2019-04-22".

The classic sequence-to-sequence exercise, strings in and strings out. Random
dates (Python's ``datetime``, 1900-2099) are written in several human formats;
the target is always the ISO date. A character-level Seq2SeqTransformer with
Bahdanau attention learns the mapping from 10,000 pairs and is scored by exact
match on 2,000 dates that never appear in training. The attention heatmap of
one test example is saved to examples/output/date_attention.png: each output
character attends to the input characters it is copied or derived from.

Run:  python examples/date_format.py   (a few minutes on a laptop CPU)

``SKRNN_DOCS_FAST=1`` (the documentation build) trains on 3,000 pairs for 3
epochs and scores 500 dates, so its accuracy is lower than a full run's.
"""

import datetime as dt
import os
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from skrnn import Seq2SeqTransformer
from skrnn.seq2seq import save_attention_heatmap

OUTPUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")
FAST = os.environ.get("SKRNN_DOCS_FAST") == "1"
N_TRAIN, N_TEST, MAX_ITER = (3_000, 500, 3) if FAST else (10_000, 2_000, 5)


def human(date, style):
    """One of several human spellings of ``date``."""
    month, month3 = date.strftime("%B"), date.strftime("%b")
    day, year = date.day, date.year
    return [
        f"{month} {day}, {year}",                                  # April 22, 2019
        f"{month3} {day}, {year}",                                 # Apr 22, 2019
        f"{day} {month} {year}",                                   # 22 April 2019
        f"{date.strftime('%A')}, {month} {day}, {year}",           # Monday, April 22, 2019
        f"{date.month:02d}/{day:02d}/{year}",                      # 04/22/2019
        f"{month3.lower()} {day:02d} {year}",                      # apr 22 2019
    ][style]


def make_dates(n, rng, exclude=frozenset()):
    """``n`` distinct random dates not in ``exclude``, each in a random style."""
    first = dt.date(1900, 1, 1).toordinal()
    last = dt.date(2099, 12, 31).toordinal()
    dates = set()
    while len(dates) < n:
        d = dt.date.fromordinal(int(rng.integers(first, last + 1)))
        if d not in exclude:
            dates.add(d)
    dates = sorted(dates)
    rng.shuffle(dates)
    X = [human(d, int(rng.integers(6))) for d in dates]
    Y = [d.isoformat() for d in dates]
    return X, Y, set(dates)


def main():
    torch.set_num_threads(1)  # small network: one thread is fastest on a shared CPU
    rng = np.random.default_rng(0)
    X_train, Y_train, seen = make_dates(N_TRAIN, rng)
    X_test, Y_test, _ = make_dates(N_TEST, rng, exclude=seen)

    model = Seq2SeqTransformer(
        cell="gru",
        hidden_size=64,
        bidirectional=True,
        embedding_dim=32,
        attention="bahdanau",
        batch_size=64,
        learning_rate_init=3e-3,
        max_iter=MAX_ITER,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, Y_train)
    fit_s = time.perf_counter() - start

    start = time.perf_counter()
    accuracy = model.score(X_test, Y_test)
    predict_s = time.perf_counter() - start
    print(f"date normalisation: {N_TRAIN} training pairs, {N_TEST} unseen test dates")
    print(f"fit: {model.n_iter_} epochs in {fit_s:.1f} s; final loss {model.loss_curve_[-1]:.4f}")
    print(f"test exact-match accuracy (greedy): {accuracy:.4f}  ({predict_s:.2f} s)")

    examples = ["April 22, 2019", "Tuesday, July 4, 1950", "12/25/2031", "sep 01 1999"]
    pred, weights = model.predict(examples, return_attention=True)
    for x, p in zip(examples, pred):
        print(f"  {x!r:28} -> {p!r}")
    wrong = [(x, y, p) for x, y, p in zip(X_test, Y_test, model.predict(X_test)) if y != p]
    for x, y, p in wrong[:5]:
        print(f"  miss: {x!r} -> {p!r} (expected {y!r})")

    os.makedirs(OUTPUT_DIR, exist_ok=True)
    path = save_attention_heatmap(
        weights[0],
        os.path.join(OUTPUT_DIR, "date_attention.png"),
        input_labels=list(examples[0]),
        output_labels=list(pred[0]),
        title=f"{examples[0]!r} -> {pred[0]!r}",
    )
    print(f"attention heatmap saved to {path}")


if __name__ == "__main__":
    main()
