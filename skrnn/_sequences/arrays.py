"""Low-level helpers for sequence arrays: token ids, lengths and
sample-aligned arguments (numpy only)."""

import numpy as np


# the largest token id: ids are stored as int64
_MAX_TOKEN_ID = np.iinfo(np.int64).max


def _huge_id_message(name, value):
    return (
        f"{name} holds the token id {value}, beyond the int64 range token ids are "
        f"stored in (largest {_MAX_TOKEN_ID}); token ids are labels, so renumber "
        "them (e.g. with np.unique(..., return_inverse=True))."
    )


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


def check_sample_aligned(arr, n_samples, name):
    """Validate a 1-D per-sample array such as ``sample_weight``."""
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples},), one value per sample; got {arr.shape}."
        )
    return arr


def check_sample_weight(sample_weight, n):
    """``sample_weight`` as float32 weights, one per sample (ones when None):
    finite, non-negative and not all zero."""
    if sample_weight is None:
        return np.ones(n, dtype=np.float32)
    sw = check_sample_aligned(sample_weight, n, "sample_weight").astype(np.float64)
    if not np.isfinite(sw).all() or (sw < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    if not sw.any():
        raise ValueError("sample_weight is zero for every sample; at least one must be positive.")
    return sw.astype(np.float32)
