"""The estimators inside scikit-learn's machinery: clone, Pipeline,
GridSearchCV (3-D, ragged, sequence_lengths as a fit parameter),
cross_val_score, pickle, label types, DataFrames."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from conftest import TINY, ragged_labelled
from skrnn import RNNClassifier, RNNRegressor

FAST = dict(TINY, max_iter=4)
pytestmark = pytest.mark.usefixtures("quiet")


def ragged(n=48, seed=0):
    return ragged_labelled(n, F=2, seed=seed, lo=2, hi=10)


def zero_padded(X):
    """Post-pad with zeros (a real value, so lengths must be given)."""
    lengths = np.array([len(x) for x in X])
    padded = np.zeros((len(X), lengths.max(), X[0].shape[1]))
    for i, x in enumerate(X):
        padded[i, : len(x)] = x
    return padded, lengths


def test_clone_keeps_params_and_drops_fit():
    clf = RNNClassifier(cell="gru", hidden_size=7, class_weight="balanced")
    X, y = ragged()
    fitted = clone(clf).fit(X, y)
    c = clone(fitted)
    assert c.get_params() == clf.get_params()
    assert not hasattr(c, "module_")
    reg = RNNRegressor(return_sequences=True, bidirectional=True)
    assert clone(reg).get_params()["return_sequences"] is True


def test_params_are_keyword_only_and_unknown_values_rejected():
    with pytest.raises(TypeError):
        RNNClassifier("lstm")
    with pytest.raises(TypeError):
        RNNClassifier(hiden_size=3)
    X, y = ragged()
    with pytest.raises(ValueError, match="cell"):
        RNNClassifier(cell="transformer").fit(X, y)
    with pytest.raises(ValueError, match="pooling"):
        RNNClassifier(pooling="sum").fit(X, y)
    with pytest.raises(ValueError, match="hidden_size"):
        RNNRegressor(hidden_size=0).fit(X, y)


def test_pipeline_and_cross_val_score_on_3d():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 6, 3))
    y = (X[:, :, 0].sum(1) > 0).astype(int)
    scale = FunctionTransformer(lambda Z: Z * 2.0)
    pipe = make_pipeline(scale, RNNClassifier(**FAST))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))


def test_grid_search_on_3d_and_ragged():
    rng = np.random.RandomState(0)
    X3 = rng.normal(size=(48, 5, 2))
    y = (X3[:, :, 0].sum(1) > 0).astype(int)
    grid = {"hidden_size": [4, 8], "cell": ["lstm", "gru"]}
    gs = GridSearchCV(RNNClassifier(max_iter=3, random_state=0), grid, cv=2).fit(X3, y)
    assert set(gs.best_params_) == {"hidden_size", "cell"}
    assert len(gs.cv_results_["mean_test_score"]) == 4

    X, y = ragged()
    gs = GridSearchCV(RNNClassifier(max_iter=3, random_state=0), {"pooling": ["last", "mean"]}, cv=2)
    gs.fit(X, y)
    assert gs.predict(X).shape == (len(X),)


def test_grid_search_with_sequence_lengths_fit_param():
    X, y = ragged()
    padded, lengths = zero_padded(X)
    est = RNNClassifier(mask_value=None, max_iter=3, random_state=0)
    gs = GridSearchCV(est, {"hidden_size": [4, 8]}, cv=KFold(2), refit=True)
    # without metadata routing the lengths reach fit but not scoring: warned
    with pytest.warns(UserWarning, match="fitted with sequence_lengths.*metadata routing"):
        gs.fit(padded, y, sequence_lengths=lengths)
    # the refit model saw the lengths: same as fitting on the ragged list
    ref = RNNClassifier(max_iter=3, random_state=0, hidden_size=gs.best_params_["hidden_size"])
    ref.fit(X, y)
    np.testing.assert_allclose(
        gs.best_estimator_.predict_proba(padded, sequence_lengths=lengths),
        ref.predict_proba(X), rtol=1e-5, atol=1e-6,
    )


def test_sequence_lengths_routed_to_score_with_metadata_routing():
    X, y = ragged()
    padded, lengths = zero_padded(X)
    with sklearn.config_context(enable_metadata_routing=True):
        est = RNNClassifier(mask_value=None, max_iter=3, random_state=0)
        est.set_fit_request(sequence_lengths=True).set_score_request(sequence_lengths=True)
        routed = cross_val_score(est, padded, y, cv=KFold(2), params={"sequence_lengths": lengths})
    plain = cross_val_score(RNNClassifier(max_iter=3, random_state=0), X, y, cv=KFold(2))
    np.testing.assert_allclose(routed, plain)


def test_dropout_without_stacked_layers_warns():
    X, y = ragged()
    with pytest.warns(UserWarning, match="dropout=0.3 has no effect with num_layers=1"):
        RNNClassifier(**{**FAST, "dropout": 0.3}).fit(X, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="dropout")
        RNNClassifier(**{**FAST, "dropout": 0.3, "num_layers": 2}).fit(X, y)


def test_string_and_non_contiguous_labels():
    X, y = ragged()
    names = np.array(["cat", "dog"])[y]
    clf = RNNClassifier(**FAST).fit(X, names)
    assert set(clf.predict(X)) <= {"cat", "dog"}
    assert list(clf.classes_) == ["cat", "dog"]
    odd = np.array([-5, 40, 7])[np.arange(len(X)) % 3]
    clf = RNNClassifier(**FAST).fit(X, odd)
    assert list(clf.classes_) == [-5, 7, 40]
    assert set(clf.predict(X)) <= {-5, 7, 40}
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_pickle_round_trip_identical_predictions():
    X, y = ragged()
    for est in (RNNClassifier(bidirectional=True, **FAST), RNNRegressor(pooling="attention", **FAST)):
        target = y if isinstance(est, RNNClassifier) else y.astype(float)
        est.fit(X, target)
        loaded = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_dataframe_input_keeps_feature_names():
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(30, 4)), columns=[f"t{i}" for i in range(4)])
    y = (df.sum(axis=1) > 0).astype(int)
    clf = RNNClassifier(**FAST).fit(df, y)
    assert list(clf.feature_names_in_) == list(df.columns)
    assert clf.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(df.to_numpy())
    # refitting on a list forgets the column names
    X, y2 = ragged()
    clf.fit(X, y2)
    assert not hasattr(clf, "feature_names_in_") and clf.n_features_in_ == 2
