"""Saving and loading model files (see :mod:`skrnn.persistence`)."""

import contextlib
import copy
import contextvars
import hashlib
import hmac
import io
import itertools
import json
import os
import platform
import threading
import warnings
import zlib

import numpy as np
import torch

from ._atomic import replace_file
from ._modelfile import (
    CHUNK,
    NPY_HEAD,
    CanonicalZip,
    ModelFileError,
    Source,
    check_npy,
    check_schema,
    open_archive,
    pack,
    parse_json,
    read_archive,
    read_member,
)
from .. import _warnings
from .._compat import validate_params
from .._home import MOVED_CLASSES, public_home
from .._nn.seeding import seeded_init
from ._checks import _check_loaded, _state_keys, trusted_types

__all__ = ["PersistenceMixin", "ModelFileError", "save", "load", "trusted_types"]

FORMAT_NAME = "skrnn-model"
FORMAT_VERSION = 2
MAX_BYTES = 2**31
_RECORD = "skrnn.json"
_LOADING = contextvars.ContextVar("skrnn_loading_model_file", default=False)


@public_home("skrnn.persistence")
class PersistenceMixin:
    """Adds :meth:`save`, and pickle/skops state holding the fitted network as
    numpy weights, rebuilt with ``_build_network()`` when loaded."""

    def save(self, path, *, key=None):
        """Save the estimator in skrnn's safe model format; see :func:`save`.

        The format runs no code on load, so it cannot hold callbacks: they are
        stored as ``callbacks=None`` with a warning (pickle and joblib keep
        them).

        Parameters
        ----------
        path : str, path-like or binary file
            Where to write the model file (replaced atomically).
        key : bytes, str or None, default=None
            Signs the file with HMAC-SHA256 when given (non-empty).

        Returns
        -------
        self : object
            The estimator, unchanged.
        """
        target = self
        if getattr(self, "callbacks", None):
            _warnings.warn(
                f"{type(self).__name__}.save: the safe model format cannot hold callbacks "
                "(loading them would run their code); the file stores callbacks=None. "
                "Use pickle or joblib to keep them.",
                UserWarning,
            )
            target = copy.copy(self)
            target.callbacks = None
        save(target, path, key=key)
        return self

    def __getstate__(self):
        state = dict(super().__getstate__())
        module = state.pop("module_", None)
        if module is not None:
            state["_weights"] = {k: _numpy(v) for k, v in module.state_dict().items()}
            state["_training"] = bool(module.training)
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = _map(state["_optimizer_state"], torch.Tensor, _numpy)
        torch_params = {}  # a torch.device or built-in optimizer class, by name
        for name, value in state.items():
            if isinstance(value, torch.device):
                torch_params[name] = ["device", str(value)]
            elif isinstance(value, type) and getattr(torch.optim, value.__name__, None) is value:
                torch_params[name] = ["optimizer", value.__name__]
        state.update(dict.fromkeys(torch_params), _torch_params=torch_params)
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name, (kind, value) in state.pop("_torch_params", {}).items():
            if _LOADING.get() and (name, kind) not in (("device", "device"), ("optimizer", "optimizer")):
                raise ModelFileError(f"the stored {name!r} claims to be a torch {kind}")
            state[name] = torch.device(value) if kind == "device" else _optimizer(value)
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = _map(state["_optimizer_state"], np.ndarray, torch.from_numpy)
        weights, training = state.pop("_weights", None), state.pop("_training", False)
        super().__setstate__(state)
        if weights is not None:
            self.module_ = self._rebuild_network(weights, training)

    def _rebuild_network(self, weights, training):
        """The network of ``_network_spec`` with ``weights``; shapes are
        compared on the meta device before any memory is allocated."""
        where = f"the stored network of {type(self).__name__}"
        try:
            validate_params(self)
            stored = {k: (np.shape(v), str(getattr(v, "dtype", type(v).__name__)))
                      for k, v in weights.items()}
            with torch.device("meta"), _counting_registrations(4 * len(weights) + 256):
                meta = self._build_network()
        except Exception as exc:  # invalid or absurd parameters, _network_spec or weights from the file
            raise ModelFileError(f"{where} cannot be built from its parameters (_network_spec "
                                 f"{getattr(self, '_network_spec', None)!r}): {_short(exc)}") from None
        expected = {k: (tuple(t.shape), str(t.dtype)[6:]) for k, t in meta.state_dict().items()}
        if expected != stored:
            diff = sorted(set(expected.items()) ^ set(stored.items()))[:4]
            raise ModelFileError(f"the stored weights of {where} do not fit the network described "
                                 f"by its parameters (first differences, name/shape/dtype: {diff})")
        extra = sum(t.numel() for t in (*meta.parameters(), *meta.buffers())) - sum(
            v.size for v in weights.values())
        if extra > 2**24:
            raise ModelFileError(f"{where} declares {extra} unsaved buffer elements")
        # the stored arrays become the weights of the meta network (no copy,
        # no initialisation that would be overwritten)
        state = {k: torch.from_numpy(np.ascontiguousarray(v, v.dtype.newbyteorder("="))) for k, v in weights.items()}
        module = meta
        module.load_state_dict(state, assign=True)
        if any(t.is_meta for t in (*module.parameters(), *module.buffers())):  # unsaved buffers
            # built under the process-wide initialisation lock: a fit
            # initialising in another thread keeps its seeded starting weights
            with seeded_init(0):
                module = self._build_network()
            module.load_state_dict(state, assign=True)
        return module.train(bool(training))


