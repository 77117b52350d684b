"""The convolutional front end (skrnn/_conv.py): each sequence convolved on its
own real steps, hand-computed on small cases, checked against each sequence
run alone, and through the estimators: ragged, padded, masked and
length-given input give the same predictions; save, load and export."""

import warnings

import numpy as np
import pytest
import torch

from skrnn import RNNClassifier, RNNRegressor
from skrnn._nn.conv import ConvFrontEnd, ConvSequenceNet, MaskedBatchNorm, strided_lengths
from skrnn.export import export_onnx, export_torchscript


def _padded_batch(seed=0, n=7, F=3, max_len=11, garbage=1e3):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, max_len + 1, (n,), generator=g)
    lengths[0], lengths[1] = max_len, 1
    x = torch.randn(n, max_len, F, generator=g)
    pad = torch.arange(max_len) >= lengths.unsqueeze(1)
    x[pad] = garbage
    return x, lengths


def test_strided_lengths_are_ceil():
    lengths = torch.tensor([1, 2, 3, 4, 5, 9])
    assert strided_lengths(lengths, 1).tolist() == [1, 2, 3, 4, 5, 9]
    assert strided_lengths(lengths, 2).tolist() == [1, 1, 2, 2, 3, 5]
    assert strided_lengths(lengths, 4).tolist() == [1, 1, 1, 1, 2, 3]


def _unit_front(kernel, stride):
    """One block, one channel, all-ones kernel, fresh normalisation (eval:
    running mean 0, variance 1, so it divides by sqrt(1 + eps))."""
    front = ConvFrontEnd(1, [1], [kernel], stride).eval()
    with torch.no_grad():
        front.convs[0].weight.fill_(1.0)
    return front


@pytest.mark.parametrize("kernel, stride, expected", [
    (3, 1, [3, 6, 5]),        # zero padding at both of the sequence's ends
    (3, 2, [3, 5]),           # steps 0 and 2 kept: ceil(3 / 2) = 2
    (2, 1, [3, 5, 3]),        # even kernel: window t .. t + 1
    (7, 1, [6, 6, 6]),        # kernel longer than the sequence
    (1, 3, [1]),
])
def test_same_convolution_is_hand_computable(kernel, stride, expected):
    front = _unit_front(kernel, stride)
    # the sequence [1, 2, 3] followed by filler the convolution must not read
    x = torch.tensor([[1.0, 2.0, 3.0, 100.0, float("nan")]]).unsqueeze(-1)
    with torch.no_grad():
        out, lengths = front(x, torch.tensor([3]))
    n = len(expected)
    assert lengths.tolist() == [n]
    scale = 1 / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(out[0, :n, 0].numpy(), np.array(expected) * scale, rtol=1e-6)
    assert torch.equal(out[0, n:], torch.zeros_like(out[0, n:]))


def test_batch_statistics_come_from_real_steps_only():
    torch.manual_seed(0)
    x, lengths = _padded_batch(seed=1, F=4)
    x = x.transpose(1, 2)  # (N, C, L)
    mask = (torch.arange(x.shape[2]) < lengths.unsqueeze(1)).unsqueeze(1)
    ours = MaskedBatchNorm(4).train()
    out = ours(x, mask)
    real = torch.cat([x[i, :, :n] for i, n in enumerate(lengths.tolist())], dim=1)
    ref = torch.nn.BatchNorm1d(4).train()
    expected = ref(real.unsqueeze(0))[0]
    got = torch.cat([out[i, :, :n] for i, n in enumerate(lengths.tolist())], dim=1)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.running_var, ref.running_var, rtol=1e-5, atol=1e-6)
    assert float(out.detach().masked_select(~mask.expand_as(out)).abs().sum()) == 0.0


def _train_a_little(net, x, lengths):
    """A few steps of training, so the running statistics are not the initial ones."""
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        net(x, lengths).square().mean().backward()
        opt.step()
    return net.eval()


