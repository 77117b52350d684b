"""Peak memory and time of :func:`skrnn.load` against a model file's inflated size.

For each size, a model file whose members inflate to about that many MiB is
written (a one-layer GRU whose weights and Adam state make up the size, as
skrnn saves it: stored members) together with two variants:

- ``valid``: the file as saved; it loads;
- ``refused``: the same file whose recorded SHA-256 no longer matches, the
  most expensive refusal (every member is read, inflated, checked and
  hashed before the verdict);
- ``deflated``: the valid file with deflated members (``--deflated``);
- ``sparse`` and ``sparse refused``: a small model whose ``best_loss_`` is
  an array of that many MiB, zeros but one random byte in 256, deflated about
  75 times (just under the ratio cap of 100: a file of 1.3 % of its inflated
  size, as a hostile one would be), valid and with a wrong checksum
  (``--sparse``).

Each load runs in a fresh process that has imported skrnn, skops and torch; the
number reported is the increase of the peak resident set size during the
``load`` call over the memory held before it (peak reset through
``/proc/self/clear_refs``, Linux only), and the call's wall time. The
bounds of the persistence module's docstring are printed beside them: a
refused file at most its inflated size + 100 MiB, a valid one 3 x its
inflated size + 100 MiB, about 1 s per 100 MiB inflated.

Usage::

    python benchmarks/bench_load_memory.py                   # 256 and 1024 MiB
    python benchmarks/bench_load_memory.py --mib 64 256 --deflated --sparse
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHILD = r"""
import json, sys, time, warnings
import skops.io, skrnn, torch  # imported before: the first load would import skops
from skrnn.persistence import ModelFileError
torch.set_num_threads(1)
warnings.simplefilter("ignore")

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident set size
start = time.perf_counter()
try:
    obj = skrnn.load(sys.argv[1])
    outcome = "loaded"
except ModelFileError as exc:
    outcome = "refused"
seconds = time.perf_counter() - start
print(json.dumps({"outcome": outcome, "peak": status("VmHWM") - before, "seconds": seconds}))
"""


def inflated_size(path):
    with zipfile.ZipFile(path) as zf:
        return sum(i.file_size for i in zf.infolist())


def write_files(mib, directory, deflated):
    """The model file of about ``mib`` MiB inflated and its variants."""
    import numpy as np
    import torch

    from skrnn import RNNClassifier

    torch.set_num_threads(1)
    hidden = int((mib * 2**20 / 36) ** 0.5)  # GRU weights 3h^2 floats, Adam keeps two more copies
    X = np.random.RandomState(0).normal(size=(4, 2, 1)).astype(np.float32)
    with warnings.catch_warnings():  # one epoch does not converge
        warnings.simplefilter("ignore")
        est = RNNClassifier(cell="gru", hidden_size=hidden, bidirectional=False, max_iter=1, batch_size=4,
                            random_state=0, device="cpu", tol=None).fit(X, [0, 1, 0, 1])
    valid = os.path.join(directory, f"valid-{mib}.skrnn")
    est.save(valid)
    with zipfile.ZipFile(valid) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    record = json.loads(parts["skrnn.json"])
    record["sha256"] = "0" * 64
    files = {"valid": valid, "refused": os.path.join(directory, f"refused-{mib}.skrnn")}
    _write_zip(files["refused"], {**parts, "skrnn.json": json.dumps(record).encode()}, zipfile.ZIP_STORED)
    if deflated:
        files["deflated"] = os.path.join(directory, f"deflated-{mib}.skrnn")
        _write_zip(files["deflated"], parts, zipfile.ZIP_DEFLATED)
    del parts, est
    return files


def write_sparse_files(mib, directory):
    """A small model file with an array of ``mib`` MiB, almost all zeros,
    deflated, and the same file with a wrong checksum."""
    import hashlib

    import numpy as np

    from skrnn import RNNClassifier

    X = np.random.RandomState(0).normal(size=(4, 2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = RNNClassifier(hidden_size=2, max_iter=1, random_state=0, device="cpu").fit(X, [0, 1, 0, 1])
    sparse = np.zeros(mib * 2**20, dtype=np.uint8)
    sparse[::256] = np.random.RandomState(0).randint(1, 256, size=sparse[::256].size)
    est.best_loss_ = sparse
    path = os.path.join(directory, f"sparse-{mib}.skrnn")
    est.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    files = {"sparse": path, "sparse refused": os.path.join(directory, f"sparse-refused-{mib}.skrnn")}
    _write_zip(files["sparse"], parts, zipfile.ZIP_DEFLATED)
    record = json.loads(parts["skrnn.json"])
    record["sha256"] = hashlib.sha256(b"another file").hexdigest()
    _write_zip(files["sparse refused"], {**parts, "skrnn.json": json.dumps(record).encode()}, zipfile.ZIP_DEFLATED)
    return files


def _write_zip(path, parts, compression):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def measure(path):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", _CHILD, path], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--deflated", action="store_true", help="also a file with deflated members")
    parser.add_argument("--sparse", action="store_true", help="also a deflated sparse array, valid and refused")
    args = parser.parse_args(argv)
    mib_ = 2**20
    print("| inflated MiB | file | outcome | peak RSS increase MiB | bound MiB | seconds | s per 100 MiB |")
    print("|---:|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for mib in args.mib:
            files = write_files(mib, directory, args.deflated)
            if args.sparse:
                files.update(write_sparse_files(mib, directory))
            for case, path in files.items():
                size = inflated_size(path)
                result = measure(path)
                bound = size * (1 if "refused" in case else 3) + 100 * mib_
                print(f"| {size / mib_:.0f} | {case} ({os.path.getsize(path) / mib_:.1f} MiB on disk) | "
                      f"{result['outcome']} | {result['peak'] / mib_:.0f} | {bound / mib_:.0f} | "
                      f"{result['seconds']:.2f} | {result['seconds'] / (size / mib_ / 100):.2f} |", flush=True)
                os.unlink(path)


if __name__ == "__main__":
    main()
