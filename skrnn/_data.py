"""Sequence input validation and the ragged <-> padded conversions.

Every estimator reads ``X`` through :func:`to_sequences`, which turns any of the
accepted forms (3-D array, 2-D univariate array, ragged list / object array /
pandas Series of per-sample arrays, padded arrays with a mask value or with
``sequence_lengths``, channels-first arrays and lists with
``data_format='channels_first'``, sktime/aeon ``pd-multiindex`` frames) into
one canonical, compact representation: :class:`Sequences`, the real time
steps of all samples concatenated along the first axis plus the offsets where
each sample starts. Masked steps (all features equal to ``mask_value``:
padding at the ends, missing readings in the middle, as Keras' ``Masking``)
never reach the network: they are skipped here, once, and their positions are
kept so that per-step outputs go back where the input had them.
"""

from dataclasses import dataclass, replace
from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._arrays import (  # noqa: F401  (re-exported: other modules import them from here)
    _as_numeric,
    _check_sequence_lengths,
    _is_ragged_container,
    _ragged_arrays,
    _ragged_positions,
    _to_int_ids,
    check_sample_aligned,
)
from ._layout import mirror, to_channels_last, warn_if_transposed

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
    positions : ndarray of shape (total_steps,), dtype int64, or None
        Where each real step sat in its sample: the index in the padded time
        axis for array input, the offset from the sample's first real step for
        ragged input. Set only when some sample has skipped (masked) steps
        between its real ones; ``None`` means each sample's real steps are
        contiguous from ``starts`` (or 0).
    data_format : {'channels_last', 'channels_first'}
        Layout that outputs mirroring the input (per-step values) come back in.
    """

    values: np.ndarray
    offsets: np.ndarray
    form: str = "ragged"
    starts: np.ndarray = None
    n_timesteps: int = None
    positions: np.ndarray = None
    data_format: str = "channels_last"

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
        positions = None
        if self.positions is not None:
            positions = self.positions[_ragged_positions(self.offsets[:-1][indices], lengths)]
        return replace(self, values=values, offsets=offsets, starts=starts, positions=positions)

    def with_values(self, values):
        """The same layout holding other per-step ``values`` (e.g. mapped ids)."""
        return replace(self, values=values)

    def step_positions(self):
        """Index of every real step in its sample's frame (see ``positions``)."""
        if self.positions is not None:
            return self.positions
        base = self.starts if self.starts is not None else np.zeros(self.n_samples, np.int64)
        return _ragged_positions(base, self.lengths)

    def spans(self):
        """Per-sample length from the first to the last real step."""
        if self.positions is None or not self.n_samples:
            return self.lengths
        first = self.positions[self.offsets[:-1]]
        return self.positions[self.offsets[1:] - 1] - first + 1

    def repad(self, maxlen, *, padding="post", truncating="post"):
        """The same sequences laid out in a padded axis of ``maxlen`` steps
        (Keras ``pad_sequences``): each sample's span, from its first to its
        last real step with its skipped steps kept in place, is cut to
        ``maxlen`` at the ``truncating`` end and placed at the start
        (``padding='post'``) or end (``'pre'``). Returns 3-D-form Sequences
        for :func:`pad_values`."""
        lengths, spans = self.lengths, self.spans()
        pos = self.step_positions()
        local = pos - np.repeat(pos[self.offsets[:-1]], lengths)
        kept = np.minimum(spans, maxlen)
        skip = np.repeat(spans - kept if truncating == "pre" else np.zeros_like(kept), lengths)
        keep = (local >= skip) & (local < skip + np.repeat(kept, lengths))
        lead = np.repeat(maxlen - kept if padding == "pre" else np.zeros_like(kept), lengths)
        new_pos = (local - skip + lead)[keep]
        offsets = np.zeros_like(self.offsets)
        np.cumsum(np.add.reduceat(keep.astype(np.int64), self.offsets[:-1]) if len(keep)
                  else np.zeros(0, np.int64), out=offsets[1:])
        starts = new_pos[offsets[:-1]] if len(new_pos) else np.zeros(0, np.int64)
        contiguous = np.array_equal(new_pos, _ragged_positions(starts, np.diff(offsets)))
        return replace(self, values=self.values[keep], offsets=offsets, form="3d",
                       starts=starts, n_timesteps=int(maxlen),
                       positions=None if contiguous else new_pos)

    def to_list(self, fill=np.nan):
        """Per-sample arrays, first to last real step, ``fill`` at skipped
        steps between them: ``(T_i, n_features)``, or ``(n_features, T_i)``
        for channels-first input."""
        return pad_values(self.values, replace(self, form="ragged"), fill=fill)


