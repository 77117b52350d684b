"""Preprocessing for sequences: padding, scaling, patching and time-series windows.

``SequencePadder``, ``SequenceScaler`` and ``SequencePatcher`` read their
input through the one sequence reader of the package, so they accept exactly
what the estimators accept (3-D arrays, 2-D univariate arrays, ragged lists,
padded arrays). ``TimeSeriesWindower`` turns one time-indexed table into one
window per row; it and ``WindowScaledRegressor`` live with the forecasting
tools (:mod:`skrnn.forecasting`) and are importable from here too.
"""

from ..forecasting import TimeSeriesWindower, WindowScaledRegressor
from ._patcher import SequencePatcher
from ._transformers import SequencePadder, SequenceScaler

__all__ = [
    "SequencePadder", "SequencePatcher", "SequenceScaler", "TimeSeriesWindower",
    "WindowScaledRegressor",
]
