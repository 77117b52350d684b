"""What a fit needs from torch before its loop starts: the device, the
optimizer, and torch's lazily imported modules (imported at the first fit,
with Ctrl-C held back)."""

import importlib
import signal
import threading

import torch

from .. import _warnings

__all__ = ["resolve_device", "make_optimizer", "prepare_torch", "inference_device"]


def _import_lazy_torch_modules():
    """Import the torch modules that torch imports lazily on the first
    optimizer construction and step (``torch._dynamo`` and its sympy, the
    profiler's monitor) now, with Ctrl-C held back until they are complete:
    an interrupt landing inside those imports used to leave half-initialised
    modules that broke every later fit in the process."""
    names = ("torch._dynamo", "torch.profiler._cupti_monitor")
    if threading.current_thread() is not threading.main_thread():
        for name in names:
            importlib.import_module(name)
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:  # pragma: no cover - absent in some torch builds
                pass
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


_lazy_modules_ready = False


def prepare_torch():
    """Run :func:`_import_lazy_torch_modules` once per process, at the first
    fit (not at import: importing skrnn installs no signal handler)."""
    global _lazy_modules_ready
    if not _lazy_modules_ready:
        _import_lazy_torch_modules()
        _lazy_modules_ready = True


_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}


def resolve_device(device):
    """'auto' -> CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a torch device ({exc}); use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but CUDA is not available on this machine; "
            "use device='cpu' or device='auto'."
        )
    return device


def make_optimizer(optimizer, params, lr, weight_decay):
    """Build an optimizer from a name ('adam', 'sgd', 'rmsprop') or a class."""
    prepare_torch()
    if isinstance(optimizer, str):
        # The fused kernel (one call for all parameters; 2.5x faster than the
        # foreach path for Adam on the CPU) where this torch and device have
        # it, else foreach; both apply the same update rule.
        params = list(params)
        cls = _OPTIMIZERS[optimizer]
        try:
            return cls(params, lr=lr, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return cls(params, lr=lr, weight_decay=weight_decay, foreach=True)
    return optimizer(params, lr=lr, weight_decay=weight_decay)


def inference_device(device):
    """Where a fitted network predicts: ``device`` ('auto' resolved), or the
    CPU with a warning when it names CUDA and CUDA is not available."""
    if device == "auto":
        return resolve_device("auto")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        _warnings.warn(
            "This model was set to device='cuda' but CUDA is not available; "
            "predicting on the CPU.",
            UserWarning,
        )
        return torch.device("cpu")
    return device
