"""RNNForecaster on real series that no forecasting default was chosen on:
a check of the classical half's rule (studies/forecaster_defaults.md,
section 3), not a tuning set.

Data (offline): aeon's lynx (yearly, 1821-1934), shampoo sales (monthly, 3
years) and uschange (5 quarterly series of US changes; aeon's PBS series is
left out: its last 30 months are all zero);
statsmodels' nile (yearly), sunspots (yearly), macrodata (10 quarterly US
macro series), elnino (monthly sea temperatures) and co2 (weekly, averaged
per month). The last ``horizon`` steps of every series are the test, as in
``benchmarks/bench_forecast_classic.py`` (same baselines and MASE). Columns:
naive, seasonal naive, statsmodels' ETS and Theta, ``RNNForecaster`` with
its defaults and with the classical half it had before the linear trend
joined (``--before``: ETS(A, Ad, A), averaged with the drift on series
without a season), each the mean over seeds.

    OMP_NUM_THREADS=1 python studies/forecaster_unseen.py --seeds 0 1

Requires aeon and statsmodels (the data).
"""

import argparse
import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_forecast_classic import _long, run_baselines, run_rnn, split  # noqa: E402

from skrnn.forecasting import _ets, _forecaster  # noqa: E402

DATASETS = ("lynx", "nile", "sunspots", "shampoo", "elnino", "co2", "uschange", "macrodata")


def _yearly(values, start):
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.period_range(str(start), periods=len(values), freq="Y"))


def _periods(values, start, freq):
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.period_range(start, periods=len(values), freq=freq))


def load(name):
    """(long table unique_id/ds/y, horizon, season length)."""
    import statsmodels.api as sm
    from aeon import datasets

    if name == "lynx":
        return _long({"lynx": _yearly(datasets.load_lynx(), 1821)}), 6, 1
    if name == "nile":
        d = sm.datasets.nile.load_pandas().data
        return _long({"nile": _yearly(d["volume"], 1871)}), 6, 1
    if name == "sunspots":
        d = sm.datasets.sunspots.load_pandas().data
        return _long({"sunspots": _yearly(d["SUNACTIVITY"], 1700)}), 6, 1
    if name == "shampoo":
        return _long({"shampoo": _periods(datasets.load_shampoo_sales(), "2001-01", "M")}), 6, 12
    if name == "elnino":
        d = sm.datasets.elnino.load_pandas().data
        values = d.drop(columns="YEAR").to_numpy().ravel()
        return _long({"elnino": _periods(values, "1950-01", "M")}), 12, 12
    if name == "co2":
        d = sm.datasets.co2.load_pandas().data["co2"]
        monthly = d.resample("MS").mean().interpolate()
        return _long({"co2": _periods(monthly.to_numpy(), str(monthly.index[0])[:7], "M")}), 12, 12
    if name == "uschange":
        values = datasets.load_uschange()
        names = ("consumption", "income", "production", "savings", "unemployment")
        return _long({n: _periods(v, "1970Q1", "Q") for n, v in zip(names, values)}), 8, 4
    if name == "macrodata":
        d = sm.datasets.macrodata.load_pandas().data
        cols = ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
                "tbilrate", "unemp", "pop")
        return _long({c: _periods(d[c], "1959Q1", "Q") for c in cols}), 8, 4
    raise ValueError(name)


def before():
    """The classical half before the linear trend joined it."""
    def classical_forecasts(y_fit, y, origins, horizon, season_length=1):
        ets = _ets.fit_ets(y_fit, season_length).forecasts(y, origins, horizon)
        if season_length > 1:
            return ets
        return 0.5 * (ets + _ets.drift_forecasts(y, origins, horizon))

    return mock.patch.object(_forecaster, "classical_forecasts", classical_forecasts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)  # aeon's deprecated loaders
    names = ["naive", "seasonal naive", "ETS", "Theta", "defaults", "before"]
    table = {}
    for name in args.datasets:
        data, horizon, m = load(name)
        history, test = split(data, horizon)
        base = run_baselines(history, test, horizon, m)
        row = {k: np.mean([v[0] for v in base[k][0].values()]) for k in base}
        cov = {}
        for label in ("defaults", "before"):
            scores, covs = [], []
            for seed in args.seeds:
                if label == "before":
                    with before():
                        res, _ = run_rnn(history, test, horizon, m, seed)
                else:
                    res, _ = run_rnn(history, test, horizon, m, seed)
                scores.append(np.mean([v[0] for v in res.values()]))
                covs.append(np.mean([v[1] for v in res.values()]))
            row[label], cov[label] = np.mean(scores), np.mean(covs)
        table[name] = row
        print(f"{name} ({data['unique_id'].nunique()} series, horizon {horizon}, season {m}): "
              + ", ".join(f"{k} {v:.3f}" for k, v in row.items())
              + f"; 80% coverage defaults {cov['defaults']:.2f}, before {cov['before']:.2f}",
              flush=True)
    print(f"\nseeds {args.seeds}: mean MASE over each data set's series (test steps)")
    print("| data set | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[n]:.3f}" for n in names) + " |")
    print("| mean | " + " | ".join(f"{np.mean([r[n] for r in table.values()]):.3f}"
                                   for n in names) + " |")
    wins = np.mean([r["defaults"] < r["before"] for r in table.values()])
    print(f"defaults better than before on {100 * wins:.0f}% of the data sets")


if __name__ == "__main__":
    main()
