"""How :class:`~skrnn.forecasting.RNNForecaster` is evaluated: calibrated
quantiles and intervals, ``score`` (minus the mean MASE) and ``backtest``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._forecast_input import _with_stats



class _ForecastEvaluation:
    """Scoring and backtesting (a part of RNNForecaster)."""

    def _check_quantile_levels(self, levels):
        levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
        if levels.ndim != 1 or len(levels) == 0 or np.any((levels <= 0) | (levels >= 1)):
            raise ValueError(f"quantile levels must lie in (0, 1); got {levels.tolist()!r}.")
        return levels

    @staticmethod
    def _conformal_levels(levels, n):
        """The levels of ``n`` errors to read (split conformal): pushed away from
        the median by the finite-sample adjustment."""
        return np.where(levels > 0.5, np.minimum(levels * (n + 1) / n, 1.0),
                        np.maximum((levels * (n + 1) - 1) / n, 0.0))

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
        q = np.quantile(self.residuals_, self._conformal_levels(levels, n),
                        axis=0).T  # (horizon, n_levels)
        up = levels > 0.5
        q[:, up] = np.maximum.accumulate(np.maximum(q[:, up], 0), axis=0)
        down = levels < 0.5
        q[:, down] = np.minimum.accumulate(np.minimum(q[:, down], 0), axis=0)
        q[:, levels == 0.5] = 0.0  # the median: the point forecast
        return q

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
            ets = None
            if self._ets_fitted is not None:  # the smoothing forecasts cached at fit
                row = {f.key: i for i, f in enumerate(self._fitted)}
                ets = self._ets_fitted[[row[s.key] for s in series]]
            preds = self._predict_from(histories, futures, ets)
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

    def _predict_from(self, histories, futures, ets=None):
        futures = futures if futures is not None else [None] * len(histories)
        point = self._point(histories, futures, ets)
        return [h.inverse(p) for h, p in zip(histories, point)]

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
            Number of forecast origins (cutoffs) per series.
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
            point = fitted._point(heads, futures if self._known_names else [None] * len(heads))
            scales = np.array([hd.scale for hd in heads])[:, None]
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
