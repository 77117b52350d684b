"""Model files and pickles written by an earlier version of skrnn (format 2,
``tests/data/make_v2_files.py`` at the commit that added them) still load and
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
