"""Hostile inputs and faults that are not model files: failed and
interrupted fits leave the estimator exactly as it was, seeded fits in
threads equal sequential ones, a refit is published at once, token ids and
long sequences are bounded, and scalers refuse overflowing data.

(Crafted model files are in tests/persistence/test_hostile.py.)
"""

import os
import signal
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed

import skrnn
from conftest import ragged_labelled
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.exceptions import TrainingDivergedError
from skrnn.preprocessing import SequenceScaler

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SKRNN_DIR = os.path.dirname(skrnn.__file__)


def _clf(**kw):
    params = dict(hidden_size=4, batch_size=8, max_iter=2, random_state=0, device="cpu",
                  lr_schedule="constant")
    return RNNClassifier(**{**params, **kw})


def _deep_equal(a, b):
    if torch.is_tensor(a):
        return torch.is_tensor(b) and a.dtype == b.dtype and a.shape == b.shape and bool(
            torch.equal(a, b)
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(
            a, b, equal_nan=a.dtype.kind == "f"
        )
    if isinstance(a, torch.nn.Module):
        return isinstance(b, torch.nn.Module) and _deep_equal(a.state_dict(), b.state_dict())
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _deep_equal(a[k], b[k]) for k in a
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_deep_equal, a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return type(a) is type(b) and _deep_equal(vars(a), vars(b))
    return a == b


def _deep_copy_state(est):
    """Every attribute, deep-copied (tensors cloned), for comparison later."""
    import copy

    return {k: copy.deepcopy(v) for k, v in vars(est).items()}


def _assert_state_equal(est, saved):
    assert vars(est).keys() == saved.keys()
    for name, value in saved.items():
        assert _deep_equal(getattr(est, name), value), f"attribute {name} changed"


def _warm(X, y, **kw):
    est = _clf(warm_start=True, optimizer="adam", **kw).fit(X, y)
    assert int(est._optimizer_state["state"][0]["step"]) > 0
    return est


def raising_optimizer(at_call, exc=RuntimeError):
    """An Adam whose ``at_call``-th ``step`` raises ``exc``."""

    class Raising(torch.optim.Adam):
        calls = 0

        def step(self, closure=None):
            type(self).calls += 1
            if type(self).calls == at_call:
                raise exc("injected") if exc is not KeyboardInterrupt else exc
            return super().step(closure)

    return Raising


# ------------------------------------------------------- atomic failed fits
@pytest.mark.parametrize("at_call", [1, 4, 9])
def test_failed_warm_start_from_a_raising_optimizer_changes_nothing(at_call):
    X, y = ragged_labelled(40, F=2, seed=0, lo=2, hi=7)
    est = _clf(warm_start=True, optimizer=raising_optimizer(10**9)).fit(X, y)
    saved = _deep_copy_state(est)
    est.set_params(optimizer=raising_optimizer(at_call), max_iter=3)
    with pytest.raises(RuntimeError, match="injected"):
        est.fit(X, y)
    saved["optimizer"] = est.optimizer
    saved["max_iter"] = 3
    _assert_state_equal(est, saved)


def test_diverged_warm_start_keeps_the_optimizer_state():
    X, y = ragged_labelled(40, F=2, seed=0, lo=2, hi=7)
    est = RNNRegressor(hidden_size=4, batch_size=8, max_iter=2, random_state=0,
                       warm_start=True, optimizer="adam").fit(X, y.astype(float))
    step = est._optimizer_state["state"][0]["step"].clone()
    saved = _deep_copy_state(est)
    yy = np.full(len(y), 3e38)  # finite in float32, squares to inf
    with pytest.raises(TrainingDivergedError):
        est.fit(X, yy)
    _assert_state_equal(est, saved)
    assert torch.equal(est._optimizer_state["state"][0]["step"], step)


def test_changed_learning_rate_is_honoured_under_warm_start():
    X, y = ragged_labelled(40, F=2, seed=0, lo=2, hi=7)
    est = _warm(X, y, learning_rate_init=1e-3)
    est.set_params(learning_rate_init=0.05, alpha=1e-3).fit(X, y)
    groups = est._optimizer_state["param_groups"]
    assert all(g["lr"] == 0.05 and g["weight_decay"] == 1e-3 for g in groups)


class _InterruptAtCall:
    """Raise KeyboardInterrupt at the ``k``-th call of a function defined in
    skrnn (counted over the current thread), as Ctrl-C landing there would."""

    def __init__(self, k):
        self.k, self.calls = k, 0

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(SKRNN_DIR):
            self.calls += 1
            if self.calls == self.k:
                sys.settrace(None)
                raise KeyboardInterrupt
        return None


def _count_skrnn_calls(fn):
    counter = _InterruptAtCall(-1)
    sys.settrace(counter)
    try:
        fn()
    finally:
        sys.settrace(None)
    return counter.calls


@pytest.mark.parametrize("early_stopping", [False, True])
def test_interrupt_anywhere_in_a_warm_fit_is_atomic_or_honest(early_stopping):
    """Sweep the interrupt over the whole fit path: it either propagates with
    every attribute unchanged, or ends training with the documented warning,
    a usable model and n_iter_ counting the completed epochs; the next fit
    always works."""
    X, y = ragged_labelled(40, F=2, seed=1, lo=2, hi=6)  # the validation floor needs 40
    kw = dict(early_stopping=early_stopping, validation_fraction=0.3, max_iter=2)
    base = _warm(X, y, **kw)
    total = _count_skrnn_calls(lambda: _warm(X, y, **kw).fit(X, y))
    assert total > 50
    outcomes = set()
    for k in np.unique(np.linspace(1, total, 40).astype(int)):
        est = _warm(X, y, **kw)
        saved = _deep_copy_state(est)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            sys.settrace(_InterruptAtCall(int(k)))
            try:
                est.fit(X, y)
                escaped = False
            except KeyboardInterrupt:
                escaped = True
            finally:
                sys.settrace(None)
        if escaped:
            outcomes.add("atomic")
            _assert_state_equal(est, saved)
        elif any("interrupted" in str(w.message) for w in record):
            outcomes.add("interrupted")
            gained = est.n_iter_ - base.n_iter_
            assert 0 <= gained < 2 and len(est.loss_curve_) == est.n_iter_
            assert est.predict(X).shape == (len(X),)
        else:
            outcomes.add("completed")  # landed after the last skrnn call
        # torch and the estimator are usable for the next fit
        est.fit(X, y)
        assert est.n_iter_ >= base.n_iter_ + 2
    assert {"atomic", "interrupted"} <= outcomes


def test_importing_skrnn_does_no_work_beyond_defining_things():
    """Importing skrnn neither imports torch's lazily imported modules nor
    touches the SIGINT handler; the first fit imports them (with Ctrl-C held
    back) and leaves the handler as it found it."""
    code = (
        "import signal, sys\n"
        "before = signal.getsignal(signal.SIGINT)\n"
        "import skrnn\n"
        "print('dynamo' in ' '.join(m for m in sys.modules if m.startswith('torch._dynamo')))\n"
        "print(signal.getsignal(signal.SIGINT) is before)\n"
        "import numpy as np\n"
        "X = np.random.RandomState(0).normal(size=(8, 3, 2)); y = np.arange(8) % 2\n"
        "skrnn.RNNClassifier(hidden_size=2, max_iter=1).fit(X, y)\n"
        "print('torch._dynamo' in sys.modules, signal.getsignal(signal.SIGINT) is before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True", "True", "True"]


def test_lazy_torch_imports_hold_ctrl_c_back(monkeypatch):
    """torch imports torch._dynamo lazily on the first optimizer; skrnn's
    engine imports it at the first fit, holding back a Ctrl-C until it is
    complete."""
    from skrnn._train import setup as _setup

    imported = []

    def import_and_interrupt(name):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the imports
        imported.append(name)

    monkeypatch.setattr(_setup.importlib, "import_module", import_and_interrupt)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        _setup._import_lazy_torch_modules()
    assert len(imported) == 2  # every import ran to the end before the interrupt
    assert signal.getsignal(signal.SIGINT) is handler


# ------------------------------------------------------------------ threads
CONFIGS = [
    dict(random_state=0),
    dict(random_state=1, num_layers=2, dropout=0.5),
    dict(random_state=2, cell="gru", num_layers=2, dropout=0.3, bidirectional=True),
    dict(random_state=3, early_stopping=True, validation_fraction=0.25),
    dict(random_state=4, num_layers=2, dropout=0.4, shuffle=True),
    dict(random_state=0, num_layers=2, dropout=0.5),
]


def _fit_config(config, X, y):
    est = _clf(max_iter=3, **config).fit(X, y)
    return est.predict_proba(X), est.loss_curve_


def test_seeded_fits_in_threads_equal_sequential_fits():
    X, y = ragged_labelled(48, F=2, seed=3, lo=3, hi=9)
    sequential = [_fit_config(c, X, y) for c in CONFIGS]
    threaded = Parallel(n_jobs=4, backend="threading")(
        delayed(_fit_config)(c, X, y) for c in CONFIGS
    )
    for (p_seq, c_seq), (p_thr, c_thr) in zip(sequential, threaded):
        np.testing.assert_array_equal(p_thr, p_seq)
        assert c_thr == c_seq
    # dropout is drawn: same seed, dropout on and off differ
    assert sequential[0][1] != sequential[5][1]


def test_seq2seq_teacher_forcing_in_threads_equals_sequential():
    X = ["abcab", "bca", "cabbc", "aab"] * 3
    y = [s[::-1] for s in X]

    def fit(seed):
        m = Seq2SeqTransformer(hidden_size=8, max_iter=2, random_state=seed,
                               teacher_forcing=0.5, num_layers=2, dropout=0.3).fit(X, y)
        return m.loss_curve_

    sequential = [fit(s) for s in range(4)]
    assert Parallel(n_jobs=4, backend="threading")(delayed(fit)(s) for s in range(4)) == sequential


def test_fit_does_not_touch_the_global_torch_generator():
    state = torch.get_rng_state()
    _clf(num_layers=2, dropout=0.5).fit(*ragged_labelled(20, F=2, seed=0))
    assert torch.equal(torch.get_rng_state(), state)


def test_predict_during_a_refit_sees_the_old_or_the_new_model():
    X, y = ragged_labelled(30, F=2, seed=0, lo=2, hi=6)
    y_new = np.array(["p", "q", "r"])[np.arange(30) % 3]
    est = _clf(max_iter=1).fit(X, y)
    old = est.predict(X), est.predict_proba(X)
    new_est = _clf(max_iter=1).fit(X, y_new)
    new = new_est.predict(X), new_est.predict_proba(X)
    seen, errors, stop = [], [], threading.Event()

    def predict_loop():
        while not stop.is_set():
            try:
                seen.append((est.predict(X), est.predict_proba(X)))
            except Exception as exc:  # a mix fails or gives other labels
                errors.append(exc)

    thread = threading.Thread(target=predict_loop)
    thread.start()
    try:
        for labels in [y_new, y, y_new, y, y_new]:
            est.fit(X, labels)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) > 0
    for labels, proba in seen:
        # each call is consistent, and each is the old or the new model
        assert any(
            np.array_equal(labels, ref[0]) for ref in (old, new)
        ), labels
        assert any(
            proba.shape == ref[1].shape and np.array_equal(proba, ref[1]) for ref in (old, new)
        )


