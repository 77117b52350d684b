"""Whole-pipeline export: scaler, patcher, padder truncation and the
channels-first layout folded into one ONNX / TorchScript graph that gives
pipeline.predict_proba / predict on the raw input, for other batch sizes and
lengths than the tracing example; other pipelines name the failing step."""

import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrnn import (
    RNNClassifier,
    RNNRegressor,
    Seq2SeqTransformer,
    SequencePadder,
    SequencePatcher,
    SequenceScaler,
)
from skrnn.export import export_onnx, export_torchscript

FAST = dict(hidden_size=8, max_iter=3, device="cpu", random_state=0)


def _channels_first_ragged(n, seed, C=3, lo=9, hi=40):
    """aeon-style list of (C, T_i) arrays, not standardised."""
    rng = np.random.RandomState(seed)
    X = [5.0 + 3.0 * rng.normal(size=(C, rng.randint(lo, hi))).astype(np.float32)
         for _ in range(n)]
    y = np.array(["a", "b"])[[int(x[0].mean() > 5.0) for x in X]]
    return X, y


def _pad_channels_first(X):
    """x (N, C, L) NaN-padded after each sequence's end, and lengths."""
    lengths = np.array([x.shape[1] for x in X], dtype=np.int64)
    out = np.full((len(X), X[0].shape[0], lengths.max()), np.nan, dtype=np.float32)
    for i, x in enumerate(X):
        out[i, :, : x.shape[1]] = x
    return out, lengths


def _runners(tmp_path, pipe):
    ort = pytest.importorskip("onnxruntime")
    onnx_path, ts_path = tmp_path / "pipe.onnx", tmp_path / "pipe.pt"
    meta = export_onnx(pipe, onnx_path)
    assert export_torchscript(pipe, ts_path) == meta
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    stored = {k: json.loads(v) for k, v in sess.get_modelmeta().custom_metadata_map.items()}
    assert stored == meta
    served = torch.jit.load(str(ts_path))

    def run_onnx(x, lengths):
        return sess.run(None, {"x": x, "lengths": lengths})[0]

    def run_ts(x, lengths):
        with torch.no_grad():
            return served(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()

    return meta, (run_onnx, run_ts)


@pytest.mark.parametrize("remainder", ["pad", "drop"])
def test_scaler_patcher_channels_first_round_trip(tmp_path, remainder):
    X, y = _channels_first_ragged(60, 0)
    pipe = make_pipeline(
        SequenceScaler(data_format="channels_first"),
        SequencePatcher(patch_size=4, stride=3, remainder=remainder),
        RNNClassifier(**FAST),
    ).fit(X, y)
    meta, runners = _runners(tmp_path, pipe)
    assert meta["data_format"] == "channels_first" and meta["n_features"] == 3
    assert meta["steps"] == ["sequencescaler", "sequencepatcher", "rnnclassifier"]
    assert meta["classes"] == ["a", "b"]
    # other batch sizes and lengths than traced; ragged and padded input
    for seed, n in ((1, 7), (2, 1), (3, 25)):
        Xt, _ = _channels_first_ragged(n, seed, lo=4, hi=60)
        x, lengths = _pad_channels_first(Xt)
        expected = pipe.predict_proba(Xt)
        np.testing.assert_allclose(pipe.predict_proba(x), expected, atol=1e-6)
        for run in runners:
            proba = run(x, lengths)
            np.testing.assert_allclose(proba, expected, atol=2e-5)
            np.testing.assert_array_equal(
                np.asarray(meta["classes"])[proba.argmax(1)], pipe.predict(Xt)
            )


def test_regressor_pipeline_with_padder_truncation(tmp_path):
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 20), 2)).astype(np.float32) for _ in range(50)]
    y = np.array([x[-3:, 0].sum() for x in X])
    for truncating in ("pre", "post"):
        pipe = make_pipeline(
            SequencePadder(maxlen=8, truncating=truncating), SequenceScaler(),
            RNNRegressor(**FAST),
        ).fit(X, y)
        meta, runners = _runners(tmp_path, pipe)
        assert meta["data_format"] == "channels_last" and meta["output"] == "values"
        Xt = X[:11]
        lengths = np.array([len(x) for x in Xt], dtype=np.int64)
        x = np.full((11, lengths.max(), 2), np.nan, dtype=np.float32)
        for i, s in enumerate(Xt):
            x[i, : len(s)] = s
        for run in runners:
            np.testing.assert_allclose(run(x, lengths)[:, 0], pipe.predict(Xt), atol=1e-4)


def test_pipelines_that_cannot_be_exported_name_the_step(tmp_path):
    X, y = _channels_first_ragged(30, 0)
    Xl = [x.T for x in X]
    cases = [
        (make_pipeline(FunctionTransformer(), RNNClassifier(**FAST)), "functiontransformer"),
        (make_pipeline(SequencePadder(value=0.0), RNNClassifier(**FAST)), "sequencepadder"),
        (make_pipeline(Seq2SeqTransformer(hidden_size=4, max_iter=1), LogisticRegression()),
         "logisticregression"),
    ]
    for pipe, name in cases:
        pipe.fit(Xl, y)
        for export in (export_onnx, export_torchscript):
            with pytest.raises(ValueError, match=rf"step '{name}'"):
                export(pipe, tmp_path / "m")
