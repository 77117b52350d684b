"""The checks :func:`skrnn.load` runs on a model file before skops reads it.

:mod:`zipfile` (the parser skops uses) reads the zip directory once its end
record has been checked; every size the file declares is then compared with
the bytes there and with the caps below before anything is allocated for it.
The result is a canonical in-memory zip (stored members, exactly the checked
bytes) that :func:`skops.io.loads` reads.
"""

import io
import json
import re
import struct
import zipfile
import zlib

import numpy as np

from ..exceptions import ModelFileError


MAX_MEMBERS = 10_000  # members of the archive
MAX_SCHEMA_BYTES = 16 * 2**20  # skops' schema.json, inflated
MAX_RECORD_BYTES = 2**16  # skrnn.json, inflated
MAX_JSON_DEPTH = 100  # nesting of schema.json
MAX_JSON_VALUES = 500_000  # values (containers and scalars) in schema.json
MAX_NDIM = 32  # dimensions of one stored array
MAX_RATIO = 100  # a deflated member inflates at most MAX_RATIO times its size, plus 1 MiB

_LOCAL = struct.Struct("<4s5H3L2H")  # a member's local header: signature ... name and extra lengths
_ALLOWED_FLAGS = 0x0806  # deflate level bits, UTF-8 names; not encryption, not data descriptors
_NAME = re.compile(r"(schema|skrnn)\.json|[0-9]{1,24}\.npy|tensors\.pt")


def _fail(message):
    raise ModelFileError(message)


def read_archive(data, max_bytes):
    """``{name: inflated bytes}`` of a strictly well-formed zip: nothing
    before, between or after the members and the central directory, no
    comment, no duplicate or case-twin names, stored or deflated members
    whose declared sizes and CRC-32 hold, at most ``max_bytes`` inflated."""
    if data[-22:-14] != b"PK\x05\x06\0\0\0\0" or data[-2:] != b"\0\0":  # one disk, no comment
        _fail("not a skrnn model file (not a single zip archive, truncated, or data after its end)")
    n_disk, n_total, cd_size, cd_off = struct.unpack_from("<2H2L", data, len(data) - 14)
    # so zipfile reads this end record (no zip64 locator before it) and shifts no offset
    if cd_off + cd_size != len(data) - 22 or data[-42:-38] == b"PK\x06\x07":
        _fail("the zip directory is corrupted or zip64, or data was prepended to the archive")
    # each entry zipfile builds starts with this signature: counting them bounds the entries
    if max(n_total, data.count(b"PK\x01\x02", cd_off, len(data) - 22)) > MAX_MEMBERS:
        _fail(f"the archive declares more than {MAX_MEMBERS} members")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, NotImplementedError, ValueError) as exc:
        _fail(f"the zip directory is corrupted ({exc})")
    infos, total = sorted(archive.infolist(), key=lambda i: i.header_offset), 0
    if not n_disk == n_total == len(infos):
        _fail(f"the zip directory holds {len(infos)} members but declares {n_total}")
    for info in infos:  # every declared size and feature, before anything is read
        name, method, size, csize = info.orig_filename, info.compress_type, info.file_size, info.compress_size
        if info.extract_version > 20 or info.flag_bits & ~_ALLOWED_FLAGS or method not in (0, 8):
            _fail(f"member {name!r} uses an unsupported zip feature (version {info.extract_version}, flags "
                  f"{info.flag_bits:#x}, compression {method}); only stored or deflated members are read")
        if not _NAME.fullmatch(name):
            _fail(f"unexpected archive member {name!r}")
        total += size
        cap = {"schema.json": MAX_SCHEMA_BYTES, "skrnn.json": MAX_RECORD_BYTES}.get(name, max_bytes)
        if size > cap or total > max_bytes or size > MAX_RATIO * csize + 2**20 or (
                method == zipfile.ZIP_STORED and csize != size):
            _fail(f"member {name!r} declares {size} bytes from {csize}: inconsistent, or over a "
                  f"cap ({cap} for it, {max_bytes} in all: load(..., max_bytes=...), ratio {MAX_RATIO})")
    if len({info.orig_filename.lower() for info in infos}) != len(infos):
        _fail("the archive holds duplicate members (names equal up to case)")
    members, end = {}, 0
    for info in infos:  # each member's local header and data start where the previous one ends
        name, offset, csize = info.orig_filename, info.header_offset, info.compress_size
        local = _LOCAL.unpack_from(data, offset) if end == offset <= cd_off - _LOCAL.size else None
        if local is None or local[0] != b"PK\x03\x04":
            _fail(f"member {name!r} does not start where the previous one ends (data "
                  "prepended, hidden between members, or a corrupted offset)")
        start = offset + _LOCAL.size + local[9] + local[10]
        declared = (info.flag_bits, info.compress_type, info.CRC, csize, info.file_size, len(name))
        if local[2:4] + local[6:10] != declared or not data.startswith(name.encode(), offset + _LOCAL.size):
            _fail(f"the local header of {name!r} disagrees with the zip directory")
        end = start + csize
        if end > cd_off:
            _fail(f"member {name!r} runs past the zip directory (truncated file)")
        members[name] = _inflate(data[start:end], info)
    if end != cd_off:
        _fail("unexpected data between the last member and the zip directory")
    return members


def _inflate(raw, info):
    name, size = info.orig_filename, info.file_size
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            raw = inflater.decompress(raw, size + 1)
        except zlib.error as exc:
            _fail(f"member {name!r} is corrupted ({exc})")
        if len(raw) != size or not inflater.eof or inflater.unused_data:
            _fail(f"member {name!r} does not inflate to its declared {size} bytes")
    if zlib.crc32(raw) != info.CRC:
        _fail(f"member {name!r} fails its CRC-32 check (corrupted)")
    return raw


def parse_json(raw, what):
    """The JSON document ``raw``; nesting deeper than Python's recursion
    limit is refused by :func:`json.loads` itself."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        _fail(f"{what} is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})")


def check_schema(raw):
    """The skops schema in ``raw`` and the names of the ``.npy`` members it
    refers to. Refuses documents nested deeper than ``MAX_JSON_DEPTH`` or
    holding more than ``MAX_JSON_VALUES`` values, any other member reference
    (raw bytes, sparse ``.npz`` archives), references to earlier nodes and
    JSON values that are not scalars, and drops the ``__id__`` memo keys, so
    the node tree skops builds is exactly as large as the checked document
    (no node is shared, however often it is referenced)."""
    schema = parse_json(raw, "schema.json")
    stack, files, count = [(schema, 1)] if isinstance(schema, (dict, list)) else [], set(), 1
    while stack:
        node, depth = stack.pop()
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
        children = list(node.values()) if isinstance(node, dict) else node
        count += len(children)
        if depth > MAX_JSON_DEPTH or count > MAX_JSON_VALUES:
            _fail(f"schema.json nests deeper than {MAX_JSON_DEPTH} or holds more than "
                  f"{MAX_JSON_VALUES} values")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return schema, files


def check_npy(raw, name):
    """Check an ``.npy`` member's header against its size before numpy reads it."""
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        shape, _, dtype = reader[version](f, max_header_size=10_000)
    except (ValueError, KeyError, TypeError, SyntaxError, OverflowError, MemoryError, RecursionError) as exc:
        _fail(f"array {name!r} has an invalid header ({type(exc).__name__}: {str(exc)[:200]})")
    if dtype.kind not in "biufcUS":  # not objects, not structured (kind "V"), not datetimes
        _fail(f"array {name!r} has the unsupported dtype {dtype.str!r}")
    if len(shape) > MAX_NDIM or any(d < 0 for d in shape):
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