# --------------------------------------------------------------- token ids
@pytest.mark.parametrize("big", [10**12, 2**63 - 1])
def test_huge_token_ids_map_through_a_vocabulary(big):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 3, size=(20, 5)).astype(np.int64) * (big // 2)
    y = (X[:, 0] > 0).astype(int)
    est = _clf(embedding_dim=3).fit(X, y)
    assert est.n_tokens_ == 3
    assert est.module_.embedding.num_embeddings == 4  # + the unknown row
    # an unseen id uses the unknown row: same output as another unseen id
    a = est.predict_proba(np.full((1, 5), 7, dtype=np.int64))
    b = est.predict_proba(np.full((1, 5), 12345, dtype=np.int64))
    np.testing.assert_array_equal(a, b)


def test_embedding_is_sized_by_the_distinct_ids():
    """Small ids too: one row per distinct id, and ids unseen in fit (even
    ones between the seen ids) share the unknown row."""
    X = np.array([[1, 5, 10]] * 10, dtype=np.int64)
    est = _clf(embedding_dim=2).fit(X, np.arange(10) % 2)
    assert est.n_tokens_ == 3 and est.module_.embedding.num_embeddings == 4
    a = est.predict_proba(np.array([[1, 7, 10]]))
    b = est.predict_proba(np.array([[1, 0, 10]]))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.full((4, 3), 2**64 - 1, dtype=np.uint64), ValueError, "int64 range"),
        (np.full((4, 3), 1e30), ValueError, "int64 range"),
        (np.full((4, 3), 2.0**63), ValueError, "int64 range"),
        (np.full((4, 3), 1.5), TypeError, "non-integer"),
        (np.array([["a", "b", "c"]] * 4, dtype=object), TypeError, "not numbers"),
        (np.array([["a", "b", "c"]] * 4), TypeError, "integer token ids"),
    ],
)
def test_bad_token_ids_get_clear_errors(X, error, match):
    with pytest.raises(error, match=match):
        _clf(embedding_dim=2).fit(X, np.arange(4) % 2)


