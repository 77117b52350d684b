"""The layout said once per pipeline: skrnn.set_config / config_context,
marks on the output of skrnn transformers, the setting reaching joblib
workers, transposed-looking input refused only when nothing said its layout,
and warnings that point at the user's line."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skrnn
from skrnn import (
    RNNClassifier,
    RNNRegressor,
    SequencePatcher,
    SequenceScaler,
    TimeSeriesWindower,
)
from skrnn._sequences.data import marked_layout

FAST = dict(hidden_size=4, max_iter=2, random_state=0, device="cpu")


def _aeon_like(n=24, C=3, T=40, seed=0):
    """An aeon-style (n_cases, n_channels, n_timepoints) panel whose label is
    the sign of channel 0's mean."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, C, T))
    y = np.arange(n) % 2
    X[:, 0] += np.where(y == 1, 0.8, -0.8)[:, None]
    return X, y


@pytest.fixture(autouse=True)
def _clean_config():
    before = skrnn.get_config()
    yield
    skrnn._sequences.config._reset(before)


def test_config_api_and_validation():
    assert skrnn.get_config() == {"data_format": None}
    with skrnn.config_context(data_format="channels_first"):
        assert skrnn.get_config()["data_format"] == "channels_first"
        with skrnn.config_context(data_format="channels_last"):
            assert skrnn.get_config()["data_format"] == "channels_last"
        assert skrnn.get_config()["data_format"] == "channels_first"
    assert skrnn.get_config()["data_format"] is None
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        skrnn.set_config(data_format="NCT")
    skrnn.set_config(data_format="channels_first")
    assert skrnn.get_config()["data_format"] == "channels_first"


def test_aeon_array_through_an_untold_pipeline_is_an_error_naming_data_format():
    X, y = _aeon_like()
    pipe = make_pipeline(SequenceScaler(), RNNClassifier(data_format="channels_first", **FAST))
    # the scaler, not told, would standardise 40 "features" of 3 steps
    with pytest.raises(ValueError, match=r"SequenceScaler|40 features per step.*data_format"):
        pipe.fit(X, y)


def test_layout_said_once_reaches_every_step():
    X, y = _aeon_like()
    told = make_pipeline(
        SequenceScaler(data_format="channels_first"),
        RNNClassifier(data_format="channels_first", **FAST),
    ).fit(X, y)
    with skrnn.config_context(data_format="channels_first"):
        once = make_pipeline(SequenceScaler(), RNNClassifier(**FAST)).fit(X, y)
        p_once = once.predict_proba(X)
    assert once[-1].n_features_in_ == 3 and once[0].n_features_in_ == 3
    np.testing.assert_array_equal(p_once, told.predict_proba(X))
    # fitted steps keep the layout they were fitted with
    np.testing.assert_array_equal(once.predict_proba(X), p_once)
    # telling only the first step: the next follows its output's layout
    first_only = make_pipeline(
        SequenceScaler(data_format="channels_first"), RNNClassifier(**FAST)
    ).fit(X, y)
    assert first_only[-1].n_features_in_ == 3
    np.testing.assert_array_equal(first_only.predict_proba(X), p_once)


def test_set_config_reaches_joblib_workers():
    """GridSearchCV(n_jobs=2) runs each fit in a loky worker process whose
    skrnn configuration starts empty; the clone carries it there."""
    X, y = _aeon_like(n=30)
    grid = {"rnnclassifier__hidden_size": [3, 4]}
    pipe = make_pipeline(SequenceScaler(), RNNClassifier(**FAST))
    results = {}
    with skrnn.config_context(data_format="channels_first"):
        for n_jobs in (1, 2):
            search = GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs, error_score="raise")
            search.fit(X, y)
            results[n_jobs] = search.cv_results_["mean_test_score"]
            assert search.best_estimator_[-1].n_features_in_ == 3
    np.testing.assert_allclose(results[1], results[2])
    # without the setting every worker refuses the transposed-looking input
    with pytest.raises(ValueError, match="data_format"):
        GridSearchCV(pipe, grid, cv=3, n_jobs=2, error_score="raise").fit(X, y)


def test_clone_carries_the_setting_and_a_parameter_wins():
    with skrnn.config_context(data_format="channels_first"):
        copy = clone(SequenceScaler())
        explicit = clone(SequenceScaler(data_format="channels_last"))
    assert copy._cloned_config == {"data_format": "channels_first"}
    X = np.random.RandomState(0).normal(size=(5, 3, 40))
    assert copy.fit(X).n_features_in_ == 3  # outside the block, as in a worker
    assert explicit.fit(X).n_features_in_ == 40
    # a setting in force at fit time wins over the one carried by the clone
    with skrnn.config_context(data_format="channels_last"):
        assert clone(copy).fit(X).n_features_in_ == 40
    assert "_cloned_config" not in clone(SequenceScaler()).__dict__


