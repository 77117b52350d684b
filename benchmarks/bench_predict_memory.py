"""Peak memory of inference versus input size.

For each size, a fresh process builds ``n`` short ragged sequences (lengths
1..``--max-len``) plus one long sequence (``--long``), so that padding the
whole input to its longest sequence would need ``n * long * F * 4`` bytes.
It then measures, as the increase of the peak resident set size over the
memory already held (input, fitted model, libraries):

- ``to_sequences``: the input conversion alone (validation + compaction);
- ``predict_proba``: the whole call (conversion, length-grouped streaming
  batches, output).

Peak RSS is reset between phases through ``/proc/self/clear_refs``, so each
number is the peak of that phase alone (Linux only).

Usage::

    python benchmarks/bench_predict_memory.py                      # 10k, 100k, 1M
    python benchmarks/bench_predict_memory.py --sizes 10000 100000
    python benchmarks/bench_predict_memory.py --json out.json

Write results outside the repository (benchmarks/results is not tracked).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

MiB = 2**20


def _status():
    text = open("/proc/self/status").read()
    return {k: int(re.search(rf"{k}:\s+(\d+) kB", text).group(1)) * 1024 for k in ("VmRSS", "VmHWM")}


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _measure(fn):
    """Run ``fn``; return (result, seconds, peak RSS increase in bytes)."""
    import gc

    gc.collect()
    _reset_peak()
    before = _status()["VmRSS"]
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    return out, seconds, _status()["VmHWM"] - before


def run_one(n, max_len, long, n_features, threads):
    """Measure one input size in this process; returns a dict."""
    import warnings

    import numpy as np
    import torch

    from skrnn import RNNClassifier
    from skrnn._sequences.data import to_sequences

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, max_len + 1, size=n)
    lengths[n // 2] = long
    flat = rng.standard_normal((int(lengths.sum()), n_features))  # float64, as users have it
    X = np.split(flat, np.cumsum(lengths)[:-1])  # a Python list of views, one per sequence
    del flat
    y = rng.integers(0, 2, size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = RNNClassifier(hidden_size=16, max_iter=1, random_state=0, device="cpu")
        clf.fit(X[:200], y)
        clf.predict_proba(X[:10])  # warm up lazy initialisation

    held = _status()["VmRSS"]
    seqs, t_conv, peak_conv = _measure(lambda: to_sequences(X))
    total_steps = int(seqs.values.shape[0])
    del seqs
    proba, t_pred, peak_pred = _measure(lambda: clf.predict_proba(X))
    assert proba.shape == (n, 2) and np.isfinite(proba).all()
    return {
        "n_sequences": n,
        "total_steps": total_steps,
        "longest": int(lengths.max()),
        "held_before_MiB": held / MiB,
        "compact_float32_MiB": total_steps * n_features * 4 / MiB,
        "padded_whole_input_MiB": n * int(lengths.max()) * n_features * 4 / MiB,
        "to_sequences_peak_MiB": peak_conv / MiB,
        "to_sequences_s": t_conv,
        "predict_proba_peak_MiB": peak_pred / MiB,
        "predict_proba_s": t_pred,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--max-len", type=int, default=10, help="short sequences have 1..max-len steps")
    p.add_argument("--long", type=int, default=2000, help="length of the one long sequence")
    p.add_argument("--features", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure in-process
    args = p.parse_args(argv)

    if args.one is not None:
        print(json.dumps(run_one(args.one, args.max_len, args.long, args.features, args.threads)))
        return

    rows = []
    for n in args.sizes:
        cmd = [sys.executable, os.path.abspath(__file__), "--one", str(n), "--max-len",
               str(args.max_len), "--long", str(args.long), "--features", str(args.features),
               "--threads", str(args.threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"done n={n}: predict_proba peak +{r['predict_proba_peak_MiB']:.1f} MiB", file=sys.stderr)

    header = ("| sequences | total steps | padded whole input | compact input (float32) "
              "| to_sequences peak | to_sequences time | predict_proba peak | predict_proba time |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in rows:
        print(f"| {r['n_sequences']:,} | {r['total_steps']:,} | {r['padded_whole_input_MiB']:,.0f} MiB "
              f"| {r['compact_float32_MiB']:,.1f} MiB | +{r['to_sequences_peak_MiB']:,.1f} MiB "
              f"| {r['to_sequences_s']:.2f} s | +{r['predict_proba_peak_MiB']:,.1f} MiB "
              f"| {r['predict_proba_s']:.2f} s |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
