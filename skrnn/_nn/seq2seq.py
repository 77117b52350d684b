"""PyTorch side of the encoder-decoder: attention, decoder, training loss and
batched greedy / beam-search decoding.

Shape legend: N batch, S padded input length, T output length, E embedding
size, H hidden size, C encoder output size (D*H), V output vocabulary size
(special tokens included), K continuous output features, B beam width.

Token ids here are *internal* ids: 0..3 are the special tokens below and
``4 + i`` is the i-th symbol of a vocabulary. The estimator translates
between user symbols and these ids. Nothing in this module imports sklearn.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .recurrent import Pooling, RecurrentEncoder, step_mask
from .seeding import Dropout, rand
from .._sequences.vocab import BOS, EOS, PAD, UNK

_STEP_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


class Attention(nn.Module):
    """Attention over the real steps of the encoder outputs.

    ``'bahdanau'`` (additive): ``v . tanh(W_q q + W_k h_j)``;
    ``'luong'`` (multiplicative, "general"): ``q . W_k h_j``.
    Padding steps get exactly zero weight.
    """

    def __init__(self, kind, query_size, memory_size):
        super().__init__()
        self.kind = kind
        if kind == "bahdanau":
            self.key = nn.Linear(memory_size, query_size, bias=False)
            self.query = nn.Linear(query_size, query_size)
            self.v = nn.Linear(query_size, 1, bias=False)
        else:
            self.key = nn.Linear(memory_size, query_size, bias=False)

    def keys(self, memory):
        """Precompute the projected encoder outputs (N, S, H) once per batch."""
        return self.key(memory)

    def forward(self, query, memory, keys, mask):
        """Return the context (N, C) and the weights (N, S) for query (N, H)."""
        if self.kind == "bahdanau":
            scores = self.v(torch.tanh(keys + self.query(query).unsqueeze(1))).squeeze(-1)
        else:
            scores = torch.bmm(keys, query.unsqueeze(2)).squeeze(2)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


class Decoder(nn.Module):
    """Stacked unidirectional RNN/LSTM/GRU decoder, run one step at a time.

    ``attention='bahdanau'`` attends with the previous state and feeds the
    context into the cell; ``'luong'`` attends with the new state, combines
    it with the context into an attentional vector that is also fed to the
    next step (input feeding); ``None`` sees the input only through the
    initial state.
    """

    def __init__(self, *, n_symbols, n_outputs, embedding_dim, cell, hidden_size,
                 num_layers, dropout, nonlinearity, attention, memory_size):
        super().__init__()
        self.tokens = n_symbols is not None
        self.cell = cell
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.attention_kind = attention
        if self.tokens:
            self.embedding = nn.Embedding(n_symbols, embedding_dim, padding_idx=PAD)
        else:
            # previous output vector plus a begin-of-sequence flag
            self.embedding = nn.Linear(n_outputs + 1, embedding_dim)
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        feed = {"bahdanau": memory_size, "luong": hidden_size, None: 0}[attention]
        # one cell per layer: a single step through cells is much cheaper
        # than through the fused multi-step kernels
        self.cells = nn.ModuleList(
            _STEP_CELLS[cell](embedding_dim + feed if i == 0 else hidden_size, hidden_size, **extra)
            for i in range(num_layers)
        )
        self.dropout = Dropout(dropout) if dropout > 0 and num_layers > 1 else None
        self.attention = None if attention is None else Attention(attention, hidden_size, memory_size)
        if attention == "luong":
            self.combine = nn.Linear(hidden_size + memory_size, hidden_size)
        features = hidden_size + (memory_size if attention == "bahdanau" else 0)
        self.out = nn.Linear(features, n_symbols if self.tokens else n_outputs)
        self.stop = None if self.tokens else nn.Linear(features, 1)
        if self.tokens:
            blocked = torch.zeros(n_symbols, dtype=torch.bool)
            blocked[[PAD, BOS, UNK]] = True
            self.register_buffer("blocked", blocked, persistent=False)

    def embed(self, prev):
        """prev: LongTensor (N,) of ids, or (N, K + 1) vectors with the BOS flag."""
        return self.embedding(prev)

    def top_hidden(self, state):
        return (state[0] if self.cell == "lstm" else state)[-1]

    def _run_cells(self, inp, state):
        """One step through the stacked cells; state is (layers, N, H) or an (h, c) pair."""
        lstm = self.cell == "lstm"
        hs, cs = [], []
        for i, cell in enumerate(self.cells):
            if i > 0 and self.dropout is not None:
                inp = self.dropout(inp)
            if lstm:
                h, c = cell(inp, (state[0][i], state[1][i]))
                cs.append(c)
            else:
                h = cell(inp, state[i])
            hs.append(h)
            inp = h
        new_state = (torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs)
        return inp, new_state

    def step(self, inp, state, feed, memory, keys, mask):
        """One decoder step.

        Returns features (N, H or H + C) for the output layers, the new
        state, the new input-feeding vector and the attention weights (N, S)
        (None without attention).
        """
        weights = None
        if self.attention_kind == "bahdanau":
            context, weights = self.attention(self.top_hidden(state), memory, keys, mask)
            inp = torch.cat([inp, context], dim=-1)
        elif self.attention_kind == "luong":
            inp = torch.cat([inp, feed], dim=-1)
        out, state = self._run_cells(inp, state)
        if self.attention_kind == "bahdanau":
            features = torch.cat([out, context], dim=-1)
        elif self.attention_kind == "luong":
            context, weights = self.attention(out, memory, keys, mask)
            features = feed = torch.tanh(self.combine(torch.cat([out, context], dim=-1)))
        else:
            features = out
        return features, state, feed, weights

    def logits(self, features):
        """(..., V) scores; PAD, BOS and UNK are never predicted."""
        return self.out(features).masked_fill(self.blocked, float("-inf"))


class Seq2SeqNet(nn.Module):
    """Embedding (tokens) -> RecurrentEncoder -> pooled summary -> decoder.

    ``forward(x, lengths)`` returns the pooled summary (N, C), the fixed-size
    representation used by ``transform`` and to initialise the decoder.

    Parameters
    ----------
    n_features : int
        Features per input step (1 for tokens).
    n_input_symbols : int or None
        Input vocabulary size (specials included) for token input.
    n_output_symbols : int or None
        Output vocabulary size (specials included) for token output.
    n_outputs : int or None
        K, features per output step for continuous output.
    embedding_dim : int
    cell, hidden_size, num_layers, bidirectional, dropout, nonlinearity
        As :class:`~skrnn._nn.recurrent.RecurrentEncoder`; the decoder uses the
        same cell, size and depth (unidirectional).
    pooling : {'last', 'mean', 'max', 'attention'}
    attention : {'bahdanau', 'luong'} or None
    """

    def __init__(self, *, n_features, n_input_symbols, n_output_symbols, n_outputs,
                 embedding_dim, cell, hidden_size, num_layers, bidirectional, dropout,
                 nonlinearity, pooling, attention):
        super().__init__()
        self.src_embedding = None
        if n_input_symbols is not None:
            self.src_embedding = nn.Embedding(n_input_symbols, embedding_dim, padding_idx=PAD)
            n_features = embedding_dim
        self.encoder = RecurrentEncoder(
            n_features, cell, hidden_size, num_layers, bidirectional, dropout, nonlinearity
        )
        size = self.encoder.output_size
        self.pooling = Pooling(pooling, size, self.encoder.num_directions)
        n_states = 2 if cell == "lstm" else 1
        self.bridge = nn.Linear(size, n_states * num_layers * hidden_size)
        self.decoder = Decoder(
            n_symbols=n_output_symbols, n_outputs=n_outputs, embedding_dim=embedding_dim,
            cell=cell, hidden_size=hidden_size, num_layers=num_layers, dropout=dropout,
            nonlinearity=nonlinearity, attention=attention, memory_size=size,
        )

    @property
    def tokens_out(self):
        return self.decoder.tokens

    def encode(self, x, lengths):
        """Return memory (N, S, C), attention keys or None, mask (N, S), summary (N, C)."""
        if self.src_embedding is not None:
            x = self.src_embedding(x[..., 0])
        memory, _ = self.encoder(x, lengths)
        mask = step_mask(lengths, memory.shape[1])
        summary = self.pooling(memory, lengths)
        att = self.decoder.attention
        keys = None if att is None else att.keys(memory)
        return memory, keys, mask, summary

    def forward(self, x, lengths):
        return self.encode(x, lengths)[3]

    def initial_state(self, summary):
        """Decoder state from the summary: a tanh bridge per layer (h and c)."""
        dec = self.decoder
        N = summary.shape[0]
        s = torch.tanh(self.bridge(summary)).view(N, -1, dec.num_layers, dec.hidden_size)
        s = s.permute(1, 2, 0, 3).contiguous()  # (n_states, layers, N, H)
        state = (s[0], s[1]) if dec.cell == "lstm" else s[0]
        feed = summary.new_zeros(N, dec.hidden_size) if dec.attention_kind == "luong" else None
        return state, feed

    def start_input(self, N, device):
        if self.tokens_out:
            return torch.full((N,), BOS, dtype=torch.long, device=device)
        K = self.decoder.out.out_features
        start = torch.zeros(N, K + 1, device=device)
        start[:, K] = 1.0
        return start


def _reorder_state(state, index):
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)
    return state.index_select(1, index)


def teacher_forced_loss(model, x, lengths, y, w, *, teacher_forcing=1.0):
    """Weighted per-step loss of one batch: ``sum_i w_i sum_t l_it / sum_i w_i (T_i + 1)``.

    ``y`` is ``(targets, target_lengths)``: targets (N, T, 1) internal ids or
    (N, T, K) vectors, post-padded with filler past each length. Every real
    step plus the end-of-sequence step counts; ``w=None`` means unit weights. With ``teacher_forcing < 1``
    each sample feeds its own previous prediction instead of the truth with
    probability ``1 - teacher_forcing`` at every step.
    """
    targets, tlen = y
    N = x.shape[0]
    if w is None:
        w = torch.ones(N, device=x.device)
    T = int(tlen.max()) + 1
    memory, keys, mask, summary = model.encode(x, lengths)
    state, feed = model.initial_state(summary)
    dec = model.decoder
    real = step_mask(tlen, T - 1)
    prev = model.start_input(N, x.device)
    step_losses = []
    for t in range(T):
        features, state, feed, _ = dec.step(dec.embed(prev), state, feed, memory, keys, mask)
        if model.tokens_out:
            gold = torch.where(t < tlen, targets[:, min(t, T - 2), 0], EOS)
            logits = dec.logits(features)
            step_losses.append(F.cross_entropy(logits, gold, reduction="none"))
            if t == T - 1:
                break
            nxt = gold
            if teacher_forcing < 1.0:
                own = logits.detach().argmax(-1)
                nxt = torch.where(rand(N, device=x.device) < teacher_forcing, gold, own)
        else:
            vec = dec.out(features)
            stop = dec.stop(features).squeeze(-1)
            stop_loss = F.binary_cross_entropy_with_logits(
                stop, (tlen == t).to(stop.dtype), reduction="none"
            )
            if t < T - 1:
                gold = targets[:, t]
                err = ((vec - gold) ** 2).mean(-1) * real[:, t].to(vec.dtype)
                step_losses.append(err + stop_loss)
            else:
                step_losses.append(stop_loss)
                break
            nxt_vec = gold
            if teacher_forcing < 1.0:
                coin = rand(N, 1, device=x.device) < teacher_forcing
                nxt_vec = torch.where(coin, gold, vec.detach())
            nxt = torch.cat([nxt_vec, nxt_vec.new_zeros(N, 1)], dim=-1)
        prev = nxt
    losses = torch.stack(step_losses, dim=1)  # (N, T)
    losses = losses * step_mask(tlen + 1, T).to(losses.dtype)
    norm = (w * (tlen + 1).to(losses.dtype)).sum()
    return (w * losses.sum(1)).sum() / norm.clamp_min(1e-12), norm


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
