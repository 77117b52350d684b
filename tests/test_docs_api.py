"""The API reference (docs/api/*.rst) documents every public name of skrnn.

Fast and Sphinx-free: it reads the reStructuredText source, so adding a public
class or function without listing it in the API reference fails the suite.
"""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import skrnn

API_DIR = Path(__file__).resolve().parents[1] / "docs" / "api"

_DIRECTIVE = re.compile(r"^\.\. (currentmodule|module|py:module|py:currentmodule)::\s*(\S+)")
_AUTO_OBJECT = re.compile(r"^\.\. auto(class|function|exception|data)::\s*(\S+)")


def public_modules():
    """``skrnn`` and each of its submodules whose dotted name has no
    component starting with an underscore (``skrnn.callbacks`` included
    as soon as it exists)."""
    names = ["skrnn"]
    for info in pkgutil.walk_packages(skrnn.__path__, "skrnn."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def public_names(module_name):
    """``__all__`` if the module declares it; else the classes and
    functions it defines whose names do not start with an underscore."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return sorted(module.__all__)
    return sorted(
        name for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == module_name
    )


def documented_entries(api_dir=API_DIR):
    """Fully qualified names listed by ``autosummary`` (and ``auto*``
    directives) in docs/api/*.rst, with the line that lists each."""
    entries = []
    for path in sorted(Path(api_dir).glob("*.rst")):
        module = None
        in_autosummary = False
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _DIRECTIVE.match(line)
            if match:
                module = match.group(2)
                in_autosummary = False
                continue
            match = _AUTO_OBJECT.match(line)
            if match:
                entries.append((_qualify(module, match.group(2)), f"{path.name}:{lineno}"))
                continue
            if line.startswith(".. autosummary::"):
                in_autosummary = True
                continue
            if in_autosummary:
                stripped = line.strip()
                if line and not line[0].isspace():
                    in_autosummary = False      # the directive's body ended
                elif stripped and not stripped.startswith(":"):
                    entries.append((_qualify(module, stripped), f"{path.name}:{lineno}"))
    return entries


def _qualify(module, name):
    name = name.lstrip("~")
    if module is None or name.startswith("skrnn."):
        return name
    return f"{module}.{name}"


def _resolve(qualname):
    """The object a dotted name designates (module attribute lookup)."""
    parts = qualname.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(qualname)


def test_the_api_source_lists_entries():
    entries = documented_entries()
    assert len(entries) >= 10, entries
    assert ("skrnn.RNNClassifier", "index.rst") in {(n, where.split(":")[0]) for n, where in entries}


@pytest.mark.parametrize("qualname,where", documented_entries(), ids=lambda v: str(v))
def test_every_documented_name_exists(qualname, where):
    try:
        _resolve(qualname)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/api/{where} lists {qualname}, which does not exist: {exc!r}")


def test_public_modules_are_found():
    modules = public_modules()
    for name in ("skrnn", "skrnn.preprocessing", "skrnn.forecasting", "skrnn.persistence",
                 "skrnn.export"):
        assert name in modules
    assert not [m for m in modules if "._" in m]


@pytest.mark.parametrize("module_name", public_modules())
def test_every_public_name_is_documented(module_name):
    documented = set()
    for qualname, _ in documented_entries():
        try:
            documented.add(id(_resolve(qualname)))
        except (ImportError, AttributeError):
            pass  # reported by test_every_documented_name_exists
    module = importlib.import_module(module_name)
    missing = [
        f"{module_name}.{name}" for name in public_names(module_name)
        if id(getattr(module, name)) not in documented
    ]
    assert not missing, (
        f"public names missing from the API reference (docs/api/index.rst): {missing}; "
        "add each to an autosummary list there"
    )


def test_a_missing_name_is_detected(tmp_path):
    """The check is real: drop one entry from a copy of the API source and the
    public name it documented is reported missing."""
    source = (API_DIR / "index.rst").read_text(encoding="utf-8")
    assert "   RNNRegressor\n" in source
    (tmp_path / "index.rst").write_text(source.replace("   RNNRegressor\n", ""), encoding="utf-8")
    documented = {id(_resolve(q)) for q, _ in documented_entries(tmp_path)}
    assert id(skrnn.RNNRegressor) not in documented
    assert id(skrnn.RNNClassifier) in documented


def test_offline_inventories_are_valid(tmp_path):
    """docs/_inventories/external.py writes Sphinx inventories (format 2) that
    hold every listed external name with its absolute documentation URL."""
    import sys
    import zlib

    sys.path.insert(0, str(API_DIR.parent / "_inventories"))
    try:
        import external
    finally:
        sys.path.remove(str(API_DIR.parent / "_inventories"))
    mapping = external.intersphinx_mapping(tmp_path)
    assert set(mapping) == {"python", "numpy", "pandas", "sklearn", "torch"}
    for project, (base_url, inv_path) in mapping.items():
        assert base_url.startswith("https://") and base_url.endswith("/")
        data = Path(inv_path).read_bytes()
        header, _, body = data.partition(b"zlib.\n")
        assert header.startswith(b"# Sphinx inventory version 2\n")
        lines = zlib.decompress(body).decode("utf-8").splitlines()
        names = {line.split(" ")[0] for line in lines}
        listed = {name for owner, name, _, _ in external.OBJECTS if owner == project}
        assert names == listed
        for line in lines:
            name, role, priority, uri, display = line.split(" ", 4)
            assert ":" in role and priority in ("1", "-1") and display == "-"
            assert not uri.startswith("http") and ".html" in uri
    assert "pandas.DataFrame" in {n for o, n, _, _ in external.OBJECTS if o == "pandas"}


def _public_estimator_classes():
    from sklearn.base import BaseEstimator

    seen = {}
    for qualname, _ in documented_entries():
        obj = _resolve(qualname)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            seen.setdefault(obj, qualname)
    return seen


def test_html_repr_links_to_the_api_page():
    """Every documented estimator's HTML representation links to its API
    page, ``api/generated/<documented name>.html`` on Read the Docs."""
    from sklearn.utils import estimator_html_repr

    classes = _public_estimator_classes()
    assert {"skrnn.RNNClassifier", "skrnn.SequencePadder"} <= set(classes.values())
    for cls, qualname in classes.items():
        estimator = cls.__new__(cls)        # the link needs no parameters
        url = f"https://skrnn.readthedocs.io/en/latest/api/generated/{qualname}.html"
        assert estimator._get_doc_link() == url, cls
    assert ('href="https://skrnn.readthedocs.io/en/latest/api/generated/skrnn.RNNClassifier.html"'
            in estimator_html_repr(skrnn.RNNClassifier()))
