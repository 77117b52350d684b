"""Bad input gets a clear ValueError/TypeError naming the problem, and the
caller's data is never modified."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skrnn import RNNClassifier, RNNRegressor
from skrnn._sequences.data import to_sequences

FAST = dict(hidden_size=4, max_iter=2, random_state=0, device="cpu")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 6, 3))
    y = np.arange(20) % 2
    return RNNClassifier(**FAST).fit(X, y), X, y


def test_partly_nan_step_inside_a_sequence_is_located():
    X = np.random.RandomState(0).normal(size=(5, 6, 2))
    X[3, 2, 1] = np.nan  # one feature of a step: an error (a whole NaN step is skipped)
    with pytest.raises(ValueError, match=r"X\[3\] contains NaN at real time step 2 \(feature 1\)"):
        RNNClassifier(**FAST).fit(X, np.arange(5) % 2)
    X[3, 2, 0] = np.nan  # now the whole step: skipped, like Keras' Masking
    RNNClassifier(**FAST).fit(X, np.arange(5) % 2)


def test_partially_nan_padding_step_is_an_error():
    X = np.random.RandomState(0).normal(size=(5, 6, 2))
    X[1, -1, 0] = np.nan  # only one feature of the last step
    with pytest.raises(ValueError, match=r"X\[1\] contains NaN"):
        RNNClassifier(**FAST).fit(X, np.arange(5) % 2)


def test_infinity_is_an_error_even_with_nan_mask():
    X = np.random.RandomState(0).normal(size=(5, 6, 2))
    X[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        RNNClassifier(**FAST).fit(X, np.arange(5) % 2)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros(5), "1-D array"),
        (np.zeros((2, 2, 2, 2)), "4 dimension"),
        (np.zeros((0, 3, 2)), "empty"),
    ],
)
def test_wrong_dimensions(X, match):
    with pytest.raises(ValueError, match=match):
        to_sequences(X)


def test_ragged_feature_counts_must_agree():
    X = [np.zeros((3, 2)), np.zeros((4, 2)), np.zeros((2, 5))]
    with pytest.raises(ValueError, match=r"X\[2\] has 5 features, X\[0\] has 2"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0])


def test_zero_length_sequences():
    with pytest.raises(ValueError, match=r"X\[1\] is an empty sequence"):
        RNNClassifier(**FAST).fit([np.zeros((3, 2)), np.zeros((0, 2))], [0, 1])
    X = np.ones((3, 4, 2))
    X[2] = np.nan  # all padding
    with pytest.raises(ValueError, match=r"X\[2\] has no real time steps"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0])


def test_feature_count_at_predict(fitted):
    clf, X, _ = fitted
    with pytest.raises(ValueError, match="X has 2 features per time step, but RNNClassifier was fitted with 3"):
        clf.predict(X[:, :, :2])
    with pytest.raises(ValueError, match="fitted with 3"):
        clf.predict([np.zeros((4, 5))])


def test_float_input_where_token_ids_are_expected():
    X = [np.array([1.5, 2.0]), np.array([3.0, 1.0])]
    with pytest.raises(TypeError, match="integer token ids"):
        RNNClassifier(embedding_dim=4, **FAST).fit(X, [0, 1])
    with pytest.raises(ValueError, match="negative token ids"):
        RNNClassifier(embedding_dim=4, **FAST).fit([np.array([1, -2]), np.array([3])], [0, 1])


def test_y_of_the_wrong_length(fitted):
    _, X, y = fitted
    with pytest.raises(ValueError, match="20 sequences"):
        RNNClassifier(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="20 sequences"):
        RNNRegressor(**FAST).fit(X, y[:-1].astype(float))
    with pytest.raises(ValueError, match="y is None"):
        RNNClassifier(**FAST).fit(X, None)


def test_continuous_y_for_classifier():
    X = np.zeros((6, 3, 1))
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNClassifier(**FAST).fit(X, np.linspace(0, 1, 6))


def test_bad_sequence_lengths():
    X = np.zeros((3, 4, 2))
    with pytest.raises(ValueError, match="one entry per sample"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0], sequence_lengths=[1, 2])
    with pytest.raises(ValueError, match=r"sequence_lengths\[1\] = 9 is outside \[1, 4\]"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0], sequence_lengths=[1, 9, 2])
    with pytest.raises(ValueError, match="ragged input"):
        RNNClassifier(**FAST).fit([np.zeros((2, 1))] * 2, [0, 1], sequence_lengths=[2, 2])


def test_bad_sample_weight():
    X = np.zeros((4, 3, 1))
    with pytest.raises(ValueError, match="sample_weight"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0, 1], sample_weight=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0, 1], sample_weight=[1, -1, 1, 1])


def test_sparse_and_strings_rejected():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="[Ss]parse"):
        RNNClassifier(**FAST).fit(sp.csr_matrix(np.ones((4, 3))), [0, 1, 0, 1])
    with pytest.raises((TypeError, ValueError)):
        RNNClassifier(**FAST).fit([np.array(["a", "b"])] * 2, [0, 1])


def test_unfitted_estimator():
    with pytest.raises(NotFittedError):
        RNNClassifier().predict(np.zeros((2, 3, 1)))


def test_caller_arrays_are_not_modified():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 5, 2))
    X[:4, -2:] = np.nan  # padding
    ragged = [rng.normal(size=(n, 2)) for n in range(2, 14)]
    y = np.arange(12) % 2
    sw = np.linspace(0.5, 2, 12)
    copies = [X.copy(), [r.copy() for r in ragged], y.copy(), sw.copy()]
    clf = RNNClassifier(**FAST).fit(X, y, sample_weight=sw)
    clf.predict(X)
    RNNClassifier(**FAST).fit(ragged, y).predict(ragged)
    np.testing.assert_array_equal(X, copies[0])
    for a, b in zip(ragged, copies[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(y, copies[2])
    np.testing.assert_array_equal(sw, copies[3])
