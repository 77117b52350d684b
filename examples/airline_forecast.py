"""
Forecast three years of airline passengers with an LSTM, two ways
=================================================================

The common protocol on Box & Jenkins' airline data (monthly totals,
1949-1960): train on 1949-1957 (108 months), forecast the 36 months of
1958-1960 in one go, score MAPE and RMSE. Published MAPEs on this protocol:
seasonal naive 0.132, Holt-Winters 0.051, AutoARIMA 0.042.

108 points are few for a neural network, so the pipeline does what a
forecaster would do with any model:

- detrend: a straight line fitted to the training years carries the level
  (passengers grew by about the same number each year); the network models
  the ratio ``passengers / trend``, a stationary seasonal pattern whose
  amplitude grows with the level (multiplicative seasonality);
- exogenous calendar features: sine and cosine of the month, known for
  every future month;
- windows of the last ``window`` months (``TimeSeriesWindower``), scaled per
  feature (``SequenceScaler``), read by an ``RNNRegressor``; the targets are
  standardised by ``TransformedTargetRegressor``.

Two strategies: *direct* (one model, 36 outputs: the ratio 1..36 months
ahead) and *recursive* (one-month-ahead model whose forecasts are fed back,
with the future calendar features as exogenous input). Each runs with 5
seeds; the table gives mean and standard deviation (and range) over seeds,
next to seasonal naive (the value 12 months earlier, i.e. 1957 repeated).

Run::

    python examples/airline_forecast.py            # 5 seeds, writes the plot
    python examples/airline_forecast.py --seeds 1  # quick run

Requires the optional dependencies aeon (the data set) and matplotlib (the
plot, written to examples/output/airline_forecast.png: the mean forecast of
each strategy with the range of its seeds as a band).
``SKRNN_DOCS_FAST=1`` (the documentation build) runs 3 seeds instead of 5.
"""

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrnn import RNNRegressor, SequenceScaler, TimeSeriesWindower
from skrnn.forecasting import (
    forecast_direct,
    forecast_recursive,
    future_index,
    make_horizon_targets,
)

HORIZON = 36
FAST = os.environ.get("SKRNN_DOCS_FAST") == "1"
OUTPUT = Path(__file__).resolve().parent / "output"


def load_airline_series():
    """Monthly passengers (thousands) as a Series with a DatetimeIndex."""
    try:
        from aeon.datasets import load_airline
    except ImportError as exc:  # optional dependency
        raise SystemExit("This example needs aeon: pip install aeon") from exc
    y = load_airline(return_array=False)
    y.index = y.index.to_timestamp()
    y.index.freq = "MS"
    return y.rename("passengers").astype(float)


class LinearTrend:
    """A straight line through the training values, extrapolated in time."""

    def fit(self, y):
        self.start_ = y.index[0]
        self.coef_ = np.polyfit(self._steps(y.index), y.to_numpy(), deg=1)
        return self

    def _steps(self, index):
        return np.asarray((index.year - self.start_.year) * 12 + index.month - self.start_.month)

    def __call__(self, index):
        return pd.Series(np.polyval(self.coef_, self._steps(index)), index=index)


def features(index, ratio=None):
    """The model's table: the detrended ratio (if known) and the calendar."""
    month = 2 * np.pi * index.month.to_numpy() / 12
    table = pd.DataFrame({"sin": np.sin(month), "cos": np.cos(month)}, index=index)
    if ratio is not None:
        table.insert(0, "ratio", ratio.to_numpy())
    return table


def make_model(seed, window, hidden_size, max_iter):
    network = make_pipeline(
        TimeSeriesWindower(window=window),
        SequenceScaler(),
        RNNRegressor(hidden_size=hidden_size, learning_rate_init=1e-2, max_iter=max_iter,
                     batch_size=16, random_state=seed),
    )
    return TransformedTargetRegressor(network, transformer=StandardScaler())


def direct_forecast(history, seed, args):
    """One model with HORIZON outputs; the last row's prediction is the forecast."""
    targets = make_horizon_targets(history["ratio"], HORIZON)
    complete = targets.notna().all(axis=1)
    model = make_model(seed, args.window, args.hidden_size, args.max_iter)
    model.fit(history[complete], targets[complete])
    return forecast_direct(model, history)


