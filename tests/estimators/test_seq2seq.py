"""Seq2SeqTransformer: sklearn contract, data forms, decoding, attention
masking and input errors. Small data and few epochs keep this module fast."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import Seq2SeqTransformer
from skrnn._nn.decoding import beam_decode, greedy_decode
from skrnn._nn.recurrent import Seq2SeqNet
from skrnn._sequences.vocab import EOS
from skrnn.seq2seq import save_attention_heatmap

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_FAST = dict(hidden_size=8, max_iter=2, learning_rate_init=1e-2, batch_size=256,
             random_state=0, device="cpu")

_FLOAT32 = (
    "training runs in float32: weighted and repeated fits agree to ~1e-5, not "
    "to the check's rtol=1e-7."
)
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": _FLOAT32,
}
_AUTO = (
    "learn_from='auto' (the default): fit(X, y) learns y, while fit_transform(X, y), "
    "the call a Pipeline or FeatureUnion makes, trains the autoencoder so that a later "
    "step's labels never become targets; learn_from='y' (checked above) makes both learn y."
)
EXPECTED_FAILURES_AUTO = {
    **EXPECTED_FAILURES,
    "check_transformer_general": _AUTO,
    "check_transformer_data_not_an_array": _AUTO,
}


# The checks feed 2-D X (univariate sequences) and 1-D y, read as length-1
# target sequences (token ids for integer y, values for float y) with
# learn_from='y'; transform gives the (n_samples, n_components) encoder
# representation.
@parametrize_with_checks(
    [Seq2SeqTransformer(learn_from="y", **_FAST), Seq2SeqTransformer(**_FAST)],
    expected_failed_checks=lambda est: (
        EXPECTED_FAILURES if est.learn_from == "y" else EXPECTED_FAILURES_AUTO
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- fixtures
def _reverse_data(n, seed, alphabet="abcd", lo=2, hi=5):
    rng = np.random.RandomState(seed)
    X = ["".join(rng.choice(list(alphabet), rng.randint(lo, hi + 1))) for _ in range(n)]
    return X, [x[::-1] for x in X]


@pytest.fixture(scope="module")
def reverser():
    X, Y = _reverse_data(300, 0)
    model = Seq2SeqTransformer(
        hidden_size=32, max_iter=25, learning_rate_init=1e-2, batch_size=32,
        bidirectional=True, random_state=0, device="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
    return model


def _tiny(**params):
    return Seq2SeqTransformer(**{**_FAST, "max_iter": 3, "batch_size": 16, **params})


# ------------------------------------------------------------- learning
def test_learns_to_reverse_strings(reverser):
    X, Y = _reverse_data(100, 1)
    assert reverser.score(X, Y) >= 0.9
    pred = reverser.predict(X[:5])
    assert all(isinstance(p, str) for p in pred)
    assert reverser.input_type_ == reverser.output_type_ == "strings"
    assert list(reverser.input_vocabulary_) == list("abcd")


def test_unknown_characters_map_to_unknown_token(reverser):
    pred = reverser.predict(["abzz", "\u00e9\u00e9a"])
    assert len(pred) == 2 and all(isinstance(p, str) for p in pred)
    assert set("".join(pred)) <= set("abcd")  # only symbols it can write


def test_transform_shape_and_feature_names(reverser):
    X, _ = _reverse_data(7, 2)
    Z = reverser.transform(X)
    assert Z.shape == (7, reverser.n_components_) == (7, 64)
    assert Z.dtype == np.float64
    assert len(reverser.get_feature_names_out()) == 64


def test_beam_search_batched_and_consistent(reverser):
    X, Y = _reverse_data(60, 3)
    greedy = reverser.predict(X)
    model = pickle.loads(pickle.dumps(reverser))
    model.set_params(beam_width=1)
    assert model.predict(X) == greedy
    model.set_params(beam_width=4)
    beam = model.predict(X)
    assert len(beam) == len(X) and all(isinstance(p, str) for p in beam)
    assert model.score(X, Y) >= 0.85


# ------------------------------------------------------ sklearn surface
def test_clone_get_params_pickle_round_trip(reverser):
    params = reverser.get_params()
    assert params["attention"] == "bahdanau" and params["beam_width"] == 1
    twin = clone(reverser)
    assert twin.get_params() == params and not hasattr(twin, "module_")
    X, _ = _reverse_data(30, 4)
    restored = pickle.loads(pickle.dumps(reverser))
    assert restored.predict(X) == reverser.predict(X)
    np.testing.assert_array_equal(restored.transform(X), reverser.transform(X))
    _, w1 = reverser.predict(X, return_attention=True)
    _, w2 = restored.predict(X, return_attention=True)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_safe_save_load_round_trip(reverser, tmp_path):
    from skrnn import load

    X, _ = _reverse_data(30, 4)
    path = tmp_path / "reverser.skrnn"
    reverser.save(path)
    restored = load(path)
    assert restored.predict(X) == reverser.predict(X)
    np.testing.assert_array_equal(restored.transform(X), reverser.transform(X))


def test_same_seed_same_model_and_global_rng_untouched():
    X, Y = _reverse_data(40, 5)
    state = torch.random.get_rng_state()
    a = _tiny(teacher_forcing=0.5, dropout=0.2, num_layers=2).fit(X, Y)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = _tiny(teacher_forcing=0.5, dropout=0.2, num_layers=2).fit(X, Y)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_grid_search_over_hidden_size_and_attention():
    X, Y = _reverse_data(48, 6)
    grid = GridSearchCV(
        _tiny(max_iter=2),
        {"hidden_size": [4, 8], "attention": ["luong", None]},
        cv=2,
    )
    grid.fit(X, Y)
    assert len(grid.cv_results_["params"]) == 4
    assert 0.0 <= grid.best_score_ <= 1.0
    assert len(grid.predict(X[:3])) == 3


def test_pipeline_transform_feeds_downstream_estimator():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 9), 2)) for _ in range(60)]
    y = np.array([int(x[:, 0].sum() > 0) for x in X])
    pipe = make_pipeline(_tiny(max_iter=3), LogisticRegression())
    pipe.fit(X, y)  # fit(X, y) on the pipeline: the transformer gets y too
    assert pipe.predict(X).shape == (60,)
    # as an unsupervised step (sequence autoencoder) in front of a classifier
    ae = _tiny(max_iter=2)
    Z = ae.fit_transform(X)
    assert Z.shape == (60, 8)
    assert LogisticRegression().fit(Z, y).score(Z, y) >= 0.5


def test_set_output_pandas():
    X, Y = _reverse_data(20, 7)
    model = _tiny().set_output(transform="pandas").fit(X, Y)
    Z = model.transform(X)
    assert isinstance(Z, pd.DataFrame) and Z.shape == (20, 8)


def test_warm_start_and_partial_fit_continue():
    X, Y = _reverse_data(30, 8)
    model = _tiny(max_iter=2, warm_start=True).fit(X, Y)
    model.fit(X, Y)
    assert model.n_iter_ == 4 and len(model.loss_curve_) == 4
    inc = _tiny()
    inc.partial_fit(X, Y)
    inc.partial_fit(X, Y)
    assert inc.n_iter_ == 2


def test_early_stopping_scores_exact_match():
    X, Y = _reverse_data(60, 9)
    model = _tiny(max_iter=3, early_stopping=True, validation_fraction=0.2).fit(X, Y)
    assert len(model.validation_scores_) == model.n_iter_
    assert all(0.0 <= s <= 1.0 for s in model.validation_scores_)


# ----------------------------------------------------------- data forms
def test_token_ids_in_and_out_keep_the_users_ids():
    rng = np.random.RandomState(0)
    ids = np.array([7, 100, 205, 3000])
    X = [rng.choice(ids, rng.randint(2, 6)) for _ in range(40)]
    Y = [x[::-1].copy() for x in X]
    model = _tiny(embedding_dim=8).fit(X, Y)
    assert model.input_type_ == "tokens" and model.output_type_ == "tokens"
    np.testing.assert_array_equal(model.output_vocabulary_, ids)
    pred = model.predict(X + [np.array([7, 99999])])  # unseen id -> unknown token
    assert all(p.dtype.kind in "iu" and set(p.tolist()) <= set(ids.tolist()) for p in pred)
    assert 0.0 <= model.score(X, Y) <= 1.0


def test_strings_to_token_ids_and_ragged_targets():
    X = ["one", "two", "three", "four"] * 5
    Y = [np.array([1]), np.array([2, 2]), np.array([3, 3, 3]), np.array([4, 4, 4, 4])] * 5
    model = _tiny(max_iter=2).fit(X, Y)
    assert model.input_type_ == "strings" and model.output_type_ == "tokens"
    pred = model.predict(X[:4])
    assert [p.ndim for p in pred] == [1, 1, 1, 1]


def test_float_sequences_to_float_sequences_and_autoencoder():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 8), 3)) for _ in range(30)]
    Y = [np.cumsum(x[:, :2], axis=0)[: max(1, len(x) - 1)] for x in X]
    model = _tiny(attention="luong").fit(X, Y)
    assert model.output_type_ == "continuous" and model.n_outputs_ == 2
    pred = model.predict(X)
    assert all(p.ndim == 2 and p.shape[1] == 2 for p in pred)
    assert np.isfinite(model.score(X, Y))
    ae = _tiny().fit(X)  # autoencoder: outputs read like X
    assert ae.output_type_ == "continuous" and ae.n_outputs_ == 3
    assert all(p.ndim == 2 and p.shape[1] == 3 for p in ae.predict(X[:3]))
    # univariate targets come back 1-D
    uni = _tiny(attention=None).fit(X, [x[:, 0] for x in X])
    assert all(p.ndim == 1 for p in uni.predict(X[:3]))


def test_string_autoencoder_and_padded_2d_token_targets():
    X, _ = _reverse_data(30, 10)
    ae = _tiny().fit(X)
    assert ae.output_type_ == "strings" and isinstance(ae.predict(X[:1])[0], str)
    # a NaN-padded float array of token ids, read as tokens on request
    Yp = np.full((30, 3), np.nan)
    for i in range(30):
        Yp[i, : 1 + i % 3] = i % 5
    model = _tiny(output_type="tokens").fit(X, Yp)
    assert model.output_type_ == "tokens"
    np.testing.assert_array_equal(model.output_vocabulary_, np.arange(5))


def test_caller_data_is_not_modified():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 6, 2))
    X[:4, 4:] = np.nan
    Y = [rng.normal(size=(3,)) for _ in range(12)]
    X0, Y0 = X.copy(), [y.copy() for y in Y]
    _tiny().fit(X, Y).predict(X)
    np.testing.assert_array_equal(X, X0)
    for a, b in zip(Y, Y0):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------ attention masks
def test_padded_and_ragged_input_give_identical_outputs():
    rng = np.random.RandomState(0)
    ragged = [rng.normal(size=(n, 2)) for n in (3, 7, 5, 2, 7, 4)]
    padded = np.full((6, 7, 2), np.nan)
    for i, x in enumerate(ragged):
        padded[i, : len(x)] = x
    Y = [x[::-1, 0] for x in ragged]
    model = _tiny(attention="bahdanau", max_iter=2).fit(ragged, Y)
    p_ragged, w_ragged = model.predict(ragged, return_attention=True)
    p_padded, w_padded = model.predict(padded, return_attention=True)
    for a, b in zip(p_ragged, p_padded):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(w_ragged, w_padded):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_attention_never_reads_padding(attention, bidirectional):
    """A sample decoded alone equals the same sample in a batch padded with
    garbage up to a longer length; the padding gets exactly zero weight."""
    torch.manual_seed(0)
    net = Seq2SeqNet(
        n_features=1, n_input_symbols=9, n_output_symbols=8, n_outputs=None,
        embedding_dim=6, cell="gru", hidden_size=5, num_layers=2,
        bidirectional=bidirectional, dropout=0.0, nonlinearity="tanh",
        pooling="last", attention=attention,
    ).eval()
    x = torch.randint(4, 9, (3, 8, 1))
    lengths = torch.tensor([8, 3, 5])
    x[1, 3:] = 7  # filler past the length
    out, out_len, att = greedy_decode(net, x, lengths, 6, return_attention=True)
    alone, alone_len, att_alone = greedy_decode(net, x[1:2, :3], lengths[1:2], 6,
                                                return_attention=True)
    assert int(out_len[1]) == int(alone_len[0])
    n = int(out_len[1])
    torch.testing.assert_close(out[1, :n], alone[0, :n])
    torch.testing.assert_close(att[1, : att_alone.shape[1], :3], att_alone[0])
    assert torch.all(att[1, :, 3:] == 0)
    torch.testing.assert_close(att.sum(-1), torch.ones(att.shape[:2]))


def test_beam_width_one_equals_greedy_on_the_module():
    torch.manual_seed(1)
    net = Seq2SeqNet(
        n_features=1, n_input_symbols=9, n_output_symbols=12, n_outputs=None,
        embedding_dim=6, cell="lstm", hidden_size=7, num_layers=1,
        bidirectional=True, dropout=0.0, nonlinearity="tanh",
        pooling="mean", attention="luong",
    ).eval()
    x = torch.randint(4, 9, (5, 6, 1))
    lengths = torch.tensor([6, 2, 4, 6, 1])
    g, g_len, g_att = greedy_decode(net, x, lengths, 9, return_attention=True)
    b, b_len, b_att = beam_decode(net, x, lengths, 9, 1, return_attention=True)
    torch.testing.assert_close(g_len, b_len)
    for i, n in enumerate(g_len.tolist()):
        torch.testing.assert_close(g[i, :n], b[i, :n])
        torch.testing.assert_close(g_att[i, :n], b_att[i, :n])
    b5, b5_len, _ = beam_decode(net, x, lengths, 9, 5)
    assert b5.shape[0] == 5 and torch.all(b5_len <= 9)
    for i, n in enumerate(b5_len.tolist()):  # cut at EOS: no EOS inside
        assert not torch.any(b5[i, :n] == EOS)


def test_attention_heatmap_png(reverser, tmp_path):
    pytest.importorskip("matplotlib")
    pred, weights = reverser.predict(["abcd"], return_attention=True)
    assert weights[0].shape == (len(pred[0]), 4)
    np.testing.assert_allclose(weights[0].sum(1), 1.0, rtol=1e-5)
    path = save_attention_heatmap(
        weights[0], tmp_path / "att.png", input_labels=list("abcd"),
        output_labels=list(pred[0]), title="reverse",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="2-D"):
        save_attention_heatmap(np.ones(3), tmp_path / "bad.png")


# ------------------------------------------------------------ bad input
def test_mismatched_numbers_of_inputs_and_targets():
    X, Y = _reverse_data(10, 11)
    with pytest.raises(ValueError, match="y has 9 sequences but X has 10"):
        _tiny().fit(X, Y[:9])


@pytest.mark.parametrize(
    "X, y, match",
    [
        (["ab", "", "c"], ["a", "b", "c"], r"X\[1\] is an empty string"),
        (["ab", "b", "c"], ["a", "", "c"], r"y\[1\] is an empty string"),
        ([np.ones((2, 1)), np.ones((0, 1))], None, r"X\[1\] is an empty sequence"),
        ([], [], "empty"),
    ],
)
def test_empty_sequences(X, y, match):
    with pytest.raises(ValueError, match=match):
        _tiny().fit(X, y)


def test_failed_refit_leaves_the_fitted_model_unchanged(reverser):
    model = pickle.loads(pickle.dumps(reverser))
    X, Y = _reverse_data(10, 13)
    before = model.predict(X)
    with pytest.raises(ValueError, match="y has 9 sequences"):
        model.fit(["xyz"] * 10, Y[:9])
    assert list(model.input_vocabulary_) == list("abcd")
    assert model.predict(X) == before


def test_float_where_token_ids_expected():
    X = [np.array([0.5, 1.0]), np.array([2.0, 3.0])]
    with pytest.raises(TypeError, match="integer token ids"):
        _tiny(embedding_dim=4).fit(X, ["a", "b"])
    with pytest.raises(TypeError, match="integer token ids"):
        _tiny(output_type="tokens").fit(["ab", "cd"], [np.array([0.5]), np.array([1.5])])


def test_max_output_length_too_small():
    X, Y = _reverse_data(10, 12, lo=4, hi=5)
    with pytest.raises(ValueError, match="max_output_length=2 is shorter than the longest"):
        _tiny(max_output_length=2).fit(X, Y)


def test_other_input_errors(reverser):
    with pytest.raises(TypeError, match="single string"):
        reverser.predict("abc")
    with pytest.raises(TypeError, match="are strings"):
        _tiny().fit(["ab", 3], ["a", "b"])
    with pytest.raises(ValueError, match="fitted on strings"):
        reverser.predict([np.ones(3)])
    with pytest.raises(ValueError, match="needs a model with attention"):
        _tiny(attention=None).fit(["ab", "ba"], ["b", "a"]).predict(["ab"], return_attention=True)
    with pytest.raises(ValueError, match="tbptt_steps"):
        _tiny(tbptt_steps=3).fit(["ab", "ba"], ["b", "a"])
    with pytest.raises(ValueError, match="attention"):
        _tiny(attention="dot").fit(["ab", "ba"], ["b", "a"])
    with pytest.raises(ValueError, match="zero"):
        _tiny().fit(["ab", "ba"], ["b", "a"], sample_weight=[0, 0])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        _tiny().predict(["ab"])