# -------------------------------------------------------- memory of batches
def test_seq2seq_on_one_long_string_is_refused_at_once():
    text = "abcdefgh" * 1250  # 10,000 characters
    with pytest.raises(ValueError, match=r"GiB.*SKRNN_MAX_BATCH_BYTES"):
        Seq2SeqTransformer(max_iter=1, random_state=0).fit([text])


def test_batch_memory_bound_follows_the_environment(monkeypatch):
    X, y = ragged_labelled(16, F=2, seed=0, lo=40, hi=50)
    monkeypatch.setenv("SKRNN_MAX_BATCH_BYTES", "1e5")
    with pytest.raises(ValueError, match="tbptt_steps"):
        _clf(hidden_size=8).fit(X, y)
    # truncated BPTT is not bounded by it
    _clf(hidden_size=8, tbptt_steps=5, bidirectional=False, pooling="last").fit(X, y)
    monkeypatch.setenv("SKRNN_MAX_BATCH_BYTES", "1e9")
    _clf(hidden_size=8).fit(X, y)


# ------------------------------------------------------------------ scalers
def test_scaler_refuses_data_that_overflows():
    X = np.full((3, 4, 1), 1e307)
    X[0] *= -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning either
        with pytest.raises(ValueError, match="overflow"):
            SequenceScaler().fit(X)
        scaler = SequenceScaler().fit(np.full((3, 4, 1), 1.0) + np.arange(4)[:, None])
        scaler.scale_ = np.array([1e-300])
        with pytest.raises(ValueError, match="overflow"):
            scaler.transform(np.full((3, 4, 1), 1e10))
