"""Behaviour of RNNClassifier / RNNRegressor: variable-length equivalences,
the engine's features, and learning on real data."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from conftest import TINY
from conftest import ragged_labelled as ragged_data
from skrnn import RNNClassifier, RNNRegressor

def paddings(X, value=np.nan):
    """The same sequences post-padded, pre-padded, and zero-padded + lengths."""
    n, T, F = len(X), max(len(x) for x in X), X[0].shape[1]
    post = np.full((n, T, F), value)
    pre = post.copy()
    for i, x in enumerate(X):
        post[i, : len(x)] = x
        pre[i, T - len(x) :] = x
    zero = np.nan_to_num(post, nan=0.0)
    return post, pre, zero, np.array([len(x) for x in X])


@pytest.fixture(scope="module")
def digits(digits_sequences):
    X, y = digits_sequences
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_ragged_padded_masked_and_lengths_agree(cell, bidirectional):
    X, y = ragged_data()
    clf = RNNClassifier(cell=cell, bidirectional=bidirectional, num_layers=2, **TINY).fit(X, y)
    post, pre, zero, lengths = paddings(X)
    expected = clf.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(post), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(pre), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        clf.predict_proba(zero, sequence_lengths=lengths), expected, rtol=1e-5, atol=1e-6
    )
    # each prediction equals the sequence predicted alone (batching is exact)
    alone = np.vstack([clf.predict_proba([x]) for x in X[:8]])
    np.testing.assert_allclose(alone, expected[:8], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding", ["post", "pre", "lengths"])
def test_fitting_on_any_padding_equals_fitting_on_ragged(padding):
    X, y = ragged_data(seed=1)
    post, pre, zero, lengths = paddings(X, value=-1.0)
    ref = RNNClassifier(pooling="mean", **TINY).fit(X, y).predict_proba(X)
    if padding == "lengths":
        clf = RNNClassifier(pooling="mean", mask_value=None, **TINY)
        clf.fit(zero, y, sequence_lengths=lengths)
    else:
        clf = RNNClassifier(pooling="mean", mask_value=-1.0, **TINY)
        clf.fit(post if padding == "post" else pre, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref, rtol=1e-5, atol=1e-6)


def test_keras_zero_padding_and_mask_none():
    X, y = ragged_data(seed=2)
    _, _, zero, _ = paddings(X)
    clf = RNNClassifier(mask_value=0.0, **TINY).fit(zero, y)
    np.testing.assert_allclose(clf.predict_proba(zero), clf.predict_proba(X), rtol=1e-5, atol=1e-6)
    unmasked = RNNClassifier(mask_value=None, **TINY).fit(zero, y)
    # without a mask the zeros are read as data, which changes the result
    assert not np.allclose(unmasked.predict_proba(zero), unmasked.predict_proba(X), atol=1e-4)


def test_pandas_series_of_arrays_is_ragged_input():
    pd = pytest.importorskip("pandas")
    X, y = ragged_data(seed=3)
    clf = RNNClassifier(**TINY).fit(pd.Series(X), y)
    np.testing.assert_allclose(clf.predict_proba(pd.Series(X)), clf.predict_proba(X))


def test_digits_learning_quality(digits):
    X_train, X_test, y_train, y_test = digits
    clf = RNNClassifier(hidden_size=32, max_iter=10, learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert list(clf.classes_) == list(range(10))


def test_same_seed_same_model_and_global_rng_untouched():
    import torch

    X, y = ragged_data()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = RNNClassifier(dropout=0.2, num_layers=2, **TINY).fit(X, y).predict_proba(X)
    after = torch.rand(1)
    b = RNNClassifier(dropout=0.2, num_layers=2, **TINY).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(before, after)  # fit did not consume the global torch RNG
    c = RNNClassifier(dropout=0.2, num_layers=2, **{**TINY, "random_state": 1}).fit(X, y)
    assert not np.allclose(c.predict_proba(X), a)


def test_early_stopping_restores_best_weights():
    X, y = ragged_data(n=120, seed=4)
    clf = RNNClassifier(
        hidden_size=8, max_iter=200, early_stopping=True, n_iter_no_change=3,
        validation_fraction=0.25, learning_rate_init=5e-2, random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_early_stopping_on_tiny_data():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 4, 2)), np.arange(40) % 2
    # the validation split never holds fewer than 20 samples
    clf = RNNClassifier(early_stopping=True, **TINY).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.validation_loss_curve_)
    assert all(s in np.arange(21) / 20 for s in clf.validation_scores_)
    # under 40 samples, fewer would remain for training than for validation:
    # a warning, and the fit trains on every sample without a split
    for n in (39, 10):
        with pytest.warns(UserWarning, match="validation set of at least 20 samples"):
            clf = RNNClassifier(early_stopping=True, **TINY).fit(X[:n], y[:n])
        assert clf.validation_scores_ is None and clf.best_validation_score_ is None
        assert clf.n_iter_ == len(clf.loss_curve_) >= 1


def test_convergence_warning_and_tol_stop():
    X, y = ragged_data()
    with pytest.warns(ConvergenceWarning):
        RNNClassifier(**TINY).fit(X, y)
    clf = RNNClassifier(hidden_size=8, max_iter=500, tol=10.0, n_iter_no_change=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    # no gain of tol=10 is possible, so the rule stops 2 epochs after the
    # first epoch whose loss is below the plateau floor (0.9 x class-prior loss)
    p = np.bincount(y) / len(y)
    floor = 0.9 * -(p * np.log(p)).sum()
    below = next(i for i, loss in enumerate(clf.loss_curve_) if loss <= floor)
    assert clf.n_iter_ == below + 2
    assert all(loss > floor for loss in clf.loss_curve_[:below])


def test_warm_start_and_partial_fit_continue_training():
    X, y = ragged_data()
    clf = RNNClassifier(warm_start=True, **TINY).fit(X, y)
    first = [p.detach().clone() for p in clf.module_.parameters()]
    clf.fit(X, y)
    assert clf.n_iter_ == 6 and len(clf.loss_curve_) == 6
    assert any(not np.allclose(a, b.detach()) for a, b in zip(first, clf.module_.parameters()))

    inc = RNNClassifier(**TINY)
    with pytest.raises(ValueError, match="classes must be passed"):
        inc.partial_fit(X, y)
    for _ in range(3):
        inc.partial_fit(X, y, classes=[0, 1])
    assert inc.n_iter_ == 3
    with pytest.raises(ValueError, match="not seen"):
        inc.partial_fit(X, np.full(len(X), 7))

    # a cold fit starts over
    cold = RNNClassifier(**TINY).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 3


def test_class_weight_and_sample_weight_shift_predictions():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5, 2))
    y = (rng.rand(120) < 0.3).astype(int)  # labels are noise
    kw = dict(hidden_size=8, max_iter=15, random_state=0, learning_rate_init=1e-2)
    plain = RNNClassifier(**kw).fit(X, y).predict(X).mean()
    heavy = RNNClassifier(class_weight={0: 1, 1: 20}, **kw).fit(X, y).predict(X).mean()
    assert heavy > plain + 0.3
    sw = np.where(y == 1, 20.0, 1.0)
    via_sw = RNNClassifier(**kw).fit(X, y, sample_weight=sw).predict(X).mean()
    assert via_sw > plain + 0.3
    balanced = RNNClassifier(class_weight="balanced", **kw).fit(X, y).predict(X).mean()
    assert balanced > plain


def test_sample_weight_equals_repetition_full_batch():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(15, 6, 2))
    y = rng.randint(0, 3, 15)
    sw = rng.randint(0, 4, 15)
    sw[0] = 2
    kw = dict(hidden_size=8, max_iter=20, batch_size=256, random_state=0, shuffle=False)
    weighted = RNNClassifier(**kw).fit(X, y, sample_weight=sw)
    repeated = RNNClassifier(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5)


def test_zero_weights_are_ignored_like_removed_samples():
    X, y = ragged_data(n=30)
    sw = np.ones(30)
    sw[20:] = 0
    kw = dict(TINY, batch_size=256, shuffle=False)
    a = RNNClassifier(**kw).fit(X, y, sample_weight=sw).predict_proba(X)
    b = RNNClassifier(**kw).fit(X[:20], y[:20]).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_optimizers_by_name_and_class(optimizer):
    import torch

    X, y = ragged_data()
    a = RNNClassifier(optimizer=optimizer, **TINY).fit(X, y).predict_proba(X)
    cls = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}[optimizer]
    b = RNNClassifier(optimizer=cls, **TINY).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b)


def test_gradient_clipping_changes_training():
    X, y = ragged_data()
    kw = dict(TINY, learning_rate_init=0.05)
    a = RNNClassifier(clip_grad_norm=None, **kw).fit(X, y).predict_proba(X)
    b = RNNClassifier(clip_grad_norm=1e-3, **kw).fit(X, y).predict_proba(X)
    assert not np.allclose(a, b)


def test_truncated_bptt_matches_full_bptt_when_chunk_covers_sequence():
    X, y = ragged_data(hi=10)
    # truncated BPTT reads forwards and pools the last step
    kw = dict(TINY, shuffle=False, bidirectional=False, pooling="last")
    full = RNNClassifier(**kw).fit(X, y).predict_proba(X)
    tb = RNNClassifier(tbptt_steps=50, **kw).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(full, tb, rtol=1e-5, atol=1e-6)
    short = RNNClassifier(tbptt_steps=2, **kw).fit(X, y).predict_proba(X)
    assert not np.allclose(short, full, atol=1e-5)


def test_tbptt_incompatible_settings_raise():
    X, y = ragged_data()
    with pytest.raises(ValueError, match="bidirectional"):
        RNNClassifier(tbptt_steps=3, bidirectional=True, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="pooling"):
        RNNClassifier(tbptt_steps=3, bidirectional=False, pooling="mean", **TINY).fit(X, y)
    # the defaults are bidirectional: the error says what to pass
    with pytest.raises(ValueError, match="Pass bidirectional=False"):
        RNNClassifier(tbptt_steps=3, **TINY).fit(X, y)


def test_regressor_multi_output_and_learning():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 10), 2)) for _ in range(200)]
    Y = np.array([[x[:, 0].sum(), x[:, 1].mean()] for x in X])
    reg = RNNRegressor(hidden_size=32, max_iter=60, learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y)
    assert reg.predict(X).shape == (200, 2)
    assert reg.score(X, Y) > 0.8
    one = RNNRegressor(**TINY).fit(X, Y[:, 0])
    assert one.predict(X).shape == (200,)


def test_return_sequences_ragged_in_ragged_out():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 12), 1)) for _ in range(150)]
    Y = [np.cumsum(x[:, 0]) for x in X]  # running sum: needs memory
    reg = RNNRegressor(return_sequences=True, hidden_size=32, max_iter=60,
                       learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y)
    pred = reg.predict(X)
    assert isinstance(pred, list) and [len(p) for p in pred] == [len(x) for x in X]
    assert pred[0].ndim == 1
    assert reg.score(X, Y) > 0.9
    # padded input gives padded output with NaN at the padding steps
    post, pre, _, lengths = paddings(X)
    Ypad = np.full(post.shape[:2], np.nan)
    for i, yv in enumerate(Y):
        Ypad[i, : len(yv)] = yv
    out = reg.predict(post)
    assert out.shape == post.shape[:2]
    assert np.isnan(out[0, lengths[0]:]).all()
    np.testing.assert_allclose(out[0, : lengths[0]], pred[0], rtol=1e-5, atol=1e-6)
    assert reg.score(post, Ypad) == pytest.approx(reg.score(X, Y), rel=1e-5)
    # truncated BPTT on per-step targets also learns
    tb = RNNRegressor(return_sequences=True, hidden_size=32, max_iter=40, tbptt_steps=4,
                      cell="lstm", bidirectional=False, lr_schedule="constant",
                      learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tb.fit(X, Y)
    assert tb.score(X, Y) > 0.5


def test_return_sequences_target_mismatch_is_clear():
    X, _ = ragged_data(n=5)
    Y = [np.zeros(len(x) + 1) for x in X]
    with pytest.raises(ValueError, match=r"y\[0\] has .* steps but X\[0\] has"):
        RNNRegressor(return_sequences=True, **TINY).fit(X, Y)


def test_token_ids_with_embedding():
    rng = np.random.RandomState(0)
    # class = whether token 3 occurs in the sequence
    X = [rng.randint(0, 10, size=rng.randint(3, 12)) for _ in range(300)]
    y = np.array([int(3 in x) for x in X])
    clf = RNNClassifier(embedding_dim=8, hidden_size=16, max_iter=30, pooling="max",
                        learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_tokens_ == 10
    assert clf.score(X, y) > 0.9
    # unseen token ids share the unknown embedding instead of crashing
    assert clf.predict([np.array([1, 2, 99])]).shape == (1,)
    # NaN-padded float token arrays (SequencePadder's output) are accepted
    post, _, _, _ = paddings([x[:, None].astype(float) for x in X[:10]])
    np.testing.assert_allclose(clf.predict_proba(post), clf.predict_proba(X[:10]), rtol=1e-5)


def test_pickle_keeps_predictions_and_moves_to_cpu():
    X, y = ragged_data()
    clf = RNNClassifier(**TINY).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    assert next(clone.module_.parameters()).device.type == "cpu"


def test_verbose_progress_bar(capsys):
    X, y = ragged_data(n=10)
    RNNClassifier(verbose=1, **TINY).fit(X, y)
    err = capsys.readouterr().err
    assert "epochs" in err and "loss=" in err
