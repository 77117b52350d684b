"""Safe persistence: round trips (skrnn's files, skops.io and pickle),
pipelines, signatures, and the tampered, truncated and malicious files that
must raise ``ModelFileError`` without running code (tests/persistence/test_hostile.py
crafts the rest).
"""

import io
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import skrnn
from _modelfiles import attrs, build, edit_schema, json_value, members
from skrnn import (
    RNNClassifier, RNNRegressor, Seq2SeqTransformer, SequencePadder, SequenceScaler,
    TimeSeriesWindower, load,
)
from skrnn.persistence import ModelFileError, save, trusted_types
from skrnn.persistence._files import FORMAT_VERSION

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _ragged(seed=0, n=30, F=2):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(rng.randint(1, 9), F)) for _ in range(n)]


SMALL = dict(hidden_size=4, max_iter=2, random_state=0, device="cpu", batch_size=8)


def _fitted_models():
    X = _ragged()
    y_int = np.array([int(x[:, 0].mean() > 0) for x in X])
    y_str = np.array(["cat", "dog", "eel"])[np.arange(30) % 3]
    rng = np.random.RandomState(1)
    X3 = rng.normal(size=(30, 6, 3))
    # early stopping holds out at least 20 samples: 40 leave 20 for training
    tokens = [rng.randint(0, 7, size=rng.randint(1, 6)) for _ in range(40)]
    return {
        "clf-int": (RNNClassifier(**SMALL).fit(X, y_int), X),
        "clf-str-bidir-attention": (
            RNNClassifier(bidirectional=True, pooling="attention", cell="gru", **SMALL).fit(X, y_str),
            X,
        ),
        "clf-tokens-early-stopping": (
            RNNClassifier(embedding_dim=3, early_stopping=True, class_weight="balanced", **SMALL)
            .fit(tokens, np.arange(40) % 2),
            tokens,
        ),
        "reg-multioutput-2layers": (
            RNNRegressor(num_layers=2, cell="rnn", **SMALL).fit(X3, X3[:, -1, :2]), X3
        ),
        "reg-return-sequences": (
            RNNRegressor(return_sequences=True, **SMALL).fit(X, [x[:, 0] * 2 for x in X]), X
        ),
        "reg-dataframe": (
            RNNRegressor(**SMALL).fit(
                pd.DataFrame(X3[:, :, 0], columns=[f"t{i}" for i in range(6)]), X3[:, 0, 0]
            ),
            pd.DataFrame(X3[:, :, 0], columns=[f"t{i}" for i in range(6)]),
        ),
    }


@pytest.fixture(scope="module")
def models():
    return _fitted_models()


def _outputs(est, X):
    out = [est.predict(X)]
    if hasattr(est, "predict_proba"):
        out.append(est.predict_proba(X))
    return out


def _assert_same_outputs(a, b, X):
    for u, v in zip(_outputs(a, X), _outputs(b, X)):
        if isinstance(u, list):
            assert all(np.array_equal(p, q) for p, q in zip(u, v))
        else:
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)


def _roundtrip(est):
    buf = io.BytesIO()
    est.save(buf)
    buf.seek(0)
    return load(buf)


@pytest.mark.parametrize(
    "name",
    [
        "clf-int",
        "clf-str-bidir-attention",
        "clf-tokens-early-stopping",
        "reg-multioutput-2layers",
        "reg-return-sequences",
        "reg-dataframe",
    ],
)
def test_roundtrip_gives_identical_predictions_and_attributes(models, name):
    est, X = models[name]
    loaded = _roundtrip(est)
    assert type(loaded) is type(est)
    _assert_same_outputs(est, loaded, X)
    assert set(vars(loaded)) == set(vars(est))
    for attr in ("n_iter_", "loss_curve_", "validation_scores_", "n_features_in_", "best_loss_"):
        assert getattr(loaded, attr) == getattr(est, attr)
    if hasattr(est, "classes_"):
        assert loaded.classes_.dtype == est.classes_.dtype
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
    if hasattr(est, "feature_names_in_"):
        np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    p1, p2 = est.get_params(), loaded.get_params()
    assert np.isnan(p2.pop("mask_value")) and np.isnan(p1.pop("mask_value"))
    assert p1 == p2


