"""``PanelTimeSeriesSplit``: time-ordered folds on time stamps, for one
series or many.

numpy/pandas only (no torch).
"""

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator

from ._panel import _stamps_as_int, read_table
from .._home import public_home

__all__ = ["PanelTimeSeriesSplit"]


@public_home("skrnn.forecasting")
class PanelTimeSeriesSplit(BaseCrossValidator):
    """``TimeSeriesSplit`` on time stamps: every fold validates the same dates
    in every series.

    scikit-learn's ``TimeSeriesSplit`` splits on row positions, which for a
    panel (many series in one table) would put some series' future in the
    training folds. This splitter sorts the distinct time stamps of the
    table and splits on them: fold ``i`` validates the ``test_size`` stamps
    that follow its training stamps, across all series, so no training row
    is later than a validation row. With
    :class:`~skrnn.TimeSeriesWindower` in the pipeline, each series'
    validation rows see that series' training rows as their history.
    On one series it gives the folds of ``TimeSeriesSplit``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2).
    test_size : int, default=None
        Time stamps per validation fold; None uses
        ``n_stamps // (n_splits + 1)``.
    gap : int, default=0
        Time stamps left out between training and validation (their rows are
        in neither; the validation rows then get no history from the fit).
    id_col, time_col : str, default=None
        As in :class:`~skrnn.TimeSeriesWindower`: how the table names its
        series and time stamps (a MultiIndex needs neither).

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn.forecasting import PanelTimeSeriesSplit
    >>> X = pd.DataFrame({"id": list("aaabbb"), "t": [1, 2, 3, 2, 3, 4], "y": range(6)})
    >>> for train, test in PanelTimeSeriesSplit(2, id_col="id", time_col="t").split(X):
    ...     print(train, test)
    [0 1 3] [2 4]
    [0 1 2 3 4] [5]
    """

    def __init__(self, n_splits: int = 5, *, test_size: int | None = None, gap: int = 0,
                 id_col: str | None = None, time_col: str | None = None) -> None:
        self.n_splits = n_splits
        self.test_size = test_size
        self.gap = gap
        self.id_col = id_col
        self.time_col = time_col

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds (``n_splits``).

        Parameters
        ----------
        X, y, groups : object, default=None
            Ignored; present for scikit-learn's splitter interface.

        Returns
        -------
        n_splits : int
            The number of ``(train, test)`` pairs :meth:`split` yields.
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` row positions, fold after fold.

        Parameters
        ----------
        X : DataFrame or Series
            The table: indexed by time, a ``(series id, time)`` MultiIndex, or
            long format with ``id_col``/``time_col``.
        y, groups : None
            Ignored.

        Yields
        ------
        train, test : ndarray of int
        """
        if not isinstance(self.n_splits, Integral) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2; got {self.n_splits!r}.")
        table = read_table(X, id_col=self.id_col, time_col=self.time_col)
        if table.times is None:
            raise TypeError(
                "PanelTimeSeriesSplit splits on time stamps; X is a numpy array. Pass a "
                "DataFrame indexed by time, or use sklearn's TimeSeriesSplit."
            )
        stamps = _stamps_as_int(table.times)
        distinct = np.unique(stamps)
        test_size = self.test_size or len(distinct) // (self.n_splits + 1)
        first_test = len(distinct) - self.n_splits * test_size
        if test_size < 1 or first_test - self.gap < 1:
            raise ValueError(
                f"Too few time stamps ({len(distinct)}) for n_splits={self.n_splits}, "
                f"test_size={self.test_size} and gap={self.gap}."
            )
        for i in range(self.n_splits):
            start = first_test + i * test_size
            train_end = distinct[start - self.gap - 1]
            test_lo, test_hi = distinct[start], distinct[start + test_size - 1]
            yield (np.flatnonzero(stamps <= train_end),
                   np.flatnonzero((stamps >= test_lo) & (stamps <= test_hi)))

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError
