"""The README's lower-level direct forecasting recipe on Airline
(``TimeSeriesWindower(window=24)``, ``SequenceScaler()``, ``RNNRegressor()``;
12 outputs, one per month ahead; the last 12 months are the test) with the
regressor's defaults and with the previous ones (no penalty, 3e-3): MAPE of
the 12-month forecast, per seed.

    OMP_NUM_THREADS=1 python studies/regressor_window_recipe.py ['{"alpha": 0.003}' ...]
"""

import json
import sys
import warnings

import numpy as np
import torch
from sklearn.pipeline import make_pipeline

from skrnn import RNNRegressor, SequenceScaler, TimeSeriesWindower
from skrnn.forecasting import forecast_direct, make_horizon_targets

VARIANTS = {"defaults": {}, "alpha=0, 3e-3 (before)": {"alpha": 0.0, "learning_rate_init": 3e-3}}


def ridge_mape(history, Y, keep, test):
    """A ridge on the same windows (flattened), as the regression studies fit it."""
    from sklearn.linear_model import RidgeCV
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    # (padded early windows, never fitted on, are read as zeros if predicted)
    flat = FunctionTransformer(lambda X: np.nan_to_num(np.asarray(X).reshape(len(X), -1)))
    model = make_pipeline(TimeSeriesWindower(window=24), flat, StandardScaler(),
                          RidgeCV(alphas=np.logspace(-3, 3, 13)))
    full = keep & (np.arange(len(keep)) >= 23)  # windows without padding
    model.fit(history[full], Y[full])
    fc = np.asarray(forecast_direct(model, history)).ravel()
    return float(np.mean(np.abs(fc - test) / test))


def main():
    from aeon.datasets import load_airline

    torch.set_num_threads(1)
    y = load_airline(return_array=False)
    y.index = y.index.to_timestamp()
    df = y.rename("y").to_frame()
    history, test = df.iloc[:-12], df["y"].iloc[-12:].to_numpy()
    Y = make_horizon_targets(history["y"], horizon=12)
    keep = Y.notna().all(axis=1)
    variants = dict(VARIANTS)
    for text in sys.argv[1:]:  # further variants as JSON
        variants[text] = json.loads(text)
    print(f"ridge on the windows: MAPE {ridge_mape(history, Y, keep, test):.3f}", flush=True)
    for name, params in variants.items():
        mapes = []
        for seed in (0, 1, 2):
            model = make_pipeline(TimeSeriesWindower(window=24), SequenceScaler(),
                                  RNNRegressor(random_state=seed, **params))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(history[keep], Y[keep])
            fc = np.asarray(forecast_direct(model, history)).ravel()
            mapes.append(float(np.mean(np.abs(fc - test) / test)))
        print(f"{name}: MAPE " + ", ".join(f"{m:.3f}" for m in mapes)
              + f" (median {np.median(mapes):.3f})", flush=True)


if __name__ == "__main__":
    main()
