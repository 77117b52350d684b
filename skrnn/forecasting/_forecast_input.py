"""How :class:`~skrnn.forecasting.RNNForecaster` reads its input: the
series of a table or panel, their stamps, static and known-future
covariates, and the windows and features the network trains on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

from ._strategies import make_horizon_targets
from ._panel import check_order, next_stamps, read_table, series_steps
from ..metrics import mase_scale
from ._windower import TimeSeriesWindower

_SEASONS = {"BY": 1, "BA": 1, "BQ": 4, "BM": 12, "Y": 1, "A": 1, "Q": 4, "M": 12, "W": 52, "D": 7, "B": 5,
            "H": 24, "h": 24,
            "T": 60, "min": 60, "S": 60, "s": 60}


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
    # a log series' changes are growth rates already: not divided further
    # (measured better than dividing them by their mean, studies/forecaster_defaults.md)
    s.scale = 1.0 if s.log else scale
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


def _label(s):
    return "the series" if s.key is None else f"series {s.key!r}"


def _names(cols):
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


class _ForecastInput:
    """Reading series, covariates and windows (a part of RNNForecaster)."""

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
