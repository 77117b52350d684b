"""Regression targets (numpy only): per-step targets aligned with the
input's real steps, quantile levels, the per-output standardisation the
network trains on, the loss of the best constant predictor, and the
network's outputs mapped back to the targets' scale.

Training happens on standardised targets (``(y - centre) / scale`` per
output: median and IQR, or mean and std; fitted on the first call to
``fit``/``partial_fit``), so every loss sees values of order one whatever the
scale of ``y``; predictions are mapped back with ``out * scale + centre``.
"""

import numpy as np
import pandas as pd

from .data import _as_numeric, _is_ragged_container, _ragged_arrays, to_channels_last

_IQR_PER_STD = 1.3489795  # interquartile range of the standard normal


def check_quantiles(quantiles):
    """The quantile levels as a 1-D float array; strictly increasing, in
    (0, 1) and holding 0.5 (the median that ``predict`` returns)."""
    try:
        levels = np.asarray(quantiles, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"quantiles must be a sequence of numbers; got {quantiles!r}.") from None
    if levels.ndim != 1 or levels.size == 0:
        raise ValueError(f"quantiles must be a non-empty 1-D sequence; got {quantiles!r}.")
    if not np.all((levels > 0) & (levels < 1)):
        raise ValueError(f"quantiles must lie strictly between 0 and 1; got {levels.tolist()}.")
    if np.any(np.diff(levels) <= 0):
        raise ValueError(
            f"quantiles must be sorted and unique; got {levels.tolist()}; pass e.g. "
            f"{sorted(set(levels.tolist()))}."
        )
    if not np.any(np.isclose(levels, 0.5)):
        raise ValueError(
            f"quantiles must include 0.5, the median that predict returns; got {levels.tolist()}."
        )
    return levels


def n_levels(quantiles):
    """Raw network outputs per target: the number of quantile levels, or 1
    for a point loss (``quantiles`` None)."""
    return 1 if quantiles is None else len(quantiles)


def median_index(quantiles):
    """Position of the median among the levels (0 for a point loss)."""
    return 0 if quantiles is None else int(np.flatnonzero(np.isclose(quantiles, 0.5))[0])


def target_scaling(values, how, weights=None):
    """``(centre, scale)``: the per-output (weighted) centre and scale of the training
    targets ``values`` (n_rows, n_outputs): mean and standard deviation
    (``how='standard'``), median and interquartile range / 1.349 (``'robust'``), or 0
    and 1 (``None``). Weighting makes a weight of 2 the same as a
    repeated row."""
    values = np.asarray(values, dtype=np.float64)
    if how in ("standard", "robust"):
        mean = np.average(values, axis=0, weights=weights)
        scale = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
        if how == "robust":
            # median and interquartile range; inverted_cdf quantiles make a
            # weight of 2 the same as a repeated row
            q25, median, q75 = np.quantile(values, [0.25, 0.5, 0.75], axis=0,
                                           weights=_column_weights(weights, values),
                                           method="inverted_cdf")
            # IQR / 1.349: the standard deviation for Gaussian targets
            mean, scale = median, np.where(q75 > q25, (q75 - q25) / _IQR_PER_STD, scale)
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
    else:
        mean, scale = np.zeros(values.shape[1]), np.ones(values.shape[1])
    return mean, scale