def test_save_to_path_and_pathlike(models, tmp_path):
    est, X = models["clf-int"]
    path = tmp_path / "model.skrnn"
    assert est.save(path) is est
    _assert_same_outputs(est, load(path), X)
    est.save(str(path))  # replaces the existing file
    _assert_same_outputs(est, load(str(path)), X)
    assert sorted(os.listdir(tmp_path)) == ["model.skrnn"]  # no temporary left behind


def test_file_is_skops_plus_a_record_and_holds_no_pickle(models, tmp_path):
    est, _ = models["clf-str-bidir-attention"]
    est.save(tmp_path / "m.skrnn")
    with zipfile.ZipFile(tmp_path / "m.skrnn") as zf:
        names = zf.namelist()
        record = json.loads(zf.read("skrnn.json"))
        schema = json.loads(zf.read("schema.json"))
        arrays = {n: np.load(io.BytesIO(zf.read(n)), allow_pickle=False) for n in names if n.endswith(".npy")}
    assert sorted(set(names) - set(arrays)) == ["schema.json", "skrnn.json"]
    assert record["format"] == "skrnn-model" and record["format_version"] == FORMAT_VERSION == 2
    assert record["versions"]["skrnn"] == skrnn.__version__ and "hmac_sha256" not in record
    assert record["estimator"] == "skrnn.classifier.RNNClassifier"
    state = attrs(schema)
    assert json.loads(state["cell"]["content"]) == "gru" and json.loads(state["hidden_size"]["content"]) == 4
    assert "module_" not in state  # the network travels as its weights
    weights = state["_weights"]["content"]
    assert set(weights) == set(est.module_.state_dict())
    for name, node in weights.items():  # every weight is a plain .npy array
        np.testing.assert_array_equal(arrays[node["file"]], est.module_.state_dict()[name].numpy())
    assert [a.dtype.kind for a in arrays.values() if a.dtype.kind not in "fiub"] == ["U"]  # classes_


def test_unfitted_estimator_roundtrip():
    est = RNNRegressor(hidden_size=7, optimizer=torch.optim.SGD, device=torch.device("cpu"))
    loaded = _roundtrip(est)
    assert loaded.hidden_size == 7 and loaded.optimizer is torch.optim.SGD
    assert loaded.device == torch.device("cpu")
    assert not hasattr(loaded, "module_")


def test_random_state_instance_is_restored():
    est = RNNClassifier(random_state=np.random.RandomState(3))
    loaded = _roundtrip(est)
    assert loaded.random_state.randint(1000) == np.random.RandomState(3).randint(1000)


def test_warm_start_continues_identically_after_load(models):
    X = _ragged()
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    est = RNNClassifier(**SMALL).fit(X, y)
    loaded = _roundtrip(est)
    for e in (est, loaded):
        e.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert loaded.n_iter_ == est.n_iter_ == 3
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_load_does_not_touch_global_torch_rng(models, tmp_path):
    est, _ = models["clf-int"]
    est.save(tmp_path / "m.skrnn")
    state = torch.random.get_rng_state()
    load(tmp_path / "m.skrnn")
    assert torch.equal(state, torch.random.get_rng_state())


def test_pickle_and_joblib_still_work(models, tmp_path):
    est, X = models["clf-str-bidir-attention"]
    _assert_same_outputs(est, pickle.loads(pickle.dumps(est)), X)
    joblib.dump(est, tmp_path / "m.joblib")
    _assert_same_outputs(est, joblib.load(tmp_path / "m.joblib"), X)


# ------------------------------------------------------------------ pipelines
def _double(Z):
    return Z * 2.0


def test_pipeline_skrnn_step_saved_alone_and_put_back(tmp_path):
    X = np.random.RandomState(0).normal(size=(30, 5))
    y = (X.sum(1) > 0).astype(int)
    pipe = make_pipeline(
        FunctionTransformer(_double), RNNClassifier(**SMALL)
    ).fit(X, y)
    with pytest.raises(TypeError, match="pickle or joblib"):
        save(pipe, tmp_path / "all.skrnn")  # a function cannot be stored safely
    pipe[-1].save(tmp_path / "clf.skrnn")
    fresh = pickle.loads(pickle.dumps(pipe))  # the rest travels as the user likes
    fresh.set_params(rnnclassifier=load(tmp_path / "clf.skrnn"))
    np.testing.assert_array_equal(fresh.predict_proba(X), pipe.predict_proba(X))


