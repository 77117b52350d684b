"""Offline intersphinx: the external names the skrnn docs link to.

The build machine and CI have no network access apart from package
registries, so Sphinx cannot download the ``objects.inv`` of scikit-learn,
PyTorch, pandas, NumPy or Python. Instead, :func:`write_inventories` writes a
small inventory per project (Sphinx's own ``objects.inv`` format, version 2,
zlib-compressed) holding exactly the names listed in :data:`OBJECTS`, each
pointing at its page on the real documentation site: the external names the
pages and docstrings link to, plus the targets of the numpydoc type aliases
(``int``, ``ndarray``, ``DataFrame``, ... in a parameter's type), which any
docstring may use. ``python docs/_inventories/external.py docs/_build/html``
lists the entries no built page links to. ``conf.py`` calls it at
the start of every build and hands the files to ``sphinx.ext.intersphinx``.

The links in the built HTML are therefore the same as with the downloaded
inventories. A reference to an external name that is missing here stays
unresolved, which ``nitpicky = True`` and ``-W`` turn into a build error
naming it: add a line below (the URL is the page's path under the project's
base URL, with the anchor).
"""

from __future__ import annotations

import zlib
from pathlib import Path

BASE_URLS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "sklearn": "https://scikit-learn.org/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
}


def _api(project, name, role="class"):
    """The usual page of an API object: one generated page per object."""
    page = {
        "numpy": "reference/generated/{0}.html#{0}",
        "pandas": "reference/api/{0}.html#{0}",
        "sklearn": "modules/generated/{0}.html#{0}",
        "torch": "generated/{0}.html#{0}",
    }[project]
    return (project, name, "py:" + role, page.format(name))


def _member(project, owner, name, role="method"):
    """A method or attribute documented on its class's page."""
    _, _, _, uri = _api(project, owner)
    return (project, f"{owner}.{name}", "py:" + role, uri.split("#")[0] + f"#{owner}.{name}")