def _padding_steps(X, mask_value):
    """Boolean array over steps (all axes but the last): True where every
    feature of a step equals ``mask_value`` (is NaN for ``np.nan``)."""
    if mask_value is None:
        return np.zeros(X.shape[:-1], dtype=bool)
    if isinstance(mask_value, Real) and np.isnan(mask_value):
        if X.dtype.kind in "iu":
            return np.zeros(X.shape[:-1], dtype=bool)
        return np.isnan(X).all(axis=-1)
    return (X == mask_value).all(axis=-1)


def _no_real_steps(i, mask_value, name, within=""):
    return ValueError(
        f"{name}[{i}] has no real time steps{within}: every step equals the mask "
        f"value {mask_value!r}. Remove empty sequences or change mask_value."
    )


def _from_array(X, mask_value, sequence_lengths, name, token_ids, layout, guessed=False):
    """Padded array input (already channels last; ``layout`` is the one to
    mirror in outputs)."""
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
    if form == "3d" and layout == "channels_last":
        warn_if_transposed(T, F, name, guessed)
    real = ~_padding_steps(X, mask_value)
    within = ""
    if sequence_lengths is not None:
        lengths = _check_sequence_lengths(sequence_lengths, n, T, name)
        real &= np.arange(T) < lengths[:, None]
        within = " within its sequence_lengths"
    if real.all():
        values = X.reshape(n * T, F)
        offsets = np.arange(n + 1, dtype=np.int64) * T
        if not token_ids:
            _check_real_steps(values, offsets, None, name, mask_value)
        else:
            values = _to_int_ids(values, name)
        return Sequences(values, offsets, form, np.zeros(n, np.int64), T, data_format=layout)
    lengths = real.sum(axis=1)
    if not lengths.all():
        raise _no_real_steps(int(np.flatnonzero(lengths == 0)[0]), mask_value, name, within)
    values = X[real]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    starts = real.argmax(axis=1).astype(np.int64)
    last = T - 1 - real[:, ::-1].argmax(axis=1)
    positions = None
    if np.any(last - starts + 1 != lengths):  # skipped steps between real ones
        positions = np.nonzero(real)[1].astype(np.int64)
    if token_ids:
        values = _to_int_ids(values, name)
    else:
        _check_real_steps(values, offsets, positions if positions is not None
                          else _ragged_positions(starts, lengths), name, mask_value)
    return Sequences(values, offsets, form, starts, T, positions, layout)


def _check_real_steps(values, offsets, positions, name, mask_value):
    """Real steps must be finite: NaN in only some features of a step, or
    infinity, is an error that names the sample, step and feature."""
    if np.isfinite(values).all():
        return
    row = int(np.argwhere(~np.isfinite(values).all(axis=1))[0, 0])
    i = int(np.searchsorted(offsets, row, side="right") - 1)
    step = int(positions[row]) if positions is not None else row - int(offsets[i])
    feature = int(np.flatnonzero(~np.isfinite(values[row]))[0])
    if np.isnan(values[row, feature]):
        raise ValueError(
            f"{name}[{i}] contains NaN at real time step {step} (feature {feature}) "
            f"while other features of that step are real. A step is skipped (masked, "
            f"mask_value={mask_value!r}) only when ALL its features equal the mask "
            "value; impute the missing feature(s), or set the whole step to NaN to "
            "skip it."
        )
    raise ValueError(
        f"{name}[{i}] contains infinity at real time step {step} (feature {feature}); "
        "sequences must hold finite values (NaN marks a skipped step)."
    )


def _mask_ragged(values, offsets, mask_value, name):
    """Skip the masked steps of the concatenated sequences. Returns (values,
    offsets, positions); positions count from each sample's first real step
    and are ``None`` when no sample has a skipped step between real ones."""
    pad = _padding_steps(values, mask_value)
    if not pad.any():
        return values, offsets, None
    keep = ~pad
    lengths = np.add.reduceat(keep.astype(np.int64), offsets[:-1])
    if not lengths.all():
        raise _no_real_steps(int(np.flatnonzero(lengths == 0)[0]), mask_value, name)
    rows = np.arange(len(values))
    first_real = np.minimum.reduceat(np.where(pad, len(values), rows), offsets[:-1])
    last_real = np.maximum.reduceat(np.where(pad, -1, rows), offsets[:-1])
    new_offsets = np.zeros_like(offsets)
    np.cumsum(lengths, out=new_offsets[1:])
    positions = None
    if np.any(last_real - first_real + 1 != lengths):
        sample = np.repeat(np.arange(len(lengths)), np.diff(offsets))
        positions = (rows - first_real[sample])[keep]
    return values[keep], new_offsets, positions


