"""Which classical forecasts should RNNForecaster's classical half average?
Scored on the histories only.

Data and split as ``studies/forecaster_hybrid.py`` (every data set of
``benchmarks/bench_forecast_classic.py`` loses its test steps; the last
``horizon`` steps of every remaining history are held out and forecast from
the steps before them). The candidates, fitted per series on the steps before
the held-out ones:

``ets``    ETS(A, Ad, A), the damped trend (``fit_ets``, the forecaster's own)
``holt``   ETS(A, A, A), the linear trend (``fit_ets(..., damped=False)``)
``ses``    ETS(A, N, A), no trend (``fit_ets`` with the trend held at zero)
``drift``  the random walk with drift (``drift_forecasts``)

Each row averages some of them with equal weights (the classical half); each
seed fits the network alone once (``RNNForecaster(ets_weight=0,
calibration_windows=0)``) and the hybrid ``(1 - w) * network + w * classical``
is scored for ``w`` in 0.25, 0.5, 0.75 from the same forecasts, so the rows
of a seed share their network. Cells: mean MASE over a data set's series and
the seeds; "mean": over the five data sets; "pooled": over every series of
every data set.

    OMP_NUM_THREADS=1 python studies/forecaster_classical.py --seeds 0 1 2 3
    OMP_NUM_THREADS=1 python studies/forecaster_classical.py --seeds 4 5 6 7

Requires aeon and statsmodels (the data).
"""

import argparse
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_forecast_classic import DATASETS, per_series  # noqa: E402
from forecaster_defaults import held_out  # noqa: E402
from forecaster_hybrid import network_forecasts  # noqa: E402

from skrnn.forecasting import _ets  # noqa: E402
from skrnn.forecasting._ets import drift_forecasts, fit_ets  # noqa: E402
from skrnn.metrics import mase_scale  # noqa: E402

ROWS = {
    "ets (seasonal sets before)": ("ets",),
    "ets + drift (yearly sets before)": ("ets", "drift"),
    "ets + holt": ("ets", "holt"),
    "ets + holt + drift": ("ets", "holt", "drift"),
    "holt + drift": ("holt", "drift"),
    "ses + holt + ets": ("ses", "holt", "ets"),
    "ses + holt + ets + drift": ("ses", "holt", "ets", "drift"),
}
NETWORK_WEIGHTS = (0.25, 0.5, 0.75)  # the classical half's weight w


def no_trend():
    """A patch that holds the trend of ``fit_ets`` at zero (and its damping at 1)."""
    minimize = _ets.minimize

    def _minimize(fun, x0, args=(), method=None, bounds=None):
        bounds, x0 = list(bounds), np.array(x0, dtype=float)
        bounds[1], bounds[3], bounds[5] = (0.0, 0.0), (1.0, 1.0), (0.0, 0.0)
        x0[1], x0[3], x0[5] = 0.0, 1.0, 0.0
        return minimize(fun, x0, args=args, method=method, bounds=bounds)

    return mock.patch.object(_ets, "minimize", _minimize)


def candidates(H, horizon, m):
    out = {"ets": {k: fit_ets(h, m).forecasts(h, [len(h)], horizon)[0] for k, h in H.items()},
           "holt": {k: fit_ets(h, m, damped=False).forecasts(h, [len(h)], horizon)[0]
                    for k, h in H.items()},
           "drift": {k: drift_forecasts(h, [len(h)], horizon)[0] for k, h in H.items()}}
    with no_trend():
        out["ses"] = {k: fit_ets(h, m).forecasts(h, [len(h)], horizon)[0] for k, h in H.items()}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    # cells[row][name]: (n_seeds, 1 + len(NETWORK_WEIGHTS)) of mean MASE; per-series too
    cells, pooled = {r: {} for r in ROWS}, {r: [] for r in ROWS}
    for name in args.datasets:
        fit_part, valid, horizon, m = held_out(name)
        H, T = per_series(fit_part), per_series(valid)
        F = candidates(H, horizon, m)

        def errors(f):
            return np.array([np.mean(np.abs(T[k] - f[k])) / mase_scale(H[k], m) for k in H])

        print(f"{name}: " + ", ".join(f"{c} alone {errors(f).mean():.3f}"
                                      for c, f in F.items()), flush=True)
        per_row = {r: [] for r in ROWS}
        for seed in args.seeds:
            net = network_forecasts(fit_part, horizon, seed, {})
            for row, parts in ROWS.items():
                cl = {k: np.mean([F[p][k] for p in parts], axis=0) for k in H}
                per_row[row].append([errors(cl)] + [
                    errors({k: (1 - w) * net[k] + w * cl[k] for k in H})
                    for w in NETWORK_WEIGHTS])
        for row in ROWS:
            e = np.array(per_row[row])            # (n_seeds, 1 + n_weights, n_series)
            cells[row][name] = e.mean(axis=2).mean(axis=0)
            pooled[row].append(e.mean(axis=0))     # (1 + n_weights, n_series)
            print(f"  {row:34s} classical alone {cells[row][name][0]:.3f}, hybrid "
                  + ", ".join(f"w={w:g} {v:.3f}" for w, v in
                              zip(NETWORK_WEIGHTS, cells[row][name][1:])), flush=True)
    names = list(cells[next(iter(ROWS))])
    for j, label in enumerate(["the classical half alone"]
                              + [f"the hybrid, classical weight {w:g}" for w in NETWORK_WEIGHTS]):
        print(f"\nseeds {args.seeds}, {label}: mean MASE on the held-out history steps")
        print("| classical half | " + " | ".join(names) + " | mean | pooled |")
        print("|---" * (len(names) + 3) + "|")
        for row in ROWS:
            values = [cells[row][n][j] for n in names]
            allseries = np.concatenate([p[j] for p in pooled[row]])
            print(f"| {row} | " + " | ".join(f"{v:.3f}" for v in values)
                  + f" | {np.mean(values):.3f} | {allseries.mean():.3f} |")


if __name__ == "__main__":
    main()
