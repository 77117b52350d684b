"""device='cuda': training and prediction on a GPU with the padded kernel,
the same function as torch's packed cuDNN sequences and as the CPU, and
GPU-trained models that predict on a CPU-only machine after pickle and after
save/load. Skipped without CUDA."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from conftest import fit_quietly, ragged_sequences
from skrnn import RNNClassifier, RNNRegressor
from skrnn._nn.recurrent import SequenceNet

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


def _ragged(n, seed, F=3, lo=2, hi=40):
    return ragged_sequences(n, F, seed, lo, hi, dtype=np.float32)


@pytest.fixture(scope="module")
def digits(digits_sequences):
    X, y = digits_sequences
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def gpu_clf(digits):
    X, y = digits
    clf = RNNClassifier(hidden_size=32, max_iter=15, batch_size=64, device="cuda",
                        random_state=0)
    return fit_quietly(clf, X[:1200], y[:1200])


def test_fit_predict_on_cuda(gpu_clf, digits):
    X, y = digits
    assert next(gpu_clf.module_.parameters()).device.type == "cuda"
    proba = gpu_clf.predict_proba(X[1200:])
    assert proba.shape == (len(X) - 1200, 10)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert gpu_clf.score(X[1200:], y[1200:]) > 0.6  # chance is 0.1
    assert np.isfinite(gpu_clf.loss_curve_).all()
    assert gpu_clf.loss_curve_[-1] < gpu_clf.loss_curve_[0]


def test_cuda_fit_is_seeded():
    """The GPU fit is seeded: identical reruns, the global torch RNG untouched."""
    X = _ragged(64, 0)
    y = np.array([int(s[:, 0].mean() > 0) for s in X])
    state = torch.cuda.get_rng_state()
    a = fit_quietly(RNNClassifier(hidden_size=8, max_iter=3, device="cuda", random_state=1), X, y)
    b = fit_quietly(RNNClassifier(hidden_size=8, max_iter=3, device="cuda", random_state=1), X, y)
    assert torch.equal(torch.cuda.get_rng_state(), state)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_cuda_padded_kernel_equals_packed_and_cpu(cell, bidirectional, packed_reference):
    torch.manual_seed(0)
    net = SequenceNet(3, 4, cell=cell, hidden_size=16, num_layers=2,
                      bidirectional=bidirectional, pooling="mean").eval()
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 30, (17,), generator=g)
    lengths[0] = 30
    x = torch.randn(17, 30, 3, generator=g)
    x[torch.arange(30) >= lengths.unsqueeze(1)] = 1e3  # filler must never be read
    with torch.no_grad():
        cpu = net(x, lengths)
        gpu = net.cuda()
        padded = gpu(x.cuda(), lengths.cuda()).cpu()
        steps, _ = gpu.encoder(x.cuda(), lengths.cuda())
        packed = packed_reference(gpu.encoder, x.cuda(), lengths.cuda())
    # cuDNN may run the recurrent matmuls in TF32 (about 3 decimal digits);
    # reading the 1e3 filler would be off by far more
    torch.testing.assert_close(padded, cpu, rtol=1e-2, atol=5e-3)
    real = (torch.arange(30) < lengths.unsqueeze(1)).cuda()
    torch.testing.assert_close(steps[real].cpu(), packed[real].cpu(), rtol=1e-2, atol=5e-3)


def test_estimator_predicts_the_same_on_cuda_and_cpu(gpu_clf, digits):
    X, _ = digits
    ragged = [x[: 3 + i % 6] for i, x in enumerate(X[1200:1400])]
    on_gpu = gpu_clf.predict_proba(ragged)
    on_cpu = pickle.loads(pickle.dumps(gpu_clf)).set_params(device="cpu").predict_proba(ragged)
    # cuDNN may use TF32 for the recurrent matmuls
    np.testing.assert_allclose(on_gpu, on_cpu, atol=2e-3)


def test_gpu_model_predicts_on_cpu_after_pickle(gpu_clf, digits):
    X, _ = digits
    expected = gpu_clf.predict_proba(X[1200:])
    clone = pickle.loads(pickle.dumps(gpu_clf))
    assert next(gpu_clf.module_.parameters()).device.type == "cuda"  # pickling did not move it
    assert next(clone.module_.parameters()).device.type == "cpu"
    clone.set_params(device="cpu")
    np.testing.assert_allclose(clone.predict_proba(X[1200:]), expected, atol=2e-3)
    top2 = np.sort(expected, 1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-2  # TF32 cannot flip these
    np.testing.assert_array_equal(
        clone.predict(X[1200:])[clear], gpu_clf.predict(X[1200:])[clear]
    )


def test_gpu_models_load_on_a_machine_without_cuda(gpu_clf, digits, tmp_path):
    """A fresh interpreter that sees no GPU reads the pickle and the
    save() file and predicts on its CPU."""
    X, _ = digits
    reg = fit_quietly(RNNRegressor(hidden_size=8, max_iter=3, device="cuda", random_state=0),
               _ragged(60, 1), np.arange(60, dtype=float))
    with open(tmp_path / "clf.pkl", "wb") as f:
        pickle.dump(gpu_clf, f)
    gpu_clf.save(tmp_path / "clf.skrnn")
    reg.save(tmp_path / "reg.skrnn")
    np.save(tmp_path / "X.npy", X[1200:])
    script = textwrap.dedent(f"""
        import pickle, warnings
        import numpy as np, torch
        import skrnn
        assert not torch.cuda.is_available()
        d = {str(tmp_path)!r}
        X = np.load(d + "/X.npy")
        with open(d + "/clf.pkl", "rb") as f:
            clf = pickle.load(f)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            np.save(d + "/pkl.npy", clf.predict_proba(X))
        assert any("CUDA is not available" in str(x.message) for x in w), [str(x.message) for x in w]
        np.save(d + "/saved.npy", skrnn.load(d + "/clf.skrnn").predict_proba(X))
        reg = skrnn.load(d + "/reg.skrnn")
        reg.set_params(device="cpu")
        np.save(d + "/reg.npy", reg.predict(np.load(d + "/X.npy")[:, :, :3]))
    """)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    expected = gpu_clf.predict_proba(X[1200:])
    np.testing.assert_allclose(np.load(tmp_path / "pkl.npy"), expected, atol=2e-3)
    np.testing.assert_allclose(np.load(tmp_path / "saved.npy"), expected, atol=2e-3)
    np.testing.assert_allclose(np.load(tmp_path / "reg.npy"), reg.predict(X[1200:, :, :3]),
                               rtol=1e-3, atol=2e-3)
