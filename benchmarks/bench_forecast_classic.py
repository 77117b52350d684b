"""RNNForecaster with its defaults against naive, seasonal naive, ETS and Theta
on classic real series: MASE and 80% interval coverage, per series and on
average, in one run.

Data (offline): aeon's Airline (monthly, horizon 12) and M1 yearly (181
series, horizon 6, the Monash split); statsmodels' danish_data (5 quarterly
series, horizon 8), interest_inflation (2 quarterly series, horizon 8) and
grunfeld (investment of 11 firms, yearly, horizon 4). The last ``horizon``
steps of every series are the test; everything the models see is the
history. A data set with several series is one panel: one RNNForecaster
trains on all its series (a global model); ETS and Theta fit each series.

MASE divides each series' mean absolute error by its history's mean absolute
seasonal difference (season 12 monthly, 4 quarterly, 1 yearly). Baselines:
naive (last value), seasonal naive (last season repeated), statsmodels'
``ETSModel`` (additive error, additive damped trend, additive season when the
history holds at least three seasons) and ``ThetaModel`` (with the season
length); ETS and Theta's 80% intervals are their own. The last line of the
table is the coverage over every forecast value of every data set.

    OMP_NUM_THREADS=1 python benchmarks/bench_forecast_classic.py            # 3 seeds
    OMP_NUM_THREADS=1 python benchmarks/bench_forecast_classic.py --seeds 1 --datasets airline
    OMP_NUM_THREADS=1 python benchmarks/bench_forecast_classic.py --network-alone  # + ets_weight=0
    OMP_NUM_THREADS=1 python benchmarks/bench_forecast_classic.py --validate --params '{"ets_weight": "auto"}'

``--validate`` scores on the histories only (the last ``horizon`` steps of
every history held out; what the default study reads, never the test).
Requires aeon and statsmodels (``pip install skrnn[benchmarks]``).
"""

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
import torch

from skrnn import RNNForecaster
from skrnn.metrics import interval_coverage, mase_scale

DATASETS = ("airline", "danish", "interest_inflation", "grunfeld", "m1_yearly")


# -------------------------------------------------------------------- data
def load(name):
    """(long table unique_id/ds/y, horizon, season length)."""
    if name == "airline":
        from aeon.datasets import load_airline

        y = load_airline(return_array=False)
        y.index = y.index.to_timestamp()
        return _long({"airline": y.astype(float)}, freq="MS"), 12, 12
    if name == "m1_yearly":
        from aeon.datasets import load_forecasting

        frame = load_forecasting("m1_yearly_dataset")
        series = {f"Y{i + 1}": pd.Series(np.asarray(v, dtype=float))
                  for i, v in enumerate(frame["series_value"])}
        return _long(series), 6, 1
    import statsmodels.api as sm

    if name == "danish":
        data = sm.datasets.danish_data.load_pandas().data
        data.index = pd.PeriodIndex(data.index, freq="Q")
        return _long({c: data[c] for c in data.columns}), 8, 4
    if name == "interest_inflation":
        data = sm.datasets.interest_inflation.load_pandas().data
        index = pd.PeriodIndex.from_fields(year=data["year"].astype(int),
                                           quarter=data["quarter"].astype(int), freq="Q")
        return _long({c: pd.Series(data[c].to_numpy(), index=index) for c in ("Dp", "R")}), 8, 4
    if name == "grunfeld":
        data = sm.datasets.grunfeld.load_pandas().data
        series = {}
        for firm, rows in data.groupby("firm", sort=False):
            series[str(firm)] = pd.Series(
                rows["invest"].to_numpy(),
                index=pd.PeriodIndex(rows["year"].astype(int).astype(str), freq="Y"))
        return _long(series), 4, 1
    raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")


