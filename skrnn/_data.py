"""Sequence input validation and the ragged <-> padded conversions.

Every estimator reads ``X`` through :func:`to_sequences`, which turns any of the
accepted forms (3-D array, 2-D univariate array, ragged list / object array /
pandas Series of per-sample arrays, padded arrays with a mask value or with
``sequence_lengths``) into one canonical, compact representation:
:class:`Sequences`, the real time steps of all samples concatenated along the
first axis plus the offsets where each sample starts. Padding never reaches the
network: it is stripped here, once.
"""

from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Sequences", "to_sequences", "align_step_targets", "pad_values"]


@dataclass(frozen=True)
class Sequences:
    """Variable-length sequences stored without padding.

    Attributes
    ----------
    values : ndarray of shape (total_steps, n_features)
        The real time steps of every sample, sample after sample.
    offsets : ndarray of shape (n_samples + 1,), dtype int64
        ``values[offsets[i]:offsets[i + 1]]`` is sample ``i``.
    form : {'2d', '3d', 'ragged'}
        The form the user gave, so outputs can be returned in the same form.
    starts : ndarray of shape (n_samples,) or None
        For padded array input, the index of each sample's first real step in
        the padded time axis (``None`` for ragged input).
    n_timesteps : int or None
        Padded length of array input (``None`` for ragged input).
    """

    values: np.ndarray
    offsets: np.ndarray
    form: str = "ragged"
    starts: np.ndarray = None
    n_timesteps: int = None

    @property
    def n_samples(self):
        return len(self.offsets) - 1

    @property
    def n_features(self):
        return self.values.shape[1]

    @property
    def lengths(self):
        return np.diff(self.offsets)

    @property
    def is_uniform(self):
        """True when every sample has the same number of steps."""
        lengths = self.lengths
        return bool(lengths.size) and bool(np.all(lengths == lengths[0]))

    def __len__(self):
        return self.n_samples

    def subset(self, indices):
        """Return the samples at ``indices`` (a new, compact object)."""
        indices = np.asarray(indices, dtype=np.int64)
        lengths = self.lengths[indices]
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if self.is_uniform:
            T = int(self.lengths[0]) if self.n_samples else 0
            values = self.values.reshape(self.n_samples, T, -1)[indices]
            values = values.reshape(-1, self.n_features)
        else:
            rows = _ragged_positions(self.offsets[:-1][indices], lengths)
            values = self.values[rows]
        starts = None if self.starts is None else self.starts[indices]
        return Sequences(values, offsets, self.form, starts, self.n_timesteps)

    def to_list(self):
        """Per-sample arrays of shape (T_i, n_features)."""
        return np.split(self.values, self.offsets[1:-1])


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
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64, copy=False)
        if arr.dtype.kind == "b" or arr.dtype.kind not in "fO":
            raise TypeError(
                f"{name} must contain integer token ids because embedding_dim is "
                f"set; got dtype {arr.dtype}."
            )
        # float input is accepted when every real value is integral (NaN
        # padding makes padded token arrays float); checked after masking.
        return arr.astype(np.float64)
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
        ids = values.astype(np.int64)
    if ids.size and ids.min() < 0:
        raise ValueError(f"{name} holds negative token ids ({ids.min()}); ids must be >= 0.")
    return ids


def _padding_steps(X, mask_value):
    """Boolean array over steps (all axes but the last): True where every
    feature of a step is padding."""
    if mask_value is None:
        return np.zeros(X.shape[:-1], dtype=bool)
    if isinstance(mask_value, Real) and np.isnan(mask_value):
        if X.dtype.kind in "iu":
            return np.zeros(X.shape[:-1], dtype=bool)
        return np.isnan(X).all(axis=-1)
    return (X == mask_value).all(axis=-1)


def _strip_padding(X, mask_value, name):
    """Find the real block of each padded sample: leading and trailing runs of
    padding steps are removed. Returns (starts, lengths)."""
    n, T = X.shape[:2]
    pad = _padding_steps(X, mask_value)
    if not pad.any():
        return np.zeros(n, dtype=np.int64), np.full(n, T, dtype=np.int64)
    real = ~pad
    empty = ~real.any(axis=1)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ValueError(
            f"{name}[{i}] has no real time steps: every step equals the mask "
            f"value {mask_value!r}. Remove empty sequences or change mask_value."
        )
    starts = real.argmax(axis=1).astype(np.int64)
    ends = T - real[:, ::-1].argmax(axis=1)
    return starts, (ends - starts).astype(np.int64)


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


