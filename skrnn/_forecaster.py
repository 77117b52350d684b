"""``RNNForecaster``: forecasting as one scikit-learn estimator.

A direct multi-step model over one series or a panel, built on
:class:`~skrnn.TimeSeriesWindower`, :func:`skrnn.forecasting.make_horizon_targets`
and :class:`~skrnn.RNNRegressor`:

- every series is divided by its own scale (its mean absolute one-step
  change), so series of any magnitude train one global model;
- each window is read relative to its last value and the targets are the
  changes from that value, ``(y[t + k] - y[t]) / scale``: the level and the
  trend of a series carry over, the network learns shapes;
- the position in the season (from the index frequency) is a feature;
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
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions, _fit_context
from ._doclink import DOC_LINK_TEMPLATE, doc_link_url_params
from ._panel import check_order, next_stamps, read_table, series_steps
from .metrics import mase_scale
from .preprocessing import TimeSeriesWindower
from .regressor import RNNRegressor

__all__ = ["RNNForecaster"]

_SEASONS = {"BY": 1, "BA": 1, "BQ": 4, "BM": 12, "Y": 1, "A": 1, "Q": 4, "M": 12, "W": 52, "D": 7, "B": 5, "H": 24, "h": 24,
            "T": 60, "min": 60, "S": 60, "s": 60}


# ------------------------------------------------------------------ series
@dataclass
class _Series:
    """One series: its time stamps and its columns, with per-series statistics."""

    key: object          # the series id (None for one series)
    times: pd.Index      # time stamps
    step: object         # DateOffset, period freq or int
    y: np.ndarray        # (T,) target
    past: np.ndarray     # (T, n_past) past covariates
    known: np.ndarray    # (T, n_known) known-future covariates
    static: tuple        # static values
    log: bool = False    # model the logarithm of y
    scale: float = 1.0
    past_mean: np.ndarray | None = None
    past_std: np.ndarray | None = None
    known_mean: np.ndarray | None = None
    known_std: np.ndarray | None = None
    mase_scale: float = 1.0

    @property
    def z(self):
        """The modelled target: ``log(y)`` or ``y``."""
        return np.log(self.y) if self.log else self.y

    def inverse(self, z):
        return np.exp(z) if self.log else z

    def head(self, n):
        """The first ``n`` steps, statistics recomputed on them."""
        return _with_stats(replace(self, times=self.times[:n], y=self.y[:n],
                                   past=self.past[:n], known=self.known[:n]), self._season)

    def tail(self, n):
        """The last ``n`` steps, statistics kept (those of the whole series)."""
        n = min(n, len(self.y))
        out = replace(self, times=self.times[-n:], y=self.y[-n:], past=self.past[-n:],
                      known=self.known[-n:])
        out._season = self._season
        return out


def _with_stats(s, season):
    s._season = season
    z = s.z
    diffs = np.abs(np.diff(z))
    scale = float(diffs.mean()) if len(diffs) else 0.0
    if not scale > 0:
        scale = float(np.std(z)) or float(abs(np.mean(z))) or 1.0
    s.scale = scale
    try:
        s.mase_scale = mase_scale(s.y, season)
    except ValueError:
        s.mase_scale = scale
    for name in ("past", "known"):
        values = getattr(s, name)
        mean = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
        std = values.std(axis=0) if len(values) else np.ones(values.shape[1])
        setattr(s, f"{name}_mean", mean)
        setattr(s, f"{name}_std", np.where(std > 0, std, 1.0))
    return s


def _season_from_step(step, times):
    """The number of steps in a season, from the frequency of the stamps."""
    if isinstance(times, pd.PeriodIndex):
        code = times.freqstr
    elif isinstance(step, Integral):
        return 1
    else:
        code = getattr(step, "name", None) or str(step)
    code = str(code).split("-")[0]
    base = code.lstrip("0123456789")
    for prefix in ("min", "BY", "BA", "BQ", "BM", "Y", "A", "Q", "M", "W", "D", "B", "H", "h", "T", "S", "s"):
        if base.startswith(prefix):
            return _SEASONS[prefix]
    return 1


def _phase(times, step, season):
    """Position of each stamp in its season (0 .. season - 1)."""
    if season == 1:
        return np.zeros(len(times))
    if isinstance(times, pd.PeriodIndex):
        return np.asarray(times.asi8 % season, dtype=float)
    if isinstance(times, pd.DatetimeIndex):
        code = {12: "M", 4: "Q", 52: "W", 7: "D", 5: "B", 24: "h", 60: "min"}.get(season)
        if code is not None:
            if code == "B":
                return np.asarray(times.dayofweek % 5, dtype=float)
            if code == "W":
                return np.asarray((times.isocalendar().week.to_numpy() - 1) % 52, dtype=float)
            return np.asarray(times.to_period(code).asi8 % season, dtype=float)
        return np.zeros(len(times))
    stamps = np.asarray(times, dtype=np.int64)
    return np.asarray((stamps // max(int(step), 1)) % season, dtype=float)


# --------------------------------------------------------------- estimator
class RNNForecaster(BaseEstimator):
    """Forecast the next ``horizon`` steps of one series or many with a GRU.

    One estimator for the whole forecasting job: ``fit`` on the history (a
    time-indexed Series, a DataFrame, or a panel), ``predict`` the
    ``horizon`` steps after it in the same layout, with calibrated
    intervals. Per-series scaling, the season length, the window, trend
    handling and the training budget are built in; the defaults were chosen
    by measurement on real monthly, quarterly and yearly series and several
    seeds (``studies/forecaster_defaults.md``).

    How it works: every series is divided by its mean absolute one-step
    change; the window of the last ``window`` steps is read relative to its
    last value, and a direct multi-output :class:`~skrnn.RNNRegressor`
    (whose configuration the forecaster pins) predicts the changes
    ``1 .. horizon`` steps ahead, which are mapped back to the series'
    scale. Intervals and quantiles are conformal: the forecaster fits a
    second model on each history without its last ``horizon +
    calibration_windows - 1`` steps and keeps, per step ahead, the
    normalised errors of its forecasts from the held-out origins.

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
        stamps 1).
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
    loss : {'absolute_error', 'squared_error', 'huber'}, default='huber'
        Training loss on the standardised scaled changes (Huber: squared
        within one standard deviation, absolute beyond; measured best of the
        three on the mean over data sets).
    max_iter : int or 'auto', default='auto'
        Epochs; ``'auto'`` gives about ``n_steps`` gradient steps, between
        30 and 300 epochs.
    n_steps : int, default=2000
        Gradient steps aimed at by ``max_iter='auto'``.
    learning_rate_init : float, default=1e-3
        Adam's initial step size (a cosine schedule lowers it to zero).
    batch_size : int, default=32
        Windows per gradient step.
    n_models : int, default=1
        Seeds averaged into one forecast (a small ensemble counts as one
        model; ``fit`` time grows with it).
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
        "loss": [StrOptions({"absolute_error", "squared_error", "huber"})],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_models": [Interval(Integral, 1, None, closed="left")],
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
        loss: Literal["absolute_error", "squared_error", "huber"] = "huber",
        max_iter: int | Literal["auto"] = "auto",
        n_steps: int = 2000,
        learning_rate_init: float = 1e-3,
        batch_size: int = 32,
        n_models: int = 1,
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
        self.estimators_ = self._fit_models(series, seeds[: self.n_models])
        self.residuals_ = self._calibrate(series, seeds[self.n_models :])
        self._layout = layout
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
            learning_rate_init=self.learning_rate_init, lr_schedule="cosine",
            lr_schedule_params=None, alpha=0.0, batch_size=self.batch_size,
            max_iter=self.max_iter_, shuffle=True, clip_grad_norm=1.0, tbptt_steps=None,
            early_stopping=False, validation_fraction=0.1, early_stopping_monitor="loss",
            n_iter_no_change=10, tol=None, device=self.device, n_threads=1,
            random_state=seed, verbose=self.verbose, warm_start=False, callbacks=None,
            return_sequences=False, loss=self.loss, quantiles=(0.1, 0.5, 0.9),
            huber_delta=1.0, target_scaling="standard",
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
        pred = self._predict_scaled(models, histories, futures)
        scales = np.array([h.scale for h in histories])[:, None]
        lasts = np.array([h.z[-1] for h in histories])[:, None]
        return (np.vstack(truths) - lasts) / scales - pred

    def _n_calibration(self, n_series):
        if self.calibration_windows is None:
            return max(min(self.horizon, 12), math.ceil(9 / n_series))
        return int(self.calibration_windows)

    # ------------------------------------------------------- features
    def _fit_static(self, series):
        names = self._static_names
        self._static_encoder = None
        self._static_numeric = []
        if not names:
            return
        frame = pd.DataFrame([s.static for s in series], columns=names)
        text = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c])
                or pd.api.types.is_bool_dtype(frame[c])]
        numeric = [c for c in names if c not in text]
        if text:
            self._static_encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            self._static_encoder.fit(frame[text].astype(str))
        values = frame[numeric].to_numpy(dtype=np.float64)
        std = values.std(axis=0) if len(numeric) else np.ones(0)
        self._static_numeric = (numeric, text, values.mean(axis=0) if len(numeric)
                                else np.zeros(0), np.where(std > 0, std, 1.0))

    def _static_features(self, s):
        if not self._static_names:
            return np.zeros(0)
        numeric, text, mean, std = self._static_numeric
        row = dict(zip(self._static_names, s.static))
        parts = [(np.array([row[c] for c in numeric], dtype=np.float64) - mean) / std]
        if self._static_encoder is not None:
            parts.append(self._static_encoder.transform(
                pd.DataFrame([[str(row[c]) for c in text]], columns=text))[0])
        return np.concatenate(parts)

    def _features(self, s, future_known):
        """Per-step features of a series (T, F): the scaled target, the
        season's position, past covariates, known covariates and their next
        ``horizon`` values, static features."""
        n = len(s.y)
        cols = [(s.z / s.scale)[:, None]]
        if self.season_length_ > 1:
            angle = 2 * np.pi * _phase(s.times, s.step, self.season_length_) / self.season_length_
            cols += [np.sin(angle)[:, None], np.cos(angle)[:, None]]
        if s.past.shape[1]:
            cols.append((s.past - s.past_mean) / s.past_std)
        if s.known.shape[1]:
            known = np.vstack([s.known, future_known]) if future_known is not None else s.known
            z = (known - s.known_mean) / s.known_std
            cols.append(z[:n])
            for k in range(1, self.horizon + 1):
                # past a series' end the leads are unknown: those rows have no
                # targets either, so they never train (0 keeps the windower happy)
                lead = np.zeros((n, z.shape[1]))
                lead[: max(0, len(z) - k)][: n] = z[k:][:n]
                cols.append(lead)
        static = self._static_features(s)
        if len(static):
            cols.append(np.repeat(static[None, :], n, axis=0))
        return np.hstack(cols)

    def _windows(self, blocks):
        """Windows ending at every row, relative to the window's last value: (N, W, F)."""
        frame = pd.concat(
            [pd.DataFrame(b).assign(_id=i, _t=np.arange(len(b))) for i, b in enumerate(blocks)],
            ignore_index=True,
        )
        windower = TimeSeriesWindower(window=self.window_, short_series="pad",
                                      id_col="_id", time_col="_t")
        W = windower.fit_transform(frame)
        W[:, :, 0] -= W[:, -1:, 0]
        return W

    def _training_rows(self, series):
        from .forecasting import (
            make_horizon_targets,  # the public module imports this one
        )

        blocks = [self._features(s, None) for s in series]
        W = self._windows(blocks)
        table = pd.DataFrame({"_id": np.repeat(np.arange(len(series)),
                                               [len(s.y) for s in series]),
                              "_t": np.concatenate([np.arange(len(s.y)) for s in series]),
                              "y": np.concatenate([s.z / s.scale for s in series])})
        Y = make_horizon_targets(table, self.horizon, target="y", id_col="_id",
                                 time_col="_t").to_numpy()
        Y = Y - table["y"].to_numpy()[:, None]
        keep = ~np.isnan(Y).any(axis=1)
        return W[keep], Y[keep]

    def _predict_scaled(self, models, histories, futures):
        """Scaled change forecasts (n_series, horizon) from each history's last window."""
        blocks = [self._features(h, f) for h, f in zip(histories, futures)]
        W = self._windows(blocks)
        last = np.cumsum([len(b) for b in blocks]) - 1
        W = W[last]
        return np.mean([np.asarray(m.predict(W)).reshape(len(W), -1) for m in models], axis=0)

    # ---------------------------------------------------------- reading
    @property
    def _static_names(self):
        return _names(self.static_cols)

    @property
    def _known_names(self):
        return _names(self.known_cols)

    def _read(self, X, *, reset, what="X"):
        """Validate ``X``; return its series and its layout."""
        if isinstance(X, pd.Series):
            name = X.name if X.name is not None else (self.target or "y")
            if self.target is not None and X.name is not None and X.name != self.target:
                raise ValueError(f"target={self.target!r} but {what} is a Series named {X.name!r}.")
            frame, kind = X.to_frame(name), "series"
            if isinstance(X.index, pd.MultiIndex):
                kind = "multiindex_series"
        elif isinstance(X, pd.DataFrame):
            frame, kind = X, None
        else:
            raise TypeError(
                f"RNNForecaster reads a pandas Series or DataFrame indexed by time (or a "
                f"panel); {what} is a {type(X).__name__}. Wrap an array in "
                "pd.Series(values, index=pd.date_range(...))."
            )
        table = read_table(frame, id_col=self.id_col, time_col=self.time_col, what=what)
        if kind is None:
            kind = {"single": "frame"}.get(table.layout, table.layout)
        elif kind == "multiindex_series":
            kind = "multiindex"
        columns = list(table.values.columns)
        if not reset and self._columns[0] in columns:
            target = self._columns[0]
        else:
            target = self._target_of(columns, what)
        static, known = self._static_names, self._known_names
        missing = [c for c in static + known if c not in columns]
        if missing:
            raise ValueError(f"{what} has no column(s) {missing!r} (static_cols/known_cols); "
                             f"its columns: {columns!r}.")
        past = [c for c in columns if c not in static and c not in known and c != target]
        if not reset:
            expected = self._columns
            if (target, past, known) != expected[:3]:
                raise ValueError(
                    f"{what} has target {target!r}, past covariates {past!r} and known "
                    f"covariates {known!r}; the forecaster was fitted with {expected[0]!r}, "
                    f"{expected[1]!r} and {expected[2]!r}."
                )
        if len(table.values) == 0:
            raise ValueError(f"{what} is empty; at least one time step per series is needed.")
        check_order(table, what)
        steps = self._steps(table, reset, what)
        values = table.values
        numeric = past + known + [target]
        bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(values[c])]
        if bad:
            raise ValueError(
                f"{what} has non-numeric column(s) {bad!r}; the target and covariates must "
                "be numbers (name text columns in static_cols, or in id_col for a long panel)."
            )
        series = []
        for code, rows in enumerate(table.groups()):
            times = table.times[rows]
            sub = values.iloc[rows]
            y = sub[target].to_numpy(dtype=np.float64)
            covs = sub[past + known].to_numpy(dtype=np.float64)
            for name, arr in (("target " + repr(target), y[:, None]), ("a covariate", covs)):
                if arr.size and np.isnan(arr).any():
                    i = int(np.flatnonzero(np.isnan(arr).any(axis=1))[0])
                    raise ValueError(
                        f"{what} has a missing value in {name} of {table.label(code)} at "
                        f"{times[i]}; impute or drop it (the stamps must stay regular)."
                    )
            stat = tuple(sub[c].iloc[0] for c in static)
            for c in static:
                if sub[c].nunique(dropna=False) > 1:
                    raise ValueError(
                        f"static column {c!r} is not constant within {table.label(code)}; "
                        "static_cols must hold one value per series."
                    )
            series.append(_Series(
                None if table.ids is None else table.ids[code], times, steps[code], y,
                covs[:, : len(past)], covs[:, len(past):], stat))
        if reset:
            self._columns = (target, past, known)
            self.target_name_ = str(target)
            self._season_ = _season_from_step(steps[0], table.times)
            positive = all(np.all(s.y > 0) for s in series)
            if self.log_target is True and not positive:
                s = next(s for s in series if not np.all(s.y > 0))
                raise ValueError(
                    f"log_target=True needs positive values; {_label(s)} has "
                    f"{s.y[s.y <= 0][0]:g} at {s.times[np.flatnonzero(s.y <= 0)[0]]}. Use "
                    "log_target='auto' or False."
                )
            self.log_target_ = bool(positive if self.log_target == "auto" else self.log_target)
        for s in series:
            s.log = self.log_target_
            if s.log and not np.all(s.y > 0):
                raise ValueError(
                    f"The forecaster models log({target}) (every fitted value was positive); "
                    f"{_label(s)} of {what} has {s.y[s.y <= 0][0]:g} at "
                    f"{s.times[np.flatnonzero(s.y <= 0)[0]]}. Refit with log_target=False."
                )
        if not reset:
            for s in series:
                _with_stats(s, self.season_length_)
        layout = {"kind": kind, "id_name": table.id_name, "time_name": table.time_name,
                  "id_first": table.id_first, "index_names": list(frame.index.names),
                  "time_col": self.time_col, "series_input": isinstance(X, pd.Series)}
        return series, layout

    def _steps(self, table, reset, what):
        """Each series' step; a short continuation borrows its fitted series' step."""
        steps = series_steps(table, strict=reset)
        for code, step in enumerate(steps):
            if step is None:
                key = None if table.ids is None else table.ids[code]
                known = {s.key: s.step for s in getattr(self, "_fitted", [])}
                if key not in known:
                    series_steps(table, strict=True)  # raises, naming the series
                steps[code] = known[key]
        return steps

    def _target_of(self, columns, what):
        if self.target is not None:
            if self.target not in columns:
                raise ValueError(f"target {self.target!r} is not a column of {what}; its "
                                 f"columns: {columns!r}.")
            return self.target
        free = [c for c in columns if c not in self._static_names + self._known_names]
        if len(free) != 1:
            raise ValueError(
                f"{what} has {len(free)} candidate target columns {free!r}; pass target= "
                "(the column to forecast; the others become covariates)."
            )
        return free[0]

    def _check_lengths(self, series, minimum, what):
        for s in series:
            if len(s.y) < minimum:
                label = "the series" if s.key is None else f"series {s.key!r}"
                raise ValueError(
                    f"{label} is too short to {what}: {len(s.y)} time step(s) (ending at "
                    f"{s.times[-1]}), at least {minimum} are needed for horizon="
                    f"{self.horizon}. Drop it or use a shorter horizon."
                )

    def _check_quantile_levels(self, levels):
        levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
        if levels.ndim != 1 or len(levels) == 0 or np.any((levels <= 0) | (levels >= 1)):
            raise ValueError(f"quantile levels must lie in (0, 1); got {levels.tolist()!r}.")
        return levels

    # --------------------------------------------------------- predict
    def _histories(self, X, future):
        """The series to forecast from (fitted or ``X``) and their known futures."""
        check_is_fitted(self, "estimators_")
        if X is None:
            histories, layout = self._fitted, self._layout
        else:
            histories, layout = self._read(X, reset=False)
            self._check_lengths(histories, 2, "forecast")
        futures = self._future_known(histories, future, layout)
        return histories, futures, layout

    def _future_known(self, histories, future, layout):
        known = self._known_names
        if not known:
            return [None] * len(histories)
        if future is None:
            raise ValueError(
                f"known_cols={known!r} needs their future values: pass future= (the "
                f"{self.horizon} stamps after each series, in the layout of X)."
            )
        table = read_table(future if isinstance(future, pd.DataFrame) else pd.DataFrame(future),
                           id_col=self.id_col, time_col=self.time_col, what="future")
        missing = [c for c in known if c not in table.values.columns]
        if missing:
            raise ValueError(f"future has no column(s) {missing!r}.")
        if table.is_panel:
            keys = pd.MultiIndex.from_arrays([table.ids[table.codes], table.times])
        else:
            keys = pd.MultiIndex.from_arrays([[None] * len(table.times), table.times])
        values = table.values[known].to_numpy(dtype=np.float64)
        out = []
        for h in histories:
            stamps = self._next(h)
            wanted = pd.MultiIndex.from_arrays([[h.key] * len(stamps), stamps])
            pos = keys.get_indexer(wanted)
            if (pos < 0).any():
                i = int(np.flatnonzero(pos < 0)[0])
                label = "the series" if h.key is None else f"series {h.key!r}"
                raise ValueError(
                    f"future has no row for {stamps[i]} of {label}; it needs the "
                    f"{self.horizon} stamps after every series for {known!r}."
                )
            block = values[pos]
            if np.isnan(block).any():
                raise ValueError("future has missing values of the known covariates.")
            out.append(block)
        return out

    def _next(self, s):
        return next_stamps(s.times[-1], s.step, self.horizon)

    def _forecast(self, X, future):
        """Point forecasts (n_series, horizon), scales, the histories and layout."""
        histories, futures, layout = self._histories(X, future)
        tails = [h.tail(self.window_) for h in histories]
        pred = self._predict_scaled(self.estimators_, tails, futures)
        scales = np.array([h.scale for h in histories])[:, None]
        lasts = np.array([h.z[-1] for h in histories])[:, None]
        return lasts + scales * pred, scales, histories, layout

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

    def predict_quantiles(self, X=None, quantiles=None, future=None):
        """Calibrated quantile forecasts.

        Parameters
        ----------
        X : Series or DataFrame, default=None
            As in :meth:`predict`.
        quantiles : sequence of float, default=None
            Levels in (0, 1); None gives the ``quantiles`` parameter. Each
            is read from the out-of-sample errors of the calibration model,
            per step ahead; a level beyond what their number resolves is
            refused.
        future : DataFrame, default=None
            As in :meth:`predict`.

        Returns
        -------
        quantiles : DataFrame
            Columns ``'<target>_q<level>'`` in the layout of :meth:`predict`.
        """
        levels = self._check_quantile_levels(self.quantiles if quantiles is None else quantiles)
        point, scales, histories, layout = self._forecast(X, future)
        offsets = self._offsets(levels)  # (horizon, n_levels)
        columns = {f"{self.target_name_}_q{lv:g}":
                   self._inverse(histories, point + scales * offsets[:, j][None, :])
                   for j, lv in enumerate(levels)}
        return self._frame(histories, layout, columns)

    def predict_interval(self, X=None, coverage=0.8, future=None):
        """Calibrated central prediction intervals.

        Parameters
        ----------
        X : Series or DataFrame, default=None
            As in :meth:`predict`.
        coverage : float, default=0.8
            The probability the interval aims to hold the actual value with.
        future : DataFrame, default=None
            As in :meth:`predict`.

        Returns
        -------
        interval : DataFrame
            Columns ``'<target>_lower'`` and ``'<target>_upper'``, in the
            layout of :meth:`predict`.
        """
        if not isinstance(coverage, Real) or not 0 < coverage < 1:
            raise ValueError(f"coverage must lie in (0, 1); got {coverage!r}.")
        levels = np.array([(1 - coverage) / 2, (1 + coverage) / 2])
        point, scales, histories, layout = self._forecast(X, future)
        offsets = self._offsets(levels)
        columns = {f"{self.target_name_}_lower":
                   self._inverse(histories, point + scales * offsets[:, 0][None, :]),
                   f"{self.target_name_}_upper":
                   self._inverse(histories, point + scales * offsets[:, 1][None, :])}
        return self._frame(histories, layout, columns)

    def _offsets(self, levels):
        """Conformal quantiles of the normalised errors, per step: (horizon, n_levels),
        widening with the step ahead."""
        check_is_fitted(self, "estimators_")
        if self.residuals_ is None:
            raise ValueError(
                "This RNNForecaster was fitted with calibration_windows=0: it has no "
                "calibrated intervals. Refit with calibration_windows=None."
            )
        n = len(self.residuals_)
        lo, hi = 1 / (n + 1), n / (n + 1)
        if np.any(levels < lo - 1e-9) or np.any(levels > hi + 1e-9):
            raise ValueError(
                f"Quantile level(s) {levels.tolist()!r} cannot be calibrated from {n} "
                f"out-of-sample error(s) per step; levels between {lo:.3g} and {hi:.3g} "
                "can. Use more calibration_windows or a panel with more series."
            )
        # finite-sample (split conformal) adjustment: push levels away from the median
        adjusted = np.where(levels > 0.5, np.minimum(levels * (n + 1) / n, 1.0),
                            np.maximum((levels * (n + 1) - 1) / n, 0.0))
        q = np.quantile(self.residuals_, adjusted, axis=0).T  # (horizon, n_levels)
        up = levels > 0.5
        q[:, up] = np.maximum.accumulate(np.maximum(q[:, up], 0), axis=0)
        down = levels < 0.5
        q[:, down] = np.minimum.accumulate(np.minimum(q[:, down], 0), axis=0)
        q[:, levels == 0.5] = 0.0  # the median: the point forecast
        return q

    def _frame(self, histories, layout, columns, squeeze=False):
        stamps = [self._next(h) for h in histories]
        kind = layout["kind"]
        if kind in ("series", "frame"):
            index = stamps[0].rename(layout["time_name"])
            if squeeze and kind == "series":
                name, values = next(iter(columns.items()))
                return pd.Series(values[0], index=index, name=name)
            frame = pd.DataFrame({k: v[0] for k, v in columns.items()}, index=index)
            if layout["time_col"] is not None:
                frame = frame.reset_index()
            return frame
        ids = np.repeat(np.array([h.key for h in histories], dtype=object), self.horizon)
        times = stamps[0].append(stamps[1:])
        data = {k: v.ravel() for k, v in columns.items()}
        if kind == "multiindex":
            levels = [ids, times] if layout["id_first"] else [times, ids]
            index = pd.MultiIndex.from_arrays(levels, names=layout["index_names"])
            if squeeze and layout["series_input"]:
                name, values = next(iter(data.items()))
                return pd.Series(values, index=index, name=name)
            return pd.DataFrame(data, index=index)
        return pd.DataFrame({layout["id_name"]: ids, layout["time_name"] or "ds": times,
                             **data})

    # ----------------------------------------------------------- score
    def _held_out(self, X):
        """Histories, actuals and forecasts for ``score``: from the fitted data when
        ``X`` continues it, else from ``X`` minus its last ``horizon`` rows."""
        check_is_fitted(self, "estimators_")
        series, _ = self._read(X, reset=False)
        fitted = {s.key: s for s in self._fitted}
        continues = all(
            s.key in fitted and s.times[0] == self._next(fitted[s.key])[0] for s in series
        )
        h = self.horizon
        if continues:
            histories = [fitted[s.key] for s in series]
            truths = [s.y[:h] for s in series]
            futures = None
            if self._known_names:
                futures = self._pad_future(series)
            preds = self._predict_from(histories, futures)
        else:
            self._check_lengths(series, h + 2, "score (it holds out the last horizon rows)")
            histories = [s.head(len(s.y) - h) for s in series]
            truths = [s.y[-h:] for s in series]
            futures = [s.known[-h:] for s in series] if self._known_names else None
            preds = self._predict_from(histories, futures)
        return histories, truths, [p[: len(t)] for p, t in zip(preds, truths)]

    def _pad_future(self, series):
        out = []
        for s in series:
            if len(s.y) < self.horizon:
                raise ValueError(
                    f"X continues the fitted data with {len(s.y)} row(s); the known "
                    f"covariates need {self.horizon} rows per series to score."
                )
            out.append(s.known[: self.horizon])
        return out

    def _predict_from(self, histories, futures):
        tails = [h.tail(self.window_) for h in histories]
        futures = futures if futures is not None else [None] * len(tails)
        pred = self._predict_scaled(self.estimators_, tails, futures)
        return [h.inverse(h.z[-1] + h.scale * p) for h, p in zip(histories, pred)]

    def score(self, X, y=None):
        """Minus the mean MASE of the forecasts of ``X``'s rows (greater is better).

        When ``X``'s series continue the fitted ones (their first stamp is
        the one after the fitted data), the forecast from the fitted history
        is compared with ``X``'s first ``horizon`` rows; otherwise ``X``'s
        last ``horizon`` rows of every series are forecast from the rows
        before them. The error is scaled per series by that history's mean
        absolute seasonal difference (``season_length_``), as the MASE of
        the M competitions.

        Parameters
        ----------
        X : Series or DataFrame
            In the fitted layout.
        y : None
            Ignored (the target is a column of ``X``).

        Returns
        -------
        score : float
            ``-mean(MASE)`` over the series.
        """
        histories, truths, preds = self._held_out(X)
        errors = [np.mean(np.abs(t - p)) / h.mase_scale
                  for h, t, p in zip(histories, truths, preds)]
        return -float(np.mean(errors))

    # -------------------------------------------------------- backtest
    def backtest(self, X, n_windows=3, step=None, refit=True):
        """Forecast the last windows of every series from the history before them.

        Cutoff ``k`` (``k = 0 .. n_windows - 1``) keeps the first ``len -
        horizon - k * step`` rows of each series as the history and
        forecasts the ``horizon`` rows after it.

        Parameters
        ----------
        X : Series or DataFrame
            The series, in the fitted layout.
        n_windows : int, default=3
        step : int, default=None
            Rows between cutoffs; None uses ``horizon``.
        refit : bool, default=True
            Fit a clone on each window's history (a true out-of-sample
            test). ``False`` forecasts every window with this fitted model:
            optimistic when those windows were part of its training data.

        Returns
        -------
        results : DataFrame
            One row per series, window and step ahead: ``cutoff`` (the last
            stamp of the history), the id column (panels), the time column,
            the actual target, the forecast (``<target>_pred``) and the 80%
            interval (``<target>_lower``, ``<target>_upper``).
        """
        if not isinstance(n_windows, Integral) or n_windows < 1:
            raise ValueError(f"n_windows must be an integer >= 1; got {n_windows!r}.")
        step = self.horizon if step is None else step
        if not isinstance(step, Integral) or step < 1:
            raise ValueError(f"step must be an integer >= 1; got {step!r}.")
        if refit:
            model = clone(self)
            series, layout = model._read(X, reset=True)
            model.season_length_ = self.season_length or model._season_
            series = [_with_stats(s, model.season_length_) for s in series]
        else:
            check_is_fitted(self, "estimators_")
            model = self
            series, layout = self._read(X, reset=False)
        h = self.horizon
        frames = []
        for k in range(n_windows - 1, -1, -1):
            cut = [len(s.y) - h - k * step for s in series]
            for s, c in zip(series, cut):
                if c < 2:
                    label = "the series" if s.key is None else f"series {s.key!r}"
                    raise ValueError(
                        f"{label} has {len(s.y)} rows: too few for n_windows={n_windows}, "
                        f"step={step} and horizon={h} (window {k} would leave {c} rows of "
                        "history). Use fewer windows or a smaller step."
                    )
            heads = [s.head(c) for s, c in zip(series, cut)]
            futures = [s.known[c : c + h] for s, c in zip(series, cut)]
            fitted = model
            if refit:
                fitted = clone(self).fit(self._rebuild(X, layout, heads))
            tails = [hd.tail(fitted.window_) for hd in heads]
            pred = fitted._predict_scaled(fitted.estimators_, tails,
                                          futures if self._known_names else [None] * len(tails))
            scales = np.array([hd.scale for hd in heads])[:, None]
            point = np.array([hd.z[-1] for hd in heads])[:, None] + scales * pred
            frame = {"cutoff": np.repeat(np.array([hd.times[-1] for hd in heads], dtype=object), h)}
            name = fitted.target_name_
            if layout["kind"] not in ("series", "frame"):
                frame[layout["id_name"]] = np.repeat(np.array([s.key for s in series],
                                                              dtype=object), h)
            frame[layout["time_name"] or "ds"] = np.concatenate(
                [np.asarray(s.times[c : c + h], dtype=object) for s, c in zip(series, cut)])
            frame[name] = np.concatenate([s.y[c : c + h] for s, c in zip(series, cut)])
            frame[f"{name}_pred"] = fitted._inverse(heads, point).ravel()
            if fitted.residuals_ is not None:
                off = fitted._offsets(np.array([0.1, 0.9]))
                for j, bound in enumerate(("lower", "upper")):
                    frame[f"{name}_{bound}"] = fitted._inverse(
                        heads, point + scales * off[:, j][None, :]).ravel()
            frames.append(pd.DataFrame(frame))
        out = pd.concat(frames, ignore_index=True)
        for col in ("cutoff", layout["time_name"] or "ds"):
            out[col] = pd.Index(list(out[col]))
        return out

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


def _label(s):
    return "the series" if s.key is None else f"series {s.key!r}"


def _names(cols):
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)
