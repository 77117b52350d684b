"""Whole-pipeline export: a fitted ``Pipeline`` of skrnn sequence
transformers ending in a skrnn estimator becomes one network.

What the pipeline does around the estimator's network is folded into the
exported graph, so a served model takes the same raw sequences as
``pipeline.predict_proba`` / ``predict``:

- the channels-first layout (aeon's ``(N, C, L)``), transposed in the graph;
- ``SequenceScaler``: ``(x - mean_) / scale_`` (float32);
- ``SequencePatcher``: patches gathered from each sequence's real steps (the
  last patch completed by repeating the last real step, as skrnn does), with
  the new lengths computed from ``lengths``;
- ``SequencePadder``: its truncation to ``maxlen_`` (padding itself changes
  nothing for a network that reads ``lengths``), when the estimator reads
  its padding value as padding.

Any other step cannot be exported: the error names it. torch only on the
graph side; the fitted steps are read through their public attributes.
"""

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._sequences.data import fitted_data_format

__all__ = ["pipeline_serving_net"]


class _Scale(nn.Module):
    def __init__(self, scaler):
        super().__init__()
        n = int(scaler._n_step_features)
        mean = scaler.mean_ if scaler.with_mean else np.zeros(n)
        scale = scaler.scale_ if scaler.with_std else np.ones(n)
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale), dtype=torch.float32))

    def forward(self, x, lengths):
        return (x - self.mean) / self.scale, lengths


class _Patch(nn.Module):
    """SequencePatcher on post-padded ``x`` (N, L, F) with ``lengths``."""

    def __init__(self, patcher):
        super().__init__()
        self.P = int(patcher.patch_size)
        self.S = int(patcher._stride)
        self.pad = patcher.remainder == "pad"

    def forward(self, x, lengths):
        P, S = self.P, self.S
        n, steps, f = x.shape[0], x.shape[1], x.shape[2]
        # an upper bound of the patches of any sample; the ones past a
        # sample's count are filler, never read (lengths)
        n_patches = steps // S + 2
        zero = torch.zeros_like(lengths)
        full = torch.where(lengths >= P, (lengths - P) // S + 1, zero)
        counts = full
        if self.pad:
            covered = torch.where(full > 0, (full - 1) * S + P, zero)
            counts = full + (covered < lengths).to(lengths.dtype)
        starts = torch.arange(n_patches, dtype=torch.int64, device=x.device) * S
        rows = starts[:, None] + torch.arange(P, dtype=torch.int64, device=x.device)
        rows = torch.minimum(rows[None], (lengths - 1)[:, None, None])  # (N, Lp, P)
        index = rows.reshape(n, -1, 1).expand(-1, -1, f)
        patched = torch.gather(x, 1, index).reshape(n, -1, P * f)
        return patched, counts


class _Truncate(nn.Module):
    """SequencePadder's truncation to ``maxlen_`` ('pre' keeps the last steps)."""

    def __init__(self, padder):
        super().__init__()
        self.maxlen = int(padder.maxlen_)
        self.pre = padder.truncating == "pre"

    def forward(self, x, lengths):
        kept = torch.clamp(lengths, max=self.maxlen)
        if self.pre:
            shift = lengths - kept
            steps = torch.arange(x.shape[1], dtype=torch.int64, device=x.device)
            rows = torch.minimum(shift[:, None] + steps, (lengths - 1)[:, None])
            x = torch.gather(x, 1, rows[:, :, None].expand(-1, -1, x.shape[2]))
        return x, kept


class _PipelineNet(nn.Module):
    def __init__(self, stages, head, channels_first):
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.head = head
        self.channels_first = channels_first

    def forward(self, x, lengths):
        if self.channels_first:
            x = x.transpose(1, 2)
        for stage in self.stages:
            x, lengths = stage(x, lengths)
        return self.head(x, lengths)


def _cannot(name, step, why):
    return ValueError(
        f"Cannot export the pipeline: step {name!r} ({type(step).__name__}) {why}. "
        "Exportable pipelines hold skrnn sequence transformers (SequenceScaler, "
        "SequencePatcher, SequencePadder) followed by an RNNClassifier or RNNRegressor; "
        "export the final estimator alone and run the other steps before it."
    )


def _stage(name, step, head_estimator):
    from .preprocessing import SequencePadder, SequencePatcher, SequenceScaler

    if isinstance(step, SequenceScaler):
        check_is_fitted(step, "mean_")
        return _Scale(step)
    if isinstance(step, SequencePatcher):
        check_is_fitted(step, "n_step_features_")
        return _Patch(step)
    if isinstance(step, SequencePadder):
        check_is_fitted(step, "maxlen_")
        mask = getattr(head_estimator, "mask_value", None)
        same = (np.isnan(step.value) and mask is not None and np.isnan(mask)) or step.value == mask
        if not same:
            raise _cannot(
                name, step,
                f"pads with value={step.value!r}, which the estimator (mask_value={mask!r}) "
                "reads as real steps, so its output depends on the padded length",
            )
        return _Truncate(step)
    raise _cannot(name, step, "is not a skrnn sequence transformer the exporter can fold in")


def pipeline_serving_net(pipeline, serving_net):
    """(module, example inputs, meta) of a fitted ``pipeline``;
    ``serving_net`` builds the final estimator's network (skrnn.export)."""
    from .classifier import RNNClassifier
    from .regressor import RNNRegressor

    steps = [(n, s) for n, s in pipeline.steps if s is not None and s != "passthrough"]
    if not steps:
        raise ValueError("Cannot export the pipeline: it has no steps.")
    final_name, final = steps[-1]
    if not isinstance(final, (RNNClassifier, RNNRegressor)):
        raise _cannot(final_name, final, "is not an RNNClassifier or RNNRegressor")
    head, _, meta = serving_net(final)
    if steps[:-1] and meta["token_ids"]:
        raise _cannot(steps[0][0], steps[0][1],
                      "transforms the input of a token-id model (embedding_dim set)")
    stages = [_stage(n, s, final) for n, s in steps[:-1]]
    first = steps[0][1]
    layout = fitted_data_format(first)
    n_features = int(first._n_step_features)
    channels_first = layout == "channels_first"
    model = _PipelineNet(stages, head, channels_first).eval()
    meta = {
        **meta,
        "n_features": n_features,
        "data_format": layout,
        "steps": [n for n, _ in steps],
    }
    # a small variable-length batch to trace with, long enough for a patch
    longest = 3
    for stage in stages:
        if isinstance(stage, _Patch):
            longest = max(longest, 2 * stage.P + 1)
    lengths = torch.tensor([longest, 1, 2], dtype=torch.int64)
    if meta["token_ids"]:
        x = torch.zeros((3, longest, n_features), dtype=torch.int64)
    else:
        x = torch.zeros((3, longest, n_features), dtype=torch.float32)
    if channels_first:
        x = x.transpose(1, 2).contiguous()
    return model, (x, lengths), meta
