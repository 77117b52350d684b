"""PyTorch modules: the recurrent encoder, pooling heads and output heads.

Shape legend: N batch, L padded length of the batch, F input features,
H hidden size, D directions (2 when bidirectional), K outputs.

Batches reach these modules post-padded: sample ``i`` holds real steps
``0 .. lengths[i] - 1`` and anything after is filler that must not influence
the result. The recurrent layers are causal, so filler after the end cannot
reach a real step in the forward direction; the backward direction runs on
each sequence reversed *within its own length*, so it never reads filler
either. (tests/test_modules.py checks this kernel against torch's packed
sequences.)
"""

import torch
from torch import nn

from .seeding import Dropout

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


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
