"""Run the ``>>>`` examples of skrnn's docstrings and of the user guide.

Shared by the documentation build (``skrnn_docs.py`` turns each failure into
a Sphinx warning, an error under ``-W``) and by ``tests/test_doctests.py``.
Imports nothing from Sphinx, so the test suite does not need it.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import pkgutil
import warnings
from pathlib import Path

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
DOCS = Path(__file__).resolve().parents[1]
GUIDE_FOLDERS = ("guide",)


def package_modules(package="skrnn"):
    """Names of ``package`` and all its submodules, private ones included
    (a docstring example in a private helper must run too)."""
    pkg = importlib.import_module(package)
    names = [package]
    names += [m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")]
    return sorted(names)


def _run(tests, name):
    """Run doctest ``tests``; return (attempted, failures, report text)."""
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    with warnings.catch_warnings():
        # estimators trained for a few epochs in an example warn that they
        # did not converge; that is expected and not part of the output
        warnings.simplefilter("ignore")
        for test in tests:
            runner.run(test, out=out.write)
    with contextlib.redirect_stdout(io.StringIO()):
        results = runner.summarize(verbose=False)
    return results.attempted, results.failed, out.getvalue()


def module_doctests(module_name):
    """Run the docstring examples of one module."""
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = sorted(finder.find(module, module_name), key=lambda t: t.name)
    return _run(tests, module_name)


def file_doctests(path):
    """Run the ``>>>`` examples of a text file (one namespace per file)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"__name__": "__main__"}, path.name, str(path), 0)
    return _run([test], str(path))


def run_doctests(modules=(), files=()):
    """Yield (name, attempted, failed, report) for modules then files."""
    for name in modules:
        yield (name, *module_doctests(name))
    for path in files:
        yield (str(path), *file_doctests(path))


def guide_files(docs=DOCS, folders=GUIDE_FOLDERS):
    """The reStructuredText pages whose ``>>>`` examples are run: the user
    guide and the front page."""
    files = [Path(docs) / "index.rst"]
    for folder in folders:
        files += sorted((Path(docs) / folder).glob("*.rst"))
    return files
