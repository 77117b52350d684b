"""The recursive forecasting loop: O(horizon x window) per series.

numpy/pandas only (no torch). Every step predicts from the last ``window``
rows of every series at once (one ``predict`` call), writes the predictions
into the next row and slides on; the history before the window is never
read again.
"""

import numpy as np
import pandas as pd

from ._quantiles import median_position

__all__ = ["recursive_predictions"]


def recursive_predictions(estimator, history, table, groups, futures, window, target_idx,
                          static_idx, known_idx, future_known, quantiles=None):
    """Feed one-step predictions back; return the forecasts (n_series,
    horizon, n_targets) and, with ``quantiles`` (``(predict, levels)`` from
    :func:`skrnn.forecasting._quantiles.quantile_predictor`), the quantiles of every step
    (n_series, horizon, n_targets, n_levels), else None. A quantile model
    feeds back its median."""
    n_series, horizon = len(groups), len(futures[0])
    values = table.values.to_numpy(dtype=np.float64)
    lengths = np.array([min(window, len(rows)) for rows in groups])
    span = window + horizon
    buffer = np.full((n_series, span, values.shape[1]), np.nan)
    stamps = []
    for k, rows in enumerate(groups):
        tail = rows[len(rows) - lengths[k] :]
        buffer[k, window - lengths[k] : window] = values[tail]
        pad = table.times[tail[:1]].repeat(window - lengths[k])
        stamps.append(pad.append(table.times[tail]).append(futures[k]))
    stamps = stamps[0].append(stamps[1:])
    buffer[:, window:, known_idx] = future_known
    buffer[:, window:, static_idx] = buffer[:, window - 1 : window, static_idx]
    ids = None if table.ids is None else np.repeat(np.asarray(table.ids), span)
    offsets = np.arange(n_series)[:, None] * span
    q_out = None
    for step in range(horizon):
        first = window - np.minimum(lengths + step, window)  # short series: no padding rows
        cols = np.arange(step, step + window)
        real = cols[None, :] - step >= first[:, None]
        positions = (offsets + cols[None, :])[real]
        rows = buffer.reshape(-1, buffer.shape[2])[positions]
        frame = _frame_like(history, table, rows, stamps.take(positions),
                            None if ids is None else ids[positions])
        last = np.cumsum(real.sum(axis=1)) - 1
        if quantiles is None:
            pred = np.asarray(estimator.predict(frame))
            pred = pred.reshape(len(pred), -1)[last]
        else:
            q = quantiles[0](frame)[last]  # (n_series, n_outputs, n_levels)
            pred = q[..., median_position(quantiles[1])]
        if pred.shape[1] != len(target_idx):
            raise ValueError(
                f"The estimator predicts {pred.shape[1]} value(s) per row but the recursive "
                f"strategy feeds back {len(target_idx)} target column(s); fit it on the "
                "one-step-ahead value of each target column (for a direct multi-output "
                "model use forecast_direct)."
            )
        buffer[:, window + step, target_idx] = pred
        if quantiles is not None:
            if q_out is None:
                q_out = np.empty((n_series, horizon) + q.shape[1:])
            q_out[:, step] = q
    return buffer[:, window:, target_idx], q_out


def _frame_like(history, table, values, stamps, ids):
    """Rows in the layout of ``history`` (Series, DataFrame, MultiIndex, long)."""
    columns = list(table.values.columns)
    if isinstance(history, pd.Series):
        index = stamps if ids is None else _multiindex(history, table, ids, stamps)
        return pd.Series(values[:, 0], index=index, name=history.name)
    data = dict(zip(columns, values.T))
    if table.layout == "multiindex":
        return pd.DataFrame(data, index=_multiindex(history, table, ids, stamps),
                            columns=columns)
    index = None
    if table.layout == "long":
        data[table.id_name] = ids
    if table.time_name in history.columns:
        data[table.time_name] = stamps
    else:
        index = stamps.rename(history.index.name)
    return pd.DataFrame(data, index=index, columns=history.columns)


def _multiindex(history, table, ids, stamps):
    levels = [ids, stamps] if table.id_first else [stamps, ids]
    return pd.MultiIndex.from_arrays(levels, names=history.index.names)
