"""Decoding with the encoder-decoder (:class:`~skrnn._nn.recurrent.Seq2SeqNet`):
batched greedy and beam-search decoding.

Shape legend: N batch, S padded input length, T output length, E embedding
size, H hidden size, C encoder output size (D*H), V output vocabulary size
(special tokens included), K continuous output features, B beam width.

Token ids here are *internal* ids: 0..3 are the special tokens below and
``4 + i`` is the i-th symbol of a vocabulary. The estimator translates
between user symbols and these ids. Nothing in this module imports sklearn.
"""

import torch

from .._sequences.vocab import EOS, PAD



def _reorder_state(state, index):
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)
    return state.index_select(1, index)


@torch.inference_mode()
def greedy_decode(model, x, lengths, max_len, *, return_attention=False):
    """Greedy decoding of a whole batch; finished sequences are masked.

    Returns
    -------
    outputs : LongTensor (N, T) internal ids, or Tensor (N, T, K) vectors
    out_lengths : LongTensor (N,)
        Steps before the end of each sequence (EOS not included).
    attention : Tensor (N, T, S) or None
    """
    memory, keys, mask, summary = model.encode(x, lengths)
    state, feed = model.initial_state(summary)
    dec = model.decoder
    N = x.shape[0]
    prev = model.start_input(N, x.device)
    finished = torch.zeros(N, dtype=torch.bool, device=x.device)
    out_len = torch.zeros(N, dtype=torch.long, device=x.device)
    outputs, weights = [], []
    for _ in range(max_len):
        features, state, feed, att = dec.step(dec.embed(prev), state, feed, memory, keys, mask)
        if model.tokens_out:
            tok = dec.logits(features).argmax(-1)
            tok = tok.masked_fill(finished, PAD)
            ended = tok == EOS
            outputs.append(tok)
            prev = tok
        else:
            vec = dec.out(features)
            ended = dec.stop(features).squeeze(-1) > 0
            outputs.append(vec)
            prev = torch.cat([vec, vec.new_zeros(N, 1)], dim=-1)
        if return_attention and att is not None:
            weights.append(att)
        finished = finished | ended
        out_len += (~finished).long()
        if bool(finished.all()):
            break
    outputs = torch.stack(outputs, dim=1)
    attention = torch.stack(weights, dim=1) if weights else None
    return outputs, out_len, attention


@torch.inference_mode()
def beam_decode(model, x, lengths, max_len, beam_width, *, return_attention=False):
    """Beam search over a whole batch at once (token outputs only).

    Hypotheses are ranked by their length-normalised log-probability
    (sum of log-probabilities / number of tokens, EOS included). A finished
    hypothesis is carried on unchanged (it can only be extended by padding at
    no cost), so it competes with the live ones on its final score. Returns
    the best hypothesis per sample, like :func:`greedy_decode`.
    """
    memory, keys, mask, summary = model.encode(x, lengths)
    state, feed = model.initial_state(summary)
    dec = model.decoder
    N, B, dev = x.shape[0], beam_width, x.device
    flat = torch.arange(N, device=dev).repeat_interleave(B)
    memory, mask = memory[flat], mask[flat]
    keys = None if keys is None else keys[flat]
    state = _reorder_state(state, flat)
    feed = None if feed is None else feed[flat]

    scores = torch.full((N, B), float("-inf"), device=dev)
    scores[:, 0] = 0.0
    n_tokens = torch.zeros(N, B, device=dev)
    finished = torch.zeros(N, B, dtype=torch.bool, device=dev)
    tokens = torch.zeros(N, B, 0, dtype=torch.long, device=dev)
    history = None
    prev = model.start_input(N * B, dev)
    base = (torch.arange(N, device=dev) * B).unsqueeze(1)
    for t in range(max_len):
        features, state, feed, att = dec.step(dec.embed(prev), state, feed, memory, keys, mask)
        logp = torch.log_softmax(dec.logits(features), dim=-1).view(N, B, -1)
        V = logp.shape[-1]
        # a finished hypothesis continues only with PAD, at no cost
        done = finished.unsqueeze(-1)
        logp = logp.masked_fill(done, float("-inf"))
        logp[..., PAD] = torch.where(finished, 0.0, float("-inf"))
        cand = scores.unsqueeze(-1) + logp  # (N, B, V)
        cand_len = (n_tokens + (~finished).float()).unsqueeze(-1)
        ranked = (cand / cand_len).view(N, -1)
        _, top = ranked.topk(B, dim=1)  # sorted, best first
        beam, tok = top // V, top % V
        scores = cand.view(N, -1).gather(1, top)
        n_tokens = cand_len.squeeze(-1).gather(1, beam)
        finished = finished.gather(1, beam) | (tok == EOS)
        tokens = torch.cat(
            [tokens.gather(1, beam.unsqueeze(-1).expand(-1, -1, t)), tok.unsqueeze(-1)], dim=2
        )
        origin = (base + beam).view(-1)
        if return_attention and att is not None:
            att = att.view(N, B, 1, -1)
            if history is None:
                history = att.gather(1, beam.view(N, B, 1, 1).expand_as(att))
            else:
                S = history.shape[-1]
                history = torch.cat([
                    history.gather(1, beam.view(N, B, 1, 1).expand(-1, -1, t, S)),
                    att.gather(1, beam.view(N, B, 1, 1).expand(-1, -1, 1, S)),
                ], dim=2)
        state = _reorder_state(state, origin)
        feed = None if feed is None else feed.index_select(0, origin)
        prev = tok.view(-1)
        if bool(finished.all()):
            break
    best = tokens[:, 0]  # topk is sorted by normalised score
    is_end = (best == EOS) | (best == PAD)
    out_len = torch.where(is_end.any(1), is_end.float().argmax(1), best.shape[1])
    attention = None if history is None else history[:, 0]
    return best, out_len.long(), attention
