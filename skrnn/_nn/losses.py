"""The pointwise regression losses and the quantile head (torch only).

The quantile loss gives the network ``n_outputs x n_quantiles`` raw outputs
per sample (or step). :func:`monotone_quantiles` turns them into quantiles
that never cross: the lowest level is the first raw output, every next level
adds a softplus (positive) increment. One fit learns them all with the
pinball loss, averaged over the levels and outputs.
"""

import torch
import torch.nn.functional as F

from .recurrent import step_mask

LOSSES = ("squared_error", "absolute_error", "huber", "quantile")


def monotone_quantiles(raw, n_levels):
    """(..., K * Q) raw outputs -> (..., K, Q) non-decreasing quantiles."""
    raw = raw.reshape(*raw.shape[:-1], -1, n_levels)
    if n_levels == 1:
        return raw
    steps = F.softplus(raw[..., 1:])
    return torch.cat([raw[..., :1], raw[..., :1] + torch.cumsum(steps, dim=-1)], dim=-1)


def pointwise_loss(loss, *, huber_delta=1.0, quantiles=None):
    """``sample_loss(out, y)``: the pointwise loss named ``loss`` (one of
    :data:`LOSSES`), averaged over the outputs (and quantile levels): (N, K)
    -> (N,), or (N, L, K) -> (N, L)."""
    if loss == "absolute_error":
        return _absolute_error
    if loss == "huber":
        delta = float(huber_delta)
        return lambda out, y: F.huber_loss(out, y, reduction="none", delta=delta).mean(-1)
    if loss == "quantile":
        levels = torch.as_tensor([float(q) for q in quantiles], dtype=torch.float32)
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


def weighted_loss(out, y, w, lengths, sample_loss):
    """Weighted mean loss of a batch and the batch's total weight.

    ``sample_loss(out, y)`` gives the loss of each sample (or step).
    Per-sample outputs: ``sum(w_i * l_i) / sum(w_i)``. Per-step outputs
    (N, L, K): every real step counts, ``sum_i w_i sum_t l_it / sum_i w_i T_i``.
    ``w=None`` means unit weights.
    """
    if out.dim() == 3:
        if w is None:
            w = torch.ones(out.shape[0], dtype=out.dtype, device=out.device)
        per_step = sample_loss(out, y)
        mask = step_mask(lengths, out.shape[1]).to(out.dtype)
        per_sample = (per_step * mask).sum(1)
        norm = w * lengths.to(out.dtype)
    else:
        per_sample = sample_loss(out, y)
        if w is None:
            # unit weights (``w=None``): bit-identical value and gradient, fewer ops
            n = per_sample.shape[0]
            return per_sample.sum() / n, out.new_full((), n)
        norm = w
    total = norm.sum()
    return (w * per_sample).sum() / total.clamp_min(1e-12), total
