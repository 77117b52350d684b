"""The checks :func:`skrnn.load` runs on a model file before skops reads it.

Everything here parses bytes (``struct``, ``zlib``, ``json``, numpy's
``.npy`` header reader) and compares each size the file declares with the
bytes that are really there and with the caps below, before anything is
allocated for it. The result is a canonical in-memory zip (stored members,
exactly the checked bytes) that :func:`skops.io.loads` reads.
"""

import io
import json
import re
import struct
import zipfile
import zlib

import numpy as np


class ModelFileError(ValueError):
    """The file is not a valid skrnn model file, or this version cannot read it.

    Raised for files that are truncated, corrupted, tampered with, exceed the
    documented size caps, hold anything besides plain data and arrays, or were
    written by another format version. Nothing in such a file is executed.
    """


MAX_MEMBERS = 10_000  # members of the archive
MAX_SCHEMA_BYTES = 16 * 2**20  # skops' schema.json, inflated
MAX_RECORD_BYTES = 2**16  # skrnn.json, inflated
MAX_JSON_DEPTH = 100  # nesting of schema.json
MAX_JSON_VALUES = 500_000  # values (containers and scalars) in schema.json
MAX_NDIM = 32  # dimensions of one stored array
MAX_RATIO = 100  # a deflated member inflates at most MAX_RATIO times its size, plus 1 MiB

_EOCD, _CDIR, _LOCAL = struct.Struct("<4sHHHHLLH"), struct.Struct("<4sHHHHHHLLLHHHHHLL"), struct.Struct("<4sHHHHHLLLHH")
_ALLOWED_FLAGS = 0x0806  # deflate level bits, UTF-8 names; not encryption, not data descriptors
_NAME = re.compile(r"(schema|skrnn)\.json|[0-9]{1,24}\.npy|tensors\.pt")
_NPY_KINDS = "biufcUS"


def _fail(message):
    raise ModelFileError(message)


def read_archive(data, max_bytes):
    """``{name: inflated bytes}`` of a strictly well-formed zip: nothing
    before, between or after the members and the central directory, no
    comment, no duplicate or case-twin names, stored or deflated members
    whose declared sizes and CRC-32 hold, at most ``max_bytes`` inflated."""
    n = len(data)
    if n < _EOCD.size or data[n - _EOCD.size:n - _EOCD.size + 4] != b"PK\x05\x06":
        _fail("not a skrnn model file (it is not a zip archive, it is truncated, or has "
              "data after its end)")
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_off, comment = _EOCD.unpack_from(data, n - _EOCD.size)
    if disk or cd_disk or n_disk != n_total or comment or cd_off + cd_size != n - _EOCD.size:
        _fail("the zip directory is corrupted, split, or followed by extra data")
    if not 0 < n_total <= MAX_MEMBERS or n_total * _CDIR.size > cd_size:
        _fail(f"the archive declares {n_total} members (at most {MAX_MEMBERS})")
    entries, pos, total = [], cd_off, 0
    for _ in range(n_total):
        if pos + _CDIR.size > cd_off + cd_size:
            _fail("the zip directory is truncated")
        (sig, _, need, flags, method, _, _, crc, csize, usize, nlen, elen, clen, _, _, _,
         offset) = _CDIR.unpack_from(data, pos)
        name = data[pos + _CDIR.size:pos + _CDIR.size + nlen].decode("ascii", "replace")
        pos += _CDIR.size + nlen + elen + clen
        if sig != b"PK\x01\x02" or pos > cd_off + cd_size:
            _fail("the zip directory is corrupted")
        if need > 20 or flags & ~_ALLOWED_FLAGS or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _fail(f"member {name!r} uses an unsupported zip feature (version {need}, flags "
                  f"{flags:#x}, compression {method}); only stored or deflated members are read")
        if not _NAME.fullmatch(name):
            _fail(f"unexpected archive member {name!r}")
        total += usize
        cap = {"schema.json": MAX_SCHEMA_BYTES, "skrnn.json": MAX_RECORD_BYTES}.get(name, max_bytes)
        if usize > cap or total > max_bytes or usize > MAX_RATIO * csize + 2**20 or (
                method == zipfile.ZIP_STORED and csize != usize):
            _fail(f"member {name!r} declares {usize} bytes from {csize}: inconsistent, or over a "
                  f"cap ({cap} for it, {max_bytes} in all: load(..., max_bytes=...), ratio {MAX_RATIO})")
        entries.append((offset, name, flags, method, crc, csize, usize))
    if pos != cd_off + cd_size:
        _fail("the zip directory holds extra data")
    if len({e[1].lower() for e in entries}) != len(entries):
        _fail("the archive holds duplicate members (names equal up to case)")
    members, end = {}, 0
    for offset, name, flags, method, crc, csize, usize in sorted(entries):
        local = _LOCAL.unpack_from(data, offset) if offset + _LOCAL.size <= cd_off else None
        if offset != end or local is None or local[0] != b"PK\x03\x04":
            _fail(f"member {name!r} does not start where the previous one ends (data "
                  "prepended, hidden between members, or a corrupted offset)")
        start = offset + _LOCAL.size + local[9] + local[10]
        if local[2:4] != (flags, method) or local[6:9] != (crc, csize, usize) or \
                data[offset + _LOCAL.size:offset + _LOCAL.size + local[9]] != name.encode():
            _fail(f"the local header of {name!r} disagrees with the zip directory")
        end = start + csize
        if end > cd_off:
            _fail(f"member {name!r} runs past the zip directory (truncated file)")
        members[name] = _inflate(data[start:end], method, usize, crc, name)
    if end != cd_off:
        _fail("unexpected data between the last member and the zip directory")
    return members


