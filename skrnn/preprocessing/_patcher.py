"""SequencePatcher: group consecutive time steps into patches (SegRNN-style).

A recurrent network reading a sequence of ``T`` steps runs ``T`` dependent
updates; grouping ``patch_size`` consecutive steps into one input vector
shortens the sequence ``patch_size`` times (faster epochs, shorter gradient
paths), which is what makes long series (hundreds to thousands of steps)
trainable.
"""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._compat import _fit_context, Interval, StrOptions
from .._sequences.data import Sequences, pad_values, to_sequences
from .._sequences.layout import DATA_FORMATS
from .._sequences.data import validate_sequences
from .._home import public_home
from .._sequences.transformer import _as_form, _SequenceTransformer
from .._sequences.data import fitted_data_format

__all__ = ["SequencePatcher"]


@public_home("skrnn.preprocessing")
class SequencePatcher(_SequenceTransformer):
    """Group consecutive time steps into patches of ``patch_size`` steps.

    Each output step is ``patch_size`` consecutive real input steps laid side
    by side: ``patch_size * n_features`` features, step-major (all features
    of the first step of the patch, then of the second, ...). Patches start
    every ``stride`` steps. Every sequence is patched on its own real steps,
    so ragged and NaN-padded input are handled (padding and masked steps,
    whose features are all NaN, are skipped first, as the estimators do).

    Parameters
    ----------
    patch_size : int, default=16
        Steps per patch. 16 was best or within the seed spread of the best
        of 4/8/16/32 on GunPoint (T=150), OSULeaf (T=427) and ACSF1 (T=1460)
        with the default network (``benchmarks/bench_patching.py --sizes``);
        aim for sequences of a few dozen to a couple of hundred patches.
    stride : int or None, default=None
        Steps between the starts of consecutive patches; ``None`` uses
        ``patch_size`` (non-overlapping patches). ``stride < patch_size``
        overlaps patches, ``stride > patch_size`` skips steps.
    remainder : {'pad', 'drop'}, default='pad'
        What to do with the last steps of a sequence when they do not fill a
        whole patch. ``'pad'`` keeps them in one last patch completed by
        repeating the sequence's last real step (never NaN, so no real patch
        becomes a masked or half-missing step); a sequence shorter than
        ``patch_size`` gives one such patch. ``'drop'`` discards them; a
        sequence shorter than ``patch_size`` is then an error.
    data_format : {'channels_last', 'channels_first'} or None, default=None
        Layout of array input and output: ``(n_samples, n_timesteps,
        n_features)`` or the aeon/sktime ``(n_samples, n_channels,
        n_timesteps)``. None (the default) follows the layout of a skrnn
        transformer's output, else ``skrnn.set_config(data_format=...)`` /
        ``skrnn.config_context``, else reads channels last.

    Attributes
    ----------
    n_features_in_ : int
        Features per time step (3-D or ragged input), or columns of a 2-D
        input table (then every column is a time step of one feature).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when ``X`` was a DataFrame.
    n_step_features_ : int
        Features per input time step (1 for a 2-D table).

    See Also
    --------
    SequencePadder : Pad variable-length sequences.
    SequenceScaler : Standardise the features of sequences (scale before
        patching).

    Notes
    -----
    The output keeps the input's form: a ragged list gives a list of
    ``(n_patches_i, patch_size * n_features)`` arrays; array input gives a
    NaN-padded 3-D array ``(n_samples, max_patches, patch_size *
    n_features)`` with each sequence's patches first (post-padding), whatever
    the input padding was. A 2-D univariate table ``(n_samples, n_timesteps)``
    therefore gives 3-D output, and univariate input keeps a feature axis
    (``patch_size`` features): the output is never a 2-D table, so
    ``set_output`` has nothing to wrap.

    With ``remainder='pad'`` and ``patch_size > 1`` the last patch of a
    sequence whose length is not a multiple of ``stride`` ends with repeated
    copies of its last step; :meth:`inverse_transform` returns them as steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import SequencePatcher
    >>> X = [np.array([1., 2., 3., 4., 5.]), np.array([6., 7.])]
    >>> patcher = SequencePatcher(patch_size=2).fit(X)
    >>> [p.tolist() for p in patcher.transform(X)]
    [[[1.0, 2.0], [3.0, 4.0], [5.0, 5.0]], [[6.0, 7.0]]]
    >>> [p.tolist() for p in SequencePatcher(patch_size=2, remainder="drop").fit_transform(X)]
    [[[1.0, 2.0], [3.0, 4.0]], [[6.0, 7.0]]]
    >>> patcher.get_feature_names_out()
    array(['x0_0', 'x0_1'], dtype=object)
    """

    _parameter_constraints = {
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left"), None],
        "remainder": [StrOptions({"pad", "drop"})],
        "data_format": [StrOptions(set(DATA_FORMATS)), None],
    }

    def __init__(
        self,
        *,
        patch_size: int = 16,
        stride: int | None = None,
        remainder: str = "pad",
        data_format: str | None = None,
    ) -> None:
        self.patch_size = patch_size
        self.stride = stride
        self.remainder = remainder
        self.data_format = data_format

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input and record its features per step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_timesteps), or list of arrays
            Sequences; ragged lists hold ``(T_i,)`` or ``(T_i, n_features)``
            arrays (``(n_channels, T_i)`` with ``data_format='channels_first'``).
        y : None
            Ignored.

        Returns
        -------
        self : SequencePatcher
            The fitted transformer.
        """
        seqs = self._read(X, reset=True)
        self._patch_rows(seqs)  # a too-short sequence with remainder='drop' fails here
        self.n_step_features_ = seqs.n_features
        return self

    def _read(self, X, *, reset):
        return validate_sequences(
            self, X, reset=reset, dtype=np.float64, data_format=self.data_format
        )

    @property
    def _stride(self):
        return self.patch_size if self.stride is None else self.stride

    def _patch_rows(self, seqs):
        """Row indices into ``seqs.values``, shape (total_patches, patch_size),
        and the number of patches of each sequence."""
        P, S, L = self.patch_size, self._stride, seqs.lengths
        full = np.where(L >= P, (L - P) // S + 1, 0)
        if self.remainder == "pad":
            covered = np.where(full > 0, (full - 1) * S + P, 0)
            counts = full + (covered < L)
        else:
            counts = full
            if not counts.all():
                i = int(np.flatnonzero(counts == 0)[0])
                raise ValueError(
                    f"X[{i}] has {L[i]} real steps, fewer than patch_size={P}, so "
                    "remainder='drop' leaves it empty; use remainder='pad' or a "
                    "smaller patch_size."
                )
        sample = np.repeat(np.arange(len(L)), counts)
        first = np.zeros(len(L), dtype=np.int64)
        np.cumsum(counts[:-1], out=first[1:])
        j = np.arange(int(counts.sum())) - first[sample]
        start = seqs.offsets[:-1][sample] + j * S
        last = (seqs.offsets[1:] - 1)[sample]
        rows = np.minimum(start[:, None] + np.arange(P), last[:, None])
        return rows, counts

    def transform(self, X):
        """Patch every sequence.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.

        Returns
        -------
        X_patched : list of ndarray or ndarray
            A list of ``(n_patches_i, patch_size * n_features)`` arrays for
            ragged input; ``(n_samples, max_patches, patch_size *
            n_features)`` NaN-padded for array input (features first for
            ``data_format='channels_first'``).
        """
        check_is_fitted(self, "n_step_features_")
        seqs = self._read(X, reset=False)
        rows, counts = self._patch_rows(seqs)
        values = seqs.values[rows].reshape(len(rows), -1)
        # never 2-D; wrapped like the other transformers' output, so a pandas
        # set_output configuration is handled (and reported) the same way
        return self._wrap_output(self._layout(values, counts, seqs), X, seqs.data_format)

    @staticmethod
    def _layout(values, counts, seqs):
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        form = "ragged" if seqs.form == "ragged" else "3d"
        n = len(counts)
        starts = None if form == "ragged" else np.zeros(n, dtype=np.int64)
        T = None if form == "ragged" else int(counts.max())
        layout = Sequences(values, offsets, form, starts, T, data_format=seqs.data_format)
        return pad_values(values, layout)

    def inverse_transform(self, X):
        """Lay the steps of each patch out again (non-overlapping patches only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_patches, patch_size * \
                n_features) or list of arrays
            Patched sequences, as :meth:`transform` returns them.

        Returns
        -------
        X_steps : list of ndarray or ndarray
            ``(n_patches_i * patch_size, n_features)`` per sequence, in the
            form of ``X`` (a NaN-padded array for array input). A dropped
            remainder cannot be restored, and a padded last patch comes back
            with its repeated steps.
        """
        check_is_fitted(self, "n_step_features_")
        if self._stride != self.patch_size:
            raise ValueError(
                f"inverse_transform needs non-overlapping, contiguous patches "
                f"(stride == patch_size); got patch_size={self.patch_size}, "
                f"stride={self.stride}, where steps are repeated or skipped."
            )
        width = self.patch_size * self.n_step_features_
        seqs = to_sequences(X, dtype=np.float64, data_format=fitted_data_format(self))
        if seqs.n_features != width:
            raise ValueError(
                f"X has {seqs.n_features} features per step; patches of this patcher "
                f"have patch_size * n_features = {width}."
            )
        values = seqs.values.reshape(-1, self.n_step_features_)
        counts = seqs.lengths * self.patch_size
        out = self._layout(values, counts, seqs)
        return _as_form(out, self.n_step_features_ == 1 and seqs.form != "ragged"
                        and self._fitted_on_table)

    def get_feature_names_out(self, input_features=None):
        """Names of the features of one output step.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the features of one input step; ``None`` uses
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``f"{feature}_{k}"`` for step ``k`` of the patch, step-major.
        """
        check_is_fitted(self, "n_step_features_")
        if input_features is None:
            input_features = [f"x{f}" for f in range(self.n_step_features_)]
        elif len(input_features) != self.n_step_features_:
            raise ValueError(
                f"input_features has {len(input_features)} names; one per feature "
                f"of an input step ({self.n_step_features_}) is needed."
            )
        names = [f"{name}_{k}" for k in range(self.patch_size) for name in input_features]
        return np.asarray(names, dtype=object)
