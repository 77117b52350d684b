"""The shared parameters of the recurrent estimators: their types (used in
every estimator's explicit signature) and their constraints (scikit-learn's
declared validation)."""

from numbers import Integral, Real
from typing import Literal, Sequence, Union

import numpy as np
import torch

from . import _warnings
from ._compat import Interval, StrOptions
from ._train import schedules as _schedules

__all__ = ["Cell", "Nonlinearity", "PoolingKind", "DataFormat", "OptimizerSpec", "DeviceSpec",
           "RandomState", "LRSchedule", "SHARED_CONSTRAINTS", "ADDED_PARAMS",
           "estimator_snapshot", "store_params"]

# Types of the shared parameters, used in every estimator's signature.
Cell = Literal["rnn", "lstm", "gru"]
Nonlinearity = Literal["tanh", "relu"]
PoolingKind = Literal["last", "mean", "max", "attention"]
DataFormat = Literal["channels_last", "channels_first"]
OptimizerSpec = Union[Literal["adam", "sgd", "rmsprop"], "type[torch.optim.Optimizer]"]
DeviceSpec = Union[Literal["auto", "cpu", "cuda"], str, torch.device]
RandomState = Union[int, np.random.RandomState, None]
LRSchedule = Union[
    Literal["constant", "cosine", "onecycle", "plateau"], "type[torch.optim.lr_scheduler.LRScheduler]"
]


# the convolutional front end of RNNClassifier and RNNRegressor (skrnn/_nn/conv.py)
ConvSizes = Union[int, Sequence[int]]
ConvMode = Literal["before", "beside"]
FRONT_END_CONSTRAINTS = {
    "conv_channels": [Interval(Integral, 1, None, closed="left"), "array-like", None,
                      StrOptions({"auto"})],
    "conv_kernel_sizes": [Interval(Integral, 1, None, closed="left"), "array-like",
                          StrOptions({"auto"})],
    "conv_stride": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "conv_mode": [StrOptions({"before", "beside"})],
}
# conv_channels='auto' (studies/results_front_end.md): the blocks measured on
# univariate series of 150 to 1,460 steps, on from this median length
AUTO_MIN_STEPS = 128
# ... and for RNNClassifier on univariate series from this median length (more than the
# blocks' receptive field of 13 steps; ItalyPowerDemand, 24 steps: 0.935 -> 0.966 over five
# seeds, above MiniRocket's 0.965; the short multivariate sets stay without it)
AUTO_MIN_STEPS_UNIVARIATE = 16
AUTO_CHANNELS = (64, 64, 64)
AUTO_KERNELS = (7, 5, 3)
# model files written before the front end existed have none
FRONT_END_OFF = {"conv_channels": None, "conv_kernel_sizes": 3, "conv_stride": 1,
                 "conv_mode": "before"}

# parameters added after the first model files and pickles were written, with
# the values that reproduce the behaviour of then (early stopping watched the
# validation score)
ADDED_PARAMS = {"lr_schedule": "constant", "lr_schedule_params": None,
                "early_stopping_monitor": "score", "callbacks": None,
                "data_format": "channels_last", "n_threads": None}

