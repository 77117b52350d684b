"""A warning for targets whose magnitudes span orders of magnitude.

numpy only. A regressor trained through a :class:`~skrnn.TimeSeriesWindower`
on a panel whose series differ in scale by orders of magnitude (sales of 10
and of 100,000 units) fits the largest series and forecasts the small ones
badly, silently: the windows and targets need per-series scaling.
"""

import warnings

import numpy as np

__all__ = ["ScaleWarning", "warn_if_scales_differ"]

#: Ratio of the 95th to the 5th percentile of ``|y|`` from which targets of
#: one sign are read as series of different scales.
SPAN = 1000.0


class ScaleWarning(UserWarning):
    """Targets of very different magnitudes without per-series scaling."""


def warn_if_scales_differ(y, estimator="RNNRegressor"):
    """Warn when positive (or negative) targets span three orders of magnitude."""
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        return  # not numbers (the regressor's own validation says so)
    y = y[np.isfinite(y)]
    if y.size < 20 or not (np.all(y > 0) or np.all(y < 0)):
        return  # signed targets (changes, scaled values) are not magnitudes
    low, high = np.percentile(np.abs(y), [5, 95])
    if high < SPAN * low:
        return
    warnings.warn(
        f"{estimator} is trained on targets that span {np.log10(high / low):.1f} orders of "
        f"magnitude (5th percentile {low:.3g}, 95th {high:.3g}). If they are windows of "
        "several series (a TimeSeriesWindower on a panel), the model fits the largest series "
        "only: scale each series, with RNNForecaster (which scales every series itself) or "
        "WindowScaledRegressor around the regressor.",
        ScaleWarning,
        stacklevel=4,  # warn_if_scales_differ < fit < _fit_context < the caller
    )
