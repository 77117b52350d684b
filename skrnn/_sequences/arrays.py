"""Low-level helpers for sequence arrays: numeric conversion, ragged
containers and row bookkeeping (numpy/pandas only)."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .layout import channels_first_hint


# the largest token id: ids are stored as int64
_MAX_TOKEN_ID = np.iinfo(np.int64).max


def _huge_id_message(name, value):
    return (
        f"{name} holds the token id {value}, beyond the int64 range token ids are "
        f"stored in (largest {_MAX_TOKEN_ID}); token ids are labels, so renumber "
        "them (e.g. with np.unique(..., return_inverse=True))."
    )


def _ragged_positions(starts, lengths):
    """Flat row indices of the steps ``starts[i] .. starts[i] + lengths[i]``."""
    total = int(lengths.sum())
    sample_of_row = np.repeat(np.arange(len(lengths)), lengths)
    first_row = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=first_row[1:])
    return starts[sample_of_row] + np.arange(total) - first_row[sample_of_row]


def _is_ragged_container(X):
    """True for a list / 1-D object array / Series of per-sample arrays.

    A rectangular nested list of scalars is read as an array, like sklearn
    does; a list that holds arrays is always a list of sequences.
    """
    if isinstance(X, pd.Series):
        return True
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if isinstance(X, (list, tuple)):
        if any(isinstance(x, (np.ndarray, pd.DataFrame, pd.Series)) for x in X):
            return True
        try:
            arr = np.asarray(X)
        except ValueError:
            return True
        return arr.dtype == object
    return False


def _as_numeric(X, name, token_ids):
    """Convert to a float array (or int64 for token ids) with a clear error."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy()
    if token_ids:
        arr = np.asarray(X)
        if arr.dtype.kind == "u" and arr.size and arr.max() > _MAX_TOKEN_ID:
            raise ValueError(_huge_id_message(name, arr.max()))
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64, copy=False)
        if arr.dtype.kind == "b" or arr.dtype.kind not in "fO":
            raise TypeError(
                f"{name} must contain integer token ids because embedding_dim is "
                f"set; got dtype {arr.dtype}."
            )
        # float input is accepted when every real value is integral (NaN
        # padding makes padded token arrays float); checked after masking.
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(
                f"{name} must contain integer token ids because embedding_dim is "
                "set, but it holds values that are not numbers (e.g. strings); "
                "map symbols to integer ids first."
            ) from None
    kind = X.dtype.kind if isinstance(X, np.ndarray) else None
    if kind in ("c", "U", "S", "M", "m"):  # float64 would drop imaginary parts, parse text, count days
        raise TypeError(
            f"{name} must hold real numbers; got an array of dtype {X.dtype}. Convert "
            "it to a float array first."
        )
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"{name} must be numeric (argument must be a string or a real number); {exc}"
        ) from exc


def _to_int_ids(values, name):
    if values.dtype.kind in "iu":
        ids = values.astype(np.int64, copy=False)
    else:
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise TypeError(
                f"{name} must contain integer token ids because embedding_dim is "
                "set, but it holds non-integer values; pass integer arrays or "
                "unset embedding_dim for real-valued input."
            )
        if values.size and np.abs(values).max() >= 2.0**63:  # int64 holds less
            raise ValueError(_huge_id_message(name, np.abs(values).max()))
        ids = values.astype(np.int64)
    if ids.size and ids.min() < 0:
        raise ValueError(f"{name} holds negative token ids ({ids.min()}); ids must be >= 0.")
    return ids


def _check_sequence_lengths(sequence_lengths, n, T, name):
    lengths = np.asarray(sequence_lengths)
    if lengths.ndim != 1 or lengths.shape[0] != n:
        raise ValueError(
            f"sequence_lengths must be 1-D with one entry per sample ({n}); "
            f"got shape {lengths.shape}."
        )
    if lengths.dtype.kind not in "iu" and not (
        lengths.dtype.kind == "f" and np.all(lengths == np.round(lengths))
    ):
        raise TypeError(f"sequence_lengths must hold integers; got dtype {lengths.dtype}.")
    lengths = lengths.astype(np.int64)
    if lengths.size and (lengths.min() < 1 or lengths.max() > T):
        bad = int(np.flatnonzero((lengths < 1) | (lengths > T))[0])
        raise ValueError(
            f"sequence_lengths[{bad}] = {lengths[bad]} is outside [1, {T}] "
            f"(the padded length of {name})."
        )
    return lengths


def _ragged_arrays(X, name, token_ids):
    """Per-sample 2-D numeric arrays (no copy of float arrays), shapes checked."""
    arrays = []
    n_features = None
    for i, x in enumerate(X):
        if sp.issparse(x):
            raise TypeError(f"{name}[{i}] is a sparse matrix; sequences must be dense arrays.")
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and not token_ids:
            a = x  # concatenated (copied) below
        else:
            a = _as_numeric(x, f"{name}[{i}]", token_ids)
        if a.ndim == 1:
            a = a[:, None]
        elif a.ndim != 2:
            raise ValueError(
                f"{name}[{i}] has shape {a.shape}; each sequence must be (T_i,) or "
                "(T_i, n_features)."
            )
        if n_features is None:
            n_features = a.shape[1]
            if n_features == 0:
                raise ValueError(f"{name}[{i}] has 0 features; at least one is required.")
        elif a.shape[1] != n_features:
            hint = channels_first_hint(arrays[0].shape, a.shape, name)
            raise ValueError(
                f"{name}[{i}] has {a.shape[1]} features, {name}[0] has {n_features}; "
                f"all sequences need the same number of features.{hint}"
            )
        if a.shape[0] == 0:
            raise ValueError(
                f"{name}[{i}] is an empty sequence; every sequence needs at least "
                "one time step."
            )
        arrays.append(a)
    return arrays


def check_sample_aligned(arr, n_samples, name):
    """Validate a 1-D per-sample array such as ``sample_weight``."""
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples},), one value per sample; got {arr.shape}."
        )
    return arr
