"""The checks :func:`skrnn.load` runs on a model file before skops reads it.

The file is read in pieces of at most ``CHUNK`` bytes: its end record and
zip directory first (every declared size and feature is compared with the
caps below and the bytes there before anything is allocated for it), then
each member, inflated, CRC-checked and hashed as it is read and kept as a
list of chunks (never joined into a second copy). :class:`CanonicalZip`
presents the checked members to :func:`skops.io.load` as a stored zip built
in place: each member is handed over whole when zipfile reads it, then
forgotten, so the members exist once until skops has built its arrays.
"""

import bisect
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


_CENTRAL = struct.Struct("<4s6H3L5H2L")  # a central directory entry, up to its name
_END = struct.Struct("<4s4H2LH")  # the end record
CHUNK = 4 * 2**20  # bytes read, inflated and hashed at a time
MAX_DIRECTORY_BYTES = 256 * MAX_MEMBERS  # the central directory


class Member:
    """One member of a checked archive: where its data starts and what the
    zip directory declares for it."""

    __slots__ = ("name", "start", "csize", "size", "crc", "method")

    def __init__(self, name, start, csize, size, crc, method):
        self.name, self.start, self.csize, self.size, self.crc, self.method = name, start, csize, size, crc, method


class Source:
    """Random access to a model file's bytes without holding them: a real
    file, or a seekable file object from its current position."""

    def __init__(self, f, base, size):
        self.f, self.base, self.size = f, base, size

    def read_at(self, offset, n):
        self.f.seek(self.base + offset)
        data = self.f.read(n)
        if len(data) != n:
            _fail("the file ended early (truncated, or changed while it was read)")
        return data


