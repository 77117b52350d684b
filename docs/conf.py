"""Sphinx configuration of the skrnn documentation.

Build (from the repository root, no network needed)::

    pip install -r docs/requirements.txt
    python -m sphinx -W --keep-going -b html docs docs/_build/html

or ``bash docs/build.sh``, which does both. Warnings are errors (``-W``) and
``nitpicky`` is on, so a broken cross-reference, a docstring or guide example
that fails (see ``_ext/skrnn_docs.py``) or a gallery example that raises fails
the build.

Intersphinx works offline: the inventories of scikit-learn, PyTorch, pandas,
NumPy and Python are written at the start of every build from
``_inventories/external.py``, which lists exactly the external names these docs
link to and the URL of each on the real documentation sites. No
``objects.inv`` is downloaded. A new external reference that is not in that
list is an unresolved reference, hence a build error that names it: add it to
``_inventories/external.py``. See ``docs/README.md``.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))           # the skrnn of this checkout, not an installed copy
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS / "_inventories"))

# The gallery runs every example in its reduced mode (fewer epochs, seeds and
# samples; see each example's docstring) so the whole build stays within a few
# minutes on a 2-core machine.
os.environ.setdefault("SKRNN_DOCS_FAST", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import external  # noqa: E402  (docs/_inventories/external.py)
import skrnn  # noqa: E402

project = "skrnn"
author = "the skrnn developers"
copyright = "skrnn developers, BSD-3-Clause"
release = skrnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    "skrnn_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "_inventories", "_ext", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"   # `x` is code, as in scikit-learn's docstrings
nitpicky = True          # every unresolved cross-reference is a warning, hence an error with -W
nitpick_ignore = []

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"          # the numpydoc docstrings carry the types
autodoc_member_order = "groupwise"
add_module_names = False

numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
# Types like ``RNNClassifier`` or ``torch.nn.Module`` link to their page: the
# public skrnn names and every external name of the offline inventories.
numpydoc_xref_aliases = external.numpydoc_aliases(
    {name: f":obj:`~skrnn.{name}`" for name in skrnn.__all__})
numpydoc_xref_ignore = external.NUMPYDOC_XREF_IGNORE
numpydoc_validation_checks = set()

# -- Intersphinx (offline; see module docstring) -----------------------------
intersphinx_mapping = external.intersphinx_mapping(DOCS / "_build" / "inventories")
intersphinx_timeout = 1

# -- Gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Every example runs (in its reduced mode) except two whose docstrings say
    # why: reverse_attention (minutes of training; a shortened run shows no
    # difference) and dask_gridsearch (starts a cluster of worker processes;
    # tests/test_dask.py covers it). They are shown with their code only.
    "filename_pattern": r"/(?!reverse_attention\.py|dask_gridsearch\.py)[^/]+\.py$",
    "ignore_pattern": r"__init__\.py",
    # Examples save their figures as PNG files under examples/output (that is
    # what they do from the command line too); this scraper shows each PNG
    # written while a block ran. Matplotlib figures are not scraped, so no
    # figure appears twice.
    "image_scrapers": ("skrnn_docs.png_scraper",),
    "reset_modules": ("matplotlib", "skrnn_docs.mark_example_start"),
    "reset_modules_order": "before",
    "doc_module": ("skrnn",),
    "reference_url": {"skrnn": None},
    "backreferences_dir": "api/generated/backreferences",
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
    "min_reported_time": 0,
    "download_all_examples": False,
    "show_signature": False,
    # sphinx-gallery never defines __file__; the examples locate their
    # output folder with it, so it is set to the script's path here.
    "reset_argv": "skrnn_docs.reset_argv",
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skrnn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "navbar_end": ["theme-switcher"],
    "icon_links": [],
}
html_sidebars = {"index": [], "guide/index": []}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None

# -- Build-time checks of code in the docs (docs/_ext/skrnn_docs.py) ----------
skrnn_doctest_modules = "skrnn"               # every module's docstring examples
skrnn_doctest_rst = ["guide"]     # every >>> example of the user guide and index.rst
