"""Per-fit random streams, so seeded fits running in threads give the same
results as the same fits run one after another.

torch's global generator is shared by every thread of the process, so a fit
must not draw from it while another may. Each fit instead:

- builds (initialises) its network under :func:`seeded_init`: a
  process-wide lock around ``fork_rng`` + ``manual_seed``, held only while
  the parameters are drawn (milliseconds);
- draws every random number of training (inter-layer dropout masks,
  teacher-forcing coins) from its own ``torch.Generator``, installed for the
  fitting thread by :func:`fit_generator` and read by :class:`Dropout` and
  :func:`rand`. Outside a fit (or in another thread) they fall back to
  torch's global generator, as ``nn.Dropout`` does.

Shuffling and validation splits use numpy generators seeded per fit.
"""

import contextlib
import threading

import torch
from torch import nn

_INIT_LOCK = threading.Lock()
_local = threading.local()


@contextlib.contextmanager
def seeded_init(seed):
    """Run the block (building a network on the CPU) with torch's CPU
    generator seeded to ``seed``, holding a process-wide lock so no other
    fit's initialisation interleaves; the caller's random state is restored."""
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def fit_generator(device, seed):
    """Install a generator on ``device`` seeded with ``seed`` as the current
    thread's training stream for the duration of the block."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    previous = getattr(_local, "generator", None)
    _local.generator = gen
    try:
        yield gen
    finally:
        _local.generator = previous


def _generator(device):
    gen = getattr(_local, "generator", None)
    if gen is not None and gen.device.type == torch.device(device).type:
        return gen
    return None


def rand(*shape, device):
    """Uniform [0, 1) draws from the fit's stream (global generator outside a fit)."""
    return torch.rand(*shape, device=device, generator=_generator(device))


class Dropout(nn.Module):
    """``nn.Dropout`` drawing its masks from the fit's stream.

    Same parameters (none) and state dict as ``nn.Dropout``, so models saved
    with either load into the other.
    """

    def __init__(self, p):
        super().__init__()
        self.p = float(p)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=_generator(x.device))
        return x * mask / keep

    def extra_repr(self):
        return f"p={self.p}"
