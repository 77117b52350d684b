"""
Forecast a year of airline passengers with RNNForecaster's defaults
===================================================================

One estimator, no preprocessing by hand: ``RNNForecaster(12).fit(y)`` on the
monthly Series (aeon's Airline data, 1949-1959 as the history) reads the
season length (12) from the index frequency, models the logarithm of the
positive series relative to each window's last value, averages the
network's forecast with exponential smoothing forecasts (the hybrid
default), and gives the next 12 months with an 80% interval calibrated on out-of-sample errors of the
history. The forecast of 1960 is scored with MASE (seasonal, scaled on the
history) beside the seasonal naive forecast (1959 repeated), over three
seeds.

Run::

    python examples/airline_forecaster.py

It prints the forecast of the first seed with its interval, then one line
per seed; a full run printed MASE 0.483, 0.477 and 0.505 (seasonal naive 1.571), the
80% interval covering 100% of 1960 on every seed (see the README for ETS and
Theta on the same split). ``SKRNN_DOCS_FAST=1`` runs one seed.
Requires aeon (the data); matplotlib for the plot
(``examples/output/airline_forecaster.png``).
"""

import os
import time
from pathlib import Path

from skrnn import RNNForecaster
from skrnn.metrics import interval_coverage, mean_absolute_scaled_error

SEEDS = 1 if os.environ.get("SKRNN_DOCS_FAST") == "1" else 3
OUTPUT = Path(__file__).resolve().parent / "output"


def load_airline():
    try:
        from aeon.datasets import load_airline
    except ImportError as exc:  # optional dependency
        raise SystemExit("This example needs aeon: pip install aeon") from exc
    y = load_airline(return_array=False)
    y.index = y.index.to_timestamp()
    y.index.freq = "MS"
    return y.rename("passengers").astype(float)


def main():
    y = load_airline()
    history, actual = y[:-12], y[-12:]
    naive = mean_absolute_scaled_error(actual, history[-12:].to_numpy(), y_history=history,
                                       season_length=12)
    first = None
    for seed in range(SEEDS):
        start = time.perf_counter()
        model = RNNForecaster(12, random_state=seed).fit(history)
        forecast, interval = model.predict(), model.predict_interval(coverage=0.8)
        mase = mean_absolute_scaled_error(actual, forecast, y_history=history,
                                          season_length=12)
        cover = interval_coverage(actual, interval.iloc[:, 0], interval.iloc[:, 1])
        if first is None:
            first = (forecast, interval)
            table = interval.assign(forecast=forecast, actual=actual)
            print(table.round(1).to_string())
        print(f"seed {seed}: MASE {mase:.3f} (seasonal naive {naive:.3f}), 80% interval "
              f"covers {cover:.0%} of 1960, fit {time.perf_counter() - start:.0f} s")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    from skrnn.plotting import plot_forecast

    ax = plot_forecast(history, first[0], first[1], actual=actual, n_history=48,
                       title="Airline passengers: RNNForecaster(12), 80% interval")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(OUTPUT / "airline_forecaster.png", dpi=110)
    plt.close(ax.figure)
    print(f"plot written to {OUTPUT / 'airline_forecaster.png'}")


if __name__ == "__main__":
    main()
