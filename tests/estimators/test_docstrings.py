"""The public API's docstrings: complete, and true to the signatures.

Two checks, after scikit-learn's ``sklearn/tests/estimators/test_docstrings.py``:

- every class's Parameters section lists its ``__init__`` parameters in
  signature order, each ``default=...`` equal to the signature's default, and
  names the keys of ``_parameter_constraints``. The recurrent estimators fill
  their shared entries from ``skrnn/_docstrings.py`` with their own defaults;
  this test keeps those and the hand-written entries honest;
- numpydoc's validation over every public name of the public modules and the
  public methods skrnn defines, failing on the codes in :data:`CHECKED`.
"""

import importlib
import inspect
import math
import re

import numpy as np
import pytest

import skrnn
from skrnn import _docstrings

numpydoc_validate = pytest.importorskip("numpydoc.validate")
from numpydoc.docscrape import ClassDoc, NumpyDocString  # noqa: E402

PUBLIC_MODULES = [
    "skrnn",
    "skrnn.preprocessing",
    "skrnn.forecasting",
    "skrnn.persistence",
    "skrnn.callbacks",
    "skrnn.export",
    "skrnn.plotting",
]

#: numpydoc codes that fail the suite (numpydoc.validate.ERROR_MSGS):
#: GL08 no docstring; PR01 a parameter not documented; PR02 a documented
#: parameter that does not exist; PR03 documented in another order; PR04 a
#: parameter without a type; PR05 a type ending in a period; PR07 a parameter
#: without a description; PR10 ``name: type`` instead of ``name : type``; RT01
#: no Returns section; RT03 a return value without a description. Not
#: checked: the stylistic codes (summary wording SS05/SS06, closing quotes
#: GL02, punctuation RT02, numpydoc's type spellings PR06) and the sections
#: not every method needs (Extended Summary ES01, See Also SA01, Examples
#: EX01).
CHECKED = {"GL08", "PR01", "PR02", "PR03", "PR04", "PR05", "PR07", "PR10", "RT01", "RT03"}


def _public_objects():
    """``(dotted path, object)`` of every public name, each class's public
    methods included (those skrnn defines, not scikit-learn's ``get_params``
    and friends)."""
    found = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            found[f"{module_name}.{name}"] = obj
            if not inspect.isclass(obj):
                continue
            for attr in sorted(dir(obj)):
                if attr.startswith("_") or isinstance(inspect.getattr_static(obj, attr), property):
                    continue
                member = getattr(obj, attr)
                if callable(member) and (getattr(member, "__module__", "") or "").startswith("skrnn"):
                    found[f"{module_name}.{name}.{attr}"] = member
    return found


PUBLIC = _public_objects()
CLASSES = sorted(
    {obj for obj in PUBLIC.values() if inspect.isclass(obj) and not issubclass(obj, BaseException)},
    key=lambda c: c.__name__,
)
RECURRENT = [skrnn.RNNClassifier, skrnn.RNNRegressor, skrnn.Seq2SeqTransformer]


def test_the_walk_covers_the_public_api():
    for path in ("skrnn.RNNClassifier", "skrnn.RNNClassifier.fit",
                 "skrnn.RNNRegressor.predict_quantiles", "skrnn.Seq2SeqTransformer.transform",
                 "skrnn.SequencePadder.transform", "skrnn.forecasting.forecast_direct",
                 "skrnn.persistence.load", "skrnn.callbacks.Checkpoint.restore",
                 "skrnn.export.export_onnx", "skrnn.plotting.save_attention_heatmap"):
        assert path in PUBLIC
    assert "skrnn.RNNClassifier.get_params" not in PUBLIC  # scikit-learn's, not ours
    assert len(PUBLIC) > 80


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_numpydoc_validation(path):
    errors = [(code, msg) for code, msg in numpydoc_validate.validate(path)["errors"]
              if code in CHECKED]
    assert not errors, f"{path}:\n" + "\n".join(f"  {code}: {msg}" for code, msg in errors)


