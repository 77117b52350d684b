"""Known-future covariates for the direct strategy.

numpy/pandas only (no torch). A direct model forecasts ``h`` steps from the
window ending at row ``t``; covariates whose future is known (calendar,
planned promotions) reach it as extra columns ``c+1 .. c+h`` on row ``t``:
the values of ``c`` at the next ``h`` time stamps of the same series.
"""

import numpy as np
import pandas as pd

from ._panel import Table, _stamps_as_int, check_order, read_table, series_steps
from .._home import public_home

__all__ = ["make_future_covariates"]


@public_home("skrnn.forecasting")
def make_future_covariates(X, columns, horizon, *, exog=None, id_col=None, time_col=None):
    """Add the next ``horizon`` values of known-future covariates to each row.

    Parameters
    ----------
    X : DataFrame
        One series indexed by time, or many (``(series id, time)``
        MultiIndex, or long format with ``id_col``/``time_col``).
    columns : str or list of str
        The known-future covariate columns of ``X``.
    horizon : int
        Number of future values per row (the direct model's horizon).
    exog : DataFrame, default=None
        Future values of ``columns`` after the end of each series, in the
        layout of ``X``: needed to forecast, so that the last row of every
        series has all ``horizon`` values (a clear error says which are
        missing). Without it, the last rows of each series get NaN (drop them
        before fitting, as the rows without targets).
    id_col, time_col : str, default=None
        As in :class:`~skrnn.TimeSeriesWindower`.

    Returns
    -------
    X_out : DataFrame
        A copy of ``X`` (same rows and order) with columns
        ``'<c>+1' .. '<c>+<horizon>'`` for every covariate ``c``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn.forecasting import make_future_covariates
    >>> X = pd.DataFrame({"y": [1., 2., 3.], "promo": [0., 1., 0.]},
    ...                  index=pd.date_range("2020", periods=3, freq="D"))
    >>> future = pd.DataFrame({"promo": [1.]}, index=pd.date_range("2020-01-04", periods=1))
    >>> make_future_covariates(X, "promo", 1, exog=future)["promo+1"].tolist()
    [1.0, 0.0, 1.0]
    """
    columns = [columns] if np.isscalar(columns) else list(columns)
    table = read_table(X, id_col=id_col, time_col=time_col)
    if table.times is None:
        raise TypeError("X must be a DataFrame indexed by time (or with time_col).")
    _require(table, columns, "X")
    check_order(table)
    n_rows = len(table.times)
    combined = table
    if exog is not None:
        combined = _append_future(table, read_table(exog, id_col=id_col, time_col=time_col,
                                                    what="exog"), columns)
        check_order(combined, "X followed by exog")
        series_steps(combined, strict=False)  # exog must continue each series without gaps
    values = combined.values[columns].to_numpy(dtype=np.float64)
    out = X.copy()
    leads = {}
    for rows in combined.groups():
        for k in range(1, horizon + 1):
            lead = np.full((len(rows), len(columns)), np.nan)
            lead[: max(len(rows) - k, 0)] = values[rows[k:]]
            leads.setdefault(k, np.full((len(values), len(columns)), np.nan))[rows] = lead
    for j, column in enumerate(columns):
        for k in range(1, horizon + 1):
            out[f"{column}+{k}"] = leads[k][:n_rows, j]
    if exog is not None:
        _check_last_rows(table, out, columns, horizon)
    return out


def _require(table, columns, what):
    missing = [c for c in columns if c not in table.values.columns]
    if missing:
        raise ValueError(f"{what} has no covariate column(s) {missing!r}.")


def _append_future(table, future, columns):
    """``table`` followed by the rows of ``future`` (its series only)."""
    _require(future, columns, "exog")
    if table.ids is None:
        codes = np.zeros(len(future.times), dtype=np.int64)
    else:
        codes = table.ids.get_indexer(future.ids[future.codes])
    keep = codes >= 0
    values = pd.concat([table.values[columns], future.values.loc[keep, columns]],
                       ignore_index=True)
    own = np.zeros(len(table.times), dtype=np.int64) if table.codes is None else table.codes
    times = table.times.append(future.times[keep])
    if _stamps_as_int(times).dtype != np.int64:  # pragma: no cover
        raise TypeError("exog's time stamps must be of the same kind as X's.")
    return Table(values, times, np.concatenate([own, codes[keep]]), table.ids, table.layout,
                 table.id_name, table.time_name)


def _check_last_rows(table, out, columns, horizon):
    leads = [f"{c}+{k}" for c in columns for k in range(1, horizon + 1)]
    for code, rows in enumerate(table.groups()):
        last = out[leads].iloc[rows[-1]]
        if last.isna().any():
            missing = last.index[last.isna().to_numpy()][0]
            raise ValueError(
                f"exog does not give the future value {missing!r} of {table.label(code)} "
                f"(after {table.times[rows[-1]]}): it needs the next {horizon} time stamps "
                f"of {columns!r} for every series, without gaps."
            )
