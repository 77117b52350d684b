"""Seq2SeqTransformer in scikit-learn compositions (whether it learns from
y is the ``learn_from`` parameter, so a classifier's labels never become its
targets) and word-token sequences (a vocabulary per token)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer

from skrnn import Seq2SeqTransformer

FAST = dict(hidden_size=8, embedding_dim=4, max_iter=3, random_state=0, device="cpu")


def _lengths(X):
    return np.array([[len(x)] for x in X], dtype=float)


@pytest.fixture(scope="module")
def token_data():
    """Token-id sequences whose class is whether they start with a low id."""
    rng = np.random.RandomState(0)
    X = [rng.randint(0, 6, size=rng.randint(3, 7)) for _ in range(48)]
    y = np.array([int(x[0] < 3) for x in X])
    return X, y


def _is_autoencoder(s2s, X):
    """Fitted on X as its own target: the output vocabulary is X's tokens,
    not the labels, and the longest target is X's longest sequence."""
    return (
        s2s.output_type_ == "tokens"
        and np.array_equal(s2s.output_vocabulary_, np.unique(np.concatenate(X)))
        and s2s.max_target_length_ == max(len(x) for x in X)
    )


def test_pipeline_trains_the_autoencoder_not_the_labels(token_data):
    X, y = token_data
    pipe = make_pipeline(Seq2SeqTransformer(**FAST), LogisticRegression()).fit(X, y)
    assert _is_autoencoder(pipe[0], X)
    # exactly the autoencoder fit(X) trains
    alone = Seq2SeqTransformer(**FAST).fit(X)
    np.testing.assert_array_equal(pipe[0].transform(X), alone.transform(X))
    assert pipe.predict(X).shape == (48,) and set(pipe.predict(X)) <= {0, 1}
    # learning y is an explicit choice
    told = make_pipeline(Seq2SeqTransformer(learn_from="y", **FAST), LogisticRegression())
    told.fit(X, y)
    np.testing.assert_array_equal(told[0].output_vocabulary_, [0, 1])
    assert told[0].max_target_length_ == 1


def test_feature_union_and_grid_search(token_data):
    X, y = token_data
    union = make_union(Seq2SeqTransformer(**FAST), FunctionTransformer(_lengths))
    pipe = make_pipeline(union, LogisticRegression()).fit(X, y)
    assert _is_autoencoder(pipe[0].transformer_list[0][1], X)
    assert pipe[0].transform(X).shape == (48, 8 + 1)
    # FeatureUnion.fit calls fit(X, y) on each part: learn_from='X' ignores y
    direct = FeatureUnion([("s2s", Seq2SeqTransformer(learn_from="X", **FAST))]).fit(X, y)
    assert _is_autoencoder(direct.transformer_list[0][1], X)
    search = GridSearchCV(
        make_pipeline(Seq2SeqTransformer(**FAST), LogisticRegression()),
        {"seq2seqtransformer__hidden_size": [4, 8]}, cv=2, error_score="raise",
    ).fit(X, y)
    assert _is_autoencoder(search.best_estimator_[0], X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_learn_from_parameter(token_data):
    X, y = token_data
    Y = [x[::-1] for x in X]
    assert Seq2SeqTransformer(**FAST).get_params()["learn_from"] == "auto"
    with pytest.raises(ValueError, match="learn_from='y' needs target sequences"):
        Seq2SeqTransformer(learn_from="y", **FAST).fit(X)
    assert _is_autoencoder(Seq2SeqTransformer(learn_from="X", **FAST).fit(X, Y), X)
    # fit(X, Y) with the default learns Y (translation); fit_transform does not
    translate = Seq2SeqTransformer(**FAST).fit(X, Y)
    auto = Seq2SeqTransformer(**FAST)
    auto.fit_transform(X, Y)
    np.testing.assert_array_equal(
        translate.transform(X), Seq2SeqTransformer(learn_from="y", **FAST).fit(X, Y).transform(X)
    )
    assert not np.array_equal(translate.transform(X), auto.transform(X))
    with pytest.raises(ValueError, match="learn_from"):
        Seq2SeqTransformer(learn_from="labels").fit(X)


# ------------------------------------------------------------- word tokens
def _word_data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    X = [list(rng.choice(words, size=rng.randint(2, 5))) for _ in range(n)]
    return X, [x[::-1] for x in X]


def test_word_tokens_round_trip():
    X, Y = _word_data()
    model = Seq2SeqTransformer(
        hidden_size=32, max_iter=30, learning_rate_init=1e-2, random_state=0, device="cpu"
    ).fit(X, Y)
    assert model.input_type_ == model.output_type_ == "words"
    # one symbol per distinct token, not per character
    np.testing.assert_array_equal(
        model.input_vocabulary_, ["alpha", "beta", "delta", "epsilon", "gamma"]
    )
    pred = model.predict(X[:5])
    assert all(isinstance(p, list) and all(type(t) is str for t in p) for p in pred)
    assert model.score(X, Y) > 0.9
    # an unseen word maps to the unknown token; tuples and str arrays work too
    assert isinstance(model.predict([("alpha", "zeta")])[0], list)
    assert model.predict([np.array(X[0])]) == model.predict([X[0]])


def test_word_token_autoencoder_and_bad_input():
    X, _ = _word_data(n=30)
    auto = Seq2SeqTransformer(**FAST).fit(X)
    assert auto.output_type_ == "words" and auto.transform(X).shape == (30, 8)
    assert all(isinstance(p, list) for p in auto.predict(X[:3]))
    with pytest.raises(TypeError, match=r"X\[1\] is not a list of string tokens"):
        Seq2SeqTransformer(**FAST).fit([["a", "b"], "ab"])
    with pytest.raises(TypeError, match=r"X\[0\] holds the token 3"):
        Seq2SeqTransformer(**FAST).fit([["a", 3]])
    with pytest.raises(ValueError, match=r"X\[1\] is an empty token list"):
        Seq2SeqTransformer(**FAST).fit([["a"], []])
    with pytest.raises(ValueError, match="X holds strings but"):
        auto.transform(["alpha beta"])  # characters, fitted on words
