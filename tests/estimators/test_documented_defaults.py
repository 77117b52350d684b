"""Documented defaults match the signatures: the defaults table of
docs/guide/models.rst, and every ``name=value`` code span that the README
or a guide page calls a default ("`name=value` (default ...", "(the default
of RNNClassifier)"), compared with the estimators' ``__init__``."""

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

import skrnn

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {name: getattr(skrnn, name) for name in (
    "RNNClassifier", "RNNRegressor", "Seq2SeqTransformer", "SequencePadder",
    "SequenceScaler", "SequencePatcher", "TimeSeriesWindower",
)}
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.rst")),
           ROOT / "docs" / "index.rst"]

# `name=value` or ``name=value`` followed by "(default", "(the default" or ", the default"
DOCUMENTED = re.compile(
    r"(?P<tick>`{1,2})(?P<name>[a-z_]+)=(?P<value>[^`]+)(?P=tick)"
    r"\s*(?:\((?:the\s+)?default(?P<paren>[^)]*)\)?|,\s+the\s+default)"
)
HEADING = re.compile(r"^(#+ .*|[=\-~^]{3,})$", re.M)


def _defaults(cls):
    return {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _value(text):
    return eval(text, {"np": np, "nan": math.nan})  # documentation literals only


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and not isinstance(a, bool)
        and isinstance(b, (int, float)) and not isinstance(b, bool) and a == b
    )


def _classes_in(text):
    return [name for name in CLASSES if re.search(rf"\b{name}\b", text)]


def documented_defaults():
    """(source:line, name, value text, classes the statement is about)."""
    found = []
    for path in SOURCES:
        text = path.read_text()
        starts = [0] + [m.end() for m in HEADING.finditer(text)]
        for m in DOCUMENTED.finditer(text):
            name = m.group("name")
            classes = _classes_in(m.group("paren") or "")
            if not classes:  # the first estimator with that parameter the section names
                section = text[max(s for s in starts if s <= m.start()):m.start()]
                named = sorted((section.find(n), n) for n in _classes_in(section)
                               if name in _defaults(CLASSES[n]))
                classes = [named[0][1]] if named else [
                    n for n, cls in CLASSES.items() if name in _defaults(cls)]
            line = text.count("\n", 0, m.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", name,
                          m.group("value"), classes))
    return found


def test_the_scan_finds_the_documented_defaults():
    where = {(w.split(":")[0], n) for w, n, _, _ in documented_defaults()}
    assert {("README.md", "data_format"), ("README.md", "mask_value"),
            ("README.md", "pooling"), ("docs/guide/models.rst", "cell"),
            ("docs/guide/models.rst", "pooling")} <= where


@pytest.mark.parametrize("where,name,value,classes", documented_defaults(),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_documented_default_matches_the_signature(where, name, value, classes):
    assert classes, f"{where}: no estimator has a parameter {name!r}"
    for cls_name in classes:
        defaults = _defaults(CLASSES[cls_name])
        assert name in defaults, f"{where}: {cls_name} has no parameter {name!r}"
        assert _same(_value(value), defaults[name]), (
            f"{where} documents {name}={value} as the default of {cls_name}, whose "
            f"signature says {name}={defaults[name]!r}"
        )


def _models_table():
    text = (ROOT / "docs" / "guide" / "models.rst").read_text()
    block = text.split(".. list-table::", 1)[1].split("\n\n", 2)[1]
    rows = [r for r in block.split("   * - ")[1:]]
    cells = [[c.strip() for c in r.split("     - ")] for r in rows]
    header, body = cells[0], cells[1:]
    return header, body


def test_models_guide_defaults_table_matches_the_signatures():
    header, body = _models_table()
    assert header[1:] == ["RNNClassifier", "RNNRegressor", "Seq2SeqTransformer"]
    assert len(body) >= 8
    for row in body:
        name = row[0].strip("`")
        for cls_name, cell in zip(header[1:], row[1:]):
            expected = _defaults(CLASSES[cls_name])[name]
            assert _same(_value(cell.strip("`")), expected), (
                f"docs/guide/models.rst: {name} of {cls_name} is documented as {cell}, "
                f"the signature says {expected!r}"
            )
