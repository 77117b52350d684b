"""skrnn: recurrent neural networks as scikit-learn estimators."""

from .classifier import RNNClassifier
from ._forecaster import RNNForecaster
from .preprocessing import SequencePadder, SequencePatcher, SequenceScaler, TimeSeriesWindower
from .persistence import load
from .regressor import RNNRegressor
from .seq2seq import Seq2SeqTransformer

__version__ = "0.1.0"

__all__ = [
    "RNNClassifier",
    "RNNForecaster",
    "RNNRegressor",
    "Seq2SeqTransformer",
    "SequencePadder",
    "SequencePatcher",
    "SequenceScaler",
    "TimeSeriesWindower",
    "load",
]
