"""Safe persistence: save fitted estimators in a format that loads without
running code.

A model file is a zip archive with two members:

``skrnn.json``
    A JSON document: the format name and version, the versions of skrnn,
    torch, scikit-learn and numpy that wrote it, the estimator's class and
    its parameters and fitted attributes (classes, vocabularies, loss curve,
    ...). Values JSON cannot hold directly are written as small tagged
    objects (``{"$tuple": [...]}``, ``{"$float": "nan"}``, ``{"$tensor":
    "t3"}``, ...).
``tensors.pt``
    Every tensor and numeric array (network weights, optimizer state,
    ``classes_`` of integers, ...) as one flat ``{key: Tensor}`` dictionary,
    written by :func:`torch.save` and read back with
    ``torch.load(..., weights_only=True, map_location='cpu')`` after its
    pickle stream has been checked opcode by opcode to reference nothing but
    tensor storages. Nothing else in the file is ever unpickled, so loading
    a file you did not write cannot run code; numpy arrays of strings or
    objects are JSON lists, never pickles.

Loading only instantiates classes from an allowlist: the skrnn estimators
(every subclass of :class:`PersistenceMixin` that has been imported), the
preprocessing transformers of skrnn and a few plain scikit-learn containers
and transformers (``Pipeline``, ``LabelEncoder``, the scalers). Networks are
rebuilt from the stored parameters by the estimator itself, then the weights
are copied in. A file that is truncated, corrupted, tampered with, written by
a newer format version, or that holds anything unexpected raises
:class:`ModelFileError` (a ``ValueError``) and runs no code.

Plain ``pickle`` / ``joblib`` keep working for files you trust.
"""

import collections
import hashlib
import importlib
import io
import json
import math
import os
import pickletools
import platform
import tempfile
import warnings
import zipfile

import numpy as np
import torch

__all__ = ["PersistenceMixin", "ModelFileError", "save", "load", "register_safe_class"]

FORMAT_NAME = "skrnn-model"
FORMAT_VERSION = 1

_MANIFEST = "skrnn.json"
_TENSORS = "tensors.pt"
_MAX_MANIFEST_BYTES = 256 * 2**20

# Classes ``load`` may instantiate, by "module.QualName". PersistenceMixin
# subclasses add themselves when they are defined; the names below are
# resolved on demand from a fixed module, never from the file.
_REGISTRY = {}
_KNOWN_CLASSES = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "sklearn.preprocessing._label.LabelEncoder": ("sklearn.preprocessing", "LabelEncoder"),
    "sklearn.preprocessing._label.LabelBinarizer": ("sklearn.preprocessing", "LabelBinarizer"),
    "sklearn.preprocessing._data.StandardScaler": ("sklearn.preprocessing", "StandardScaler"),
    "sklearn.preprocessing._data.MinMaxScaler": ("sklearn.preprocessing", "MinMaxScaler"),
    "sklearn.preprocessing._data.MaxAbsScaler": ("sklearn.preprocessing", "MaxAbsScaler"),
    "sklearn.preprocessing._data.RobustScaler": ("sklearn.preprocessing", "RobustScaler"),
    "skrnn.preprocessing.SequencePadder": ("skrnn.preprocessing", "SequencePadder"),
    "skrnn.preprocessing.SequenceScaler": ("skrnn.preprocessing", "SequenceScaler"),
    "skrnn.preprocessing.TimeSeriesWindower": ("skrnn.preprocessing", "TimeSeriesWindower"),
}

# What the pickle stream of tensors.pt may reference (checked before loading).
_ALLOWED_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("collections", "OrderedDict"),
    ("torch.storage", "UntypedStorage"),
}
_FORBIDDEN_OPCODES = {
    "STACK_GLOBAL", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD", "EXT1", "EXT2", "EXT4",
}


class ModelFileError(ValueError):
    """The file is not a valid skrnn model file, or this version cannot read it.

    Raised for files that are truncated, corrupted, tampered with, hold
    anything besides plain data and tensors, or were written by a newer
    format version. Nothing in such a file is executed.
    """


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def register_safe_class(cls):
    """Allow :func:`load` to rebuild instances of ``cls``.

    Use it for small plain-data helper classes (a vocabulary, say) stored as
    attributes of an estimator: instances are saved as their ``__dict__`` and
    restored with ``cls.__new__(cls)`` without calling ``__init__``, so the
    ``__dict__`` must hold only values this module can store. Returns ``cls``
    so it can be used as a class decorator.
    """
    _REGISTRY[_qualname(cls)] = cls
    return cls


