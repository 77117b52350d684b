"""Safe persistence: round trips, pipelines, CUDA -> CPU, and hostile files.

Every hostile file here must raise ``ModelFileError`` (a ``ValueError``)
and run no code: the malicious payloads would create a marker file if any
part of them were executed.
"""

import hashlib
import io
import json
import os
import pickle
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import skrnn
from skrnn import RNNClassifier, RNNRegressor, load
from skrnn.persistence import FORMAT_VERSION, ModelFileError, save

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
    tokens = [rng.randint(0, 7, size=rng.randint(1, 6)) for _ in range(30)]
    return {
        "clf-int": (RNNClassifier(**SMALL).fit(X, y_int), X),
        "clf-str-bidir-attention": (
            RNNClassifier(bidirectional=True, pooling="attention", cell="gru", **SMALL).fit(X, y_str),
            X,
        ),
        "clf-tokens-early-stopping": (
            RNNClassifier(embedding_dim=3, early_stopping=True, class_weight="balanced", **SMALL)
            .fit(tokens, np.arange(30) % 2),
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


def test_file_is_a_readable_json_document_plus_tensors(models, tmp_path):
    est, _ = models["clf-str-bidir-attention"]
    est.save(tmp_path / "m.skrnn")
    with zipfile.ZipFile(tmp_path / "m.skrnn") as zf:
        assert sorted(zf.namelist()) == ["skrnn.json", "tensors.pt"]
        doc = json.loads(zf.read("skrnn.json"))
    assert doc["format"] == "skrnn-model" and doc["format_version"] == FORMAT_VERSION
    assert doc["versions"]["skrnn"] == skrnn.__version__
    assert doc["versions"]["torch"] == torch.__version__
    obj = doc["object"]
    assert obj["$object"] == "skrnn.classifier.RNNClassifier"
    assert obj["params"]["cell"] == "gru" and obj["params"]["hidden_size"] == 4
    assert obj["attributes"]["classes_"]["$str_array"] == ["cat", "dog", "eel"]


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


# ------------------------------------------------------------------- devices
def test_model_saved_on_cuda_loads_on_cpu(models, tmp_path, monkeypatch):
    """Simulate a GPU machine: the tensors are tagged 'cuda:0' as torch.save
    writes them there. Loading must map them to the CPU."""
    est, X = models["clf-int"]
    gpu_est = pickle.loads(pickle.dumps(est)).set_params(device="cuda")
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        gpu_est.save(tmp_path / "gpu.skrnn")
    with zipfile.ZipFile(tmp_path / "gpu.skrnn") as zf:
        blob = zf.read("tensors.pt")
    if not torch.cuda.is_available():  # the file really is CUDA-tagged
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(io.BytesIO(blob), weights_only=True)
    loaded = load(tmp_path / "gpu.skrnn")
    assert next(loaded.module_.parameters()).device.type == "cpu"
    assert loaded.device == "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "CUDA is not available; predicting on the CPU"
        loaded_proba = loaded.predict_proba(X)
    np.testing.assert_array_equal(loaded_proba, est.predict_proba(X))


# ------------------------------------------------------------ hostile files
def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path, members, fix_checksum=True):
    members = dict(members)
    if fix_checksum and "skrnn.json" in members and "tensors.pt" in members:
        doc = json.loads(members["skrnn.json"])
        doc["tensors_sha256"] = hashlib.sha256(members["tensors.pt"]).hexdigest()
        members["skrnn.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def saved(models, tmp_path):
    est, X = models["clf-int"]
    path = tmp_path / "good.skrnn"
    est.save(path)
    return path


class _Payload:
    """Creates ``marker`` when unpickled, if unpickling ever runs code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_payload_is_live(tmp_path):
    """Guard: the payload used below really does run when unpickled."""
    marker = tmp_path / "live"
    pickle.loads(pickle.dumps(_Payload(marker))).close()
    assert marker.exists()


def _malicious_files(saved, tmp_path, marker):
    good = _members(saved)
    payload = _Payload(marker)
    torch_payload = io.BytesIO()
    torch.save({"t0": payload}, torch_payload)
    torch_payload_global_only = io.BytesIO()
    torch.save({"t0": open}, torch_payload_global_only)
    files = {
        "raw pickle as tensors": _write(
            tmp_path / "a.skrnn", {**good, "tensors.pt": pickle.dumps(payload)}
        ),
        "torch archive with payload": _write(
            tmp_path / "b.skrnn", {**good, "tensors.pt": torch_payload.getvalue()}
        ),
        "torch archive with a global": _write(
            tmp_path / "c.skrnn", {**good, "tensors.pt": torch_payload_global_only.getvalue()}
        ),
        "extra pickle member": _write(
            tmp_path / "d.skrnn", {**good, "payload.pkl": pickle.dumps(payload)}
        ),
        "whole file is a pickle": tmp_path / "e.skrnn",
        "whole file is a joblib dump": tmp_path / "f.skrnn",
        "whole file is torch.save of the payload": tmp_path / "g.skrnn",
    }
    files["whole file is a pickle"].write_bytes(pickle.dumps(payload))
    joblib.dump(payload, files["whole file is a joblib dump"])
    torch.save(payload, files["whole file is torch.save of the payload"])
    for k, (cls, note) in enumerate(
        [("builtins.open", "class"), ("os.system", "class"), ("subprocess.Popen", "class")]
    ):
        doc = json.loads(good["skrnn.json"])
        doc["object"]["$object"] = cls
        files[f"manifest names {cls}"] = _write(
            tmp_path / f"h{k}.skrnn", {**good, "skrnn.json": json.dumps(doc).encode()}
        )
    doc = json.loads(good["skrnn.json"])
    doc["object"]["attributes"]["_label_encoder"]["$object"] = "posix.system"
    files["nested object names posix.system"] = _write(
        tmp_path / "i.skrnn", {**good, "skrnn.json": json.dumps(doc).encode()}
    )
    doc = json.loads(good["skrnn.json"])
    doc["object"]["params"]["optimizer"] = {"$optimizer": "__init__"}
    files["optimizer tag names a non-optimizer"] = _write(
        tmp_path / "j.skrnn", {**good, "skrnn.json": json.dumps(doc).encode()}
    )
    doc = json.loads(good["skrnn.json"])
    doc["object"]["attributes"]["__class__"] = "x"
    files["dunder attribute"] = _write(
        tmp_path / "k.skrnn", {**good, "skrnn.json": json.dumps(doc).encode()}
    )
    return files


def test_malicious_files_are_refused_and_run_nothing(saved, tmp_path):
    marker = tmp_path / "PWNED"
    files = _malicious_files(saved, tmp_path, marker)
    for what, path in files.items():
        with pytest.raises(ModelFileError, match="Cannot load") as info:
            load(path)
        assert not marker.exists(), f"{what}: code ran"
        assert isinstance(info.value, ValueError), what


@pytest.mark.parametrize("cut", [0, 1, 30, 0.25, 0.5, 0.75, -22, -1])
def test_truncated_files_are_refused(saved, tmp_path, cut):
    data = saved.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else cut % len(data)
    path = tmp_path / "cut.skrnn"
    path.write_bytes(data[:n])
    with pytest.raises(ModelFileError):
        load(path)


def test_every_corrupted_byte_is_refused_or_harmless(saved, models, tmp_path):
    est, X = models["clf-int"]
    data = bytearray(saved.read_bytes())
    expected = est.predict_proba(X)
    path = tmp_path / "flip.skrnn"
    for pos in np.linspace(0, len(data) - 1, 60).astype(int):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        path.write_bytes(bytes(bad))
        try:
            loaded = load(path)
        except ModelFileError:
            continue
        # only zip metadata (timestamps, ...) can change without detection
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def test_garbage_and_empty_files(tmp_path):
    for i, data in enumerate([b"", b"not a model", os.urandom(4096), b"PK\x03\x04" + os.urandom(100)]):
        path = tmp_path / f"g{i}"
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match="not a skrnn model file|corrupted"):
            load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.skrnn")


def _tampered(saved, tmp_path, edit, name="t.skrnn"):
    good = _members(saved)
    doc = json.loads(good["skrnn.json"])
    edit(doc)
    return _write(tmp_path / name, {**good, "skrnn.json": json.dumps(doc).encode()})


def _set(path, value):
    def edit(doc):
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set(["format_version"], FORMAT_VERSION + 1), "Upgrade skrnn"),
        (_set(["format_version"], "1"), "format_version"),
        (_set(["format_version"], 0), "format_version"),
        (_set(["format"], "something-else"), "does not describe a skrnn model"),
        (_set(["object", "params", "hidden_size"], 8), "do not fit the network"),
        (_set(["object", "params", "hidden_size"], -3), "malformed"),
        (_set(["object", "params", "cell"], "transformer"), "malformed"),
        (
            _set(["object", "attributes", "module_", "$module", "spec", "$dict", 0, 1], 5),
            "do not fit the network",
        ),
        (_set(["object", "attributes", "classes_"], {"$array": "t999", "dtype": "<i8"}), "missing tensor"),
        (_set(["object", "attributes", "classes_"], {"$unknown": 1}), "unknown tag"),
        (_set(["object", "attributes", "classes_"], {"$array": "t0", "dtype": "V8"}), "invalid dtype"),
        (_set(["object", "attributes", "classes_"], {"$float": "1e999"}), "invalid float"),
        (_set(["object", "params"], []), "params and attributes"),
        (_set(["object", "params", "hidden_size"], {"$tuple": [], "x": 1}), "unexpected keys"),
        (_set(["object"], {"no": "object"}), "holds no estimator"),
        (_set(["tensors_sha256"], "0" * 64), "checksum"),
    ],
)
def test_tampered_documents_give_clear_errors(saved, tmp_path, edit, message):
    good = _members(saved)
    doc = json.loads(good["skrnn.json"])
    edit(doc)
    fix = message != "checksum"  # keep the forged checksum in that one case
    path = _write(tmp_path / "t.skrnn", {**good, "skrnn.json": json.dumps(doc).encode()}, fix)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_non_standard_json_is_refused(saved, tmp_path):
    good = _members(saved)
    text = json.dumps(json.loads(good["skrnn.json"])).replace('{"$float": "nan"}', "NaN")
    assert "NaN" in text
    path = _write(tmp_path / "nan.skrnn", {**good, "skrnn.json": text.encode()})
    with pytest.raises(ModelFileError, match="non-standard JSON"):
        load(path)
    deep = _write(tmp_path / "deep.skrnn", {**good, "skrnn.json": b"[" * 100000 + b"]" * 100000}, False)
    with pytest.raises(ModelFileError, match="not valid JSON|does not describe"):
        load(deep)


def test_version_mismatch_warns(saved, tmp_path):
    path = _tampered(saved, tmp_path, _set(["versions", "skrnn"], "0.0.1"))
    with pytest.warns(UserWarning, match="saved with skrnn 0.0.1"):
        load(path)


# ------------------------------------------------------------------ seq2seq
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_seq2seq_roundtrip(tmp_path):
    seq2seq = pytest.importorskip("skrnn.seq2seq")
    from skrnn import _engine

    if "batch_loss" not in _engine.TrainConfig.__dataclass_fields__:
        pytest.skip("this engine cannot train Seq2SeqTransformer yet")
    words = ["abc", "hello", "xyz", "abcd", "zz"] * 3
    model = seq2seq.Seq2SeqTransformer(hidden_size=6, max_iter=2, random_state=0, device="cpu")
    model.fit(words, [w[::-1] for w in words])
    model.save(tmp_path / "s2s.skrnn")
    loaded = load(tmp_path / "s2s.skrnn")
    assert loaded.predict(words) == model.predict(words)
    np.testing.assert_array_equal(loaded.transform(words), model.transform(words))
    np.testing.assert_array_equal(loaded.output_vocabulary_, model.output_vocabulary_)

    X = _ragged(n=12, F=3)
    auto = seq2seq.Seq2SeqTransformer(hidden_size=6, max_iter=1, random_state=0, device="cpu",
                                      attention="luong").fit(X)
    loaded = _roundtrip(auto)
    np.testing.assert_array_equal(loaded.transform(X), auto.transform(X))
    assert all(np.array_equal(a, b) for a, b in zip(loaded.predict(X), auto.predict(X)))