def _from_array(X, mask_value, sequence_lengths, name, token_ids):
    X = _as_numeric(X, name, token_ids)
    if X.ndim == 2:
        form = "2d"
        X = X[:, :, None]
    elif X.ndim == 3:
        form = "3d"
    else:
        hint = (
            " A 1-D array is not a set of sequences. Reshape your data to (n_samples, "
            "n_timesteps) or (n_samples, n_timesteps, n_features), or pass a list "
            "of per-sample arrays."
            if X.ndim <= 1
            else ""
        )
        raise ValueError(
            f"Expected {name} as a 3-D array (n_samples, n_timesteps, n_features), "
            f"a 2-D array (n_samples, n_timesteps) or a list of arrays; got an "
            f"array with {X.ndim} dimension(s) and shape {X.shape}.{hint}"
        )
    n, T, F = X.shape
    if n == 0 or T == 0 or F == 0:
        raise ValueError(
            f"{name} is empty: shape {X.shape}; at least one sample with one time "
            "step and one feature is required."
        )
    if sequence_lengths is not None:
        lengths = _check_sequence_lengths(sequence_lengths, n, T, name)
        starts = np.zeros(n, dtype=np.int64)
    else:
        starts, lengths = _strip_padding(X, mask_value, name)
    if np.all(lengths == T):
        values = X.reshape(n * T, F)
    else:
        t = np.arange(T)
        real = (t >= starts[:, None]) & (t < (starts + lengths)[:, None])
        values = X[real]
    if token_ids:
        values = _to_int_ids(values, name)
    else:
        _check_real_steps(values, lengths, name)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Sequences(values, offsets, form, starts, T)


def _check_real_steps(values, lengths, name):
    if np.isfinite(values).all():
        return
    row = int(np.argwhere(~np.isfinite(values).all(axis=1))[0, 0])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    i = int(np.searchsorted(offsets, row, side="right") - 1)
    step = row - offsets[i]
    feature = int(np.flatnonzero(~np.isfinite(values[row]))[0])
    kind = "NaN" if np.isnan(values[row, feature]) else "infinity"
    raise ValueError(
        f"{name}[{i}] contains {kind} at real time step {step} (feature "
        f"{feature}). NaN is only allowed as whole padding steps at the start or "
        "end of a sequence (mask_value=np.nan); impute or drop missing values first."
    )


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
            raise ValueError(
                f"{name}[{i}] has {a.shape[1]} features, {name}[0] has {n_features}; "
                "all sequences need the same number of features."
            )
        if a.shape[0] == 0:
            raise ValueError(
                f"{name}[{i}] is an empty sequence; every sequence needs at least "
                "one time step."
            )
        arrays.append(a)
    return arrays


def _strip_ragged_padding(values, offsets, mask_value, name):
    """Remove leading and trailing padding steps of every concatenated
    sequence at once. Returns (values, offsets)."""
    pad = _padding_steps(values, mask_value)
    if not pad.any():
        return values, offsets
    rows = np.arange(len(values))
    first_real = np.minimum.reduceat(np.where(pad, len(values), rows), offsets[:-1])
    last_real = np.maximum.reduceat(np.where(pad, -1, rows), offsets[:-1])
    empty = first_real >= offsets[1:]
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ValueError(
            f"{name}[{i}] has no real time steps: every step equals the mask "
            f"value {mask_value!r}. Remove empty sequences or change mask_value."
        )
    lengths = last_real - first_real + 1
    new_offsets = np.zeros_like(offsets)
    np.cumsum(lengths, out=new_offsets[1:])
    return values[_ragged_positions(first_real, lengths)], new_offsets


def _from_ragged(X, mask_value, sequence_lengths, name, token_ids):
    if isinstance(X, pd.Series):
        X = X.tolist()
    if sequence_lengths is not None:
        raise ValueError(
            "sequence_lengths is for padded array input; ragged input already "
            "carries each sequence's length."
        )
    if len(X) == 0:
        raise ValueError(f"{name} is an empty list; at least one sequence is required.")
    arrays = _ragged_arrays(X, name, token_ids)
    lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(arrays, axis=0)
    values, offsets = _strip_ragged_padding(values, offsets, mask_value, name)
    if token_ids:
        values = _to_int_ids(values, name)
    else:
        _check_real_steps(values, np.diff(offsets), name)
    return Sequences(values, offsets, "ragged")