def _resolve_class(name):
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _KNOWN_CLASSES:
        module, attr = _KNOWN_CLASSES[name]
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            cls = None
        if cls is not None and _qualname(cls) == name:
            return cls
    raise ModelFileError(
        f"The model file names the class {name!r}, which skrnn does not load from "
        "files (only skrnn estimators and a few plain scikit-learn classes are "
        "allowed). If it is a skrnn class, import the module that defines it first."
    )


def _allowed_type(obj):
    name = _qualname(type(obj))
    if name in _REGISTRY:
        return True
    if name in _KNOWN_CLASSES:
        try:
            return _resolve_class(name) is type(obj)
        except ModelFileError:
            return False
    return False


class PersistenceMixin:
    """Adds :meth:`save` and the hooks :func:`load` uses to rebuild networks.

    Every subclass is allowed by :func:`load`. Fitted ``torch.nn.Module``
    attributes (``module_``) are stored as their weights plus a small JSON
    ``spec``; on load the estimator rebuilds the empty network from that spec
    and its own parameters and attributes, and the weights are copied in.
    Estimators without ``_network_spec`` / ``_build_network()`` override
    :meth:`_saved_module_spec` and :meth:`_rebuild_saved_module`.
    """

    #: attribute names never written to a model file (scratch state)
    _persist_exclude = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register_safe_class(cls)

    def save(self, path):
        """Save the estimator to ``path`` in skrnn's safe model format.

        The file holds parameters, fitted attributes and weights (as CPU
        tensors), never pickled Python objects, so :func:`skrnn.load` can
        read it without running code. Use it for models you share or
        receive; plain ``pickle``/``joblib`` also work, for trusted files.

        Parameters
        ----------
        path : str, os.PathLike or writable binary file object
            Where to write. An existing file is replaced atomically.

        Returns
        -------
        self : object
            The estimator, unchanged.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> from skrnn import RNNRegressor, load
        >>> X = np.random.RandomState(0).normal(size=(20, 5, 2))
        >>> reg = RNNRegressor(hidden_size=4, max_iter=2, random_state=0).fit(X, X[:, -1, 0])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.skrnn")
        >>> _ = reg.save(path)
        >>> np.allclose(load(path).predict(X), reg.predict(X))
        True
        """
        save(self, path)
        return self

    def _saved_module_spec(self, name):
        """JSON-able description of the network in attribute ``name``: the
        ``_network_spec`` recorded by fit (RNNClassifier, RNNRegressor,
        Seq2SeqTransformer). Other estimators override this method and
        :meth:`_rebuild_saved_module`.
        """
        if name != "module_" or not hasattr(self, "_network_spec"):
            raise NotImplementedError(
                f"{type(self).__name__} must override _saved_module_spec and "
                f"_rebuild_saved_module to save its network {name!r}."
            )
        return dict(self._network_spec)

    def _rebuild_saved_module(self, name, spec):
        """Build the (untrained) network for attribute ``name`` from ``spec``.

        Called by :func:`load` after the parameters and every other attribute
        have been restored; the stored weights are then copied in.
        """
        self._network_spec = {key: int(value) for key, value in spec.items()}
        return self._build_network()