# (project, name, domain:role, uri relative to BASE_URLS[project])
OBJECTS = [
    # -- Python ------------------------------------------------------------
    ("python", "int", "py:class", "library/functions.html#int"),
    ("python", "float", "py:class", "library/functions.html#float"),
    ("python", "bool", "py:class", "library/functions.html#bool"),
    ("python", "str", "py:class", "library/stdtypes.html#str"),
    ("python", "bytes", "py:class", "library/stdtypes.html#bytes"),
    ("python", "list", "py:class", "library/stdtypes.html#list"),
    ("python", "tuple", "py:class", "library/stdtypes.html#tuple"),
    ("python", "dict", "py:class", "library/stdtypes.html#dict"),
    ("python", "callable", "py:function", "library/functions.html#callable"),
    ("python", "sequence", "std:term", "glossary.html#term-sequence"),
    ("python", "iterable", "std:term", "glossary.html#term-iterable"),
    ("python", "generator", "std:term", "glossary.html#term-generator"),
    ("python", "None", "py:data", "library/constants.html#None"),
    ("python", "True", "py:data", "library/constants.html#True"),
    ("python", "False", "py:data", "library/constants.html#False"),
    ("python", "ValueError", "py:exception", "library/exceptions.html#ValueError"),
    ("python", "os.PathLike", "py:class", "library/os.html#os.PathLike"),
    ("python", "pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
    ("python", "contextlib.contextmanager", "py:function",
     "library/contextlib.html#contextlib.contextmanager"),
    ("python", "collections.namedtuple", "py:function",
     "library/collections.html#collections.namedtuple"),
    # -- NumPy -------------------------------------------------------------
    _api("numpy", "numpy.ndarray"),
    _api("numpy", "numpy.dtype"),
    ("numpy", "numpy", "py:module", "reference/index.html#module-numpy"),
    ("numpy", "numpy.nan", "py:data", "reference/constants.html#numpy.nan"),
    ("numpy", "numpy.inf", "py:data", "reference/constants.html#numpy.inf"),
    ("numpy", "arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars"),
    ("numpy", "numpy.random.RandomState", "py:class",
     "reference/random/legacy.html#numpy.random.RandomState"),
    ("numpy", "numpy.random.Generator", "py:class",
     "reference/random/generator.html#numpy.random.Generator"),
    ("numpy", "array_like", "std:term", "glossary.html#term-array_like"),
    # -- pandas ------------------------------------------------------------
    _api("pandas", "pandas.DataFrame"),
    _api("pandas", "pandas.Series"),
    _api("pandas", "pandas.Index"),
    _api("pandas", "pandas.DatetimeIndex"),
    _api("pandas", "pandas.PeriodIndex"),
    _api("pandas", "pandas.MultiIndex"),
    _api("pandas", "pandas.Timestamp"),
    # -- scikit-learn --------------------------------------------------------
    _api("sklearn", "sklearn.pipeline.Pipeline"),
    _api("sklearn", "sklearn.pipeline.make_pipeline", "function"),
    _api("sklearn", "sklearn.compose.TransformedTargetRegressor"),
    _api("sklearn", "sklearn.multioutput.MultiOutputRegressor"),
    _api("sklearn", "sklearn.model_selection.GridSearchCV"),
    _api("sklearn", "sklearn.model_selection.RandomizedSearchCV"),
    _api("sklearn", "sklearn.model_selection.TimeSeriesSplit"),
    _api("sklearn", "sklearn.model_selection.train_test_split", "function"),
    _api("sklearn", "sklearn.neural_network.MLPClassifier"),
    _api("sklearn", "sklearn.preprocessing.StandardScaler"),
    _api("sklearn", "sklearn.metrics.r2_score", "function"),
    _api("sklearn", "sklearn.datasets.load_digits", "function"),
    _api("sklearn", "sklearn.exceptions.ConvergenceWarning"),
    _api("sklearn", "sklearn.utils.metadata_routing.MetadataRequest"),
    _api("sklearn", "sklearn.set_config", "function"),
    ("sklearn", "glossary", "std:doc", "glossary.html"),
    ("sklearn", "array-like", "std:term", "glossary.html#term-array-like"),
    ("sklearn", "estimator", "std:term", "glossary.html#term-estimators"),
    ("sklearn", "estimators", "std:term", "glossary.html#term-estimators"),
    ("sklearn", "r2_score", "std:label", "modules/model_evaluation.html#r2-score"),
    ("sklearn", "metadata_routing", "std:label", "metadata_routing.html#metadata-routing"),
    ("sklearn", "meta-estimator", "std:term", "glossary.html#term-meta-estimator"),
    ("sklearn", "sphx_glr_auto_examples_miscellaneous_plot_set_output.py", "std:label",
     "auto_examples/miscellaneous/plot_set_output.html"
     "#sphx-glr-auto-examples-miscellaneous-plot-set-output-py"),
    ("sklearn", "df_output_transform", "std:label",
     "developers/develop.html#df-output-transform"),
    # -- PyTorch ------------------------------------------------------------
    ("torch", "torch.Tensor", "py:class", "tensors.html#torch.Tensor"),
    ("torch", "torch.device", "py:class", "tensor_attributes.html#torch.device"),
    _api("torch", "torch.nn.Module"),
    _api("torch", "torch.nn.RNN"),
    _api("torch", "torch.nn.LSTM"),
    _api("torch", "torch.nn.GRU"),
    ("torch", "torch.optim.Optimizer", "py:class", "optim.html#torch.optim.Optimizer"),
    _api("torch", "torch.optim.lr_scheduler.StepLR"),
    _api("torch", "torch.set_num_threads", "function"),
]

# numpydoc turns the words of a parameter's type ("array-like of shape
# (n_samples,) or DataFrame") into links: only the words below are linked;
# every other word stays plain text (``numpydoc_xref_ignore = "all"``).
NUMPYDOC_XREF_ALIASES = {
    "array-like": ":term:`array-like <sklearn:array-like>`",
    "array_like": ":term:`array_like <numpy:array_like>`",
    "ndarray": "numpy.ndarray",
    "dtype": "numpy.dtype",
    "DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
    "Index": "pandas.Index",
    "DatetimeIndex": "pandas.DatetimeIndex",
    "PeriodIndex": "pandas.PeriodIndex",
    "MultiIndex": "pandas.MultiIndex",
    "Timestamp": "pandas.Timestamp",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
    "Tensor": "torch.Tensor",
    "Module": "torch.nn.Module",
    "nn.Module": "torch.nn.Module",
    "Optimizer": "torch.optim.Optimizer",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "estimator": ":term:`estimator <sklearn:estimator>`",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "bytes": "bytes",
    "list": "list",
    "tuple": "tuple",
    "dict": "dict",
    "callable": "callable",
    "boolean": "bool",
    "string": "str",
    "sequence": ":term:`python:sequence`",
    "iterable": ":term:`python:iterable`",
    "generator": ":term:`python:generator`",
    "array": "numpy.ndarray",
    "np.ndarray": "numpy.ndarray",
    "np.nan": "numpy.nan",
    "nan": "numpy.nan",
    "None": "None",
    "path-like": "os.PathLike",
    "Path": "pathlib.Path",
}
NUMPYDOC_XREF_IGNORE = "all"


def numpydoc_aliases(extra=None):
    """``numpydoc_xref_aliases``: :data:`NUMPYDOC_XREF_ALIASES`, every dotted
    Python name above (``torch.nn.Module`` written in a parameter type links
    to its page) and ``extra``. With ``numpydoc_xref_ignore = "all"`` numpydoc
    leaves a word that maps to itself as plain text, so such entries are
    written as explicit ``:obj:`` roles."""
    aliases = {name: name for _, name, role, _ in OBJECTS if role.startswith("py:") and "." in name}
    aliases.update(extra or {})
    aliases.update(NUMPYDOC_XREF_ALIASES)
    return {word: (target if target.startswith(":") or target != word else f":obj:`{target}`")
            for word, target in aliases.items()}


def intersphinx_mapping(folder):
    """Write the inventories into ``folder``; return ``intersphinx_mapping``."""
    folder = Path(folder)
    paths = write_inventories(folder)
    return {project: (BASE_URLS[project], str(paths[project])) for project in BASE_URLS}


def write_inventories(folder):
    """One ``<project>.inv`` file per project in ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for project in BASE_URLS:
        lines = []
        for owner, name, role, uri in OBJECTS:
            if owner != project:
                continue
            if " " in name:
                raise ValueError(f"inventory names cannot contain spaces: {name!r}")
            priority = "-1" if role in ("std:doc",) else "1"
            if role == "std:doc":
                priority = "-1"
            lines.append(f"{name} {role} {priority} {uri} -\n")
        header = (
            "# Sphinx inventory version 2\n"
            f"# Project: {project}\n"
            "# Version: stable\n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        body = zlib.compress("".join(sorted(set(lines))).encode("utf-8"), 9)
        path = folder / f"{project}.inv"
        data = header.encode("utf-8") + body
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        paths[project] = path
    return paths


def unused(html_dir):
    """Entries of :data:`OBJECTS` that no page of a built site links to."""
    text = "".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in Path(html_dir).rglob("*.html"))
    return [(project, name) for project, name, _, uri in OBJECTS
            if BASE_URLS[project] + uri not in text]


if __name__ == "__main__":  # python docs/_inventories/external.py docs/_build/html
    import sys

    for project, name in unused(sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html"):
        print(f"not linked from the built site: {project} {name}")
