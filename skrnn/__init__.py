"""skrnn: recurrent neural networks as scikit-learn estimators."""

from ._sequences.config import config_context, get_config, set_config
from .classifier import RNNClassifier
from .forecasting import RNNForecaster
from .preprocessing import SequencePadder, SequencePatcher, SequenceScaler, TimeSeriesWindower
from .persistence import load
from .regressor import RNNRegressor
from .seq2seq import Seq2SeqTransformer

from ._version import __version__  # noqa: F401  (the package version)

__all__ = [
    "RNNClassifier",
    "RNNForecaster",
    "RNNRegressor",
    "Seq2SeqTransformer",
    "SequencePadder",
    "SequencePatcher",
    "SequenceScaler",
    "TimeSeriesWindower",
    "config_context",
    "get_config",
    "load",
    "set_config",
]
