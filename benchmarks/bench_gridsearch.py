"""GridSearchCV over RNNClassifier: n_jobs=1 against n_jobs=2.

8 candidates x 3 folds on digits read row by row (each 8x8 image is a
sequence of 8 steps with 8 features). Prints the wall time of each search,
the speedup, the torch thread count seen in the parent and in joblib's
workers, and whether the scores in ``cv_results_`` are identical.

skrnn never changes torch's thread count: joblib's loky workers start with
``cpu_count() // n_jobs`` OpenMP threads (1 here), the parent keeps whatever
the user set. This script sets the parent to ``--parent-threads`` (default
1, restored at the end) for both searches: one thread per fit is the fastest
setting for these small networks on a busy machine (two OpenMP threads
spin-wait for each other when other processes hold a core), so the n_jobs=1
baseline is the per-core one, not a handicapped one.
``--also-default-threads`` also runs both searches with the parent at torch's
default thread count (what a user who changes nothing gets) and reports that
speedup and whether those ``cv_results_`` equal the one-thread ones.

Run:  python benchmarks/bench_gridsearch.py [--max-iter 8] [--repeat 2]
"""

import argparse
import os
import time
import warnings

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skrnn import RNNClassifier

GRID = {
    "cell": ["lstm", "gru"],
    "hidden_size": [32, 64],
    "learning_rate_init": [1e-3, 3e-3],
}
SCORE_KEYS = ("mean_test_score", "std_test_score", "rank_test_score")


def digits_sequences():
    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8) / 16.0, y


def make_search(n_jobs, max_iter, grid=GRID, cv=3):
    est = RNNClassifier(max_iter=max_iter, batch_size=32, device="cpu", random_state=0)
    return GridSearchCV(est, grid, cv=cv, n_jobs=n_jobs)


def score_table(cv_results):
    """The deterministic part of ``cv_results_``: params and every score."""
    keys = [k for k in cv_results if k.startswith("split") and k.endswith("_test_score")]
    keys += list(SCORE_KEYS)
    table = {k: np.asarray(cv_results[k]) for k in keys}
    table["params"] = [sorted(p.items()) for p in cv_results["params"]]
    return table


def same_scores(a, b):
    """True when two ``cv_results_`` hold exactly the same params and scores."""
    ta, tb = score_table(a), score_table(b)
    if ta.keys() != tb.keys() or ta["params"] != tb["params"]:
        return False
    return all(np.array_equal(ta[k], tb[k]) for k in ta if k != "params")


def warm_up():
    """One tiny fit: the first fit in a fresh process pays for lazy imports
    and first-call initialisation (about 2 CPU s here), later ones do not.
    Returns (pid, torch threads)."""
    import torch

    X, y = digits_sequences()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RNNClassifier(hidden_size=4, max_iter=1, device="cpu", random_state=0).fit(X[:64], y[:64])
    return os.getpid(), torch.get_num_threads()


def warm_workers(n_jobs):
    """Start joblib's pool and warm each worker; (pid, torch threads) of each."""
    out = Parallel(n_jobs=n_jobs)(delayed(warm_up)() for _ in range(4 * n_jobs))
    return sorted(set(out))


