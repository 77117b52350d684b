"""Reliability of model files, saves, threads and schedules: bounded
loading (chunked reads, an address-space limit, peak memory and time
against the inflated size), files that set only what an estimator has and
what its constraints allow, saves that keep the replaced file's mode and
symlinks, per-thread ``n_threads``, signing keys, a warm-up that survives a
large ``max_iter``, and missing classification labels."""

import io
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import torch
from _modelfiles import attrs, build, edit_schema, json_value, members
from torch.optim import lr_scheduler

from skrnn import RNNClassifier, RNNRegressor, SequenceScaler, load
from skrnn._train import schedules as _schedules
from skrnn._train.threads import torch_threads
from skrnn.callbacks import Checkpoint
from skrnn.persistence import ModelFileError, save
from skrnn.persistence._checks import FITTED_STATE, MAX_THREADS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = dict(hidden_size=3, max_iter=1, random_state=0, device="cpu")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted():
    X = np.random.RandomState(0).normal(size=(20, 4, 2))
    return RNNClassifier(**SMALL).fit(X, np.arange(20) % 2), X


@pytest.fixture(scope="module")
def good(fitted):
    buf = io.BytesIO()
    fitted[0].save(buf)
    return buf.getvalue()


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _array_node(cls, file):
    return {"__class__": cls, "__module__": "numpy", "__loader__": "NdArrayNode", "type": "numpy", "file": file}


def _with_array(good, key, cls, array):
    """``good`` whose attribute ``key`` is an array node of class ``cls``
    holding ``array`` in a new member."""
    parts = members(good)
    parts["999.npy"] = _npy(array)
    schema = json.loads(parts["schema.json"])
    attrs(schema)[key] = _array_node(cls, "999.npy")  # a new key is refused before its type matters
    parts["schema.json"] = json.dumps(schema).encode()
    return build(parts)


def _refused(data, match, **kwargs):
    with pytest.raises(ModelFileError, match=match):
        load(io.BytesIO(data), **kwargs)


# ------------------------------------------------------------ 1, 4: bounded reads
class _Recording(io.RawIOBase):
    """A binary file that records the sizes asked of read()."""

    def __init__(self, data, seekable):
        self._f, self._seekable, self.asked = io.BytesIO(data), seekable, []

    def readable(self):
        return True

    def seekable(self):
        return self._seekable

    def read(self, n=-1):
        self.asked.append(n)
        return self._f.read(n)

    def seek(self, offset, whence=0):
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()


@pytest.mark.parametrize("seekable", [True, False])
def test_load_reads_in_chunks_never_the_cap(fitted, good, seekable):
    est, X = fitted
    f = _Recording(good, seekable)
    loaded = load(f)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert f.asked and all(0 <= n <= 4 * 2**20 for n in f.asked)  # never max_bytes + 1 (2 GiB)
    with pytest.raises(ModelFileError, match="larger than max_bytes"):
        load(_Recording(good, seekable), max_bytes=len(good) - 1)


_UNDER_LIMIT = textwrap.dedent("""
    import io, resource, sys, warnings, zlib
    import numpy as np, torch
    sys.path.insert(0, "tests/persistence")
    from _modelfiles import build, members
    from skrnn import RNNClassifier, load
    from skrnn.persistence import ModelFileError
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    X = np.random.RandomState(0).normal(size=(20, 4, 2))
    est = RNNClassifier(hidden_size=3, max_iter=1, random_state=0, device="cpu").fit(X, np.arange(20) % 2)
    path, bad = sys.argv[1], sys.argv[2]
    est.save(path)
    parts = members(open(path, "rb").read())
    name = sorted(n for n in parts if n.endswith(".npy"))[0]
    parts[name] = parts[name][:-4] + b"\\x01\\x02\\x03\\x04"
    open(bad, "wb").write(build(parts, fix_checksum=False))
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    assert np.array_equal(load(path).predict_proba(X), est.predict_proba(X))
    assert np.array_equal(load(open(path, "rb")).predict_proba(X), est.predict_proba(X))
    try:
        load(bad)
        print("hostile file loaded")
    except ModelFileError as exc:
        print("refused:", exc)
    print("ok")
""")


