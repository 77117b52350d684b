"""Peak memory and time of :func:`skrnn.load` against a model file's inflated
size: the measurement lives beside the tests that bound it
(``tests/persistence/load_memory.py``, which documents what is measured);
this runs it.

Usage::

    python benchmarks/bench_load_memory.py                   # 256 and 1024 MiB
    python benchmarks/bench_load_memory.py --mib 64 256 --deflated --sparse
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "persistence"))

from load_memory import main  # noqa: E402

if __name__ == "__main__":
    main()