@contextlib.contextmanager
def _counting_registrations(limit):
    """Stop building a network past ``limit`` modules, parameters and buffers
    (``num_layers=10**6`` makes millions of objects even on the meta device)."""
    count, mod, thread = itertools.count(1), torch.nn.modules.module, threading.get_ident()

    def hook(*_):  # the hooks are global: count only this thread's network
        if threading.get_ident() == thread and next(count) > limit:
            raise ModelFileError(f"the network has more than {limit} parts, more than its weights")

    hooks = [mod.register_module_module_registration_hook(hook),
             mod.register_module_parameter_registration_hook(hook),
             mod.register_module_buffer_registration_hook(hook)]
    try:
        yield
    finally:
        [h.remove() for h in hooks]


def _numpy(t):
    return t.detach().cpu().numpy()


def _map(obj, kind, fn):
    if isinstance(obj, kind):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map(v, kind, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map(v, kind, fn) for v in obj)
    return obj


def _optimizer(name):
    cls = getattr(torch.optim, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ModelFileError(f"unknown optimizer {name!r}")
    return cls


def _short(exc):
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"


# ------------------------------------------------------------------ save / load
def _digest(members):
    h = hashlib.sha256()
    for name in sorted(members):
        h.update(b"%s\0%d\0" % (name.encode(), len(members[name])))
        h.update(members[name])
    return h.hexdigest()


def _check_key(key):
    """``key`` signs and verifies files: non-empty bytes or str (anything
    else would be turned into bytes silently: ``0`` is the empty key)."""
    if key is not None and not (isinstance(key, (bytes, str)) and len(key) > 0):
        what = f"an empty {type(key).__name__}" if isinstance(key, (bytes, str)) else type(key).__name__
        raise TypeError(f"key must be a non-empty bytes or str (the signing secret); got {what}.")


def _signature(record, key):
    key = key.encode() if isinstance(key, str) else key
    body = json.dumps({k: v for k, v in record.items() if k != "hmac_sha256"}, sort_keys=True)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


@public_home("skrnn.persistence")
def save(obj, path, *, key=None):
    """Save a skrnn estimator, or a pipeline mixing skrnn and scikit-learn
    steps, to ``path`` (str, path or binary file; replaced atomically).

    Types :func:`load` would not trust (a custom optimizer class, a
    ``FunctionTransformer``'s own function, ...) raise a ``TypeError`` naming
    them. A replaced file keeps its mode, and a symbolic link is written
    through to its target.

    Parameters
    ----------
    obj : estimator
        A skrnn estimator or a scikit-learn pipeline (or other meta-estimator)
        of skrnn and scikit-learn steps, fitted or not.
    path : str, path-like or binary file
        Where to write the model file; a file path is replaced atomically.
    key : bytes, str or None, default=None
        Signs the file with HMAC-SHA256 when given (non-empty bytes or str;
        anything else is a ``TypeError``); :func:`load` then needs the same key.
    """
    import skops.io as sio
    from sklearn.base import BaseEstimator

    _check_key(key)
    if not isinstance(obj, BaseEstimator):
        raise TypeError(f"save stores skrnn estimators and scikit-learn pipelines of them; got "
                        f"{type(obj).__module__}.{type(obj).__qualname__}.")
    try:
        payload = sio.dumps(obj)
    except Exception as exc:  # skops cannot write some state (pandas objects, C extension types)
        raise TypeError(
            f"{type(obj).__name__} cannot be stored in a safe model file: skops.io cannot write "
            f"part of its state ({_short(exc)}). Use pickle or joblib for files you trust."
        ) from None
    refused = sorted(set(sio.get_untrusted_types(data=payload)) - set(trusted_types()))
    if refused:
        raise TypeError(
            f"{refused} cannot be stored in a safe model file: loading them would mean importing "
            "code named by the file. Replace them (a custom optimizer class: "
            "est.set_params(optimizer='adam')), save the skrnn steps alone, or use pickle or "
            "joblib for files you trust."
        )
    try:
        members = read_archive(payload, float("inf"))
    except ModelFileError as exc:
        raise TypeError(f"skrnn's model files cannot hold this object ({exc}); use pickle or "
                        "joblib for files you trust.") from None
    record = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "versions": _versions(),
              "estimator": f"{type(obj).__module__}.{type(obj).__qualname__}", "sha256": _digest(members)}
    if key is not None:
        record["hmac_sha256"] = _signature(record, key)
    blob = pack({**members, _RECORD: json.dumps(record, indent=1).encode()})
    if hasattr(path, "write"):
        path.write(blob)
        return
    replace_file(path, lambda f: f.write(blob))


