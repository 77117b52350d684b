"""
Tune the window of an LSTM forecaster with GridSearchCV and TimeSeriesSplit
===========================================================================

The airline passengers of 1949-1957 (detrended and with calendar features,
as in ``airline_forecast.py``) are split into expanding training folds by
``TimeSeriesSplit``: every validation fold lies after its training data, so
the search never peeks into the future. ``GridSearchCV`` tunes the length
of the window the LSTM reads (``timeserieswindower__window``) and its
``hidden_size`` on one-month-ahead error; the best pipeline, refitted on all
of 1949-1957, then forecasts 1958-1960 recursively.

Run::

    python examples/airline_gridsearch.py

Requires the optional dependency aeon (the data set).
``SKRNN_DOCS_FAST=1`` (the documentation build) trains every candidate for
80 epochs instead of 150, so its errors are those of a shorter training.
"""

import os
import time
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from skrnn.forecasting import forecast_recursive, future_index, make_horizon_targets

from airline_forecast import HORIZON, LinearTrend, features, load_airline_series, make_model, mape

MAX_ITER = 80 if os.environ.get("SKRNN_DOCS_FAST") == "1" else 150
GRID = {
    "timeserieswindower__window": [3, 12, 24],
    "rnnregressor__hidden_size": [16, 32],
}


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    start = time.perf_counter()
    y = load_airline_series()
    train, test = y[:"1957"], y["1958":"1960"]
    trend = LinearTrend().fit(train)
    history = features(train.index, train / trend(train.index))
    target = make_horizon_targets(history["ratio"], 1).iloc[:-1, 0]

    search = GridSearchCV(
        make_model(seed=0, loss="squared_error",
                   args=SimpleNamespace(window=12, hidden_size=32, max_iter=MAX_ITER,
                                        target_scaling="standard")),
        GRID,
        cv=TimeSeriesSplit(n_splits=3, test_size=12),
        scoring="neg_mean_absolute_percentage_error",
    ).fit(history.iloc[:-1], target)

    results = pd.DataFrame(search.cv_results_)
    table = results[["param_timeserieswindower__window",
                     "param_rnnregressor__hidden_size",
                     "mean_test_score", "std_test_score", "rank_test_score"]]
    table.columns = ["window", "hidden_size", "mean CV MAPE", "std", "rank"]
    table = table.assign(**{"mean CV MAPE": -table["mean CV MAPE"]})
    print("one-month-ahead MAPE of the detrended ratio, TimeSeriesSplit(3 folds of 12 months)")
    print(table.sort_values("rank").to_string(index=False, float_format="%.4f"))
    print(f"best: {search.best_params_}")

    calendar = features(future_index(history.index, HORIZON))
    ratio = forecast_recursive(search.best_estimator_, history, HORIZON, target="ratio",
                               exog=calendar)
    forecast = ratio.to_numpy() * trend(test.index).to_numpy()
    naive = np.tile(train.to_numpy()[-12:], HORIZON // 12)
    print(f"36-month recursive forecast of 1958-1960 with the best pipeline: "
          f"MAPE {mape(test.to_numpy(), forecast):.4f} "
          f"(seasonal naive {mape(test.to_numpy(), naive):.4f})")
    print(f"total time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