SHARED_CONSTRAINTS = {
    "cell": [StrOptions({"rnn", "lstm", "gru"})],
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "num_layers": [Interval(Integral, 1, None, closed="left")],
    "bidirectional": ["boolean"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "nonlinearity": [StrOptions({"tanh", "relu"})],
    "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
    "mask_value": [Real, None],
    "data_format": [StrOptions({"channels_last", "channels_first"}), None],
    "pooling": [StrOptions({"last", "mean", "max", "attention"})],
    "optimizer": [StrOptions({"adam", "sgd", "rmsprop"}), callable],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [StrOptions(set(_schedules.NAMED)), callable],
    "lr_schedule_params": [dict, None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "tbptt_steps": [Interval(Integral, 1, None, closed="left"), None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "early_stopping_monitor": [StrOptions({"loss", "score"})],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "device": [StrOptions({"auto", "cpu", "cuda"}), str, torch.device],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "callbacks": [list, None],
}


def estimator_snapshot(estimator):
    """A shallow copy of ``estimator`` sharing its attribute values, taken in
    one step (a dict copy): fit works on one and publishes it, predict reads
    one, so neither sees another thread's half-finished refit."""
    snap = object.__new__(type(estimator))
    snap.__dict__ = dict(estimator.__dict__)
    return snap


def store_params(estimator, params):
    """Store an ``__init__``'s arguments (its ``locals()``) as attributes,
    unchanged, as scikit-learn requires."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


def _optimizer_class(value):
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


# ------------------------------------------------------------ front end
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


def front_end_sizes(est, channels=None):
    """``(channels, kernel_sizes)`` of the blocks, or None without a front end.

    An int ``conv_kernel_sizes`` applies to every block; ``'auto'`` kernels
    are 7, 5, then 3. ``channels`` replaces ``est.conv_channels`` (an
    ``'auto'`` one, resolved)."""
    channels = est.conv_channels if channels is None else channels
    if channels is None or isinstance(channels, str):
        return None
    channels = _sizes(channels, "conv_channels")
    if isinstance(est.conv_kernel_sizes, str):  # 'auto'
        kernels = (AUTO_KERNELS + (3,) * len(channels))[: len(channels)]
    else:
        kernels = _sizes(est.conv_kernel_sizes, "conv_kernel_sizes")
    if len(kernels) == 1:
        kernels = kernels * len(channels)
    if len(kernels) != len(channels):
        raise ValueError(
            f"conv_kernel_sizes has {len(kernels)} entries but conv_channels has "
            f"{len(channels)}; give one kernel size per convolution block, or one int for all."
        )
    return channels, kernels


def resolve_front_end(est, lengths, n_features):
    """The front end a fit on sequences of ``lengths`` real steps of
    ``n_features`` features builds: :class:`~skrnn._nn.conv.ConvSequenceNet`'s
    keyword arguments, or None.

    ``conv_channels='auto'`` turns the front end on when the median length is
    at least ``AUTO_MIN_STEPS`` (and ``tbptt_steps`` is not set), and for an
    estimator whose ``_auto_front_end_univariate`` is true also on univariate
    numeric sequences from ``AUTO_MIN_STEPS_UNIVARIATE``; an ``'auto'``
    stride is ``round(sqrt(median) / 4)`` (1 with ``return_sequences=True``)."""
    median = float(np.median(lengths)) if len(lengths) else 0.0
    channels = est.conv_channels
    if isinstance(channels, str):  # 'auto'
        univariate = (getattr(est, "_auto_front_end_univariate", False) and n_features == 1
                      and getattr(est, "embedding_dim", None) is None
                      and median >= AUTO_MIN_STEPS_UNIVARIATE)
        on = (median >= AUTO_MIN_STEPS or univariate) and est.tbptt_steps is None
        channels = AUTO_CHANNELS if on else None
    sizes = front_end_sizes(est, channels)
    if sizes is None:
        return None
    stride = est.conv_stride
    if isinstance(stride, str):  # 'auto'
        stride = 1 if getattr(est, "_return_sequences", False) else max(1, round(median ** 0.5 / 4))
    explicit = not isinstance(est.conv_stride, str) and not isinstance(est.conv_kernel_sizes, str)
    if explicit and stride > sizes[1][0]:  # the 'auto' pair was measured (results_front_end.md)
        _warnings.warn(
            f"conv_stride={stride} is larger than the first convolution's kernel "
            f"({sizes[1][0]}): {stride - sizes[1][0]} of every {stride} steps are never read. "
            f"Use a first kernel of at least {stride} (conv_kernel_sizes), or a smaller stride.",
            UserWarning,
        )
    return dict(conv_channels=sizes[0], conv_kernel_sizes=sizes[1], conv_stride=int(stride),
                conv_mode=est.conv_mode)


def check_front_end(est):
    """Errors for front-end settings that cannot work together (for an
    ``'auto'`` front end, those it would meet when it turns on)."""
    auto = isinstance(est.conv_channels, str)
    sizes = front_end_sizes(est, AUTO_CHANNELS if auto else None)
    if sizes is None:
        return
    if not auto and est.tbptt_steps is not None:  # 'auto' stays off with tbptt_steps
        raise ValueError(
            "tbptt_steps cannot be combined with the convolutional front end "
            f"(conv_channels={est.conv_channels!r}): the convolutions read whole sequences. "
            "Set tbptt_steps=None, or conv_channels=None."
        )
    if getattr(est, "_return_sequences", False) and est.conv_stride not in (1, "auto"):
        raise ValueError(
            f"return_sequences=True needs conv_stride=1 or 'auto' (got conv_stride="
            f"{est.conv_stride}): a stride leaves fewer steps than the targets have."
        )


def front_end_kwargs(est):
    """Keyword arguments of :class:`~skrnn._nn.conv.ConvSequenceNet`, or None
    without a front end: the one the fit resolved (``front_end_``), else the
    parameters' (model files written before ``'auto'`` existed)."""
    if "conv_channels" not in est._parameter_constraints:
        return None
    if hasattr(est, "front_end_"):
        return est.front_end_
    sizes = front_end_sizes(est)
    if sizes is None:
        return None
    return dict(conv_channels=sizes[0], conv_kernel_sizes=sizes[1],
                conv_stride=int(est.conv_stride), conv_mode=est.conv_mode)
