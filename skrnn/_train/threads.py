"""Torch's intra-op thread count for the duration of a fit or a predict.

Small recurrent networks step through time with tiny matrix products: a
second intra-op thread buys little, and on a busy machine (or next to
joblib's workers) OpenMP threads that spin-wait for each other cost a lot
(``benchmarks/bench_gridsearch.py --also-default-threads``). The thread
count also changes the order of floating-point reductions, so results
depend on it: a fixed count per fit makes them independent of the machine's
cores and of ``GridSearchCV(n_jobs=...)``.
"""

import contextlib
import os

import torch


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``torch.set_num_threads(n)`` (``None``: unchanged;
    at most the machine's cores) and restore the calling thread's own count
    afterwards.

    torch's count is the calling thread's OpenMP setting: blocks running at
    the same time in several threads each set and restore their own, so
    however their fits interleave, every thread gets back the count it had.
    """
    if n is None:
        yield
        return
    n = max(1, min(int(n), _cores()))
    saved = torch.get_num_threads()
    if saved != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != saved:
            torch.set_num_threads(saved)
