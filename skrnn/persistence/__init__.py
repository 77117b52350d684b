"""Safe persistence on skops.io: model files that load without running code.

A model file (format version 2) is a `skops.io <https://skops.readthedocs.io>`_
file (parameters as JSON, every array as a ``.npy`` member) plus
``skrnn.json``: format version, versions that wrote it, a SHA-256 of the skops
members and, with ``key=``, an HMAC-SHA256 signature. :class:`PersistenceMixin`
hands skops and pickle the fitted network as numpy weights and rebuilds it
from ``_network_spec``, so ``skops.io.dump``/``load(..., trusted=
trusted_types())`` work on skrnn estimators and pipelines too.

:func:`load` guarantees that **no code runs** (nothing is unpickled; skops
builds only skrnn's types and those it trusts by default), **integrity against
corruption** (CRC-32 of every member, the SHA-256) and **bounded resources**:
before anything is allocated, every declared size is checked against the
bytes there and a cap: the file and its inflated members (``max_bytes``,
2 GiB), deflate ratio (100), members (10,000), ``schema.json`` (16 MiB, depth
100, 500,000 values), each array's shape and dtype against its member's size,
each network (built on the meta device, at most 4 parts per stored weight)
against the stored weights. Any malformed file raises :class:`ModelFileError`.
It does not guarantee **authenticity**: anyone who can edit a file can
recompute its checksum; sign with ``key=`` (non-empty bytes or str) or verify
files out of band.

Reading is bounded as well: the file is read in 4 MiB pieces (nothing is
reserved for the cap), each member inflated, CRC-checked and hashed as it is
read and kept once as a list of chunks, and skops gets the checked members
without copies (:class:`skrnn._modelfile.CanonicalZip`); the stored arrays
become the network's weights. A refused file costs at most what its members
inflate to + 100 MiB of memory, a valid one 3 x that + 100 MiB (the members,
the arrays skops builds from them, and a member joined from its chunks or a
network with unsaved buffers built on the CPU); a file object
that cannot seek is first copied (+ its size). Worst case of the default caps
(``max_bytes`` = 2 GiB inflated): 2.1 GiB for a refused file, 6.1 GiB for a
valid one (measured 1.0 x and 2.0 to 3.0 x the inflated size by
``benchmarks/bench_load_memory.py``), about 0.3 s per 100 MiB to refuse and
0.55 s per 100 MiB to load stored members (6 s and 11 s at the cap) and, for
deflated members, zlib's inflate speed (1.2 to 1.6 s per 100 MiB of weights
measured, about 35 s at the cap).

A model file sets only what the estimator has: array nodes name numeric
numpy arrays or scalars, an estimator's state holds its parameters and its
fitted attributes (``FITTED_STATE``), its parameters pass their constraints
(``n_threads`` at most ``MAX_THREADS``), classes and functions appear only
where skrnn stores them by name (``optimizer``, ``lr_schedule``), and the
fitted attributes fit the network (classes against its outputs, tensors on
the CPU). ``skops.io.load`` makes none of these checks.
"""

from ._files import PersistenceMixin, load, save, trusted_types
from ._modelfile import ModelFileError

__all__ = ["PersistenceMixin", "ModelFileError", "save", "load", "trusted_types"]
