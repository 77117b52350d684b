"""Sphinx extension of the skrnn docs: checks and gallery helpers.

* Every ``>>>`` example in the docstrings of every ``skrnn`` module and in the
  user guide pages runs with :mod:`doctest` when the build starts; each
  failure is a Sphinx warning that names the object or page and the line, so
  ``sphinx -W`` fails on a broken example. ``tests/test_doctests.py`` runs the
  same examples in the test suite (``skrnn_doctest.py`` is shared).
* :func:`png_scraper` shows in the gallery each PNG file an example wrote
  under ``examples/output`` (where the examples save their figures from the
  command line too); :func:`mark_example_start` tells it when an example
  started, so files left over from an earlier run are never shown.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from skrnn_doctest import guide_files, package_modules, run_doctests
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_OUTPUT = ROOT / "examples" / "output"


def _doctest_at_build(app):
    if os.environ.get("SKRNN_DOCS_SKIP_DOCTEST") == "1":
        logger.info("skrnn_docs: SKRNN_DOCS_SKIP_DOCTEST=1, docstring/guide examples not run")
        return
    modules = package_modules(app.config.skrnn_doctest_modules)
    files = guide_files(app.srcdir, app.config.skrnn_doctest_rst)
    start = time.perf_counter()
    total = 0
    for name, attempted, failed, report in run_doctests(modules, files):
        total += attempted
        if failed:
            logger.warning("%d of %d doctest examples failed in %s:\n%s",
                           failed, attempted, name, report, type="skrnn", subtype="doctest")
    logger.info("skrnn_docs: %d doctest examples run in %.1f s", total,
                time.perf_counter() - start)


# -- gallery -------------------------------------------------------------------
_example_start = {"time_ns": 0, "seen": set()}


def mark_example_start(gallery_conf, fname, when=None):
    """sphinx-gallery ``reset_modules`` hook: an example is about to run."""
    _example_start["time_ns"] = time.time_ns()


def png_scraper(block, block_vars, gallery_conf):
    """sphinx-gallery image scraper: the PNG files written under
    ``examples/output`` since the example started and not shown yet."""
    from sphinx_gallery.scrapers import figure_rst

    if not EXAMPLE_OUTPUT.is_dir():
        return ""
    seen = _example_start["seen"]
    fresh = []
    for png in sorted(EXAMPLE_OUTPUT.glob("*.png"), key=lambda p: p.stat().st_mtime_ns):
        stamp = (png.name, png.stat().st_mtime_ns)
        if stamp[1] >= _example_start["time_ns"] and stamp not in seen:
            seen.add(stamp)
            fresh.append(png)
    image_paths = []
    for png, target in zip(fresh, block_vars["image_path_iterator"]):
        shutil.copyfile(png, target)
        image_paths.append(target)
    return figure_rst(image_paths, gallery_conf["src_dir"])


def reset_argv(gallery_conf, script_vars):
    """sphinx-gallery ``reset_argv`` hook: run the example with no command-line
    arguments, with ``__file__`` set to its path as when run by ``python``."""
    script_vars["example_globals"]["__file__"] = str(script_vars["src_file"])
    return []


# -- docstrings ----------------------------------------------------------------
_TYPE_LINE = re.compile(r"^(\s*)(\*{0,2}[\w, ]+?)( : )(.+)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w\\])([A-Za-z]\w*?)_(?![\w`])")


def _escape_type_lines(app, what, name, obj, options, lines):
    """In numpydoc ``name : type`` lines, ``(n_samples, maxlen_)`` means the
    fitted attribute; reStructuredText would read ``maxlen_`` as a hyperlink
    reference. Escape the trailing underscore of such words in the type only."""
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            indent, names, sep, type_ = match.groups()
            lines[i] = indent + names + sep + _TRAILING_UNDERSCORE.sub(r"\1\\_", type_)


def _resolve_within_skrnn(app, env, node, contnode):
    """A short reference in a skrnn docstring (``:func:`save_attention_heatmap```)
    is written relative to the module that defines it, while the page shows
    the object under its public path (``skrnn.Seq2SeqTransformer``). Resolve
    such a name when exactly one documented skrnn object carries it."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip("~.")
    if not target:
        return None
    domain = env.get_domain("py")
    matches = [full for full, entry in domain.objects.items()
               if full.startswith("skrnn.") and not entry.aliased   # canonical-name aliases
               and (full == target or full.endswith("." + target))]
    if len(matches) > 1:   # ``:func:`save``` means the function, not a method named save
        wanted = domain.objtypes_for_role(node.get("reftype", "obj")) or []
        matches = [full for full in matches if domain.objects[full].objtype in wanted]
    if len(matches) != 1:
        return None
    entry = domain.objects[matches[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode,
                        matches[0])


def _patch_autosummary_summary():
    """Sphinx's autosummary cuts a summary at the first period followed by a
    space, even inside an inline literal (``1 .. horizon``), and then checks
    the whole paragraph instead of the cut summary. Extend the cut to the
    next period until the literals are balanced."""
    from sphinx.ext import autosummary

    original = autosummary.extract_summary
    if getattr(original, "_skrnn_patched", False):
        return

    def extract_summary(doc, settings):
        summary = original(doc, settings)
        if summary.count("``") % 2 == 0:
            return summary
        text = " ".join(line.strip() for line in doc).strip()
        pieces = autosummary.periods_re.split(text)
        for i in range(1, len(pieces) + 1):
            candidate = ". ".join(pieces[:i]).rstrip(".") + "."
            if candidate.count("``") % 2 == 0:
                return candidate
        return summary

    extract_summary._skrnn_patched = True
    autosummary.extract_summary = extract_summary


def setup(app):
    _patch_autosummary_summary()
    app.add_config_value("skrnn_doctest_modules", "skrnn", "env")
    app.add_config_value("skrnn_doctest_rst", [], "env")
    app.connect("builder-inited", _doctest_at_build)
    app.connect("autodoc-process-docstring", _escape_type_lines, priority=100)
    app.connect("missing-reference", _resolve_within_skrnn, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
