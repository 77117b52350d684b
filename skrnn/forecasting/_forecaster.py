"""``RNNForecaster``: forecasting as one scikit-learn estimator.

A direct multi-step model over one series or a panel, built on
:class:`~skrnn.TimeSeriesWindower`, :func:`skrnn.forecasting.make_horizon_targets`
and :class:`~skrnn.RNNRegressor`:

- positive series are modelled as ``log(y)`` (their changes are growth
  rates); other series are divided by their own scale (the mean absolute
  one-step change), so series of any magnitude train one global model;
- each window is read relative to its last value and the targets are the
  changes from that value, ``(y[t + k] - y[t]) / scale``: the level and the
  trend of a series carry over, the network learns shapes;
- the position in the season (from the index frequency) is a feature;
- the network's forecast is averaged with a per-series classical forecast
  (``ets_weight``, see ``_ets.py``): exponential smoothing with a damped and
  with a linear trend, and without a season the random walk with drift
  too; a hybrid measured better than either half;
- intervals are conformal: normalised residuals of out-of-sample forecasts
  (a model fitted on each history without its last ``horizon +
  calibration_windows - 1`` steps, forecasting every later origin) give, per
  step ahead, the quantiles added to the point forecast.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._compat import Interval, StrOptions, _fit_context
from .._doclink import DOC_LINK_TEMPLATE, doc_link_url_params
from .._home import public_home
from ..regressor import RNNRegressor
from ._ets import WEIGHTS, classical_forecasts, combine
from ._forecast_evaluation import _ForecastEvaluation
from ._forecast_input import _ForecastInput, _with_stats
from ._panel import read_table

__all__ = ["RNNForecaster"]


# ------------------------------------------------------------------ series


# --------------------------------------------------------------- estimator
@public_home("skrnn.forecasting")
class RNNForecaster(_ForecastEvaluation, _ForecastInput, BaseEstimator):
    """Forecast the next ``horizon`` steps of one series or many with a GRU.

    One estimator for the whole forecasting job: ``fit`` on the history (a
    time-indexed Series, a DataFrame, or a panel), ``predict`` the
    ``horizon`` steps after it in the same layout, with calibrated
    intervals. Per-series scaling, the season length, the window, trend
    handling and the training budget are built in; the defaults were chosen
    by measurement on real monthly, quarterly and yearly series and several
    seeds (``studies/forecaster_defaults.md``).

    How it works: a positive series is modelled as ``log(y)``, another is
    divided by its mean absolute one-step change; the window of the last
    ``window`` steps is read relative to its last value, and a direct
    multi-output :class:`~skrnn.RNNRegressor` (whose configuration the
    forecaster pins) predicts the changes ``1 .. horizon`` steps ahead, which
    are mapped back to the series' scale and averaged with an exponential
    smoothing forecast of each series (``ets_weight``).
    Intervals and quantiles are conformal: the forecaster fits a second
    model on each history without its last
    ``horizon + calibration_windows - 1`` steps and keeps, per step ahead,
    the normalised errors of its forecasts from the held-out origins.

    Parameters
    ----------
    horizon : int
        Number of steps to forecast.
    target : str, default=None
        The column to forecast, for a DataFrame with several columns; the
        other columns (except ``static_cols`` and ``known_cols``) are past
        covariates. A Series is its own target.
    id_col, time_col : str, default=None
        A long panel's id and time columns (as in
        :class:`~skrnn.TimeSeriesWindower`); with a ``(id, time)``
        MultiIndex, the level names (default: the first and second level).
        ``time_col`` alone names the time column of one series.
    static_cols : list of str, default=None
        Columns constant within each series (e.g. a region). Text and
        categorical columns are one-hot encoded, numbers standardised.
    known_cols : list of str, default=None
        Covariates whose future is known (calendar, planned promotions):
        pass their values for the ``horizon`` stamps after each series as
        ``future=`` to ``predict``.
    season_length : int, default=None
        Steps per season; None reads it from the index frequency (monthly
        12, quarterly 4, weekly 52, daily 7, hourly 24, yearly and integer
        stamps 1). Give it for seasonal series with integer stamps: with 1
        the network gets no season position, the smoothing no season, and the
        classical half averages in the random walk with drift (see
        ``ets_weight``).
    window : int, default=None
        Steps the network reads; None uses ``max(2 * season_length,
        horizon + 2, 8)``.
    log_target : bool or 'auto', default='auto'
        Model ``log(y)`` (changes become growth rates, multiplicative
        seasons additive); ``'auto'`` does when every fitted value is
        positive.
    cell : {'gru', 'lstm', 'rnn'}, default='gru'
        The recurrent cell of the inner :class:`~skrnn.RNNRegressor`.
    hidden_size : int, default=64
        Units of its one recurrent layer.
    loss : {'quantile', 'absolute_error', 'squared_error', 'huber'}, default='quantile'
        Training loss on the scaled changes. ``'quantile'``: the pinball
        loss of the levels 0.1, 0.5 and 0.9 on robustly scaled changes (the
        median is the forecast); the others on standardised changes (Huber:
        squared within one standard deviation, absolute beyond).
    max_iter : int or 'auto', default=80
        Epochs; ``'auto'`` gives about ``n_steps`` gradient steps, between
        30 and 300 epochs.
    n_steps : int, default=2000
        Gradient steps aimed at by ``max_iter='auto'``.
    learning_rate_init : float, default=1e-3
        Adam's step size (constant).
    batch_size : int, default=32
        Windows per gradient step.
    n_models : int, default=1
        Seeds averaged into one forecast (a small ensemble counts as one
        model; ``fit`` time grows with it).
    ets_weight : float or 'auto', default=0.5
        Weight of a classical forecast averaged with the network's (on the
        target's scale): the mean of two exponential smoothing forecasts,
        with an additive damped trend and with an additive linear trend, and
        an additive season when the history holds three seasons (ETS(A, Ad,
        A) and ETS(A, A, A)), each fitted by least squares on the series' own
        target alone (covariates are the network's); without a season
        (``season_length_ == 1``) the random walk with drift (the last
        value plus the history's mean step per step ahead) joins that mean
        as a third forecast. 0 forecasts with the network alone, 1 with the
        classical forecast alone. The hybrid was measured better than either
        half on the mean over data sets; the intervals are
        calibrated on the combined forecast. ``'auto'`` picks, of 0, 0.25,
        0.5, 0.75 and 1, the weight whose forecasts of the calibration
        origins have the least scaled error (0.5 without calibration).
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        The levels ``predict_quantiles`` returns by default.
    calibration_windows : int or None, default=None
        Forecast origins per series held out to calibrate the intervals
        (None: ``horizon`` but at most 12, and enough for at least 9 errors
        per step over all series, as far as the series' lengths allow); 0
        fits no calibration model (no intervals, half the fit time).
    device : str, default='cpu'
        Passed to the inner regressors.
    random_state : int, RandomState instance or None, default=None
        Seeds the inner models (an int gives the same forecasts every fit).
    verbose : int, default=0
        Passed to the inner regressors (a progress bar per fit when > 0).

    Attributes
    ----------
    season_length_ : int
    window_ : int
    log_target_ : bool
        Whether the model reads ``log(y)``.
    max_iter_ : int
        The epochs each inner model trained.
    ets_weight_ : float
        The smoothing forecast's weight in the forecasts.
    estimators_ : list of RNNRegressor
        The fitted models (``n_models``), averaged.
    residuals_ : ndarray of shape (n_residuals, horizon) or None
        Normalised out-of-sample errors per step ahead (None without
        calibration).
    series_ids_ : ndarray or None
        The fitted series (None for one series).
    target_name_ : str
    fit_time_ : float
        Seconds spent in ``fit``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skrnn import RNNForecaster
    >>> t = np.arange(60)
    >>> y = pd.Series(10 + np.sin(2 * np.pi * t / 12), name="sales",
    ...               index=pd.date_range("2020-01", periods=60, freq="MS"))
    >>> model = RNNForecaster(3, hidden_size=8, max_iter=5, random_state=0).fit(y)
    >>> model.predict().index.strftime("%Y-%m").tolist()
    ['2025-01', '2025-02', '2025-03']
    >>> list(model.predict_interval().columns)
    ['sales_lower', 'sales_upper']
    """

    # the HTML repr's "?" icon links to the class's API page (see _doclink.py)
    _doc_link_module = "skrnn"
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    _parameter_constraints = {
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "target": [str, None],
        "id_col": [str, None],
        "time_col": [str, None],
        "static_cols": [list, tuple, str, None],
        "known_cols": [list, tuple, str, None],
        "season_length": [Interval(Integral, 1, None, closed="left"), None],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "log_target": ["boolean", StrOptions({"auto"})],
        "cell": [StrOptions({"gru", "lstm", "rnn"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions({"quantile", "absolute_error", "squared_error", "huber"})],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_models": [Interval(Integral, 1, None, closed="left")],
        "ets_weight": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "quantiles": ["array-like"],
        "calibration_windows": [Interval(Integral, 0, None, closed="left"), None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        horizon: int,
        *,
        target: str | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        static_cols: Sequence[str] | None = None,
        known_cols: Sequence[str] | None = None,
        season_length: int | None = None,
        window: int | None = None,
        log_target: bool | Literal["auto"] = "auto",
        cell: Literal["gru", "lstm", "rnn"] = "gru",
        hidden_size: int = 64,
        loss: Literal["quantile", "absolute_error", "squared_error", "huber"] = "quantile",
        max_iter: int | Literal["auto"] = 80,
        n_steps: int = 2000,
        learning_rate_init: float = 1e-3,
        batch_size: int = 32,
        n_models: int = 1,
        ets_weight: float | Literal["auto"] = 0.5,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        calibration_windows: int | None = None,
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.horizon = horizon
        self.target = target
        self.id_col = id_col
        self.time_col = time_col
        self.static_cols = static_cols
        self.known_cols = known_cols
        self.season_length = season_length
        self.window = window
        self.log_target = log_target
        self.cell = cell
        self.hidden_size = hidden_size
        self.loss = loss
        self.max_iter = max_iter
        self.n_steps = n_steps
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.n_models = n_models
        self.ets_weight = ets_weight
        self.quantiles = quantiles
        self.calibration_windows = calibration_windows
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model (and the calibration model) on the history ``X``.

        Parameters
        ----------
        X : Series or DataFrame
            A time-indexed Series (one series); a DataFrame indexed by time
            whose ``target`` column is forecast; or a panel, long (with
            ``id_col``/``time_col``) or with an ``(id, time)`` MultiIndex.
            Stamps must be unique, sorted and regular within each series.
        y : None
            Must be None: the target is a column of ``X``.

        Returns
        -------
        self : RNNForecaster
            The fitted forecaster.
        """
        start = time.perf_counter()
        if y is not None:
            raise ValueError(
                "RNNForecaster.fit takes the target from X (a Series, or the target= column "
                "of a DataFrame); y must be None. Pass the history as X."
            )
        self._check_quantile_levels(self.quantiles)
        series, layout = self._read(X, reset=True)
        self._check_lengths(series, self.horizon + 2, "fit")
        self.season_length_ = self.season_length or self._season_
        self.window_ = self.window or max(2 * self.season_length_, self.horizon + 2, 8)
        series = [_with_stats(s, self.season_length_) for s in series]
        self._fit_static(series)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(2**31 - 1, size=2 * self.n_models)
        self.ets_weight_ = 0.5 if self.ets_weight == "auto" else float(self.ets_weight)
        self.estimators_ = self._fit_models(series, seeds[: self.n_models])
        self.residuals_ = self._calibrate(series, seeds[self.n_models :])
        self._layout = layout
        self._ets_fitted = self._ets_forecasts(series)
        self._fitted = [s.tail(self.window_) for s in series]
        self.series_ids_ = (None if layout["kind"] in ("series", "frame")
                            else np.array([s.key for s in series], dtype=object))
        self.fit_time_ = time.perf_counter() - start
        return self

    def _fit_models(self, series, seeds):
        X, Y = self._training_rows(series)
        steps_per_epoch = math.ceil(len(X) / self.batch_size)
        if self.max_iter == "auto":
            self.max_iter_ = int(np.clip(math.ceil(self.n_steps / steps_per_epoch), 30, 300))
        else:
            self.max_iter_ = int(self.max_iter)
        models = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for seed in seeds:
                models.append(self._regressor(int(seed)).fit(X, Y))
        return models

    def _regressor(self, seed):
        """The inner model, every parameter pinned here."""
        return RNNRegressor(
            cell=self.cell, hidden_size=self.hidden_size, num_layers=1, bidirectional=False,
            dropout=0.0, nonlinearity="tanh", embedding_dim=None, mask_value=np.nan,
            data_format="channels_last", pooling="last", optimizer="adam",
            learning_rate_init=self.learning_rate_init, lr_schedule="constant",
            lr_schedule_params=None, alpha=0.0, batch_size=self.batch_size,
            max_iter=self.max_iter_, shuffle=True, clip_grad_norm=1.0, tbptt_steps=None,
            early_stopping=False, validation_fraction=0.1, early_stopping_monitor="loss",
            n_iter_no_change=10, tol=None, device=self.device, n_threads=1,
            random_state=seed, verbose=self.verbose, warm_start=False, callbacks=None,
            return_sequences=False, loss=self.loss, quantiles=(0.1, 0.5, 0.9),
            huber_delta=1.0,
            # the quantile loss was measured with robust scaling (heavy-tailed changes)
            target_scaling="robust" if self.loss == "quantile" else "standard",
        )

    def _calibrate(self, series, seeds):
        n_cal = self._n_calibration(len(series))
        if n_cal == 0:
            return None
        while True:  # as many origins as the series' lengths allow
            drop = self.horizon + n_cal - 1
            usable = [s for s in series if len(s.y) - drop >= self.horizon + 2]
            if usable or n_cal == 1:
                break
            n_cal -= 1
        if not usable:
            raise ValueError(
                f"Every series is too short to calibrate the intervals: it needs "
                f"{2 * self.horizon + 2} steps (horizon={self.horizon}); the longest has "
                f"{max(len(s.y) for s in series)}. Pass calibration_windows=0 to fit "
                "without intervals, or a shorter horizon."
            )
        heads = [s.head(len(s.y) - drop) for s in usable]
        models = self._fit_models(heads, seeds)
        histories, truths = [], []
        for s in usable:
            for j in range(n_cal):
                end = len(s.y) - self.horizon - j
                h = s.head(end)
                # the calibration model's own statistics: those of its training part
                h = replace(h, scale=heads[usable.index(s)].scale)
                h._season = self.season_length_
                histories.append(h.tail(self.window_))
                truths.append(s.z[end : end + self.horizon])
        futures = [s.known[len(s.y) - self.horizon - j : len(s.y) - j]
                   for s in usable for j in range(n_cal)]
        point = self._network_point(models, histories, futures)
        if self.ets_weight_ > 0 or self.ets_weight == "auto":
            # the smoothing half, fitted on the same heads
            ets = np.vstack([classical_forecasts(
                hd.y, s.y, [len(s.y) - self.horizon - j for j in range(n_cal)], self.horizon,
                self.season_length_) for s, hd in zip(usable, heads)])
            if self.ets_weight == "auto":  # the weight with the least scaled error
                actual = self._inverse(histories, np.vstack(truths))
                denom = np.array([h.mase_scale for h in histories])[:, None]
                errors = [np.mean(np.abs(actual - self._inverse(
                    histories, combine(histories, point, ets, w))) / denom) for w in WEIGHTS]
                self.ets_weight_ = WEIGHTS[int(np.argmin(errors))]
            point = combine(histories, point, ets, self.ets_weight_)
        return (np.vstack(truths) - point) / np.array([h.scale for h in histories])[:, None]

    def _n_calibration(self, n_series):
        if self.calibration_windows is None:
            return max(min(self.horizon, 12), math.ceil(9 / n_series))
        return int(self.calibration_windows)

    # ------------------------------------------------------- features

    def _network_point(self, models, histories, futures):
        """The network's forecasts (n_series, horizon) on the modelled scale: the
        scaled changes ``models`` predict from each history's last window, added
        to its last value."""
        blocks = [self._features(h.tail(self.window_), f) for h, f in zip(histories, futures)]
        W = self._windows(blocks)
        W = W[np.cumsum([len(b) for b in blocks]) - 1]
        pred = np.mean([np.asarray(m.predict(W)).reshape(len(W), -1) for m in models], axis=0)
        scales = np.array([h.scale for h in histories])[:, None]
        lasts = np.array([h.z[-1] for h in histories])[:, None]
        return lasts + scales * pred

    # --------------------------------------------------------- predict

    def _forecast(self, X, future):
        """Point forecasts (n_series, horizon), scales, the histories and layout."""
        histories, futures, layout = self._histories(X, future)
        point = self._point(histories, futures, self._ets_fitted if X is None else None)
        scales = np.array([h.scale for h in histories])[:, None]
        return point, scales, histories, layout

    def _point(self, histories, futures, ets=None):
        """Modelled forecasts (n_series, horizon) after each history.

        ``histories`` are whole series, or the fitted tails with ``ets``, the
        smoothing forecasts cached at fit (None fits them on ``histories``).
        """
        point = self._network_point(self.estimators_, histories, futures)
        if self.ets_weight_ > 0:
            point = combine(histories, point,
                            self._ets_forecasts(histories) if ets is None else ets,
                            self.ets_weight_)
        return point

    def _ets_forecasts(self, series):
        """The smoothing forecasts (n_series, horizon) after each whole series, or None."""
        if self.ets_weight_ == 0:
            return None
        return np.vstack([classical_forecasts(s.y, s.y, [len(s.y)], self.horizon,
                                              self.season_length_) for s in series])

    def _inverse(self, histories, z):
        """Map (n_series, horizon) modelled values back to the target's scale."""
        return np.vstack([h.inverse(row) for h, row in zip(histories, z)])

    def predict(self, X=None, future=None):
        """Forecast the ``horizon`` steps after each series.

        Parameters
        ----------
        X : Series or DataFrame, default=None
            The history to forecast from, in the fitted layout and columns;
            None forecasts after the fitted data.
        future : DataFrame, default=None
            Known-future covariates for the ``horizon`` stamps after each
            series, in ``X``'s layout (needed with ``known_cols``).

        Returns
        -------
        forecast : Series or DataFrame
            Indexed by the future stamps, in the input's layout: a Series
            (named after the target) for a Series; a one-column DataFrame
            for a DataFrame; a MultiIndex panel for one; a long DataFrame
            ``[id_col, time_col, target]`` for a long panel.
        """
        point, _, histories, layout = self._forecast(X, future)
        return self._frame(histories, layout, {self.target_name_: self._inverse(histories, point)},
                           squeeze=True)

    # ----------------------------------------------------------- score


    # -------------------------------------------------------- backtest

    def _rebuild(self, X, layout, heads):
        """``X`` restricted to the rows of ``heads`` (the first rows of each series)."""
        table = read_table(X if isinstance(X, pd.DataFrame) else X.to_frame(),
                           id_col=self.id_col, time_col=self.time_col)
        keep = np.zeros(len(table.times), dtype=bool)
        for rows, hd in zip(table.groups(), heads):
            keep[rows[: len(hd.y)]] = True
        return X.iloc[np.flatnonzero(keep)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        tags.non_deterministic = False
        return tags


