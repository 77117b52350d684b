"""The shared parameters of the recurrent estimators: their types (used in
every estimator's explicit signature) and their constraints (scikit-learn's
declared validation)."""

from numbers import Integral, Real
from typing import Literal, Union

import numpy as np
import torch

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