def test_loading_under_a_3_gib_address_space_limit(tmp_path):
    """A process limited to 3 GiB of address space (``ulimit -v``) loads a
    small model file and refuses a hostile one: the default cap of 2 GiB is
    never reserved up front."""
    proc = subprocess.run([sys.executable, "-c", _UNDER_LIMIT, str(tmp_path / "m.skrnn"), str(tmp_path / "b.skrnn")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "ok" and lines[-2].startswith("refused:") and "checksum" in lines[-2]


def test_peak_memory_and_time_of_a_load_against_the_inflated_size():
    """load_memory.py (run by benchmarks/bench_load_memory.py) on a 128 MiB file: a refused file
    costs at most its inflated size + 100 MiB, a valid one 3 x + 100 MiB
    (the time bound is loose here; the README quotes the measured one)."""
    import load_memory as bench
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        files = bench.write_files(128, directory, deflated=False)
        size = bench.inflated_size(files["valid"])
        assert size > 100 * 2**20
        valid, refused = bench.measure(files["valid"]), bench.measure(files["refused"])
    assert valid["outcome"] == "loaded" and refused["outcome"] == "refused"
    assert refused["peak"] <= size + 100 * 2**20, refused
    assert valid["peak"] <= 3 * size + 100 * 2**20, valid
    assert max(valid["seconds"], refused["seconds"]) < 5 * size / (100 * 2**20) + 2


# ---------------------------------------------------------- 2: array classes
@pytest.mark.parametrize("cls", ["void", "bytes_", "str_", "object_", "dtype", "memmap", "recarray", "matrix"])
def test_array_nodes_name_only_numeric_numpy_classes(good, cls):
    """``numpy.void(2**31 - 1)`` would allocate 2 GiB from a 136-byte array."""
    _refused(_with_array(good, "n_iter_", cls, np.int64(2**31 - 1)), "numeric numpy arrays and scalars")


def test_numeric_scalar_classes_hold_one_value_of_their_type(good):
    _refused(_with_array(good, "best_loss_", "complex128", np.zeros(1000, np.int8)), "stored as numpy.complex128")
    _refused(_with_array(good, "best_loss_", "float64", np.int64(3)), "stored as numpy.float64")
    loaded = load(io.BytesIO(_with_array(good, "best_loss_", "float64", np.float64(0.25))))
    assert loaded.best_loss_ == 0.25 and type(loaded.best_loss_) is np.float64


def test_state_holds_only_parameters_and_fitted_attributes(good):
    _refused(_with_array(good, "payload", "ndarray", np.zeros(4)), r"sets \['payload'\], which are neither")
    _refused(edit_schema(good, lambda s: attrs(s).update(module_=json_value(1))), "neither its parameters")
    scaler = io.BytesIO()  # skrnn's transformers are checked the same way
    save(SequenceScaler().fit(np.ones((3, 4, 2))), scaler)
    _refused(edit_schema(scaler.getvalue(), lambda s: attrs(s).update(extra=json_value(1))), "neither its")


def test_the_list_of_fitted_attributes_covers_every_configuration():
    """What fit sets is what a model file may set: a new fitted attribute
    must be added to ``skrnn.persistence.FITTED_STATE``."""
    from skrnn.persistence._checks import _state_keys

    allowed = _state_keys()
    X = np.random.RandomState(0).normal(size=(40, 4, 2))
    y = np.arange(40) % 2
    tokens = [np.arange(k % 5 + 1) for k in range(40)]
    import pandas as pd

    fits = [
        RNNClassifier(**SMALL).fit(X, y),
        RNNClassifier(**SMALL, early_stopping=True, embedding_dim=2).fit(tokens, y),
        RNNClassifier(**SMALL).fit(pd.DataFrame(X[:, :, 0], columns=list("abcd")), y),
        RNNRegressor(**SMALL, loss="quantile", quantiles=(0.1, 0.5, 0.9)).fit(X, np.c_[y, y] * 1.0),
        RNNRegressor(**SMALL, return_sequences=True).fit(X, X[:, :, 0]),
        SequenceScaler().fit(X),
    ]
    from skrnn import Seq2SeqTransformer

    fits.append(Seq2SeqTransformer(**SMALL).fit(["abc", "bcd"] * 5, ["cb", "dc"] * 5))
    for est in fits:
        keys = set(est.__getstate__())
        assert keys <= allowed[f"{type(est).__module__}.{type(est).__name__}"], keys
    assert "classes_" in FITTED_STATE["RNNClassifier"]


# ------------------------------------------------------------ 3: parameters
def test_parameters_from_a_file_pass_the_users_constraints():
    scaler = io.BytesIO()
    save(SequenceScaler(), scaler)
    _refused(edit_schema(scaler.getvalue(), lambda s: attrs(s).update(with_mean=json_value("yes"))),
             "invalid parameter")
    unfitted = io.BytesIO()
    save(RNNClassifier(), unfitted)
    _refused(edit_schema(unfitted.getvalue(), lambda s: attrs(s).update(hidden_size=json_value(-3))),
             "invalid parameter")


def test_n_threads_is_clamped_to_the_cores_and_absurd_values_refused(fitted, good):
    est, X = fitted
    edit = lambda n: edit_schema(good, lambda s: attrs(s).update(n_threads=json_value(n)))  # noqa: E731
    _refused(edit(10**6), f"at most {MAX_THREADS}")
    loaded = load(io.BytesIO(edit(2000)))  # saved on a bigger machine: loads and runs on this one
    assert loaded.n_threads == 2000
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    seen = []
    with torch_threads(2000):
        seen.append(torch.get_num_threads())
    assert seen[0] <= (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())


# ------------------------------------------------- 5: what loads also predicts
def test_classes_must_match_the_network(fitted, good):
    parts = members(good)
    schema = json.loads(parts["schema.json"])
    name = attrs(schema)["classes_"]["file"]  # the label encoder's classes_ is the same member
    parts[name] = _npy(np.array([0]))
    _refused(build(parts), "has 1 classes but its network 2 outputs")


def _skops_node(obj):
    """The skops schema node of a plain Python value."""
    import skops.io as sio

    return json.loads(members(sio.dumps(obj))["schema.json"])


def _codec(**entries):
    return lambda schema: attrs(schema).update(_torch_params=_skops_node(entries))


def test_a_network_on_the_meta_device_is_refused(good):
    _refused(edit_schema(good, lambda s: attrs(s).update(device=json_value("meta"))), "device='meta'")
    _refused(edit_schema(good, _codec(device=["device", "meta"])), "device=device\\(type='meta'\\)")


def test_no_class_where_a_name_is_expected(good):
    type_node = {"__class__": "RNNClassifier", "__module__": "skrnn.classifier", "__loader__": "TypeNode",
                 "content": {"__class__": "RNNClassifier", "__module__": "skrnn.classifier"}}
    _refused(edit_schema(good, lambda s: attrs(s).update(optimizer=type_node)), "to a class or function")
    _refused(edit_schema(good, _codec(optimizer=["optimizer", "RNNClassifier"])), "unknown optimizer")
    _refused(edit_schema(good, _codec(cell=["optimizer", "Adam"])), "claims to be a torch optimizer")
    loaded = load(io.BytesIO(edit_schema(good, _codec(optimizer=["optimizer", "SGD"]))))
    assert loaded.optimizer is torch.optim.SGD


# ------------------------------------------------------- 6: modes and symlinks
@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("writer", ["save", "checkpoint"])
def test_saves_keep_the_mode_and_write_through_symlinks(fitted, tmp_path, umask_027, writer):
    est, X = fitted

    def write(path):
        if writer == "save":
            est.save(path)
        else:
            ckpt = Checkpoint(path, monitor="loss")
            ckpt.on_fit_begin(est)
            ckpt.on_epoch_end(est, 1, {"loss": 1.0})

    new = tmp_path / "new"
    write(new)
    assert _mode(new) == 0o640  # 0o666 & ~umask, as for any new file (not mkstemp's 0o600)
    kept = tmp_path / "v7"
    kept.write_bytes(b"old")
    os.chmod(kept, 0o644)
    write(kept)
    assert _mode(kept) == 0o644 and kept.read_bytes() != b"old"
    current = tmp_path / "current"
    current.symlink_to("v7")
    os.chmod(kept, 0o604)
    write(current)
    assert current.is_symlink() and os.readlink(current) == "v7"
    assert _mode(kept) == 0o604
    assert kept.read_bytes() == current.read_bytes() != b"old"
    if writer == "save":
        np.testing.assert_array_equal(load(current).predict_proba(X), est.predict_proba(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "new", "v7"]  # no temporary left


def test_a_failed_save_leaves_the_file_and_no_temporary(fitted, tmp_path, monkeypatch):
    from skrnn.persistence import _atomic

    target = tmp_path / "model"
    target.write_bytes(b"old")

    def failing(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _atomic.replace_file(target, failing)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["model"]


# ------------------------------------------------- 7: per-thread torch threads
def test_each_thread_gets_its_own_thread_count_back():
    """Two overlapping fits in two threads whose callers run at 2 and 3
    threads: the first to finish gets its own count back at once."""
    X = np.random.RandomState(0).normal(size=(20, 4, 2))
    y = np.arange(20) % 2
    both_in = threading.Barrier(2, timeout=60)
    first_done = threading.Event()
    counts = {}

    class Gate:
        def __init__(self, name):
            self.name = name

        def on_fit_begin(self, est):
            both_in.wait()

        def on_epoch_end(self, est, epoch, logs):
            counts[f"{self.name} in fit"] = torch.get_num_threads()
            if self.name == "b":
                assert first_done.wait(60)

    def run(name, caller_threads):
        torch.set_num_threads(caller_threads)
        est = RNNClassifier(**{**SMALL, "max_iter": 2}, n_threads=1, callbacks=[Gate(name)])
        est.fit(X, y)
        counts[f"{name} after"] = torch.get_num_threads()
        if name == "a":
            first_done.set()

    threads = [threading.Thread(target=run, args=("a", 2)), threading.Thread(target=run, args=("b", 3))]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert counts == {"a in fit": 1, "b in fit": 1, "a after": 2, "b after": 3}


# ------------------------------------------------------------------ 8: keys
@pytest.mark.parametrize("key", [0, 123456, 2**33, b"", "", [], bytearray(b"k"), 1.5])
def test_key_must_be_non_empty_bytes_or_str(fitted, good, tmp_path, key):
    with pytest.raises(TypeError, match="non-empty bytes or str"):
        fitted[0].save(tmp_path / "m", key=key)
    with pytest.raises(TypeError, match="non-empty bytes or str"):
        load(io.BytesIO(good), key=key)
    assert not (tmp_path / "m").exists()


def test_bytes_and_str_keys_sign(fitted, tmp_path):
    for key in (b"secret", "secret"):
        fitted[0].save(tmp_path / "m", key=key)
        assert load(tmp_path / "m", key=b"secret").n_iter_ == 1
        with pytest.raises(ModelFileError, match="signature"):
            load(tmp_path / "m", key="other")


# ------------------------------------------------------------- 9: warm-up
def _rates(schedule, params, epochs, steps_per_epoch, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = _schedules.make_schedule(schedule, params, opt, lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    rates = []
    for _ in range(epochs * steps_per_epoch):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.after_batch()
    return rates


def _rates_before_the_cap(epochs, steps_per_epoch, lr=0.1):
    """The cosine schedule as it was built before the warm-up cap: 5 % of
    all steps, whatever max_iter."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    total = epochs * steps_per_epoch
    warm = int(round(0.05 * total))
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total - warm), eta_min=0.0)
    sched = cosine if warm == 0 else lr_scheduler.SequentialLR(
        opt, [lr_scheduler.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=warm), cosine], [warm])
    rates = []
    for _ in range(total):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


@pytest.mark.parametrize("steps_per_epoch", [1, 3, 7, 40])
@pytest.mark.parametrize("epochs", [100, 20, 60, 150, 200])
def test_default_max_iter_schedule_is_unchanged(epochs, steps_per_epoch):
    """max_iter <= 200 (the default is 100, the recommended configuration
    150): the same rates as before the warm-up cap."""
    assert _rates("cosine", None, epochs, steps_per_epoch) == _rates_before_the_cap(epochs, steps_per_epoch)


def test_warm_up_is_bounded_in_epochs_for_a_large_max_iter():
    rates = _rates("cosine", None, 10_000, 4)
    assert rates[0] == pytest.approx(0.001)
    assert rates[10 * 4] == pytest.approx(0.1)  # full rate after 10 epochs, not after 500
    assert min(rates[10 * 4:20 * 4 + 1]) > 0.0999
    assert _rates("cosine", {"max_warmup_epochs": 50}, 10_000, 4)[50 * 4] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="max_warmup_epochs"):
        _schedules.check_schedule("cosine", {"max_warmup_epochs": -1})


def test_a_fit_stopped_early_ran_at_the_full_rate():
    """max_iter=10_000 left to the stopping rule, stopped after 12 epochs."""
    X = np.random.RandomState(0).normal(size=(32, 4, 2))
    stop = type("Stop", (), {"on_epoch_end": lambda self, est, epoch, logs: epoch >= 12})()
    est = RNNClassifier(**{**SMALL, "max_iter": 10_000}, lr_schedule="cosine", learning_rate_init=0.01,
                        batch_size=16, callbacks=[stop]).fit(X, np.arange(32) % 2)
    assert est.n_iter_ == 12
    assert est.lr_curve_[0] == pytest.approx(1e-4)
    assert est.lr_curve_[7] > 0.6 * 0.01  # 1/40 of the rate with a warm-up of 500 epochs
    assert min(est.lr_curve_[10:]) > 0.00999


# ------------------------------------------------------------ 10: NaN labels
@pytest.mark.parametrize("y", [
    np.array(["a", np.nan, "b", "a", "b", "a"], dtype=object),
    np.array([0.0, 1.0, 1.0, np.nan, 0.0, 1.0]),
    ["a", "b", None, "a", "b", "a"],
])
def test_missing_labels_get_a_clear_error(y):
    X = np.random.RandomState(0).normal(size=(6, 3, 1))
    at = next(i for i, v in enumerate(y) if v is None or (isinstance(v, float) and v != v))
    with pytest.raises(ValueError, match=rf"y holds a missing label \((nan|None) at index {at}, 1 in all\)"):
        RNNClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="classes holds a missing label"):
        RNNClassifier(**SMALL).partial_fit(X, ["a"] * 6, classes=["a", np.nan])
    assert sum(v is None or (isinstance(v, float) and v != v) for v in y) == 1  # y is untouched
