"""The estimator side of the convolutional front end (the network is in
:mod:`skrnn._conv`): checking the ``conv_*`` parameters of
:class:`~skrnn.RNNClassifier` and :class:`~skrnn.RNNRegressor` and turning
them into the network's arguments."""

from numbers import Integral

import numpy as np


def _sizes(value, name):
    """A tuple of positive ints from an int or a 1-D sequence of ints."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        return (int(value),)
    arr = np.asarray(value, dtype=object)
    if arr.ndim != 1 or arr.size == 0 or not all(
        isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in arr
    ):
        raise ValueError(
            f"{name} must be a positive int or a non-empty list of positive ints (one per "
            f"convolution block); got {value!r}."
        )
    return tuple(int(v) for v in arr)


def front_end_sizes(est):
    """``(channels, kernel_sizes)`` of the blocks, or None without a front end.

    An int ``conv_kernel_sizes`` applies to every block."""
    if est.conv_channels is None:
        return None
    channels = _sizes(est.conv_channels, "conv_channels")
    kernels = _sizes(est.conv_kernel_sizes, "conv_kernel_sizes")
    if len(kernels) == 1:
        kernels = kernels * len(channels)
    if len(kernels) != len(channels):
        raise ValueError(
            f"conv_kernel_sizes has {len(kernels)} entries but conv_channels has "
            f"{len(channels)}; give one kernel size per convolution block, or one int for all."
        )
    return channels, kernels


def check_front_end(est):
    """Errors for front-end settings that cannot work together."""
    sizes = front_end_sizes(est)
    if sizes is None:
        return
    if est.tbptt_steps is not None:
        raise ValueError(
            "tbptt_steps cannot be combined with the convolutional front end "
            f"(conv_channels={est.conv_channels!r}): the convolutions read whole sequences. "
            "Set tbptt_steps=None, or conv_channels=None."
        )
    if getattr(est, "_return_sequences", False) and est.conv_stride != 1:
        raise ValueError(
            f"return_sequences=True needs conv_stride=1 (got conv_stride={est.conv_stride}): "
            "a stride leaves fewer steps than the targets have. Set conv_stride=1."
        )


def front_end_kwargs(est):
    """Keyword arguments of :class:`~skrnn._conv.ConvSequenceNet`, or None
    without a front end."""
    sizes = front_end_sizes(est) if "conv_channels" in est._parameter_constraints else None
    if sizes is None:
        return None
    return dict(conv_channels=sizes[0], conv_kernel_sizes=sizes[1],
                conv_stride=int(est.conv_stride), conv_mode=est.conv_mode)
