"""Hand-worked checks of the recurrent kernel: the padded, length-grouped
path computes exactly what torch's packed sequences (and unpadded single
samples) compute, for every cell, stacked and bidirectional."""

import numpy as np
import pytest
import torch

from skrnn._nn.recurrent import Pooling, RecurrentEncoder, SequenceNet, reverse_within_length


def _padded_batch(seed=0, n=6, F=3, max_len=9):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, max_len + 1, (n,), generator=g)
    lengths[0] = max_len
    x = torch.randn(n, max_len, F, generator=g)
    # garbage in the padding: it must never influence real steps
    pad = torch.arange(max_len) >= lengths.unsqueeze(1)
    x[pad] = 1e3
    return x, lengths


def test_reverse_within_length_is_an_involution():
    lengths = torch.tensor([3, 1, 5])
    idx = reverse_within_length(lengths, 5)
    assert idx.tolist() == [[2, 1, 0, 3, 4], [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]
    assert torch.equal(idx.gather(1, idx), torch.arange(5).expand(3, 5))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_padded_kernel_equals_packed_and_unpadded(cell, bidirectional, num_layers,
                                                  packed_reference):
    torch.manual_seed(0)
    enc = RecurrentEncoder(3, cell, 5, num_layers, bidirectional).eval()
    x, lengths = _padded_batch()
    with torch.no_grad():
        padded, _ = enc(x, lengths)
        packed = packed_reference(enc, x, lengths)
        for i, n in enumerate(lengths.tolist()):
            alone, _ = enc(x[i : i + 1, :n], lengths[i : i + 1])
            torch.testing.assert_close(padded[i, :n], alone[0], rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(padded[i, :n], packed[i, :n], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_pooling_reads_real_steps_only(kind, bidirectional):
    torch.manual_seed(0)
    net = SequenceNet(3, 2, hidden_size=4, pooling=kind, bidirectional=bidirectional).eval()
    x, lengths = _padded_batch(seed=1)
    with torch.no_grad():
        out = net(x, lengths)
        for i, n in enumerate(lengths.tolist()):
            alone = net(x[i : i + 1, :n], lengths[i : i + 1])
            torch.testing.assert_close(out[i], alone[0], rtol=1e-5, atol=1e-6)


def test_last_pooling_is_hand_computable():
    out = torch.arange(2 * 4 * 2, dtype=torch.float32).view(2, 4, 2)
    lengths = torch.tensor([2, 4])
    uni = Pooling("last", 2, 1)(out, lengths)
    assert uni.tolist() == [[2.0, 3.0], [14.0, 15.0]]
    bi = Pooling("last", 2, 2)(out, lengths)
    # forward half at the last real step, backward half at step 0
    assert bi.tolist() == [[2.0, 1.0], [14.0, 9.0]]
    mean = Pooling("mean", 2, 1)(out, lengths)
    np.testing.assert_allclose(mean.numpy(), [[1.0, 2.0], [11.0, 12.0]])
