"""Truncated BPTT on one long series: peak memory and time per epoch.

Trains ``RNNRegressor(tbptt_steps=k)`` on a single sequence of 10k and 100k
time steps, per-step targets (``return_sequences=True``: the state is carried
across chunks and the weights are updated after each chunk) and one target
per sequence (``pooling='last'``: the loss of the last chunk, one update).
Each configuration runs in a fresh subprocess so its peak resident memory
(``ru_maxrss``) is its own; ``train MiB`` is the peak during ``fit`` minus the
peak before it (imports, data and a warm-up fit on a short series). With
``--full-bptt`` the same fits run without truncation, for comparison: there
the autograd graph of the whole sequence is alive at once.

    python benchmarks/bench_tbptt_memory.py                  # 10k vs 100k steps
    python benchmarks/bench_tbptt_memory.py --full-bptt      # plus untruncated
    python benchmarks/bench_tbptt_memory.py --lengths 1000 10000 --epochs 1

Results are printed and written to ``benchmarks/results/tbptt_memory.json``.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _peak_rss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make_data(length, n_features, per_step):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1, length, n_features)).astype(np.float32)
    # a target the network can learn: a leaky running mean of feature 0
    y = np.empty(length, dtype=np.float32)
    acc = 0.0
    for t, v in enumerate(X[0, :, 0]):
        acc = 0.9 * acc + 0.1 * v
        y[t] = acc
    return X, (y[None, :] if per_step else y[-1:])


def run_one(length, head, tbptt, epochs, hidden_size, threads):
    """Fit once in this process; return the measurements as a dict."""
    import warnings

    import torch

    from skrnn import RNNRegressor

    torch.set_num_threads(threads)
    per_step = head == "per-step"
    est = RNNRegressor(
        cell="lstm", bidirectional=False, pooling="last", lr_schedule="constant",
        hidden_size=hidden_size,
        tbptt_steps=tbptt,
        return_sequences=per_step,
        max_iter=epochs,
        batch_size=1,
        shuffle=False,
        learning_rate_init=1e-3,
        device="cpu",
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after few epochs
        # warm-up on a short series: torch's one-off initialisation is
        # neither time per epoch nor memory that grows with the length
        est.fit(*_make_data(min(length, 2 * (tbptt or 100)), 4, per_step))
        X, y = _make_data(length, 4, per_step)
        before = _peak_rss_mib()
        start = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - start
    peak = _peak_rss_mib()
    return {
        "length": length,
        "head": head,
        "tbptt_steps": tbptt,
        "epochs": est.n_iter_,
        "seconds_per_epoch": elapsed / est.n_iter_,
        "peak_rss_mib": peak,
        "rss_before_fit_mib": before,
        "train_mib": max(0.0, peak - before),
        "final_loss": est.loss_curve_[-1],
    }


def _spawn(length, head, tbptt, args):
    cmd = [
        sys.executable, __file__, "--worker", str(length), head, str(tbptt or 0),
        "--epochs", str(args.epochs), "--hidden-size", str(args.hidden_size),
        "--threads", str(args.threads),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {cmd[3:6]} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(rows):
    head = (f"{'steps':>8} {'head':>9} {'tbptt':>6} {'s/epoch':>8} "
            f"{'train MiB':>9} {'peak MiB':>9} {'loss':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['length']:>8} {r['head']:>9} {str(r['tbptt_steps']):>6} "
            f"{r['seconds_per_epoch']:>8.2f} {r['train_mib']:>9.1f} "
            f"{r['peak_rss_mib']:>9.1f} {r['final_loss']:>8.4f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--heads", nargs="+", default=["per-step", "last"],
                        choices=["per-step", "last"])
    parser.add_argument("--tbptt", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--full-bptt", action="store_true",
                        help="also train without truncation, for comparison")
    parser.add_argument("--worker", nargs=3, metavar=("LENGTH", "HEAD", "TBPTT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        length, head, tbptt = int(args.worker[0]), args.worker[1], int(args.worker[2]) or None
        print(json.dumps(run_one(length, head, tbptt, args.epochs, args.hidden_size,
                                 args.threads)))
        return

    settings = [args.tbptt] + ([None] if args.full_bptt else [])
    rows = []
    for tbptt in settings:
        for head in args.heads:
            for length in args.lengths:
                rows.append(_spawn(length, head, tbptt, args))
                print(_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(f"RNNRegressor(cell='lstm', hidden_size={args.hidden_size}), one series of 4 "
          f"features, batch_size=1, {args.epochs} epoch(s), torch threads={args.threads}")
    print(_table(rows))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tbptt_memory.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