def test_whole_pipeline_of_supported_steps(tmp_path):
    prep = pytest.importorskip("skrnn.preprocessing")
    SequencePadder, SequenceScaler = prep.SequencePadder, prep.SequenceScaler

    X = _ragged(n=24)
    y = np.arange(24) % 2
    pipe = Pipeline(
        [("scale", SequenceScaler()), ("pad", SequencePadder()), ("clf", RNNClassifier(**SMALL))]
    ).fit(X, y)
    save(pipe, tmp_path / "pipe.skrnn")
    loaded = load(tmp_path / "pipe.skrnn")
    assert isinstance(loaded, Pipeline) and list(loaded.named_steps) == ["scale", "pad", "clf"]
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))

    tab = make_pipeline(StandardScaler(), RNNRegressor(**SMALL)).fit(X=np.eye(6) + 1, y=np.arange(6.0))
    save(tab, tmp_path / "tab.skrnn")
    np.testing.assert_array_equal(load(tmp_path / "tab.skrnn").predict(np.eye(6)), tab.predict(np.eye(6)))


def test_save_refuses_what_it_cannot_store_safely(tmp_path):
    class MyAdam(torch.optim.Adam):
        pass

    X = _ragged(n=10)
    est = RNNClassifier(optimizer=MyAdam, **{**SMALL, "max_iter": 1}).fit(X, np.arange(10) % 2)
    with pytest.raises(TypeError, match="set_params\\(optimizer='adam'\\)"):
        est.save(tmp_path / "m.skrnn")
    assert not os.path.exists(tmp_path / "m.skrnn")
    est.set_params(optimizer="adam").save(tmp_path / "m.skrnn")  # the documented way out
    with pytest.raises(TypeError, match="skrnn estimators"):
        save(object(), tmp_path / "x.skrnn")
    assert sorted(os.listdir(tmp_path)) == ["m.skrnn"]


def test_state_holds_no_torch_object_so_any_device_loads_it(models):
    """pickle, copy and skops see the network as numpy weights (the CPU copy
    of CUDA weights; tests/train/test_cuda.py runs it on a GPU) plus its spec."""
    est, X = models["clf-int"]
    est.set_params(optimizer=torch.optim.Adam, device=torch.device("cpu"))
    try:
        state = est.__getstate__()
        leaves = []

        def walk(v):
            if isinstance(v, dict):
                [walk(x) for x in v.values()]
            elif isinstance(v, (list, tuple)):
                [walk(x) for x in v]
            else:
                leaves.append(v)

        walk(state)
        assert not any(type(v).__module__.startswith("torch") for v in leaves)
        assert state["_network_spec"] == {"n_inputs": 2, "n_outputs": 2}
        assert state["_torch_params"] == {"optimizer": ["optimizer", "Adam"], "device": ["device", "cpu"]}
        copied = pickle.loads(pickle.dumps(est))
        assert copied.optimizer is torch.optim.Adam and copied.device == torch.device("cpu")
        assert copied._optimizer_state["state"][0]["step"].dtype == torch.float32
        _assert_same_outputs(est, copied, X)
    finally:
        est.set_params(optimizer="adam", device="cpu")


def test_pickle_written_by_the_previous_version_still_loads(models):
    """Old pickles hold ``module_`` itself; __setstate__ keeps it as it is."""
    est, X = models["clf-int"]
    old_state = {k: v for k, v in vars(est).items()}
    clone = RNNClassifier.__new__(RNNClassifier)
    clone.__setstate__(old_state)
    _assert_same_outputs(est, clone, X)


# ---------------------------------------------------------------- skops.io
def _each_estimator():
    X, rng = _ragged(n=20), np.random.RandomState(0)
    table = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    words = ["abc", "hello", "xyz", "abcd", "zz"] * 3
    return [
        (RNNClassifier(**SMALL).fit(X, np.arange(20) % 2), X),
        (RNNRegressor(**SMALL).fit(X, np.arange(20.0)), X),
        (Seq2SeqTransformer(hidden_size=6, max_iter=1, random_state=0, device="cpu")
         .fit(words, [w[::-1] for w in words]), words),
        (SequencePadder().fit(X), X),
        (SequenceScaler().fit(X), X),
        (TimeSeriesWindower(window=3).fit(table), table),
        (make_pipeline(SequenceScaler(), RNNClassifier(**SMALL)).fit(X, np.arange(20) % 2), X),
        (make_pipeline(StandardScaler(), PCA(n_components=3), RNNRegressor(**SMALL))
         .fit(rng.normal(size=(20, 6)), np.arange(20.0)), rng.normal(size=(5, 6))),
    ]


