"""Time-indexed tables of one series or many (panels): reading and checks.

numpy/pandas only (no torch). A table reaches skrnn in one of four layouts:

- ``'array'``: a numpy array, rows in time order, no time stamps;
- ``'single'``: one series, a DataFrame/Series indexed by time (or with a
  ``time_col`` column);
- ``'multiindex'``: many series, a ``(series id, time)`` MultiIndex;
- ``'long'``: many series, an id column and a time column (``id_col``,
  ``time_col``; the time may also be the index).

:func:`read_table` turns any of them into a :class:`Table`: the feature
columns in row order plus, per row, the series code and the time stamp.
Rows of different series may interleave; within a series they must be in
time order.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

__all__ = ["Table", "read_table", "check_order", "series_steps", "next_stamps"]


@dataclass(frozen=True)
class Table:
    """A table split into features, series and time stamps.

    Attributes
    ----------
    values : DataFrame or array-like
        The feature columns (id and time columns removed), rows in input order.
    times : Index or None
        The time stamp of each row (DatetimeIndex, PeriodIndex or integer
        Index); None for numpy input.
    codes : ndarray of shape (n_rows,) or None
        Series code of each row (0 .. n_series - 1); None for numpy input.
    ids : Index or None
        The series id of each code; None for one series.
    layout : {'array', 'single', 'multiindex', 'long'}
    id_name, time_name : str or None
        Names of the id and time columns (or index levels).
    id_first : bool
        MultiIndex: whether the id level comes before the time level.
    """

    values: object
    times: pd.Index | None = None
    codes: np.ndarray | None = None
    ids: pd.Index | None = None
    layout: str = "array"
    id_name: object = None
    time_name: object = None
    id_first: bool = True

    @property
    def is_panel(self):
        return self.layout in ("multiindex", "long")

    @property
    def n_series(self):
        return 1 if self.ids is None else len(self.ids)

    def label(self, code):
        """How error messages name series ``code``."""
        return "the series" if self.ids is None else f"series {self.ids[code]!r}"

    def groups(self):
        """Row positions of each series, in time order (list of int arrays)."""
        codes = np.zeros(len(self.times), dtype=np.int64) if self.codes is None else self.codes
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(self.n_series + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(self.n_series)]


def _as_time_index(values, what):
    index = pd.Index(values)
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return index
    if index.dtype.kind in "iu":
        return index.astype(np.int64)
    if len(index) and index.dtype.kind == "O" and all(isinstance(v, pd.Period) for v in index[:1]):
        return pd.PeriodIndex(index)
    raise TypeError(
        f"The time stamps of {what} must be datetimes, periods or integers; got dtype "
        f"{index.dtype}. Convert them, e.g. pd.to_datetime(...), or set a regular index."
    )


def read_table(X, *, id_col=None, time_col=None, what="X"):
    """Split ``X`` into its layout, features, series and time stamps."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        if id_col is not None or time_col is not None:
            raise TypeError(
                f"id_col/time_col name columns of a DataFrame; {what} is a "
                f"{type(X).__name__}. Pass a DataFrame, or leave id_col and time_col unset."
            )
        return Table(values=X)
    if isinstance(X.index, pd.MultiIndex):
        return _read_multiindex(X, id_col, time_col, what)
    if id_col is None:
        if time_col is None:
            return Table(X, _as_time_index(X.index, what), layout="single",
                         time_name=X.index.name)
        _require_columns(X, [time_col], what)
        return Table(X.drop(columns=[time_col]).reset_index(drop=True),
                     _as_time_index(X[time_col], what), layout="single", time_name=time_col)
    _require_columns(X, [id_col] + ([] if time_col is None else [time_col]), what)
    if time_col is None:
        times, time_name = X.index, X.index.name
        dropped = [id_col]
    else:
        times, time_name = X[time_col], time_col
        dropped = [id_col, time_col]
    codes, ids = pd.factorize(X[id_col])
    if (codes < 0).any():
        raise ValueError(f"{what}'s id column {id_col!r} has missing values.")
    return Table(X.drop(columns=dropped).reset_index(drop=True), _as_time_index(times, what),
                 codes.astype(np.int64), pd.Index(ids), "long", id_col, time_name)


def _read_multiindex(X, id_col, time_col, what):
    names = list(X.index.names)
    if X.index.nlevels != 2:
        raise ValueError(
            f"{what} has a MultiIndex with {X.index.nlevels} levels; expected two, "
            "(series id, time). Drop or reset the other levels first."
        )
    id_level = names.index(id_col) if id_col in names else 0
    time_level = names.index(time_col) if time_col in names else 1
    if id_level == time_level:
        raise ValueError(f"id_col and time_col name the same index level {names[id_level]!r}.")
    codes, ids = pd.factorize(X.index.get_level_values(id_level))
    times = _as_time_index(X.index.get_level_values(time_level), what)
    return Table(X.reset_index(drop=True), times, codes.astype(np.int64), pd.Index(ids),
                 "multiindex", names[id_level] or "unique_id", names[time_level] or "ds",
                 id_level < time_level)


