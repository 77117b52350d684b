"""predict_proba rows sum to 1 in float64 (normalised after the float32
softmax is cast), so scikit-learn's log_loss and neg_log_loss scoring do not
warn that y_prob values do not sum to one."""

import warnings

import numpy as np
from sklearn.metrics import log_loss
from sklearn.model_selection import cross_validate

from skrnn import RNNClassifier


def _data(n=90, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(4, 12), 3)) for _ in range(n)]
    y = np.array([int(np.argmax(x.mean(0))) for x in X])  # three classes
    return X, y


def test_probabilities_sum_to_one_in_float64():
    X, y = _data()
    clf = RNNClassifier(hidden_size=16, max_iter=5, random_state=0, device="cpu").fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (90, 3)
    # float32 softmax rows are off by up to ~1e-7; float64 rounding is 1e-16
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(np.float64).eps)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*sum to one.*")
        loss = log_loss(y, proba, labels=clf.classes_)
    assert np.isfinite(loss)


def test_neg_log_loss_scoring_raises_no_warning():
    X, y = _data()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        scores = cross_validate(
            RNNClassifier(hidden_size=8, max_iter=3, random_state=0, device="cpu"),
            X, y, cv=3, scoring="neg_log_loss", error_score="raise",
        )["test_score"]
    assert np.isfinite(scores).all() and (scores < 0).all()
    assert not [w for w in rec if "sum to one" in str(w.message)]
