"""Check what static tools see of skrnn's signatures and print the result:
mypy on a user's script, and jedi's completions (when jedi is installed).

A script with real parameters (``RNNClassifier(class_weight="balanced")``,
``Seq2SeqTransformer(beam_width=3)``) must pass; one with a misspelt
parameter (``RNNClassifier(class_wieght=1)``) must be rejected. Third-party
packages are skipped (``follow_imports = skip``): skrnn's signatures are
explicit, so mypy needs nothing from torch or scikit-learn to check them,
and one run takes seconds instead of analysing torch.

    python tests/typing_check.py

jedi and mypy only read source, so any interpreter that has them can run
this script (skrnn's dependencies need not be importable).
"""

import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPTS = {
    "good": (
        "from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer\n"
        "clf = RNNClassifier(class_weight='balanced', hidden_size=32)\n"
        "reg = RNNRegressor(return_sequences=True, mask_value=None)\n"
        "s2s = Seq2SeqTransformer(beam_width=3, attention=None)\n"
        "size: int = clf.hidden_size\n"
    ),
    "bad": "from skrnn import RNNClassifier\nclf = RNNClassifier(class_wieght=1)\n",
}

CONFIG = """[mypy]
follow_imports = silent
ignore_missing_imports = True
[mypy-torch.*,sklearn.*,pandas.*,scipy.*,tqdm.*]
follow_imports = skip
"""


def run_mypy(workdir):
    """Run mypy once over the scripts; return {script name: [error lines]}."""
    for name, code in SCRIPTS.items():
        with open(os.path.join(workdir, f"{name}.py"), "w") as f:
            f.write(code)
    with open(os.path.join(workdir, "mypy.ini"), "w") as f:
        f.write(CONFIG)
    env = dict(os.environ, MYPYPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental",
         *(f"{name}.py" for name in SCRIPTS)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
    )
    errors = {name: [] for name in SCRIPTS}
    for line in proc.stdout.splitlines():
        match = re.match(r"(\w+)\.py:\d+: error: (.*)", line)
        if match:
            errors[match.group(1)].append(match.group(2))
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not any(errors.values())):
        raise RuntimeError(f"mypy failed:\n{proc.stdout}\n{proc.stderr}")
    return errors


COMPLETIONS = {
    "RNNClassifier(class_w": "class_weight=",
    "RNNRegressor(return_s": "return_sequences=",
    "Seq2SeqTransformer(beam_": "beam_width=",
}


def jedi_completions(source):
    """What jedi completes at the end of ``source`` in a user's script."""
    import jedi

    code = f"from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer\n{source}"
    script = jedi.Script(code, path=os.path.join(ROOT, "user_script.py"))
    return [c.name_with_symbols for c in script.complete(2, len(source))]


if __name__ == "__main__":
    try:
        import jedi  # noqa: F401
    except ImportError:
        print("jedi: not installed here; skipped")
    else:
        for source, expected in COMPLETIONS.items():
            got = jedi_completions(source)
            print(f"jedi {source!r}: {got} -> {'ok' if expected in got else 'MISSING ' + expected}")
    try:
        import mypy  # noqa: F401
    except ImportError:
        print("mypy: not installed here; skipped")
        sys.exit(0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results = run_mypy(tmp)
    for name, errors in results.items():
        print(f"mypy {name}.py: {'no errors' if not errors else '; '.join(errors)}")
    print(f"mypy: {time.perf_counter() - start:.1f} s")
    ok = results["good"] == [] and any("class_wieght" in e for e in results["bad"])
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)