def recursive_forecast(history, seed, args):
    """A one-month-ahead model fed back its own forecasts."""
    target = make_horizon_targets(history["ratio"], 1).iloc[:-1, 0]
    model = make_model(seed, args.window, args.hidden_size, args.max_iter)
    model.fit(history.iloc[:-1], target)
    calendar = features(future_index(history.index, HORIZON))
    return forecast_recursive(model, history, HORIZON, target="ratio", exog=calendar)


def mape(truth, forecast):
    return float(np.mean(np.abs(truth - forecast) / np.abs(truth)))


def rmse(truth, forecast):
    return float(np.sqrt(np.mean((truth - forecast) ** 2)))


def run(args):
    y = load_airline_series()
    train, test = y[:"1957"], y["1958":"1960"]
    trend = LinearTrend().fit(train)
    history = features(train.index, train / trend(train.index))
    future_trend = trend(test.index).to_numpy()
    strategies = {"direct": direct_forecast, "recursive": recursive_forecast}
    forecasts = {name: [] for name in strategies}
    for seed in range(args.seeds):
        for name, strategy in strategies.items():
            ratio = strategy(history, seed, args)
            forecasts[name].append(pd.Series(ratio.to_numpy() * future_trend, index=test.index))
    naive = pd.Series(np.tile(train.to_numpy()[-12:], HORIZON // 12), index=test.index)
    return y, train, test, naive, forecasts


def summary_table(test, naive, forecasts):
    rows = [("seasonal naive", [mape(test, naive)], [rmse(test, naive)])]
    for name, runs in forecasts.items():
        rows.append((f"RNN {name}", [mape(test, f) for f in runs], [rmse(test, f) for f in runs]))
    lines = [f"{'model':<16} {'MAPE mean ± std':>17} {'MAPE range':>15} {'RMSE mean ± std':>17}"]
    for name, mapes, rmses in rows:
        m, r = np.array(mapes), np.array(rmses)
        lines.append(
            f"{name:<16} {m.mean():>8.4f} ± {m.std():<6.4f} "
            f"{m.min():>6.4f}-{m.max():<6.4f} {r.mean():>8.1f} ± {r.std():<6.1f}"
        )
    return "\n".join(lines)


def plot(y, train, test, forecasts, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(train.index, train, color="black", label="history (1949-1957)")
    ax.plot(test.index, test, color="black", linestyle="--", label="truth (1958-1960)")
    for (name, runs), color in zip(forecasts.items(), ["tab:blue", "tab:orange"]):
        stacked = np.vstack([f.to_numpy() for f in runs])
        ax.plot(test.index, stacked.mean(axis=0), color=color,
                label=f"{name} (mean of {len(runs)} seeds)")
        ax.fill_between(test.index, stacked.min(axis=0), stacked.max(axis=0),
                        color=color, alpha=0.2)
    ax.set_ylabel("passengers (thousands)")
    ax.set_title("Airline passengers: 36-month LSTM forecasts")
    ax.legend(loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3 if FAST else 5)
    parser.add_argument("--window", type=int, default=24)
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--max-iter", type=int, default=150)
    parser.add_argument("--plot", type=Path, default=OUTPUT / "airline_forecast.png")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    start = time.perf_counter()
    y, train, test, naive, forecasts = run(args)
    print(f"Airline passengers: train {train.index[0]:%Y-%m}..{train.index[-1]:%Y-%m} "
          f"({len(train)} months), forecast {len(test)} months in one go; "
          f"{args.seeds} seed(s), window={args.window}, hidden_size={args.hidden_size}, "
          f"max_iter={args.max_iter}")
    print(summary_table(test, naive, forecasts))
    print("published MAPE: seasonal naive 0.132, Holt-Winters 0.051, AutoARIMA 0.042")
    print(f"total time {time.perf_counter() - start:.0f} s")
    plot(y, train, test, forecasts, args.plot)


if __name__ == "__main__":
    main()
