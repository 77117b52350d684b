"""Model files and pickles written by an earlier version of skrnn (format 2,
``tests/persistence/data/make_v2_files.py`` at the commit that added them) still load and
predict the same, whatever modules the package's classes have moved to since."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skrnn

DATA = Path(__file__).parent / "data"
EXPECTED = np.load(DATA / "v2_predictions.npz")


def _inputs():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(4, 9), 2)).astype(np.float32) for _ in range(24)]
    s = pd.Series(np.sin(np.arange(60) / 3.0) * 10 + 50,
                  index=pd.date_range("2020-01-01", periods=60, freq="D"), name="y")
    src = ["abc", "bca", "cab", "aab", "bba", "ccb"] * 2
    return X[:4], s.to_frame().iloc[-10:], src[:4]


def _predict(name, est):
    X, frame, src = _inputs()
    if name in ("windower", "windowed"):
        return np.asarray(est.predict(frame))
    if name == "seq2seq":
        return np.asarray(est.transform(src))
    if name == "classifier":
        return est.predict_proba(X)
    return np.asarray(est.predict(X))


@pytest.mark.parametrize("name", ["classifier", "pipeline", "scaled", "windower", "windowed", "seq2seq"])
def test_old_pickle_loads_and_predicts_the_same(name):
    with open(DATA / f"v2_{name}.pkl", "rb") as f:
        est = pickle.load(f)
    np.testing.assert_allclose(_predict(name, est), EXPECTED[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["classifier", "scaled", "windowed", "seq2seq"])
def test_old_model_file_loads_and_predicts_the_same(name):
    est = skrnn.load(DATA / f"v2_{name}.skrnn")
    np.testing.assert_allclose(_predict(name, est), EXPECTED[name], rtol=1e-5, atol=1e-6)


def _fitted_pipelines():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skrnn import (RNNClassifier, RNNRegressor, Seq2SeqTransformer, SequencePadder,
                       SequencePatcher, SequenceScaler, TimeSeriesWindower)
    from skrnn.forecasting import WindowScaledRegressor

    rng = np.random.RandomState(1)
    X = [rng.normal(size=(rng.randint(4, 9), 2)).astype(np.float32) for _ in range(16)]
    y = np.arange(16) % 2
    small = dict(hidden_size=3, max_iter=1, batch_size=8, random_state=0)
    frame = pd.DataFrame({"y": np.sin(np.arange(40) / 3.0) + 2.0},
                         index=pd.date_range("2021-01-01", periods=40, freq="D"))
    yield "classifier", make_pipeline(
        SequencePadder(maxlen=8), SequenceScaler(), SequencePatcher(patch_size=2),
        RNNClassifier(**small)).fit(X, y), X, "predict_proba"
    yield "regressor", make_pipeline(SequenceScaler(), RNNRegressor(**small)).fit(
        X, y.astype(float)), X, "predict"
    yield "seq2seq", make_pipeline(Seq2SeqTransformer(**small), LogisticRegression()).fit(
        X, y), X, "predict_proba"
    yield "windower", make_pipeline(
        TimeSeriesWindower(window=5), WindowScaledRegressor(RNNRegressor(**small))).fit(
        frame, frame["y"].shift(-1).ffill().to_numpy()), frame, "predict"


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", list(_fitted_pipelines()), ids=lambda c: c[0])
def test_every_public_step_saves_and_loads_inside_a_pipeline(case, tmp_path):
    """Every public estimator and transformer, SequencePatcher and
    WindowScaledRegressor included, is a trusted type of the model format."""
    from skrnn.persistence import save

    name, pipe, X, method = case
    path = tmp_path / f"{name}.skrnn"
    save(pipe, path)
    loaded = skrnn.load(path)
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(pipe, method)(X),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.filterwarnings("ignore")
def test_a_forecaster_that_the_safe_format_cannot_hold_is_refused_clearly(tmp_path):
    """RNNForecaster keeps pandas state that skops cannot write: saving says
    so and points to pickle, which round-trips it."""
    import pickle

    from skrnn import RNNForecaster
    from skrnn.persistence import save

    s = pd.Series(np.sin(np.arange(60) / 3.0) + 5.0,
                  index=pd.date_range("2020-01-01", periods=60, freq="MS"), name="y")
    f = RNNForecaster(3, hidden_size=4, max_iter=2, random_state=0).fit(s)
    with pytest.raises(TypeError, match="RNNForecaster cannot be stored.*pickle"):
        save(f, tmp_path / "f.skrnn")
    again = pickle.loads(pickle.dumps(f))
    pd.testing.assert_series_equal(again.predict(), f.predict())


def test_a_file_naming_a_class_by_an_older_path_loads(tmp_path):
    """load reads classes named by where their code used to live
    (skrnn._home.MOVED_CLASSES) as their present public classes."""
    from _modelfiles import edit_schema

    data = (DATA / "v2_windowed.skrnn").read_bytes()

    def to_old_path(node):
        if isinstance(node, dict):
            if node.get("__class__") == "TimeSeriesWindower":
                node["__module__"] = "skrnn._windower"
            for v in node.values():
                to_old_path(v)
        elif isinstance(node, list):
            for v in node:
                to_old_path(v)

    old = edit_schema(data, to_old_path)
    assert b"skrnn._windower" in old and b'"skrnn._windower"' not in data
    path = tmp_path / "old.skrnn"
    path.write_bytes(old)
    est = skrnn.load(path)
    assert type(est.steps[0][1]) is skrnn.TimeSeriesWindower
    np.testing.assert_allclose(_predict("windowed", est), EXPECTED["windowed"], rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore")
def test_fits_from_the_same_seeds_predict_exactly_as_before_the_move():
    """The estimators fitted as tests/persistence/data/make_v2_files.py fitted
    them (the regressor with the defaults of then spelt out) predict exactly
    what the version that wrote the files predicted: moving the code into
    layers changed no computation."""
    from sklearn.pipeline import make_pipeline

    from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer, SequencePadder, SequenceScaler

    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(4, 9), 2)).astype(np.float32) for _ in range(24)]
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    yr = np.array([x[:, 1].sum() for x in X])
    then = dict(cell="lstm", hidden_size=4, bidirectional=False, learning_rate_init=1e-3,
                alpha=0.0, lr_schedule="constant", batch_size=8, max_iter=2, random_state=0)
    clf = RNNClassifier(hidden_size=4, max_iter=2, batch_size=8, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X[:4]), EXPECTED["classifier"])
    reg = make_pipeline(SequencePadder(maxlen=8), SequenceScaler(), RNNRegressor(**then)).fit(X, yr)
    np.testing.assert_array_equal(reg.predict(X[:4]), EXPECTED["scaled"])
    src = ["abc", "bca", "cab", "aab", "bba", "ccb"] * 2
    s2s = Seq2SeqTransformer(hidden_size=4, max_iter=2, batch_size=4, random_state=0)
    s2s.fit(src, [t[::-1] for t in src])
    np.testing.assert_array_equal(s2s.transform(src[:4]), EXPECTED["seq2seq"])
