"""The study that chose RNNForecaster's defaults: one change at a time from a
base configuration, scored on the histories only.

Every data set of ``benchmarks/bench_forecast_classic.py`` (Airline, danish,
interest_inflation, grunfeld, M1 yearly) loses its test years first; of what
is left (the history), the last ``horizon`` steps of every series are held
out and forecast from the steps before them (series too short for that are
left out). The table gives the mean MASE per data set (mean over its series
and over the seeds), the mean over data sets, the mean 80% coverage and the
fit seconds, beside seasonal naive, ETS and Theta on the same held-out steps.

    OMP_NUM_THREADS=1 python studies/forecaster_defaults.py --first-defaults    # sections 1-2
    OMP_NUM_THREADS=1 python studies/forecaster_defaults.py --variants base n_models=3
    OMP_NUM_THREADS=1 python studies/forecaster_defaults.py --variants base loss=huber --first-seed 2
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_forecast_classic import DATASETS, load, run_baselines, run_rnn, split

VARIANTS = {
    "base": {},
    "log_target=False": {"log_target": False},
    "n_steps=6000": {"n_steps": 6000},
    "n_models=3": {"n_models": 3},
    "loss=squared_error": {"loss": "squared_error"},
    "hidden_size=32": {"hidden_size": 32},
    "n_steps=1000": {"n_steps": 1000},
    "max_iter=100": {"max_iter": 100},
    "learning_rate_init=3e-3": {"learning_rate_init": 3e-3},
    "loss=huber": {"loss": "huber"},
    "huber, window=12": {"loss": "huber", "window": 12},
    "huber, window=6": {"loss": "huber", "window": 6},
    "huber, n_steps=4000": {"loss": "huber", "n_steps": 4000},
    "huber, hidden_size=128": {"loss": "huber", "hidden_size": 128},
    "loss=squared_error, max_iter=100": {"loss": "squared_error", "max_iter": 100},
}


def held_out(name):
    table, horizon, m = load(name)
    history, _ = split(table, horizon)
    counts = history.groupby("unique_id", sort=False)["y"].transform("size")
    history = history[counts > 2 * horizon + 2].reset_index(drop=True)
    fit_part, valid = split(history, horizon)
    return fit_part, valid, horizon, m


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first_seed .. first_seed + seeds - 1 (a second draw)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--first-defaults", action="store_true",
                        help="variants over the network of sections 1-2 (absolute error, "
                             "cosine, about 2,000 steps, no smoothing half), as then")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    then = {}
    if args.first_defaults:  # the network configuration of then
        from forecaster_hybrid import previous_config

        patches, then = previous_config()
        then = {**then, "loss": "absolute_error", "ets_weight": 0.0}
        for p in patches:
            p.start()
    data = {name: held_out(name) for name in args.datasets}
    header = "| variant | " + " | ".join(args.datasets) + " | mean | 80% cov. | fit (s) |"
    rule = "|---" * (len(args.datasets) + 4) + "|"
    print(header + "\n" + rule, flush=True)
    rows = {n: [] for n in ("seasonal naive", "ETS", "Theta")}
    for name, (fit_part, valid, horizon, m) in data.items():
        base = run_baselines(fit_part, valid, horizon, m)
        for n in rows:
            res = base[n][0]
            rows[n].append((np.mean([v[0] for v in res.values()]),
                            np.nanmean([v[1] for v in res.values()])))
    for n, cells in rows.items():
        print(f"| {n} | " + " | ".join(f"{c[0]:.3f}" for c in cells)
              + f" | {np.mean([c[0] for c in cells]):.3f} | "
              + (f"{np.nanmean([c[1] for c in cells]):.2f}" if n != "seasonal naive" else "")
              + " | |", flush=True)
    for variant in args.variants:
        params = {**then, **VARIANTS[variant]}
        cells, covs, times = [], [], []
        for name, (fit_part, valid, horizon, m) in data.items():
            runs = [run_rnn(fit_part, valid, horizon, m, seed, **params)
                    for seed in range(args.first_seed, args.first_seed + args.seeds)]
            cells.append(np.mean([np.mean([v[0] for v in res.values()]) for res, _ in runs]))
            covs.append(np.mean([np.mean([v[1] for v in res.values()]) for res, _ in runs]))
            times.append(np.mean([t for _, t in runs]))
        print(f"| {variant} | " + " | ".join(f"{c:.3f}" for c in cells)
              + f" | {np.mean(cells):.3f} | {np.mean(covs):.2f} | {np.sum(times):.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