def _require_columns(X, columns, what):
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(
            f"{what} has no column(s) {missing!r} (id_col/time_col); its columns are "
            f"{list(X.columns)!r}."
        )


def _stamps_as_int(times):
    if isinstance(times, (pd.DatetimeIndex, pd.PeriodIndex)):
        return times.asi8
    return np.asarray(times, dtype=np.int64)


def check_order(table, what="X"):
    """Within every series: time stamps unique and increasing."""
    if table.times is None:
        return
    stamps = _stamps_as_int(table.times)
    codes = np.zeros(len(stamps), dtype=np.int64) if table.codes is None else table.codes
    by_time = np.lexsort((stamps, codes))
    order = np.argsort(codes, kind="stable")
    for positions, sign, problem, fix in (
        (by_time, 0, "duplicate time stamps",
         "aggregate them first, e.g. groupby(...).mean()" + (
             "; if the table holds several series, pass id_col=... and time_col=... "
             "(long format) or a (series id, time) MultiIndex"
             if table.ids is None else "")),
        (order, -1, "time stamps that are not sorted", "sort the rows by time "
         "(sort_index() or sort_values([id, time]))"),
    ):
        diffs = np.sign(np.diff(stamps[positions]))
        bad = (codes[positions][1:] == codes[positions][:-1]) & (diffs == sign)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row, prev = positions[i + 1], positions[i]
            where = "" if table.ids is None else f" in series {table.ids[codes[row]]!r}"
            raise ValueError(
                f"{what} has {problem}{where}: {table.times[prev]} comes before "
                f"{table.times[row]}; {fix}."
            )


def _irregular(stamps, label):
    gaps = pd.Series(stamps[1:] - stamps[:-1]).value_counts()
    shown = ", ".join(f"{g} ({c}x)" for g, c in gaps.head(3).items())
    return ValueError(
        f"Cannot infer the frequency of {label}: the gaps between time stamps are "
        f"irregular ({shown}). Reindex it to a regular frequency (e.g. .asfreq('MS') "
        "and impute), or pass freq= explicitly where it is accepted."
    )


def series_steps(table, *, freq=None, strict=True):
    """The step between time stamps of each series.

    A DateOffset for datetimes (``freq``, the index's own ``freq`` or
    inferred), the PeriodIndex frequency for periods, an integer for integer
    stamps; None where it cannot be told (fewer than three datetime stamps)
    unless ``strict``. Irregular (gapped) series raise.
    """
    times = table.times
    steps = []
    for code, rows in enumerate(table.groups()):
        stamps = times[rows]
        steps.append(_series_step(stamps, times, freq, strict, table.label(code)))
    return steps


def _series_step(stamps, times, freq, strict, label):
    if isinstance(stamps, pd.PeriodIndex):
        if len(stamps) > 1 and np.any(np.diff(stamps.asi8) != 1):
            raise _irregular(stamps, label)
        return stamps.freq
    if isinstance(stamps, pd.DatetimeIndex):
        if freq is not None:
            return to_offset(freq)
        if times.freq is not None and len(stamps) == len(times):
            return times.freq
        if len(stamps) < 3:
            if strict:
                raise ValueError(
                    f"Cannot infer the frequency of {label} from {len(stamps)} time "
                    "stamp(s) (3 are needed); pass freq=, e.g. freq='MS'."
                )
            return None
        inferred = pd.infer_freq(stamps)
        if inferred is None:
            raise _irregular(stamps, label)
        return to_offset(inferred)
    diffs = np.diff(np.asarray(stamps, dtype=np.int64))
    if len(diffs) and np.any(diffs != diffs[0]):
        raise _irregular(stamps, label)
    if len(diffs) == 0:
        if strict:
            raise ValueError(f"Cannot tell the step of {label} from one integer time stamp.")
        return None
    return int(diffs[0])


def next_stamps(last, step, horizon):
    """The ``horizon`` stamps after ``last`` (a stamp of a time index)."""
    if isinstance(last, pd.Period):
        return pd.period_range(last + 1, periods=horizon, freq=last.freq)
    if isinstance(last, pd.Timestamp):
        return pd.date_range(last + step, periods=horizon, freq=step)
    return pd.Index(int(last) + step * np.arange(1, horizon + 1), dtype=np.int64)
