"""PyTorch modules: the recurrent encoder, pooling and output heads, the
many-to-one network and the encoder-decoder (attention, decoder and its
teacher-forced loss; decoding searches are in :mod:`skrnn._nn.decoding`).

Shape legend: N batch, L padded length of the batch, F input features,
H hidden size, D directions (2 when bidirectional), K outputs.

Batches reach these modules post-padded: sample ``i`` holds real steps
``0 .. lengths[i] - 1`` and anything after is filler that must not influence
the result. The recurrent layers are causal, so filler after the end cannot
reach a real step in the forward direction; the backward direction runs on
each sequence reversed *within its own length*, so it never reads filler
either. (tests/nn/test_modules.py checks this kernel against torch's packed
sequences.)
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._sequences.vocab import BOS, EOS, PAD, UNK
from .seeding import Dropout, rand

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_STEP_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


def reverse_within_length(lengths, L):
    """Index (N, L) that reverses each row's first ``lengths[i]`` positions.

    Positions past the length map to themselves, so applying the index twice
    gives back the original order.
    """
    t = torch.arange(L, device=lengths.device).unsqueeze(0)
    n = lengths.unsqueeze(1)
    return torch.where(t < n, n - 1 - t, t)


def _gather_time(x, index):
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def step_mask(lengths, L):
    """Boolean (N, L): True at real steps."""
    return torch.arange(L, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


class RecurrentEncoder(nn.Module):
    """Stacked, optionally bidirectional RNN/LSTM/GRU over padded batches.

    Parameters
    ----------
    input_size : int
        F, features per step (after the embedding, if any).
    cell : {'rnn', 'lstm', 'gru'}
    hidden_size : int
    num_layers : int
    bidirectional : bool
    dropout : float
        Dropout between stacked layers.
    nonlinearity : {'tanh', 'relu'}
        For the vanilla ``'rnn'`` cell.
    """

    def __init__(
        self,
        input_size,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        nonlinearity="tanh",
    ):
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        layers = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * self.num_directions
            layers.append(
                nn.ModuleList(
                    _CELLS[cell](in_size, hidden_size, batch_first=True, **extra)
                    for _ in range(self.num_directions)
                )
            )
        self.layers = nn.ModuleList(layers)
        self.dropout = Dropout(dropout) if dropout > 0 and num_layers > 1 else None

    @property
    def output_size(self):
        return self.hidden_size * self.num_directions

    def forward(self, x, lengths, state=None):
        """Run the stack.

        Parameters
        ----------
        x : Tensor (N, L, F)
        lengths : LongTensor (N,)
        state : list or None
            Per layer and direction initial states (as returned), used by
            truncated BPTT to carry the state across chunks (forward only).

        Returns
        -------
        out : Tensor (N, L, D*H)
            Per-step outputs; values past each length are unspecified.
        state : list
            Final states per layer and direction. The forward direction's
            state is the state after step ``L - 1`` (use it only when every
            sequence fills the batch, as in truncated BPTT chunks).
        """
        L = x.shape[1]
        rev = reverse_within_length(lengths, L) if self.num_directions == 2 else None
        new_state = []
        for i, directions in enumerate(self.layers):
            if i > 0 and self.dropout is not None:
                x = self.dropout(x)
            s = state[i] if state is not None else [None] * self.num_directions
            out_f, st_f = directions[0](x, s[0])
            layer_state = [st_f]
            if self.num_directions == 2:
                out_b, st_b = directions[1](_gather_time(x, rev), s[1])
                out_b = _gather_time(out_b, rev)
                layer_state.append(st_b)
                x = torch.cat([out_f, out_b], dim=-1)
            else:
                x = out_f
            new_state.append(layer_state)
        return x, new_state


class Pooling(nn.Module):
    """Reduce (N, L, D*H) per-step outputs to (N, D*H) over real steps only.

    ``'last'`` takes the forward direction's output at each sequence's own
    last step and the backward direction's output at step 0 (the step where
    it has read the whole sequence).
    """

    def __init__(self, kind, size, num_directions):
        super().__init__()
        self.kind = kind
        self.num_directions = num_directions
        if kind == "attention":
            self.score = nn.Sequential(nn.Linear(size, size), nn.Tanh(), nn.Linear(size, 1, bias=False))

    def forward(self, out, lengths, return_weights=False):
        N, L, C = out.shape
        weights = None
        if self.kind == "last":
            idx = (lengths - 1).view(N, 1, 1).expand(N, 1, C)
            pooled = out.gather(1, idx).squeeze(1)
            if self.num_directions == 2:
                H = C // 2
                pooled = torch.cat([pooled[:, :H], out[:, 0, H:]], dim=-1)
            return (pooled, weights) if return_weights else pooled
        mask = step_mask(lengths, L)
        if self.kind == "mean":
            pooled = (out * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(1).to(out.dtype)
        elif self.kind == "max":
            pooled = out.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)
        else:
            scores = self.score(out).squeeze(-1).masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=1)
            pooled = torch.bmm(weights.unsqueeze(1), out).squeeze(1)
        return (pooled, weights) if return_weights else pooled


class SequenceNet(nn.Module):
    """Embedding (optional) -> recurrent encoder -> pooling -> linear head.

    With ``return_sequences=True`` the head is applied at every step and the
    output is (N, L, K); otherwise the pooled output gives (N, K).
    """

    def __init__(
        self,
        input_size,
        n_outputs,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        nonlinearity="tanh",
        pooling="last",
        return_sequences=False,
        num_embeddings=None,
        embedding_dim=None,
    ):
        super().__init__()
        self.embedding = None
        if embedding_dim is not None:
            self.embedding = nn.Embedding(num_embeddings, embedding_dim)
            input_size = input_size * embedding_dim
        self.encoder = RecurrentEncoder(
            input_size, cell, hidden_size, num_layers, bidirectional, dropout, nonlinearity
        )
        self.return_sequences = return_sequences
        self.pooling = None if return_sequences else Pooling(
            pooling, self.encoder.output_size, self.encoder.num_directions
        )
        self.head = nn.Linear(self.encoder.output_size, n_outputs)

    def embed(self, x):
        if self.embedding is None:
            return x
        N, L, F = x.shape
        return self.embedding(x).reshape(N, L, -1)

    def forward(self, x, lengths):
        out, _ = self.encoder(self.embed(x), lengths)
        if self.return_sequences:
            return self.head(out)
        return self.head(self.pooling(out, lengths))


# ------------------------------------------------------- encoder-decoder
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