def _inflate(raw, method, size, crc, name):
    if method == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(raw, size + 1)
        except zlib.error as exc:
            _fail(f"member {name!r} is corrupted ({exc})")
        if len(out) != size or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
            _fail(f"member {name!r} does not inflate to its declared {size} bytes")
        raw = out
    if zlib.crc32(raw) != crc:
        _fail(f"member {name!r} fails its CRC-32 check (corrupted)")
    return raw


def parse_json(raw, what):
    """A JSON document within the depth and value-count caps."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        _fail(f"{what} is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})")
    stack, count = [(doc, 1)] if isinstance(doc, (dict, list)) else [], 1
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        count += len(children)
        if depth > MAX_JSON_DEPTH or count > MAX_JSON_VALUES:
            _fail(f"{what} nests deeper than {MAX_JSON_DEPTH} or holds more than "
                  f"{MAX_JSON_VALUES} values")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return doc


def check_schema(schema):
    """Names of the ``.npy`` members the skops schema refers to. Refuses any
    other member reference (raw bytes, sparse ``.npz`` archives), references
    to earlier nodes and JSON values that are not scalars, and drops the
    ``__id__`` memo keys, so the node tree skops builds is exactly as large as
    the checked document (no node is shared, however often it is referenced)."""
    stack, files = [schema], set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            node.pop("__id__", None)
            loader, content = node.get("__loader__"), node.get("content")
            if loader == "CachedNode" or (loader == "JsonNode" and not (
                    isinstance(content, str) and len(content) <= 2**16 and content.lstrip()[:1] not in "[{")):
                _fail(f"the schema holds a {loader} skrnn does not read")
            if "file" in node:
                if loader != "NdArrayNode" or not isinstance(node["file"], str):
                    _fail("the schema refers to a member that is not a plain array")
                files.add(node["file"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return files


def check_npy(raw, name):
    """Check an ``.npy`` member's header against its size before numpy reads it."""
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        shape, _, dtype = reader[version](f, max_header_size=10_000)
    except (ValueError, KeyError, TypeError, SyntaxError, OverflowError, MemoryError, RecursionError) as exc:
        _fail(f"array {name!r} has an invalid header ({type(exc).__name__}: {str(exc)[:200]})")
    if dtype.kind not in _NPY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        _fail(f"array {name!r} has the unsupported dtype {dtype.str!r}")
    if len(shape) > MAX_NDIM or any(not isinstance(d, int) or d < 0 for d in shape):
        _fail(f"array {name!r} has the invalid shape {shape}")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes != len(raw) - f.tell() or (dtype.itemsize == 0 and shape and 0 not in shape):
        _fail(f"array {name!r} declares shape {shape} of {dtype.str} ({nbytes} bytes) but "
              f"holds {len(raw) - f.tell()} bytes")


def pack(members):
    """A canonical zip of ``members`` (stored) for skops to read."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(members):
            zf.writestr(name, members[name])
    return buf.getvalue()
