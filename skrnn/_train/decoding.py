"""Batched decoding of every sample of the encoder-decoder (greedy or beam
search), in length-grouped batches."""

import numpy as np

from .._nn.decoding import beam_decode, greedy_decode
from .engine import length_grouped_batches

# sequences per decoding batch
PREDICT_BATCH = 256


def decode(module, data, beam_width, max_len, return_attention):
    """Decode every sample of ``data`` in length-grouped batches.

    Returns per-sample outputs (internal ids (T_i,) or vectors (T_i, K))
    and, when asked, attention weights (T_i, S_i), in the original order.
    """
    module.eval()
    outputs = [None] * data.n_samples
    weights = [None] * data.n_samples if return_attention else None
    batch = max(1, PREDICT_BATCH // beam_width)
    for idx in length_grouped_batches(data.lengths_np, batch):
        x, lengths, _, _ = data.get(idx)
        if beam_width > 1 and module.tokens_out:
            out, out_len, att = beam_decode(
                module, x, lengths, max_len, beam_width,
                return_attention=return_attention,
            )
        else:
            out, out_len, att = greedy_decode(
                module, x, lengths, max_len, return_attention=return_attention
            )
        out, out_len = out.cpu().numpy(), out_len.cpu().numpy().tolist()
        src_len = lengths.cpu().numpy().tolist()
        att = None if att is None else att.float().cpu().numpy()
        for j, i in enumerate(np.asarray(idx).tolist()):
            outputs[i] = out[j, : out_len[j]]
            if return_attention:
                weights[i] = att[j, : out_len[j], : src_len[j]].astype(np.float64)
    return outputs, weights
