"""SequencePadder, SequenceScaler and TimeSeriesWindower: hand-worked values,
round trips, pandas output, sklearn's estimator checks, and the promise that
padded input gives the estimators exactly what ragged input gives them."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform_pandas,
    parametrize_with_checks,
)

from skrnn import RNNClassifier, RNNRegressor, SequencePadder, SequenceScaler, TimeSeriesWindower

_WINDOWS_ORDER = (
    "rows are time steps: each window holds the rows before it, so reordering or "
    "splitting the rows changes the windows by design"
)
_WINDOWS_3D = "the output is 3-D (n_timesteps, window, n_features), never a table"


def _expected_failed_checks(estimator):
    failures = {}
    if isinstance(estimator, TimeSeriesWindower):
        failures = {
            "check_methods_sample_order_invariance": _WINDOWS_ORDER,
            "check_methods_subset_invariance": _WINDOWS_ORDER,
        }
    return failures


_TRANSFORMERS = [
    SequencePadder(), SequenceScaler(), SequencePadder(data_format="channels_first"),
    TimeSeriesWindower(window=3),
]


@parametrize_with_checks(_TRANSFORMERS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_set_output_transform_pandas,
                                   check_global_output_transform_pandas])
@pytest.mark.parametrize("estimator", _TRANSFORMERS, ids=lambda e: type(e).__name__)
def test_sklearn_pandas_output_checks(estimator, check):
    if isinstance(estimator, TimeSeriesWindower):
        pytest.xfail(_WINDOWS_3D)
    check(type(estimator).__name__, estimator)


@pytest.fixture
def ragged():
    rng = np.random.RandomState(0)
    return [rng.normal(size=(n, 2)) for n in (3, 5, 1, 4)]


# ------------------------------------------------------------- SequencePadder
def test_padder_keras_semantics_by_hand():
    X = [np.array([1.0, 2.0, 3.0]), np.array([4.0])]
    assert SequencePadder(value=0.0).fit_transform(X).tolist() == [[1, 2, 3], [4, 0, 0]]
    pre = SequencePadder(padding="pre", value=0.0).fit_transform(X)
    assert pre.tolist() == [[1, 2, 3], [0, 0, 4]]
    cut_post = SequencePadder(maxlen=2, value=-1.0).fit_transform(X)
    assert cut_post.tolist() == [[1, 2], [4, -1]]
    cut_pre = SequencePadder(maxlen=2, truncating="pre", padding="pre", value=-1.0)
    assert cut_pre.fit_transform(X).tolist() == [[2, 3], [-1, 4]]


def test_padder_learns_maxlen_and_pads_with_nan(ragged):
    padder = SequencePadder().fit(ragged)
    assert padder.maxlen_ == 5 and padder.n_features_in_ == 2
    out = padder.transform(ragged)
    assert out.shape == (4, 5, 2) and out.dtype == np.float64
    np.testing.assert_array_equal(out[0, :3], ragged[0])
    assert np.isnan(out[0, 3:]).all() and not np.isnan(out[1]).any()
    # a longer sequence at transform time is truncated to maxlen_
    longer = padder.transform([np.ones((7, 2))])
    assert longer.shape == (1, 5, 2) and not np.isnan(longer).any()


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_padder_inverse_round_trip(ragged, padding):
    padder = SequencePadder(padding=padding, value=-9.0)
    back = padder.inverse_transform(padder.fit_transform(ragged))
    assert len(back) == len(ragged)
    for a, b in zip(ragged, back):
        np.testing.assert_array_equal(a, b)


def test_padder_univariate_input_gives_2d_and_pandas_columns():
    X = [np.arange(1.0, 4.0), np.arange(1.0, 3.0)]
    padder = SequencePadder().set_output(transform="pandas")
    out = padder.fit_transform(X)
    assert isinstance(out, pd.DataFrame) and out.shape == (2, 3)
    assert list(out.columns) == list(padder.get_feature_names_out())
    assert list(out.columns) == ["sequencepadder0", "sequencepadder1", "sequencepadder2"]
    back = padder.inverse_transform(out)
    assert [b.tolist() for b in back] == [[1, 2, 3], [1, 2]]


def test_padder_does_not_modify_input(ragged):
    copies = [x.copy() for x in ragged]
    SequencePadder(value=0.0).fit_transform(ragged)
    for a, b in zip(ragged, copies):
        np.testing.assert_array_equal(a, b)


def test_padder_clear_errors(ragged):
    with pytest.raises(ValueError, match=r"X\[1\] has 3 features, X\[0\] has 2"):
        SequencePadder().fit([np.ones((2, 2)), np.ones((2, 3))])
    padder = SequencePadder().fit(ragged)
    with pytest.raises(ValueError, match="3 features per time step.*fitted with 2"):
        padder.transform([np.ones((2, 3))])
    with pytest.raises(ValueError, match="padding"):
        SequencePadder(padding="middle").fit(ragged)


def _ragged_classification(seed=0, n=32):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(3, 12), 2)) for _ in range(n)]
    y = np.array([int(x[:, 0].sum() > 0) for x in X])
    return X, y


_CLF = dict(hidden_size=8, max_iter=2, batch_size=16, random_state=0, device="cpu")


@pytest.mark.parametrize("value", [None, -5.0], ids=["nan-default", "value=-5"])
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_padded_pipeline_predicts_like_ragged_input(value, padding):
    X, y = _ragged_classification()
    if value is None:  # all defaults: NaN padding read by the default mask
        padder, clf = SequencePadder(padding=padding), RNNClassifier(**_CLF)
    else:
        padder = SequencePadder(padding=padding, value=value)
        clf = RNNClassifier(mask_value=value, **_CLF)
    ragged_model = RNNClassifier(**_CLF).fit(X, y)
    pipe = make_pipeline(padder, clf).fit(X, y)
    np.testing.assert_allclose(pipe.predict_proba(X), ragged_model.predict_proba(X), rtol=1e-6)
    np.testing.assert_array_equal(pipe.predict(X), ragged_model.predict(X))


# ------------------------------------------------------------- SequenceScaler
def test_scaler_statistics_over_real_steps_only_by_hand():
    X = np.array([[[0.0, 10.0], [2.0, 10.0], [np.nan, np.nan]],
                  [[np.nan, np.nan], [4.0, 40.0], [6.0, 40.0]]])
    scaler = SequenceScaler().fit(X)
    np.testing.assert_allclose(scaler.mean_, [3.0, 25.0])
    np.testing.assert_allclose(scaler.var_, [5.0, 225.0])
    assert scaler.n_steps_seen_ == 4
    out = scaler.transform(X)
    assert out.shape == X.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(X))  # padding left as it was
    np.testing.assert_allclose(out[0, 0], [-3 / np.sqrt(5), -1.0])
    np.testing.assert_allclose(out[1, 2], [3 / np.sqrt(5), 1.0])


def test_scaler_keeps_mask_value_padding():
    X = np.array([[[1.0], [4.0], [0.0]], [[7.0], [0.0], [0.0]]])
    scaler = SequenceScaler(mask_value=0.0).fit(X)
    np.testing.assert_allclose(scaler.mean_, [4.0])
    out = scaler.transform(X)
    np.testing.assert_allclose(out[:, :, 0], [[-1.224745, 0.0, 0.0], [1.224745, 0.0, 0.0]],
                               atol=1e-6)
    # a real step equal to the mean scales to 0.0 == mask_value: at the end
    # of a sequence it then reads as padding (see the Notes of the docstring)
    assert len(scaler.inverse_transform([out[0, :2]])[0]) == 1
    X[0, 1, 0] = 2.0
    out = SequenceScaler(mask_value=0.0).fit(X).transform(X)
    np.testing.assert_allclose(SequenceScaler(mask_value=0.0).fit(X).inverse_transform(out), X)


@pytest.mark.parametrize("form", ["3d", "2d", "ragged", "ragged-1d"])
def test_scaler_round_trip_keeps_form(form):
    rng = np.random.RandomState(1)
    X = {
        "3d": rng.normal(3, 2, size=(5, 4, 3)),
        "2d": rng.normal(3, 2, size=(5, 4)),
        "ragged": [rng.normal(3, 2, size=(n, 3)) for n in (2, 6, 1)],
        "ragged-1d": [rng.normal(3, 2, size=n) for n in (2, 6, 1)],
    }[form]
    scaler = SequenceScaler().fit(X)
    out = scaler.transform(X)
    back = scaler.inverse_transform(out)
    if form.startswith("ragged"):
        assert isinstance(out, list) and [o.shape for o in out] == [x.shape for x in X]
        values = np.concatenate([np.reshape(o, (len(o), -1)) for o in out])
        for a, b in zip(X, back):
            np.testing.assert_allclose(a, b)
    else:
        assert out.shape == X.shape
        values = out.reshape(-1, 1 if form == "2d" else 3)
        np.testing.assert_allclose(back, X)
    np.testing.assert_allclose(values.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(values.std(axis=0), 1.0)


def test_scaler_pandas_output_and_feature_names():
    df = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["t0", "t1", "t2"],
                      index=list("abcd"))
    scaler = SequenceScaler().set_output(transform="pandas").fit(df)
    out = scaler.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["t0", "t1", "t2"] and list(out.index) == list("abcd")
    # a 2-D table is univariate sequences: one mean over every value
    np.testing.assert_allclose(scaler.mean_, [5.5])
    # 3-D input: names describe the per-step features, output stays an array
    X3 = np.ones((2, 3, 2)) * np.arange(2)
    scaler3 = SequenceScaler().set_output(transform="pandas").fit(X3)
    assert list(scaler3.get_feature_names_out()) == ["x0", "x1"]
    assert isinstance(scaler3.transform(X3), np.ndarray)


def test_scaler_zero_variance_feature_is_not_divided():
    X = np.ones((3, 4, 2))
    X[:, :, 1] = np.arange(4)
    out = SequenceScaler().fit_transform(X)
    np.testing.assert_array_equal(out[:, :, 0], 0.0)


def test_scaler_clear_errors():
    X = np.ones((2, 3, 2))
    X[0, 1, 0] = np.nan  # one of two features missing: not a skippable step
    with pytest.raises(ValueError, match=r"X\[0\].*step 1.*feature 0"):
        SequenceScaler().fit(X)
    scaler = SequenceScaler().fit(np.ones((2, 3, 2)))
    with pytest.raises(ValueError, match="1 features per time step.*fitted with 2"):
        scaler.transform(np.ones((2, 3, 1)))


# --------------------------------------------------------- TimeSeriesWindower
def test_windower_windows_end_at_their_row():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [10.0, 20.0, 30.0, 40.0]})
    out = TimeSeriesWindower(window=3).fit_transform(df)
    assert out.shape == (4, 3, 2)
    np.testing.assert_array_equal(out[3], [[2, 20], [3, 30], [4, 40]])
    np.testing.assert_array_equal(out[1, 1:], [[1, 10], [2, 20]])
    assert np.isnan(out[1, 0]).all() and np.isnan(out[0, :2]).all()
    zero_padded = TimeSeriesWindower(window=3, value=0.0).fit_transform(df)
    np.testing.assert_array_equal(zero_padded[0], [[0, 0], [0, 0], [1, 10]])


def test_windower_window_longer_than_series_and_names():
    s = pd.Series([1.0, 2.0], name="sales")
    with pytest.raises(ValueError, match="window=5 is longer than the data.*2 sample"):
        TimeSeriesWindower(window=5).fit(s)
    windower = TimeSeriesWindower(window=5, short_series="pad").fit(s)
    out = windower.transform(s)
    assert out.shape == (2, 5, 1) and np.isnan(out[1, :3]).all()
    assert list(windower.get_feature_names_out()) == ["sales"]
    np.testing.assert_array_equal(windower.inverse_transform(out), [[1.0], [2.0]])
    windower.set_output(transform="pandas")
    back = windower.inverse_transform(out)
    assert isinstance(back, pd.DataFrame) and list(back.columns) == ["sales"]


def test_windower_clear_errors():
    with pytest.raises(ValueError, match="contains NaN"):
        TimeSeriesWindower(window=2).fit(pd.DataFrame({"y": [1.0, np.nan, 3.0]}))
    with pytest.raises(ValueError, match="one time-ordered table"):
        TimeSeriesWindower(window=2).fit(np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match="Reshape your data"):
        TimeSeriesWindower(window=2).fit(np.arange(5.0))
    with pytest.raises(ValueError, match="window"):
        TimeSeriesWindower(window=0).fit(np.ones((3, 1)))
    windower = TimeSeriesWindower(window=2).fit(pd.DataFrame({"y": [1.0, 3.0], "x": [2.0, 4.0]}))
    with pytest.raises(ValueError, match="feature names"):
        windower.transform(pd.DataFrame({"y": [1.0], "z": [2.0]}))


def _series_problem(n=120, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n + 1)
    values = np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=n + 1)
    df = pd.DataFrame({"y": values[:-1], "month": (t[:-1] % 12) / 11.0})
    return df, values[1:]  # next value of y


def test_windower_pipeline_default_estimator_reads_padding():
    """The first rows' NaN-padded windows are read as shorter sequences: a
    pipeline with the estimator's defaults predicts every row."""
    X, y = _series_problem(n=40)
    pipe = make_pipeline(TimeSeriesWindower(window=12),
                         RNNRegressor(hidden_size=8, max_iter=2, random_state=0))
    pred = pipe.fit(X, y).predict(X)
    assert pred.shape == (40,) and np.isfinite(pred).all()
    # row 0 sees one step only: same prediction as that single step alone
    alone = pipe[-1].predict(X.to_numpy()[None, :1, :])
    np.testing.assert_allclose(pred[0], alone[0], rtol=1e-5)


