"""Keras masking semantics: a step whose features ALL equal ``mask_value`` is
skipped wherever it sits (the state carries over, so it is exactly the
sequence without that step); a step with only some features missing is an
error; per-step outputs come back with NaN at skipped steps."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimators_pickle

from skrnn import RNNClassifier, RNNRegressor, SequencePadder, SequenceScaler
from skrnn._sequences.data import pad_values, to_sequences
from skrnn._sequences.targets import align_step_targets

FAST = dict(hidden_size=5, max_iter=3, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(int(n), 2)) for n in rng.randint(3, 8, size=16)]
    y = np.arange(16) % 2
    return X, y


@pytest.fixture(scope="module")
def clf(data):
    X, y = data
    return RNNClassifier(**FAST).fit(X, y)


def _with_gaps(X, where, value=np.nan):
    """Insert one all-``value`` step before step ``where[i]`` of sample i."""
    return [np.insert(x, min(w, len(x)), value, axis=0) for x, w in zip(X, where)]


def _pad(X, value=np.nan, pre=False):
    T = max(len(x) for x in X)
    out = np.full((len(X), T, X[0].shape[1]), value)
    for i, x in enumerate(X):
        out[i, T - len(x):] = x if pre else out[i, T - len(x):]
        if not pre:
            out[i, :len(x)] = x
    return out


def test_a_masked_step_in_the_middle_is_removed_from_the_sequence(clf, data):
    X, _ = data
    expected = clf.predict_proba(X)
    gappy = _with_gaps(X, [1 + i % 3 for i in range(len(X))])
    np.testing.assert_allclose(clf.predict_proba(gappy), expected, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(_pad(gappy)), expected, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(_pad(gappy, pre=True)), expected, atol=1e-6)
    # several masked steps in a row, and at both ends at once
    twice = _with_gaps(_with_gaps(X, [2] * len(X)), [2] * len(X))
    ends = [np.vstack([np.full((1, 2), np.nan), x, np.full((2, 2), np.nan)]) for x in twice]
    np.testing.assert_allclose(clf.predict_proba(ends), expected, atol=1e-6)


def test_mask_value_other_than_nan_skips_middle_steps(data):
    X, y = data
    clf = RNNClassifier(**FAST, mask_value=-99.0).fit(X, y)
    gappy = _with_gaps(X, [1] * len(X), value=-99.0)
    np.testing.assert_allclose(clf.predict_proba(gappy), clf.predict_proba(X), atol=1e-6)
    # a step equal to the mask value in only one feature is real
    partial = [np.insert(x, 1, [-99.0, 0.5], axis=0) for x in X]
    assert not np.allclose(clf.predict_proba(partial), clf.predict_proba(X), atol=1e-3)


def test_training_on_gappy_data_equals_training_on_compact_data(data):
    X, y = data
    gappy = _with_gaps(X, [2] * len(X))
    a = RNNClassifier(**FAST).fit(X, y)
    b = RNNClassifier(**FAST).fit(_pad(gappy), y)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-5)


def test_sequence_lengths_skip_masked_steps_within_them(clf, data):
    X, _ = data
    gappy = _with_gaps(X, [1] * len(X))
    padded = _pad(gappy, value=7.0)  # garbage beyond the lengths
    for i, x in enumerate(gappy):
        padded[i, 1] = np.nan  # the inserted step stays an all-NaN step
    lengths = [len(x) for x in gappy]
    np.testing.assert_allclose(
        clf.predict_proba(padded, sequence_lengths=lengths), clf.predict_proba(X), atol=1e-6
    )


def test_partly_missing_step_names_sample_step_and_feature():
    X = np.ones((3, 6, 3))
    X[2, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[2\] contains NaN at real time step 4 \(feature 1\)"):
        to_sequences(X)
    ragged = [np.ones((3, 2)), np.array([[1.0, 1.0], [np.nan, np.nan], [1.0, np.nan]])]
    with pytest.raises(ValueError, match=r"X\[1\] contains NaN at real time step 2 \(feature 1\)"):
        to_sequences(ragged)
    with pytest.raises(ValueError, match="ALL its features"):
        RNNClassifier(**FAST).fit(X, [0, 1, 0])


def test_sequence_with_no_real_step_is_an_error():
    X = np.ones((3, 4, 2))
    X[1] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\] has no real time steps"):
        to_sequences(X)
    with pytest.raises(ValueError, match=r"X\[1\] has no real time steps within its sequence_lengths"):
        to_sequences(np.where(np.arange(4)[None, :, None] < 2, np.nan, 1.0) + np.zeros((3, 4, 2)),
                     sequence_lengths=[4, 2, 4])
    with pytest.raises(ValueError, match=r"X\[0\] has no real time steps"):
        to_sequences([np.full((3, 1), np.nan), np.ones((2, 1))])


def test_skipped_steps_are_recorded_and_put_back():
    X = np.arange(24, dtype=float).reshape(2, 4, 3)
    X[0, 1] = np.nan
    X[1, 0] = np.nan
    X[1, 2] = np.nan
    seqs = to_sequences(X, dtype=np.float64)
    np.testing.assert_array_equal(seqs.lengths, [3, 2])
    np.testing.assert_array_equal(seqs.positions, [0, 2, 3, 1, 3])
    np.testing.assert_array_equal(pad_values(seqs.values, seqs), X)
    np.testing.assert_array_equal(seqs.subset([1]).positions, [1, 3])
    # ragged input: from the first to the last real step, NaN in between
    ragged = [np.array([np.nan, 1.0, np.nan, 2.0, np.nan]), np.array([3.0, 4.0])]
    seqs = to_sequences(ragged, dtype=np.float64)
    out = seqs.to_list()
    np.testing.assert_array_equal(out[0][:, 0], [1.0, np.nan, 2.0])
    np.testing.assert_array_equal(out[1][:, 0], [3.0, 4.0])


def test_per_step_outputs_are_nan_at_skipped_steps(data):
    X, _ = data
    y_steps = [x[:, 0] * 2 for x in X]
    reg = RNNRegressor(**FAST, return_sequences=True).fit(X, y_steps)
    compact = reg.predict(X)
    gappy = _with_gaps(X, [1] * len(X))
    out = reg.predict(_pad(gappy))
    for i, x in enumerate(X):
        assert np.isnan(out[i, 1]) and np.isnan(out[i, len(x) + 1:]).all()
        np.testing.assert_allclose(np.delete(out[i, :len(x) + 1], 1), compact[i], atol=1e-5)
    ragged_out = reg.predict(gappy)
    assert [len(r) for r in ragged_out] == [len(g) for g in gappy]
    assert all(np.isnan(r[1]) for r in ragged_out)


def test_step_targets_at_skipped_steps_are_dropped(data):
    X, _ = data
    gappy = _with_gaps(X, [1] * len(X))
    y_compact = [x[:, 0] * 2 for x in X]
    y_gappy = [np.insert(t, 1, np.nan) for t in y_compact]  # NaN at the skipped step
    values, one_d = align_step_targets(y_gappy, to_sequences(gappy))
    assert one_d
    np.testing.assert_allclose(values[:, 0], np.concatenate(y_compact), rtol=1e-6)
    a = RNNRegressor(**FAST, return_sequences=True).fit(X, y_compact)
    b = RNNRegressor(**FAST, return_sequences=True).fit(_pad(gappy), _pad(
        [t[:, None] for t in y_gappy])[:, :, 0])
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-5)
    bad = [t.copy() for t in y_gappy]
    bad[3][0] = np.nan  # at a real step
    with pytest.raises(ValueError, match="NaN or infinity at real time steps"):
        align_step_targets(bad, to_sequences(gappy))


def test_scaler_leaves_skipped_steps_nan_and_ignores_them():
    X = np.array([[[1.0], [np.nan], [3.0]], [[5.0], [7.0], [np.nan]]])
    scaler = SequenceScaler().fit(X)
    np.testing.assert_allclose(scaler.mean_, [4.0])
    out = scaler.transform(X)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(X))
    np.testing.assert_allclose(scaler.inverse_transform(out), X)


@pytest.mark.parametrize("readonly_memmap", [False, True])
@pytest.mark.parametrize(
    "estimator",
    [RNNClassifier(**FAST), RNNRegressor(**FAST), SequenceScaler(), SequencePadder()],
    ids=lambda e: type(e).__name__,
)
def test_sklearn_nan_pickle_check_passes(estimator, readonly_memmap):
    # the check scatters 10 NaN in a 2-D table read as (n_samples, n_timesteps):
    # each is a whole (one-feature) step, skipped as Keras' Masking would
    assert estimator.__sklearn_tags__().input_tags.allow_nan
    check_estimators_pickle(type(estimator).__name__, estimator, readonly_memmap=readonly_memmap)


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("truncating", ["post", "pre"])
def test_repad_keeps_skipped_steps_in_place(padding, truncating):
    """What SequencePadder needs: Keras pad_sequences on each sample's span."""
    ragged = [np.array([np.nan, 1.0, np.nan, 2.0, 3.0, np.nan]), np.array([4.0]),
              np.array([5.0, 6.0, np.nan, np.nan, 7.0])]
    seqs = to_sequences(ragged, dtype=np.float64)
    spans = [x[0][:, 0] for x in [seqs.subset([i]).to_list() for i in range(3)]]
    for maxlen in (2, 3, 4, 6):
        framed = seqs.repad(maxlen, padding=padding, truncating=truncating)
        out = pad_values(framed.values, framed)
        np.testing.assert_array_equal(
            out[:, :, 0], _pad_sequences(spans, maxlen, padding, truncating), err_msg=str(maxlen)
        )


def _pad_sequences(spans, maxlen, padding, truncating):
    """Reference: Keras pad_sequences over per-sample 1-D spans, NaN padding."""
    out = np.full((len(spans), maxlen), np.nan)
    for i, s in enumerate(spans):
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "pre":
            out[i, maxlen - len(s):] = s
        else:
            out[i, :len(s)] = s
    return out