@pytest.mark.parametrize("mode", ["before", "beside"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "max", "mean"])
def test_batch_equals_each_sequence_alone(mode, stride, bidirectional, pooling):
    torch.manual_seed(0)
    net = ConvSequenceNet(3, 2, conv_channels=[4, 5], conv_kernel_sizes=[5, 4],
                          conv_stride=stride, conv_mode=mode, cell="gru", hidden_size=6,
                          bidirectional=bidirectional, pooling=pooling)
    x, lengths = _padded_batch(seed=2)
    _train_a_little(net, torch.where(x.abs() < 100, x, 0), lengths)
    # filler of any value (the estimators zero it; the front end itself
    # also ignores NaN, see test_same_convolution_is_hand_computable)
    for garbage in (1e3, -7.0):
        x, lengths = _padded_batch(seed=3, garbage=garbage)
        with torch.no_grad():
            out = net(x, lengths)
            assert torch.isfinite(out).all()
            for i, n in enumerate(lengths.tolist()):
                alone = net(x[i : i + 1, :n], lengths[i : i + 1])
                torch.testing.assert_close(out[i], alone[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["before", "beside"])
def test_per_step_outputs_equal_each_sequence_alone(mode):
    torch.manual_seed(0)
    net = ConvSequenceNet(3, 2, conv_channels=[4], conv_kernel_sizes=[3], conv_mode=mode,
                          hidden_size=5, bidirectional=True, return_sequences=True)
    x, lengths = _padded_batch(seed=4)
    _train_a_little(net, torch.where(x.abs() < 100, x, 0), lengths)
    with torch.no_grad():
        out = net(x, lengths)
        assert out.shape[:2] == x.shape[:2]
        for i, n in enumerate(lengths.tolist()):
            alone = net(x[i : i + 1, :n], lengths[i : i + 1])
            torch.testing.assert_close(out[i, :n], alone[0], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------- estimators
CONFIGS = [
    dict(conv_channels=[6, 6], conv_kernel_sizes=[5, 3], conv_stride=2, conv_mode="before"),
    dict(conv_channels=4, conv_kernel_sizes=8, conv_stride=1, conv_mode="beside"),
    dict(conv_channels=[4], conv_kernel_sizes=[4], conv_stride=3, conv_mode="beside"),
]
FAST = dict(hidden_size=6, max_iter=3, batch_size=8, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(int(n), 2)).astype(np.float32) for n in rng.randint(1, 14, size=30)]
    y = np.array([int(x[:, 0].sum() > 0) for x in X])
    return X, y


def _nan_pad(X, value=np.nan):
    T = max(len(x) for x in X)
    out = np.full((len(X), T, X[0].shape[1]), value, dtype=np.float32)
    for i, x in enumerate(X):
        out[i, : len(x)] = x
    return out


def _with_gap(X):
    """One all-NaN step inserted inside every sequence of two or more steps."""
    return [np.insert(x, 1, np.nan, axis=0) if len(x) > 1 else x for x in X]


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("cls", [RNNClassifier, RNNRegressor])
def test_ragged_padded_masked_and_length_given_input_agree(cls, config, data):
    X, y = data
    est = _fit(cls(**FAST, **config), X, y)
    method = est.predict_proba if cls is RNNClassifier else est.predict
    expected = method(X)
    lengths = np.array([len(x) for x in X])
    np.testing.assert_allclose(method(_nan_pad(X)), expected, atol=1e-6)
    np.testing.assert_allclose(method(_with_gap(X)), expected, atol=1e-6)
    np.testing.assert_allclose(method(_nan_pad(_with_gap(X))), expected, atol=1e-6)
    np.testing.assert_allclose(method(_nan_pad(X, 7.0), sequence_lengths=lengths), expected,
                               atol=1e-6)
    # each sequence alone predicts what it predicts in the batch
    for i in (0, 1, 5):
        np.testing.assert_allclose(method(X[i : i + 1]), expected[i : i + 1], atol=1e-6)
    # training on the padded, gappy form is the same fit
    again = _fit(cls(**FAST, **config), _nan_pad(_with_gap(X)), y)
    np.testing.assert_allclose(again.loss_curve_, est.loss_curve_, rtol=1e-5)
    assert isinstance(est.module_, ConvSequenceNet)


def test_front_end_finds_a_local_pattern_in_a_long_series():
    """A local pattern (a spike followed by a dip) anywhere in a long series:
    the convolution sees it in one window."""
    rng = np.random.RandomState(0)
    n, T = 160, 120
    X = rng.normal(scale=0.3, size=(n, T, 1)).astype(np.float32)
    y = np.arange(n) % 2
    for i in np.flatnonzero(y):
        t = rng.randint(0, T - 2)
        X[i, t, 0] += 3.0
        X[i, t + 1, 0] -= 3.0
    for i in np.flatnonzero(y == 0):
        t = rng.randint(0, T - 2)
        X[i, t, 0] += 3.0
        X[i, t + 1, 0] += 3.0
    params = dict(hidden_size=16, max_iter=15, batch_size=16, random_state=0, tol=None)
    conv = RNNClassifier(**params, conv_channels=[16], conv_kernel_sizes=[3],
                         conv_mode="before", conv_stride=2).fit(X[:120], y[:120])
    assert conv.score(X[120:], y[120:]) >= 0.9


def test_regressor_per_step_with_front_end(data):
    X, _ = data
    Y = [np.cumsum(x[:, 0]) for x in X]
    for mode in ("before", "beside"):
        reg = _fit(RNNRegressor(**FAST, conv_channels=[4], conv_mode=mode,
                                return_sequences=True), X, Y)
        out = reg.predict(X)
        assert [len(o) for o in out] == [len(x) for x in X]
        padded = reg.predict(_nan_pad(X))
        for o, p, x in zip(out, padded, X):
            np.testing.assert_allclose(p[: len(x)], o, atol=1e-6)
            assert np.isnan(p[len(x):]).all()


@pytest.mark.parametrize("params, match", [
    (dict(return_sequences=True, conv_channels=[4], conv_stride=2), "needs conv_stride=1"),
    (dict(tbptt_steps=4, conv_channels=[4], pooling="last"), "tbptt_steps cannot be combined"),
    (dict(conv_channels=[4, 4], conv_kernel_sizes=[3, 3, 3]), "has 3 entries but conv_channels"),
    (dict(conv_channels=[4, 0]), "conv_channels must be a positive int"),
    (dict(conv_channels=[[4, 4]]), "conv_channels must be a positive int"),
    (dict(conv_channels=[4], conv_kernel_sizes=[2.5]), "conv_kernel_sizes must be"),
])
def test_bad_front_end_settings_are_clear_errors(params, match, data):
    X, y = data
    with pytest.raises(ValueError, match=match):
        RNNRegressor(**FAST, **params).fit(X, [np.zeros(len(x)) for x in X]
                                           if params.get("return_sequences") else y)


@pytest.mark.parametrize("bad", [dict(conv_stride=0), dict(conv_mode="after")])
def test_bad_front_end_types_name_the_parameter(bad, data):
    X, y = data
    with pytest.raises(ValueError, match=next(iter(bad))):
        RNNClassifier(**FAST, conv_channels=[4], **bad).fit(X, y)


def test_save_load_and_pickle_keep_the_front_end(data, tmp_path):
    import pickle

    from skrnn.persistence import load

    X, y = data
    clf = _fit(RNNClassifier(**FAST, **CONFIGS[0]), X, y)
    clf.save(tmp_path / "m.skrnn")
    loaded = load(tmp_path / "m.skrnn")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-7)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-7)
    # a state written before the front end existed loads without one
    state = RNNClassifier(**FAST).fit(X, y).__getstate__()
    for name in ("conv_channels", "conv_kernel_sizes", "conv_stride", "conv_mode"):
        state.pop(name)
    old = RNNClassifier.__new__(RNNClassifier)
    old.__setstate__(state)
    assert old.conv_channels is None and not isinstance(old.module_, ConvSequenceNet)


