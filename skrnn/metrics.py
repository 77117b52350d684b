"""Forecast accuracy metrics: seasonal MASE, sMAPE, pinball loss and interval
coverage, as functions and as scikit-learn scorers.

numpy only. The functions take plain arrays (one series) so they combine with
any forecaster; the scorers (``mase_scorer`` and friends) follow
scikit-learn's convention that greater is better, so the errors are negated.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import make_scorer

__all__ = [
    "interval_coverage",
    "mase_scale",
    "mase_scorer",
    "mean_absolute_scaled_error",
    "mean_pinball_loss",
    "smape_scorer",
    "symmetric_mean_absolute_percentage_error",
]


def _as_1d(values, name):
    out = np.asarray(values, dtype=np.float64).ravel()
    if np.isnan(out).any():
        raise ValueError(f"{name} has missing values (NaN); drop or impute them first.")
    return out


def _same_length(y_true, y_pred, names=("y_true", "y_pred")):
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"{names[0]} has {len(y_true)} values but {names[1]} has {len(y_pred)}; "
            "they must be aligned one to one."
        )


def mase_scale(y_history, season_length=1):
    """The in-sample mean absolute ``season_length``-step difference of a history.

    Falls back to the one-step difference when the history is shorter than
    ``season_length + 1`` or its seasonal differences are all zero.

    Parameters
    ----------
    y_history : array-like of shape (n_timesteps,)
    season_length : int, default=1

    Returns
    -------
    scale : float
    """
    history = _as_1d(y_history, "y_history")
    if not isinstance(season_length, Integral) or season_length < 1:
        raise ValueError(f"season_length must be an integer >= 1; got {season_length!r}.")
    for lag in dict.fromkeys((int(season_length), 1)):
        if len(history) > lag:
            scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
            if scale > 0:
                return scale
    raise ValueError(
        f"Cannot scale the error: the history ({len(history)} value(s)) is constant or too "
        "short (at least two different values are needed)."
    )


def mean_absolute_scaled_error(y_true, y_pred, *, y_history, season_length=1):
    """Seasonal MASE: mean absolute error divided by the history's mean absolute
    ``season_length``-step difference (the seasonal naive forecast's in-sample error).

    Parameters
    ----------
    y_true : array-like of shape (n_steps,)
        The actual future values.
    y_pred : array-like of shape (n_steps,)
        The forecast.
    y_history : array-like of shape (n_timesteps,)
        The series before ``y_true`` (sets the scale).
    season_length : int, default=1
        1 scales by the naive forecast's error (non-seasonal MASE).

    Returns
    -------
    mase : float
        1 equals the in-sample error of the (seasonal) naive forecast.

    Examples
    --------
    >>> from skrnn.metrics import mean_absolute_scaled_error
    >>> mean_absolute_scaled_error([5., 6.], [4., 6.], y_history=[1., 2., 3., 4.])
    0.5
    """
    y_true, y_pred = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _same_length(y_true, y_pred)
    scale = mase_scale(y_history, season_length)
    return float(np.mean(np.abs(y_true - y_pred)) / scale)


def symmetric_mean_absolute_percentage_error(y_true, y_pred):
    """sMAPE in percent: ``mean(200 |y - f| / (|y| + |f|))`` (0 where both are 0).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_steps,)

    Returns
    -------
    smape : float
        Between 0 and 200.

    Examples
    --------
    >>> from skrnn.metrics import symmetric_mean_absolute_percentage_error
    >>> symmetric_mean_absolute_percentage_error([100., 100.], [100., 300.])
    50.0
    """
    y_true, y_pred = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _same_length(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    ratio = np.divide(2 * np.abs(y_true - y_pred), denominator,
                      out=np.zeros_like(denominator), where=denominator > 0)
    return float(100 * np.mean(ratio))


def mean_pinball_loss(y_true, y_quantile, *, alpha=0.5):
    """The pinball (quantile) loss of a forecast of the ``alpha`` quantile.

    ``mean(max(alpha (y - q), (alpha - 1) (y - q)))``; at ``alpha=0.5`` half
    the mean absolute error.

    Parameters
    ----------
    y_true, y_quantile : array-like of shape (n_steps,)
    alpha : float, default=0.5
        The quantile level, in (0, 1).

    Returns
    -------
    loss : float

    Examples
    --------
    >>> from skrnn.metrics import mean_pinball_loss
    >>> round(mean_pinball_loss([1., 2.], [2., 2.], alpha=0.9), 6)
    0.05
    """
    if not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a quantile level in (0, 1); got {alpha!r}.")
    y_true, y_quantile = _as_1d(y_true, "y_true"), _as_1d(y_quantile, "y_quantile")
    _same_length(y_true, y_quantile, ("y_true", "y_quantile"))
    diff = y_true - y_quantile
    return float(np.mean(np.maximum(alpha * diff, (alpha - 1) * diff)))


def interval_coverage(y_true, lower, upper):
    """The fraction of actual values inside ``[lower, upper]``.

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n_steps,)

    Returns
    -------
    coverage : float
        Between 0 and 1; an 80% interval that means what it says covers
        about 0.8 on held-out data.

    Examples
    --------
    >>> from skrnn.metrics import interval_coverage
    >>> interval_coverage([1., 2., 3., 4.], [0., 0., 0., 0.], [2., 2., 2., 2.])
    0.5
    """
    y_true = _as_1d(y_true, "y_true")
    lower, upper = _as_1d(lower, "lower"), _as_1d(upper, "upper")
    _same_length(y_true, lower, ("y_true", "lower"))
    _same_length(y_true, upper, ("y_true", "upper"))
    if np.any(lower > upper):
        raise ValueError("lower is above upper somewhere; pass the bounds in that order.")
    return float(np.mean((y_true >= lower) & (y_true <= upper)))


def _mase_score(estimator, X, y=None):
    """Minus the mean MASE of ``estimator`` on ``X`` (an RNNForecaster's score)."""
    return estimator.score(X, y)


#: Scorer: minus the mean seasonal MASE of an :class:`~skrnn.RNNForecaster`
#: (its ``score``), for ``GridSearchCV(..., scoring=mase_scorer)``.
mase_scorer = _mase_score

#: Scorer: minus the sMAPE of a regressor's predictions (scikit-learn's
#: ``make_scorer`` convention, greater is better).
smape_scorer = make_scorer(symmetric_mean_absolute_percentage_error, greater_is_better=False)