def constant_loss(loss, values, weights, *, quantiles=None, huber_delta=1.0):
    """The loss ``loss`` of the best constant predictor of the (scaled)
    training targets ``values`` (n_rows, n_outputs): the weighted median
    (absolute and Huber loss, the latter approximately) or each level's
    weighted quantile (pinball loss), averaged over outputs and levels as the
    training loss is. The plateau floor of the stopping rule compares with it."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0:
        return None
    levels = np.asarray(quantiles) if loss == "quantile" else np.array([0.5])
    const = np.quantile(values, levels, axis=0, weights=_column_weights(weights, values),
                        method="inverted_cdf").T  # (n_outputs, n_levels)
    diff = values[:, :, None] - const
    if loss == "quantile":
        per = np.maximum(levels * diff, (levels - 1) * diff)
    elif loss == "huber":
        delta, a = float(huber_delta), np.abs(diff)
        per = np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))
    else:
        per = np.abs(diff)
    return float(np.average(per.mean((1, 2)), weights=weights))


def _column_weights(weights, values):
    return None if weights is None else np.broadcast_to(weights[:, None], values.shape)


def scale_targets(values, centre, scale):
    return ((values - centre) / scale).astype(np.float32)


def quantile_values(outputs, quantiles, centre, scale):
    """Network outputs (n_rows, K * Q) -> quantiles (n_rows, K, Q) on the
    targets' own scale (Q = 1 for a point loss, ``quantiles`` None; no
    scaling when ``centre`` is None, a model fitted before target scaling)."""
    q = n_levels(quantiles)
    raw = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1, q)
    if q > 1:
        steps = np.logaddexp(0.0, raw[..., 1:])  # softplus, as in training
        raw = np.concatenate([raw[..., :1], raw[..., :1] + np.cumsum(steps, axis=-1)], axis=-1)
    if centre is None:
        return raw
    return raw * scale[:, None] + centre[:, None]


def point_values(outputs, quantiles, centre, scale):
    """The point prediction (n_rows, K) on the targets' scale: the output of
    a point loss, the median of the quantile loss."""
    return quantile_values(outputs, quantiles, centre, scale)[..., median_index(quantiles)]


def align_step_targets(y, X_seqs, name="y"):
    """Per-time-step targets aligned with the real steps of ``X_seqs``.

    ``y`` has the same layout as ``X``: a list of (T_i,) or (T_i, n_outputs)
    arrays for ragged ``X`` (T_i from the first to the last real step of
    ``X[i]``); an array (n_samples, n_timesteps[, n_outputs]) for array ``X``
    (n_outputs first for channels-first 3-D ``X``). Targets at skipped
    (masked or padding) steps are ignored; a NaN or infinite target at a real
    step is an error. Returns a float32 array (total_steps, n_outputs) and
    whether ``y`` was 1-D per step.
    """
    lengths = X_seqs.lengths
    if _is_ragged_container(y):
        ys, _ = to_channels_last(y, X_seqs.data_format, name)
        if isinstance(ys, pd.Series):
            ys = ys.tolist()
        arrays = _ragged_arrays(ys, name, token_ids=False)
        if len(arrays) != X_seqs.n_samples:
            raise ValueError(
                f"{name} has {len(arrays)} sequences but X has {X_seqs.n_samples}."
            )
        got = np.array([len(a) for a in arrays])
        spans = X_seqs.spans()
        if not np.array_equal(got, spans):
            i = int(np.flatnonzero(got != spans)[0])
            raise ValueError(
                f"{name}[{i}] has {got[i]} steps but X[{i}] has {spans[i]} steps from "
                "its first to its last real step; per-step targets need one value per "
                "step there (values at skipped steps are ignored)."
            )
        one_d = np.ndim(ys[0]) == 1
        pos = X_seqs.step_positions()
        local = pos - np.repeat(pos[X_seqs.offsets[:-1]], lengths)
        starts = np.concatenate([[0], np.cumsum(got)[:-1]])
        values = np.concatenate(arrays)[np.repeat(starts, lengths) + local]
    else:
        Y = _as_numeric(y, name, token_ids=False)
        if X_seqs.starts is None:
            raise ValueError(
                f"X is a list of sequences, so {name} must be a list of per-step "
                "target arrays of the same lengths."
            )
        one_d = Y.ndim == 2
        if one_d:
            Y = Y[:, :, None]
        elif Y.ndim == 3 and X_seqs.data_format == "channels_first":
            Y = Y.transpose(0, 2, 1)
        if Y.ndim != 3 or Y.shape[:2] != (X_seqs.n_samples, X_seqs.n_timesteps):
            raise ValueError(
                f"With return_sequences=True, {name} must have shape (n_samples, "
                f"n_timesteps[, n_outputs]) = ({X_seqs.n_samples}, {X_seqs.n_timesteps}"
                f"[, n_outputs]) like X; got {np.shape(y)}."
            )
        sample = np.repeat(np.arange(X_seqs.n_samples), lengths)
        values = Y[sample, X_seqs.step_positions()]
    if not np.isfinite(values).all():
        raise ValueError(
            f"{name} contains NaN or infinity at real time steps of X (targets at "
            "skipped steps are ignored, those at real steps must be finite)."
        )
    return np.ascontiguousarray(values, dtype=np.float32), one_d
