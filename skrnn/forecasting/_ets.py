"""Exponential smoothing with an additive (damped) trend, per series.

The classical half of :class:`~skrnn.forecasting.RNNForecaster`'s forecast:
the state-space models ETS(A, Ad, A) and ETS(A, A, A) (additive errors, an
additive damped or linear trend, an additive season when the history holds
at least three seasons), fitted by least squares on the one-step errors,
which for additive Gaussian errors is the maximum-likelihood fit; without a
season the random walk with drift joins them. The parameters are kept in
the usual admissible box (smoothing weights in (1e-4, 1 - 1e-4), the
trend's and the season's weights as fractions of what the level leaves,
damping in [0.8, 0.98], or 1 for the linear trend) and the initial states
are estimated with them, starting from the usual heuristics. Plain numpy
and scipy: the package does not depend on a statistics library for its
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = ["EtsFit", "classical_forecasts", "combine", "drift_forecasts", "fit_ets", "WEIGHTS"]

#: the weights ``ets_weight='auto'`` chooses from
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)

_EPS = 1e-4


@dataclass
class EtsFit:
    """A fitted ETS(A, Ad, A) model (``phi = 1``: ETS(A, A, A)) on ``(y - shift) / unit``."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    season: np.ndarray  # initial seasonal states, oldest first (empty without a season)
    shift: float
    unit: float

    def _run(self, y):
        """The (level, trend) after each step of ``y`` and the seasonal states."""
        z = (np.asarray(y, dtype=float) - self.shift) / self.unit
        _, states, season = _smooth(z, self.alpha, self.beta, self.gamma, self.phi,
                                    self.level, self.trend, self.season)
        return states, season

    def forecasts(self, y, origins, horizon):
        """Forecasts ``(len(origins), horizon)`` made after ``origins`` steps of ``y``.

        The parameters stay those of the fit; the states are filtered
        through ``y`` (which may run past the fitted steps).
        """
        states, season = self._run(y)
        m = len(self.season)
        damp = np.cumsum(self.phi ** np.arange(1, horizon + 1))
        out = np.empty((len(origins), horizon))
        for i, n in enumerate(origins):
            level, trend = states[n - 1]
            f = level + damp * trend
            if m:
                # the latest seasonal state of each position, known after step n - 1
                f = f + np.array([season[n + k % m] for k in range(horizon)])
            out[i] = f * self.unit + self.shift
        return out


def _initial_states(z, m):
    if m:
        level = float(np.mean(z[:m]))
        trend = float(np.mean((z[m:2 * m] - z[:m]) / m))
        season = z[:m] - level
        return level, trend, season - season.mean()
    head = z[:10]  # a line through the first ten values
    trend, level = np.polyfit(np.arange(len(head)), head, 1)
    return float(level), float(trend), np.empty(0)


def _smooth(z, alpha, beta, gamma, phi, level, trend, season):
    """The ETS(A, Ad, A) recursions over ``z``: the sum of squared one-step
    errors, the (level, trend) after each step, and the seasonal states (the
    initial ones, oldest first, then one per step; empty without a season)."""
    season = list(season)
    m = len(season)
    sse, states = 0.0, []
    for t, value in enumerate(z):
        s = season[t] if m else 0.0
        e = value - (level + phi * trend + s)
        sse += e * e
        level, trend = level + phi * trend + alpha * e, phi * trend + beta * e
        if m:
            season.append(s + gamma * e)
        states.append((level, trend))
    return sse, states, season


def _seasonal_states(free):
    """The initial seasonal states from the ``m - 1`` free ones (they sum to zero)."""
    return np.r_[free, -np.sum(free)] if len(free) else np.empty(0)


def _sse(theta, z):
    """The least-squares objective of the optimiser's parameter vector."""
    alpha, beta_star, gamma_star, phi, level, trend = theta[:6]
    return _smooth(z, alpha, beta_star * alpha, gamma_star * (1 - alpha), phi, level, trend,
                   _seasonal_states(theta[6:]))[0]


