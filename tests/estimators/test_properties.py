"""Property-based tests (hypothesis) of the estimators' input/output contracts.

Random shapes, lengths (1 to hundreds), padding layouts, dtypes and label
types. Models are tiny and fitted once per module where possible; every
``@given`` runs few examples with ``deadline=None`` so the module stays fast.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skrnn import RNNClassifier, RNNRegressor
from skrnn._train import engine as _batches

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TINY = dict(hidden_size=3, max_iter=1, batch_size=16, random_state=0, device="cpu")


def _train_set(F, n=24, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(1, 12), F)) for _ in range(n)]
    return X, np.arange(n) % 3


@pytest.fixture(scope="module")
def classifiers():
    """One fitted classifier per feature count, covering the code paths that
    must ignore padding: bidirectional 'last', 'mean' and 'attention' pooling."""
    configs = {
        1: dict(bidirectional=True, pooling="last", cell="lstm"),
        2: dict(pooling="mean", cell="gru", num_layers=2),
        3: dict(pooling="attention", cell="rnn", bidirectional=True),
    }
    out = {}
    for F, cfg in configs.items():
        X, y = _train_set(F)
        out[F] = RNNClassifier(**cfg, **TINY).fit(X, y)
    return out


@pytest.fixture(scope="module")
def step_regressor():
    X, _ = _train_set(2)
    return RNNRegressor(return_sequences=True, bidirectional=True, **TINY).fit(
        X, [x.sum(1) for x in X]
    )


# ----------------------------------------------------------------- strategies
DTYPES = ["float64", "float32", "float16", "int64", "int32", "int8", "uint8", "bool"]


@st.composite
def ragged_sets(draw, F=None, max_n=7, dtypes=("float64",)):
    """A list of n sequences (T_i, F); lengths from 1 to a few hundred."""
    F = draw(st.integers(1, 3)) if F is None else F
    n = draw(st.integers(1, max_n))
    long_ok = draw(st.booleans())
    lengths = draw(
        st.lists(st.integers(1, 300 if long_ok else 6), min_size=n, max_size=n)
    )
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    if dtype.kind == "f":
        X = [rng.normal(size=(L, F)).astype(dtype) for L in lengths]
    elif dtype.kind == "b":
        X = [rng.rand(L, F) < 0.5 for L in lengths]
    else:
        lo = 0 if dtype.kind == "u" else -5
        X = [rng.randint(lo, 6, size=(L, F)).astype(dtype) for L in lengths]
    return X


def _pad(X, fill, pre=False):
    n, T, F = len(X), max(len(x) for x in X), X[0].shape[1]
    out = np.full((n, T, F), fill, dtype=np.float64)
    for i, x in enumerate(X):
        if pre:
            out[i, T - len(x):] = x
        else:
            out[i, : len(x)] = x
    return out


def _copy(X):
    return copy.deepcopy(X)


def _equal(a, b):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(u, v) for u, v in zip(a, b))
    if isinstance(a, (pd.Series, pd.DataFrame)):
        return a.equals(b) if not isinstance(a, pd.Series) or a.dtype != object else _equal(
            list(a), list(b)
        )
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        a, b, equal_nan=a.dtype.kind in "fc"
    )


# ----------------------------------------------------- padded == ragged
@FAST
@given(data=st.data())
def test_every_padding_layout_gives_the_ragged_answer(classifiers, data):
    F = data.draw(st.integers(1, 3), label="F")
    X = data.draw(ragged_sets(F=F), label="X")
    clf = classifiers[F]
    expected = clf.predict_proba(X)
    lengths = np.array([len(x) for x in X])
    layouts = {
        "post NaN": _pad(X, np.nan),
        "pre NaN": _pad(X, np.nan, pre=True),
        "tuple": tuple(X),
        "object array": np.array(X + [None], dtype=object)[:-1],
        "Series": pd.Series(X),
        "float32 list": [x.astype(np.float32) for x in X],
    }
    garbage = _pad(X, 1e3)
    for name, Xp in layouts.items():
        np.testing.assert_allclose(clf.predict_proba(Xp), expected, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(
        clf.predict_proba(garbage, sequence_lengths=lengths), expected, atol=1e-5,
        err_msg="sequence_lengths",
    )
    zero = clf.set_params(mask_value=0.0)
    try:
        for pre in (False, True):
            np.testing.assert_allclose(
                zero.predict_proba(_pad(X, 0.0, pre=pre)), expected, atol=1e-5,
                err_msg=f"mask_value=0 pre={pre}",
            )
    finally:
        clf.set_params(mask_value=np.nan)
    if F == 1:
        np.testing.assert_allclose(clf.predict_proba([x[:, 0] for x in X]), expected, atol=1e-5)
        np.testing.assert_allclose(clf.predict_proba(_pad(X, np.nan)[:, :, 0]), expected, atol=1e-5)


@FAST
@given(X=ragged_sets(F=2))
def test_per_step_outputs_follow_the_input_layout(step_regressor, X):
    ragged = step_regressor.predict(X)
    assert isinstance(ragged, list) and [r.shape for r in ragged] == [(len(x),) for x in X]
    assert all(r.dtype == np.float64 for r in ragged)
    for pre in (False, True):
        padded = step_regressor.predict(_pad(X, np.nan, pre=pre))
        T = max(len(x) for x in X)
        assert padded.shape == (len(X), T)
        for i, x in enumerate(X):
            real = slice(T - len(x), T) if pre else slice(0, len(x))
            np.testing.assert_allclose(padded[i, real], ragged[i], atol=1e-5)
            assert np.isnan(np.delete(padded[i], np.arange(T)[real])).all()


# ------------------------------------------------ output contracts, dtypes
@FAST
@given(data=st.data())
def test_predict_contracts_and_no_mutation_for_any_dtype(classifiers, data):
    F = data.draw(st.integers(1, 3), label="F")
    X = data.draw(ragged_sets(F=F, dtypes=DTYPES), label="X")
    form = data.draw(st.sampled_from(["list", "padded", "series"]), label="form")
    if form == "padded":
        X = _pad(X, np.nan)
    elif form == "series":
        X = pd.Series(X, index=np.arange(len(X)) * 3 + 7)
    clf = classifiers[F]
    before = _copy(X)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    assert _equal(X, before), "input was modified"
    n = len(X)
    assert proba.shape == (n, len(clf.classes_)) and proba.dtype == np.float64
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert pred.shape == (n,) and pred.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(1)])
    # the same values as float64 give the same answer
    if form != "padded":
        as_float = [np.asarray(x, dtype=np.float64) for x in list(X)]
        np.testing.assert_allclose(clf.predict_proba(as_float), proba, atol=1e-5)


LABELS = {
    "int": np.array([3, -1, 7]),
    "str": np.array(["spam", "ham", "eggs"]),
    "object str": np.array(["a", "bb", "c"], dtype=object),
    "float": np.array([1.0, -2.0, 1e6]),  # integral floats: sklearn reads 0.5 as continuous
    "bool": np.array([True, False]),
    "uint8": np.array([0, 255], dtype=np.uint8),
}


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(sorted(LABELS)),
    container=st.sampled_from(["array", "list", "series"]),
    X=ragged_sets(max_n=1),
    seed=st.integers(0, 1000),
)
def test_label_types_round_trip_through_fit_and_predict(kind, container, X, seed):
    F = X[0].shape[1]
    rng = np.random.RandomState(seed)
    n = 8
    Xtr = [rng.normal(size=(rng.randint(1, 6), F)) for _ in range(n)]
    labels = LABELS[kind]
    y = labels[np.arange(n) % len(labels)]
    y_in = {"array": y, "list": y.tolist(), "series": pd.Series(y)}[container]
    X_before, y_before = _copy(Xtr), _copy(y_in)
    clf = RNNClassifier(hidden_size=2, max_iter=1, random_state=0, device="cpu").fit(Xtr, y_in)
    assert _equal(Xtr, X_before) and _equal(y_in, y_before), "fit modified its input"
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    pred = clf.predict(Xtr)
    assert pred.shape == (n,) and set(pred.tolist()) <= set(np.unique(y).tolist())
    assert clf.predict_proba(X).shape == (len(X), len(np.unique(y)))
    assert 0.0 <= clf.score(Xtr, y_in) <= 1.0


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    X=ragged_sets(max_n=6),
    seed=st.integers(0, 2**31 - 1),
    cfg=st.sampled_from([
        dict(cell="lstm"),
        dict(cell="gru", num_layers=2, dropout=0.3),
        dict(cell="rnn", bidirectional=True, pooling="max"),
        dict(cell="lstm", early_stopping=True, validation_fraction=0.3),
    ]),
)
def test_fixed_random_state_is_deterministic(X, seed, cfg):
    n = 40 if cfg.get("early_stopping") else 12  # early stopping holds out >= 20 samples
    X = (X * n)[:n]
    y = np.arange(len(X)) % 2
    fits = [
        RNNClassifier(hidden_size=3, max_iter=2, batch_size=4, random_state=seed, device="cpu",
                      **cfg).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    assert fits[0].loss_curve_ == fits[1].loss_curve_


@settings(max_examples=6, deadline=None, derandomize=True)
@given(X=ragged_sets(max_n=5), n_outputs=st.integers(0, 3))
def test_regressor_output_shapes(X, n_outputs):
    X = (X * 2)[:8]
    n = len(X)
    y = np.arange(n, dtype=float) if n_outputs == 0 else np.ones((n, n_outputs)) * np.arange(n)[:, None]
    reg = RNNRegressor(hidden_size=2, max_iter=1, random_state=0, device="cpu").fit(X, y)
    pred = reg.predict(X)
    assert pred.dtype == np.float64 and pred.shape == y.shape


# ------------------------------------------------------------ invalid input
def _bad_inputs(F):
    """(description, X, kwargs) that predict must reject with ValueError/TypeError."""
    ok = np.zeros((2, 3, F))
    # a step with only some features NaN (a whole NaN step is skipped, Keras
    # masking: tested in tests/sequences/test_masking.py)
    partial_nan = np.ones((2, 3, F + 1))
    partial_nan[1, 1, 0] = np.nan
    return [
        ("1-D array", np.arange(5.0), {}),
        ("4-D array", np.zeros((2, 3, F, 1)), {}),
        ("0-D", np.float64(3.0), {}),
        ("python scalar", 3, {}),
        ("string", "abc", {}),
        ("None", None, {}),
        ("dict", {"a": ok}, {}),
        ("set", {1, 2}, {}),
        ("empty list", [], {}),
        ("empty array", np.zeros((0, 3, F)), {}),
        ("no time steps", np.zeros((2, 0, F)), {}),
        ("no features", np.zeros((2, 3, 0)), {}),
        ("empty sequence in list", [np.ones((2, F)), np.ones((0, F))], {}),
        ("all-NaN sequence", [np.ones((2, F)), np.full((3, F), np.nan)], {}),
        ("NaN in some features", partial_nan, {}),
        ("NaN in some features of a list", [np.ones((2, F + 1)), np.array([[np.nan] + [1.0] * F])], {}),
        ("only masked steps inside sequence_lengths", np.full((2, 3, F), np.nan),
         {"sequence_lengths": [2, 1]}),
        ("inf", np.full((2, 3, F), np.inf), {}),
        ("-inf in a list", [np.ones((2, F)), np.array([[-np.inf] * F])], {}),
        ("beyond float32", np.full((2, 3, F), 1e300), {}),
        ("strings in arrays", [np.array([["a"] * F])], {}),
        ("string array", np.array([[["x"] * F] * 3] * 2), {}),
        ("numeric strings", np.array([[["1.5"] * F] * 3] * 2), {}),
        ("complex", np.ones((2, 3, F)) * 1j, {}),
        ("datetime", np.array([["2020-01-01"] * 3] * 2, dtype="datetime64[D]"), {}),
        ("None inside list", [np.ones((2, F)), None], {}),
        ("object array of None", np.array([None, None], dtype=object), {}),
        ("mixed feature counts", [np.ones((2, F)), np.ones((2, F + 1))], {}),
        ("wrong feature count", np.ones((2, 3, F + 2)), {}),
        ("3-D per-sample array in list", [np.ones((2, F, 1))], {}),
        ("sparse", sp.csr_matrix(np.ones((2, 3))), {}),
        ("sparse in list", [sp.csr_matrix(np.ones((2, F)))], {}),
        ("nested ragged python lists", [[1.0, 2.0], [3.0]] if F != 1 else [[[1.0, 2.0]], [[3.0]]], {}),
        ("dataframe of objects", pd.DataFrame({"a": [ok, ok]}), {}),
        ("sequence_lengths too long", ok, {"sequence_lengths": [4, 1]}),
        ("sequence_lengths zero", ok, {"sequence_lengths": [0, 1]}),
        ("sequence_lengths negative", ok, {"sequence_lengths": [-1, 1]}),
        ("sequence_lengths wrong count", ok, {"sequence_lengths": [1, 1, 1]}),
        ("sequence_lengths 2-D", ok, {"sequence_lengths": [[1], [1]]}),
        ("sequence_lengths fractional", ok, {"sequence_lengths": [1.5, 1]}),
        ("sequence_lengths strings", ok, {"sequence_lengths": ["a", "b"]}),
        ("sequence_lengths with ragged X", [np.ones((2, F))], {"sequence_lengths": [2]}),
    ]


@pytest.mark.parametrize("F", [1, 3])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_invalid_predict_inputs_raise_value_or_type_error(classifiers, F, method):
    clf = classifiers[F]
    for what, X, kwargs in _bad_inputs(F):
        call = getattr(clf, method)
        args = (X, np.zeros(2, dtype=int)) if method == "score" else (X,)
        try:
            call(*args, **kwargs)
        except (ValueError, TypeError):
            continue
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{method}({what}) raised {type(exc).__name__}: {exc}")
        else:
            if what == "nested ragged python lists" and F == 1:
                continue  # a valid list of univariate sequences
            pytest.fail(f"{method}({what}) was accepted")


@FAST
@given(
    garbage=st.one_of(
        st.none(), st.integers(), st.floats(), st.text(max_size=5), st.binary(max_size=5),
        st.lists(st.one_of(st.none(), st.text(max_size=2), st.floats(), st.integers()), max_size=4),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        st.lists(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4), max_size=4),
        st.lists(st.lists(st.lists(st.floats(-1e40, 1e40), min_size=1, max_size=2), max_size=3),
                 max_size=3),
    )
)
def test_arbitrary_python_values_never_raise_anything_deeper(classifiers, garbage):
    for F, clf in classifiers.items():
        try:
            out = clf.predict_proba(garbage)
        except (ValueError, TypeError):
            continue
        # accepted: it must then be a real answer
        assert out.shape[1] == len(clf.classes_) and np.isfinite(out).all()


def _bad_fits():
    X = [np.ones((2, 1)), np.ones((3, 1)), np.ones((1, 1))]
    return [
        ("y None", X, None, {}),
        ("y too short", X, [0, 1], {}),
        ("y 2-D", X, np.zeros((3, 2)), {}),
        ("y with NaN", X, [0.0, np.nan, 1.0], {}),
        ("y of dicts", X, [{}, {}, {}], {}),
        ("y continuous", X, [0.1, 0.2, 0.3], {}),
        ("sample_weight negative", X, [0, 1, 0], {"sample_weight": [1, -1, 1]}),
        ("sample_weight NaN", X, [0, 1, 0], {"sample_weight": [1, np.nan, 1]}),
        ("sample_weight wrong length", X, [0, 1, 0], {"sample_weight": [1, 1]}),
        ("sample_weight strings", X, [0, 1, 0], {"sample_weight": ["a", "b", "c"]}),
        ("X with partly NaN step", [np.array([[1.0, 2.0], [np.nan, 2.0], [1.0, 2.0]])] * 3,
         [0, 1, 0], {}),
        ("X empty", [], [], {}),
    ]


@pytest.mark.parametrize("what, X, y, kwargs", _bad_fits(), ids=[b[0] for b in _bad_fits()])
def test_invalid_fit_inputs_raise_value_or_type_error_and_leave_unfitted(what, X, y, kwargs):
    clf = RNNClassifier(**TINY)
    with pytest.raises((ValueError, TypeError)):
        clf.fit(X, y, **kwargs)
    assert set(vars(clf)) == set(clf.get_params())


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_size=0), dict(hidden_size=2.5), dict(cell="transformer"), dict(num_layers=0),
        dict(dropout=1.0), dict(pooling="sum"), dict(optimizer="lbfgs"), dict(optimizer=int),
        dict(learning_rate_init=0), dict(batch_size=0), dict(max_iter=0), dict(embedding_dim=0),
        dict(validation_fraction=1.0), dict(clip_grad_norm=-1.0), dict(tbptt_steps=0),
        dict(device="tpu"), dict(mask_value="nan"), dict(tbptt_steps=2, bidirectional=True),
    ],
)
def test_invalid_parameters_raise_value_error(params):
    X, y = _train_set(1, n=6)
    with pytest.raises((ValueError, TypeError)):
        RNNClassifier(**{**TINY, **params}).fit(X, y)


def test_targets_beyond_float32_are_rejected():
    """Regression: 1e300 became inf in float32 and surfaced as a diverged loss."""
    X, _ = _train_set(1, n=6)
    with pytest.raises(ValueError, match="float32"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        RNNRegressor(**TINY).fit(X, np.full(6, 1e300))


# -------------------------------------------------- memory-bounded inference
def test_inference_streams_bounded_batches(monkeypatch):
    """Predicting many short sequences plus one very long one never builds a
    padded tensor of the whole input: every batch is length-grouped and pads
    at most batch_size * 256 steps."""
    rng = np.random.RandomState(0)
    n, long = 6000, 5000
    X = [rng.normal(size=(rng.randint(1, 6), 1)) for _ in range(n)]
    X[123] = rng.normal(size=(long, 1))
    clf = RNNClassifier(**TINY).fit(X[:50], np.arange(50) % 2)
    seen = []
    real_get = _batches.SequenceBatches.get

    def recording_get(self, idx):
        out = real_get(self, idx)
        seen.append(tuple(out[0].shape))
        return out

    monkeypatch.setattr(_batches.SequenceBatches, "get", recording_get)
    proba = clf.predict_proba(X)
    assert proba.shape == (n, 2) and np.isfinite(proba).all()
    budget = 1024 * 256
    assert sum(b for b, _, _ in seen) == n
    assert max(b * L for b, L, _ in seen) <= max(budget, long)
    assert max(b * L for b, L, _ in seen) < n * long / 100  # far from the whole padded input
    # and the answer is the one of predicting each part separately
    np.testing.assert_allclose(proba[123], clf.predict_proba([X[123]])[0], atol=1e-6)
    np.testing.assert_allclose(proba[:100], clf.predict_proba(X[:100]), atol=1e-6)