def open_archive(src, max_bytes):
    """``{name: Member}`` of a strictly well-formed zip read from ``src``:
    nothing before, between or after the members and the central directory,
    no comment, no duplicate or case-twin names, stored or deflated members
    whose declared sizes fit the caps (at most ``max_bytes`` inflated). Only
    the directory and the local headers are read; :func:`read_member` reads a
    member's data and checks its size and CRC-32."""
    size = src.size
    end = src.read_at(size - _END.size, _END.size) if size >= _END.size else b""
    if end[:8] != b"PK\x05\x06\0\0\0\0" or end[-2:] != b"\0\0":  # one disk, no comment
        _fail("not a skrnn model file (not a single zip archive, truncated, or data after its end)")
    _, _, _, n_disk, n_total, cd_size, cd_off, _ = _END.unpack(end)
    locator = src.read_at(size - 42, 4) if size >= 42 else b""
    if cd_off + cd_size != size - _END.size or locator == b"PK\x06\x07":
        _fail("the zip directory is corrupted or zip64, or data was prepended to the archive")
    if max(n_disk, n_total) > MAX_MEMBERS or cd_size > MAX_DIRECTORY_BYTES:
        _fail(f"the archive declares more than {MAX_MEMBERS} members or a zip directory over "
              f"{MAX_DIRECTORY_BYTES} bytes")
    directory, pos, infos = src.read_at(cd_off, cd_size), 0, []
    while pos < cd_size:
        if directory[pos:pos + 4] != b"PK\x01\x02" or pos + _CENTRAL.size > cd_size:
            _fail("the zip directory is corrupted (an entry does not start where the previous one ends)")
        entry = _CENTRAL.unpack_from(directory, pos)
        (_, _, version, flags, method, _, _, crc, csize, size_, n_name, n_extra, n_comment, *_,
         offset) = entry
        raw_name = directory[pos + _CENTRAL.size:pos + _CENTRAL.size + n_name]
        pos += _CENTRAL.size + n_name + n_extra + n_comment
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        infos.append((offset, name, version, flags, method, crc, csize, size_))
        if len(infos) > MAX_MEMBERS:
            _fail(f"the archive declares more than {MAX_MEMBERS} members")
    if pos != cd_size:
        _fail("the zip directory is corrupted (its last entry runs past its end)")
    if not n_disk == n_total == len(infos):
        _fail(f"the zip directory holds {len(infos)} members but declares {n_total}")
    total = 0
    for _, name, version, flags, method, _, csize, size_ in infos:  # every size and feature, before any data
        if version > 20 or flags & ~_ALLOWED_FLAGS or method not in (0, 8):
            _fail(f"member {name!r} uses an unsupported zip feature (version {version}, flags "
                  f"{flags:#x}, compression {method}); only stored or deflated members are read")
        if not _NAME.fullmatch(name):
            _fail(f"unexpected archive member {name!r}")
        total += size_
        cap = {"schema.json": MAX_SCHEMA_BYTES, "skrnn.json": MAX_RECORD_BYTES}.get(name, max_bytes)
        if size_ > cap or total > max_bytes or size_ > MAX_RATIO * csize + 2**20 or (
                method == zipfile.ZIP_STORED and csize != size_):
            _fail(f"member {name!r} declares {size_} bytes from {csize}: inconsistent, or over a "
                  f"cap ({cap} for it, {max_bytes} in all: load(..., max_bytes=...), ratio {MAX_RATIO})")
    if len({info[1].lower() for info in infos}) != len(infos):
        _fail("the archive holds duplicate members (names equal up to case)")
    members, end = {}, 0
    for offset, name, _, flags, method, crc, csize, size_ in sorted(infos):
        # each member's local header and data start where the previous one ends
        local = _LOCAL.unpack(src.read_at(offset, _LOCAL.size)) if end == offset <= cd_off - _LOCAL.size else None
        if local is None or local[0] != b"PK\x03\x04":
            _fail(f"member {name!r} does not start where the previous one ends (data "
                  "prepended, hidden between members, or a corrupted offset)")
        start = offset + _LOCAL.size + local[9] + local[10]
        if local[2:4] + local[6:10] != (flags, method, crc, csize, size_, len(name)) or start > cd_off or (
                src.read_at(offset + _LOCAL.size, local[9]) != name.encode("utf-8" if flags & 0x800 else "cp437")):
            _fail(f"the local header of {name!r} disagrees with the zip directory")
        end = start + csize
        if end > cd_off:
            _fail(f"member {name!r} runs past the zip directory (truncated file)")
        members[name] = Member(name, start, csize, size_, crc, method)
    if end != cd_off:
        _fail("unexpected data between the last member and the zip directory")
    return members


def read_member(src, member, sink=None):
    """The inflated bytes of ``member`` as a list of chunks (at most
    ``CHUNK`` bytes each; no joined copy), each also passed to ``sink``;
    refuses data that does not inflate to exactly the declared size or fails
    its CRC-32, before holding more than the declared size."""
    name, size, chunks, crc, got = member.name, member.size, [], 0, 0
    inflater = zlib.decompressobj(-15) if member.method == zipfile.ZIP_DEFLATED else None
    for pos in range(member.start, member.start + member.csize, CHUNK):
        raw = src.read_at(pos, min(CHUNK, member.start + member.csize - pos))
        while True:
            if inflater is None:
                out, raw = raw, b""
            else:
                if inflater.eof and raw:
                    _fail(f"member {name!r} does not inflate to its declared {size} bytes")
                try:
                    out = inflater.decompress(raw, CHUNK)
                except zlib.error as exc:
                    _fail(f"member {name!r} is corrupted ({exc})")
                raw = inflater.unconsumed_tail
            got += len(out)
            if got > size:
                _fail(f"member {name!r} does not inflate to its declared {size} bytes")
            if out:
                crc = zlib.crc32(out, crc)
                chunks.append(out)
                if sink is not None:
                    sink(out)
            # a full output chunk may leave output pending in the inflater
            if not raw and (inflater is None or inflater.eof or len(out) < CHUNK):
                break
    if got != size or (inflater is not None and (not inflater.eof or inflater.unused_data)):
        _fail(f"member {name!r} does not inflate to its declared {size} bytes")
    if crc != member.crc:
        _fail(f"member {name!r} fails its CRC-32 check (corrupted)")
    return chunks


