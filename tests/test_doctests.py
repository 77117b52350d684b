"""Every ``>>>`` example in skrnn's docstrings and in the user guide runs.

The documentation build runs the same examples (docs/_ext/skrnn_docs.py);
this keeps a broken example from reaching ``main`` even without building the
docs. The runner lives in docs/_ext/skrnn_doctest.py and needs no Sphinx.
"""

import doctest
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import skrnn_doctest  # noqa: E402

MODULES = skrnn_doctest.package_modules("skrnn")
GUIDE = skrnn_doctest.guide_files(DOCS)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    attempted, failed, report = skrnn_doctest.module_doctests(module_name)
    assert failed == 0, f"{failed} of {attempted} docstring examples failed:\n{report}"


@pytest.mark.parametrize("path", GUIDE, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_guide_examples(path):
    attempted, failed, report = skrnn_doctest.file_doctests(path)
    assert failed == 0, f"{failed} of {attempted} examples failed:\n{report}"
    if path.name != "index.rst" or path.parent == DOCS:
        assert attempted >= 5, f"{path} should show runnable code; it has {attempted} examples"


def test_the_public_modules_have_examples():
    """Docstring examples exist where users look first (so the tests above
    are not vacuous)."""
    counted = {name: skrnn_doctest.module_doctests(name)[0]
               for name in ("skrnn.classifier", "skrnn.regressor", "skrnn.preprocessing",
                            "skrnn.forecasting")}
    assert all(n > 0 for n in counted.values()), counted


def test_a_broken_example_fails(tmp_path):
    """A docstring example whose output is wrong is reported as a failure."""
    module = tmp_path / "broken_example_module.py"
    module.write_text(
        'def f():\n    """\n    >>> 1 + 1\n    3\n    """\n', encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        attempted, failed, report = skrnn_doctest.module_doctests("broken_example_module")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("broken_example_module", None)
    assert (attempted, failed) == (1, 1)
    assert "Expected:\n    3\nGot:\n    2" in report
    page = tmp_path / "page.rst"
    page.write_text("Title\n=====\n\n>>> sorted([3, 1])\n[3, 1]\n", encoding="utf-8")
    assert skrnn_doctest.file_doctests(page)[:2] == (1, 1)
    assert doctest.ELLIPSIS & skrnn_doctest.OPTIONFLAGS
