"""Recursive forecast time as the history grows: O(horizon x window).

``forecast_recursive`` predicts from the last ``window`` rows of each series
at every step; the former algorithm predicted on the whole history at every
step (O(horizon x history)). This prints both times for one series of
growing length (and checks they forecast the same values), then the time
for a panel of many series forecast together.

    OMP_NUM_THREADS=1 python benchmarks/bench_forecast_recursive.py
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from skrnn import RNNRegressor, TimeSeriesWindower
from skrnn.forecasting import forecast_recursive, future_index, make_horizon_targets

WINDOW, HORIZON = 24, 24


def series(n, seed=0, name="y"):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    values = 10 + np.sin(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n)
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=n, freq="h"), name=name)


def model(**windower):
    return make_pipeline(TimeSeriesWindower(window=WINDOW, **windower),
                         RNNRegressor(hidden_size=16, max_iter=1, random_state=0))


def full_history(estimator, history, horizon):
    """The former algorithm: predict on the whole history at every step."""
    extended = pd.concat([history, pd.Series(np.nan, index=future_index(history.index, horizon),
                                             name=history.name)])
    n = len(history)
    for step in range(horizon):
        extended.iloc[n + step] = np.ravel(estimator.predict(extended.iloc[: n + step]))[-1]
    return extended.iloc[n:].to_numpy()


def timed(func):
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[500, 2000, 8000, 32000])
    parser.add_argument("--series", type=int, default=200)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    y = series(2000)
    est = model().fit(y.iloc[:-1], make_horizon_targets(y, 1).iloc[:-1, 0])
    print(f"one series, window {WINDOW}, horizon {HORIZON}, LSTM 16 (CPU)")
    print(f"{'history':>8} {'recursive (s)':>14} {'full history (s)':>17} {'max |diff|':>11}")
    for n in args.lengths:
        history = series(n, seed=1)
        new, t_new = timed(lambda: forecast_recursive(est, history, HORIZON).to_numpy())
        old, t_old = timed(lambda: full_history(est, history, HORIZON))
        print(f"{n:>8} {t_new:>14.3f} {t_old:>17.3f} {np.abs(new - old).max():>11.2e}")

    print(f"\npanel: {args.series} series (long format), window {WINDOW}, horizon {HORIZON}")
    print(f"{'history/series':>14} {'rows':>8} {'recursive (s)':>14}")
    panel_est = None
    for n in args.lengths[:3]:
        parts = [series(n, seed=s).rename_axis("ds").reset_index().assign(unique_id=s)
                 for s in range(args.series)]
        long = pd.concat(parts, ignore_index=True)
        if panel_est is None:
            Y = make_horizon_targets(long, 1, target="y", id_col="unique_id", time_col="ds")
            keep = Y.notna().all(axis=1).to_numpy()
            panel_est = model(id_col="unique_id", time_col="ds").fit(long[keep], Y[keep])
        _, t_panel = timed(lambda: forecast_recursive(panel_est, long, HORIZON, target="y"))
        print(f"{n:>14} {len(long):>8} {t_panel:>14.3f}")


if __name__ == "__main__":
    main()