# --------------------------------------------------------------------- encoding
class _Encoder:
    """Turns Python/numpy/torch values into a JSON tree plus a tensor table."""

    def __init__(self):
        self.tensors = {}

    def tensor(self, t):
        t = t.detach().cpu()
        if t.untyped_storage().nbytes() != t.nbytes or not t.is_contiguous():
            t = t.contiguous().clone()  # do not write a larger shared storage
        key = f"t{len(self.tensors)}"
        self.tensors[key] = t
        return {"$tensor": key}

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple) and type(value) is tuple:
            return {"$tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if type(value) in (dict, collections.OrderedDict):
            return {
                "$dict": [
                    [self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                    for k, v in value.items()
                ]
            }
        if isinstance(value, np.generic):
            return self._scalar(value, where)
        if isinstance(value, np.ndarray):
            return self._array(value, where)
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        if isinstance(value, torch.device):
            return {"$device": str(value)}
        if isinstance(value, torch.dtype):
            return {"$torch_dtype": str(value).replace("torch.", "")}
        if isinstance(value, np.dtype):
            if value.kind == "V":
                raise self._unsupported(value, where)
            return {"$dtype": value.str if value.kind != "O" else "O"}
        if isinstance(value, type):
            return self._type(value, where)
        if isinstance(value, np.random.RandomState):
            kind, keys, pos, has_gauss, cached = value.get_state()
            return {"$random_state": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]}
        if isinstance(value, torch.nn.Module):
            raise TypeError(
                f"{where} is a torch.nn.Module that is not a fitted attribute of a "
                "skrnn estimator; skrnn's safe format only stores the estimators' own networks."
            )
        if _allowed_type(value):
            return self.obj(value, where)
        raise self._unsupported(value, where)

    @staticmethod
    def _unsupported(value, where):
        return TypeError(
            f"{where} holds a {type(value).__module__}.{type(value).__qualname__}, which "
            "skrnn's safe model format cannot store (it keeps only plain data, arrays, "
            "tensors, skrnn estimators and a few scikit-learn transformers). Use pickle "
            "or joblib for this object, or save its skrnn steps one by one."
        )

    def _type(self, cls, where):
        if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer):
            if getattr(torch.optim, cls.__name__, None) is cls:
                return {"$optimizer": cls.__name__}
            raise TypeError(
                f"{where} is the custom optimizer class {_qualname(cls)}, which a safe "
                "model file cannot store (loading it would mean importing code named by "
                "the file). Set a built-in optimizer first, e.g. "
                "est.set_params(optimizer='adam'), or use pickle/joblib."
            )
        if issubclass(cls, np.generic):
            return {"$numpy_type": np.dtype(cls).str}
        raise self._unsupported(cls, where)

    def _scalar(self, value, where):
        if value.dtype.kind not in "biufcUS":
            raise self._unsupported(value, where)
        py = value.item()
        if isinstance(py, complex):
            py = {"$tuple": [self.encode(py.real, where), self.encode(py.imag, where)]}
        elif isinstance(py, bytes):
            py = py.decode("latin-1")
        else:
            py = self.encode(py, where)
        return {"$scalar": value.dtype.str, "value": py}

    def _array(self, a, where):
        kind = a.dtype.kind
        if kind in "biufc":
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("="))
            try:
                t = torch.from_numpy(np.ascontiguousarray(a))
            except TypeError as exc:
                raise self._unsupported(a, where) from exc
            return {"$array": self.tensor(t)["$tensor"], "dtype": a.dtype.str}
        if kind in "mM":
            t = torch.from_numpy(np.ascontiguousarray(a.view(np.int64)))
            return {"$array": self.tensor(t)["$tensor"], "dtype": a.dtype.str}
        if kind == "U":
            return {"$str_array": a.ravel().tolist(), "dtype": a.dtype.str, "shape": list(a.shape)}
        if kind == "O":
            flat = [self.encode(v, f"{where} element") for v in a.ravel().tolist()]
            return {"$object_array": flat, "shape": list(a.shape)}
        raise self._unsupported(a, where)

    def obj(self, est, where):
        """An allowed object: its class name, parameters and other attributes.

        Networks (``torch.nn.Module`` attributes of skrnn estimators) are
        stored as a spec plus their state dict.
        """
        param_names = set(est.get_params(deep=False)) if hasattr(est, "get_params") else set()
        params, attributes = {}, {}
        for name, value in vars(est).items():
            if name in getattr(est, "_persist_exclude", ()):
                continue
            at = f"{type(est).__name__}.{name}"
            if isinstance(value, torch.nn.Module) and isinstance(est, PersistenceMixin):
                spec = est._saved_module_spec(name)
                enc = {
                    "$module": {
                        "spec": self.encode(spec, f"{at} spec"),
                        "training": bool(value.training),
                        "state": self.encode(dict(value.state_dict()), at),
                    }
                }
            else:
                enc = self.encode(value, at)
            (params if name in param_names else attributes)[name] = enc
        return {"$object": _qualname(type(est)), "params": params, "attributes": attributes}