def to_sequences(
    X, *, mask_value=np.nan, sequence_lengths=None, token_ids=False, name="X",
    dtype=np.float32,
):
    """Validate sequence input and strip its padding.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_timesteps), or list of arrays
        Fixed-length, padded, or ragged sequences.
    mask_value : float or None, default=np.nan
        A step whose features all equal ``mask_value`` (all NaN for ``np.nan``)
        at the start or end of a sequence is padding. ``None`` disables masking.
    sequence_lengths : array-like of shape (n_samples,) or None
        Real lengths of post-padded array input; overrides ``mask_value``.
    token_ids : bool, default=False
        Read the values as integer token ids (int64) instead of floats.
    name : str, default='X'
        Name used in error messages.
    dtype : numpy dtype, default=np.float32
        Dtype of real-valued values (the preprocessing transformers keep
        float64).

    Returns
    -------
    Sequences
        Values are ``dtype`` (float32 by default), or int64 for token ids.
        The caller's data is never modified (a copy is made whenever values
        change).
    """
    if sp.issparse(X):
        raise TypeError(
            f"Sparse input is not supported for {name}: sequences must be dense "
            "(convert with X.toarray())."
        )
    if X is None:
        raise ValueError(f"{name} is None; expected sequences.")
    if _is_ragged_container(X):
        seqs = _from_ragged(X, mask_value, sequence_lengths, name, token_ids)
    else:
        seqs = _from_array(X, mask_value, sequence_lengths, name, token_ids)
    if not token_ids:
        limit = np.finfo(dtype).max  # values are finite here; the cast must not overflow
        if seqs.values.dtype.itemsize > np.dtype(dtype).itemsize and np.abs(seqs.values).max() > limit:
            raise ValueError(
                f"{name} holds values beyond the range of {np.dtype(dtype)} (|x| > "
                f"{limit:.3g}), the precision the network computes in; rescale the "
                "input (e.g. with SequenceScaler)."
            )
        values = np.ascontiguousarray(seqs.values, dtype=dtype)
        seqs = Sequences(values, seqs.offsets, seqs.form, seqs.starts, seqs.n_timesteps)
    return seqs


def align_step_targets(y, X_seqs, name="y"):
    """Per-time-step targets aligned with the real steps of ``X_seqs``.

    ``y`` has the same layout as ``X``: a list of (T_i,) or (T_i, n_outputs)
    arrays for ragged ``X``; an array (n_samples, n_timesteps[, n_outputs])
    for array ``X`` (values at padding steps are ignored). Returns a float32
    array (total_steps, n_outputs) and whether ``y`` was 1-D per step.
    """
    lengths = X_seqs.lengths
    if _is_ragged_container(y):
        ys = to_sequences(y, mask_value=None, name=name)
        if ys.n_samples != X_seqs.n_samples:
            raise ValueError(
                f"{name} has {ys.n_samples} sequences but X has {X_seqs.n_samples}."
            )
        if not np.array_equal(ys.lengths, lengths):
            i = int(np.flatnonzero(ys.lengths != lengths)[0])
            raise ValueError(
                f"{name}[{i}] has {ys.lengths[i]} steps but X[{i}] has {lengths[i]} "
                "real steps; per-step targets need one value per real step."
            )
        first = y.iloc[0] if isinstance(y, pd.Series) else y[0]
        return ys.values, np.ndim(first) == 1
    Y = _as_numeric(y, name, token_ids=False)
    if X_seqs.starts is None:
        raise ValueError(
            f"X is a list of sequences, so {name} must be a list of per-step "
            "target arrays of the same lengths."
        )
    one_d = Y.ndim == 2
    if one_d:
        Y = Y[:, :, None]
    if Y.ndim != 3 or Y.shape[:2] != (X_seqs.n_samples, X_seqs.n_timesteps):
        raise ValueError(
            f"With return_sequences=True, {name} must have shape (n_samples, "
            f"n_timesteps[, n_outputs]) = ({X_seqs.n_samples}, {X_seqs.n_timesteps}"
            f"[, n_outputs]) like X; got {np.shape(y)}."
        )
    t = np.arange(Y.shape[1])
    real = (t >= X_seqs.starts[:, None]) & (t < (X_seqs.starts + lengths)[:, None])
    values = Y[real]
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinity at real time steps of X.")
    return np.ascontiguousarray(values, dtype=np.float32), one_d


def pad_values(values, seqs, fill=np.nan):
    """Put per-step outputs back in the layout of the input ``seqs``.

    ``values`` is (total_steps, k). Ragged input gives a list of (T_i, k)
    arrays; array input gives (n_samples, n_timesteps, k) with ``fill`` at the
    padding steps.
    """
    if seqs.form == "ragged":
        return np.split(values, seqs.offsets[1:-1])
    n, T = seqs.n_samples, seqs.n_timesteps
    out = np.full((n, T, values.shape[1]), fill, dtype=values.dtype)
    lengths = seqs.lengths
    t = np.arange(T)
    real = (t >= seqs.starts[:, None]) & (t < (seqs.starts + lengths)[:, None])
    out[real] = values
    return out


def check_sample_aligned(arr, n_samples, name):
    """Validate a 1-D per-sample array such as ``sample_weight``."""
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples},), one value per sample; got {arr.shape}."
        )
    return arr
