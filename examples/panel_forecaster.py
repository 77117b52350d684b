"""
Forecast a panel of firms' investment with intervals and a backtest
===================================================================

Grunfeld's investment data (statsmodels, 11 US firms, yearly 1935-1954) in
long format, ``firm`` / ``year`` / ``invest``: one :class:`~skrnn.RNNForecaster`
trains a global model over all firms, each scaled by itself (General Motors
invests a hundred times what Diamond Match does). The last 4 years of every
firm are held out; the script prints the forecasts with their 80% intervals
in the long layout, the MASE per firm, and a rolling backtest of the
history (``backtest``: three windows, refit on each), whose interval
coverage checks the calibration.

Run::

    python examples/panel_forecaster.py

A run printed a mean MASE of 2.579 over the firms (ETS 2.866, Theta 3.294 on
the same split, ``benchmarks/bench_forecast_classic.py``), intervals covering
95% of the held-out years, and 61% in the backtest on the history (cutoffs
1944, 1945, 1946).

Requires statsmodels (the data); matplotlib for the plot
(``examples/output/panel_forecaster.png``).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from skrnn import RNNForecaster
from skrnn.metrics import mean_absolute_scaled_error

HORIZON = 4
OUTPUT = Path(__file__).resolve().parent / "output"


def load_grunfeld():
    try:
        import statsmodels.api as sm
    except ImportError as exc:  # optional dependency
        raise SystemExit("This example needs statsmodels: pip install statsmodels") from exc
    data = sm.datasets.grunfeld.load_pandas().data
    data["year"] = pd.PeriodIndex(data["year"].astype(int).astype(str), freq="Y")
    return data[["firm", "year", "invest"]].astype({"firm": str})


def _series(frame, firm):
    """One firm's investment as a Series indexed by time."""
    rows = frame[frame["firm"] == firm]
    return pd.Series(rows["invest"].to_numpy(), index=rows["year"].dt.to_timestamp())


def main():
    data = load_grunfeld()
    last = data.groupby("firm").cumcount(ascending=False) < HORIZON
    history, actual = data[~last], data[last]
    model = RNNForecaster(HORIZON, id_col="firm", time_col="year", random_state=0)
    model.fit(history)
    forecast = model.predict()
    table = forecast.merge(model.predict_interval(), on=["firm", "year"])
    table = table.merge(actual.rename(columns={"invest": "actual"}), on=["firm", "year"])
    print(table.head(8).round({c: 1 for c in table.columns[2:]}).to_string(index=False))
    scores = {firm: mean_absolute_scaled_error(
        actual.loc[actual["firm"] == firm, "invest"], rows["invest"],
        y_history=history.loc[history["firm"] == firm, "invest"])
        for firm, rows in forecast.groupby("firm", sort=False)}
    print("MASE per firm:", ", ".join(f"{k} {v:.2f}" for k, v in scores.items()))
    covered = table["actual"].between(table["invest_lower"], table["invest_upper"])
    print(f"mean MASE {np.mean(list(scores.values())):.3f}; 80% intervals cover "
          f"{covered.mean():.0%} of the held-out years")
    bt = model.backtest(history, n_windows=3, step=1, refit=True)
    inside = (bt["invest"] >= bt["invest_lower"]) & (bt["invest"] <= bt["invest_upper"])
    print(f"backtest on the history: {bt['cutoff'].nunique()} cutoffs "
          f"({', '.join(str(c) for c in sorted(set(bt['cutoff'])))}), coverage {inside.mean():.0%}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    from skrnn.plotting import plot_forecast

    fig, axes = plt.subplots(2, 2, figsize=(11, 6))
    for ax, firm in zip(axes.ravel(), ["General Motors", "IBM", "Westinghouse",
                                       "Diamond Match"]):
        rows = table[table["firm"] == firm]
        index = rows["year"].dt.to_timestamp()
        plot_forecast(_series(history, firm), _series(rows, firm), pd.DataFrame(
            rows[["invest_lower", "invest_upper"]].to_numpy(), index=index),
            actual=_series(actual, firm), ax=ax, title=firm)
    fig.tight_layout()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUTPUT / "panel_forecaster.png", dpi=110)
    plt.close(fig)
    print(f"plot written to {OUTPUT / 'panel_forecaster.png'}")


if __name__ == "__main__":
    main()