def _versions():
    import sklearn
    import skops

    from .._version import __version__

    return {"skrnn": __version__, "skops": skops.__version__, "torch": torch.__version__,
            "sklearn": sklearn.__version__, "numpy": np.__version__, "python": platform.python_version()}


def _source(stack, path, max_bytes, where):
    """The model file as a :class:`Source`, its size checked against
    ``max_bytes`` before anything is read: a path is opened (and read member
    by member later), a seekable file object is read from its position, any
    other is copied in 4 MiB chunks until its end or past ``max_bytes``."""
    if not hasattr(path, "read"):
        f = stack.enter_context(open(path, "rb"))
        base, size = 0, os.fstat(f.fileno()).st_size
    elif getattr(path, "seekable", lambda: False)():
        f, base = path, path.tell()
        size = f.seek(0, os.SEEK_END) - base
        stack.callback(f.seek, base + size)  # left at the end, as a whole read would
    else:
        f, base, size = io.BytesIO(), 0, 0
        while size <= max_bytes:
            chunk = path.read(min(CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            size += f.write(chunk)
    if size > max_bytes:
        raise ModelFileError(f"Cannot load {where}: it is larger than max_bytes={max_bytes}.")
    return Source(f, base, size)


def _check_record(names, raw, key):
    """The checked ``skrnn.json`` (``raw``) of an archive of ``names``; its
    signature with ``key``. The members' checksum is compared later, as
    they are read."""
    if set(names) == {_RECORD, "tensors.pt"}:
        raise ModelFileError(
            "it uses skrnn's model format version 1 (a torch pickle of the weights), which this "
            "version does not read. Convert it where it was saved: with that skrnn version, "
            "pickle.dump(skrnn.load(path), f) to a file you keep, then here pickle.load(f).save(path)"
        )
    if _RECORD not in names or "schema.json" not in names:
        raise ModelFileError(f"not a skrnn model file (no {_RECORD}; a plain skops file opens with "
                             "skops.io.load(path, trusted=...))")
    record = parse_json(raw(), _RECORD)
    record = record if isinstance(record, dict) and isinstance(record.get("versions", {}), dict) else {}
    version = record.get("format_version")
    if record.get("format") != FORMAT_NAME or type(version) is not int or version < 2:
        raise ModelFileError(f"{_RECORD} does not describe a skrnn model (format {record.get('format')!r}, "
                             f"format_version {version!r})")
    if version > FORMAT_VERSION:
        saved = record.get("versions", {}).get("skrnn", "a newer version")
        raise ModelFileError(f"the file uses model format version {version}, written by skrnn "
                             f"{saved}; this skrnn reads version {FORMAT_VERSION}. Upgrade skrnn to load it")
    if key is not None and not hmac.compare_digest(str(record.get("hmac_sha256")), _signature(record, key)):
        raise ModelFileError("its signature is missing or does not match the key (not signed with "
                             "this key, or modified after signing)")
    return record


def _checked_members(src, max_bytes, key):
    """The record, and the members of the model file in ``src`` (lists of
    chunks, each member held once) with its schema rewritten by
    :func:`check_schema`, every check passed: the archive's structure and
    caps, the record and its signature, each member's CRC-32 and ``.npy``
    header, the SHA-256 over all of them."""
    archive = open_archive(src, max_bytes)
    record = _check_record(archive, lambda: b"".join(read_member(src, archive[_RECORD])), key)
    raw_schema = b"".join(read_member(src, archive["schema.json"]))
    schema, files, refs = check_schema(raw_schema, _state_keys())
    if set(files) != set(archive) - {"schema.json", _RECORD}:
        raise ModelFileError("the archive members do not match the arrays its schema refers to")
    members, digest = {}, hashlib.sha256()
    for name in sorted(set(archive) - {_RECORD}):  # hashed as read, never joined
        digest.update(b"%s\0%d\0" % (name.encode(), archive[name].size))
        if name == "schema.json":
            digest.update(raw_schema)
            continue
        chunks = read_member(src, archive[name], digest.update)
        members[name] = chunks, archive[name].crc
        head, n = [], 0
        for chunk in chunks:  # the header is within the first bytes
            head.append(chunk[:NPY_HEAD - n])
            n += len(head[-1])
            if n >= NPY_HEAD:
                break
        check_npy(b"".join(head), archive[name].size, name, files[name])
    if record.get("sha256") != digest.hexdigest():
        raise ModelFileError("the members do not match the checksum recorded in skrnn.json: the "
                             "file was corrupted or modified after it was saved")
    members["schema.json"] = [json.dumps(_present_paths(schema)).encode()], None
    return record, members, refs


def _present_paths(node):
    """The checked schema with classes named by an older path
    (:data:`skrnn._home.MOVED_CLASSES`) named by their present one."""
    if isinstance(node, list):
        return [_present_paths(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _present_paths(v) for k, v in node.items()}
    moved = MOVED_CLASSES.get(f"{node.get('__module__')}.{node.get('__class__')}")
    if moved is not None:
        node["__module__"], node["__class__"] = moved.rsplit(".", 1)
    return node


@public_home("skrnn.persistence")
def load(path, *, key=None, max_bytes=MAX_BYTES):
    """Load an estimator saved with :func:`save`, without running code from it.

    Weights load onto the CPU.

    Parameters
    ----------
    path : str, path-like or binary file
        The model file written by :func:`save`.
    key : bytes, str or None, default=None
        When given (non-empty bytes or str; anything else is a ``TypeError``),
        the file must carry an HMAC-SHA256 signature made with it.
    max_bytes : int, default=MAX_BYTES
        Cap on the size of the file and of each of its inflated members.

    Returns
    -------
    estimator : estimator
        The saved estimator or pipeline.

    Raises
    ------
    ModelFileError
        (a ``ValueError``) For files that are not skrnn models, truncated,
        corrupted, tampered with, over a cap, badly signed, of another format
        version, or that set what the estimator does not have or what its
        parameters' constraints refuse.
    """
    import skops.io as sio

    _check_key(key)
    where = repr(os.fspath(path)) if not hasattr(path, "read") else "the model file"
    with contextlib.ExitStack() as stack:
        src = _source(stack, path, max_bytes, where)
        try:
            record, members, refs = _checked_members(src, max_bytes, key)
        except ModelFileError as exc:
            raise ModelFileError(f"Cannot load {where}: {exc}.") from None
    try:
        crcs = {name: zlib.crc32(chunks[0]) if crc is None else crc for name, (chunks, crc) in members.items()}
        document = CanonicalZip({name: chunks for name, (chunks, _) in members.items()}, crcs, refs)
        del members  # the document holds each member once, until skops takes it
        token = _LOADING.set(True)
        try:
            obj = sio.load(document, trusted=trusted_types())
        finally:
            _LOADING.reset(token)
        del document
        _check_loaded(obj)
    except ModelFileError as exc:
        raise ModelFileError(f"Cannot load {where}: {exc}.") from None
    except Exception as exc:  # anything a malformed document can trigger in skops, untrusted types too
        raise ModelFileError(f"Cannot load {where}: the model document is malformed or holds types skrnn "
                             f"does not load ({_short(exc)}).") from None
    saved = record.get("versions", {}).get("skrnn")
    from .._version import __version__

    if saved not in (None, __version__):
        warnings.warn(f"{where} was saved with skrnn {saved} and is loaded with skrnn {__version__}; "
                      "check its predictions before relying on them.", UserWarning, stacklevel=2)
    return obj
