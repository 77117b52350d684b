"""Batches of compact sequences: grouped by length for training, bounded
in padded size for inference, gathered on the device as padded tensors."""

import numpy as np
import torch

__all__ = ["SequenceBatches", "bounded_batches", "length_grouped_batches"]


class SequenceBatches:
    """Gathers padded batches from compact sequences.

    Parameters
    ----------
    values : ndarray (total_steps, F)
    offsets : ndarray (n_samples + 1,)
    targets : ndarray or None
        (n_samples, ...) per-sample targets or (total_steps, K) per-step ones.
    weights : ndarray (n_samples,) or None
    per_step : bool
        Whether ``targets`` are per time step.
    device : torch.device
        Where the whole data set lives (training) or where batches are sent
        (inference keeps the data on the CPU and streams batches).
    """

    def __init__(self, values, offsets, targets=None, weights=None, per_step=False,
                 device="cpu", stream=False):
        self.device = torch.device(device)
        home = torch.device("cpu") if stream else self.device
        self.values = torch.as_tensor(values).to(home)
        self.lengths_np = np.diff(offsets).astype(np.int64)
        self.n_samples = len(self.lengths_np)
        self.lengths = torch.as_tensor(self.lengths_np).to(home)
        self.starts = torch.as_tensor(np.asarray(offsets[:-1], dtype=np.int64)).to(home)
        self.uniform = bool(self.n_samples) and bool(np.all(self.lengths_np == self.lengths_np[0]))
        if self.uniform:
            T = int(self.lengths_np[0])
            self.values3d = self.values.view(self.n_samples, T, -1)
        self.targets = None if targets is None else torch.as_tensor(targets).to(home)
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.float32).to(home)
        # all-ones weights (no sample/class weights): the loss can skip them
        self.unit_weights = weights is None or bool(np.all(np.asarray(weights) == 1))
        self.per_step = per_step

    def positions(self, idx):
        """Flat step indices (B, Lmax), clamped to each sample's last step."""
        lengths = self.lengths[idx]
        L = int(lengths.max())
        t = torch.arange(L, device=lengths.device).unsqueeze(0)
        return self.starts[idx].unsqueeze(1) + torch.minimum(t, lengths.unsqueeze(1) - 1), lengths

    def get(self, idx):
        """Return x (B, L, F), lengths (B,), y, w for sample indices ``idx``."""
        idx = torch.as_tensor(idx).to(self.values.device)
        if self.uniform:
            x = self.values3d[idx]
            lengths = self.lengths[idx]
            pos = None
        else:
            pos, lengths = self.positions(idx)
            x = self.values[pos]
        y = w = None
        if self.targets is not None:
            if self.per_step:
                if pos is None:
                    pos, _ = self.positions(idx)
                y = self.targets[pos]
            else:
                y = self.targets[idx]
        if self.weights is not None:
            w = self.weights[idx]
        dev = self.device
        if x.device != dev:
            x, lengths = x.to(dev, non_blocking=True), lengths.to(dev)
            y = None if y is None else y.to(dev)
            w = None if w is None else w.to(dev)
        return x, lengths, y, w


def length_grouped_batches(lengths, batch_size, rng=None):
    """Split sample indices into batches of similar length.

    With ``rng`` the samples are shuffled first (ties in length stay in random
    order) and the order of the batches is shuffled, so training stays
    stochastic; without it the order is deterministic (inference).
    """
    n = len(lengths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    if not np.all(lengths == lengths[0]):
        order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None and len(batches) > 1:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


# inference batches pad at most batch_size * this many steps
_PADDED_STEPS_PER_SAMPLE = 256


def bounded_batches(lengths, batch_size):
    """Length-grouped inference batches that pad at most ``batch_size * 256``
    steps: a batch holding a few very long sequences
    is split, so one long sequence among short ones costs its own length, not
    ``batch_size`` times it. Deterministic order."""
    max_steps = batch_size * _PADDED_STEPS_PER_SAMPLE
    for idx in length_grouped_batches(lengths, batch_size):
        L = lengths[idx]  # ascending within a batch
        if len(idx) * int(L[-1]) <= max_steps:
            yield idx
            continue
        start = 0
        while start < len(idx):
            end = start + 1
            while end < len(idx) and (end + 1 - start) * int(L[end]) <= max_steps:
                end += 1
            yield idx[start:end]
            start = end
