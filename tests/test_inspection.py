"""Sequence-aware inspection: permutation importance by channel and by
segment (3-D, ragged, channels-first, pipelines), its plot, and bagging
for sequence input."""

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier, RNNRegressor, SequenceScaler
from skrnn.inspection import bagging_predict_proba, permutation_importance

FAST = dict(hidden_size=8, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def channel0_data():
    """Only channel 0 decides the class; channels 1, 2 are noise."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 10, 3))
    y = (X[:, :, 0].mean(axis=1) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def channel0_clf(channel0_data):
    X, y = channel0_data
    return RNNClassifier(max_iter=30, **FAST).fit(X, y)


def test_channel_importance_finds_the_informative_channel(channel0_data, channel0_clf):
    X, y = channel0_data
    r = permutation_importance(channel0_clf, X, y, n_repeats=4, random_state=0)
    assert set(r) == {"importances_mean", "importances_std", "importances"}
    assert r.importances.shape == (3, 4)
    np.testing.assert_allclose(r.importances_mean, r.importances.mean(1))
    np.testing.assert_allclose(r.importances_std, r.importances.std(1))
    assert r.importances_mean[0] > 0.2
    assert np.all(np.abs(r.importances_mean[1:]) < 0.1)
    # the baseline score minus the shuffled score; nothing of X is modified
    X0 = X.copy()
    with joblib.parallel_config(backend="threading"):
        again = permutation_importance(channel0_clf, X, y, n_repeats=4, random_state=0,
                                       n_jobs=2)
    np.testing.assert_allclose(again.importances, r.importances)
    np.testing.assert_array_equal(X, X0)


def test_segment_importance_finds_the_informative_part():
    """The class is in the last fifth of each (ragged) sequence."""
    rng = np.random.RandomState(1)
    X = [rng.normal(size=(rng.randint(20, 31), 2)) for _ in range(100)]
    y = np.array([int(x[-len(x) // 5:, 0].mean() > 0) for x in X])
    for x, label in zip(X, y):
        x[-len(x) // 5:, 0] += 1.5 if label else -1.5
    clf = RNNClassifier(max_iter=20, **FAST).fit(X, y)
    r = permutation_importance(clf, X, y, by="segment", n_segments=5, n_repeats=3,
                               random_state=0)
    assert r.importances.shape == (5, 3)
    assert int(np.argmax(r.importances_mean)) == 4
    assert r.importances_mean[4] > 0.2 and np.all(r.importances_mean[:3] < 0.1)


def test_channels_first_pipeline_and_scoring(channel0_data):
    X, y = channel0_data
    Xcf = X.transpose(0, 2, 1)  # aeon's (n, C, T)
    pipe = make_pipeline(SequenceScaler(data_format="channels_first"),
                         RNNClassifier(max_iter=30, **FAST)).fit(Xcf, y)
    r = permutation_importance(pipe, Xcf, y, scoring="neg_log_loss", n_repeats=3,
                               random_state=0)
    assert r.importances.shape == (3, 3)
    assert int(np.argmax(r.importances_mean)) == 0
    # a regressor on 2-D univariate input: one channel
    reg = RNNRegressor(max_iter=3, **FAST).fit(X[:, :, 0], X[:, :, 0].sum(1))
    assert permutation_importance(reg, X[:, :, 0], X[:, :, 0].sum(1),
                                  n_repeats=2).importances.shape == (1, 2)


def test_bad_arguments(channel0_data, channel0_clf):
    X, y = channel0_data
    with pytest.raises(ValueError, match="by must be 'channel' or 'segment'"):
        permutation_importance(channel0_clf, X, y, by="step")
    with pytest.raises(ValueError, match="n_segments"):
        permutation_importance(channel0_clf, X, y, by="segment", n_segments=0)


def test_plot(tmp_path, channel0_data, channel0_clf):
    pytest.importorskip("matplotlib")
    from skrnn.plotting import save_permutation_importance_plot

    X, y = channel0_data
    r = permutation_importance(channel0_clf, X, y, n_repeats=2, random_state=0)
    path = save_permutation_importance_plot(r, tmp_path / "imp.png", labels=["a", "b", "c"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="labels has 2 entries"):
        save_permutation_importance_plot(r, tmp_path / "x.png", labels=["a", "b"])


def test_bagging_predict_proba_on_ragged_sequences():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(4, 12), 2)) for _ in range(60)]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    proba, models = bagging_predict_proba(
        make_pipeline(SequenceScaler(), RNNClassifier(hidden_size=8, max_iter=10)),
        X, y, X, n_estimators=3, random_state=0,
    )
    assert proba.shape == (60, 2) and len(models) == 3
    np.testing.assert_allclose(proba.sum(1), 1.0)
    # each model has its own seed and sample, and the average is theirs
    seeds = {m[-1].random_state for m in models}
    assert len(seeds) == 3
    np.testing.assert_allclose(proba, np.mean([m.predict_proba(X) for m in models], axis=0))
    assert (proba.argmax(1) == y).mean() > 0.7
