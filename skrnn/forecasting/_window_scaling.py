"""``WindowScaledRegressor``: scale every window by its own level.

numpy only (no torch). Series of very different magnitudes (sales of 10 and
of 10,000 units) can train one global model when each window is divided by
its own level and the targets by the same number: the network sees shapes,
not magnitudes, and the forecasts are multiplied back. The statistic comes
from the window only, i.e. from the past of each row, so it is fitted on
history and never on the values it predicts.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._compat import _fit_context, HasMethods, Interval, StrOptions
from .._doclink import DOC_LINK_TEMPLATE, doc_link_url_params
from .._home import public_home
from .._sequences.data import mark_layout

__all__ = ["WindowScaledRegressor"]


def _regressor_has(name):
    return lambda self: hasattr(getattr(self, "regressor_", self.regressor), name)


@public_home("skrnn.preprocessing")
class WindowScaledRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Normalise each window and its targets by the window's level.

    Put it after a :class:`~skrnn.TimeSeriesWindower`:
    ``make_pipeline(TimeSeriesWindower(window=12), WindowScaledRegressor(RNNRegressor()))``.
    For every window, a location ``loc`` and a scale ``s`` are computed from
    the real steps (NaN padding excluded) of feature ``column`` (the target
    series); that feature becomes ``(x - loc) / s`` and the targets
    ``(y - loc) / s``. Predictions are mapped back with ``pred * s + loc``,
    so the user never scales by hand.

    Parameters
    ----------
    regressor : estimator
        Reads the scaled windows ``(n_samples, window, n_features)``.
    column : int, default=0
        The feature (position in the windower's columns) that sets each
        window's level and that the targets belong to. Other features
        (calendar, static covariates) are left as they are.
    method : {'mean_abs', 'last', 'standard'}, default='mean_abs'
        ``'mean_abs'``: ``loc = 0``, ``s`` = mean absolute value of the
        window; ``'last'``: ``loc = 0``, ``s`` = absolute last value;
        ``'standard'``: ``loc`` = window mean, ``s`` = window standard
        deviation. A zero scale becomes ``|loc|`` (a window without spread,
        e.g. one real step), or 1 when that is zero too.

    Attributes
    ----------
    regressor_ : estimator
        The fitted clone of ``regressor``.
    n_features_in_ : int
        Features per time step of the windows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skrnn.preprocessing import WindowScaledRegressor
    >>> last_step = make_pipeline(FunctionTransformer(lambda w: w[:, -1]), LinearRegression())
    >>> X = np.array([[[1.], [2.]], [[100.], [200.]]])  # one shape, two magnitudes
    >>> y = np.array([3., 300.])
    >>> model = WindowScaledRegressor(last_step, method="last").fit(X, y)
    >>> model.predict(np.array([[[10.], [20.]]])).round(6)
    array([30.])
    """

    # the HTML repr's "?" icon links to the class's API page (see _doclink.py)
    _doc_link_module = "skrnn"
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    _parameter_constraints = {
        "regressor": [HasMethods(["fit", "predict"])],
        "column": [Interval(Integral, 0, None, closed="left")],
        "method": [StrOptions({"mean_abs", "last", "standard"})],
    }

    def __init__(self, regressor, *, column: int = 0, method: str = "mean_abs") -> None:
        self.regressor = regressor
        self.column = column
        self.method = method

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit ``regressor`` on scaled windows and scaled targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, window, n_features)
            Windows, NaN-padded where a row has less history.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets on the scale of feature ``column``.
        **fit_params : dict
            Passed to ``regressor.fit`` (e.g. ``sample_weight``).

        Returns
        -------
        self : WindowScaledRegressor
            The fitted estimator.
        """
        X, loc, scale = self._scale(X, reset=True)
        y = np.asarray(y, dtype=np.float64)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]} windows.")
        shape = (-1,) + (1,) * (y.ndim - 1)
        y_scaled = (y - loc.reshape(shape)) / scale.reshape(shape)
        self.regressor_ = clone(self.regressor).fit(X, y_scaled, **fit_params)
        return self

    def predict(self, X, **predict_params):
        """Predict on the scaled windows and map back to each window's level.

        Parameters
        ----------
        X : array-like of shape (n_samples, window, n_features)
            Windows, NaN-padded where a row has less history.
        **predict_params : dict
            Passed to ``regressor_.predict``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions on the scale of feature ``column``.
        """
        return self._unscaled("predict", X, **predict_params)

    @available_if(_regressor_has("predict_quantiles"))
    def predict_quantiles(self, X, **predict_params):
        """The regressor's ``predict_quantiles``, mapped back to each window's level.

        Parameters
        ----------
        X : array-like of shape (n_samples, window, n_features)
            Windows, NaN-padded where a row has less history.
        **predict_params : dict
            Passed to ``regressor_.predict_quantiles``.

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
                (n_samples, n_outputs, n_quantiles)
            Every quantile level, on the scale of feature ``column``.
        """
        return self._unscaled("predict_quantiles", X, **predict_params)

    def _unscaled(self, method, X, **predict_params):
        check_is_fitted(self, "regressor_")
        X, loc, scale = self._scale(X, reset=False)
        out = np.asarray(getattr(self.regressor_, method)(X, **predict_params))
        shape = (-1,) + (1,) * (out.ndim - 1)
        return out * scale.reshape(shape) + loc.reshape(shape)

    def _scale(self, X, *, reset):
        X = np.array(X, dtype=np.float64)  # a copy: the caller's windows stay as they are
        if X.ndim != 3:
            raise ValueError(
                "WindowScaledRegressor reads windows (n_samples, window, n_features); got "
                f"shape {X.shape}. Put it after a TimeSeriesWindower in the pipeline."
            )
        if reset:
            self.n_features_in_ = X.shape[2]
        elif X.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[2]} features per step; WindowScaledRegressor was fitted "
                f"with {self.n_features_in_}."
            )
        if self.column >= X.shape[2]:
            raise ValueError(
                f"column={self.column} but the windows have {X.shape[2]} feature(s)."
            )
        series = X[:, :, self.column]
        if np.isnan(series).all(axis=1).any():
            raise ValueError("A window has no real value of the scaled column.")
        loc, scale = self._level(series)
        # a window without spread (one real step, a flat stretch): its level
        # |loc| keeps the targets relative (1 would leave them on the raw scale)
        fallback = np.where(np.abs(loc) > 0, np.abs(loc), 1.0)
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(loc)), scale, fallback)
        X[:, :, self.column] = (series - loc[:, None]) / scale[:, None]
        # windows are channels last: the wrapped regressor reads them so
        # whatever skrnn's data_format setting says (skrnn._sequences.config)
        return mark_layout(X, "channels_last"), loc, scale

    def _level(self, series):
        if self.method == "mean_abs":
            return np.zeros(len(series)), np.nanmean(np.abs(series), axis=1)
        if self.method == "last":
            real = ~np.isnan(series)
            last = series.shape[1] - 1 - np.argmax(real[:, ::-1], axis=1)
            return np.zeros(len(series)), np.abs(series[np.arange(len(series)), last])
        return np.nanmean(series, axis=1), np.nanstd(series, axis=1)
