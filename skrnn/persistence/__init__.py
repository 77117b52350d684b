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
recompute its checksum; sign with ``key=`` or verify files out of band.
"""

from ._files import PersistenceMixin, load, save, trusted_types
from ._modelfile import ModelFileError

__all__ = ["PersistenceMixin", "ModelFileError", "save", "load", "trusted_types"]