# --------------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, tensors):
        self.tensors = tensors
        self.depth = 0

    def tensor(self, key):
        if not isinstance(key, str) or key not in self.tensors:
            raise ModelFileError(f"the document refers to a missing tensor {key!r}")
        return self.tensors[key]

    def decode(self, node):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or not node:
            raise ModelFileError(f"unexpected value of type {type(node).__name__}")
        tag = next(iter(node))
        if tag not in _TAG_KEYS:
            raise ModelFileError(f"unknown tag {tag!r}")
        if set(node) != _TAG_KEYS[tag]:
            raise ModelFileError(
                f"unexpected keys {sorted(set(node) ^ _TAG_KEYS[tag])} in a {tag} value"
            )
        return getattr(self, "_" + tag[1:])(node)

    def _tuple(self, node):
        return tuple(self.decode(v) for v in node["$tuple"])

    def _dict(self, node):
        out = {}
        for k, v in node["$dict"]:
            out[_hashable(self.decode(k))] = self.decode(v)
        return out

    def _float(self, node):
        if node["$float"] not in ("nan", "inf", "-inf"):
            raise ModelFileError(f"invalid float {node['$float']!r}")
        return float(node["$float"])

    def _tensor(self, node):
        return self.tensor(node["$tensor"])

    def _scalar(self, node):
        dtype = _numpy_dtype(node["$scalar"])
        value = node["value"]
        if isinstance(value, dict) and "$tuple" in value:
            re, im = self._tuple(value)
            value = complex(re, im)
        elif isinstance(value, dict):
            value = self.decode(value)
        return np.array(value, dtype=dtype)[()]

    def _array(self, node):
        dtype = _numpy_dtype(node["dtype"])
        t = self.tensor(node["$array"])
        a = t.numpy()
        if dtype.kind in "mM":
            return a.view(dtype).copy()
        return a.astype(dtype, copy=True)

    def _str_array(self, node):
        dtype = _numpy_dtype(node["dtype"])
        if dtype.kind != "U":
            raise ModelFileError(f"invalid string array dtype {node['dtype']!r}")
        return np.array(node["$str_array"], dtype=dtype).reshape(node["shape"])

    def _object_array(self, node):
        flat = [self.decode(v) for v in node["$object_array"]]
        a = np.empty(len(flat), dtype=object)
        a[:] = flat
        return a.reshape(node["shape"])

    def _device(self, node):
        return torch.device(node["$device"])

    def _torch_dtype(self, node):
        dtype = getattr(torch, str(node["$torch_dtype"]), None)
        if not isinstance(dtype, torch.dtype):
            raise ModelFileError(f"invalid torch dtype {node['$torch_dtype']!r}")
        return dtype

    def _dtype(self, node):
        return _numpy_dtype(node["$dtype"])

    def _numpy_type(self, node):
        return _numpy_dtype(node["$numpy_type"]).type

    def _optimizer(self, node):
        cls = getattr(torch.optim, str(node["$optimizer"]), None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise ModelFileError(f"unknown optimizer {node['$optimizer']!r}")
        return cls

    def _random_state(self, node):
        kind, keys, pos, has_gauss, cached = node["$random_state"]
        rs = np.random.RandomState()
        rs.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        return rs

    def _module(self, node):
        raise ModelFileError("a network appears outside an estimator's attributes")

    def _object(self, node):
        cls = _resolve_class(node["$object"])
        obj = cls.__new__(cls)
        modules = []
        params, attributes = node["params"], node["attributes"]
        if not isinstance(params, dict) or not isinstance(attributes, dict):
            raise ModelFileError("an object's params and attributes must be JSON objects")
        for name, value in [*params.items(), *attributes.items()]:
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("__"):
                raise ModelFileError(f"invalid attribute name {name!r}")
            if isinstance(value, dict) and "$module" in value:
                if not isinstance(obj, PersistenceMixin):
                    raise ModelFileError(f"{cls.__name__} cannot hold a stored network")
                modules.append((name, value["$module"]))
                continue
            obj.__dict__[name] = self.decode(value)
        if hasattr(obj, "_validate_params") and hasattr(obj, "_parameter_constraints"):
            obj._validate_params()
        for name, stored in modules:
            obj.__dict__[name] = self._network(obj, name, stored)
        return obj

    def _network(self, est, name, stored):
        spec = self.decode(stored["spec"])
        state = self.decode(stored["state"])
        if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
        ):
            raise ModelFileError(f"the weights of {name!r} are not a mapping of tensors")
        with torch.random.fork_rng(devices=[]):
            module = est._rebuild_saved_module(name, spec)
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelFileError(
                f"the stored weights of {type(est).__name__}.{name} do not fit the network "
                f"described by its parameters: {exc}"
            ) from None
        module.train(bool(stored.get("training", False)))
        return module


