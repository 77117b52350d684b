"""Helpers that take skrnn model files apart and put edited ones back
together (with a valid checksum unless told otherwise), for the hostile-file
tests."""

import hashlib
import io
import json
import struct
import zipfile
import zlib

RECORD = "skrnn.json"


def members(data):
    """``{name: bytes}`` of a model file given as bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def digest(parts):
    """The SHA-256 skrnn.json records: over the skops members, by name."""
    h = hashlib.sha256()
    for name in sorted(parts):
        h.update(b"%s\0%d\0" % (name.encode(), len(parts[name])) + parts[name])
    return h.hexdigest()


def build(parts, *, fix_checksum=True, compression=zipfile.ZIP_STORED, record_edit=None):
    """A zip of ``parts``; skrnn.json's checksum recomputed over the others."""
    parts = dict(parts)
    if RECORD in parts and (fix_checksum or record_edit):
        record = json.loads(parts[RECORD])
        if fix_checksum:
            record["sha256"] = digest({k: v for k, v in parts.items() if k != RECORD})
        if record_edit:
            record_edit(record)
        parts[RECORD] = json.dumps(record).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def edit_schema(data, edit, **kwargs):
    """The model file ``data`` with ``edit(schema)`` applied to schema.json."""
    parts = members(data)
    schema = json.loads(parts["schema.json"])
    edit(schema)
    parts["schema.json"] = json.dumps(schema).encode()
    return build(parts, **kwargs)


def attrs(schema):
    """The estimator's state (a DictNode's content) in a skops schema."""
    return schema["content"]["content"]


def json_value(value):
    """A skops node holding a JSON scalar."""
    return {"__class__": type(value).__name__, "__module__": "builtins",
            "__loader__": "JsonNode", "content": json.dumps(value), "is_json": True}


def raw_zip(entries, *, prefix=b"", suffix=b""):
    """A zip written field by field, to say anything a hostile file might:
    ``entries`` are dicts with ``name``, ``data`` (as stored, i.e. already
    compressed) and optionally ``method``, ``crc``, ``size`` (inflated),
    ``version`` and ``flags``."""
    out, directory = bytearray(prefix), bytearray()
    for e in entries:
        name = e["name"].encode()
        fields = (e.get("version", 20), e.get("flags", 0), e.get("method", 0), 0, 0x21,
                  e.get("crc", zlib.crc32(e["data"])), len(e["data"]), e.get("size", len(e["data"])))
        directory += struct.pack("<4sH5H3L5HLL", b"PK\x01\x02", 20, *fields[:2], *fields[2:5],
                                 *fields[5:], len(name), 0, 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, len(name), 0) + name + e["data"]
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory),
                       len(out), 0)
    return bytes(out + directory + eocd + suffix)


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()