def _from_ragged(X, mask_value, sequence_lengths, name, token_ids, layout, guessed=False):
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
    if layout == "channels_last" and arrays[0].shape[1] > 1:
        warn_if_transposed(int(lengths.max()), arrays[0].shape[1], name, guessed)
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(arrays, axis=0)
    values, offsets, positions = _mask_ragged(values, offsets, mask_value, name)
    if token_ids:
        values = _to_int_ids(values, name)
    else:
        _check_real_steps(values, offsets, positions, name, mask_value)
    return Sequences(values, offsets, "ragged", positions=positions, data_format=layout)


def to_sequences(
    X, *, mask_value=np.nan, sequence_lengths=None, token_ids=False, name="X",
    dtype=np.float32, data_format="channels_last", guessed_layout=False,
):
    """Validate sequence input and skip its masked steps.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_timesteps), or list of arrays, or DataFrame
        Fixed-length, padded, or ragged sequences (see ``data_format``); a
        sktime/aeon ``pd-multiindex`` DataFrame (MultiIndex (instance, time)
        rows, one column per channel) is read as one sequence per instance.
    mask_value : float or None, default=np.nan
        A step whose features ALL equal ``mask_value`` (all NaN for
        ``np.nan``) is skipped wherever it sits, as Keras' ``Masking`` does:
        padding at either end, a missing reading in the middle. A step with
        only some features equal to NaN is an error. ``None`` disables masking.
    sequence_lengths : array-like of shape (n_samples,) or None
        Real lengths of post-padded array input: steps beyond them are
        ignored whatever they hold; masked steps within them are skipped too.
    token_ids : bool, default=False
        Read the values as integer token ids (int64) instead of floats.
    name : str, default='X'
        Name used in error messages.
    dtype : numpy dtype, default=np.float32
        Dtype of real-valued values (the preprocessing transformers keep
        float64).
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        ``'channels_last'``: arrays are (n_samples, n_timesteps, n_features)
        and list items (T_i, n_features). ``'channels_first'``: the aeon /
        sktime layout, (n_samples, n_channels, n_timesteps) and (n_channels,
        T_i). Channels-last input with one step or far more features than
        steps warns, or is an error with ``guessed_layout=True``.
    guessed_layout : bool, default=False
        Whether ``'channels_last'`` was assumed because nothing said the
        layout (see :mod:`skrnn._config`).

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
    X, layout = to_channels_last(X, data_format, name)
    if _is_ragged_container(X):
        seqs = _from_ragged(X, mask_value, sequence_lengths, name, token_ids, layout,
                            guessed_layout)
    else:
        seqs = _from_array(X, mask_value, sequence_lengths, name, token_ids, layout,
                           guessed_layout)
    if not token_ids:
        limit = np.finfo(dtype).max  # values are finite here; the cast must not overflow
        if seqs.values.dtype.itemsize > np.dtype(dtype).itemsize and np.abs(seqs.values).max() > limit:
            raise ValueError(
                f"{name} holds values beyond the range of {np.dtype(dtype)} (|x| > "
                f"{limit:.3g}), the precision the network computes in; rescale the "
                "input (e.g. with SequenceScaler)."
            )
        seqs = seqs.with_values(np.ascontiguousarray(seqs.values, dtype=dtype))
    return seqs


def align_step_targets(y, X_seqs, name="y"):
    """Per-time-step targets aligned with the real steps of ``X_seqs``.

    ``y`` has the same layout as ``X``: a list of (T_i,) or (T_i, n_outputs)
    arrays for ragged ``X`` (T_i from the first to the last real step of
    ``X[i]``); an array (n_samples, n_timesteps[, n_outputs]) for array ``X``
    (n_outputs first for channels-first 3-D ``X``). Targets at skipped
    (masked or padding) steps are ignored; a NaN or infinite target at a real
    step is an error. Returns a float32 array (total_steps, n_outputs) and
    whether ``y`` was 1-D per step.
    """
    lengths = X_seqs.lengths
    if _is_ragged_container(y):
        ys, _ = to_channels_last(y, X_seqs.data_format, name)
        if isinstance(ys, pd.Series):
            ys = ys.tolist()
        arrays = _ragged_arrays(ys, name, token_ids=False)
        if len(arrays) != X_seqs.n_samples:
            raise ValueError(
                f"{name} has {len(arrays)} sequences but X has {X_seqs.n_samples}."
            )
        got = np.array([len(a) for a in arrays])
        spans = X_seqs.spans()
        if not np.array_equal(got, spans):
            i = int(np.flatnonzero(got != spans)[0])
            raise ValueError(
                f"{name}[{i}] has {got[i]} steps but X[{i}] has {spans[i]} steps from "
                "its first to its last real step; per-step targets need one value per "
                "step there (values at skipped steps are ignored)."
            )
        one_d = np.ndim(ys[0]) == 1
        pos = X_seqs.step_positions()
        local = pos - np.repeat(pos[X_seqs.offsets[:-1]], lengths)
        starts = np.concatenate([[0], np.cumsum(got)[:-1]])
        values = np.concatenate(arrays)[np.repeat(starts, lengths) + local]
    else:
        Y = _as_numeric(y, name, token_ids=False)
        if X_seqs.starts is None:
            raise ValueError(
                f"X is a list of sequences, so {name} must be a list of per-step "
                "target arrays of the same lengths."
            )
        one_d = Y.ndim == 2
        if one_d:
            Y = Y[:, :, None]
        elif Y.ndim == 3 and X_seqs.data_format == "channels_first":
            Y = Y.transpose(0, 2, 1)
        if Y.ndim != 3 or Y.shape[:2] != (X_seqs.n_samples, X_seqs.n_timesteps):
            raise ValueError(
                f"With return_sequences=True, {name} must have shape (n_samples, "
                f"n_timesteps[, n_outputs]) = ({X_seqs.n_samples}, {X_seqs.n_timesteps}"
                f"[, n_outputs]) like X; got {np.shape(y)}."
            )
        sample = np.repeat(np.arange(X_seqs.n_samples), lengths)
        values = Y[sample, X_seqs.step_positions()]
    if not np.isfinite(values).all():
        raise ValueError(
            f"{name} contains NaN or infinity at real time steps of X (targets at "
            "skipped steps are ignored, those at real steps must be finite)."
        )
    return np.ascontiguousarray(values, dtype=np.float32), one_d


def pad_values(values, seqs, fill=np.nan, *, squeeze=False):
    """Put per-step outputs back in the layout of the input ``seqs``.

    ``values`` is (total_steps, k). Ragged input gives a list of (T_i, k)
    arrays covering each sample's first to last real step; array input gives
    (n_samples, n_timesteps, k). ``fill`` goes at skipped steps (padding and
    masked steps in the middle), so integer ``values`` become float when a
    skipped step needs a NaN fill. Channels-first 3-D / list input gets
    (n_samples, k, n_timesteps) / (k, T_i) back. ``squeeze=True`` (k must be
    1) drops the output axis: (T_i,) / (n_samples, n_timesteps) in either
    layout.
    """
    layout = "channels_last" if squeeze else seqs.data_format
    out = _pad_channels_last(values, seqs, fill)
    if squeeze:
        out = [o[:, 0] for o in out] if isinstance(out, list) else out[..., 0]
    return mirror(out, layout)


def _pad_channels_last(values, seqs, fill):
    if seqs.form == "ragged" and seqs.positions is None:
        return np.split(values, seqs.offsets[1:-1])
    dtype = values.dtype
    if np.isnan(fill):  # integer values (token ids) become float to hold NaN
        dtype = np.result_type(dtype, np.min_scalar_type(fill))
    n, lengths = seqs.n_samples, seqs.lengths
    sample = np.repeat(np.arange(n), lengths)
    pos = seqs.step_positions()
    if seqs.form == "ragged":
        spans = seqs.spans()
        local = pos - np.repeat(pos[seqs.offsets[:-1]], lengths)
        offsets = np.concatenate([[0], np.cumsum(spans)])
        flat = np.full((int(offsets[-1]), values.shape[1]), fill, dtype=dtype)
        flat[offsets[:-1][sample] + local] = values
        return np.split(flat, offsets[1:-1])
    out = np.full((n, seqs.n_timesteps, values.shape[1]), fill, dtype=dtype)
    out[sample, pos] = values
    return out
