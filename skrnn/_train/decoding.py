"""Batches of (input, target) sequence pairs for the encoder-decoder, and
batched decoding of every sample (greedy or beam search)."""

import numpy as np

from .._nn.seq2seq import beam_decode, greedy_decode
from .batches import SequenceBatches, length_grouped_batches

# sequences per decoding batch
PREDICT_BATCH = 256


class PairBatches(SequenceBatches):
    """Input batches plus the target sequences, which have their own lengths.

    ``get`` returns ``y`` as ``(targets (B, T, 1 or K), target_lengths (B,))``
    post-padded (filler past each length is never read by the loss).
    """

    def __init__(self, src, tgt, weights, device, stream=False):
        super().__init__(src.values, src.offsets, None, weights, False, device, stream)
        self.targets_batches = SequenceBatches(
            tgt.values, tgt.offsets, device=device, stream=stream
        )

    def get(self, idx):
        x, lengths, _, w = super().get(idx)
        y, y_lengths, _, _ = self.targets_batches.get(idx)
        return x, lengths, (y, y_lengths), w


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