def fit_ets(y, season_length=1, damped=True):
    """Fit ETS(A, Ad, A), or ETS(A, A, A), to one series ``y``, with its season if it fits.

    Parameters
    ----------
    y : array-like of shape (n_steps,)
        The history; with fewer than 4 values the fit carries the last
        value forward.
    season_length : int, default=1
        Steps per season; the seasonal state is used when
        ``season_length > 1`` and the series holds three seasons.
    damped : bool, default=True
        Damp the trend (``phi`` fitted in [0.8, 0.98]); False fits the
        linear trend of ETS(A, A, A), Holt(-Winters), with ``phi = 1``.

    Returns
    -------
    fit : EtsFit
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 4:  # too short to fit: the last value, carried forward
        return EtsFit(alpha=1.0, beta=0.0, gamma=0.0, phi=0.8, level=0.0, trend=0.0,
                      season=np.empty(0), shift=float(y[0]), unit=1.0)
    m = season_length if season_length > 1 and len(y) >= 3 * season_length else 0
    shift = float(y[0])
    unit = float(np.mean(np.abs(np.diff(y)))) or float(np.std(y)) or 1.0
    z = (y - shift) / unit
    level, trend, season = _initial_states(z, m)
    phi0 = 0.98 if damped else 1.0
    bounds = ([(_EPS, 1 - _EPS)] * 3 + [(0.8, 0.98) if damped else (1.0, 1.0)]
              + [(None, None)] * (2 + max(m - 1, 0)))
    if not m:  # no seasonal weight to fit
        bounds[2] = (0.0, 0.0)
    result = None
    # the least-squares surface has local minima at the edges of the box:
    # three starts (slow, middle, fast), the best fit kept
    for alpha0, beta0 in ((0.1, 0.1), (0.5, 0.5), (0.9, 0.2)):
        start = np.r_[alpha0, beta0, 0.01 if m else 0.0, phi0, level, trend,
                      season[:-1] if m else []]
        trial = minimize(_sse, start, args=(z,), method="L-BFGS-B", bounds=bounds)
        if result is None or trial.fun < result.fun:
            result = trial
    alpha, beta_star, gamma_star, phi, level, trend = result.x[:6]
    seas = _seasonal_states(result.x[6:])
    return EtsFit(alpha=float(alpha), beta=float(beta_star * alpha),
                  gamma=float(gamma_star * (1 - alpha)), phi=float(phi), level=float(level),
                  trend=float(trend), season=seas, shift=shift, unit=unit)


def drift_forecasts(y, origins, horizon):
    """The random walk with drift (n_origins, horizon): after ``n`` steps of
    ``y``, its last value plus ``k`` times its mean step ``(y[n-1] - y[0]) /
    (n - 1)`` for ``k = 1 .. horizon`` (the last value alone when ``n < 2``)."""
    y = np.asarray(y, dtype=float)
    k = np.arange(1, horizon + 1)
    out = np.empty((len(origins), horizon))
    for i, n in enumerate(origins):
        step = (y[n - 1] - y[0]) / (n - 1) if n > 1 else 0.0
        out[i] = y[n - 1] + step * k
    return out


def classical_forecasts(y_fit, y, origins, horizon, season_length=1):
    """The forecaster's classical half (n_origins, horizon) after ``origins``
    steps of ``y``: the mean of ETS(A, Ad, A) and ETS(A, A, A) (damped and
    linear trends), both fitted on ``y_fit`` and filtered through ``y``, and
    without a season (``season_length == 1``) of the random walk with drift
    as well (``studies/forecaster_defaults.md``: the linear trend gained on
    all five data sets of the study's histories but grunfeld, the drift on
    both yearly ones)."""
    parts = [fit_ets(y_fit, season_length, damped=damped).forecasts(y, origins, horizon)
             for damped in (True, False)]
    if season_length == 1:
        parts.append(drift_forecasts(y, origins, horizon))
    return np.mean(parts, axis=0)


def combine(histories, point, smooth, weight):
    """``weight * smooth + (1 - weight) * network`` on the target's scale.

    ``point`` holds the network's forecasts (n_series, horizon) on the
    modelled scale of each history (``log(y)`` or ``y``), ``smooth`` the
    smoothing forecasts on the target's scale; the result is on the modelled
    scale. With a log target a negative smoothing forecast counts as zero.
    """
    out = np.empty_like(point)
    for i, h in enumerate(histories):
        s = np.maximum(smooth[i], 0.0) if h.log else smooth[i]
        raw = (1 - weight) * h.inverse(point[i]) + weight * s
        out[i] = np.log(np.maximum(raw, np.finfo(float).tiny)) if h.log else raw
    return out