def _same_result(a, b, X):
    method = next(m for m in ("predict_proba", "predict", "transform") if hasattr(a, m))
    u, v = getattr(a, method)(X), getattr(b, method)(X)
    u, v = (u, v) if isinstance(u, list) else ([u], [v])
    assert len(u) == len(v) and all(np.array_equal(p, q, equal_nan=p.dtype.kind == "f")
                                    if isinstance(p, np.ndarray) else p == q for p, q in zip(u, v))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_skops_dump_and_load_every_estimator_and_pipeline(tmp_path):
    for k, (est, X) in enumerate(_each_estimator()):
        path = tmp_path / f"{k}.skops"
        sio.dump(est, path)
        untrusted = sio.get_untrusted_types(file=path)
        assert untrusted and all(t.startswith("skrnn.") for t in untrusted), untrusted
        assert set(untrusted) <= set(trusted_types())
        with pytest.raises(Exception, match="Untrusted types"):
            sio.load(path)
        loaded = sio.load(path, trusted=untrusted)
        _same_result(loaded, est, X)
        # skrnn's own file is a skops file too, and skrnn.load reads the same
        save(est, tmp_path / f"{k}.skrnn")
        assert sio.get_untrusted_types(file=tmp_path / f"{k}.skrnn") == untrusted
        _same_result(load(tmp_path / f"{k}.skrnn"), est, X)


# --------------------------------------------------------------- signatures
def test_signed_files_verify_only_with_their_key(models, tmp_path):
    est, X = models["clf-int"]
    est.save(tmp_path / "signed.skrnn", key=b"secret")
    est.save(tmp_path / "plain.skrnn")
    _assert_same_outputs(est, load(tmp_path / "signed.skrnn", key=b"secret"), X)
    _assert_same_outputs(est, load(tmp_path / "signed.skrnn", key="secret"), X)  # str keys: UTF-8
    _assert_same_outputs(est, load(tmp_path / "signed.skrnn"), X)  # no key: integrity only
    with pytest.raises(ModelFileError, match="signature"):
        load(tmp_path / "signed.skrnn", key=b"other")
    with pytest.raises(ModelFileError, match="signature is missing"):
        load(tmp_path / "plain.skrnn", key=b"secret")
    # an attacker who edits a signed file can fix the checksum, not the signature
    forged = edit_schema((tmp_path / "signed.skrnn").read_bytes(),
                         lambda s: attrs(s).update(n_iter_=json_value(99)))
    assert load(io.BytesIO(forged)).n_iter_ == 99
    with pytest.raises(ModelFileError, match="signature"):
        load(io.BytesIO(forged), key=b"secret")




# ------------------------------------------------------------ hostile files
@pytest.fixture
def saved(models, tmp_path):
    est, _ = models["clf-int"]
    path = tmp_path / "good.skrnn"
    est.save(path)
    return path


def test_every_corrupted_byte_is_refused_or_harmless(saved, models):
    est, X = models["clf-int"]
    data = bytearray(saved.read_bytes())
    expected = est.predict_proba(X)
    for pos in np.linspace(0, len(data) - 1, 60).astype(int):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        try:
            loaded = load(io.BytesIO(bytes(bad)))
        except ModelFileError:
            continue
        # only zip metadata (timestamps, ...) can change without detection
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def _set_attr(name, value):
    return lambda s: attrs(s).update({name: json_value(value)})


def _set_spec(value):
    return lambda s: attrs(s)["_network_spec"]["content"].update(n_inputs=json_value(value))