def test_windower_in_grid_search_with_time_series_split():
    X, y = _series_problem(n=96)
    pipe = make_pipeline(
        TimeSeriesWindower(window=2),
        RNNRegressor(max_iter=25, learning_rate_init=2e-2, batch_size=32, random_state=0),
    )
    grid = GridSearchCV(
        pipe,
        {"timeserieswindower__window": [1, 12], "rnnregressor__hidden_size": [4, 12]},
        cv=TimeSeriesSplit(n_splits=3),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.isfinite(scores).all()
    # one step of history cannot tell where the sine goes; a year can
    assert grid.best_params_["timeserieswindower__window"] == 12
    naive_mse = np.mean((y - X["y"].to_numpy()) ** 2)
    assert -grid.best_score_ < naive_mse


def _monthly_frame(n=8):
    index = pd.date_range("2000-01-01", periods=n, freq="MS")
    return pd.DataFrame({"y": np.arange(n, dtype=float), "x": 10.0 * np.arange(n)}, index=index)


@pytest.mark.parametrize(
    "reindex, message",
    [
        (lambda i: i[[0, 2, 1, 3, 4, 5, 6, 7]], "not sorted: 2000-03-01.* before 2000-02-01"),
        (lambda i: i[[0, 1, 1, 2, 3, 4, 5, 6]], "duplicate time stamps: 2000-02-01"),
        (lambda i: i.delete(3).append(pd.DatetimeIndex(["2001-06-01"])),
         "Cannot infer the frequency.*irregular"),
        (lambda i: pd.Index([0, 1, 2, 3, 5, 6, 7, 8]), "irregular"),
        (lambda i: pd.Index([3, 1, 2, 4, 5, 6, 7, 8]), "not sorted"),
    ],
    ids=["unsorted", "duplicated", "gapped", "gapped-int", "unsorted-int"],
)
def test_windower_checks_the_time_index(reindex, message):
    df = _monthly_frame()
    bad = df.set_axis(reindex(df.index))
    with pytest.raises(ValueError, match=message):
        TimeSeriesWindower(window=2).fit(bad)
    fitted = TimeSeriesWindower(window=2).fit(df)
    with pytest.raises(ValueError, match=message):
        fitted.transform(bad)


def test_windower_validation_rows_see_their_history():
    df = _monthly_frame()
    windower = TimeSeriesWindower(window=3).fit(df.iloc[:5])
    full = TimeSeriesWindower(window=3).fit_transform(df)
    # a table that continues the fitted one: true history, as if windowed whole
    np.testing.assert_array_equal(windower.transform(df.iloc[5:]), full[5:])
    # the fitted table itself, and a table that does not continue it: own rows only
    np.testing.assert_array_equal(windower.transform(df.iloc[:5]), full[:5])
    alone = windower.transform(df.iloc[6:])
    assert np.isnan(alone[0, :2]).all() and alone[0, 2, 0] == 6
    # numpy input carries no time stamps: never history
    numpy_windower = TimeSeriesWindower(window=3).fit(df.to_numpy()[:5])
    assert np.isnan(numpy_windower.transform(df.to_numpy()[5:])[0, :2]).all()
    # RangeIndex (as TimeSeriesSplit slices a default-indexed frame) continues too
    plain = df.reset_index(drop=True)
    windower = TimeSeriesWindower(window=3).fit(plain.iloc[:5])
    np.testing.assert_array_equal(windower.transform(plain.iloc[5:]), full[5:])


def _flat_linear(window):
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(TimeSeriesWindower(window=window),
                         FunctionTransformer(lambda w: np.nan_to_num(w).reshape(len(w), -1)),
                         LinearRegression())


def test_grid_search_score_equals_score_on_true_history():
    """GridSearchCV(cv=TimeSeriesSplit) scores every validation row on its full
    window: the searched score equals the score computed by hand from windows
    built on the whole series."""
    from sklearn.metrics import mean_absolute_error

    X, y = _series_problem(n=96)
    cv = TimeSeriesSplit(n_splits=3, test_size=12)
    grid = GridSearchCV(_flat_linear(2), {"timeserieswindower__window": [3, 12, 24]}, cv=cv,
                        scoring="neg_mean_absolute_error").fit(X, y)
    for i, window in enumerate(grid.cv_results_["param_timeserieswindower__window"]):
        windows_all = TimeSeriesWindower(window=window).fit_transform(X)
        by_hand, no_history = [], []
        for train, test in cv.split(X):
            model = _flat_linear(window).fit(X.iloc[train], y[train])
            pred = model[1:].predict(windows_all[test])  # windows of the true history
            by_hand.append(mean_absolute_error(y[test], pred))
            alone = model[1:].predict(model[0].transform(X.iloc[test].reset_index(drop=True)))
            no_history.append(mean_absolute_error(y[test], alone))
        assert -grid.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(by_hand))
        if window > 3:  # the old score (the fold's first rows without history) differs
            assert abs(np.mean(no_history) - np.mean(by_hand)) > 1e-3


