"""Quantile forecasts from a fitted model, for the forecasting helpers.

numpy only (no torch). A model has quantiles when it (or the last step of
its pipeline) has ``predict_quantiles`` -- :class:`~skrnn.RNNRegressor`
with ``loss='quantile'``, or :class:`~skrnn.preprocessing.WindowScaledRegressor`
around one -- and its levels are known (``quantiles_``).
"""

import numpy as np
from sklearn.pipeline import Pipeline

__all__ = ["quantile_predictor", "median_position", "quantile_columns"]


def _levels(estimator):
    levels = getattr(estimator, "quantiles_", None)
    if levels is None and hasattr(estimator, "regressor_"):
        return _levels(estimator.regressor_)
    return None if levels is None else np.asarray(levels, dtype=np.float64)


def quantile_predictor(estimator):
    """``(predict, levels)`` where ``predict(X)`` gives the quantiles
    ``(n_rows, n_outputs, n_levels)`` of ``estimator`` and ``levels`` the
    quantile levels; None when the model predicts no quantiles."""
    final, prefix = estimator, None
    if isinstance(estimator, Pipeline):
        final, prefix = estimator.steps[-1][1], estimator[:-1]
    if not hasattr(final, "predict_quantiles"):
        return None
    levels = _levels(final)
    if levels is None:
        return None

    def predict(X):
        rows = X if prefix is None else prefix.transform(X)
        out = np.asarray(final.predict_quantiles(rows), dtype=np.float64)
        return out.reshape(len(out), -1, len(levels))

    return predict, levels


def median_position(levels):
    return int(np.argmin(np.abs(levels - 0.5)))


def quantile_columns(name, levels, values):
    """``{'<name>_q<level>': column}`` for (n_rows, n_levels) ``values``."""
    return {f"{name}_q{level:g}": values[:, j] for j, level in enumerate(levels)}
