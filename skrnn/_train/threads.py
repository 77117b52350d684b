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
import functools
import threading

import torch

_lock = threading.Lock()
_active = 0
_saved = None


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``torch.set_num_threads(n)`` (``None``: unchanged)
    and restore the caller's count afterwards.

    torch's setting is process-wide: blocks running at the same time in
    several threads share the setting of the first one, and the caller's count
    comes back when the last one ends.
    """
    global _active, _saved
    if n is None:
        yield
        return
    with _lock:
        if _active == 0:
            _saved = torch.get_num_threads()
            if _saved != n:
                torch.set_num_threads(n)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and torch.get_num_threads() != _saved:
                torch.set_num_threads(_saved)


def with_torch_threads(method):
    """Method decorator: run it under the estimator's ``n_threads``."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with torch_threads(self.n_threads):
            return method(self, *args, **kwargs)

    return wrapper
