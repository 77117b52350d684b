"""Print the package's floor plan as the code has it: the layers and the
imports between them (cycles, imports that run back up, private
scikit-learn names imported outside ``skrnn/_compat.py``), and the path of
``X`` through each public ``fit`` / ``partial_fit`` to the optimizer step.

Run from the repository root: ``python tools/architecture.py``. It exits with
status 1 when an aim is missed (no import cycle, no upward import, private
scikit-learn names in ``_compat.py`` only, at most 6 modules and 3 calls into
a higher layer on each fit path), so CI or a test can run it.

The fit path is read with :func:`sys.setprofile` while a tiny fit runs: at
each moment ``X`` moves on (a skrnn function receives the user's ``X``, the
validated :class:`Sequences` is built, a batch is built or taken, the network
runs forward, the optimizer steps), the skrnn frames on the call stack are
recorded. Their modules, in order of first appearance, are the path; a call
from a frame of one layer into a frame of a higher layer is a climb.
"""

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skrnn"

# the layers, lowest first; a module may import from its own layer and below
LAYERS = [
    ("leaves", ["skrnn._compat", "skrnn._doclink", "skrnn._home", "skrnn._version",
                "skrnn._warnings", "skrnn._docstrings", "skrnn.exceptions", "skrnn.plotting"]),
    ("sequences", ["skrnn._sequences"]),
    ("nn", ["skrnn._nn"]),
    ("train", ["skrnn._train"]),
    ("persistence", ["skrnn.persistence"]),
    ("estimators", ["skrnn._params", "skrnn._base", "skrnn.classifier", "skrnn.regressor",
                    "skrnn._seq2seq_inference", "skrnn.seq2seq"]),
    ("forecasting", ["skrnn.forecasting", "skrnn.metrics"]),
    ("preprocessing", ["skrnn.preprocessing"]),
    ("faces", ["skrnn.callbacks", "skrnn.export", "skrnn._export_pipeline",
               "skrnn.inspection", "skrnn"]),
]


# scikit-learn's private attributes and keywords, used without importing a name
PRIVATE_USE = re.compile(r"\b_sklearn_\w+|\bauto_wrap_output_keys\b|\._validate_params\(")


def layer_of(module):
    best, rank = None, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best)):
                best, rank = p, i
    return rank


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path):
    """(imported skrnn module, line, module level?) and private sklearn names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    found, private = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("sklearn") and (
                any(p.startswith("_") for p in target.split("."))
                or any(a.name.startswith("_") for a in node.names)
            ):
                private.append((target, node.lineno))
            if target.split(".")[0] == "skrnn":
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    mod = sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() or (
                        PACKAGE.parent / sub.replace(".", "/")).is_dir() else target
                    found.append((mod, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "skrnn":
                    found.append((a.name, node.lineno, id(node) in top))
    return name, found, private


def import_report():
    graph = defaultdict(set)
    modules = sorted(PACKAGE.rglob("*.py"))
    upward, private_names = [], []
    for path in modules:
        name, found, private = imports(path)
        for target, line, module_level in found:
            if target == name:
                continue
            if module_level:
                graph[name].add(target)
            lo, hi = layer_of(name), layer_of(target)
            if lo is not None and hi is not None and hi > lo:
                upward.append(f"{name}:{line} -> {target}")
        if name != "skrnn._compat":
            private_names += [f"{name}:{line} imports {t}" for t, line in private]
            for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for hit in PRIVATE_USE.findall(text):
                    private_names.append(f"{name}:{n} uses {hit}")
    cycles = find_cycles(graph)
    print(f"modules: {len(modules)}")
    print(f"import cycles: {len(cycles)}")
    for c in cycles:
        print("  " + " -> ".join(c))
    print(f"imports into a higher layer: {len(upward)}")
    for u in upward:
        print("  " + u)
    print(f"private scikit-learn imports outside _compat.py: {len(private_names)}")
    for p in private_names:
        print("  " + p)
    return bool(cycles or upward or private_names)


def find_cycles(graph):
    """Cycles among module-level imports (each reported once)."""
    cycles, seen = [], set()

    def visit(node, stack, on_stack):
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_stack:
                cycle = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cycle)
                # a package face importing its own submodules is not a cycle
                if key not in seen and not all(m.startswith(cycle[0]) or cycle[0].startswith(m)
                                               for m in cycle):
                    seen.add(key)
                    cycles.append(cycle)
            elif nxt not in done:
                visit(nxt, stack + [nxt], on_stack | {nxt})
        done.add(node)

    done = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start], {start})
    return cycles


# ------------------------------------------------------------------ fit path
def trace_fit(fit, X):
    """Modules on the path of X through ``fit()`` to the first optimizer step,
    and the calls from one layer into a higher one."""
    import torch

    path, climbs = [], set()

    def record(frame):
        frames = []
        while frame is not None:
            mod = frame.f_globals.get("__name__", "")
            if mod.split(".")[0] == "skrnn":
                frames.append(mod)
            frame = frame.f_back
        frames.reverse()
        for mod in frames:
            if mod not in path:
                path.append(mod)
        for caller, callee in zip(frames, frames[1:]):
            lo, hi = layer_of(caller), layer_of(callee)
            if caller != callee and lo is not None and hi is not None and hi > lo:
                climbs.add((caller, callee))

    done = []

    def profile(frame, event, arg):
        if done or event != "call":
            return
        mod = frame.f_globals.get("__name__", "")
        code = frame.f_code.co_name
        if code == "step" and isinstance(frame.f_locals.get("self"), torch.optim.Optimizer):
            record(frame)
            done.append(True)
            sys.setprofile(None)
            return
        if mod.split(".")[0] != "skrnn":
            return
        local = frame.f_locals
        if any(v is X for v in local.values()) or (
            code == "__init__" and type(local.get("self")).__name__ in ("Sequences", "SequenceBatches")
        ) or code in ("get", "forward"):
            record(frame)

    torch.set_num_threads(1)
    sys.setprofile(profile)
    try:
        fit()
    finally:
        sys.setprofile(None)
    return path, sorted(climbs)


def fit_report():
    import warnings

    import numpy as np

    from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(3, 7), 2)).astype(np.float32) for _ in range(12)]
    y = np.arange(12) % 2
    small = dict(hidden_size=4, max_iter=1, batch_size=4, random_state=0)
    cases = [
        ("RNNClassifier.fit", lambda: RNNClassifier(**small).fit(X, y)),
        ("RNNClassifier.partial_fit", lambda: RNNClassifier(**small).partial_fit(X, y, classes=[0, 1])),
        ("RNNRegressor.fit", lambda: RNNRegressor(**small).fit(X, y.astype(float))),
        ("RNNRegressor.partial_fit", lambda: RNNRegressor(**small).partial_fit(X, y.astype(float))),
        ("Seq2SeqTransformer.fit", lambda: Seq2SeqTransformer(**small).fit(X)),
        ("Seq2SeqTransformer.partial_fit", lambda: Seq2SeqTransformer(**small).partial_fit(X)),
    ]
    missed = False
    for name, fit in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path, climbs = trace_fit(fit, X)
        ok = len(path) <= 6 and len(climbs) <= 3
        missed |= not ok
        print(f"{name}: {len(path)} modules, {len(climbs)} calls into a higher layer"
              f"{'' if ok else '  (aim: <= 6 and <= 3)'}")
        print("  " + " -> ".join(path))
        for caller, callee in climbs:
            print(f"  climb: {caller} -> {callee}")
    return missed


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    bad = import_report()
    bad = fit_report() or bad
    sys.exit(1 if bad else 0)