def _set_record(key, value):
    return lambda data: build(members(data), record_edit=lambda r: r.update({key: value}))


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set_attr("hidden_size", 8), "do not fit the network"),
        (_set_attr("hidden_size", 10**7), "do not fit the network"),
        (_set_attr("hidden_size", 10**30), "cannot be built"),
        (_set_attr("hidden_size", -3), "cannot be built"),
        (_set_attr("num_layers", 2), "do not fit the network"),
        (_set_attr("cell", "transformer"), "cannot be built"),
        (_set_spec(5), "do not fit the network"),
        (_set_spec(-1), "cannot be built"),
        (_set_spec(True), "do not fit the network"),
        (lambda s: attrs(s).pop("_network_spec"), "cannot be built"),
        (lambda s: attrs(s)["_weights"]["content"].popitem(), "do not fit the network|do not match"),
        (lambda s: attrs(s).update(classes_={"__loader__": "Unknown", "__class__": "x",
                                             "__module__": "y"}), "malformed"),
        (lambda s: attrs(s).update(classes_={"__loader__": "CachedNode", "__class__": "x",
                                             "__module__": "y"}), "CachedNode"),
        (lambda s: attrs(s).update(classes_=dict(attrs(s)["classes_"], file="1.npy")),
         "do not match the arrays"),
        (lambda s: attrs(s).update(n_iter_=dict(json_value(1), content="[1, [2]]")), "JsonNode"),
    ],
)
def test_tampered_schemas_give_clear_errors(saved, edit, message):
    with pytest.raises(ModelFileError, match=message):
        load(io.BytesIO(edit_schema(saved.read_bytes(), edit)))


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("format_version", FORMAT_VERSION + 1, "Upgrade skrnn"),
        ("format_version", "2", "format_version"),
        ("format_version", 1, "format_version"),
        ("format", "something-else", "does not describe a skrnn model"),
        ("sha256", "0" * 64, "checksum"),
    ],
)
def test_tampered_records_give_clear_errors(saved, key, value, message):
    with pytest.raises(ModelFileError, match=message):
        load(io.BytesIO(_set_record(key, value)(saved.read_bytes())))


def test_edit_without_fixing_the_checksum_is_caught(saved):
    data = edit_schema(saved.read_bytes(), _set_attr("n_iter_", 5), fix_checksum=False)
    with pytest.raises(ModelFileError, match="checksum"):
        load(io.BytesIO(data))
    assert load(io.BytesIO(edit_schema(saved.read_bytes(), _set_attr("n_iter_", 5)))).n_iter_ == 5


def test_format_version_1_files_say_how_to_convert(saved):
    parts = members(saved.read_bytes())
    v1 = build({"skrnn.json": json.dumps({"format": "skrnn-model", "format_version": 1}).encode(),
                "tensors.pt": b"PK" + b"\0" * 64}, fix_checksum=False)
    with pytest.raises(ModelFileError, match="format version 1.*pickle.load"):
        load(io.BytesIO(v1))
    plain = build({k: v for k, v in parts.items() if k != "skrnn.json"})
    with pytest.raises(ModelFileError, match="skops.io.load"):
        load(io.BytesIO(plain))


def test_version_mismatch_warns(saved):
    data = _set_record("versions", {"skrnn": "0.0.1"})(saved.read_bytes())
    with pytest.warns(UserWarning, match="saved with skrnn 0.0.1"):
        load(io.BytesIO(data))


# ------------------------------------------------------------------ seq2seq
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_seq2seq_roundtrip(tmp_path):
    words = ["abc", "hello", "xyz", "abcd", "zz"] * 3
    model = Seq2SeqTransformer(hidden_size=6, max_iter=2, random_state=0, device="cpu")
    model.fit(words, [w[::-1] for w in words])
    model.save(tmp_path / "s2s.skrnn")
    loaded = load(tmp_path / "s2s.skrnn")
    assert loaded.predict(words) == model.predict(words)
    np.testing.assert_array_equal(loaded.transform(words), model.transform(words))
    np.testing.assert_array_equal(loaded.output_vocabulary_, model.output_vocabulary_)

    X = _ragged(n=12, F=3)
    auto = Seq2SeqTransformer(hidden_size=6, max_iter=1, random_state=0, device="cpu",
                              attention="luong").fit(X)
    loaded = _roundtrip(auto)
    np.testing.assert_array_equal(loaded.transform(X), auto.transform(X))
    assert all(np.array_equal(a, b) for a, b in zip(loaded.predict(X), auto.predict(X)))