def _onnx_run(path, x, lengths):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x, "lengths": lengths})[0]


def _ts_run(path, x, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torch.jit.load(str(path))
    with torch.no_grad():
        return model(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("config", CONFIGS[:2])
def test_export_with_lengths_equals_predict(fmt, config, data, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("onnx")
        pytest.importorskip("onnxruntime")
    X, y = data
    clf = _fit(RNNClassifier(**FAST, **config), X, y)
    path = tmp_path / ("m.onnx" if fmt == "onnx" else "m.pt")
    (export_onnx if fmt == "onnx" else export_torchscript)(clf, path)
    run = _onnx_run if fmt == "onnx" else _ts_run
    rng = np.random.RandomState(5)
    for n, hi in ((20, 30), (1, 2), (3, 9)):  # other batch sizes and lengths than tracing's
        seqs = [rng.normal(size=(rng.randint(1, hi + 1), 2)).astype(np.float32)
                for _ in range(n)]
        x = _nan_pad(seqs)
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        np.testing.assert_allclose(run(path, x, lengths), clf.predict_proba(seqs),
                                   rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------ 'auto'
def _long_data(n=24, lengths=(150, 160, 140), seed=1):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(lengths[i % len(lengths)], 1)).astype(np.float32) for i in range(n)]
    y = np.array([i % 2 for i in range(n)])
    return X, y


def test_auto_front_end_is_off_for_short_sequences(data):
    X, y = data
    clf = _fit(RNNClassifier(**FAST), X, y)
    assert clf.front_end_ is None and not isinstance(clf.module_, ConvSequenceNet)
    # the same network, weights and predictions as with the front end off
    off = _fit(RNNClassifier(**FAST, conv_channels=None), X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), off.predict_proba(X))


def test_auto_front_end_turns_on_from_128_steps_with_a_stride_from_the_length():
    X, y = _long_data()  # median length 150: stride round(sqrt(150) / 4) = 3
    clf = _fit(RNNClassifier(**FAST), X, y)
    assert clf.front_end_ == dict(conv_channels=(64, 64, 64), conv_kernel_sizes=(7, 5, 3),
                                  conv_stride=3, conv_mode="before")
    assert isinstance(clf.module_, ConvSequenceNet)
    X2, y2 = _long_data(lengths=(1500, 1400, 1600))  # median 1500: stride 10
    reg = _fit(RNNRegressor(**FAST, conv_channels=[4, 4]), X2, y2.astype(float))
    assert reg.front_end_["conv_stride"] == 10 and reg.front_end_["conv_kernel_sizes"] == (7, 5)
    X3, y3 = _long_data(lengths=(127, 120, 126))
    X3 = [np.hstack([x, -x]) for x in X3]  # two features: only the length rule applies
    assert _fit(RNNClassifier(**FAST), X3, y3).front_end_ is None


def test_auto_front_end_turns_on_for_univariate_classification_from_16_steps():
    X, y = _long_data(lengths=(24, 20, 26))  # univariate, median 24: stride round(sqrt(24)/4) = 1
    clf = _fit(RNNClassifier(**FAST), X, y)
    assert clf.front_end_ == dict(conv_channels=(64, 64, 64), conv_kernel_sizes=(7, 5, 3),
                                  conv_stride=1, conv_mode="before")
    # shorter, multivariate, token or regression input keeps the recurrent network alone
    short, ys = _long_data(lengths=(15, 12, 14))
    assert _fit(RNNClassifier(**FAST), short, ys).front_end_ is None
    assert _fit(RNNClassifier(**FAST), [np.hstack([x, x]) for x in X], y).front_end_ is None
    assert _fit(RNNRegressor(**FAST), X, y.astype(float)).front_end_ is None
    tokens = [np.arange(len(x)) % 5 for x in X]
    assert _fit(RNNClassifier(**FAST, embedding_dim=4), tokens, y).front_end_ is None


def test_auto_front_end_respects_tbptt_and_per_step_outputs():
    X, y = _long_data(n=8)
    clf = _fit(RNNClassifier(**FAST, bidirectional=False, pooling="last", tbptt_steps=50), X, y)
    assert clf.front_end_ is None
    targets = [np.zeros(len(x)) for x in X]
    reg = _fit(RNNRegressor(**FAST, return_sequences=True), X, targets)
    assert reg.front_end_["conv_stride"] == 1
    assert reg.predict(X[:2])[0].shape == (len(X[0]),)
    with pytest.raises(ValueError, match="conv_stride=1 or 'auto'"):
        RNNRegressor(**FAST, return_sequences=True, conv_stride=2).fit(X, targets)
    with pytest.raises(ValueError, match="conv_kernel_sizes has 2 entries"):
        RNNClassifier(**FAST, conv_kernel_sizes=[5, 3]).fit(X, y)


def test_auto_front_end_is_exact_on_ragged_input_and_survives_saving(tmp_path):
    from skrnn.persistence import load

    X, y = _long_data(n=10, lengths=(150, 131, 170, 129))
    clf = _fit(RNNClassifier(**FAST), X, y)
    padded = _nan_pad(X)
    np.testing.assert_allclose(clf.predict_proba(padded), clf.predict_proba(X), atol=1e-6)
    clf.save(tmp_path / "auto.skrnn")
    back = load(tmp_path / "auto.skrnn")
    assert back.front_end_ == clf.front_end_
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-7)


def test_a_stride_beyond_the_first_kernel_warns(data):
    X, y = data
    with pytest.warns(UserWarning, match="conv_stride=5 is larger than the first convolution"):
        RNNClassifier(**FAST, conv_channels=[4], conv_kernel_sizes=[3], conv_stride=5).fit(X, y)