def test_pandas_output_of_3d_windows_warns():
    windower = TimeSeriesWindower(window=2).set_output(transform="pandas")
    with pytest.warns(UserWarning, match="3-D and cannot be a DataFrame"):
        out = windower.fit_transform(_monthly_frame())
    assert isinstance(out, np.ndarray) and out.ndim == 3
    padder = SequencePadder().set_output(transform="pandas")
    with pytest.warns(UserWarning, match="pandas output"):
        padder.fit_transform(np.ones((2, 3, 2)))


@pytest.mark.parametrize("cls", [SequencePadder, SequenceScaler, TimeSeriesWindower])
def test_init_is_keyword_only_and_typed(cls):
    import inspect

    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params and all(p.kind is p.KEYWORD_ONLY for p in params)
    assert all(p.annotation is not p.empty for p in params)
    assert {p.name for p in params} == set(cls._parameter_constraints)


def test_grid_search_rnn_score_equals_score_on_true_history():
    X, y = _series_problem(n=60)
    cv = TimeSeriesSplit(n_splits=2, test_size=12)
    pipe = make_pipeline(TimeSeriesWindower(window=12),
                         RNNRegressor(hidden_size=4, max_iter=2, random_state=0))
    grid = GridSearchCV(pipe, {"rnnregressor__hidden_size": [4]}, cv=cv,
                        scoring="neg_mean_absolute_error").fit(X, y)
    windows_all = TimeSeriesWindower(window=12).fit_transform(X)
    by_hand = [np.mean(np.abs(y[test] - pipe.fit(X.iloc[train], y[train])[-1].predict(
        windows_all[test]))) for train, test in cv.split(X)]
    assert -grid.best_score_ == pytest.approx(np.mean(by_hand), rel=1e-5)
