"""data_format: aeon/sktime channels-first arrays, lists of (C, T_i) arrays
and pd-multiindex frames read as their users pass them; channels-last input
that looks transposed, with nothing saying its layout, is an error; outputs
mirror the input layout."""

import warnings

import numpy as np
import pandas as pd
import pytest

import skrnn
from skrnn import RNNClassifier, SequenceScaler
from skrnn._sequences.data import pad_values, to_sequences
from skrnn._sequences.targets import align_step_targets
from skrnn._sequences.data import validate_sequences

aeon_datasets = pytest.importorskip("aeon.datasets")

FAST = dict(hidden_size=4, max_iter=2, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def vowels():
    X, y = aeon_datasets.load_classification("JapaneseVowels", split="train")
    return X[:40], y[:40]


@pytest.fixture(scope="module")
def motions():
    X, y = aeon_datasets.load_classification("BasicMotions", split="train")
    return X[:12], y[:12]


def test_aeon_ragged_list_of_channels_first_arrays(vowels):
    X, _ = vowels
    assert isinstance(X, list) and X[0].shape[0] == 12
    seqs = to_sequences(X, data_format="channels_first", dtype=np.float64)
    assert seqs.n_features == 12 and seqs.n_samples == len(X)
    np.testing.assert_array_equal(seqs.lengths, [x.shape[1] for x in X])
    np.testing.assert_array_equal(seqs.to_list()[5], X[5])  # comes back (C, T_i)
    np.testing.assert_array_equal(seqs.values[: X[0].shape[1]], X[0].T)


def test_channels_first_list_read_channels_last_names_the_layout(vowels):
    X, _ = vowels
    with pytest.raises(ValueError, match="data_format='channels_first'"):
        to_sequences(X)


def test_aeon_3d_array_equals_its_transpose_read_channels_last(motions):
    X, _ = motions
    assert X.shape[1:] == (6, 100)
    first = to_sequences(X, data_format="channels_first", dtype=np.float64)
    last = to_sequences(X.transpose(0, 2, 1).copy(), dtype=np.float64)
    np.testing.assert_array_equal(first.values, last.values)
    np.testing.assert_array_equal(first.offsets, last.offsets)
    assert pad_values(first.values, first).shape == X.shape
    np.testing.assert_array_equal(pad_values(first.values, first), X)


def test_univariate_n_1_T(motions):
    X = motions[0][:, :1, :]  # (n, 1, T)
    seqs = to_sequences(X, data_format="channels_first")
    assert seqs.n_features == 1 and np.all(seqs.lengths == 100)
    with pytest.raises(ValueError, match="single time step.*data_format='channels_first'"):
        SequenceScaler().fit(X)
    wrong = to_sequences(X)  # said to be channels last: read as told
    assert wrong.n_features == 100 and np.all(wrong.lengths == 1)


def test_transposed_looking_input_is_an_error_unless_said():
    for est in (SequenceScaler(), RNNClassifier(**FAST)):
        with pytest.raises(ValueError, match=r"40 features per step but only 3 steps.*data_format"):
            est.fit(np.zeros((5, 3, 40)), [0, 1, 0, 1, 0])
    # said channels last (parameter or setting): read as told, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequenceScaler(data_format="channels_last").fit(np.zeros((5, 3, 40)))
        with skrnn.config_context(data_format="channels_last"):
            SequenceScaler().fit(np.zeros((5, 3, 40)))
        to_sequences(np.zeros((5, 3, 40)))
        SequenceScaler().fit(np.zeros((5, 20, 8)))  # plausible channels-last
        SequenceScaler().fit(np.zeros((5, 20, 100)))  # adding problem T=1000 patched by 50
        SequenceScaler(data_format="channels_first").fit(np.zeros((5, 40, 3)))
        SequenceScaler().fit(np.zeros((5, 40)))  # 2-D univariate has no channel axis


def test_estimator_on_channels_first_equals_channels_last(motions):
    X, y = motions
    a = RNNClassifier(**FAST).fit(X.transpose(0, 2, 1), y)
    b = RNNClassifier(**FAST)
    seqs = validate_sequences(b, X, reset=True, data_format="channels_first")
    assert b.n_features_in_ == 6 and seqs.n_features == 6
    np.testing.assert_allclose(
        a.predict_proba(X.transpose(0, 2, 1)),
        a.predict_proba([x.T for x in X]),
        atol=1e-6,
    )
    ref = to_sequences(X.transpose(0, 2, 1))
    np.testing.assert_array_equal(seqs.values, ref.values)


def test_pd_multiindex_frame_is_read_per_instance(motions):
    from aeon.utils.conversion import convert_collection

    X, _ = motions
    frame = convert_collection(X[:4], "pd-multiindex")
    assert isinstance(frame.index, pd.MultiIndex)
    seqs = to_sequences(frame, dtype=np.float64)
    np.testing.assert_array_equal(seqs.values, X[:4].transpose(0, 2, 1).reshape(-1, 6))
    # shuffled rows and ragged instances: instance order of first appearance, time-sorted
    rows = frame.sample(frac=1.0, random_state=0)
    rows = rows.drop(index=[(2, t) for t in range(50, 100)])
    seqs = to_sequences(rows, dtype=np.float64, data_format="channels_first")
    order = pd.unique(rows.index.get_level_values(0))
    lengths = {i: (50 if i == 2 else 100) for i in range(4)}
    np.testing.assert_array_equal(seqs.lengths, [lengths[i] for i in order])
    k = list(order).index(2)
    np.testing.assert_array_equal(seqs.to_list()[k], X[2, :, :50].T)
    est = RNNClassifier(**FAST)
    assert validate_sequences(est, frame, reset=True).n_samples == 4
    assert est.n_features_in_ == 6


def test_bad_multiindex_and_data_format_are_clear_errors(motions):
    from aeon.utils.conversion import convert_collection

    frame = convert_collection(motions[0][:2], "pd-multiindex")
    with pytest.raises(ValueError, match="duplicated"):
        to_sequences(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(ValueError, match="data_format must be"):
        to_sequences(np.zeros((2, 3, 1)), data_format="NCT")


def test_outputs_mirror_channels_first_layout(vowels):
    X, _ = vowels
    scaler = SequenceScaler()
    seqs = validate_sequences(scaler, X, reset=True, data_format="channels_first",
                              dtype=np.float64)
    out = pad_values(seqs.values * 2, seqs)
    assert [o.shape for o in out] == [x.shape for x in X]
    np.testing.assert_allclose(out[3], X[3] * 2)
    # per-step targets given channels first too: (n, n_outputs, T)
    arr = np.stack([x[:, :7] for x in X])  # (n, 12, 7)
    seqs = to_sequences(arr, data_format="channels_first")
    y = np.arange(arr.shape[0] * 2 * 7, dtype=float).reshape(-1, 2, 7)
    values, one_d = align_step_targets(y, seqs)
    assert not one_d
    np.testing.assert_array_equal(values, y.transpose(0, 2, 1).reshape(-1, 2))
    back = pad_values(values, seqs)
    np.testing.assert_array_equal(back, y)
    one = pad_values(values[:, :1], seqs, squeeze=True)  # 1-D per-step targets
    np.testing.assert_array_equal(one, y[:, 0, :])
    ragged = to_sequences([x[:, :5] for x in X[:3]], data_format="channels_first")
    out = pad_values(np.arange(15.0)[:, None], ragged, squeeze=True)
    assert [o.shape for o in out] == [(5,)] * 3


def test_masked_steps_in_channels_first_input():
    X = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)  # (n, C, T)
    X[0, :, 2] = np.nan  # a whole step in the middle
    seqs = to_sequences(X, data_format="channels_first", dtype=np.float64)
    np.testing.assert_array_equal(seqs.lengths, [4, 5])
    np.testing.assert_array_equal(pad_values(seqs.values, seqs), X)
    X[1, 0, 1] = np.nan  # one channel of a step
    with pytest.raises(ValueError, match=r"X\[1\] contains NaN at real time step 1 \(feature 0\)"):
        to_sequences(X, data_format="channels_first")


def test_short_windows_of_a_few_features_do_not_warn():
    # TimeSeriesWindower(window=1) output and length-1 ragged sequences are
    # legitimate channels-last input
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequenceScaler().fit(np.zeros((5, 1, 3)))
        SequenceScaler().fit([np.zeros((1, 4))] * 3)
    with pytest.raises(ValueError, match="single time step of 24 features"):
        SequenceScaler().fit(np.zeros((5, 1, 24)))  # ItalyPowerDemand's (n, 1, 24)


# ------------------------------------------------- the data_format parameter
def test_every_sequence_reader_takes_data_format():
    from skrnn import RNNRegressor, Seq2SeqTransformer, SequencePadder, SequencePatcher

    for cls in (RNNClassifier, RNNRegressor, Seq2SeqTransformer, SequencePadder,
                SequenceScaler, SequencePatcher):
        assert cls().get_params()["data_format"] is None, cls
    with pytest.raises(ValueError, match="data_format"):
        RNNClassifier(data_format="NCT").fit(np.zeros((4, 3, 2)), [0, 1, 0, 1])


def test_aeon_arrays_fit_as_aeon_users_pass_them(motions, vowels):
    X, y = motions
    first = RNNClassifier(**FAST, data_format="channels_first").fit(X, y)
    last = RNNClassifier(**FAST).fit(X.transpose(0, 2, 1), y)
    assert first.n_features_in_ == 6
    np.testing.assert_array_equal(
        first.predict_proba(X), last.predict_proba(X.transpose(0, 2, 1))
    )
    Xv, yv = vowels  # aeon's ragged list of (12, T_i)
    clf = RNNClassifier(**FAST, data_format="channels_first").fit(Xv, yv)
    assert clf.n_features_in_ == 12
    np.testing.assert_array_equal(
        clf.predict_proba(Xv),
        RNNClassifier(**FAST).fit([x.T for x in Xv], yv).predict_proba([x.T for x in Xv]),
    )


def test_per_step_predictions_and_transformers_keep_channels_first():
    from skrnn import RNNRegressor, SequencePadder

    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 3, 7))  # (n, C, T)
    X[0, :, 5:] = np.nan  # a shorter sequence, padded at the end
    reg = RNNRegressor(**FAST, return_sequences=True, data_format="channels_first")
    pred = reg.fit(X, np.nan_to_num(X[:, 0, :])).predict(X)
    assert pred.shape == (12, 7) and np.isnan(pred[0, 5:]).all()
    ragged = [rng.normal(size=(3, t)) for t in (5, 2)]
    padded = SequencePadder(data_format="channels_first").fit_transform(ragged)
    assert padded.shape == (2, 3, 5) and np.isnan(padded[1, :, 2:]).all()
    np.testing.assert_array_equal(padded[1, :, :2], ragged[1])
    scaled = SequenceScaler(data_format="channels_first").fit(X)
    assert scaled.mean_.shape == (3,)
    np.testing.assert_allclose(scaled.mean_, np.nanmean(X.transpose(0, 2, 1).reshape(-1, 3), 0))
