"""Study: how RNNForecaster reads its 80 % intervals from the calibration
errors, on the histories only (``--validate``, what the choice reads) and on
the benchmark's test steps.

Data and split as ``benchmarks/bench_forecast_classic.py``. Each seed fits
``RNNForecaster`` with its defaults once per data set; the intervals are then
read from the same out-of-sample calibration errors (``residuals_``, one row
per calibration origin, one column per step ahead) by each rule:

``conformal``  the split-conformal level ``ceil((n + 1) * level) / n`` of the
               ``n`` errors per step (the rule before this study): at least
               the nominal coverage for exchangeable errors, wider with few
               origins.
``empirical``  the plain empirical quantile of the errors at the nominal
               level (linear interpolation).

Both then widen with the step ahead (a step's bound is at least the bound of
the step before). Printed: the coverage per data set (over its series, its
steps and the seeds), over every forecast value, and the mean absolute
distance to 0.8 over the data sets.

    OMP_NUM_THREADS=1 python studies/forecaster_coverage.py --validate
    OMP_NUM_THREADS=1 python studies/forecaster_coverage.py

Requires aeon and statsmodels (the data).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
import bench_forecast_classic as bench  # noqa: E402

from skrnn import RNNForecaster  # noqa: E402
from skrnn.forecasting import _forecast_evaluation as fe  # noqa: E402

RULES = ("conformal", "empirical")
_CONFORMAL = fe._ForecastEvaluation._conformal_levels
_RULE = {"name": "conformal"}


def _levels(levels, n):
    """The levels read from the errors under the rule being measured."""
    return _CONFORMAL(levels, n) if _RULE["name"] == "conformal" else levels


fe._ForecastEvaluation._conformal_levels = staticmethod(_levels)


def run(name, seeds, validate):
    history, test, horizon, _ = bench.history_and_test(name, validate)
    truths = bench.per_series(test)
    hits = {r: [] for r in RULES}
    for seed in seeds:
        model = RNNForecaster(horizon, id_col="unique_id", time_col="ds",
                              random_state=seed).fit(history)
        for rule in RULES:
            _RULE["name"] = rule
            interval = model.predict_interval(coverage=0.8)
            for key, g in interval.groupby("unique_id", sort=False):
                lo, hi = g["y_lower"].to_numpy(), g["y_upper"].to_numpy()
                y = truths[key]
                hits[rule].append((y >= np.minimum(lo, hi)) & (y <= np.maximum(lo, hi)))
        n_res = len(model.residuals_)
        print(f"{name} seed {seed}: {n_res} calibration errors per step; "
              + ", ".join(f"{r} {np.mean(np.concatenate(hits[r][-len(truths):])):.3f}"
                          for r in RULES), flush=True)
    return {r: np.concatenate(v) for r, v in hits.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--datasets", nargs="+", default=list(bench.DATASETS),
                   choices=bench.DATASETS)
    p.add_argument("--validate", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    res = {d: run(d, args.seeds, args.validate) for d in args.datasets}
    print(f"\n80% interval coverage ({'histories only' if args.validate else 'test steps'}, "
          f"seeds {args.seeds})")
    print("| rule | " + " | ".join(args.datasets) + " | all values | mean abs. distance to 0.8 |")
    print("|---" * (len(args.datasets) + 3) + "|")
    for r in RULES:
        covs = [res[d][r].mean() for d in args.datasets]
        pooled = np.concatenate([res[d][r] for d in args.datasets]).mean()
        dist = np.mean([abs(c - 0.8) for c in covs])
        print(f"| {r} | " + " | ".join(f"{c:.2f}" for c in covs)
              + f" | {pooled:.3f} | {dist:.3f} |")


if __name__ == "__main__":
    main()
