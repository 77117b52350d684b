"""Exported networks (ONNX, TorchScript) give predict_proba / predict without
skrnn, for other batch sizes and padded lengths than the tracing example."""

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

from conftest import fit_quietly, ragged_sequences
from skrnn import RNNClassifier, RNNRegressor
from skrnn.export import export_onnx, export_torchscript


def _nan_pad(seqs):
    """Post-pad ragged (T_i, F) arrays with NaN; return x (N, L, F), lengths."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    x = np.full((len(seqs), lengths.max(), seqs[0].shape[1]), np.nan, dtype=np.float32)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    return x, lengths


def _ragged(n, seed, F=3, lo=2, hi=15):
    return ragged_sequences(n, F, seed, lo, hi, dtype=np.float32)


@pytest.fixture(scope="module")
def digits_clf(digits_sequences):
    X, y = digits_sequences
    X = X[:300].astype(np.float32)
    clf = RNNClassifier(hidden_size=16, max_iter=2, device="cpu", random_state=0)
    return fit_quietly(clf, X, y[:300]), X


@pytest.fixture(scope="module")
def ragged_clf():
    """Bidirectional, stacked, mean pooling: NaN filler would leak into the
    mean and the reversed direction if the export read it."""
    X = _ragged(80, 0)
    y = np.array(["neg", "pos"])[[int(s[:, 0].mean() > 0) for s in X]]
    clf = RNNClassifier(
        cell="gru", hidden_size=8, num_layers=2, bidirectional=True, pooling="mean",
        max_iter=2, device="cpu", random_state=0,
    )
    return fit_quietly(clf, X, y), X


def _onnx_runner(path):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = {k: json.loads(v) for k, v in sess.get_modelmeta().custom_metadata_map.items()}
    return lambda x, lengths: sess.run(None, {"x": x, "lengths": lengths})[0], meta


def _torchscript_runner(path):
    files = {"skrnn.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = torch.jit.load(str(path), _extra_files=files)

    def run(x, lengths):
        with torch.no_grad():
            return model(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()

    return run, json.loads(files["skrnn.json"])


FORMATS = {
    "onnx": (export_onnx, _onnx_runner, "model.onnx"),
    "torchscript": (export_torchscript, _torchscript_runner, "model.pt"),
}


@pytest.fixture(params=sorted(FORMATS))
def fmt(request):
    if request.param == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnx")
    return FORMATS[request.param]


def _check_classifier(clf, run, meta, x, lengths, X_skrnn):
    out = run(x, lengths)
    np.testing.assert_allclose(out, clf.predict_proba(X_skrnn), rtol=1e-4, atol=1e-5)
    classes = np.asarray(meta["classes"], dtype=clf.classes_.dtype)
    np.testing.assert_array_equal(classes[out.argmax(1)], clf.predict(X_skrnn))


def test_fixed_length_equals_predict_proba(digits_clf, fmt, tmp_path):
    clf, X = digits_clf
    export, runner, name = fmt
    export(clf, tmp_path / name)
    run, meta = runner(tmp_path / name)
    assert meta["n_features"] == 8 and meta["output"] == "proba"
    for n in (1, 7, 300):  # batch sizes other than the tracing example's 3
        lengths = np.full(n, 8, dtype=np.int64)
        _check_classifier(clf, run, meta, X[:n], lengths, X[:n])


def test_variable_length_equals_predict_proba(ragged_clf, fmt, tmp_path):
    clf, _ = ragged_clf
    export, runner, name = fmt
    export(clf, tmp_path / name)
    run, meta = runner(tmp_path / name)
    for n, seed, hi in ((50, 1, 25), (2, 2, 4), (1, 3, 40)):
        seqs = _ragged(n, seed, hi=hi)
        x, lengths = _nan_pad(seqs)
        _check_classifier(clf, run, meta, x, lengths, seqs)
        # skrnn reads the same NaN-padded array by itself too
        _check_classifier(clf, run, meta, x, lengths, x)


def test_regressor_per_step_and_pooled(fmt, tmp_path):
    export, runner, name = fmt
    X = _ragged(60, 4, F=2)
    y_seq = [np.cumsum(s[:, 0]) for s in X]
    reg = fit_quietly(RNNRegressor(hidden_size=8, max_iter=2, return_sequences=True, device="cpu",
                            random_state=0), X, y_seq)
    export(reg, tmp_path / name)
    run, meta = runner(tmp_path / name)
    assert meta["output"] == "per_step" and meta["classes"] is None
    seqs = _ragged(9, 5, F=2, hi=30)
    x, lengths = _nan_pad(seqs)
    out = run(x, lengths)
    assert out.shape == (*x.shape[:2], 1)
    expected = reg.predict(seqs)
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(out[i, :n, 0], expected[i], rtol=1e-4, atol=1e-5)
        assert np.isnan(out[i, n:]).all()

    y = np.stack([[s[:, 0].sum(), s[:, 1].max()] for s in X])
    reg = fit_quietly(RNNRegressor(hidden_size=8, max_iter=2, pooling="attention", device="cpu",
                            random_state=0), X, y)
    export(reg, tmp_path / name)
    run, _ = runner(tmp_path / name)
    np.testing.assert_allclose(run(x, lengths), reg.predict(seqs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ids", [np.arange(10), np.array([7, 70_000, 10**6, 10**12])],
                         ids=["small ids", "large ids (vocabulary)"])
def test_token_ids(fmt, tmp_path, ids):
    export, runner, name = fmt
    rng = np.random.RandomState(0)
    X = [rng.choice(ids, size=(rng.randint(2, 9), 1)) for _ in range(60)]
    y = np.array([int((s == ids[3]).any()) for s in X])
    clf = fit_quietly(RNNClassifier(embedding_dim=4, hidden_size=8, max_iter=2, device="cpu",
                             random_state=0), X, y)
    export(clf, tmp_path / name)
    run, meta = runner(tmp_path / name)
    assert meta["token_ids"] is True
    unseen = np.concatenate([ids, ids[-1:] + 1, [11, 12, 13]])  # unseen ids too
    test = [rng.choice(unseen, size=(rng.randint(1, 12), 1)) for _ in range(11)]
    lengths = np.array([len(s) for s in test], dtype=np.int64)
    x = np.zeros((len(test), lengths.max(), 1), dtype=np.int64)
    for i, s in enumerate(test):
        x[i, : len(s)] = s
    np.testing.assert_allclose(run(x, lengths), clf.predict_proba(test), rtol=1e-4, atol=1e-5)


def test_served_without_skrnn(ragged_clf, tmp_path):
    """A fresh interpreter where ``import skrnn`` fails loads and runs both files."""
    clf, _ = ragged_clf
    export_torchscript(clf, tmp_path / "model.pt")
    formats = ["pt"]
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401

        export_onnx(clf, tmp_path / "model.onnx")
        formats.append("onnx")
    except ImportError:
        pass
    seqs = _ragged(5, 7)
    x, lengths = _nan_pad(seqs)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "lengths.npy", lengths)
    script = textwrap.dedent(f"""
        import sys, warnings
        sys.modules["skrnn"] = None  # any import of skrnn now raises
        import numpy as np
        d = {str(tmp_path)!r}
        x, lengths = np.load(d + "/x.npy"), np.load(d + "/lengths.npy")
        if "pt" in {formats!r}:
            import torch
            warnings.simplefilter("ignore")
            m = torch.jit.load(d + "/model.pt")
            np.save(d + "/out_pt.npy", m(torch.from_numpy(x), torch.from_numpy(lengths)).detach().numpy())
        if "onnx" in {formats!r}:
            import onnxruntime as ort
            s = ort.InferenceSession(d + "/model.onnx", providers=["CPUExecutionProvider"])
            np.save(d + "/out_onnx.npy", s.run(None, {{"x": x, "lengths": lengths}})[0])
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    expected = clf.predict_proba(seqs)
    for f in formats:
        np.testing.assert_allclose(np.load(tmp_path / f"out_{f}.npy"), expected, rtol=1e-4, atol=1e-5)
