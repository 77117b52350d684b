"""The :class:`Sequences` container: the real time steps of all samples
concatenated along the first axis plus the offsets where each sample starts,
the way back to the user's forms (padded arrays, lists) for outputs, and
the checks of compact values once their masked steps are dropped.

numpy/pandas only (no torch).
"""

from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

from .layout import mirror

__all__ = ["Sequences", "pad_values"]


def _ragged_positions(starts, lengths):
    """Flat row indices of the steps ``starts[i] .. starts[i] + lengths[i]``."""
    total = int(lengths.sum())
    sample_of_row = np.repeat(np.arange(len(lengths)), lengths)
    first_row = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=first_row[1:])
    return starts[sample_of_row] + np.arange(total) - first_row[sample_of_row]


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


# ------------------------------------------------------------ masked steps
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
