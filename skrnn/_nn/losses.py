"""The regression losses, the quantile head and the target standardisation of
:class:`~skrnn.RNNRegressor`.

Training happens on standardised targets (``(y - centre) / scale`` per
output: median and IQR, or mean and std; the statistics fitted on the first call to ``fit``/``partial_fit``), so every
loss sees values of order one whatever the scale of ``y``; predictions are
mapped back with ``out * scale + mean``.

The quantile loss gives the network ``n_outputs x n_quantiles`` raw outputs
per sample (or step). :func:`monotone_quantiles` turns them into quantiles
that never cross: the lowest level is the first raw output, every next level
adds a softplus (positive) increment. One fit learns them all with the
pinball loss, averaged over the levels and outputs.
"""

import numpy as np
import torch
import torch.nn.functional as F

LOSSES = ("squared_error", "absolute_error", "huber", "quantile")
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


def n_quantiles(est):
    """Raw network outputs per target of the fitted model: its number of
    quantile levels, or 1 for a point loss."""
    levels = getattr(est, "quantiles_", None)
    return 1 if levels is None else len(levels)


def median_index(est):
    return int(np.flatnonzero(np.isclose(est.quantiles_, 0.5))[0])


# ------------------------------------------------------------------ torch
def monotone_quantiles(raw, n_levels):
    """(..., K * Q) raw outputs -> (..., K, Q) non-decreasing quantiles."""
    raw = raw.reshape(*raw.shape[:-1], -1, n_levels)
    if n_levels == 1:
        return raw
    steps = F.softplus(raw[..., 1:])
    return torch.cat([raw[..., :1], raw[..., :1] + torch.cumsum(steps, dim=-1)], dim=-1)


def sample_loss_for(est):
    """``sample_loss(out, y)``: the pointwise loss of ``est.loss``, averaged
    over the outputs (and levels): (N, K) -> (N,), or (N, L, K) -> (N, L)."""
    if est.loss == "absolute_error":
        return _absolute_error
    if est.loss == "huber":
        delta = float(est.huber_delta)
        return lambda out, y: F.huber_loss(out, y, reduction="none", delta=delta).mean(-1)
    if est.loss == "quantile":
        levels = torch.as_tensor(np.asarray(est.quantiles_), dtype=torch.float32)
        return lambda out, y: _pinball(out, y, levels)
    return squared_error


def squared_error(out, y):
    return ((out - y) ** 2).mean(-1)


def _absolute_error(out, y):
    return (out - y).abs().mean(-1)


def _pinball(out, y, levels):
    levels = levels.to(device=out.device, dtype=out.dtype)
    q = monotone_quantiles(out, len(levels))
    diff = y.unsqueeze(-1) - q  # (..., K, Q)
    return torch.maximum(levels * diff, (levels - 1) * diff).mean((-2, -1))


# ------------------------------------------------------------------ numpy
def fit_target_scaling(est, values, weights=None):
    """Record the per-output (weighted) centre and scale of the training
    targets ``values`` (n_rows, n_outputs): mean and standard deviation
    (``'standard'``), median and interquartile range / 1.349 (``'robust'``), or 0
    and 1 (``None``). Weighting makes a weight of 2 the same as a
    repeated row."""
    values = np.asarray(values, dtype=np.float64)
    if est.target_scaling in ("standard", "robust"):
        mean = np.average(values, axis=0, weights=weights)
        scale = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
        if est.target_scaling == "robust":
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
    est.target_mean_, est.target_scale_ = mean, scale


def constant_loss(est, values, weights):
    """The loss ``est.loss`` of the best constant predictor of the (scaled)
    training targets ``values`` (n_rows, n_outputs): the weighted median
    (absolute and Huber loss, the latter approximately) or each level's
    weighted quantile (pinball loss), averaged over outputs and levels as the
    training loss is. The plateau floor of the stopping rule compares with it."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0:
        return None
    levels = np.asarray(est.quantiles_) if est.loss == "quantile" else np.array([0.5])
    const = np.quantile(values, levels, axis=0, weights=_column_weights(weights, values),
                        method="inverted_cdf").T  # (n_outputs, n_levels)
    diff = values[:, :, None] - const
    if est.loss == "quantile":
        per = np.maximum(levels * diff, (levels - 1) * diff)
    elif est.loss == "huber":
        delta, a = float(est.huber_delta), np.abs(diff)
        per = np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))
    else:
        per = np.abs(diff)
    return float(np.average(per.mean((1, 2)), weights=weights))


def _column_weights(weights, values):
    return None if weights is None else np.broadcast_to(weights[:, None], values.shape)


def scale_targets(est, values):
    return ((values - est.target_mean_) / est.target_scale_).astype(np.float32)


def quantile_values(est, outputs):
    """Network outputs (n_rows, K * Q) -> quantiles (n_rows, K, Q) on the
    targets' own scale (Q = 1 for a point loss)."""
    n_levels = n_quantiles(est)
    raw = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1, n_levels)
    if n_levels > 1:
        steps = np.logaddexp(0.0, raw[..., 1:])  # softplus, as in training
        raw = np.concatenate([raw[..., :1], raw[..., :1] + np.cumsum(steps, axis=-1)], axis=-1)
    mean = getattr(est, "target_mean_", None)
    if mean is None:  # a model fitted before target scaling existed
        return raw
    return raw * est.target_scale_[:, None] + mean[:, None]


def point_values(est, outputs):
    """The point prediction (n_rows, K) on the targets' scale: the output of
    a point loss, the median of the quantile loss."""
    q = quantile_values(est, outputs)
    return q[..., 0 if getattr(est, "quantiles_", None) is None else median_index(est)]
