"""The convolutional front end: a few 1-D convolution blocks before the
recurrent layer, or beside it (LSTM-FCN), exact on ragged batches.

Shape legend as in :mod:`skrnn._modules`: N batch, L padded length, F input
features, C channels, K outputs. Batches arrive post-padded (sample ``i``
holds real steps ``0 .. lengths[i] - 1``; masked steps inside a sequence were
removed before batching, as for the recurrent layer).

Every sequence is convolved on its own real steps only, with zero padding at
its own two ends (a per-sequence "same" convolution):

- before each convolution the filler after each sequence's end is set to 0,
  so a window that reaches past the end reads the zeros of the sequence's own
  right padding, never filler or another sequence's steps;
- a block of stride ``s`` keeps steps ``0, s, 2s, ...``: a sequence of ``L``
  real steps has ``ceil(L / s)`` afterwards, whatever the batch's padded
  length;
- the normalisation after each convolution (:class:`MaskedBatchNorm`) takes
  its batch statistics over real steps only and predicts with running
  statistics, so a prediction depends on its own sequence alone;
- pooling reads real steps only (:class:`~skrnn._modules.Pooling`).

tests/nn/test_conv.py checks the batch against each sequence run alone.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .recurrent import Pooling, RecurrentEncoder, SequenceNet, step_mask

MODES = ("before", "beside")


def strided_lengths(lengths, stride):
    """Real steps left after a stride: ``ceil(lengths / stride)``."""
    if stride == 1:
        return lengths
    return torch.div(lengths + (stride - 1), stride, rounding_mode="floor")


class MaskedBatchNorm(nn.Module):
    """Batch normalisation of (N, C, L) over the real steps of the batch.

    Training normalises with the mean and (biased) variance of the real steps
    and updates running estimates (momentum 0.1, unbiased variance, as
    ``nn.BatchNorm1d``); evaluation uses the running estimates, so a
    prediction never depends on the other sequences of its batch. Filler
    steps come out as 0.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x, mask):
        """``x`` (N, C, L), ``mask`` (N, 1, L) boolean, True at real steps."""
        if self.training:
            m = mask.to(x.dtype)
            n = m.sum()
            mean = (x * m).sum((0, 2)) / n
            var = (((x - mean.view(1, -1, 1)) * m) ** 2).sum((0, 2)) / n
            with torch.no_grad():
                unbiased = var * (n / (n - 1)) if n > 1 else var
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased.detach())
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.eps)
        out = (x - mean.view(1, -1, 1)) * scale.view(1, -1, 1) + self.bias.view(1, -1, 1)
        return torch.where(mask, out, torch.zeros_like(out))


class ConvFrontEnd(nn.Module):
    """Blocks of Conv1d -> :class:`MaskedBatchNorm` -> ReLU over padded
    batches, each sequence convolved on its own real steps ("same" zero
    padding at its own ends). The first block has stride ``stride``.

    Parameters
    ----------
    input_size : int
        F, features per step.
    channels : sequence of int
        Output channels of each block.
    kernel_sizes : sequence of int
        Kernel size of each block (same length as ``channels``).
    stride : int
        Stride of the first block.
    """

    def __init__(self, input_size, channels, kernel_sizes, stride=1):
        super().__init__()
        if len(channels) != len(kernel_sizes) or not channels:
            raise ValueError("channels and kernel_sizes must be non-empty and of equal length")
        self.stride = int(stride)
        self.kernel_sizes = [int(k) for k in kernel_sizes]
        convs, norms = [], []
        in_size = input_size
        for i, (c, k) in enumerate(zip(channels, kernel_sizes)):
            convs.append(nn.Conv1d(in_size, int(c), int(k), stride=self.stride if i == 0 else 1,
                                   bias=False))
            norms.append(MaskedBatchNorm(int(c)))
            in_size = int(c)
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(norms)
        self.output_size = in_size

    def forward(self, x, lengths):
        """``x`` (N, L, F) -> ((N, ceil(L / stride), C), lengths after the stride);
        steps past each new length are 0."""
        x = x.transpose(1, 2)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            mask = step_mask(lengths, x.shape[2]).unsqueeze(1)
            x = torch.where(mask, x, torch.zeros_like(x))
            k = self.kernel_sizes[i]
            x = conv(F.pad(x, ((k - 1) // 2, k // 2)))
            if i == 0:
                lengths = strided_lengths(lengths, self.stride)
            mask = step_mask(lengths, x.shape[2]).unsqueeze(1)
            x = torch.relu(norm(x, mask))
        return x.transpose(1, 2), lengths


class ConvSequenceNet(SequenceNet):
    """:class:`~skrnn._modules.SequenceNet` with a convolutional front end.

    ``mode='before'``: the convolution blocks feed the recurrent layer (which
    then reads ``ceil(L / stride)`` steps). ``mode='beside'`` (LSTM-FCN): the
    recurrent layer reads the input and the blocks run beside it; their
    output, averaged over each sequence's real steps (per step with
    ``return_sequences``), is joined to the recurrent layer's pooled output
    before the head.
    """

    def __init__(self, input_size, n_outputs, *, conv_channels, conv_kernel_sizes,
                 conv_stride=1, conv_mode="before", cell="lstm", hidden_size=64,
                 num_layers=1, bidirectional=False, dropout=0.0, nonlinearity="tanh",
                 pooling="last", return_sequences=False, num_embeddings=None,
                 embedding_dim=None):
        if conv_mode not in MODES:
            raise ValueError(f"conv_mode must be one of {MODES}, got {conv_mode!r}")
        if return_sequences and conv_stride != 1:
            raise ValueError("return_sequences needs conv_stride=1")
        nn.Module.__init__(self)
        self.embedding = None
        if embedding_dim is not None:
            self.embedding = nn.Embedding(num_embeddings, embedding_dim)
            input_size = input_size * embedding_dim
        self.mode = conv_mode
        self.front = ConvFrontEnd(input_size, conv_channels, conv_kernel_sizes, conv_stride)
        rnn_in = self.front.output_size if conv_mode == "before" else input_size
        self.encoder = RecurrentEncoder(
            rnn_in, cell, hidden_size, num_layers, bidirectional, dropout, nonlinearity
        )
        self.return_sequences = return_sequences
        self.pooling = None if return_sequences else Pooling(
            pooling, self.encoder.output_size, self.encoder.num_directions
        )
        self.conv_pooling = None
        head_in = self.encoder.output_size
        if conv_mode == "beside":
            self.conv_pooling = Pooling("mean", self.front.output_size, 1)
            head_in += self.front.output_size
        self.head = nn.Linear(head_in, n_outputs)

    def forward(self, x, lengths):
        x = self.embed(x)
        conv, conv_lengths = self.front(x, lengths)
        if self.mode == "before":
            out, _ = self.encoder(conv, conv_lengths)
            if self.return_sequences:
                return self.head(out)
            return self.head(self.pooling(out, conv_lengths))
        out, _ = self.encoder(x, lengths)
        if self.return_sequences:
            # stride 1: the blocks keep one step per input step
            return self.head(torch.cat([out, conv], dim=-1))
        pooled = torch.cat([self.pooling(out, lengths), self.conv_pooling(conv, conv_lengths)],
                           dim=-1)
        return self.head(pooled)
