"""Does shifting RNNForecaster's point forecast by the median of its
calibration errors (per horizon step) help? Scored on the histories only.

Each seed fits ``RNNForecaster`` with its defaults on the histories of
``benchmarks/bench_forecast_classic.py --validate`` (the last ``horizon``
steps of every history held out). From the same fit it scores the point
forecast as it ships and the point forecast shifted, on the modelled scale,
by ``shrink`` times the median calibration error of each horizon step (the
errors ``residuals_`` that the intervals read: out-of-sample errors of the
calibration model over the panel, in units of each series' scale).
Cells: mean MASE over a data set's series and the seeds.

    OMP_NUM_THREADS=1 python studies/forecaster_bias.py --seeds 0 1 2 3

``logs/forecaster_bias.log`` was printed (seeds 0 1, then 2 3) with the
defaults of commit 4a77661, before the linear trend joined the classical half.

Requires aeon and statsmodels (the data).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_forecast_classic import DATASETS, history_and_test, per_series  # noqa: E402

from skrnn import RNNForecaster  # noqa: E402
from skrnn.metrics import mase_scale  # noqa: E402

SHRINK = (0.0, 0.5, 1.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = {}
    for name in args.datasets:
        history, test, horizon, m = history_and_test(name, validate=True)
        H, T = per_series(history), per_series(test)
        cells = np.zeros((len(args.seeds), len(SHRINK)))
        for i, seed in enumerate(args.seeds):
            model = RNNForecaster(horizon, id_col="unique_id", time_col="ds",
                                  random_state=seed).fit(history)
            point, scales, histories, _ = model._forecast(None, None)
            bias = np.median(model.residuals_, axis=0)
            for j, shrink in enumerate(SHRINK):
                pred = model._inverse(histories, point + shrink * scales * bias)
                cells[i, j] = np.mean([np.mean(np.abs(T[h.key] - p)) / mase_scale(H[h.key], m)
                                       for h, p in zip(histories, pred)])
            print(f"{name} seed {seed}: " + ", ".join(
                f"shift x{s:g} {c:.3f}" for s, c in zip(SHRINK, cells[i]))
                  + f"; median errors per step {np.round(bias, 3).tolist()}", flush=True)
        rows[name] = cells.mean(axis=0)
    print(f"\nseeds {args.seeds}: mean MASE on the held-out history steps")
    print("| shift | " + " | ".join(rows) + " | mean |")
    print("|---" * (len(rows) + 2) + "|")
    for j, s in enumerate(SHRINK):
        values = [rows[n][j] for n in rows]
        print(f"| {s:g} x median error | " + " | ".join(f"{v:.3f}" for v in values)
              + f" | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