def read_archive(data, max_bytes):
    """``{name: inflated bytes}`` of the zip ``data`` (see :func:`open_archive`)."""
    src = Source(io.BytesIO(data), 0, len(data))
    return {name: b"".join(read_member(src, m)) for name, m in open_archive(src, max_bytes).items()}


def parse_json(raw, what):
    """The JSON document ``raw``; nesting deeper than Python's recursion
    limit is refused by :func:`json.loads` itself."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        _fail(f"{what} is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})")


def _array_class(name):
    """Whether an array node may name numpy's ``name``: ``ndarray`` or a
    numeric (or boolean) scalar type, what skops writes for arrays and
    scalars; never ``void``, ``bytes_``, ``str_`` or ``object_``, whose
    constructors turn a stored number into that many bytes."""
    cls = getattr(np, name, None) if isinstance(name, str) and not name.startswith("_") else None
    return cls is np.ndarray or (isinstance(cls, type) and issubclass(cls, (np.number, np.bool_)))


_CODE_LOADERS = ("TypeNode", "FunctionNode", "MethodNode", "PartialNode", "ReduceNode",
                 "ConstructorFromReduceNode", "OperatorFuncNode")


def _check_state(node, allowed, what):
    """An object of ``what`` stores a dict of at most the ``allowed`` keys,
    none of them a class, function or method."""
    state = node.get("content")
    keys = state.get("content") if isinstance(state, dict) and state.get("__loader__") == "DictNode" else None
    if node.get("__loader__") != "ObjectNode" or not isinstance(keys, dict):
        _fail(f"the stored {what} is not a plain object with a state")
    unknown = sorted(set(keys) - allowed)
    if unknown:
        _fail(f"the stored {what} sets {unknown[:5]}, which are neither its parameters nor its "
              "fitted attributes")
    code = sorted(k for k, v in keys.items() if isinstance(v, dict) and v.get("__loader__") in _CODE_LOADERS)
    if code:
        _fail(f"the stored {what} sets {code[:5]} to a class or function; skrnn stores those by name")


def check_schema(raw, states=None):
    """The skops schema in ``raw`` and ``{member: numpy class name}`` of the
    ``.npy`` members it refers to, and how often (skops writes an array
    shared by two attributes twice). Refuses documents nested deeper than
    ``MAX_JSON_DEPTH`` or holding more than ``MAX_JSON_VALUES`` values, any
    other member reference (raw bytes, sparse ``.npz`` archives), array nodes of other classes than numeric numpy
    arrays and scalars, references to earlier nodes and JSON values that are
    not scalars, and drops the ``__id__`` memo keys, so the node tree skops
    builds is exactly as large as the checked document (no node is shared,
    however often it is referenced). ``states`` maps ``"module.Class"`` to the
    state keys an object of that class may have (see :func:`_check_state`)."""
    schema, states = parse_json(raw, "schema.json"), states or {}
    stack, files, refs, count = [(schema, 1)] if isinstance(schema, (dict, list)) else [], {}, {}, 1
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
                if node.get("__module__") != "numpy" or not _array_class(node.get("__class__")):
                    _fail(f"the array {node['file']!r} is stored as {node.get('__module__')}."
                          f"{node.get('__class__')}; skrnn reads numeric numpy arrays and scalars")
                if files.setdefault(node["file"], node["__class__"]) != node["__class__"]:
                    _fail(f"the schema refers to the array {node['file']!r} as two classes")
                refs[node["file"]] = refs.get(node["file"], 0) + 1
            qualname = f"{node.get('__module__')}.{node.get('__class__')}"
            if qualname in states:
                _check_state(node, states[qualname], qualname)
        children = list(node.values()) if isinstance(node, dict) else node
        count += len(children)
        if depth > MAX_JSON_DEPTH or count > MAX_JSON_VALUES:
            _fail(f"schema.json nests deeper than {MAX_JSON_DEPTH} or holds more than "
                  f"{MAX_JSON_VALUES} values")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return schema, files, refs


NPY_HEAD = 10_016  # magic, version, header length and a header of at most 10,000 bytes


def check_npy(head, size, name, cls="ndarray"):
    """Check an ``.npy`` member's header (``head``: its first ``NPY_HEAD``
    bytes or all of them) against its ``size`` before numpy reads it; an
    array stored as a numpy scalar class holds one value of that type."""
    f = io.BytesIO(head)
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
    if cls != "ndarray" and (shape != () or dtype.type is not getattr(np, cls)):
        _fail(f"array {name!r} is stored as numpy.{cls} but holds shape {shape} of {dtype.str}")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes != size - f.tell() or (dtype.itemsize == 0 and shape and 0 not in shape):
        _fail(f"array {name!r} declares shape {shape} of {dtype.str} ({nbytes} bytes) but "
              f"holds {size - f.tell()} bytes")


class CanonicalZip(io.RawIOBase):
    """A stored zip of checked members, built in place for
    :func:`skops.io.load` without copying them: each member is the list of
    chunks :func:`read_member` returned and is handed over (joined) when
    zipfile reads it whole, then forgotten after its ``reads[name]``-th read
    (default 1), so the members are held once."""

    def __init__(self, members, crcs, reads=None):
        super().__init__()
        self._segments, self._pos, directory, offset = [], 0, [], 0
        for name in sorted(members):
            data, size, raw = members[name], sum(map(len, members[name])), name.encode()
            header = _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, 0x21, crcs[name], size, size, len(raw), 0) + raw
            directory.append(_CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crcs[name], size, size,
                                           len(raw), 0, 0, 0, 0, 0, offset) + raw)
            left = (reads or {}).get(name, 1)
            self._segments += [(offset, header), (offset + len(header), [name, data, size, left])]
            offset += len(header) + size
        if offset >= 2**32 - 2**16:
            _fail("its members inflate to more than a zip without zip64 holds (4 GiB)")
        directory = b"".join(directory)
        end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), offset, 0)
        self._segments.append((offset, directory + end))
        self._starts = [start for start, _ in self._segments]
        self._size = offset + len(directory) + len(end)

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=0):
        self._pos = max(0, {0: 0, 1: self._pos, 2: self._size}[whence] + offset)
        return self._pos

    def read(self, n=-1):
        n = self._size - self._pos if n is None or n < 0 else min(n, self._size - self._pos)
        i = bisect.bisect_right(self._starts, self._pos) - 1
        start, part = self._segments[i] if n > 0 else (0, b"")
        if isinstance(part, list) and self._pos == start and n == part[2]:  # a whole member
            if part[1] is None:
                raise OSError(f"member {part[0]!r} was already read")
            data = part[1] if isinstance(part[1], bytes) else b"".join(part[1])
            part[3] -= 1
            part[1] = data if part[3] > 0 else None  # forgotten after its last read: the reader holds it
            self._pos += n
            return data
        out = []
        while n > 0:
            i = bisect.bisect_right(self._starts, self._pos) - 1
            start, part = self._segments[i]
            if isinstance(part, list):
                if part[1] is None:
                    raise OSError(f"member {part[0]!r} was already read")
                part[1] = part[1] if isinstance(part[1], bytes) else b"".join(part[1])
                part = part[1]
            piece = part[self._pos - start:self._pos - start + n]
            out.append(piece)
            self._pos += len(piece)
            n -= len(piece)
        return b"".join(out)

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def pack(members):
    """A canonical zip of ``members`` (stored) for skops to read."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(members):
            zf.writestr(name, members[name])
    return buf.getvalue()