# the keys each tagged JSON value has, exactly
_TAG_KEYS = {
    tag: {tag, *extra}
    for tag, extra in {
        "$tuple": (), "$dict": (), "$float": (), "$tensor": (), "$scalar": ("value",),
        "$array": ("dtype",), "$str_array": ("dtype", "shape"), "$object_array": ("shape",),
        "$device": (), "$torch_dtype": (), "$dtype": (), "$numpy_type": (), "$optimizer": (),
        "$random_state": (), "$module": (), "$object": ("params", "attributes"),
    }.items()
}


def _hashable(key):
    if isinstance(key, list):
        raise ModelFileError("a dictionary key is a list")
    return key


def _numpy_dtype(spec):
    if not isinstance(spec, str) or len(spec) > 16:
        raise ModelFileError(f"invalid dtype {spec!r}")
    try:
        dtype = np.dtype(spec)
    except TypeError:
        raise ModelFileError(f"invalid dtype {spec!r}") from None
    if dtype.kind == "V" or dtype.fields is not None:
        raise ModelFileError(f"invalid dtype {spec!r}")
    return dtype


# ------------------------------------------------------------------ save / load
def _versions():
    import sklearn

    from . import __version__

    return {
        "skrnn": __version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def save(obj, path):
    """Save a skrnn estimator, or a pipeline of supported steps, safely.

    Parameters
    ----------
    obj : estimator
        A skrnn estimator (fitted or not), or a scikit-learn ``Pipeline``
        whose steps are skrnn estimators/transformers or plain scikit-learn
        scalers/encoders. Anything the format cannot store (a custom
        optimizer class, a ``FunctionTransformer``'s function, ...) raises a
        ``TypeError`` naming it; save such steps with pickle/joblib instead.
    path : str, os.PathLike or writable binary file object
        Destination. Files are written to a temporary name first and moved
        into place, so a crash never leaves a half-written model.

    See Also
    --------
    load : Read the file back; never executes code from it.
    """
    if not _allowed_type(obj):
        raise TypeError(
            f"skrnn.persistence.save stores skrnn estimators and pipelines of supported "
            f"steps; got {type(obj).__module__}.{type(obj).__qualname__}."
        )
    enc = _Encoder()
    root = enc.obj(obj, type(obj).__name__)
    buf = io.BytesIO()
    torch.save(enc.tensors, buf)
    blob = buf.getvalue()
    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "estimator": _qualname(type(obj)),
        "tensors_sha256": hashlib.sha256(blob).hexdigest(),
        "object": root,
    }
    manifest = json.dumps(doc, allow_nan=False, indent=1).encode("utf-8")

    def write(fileobj):
        with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(_MANIFEST, manifest)
            zf.writestr(_TENSORS, blob)

    if hasattr(path, "write"):
        write(path)
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".skrnn-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_tensor_pickle(blob):
    """Refuse a tensors.pt whose pickle stream references anything but tensor
    storages. Pure parsing (``pickletools.genops``): nothing is executed."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            pickles = [n for n in zf.namelist() if n.endswith(".pkl")]
            if len(pickles) != 1 or not pickles[0].endswith("/data.pkl"):
                raise ModelFileError(f"unexpected members in {_TENSORS}: {pickles}")
            stream = zf.read(pickles[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise ModelFileError(f"{_TENSORS} is not a valid tensor archive ({exc})") from None
    try:
        for op, arg, _ in pickletools.genops(stream):
            if op.name in _FORBIDDEN_OPCODES:
                raise ModelFileError(f"{_TENSORS} contains the pickle opcode {op.name}")
            if op.name == "GLOBAL":
                module, _, name = str(arg).partition(" ")
                if (module, name) in _ALLOWED_GLOBALS:
                    continue
                attr = getattr(torch, name, None) if module == "torch" else None
                if isinstance(attr, torch.dtype) or (
                    isinstance(attr, type) and name.endswith("Storage")
                ):
                    continue
                raise ModelFileError(
                    f"{_TENSORS} references {module}.{name}, which is not tensor data"
                )
    except ValueError as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{_TENSORS} holds a malformed pickle stream ({exc})") from None


def _read_archive(file):
    try:
        zf = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        raise ModelFileError(
            "not a skrnn model file (it is not a zip archive, or it is truncated)"
        ) from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if sorted(names) != sorted([_MANIFEST, _TENSORS]):
            raise ModelFileError(
                f"unexpected archive members {names}; a skrnn model file holds exactly "
                f"{_MANIFEST!r} and {_TENSORS!r}"
            )
        info = zf.getinfo(_MANIFEST)
        if info.file_size > _MAX_MANIFEST_BYTES:
            raise ModelFileError(f"{_MANIFEST} is implausibly large ({info.file_size} bytes)")
        try:
            manifest = zf.read(_MANIFEST)
            blob = zf.read(_TENSORS)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise ModelFileError(f"the archive is corrupted or truncated ({exc})") from None
    return manifest, blob


def _reject_constant(name):
    raise ModelFileError(f"{_MANIFEST} contains the non-standard JSON value {name}")


def _parse_manifest(manifest):
    try:
        doc = json.loads(manifest.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{_MANIFEST} is not valid JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{_MANIFEST} does not describe a skrnn model")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        saved = doc.get("versions", {}).get("skrnn", "a newer version")
        raise ModelFileError(
            f"the file uses model format version {version}, written by skrnn {saved}; "
            f"this skrnn reads format version {FORMAT_VERSION} and older. Upgrade skrnn "
            "to load it."
        )
    return doc


def _load_tensors(blob, expected_sha):
    if hashlib.sha256(blob).hexdigest() != expected_sha:
        raise ModelFileError(
            f"{_TENSORS} does not match the checksum recorded in {_MANIFEST}: the file "
            "was corrupted or modified after it was saved"
        )
    _check_tensor_pickle(blob)
    try:
        tensors = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here means a bad file
        raise ModelFileError(
            f"{_TENSORS} could not be read as plain tensors ({type(exc).__name__}: "
            f"{str(exc)[:300]})"
        ) from None
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and type(v) is torch.Tensor for k, v in tensors.items()
    ):
        raise ModelFileError(f"{_TENSORS} is not a flat mapping of names to tensors")
    return tensors


def load(path):
    """Load an estimator saved with ``save``, without running code from the file.

    Only the JSON document and plain tensors are read; classes come from
    skrnn's allowlist. Weights are mapped to the CPU, so a model saved on a
    GPU machine loads anywhere (move it with ``set_params(device=...)``;
    prediction falls back to the CPU with a warning when CUDA is missing).

    Parameters
    ----------
    path : str, os.PathLike or readable binary file object
        A file written by ``estimator.save`` or :func:`skrnn.persistence.save`.

    Returns
    -------
    estimator : object
        The estimator (or pipeline) as it was saved.

    Raises
    ------
    ModelFileError
        A ``ValueError`` for files that are not skrnn models, are truncated,
        corrupted or tampered with, or use a newer format version.
    """
    source = path if hasattr(path, "read") else os.fspath(path)
    try:
        manifest, blob = _read_archive(source)
        doc = _parse_manifest(manifest)
        tensors = _load_tensors(blob, doc.get("tensors_sha256"))
        root = doc.get("object")
        if not isinstance(root, dict) or "$object" not in root:
            raise ModelFileError(f"{_MANIFEST} holds no estimator")
        saved_versions = doc.get("versions") if isinstance(doc.get("versions"), dict) else {}
        obj = _Decoder(tensors).decode(root)
    except ModelFileError as exc:
        raise ModelFileError(f"Cannot load {_describe(path)}: {exc}.") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        # anything else a malformed document can trigger while decoding
        raise ModelFileError(
            f"Cannot load {_describe(path)}: the model document is malformed "
            f"({type(exc).__name__}: {str(exc)[:300]})."
        ) from None
    _warn_versions(saved_versions, path)
    return obj


def _describe(path):
    return repr(os.fspath(path)) if not hasattr(path, "read") else "the model file"


def _warn_versions(saved, path):
    from . import __version__

    if saved.get("skrnn") not in (None, __version__):
        warnings.warn(
            f"{_describe(path)} was saved with skrnn {saved.get('skrnn')} and is loaded "
            f"with skrnn {__version__}; check its predictions before relying on them.",
            UserWarning,
            stacklevel=3,
        )