def test_short_windows_of_many_columns_are_never_refused():
    """TimeSeriesWindower(window=3) over 40 columns gives (n, 3, 40): the
    shape of an aeon panel, but said to be channels last by its producer."""
    rng = np.random.RandomState(0)
    table = rng.normal(size=(60, 40))
    y = table[:, 0].copy()
    pipe = make_pipeline(TimeSeriesWindower(window=3), RNNRegressor(**FAST))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*(data_format|channels).*")
        pipe.fit(table, y)
        Xw = pipe[0].transform(table)
    assert Xw.shape == (60, 3, 40) and marked_layout(Xw) == "channels_last"
    assert pipe[-1].n_features_in_ == 40
    # the windower's output is channels last whatever the setting says
    with skrnn.config_context(data_format="channels_first"):
        assert clone(pipe).fit(table, y)[-1].n_features_in_ == 40
    # the same array, not produced by a skrnn step, needs the layout said
    with pytest.raises(ValueError, match="data_format"):
        RNNRegressor(**FAST).fit(Xw.copy(), y)
    assert RNNRegressor(data_format="channels_last", **FAST).fit(Xw.copy(), y).n_features_in_ == 40


def test_patched_short_series_are_never_refused():
    """Series of 100 steps of 6 channels cut in patches of 50: (n, 2, 300)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 100, 6))
    y = np.arange(20) % 2
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*(data_format|channels).*")
        pipe = make_pipeline(
            SequencePatcher(patch_size=50), SequenceScaler(), RNNClassifier(**FAST)
        ).fit(X, y)
        pipe.predict(X)
        ragged = [x[: 60 + i] for i, x in enumerate(X)]  # ragged: lists of (2, 300)
        make_pipeline(SequencePatcher(patch_size=50), RNNClassifier(**FAST)).fit(ragged, y)
    assert pipe[-1].n_features_in_ == 300


def test_warnings_point_at_the_callers_line():
    X, y = _aeon_like()
    X = X.transpose(0, 2, 1)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        make_pipeline(SequenceScaler(), RNNClassifier(dropout=0.5, **FAST)).fit(X, y)
        RNNClassifier(early_stopping=True, **FAST).fit(X, y)
    ours = [w for w in rec if "dropout=0.5" in str(w.message)
            or "validation set" in str(w.message)]
    assert len(ours) == 2
    assert all(w.filename == __file__ for w in ours), [(w.filename, w.lineno) for w in ours]


def test_basic_motions_as_aeon_gives_it():
    """The composition of the report: aeon's (n, 6, 100) BasicMotions through
    a scaler and a classifier told channels first. Untold, the scaler now
    refuses it (it standardised 100 "features" of 6 steps before); said once,
    every step reads 6 channels."""
    datasets = pytest.importorskip("aeon.datasets")
    X, y = datasets.load_classification("BasicMotions", split="train")
    X, y = X[::4], y[::4]
    with pytest.raises(ValueError, match="100 features per step but only 6 steps.*data_format"):
        make_pipeline(SequenceScaler(),
                      RNNClassifier(data_format="channels_first", **FAST)).fit(X, y)
    with skrnn.config_context(data_format="channels_first"):
        pipe = make_pipeline(SequenceScaler(), RNNClassifier(**FAST)).fit(X, y)
    assert pipe[0].n_features_in_ == pipe[-1].n_features_in_ == 6
    assert pipe[0].mean_.shape == (6,)


def test_window_scaled_regressor_passes_channels_last_windows():
    """Short windows of many columns, rescaled per window inside
    WindowScaledRegressor, reach the wrapped regressor as channels last."""
    from skrnn.preprocessing import WindowScaledRegressor

    rng = np.random.RandomState(0)
    table = rng.normal(size=(50, 30)) + 5.0
    y = table[:, 0].copy()
    pipe = make_pipeline(TimeSeriesWindower(window=2),
                         WindowScaledRegressor(RNNRegressor(**FAST)))
    with skrnn.config_context(data_format="channels_first"):
        pipe.fit(table, y)
    assert pipe[-1].regressor_.n_features_in_ == 30
    assert pipe.predict(table).shape == (50,)
