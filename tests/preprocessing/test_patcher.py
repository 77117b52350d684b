"""SequencePatcher: hand-worked patches, ragged / padded / masked input,
remainder policy, inverse, feature names, layouts and sklearn's checks."""

import doctest

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks


from skrnn import RNNClassifier
from skrnn.preprocessing import _patcher as _patcher
from skrnn.preprocessing._patcher import SequencePatcher

@parametrize_with_checks(
    [SequencePatcher(patch_size=2), SequencePatcher(patch_size=2, stride=1)],
)  # no expected failures
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


def test_hand_worked_patches():
    X = [np.array([[1.0, 10], [2, 20], [3, 30], [4, 40], [5, 50]]), np.array([[6.0, 60]])]
    out = SequencePatcher(patch_size=2).fit_transform(X)
    np.testing.assert_array_equal(out[0], [[1, 10, 2, 20], [3, 30, 4, 40], [5, 50, 5, 50]])
    np.testing.assert_array_equal(out[1], [[6, 60, 6, 60]])
    out = SequencePatcher(patch_size=2, remainder="drop").fit_transform(X[:1])
    np.testing.assert_array_equal(out[0], [[1, 10, 2, 20], [3, 30, 4, 40]])
    # overlapping: stride 1 gives T - P + 1 patches
    out = SequencePatcher(patch_size=3, stride=1).fit_transform([np.arange(5.0)])
    np.testing.assert_array_equal(out[0], [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    # stride 2 over 6 steps with P=3: [0..2], [2..4], then [4, 5, 5] padded
    out = SequencePatcher(patch_size=3, stride=2).fit_transform([np.arange(6.0)])
    np.testing.assert_array_equal(out[0], [[0, 1, 2], [2, 3, 4], [4, 5, 5]])
    out = SequencePatcher(patch_size=3, stride=2, remainder="drop").fit_transform([np.arange(6.0)])
    np.testing.assert_array_equal(out[0], [[0, 1, 2], [2, 3, 4]])


def test_padded_and_masked_input_give_the_ragged_answer():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 2)) for n in (7, 3, 9, 4)]
    ragged = SequencePatcher(patch_size=3).fit_transform(X)
    T = 9
    post = np.full((4, T, 2), np.nan)
    pre = np.full((4, T, 2), np.nan)
    for i, x in enumerate(X):
        post[i, :len(x)] = x
        pre[i, T - len(x):] = x
    for padded in (post, pre):
        out = SequencePatcher(patch_size=3).fit_transform(padded)
        assert out.shape == (4, 3, 6)
        for i, r in enumerate(ragged):
            np.testing.assert_array_equal(out[i, :len(r)], r)
            assert np.isnan(out[i, len(r):]).all()
    gappy = [np.insert(x, 1, np.nan, axis=0) for x in X]  # a masked step is skipped
    for a, b in zip(SequencePatcher(patch_size=3).fit_transform(gappy), ragged):
        np.testing.assert_array_equal(a, b)
    assert not any(np.isnan(r).any() for r in ragged)  # padded patches hold no NaN


def test_univariate_table_and_channels_first():
    X = np.arange(12.0).reshape(2, 6)
    out = SequencePatcher(patch_size=4).fit_transform(X)
    np.testing.assert_array_equal(out[0], [[0, 1, 2, 3], [4, 5, 5, 5]])
    cf = np.arange(24.0).reshape(2, 2, 6)  # (n, C, T)
    patcher = SequencePatcher(patch_size=3, data_format="channels_first").fit(cf)
    out = patcher.transform(cf)
    assert out.shape == (2, 6, 2)  # (n, patch_size * C, n_patches)
    np.testing.assert_array_equal(out[0][:, 0], [0, 6, 1, 7, 2, 8])
    np.testing.assert_array_equal(patcher.inverse_transform(out), cf)


def test_inverse_transform_round_trip():
    rng = np.random.RandomState(1)
    X = [rng.normal(size=(n, 3)) for n in (6, 9, 3)]
    patcher = SequencePatcher(patch_size=3).fit(X)
    back = patcher.inverse_transform(patcher.transform(X))
    for a, b in zip(back, X):
        np.testing.assert_array_equal(a, b)
    # a padded last patch comes back with its repeated step
    back = SequencePatcher(patch_size=4).fit([X[0]]).inverse_transform(
        SequencePatcher(patch_size=4).fit_transform([X[0]]))
    np.testing.assert_array_equal(back[0], np.vstack([X[0], X[0][-1:], X[0][-1:]]))
    X2 = np.arange(12.0).reshape(2, 6)
    p2 = SequencePatcher(patch_size=2).fit(X2)
    np.testing.assert_array_equal(p2.inverse_transform(p2.transform(X2)), X2)
    with pytest.raises(ValueError, match="stride == patch_size"):
        SequencePatcher(patch_size=3, stride=1).fit(X).inverse_transform(X)
    with pytest.raises(ValueError, match="patch_size \\* n_features = 9"):
        patcher.inverse_transform(X)


def test_clear_errors():
    with pytest.raises(ValueError, match=r"X\[1\] has 2 real steps, fewer than patch_size=3"):
        SequencePatcher(patch_size=3, remainder="drop").fit([np.ones(4), np.ones(2)])
    with pytest.raises(ValueError, match="patch_size"):
        SequencePatcher(patch_size=0).fit([np.ones(4)])
    patcher = SequencePatcher(patch_size=2).fit(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="fitted with 3"):
        patcher.transform(np.ones((2, 4, 2)))


def test_feature_names():
    patcher = SequencePatcher(patch_size=2).fit(np.ones((2, 4, 2)))
    assert patcher.get_feature_names_out().tolist() == ["x0_0", "x1_0", "x0_1", "x1_1"]
    assert patcher.get_feature_names_out(["a", "b"]).tolist() == ["a_0", "b_0", "a_1", "b_1"]
    with pytest.raises(ValueError, match="one per feature"):
        patcher.get_feature_names_out(["a"])


def test_in_a_pipeline_with_ragged_input():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 1)) + 2 * (i % 2) for i, n in enumerate(rng.randint(20, 40, size=30))]
    y = np.arange(30) % 2
    pipe = make_pipeline(
        SequencePatcher(patch_size=5),
        RNNClassifier(hidden_size=8, max_iter=30, random_state=0, device="cpu"),
    ).fit(X, y)
    assert pipe[-1].n_features_in_ == 5
    assert pipe.score(X, y) >= 0.9  # the level shift is easy to see


def test_docstring_example_runs():
    # the class lives in skrnn.preprocessing._patcher but is published as skrnn.preprocessing's
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(SequencePatcher, globs=vars(_patcher)):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 5 and result.failed == 0
