"""SequenceScaler(per_sequence=True): each sequence standardised on its own
real steps, whatever its form (ragged, NaN-padded, with masked steps inside)."""

import numpy as np
import pytest

from skrnn import SequenceScaler


def test_each_sequence_is_standardised_on_its_own_steps():
    X = [np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 40.0]]), np.array([[4.0, 40.0], [6.0, 0.0]])]
    out = SequenceScaler(per_sequence=True).fit(X[:1]).transform(X)
    # hand-computed: (x - mean) / std of each sequence and feature
    np.testing.assert_allclose(out[0][:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    np.testing.assert_allclose(out[0][:, 1], [-np.sqrt(0.5), -np.sqrt(0.5), np.sqrt(2.0)])
    np.testing.assert_allclose(out[1], [[-1.0, 1.0], [1.0, -1.0]])
    # with_mean=False divides by the sequence's std, without centring
    np.testing.assert_allclose(SequenceScaler(per_sequence=True, with_mean=False)
                               .fit(X).transform(X)[1], [[4.0, 2.0], [6.0, 0.0]])


def test_padded_and_gappy_input_scale_like_ragged_input():
    rng = np.random.RandomState(0)
    X = [rng.normal(loc=5 * i, scale=i + 1, size=(n, 3)) for i, n in enumerate([4, 7, 2])]
    ragged = SequenceScaler(per_sequence=True).fit(X).transform(X)
    padded = np.full((3, 8, 3), np.nan)
    for i, x in enumerate(X):
        padded[i, 8 - len(x):] = x  # pre-padded
    out = SequenceScaler(per_sequence=True).fit(padded).transform(padded)
    for i, x in enumerate(X):
        np.testing.assert_allclose(out[i, 8 - len(x):], ragged[i])
        assert np.isnan(out[i, : 8 - len(x)]).all()
    gappy = [np.insert(x, 1, np.nan, axis=0) for x in X]
    out = SequenceScaler(per_sequence=True).fit(gappy).transform(gappy)
    for o, r in zip(out, ragged):
        np.testing.assert_allclose(np.delete(o, 1, axis=0), r)
        assert np.isnan(o[1]).all()
    # a constant sequence is centred, not divided by zero
    const = SequenceScaler(per_sequence=True).fit(X).transform([np.full((3, 3), 7.0)])
    np.testing.assert_array_equal(const[0], 0.0)


def test_inverse_transform_is_refused_and_input_untouched():
    X = np.arange(24, dtype=float).reshape(2, 4, 3)
    before = X.copy()
    sc = SequenceScaler(per_sequence=True).fit(X)
    sc.transform(X)
    np.testing.assert_array_equal(X, before)
    with pytest.raises(ValueError, match=r"per_sequence=True\) cannot inverse_transform"):
        sc.inverse_transform(X)
