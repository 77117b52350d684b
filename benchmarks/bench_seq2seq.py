"""Seq2SeqTransformer predict throughput: greedy decoding against beam search.

A character-level model is trained briefly on date normalisation
("April 22, 2019" -> "2019-04-22", as in examples/date_format.py), then
``predict`` decodes the same unseen inputs with ``beam_width=1`` (greedy) and
``beam_width=5``. Both decoders run over whole batches at once (beam search
keeps batch x beam hypotheses in one tensor and masks the finished ones).
Reported: sequences per second (median of ``--repeat`` runs, wall clock and
process CPU time) and exact-match accuracy. As a reference for what batching
buys, greedy decoding one sequence per ``predict`` call is timed on a subset.

Run:  python benchmarks/bench_seq2seq.py [--n-predict 2000] [--repeat 3] [--threads 1]
"""

import argparse
import datetime as dt
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from skrnn import Seq2SeqTransformer


def make_dates(n, rng):
    first, last = dt.date(1900, 1, 1).toordinal(), dt.date(2099, 12, 31).toordinal()
    dates = [dt.date.fromordinal(int(o)) for o in rng.integers(first, last + 1, size=n)]
    styles = [
        lambda d: f"{d.strftime('%B')} {d.day}, {d.year}",
        lambda d: f"{d.day} {d.strftime('%B')} {d.year}",
        lambda d: f"{d.strftime('%A')}, {d.strftime('%b')} {d.day}, {d.year}",
        lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    ]
    X = [styles[int(rng.integers(len(styles)))](d) for d in dates]
    return X, [d.isoformat() for d in dates]


def timed(fn, repeat):
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus)), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-predict", type=int, default=2000)
    parser.add_argument("--n-single", type=int, default=200,
                        help="sequences decoded one predict call at a time (reference)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    X_train, Y_train = make_dates(args.n_train, rng)
    X_test, Y_test = make_dates(args.n_predict, rng)
    model = Seq2SeqTransformer(
        cell="gru", hidden_size=64, bidirectional=True, embedding_dim=32,
        attention="bahdanau", batch_size=64, learning_rate_init=3e-3,
        max_iter=args.epochs, random_state=0, device="cpu",
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, Y_train)
    print(f"trained on {args.n_train} date pairs for {args.epochs} epochs in "
          f"{time.perf_counter() - start:.1f} s (torch threads: {torch.get_num_threads()})")
    print(f"predict on {args.n_predict} unseen inputs (10 output characters + end token), "
          f"median of {args.repeat} runs:")
    print(f"{'decoder':<26}{'seq/s (wall)':>14}{'seq/s (CPU)':>14}{'exact match':>13}")
    rows = {}
    for beam in (1, 5):
        model.set_params(beam_width=beam)
        wall, cpu, pred = timed(lambda: model.predict(X_test), args.repeat)
        acc = float(np.mean([p == y for p, y in zip(pred, Y_test)]))
        name = "greedy (beam_width=1)" if beam == 1 else f"beam search (beam_width={beam})"
        rows[beam] = args.n_predict / wall
        print(f"{name:<26}{args.n_predict / wall:>14.0f}{args.n_predict / cpu:>14.0f}{acc:>13.4f}")
    model.set_params(beam_width=1)
    subset = X_test[: args.n_single]
    wall, cpu, _ = timed(lambda: [model.predict([x]) for x in subset], 1)
    print(f"{'greedy, 1 seq per call':<26}{len(subset) / wall:>14.0f}{len(subset) / cpu:>14.0f}"
          f"{'':>13}")
    print(f"beam 5 / greedy throughput: {rows[5] / rows[1]:.2f}")


if __name__ == "__main__":
    main()