def _long(series, freq=None):
    parts = []
    for key, s in series.items():
        index = s.index
        if freq is not None:
            index = pd.DatetimeIndex(index, freq=freq)
        parts.append(pd.DataFrame({"unique_id": key, "ds": index, "y": s.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def split(table, horizon):
    """(history, test) long tables: the last ``horizon`` rows of every series."""
    last = table.groupby("unique_id", sort=False).cumcount(ascending=False) < horizon
    return table[~last].reset_index(drop=True), table[last].reset_index(drop=True)


def history_and_test(name, validate=False):
    """(history, test, horizon, season) of data set ``name``; with ``validate``
    the histories only: their last ``horizon`` steps held out (series too short
    to keep ``horizon + 2`` steps before them are dropped)."""
    table, horizon, m = load(name)
    history, test = split(table, horizon)
    if validate:
        counts = history.groupby("unique_id", sort=False)["y"].transform("size")
        history = history[counts > 2 * horizon + 2].reset_index(drop=True)
        history, test = split(history, horizon)
    return history, test, horizon, m


def per_series(table):
    return {k: g["y"].to_numpy() for k, g in table.groupby("unique_id", sort=False)}


# ---------------------------------------------------------------- baselines
def naive(h, horizon, m):
    return np.repeat(h[-1], horizon), None


def seasonal_naive(h, horizon, m):
    if m == 1 or len(h) < m:
        return naive(h, horizon, m)
    return np.resize(h[-m:], horizon), None


def ets(h, horizon, m):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = "add" if m > 1 and len(h) >= 3 * m else None
    model = ETSModel(pd.Series(h), error="add", trend="add", damped_trend=True, seasonal=seasonal,
                     seasonal_periods=m if seasonal else None)
    fit = model.fit(disp=False)
    frame = fit.get_prediction(start=len(h), end=len(h) + horizon - 1).summary_frame(alpha=0.2)
    return frame["mean"].to_numpy(), frame[["pi_lower", "pi_upper"]].to_numpy()


def theta(h, horizon, m):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    deseason = m > 1 and len(h) >= 2 * m
    fit = ThetaModel(h, period=m if deseason else 1, deseasonalize=deseason).fit()
    point = np.asarray(fit.forecast(horizon))
    interval = np.asarray(fit.prediction_intervals(horizon, alpha=0.2))
    return point, interval


BASELINES = {"naive": naive, "seasonal naive": seasonal_naive, "ETS": ets, "Theta": theta}


# ------------------------------------------------------------------- scores
def score(histories, truths, points, intervals, m):
    """Per series: (MASE, 80% coverage or NaN)."""
    out = {}
    for key, h in histories.items():
        mase = float(np.mean(np.abs(truths[key] - points[key])) / mase_scale(h, m))
        cov = np.nan
        if intervals is not None and intervals.get(key) is not None:
            lo, hi = intervals[key][:, 0], intervals[key][:, 1]
            cov = interval_coverage(truths[key], np.minimum(lo, hi), np.maximum(lo, hi))
        out[key] = (mase, cov)
    return out


def run_baselines(history, test, horizon, m):
    histories, truths = per_series(history), per_series(test)
    results = {}
    for name, method in BASELINES.items():
        start = time.perf_counter()
        points, intervals = {}, {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for key, h in histories.items():
                points[key], intervals[key] = method(h, horizon, m)
        results[name] = (score(histories, truths, points, intervals, m),
                         time.perf_counter() - start)
    return results


def run_rnn(history, test, horizon, m, seed, **params):
    histories, truths = per_series(history), per_series(test)
    start = time.perf_counter()
    model = RNNForecaster(horizon, id_col="unique_id", time_col="ds", random_state=seed,
                          **params).fit(history)
    point = model.predict()
    interval = model.predict_interval(coverage=0.8)
    points = {k: g["y"].to_numpy() for k, g in point.groupby("unique_id", sort=False)}
    intervals = {k: g[["y_lower", "y_upper"]].to_numpy()
                 for k, g in interval.groupby("unique_id", sort=False)}
    return score(histories, truths, points, intervals, m), time.perf_counter() - start


def evaluate(name, seeds, validate=False, network_alone=False, **params):
    """Baselines and the RNN (one run per seed) on data set ``name``."""
    history, test, horizon, m = history_and_test(name, validate)
    baselines = run_baselines(history, test, horizon, m)
    if network_alone:  # the network half of the hybrid, as a baseline column
        alone = [run_rnn(history, test, horizon, m, seed, **{**params, "ets_weight": 0.0})
                 for seed in seeds]
        scores = [res for res, _ in alone]
        mean = {k: (np.mean([s[k][0] for s in scores]), np.mean([s[k][1] for s in scores]))
                for k in scores[0]}
        baselines["network alone"] = (mean, float(np.mean([t for _, t in alone])))
    rnn = [run_rnn(history, test, horizon, m, seed, **params) for seed in seeds]
    return baselines, rnn, horizon, m


def summarise(name, baselines, rnn, horizon, m, per_series_rows=True):
    keys = list(next(iter(baselines.values()))[0])
    print(f"\n{name}: {len(keys)} series, horizon {horizon}, season {m}; "
          f"RNNForecaster over {len(rnn)} seed(s)")
    names = list(baselines) + ["RNNForecaster"]
    if per_series_rows and len(keys) <= 12:
        print(f"{'series':<20}" + "".join(f"{n:>16}" for n in names))
        for key in keys:
            row = [baselines[n][0][key][0] for n in baselines]
            r = [res[key][0] for res, _ in rnn]
            print(f"{str(key)[:20]:<20}" + "".join(f"{v:>16.3f}" for v in row)
                  + f"{np.mean(r):>9.3f} ± {np.std(r):.3f}")
    summary = {}
    for n in baselines:
        res, t = baselines[n]
        summary[n] = (np.mean([v[0] for v in res.values()]),
                      np.nanmean([v[1] for v in res.values()]) if n in ("ETS", "Theta")
                      else np.nan, t, None)
        if n == "network alone":  # its own calibrated intervals, mean over seeds
            summary[n] = (summary[n][0], np.nanmean([v[1] for v in res.values()]), t, None)
    means = [np.mean([v[0] for v in res.values()]) for res, _ in rnn]
    covs = [np.mean([v[1] for v in res.values()]) for res, _ in rnn]
    wins = [np.mean([res[k][0] < baselines["seasonal naive"][0][k][0] for k in keys])
            for res, _ in rnn]
    summary["RNNForecaster"] = (np.mean(means), np.mean(covs), np.mean([t for _, t in rnn]),
                                (np.std(means), np.std(covs), np.mean(wins)))
    print(f"{'mean over series':<20}{'MASE':>10}{'80% cov.':>10}{'time (s)':>10}")
    for n, (mase, cov, t, extra) in summary.items():
        if extra is None:
            print(f"{n:<20}{mase:>10.3f}{cov:>10.3f}{t:>10.1f}")
        else:
            print(f"{n:<20}{mase:>10.3f}{cov:>10.3f}{t:>10.1f}   (± {extra[0]:.3f} MASE, "
                  f"± {extra[1]:.3f} cov. over seeds; beats seasonal naive on "
                  f"{100 * extra[2]:.0f}% of series)")
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--validate", action="store_true",
                        help="score on the histories only (the study's data)")
    parser.add_argument("--network-alone", action="store_true",
                        help="also RNNForecaster(ets_weight=0), the network half of the defaults")
    parser.add_argument("--params", type=json.loads, default={},
                        help="JSON dict of RNNForecaster parameters to change from the defaults")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    table, n_values = {}, {}
    for name in args.datasets:
        baselines, rnn, horizon, m = evaluate(name, range(args.seeds), args.validate,
                                              args.network_alone, **args.params)
        table[name] = summarise(name, baselines, rnn, horizon, m)
        n_values[name] = len(next(iter(baselines.values()))[0]) * horizon
    print("\nMASE (80% coverage) per data set, mean over its series:")
    names = list(next(iter(table.values())))
    print("| data set | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for name, summary in table.items():
        cells = []
        for n in names:
            mase, cov, _, extra = summary[n]
            text = f"{mase:.3f}" if extra is None else f"{mase:.3f} ± {extra[0]:.3f}"
            if not np.isnan(cov):
                text += f" ({cov:.2f})"
            cells.append(text)
        print(f"| {name} | " + " | ".join(cells) + " |")
    means = {n: np.mean([table[d][n][0] for d in table]) for n in names}
    print("| mean of data sets | " + " | ".join(f"{means[n]:.3f}" for n in names) + " |")
    # coverage over every forecast value of every series and data set (each data set's
    # coverage is a mean over its series, which share one horizon)
    total = sum(n_values.values())
    pooled = {n: sum(table[d][n][1] * n_values[d] for d in table) / total for n in names}
    print(f"| 80% coverage over all {total} forecast values | "
          + " | ".join("" if np.isnan(pooled[n]) else f"{pooled[n]:.2f}" for n in names) + " |")


if __name__ == "__main__":
    main()