def cpu_seconds():
    """CPU time of this process plus its live children (joblib's workers),
    from /proc; None where that is not available."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        total = time.process_time()
        me = str(os.getpid())
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:  # ppid
                total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        return total
    except (OSError, ValueError, AttributeError):
        return None


def timed_search(n_jobs, X, y, max_iter):
    """(wall seconds, CPU seconds or None, fitted search)."""
    search = make_search(n_jobs, max_iter)
    cpu0 = cpu_seconds()
    start = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - start
    cpu1 = cpu_seconds()
    return wall, (None if cpu0 is None or cpu1 is None else cpu1 - cpu0), search


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=8, help="epochs per fit")
    parser.add_argument(
        "--parent-threads", type=int, default=1,
        help="torch.set_num_threads(N) in this process for both searches (the n_jobs=1 "
             "fits and both refits); 0 leaves torch's default. Restored at the end.",
    )
    parser.add_argument("--repeat", type=int, default=1,
                        help="alternate the two searches this many times; report the fastest")
    parser.add_argument("--also-default-threads", action="store_true",
                        help="also time n_jobs=1 with torch's default thread count")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = digits_sequences()
    n_cand = int(np.prod([len(v) for v in GRID.values()]))
    default_threads = torch.get_num_threads()
    parent = args.parent_threads or default_threads
    print(f"digits as sequences: X {X.shape}, {n_cand} candidates x 3 folds + refit, "
          f"max_iter={args.max_iter}, cpu_count={os.cpu_count()}, torch {torch.__version__}")
    print(f"torch threads: default {default_threads}, parent set to {parent}; "
          f"load average before: {loadavg()}")

    start = time.perf_counter()
    workers = warm_workers(2)  # start and warm loky's pool once, as a session would
    spawn = time.perf_counter() - start
    warm_up()  # and this process

    times = {1: [], 2: []}
    results = {}
    torch.set_num_threads(parent)
    try:
        for _ in range(args.repeat):
            for n_jobs in (1, 2):
                t, cpu, search = timed_search(n_jobs, X, y, args.max_iter)
                times[n_jobs].append((t, cpu))
                results.setdefault(n_jobs, search.cv_results_)
                cores = f", {cpu:.1f} CPU s = {cpu / t:.2f} cores" if cpu is not None else ""
                print(f"  n_jobs={n_jobs}: {t:.1f} s{cores} (load {loadavg()})", flush=True)
        extra = extra2 = None
        if args.also_default_threads and parent != default_threads:
            torch.set_num_threads(default_threads)
            extra = timed_search(1, X, y, args.max_iter)
            results["default"] = extra[2].cv_results_
            extra2 = timed_search(2, X, y, args.max_iter)
            results["default2"] = extra2[2].cv_results_
    finally:
        torch.set_num_threads(default_threads)

    (t1, c1), (t2, c2) = min(times[1]), min(times[2])

    def row(label, t, cpu):
        cpu_txt = f"{cpu:9.1f} {cpu / t:6.2f}" if cpu is not None else f"{'n/a':>9} {'n/a':>6}"
        print(f"{label:<46} {t:9.1f} {t1 / t:7.2f}x {cpu_txt}")

    print()
    print(f"{'search':<46} {'wall [s]':>9} {'speedup':>8} {'CPU [s]':>9} {'cores':>6}")
    row(f"n_jobs=1 (torch threads={parent})", t1, c1)
    row("n_jobs=2 (loky workers, torch threads=1 each)", t2, c2)
    if extra is not None:
        row(f"n_jobs=1 (torch threads={default_threads}, default)", extra[0], extra[1])
        row(f"n_jobs=2 (parent torch threads={default_threads})", extra2[0], extra2[1])
        print(f"with the parent at torch's default {default_threads} threads: n_jobs=2 is "
              f"{extra[0] / extra2[0]:.2f}x faster than n_jobs=1; cv_results_ scores "
              f"identical between them: {same_scores(results['default'], results['default2'])}; "
              f"n_jobs=1 at {default_threads} threads equal to n_jobs=1 at {parent}: "
              f"{same_scores(results['default'], results[1])}")
    print(f"speedup n_jobs=2 over n_jobs=1: {t1 / t2:.2f}x (target >= 1.7x; "
          f"ceiling ~1.86x because the refit runs alone)")
    if c1 is not None and c2 is not None:
        print(f"CPU seconds n_jobs=2 / n_jobs=1: {c2 / c1:.2f} (about 1: no oversubscription "
              f"overhead); 'cores' is CPU s / wall s, what the machine gave the search. "
              f"On a busy machine the wall speedup is capped by it.")
    print(f"starting and warming the 2 loky workers (once per session, not timed above): "
          f"{spawn:.1f} s")
    print(f"torch threads in joblib's workers: {[t for _, t in workers]}; "
          f"in the parent after the run: {torch.get_num_threads()}")
    identical = same_scores(results[1], results[2])
    print(f"cv_results_ scores identical across n_jobs (parent at {parent} thread(s)): "
          f"{identical}")
    best = int(np.argmin(results[1]["rank_test_score"]))
    print(f"best: {results[1]['params'][best]} mean accuracy "
          f"{results[1]['mean_test_score'][best]:.4f}")
    print(f"load average after: {loadavg()}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