# ------------------------------------------------------ parameters vs signature
def _init_parameters(cls):
    return [p for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _documented(cls):
    """``[(name, type text)]`` of the class docstring's Parameters section."""
    doc = ClassDoc(cls, config={"show_class_members": False})
    out = []
    for param in doc["Parameters"]:
        for name in param.name.split(","):
            out.append((name.strip(), param.type))
    return out


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _documented_default(cls, type_text):
    match = re.search(r"default=(.+)$", type_text)
    if match is None:
        return inspect.Parameter.empty
    namespace = {"np": np, **vars(importlib.import_module(cls.__module__))}
    return eval(match.group(1), namespace)  # noqa: S307 - our own docstrings


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_parameters_section_matches_the_signature(cls):
    params = _init_parameters(cls)
    documented = _documented(cls)
    assert [name for name, _ in documented] == [p.name for p in params], (
        f"{cls.__name__}: the Parameters section and __init__ differ in names or order")
    for p, (name, type_text) in zip(params, documented):
        stated = _documented_default(cls, type_text)
        if p.default is p.empty:
            assert stated is p.empty, f"{cls.__name__}({name}) has no default, doc says {stated!r}"
        else:
            assert stated is not p.empty, f"{cls.__name__}({name}): no default= in {type_text!r}"
            assert _same(stated, p.default), (
                f"{cls.__name__}({name}): docstring says default={stated!r}, "
                f"__init__ has {p.default!r}")
    if hasattr(cls, "_parameter_constraints"):
        assert list(cls._parameter_constraints) and (
            set(cls._parameter_constraints) == {p.name for p in params})


@pytest.mark.parametrize("cls", RECURRENT, ids=lambda c: c.__name__)
def test_recurrent_estimators_say_what_parameters_do(cls):
    """Measurements live in the user guide and studies/results_defaults.md;
    no placeholder is left unfilled."""
    assert "$" not in cls.__doc__
    for param in NumpyDocString(inspect.getdoc(cls))["Parameters"]:
        text = " ".join(param.desc)
        assert not re.search(r"measur|data sets|benchmarks/", text), (cls.__name__, param.name)


def test_shared_entries_carry_each_class_default():
    docs = {cls.__name__: dict(_documented(cls)) for cls in RECURRENT}
    assert docs["RNNClassifier"]["cell"] == "{'lstm', 'gru', 'rnn'}, default='gru'"
    assert docs["RNNClassifier"]["hidden_size"] == "int, default=128"
    assert docs["RNNRegressor"]["hidden_size"] == "int, default=32"
    assert docs["RNNClassifier"]["learning_rate_init"] == "float, default=3e-3"
    assert docs["Seq2SeqTransformer"]["learning_rate_init"] == "float, default=1e-3"
    assert docs["Seq2SeqTransformer"]["mask_value"] == "float or None, default=np.nan"
    # the shared text is one text: the same words in every class that shares it
    clf, reg = (NumpyDocString(inspect.getdoc(c))["Parameters"] for c in RECURRENT[:2])
    lr = [" ".join(p.desc) for p in clf + reg if p.name == "lr_schedule"]
    assert len(lr) == 2 and lr[0] == lr[1]


def test_format_default_reads_back():
    for value in (3e-3, 1e-4, 0.0, 1.0, 0.1, 128, None, True, "gru", (0.1, 0.5, 0.9)):
        assert _same(eval(_docstrings.format_default(value)), value), value
    assert _docstrings.format_default(3e-3) == "3e-3"
    assert _docstrings.format_default(float("nan")) == "np.nan"


def test_a_placeholder_must_name_a_shared_parameter_of_the_class():
    class Estimator:
        """Doc.

        Parameters
        ----------
        $hidden_size
        """

        def __init__(self, *, hidden_size=7):
            self.hidden_size = hidden_size

    doc = inspect.getdoc(_docstrings.shared_parameters(Estimator))
    assert "hidden_size : int, default=7\n    Units per layer and direction." in doc

    class Unknown:
        """$hidden_sise"""

        def __init__(self, *, hidden_size=7):
            pass

    with pytest.raises(TypeError, match=r"\$hidden_sise, which is not a shared parameter"):
        _docstrings.shared_parameters(Unknown)

    class NotTaken:
        """$cell"""

        def __init__(self, *, hidden_size=7):
            pass

    with pytest.raises(TypeError, match=r"takes no such parameter"):
        _docstrings.shared_parameters(NotTaken)
