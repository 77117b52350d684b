"""Every public estimator and transformer states its parameters in one
shape: an explicit keyword-only ``__init__``, a numpydoc Parameters section
describing each of them, and ``_parameter_constraints`` -- all naming the same
parameters -- and static tools (jedi, mypy) see them."""

import inspect
import os
import re
import sys

import pytest
from sklearn.base import BaseEstimator

import skrnn
import skrnn.preprocessing
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _public_estimators():
    names = {(skrnn, n) for n in skrnn.__all__}
    names |= {(skrnn.preprocessing, n) for n in getattr(skrnn.preprocessing, "__all__", [])}
    classes = {getattr(module, n) for module, n in names}
    return sorted(
        (c for c in classes if inspect.isclass(c) and issubclass(c, BaseEstimator)),
        key=lambda c: c.__name__,
    )


ESTIMATORS = _public_estimators()
TYPED = [RNNClassifier, RNNRegressor, Seq2SeqTransformer]
_SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.MULTILINE)
_ENTRY = re.compile(r"^(\w[\w, ]*?) :(.*)$")


def documented_parameters(cls):
    """{name: description} of the Parameters section of ``cls``'s docstring."""
    doc = inspect.getdoc(cls)
    headers = list(_SECTION.finditer(doc))
    start = next(i for i, h in enumerate(headers) if h.group(1) == "Parameters")
    end = headers[start + 1].start() if start + 1 < len(headers) else len(doc)
    params, current = {}, None
    for line in doc[headers[start].end() : end].splitlines():
        match = _ENTRY.match(line)
        if match:
            current = [n.strip() for n in match.group(1).split(",")]
            for name in current:
                params[name] = ""
        elif line.startswith("    ") and current:
            for name in current:
                params[name] += line.strip() + " "
    return params


def init_parameters(cls):
    return [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]


def test_every_public_class_is_covered():
    names = {c.__name__ for c in ESTIMATORS}
    assert {"RNNClassifier", "RNNRegressor", "Seq2SeqTransformer", "SequencePadder",
            "SequenceScaler", "TimeSeriesWindower"} <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_signature_docstring_and_constraints_name_the_same_parameters(cls):
    signature = [p.name for p in init_parameters(cls)]
    documented = documented_parameters(cls)
    assert len(signature) == len(set(signature))
    assert set(signature) == set(documented), (
        f"undocumented: {sorted(set(signature) - set(documented))}, "
        f"documented but not in __init__: {sorted(set(documented) - set(signature))}"
    )
    assert set(signature) == set(cls._parameter_constraints)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_parameters_are_keyword_only_and_described(cls):
    params = init_parameters(cls)
    # a meta-estimator may take the estimator it wraps positionally, as
    # scikit-learn's own (TransformedTargetRegressor(regressor, *, ...)) do
    # and a forecaster its horizon (RNNForecaster(12, ...), as DESIGN.md spells it)
    if params and params[0].name in ("regressor", "estimator", "horizon"):
        params = params[1:]
    for p in params:
        assert p.kind is p.KEYWORD_ONLY, f"{cls.__name__}({p.name}) is not keyword-only"
    for name, text in documented_parameters(cls).items():
        assert len(text.split()) >= 3, f"{cls.__name__}: {name} has no real description"
        assert not re.search(r"see the base class|documented there", text, re.I), (cls, name)


@pytest.mark.parametrize("cls", TYPED, ids=lambda c: c.__name__)
def test_recurrent_estimators_are_fully_annotated(cls):
    assert "extend_init" not in inspect.getsource(cls)
    for p in init_parameters(cls):
        assert p.annotation is not p.empty, f"{cls.__name__}({p.name}) has no annotation"
    assert inspect.signature(cls.__init__).return_annotation in (None, "None")
    # help() shows every parameter with its description
    text = inspect.getdoc(cls)
    for p in init_parameters(cls):
        assert f"\n{p.name} : " in text


def test_defaults_survive_clone_and_get_params():
    from sklearn.base import clone

    for cls in TYPED:
        est = cls()
        params = est.get_params()
        assert set(params) == {p.name for p in init_parameters(cls)}
        assert clone(est).get_params().keys() == params.keys()


def test_package_ships_py_typed():
    assert os.path.exists(os.path.join(os.path.dirname(skrnn.__file__), "py.typed"))
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        assert re.search(r"\[tool\.setuptools\.package-data\]\s*\nskrnn\s*=\s*\[\"py\.typed\"\]", f.read())


def _check_typing():
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    try:
        import typing_check
    finally:
        sys.path.pop(0)
    return typing_check


@pytest.mark.typing
@pytest.mark.parametrize(
    "source, expected",
    [("RNNClassifier(class_w", "class_weight="), ("Seq2SeqTransformer(beam_", "beam_width=")],
)
def test_jedi_completes_the_parameters(source, expected):
    pytest.importorskip("jedi")
    assert expected in _check_typing().jedi_completions(source)


@pytest.mark.typing
def test_mypy_accepts_real_parameters_and_rejects_typos(tmp_path):
    """One mypy run over two user scripts (third-party internals skipped, so
    it takes seconds; tests/typing_check.py runs the same check)."""
    pytest.importorskip("mypy")
    results = _check_typing().run_mypy(tmp_path)
    assert results["good"] == [], results["good"]
    assert len(results["bad"]) == 1 and 'Unexpected keyword argument "class_wieght"' in (
        results["bad"][0]
    )
